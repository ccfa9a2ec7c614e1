/* SPDX-License-Identifier: MIT */
/* What the POSIX backends (pidfd, kqueue, poll) share: the check of a
 * handle by waitid(2) for children and by the backend's exit test for
 * others, the decision at attach time, and poll(2) on one descriptor. */
#include "internal.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

int pw__fd_wait(int fd, int timeout_ms)
{
	struct pollfd pfd;
	int r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	/* A closed descriptor is no readiness. */
	return r > 0 && (pfd.revents & POLLNVAL) ? -EBADF : r > 0;
}

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

/* waitid on p, by its backend, or by pid once that failed unexpectedly:
 * for a child that we have not reaped the pid cannot be reused. */
static int proc_waitid(procwait_proc *p, siginfo_t *si, int options)
{
	int r;

	memset(si, 0, sizeof(*si));
	if (!p->waitid_by_pid) {
		r = p->be->waitid(p, si, options);
		if (r == 0 || r == -ECHILD || p->be->waitid == pw__poll_waitid)
			return r;
		/* e.g. a seccomp filter refusing waitid(P_PIDFD) after the
		 * probe: latch the fallback where the class says so. */
		pw__fallback(r, "waitid");
		p->waitid_by_pid = 1;
		memset(si, 0, sizeof(*si));
	}
	return pw__poll_waitid(p, si, options);
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

int pw__posix_check(procwait_proc *p, unsigned flags, procwait_status *st)
{
	siginfo_t si;
	int r;

	if (p->child != PW_CHILD_NO) {
		r = proc_waitid(p, &si, WEXITED | WNOHANG |
		                ((flags & PROCWAIT_WAIT_NOREAP) ? WNOWAIT : 0));
		if (r == 0) {
			p->child = PW_CHILD_YES;
			/* Still running; or stopped or continued, which a
			 * waitid(WEXITED) should not report but macOS's does. */
			if (si.si_pid == 0 || (si.si_code != CLD_EXITED &&
			    si.si_code != CLD_KILLED && si.si_code != CLD_DUMPED))
				return 0;
			status_from_siginfo(st, p->pid, &si);
			p->reaped = !(flags & PROCWAIT_WAIT_NOREAP);
			return 1;
		}
		if (r == -ECHILD && p->child == PW_CHILD_YES) {
			if (p->be->exited(p)) {
				/* Our child, reaped by somebody else: SIGCHLD
				 * ignored (auto-reap) or a foreign waitpid. Its
				 * status is lost; say so rather than make one
				 * up. */
				status_unknown(st, p->pid);
				p->reaped = 1;
				return 1;
			}
			/* Running, yet not our child: this is a copy of the
			 * handle in a forked process. */
			p->child = PW_CHILD_NO;
			return 0;
		}
		if (r == -ECHILD)
			p->child = PW_CHILD_NO;
		else
			pw__fallback_note(r, "waitid");   /* unexpected: look instead */
	}
	r = p->be->exited(p);
	if (r)
		status_unknown(st, p->pid);
	return r;
}

int pw__posix_attach(procwait_proc *p)
{
	const struct pw__backend *be = pw__backend_get();
	struct pw__stat st;
	int r = 0;

	if (be != &pw__backend_poll) {
		p->be = be;
		r = be->attach(p);
		if (r == 0) {
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
