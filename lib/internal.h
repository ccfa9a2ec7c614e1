/* SPDX-License-Identifier: MIT */
/*
 * Private declarations of libprocwait. Nothing here is exported: internal
 * names carry the pw__ prefix and the library is built with hidden
 * visibility, so only PROCWAIT_EXTERN symbols leave the .so.
 */
#ifndef PROCWAIT_INTERNAL_H
#define PROCWAIT_INTERNAL_H

#include "config.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#ifdef HAVE_WIN32_BACKEND
#include <windows.h>
#else
#include <pthread.h>
#include <sys/wait.h>
#endif

#include <procwait/procwait.h>

/* Public boundary check: a bad argument is an error code, never an abort. */
#define pw__check_arg(cond) do { if (!(cond)) return -EINVAL; } while (0)

/* The fallback backoff: 0.1 ms doubling to a 40 ms cap (DESIGN.md §4). */
#define PW_BACKOFF_MIN_NS  100000LL
#define PW_BACKOFF_MAX_NS  40000000LL

/* ---- locks ------------------------------------------------------------ */

/* A plain mutex: an SRW lock on Windows (no winpthreads DLL to ship), a
 * pthread mutex elsewhere. Never held across a blocking wait. */
#ifdef HAVE_WIN32_BACKEND
typedef SRWLOCK pw__mutex;
static inline void pw__mutex_init(pw__mutex *m) { InitializeSRWLock(m); }
static inline void pw__mutex_destroy(pw__mutex *m) { (void)m; }
static inline void pw__mutex_lock(pw__mutex *m) { AcquireSRWLockExclusive(m); }
static inline void pw__mutex_unlock(pw__mutex *m) { ReleaseSRWLockExclusive(m); }
#else
typedef pthread_mutex_t pw__mutex;
static inline void pw__mutex_init(pw__mutex *m) { pthread_mutex_init(m, NULL); }
static inline void pw__mutex_destroy(pw__mutex *m) { pthread_mutex_destroy(m); }
static inline void pw__mutex_lock(pw__mutex *m) { pthread_mutex_lock(m); }
static inline void pw__mutex_unlock(pw__mutex *m) { pthread_mutex_unlock(m); }
#endif

/* ---- time -------------------------------------------------------------- */

/* One absolute CLOCK_MONOTONIC deadline per wait. */
typedef struct pw__deadline {
	int64_t at_ns;  /* absolute deadline; meaningless when forever */
	int forever;
} pw__deadline;

int64_t pw__now_ns(void);
void pw__deadline_init(pw__deadline *d, int timeout_ms);
/* Remaining time in ms, rounded up, capped to INT_MAX; -1 when forever, 0
 * when the deadline has passed. */
int pw__deadline_ms(const pw__deadline *d);
/* Remaining time in ns; INT64_MAX when forever, 0 when passed. */
int64_t pw__deadline_ns(const pw__deadline *d);
/* Milliseconds from now until the absolute time at_ns, rounded up and
 * capped to INT_MAX, for poll-style calls: 0 when passed, -1 for
 * INT64_MAX (no timer). */
int pw__ms_until(int64_t at_ns);
/* The poll timeout that ends at the deadline or at at_ns, whichever comes
 * first (-1 when neither will). */
int pw__deadline_ms_before(const pw__deadline *d, int64_t at_ns);
/* Sleep for ns nanoseconds, but not past the deadline; EINTR ends the sleep
 * early (the caller loops and recomputes). */
void pw__sleep_ns(int64_t ns, const pw__deadline *d);

/* ---- errno classes and fallback bookkeeping --------------------------- */

enum pw__errclass {
	PW_ERR_PERMANENT,   /* ENOSYS, EPERM, EACCES: latch the fallback */
	PW_ERR_TEMPORARY,   /* EMFILE, ENFILE, ENOMEM: fall back for this call */
	PW_ERR_MAYBE_GONE,  /* ESRCH, EINVAL: check the process at once */
	PW_ERR_OTHER        /* anything else: fall back for this call */
};
enum pw__errclass pw__errclass(int err);

/* Record, for this thread, that a call fell back because of -err from
 * syscall (procwait_last_fallback() reports it). */
void pw__fallback_note(int err, const char *syscall);
/* The same, and when the error is of the permanent class, latch the
 * fallback for the whole process. */
void pw__fallback(int err, const char *syscall);

/* ---- string vectors (strv.c) ------------------------------------------- */

/* A deep copy of a NULL-terminated vector in one block (free() it once);
 * NULL when out of memory. */
char **pw__strv_dup(char *const *v);

/* ---- wait sets' readiness notifiers ------------------------------------ */

/* One per platform mechanism: epoll over pidfds (notify-epoll.c), a kqueue
 * with EVFILT_PROC registrations (notify-kqueue.c), WaitForMultipleObjects
 * on groups (notify-win32.c). A notifier may refuse a member (-errno): the
 * set's backoff loop then serves it. */
