/* SPDX-License-Identifier: MIT */
/*
 * Thread safety (DESIGN.md §4, proc.h): distinct handles waited from
 * distinct threads at once, one handle waited from two threads (one status,
 * one -ECHILD), procwait_wait_pid() from many threads while the main thread
 * forks, concurrent procwait_spawn(), a signal sent through a handle that
 * another thread waits on, and one wait set per thread.
 *
 * Check's assertions must run in the test's main thread (in CK_FORK=no mode
 * a failure longjmps), so worker threads record what went wrong in a
 * struct tres and the main thread asserts on it after pthread_join().
 *
 * On Windows (HAVE_WIN32_BACKEND, where the suites always run without
 * fork) children are pwt-child.exe started with procwait_spawn() where
 * POSIX uses procwait_fork(), the rounds are smaller (starting a process
 * under Wine costs milliseconds), and every handle, a non-child's too,
 * hands its status out once: two waiters on one handle get one status and
 * one -ECHILD.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_WIN32_BACKEND
#include <windows.h>
#else
#include <sys/wait.h>
#endif

#include "helpers.h"

/* What a worker thread found: how many checks passed, how many failed, and
 * the first failure in words. */
struct tres {
	int ok;
	int failed;
	char first[256];
};

__attribute__((format(printf, 3, 4)))
static void tfail(struct tres *r, int line, const char *fmt, ...)
{
	if (r->failed++ == 0) {
		va_list ap;
		int n = snprintf(r->first, sizeof(r->first), "line %d: ", line);

		va_start(ap, fmt);
		vsnprintf(r->first + n, sizeof(r->first) - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

/* Check cond in a worker thread: record a failure, do not abort. */
#define TCHECK(r, cond, ...) \
	do { if (!(cond)) tfail((r), __LINE__, __VA_ARGS__); } while (0)

/* In the main thread: no worker recorded a failure. */
static void assert_tres(const struct tres *r, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		ck_assert_msg(r[i].failed == 0, "%s, thread %d: %d failure(s), first: %s",
		              what, i, r[i].failed, r[i].first);
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int r = pthread_create(t, NULL, fn, arg);

	ck_assert_msg(r == 0, "pthread_create: %s", strerror(r));
}

static void join_thread(pthread_t t)
{
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}

/* Is st exactly "pid exited with code"? */
static int is_exit(const procwait_status *st, pid_t pid, int code)
{
	return st->pid == pid && st->kind == PROCWAIT_STATUS_EXITED && st->code == code &&
	       st->signo == 0 && st->core == 0;
}

#ifdef HAVE_WIN32_BACKEND
/* Block until the process of p has exited, without reaping it. */
static void await_zombie_handle(procwait_proc *p)
{
	ck_assert_uint_eq(WaitForSingleObject(procwait_proc_handle(p), 30000), WAIT_OBJECT_0);
}

/* Start pwt-child.exe with argv from any thread (asserts nothing): its
 * pid, or -errno; *out gets the handle, tracked for pwt_cleanup(). */
static int start_child(char **argv, procwait_proc **out)
{
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	int r;

	*out = NULL;
	o.file = pwt_child_path();
	o.argv = argv;
	r = pwt_spawn(&o, out);
	return r < 0 ? r : (int)procwait_proc_pid(*out);
}

/* A child that sleeps delay_ms, then exits with code. */
static int start_exit(int delay_ms, int code, procwait_proc **out)
{
	char d[16], c[16];
	char *argv[] = { (char *)"pwt-child", (char *)"exit", d, c, NULL };

	snprintf(d, sizeof(d), "%d", delay_ms);
	snprintf(c, sizeof(c), "%u", (unsigned)code);
	return start_child(argv, out);
}
#else
/* Block until the child pid has exited, without reaping it. */
static void await_zombie(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_int_eq(si.si_pid, pid);
}
#endif

/* ---- 1. many threads, each forking and waiting its own children -------- */

#define FW_THREADS 8
#ifdef HAVE_WIN32_BACKEND
#define FW_ITERS 20
#else
#define FW_ITERS 200
#endif

struct fw_arg {
	int t;
	pthread_barrier_t *go;
	struct tres res;
};

static void *fork_wait_thread(void *arg)
{
	struct fw_arg *a = arg;

	pthread_barrier_wait(a->go);
	for (int i = 0; i < FW_ITERS; i++) {
		int code = (a->t * 31 + i) % 256;
		procwait_proc *p = NULL;
		procwait_status st;
#ifdef HAVE_WIN32_BACKEND
		/* Vary the timing: some exit before the wait starts, some
		 * while it blocks. */
		int pid = start_exit(i % 5 == 0 ? 1 + i % 3 : 0, code, &p), r;
#else
		int pid = procwait_fork(0, &p), r;

		if (pid == 0) {
			/* Vary the timing: some exit before the wait starts,
			 * some while it blocks. */
			if (i % 5 == 0)
				pwt_nap_ms(1 + i % 3);
			_exit(code);
		}
#endif
		if (pid < 0) {
			tfail(&a->res, __LINE__, "iteration %d: procwait_fork: %s", i,
			      procwait_strerror(pid));
			continue;
		}
		memset(&st, 0xa5, sizeof(st));
		r = procwait_proc_wait(p, 60000, 0, &st);
		TCHECK(&a->res, r == 0, "iteration %d: wait: %s", i, procwait_strerror(r));
		TCHECK(&a->res, r != 0 || is_exit(&st, pid, code),
		       "iteration %d: pid %d kind %d code %d signo %d, want pid %d exit %d",
		       i, (int)st.pid, st.kind, st.code, st.signo, pid, code);
		/* The status was handed out once. */
		r = procwait_proc_wait(p, 0, 0, &st);
		TCHECK(&a->res, r == -ECHILD, "iteration %d: second wait: %d", i, r);
		procwait_proc_close(p);
		if (a->res.failed == 0)
			a->res.ok++;
	}
	return NULL;
}

/* 8 threads × 200 procwait_fork + procwait_proc_wait at once: every status
 * is exactly the one its own child exited with; none is lost or swapped,
 * nothing is left unreaped. */
START_TEST(test_threads_fork_wait)
{
	pthread_t th[FW_THREADS];
	struct fw_arg a[FW_THREADS];
	struct tres res[FW_THREADS];
	pthread_barrier_t go;
	int total = 0;

	ck_assert_int_eq(pthread_barrier_init(&go, NULL, FW_THREADS), 0);
	for (int t = 0; t < FW_THREADS; t++) {
		memset(&a[t], 0, sizeof(a[t]));
		a[t].t = t;
		a[t].go = &go;
		start_thread(&th[t], fork_wait_thread, &a[t]);
	}
	for (int t = 0; t < FW_THREADS; t++) {
		join_thread(th[t]);
		res[t] = a[t].res;
		total += a[t].res.ok;
	}
	pthread_barrier_destroy(&go);
	assert_tres(res, FW_THREADS, "fork+wait");
	ck_assert_int_eq(total, FW_THREADS * FW_ITERS);
	pwt_assert_no_children();
}
END_TEST

/* ---- 2. one handle, two waiters ------------------------------------------ */

struct dual_arg {
	procwait_proc *p;
	pthread_barrier_t *go;
	int r;
	procwait_status st;
};

static void *dual_wait_thread(void *arg)
{
	struct dual_arg *a = arg;

	pthread_barrier_wait(a->go);
	memset(&a->st, 0xa5, sizeof(a->st));
	a->r = procwait_proc_wait(a->p, 30000, 0, &a->st);
	return NULL;
}

/* Two threads wait on p at once; returns their answers in a[0..1]. */
static void dual_wait(procwait_proc *p, struct dual_arg a[2])
{
	pthread_barrier_t go;
	pthread_t th[2];

	ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
	for (int t = 0; t < 2; t++) {
		a[t].p = p;
		a[t].go = &go;
		a[t].r = 12345;
		start_thread(&th[t], dual_wait_thread, &a[t]);
	}
	for (int t = 0; t < 2; t++)
		join_thread(th[t]);
	pthread_barrier_destroy(&go);
}

/* Two threads waited one handle: one got the status (exited with code),
 * the other -ECHILD ("already reaped"), in either order. */
static void assert_one_status(const struct dual_arg a[2], int rep, pid_t pid, int code)
{
	int win;

	ck_assert_msg((a[0].r == 0 && a[1].r == -ECHILD) ||
	              (a[0].r == -ECHILD && a[1].r == 0),
	              "rep %d: answers %d and %d, want 0 and -ECHILD",
	              rep, a[0].r, a[1].r);
	win = a[0].r == 0 ? 0 : 1;
	ck_assert_int_eq(a[win].st.pid, pid);
	ck_assert_int_eq(a[win].st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(a[win].st.code, code);
	ck_assert_int_eq(a[win].st.signo, 0);
}

/* One child handle waited from two threads at once, 50 times (child still
 * running, or already a zombie, when they start): exactly one gets 0 with
 * the exact status, the other -ECHILD ("already reaped"). */
START_TEST(test_one_handle_two_waiters)
{
	for (int rep = 0; rep < 50; rep++) {
		struct dual_arg a[2];
		procwait_proc *p = NULL;
		int code = 100 + rep, delay = rep % 3 == 0 ? 0 : rep % 3 == 1 ? 5 : 30;
#ifdef HAVE_WIN32_BACKEND
		int pid = start_exit(delay, code, &p);

		ck_assert_int_ge(pid, 0);
		if (delay == 0)
			await_zombie_handle(p);
#else
		int pid = procwait_fork(0, &p);

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			if (delay)
				pwt_nap_ms(delay);
			_exit(code);
		}
		if (delay == 0)
			await_zombie(pid);
#endif
		dual_wait(p, a);
		assert_one_status(a, rep, pid, code);
		procwait_proc_close(p);
	}
	pwt_assert_no_children();
}
END_TEST

/* A handle on a non-child waited from two threads at once: both learn of
 * the exit, as PROCWAIT_STATUS_UNKNOWN (a non-child's exit is reported on
 * every wait, there is nothing to reap). Windows: a non-child's status is
 * known, and handed out once as a child's is: one status, one -ECHILD. */
START_TEST(test_nonchild_two_waiters)
{
	for (int rep = 0; rep < 5; rep++) {
		struct dual_arg a[2];
		procwait_proc *p = NULL;
		procwait_status st;
		pid_t pid = pwt_nonchild(100);

		ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
		dual_wait(p, a);
#ifdef HAVE_WIN32_BACKEND
		assert_one_status(a, rep, pid, PWT_NONCHILD_CODE);
		ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ECHILD);
		procwait_proc_close(p);
		continue;
#endif
		for (int t = 0; t < 2; t++) {
			ck_assert_msg(a[t].r == 0, "rep %d thread %d: %s", rep, t,
			              procwait_strerror(a[t].r));
			ck_assert_int_eq(a[t].st.pid, pid);
			ck_assert_int_eq(a[t].st.kind, PROCWAIT_STATUS_UNKNOWN);
			ck_assert_int_eq(a[t].st.code, 0);
			ck_assert_int_eq(a[t].st.signo, 0);
		}
		/* And again, from this thread. */
		ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), 0);
		ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
		procwait_proc_close(p);
	}
}
END_TEST

