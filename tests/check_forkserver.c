/* SPDX-License-Identifier: MIT */
/* The fork server (forkserver.h, DESIGN.md §6 and §9), end to end: a real
 * server in a forked process, on a socket in a fresh private directory, and
 * the test talking to it through the client API or through raw
 * SOCK_SEQPACKET frames written here from the protocol's description (not
 * with the library's encoder). Pins: exit statuses (a signal death never
 * reads as exit 0; the core flag agrees with a direct waitpid), rusage,
 * byte-exact argv/env/cwd, the limits, the reply to every kind of malformed
 * frame, stdin and large stdout through pipes, signal forwarding, the uid
 * check, the socket path rules, the queue bound, stopping (signal, stop(),
 * idle time), the step API driven by the test's own fork(), the hooks, bad
 * arguments, and the state a child starts in. Run once per backend
 * (tests/run-backend.sh). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
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
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "fs-testlib.h"

#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

extern char **environ;

#define MAX_FRAME ((size_t)PROCWAIT_FORKSERVER_MAX_FRAME)
#define NOBODY ((uid_t)65534)
/* A descriptor number the server keeps open (not close-on-exec) in every
 * server of this suite, to see the children close it. */
#define MARK_FD 100

/* ---- the wire format, written from fs-proto.h's description ------------ */

#define W_MAGIC 0x53465750u
#define W_VERSION 1
#define W_HEADER 12
enum { W_REQUEST = 1, W_SIGNAL = 2, W_STARTED = 0x81, W_EXITED = 0x82, W_ERROR = 0x83 };

/* A header whose length field frame_end() fills in. */
static void frame_begin(struct fst_buf *b, uint32_t magic, uint16_t version, uint16_t type)
{
	fst_buf_u32(b, magic);
	fst_buf_u16(b, version);
	fst_buf_u16(b, type);
	fst_buf_u32(b, 0);
}

static void frame_end(struct fst_buf *b)
{
	uint32_t len = (uint32_t)(b->n - W_HEADER);

	memcpy(b->p + 8, &len, 4);
}

/* The REQUEST payload after its header, without frame_end(). */
static void request_body(struct fst_buf *b, uint32_t flags, int32_t tmo, char *const *argv,
                         char *const *envp, const char *cwd)
{
	uint32_t i;

	fst_buf_u32(b, flags);
	fst_buf_u32(b, (uint32_t)tmo);
	fst_buf_u32(b, fst_vec_len(argv));
	fst_buf_u32(b, fst_vec_len(envp));
	fst_buf_u32(b, (uint32_t)strlen(cwd));
	fst_buf_put(b, cwd, strlen(cwd));
	for (i = 0; argv && argv[i]; i++)
		fst_buf_str(b, argv[i]);
	for (i = 0; envp && envp[i]; i++)
		fst_buf_str(b, envp[i]);
}

static void frame_request(struct fst_buf *b, char *const *argv, char *const *envp, const char *cwd)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0, -1, argv, envp, cwd);
	frame_end(b);
}

static void frame_int(struct fst_buf *b, uint16_t type, int32_t v)
{
	frame_begin(b, W_MAGIC, W_VERSION, type);
	fst_buf_u32(b, (uint32_t)v);
	frame_end(b);
}

/* A server's reply, decoded. */
struct reply {
	int type;
	int err;                /* ERROR */
	char msg[600];
	int32_t pid;            /* STARTED */
	char cgroup[1100];      /* STARTED: the run's cgroup, "" for none */
	int32_t kind, code, signo, core, timed_out;   /* EXITED */
	int64_t utime_us, stime_us, maxrss;
};

static int32_t get_i32(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* 0, or -1 when the bytes are not a frame the server may send. */
static int parse_reply(const uint8_t *p, size_t n, struct reply *r)
{
	uint16_t ver, type;
	uint32_t magic, len;

	memset(r, 0, sizeof(*r));
	if (n < W_HEADER)
		return -1;
	memcpy(&magic, p, 4);
	memcpy(&ver, p + 4, 2);
	memcpy(&type, p + 6, 2);
	memcpy(&len, p + 8, 4);
	if (magic != W_MAGIC || ver != W_VERSION || len != n - W_HEADER)
		return -1;
	p += W_HEADER;
	r->type = type;
	switch (type) {
	case W_STARTED: {
		uint32_t clen;

		/* i32 pid, then (when the run has a cgroup) u32 length and
		 * an absolute path. */
		if (len != 4 && len < 8)
			return -1;
		r->pid = get_i32(p);
		if (len == 4)
			return 0;
		memcpy(&clen, p + 4, 4);
		if (clen == 0 || clen != len - 8 || clen >= sizeof(r->cgroup) || p[8] != '/')
			return -1;
		memcpy(r->cgroup, p + 8, clen);
		r->cgroup[clen] = '\0';
		return 0;
	}
	case W_EXITED:
		if (len != 48)
			return -1;
		r->kind = get_i32(p);
		r->code = get_i32(p + 4);
		r->signo = get_i32(p + 8);
		r->core = get_i32(p + 12);
		r->timed_out = get_i32(p + 16);
		memcpy(&r->utime_us, p + 24, 8);
		memcpy(&r->stime_us, p + 32, 8);
		memcpy(&r->maxrss, p + 40, 8);
		return 0;
	case W_ERROR: {
		uint32_t mlen;

		if (len < 8)
			return -1;
		r->err = get_i32(p);
		memcpy(&mlen, p + 4, 4);
		if (mlen != len - 8 || mlen >= sizeof(r->msg))
			return -1;
		memcpy(r->msg, p + 8, mlen);
		r->msg[mlen] = '\0';
		return 0;
	}
	default:
		return -1;
	}
}

/* ---- raw sockets ------------------------------------------------------------ */

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/* A connected SOCK_SEQPACKET socket, or -errno. */
static int raw_connect(const char *path)
{
	struct sockaddr_un sa;
	int s, rc = fill_addr(path, &sa);

	if (rc < 0)
		return rc;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(s);
		return rc;
	}
	return s;
}

/* Send one message with nfds descriptors: 0 or -errno. */
static int raw_send(int s, const void *data, size_t n, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 16)];
	} cm;
	struct iovec iov = { (void *)data, n };
	struct msghdr m;
	ssize_t r;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		m.msg_control = cm.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		r = sendmsg(s, &m, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return (size_t)r == n ? 0 : -EMSGSIZE;
}

/* One message within timeout_ms: its length, 0 at EOF, -ETIMEDOUT, or
 * -errno. A peer that closed with our data unread makes the first recv
 * fail with ECONNRESET although its last frames are still queued: read on
 * past that once (the error is reported once). */
static ssize_t raw_recv(int s, void *data, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { s, POLLIN, 0 };
	ssize_t n;
	int r, again = 1;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	for (;;) {
		n = recv(s, data, cap, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET && again) {
			again = 0;
			continue;
		}
		return n < 0 ? -errno : n;
	}
}

/* Receive and decode one reply; fails the test on anything else. */
static void raw_reply(int s, struct reply *r, const char *what)
{
	uint8_t b[1024];
	ssize_t n = raw_recv(s, b, sizeof(b), 20000);

	ck_assert_msg(n > 0, "%s: no reply from the server (%s)", what,
	              n == 0 ? "EOF" : strerror((int)-n));
	ck_assert_msg(parse_reply(b, (size_t)n, r) == 0,
	              "%s: the server's reply of %zd bytes is not a valid frame", what, n);
}

/* The server closes the connection: EOF (or ECONNRESET) within 20 s. */
static void raw_expect_eof(int s, const char *what)
{
	uint8_t b[1024];
	ssize_t n = raw_recv(s, b, sizeof(b), 20000);

	ck_assert_msg(n == 0 || n == -ECONNRESET,
	              "%s: the connection stays open after the reply (%zd)", what, n);
}

/* ---- small utilities ---------------------------------------------------------- */

/* Number of descriptors process pid has open, -1 when unknown. */
static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The server's descriptor count once its connections have wound down: the
 * same value read over 100 ms. */
static int settled_fds(pid_t pid)
{
	long long end = pwt_now_ms() + 5000;
	int last = count_fds(pid), same = 0;

	while (same < 5 && pwt_now_ms() < end) {
		int now;

		pwt_nap_ms(20);
		now = count_fds(pid);
		same = now == last ? same + 1 : 0;
		last = now;
	}
	return last;
}

/* Fields of /proc/PID/stat after the command: the state letter, and
 * utime + stime in ms. 0 when unknown. */
static int proc_stat_read(pid_t pid, char *state, long long *cpu_ms)
{
	char line[1024];
	const char *f = fst_proc_stat(pid, line, sizeof(line));
	unsigned long long ut = 0, st = 0;

	/* "S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 *  utime stime" */
	if (!f || sscanf(f, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	                 state, &ut, &st) != 3)
		return 0;
	*cpu_ms = (long long)((ut + st) * 1000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
	return 1;
}

/* kill(pid, SIGSTOP) and wait until it is stopped. */
static void stop_process(pid_t pid)
{
	long long end = pwt_now_ms() + 10000, cpu;
	char st = '?';

	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	while (pwt_now_ms() < end) {
		if (proc_stat_read(pid, &st, &cpu) && st == 'T')
			return;
		pwt_nap_ms(5);
	}
	ck_abort_msg("process %d not stopped by SIGSTOP (state %c)", (int)pid, st);
}

/* ---- the children's programs ---------------------------------------------------- */

/* Run a request's argv: the built-in "@name args" (no exec, fast), anything
 * else is exec'd with PATH. Never returns. */
static void run_argv(char *const *argv)
{
	int err;

	fst_run_builtin(argv);
	execvp(argv[0], argv);
	err = errno;
	{
		char line[256];
		int len = snprintf(line, sizeof(line), "test server: %s: %s\n", argv[0],
		                   strerror(err));
		(void)!write(2, line, (size_t)len);
	}
	_exit(err == ENOENT ? 127 : 126);
}

/* ---- the server under test -------------------------------------------------------- */

struct srv_cfg {
	int max_children, max_queue, timeout_ms, idle_ms, grace_ms;
	unsigned flags;
	int hooks;              /* before_fork / after_fork write files in the dir */
	int close_stdio;        /* the server runs with 0, 1 and 2 closed */
	const uid_t *uids;
	size_t nuids;
	/* serve()'s child: 0 runs the request; 1 frees the server and the
	 * request and exits with atoi(argv[1]); 2 calls
	 * procwait_forkserver_stop() first (exit 90 when it fails). */
	int child_mode;
	long nofile;            /* > 0: the server's RLIMIT_NOFILE soft limit */
	int request_ms;         /* options.request_ms */
	int spares;             /* procwait_forkserver_set_spares() */
	int pause_ms;           /* a nap between new() and serve() */
};
#define SRV_CFG_INIT { 0, -1, 0, 0, -1, 0u, 0, 0, NULL, 0, 0, 0, 0, 0, 0 }

static struct {
	pid_t owner;            /* the test process */
	pid_t pid;              /* the server process, 0 when none */
	char dir[64];           /* fresh private directory, "" when none */
	char path[108];         /* the server's socket in it */
	char *xdg, *tmpdir;     /* environment saved by env_save() */
	int env_saved;
	pid_t daemon;           /* a run's daemon (not our child), 0 when none */
} S;

static void hook_line(const char *file, const char *extra)
{
	char path[PATH_MAX + 32], line[PATH_MAX + 64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", S.dir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%d %s\n", (int)getpid(), extra);
	(void)!write(fd, line, (size_t)n);
	close(fd);
}

static void hook_before(void *data)
{
	(void)data;
	hook_line("before.log", "-");
}

static void hook_after(void *data)
{
	char cwd[PATH_MAX];

	(void)data;
	hook_line("after.log", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
}

/* The server process: never returns. Writes procwait_forkserver_new()'s
 * result to readyfd. Exit 0 when serve() returned 0. */
static void server_main(const void *arg, int readyfd)
{
	const struct srv_cfg *cfg = arg;
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	procwait_request *req;
	int rc;

	fst_log_open(S.dir);
	/* State a child must not inherit: an ignored signal, a blocked one,
	 * a descriptor without close-on-exec. */
	fst_server_taint(MARK_FD);
	if (!(cfg->flags & PROCWAIT_FORKSERVER_NO_SIGNALS))
		fst_block_stop_signals();
	o.socket_path = S.path;
	o.max_children = cfg->max_children;
	o.max_queue = cfg->max_queue;
	o.timeout_ms = cfg->timeout_ms;
	o.idle_ms = cfg->idle_ms;
	o.request_ms = cfg->request_ms;
	o.kill_grace_ms = cfg->grace_ms;
	o.flags = cfg->flags;
	o.allowed_uids = cfg->uids;
	o.n_allowed_uids = cfg->nuids;
	o.log = fst_srv_log;
	if (cfg->nofile > 0) {
		/* Before new(): the default max_queue depends on the limit. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(5);
		rl.rlim_cur = (rlim_t)cfg->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(5);
	}
	if (cfg->hooks) {
		o.before_fork = hook_before;
		o.after_fork = hook_after;
	}
	rc = procwait_forkserver_new(&o, &fs);
	(void)!write(readyfd, &rc, sizeof(rc));
	close(readyfd);
	if (rc < 0)
		_exit(3);
	if (cfg->close_stdio) {
		close(0);
		close(1);
		close(2);
	}
	if (cfg->spares && procwait_forkserver_set_spares(fs, cfg->spares) < 0)
		_exit(4);
	if (cfg->pause_ms)
		pwt_nap_ms(cfg->pause_ms);
	rc = procwait_forkserver_serve(fs, &req);
	if (rc == 1 && cfg->child_mode) {
		char *const *av = procwait_request_argv(req);
		int code = av[1] ? atoi(av[1]) : 0;

		/* In a forked copy stop() must do nothing (it would stop the
		 * server); free() then releases what child() left of fs. */
		if (cfg->child_mode == 2 && procwait_forkserver_stop(fs) != 0)
			_exit(90);
		procwait_forkserver_free(fs);
		procwait_request_free(req);
		_exit(code);
	}
	if (rc == 1)
		run_argv(procwait_request_argv(req));
	procwait_forkserver_free(fs);
	_exit(rc == 0 ? 0 : 4);
}

static void srv_start(const struct srv_cfg *cfg)
{
	ck_assert_msg(S.pid == 0, "a server runs already");
	snprintf(S.path, sizeof(S.path), "%s/s.sock", S.dir);
	fst_spawn_server(&S.pid, server_main, cfg, S.path, "procwait_forkserver_new");
}

static void srv_start_default(void)
{
	struct srv_cfg cfg = SRV_CFG_INIT;

	srv_start(&cfg);
}

/* Stop the server with SIGTERM: it must exit 0 (serve() returned 0) and
 * remove its socket. */
static void srv_stop(void)
{
	fst_stop_server(&S.pid, 30000, S.path, "");
}

static void env_save(void)
{
	const char *x = getenv("XDG_RUNTIME_DIR"), *t = getenv("TMPDIR");

	if (S.env_saved)
		return;
	S.xdg = x ? strdup(x) : NULL;
	S.tmpdir = t ? strdup(t) : NULL;
	S.env_saved = 1;
}

static void env_restore(void)
{
	if (!S.env_saved)
		return;
	if (S.xdg)
		setenv("XDG_RUNTIME_DIR", S.xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	if (S.tmpdir)
		setenv("TMPDIR", S.tmpdir, 1);
	else
		unsetenv("TMPDIR");
	free(S.xdg);
	free(S.tmpdir);
	S.xdg = S.tmpdir = NULL;
	S.env_saved = 0;
}

/* When a test fails, Check ends its process with exit(): leave nothing
 * behind then either. */
static void emergency_cleanup(void)
{
	if (getpid() != S.owner)
		return;
	if (S.daemon > 0)
		kill(S.daemon, SIGKILL);   /* out of our group: Check misses it */
	fst_cleanup_now(&S.pid, S.dir);
	env_restore();
}

/* The private directory, and its janitor: a failing test ends with _exit()
 * (no atexit), and Check then kills its process group, server included. */
static void setup_dir(void)
{
	S.owner = getpid();
	S.pid = 0;
	fst_setup_dir(S.dir, sizeof(S.dir), "pwfs", emergency_cleanup);
}

static void setup_server(void)
{
	setup_dir();
	srv_start_default();
}

static void setup_server_spare(void)
{
	struct srv_cfg cfg = SRV_CFG_INIT;

	setup_dir();
	cfg.spares = 1;
	srv_start(&cfg);
}

static void teardown(void)
{
	srv_stop();
	env_restore();
	fst_remove_dir(S.dir);
	pwt_assert_no_children();
}

/* ---- client helpers ------------------------------------------------------------------ */

/* One request through the client API: connect, start, wait (30 s). */
static void run_req(const procwait_client_request *rq, struct fst_run *out)
{
	fst_run_req(S.path, rq, 30000, out);
}

/* A request with /dev/null as 0, 1, 2, our environment, in the test dir. */
static void req_init(procwait_client_request *rq, char *const *argv)
{
	procwait_client_request init = PROCWAIT_CLIENT_REQUEST_INIT;

	*rq = init;
	rq->argv = argv;
	rq->cwd = S.dir;
	rq->fds[0] = rq->fds[1] = rq->fds[2] = fst_devnull();
}

static void run_argv_req(char *const *argv, struct fst_run *out)
{
	procwait_client_request rq;

	req_init(&rq, argv);
	run_req(&rq, out);
}

static void assert_exit(const struct fst_run *r, int code, const char *what)
{
	char b[96];

	fst_assert_ran(r, what);
	ck_assert_msg(r->res.status.kind == PROCWAIT_STATUS_EXITED && r->res.status.code == code,
	              "%s: expected exit %d, got %s", what, code,
	              fst_status_str(&r->res.status, b, sizeof(b)));
	ck_assert_int_eq(r->res.timed_out, 0);
}

static void assert_signaled(const struct fst_run *r, int signo, const char *what)
{
	char b[96];

	ck_assert_msg(r->start_rc > 0, "%s: procwait_client_start: %s", what,
	              procwait_strerror(r->start_rc));
	ck_assert_msg(r->wait_rc == 1, "%s: procwait_client_wait: %d", what, r->wait_rc);
	ck_assert_msg(r->res.status.kind == PROCWAIT_STATUS_SIGNALED &&
	              r->res.status.signo == signo && r->res.status.code == 0,
	              "%s: expected death by signal %d, got %s", what, signo,
	              fst_status_str(&r->res.status, b, sizeof(b)));
}

/* The server still serves. */
static void assert_alive(const char *what)
{
	char *const argv[] = { "@exit", "0", NULL };
	struct fst_run r;

	run_argv_req(argv, &r);
	assert_exit(&r, 0, what);
}

struct creport {
	int connect_rc, start_rc, wait_rc;
	procwait_result res;
	char msg[600];
};

/* A client in a child process (so that this process can run the server):
 * returns once it is connected; its report comes on *rfd. */
static pid_t client_proc(char *const *argv, int in_fd, int *rfd)
{
	int p[2];
	char ch;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		procwait_client_request rq;
		procwait_client *c = NULL;
		struct creport r;

		memset(&r, 0, sizeof(r));
		close(p[0]);
		r.connect_rc = procwait_client_connect(S.path, &c);
		if (write(p[1], "c", 1) != 1)
			_exit(1);
		if (r.connect_rc == 0) {
			req_init(&rq, argv);
			if (in_fd >= 0)
				rq.fds[0] = in_fd;
			r.start_rc = procwait_client_start(c, &rq);
			snprintf(r.msg, sizeof(r.msg), "%s", procwait_client_message(c));
			if (r.start_rc > 0)
				r.wait_rc = procwait_client_wait(c, -1, &r.res);
			procwait_client_close(c);
		}
		_exit(pwt_write_full(p[1], &r, sizeof(r)) == 0 ? 0 : 1);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &ch, 1), 1);
	*rfd = p[0];
	return pid;
}

static void client_report(pid_t pid, int rfd, struct creport *r)
{
	int st;

	ck_assert_msg(pwt_read_full(rfd, r, sizeof(*r)) == 0, "no report from the client process");
	close(rfd);
	st = pwt_reap(pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client process status 0x%x",
	              (unsigned)st);
	ck_assert_msg(r->connect_rc == 0, "client connect: %s", procwait_strerror(r->connect_rc));
}

/* ---- statuses ------------------------------------------------------------------------- */

static const int exit_codes[] = { 0, 1, 7, 255 };

START_TEST(test_exit_codes)
{
	char num[16];
	char *const argv[] = { "@exit", num, NULL };
	struct fst_run r;

	snprintf(num, sizeof(num), "%d", exit_codes[_i]);
	run_argv_req(argv, &r);
	assert_exit(&r, exit_codes[_i], "@exit");
	ck_assert_str_eq(r.msg, "");
}
END_TEST

static const int death_signals[] = { SIGKILL, SIGTERM };

START_TEST(test_signal_death)
{
	char num[16];
	char *const argv[] = { "@kill", num, NULL };
	struct fst_run r;

	snprintf(num, sizeof(num), "%d", death_signals[_i]);
	run_argv_req(argv, &r);
	ck_assert_msg(!(r.res.status.kind == PROCWAIT_STATUS_EXITED && r.res.status.code == 0),
	              "a death by signal %d reads as exit 0", death_signals[_i]);
	assert_signaled(&r, death_signals[_i], "@kill");
	ck_assert_int_eq(r.res.status.core, 0);
}
END_TEST

/* Exec'd sh (not this, possibly sanitized, binary) raises SIGABRT with
 * RLIMIT_CORE set by itself; the same program run with fork + waitpid is
 * the ground truth for the core flag. */
static const char *const core_scripts[] = {
	"ulimit -c 0 && kill -s ABRT $$",
	"ulimit -c \"$(ulimit -H -c)\" && kill -s ABRT $$",
};

static void unlink_cores(void)
{
	DIR *d = opendir(S.dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "core", 4) == 0) {
			char p[PATH_MAX + 300];
			snprintf(p, sizeof(p), "%s/%s", S.dir, e->d_name);
			unlink(p);
		}
	}
	closedir(d);
}