typedef struct pw__notify pw__notify;
struct pw__notify_ops {
	const char *open_call;  /* the system call behind open, for reports */
	const char *add_call;   /* the system call behind add, for reports */
	int (*open)(pw__notify **out);
	void (*close)(pw__notify *n);
	/* The pollable descriptor of the set, or -ENOTSUP. */
	int (*fd)(const pw__notify *n);
	int (*add)(pw__notify *n, procwait_proc *p);
	int (*del)(pw__notify *n, procwait_proc *p);
	/* Wait up to timeout_ms for ready members; fills ready[] with up to
	 * max handles. Returns the count, 0 on timeout, -EINTR or -errno. A
	 * member once reported stays reported until it is deleted or added
	 * again (level-triggered) or not (one-shot): the set deletes every
	 * member it was told about. */
	int (*wait)(pw__notify *n, procwait_proc **ready, int max, int timeout_ms);
};

extern const struct pw__notify_ops pw__notify_epoll;
extern const struct pw__notify_ops pw__notify_kqueue;
extern const struct pw__notify_ops pw__notify_win32;

/* ---- backends ------------------------------------------------------------ */

struct pw__backend {
	const char *name;
	const char *attach_call;   /* system call behind attach, for reports */
	/* 0 when the backend can be used here, else -errno and the name of
	 * the system call that failed in *syscall. */
	int (*probe)(const char **syscall);
	/* Give a fresh handle (pid and child already set) its event source,
	 * e.g. a pidfd in p->fd. -errno on failure, classified by the caller. */
	int (*attach)(procwait_proc *p);
	/* Release what attach gave (NULL: nothing to release but p->fd). */
	void (*detach)(procwait_proc *p);
	/* Block until the handle's event source is ready or timeout_ms
	 * passes: 1 ready, 0 timed out, -EINTR, or -errno. NULL for a backend
	 * without event source: the front end runs the backoff loop. */
	int (*block)(procwait_proc *p, int timeout_ms);
	/* Check once without blocking, p->lock held and p not reaped: 1
	 * exited (st filled, child reaped unless NOREAP, p->reaped set when
	 * reaped), 0 still running, -errno. */
	int (*check)(procwait_proc *p, unsigned flags, procwait_status *st);
	/* Send a signal: 0 or -errno. */
	int (*signal)(procwait_proc *p, int signo);
	/* The notifier for wait sets made while this backend is in use. */
	const struct pw__notify_ops *notify;
#ifndef HAVE_WIN32_BACKEND
	/* POSIX backends share pw__posix_check(), which needs these two. */
	/* waitid(2) on this handle's process: 0 or -errno. */
	int (*waitid)(procwait_proc *p, siginfo_t *si, int options);
	/* For a process that is not our child: has it exited? 1 or 0; never
	 * 1 for a process that still runs. */
	int (*exited)(procwait_proc *p);
#endif
};

extern const struct pw__backend pw__backend_pidfd;
extern const struct pw__backend pw__backend_kqueue;
extern const struct pw__backend pw__backend_win32;
extern const struct pw__backend pw__backend_poll;

/* The backend new handles use: probed once and latched (atomic). */
const struct pw__backend *pw__backend_get(void);

/* The backend of last resort: the waitpid/kill backoff loop on POSIX, the
 * win32 backend itself on Windows (it has no fallback to fall to). */
#ifdef HAVE_WIN32_BACKEND
#define PW_BACKEND_LAST pw__backend_win32
#else
#define PW_BACKEND_LAST pw__backend_poll
#endif

/* ---- process handles ----------------------------------------------------- */

enum pw__child { PW_CHILD_UNKNOWN, PW_CHILD_YES, PW_CHILD_NO };

struct procwait_proc {
	pid_t pid;
	int fd;                         /* pidfd or kqueue, or -1 */
#ifdef HAVE_WIN32_BACKEND
	HANDLE handle;                  /* the process, SYNCHRONIZE | QUERY_LIMITED */
	int signo;                      /* the signal a TerminateProcess stood for */
	void *wgroup;                   /* notify-win32.c: helper group, NULL inline */
	int wslot;                      /* notify-win32.c: index there */
#endif
	const struct pw__backend *be;   /* what serves this handle */
	int child;                      /* enum pw__child */
	int reaped;                     /* status handed out: -ECHILD after */
	int waitid_by_pid;              /* the backend's waitid failed: use P_PID */
	uint64_t starttime;             /* /proc start time (pid-only handles), 0 unknown */
	int gone;                       /* kqueue: exited before it could be watched */
	pid_t fd_owner;                 /* kqueue: the process whose kqueue p->fd is */
	pw__mutex lock;                 /* serialises check-and-reap, signal */
	/* wait-set membership, owned by the set */
	procwait_waitset *set;
	void *set_data;
	int set_polled;                 /* index in set->polled, or -1 */
	procwait_proc *set_prev, *set_next;   /* the set's member list */
};

