/* SPDX-License-Identifier: MIT */
/*
 * Supervised children: timeouts, stop signal + grace + SIGKILL to the
 * group, and exact reaping with rusage. See unit.h.
 */
#include "unit.h"
#include "fs-cgroup.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

int pw__units_init(struct pw__units *t)
{
	memset(t, 0, sizeof(*t));
	return procwait_waitset_new(PROCWAIT_WAIT_NOREAP, &t->ws);
}

/* The leader is reaped: its cgroup goes to the table's (which removes
 * it once empty). */
static void release_cgroup(struct pw__units *t, char *cgroup)
{
	if (cgroup && t->cg)
		pw__cg_run_done(t->cg, cgroup);
	else
		free(cgroup);
}

static void unlink_unit(struct pw__units *t, struct pw__unit *u)
{
	if (u->prev)
		u->prev->next = u->next;
	else
		t->head = u->next;
	if (u->next)
		u->next->prev = u->prev;
	u->prev = u->next = NULL;
	t->count--;
}

void pw__unit_signal(struct pw__unit *u, int signo)
{
	pid_t pg;

	if (!u->proc)
		return;
	/* Once the leader leads a group of its own (it calls setsid() first
	 * thing), one kill(2) of the group reaches it and everything it
	 * started, each once. Before that, or when it has left its group,
	 * the leader goes through its handle, and the group (which its pid
	 * names while it is alive or a zombie) besides. Both at once would
	 * hit the leader twice: a handler that runs between the two sees
	 * two signals (two KeyboardInterrupts in Python). SIGKILL goes to
	 * the unit's cgroup too: daemons that left the group. */
	if (signo == SIGKILL && u->cgroup)
		(void)pw__cg_kill(u->cgroup);
	pg = getpgid(u->pid);
	if (pg == u->pid && kill(-u->pid, signo) == 0)
		return;
	procwait_proc_signal(u->proc, signo);
	if (pg != u->pid && kill(-u->pid, signo) < 0 && errno == EPERM)
		(void)0;   /* a member changed its credentials: nothing to do */
}

void pw__unit_stop(struct pw__unit *u, int timed_out)
{
	if (!u->proc || u->stopping)
		return;
	u->stopping = 1;
	u->timed_out = timed_out;
	u->timeout_at = 0;
	pw__unit_signal(u, u->stop_signal > 0 ? u->stop_signal : SIGTERM);
	if (u->grace_ms <= 0)
		pw__unit_signal(u, SIGKILL);
	else
		u->kill_at = pw__now_ns() + (int64_t)u->grace_ms * 1000000;
}

int pw__unit_track(struct pw__units *t, struct pw__unit *u, procwait_proc *proc,
                   int timeout_ms)
{
	int rc = procwait_waitset_add(t->ws, proc, u);

	if (rc < 0) {
		procwait_proc_close(proc);
		return rc;
	}
	u->proc = proc;
	u->pid = procwait_proc_pid(proc);
	u->stopping = u->timed_out = 0;
	u->kill_at = 0;
	u->timeout_at = timeout_ms > 0 ?
		pw__now_ns() + (int64_t)timeout_ms * 1000000 : 0;
	u->prev = NULL;
	u->next = t->head;
	if (t->head)
		t->head->prev = u;
	t->head = u;
	t->count++;
	return 0;
}

/* Decode a wait status from wait4(). */
static void status_from_wait(pid_t pid, int wst, procwait_status *st)
{
	memset(st, 0, sizeof(*st));
	st->pid = pid;
	if (WIFEXITED(wst)) {
		st->kind = PROCWAIT_STATUS_EXITED;
		st->code = WEXITSTATUS(wst);
	} else if (WIFSIGNALED(wst)) {
		st->kind = PROCWAIT_STATUS_SIGNALED;
		st->signo = WTERMSIG(wst);
#ifdef WCOREDUMP
		st->core = WCOREDUMP(wst) ? 1 : 0;
#endif
	}
}

