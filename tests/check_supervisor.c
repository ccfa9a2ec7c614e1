/* SPDX-License-Identifier: MIT */
/*
 * The supervisor (supervisor.h): the events of each restart policy with the
 * exact exit status, backoff delays that double up to the cap and start over
 * after a run as long as the cap,
 * the burst limit and the FATAL state (and a restart by hand out of it),
 * the stop sequence (stop signal to the whole group, SIGKILL after the
 * grace, a custom stop signal, a stop during the backoff), per-run
 * timeouts, programs that cannot be started, removal and id reuse, the
 * child's descriptors, the data pointer, embedding procwait_supervisor_fd()
 * and procwait_supervisor_timeout() in a poll(2) loop, many services at
 * once, procwait_supervisor_free() with services still running, the state
 * names and every argument check.
 *
 * Services run in sessions of their own, so Check's runner cannot reach
 * them: every test frees its supervisor and checks that nothing is left,
 * and services meant to run "forever" end by themselves after about a
 * minute, in case a failed assertion ended the test before its cleanup.
 * Timing assertions are lower bounds (a restart never comes before its
 * delay) or generous upper bounds; the suite runs under both backends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "helpers.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The longest any single expected event may take to arrive. */
#define EV_TIMEOUT_MS 15000

/* A service's "forever": about a minute, so that nothing outlives for
 * long a test that failed before it could free its supervisor (a failed
 * assertion ends the test process with _exit). */
#define LOOP "i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done"

/* ---- helpers ------------------------------------------------------------ */

static procwait_supervisor *new_sv(void)
{
	procwait_supervisor *sv = NULL;
	int r = procwait_supervisor_new(0, &sv);

	ck_assert_msg(r == 0, "procwait_supervisor_new: %s", procwait_strerror(r));
	ck_assert_ptr_nonnull(sv);
	return sv;
}

/* Free the supervisor; nothing of ours may be left unreaped. */
static void end_sv(procwait_supervisor *sv)
{
	procwait_supervisor_free(sv);
	pwt_assert_no_children();
}

/* argv for `sh -c SCRIPT`: valid until the next call (add copies it). */
static char *const *sh(const char *script)
{
	static char *v[4];

	v[0] = (char *)"sh";
	v[1] = (char *)"-c";
	v[2] = (char *)script;
	v[3] = NULL;
	return v;
}

/* argv of one or two words: valid until the next call. */
static char *const *cmd(const char *a0, const char *a1)
{
	static char *v[3];

	v[0] = (char *)a0;
	v[1] = (char *)a1;
	v[2] = NULL;
	return v;
}

static int add_ok(procwait_supervisor *sv, const procwait_service_options *o, void *data)
{
	int id = procwait_supervisor_add(sv, o, data);

	ck_assert_msg(id >= 0, "procwait_supervisor_add: %s", procwait_strerror(id));
	return id;
}

/* The next event, which must come within EV_TIMEOUT_MS. */
static procwait_service_event next_ev(procwait_supervisor *sv)
{
	procwait_service_event ev;
	int n;

	memset(&ev, 0x5a, sizeof(ev));
	n = procwait_supervisor_run(sv, EV_TIMEOUT_MS, &ev, 1);
	ck_assert_msg(n == 1, "procwait_supervisor_run: %d (%s)", n,
	              n < 0 ? procwait_strerror(n) : "no event in time");
	return ev;
}

/* The next event is id entering state, with data. */
static procwait_service_event expect(procwait_supervisor *sv, int id, void *data, int state)
{
	procwait_service_event ev = next_ev(sv);

	ck_assert_msg(ev.id == id && ev.state == state,
	              "expected service %d %s, got service %d %s (pid %d, exit kind %d code %d signo %d, error %d)",
	              id, procwait_service_state_name(state), ev.id,
	              procwait_service_state_name(ev.state), (int)ev.pid, ev.status.kind,
	              ev.status.code, ev.status.signo, ev.error);
	ck_assert_ptr_eq(ev.data, data);
	return ev;
}

/* Skip events (each must carry its service's data, datas[id]) until id
 * enters state; no service may turn FATAL meanwhile. */
static procwait_service_event until_state(procwait_supervisor *sv, int id, int state,
                                          void *const *datas, int ndatas)
{
	long long t0 = pwt_now_ms();

	for (;;) {
		procwait_service_event ev = next_ev(sv);

		ck_assert_int_ge(ev.id, 0);
		ck_assert_int_lt(ev.id, ndatas);
		ck_assert_ptr_eq(ev.data, datas[ev.id]);
		ck_assert_msg(ev.state != PROCWAIT_SERVICE_FATAL || state == PROCWAIT_SERVICE_FATAL,
		              "service %d turned fatal (error %d)", ev.id, ev.error);
		if (ev.id == id && ev.state == state)
			return ev;
		ck_assert_msg(pwt_now_ms() - t0 < 30000, "service %d not %s within 30 s", id,
		              procwait_service_state_name(state));
	}
}

static void assert_exit_code(const procwait_service_event *ev, pid_t pid, int code)
{
	ck_assert_int_eq(ev->pid, pid);
	ck_assert_int_eq(ev->status.pid, pid);
	ck_assert_int_eq(ev->status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(ev->status.code, code);
	ck_assert_int_eq(ev->status.signo, 0);
}

static void assert_killed_by(const procwait_service_event *ev, pid_t pid, int signo)
{
	ck_assert_int_eq(ev->pid, pid);
	ck_assert_int_eq(ev->status.pid, pid);
	ck_assert_msg(ev->status.kind == PROCWAIT_STATUS_SIGNALED,
	              "expected death by signal %d, got kind %d code %d", signo,
	              ev->status.kind, ev->status.code);
	ck_assert_int_eq(ev->status.signo, signo);
	ck_assert_int_eq(ev->status.code, 0);
}

/* The state the supervisor reports for id, and the pid it gives. */
static int state_of(procwait_supervisor *sv, int id, pid_t *pid)
{
	pid_t p = -12345;
	int st = procwait_supervisor_state(sv, id, &p);

	ck_assert_msg(st >= 0, "procwait_supervisor_state(%d): %s", id, procwait_strerror(st));
	ck_assert_int_ne(p, -12345);
	if (pid)
		*pid = p;
	return st;
}

/* Nothing is running, in backoff or queued. */
static void assert_idle(procwait_supervisor *sv)
{
	procwait_service_event ev;

	ck_assert_int_eq(procwait_supervisor_run(sv, 0, &ev, 1), -ECHILD);
	ck_assert_int_eq(procwait_supervisor_run(sv, 1000, &ev, 1), -ECHILD);
	ck_assert_int_eq(procwait_supervisor_timeout(sv), -1);
}

static void cloexec_pipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
}

