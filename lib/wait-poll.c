/* SPDX-License-Identifier: MIT */
/* The fallback: no event source; the front end polls with exponential
 * backoff, waitid(P_PID, WNOHANG) for children and kill(pid, 0) plus the
 * /proc state for others. Identity rests on the pid alone (and, where /proc
 * is there, its start time), so pid reuse can only be narrowed, not ruled
 * out, as with any pid-based API. */
#include "internal.h"

#include <signal.h>

static int poll_probe(const char **syscall)
{
	(void)syscall;
	return 0;
}

static int poll_attach(procwait_proc *p)
{
	(void)p;
	return 0;
}

int pw__poll_waitid(procwait_proc *p, siginfo_t *si, int options)
{
	return waitid(P_PID, (id_t)p->pid, si, options) < 0 ? -errno : 0;
}

int pw__poll_exited(procwait_proc *p)
{
	struct pw__stat now;

	/* A handle made from a pidfd keeps it for poll(2) even here: a
	 * pidfd turns readable once the whole thread group has exited. */
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

int pw__poll_signal(procwait_proc *p, int signo)
{
	if (p->starttime) {
		struct pw__stat st;

		/* A pid-only handle: is the pid still the same process? */
		if (pw__proc_stat(p->pid, &st) == 0 && st.starttime &&
		    st.starttime != p->starttime)
			return -ESRCH;
	}
	return kill(p->pid, signo) < 0 ? -errno : 0;
}

const struct pw__backend pw__backend_poll = {
	.name = "poll",
	.attach_call = NULL,
	.probe = poll_probe,
	.attach = poll_attach,
	.detach = NULL,
	.block = NULL,
	.check = pw__posix_check,
	.signal = pw__poll_signal,
#if defined(HAVE_PIDFD_BACKEND)
	.notify = &pw__notify_epoll,
#else
	.notify = &pw__notify_kqueue,
#endif
	.waitid = pw__poll_waitid,
	.exited = pw__poll_exited,
};
