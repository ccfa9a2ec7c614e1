/* SPDX-License-Identifier: MIT */
/* Scaffolding shared by the fork-server suites: see fs-testlib.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fs-testlib.h"

extern char **environ;

/* ---- buffers ---------------------------------------------------------------- */

void fst_buf_put(struct fst_buf *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, data, n);
	b->n += n;
}

void fst_buf_u32(struct fst_buf *b, uint32_t v)
{
	fst_buf_put(b, &v, 4);
}

void fst_buf_u16(struct fst_buf *b, uint16_t v)
{
	fst_buf_put(b, &v, 2);
}

void fst_buf_str(struct fst_buf *b, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	fst_buf_u32(b, n);
	fst_buf_put(b, s, n);
}

void fst_buf_free(struct fst_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

uint32_t fst_vec_len(char *const *v)
{
	uint32_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* ---- small utilities -------------------------------------------------------- */

int fst_devnull(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		ck_assert_int_ge(fd, 3);
	}
	return fd;
}

int fst_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int fst_read_all(int fd, struct fst_buf *b, int timeout_ms)
{
	long long end = pwt_now_ms() + timeout_ms;
	char tmp[65536];

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = end - pwt_now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		fst_buf_put(b, tmp, (size_t)n);
	}
}

int fst_read_until(int fd, struct fst_buf *b, const char *needle, int timeout_ms)
{
	long long end = pwt_now_ms() + timeout_ms;
	char tmp[4096];

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = end - pwt_now_ms();
		ssize_t n;

		if (b->n && memmem(b->p, b->n, needle, strlen(needle)))
			return 1;
		if (left <= 0)
			return 0;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		fst_buf_put(b, tmp, (size_t)n);
	}
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP || type == FTW_D)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int fst_rm_tree(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fst_proc_stat(pid_t pid, char *line, size_t size)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, line, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	line[n] = '\0';
	/* The command may hold ')' and spaces: the last ')' ends it. */
	p = strrchr(line, ')');
	return p && p[1] == ' ' ? p + 2 : line + n;
}

int fst_gone_within(pid_t pid, int ms)
{
	long long end = pwt_now_ms() + ms;

	for (;;) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return 1;
		if (pwt_now_ms() >= end)
			return 0;
		pwt_nap_ms(5);
	}
}

int fst_reap_within(pid_t pid, int ms)
{
	long long end = pwt_now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (pwt_now_ms() >= end) {
			kill(pid, SIGKILL);
			pwt_reap(pid);
			return -1;
		}
		pwt_nap_ms(5);
	}
}

const char *fst_status_str(const procwait_status *s, char *b, size_t n)
{
	if (s->kind == PROCWAIT_STATUS_EXITED)
		snprintf(b, n, "exited %d", s->code);
	else if (s->kind == PROCWAIT_STATUS_SIGNALED)
		snprintf(b, n, "killed by signal %d%s", s->signo, s->core ? " (core)" : "");
	else
		snprintf(b, n, "kind %d code %d signo %d", s->kind, s->code, s->signo);
	return b;
}

/* ---- the programs a request runs --------------------------------------------- */

void fst_dump_encode(struct fst_buf *b, char *const *argv, char *const *envp, const char *cwd)
{
	uint32_t i, n = fst_vec_len(argv);

	fst_buf_u32(b, n);
	for (i = 0; i < n; i++)
		fst_buf_str(b, argv[i]);
	n = fst_vec_len(envp);
	fst_buf_u32(b, n);
	for (i = 0; i < n; i++)
		fst_buf_str(b, envp[i]);
	fst_buf_str(b, cwd);
}