/* Read one line (without its newline) within timeout_ms. */
static void read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	long long t0 = pwt_now_ms();
	size_t got = 0;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = timeout_ms - (pwt_now_ms() - t0);
		ssize_t r;

		ck_assert_msg(left > 0, "no line within %d ms (got '%.*s')", timeout_ms,
		              (int)got, buf);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, buf + got, 1);
		if (r < 0 && errno == EINTR)
			continue;
		ck_assert_msg(r == 1, "EOF before a whole line (got '%.*s')", (int)got, buf);
		if (buf[got] == '\n') {
			buf[got] = '\0';
			return;
		}
		got++;
		ck_assert_uint_lt(got, size);
	}
}

/* Read until EOF (every writer is gone), within timeout_ms. */
static void await_eof(int fd, int timeout_ms)
{
	long long t0 = pwt_now_ms();
	char buf[256];

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = timeout_ms - (pwt_now_ms() - t0);
		ssize_t r;

		ck_assert_msg(left > 0, "the pipe has writers left after %d ms", timeout_ms);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		ck_assert_int_ge(r, 0);
		if (r == 0)
			return;
	}
}

/* Is pid gone (or a zombie nobody reaped: it runs no more)? */
static int gone(pid_t pid)
{
	char path[64], buf[512], *rp;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return !pwt_exists(pid);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (!rp)
		return !pwt_exists(pid);
	return rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

static void await_gone(pid_t pid)
{
	long long t0 = pwt_now_ms();

	while (!gone(pid)) {
		ck_assert_msg(pwt_now_ms() - t0 < 10000, "process %d still runs after 10 s",
		              (int)pid);
		pwt_nap_ms(5);
	}
}

/* ---- 1. restart policies ----------------------------------------------- */

/* NEVER: RUNNING, then EXITED with the exact status, nothing else; the
 * state query agrees; a signal death is reported as one, never as 0. */
START_TEST(test_never_exact_status)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag_a, tag_b, a, b;
	pid_t pa, pb, q;

	o.argv = sh("exit 3");
	a = add_ok(sv, &o, &tag_a);
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_RUNNING);
	pa = ev.pid;
	ck_assert_int_gt(pa, 0);
	ck_assert_int_eq(ev.error, 0);
	ck_assert_int_eq(ev.restarts, 0);
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_EXITED);
	assert_exit_code(&ev, pa, 3);
	ck_assert_int_eq(ev.error, 0);
	ck_assert_int_eq(ev.timed_out, 0);
	ck_assert_int_eq(ev.restarts, 0);
	ck_assert_int_eq(state_of(sv, a, &q), PROCWAIT_SERVICE_EXITED);
	ck_assert_int_eq(q, 0);
	assert_idle(sv);

	o.argv = sh("kill -KILL $$; exit 0");
	b = add_ok(sv, &o, &tag_b);
	ck_assert_int_ne(b, a);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_RUNNING);
	pb = ev.pid;
	ck_assert_int_gt(pb, 0);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_EXITED);
	assert_killed_by(&ev, pb, SIGKILL);
	ck_assert_int_eq(ev.timed_out, 0);
	ck_assert_int_eq(state_of(sv, b, NULL), PROCWAIT_SERVICE_EXITED);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* ON_FAILURE: exit 0 is final (EXITED); exit 1 goes to BACKOFF and is
 * started again, as a new process. */
START_TEST(test_on_failure)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag_a, tag_b, a, b;
	pid_t p1, p2;

	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 50;
	o.argv = sh("exit 0");
	a = add_ok(sv, &o, &tag_a);
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_RUNNING);
	p1 = ev.pid;
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_EXITED);
	assert_exit_code(&ev, p1, 0);
	ck_assert_int_eq(ev.restarts, 0);
	assert_idle(sv);

	o.argv = sh("exit 1");
	o.burst_limit = 100;
	b = add_ok(sv, &o, &tag_b);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_RUNNING);
	p1 = ev.pid;
	ck_assert_int_eq(ev.restarts, 0);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_BACKOFF);
	assert_exit_code(&ev, p1, 1);
	ck_assert_int_eq(ev.delay_ms, 50);
	ck_assert_int_eq(ev.restarts, 1);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_RUNNING);
	p2 = ev.pid;
	ck_assert_int_gt(p2, 0);
	ck_assert_int_ne(p2, p1);
	ck_assert_int_eq(ev.restarts, 1);

	ck_assert_int_eq(procwait_supervisor_stop(sv, b), 0);
	ev = until_state(sv, b, PROCWAIT_SERVICE_STOPPED, (void *const[]){ &tag_a, &tag_b }, 2);
	ck_assert_int_eq(state_of(sv, b, NULL), PROCWAIT_SERVICE_STOPPED);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* ALWAYS: even exit 0 is followed by BACKOFF and a new run. */
START_TEST(test_always)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id;
	pid_t p1, p2;

	o.restart = PROCWAIT_RESTART_ALWAYS;
	o.backoff_min_ms = 50;
	o.burst_limit = 100;
	o.argv = sh("exit 0");
	id = add_ok(sv, &o, &tag);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	p1 = ev.pid;
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_BACKOFF);
	assert_exit_code(&ev, p1, 0);
	ck_assert_int_eq(ev.delay_ms, 50);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	p2 = ev.pid;
	ck_assert_int_gt(p2, 0);
	ck_assert_int_ne(p2, p1);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_BACKOFF);
	assert_exit_code(&ev, p2, 0);
	ck_assert_int_eq(ev.restarts, 2);

	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	until_state(sv, id, PROCWAIT_SERVICE_STOPPED, (void *const[]){ &tag }, 1);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* ---- 2. backoff and burst limit ---------------------------------------- */

/* Delays 50, 100, 200, 400, 400 (doubling, capped, never reset: each run
 * is far shorter than the cap), and no restart comes before its delay:
 * the clock is read before the run() call that sees the exit, so the
 * supervisor noticed the exit after that, and restarted >= delay later. */