START_TEST(test_core_flag)
{
	char *const argv[] = { "sh", "-c", (char *)core_scripts[_i], NULL };
	procwait_client_request rq;
	struct fst_run r;
	int st, truth_core;
	pid_t pid;

	/* Ground truth. */
	unlink_cores();
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(S.dir) < 0)
			_exit(120);
		execvp(argv[0], argv);
		_exit(121);
	}
	st = pwt_reap(pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
	              "the ground truth did not die of SIGABRT (status 0x%x)", (unsigned)st);
	truth_core = WCOREDUMP(st) ? 1 : 0;
	unlink_cores();

	req_init(&rq, argv);
	rq.envp = environ;
	run_req(&rq, &r);
	unlink_cores();
	assert_signaled(&r, SIGABRT, core_scripts[_i]);
	ck_assert_msg(r.res.status.core == truth_core,
	              "core flag %d through the server, %d by a direct waitpid (%s)",
	              r.res.status.core, truth_core, core_scripts[_i]);
	if (_i == 0)
		ck_assert_int_eq(truth_core, 0);
}
END_TEST

START_TEST(test_rusage)
{
	char *const argv[] = { "@burn", "300", NULL };
	struct fst_run r;
	long long cpu_ms;

	run_argv_req(argv, &r);
	assert_exit(&r, 0, "@burn");
	cpu_ms = (long long)r.res.utime.tv_sec * 1000 + r.res.utime.tv_usec / 1000 +
	         (long long)r.res.stime.tv_sec * 1000 + r.res.stime.tv_usec / 1000;
	ck_assert_msg(r.res.utime.tv_sec > 0 || r.res.utime.tv_usec > 0,
	              "a CPU-burning child reports no user time");
	ck_assert_msg(cpu_ms >= 200 && cpu_ms < 120000,
	              "a child that burnt 300 ms of CPU reports %lld ms", cpu_ms);
	ck_assert_msg(r.res.utime.tv_usec >= 0 && r.res.utime.tv_usec < 1000000 &&
	              r.res.stime.tv_usec >= 0 && r.res.stime.tv_usec < 1000000,
	              "timeval fields out of range");
	ck_assert_msg(r.res.maxrss > 0 && r.res.maxrss < 64L * 1024 * 1024,
	              "implausible maxrss %ld KiB", r.res.maxrss);
}
END_TEST

START_TEST(test_timeout)
{
	char *const argv[] = { "@wait-stdin", NULL };
	procwait_client_request rq;
	struct fst_run r;
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.fds[0] = p[0];
	rq.timeout_ms = 300;
	run_req(&rq, &r);
	close(p[0]);
	close(p[1]);
	assert_signaled(&r, SIGTERM, "a child past its timeout");
	ck_assert_int_eq(r.res.timed_out, 1);
}
END_TEST

/* ---- argv, environment, directory --------------------------------------------------------- */

/* Run @dump and compare what the child saw with what was sent. */
static void roundtrip(char *const *argv, char *const *envp, const char *cwd)
{
	procwait_client_request rq;
	procwait_client *c;
	struct fst_buf got = { NULL, 0, 0 };
	procwait_result res;
	char real[PATH_MAX];
	int p[2], pid, rc;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.envp = envp;
	rq.cwd = cwd;
	rq.fds[1] = p[1];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[1]);
	ck_assert_msg(pid > 0, "procwait_client_start: %s (%s)", procwait_strerror(pid),
	              procwait_client_message(c));
	rc = fst_read_all(p[0], &got, 60000);
	close(p[0]);
	ck_assert_msg(rc == 0, "reading the child's report: %s", strerror(-rc));
	ck_assert_int_eq(procwait_client_wait(c, 30000, &res), 1);
	procwait_client_close(c);
	ck_assert_msg(res.status.kind == PROCWAIT_STATUS_EXITED && res.status.code == 0,
	              "@dump failed: kind %d code %d", res.status.kind, res.status.code);
	if (!cwd) {
		ck_assert_ptr_nonnull(getcwd(real, sizeof(real)));
		cwd = real;
	}
	fst_expect_dump(&got, argv, envp ? envp : environ, cwd, "@dump");
	fst_buf_free(&got);
}

START_TEST(test_roundtrip_argv)
{
	char *const argv[] = { "@dump", "two words", "line\nbreak", "", "\xff\xfe", "tab\there",
	                       "", "quote\"'`$(x)", "\x01\x1f\x7f", "-", "--", "=", "*", NULL };
	char *const envp[] = { "A=1", NULL };

	roundtrip(argv, envp, S.dir);
}
END_TEST

START_TEST(test_roundtrip_many_args)
{
	enum { N = 5000 };
	char **argv = calloc(N + 2, sizeof(char *));
	char *const envp[] = { "MANY=1", NULL };
	int i;

	ck_assert_ptr_nonnull(argv);
	argv[0] = "@dump";
	for (i = 1; i <= N; i++) {
		char b[32] = "";
		if (i % 5 == 0)
			snprintf(b, sizeof(b), "a b %d", i);
		else if (i % 7 != 0)
			snprintf(b, sizeof(b), "arg%d\xff", i);
		argv[i] = strdup(b);
	}
	roundtrip(argv, envp, S.dir);
	for (i = 1; i <= N; i++)
		free(argv[i]);
	free(argv);
}
END_TEST

START_TEST(test_roundtrip_env)
{
	/* No PATH; odd values; an entry without '='; duplicates kept. */
	char *const argv[] = { "@dump", NULL };
	char *const envp[] = { "SPACE=a b c", "NL=one\ntwo", "EMPTY=", "BIN=\xff\xfe",
	                       "NOEQUALS", "=leading", "DUP=1", "DUP=2", "LONG=xxxxxxxxxxxxxxxx"
	                       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NULL };

	roundtrip(argv, envp, S.dir);
}
END_TEST

START_TEST(test_roundtrip_env_empty)
{
	char *const argv[] = { "@dump", "x", NULL };
	char *const envp[] = { NULL };

	roundtrip(argv, envp, S.dir);
}
END_TEST

START_TEST(test_roundtrip_cwd)
{
	char *const argv[] = { "@dump", NULL };
	char *const envp[] = { "HOME=/", NULL };
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/dir with spaces\nnewline \xff\xfe", S.dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	roundtrip(argv, envp, dir);
}
END_TEST

START_TEST(test_roundtrip_cwd_default)
{
	/* No cwd in the request: the client's own directory. */
	char *const argv[] = { "@dump", NULL };
	char *const envp[] = { "X=1", NULL };
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/here", S.dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(chdir(dir), 0);
	roundtrip(argv, envp, NULL);
	ck_assert_int_eq(chdir("/"), 0);
}
END_TEST

/* ---- limits --------------------------------------------------------------------------- */

