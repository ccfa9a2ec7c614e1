/* SPDX-License-Identifier: MIT */
/* TEST-ONLY EMULATION of the BSD/macOS <sys/event.h>, for Linux.
 *
 * This is not a kqueue implementation: it exists only so that the kqueue
 * backend (lib/wait-kqueue.c, lib/notify-kqueue.c), written against the
 * real FreeBSD/macOS API, can be compiled and tested on Linux. It is put on
 * the include path of those tests only (-I tests/kqueue-emu) and is never
 * installed. Names and values are FreeBSD's/macOS's.
 *
 * What it covers (see kqueue-emu.c, built over pidfd + epoll):
 *  - kqueue(): an epoll fd, pollable, inherited across fork;
 *  - EVFILT_PROC with NOTE_EXIT (and macOS's NOTE_EXITSTATUS): EV_ADD,
 *    EV_DELETE, EV_ENABLE/EV_DISABLE, EV_RECEIPT; ESRCH for a process that
 *    has already exited; delivery with EV_EOF|EV_ONESHOT and the wait(2)
 *    status in data (for children);
 *  - EVFILT_READ on a file descriptor (enough to nest kqueues), level only;
 *  - errors as EV_ERROR entries or -1/errno, as BSD does.
 * Nothing else (no other filters or notes, no kevent64/kevent_qos).
 * Programs using it must be linked with -Wl,--wrap=close. */
#ifndef KQEMU_SYS_EVENT_H
#define KQEMU_SYS_EVENT_H

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kevent {
	uintptr_t ident;        /* identifier for this event (fd, pid) */
	short filter;           /* filter for event */
	unsigned short flags;   /* action flags for kqueue */
	unsigned int fflags;    /* filter flag value */
	intptr_t data;          /* filter data value */
	void *udata;            /* opaque user data identifier */
};

/* Evaluates kevp once, like FreeBSD's. */
#define EV_SET(kevp_, a, b, c, d, e, f) do {	\
	struct kevent *kevp__ = (kevp_);	\
	kevp__->ident = (a);			\
	kevp__->filter = (b);			\
	kevp__->flags = (c);			\
	kevp__->fflags = (d);			\
	kevp__->data = (e);			\
	kevp__->udata = (f);			\
} while (0)

/* filters */
#define EVFILT_READ		(-1)
#define EVFILT_PROC		(-5)

/* actions */
#define EV_ADD			0x0001
#define EV_DELETE		0x0002
#define EV_ENABLE		0x0004
#define EV_DISABLE		0x0008
/* flags */
#define EV_ONESHOT		0x0010
#define EV_CLEAR		0x0020
#define EV_RECEIPT		0x0040
/* returned values */
#define EV_ERROR		0x4000
#define EV_EOF			0x8000

/* EVFILT_PROC fflags */
#define NOTE_EXIT		0x80000000U
#define NOTE_EXITSTATUS		0x04000000U   /* macOS's */

int kqueue(void);
int kevent(int kq, const struct kevent *changelist, int nchanges,
           struct kevent *eventlist, int nevents,
           const struct timespec *timeout);

#ifdef __cplusplus
}
#endif

#endif
