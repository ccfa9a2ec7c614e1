/* SPDX-License-Identifier: MIT */
/* Thin wrappers over the pidfd system calls, through libc where it has
 * them (configure's HAVE_PIDFD_OPEN, ...) and syscall(2) otherwise. */
#include "internal.h"

#include <unistd.h>
#include <sys/syscall.h>
#ifdef HAVE_SYS_PIDFD_H
#include <sys/pidfd.h>
#endif

int pw__pidfd_open(pid_t pid)
{
	int fd;

#ifdef HAVE_PIDFD_OPEN
	fd = pidfd_open(pid, 0);
#elif defined(SYS_pidfd_open)
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	fd = -1;
#endif
	/* pidfds are always close-on-exec. */
	return fd < 0 ? -errno : fd;
}

int pw__pidfd_send_signal(int pidfd, int signo)
{
	int r;

#ifdef HAVE_PIDFD_SEND_SIGNAL
	r = pidfd_send_signal(pidfd, signo, NULL, 0);
#elif defined(SYS_pidfd_send_signal)
	r = (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
#else
	(void)pidfd; (void)signo;
	errno = ENOSYS;
	r = -1;
#endif
	return r < 0 ? -errno : 0;
}
