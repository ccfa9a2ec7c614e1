/* SPDX-License-Identifier: MIT */
/* The portable wait front end: check once, block on the backend's event
 * source (or back off), re-check, all against one deadline. */
#include "internal.h"

#include <string.h>
#include <unistd.h>

static void status_unknown(procwait_status *st, pid_t pid)
{
	memset(st, 0, sizeof(*st));
	st->pid = pid;
	st->kind = PROCWAIT_STATUS_UNKNOWN;
}

static void status_from_siginfo(procwait_status *st, pid_t pid, const siginfo_t *si)
{
	status_unknown(st, pid);
	switch (si->si_code) {
	case CLD_EXITED:
		st->kind = PROCWAIT_STATUS_EXITED;
		st->code = si->si_status;
		break;
	case CLD_DUMPED:
		st->core = 1;
		/* fall through */
	case CLD_KILLED:
		st->kind = PROCWAIT_STATUS_SIGNALED;
		st->signo = si->si_status;
		break;
	default:
		break;
	}
}

/* Has a process that is not our child exited? 1 yes, 0 no. Readiness of a
 * pidfd is only a hint (ptrace can make it early), so this looks: the
 * process is gone (ESRCH), or /proc shows it a zombie, or, for a pid-only
 * handle, the pid now belongs to a process with another start time. */
static int nonchild_exited(const procwait_proc *p)
{
	uint64_t start = 0;
	int state;

	if (p->be->signal(p, 0) == -ESRCH)
		return 1;
	state = pw__proc_stat(p->pid, p->starttime ? &start : NULL);
	if (state == 'Z' || state == 'X' || state == -ENOENT || state == -ESRCH)
		return 1;
	if (p->starttime && state > 0 && start && start != p->starttime)
		return 1;   /* the pid was reused: ours is long gone */
	return 0;
}

int pw__proc_check(procwait_proc *p, unsigned flags, procwait_status *st)
{
	siginfo_t si;
	int r;

	pthread_mutex_lock(&p->lock);
	if (p->reaped) {
		r = -ECHILD;
		goto out;
	}
	if (p->child != PW_CHILD_NO) {
		memset(&si, 0, sizeof(si));
		r = p->be->waitid(p, &si, WEXITED | WNOHANG |
		                  ((flags & PROCWAIT_WAIT_NOREAP) ? WNOWAIT : 0));
		if (r == 0) {
			p->child = PW_CHILD_YES;
			if (si.si_pid == 0)
				goto out;   /* r = 0: still running */
			status_from_siginfo(st, p->pid, &si);
			p->reaped = !(flags & PROCWAIT_WAIT_NOREAP);
			r = 1;
			goto out;
		}
		if (r == -ECHILD && p->child == PW_CHILD_YES) {
			/* Our child, reaped by somebody else: SIGCHLD ignored
			 * (auto-reap) or a foreign waitpid. Its status is lost;
			 * say so rather than make one up. */
			status_unknown(st, p->pid);
			p->reaped = 1;
			r = 1;
			goto out;
		}
		if (r == -ECHILD)
			p->child = PW_CHILD_NO;
		else
			pw__fallback(r, "waitid");   /* unexpected: look instead */
	}
	r = nonchild_exited(p);
	if (r)
		status_unknown(st, p->pid);
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

int pw__proc_wait(procwait_proc *p, const pw__deadline *d, unsigned flags,
                  procwait_status *st)
{
	int64_t backoff = PW_BACKOFF_MIN_NS;
	int woke = 0, spurious = 0, r;

	for (;;) {
		r = pw__proc_check(p, flags, st);
		if (r != 0)
			return r < 0 ? r : 0;
		/* Readable, yet not exited (e.g. a tracer holds the exit):
		 * from now on re-check on the backoff timer instead of
		 * spinning on a descriptor that stays readable. */
		if (woke)
			spurious = 1;
		woke = 0;
		if (pw__deadline_ns(d) == 0)
			return -ETIMEDOUT;
		if (p->be->block && !spurious) {
			r = p->be->block(p, pw__deadline_ms(d));
			if (r > 0)
				woke = 1;
			else if (r < 0 && r != -EINTR) {
				pw__fallback(r, "poll");
				spurious = 1;
			}
		} else {
			pw__sleep_ns(backoff, d);
			backoff = backoff * 2 > PW_BACKOFF_MAX_NS ? PW_BACKOFF_MAX_NS : backoff * 2;
		}
	}
}

PROCWAIT_EXTERN int procwait_proc_wait(procwait_proc *proc, int timeout_ms, unsigned flags,
                                       procwait_status *status)
{
	pw__deadline d;

	pw__check_arg(proc && status);
	pw__check_arg((flags & ~(unsigned)PROCWAIT_WAIT_NOREAP) == 0);
	if (timeout_ms < 0 && proc->pid == getpid())
		return -EDEADLK;   /* we would wait for ourselves forever */
	pw__deadline_init(&d, timeout_ms);
	return pw__proc_wait(proc, &d, flags, status);
}

PROCWAIT_EXTERN int procwait_wait_pid(pid_t pid, int timeout_ms, unsigned flags,
                                      procwait_status *status)
{
	procwait_proc p;
	pw__deadline d;
	int r;

	pw__check_arg(pid > 0 && status);
	pw__check_arg((flags & ~(unsigned)PROCWAIT_WAIT_NOREAP) == 0);
	if (timeout_ms < 0 && pid == getpid())
		return -EDEADLK;
	pw__deadline_init(&d, timeout_ms);
	pw__proc_init(&p, pid, PW_CHILD_UNKNOWN);
	r = pw__proc_attach(&p);
	if (r == 0)
		r = pw__proc_wait(&p, &d, flags, status);
	pw__proc_fini(&p);
	return r;
}

PROCWAIT_EXTERN int procwait_status_shell(const procwait_status *status)
{
	pw__check_arg(status);
	switch (status->kind) {
	case PROCWAIT_STATUS_EXITED:
		return status->code & 0xff;
	case PROCWAIT_STATUS_SIGNALED:
		return 128 + status->signo;
	case PROCWAIT_STATUS_UNKNOWN:
		return -ENODATA;
	default:
		return -EINVAL;
	}
}
