/* SPDX-License-Identifier: MIT */
/* Process handles: open, from a pidfd, spawn, fork, signal, accessors. Run
 * once per backend (tests/run-backend.sh).
 *
 * On Windows (HAVE_WIN32_BACKEND): handles hold a process HANDLE (also
 * made from one, procwait_proc_from_handle()), procwait_spawn() runs
 * pwt-child.exe through CreateProcessW (argv quoting, environment, working
 * directory, standard handles), procwait_fork() is -ENOSYS, and the POSIX
 * mechanics (pidfds, fork, signal dispositions, sessions, rlimits) are not
 * tested. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#ifdef HAVE_WIN32_BACKEND
#include <io.h>
#include <windows.h>
#else
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#endif

#include "helpers.h"

/* Read all of fd into buf (NUL-terminated). */
static size_t slurp(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got;
}

/* ---- open ---------------------------------------------------------------- */

START_TEST(test_open_child)
{
	procwait_proc *p = NULL;
	procwait_status st;
	pid_t pid = pwt_child_exit(100, 31);

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(procwait_proc_pid(p), pid);
	if (pwt_backend_has_fd())
		ck_assert_int_ge(procwait_proc_fd(p), 0);
	else
		ck_assert_int_eq(procwait_proc_fd(p), -ENOTSUP);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_ptr_nonnull(procwait_proc_handle(p));
	ck_assert_uint_eq(GetProcessId(procwait_proc_handle(p)), (unsigned)pid);
#else
	ck_assert_ptr_null(procwait_proc_handle(p));   /* HANDLEs are Windows' */
#endif
	ck_assert_int_eq(procwait_proc_signal(p, 0), 0);
	ck_assert_int_eq(procwait_proc_wait(p, -1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 31);
	/* the status is handed out once */
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ECHILD);
	ck_assert_int_eq(procwait_proc_wait(p, -1, 0, &st), -ECHILD);
	/* and the handle will not signal whatever has the pid now */
	ck_assert_int_eq(procwait_proc_signal(p, SIGTERM), -ESRCH);
	procwait_proc_close(p);
	pwt_assert_no_children();
}
END_TEST

START_TEST(test_open_invalid)
{
	procwait_proc *p = (procwait_proc *)&p;
	pid_t gone = pwt_child_exit(0, 0);

	pwt_reap(gone);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(pwt_await_gone(gone, 10000), 0);
#endif
	ck_assert_int_eq(procwait_proc_open(gone, 0, &p), -ESRCH);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(procwait_proc_open(0, 0, &p), -EINVAL);
	ck_assert_int_eq(procwait_proc_open(-4, 0, &p), -EINVAL);
	ck_assert_int_eq(procwait_proc_open(getpid(), 1, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(procwait_proc_open(getpid(), 0, NULL), -EINVAL);
	ck_assert_int_eq(procwait_proc_pid(NULL), -EINVAL);
	ck_assert_int_eq(procwait_proc_fd(NULL), -EINVAL);
	ck_assert_int_eq(procwait_proc_signal(NULL, 0), -EINVAL);
	ck_assert_ptr_null(procwait_proc_handle(NULL));
	procwait_proc_close(NULL);
}
END_TEST

/* A handle on ourselves: signal 0 works, a forever wait is refused. */
START_TEST(test_open_self)
{
	procwait_proc *p;
	procwait_status st;

	ck_assert_int_eq(procwait_proc_open(getpid(), 0, &p), 0);
	ck_assert_int_eq(procwait_proc_signal(p, 0), 0);
	ck_assert_int_eq(procwait_proc_signal(p, -1), -EINVAL);
	ck_assert_int_eq(procwait_proc_signal(p, 100000), -EINVAL);
	ck_assert_int_eq(procwait_proc_wait(p, -1, 0, &st), -EDEADLK);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ETIMEDOUT);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0x40, &st), -EINVAL);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, NULL), -EINVAL);
	procwait_proc_close(p);
}
END_TEST

/* NOREAP through a handle: reported again and again, then reaped once. */
START_TEST(test_handle_noreap)
{
	procwait_proc *p;
	procwait_status st;
	pid_t pid = pwt_child_exit(20, 66);

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(procwait_proc_wait(p, -1, PROCWAIT_WAIT_NOREAP, &st), 0);
	ck_assert_int_eq(st.code, 66);
	ck_assert_int_eq(procwait_proc_wait(p, 0, PROCWAIT_WAIT_NOREAP, &st), 0);
	ck_assert_int_eq(st.code, 66);
#ifndef HAVE_WIN32_BACKEND
	/* (Windows: test_signal_unreaped checks this on its own.) */
	ck_assert_int_eq(procwait_proc_signal(p, 0), 0);   /* a zombie still */
#endif
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), 0);
	ck_assert_int_eq(st.code, 66);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ECHILD);
	procwait_proc_close(p);
	pwt_assert_no_children();
}
END_TEST

/* A process that has exited but is not reaped through the handle (a
 * zombie; on Windows, a process whose status the handle has not handed
 * out) accepts and ignores signals, as proc.h says: 0, and its exit stays
 * an exit, not a signal death. Once reaped: -ESRCH. */
START_TEST(test_signal_unreaped)
{
	procwait_proc *p;
	procwait_status st;
	pid_t pid = pwt_child_exit(0, 67);
	int r0, rterm;

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(pwt_await_exit(pid, 30000), 0);
	r0 = procwait_proc_signal(p, 0);
	rterm = procwait_proc_signal(p, SIGTERM);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 67);
	ck_assert_int_eq(procwait_proc_signal(p, 0), -ESRCH);
	ck_assert_int_eq(procwait_proc_signal(p, SIGTERM), -ESRCH);
	procwait_proc_close(p);
	ck_assert_int_eq(r0, 0);
	ck_assert_int_eq(rterm, 0);
}
END_TEST

/* ---- from a pidfd ---------------------------------------------------------- */

