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
 * Quirks of real systems (DESIGN.md §9): registering an already exited
 * process fails with ESRCH (macOS; FreeBSD fires at once instead); NOTE_EXIT
 * can fire before waitpid(WNOHANG) can reap the child (macOS), so the reap
 * is retried a bounded number of times after NOTE_EXIT before the readiness
 * is treated as a hint and the backoff loop takes over; macOS's waitid()
 * does not give the signal of a killed child, so children are reaped with
 * waitpid(2); and a forked child does not inherit kqueues (BSD), so a
 * handle copied by fork stops using the descriptor number, which is no
 * longer its own, and works by pid.
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
		p->fd_owner = getpid();
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

/* The handle's kqueue, or -1: in a process forked from the one that made
 * it, the number names nothing of ours (kqueues are not inherited). */
static int kq_fd(procwait_proc *p)
{
	if (p->fd >= 0 && p->fd_owner != getpid())
		p->fd = -1;   /* not closed: the number may be another file now */
	return p->fd;
}

static void kq_detach(procwait_proc *p)
{
	kq_fd(p);
}

static int kq_exited(procwait_proc *p)
{
	int fd;

	if (p->gone)
		return 1;
	fd = kq_fd(p);
	if (fd >= 0)
		return pw__fd_wait(fd, 0) > 0;
	return pw__poll_exited(p);
}

static int kq_block(procwait_proc *p, int timeout_ms)
{
	int fd;

	if (p->gone)
		return 1;
	fd = kq_fd(p);
	return fd >= 0 ? pw__fd_wait(fd, timeout_ms) : -ENOTSUP;
}

/* Reap (or peek, with WNOWAIT) one child into *si: waitpid(2) where it
 * reaps, since macOS's waitid() leaves si_status 0 for a killed child. */
static int kq_reap(procwait_proc *p, siginfo_t *si, int options)
{
	pid_t r;
	int st = 0;

	if (options & WNOWAIT)
		return pw__poll_waitid(p, si, options);
	do
		r = waitpid(p->pid, &st, (options & WNOHANG) ? WNOHANG : 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	memset(si, 0, sizeof(*si));
	if (r == 0)
		return 0;   /* still running */
	si->si_pid = r;
	if (WIFEXITED(st)) {
		si->si_code = CLD_EXITED;
		si->si_status = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
#ifdef WCOREDUMP
		si->si_code = WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED;
#else
		si->si_code = CLD_KILLED;
#endif
		si->si_status = WTERMSIG(st);
	} else {
		si->si_pid = 0;   /* stopped or continued: not an exit */
	}
	return 0;
}

static int kq_waitid(procwait_proc *p, siginfo_t *si, int options)
{
	long nap = PW_KQ_REAP_NAP_NS;
	int r = kq_reap(p, si, options), i;

	/* NOTE_EXIT came, yet the child cannot be reaped yet: retry, a
	 * bounded number of times. */
	for (i = 0; i < PW_KQ_REAP_TRIES && r == 0 && si->si_pid == 0 &&
	            (options & WNOHANG) && kq_exited(p); i++) {
		struct timespec ts = { 0, nap };

		nanosleep(&ts, NULL);
		nap *= 2;
		memset(si, 0, sizeof(*si));
		r = kq_reap(p, si, options);
	}
	return r;
}

static int kq_signal(procwait_proc *p, int signo)
{
	/* Once the process has exited its pid may be reused: refuse, unless
	 * it is our child and still our zombie (reaped by somebody else, by
	 * SIGCHLD's auto-reap, its pid is free). */
	if (kq_exited(p)) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (p->child != PW_CHILD_YES ||
		    waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid != p->pid)
			return -ESRCH;
	}
	return kill(p->pid, signo) < 0 ? -errno : 0;
}

const struct pw__backend pw__backend_kqueue = {
	.name = "kqueue",
	.attach_call = "kevent",
	.probe = kq_probe,
	.attach = kq_attach,
	.detach = kq_detach,
	.block = kq_block,
	.check = pw__posix_check,
	.signal = kq_signal,
	.notify = &pw__notify_kqueue,
	.waitid = kq_waitid,
	.exited = kq_exited,
};
