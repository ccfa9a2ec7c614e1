/* SPDX-License-Identifier: MIT */
/* Process handles: creation from a pid, the fallback decision by errno
 * class, signals, accessors, close. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pw__proc_init(procwait_proc *p, pid_t pid, int child)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->fd = -1;
	p->be = &pw__backend_poll;
	p->child = child;
	p->set_polled = -1;
	pthread_mutex_init(&p->lock, NULL);
}

void pw__proc_fini(procwait_proc *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	pthread_mutex_destroy(&p->lock);
}

procwait_proc *pw__proc_alloc(pid_t pid, int child)
{
	procwait_proc *p = malloc(sizeof(*p));

	if (p)
		pw__proc_init(p, pid, child);
	return p;
}

void pw__proc_free(procwait_proc *p)
{
	pw__proc_fini(p);
	free(p);
}

void pw__proc_detect_child(procwait_proc *p)
{
	siginfo_t si;
	int r;

	if (p->child != PW_CHILD_UNKNOWN)
		return;
	memset(&si, 0, sizeof(si));
	r = p->be->waitid(p, &si, WEXITED | WNOHANG | WNOWAIT);
	if (r == 0)
		p->child = PW_CHILD_YES;
	else if (r == -ECHILD)
		p->child = PW_CHILD_NO;
}

int pw__proc_attach(procwait_proc *p)
{
	const struct pw__backend *be = pw__backend_get();
	struct pw__stat st;
	int r = 0;

	if (be != &pw__backend_poll) {
		r = be->attach(p);
		if (r == 0) {
			p->be = be;
			pw__proc_detect_child(p);
			return 0;
		}
	}
	/* A pid-only handle, waited by the backoff loop. */
	p->be = &pw__backend_poll;
	pw__proc_detect_child(p);
	if (p->child != PW_CHILD_YES) {
		/* pidfd_open's ESRCH is final: nothing has that pid. */
		if (r == -ESRCH || (kill(p->pid, 0) < 0 && errno == ESRCH))
			return -ESRCH;
		/* A thread id is no process id (pidfd_open says EINVAL for
		 * one, as for a process that is exiting; kill(2) accepts
		 * it): refuse it under every backend alike. */
		{
			int tgid = pw__proc_tgid(p->pid);

			if (tgid > 0 && tgid != p->pid)
				return -EINVAL;
		}
	}
	/* The start time lets a pid-only handle notice pid reuse. */
	if (pw__proc_stat(p->pid, &st) == 0)
		p->starttime = st.starttime;
	if (r != 0)
		pw__fallback(r, be->attach_call);
	return 0;
}

PROCWAIT_EXTERN int procwait_proc_open(pid_t pid, unsigned flags, procwait_proc **out)
{
	procwait_proc *p;
	int r;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(pid > 0 && flags == 0);
	p = pw__proc_alloc(pid, PW_CHILD_UNKNOWN);
	if (!p)
		return -ENOMEM;
	r = pw__proc_attach(p);
	if (r < 0) {
		pw__proc_free(p);
		return r;
	}
	*out = p;
	return 0;
}

PROCWAIT_EXTERN int procwait_proc_signal(procwait_proc *proc, int signo)
{
	int r;

	pw__check_arg(proc && signo >= 0 && signo < NSIG);
	pthread_mutex_lock(&proc->lock);
	/* Once reaped through this handle, the pid may already belong to
	 * somebody else: refuse rather than guess. */
	if (proc->reaped) {
		r = -ESRCH;
		goto out;
	}
	if (proc->be == &pw__backend_poll && proc->starttime) {
		struct pw__stat st;

		/* A pid-only handle: is the pid still the same process? */
		if (pw__proc_stat(proc->pid, &st) == 0 && st.starttime &&
		    st.starttime != proc->starttime) {
			r = -ESRCH;
			goto out;
		}
	}
	r = proc->be->signal(proc, signo);
	if ((r == -ENOSYS || r == -EPERM) && proc->be != &pw__backend_poll) {
		/* pidfd_send_signal refused (a seccomp rule after the probe,
		 * or a real lack of permission, which kill(2) reports as
		 * well). */
		int k = pw__backend_poll.signal(proc, signo);

		if (k == 0)
			pw__fallback(r, "pidfd_send_signal");
		r = k;
	}
out:
	pthread_mutex_unlock(&proc->lock);
	return r;
}

PROCWAIT_EXTERN pid_t procwait_proc_pid(const procwait_proc *proc)
{
	pw__check_arg(proc);
	return proc->pid;
}

PROCWAIT_EXTERN int procwait_proc_fd(const procwait_proc *proc)
{
	pw__check_arg(proc);
	return proc->fd >= 0 ? proc->fd : -ENOTSUP;
}

PROCWAIT_EXTERN void procwait_proc_close(procwait_proc *proc)
{
	if (!proc)
		return;
	if (proc->set)
		procwait_waitset_remove(proc->set, proc);
	pw__proc_free(proc);
}