START_TEST(test_backoff_doubles)
{
	static const int want[] = { 50, 100, 200, 400, 400 };
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id;
	size_t i;
	pid_t pid;

	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 50;
	o.backoff_max_ms = 400;
	o.burst_limit = 100;
	o.argv = sh("exit 1");
	id = add_ok(sv, &o, &tag);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	pid = ev.pid;
	for (i = 0; i < NELEM(want); i++) {
		long long t0 = pwt_now_ms(), gap;

		ev = expect(sv, id, &tag, PROCWAIT_SERVICE_BACKOFF);
		assert_exit_code(&ev, pid, 1);
		ck_assert_int_eq(ev.delay_ms, want[i]);
		ck_assert_int_eq(ev.restarts, (int)i + 1);
		ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
		gap = pwt_now_ms() - t0;
		ck_assert_msg(gap >= want[i], "restart %zu after %lld ms, before its delay %d ms",
		              i + 1, gap, want[i]);
		ck_assert_msg(gap < want[i] + 10000, "restart %zu only after %lld ms", i + 1, gap);
		ck_assert_int_ne(ev.pid, pid);
		ck_assert_int_eq(ev.restarts, (int)i + 1);
		pid = ev.pid;
	}
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	until_state(sv, id, PROCWAIT_SERVICE_STOPPED, (void *const[]){ &tag }, 1);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* The backoff starts over once a run lasted backoff_max_ms: runs 1 and 2
 * fail at once (delays 50, 100), run 3 lasts 1.2 s >= the 1 s cap (delay
 * 50 again), run 4 fails at once (100). The run count is kept in a file
 * in the service's cwd. */
START_TEST(test_backoff_reset)
{
	static const int want[] = { 50, 100, 50, 100 };
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	char dir[] = "/tmp/pwt-sv-XXXXXX", path[64];
	int tag, id;
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 50;
	o.backoff_max_ms = 1000;
	o.burst_limit = 100;
	o.cwd = dir;
	o.argv = sh("n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > count; "
	            "if [ $n -eq 3 ]; then sleep 1.2; fi; exit 1");
	id = add_ok(sv, &o, &tag);
	for (i = 0; i < NELEM(want); i++) {
		expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
		ev = expect(sv, id, &tag, PROCWAIT_SERVICE_BACKOFF);
		ck_assert_int_eq(ev.status.code, 1);
		ck_assert_int_eq(ev.delay_ms, want[i]);
		ck_assert_int_eq(ev.restarts, (int)i + 1);
	}
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	until_state(sv, id, PROCWAIT_SERVICE_STOPPED, (void *const[]){ &tag }, 1);
	assert_idle(sv);
	end_sv(sv);
	snprintf(path, sizeof(path), "%s/count", dir);
	ck_assert_int_eq(unlink(path), 0);   /* the cwd was used */
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* One cycle into the burst limit (3 in 10 s, backoff 10 ms, a program
 * that fails at once): 3 starts, counted from restarts 0, with delays 10
 * and 20, then FATAL with the last exit's status; the state query says
 * FATAL, and with nothing else to do run() answers -ECHILD. */
static void burst_cycle(procwait_supervisor *sv, int id, int *tag)
{
	procwait_service_event ev;
	int starts;
	pid_t pid = 0, prev = 0, q;

	for (starts = 1; starts <= 3; starts++) {
		ev = expect(sv, id, tag, PROCWAIT_SERVICE_RUNNING);
		ck_assert_int_eq(ev.restarts, starts - 1);
		pid = ev.pid;
		ck_assert_int_gt(pid, 0);
		ck_assert_int_ne(pid, prev);
		prev = pid;
		if (starts < 3) {
			ev = expect(sv, id, tag, PROCWAIT_SERVICE_BACKOFF);
			assert_exit_code(&ev, pid, 1);
			ck_assert_int_eq(ev.delay_ms, 10 << (starts - 1));
			ck_assert_int_eq(ev.restarts, starts);
		}
	}
	ev = expect(sv, id, tag, PROCWAIT_SERVICE_FATAL);
	assert_exit_code(&ev, pid, 1);
	ck_assert_int_eq(ev.error, 0);
	ck_assert_int_eq(ev.restarts, 2);
	ck_assert_int_eq(state_of(sv, id, &q), PROCWAIT_SERVICE_FATAL);
	ck_assert_int_eq(q, 0);
	assert_idle(sv);
}

static int add_burst_service(procwait_supervisor *sv, int *tag)
{
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;

	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 10;
	o.burst_limit = 3;
	o.burst_window_ms = 10000;
	o.argv = sh("exit 1");
	return add_ok(sv, &o, tag);
}

/* burst_limit 3: after the third start, FATAL, which stays. */
START_TEST(test_burst_fatal)
{
	procwait_supervisor *sv = new_sv();
	int tag, id;

	id = add_burst_service(sv, &tag);
	burst_cycle(sv, id, &tag);
	pwt_nap_ms(100);
	ck_assert_int_eq(state_of(sv, id, NULL), PROCWAIT_SERVICE_FATAL);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* A restart by hand out of FATAL starts it again with the restart count,
 * the backoff and the burst count reset: three more starts before FATAL
 * (within the same 10 s window). */
START_TEST(test_restart_fatal)
{
	procwait_supervisor *sv = new_sv();
	int tag, id;

	id = add_burst_service(sv, &tag);
	burst_cycle(sv, id, &tag);
	ck_assert_int_eq(procwait_supervisor_restart(sv, id), 0);
	burst_cycle(sv, id, &tag);
	ck_assert_int_eq(procwait_supervisor_restart(sv, id), 0);
	burst_cycle(sv, id, &tag);
	end_sv(sv);
}
END_TEST

/* restart (and remove) of a service that is running, stopping or in
 * backoff: -EBUSY, and nothing changes. */
START_TEST(test_restart_busy)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, tag2, id, id2, rfd[2];
	char line[64];
	pid_t pid, q;

	cloexec_pipe(rfd);
	o.argv = sh("trap '' TERM; echo ready; " LOOP);
	o.fds[1] = rfd[1];
	o.kill_grace_ms = 10000;
	id = add_ok(sv, &o, &tag);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	pid = ev.pid;
	read_line(rfd[0], line, sizeof(line), EV_TIMEOUT_MS);
	ck_assert_str_eq(line, "ready");
	ck_assert_int_eq(procwait_supervisor_restart(sv, id), -EBUSY);
	ck_assert_int_eq(procwait_supervisor_remove(sv, id), -EBUSY);
	ck_assert_int_eq(state_of(sv, id, &q), PROCWAIT_SERVICE_RUNNING);
	ck_assert_int_eq(q, pid);

	/* STOPPING: the TERM is ignored, the grace is long. */
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPING);
	ck_assert_int_eq(procwait_supervisor_restart(sv, id), -EBUSY);
	ck_assert_int_eq(procwait_supervisor_remove(sv, id), -EBUSY);
	ck_assert_int_eq(state_of(sv, id, &q), PROCWAIT_SERVICE_STOPPING);
	ck_assert_int_eq(q, pid);
	ck_assert_int_eq(procwait_supervisor_run(sv, 0, &ev, 1), 0);

	/* BACKOFF. */
	o = (procwait_service_options)PROCWAIT_SERVICE_OPTIONS_INIT;
	o.argv = sh("exit 1");
	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 60000;
	id2 = add_ok(sv, &o, &tag2);
	expect(sv, id2, &tag2, PROCWAIT_SERVICE_RUNNING);
	expect(sv, id2, &tag2, PROCWAIT_SERVICE_BACKOFF);
	ck_assert_int_eq(procwait_supervisor_restart(sv, id2), -EBUSY);
	ck_assert_int_eq(procwait_supervisor_remove(sv, id2), -EBUSY);
	ck_assert_int_eq(state_of(sv, id2, &q), PROCWAIT_SERVICE_BACKOFF);
	ck_assert_int_eq(q, 0);
	ck_assert_int_eq(procwait_supervisor_stop(sv, id2), 0);
	expect(sv, id2, &tag2, PROCWAIT_SERVICE_STOPPED);

	close(rfd[1]);
	close(rfd[0]);
	end_sv(sv);
}
END_TEST

/* ---- 3. stop ----------------------------------------------------------- */

/* A RUNNING service: STOPPING, then STOPPED with the stop signal's status
 * (SIGTERM); stop again is a no-op. */
START_TEST(test_stop_running)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id;
	pid_t pid, q;

	o.argv = cmd("sleep", "60");
	o.restart = PROCWAIT_RESTART_ALWAYS;
	id = add_ok(sv, &o, &tag);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	pid = ev.pid;
	ck_assert_int_eq(state_of(sv, id, &q), PROCWAIT_SERVICE_RUNNING);
	ck_assert_int_eq(q, pid);
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPING);
	ck_assert_int_eq(ev.pid, pid);
	ck_assert_int_eq(ev.timed_out, 0);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPED);
	assert_killed_by(&ev, pid, SIGTERM);
	ck_assert_int_eq(ev.timed_out, 0);
	ck_assert_int_eq(state_of(sv, id, &q), PROCWAIT_SERVICE_STOPPED);
	ck_assert_int_eq(q, 0);
	/* Not restarted despite ALWAYS; a second stop changes nothing. */
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	ck_assert_int_eq(state_of(sv, id, NULL), PROCWAIT_SERVICE_STOPPED);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* A service that ignores SIGTERM (and so do its sleep children, which
 * inherit the ignored disposition): SIGKILL after kill_grace_ms reaches the
 * whole group, including a background grandchild. */