void fst_report_state(void)
{
	char line[512], fds[256] = "";
	size_t off = 0;
	struct dirent *e;
	sigset_t cur;
	DIR *d;
	int s, blocked = 0, ignored = 0, caught = 0, len;

	d = opendir("/proc/self/fd");
	if (d) {
		int dfd = dirfd(d), list[64], n = 0, i, j;
		struct rlimit rl;
		long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ?
			(long)rl.rlim_cur : LONG_MAX;

		while ((e = readdir(d)) != NULL && n < 64) {
			/* Above the limit: a tool's own (valgrind keeps its
			 * descriptors there, out of the program's reach). */
			if (e->d_name[0] == '.' || atoi(e->d_name) == dfd || atol(e->d_name) >= lim)
				continue;
			list[n++] = atoi(e->d_name);
		}
		closedir(d);
		for (i = 1; i < n; i++)        /* readdir's order is not numeric */
			for (j = i; j > 0 && list[j - 1] > list[j]; j--) {
				int t = list[j];
				list[j] = list[j - 1];
				list[j - 1] = t;
			}
		for (i = 0; i < n && off + 16 < sizeof(fds); i++)
			off += (size_t)snprintf(fds + off, sizeof(fds) - off, "%s%d", i ? "," : "", list[i]);
	}
	sigprocmask(SIG_BLOCK, NULL, &cur);
	for (s = 1; s < NSIG; s++) {
		struct sigaction sa;

		if (sigismember(&cur, s) == 1)
			blocked++;
		if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) < 0)
			continue;
		if (sa.sa_handler == SIG_IGN)
			ignored++;
		else if (sa.sa_handler != SIG_DFL)
			caught++;
	}
	len = snprintf(line, sizeof(line),
	               "fds=%s blocked=%d ignored=%d caught=%d sid=%s pgrp=%s ppid=%d\n",
	               fds, blocked, ignored, caught, getsid(0) == getpid() ? "self" : "other",
	               getpgrp() == getpid() ? "self" : "other", (int)getppid());
	(void)pwt_write_full(1, line, (size_t)len);
}

