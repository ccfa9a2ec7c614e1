/* SPDX-License-Identifier: MIT */
/*
 * Wait sets. Members with an event source (a pidfd, a kqueue registration, a
 * process HANDLE) sit in the notifier of the backend in use (epoll, kqueue,
 * WaitForMultipleObjects groups): O(1) work per exit. Members without one
 * (the fallback backend, descriptors exhausted, or a readiness that proved
 * spurious) sit in the "polled" array and are checked by one backoff loop.
 *
 * A set whose notifier cannot be made (no descriptor left, or the call
 * refused) still works: nt is NULL, every member is polled, and the wait
 * sleeps on the backoff timer alone. The next add or wait tries to make the
 * notifier again and, once it has one, moves the members there.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_WIN32_BACKEND
#include <process.h>
#endif

#define PW_READY_BATCH 64

struct procwait_waitset {
	unsigned flags;
	pid_t owner;                /* the process that made the set */
	const struct pw__notify_ops *ops;
	pw__notify *nt;             /* the notifier, NULL while it cannot be made */
	int nt_err;                 /* why not (-errno), while nt is NULL */
	int nmembers;
	procwait_proc *members;     /* list through set_prev / set_next */
	procwait_proc **polled;     /* members checked by the backoff loop */
	int npolled, polled_cap;
	int64_t poll_at_ns;         /* next backoff check */
	int64_t backoff_ns;
};

/* Make the set's notifier; when that fails, the set goes on without one
 * (nt NULL) and procwait_last_fallback() tells why. */
static void notifier_open(procwait_waitset *s)
{
	int r = s->ops->open(&s->nt);

	if (r < 0) {
		s->nt = NULL;
		s->nt_err = r;
		pw__fallback_note(r, s->ops->open_call);
	}
}

PROCWAIT_EXTERN int procwait_waitset_new(unsigned flags, procwait_waitset **out)
{
	procwait_waitset *s;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg((flags & ~(unsigned)PROCWAIT_WAIT_NOREAP) == 0);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = pw__backend_get()->notify;
	notifier_open(s);
	s->flags = flags;
	s->owner = getpid();
	s->backoff_ns = PW_BACKOFF_MIN_NS;
	*out = s;
	return 0;
}

/* Room for every member in the polled array, reserved when a member
 * joins: moving a member there later (a spurious readiness) cannot fail. */
