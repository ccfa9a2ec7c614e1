/* SPDX-License-Identifier: MIT */
/* Two fork-server features, end to end (forkserver.h):
 *
 * - spares (procwait_forkserver_set_spares()): a child forked ahead of the
 *   next request, which the server hands the request to inside next().
 *   Pinned: requests really run in the spare (its pid was a child of the
 *   server before the request was sent) and see their own argv, env, cwd,
 *   stdio and a clean state, not the spare's; exact statuses; a new spare
 *   after each request; spares are not counted, do not block the idle stop,
 *   are killed and reaped when the server stops or is freed or spares are
 *   turned off; a spare that dies idle or a failed spare fork turns spares
 *   off until a request is forked the usual way; in the step API a spare
 *   whose server goes away gets -ECANCELED; the argument checks.
 *
 * - signals before STARTED (procwait_client_signal() after
 *   procwait_client_send()): a queued request is withdrawn (-EINTR) unless
 *   the signal is a job-control or harmless one (dropped); a request being
 *   forked gets the signal once its child runs, even one the server
 *   ignores (serve() forks with every signal blocked, and so does this
 *   test's step-API host, as forkserver.h asks); -ESRCH before any send.
 *
 * Servers run either in a forked process (serve(), on a socket in a fresh
 * private directory, as in check_forkserver.c, whose scaffolding is shared
 * in fs-testlib.c) or in the test process itself (the step API, forking with the
 * test's own fork()). Run once per backend (tests/run-backend.sh). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fs-testlib.h"

extern char **environ;

/* A descriptor the serve() server keeps open (not close-on-exec): the
 * requests must not see it. */
#define MARK_FD 100
/* In the serve() server's environment only: a request's environment is the
 * client's, never the spare's. */
#define SERVER_ONLY_VAR "PWT_SPARE_SERVER_ONLY"

/* ---- small utilities ---------------------------------------------------------- */

/* pid (not our child, an orphan) is dead within ms: gone, or a zombie
 * waiting for whoever reaps orphans here. */
static int dead_within(pid_t pid, int ms)
{
	long long end = pwt_now_ms() + ms;

	for (;;) {
		char line[1024];
		const char *f = fst_proc_stat(pid, line, sizeof(line));

		if (!f || f[0] == 'Z' || f[0] == 'X')
			return 1;
		if (pwt_now_ms() >= end)
			return 0;
		pwt_nap_ms(5);
	}
}

/* /proc/PID/stat: state letter, parent, start time (clock ticks). 0 when
 * the process is gone. */
static int proc_info(pid_t pid, char *state, pid_t *ppid, unsigned long long *start)
{
	char line[1024];
	const char *f = fst_proc_stat(pid, line, sizeof(line));
	unsigned long long st = 0;
	int pp = 0;
	char s = '?';

	/* "S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 *  utime stime cutime cstime priority nice threads itrealvalue
	 *  starttime" */
	if (!f || sscanf(f, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
	                 "%*d %*d %*d %*d %llu", &s, &pp, &st) != 3)
		return 0;
	if (state)
		*state = s;
	if (ppid)
		*ppid = (pid_t)pp;
	if (start)
		*start = st;
	return 1;
}

