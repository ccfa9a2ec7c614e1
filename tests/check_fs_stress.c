/* SPDX-License-Identifier: MIT */
/*
 * The fork server under stress (forkserver.h, DESIGN.md §6 "No orphans, no
 * zombies, ever", §9 "leave orphans when the server dies"): what becomes of
 * a child's process group when its client vanishes, when its timeout
 * passes, when the server is stopped, and of the child when the server is
 * killed; a soak of 2,000 sequential
 * and 200 concurrent runs after which the server holds no more descriptors,
 * memory or children than after a warm-up; connections that carry nothing
 * or garbage; and job-control signals forwarded to a child's group.
 *
 * Each test starts its own server in a forked process (the way tools/
 * cmd-serve.c serves: the children exec their argv), listening in a fresh
 * 0700 directory, and talks to it with the client API. The test process is
 * a child subreaper, so that whatever the server's children leave behind
 * (grandchildren, or children orphaned by a dead server) becomes ours: it
 * can then be reaped, its status read, and nothing outlives a test.
 *
 * The suite runs once in make check (not per backend); it also passes with
 * PROCWAIT_BACKEND=poll and under AddressSanitizer (the server process
 * ends with exit(), so LeakSanitizer checks it too).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__)
#define PWT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PWT_ASAN 1
#endif
#endif
#ifndef PWT_ASAN
#define PWT_ASAN 0
#endif

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Kill grace of most servers here: short, so stops are quick. */
#define GRACE_MS 300
/* A grace so long that a test finishing well before it proves the grace
 * was not waited for. */
#define LONG_GRACE_MS 10000
/* How long anything that should happen "now" may take on a loaded
 * two-core machine (beyond any configured delay). */
#define MARGIN_MS 4000
/* The long-running children: long enough to be killed, not so long that
 * a failed test leaves them around for ages. */
#define LONG_SLEEP "300"

/* The suite's private directory (made by main()); each server gets a
 * 0700 directory of its own inside it. */
static char base_dir[128];

/* ---- processes of ours: a subreaper's bookkeeping ----------------------- */

/* Everything reaped by reap_any(), newest last (a ring). */
#define NREAPED 512
static struct {
	pid_t pid;
	int status;
} reaped[NREAPED];
static unsigned nreaped;

/* Reap every child of ours that has ended (our own forks and the orphans
 * we adopted as subreaper) and note their statuses. */
static void reap_any(void)
{
	pid_t p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		reaped[nreaped % NREAPED].pid = p;
		reaped[nreaped % NREAPED].status = st;
		nreaped++;
	}
}

static int find_reaped(pid_t pid, int *st)
{
	unsigned i, n = nreaped < NREAPED ? nreaped : NREAPED;

	for (i = 0; i < n; i++) {
		unsigned k = (nreaped - 1 - i) % NREAPED;
		if (reaped[k].pid == pid) {
			*st = reaped[k].status;
			return 1;
		}
	}
	return 0;
}

/* Wait up to timeout_ms for our child (or adopted orphan) pid to end:
 * 1 with its status in *st, 0 when it did not end in time. */
static int wait_child(pid_t pid, int timeout_ms, int *st)
{
	long long end = pwt_now_ms() + timeout_ms;

	for (;;) {
		reap_any();
		if (find_reaped(pid, st))
			return 1;
		if (pwt_now_ms() >= end)
			return 0;
		pwt_nap_ms(5);
	}
}

static void assert_killed_by(int st, int signo, const char *what)
{
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == signo,
	              "%s: wait status 0x%x, expected death by signal %d", what, st, signo);
}

/* ---- /proc ------------------------------------------------------------------ */

/* State, parent and process group of pid from /proc/PID/stat: 0, or -1
 * when there is no such process. The fields follow the last ')'. */
static int proc_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgrp)
{
	char path[64], buf[1024], *rp, c;
	int fd, pp, pg;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 1, " %c %d %d", &c, &pp, &pg) != 3)
		return -1;
	if (state)
		*state = c;
	if (ppid)
		*ppid = pp;
	if (pgrp)
		*pgrp = pg;
	return 0;
}

/* Wait until pid runs the program called comm: it is then past
 * procwait_forkserver_child() (parent-death signal, session, signal
 * dispositions) and its exec. A signal sent earlier could meet the child
 * still in the server's process group, with the server's signal mask. */
static void await_exec(pid_t pid, const char *comm)
{
	long long end = pwt_now_ms() + 10000;
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (strcmp(buf, comm) == 0)
				return;
		}
		ck_assert_msg(pwt_now_ms() < end, "pid %d does not run %s", (int)pid, comm);
		pwt_nap_ms(2);
	}
}

/* Processes (zombies included) whose process group is pgid (match_pgrp)
 * or whose parent is pid (!match_pgrp); *zombies counts those in state Z. */
static int count_procs(pid_t id, int match_pgrp, int *zombies)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	if (zombies)
		*zombies = 0;
	while ((e = readdir(d)) != NULL) {
		char st;
		pid_t pid, pp, pg;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(e->d_name);
		if (proc_stat(pid, &st, &pp, &pg) < 0)
			continue;
		if ((match_pgrp ? pg : pp) != id)
			continue;
		n++;
		if (zombies && st == 'Z')
			(*zombies)++;
	}
	closedir(d);
	return n;
}

static int group_gone(pid_t pgid)
{
	return kill(-pgid, 0) < 0 && errno == ESRCH && count_procs(pgid, 1, NULL) == 0;
}

/* Wait up to timeout_ms until process group pgid is empty (reaping the
 * orphans it leaves us on the way). Returns the ms it took; fails the
 * test when the group outlives the timeout. */
