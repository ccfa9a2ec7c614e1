/* SPDX-License-Identifier: MIT */
/* The wait sets' readiness notifier on BSD and macOS: one kqueue, with an
 * EVFILT_READ registration on each member's own kqueue (which holds the
 * member's EVFILT_PROC/NOTE_EXIT). Registering by descriptor rather than by
 * pid keeps two handles on one pid apart (kqueue knows a knote by ident and
 * filter) and leaves the member's readiness where its own waits look.
 * Level-triggered; udata is the member's handle. */
#include "internal.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/event.h>

struct pw__notify {
	int kq;
	pid_t owner;   /* a forked copy must not close the number: not its kqueue */
};

static int kn_open(pw__notify **out)
{
	pw__notify *n = malloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->owner = getpid();
	n->kq = pw__kq_open();
	if (n->kq < 0) {
		int err = n->kq;

		free(n);
		return err;
	}
	*out = n;
	return 0;
}

static void kn_close(pw__notify *n)
{
	if (n->owner == getpid())
		close(n->kq);
	free(n);
}

static int kn_fd(const pw__notify *n)
{
	return n->kq;
}

static int kn_add(pw__notify *n, procwait_proc *p)
{
	struct kevent ch;

	if (p->gone)
		return -ESRCH;     /* exited before it could be watched */
	if (p->fd < 0 || p->be != &pw__backend_kqueue || p->fd_owner != getpid())
		return -ENOTSUP;   /* a pid-only handle, or a copy made by fork */
	EV_SET(&ch, (uintptr_t)p->fd, EVFILT_READ, EV_ADD, 0, 0, p);
	return kevent(n->kq, &ch, 1, NULL, 0, NULL) < 0 ? -errno : 0;
}

static int kn_del(pw__notify *n, procwait_proc *p)
{
	struct kevent ch;

	EV_SET(&ch, (uintptr_t)p->fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	return kevent(n->kq, &ch, 1, NULL, 0, NULL) < 0 ? -errno : 0;
}

#define PW_NOTIFY_BATCH 64

static int kn_wait(pw__notify *n, procwait_proc **ready, int max, int timeout_ms)
{
	struct kevent evs[PW_NOTIFY_BATCH];
	struct timespec ts, *tsp = NULL;
	int k, i, m = 0;

	if (max > PW_NOTIFY_BATCH)
		max = PW_NOTIFY_BATCH;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	k = kevent(n->kq, NULL, 0, evs, max, tsp);
	if (k < 0)
		return -errno;
	for (i = 0; i < k; i++)
		if (!(evs[i].flags & EV_ERROR) && evs[i].udata)
			ready[m++] = evs[i].udata;
	return m;
}

const struct pw__notify_ops pw__notify_kqueue = {
	.open_call = "kqueue",
	.add_call = "kevent",
	.open = kn_open,
	.close = kn_close,
	.fd = kn_fd,
	.add = kn_add,
	.del = kn_del,
	.wait = kn_wait,
};
