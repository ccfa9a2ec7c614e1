/* SPDX-License-Identifier: MIT */
/*
 * The wait sets' readiness notifier on Windows. WaitForMultipleObjects takes
 * at most 64 handles, so members are kept in groups:
 *
 * - the first 63 members are waited by the caller's own thread, in one
 *   WaitForMultipleObjects together with the set's "ready" event: a set of
 *   up to 63 processes costs no thread at all;
 * - beyond that, groups of 63 are each waited by a helper thread, on its
 *   members plus a wake-up event of its own (membership changed, or stop).
 *   The thread waits on duplicates of the members' HANDLEs that it alone
 *   closes, so a member closed meanwhile can never leave it waiting on a
 *   dead HANDLE. A member that exits is marked fired (not waited again),
 *   queued, and the ready event is set.
 *
 * Every reported member is deleted by the set before it is reported again
 * (it leaves the set, or goes to the backoff loop), as the contract of
 * struct pw__notify_ops says.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define PW_WG_MAX (MAXIMUM_WAIT_OBJECTS - 1)   /* 63: one slot for an event */

enum { W_FREE, W_LIVE, W_FIRED, W_DEAD };

struct wslot {
	procwait_proc *p;
	HANDLE h;        /* the group's duplicate */
	int state;
};

struct wgroup {
	struct pw__notify *n;
	HANDLE thread, wake;
	int stop;
	int used;        /* slots not W_FREE */
	struct wslot slot[PW_WG_MAX];
};

struct pw__notify {
	SRWLOCK lock;
	HANDLE ready;                 /* auto-reset: a helper queued a member */
	procwait_proc **q;            /* members queued by helpers */
	int nq, qcap;
	int nthreaded;                /* members in helper groups */
	procwait_proc *inl[PW_WG_MAX];   /* waited by the caller */
	int ninl;
	struct wgroup **g;
	int ng;
};

/* ---- helper threads --------------------------------------------------- */

static DWORD WINAPI group_main(void *arg)
{
	struct wgroup *g = arg;
	struct pw__notify *n = g->n;
	HANDLE hs[MAXIMUM_WAIT_OBJECTS];
	int idx[MAXIMUM_WAIT_OBJECTS];

	for (;;) {
		DWORD k = 0, r;
		int i;

		AcquireSRWLockExclusive(&n->lock);
		for (i = 0; i < PW_WG_MAX; i++) {
			if (g->slot[i].state == W_DEAD) {
				CloseHandle(g->slot[i].h);
				g->slot[i].h = NULL;
				g->slot[i].state = W_FREE;
				g->used--;
			}
		}
		if (g->stop) {
			ReleaseSRWLockExclusive(&n->lock);
			return 0;
		}
		hs[k++] = g->wake;
		for (i = 0; i < PW_WG_MAX; i++) {
			if (g->slot[i].state == W_LIVE) {
				idx[k] = i;
				hs[k++] = g->slot[i].h;
			}
		}
		ReleaseSRWLockExclusive(&n->lock);
		r = WaitForMultipleObjects(k, hs, FALSE, INFINITE);
		if (r == WAIT_OBJECT_0)
			continue;   /* membership changed, or stop */
		if (r > WAIT_OBJECT_0 && r < WAIT_OBJECT_0 + k) {
			struct wslot *s = &g->slot[idx[r - WAIT_OBJECT_0]];

			AcquireSRWLockExclusive(&n->lock);
			/* Deleted meanwhile: then it is W_DEAD, and closed
			 * on the next round. */
			if (s->state == W_LIVE) {
				s->state = W_FIRED;
				n->q[n->nq++] = s->p;   /* room reserved at add */
				SetEvent(n->ready);
			}
			ReleaseSRWLockExclusive(&n->lock);
			continue;
		}
		/* WAIT_FAILED cannot happen on handles we own; do not spin
		 * if it does. */
		Sleep(10);
	}
}

static struct wgroup *group_new(struct pw__notify *n)
{
	struct wgroup *g = calloc(1, sizeof(*g)), **v;