START_TEST(test_stop_grace_kill_group)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id, rfd[2];
	char line[64];
	long long t0, waited;
	pid_t pid, grand;

	cloexec_pipe(rfd);
	o.argv = sh("trap '' TERM; sleep 60 & echo $!; "
	            LOOP);
	o.fds[1] = rfd[1];
	o.kill_grace_ms = 300;
	id = add_ok(sv, &o, &tag);
	close(rfd[1]);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	pid = ev.pid;
	/* The line comes after the trap: the TERM is ignored from now on. */
	read_line(rfd[0], line, sizeof(line), EV_TIMEOUT_MS);
	grand = (pid_t)atoi(line);
	ck_assert_int_gt(grand, 0);
	ck_assert_int_ne(grand, pid);
	ck_assert(!gone(grand));

	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPING);
	ck_assert_int_eq(ev.pid, pid);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPED);
	waited = pwt_now_ms() - t0;
	assert_killed_by(&ev, pid, SIGKILL);
	ck_assert_msg(waited >= 300, "SIGKILL after %lld ms, before the 300 ms grace", waited);
	ck_assert_msg(waited < 10000, "SIGKILL only after %lld ms", waited);
	/* Every process holding the pipe is gone, the grandchild too. */
	await_eof(rfd[0], 10000);
	await_gone(grand);
	close(rfd[0]);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* The leader dies of the stop signal at once but a grandchild ignores it:
 * the rest of the group is killed with the leader's exit, not after the
 * (long) grace. */
START_TEST(test_stop_leader_exits_first)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id, rfd[2];
	char line[64];
	long long t0, waited;
	pid_t pid, grand;

	cloexec_pipe(rfd);
	o.argv = sh("(trap '' TERM; echo $(exec sh -c 'echo $PPID'); exec sleep 60) & "
	            LOOP);
	o.fds[1] = rfd[1];
	o.kill_grace_ms = 60000;
	id = add_ok(sv, &o, &tag);
	close(rfd[1]);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	pid = ev.pid;
	read_line(rfd[0], line, sizeof(line), EV_TIMEOUT_MS);
	grand = (pid_t)atoi(line);
	ck_assert_int_gt(grand, 0);
	ck_assert_int_ne(grand, pid);
	/* The subshell's trap is set: its sleep ignores TERM. Let it exec. */
	pwt_nap_ms(100);

	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPING);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPED);
	waited = pwt_now_ms() - t0;
	assert_killed_by(&ev, pid, SIGTERM);
	ck_assert_msg(waited < 30000, "stopped only after %lld ms", waited);
	await_eof(rfd[0], 10000);
	await_gone(grand);
	close(rfd[0]);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* stop_signal SIGUSR1, which the service traps to exit 5. */
START_TEST(test_stop_custom_signal)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id, rfd[2], null;
	char line[64];
	pid_t pid;

	cloexec_pipe(rfd);
	/* dash reports its sleep child killed by SIGUSR1 on stderr: mute it. */
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(null, 0);
	o.argv = sh("trap 'exit 5' USR1; echo ready; " LOOP);
	o.fds[1] = rfd[1];
	o.fds[2] = null;
	o.stop_signal = SIGUSR1;
	o.kill_grace_ms = 20000;
	id = add_ok(sv, &o, &tag);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	pid = ev.pid;
	read_line(rfd[0], line, sizeof(line), EV_TIMEOUT_MS);
	ck_assert_str_eq(line, "ready");
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPING);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPED);
	assert_exit_code(&ev, pid, 5);
	close(rfd[1]);
	close(rfd[0]);
	close(null);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* A stop in BACKOFF: STOPPED at once (the state query says so before any
 * run()), and the restart never comes. */
START_TEST(test_stop_in_backoff)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id, t;

	o.argv = sh("exit 1");
	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 300;
	id = add_ok(sv, &o, &tag);
	expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_BACKOFF);
	ck_assert_int_eq(ev.delay_ms, 300);
	t = procwait_supervisor_timeout(sv);
	ck_assert_int_ge(t, 0);
	ck_assert_int_le(t, 300);
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	ck_assert_int_eq(state_of(sv, id, NULL), PROCWAIT_SERVICE_STOPPED);
	ck_assert_int_eq(procwait_supervisor_timeout(sv), 0);   /* queued */
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPED);
	ck_assert_int_eq(ev.timed_out, 0);
	assert_idle(sv);
	/* Well past the delay: still nothing. */
	pwt_nap_ms(500);
	ck_assert_int_eq(state_of(sv, id, NULL), PROCWAIT_SERVICE_STOPPED);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* ---- 4. timeouts and start failures ------------------------------------ */

/* timeout_ms stops a run (stop signal: SIGTERM), flagged timed_out; with
 * NEVER the service is EXITED, with ALWAYS it is started again. */
START_TEST(test_timeout)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag_a, tag_b, a, b;
	long long t0, took;
	pid_t p1, p2;

	o.argv = cmd("sleep", "60");
	o.timeout_ms = 200;
	t0 = pwt_now_ms();
	a = add_ok(sv, &o, &tag_a);
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_RUNNING);
	p1 = ev.pid;
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_EXITED);
	took = pwt_now_ms() - t0;
	assert_killed_by(&ev, p1, SIGTERM);
	ck_assert_int_eq(ev.timed_out, 1);
	ck_assert_msg(took >= 200, "timed out after %lld ms, before 200 ms", took);
	ck_assert_msg(took < 10000, "timed out only after %lld ms", took);
	assert_idle(sv);

	o.restart = PROCWAIT_RESTART_ALWAYS;
	o.backoff_min_ms = 50;
	o.timeout_ms = 150;
	b = add_ok(sv, &o, &tag_b);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_RUNNING);
	p1 = ev.pid;
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_BACKOFF);
	assert_killed_by(&ev, p1, SIGTERM);
	ck_assert_int_eq(ev.timed_out, 1);
	ck_assert_int_eq(ev.delay_ms, 50);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_RUNNING);
	p2 = ev.pid;
	ck_assert_int_ne(p2, p1);
	/* The next run times out too. */
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_BACKOFF);
	assert_killed_by(&ev, p2, SIGTERM);
	ck_assert_int_eq(ev.timed_out, 1);
	ck_assert_int_eq(procwait_supervisor_stop(sv, b), 0);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_STOPPED);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* A program that does not exist: FATAL with -ENOENT, pid 0, no restart
 * (whatever the policy); a restart by hand fails the same way. */
