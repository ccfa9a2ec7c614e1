/* SPDX-License-Identifier: MIT */
/*
 * The fork server's private state, shared by its files: forkserver.c (the
 * loop), fs-listen.c (the socket), fs-child.c (installing a request).
 */
#ifndef PROCWAIT_FS_SERVER_H
#define PROCWAIT_FS_SERVER_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"
#include "fs-cgroup.h"
#include "unit.h"

struct epoll_event;

enum pw__fs_state {
	PW_FS_NEW,      /* waiting for the REQUEST frame */
	PW_FS_QUEUED,   /* request read; waiting for a free slot */
	PW_FS_FORKING,  /* handed to the host by next() */
	PW_FS_RUNNING   /* STARTED sent; the child runs (or is being stopped) */
};

struct pw__fs_conn {
	int fd;                         /* -1 once the client is gone */
	int state;                      /* enum pw__fs_state */
	int lost;                       /* the client went away while FORKING */
	pid_t peer_pid;
	int64_t request_by;             /* NEW: the request is due by then (0: no limit) */
	struct procwait_request *req;
	struct pw__unit unit;           /* the child, when RUNNING */
	procwait_forkserver *fs;
	struct pw__fs_conn *prev, *next;   /* all connections */
	struct pw__fs_conn *qnext;         /* the queue */
};

struct procwait_forkserver {
	pid_t server_pid;               /* the process that made it */
	unsigned flags;
	int max_children, max_queue, timeout_ms, grace_ms, idle_ms, request_ms;
	uid_t *uids;
	size_t n_uids;
	void (*before_fork)(void *);
	void (*after_fork)(void *);
	void (*log)(void *, int, const char *);
	void *data;
	int log_stderr;                 /* the default log may write to fd 2 */

	char *path;                     /* the socket, once bound */
	dev_t sock_dev;                 /* its identity, to unlink only ours */
	ino_t sock_ino;
	int lfd, epfd, sigfd, evfd;
	sigset_t sigmask;               /* SIGTERM, SIGINT unless NO_SIGNALS */
	uint8_t *buf;                   /* one frame (+1 byte to see overflow) */

	struct pw__units units;
	struct pw__fs_conn *conns;
	int nconns;
	/* The batch of epoll events being handled: a connection freed
	 * meanwhile (accept_clients() closing the oldest idle one) has its
	 * entries cleared, so that the rest of the batch never reaches it. */
	struct epoll_event *batch;
	int batch_n;
	struct pw__fs_conn *qhead, *qtail;
	int nqueued;
	int running;                    /* children tracked */
	struct procwait_request *pending;   /* returned by next(), not yet parented */
	int stopping, stopped;
	int forgotten;                  /* released in a child: only free() it */
	/* Spares (procwait_forkserver_set_spares()): a child forked ahead of
	 * the next request, waiting on a socketpair for it. */
	int spares;                     /* wanted: 0 or 1 */
	int spares_off;                 /* the last one failed: none until a
	                                   request is forked the usual way */
	procwait_proc *spare;           /* the idle spare, NULL when none */
	int spare_fd;                   /* our end of its socketpair, or -1 */
	char *spare_cg;                 /* the idle spare's cgroup, or NULL */
	struct pw__cg cg;               /* the runs' cgroups (fs-cgroup.h) */
	int64_t accept_paused_until;    /* out of descriptors: not accepting */
	int64_t last_active;            /* for the idle time */
};

/* Bind and listen (fs-listen.c): sets fs->lfd and fs->path. */
int pw__fs_listen(procwait_forkserver *fs, const char *name, const char *path);
/* Stop listening and remove the socket file if it is still ours. */
void pw__fs_unlisten(procwait_forkserver *fs);
/* Close the loop's own descriptors and free what the server holds (the
 * last step of free() and of pw__fs_forget()); the struct itself stays. */
void pw__fs_release(procwait_forkserver *fs);
/* In a forked child: close every descriptor of the server and free what
 * it holds (the requests too), without touching shared state; the struct
 * stays, marked forgotten, for procwait_forkserver_free(). */
void pw__fs_forget(procwait_forkserver *fs);
/* Stop and reap the idle spare, if any (forkserver.c). */
void pw__fs_spare_drop(procwait_forkserver *fs);
/* In a spare: wait for the request on req->spare_fd and fill req from it
 * (fs-child.c). 0, -ECANCELED when the server went away first, -EPROTO. */
int pw__fs_spare_receive(procwait_request *req);

#endif /* PROCWAIT_FS_SERVER_H */