static int polled_reserve(procwait_waitset *s, int n)
{
	int cap = s->polled_cap ? s->polled_cap : 16;
	procwait_proc **v;

	if (n <= s->polled_cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = realloc(s->polled, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->polled = v;
	s->polled_cap = cap;
	return 0;
}

static void polled_push(procwait_waitset *s, procwait_proc *p)
{
	assert(s->npolled < s->polled_cap);
	p->set_polled = s->npolled;
	s->polled[s->npolled++] = p;
	/* A new polled member is checked soon, then ever more rarely. */
	s->backoff_ns = PW_BACKOFF_MIN_NS;
	s->poll_at_ns = pw__now_ns() + PW_BACKOFF_MIN_NS;
}

static void polled_drop(procwait_waitset *s, procwait_proc *p)
{
	int i = p->set_polled;

	assert(i >= 0 && i < s->npolled && s->polled[i] == p);
	s->polled[i] = s->polled[--s->npolled];
	s->polled[i]->set_polled = i;
	p->set_polled = -1;
}

/* Before the set adds or waits: in a process forked from the set's owner
 * the epoll instance is shared with the owner, so give the copy one of its
 * own with the same members; and a set without a notifier tries once more
 * to make one. Members the new notifier refuses stay polled (room for
 * every member was reserved at add). */
static void set_ready(procwait_waitset *s)
{
	procwait_proc *p;
	int forked = s->owner != getpid();

	if (!forked && s->nt)
		return;
	if (forked) {
		/* Members in the old notifier are polled until the new one
		 * takes them: the old one is the owner's. */
		for (p = s->members; p; p = p->set_next)
			if (p->set_polled < 0)
				polled_push(s, p);
		if (s->nt)
			s->ops->close(s->nt);   /* our reference only */
		s->nt = NULL;
		s->owner = getpid();
	}
	notifier_open(s);
	if (!s->nt)
		return;
	for (int i = 0; i < s->npolled;) {
		p = s->polled[i];
		if (s->ops->add(s->nt, p) == 0)
			polled_drop(s, p);   /* the last one moves to i */
		else
			i++;
	}
}

/* Take p out of the set's bookkeeping (notifier or polled, and the list). */
static void detach(procwait_waitset *s, procwait_proc *p)
{
	if (p->set_polled >= 0)
		polled_drop(s, p);
	else if (getpid() == s->owner)
		s->ops->del(s->nt, p);
	/* In a forked copy of the set the epoll instance is the parent's
	 * too: taking the member out would take it out of the parent's set. */
	if (p->set_prev)
		p->set_prev->set_next = p->set_next;
	else
		s->members = p->set_next;
	if (p->set_next)
		p->set_next->set_prev = p->set_prev;
	p->set_prev = p->set_next = NULL;
	p->set = NULL;
	s->nmembers--;
}

PROCWAIT_EXTERN int procwait_waitset_add(procwait_waitset *s, procwait_proc *p, void *data)
{
	int r, reaped;

	pw__check_arg(s && p);
	if (p->set)
		return -EEXIST;
	pw__mutex_lock(&p->lock);
	reaped = p->reaped;
	pw__mutex_unlock(&p->lock);
	if (reaped)
		return -ECHILD;
	r = polled_reserve(s, s->nmembers + 1);
	if (r < 0)
		return r;
	set_ready(s);
	r = s->nt ? s->ops->add(s->nt, p) : -ENOTSUP;
	if (r < 0) {
		/* No room in the notifier (ENOMEM, ENOSPC for the
		 * max_user_watches limit, ...), or a process already gone
		 * (kqueue's ESRCH): the backoff loop serves this member at
		 * once; other waits keep the fast path. */
		if (r != -ENOTSUP && r != -ESRCH)
			pw__fallback_note(r, s->ops->add_call);
		polled_push(s, p);
	}
	p->set = s;
	p->set_data = data;
	p->set_prev = NULL;
	p->set_next = s->members;
	if (s->members)
		s->members->set_prev = p;
	s->members = p;
	s->nmembers++;
	return 0;
}

PROCWAIT_EXTERN int procwait_waitset_remove(procwait_waitset *s, procwait_proc *p)
{
	pw__check_arg(s && p);
	if (p->set != s)
		return -ENOENT;
	detach(s, p);
	return 0;
}

/* Check p; when it has exited (or can tell us no more), fill the event and
 * take it out of the set. Returns 1 when an event was produced. */
static int check_member(procwait_waitset *s, procwait_proc *p, procwait_event *ev)
{
	procwait_status st;
	int r = pw__proc_check(p, s->flags, &st);

	if (r == 0)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->proc = p;
	ev->data = p->set_data;
	ev->error = r < 0 ? r : 0;
	if (r > 0)
		ev->status = st;
	else
		ev->status.pid = p->pid;
	detach(s, p);
	return 1;
}

static int check_polled(procwait_waitset *s, procwait_event *events, int max)
{
	int i = 0, n = 0;

	while (i < s->npolled && n < max) {
		/* A member that leaves is replaced by the last one at i. */
		if (check_member(s, s->polled[i], &events[n]))
			n++;
		else
			i++;
	}
	return n;
}

PROCWAIT_EXTERN int procwait_waitset_wait(procwait_waitset *s, procwait_event *events,
                                          int max, int timeout_ms)
{
	procwait_proc *ready[PW_READY_BATCH];
	pw__deadline d;
	int n = 0;

	pw__check_arg(s && events && max > 0);
	if (s->nmembers == 0)
		return -ECHILD;
	set_ready(s);
	pw__deadline_init(&d, timeout_ms);
	for (int first = 1;; first = 0) {
		int64_t now = pw__now_ns();
		int ms, k, i;

		/* Every call looks at the polled members once before it
		 * sleeps (a short timeout must see an exit that timeout 0
		 * would see), then whenever the backoff timer is due. */
		if (s->npolled && (first || now >= s->poll_at_ns)) {
			n = check_polled(s, events, max);
			if (n == 0 && s->backoff_ns < PW_BACKOFF_MAX_NS)
				s->backoff_ns = s->backoff_ns * 2 > PW_BACKOFF_MAX_NS ?
				                PW_BACKOFF_MAX_NS : s->backoff_ns * 2;
			s->poll_at_ns = now + s->backoff_ns;
			if (n > 0)
				return n;
		}
		/* Sleep until a member is ready, the deadline passes, or the
		 * next backoff check is due, whichever comes first. */
		ms = pw__deadline_ms(&d);
		if (s->npolled) {
			int64_t left = s->poll_at_ns - now;
			int pm = left <= 0 ? 0 : (int)((left + 999999) / 1000000);

			if (ms < 0 || pm < ms)
				ms = pm;
		}
		if (s->nt) {
			k = s->ops->wait(s->nt, ready, max - n < PW_READY_BATCH ?
			                 max - n : PW_READY_BATCH, ms);
			if (k < 0 && k != -EINTR)
				return k;
		} else {
			/* No notifier: every member is polled, so ms is
			 * bounded by the backoff timer. */
			if (ms < 0)
				ms = (int)(PW_BACKOFF_MAX_NS / 1000000);
			pw__sleep_ns((int64_t)ms * 1000000, &d);
			k = 0;
		}
		for (i = 0; i < k; i++) {
			procwait_proc *p = ready[i];

			if (check_member(s, p, &events[n])) {
				n++;
				continue;
			}
			/* Readable but still running (a tracer holds the
			 * exit): level-triggered epoll would report it again
			 * at once, so the backoff loop takes it over. */
			s->ops->del(s->nt, p);
			polled_push(s, p);
		}
		if (n > 0)
			return n;
		if (pw__deadline_ns(&d) == 0) {
			/* One last look before reporting a timeout, as the
			 * single wait does. */
			return s->npolled ? check_polled(s, events, max) : 0;
		}
	}
}

PROCWAIT_EXTERN int procwait_waitset_fd(const procwait_waitset *s)
{
	pw__check_arg(s);
	if (!s->nt)
		return s->nt_err;
	return s->ops->fd(s->nt);
}

PROCWAIT_EXTERN int procwait_waitset_timeout(const procwait_waitset *s)
{
	pw__check_arg(s);
	if (!s->npolled)
		return -1;
	return pw__ms_until(s->poll_at_ns);
}

PROCWAIT_EXTERN int procwait_waitset_size(const procwait_waitset *s)
{
	pw__check_arg(s);
	return s->nmembers;
}

PROCWAIT_EXTERN void procwait_waitset_free(procwait_waitset *s)
{
	if (!s)
		return;
	while (s->members)
		detach(s, s->members);
	if (s->nt)
		s->ops->close(s->nt);
	free(s->polled);
	free(s);
}
