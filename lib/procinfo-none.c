/* SPDX-License-Identifier: MIT */
/* Process information where there is no Linux-style /proc: every call
 * answers -ENOSYS (as procinfo.h documents). */
#include "internal.h"

PROCWAIT_EXTERN int procwait_procinfo_open(pid_t pid, unsigned flags, procwait_procinfo **out)
{
	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(pid > 0 && !(flags & ~PW__PROCINFO_FLAGS));
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_procinfo_open_proc(procwait_proc *proc, unsigned flags,
                                                procwait_procinfo **out)
{
	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(proc && !(flags & ~PW__PROCINFO_FLAGS));
	return -ENOSYS;
}

/* No handle can exist: the calls on one can only have been given garbage
 * or NULL. */
PROCWAIT_EXTERN int procwait_procinfo_reopen(procwait_procinfo *pi, pid_t pid, unsigned flags)
{
	pw__check_arg(pi && pid > 0 && !(flags & ~PW__PROCINFO_FLAGS));
	return -ENOSYS;
}
PROCWAIT_EXTERN void procwait_procinfo_close(procwait_procinfo *pi) { (void)pi; }
PROCWAIT_EXTERN int procwait_procinfo_pid(const procwait_procinfo *pi) { return pi ? -ENOSYS : -EINVAL; }
PROCWAIT_EXTERN int procwait_procinfo_oneshot_begin(procwait_procinfo *pi) { return pi ? -ENOSYS : -EINVAL; }
PROCWAIT_EXTERN int procwait_procinfo_oneshot_end(procwait_procinfo *pi) { return pi ? -ENOSYS : -EINVAL; }
PROCWAIT_EXTERN int procwait_procinfo_snapshot(procwait_procinfo *pi, uint64_t mask,
                                               procwait_snapshot *snap)
{
	(void)mask;
	return pi && snap ? -ENOSYS : -EINVAL;
}

#define PW_NONE_BUF(fn) \
	PROCWAIT_EXTERN int fn(procwait_procinfo *pi, char *buf, size_t size) \
	{ (void)size; return pi && buf ? -ENOSYS : -EINVAL; }
#define PW_NONE_OUT(fn, type) \
	PROCWAIT_EXTERN int fn(procwait_procinfo *pi, type *out) \
	{ return pi && out ? -ENOSYS : -EINVAL; }
#define PW_NONE_INT(fn) \
	PROCWAIT_EXTERN int fn(procwait_procinfo *pi) { return pi ? -ENOSYS : -EINVAL; }

PW_NONE_BUF(procwait_procinfo_name)
PW_NONE_BUF(procwait_procinfo_exe)
PW_NONE_BUF(procwait_procinfo_cmdline)
PW_NONE_BUF(procwait_procinfo_cwd)
PW_NONE_BUF(procwait_procinfo_terminal)
PW_NONE_INT(procwait_procinfo_ppid)
PW_NONE_INT(procwait_procinfo_status)
PW_NONE_INT(procwait_procinfo_num_threads)
PW_NONE_OUT(procwait_procinfo_cpu_times, procwait_cpu_times)
PW_NONE_OUT(procwait_procinfo_create_time, double)
PW_NONE_OUT(procwait_procinfo_nice, int)
PW_NONE_OUT(procwait_procinfo_memory_info, procwait_memory_info)
PW_NONE_OUT(procwait_procinfo_num_ctx_switches, procwait_ctx_switches)
PW_NONE_OUT(procwait_procinfo_uids, procwait_ids)
PW_NONE_OUT(procwait_procinfo_gids, procwait_ids)
PW_NONE_OUT(procwait_procinfo_starttime, uint64_t)

PROCWAIT_EXTERN const char *procwait_state_name(int state)
{
	(void)state;
	return "?";
}
