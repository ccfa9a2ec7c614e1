/* SPDX-License-Identifier: MIT */
/*
 * The fork server's event loop (DESIGN.md §6). One epoll set holds the
 * listening socket, the client connections, a signalfd (SIGTERM, SIGINT),
 * an eventfd (procwait_forkserver_stop()) and the children's wait set;
 * timers (request timeouts, kill graces, idle time) set epoll's timeout.
 *
 * A connection carries one request: NEW (waiting for REQUEST) -> QUEUED
 * (no free slot) -> FORKING (handed to the host by next()) -> RUNNING
 * (STARTED sent) -> EXITED sent and closed. A client that goes away while
 * its child runs gets the child's group stopped (stop signal, grace,
 * SIGKILL); the connection lives on, "orphaned", until the child is reaped.
 */
#include "internal.h"
#include "fs-net.h"
#include "fs-proto.h"
#include "fs-server.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PW_FS_EXTRA_CONNS 32      /* connections yet to send a request, beyond the queue */
#define PW_FS_REQUEST_DEFAULT_MS 10000   /* options.request_ms 0 */
#define PW_FS_GRACE_DEFAULT 5000

static void fs_log(procwait_forkserver *fs, int level, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fs->log) {
		fs->log(fs->data, level, msg);
	} else if (level <= PROCWAIT_LOG_WARNING && fs->log_stderr) {
		char line[640];
		int n = snprintf(line, sizeof(line), "procwait: %s\n", msg);
		if (n > 0)
			(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
}

/* ---- connections -------------------------------------------------------- */

static void accept_resume(procwait_forkserver *fs);
static int spare_due(const procwait_forkserver *fs);
static procwait_request *spare_offer(procwait_forkserver *fs);
static int spare_handoff(procwait_forkserver *fs, struct pw__fs_conn *c);
static void spare_lost(procwait_forkserver *fs);
static void run_cgroup(procwait_forkserver *fs, struct procwait_request *r);

static void conn_close_fd(procwait_forkserver *fs, struct pw__fs_conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(fs->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
}

static void queue_remove(procwait_forkserver *fs, struct pw__fs_conn *c)
{
	struct pw__fs_conn **pp;

	for (pp = &fs->qhead; *pp; pp = &(*pp)->qnext) {
		if (*pp == c) {
			*pp = c->qnext;
			if (fs->qtail == c) {
				struct pw__fs_conn *t = fs->qhead;
				while (t && t->qnext)
					t = t->qnext;
				fs->qtail = t;
			}
			fs->nqueued--;
			c->qnext = NULL;
			return;
		}
	}
}

static void conn_free(procwait_forkserver *fs, struct pw__fs_conn *c)
{
	int i;

	for (i = 0; i < fs->batch_n; i++)
		if (fs->batch[i].data.ptr == c)
			fs->batch[i].data.ptr = NULL;   /* see handle_events() */
	if (c->state == PW_FS_QUEUED)
		queue_remove(fs, c);
	conn_close_fd(fs, c);
	if (c->req) {
		pw__cg_run_done(&fs->cg, c->req->cgroup);   /* made, never used */
		c->req->cgroup = NULL;
	}
	procwait_request_free(c->req);   /* and its descriptors */
	if (c->prev)
		c->prev->next = c->next;
	else
		fs->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	fs->nconns--;
	free(c);
	fs->last_active = pw__now_ns();
	accept_resume(fs);   /* a descriptor is free again */
}

static void conn_send(struct pw__fs_conn *c, const void *buf, size_t len)
{
	if (c->fd >= 0)
		(void)pw__fs_send(c->fd, buf, len, NULL, 0, MSG_DONTWAIT);
}

static void conn_error(struct pw__fs_conn *c, int err, const char *fmt, ...)
{
	char msg[PW_FS_MAX_MESSAGE + 1];
	char frame[PW_FS_HEADER + 8 + PW_FS_MAX_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_send(c, frame, pw__fs_error_encode(frame, err, msg));
}

/* A connection is done for: reply (when err) and drop it, stopping its
 * child when one runs. */
static void conn_fail(procwait_forkserver *fs, struct pw__fs_conn *c, int err,
                      const char *why)
{
	if (err) {
		conn_error(c, err, "%s", why);
		fs_log(fs, PROCWAIT_LOG_WARNING, "client pid %ld: %s",
		       (long)c->peer_pid, why);
	}
	switch (c->state) {
	case PW_FS_RUNNING:
		conn_close_fd(fs, c);
		pw__unit_stop(&c->unit, 0);   /* freed when the child is reaped */
		break;
	case PW_FS_FORKING:
		conn_close_fd(fs, c);          /* parent() stops the child */
		c->lost = 1;
		break;
	default:
		conn_free(fs, c);
	}
}

/* ---- children ------------------------------------------------------------ */

static void child_exited(struct pw__unit *u, const procwait_status *st, const struct rusage *ru)
{
	struct pw__fs_conn *c = (struct pw__fs_conn *)((char *)u - offsetof(struct pw__fs_conn, unit));
	procwait_forkserver *fs = c->fs;
	struct pw__fs_exited e;
	char frame[PW_FS_HEADER + 64];

	memset(&e, 0, sizeof(e));
	e.kind = st->kind;
	e.code = st->code;
	e.signo = st->signo;
	e.core = st->core;
	e.timed_out = u->timed_out;
	e.utime_us = (int64_t)ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec;
	e.stime_us = (int64_t)ru->ru_stime.tv_sec * 1000000 + ru->ru_stime.tv_usec;
	e.maxrss_kib = ru->ru_maxrss;
	conn_send(c, frame, pw__fs_exited_encode(frame, &e));
	fs->running--;
	conn_free(fs, c);
}

/* ---- requests -------------------------------------------------------------- */

static void conn_request(procwait_forkserver *fs, struct pw__fs_conn *c,
                         const uint8_t *p, size_t len, int *fds, int nfds)
{
	struct procwait_request *r;
	const char *why;
	int rc, i;

	if (nfds != PW_FS_NFDS) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		conn_fail(fs, c, EPROTO, nfds < PW_FS_NFDS ?
		          "request without its three descriptors" :
		          "request with too many descriptors");
		return;
	}
	rc = pw__fs_request_decode(p, len, &r, &why);
	if (rc < 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		conn_fail(fs, c, -rc, why);
		return;
	}
	for (i = 0; i < PW_FS_NFDS; i++)
		r->fds[i] = fds[i];
	r->owner = c;
	c->req = r;
	/* Every request ahead of this one (running, being forked, queued)
	 * takes a slot or a place in the queue first. */
	if ((int64_t)fs->running + (fs->pending ? 1 : 0) + fs->nqueued >=
	    (int64_t)fs->max_children + fs->max_queue) {
		conn_fail(fs, c, EAGAIN, "server busy: all child slots and the queue are full");
		return;
	}
	c->state = PW_FS_QUEUED;
	if (fs->qtail)
		fs->qtail->qnext = c;
	else
		fs->qhead = c;
	fs->qtail = c;
	fs->nqueued++;
}

/* recv() gives 0 for an empty SEQPACKET message as for a hang-up. */
static int hung_up(int fd)
{
	struct pollfd p = { fd, POLLRDHUP, 0 };
	int r = poll(&p, 1, 0);

	return r < 0 || (r == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)));
}

