/* SPDX-License-Identifier: MIT */
/*
 * Wait sets (waitset.h): many members, timeouts, membership rules and
 * argument checks, embedding the set's descriptor in a poll(2) loop, the
 * kinds of status a set reports, members reaped behind the set's back, and
 * members added once descriptors are exhausted.
 *
 * Every test runs under both backends (tests/run-backend.sh); where the
 * backends differ by contract (the pidfd of a member, the backoff timer)
 * the test asks procwait_backend_name().
 *
 * On Windows (HAVE_WIN32_BACKEND) the set is WaitForMultipleObjects over
 * the members' HANDLEs: up to 63 in the caller's thread, groups of 63 on
 * helper threads beyond that. Children are pwt-child.exe (procwait_spawn()
 * where POSIX uses procwait_fork()), a signal death is one sent through the
 * member's handle, a non-child reports its real exit code, and there is no
 * descriptor to embed. The POSIX mechanics (SIGALRM, SIGCHLD, fork, ptrace,
 * waitpid, rlimits) are not tested there.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_WIN32_BACKEND
#include <windows.h>
#else
#include <poll.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#endif

#include "helpers.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#ifdef HAVE_WIN32_BACKEND
/* Spawn pwt-child.exe with args (a NULL-terminated list after the mode);
 * the handle comes from procwait_spawn(), tracked for pwt_cleanup(). */
static procwait_proc *spawn_child(char **argv)
{
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p = NULL;
	int r;

	o.file = pwt_child_path();
	o.argv = argv;
	r = pwt_spawn(&o, &p);
	ck_assert_msg(r == 0, "procwait_spawn(%s): %s (Win32 error %lu)", pwt_child_path(),
	              procwait_strerror(r), (unsigned long)GetLastError());
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Spawn a child that sleeps delay_ms and exits with code; the caller gets
 * the handle (what procwait_fork() gives on POSIX). */
static procwait_proc *fork_exit(int delay_ms, int code)
{
	char d[16], c[16];
	char *argv[] = { (char *)"pwt-child", (char *)"exit", d, c, NULL };

	snprintf(d, sizeof(d), "%d", delay_ms);
	snprintf(c, sizeof(c), "%u", (unsigned)code);
	return spawn_child(argv);
}
#else
/* Fork through procwait: the child sleeps delay_ms and exits with code;
 * the parent gets the handle. */
static procwait_proc *fork_exit(int delay_ms, int code)
{
	procwait_proc *p = NULL;
	int r = procwait_fork(0, &p);

	ck_assert_msg(r >= 0, "procwait_fork: %s", procwait_strerror(r));
	if (r == 0) {
		if (delay_ms > 0)
			pwt_nap_ms(delay_ms);
		_exit(code);
	}
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(procwait_proc_pid(p), r);
	return p;
}
#endif

/* A handle on a pid, which must open. */
static procwait_proc *open_pid(pid_t pid)
{
	procwait_proc *p = NULL;
	int r = procwait_proc_open(pid, 0, &p);

	ck_assert_msg(r == 0, "procwait_proc_open(%d): %s", (int)pid, procwait_strerror(r));
	ck_assert_ptr_nonnull(p);
	return p;
}

static procwait_waitset *new_set(unsigned flags)
{
	procwait_waitset *s = NULL;
	int r = procwait_waitset_new(flags, &s);

	ck_assert_msg(r == 0, "procwait_waitset_new: %s", procwait_strerror(r));
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Block until the child pid has exited, without reaping it. */
#ifdef HAVE_WIN32_BACKEND
static void await_zombie(pid_t pid)
{
	ck_assert_msg(pwt_await_exit(pid, 30000) == 0, "child %d did not exit in 30 s", (int)pid);
}
#else
static void await_zombie(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_int_eq(si.si_pid, pid);
}
#endif

/* Wait for exactly one event within a generous deadline. */
static void wait_one(procwait_waitset *s, procwait_event *ev)
{
	int n = procwait_waitset_wait(s, ev, 1, 30000);

	ck_assert_msg(n == 1, "procwait_waitset_wait: %d (%s)", n,
	              n < 0 ? procwait_strerror(n) : "no event in 30 s");
}

static void assert_exited(const procwait_event *ev, procwait_proc *p, void *data,
                          int code)
{
	ck_assert_ptr_eq(ev->proc, p);
	ck_assert_ptr_eq(ev->data, data);
	ck_assert_int_eq(ev->error, 0);
	ck_assert_int_eq(ev->status.pid, procwait_proc_pid(p));
	ck_assert_int_eq(ev->status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(ev->status.code, code);
	ck_assert_int_eq(ev->status.signo, 0);
	ck_assert_int_eq(ev->status.core, 0);
}

/* The embedding tests' tally: each of a (code 51) and b (code 52) is
 * reported once, with its data (&got_a, &got_b), and the size follows. */
static void tally_ab(procwait_waitset *s, const procwait_event *ev, int n,
                     procwait_proc *a, int *got_a, procwait_proc *b, int *got_b)
{
	for (int i = 0; i < n; i++) {
		if (ev[i].proc == a) {
			assert_exited(&ev[i], a, got_a, 51);
			ck_assert_int_eq(*got_a, 0);
			*got_a = 1;
		} else {
			assert_exited(&ev[i], b, got_b, 52);
			ck_assert_int_eq(*got_b, 0);
			*got_b = 1;
		}
	}
	ck_assert_int_eq(procwait_waitset_size(s), 2 - *got_a - *got_b);
}

/* ---- 1. a thousand members -------------------------------------------- */

#ifndef HAVE_WIN32_BACKEND

#define MANY 1000

/* 1,000 children that exit after a random 0..500 ms, in one set, collected
 * in batches of 64: each reported exactly once with its own handle, data
 * pointer, pid and exit code; the size counts down to 0; an empty set then
 * answers -ECHILD and nothing is left unreaped. */
START_TEST(test_thousand_members)
{
	static procwait_proc *procs[MANY];
	static int tag[MANY], seen[MANY];
	procwait_event ev[64];
	procwait_waitset *s;
	struct rlimit rl;
	unsigned seed = 20240531u;
	long long t0;
	int i, got = 0;

	/* 1,000 pidfds + the epoll fd + the fork handshake pipes. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2100) {
		rl.rlim_cur = rl.rlim_max;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	ck_assert_msg(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= MANY + 64,
	              "RLIMIT_NOFILE hard limit %lu is too low for this test",
	              (unsigned long)rl.rlim_max);

	s = new_set(0);
	for (i = 0; i < MANY; i++) {
		int delay = (int)(rand_r(&seed) % 501u);

		tag[i] = i;
		procs[i] = fork_exit(delay, i % 256);
		ck_assert_int_eq(procwait_waitset_add(s, procs[i], &tag[i]), 0);
	}
	/* Some may have exited already; none is reported before a wait. */
	ck_assert_int_eq(procwait_waitset_size(s), MANY);

	t0 = pwt_now_ms();
	while (got < MANY) {
		int n = procwait_waitset_wait(s, ev, (int)NELEM(ev), 30000);

		ck_assert_msg(n > 0, "wait returned %d after %d of %d exits", n, got, MANY);
		ck_assert_int_le(n, (int)NELEM(ev));
		for (int k = 0; k < n; k++) {
			int *t = ev[k].data;
			int idx;

			ck_assert_ptr_nonnull(t);
			ck_assert_msg(t >= &tag[0] && t < &tag[MANY], "foreign data pointer");
			idx = *t;
			ck_assert_int_eq(idx, (int)(t - tag));
			ck_assert_msg(!seen[idx], "child %d reported twice", idx);
			seen[idx] = 1;
			assert_exited(&ev[k], procs[idx], &tag[idx], idx % 256);
		}
		got += n;
		ck_assert_int_eq(procwait_waitset_size(s), MANY - got);
		ck_assert_msg(pwt_now_ms() - t0 < 100000, "too slow: %d of %d after 100 s",
		              got, MANY);
	}
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, (int)NELEM(ev), 0), -ECHILD);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, (int)NELEM(ev), -1), -ECHILD);
	pwt_assert_no_children();
	/* The handles are the caller's: reaped, so their waits say -ECHILD. */
	for (i = 0; i < MANY; i++) {
		procwait_status st;

		ck_assert_int_eq(procwait_proc_wait(procs[i], 0, 0, &st), -ECHILD);
		procwait_proc_close(procs[i]);
	}
	procwait_waitset_free(s);
}
END_TEST
#endif

