/* SPDX-License-Identifier: MIT */
/* The wait sets' readiness notifier on Linux: one epoll set over the
 * members' pidfds. Level-triggered; data.ptr is the member's handle. */
#include "internal.h"

#include <sys/epoll.h>

int pw__notify_open(void)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int pw__notify_add(int nfd, procwait_proc *p)
{
	struct epoll_event ev;

	ev.events = EPOLLIN;
	ev.data.ptr = p;
	return epoll_ctl(nfd, EPOLL_CTL_ADD, p->fd, &ev) < 0 ? -errno : 0;
}

int pw__notify_del(int nfd, procwait_proc *p)
{
	struct epoll_event ev = { 0 };   /* non-NULL for kernels before 2.6.9 */

	return epoll_ctl(nfd, EPOLL_CTL_DEL, p->fd, &ev) < 0 ? -errno : 0;
}

#define PW_NOTIFY_BATCH 64

int pw__notify_wait(int nfd, procwait_proc **ready, int max, int timeout_ms)
{
	struct epoll_event evs[PW_NOTIFY_BATCH];
	int n, i;

	if (max > PW_NOTIFY_BATCH)
		max = PW_NOTIFY_BATCH;
	n = epoll_wait(nfd, evs, max, timeout_ms);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++)
		ready[i] = evs[i].data.ptr;
	return n;
}