/* The unit's leader has exited (a zombie, not yet reaped). */
static void unit_exited(struct pw__units *t, struct pw__unit *u, const procwait_event *ev)
{
	procwait_status st = ev->status;
	struct rusage ru;
	char *cgroup;
	int wst = 0;
	pid_t r;

	/* A stop was under way: what is left of the group goes now, while
	 * the zombie leader still holds the group's id. */
	if (u->stopping) {
		kill(-u->pid, SIGKILL);
		if (u->cgroup)
			(void)pw__cg_kill(u->cgroup);
	}
	memset(&ru, 0, sizeof(ru));
	do
		r = wait4(u->pid, &wst, WNOHANG, &ru);
	while (r < 0 && errno == EINTR);
	if (r == u->pid)
		status_from_wait(u->pid, wst, &st);
	else
		memset(&ru, 0, sizeof(ru));   /* reaped elsewhere: event's status */
	procwait_proc_close(u->proc);
	u->proc = NULL;
	u->kill_at = u->timeout_at = 0;
	cgroup = u->cgroup;
	u->cgroup = NULL;
	unlink_unit(t, u);
	u->on_exit(u, &st, &ru);   /* may free u */
	/* After the exit is reported: removing a cgroup waits for the
	 * cgroup lock, which a process moving into another one (a spare)
	 * may hold for a while. */
	release_cgroup(t, cgroup);
}

int64_t pw__units_next(const struct pw__units *t)
{
	const struct pw__unit *u;
	int64_t next = INT64_MAX;
	int ws = procwait_waitset_timeout(t->ws);

	for (u = t->head; u; u = u->next) {
		if (u->timeout_at && u->timeout_at < next)
			next = u->timeout_at;
		if (u->kill_at && u->kill_at < next)
			next = u->kill_at;
	}
	/* Members on the fallback backend are polled with a backoff. */
	if (ws >= 0) {
		int64_t at = pw__now_ns() + (int64_t)ws * 1000000;
		if (at < next)
			next = at;
	}
	return next;
}

int pw__units_dispatch(struct pw__units *t)
{
	procwait_event ev[32];
	struct pw__unit *u, *nx;
	int64_t now;
	int n, i, exits = 0;

	while (t->count > 0) {
		n = procwait_waitset_wait(t->ws, ev, 32, 0);
		if (n == -ECHILD || n == 0)
			break;
		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			u = ev[i].data;
			unit_exited(t, u, &ev[i]);
			exits++;
		}
		if (n < 32)
			break;
	}
	now = pw__now_ns();
	for (u = t->head; u; u = nx) {
		nx = u->next;
		if (u->timeout_at && now >= u->timeout_at)
			pw__unit_stop(u, 1);
		if (u->kill_at && now >= u->kill_at) {
			u->kill_at = 0;
			pw__unit_signal(u, SIGKILL);
		}
	}
	return exits;
}

void pw__units_fini(struct pw__units *t)
{
	struct pw__unit *u;
	siginfo_t si;

	while ((u = t->head) != NULL) {
		pw__unit_signal(u, SIGKILL);
		/* Wait for the leader without reaping, so that its pid still
		 * names the group for the last SIGKILL; then reap. */
		while (waitid(P_PID, (id_t)u->pid, &si, WEXITED | WNOWAIT) < 0 &&
		       errno == EINTR)
			;
		kill(-u->pid, SIGKILL);
		while (waitpid(u->pid, NULL, 0) < 0 && errno == EINTR)
			;
		procwait_proc_close(u->proc);
		u->proc = NULL;
		release_cgroup(t, u->cgroup);
		u->cgroup = NULL;
		unlink_unit(t, u);
	}
	procwait_waitset_free(t->ws);
	t->ws = NULL;
}

void pw__units_forget(struct pw__units *t)
{
	struct pw__unit *u;

	while ((u = t->head) != NULL) {
		procwait_proc_close(u->proc);   /* leaves the copied set */
		u->proc = NULL;
		free(u->cgroup);   /* the memory: the directory is the server's */
		u->cgroup = NULL;
		unlink_unit(t, u);
	}
	procwait_waitset_free(t->ws);
	t->ws = NULL;
}
