/* SPDX-License-Identifier: MIT */
/* Single waits: statuses, timeouts, EINTR, non-children, SIGCHLD ignored,
 * fallbacks by errno class. Run once per backend (tests/run-backend.sh).
 *
 * On Windows (HAVE_WIN32_BACKEND) the tests whose idea applies run with
 * Windows mechanics: children are pwt-child.exe, an exit code is the whole
 * 32-bit value, a non-child's status is known, a "signal" is
 * procwait_proc_signal(SIGTERM or 9) through a handle, and a process stays
 * waitable by pid while the helpers hold a HANDLE on it (helpers.h). What
 * has no Windows counterpart (core dumps, EINTR, SIGCHLD, ptrace,
 * rlimits) is POSIX only. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_WIN32_BACKEND
#include <windows.h>
#else
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#endif

#include "helpers.h"

/* ---- statuses ------------------------------------------------------------ */

/* An exit code comes back exactly, and the child is reaped. Windows: the
 * whole 32-bit code (NTSTATUS values come back negative as an int), the
 * shell convention takes its low byte; "reaping" a pid is bookkeeping, so
 * procwait_wait_pid() reports it again while the process object lives (the
 * helpers hold a HANDLE), and -ESRCH once the last HANDLE is closed. */
START_TEST(test_exit_codes)
{
#ifdef HAVE_WIN32_BACKEND
	static const int codes[] = { 0, 1, 42, 255, 256, 1000, (int)0xC0000005u, 0x7fffffff,
	                             (int)0xFFFFFFFEu };
#else
	static const int codes[] = { 0, 1, 42, 255 };
#endif
	procwait_status st;
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		pid_t pid = pwt_child_exit(20, codes[i]);

		ck_assert_int_eq(procwait_wait_pid(pid, -1, 0, &st), 0);
		ck_assert_int_eq(st.pid, pid);
		ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
		ck_assert_int_eq(st.code, codes[i]);
		ck_assert_int_eq(st.signo, 0);
		ck_assert_int_eq(st.core, 0);
		ck_assert_int_eq(procwait_status_shell(&st), codes[i] & 0xff);
#ifdef HAVE_WIN32_BACKEND
		memset(&st, 0, sizeof(st));
		ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), 0);
		ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
		ck_assert_int_eq(st.code, codes[i]);
		ck_assert_int_eq(pwt_reap(pid), codes[i]);
		if (i == 0) {
			/* the last HANDLE is closed: the pid goes (once is
			 * enough: Wine takes ~0.5 s to let it go) */
			ck_assert_int_eq(pwt_await_gone(pid, 10000), 0);
			ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), -ESRCH);
		}
#else
		/* reaped: nothing left to wait for */
		ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
		ck_assert_int_eq(errno, ECHILD);
#endif
	}
}
END_TEST