START_TEST(test_limit_frame)
{
	char mark[PATH_MAX];
	char *big;
	char *argv[] = { "@mark", mark, NULL, NULL };
	char *const envp[] = { NULL };
	procwait_client_request rq;
	struct fst_run r;
	size_t exact;

	snprintf(mark, sizeof(mark), "%s/marker", S.dir);
	/* header 12 + fixed 20 + cwd "/" + (4 + 5) + (4 + strlen(mark)) + (4 + L) */
	exact = MAX_FRAME - (12 + 20 + 1 + 9 + 4 + strlen(mark) + 4);
	big = malloc(exact + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', exact + 1);
	big[exact + 1] = '\0';
	argv[2] = big;
	req_init(&rq, argv);
	rq.envp = envp;
	rq.cwd = "/";
	run_req(&rq, &r);
	ck_assert_msg(r.start_rc == -E2BIG, "a frame one byte over the limit: %d (%s), not -E2BIG",
	              r.start_rc, procwait_strerror(r.start_rc));
	ck_assert_msg(!fst_exists(mark), "a request over the limit was run");
	assert_alive("after a request over the frame limit");
	ck_assert_msg(!fst_exists(mark), "a request over the limit was run");

	/* Exactly the limit is fine. */
	big[exact] = '\0';
	run_req(&rq, &r);
	assert_exit(&r, 0, "a frame of exactly PROCWAIT_FORKSERVER_MAX_FRAME bytes");
	ck_assert_msg(fst_exists(mark), "the request at the limit did not run");

	/* An environment over the limit too. */
	{
		char *env = malloc(MAX_FRAME + 8);
		char *const envp2[] = { env, NULL };
		char *const argv2[] = { "@exit", "0", NULL };

		ck_assert_ptr_nonnull(env);
		memcpy(env, "X=", 2);
		memset(env + 2, 'y', MAX_FRAME);
		env[MAX_FRAME + 2] = '\0';
		req_init(&rq, argv2);
		rq.envp = envp2;
		run_req(&rq, &r);
		ck_assert_int_eq(r.start_rc, -E2BIG);
		free(env);
	}
	free(big);
	assert_alive("after an environment over the frame limit");
}
END_TEST

START_TEST(test_limit_args)
{
	enum { N = PROCWAIT_FORKSERVER_MAX_ARGS };
	char **argv = calloc(N + 2, sizeof(char *));
	char *const envp[] = { NULL };
	procwait_client_request rq;
	struct fst_run r;
	int i;

	ck_assert_ptr_nonnull(argv);
	argv[0] = "@exit";
	argv[1] = "6";
	for (i = 2; i < N + 1; i++)
		argv[i] = "x";
	/* N + 1 entries: one too many. */
	req_init(&rq, argv);
	rq.envp = envp;
	run_req(&rq, &r);
	ck_assert_msg(r.start_rc == -EINVAL, "%d entries of argv: %d (%s), not -EINVAL", N + 1,
	              r.start_rc, procwait_strerror(r.start_rc));
	/* Exactly N. */
	argv[N] = NULL;
	run_req(&rq, &r);
	assert_exit(&r, 6, "PROCWAIT_FORKSERVER_MAX_ARGS entries of argv");
	/* The environment has its own limit. */
	{
		char **env = calloc(PROCWAIT_FORKSERVER_MAX_ENV + 2, sizeof(char *));
		char *const argv2[] = { "@exit", "0", NULL };

		ck_assert_ptr_nonnull(env);
		for (i = 0; i < PROCWAIT_FORKSERVER_MAX_ENV + 1; i++)
			env[i] = "E=1";
		req_init(&rq, argv2);
		rq.envp = env;
		run_req(&rq, &r);
		ck_assert_int_eq(r.start_rc, -EINVAL);
		env[PROCWAIT_FORKSERVER_MAX_ENV] = NULL;
		run_req(&rq, &r);
		assert_exit(&r, 0, "PROCWAIT_FORKSERVER_MAX_ENV environment entries");
		free(env);
	}
	free(argv);
}
END_TEST

START_TEST(test_limit_cwd)
{
	char *const argv[] = { "@exit", "0", NULL };
	procwait_client_request rq;
	struct fst_run r;
	char *longcwd;

	req_init(&rq, argv);
	rq.cwd = "relative/dir";
	run_req(&rq, &r);
	ck_assert_msg(r.start_rc == -EINVAL, "a relative cwd: %d, not -EINVAL", r.start_rc);
	rq.cwd = "";
	run_req(&rq, &r);
	ck_assert_msg(r.start_rc == -EINVAL, "an empty cwd: %d, not -EINVAL", r.start_rc);
	longcwd = malloc(PROCWAIT_FORKSERVER_MAX_CWD + 2);
	ck_assert_ptr_nonnull(longcwd);
	longcwd[0] = '/';
	memset(longcwd + 1, 'd', PROCWAIT_FORKSERVER_MAX_CWD);
	longcwd[PROCWAIT_FORKSERVER_MAX_CWD + 1] = '\0';
	rq.cwd = longcwd;
	run_req(&rq, &r);
	ck_assert_msg(r.start_rc == -E2BIG || r.start_rc == -EINVAL,
	              "a cwd over PROCWAIT_FORKSERVER_MAX_CWD: %d", r.start_rc);
	free(longcwd);
	assert_alive("after refused directories");
}
END_TEST

START_TEST(test_limit_bad_fd)
{
	char *const argv[] = { "@exit", "0", NULL };
	procwait_client_request rq;
	struct fst_run r;

	close(1000);
	req_init(&rq, argv);
	rq.fds[1] = 1000;
	run_req(&rq, &r);
	ck_assert_msg(r.start_rc == -EBADF, "a closed descriptor: %d, not -EBADF", r.start_rc);
	rq.fds[1] = -2;
	run_req(&rq, &r);
	ck_assert_msg(r.start_rc == -EINVAL, "descriptor -2: %d, not -EINVAL", r.start_rc);
	assert_alive("after bad descriptors");
}
END_TEST

START_TEST(test_missing_cwd)
{
	char *const argv[] = { "@exit", "0", NULL };
	procwait_client_request rq;
	struct fst_buf err = { NULL, 0, 0 };
	char dir[PATH_MAX];
	struct fst_run r;
	int p[2];

	snprintf(dir, sizeof(dir), "%s/no such dir", S.dir);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.cwd = dir;
	rq.fds[2] = p[1];
	run_req(&rq, &r);
	close(p[1]);
	ck_assert_int_eq(fst_read_all(p[0], &err, 30000), 0);
	close(p[0]);
	assert_exit(&r, 127, "a missing working directory");
	fst_buf_put(&err, "", 1);
	ck_assert_msg(strstr((char *)err.p, dir) != NULL,
	              "the child's error does not name the directory: \"%s\"", (char *)err.p);
	fst_buf_free(&err);
}
END_TEST

/* ---- pipes ------------------------------------------------------------------------------ */

START_TEST(test_stdin_cat)
{
	char *const argv[] = { "cat", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	struct fst_buf in = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	size_t sent = 0, i;
	int pin[2], pout[2], pid;

	for (i = 0; i < 1024 * 1024; i++) {
		unsigned char ch = (unsigned char)(i * 31 + (i >> 11));
		fst_buf_put(&in, &ch, 1);
	}
	ck_assert_int_eq(pipe2(pin, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pout, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.envp = environ;
	rq.fds[0] = pin[0];
	rq.fds[1] = pout[1];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	ck_assert_msg(pid > 0, "start cat: %s", procwait_strerror(pid));
	close(pin[0]);
	close(pout[1]);
	/* Write and read at once: 1 MiB does not fit the pipes. */
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd pf[2] = { { pout[0], POLLIN, 0 }, { pin[1], POLLOUT, 0 } };
		int np = pin[1] >= 0 ? 2 : 1;
		char tmp[65536];
		ssize_t n;

		ck_assert_msg(poll(pf, (nfds_t)np, 30000) > 0, "cat stalled (%zu in, %zu out)",
		              sent, out.n);
		if (np == 2 && (pf[1].revents & (POLLOUT | POLLERR))) {
			n = write(pin[1], in.p + sent, in.n - sent);
			ck_assert_msg(n > 0 || errno == EAGAIN, "write to cat: %s", strerror(errno));
			if (n > 0)
				sent += (size_t)n;
			if (sent == in.n) {
				close(pin[1]);   /* EOF for cat */
				pin[1] = -1;
			}
		}
		if (pf[0].revents) {
			n = read(pout[0], tmp, sizeof(tmp));
			if (n == 0)
				break;
			ck_assert_msg(n > 0 || errno == EINTR, "read from cat: %s", strerror(errno));
			if (n > 0)
				fst_buf_put(&out, tmp, (size_t)n);
		}
	}
	close(pout[0]);
	ck_assert_int_eq(sent, in.n);
	ck_assert_msg(out.n == in.n && memcmp(out.p, in.p, in.n) == 0,
	              "cat gave back %zu bytes, other than the %zu sent", out.n, in.n);
	ck_assert_int_eq(procwait_client_wait(c, 30000, &res), 1);
	ck_assert_int_eq(res.status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(res.status.code, 0);
	procwait_client_close(c);
	fst_buf_free(&in);
	fst_buf_free(&out);
}
END_TEST

START_TEST(test_large_output)
{
	const size_t total = 8u << 20;
	char size[32];
	char *const argv[] = { "@big", size, NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	static unsigned char tmp[65536];
	size_t got = 0, capacity;
	int p[2], pid, rc, early = 0;

	snprintf(size, sizeof(size), "%zu", total);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	rc = fcntl(p[0], F_GETPIPE_SZ);
	capacity = rc > 0 ? (size_t)rc : 1u << 20;
	req_init(&rq, argv);
	rq.fds[1] = p[1];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[1]);
	ck_assert_msg(pid > 0, "start: %s", procwait_strerror(pid));
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		ssize_t n;
		size_t k;

		ck_assert_msg(poll(&pf, 1, 30000) == 1, "output stalled after %zu bytes", got);
		n = read(p[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n >= 0, "read: %s", strerror(errno));
		if (n == 0)
			break;
		for (k = 0; k < (size_t)n; k++)
			if (tmp[k] != (unsigned char)((got + k) % 251))
				ck_abort_msg("output corrupt at byte %zu", got + k);
		got += (size_t)n;
		/* The child cannot be done while more than a pipeful is due:
		 * EXITED must not be there yet. */
		if (got + capacity < total && (got & ((1u << 20) - 1)) < (size_t)n)
			if (procwait_client_wait(c, 0, &res) != 0)
				early = 1;
	}
	close(p[0]);
	ck_assert_msg(!early, "a result arrived before the output was read");
	ck_assert_msg(got == total, "%zu of %zu bytes delivered", got, total);
	rc = procwait_client_wait(c, 30000, &res);
	ck_assert_msg(rc == 1, "wait after EOF: %d", rc);
	ck_assert_int_eq(res.status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(res.status.code, 0);
	procwait_client_close(c);
}
END_TEST

START_TEST(test_pty)
{
	char *const argv[] = { "@tty", NULL };
	procwait_client_request rq;
	struct fst_buf out = { NULL, 0, 0 };
	struct fst_run r;
	int m, s;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0) {
		printf("test_pty: no pseudo-terminals here (%s): skipped\n", strerror(errno));
		return;
	}
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(s, 0);
	req_init(&rq, argv);
	rq.fds[0] = rq.fds[1] = rq.fds[2] = s;
	rq.flags = PROCWAIT_CLIENT_PTY;
	run_req(&rq, &r);
	assert_exit(&r, 0, "@tty");
	ck_assert_msg(fst_read_until(m, &out, "\n", 10000), "no line from the child on the terminal");
	fst_buf_put(&out, "", 1);
	ck_assert_msg(strstr((char *)out.p, "isatty=1 ctty=self") != NULL,
	              "the child did not get the terminal as its controlling one: \"%s\"",
	              (char *)out.p);
	fst_buf_free(&out);
	close(s);
	close(m);
}
END_TEST

/* ---- malformed frames ----------------------------------------------------------------------- */

static char *const ok_argv[] = { "@exit", "0", NULL };
static char *const no_env[] = { NULL };

static void bad_magic(struct fst_buf *b)
{
	frame_begin(b, 0x12345678u, W_VERSION, W_REQUEST);
	request_body(b, 0, -1, ok_argv, no_env, "/");
	frame_end(b);
}

static void bad_version(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, 2, W_REQUEST);
	request_body(b, 0, -1, ok_argv, no_env, "/");
	frame_end(b);
}

static void bad_version0(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, 0, W_SIGNAL);
	fst_buf_u32(b, 0);
	frame_end(b);
}

static void bad_length_long(struct fst_buf *b)
{
	uint32_t len;

	frame_request(b, ok_argv, no_env, "/");
	len = (uint32_t)(b->n - W_HEADER + 4);
	memcpy(b->p + 8, &len, 4);
}

static void bad_length_short(struct fst_buf *b)
{
	uint32_t len;

	frame_request(b, ok_argv, no_env, "/");
	len = (uint32_t)(b->n - W_HEADER - 1);
	memcpy(b->p + 8, &len, 4);
}

static void bad_truncated_header(struct fst_buf *b)
{
	frame_request(b, ok_argv, no_env, "/");
	b->n = 5;
}

static void bad_oversize(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0, -1, ok_argv, no_env, "/");
	while (b->n < MAX_FRAME + 1)
		fst_buf_put(b, "z", 1);
	frame_end(b);
}

static void bad_oversize_double(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	while (b->n < 2 * MAX_FRAME)
		fst_buf_put(b, "z", 1);
	frame_end(b);
}

static void good_request(struct fst_buf *b)
{
	frame_request(b, ok_argv, no_env, "/");
}

static void signal_frame(struct fst_buf *b)
{
	frame_int(b, W_SIGNAL, SIGTERM);
}

static void bad_unknown_type(struct fst_buf *b)
{
	frame_int(b, 7, 0);
}

static void bad_type_zero(struct fst_buf *b)
{
	frame_int(b, 0, 0);
}

static void bad_type_started(struct fst_buf *b)
{
	frame_int(b, W_STARTED, 1);
}

static void bad_nul_in_arg(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	fst_buf_u32(b, 2);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, 1);
	fst_buf_put(b, "/", 1);
	fst_buf_str(b, "@exit");
	fst_buf_u32(b, 3);
	fst_buf_put(b, "a\0b", 3);
	frame_end(b);
}

static void bad_nul_in_env(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	fst_buf_u32(b, 1);
	fst_buf_u32(b, 1);
	fst_buf_u32(b, 1);
	fst_buf_put(b, "/", 1);
	fst_buf_str(b, "@exit");
	fst_buf_u32(b, 4);
	fst_buf_put(b, "A=\0b", 4);
	frame_end(b);
}

static void bad_nul_in_cwd(struct fst_buf *b)
{
	char *const argv[] = { "@exit", NULL };

	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	fst_buf_u32(b, 1);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, 4);
	fst_buf_put(b, "/a\0b", 4);
	fst_buf_str(b, argv[0]);
	frame_end(b);
}

static void bad_trailing(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0, -1, ok_argv, no_env, "/");
	fst_buf_put(b, "junk", 4);
	frame_end(b);
}

/* Header counts over the limits, nothing behind them. */
static void bad_argc_huge(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	fst_buf_u32(b, PROCWAIT_FORKSERVER_MAX_ARGS + 1);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, 1);
	fst_buf_put(b, "/", 1);
	frame_end(b);
}

static void bad_envc_huge(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	fst_buf_u32(b, 1);
	fst_buf_u32(b, 0xffffffffu);
	fst_buf_u32(b, 1);
	fst_buf_put(b, "/", 1);
	fst_buf_str(b, "@exit");
	frame_end(b);
}

static void bad_argc_zero(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0, -1, no_env, no_env, "/");
	frame_end(b);
}

static void bad_flags(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0x80, -1, ok_argv, no_env, "/");
	frame_end(b);
}

static void bad_timeout(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0, -5, ok_argv, no_env, "/");
	frame_end(b);
}

static void bad_cwd_relative(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0, -1, ok_argv, no_env, "tmp");
	frame_end(b);
}

static void bad_cwd_empty(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	request_body(b, 0, -1, ok_argv, no_env, "");
	frame_end(b);
}

static void bad_cwd_len(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	fst_buf_u32(b, 1);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, 100000);   /* past the payload and past the limit */
	fst_buf_put(b, "/", 1);
	frame_end(b);
}

static void bad_string_len(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	fst_buf_u32(b, 1);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, 1);
	fst_buf_put(b, "/", 1);
	fst_buf_u32(b, 0xfffffffeu);
	fst_buf_put(b, "@exit", 5);
	frame_end(b);
}

static void bad_truncated_body(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_REQUEST);
	fst_buf_u32(b, 0);
	fst_buf_u32(b, (uint32_t)-1);
	frame_end(b);
}

static void bad_signo_high(struct fst_buf *b)
{
	frame_int(b, W_SIGNAL, 65);
}

static void bad_signo_negative(struct fst_buf *b)
{
	frame_int(b, W_SIGNAL, -1);
}

static void bad_signal_short(struct fst_buf *b)
{
	frame_begin(b, W_MAGIC, W_VERSION, W_SIGNAL);
	fst_buf_put(b, "\x0f\0\0", 3);
	frame_end(b);
}

struct bad_case {
	const char *name;
	void (*build)(struct fst_buf *b);
	int nfds;               /* descriptors sent with the frame */
	int running;            /* sent after a valid REQUEST has started */
	int err1, err2;         /* acceptable errors in the reply */
};

static const struct bad_case bad_cases[] = {
	{ "bad magic", bad_magic, 3, 0, EPROTO, 0 },
	{ "unknown version", bad_version, 3, 0, EPROTONOSUPPORT, 0 },
	{ "version 0", bad_version0, 0, 0, EPROTONOSUPPORT, 0 },
	{ "length field past the frame", bad_length_long, 3, 0, EPROTO, 0 },
	{ "length field short of the frame", bad_length_short, 3, 0, EPROTO, 0 },
	{ "truncated header (5 bytes)", bad_truncated_header, 0, 0, EPROTO, 0 },
	{ "frame one byte over the limit", bad_oversize, 3, 0, EMSGSIZE, 0 },
	{ "frame twice the limit", bad_oversize_double, 0, 0, EMSGSIZE, 0 },
	{ "REQUEST without descriptors", good_request, 0, 0, EPROTO, 0 },
	{ "REQUEST with one descriptor", good_request, 1, 0, EPROTO, 0 },
	{ "REQUEST with four descriptors", good_request, 4, 0, EPROTO, EMSGSIZE },
	{ "REQUEST with twelve descriptors", good_request, 12, 0, EPROTO, EMSGSIZE },
	{ "SIGNAL before REQUEST", signal_frame, 0, 0, EPROTO, 0 },
	{ "unknown type", bad_unknown_type, 0, 0, EPROTO, 0 },
	{ "type 0", bad_type_zero, 0, 0, EPROTO, 0 },
	{ "a server's type from a client", bad_type_started, 0, 0, EPROTO, 0 },
	{ "NUL inside an argument", bad_nul_in_arg, 3, 0, EPROTO, 0 },
	{ "NUL inside an environment entry", bad_nul_in_env, 3, 0, EPROTO, 0 },
	{ "NUL inside the directory", bad_nul_in_cwd, 3, 0, EPROTO, 0 },
	{ "trailing garbage", bad_trailing, 3, 0, EPROTO, 0 },
	{ "argc over the limit", bad_argc_huge, 3, 0, E2BIG, 0 },
	{ "envc over the limit", bad_envc_huge, 3, 0, E2BIG, 0 },
	{ "empty argv", bad_argc_zero, 3, 0, EPROTO, 0 },
	{ "unknown request flag", bad_flags, 3, 0, EPROTO, 0 },
	{ "timeout below -1", bad_timeout, 3, 0, EPROTO, 0 },
	{ "relative directory", bad_cwd_relative, 3, 0, EPROTO, 0 },
	{ "empty directory", bad_cwd_empty, 3, 0, EPROTO, 0 },
	{ "directory length past the frame", bad_cwd_len, 3, 0, EPROTO, 0 },
	{ "string length past the frame", bad_string_len, 3, 0, EPROTO, 0 },
	{ "truncated request body", bad_truncated_body, 3, 0, EPROTO, 0 },
	{ "SIGNAL carrying a descriptor", signal_frame, 1, 1, EPROTO, 0 },
	{ "a second REQUEST", good_request, 3, 1, EPROTO, 0 },
	{ "SIGNAL number 65", bad_signo_high, 0, 1, EPROTO, 0 },
	{ "SIGNAL number -1", bad_signo_negative, 0, 1, EPROTO, 0 },
	{ "SIGNAL payload of 3 bytes", bad_signal_short, 0, 1, EPROTO, 0 },
};

START_TEST(test_malformed)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct fst_buf f = { NULL, 0, 0 };
	struct reply r;
	int fds[16], i, s, baseline, sndbuf = 4 << 20, now = -1, rc, stdin_pipe[2] = { -1, -1 };
	pid_t child = 0;
	long long end;

	baseline = settled_fds(S.pid);
	ck_assert_int_gt(baseline, 0);
	s = raw_connect(S.path);
	ck_assert_msg(s >= 0, "connect: %s", strerror(-s));
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (bc->running) {
		char *const argv[] = { "@wait-stdin", NULL };
		int three[3];

		ck_assert_int_eq(pipe2(stdin_pipe, O_CLOEXEC), 0);
		three[0] = stdin_pipe[0];
		three[1] = three[2] = fst_devnull();
		frame_request(&f, argv, no_env, "/");
		ck_assert_int_eq(raw_send(s, f.p, f.n, three, 3), 0);
		close(stdin_pipe[0]);
		fst_buf_free(&f);
		raw_reply(s, &r, bc->name);
		ck_assert_msg(r.type == W_STARTED && r.pid > 0, "%s: no STARTED for a valid request",
		              bc->name);
		child = r.pid;
	}
	for (i = 0; i < bc->nfds; i++)
		fds[i] = fst_devnull();
	bc->build(&f);
	rc = raw_send(s, f.p, f.n, fds, bc->nfds);
	ck_assert_msg(rc == 0, "%s: sending %zu bytes: %s", bc->name, f.n, strerror(-rc));
	fst_buf_free(&f);
	raw_reply(s, &r, bc->name);
	ck_assert_msg(r.type == W_ERROR, "%s: reply type 0x%x, not ERROR", bc->name, r.type);
	ck_assert_msg(r.err == bc->err1 || (bc->err2 && r.err == bc->err2),
	              "%s: error %d (%s), expected %s", bc->name, r.err, strerror(r.err),
	              strerror(bc->err1));
	ck_assert_msg(r.msg[0] != '\0', "%s: an error reply without a message", bc->name);
	raw_expect_eof(s, bc->name);
	close(s);
	if (child > 0) {
		/* The connection is gone: its child is stopped. */
		ck_assert_msg(fst_gone_within(child, 20000), "%s: the child of a dropped connection "
		              "still runs", bc->name);
		close(stdin_pipe[1]);
	}
	/* No descriptor stays behind in the server. */
	end = pwt_now_ms() + 10000;
	while (pwt_now_ms() < end && (now = count_fds(S.pid)) > baseline)
		pwt_nap_ms(10);
	ck_assert_msg(now == baseline, "%s: the server holds %d descriptors, %d before",
	              bc->name, now, baseline);
	assert_alive(bc->name);
}
END_TEST

/* Wait until the server holds no more than baseline descriptors (10 s). */
static void fds_back_to(int baseline, const char *what)
{
	long long end = pwt_now_ms() + 10000;
	int now = -1;

	while (pwt_now_ms() < end && (now = count_fds(S.pid)) > baseline)
		pwt_nap_ms(10);
	ck_assert_msg(now == baseline, "%s: the server holds %d descriptors, %d before",
	              what, now, baseline);
}

/* Send a zero-length message (with nfds descriptors) on s: ERROR EPROTO,
 * then the server closes the connection. */
static void empty_frame_refused(int s, int nfds, const char *what)
{
	int fds[3] = { fst_devnull(), fst_devnull(), fst_devnull() };
	struct reply r;

	ck_assert_int_eq(raw_send(s, "", 0, fds, nfds), 0);
	raw_reply(s, &r, what);
	ck_assert_msg(r.type == W_ERROR && r.err == EPROTO,
	              "%s: reply type 0x%x error %d (%s), not ERROR EPROTO", what, r.type,
	              r.err, strerror(r.err));
	ck_assert_msg(strstr(r.msg, "empty") != NULL, "%s: message \"%s\"", what, r.msg);
	raw_expect_eof(s, what);
}

