/* SPDX-License-Identifier: MIT */
/**
 * @file proc.h
 * @brief Process handles: reuse-safe references to one process.
 *
 * A ::procwait_proc pins the identity of a process. On Linux it holds a
 * pidfd: a wait or a signal through the handle can never reach another
 * process that later got the same pid. Handles are made from a pid, from a
 * pidfd you already have, or by spawning or forking through procwait, in
 * which case the pidfd is taken before anybody can reap the child. On the
 * BSDs and macOS it holds a kqueue with an EVFILT_PROC/NOTE_EXIT
 * registration for the pid, made when the handle is made (the exit it
 * reports is that process's, whatever reuses the pid later). On Windows it
 * holds the process HANDLE (procwait_proc_handle()), which keeps the pid
 * from being reused while it is open.
 *
 * When the fast path is unavailable (see wait.h) a handle holds only the pid
 * and waits through the backoff loop; procwait_proc_fd() then answers
 * @c -ENOTSUP.
 *
 * Thread safety: distinct handles may be used from distinct threads at once.
 * One handle waited from two threads at once gives the status to one of them
 * and @c -ECHILD ("already reaped") to the other. Closing a handle while
 * another thread uses it is the caller's bug, as with close(2).
 */
#ifndef PROCWAIT_PROC_H
#define PROCWAIT_PROC_H

#include <stddef.h>
#include <procwait/common.h>
#include <procwait/wait.h>

PROCWAIT_BEGIN_DECLS

/** @brief An open handle on one process (opaque). @since 0.1 */
typedef struct procwait_proc procwait_proc;

/**
 * @brief Open a handle on the running process @p pid.
 *
 * The process may be a child of the caller or not. A child that already
 * exited but is not yet reaped (a zombie) can be opened, and a wait on it
 * returns at once.
 *
 * @param pid      the process, > 0.
 * @param flags    must be 0.
 * @param[out] out the new handle, to be closed with procwait_proc_close().
 * @retval 0       success.
 * @retval -ESRCH  there is no process @p pid.
 * @retval -EINVAL @p pid <= 0, @p out NULL, an unknown flag, or @p pid is a
 *                 thread id rather than a process id.
 * @retval -ENOMEM out of memory.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_proc_open(pid_t pid, unsigned flags, procwait_proc **out);

/**
 * @brief Open a handle from a pidfd the caller already holds.
 *
 * The handle keeps its own duplicate (close-on-exec) of @p pidfd: the caller
 * still owns @p pidfd and closes it when it likes.
 *
 * @param pidfd    a pidfd (from pidfd_open(2) or clone(CLONE_PIDFD)).
 * @param flags    must be 0.
 * @param[out] out the new handle.
 * @retval 0        success.
 * @retval -EBADF   @p pidfd is not an open file descriptor.
 * @retval -EINVAL  @p pidfd is open but is not a pidfd (on a system without
 *                  pidfds, no descriptor is one), @p out is NULL, or an
 *                  unknown flag was given.
 * @retval -ESRCH   the process of @p pidfd has exited and been reaped.
 * @retval -ENOSYS  /proc is not mounted, so the pidfd's process cannot be
 *                  learnt.
 * @retval -EMFILE  no file descriptor is left to duplicate it into.
 * @retval -ENOMEM  out of memory.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_proc_from_pidfd(int pidfd, unsigned flags, procwait_proc **out);

/**
 * @brief Make a handle from a Windows process HANDLE.
 *
 * The HANDLE is duplicated (with the same access rights), so the caller
 * keeps and closes its own. It needs SYNCHRONIZE and
 * PROCESS_QUERY_LIMITED_INFORMATION access; PROCESS_TERMINATE too for
 * procwait_proc_signal(). While the handle is open the process id cannot be
 * reused.
 *
 * @param handle   a process HANDLE (Windows), as a pointer.
 * @param flags    must be 0.
 * @param[out] out the new handle.
 * @retval 0        success.
 * @retval -EBADF   @p handle is NULL or INVALID_HANDLE_VALUE (which is also
 *                  the value of the pseudo-handle GetCurrentProcess(): pass
 *                  a real HANDLE, e.g. from OpenProcess()).
 * @retval -EINVAL  @p handle is no process HANDLE, or lacks the access
 *                  above; @p out NULL; an unknown flag.
 * @retval -ENOMEM  out of memory.
 * @retval -ENOSYS  not Windows: there are no process HANDLEs.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_proc_from_handle(void *handle, unsigned flags, procwait_proc **out);

/**
 * @brief The Windows process HANDLE a handle holds.
 *
 * It stays owned by @p proc: do not close it. Use it to wait in your own
 * WaitForMultipleObjects or event loop.
 *
 * @param proc the handle.
 * @return the HANDLE, or NULL when @p proc is NULL or not on Windows.
 * @since 0.1
 */
