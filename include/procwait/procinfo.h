/* SPDX-License-Identifier: MIT */
/**
 * @file procinfo.h
 * @brief One-shot process information: cached readers of /proc/PID.
 *
 * A ::procwait_procinfo handle keeps the process's /proc directory open,
 * and opens each file it needs (stat, statm, status, cmdline) once, on first
 * use. Reading a field again is then one pread(2) of that file on the
 * already open descriptor. Because the descriptors pin the process, a handle
 * never returns another process's data after the pid is reused: once the
 * process is reaped every call that reads answers @c -ESRCH (inside a
 * oneshot scope, the reads the scope made before keep serving, as psutil's
 * do).
 *
 * Fields carry psutil's names and units (seconds, bytes). Outside a oneshot
 * scope every accessor reads fresh. Between procwait_procinfo_oneshot_begin()
 * and procwait_procinfo_oneshot_end() each file is read at most once and
 * every accessor is served from that read, as with psutil's
 * @c Process.oneshot(). procwait_procinfo_snapshot() fills a plain
 * structure with any set of fields in one call, reading only the files
 * those fields need: @c stat serves name, ppid, status, cpu_times,
 * create_time, terminal, num_threads, nice, rss and vms; @c statm the rest
 * of memory_info; @c status only the context switches, uids and gids. When
 * statm is read anyway (for shared, text or data), rss and vms come from it
 * and not from stat: stat's rss is a per-CPU counter that can lag some pages
 * behind (Linux 6.2 and later), statm's is the exact VmRSS psutil shows.
 *
 * Errors common to all the calls that read:
 * - @c -ESRCH: the process does not exist, or was reaped while the handle
 *   was open;
 * - #PROCWAIT_EZOMBIE: the process is a zombie and the call cannot answer
 *   for one (exe, cwd). Fields a zombie still has (its name, status, times,
 *   ids...) are answered;
 * - @c -EACCES: the caller may not read this (another user's process, or
 *   /proc mounted with @c hidepid). With @c hidepid=invisible a hidden
 *   process looks absent; procwait answers @c -EACCES when kill(2) shows
 *   that it exists and @c -ESRCH when it cannot tell.
 *
 * Only Linux (and other systems with a Linux-style /proc) is supported; on
 * other systems (the BSDs, macOS, Windows) every call here returns
 * @c -ENOSYS (after the @c -EINVAL checks of its arguments).
 *
 * Thread safety: a handle is used by one thread at a time; distinct handles
 * may be used from distinct threads at once.
 */
#ifndef PROCWAIT_PROCINFO_H
#define PROCWAIT_PROCINFO_H

#include <stddef.h>
#include <stdint.h>
#include <procwait/common.h>
#include <procwait/proc.h>

PROCWAIT_BEGIN_DECLS

/** @brief An open information handle on one process (opaque). @since 0.1 */
typedef struct procwait_procinfo procwait_procinfo;

/** @brief CPU times, in seconds, as psutil's @c cpu_times(). @since 0.1 */
typedef struct procwait_cpu_times {
	double user;            /**< time in user mode */
	double system;          /**< time in kernel mode */
	double children_user;   /**< user time of waited-for children */
	double children_system; /**< system time of waited-for children */
	/** time waiting for block I/O (delay accounting); NaN when the kernel
	 *  does not report it */
	double iowait;
} procwait_cpu_times;

/** @brief Memory use, in bytes, as psutil's @c memory_info(). @since 0.1 */
typedef struct procwait_memory_info {
	uint64_t rss;     /**< resident set size */
	uint64_t vms;     /**< virtual memory size */
	uint64_t shared;  /**< resident shared (file-backed) memory */
	uint64_t text;    /**< text (code) */
	uint64_t data;    /**< data + stack */
} procwait_memory_info;

/** @brief Context switches, as psutil's @c num_ctx_switches(). @since 0.1 */
typedef struct procwait_ctx_switches {
	uint64_t voluntary;     /**< the process gave up the CPU (it blocked) */
	uint64_t involuntary;   /**< the process was preempted */
} procwait_ctx_switches;

