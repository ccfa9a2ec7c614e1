/* SPDX-License-Identifier: MIT */
/*
 * Section "forkserver": what a process per request costs, sequentially
 * (latency p50/p99 of one request, from asking to having its exit status,
 * and runs per second over a batch) and with K requests in flight:
 *
 *  - fork-exec, the reference: posix_spawn of /bin/true, then waitpid;
 *  - procwait-client: /bin/true through `procwait serve` (started by the
 *    bench on a socket in a private mktemp directory) with the C client API:
 *    connect, start, wait, close;
 *  - procwait-run: the procwait-run binary spawned per request against the
 *    same server, what a shell user pays;
 *  - procwait-fork-fn: a fork server inside the bench (forkserver_new and
 *    forkserver_serve in a forked process) whose children _exit(0) at once:
 *    a preloaded child per request, like for like with
 *  - python-mp-forkserver: CPython's multiprocessing with the 'forkserver'
 *    start method, p.start(); p.join() of a trivial target, as a script
 *    uses it (bench/peers/forkserver_mp.py; CPython's published rate:
 *    535-828 processes/s). Before CPython 3.14 its server never preloads
 *    __main__ (gh-126631): each child runs the main script again;
 *  - python-mp-fs-preloaded: the same with the target in a module the
 *    server preloads and no main script run in the children: CPython's
 *    best case, the like-for-like rival of procwait-fork-fn. The issue's
 *    target: procwait-fork-fn at least 2x its throughput in the same run
 *    (its speed against the script's is shown too);
 *  - python3-c-cold: `python3 -c pass` spawned per request, the cold start a
 *    preloading server saves (DESIGN.md §8);
 *  - the same with K in flight: fork-exec-xK (the reference of the xK
 *    rows), procwait-client-xK, procwait-fork-fn-xK;
 *  - after a pause: one request PAUSE_MS after the last, as a developer
 *    re-running a test makes them, through the C client to `procwait
 *    serve` as it is (paused: a cgroup per run where the bench may make
 *    them, and a spare), with --no-spare (paused-nospare: the child moves
 *    into its cgroup on the request's path, and a move after a pause waits
 *    for an RCU grace period) and with --no-cgroups --no-spare
 *    (paused-plain, the reference of these rows). Target: paused within
 *    FORKSERVER_PAUSED_MAX of paused-plain. Their runs/s counts the
 *    requests' own time, not the pauses.
 *
 * Every row runs one batch per round, the rounds interleaved (the order
 * rotated each round), the Python peer started afresh each round. A row's
 * runs/s is its median batch; its ratio is the median over the rounds of
 * its time per run against the reference's of the same round, and its
 * speed against the Python rows likewise (runs/s over runs/s, same
 * round): a burst of noise spoils one round, not one row. Latencies are
 * pooled over the rounds. The library runs in a worker process; a program
 * or peer that cannot run makes its row "missing", with the reason.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <procwait/procwait.h>

#include "bench.h"

extern char **environ;

#define INFLIGHT 8                 /* K: requests in flight in the xK rows */
#define PYMP_PUBLISHED "535-828"   /* CPython's forkserver, processes/s */
#define MAX_ROUNDS 16
#define PAUSE_MS 50                /* between the requests of the pause rows */

enum fr {
	F_EXEC, F_CLIENT, F_RUN, F_FN, F_PYMP, F_PYPRE, F_PYCOLD, F_EXEC_K, F_CLIENT_K, F_FN_K,
	F_PAUSE_PLAIN, F_PAUSE, F_PAUSE_NOSPARE,
	NF
};

static const char *const fr_base[NF] = {
	"fork-exec", "procwait-client", "procwait-run", "procwait-fork-fn",
	"python-mp-forkserver", "python-mp-fs-preloaded", "python3-c-cold", "fork-exec",
	"procwait-client", "procwait-fork-fn",
	"paused-plain", "paused", "paused-nospare",
};

static int fr_inflight(int i)
{
	return i >= F_EXEC_K && i <= F_FN_K ? INFLIGHT : 1;
}

/* The row a row's ratio is over. */
static int fr_ref(int i)
{
	return i >= F_PAUSE_PLAIN ? F_PAUSE_PLAIN : i >= F_EXEC_K ? F_EXEC_K : F_EXEC;
}

/* The servers the bench starts with `procwait serve`. */
enum { S_DEFAULT, S_PLAIN, S_NOSPARE, NS };

/* The `procwait serve` a row talks to (S_*), -1 for none. */
static int fr_server(int i)
{
	switch (i) {
	case F_CLIENT: case F_RUN: case F_CLIENT_K: case F_PAUSE:
		return S_DEFAULT;
	case F_PAUSE_PLAIN:
		return S_PLAIN;
	case F_PAUSE_NOSPARE:
		return S_NOSPARE;
	default:
		return -1;
	}
}

static int rounds(const struct options *o)
{
	return o->quick ? 5 : 9;
}

/* Runs per batch: C rows, the multiprocessing peer, the cold python3. */
static int runs(const struct options *o, int i)
{
	if (i == F_PYMP || i == F_PYPRE)
		return o->quick ? 30 : 100;
	if (i == F_PYCOLD)
		return o->quick ? 6 : 20;
	if (i >= F_PAUSE_PLAIN)
		return o->quick ? 10 : 20;
	return o->quick ? 100 : 300;
}

