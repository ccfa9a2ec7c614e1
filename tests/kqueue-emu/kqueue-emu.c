/* SPDX-License-Identifier: MIT */
/* TEST-ONLY emulation of BSD kqueue(2)/kevent(2) on Linux, over pidfd and
 * epoll, so that the kqueue backend can be built and tested here. It covers
 * EVFILT_PROC/NOTE_EXIT and EVFILT_READ only; see sys/event.h.
 *
 * A kqueue is an epoll fd. Each registration ("knote", known as on BSD by
 * kqueue + ident + filter) is kept in one mutex-protected table and watches
 * an fd: its own pidfd for EVFILT_PROC (or, after kqemu_early_exit(), an
 * eventfd already written), the ident itself for EVFILT_READ. The epoll
 * data is a slot number plus a generation, so an event that epoll_wait()
 * returned for a registration deleted meanwhile (by another thread, say) is
 * recognised and dropped: each exit is delivered once.
 *
 * LINKING: programs using this must be linked with -Wl,--wrap=close. The
 * library closes a kqueue with plain close(2); __wrap_close() then releases
 * that kqueue's registrations and pidfds, and, as BSD does, drops the
 * EVFILT_READ registrations of the fd closed, before the real close. The
 * wrap only reaches objects of the same link (not a separately linked
 * shared library); it takes the mutex, so it is not async-signal-safe. A
 * kqueue closed without it (close_range, dup2 over it, a raw syscall)
 * leaves a stale record, dropped when kqueue() gets that fd number again;
 * its fds are closed then only if fstat still identifies them as ours.
 *
 * Differences from BSD, on purpose: a kqueue is inherited across fork like
 * the epoll fd it is, shared with the parent (a forked child's close() of
 * it or of a watched fd leaves the parent's set alone, but its kevent()
 * would act on it); data is the wait status for children only, 0 for other
 * processes (FreeBSD/macOS give theirs too); EV_ERROR entries carry flags
 * EV_ERROR alone (FreeBSD; macOS keeps the change's flags); EVFILT_READ is
 * level-triggered only (EV_CLEAR ignored), with data 0. */
#define _GNU_SOURCE
#include "sys/event.h"
#include "kqemu.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define MAX_WAIT_MS 86400000   /* cap of one epoll_wait; we loop to the deadline */

int __real_close(int fd);
int __wrap_close(int fd);

struct reg {
	struct reg *prev, *next;     /* in its kqueue's list */
	struct kq *kq;
	uintptr_t ident;
	short filter;
	unsigned short flags;        /* EV_ONESHOT | EV_CLEAR, as registered */
	unsigned int fflags;
	void *udata;
	int fd;                      /* watched: pidfd/eventfd (owned) or ident */
	int early;                   /* fd is a kqemu_early_exit() eventfd */
	int disabled;
	uint32_t slot;
	dev_t dev;                   /* identity of the owned fd */
	ino_t ino;
};

struct kq {
	int fd;
	pid_t pid;                   /* the process that made it */
	struct kq *next;
	struct reg *regs;
};

struct slot {
	struct reg *reg;             /* NULL when free */
	uint32_t gen;                /* bumped when freed */
	uint32_t next_free;          /* 1 + next free slot, 0: none */
};