/* ---- 1b. two hundred members, some removed and added again ------------ */

#define N200 200
#define NVICTIMS 10

/* A distinct exit code per member. Windows gives the whole 32-bit code
 * back, so there it is beyond a byte. */
static int code_of(int i)
{
#ifdef HAVE_WIN32_BACKEND
	return 1000 + 7 * i;
#else
	return i % 256;
#endif
}

/* Children held at a gate until all are in the set: then each sleeps its
 * own delay, so that they exit in the order of the delays, not of their
 * start-up (which under Wine takes seconds for 200). */
struct gate {
#ifdef HAVE_WIN32_BACKEND
	HANDLE ev;
	char name[64];
#else
	int fd[2];
#endif
};

static void gate_init(struct gate *g)
{
#ifdef HAVE_WIN32_BACKEND
	static int serial;

	snprintf(g->name, sizeof(g->name), "pwt-gate-%lu-%d", (unsigned long)GetCurrentProcessId(),
	         ++serial);
	g->ev = CreateEventA(NULL, TRUE, FALSE, g->name);
	ck_assert_ptr_nonnull(g->ev);
#else
	ck_assert_int_eq(pipe(g->fd), 0);
#endif
}

static procwait_proc *gated_child(struct gate *g, int delay_ms, int code)
{
#ifdef HAVE_WIN32_BACKEND
	char d[16], c[16];
	char *argv[] = { (char *)"pwt-child", (char *)"gate", g->name, d, c, NULL };

	snprintf(d, sizeof(d), "%d", delay_ms);
	snprintf(c, sizeof(c), "%u", (unsigned)code);
	return spawn_child(argv);
#else
	procwait_proc *p = NULL;
	int r = procwait_fork(0, &p);

	ck_assert_msg(r >= 0, "procwait_fork: %s", procwait_strerror(r));
	if (r == 0) {
		char b;

		close(g->fd[1]);
		/* EOF once the parent opens the gate (or dies) */
		while (read(g->fd[0], &b, 1) < 0 && errno == EINTR)
			;
		if (delay_ms > 0)
			pwt_nap_ms(delay_ms);
		_exit(code);
	}
	return p;
#endif
}

static void gate_open(struct gate *g)
{
#ifdef HAVE_WIN32_BACKEND
	ck_assert(SetEvent(g->ev));
#else
	close(g->fd[1]);
	g->fd[1] = -1;
#endif
}

static void gate_free(struct gate *g)
{
#ifdef HAVE_WIN32_BACKEND
	CloseHandle(g->ev);
#else
	close(g->fd[0]);
	if (g->fd[1] >= 0)
		close(g->fd[1]);
#endif
}

/* A small deterministic generator (rand_r() is not everywhere). */
static unsigned next_rand(unsigned *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

/* 200 children in one set (on Windows far beyond the 64 HANDLEs of one
 * WaitForMultipleObjects: 63 are waited inline, the rest by helper
 * threads), exiting in random order after delays of 0..1500 ms, each with
 * its own exit code. Ten members (five among the first 63 added, five
 * among the later ones) are removed before any child may exit and added
 * again once half of the others have been reported: nothing is reported
 * for them while they are out, everything after. Each member is reported
 * exactly once, with its own handle, data, pid and code, in batches of
 * varying size; the size counts down to 0; then -ECHILD. */
START_TEST(test_200_members)
{
	static procwait_proc *procs[N200];
	static int tag[N200], seen[N200], delay[N200], victim[N200];
	static const int victims[NVICTIMS] = { 3, 17, 30, 44, 58, 70, 99, 130, 160, 190 };
	static const int batch[] = { 64, 1, 7, 200, 2, 33 };
	procwait_event ev[N200];
	procwait_waitset *s;
	struct gate g;
	unsigned seed = 20240601u;
	long long t0;
	int i, got = 0, got_others = 0, out = 0, round = 0, late = 0;

	memset(seen, 0, sizeof(seen));
	memset(victim, 0, sizeof(victim));
	/* delays 0..1500 ms, shuffled */
	for (i = 0; i < N200; i++)
		delay[i] = i * 1500 / (N200 - 1);
	for (i = N200 - 1; i > 0; i--) {
		int j = (int)(next_rand(&seed) % (unsigned)(i + 1)), t = delay[i];

		delay[i] = delay[j];
		delay[j] = t;
	}
	/* Half the victims exit while out of the set, half after they are
	 * back (the others are half done at about 750 ms). */
	for (i = 0; i < NVICTIMS; i++) {
		victim[victims[i]] = 1;
		delay[victims[i]] = i % 2 ? 1300 + 20 * i : 150 + 20 * i;
	}

	gate_init(&g);
	s = new_set(0);
	for (i = 0; i < N200; i++) {
		tag[i] = i;
		procs[i] = gated_child(&g, delay[i], code_of(i));
		ck_assert_int_eq(procwait_waitset_add(s, procs[i], &tag[i]), 0);
	}
	ck_assert_int_eq(procwait_waitset_size(s), N200);
	/* Out before anything can exit: the gate is still shut. */
	for (i = 0; i < NVICTIMS; i++) {
		ck_assert_int_eq(procwait_waitset_remove(s, procs[victims[i]]), 0);
		ck_assert_int_eq(procwait_waitset_remove(s, procs[victims[i]]), -ENOENT);
		out++;
	}
	ck_assert_int_eq(procwait_waitset_size(s), N200 - NVICTIMS);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, N200, 0), 0);
	gate_open(&g);

	t0 = pwt_now_ms();
	while (got < N200) {
		int max = batch[round++ % (int)NELEM(batch)];
		int n = procwait_waitset_wait(s, ev, max, 30000);

		ck_assert_msg(n > 0, "wait returned %d after %d of %d exits", n, got, N200);
		ck_assert_int_le(n, max);
		for (int k = 0; k < n; k++) {
			int *t = ev[k].data;
			int idx;

			ck_assert_msg(t >= &tag[0] && t < &tag[N200], "foreign data pointer");
			idx = (int)(t - tag);
			ck_assert_int_eq(*t, idx);
			ck_assert_msg(!seen[idx], "member %d reported twice", idx);
			ck_assert_msg(!(victim[idx] && out), "member %d reported while removed", idx);
			seen[idx] = 1;
			assert_exited(&ev[k], procs[idx], &tag[idx], code_of(idx));
			if (!victim[idx])
				got_others++;
		}
		got += n;
		ck_assert_int_eq(procwait_waitset_size(s), N200 - out - got);
		if (out && got_others >= (N200 - NVICTIMS) / 2) {
			/* Back in: those that exited meanwhile were not reaped
			 * behind the set's back, and are reported now. */
			for (i = 0; i < NVICTIMS; i++) {
				procwait_status st;

				if (procwait_proc_wait(procs[victims[i]], 0, PROCWAIT_WAIT_NOREAP, &st) == 0)
					late++;
				ck_assert_int_eq(procwait_waitset_add(s, procs[victims[i]],
				                                      &tag[victims[i]]), 0);
			}
			out = 0;
			ck_assert_int_eq(procwait_waitset_size(s), N200 - got);
		}
		ck_assert_msg(pwt_now_ms() - t0 < 60000, "too slow: %d of %d after 60 s", got, N200);
	}
	for (i = 0; i < N200; i++)
		ck_assert(seen[i]);
	/* (not a requirement, a check that the test does what it says) */
	ck_assert_msg(late > 0, "no removed member had exited before it was added again");
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, N200, 0), -ECHILD);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, N200, -1), -ECHILD);
	pwt_assert_no_children();
	for (i = 0; i < N200; i++) {
		procwait_status st;

		ck_assert_int_eq(procwait_proc_wait(procs[i], 0, 0, &st), -ECHILD);
		procwait_proc_close(procs[i]);
	}
	procwait_waitset_free(s);
	gate_free(&g);
}
END_TEST

/* ---- 2. timeouts -------------------------------------------------------- */