/* ---- 3. procwait_wait_pid from many threads ------------------------------ */

#define WP_THREADS 8
#ifdef HAVE_WIN32_BACKEND
#define WP_MAIN_ITERS 8
#else
#define WP_MAIN_ITERS 20
#endif

struct wp_arg {
	pid_t pid;
	int code;
	pthread_barrier_t *go;
	struct tres res;
};

static void *wait_pid_thread(void *arg)
{
	struct wp_arg *a = arg;
	procwait_status st;
	int r;

	pthread_barrier_wait(a->go);
	memset(&st, 0xa5, sizeof(st));
	r = procwait_wait_pid(a->pid, 30000, 0, &st);
	TCHECK(&a->res, r == 0, "pid %d: %s", (int)a->pid, procwait_strerror(r));
	TCHECK(&a->res, r != 0 || is_exit(&st, a->pid, a->code),
	       "pid %d: pid %d kind %d code %d signo %d, want exit %d", (int)a->pid,
	       (int)st.pid, st.kind, st.code, st.signo, a->code);
#ifdef HAVE_WIN32_BACKEND
	/* "Reaping" a pid is bookkeeping: while the helpers hold a HANDLE
	 * on the process, a new wait reports the same exit again. */
	memset(&st, 0xa5, sizeof(st));
	r = procwait_wait_pid(a->pid, 0, 0, &st);
	TCHECK(&a->res, r == 0 && is_exit(&st, a->pid, a->code),
	       "pid %d: wait again: %d, kind %d code %d", (int)a->pid, r, st.kind, st.code);
#else
	/* Reaped: the pid is no more. */
	r = procwait_wait_pid(a->pid, 0, 0, &st);
	TCHECK(&a->res, r == -ESRCH, "pid %d: wait after reap: %d", (int)a->pid, r);
#endif
	if (a->res.failed == 0)
		a->res.ok++;
	return NULL;
}

