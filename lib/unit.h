/* SPDX-License-Identifier: MIT */
/*
 * Supervised children ("units"): the machinery the fork server and the
 * supervisor share. A unit is one running child that leads its own process
 * group; the table watches the children through a wait set (no reaping by
 * the set: the table reaps with wait4() to get the rusage), runs each unit's
 * timeout and its stop sequence (stop signal to the group, SIGKILL after the
 * grace), and reports each exit through the unit's callback.
 *
 * Group signals are sent while the leader is alive or a zombie, so the group
 * id cannot have been reused: after an exit the rest of the group is killed
 * (when a stop was under way) before the leader is reaped.
 */
#ifndef PROCWAIT_UNIT_H
#define PROCWAIT_UNIT_H

#include <stdint.h>
#include <sys/resource.h>

#include "internal.h"

struct pw__unit;
/* Called once per exit, after the child was reaped. st is the exact
 * status; ru its resource usage (zeroed when unknown). */
typedef void (*pw__unit_exit_fn)(struct pw__unit *u, const procwait_status *st,
                                 const struct rusage *ru);

struct pw__unit {
	procwait_proc *proc;    /* NULL when not running */
	pid_t pid;
	int64_t timeout_at;     /* CLOCK_MONOTONIC ns; 0 none */
	int64_t kill_at;        /* SIGKILL due; 0 none */
	int stop_signal;        /* what a stop sends first */
	int grace_ms;           /* stop signal to SIGKILL */
	int stopping;           /* a stop is under way */
	int timed_out;          /* the stop came from the timeout */
	pw__unit_exit_fn on_exit;
	/* The unit's cgroup (fs-cgroup.h), NULL for none: SIGKILL goes to
	 * all of it, and it is handed to the table's cg once the leader is
	 * reaped. Owned by the unit while it runs. */
	char *cgroup;
	struct pw__unit *prev, *next;   /* the table's running list */
};

struct pw__cg;

struct pw__units {
	struct pw__cg *cg;      /* takes ended units' cgroups; NULL: none made */
	procwait_waitset *ws;
	struct pw__unit *head;
	int count;
};

int pw__units_init(struct pw__units *t);
/* SIGKILL every running unit's group, reap them, without callbacks. */
void pw__units_fini(struct pw__units *t);
/* In a forked child: drop the table without touching any process. */
void pw__units_forget(struct pw__units *t);

/* Start tracking a running child; takes proc over (closed on failure).
 * timeout_ms <= 0: no timeout. */
int pw__unit_track(struct pw__units *t, struct pw__unit *u, procwait_proc *proc,
                   int timeout_ms);
/* Signal the unit's leader (through its handle) and its group; SIGKILL
 * reaches its whole cgroup too. */
void pw__unit_signal(struct pw__unit *u, int signo);
/* Begin the stop sequence (no-op when already stopping). */
void pw__unit_stop(struct pw__unit *u, int timed_out);

/* The earliest timer of any unit, INT64_MAX for none. */
int64_t pw__units_next(const struct pw__units *t);
/* Without blocking: reap exits (callbacks run) and run due timers.
 * Returns the number of exits, or -errno when the wait set failed. */
int pw__units_dispatch(struct pw__units *t);

#endif /* PROCWAIT_UNIT_H */