/* recv() gives 0 bytes for an empty SEQPACKET message as for a hang-up: the
 * server tells the two apart (the connection is not hung up) and answers
 * EPROTO "empty frame". On a connection whose child runs, the empty frame
 * fails the connection like any malformed frame: observed, ERROR EPROTO,
 * then EOF without an EXITED frame (the connection is dropped at once),
 * and the child is stopped (stop signal to its group; it is gone while its
 * stdin is still open, so it did not end by itself) - not left running,
 * and the server does not hang on it. */
START_TEST(test_empty_frame)
{
	char *const argv[] = { "@wait-stdin", NULL };
	struct fst_buf f = { NULL, 0, 0 };
	struct reply r;
	int s, baseline, three[3], p[2];
	pid_t child;

	baseline = settled_fds(S.pid);
	ck_assert_int_gt(baseline, 0);
	/* A fresh connection. */
	s = raw_connect(S.path);
	ck_assert_msg(s >= 0, "connect: %s", strerror(-s));
	empty_frame_refused(s, 0, "an empty frame");
	close(s);
	fds_back_to(baseline, "an empty frame");
	/* With three descriptors attached: none stays in the server. */
	s = raw_connect(S.path);
	ck_assert_int_ge(s, 0);
	empty_frame_refused(s, 3, "an empty frame with 3 descriptors");
	close(s);
	fds_back_to(baseline, "an empty frame with 3 descriptors");
	/* From a client whose child runs. */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	s = raw_connect(S.path);
	ck_assert_int_ge(s, 0);
	three[0] = p[0];
	three[1] = three[2] = fst_devnull();
	frame_request(&f, argv, no_env, "/");
	ck_assert_int_eq(raw_send(s, f.p, f.n, three, 3), 0);
	fst_buf_free(&f);
	close(p[0]);
	raw_reply(s, &r, "the running request");
	ck_assert_msg(r.type == W_STARTED && r.pid > 0, "no STARTED: reply 0x%x", r.type);
	child = r.pid;
	empty_frame_refused(s, 0, "an empty frame while the child runs");
	close(s);
	ck_assert_msg(fst_gone_within(child, 20000),
	              "the child of a connection failed by an empty frame still runs");
	close(p[1]);
	fds_back_to(baseline, "an empty frame while the child runs");
	assert_alive("after empty frames");
}
END_TEST

/* ---- signals ----------------------------------------------------------------------------------- */

START_TEST(test_signal_forward)
{
	char *const argv[] = { "sh", "-c",
	                       "trap 'exit 42' USR1; echo ready; while :; do sleep 0.1; done", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	struct fst_buf out = { NULL, 0, 0 };
	int p[2], pid, rc;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.envp = environ;
	rq.fds[1] = p[1];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[1]);
	ck_assert_msg(pid > 0, "start: %s", procwait_strerror(pid));
	ck_assert_msg(fst_read_until(p[0], &out, "ready\n", 20000), "the shell did not get ready");
	ck_assert_int_eq(procwait_client_signal(c, 0), -EINVAL);   /* no probe: 1..NSIG-1 */
	ck_assert_int_eq(procwait_client_signal(c, SIGUSR1), 0);
	rc = procwait_client_wait(c, 30000, &res);
	ck_assert_msg(rc == 1, "wait: %d", rc);
	ck_assert_msg(res.status.kind == PROCWAIT_STATUS_EXITED && res.status.code == 42,
	              "the trap did not run: kind %d code %d signo %d", res.status.kind,
	              res.status.code, res.status.signo);
	ck_assert_int_eq(procwait_client_signal(c, SIGUSR1), -ESRCH);
	procwait_client_close(c);
	close(p[0]);
	fst_buf_free(&out);
}
END_TEST

START_TEST(test_signal_kill)
{
	char *const argv[] = { "@wait-stdin", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	int p[2], pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[0]);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(procwait_client_wait(c, 0, &res), 0);
	ck_assert_int_eq(procwait_client_signal(c, SIGKILL), 0);
	ck_assert_int_eq(procwait_client_wait(c, 30000, &res), 1);
	ck_assert_msg(res.status.kind == PROCWAIT_STATUS_SIGNALED && res.status.signo == SIGKILL,
	              "kind %d code %d signo %d", res.status.kind, res.status.code,
	              res.status.signo);
	ck_assert_int_eq(res.timed_out, 0);
	ck_assert_int_eq(procwait_client_wait(c, 0, &res), -EALREADY);
	procwait_client_close(c);
	close(p[1]);
}
END_TEST

START_TEST(test_client_gone)
{
	char *const argv[] = { "@wait-stdin", NULL };
	procwait_client_request rq;
	procwait_client *c;
	int p[2], pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[0]);
	ck_assert_int_gt(pid, 0);
	procwait_client_close(c);
	ck_assert_msg(fst_gone_within(pid, 20000), "the child outlives its client");
	close(p[1]);
	assert_alive("after a client went away");
}
END_TEST

START_TEST(test_client_gone_group)
{
	/* The child's whole process group goes with its client: a background
	 * grandchild too. */
	char *const argv[] = { "sh", "-c", "sleep 1000 & echo $!; wait", NULL };
	procwait_client_request rq;
	procwait_client *c;
	struct fst_buf out = { NULL, 0, 0 };
	int p[2], pid, grand;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.envp = environ;
	rq.fds[1] = p[1];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[1]);
	ck_assert_int_gt(pid, 0);
	ck_assert_msg(fst_read_until(p[0], &out, "\n", 20000), "no pid from the shell");
	fst_buf_put(&out, "", 1);
	grand = atoi((char *)out.p);
	ck_assert_int_gt(grand, 0);
	procwait_client_close(c);
	ck_assert_msg(fst_gone_within(pid, 20000), "the child outlives its client");
	ck_assert_msg(fst_gone_within(grand, 20000), "the child's background process outlives the client");
	close(p[0]);
	fst_buf_free(&out);
}
END_TEST

START_TEST(test_server_killed)
{
	char *const argv[] = { "@wait-stdin", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	int p[2], pid, st, rc;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[0]);
	ck_assert_int_gt(pid, 0);
	kill(S.pid, SIGKILL);
	st = pwt_reap(S.pid);
	S.pid = 0;
	ck_assert(WIFSIGNALED(st));
	rc = procwait_client_wait(c, 30000, &res);
	ck_assert_msg(rc == -ECONNRESET, "wait after the server died: %d", rc);
	procwait_client_close(c);
	ck_assert_msg(fst_gone_within(pid, 20000), "a child outlives its killed server");
	close(p[1]);
	/* The dead server's socket file is stale: a new server replaces it. */
	ck_assert(fst_exists(S.path));
	srv_start_default();
	assert_alive("a new server on a stale socket");
}
END_TEST

/* procwait_client_signal() takes 1..NSIG-1 and never blocks: to a server
 * that does not read (SIGSTOPped), the frames fill the socket and the call
 * returns -EAGAIN instead of waiting. SIGWINCH: ignored by the child. */
START_TEST(test_signal_never_blocks)
{
	char *const argv[] = { "@wait-stdin", "3", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	long long t0, took, end;
	int p[2], pid, rc = 0, i, sent;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[0]);
	ck_assert_msg(pid > 0, "start: %s", procwait_strerror(pid));
	ck_assert_int_eq(procwait_client_signal(c, 0), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(c, NSIG), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(c, -SIGTERM), -EINVAL);
	stop_process(S.pid);
	t0 = pwt_now_ms();
	for (i = 0; i < 100000; i++) {
		rc = procwait_client_signal(c, SIGWINCH);
		if (rc != 0)
			break;
	}
	took = pwt_now_ms() - t0;
	sent = i;
	/* A second call on the full socket: again at once. */
	if (rc == -EAGAIN)
		rc = procwait_client_signal(c, SIGWINCH);
	took = pwt_now_ms() - t0;
	kill(S.pid, SIGCONT);
	ck_assert_msg(rc == -EAGAIN, "signal() to a stopped server: %d (%s) after %d frames, "
	              "not -EAGAIN", rc, procwait_strerror(rc), sent);
	ck_assert_msg(sent > 0, "not one signal frame fit the socket");
	ck_assert_msg(took < 5000, "signal() to a stopped server took %lld ms", took);
	/* The server reads again: the frames go through, the child runs on. */
	end = pwt_now_ms() + 20000;
	while ((rc = procwait_client_signal(c, SIGWINCH)) == -EAGAIN && pwt_now_ms() < end)
		pwt_nap_ms(10);
	ck_assert_msg(rc == 0, "signal() once the server runs again: %d", rc);
	ck_assert_int_eq(procwait_client_wait(c, 0, &res), 0);
	close(p[1]);
	rc = procwait_client_wait(c, 30000, &res);
	ck_assert_msg(rc == 1, "wait: %d", rc);
	ck_assert_msg(res.status.kind == PROCWAIT_STATUS_EXITED && res.status.code == 3,
	              "the child: kind %d code %d signo %d", res.status.kind, res.status.code,
	              res.status.signo);
	ck_assert_int_eq(procwait_client_signal(c, SIGWINCH), -ESRCH);
	procwait_client_close(c);
	assert_alive("after a stop with the socket full");
}
END_TEST

/* ---- the child's state ----------------------------------------------------------------------------- */

static void run_report(char *line, size_t size)
{
	char *const argv[] = { "@report", NULL };
	procwait_client_request rq;
	struct fst_buf out = { NULL, 0, 0 };
	struct fst_run r;
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.fds[1] = p[1];
	run_req(&rq, &r);
	close(p[1]);
	ck_assert_int_eq(fst_read_all(p[0], &out, 30000), 0);
	close(p[0]);
	assert_exit(&r, 0, "@report");
	fst_buf_put(&out, "", 1);
	snprintf(line, size, "%s", (char *)out.p);
	fst_buf_free(&out);
}

START_TEST(test_child_state)
{
	char line[512], want[512];

	run_report(line, sizeof(line));
	snprintf(want, sizeof(want),
	         "fds=0,1,2 blocked=0 ignored=0 caught=0 sid=self pgrp=self ppid=%d\n", (int)S.pid);
	ck_assert_msg(strcmp(line, want) == 0, "the child starts as \"%s\", expected \"%s\"",
	              line, want);
}
END_TEST

START_TEST(test_child_state_stdio_closed)
{
	/* A server whose own 0, 1, 2 are closed receives the client's
	 * descriptors on low numbers: they must still end up right. */
	struct srv_cfg cfg = SRV_CFG_INIT;
	char line[512], want[512];

	cfg.close_stdio = 1;
	srv_start(&cfg);
	run_report(line, sizeof(line));
	snprintf(want, sizeof(want),
	         "fds=0,1,2 blocked=0 ignored=0 caught=0 sid=self pgrp=self ppid=%d\n", (int)S.pid);
	ck_assert_msg(strcmp(line, want) == 0, "the child starts as \"%s\", expected \"%s\"",
	              line, want);
}
END_TEST

START_TEST(test_keep_fds)
{
	char num[16];
	char *const argv[] = { "@fdopen", num, NULL };
	struct srv_cfg cfg = SRV_CFG_INIT;
	struct fst_run r;

	snprintf(num, sizeof(num), "%d", MARK_FD);
	run_argv_req(argv, &r);
	assert_exit(&r, 1, "a server descriptor in a child (default: closed)");
	srv_stop();
	cfg.flags = PROCWAIT_FORKSERVER_KEEP_FDS;
	srv_start(&cfg);
	run_argv_req(argv, &r);
	assert_exit(&r, 0, "a server descriptor in a child with KEEP_FDS");
}
END_TEST

/* ---- the uid check --------------------------------------------------------------------------------- */

/* As nobody: the client API refuses the root-owned directory; a raw
 * request gets ERROR EPERM. Exit codes say which step failed. */
static const char *const nobody_steps[] = {
	"ok", "setgroups/setgid/setuid", "procwait_client_connect did not refuse",
	"raw connect", "send", "no ERROR EPERM reply", "connection not closed",
};

static void as_nobody(void)
{
	procwait_client *c;
	struct fst_buf f = { NULL, 0, 0 };
	char *const argv[] = { "@exit", "0", NULL };
	uint8_t b[1024];
	struct reply r;
	ssize_t n;
	int s, rc, three[3] = { 0, 1, 2 };

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		_exit(1);
	rc = procwait_client_connect(S.path, &c);
	if (rc == 0)
		procwait_client_close(c);
	if (rc != -EPERM && rc != -EACCES)
		_exit(2);
	s = raw_connect(S.path);
	if (s < 0)
		_exit(3);
	frame_request(&f, argv, no_env, "/");
	rc = raw_send(s, f.p, f.n, three, 3);
	if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET)
		_exit(4);
	n = raw_recv(s, b, sizeof(b), 20000);
	if (n <= 0 || parse_reply(b, (size_t)n, &r) < 0 || r.type != W_ERROR || r.err != EPERM)
		_exit(5);
	n = raw_recv(s, b, sizeof(b), 20000);
	if (n != 0 && n != -ECONNRESET)
		_exit(6);
	_exit(0);
}

START_TEST(test_uid_refused)
{
	int st, code;
	pid_t pid;

	if (geteuid() != 0) {
		printf("test_uid_refused: needs root to become another user: skipped\n");
		return;
	}
	ck_assert_int_eq(chmod(S.dir, 0711), 0);
	ck_assert_int_eq(chmod(S.path, 0666), 0);
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		as_nobody();
	st = pwt_reap(pid);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	ck_assert_msg(code == 0, "as nobody: %s (status 0x%x)",
	              code > 0 && code < 7 ? nobody_steps[code] : "died", (unsigned)st);
	assert_alive("after refusing a user");
}
END_TEST

START_TEST(test_uid_refused_client_api)
{
	/* A server whose allow list leaves out its own user: the client
	 * passes the directory check and must read the refusal, -EPERM,
	 * not a reset connection. */
	static uid_t only_other[1];
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const argv[] = { "@exit", "0", NULL };
	struct fst_run r;
	int k;

	only_other[0] = geteuid() == NOBODY ? NOBODY - 1 : NOBODY;
	cfg.uids = only_other;
	cfg.nuids = 1;
	srv_start(&cfg);
	/* The request is sent before the server accepts: it is unread when
	 * the server refuses and closes. */
	{
		struct creport rep;
		pid_t cl;
		int rfd;

		ck_assert_int_eq(kill(S.pid, SIGSTOP), 0);
		cl = client_proc(argv, -1, &rfd);
		pwt_nap_ms(300);   /* time to send; not asserted */
		ck_assert_int_eq(kill(S.pid, SIGCONT), 0);
		client_report(cl, rfd, &rep);
		ck_assert_msg(rep.start_rc == -EPERM,
		              "a refused user whose request was queued gets %d (%s), not -EPERM",
		              rep.start_rc, procwait_strerror(rep.start_rc));
		ck_assert_msg(strstr(rep.msg, "uid") != NULL, "message \"%s\"", rep.msg);
	}
	for (k = 0; k < 20; k++) {
		run_argv_req(argv, &r);
		ck_assert_msg(r.start_rc == -EPERM, "try %d: a refused user gets %d (%s), not -EPERM",
		              k, r.start_rc, procwait_strerror(r.start_rc));
		ck_assert_msg(strstr(r.msg, "uid") != NULL, "try %d: message \"%s\"", k, r.msg);
	}
}
END_TEST