static struct {
	pthread_mutex_t lock;
	struct kq *kqs;
	struct slot *slots;
	uint32_t nslots, free1;      /* free1: 1 + first free slot, 0: none */
	pid_t early[64];             /* kqemu_early_exit() marks */
	size_t nearly;
	int nproc;                   /* live EVFILT_PROC registrations */
	int nread;                   /* live EVFILT_READ registrations */
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void lock(void) { pthread_mutex_lock(&S.lock); }
static void unlock(void) { pthread_mutex_unlock(&S.lock); }

/* Never fork with the table locked by another thread. */
__attribute__((constructor)) static void kqemu_init(void)
{
	pthread_atfork(lock, unlock, unlock);
}

static int slot_get(struct reg *r)
{
	uint32_t i;

	if (!S.free1) {
		uint32_t n = S.nslots ? 2 * S.nslots : 64;
		struct slot *s = realloc(S.slots, n * sizeof(*s));

		if (!s)
			return ENOMEM;
		for (i = S.nslots; i < n; i++)
			s[i] = (struct slot){ NULL, 0, i + 1 < n ? i + 2 : 0 };
		S.slots = s;
		S.free1 = S.nslots + 1;
		S.nslots = n;
	}
	i = S.free1 - 1;
	S.free1 = S.slots[i].next_free;
	S.slots[i].reg = r;
	r->slot = i;
	return 0;
}

static uint64_t slot_key(const struct reg *r)
{
	return (uint64_t)S.slots[r->slot].gen << 32 | r->slot;
}

static struct reg *slot_find(uint64_t key)
{
	uint32_t i = (uint32_t)key;

	if (i >= S.nslots || S.slots[i].gen != (uint32_t)(key >> 32))
		return NULL;
	return S.slots[i].reg;
}

static struct kq *kq_find(int fd)
{
	struct kq *k;

	for (k = S.kqs; k; k = k->next)
		if (k->fd == fd)
			return k;
	return NULL;
}

static struct reg *reg_find(struct kq *k, uintptr_t ident, short filter)
{
	struct reg *r;

	for (r = k->regs; r; r = r->next)
		if (r->ident == ident && r->filter == filter)
			return r;
	return NULL;
}

/* Drop r. unwatch: take its fd out of the epoll set (not when the kqueue
 * itself goes away: a forked child may share that epoll). */
static void reg_free(struct reg *r, int unwatch)
{
	struct slot *s = &S.slots[r->slot];
	struct stat st;

	if (unwatch)
		epoll_ctl(r->kq->fd, EPOLL_CTL_DEL, r->fd, NULL);
	if (r->filter == EVFILT_PROC) {
		if (unwatch || (fstat(r->fd, &st) == 0 && st.st_dev == r->dev &&
		                st.st_ino == r->ino))
			__real_close(r->fd);
		S.nproc--;
	} else {
		S.nread--;
	}
	if (r->prev)
		r->prev->next = r->next;
	else
		r->kq->regs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	s->reg = NULL;
	s->gen++;
	s->next_free = S.free1;
	S.free1 = r->slot + 1;
	free(r);
}

/* Unlink the kqueue record of fd, if any, and release its registrations. */
static void kq_drop(int fd)
{
	struct kq **p, *k;

	for (p = &S.kqs; *p && (*p)->fd != fd; p = &(*p)->next)
		;
	if (!(k = *p))
		return;
	*p = k->next;
	while (k->regs)
		reg_free(k->regs, 0);
	free(k);
}

static int watch(struct reg *r, int op)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = r->disabled ? 0 : EPOLLIN;
	ev.data.u64 = slot_key(r);
	if (epoll_ctl(r->kq->fd, op, r->fd, &ev) == 0)
		return 0;
	if (op == EPOLL_CTL_MOD && errno == ENOENT)   /* fd closed and reused */
		return watch(r, EPOLL_CTL_ADD);
	return errno;
}

/* The fd to watch for a new EVFILT_PROC registration of pid, or -errno. */
static int proc_fd(uintptr_t ident, int *early)
{
	struct pollfd pfd;
	size_t i;
	int fd, efd, n;

	if (ident == 0 || ident > INT_MAX)
		return -ESRCH;
	fd = (int)syscall(SYS_pidfd_open, (pid_t)ident, 0u);
	if (fd < 0)   /* EINVAL: a pid that just exited (DESIGN.md §9) */
		return errno == EINVAL ? -ESRCH : -errno;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if ((n = poll(&pfd, 1, 0)) != 0) {   /* exited already (a zombie) */
		n = n > 0 ? ESRCH : errno;
		__real_close(fd);
		return -n;
	}
	for (i = 0; i < S.nearly && S.early[i] != (pid_t)ident; i++)
		;
	if (i == S.nearly)
		return fd;
	efd = eventfd(1, EFD_CLOEXEC);
	__real_close(fd);
	if (efd < 0)
		return -errno;
	S.early[i] = S.early[--S.nearly];   /* consumed */
	*early = 1;
	return efd;
}