/* A running member: timeout 0 answers 0 at once, 150 ms answers 0 after at
 * least ~150 ms; once killed, the set reports SIGNALED SIGKILL. */
START_TEST(test_timeout_then_kill)
{
	procwait_waitset *s = new_set(0);
	pid_t pid = pwt_child_sleep_forever();
	procwait_proc *p = open_pid(pid);
	procwait_event ev[4];
	long long t0, dt;
	int tag = 0;

	ck_assert_int_eq(procwait_waitset_add(s, p, &tag), 0);

	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 0), 0);
	dt = pwt_now_ms() - t0;
	ck_assert_msg(dt < 2000, "timeout 0 blocked for %lld ms", dt);

	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 150), 0);
	dt = pwt_now_ms() - t0;
	ck_assert_msg(dt >= 145, "a 150 ms wait returned after %lld ms", dt);
	ck_assert_int_eq(procwait_waitset_size(s), 1);

	ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 30000), 1);
	ck_assert_ptr_eq(ev[0].proc, p);
	ck_assert_ptr_eq(ev[0].data, &tag);
	ck_assert_int_eq(ev[0].error, 0);
	ck_assert_int_eq(ev[0].status.pid, pid);
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(ev[0].status.signo, SIGKILL);
	ck_assert_int_eq(ev[0].status.code, 0);
	ck_assert_int_eq(ev[0].status.core, 0);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 0), -ECHILD);
	pwt_assert_no_children();
	procwait_proc_close(p);
	procwait_waitset_free(s);
}
END_TEST

/* A forever wait (-1) and an INT_MAX wait both return the exit (the huge
 * deadline does not overflow into "already passed" or "never"). */
START_TEST(test_timeout_forever_and_huge)
{
	procwait_waitset *s = new_set(0);
	procwait_proc *a = fork_exit(100, 3);
	procwait_proc *b = fork_exit(100, 4);
	procwait_event ev[2];
	long long t0;

	ck_assert_int_eq(procwait_waitset_add(s, a, NULL), 0);
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, -1), 1);
	assert_exited(&ev[0], a, NULL, 3);
	ck_assert_int_ge(pwt_now_ms() - t0, 50);

	ck_assert_int_eq(procwait_waitset_add(s, b, &s), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 0x7fffffff), 1);
	assert_exited(&ev[0], b, &s, 4);
	pwt_assert_no_children();
	procwait_proc_close(a);
	procwait_proc_close(b);
	procwait_waitset_free(s);
}
END_TEST

/* A member that has already exited is reported by a wait with a short
 * positive timeout, as it is by timeout 0: a longer timeout never checks
 * less. Under the fallback the set first backs off to its 40 ms cap (a
 * dozen checks of a running member), then the member dies and a 10 ms wait
 * must still see it, although the next backoff check is due later. */
START_TEST(test_short_timeout_sees_exit)
{
	procwait_waitset *s = new_set(0);
	pid_t pid = pwt_child_sleep_forever();
	procwait_proc *p = open_pid(pid);
	procwait_event ev[2];
	int r;

	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);
	for (int i = 0; i < 12; i++)
		ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 0), 0);
	ck_assert_int_eq(pwt_kill(pid), 0);
	await_zombie(pid);
	/* It has exited before the call: reported at once. */
	r = procwait_waitset_wait(s, ev, 2, 10);
	ck_assert_msg(r == 1, "a 10 ms wait on an exited member returned %d", r);
	ck_assert_ptr_eq(ev[0].proc, p);
#ifdef HAVE_WIN32_BACKEND
	/* killed from outside its handle: an exit code (128 + 9) */
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(ev[0].status.code, 128 + SIGKILL);
#else
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(ev[0].status.signo, SIGKILL);
#endif
	procwait_proc_close(p);
	procwait_waitset_free(s);
	pwt_assert_no_children();
}
END_TEST

#ifndef HAVE_WIN32_BACKEND
static volatile sig_atomic_t alarms;

static void on_alarm(int signo)
{
	(void)signo;
	alarms++;
}

/* A signal handler running in the waiting thread (SIGALRM every 10 ms, no
 * SA_RESTART) neither ends a timed wait early nor turns into an error, and
 * a forever wait still returns the exit. */
START_TEST(test_wait_survives_signals)
{
	procwait_waitset *s = new_set(0);
	pid_t pid = pwt_child_sleep_forever();
	procwait_proc *a = open_pid(pid), *b;
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	struct sigaction sa;
	procwait_event ev[2];
	long long t0, dt;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(procwait_waitset_add(s, a, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);

	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 300), 0);
	dt = pwt_now_ms() - t0;
	ck_assert_msg(dt >= 295, "a 300 ms wait returned after %lld ms", dt);

	b = fork_exit(200, 9);
	ck_assert_int_eq(procwait_waitset_add(s, b, &t0), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, -1), 1);
	assert_exited(&ev[0], b, &t0, 9);
	memset(&it, 0, sizeof(it));
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	signal(SIGALRM, SIG_DFL);
	ck_assert_int_ge(alarms, 10);

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	wait_one(s, ev);
	ck_assert_ptr_eq(ev[0].proc, a);
	ck_assert_int_eq(ev[0].status.signo, SIGKILL);
	procwait_proc_close(a);
	procwait_proc_close(b);
	procwait_waitset_free(s);
	pwt_assert_no_children();
}
END_TEST
#endif

/* ---- 3. membership and argument checks --------------------------------- */

/* remove: the size drops, a second remove is -ENOENT, so is removing from a
 * set the handle is not in; the removed handle is no longer reported and
 * can be added again. */
START_TEST(test_add_remove)
{
	procwait_waitset *s = new_set(0), *s2 = new_set(0);
	procwait_proc *a = fork_exit(0, 11), *b = fork_exit(0, 12);
	procwait_event ev[4];
	procwait_status st;

	ck_assert_int_eq(procwait_waitset_size(s), 0);
	ck_assert_int_eq(procwait_waitset_add(s, a, NULL), 0);
	ck_assert_int_eq(procwait_waitset_add(s, b, NULL), 0);
	ck_assert_int_eq(procwait_waitset_size(s), 2);

	ck_assert_int_eq(procwait_waitset_remove(s, a), 0);
	ck_assert_int_eq(procwait_waitset_size(s), 1);
	ck_assert_int_eq(procwait_waitset_remove(s, a), -ENOENT);
	ck_assert_int_eq(procwait_waitset_remove(s2, a), -ENOENT);
	ck_assert_int_eq(procwait_waitset_remove(s2, b), -ENOENT);
	ck_assert_int_eq(procwait_waitset_size(s), 1);

	/* Both have exited; only b is still a member. */
	await_zombie(procwait_proc_pid(a));
	await_zombie(procwait_proc_pid(b));
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 30000), 1);
	assert_exited(&ev[0], b, NULL, 12);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 0), -ECHILD);
	ck_assert_int_eq(procwait_waitset_remove(s, b), -ENOENT);

	/* The removed handle was neither reaped nor closed: add it again. */
	ck_assert_int_eq(procwait_waitset_add(s2, a, &st), 0);
	ck_assert_int_eq(procwait_waitset_size(s2), 1);
	ck_assert_int_eq(procwait_waitset_wait(s2, ev, 4, 30000), 1);
	assert_exited(&ev[0], a, &st, 11);
	ck_assert_int_eq(procwait_waitset_size(s2), 0);

	/* A handle whose child was reaped cannot join: -ECHILD. */
	ck_assert_int_eq(procwait_waitset_add(s, a, NULL), -ECHILD);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	pwt_assert_no_children();
	procwait_proc_close(a);
	procwait_proc_close(b);
	procwait_waitset_free(s);
	procwait_waitset_free(s2);
}
END_TEST

/* A handle is in at most one set: adding it twice to the same set, or to a
 * second set, is -EEXIST and changes nothing. */
