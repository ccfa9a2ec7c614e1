/* SPDX-License-Identifier: MIT */
/* The kqueue backend's own edge cases (DESIGN.md §9), against the Linux
 * emulation of tests/kqueue-emu: NOTE_EXIT before the child can be reaped,
 * ESRCH when a process has exited before it could be watched, two handles
 * on one pid in one set, the set's pollable descriptor, and nothing left
 * registered afterwards. Built and run only with that emulation
 * (tests/kqemu/check_kqueue, PROCWAIT_BACKEND=kqueue). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "helpers.h"
#include "kqemu.h"

/* Wait until pid is a zombie (exited, not reaped). */
static void wait_zombie(pid_t pid)
{
	siginfo_t si;
	int i;

	for (i = 0; i < 5000; i++) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == pid)
			return;
		pwt_nap_ms(1);
	}
	ck_abort_msg("child %d did not exit", (int)pid);
}

START_TEST(test_backend_is_kqueue)
{
	ck_assert_str_eq(procwait_backend_name(), "kqueue");
}
END_TEST

/* NOTE_EXIT fires while the child still runs (as it can before waitpid is
 * able to reap): the reap is retried a bounded number of times, then the
 * wait goes on; the exit that comes later is reported with its real
 * status, never one made up at the early NOTE_EXIT. */
START_TEST(test_early_note_exit)
{
	procwait_proc *p;
	procwait_status st;
	long long t0;
	pid_t pid = pwt_child_exit(300, 33);

	kqemu_early_exit(pid);
	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ETIMEDOUT);
	/* bounded: a few ms of retries, not a wait for the exit */
	ck_assert_int_lt(pwt_now_ms() - t0, 250);
	ck_assert_int_eq(procwait_proc_wait(p, 50, 0, &st), -ETIMEDOUT);
	ck_assert_int_eq(procwait_proc_wait(p, -1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 33);
	procwait_proc_close(p);
	pwt_assert_no_children();
}
END_TEST

/* The same in a wait set: the early readiness sends the member to the
 * backoff loop, which reports the real exit. */
START_TEST(test_early_note_exit_set)
{
	procwait_waitset *s;
	procwait_proc *p;
	procwait_event ev;
	pid_t pid = pwt_child_exit(300, 34);

	kqemu_early_exit(pid);
	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(procwait_waitset_new(0, &s), 0);
	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, &ev, 1, 100), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, &ev, 1, -1), 1);
	ck_assert_ptr_eq(ev.proc, p);
	ck_assert_int_eq(ev.error, 0);
	ck_assert_int_eq(ev.status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(ev.status.code, 34);
	procwait_waitset_free(s);
	procwait_proc_close(p);
}
END_TEST

/* A child that has exited before it is opened: kevent says ESRCH, yet the
 * handle works and the status is the real one. */
START_TEST(test_zombie_child_esrch)
{
	procwait_proc *p;
	procwait_waitset *s;
	procwait_event ev;
	procwait_status st;
	pid_t pid = pwt_child_exit(0, 5), pid2 = pwt_child_exit(0, 6);

	wait_zombie(pid);
	wait_zombie(pid2);
	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 5);
	procwait_proc_close(p);
	/* and in a set: reported at once */
	ck_assert_int_eq(procwait_proc_open(pid2, 0, &p), 0);
	ck_assert_int_eq(procwait_waitset_new(0, &s), 0);
	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, &ev, 1, 0), 1);
	ck_assert_int_eq(ev.status.code, 6);
	procwait_waitset_free(s);
	procwait_proc_close(p);
	/* single waits by pid take the same path */
	pid = pwt_child_exit(0, 7);
	wait_zombie(pid);
	ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), 0);
	ck_assert_int_eq(st.code, 7);
	pwt_assert_no_children();
}
END_TEST

/* A non-child that has exited (a zombie of somebody else): ESRCH from
 * kevent while kill(2) still finds it. It has exited, status unknown. */
