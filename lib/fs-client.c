/* SPDX-License-Identifier: MIT */
/*
 * The fork server's client: one connection, one request. Every failure is
 * an error code (the server's own reply when it sent one), never a hang:
 * a server that dies closes the socket, which ends every wait here.
 */
#include "internal.h"
#include "fs-net.h"
#include "fs-proto.h"
#include "fs-cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define PW_CLIENT_KILL_WAIT_MS 1000   /* cleaning up after a lost server, at most */

struct procwait_client {
	int fd;
	int started;            /* request sent */
	int done;               /* EXITED (or a final error) received */
	pid_t pid;
	pid_t server_pid;       /* the peer, 0 when unknown */
	procwait_proc *child;   /* the run's leader, from STARTED; or NULL */
	char *cgroup;           /* the run's cgroup, from STARTED; or NULL */
	char message[PW_FS_MAX_MESSAGE + 1];
};

/* The frames a client receives: ERROR and STARTED are the longest. */
#define PW_CLIENT_FRAME (PW_FS_HEADER + 8 + \
	(PW_FS_MAX_MESSAGE > PW_FS_MAX_CGROUP ? PW_FS_MAX_MESSAGE : PW_FS_MAX_CGROUP) + 1)

PROCWAIT_EXTERN int procwait_client_connect(const char *socket_path, procwait_client **out)
{
	char def[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sa;
	socklen_t len;
	procwait_client *c;
	int rc;

	pw__check_arg(out);
	*out = NULL;
	if (!socket_path) {
		rc = procwait_forkserver_socket_path(NULL, 0, def, sizeof(def));
		if (rc < 0)
			return rc == -ERANGE ? -ENAMETOOLONG : rc;
		socket_path = def;
	} else if ((rc = pw__fs_check_parent(socket_path)) < 0) {
		return rc;
	}
	rc = pw__fs_sockaddr(socket_path, &sa, &len);
	if (rc < 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		free(c);
		return rc;
	}
	if (c->fd <= 2) {
		/* A caller with a closed standard descriptor: keep the
		 * connection off 0..2, which a request may hand to a child. */
		int up = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);

		close(c->fd);
		c->fd = up;
		if (up < 0) {
			rc = -errno;
			free(c);
			return rc;
		}
	}
	while (connect(c->fd, (struct sockaddr *)&sa, len) < 0) {
		if (errno == EINTR)
			continue;
		rc = -errno;
		close(c->fd);
		free(c);
		return rc;
	}
	{
		struct ucred cred;
		socklen_t clen = sizeof(cred);

		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
			c->server_pid = cred.pid;
	}
	*out = c;
	return 0;
}

/* STARTED: hold the run's leader, to kill its group should the server
 * die. Only a process the server forked: by the time we look, the child
 * may have been reaped and its pid reused. */
static void hold_child(procwait_client *c)
{
	struct pw__stat st;

	if (c->server_pid <= 0 || procwait_proc_open(c->pid, 0, &c->child) < 0) {
		c->child = NULL;
		return;
	}
	if (pw__proc_stat(c->pid, &st) < 0 || st.ppid != (long)c->server_pid) {
		procwait_proc_close(c->child);
		c->child = NULL;
	}
}

/* The server went away before it reported the exit: nobody else will stop
 * what the run left running. Its group (the leader, checked at STARTED,
 * leads it; the parent-death signal may have killed it already, and a
 * group's id is not reused while the group has members), then its cgroup,
 * which holds what left the group: a path of a run of this server only.
 * The cleanup waits up to budget_ms. */
static void run_lost(procwait_client *c, int budget_ms)
{
	procwait_proc *server = NULL;
	procwait_status st;
	pw__deadline d;
	int dead = 0;

	if (c->child) {
		(void)procwait_proc_signal(c->child, SIGKILL);
		(void)kill(-c->pid, SIGKILL);
	}
	if (!c->cgroup || !pw__cg_is_run_of(c->cgroup, (long)c->server_pid))
		return;
	if (pw__cg_kill(c->cgroup) < 0)
		return;   /* not ours to kill (another user's server), or gone */
	/* The socket closes early in the server's exit: give it a moment to
	 * be gone (a zombie counts; never reaped here). The connection may
	 * also drop with the server alive (a malformed frame of ours): then
	 * it keeps its directory. */
	pw__deadline_init(&d, budget_ms);
	if (procwait_proc_open(c->server_pid, 0, &server) == 0) {
		dead = procwait_proc_wait(server, pw__deadline_ms(&d) / 2, PROCWAIT_WAIT_NOREAP,
		                          &st) == 0;
		procwait_proc_close(server);
	} else {
		dead = kill(c->server_pid, 0) < 0 && errno == ESRCH;
	}
	pw__cg_remove_run(c->cgroup, pw__deadline_ms(&d), dead);
}

