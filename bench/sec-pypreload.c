/* SPDX-License-Identifier: MIT */
/*
 * Section "pypreload": procwait-python, the drop-in python3 that runs the
 * command in a child forked from a preloading server (`python3 -m procwait
 * serve`), against the cold interpreter it replaces. Three groups of rows:
 *
 *  - a script that imports a heavy module set and prints one line: numpy
 *    and a few heavy stdlib modules when numpy imports, else a stdlib-only
 *    set (the rows' impl says which). python3-cold, the reference, is
 *    `python3 script.py` spawned per run; procwait-python is the launcher
 *    with PROCWAIT_PRELOAD set to that module set, its server warm (one
 *    untimed run first). Wall time per run, from posix_spawn to waitpid.
 *    The target: procwait-python at least 30x faster;
 *  - the launcher's own cost: `procwait-python -c pass` against the same
 *    request (argv python3 -c pass, the bench's stdio, environment and
 *    directory, no timeout) sent by the C client API in the measuring
 *    process (connect, start, wait, close) to the launcher's own server,
 *    whose socket is found in the private directory (should that server
 *    go stale, a launcher run starts the next one, counted in the row).
 *    Its overhead is the difference of the two medians (and the median of
 *    the per-round differences). The target: under 5 ms;
 *  - the memory of a child after a run: a script that runs gc.collect()
 *    and prints its Private_Dirty and Shared (clean + dirty) kB from
 *    /proc/self/smaps_rollup, through a server that gc.freeze()s its heap
 *    before serving (the default) and one started with --no-gc-freeze,
 *    same preload set (both started by the bench with --no-stale-check,
 *    their children reached with the C client): the pages a collection in
 *    a child copies. No target, the figures alone.
 *
 * The launcher is PROCWAIT_PYTHON_LAUNCHER, else tools/procwait-python
 * beside the bench's directory (the build tree), else procwait-python
 * beside the bench (installed); a libtool wrapper script is replaced by
 * its .libs binary when that runs here (the wrapper costs a shell per run,
 * which no installed launcher pays; the row says which ran). The launcher
 * runs with TMPDIR set to a private mktemp directory, XDG_RUNTIME_DIR
 * unset and PROCWAIT_IDLE=30, so that its server is the bench's own; the
 * bench ends every process started on that directory (SIGTERM, found by
 * /proc/PID/cmdline) and removes it before the section ends.
 *
 * Every row runs one batch per round, the rounds interleaved (the order
 * rotated each round). A row's ratio is the median over the rounds of its
 * median time per run over its group's reference's in the same round
 * (memory: Private_Dirty over the gc.freeze row's); the speed-up and the
 * per-round overhead are paired by round likewise, so that a burst of
 * noise spoils one round, not one row. p50 and p99 are pooled over the
 * rounds. The library runs in a worker process; a row that cannot run is
 * "missing", with the reason.
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
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <procwait/procwait.h>

#include "bench.h"

extern char **environ;

#define MAX_ROUNDS 16
#define MAX_RUNS 64              /* runs() of a row per round, at most */
#define NUMPY_SET "numpy,json,decimal,email.mime.multipart,http.client,asyncio,unittest"
#define STDLIB_SET "json,decimal,email.mime.multipart,http.client,asyncio,unittest," \
                   "xml.dom.minidom,logging.handlers,argparse,concurrent.futures," \
                   "urllib.request,tarfile"
#define LAUNCHER_IDLE "30"       /* PROCWAIT_IDLE of the launcher's server */
#define SERVER_START_S 120       /* a server's preload, at most */

enum pr { P_COLD, P_WARM, P_LPASS, P_CPASS, P_MEMF, P_MEMN, NP };

static const char *const pr_name[NP] = {
	"python3-cold", "procwait-python", "procwait-python-c-pass", "c-client-c-pass",
	"child-mem-gc-freeze", "child-mem-no-gc-freeze",
};

