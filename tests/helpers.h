/* SPDX-License-Identifier: MIT */
/* Shared helpers of the Check suites. */
#ifndef PWT_HELPERS_H
#define PWT_HELPERS_H

#include <check.h>
#include <sys/types.h>
#include <procwait/procwait.h>

/* fork(2) for test children, as the helpers below do it: in the child,
 * every caught signal is reset to its default (Check's runner handlers
 * would kill the whole process group) before any signal can be delivered.
 * Returns what fork(2) returns. */
pid_t pwt_fork(void);

/* Fork a child (plain fork(2), no procwait) that sleeps delay_ms, then
 * exits with code. Returns its pid. */
pid_t pwt_child_exit(int delay_ms, int code);
/* Fork a child that sleeps delay_ms, then kills itself with signo (with
 * core dumps allowed when core is set). */
pid_t pwt_child_signal(int delay_ms, int signo, int core);
/* Remove the core dump directory of a pwt_child_signal(..., 1) child. */
void pwt_core_cleanup(pid_t pid);
/* Fork a child that blocks until killed. */
pid_t pwt_child_sleep_forever(void);
/* Start a process that is NOT our child and lives delay_ms (then exits):
 * a grandchild whose parent has exited, so it is reparented to init or to
 * the nearest subreaper. Returns its pid. */
pid_t pwt_nonchild(int delay_ms);
/* Start a non-child that exits at once and stays a zombie (its parent, an
 * intermediate process, does not reap it) until pwt_release_zombie(). */
pid_t pwt_nonchild_zombie(pid_t *parent);
void pwt_release_zombie(pid_t parent);

/* read(2)/write(2) all n bytes, EINTR-safe: 0, or -1 on error or EOF. */
int pwt_read_full(int fd, void *buf, size_t n);
int pwt_write_full(int fd, const void *buf, size_t n);

/* Make the next pid of this pid namespace last + 1, through
 * /proc/sys/kernel/ns_last_pid (root): 0 or -errno. Other processes may
 * still take it first: callers retry. */
int pwt_set_last_pid(pid_t last);

/* Reap pid (blocking, EINTR-safe); returns the raw status or -1. */
int pwt_reap(pid_t pid);
/* Is pid a live or zombie process? */
int pwt_exists(pid_t pid);
/* Milliseconds of CLOCK_MONOTONIC. */
long long pwt_now_ms(void);
/* Sleep ms milliseconds, whatever signals arrive meanwhile. */
void pwt_nap_ms(int ms);
/* CPU time (user + system) this process has used, in milliseconds. */
long long pwt_cpu_ms(void);
/* Nothing of ours is left unreaped: no exit went astray. */
void pwt_assert_no_children(void);
/* Does the library use the backend called name? */
int pwt_backend_is(const char *name);
/* Does it give each handle a pollable descriptor (pidfd, kqueue)? */
int pwt_backend_has_fd(void);
/* Lower RLIMIT_NOFILE so that no descriptor can be opened: returns the
 * number of the lowest fd that would be next. */
void pwt_exhaust_fds(void);

/* The backend the suite was asked to run under (PROCWAIT_BACKEND), or NULL.
 * pwt_main() checks that the library really uses it, and exits 77 (skip)
 * with a message when the backend is not available here. */
const char *pwt_backend(void);
/* Run a suite the automake way: 0 all passed, 1 failures. */
int pwt_run(Suite *s);

#endif