/* The processes whose parent is ppid (zombies included), sorted: count. */
static int children_of(pid_t ppid, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0, i, j;

	ck_assert_msg(d != NULL, "opendir /proc: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		pid_t pid = (pid_t)atoi(e->d_name), pp;

		if (pid <= 0 || e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (proc_info(pid, NULL, &pp, NULL) && pp == ppid && n < max)
			out[n++] = pid;
	}
	closedir(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && out[j - 1] > out[j]; j--) {
			pid_t t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

/* ---- the children's programs ---------------------------------------------------- */

/* Run a request's argv: the built-in "@name args" (no exec). Never returns. */
static void run_argv(char *const *argv)
{
	fst_run_builtin(argv);
	_exit(121);
}

/* ---- the server under test (serve(), in a forked process) ------------------------ */

struct srv_cfg {
	int max_children, max_queue, idle_ms, grace_ms;
	int spares;             /* procwait_forkserver_set_spares(fs, spares) */
};
#define SRV_CFG_INIT { 0, -1, 0, -1, 1 }

static struct {
	pid_t owner;            /* the test process */
	pid_t pid;              /* the server process, 0 when none */
	char dir[64];           /* fresh private directory, "" when none */
	char path[108];         /* the server's socket in it */
} S;

/* The server process: never returns. Writes the result of new() (or of
 * set_spares()) to readyfd. Exit 0 when serve() returned 0 and no child of
 * the server is left unreaped (6 otherwise). */
static void server_main(const void *arg, int readyfd)
{
	const struct srv_cfg *cfg = arg;
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	procwait_request *req;
	int rc;

	fst_log_open(S.dir);
	/* State neither a spare's request nor any child may inherit: an
	 * ignored signal, a blocked one, a descriptor without close-on-exec,
	 * an environment variable, a directory. */
	fst_server_taint(MARK_FD);
	fst_block_stop_signals();
	setenv(SERVER_ONLY_VAR, "1", 1);
	if (chdir("/") < 0)
		_exit(5);
	o.socket_path = S.path;
	o.max_children = cfg->max_children;
	o.max_queue = cfg->max_queue;
	o.idle_ms = cfg->idle_ms;
	o.kill_grace_ms = cfg->grace_ms;
	o.log = fst_srv_log;
	rc = procwait_forkserver_new(&o, &fs);
	if (rc == 0) {
		rc = procwait_forkserver_set_spares(fs, cfg->spares);
		if (rc < 0)
			procwait_forkserver_free(fs);
	}
	(void)!write(readyfd, &rc, sizeof(rc));
	close(readyfd);
	if (rc < 0)
		_exit(3);
	rc = procwait_forkserver_serve(fs, &req);
	if (rc == 1)
		run_argv(procwait_request_argv(req));
	procwait_forkserver_free(fs);
	if (rc == 0) {
		/* Every child reaped: no spare left behind as a zombie. */
		errno = 0;
		if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
			_exit(6);
	}
	_exit(rc == 0 ? 0 : 4);
}

static void srv_start(const struct srv_cfg *cfg)
{
	ck_assert_msg(S.pid == 0, "a server runs already");
	snprintf(S.path, sizeof(S.path), "%s/s.sock", S.dir);
	fst_spawn_server(&S.pid, server_main, cfg, S.path, "procwait_forkserver_new/set_spares");
}

/* Stop the server with SIGTERM: it must exit 0 (serve() returned 0, no
 * child left unreaped) and remove its socket. */
static void srv_stop(void)
{
	fst_stop_server(&S.pid, 20000, S.path, " (6: a child of the server was left unreaped)");
}

/* When a test fails, Check ends its process with exit(): leave nothing
 * behind then either. */
static void emergency_cleanup(void)
{
	if (getpid() != S.owner)
		return;
	fst_cleanup_now(&S.pid, S.dir);
}

/* The private directory (its janitor removes it when a failing test ends
 * in _exit(), after Check killed the process group, server included:
 * spares and requests, in sessions of their own, die with the server by
 * their parent-death signal). */
static void setup_dir(void)
{
	S.owner = getpid();
	S.pid = 0;
	fst_setup_dir(S.dir, sizeof(S.dir), "pwsp", emergency_cleanup);
	snprintf(S.path, sizeof(S.path), "%s/s.sock", S.dir);
}

static void teardown(void)
{
	srv_stop();
	fst_log_close();
	fst_remove_dir(S.dir);
	pwt_assert_no_children();
}

/* ---- client helpers ------------------------------------------------------------------ */

/* One request through the client API: connect, start, wait (20 s). */
static void run_req(const procwait_client_request *rq, struct fst_run *out)
{
	fst_run_req(S.path, rq, 20000, out);
}

/* A request with /dev/null as 0, 1, 2, an explicit small environment, in
 * the test dir. */
static char *const small_env[] = { "PWT_CLIENT=1", NULL };

static void req_init(procwait_client_request *rq, char *const *argv)
{
	procwait_client_request init = PROCWAIT_CLIENT_REQUEST_INIT;

	*rq = init;
	rq->argv = argv;
	rq->envp = small_env;
	rq->cwd = S.dir;
	rq->fds[0] = rq->fds[1] = rq->fds[2] = fst_devnull();
}

static void expect_exit(const procwait_result *res, int code, const char *what)
{
	char b[96];

	ck_assert_msg(res->status.kind == PROCWAIT_STATUS_EXITED && res->status.code == code,
	              "%s: expected exit %d, got %s", what, code,
	              fst_status_str(&res->status, b, sizeof(b)));
	ck_assert_msg(res->timed_out == 0, "%s: timed_out set", what);
}

static void expect_signaled(const procwait_result *res, int signo, const char *what)
{
	char b[96];

	ck_assert_msg(res->status.kind == PROCWAIT_STATUS_SIGNALED &&
	              res->status.signo == signo && res->status.code == 0,
	              "%s: expected death by signal %d, got %s", what, signo,
	              fst_status_str(&res->status, b, sizeof(b)));
}

/* ---- spares of the serve() server, seen from outside ------------------------------ */

/* Wait (10 s) until the server has exactly one child, alive, other than
 * `not`: the idle spare. Returns its pid. */
static pid_t wait_spare(pid_t not, const char *what)
{
	long long end = pwt_now_ms() + 10000;
	pid_t kids[16];
	int n = 0;

	for (;;) {
		char st = '?';

		n = children_of(S.pid, kids, 16);
		if (n == 1 && kids[0] != not && proc_info(kids[0], &st, NULL, NULL) && st != 'Z')
			return kids[0];
		if (pwt_now_ms() >= end)
			break;
		pwt_nap_ms(5);
	}
	ck_abort_msg("%s: the server (pid %d) has %d children (first %d), not one new idle "
	             "spare", what, (int)S.pid, n, n ? (int)kids[0] : 0);
	return -1;
}

/* A request that must run in the idle spare: the spare is found first (a
 * child of the server before anything is sent), then the request runs and
 * its STARTED pid must be that spare's. */
static void run_in_spare(const procwait_client_request *rq, struct fst_run *r, pid_t *spare_io,
                         const char *what)
{
	pid_t spare = wait_spare(*spare_io, what);

	run_req(rq, r);
	ck_assert_msg(r->start_rc == spare,
	              "%s: started as pid %d, not in the spare %d forked ahead of it", what,
	              r->start_rc, (int)spare);
	*spare_io = spare;
}

/* ---- serve() with spares ----------------------------------------------------------- */

START_TEST(test_serve_statuses)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const exit0[] = { "@exit", "0", NULL };
	char *const exit3[] = { "@exit", "3", NULL };
	char *const killterm[] = { "@kill", "15", NULL };
	char *const sleeper[] = { "@sleep", "20000", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	struct fst_run r;
	pid_t spare = 0, pid;

	srv_start(&cfg);

	req_init(&rq, exit0);
	run_in_spare(&rq, &r, &spare, "exit 0");
	fst_assert_ran(&r, "exit 0");
	expect_exit(&r.res, 0, "exit 0 in a spare");

	req_init(&rq, exit3);
	run_in_spare(&rq, &r, &spare, "exit 3");
	fst_assert_ran(&r, "exit 3");
	expect_exit(&r.res, 3, "exit 3 in a spare");

	req_init(&rq, killterm);
	run_in_spare(&rq, &r, &spare, "killed by SIGTERM");
	fst_assert_ran(&r, "killed by SIGTERM");
	expect_signaled(&r.res, SIGTERM, "a spare's request that kills itself with SIGTERM");

	/* Signals forwarded after STARTED: SIGTERM, and SIGUSR2, which the
	 * server ignores (the spare reset it before its request came). */
	{
		const int sigs[] = { SIGTERM, SIGUSR2 };
		unsigned i;

		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			pid_t want = wait_spare(spare, "a sleeper");

			req_init(&rq, sleeper);
			ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
			pid = procwait_client_start(c, &rq);
			ck_assert_msg(pid == want, "a sleeper started as %d, not in the spare %d",
			              (int)pid, (int)want);
			spare = want;
			ck_assert_int_eq(procwait_client_signal(c, sigs[i]), 0);
			ck_assert_int_eq(procwait_client_wait(c, 10000, &res), 1);
			expect_signaled(&res, sigs[i], "a spare's sleeper signalled after STARTED");
			procwait_client_close(c);
		}
	}

	/* The request's own timeout applies to a spare's request. */
	req_init(&rq, sleeper);
	rq.timeout_ms = 200;
	run_in_spare(&rq, &r, &spare, "timeout");
	fst_assert_ran(&r, "timeout");
	ck_assert_msg(r.res.status.kind == PROCWAIT_STATUS_SIGNALED &&
	              r.res.status.signo == SIGTERM && r.res.timed_out == 1,
	              "a spare's request past its timeout: kind %d signo %d timed_out %d",
	              r.res.status.kind, r.res.status.signo, r.res.timed_out);

	/* And a fresh spare is there again. */
	(void)wait_spare(spare, "after the last request");
}
END_TEST

/* The request's argv, environment and directory, byte for byte, through a
 * pipe on its stdout. */
static void roundtrip_in_spare(char *const *argv, char *const *envp, const char *cwd,
                               pid_t *spare, const char *what)
{
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	struct fst_buf got = { NULL, 0, 0 };
	pid_t expect, pid;
	int p[2];

	expect = wait_spare(*spare, what);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.envp = envp;
	rq.cwd = cwd;
	rq.fds[1] = p[1];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[1]);
	ck_assert_msg(pid == expect, "%s: started as %d, not in the spare %d", what, (int)pid,
	              (int)expect);
	*spare = expect;
	ck_assert_msg(fst_read_all(p[0], &got, 20000) == 0, "%s: no EOF from the child", what);
	close(p[0]);
	ck_assert_int_eq(procwait_client_wait(c, 20000, &res), 1);
	expect_exit(&res, 0, what);
	procwait_client_close(c);
	fst_expect_dump(&got, argv, envp, cwd, what);
	fst_buf_free(&got);
}

START_TEST(test_serve_request_state)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const dumpv[] = { "@dump", "two words", "line\nbreak", "", "\xff\xfe", NULL };
	char *const envp[] = { "A=1", "B=two words", "EMPTY=", "DUP=1", "DUP=2", NULL };
	char *const no_env[] = { NULL };
	char *const report[] = { "@report", NULL };
	char *const stdio[] = { "@stdio", NULL };
	char *const tty[] = { "@tty", NULL };
	char sub[PATH_MAX], line[512], want[512];
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	struct fst_buf out = { NULL, 0, 0 }, err = { NULL, 0, 0 };
	pid_t spare = 0, pid;
	int in[2], o[2], e[2], m;

	srv_start(&cfg);
	/* The spare was forked in "/" with SERVER_ONLY_VAR set: the request
	 * gets its own directory and exactly its own environment. */
	snprintf(sub, sizeof(sub), "%s/sub dir", S.dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	roundtrip_in_spare(dumpv, envp, sub, &spare, "argv/env/cwd");
	roundtrip_in_spare(dumpv, no_env, S.dir, &spare, "an empty environment");

	/* A request near the frame limit goes through the spare's socket. */
	{
		enum { BIG = 120000 };
		char *bigarg = malloc(BIG + 1);
		char *const bigv[] = { "@dump", bigarg, "end", NULL };

		ck_assert_ptr_nonnull(bigarg);
		memset(bigarg, 'x', BIG);
		bigarg[BIG] = '\0';
		roundtrip_in_spare(bigv, envp, S.dir, &spare, "a request of 120 kB");
		free(bigarg);
	}

	/* The state the request starts in: only 0, 1, 2 open (not MARK_FD,
	 * not the spare's socket), nothing blocked or ignored (the server
	 * blocks SIGUSR1 and ignores SIGUSR2), a session of its own, the
	 * server its parent. */
	{
		int p[2];

		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		pid = wait_spare(spare, "@report");
		req_init(&rq, report);
		rq.fds[1] = p[1];
		ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
		ck_assert_int_eq(procwait_client_start(c, &rq), (int)pid);
		spare = pid;
		close(p[1]);
		ck_assert_int_eq(fst_read_all(p[0], &out, 20000), 0);
		close(p[0]);
		ck_assert_int_eq(procwait_client_wait(c, 20000, &res), 1);
		expect_exit(&res, 0, "@report");
		procwait_client_close(c);
		fst_buf_put(&out, "", 1);
		snprintf(line, sizeof(line), "%s", (char *)out.p);
		snprintf(want, sizeof(want),
		         "fds=0,1,2 blocked=0 ignored=0 caught=0 sid=self pgrp=self ppid=%d\n",
		         (int)S.pid);
		ck_assert_msg(strcmp(line, want) == 0,
		              "a spare's request starts as \"%s\", expected \"%s\"", line, want);
		fst_buf_free(&out);
	}

	/* Three different descriptors for 0, 1 and 2. */
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(o, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(e, O_CLOEXEC), 0);
	pid = wait_spare(spare, "@stdio");
	req_init(&rq, stdio);
	rq.fds[0] = in[0];
	rq.fds[1] = o[1];
	rq.fds[2] = e[1];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	ck_assert_int_eq(procwait_client_start(c, &rq), (int)pid);
	spare = pid;
	close(in[0]);
	close(o[1]);
	close(e[1]);
	ck_assert_int_eq(pwt_write_full(in[1], "hello spare", 11), 0);
	close(in[1]);
	ck_assert_int_eq(fst_read_all(o[0], &out, 20000), 0);
	ck_assert_int_eq(fst_read_all(e[0], &err, 20000), 0);
	close(o[0]);
	close(e[0]);
	ck_assert_int_eq(procwait_client_wait(c, 20000, &res), 1);
	expect_exit(&res, 0, "@stdio");
	procwait_client_close(c);
	fst_buf_put(&out, "", 1);
	fst_buf_put(&err, "", 1);
	ck_assert_str_eq((char *)out.p, "out:hello spare");
	ck_assert_str_eq((char *)err.p, "err:hello spare");
	fst_buf_free(&out);
	fst_buf_free(&err);

	/* A request the spare cannot install (its directory is missing):
	 * exit 127, the reason on the request's own stderr. */
	{
		char *const zero[] = { "@exit", "0", NULL };
		char dir[PATH_MAX];
		struct fst_run r;
		int p[2];

		snprintf(dir, sizeof(dir), "%s/no such dir", S.dir);
		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		req_init(&rq, zero);
		rq.cwd = dir;
		rq.fds[2] = p[1];
		run_in_spare(&rq, &r, &spare, "a missing directory");
		close(p[1]);
		ck_assert_int_eq(fst_read_all(p[0], &err, 20000), 0);
		close(p[0]);
		fst_assert_ran(&r, "a missing directory");
		expect_exit(&r.res, 127, "a spare's request with a missing directory");
		fst_buf_put(&err, "", 1);
		ck_assert_msg(strstr((char *)err.p, dir) != NULL,
		              "the spare's error does not name the directory: \"%s\"", (char *)err.p);
		fst_buf_free(&err);
	}

	/* PTY mode: the spare makes the terminal its controlling one. */
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0) {
		int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
		struct fst_run r;

		ck_assert_int_ge(s, 0);
		req_init(&rq, tty);
		rq.fds[0] = rq.fds[1] = rq.fds[2] = s;
		rq.flags = PROCWAIT_CLIENT_PTY;
		run_in_spare(&rq, &r, &spare, "@tty");
		fst_assert_ran(&r, "@tty");
		expect_exit(&r.res, 0, "@tty in a spare");
		ck_assert_msg(fst_read_until(m, &out, "\n", 10000), "no line from the spare's terminal");
		fst_buf_put(&out, "", 1);
		ck_assert_msg(strstr((char *)out.p, "isatty=1 ctty=self") != NULL,
		              "a spare did not take the terminal: \"%s\"", (char *)out.p);
		fst_buf_free(&out);
		close(s);
	} else {
		printf("test_serve_request_state: no pseudo-terminals here: PTY part skipped\n");
	}
	if (m >= 0)
		close(m);
}
END_TEST

