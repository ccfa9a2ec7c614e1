/* SPDX-License-Identifier: MIT */
/*
 * Windows: a handle holds the process HANDLE, opened with SYNCHRONIZE and
 * PROCESS_QUERY_LIMITED_INFORMATION (and PROCESS_TERMINATE where granted).
 * The HANDLE pins identity: the pid cannot be reused while it is open.
 * WaitForSingleObject blocks, GetExitCodeProcess gives the status. There are
 * no zombies to reap and no parent-child bond: every process's exit code is
 * known while its HANDLE is open, so non-children get a real status here.
 * "Reaping" is the handle's bookkeeping only: once a status has been handed
 * out without PROCWAIT_WAIT_NOREAP, later waits answer -ECHILD, as on POSIX.
 *
 * Signals do not exist: SIGTERM and SIGKILL (9) terminate the process with
 * TerminateProcess and exit code 128 + signo, and a handle that did that
 * reports the exit as a death by that signal. Signal 0 tells whether the
 * process still runs.
 */
#include "internal.h"

#include <limits.h>
#include <string.h>

#define PW_SIGKILL 9

int pw__win_errno(unsigned long err)
{
	switch (err) {
	case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_DRIVE:
		return -ENOENT;
	case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION:
		return -EACCES;
	case ERROR_BAD_EXE_FORMAT: case ERROR_EXE_MACHINE_TYPE_MISMATCH:
		return -ENOEXEC;
	case ERROR_DIRECTORY:
		return -ENOTDIR;
	case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY:
		return -ENOMEM;
	case ERROR_TOO_MANY_OPEN_FILES:
		return -EMFILE;
	case ERROR_NO_SYSTEM_RESOURCES: case ERROR_NOT_ENOUGH_QUOTA:
	case ERROR_COMMITMENT_LIMIT: case ERROR_PAGEFILE_QUOTA:
	case ERROR_WORKING_SET_QUOTA: case ERROR_MAX_THRDS_REACHED:
	case ERROR_INTERNAL_ERROR:   /* Wine, a process that failed to start under load */
		return -EAGAIN;   /* the system is short of something: try later */
	case ERROR_FILENAME_EXCED_RANGE:
		return -ENAMETOOLONG;
	case ERROR_INVALID_HANDLE:
		return -EBADF;
	case ERROR_NOT_SUPPORTED:
		return -ENOTSUP;
	default:
		return -EINVAL;
	}
}

static int win_probe(const char **syscall)
{
	(void)syscall;
	return 0;
}

static int win_attach(procwait_proc *p)
{
	DWORD access = SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION;
	HANDLE h;

	if (p->handle)
		return 0;   /* spawned, or made from a HANDLE */
	if ((DWORD)p->pid != p->pid)
		return -ESRCH;   /* no such process id */
	h = OpenProcess(access | PROCESS_TERMINATE, FALSE, (DWORD)p->pid);
	if (!h && GetLastError() == ERROR_ACCESS_DENIED)
		h = OpenProcess(access, FALSE, (DWORD)p->pid);
	if (!h) {
		DWORD err = GetLastError();

		/* OpenProcess says ERROR_INVALID_PARAMETER for a pid that
		 * names no process; thread ids share the space of process
		 * ids, and a thread is no process (wait.h: -EINVAL). */
		if (err == ERROR_INVALID_PARAMETER) {
			HANDLE t = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)p->pid);

			if (t)
				CloseHandle(t);
			return t || GetLastError() == ERROR_ACCESS_DENIED ? -EINVAL : -ESRCH;
		}
		return err == ERROR_ACCESS_DENIED ? -EPERM : pw__win_errno(err);
	}
	p->handle = h;
	p->child = PW_CHILD_NO;
	return 0;
}

static void win_detach(procwait_proc *p)
{
	if (p->handle)
		CloseHandle(p->handle);
	p->handle = NULL;
}