START_TEST(test_add_twice)
{
	procwait_waitset *s = new_set(0), *s2 = new_set(0);
	procwait_proc *a = fork_exit(0, 21);
	procwait_event ev[2];
	int t1, t2;

	ck_assert_int_eq(procwait_waitset_add(s, a, &t1), 0);
	ck_assert_int_eq(procwait_waitset_add(s, a, &t2), -EEXIST);
	ck_assert_int_eq(procwait_waitset_add(s2, a, &t2), -EEXIST);
	ck_assert_int_eq(procwait_waitset_size(s), 1);
	ck_assert_int_eq(procwait_waitset_size(s2), 0);
	ck_assert_int_eq(procwait_waitset_wait(s2, ev, 2, 0), -ECHILD);

	/* Reported once, with the data of the successful add. */
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 30000), 1);
	assert_exited(&ev[0], a, &t1, 21);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 0), -ECHILD);
	procwait_proc_close(a);
	procwait_waitset_free(s);
	procwait_waitset_free(s2);
}
END_TEST

/* Every bad argument is -EINVAL (never a crash), checked before anything
 * else; procwait_waitset_free(NULL) does nothing. */
START_TEST(test_einval)
{
	procwait_waitset *s = NULL;
	procwait_proc *p;
	procwait_event ev[2];
	pid_t pid = pwt_child_sleep_forever();

	ck_assert_int_eq(procwait_waitset_new(0, NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_new(PROCWAIT_WAIT_NOREAP, NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_new(0x100, &s), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(procwait_waitset_new(0x2, &s), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(procwait_waitset_new(~0u, &s), -EINVAL);
	ck_assert_ptr_null(s);

	s = new_set(0);
	p = open_pid(pid);
	ck_assert_int_eq(procwait_waitset_add(NULL, p, NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_add(s, NULL, NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_add(NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);

	ck_assert_int_eq(procwait_waitset_remove(NULL, p), -EINVAL);
	ck_assert_int_eq(procwait_waitset_remove(s, NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_remove(NULL, NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_size(s), 1);

	ck_assert_int_eq(procwait_waitset_wait(NULL, ev, 1, 0), -EINVAL);
	ck_assert_int_eq(procwait_waitset_wait(s, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 0, 0), -EINVAL);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, -1, 0), -EINVAL);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, -2147483647 - 1, 0), -EINVAL);
	/* Bad arguments with a forever timeout must not block. */
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 0, -1), -EINVAL);
	ck_assert_int_eq(procwait_waitset_wait(s, NULL, 1, -1), -EINVAL);

	ck_assert_int_eq(procwait_waitset_fd(NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_timeout(NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_size(NULL), -EINVAL);
	ck_assert_int_eq(procwait_waitset_size(s), 1);
#ifdef HAVE_WIN32_BACKEND
	/* No descriptor on Windows (procwait_proc_handle() is what to wait
	 * on in a loop of one's own); nothing polled either. */
	ck_assert_int_eq(procwait_waitset_fd(s), -ENOTSUP);
	ck_assert_int_eq(procwait_waitset_timeout(s), -1);
#endif

	procwait_waitset_free(NULL);

	/* The member is unharmed: still running, then reported. */
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 0), 0);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
#else
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
#endif
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 30000), 1);
	ck_assert_ptr_eq(ev[0].proc, p);
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(ev[0].status.signo, SIGKILL);
	procwait_proc_close(p);
	procwait_waitset_free(s);
	pwt_assert_no_children();
}
END_TEST

/* procwait_proc_close() on a member removes it (the size drops), neither
 * reaps nor crashes; the set goes on with its other members. Freeing a set
 * leaves its members' handles open and free to join another set. */
START_TEST(test_close_member_and_free_set)
{
	procwait_waitset *s = new_set(0), *s2;
	pid_t pa = pwt_child_exit(0, 31), pb = pwt_child_exit(0, 32);
	procwait_proc *a = open_pid(pa), *b = open_pid(pb);
	procwait_proc *c = fork_exit(50, 33), *d = fork_exit(50, 34);
	procwait_event ev[4];
	int st, got_c = 0, got_d = 0;

	ck_assert_int_eq(procwait_waitset_add(s, a, NULL), 0);
	ck_assert_int_eq(procwait_waitset_add(s, b, NULL), 0);
	ck_assert_int_eq(procwait_waitset_size(s), 2);
	procwait_proc_close(a);
	ck_assert_int_eq(procwait_waitset_size(s), 1);

	/* Only b is reported; a's child is still ours to reap. */
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 30000), 1);
	assert_exited(&ev[0], b, NULL, 32);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 0), -ECHILD);
	st = pwt_reap(pa);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(st, 31);
#else
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 31);
#endif
	procwait_proc_close(b);

	/* Free a set that still has members. */
	ck_assert_int_eq(procwait_waitset_add(s, c, &got_c), 0);
	ck_assert_int_eq(procwait_waitset_add(s, d, &got_d), 0);
	procwait_waitset_free(s);
	s2 = new_set(0);
	ck_assert_int_eq(procwait_waitset_add(s2, c, &got_c), 0);
	ck_assert_int_eq(procwait_waitset_add(s2, d, &got_d), 0);
	while (procwait_waitset_size(s2) > 0) {
		int n = procwait_waitset_wait(s2, ev, 4, 30000);

		ck_assert_int_gt(n, 0);
		for (int k = 0; k < n; k++) {
			if (ev[k].proc == c) {
				assert_exited(&ev[k], c, &got_c, 33);
				got_c++;
			} else {
				assert_exited(&ev[k], d, &got_d, 34);
				got_d++;
			}
		}
	}
	ck_assert_int_eq(got_c, 1);
	ck_assert_int_eq(got_d, 1);
	procwait_proc_close(c);
	procwait_proc_close(d);
	procwait_waitset_free(s2);
	pwt_assert_no_children();
}
END_TEST

/* Batches: with five exited members, max_events bounds every answer (3,
 * then 1, then 1), each member is reported once, then -ECHILD. */
START_TEST(test_batches)
{
	procwait_waitset *s = new_set(0);
	procwait_proc *p[5];
	procwait_event ev[8];
	int seen[5] = { 0 }, i, n;

	for (i = 0; i < 5; i++) {
		p[i] = fork_exit(0, 40 + i);
		ck_assert_int_eq(procwait_waitset_add(s, p[i], &seen[i]), 0);
	}
	for (i = 0; i < 5; i++)
		await_zombie(procwait_proc_pid(p[i]));
	/* Under the fallback the members are checked at the first wait. */
	n = procwait_waitset_wait(s, ev, 3, 30000);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(procwait_waitset_size(s), 2);
	for (int round = 0; round < 2; round++) {
		ck_assert_int_eq(procwait_waitset_wait(s, ev + n, 1, 30000), 1);
		n++;
		ck_assert_int_eq(procwait_waitset_size(s), 5 - n);
	}
	for (i = 0; i < 5; i++) {
		int idx = (int)((int *)ev[i].data - seen);

		ck_assert_int_ge(idx, 0);
		ck_assert_int_lt(idx, 5);
		ck_assert_int_eq(seen[idx], 0);
		seen[idx] = 1;
		assert_exited(&ev[i], p[idx], &seen[idx], 40 + idx);
	}
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 8, 0), -ECHILD);
	for (i = 0; i < 5; i++)
		procwait_proc_close(p[i]);
	procwait_waitset_free(s);
	pwt_assert_no_children();
}
END_TEST

/* ---- 4. the pollable descriptor ----------------------------------------- */

#ifdef HAVE_WIN32_BACKEND
/* Embedding on Windows: a set has no descriptor, but each member's HANDLE
 * (procwait_proc_handle()) goes into the caller's own
 * WaitForMultipleObjects; when one is signalled, a wait with timeout 0
 * reports it. Two members exit at ~300 and ~600 ms: both are seen. */