/* Each row's group (1 the script, 2 the launcher's cost, 3 memory) and
 * the reference of its group. */
static const int pr_group[NP] = { 1, 1, 2, 2, 3, 3 };
static const int pr_ref[NP] = { P_COLD, P_COLD, P_CPASS, P_CPASS, P_MEMF, P_MEMF };

static int rounds(const struct options *o)
{
	return o->quick ? 5 : 9;
}

/* Runs (memory: children) of each row per round (<= MAX_RUNS). */
static int runs(const struct options *o, int i)
{
	switch (i) {
	case P_COLD:
		return o->quick ? 3 : 8;
	case P_WARM:
		return o->quick ? 10 : 20;
	case P_LPASS:
	case P_CPASS:
		return o->quick ? 20 : 40;
	default:
		return o->quick ? 2 : 3;
	}
}

struct pctx {
	const struct options *o;
	char dir[256];                 /* private mktemp directory, "" if none */
	char python[4096];             /* o->python, with its path */
	struct bench_launcher ln;      /* procwait-python */
	const char *mods;              /* the preload set */
	char script[320], memscript[320];
	char sock_f[320], sock_n[320]; /* the bench's two servers */
	char lsock[4096];              /* the launcher's server, "" until found */
	pid_t srv[2];                  /* gc.freeze, --no-gc-freeze; 0: none */
	int devnull;
	char **env;                    /* the launcher's (and every run's) */
	char *own[5];                  /* env's strings of the bench's, then NULL */
	posix_spawn_file_actions_t fa; /* stdin and stdout from /dev/null */
	char *cold_argv[3], *warm_argv[3], *lpass_argv[4];
	double *lat[NP];               /* ms per run, pooled; memory: Private_Dirty */
	double *shared[NP];            /* memory rows: Shared kB */
	int nlat[NP];
	double rmed[NP][MAX_ROUNDS];   /* each round's median */
	int restarts;                  /* launcher's server found gone, restarted */
};

/* ---- the environment, the scripts --------------------------------------------- */

/* The launcher's settings in the caller's environment, replaced by the
 * bench's. */
static const char *const launcher_vars[] = {
	"TMPDIR=", "XDG_RUNTIME_DIR=", "PROCWAIT_IDLE=", "PROCWAIT_PRELOAD=",
	"PROCWAIT_PYTHON=", "PROCWAIT_DISABLE=", NULL,
};

static char *joined(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s", a, b);
	return s;
}

/* environ without the launcher's settings, then the bench's: its server
 * is the bench's own (TMPDIR the private directory), the interpreter
 * o->python's. */
static int make_env(struct pctx *c)
{
	size_t i;

	c->own[0] = joined("TMPDIR=", c->dir);
	c->own[1] = joined("PROCWAIT_IDLE=", LAUNCHER_IDLE);
	c->own[2] = joined("PROCWAIT_PRELOAD=", c->mods);
	c->own[3] = joined("PROCWAIT_PYTHON=", c->python);
	for (i = 0; i < 4; i++)
		if (!c->own[i])
			return -1;
	c->env = bench_env(launcher_vars, c->own);
	return c->env ? 0 : -1;
}

static void free_env(struct pctx *c)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		free(c->own[i]);
		c->own[i] = NULL;
	}
	free(c->env);
	c->env = NULL;
}

/* heavy.py: imports the set, one module a line, and prints one line;
 * mem.py: a collection, then the child's memory. */
