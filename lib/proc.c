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
	p->be = &PW_BACKEND_LAST;
	p->child = child;
	p->set_polled = -1;
	pw__mutex_init(&p->lock);
}

void pw__proc_fini(procwait_proc *p)
{
	if (p->be->detach)
		p->be->detach(p);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	pw__mutex_destroy(&p->lock);
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

int pw__proc_attach(procwait_proc *p)
{
#ifdef HAVE_WIN32_BACKEND
	p->be = &pw__backend_win32;
	return p->be->attach(p);
#else
	return pw__posix_attach(p);
#endif
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
	pw__mutex_lock(&proc->lock);
	/* Once reaped through this handle, the pid may already belong to
	 * somebody else: refuse rather than guess. */
	if (proc->reaped) {
		r = -ESRCH;
		goto out;
	}
	r = proc->be->signal(proc, signo);
#ifndef HAVE_WIN32_BACKEND
	if ((r == -ENOSYS || r == -EPERM) && proc->be->signal != pw__poll_signal) {
		/* pidfd_send_signal refused (a seccomp rule after the probe,
		 * or a real lack of permission, which kill(2) reports as
		 * well). */
		int k = pw__poll_signal(proc, signo);

		if (k == 0)
			pw__fallback(r, "pidfd_send_signal");
		r = k;
	}
#endif
out:
	pw__mutex_unlock(&proc->lock);
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

#ifndef HAVE_WIN32_BACKEND
/* Process HANDLEs exist on Windows only (wait-win32.c has the real ones). */
PROCWAIT_EXTERN int procwait_proc_from_handle(void *handle, unsigned flags, procwait_proc **out)
{
	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(flags == 0);
	(void)handle;
	return -ENOSYS;
}

PROCWAIT_EXTERN void *procwait_proc_handle(const procwait_proc *proc)
{
	(void)proc;
	return NULL;
}
#endif