struct fctx {
	const struct options *o;
	char dir[256];               /* private mktemp directory, "" if none */
	char exec_sock[NS][320], fn_sock[320];
	pid_t exec_srv[NS], fn_srv;  /* the servers, 0 when not running */
	char tool[4096], run[4096];  /* `procwait`, `procwait-run` */
	char peer[4096];
	int devnull;
	posix_spawn_file_actions_t fa;   /* stdin and stdout from /dev/null */
	char *true_argv[2], *run_argv[6], *cold_argv[4];
	double *lat[NF];             /* pooled latencies, µs */
	int nlat[NF];
	double rate[NF][MAX_ROUNDS]; /* runs/s of each round's batch */
	char pyimpl[64];
	int64_t el_pypre;            /* F_PYPRE's batch, run with F_PYMP's */
};


/* ---- finding the programs --------------------------------------------------- */


/* Spawn argv with stdio on /dev/null; its exit code, or -1. */
static int run_quiet(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int st = -1, fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid;

	if (fd < 0 || posix_spawn_file_actions_init(&fa) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A libtool wrapper script in the build tree runs a shell before the
 * program: take the program in .libs/ instead when it runs here (the
 * library found through this process's LD_LIBRARY_PATH). */
static void unwrap(char *path, size_t size, const char *name, const char *test_arg,
                   char *note, size_t nsize)
{
	char real[4096];
	char *argv[4];

	if (!bench_libtool_binary(path, name, real, sizeof(real)))
		return;
	argv[0] = real;
	argv[1] = (char *)test_arg;
	argv[2] = test_arg[0] == 's' ? "--help" : NULL;
	argv[3] = NULL;
	if (bench_executable(real) && run_quiet(argv) == 0) {
		snprintf(path, size, "%s", real);
		snprintf(note, nsize, "; build tree .libs binary");
	} else {
		snprintf(note, nsize, "; libtool wrapper: a shell per run");
	}
}

/* env, else next to this program in the build tree (../tools/NAME, past a
 * .libs/ directory) or installed (NAME beside it), else PATH. */
static int find_program(const struct options *o, const char *env, const char *name,
                        const char *test_arg, char *out, size_t size, char *note,
                        size_t nsize)
{
	const char *e = getenv(env), *path;
	char dir[4096], *slash;
	size_t len;

	note[0] = '\0';
	if (e && *e) {
		snprintf(out, size, "%s", e);
		if (!bench_executable(out))
			return -1;
		unwrap(out, size, name, test_arg, note, nsize);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", o->self);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		len = strlen(dir);
		if (len >= 6 && !strcmp(dir + len - 6, "/.libs"))
			dir[len - 6] = '\0';
		snprintf(out, size, "%s/../tools/%s", dir, name);
		if (bench_executable(out)) {
			unwrap(out, size, name, test_arg, note, nsize);
			return 0;
		}
		snprintf(out, size, "%s/%s", dir, name);
		if (bench_executable(out)) {
			unwrap(out, size, name, test_arg, note, nsize);
			return 0;
		}
	}
	path = getenv("PATH");
	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);

		if (n > 0 && n < sizeof(dir)) {
			memcpy(dir, path, n);
			dir[n] = '\0';
			snprintf(out, size, "%s/%s", dir, name);
			if (bench_executable(out))
				return 0;
		}
		path = end ? end + 1 : NULL;
	}
	out[0] = '\0';
	return -1;
}

/* ---- the servers -------------------------------------------------------------- */


/* Until a client connects on path (5 s at most) or the server died. */
static int wait_listening(pid_t pid, const char *path, char *err, size_t esize)
{
	procwait_client *cl;
	int i, r = -1, st;

	for (i = 0; i < 500; i++) {
		r = procwait_client_connect(path, &cl);
		if (r == 0) {
			procwait_client_close(cl);
			return 0;
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			snprintf(err, esize, "the server exited (status %d) before listening",
			         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			return -1;
		}
		sleep_ns(10000000);
	}
	snprintf(err, esize, "no server listening on %s after 5 s: %s", path,
	         procwait_strerror(r));
	return -1;
}

static void quiet_log(void *data, int level, const char *msg)
{
	(void)data;
	if (level <= PROCWAIT_LOG_WARNING)
		fprintf(stderr, "procwait-bench: fork server: %s\n", msg);
}

/* The bench's own server: every child _exit(0)s at once. */
static pid_t start_fn_server(struct fctx *c, char *err, size_t esize)
{
	pid_t pid, parent = getpid();

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, esize, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		procwait_forkserver_options fo = PROCWAIT_FORKSERVER_OPTIONS_INIT;
		procwait_forkserver *fs;
		procwait_request *req;
		int r;

#ifdef PR_SET_PDEATHSIG
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		if (getppid() != parent)
			_exit(1);
		fo.socket_path = c->fn_sock;
		fo.log = quiet_log;
		r = procwait_forkserver_new(&fo, &fs);
		if (r < 0) {
			fprintf(stderr, "procwait-bench: forkserver_new(%s): %s\n", c->fn_sock,
			        procwait_strerror(r));
			_exit(1);
		}
		r = procwait_forkserver_serve(fs, &req);
		if (r == 1)
			_exit(0);   /* the child: the trivial function */
		procwait_forkserver_free(fs);
		_exit(r < 0 ? 1 : 0);
	}
	if (wait_listening(pid, c->fn_sock, err, esize) < 0) {
		bench_stop_server(&pid);
		return -1;
	}
	return pid;
}

/* `procwait serve --socket PATH [OPTIONS]` (server kind k), its stdio on
 * /dev/null but stderr. */
static pid_t start_exec_server(struct fctx *c, int k, char *err, size_t esize)
{
	static const char *const opts[NS][2] = {
		{ NULL, NULL }, { "--no-cgroups", "--no-spare" }, { "--no-spare", NULL }
	};
	pid_t pid, parent = getpid();

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, esize, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
#ifdef PR_SET_PDEATHSIG
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		if (getppid() != parent)
			_exit(1);
		dup2(c->devnull, 0);
		dup2(c->devnull, 1);
		execl(c->tool, c->tool, "serve", "--socket", c->exec_sock[k], opts[k][0], opts[k][1],
		      (char *)NULL);
		fprintf(stderr, "procwait-bench: %s: %s\n", c->tool, strerror(errno));
		_exit(127);
	}
	if (wait_listening(pid, c->exec_sock[k], err, esize) < 0) {
		bench_stop_server(&pid);
		return -1;
	}
	return pid;
}