START_TEST(test_serve_sequential)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	pid_t seen[20], spare = 0;
	int i, j;

	srv_start(&cfg);
	for (i = 0; i < 20; i++) {
		char code[16], what[64];
		char *const argv[] = { "@exit", code, NULL };
		procwait_client_request rq;
		struct fst_run r;

		snprintf(code, sizeof(code), "%d", (i * 13 + 1) % 256);
		snprintf(what, sizeof(what), "request %d of 20", i + 1);
		req_init(&rq, argv);
		run_in_spare(&rq, &r, &spare, what);
		fst_assert_ran(&r, what);
		expect_exit(&r.res, (i * 13 + 1) % 256, what);
		seen[i] = (pid_t)r.start_rc;
		for (j = 0; j < i; j++)
			ck_assert_msg(seen[j] != seen[i], "%s: pid %d used twice", what, (int)seen[i]);
	}
	/* After the last one, a new spare waits again. */
	(void)wait_spare(spare, "after 20 requests");
}
END_TEST

START_TEST(test_serve_sigterm_idle_spare)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	pid_t spare;

	srv_start(&cfg);
	spare = wait_spare(0, "the first spare");
	srv_stop();   /* SIGTERM: exit 0, no unreaped child, socket gone */
	ck_assert_msg(fst_gone_within(spare, 5000), "the idle spare %d outlived its server",
	              (int)spare);
}
END_TEST

