/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the Check suites: tests/helpers.c on POSIX,
 * tests/helpers-win32.c on Windows (config.h's HAVE_WIN32_BACKEND).
 *
 * Children on Windows. There is no fork(2): the helpers start
 * tests/pwt-child.exe (found next to the running test program) with
 * CreateProcess. A Windows process id stays valid only while somebody holds
 * a HANDLE on the process: once it has exited and every HANDLE is closed,
 * OpenProcess() fails and procwait answers -ESRCH. So the helpers keep each
 * child's HANDLE in a table until pwt_reap(pid), pwt_release_zombie() or
 * pwt_cleanup(): an exited child stays visible to procwait_wait_pid() until
 * then, which is what a zombie is on POSIX until it is reaped.
 *
 * The Windows suites run without fork (CK_NOFORK): a failed assertion
 * longjmps out of the test, and every test shares the process. Each tcase is
 * made with pwt_tcase(), which on Windows adds pwt_cleanup() as a teardown:
 * whatever a test started through these helpers (or handed to
 * pwt_track()) and left running is killed after it, pass or fail; and a
 * watchdog stands in for Check's timeouts (which need fork).
 */
#ifndef PWT_HELPERS_H
#define PWT_HELPERS_H

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#ifndef HAVE_WIN32_BACKEND
#include <sys/wait.h>
#endif
#include <procwait/procwait.h>

#ifdef HAVE_WIN32_BACKEND
/* Windows has no SIGKILL; procwait_proc_signal() takes 9 for it
 * (wait-win32.c: TerminateProcess, reported as SIGNALED 9 by the handle
 * that did it). */
#ifndef SIGKILL
#define SIGKILL 9
#endif
#endif

/* A tcase for a suite: tcase_create(), plus, on Windows, a checked
 * fixture: a watchdog during each test, pwt_cleanup() after it (also after
 * a failure). */
static inline TCase *pwt_tcase(const char *name);

#ifndef HAVE_WIN32_BACKEND
/* ---- POSIX only --------------------------------------------------------- */

/* fork(2) for test children, as the helpers below do it: in the child,
 * every caught signal is reset to its default (Check's runner handlers
 * would kill the whole process group) before any signal can be delivered.
 * Returns what fork(2) returns. */
pid_t pwt_fork(void);
/* Fork a child that sleeps delay_ms, then kills itself with signo (with
 * core dumps allowed when core is set). */
pid_t pwt_child_signal(int delay_ms, int signo, int core);
/* Remove the core dump directory of a pwt_child_signal(..., 1) child. */
void pwt_core_cleanup(pid_t pid);
/* Make the next pid of this pid namespace last + 1, through
 * /proc/sys/kernel/ns_last_pid (root): 0 or -errno. Other processes may
 * still take it first: callers retry. */
int pwt_set_last_pid(pid_t last);
/* Lower RLIMIT_NOFILE so that no descriptor can be opened: returns the
 * number of the lowest fd that would be next. */
void pwt_exhaust_fds(void);
#endif

/* ---- children ------------------------------------------------------------ */

/* Start a child (POSIX: plain fork(2), no procwait; Windows: pwt-child.exe
 * "exit") that sleeps delay_ms, then exits with code. On Windows code may be
 * any 32-bit value (0xC0000005 passed as (int)0xC0000005). Returns its
 * pid. */
pid_t pwt_child_exit(int delay_ms, int code);
/* Start a child that blocks until killed. */
pid_t pwt_child_sleep_forever(void);
/* Start a process that is NOT our child and lives delay_ms (then exits):
 * a grandchild whose parent has exited, so it is reparented to init or to
 * the nearest subreaper (POSIX), or is nobody's child (Windows: its parent,
 * a pwt-child.exe, handed us a HANDLE on it and exited). It exits with
 * PWT_NONCHILD_CODE. Returns its pid. */
pid_t pwt_nonchild(int delay_ms);
#ifdef HAVE_WIN32_BACKEND
/* A non-child's exit code is known on Windows: tests check it. */
#define PWT_NONCHILD_CODE 37
#else
#define PWT_NONCHILD_CODE 0
#endif
/* Start a non-child that exits at once and stays a zombie (its parent, an
 * intermediate process, does not reap it) until pwt_release_zombie(parent).
 * Windows: it has exited when this returns and the helpers' HANDLE keeps
 * its pid valid; *parent is set to its own pid, and pwt_release_zombie()
 * closes that HANDLE. */
pid_t pwt_nonchild_zombie(pid_t *parent);
void pwt_release_zombie(pid_t parent);

/* Reap pid, blocking. POSIX: waitpid(2), EINTR-safe; returns the raw
 * status or -1. Windows: waits (at most 60 s) for the child to exit, closes
 * the helpers' HANDLE on it (from then on its pid may be gone) and returns
 * its exit code, or -1 when pid is no child of the helpers or did not exit
 * in time (an exit code of 0xFFFFFFFF also reads as -1). */
int pwt_reap(pid_t pid);
/* Is pid a live or zombie process? (Windows: can it be opened, which an
 * exited process can while a HANDLE on it is open.) */
int pwt_exists(pid_t pid);
#ifdef HAVE_WIN32_BACKEND
/* Kill pid at once: SIGKILL on POSIX; TerminateProcess() with exit code
 * 128 + 9 on Windows, where a wait through any handle but one that called
 * procwait_proc_signal() then sees an exit with code 137. 0 or -1. */
int pwt_kill(pid_t pid);
/* Block (at most timeout_ms, < 0 forever; POSIX: forever, the tcase's
 * timeout bounds it) until the child pid has exited, without reaping it:
 * 0, or -1 on timeout or error. */
int pwt_await_exit(pid_t pid, int timeout_ms);
#else
/* (The same two on POSIX; helpers.c predates them, and they are small.) */
static inline int pwt_kill(pid_t pid)
{
	return kill(pid, SIGKILL);
}

static inline int pwt_await_exit(pid_t pid, int timeout_ms)
{
	siginfo_t si;

	(void)timeout_ms;
	for (;;) {
		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
			return si.si_pid == pid ? 0 : -1;
		if (errno != EINTR)
			return -1;
	}
}
#endif
/* Nothing of ours is left unreaped: no exit went astray. Windows: every
 * child started through the helpers (or tracked) has exited. */
void pwt_assert_no_children(void);

#ifdef HAVE_WIN32_BACKEND
/* ---- Windows only ------------------------------------------------------ */

/* Start pwt-child.exe with the arguments args (one command-line string,
 * e.g. "gate NAME 10 3"); the child is tracked as pwt_child_exit()'s are.
 * Returns its pid. */
pid_t pwt_child_run(const char *args);
/* The path of pwt-child.exe (UTF-8, static storage): next to the running
 * test program, or in its parent directory when the program runs from a
 * libtool .libs directory; PWT_CHILD overrides. */
const char *pwt_child_path(void);
/* The path of the running test program (UTF-8, static storage). */
const char *pwt_self_path(void);
/* Wait (at most timeout_ms) until no process pid can be opened any more
 * (OpenProcess fails: the last HANDLE on it is closed and the system let
 * the process object go; Wine keeps it ~0.5 s longer): 0, or -1. */
int pwt_await_gone(pid_t pid, int timeout_ms);
/* Keep a HANDLE on p's process in the helpers' table (a duplicate), so that
 * pwt_cleanup() kills it should the test fail before it ends: 0, or -1.
 * Thread-safe, asserts nothing. */
int pwt_track(procwait_proc *p);
/* procwait_spawn(o), tried again while it says -EAGAIN (a system short of
 * something: many processes at once, or Wine under load, which fails to
 * start a process now and then), for up to a second; the child is tracked.
 * procwait_spawn()'s result. Thread-safe, asserts nothing. */
int pwt_spawn(const procwait_spawn_options *o, procwait_proc **out);
/* procwait_spawn(o) with the child's stdout going to a temporary file (it
 * sets o->stdout_fd), wait for it (at most 60 s) and read what it wrote
 * into out (NUL-terminated; *len, when not NULL, gets the length, which
 * counts NULs the child wrote). Returns procwait_spawn()'s error, or 0 with
 * *st filled. */
int pwt_spawn_capture(procwait_spawn_options *o, char *out, size_t size, size_t *len,
                      procwait_status *st);
/* Kill every tracked child still running, close every HANDLE the helpers
 * hold, empty the table. */
void pwt_cleanup(void);
/* The checked fixture pwt_tcase() adds: setup arms a watchdog (a test
 * running over 120 s gets its children killed, over 150 s ends the
 * program with 99: Check's timeouts need fork), teardown disarms it and
 * calls pwt_cleanup(). */
void pwt_test_setup(void);
void pwt_test_teardown(void);
#endif

/* ---- misc ------------------------------------------------------------------ */

/* read(2)/write(2) all n bytes, EINTR-safe: 0, or -1 on error or EOF. */
int pwt_read_full(int fd, void *buf, size_t n);
int pwt_write_full(int fd, const void *buf, size_t n);

/* Milliseconds of a monotonic clock. */
long long pwt_now_ms(void);
/* Sleep ms milliseconds, whatever signals arrive meanwhile. */
void pwt_nap_ms(int ms);
/* CPU time (user + system) this process has used, in milliseconds. */
long long pwt_cpu_ms(void);
/* Does the library use the backend called name? */
int pwt_backend_is(const char *name);
/* Does it give each handle a pollable descriptor (pidfd, kqueue)? */
int pwt_backend_has_fd(void);

/* The backend the suite was asked to run under (PROCWAIT_BACKEND), or NULL.
 * pwt_main() checks that the library really uses it, and exits 77 (skip)
 * with a message when the backend is not available here. */
const char *pwt_backend(void);
/* Run a suite the automake way: 0 all passed, 1 failures. On Windows the
 * suite runs with CK_NOFORK (there is no fork). */
int pwt_run(Suite *s);

/* ---- inline ---------------------------------------------------------------- */

static inline TCase *pwt_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

#ifdef HAVE_WIN32_BACKEND
	tcase_add_checked_fixture(tc, pwt_test_setup, pwt_test_teardown);
#endif
	return tc;
}

#endif