static long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void fst_run_builtin(char *const *argv)
{
	const char *cmd = argv ? argv[0] : NULL;

	if (!cmd)
		_exit(120);
	if (strcmp(cmd, "@exit") == 0) {
		_exit(argv[1] ? atoi(argv[1]) : 0);
	} else if (strcmp(cmd, "@kill") == 0) {
		sigset_t set;
		int sig = atoi(argv[1]);

		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		signal(sig, SIG_DFL);
		kill(getpid(), sig);
		_exit(99);
	} else if (strcmp(cmd, "@burn") == 0) {
		long long until = cpu_ns() + atoll(argv[1]) * 1000000LL;
		volatile unsigned long x = 0;

		while (cpu_ns() < until)
			for (int i = 0; i < 100000; i++)
				x += (unsigned long)i;
		_exit(0);
	} else if (strcmp(cmd, "@dump") == 0) {
		struct fst_buf b = { NULL, 0, 0 };
		char cwd[PATH_MAX + 1];

		if (!getcwd(cwd, sizeof(cwd)))
			_exit(3);
		fst_dump_encode(&b, argv, environ, cwd);
		_exit(pwt_write_full(1, b.p, b.n) == 0 ? 0 : 4);
	} else if (strcmp(cmd, "@report") == 0) {
		fst_report_state();
		_exit(0);
	} else if (strcmp(cmd, "@wait-stdin") == 0) {
		char c[256];
		ssize_t n;

		while ((n = read(0, c, sizeof(c))) != 0)
			if (n < 0 && errno != EINTR)
				break;
		_exit(argv[1] ? atoi(argv[1]) : 0);
	} else if (strcmp(cmd, "@stdio") == 0) {
		char in[1024];
		size_t got = 0;
		ssize_t n;

		while (got < sizeof(in) && (n = read(0, in + got, sizeof(in) - got)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				_exit(5);
			got += (size_t)n;
		}
		if (pwt_write_full(1, "out:", 4) < 0 || pwt_write_full(1, in, got) < 0 ||
		    pwt_write_full(2, "err:", 4) < 0 || pwt_write_full(2, in, got) < 0)
			_exit(6);
		_exit(0);
	} else if (strcmp(cmd, "@big") == 0) {
		size_t total = (size_t)atoll(argv[1]), done = 0;
		static unsigned char chunk[65536];

		while (done < total) {
			size_t k, n = total - done < sizeof(chunk) ? total - done : sizeof(chunk);

			for (k = 0; k < n; k++)
				chunk[k] = (unsigned char)((done + k) % 251);
			if (pwt_write_full(1, chunk, n) < 0)
				_exit(1);
			done += n;
		}
		_exit(0);
	} else if (strcmp(cmd, "@mark") == 0) {
		int fd = open(argv[1], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		_exit(fd >= 0 ? 0 : 1);
	} else if (strcmp(cmd, "@fdopen") == 0) {
		_exit(fcntl(atoi(argv[1]), F_GETFD) >= 0 ? 0 : 1);
	} else if (strcmp(cmd, "@tty") == 0) {
		char line[128];
		int len = snprintf(line, sizeof(line), "isatty=%d ctty=%s\n", isatty(0),
		                   tcgetsid(0) == getpid() ? "self" : "other");

		_exit(pwt_write_full(1, line, (size_t)len) == 0 ? 0 : 1);
	} else if (strcmp(cmd, "@sleep") == 0) {
		pwt_nap_ms(atoi(argv[1]));
		_exit(0);
	} else if (strcmp(cmd, "@daemon") == 0) {
		/* A daemon made the usual way (fork, setsid, fork): out of
		 * the run's process group and session, its parent gone. It
		 * writes "PID\n" to descriptor 1, closes 0, 1, 2 and sleeps.
		 * The run's leader then sleeps too, or exits 0 with "exit".
		 * With "group" the daemon stays in the run's group and
		 * session (fork, fork). */
		int group = argv[1] && strcmp(argv[1], "group") == 0;
		pid_t mid = fork(), d;

		if (mid < 0)
			_exit(2);
		if (mid == 0) {
			if (!group)
				(void)setsid();
			d = fork();
			if (d == 0) {
				char line[32];
				int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());

				(void)pwt_write_full(1, line, (size_t)n);
				close(0);
				close(1);
				close(2);
				for (;;)
					pause();
			}
			_exit(d < 0 ? 3 : 0);
		}
		while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
			;
		if (argv[1] && strcmp(argv[1], "exit") == 0)
			_exit(0);
		for (;;)
			pause();
	}
}

void fst_expect_dump(const struct fst_buf *got, char *const *argv, char *const *envp,
                     const char *cwd, const char *what)
{
	struct fst_buf want = { NULL, 0, 0 };
	char real[PATH_MAX];
	size_t i;

	ck_assert_msg(realpath(cwd, real) != NULL, "realpath(%s)", cwd);
	fst_dump_encode(&want, argv, envp, real);
	for (i = 0; i < got->n && i < want.n && got->p[i] == want.p[i]; i++)
		;
	ck_assert_msg(got->n == want.n && i == want.n,
	              "%s: the child saw other argv/env/cwd than were sent: %zu bytes vs %zu, "
	              "first difference at offset %zu", what, got->n, want.n, i);
	fst_buf_free(&want);
}

/* ---- the server under test -------------------------------------------------- */

void fst_server_taint(int mark_fd)
{
	sigset_t usr1;

	signal(SIGUSR2, SIG_IGN);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	dup2(fst_devnull(), mark_fd);
}

void fst_block_stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static int srv_logfd = -1;

static void log_path(const char *dir, char *out, size_t size)
{
	snprintf(out, size, "%s/server.log", dir);
}

void fst_log_open(const char *dir)
{
	char logpath[PATH_MAX + 16];

	log_path(dir, logpath, sizeof(logpath));
	srv_logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

void fst_log_close(void)
{
	if (srv_logfd >= 0) {
		close(srv_logfd);
		srv_logfd = -1;
	}
}

void fst_srv_log(void *data, int level, const char *msg)
{
	char line[700];
	int n = snprintf(line, sizeof(line), "[%d] %s\n", level, msg);

	(void)data;
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (srv_logfd >= 0)
		(void)!write(srv_logfd, line, (size_t)n);
	if (getenv("PWT_VERBOSE"))
		(void)!write(STDERR_FILENO, line, (size_t)n);
}

char *fst_log_text(const char *dir)
{
	char logpath[PATH_MAX + 16];
	struct fst_buf b = { NULL, 0, 0 };
	int fd;

	log_path(dir, logpath, sizeof(logpath));
	fd = open(logpath, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fst_read_all(fd, &b, 5000);
		close(fd);
	}
	fst_buf_put(&b, "", 1);
	return (char *)b.p;
}

void fst_wait_listening(const char *path)
{
	long long end = pwt_now_ms() + 10000;
	int rc;

	for (;;) {
		procwait_client *c;

		rc = procwait_client_connect(path, &c);
		if (rc == 0) {
			procwait_client_close(c);
			return;
		}
		if (pwt_now_ms() >= end)
			break;
		pwt_nap_ms(10);
	}
	ck_abort_msg("the server does not listen on %s: %s", path, procwait_strerror(rc));
}

void fst_spawn_server(pid_t *pid, void (*server_main)(const void *cfg, int readyfd),
                      const void *cfg, const char *path, const char *what)
{
	struct pollfd pfd;
	int p[2], rc = 1;
	pid_t child;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	child = pwt_fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		close(p[0]);
		server_main(cfg, p[1]);
		_exit(126);     /* not reached */
	}
	close(p[1]);
	*pid = child;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, 20000) == 1, "the server process does not start");
	ck_assert_int_eq(read(p[0], &rc, sizeof(rc)), (int)sizeof(rc));
	close(p[0]);
	ck_assert_msg(rc == 0, "%s: %s", what, procwait_strerror(rc));
	fst_wait_listening(path);
}

