/* SPDX-License-Identifier: MIT */
/* The wait sets' readiness notifier on Linux: one epoll set over the
 * members' pidfds. Level-triggered; data.ptr is the member's handle. */
#include "internal.h"

#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>

struct pw__notify {
	int fd;
};

static int ep_open(pw__notify **out)
{
	pw__notify *n = malloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->fd = epoll_create1(EPOLL_CLOEXEC);
	if (n->fd < 0) {
		int err = -errno;

		free(n);
		return err;
	}
	*out = n;
	return 0;
}

static void ep_close(pw__notify *n)
{
	close(n->fd);
	free(n);
}

static int ep_fd(const pw__notify *n)
{
	return n->fd;
}

static int ep_add(pw__notify *n, procwait_proc *p)
{
	struct epoll_event ev;

	if (p->fd < 0)
		return -ENOTSUP;   /* a pid-only handle */
	ev.events = EPOLLIN;
	ev.data.ptr = p;
	return epoll_ctl(n->fd, EPOLL_CTL_ADD, p->fd, &ev) < 0 ? -errno : 0;
}

static int ep_del(pw__notify *n, procwait_proc *p)
{
	struct epoll_event ev = { 0 };   /* non-NULL for kernels before 2.6.9 */

	return epoll_ctl(n->fd, EPOLL_CTL_DEL, p->fd, &ev) < 0 ? -errno : 0;
}

#define PW_NOTIFY_BATCH 64

static int ep_wait(pw__notify *n, procwait_proc **ready, int max, int timeout_ms)
{
	struct epoll_event evs[PW_NOTIFY_BATCH];
	int k, i;

	if (max > PW_NOTIFY_BATCH)
		max = PW_NOTIFY_BATCH;
	k = epoll_wait(n->fd, evs, max, timeout_ms);
	if (k < 0)
		return -errno;
	for (i = 0; i < k; i++)
		ready[i] = evs[i].data.ptr;
	return k;
}

const struct pw__notify_ops pw__notify_epoll = {
	.open_call = "epoll_create1",
	.add_call = "epoll_ctl",
	.open = ep_open,
	.close = ep_close,
	.fd = ep_fd,
	.add = ep_add,
	.del = ep_del,
	.wait = ep_wait,
};
