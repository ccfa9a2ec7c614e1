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

static int poll_waitid(const procwait_proc *p, siginfo_t *si, int options)
{
	return waitid(P_PID, (id_t)p->pid, si, options) < 0 ? -errno : 0;
}

static int poll_signal(const procwait_proc *p, int signo)
{
	return kill(p->pid, signo) < 0 ? -errno : 0;
}

const struct pw__backend pw__backend_poll = {
	.name = "poll",
	.attach_call = NULL,
	.probe = poll_probe,
	.attach = poll_attach,
	.block = NULL,
	.waitid = poll_waitid,
	.signal = poll_signal,
};