/* A server killed outright: its idle spare does not linger (it dies with
 * its parent, or leaves at once when child() returns -ECANCELED). */
START_TEST(test_serve_killed_idle_spare)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	pid_t spare;
	int st;

	srv_start(&cfg);
	spare = wait_spare(0, "the first spare");
	ck_assert_int_eq(kill(S.pid, SIGKILL), 0);
	st = fst_reap_within(S.pid, 10000);
	S.pid = 0;
	ck_assert_msg(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	              "the server: status 0x%x", (unsigned)st);
	ck_assert_msg(dead_within(spare, 5000), "the idle spare %d outlived its killed server",
	              (int)spare);
}
END_TEST

START_TEST(test_serve_spare_killed)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const seven[] = { "@exit", "7", NULL };
	char *const eight[] = { "@exit", "8", NULL };
	procwait_client_request rq;
	pid_t spare, kids[8], again;
	char line[128], *log;
	struct fst_run r;
	int n;

	srv_start(&cfg);
	spare = wait_spare(0, "the first spare");
	ck_assert_int_eq(kill(spare, SIGKILL), 0);
	/* Reaped by the server: not even a zombie is left. */
	ck_assert_msg(fst_gone_within(spare, 5000), "the killed spare %d was not reaped",
	              (int)spare);
	/* Spares are off until a request is forked the usual way. */
	pwt_nap_ms(200);
	n = children_of(S.pid, kids, 8);
	ck_assert_msg(n == 0, "after its spare died, the server forked another ahead of any "
	              "request (%d children, first %d)", n, n ? (int)kids[0] : 0);
	log = fst_log_text(S.dir);
	snprintf(line, sizeof(line), "spare child %d exited before any request", (int)spare);
	ck_assert_msg(strstr(log, line) != NULL, "the server did not log \"%s\": %s", line, log);
	free(log);

	req_init(&rq, seven);
	run_req(&rq, &r);
	fst_assert_ran(&r, "the request after the spare died");
	expect_exit(&r.res, 7, "the request after the spare died");
	ck_assert_int_ne(r.start_rc, (int)spare);

	/* That fork turned spares on again. */
	again = wait_spare(r.start_rc, "the spare after a usual fork");
	req_init(&rq, eight);
	run_req(&rq, &r);
	fst_assert_ran(&r, "the request in the new spare");
	ck_assert_msg(r.start_rc == again, "started as %d, not in the new spare %d", r.start_rc,
	              (int)again);
	expect_exit(&r.res, 8, "the request in the new spare");
}
END_TEST

START_TEST(test_serve_idle_stop)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	long long t0;
	pid_t spare;
	int st;

	cfg.idle_ms = 800;
	srv_start(&cfg);
	t0 = pwt_now_ms();   /* the last activity: wait_listening's connection */
	spare = wait_spare(0, "the idle server's spare");
	st = fst_reap_within(S.pid, 10000);
	S.pid = 0;
	ck_assert_msg(st >= 0, "a server with an idle spare does not stop after its idle time");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "the idle server ended with status 0x%x (6: a child left unreaped)",
	              (unsigned)st);
	ck_assert_msg(pwt_now_ms() - t0 >= 600, "the idle server stopped after %lld ms, before "
	              "its idle time", pwt_now_ms() - t0);
	ck_assert_msg(!fst_exists(S.path), "the idle server left its socket");
	ck_assert_msg(fst_gone_within(spare, 5000), "the spare %d outlived the idle server",
	              (int)spare);
}
END_TEST

/* max_children 1: one request runs (in the spare), others queue. A signal
 * to a queued request withdraws it (-EINTR), except the dropped ones. */
START_TEST(test_serve_queued_signal)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const waiter[] = { "@wait-stdin", "0", NULL };
	char *const nine[] = { "@exit", "9", NULL };
	char *const six[] = { "@exit", "6", NULL };
	const int dropped[] = { SIGWINCH, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCHLD,
	                        SIGURG };
	procwait_client_request rq;
	procwait_client *ca, *cb, *cc;
	procwait_result res;
	pid_t spare, pa, kids[8];
	char st = '?';
	int p[2], rc, n;
	unsigned i;

	cfg.max_children = 1;
	srv_start(&cfg);
	spare = wait_spare(0, "the first spare");
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, waiter);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &ca), 0);
	pa = procwait_client_start(ca, &rq);
	close(p[0]);
	ck_assert_msg(pa == spare, "the long request started as %d, not in the spare %d",
	              (int)pa, (int)spare);
	/* The only slot is taken: no spare is forked. */
	pwt_nap_ms(150);
	n = children_of(S.pid, kids, 8);
	ck_assert_msg(n == 1 && kids[0] == pa, "with its only slot taken the server has %d "
	              "children (first %d), not just the running one", n, n ? (int)kids[0] : 0);

	/* B queues; SIGTERM withdraws it. */
	req_init(&rq, nine);
	ck_assert_int_eq(procwait_client_connect(S.path, &cb), 0);
	ck_assert_int_eq(procwait_client_send(cb, &rq), 0);
	ck_assert_int_eq(procwait_client_started(cb, 0), 0);
	ck_assert_int_eq(procwait_client_started(cb, 200), 0);
	ck_assert_int_eq(procwait_client_signal(cb, SIGTERM), 0);
	rc = procwait_client_started(cb, 10000);
	ck_assert_msg(rc == -EINTR, "a queued request signalled with SIGTERM: %d (%s), not -EINTR",
	              rc, procwait_client_message(cb));
	ck_assert_msg(procwait_client_message(cb)[0] != '\0', "the withdrawal has no message");
	ck_assert_int_eq(procwait_client_wait(cb, 0, &res), -EALREADY);
	ck_assert_int_eq(procwait_client_signal(cb, SIGTERM), -ESRCH);
	procwait_client_close(cb);

	/* C queues; job-control and harmless signals leave it queued (and
	 * are not delivered later either: it is not stopped once it runs). */
	req_init(&rq, six);
	ck_assert_int_eq(procwait_client_connect(S.path, &cc), 0);
	ck_assert_int_eq(procwait_client_send(cc, &rq), 0);
	ck_assert_int_eq(procwait_client_started(cc, 100), 0);
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
		ck_assert_int_eq(procwait_client_signal(cc, dropped[i]), 0);
		rc = procwait_client_started(cc, 100);
		ck_assert_msg(rc == 0, "a queued request after signal %d: %d (%s), not still queued",
		              dropped[i], rc, procwait_client_message(cc));
	}

	/* A is unaffected: running, not stopped, no result. */
	ck_assert_msg(proc_info(pa, &st, NULL, NULL) && st != 'T' && st != 'Z',
	              "the running request is in state %c", st);
	ck_assert_int_eq(procwait_client_wait(ca, 0, &res), 0);
	close(p[1]);
	ck_assert_int_eq(procwait_client_wait(ca, 10000, &res), 1);
	expect_exit(&res, 0, "the running request");
	procwait_client_close(ca);

	rc = procwait_client_started(cc, 10000);
	ck_assert_msg(rc > 0, "the queued request did not start: %d (%s)", rc,
	              procwait_client_message(cc));
	ck_assert_int_eq(procwait_client_wait(cc, 10000, &res), 1);
	expect_exit(&res, 6, "the queued request that got the dropped signals");
	procwait_client_close(cc);
}
END_TEST

