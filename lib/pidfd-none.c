/* SPDX-License-Identifier: MIT */
/* procwait_proc_from_pidfd() on a system without pidfds: no descriptor is
 * one (proc.h). */
#include "internal.h"

#ifndef HAVE_WIN32_BACKEND
#include <fcntl.h>
#endif

PROCWAIT_EXTERN int procwait_proc_from_pidfd(int pidfd, unsigned flags, procwait_proc **out)
{
	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(flags == 0);
#ifdef HAVE_WIN32_BACKEND
	/* Descriptors of the C runtime are no process handles either. */
	if (pidfd < 0)
		return -EBADF;
#else
	if (pidfd < 0 || fcntl(pidfd, F_GETFD) < 0)
		return -EBADF;
#endif
	return -EINVAL;
}
