/* SPDX-License-Identifier: MIT */
/*
 * Supervised services: restart policies, exponential backoff, a burst
 * limit with a FATAL state, and the stop sequence of unit.c.
 */
#include "internal.h"
#include "unit.h"

#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct svc {
	procwait_supervisor *sv;
	int id;
	void *data;
	char **argv, **envp;    /* deep copies (envp NULL: inherit) */
	char *cwd;
	int fds[3];
	int restart, backoff_min, backoff_max, burst_limit, burst_window, timeout_ms;
	int state;
	int stop_requested;
	int restarts;
	int backoff_ms;         /* the next delay */
	int64_t restart_at;     /* BACKOFF: when; 0 none */
	int64_t started_at;
	int64_t *starts;        /* ring of the last burst_limit start times */
	int nstarts, ring_at;
	struct pw__unit unit;
};

struct procwait_supervisor {
	pid_t owner;            /* a forked copy must not kill the owner's children */
	struct pw__units units;
	struct svc **svcs;
	int nsvcs;
	procwait_service_event *q;
	int qhead, qlen, qcap;
};

/* ---- events ----------------------------------------------------------------- */

static procwait_service_event *emit(struct svc *s, int state)
{
	procwait_supervisor *sv = s->sv;
	procwait_service_event *e;

	s->state = state;
	if (sv->qlen == sv->qcap) {
		int cap = sv->qcap ? sv->qcap * 2 : 16, i;
		procwait_service_event *q = malloc((size_t)cap * sizeof(*q));

		if (!q)
			return NULL;   /* the state is right; the event is lost */
		for (i = 0; i < sv->qlen; i++)
			q[i] = sv->q[(sv->qhead + i) % sv->qcap];
		free(sv->q);
		sv->q = q;
		sv->qcap = cap;
		sv->qhead = 0;
	}
	e = &sv->q[(sv->qhead + sv->qlen++) % sv->qcap];
	memset(e, 0, sizeof(*e));
	e->id = s->id;
	e->data = s->data;
	e->state = state;
	e->pid = s->unit.pid;
	e->restarts = s->restarts;
	return e;
}

/* ---- starting ----------------------------------------------------------------- */

static int burst_full(struct svc *s, int64_t now)
{
	int i, n = 0;
	int64_t window = (int64_t)s->burst_window * 1000000;

	for (i = 0; i < s->nstarts; i++)
		if (now - s->starts[i] < window)
			n++;
	return n >= s->burst_limit;
}

static void note_start(struct svc *s, int64_t now)
{
	s->starts[s->ring_at] = now;
	s->ring_at = (s->ring_at + 1) % s->burst_limit;
	if (s->nstarts < s->burst_limit)
		s->nstarts++;
}

static void start(struct svc *s)
{
	procwait_spawn_options so = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_service_event *e;
	procwait_proc *proc;
	int64_t now = pw__now_ns();
	int rc;

	s->restart_at = 0;
	s->stop_requested = 0;
	so.argv = s->argv;
	so.envp = s->envp;
	so.cwd = s->cwd;
	so.stdin_fd = s->fds[0];
	so.stdout_fd = s->fds[1];
	so.stderr_fd = s->fds[2];
	so.flags = PROCWAIT_SPAWN_SEARCH_PATH | PROCWAIT_SPAWN_SETSID;
	note_start(s, now);
	rc = procwait_spawn(&so, &proc);
	if (rc == 0)
		rc = pw__unit_track(&s->sv->units, &s->unit, proc, s->timeout_ms);
	if (rc < 0) {
		s->unit.pid = 0;
		e = emit(s, PROCWAIT_SERVICE_FATAL);
		if (e)
			e->error = rc;
		return;
	}
	s->started_at = now;
	emit(s, PROCWAIT_SERVICE_RUNNING);
}

static void exited(struct pw__unit *u, const procwait_status *st, const struct rusage *ru)
{
	struct svc *s = (struct svc *)((char *)u - offsetof(struct svc, unit));
	procwait_service_event *e;
	int64_t now = pw__now_ns();
	int again, state;

	(void)ru;
	if (s->stop_requested) {
		state = PROCWAIT_SERVICE_STOPPED;
	} else {
		int failed = !(st->kind == PROCWAIT_STATUS_EXITED && st->code == 0);

		again = s->restart == PROCWAIT_RESTART_ALWAYS ||
		        (s->restart == PROCWAIT_RESTART_ON_FAILURE && failed);
		if (!again)
			state = PROCWAIT_SERVICE_EXITED;
		else if (burst_full(s, now))
			state = PROCWAIT_SERVICE_FATAL;
		else
			state = PROCWAIT_SERVICE_BACKOFF;
	}
	if (state == PROCWAIT_SERVICE_BACKOFF) {
		/* A run that lasted the whole cap earns a fresh backoff. */
		if (now - s->started_at >= (int64_t)s->backoff_max * 1000000)
			s->backoff_ms = s->backoff_min;
		s->restart_at = now + (int64_t)s->backoff_ms * 1000000;
		s->restarts++;
	}
	e = emit(s, state);
	if (e) {
		e->status = *st;
		e->timed_out = u->timed_out;
		if (state == PROCWAIT_SERVICE_BACKOFF)
			e->delay_ms = s->backoff_ms;
	}
	if (state == PROCWAIT_SERVICE_BACKOFF)
		s->backoff_ms = s->backoff_ms > s->backoff_max / 2 ? s->backoff_max :
		                s->backoff_ms * 2;
	s->unit.pid = 0;
}