START_TEST(test_uid_allowed)
{
	/* nobody on the allow list gets served (the child runs as the
	 * server's user). */
	static const uid_t uids[] = { 0, NOBODY };
	struct srv_cfg cfg = SRV_CFG_INIT;
	int st;
	pid_t pid;

	if (geteuid() != 0) {
		printf("test_uid_allowed: needs root to become another user: skipped\n");
		return;
	}
	cfg.uids = uids;
	cfg.nuids = 2;
	srv_start(&cfg);
	ck_assert_int_eq(chmod(S.dir, 0711), 0);
	ck_assert_int_eq(chmod(S.path, 0666), 0);
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct fst_buf f = { NULL, 0, 0 };
		char *const argv[] = { "@exit", "9", NULL };
		uint8_t b[1024];
		struct reply r;
		ssize_t n;
		int s, three[3];

		three[0] = three[1] = three[2] = fst_devnull();
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(1);
		s = raw_connect(S.path);
		if (s < 0)
			_exit(2);
		frame_request(&f, argv, no_env, "/");
		if (raw_send(s, f.p, f.n, three, 3) < 0)
			_exit(3);
		n = raw_recv(s, b, sizeof(b), 20000);
		if (n <= 0 || parse_reply(b, (size_t)n, &r) < 0 || r.type != W_STARTED)
			_exit(4);
		n = raw_recv(s, b, sizeof(b), 20000);
		if (n <= 0 || parse_reply(b, (size_t)n, &r) < 0 || r.type != W_EXITED ||
		    r.kind != PROCWAIT_STATUS_EXITED || r.code != 9)
			_exit(5);
		_exit(0);
	}
	st = pwt_reap(pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "an allowed user is not served (step %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
END_TEST

/* ---- socket paths ---------------------------------------------------------------------------------- */

static void set_xdg(const char *sub, char *out, size_t size)
{
	env_save();
	snprintf(out, size, "%s/%s", S.dir, sub);
	ck_assert_int_eq(mkdir(out, 0700), 0);
	setenv("XDG_RUNTIME_DIR", out, 1);
}

START_TEST(test_path_xdg)
{
	char xdg[PATH_MAX], want[PATH_MAX + 64], buf[108];
	struct stat st;
	int n;

	set_xdg("xdg", xdg, sizeof(xdg));
	n = procwait_forkserver_socket_path(NULL, 0, buf, sizeof(buf));
	ck_assert_msg(n == -ENOENT, "missing directory, create 0: %d", n);
	n = procwait_forkserver_socket_path(NULL, 1, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s/procwait/default.sock", xdg);
	ck_assert_msg(n == (int)strlen(want) && strcmp(buf, want) == 0,
	              "default path %d \"%s\", expected \"%s\"", n, n > 0 ? buf : "", want);
	snprintf(want, sizeof(want), "%s/procwait", xdg);
	ck_assert_int_eq(lstat(want, &st), 0);
	ck_assert_msg(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	              "created with mode %o", (unsigned)(st.st_mode & 0777));
	n = procwait_forkserver_socket_path("my-server_1.x", 0, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s/procwait/my-server_1.x.sock", xdg);
	ck_assert_msg(n > 0 && strcmp(buf, want) == 0, "named path \"%s\"", n > 0 ? buf : "");
	/* The buffer: exactly enough, one byte short. */
	ck_assert_int_eq(procwait_forkserver_socket_path("my-server_1.x", 0, buf,
	                                                 strlen(want) + 1), (int)strlen(want));
	ck_assert_int_eq(procwait_forkserver_socket_path("my-server_1.x", 0, buf, strlen(want)),
	                 -ERANGE);
	/* A relative XDG_RUNTIME_DIR is ignored. */
	setenv("XDG_RUNTIME_DIR", "relative/run", 1);
	setenv("TMPDIR", xdg, 1);
	n = procwait_forkserver_socket_path("n", 1, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s/procwait-%lu/n.sock", xdg, (unsigned long)geteuid());
	ck_assert_msg(n > 0 && strcmp(buf, want) == 0, "relative XDG: %d \"%s\"", n,
	              n > 0 ? buf : "");
}
END_TEST

START_TEST(test_path_tmpdir)
{
	char t[PATH_MAX], want[PATH_MAX + 64], buf[108];
	struct stat st;
	int n;

	env_save();
	unsetenv("XDG_RUNTIME_DIR");
	snprintf(t, sizeof(t), "%s/t", S.dir);
	ck_assert_int_eq(mkdir(t, 0755), 0);
	setenv("TMPDIR", t, 1);
	n = procwait_forkserver_socket_path("srv", 1, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s/procwait-%lu/srv.sock", t, (unsigned long)geteuid());
	ck_assert_msg(n == (int)strlen(want) && strcmp(buf, want) == 0,
	              "fallback path %d \"%s\", expected \"%s\"", n, n > 0 ? buf : "", want);
	snprintf(want, sizeof(want), "%s/procwait-%lu", t, (unsigned long)geteuid());
	ck_assert_int_eq(lstat(want, &st), 0);
	ck_assert_msg(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "mode %o",
	              (unsigned)(st.st_mode & 0777));
	/* No usable TMPDIR: /tmp. */
	setenv("TMPDIR", "not/absolute", 1);
	n = procwait_forkserver_socket_path("srv", 0, buf, sizeof(buf));
	snprintf(want, sizeof(want), "/tmp/procwait-%lu/srv.sock", (unsigned long)geteuid());
	if (n > 0)
		ck_assert_str_eq(buf, want);
	else
		ck_assert_msg(n == -ENOENT || n == -EPERM || n == -ENOTDIR,
		              "fallback to /tmp: %d", n);
}
END_TEST

static const char *const bad_names[] = {
	"", ".x", "a/b", "..", "sp ace", "nl\n", "\xff",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* 65 */
};

START_TEST(test_path_bad_names)
{
	char xdg[PATH_MAX], buf[108];
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs = (procwait_forkserver *)&o;
	size_t i;

	set_xdg("xdg", xdg, sizeof(xdg));
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		int rc = procwait_forkserver_socket_path(bad_names[i], 1, buf, sizeof(buf));

		ck_assert_msg(rc == -EINVAL, "name \"%s\": %d, not -EINVAL", bad_names[i], rc);
		o.name = bad_names[i];
		rc = procwait_forkserver_new(&o, &fs);
		ck_assert_msg(rc == -EINVAL && fs == NULL, "new() with name \"%s\": %d",
		              bad_names[i], rc);
		fs = (procwait_forkserver *)&o;
	}
	/* 64 characters is the longest valid name. */
	{
		char name[PROCWAIT_FORKSERVER_MAX_NAME + 1];
		int rc;

		memset(name, 'n', PROCWAIT_FORKSERVER_MAX_NAME);
		name[PROCWAIT_FORKSERVER_MAX_NAME] = '\0';
		rc = procwait_forkserver_socket_path(name, 1, buf, sizeof(buf));
		ck_assert_msg(rc > 0, "a name of 64 characters: %d", rc);
	}
}
END_TEST

START_TEST(test_path_dir_checks)
{
	char xdg[PATH_MAX], dir[PATH_MAX + 16], target[PATH_MAX + 16], sock[PATH_MAX + 32];
	char buf[108];
	procwait_client *c = NULL;
	int rc;

	set_xdg("xdg", xdg, sizeof(xdg));
	snprintf(dir, sizeof(dir), "%s/procwait", xdg);
	snprintf(sock, sizeof(sock), "%s/x.sock", dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_gt(procwait_forkserver_socket_path(NULL, 0, buf, sizeof(buf)), 0);

	ck_assert_int_eq(chmod(dir, 0770), 0);
	rc = procwait_forkserver_socket_path(NULL, 1, buf, sizeof(buf));
	ck_assert_msg(rc == -EPERM, "group-writable directory: %d, not -EPERM", rc);
	rc = procwait_client_connect(sock, &c);
	ck_assert_msg(rc == -EPERM, "connect in a group-writable directory: %d", rc);
	ck_assert_int_eq(chmod(dir, 0702), 0);
	rc = procwait_forkserver_socket_path(NULL, 1, buf, sizeof(buf));
	ck_assert_msg(rc == -EPERM, "world-writable directory: %d, not -EPERM", rc);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_gt(procwait_forkserver_socket_path(NULL, 1, buf, sizeof(buf)), 0);

	if (geteuid() == 0) {
		ck_assert_int_eq(chown(dir, NOBODY, NOBODY), 0);
		ck_assert_int_eq(chmod(dir, 0700), 0);
		rc = procwait_forkserver_socket_path(NULL, 1, buf, sizeof(buf));
		ck_assert_msg(rc == -EPERM, "directory of another user: %d, not -EPERM", rc);
		{
			procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
			procwait_forkserver *fs;

			o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
			o.socket_path = sock;
			rc = procwait_forkserver_new(&o, &fs);
			ck_assert_msg(rc == -EPERM, "new() in another user's directory: %d", rc);
		}
		ck_assert_int_eq(chown(dir, 0, 0), 0);
	} else {
		printf("test_path_dir_checks: not root, the other-owner case is skipped\n");
	}

	/* A symbolic link (to a good directory) in place of the directory. */
	ck_assert_int_eq(rmdir(dir), 0);
	snprintf(target, sizeof(target), "%s/real", xdg);
	ck_assert_int_eq(mkdir(target, 0700), 0);
	ck_assert_int_eq(symlink(target, dir), 0);
	rc = procwait_forkserver_socket_path(NULL, 1, buf, sizeof(buf));
	ck_assert_msg(rc == -ENOTDIR, "a symbolic link as the directory: %d, not -ENOTDIR", rc);
	rc = procwait_forkserver_socket_path(NULL, 0, buf, sizeof(buf));
	ck_assert_msg(rc == -ENOTDIR, "a symbolic link, create 0: %d", rc);
	ck_assert_int_eq(unlink(dir), 0);
	/* A regular file. */
	rc = open(dir, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(rc, 0);
	close(rc);
	rc = procwait_forkserver_socket_path(NULL, 1, buf, sizeof(buf));
	ck_assert_msg(rc == -ENOTDIR, "a file as the directory: %d, not -ENOTDIR", rc);
}
END_TEST

START_TEST(test_path_too_long)
{
	char base[200], buf[200], longpath[PATH_MAX];
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	procwait_client *c;
	int rc;

	env_save();
	/* base + "/procwait/default.sock" (22 bytes) must stay below 108:
	 * a base of 85 bytes is the longest that fits. */
	base[0] = '/';
	memset(base + 1, 'a', 84);
	base[85] = '\0';
	setenv("XDG_RUNTIME_DIR", base, 1);
	rc = procwait_forkserver_socket_path(NULL, 0, buf, sizeof(buf));
	ck_assert_msg(rc == -ENOENT, "a path of 107 bytes: %d (expected the missing directory)",
	              rc);
	base[85] = 'a';
	base[86] = '\0';
	setenv("XDG_RUNTIME_DIR", base, 1);
	rc = procwait_forkserver_socket_path(NULL, 0, buf, sizeof(buf));
	ck_assert_msg(rc == -ENAMETOOLONG, "a path of 108 bytes: %d, not -ENAMETOOLONG", rc);
	o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == -ENAMETOOLONG, "new() on a default path too long: %d", rc);

	snprintf(longpath, sizeof(longpath), "%s/%0120d.sock", S.dir, 0);
	o.socket_path = longpath;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == -ENAMETOOLONG, "new() on a socket path too long: %d", rc);
	rc = procwait_client_connect(longpath, &c);
	ck_assert_msg(rc == -ENAMETOOLONG, "connect to a socket path too long: %d", rc);
}
END_TEST

START_TEST(test_path_new_named)
{
	char xdg[PATH_MAX], want[PATH_MAX + 64], buf[108];
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	procwait_client *c;
	int rc;

	set_xdg("xdg", xdg, sizeof(xdg));
	o.name = "named";
	o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == 0, "new() by name: %s", procwait_strerror(rc));
	snprintf(want, sizeof(want), "%s/procwait/named.sock", xdg);
	ck_assert_str_eq(procwait_forkserver_path(fs), want);
	ck_assert_int_gt(procwait_forkserver_socket_path("named", 0, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
	{
		struct stat st;
		ck_assert_int_eq(lstat(want, &st), 0);
		ck_assert_msg(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
		              "the socket has mode %o", (unsigned)(st.st_mode & 0777));
	}
	rc = procwait_client_connect(want, &c);
	ck_assert_int_eq(rc, 0);
	procwait_client_close(c);
	procwait_forkserver_free(fs);
	ck_assert_msg(!fst_exists(want), "free() left the socket behind");
}
END_TEST

START_TEST(test_path_stale_and_live)
{
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	struct sockaddr_un sa;
	char stale[PATH_MAX], file[PATH_MAX];
	int s, rc;

	/* A stale socket file: nobody listens on it. */
	snprintf(stale, sizeof(stale), "%s/stale.sock", S.dir);
	ck_assert_int_eq(fill_addr(stale, &sa), 0);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	ck_assert(fst_exists(stale));
	o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
	o.socket_path = stale;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == 0, "a stale socket is not replaced: %s", procwait_strerror(rc));
	procwait_forkserver_free(fs);
	ck_assert(!fst_exists(stale));

	/* The live server of the fixture. */
	o.socket_path = S.path;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == -EADDRINUSE, "a live server's path: %d, not -EADDRINUSE", rc);
	ck_assert_msg(fst_exists(S.path), "the failed new() removed the live server's socket");
	assert_alive("after another server tried its path");

	/* Not a socket at all. */
	snprintf(file, sizeof(file), "%s/file.sock", S.dir);
	s = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(s, 0);
	close(s);
	o.socket_path = file;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == -EADDRINUSE, "a regular file at the path: %d", rc);
	ck_assert_msg(fst_exists(file), "a regular file was removed");
}
END_TEST

/* ---- queue and stop ---------------------------------------------------------------------------------- */

/* Wait until the peer has read everything we sent on s. */
static void wait_consumed(int s, const char *what)
{
	long long end = pwt_now_ms() + 20000;
	int q = -1;

	while (pwt_now_ms() < end) {
		if (ioctl(s, SIOCOUTQ, &q) == 0 && q == 0)
			return;
		pwt_nap_ms(5);
	}
	ck_abort_msg("%s: the server does not read the request (%d bytes queued)", what, q);
}

START_TEST(test_queue_bound)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const longer[] = { "@wait-stdin", NULL };
	char *const three_argv[] = { "@exit", "3", NULL };
	char *const quick[] = { "@exit", "0", NULL };
	procwait_client_request rq;
	procwait_client *c1;
	procwait_result res;
	struct fst_buf f = { NULL, 0, 0 };
	struct reply r;
	struct fst_run third;
	int p[2], pid1, s2, three[3];
	uint8_t b[256];

	cfg.max_children = 1;
	cfg.max_queue = 1;
	srv_start(&cfg);
	/* One runs. */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, longer);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c1), 0);
	pid1 = procwait_client_start(c1, &rq);
	close(p[0]);
	ck_assert_int_gt(pid1, 0);
	/* One waits (a raw client, so that the test sees it read). */
	s2 = raw_connect(S.path);
	ck_assert_int_ge(s2, 0);
	three[0] = three[1] = three[2] = fst_devnull();
	frame_request(&f, three_argv, no_env, "/");
	ck_assert_int_eq(raw_send(s2, f.p, f.n, three, 3), 0);
	fst_buf_free(&f);
	wait_consumed(s2, "the second request");
	/* The third is refused. */
	run_argv_req(quick, &third);
	ck_assert_msg(third.start_rc == -EAGAIN, "a request past the queue: %d (%s), not -EAGAIN",
	              third.start_rc, procwait_strerror(third.start_rc));
	ck_assert_msg(third.msg[0] != '\0', "a refusal for a full queue without a message");
	/* The queued one has not started... */
	ck_assert_int_eq(raw_recv(s2, b, sizeof(b), 200), -ETIMEDOUT);
	/* ...and starts once the first ends. */
	close(p[1]);
	ck_assert_int_eq(procwait_client_wait(c1, 30000, &res), 1);
	ck_assert_int_eq(res.status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(res.status.code, 0);
	procwait_client_close(c1);
	raw_reply(s2, &r, "queued request");
	ck_assert_msg(r.type == W_STARTED && r.pid > 0 && r.pid != pid1,
	              "the queued request: reply 0x%x pid %d", r.type, (int)r.pid);
	raw_reply(s2, &r, "queued request");
	ck_assert_msg(r.type == W_EXITED && r.kind == PROCWAIT_STATUS_EXITED && r.code == 3,
	              "the queued request: reply 0x%x kind %d code %d", r.type, (int)r.kind,
	              (int)r.code);
	close(s2);
	assert_alive("after the queue drained");
}
END_TEST

START_TEST(test_no_queue)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const longer[] = { "@wait-stdin", NULL };
	char *const quick[] = { "@exit", "0", NULL };
	procwait_client_request rq;
	procwait_client *c1;
	procwait_result res;
	struct fst_run second;
	int p[2], pid1;

	cfg.max_children = 1;
	cfg.max_queue = 0;
	srv_start(&cfg);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, longer);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c1), 0);
	pid1 = procwait_client_start(c1, &rq);
	close(p[0]);
	ck_assert_int_gt(pid1, 0);
	run_argv_req(quick, &second);
	ck_assert_msg(second.start_rc == -EAGAIN, "max_queue 0, one running: %d", second.start_rc);
	close(p[1]);
	ck_assert_int_eq(procwait_client_wait(c1, 30000, &res), 1);
	procwait_client_close(c1);
	assert_alive("a free slot again");
}
END_TEST

/* Send a request frame on a fresh raw connection. */
static int raw_request(char *const *argv, const int three[3])
{
	struct fst_buf f = { NULL, 0, 0 };
	int s = raw_connect(S.path);

	ck_assert_msg(s >= 0, "connect: %s", strerror(-s));
	frame_request(&f, argv, no_env, "/");
	ck_assert_int_eq(raw_send(s, f.p, f.n, three, 3), 0);
	fst_buf_free(&f);
	return s;
}

static void raw_expect_error(int s, int err, const char *what)
{
	struct reply r;

	raw_reply(s, &r, what);
	ck_assert_msg(r.type == W_ERROR && r.err == err,
	              "%s: reply 0x%x error %d (%s), expected ERROR %s", what, r.type, r.err,
	              strerror(r.err), strerror(err));
	raw_expect_eof(s, what);
}

/* max_queue 0 refuses every request that would have to wait, also when
 * several arrive in one batch of the loop (the server is SIGSTOPped while
 * they are sent, so that one epoll_wait() returns them together). */
START_TEST(test_no_queue_batch)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const longer[] = { "@wait-stdin", NULL };
	char *const quick[] = { "@exit", "6", NULL };
	procwait_client_request rq;
	procwait_client *c1;
	procwait_result res;
	struct reply r;
	int p[2], pid1, s[2], three[3], i, ran = -1;

	cfg.max_children = 1;
	cfg.max_queue = 0;
	srv_start(&cfg);
	three[0] = three[1] = three[2] = fst_devnull();
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, longer);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c1), 0);
	pid1 = procwait_client_start(c1, &rq);
	close(p[0]);
	ck_assert_int_gt(pid1, 0);
	/* The slot is busy: both of a batch are refused. */
	stop_process(S.pid);
	s[0] = raw_request(quick, three);
	s[1] = raw_request(quick, three);
	ck_assert_int_eq(kill(S.pid, SIGCONT), 0);
	raw_expect_error(s[0], EAGAIN, "first of a batch, slot busy, max_queue 0");
	raw_expect_error(s[1], EAGAIN, "second of a batch, slot busy, max_queue 0");
	close(s[0]);
	close(s[1]);
	close(p[1]);
	ck_assert_int_eq(procwait_client_wait(c1, 30000, &res), 1);
	ck_assert_int_eq(res.status.code, 0);
	procwait_client_close(c1);
	/* The slot is free: of a batch of two, one runs, the other (which
	 * would wait behind it) is refused. */
	stop_process(S.pid);
	s[0] = raw_request(quick, three);
	s[1] = raw_request(quick, three);
	ck_assert_int_eq(kill(S.pid, SIGCONT), 0);
	for (i = 0; i < 2; i++) {
		raw_reply(s[i], &r, "a batch of two, slot free");
		if (r.type == W_STARTED) {
			ck_assert_msg(ran < 0, "both requests of a batch ran with max_children 1, "
			              "max_queue 0");
			ran = i;
			raw_reply(s[i], &r, "the request that ran");
			ck_assert_msg(r.type == W_EXITED && r.code == 6, "reply 0x%x code %d",
			              r.type, (int)r.code);
		} else {
			ck_assert_msg(r.type == W_ERROR && r.err == EAGAIN,
			              "a request of a batch: reply 0x%x error %d", r.type, r.err);
		}
		raw_expect_eof(s[i], "a batch of two, slot free");
		close(s[i]);
	}
	ck_assert_msg(ran >= 0, "neither request of a batch ran on a free slot");
	assert_alive("after the batches");
}
END_TEST