PROCWAIT_EXTERN void *procwait_proc_handle(const procwait_proc *proc);

/**
 * @brief Flags for ::procwait_spawn_options.
 * @since 0.1
 */
enum procwait_spawn_flags {
	/** Search @c PATH for the program when its name has no '/', as
	 *  execvp(3) does, with its errors: @c -ENOENT when no directory
	 *  has the program, @c -EACCES when one has it not executable or
	 *  a directory of @c PATH may not be searched (a shell says "not
	 *  found" there). */
	PROCWAIT_SPAWN_SEARCH_PATH = 1u << 0,
	/** Start the child in a new session (setsid(2)). */
	PROCWAIT_SPAWN_SETSID = 1u << 1,
	/** Start the child in a new process group of its own (implied by
	 *  #PROCWAIT_SPAWN_SETSID). */
	PROCWAIT_SPAWN_SETPGID = 1u << 2
};

/**
 * @brief What procwait_spawn() runs, and how.
 *
 * Initialise it with #PROCWAIT_SPAWN_OPTIONS_INIT and set what you need: the
 * @c size field versions the structure, so that fields added later are
 * read only from callers that know them.
 * @since 0.1
 */
typedef struct procwait_spawn_options {
	size_t size;            /**< sizeof(procwait_spawn_options), set by the INIT macro */
	const char *file;       /**< program to execute; NULL means argv[0] */
	char *const *argv;      /**< NULL-terminated argument vector, argv[0] required */
	char *const *envp;      /**< NULL-terminated environment; NULL inherits the caller's */
	const char *cwd;        /**< working directory of the child; NULL inherits */
	int stdin_fd;           /**< fd to become the child's 0; -1 inherits */
	int stdout_fd;          /**< fd to become the child's 1; -1 inherits */
	int stderr_fd;          /**< fd to become the child's 2; -1 inherits */
	unsigned flags;         /**< #procwait_spawn_flags */
} procwait_spawn_options;

/** @brief Initialiser for ::procwait_spawn_options: inherit everything. @since 0.1 */
#define PROCWAIT_SPAWN_OPTIONS_INIT \
	{ sizeof(procwait_spawn_options), NULL, NULL, NULL, NULL, -1, -1, -1, 0u }