static void conn_readable(procwait_forkserver *fs, struct pw__fs_conn *c)
{
	const uint8_t *p;
	size_t len;
	ssize_t n;
	int fds[PW_FS_NFDS + 1], nfds, trunc, type, i;
	int32_t v;

	n = pw__fs_recv(c->fd, fs->buf, PROCWAIT_FORKSERVER_MAX_FRAME + 1, fds,
	                PW_FS_NFDS + 1, &nfds, &trunc, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return;
	if (n == 0 && !hung_up(c->fd)) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		conn_fail(fs, c, EPROTO, "empty frame");
		return;
	}
	if (n <= 0) {
		/* The client went away (or its socket broke). */
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		conn_fail(fs, c, 0, NULL);
		return;
	}
	if (trunc && (size_t)n <= PROCWAIT_FORKSERVER_MAX_FRAME && nfds < PW_FS_NFDS) {
		/* The kernel could not install the descriptors: ours ran out. */
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		conn_fail(fs, c, EAGAIN, "server out of descriptors");
		return;
	}
	type = pw__fs_frame(fs->buf, (size_t)n, trunc || (size_t)n > PROCWAIT_FORKSERVER_MAX_FRAME,
	                    &p, &len);
	if (type < 0) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		conn_fail(fs, c, -type, type == -EPROTONOSUPPORT ?
		          "unsupported protocol version" : type == -EMSGSIZE ?
		          "frame too large (or too many descriptors)" : "malformed frame");
		return;
	}
	if (type == PW_FS_REQUEST && c->state == PW_FS_NEW) {
		conn_request(fs, c, p, len, fds, nfds);
		return;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (nfds) {
		conn_fail(fs, c, EPROTO, "descriptors sent with a frame that takes none");
		return;
	}
	if (type == PW_FS_SIGNAL && c->state != PW_FS_NEW) {
		if (pw__fs_int_decode(p, len, &v) < 0 || v < 0 || v >= NSIG) {
			conn_fail(fs, c, EPROTO, "malformed signal frame");
			return;
		}
		/* The child leads a session of its own, so its group is
		 * orphaned: the kernel discards SIGTSTP, SIGTTIN and SIGTTOU
		 * sent to it (POSIX job control). Stop it for real. */
		if (v == SIGTSTP || v == SIGTTIN || v == SIGTTOU)
			v = SIGSTOP;
		if (v == 0)
			return;
		/* (No frame is read while a request is FORKING: next() is not
		 * called until parent() has made it RUNNING.) */
		if (c->state == PW_FS_RUNNING) {
			pw__unit_signal(&c->unit, v);
		} else if (c->state == PW_FS_QUEUED && v != SIGSTOP && v != SIGCONT &&
		           v != SIGWINCH && v != SIGCHLD && v != SIGURG) {
			/* Nothing runs yet: a signal that would end the child
			 * withdraws the request. */
			queue_remove(fs, c);
			c->state = PW_FS_NEW;
			conn_fail(fs, c, EINTR, "interrupted before it started");
		}
		return;
	}
	conn_fail(fs, c, EPROTO, "unexpected frame type");
}