/* Connections that never send a request (found by a soak: 288 of them,
 * from one process of the same user, made every real request "server busy:
 * too many connections" for as long as they stayed open). They do not count
 * against the slots or the queue: past max_queue + 32 of them the one
 * waiting longest is closed, and each is closed when request_ms passes. */
START_TEST(test_idle_connections_hold_no_slot)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const quick[] = { "@exit", "7", NULL };
	procwait_client_request rq;
	struct fst_run r;
	struct reply rep;
	enum { IDLE = 300 };
	int idle[IDLE], i, closed = 0;

	cfg.max_children = 2;
	cfg.max_queue = 0;
	cfg.request_ms = 60000;   /* (the time limit is the next test's) */
	srv_start(&cfg);
	for (i = 0; i < IDLE; i++)
		idle[i] = raw_connect(S.path);
	req_init(&rq, quick);
	for (i = 0; i < 3; i++) {
		fst_run_req(S.path, &rq, 20000, &r);
		fst_assert_ran(&r, "a request among 300 idle connections");
		ck_assert_int_eq(r.res.status.code, 7);
	}
	/* The oldest idle ones made room: they were told why, then closed. */
	for (i = 0; i < IDLE; i++) {
		struct pollfd pf = { idle[i], POLLIN, 0 };

		if (poll(&pf, 1, 0) == 1) {
			raw_reply(idle[i], &rep, "an idle connection that made room");
			ck_assert_msg(rep.type == W_ERROR && rep.err == EAGAIN,
			              "reply 0x%x error %d", rep.type, rep.err);
			closed++;
		}
		close(idle[i]);
	}
	ck_assert_int_ge(closed, IDLE - 32);
	assert_alive("after 300 idle connections");
}
END_TEST

/* Idle connections that hang up and newer ones that arrive in one batch of
 * the loop, the newer ones first (the server is SIGSTOPped meanwhile): the
 * accept closes the idle ones to make room, and the rest of the batch still
 * holds their hang-ups. Found by test_idle_connections_hold_no_slot, once in
 * a few runs under load: the server handled the freed connections' events
 * and died of a double free. */
START_TEST(test_evicted_connection_in_batch)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	enum { IDLE = 40, NEWER = 40 };
	int idle[IDLE], newer[NEWER], i;

	cfg.max_children = 2;
	cfg.max_queue = 0;
	cfg.request_ms = 60000;
	srv_start(&cfg);
	for (i = 0; i < IDLE; i++)
		idle[i] = raw_connect(S.path);
	assert_alive("idle connections accepted");   /* its accept took them all */
	stop_process(S.pid);
	for (i = 0; i < NEWER; i++)
		newer[i] = raw_connect(S.path);   /* the listening socket is ready first */
	for (i = 0; i < IDLE; i++)
		if (idle[i] >= 0)
			close(idle[i]);                   /* then the idle ones hang up */
	ck_assert_int_eq(kill(S.pid, SIGCONT), 0);
	for (i = 0; i < NEWER; i++)
		ck_assert_msg(newer[i] >= 0, "connect: %s", strerror(-newer[i]));
	assert_alive("after idle connections closed to make room in the batch of their hang-ups");
	for (i = 0; i < NEWER; i++)
		close(newer[i]);
	assert_alive("after the newer connections closed");
}
END_TEST

/* A connection that has not sent its request (one SOCK_SEQPACKET message)
 * within request_ms is told so (ETIMEDOUT) and closed; one that sent it in
 * time runs. */
START_TEST(test_request_time_limit)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const quick[] = { "@exit", "0", NULL };
	procwait_client_request rq;
	struct fst_run r;
	struct reply rep;
	long long t0;
	int s, s2;

	cfg.request_ms = 300;
	srv_start(&cfg);
	t0 = pwt_now_ms();
	s = raw_connect(S.path);
	pwt_nap_ms(100);
	s2 = raw_connect(S.path);
	raw_reply(s, &rep, "a connection that sent nothing");
	ck_assert_msg(rep.type == W_ERROR && rep.err == ETIMEDOUT, "reply 0x%x error %d",
	              rep.type, rep.err);
	raw_expect_eof(s, "a connection that sent nothing");
	raw_reply(s2, &rep, "a second connection that sent nothing");
	ck_assert_msg(rep.type == W_ERROR && rep.err == ETIMEDOUT, "reply 0x%x error %d",
	              rep.type, rep.err);
	ck_assert_int_ge(pwt_now_ms() - t0, 250);
	ck_assert_int_lt(pwt_now_ms() - t0, 10000);
	close(s);
	close(s2);
	req_init(&rq, quick);
	fst_run_req(S.path, &rq, 20000, &r);
	fst_assert_ran(&r, "a request after two timed out");
	{
		char *log = fst_log_text(S.dir);

		ck_assert_msg(strstr(log, "no request within"), "log: %s", log);
		free(log);
	}
	assert_alive("after the request time limit");
}
END_TEST

/* procwait_client_send() + procwait_client_started(): the wait for a slot
 * is the caller's, and closing the connection withdraws a queued request. */
START_TEST(test_client_send_started)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const longer[] = { "@wait-stdin", NULL };
	char marker[PATH_MAX], script[PATH_MAX + 32];
	char *const writer[] = { "sh", "-c", script, NULL };
	char *const quick[] = { "@exit", "0", NULL };
	procwait_client_request rq;
	procwait_client *c1, *c2;
	procwait_result res;
	struct fst_run r;
	int p[2], pid1, baseline;

	cfg.max_children = 1;
	srv_start(&cfg);
	snprintf(marker, sizeof(marker), "%s/ran", S.dir);
	snprintf(script, sizeof(script), "echo ran > '%s'", marker);
	ck_assert_int_eq(procwait_client_started(NULL, 0), -EINVAL);
	ck_assert_int_eq(procwait_client_connect(S.path, &c1), 0);
	ck_assert_int_eq(procwait_client_started(c1, 0), -ESRCH);
	ck_assert_int_eq(procwait_client_started(c1, -1), -ESRCH);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, longer);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_send(c1, &rq), 0);
	ck_assert_int_eq(procwait_client_send(c1, &rq), -EALREADY);
	close(p[0]);
	pid1 = procwait_client_started(c1, -1);
	ck_assert_msg(pid1 > 0, "started: %s", procwait_strerror(pid1));
	ck_assert_int_eq(procwait_client_started(c1, 0), pid1);
	ck_assert_int_eq(procwait_client_started(c1, -1), pid1);
	/* The one slot is busy: a second request waits. */
	baseline = settled_fds(S.pid);
	ck_assert_int_eq(procwait_client_connect(S.path, &c2), 0);
	req_init(&rq, writer);
	ck_assert_int_eq(procwait_client_send(c2, &rq), 0);
	wait_consumed(procwait_client_fd(c2), "the queued request");
	ck_assert_int_eq(procwait_client_started(c2, 0), 0);
	ck_assert_int_eq(procwait_client_started(c2, 100), 0);
	/* Withdrawn: the server lets its connection and descriptors go. */
	procwait_client_close(c2);
	fds_back_to(baseline, "a withdrawn request");
	close(p[1]);
	ck_assert_int_eq(procwait_client_wait(c1, 30000, &res), 1);
	ck_assert_int_eq(res.status.code, 0);
	ck_assert_int_eq(procwait_client_started(c1, 0), pid1);
	procwait_client_close(c1);
	/* A later request runs (the queue is FIFO: the withdrawn one would
	 * have run first). */
	run_argv_req(quick, &r);
	assert_exit(&r, 0, "a request after a withdrawn one");
	ck_assert_msg(!fst_exists(marker), "a request withdrawn by closing its connection ran");
}
END_TEST

START_TEST(test_idle_stop)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const sleeper[] = { "@sleep", "2000", NULL };
	struct fst_run r;
	int st;

	cfg.idle_ms = 1500;
	srv_start(&cfg);
	/* A running child is not idleness. */
	run_argv_req(sleeper, &r);
	assert_exit(&r, 0, "a child longer than the idle time");
	st = fst_reap_within(S.pid, 30000);
	S.pid = 0;
	ck_assert_msg(st >= 0, "an idle server does not stop by itself");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	              "serve() of an idle server did not return 0 (status 0x%x)", (unsigned)st);
	ck_assert_msg(!fst_exists(S.path), "the idle server left its socket");
}
END_TEST

/* A SIGTERM that comes after new() has made the socket but before serve()
 * runs: with SIGTERM blocked from before new() (server_main(), as
 * procwait serve does), it waits and stops the loop at once; exit 0, the
 * socket removed. (Unblocked, it killed the server, socket left behind:
 * teardowns that stopped a server right after its start failed so.) */
START_TEST(test_sigterm_before_serve)
{
	struct srv_cfg cfg = SRV_CFG_INIT;

	cfg.pause_ms = 400;
	srv_start(&cfg);
	srv_stop();
}
END_TEST

START_TEST(test_sigterm_stops_children)
{
	char *const argv[] = { "@wait-stdin", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	int p[2], pid, rc;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.fds[0] = p[0];
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	pid = procwait_client_start(c, &rq);
	close(p[0]);
	ck_assert_int_gt(pid, 0);
	srv_stop();   /* SIGTERM: exit 0, socket gone */
	rc = procwait_client_wait(c, 30000, &res);
	ck_assert_msg(rc == 1, "the client of a stopped server: %d", rc);
	ck_assert_msg(res.status.kind == PROCWAIT_STATUS_SIGNALED && res.status.signo == SIGTERM,
	              "kind %d code %d signo %d", res.status.kind, res.status.code,
	              res.status.signo);
	procwait_client_close(c);
	ck_assert(fst_gone_within(pid, 1000));
	close(p[1]);
}
END_TEST

START_TEST(test_server_default_timeout)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const waiter[] = { "@wait-stdin", NULL };
	char *const sleeper[] = { "@sleep", "1000", NULL };
	procwait_client_request rq;
	struct fst_run r;
	int p[2];

	cfg.timeout_ms = 300;
	srv_start(&cfg);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, waiter);
	rq.fds[0] = p[0];
	run_req(&rq, &r);   /* timeout_ms -1: the server's */
	assert_signaled(&r, SIGTERM, "a request under the server's default timeout");
	ck_assert_int_eq(r.res.timed_out, 1);
	close(p[0]);
	close(p[1]);
	req_init(&rq, sleeper);
	rq.timeout_ms = 0;          /* none, whatever the server's default */
	run_req(&rq, &r);
	assert_exit(&r, 0, "a request with timeout_ms 0 under a server default");
}
END_TEST

START_TEST(test_timeout_grace)
{
	/* A child that ignores the stop signal gets SIGKILL after the grace;
	 * its whole group goes (the sleeps ignore SIGTERM too). */
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const argv[] = { "sh", "-c",
	                       "trap '' TERM; echo ready; while :; do sleep 0.1; done", NULL };
	procwait_client_request rq;
	procwait_client *c;
	procwait_result res;
	struct fst_buf out = { NULL, 0, 0 };
	long long t0;
	int p[2], pid, rc;

	cfg.grace_ms = 300;
	srv_start(&cfg);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	req_init(&rq, argv);
	rq.envp = environ;
	rq.fds[1] = p[1];
	rq.timeout_ms = 200;
	ck_assert_int_eq(procwait_client_connect(S.path, &c), 0);
	t0 = pwt_now_ms();
	pid = procwait_client_start(c, &rq);
	close(p[1]);
	ck_assert_int_gt(pid, 0);
	ck_assert_msg(fst_read_until(p[0], &out, "ready\n", 20000), "the shell did not start");
	rc = procwait_client_wait(c, 60000, &res);
	ck_assert_int_eq(rc, 1);
	ck_assert_msg(res.status.kind == PROCWAIT_STATUS_SIGNALED && res.status.signo == SIGKILL,
	              "a child ignoring SIGTERM: kind %d code %d signo %d", res.status.kind,
	              res.status.code, res.status.signo);
	ck_assert_int_eq(res.timed_out, 1);
	ck_assert_msg(pwt_now_ms() - t0 >= 400, "SIGKILL came before timeout + grace");
	/* EOF: every holder of the pipe (the sleeps) is gone too. */
	ck_assert_int_eq(fst_read_all(p[0], &out, 20000), 0);
	procwait_client_close(c);
	close(p[0]);
	fst_buf_free(&out);
}
END_TEST

/* ---- the step API, in this process -------------------------------------------------------------------- */

/* Run the loop until fd is readable; nothing may be READY meanwhile. */
static void drive_until(procwait_forkserver *fs, int fd, const char *what)
{
	long long end = pwt_now_ms() + 30000;

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		procwait_request *req;
		int rc;

		if (poll(&pfd, 1, 0) > 0)
			return;
		ck_assert_msg(pwt_now_ms() < end, "%s: nothing came within 30 s", what);
		rc = procwait_forkserver_next(fs, 50, &req);
		ck_assert_msg(rc == PROCWAIT_FORKSERVER_TIMEOUT,
		              "%s: next() returned %d while no request was due", what, rc);
	}
}

/* Run the loop until it returns a request. */
static procwait_request *next_ready(procwait_forkserver *fs, const char *what)
{
	long long end = pwt_now_ms() + 30000;

	for (;;) {
		procwait_request *req = NULL;
		int rc = procwait_forkserver_next(fs, 100, &req);

		if (rc == PROCWAIT_FORKSERVER_READY) {
			ck_assert_ptr_nonnull(req);
			return req;
		}
		ck_assert_msg(rc == PROCWAIT_FORKSERVER_TIMEOUT, "%s: next() returned %d", what, rc);
		ck_assert_msg(req == NULL, "%s: a request with TIMEOUT", what);
		ck_assert_msg(pwt_now_ms() < end, "%s: no request within 30 s", what);
	}
}

static pid_t step_fork(procwait_forkserver *fs, procwait_request *req)
{
	pid_t pid = pwt_fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (procwait_forkserver_child(fs, req) < 0)
			_exit(127);
		run_argv(procwait_request_argv(req));
	}
	ck_assert_int_eq(procwait_forkserver_parent(fs, req, pid), 0);
	return pid;
}

static procwait_forkserver *inproc_server(int max_children)
{
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs = NULL;
	int rc;

	snprintf(S.path, sizeof(S.path), "%s/s.sock", S.dir);
	o.socket_path = S.path;
	o.max_children = max_children;
	o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
	o.log = fst_srv_log;
	rc = procwait_forkserver_new(&o, &fs);
	ck_assert_msg(rc == 0, "new: %s", procwait_strerror(rc));
	return fs;
}

START_TEST(test_step_api)
{
	char *const five[] = { "@exit", "5", NULL };
	procwait_forkserver *fs = inproc_server(1);
	procwait_request *req, *other;
	struct creport rep;
	char **argv;
	pid_t cl, pid;
	int rfd;

	ck_assert_int_ge(procwait_forkserver_fd(fs), 0);
	ck_assert_int_eq(procwait_forkserver_timeout(fs), -1);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	ck_assert_str_eq(procwait_forkserver_path(fs), S.path);
	ck_assert_int_eq(procwait_forkserver_next(fs, 0, &req), PROCWAIT_FORKSERVER_TIMEOUT);

	cl = client_proc(five, -1, &rfd);
	req = next_ready(fs, "first request");
	argv = (char **)procwait_request_argv(req);
	ck_assert_str_eq(argv[0], "@exit");
	ck_assert_str_eq(argv[1], "5");
	ck_assert_ptr_null(argv[2]);
	ck_assert_str_eq(procwait_request_cwd(req), S.dir);
	ck_assert_ptr_nonnull(procwait_request_envp(req));
	/* parent() must come before the next next(). */
	ck_assert_int_eq(procwait_forkserver_next(fs, 0, &other), -EBUSY);
	ck_assert_int_eq(procwait_forkserver_parent(fs, req, 0), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_parent(fs, (procwait_request *)&rep, 1234), -EINVAL);
	pid = step_fork(fs, req);
	ck_assert_int_eq(procwait_forkserver_children(fs), 1);
	drive_until(fs, rfd, "the first client's result");
	client_report(cl, rfd, &rep);
	ck_assert_msg(rep.start_rc == pid, "STARTED %d, forked %d", rep.start_rc, (int)pid);
	ck_assert_int_eq(rep.wait_rc, 1);
	ck_assert_int_eq(rep.res.status.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(rep.res.status.code, 5);
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	ck_assert_msg(!pwt_exists(pid), "the server did not reap its child");

	/* fork() failed: the client gets the error. */
	cl = client_proc(five, -1, &rfd);
	req = next_ready(fs, "second request");
	ck_assert_int_eq(procwait_forkserver_parent(fs, req, -EAGAIN), 0);
	drive_until(fs, rfd, "the second client's error");
	client_report(cl, rfd, &rep);
	ck_assert_msg(rep.start_rc == -EAGAIN, "a failed fork reaches the client as %d",
	              rep.start_rc);
	ck_assert_msg(rep.msg[0] != '\0', "a failed fork without a message");
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);

	/* Still serving. */
	cl = client_proc(five, -1, &rfd);
	req = next_ready(fs, "third request");
	step_fork(fs, req);
	drive_until(fs, rfd, "the third client's result");
	client_report(cl, rfd, &rep);
	ck_assert_int_eq(rep.wait_rc, 1);
	ck_assert_int_eq(rep.res.status.code, 5);

	procwait_forkserver_free(fs);
	ck_assert_msg(!fst_exists(S.path), "free() left the socket");
}
END_TEST

