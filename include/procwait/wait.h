/* SPDX-License-Identifier: MIT */
/**
 * @file wait.h
 * @brief Waiting for a process to exit: status, single waits, backends.
 *
 * procwait waits event-driven where the system can notify: a pidfd in
 * poll(2) on Linux (backend "pidfd"), a kqueue with an EVFILT_PROC/NOTE_EXIT
 * registration on the BSDs and macOS ("kqueue"), the process HANDLE in
 * WaitForSingleObject on Windows ("win32"). On POSIX systems it falls back,
 * at run time, to an exponential-backoff loop of @c waitpid(WNOHANG) /
 * @c kill(pid, 0) (0.1 ms doubling to 40 ms, backend "poll") where it cannot:
 * an old kernel, a seccomp filter, file descriptors exhausted. The fallback
 * is chosen by the class of the error:
 *
 * - permanent (@c ENOSYS, @c EPERM, @c EACCES from the fast path): the
 *   fallback is latched for the rest of the process;
 * - temporary (@c EMFILE, @c ENFILE, @c ENOMEM): the fallback serves this one
 *   call, the next call tries the fast path again;
 * - maybe-gone (@c ESRCH, @c EINVAL for a pid that just exited): the process
 *   is checked at once; one that has exited is reported as an exit.
 *
 * Semantics shared by every wait call:
 * - @p timeout_ms < 0 waits forever, 0 checks once without blocking, > 0 is
 *   one absolute CLOCK_MONOTONIC deadline (rounded up to the next
 *   millisecond, any @c int value is safe). A signal handler running in the
 *   waiting thread does not end the wait early.
 * - A child of the caller is reaped and its exact status returned, unless
 *   #PROCWAIT_WAIT_NOREAP is given. A process that is not a child (or a child
 *   reaped by somebody else, for instance because SIGCHLD is ignored) is
 *   reported as exited with #PROCWAIT_STATUS_UNKNOWN: never a made-up 0.
 * - procwait installs no SIGCHLD handler and never calls @c waitpid(-1): it
 *   does not steal another component's children.
 *
 * On Windows there are no zombies and no parent-child bond: every process's
 * exit code is known while a HANDLE to it is open, so non-children too are
 * reported as #PROCWAIT_STATUS_EXITED with their code (the whole 32-bit
 * code, as an @c int: an NTSTATUS such as 0xC0000005 comes out negative).
 * "Reaped" means the handle has handed its status out. A pid names a
 * process only while somebody holds a HANDLE to it: once the process has
 * exited and every HANDLE is closed, a wait by pid answers @c -ESRCH.
 */
#ifndef PROCWAIT_WAIT_H
#define PROCWAIT_WAIT_H

#include <procwait/common.h>

PROCWAIT_BEGIN_DECLS

/**
 * @brief How a process ended. @since 0.1
 */
typedef enum procwait_status_kind {
	/** It exited, but how is not known: not a child of the caller, or
	 *  reaped by somebody else. Zero, so that a zeroed status never
	 *  reads as "exited 0". */
	PROCWAIT_STATUS_UNKNOWN = 0,
	/** It exited normally; @c code holds the exit code (0..255; on
	 *  Windows the whole 32-bit exit code). */
	PROCWAIT_STATUS_EXITED = 1,
	/** It was killed by signal @c signo; @c core tells whether it dumped
	 *  core. */
	PROCWAIT_STATUS_SIGNALED = 2
} procwait_status_kind;

/**
 * @brief The exit status of a process. @since 0.1
 */
typedef struct procwait_status {
	pid_t pid;  /**< the process that exited */
	int kind;   /**< a #procwait_status_kind */
	int code;   /**< exit code, when @c kind is #PROCWAIT_STATUS_EXITED; else 0 */
	int signo;  /**< terminating signal, when #PROCWAIT_STATUS_SIGNALED; else 0 */
	int core;   /**< 1 when the signal dumped core; else 0 */
} procwait_status;

/**
 * @brief Flags for the wait calls.
 * @since 0.1
 */
enum procwait_wait_flags {
	/** Do not reap a child: its status is returned and the zombie is left
	 *  for the caller to reap (with waitpid() or a later wait). */
	PROCWAIT_WAIT_NOREAP = 1u << 0
};

/**
 * @brief Wait for the process @p pid to exit.
 *
 * Opens a temporary handle (a pidfd on Linux), waits on it as
 * procwait_proc_wait() does, and closes it. To wait on a process more than
 * once, or to be safe against pid reuse between your fork() and this call,
 * hold a ::procwait_proc instead.
 *
 * @param pid         the process; must be > 0.
 * @param timeout_ms  < 0 forever, 0 check once, > 0 milliseconds.
 * @param flags       0 or #PROCWAIT_WAIT_NOREAP.
 * @param[out] status filled when the call returns 0.
 * @retval 0          the process has exited; @p status says how.
 * @retval -ETIMEDOUT the deadline passed (at once for @p timeout_ms 0) and
 *                    the process still runs.
 * @retval -ESRCH     there is no process @p pid (it never existed, or it
 *                    exited and was already reaped).
 * @retval -EINVAL    @p pid <= 0, @p status NULL, an unknown flag, or @p pid
 *                    names a thread rather than a process.
 * @retval -EDEADLK   @p pid is the caller and @p timeout_ms < 0: the wait
 *                    could never end.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_wait_pid(pid_t pid, int timeout_ms, unsigned flags,
                                      procwait_status *status);

/**
 * @brief The shell's convention for a status: the exit code, or 128 plus the
 *        signal number for a signal death.
 *
 * @param status a status filled by a wait call.
 * @return 0..255 for an exit, 128 + signo for a signal death.
 * @retval -EINVAL  @p status is NULL or its @c kind is not a known value.
 * @retval -ENODATA the status is #PROCWAIT_STATUS_UNKNOWN.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_status_shell(const procwait_status *status);

/**
 * @brief The name of the backend in use: "pidfd" or "poll" (later also
 *        "kqueue", "win32").
 *
 * The first call probes the system (for pidfd: pidfd_open(getpid()),
 * waitid(P_PIDFD) and pidfd_send_signal on the result) and latches the
 * answer; the environment variable @c PROCWAIT_BACKEND (read with
 * secure_getenv(), so ignored in set-uid programs) may force "poll", or ask
 * for a backend, which is used if its probe succeeds. A permanent error on the
 * fast path later latches "poll".
 *
 * @return a static string, never NULL; this call cannot fail.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_backend_name(void);

/**
 * @brief Why the last fallback to the backoff loop happened.
 *
 * Reports, for the calling thread, the most recent call that could not use
 * the event-driven path (for instance @c -EMFILE from pidfd_open); when this
 * thread had none, the permanent reason the fallback was latched for the
 * process, if any. A fallback that was forced through @c PROCWAIT_BACKEND is
 * not a fallback and reports nothing.
 *
 * @param[out] syscall when not NULL, set to the name of the system call that
 *                     failed (static string), or NULL when there was none.
 * @return 0 when no fallback happened, else the negative errno that caused
 *         it. This call cannot fail.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_last_fallback(const char **syscall);

PROCWAIT_END_DECLS

#endif /* PROCWAIT_WAIT_H */