static int uid_allowed(const procwait_forkserver *fs, uid_t uid)
{
	size_t i;

	for (i = 0; i < fs->n_uids; i++)
		if (fs->uids[i] == uid)
			return 1;
	return 0;
}

#define PW_FS_ACCEPT_PAUSE_NS 100000000LL   /* 100 ms */

static void accept_watch(procwait_forkserver *fs, uint32_t events)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.ptr = &fs->lfd;
	if (fs->lfd >= 0)
		epoll_ctl(fs->epfd, EPOLL_CTL_MOD, fs->lfd, &ev);
}

/* ---- connections that owe their request --------------------------------------- */

/* The connections in state NEW; *oldest (when not NULL) gets the one
 * accepted first (the list is newest first). */
static int count_new(const procwait_forkserver *fs, struct pw__fs_conn **oldest)
{
	struct pw__fs_conn *c;
	int n = 0;

	for (c = fs->conns; c; c = c->next) {
		if (c->state != PW_FS_NEW)
			continue;
		n++;
		if (oldest)
			*oldest = c;
	}
	return n;
}

/* The earliest request deadline, INT64_MAX when none. */
static int64_t next_request_due(const procwait_forkserver *fs)
{
	const struct pw__fs_conn *c;
	int64_t at = INT64_MAX;

	for (c = fs->conns; c; c = c->next)
		if (c->state == PW_FS_NEW && c->request_by && c->request_by < at)
			at = c->request_by;
	return at;
}

/* Close the connections whose request is overdue. */
static void expire_requests(procwait_forkserver *fs)
{
	struct pw__fs_conn *c, *nx;
	int64_t now = pw__now_ns();

	for (c = fs->conns; c; c = nx) {
		nx = c->next;
		if (c->state == PW_FS_NEW && c->request_by && c->request_by <= now)
			conn_fail(fs, c, ETIMEDOUT, "no request within the server's request time");
	}
}

static void accept_pause(procwait_forkserver *fs)
{
	if (!fs->accept_paused_until)
		accept_watch(fs, 0);
	fs->accept_paused_until = pw__now_ns() + PW_FS_ACCEPT_PAUSE_NS;
}

/* A connection closed or the pause is over: listen again. */
static void accept_resume(procwait_forkserver *fs)
{
	if (!fs->accept_paused_until)
		return;
	fs->accept_paused_until = 0;
	accept_watch(fs, EPOLLIN);
}

static void accept_clients(procwait_forkserver *fs)
{
	for (;;) {
		struct pw__fs_conn *c;
		struct epoll_event ev;
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		int fd = accept4(fs->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* The listening socket stays readable: stop
				 * watching it for a while, or the loop spins. */
				fs_log(fs, PROCWAIT_LOG_ERROR, "accept: %s (pausing new connections)",
				       strerror(errno));
				accept_pause(fs);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				fs_log(fs, PROCWAIT_LOG_ERROR, "accept: %s", strerror(errno));
			}
			return;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->fs = fs;
		c->unit.on_exit = child_exited;
		c->unit.grace_ms = fs->grace_ms;
		c->unit.stop_signal = SIGTERM;
		c->next = fs->conns;
		if (fs->conns)
			fs->conns->prev = c;
		fs->conns = c;
		fs->nconns++;
		fs->last_active = pw__now_ns();
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
			conn_fail(fs, c, EPERM, "peer credentials unavailable");
			continue;
		}
		c->peer_pid = cred.pid;
		if (!uid_allowed(fs, cred.uid)) {
			conn_error(c, EPERM, "uid %lu is not allowed to use this server",
			           (unsigned long)cred.uid);
			fs_log(fs, PROCWAIT_LOG_WARNING, "refused a connection from uid %lu (pid %ld)",
			       (unsigned long)cred.uid, (long)cred.pid);
			conn_free(fs, c);
			continue;
		}
		/* Connections yet to send a request are bounded in time
		 * (request_ms) and in number: past the bound the one waiting
		 * longest makes room. The slots and the queue count requests. */
		if (fs->request_ms > 0)
			c->request_by = pw__now_ns() + (int64_t)fs->request_ms * 1000000;
		if (count_new(fs, NULL) > fs->max_queue + PW_FS_EXTRA_CONNS) {
			struct pw__fs_conn *old = NULL;

			count_new(fs, &old);
			conn_fail(fs, old, EAGAIN, "server busy: too many connections that "
			          "sent no request (this one waited longest)");
		}
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = c;
		if (epoll_ctl(fs->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			conn_fail(fs, c, EAGAIN, "server out of resources");
			continue;
		}
	}
}