static int win_block(procwait_proc *p, int timeout_ms)
{
	/* timeout_ms <= INT_MAX never reaches INFINITE (0xFFFFFFFF). */
	DWORD r = WaitForSingleObject(p->handle, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);

	if (r == WAIT_OBJECT_0)
		return 1;
	if (r == WAIT_TIMEOUT)
		return 0;
	return pw__win_errno(GetLastError());
}

static int win_check(procwait_proc *p, unsigned flags, procwait_status *st)
{
	DWORD r = WaitForSingleObject(p->handle, 0), code = 0;

	if (r == WAIT_TIMEOUT)
		return 0;
	if (r != WAIT_OBJECT_0)
		return pw__win_errno(GetLastError());
	memset(st, 0, sizeof(*st));
	st->pid = p->pid;
	if (!GetExitCodeProcess(p->handle, &code)) {
		st->kind = PROCWAIT_STATUS_UNKNOWN;
	} else if (p->signo && code == (DWORD)(128 + p->signo)) {
		st->kind = PROCWAIT_STATUS_SIGNALED;
		st->signo = p->signo;
	} else {
		/* The whole 32-bit exit code (NTSTATUS values such as
		 * 0xC0000005 come out negative). */
		st->kind = PROCWAIT_STATUS_EXITED;
		st->code = (int)code;
	}
	p->reaped = !(flags & PROCWAIT_WAIT_NOREAP);
	return 1;
}

static int win_signal(procwait_proc *p, int signo)
{
	/* Exited, but not reaped through this handle (the front end answers
	 * -ESRCH once it is): like a zombie, it takes and ignores signals. */
	if (WaitForSingleObject(p->handle, 0) == WAIT_OBJECT_0)
		return 0;
	if (signo == 0)
		return 0;
	if (signo != SIGTERM && signo != PW_SIGKILL)
		return -ENOTSUP;
	if (!TerminateProcess(p->handle, (UINT)(128 + signo))) {
		DWORD err = GetLastError();

		/* Exited meanwhile, or the handle lacks PROCESS_TERMINATE. */
		if (WaitForSingleObject(p->handle, 0) == WAIT_OBJECT_0)
			return 0;
		return err == ERROR_ACCESS_DENIED ? -EPERM : pw__win_errno(err);
	}
	if (!p->signo)
		p->signo = signo;
	return 0;
}

const struct pw__backend pw__backend_win32 = {
	.name = "win32",
	.attach_call = "OpenProcess",
	.probe = win_probe,
	.attach = win_attach,
	.detach = win_detach,
	.block = win_block,
	.check = win_check,
	.signal = win_signal,
	.notify = &pw__notify_win32,
};

PROCWAIT_EXTERN int procwait_proc_from_handle(void *handle, unsigned flags, procwait_proc **out)
{
	procwait_proc *p;
	HANDLE dup;
	DWORD pid;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(flags == 0);
	if (!handle || handle == INVALID_HANDLE_VALUE)
		return -EBADF;
	if (!DuplicateHandle(GetCurrentProcess(), handle, GetCurrentProcess(), &dup,
	                     0, FALSE, DUPLICATE_SAME_ACCESS))
		return pw__win_errno(GetLastError());
	pid = GetProcessId(dup);
	if (pid == 0 || WaitForSingleObject(dup, 0) == WAIT_FAILED) {
		/* Not a process handle, or one without query access or
		 * SYNCHRONIZE. */
		CloseHandle(dup);
		return -EINVAL;
	}
	p = pw__proc_alloc((pid_t)pid, PW_CHILD_NO);
	if (!p) {
		CloseHandle(dup);
		return -ENOMEM;
	}
	p->handle = dup;
	p->be = &pw__backend_win32;
	*out = p;
	return 0;
}

PROCWAIT_EXTERN void *procwait_proc_handle(const procwait_proc *proc)
{
	return proc ? proc->handle : NULL;
}