/**
 * @brief Start a program as a child and return a handle on it.
 *
 * The child is created with vfork semantics (clone(CLONE_VM|CLONE_VFORK)),
 * and on Linux with CLONE_PIDFD, so the handle's pidfd exists before the
 * child can run, let alone be reaped by anybody. Signal handlers are reset to
 * their defaults in the child and the caller's signal mask is kept, as with
 * posix_spawn(3). The standard descriptors are duplicated onto 0, 1, 2; all
 * other descriptors are inherited unless they are close-on-exec. Without
 * pidfds (BSD, macOS) the child is made with fork(2), and a close-on-exec
 * pipe tells a failed exec: there it needs two free descriptors
 * (@c -EMFILE otherwise).
 *
 * On Windows it is CreateProcessW: @c argv (UTF-8) is quoted into one
 * command line that the C runtime splits back into the same vector
 * (@c argv[0] may not hold a double quote), @c envp becomes the environment
 * block (NULL: the caller's, as Windows keeps it), the three stdio fds (C
 * runtime descriptors; -1 means the caller's standard handle) are the only
 * handles inherited, #PROCWAIT_SPAWN_SEARCH_PATH looks the program up in
 * the directories of @c PATH only (adding ".exe"), and
 * #PROCWAIT_SPAWN_SETSID / #PROCWAIT_SPAWN_SETPGID mean
 * CREATE_NEW_PROCESS_GROUP. Batch files (.bat, .cmd) are refused with
 * @c -ENOEXEC: cmd.exe does not parse arguments by the C runtime's rules,
 * so no quoting makes them safe; run @c cmd.exe yourself if you must.
 * Errors are those of CreateProcessW as errno values (@c -ENOENT,
 * @c -EACCES, @c -ENOEXEC; @c -EINVAL for argv or envp that is not UTF-8).
 *
 * @param opts     what to run.
 * @param[out] out the handle on the child.
 * @retval 0        the program is running (it passed execve).
 * @retval -EINVAL  @p opts or @p out NULL, @c opts->size too small,
 *                  @c argv NULL or empty, an unknown flag, or a stdio fd
 *                  below -1.
 * @retval -ENOENT, -EACCES, -ENOEXEC, -ENOTDIR, -E2BIG, ...
 *                  the error of chdir(2) or execve(2) in the child, which
 *                  has then been reaped: nothing is left behind.
 * @retval -EBADF   a stdio fd is not open.
 * @retval -EMFILE  (without pidfds) no descriptor for the exec-error pipe.
 * @retval -EAGAIN, -ENOMEM  the system could not create a process now (on
 *                  Windows also a process that failed to start, which Wine
 *                  reports under load as ERROR_INTERNAL_ERROR): try again.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_spawn(const procwait_spawn_options *opts, procwait_proc **out);

/**
 * @brief fork(2), returning a handle on the child in the parent.
 *
 * The child does not return from this call until the parent holds the
 * child's pidfd, so the child cannot exit and be reaped by anybody else
 * first. Fork handlers (pthread_atfork) run as with fork(). As with fork(),
 * the child of a multi-threaded process has one thread: until it execs, it
 * may only make async-signal-safe calls.
 *
 * @param flags    must be 0.
 * @param[out] out in the parent, the handle on the child; in the child,
 *                 set to NULL.
 * @return the child's pid (> 0) in the parent, 0 in the child.
 * @retval -EINVAL  @p out NULL or an unknown flag.
 * @retval -EAGAIN, -ENOMEM  fork(2) failed.
 * @retval -EMFILE, -ENFILE  no descriptor was left for the handshake pipe.
 * @retval -ENOSYS  Windows: there is no fork.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_fork(unsigned flags, procwait_proc **out);

/**
 * @brief Wait for the process of a handle to exit.
 *
 * The semantics of timeout, reaping and unknown status are those of wait.h.
 * After a child was reaped through the handle, every later wait answers
 * @c -ECHILD: the status was handed out once. A non-child, or a child waited
 * with #PROCWAIT_WAIT_NOREAP, reports its exit again on every wait (on
 * Windows, where every process has a known status, a non-child's is handed
 * out once too, as a child's).
 *
 * @param proc        the handle.
 * @param timeout_ms  < 0 forever, 0 check once, > 0 milliseconds.
 * @param flags       0 or #PROCWAIT_WAIT_NOREAP.
 * @param[out] status filled when the call returns 0.
 * @retval 0          the process has exited; @p status says how.
 * @retval -ETIMEDOUT the deadline passed and the process still runs.
 * @retval -ECHILD    the child was already reaped through this handle.
 * @retval -EINVAL    @p proc or @p status NULL, or an unknown flag.
 * @retval -EDEADLK   the handle is the caller's own process and
 *                    @p timeout_ms < 0: the wait could never end.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_proc_wait(procwait_proc *proc, int timeout_ms, unsigned flags,
                                       procwait_status *status);

/**
 * @brief Send a signal to the process of a handle, reuse-safe.
 *
 * On Linux this is pidfd_send_signal(2): it cannot reach another process
 * that reuses the pid. Under the kqueue backend and the fallback it is
 * kill(2), refused once the child was reaped through the handle (and, with
 * kqueue, once a non-child has exited). On Windows, SIGTERM and 9 (SIGKILL)
 * terminate the process (TerminateProcess, exit code 128 + @p signo; a wait
 * through this handle then reports #PROCWAIT_STATUS_SIGNALED with that
 * signal), 0 checks that it still runs, and other signals answer
 * @c -ENOTSUP.
 *
 * @param proc  the handle.
 * @param signo a signal number, or 0 to check that the process exists.
 * @retval 0       the signal was sent (a zombie accepts and ignores it).
 * @retval -ESRCH  the process has exited and been reaped.
 * @retval -EINVAL @p proc NULL or @p signo not a valid signal.
 * @retval -EPERM  the caller may not signal that process.
 * @retval -ENOTSUP (Windows) a signal other than 0, SIGTERM and 9.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_proc_signal(procwait_proc *proc, int signo);

/**
 * @brief The process id of a handle.
 *
 * @param proc the handle.
 * @return the pid (> 0).
 * @retval -EINVAL @p proc is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN pid_t procwait_proc_pid(const procwait_proc *proc);

/**
 * @brief A descriptor that becomes readable (POLLIN) when the process exits.
 *
 * For an event loop of your own (libuv, GLib, asyncio's add_reader). The
 * descriptor belongs to the handle: do not close it. Readiness is a hint:
 * call procwait_proc_wait() with timeout 0 to learn the status. It is a
 * pidfd on Linux and a kqueue on the BSDs and macOS (never drained by
 * procwait: it stays readable once the process has exited).
 *
 * @param proc the handle.
 * @return the descriptor (>= 0).
 * @retval -EINVAL  @p proc is NULL.
 * @retval -ENOTSUP the handle has no such descriptor (fallback backend, a
 *                  kqueue handle on a process that had exited before it
 *                  was opened, or Windows: use procwait_proc_handle()).
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_proc_fd(const procwait_proc *proc);

/**
 * @brief Close a handle: release its descriptor and memory.
 *
 * Closing neither signals nor reaps the process: an unreaped child stays a
 * zombie for the caller to reap. A handle in a wait set is removed from it
 * first. NULL is accepted and ignored.
 *
 * @param proc the handle, or NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN void procwait_proc_close(procwait_proc *proc);

PROCWAIT_END_DECLS

#endif /* PROCWAIT_PROC_H */