/* ---- stopping ---------------------------------------------------------------- */

static void begin_stop(procwait_forkserver *fs, const char *why)
{
	struct pw__fs_conn *c, *nx;

	if (fs->stopping)
		return;
	fs->stopping = 1;
	fs_log(fs, PROCWAIT_LOG_INFO, "stopping (%s)", why);
	pw__fs_unlisten(fs);
	pw__fs_spare_drop(fs);
	for (c = fs->conns; c; c = nx) {
		nx = c->next;
		if (c->state == PW_FS_NEW || c->state == PW_FS_QUEUED) {
			conn_error(c, ESHUTDOWN, "server stopping");
			conn_free(fs, c);
		} else if (c->state == PW_FS_RUNNING) {
			pw__unit_stop(&c->unit, 0);
		}
	}
}

/* ---- the loop ---------------------------------------------------------------- */

static int64_t next_timer(const procwait_forkserver *fs)
{
	int64_t at = pw__units_next(&fs->units), due;

	if (fs->accept_paused_until && fs->accept_paused_until < at)
		at = fs->accept_paused_until;
	due = next_request_due(fs);
	if (due < at)
		at = due;
	due = pw__cg_next(&fs->cg);
	if (due < at)
		at = due;

	if (!fs->stopping && fs->idle_ms > 0 && fs->nconns == 0 && fs->running == 0) {
		int64_t idle = fs->last_active + (int64_t)fs->idle_ms * 1000000;
		if (idle < at)
			at = idle;
	}
	return at;
}

PROCWAIT_EXTERN int procwait_forkserver_timeout(const procwait_forkserver *fs)
{
	pw__check_arg(fs);
	if (fs->stopped || (fs->qhead && fs->running < fs->max_children && !fs->stopping) ||
	    spare_due(fs))
		return 0;
	return pw__ms_until(next_timer(fs));
}