START_TEST(test_no_such_program)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag_a, tag_b, a, b;
	pid_t q;

	o.argv = cmd("procwait-no-such-program-here", NULL);
	o.restart = PROCWAIT_RESTART_ALWAYS;
	a = add_ok(sv, &o, &tag_a);
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_FATAL);
	ck_assert_int_eq(ev.error, -ENOENT);
	ck_assert_int_eq(ev.pid, 0);
	ck_assert_int_eq(state_of(sv, a, &q), PROCWAIT_SERVICE_FATAL);
	ck_assert_int_eq(q, 0);
	assert_idle(sv);

	o.argv = cmd("/nonexistent/procwait/program", NULL);
	b = add_ok(sv, &o, &tag_b);
	ev = expect(sv, b, &tag_b, PROCWAIT_SERVICE_FATAL);
	ck_assert_int_eq(ev.error, -ENOENT);
	assert_idle(sv);

	ck_assert_int_eq(procwait_supervisor_restart(sv, a), 0);
	ev = expect(sv, a, &tag_a, PROCWAIT_SERVICE_FATAL);
	ck_assert_int_eq(ev.error, -ENOENT);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* A program that deletes itself: the first run works, the restart after
 * the backoff cannot start it: FATAL with -ENOENT, pid 0. */
START_TEST(test_program_vanishes)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	char dir[] = "/tmp/pwt-sv-XXXXXX", prog[64];
	static const char script[] = "#!/bin/sh\nrm -f \"$0\"\nexit 4\n";
	int tag, id, fd;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(prog, sizeof(prog), "%s/prog", dir);
	fd = open(prog, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwt_write_full(fd, script, sizeof(script) - 1), 0);
	ck_assert_int_eq(close(fd), 0);

	o.argv = cmd(prog, NULL);
	o.restart = PROCWAIT_RESTART_ALWAYS;
	o.backoff_min_ms = 20;
	id = add_ok(sv, &o, &tag);
	pid = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING).pid;
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_BACKOFF);
	assert_exit_code(&ev, pid, 4);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_FATAL);
	ck_assert_int_eq(ev.error, -ENOENT);
	ck_assert_int_eq(ev.pid, 0);
	ck_assert_int_eq(state_of(sv, id, NULL), PROCWAIT_SERVICE_FATAL);
	assert_idle(sv);
	end_sv(sv);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- 5. the table ------------------------------------------------------ */

/* remove: -EBUSY while running, 0 once stopped, then -ENOENT for every
 * call; the freed id is the next one handed out. */
START_TEST(test_remove_and_reuse)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag_a, tag_b, tag_c, a, b, c;
	pid_t q = -1;

	o.argv = cmd("sleep", "60");
	a = add_ok(sv, &o, &tag_a);
	b = add_ok(sv, &o, &tag_b);
	ck_assert_int_ne(a, b);
	expect(sv, a, &tag_a, PROCWAIT_SERVICE_RUNNING);
	expect(sv, b, &tag_b, PROCWAIT_SERVICE_RUNNING);
	ck_assert_int_eq(procwait_supervisor_remove(sv, a), -EBUSY);
	ck_assert_int_eq(procwait_supervisor_stop(sv, a), 0);
	expect(sv, a, &tag_a, PROCWAIT_SERVICE_STOPPING);
	expect(sv, a, &tag_a, PROCWAIT_SERVICE_STOPPED);
	ck_assert_int_eq(procwait_supervisor_remove(sv, a), 0);
	ck_assert_int_eq(procwait_supervisor_remove(sv, a), -ENOENT);
	ck_assert_int_eq(procwait_supervisor_state(sv, a, &q), -ENOENT);
	ck_assert_int_eq(procwait_supervisor_stop(sv, a), -ENOENT);
	ck_assert_int_eq(procwait_supervisor_restart(sv, a), -ENOENT);
	ck_assert_int_eq(state_of(sv, b, NULL), PROCWAIT_SERVICE_RUNNING);

	/* The id comes back, with the new service's data. */
	o.argv = sh("exit 7");
	c = add_ok(sv, &o, &tag_c);
	ck_assert_int_eq(c, a);
	ev = expect(sv, c, &tag_c, PROCWAIT_SERVICE_RUNNING);
	ev = expect(sv, c, &tag_c, PROCWAIT_SERVICE_EXITED);
	ck_assert_int_eq(ev.status.code, 7);
	ck_assert_int_eq(procwait_supervisor_remove(sv, c), 0);

	ck_assert_int_eq(procwait_supervisor_stop(sv, b), 0);
	expect(sv, b, &tag_b, PROCWAIT_SERVICE_STOPPING);
	expect(sv, b, &tag_b, PROCWAIT_SERVICE_STOPPED);
	ck_assert_int_eq(procwait_supervisor_remove(sv, b), 0);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* A service stopped in BACKOFF is STOPPED at once, so it may be removed
 * before its STOPPED event was collected: after a successful remove no
 * event of it may come any more (its data pointer may already be freed,
 * and its id may already name another service); the queued events of
 * other services stay, in order. */