/* Initialise a handle for pid (no event source yet); pw__proc_fini()
 * releases what it holds. alloc/free do the same on the heap. */
void pw__proc_init(procwait_proc *p, pid_t pid, int child);
void pw__proc_fini(procwait_proc *p);
procwait_proc *pw__proc_alloc(pid_t pid, int child);   /* NULL on ENOMEM */
/* Give p an event source with the current backend; on failure classify
 * the error and fall back to the pid-only poll backend where that is right.
 * Returns 0 or -errno (only for a process that is gone or invalid). */
int pw__proc_attach(procwait_proc *p);
void pw__proc_free(procwait_proc *p);

#ifndef HAVE_WIN32_BACKEND
/* ---- what the POSIX backends share (wait-posix.c) ---------------------- */

/* Learn whether p is a child of ours, through its own backend. */
void pw__proc_detect_child(procwait_proc *p);
/* The check of struct pw__backend for POSIX: waitid for children, the
 * backend's exited() for others, status "unknown" where it is lost. */
int pw__posix_check(procwait_proc *p, unsigned flags, procwait_status *st);
/* pw__proc_attach() on POSIX. */
int pw__posix_attach(procwait_proc *p);
/* The poll backend's answers, which the others use for pid-only work. */
int pw__poll_waitid(procwait_proc *p, siginfo_t *si, int options);
int pw__poll_exited(procwait_proc *p);
int pw__poll_signal(procwait_proc *p, int signo);
#endif

/* Check once, without blocking: 1 exited (st filled, child reaped unless
 * NOREAP), 0 still running, or -ECHILD when already reaped through p. */
int pw__proc_check(procwait_proc *p, unsigned flags, procwait_status *st);

/* The wait loop shared by procwait_wait_pid() and procwait_proc_wait(). */
int pw__proc_wait(procwait_proc *p, const pw__deadline *d, unsigned flags,
                  procwait_status *st);

/* Process state helpers: from /proc on Linux (procstate-linux.c); elsewhere
 * (procstate-none.c) both answer -ENOSYS. */
struct pw__stat {
	int state;              /* the state letter: R, S, Z, X, ... */
	long ppid;              /* the parent's pid; -1 when not found */
	long num_threads;       /* live threads; -1 when not found */
	uint64_t starttime;     /* clock ticks after boot; 0 when not found */
};
/* Fill *st from /proc/PID/stat: 0 or -errno. */
int pw__proc_stat(pid_t pid, struct pw__stat *st);
/* The thread-group id of a task, or -errno. */
int pw__proc_tgid(pid_t pid);

/* ---- procinfo (procinfo-linux.c, procinfo-tty-linux.c) ------------------ */

/* The flags procwait_procinfo_open(), _open_proc() and _reopen() take
 * (procinfo-none.c checks them too). */
#define PW__PROCINFO_FLAGS ((unsigned)PROCWAIT_PROCINFO_ONESHOT)

/* The device path of the terminal with device number tty_nr (stat field 7,
 * in the kernel's encoding) into buf: the length, 0 (and "") for none,
 * -ENODATA when no name is found, -ERANGE when buf is too small. */
int pw__tty_name(uint64_t tty_nr, char *buf, size_t size);

/* ---- system call wrappers ---------------------------------------------- */

/* poll(2) one descriptor for POLLIN: 1 ready, 0 timed out, or -errno
 * (-EINTR included); timeout_ms as for poll, 0 to look without waiting
 * (clock.c, on every POSIX system). */
int pw__fd_wait(int fd, int timeout_ms);
#ifdef HAVE_WIN32_BACKEND
/* A Win32 error code as -errno (wait-win32.c). */
int pw__win_errno(unsigned long err);
/* argv (UTF-8) as one CreateProcessW command line that the C runtime splits
 * back into the same vector (spawn-win32.c): 0 or -errno; free() *out. */
int pw__win_cmdline(char *const *argv, wchar_t **out);
#endif
/* A close-on-exec kqueue: fd or -errno (wait-kqueue.c). */
int pw__kq_open(void);
/* sys-linux.c */
int pw__pidfd_open(pid_t pid);                    /* fd or -errno */
int pw__pidfd_send_signal(int pidfd, int signo);  /* 0 or -errno */
/* The pid a pidfd refers to, from /proc/self/fdinfo (wait-pidfd.c):
 * -ESRCH once the process is reaped, -EINVAL when fd is no pidfd, -ENOSYS
 * without /proc. */
int pw__pidfd_pid(int fd);

#endif /* PROCWAIT_INTERNAL_H */
