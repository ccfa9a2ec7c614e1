/* SPDX-License-Identifier: MIT */
/* The portable wait front end: check once, block on the backend's event
 * source (or back off), re-check, all against one deadline. */
#include "internal.h"

#include <string.h>
#include <unistd.h>
#ifdef HAVE_WIN32_BACKEND
#include <process.h>
#endif

int pw__proc_check(procwait_proc *p, unsigned flags, procwait_status *st)
{
	int r;

	pw__mutex_lock(&p->lock);
	r = p->reaped ? -ECHILD : p->be->check(p, flags, st);
	pw__mutex_unlock(&p->lock);
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