START_TEST(test_event_loop_embedding)
{
	procwait_waitset *s = new_set(0);
	procwait_proc *a = fork_exit(300, 51), *b = fork_exit(600, 52);
	int got_a = 0, got_b = 0;
	procwait_event ev[8];
	long long t0 = pwt_now_ms();

	ck_assert_int_eq(procwait_waitset_fd(s), -ENOTSUP);
	ck_assert_int_eq(procwait_waitset_add(s, a, &got_a), 0);
	ck_assert_int_eq(procwait_waitset_add(s, b, &got_b), 0);
	ck_assert_int_eq(procwait_proc_fd(a), -ENOTSUP);
	ck_assert_int_eq(procwait_waitset_timeout(s), -1);
	while (!(got_a && got_b)) {
		HANDLE hs[2];
		DWORD k = 0, r;
		int n;

		if (!got_a)
			hs[k++] = procwait_proc_handle(a);
		if (!got_b)
			hs[k++] = procwait_proc_handle(b);
		r = WaitForMultipleObjects(k, hs, FALSE, 10000);
		ck_assert_msg(r < WAIT_OBJECT_0 + k, "WaitForMultipleObjects: %lu", (unsigned long)r);
		n = procwait_waitset_wait(s, ev, 8, 0);
		ck_assert_msg(n > 0, "a HANDLE was signalled but no exit was reported");
		tally_ab(s, ev, n, a, &got_a, b, &got_b);
		ck_assert_msg(pwt_now_ms() - t0 < 10000,
		              "exits not seen within 10 s (a %d, b %d)", got_a, got_b);
	}
	ck_assert_int_ge(pwt_now_ms() - t0, 500);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 8, 0), -ECHILD);
	procwait_proc_close(a);
	procwait_proc_close(b);
	procwait_waitset_free(s);
	pwt_assert_no_children();
}
END_TEST
#else
/* Embedding in a foreign poll(2) loop, the way waitset.h prescribes: poll
 * the set's fd for POLLIN with procwait_waitset_timeout() as the timeout,
 * then wait with timeout 0. Works under both backends: with pidfds the fd
 * itself becomes readable (and the timeout is -1: nothing to poll), under
 * the fallback the timer drives the checks. Two members exit at ~300 and
 * ~600 ms; both are seen, within 10 s at most (in practice at once). */
START_TEST(test_event_loop_embedding)
{
	procwait_waitset *s = new_set(0);
	procwait_proc *a = fork_exit(300, 51), *b = fork_exit(600, 52);
	int pidfd = pwt_backend_has_fd();   /* pidfd or kqueue */
	int fd = procwait_waitset_fd(s);
	int got_a = 0, got_b = 0, readable = 0;
	procwait_event ev[8];
	long long t0 = pwt_now_ms();

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(procwait_waitset_add(s, a, &got_a), 0);
	ck_assert_int_eq(procwait_waitset_add(s, b, &got_b), 0);
	if (pidfd) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		ck_assert_int_ge(procwait_proc_fd(a), 0);
		ck_assert_int_ge(procwait_proc_fd(b), 0);
		ck_assert_int_eq(procwait_waitset_timeout(s), -1);
		/* Both still run (they sleep >= 300 ms): not readable. */
		ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	} else {
		ck_assert_int_eq(procwait_proc_fd(a), -ENOTSUP);
		ck_assert_int_ge(procwait_waitset_timeout(s), 0);
	}

	while (!(got_a && got_b)) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int t = procwait_waitset_timeout(s), r, n;

		if (pidfd)
			ck_assert_int_eq(t, -1);
		else
			ck_assert_int_ge(t, 0);
		/* Exactly what waitset.h asks of an event loop: sleep until
		 * the fd is readable or the timeout (-1: none) passes. If the
		 * fd never became readable under pidfd, this would hang and
		 * the tcase timeout would fail the test. */
		r = poll(&pfd, 1, t);
		ck_assert_int_ge(r, 0);
		if (r > 0) {
			ck_assert(pfd.revents & POLLIN);
			readable++;
		} else if (pidfd) {
			ck_abort_msg("poll with timeout -1 returned 0");
		}
		n = procwait_waitset_wait(s, ev, 8, 0);
		ck_assert_int_ge(n, 0);
		if (pidfd && r > 0)
			ck_assert_msg(n > 0, "the fd was readable but no exit was reported");
		tally_ab(s, ev, n, a, &got_a, b, &got_b);
		ck_assert_msg(pwt_now_ms() - t0 < 10000,
		              "exits not seen within 10 s (a %d, b %d)", got_a, got_b);
	}
	ck_assert_int_ge(pwt_now_ms() - t0, 500);
	if (pidfd)
		ck_assert_int_ge(readable, 1);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 8, 0), -ECHILD);
	procwait_proc_close(a);
	procwait_proc_close(b);
	procwait_waitset_free(s);
	pwt_assert_no_children();
}
END_TEST
#endif

/* ---- 5. kinds of status -------------------------------------------------- */

/* A non-child member is reported as exited with PROCWAIT_STATUS_UNKNOWN
 * (never a made-up exit 0), error 0. Windows knows a non-child's exit
 * code: EXITED with it. */
START_TEST(test_nonchild_unknown)
{
	procwait_waitset *s = new_set(0);
	pid_t pid = pwt_nonchild(500);
	procwait_proc *p = open_pid(pid);
	procwait_event ev[2];
	int tag;

	ck_assert_int_eq(procwait_waitset_add(s, p, &tag), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 0), 0);
	wait_one(s, ev);
	ck_assert_ptr_eq(ev[0].proc, p);
	ck_assert_ptr_eq(ev[0].data, &tag);
	ck_assert_int_eq(ev[0].error, 0);
	ck_assert_int_eq(ev[0].status.pid, pid);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(ev[0].status.code, PWT_NONCHILD_CODE);
#else
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_eq(ev[0].status.code, 0);
#endif
	ck_assert_int_eq(ev[0].status.signo, 0);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	procwait_proc_close(p);
	procwait_waitset_free(s);
}
END_TEST

/* A non-child that is already a zombie (its parent does not reap it) is
 * reported at once, as UNKNOWN. */
START_TEST(test_nonchild_zombie_unknown)
{
	procwait_waitset *s = new_set(0);
	pid_t parent;
	pid_t pid = pwt_nonchild_zombie(&parent);
	procwait_proc *p = open_pid(pid);
	procwait_event ev[2];

	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);
	wait_one(s, ev);
	ck_assert_ptr_eq(ev[0].proc, p);
	ck_assert_int_eq(ev[0].error, 0);
	ck_assert_int_eq(ev[0].status.pid, pid);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(ev[0].status.code, PWT_NONCHILD_CODE);
#else
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_UNKNOWN);
#endif
	procwait_proc_close(p);
	procwait_waitset_free(s);
	pwt_release_zombie(parent);
}
END_TEST

/* A signal death is SIGNALED with its signal number, exit code 0. */
START_TEST(test_signaled)
{
	procwait_waitset *s = new_set(0);
#ifdef HAVE_WIN32_BACKEND
	/* a signal is one sent through the handle, here while in the set */
	pid_t pid = pwt_child_sleep_forever();
	procwait_proc *p = open_pid(pid);
#else
	pid_t pid = pwt_child_signal(50, SIGTERM, 0);
	procwait_proc *p = open_pid(pid);
#endif
	procwait_event ev[2];

	ck_assert_int_eq(procwait_waitset_add(s, p, &s), 0);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 50), 0);
	ck_assert_int_eq(procwait_proc_signal(p, SIGTERM), 0);
#endif
	wait_one(s, ev);
	ck_assert_ptr_eq(ev[0].proc, p);
	ck_assert_ptr_eq(ev[0].data, &s);
	ck_assert_int_eq(ev[0].error, 0);
	ck_assert_int_eq(ev[0].status.pid, pid);
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(ev[0].status.signo, SIGTERM);
	ck_assert_int_eq(ev[0].status.code, 0);
	ck_assert_int_eq(ev[0].status.core, 0);
	ck_assert_int_eq(procwait_status_shell(&ev[0].status), 128 + SIGTERM);
	pwt_assert_no_children();
	procwait_proc_close(p);
	procwait_waitset_free(s);
}
END_TEST

/* Children, a signal death and a non-child mixed in one set: each gets its
 * own kind of status. */
