/* SPDX-License-Identifier: MIT */
/* Process state where there is no Linux-style /proc: unknown. The callers
 * (the poll backend's exit test, the thread-id check) then go by kill(2)
 * alone. */
#include "internal.h"

int pw__proc_stat(pid_t pid, struct pw__stat *st)
{
	(void)pid;
	(void)st;
	return -ENOSYS;
}

int pw__proc_tgid(pid_t pid)
{
	(void)pid;
	return -ENOSYS;
}