/** @brief User or group ids, as psutil's @c uids() and @c gids(). @since 0.1 */
typedef struct procwait_ids {
	uint32_t real;       /**< real id */
	uint32_t effective;  /**< effective id */
	uint32_t saved;      /**< saved set-id */
} procwait_ids;

/**
 * @brief The fields of a snapshot, as bits of a mask.
 *
 * A mask says which fields procwait_procinfo_snapshot() should fill; the
 * structure's @c present mask says which it did.
 * @since 0.1
 */
enum procwait_info_field {
	PROCWAIT_INFO_NAME        = 1u << 0,  /**< name (stat) */
	PROCWAIT_INFO_PPID        = 1u << 1,  /**< ppid (stat) */
	PROCWAIT_INFO_STATUS      = 1u << 2,  /**< state and status (stat) */
	PROCWAIT_INFO_CPU_TIMES   = 1u << 3,  /**< cpu_times but iowait (stat) */
	PROCWAIT_INFO_IOWAIT      = 1u << 4,  /**< cpu_times.iowait (stat) */
	PROCWAIT_INFO_CREATE_TIME = 1u << 5,  /**< create_time (stat) */
	PROCWAIT_INFO_TERMINAL    = 1u << 6,  /**< terminal (stat) */
	PROCWAIT_INFO_NUM_THREADS = 1u << 7,  /**< num_threads (stat) */
	PROCWAIT_INFO_NICE        = 1u << 8,  /**< nice (stat) */
	PROCWAIT_INFO_RSS_VMS     = 1u << 9,  /**< memory_info rss and vms (stat; statm when read too) */
	PROCWAIT_INFO_MEM_STATM   = 1u << 10, /**< memory_info shared, text, data (statm) */
	PROCWAIT_INFO_CTX_SWITCHES = 1u << 11, /**< num_ctx_switches (status) */
	PROCWAIT_INFO_UIDS        = 1u << 12, /**< uids (status) */
	PROCWAIT_INFO_GIDS        = 1u << 13, /**< gids (status) */
	PROCWAIT_INFO_STARTTIME   = 1u << 14, /**< starttime, the start identity (stat) */
	/** all of memory_info */
	PROCWAIT_INFO_MEMORY_INFO = PROCWAIT_INFO_RSS_VMS | PROCWAIT_INFO_MEM_STATM,
	/** every field of this version */
	PROCWAIT_INFO_ALL         = (1u << 15) - 1u
};

/** @brief Room for a name: comm is up to 64 bytes (kernel threads). @since 0.1 */
#define PROCWAIT_NAME_MAX 64

/**
 * @brief Many fields of one process, filled by one call.
 *
 * A plain structure for procwait_procinfo_snapshot(): fixed-size fields
 * only, so that a binding (ctypes) can pass it as it is. The @c size field
 * versions it: set it to the size of the structure you compiled against
 * (#PROCWAIT_SNAPSHOT_INIT does); fields added in later versions go at the
 * end and are left alone for an older, smaller structure.
 *
 * Strings are NUL-terminated. exe, cmdline and cwd are of unbounded length
 * and have accessors of their own.
 * @since 0.1
 */
typedef struct procwait_snapshot {
	uint32_t size;      /**< in: sizeof(procwait_snapshot) as the caller knows it */
	uint32_t reserved_; /**< set to zero; keeps the 64-bit fields aligned */
	uint64_t present;   /**< out: the ::procwait_info_field bits filled */
	/** out: the requested bits left unfilled because access was denied
	 *  (a requested bit in neither mask: the kernel does not report it) */
	uint64_t denied;
	int32_t pid;        /**< out: the process (always filled) */
	int32_t ppid;       /**< parent pid; 0 for pid 1 and kernel threads' parent */
	char name[PROCWAIT_NAME_MAX + 1];   /**< comm: the name the kernel keeps */
	char state;         /**< the state letter from stat: 'R', 'S', 'Z', ... */
	char status[18];    /**< psutil's status string, see procwait_state_name() */
	procwait_cpu_times cpu_times;   /**< cpu_times (iowait: see its own bit) */
	double create_time; /**< seconds since the epoch */
	/** controlling terminal's device path, such as "/dev/pts/3"; empty when
	 *  the process has none (psutil's None) */
	char terminal[64];
	int64_t num_threads;            /**< live threads */
	int32_t nice;                   /**< nice value, -20 to 19 */
	uint32_t reserved2_;            /**< zero; alignment */
	procwait_memory_info memory_info;        /**< memory_info */
	procwait_ctx_switches num_ctx_switches;  /**< num_ctx_switches */
	procwait_ids uids;              /**< uids */
	procwait_ids gids;              /**< gids */
	uint64_t starttime;  /**< start time in clock ticks after boot: with the pid, the identity */
} procwait_snapshot;