#ifndef HAVE_WIN32_BACKEND
/* A signal death is a signal death: never folded into an exit code. */
START_TEST(test_signal_status)
{
	procwait_status st;
	pid_t pid = pwt_child_signal(20, SIGTERM, 0);

	ck_assert_int_eq(procwait_wait_pid(pid, -1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGTERM);
	ck_assert_int_eq(st.core, 0);
	ck_assert_int_eq(st.code, 0);
	ck_assert_int_eq(procwait_status_shell(&st), 128 + SIGTERM);

	pid = pwt_child_sleep_forever();
	kill(pid, SIGKILL);
	ck_assert_int_eq(procwait_wait_pid(pid, 5000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGKILL);
}
END_TEST
#else
/* Windows: procwait_proc_signal(SIGTERM or 9) terminates the process, and
 * the handle that did it reports a death by that signal, never an exit
 * code. Any other handle, as one procwait_wait_pid() opens, only sees the
 * exit code TerminateProcess left: 128 + signo. Other signals do not
 * exist: -ENOTSUP, and the process runs on. */
START_TEST(test_signal_status)
{
	static const int sigs[] = { SIGTERM, SIGKILL };
	procwait_status st;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		pid_t pid = pwt_child_sleep_forever();
		procwait_proc *p;

		ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
		ck_assert_int_eq(procwait_proc_signal(p, SIGINT), -ENOTSUP);
		ck_assert_int_eq(procwait_proc_wait(p, 50, 0, &st), -ETIMEDOUT);
		ck_assert_int_eq(procwait_proc_signal(p, sigs[i]), 0);
		ck_assert_int_eq(procwait_proc_wait(p, 5000, 0, &st), 0);
		ck_assert_int_eq(st.pid, pid);
		ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
		ck_assert_int_eq(st.signo, sigs[i]);
		ck_assert_int_eq(st.core, 0);
		ck_assert_int_eq(st.code, 0);
		ck_assert_int_eq(procwait_status_shell(&st), 128 + sigs[i]);
		procwait_proc_close(p);

		ck_assert_int_eq(procwait_wait_pid(pid, 5000, 0, &st), 0);
		ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
		ck_assert_int_eq(st.code, 128 + sigs[i]);
		ck_assert_int_eq(pwt_reap(pid), 128 + sigs[i]);
	}
}
END_TEST
#endif

#ifndef HAVE_WIN32_BACKEND
/* The core flag is what the kernel says: compared with waitpid's own
 * WCOREDUMP on the same zombie (NOREAP first, then waitpid). */
START_TEST(test_core_flag)
{
	procwait_status st;
	struct rlimit rl;
	pid_t pid;
	int raw;

	pid = pwt_child_signal(10, SIGQUIT, 1);
	ck_assert_int_eq(procwait_wait_pid(pid, -1, PROCWAIT_WAIT_NOREAP, &st), 0);
	raw = pwt_reap(pid);
	ck_assert(WIFSIGNALED(raw));
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGQUIT);
	ck_assert_int_eq(st.core, WCOREDUMP(raw) ? 1 : 0);
	getrlimit(RLIMIT_CORE, &rl);
	if (rl.rlim_max != 0)   /* a core was allowed: it must be reported */
		ck_assert_int_eq(st.core, 1);
	pwt_core_cleanup(pid);

	/* and through a reaping wait */
	pid = pwt_child_signal(10, SIGABRT, 1);
	ck_assert_int_eq(procwait_wait_pid(pid, -1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGABRT);
	if (rl.rlim_max != 0)
		ck_assert_int_eq(st.core, 1);
	pwt_core_cleanup(pid);
}
END_TEST
#endif

/* NOREAP leaves the zombie and reports the same status again. */
START_TEST(test_noreap)
{
	procwait_status st;
	pid_t pid = pwt_child_exit(10, 9);
	int raw;

	ck_assert_int_eq(procwait_wait_pid(pid, -1, PROCWAIT_WAIT_NOREAP, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 9);
	ck_assert_int_eq(procwait_wait_pid(pid, 0, PROCWAIT_WAIT_NOREAP, &st), 0);
	ck_assert_int_eq(st.code, 9);
#ifdef HAVE_WIN32_BACKEND
	/* the process object is still there for its owner */
	raw = pwt_reap(pid);
	ck_assert_int_eq(raw, 9);
#else
	ck_assert_int_eq(waitpid(pid, &raw, WNOHANG), pid);
	ck_assert(WIFEXITED(raw));
	ck_assert_int_eq(WEXITSTATUS(raw), 9);
#endif
}
END_TEST

/* ---- timeouts -------------------------------------------------------------- */

START_TEST(test_timeout_zero)
{
	procwait_status st;
	pid_t pid = pwt_child_sleep_forever();
	long long t0 = pwt_now_ms();

	ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), -ETIMEDOUT);
	ck_assert_int_lt(pwt_now_ms() - t0, 1000);
	/* timeout 0 on an exited child reports the exit */
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(pwt_kill(pid), 0);
	t0 = pwt_now_ms();
	while (procwait_wait_pid(pid, 0, 0, &st) == -ETIMEDOUT) {
		ck_assert_int_lt(pwt_now_ms() - t0, 10000);
		pwt_nap_ms(1);
	}
	/* killed from outside any procwait handle: an exit code */
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 128 + SIGKILL);
#else
	kill(pid, SIGKILL);
	while (procwait_wait_pid(pid, 0, 0, &st) == -ETIMEDOUT)
		usleep(1000);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGKILL);
#endif
}
END_TEST

START_TEST(test_timeout_short)
{
	procwait_status st;
	pid_t pid = pwt_child_sleep_forever();
	long long t0 = pwt_now_ms(), dt;

	ck_assert_int_eq(procwait_wait_pid(pid, 200, 0, &st), -ETIMEDOUT);
	dt = pwt_now_ms() - t0;
	ck_assert_int_ge(dt, 199);
	ck_assert_int_lt(dt, 10000);
	ck_assert(pwt_exists(pid));   /* a timeout touches nothing */
	ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), -ETIMEDOUT);
	pwt_kill(pid);
	pwt_reap(pid);
}
END_TEST