static int write_scripts(struct pctx *c)
{
	static const char mem[] =
		"import gc\n"
		"gc.collect()\n"
		"v = {}\n"
		"with open('/proc/self/smaps_rollup') as f:\n"
		"    for line in f:\n"
		"        k, _, rest = line.partition(':')\n"
		"        if k in ('Private_Dirty', 'Shared_Clean', 'Shared_Dirty'):\n"
		"            v[k] = int(rest.split()[0])\n"
		"print(v['Private_Dirty'], v['Shared_Clean'] + v['Shared_Dirty'])\n";
	char text[1024];
	const char *m = c->mods;
	size_t len;

	snprintf(text, sizeof(text), "import sys\n");
	while (*m) {
		const char *e = strchr(m, ',');
		int n = e ? (int)(e - m) : (int)strlen(m);

		len = strlen(text);
		snprintf(text + len, sizeof(text) - len, "import %.*s\n", n, m);
		m += n + (e ? 1 : 0);
	}
	len = strlen(text);
	snprintf(text + len, sizeof(text) - len, "print('imported', len(sys.modules), 'modules')\n");
	snprintf(c->script, sizeof(c->script), "%s/heavy.py", c->dir);
	snprintf(c->memscript, sizeof(c->memscript), "%s/mem.py", c->dir);
	return bench_write_file(c->script, text) < 0 || bench_write_file(c->memscript, mem) < 0 ?
	       -1 : 0;
}

static int find_socket(struct pctx *c)
{
	return bench_server_file(c->dir, ".sock", c->lsock, sizeof(c->lsock));
}

/* ---- the servers --------------------------------------------------------------- */

/* `python3 -m procwait serve` on path, a child of ours, until it reports
 * serving (its pid) or failing. The server's pid, or -1 with err set. */