/**
 * @brief Initialiser for a ::procwait_snapshot: sets @c size, zeroes the rest.
 *
 * In C++ before C++20, which has no designated initialisers, write
 * `procwait_snapshot s{}; s.size = sizeof(s);` instead.
 * @since 0.1
 */
#ifdef __cplusplus
#define PROCWAIT_SNAPSHOT_INIT { (uint32_t)sizeof(procwait_snapshot) }
#else
#define PROCWAIT_SNAPSHOT_INIT { .size = (uint32_t)sizeof(procwait_snapshot) }
#endif

/**
 * @brief Flags of procwait_procinfo_open(), procwait_procinfo_open_proc()
 * and procwait_procinfo_reopen().
 * @since 0.1
 */
enum procwait_procinfo_flags {
	/** Open the handle inside a oneshot scope, as if
	 *  procwait_procinfo_oneshot_begin() had been called, whose first read
	 *  of stat is the one the open makes: a snapshot of stat's fields right
	 *  after the open reads nothing more. For one look at a process (a
	 *  walk over all of them): open, snapshot, close, with each file read
	 *  once. procwait_procinfo_oneshot_end() leaves the scope. */
	PROCWAIT_PROCINFO_ONESHOT = 1u << 0
};

/**
 * @brief Open an information handle on process @p pid.
 *
 * Opens /proc/PID and reads its stat once, to check that the process is
 * there and to learn its start time. A thread id also works (the thread's
 * own /proc/PID/task entry is reachable as /proc/TID).
 *
 * @param pid      the process, > 0.
 * @param flags    0 or #PROCWAIT_PROCINFO_ONESHOT.
 * @param[out] out the new handle, closed with procwait_procinfo_close().
 * @retval 0        success.
 * @retval -EINVAL  @p pid <= 0, @p out NULL or an unknown flag.
 * @retval -ESRCH   no such process.
 * @retval -EACCES  the process is hidden from the caller (hidepid).
 * @retval -EPROTO  /proc/PID/stat could not be parsed.
 * @retval -ENOSYS  no /proc here (not Linux, or /proc not mounted).
 * @retval -EMFILE  no file descriptor left (also -ENFILE).
 * @retval -ENOMEM  out of memory.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_open(pid_t pid, unsigned flags, procwait_procinfo **out);

/**
 * @brief Open an information handle on the process of a procwait handle.
 *
 * Race-free against pid reuse: the /proc directory is checked against the
 * handle's pidfd (or its recorded start time), so the information handle
 * is bound to the very process @p proc refers to. @p proc may be closed
 * afterwards; the two handles are independent.
 *
 * @param proc     an open process handle.
 * @param flags    0 or #PROCWAIT_PROCINFO_ONESHOT.
 * @param[out] out the new handle.
 * @retval 0        success.
 * @retval -EINVAL  @p proc or @p out NULL, or an unknown flag.
 * @retval -ESRCH   the process has exited and been reaped (by procwait or
 *                  anyone else).
 * @retval -EACCES, -EPROTO, -ENOSYS, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_open().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_open_proc(procwait_proc *proc, unsigned flags,
                                                procwait_procinfo **out);

/**
 * @brief Put an open handle on another process: for a walk over many.
 *
 * As procwait_procinfo_close() and then procwait_procinfo_open() into the
 * same handle, but what does not belong to one process is kept: the read
 * buffers, and the boot time create_time is computed from (read from
 * /proc/stat once per handle, see procwait_procinfo_create_time()). A walk
 * over every process of the system with one handle so reads /proc/stat
 * once, and allocates nothing per process. A oneshot scope open on the
 * handle ends; #PROCWAIT_PROCINFO_ONESHOT opens a new one as for
 * procwait_procinfo_open().
 *
 * A handle whose reopen failed is on no process: every call that reads
 * answers @c -ESRCH until a reopen succeeds. It is still to be closed.
 * procwait_procinfo_pid() gives @p pid from the call on, failed or not.
 * @param pi    the handle.
 * @param pid   the process, > 0.
 * @param flags 0 or #PROCWAIT_PROCINFO_ONESHOT.
 * @retval 0        success.
 * @retval -EINVAL  @p pi NULL, @p pid <= 0 or an unknown flag (the handle
 *                  is left as it was).
 * @retval -ESRCH, -EACCES, -EPROTO, -ENOSYS, -EMFILE, -ENFILE, -ENOMEM as
 *                  for procwait_procinfo_open().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_reopen(procwait_procinfo *pi, pid_t pid, unsigned flags);

/**
 * @brief Close an information handle and every descriptor it holds.
 * @param pi the handle; NULL is accepted and does nothing.
 * @since 0.1
 */