START_TEST(test_timeout_forever)
{
	procwait_status st;
	long long t0 = pwt_now_ms();   /* before the fork: the child's clock starts there */
	pid_t pid = pwt_child_exit(300, 17);

	ck_assert_int_eq(procwait_wait_pid(pid, -1, 0, &st), 0);
	ck_assert_int_ge(pwt_now_ms() - t0, 290);
	ck_assert_int_eq(st.code, 17);
}
END_TEST

/* INT_MAX ms must not overflow into an instant timeout. */
START_TEST(test_timeout_huge)
{
	procwait_status st;
	long long t0 = pwt_now_ms();   /* before the fork: the child's clock starts there */
	pid_t pid = pwt_child_exit(150, 8);

	ck_assert_int_eq(procwait_wait_pid(pid, INT_MAX, 0, &st), 0);
	ck_assert_int_ge(pwt_now_ms() - t0, 140);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 8);

#ifdef HAVE_WIN32_BACKEND
	pid = pwt_child_exit(150, (int)0xC0000005u);
	ck_assert_int_eq(procwait_wait_pid(pid, INT_MAX - 1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, (int)0xC0000005u);
	/* and through a handle */
	{
		procwait_proc *p;

		pid = pwt_child_exit(150, 8);
		ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
		ck_assert_int_eq(procwait_proc_wait(p, INT_MAX, 0, &st), 0);
		ck_assert_int_eq(st.code, 8);
		procwait_proc_close(p);
	}
#else
	pid = pwt_child_signal(150, SIGKILL, 0);
	ck_assert_int_eq(procwait_wait_pid(pid, INT_MAX - 1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGKILL);
#endif
}
END_TEST

/* ---- EINTR ----------------------------------------------------------------- */

#ifndef HAVE_WIN32_BACKEND

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void start_alarms(void)
{
	struct sigaction sa;
	struct itimerval it;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;   /* no SA_RESTART: syscalls see EINTR */
	sigaction(SIGALRM, &sa, NULL);
	it.it_interval.tv_sec = 0;
	it.it_interval.tv_usec = 20000;
	it.it_value = it.it_interval;
	setitimer(ITIMER_REAL, &it, NULL);
}

/* A handler running in the waiter neither ends the wait early nor
 * stretches the deadline. */
START_TEST(test_eintr)
{
	procwait_status st;
	pid_t pid;
	long long t0, dt;

	start_alarms();
	pid = pwt_child_exit(500, 23);
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_wait_pid(pid, -1, 0, &st), 0);
	ck_assert_int_ge(pwt_now_ms() - t0, 490);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 23);
	ck_assert_int_ge(alarms, 5);

	pid = pwt_child_sleep_forever();
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_wait_pid(pid, 300, 0, &st), -ETIMEDOUT);
	dt = pwt_now_ms() - t0;
	ck_assert_int_ge(dt, 299);
	ck_assert_int_lt(dt, 5000);
	kill(pid, SIGKILL);
	pwt_reap(pid);
}
END_TEST
#endif

/* ---- not our children -------------------------------------------------- */

START_TEST(test_nonchild)
{
	procwait_status st;
	pid_t pid = pwt_nonchild(300);
	long long t0 = pwt_now_ms();

	memset(&st, 0x55, sizeof(st));
	ck_assert_int_eq(procwait_wait_pid(pid, 10000, 0, &st), 0);
	ck_assert_int_ge(pwt_now_ms() - t0, 200);
	ck_assert_int_eq(st.pid, pid);
#ifdef HAVE_WIN32_BACKEND
	/* Windows keeps every process's exit code: a real status */
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, PWT_NONCHILD_CODE);
	ck_assert_int_eq(st.signo, 0);
	ck_assert_int_eq(procwait_status_shell(&st), PWT_NONCHILD_CODE);
#else
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_eq(st.code, 0);
	ck_assert_int_eq(st.signo, 0);
	ck_assert_int_eq(procwait_status_shell(&st), -ENODATA);
#endif
}
END_TEST