static long long await_group_gone(pid_t pgid, int timeout_ms, long long since)
{
	long long end = pwt_now_ms() + timeout_ms;

	for (;;) {
		reap_any();
		if (group_gone(pgid))
			return pwt_now_ms() - since;
		ck_assert_msg(pwt_now_ms() < end,
		              "process group %d still has %d member(s) after %d ms",
		              (int)pgid, count_procs(pgid, 1, NULL), timeout_ms);
		pwt_nap_ms(5);
	}
}

/* The process's open descriptors. */
static int fd_count(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	ck_assert_msg(d != NULL, "opendir %s: %s", path, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The process's descriptors and what they are, for messages. */
static const char *fd_list(pid_t pid)
{
	static char out[2048];
	char path[64], link[PATH_MAX], target[128];
	DIR *d;
	struct dirent *e;
	size_t used = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return "?";
	while ((e = readdir(d)) != NULL && used + 200 < sizeof(out)) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		used += (size_t)snprintf(out + used, sizeof(out) - used, " %s:%s", e->d_name,
		                         target);
	}
	closedir(d);
	return out;
}

/* The process's resident set size in KiB (/proc/PID/statm). */
static long rss_kib(pid_t pid)
{
	char path[64];
	long size = 0, res = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &res), 2);
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- the server ----------------------------------------------------------- */

struct srv {
	pid_t pid;
	char dir[160];
	char path[192];
};

/* Fixture flag: the server's before_fork hook raises SIGTERM once. */
#define SRV_TERM_IN_FORK 1u

static int term_in_fork;

static void raise_term_once(void *data)
{
	(void)data;
	if (term_in_fork) {
		term_in_fork = 0;
		raise(SIGTERM);
	}
}

static void quiet_log(void *data, int level, const char *msg)
{
	(void)data;
	/* Warnings (refused and malformed clients) are expected here. */
	if (level <= PROCWAIT_LOG_ERROR)
		fprintf(stderr, "server: %s\n", msg);
}

/* Close every descriptor above 2 but keep. */
static void close_fds_except(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[256], n = 0, i;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL && n < (int)NELEM(fds)) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd > 2 && fd != keep && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* The server process: serve until stopped; children exec their argv.
 * Reports procwait_forkserver_new()'s result on ready. */
static void server_main(const char *path, int grace_ms, int max_children, unsigned flags,
                        int ready, pid_t parent)
{
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs = NULL;
	procwait_request *req = NULL;
	int rc;

	/* Should the test die, its server dies too (and the children by
	 * their parent-death signal). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(3);
	/* Nothing of the test's (pipes, Check's files) stays in the server:
	 * its descriptor count is its own. */
	close_fds_except(ready);
	o.socket_path = path;
	o.kill_grace_ms = grace_ms;
	o.max_children = max_children;
	o.log = quiet_log;
	if (flags & SRV_TERM_IN_FORK) {
		term_in_fork = 1;
		o.before_fork = raise_term_once;
	}
	rc = procwait_forkserver_new(&o, &fs);
	if (write(ready, &rc, sizeof(rc)) != (ssize_t)sizeof(rc))
		_exit(4);
	close(ready);
	if (rc < 0)
		_exit(5);
	rc = procwait_forkserver_serve(fs, &req);
	if (rc == 1) {
		/* A child with its request installed, as cmd-serve does it. */
		char *const *argv = procwait_request_argv(req);

		execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	procwait_forkserver_free(fs);
	/* exit(), not _exit(): LeakSanitizer checks the server too. */
	exit(rc == 0 ? 0 : 6);
}

/* Start a server in a forked process on a fresh private directory (or on
 * s->dir again when reuse_dir); returns once it listens. */
static void srv_start_flags(struct srv *s, int grace_ms, int max_children, unsigned flags,
                            int reuse_dir)
{
	pid_t parent = getpid();
	int p[2], rc = 0;

	if (!reuse_dir) {
		snprintf(s->dir, sizeof(s->dir), "%s/sXXXXXX", base_dir);
		ck_assert_msg(mkdtemp(s->dir) != NULL, "mkdtemp: %s", strerror(errno));
		ck_assert_int_eq(chmod(s->dir, 0700), 0);
		snprintf(s->path, sizeof(s->path), "%s/fs.sock", s->dir);
	}
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	s->pid = pwt_fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		close(p[0]);
		server_main(s->path, grace_ms, max_children, flags, p[1], parent);
	}
	close(p[1]);
	ck_assert_msg(pwt_read_full(p[0], &rc, sizeof(rc)) == 0, "the server died at start");
	close(p[0]);
	ck_assert_msg(rc == 0, "procwait_forkserver_new: %s", procwait_strerror(rc));
}

static void srv_start(struct srv *s, int grace_ms, int max_children)
{
	srv_start_flags(s, grace_ms, max_children, 0, 0);
}

/* Wait for the server process to end: its wait status. */
static int srv_reap(struct srv *s, int timeout_ms)
{
	int st = 0;

	ck_assert_msg(wait_child(s->pid, timeout_ms, &st),
	              "the server (pid %d) did not end within %d ms", (int)s->pid, timeout_ms);
	return st;
}

static void srv_rmdir(struct srv *s)
{
	unlink(s->path);
	ck_assert_msg(rmdir(s->dir) == 0, "rmdir %s: %s", s->dir, strerror(errno));
}

/* Stop the server with SIGTERM: it must exit 0, remove its socket and
 * leave no child behind; then remove its directory. */
static void srv_stop(struct srv *s)
{
	int st;

	ck_assert_int_eq(kill(s->pid, SIGTERM), 0);
	st = srv_reap(s, GRACE_MS + 2 * MARGIN_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "the server ended with wait status 0x%x", st);
	ck_assert_msg(access(s->path, F_OK) < 0 && errno == ENOENT,
	              "the server left its socket %s", s->path);
	srv_rmdir(s);
}

