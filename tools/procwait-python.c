/* SPDX-License-Identifier: MIT */
/*
 * procwait-python: a drop-in for python3 that runs the command in a child
 * forked from a preloading fork server (python3 -m procwait serve).
 *
 * The preload set comes from PROCWAIT_PRELOAD ("mod1,mod2"); `-m pytest`
 * runs get the pytest tier on top (python-args.c). One server serves each
 * interpreter + preload set + start-up environment + what the preload
 * depended on (python-key.c; and user: the socket lives in the user's
 * private directory); the first launcher starts it, under a lock, and it
 * exits after PROCWAIT_IDLE seconds without work. Command lines a running
 * interpreter cannot honour (-X, -I, -E, -O, -W, the REPL, ...) exec the
 * real interpreter instead.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "cli.h"
#include "pylaunch.h"

#ifndef PROCWAIT_PYTHON3
#define PROCWAIT_PYTHON3 "/usr/bin/python3"
#endif
#ifndef PROCWAIT_PYDIR
#define PROCWAIT_PYDIR ""
#endif
#ifndef PROCWAIT_SRC_PYDIR
#define PROCWAIT_SRC_PYDIR ""
#endif

#define DEFAULT_IDLE "900"   /* seconds */
/* The run was lost with its server (killed mid-run): procwait-run's status
 * for the same case, and env(1)'s for its own failure, which a script's
 * sys.exit(1) or uncaught exception cannot be mistaken for. */
#define EXIT_SERVER_LOST 125
#define START_TRIES 3

const char *cli_progname = "procwait-python";

/* The server's bootstrap: the package directory comes first on its path
 * only while procwait is imported. */
static const char boot[] =
	"import sys; p = sys.argv.pop(1); sys.path.insert(0, p); "
	"import procwait.__main__ as m; sys.path.remove(p); "
	"sys.exit(m.main(sys.argv[1:]))";

extern char **environ;

static sigset_t orig_mask;   /* the caller's, for an exec'd interpreter */

static void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A python3 that is a script (a pyenv shim, a wrapper of the user's) is
 * exec'd with PROCWAIT_EXEC_PID set to this process: should it lead back
 * to procwait-python (a wrapper named python3 that runs it), the launcher
 * started in this same process says so (loop_guard()) rather than run
 * itself again and again. */
static void mark_exec(const char *python)
{
	char pid[32];

	if (!pyl_is_script(python))
		return;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("PROCWAIT_EXEC_PID", pid, 1);
}

/* 0, or 127 when this process exec'd a python3 that ran us again. */
static int loop_guard(void)
{
	const char *mark = getenv("PROCWAIT_EXEC_PID");
	char *end;
	long pid;

	if (!mark)
		return 0;
	pid = strtol(mark, &end, 10);
	if (*mark && !*end && pid == (long)getpid()) {
		warnf("the interpreter it ran is a script that runs procwait-python again "
		      "(a wrapper named python3 on PATH?): set PROCWAIT_PYTHON to a real python3");
		return 127;
	}
	unsetenv("PROCWAIT_EXEC_PID");   /* an ancestor's: not ours to pass on */
	return 0;
}

static void exec_python(const char *python, char **argv)
{
	char *orig = argv[0];

	argv[0] = (char *)python;
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	mark_exec(python);
	execv(python, argv);
	argv[0] = orig;
	fprintf(stderr, "%s: cannot run %s: %s\n", cli_progname, python, strerror(errno));
	exit(127);
}

static const char *package_dir(void)
{
	static const char *const cands[] = { PROCWAIT_PYDIR, PROCWAIT_SRC_PYDIR };
	static char buf[PATH_MAX];
	const char *env = getenv("PROCWAIT_PYTHON_PACKAGE");
	size_t i;

	if (env && *env)
		return env;
	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (!*cands[i])
			continue;
		snprintf(buf, sizeof(buf), "%s/procwait/__main__.py", cands[i]);
		if (access(buf, R_OK) == 0)
			return cands[i];
	}
	return NULL;
}

/* The shared libprocwait this launcher runs on, for the server's ctypes:
 * both sides then speak the same protocol. NULL in a static build. */
static const char *library_path(void)
{
	const char *env = getenv("PROCWAIT_LIBRARY");
	Dl_info info;

	if (env && *env)
		return env;
	if (dladdr((void *)procwait_client_connect, &info) && info.dli_fname &&
	    strstr(info.dli_fname, ".so"))
		return info.dli_fname;
	return NULL;
}