/* A new registration in k for change ch, watching fd; NULL if no memory. */
static struct reg *reg_new(struct kq *k, const struct kevent *ch, int fd)
{
	struct reg *r = calloc(1, sizeof(*r));
	struct stat st;

	if (!r || slot_get(r) != 0) {
		free(r);
		return NULL;
	}
	r->kq = k;
	r->ident = ch->ident;
	r->filter = ch->filter;
	r->fd = fd;
	if (r->filter == EVFILT_PROC) {
		if (fstat(fd, &st) == 0) {
			r->dev = st.st_dev;
			r->ino = st.st_ino;
		}
		S.nproc++;
	} else {
		S.nread++;
	}
	if ((r->next = k->regs) != NULL)
		r->next->prev = r;
	k->regs = r;
	return r;
}

/* Apply one change to k; 0 or an errno value. */
static int apply(struct kq *k, const struct kevent *ch)
{
	struct reg *r;
	int err, fd, early = 0, op = EPOLL_CTL_MOD;

	if (ch->filter != EVFILT_PROC && ch->filter != EVFILT_READ)
		return EINVAL;
	r = reg_find(k, ch->ident, ch->filter);
	if (ch->filter == EVFILT_READ &&
	    (ch->ident > INT_MAX || fcntl((int)ch->ident, F_GETFD) < 0)) {
		if (r)   /* its fd was closed behind our back */
			reg_free(r, 0);
		return EBADF;
	}
	if (ch->flags & EV_DELETE) {
		if (!r)
			return ENOENT;
		reg_free(r, 1);
		return 0;
	}
	if (!r) {
		if (!(ch->flags & EV_ADD))
			return ENOENT;
		fd = ch->filter == EVFILT_READ ? (int)ch->ident :
		     proc_fd(ch->ident, &early);
		if (fd < 0)
			return -fd;
		if (!(r = reg_new(k, ch, fd))) {
			if (ch->filter == EVFILT_PROC)
				__real_close(fd);
			return ENOMEM;
		}
		r->early = early;
		op = EPOLL_CTL_ADD;
	}
	if (ch->flags & EV_ADD) {   /* new, or an update in place */
		r->flags = ch->flags & (EV_ONESHOT | EV_CLEAR);
		r->fflags = ch->fflags;
		r->udata = ch->udata;
	}
	if (ch->flags & (EV_ENABLE | EV_DISABLE))
		r->disabled = !!(ch->flags & EV_DISABLE);
	else if (!(ch->flags & EV_ADD))
		return 0;
	if ((err = watch(r, op)) != 0 && op == EPOLL_CTL_ADD)
		reg_free(r, 1);
	return err;
}

/* The wait(2) status of a child that has exited, without reaping it; 0 for
 * a non-child (or a child already reaped). */
static intptr_t peek_status(int pidfd)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si,
	           WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
		return 0;
	if (si.si_code == CLD_EXITED)
		return (si.si_status & 0xff) << 8;
	return (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
}