START_TEST(test_remove_drops_queued_events)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag_a, tag_b, tag_c, a, b, c;

	o.argv = sh("exit 1");
	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 60000;
	a = add_ok(sv, &o, &tag_a);
	expect(sv, a, &tag_a, PROCWAIT_SERVICE_RUNNING);
	expect(sv, a, &tag_a, PROCWAIT_SERVICE_BACKOFF);
	c = add_ok(sv, &o, &tag_c);
	expect(sv, c, &tag_c, PROCWAIT_SERVICE_RUNNING);
	expect(sv, c, &tag_c, PROCWAIT_SERVICE_BACKOFF);
	/* Queued: a STOPPED, c STOPPED, c RUNNING. */
	ck_assert_int_eq(procwait_supervisor_stop(sv, a), 0);
	ck_assert_int_eq(procwait_supervisor_stop(sv, c), 0);
	ck_assert_int_eq(procwait_supervisor_restart(sv, c), 0);
	ck_assert_int_eq(state_of(sv, a, NULL), PROCWAIT_SERVICE_STOPPED);
	ck_assert_int_eq(procwait_supervisor_remove(sv, a), 0);

	/* The id is handed out again. */
	o = (procwait_service_options)PROCWAIT_SERVICE_OPTIONS_INIT;
	o.argv = sh("exit 6");
	b = add_ok(sv, &o, &tag_b);
	ck_assert_int_eq(b, a);
	ev = next_ev(sv);
	ck_assert_msg(ev.id != a || ev.data == &tag_b,
	              "an event of the removed service came after its removal: id %d %s",
	              ev.id, procwait_service_state_name(ev.state));
	ck_assert_int_eq(ev.id, c);
	ck_assert_ptr_eq(ev.data, &tag_c);
	ck_assert_int_eq(ev.state, PROCWAIT_SERVICE_STOPPED);
	expect(sv, c, &tag_c, PROCWAIT_SERVICE_RUNNING);
	expect(sv, b, &tag_b, PROCWAIT_SERVICE_RUNNING);
	/* b exits 6, c goes back to a long backoff: in either order. */
	ev = until_state(sv, b, PROCWAIT_SERVICE_EXITED, (void *const[]){ &tag_b, &tag_c }, 2);
	ck_assert_int_eq(ev.status.code, 6);
	ck_assert_int_eq(procwait_supervisor_stop(sv, c), 0);
	until_state(sv, c, PROCWAIT_SERVICE_STOPPED, (void *const[]){ &tag_b, &tag_c }, 2);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* The child's 0, 1 and 2 go where fds[] says; envp is its environment. */
START_TEST(test_fds)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id, in[2], out[2], err[2];
	char line[128];
	char *env[] = { (char *)"PWT_SV_VAR=forty-two", NULL };

	cloexec_pipe(in);
	cloexec_pipe(out);
	cloexec_pipe(err);
	o.argv = sh("read x; echo \"got $x $PWT_SV_VAR\"; echo oops >&2; exit 0");
	o.envp = env;
	o.fds[0] = in[0];
	o.fds[1] = out[1];
	o.fds[2] = err[1];
	id = add_ok(sv, &o, &tag);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	ck_assert_int_eq(pwt_write_full(in[1], "hello\n", 6), 0);
	close(in[1]);
	read_line(out[0], line, sizeof(line), EV_TIMEOUT_MS);
	ck_assert_str_eq(line, "got hello forty-two");
	read_line(err[0], line, sizeof(line), EV_TIMEOUT_MS);
	ck_assert_str_eq(line, "oops");
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_EXITED);
	ck_assert_int_eq(ev.status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(ev.status.code, 0);
	await_eof(out[0], 10000);
	close(out[0]);
	close(err[0]);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* Every event carries its own service's data pointer (NULL too). */
START_TEST(test_data_pointer)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev[8];
	int tags[4], ids[4], seen_exit[4] = { 0 }, i, n, done = 0;
	void *datas[4];

	o.argv = sh("exit 2");
	for (i = 0; i < 4; i++) {
		datas[i] = i == 3 ? NULL : &tags[i];
		ids[i] = add_ok(sv, &o, datas[i]);
		ck_assert_int_eq(ids[i], i);
	}
	while (done < 4) {
		n = procwait_supervisor_run(sv, EV_TIMEOUT_MS, ev, (int)NELEM(ev));
		ck_assert_int_gt(n, 0);
		for (i = 0; i < n; i++) {
			ck_assert_int_ge(ev[i].id, 0);
			ck_assert_int_lt(ev[i].id, 4);
			ck_assert_ptr_eq(ev[i].data, datas[ev[i].id]);
			if (ev[i].state == PROCWAIT_SERVICE_EXITED) {
				ck_assert_int_eq(seen_exit[ev[i].id], 0);
				ck_assert_int_eq(ev[i].status.code, 2);
				seen_exit[ev[i].id] = 1;
				done++;
			} else {
				ck_assert_int_eq(ev[i].state, PROCWAIT_SERVICE_RUNNING);
			}
		}
	}
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* ---- 6. embedding ------------------------------------------------------ */

/* procwait_supervisor_fd() in poll(2) with procwait_supervisor_timeout():
 * the exit of a service is seen (under pidfd the fd itself becomes
 * readable, and the timeout is -1 with no timer); run(0) answers 0 when
 * nothing is due; the timeout is > 0 during a backoff, 0 with events
 * queued, -1 when idle. */
START_TEST(test_embedding)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int pidfd = pwt_backend_is("pidfd");
	int tag, id, fd, t, readable = 0, got = 0;
	long long t0;
	pid_t pid;

	fd = procwait_supervisor_fd(sv);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(procwait_supervisor_timeout(sv), -1);

	o.argv = cmd("sleep", "1");
	id = add_ok(sv, &o, &tag);
	ck_assert_int_eq(procwait_supervisor_timeout(sv), 0);   /* RUNNING queued */
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	pid = ev.pid;

	/* Nothing due: run(0) and a short run(100) return 0. */
	ck_assert_int_eq(procwait_supervisor_run(sv, 0, &ev, 1), 0);
	t0 = pwt_now_ms();
	ck_assert_int_eq(procwait_supervisor_run(sv, 100, &ev, 1), 0);
	ck_assert_int_ge(pwt_now_ms() - t0, 100);
	if (pidfd) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		ck_assert_int_eq(procwait_supervisor_timeout(sv), -1);
		ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	} else {
		ck_assert_int_ge(procwait_supervisor_timeout(sv), 0);
	}

	t0 = pwt_now_ms();
	while (!got) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int r, n;

		t = procwait_supervisor_timeout(sv);
		if (pidfd)
			ck_assert_int_eq(t, -1);
		else
			ck_assert_int_ge(t, 0);
		r = poll(&pfd, 1, t);
		ck_assert_int_ge(r, 0);
		if (r > 0) {
			ck_assert(pfd.revents & POLLIN);
			readable++;
		} else if (pidfd) {
			ck_abort_msg("poll with timeout -1 returned 0");
		}
		n = procwait_supervisor_run(sv, 0, &ev, 1);
		ck_assert_int_ge(n, 0);
		if (pidfd && r > 0)
			ck_assert_msg(n == 1, "the fd was readable but run() reported nothing");
		if (n == 1) {
			ck_assert_int_eq(ev.id, id);
			ck_assert_ptr_eq(ev.data, &tag);
			ck_assert_int_eq(ev.state, PROCWAIT_SERVICE_EXITED);
			assert_exit_code(&ev, pid, 0);
			got = 1;
		}
		ck_assert_msg(pwt_now_ms() - t0 < 10000, "exit not seen within 10 s");
	}
	if (pidfd)
		ck_assert_int_ge(readable, 1);
	assert_idle(sv);

	/* A backoff is a timer: > 0 (at most the delay) while it runs. */
	o.argv = sh("exit 1");
	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 5000;
	id = add_ok(sv, &o, &tag);
	expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING);
	expect(sv, id, &tag, PROCWAIT_SERVICE_BACKOFF);
	t = procwait_supervisor_timeout(sv);
	ck_assert_int_gt(t, 0);
	ck_assert_int_le(t, 5000);
	ck_assert_int_eq(procwait_supervisor_run(sv, 0, &ev, 1), 0);
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	ck_assert_int_eq(procwait_supervisor_timeout(sv), 0);
	expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPED);
	ck_assert_int_eq(procwait_supervisor_timeout(sv), -1);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* ---- 7. many services, free -------------------------------------------- */