/* Nothing of ours is left: no child, no orphan, not even a zombie. */
static void assert_all_gone(void)
{
	reap_any();
	pwt_assert_no_children();
	ck_assert_int_eq(count_procs(getpid(), 0, NULL), 0);
}

/* ---- the client side -------------------------------------------------------- */

static procwait_client *connect_ok(const struct srv *s)
{
	procwait_client *c = NULL;
	int rc = procwait_client_connect(s->path, &c);

	ck_assert_msg(rc == 0, "procwait_client_connect: %s", procwait_strerror(rc));
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Start argv on c with the given timeout and stdin/stdout (-1: /dev/null);
 * stderr is ours. Returns the child's pid. */
static pid_t start_ok(procwait_client *c, const char *const *argv, int timeout_ms, int in,
                      int out)
{
	procwait_client_request r = PROCWAIT_CLIENT_REQUEST_INIT;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int pid;

	ck_assert_int_ge(null, 0);
	r.argv = (char *const *)argv;
	r.timeout_ms = timeout_ms;
	r.fds[0] = in >= 0 ? in : null;
	r.fds[1] = out >= 0 ? out : null;
	pid = procwait_client_start(c, &r);
	close(null);
	ck_assert_msg(pid > 0, "procwait_client_start(%s): %s (%s)", argv[0],
	              procwait_strerror(pid), procwait_client_message(c));
	return (pid_t)pid;
}

static void wait_ok(procwait_client *c, int timeout_ms, procwait_result *res)
{
	int rc = procwait_client_wait(c, timeout_ms, res);

	ck_assert_msg(rc == 1, "procwait_client_wait: %d (%s)", rc,
	              rc < 0 ? procwait_strerror(rc) : "no result in time");
}

static void assert_signaled(const procwait_result *res, int signo, int timed_out)
{
	ck_assert_msg(res->status.kind == PROCWAIT_STATUS_SIGNALED && res->status.signo == signo,
	              "kind %d code %d signo %d, expected death by signal %d",
	              (int)res->status.kind, res->status.code, res->status.signo, signo);
	ck_assert_int_eq(res->timed_out, timed_out);
}

static void assert_exit_code(const procwait_result *res, int code, int timed_out)
{
	ck_assert_msg(res->status.kind == PROCWAIT_STATUS_EXITED && res->status.code == code,
	              "kind %d code %d signo %d, expected exit code %d",
	              (int)res->status.kind, res->status.code, res->status.signo, code);
	ck_assert_int_eq(res->timed_out, timed_out);
}

/* One run of /bin/true start to finish (stdio: ours); 1 when it exited 0.
 * No Check assertion: threads call it. */
static int run_true(const struct srv *s)
{
	static const char *const argv[] = { "/bin/true", NULL };
	procwait_client_request r = PROCWAIT_CLIENT_REQUEST_INIT;
	procwait_client *c = NULL;
	procwait_result res;
	int ok;

	if (procwait_client_connect(s->path, &c) < 0)
		return 0;
	r.argv = (char *const *)argv;
	ok = procwait_client_start(c, &r) > 0 &&
	     procwait_client_wait(c, 30000, &res) == 1 &&
	     res.status.kind == PROCWAIT_STATUS_EXITED && res.status.code == 0 && !res.timed_out;
	procwait_client_close(c);
	return ok;
}

/* Read one line (up to '\n') from fd within timeout_ms; fails the test on
 * EOF or timeout. */
static void read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	long long end = pwt_now_ms() + timeout_ms;
	size_t n = 0;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = end - pwt_now_ms();
		ssize_t r;
		char ch;

		ck_assert_msg(left > 0, "no line within %d ms", timeout_ms);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		ck_assert_msg(r == 1, "end of file before a line");
		if (ch == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
	}
	buf[n] = '\0';
}

static pid_t read_pid_line(int fd)
{
	char line[64];
	long v;

	read_line(fd, line, sizeof(line), 10000);
	v = strtol(line, NULL, 10);
	ck_assert_msg(v > 0, "not a pid: '%s'", line);
	return (pid_t)v;
}

/* ---- setup of every test --------------------------------------------------- */