START_TEST(test_zombie_nonchild_esrch)
{
	procwait_proc *p;
	procwait_status st;
	pid_t parent, pid = pwt_nonchild_zombie(&parent);

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 1000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_eq(st.pid, pid);
	/* its pid may be reused once it is released: no signal through it */
	ck_assert_int_eq(procwait_proc_signal(p, 0), -ESRCH);
	procwait_proc_close(p);
	pwt_release_zombie(parent);
}
END_TEST

/* Two handles on one pid in one set: kqueue knows a knote by ident and
 * filter, so registering the pid twice would lose one; both are reported. */
START_TEST(test_same_pid_twice_in_set)
{
	procwait_waitset *s;
	procwait_proc *a, *b;
	procwait_event ev[2];
	int n = 0;
	pid_t pid = pwt_nonchild(200);

	ck_assert_int_eq(procwait_proc_open(pid, 0, &a), 0);
	ck_assert_int_eq(procwait_proc_open(pid, 0, &b), 0);
	ck_assert_int_eq(procwait_waitset_new(0, &s), 0);
	ck_assert_int_eq(procwait_waitset_add(s, a, NULL), 0);
	ck_assert_int_eq(procwait_waitset_add(s, b, NULL), 0);
	while (n < 2) {
		int r = procwait_waitset_wait(s, ev + n, 2 - n, 5000);

		ck_assert_int_gt(r, 0);
		n += r;
	}
	ck_assert(ev[0].proc != ev[1].proc);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	procwait_waitset_free(s);
	procwait_proc_close(a);
	procwait_proc_close(b);
}
END_TEST

/* The set's descriptor is a kqueue that poll(2) sees turn readable when a
 * member exits, and each handle's descriptor too. */
START_TEST(test_set_fd_pollable)
{
	procwait_waitset *s;
	procwait_proc *p;
	procwait_event ev;
	struct pollfd pfd;
	pid_t pid = pwt_child_exit(100, 9);

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_ge(procwait_proc_fd(p), 0);
	ck_assert_int_eq(procwait_waitset_new(0, &s), 0);
	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);
	pfd.fd = procwait_waitset_fd(s);
	pfd.events = POLLIN;
	ck_assert_int_ge(pfd.fd, 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
	pfd.fd = procwait_proc_fd(p);
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(procwait_waitset_wait(s, &ev, 1, 0), 1);
	ck_assert_int_eq(ev.status.code, 9);
	procwait_waitset_free(s);
	procwait_proc_close(p);
}
END_TEST

/* Handles and sets closed: no registration is left behind. */
START_TEST(test_no_registration_left)
{
	procwait_waitset *s;
	procwait_proc *p[20];
	procwait_status st;
	int i;

	ck_assert_int_eq(kqemu_registrations(), 0);
	ck_assert_int_eq(procwait_waitset_new(0, &s), 0);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(procwait_proc_open(pwt_child_exit(i % 2 ? 0 : 5000, i), 0, &p[i]), 0);
		ck_assert_int_eq(procwait_waitset_add(s, p[i], NULL), 0);
	}
	ck_assert_int_ge(kqemu_registrations(), 10);
	procwait_waitset_free(s);
	for (i = 0; i < 20; i++) {
		if (i % 2 == 0)
			ck_assert_int_eq(procwait_proc_signal(p[i], SIGKILL), 0);
		ck_assert_int_eq(procwait_proc_wait(p[i], -1, 0, &st), 0);
		procwait_proc_close(p[i]);
	}
	ck_assert_int_eq(kqemu_registrations(), 0);
	pwt_assert_no_children();
}
END_TEST

static Suite *kqueue_suite(void)
{
	Suite *s = suite_create("kqueue");
	TCase *tc = tcase_create("kqueue");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_backend_is_kqueue);
	tcase_add_test(tc, test_early_note_exit);
	tcase_add_test(tc, test_early_note_exit_set);
	tcase_add_test(tc, test_zombie_child_esrch);
	tcase_add_test(tc, test_zombie_nonchild_esrch);
	tcase_add_test(tc, test_same_pid_twice_in_set);
	tcase_add_test(tc, test_set_fd_pollable);
	tcase_add_test(tc, test_no_registration_left);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pwt_run(kqueue_suite());
}