#define NSVC 50

/* 50 short services with ALWAYS, each started at least twice; then all
 * are stopped, wherever they are (running, exited unnoticed, in backoff):
 * each reaches STOPPED exactly once, none turns FATAL, no zombie is left. */
START_TEST(test_many_services)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	static procwait_service_event ev[64];
	static int tags[NSVC], starts[NSVC], stopped[NSVC];
	void *datas[NSVC];
	int i, n, k, enough = 0, nstopped = 0;
	long long t0;

	o.argv = cmd("true", NULL);
	o.restart = PROCWAIT_RESTART_ALWAYS;
	o.backoff_min_ms = 20;
	o.backoff_max_ms = 200;
	o.burst_limit = 10000;
	for (i = 0; i < NSVC; i++) {
		datas[i] = &tags[i];
		ck_assert_int_eq(add_ok(sv, &o, datas[i]), i);
	}
	t0 = pwt_now_ms();
	while (enough < NSVC) {
		n = procwait_supervisor_run(sv, EV_TIMEOUT_MS, ev, (int)NELEM(ev));
		ck_assert_int_gt(n, 0);
		for (k = 0; k < n; k++) {
			int id = ev[k].id;

			ck_assert_int_ge(id, 0);
			ck_assert_int_lt(id, NSVC);
			ck_assert_ptr_eq(ev[k].data, datas[id]);
			ck_assert_msg(ev[k].state == PROCWAIT_SERVICE_RUNNING ||
			              ev[k].state == PROCWAIT_SERVICE_BACKOFF,
			              "service %d: %s (error %d)", id,
			              procwait_service_state_name(ev[k].state), ev[k].error);
			if (ev[k].state == PROCWAIT_SERVICE_RUNNING && ++starts[id] == 2)
				enough++;
		}
		ck_assert_msg(pwt_now_ms() - t0 < 30000, "only %d services restarted in 30 s",
		              enough);
	}
	for (i = 0; i < NSVC; i++)
		ck_assert_int_eq(procwait_supervisor_stop(sv, i), 0);
	t0 = pwt_now_ms();
	while (nstopped < NSVC) {
		n = procwait_supervisor_run(sv, EV_TIMEOUT_MS, ev, (int)NELEM(ev));
		ck_assert_msg(n > 0, "run: %d with %d of %d stopped", n, nstopped, NSVC);
		for (k = 0; k < n; k++) {
			int id = ev[k].id;

			ck_assert_int_ge(id, 0);
			ck_assert_int_lt(id, NSVC);
			ck_assert_ptr_eq(ev[k].data, datas[id]);
			/* Only the tail of the stop: queued events from before
			 * it, STOPPING, STOPPED. */
			if (ev[k].state == PROCWAIT_SERVICE_STOPPED) {
				ck_assert_int_eq(stopped[id], 0);
				stopped[id] = 1;
				nstopped++;
			} else {
				ck_assert_int_eq(stopped[id], 0);
				ck_assert_msg(ev[k].state != PROCWAIT_SERVICE_FATAL &&
				              ev[k].state != PROCWAIT_SERVICE_EXITED,
				              "service %d: %s", id,
				              procwait_service_state_name(ev[k].state));
			}
		}
		ck_assert_msg(pwt_now_ms() - t0 < 30000, "only %d stopped in 30 s", nstopped);
	}
	for (i = 0; i < NSVC; i++)
		ck_assert_int_eq(state_of(sv, i, NULL), PROCWAIT_SERVICE_STOPPED);
	assert_idle(sv);
	pwt_assert_no_children();
	end_sv(sv);
}
END_TEST

/* procwait_supervisor_free() with services running (one of them ignoring
 * SIGTERM, with a grandchild), one stopping, one in backoff: every group
 * is killed and reaped, nothing is left. */
START_TEST(test_free_kills_groups)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	int tag, a, b, c, d, rfd[2];
	char line[64];
	pid_t grand, pa, pb;

	cloexec_pipe(rfd);
	o.argv = cmd("sleep", "60");
	a = add_ok(sv, &o, &tag);
	pa = expect(sv, a, &tag, PROCWAIT_SERVICE_RUNNING).pid;

	o.argv = sh("trap '' TERM; sleep 60 & echo $!; " LOOP);
	o.fds[1] = rfd[1];
	b = add_ok(sv, &o, &tag);
	pb = expect(sv, b, &tag, PROCWAIT_SERVICE_RUNNING).pid;
	read_line(rfd[0], line, sizeof(line), EV_TIMEOUT_MS);
	grand = (pid_t)atoi(line);
	ck_assert_int_gt(grand, 0);

	/* Another TERM-ignoring one (stopped once its trap is set), stopping
	 * with a long grace. */
	o.argv = sh("trap '' TERM; echo ready; " LOOP);
	o.kill_grace_ms = 60000;
	c = add_ok(sv, &o, &tag);
	close(rfd[1]);
	o.fds[1] = -1;
	expect(sv, c, &tag, PROCWAIT_SERVICE_RUNNING);
	read_line(rfd[0], line, sizeof(line), EV_TIMEOUT_MS);
	ck_assert_str_eq(line, "ready");
	ck_assert_int_eq(procwait_supervisor_stop(sv, c), 0);
	expect(sv, c, &tag, PROCWAIT_SERVICE_STOPPING);

	o.argv = sh("exit 1");
	o.restart = PROCWAIT_RESTART_ON_FAILURE;
	o.backoff_min_ms = 60000;
	d = add_ok(sv, &o, &tag);
	expect(sv, d, &tag, PROCWAIT_SERVICE_RUNNING);
	expect(sv, d, &tag, PROCWAIT_SERVICE_BACKOFF);

	ck_assert(!gone(pa));
	ck_assert(!gone(pb));
	end_sv(sv);   /* frees, then: no children left */
	ck_assert(!pwt_exists(pa));
	ck_assert(!pwt_exists(pb));
	await_eof(rfd[0], 10000);
	await_gone(grand);
	close(rfd[0]);
	procwait_supervisor_free(NULL);
}
END_TEST

/* A forked copy of the process frees its copy of the supervisor: the
 * owner's services are left alone (not killed, not reaped), and the owner
 * still sees and stops them. */