/* ---- one batch of each kind ----------------------------------------------------- */

/* n runs of argv, one after the other. 0, or -1 with err set. */
static int batch_spawn(struct fctx *c, char *const argv[], int n, double *lat, int64_t *el,
                       char *err, size_t esize)
{
	int64_t t_start = now_ns(), t0;
	int i, r, st;
	pid_t pid;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		r = posix_spawn(&pid, argv[0], &c->fa, NULL, argv, environ);
		if (r != 0) {
			snprintf(err, esize, "posix_spawn %s: %s", argv[0], strerror(r));
			return -1;
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		lat[i] = (double)(now_ns() - t0) / 1e3;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(err, esize, "%s exited with status %d", argv[0],
			         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			return -1;
		}
	}
	*el = now_ns() - t_start;
	return 0;
}

/* Connect and start one request on server path. */
static int client_start(struct fctx *c, const char *path, procwait_client **cl, char *err,
                        size_t esize)
{
	procwait_client_request req = PROCWAIT_CLIENT_REQUEST_INIT;
	int r;

	r = procwait_client_connect(path, cl);
	if (r < 0) {
		snprintf(err, esize, "procwait_client_connect: %s", procwait_strerror(r));
		return -1;
	}
	req.argv = c->true_argv;
	req.fds[0] = c->devnull;
	req.fds[1] = c->devnull;
	r = procwait_client_start(*cl, &req);
	if (r < 0) {
		snprintf(err, esize, "procwait_client_start: %s%s%s", procwait_strerror(r),
		         *procwait_client_message(*cl) ? ": " : "", procwait_client_message(*cl));
		procwait_client_close(*cl);
		*cl = NULL;
		return -1;
	}
	return 0;
}

/* Its result (timeout_ms as procwait_client_wait); 1 done, 0 not yet. */
static int client_finish(procwait_client *cl, int timeout_ms, char *err, size_t esize)
{
	procwait_result res;
	int r = procwait_client_wait(cl, timeout_ms, &res);

	if (r < 0) {
		snprintf(err, esize, "procwait_client_wait: %s", procwait_strerror(r));
		return -1;
	}
	if (r == 1 && procwait_status_shell(&res.status) != 0) {
		snprintf(err, esize, "the request's child ended with status %d",
		         procwait_status_shell(&res.status));
		return -1;
	}
	return r;
}

static int batch_client(struct fctx *c, const char *path, int n, double *lat, int64_t *el,
                        char *err, size_t esize)
{
	int64_t t_start = now_ns(), t0;
	procwait_client *cl;
	int i, r;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (client_start(c, path, &cl, err, esize) < 0)
			return -1;
		r = client_finish(cl, -1, err, esize);
		procwait_client_close(cl);
		lat[i] = (double)(now_ns() - t0) / 1e3;
		if (r != 1)
			return -1;
	}
	*el = now_ns() - t_start;
	return 0;
}

/* n requests, each PAUSE_MS after the last; *el sums their own times. */
static int batch_paused(struct fctx *c, const char *path, int n, double *lat, int64_t *el,
                        char *err, size_t esize)
{
	struct timespec pause = { 0, PAUSE_MS * 1000000L };
	int i;

	*el = 0;
	for (i = 0; i < n; i++) {
		int64_t one;

		while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
			;
		pause.tv_nsec = PAUSE_MS * 1000000L;
		if (batch_client(c, path, 1, lat + i, &one, err, esize) < 0)
			return -1;
		*el += one;
	}
	return 0;
}

/* n runs of /bin/true, INFLIGHT at once. The worker's other children are
 * the servers: reaping one of them is a failure. */