PROCWAIT_EXTERN void procwait_procinfo_close(procwait_procinfo *pi);

/**
 * @brief The pid the handle was opened on.
 * @param pi the handle.
 * @return the pid (> 0).
 * @retval -EINVAL @p pi NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_pid(const procwait_procinfo *pi);

/**
 * @brief Enter a oneshot scope: read each file at most once until the end.
 *
 * Scopes nest; only the outermost end drops the cached reads. Accessors
 * called in the scope answer from the first read of each file, as psutil's
 * @c oneshot() does.
 * @param pi the handle.
 * @retval 0       success.
 * @retval -EINVAL @p pi NULL.
 * @retval -EOVERFLOW too deeply nested (over INT_MAX scopes).
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_oneshot_begin(procwait_procinfo *pi);

/**
 * @brief Leave a oneshot scope; at the outermost, forget the cached reads.
 * @param pi the handle.
 * @retval 0       success.
 * @retval -EINVAL @p pi NULL, or no scope is open.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_oneshot_end(procwait_procinfo *pi);

/**
 * @brief Fill @p snap with the fields of @p mask, reading each needed file once.
 *
 * Only the files the mask needs are read (see the file comment). Inside a
 * oneshot scope the scope's reads serve. A field the kernel does not
 * report (an old kernel's shorter stat line) is left out of
 * @c snap->present, and is not an error. A field whose file the caller may
 * not read is left out too and set in @c snap->denied. Bits of @p mask
 * this version does not know are ignored (they stay absent), so a program
 * built against a newer header runs with an older library.
 *
 * @param pi       the handle.
 * @param mask     ::procwait_info_field bits.
 * @param[in,out] snap the structure; @c snap->size must be set. Fields
 *                 outside @p mask are left as they were; @c pid,
 *                 @c present and @c denied are always written.
 * @retval 0        success (check @c snap->present).
 * @retval -EINVAL  @p pi or @p snap NULL, or @c snap->size smaller than
 *                  the first version of the structure.
 * @retval -ESRCH   the process is gone.
 * @retval -EACCES  nothing requested could be read: access denied.
 * @retval -EPROTO  a file could not be parsed.
 * @retval -EMFILE  no descriptor left to open a file, and none of the
 *                  handle's own to give up (also -ENFILE). The handle keeps
 *                  a descriptor on each file it read, so that a later read
 *                  is one pread(2); out of descriptors, it closes those of
 *                  its other files and opens the one it needs.
 * @retval -ENOMEM  out of memory.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_snapshot(procwait_procinfo *pi, uint64_t mask,
                                               procwait_snapshot *snap);

/**
 * @brief The process name (comm, from stat).
 *
 * The name the kernel keeps, which may hold any byte but NUL: spaces,
 * parentheses, newlines. Names of user processes are cut at 15 bytes;
 * psutil's @c Process.name() then takes the base name of the first
 * argument when it starts with the 15 bytes (`procwait info` does so too).
 * @param pi   the handle.
 * @param buf  where to store it, NUL-terminated.
 * @param size the size of @p buf; #PROCWAIT_NAME_MAX + 1 always suffices.
 * @return the length of the name, without the NUL.
 * @retval -EINVAL  @p pi or @p buf NULL.
 * @retval -ERANGE  @p buf is too small (nothing is truncated silently).
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_name(procwait_procinfo *pi, char *buf, size_t size);

/**
 * @brief The path of the executable: psutil's @c exe().
 *
 * Empty for a kernel thread, which has none. The kernel follows the path
 * of a deleted executable (and a memfd's name) with " (deleted)": that is
 * dropped when no file has the name with it, as psutil does.
 * @param pi   the handle.
 * @param buf  where to store it, NUL-terminated.
 * @param size the size of @p buf (PATH_MAX suffices).
 * @return the length of the path.
 * @retval -EINVAL  @p pi or @p buf NULL.
 * @retval -ERANGE  @p buf is too small.
 * @retval -ENAMETOOLONG the path is longer than PATH_MAX.
 * @retval #PROCWAIT_EZOMBIE the process is a zombie (psutil answers "").
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_exe(procwait_procinfo *pi, char *buf, size_t size);

/**
 * @brief The command line: psutil's @c cmdline().
 *
 * Stored as the arguments one after another, each terminated by a NUL
 * ("sleep\0" "10\0"). A process that rewrote its command line with spaces
 * in place of NULs (setproctitle) is split on the spaces, as psutil does.
 * Zombies and kernel threads have an empty command line (length 0). Inside
 * a oneshot scope whose read of stat shows a kernel thread, that read
 * answers: nothing more is opened or read.
 * @param pi   the handle.
 * @param buf  where to store the arguments.
 * @param size the size of @p buf.
 * @return the number of bytes stored (the NULs included).
 * @retval -EINVAL  @p pi or @p buf NULL.
 * @retval -ERANGE  @p buf is too small.
 * @retval -E2BIG   the command line is over 64 MiB.
 * @retval -ESRCH, -EACCES, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_cmdline(procwait_procinfo *pi, char *buf, size_t size);

/**
 * @brief The current working directory: psutil's @c cwd().
 *
 * A removed directory's " (deleted)" is dropped as for
 * procwait_procinfo_exe().
 * @param pi   the handle.
 * @param buf  where to store it, NUL-terminated.
 * @param size the size of @p buf (PATH_MAX suffices).
 * @return the length of the path.
 * @retval -EINVAL  @p pi or @p buf NULL.
 * @retval -ERANGE  @p buf is too small.
 * @retval -ENAMETOOLONG the path is longer than the kernel will show
 *                  (about a page).
 * @retval #PROCWAIT_EZOMBIE the process is a zombie.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_cwd(procwait_procinfo *pi, char *buf, size_t size);

/**
 * @brief The parent's pid: psutil's @c ppid().
 * @param pi the handle.
 * @return the parent pid (0 for pid 1 and kthreadd).
 * @retval -EINVAL @p pi NULL.
 * @retval -ENODATA the kernel does not report it.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                 procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_ppid(procwait_procinfo *pi);

/**
 * @brief The state letter: 'R', 'S', 'D', 'T', 't', 'Z', 'X', 'I', ...
 *
 * procwait_state_name() gives psutil's @c status() string for it.
 * @param pi the handle.
 * @return the letter (> 0).
 * @retval -EINVAL @p pi NULL.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                 procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_status(procwait_procinfo *pi);

/**
 * @brief psutil's status string for a state letter.
 * @param state a letter as procwait_procinfo_status() returns it.
 * @return psutil's name of the state: "running", "sleeping", "disk-sleep",
 *         "stopped", "tracing-stop", "zombie", "dead", "wake-kill",
 *         "waking", "idle", "parked", or "?" for a letter psutil has no
 *         name for. Never NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_state_name(int state);

/**
 * @brief CPU times in seconds: psutil's @c cpu_times().
 * @param pi  the handle.
 * @param[out] out the times; @c iowait is NaN when the kernel lacks it.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report them.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_cpu_times(procwait_procinfo *pi, procwait_cpu_times *out);

/**
 * @brief When the process started, in seconds since the epoch: psutil's
 * @c create_time().
 *
 * psutil's value to the last bit: stat's starttime divided by the clock
 * ticks per second, plus the boot time of /proc/stat's @c btime line
 * (whole seconds; read once per handle, when first needed; without
 * /proc/stat, CLOCK_REALTIME - CLOCK_BOOTTIME in whole seconds, which is
 * how the kernel computes btime). So the value is the same across calls,
 * across handles and across programs, an identity key together with the
 * pid; its resolution is one clock tick. The exact start, in ticks since
 * boot, is procwait_procinfo_starttime().
 * @param pi  the handle.
 * @param[out] out the time.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report it.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_create_time(procwait_procinfo *pi, double *out);

/**
 * @brief The controlling terminal's device path: psutil's @c terminal().
 *
 * Pseudo-terminals are named from the device number (/dev/pts/N), other
 * terminals through /sys/dev/char.
 * @param pi   the handle.
 * @param buf  where to store the path, NUL-terminated.
 * @param size the size of @p buf (64 suffices).
 * @return the length of the path; 0 (and an empty string) when the
 *         process has no controlling terminal.
 * @retval -EINVAL  @p pi or @p buf NULL.
 * @retval -ERANGE  @p buf is too small.
 * @retval -ENODATA the terminal has a device number no name is found for.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_terminal(procwait_procinfo *pi, char *buf, size_t size);

/**
 * @brief The number of live threads: psutil's @c num_threads().
 * @param pi the handle.
 * @return the count (>= 1 while it runs; 1 or 0 for a zombie).
 * @retval -EINVAL  @p pi NULL.
 * @retval -ENODATA the kernel does not report it.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_num_threads(procwait_procinfo *pi);

/**
 * @brief The nice value: psutil's @c nice().
 * @param pi  the handle.
 * @param[out] out the value, -20 to 19.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report it.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_nice(procwait_procinfo *pi, int *out);

/**
 * @brief Memory use in bytes: psutil's @c memory_info().
 *
 * All from statm: the exact figures, as psutil's (a snapshot of
 * #PROCWAIT_INFO_RSS_VMS alone takes rss and vms from stat, one read
 * fewer, with stat's per-CPU rss counter that can lag some pages).
 * @param pi  the handle.
 * @param[out] out the figures.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report them.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_memory_info(procwait_procinfo *pi, procwait_memory_info *out);

/**
 * @brief Context switches: psutil's @c num_ctx_switches() (from status).
 * @param pi  the handle.
 * @param[out] out the counts.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report them.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_num_ctx_switches(procwait_procinfo *pi,
                                                       procwait_ctx_switches *out);

/**
 * @brief Real, effective and saved user ids: psutil's @c uids().
 * @param pi  the handle.
 * @param[out] out the ids.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report them.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_uids(procwait_procinfo *pi, procwait_ids *out);

/**
 * @brief Real, effective and saved group ids: psutil's @c gids().
 * @param pi  the handle.
 * @param[out] out the ids.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report them.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_gids(procwait_procinfo *pi, procwait_ids *out);

/**
 * @brief The start time in clock ticks after boot (stat field 22).
 *
 * With the pid, it identifies a process across pid reuse: a process with
 * the same pid and the same start time is the same process.
 * @param pi  the handle.
 * @param[out] out the start time.
 * @retval 0        success.
 * @retval -EINVAL  @p pi or @p out NULL.
 * @retval -ENODATA the kernel does not report it.
 * @retval -ESRCH, -EACCES, -EPROTO, -EMFILE, -ENFILE, -ENOMEM as for
 *                  procwait_procinfo_snapshot().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_procinfo_starttime(procwait_procinfo *pi, uint64_t *out);

PROCWAIT_END_DECLS

#endif /* PROCWAIT_PROCINFO_H */