static void setup(void)
{
	/* Orphans of the servers' children come to us. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	nreaped = 0;
}

/* ---- 1. the client is killed mid-run ---------------------------------------- */

/* A client process starts argv through the server, reports the child's pid
 * (and, with grand, the shell's line on the child's stdout: its
 * grandchild's pid) and waits to be killed. */
static pid_t forked_client(const struct srv *s, const char *const *argv, pid_t *child,
                           pid_t *grand)
{
	int rp[2], op[2];
	pid_t pid;
	int32_t v = 0;

	ck_assert_int_eq(pipe2(rp, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(op, O_CLOEXEC), 0);
	fflush(NULL);
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		procwait_client_request r = PROCWAIT_CLIENT_REQUEST_INIT;
		procwait_client *c = NULL;
		int rc;

		close(rp[0]);
		close(op[0]);
		if (procwait_client_connect(s->path, &c) < 0)
			_exit(2);
		r.argv = (char *const *)argv;
		r.fds[1] = op[1];
		rc = procwait_client_start(c, &r);
		v = rc;
		if (pwt_write_full(rp[1], &v, sizeof(v)) < 0 || rc <= 0)
			_exit(3);
		for (;;)
			pause();
	}
	close(rp[1]);
	close(op[1]);
	ck_assert_msg(pwt_read_full(rp[0], &v, sizeof(v)) == 0, "the client died");
	close(rp[0]);
	ck_assert_msg(v > 0, "procwait_client_start: %s", procwait_strerror(v));
	*child = v;
	if (grand)
		*grand = read_pid_line(op[0]);
	close(op[0]);
	return pid;
}

START_TEST(test_client_killed)
{
	static const char *const plain[] = { "sleep", LONG_SLEEP, NULL };
	static const char *const shell[] = {
		"sh", "-c", "sleep " LONG_SLEEP " & echo $!; wait", NULL
	};
	struct srv s;
	pid_t client, child, grand;
	long long t0, took;
	int st;

	setup();
	srv_start(&s, GRACE_MS, 0);

	/* A plain child. */
	client = forked_client(&s, plain, &child, NULL);
	ck_assert(pwt_exists(child));
	t0 = pwt_now_ms();
	ck_assert_int_eq(kill(client, SIGKILL), 0);
	ck_assert(wait_child(client, 10000, &st));
	assert_killed_by(st, SIGKILL, "the client");
	took = await_group_gone(child, GRACE_MS + MARGIN_MS, t0);
	ck_assert_msg(took < GRACE_MS + MARGIN_MS, "%lld ms", took);

	/* A shell whose grandchild runs in the background. */
	client = forked_client(&s, shell, &child, &grand);
	ck_assert_int_eq(proc_stat(grand, NULL, NULL, &st), 0);
	ck_assert_int_eq(st, child);   /* the grandchild is in the group */
	t0 = pwt_now_ms();
	ck_assert_int_eq(kill(client, SIGKILL), 0);
	ck_assert(wait_child(client, 10000, &st));
	await_group_gone(child, GRACE_MS + MARGIN_MS, t0);
	ck_assert(!pwt_exists(grand));

	/* The client closes its connection in the middle of the run. */
	{
		procwait_client *c = connect_ok(&s);

		child = start_ok(c, plain, 0, -1, -1);
		pwt_nap_ms(50);
		ck_assert(pwt_exists(child));
		t0 = pwt_now_ms();
		procwait_client_close(c);
		await_group_gone(child, GRACE_MS + MARGIN_MS, t0);
	}

	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* ---- 2. timeouts -------------------------------------------------------------- */

/* A child that ignores SIGTERM: the timeout's SIGTERM does nothing, the
 * SIGKILL after the grace does: timed_out, SIGKILL, after timeout + grace. */
START_TEST(test_timeout_term_ignored)
{
	static const char *const argv[] = {
		"sh", "-c", "trap '' TERM; exec sleep " LONG_SLEEP, NULL
	};
	struct srv s;
	procwait_client *c;
	procwait_result res;
	long long t0, took;
	pid_t child;

	setup();
	srv_start(&s, GRACE_MS, 0);
	c = connect_ok(&s);
	t0 = pwt_now_ms();
	child = start_ok(c, argv, 200, -1, -1);
	wait_ok(c, 200 + GRACE_MS + 2 * MARGIN_MS, &res);
	took = pwt_now_ms() - t0;
	assert_signaled(&res, SIGKILL, 1);
	ck_assert_int_eq(res.status.pid, child);
	/* Timer rounding allowed for (ms clocks, rounded-up timeouts). */
	ck_assert_msg(took >= 200 + GRACE_MS - 10, "killed after %lld ms only", took);
	ck_assert_msg(took < 200 + GRACE_MS + MARGIN_MS, "killed after %lld ms", took);
	procwait_client_close(c);
	await_group_gone(child, MARGIN_MS, pwt_now_ms());
	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* Children that end on SIGTERM: reported at the timeout, not after the
 * (long) grace; a signal death and a trap's exit code both as they are. */
START_TEST(test_timeout_term_obeyed)
{
	static const char *const plain[] = { "sleep", LONG_SLEEP, NULL };
	static const char *const trap[] = {
		"sh", "-c", "trap 'exit 3' TERM; sleep " LONG_SLEEP " & wait", NULL
	};
	struct srv s;
	procwait_client *c;
	procwait_result res;
	long long t0, took;
	pid_t child;

	setup();
	srv_start(&s, LONG_GRACE_MS, 0);

	c = connect_ok(&s);
	t0 = pwt_now_ms();
	child = start_ok(c, plain, 200, -1, -1);
	wait_ok(c, LONG_GRACE_MS + MARGIN_MS, &res);
	took = pwt_now_ms() - t0;
	assert_signaled(&res, SIGTERM, 1);
	ck_assert_msg(took >= 190 && took < MARGIN_MS, "ended after %lld ms", took);
	procwait_client_close(c);
	await_group_gone(child, MARGIN_MS, pwt_now_ms());

	c = connect_ok(&s);
	t0 = pwt_now_ms();
	child = start_ok(c, trap, 200, -1, -1);
	wait_ok(c, LONG_GRACE_MS + MARGIN_MS, &res);
	took = pwt_now_ms() - t0;
	assert_exit_code(&res, 3, 1);
	ck_assert_msg(took >= 190 && took < MARGIN_MS, "ended after %lld ms", took);
	procwait_client_close(c);
	/* The background sleep got the group's SIGTERM too. */
	await_group_gone(child, MARGIN_MS, pwt_now_ms());

	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* ---- 3. grandchildren --------------------------------------------------------- */

/* The leader dies of the stop signal; its background grandchild ignores it.
 * The group gets SIGKILL as soon as the leader has exited (not after the
 * grace, which is long here). */
static const char *const leader_obeys[] = {
	"sh", "-c", "(trap '' TERM; exec sleep " LONG_SLEEP ") & echo $!; wait", NULL
};

START_TEST(test_grandchild_timeout)
{
	struct srv s;
	procwait_client *c;
	procwait_result res;
	long long t0, took;
	pid_t child, grand, pg;
	int p[2], st;

	setup();
	srv_start(&s, LONG_GRACE_MS, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	c = connect_ok(&s);
	t0 = pwt_now_ms();
	child = start_ok(c, leader_obeys, 500, -1, p[1]);
	close(p[1]);
	grand = read_pid_line(p[0]);
	close(p[0]);
	ck_assert_int_eq(proc_stat(grand, NULL, NULL, &pg), 0);
	ck_assert_int_eq(pg, child);
	wait_ok(c, LONG_GRACE_MS + MARGIN_MS, &res);
	took = pwt_now_ms() - t0;
	assert_signaled(&res, SIGTERM, 1);
	ck_assert_msg(took >= 490 && took < MARGIN_MS, "ended after %lld ms", took);
	/* The grandchild, ours now, died of the group's SIGKILL. */
	ck_assert_msg(wait_child(grand, MARGIN_MS, &st), "the grandchild outlived its group");
	assert_killed_by(st, SIGKILL, "the grandchild");
	await_group_gone(child, MARGIN_MS, pwt_now_ms());
	procwait_client_close(c);
	srv_stop(&s);
	assert_all_gone();
}
END_TEST

START_TEST(test_grandchild_client_lost)
{
	static const char *const all_ignore[] = {
		"sh", "-c", "trap '' TERM; sleep " LONG_SLEEP " & echo $!; wait", NULL
	};
	struct srv s;
	procwait_client *c;
	long long t0, took;
	pid_t child, grand, client;
	int p[2], st;

	setup();

	/* The leader obeys SIGTERM, the grandchild does not: both are gone
	 * once the leader is, well before the 10 s grace. */
	srv_start(&s, LONG_GRACE_MS, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	c = connect_ok(&s);
	child = start_ok(c, leader_obeys, 0, -1, p[1]);
	close(p[1]);
	grand = read_pid_line(p[0]);
	close(p[0]);
	pwt_nap_ms(50);   /* the subshell sets its trap */
	t0 = pwt_now_ms();
	procwait_client_close(c);
	ck_assert_msg(wait_child(grand, MARGIN_MS, &st), "the grandchild outlived its group");
	assert_killed_by(st, SIGKILL, "the grandchild");
	took = await_group_gone(child, MARGIN_MS, t0);
	ck_assert_msg(took < MARGIN_MS, "%lld ms", took);
	srv_stop(&s);

	/* Nobody obeys SIGTERM: the group goes at the grace's SIGKILL; the
	 * client is a killed process this time. */
	srv_start(&s, GRACE_MS, 0);
	client = forked_client(&s, all_ignore, &child, &grand);
	pwt_nap_ms(50);   /* the shell is in its wait */
	t0 = pwt_now_ms();
	ck_assert_int_eq(kill(client, SIGKILL), 0);
	ck_assert(wait_child(client, 10000, &st));
	ck_assert_msg(wait_child(grand, GRACE_MS + MARGIN_MS, &st),
	              "the grandchild outlived its group");
	assert_killed_by(st, SIGKILL, "the grandchild");
	took = await_group_gone(child, GRACE_MS + MARGIN_MS, t0);
	ck_assert_msg(took >= GRACE_MS - 10, "gone after %lld ms, before the grace", took);
	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* ---- 4. the server is killed --------------------------------------------------- */

/* SIGKILL to the server while a child runs: the client's wait ends with
 * -ECONNRESET (no hang), the child dies by its parent-death signal (we
 * adopt it as subreaper and see the SIGKILL), and the stale socket the
 * server left does not stop a new server from taking the path.
 * Not pinned: the child's own children. The parent-death signal is not
 * inherited across fork(), so nothing kills them once the server is dead. */
START_TEST(test_server_killed)
{
	static const char *const argv[] = { "sleep", LONG_SLEEP, NULL };
	struct srv s;
	procwait_client *c;
	procwait_result res;
	long long t0;
	pid_t child, ppid;
	int rc, st;

	setup();
	srv_start(&s, GRACE_MS, 0);
	c = connect_ok(&s);
	child = start_ok(c, argv, 0, -1, -1);
	await_exec(child, "sleep");
	ck_assert_int_eq(proc_stat(child, NULL, &ppid, NULL), 0);
	ck_assert_int_eq(ppid, s.pid);

	ck_assert_int_eq(kill(s.pid, SIGKILL), 0);
	t0 = pwt_now_ms();
	rc = procwait_client_wait(c, 10000, &res);
	ck_assert_msg(rc == -ECONNRESET, "procwait_client_wait: %d (%s)", rc,
	              rc < 0 ? procwait_strerror(rc) : rc ? "a result" : "timed out");
	ck_assert_msg(pwt_now_ms() - t0 < MARGIN_MS, "the wait took %lld ms", pwt_now_ms() - t0);
	procwait_client_close(c);
	assert_killed_by(srv_reap(&s, MARGIN_MS), SIGKILL, "the server");
	ck_assert_msg(wait_child(child, MARGIN_MS, &st), "the child outlived its server");
	assert_killed_by(st, SIGKILL, "the orphaned child");
	await_group_gone(child, MARGIN_MS, pwt_now_ms());

	/* The socket file stayed; a new server replaces it. */
	ck_assert_int_eq(access(s.path, F_OK), 0);
	ck_assert_int_eq(procwait_client_connect(s.path, &c), -ECONNREFUSED);
	srv_start_flags(&s, GRACE_MS, 0, 0, 1);
	ck_assert(run_true(&s));
	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* ---- 5. the server is stopped --------------------------------------------------- */

/* SIGTERM to the server while three children run, one of them ignoring
 * SIGTERM: every client gets its child's exit (SIGTERM, SIGTERM, SIGKILL
 * after the grace), the server exits 0 within grace + margin, its socket
 * is gone, and so is every process. */
START_TEST(test_server_stopped)
{
	static const char *const obey[] = { "sleep", LONG_SLEEP, NULL };
	static const char *const ignore[] = {
		"sh", "-c", "trap '' TERM; echo ready; exec sleep " LONG_SLEEP, NULL
	};
	struct srv s;
	procwait_client *c[3];
	procwait_result res;
	pid_t child[3];
	char line[16];
	long long t0, took;
	int p[2], i, st;

	setup();
	srv_start(&s, GRACE_MS, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	for (i = 0; i < 3; i++) {
		c[i] = connect_ok(&s);
		child[i] = start_ok(c[i], i == 1 ? ignore : obey, 0, -1, i == 1 ? p[1] : -1);
	}
	close(p[1]);
	read_line(p[0], line, sizeof(line), 10000);
	ck_assert_str_eq(line, "ready");
	close(p[0]);

	t0 = pwt_now_ms();
	ck_assert_int_eq(kill(s.pid, SIGTERM), 0);
	for (i = 0; i < 3; i++) {
		wait_ok(c[i], GRACE_MS + 2 * MARGIN_MS, &res);
		ck_assert_int_eq(res.status.pid, child[i]);
		assert_signaled(&res, i == 1 ? SIGKILL : SIGTERM, 0);
		procwait_client_close(c[i]);
	}
	st = srv_reap(&s, GRACE_MS + MARGIN_MS);
	took = pwt_now_ms() - t0;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "the server ended with wait status 0x%x", st);
	ck_assert_msg(took >= GRACE_MS - 10 && took < GRACE_MS + MARGIN_MS,
	              "the server took %lld ms to stop", took);
	ck_assert_msg(access(s.path, F_OK) < 0 && errno == ENOENT, "the socket was left");
	for (i = 0; i < 3; i++)
		await_group_gone(child[i], MARGIN_MS, pwt_now_ms());
	srv_rmdir(&s);
	assert_all_gone();
}
END_TEST

/* SIGTERM that reaches a serve() server between two calls of its loop (here:
 * raised by the before_fork hook, the window around fork()) stops it as
 * any SIGTERM does, cleanly: the child that was being forked runs, is
 * stopped and reported, and the server exits 0 and removes its socket. */
START_TEST(test_server_term_while_forking)
{
	static const char *const argv[] = { "sleep", LONG_SLEEP, NULL };
	struct srv s;
	procwait_client *c;
	procwait_client_request r = PROCWAIT_CLIENT_REQUEST_INIT;
	procwait_result res;
	int pid, rc, st;

	setup();
	srv_start_flags(&s, GRACE_MS, 0, SRV_TERM_IN_FORK, 0);
	c = connect_ok(&s);
	r.argv = (char *const *)argv;
	pid = procwait_client_start(c, &r);
	if (pid > 0) {
		rc = procwait_client_wait(c, GRACE_MS + 2 * MARGIN_MS, &res);
		ck_assert_msg(rc == 1, "procwait_client_wait: %d (%s)", rc,
		              rc < 0 ? procwait_strerror(rc) : "no result");
		assert_signaled(&res, SIGTERM, 0);
	} else {
		ck_assert_msg(pid == -ESHUTDOWN, "procwait_client_start: %s",
		              procwait_strerror(pid));
	}
	procwait_client_close(c);
	st = srv_reap(&s, GRACE_MS + 2 * MARGIN_MS);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "the server ended with wait status 0x%x (signal %d)", st,
	              WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	ck_assert_msg(access(s.path, F_OK) < 0 && errno == ENOENT, "the socket was left");
	if (pid > 0)
		await_group_gone(pid, MARGIN_MS, pwt_now_ms());
	srv_rmdir(&s);
	assert_all_gone();
}
END_TEST

/* ---- 6. soak ------------------------------------------------------------------------ */

#define SEQUENTIAL 2000
#define CONCURRENT 200
#define WARMUP 50

struct conc {
	const struct srv *s;
	pthread_barrier_t *start;
	int ok;
};

static void *conc_run(void *arg)
{
	struct conc *k = arg;

	pthread_barrier_wait(k->start);
	k->ok = run_true(k->s);
	return NULL;
}

/* 200 clients at once, each in a thread: connect, start, wait. The server
 * keeps its default 64 slots, so most requests wait in its queue. */
static void run_concurrent(const struct srv *s)
{
	static struct conc k[CONCURRENT];
	static pthread_t th[CONCURRENT];
	pthread_barrier_t start;
	pthread_attr_t attr;
	int i, failed = 0;

	ck_assert_int_eq(pthread_barrier_init(&start, NULL, CONCURRENT), 0);
	ck_assert_int_eq(pthread_attr_init(&attr), 0);
	ck_assert_int_eq(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
	for (i = 0; i < CONCURRENT; i++) {
		k[i].s = s;
		k[i].start = &start;
		k[i].ok = 0;
		ck_assert_int_eq(pthread_create(&th[i], &attr, conc_run, &k[i]), 0);
	}
	for (i = 0; i < CONCURRENT; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		failed += !k[i].ok;
	}
	pthread_attr_destroy(&attr);
	pthread_barrier_destroy(&start);
	ck_assert_msg(failed == 0, "%d of %d concurrent runs failed", failed, CONCURRENT);
}

/* The server's descriptor count once it is idle. It sends EXITED, then
 * closes the connection: a client woken by the EXITED may look before the
 * server has run its close(). So: the same count twice, 50 ms apart. */
static int settled_fd_count(pid_t pid)
{
	int prev = -1, now, i;

	for (i = 0; i < 100; i++) {
		pwt_nap_ms(50);
		now = fd_count(pid);
		if (now == prev)
			return now;
		prev = now;
	}
	ck_abort_msg("the server's descriptors keep changing:%s", fd_list(pid));
	return -1;
}

/* The server's descriptors back to n (its connections are freed as it
 * sends EXITED; allow it a moment all the same). */
static void await_server_fds(pid_t pid, int n)
{
	long long end = pwt_now_ms() + MARGIN_MS;
	int now;

	while ((now = fd_count(pid)) != n && pwt_now_ms() < end)
		pwt_nap_ms(10);
	ck_assert_msg(now == n, "the server holds %d descriptors, %d at the baseline:%s", now,
	              n, fd_list(pid));
}

static void assert_no_server_children(pid_t pid)
{
	int zombies, n = count_procs(pid, 0, &zombies);

	ck_assert_msg(n == 0, "the server has %d children (%d zombies)", n, zombies);
}

START_TEST(test_soak)
{
	struct srv s;
	long long t0;
	long rss0, rss1, rss2, rss3;
	int fds0, own0, i, failed = 0;

	setup();
	srv_start(&s, GRACE_MS, 0);
	for (i = 0; i < WARMUP; i++)
		ck_assert(run_true(&s));
	fds0 = settled_fd_count(s.pid);
	own0 = fd_count(getpid());
	rss0 = rss_kib(s.pid);

	t0 = pwt_now_ms();
	for (i = 0; i < SEQUENTIAL; i++)
		failed += !run_true(&s);
	ck_assert_msg(failed == 0, "%d of %d sequential runs failed", failed, SEQUENTIAL);
	fprintf(stderr, "fs_stress: %d sequential runs in %lld ms\n", SEQUENTIAL,
	        pwt_now_ms() - t0);
	assert_no_server_children(s.pid);
	await_server_fds(s.pid, fds0);
	rss1 = rss_kib(s.pid);

	t0 = pwt_now_ms();
	run_concurrent(&s);
	fprintf(stderr, "fs_stress: %d concurrent runs in %lld ms\n", CONCURRENT,
	        pwt_now_ms() - t0);
	assert_no_server_children(s.pid);
	await_server_fds(s.pid, fds0);
	rss2 = rss_kib(s.pid);
	/* A second round, at the heap mark the first one set. */
	run_concurrent(&s);
	assert_no_server_children(s.pid);
	await_server_fds(s.pid, fds0);
	rss3 = rss_kib(s.pid);
	fprintf(stderr, "fs_stress: server RSS (KiB) %ld after the warm-up, %ld after the "
	        "sequential runs, %ld and %ld after each concurrent round\n",
	        rss0, rss1, rss2, rss3);

	/* Memory. The server's RSS may grow a little without any leak:
	 * malloc keeps freed chunks in its bins and arenas rather than give
	 * them back, and touches a few more pages as its free lists shift.
	 * Hence a tolerance of 256 KiB over the warm-up's RSS for the 2,000
	 * sequential runs (a leak of 132 bytes or more a run exceeds it; it
	 * is usually 0 here). 200 connections at once, each with its request
	 * (argv and the whole environment), set a heap mark the warm-up never
	 * reached: up to 1 MiB more after the first round (about 200 KiB is
	 * usual), then a second round, which reuses that heap, within 256 KiB
	 * of the first.
	 * Under AddressSanitizer freed memory sits in a quarantine and RSS
	 * says nothing: LeakSanitizer checks the server at its exit instead. */
	if (!PWT_ASAN) {
		ck_assert_msg(rss1 <= rss0 + 256, "server RSS %ld KiB after %d runs, %ld KiB "
		              "after the warm-up", rss1, SEQUENTIAL, rss0);
		ck_assert_msg(rss2 <= rss0 + 1024, "server RSS %ld KiB after %d concurrent "
		              "runs, %ld KiB after the warm-up", rss2, CONCURRENT, rss0);
		ck_assert_msg(rss3 <= rss2 + 256, "server RSS %ld KiB after the second "
		              "concurrent round, %ld KiB after the first", rss3, rss2);
	}
	ck_assert_int_eq(fd_count(getpid()), own0);
	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* ---- 7. clients that send nothing, or garbage ------------------------------------- */

/* A raw connection to the server (no procwait client). */
static int raw_connect(const struct srv *s)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(s->path), sizeof(sa.sun_path));
	strcpy(sa.sun_path, s->path);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s",
	              strerror(errno));
	return fd;
}

/* Send one message, then expect the server's ERROR frame and the end of
 * the connection. */
static void send_garbage(const struct srv *s, const void *msg, size_t len, const char *what)
{
	unsigned char reply[1024];
	struct pollfd pfd;
	ssize_t n;
	int fd = raw_connect(s);
	uint16_t type;

	ck_assert_msg(send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len, "%s: send: %s", what,
	              strerror(errno));
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, 10000) == 1, "%s: no reply", what);
	n = recv(fd, reply, sizeof(reply), 0);
	ck_assert_msg(n >= 12, "%s: reply of %zd bytes", what, n);
	memcpy(&type, reply + 6, sizeof(type));
	ck_assert_msg(type == 0x83, "%s: reply of type 0x%x, not ERROR", what, type);
	ck_assert_msg(poll(&pfd, 1, 10000) == 1, "%s: the connection stays open", what);
	ck_assert_msg(recv(fd, reply, sizeof(reply), 0) == 0, "%s: more than one reply", what);
	close(fd);
}

START_TEST(test_idle_and_garbage_clients)
{
	/* Frames: header = u32 magic "PWFS" | u16 version | u16 type | u32 len. */
	struct {
		uint32_t magic;
		uint16_t version, type;
		uint32_t len;
		uint32_t payload[2];
	} frame;
	struct srv s;
	int fds0, own0, idle, i;
	int many[100];

	setup();
	srv_start(&s, GRACE_MS, 0);
	ck_assert(run_true(&s));
	fds0 = settled_fd_count(s.pid);
	own0 = fd_count(getpid());

	/* A client that connects and closes at once. */
	close(raw_connect(&s));
	/* One that connects, says nothing and stays: others are served. */
	idle = raw_connect(&s);
	ck_assert(run_true(&s));
	/* A hundred that connect, all at once, then all leave. */
	for (i = 0; i < 100; i++)
		many[i] = raw_connect(&s);
	ck_assert(run_true(&s));
	for (i = 0; i < 100; i++)
		close(many[i]);
	/* A hundred that connect and leave one by one. */
	for (i = 0; i < 100; i++) {
		procwait_client *c = connect_ok(&s);
		procwait_client_close(c);
	}
	ck_assert(run_true(&s));
	close(idle);
	await_server_fds(s.pid, fds0);

	/* Garbage: too short, a bad magic, another version, a REQUEST cut
	 * short and without its descriptors, an empty REQUEST with them
	 * missing, a SIGNAL before any request. Each gets an error reply
	 * and the door. */
	send_garbage(&s, "abc", 3, "3 bytes");
	memset(&frame, 0, sizeof(frame));
	frame.magic = 0x12345678u;
	frame.version = 1;
	frame.type = 1;
	send_garbage(&s, &frame, 12, "bad magic");
	frame.magic = 0x53465750u;
	frame.version = 99;
	send_garbage(&s, &frame, 12, "version 99");
	frame.version = 1;
	frame.type = 1;
	frame.len = 100;
	send_garbage(&s, &frame, sizeof(frame), "REQUEST shorter than its length");
	frame.len = 8;
	send_garbage(&s, &frame, sizeof(frame), "REQUEST without descriptors");
	frame.type = 2;
	frame.len = 4;
	send_garbage(&s, &frame, 16, "SIGNAL before REQUEST");
	frame.type = 0x77;
	frame.len = 0;
	send_garbage(&s, &frame, 12, "unknown type");

	ck_assert(run_true(&s));
	await_server_fds(s.pid, fds0);
	ck_assert_int_eq(fd_count(getpid()), own0);
	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* ---- 8. job control ------------------------------------------------------------------ */

/* The child's state letter from /proc, polled until it is (want_stopped)
 * or is not 'T'. */
static void await_state(pid_t pid, int want_stopped)
{
	long long end = pwt_now_ms() + MARGIN_MS;
	char st = '?';

	for (;;) {
		ck_assert_int_eq(proc_stat(pid, &st, NULL, NULL), 0);
		if ((st == 'T') == want_stopped)
			return;
		ck_assert_msg(pwt_now_ms() < end, "pid %d in state %c, expected %s", (int)pid,
		              st, want_stopped ? "stopped" : "running");
		pwt_nap_ms(5);
	}
}

/* SIGTSTP then SIGCONT through the server: the child stops (and no exit is
 * reported meanwhile), runs again, and then finishes normally. The child
 * leads its own session, so its process group is orphaned, and the kernel
 * discards a job-control stop (SIGTSTP, SIGTTIN, SIGTTOU) sent to an
 * orphaned group: forwarding SIGTSTP as it is does nothing at all. */
START_TEST(test_stop_and_continue)
{
	static const char *const argv[] = { "cat", NULL };
	struct srv s;
	procwait_client *c;
	procwait_result res;
	pid_t child;
	int p[2];

	setup();
	srv_start(&s, GRACE_MS, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	c = connect_ok(&s);
	child = start_ok(c, argv, 0, p[0], -1);
	close(p[0]);
	await_exec(child, "cat");
	await_state(child, 0);

	ck_assert_int_eq(procwait_client_signal(c, SIGTSTP), 0);
	await_state(child, 1);
	ck_assert_int_eq(procwait_client_wait(c, 200, &res), 0);
	await_state(child, 1);

	ck_assert_int_eq(procwait_client_signal(c, SIGCONT), 0);
	await_state(child, 0);
	ck_assert_int_eq(procwait_client_wait(c, 0, &res), 0);
	ck_assert(pwt_exists(child));

	close(p[1]);   /* end of input: cat exits 0 */
	wait_ok(c, MARGIN_MS, &res);
	assert_exit_code(&res, 0, 0);
	ck_assert_int_eq(res.status.pid, child);
	procwait_client_close(c);
	await_group_gone(child, MARGIN_MS, pwt_now_ms());
	srv_stop(&s);
	assert_all_gone();
}
END_TEST

/* ---- the suite --------------------------------------------------------------------- */

static Suite *fs_stress_suite(void)
{
	Suite *s = suite_create("fs_stress");
	TCase *tc;

	tc = tcase_create("client_lost");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_client_killed);
	tcase_add_test(tc, test_grandchild_client_lost);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_timeout_term_ignored);
	tcase_add_test(tc, test_timeout_term_obeyed);
	tcase_add_test(tc, test_grandchild_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("server_end");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_server_killed);
	tcase_add_test(tc, test_server_stopped);
	tcase_add_test(tc, test_server_term_while_forking);
	suite_add_tcase(s, tc);

	tc = tcase_create("soak");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_soak);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_clients");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_idle_and_garbage_clients);
	suite_add_tcase(s, tc);

	tc = tcase_create("job_control");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stop_and_continue);
	suite_add_tcase(s, tc);

	return s;
}

/* Remove dir and whatever a failed test left in it (two levels at most:
 * server directories and their sockets). */
static void remove_tree(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (d) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) < 0 && depth > 0)
				remove_tree(path, depth - 1);
		}
		closedir(d);
	}
	rmdir(dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	/* Socket paths must fit sun_path: fall back to /tmp for a long
	 * TMPDIR. */
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(base_dir, sizeof(base_dir), "%s/pwfs-stress-XXXXXX", tmp);
	if (!mkdtemp(base_dir)) {
		perror("mkdtemp");
		return 99;
	}
	rc = pwt_run(fs_stress_suite());
	remove_tree(base_dir, 2);
	return rc;
}