static void handle_events(procwait_forkserver *fs, struct epoll_event *ev, int n)
{
	const char *stop = NULL;
	int i;

	fs->batch = ev;
	fs->batch_n = n;
	for (i = 0; i < n; i++) {
		void *tag = ev[i].data.ptr;

		if (!tag) {
			/* a connection freed earlier in this batch */
		} else if (tag == &fs->lfd) {
			accept_clients(fs);
		} else if (tag == &fs->sigfd) {
			struct signalfd_siginfo si;
			while (read(fs->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				stop = si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
		} else if (tag == &fs->evfd) {
			uint64_t v;
			if (read(fs->evfd, &v, sizeof(v)) == (ssize_t)sizeof(v))
				stop = "stop requested";
		} else if (tag == &fs->spare_fd) {
			spare_lost(fs);
		} else if (tag == &fs->units) {
			/* children: handled by the dispatch after the batch */
		} else {
			/* Live: epoll reports a descriptor once per batch, and
			 * a connection freed meanwhile was cleared above. */
			conn_readable(fs, tag);
		}
	}
	fs->batch = NULL;
	fs->batch_n = 0;
	/* Stopping frees connections: only after the batch. */
	if (stop)
		begin_stop(fs, stop);
}

static int finish_stop(procwait_forkserver *fs)
{
	struct pw__fs_conn *c;

	while ((c = fs->conns) != NULL)
		conn_free(fs, c);
	fs->stopped = 1;
	fs_log(fs, PROCWAIT_LOG_INFO, "stopped");
	return PROCWAIT_FORKSERVER_STOPPED;
}

PROCWAIT_EXTERN int procwait_forkserver_next(procwait_forkserver *fs, int timeout_ms,
                                             procwait_request **req)
{
	struct epoll_event ev[32];
	pw__deadline d;
	sigset_t old;
	int n, rc = PROCWAIT_FORKSERVER_TIMEOUT, masked = 0;

	pw__check_arg(fs && req);
	*req = NULL;
	if (fs->pending)
		return -EBUSY;
	if (fs->stopped)
		return PROCWAIT_FORKSERVER_STOPPED;
	pw__deadline_init(&d, timeout_ms);
	if (fs->sigfd >= 0 && pthread_sigmask(SIG_BLOCK, &fs->sigmask, &old) == 0)
		masked = 1;
	for (;;) {
		if (!fs->stopping && fs->qhead && fs->running < fs->max_children) {
			struct pw__fs_conn *c = fs->qhead;

			queue_remove(fs, c);
			if (fs->spare && spare_handoff(fs, c) == 0)
				continue;
			/* Forked the usual way: spares may be tried again. */
			fs->spares_off = 0;
			run_cgroup(fs, c->req);
			c->state = PW_FS_FORKING;
			fs->pending = c->req;
			*req = c->req;
			rc = PROCWAIT_FORKSERVER_READY;
			break;
		}
		if (fs->stopping && fs->running == 0 && !fs->pending) {
			rc = finish_stop(fs);
			break;
		}
		if ((*req = spare_offer(fs)) != NULL) {
			fs->pending = *req;
			rc = PROCWAIT_FORKSERVER_READY;
			break;
		}
		n = epoll_wait(fs->epfd, ev, 32, pw__deadline_ms_before(&d, next_timer(fs)));
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n > 0)
			handle_events(fs, ev, n);
		n = pw__units_dispatch(&fs->units);
		if (n < 0) {
			rc = n;
			break;
		}
		if (fs->accept_paused_until && pw__now_ns() >= fs->accept_paused_until)
			accept_resume(fs);
		expire_requests(fs);
		pw__cg_sweep(&fs->cg, pw__now_ns());
		if (!fs->stopping && fs->idle_ms > 0 && fs->nconns == 0 && fs->running == 0 &&
		    pw__now_ns() >= fs->last_active + (int64_t)fs->idle_ms * 1000000)
			begin_stop(fs, "idle");
		if (pw__deadline_ms(&d) == 0 && !(fs->qhead && fs->running < fs->max_children) &&
		    !(fs->stopping && fs->running == 0)) {
			rc = PROCWAIT_FORKSERVER_TIMEOUT;
			break;
		}
	}
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Give the request about to be forked its cgroup, when runs get one. */
static void run_cgroup(procwait_forkserver *fs, struct procwait_request *r)
{
	int rc;

	if (!fs->cg.base || r->cgroup)
		return;
	rc = pw__cg_run_new(&fs->cg, &r->cgroup);
	if (rc < 0)
		fs_log(fs, PROCWAIT_LOG_WARNING, "cannot create a cgroup under %s (%s): "
		       "this run is stopped through its process group only",
		       fs->cg.base, strerror(-rc));
}

/* Track @pid (its handle @proc, or NULL to open one) as the child of
 * connection @c (its request's descriptors are the child's now): STARTED
 * to the client, or an error. 0, or -ESRCH when the child was reaped
 * behind our back. */
static int track_child(procwait_forkserver *fs, struct pw__fs_conn *c, pid_t pid,
                       procwait_proc *proc)
{
	struct procwait_request *req = c->req;
	char frame[PW_FS_HEADER + 8 + PW_FS_MAX_CGROUP];
	char *cgroup = req->cgroup;
	int rc = 0, i;

	for (i = 0; i < PW_FS_NFDS; i++) {
		if (req->fds[i] >= 0)
			close(req->fds[i]);
		req->fds[i] = -1;
	}
	req->cgroup = NULL;   /* the unit's from here on */
	if (pid < 0) {
		pw__cg_run_done(&fs->cg, cgroup);
		c->state = PW_FS_NEW;   /* not running: freed below */
		conn_fail(fs, c, -pid, "fork failed");
		return 0;
	}
	if (!proc)
		rc = procwait_proc_open(pid, 0, &proc);
	if (rc == 0) {
		c->state = PW_FS_RUNNING;
		rc = pw__unit_track(&fs->units, &c->unit, proc, req->timeout_ms < 0 ?
		                    fs->timeout_ms : req->timeout_ms);
	}
	if (rc < 0) {
		/* Gone already (reaped behind our back: its pid may be
		 * somebody else's now, leave it alone), or no resources to
		 * track it: then it is ours and unreaped, kill and reap it. */
		if (rc != -ESRCH) {
			kill(pid, SIGKILL);
			kill(-pid, SIGKILL);
			if (cgroup)
				(void)pw__cg_kill(cgroup);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		pw__cg_run_done(&fs->cg, cgroup);
		c->state = PW_FS_NEW;
		conn_fail(fs, c, rc == -ESRCH ? ESRCH : -rc,
		          rc == -ESRCH ? "child reaped behind the server's back" :
		          "cannot track the child");
		return rc == -ESRCH ? -ESRCH : 0;
	}
	c->unit.cgroup = cgroup;
	fs->running++;
	fs->last_active = pw__now_ns();
	if (c->lost || fs->stopping) {
		pw__unit_stop(&c->unit, 0);
		return 0;
	}
	conn_send(c, frame, pw__fs_started_encode(frame, (int32_t)pid, cgroup));
	return 0;
}

/* ---- spares ------------------------------------------------------------------- */

void pw__fs_spare_drop(procwait_forkserver *fs)
{
	if (fs->spare_fd >= 0) {
		if (fs->epfd >= 0)
			epoll_ctl(fs->epfd, EPOLL_CTL_DEL, fs->spare_fd, NULL);
		close(fs->spare_fd);   /* an idle spare reads the end, exits */
		fs->spare_fd = -1;
	}
	if (fs->spare) {
		procwait_status st;

		procwait_proc_signal(fs->spare, SIGKILL);
		(void)procwait_proc_wait(fs->spare, -1, 0, &st);
		procwait_proc_close(fs->spare);
		fs->spare = NULL;
	}
	pw__cg_run_done(&fs->cg, fs->spare_cg);
	fs->spare_cg = NULL;
}

/* A spare is wanted and missing: next() would hand out a placeholder. */
static int spare_due(const procwait_forkserver *fs)
{
	return fs->spares && !fs->spares_off && !fs->spare && fs->spare_fd < 0 &&
	       !fs->stopping && !fs->pending && fs->running < fs->max_children;
}

/* The placeholder next() returns to have a spare forked, or NULL. */
static procwait_request *spare_offer(procwait_forkserver *fs)
{
	procwait_request *r;
	struct epoll_event ev;
	int sp[2];

	if (!spare_due(fs))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		free(r);
		fs->spares_off = 1;   /* out of descriptors: try after a request */
		return NULL;
	}
	/* A spare that dies idle hangs its end up: reaped then. */
	ev.events = EPOLLRDHUP;
	ev.data.ptr = &fs->spare_fd;
	if (epoll_ctl(fs->epfd, EPOLL_CTL_ADD, sp[0], &ev) < 0) {
		close(sp[0]);
		close(sp[1]);
		free(r);
		fs->spares_off = 1;
		return NULL;
	}
	r->spare = 1;
	r->spare_fd = sp[1];
	r->fds[0] = r->fds[1] = r->fds[2] = -1;
	r->timeout_ms = -1;
	run_cgroup(fs, r);   /* the spare moves in while it idles */
	fs->spare_fd = sp[0];
	return r;
}

/* Hand the request of @c to the idle spare. 0 once it runs there; < 0
 * when the spare could not take it (it is dropped; fork the usual way). */
static int spare_handoff(procwait_forkserver *fs, struct pw__fs_conn *c)
{
	struct procwait_request *r = c->req;
	procwait_proc *spare = fs->spare;
	int len, rc;

	len = pw__fs_request_encode(fs->buf, PROCWAIT_FORKSERVER_MAX_FRAME, r->flags,
	                            r->timeout_ms, r->argv, r->envp, r->cwd);
	rc = len < 0 ? len : pw__fs_send(fs->spare_fd, fs->buf, (size_t)len, r->fds,
	                                 PW_FS_NFDS, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (rc < 0) {
		pw__fs_spare_drop(fs);
		fs->spares_off = 1;
		return rc;
	}
	/* The spare has the frame; it runs the request from here on. */
	epoll_ctl(fs->epfd, EPOLL_CTL_DEL, fs->spare_fd, NULL);
	close(fs->spare_fd);
	fs->spare_fd = -1;
	fs->spare = NULL;
	r->cgroup = fs->spare_cg;   /* the run's cgroup is the spare's */
	fs->spare_cg = NULL;
	track_child(fs, c, procwait_proc_pid(spare), spare);
	return 0;
}

/* The idle spare hung up: it died (killed, or failed to start). */
static void spare_lost(procwait_forkserver *fs)
{
	fs_log(fs, PROCWAIT_LOG_WARNING, "spare child %ld exited before any request",
	       fs->spare ? (long)procwait_proc_pid(fs->spare) : -1L);
	pw__fs_spare_drop(fs);
	fs->spares_off = 1;
}

PROCWAIT_EXTERN int procwait_forkserver_set_spares(procwait_forkserver *fs, int n)
{
	pw__check_arg(fs && n >= 0 && n <= 1);
	if (getpid() != fs->server_pid || fs->forgotten)
		return -EINVAL;
	fs->spares = n;
	fs->spares_off = 0;
	if (n == 0 && !(fs->pending && fs->pending->spare))
		pw__fs_spare_drop(fs);
	return 0;
}

PROCWAIT_EXTERN int procwait_forkserver_parent(procwait_forkserver *fs, procwait_request *req,
                                               pid_t pid)
{
	pw__check_arg(fs && req && pid != 0 && req == fs->pending);
	fs->pending = NULL;
	if (req->spare) {
		int rc;

		fs->spare_cg = req->cgroup;   /* dropped with the spare */
		req->cgroup = NULL;
		procwait_request_free(req);   /* closes the spare's end */
		rc = pid > 0 ? procwait_proc_open(pid, 0, &fs->spare) : pid;

		/* A handle, not a pid: it cannot reach a recycled pid. */
		if (rc < 0)
			fs->spare = NULL;
		if (rc < 0 || !fs->spares || fs->stopping) {
			pw__fs_spare_drop(fs);
			if (pid > 0 && rc < 0 && rc != -ESRCH) {
				/* Ours and alive, but no handle (out of
				 * descriptors): kill and reap it by pid. */
				kill(pid, SIGKILL);
				while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
					;
			}
			pw__cg_run_done(&fs->cg, fs->spare_cg);
			fs->spare_cg = NULL;
			fs->spares_off = 1;
		}
		return 0;
	}
	return track_child(fs, req->owner, pid, NULL);
}

PROCWAIT_EXTERN int procwait_forkserver_serve(procwait_forkserver *fs, procwait_request **out)
{
	procwait_request *req;
	sigset_t old;
	int rc, masked = 0;

	pw__check_arg(fs && out);
	*out = NULL;
	/* SIGTERM and SIGINT stay blocked across the whole loop, fork and
	 * parent() included: one arriving between two next() calls is read
	 * from the signalfd, not acted on by its default disposition. The
	 * child's mask is emptied by procwait_forkserver_child(). */
	if (fs->sigfd >= 0 && pthread_sigmask(SIG_BLOCK, &fs->sigmask, &old) == 0)
		masked = 1;
	for (;;) {
		sigset_t all, before;
		pid_t pid;

		rc = procwait_forkserver_next(fs, -1, &req);
		if (rc == PROCWAIT_FORKSERVER_STOPPED) {
			rc = 0;
			break;
		}
		if (rc == -EINTR || rc == PROCWAIT_FORKSERVER_TIMEOUT)
			continue;
		if (rc < 0)
			break;
		if (fs->before_fork)
			fs->before_fork(fs->data);
		/* Every signal blocked across fork(): one forwarded to the
		 * child before child() has reset the dispositions it inherits
		 * stays pending instead of being discarded (Linux keeps an
		 * ignored signal pending while it is blocked). */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &before);
		pid = fork();
		if (pid != 0)
			pthread_sigmask(SIG_SETMASK, &before, NULL);
		if (pid == 0) {
			void (*after)(void *) = fs->after_fork;
			void *data = fs->data;

			rc = procwait_forkserver_child(fs, req);
			if (rc < 0)
				_exit(rc == -ECANCELED ? 0 : 127);   /* a spare never used */
			if (after)
				after(data);
			*out = req;
			return 1;
		}
		procwait_forkserver_parent(fs, req, pid < 0 ? -errno : pid);
	}
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

PROCWAIT_EXTERN int procwait_forkserver_stop(procwait_forkserver *fs)
{
	uint64_t one = 1;
	int e = errno;

	pw__check_arg(fs);
	/* In a child forked from the server (before or after
	 * procwait_forkserver_child()) the eventfd is the server's. */
	if (getpid() != fs->server_pid || fs->evfd < 0)
		return 0;
	(void)!write(fs->evfd, &one, sizeof(one));
	errno = e;
	return 0;
}

PROCWAIT_EXTERN int procwait_forkserver_fd(const procwait_forkserver *fs)
{
	pw__check_arg(fs);
	return fs->epfd;
}

PROCWAIT_EXTERN const char *procwait_forkserver_path(const procwait_forkserver *fs)
{
	return fs ? fs->path : NULL;
}

PROCWAIT_EXTERN int procwait_forkserver_children(const procwait_forkserver *fs)
{
	pw__check_arg(fs);
	return fs->running;
}

/* ---- creation ---------------------------------------------------------------- */

/* 4 × max_children, but no more than the descriptor limit holds: a queued
 * request holds 4 descriptors (its connection and the client's three), a
 * running child 2 (its connection and its handle). */
static int default_queue(int max_children)
{
	struct rlimit rl;
	int64_t q = 4 * (int64_t)max_children, room;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		room = ((int64_t)rl.rlim_cur - 64 - 2 * (int64_t)max_children) / 4;
		if (room < q)
			q = room;
	}
	if (q < 0)
		q = 0;
	return q > INT_MAX ? INT_MAX : (int)q;
}

static int epoll_add_tag(int epfd, int fd, void *tag)
{
	struct epoll_event ev;

	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

PROCWAIT_EXTERN int procwait_forkserver_new(const procwait_forkserver_options *opts,
                                            procwait_forkserver **out)
{
	procwait_forkserver_options def = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	const unsigned known = PROCWAIT_FORKSERVER_NO_SIGNALS | PROCWAIT_FORKSERVER_KEEP_FDS |
	                       PROCWAIT_FORKSERVER_NO_CGROUPS;
	int rc;

	pw__check_arg(out);
	*out = NULL;
	if (!opts)
		opts = &def;
	pw__check_arg(opts->size >= sizeof(procwait_forkserver_options));
	pw__check_arg((opts->flags & ~known) == 0);
	pw__check_arg(opts->allowed_uids || opts->n_allowed_uids == 0);
	pw__check_arg(opts->n_allowed_uids <= 4096);
	pw__check_arg(opts->max_children >= 0 && opts->max_queue >= -1);

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->lfd = fs->epfd = fs->sigfd = fs->evfd = fs->spare_fd = -1;
	fs->server_pid = getpid();
	fs->flags = opts->flags;
	fs->max_children = opts->max_children > 0 ? opts->max_children : 64;
	fs->max_queue = opts->max_queue >= 0 ? opts->max_queue :
		default_queue(fs->max_children);
	fs->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 0;
	fs->grace_ms = opts->kill_grace_ms >= 0 ? opts->kill_grace_ms : PW_FS_GRACE_DEFAULT;
	fs->idle_ms = opts->idle_ms > 0 ? opts->idle_ms : 0;
	fs->request_ms = opts->request_ms == 0 ? PW_FS_REQUEST_DEFAULT_MS :
	                 opts->request_ms < 0 ? 0 : opts->request_ms;
	fs->before_fork = opts->before_fork;
	fs->after_fork = opts->after_fork;
	fs->log = opts->log;
	fs->data = opts->data;
	fs->last_active = pw__now_ns();
	/* Without a standard error now, descriptor 2 may later be one a
	 * client sent: then the default log stays silent. */
	fs->log_stderr = fcntl(STDERR_FILENO, F_GETFD) >= 0;
	if (opts->n_allowed_uids) {
		fs->n_uids = opts->n_allowed_uids;
		fs->uids = malloc(fs->n_uids * sizeof(uid_t));
		if (fs->uids)
			memcpy(fs->uids, opts->allowed_uids, fs->n_uids * sizeof(uid_t));
	} else {
		fs->n_uids = 1;
		fs->uids = malloc(sizeof(uid_t));
		if (fs->uids)
			fs->uids[0] = geteuid();
	}
	fs->buf = malloc(PROCWAIT_FORKSERVER_MAX_FRAME + 1);
	if (!fs->uids || !fs->buf) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = pw__units_init(&fs->units);
	if (rc < 0)
		goto fail;
	fs->units.cg = &fs->cg;
	fs->epfd = epoll_create1(EPOLL_CLOEXEC);
	fs->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fs->epfd < 0 || fs->evfd < 0) {
		rc = -errno;
		goto fail;
	}
	if (!(fs->flags & PROCWAIT_FORKSERVER_NO_SIGNALS)) {
		sigemptyset(&fs->sigmask);
		sigaddset(&fs->sigmask, SIGTERM);
		sigaddset(&fs->sigmask, SIGINT);
		fs->sigfd = signalfd(-1, &fs->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
		if (fs->sigfd < 0) {
			rc = -errno;
			goto fail;
		}
		if ((rc = epoll_add_tag(fs->epfd, fs->sigfd, &fs->sigfd)) < 0)
			goto fail;
	}
	if ((rc = epoll_add_tag(fs->epfd, fs->evfd, &fs->evfd)) < 0 ||
	    (rc = epoll_add_tag(fs->epfd, procwait_waitset_fd(fs->units.ws), &fs->units)) < 0)
		goto fail;
	rc = pw__fs_listen(fs, opts->name, opts->socket_path);
	if (rc < 0)
		goto fail;
	if ((rc = epoll_add_tag(fs->epfd, fs->lfd, &fs->lfd)) < 0)
		goto fail;
	if (!(fs->flags & PROCWAIT_FORKSERVER_NO_CGROUPS)) {
		char why[PW_FS_MAX_CGROUP + 160];

		if (pw__cg_init(&fs->cg, (unsigned long)fs->sock_ino, why, sizeof(why)) == 0)
			fs_log(fs, PROCWAIT_LOG_INFO, "each run gets a cgroup under %s", fs->cg.base);
		else
			fs_log(fs, PROCWAIT_LOG_WARNING, "runs get no cgroup of their own (%s): "
			       "a stop reaches a run's process group only", why);
	}
	{
		/* fork() copies only the calling thread (DESIGN.md §9). */
		struct pw__stat st;

		if (pw__proc_stat(getpid(), &st) == 0 && st.num_threads > 1)
			fs_log(fs, PROCWAIT_LOG_WARNING, "the server process has %ld threads: "
			       "each forked child gets only the one that forks it",
			       st.num_threads);
	}
	*out = fs;
	return 0;
fail:
	procwait_forkserver_free(fs);
	return rc;
}

PROCWAIT_EXTERN void procwait_forkserver_free(procwait_forkserver *fs)
{
	struct pw__fs_conn *c;

	if (!fs)
		return;
	if (fs->forgotten) {
		free(fs);            /* released by procwait_forkserver_child() */
		return;
	}
	if (getpid() != fs->server_pid) {
		pw__fs_forget(fs);   /* a forked copy: touch nothing shared */
		free(fs);
		return;
	}
	pw__fs_unlisten(fs);
	pw__fs_spare_drop(fs);
	if (fs->pending && fs->pending->spare) {
		pw__cg_run_done(&fs->cg, fs->pending->cgroup);
		fs->pending->cgroup = NULL;
		procwait_request_free(fs->pending);
		fs->pending = NULL;
	} else if (fs->pending) {
		/* next() returned a request that never reached parent(). */
		c = fs->pending->owner;
		fs->pending = NULL;
		c->state = PW_FS_NEW;
	}
	if (fs->units.ws)
		pw__units_fini(&fs->units);   /* SIGKILL, reap */
	while ((c = fs->conns) != NULL) {
		c->state = PW_FS_NEW;
		conn_free(fs, c);
	}
	pw__cg_fini(&fs->cg);
	pw__fs_release(fs);
	free(fs);
}