/* 8 threads each procwait_wait_pid() on a child of their own while the main
 * thread keeps forking and reaping children of its own (plain fork and
 * waitpid, and procwait_fork): every waiter gets its own child's exact
 * status, the main thread gets its own; 5 rounds. */
START_TEST(test_wait_pid_threads_while_forking)
{
	for (int round = 0; round < 5; round++) {
		struct wp_arg a[WP_THREADS];
		struct tres res[WP_THREADS];
		pthread_t th[WP_THREADS];
		pthread_barrier_t go;

		ck_assert_int_eq(pthread_barrier_init(&go, NULL, WP_THREADS + 1), 0);
		for (int t = 0; t < WP_THREADS; t++) {
			memset(&a[t], 0, sizeof(a[t]));
			a[t].code = (round * 16 + t * 3 + 1) % 256;
			a[t].pid = pwt_child_exit(t % 2 ? 5 * t : 20 + 20 * t, a[t].code);
			a[t].go = &go;
			start_thread(&th[t], wait_pid_thread, &a[t]);
		}
		pthread_barrier_wait(&go);
		for (int j = 0; j < WP_MAIN_ITERS; j++) {
			procwait_proc *p = NULL;
			procwait_status st;
			int code = 200 + j, pid, st_raw;

			pid = pwt_child_exit(j % 4, code);
			st_raw = pwt_reap(pid);
#ifdef HAVE_WIN32_BACKEND
			ck_assert_int_eq(st_raw, code);

			pid = start_exit(0, code - 100, &p);
			ck_assert_int_ge(pid, 0);
#else
			ck_assert(WIFEXITED(st_raw));
			ck_assert_int_eq(WEXITSTATUS(st_raw), code);

			pid = procwait_fork(0, &p);
			ck_assert_int_ge(pid, 0);
			if (pid == 0)
				_exit(code - 100);
#endif
			ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
			ck_assert(is_exit(&st, pid, code - 100));
			procwait_proc_close(p);
		}
		for (int t = 0; t < WP_THREADS; t++) {
			join_thread(th[t]);
			res[t] = a[t].res;
			ck_assert_int_eq(a[t].res.ok + a[t].res.failed, 1);
		}
		pthread_barrier_destroy(&go);
		assert_tres(res, WP_THREADS, "wait_pid");
		pwt_assert_no_children();
	}
}
END_TEST