START_TEST(test_step_stop_queued)
{
	char *const longer[] = { "@wait-stdin", NULL };
	char *const quick[] = { "@exit", "0", NULL };
	procwait_forkserver *fs = inproc_server(1);
	procwait_request *req;
	struct creport ra, rb;
	pid_t ca, cb, child;
	int fa, fb, p[2], i, rc;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ca = client_proc(longer, p[0], &fa);
	close(p[0]);
	req = next_ready(fs, "the long request");
	child = step_fork(fs, req);
	/* B queues behind A (one slot). */
	cb = client_proc(quick, -1, &fb);
	for (i = 0; i < 20; i++) {
		rc = procwait_forkserver_next(fs, 50, &req);
		ck_assert_int_eq(rc, PROCWAIT_FORKSERVER_TIMEOUT);
	}
	ck_assert_int_eq(procwait_forkserver_stop(fs), 0);
	for (;;) {
		rc = procwait_forkserver_next(fs, 1000, &req);
		if (rc == PROCWAIT_FORKSERVER_STOPPED)
			break;
		ck_assert_msg(rc == PROCWAIT_FORKSERVER_TIMEOUT, "next() while stopping: %d", rc);
	}
	ck_assert_int_eq(procwait_forkserver_next(fs, -1, &req), PROCWAIT_FORKSERVER_STOPPED);
	ck_assert_msg(!fst_exists(S.path), "a stopped server left its socket");
	ck_assert_int_eq(procwait_forkserver_children(fs), 0);
	ck_assert_msg(!pwt_exists(child), "the running child was not stopped and reaped");
	client_report(cb, fb, &rb);
	ck_assert_msg(rb.start_rc == -ESHUTDOWN, "a queued client of a stopping server: %d (%s)",
	              rb.start_rc, rb.msg);
	client_report(ca, fa, &ra);
	ck_assert_int_eq(ra.start_rc, (int)child);
	ck_assert_int_eq(ra.wait_rc, 1);
	ck_assert_msg(ra.res.status.kind == PROCWAIT_STATUS_SIGNALED &&
	              ra.res.status.signo == SIGTERM, "the running child: kind %d signo %d",
	              ra.res.status.kind, ra.res.status.signo);
	close(p[1]);
	procwait_forkserver_free(fs);
}
END_TEST

START_TEST(test_step_free_running)
{
	/* free() on a server that has not stopped: SIGKILL to the running
	 * child, reaped, socket removed; the client learns the server went
	 * away. */
	char *const longer[] = { "@wait-stdin", NULL };
	procwait_forkserver *fs = inproc_server(4);
	procwait_request *req;
	struct creport rep;
	pid_t cl, child;
	int rfd, p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	cl = client_proc(longer, p[0], &rfd);
	close(p[0]);
	req = next_ready(fs, "the long request");
	child = step_fork(fs, req);
	ck_assert_int_eq(procwait_forkserver_children(fs), 1);
	procwait_forkserver_free(fs);
	ck_assert_msg(!pwt_exists(child), "free() left the child running or unreaped");
	ck_assert_msg(!fst_exists(S.path), "free() left the socket");
	client_report(cl, rfd, &rep);
	ck_assert_int_eq(rep.start_rc, (int)child);
	ck_assert_msg(rep.wait_rc == -ECONNRESET, "the client of a freed server: %d", rep.wait_rc);
	close(p[1]);
}
END_TEST

/* procwait_forkserver_stop() in a process forked from the server, before
 * procwait_forkserver_child() (the eventfd is still the server's there):
 * 0, and nothing happens - the server does not stop. The child then frees
 * fs and the request itself. */
START_TEST(test_step_stop_in_fork)
{
	char *const five[] = { "@exit", "5", NULL };
	procwait_forkserver *fs = inproc_server(1);
	procwait_request *req;
	struct creport rep;
	pid_t cl, pid;
	int rfd;

	cl = client_proc(five, -1, &rfd);
	req = next_ready(fs, "the first request");
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (procwait_forkserver_stop(fs) != 0)
			_exit(90);
		if (procwait_forkserver_child(fs, req) < 0)
			_exit(127);
		if (procwait_forkserver_stop(fs) != 0)
			_exit(91);
		procwait_forkserver_free(fs);
		procwait_request_free(req);
		_exit(5);
	}
	ck_assert_int_eq(procwait_forkserver_parent(fs, req, pid), 0);
	drive_until(fs, rfd, "the first request's exit");   /* never STOPPED */
	client_report(cl, rfd, &rep);
	ck_assert_int_eq(rep.start_rc, (int)pid);
	ck_assert_int_eq(rep.wait_rc, 1);
	ck_assert_msg(rep.res.status.kind == PROCWAIT_STATUS_EXITED && rep.res.status.code == 5,
	              "the forked child: kind %d code %d signo %d", rep.res.status.kind,
	              rep.res.status.code, rep.res.status.signo);
	/* Still serving. */
	cl = client_proc(five, -1, &rfd);
	req = next_ready(fs, "a request after stop() in a forked copy");
	pid = step_fork(fs, req);
	drive_until(fs, rfd, "the second request's exit");
	client_report(cl, rfd, &rep);
	ck_assert_int_eq(rep.start_rc, (int)pid);
	ck_assert_int_eq(rep.res.status.code, 5);
	procwait_forkserver_free(fs);
}
END_TEST

/* ---- hooks ----------------------------------------------------------------------------------------- */

/* The lines of a hook file: pid and text. */
static int hook_lines(const char *file, int *pids, char texts[][PATH_MAX], int max)
{
	char path[PATH_MAX + 32], line[PATH_MAX + 64];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", S.dir, file);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		pids[n] = atoi(line);
		snprintf(texts[n], PATH_MAX, "%s", sp ? sp + 1 : "");
		n++;
	}
	fclose(f);
	return n;
}

START_TEST(test_hooks)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const argv[] = { "@exit", "0", NULL };
	static char texts[8][PATH_MAX];
	int pids[8], started[3], i, n;
	struct fst_run r;

	cfg.hooks = 1;
	srv_start(&cfg);
	for (i = 0; i < 3; i++) {
		run_argv_req(argv, &r);
		assert_exit(&r, 0, "hooked request");
		started[i] = r.start_rc;
	}
	n = hook_lines("before.log", pids, texts, 8);
	ck_assert_msg(n == 3, "before_fork ran %d times for 3 requests", n);
	for (i = 0; i < n; i++)
		ck_assert_msg(pids[i] == S.pid, "before_fork ran in %d, not the server %d", pids[i],
		              (int)S.pid);
	n = hook_lines("after.log", pids, texts, 8);
	ck_assert_msg(n == 3, "after_fork ran %d times for 3 requests", n);
	for (i = 0; i < n; i++) {
		ck_assert_msg(pids[i] == started[i], "after_fork ran in %d, the child was %d",
		              pids[i], started[i]);
		ck_assert_msg(strcmp(texts[i], S.dir) == 0,
		              "after_fork ran before the request's directory was set (cwd %s)",
		              texts[i]);
	}
}
END_TEST

/* ---- serve()'s child ------------------------------------------------------------------------------- */

/* The child where serve() returned 1 frees the server (what child() left)
 * and then the request, and exits: the client sees that exit code (under
 * ASan a double free would show as exit 1). Mode 2 calls
 * procwait_forkserver_stop() there first: 0, and the server goes on. */
START_TEST(test_serve_child_free)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const argv[] = { "@free", "5", NULL };
	struct fst_run r;
	int i;

	cfg.child_mode = 1 + _i;
	srv_start(&cfg);
	for (i = 0; i < 2; i++) {
		run_argv_req(argv, &r);
		assert_exit(&r, 5, _i ? "stop(), free(fs), free(req) in the child" :
		            "free(fs), free(req) in the child");
	}
	ck_assert_msg(kill(S.pid, 0) == 0, "the server is gone");
	/* teardown: SIGTERM, serve() returns 0 - the server did not stop
	 * before that. */
}
END_TEST

/* ---- out of descriptors ------------------------------------------------------------------------------ */

/* A server at its descriptor limit (RLIMIT_NOFILE 40) with connections
 * still waiting in the backlog: accept() fails with EMFILE, and the server
 * pauses accepting instead of spinning on the readable listening socket. A
 * request whose descriptors cannot be installed is refused with EAGAIN
 * "server out of descriptors". Once the connections close it serves. */
#define OOF_CONNS 64
START_TEST(test_out_of_fds)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const quick[] = { "@exit", "0", NULL };
	char logpath[PATH_MAX + 16];
	int s[OOF_CONNS], three[3], i, baseline, found = 0;
	long long end, cpu0, cpu1;
	struct fst_buf log = { NULL, 0, 0 };
	struct reply r;
	char st;

	cfg.nofile = 40;
	srv_start(&cfg);
	baseline = settled_fds(S.pid);
	snprintf(logpath, sizeof(logpath), "%s/server.log", S.dir);
	for (i = 0; i < OOF_CONNS; i++) {
		s[i] = raw_connect(S.path);
		ck_assert_msg(s[i] >= 0, "connect %d: %s", i, strerror(-s[i]));
	}
	end = pwt_now_ms() + 10000;
	while (!found && pwt_now_ms() < end) {
		int fd = open(logpath, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			log.n = 0;
			(void)fst_read_all(fd, &log, 1000);
			close(fd);
			found = log.n && memmem(log.p, log.n, "pausing new connections", 23);
		}
		if (!found)
			pwt_nap_ms(20);
	}
	fst_buf_free(&log);
	ck_assert_msg(found, "the server never ran out of descriptors (%d held)",
	              count_fds(S.pid));
	/* No spinning: little CPU over 2 s. */
	ck_assert(proc_stat_read(S.pid, &st, &cpu0));
	pwt_nap_ms(2000);
	ck_assert(proc_stat_read(S.pid, &st, &cpu1));
	ck_assert_msg(cpu1 - cpu0 < 500, "the server out of descriptors used %lld ms of CPU "
	              "in 2 s", cpu1 - cpu0);
	/* s[0] was accepted first; its descriptors find no room. */
	three[0] = three[1] = three[2] = fst_devnull();
	{
		struct fst_buf f = { NULL, 0, 0 };

		frame_request(&f, quick, no_env, "/");
		ck_assert_int_eq(raw_send(s[0], f.p, f.n, three, 3), 0);
		fst_buf_free(&f);
	}
	raw_reply(s[0], &r, "a request to a server out of descriptors");
	ck_assert_msg(r.type == W_ERROR && r.err == EAGAIN &&
	              strstr(r.msg, "out of descriptors") != NULL,
	              "a request to a server out of descriptors: reply 0x%x error %d \"%s\"",
	              r.type, r.err, r.msg);
	raw_expect_eof(s[0], "a request to a server out of descriptors");
	for (i = 0; i < OOF_CONNS; i++)
		close(s[i]);
	fds_back_to(baseline, "after the connections closed");
	assert_alive("a server that ran out of descriptors");
}
END_TEST

/* The default max_queue (-1) is 4 x max_children bounded by the descriptor
 * limit, as default_queue() in lib/forkserver.c computes it: (limit - 64 -
 * 2 x max_children) / 4, not below 0. max_children 4: limit 64 gives 0 (the
 * fifth request is refused at once), limit 100 gives 7. */
static const long queue_limits[] = { 64, 100 };

START_TEST(test_default_queue_nofile)
{
	struct srv_cfg cfg = SRV_CFG_INIT;
	char *const waiter[] = { "@wait-stdin", "4", NULL };
	long lim = queue_limits[_i], q = (lim - 64 - 2 * 4) / 4;
	int s[4 + 16], extra, three[3], p[2], i, n;
	struct reply r;
	uint8_t b[256];

	if (q > 16)
		q = 16;
	if (q < 0)
		q = 0;
	n = 4 + (int)q;
	cfg.max_children = 4;
	cfg.nofile = lim;
	srv_start(&cfg);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	three[0] = p[0];
	three[1] = three[2] = fst_devnull();
	for (i = 0; i < n; i++) {
		s[i] = raw_request(waiter, three);
		if (i < 4) {
			raw_reply(s[i], &r, "a request for a free slot");
			ck_assert_msg(r.type == W_STARTED, "request %d: reply 0x%x error %d (%s)", i,
			              r.type, r.err, r.msg);
		} else {
			wait_consumed(s[i], "a queued request");
		}
	}
	extra = raw_request(waiter, three);
	raw_expect_error(extra, EAGAIN, "a request past the default queue");
	close(extra);
	close(p[0]);
	for (i = 4; i < n; i++)
		ck_assert_msg(raw_recv(s[i], b, sizeof(b), 0) == -ETIMEDOUT,
		              "queued request %d got a reply", i);
	close(p[1]);   /* all read EOF, exit 4; the queued ones run then */
	for (i = 0; i < n; i++) {
		if (i >= 4) {
			raw_reply(s[i], &r, "a queued request");
			ck_assert_msg(r.type == W_STARTED, "queued %d: reply 0x%x", i, r.type);
		}
		raw_reply(s[i], &r, "a request's exit");
		ck_assert_msg(r.type == W_EXITED && r.kind == PROCWAIT_STATUS_EXITED && r.code == 4,
		              "request %d: reply 0x%x kind %d code %d", i, r.type, (int)r.kind,
		              (int)r.code);
		close(s[i]);
	}
}
END_TEST

/* ---- bad arguments ----------------------------------------------------------------------------------- */

START_TEST(test_bad_args_server)
{
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs = (procwait_forkserver *)&o, *good;
	procwait_request *req = (procwait_request *)&o;
	char buf[108];
	uid_t uid = 0;

	ck_assert_int_eq(procwait_forkserver_socket_path(NULL, 0, NULL, 100), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_socket_path("a/b", 0, buf, sizeof(buf)), -EINVAL);

	snprintf(S.path, sizeof(S.path), "%s/s.sock", S.dir);
	o.socket_path = S.path;
	o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
	ck_assert_int_eq(procwait_forkserver_new(&o, NULL), -EINVAL);
	o.size = sizeof(o) - 1;
	ck_assert_int_eq(procwait_forkserver_new(&o, &fs), -EINVAL);
	ck_assert_ptr_null(fs);
	o.size = 0;
	ck_assert_int_eq(procwait_forkserver_new(&o, &fs), -EINVAL);
	o.size = sizeof(o);
	o.flags = 1u << 20;
	ck_assert_int_eq(procwait_forkserver_new(&o, &fs), -EINVAL);
	o.flags = PROCWAIT_FORKSERVER_NO_SIGNALS;
	o.n_allowed_uids = 1;
	ck_assert_int_eq(procwait_forkserver_new(&o, &fs), -EINVAL);
	o.allowed_uids = &uid;
	o.max_children = -1;
	ck_assert_int_eq(procwait_forkserver_new(&o, &fs), -EINVAL);
	o.max_children = 0;
	o.max_queue = -2;
	ck_assert_int_eq(procwait_forkserver_new(&o, &fs), -EINVAL);
	o.max_queue = -1;
	o.name = "bad/name";
	ck_assert_int_eq(procwait_forkserver_new(&o, &fs), -EINVAL);
	o.name = NULL;
	ck_assert_msg(!fst_exists(S.path), "a refused new() created the socket");

	ck_assert_ptr_null(procwait_forkserver_path(NULL));
	ck_assert_int_eq(procwait_forkserver_fd(NULL), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_timeout(NULL), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_next(NULL, 0, &req), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_child(NULL, req), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_parent(NULL, req, 1), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_serve(NULL, &req), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_stop(NULL), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_children(NULL), -EINVAL);
	procwait_forkserver_free(NULL);
	ck_assert_ptr_null(procwait_request_argv(NULL));
	ck_assert_ptr_null(procwait_request_envp(NULL));
	ck_assert_ptr_null(procwait_request_cwd(NULL));
	procwait_request_free(NULL);

	/* On a real server. */
	ck_assert_int_eq(procwait_forkserver_new(&o, &good), 0);
	ck_assert_int_eq(procwait_forkserver_next(good, 0, NULL), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_serve(good, NULL), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_child(good, NULL), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_parent(good, NULL, 1), -EINVAL);
	/* Not the request next() returned (none was). */
	ck_assert_int_eq(procwait_forkserver_child(good, req), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_parent(good, req, 1), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_parent(good, req, 0), -EINVAL);
	ck_assert_int_eq(procwait_forkserver_children(good), 0);
	procwait_forkserver_free(good);
	ck_assert(!fst_exists(S.path));
	/* NULL options: all defaults, in a private XDG dir. */
	{
		char xdg[PATH_MAX];

		set_xdg("xdg", xdg, sizeof(xdg));
		ck_assert_int_eq(procwait_forkserver_new(NULL, &good), 0);
		ck_assert_ptr_nonnull(strstr(procwait_forkserver_path(good), "/procwait/default.sock"));
		procwait_forkserver_free(good);
	}
}
END_TEST