/* A signal sent right after send(), before STARTED, while a spare waits:
 * the request runs in the spare and dies of the signal. */
START_TEST(test_serve_signal_before_started)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const sleeper[] = { "@sleep", "20000", NULL };
	const int sigs[] = { SIGTERM, SIGUSR2, SIGINT };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	pid_t spare = 0, pid;
	unsigned i;
	int rc;

	srv_start(&cfg);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		spare = wait_spare(spare, "a sleeper");
		req_init(&rq, sleeper);
		ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
		ck_assert_int_eq(procwait_client_send(c, &rq), 0);
		ck_assert_int_eq(procwait_client_signal(c, sigs[i]), 0);
		pid = procwait_client_started(c, 10000);
		ck_assert_msg(pid == spare, "signal %d: started %d, spare %d", sigs[i], (int)pid,
		              (int)spare);
		rc = procwait_client_wait(c, 8000, &res);
		ck_assert_msg(rc == 1, "signal %d sent before STARTED was lost: the child still "
		              "runs (wait: %d)", sigs[i], rc);
		expect_signaled(&res, sigs[i], "a signal sent before STARTED");
		procwait_client_close(c);
	}
}
END_TEST

/* The same without spares: serve() forks for the request. SIGTERM is
 * blocked in the server (serve()), so it waits, pending, in the child; but
 * SIGUSR2, which the server ignores (server_main()), is forwarded right
 * after the fork, before the child has reset its dispositions, and is
 * discarded by the kernel: lost. */
START_TEST(test_serve_signal_before_started_nospare)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const sleeper[] = { "@sleep", "2000", NULL };
	const int sigs[] = { SIGTERM, SIGTERM, SIGTERM, SIGUSR2, SIGUSR2, SIGUSR2, SIGUSR2,
	                     SIGUSR2 };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	unsigned i;
	int rc, pid;

	cfg.spares = 0;
	srv_start(&cfg);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char b[96];

		req_init(&rq, sleeper);
		ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
		ck_assert_int_eq(procwait_client_send(c, &rq), 0);
		ck_assert_int_eq(procwait_client_signal(c, sigs[i]), 0);
		pid = procwait_client_started(c, 10000);
		ck_assert_msg(pid > 0, "started: %s", procwait_strerror(pid));
		rc = procwait_client_wait(c, 10000, &res);
		ck_assert_int_eq(rc, 1);
		ck_assert_msg(res.status.kind == PROCWAIT_STATUS_SIGNALED &&
		              res.status.signo == sigs[i],
		              "try %u: signal %d sent before STARTED was lost: the child %s", i + 1,
		              sigs[i], fst_status_str(&res.status, b, sizeof(b)));
		procwait_client_close(c);
	}
}
END_TEST

/* ---- the step API in this process ------------------------------------------------------ */

static procwait_forkserver *inproc_server(int max_children, int spares)
{
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs = NULL;
	int rc;

	fst_log_open(S.dir);
	o.socket_path = S.path;
	o.max_children = max_children;
	o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
	o.log = fst_srv_log;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == 0, "new: %s", procwait_strerror(rc));
	if (spares)
		ck_assert_int_eq(procwait_forkserver_set_spares(fs, 1), 0);
	return fs;
}

static int is_placeholder(const procwait_request *req)
{
	return procwait_request_argv(req) == NULL && procwait_request_envp(req) == NULL &&
	       procwait_request_cwd(req) == NULL;
}

/* The next READY (30 s): a placeholder when want_spare, else a request. */
static procwait_request *next_ready(procwait_forkserver *fs, int want_spare, const char *what)
{
	long long end = pwt_now_ms() + 30000;

	for (;;) {
		procwait_request *req = NULL;
		int rc = procwait_forkserver_next(fs, 50, &req);

		if (rc == PROCWAIT_FORKSERVER_READY) {
			ck_assert_ptr_nonnull(req);
			ck_assert_msg(is_placeholder(req) == want_spare,
			              "%s: next() returned %s", what,
			              want_spare ? "a request, not a spare's placeholder" :
			              "a spare's placeholder, not the request");
			return req;
		}
		ck_assert_msg(rc == PROCWAIT_FORKSERVER_TIMEOUT, "%s: next() returned %d", what, rc);
		ck_assert_msg(req == NULL, "%s: a request with TIMEOUT", what);
		ck_assert_msg(pwt_now_ms() < end, "%s: nothing READY within 30 s", what);
	}
}

/* Fork for req with the test's own fork(), as forkserver.h asks a host to:
 * every signal blocked across fork() (child() empties the child's mask).
 * In the child: child(); report a failure on report_fd (when >= 0) as an
 * int; -ECANCELED exits 0 (as serve() does), another failure 127; else run
 * the request. nap_ms: a delay in the child before child() (a host's own
 * after-fork work). Returns the pid, after parent(). */
static pid_t fork_for(procwait_forkserver *fs, procwait_request *req, int report_fd,
                      int nap_ms)
{
	sigset_t all, before;
	pid_t pid;

	sigfillset(&all);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &all, &before), 0);
	pid = pwt_fork();   /* the child keeps the full mask */
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &before, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int rc;

		if (nap_ms > 0)
			pwt_nap_ms(nap_ms);
		rc = procwait_forkserver_child(fs, req);
		if (rc < 0) {
			if (report_fd >= 0)
				(void)!write(report_fd, &rc, sizeof(rc));
			_exit(rc == -ECANCELED ? 0 : 127);
		}
		/* Installed (for a spare: received just now): the accessors
		 * tell the request, which is what the child now runs in. */
		{
			char *const *av = procwait_request_argv(req);
			char *const *ev = procwait_request_envp(req);
			const char *wd = procwait_request_cwd(req);
			char here[PATH_MAX], want[PATH_MAX];
			size_t i;

			if (!av || !av[0] || !ev || !wd)
				_exit(125);
			if (!getcwd(here, sizeof(here)) || !realpath(wd, want) ||
			    strcmp(here, want) != 0)
				_exit(124);
			for (i = 0; ev[i] && environ[i] && strcmp(ev[i], environ[i]) == 0; i++)
				;
			if (ev[i] || environ[i])
				_exit(123);
			run_argv(av);
		}
	}
	ck_assert_int_eq(procwait_forkserver_parent(fs, req, pid), 0);
	return pid;
}