START_TEST(test_mixed_kinds)
{
	procwait_waitset *s = new_set(0);
#ifdef HAVE_WIN32_BACKEND
	/* SIGTERM through the handle: Windows has no SIGUSR1 */
	const int sig = SIGTERM;
	pid_t pe = pwt_child_exit(30, 77), ps = pwt_child_sleep_forever();
#else
	const int sig = SIGUSR1;
	pid_t pe = pwt_child_exit(30, 77), ps = pwt_child_signal(60, SIGUSR1, 0);
#endif
	pid_t pn = pwt_nonchild(90);
	procwait_proc *e = open_pid(pe), *sg = open_pid(ps), *nc = open_pid(pn);
	int done = 0;

	ck_assert_int_eq(procwait_waitset_add(s, e, NULL), 0);
	ck_assert_int_eq(procwait_waitset_add(s, sg, NULL), 0);
	ck_assert_int_eq(procwait_waitset_add(s, nc, NULL), 0);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(procwait_proc_signal(sg, sig), 0);
#endif
	while (done < 3) {
		procwait_event ev[3];
		int n = procwait_waitset_wait(s, ev, 3, 30000);

		ck_assert_int_gt(n, 0);
		for (int k = 0; k < n; k++, done++) {
			ck_assert_int_eq(ev[k].error, 0);
			ck_assert_int_eq(ev[k].status.pid, procwait_proc_pid(ev[k].proc));
			if (ev[k].proc == e) {
				assert_exited(&ev[k], e, NULL, 77);
			} else if (ev[k].proc == sg) {
				ck_assert_int_eq(ev[k].status.kind, PROCWAIT_STATUS_SIGNALED);
				ck_assert_int_eq(ev[k].status.signo, sig);
			} else {
				ck_assert_ptr_eq(ev[k].proc, nc);
#ifdef HAVE_WIN32_BACKEND
				assert_exited(&ev[k], nc, NULL, PWT_NONCHILD_CODE);
#else
				ck_assert_int_eq(ev[k].status.kind, PROCWAIT_STATUS_UNKNOWN);
#endif
			}
		}
	}
	ck_assert_int_eq(done, 3);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	pwt_assert_no_children();
	procwait_proc_close(e);
	procwait_proc_close(sg);
	procwait_proc_close(nc);
	procwait_waitset_free(s);
}
END_TEST

/* A set made with PROCWAIT_WAIT_NOREAP reports the exact status and leaves
 * the zombie: waitpid() afterwards gets the same status. */
START_TEST(test_noreap_set)
{
	procwait_waitset *s = new_set(PROCWAIT_WAIT_NOREAP);
#ifdef HAVE_WIN32_BACKEND
	pid_t pid = pwt_child_exit(20, 7), pk = pwt_child_sleep_forever();
#else
	pid_t pid = pwt_child_exit(20, 7), pk = pwt_child_signal(20, SIGTERM, 0);
#endif
	procwait_proc *p = open_pid(pid), *k = open_pid(pk);
	procwait_event ev[2];
	int st, n = 0;

	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);
	ck_assert_int_eq(procwait_waitset_add(s, k, NULL), 0);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(procwait_proc_signal(k, SIGTERM), 0);
#endif
	while (n < 2) {
		int r = procwait_waitset_wait(s, ev + n, 2 - n, 30000);

		ck_assert_int_gt(r, 0);
		n += r;
	}
	for (int i = 0; i < 2; i++) {
		if (ev[i].proc == p) {
			assert_exited(&ev[i], p, NULL, 7);
		} else {
			ck_assert_ptr_eq(ev[i].proc, k);
			ck_assert_int_eq(ev[i].error, 0);
			ck_assert_int_eq(ev[i].status.kind, PROCWAIT_STATUS_SIGNALED);
			ck_assert_int_eq(ev[i].status.signo, SIGTERM);
		}
	}
	/* The zombies are still there for us. */
	ck_assert(pwt_exists(pid));
	ck_assert(pwt_exists(pk));
#ifdef HAVE_WIN32_BACKEND
	/* Not reaped through the handles either: they report once more. */
	{
		procwait_status ps;

		ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &ps), 0);
		ck_assert_int_eq(ps.kind, PROCWAIT_STATUS_EXITED);
		ck_assert_int_eq(ps.code, 7);
		ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &ps), -ECHILD);
		ck_assert_int_eq(procwait_proc_wait(k, 0, 0, &ps), 0);
		ck_assert_int_eq(ps.kind, PROCWAIT_STATUS_SIGNALED);
		ck_assert_int_eq(ps.signo, SIGTERM);
		ck_assert_int_eq(procwait_proc_wait(k, 0, 0, &ps), -ECHILD);
	}
	st = pwt_reap(pid);
	ck_assert_int_eq(st, 7);
	st = pwt_reap(pk);
	ck_assert_int_eq(st, 128 + SIGTERM);
#else
	st = pwt_reap(pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 7);
	st = pwt_reap(pk);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(WTERMSIG(st), SIGTERM);
#endif
	pwt_assert_no_children();
	procwait_proc_close(p);
	procwait_proc_close(k);
	procwait_waitset_free(s);
}
END_TEST

#ifndef HAVE_WIN32_BACKEND
/* SIGCHLD ignored: the kernel reaps the children itself, their status is
 * lost, and the set reports their exits as PROCWAIT_STATUS_UNKNOWN, not as
 * a made-up exit 0. */
START_TEST(test_sigchld_ignored)
{
	procwait_waitset *s = new_set(0);
	procwait_proc *p[2];
	int done = 0;

	ck_assert(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	p[0] = fork_exit(20, 5);
	p[1] = fork_exit(40, 0);
	ck_assert_int_eq(procwait_waitset_add(s, p[0], &p[0]), 0);
	ck_assert_int_eq(procwait_waitset_add(s, p[1], &p[1]), 0);
	while (done < 2) {
		procwait_event ev[2];
		int n = procwait_waitset_wait(s, ev, 2, 30000);

		ck_assert_int_gt(n, 0);
		for (int k = 0; k < n; k++, done++) {
			procwait_proc **pp = ev[k].data;

			ck_assert(pp == &p[0] || pp == &p[1]);
			ck_assert_ptr_eq(ev[k].proc, *pp);
			ck_assert_int_eq(ev[k].error, 0);
			ck_assert_int_eq(ev[k].status.pid, procwait_proc_pid(*pp));
			ck_assert_int_eq(ev[k].status.kind, PROCWAIT_STATUS_UNKNOWN);
			ck_assert_int_eq(ev[k].status.code, 0);
		}
	}
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	procwait_proc_close(p[0]);
	procwait_proc_close(p[1]);
	procwait_waitset_free(s);
	pwt_assert_no_children();
	signal(SIGCHLD, SIG_DFL);   /* for CK_FORK=no runs */
}
END_TEST
#endif

/* ---- 6. members reaped behind the set's back ---------------------------- */

/* A member waited directly through its handle (which reaps it): the set
 * then reports it with error -ECHILD (the status was handed out already)
 * instead of hanging, and is empty afterwards. */
START_TEST(test_member_reaped_through_handle)
{
	procwait_waitset *s = new_set(0);
	procwait_proc *p = fork_exit(50, 61);
	procwait_event ev[2];
	procwait_status st;
	int tag;

	ck_assert_int_eq(procwait_waitset_add(s, p, &tag), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 61);
	ck_assert_int_eq(procwait_waitset_size(s), 1);

	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 30000), 1);
	ck_assert_ptr_eq(ev[0].proc, p);
	ck_assert_ptr_eq(ev[0].data, &tag);
	ck_assert_int_eq(ev[0].error, -ECHILD);
	ck_assert_int_eq(ev[0].status.pid, procwait_proc_pid(p));
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 0), -ECHILD);
	pwt_assert_no_children();
	procwait_proc_close(p);
	procwait_waitset_free(s);
}
END_TEST

#ifndef HAVE_WIN32_BACKEND
/* A member reaped by a foreign waitpid(): its status is lost, so the set
 * reports an exit with PROCWAIT_STATUS_UNKNOWN (not a made-up 0). */