/* A zombie that is not ours has exited: reported at once, status unknown. */
START_TEST(test_nonchild_zombie)
{
	procwait_status st;
	pid_t parent, pid = pwt_nonchild_zombie(&parent);
	long long t0 = pwt_now_ms();

	ck_assert_int_eq(procwait_wait_pid(pid, 5000, 0, &st), 0);
	ck_assert_int_lt(pwt_now_ms() - t0, 4000);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, PWT_NONCHILD_CODE);
#else
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
#endif
	ck_assert(pwt_exists(pid));   /* not ours to reap: still there */
	pwt_release_zombie(parent);
}
END_TEST

#ifdef HAVE_WIN32_BACKEND
/* The main thread of a process ended (ExitThread) while another thread
 * runs: the process has not exited and must not be reported; it is once
 * that thread ends it. (The Windows side of the POSIX test below.) */
START_TEST(test_leader_thread_exit)
{
	procwait_status st;
	pid_t pid = pwt_child_run("leader-exit 600 7");
	long long t0;

	pwt_nap_ms(150);   /* the main thread is gone by now, the other one sleeps */
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), -ETIMEDOUT);
	ck_assert_int_eq(procwait_wait_pid(pid, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 7);
	ck_assert_int_ge(pwt_now_ms() - t0, 300);
}
END_TEST
#else

static void *late_exit_thread(void *arg)
{
	(void)arg;
	pwt_nap_ms(600);
	_exit(7);   /* the whole process, as exit(), without leak checks */
}

/* A process whose main thread called pthread_exit while another thread
 * runs shows 'Z' in /proc: it has not exited, and must not be reported. */