/* ---- 4. concurrent spawn ----------------------------------------------- */

#define SP_THREADS 6
#define SP_ITERS 25

struct sp_arg {
	int t;
	pthread_barrier_t *go;
	struct tres res;
};

static void *spawn_thread(void *arg)
{
	struct sp_arg *a = arg;

	pthread_barrier_wait(a->go);
	for (int i = 0; i < SP_ITERS; i++) {
		int code = (a->t * 37 + i * 5) % 256;
		char script[32];
#ifdef HAVE_WIN32_BACKEND
		char *argv[] = { (char *)"pwt-child", (char *)"exit", (char *)"0", script, NULL };
#else
		char *argv[] = { (char *)"/bin/sh", (char *)"-c", script, NULL };
#endif
		procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
		procwait_proc *p = NULL;
		procwait_status st;
		int r;

		if (i % 8 == 7) {
			/* A failing exec, reported as such, with nothing
			 * left behind, between the good ones. */
#ifdef HAVE_WIN32_BACKEND
			char *bad[] = { (char *)"C:\\nonexistent\\procwait-test.exe", NULL };
#else
			char *bad[] = { (char *)"/nonexistent/procwait-test", NULL };
#endif

			o.argv = bad;
			r = procwait_spawn(&o, &p);
			TCHECK(&a->res, r == -ENOENT, "iteration %d: bad spawn: %d", i, r);
			TCHECK(&a->res, p == NULL, "iteration %d: handle left", i);
			continue;
		}
#ifdef HAVE_WIN32_BACKEND
		snprintf(script, sizeof(script), "%d", code);
		o.file = pwt_child_path();
#else
		snprintf(script, sizeof(script), "exit %d", code);
#endif
		o.argv = argv;
#ifdef HAVE_WIN32_BACKEND
		r = pwt_spawn(&o, &p);   /* tracked; -EAGAIN tried again */
#else
		r = procwait_spawn(&o, &p);
#endif
		TCHECK(&a->res, r == 0, "iteration %d: spawn: %s", i, procwait_strerror(r));
		if (r != 0)
			continue;
		memset(&st, 0xa5, sizeof(st));
		r = procwait_proc_wait(p, 60000, 0, &st);
		TCHECK(&a->res, r == 0, "iteration %d: wait: %s", i, procwait_strerror(r));
		TCHECK(&a->res, r != 0 || is_exit(&st, procwait_proc_pid(p), code),
		       "iteration %d: kind %d code %d signo %d, want exit %d", i,
		       st.kind, st.code, st.signo, code);
		procwait_proc_close(p);
		if (a->res.failed == 0)
			a->res.ok++;
	}
	return NULL;
}