START_TEST(test_member_reaped_by_waitpid)
{
	procwait_waitset *s = new_set(0);
	pid_t pid = pwt_child_exit(20, 62);
	procwait_proc *p = open_pid(pid);
	procwait_event ev[2];
	int st;

	ck_assert_int_eq(procwait_waitset_add(s, p, NULL), 0);
	st = pwt_reap(pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 62);
	wait_one(s, ev);
	ck_assert_ptr_eq(ev[0].proc, p);
	ck_assert_int_eq(ev[0].error, 0);
	ck_assert_int_eq(ev[0].status.pid, pid);
	ck_assert_int_eq(ev[0].status.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	procwait_proc_close(p);
	procwait_waitset_free(s);
}
END_TEST

/* ---- readiness is a hint: a traced member ------------------------------ */

static void write_byte(int fd, char b)
{
	while (write(fd, &b, 1) < 0)
		ck_assert_int_eq(errno, EINTR);
}

static char read_byte(int fd)
{
	char b = 0;
	ssize_t n;

	while ((n = read(fd, &b, 1)) < 0)
		ck_assert_int_eq(errno, EINTR);
	return n == 1 ? b : (char)-1;
}

/* A member traced by another process (DESIGN.md §9: ptrace can make a pidfd
 * readable before the parent can have the exit): once it has exited, its
 * pidfd may be readable while waitid() still has nothing for us, until the
 * tracer collects the exit. The set must neither report it early, nor spin
 * on the readable descriptor (a 300 ms wait uses little CPU), and must
 * report the exact status once the tracer let go. Skipped when ptrace is
 * not permitted here. */
START_TEST(test_traced_member)
{
	int go[2], att[2], col[2];
	procwait_waitset *s;
	procwait_proc *c = NULL;
	procwait_event ev[2];
	procwait_status pst;
	long long t0, c0;
	pid_t tracer;
	int pid, st;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(att), 0);
	ck_assert_int_eq(pipe(col), 0);
	pid = procwait_fork(0, &c);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
		read_byte(go[0]);
		_exit(42);
	}
	tracer = fork();
	ck_assert_int_ge(tracer, 0);
	if (tracer == 0) {
		if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
			write_byte(att[1], 'n');
			_exit(0);
		}
		write_byte(att[1], 'y');
		read_byte(col[0]);
		/* Collect the tracee's exit: only then can its parent. */
		_exit(waitpid(pid, &st, __WALL) == pid ? 0 : 1);
	}
	if (read_byte(att[0]) != 'y') {
		fprintf(stderr, "test_traced_member: ptrace not permitted, skipped\n");
		write_byte(go[1], 'g');
		ck_assert_int_eq(pwt_reap(tracer), 0);
		ck_assert_int_eq(procwait_proc_wait(c, 30000, 0, &pst), 0);
		procwait_proc_close(c);
		return;
	}
	s = new_set(0);
	ck_assert_int_eq(procwait_waitset_add(s, c, &tracer), 0);
	write_byte(go[1], 'g');
	/* Let it exit; the tracer holds its exit. */
	pwt_nap_ms(100);

	t0 = pwt_now_ms();
	c0 = pwt_cpu_ms();
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 2, 300), 0);
	ck_assert_int_ge(pwt_now_ms() - t0, 295);
	ck_assert_msg(pwt_cpu_ms() - c0 < 200, "a 300 ms wait burnt %lld ms of CPU",
	              pwt_cpu_ms() - c0);
	ck_assert_int_eq(procwait_waitset_size(s), 1);

	write_byte(col[1], 'c');
	wait_one(s, ev);
	assert_exited(&ev[0], c, &tracer, 42);
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	st = pwt_reap(tracer);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	pwt_assert_no_children();
	procwait_proc_close(c);
	procwait_waitset_free(s);
	close(go[0]); close(go[1]);
	close(att[0]); close(att[1]);
	close(col[0]); close(col[1]);
}
END_TEST

/* ---- 7. descriptors exhausted ------------------------------------------- */

/* The system call behind a set's own descriptor in this build and under
 * this backend (the fallback uses the build's notifier). Ask before the
 * descriptors run out: with none left the backend probe fails anew. */
static const char *notifier_call(void)
{
#ifdef HAVE_PIDFD_BACKEND
	return pwt_backend_is("kqueue") ? "kqueue" : "epoll_create1";
#else
	return "kqueue";
#endif
}

/* RLIMIT_NOFILE exhausted after the set was made: handles on new children
 * still open (pid only, no pidfd), join the set, put it on the backoff
 * timer, and their exits are reported exactly. A pidfd member added before
 * the exhaustion is reported too. A new set is made without a descriptor
 * of its own and works through the backoff loop. */
START_TEST(test_fds_exhausted)
{
	procwait_waitset *s, *s2 = NULL;
	procwait_proc *early, *late[3];
	procwait_event ev[4];
	pid_t pids[3];
	int got[4] = { 0 }, done = 0, i;
	int pidfd = pwt_backend_has_fd();   /* probe and latch first */
	const char *set_call = notifier_call();
	struct rlimit saved;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);

	s = new_set(0);
	early = fork_exit(100, 70);
	ck_assert_int_eq(procwait_waitset_add(s, early, &got[3]), 0);
	if (pidfd)
		ck_assert_int_eq(procwait_waitset_timeout(s), -1);

	pwt_exhaust_fds();
	s2 = new_set(0);
	ck_assert_int_eq(procwait_waitset_fd(s2), -EMFILE);
	{
		const char *call = NULL;

		ck_assert_int_eq(procwait_last_fallback(&call), -EMFILE);
		ck_assert_str_eq(call, set_call);
	}
	procwait_waitset_free(s2);
	/* procwait_fork needs a pipe for its handshake. */
	ck_assert_int_eq(procwait_fork(0, &late[0]), -EMFILE);
	for (i = 0; i < 3; i++) {
		const char *call = NULL;

		pids[i] = pwt_child_exit(50 + 50 * i, 71 + i);
		late[i] = open_pid(pids[i]);
		ck_assert_int_eq(procwait_proc_fd(late[i]), -ENOTSUP);
		if (pidfd) {
			ck_assert_int_eq(procwait_last_fallback(&call), -EMFILE);
			ck_assert_str_eq(call, pwt_backend_is("pidfd") ? "pidfd_open" : "kevent");
		}
		ck_assert_int_eq(procwait_waitset_add(s, late[i], &got[i]), 0);
	}
	ck_assert_int_eq(procwait_waitset_size(s), 4);
	/* Pid-only members run on the backoff timer. */
	ck_assert_int_ge(procwait_waitset_timeout(s), 0);

	while (done < 4) {
		int n = procwait_waitset_wait(s, ev, 4, 30000);

		ck_assert_int_gt(n, 0);
		for (int k = 0; k < n; k++, done++) {
			int idx = (int)((int *)ev[k].data - got);

			ck_assert_int_ge(idx, 0);
			ck_assert_int_lt(idx, 4);
			ck_assert_int_eq(got[idx], 0);
			got[idx] = 1;
			if (idx == 3) {
				assert_exited(&ev[k], early, &got[3], 70);
			} else {
				assert_exited(&ev[k], late[idx], &got[idx], 71 + idx);
				ck_assert_int_eq(ev[k].status.pid, pids[idx]);
			}
		}
	}
	ck_assert_int_eq(procwait_waitset_size(s), 0);
	ck_assert_int_eq(procwait_waitset_timeout(s), -1);
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 4, 0), -ECHILD);
	pwt_assert_no_children();
	for (i = 0; i < 3; i++)
		procwait_proc_close(late[i]);
	procwait_proc_close(early);
	procwait_waitset_free(s);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);   /* CK_FORK=no */
}
END_TEST

/* The RLIMIT_NOFILE soft limit that leaves exactly n descriptors free
 * (descriptors open below it count against it, holes do not). */
static int limit_leaving(int n)
{
	int fd, nfree = 0;

	for (fd = 0;; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			if (nfree == n)
				return fd;
			nfree++;
		}
	}
}

/* Wait on s until `upto` of its n members (procs, pids; seen[] marks
 * them) have been reported, from `got` on; each must be reported once,
 * exited with code 1 + index % 200. Returns the new count. */
static int edge_collect(procwait_waitset *s, procwait_proc **procs, const pid_t *pids,
                        int *seen, int n, int got, int upto)
{
	procwait_event ev[64];

	while (got < upto) {
		int k = procwait_waitset_wait(s, ev, 64, 30000);

		ck_assert_int_gt(k, 0);
		for (int j = 0; j < k; j++, got++) {
			int idx = (int)((int *)ev[j].data - seen);

			ck_assert_int_ge(idx, 0);
			ck_assert_int_lt(idx, n);
			ck_assert_int_eq(seen[idx], 0);
			seen[idx] = 1;
			ck_assert_ptr_eq(ev[j].proc, procs[idx]);
			ck_assert_int_eq(ev[j].error, 0);
			ck_assert_int_eq(ev[j].status.pid, pids[idx]);
			ck_assert_int_eq(ev[j].status.kind, PROCWAIT_STATUS_EXITED);
			ck_assert_int_eq(ev[j].status.code, 1 + idx % 200);
		}
	}
	return got;
}