static int batch_spawn_k(struct fctx *c, int n, double *lat, int64_t *el, char *err,
                         size_t esize)
{
	pid_t pid[INFLIGHT];
	int64_t t0[INFLIGHT], t_start = now_ns();
	int started = 0, done = 0, i, k, r, st, rc = 0;
	pid_t p;

	for (i = 0; i < INFLIGHT; i++)
		pid[i] = 0;
	while (done < started || (started < n && rc == 0)) {
		for (i = 0; i < INFLIGHT && started < n && rc == 0; i++) {
			if (pid[i] > 0)
				continue;
			t0[i] = now_ns();
			r = posix_spawn(&pid[i], c->true_argv[0], &c->fa, NULL, c->true_argv, environ);
			if (r != 0) {
				snprintf(err, esize, "posix_spawn: %s", strerror(r));
				pid[i] = 0;
				rc = -1;
				break;
			}
			started++;
		}
		if (done == started)
			break;
		p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, esize, "waitpid: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < INFLIGHT && pid[i] != p; i++)
			;
		if (i == INFLIGHT) {
			snprintf(err, esize, "a server (pid %ld) died", (long)p);
			for (k = 0; k < NS; k++)
				if (p == c->exec_srv[k])
					c->exec_srv[k] = 0;
			if (p == c->fn_srv)
				c->fn_srv = 0;
			rc = -1;
			continue;
		}
		lat[done++] = (double)(now_ns() - t0[i]) / 1e3;
		pid[i] = 0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(err, esize, "/bin/true exited with status %d",
			         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			rc = -1;
		}
	}
	*el = now_ns() - t_start;
	return rc;
}

/* n requests through the server at path, INFLIGHT at once. */
static int batch_client_k(struct fctx *c, const char *path, int n, double *lat, int64_t *el,
                          char *err, size_t esize)
{
	procwait_client *cl[INFLIGHT];
	struct pollfd pfd[INFLIGHT];
	int64_t t0[INFLIGHT], t_start = now_ns();
	int started = 0, done = 0, i, r, rc = 0, live;

	for (i = 0; i < INFLIGHT; i++)
		cl[i] = NULL;
	for (;;) {
		for (i = 0; i < INFLIGHT && started < n && rc == 0; i++) {
			if (cl[i])
				continue;
			t0[i] = now_ns();
			if (client_start(c, path, &cl[i], err, esize) < 0) {
				rc = -1;
				break;
			}
			started++;
		}
		for (i = live = 0; i < INFLIGHT; i++) {
			pfd[i].fd = cl[i] ? procwait_client_fd(cl[i]) : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			live += cl[i] != NULL;
		}
		if (!live)
			break;
		errno = 0;
		if (poll(pfd, INFLIGHT, 60000) <= 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, esize, "poll: %s", errno ? strerror(errno) : "no exit in 60 s");
			rc = -1;
			break;
		}
		for (i = 0; i < INFLIGHT; i++) {
			if (!cl[i] || !pfd[i].revents)
				continue;
			r = client_finish(cl[i], 0, err, esize);
			if (r == 0)
				continue;
			lat[done++] = (double)(now_ns() - t0[i]) / 1e3;
			procwait_client_close(cl[i]);
			cl[i] = NULL;
			if (r < 0)
				rc = -1;
		}
	}
	for (i = 0; i < INFLIGHT; i++)
		procwait_client_close(cl[i]);
	*el = now_ns() - t_start;
	return rc;
}

/* ---- the Python peer -------------------------------------------------------------- */

static double json_num(const char *js, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p)
		return -1;
	return strtod(p + strlen(pat), NULL);
}

static void json_str(const char *js, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p, *e;
	size_t n;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p || !(p = strchr(p + strlen(pat), '"')) || !(e = strchr(++p, '"')))
		return;
	n = (size_t)(e - p) < size - 1 ? (size_t)(e - p) : size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static int have_python(const struct options *o)
{
	char cmd[4300];

	if (strchr(o->python, '\''))
		return 0;
	snprintf(cmd, sizeof(cmd), "'%s' -c 'import json, resource, multiprocessing' "
	         ">/dev/null 2>&1", o->python);
	return system(cmd) == 0;
}