/* ---- starting the server ------------------------------------------------------------ */

/* A JSON string's value after "key": in a one-line object, unescaped
 * (\n, \t, \", \\, \/ and \u00XX; other \u escapes become '?'). */
static char *json_str(const char *line, const char *key)
{
	char pat[64], *out, *o;
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(line, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	out = o = malloc(strlen(p) + 1);
	if (!out)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p != '\\' || !p[1]) {
			*o++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned v = 0;
			int k;
			for (k = 1; k <= 4 && p[k]; k++) {
				char ch = p[k];
				v = v * 16 + (unsigned)(ch >= 'a' ? ch - 'a' + 10 :
				                        ch >= 'A' ? ch - 'A' + 10 : ch - '0');
			}
			*o++ = v < 0x80 ? (char)v : '?';
			p += k - 1;
			break;
		}
		default: *o++ = *p; break;
		}
	}
	*o = '\0';
	return out;
}

static void close_from(int lowfd)
{
	long fd, max = sysconf(_SC_OPEN_MAX);

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0u) == 0)
		return;
#endif
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		close((int)fd);
}

/* Append a line of the launcher's own to the server's log. */
static void log_line(const char *logpath, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void log_line(const char *logpath, const char *fmt, ...)
{
	int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	va_list ap;

	if (fd < 0)
		return;
	dprintf(fd, "%s[%ld]: ", cli_progname, (long)getpid());
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	dprintf(fd, "\n");
	close(fd);
}

/* What identifies a server before its deps file is read. */
struct target {
	const char *python, *pydir, *lib, *preload;
	int flags;            /* PYL_PYTEST, PYL_CWD */
	char dir[PATH_MAX];   /* the user's socket directory */
	uint64_t base;        /* pyl_server_base() */
};

/* The file beside the socket @path ("X.sock") with the suffix @ext
 * ("X.lock", "X.log"): 0, or -ENAMETOOLONG. */
static int side_path(const char *path, const char *ext, char *out, size_t size)
{
	size_t n = strlen(path);

	if (n < 5 || n - 5 + strlen(ext) + 1 > size)
		return -ENAMETOOLONG;
	snprintf(out, size, "%.*s%s", (int)(n - 5), path, ext);
	return 0;
}

/* The socket of @t's server, named as its deps file says now. */
static int server_path(const struct target *t, char *path, size_t size)
{
	char deps[PATH_MAX], name[64];
	int rc;

	if (snprintf(deps, sizeof(deps), "%s/python-%016llx.deps", t->dir,
	             (unsigned long long)t->base) >= (int)sizeof(deps))
		return -ENAMETOOLONG;
	rc = pyl_server_name(t->base, deps, name, sizeof(name));
	if (rc < 0)
		return rc;
	if (snprintf(path, size, "%s/%s.sock", t->dir, name) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* Start a server for @t on @path, detached (its own session, no descriptor
 * of ours but a pipe for its report, output into @logpath), and wait for
 * its report. 0 once it serves, with the socket it chose (from its deps:
 * @path or another name) in @sock; -EIO with *err set (malloc'd) when it
 * failed and said why (a preload import error, say); -ESRCH when it ended
 * without a report (killed while it preloaded: the caller may try a fresh
 * one); -errno when it could not run. */
static int start_server(const struct target *t, const char *path, const char *logpath,
                        char *sock, size_t socksize, char **err)
{
	const char *idle = getenv("PROCWAIT_IDLE");
	char line[1 << 16], base[17], *reported;
	size_t got = 0;
	int p[2], st;
	pid_t pid;

	*err = NULL;
	if (!idle || !*idle)
		idle = DEFAULT_IDLE;
	snprintf(base, sizeof(base), "%016llx", (unsigned long long)t->base);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		/* Appended to (a stale server may still be logging its exit),
		 * restarted past a megabyte. */
		int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
		               0600);
		struct stat lst;
		/* No queue: a run that cannot start at once is better run by
		 * the real interpreter (EAGAIN) than left waiting. */
		const char *args[] = { t->python, "-c", boot, t->pydir, "serve",
		                       "--preload", t->preload, "--socket", path,
		                       "--launched", base, "--idle", idle, "--report-fd", "3",
		                       "--max-children", "256", "--max-queue", "0",
		                       t->flags & PYL_PYTEST ? "--pytest" : NULL, NULL };

		if (log >= 0 && fstat(log, &lst) == 0 && lst.st_size > (1 << 20))
			(void)!ftruncate(log, 0);
		setsid();
		if (fork() != 0)
			_exit(0);   /* the server is nobody's child of ours */
		if (null < 0 || dup2(null, 0) < 0 || dup2(log < 0 ? null : log, 1) < 0 ||
		    dup2(log < 0 ? null : log, 2) < 0 ||
		    (p[1] == 3 ? fcntl(3, F_SETFD, 0) : dup2(p[1], 3)) < 0)
			_exit(127);
		close_from(4);   /* the server lives on: it keeps nothing of the caller's */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (t->lib)
			setenv("PROCWAIT_LIBRARY", t->lib, 1);
		mark_exec(t->python);
		execv(t->python, (char *const *)args);
		_exit(127);
	}
	close(p[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	for (;;) {
		ssize_t r = read(p[0], line + got, sizeof(line) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(line, '\n', got) || got == sizeof(line) - 1)
			break;
	}
	close(p[0]);
	line[got] = '\0';
	reported = strstr(line, "\"pid\": ") ? json_str(line, "socket") : NULL;
	if (reported) {
		int fits = strlen(reported) < socksize;

		if (fits)
			strcpy(sock, reported);
		free(reported);
		return fits ? 0 : -ENAMETOOLONG;
	}
	*err = json_str(line, "error");
	if (*err)
		return -EIO;
	/* No report, no error: a signal it could not catch (SIGKILL, the
	 * OOM killer) or a crash ended it. What it could catch, it logged. */
	log_line(logpath, "the server for PROCWAIT_PRELOAD='%s' ended before it reported "
	         "(killed by a signal it could not catch, such as SIGKILL or the OOM "
	         "killer, or crashed)", t->preload);
	return -ESRCH;
}

/* Lock @lockpath exclusively: the descriptor, or -errno. A server removes
 * its lock file when it exits; a lock taken on a file no longer at the
 * path is taken again. */
static int lock_file(const char *lockpath)
{
	for (;;) {
		struct stat a, b;
		int lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (lk < 0)
			return -errno;
		while (flock(lk, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int e = errno;
				close(lk);
				return -e;
			}
		}
		if (fstat(lk, &a) == 0 && stat(lockpath, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return lk;
		close(lk);   /* removed (or replaced) while we waited */
	}
}

/* Connect to @t's server, starting it when none answers; @path is its
 * socket then. */
static int connect_server(const struct target *t, char *path, size_t size,
                          procwait_client **c, char **err)
{
	char lockpath[PATH_MAX], logpath[PATH_MAX], again[PATH_MAX];
	int rc, lk, round;

	*err = NULL;
	for (round = 0; ; round++) {
		rc = server_path(t, path, size);
		if (rc < 0)
			return rc;
		rc = procwait_client_connect(path, c);
		if (rc != -ENOENT && rc != -ECONNREFUSED)
			return rc;
		if (side_path(path, ".lock", lockpath, sizeof(lockpath)) < 0 ||
		    side_path(path, ".log", logpath, sizeof(logpath)) < 0)
			return -ENAMETOOLONG;
		lk = lock_file(lockpath);
		if (lk < 0)
			return lk;
		/* A server started meanwhile may have learnt its deps: the name
		 * may be another now. */
		rc = server_path(t, again, sizeof(again));
		if (rc == 0 && strcmp(again, path) != 0 && round < 3) {
			close(lk);
			continue;
		}
		if (rc == 0)
			rc = procwait_client_connect(path, c);
		if (rc == -ENOENT || rc == -ECONNREFUSED) {
			rc = start_server(t, path, logpath, again, sizeof(again), err);
			if (rc == 0 && strlen(again) < size) {
				strcpy(path, again);
				rc = procwait_client_connect(path, c);
			}
		}
		close(lk);   /* releases the lock */
		return rc;
	}
}

/* ---- the caller's signal state ----------------------------------------------------
 * python3 exec'd by the caller would inherit the signals it ignores (nohup,
 * a shell's background job) and its signal mask. The forked child cannot:
 * the request's environment carries them, as masks in hex of signals 1 to
 * 64 (bit N-1 for signal N), and the child applies and removes them. */

static int add_mask_var(char **envp, size_t *n, const char *name, uint64_t mask)
{
	char *e;

	if (!mask)
		return 0;
	e = malloc(strlen(name) + 2 + 16 + 1);
	if (!e)
		return -ENOMEM;
	sprintf(e, "%s=%016llx", name, (unsigned long long)mask);
	envp[(*n)++] = e;
	return 0;
}

/* environ plus PROCWAIT_SIGIGN / PROCWAIT_SIGBLK when there is something to
 * pass; NULL means environ as it is. */
static char **request_env(const sigset_t *blocked)
{
	uint64_t ign = 0, blk = 0;
	size_t n = 0, i;
	char **envp;
	int s;

	for (s = 1; s <= 64 && s < NSIG; s++) {
		struct sigaction sa;

		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			ign |= 1ULL << (s - 1);
		if (sigismember(blocked, s) == 1)
			blk |= 1ULL << (s - 1);
	}
	if (!ign && !blk)
		return NULL;
	while (environ[n])
		n++;
	envp = calloc(n + 3, sizeof(*envp));
	if (!envp)
		return NULL;
	for (i = n = 0; environ[i]; i++)
		if (strncmp(environ[i], "PROCWAIT_SIGIGN=", 16) != 0 &&
		    strncmp(environ[i], "PROCWAIT_SIGBLK=", 16) != 0)
			envp[n++] = environ[i];
	if (add_mask_var(envp, &n, "PROCWAIT_SIGIGN", ign) < 0 ||
	    add_mask_var(envp, &n, "PROCWAIT_SIGBLK", blk) < 0)
		return NULL;
	return envp;   /* lives as long as the process */
}

/* ---- the run --------------------------------------------------------------------- */

/* End as the child did: its exit code, or death by its signal. */
static int die_like(const procwait_result *r)
{
	if (r->status.kind == PROCWAIT_STATUS_EXITED)
		return r->status.code;
	if (r->status.kind == PROCWAIT_STATUS_SIGNALED) {
		struct rlimit nocore = { 0, 0 };
		sigset_t one;
		int s = r->status.signo;

		setrlimit(RLIMIT_CORE, &nocore);   /* the child dumped, if anyone */
		signal(s, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, s);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		raise(s);
		return 128 + s;   /* a signal that does not kill us */
	}
	fprintf(stderr, "%s: the exit status is unknown\n", cli_progname);
	return 1;
}

/* Everything the run needs before a server is asked: the interpreter, the
 * checked settings, the server's base identity. Execs the real interpreter
 * for a command line a fork cannot run; returns an exit status > 0 for bad
 * settings; 0 when @t is ready. */
static int setup(int argc, char **argv, struct target *t, char *pybuf, size_t pysize)
{
	const char *preload = getenv("PROCWAIT_PRELOAD");
	const char *off = getenv("PROCWAIT_DISABLE");
	const char *idle = getenv("PROCWAIT_IDLE");
	const char *how;
	char *canon = NULL, sock[PATH_MAX];
	int rc, idle_ms;

	rc = pyl_find_python(PROCWAIT_PYTHON3, pybuf, pysize, &how);
	if (rc < 0) {
		warnf("cannot find the interpreter (%s): %s", how, procwait_strerror(rc));
		return 127;
	}
	t->python = pybuf;
	if ((off && *off && strcmp(off, "0") != 0) || !pyl_supported(argc, argv))
		exec_python(t->python, argv);
	if (idle && *idle && cli_parse_seconds(idle, &idle_ms) < 0) {
		warnf("PROCWAIT_IDLE is not a number of seconds: '%s'", idle);
		return 2;
	}
	rc = pyl_preload_canon(preload ? preload : "", &canon);
	if (rc == -EINVAL) {
		warnf("PROCWAIT_PRELOAD is not a list of module names: '%s'", preload);
		return 2;
	}
	t->preload = canon;   /* lives as long as the process */
	t->pydir = package_dir();
	if (!t->pydir) {
		warnf("the procwait Python package is not installed; running %s directly",
		      t->python);
		exec_python(t->python, argv);
	}
	t->lib = library_path();
	if (cli_fill_stdio() < 0)
		exec_python(t->python, argv);
	t->flags = (pyl_pytest_tier(argc, argv) ? PYL_PYTEST : 0) |
	           (pyl_is_script(t->python) ? PYL_CWD : 0);
	if (rc == 0)
		rc = pyl_server_base(t->python, t->pydir, t->lib, t->preload, t->flags, &t->base);
	if (rc == 0)
		rc = procwait_forkserver_socket_path("python", 1, sock, sizeof(sock));
	if (rc < 0) {
		warnf("no fork server (%s); running %s directly", procwait_strerror(rc),
		      t->python);
		exec_python(t->python, argv);
	}
	*strrchr(sock, '/') = '\0';
	strcpy(t->dir, sock);
	return 0;
}

int main(int argc, char **argv)
{
	static const int forwarded[] = {
		SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
		SIGWINCH, SIGTSTP, SIGCONT
	};
	procwait_client_request rq = PROCWAIT_CLIENT_REQUEST_INIT;
	struct target t;
	const char *python;
	char pybuf[PATH_MAX], path[PATH_MAX], *err = NULL;
	procwait_client *c = NULL;
	procwait_result res;
	int rc, sfd = -1, interrupted = 0, tries, deaths = 0;

	sigprocmask(SIG_SETMASK, NULL, &orig_mask);
	memset(&t, 0, sizeof(t));
	rc = loop_guard();
	if (rc == 0)
		rc = setup(argc, argv, &t, pybuf, sizeof(pybuf));
	if (rc > 0)
		return rc;
	python = t.python;

	rq.argv = argv;
	rq.envp = request_env(&orig_mask);
	rq.timeout_ms = 0;
	for (tries = 1; ; tries++) {
		/* Signals keep the caller's mask until a server answers (a
		 * slow preload stays interruptible, on a retry too), then are
		 * forwarded. */
		if (sfd >= 0)
			sigprocmask(SIG_SETMASK, &orig_mask, NULL);
		rc = connect_server(&t, path, sizeof(path), &c, &err);
		if (sfd >= 0) {
			sigset_t fw;
			size_t k;

			sigemptyset(&fw);
			for (k = 0; k < sizeof(forwarded) / sizeof(forwarded[0]); k++)
				sigaddset(&fw, forwarded[k]);
			sigprocmask(SIG_BLOCK, &fw, NULL);
		}
		if (rc == -EIO && err) {
			/* The server could not preload: the user's problem to see. */
			fprintf(stderr, "%s: %s\n", cli_progname, err);
			free(err);
			return 1;
		}
		free(err);
		err = NULL;
		if (rc == -ESRCH) {
			/* The server died while it preloaded: one fresh try,
			 * then the real interpreter, as when the slots are
			 * full (the log says what happened). */
			if (++deaths < 2)
				continue;
			char logpath[PATH_MAX];

			if (side_path(path, ".log", logpath, sizeof(logpath)) == 0)
				log_line(logpath, "the server died twice while preloading: "
				         "running %s directly", python);
			exec_python(python, argv);
		}
		if (rc >= 0 && sfd < 0) {
			sfd = cli_block_signals(forwarded, sizeof(forwarded) / sizeof(forwarded[0]));
			rc = sfd;
		}
		if (rc >= 0)
			rc = cli_send_started(c, &rq, sfd, &interrupted);
		if (interrupted) {
			procwait_client_close(c);
			memset(&res, 0, sizeof(res));
			res.status.kind = PROCWAIT_STATUS_SIGNALED;
			res.status.signo = interrupted;
			return die_like(&res);
		}
		if (rc > 0)
			break;
		/* A stale server (a loaded file changed) or one stopping just
		 * now refuses: the next try starts a fresh one. */
		procwait_client_close(c);
		c = NULL;
		if ((rc == -ESTALE || rc == -ESHUTDOWN || rc == -ECONNRESET ||
		     rc == -ECONNREFUSED || rc == -ENOENT) && tries < START_TRIES)
			continue;
		/* All slots busy (no queue: see start_server) is no failure:
		 * the real interpreter runs it, silently. */
		if (rc != -EAGAIN)
			warnf("no fork server (%s); running %s directly",
			      procwait_strerror(rc), python);
		exec_python(python, argv);
	}
	for (;;) {
		struct pollfd pf[2] = { { procwait_client_fd(c), POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			procwait_client_signal(c, (int)si.ssi_signo);
			if (si.ssi_signo == SIGTSTP)
				raise(SIGSTOP);   /* stop with the child; SIGCONT is passed on */
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR))
			break;
	}
	rc = procwait_client_wait(c, -1, &res);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: %s\n", cli_progname,
		        rc == -ECONNRESET ? "the fork server went away" : "lost the child",
		        procwait_strerror(rc));
		procwait_client_close(c);
		return EXIT_SERVER_LOST;
	}
	procwait_client_close(c);
	return die_like(&res);
}