/* ---- the table ------------------------------------------------------------------ */

static struct svc *find(const procwait_supervisor *sv, int id)
{
	if (id < 0 || id >= sv->nsvcs)
		return NULL;
	return sv->svcs[id];
}

static void svc_free(struct svc *s)
{
	if (!s)
		return;
	free(s->argv);
	free(s->envp);
	free(s->cwd);
	free(s->starts);
	free(s);
}

PROCWAIT_EXTERN int procwait_supervisor_new(unsigned flags, procwait_supervisor **out)
{
	procwait_supervisor *sv;
	int rc;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(flags == 0);
	sv = calloc(1, sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	rc = pw__units_init(&sv->units);
	if (rc < 0) {
		free(sv);
		return rc;
	}
	sv->owner = getpid();
	*out = sv;
	return 0;
}

PROCWAIT_EXTERN int procwait_supervisor_add(procwait_supervisor *sv,
                                            const procwait_service_options *o, void *data)
{
	struct svc *s;
	int id, i;

	pw__check_arg(sv && o && o->size >= sizeof(procwait_service_options));
	pw__check_arg(o->argv && o->argv[0] && o->flags == 0);
	pw__check_arg(o->restart >= PROCWAIT_RESTART_NEVER && o->restart <= PROCWAIT_RESTART_ALWAYS);
	pw__check_arg(o->stop_signal >= 0 && o->stop_signal < NSIG);
	for (i = 0; i < 3; i++)
		pw__check_arg(o->fds[i] >= -1);
	for (id = 0; id < sv->nsvcs && sv->svcs[id]; id++)
		;
	if (id == sv->nsvcs) {
		struct svc **v;

		if (sv->nsvcs == INT_MAX)
			return -ENOMEM;
		v = realloc(sv->svcs, (size_t)(sv->nsvcs + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		sv->svcs = v;
		sv->svcs[sv->nsvcs++] = NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->sv = sv;
	s->id = id;
	s->data = data;
	s->argv = pw__strv_dup(o->argv);
	s->envp = o->envp ? pw__strv_dup(o->envp) : NULL;
	s->cwd = o->cwd ? strdup(o->cwd) : NULL;
	s->restart = o->restart;
	s->backoff_min = o->backoff_min_ms >= 0 ? o->backoff_min_ms : 100;
	s->backoff_max = o->backoff_max_ms >= 0 ? o->backoff_max_ms : 30000;
	if (s->backoff_max < s->backoff_min)
		s->backoff_max = s->backoff_min;
	s->backoff_ms = s->backoff_min;
	s->burst_limit = o->burst_limit > 0 ? o->burst_limit : 5;
	s->burst_window = o->burst_window_ms > 0 ? o->burst_window_ms : 10000;
	s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
	s->starts = calloc((size_t)s->burst_limit, sizeof(int64_t));
	for (i = 0; i < 3; i++)
		s->fds[i] = o->fds[i];
	s->unit.on_exit = exited;
	s->unit.stop_signal = o->stop_signal > 0 ? o->stop_signal : SIGTERM;
	s->unit.grace_ms = o->kill_grace_ms >= 0 ? o->kill_grace_ms : 5000;
	if (!s->argv || (o->envp && !s->envp) || (o->cwd && !s->cwd) || !s->starts) {
		svc_free(s);
		return -ENOMEM;
	}
	sv->svcs[id] = s;
	start(s);
	return id;
}

PROCWAIT_EXTERN int procwait_supervisor_stop(procwait_supervisor *sv, int id)
{
	struct svc *s;

	pw__check_arg(sv);
	if (!(s = find(sv, id)))
		return -ENOENT;
	if (s->state == PROCWAIT_SERVICE_RUNNING) {
		s->stop_requested = 1;
		emit(s, PROCWAIT_SERVICE_STOPPING);
		pw__unit_stop(&s->unit, 0);
	} else if (s->state == PROCWAIT_SERVICE_BACKOFF) {
		s->restart_at = 0;
		emit(s, PROCWAIT_SERVICE_STOPPED);
	}
	return 0;
}

static int busy(const struct svc *s)
{
	return s->state == PROCWAIT_SERVICE_RUNNING || s->state == PROCWAIT_SERVICE_BACKOFF ||
	       s->state == PROCWAIT_SERVICE_STOPPING;
}

PROCWAIT_EXTERN int procwait_supervisor_restart(procwait_supervisor *sv, int id)
{
	struct svc *s;

	pw__check_arg(sv);
	if (!(s = find(sv, id)))
		return -ENOENT;
	if (busy(s))
		return -EBUSY;
	s->nstarts = s->ring_at = 0;
	s->backoff_ms = s->backoff_min;
	s->restarts = 0;
	start(s);
	return 0;
}

/* Drop the queued events of service id, keeping the others in order. */
static void drop_events(procwait_supervisor *sv, int id)
{
	int i, n = 0;

	for (i = 0; i < sv->qlen; i++) {
		const procwait_service_event *e = &sv->q[(sv->qhead + i) % sv->qcap];

		if (e->id == id)
			continue;
		if (n != i)
			sv->q[(sv->qhead + n) % sv->qcap] = *e;
		n++;
	}
	sv->qlen = n;
}

PROCWAIT_EXTERN int procwait_supervisor_remove(procwait_supervisor *sv, int id)
{
	struct svc *s;

	pw__check_arg(sv);
	if (!(s = find(sv, id)))
		return -ENOENT;
	if (busy(s))
		return -EBUSY;
	sv->svcs[id] = NULL;
	drop_events(sv, id);   /* nothing of it may come after: its data may be gone */
	svc_free(s);
	return 0;
}

PROCWAIT_EXTERN int procwait_supervisor_state(const procwait_supervisor *sv, int id, pid_t *pid)
{
	struct svc *s;

	pw__check_arg(sv);
	if (!(s = find(sv, id)))
		return -ENOENT;
	if (pid)
		*pid = s->unit.proc ? s->unit.pid : 0;
	return s->state;
}

/* ---- the loop ------------------------------------------------------------------- */

static int64_t next_timer(const procwait_supervisor *sv, int *active)
{
	int64_t at = pw__units_next(&sv->units);
	int i;

	*active = sv->units.count > 0;
	for (i = 0; i < sv->nsvcs; i++) {
		const struct svc *s = sv->svcs[i];

		if (s && s->restart_at) {
			*active = 1;
			if (s->restart_at < at)
				at = s->restart_at;
		}
	}
	return at;
}

PROCWAIT_EXTERN int procwait_supervisor_timeout(const procwait_supervisor *sv)
{
	int active;

	pw__check_arg(sv);
	if (sv->qlen)
		return 0;
	return pw__ms_until(next_timer(sv, &active));
}

PROCWAIT_EXTERN int procwait_supervisor_fd(const procwait_supervisor *sv)
{
	pw__check_arg(sv);
	return procwait_waitset_fd(sv->units.ws);
}

static void run_restarts(procwait_supervisor *sv)
{
	int64_t now = pw__now_ns();
	int i;

	for (i = 0; i < sv->nsvcs; i++) {
		struct svc *s = sv->svcs[i];

		if (s && s->restart_at && now >= s->restart_at)
			start(s);
	}
}

PROCWAIT_EXTERN int procwait_supervisor_run(procwait_supervisor *sv, int timeout_ms,
                                            procwait_service_event *events, int max_events)
{
	pw__deadline d;
	int n, rc;

	pw__check_arg(sv && events && max_events > 0);
	pw__deadline_init(&d, timeout_ms);
	for (;;) {
		int active;
		int64_t at;

		if (sv->qlen) {
			for (n = 0; n < max_events && sv->qlen; n++) {
				events[n] = sv->q[sv->qhead];
				sv->qhead = (sv->qhead + 1) % sv->qcap;
				sv->qlen--;
			}
			return n;
		}
		at = next_timer(sv, &active);
		if (!active)
			return -ECHILD;
		rc = pw__fd_wait(procwait_waitset_fd(sv->units.ws), pw__deadline_ms_before(&d, at));
		if (rc < 0 && rc != -EINTR)
			return rc;
		rc = pw__units_dispatch(&sv->units);
		if (rc < 0)
			return rc;
		run_restarts(sv);
		if (!sv->qlen && pw__deadline_ms(&d) == 0)
			return 0;
	}
}

PROCWAIT_EXTERN void procwait_supervisor_free(procwait_supervisor *sv)
{
	int i;

	if (!sv)
		return;
	if (getpid() == sv->owner)
		pw__units_fini(&sv->units);
	else
		pw__units_forget(&sv->units);
	for (i = 0; i < sv->nsvcs; i++)
		svc_free(sv->svcs[i]);
	free(sv->svcs);
	free(sv->q);
	free(sv);
}
