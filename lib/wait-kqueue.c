/* SPDX-License-Identifier: MIT */
/*
 * The BSD and macOS fast path: each handle owns a kqueue holding one
 * EVFILT_PROC/NOTE_EXIT registration for its pid, made when the handle is
 * made. The kqueue turns readable when that process exits, and stays so:
 * the event is never taken off the queue, so any number of threads may
 * poll(2) it, exactly like a pidfd. The registration pins the identity:
 * NOTE_EXIT belongs to the process that had the pid when the handle was
 * made, even if the pid is reused later. Children are reaped with
 * waitid(P_PID), which cannot hit a reused pid before we reap.
 *
 * Two quirks of real systems (DESIGN.md §9): registering an already exited
 * process fails with ESRCH (macOS; FreeBSD fires at once instead), and
 * NOTE_EXIT can fire before waitpid(WNOHANG) can reap the child (macOS), so
 * the reap is retried a bounded number of times after NOTE_EXIT before the
 * readiness is treated as a hint and the backoff loop takes over.
 */
#include "internal.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/event.h>

/* After NOTE_EXIT, up to this many more reaps, 50 us apart and doubling
 * (about 13 ms in all). */
#define PW_KQ_REAP_TRIES 8
#define PW_KQ_REAP_NAP_NS 50000L

/* A kqueue of our own, close-on-exec (kqueues are not inherited by fork
 * on BSD; exec is another matter). */
int pw__kq_open(void)
{
	int kq = kqueue();

	if (kq < 0)
		return -errno;
	if (fcntl(kq, F_SETFD, FD_CLOEXEC) < 0) {
		int err = -errno;

		close(kq);
		return err;
	}
	return kq;
}

/* Register pid's exit on kq: 0 or -errno (-ESRCH: it has already exited or
 * never was). No event list: the change's error comes back as errno and
 * no pending event is taken off the queue. */
static int kq_watch(int kq, pid_t pid)
{
	struct kevent ch;

	EV_SET(&ch, (uintptr_t)pid, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	return kevent(kq, &ch, 1, NULL, 0, NULL) < 0 ? -errno : 0;
}

static int kq_probe(const char **syscall)
{
	int kq = pw__kq_open(), r;

	if (kq < 0) {
		*syscall = "kqueue";
		return kq;
	}
	r = kq_watch(kq, getpid());
	if (r < 0) {
		*syscall = "kevent";
		goto out;
	}
	r = pw__fd_wait(kq, 0);
	if (r != 0) {
		/* A kqueue that cannot be polled, or one that says we exited
		 * while we run, is of no use. */
		*syscall = "poll";
		r = r < 0 ? r : -ENOSYS;
	}
out:
	close(kq);
	return r;
}

static int kq_attach(procwait_proc *p)
{
	int kq = pw__kq_open(), r;

	if (kq < 0)
		return kq;
	r = kq_watch(kq, p->pid);
	if (r == 0) {
		p->fd = kq;
		return 0;
	}
	close(kq);
	if (r == -ESRCH && !(kill(p->pid, 0) < 0 && errno == ESRCH)) {
		/* There is such a process, yet it cannot be watched: it has
		 * exited (a zombie). The handle knows without watching. */
		p->gone = 1;
		return 0;
	}
	return r;
}

static int kq_exited(procwait_proc *p)
{
	if (p->gone)
		return 1;
	if (p->fd >= 0)
		return pw__fd_wait(p->fd, 0) > 0;
	return pw__poll_exited(p);
}

static int kq_block(procwait_proc *p, int timeout_ms)
{
	return p->gone ? 1 : pw__fd_wait(p->fd, timeout_ms);
}

static int kq_waitid(procwait_proc *p, siginfo_t *si, int options)
{
	long nap = PW_KQ_REAP_NAP_NS;
	int r = pw__poll_waitid(p, si, options), i;

	/* NOTE_EXIT came, yet the child cannot be reaped yet: retry, a
	 * bounded number of times. */
	for (i = 0; i < PW_KQ_REAP_TRIES && r == 0 && si->si_pid == 0 &&
	            (options & WNOHANG) && kq_exited(p); i++) {
		struct timespec ts = { 0, nap };

		nanosleep(&ts, NULL);
		nap *= 2;
		memset(si, 0, sizeof(*si));
		r = pw__poll_waitid(p, si, options);
	}
	return r;
}

static int kq_signal(procwait_proc *p, int signo)
{
	/* An unreaped child keeps its pid; anybody else's pid may be reused
	 * once it has exited, so refuse then. */
	if (p->child != PW_CHILD_YES && kq_exited(p))
		return -ESRCH;
	return kill(p->pid, signo) < 0 ? -errno : 0;
}

const struct pw__backend pw__backend_kqueue = {
	.name = "kqueue",
	.attach_call = "kevent",
	.probe = kq_probe,
	.attach = kq_attach,
	.detach = NULL,
	.block = kq_block,
	.check = pw__posix_check,
	.signal = kq_signal,
	.notify = &pw__notify_kqueue,
	.waitid = kq_waitid,
	.exited = kq_exited,
};