/* Nothing READY for ms: only TIMEOUTs. */
static void expect_quiet(procwait_forkserver *fs, int ms, const char *what)
{
	long long end = pwt_now_ms() + ms;

	while (pwt_now_ms() < end) {
		procwait_request *req = NULL;
		int rc = procwait_forkserver_next(fs, 20, &req);

		ck_assert_msg(rc == PROCWAIT_FORKSERVER_TIMEOUT,
		              "%s: next() returned %d (%s) where nothing was due", what, rc,
		              rc == PROCWAIT_FORKSERVER_READY && is_placeholder(req) ?
		              "a spare's placeholder" : "?");
	}
}

/* Run the loop until the client's wait reports (20 s); nothing may be
 * READY meanwhile. */
static void drive_wait(procwait_forkserver *fs, procwait_client *c, procwait_result *res,
                       const char *what)
{
	long long end = pwt_now_ms() + 20000;
	int pid = 0;

	for (;;) {
		procwait_request *req = NULL;
		int rc;

		if (pid == 0) {
			/* wait() needs STARTED first. */
			pid = procwait_client_started(c, 0);
			ck_assert_msg(pid >= 0, "%s: procwait_client_started: %s (%s)", what,
			              procwait_strerror(pid), procwait_client_message(c));
		}
		if (pid > 0) {
			rc = procwait_client_wait(c, 0, res);
			if (rc == 1)
				return;
			ck_assert_msg(rc == 0, "%s: procwait_client_wait: %s", what,
			              procwait_strerror(rc));
		}
		ck_assert_msg(pwt_now_ms() < end, "%s: no result within 20 s", what);
		rc = procwait_forkserver_next(fs, 20, &req);
		ck_assert_msg(rc == PROCWAIT_FORKSERVER_TIMEOUT, "%s: next() returned %d (%s) "
		              "where nothing was due", what, rc,
		              rc == PROCWAIT_FORKSERVER_READY && is_placeholder(req) ?
		              "a spare's placeholder" : "?");
	}
}

static procwait_client *client_send(char *const *argv)
{
	procwait_client_request rq;
	procwait_client *c;

	req_init(&rq, argv);
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	ck_assert_int_eq(procwait_client_send(c, &rq), 0);
	return c;
}

START_TEST(test_step_handoff)
{
	char *const five[] = { "@exit", "5", NULL };
	procwait_forkserver *fs = inproc_server(4, 1);
	procwait_request *req = NULL, *other = NULL;
	procwait_client *c;
	procwait_result res;
	long long end;
	pid_t spare1, spare2;
	char st = '?';
	int rc, pid;

	/* A placeholder at once: nothing to wait for and no spare yet. */
	rc = procwait_forkserver_next(fs, 0, &req);
	ck_assert_int_eq(rc, PROCWAIT_FORKSERVER_READY);
	ck_assert_ptr_nonnull(req);
	ck_assert_msg(is_placeholder(req), "the first READY of a server with spares has argv");
	ck_assert_int_eq(procwait_forkserver_next(fs, 0, &other), -EBUSY);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	spare1 = fork_for(fs, req, -1, 0);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	/* One spare is enough: no second placeholder. */
	expect_quiet(fs, 150, "an idle server with its spare");
	ck_assert_msg(proc_info(spare1, &st, NULL, NULL) && st != 'Z',
	              "the spare %d is not alive (%c)", (int)spare1, st);

	/* The request is handed to the spare inside next(): never READY. */
	c = client_send(five);
	ck_assert_int_eq(procwait_client_started(c, 0), 0);
	end = pwt_now_ms() + 20000;
	for (;;) {
		req = NULL;
		rc = procwait_forkserver_next(fs, 0, &req);
		if (rc == PROCWAIT_FORKSERVER_READY)
			break;
		ck_assert_msg(rc == PROCWAIT_FORKSERVER_TIMEOUT, "next(fs, 0): %d", rc);
		ck_assert_msg(req == NULL, "a request with TIMEOUT");
		ck_assert_msg(pwt_now_ms() < end, "the request was never handed over");
		pwt_nap_ms(1);
	}
	ck_assert_msg(is_placeholder(req), "next() returned the request (argv[0] %s) instead of "
	              "handing it to the idle spare", procwait_request_argv(req)[0]);
	/* READY for the next spare comes only after the hand-off. */
	pid = procwait_client_started(c, 0);
	ck_assert_msg(pid == spare1, "STARTED %d when the new placeholder came; the spare is %d",
	              pid, (int)spare1);
	ck_assert_int_eq(procwait_forkserver_children(fs), 1);
	spare2 = fork_for(fs, req, -1, 0);
	ck_assert_int_eq(procwait_forkserver_children(fs), 1);

	drive_wait(fs, c, &res, "the spare's request");
	expect_exit(&res, 5, "the request run by the spare");
	ck_assert_int_eq(res.status.pid, (int)spare1);
	procwait_client_close(c);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	ck_assert_msg(!pwt_exists(spare1), "the spare's request was not reaped");
	ck_assert_msg(pwt_exists(spare2), "the second spare is gone");

	/* free(): the idle spare is killed and reaped. */
	procwait_forkserver_free(fs);
	ck_assert_msg(!pwt_exists(spare2), "free() left the idle spare");
	ck_assert_msg(!fst_exists(S.path), "free() left the socket");
	pwt_assert_no_children();
}
END_TEST

START_TEST(test_step_stop_idle_spare)
{
	procwait_forkserver *fs = inproc_server(4, 1);
	procwait_request *req;
	pid_t spare;
	int p[2], rc, got = 0;
	ssize_t n;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req = next_ready(fs, 1, "the placeholder");
	spare = fork_for(fs, req, p[1], 0);
	close(p[1]);
	expect_quiet(fs, 100, "an idle server with its spare");
	ck_assert_int_eq(procwait_forkserver_stop(fs), 0);
	rc = procwait_forkserver_next(fs, 5000, &req);
	ck_assert_msg(rc == PROCWAIT_FORKSERVER_STOPPED, "next() after stop(): %d", rc);
	ck_assert_msg(!pwt_exists(spare), "the idle spare %d is left after the stop", (int)spare);
	pwt_assert_no_children();
	ck_assert_msg(!fst_exists(S.path), "a stopped server left its socket");
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	ck_assert_int_eq(procwait_forkserver_next(fs, -1, &req), PROCWAIT_FORKSERVER_STOPPED);
	/* The spare was killed, or its child() returned -ECANCELED: never
	 * anything else. */
	n = read(p[0], &got, sizeof(got));
	ck_assert_msg(n == 0 || (n == (ssize_t)sizeof(got) && got == -ECANCELED),
	              "the stopped server's spare: child() returned %d", got);
	close(p[0]);
	procwait_forkserver_free(fs);
}
END_TEST

