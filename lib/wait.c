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

/* Has the process of p exited (a zombie, or gone)? 1 yes, 0 no; never yes
 * for a process that still runs. */
static int has_exited(const procwait_proc *p)
{
	struct pw__stat now;

	/* A pidfd turns readable once the whole thread group has exited and
	 * not before (a zombie leader with live threads keeps it quiet). For
	 * a process that is not ours that is the whole answer; for a child,
	 * waitid is asked first and this is only its confirmation. */
	if (p->fd >= 0)
		return pw__fd_wait(p->fd, 0) > 0;
	if (kill(p->pid, 0) < 0 && errno == ESRCH)
		return 1;
	if (pw__proc_stat(p->pid, &now) < 0) {
		/* No /proc, hidepid, or the process went away meanwhile:
		 * that is no proof of an exit; kill(2) decides. */
		return kill(p->pid, 0) < 0 && errno == ESRCH;
	}
	if (p->starttime && now.starttime && now.starttime != p->starttime)
		return 1;   /* the pid was reused: ours is gone */
	/* 'Z' with live threads is a leader that called pthread_exit. */
	return (now.state == 'Z' || now.state == 'X') && now.num_threads <= 1;
}

/* waitid on p, by its backend, or by pid once that failed unexpectedly:
 * for a child that we have not reaped the pid cannot be reused. */
static int proc_waitid(procwait_proc *p, siginfo_t *si, int options)
{
	int r;

	memset(si, 0, sizeof(*si));
	if (!p->waitid_by_pid) {
		r = p->be->waitid(p, si, options);
		if (r == 0 || r == -ECHILD || p->be == &pw__backend_poll)
			return r;
		/* e.g. a seccomp filter refusing waitid(P_PIDFD) after the
		 * probe: latch the fallback where the class says so. */
		pw__fallback(r, "waitid");
		p->waitid_by_pid = 1;
		memset(si, 0, sizeof(*si));
	}
	return pw__backend_poll.waitid(p, si, options);
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
		r = proc_waitid(p, &si, WEXITED | WNOHANG |
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
			if (has_exited(p)) {
				/* Our child, reaped by somebody else: SIGCHLD
				 * ignored (auto-reap) or a foreign waitpid. Its
				 * status is lost; say so rather than make one
				 * up. */
				status_unknown(st, p->pid);
				p->reaped = 1;
				r = 1;
				goto out;
			}
			/* Running, yet not our child: this is a copy of the
			 * handle in a forked process. */
			p->child = PW_CHILD_NO;
			r = 0;
			goto out;
		}
		if (r == -ECHILD)
			p->child = PW_CHILD_NO;
		else
			pw__fallback_note(r, "waitid");   /* unexpected: look instead */
	}
	r = has_exited(p);
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