/* Receive one frame from the server (blocking unless timeout_ms >= 0).
 * Returns its type with payload in buf, 0 on timeout, or -errno. */
static int recv_frame(procwait_client *c, uint8_t *buf, size_t cap, int timeout_ms,
                      const uint8_t **p, size_t *len)
{
	int fds[3], nfds, trunc, i;
	ssize_t n;

	if (timeout_ms >= 0) {
		pw__deadline d;
		int r;

		pw__deadline_init(&d, timeout_ms);
		do
			r = pw__fd_wait(c->fd, pw__deadline_ms(&d));
		while (r == -EINTR);
		if (r <= 0)
			return r;
	}
	n = pw__fs_recv(c->fd, buf, cap, fds, 3, &nfds, &trunc, 0);
	if (n == -ECONNRESET) {
		/* A server that closes with our frame unread (a refusal sent
		 * before it read the request) makes the kernel report the
		 * reset once, ahead of the frames still queued for us. */
		n = pw__fs_recv(c->fd, buf, cap, fds, 3, &nfds, &trunc, MSG_DONTWAIT);
		if (n == -EAGAIN)
			n = -ECONNRESET;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (n == 0 || n == -ECONNRESET || n == -EPIPE)
		return -ECONNRESET;
	if (n < 0)
		return (int)n;
	if (nfds)
		return -EPROTO;   /* the server never sends descriptors */
	i = pw__fs_frame(buf, (size_t)n, trunc, p, len);
	return i < 0 ? -EPROTO : i;
}

/* An ERROR frame: keep its text, return -errno. */
static int server_error(procwait_client *c, const uint8_t *p, size_t len)
{
	int err;

	if (pw__fs_error_decode(p, len, &err, c->message, sizeof(c->message)) < 0)
		return -EPROTO;
	c->done = 1;
	return -err;
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

PROCWAIT_EXTERN int procwait_client_send(procwait_client *c, const procwait_client_request *req)
{
	char cwdbuf[PROCWAIT_FORKSERVER_MAX_CWD + 1];
	const char *cwd;
	uint8_t *buf;
	const uint8_t *p;
	size_t len;
	int fds[3], i, rc, n;

	pw__check_arg(c && req && req->size >= sizeof(procwait_client_request));
	pw__check_arg(req->argv && req->argv[0]);
	pw__check_arg((req->flags & ~(unsigned)PROCWAIT_CLIENT_PTY) == 0);
	pw__check_arg(req->timeout_ms >= -1);
	for (i = 0; i < 3; i++) {
		pw__check_arg(req->fds[i] >= -1);
		fds[i] = req->fds[i] >= 0 ? req->fds[i] : i;
		if (!fd_open(fds[i]))
			return -EBADF;
	}
	if (c->started)
		return -EALREADY;
	cwd = req->cwd;
	if (!cwd) {
		if (!getcwd(cwdbuf, sizeof(cwdbuf)))
			return errno == ERANGE ? -E2BIG : -errno;
		cwd = cwdbuf;
	}
	pw__check_arg(cwd[0] == '/');
	buf = malloc(PROCWAIT_FORKSERVER_MAX_FRAME);
	if (!buf)
		return -ENOMEM;
	n = pw__fs_request_encode(buf, PROCWAIT_FORKSERVER_MAX_FRAME, req->flags,
	                          req->timeout_ms, req->argv,
	                          req->envp ? req->envp : environ, cwd);
	if (n < 0) {
		free(buf);
		return n;
	}
	c->started = 1;
	rc = pw__fs_send(c->fd, buf, (size_t)n, fds, 3, 0);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		/* A refusal (uid, busy) may have been written before the
		 * server closed: it says more than the broken pipe. */
		rc = recv_frame(c, buf, PROCWAIT_FORKSERVER_MAX_FRAME, 0, &p, &len);
		rc = rc == PW_FS_ERROR ? server_error(c, p, len) : -ECONNRESET;
	}
	if (rc < 0)
		c->done = 1;
	free(buf);
	return rc;
}

PROCWAIT_EXTERN int procwait_client_started(procwait_client *c, int timeout_ms)
{
	uint8_t buf[PW_CLIENT_FRAME];
	char cgroup[PW_FS_MAX_CGROUP + 1];
	const uint8_t *p;
	size_t len;
	int32_t pid;
	int rc;

	pw__check_arg(c);
	if (!c->started)
		return -ESRCH;
	if (c->pid > 0)
		return c->pid;
	if (c->done)
		return -EALREADY;
	rc = recv_frame(c, buf, sizeof(buf), timeout_ms < 0 ? -1 : timeout_ms, &p, &len);
	if (rc == 0)
		return 0;
	if (rc == PW_FS_STARTED &&
	    pw__fs_started_decode(p, len, &pid, cgroup, sizeof(cgroup)) == 0) {
		c->pid = pid;
		c->cgroup = cgroup[0] ? strdup(cgroup) : NULL;
		hold_child(c);
		return pid;
	}
	if (rc == PW_FS_ERROR)
		return server_error(c, p, len);
	c->done = 1;
	return rc < 0 ? rc : -EPROTO;
}

PROCWAIT_EXTERN int procwait_client_start(procwait_client *c, const procwait_client_request *req)
{
	int rc = procwait_client_send(c, req);

	return rc < 0 ? rc : procwait_client_started(c, -1);
}

PROCWAIT_EXTERN int procwait_client_fd(const procwait_client *c)
{
	pw__check_arg(c);
	return c->fd;
}

PROCWAIT_EXTERN int procwait_client_signal(procwait_client *c, int signo)
{
	char frame[PW_FS_HEADER + 8];
	int rc;

	pw__check_arg(c && signo > 0 && signo < NSIG);
	/* Before STARTED as well: the server withdraws a queued request or
	 * delivers the signal as soon as the child runs. */
	if (!c->started || c->done)
		return -ESRCH;
	/* Never blocks: a server that does not read is no reason to hang. */
	rc = pw__fs_send(c->fd, frame, pw__fs_int_encode(frame, PW_FS_SIGNAL, signo),
	                 NULL, 0, MSG_DONTWAIT);
	return rc == -EPIPE ? -ECONNRESET : rc == -EWOULDBLOCK ? -EAGAIN : rc;
}

PROCWAIT_EXTERN int procwait_client_wait(procwait_client *c, int timeout_ms,
                                         procwait_result *res)
{
	uint8_t buf[PW_CLIENT_FRAME];
	struct pw__fs_exited e;
	const uint8_t *p;
	size_t len;
	int rc;

	pw__check_arg(c && res);
	if (c->done)
		return -EALREADY;
	if (!c->started || c->pid <= 0)
		return -ESRCH;
	rc = recv_frame(c, buf, sizeof(buf), timeout_ms < 0 ? -1 : timeout_ms, &p, &len);
	if (rc == 0)
		return 0;
	if (rc == PW_FS_ERROR)
		return server_error(c, p, len);
	if (rc < 0) {
		c->done = 1;
		if (rc == -ECONNRESET)
			run_lost(c, timeout_ms < 0 || timeout_ms > PW_CLIENT_KILL_WAIT_MS ?
			            PW_CLIENT_KILL_WAIT_MS : timeout_ms);
		return rc;
	}
	if (rc != PW_FS_EXITED || pw__fs_exited_decode(p, len, &e) < 0) {
		c->done = 1;
		return -EPROTO;
	}
	memset(res, 0, sizeof(*res));
	res->status.pid = c->pid;
	res->status.kind = e.kind;
	res->status.code = e.code;
	res->status.signo = e.signo;
	res->status.core = e.core;
	res->timed_out = e.timed_out;
	res->utime.tv_sec = (time_t)(e.utime_us / 1000000);
	res->utime.tv_usec = (suseconds_t)(e.utime_us % 1000000);
	res->stime.tv_sec = (time_t)(e.stime_us / 1000000);
	res->stime.tv_usec = (suseconds_t)(e.stime_us % 1000000);
	res->maxrss = (long)e.maxrss_kib;
	c->done = 1;
	return 1;
}

PROCWAIT_EXTERN const char *procwait_client_message(const procwait_client *c)
{
	return c ? c->message : "";
}

PROCWAIT_EXTERN const char *procwait_client_cgroup(const procwait_client *c)
{
	return c ? c->cgroup : NULL;
}

PROCWAIT_EXTERN void procwait_client_close(procwait_client *c)
{
	if (!c)
		return;
	close(c->fd);
	procwait_proc_close(c->child);
	free(c->cgroup);
	free(c);
}