/* Turn one epoll event of kqueue kq into *out; 1 if written. */
static int deliver(int kq, uint64_t key, struct kevent *out)
{
	struct reg *r = slot_find(key);

	if (!r || r->kq->fd != kq || r->disabled)
		return 0;   /* deleted (or disabled) after epoll_wait saw it */
	out->ident = r->ident;
	out->filter = r->filter;
	out->udata = r->udata;
	out->data = 0;
	if (r->filter == EVFILT_READ) {
		out->flags = r->flags;
		out->fflags = 0;
		if (r->flags & EV_ONESHOT)
			reg_free(r, 1);
		return 1;
	}
	out->flags = EV_EOF | EV_ONESHOT | (r->flags & EV_CLEAR);
	out->fflags = r->fflags & (NOTE_EXIT | NOTE_EXITSTATUS);
	if (!r->early)
		out->data = peek_status(r->fd);
	reg_free(r, 1);   /* NOTE_EXIT is one-shot: the process is gone */
	return 1;
}

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int wait_events(int kq, struct kevent *out, int nevents,
                       const struct timespec *timeout)
{
	struct epoll_event ev[64];
	int forever = !timeout || timeout->tv_sec > 1000000000;   /* > 31 years */
	int64_t deadline = 0, left;
	int n, i, ms, max, nout = 0;

	if (!forever)
		deadline = now_ns() + (int64_t)timeout->tv_sec * 1000000000 +
		           timeout->tv_nsec;
	for (;;) {
		ms = -1;
		if (nout > 0) {
			ms = 0;   /* only collect what else is ready */
		} else if (!forever) {
			left = deadline - now_ns();
			left = left <= 0 ? 0 : (left + 999999) / 1000000;   /* round up */
			ms = left > MAX_WAIT_MS ? MAX_WAIT_MS : (int)left;
		}
		max = nevents - nout < 64 ? nevents - nout : 64;
		n = epoll_wait(kq, ev, max, ms);
		if (n < 0)
			return nout > 0 ? nout : -1;   /* EINTR as on BSD */
		lock();
		for (i = 0; i < n; i++)
			nout += deliver(kq, ev[i].data.u64, &out[nout]);
		unlock();
		/* Full; or all that was ready is taken; or timed out. Else the
		 * events were stale, or the capped wait ended early: again. */
		if (nout == nevents || (n < max && (nout > 0 || ms == 0)))
			return nout;
	}
}

int kqueue(void)
{
	struct kq *k = calloc(1, sizeof(*k));
	int fd;

	if (!k)
		return -1;
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0) {
		free(k);
		return -1;
	}
	k->fd = fd;
	k->pid = getpid();
	lock();
	kq_drop(fd);   /* a stale record: its fd was closed behind our back */
	k->next = S.kqs;
	S.kqs = k;
	unlock();
	return fd;
}

int kevent(int kq, const struct kevent *changelist, int nchanges,
           struct kevent *eventlist, int nevents,
           const struct timespec *timeout)
{
	struct kevent ch;
	struct kq *k;
	int i, err, nout = 0;

	if (nchanges < 0 || nevents < 0 || (timeout && (timeout->tv_sec < 0 ||
	    timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000))) {
		errno = EINVAL;
		return -1;
	}
	lock();
	if (!(k = kq_find(kq))) {
		unlock();
		errno = EBADF;
		return -1;
	}
	for (i = 0; i < nchanges; i++) {
		ch = changelist[i];   /* eventlist may alias changelist */
		err = apply(k, &ch);
		if (err == 0 && !(ch.flags & EV_RECEIPT))
			continue;
		if (nout < nevents) {
			ch.flags = EV_ERROR;
			ch.data = err;
			eventlist[nout++] = ch;
		} else if (err) {
			unlock();
			errno = err;
			return -1;
		}
	}
	unlock();
	if (nout > 0 || nevents == 0)   /* as BSD: errors or receipts only */
		return nout;
	return wait_events(kq, eventlist, nevents, timeout);
}

int __wrap_close(int fd)
{
	struct kq *k;
	struct reg *r;
	int saved = errno;

	lock();
	kq_drop(fd);
	/* As on BSD, closing an fd drops its EVFILT_READ registrations. Not
	 * out of the epoll set in a forked child: that is the parent's too. */
	for (k = S.kqs; k && S.nread > 0; k = k->next)
		if ((r = reg_find(k, (uintptr_t)fd, EVFILT_READ)) != NULL)
			reg_free(r, k->pid == getpid());
	unlock();
	errno = saved;
	return __real_close(fd);
}

void kqemu_early_exit(pid_t pid)
{
	lock();
	if (S.nearly == sizeof(S.early) / sizeof(S.early[0]))
		abort();   /* a test knob: a test marking 64 pids is broken */
	S.early[S.nearly++] = pid;
	unlock();
}

int kqemu_registrations(void)
{
	int n;

	lock();
	n = S.nproc;
	unlock();
	return n;
}