#ifndef HAVE_WIN32_BACKEND

static int raw_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

START_TEST(test_from_pidfd)
{
	procwait_proc *p = NULL;
	procwait_status st;
	pid_t pid = pwt_child_exit(100, 12);
	int fd = raw_pidfd_open(pid), pfd[2];

	if (fd < 0) {
		ck_assert_int_eq(errno, ENOSYS);
		ck_assert_int_eq(procwait_proc_from_pidfd(0, 0, &p), -EINVAL);
		pwt_reap(pid);
		return;
	}
#ifndef HAVE_PIDFD_BACKEND
	/* The kernel has pidfds, this build of the library does not (the
	 * kqueue-only build of CI): no descriptor is one to it. */
	ck_assert_int_eq(procwait_proc_from_pidfd(fd, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	close(fd);
	pwt_reap(pid);
	return;
#endif
	ck_assert_int_eq(procwait_proc_from_pidfd(fd, 0, &p), 0);
	ck_assert_int_eq(procwait_proc_pid(p), pid);
	ck_assert_int_ge(procwait_proc_fd(p), 0);
	ck_assert_int_ne(procwait_proc_fd(p), fd);   /* its own duplicate */
	ck_assert_int_eq(fcntl(procwait_proc_fd(p), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(procwait_proc_wait(p, -1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 12);
	procwait_proc_close(p);
	/* the caller's descriptor is untouched */
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	/* a pidfd whose process was reaped */
	ck_assert_int_eq(procwait_proc_from_pidfd(fd, 0, &p), -ESRCH);
	close(fd);

	/* not a pidfd, not open, bad arguments */
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(procwait_proc_from_pidfd(pfd[0], 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	close(pfd[0]);
	ck_assert_int_eq(procwait_proc_from_pidfd(pfd[0], 0, &p), -EBADF);
	close(pfd[1]);
	ck_assert_int_eq(procwait_proc_from_pidfd(-1, 0, &p), -EBADF);
	ck_assert_int_eq(procwait_proc_from_pidfd(0, 7, &p), -EINVAL);
	ck_assert_int_eq(procwait_proc_from_pidfd(0, 0, NULL), -EINVAL);
}
END_TEST

/* Process HANDLEs are Windows': elsewhere -ENOSYS, and no handle has one. */
START_TEST(test_from_handle)
{
	procwait_proc *p = (procwait_proc *)&p;
	int x;

	ck_assert_int_eq(procwait_proc_from_handle(&x, 0, &p), -ENOSYS);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(procwait_proc_from_handle(&x, 1, &p), -EINVAL);
	ck_assert_int_eq(procwait_proc_from_handle(&x, 0, NULL), -EINVAL);
	ck_assert_ptr_null(procwait_proc_handle(NULL));
}
END_TEST
#else
/* No descriptor is a pidfd on Windows. */
START_TEST(test_from_pidfd)
{
	procwait_proc *p = (procwait_proc *)&p;

	ck_assert_int_eq(procwait_proc_from_pidfd(0, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(procwait_proc_from_pidfd(-1, 0, &p), -EBADF);
	ck_assert_int_eq(procwait_proc_from_pidfd(0, 7, &p), -EINVAL);
	ck_assert_int_eq(procwait_proc_from_pidfd(0, 0, NULL), -EINVAL);
}
END_TEST

/* A handle from a HANDLE: its own duplicate (the caller's HANDLE stays
 * open and usable), the pid, a wait, a signal; HANDLEs that are not process
 * HANDLEs, or lack the access a wait needs, are refused. */
START_TEST(test_from_handle)
{
	procwait_proc *p = (procwait_proc *)&p, *q;
	procwait_status st;
	pid_t pid = pwt_child_sleep_forever();
	HANDLE h, weak, ev;
	DWORD code = 0;

	h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE,
	                FALSE, (DWORD)pid);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(procwait_proc_from_handle(h, 0, &p), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(procwait_proc_pid(p), pid);
	ck_assert_ptr_nonnull(procwait_proc_handle(p));
	ck_assert_ptr_ne(procwait_proc_handle(p), h);   /* its own duplicate */
	ck_assert_int_eq(procwait_proc_fd(p), -ENOTSUP);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ETIMEDOUT);
	ck_assert_int_eq(procwait_proc_signal(p, SIGTERM), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 10000, 0, &st), 0);
	ck_assert_int_eq(st.pid, pid);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGTERM);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ECHILD);
	/* Its HANDLE is usable in the caller's own waits, as proc.h says. */
	ck_assert_uint_eq(WaitForSingleObject(procwait_proc_handle(p), 0), WAIT_OBJECT_0);
	procwait_proc_close(p);
	/* The caller's HANDLE is untouched. */
	ck_assert(GetExitCodeProcess(h, &code));
	ck_assert_uint_eq(code, 128 + SIGTERM);

	/* Another handle from the same HANDLE: the status again, as an exit
	 * code (only the handle that signalled knows the signal). */
	ck_assert_int_eq(procwait_proc_from_handle(h, 0, &q), 0);
	ck_assert_int_eq(procwait_proc_wait(q, 0, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 128 + SIGTERM);
	procwait_proc_close(q);
	CloseHandle(h);

	/* Without SYNCHRONIZE a HANDLE cannot be waited on. */
	pid = pwt_child_sleep_forever();
	weak = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
	ck_assert_ptr_nonnull(weak);
	p = (procwait_proc *)&p;
	ck_assert_int_eq(procwait_proc_from_handle(weak, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	CloseHandle(weak);
	/* An event is no process. */
	ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(procwait_proc_from_handle(ev, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	CloseHandle(ev);
	/* Bad arguments. */
	ck_assert_int_eq(procwait_proc_from_handle(NULL, 0, &p), -EBADF);
	ck_assert_int_eq(procwait_proc_from_handle(INVALID_HANDLE_VALUE, 0, &p), -EBADF);
	ck_assert_int_eq(procwait_proc_from_handle(GetCurrentProcess(), 1, &p), -EINVAL);
	ck_assert_int_eq(procwait_proc_from_handle(GetCurrentProcess(), 0, NULL), -EINVAL);
	/* GetCurrentProcess()'s pseudo-HANDLE is INVALID_HANDLE_VALUE's value:
	 * refused as that; a real HANDLE on ourselves is a handle on us. */
	ck_assert_int_eq(procwait_proc_from_handle(GetCurrentProcess(), 0, &p), -EBADF);
	h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
	                GetCurrentProcessId());
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(procwait_proc_from_handle(h, 0, &p), 0);
	CloseHandle(h);
	ck_assert_int_eq(procwait_proc_pid(p), getpid());
	ck_assert_int_eq(procwait_proc_wait(p, -1, 0, &st), -EDEADLK);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ETIMEDOUT);
	ck_assert_int_eq(procwait_proc_signal(p, 0), 0);
	procwait_proc_close(p);
	ck_assert_int_eq(pwt_kill(pid), 0);
}
END_TEST
#endif

/* What every platform refuses alike, with nothing started: a working
 * directory that does not exist, a closed stdio fd, bad arguments. o->argv
 * is ok on entry and on return. */
static void spawn_rejects(procwait_spawn_options *o, char **ok, char **empty,
                          const char *nodir)
{
	procwait_proc *p = NULL;

	o->argv = ok;
	o->cwd = nodir;
	ck_assert_int_eq(procwait_spawn(o, &p), -ENOENT);
	o->cwd = NULL;
	o->stdin_fd = 1000;   /* not open */
	ck_assert_int_eq(procwait_spawn(o, &p), -EBADF);
	o->stdin_fd = -2;
	ck_assert_int_eq(procwait_spawn(o, &p), -EINVAL);
	o->stdin_fd = -1;
	o->flags = 0x100;
	ck_assert_int_eq(procwait_spawn(o, &p), -EINVAL);
	o->flags = 0;
	o->size = sizeof(*o) - 1;
	ck_assert_int_eq(procwait_spawn(o, &p), -EINVAL);
	o->size = sizeof(*o);
	o->argv = empty;
	ck_assert_int_eq(procwait_spawn(o, &p), -EINVAL);
	o->argv = NULL;
	ck_assert_int_eq(procwait_spawn(o, &p), -EINVAL);
	ck_assert_int_eq(procwait_spawn(NULL, &p), -EINVAL);
	o->argv = ok;
	ck_assert_int_eq(procwait_spawn(o, NULL), -EINVAL);
	ck_assert_ptr_null(p);
}

/* ---- spawn --------------------------------------------------------------- */

#ifdef HAVE_WIN32_BACKEND
/* Start pwt-child.exe with argv (argv[0] is only a name: the program is
 * given in o.file) and the rest of o as set; its stdout captured. */
static int spawn_child(procwait_spawn_options *o, char **argv, char *out, size_t size,
                       size_t *len, procwait_status *st)
{
	o->file = pwt_child_path();
	o->argv = argv;
	return pwt_spawn_capture(o, out, size, len, st);
}

/* The argv round trip: arguments that need quoting the way the C runtime
 * parses a command line (blanks, empty strings, quotes, backslashes before
 * a quote and at the end, tabs, non-ASCII UTF-8) reach the child as they
 * were, and so does an argv[0] with a blank. */
START_TEST(test_spawn_argv_quoting)
{
	static const char *const args[] = {
		"a b", "", "\"", "\"quoted\"", "back\\slash", "trail\\", "trail2\\\\",
		"\\\"", "a\\\\\"b", "a\\\\\\\"b", "\\\\\\", "tab\there", "two  spaces",
		" lead", "trail ", "x\"y z\"", "\"\"", "new\nline", "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
		"\xf0\x9f\x98\x80", "*?", "%PATH%", "^&|<>", "plain",
	};
	enum { NARGS = sizeof(args) / sizeof(args[0]) };
	char *argv[NARGS + 3], out[4096];
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_status st;
	size_t len = 0, off = 0;
	int i;

	argv[0] = (char *)"pwt child \xc3\xa9";
	argv[1] = (char *)"args";
	for (i = 0; i < NARGS; i++)
		argv[i + 2] = (char *)args[i];
	argv[NARGS + 2] = NULL;
	ck_assert_int_eq(spawn_child(&o, argv, out, sizeof(out), &len, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 0);
	for (i = 0; i < NARGS; i++) {
		ck_assert_msg(off < len, "argument %d missing (the child saw %d)", i, i);
		ck_assert_str_eq(out + off, args[i]);
		off += strlen(out + off) + 1;
	}
	ck_assert_msg(off == len, "the child saw more arguments than %d", (int)NARGS);
	pwt_assert_no_children();
}
END_TEST

/* A full environment (UTF-8 values too) replaces ours; a working directory
 * (with a non-ASCII name) is the child's; the exit code comes back. */
START_TEST(test_spawn_args_env_cwd)
{
	char *envp[] = { (char *)"FOO=bar baz", (char *)"PWT_U=\xc3\xa9\xe6\x97\xa5",
	                 (char *)"EMPTY=", NULL };
	char *env_argv[] = { (char *)"pwt-child", (char *)"env", (char *)"FOO", (char *)"PWT_U",
	                     (char *)"EMPTY", (char *)"PWT_MARK", NULL };
	char *cwd_argv[] = { (char *)"pwt-child", (char *)"cwd", NULL };
	char *exit_argv[] = { (char *)"pwt-child", (char *)"exit", (char *)"0", (char *)"5", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_status st;
	wchar_t tmp[MAX_PATH + 1], dirw[MAX_PATH + 64];
	char dir[3 * (MAX_PATH + 64)], out[1024];
	size_t len = 0;

	_putenv("PWT_MARK=not for the child");
	o.envp = envp;
	ck_assert_int_eq(spawn_child(&o, env_argv, out, sizeof(out), &len, &st), 0);
	ck_assert_int_eq(st.code, 0);
	ck_assert_uint_eq(len, sizeof("bar baz\0\xc3\xa9\xe6\x97\xa5\0\0(unset)"));
	ck_assert_int_eq(memcmp(out, "bar baz\0\xc3\xa9\xe6\x97\xa5\0\0(unset)", len), 0);
	_putenv("PWT_MARK=");

	ck_assert_uint_ne(GetTempPathW(MAX_PATH + 1, tmp), 0);
	_snwprintf(dirw, MAX_PATH + 64, L"%lspwt-cwd-\u00e9-%lu", tmp,
	           (unsigned long)GetCurrentProcessId());
	ck_assert(CreateDirectoryW(dirw, NULL) || GetLastError() == ERROR_ALREADY_EXISTS);
	ck_assert_int_gt(WideCharToMultiByte(CP_UTF8, 0, dirw, -1, dir, (int)sizeof(dir), NULL,
	                                     NULL), 0);
	o = (procwait_spawn_options)PROCWAIT_SPAWN_OPTIONS_INIT;
	o.cwd = dir;
	ck_assert_int_eq(spawn_child(&o, cwd_argv, out, sizeof(out), NULL, &st), 0);
	RemoveDirectoryW(dirw);
	ck_assert_int_eq(st.code, 0);
	ck_assert_str_eq(out, dir);

	o = (procwait_spawn_options)PROCWAIT_SPAWN_OPTIONS_INIT;
	ck_assert_int_eq(spawn_child(&o, exit_argv, out, sizeof(out), NULL, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 5);
	pwt_assert_no_children();
}
END_TEST

/* envp NULL inherits the caller's environment; SEARCH_PATH finds a bare
 * name through PATH, and only there: not in the directory of the running
 * program, which Windows' own search order puts first (binary planting). */
START_TEST(test_spawn_inherit_env_path)
{
	char *argv[] = { (char *)"pwt-child", (char *)"env", (char *)"PWT_MARK", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p = NULL;
	procwait_status st;
	char out[256], dir[MAX_PATH], *path, *saved, *slash;
	size_t len = 0;

	ck_assert_uint_gt(GetModuleFileNameA(NULL, dir, sizeof(dir)), 0);
	slash = strrchr(dir, '\\');
	ck_assert_ptr_nonnull(slash);
	*slash = '\0';
	saved = getenv("PATH") ? strdup(getenv("PATH")) : strdup("");
	ck_assert_ptr_nonnull(saved);
	_putenv("PWT_MARK=inherited");
	o.argv = argv;
	o.flags = PROCWAIT_SPAWN_SEARCH_PATH;
	/* not in PATH: not found, although it sits beside us */
	_putenv("PATH=C:\\nonexistent-pwt-dir");
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOENT);
	ck_assert_ptr_null(p);
	path = malloc(strlen(dir) + strlen(saved) + 8);
	ck_assert_ptr_nonnull(path);
	sprintf(path, "PATH=%s;%s", dir, saved);
	_putenv(path);
	ck_assert_int_eq(pwt_spawn_capture(&o, out, sizeof(out), &len, &st), 0);
	sprintf(path, "PATH=%s", saved);
	_putenv(path);
	free(path);
	free(saved);
	_putenv("PWT_MARK=");
	ck_assert_int_eq(st.code, 0);
	ck_assert_uint_eq(len, sizeof("inherited"));
	ck_assert_str_eq(out, "inherited");
}
END_TEST

/* What cannot be passed safely is refused, and nothing is started: a batch
 * file (cmd.exe does not parse arguments by the C runtime's rules: an
 * argument such as "&calc" would run a command), and argv[0] with a quote
 * (the C runtime reads argv[0] without escapes). */
START_TEST(test_spawn_refused)
{
	char *bat[] = { (char *)"C:\\windows\\x.bat", (char *)"\"&echo INJECTED&rem ", NULL };
	char *cmd[] = { (char *)"run.CMD", NULL };
	char *quote[] = { (char *)"pwt\"child", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p = NULL;

	o.argv = bat;
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOEXEC);
	ck_assert_ptr_null(p);
	o.argv = cmd;
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOEXEC);
	o.argv = quote;
	o.file = pwt_child_path();
	ck_assert_int_eq(procwait_spawn(&o, &p), -EINVAL);
	ck_assert_ptr_null(p);
	pwt_assert_no_children();
}
END_TEST

/* The inherited environment is the process's, as it is now, whichever way
 * a variable was set (the C runtime's _wputenv(), or
 * SetEnvironmentVariableW()), non-ASCII values included: they reach the
 * child as they are, and do not make the spawn fail. */
START_TEST(test_spawn_inherit_env_wide)
{
	char *argv[] = { (char *)"pwt-child", (char *)"env", (char *)"PWT_WIDE1",
	                 (char *)"PWT_WIDE2", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_status st;
	char out[256];
	size_t len = 0;
	int r;

	_wputenv(L"PWT_WIDE1=\u00e9t\u00e9");
	SetEnvironmentVariableW(L"PWT_WIDE2", L"\u00e9\u65e5");
	o.file = pwt_child_path();
	o.argv = argv;
	r = pwt_spawn_capture(&o, out, sizeof(out), &len, &st);
	/* Gone again, from both copies, before anything can fail. */
	_wputenv(L"PWT_WIDE1=");
	_wputenv(L"PWT_WIDE2=");
	SetEnvironmentVariableW(L"PWT_WIDE1", NULL);
	SetEnvironmentVariableW(L"PWT_WIDE2", NULL);
	ck_assert_msg(r == 0, "procwait_spawn: %s", procwait_strerror(r));
	ck_assert_int_eq(st.code, 0);
	ck_assert_uint_eq(len, sizeof("\xc3\xa9t\xc3\xa9\0\xc3\xa9\xe6\x97\xa5"));
	ck_assert_int_eq(memcmp(out, "\xc3\xa9t\xc3\xa9\0\xc3\xa9\xe6\x97\xa5", len), 0);
}
END_TEST

/* stdin from a pipe reaches the child; EOF ends it; stdout to a pipe. */
START_TEST(test_spawn_stdin)
{
	char *argv[] = { (char *)"pwt-child", (char *)"cat", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p;
	procwait_status st;
	int in[2], outp[2];
	char buf[64];

	ck_assert_int_eq(_pipe(in, 4096, _O_BINARY | _O_NOINHERIT), 0);
	ck_assert_int_eq(_pipe(outp, 4096, _O_BINARY | _O_NOINHERIT), 0);
	o.file = pwt_child_path();
	o.argv = argv;
	o.stdin_fd = in[0];
	o.stdout_fd = outp[1];
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	pwt_track(p);
	_close(in[0]);
	_close(outp[1]);
	ck_assert_int_eq(_write(in[1], "hello\n", 6), 6);
	_close(in[1]);
	slurp(outp[0], buf, sizeof(buf));
	_close(outp[0]);
	ck_assert_str_eq(buf, "hello\n");
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
	ck_assert_int_eq(st.code, 0);
	procwait_proc_close(p);
}
END_TEST

/* The process-group flags are accepted (CREATE_NEW_PROCESS_GROUP); the
 * child runs and is killed through its handle as any other. */
START_TEST(test_spawn_session_group)
{
	static const unsigned flags[] = { PROCWAIT_SPAWN_SETSID, PROCWAIT_SPAWN_SETPGID,
	                                  PROCWAIT_SPAWN_SETSID | PROCWAIT_SPAWN_SETPGID };
	char *argv[] = { (char *)"pwt-child", (char *)"forever", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p;
	procwait_status st;

	o.file = pwt_child_path();
	o.argv = argv;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		o.flags = flags[i];
		ck_assert_int_eq(procwait_spawn(&o, &p), 0);
		pwt_track(p);
		ck_assert_int_gt(procwait_proc_pid(p), 0);
		ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ETIMEDOUT);
		ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
		ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
		ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
		ck_assert_int_eq(st.signo, SIGKILL);
		procwait_proc_close(p);
	}
}
END_TEST

/* Failures are reported as errno values, and leave nothing behind. */
START_TEST(test_spawn_errors)
{
	char *missing[] = { (char *)"C:\\nonexistent\\prog.exe", NULL };
	char *bare[] = { (char *)"no-such-program-procwait", NULL };
	char *badutf8[] = { (char *)"pwt-child", (char *)"\xc3(", NULL };
	char *ok[] = { (char *)"pwt-child", (char *)"exit", (char *)"0", (char *)"0", NULL };
	char *empty[] = { NULL };
	char *badenv[] = { (char *)"A=\xff", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p = (procwait_proc *)&p;
	wchar_t tmp[MAX_PATH + 1], junkw[MAX_PATH + 64];
	char junk[3 * (MAX_PATH + 64)];
	char *junkargv[] = { junk, NULL };
	FILE *f;

	o.argv = missing;
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOENT);
	ck_assert_ptr_null(p);
	o.argv = bare;
	o.flags = PROCWAIT_SPAWN_SEARCH_PATH;
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOENT);
	o.flags = 0;
	/* exists, but is no executable */
	ck_assert_uint_ne(GetTempPathW(MAX_PATH + 1, tmp), 0);
	_snwprintf(junkw, MAX_PATH + 64, L"%lspwt-noexec-%lu.exe", tmp,
	           (unsigned long)GetCurrentProcessId());
	WideCharToMultiByte(CP_UTF8, 0, junkw, -1, junk, (int)sizeof(junk), NULL, NULL);
	f = _wfopen(junkw, L"wb");
	ck_assert_ptr_nonnull(f);
	fputs("this is not a program\r\n", f);
	fclose(f);
	o.argv = junkargv;
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOEXEC);
	DeleteFileW(junkw);
	ck_assert_ptr_null(p);
	/* argv and envp are UTF-8 */
	o.file = pwt_child_path();
	o.argv = badutf8;
	ck_assert_int_eq(procwait_spawn(&o, &p), -EINVAL);
	o.argv = ok;
	o.envp = badenv;
	ck_assert_int_eq(procwait_spawn(&o, &p), -EINVAL);
	o.envp = NULL;
	spawn_rejects(&o, ok, empty, "C:\\nonexistent-dir");
	ck_assert_ptr_null(p);
	/* and the good one works */
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	pwt_track(p);
	{
		procwait_status st;

		ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
		ck_assert_int_eq(st.code, 0);
	}
	procwait_proc_close(p);
	pwt_assert_no_children();
}
END_TEST
#else /* !HAVE_WIN32_BACKEND */

static int spawn_capture(procwait_spawn_options *o, char *out, size_t size, procwait_status *st)
{
	procwait_proc *p;
	int pfd[2], r;

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	o->stdout_fd = pfd[1];
	r = procwait_spawn(o, &p);
	close(pfd[1]);
	if (r < 0) {
		close(pfd[0]);
		return r;
	}
	slurp(pfd[0], out, size);
	close(pfd[0]);
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, st), 0);
	procwait_proc_close(p);
	return 0;
}

/* argv with spaces, a full environment, a working directory, stdout. */
START_TEST(test_spawn_args_env_cwd)
{
	char *argv[] = { "sh", "-c", "printf '%s|%s|%s|%s' \"$FOO\" \"$(pwd)\" \"$1\" \"$#\"; exit 5",
	                 "sh", "a b", "", NULL };
	char *envp[] = { "FOO=bar baz", "PATH=/usr/bin:/bin", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_status st;
	char out[256];

	o.file = "/bin/sh";
	o.argv = argv;
	o.envp = envp;
	o.cwd = "/tmp";
	ck_assert_int_eq(spawn_capture(&o, out, sizeof(out), &st), 0);
	ck_assert_str_eq(out, "bar baz|/tmp|a b|2");
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 5);
	pwt_assert_no_children();
}
END_TEST

/* envp NULL inherits the caller's environment; SEARCH_PATH finds sh. */
START_TEST(test_spawn_inherit_env_path)
{
	char *argv[] = { "sh", "-c", "printf %s \"$PWT_MARK\"", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_status st;
	char out[64];

	setenv("PWT_MARK", "inherited", 1);
	o.argv = argv;
	o.flags = PROCWAIT_SPAWN_SEARCH_PATH;
	ck_assert_int_eq(spawn_capture(&o, out, sizeof(out), &st), 0);
	ck_assert_str_eq(out, "inherited");
	ck_assert_int_eq(st.code, 0);
}
END_TEST

/* stdin from a pipe reaches the child; EOF ends it. */
START_TEST(test_spawn_stdin)
{
	char *argv[] = { "/bin/cat", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p;
	procwait_status st;
	int in[2], outp[2];
	char buf[64];

	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(outp, O_CLOEXEC), 0);
	o.argv = argv;
	o.stdin_fd = in[0];
	o.stdout_fd = outp[1];
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	close(in[0]);
	close(outp[1]);
	ck_assert_int_eq(write(in[1], "hello\n", 6), 6);
	close(in[1]);
	slurp(outp[0], buf, sizeof(buf));
	close(outp[0]);
	ck_assert_str_eq(buf, "hello\n");
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
	ck_assert_int_eq(st.code, 0);
	procwait_proc_close(p);
}
END_TEST

/* A stdio fd that already is its target keeps working even when it is
 * close-on-exec in the parent (dup2 onto itself would not clear it). */
START_TEST(test_spawn_stdio_same_fd)
{
	char *argv[] = { "/bin/sh", "-c", "echo same", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p;
	procwait_status st;
	int pfd[2], saved = dup(1);
	char buf[32];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	ck_assert_int_eq(dup2(pfd[1], 1), 1);
	ck_assert_int_eq(fcntl(1, F_SETFD, FD_CLOEXEC), 0);
	close(pfd[1]);
	o.argv = argv;
	o.stdout_fd = 1;
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	dup2(saved, 1);
	close(saved);
	slurp(pfd[0], buf, sizeof(buf));
	close(pfd[0]);
	ck_assert_str_eq(buf, "same\n");
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
	procwait_proc_close(p);

	/* swapped: the child's stdout is our fd 0's pipe, and vice versa */
	{
		char *argv2[] = { "/bin/sh", "-c", "read x; echo \"got $x\" >&2; echo out", NULL };
		int a[2], b[2], s0 = dup(0), s2 = dup(2);
		char bout[32], berr[32];

		ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);   /* child's stdin source */
		ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);   /* child's stdout */
		/* put the stdin source on fd 2 and the stdout sink on fd 0 */
		ck_assert_int_eq(dup2(a[0], 2), 2);
		ck_assert_int_eq(dup2(b[1], 0), 0);
		o = (procwait_spawn_options)PROCWAIT_SPAWN_OPTIONS_INIT;
		o.argv = argv2;
		o.stdin_fd = 2;
		o.stdout_fd = 0;
		o.stderr_fd = 0;
		ck_assert_int_eq(procwait_spawn(&o, &p), 0);
		dup2(s0, 0);
		dup2(s2, 2);
		close(s0);
		close(s2);
		close(a[0]);
		close(b[1]);
		ck_assert_int_eq(write(a[1], "x1\n", 3), 3);
		close(a[1]);
		slurp(b[0], bout, sizeof(bout));
		close(b[0]);
		ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
		ck_assert_int_eq(st.code, 0);
		ck_assert_str_eq(bout, "got x1\nout\n");
		(void)berr;
		procwait_proc_close(p);
	}
}
END_TEST

/* Caught signals are reset to default in the child, the mask is kept,
 * ignored signals stay ignored (as posix_spawn does). */
static void on_usr1(int sig)
{
	(void)sig;
}

START_TEST(test_spawn_signals_reset)
{
	char *argv[] = { "/bin/cat", "/proc/self/status", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	struct sigaction sa;
	procwait_status st;
	sigset_t set;
	char out[8192], *line;
	unsigned long long cgt = ~0ULL, blk = 0, ign = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	o.argv = argv;
	ck_assert_int_eq(spawn_capture(&o, out, sizeof(out), &st), 0);
	ck_assert_int_eq(st.code, 0);
	line = strstr(out, "SigCgt:");
	ck_assert_ptr_nonnull(line);
	cgt = strtoull(line + 7, NULL, 16);
	line = strstr(out, "SigBlk:");
	ck_assert_ptr_nonnull(line);
	blk = strtoull(line + 7, NULL, 16);
	line = strstr(out, "SigIgn:");
	ck_assert_ptr_nonnull(line);
	ign = strtoull(line + 7, NULL, 16);
	ck_assert_uint_eq(cgt & (1ULL << (SIGUSR1 - 1)), 0);
	ck_assert_uint_ne(blk & (1ULL << (SIGUSR2 - 1)), 0);
	ck_assert_uint_ne(ign & (1ULL << (SIGPIPE - 1)), 0);
}
END_TEST

START_TEST(test_spawn_session_group)
{
	char *argv[] = { "/bin/sleep", "10", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p;
	procwait_status st;
	pid_t pid;

	o.argv = argv;
	o.flags = PROCWAIT_SPAWN_SETSID;
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	pid = procwait_proc_pid(p);
	ck_assert_int_eq(getsid(pid), pid);
	ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
	ck_assert_int_eq(st.signo, SIGKILL);
	procwait_proc_close(p);

	o.flags = PROCWAIT_SPAWN_SETPGID;
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	pid = procwait_proc_pid(p);
	ck_assert_int_eq(getpgid(pid), pid);
	ck_assert_int_ne(getsid(pid), pid);
	ck_assert_int_eq(procwait_proc_signal(p, SIGTERM), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGTERM);
	procwait_proc_close(p);

	/* both: a new session, whose leader leads its group too */
	o.flags = PROCWAIT_SPAWN_SETSID | PROCWAIT_SPAWN_SETPGID;
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	pid = procwait_proc_pid(p);
	ck_assert_int_eq(getsid(pid), pid);
	ck_assert_int_eq(getpgid(pid), pid);
	ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 30000, 0, &st), 0);
	procwait_proc_close(p);
}
END_TEST

/* Failures are reported as the child's errno, and leave nothing behind. */
START_TEST(test_spawn_errors)
{
	char *missing[] = { "/nonexistent/prog", NULL };
	char *bare[] = { "no-such-program-procwait", NULL };
	char plainpath[] = "/tmp/pwt-noexec-XXXXXX";
	char *plain[] = { plainpath, NULL };
	char *ok[] = { "/bin/true", NULL };
	char *empty[] = { NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p = (procwait_proc *)&p;

	o.argv = missing;
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOENT);
	ck_assert_ptr_null(p);
	o.argv = bare;
	o.flags = PROCWAIT_SPAWN_SEARCH_PATH;
	ck_assert_int_eq(procwait_spawn(&o, &p), -ENOENT);
	o.flags = 0;
	o.argv = plain;   /* exists, no execute bit (root too gets EACCES) */
	{
		int fd = mkstemp(plain[0]);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
		close(fd);
		chmod(plain[0], 0644);
		ck_assert_int_eq(procwait_spawn(&o, &p), -EACCES);
		/* with the bit but not a valid executable format */
		chmod(plain[0], 0755);
		fd = open(plain[0], O_WRONLY | O_TRUNC);
		ck_assert_int_eq(write(fd, "\x7f""ELFjunk", 7), 7);
		close(fd);
		ck_assert_int_eq(procwait_spawn(&o, &p), -ENOEXEC);
		unlink(plain[0]);
	}
	o.argv = ok;
	spawn_rejects(&o, ok, empty, "/nonexistent-dir");
	pwt_assert_no_children();
}
END_TEST

#endif /* !HAVE_WIN32_BACKEND */

/* ---- fork ---------------------------------------------------------------- */

#ifdef HAVE_WIN32_BACKEND
/* There is no fork on Windows. */
START_TEST(test_fork)
{
	procwait_proc *p = (procwait_proc *)&p;

	ck_assert_int_eq(procwait_fork(0, &p), -ENOSYS);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(procwait_fork(1, &p), -EINVAL);
	ck_assert_int_eq(procwait_fork(0, NULL), -EINVAL);
}
END_TEST
#else

START_TEST(test_fork)
{
	procwait_proc *p = (procwait_proc *)&p;
	procwait_status st;
	int r = procwait_fork(0, &p);

	if (r == 0) {
		_exit(p == NULL ? 12 : 99);
	}
	ck_assert_int_gt(r, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(procwait_proc_pid(p), r);
	if (pwt_backend_has_fd())
		ck_assert_int_ge(procwait_proc_fd(p), 0);
	ck_assert_int_eq(procwait_proc_wait(p, -1, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 12);
	procwait_proc_close(p);
	ck_assert_int_eq(procwait_fork(1, &p), -EINVAL);
	ck_assert_int_eq(procwait_fork(0, NULL), -EINVAL);
	pwt_assert_no_children();
}
END_TEST

/* A child that exits at once while SIGCHLD is ignored is reaped by the
 * kernel: the handle still reports an exit (unknown status), never an
 * error or a hang. */
START_TEST(test_fork_autoreap)
{
	procwait_proc *p;
	procwait_status st;
	struct sigaction sa;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGCHLD, &sa, NULL);
	r = procwait_fork(0, &p);
	if (r == 0)
		_exit(3);
	ck_assert_int_gt(r, 0);
	ck_assert_int_eq(procwait_proc_wait(p, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_eq(procwait_proc_signal(p, 0), -ESRCH);
	procwait_proc_close(p);
}
END_TEST

/* A handle inherited through fork: in the new process the child is not
 * ours, and a running process is not an exited one. */
START_TEST(test_handle_inherited_by_fork)
{
	procwait_proc *p;
	procwait_status st;
	pid_t pid = pwt_child_sleep_forever(), other;
	int raw;

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	other = fork();
	ck_assert_int_ge(other, 0);
	if (other == 0) {
		int r = procwait_proc_wait(p, 0, 0, &st);

		_exit(r == -ETIMEDOUT ? 0 : 10 + (r == 0 ? st.kind : 9));
	}
	raw = pwt_reap(other);
	ck_assert(WIFEXITED(raw));
	ck_assert_int_eq(WEXITSTATUS(raw), 0);
	ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 10000, 0, &st), 0);
	ck_assert_int_eq(st.signo, SIGKILL);
	procwait_proc_close(p);
}
END_TEST

static void atfork_parent_slow(void)
{
	pwt_nap_ms(100);
}

static void atfork_child_dies(void)
{
	raise(SIGKILL);
}

/* The child dies before the parent's handshake byte is written: the caller
 * must not get SIGPIPE for it. */
START_TEST(test_fork_child_dies_early)
{
	procwait_proc *p = NULL;
	procwait_status st;
	int r;

	ck_assert_int_eq(pthread_atfork(NULL, atfork_parent_slow, atfork_child_dies), 0);
	r = procwait_fork(0, &p);
	if (r == 0)
		_exit(99);   /* not reached: the atfork handler killed us */
	ck_assert_int_gt(r, 0);
	ck_assert_int_eq(procwait_proc_wait(p, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, SIGKILL);
	procwait_proc_close(p);
}
END_TEST

/* Descriptors exhausted: spawn still works (no pidfd, the backoff loop
 * waits), and says why it fell back. */
START_TEST(test_spawn_fd_exhaustion)
{
	char *argv[] = { "/bin/sh", "-c", "exit 21", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_status st;
	procwait_proc *p;
	const char *call = NULL;

	struct rlimit rl = { 64, 64 }, saved;
	int fd, fds[64], nfds = 0;

	ck_assert_str_ne(procwait_backend_name(), "");   /* probe first */
	/* Fill the table with close-on-exec descriptors (a lowered limit
	 * alone would starve the exec'd program's loader too). */
	getrlimit(RLIMIT_NOFILE, &saved);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (nfds < 64 && (fd = fcntl(0, F_DUPFD_CLOEXEC, 0)) >= 0)
		fds[nfds++] = fd;
	ck_assert_int_eq(errno, EMFILE);
	o.argv = argv;
#ifndef HAVE_PIDFD_BACKEND
	/* Without clone and pidfds, spawn needs a pipe for the exec error:
	 * a full table is an error, and nothing is started. With two
	 * descriptors free it works; the handle then has a kqueue or, when
	 * none could be made (the emulation needs two descriptors for one),
	 * waits by pid. */
	ck_assert_int_eq(procwait_spawn(&o, &p), -EMFILE);
	ck_assert_ptr_null(p);
	close(fds[--nfds]);
	close(fds[--nfds]);
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	if (pwt_backend_has_fd())
		ck_assert(procwait_proc_fd(p) >= 0 || procwait_proc_fd(p) == -ENOTSUP);
	else
		ck_assert_int_eq(procwait_proc_fd(p), -ENOTSUP);
#else
	ck_assert_int_eq(procwait_spawn(&o, &p), 0);
	ck_assert_int_eq(procwait_proc_fd(p), -ENOTSUP);
#endif
	ck_assert_int_eq(procwait_proc_wait(p, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 21);
	procwait_proc_close(p);
#ifdef HAVE_PIDFD_BACKEND
	if (pwt_backend_has_fd()) {
		ck_assert_int_eq(procwait_last_fallback(&call), -EMFILE);
		ck_assert_ptr_nonnull(call);
	}
#else
	(void)call;
#endif
	pwt_assert_no_children();
	/* Give the descriptors back (LeakSanitizer needs some at exit). */
	while (nfds > 0)
		close(fds[--nfds]);
	setrlimit(RLIMIT_NOFILE, &saved);
}
END_TEST

#endif /* !HAVE_WIN32_BACKEND */

/* ---- signals --------------------------------------------------------------- */

/* Windows has SIGTERM and SIGKILL (9) only: the test signal is SIGTERM. */
#ifdef HAVE_WIN32_BACKEND
#define PWT_TEST_SIGNAL SIGTERM
#else
#define PWT_TEST_SIGNAL SIGUSR1
#endif

START_TEST(test_signal_through_handle)
{
	procwait_proc *p;
	procwait_status st;
	pid_t pid = pwt_child_sleep_forever();

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ETIMEDOUT);
	ck_assert_int_eq(procwait_proc_signal(p, PWT_TEST_SIGNAL), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_SIGNALED);
	ck_assert_int_eq(st.signo, PWT_TEST_SIGNAL);
	ck_assert_int_eq(procwait_proc_signal(p, SIGKILL), -ESRCH);
	procwait_proc_close(p);
}
END_TEST

/* A handle on a non-child: waits report unknown status each time.
 * Windows: the exit code is known; as for every handle there, the status
 * is handed out once, unless with PROCWAIT_WAIT_NOREAP. */
START_TEST(test_nonchild_handle)
{
	procwait_proc *p;
	procwait_status st;
	pid_t pid = pwt_nonchild(200);

	ck_assert_int_eq(procwait_proc_open(pid, 0, &p), 0);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ETIMEDOUT);
#ifdef HAVE_WIN32_BACKEND
	ck_assert_int_eq(procwait_proc_wait(p, 10000, PROCWAIT_WAIT_NOREAP, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, PWT_NONCHILD_CODE);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, PWT_NONCHILD_CODE);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), -ECHILD);
#else
	ck_assert_int_eq(procwait_proc_wait(p, 10000, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
	ck_assert_int_eq(procwait_proc_wait(p, 0, 0, &st), 0);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_UNKNOWN);
#endif
	procwait_proc_close(p);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc;

	tc = pwt_tcase("handle");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open_child);
	tcase_add_test(tc, test_open_invalid);
	tcase_add_test(tc, test_open_self);
	tcase_add_test(tc, test_handle_noreap);
	tcase_add_test(tc, test_signal_unreaped);
	tcase_add_test(tc, test_from_pidfd);
	tcase_add_test(tc, test_from_handle);
	tcase_add_test(tc, test_signal_through_handle);
	tcase_add_test(tc, test_nonchild_handle);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_handle_inherited_by_fork);
#endif
	suite_add_tcase(s, tc);

	tc = pwt_tcase("spawn");
	tcase_set_timeout(tc, 60);
#ifdef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_spawn_argv_quoting);
#endif
	tcase_add_test(tc, test_spawn_args_env_cwd);
	tcase_add_test(tc, test_spawn_inherit_env_path);
#ifdef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_spawn_inherit_env_wide);
	tcase_add_test(tc, test_spawn_refused);
#endif
	tcase_add_test(tc, test_spawn_stdin);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_spawn_stdio_same_fd);
	tcase_add_test(tc, test_spawn_signals_reset);
#endif
	tcase_add_test(tc, test_spawn_session_group);
	tcase_add_test(tc, test_spawn_errors);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_spawn_fd_exhaustion);
#endif
	suite_add_tcase(s, tc);

	tc = pwt_tcase("fork");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fork);
#ifndef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_fork_autoreap);
	tcase_add_test(tc, test_fork_child_dies_early);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pwt_run(proc_suite());
}