/* A spare forked, then the server freed before parent(): its child()
 * returns -ECANCELED. In the forked copy set_spares() is refused and
 * stop() does nothing. */
START_TEST(test_step_spare_cancelled)
{
	procwait_forkserver *fs = inproc_server(4, 1);
	procwait_request *req;
	int p[2], got[3] = { 1, 1, 1 }, st;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req = next_ready(fs, 1, "the placeholder");
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int r[3];

		r[0] = procwait_forkserver_set_spares(fs, 1);
		r[1] = procwait_forkserver_stop(fs);
		r[2] = procwait_forkserver_child(fs, req);
		(void)!write(p[1], r, sizeof(r));
		if (r[2] == -ECANCELED) {
			procwait_forkserver_free(fs);
			procwait_request_free(req);
			_exit(0);
		}
		_exit(127);
	}
	close(p[1]);
	pwt_nap_ms(50);
	procwait_forkserver_free(fs);   /* with the placeholder pending */
	st = fst_reap_within(pid, 10000);
	ck_assert_msg(st >= 0, "the spare of a freed server still waits for a request");
	ck_assert_int_eq(pwt_read_full(p[0], got, sizeof(got)), 0);
	close(p[0]);
	ck_assert_msg(got[0] == -EINVAL, "set_spares() in a forked copy: %d", got[0]);
	ck_assert_msg(got[1] == 0, "stop() in a forked copy: %d", got[1]);
	ck_assert_msg(got[2] == -ECANCELED, "child() in a spare whose server went away: %d (%s)",
	              got[2], procwait_strerror(got[2]));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the cancelled spare: status 0x%x",
	              (unsigned)st);
	ck_assert_msg(!fst_exists(S.path), "free() left the socket");
	pwt_assert_no_children();
}
END_TEST

/* A spare that dies idle, and a failed spare fork: no spare until a
 * request has been forked the usual way. */
START_TEST(test_step_spare_lost)
{
	char *const four[] = { "@exit", "4", NULL };
	procwait_forkserver *fs = inproc_server(4, 1);
	procwait_request *req;
	procwait_client *c;
	procwait_result res;
	char line[128], *log;
	long long end;
	pid_t dead, pid, spare;

	/* The host's child dies before it ever calls child(). */
	req = next_ready(fs, 1, "the first placeholder");
	dead = pwt_fork();
	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	ck_assert_int_eq(procwait_forkserver_parent(fs, req, dead), 0);
	end = pwt_now_ms() + 10000;
	while (pwt_exists(dead)) {
		ck_assert_msg(pwt_now_ms() < end, "the dead spare %d is never reaped", (int)dead);
		req = NULL;
		ck_assert_int_eq(procwait_forkserver_next(fs, 20, &req), PROCWAIT_FORKSERVER_TIMEOUT);
	}
	expect_quiet(fs, 200, "spares after a spare died");
	log = fst_log_text(S.dir);
	snprintf(line, sizeof(line), "spare child %d exited before any request", (int)dead);
	ck_assert_msg(strstr(log, line) != NULL, "the server did not log \"%s\": %s", line, log);
	free(log);

	/* A request: forked the usual way; then spares are back. */
	c = client_send(four);
	req = next_ready(fs, 0, "the request after the spare died");
	ck_assert_str_eq(procwait_request_argv(req)[0], "@exit");
	pid = fork_for(fs, req, -1, 0);
	req = next_ready(fs, 1, "the placeholder after a usual fork");
	spare = fork_for(fs, req, -1, 0);
	drive_wait(fs, c, &res, "the request after the spare died");
	ck_assert_int_eq(procwait_client_started(c, 0), (int)pid);
	expect_exit(&res, 4, "the request after the spare died");
	procwait_client_close(c);

	/* The spare works: the next request goes to it. */
	c = client_send(four);
	req = next_ready(fs, 1, "the placeholder after the hand-off");
	ck_assert_int_eq(procwait_client_started(c, 0), (int)spare);
	ck_assert_int_eq(procwait_forkserver_parent(fs, req, -EAGAIN), 0);   /* fork failed */
	drive_wait(fs, c, &res, "the spare's request");
	expect_exit(&res, 4, "the spare's request");
	procwait_client_close(c);
	expect_quiet(fs, 150, "spares after a failed spare fork");

	c = client_send(four);
	req = next_ready(fs, 0, "the request after a failed spare fork");
	pid = fork_for(fs, req, -1, 0);
	req = next_ready(fs, 1, "the placeholder after a usual fork");
	spare = fork_for(fs, req, -1, 0);
	drive_wait(fs, c, &res, "the request after a failed spare fork");
	ck_assert_int_eq(procwait_client_started(c, 0), (int)pid);
	expect_exit(&res, 4, "the request after a failed spare fork");
	procwait_client_close(c);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	procwait_forkserver_free(fs);
	ck_assert_msg(!pwt_exists(spare), "free() left the idle spare");
	pwt_assert_no_children();
}
END_TEST

START_TEST(test_step_set_spares)
{
	procwait_forkserver *fs = inproc_server(4, 0);
	procwait_request *req;
	pid_t spare;

	ck_assert_int_eq(procwait_forkserver_set_spares(NULL, 1), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_set_spares(NULL, 0), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, -1), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 2), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, INT_MIN), -EINVAL);
	/* Spares are off by default, and the refused calls changed nothing. */
	expect_quiet(fs, 100, "a server without spares");

	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 1), 0);
	req = next_ready(fs, 1, "the placeholder");
	spare = fork_for(fs, req, -1, 0);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	/* 0 kills the idle spare, reaped at once. */
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 0), 0);
	ck_assert_msg(!pwt_exists(spare), "set_spares(0) left the idle spare %d", (int)spare);
	pwt_assert_no_children();
	expect_quiet(fs, 100, "a server whose spares were turned off");
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 0), 0);   /* again: no-op */

	/* Turned off between next() and parent(): the new spare goes at
	 * parent(). */
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 1), 0);
	req = next_ready(fs, 1, "the second placeholder");
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 0), 0);
	spare = fork_for(fs, req, -1, 0);
	ck_assert_msg(!pwt_exists(spare), "a spare forked after set_spares(0) was kept");
	pwt_assert_no_children();
	expect_quiet(fs, 100, "a server whose spares were turned off");

	/* On again: free() kills the idle one. */
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 1), 0);
	req = next_ready(fs, 1, "the third placeholder");
	spare = fork_for(fs, req, -1, 0);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	procwait_forkserver_free(fs);
	ck_assert_msg(!pwt_exists(spare), "free() left the idle spare");
	pwt_assert_no_children();
}
END_TEST