START_TEST(test_nonchild_zombie_leader_alive)
{
	procwait_status st;
	int p[2];
	pid_t mid, pid = -1;
	long long t0;

	ck_assert_int_eq(pipe(p), 0);
	mid = fork();
	ck_assert_int_ge(mid, 0);
	if (mid == 0) {
		pid_t g = fork();

		if (g == 0) {
			pthread_t th;

			if (pthread_create(&th, NULL, late_exit_thread, NULL) != 0)
				_exit(1);
			pthread_exit(NULL);
		}
		if (write(p[1], &g, sizeof(g)) != (ssize_t)sizeof(g))
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(p[0], &pid, sizeof(pid)), (int)sizeof(pid));
	close(p[0]);
	close(p[1]);
	pwt_reap(mid);
	pwt_nap_ms(150);   /* the leader is a zombie by now, its thread lives */
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), -ETIMEDOUT);
	ck_assert_int_eq(procwait_wait_pid(pid, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_ge(pwt_now_ms() - t0, 300);
}
END_TEST

/* SIGCHLD ignored: the kernel reaps; the status is unknown, never 0. */
START_TEST(test_sigchld_ignored)
{
	procwait_status st;
	struct sigaction sa;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGCHLD, &sa, NULL);
	pid = pwt_child_exit(100, 3);
	ck_assert_int_eq(procwait_wait_pid(pid, 5000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_eq(st.code, 0);

	/* the same through SA_NOCLDWAIT */
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	pid = pwt_child_exit(100, 0);
	ck_assert_int_eq(procwait_wait_pid(pid, 5000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
}
END_TEST
#endif /* !HAVE_WIN32_BACKEND */

/* The process exits between opening the handle and waiting on it. */
START_TEST(test_exit_before_wait)
{
	procwait_proc *p;
	procwait_status st;
	pid_t pid = pwt_child_sleep_forever();

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
#ifdef HAVE_WIN32_BACKEND
	/* killed from outside the handle: Windows knows an exit code only */
	ck_assert_int_eq(pwt_kill(pid), 0);
	pwt_nap_ms(100);
	ck_assert_int_eq(procwait_proc_wait(p, 5000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 128 + SIGKILL);
	procwait_proc_close(p);

	/* killed through the handle, which then knows the signal */
	pid = pwt_child_sleep_forever();
	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
	pwt_nap_ms(100);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), 0);
#else
	kill(pid, SIGKILL);
	usleep(100000);
	ck_assert_int_eq(procwait_proc_wait(p, 5000, 0, &st), 0);
#endif
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGKILL);
	procwait_proc_close(p);

	/* a child that is already a zombie when we first look */
	pid = pwt_child_exit(0, 44);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(pwt_await_exit(pid, 10000), 0);
#else
	usleep(100000);
#endif
	ck_assert_int_eq(procwait_wait_pid(pid, 0, 0, &st), 0);
	ck_assert_int_eq(st.code, 44);
}
END_TEST

#ifndef HAVE_WIN32_BACKEND

/* A tracer holds the exit: the pidfd turns readable before the parent
 * can reap. The wait must neither return early nor spin. */
START_TEST(test_ptrace_spurious_readiness)
{
	procwait_status st;
	pid_t child, tracer;
	long long t0, cpu0;
	int sync[2];

	ck_assert_int_eq(pipe(sync), 0);
	child = pwt_child_exit(100, 7);
	tracer = fork();
	ck_assert_int_ge(tracer, 0);
	if (tracer == 0) {
		int raw;
		char ok = ptrace(PTRACE_SEIZE, child, 0, 0) == 0;

		if (write(sync[1], &ok, 1) != 1)
			_exit(1);
		usleep(700000);
		waitpid(child, &raw, __WALL);
		_exit(0);
	}
	{
		char ok = 0;

		ck_assert_int_eq(read(sync[0], &ok, 1), 1);
		if (!ok) {
			/* ptrace not allowed here (Yama, a container): the
			 * pitfall cannot be staged; the wait still must work. */
			fprintf(stderr, "note: ptrace not permitted; spurious readiness not staged\n");
		}
	}
	cpu0 = pwt_cpu_ms();
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_wait_pid(child, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 7);
	ck_assert_int_ge(pwt_now_ms() - t0, 50);
	/* ~600 ms of spurious readiness must not be spent spinning. */
	ck_assert_int_lt(pwt_cpu_ms() - cpu0, 300);
	pwt_reap(tracer);
}
END_TEST
#endif

/* ---- bad input --------------------------------------------------------- */

START_TEST(test_invalid_args)
{
	procwait_status st;
	pid_t gone;

	ck_assert_int_eq(procwait_wait_pid(0, 0, 0, &st), -EINVAL);
	ck_assert_int_eq(procwait_wait_pid(-1, 0, 0, &st), -EINVAL);
	ck_assert_int_eq(procwait_wait_pid(INT_MIN, 0, 0, &st), -EINVAL);
	ck_assert_int_eq(procwait_wait_pid(getpid(), 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(procwait_wait_pid(getpid(), 0, 0x80, &st), -EINVAL);
	ck_assert_int_eq(procwait_proc_wait(NULL, 0, 0, &st), -EINVAL);
	ck_assert_int_eq(procwait_status_shell(NULL), -EINVAL);
	memset(&st, 0, sizeof(st));
	st.kind = 99;
	ck_assert_int_eq(procwait_status_shell(&st), -EINVAL);
	/* waiting for ourselves forever cannot end */
	ck_assert_int_eq(procwait_wait_pid(getpid(), -1, 0, &st), -EDEADLK);
	ck_assert_int_eq(procwait_wait_pid(getpid(), 0, 0, &st), -ETIMEDOUT);
	/* a pid that no longer exists */
	gone = pwt_child_exit(0, 0);
	pwt_reap(gone);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(pwt_await_gone(gone, 10000), 0);
#endif
	ck_assert_int_eq(procwait_wait_pid(gone, -1, 0, &st), -ESRCH);
	/* a pid beyond pid_max */
	ck_assert_int_eq(procwait_wait_pid(INT_MAX, -1, 0, &st), -ESRCH);
}
END_TEST

#ifdef HAVE_WIN32_BACKEND
static HANDLE idle_stop;

static void *idle_thread(void *arg)
{
	volatile pid_t *tid = arg;

	*tid = (pid_t)GetCurrentThreadId();
	WaitForSingleObject(idle_stop, 60000);
	return NULL;
}

/* A thread id is not a process id (on Windows the two share one space of
 * ids). */
START_TEST(test_thread_id)
{
	procwait_status st;
	procwait_proc *p = (procwait_proc *)&p;
	pthread_t th;
	volatile pid_t tid = 0;
	int r1, r2;

	idle_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
	ck_assert_ptr_nonnull(idle_stop);
	ck_assert_int_eq(pthread_create(&th, NULL, idle_thread, (void *)&tid), 0);
	while (!tid)
		pwt_nap_ms(1);
	r1 = procwait_wait_pid(tid, 0, 0, &st);
	r2 = procwait_proc_open(tid, 0, &p);
	SetEvent(idle_stop);
	pthread_join(th, NULL);
	CloseHandle(idle_stop);
	ck_assert_int_eq(r1, -EINVAL);
	ck_assert_int_eq(r2, -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST
#else
static void *idle_thread(void *arg)
{
	pid_t *tid = arg;

	*tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

/* A thread id is not a process id. */
START_TEST(test_thread_id)
{
	procwait_status st;
	procwait_proc *p;
	pthread_t th;
	volatile pid_t tid = 0;

	ck_assert_int_eq(pthread_create(&th, NULL, idle_thread, (void *)&tid), 0);
	while (!tid)
		usleep(1000);
	ck_assert_int_eq(procwait_wait_pid(tid, 0, 0, &st), -EINVAL);
	ck_assert_int_eq(procwait_proc_open(tid, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST
#endif

/* ---- fallbacks by errno class ------------------------------------------ */

#ifndef HAVE_WIN32_BACKEND

/* Descriptors exhausted: the call still succeeds through the per-call
 * fallback, and the fast path is not given up for good. */
START_TEST(test_fd_exhaustion)
{
	procwait_status st;
	const char *call = NULL;
	struct rlimit rl;
	pid_t pid;
	int fast = pwt_backend_has_fd();

	getrlimit(RLIMIT_NOFILE, &rl);
	pid = pwt_child_exit(100, 4);
	pwt_exhaust_fds();
	ck_assert_int_eq(procwait_wait_pid(pid, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 4);
	if (fast) {
		ck_assert_int_eq(procwait_last_fallback(&call), -EMFILE);
		ck_assert_str_eq(call, pwt_backend_is("pidfd") ? "pidfd_open" : "kevent");
		ck_assert(pwt_backend_is(pwt_backend() ? pwt_backend() : "pidfd"));   /* not latched */
	} else {
		ck_assert_int_eq(procwait_last_fallback(&call), 0);
	}
	/* timeouts and non-children too */
	pid = pwt_child_sleep_forever();
	ck_assert_int_eq(procwait_wait_pid(pid, 100, 0, &st), -ETIMEDOUT);
	kill(pid, SIGKILL);
	ck_assert_int_eq(procwait_wait_pid(pid, 5000, 0, &st), 0);
	ck_assert_int_eq(st.signo, SIGKILL);
	setrlimit(RLIMIT_NOFILE, &rl);
}
END_TEST

/* Exhausted before the very first call: the probe fails for a temporary
 * reason and must be tried again later, not latched. */
START_TEST(test_fd_exhaustion_at_probe)
{
	procwait_status st;
	struct rlimit rl;
	pid_t pid = pwt_child_exit(50, 6);

	getrlimit(RLIMIT_NOFILE, &rl);
	pwt_exhaust_fds();
	ck_assert_int_eq(procwait_wait_pid(pid, 10000, 0, &st), 0);
	ck_assert_int_eq(st.code, 6);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_str_eq(procwait_backend_name(), pwt_backend() ? pwt_backend() : "pidfd");
}
END_TEST
#endif

static Suite *wait_suite(void)
{
	Suite *s = suite_create("wait");
	TCase *tc;

	tc = pwt_tcase("status");
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_signal_status);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_core_flag);
#endif
	tcase_add_test(tc, test_noreap);
	suite_add_tcase(s, tc);

	tc = pwt_tcase("timeout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_timeout_zero);
	tcase_add_test(tc, test_timeout_short);
	tcase_add_test(tc, test_timeout_forever);
	tcase_add_test(tc, test_timeout_huge);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_eintr);
#endif
	suite_add_tcase(s, tc);

	tc = pwt_tcase("who");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nonchild);
	tcase_add_test(tc, test_nonchild_zombie);
#ifdef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_leader_thread_exit);
#else
	tcase_add_test(tc, test_nonchild_zombie_leader_alive);
	tcase_add_test(tc, test_sigchld_ignored);
#endif
	tcase_add_test(tc, test_exit_before_wait);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_ptrace_spurious_readiness);
#endif
	suite_add_tcase(s, tc);

	tc = pwt_tcase("input");
	tcase_add_test(tc, test_invalid_args);
	tcase_add_test(tc, test_thread_id);
	suite_add_tcase(s, tc);

#ifndef HAVE_WIN32_BACKEND
	tc = pwt_tcase("fallback");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fd_exhaustion);
	tcase_add_test(tc, test_fd_exhaustion_at_probe);
	suite_add_tcase(s, tc);
#endif
	return s;
}

int main(void)
{
	return pwt_run(wait_suite());
}