static pid_t start_server(struct pctx *c, const char *path, int freeze, char *err,
                          size_t esize)
{
	static char line[1 << 18];
	char *argv[] = { c->python, "-m", "procwait", "serve", "--preload", (char *)c->mods,
	                 "--socket", (char *)path, "--no-stale-check", "--idle", "600",
	                 "--report-fd", "3", freeze ? NULL : "--no-gc-freeze", NULL };
	char log[400], last[160];
	pid_t pid, parent = getpid();
	size_t got = 0;
	int p[2], st;

	snprintf(log, sizeof(log), "%s.log", path);
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, esize, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, esize, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int fd;

#ifdef PR_SET_PDEATHSIG
		prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		if (getppid() != parent)
			_exit(1);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(c->devnull, 0) < 0 || dup2(c->devnull, 1) < 0 ||
		    dup2(fd, 2) < 0 ||
		    (p[1] == 3 ? fcntl(3, F_SETFD, 0) : dup2(p[1], 3)) < 0)
			_exit(127);
		execve(c->python, argv, c->env);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		ssize_t k;
		int r = poll(&pf, 1, SERVER_START_S * 1000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		k = read(p[0], line + got, sizeof(line) - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (memchr(line, '\n', got) || got == sizeof(line) - 1)
			break;
	}
	close(p[0]);
	line[got] = '\0';
	if (strstr(line, "\"pid\": "))
		return pid;
	if (strstr(line, "\"error\": \"")) {
		char *s = strstr(line, "\"error\": \"") + 10, *e = strstr(s, "\\n");

		if (e)
			*e = '\0';
		snprintf(err, esize, "python3 -m procwait serve: %.100s", s);
	} else if (waitpid(pid, &st, WNOHANG) == pid) {
		bench_last_line(log, last, sizeof(last));
		snprintf(err, esize, "python3 -m procwait serve exited (status %d): %.100s",
		         bench_status_code(st), last[0] ? last : "no message");
		return -1;
	} else {
		snprintf(err, esize, "python3 -m procwait serve: no report after %d s",
		         SERVER_START_S);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -1;
}

/* ---- one batch of each kind ----------------------------------------------------- */

/* One request through the C client on path; fds as the request's. 0, a
 * negative errno of connect or start (err set), or -EPROTO for a failed
 * child. */
static int client_run(struct pctx *c, const char *path, char *const argv[], const int fds[3],
                      char *err, size_t esize)
{
	procwait_client_request req = PROCWAIT_CLIENT_REQUEST_INIT;
	procwait_client *cl;
	procwait_result res;
	int r;

	r = procwait_client_connect(path, &cl);
	if (r < 0) {
		snprintf(err, esize, "procwait_client_connect: %s", procwait_strerror(r));
		return r;
	}
	req.argv = argv;
	req.envp = c->env;
	req.fds[0] = fds[0];
	req.fds[1] = fds[1];
	req.fds[2] = fds[2];
	req.timeout_ms = 0;   /* none, as the launcher's */
	r = procwait_client_start(cl, &req);
	if (r < 0) {
		snprintf(err, esize, "procwait_client_start: %s%s%.60s", procwait_strerror(r),
		         *procwait_client_message(cl) ? ": " : "", procwait_client_message(cl));
		procwait_client_close(cl);
		return r;
	}
	r = procwait_client_wait(cl, -1, &res);
	procwait_client_close(cl);
	if (r < 0) {
		snprintf(err, esize, "procwait_client_wait: %s", procwait_strerror(r));
		return -EPROTO;
	}
	if (procwait_status_shell(&res.status) != 0) {
		snprintf(err, esize, "the request's child ended with status %d",
		         procwait_status_shell(&res.status));
		return -EPROTO;
	}
	return 0;
}

/* The launcher's server went away (a loaded file changed, say): one
 * untimed launcher run starts a fresh one, and its socket is found. */
static int restart_launcher_server(struct pctx *c, char *err, size_t esize)
{
	double lat;

	c->restarts++;
	if (bench_spawn_runs(c->warm_argv, c->env, &c->fa, 1, &lat, err, esize) < 0)
		return -1;
	if (find_socket(c) < 0) {
		snprintf(err, esize, "no server socket of procwait-python's in %.100s", c->dir);
		return -1;
	}
	return 0;
}

/* n requests of python3 -c pass, the bench's stdio, to the launcher's server. */
static int batch_client(struct pctx *c, int n, double *lat, char *err, size_t esize)
{
	static char *argv[] = { "python3", "-c", "pass", NULL };
	static const int fds[3] = { -1, -1, -1 };
	int64_t t0;
	int i, r, tries;

	for (i = 0; i < n; i++) {
		for (tries = 0;; tries++) {
			t0 = now_ns();
			r = c->lsock[0] ? client_run(c, c->lsock, argv, fds, err, esize) : -ENOENT;
			if (r == 0)
				break;
			if (tries > 0 || (r != -ENOENT && r != -ECONNREFUSED && r != -ESTALE &&
			                  r != -ESHUTDOWN && r != -ECONNRESET))
				return -1;
			if (restart_launcher_server(c, err, esize) < 0)
				return -1;
		}
		lat[i] = (double)(now_ns() - t0) / 1e6;
	}
	return 0;
}

/* n children of the memory script on the bench's server k (0: gc.freeze,
 * 1: --no-gc-freeze): Private_Dirty into pd, Shared into sh (kB). */
static int batch_mem(struct pctx *c, int k, int n, double *pd, double *sh, char *err,
                     size_t esize)
{
	char *argv[] = { "python3", c->memscript, NULL };
	char out[256];
	int i, p[2], fds[3];

	for (i = 0; i < n; i++) {
		size_t got = 0;
		ssize_t r;
		int rc;

		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
			snprintf(err, esize, "pipe: %s", strerror(errno));
			return -1;
		}
		fds[0] = c->devnull;
		fds[1] = p[1];
		fds[2] = -1;
		rc = client_run(c, k ? c->sock_n : c->sock_f, argv, fds, err, esize);
		close(p[1]);
		/* the child has ended: its line is in the pipe */
		while (rc == 0 && got < sizeof(out) - 1) {
			r = read(p[0], out + got, sizeof(out) - 1 - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(p[0]);
		if (rc < 0)
			return -1;
		out[got] = '\0';
		if (sscanf(out, "%lf %lf", &pd[i], &sh[i]) != 2) {
			snprintf(err, esize, "the memory script printed '%.60s'", out);
			return -1;
		}
	}
	return 0;
}

static int batch(struct pctx *c, int i, int n, double *lat, double *sh, char *err,
                 size_t esize)
{
	switch (i) {
	case P_COLD:
		return bench_spawn_runs(c->cold_argv, c->env, &c->fa, n, lat, err, esize);
	case P_WARM:
		return bench_spawn_runs(c->warm_argv, c->env, &c->fa, n, lat, err, esize);
	case P_LPASS:
		return bench_spawn_runs(c->lpass_argv, c->env, NULL, n, lat, err, esize);
	case P_CPASS:
		return batch_client(c, n, lat, err, esize);
	case P_MEMF:
		return batch_mem(c, 0, n, lat, sh, err, esize);
	case P_MEMN:
		return batch_mem(c, 1, n, lat, sh, err, esize);
	default:
		return -1;
	}
}

/* ---- the worker ------------------------------------------------------------------ */

/* The interpreter, the module set, the directory, the scripts, the
 * launcher and the servers: ok[i] for the rows that can run. */
static void setup(struct pctx *c, struct row *rows, int *ok)
{
	char err[160], version[64], *tmp;
	char *probe[] = { c->python, "-c", "import numpy; print(numpy.__version__)", NULL };
	int i;

	for (i = 0; i < NP; i++)
		ok[i] = 1;
	if (bench_which(c->o->python, c->python, sizeof(c->python)) < 0) {
		snprintf(err, sizeof(err), "no usable python3 (%.60s); apt-get install python3",
		         c->o->python);
		rows_why(rows, ok, 0, NP - 1, err);
		return;
	}
	/* numpy when it imports, else the stdlib alone */
	c->mods = STDLIB_SET;
	if (bench_capture(c->devnull, probe, environ, 1, version, sizeof(version)) == 0 &&
	    version[0]) {
		version[strcspn(version, "\n")] = '\0';
		c->mods = NUMPY_SET;
		snprintf(rows[P_COLD].impl, sizeof(rows[P_COLD].impl),
		         "python3 script.py: numpy %.12s + 6 stdlib", version);
	} else {
		snprintf(rows[P_COLD].impl, sizeof(rows[P_COLD].impl),
		         "python3 script.py: 12 stdlib modules, no numpy");
	}
	/* the private directory: the launcher's TMPDIR and the sockets */
	tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 50)
		tmp = "/tmp";
	snprintf(c->dir, sizeof(c->dir), "%s/procwait-bench-XXXXXX", tmp);
	if (!mkdtemp(c->dir)) {
		snprintf(err, sizeof(err), "mkdtemp %.60s: %s", c->dir, strerror(errno));
		c->dir[0] = '\0';
		rows_why(rows, ok, 0, NP - 1, err);
		return;
	}
	if (make_env(c) < 0 || write_scripts(c) < 0) {
		snprintf(err, sizeof(err), "cannot write the scripts in %.60s: %s", c->dir,
		         strerror(errno));
		rows_why(rows, ok, 0, NP - 1, err);
		return;
	}
	snprintf(c->sock_f, sizeof(c->sock_f), "%s/freeze.sock", c->dir);
	snprintf(c->sock_n, sizeof(c->sock_n), "%s/nofreeze.sock", c->dir);
	c->cold_argv[0] = c->python;
	c->cold_argv[1] = c->script;
	c->cold_argv[2] = NULL;
	/* the launcher */
	if (bench_find_launcher(c->o, c->python, c->devnull, &c->ln, err, sizeof(err)) < 0) {
		rows_why(rows, ok, P_WARM, P_CPASS, err);
	} else {
		c->warm_argv[0] = c->ln.path;
		c->warm_argv[1] = c->script;
		c->warm_argv[2] = NULL;
		c->lpass_argv[0] = c->ln.path;
		c->lpass_argv[1] = "-c";
		c->lpass_argv[2] = "pass";
		c->lpass_argv[3] = NULL;
	}
	/* the bench's two servers, for the memory rows */
	if (access("/proc/self/smaps_rollup", R_OK) != 0) {
		rows_why(rows, ok, P_MEMF, P_MEMN, "no /proc/self/smaps_rollup here (Linux < 4.14)");
	} else {
		for (i = 0; i < 2; i++) {
			c->srv[i] = start_server(c, i ? c->sock_n : c->sock_f, !i, err, sizeof(err));
			if (c->srv[i] < 0) {
				c->srv[i] = 0;
				rows_why(rows, ok, P_MEMF, P_MEMN, err);
				break;
			}
		}
	}
	snprintf(rows[P_WARM].impl, sizeof(rows[P_WARM].impl),
	         "procwait-python script.py%.32s", c->ln.note);
	snprintf(rows[P_LPASS].impl, sizeof(rows[P_LPASS].impl),
	         "procwait-python -c pass%.32s", c->ln.note);
	snprintf(rows[P_CPASS].impl, sizeof(rows[P_CPASS].impl),
	         "the same request, C client: connect, start, wait");
	snprintf(rows[P_MEMF].impl, sizeof(rows[P_MEMF].impl),
	         "gc.collect() in a child, server gc.freeze()s");
	snprintf(rows[P_MEMN].impl, sizeof(rows[P_MEMN].impl),
	         "the same, server --no-gc-freeze");
}

/* The first, untimed runs: the cold script once (it imports), the
 * launcher's server started and warm, its socket found. */
static void warm_up(struct pctx *c, struct row *rows, int *ok)
{
	char err[160];
	double lat, sh;
	int i;

	for (i = 0; i < NP; i++) {
		if (!ok[i] || i == P_CPASS || i == P_LPASS)
			continue;
		if (batch(c, i, 1, &lat, &sh, err, sizeof(err)) < 0) {
			char log[4096], last[160];

			if (i == P_WARM && bench_server_file(c->dir, ".log", log, sizeof(log)) == 0) {
				bench_last_line(log, last, sizeof(last));
				if (last[0])
					snprintf(err, sizeof(err), "procwait-python failed; its server: %.110s",
					         last);
			}
			row_why(&rows[i], "%s", err);
			ok[i] = 0;
			if (i == P_WARM)
				rows_why(rows, ok, P_LPASS, P_CPASS, err);
		}
		if (i == P_WARM && ok[P_CPASS] && find_socket(c) < 0) {
			row_why(&rows[P_CPASS], "no server socket of procwait-python's in %.100s", c->dir);
			ok[P_CPASS] = 0;
		}
	}
}

static void teardown(struct pctx *c)
{
	int i;

	bench_stop_server(&c->srv[0]);
	bench_stop_server(&c->srv[1]);
	bench_kill_dir_processes(c->dir);
	if (c->dir[0])
		bench_remove_dir(c->dir, 2);
	for (i = 0; i < NP; i++) {
		free(c->lat[i]);
		free(c->shared[i]);
	}
	free_env(c);
	posix_spawn_file_actions_destroy(&c->fa);
	close(c->devnull);
}

/* The rows' figures from the rounds. */
static void figures(struct pctx *c, struct row *rows, const int *ok, int nr)
{
	double v[MAX_ROUNDS];
	int i, k;

	for (i = 0; i < NP; i++) {
		int ref = pr_ref[i];

		rows[i].ratio = rows[i].speedup = rows[i].overhead_ms = -1;
		rows[i].overhead_rounds_ms = -1;
		if (!ok[i])
			continue;
		if (pr_group[i] == 3) {
			rows[i].private_dirty_kb = median(c->lat[i], c->nlat[i]);
			rows[i].shared_kb = median(c->shared[i], c->nlat[i]);
			continue;
		}
		rows[i].ms_p50 = percentile(c->lat[i], c->nlat[i], 50);
		rows[i].ms_p99 = percentile(c->lat[i], c->nlat[i], 99);
		if (!ok[ref])
			continue;
		for (k = 0; k < nr; k++)
			v[k] = c->rmed[i][k] / c->rmed[ref][k];
		rows[i].ratio = median(v, nr);
		if (i == P_WARM) {
			for (k = 0; k < nr; k++)
				v[k] = c->rmed[ref][k] / c->rmed[i][k];
			rows[i].speedup = median(v, nr);
		}
	}
	/* the launcher's overhead, over the C client's same request */
	if (ok[P_LPASS] && ok[P_CPASS]) {
		rows[P_LPASS].overhead_ms = rows[P_LPASS].ms_p50 - rows[P_CPASS].ms_p50;
		for (k = 0; k < nr; k++)
			v[k] = c->rmed[P_LPASS][k] - c->rmed[P_CPASS][k];
		rows[P_LPASS].overhead_rounds_ms = median(v, nr);
	}
	/* memory: the gc.freeze row is the reference */
	if (ok[P_MEMF] && ok[P_MEMN] && rows[P_MEMF].private_dirty_kb > 0) {
		rows[P_MEMF].ratio = 1;
		rows[P_MEMF].pd_over_ref_kb = 0;
		rows[P_MEMN].ratio = rows[P_MEMN].private_dirty_kb / rows[P_MEMF].private_dirty_kb;
		rows[P_MEMN].pd_over_ref_kb = rows[P_MEMN].private_dirty_kb -
		                              rows[P_MEMF].private_dirty_kb;
	}
}

static void w_pypreload(const struct options *o, struct row *rows, int nrows)
{
	static struct pctx c;
	char err[160];
	int ok[NP], i, j, k, nr = rounds(o);

	(void)nrows;
	bench_cloexec_all();
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c.devnull < 0 || posix_spawn_file_actions_init(&c.fa) != 0) {
		for (i = 0; i < NP; i++)
			row_why(&rows[i], "/dev/null: %s", strerror(errno));
		if (c.devnull >= 0)
			close(c.devnull);
		return;
	}
	posix_spawn_file_actions_adddup2(&c.fa, c.devnull, 0);
	posix_spawn_file_actions_adddup2(&c.fa, c.devnull, 1);
	setup(&c, rows, ok);
	for (i = 0; i < NP; i++) {
		c.lat[i] = calloc((size_t)(runs(o, i) * nr), sizeof(double));
		c.shared[i] = calloc((size_t)(runs(o, i) * nr), sizeof(double));
		if (!c.lat[i] || !c.shared[i]) {
			row_why(&rows[i], "%s", "out of memory");
			ok[i] = 0;
		}
	}
	warm_up(&c, rows, ok);
	for (k = 0; k < nr; k++)
		for (j = 0; j < NP; j++) {
			double *lat, tmp[MAX_RUNS];
			int n;

			i = (j + k) % NP;
			if (!ok[i])
				continue;
			n = runs(o, i);
			lat = c.lat[i] + c.nlat[i];
			if (batch(&c, i, n, lat, c.shared[i] + c.nlat[i], err, sizeof(err)) < 0) {
				row_why(&rows[i], "%s", err);
				ok[i] = 0;
				continue;
			}
			memcpy(tmp, lat, (size_t)n * sizeof(tmp[0]));
			c.rmed[i][k] = median(tmp, n);
			c.nlat[i] += n;
		}
	figures(&c, rows, ok, nr);
	teardown(&c);
	if (c.restarts)
		snprintf(rows[P_CPASS].impl + strlen(rows[P_CPASS].impl),
		         sizeof(rows[P_CPASS].impl) - strlen(rows[P_CPASS].impl),
		         " (server restarted %dx)", c.restarts);
}

