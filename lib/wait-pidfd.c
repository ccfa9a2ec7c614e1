/* SPDX-License-Identifier: MIT */
/* The Linux fast path: a pidfd per process, poll(2) for readiness,
 * waitid(P_PIDFD) for the status, pidfd_send_signal(2) for signals. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_waitid(procwait_proc *p, siginfo_t *si, int options)
{
	return waitid((idtype_t)P_PIDFD, (id_t)p->fd, si, options) < 0 ? -errno : 0;
}

/* The probe exercises every system call the backend uses, so that a
 * seccomp filter that would answer one of them with SIGSYS, ENOSYS or EPERM
 * is found here, once, and never in the middle of a wait. */
static int pidfd_probe(const char **syscall)
{
	siginfo_t si;
	int fd, r;

	fd = pw__pidfd_open(getpid());
	if (fd < 0) {
		*syscall = "pidfd_open";
		return fd;
	}
	memset(&si, 0, sizeof(si));
	/* We are not our own child: the answer must be ECHILD. EINVAL means
	 * the kernel has pidfd_open (5.3) but not P_PIDFD (5.4). */
	r = waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0 ? -errno : 0;
	if (r != -ECHILD) {
		*syscall = "waitid";
		r = (r == 0 || r == -EINVAL) ? -ENOSYS : r;
		goto out;
	}
	r = pw__pidfd_send_signal(fd, 0);
	if (r < 0) {
		*syscall = "pidfd_send_signal";
		goto out;
	}
	r = pw__fd_wait(fd, 0);
	if (r != 0) {
		*syscall = "poll";
		r = r < 0 ? r : -ENOSYS;   /* readable while we run: broken */
	}
out:
	close(fd);
	return r;
}

static int pidfd_attach(procwait_proc *p)
{
	int fd = pw__pidfd_open(p->pid);

	if (fd < 0)
		return fd;
	p->fd = fd;
	return 0;
}

static int pidfd_block(procwait_proc *p, int timeout_ms)
{
	return pw__fd_wait(p->fd, timeout_ms);
}

/* A pidfd turns readable once the whole thread group has exited and not
 * before (a zombie leader with live threads keeps it quiet). */
static int pidfd_exited(procwait_proc *p)
{
	return pw__fd_wait(p->fd, 0) > 0;
}

static int pidfd_signal(procwait_proc *p, int signo)
{
	return pw__pidfd_send_signal(p->fd, signo);
}

const struct pw__backend pw__backend_pidfd = {
	.name = "pidfd",
	.attach_call = "pidfd_open",
	.probe = pidfd_probe,
	.attach = pidfd_attach,
	.detach = NULL,
	.block = pidfd_block,
	.check = pw__posix_check,
	.signal = pidfd_signal,
	.notify = &pw__notify_epoll,
	.waitid = pidfd_waitid,
	.exited = pidfd_exited,
};

int pw__pidfd_pid(int fd)
{
	char path[64], buf[1024];
	const char *line;
	ssize_t n;
	long pid;
	int ifd, err;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	ifd = open(path, O_RDONLY | O_CLOEXEC);
	if (ifd < 0) {
		/* The caller checked that fd is open: no fdinfo for it means
		 * no /proc to learn its pid from. */
		return errno == ENOENT ? -ENOSYS : -errno;
	}
	do
		n = read(ifd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	err = errno;
	close(ifd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	line = strstr(buf, "\nPid:");
	if (!line)
		return -EINVAL;
	pid = strtol(line + 5, NULL, 10);
	if (pid <= 0)
		return -ESRCH;   /* "Pid: -1": the process was reaped */
	return (int)pid;
}

PROCWAIT_EXTERN int procwait_proc_from_pidfd(int pidfd, unsigned flags, procwait_proc **out)
{
	procwait_proc *p;
	int pid, fd;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(flags == 0);
	if (pidfd < 0 || fcntl(pidfd, F_GETFD) < 0)
		return -EBADF;
	pid = pw__pidfd_pid(pidfd);
	if (pid < 0)
		return pid;
	p = pw__proc_alloc(pid, PW_CHILD_UNKNOWN);
	if (!p)
		return -ENOMEM;
	fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0) {
		int err = -errno;

		pw__proc_free(p);
		return err;
	}
	p->fd = fd;
	/* The descriptor serves poll and wait sets in any case; waitid and
	 * signals go through pidfds only while the fast path is in use. */
	p->be = pw__backend_get() == &pw__backend_pidfd ? &pw__backend_pidfd : &pw__backend_poll;
	pw__proc_detect_child(p);
	*out = p;
	return 0;
}