START_TEST(test_forked_copy)
{
	procwait_supervisor *sv = new_sv();
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT;
	procwait_service_event ev;
	int tag, id, st;
	pid_t pid, child;

	o.argv = cmd("sleep", "60");
	id = add_ok(sv, &o, &tag);
	pid = expect(sv, id, &tag, PROCWAIT_SERVICE_RUNNING).pid;
	child = pwt_fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		procwait_supervisor_free(sv);
		_exit(pwt_exists(pid) && !gone(pid) ? 0 : 1);
	}
	st = pwt_reap(child);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "the copy's free harmed the service (status %#x)", st);
	ck_assert(!gone(pid));
	ck_assert_int_eq(state_of(sv, id, NULL), PROCWAIT_SERVICE_RUNNING);
	ck_assert_int_eq(procwait_supervisor_run(sv, 50, &ev, 1), 0);
	ck_assert_int_eq(procwait_supervisor_stop(sv, id), 0);
	expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPING);
	ev = expect(sv, id, &tag, PROCWAIT_SERVICE_STOPPED);
	assert_killed_by(&ev, pid, SIGTERM);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

/* ---- 8. names and arguments -------------------------------------------- */

START_TEST(test_state_names)
{
	ck_assert_str_eq(procwait_service_state_name(PROCWAIT_SERVICE_STOPPED), "stopped");
	ck_assert_str_eq(procwait_service_state_name(PROCWAIT_SERVICE_RUNNING), "running");
	ck_assert_str_eq(procwait_service_state_name(PROCWAIT_SERVICE_BACKOFF), "backoff");
	ck_assert_str_eq(procwait_service_state_name(PROCWAIT_SERVICE_STOPPING), "stopping");
	ck_assert_str_eq(procwait_service_state_name(PROCWAIT_SERVICE_EXITED), "exited");
	ck_assert_str_eq(procwait_service_state_name(PROCWAIT_SERVICE_FATAL), "fatal");
	ck_assert_str_eq(procwait_service_state_name(-1), "unknown");
	ck_assert_str_eq(procwait_service_state_name(6), "unknown");
	ck_assert_str_eq(procwait_service_state_name(99), "unknown");
	ck_assert_str_eq(procwait_service_state_name(INT_MIN), "unknown");
	ck_assert_str_eq(procwait_service_state_name(INT_MAX), "unknown");
}
END_TEST

/* Every call's argument checks; nothing is started by a refused add. */
START_TEST(test_bad_arguments)
{
	procwait_supervisor *sv, *out = NULL;
	procwait_service_options o = PROCWAIT_SERVICE_OPTIONS_INIT, bad;
	procwait_service_event ev;
	char *const empty[] = { NULL };
	static const int ids[] = { -1, 0, 1, 99, INT_MAX, INT_MIN };
	size_t i;
	int tag, k;

	ck_assert_int_eq(procwait_supervisor_new(0, NULL), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_new(1, &out), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_new(0x80000000u, &out), -EINVAL);

	sv = new_sv();
	o.argv = cmd("true", NULL);
	ck_assert_int_eq(procwait_supervisor_add(NULL, &o, &tag), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_add(sv, NULL, &tag), -EINVAL);
	bad = o;
	bad.size = sizeof(bad) - 1;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad.size = 0;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad = o;
	bad.argv = NULL;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad.argv = empty;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad = o;
	bad.restart = 7;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad.restart = 3;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad.restart = -1;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad = o;
	bad.stop_signal = 999;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad.stop_signal = -1;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad.stop_signal = NSIG;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	for (k = 0; k < 3; k++) {
		bad = o;
		bad.fds[k] = -2;
		ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
		bad.fds[k] = INT_MIN;
		ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	}
	bad = o;
	bad.flags = 1;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);
	bad.flags = 0x80000000u;
	ck_assert_int_eq(procwait_supervisor_add(sv, &bad, &tag), -EINVAL);

	/* Nothing was added, nothing started. */
	for (i = 0; i < NELEM(ids); i++) {
		pid_t q = 77;

		ck_assert_int_eq(procwait_supervisor_state(sv, ids[i], &q), -ENOENT);
		ck_assert_int_eq(procwait_supervisor_state(sv, ids[i], NULL), -ENOENT);
		ck_assert_int_eq(procwait_supervisor_stop(sv, ids[i]), -ENOENT);
		ck_assert_int_eq(procwait_supervisor_restart(sv, ids[i]), -ENOENT);
		ck_assert_int_eq(procwait_supervisor_remove(sv, ids[i]), -ENOENT);
	}
	assert_idle(sv);
	pwt_assert_no_children();

	ck_assert_int_eq(procwait_supervisor_stop(NULL, 0), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_restart(NULL, 0), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_remove(NULL, 0), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_state(NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_run(NULL, 0, &ev, 1), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_run(sv, 0, NULL, 1), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_run(sv, 0, &ev, 0), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_run(sv, 0, &ev, -1), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_run(sv, -1, &ev, 0), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_fd(NULL), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_timeout(NULL), -EINVAL);

	/* With one service: a bad id next to a good one, and the argument
	 * checks of run() do not consume its queued event. */
	k = add_ok(sv, &o, &tag);
	ck_assert_int_eq(k, 0);
	ck_assert_int_eq(procwait_supervisor_run(sv, 0, &ev, 0), -EINVAL);
	ck_assert_int_eq(procwait_supervisor_state(sv, 1, NULL), -ENOENT);
	ck_assert_int_eq(procwait_supervisor_stop(sv, -1), -ENOENT);
	ck_assert_int_eq(procwait_supervisor_restart(sv, 1), -ENOENT);
	ck_assert_int_eq(procwait_supervisor_remove(sv, 1), -ENOENT);
	expect(sv, k, &tag, PROCWAIT_SERVICE_RUNNING);
	expect(sv, k, &tag, PROCWAIT_SERVICE_EXITED);
	assert_idle(sv);
	end_sv(sv);
}
END_TEST

static Suite *supervisor_suite(void)
{
	Suite *s = suite_create("supervisor");
	TCase *tc;

	tc = tcase_create("policies");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_never_exact_status);
	tcase_add_test(tc, test_on_failure);
	tcase_add_test(tc, test_always);
	suite_add_tcase(s, tc);

	tc = tcase_create("backoff");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_backoff_doubles);
	tcase_add_test(tc, test_backoff_reset);
	tcase_add_test(tc, test_burst_fatal);
	tcase_add_test(tc, test_restart_fatal);
	tcase_add_test(tc, test_restart_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("stop");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stop_running);
	tcase_add_test(tc, test_stop_grace_kill_group);
	tcase_add_test(tc, test_stop_leader_exits_first);
	tcase_add_test(tc, test_stop_custom_signal);
	tcase_add_test(tc, test_stop_in_backoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_no_such_program);
	tcase_add_test(tc, test_program_vanishes);
	suite_add_tcase(s, tc);

	tc = tcase_create("table");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_remove_and_reuse);
	tcase_add_test(tc, test_remove_drops_queued_events);
	tcase_add_test(tc, test_fds);
	tcase_add_test(tc, test_data_pointer);
	suite_add_tcase(s, tc);

	tc = tcase_create("embed");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_embedding);
	suite_add_tcase(s, tc);

	tc = tcase_create("many");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_many_services);
	tcase_add_test(tc, test_free_kills_groups);
	tcase_add_test(tc, test_forked_copy);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return pwt_run(supervisor_suite());
}