void section_pypreload(const struct options *o, struct rows *out, char *title, size_t size)
{
	struct row rows[NP];
	int i;

	memset(rows, 0, sizeof(rows));
	for (i = 0; i < NP; i++) {
		rows[i].kind = ROW_PYPRELOAD;
		rows[i].n = pr_group[i];
		snprintf(rows[i].name, sizeof(rows[i].name), "%s", pr_name[i]);
	}
	snprintf(title, size,
	         "pypreload: procwait-python, python3 on a preloading fork server; %d "
	         "interleaved rounds of %d cold and %d warm runs of a heavy-import script, %d "
	         "runs of -c pass, %d children measuring their memory; ratio: time (memory: "
	         "Private_Dirty) over the group's reference, paired by round",
	         rounds(o), runs(o, P_COLD), runs(o, P_WARM), runs(o, P_LPASS), runs(o, P_MEMF));
	run_rows_in_worker(getenv("PROCWAIT_BACKEND"), w_pypreload, o, rows, NP);
	for (i = 0; i < NP; i++) {
		struct row *r = rows_add(out, ROW_PYPRELOAD, rows[i].name);

		*r = rows[i];
		r->met = -1;
		r->n = pr_group[i];
		if (r->missing[0])
			r->ratio = r->speedup = r->overhead_ms = r->overhead_rounds_ms = -1;
		if (i == P_WARM) {
			snprintf(r->target, sizeof(r->target), ">= %.0fx faster", PYPRELOAD_MIN_SPEEDUP);
			r->met = r->speedup > 0 ? r->speedup >= PYPRELOAD_MIN_SPEEDUP : -1;
		}
		if (i == P_LPASS) {
			snprintf(r->target, sizeof(r->target), "< %.0f ms over",
			         PYPRELOAD_MAX_OVERHEAD_MS);
			r->met = r->missing[0] || rows[P_CPASS].missing[0] ? -1 :
			         r->overhead_ms < PYPRELOAD_MAX_OVERHEAD_MS;
		}
	}
}