	if (!g)
		return NULL;
	v = realloc(n->g, (size_t)(n->ng + 1) * sizeof(*v));
	if (!v) {
		free(g);
		return NULL;
	}
	n->g = v;
	g->n = n;
	g->wake = CreateEventW(NULL, FALSE, FALSE, NULL);
	if (g->wake)
		g->thread = CreateThread(NULL, 64 * 1024, group_main, g,
		                         STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
	if (!g->thread) {
		if (g->wake)
			CloseHandle(g->wake);
		free(g);
		return NULL;
	}
	n->g[n->ng++] = g;
	return g;
}

/* ---- the notifier ------------------------------------------------------- */

static int wn_open(pw__notify **out)
{
	pw__notify *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	InitializeSRWLock(&n->lock);
	n->ready = CreateEventW(NULL, FALSE, FALSE, NULL);
	if (!n->ready) {
		int err = pw__win_errno(GetLastError());

		free(n);
		return err;
	}
	*out = n;
	return 0;
}

static void wn_close(pw__notify *n)
{
	int i, j;

	for (i = 0; i < n->ng; i++) {
		struct wgroup *g = n->g[i];

		AcquireSRWLockExclusive(&n->lock);
		g->stop = 1;
		SetEvent(g->wake);
		ReleaseSRWLockExclusive(&n->lock);
		WaitForSingleObject(g->thread, INFINITE);
		CloseHandle(g->thread);
		CloseHandle(g->wake);
		for (j = 0; j < PW_WG_MAX; j++)
			if (g->slot[j].state != W_FREE)
				CloseHandle(g->slot[j].h);
		free(g);
	}
	free(n->g);
	free(n->q);
	CloseHandle(n->ready);
	free(n);
}

static int wn_fd(const pw__notify *n)
{
	(void)n;
	return -ENOTSUP;   /* no descriptor: waitset.h says so */
}

static int wn_add(pw__notify *n, procwait_proc *p)
{
	struct wgroup *g = NULL;
	HANDLE dup;
	int i, r = 0;

	if (!p->handle)
		return -ENOTSUP;
	AcquireSRWLockExclusive(&n->lock);
	if (n->ninl < PW_WG_MAX) {
		p->wgroup = NULL;
		p->wslot = n->ninl;
		n->inl[n->ninl++] = p;
		goto out;
	}
	/* Room in the queue for every threaded member, reserved here, so
	 * that a helper never has to allocate. */
	if (n->nthreaded + 1 > n->qcap) {
		int cap = n->qcap ? n->qcap * 2 : 64;
		procwait_proc **q = realloc(n->q, (size_t)cap * sizeof(*q));

		if (!q) {
			r = -ENOMEM;
			goto out;
		}
		n->q = q;
		n->qcap = cap;
	}
	for (i = 0; i < n->ng && !g; i++)
		if (n->g[i]->used < PW_WG_MAX)
			g = n->g[i];
	if (!g) {
		g = group_new(n);
		if (!g) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (!DuplicateHandle(GetCurrentProcess(), p->handle, GetCurrentProcess(), &dup,
	                     SYNCHRONIZE, FALSE, 0)) {
		r = pw__win_errno(GetLastError());
		goto out;
	}
	for (i = 0; g->slot[i].state != W_FREE; i++)
		;
	g->slot[i].p = p;
	g->slot[i].h = dup;
	g->slot[i].state = W_LIVE;
	g->used++;
	n->nthreaded++;
	p->wgroup = g;
	p->wslot = i;
	SetEvent(g->wake);
out:
	ReleaseSRWLockExclusive(&n->lock);
	return r;
}

static int wn_del(pw__notify *n, procwait_proc *p)
{
	struct wgroup *g = p->wgroup;
	int i;

	AcquireSRWLockExclusive(&n->lock);
	if (!g) {
		i = p->wslot;
		n->inl[i] = n->inl[--n->ninl];
		n->inl[i]->wslot = i;
	} else {
		g->slot[p->wslot].state = W_DEAD;   /* the helper closes it */
		g->slot[p->wslot].p = NULL;
		n->nthreaded--;
		SetEvent(g->wake);
		for (i = 0; i < n->nq; i++) {
			if (n->q[i] == p) {
				memmove(&n->q[i], &n->q[i + 1], (size_t)(n->nq - i - 1) * sizeof(*n->q));
				n->nq--;
				break;
			}
		}
	}
	p->wgroup = NULL;
	p->wslot = -1;
	ReleaseSRWLockExclusive(&n->lock);
	return 0;
}

/* Take up to max members off the helpers' queue. */
static int drain(pw__notify *n, procwait_proc **ready, int max)
{
	int m;

	AcquireSRWLockExclusive(&n->lock);
	m = n->nq < max ? n->nq : max;
	memcpy(ready, n->q, (size_t)m * sizeof(*ready));
	memmove(n->q, n->q + m, (size_t)(n->nq - m) * sizeof(*n->q));
	n->nq -= m;
	ReleaseSRWLockExclusive(&n->lock);
	return m;
}

static int wn_wait(pw__notify *n, procwait_proc **ready, int max, int timeout_ms)
{
	HANDLE hs[MAXIMUM_WAIT_OBJECTS];
	DWORD k = 0, r;
	int m, i;

	m = drain(n, ready, max);
	if (m > 0)
		return m;
	/* Only this thread changes the inline members: no lock needed to
	 * read them. */
	hs[k++] = n->ready;
	for (i = 0; i < n->ninl; i++)
		hs[k++] = n->inl[i]->handle;
	r = WaitForMultipleObjects(k, hs, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
	if (r == WAIT_TIMEOUT)
		return 0;
	if (r == WAIT_OBJECT_0)
		return drain(n, ready, max);
	if (r > WAIT_OBJECT_0 && r < WAIT_OBJECT_0 + k) {
		/* The first ready inline member, then any others that are. */
		i = (int)(r - WAIT_OBJECT_0) - 1;
		ready[m++] = n->inl[i];
		for (i = i + 1; i < n->ninl && m < max; i++)
			if (WaitForSingleObject(n->inl[i]->handle, 0) == WAIT_OBJECT_0)
				ready[m++] = n->inl[i];
		return m;
	}
	return pw__win_errno(GetLastError());
}

const struct pw__notify_ops pw__notify_win32 = {
	.open_call = "CreateEventW",
	.add_call = "DuplicateHandle",
	.open = wn_open,
	.close = wn_close,
	.fd = wn_fd,
	.add = wn_add,
	.del = wn_del,
	.wait = wn_wait,
};