/* The figures of one mode in the peer's output: 0, or -1 with err set. */
static int pymp_mode(const char *out, const char *mode, int n, double *lat, int64_t *el,
                     char *err, size_t esize)
{
	char key[32];
	const char *p;
	double per_s;
	int i;

	snprintf(key, sizeof(key), "\"%s\": {", mode);
	p = strstr(out, key);
	per_s = p ? json_num(p, "per_s") : -1;
	if (per_s <= 0 || !(p = strstr(p, "\"latencies_us\": ["))) {
		snprintf(err, esize, "forkserver_mp.py: no %s figures in its output", mode);
		return -1;
	}
	p += strlen("\"latencies_us\": [");
	for (i = 0; i < n; i++) {
		char *end;

		lat[i] = strtod(p, &end);
		if (end == p) {
			snprintf(err, esize, "forkserver_mp.py: %d %s latencies, want %d", i, mode, n);
			return -1;
		}
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	*el = (int64_t)((double)n / per_s * 1e9);
	return 0;
}

/* One run of forkserver_mp.py: n processes of each mode, the script's in
 * row F_PYMP's arrays, the preloaded one's in F_PYPRE's. 0; 1 with the
 * rows' missing set by the peer (not an error); -1 with err set. */
static int batch_pymp(struct fctx *c, int n, double *lat, int64_t *el, double *lat2,
                      int64_t *el2, struct row *rows, char *err, size_t esize)
{
	static char out[1 << 18];
	char cmd[8400];
	size_t got = 0, k;
	int st;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' '%s' --reps %d </dev/null", c->o->python, c->peer, n);
	fflush(NULL);
	f = popen(cmd, "r");
	if (!f) {
		snprintf(err, esize, "cannot run %s: %s", c->o->python, strerror(errno));
		return -1;
	}
	while (got < sizeof(out) - 1 && (k = fread(out + got, 1, sizeof(out) - 1 - got, f)) > 0)
		got += k;
	out[got] = '\0';
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || got == 0) {
		snprintf(err, esize, "forkserver_mp.py failed (status %d)",
		         st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	json_str(out, "missing", rows[F_PYMP].missing, sizeof(rows[F_PYMP].missing));
	if (rows[F_PYMP].missing[0]) {
		memcpy(rows[F_PYPRE].missing, rows[F_PYMP].missing, sizeof(rows[F_PYPRE].missing));
		return 1;
	}
	json_str(out, "impl", c->pyimpl, sizeof(c->pyimpl));
	if (pymp_mode(out, "script", n, lat, el, err, esize) < 0 ||
	    pymp_mode(out, "preloaded", n, lat2, el2, err, esize) < 0)
		return -1;
	return 0;
}

/* ---- the worker ------------------------------------------------------------------ */

static int batch(struct fctx *c, int i, int n, double *lat, int64_t *el, struct row *rows,
                 char *err, size_t esize)
{
	int64_t el2;
	int r;

	switch (i) {
	case F_EXEC:
		return batch_spawn(c, c->true_argv, n, lat, el, err, esize);
	case F_CLIENT:
		return batch_client(c, c->exec_sock[S_DEFAULT], n, lat, el, err, esize);
	case F_RUN:
		return batch_spawn(c, c->run_argv, n, lat, el, err, esize);
	case F_FN:
		return batch_client(c, c->fn_sock, n, lat, el, err, esize);
	case F_PYMP:   /* and F_PYPRE, which follows in the rounds */
		r = batch_pymp(c, n, lat, el, c->lat[F_PYPRE] + c->nlat[F_PYPRE], &el2, rows, err,
		               esize);
		c->el_pypre = el2;
		return r;
	case F_PYCOLD:
		return batch_spawn(c, c->cold_argv, n, lat, el, err, esize);
	case F_EXEC_K:
		return batch_spawn_k(c, n, lat, el, err, esize);
	case F_CLIENT_K:
		return batch_client_k(c, c->exec_sock[S_DEFAULT], n, lat, el, err, esize);
	case F_FN_K:
		return batch_client_k(c, c->fn_sock, n, lat, el, err, esize);
	case F_PAUSE_PLAIN:
		return batch_paused(c, c->exec_sock[S_PLAIN], n, lat, el, err, esize);
	case F_PAUSE:
		return batch_paused(c, c->exec_sock[S_DEFAULT], n, lat, el, err, esize);
	case F_PAUSE_NOSPARE:
		return batch_paused(c, c->exec_sock[S_NOSPARE], n, lat, el, err, esize);
	default:
		return -1;
	}
}

/* Finds the programs, starts the servers: ok[i] for the rows that can run. */
static void setup(struct fctx *c, struct row *rows, int *ok)
{
	static const char *const sock_names[NS] = { "serve.sock", "plain.sock", "nospare.sock" };
	char note_tool[64], note_run[64], err[160], path[4096], *tmp;
	int i, k;

	for (i = 0; i < NF; i++)
		ok[i] = 1;
	c->true_argv[0] = "/bin/true";
	c->true_argv[1] = NULL;
	if (!bench_executable("/bin/true"))
		for (i = 0; i < NF; i++)
			if (i != F_PYMP && i != F_PYPRE && i != F_PYCOLD && i != F_FN &&
			    i != F_FN_K) {
				row_why(&rows[i], "%s", "/bin/true is not executable here");
				ok[i] = 0;
			}
	/* the private directory of the sockets */
	tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(c->dir, sizeof(c->dir), "%s/procwait-bench-XXXXXX", tmp);
	if (!mkdtemp(c->dir)) {
		for (i = 0; i < NF; i++)
			if (fr_server(i) >= 0 || i == F_FN || i == F_FN_K) {
				row_why(&rows[i], "mkdtemp %s: %s", c->dir, strerror(errno));
				ok[i] = 0;
			}
		c->dir[0] = '\0';
	}
	for (k = 0; k < NS; k++)
		snprintf(c->exec_sock[k], sizeof(c->exec_sock[k]), "%s/%s", c->dir, sock_names[k]);
	snprintf(c->fn_sock, sizeof(c->fn_sock), "%s/fn.sock", c->dir);
	/* procwait serve (three ways) and its clients */
	if (find_program(c->o, "PROCWAIT_TOOL", "procwait", "serve", c->tool, sizeof(c->tool),
	                 note_tool, sizeof(note_tool)) < 0) {
		for (i = 0; i < NF; i++)
			if (fr_server(i) >= 0 && ok[i]) {
				row_why(&rows[i], "%s", "the procwait tool is not found (set PROCWAIT_TOOL)");
				ok[i] = 0;
			}
	} else {
		for (k = 0; k < NS; k++) {
			int want = 0;

			for (i = 0; i < NF; i++)
				want |= ok[i] && fr_server(i) == k;
			if (!want || (c->exec_srv[k] = start_exec_server(c, k, err, sizeof(err))) > 0)
				continue;
			c->exec_srv[k] = 0;
			for (i = 0; i < NF; i++)
				if (fr_server(i) == k && ok[i]) {
					row_why(&rows[i], "procwait serve: %s", err);
					ok[i] = 0;
				}
		}
	}
	if (find_program(c->o, "PROCWAIT_RUN", "procwait-run", "--help", c->run,
	                 sizeof(c->run), note_run, sizeof(note_run)) < 0) {
		if (ok[F_RUN])
			row_why(&rows[F_RUN], "%s", "procwait-run is not found (set PROCWAIT_RUN)");
		ok[F_RUN] = 0;
	}
	c->run_argv[0] = c->run;
	c->run_argv[1] = "--socket";
	c->run_argv[2] = c->exec_sock[S_DEFAULT];
	c->run_argv[3] = "--";
	c->run_argv[4] = "/bin/true";
	c->run_argv[5] = NULL;
	/* the bench's own server */
	if (ok[F_FN] && (c->fn_srv = start_fn_server(c, err, sizeof(err))) < 0) {
		c->fn_srv = 0;
		row_why(&rows[F_FN], "the bench's fork server: %s", err);
		row_why(&rows[F_FN_K], "the bench's fork server: %s", err);
		ok[F_FN] = ok[F_FN_K] = 0;
	}
	/* Python */
	snprintf(c->peer, sizeof(c->peer), "%s/forkserver_mp.py", c->o->peers_dir);
	if (!have_python(c->o)) {
		for (i = F_PYMP; i <= F_PYCOLD; i++) {
			row_why(&rows[i], "no usable python3 (%s); apt-get install python3", c->o->python);
			ok[i] = 0;
		}
	} else if (strchr(c->peer, '\'') || strchr(c->o->python, '\'')) {
		for (i = F_PYMP; i <= F_PYPRE; i++) {
			row_why(&rows[i], "a path holds a quote: not run");
			ok[i] = 0;
		}
	} else if (access(c->peer, R_OK) != 0) {
		for (i = F_PYMP; i <= F_PYPRE; i++) {
			row_why(&rows[i], "peer script %.100s not found (see PROCWAIT_BENCH_PEERS)",
			    c->peer);
			ok[i] = 0;
		}
	}
	/* python3 -c pass needs a path for posix_spawn */
	if (ok[F_PYCOLD]) {
		if (strchr(c->o->python, '/')) {
			snprintf(path, sizeof(path), "%s", c->o->python);
		} else {
			const char *p = getenv("PATH");

			path[0] = '\0';
			while (p && *p && !path[0]) {
				const char *end = strchr(p, ':');
				int n = end ? (int)(end - p) : (int)strlen(p);

				snprintf(path, sizeof(path), "%.*s/%s", n, p, c->o->python);
				if (!bench_executable(path))
					path[0] = '\0';
				p = end ? end + 1 : NULL;
			}
		}
		if (!path[0]) {
			row_why(&rows[F_PYCOLD], "%s not found in PATH", c->o->python);
			ok[F_PYCOLD] = 0;
		} else {
			c->cold_argv[0] = strdup(path);
			c->cold_argv[1] = "-c";
			c->cold_argv[2] = "pass";
			c->cold_argv[3] = NULL;
		}
	}
	/* what each row measures */
	snprintf(rows[F_EXEC].impl, sizeof(rows[F_EXEC].impl), "posix_spawn /bin/true, waitpid");
	snprintf(rows[F_CLIENT].impl, sizeof(rows[F_CLIENT].impl),
	         "procwait serve; connect, start, wait, close");
	snprintf(rows[F_RUN].impl, sizeof(rows[F_RUN].impl), "procwait-run per request%.39s",
	         note_run);
	snprintf(rows[F_FN].impl, sizeof(rows[F_FN].impl),
	         "bench's forkserver_serve, child _exit(0)");
	snprintf(rows[F_PYCOLD].impl, sizeof(rows[F_PYCOLD].impl), "posix_spawn %.40s -c pass",
	         c->o->python);
	snprintf(rows[F_EXEC_K].impl, sizeof(rows[F_EXEC_K].impl),
	         "posix_spawn /bin/true, waitpid(-1)");
	snprintf(rows[F_CLIENT_K].impl, sizeof(rows[F_CLIENT_K].impl),
	         "procwait serve, %d connections", INFLIGHT);
	snprintf(rows[F_FN_K].impl, sizeof(rows[F_FN_K].impl),
	         "bench's forkserver, %d connections", INFLIGHT);
	snprintf(rows[F_PAUSE_PLAIN].impl, sizeof(rows[F_PAUSE_PLAIN].impl),
	         "%d ms apart; serve --no-cgroups --no-spare", PAUSE_MS);
	snprintf(rows[F_PAUSE].impl, sizeof(rows[F_PAUSE].impl),
	         "%d ms apart; procwait serve (cgroup per run, spare)", PAUSE_MS);
	snprintf(rows[F_PAUSE_NOSPARE].impl, sizeof(rows[F_PAUSE_NOSPARE].impl),
	         "%d ms apart; serve --no-spare (cgroup per run)", PAUSE_MS);
}

static void w_forkserver(const struct options *o, struct row *rows, int nrows)
{
	static struct fctx c;
	char err[160];
	int ok[NF], i, j, k, py, nr = rounds(o);

	(void)nrows;
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c.devnull < 0 || posix_spawn_file_actions_init(&c.fa) != 0) {
		for (i = 0; i < NF; i++)
			row_why(&rows[i], "/dev/null: %s", strerror(errno));
		return;
	}
	posix_spawn_file_actions_adddup2(&c.fa, c.devnull, 0);
	posix_spawn_file_actions_adddup2(&c.fa, c.devnull, 1);
	setup(&c, rows, ok);
	for (i = 0; i < NF; i++) {
		c.lat[i] = calloc((size_t)(runs(o, i) * (nr + 1)), sizeof(double));
		if (!c.lat[i]) {
			row_why(&rows[i], "%s", "out of memory");
			ok[i] = 0;
		}
	}
	/* warm-up: a few runs of each (not counted; the peer warms up itself) */
	for (i = 0; i < NF; i++) {
		int64_t el;
		int n = i == F_PYCOLD ? 1 : INFLIGHT;

		if (!ok[i] || i == F_PYMP || i == F_PYPRE)
			continue;
		if (batch(&c, i, n, c.lat[i], &el, rows, err, sizeof(err)) != 0) {
			snprintf(rows[i].missing, sizeof(rows[i].missing), "%s", err);
			ok[i] = 0;
		}
	}
	for (k = 0; k < nr; k++)
		for (j = 0; j < NF; j++) {
			int64_t el = 0;
			int r, n;

			i = (j + k) % NF;
			if (!ok[i] || i == F_PYPRE)   /* F_PYPRE: with F_PYMP */
				continue;
			n = runs(o, i);
			r = batch(&c, i, n, c.lat[i] + c.nlat[i], &el, rows, err, sizeof(err));
			if (r != 0) {
				if (r < 0)
					snprintf(rows[i].missing, sizeof(rows[i].missing), "%s", err);
				if (i == F_PYMP)
					memcpy(rows[F_PYPRE].missing, rows[i].missing,
					       sizeof(rows[i].missing));
				ok[i] = 0;
				if (i == F_PYMP)
					ok[F_PYPRE] = 0;
				continue;
			}
			c.nlat[i] += n;
			c.rate[i][k] = el > 0 ? (double)n / ((double)el / 1e9) : 0;
			if (i == F_PYMP) {
				c.nlat[F_PYPRE] += n;
				c.rate[F_PYPRE][k] = c.el_pypre > 0 ?
				                     (double)n / ((double)c.el_pypre / 1e9) : 0;
			}
		}
	for (k = 0; k < NS; k++)
		bench_stop_server(&c.exec_srv[k]);
	bench_stop_server(&c.fn_srv);
	if (c.dir[0]) {
		for (k = 0; k < NS; k++)
			unlink(c.exec_sock[k]);
		unlink(c.fn_sock);
		rmdir(c.dir);
	}
	if (c.pyimpl[0]) {
		snprintf(rows[F_PYMP].impl, sizeof(rows[F_PYMP].impl), "%.48s: a script", c.pyimpl);
		snprintf(rows[F_PYPRE].impl, sizeof(rows[F_PYPRE].impl), "%.48s: preloaded",
		         c.pyimpl);
	}
	/* the Python rival: the preloaded children, CPython's best case */
	py = ok[F_PYPRE] ? F_PYPRE : F_PYMP;
	for (i = 0; i < NF; i++) {
		int ref = fr_ref(i);
		double v[MAX_ROUNDS];

		rows[i].n = fr_inflight(i);
		rows[i].ratio = rows[i].vs_rival = rows[i].speedup = -1;
		if (!ok[i])
			continue;
		rows[i].lat_p50 = percentile(c.lat[i], c.nlat[i], 50);
		rows[i].lat_p99 = percentile(c.lat[i], c.nlat[i], 99);
		memcpy(v, c.rate[i], (size_t)nr * sizeof(v[0]));
		rows[i].per_s = median(v, nr);
		if (ok[ref]) {
			for (k = 0; k < nr; k++)
				v[k] = c.rate[ref][k] / c.rate[i][k];
			rows[i].ratio = median(v, nr);
		}
		if (ok[py] && i < F_EXEC_K) {
			for (k = 0; k < nr; k++)
				v[k] = c.rate[i][k] / c.rate[py][k];
			rows[i].vs_rival = median(v, nr);
		}
		if (ok[F_PYMP] && i < F_EXEC_K) {
			for (k = 0; k < nr; k++)
				v[k] = c.rate[i][k] / c.rate[F_PYMP][k];
			rows[i].speedup = median(v, nr);
		}
	}
	for (i = 0; i < NF; i++)
		free(c.lat[i]);
	free(c.cold_argv[0]);
	posix_spawn_file_actions_destroy(&c.fa);
	close(c.devnull);
}

void section_forkserver(const struct options *o, struct rows *out, char *title, size_t size)
{
	struct row rows[NF];
	int i;

	memset(rows, 0, sizeof(rows));
	for (i = 0; i < NF; i++) {
		rows[i].kind = ROW_FORKSERVER;
		if (fr_inflight(i) > 1)
			snprintf(rows[i].name, sizeof(rows[i].name), "%s-x%d", fr_base[i], INFLIGHT);
		else
			snprintf(rows[i].name, sizeof(rows[i].name), "%s", fr_base[i]);
	}
	snprintf(title, size,
	         "forkserver: /bin/true per request (procwait-fork-fn: a child that _exit(0)s); "
	         "%d interleaved rounds of %d runs (python-mp %d, python3-c %d, paused %d); "
	         "ratio: time per run over fork-exec's (xK rows: fork-exec-x%d's; paused rows: "
	         "paused-plain's), paired by round",
	         rounds(o), runs(o, F_EXEC), runs(o, F_PYMP), runs(o, F_PYCOLD),
	         runs(o, F_PAUSE), INFLIGHT);
	run_rows_in_worker(getenv("PROCWAIT_BACKEND"), w_forkserver, o, rows, NF);
	for (i = 0; i < NF; i++) {
		struct row *r = rows_add(out, ROW_FORKSERVER, rows[i].name);

		*r = rows[i];
		r->met = -1;
		if (r->missing[0]) {
			r->ratio = r->vs_rival = r->speedup = -1;
			r->n = fr_inflight(i);
		}
		if (i == F_FN) {
			snprintf(r->target, sizeof(r->target), ">= %.0fx py-mp", FORKSERVER_MIN_VS_PYMP);
			r->met = r->vs_rival > 0 ? r->vs_rival >= FORKSERVER_MIN_VS_PYMP : -1;
		}
		if (i == F_PAUSE) {
			snprintf(r->target, sizeof(r->target), "<= %.2fx plain", FORKSERVER_PAUSED_MAX);
			r->met = r->ratio > 0 ? r->ratio <= FORKSERVER_PAUSED_MAX : -1;
		}
	}
}

void forkserver_summary(const struct rows *r)
{
	const struct row *fn = NULL, *py = NULL, *pre = NULL, *paused = NULL, *plain = NULL;
	int i;

	for (i = 0; i < r->n; i++) {
		if (!strcmp(r->v[i].name, fr_base[F_PAUSE]))
			paused = &r->v[i];
		if (!strcmp(r->v[i].name, fr_base[F_PAUSE_PLAIN]))
			plain = &r->v[i];
		if (!strcmp(r->v[i].name, fr_base[F_FN]))
			fn = &r->v[i];
		if (!strcmp(r->v[i].name, fr_base[F_PYMP]))
			py = &r->v[i];
		if (!strcmp(r->v[i].name, fr_base[F_PYPRE]))
			pre = &r->v[i];
	}
	if (paused && plain) {
		printf("target: a request %d ms after the last, with a cgroup per run, within "
		       "%.2fx of one without (procwait serve --no-cgroups --no-spare), same rounds: ",
		       PAUSE_MS, FORKSERVER_PAUSED_MAX);
		if (paused->ratio > 0)
			printf("%.2fx, p50 %.2f against %.2f ms (%s)\n", paused->ratio,
			       paused->lat_p50 / 1e3, plain->lat_p50 / 1e3,
			       paused->met ? "met" : "not met");
		else
			printf("not measured (%s)\n", paused->missing[0] ? paused->missing :
			       plain->missing);
	}
	if (!fn || !py || !pre)
		return;
	printf("target: procwait-fork-fn >= %.0fx the throughput of CPython's multiprocessing "
	       "forkserver, same rounds: ", FORKSERVER_MIN_VS_PYMP);
	if (fn->vs_rival > 0)
		printf("%.2fx %s (%s)", fn->vs_rival,
		       pre->missing[0] ? "python-mp-forkserver" : "python-mp-fs-preloaded",
		       fn->met ? "met" : "not met");
	else
		printf("not measured (%s)", fn->missing[0] ? fn->missing : py->missing);
	if (fn->speedup > 0 && !pre->missing[0])
		printf(", %.2fx python-mp-forkserver (a script)", fn->speedup);
	printf("\nCPython's published forkserver rate: %s processes/s", PYMP_PUBLISHED);
	if (!py->missing[0] && py->per_s > 0)
		printf("; here %.0f/s as a script", py->per_s);
	if (!pre->missing[0] && pre->per_s > 0)
		printf(", %.0f/s preloaded", pre->per_s);
	printf("\n");
}