static const struct row *find_row(const struct rows *r, int i)
{
	int k;

	for (k = 0; k < r->n; k++)
		if (r->v[k].kind == ROW_PYPRELOAD && !strcmp(r->v[k].name, pr_name[i]))
			return &r->v[k];
	return NULL;
}

void pypreload_summary(const struct rows *r)
{
	const struct row *cold = find_row(r, P_COLD), *warm = find_row(r, P_WARM);
	const struct row *lp = find_row(r, P_LPASS), *cp = find_row(r, P_CPASS);
	const struct row *mf = find_row(r, P_MEMF), *mn = find_row(r, P_MEMN);

	if (!cold || !warm || !lp || !cp || !mf || !mn)
		return;
	printf("target: procwait-python >= %.0fx faster than python3-cold on the heavy-import "
	       "script, same rounds: ", PYPRELOAD_MIN_SPEEDUP);
	if (warm->speedup > 0)
		printf("%.1fx, %.2f against %.2f ms (%s)\n", warm->speedup, warm->ms_p50,
		       cold->ms_p50, warm->met ? "met" : "NOT met");
	else
		printf("not measured (%s)\n", warm->missing[0] ? warm->missing : cold->missing);
	printf("target: procwait-python's own overhead on -c pass < %.0f ms median: ",
	       PYPRELOAD_MAX_OVERHEAD_MS);
	if (lp->met >= 0)
		printf("%+.2f ms between the medians, %+.2f ms median of rounds (%s)\n",
		       lp->overhead_ms, lp->overhead_rounds_ms, lp->met ? "met" : "NOT met");
	else
		printf("not measured (%s)\n", lp->missing[0] ? lp->missing : cp->missing);
	if (mf->missing[0] || mn->missing[0])
		printf("gc.freeze: not measured (%s)\n", mf->missing[0] ? mf->missing : mn->missing);
	else
		printf("gc.freeze: a child's Private_Dirty after gc.collect() %.0f kB with, %.0f kB "
		       "without (%+.0f kB, %.2fx); Shared %.0f kB with, %.0f kB without\n",
		       mf->private_dirty_kb, mn->private_dirty_kb, mn->pd_over_ref_kb, mn->ratio,
		       mf->shared_kb, mn->shared_kb);
}