/* A spare is work to do: an embedding host that follows fd() and
 * timeout() must be told to call next(). */
START_TEST(test_step_spare_due_hint)
{
	procwait_forkserver *fs = inproc_server(4, 0);
	procwait_request *req = NULL;
	struct pollfd pfd;
	int tmo, readable;

	ck_assert_int_eq(procwait_forkserver_timeout(fs), -1);
	ck_assert_int_eq(procwait_forkserver_set_spares(fs, 1), 0);
	tmo = procwait_forkserver_timeout(fs);
	pfd.fd = procwait_forkserver_fd(fs);
	pfd.events = POLLIN;
	pfd.revents = 0;
	readable = poll(&pfd, 1, 0) == 1;
	/* next(fs, 0) has a placeholder for us right now... */
	ck_assert_int_eq(procwait_forkserver_next(fs, 0, &req), PROCWAIT_FORKSERVER_READY);
	ck_assert(is_placeholder(req));
	/* ...but was the host told? */
	ck_assert_msg(tmo == 0 || readable,
	              "a spare is due (next(fs, 0) returns READY at once), yet timeout() "
	              "says %d and fd() is %sreadable: a host polling them never forks it",
	              tmo, readable ? "" : "not ");
	(void)fork_for(fs, req, -1, 0);
	ck_assert_msg(procwait_forkserver_timeout(fs) == -1,
	              "an idle server with its spare: timeout() %d",
	              procwait_forkserver_timeout(fs));
	procwait_forkserver_free(fs);
	pwt_assert_no_children();
}
END_TEST

/* The early signal: next() returned the request (no spares), the client
 * signals before the host forks; the child dies of it. */
START_TEST(test_step_signal_while_forking)
{
	char *const sleeper[] = { "@sleep", "20000", NULL };
	procwait_forkserver *fs = inproc_server(1, 0);
	procwait_request *req;
	procwait_client *c;
	procwait_result res;
	long long t0;
	pid_t pid;

	c = client_send(sleeper);
	req = next_ready(fs, 0, "the sleeper");
	ck_assert_str_eq(procwait_request_argv(req)[0], "@sleep");
	ck_assert_int_eq(procwait_client_signal(c, SIGTERM), 0);
	ck_assert_int_eq(procwait_client_started(c, 0), 0);
	t0 = pwt_now_ms();
	pid = fork_for(fs, req, -1, 0);
	drive_wait(fs, c, &res, "the sleeper signalled while being forked");
	ck_assert_int_eq(procwait_client_started(c, 0), (int)pid);
	expect_signaled(&res, SIGTERM, "a signal sent while the request was being forked");
	ck_assert_msg(pwt_now_ms() - t0 < 10000, "the signal came late");
	procwait_client_close(c);
	procwait_forkserver_free(fs);
	pwt_assert_no_children();
}
END_TEST

/* The same with a signal the server process ignores (as a server started
 * in the background ignores SIGINT/SIGQUIT, or Python SIGPIPE), and a host
 * child that takes a moment before procwait_forkserver_child() (Python's
 * at-fork hooks run there): the host forks with every signal blocked
 * (fork_for(), as forkserver.h asks), so the signal forwarded right after
 * parent() stays pending in the child until child() has reset the
 * disposition: not lost. */
START_TEST(test_step_signal_while_forking_ignored)
{
	char *const sleeper[] = { "@sleep", "1500", NULL };
	procwait_forkserver *fs = inproc_server(1, 0);
	procwait_request *req;
	procwait_client *c;
	procwait_result res;

	signal(SIGUSR2, SIG_IGN);
	c = client_send(sleeper);
	req = next_ready(fs, 0, "the sleeper");
	ck_assert_int_eq(procwait_client_signal(c, SIGUSR2), 0);
	(void)fork_for(fs, req, -1, 200);
	drive_wait(fs, c, &res, "the sleeper signalled while being forked");
	signal(SIGUSR2, SIG_DFL);
	{
		char b[96];

		ck_assert_msg(res.status.kind == PROCWAIT_STATUS_SIGNALED &&
		              res.status.signo == SIGUSR2,
		              "SIGUSR2 sent before STARTED was lost: the child %s (the server "
		              "forwarded it before the child had reset the disposition it "
		              "inherited from the server)", fst_status_str(&res.status, b, sizeof(b)));
	}
	procwait_client_close(c);
	procwait_forkserver_free(fs);
}
END_TEST

START_TEST(test_client_signal_args)
{
	char *const one[] = { "@exit", "1", NULL };
	procwait_forkserver *fs = inproc_server(1, 0);
	procwait_client *c;
	procwait_client_request rq;

	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	ck_assert_int_eq(procwait_client_signal(c, SIGTERM), -ESRCH);   /* nothing sent */
	ck_assert_int_eq(procwait_client_signal(c, SIGKILL), -ESRCH);
	ck_assert_int_eq(procwait_client_signal(NULL, SIGTERM), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(c, 0), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(c, NSIG), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(c, -SIGTERM), -EINVAL);
	ck_assert_int_eq(procwait_client_started(c, 0), -ESRCH);
	/* Sent: allowed before STARTED. */
	req_init(&rq, one);
	ck_assert_int_eq(procwait_client_send(c, &rq), 0);
	ck_assert_int_eq(procwait_client_signal(c, SIGWINCH), 0);
	ck_assert_int_eq(procwait_client_signal(c, NSIG), -EINVAL);
	procwait_client_close(c);
	procwait_forkserver_free(fs);
}
END_TEST

/* ---- the suite -------------------------------------------------------------------------- */

static Suite *fs_spare_suite(void)
{
	Suite *s = suite_create("fs_spare");
	TCase *tc;

	tc = tcase_create("serve");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_serve_statuses);
	tcase_add_test(tc, test_serve_request_state);
	tcase_add_test(tc, test_serve_sequential);
	tcase_add_test(tc, test_serve_sigterm_idle_spare);
	tcase_add_test(tc, test_serve_killed_idle_spare);
	tcase_add_test(tc, test_serve_spare_killed);
	tcase_add_test(tc, test_serve_idle_stop);
	tcase_add_test(tc, test_serve_queued_signal);
	tcase_add_test(tc, test_serve_signal_before_started);
	tcase_add_test(tc, test_serve_signal_before_started_nospare);
	suite_add_tcase(s, tc);

	tc = tcase_create("step");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_step_handoff);
	tcase_add_test(tc, test_step_stop_idle_spare);
	tcase_add_test(tc, test_step_spare_cancelled);
	tcase_add_test(tc, test_step_spare_lost);
	tcase_add_test(tc, test_step_set_spares);
	tcase_add_test(tc, test_step_spare_due_hint);
	tcase_add_test(tc, test_step_signal_while_forking);
	tcase_add_test(tc, test_step_signal_while_forking_ignored);
	tcase_add_test(tc, test_client_signal_args);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return pwt_run(fs_spare_suite());
}