/* 6 threads spawn /bin/sh -c 'exit N' at once (and now and then a program
 * that does not exist): each wait returns its own N. */
START_TEST(test_concurrent_spawn)
{
	pthread_t th[SP_THREADS];
	struct sp_arg a[SP_THREADS];
	struct tres res[SP_THREADS];
	pthread_barrier_t go;
	int total = 0;

	ck_assert_int_eq(pthread_barrier_init(&go, NULL, SP_THREADS), 0);
	for (int t = 0; t < SP_THREADS; t++) {
		memset(&a[t], 0, sizeof(a[t]));
		a[t].t = t;
		a[t].go = &go;
		start_thread(&th[t], spawn_thread, &a[t]);
	}
	for (int t = 0; t < SP_THREADS; t++) {
		join_thread(th[t]);
		res[t] = a[t].res;
		total += a[t].res.ok;
	}
	pthread_barrier_destroy(&go);
	assert_tres(res, SP_THREADS, "spawn");
	ck_assert_int_eq(total, SP_THREADS * (SP_ITERS - SP_ITERS / 8));
	pwt_assert_no_children();
}
END_TEST

/* ---- 5. a signal through a handle another thread waits on -------------- */

/* One thread waits forever on a handle; the main thread kills the process
 * through the same handle: the waiter wakes with SIGNALED SIGKILL, and the
 * handle then refuses signals (-ESRCH). 10 times. */
START_TEST(test_signal_while_waiting)
{
	for (int rep = 0; rep < 10; rep++) {
		struct dual_arg a;
		pthread_barrier_t go;
		pthread_t th;
		procwait_proc *p = NULL;
#ifdef HAVE_WIN32_BACKEND
		char *argv[] = { (char *)"pwt-child", (char *)"forever", NULL };
		int pid = start_child(argv, &p);

		ck_assert_int_ge(pid, 0);
#else
		int pid = procwait_fork(0, &p);

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (;;)
				pause();
		}
#endif
		ck_assert_int_eq(pthread_barrier_init(&go, NULL, 1), 0);
		a.p = p;
		a.go = &go;
		a.r = 12345;
		start_thread(&th, dual_wait_thread, &a);
		pwt_nap_ms(rep % 2 ? 1 : 30);
		ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
		join_thread(th);
		pthread_barrier_destroy(&go);
		ck_assert_int_eq(a.r, 0);
		ck_assert_int_eq(a.st.pid, pid);
		ck_assert_int_eq(a.st.kind, PROCWAIT_STATUS_SIGNALED);
		ck_assert_int_eq(a.st.signo, SIGKILL);
		ck_assert_int_eq(procwait_proc_signal(p, 0), -ESRCH);
		procwait_proc_close(p);
	}
	pwt_assert_no_children();
}
END_TEST

/* ---- 6. one wait set per thread ----------------------------------------- */

#define WS_THREADS 4
#define WS_MEMBERS 50

struct ws_arg {
	int t;
	pthread_barrier_t *go;
	struct tres res;
};