START_TEST(test_bad_args_client)
{
	char *const argv[] = { "@exit", "0", NULL };
	char *const empty[] = { NULL };
	procwait_client_request rq;
	procwait_client *c = (procwait_client *)&rq;
	procwait_result res;
	int rc;

	ck_assert_int_eq(procwait_client_connect(S.path, NULL), -EINVAL);
	ck_assert_int_eq(procwait_client_start(NULL, &rq), -EINVAL);
	ck_assert_int_eq(procwait_client_fd(NULL), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(NULL, SIGTERM), -EINVAL);
	ck_assert_int_eq(procwait_client_wait(NULL, 0, &res), -EINVAL);
	ck_assert_str_eq(procwait_client_message(NULL), "");
	procwait_client_close(NULL);

	rc = procwait_client_connect(S.path, &c);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_ge(procwait_client_fd(c), 0);
	ck_assert_str_eq(procwait_client_message(c), "");
	ck_assert_int_eq(procwait_client_start(c, NULL), -EINVAL);
	req_init(&rq, argv);
	rq.size = sizeof(rq) - 1;
	ck_assert_int_eq(procwait_client_start(c, &rq), -EINVAL);
	req_init(&rq, NULL);
	ck_assert_int_eq(procwait_client_start(c, &rq), -EINVAL);
	req_init(&rq, empty);
	ck_assert_int_eq(procwait_client_start(c, &rq), -EINVAL);
	req_init(&rq, argv);
	rq.flags = 1u << 7;
	ck_assert_int_eq(procwait_client_start(c, &rq), -EINVAL);
	req_init(&rq, argv);
	rq.timeout_ms = -2;
	ck_assert_int_eq(procwait_client_start(c, &rq), -EINVAL);
	req_init(&rq, argv);
	rq.fds[2] = -7;
	ck_assert_int_eq(procwait_client_start(c, &rq), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(c, -1), -EINVAL);
	ck_assert_int_eq(procwait_client_signal(c, 65), -EINVAL);
	ck_assert_int_eq(procwait_client_wait(c, 0, NULL), -EINVAL);
	/* Nothing was sent yet: a good request still works on it. */
	req_init(&rq, argv);
	rc = procwait_client_start(c, &rq);
	ck_assert_msg(rc > 0, "a good request after refused ones: %d", rc);
	ck_assert_int_eq(procwait_client_start(c, &rq), -EALREADY);
	ck_assert_int_eq(procwait_client_wait(c, 30000, &res), 1);
	ck_assert_int_eq(res.status.code, 0);
	ck_assert_int_eq(procwait_client_wait(c, 0, &res), -EALREADY);
	procwait_client_close(c);

	/* Nobody listens. */
	{
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/nobody-here.sock", S.dir);
		rc = procwait_client_connect(path, &c);
		ck_assert_msg(rc == -ENOENT || rc == -ECONNREFUSED, "no server: %d", rc);
	}
}
END_TEST

/* ---- the suite -------------------------------------------------------------------------------------- */

/* ---- a cgroup per run ------------------------------------------------------------------ */

/* Runs must get a cgroup here: root, with a writable cgroup2 mount. (In a
 * container whose cgroup file system is read-only, or as another user
 * without a delegated subtree, the server says why in its log and stops
 * runs by process group; these tests then say they are skipped.) */
static int cgroups_expected(void)
{
	char line[1024];
	struct utsname u;
	int yes = 0, major = 0, minor = 0;
	FILE *f;

	/* cgroup.kill came with Linux 5.14. */
	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2 ||
	    major * 1000 + minor < 5014)
		return 0;
	if (geteuid() != 0 || !(f = fopen("/proc/self/mounts", "re")))
		return 0;
	while (!yes && fgets(line, sizeof(line), f)) {
		char dev[256], dir[512], type[64], opts[256];

		if (sscanf(line, "%255s %511s %63s %255s", dev, dir, type, opts) == 4 &&
		    strcmp(type, "cgroup2") == 0 && strncmp(opts, "rw", 2) == 0)
			yes = 1;
	}
	fclose(f);
	return yes;
}

struct daemon_run {
	procwait_client *c;
	pid_t leader, daemon;
	procwait_proc *dh;      /* a handle on the daemon (not our child) */
	char cgroup[1100];      /* the run's, "" when none */
};

/* Start "@daemon [mode]" through the client API and learn the daemon's pid
 * (it writes it to the pipe we give as its descriptor 1). */
static void daemon_start(struct daemon_run *d, const char *mode, int timeout_ms)
{
	char *const argv[] = { "@daemon", (char *)mode, NULL };
	procwait_client_request rq;
	struct pollfd pf;
	char buf[32];
	ssize_t n;
	int p[2];

	memset(d, 0, sizeof(*d));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(procwait_client_connect(S.path, &d->c), 0);
	req_init(&rq, argv);
	rq.fds[1] = p[1];
	rq.timeout_ms = timeout_ms;
	d->leader = procwait_client_start(d->c, &rq);
	ck_assert_msg(d->leader > 0, "@daemon did not start: %s", procwait_strerror(d->leader));
	close(p[1]);
	pf.fd = p[0];
	pf.events = POLLIN;
	ck_assert_msg(poll(&pf, 1, 20000) == 1, "the daemon did not report within 20 s");
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	ck_assert_msg(n > 1, "the daemon did not report its pid");
	buf[n] = '\0';
	d->daemon = (pid_t)atol(buf);
	ck_assert_int_gt(d->daemon, 1);
	S.daemon = d->daemon;
	ck_assert_int_eq(procwait_proc_open(d->daemon, 0, &d->dh), 0);
	if (procwait_client_cgroup(d->c))
		snprintf(d->cgroup, sizeof(d->cgroup), "%s", procwait_client_cgroup(d->c));
}

/* The daemon is gone within ms (it is not our child: init reaps it). */
static int daemon_gone_within(struct daemon_run *d, int ms)
{
	procwait_status st;

	return procwait_proc_wait(d->dh, ms, 0, &st) == 0;
}

static void daemon_done(struct daemon_run *d)
{
	if (d->dh) {
		procwait_proc_signal(d->dh, SIGKILL);
		procwait_proc_close(d->dh);
	}
	procwait_client_close(d->c);
	d->dh = NULL;
	d->c = NULL;
	S.daemon = 0;
}

static int path_exists(const char *p)
{
	struct stat st;

	return p[0] && stat(p, &st) == 0;
}

/* Does the run have its cgroup (or may it lack one here)? 0: skip. */
static int daemon_has_cgroup(struct daemon_run *d, const char *test)
{
	char want[64];

	if (!d->cgroup[0]) {
		ck_assert_msg(!cgroups_expected(), "%s: root with a writable cgroup2 mount, "
		              "yet the run has no cgroup (see the server's log)", test);
		printf("%s: runs get no cgroup here (not root, no writable cgroup2 "
		       "mount, or Linux before 5.14): skipped\n", test);
		daemon_done(d);
		return 0;
	}
	/* The daemon is in it (the STARTED path is the cgroup's directory). */
	snprintf(want, sizeof(want), "/run-");
	ck_assert_msg(strstr(d->cgroup, want) && path_exists(d->cgroup),
	              "%s: the run's cgroup %s is not a run's directory", test, d->cgroup);
	return 1;
}

START_TEST(test_cgroup_timeout_kills_daemon)
{
	struct daemon_run d;
	procwait_result res;

	daemon_start(&d, NULL, 3000);
	if (!daemon_has_cgroup(&d, "test_cgroup_timeout_kills_daemon"))
		return;
	ck_assert_int_eq(procwait_client_wait(d.c, 30000, &res), 1);
	ck_assert_int_eq(res.timed_out, 1);
	ck_assert_msg(daemon_gone_within(&d, 10000),
	              "the timed-out run's daemon %d outlived the run", (int)d.daemon);
	daemon_done(&d);
	assert_alive("after the timeout");
}
END_TEST

START_TEST(test_cgroup_client_loss_kills_daemon)
{
	struct daemon_run d;

	daemon_start(&d, NULL, 0);
	if (!daemon_has_cgroup(&d, "test_cgroup_client_loss_kills_daemon"))
		return;
	procwait_client_close(d.c);   /* the client goes: the server stops the run */
	d.c = NULL;
	ck_assert_msg(daemon_gone_within(&d, 20000),
	              "the daemon %d outlived its client", (int)d.daemon);
	daemon_done(&d);
	assert_alive("after the client loss");
}
END_TEST

START_TEST(test_cgroup_server_killed)
{
	/* Nothing of the run is left when its server is SIGKILLed: the
	 * client, still there, kills the run's cgroup and removes it, and the
	 * server's directory with it (it was its only run). */
	struct daemon_run d;
	procwait_result res;
	char base[1100], *slash;
	int st;

	daemon_start(&d, NULL, 0);
	if (!daemon_has_cgroup(&d, "test_cgroup_server_killed"))
		return;
	ck_assert_int_eq(kill(S.pid, SIGKILL), 0);
	st = pwt_reap(S.pid);
	S.pid = 0;
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	unlink(S.path);
	ck_assert_int_eq(procwait_client_wait(d.c, 30000, &res), -ECONNRESET);
	ck_assert_msg(daemon_gone_within(&d, 10000),
	              "the daemon %d outlived its killed server", (int)d.daemon);
	ck_assert_msg(!path_exists(d.cgroup), "the run's cgroup %s is left", d.cgroup);
	snprintf(base, sizeof(base), "%s", d.cgroup);
	slash = strrchr(base, '/');
	*slash = '\0';
	ck_assert_msg(!path_exists(base), "the server's cgroup directory %s is left", base);
	daemon_done(&d);
}
END_TEST

START_TEST(test_cgroup_leftover_after_exit)
{
	/* A run that ends by itself leaves its daemon running, as python3 or
	 * a shell would; its cgroup goes once the daemon has exited. */
	struct daemon_run d;
	procwait_result res;
	int i;

	daemon_start(&d, "exit", 0);
	if (!daemon_has_cgroup(&d, "test_cgroup_leftover_after_exit"))
		return;
	ck_assert_int_eq(procwait_client_wait(d.c, 30000, &res), 1);
	ck_assert(res.status.kind == PROCWAIT_STATUS_EXITED && res.status.code == 0);
	ck_assert_msg(!daemon_gone_within(&d, 300), "the daemon of a run that exited 0 was killed");
	ck_assert_msg(path_exists(d.cgroup), "the cgroup went with its daemon still in it");
	procwait_proc_signal(d.dh, SIGKILL);
	ck_assert(daemon_gone_within(&d, 10000));
	for (i = 0; i < 200 && path_exists(d.cgroup); i++)
		pwt_nap_ms(50);
	ck_assert_msg(!path_exists(d.cgroup), "the emptied cgroup %s stays", d.cgroup);
	daemon_done(&d);
}
END_TEST

START_TEST(test_cgroup_stop_returns_leftovers)
{
	/* At its stop the server gives back what its finished runs left
	 * running (moved to its own cgroup) and removes its directories. */
	struct daemon_run d;
	procwait_result res;
	char base[1100], path[64], line[1200];
	FILE *f;

	daemon_start(&d, "exit", 0);
	if (!daemon_has_cgroup(&d, "test_cgroup_stop_returns_leftovers"))
		return;
	ck_assert_int_eq(procwait_client_wait(d.c, 30000, &res), 1);
	srv_stop();
	ck_assert_msg(!daemon_gone_within(&d, 100), "the server's stop killed a finished run's daemon");
	snprintf(base, sizeof(base), "%s", d.cgroup);
	*strrchr(base, '/') = '\0';
	ck_assert_msg(!path_exists(d.cgroup) && !path_exists(base),
	              "the stopped server left %s", base);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)d.daemon);
	f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0)
			ck_assert_msg(!strstr(line, "/procwait-"), "the daemon is still in %s", line);
	fclose(f);
	daemon_done(&d);
}
END_TEST

START_TEST(test_cgroup_off)
{
	/* PROCWAIT_FORKSERVER_NO_CGROUPS: no cgroup; a stop reaches the
	 * run's process group, as before. */
	struct srv_cfg cfg = SRV_CFG_INIT;
	struct daemon_run d;
	procwait_result res;

	cfg.flags = PROCWAIT_FORKSERVER_NO_CGROUPS;
	srv_start(&cfg);
	daemon_start(&d, NULL, 3000);
	ck_assert_msg(!d.cgroup[0], "a run got the cgroup %s with cgroups off", d.cgroup);
	ck_assert_ptr_null(procwait_client_cgroup(d.c));
	ck_assert_int_eq(procwait_client_wait(d.c, 30000, &res), 1);
	ck_assert_int_eq(res.timed_out, 1);
	daemon_done(&d);
}
END_TEST

START_TEST(test_cgroup_off_server_killed)
{
	/* No cgroup: when the server is SIGKILLed, the client still kills
	 * the run's process group (a member that stayed in it; the leader
	 * dies of its parent-death signal). */
	struct srv_cfg cfg = SRV_CFG_INIT;
	struct daemon_run d;
	procwait_result res;
	int st;

	cfg.flags = PROCWAIT_FORKSERVER_NO_CGROUPS;
	srv_start(&cfg);
	daemon_start(&d, "group", 0);
	ck_assert_int_eq(kill(S.pid, SIGKILL), 0);
	st = pwt_reap(S.pid);
	S.pid = 0;
	ck_assert(WIFSIGNALED(st));
	unlink(S.path);
	ck_assert_int_eq(procwait_client_wait(d.c, 30000, &res), -ECONNRESET);
	ck_assert_msg(daemon_gone_within(&d, 10000),
	              "the run's group member %d outlived its killed server", (int)d.daemon);
	daemon_done(&d);
}
END_TEST

static Suite *forkserver_suite(void)
{
	Suite *s = suite_create("forkserver");
	TCase *tc;

	tc = tcase_create("status");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_loop_test(tc, test_exit_codes, 0, (int)(sizeof(exit_codes) / sizeof(exit_codes[0])));
	tcase_add_loop_test(tc, test_signal_death, 0,
	                    (int)(sizeof(death_signals) / sizeof(death_signals[0])));
	tcase_add_loop_test(tc, test_core_flag, 0,
	                    (int)(sizeof(core_scripts) / sizeof(core_scripts[0])));
	tcase_add_test(tc, test_rusage);
	tcase_add_test(tc, test_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_roundtrip_argv);
	tcase_add_test(tc, test_roundtrip_many_args);
	tcase_add_test(tc, test_roundtrip_env);
	tcase_add_test(tc, test_roundtrip_env_empty);
	tcase_add_test(tc, test_roundtrip_cwd);
	tcase_add_test(tc, test_roundtrip_cwd_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_limit_frame);
	tcase_add_test(tc, test_limit_args);
	tcase_add_test(tc, test_limit_cwd);
	tcase_add_test(tc, test_limit_bad_fd);
	tcase_add_test(tc, test_missing_cwd);
	suite_add_tcase(s, tc);

	tc = tcase_create("pipes");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_stdin_cat);
	tcase_add_test(tc, test_large_output);
	tcase_add_test(tc, test_pty);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_empty_frame);
	suite_add_tcase(s, tc);

	tc = tcase_create("signals");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_signal_forward);
	tcase_add_test(tc, test_signal_kill);
	tcase_add_test(tc, test_client_gone);
	tcase_add_test(tc, test_client_gone_group);
	tcase_add_test(tc, test_server_killed);
	tcase_add_test(tc, test_signal_never_blocks);
	suite_add_tcase(s, tc);

	tc = tcase_create("child");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_child_state);
	tcase_add_test(tc, test_keep_fds);
	suite_add_tcase(s, tc);

	tc = tcase_create("child-custom");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_child_state_stdio_closed);
	suite_add_tcase(s, tc);

	tc = tcase_create("uid");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_uid_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("uid-custom");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_uid_allowed);
	tcase_add_test(tc, test_uid_refused_client_api);
	suite_add_tcase(s, tc);

	tc = tcase_create("stop-early");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_sigterm_before_serve);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_path_xdg);
	tcase_add_test(tc, test_path_tmpdir);
	tcase_add_test(tc, test_path_bad_names);
	tcase_add_test(tc, test_path_dir_checks);
	tcase_add_test(tc, test_path_too_long);
	tcase_add_test(tc, test_path_new_named);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths-live");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_path_stale_and_live);
	suite_add_tcase(s, tc);

	tc = tcase_create("queue");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_queue_bound);
	tcase_add_test(tc, test_no_queue);
	tcase_add_test(tc, test_no_queue_batch);
	tcase_add_test(tc, test_client_send_started);
	tcase_add_test(tc, test_idle_connections_hold_no_slot);
	tcase_add_test(tc, test_evicted_connection_in_batch);
	tcase_add_test(tc, test_request_time_limit);
	tcase_add_test(tc, test_idle_stop);
	tcase_add_test(tc, test_server_default_timeout);
	tcase_add_test(tc, test_timeout_grace);
	suite_add_tcase(s, tc);

	tc = tcase_create("stop");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_sigterm_stops_children);
	suite_add_tcase(s, tc);

	tc = tcase_create("step");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_step_api);
	tcase_add_test(tc, test_step_stop_queued);
	tcase_add_test(tc, test_step_free_running);
	tcase_add_test(tc, test_step_stop_in_fork);
	suite_add_tcase(s, tc);

	tc = tcase_create("serve-child");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_loop_test(tc, test_serve_child_free, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("descriptors");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_out_of_fds);
	tcase_add_loop_test(tc, test_default_queue_nofile, 0,
	                    (int)(sizeof(queue_limits) / sizeof(queue_limits[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("hooks");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_hooks);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_bad_args_server);
	suite_add_tcase(s, tc);

	tc = tcase_create("cgroups");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_cgroup_timeout_kills_daemon);
	tcase_add_test(tc, test_cgroup_client_loss_kills_daemon);
	tcase_add_test(tc, test_cgroup_server_killed);
	tcase_add_test(tc, test_cgroup_leftover_after_exit);
	tcase_add_test(tc, test_cgroup_stop_returns_leftovers);
	suite_add_tcase(s, tc);

	/* The same with a spare: its cgroup becomes the run's. */
	tc = tcase_create("cgroups-spare");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server_spare, teardown);
	tcase_add_test(tc, test_cgroup_timeout_kills_daemon);
	tcase_add_test(tc, test_cgroup_client_loss_kills_daemon);
	tcase_add_test(tc, test_cgroup_server_killed);
	tcase_add_test(tc, test_cgroup_leftover_after_exit);
	tcase_add_test(tc, test_cgroup_stop_returns_leftovers);
	suite_add_tcase(s, tc);

	tc = tcase_create("cgroups-off");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_dir, teardown);
	tcase_add_test(tc, test_cgroup_off);
	tcase_add_test(tc, test_cgroup_off_server_killed);
	suite_add_tcase(s, tc);

	tc = tcase_create("api-client");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup_server, teardown);
	tcase_add_test(tc, test_bad_args_client);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return pwt_run(forkserver_suite());
}