void fst_stop_server(pid_t *pid, int ms, const char *path, const char *note)
{
	struct stat st;
	int status;

	if (*pid <= 0)
		return;
	ck_assert_int_eq(kill(*pid, SIGTERM), 0);
	status = fst_reap_within(*pid, ms);
	*pid = 0;
	ck_assert_msg(status >= 0, "the server did not stop within %d s of SIGTERM", ms / 1000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "the server ended with status 0x%x, not exit 0%s", (unsigned)status, note);
	ck_assert_msg(lstat(path, &st) < 0 && errno == ENOENT,
	              "the server left its socket %s behind", path);
}

/* ---- the private directory --------------------------------------------------- */

static void start_janitor(const char *dir)
{
	pid_t owner = getpid(), mid;
	int p[2], st;
	char c;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	mid = pwt_fork();
	ck_assert_int_ge(mid, 0);
	if (mid == 0) {
		pid_t j = fork();

		if (j == 0) {
			int fd, pfd;

			setsid();
			(void)!write(p[1], "j", 1);
			for (fd = 3; fd < 1024; fd++)
				close(fd);
			pfd = (int)syscall(SYS_pidfd_open, owner, 0);
			if (pfd >= 0) {
				struct pollfd x = { pfd, POLLIN, 0 };

				while (poll(&x, 1, -1) < 0 && errno == EINTR)
					;
			} else {
				while (kill(owner, 0) == 0)
					pwt_nap_ms(100);
			}
			pwt_nap_ms(200);   /* Check's killpg takes the server */
			chmod(dir, 0700);
			fst_rm_tree(dir);
			_exit(0);
		}
		_exit(j < 0 ? 1 : 0);
	}
	close(p[1]);
	st = pwt_reap(mid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cannot start the janitor");
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
}

void fst_setup_dir(char *dir, size_t size, const char *prefix, void (*cleanup)(void))
{
	const char *t = getenv("TMPDIR");
	static int registered;

	if (!t || t[0] != '/' || strlen(t) > 40)
		t = "/tmp";
	snprintf(dir, size, "%s/%s-XXXXXX", t, prefix);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	ck_assert_int_eq(chmod(dir, 0700), 0);
	start_janitor(dir);
	if (!registered) {
		atexit(cleanup);
		registered = 1;
	}
	signal(SIGPIPE, SIG_IGN);
	(void)fst_devnull();
}

void fst_cleanup_now(pid_t *pid, char *dir)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		pwt_reap(*pid);
		*pid = 0;
	}
	if (dir[0]) {
		chmod(dir, 0700);
		fst_rm_tree(dir);
		dir[0] = '\0';
	}
}

void fst_remove_dir(char *dir)
{
	if (dir[0]) {
		chmod(dir, 0700);
		ck_assert_msg(fst_rm_tree(dir) == 0, "cannot remove %s: %s", dir, strerror(errno));
		dir[0] = '\0';
	}
}

/* ---- one request through the client API ---------------------------------------- */

void fst_run_req(const char *path, const procwait_client_request *rq, int wait_ms,
                 struct fst_run *out)
{
	procwait_client *c;
	int rc = procwait_client_connect(path, &c);

	memset(out, 0, sizeof(*out));
	ck_assert_msg(rc == 0, "procwait_client_connect(%s): %s", path, procwait_strerror(rc));
	out->start_rc = procwait_client_start(c, rq);
	snprintf(out->msg, sizeof(out->msg), "%s", procwait_client_message(c));
	if (out->start_rc > 0)
		out->wait_rc = procwait_client_wait(c, wait_ms, &out->res);
	procwait_client_close(c);
}

void fst_assert_ran(const struct fst_run *r, const char *what)
{
	ck_assert_msg(r->start_rc > 0, "%s: procwait_client_start: %s (%s)", what,
	              procwait_strerror(r->start_rc), r->msg);
	ck_assert_msg(r->wait_rc == 1, "%s: procwait_client_wait: %d (%s)", what, r->wait_rc,
	              r->wait_rc < 0 ? procwait_strerror(r->wait_rc) : "timeout");
	ck_assert_msg(r->res.status.pid == r->start_rc, "%s: status pid %d, started pid %d", what,
	              (int)r->res.status.pid, r->start_rc);
}