static void *waitset_thread(void *arg)
{
	struct ws_arg *a = arg;
	procwait_proc *procs[WS_MEMBERS];
	int seen[WS_MEMBERS] = { 0 };
	procwait_waitset *s = NULL;
	int r, got = 0, n;

	pthread_barrier_wait(a->go);
	r = procwait_waitset_new(0, &s);
	if (r != 0) {
		tfail(&a->res, __LINE__, "waitset_new: %s", procwait_strerror(r));
		return NULL;
	}
	n = 0;
	for (int i = 0; i < WS_MEMBERS; i++) {
#ifdef HAVE_WIN32_BACKEND
		int pid = start_exit((a->t * 7 + i * 13) % 40, (a->t * 50 + i) % 256, &procs[i]);
#else
		int pid = procwait_fork(0, &procs[i]);

		if (pid == 0) {
			pwt_nap_ms((a->t * 7 + i * 13) % 40);
			_exit((a->t * 50 + i) % 256);
		}
#endif
		if (pid < 0) {
			tfail(&a->res, __LINE__, "procwait_fork: %s", procwait_strerror(pid));
			break;
		}
		r = procwait_waitset_add(s, procs[i], &seen[i]);
		TCHECK(&a->res, r == 0, "add: %s", procwait_strerror(r));
		n++;
	}
	while (got < n) {
		procwait_event ev[8];
		int k = procwait_waitset_wait(s, ev, 8, 30000);

		if (k <= 0) {
			tfail(&a->res, __LINE__, "wait: %d after %d of %d", k, got, n);
			break;
		}
		for (int j = 0; j < k; j++) {
			int idx = (int)((int *)ev[j].data - seen);

			if (idx < 0 || idx >= n || seen[idx]) {
				tfail(&a->res, __LINE__, "bad or repeated event (index %d)", idx);
				continue;
			}
			seen[idx] = 1;
			TCHECK(&a->res, ev[j].proc == procs[idx] && ev[j].error == 0 &&
			       is_exit(&ev[j].status, procwait_proc_pid(procs[idx]),
			               (a->t * 50 + idx) % 256),
			       "member %d: error %d kind %d code %d", idx, ev[j].error,
			       ev[j].status.kind, ev[j].status.code);
		}
		got += k;
	}
	TCHECK(&a->res, procwait_waitset_size(s) == 0, "size %d at the end",
	       procwait_waitset_size(s));
	for (int i = 0; i < n; i++)
		procwait_proc_close(procs[i]);
	procwait_waitset_free(s);
	if (a->res.failed == 0)
		a->res.ok = got;
	return NULL;
}

/* 4 threads, each with a wait set of 50 children of its own (forked from
 * that thread): each set reports exactly its own members, exactly once. */
START_TEST(test_waitset_per_thread)
{
	pthread_t th[WS_THREADS];
	struct ws_arg a[WS_THREADS];
	struct tres res[WS_THREADS];
	pthread_barrier_t go;

	ck_assert_int_eq(pthread_barrier_init(&go, NULL, WS_THREADS), 0);
	for (int t = 0; t < WS_THREADS; t++) {
		memset(&a[t], 0, sizeof(a[t]));
		a[t].t = t;
		a[t].go = &go;
		start_thread(&th[t], waitset_thread, &a[t]);
	}
	for (int t = 0; t < WS_THREADS; t++) {
		join_thread(th[t]);
		res[t] = a[t].res;
	}
	pthread_barrier_destroy(&go);
	assert_tres(res, WS_THREADS, "waitset");
	for (int t = 0; t < WS_THREADS; t++)
		ck_assert_int_eq(a[t].res.ok, WS_MEMBERS);
	pwt_assert_no_children();
}
END_TEST

static Suite *threads_suite(void)
{
	Suite *s = suite_create("threads");
	TCase *tc;

	tc = pwt_tcase("fork_wait");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_threads_fork_wait);
	suite_add_tcase(s, tc);

	tc = pwt_tcase("shared_handle");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_one_handle_two_waiters);
	tcase_add_test(tc, test_nonchild_two_waiters);
	tcase_add_test(tc, test_signal_while_waiting);
	suite_add_tcase(s, tc);

	tc = pwt_tcase("wait_pid");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_wait_pid_threads_while_forking);
	suite_add_tcase(s, tc);

	tc = pwt_tcase("spawn");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_concurrent_spawn);
	suite_add_tcase(s, tc);

	tc = pwt_tcase("waitsets");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_waitset_per_thread);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return pwt_run(threads_suite());
}