/* The descriptor limit at the edge: n children, then RLIMIT_NOFILE set to
 * leave only `headroom` descriptors free, then n handles and a set over
 * them. Whatever the headroom, every member is reported once with its exit
 * code. A set that had no descriptor left for itself says so through
 * procwait_waitset_fd() and procwait_last_fallback(); once the limit is
 * raised again, the next wait makes the descriptor, with the members whose
 * handles have one in it. */
static void edge_run(int n, int headroom)
{
	procwait_proc **procs = calloc((size_t)n, sizeof(*procs));
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	int *seen = calloc((size_t)n, sizeof(*seen));
	procwait_event ev[1];
	procwait_waitset *s;
	struct rlimit saved, rl;
	const char *call = NULL;
	int i, got = 0, fd, with_fd = 0;
	/* (asked before the limit: with no descriptor the probe fails anew) */
	int kq = pwt_backend_is("kqueue"), fast = pwt_backend_has_fd();
	const char *set_call = notifier_call();

	ck_assert_ptr_nonnull(procs);
	ck_assert_ptr_nonnull(pids);
	ck_assert_ptr_nonnull(seen);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
	for (i = 0; i < n; i++)
		pids[i] = pwt_child_exit(200 + (i % 7) * 40, 1 + i % 200);
	rl = saved;
	rl.rlim_cur = (rlim_t)limit_leaving(headroom);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);

	for (i = 0; i < n; i++) {
		procs[i] = open_pid(pids[i]);
		with_fd += procwait_proc_fd(procs[i]) >= 0;
	}
	ck_assert_int_le(with_fd, headroom);
	s = new_set(0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(procwait_waitset_add(s, procs[i], &seen[i]), 0);
	fd = procwait_waitset_fd(s);
	if (headroom == 0)
		ck_assert_int_eq(fd, -EMFILE);
	if (!kq && headroom > (fast ? n : 0))
		ck_assert_int_ge(fd, 0);   /* (the kqueue emulation takes more) */
	if (fd < 0) {
		ck_assert_int_eq(fd, -EMFILE);
		ck_assert_int_eq(procwait_last_fallback(&call), -EMFILE);
		ck_assert_str_eq(call, set_call);
		/* every member is on the backoff timer */
		ck_assert_int_ge(procwait_waitset_timeout(s), 0);
	}
	/* Half of the exits with the limit still in force... */
	got = edge_collect(s, procs, pids, seen, n, got, n / 2 + 1);
	/* ...the rest with descriptors to spare: the set makes its own. */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	if (got < n) {
		got = edge_collect(s, procs, pids, seen, n, got, n);
		ck_assert_int_ge(procwait_waitset_fd(s), 0);
	}
	ck_assert_int_eq(procwait_waitset_wait(s, ev, 1, 0), -ECHILD);
	procwait_waitset_free(s);
	for (i = 0; i < n; i++)
		procwait_proc_close(procs[i]);
	pwt_assert_no_children();
	free(procs);
	free(pids);
	free(seen);
}

/* Sets of 1, 3 and 200 members at the descriptor limit's edge: no
 * descriptor left, one, half the members' worth, all of them but the
 * set's own, and one to spare. */
START_TEST(test_fds_at_the_edge)
{
	static const int sizes[] = { 1, 3, 200 };

	for (size_t k = 0; k < NELEM(sizes); k++) {
		int n = sizes[k];
		int heads[] = { 0, 1, n / 2, n, n + 1 };

		for (size_t h = 0; h < NELEM(heads); h++)
			edge_run(n, heads[h]);
	}
}
END_TEST

/* A process forked from the set's owner frees its copy of the set, or
 * waits on it: the owner's set keeps every member (the epoll instance is
 * shared across fork, so a careless copy would empty the owner's set). */
START_TEST(test_forked_copy_leaves_owner_alone)
{
	procwait_waitset *s = new_set(0);
	procwait_proc *p[3];
	procwait_event ev[4];
	int i, n, got = 0, raw;
	pid_t other;

	for (i = 0; i < 3; i++)
		{
		p[i] = fork_exit(300, 50 + i);
		ck_assert_int_eq(procwait_waitset_add(s, p[i], p[i]), 0);
	}
	/* a copy that frees everything */
	other = fork();
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		procwait_waitset_free(s);
		for (i = 0; i < 3; i++)
			procwait_proc_close(p[i]);
		_exit(0);
	}
	raw = pwt_reap(other);
	ck_assert(WIFEXITED(raw) && WEXITSTATUS(raw) == 0);
	/* a copy that waits on its set (the members are not its children) */
	other = fork();
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		n = procwait_waitset_wait(s, ev, 4, 0);
		_exit(n == 0 ? 0 : 1);
	}
	raw = pwt_reap(other);
	ck_assert(WIFEXITED(raw) && WEXITSTATUS(raw) == 0);
	ck_assert_int_eq(procwait_waitset_size(s), 3);
	while (procwait_waitset_size(s) > 0) {
		n = procwait_waitset_wait(s, ev, 4, 10000);
		ck_assert_int_gt(n, 0);
		for (i = 0; i < n; i++) {
			int k = ev[i].proc == p[0] ? 0 : ev[i].proc == p[1] ? 1 : 2;

			ck_assert_ptr_eq(ev[i].proc, p[k]);
			ck_assert_ptr_eq(ev[i].data, p[k]);
			ck_assert_int_eq(ev[i].error, 0);
			ck_assert_int_eq(ev[i].status.kind, PROCWAIT_STATUS_EXITED);
			ck_assert_int_eq(ev[i].status.code, 50 + k);
			got++;
		}
	}
	ck_assert_int_eq(got, 3);
	for (i = 0; i < 3; i++)
		procwait_proc_close(p[i]);
	procwait_waitset_free(s);
}
END_TEST
#endif /* !HAVE_WIN32_BACKEND */

static Suite *waitset_suite(void)
{
	Suite *s = suite_create("waitset");
	TCase *tc;

	tc = pwt_tcase("many");
	tcase_set_timeout(tc, 120);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_thousand_members);
#endif
	tcase_add_test(tc, test_200_members);
	suite_add_tcase(s, tc);

	tc = pwt_tcase("timeout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_timeout_then_kill);
	tcase_add_test(tc, test_timeout_forever_and_huge);
	tcase_add_test(tc, test_short_timeout_sees_exit);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_wait_survives_signals);
#endif
	suite_add_tcase(s, tc);

	tc = pwt_tcase("membership");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_add_twice);
	tcase_add_test(tc, test_einval);
	tcase_add_test(tc, test_close_member_and_free_set);
	tcase_add_test(tc, test_batches);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_forked_copy_leaves_owner_alone);
#endif
	suite_add_tcase(s, tc);

	tc = pwt_tcase("embed");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_event_loop_embedding);
	suite_add_tcase(s, tc);

	tc = pwt_tcase("status");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nonchild_unknown);
	tcase_add_test(tc, test_nonchild_zombie_unknown);
	tcase_add_test(tc, test_signaled);
	tcase_add_test(tc, test_mixed_kinds);
	tcase_add_test(tc, test_noreap_set);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_sigchld_ignored);
#endif
	suite_add_tcase(s, tc);

	tc = pwt_tcase("reaped_elsewhere");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_member_reaped_through_handle);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_member_reaped_by_waitpid);
	tcase_add_test(tc, test_traced_member);
#endif
	suite_add_tcase(s, tc);

#ifndef HAVE_WIN32_BACKEND
	tc = pwt_tcase("fd_exhaustion");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fds_exhausted);
	tcase_add_test(tc, test_fds_at_the_edge);
	suite_add_tcase(s, tc);
#endif

	return s;
}

int main(void)
{
	return pwt_run(waitset_suite());
}
