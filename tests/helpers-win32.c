/* SPDX-License-Identifier: MIT */
/*
 * The helpers of tests/helpers.h on Windows. Children are tests/pwt-child.exe
 * started with CreateProcessW. Each child's process HANDLE is kept in a
 * table until pwt_reap(), pwt_release_zombie() or pwt_cleanup(): while a
 * HANDLE is open the pid stays valid (and cannot be reused), so an exited
 * child can still be opened and waited by pid, as a POSIX zombie can until
 * it is reaped.
 *
 * Check's assertions longjmp in CK_NOFORK mode: none is ever made while the
 * table's lock is held.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

#include "helpers.h"

#define PWT_PATH_MAX 32768

/* ---- the table of children --------------------------------------------- */

struct kid {
	pid_t pid;
	HANDLE h;
};

static SRWLOCK kids_lock = SRWLOCK_INIT;
static struct kid *kids;
static int nkids, capkids;

/* Add h (ours from now on) to the table: 0, or -1 when out of memory (h
 * is then closed). */
static int kid_add(HANDLE h)
{
	int r = 0;

	AcquireSRWLockExclusive(&kids_lock);
	if (nkids == capkids) {
		int cap = capkids ? capkids * 2 : 64;
		struct kid *v = realloc(kids, (size_t)cap * sizeof(*v));

		if (!v) {
			r = -1;
			goto out;
		}
		kids = v;
		capkids = cap;
	}
	kids[nkids].pid = (pid_t)GetProcessId(h);
	kids[nkids].h = h;
	nkids++;
out:
	ReleaseSRWLockExclusive(&kids_lock);
	if (r < 0)
		CloseHandle(h);
	return r;
}

/* A duplicate of the table's HANDLE on pid (NULL when pid is not there);
 * the caller closes it. Duplicates let the lock go before any wait. */
static HANDLE kid_handle(pid_t pid)
{
	HANDLE h = NULL;

	AcquireSRWLockExclusive(&kids_lock);
	for (int i = nkids - 1; i >= 0; i--) {
		if (kids[i].pid == pid) {
			if (!DuplicateHandle(GetCurrentProcess(), kids[i].h, GetCurrentProcess(), &h,
			                     0, FALSE, DUPLICATE_SAME_ACCESS))
				h = NULL;
			break;
		}
	}
	ReleaseSRWLockExclusive(&kids_lock);
	return h;
}

/* Take pid out of the table and close its HANDLE: 0, or -1 when absent. */
static int kid_drop(pid_t pid)
{
	HANDLE h = NULL;

	AcquireSRWLockExclusive(&kids_lock);
	for (int i = nkids - 1; i >= 0; i--) {
		if (kids[i].pid == pid) {
			h = kids[i].h;
			kids[i] = kids[--nkids];
			break;
		}
	}
	ReleaseSRWLockExclusive(&kids_lock);
	if (!h)
		return -1;
	CloseHandle(h);
	return 0;
}

void pwt_cleanup(void)
{
	struct kid *v;
	int n;

	AcquireSRWLockExclusive(&kids_lock);
	v = kids;
	n = nkids;
	kids = NULL;
	nkids = capkids = 0;
	ReleaseSRWLockExclusive(&kids_lock);
	for (int i = 0; i < n; i++) {
		if (WaitForSingleObject(v[i].h, 0) == WAIT_TIMEOUT) {
			TerminateProcess(v[i].h, 1);
			WaitForSingleObject(v[i].h, 10000);
		}
		CloseHandle(v[i].h);
	}
	free(v);
}

/* ---- the watchdog ---------------------------------------------------------- */

/* Without fork, Check's timeouts do not work: a test that waits forever on
 * a child that never exits (a library bug) would hang the suite until
 * wine-run.sh kills it. The watchdog kills every child of a test that has
 * run for PWT_TEST_LIMIT_MS, which ends such waits (the test then fails on
 * the status it gets), and ends the program (99) should the test still
 * not return within PWT_TEST_GRACE_MS. */
#ifndef PWT_TEST_LIMIT_MS
#define PWT_TEST_LIMIT_MS 120000
#endif
#ifndef PWT_TEST_GRACE_MS
#define PWT_TEST_GRACE_MS 30000
#endif

static volatile LONG64 test_serial, test_started;
static INIT_ONCE watchdog_once = INIT_ONCE_STATIC_INIT;

static DWORD WINAPI watchdog(void *arg)
{
	LONG64 warned = 0;

	(void)arg;
	for (;;) {
		LONG64 serial = InterlockedCompareExchange64(&test_serial, 0, 0);
		LONG64 t0 = InterlockedCompareExchange64(&test_started, 0, 0);
		long long ran = t0 ? pwt_now_ms() - t0 : 0;

		Sleep(1000);
		if (!t0 || serial != InterlockedCompareExchange64(&test_serial, 0, 0))
			continue;
		if (ran > PWT_TEST_LIMIT_MS + PWT_TEST_GRACE_MS) {
			fprintf(stderr, "watchdog: a test still runs after %lld s: giving up\n",
			        ran / 1000);
			fflush(NULL);
			pwt_cleanup();
			ExitProcess(99);
		}
		if (ran > PWT_TEST_LIMIT_MS && warned != serial) {
			warned = serial;
			fprintf(stderr, "watchdog: a test has run for %lld s: killing its children\n",
			        ran / 1000);
			AcquireSRWLockExclusive(&kids_lock);
			for (int i = 0; i < nkids; i++)
				TerminateProcess(kids[i].h, 1);
			ReleaseSRWLockExclusive(&kids_lock);
		}
	}
	return 0;
}

static BOOL CALLBACK start_watchdog(INIT_ONCE *once, void *param, void **ctx)
{
	HANDLE th = CreateThread(NULL, 0, watchdog, NULL, 0, NULL);

	(void)once;
	(void)param;
	(void)ctx;
	if (th)
		CloseHandle(th);
	return TRUE;
}

void pwt_test_setup(void)
{
	InitOnceExecuteOnce(&watchdog_once, start_watchdog, NULL, NULL);
	InterlockedIncrement64(&test_serial);
	InterlockedExchange64(&test_started, pwt_now_ms());
}

void pwt_test_teardown(void)
{
	InterlockedExchange64(&test_started, 0);
	pwt_cleanup();
}

int pwt_track(procwait_proc *p)
{
	HANDLE h = p ? procwait_proc_handle(p) : NULL, dup;

	if (!h || !DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, FALSE,
	                           DUPLICATE_SAME_ACCESS))
		return -1;
	return kid_add(dup);
}

int pwt_spawn(const procwait_spawn_options *o, procwait_proc **out)
{
	int r, tries;

	for (tries = 0; (r = procwait_spawn(o, out)) == -EAGAIN && tries < 50; tries++)
		Sleep(20);
	if (r == 0)
		pwt_track(*out);
	return r;
}

void pwt_assert_no_children(void)
{
	pid_t running = 0;

	AcquireSRWLockExclusive(&kids_lock);
	for (int i = 0; i < nkids && !running; i++)
		if (WaitForSingleObject(kids[i].h, 0) != WAIT_OBJECT_0)
			running = kids[i].pid;
	ReleaseSRWLockExclusive(&kids_lock);
	ck_assert_msg(running == 0, "child %d still runs", (int)running);
}

/* ---- paths ---------------------------------------------------------------- */

static wchar_t self_w[PWT_PATH_MAX], child_w[PWT_PATH_MAX];
static char self_u8[PWT_PATH_MAX * 3], child_u8[PWT_PATH_MAX * 3];
static INIT_ONCE paths_once = INIT_ONCE_STATIC_INIT;

static int exists(const wchar_t *path)
{
	DWORD a = GetFileAttributesW(path);

	return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
}

static BOOL CALLBACK find_paths(INIT_ONCE *once, void *param, void **ctx)
{
	DWORD n = GetModuleFileNameW(NULL, self_w, PWT_PATH_MAX);
	const wchar_t *env = _wgetenv(L"PWT_CHILD");
	wchar_t *slash;

	(void)once;
	(void)param;
	(void)ctx;
	if (n == 0 || n >= PWT_PATH_MAX)
		return TRUE;   /* leaves both empty: pwt_child_run() says so */
	if (env && *env && wcslen(env) < PWT_PATH_MAX) {
		wcscpy(child_w, env);
	} else {
		wcscpy(child_w, self_w);
		slash = wcsrchr(child_w, L'\\');
		if (slash) {
			slash[1] = 0;
			/* A libtool wrapper runs the program from .libs. */
			if (!exists(wcscat(child_w, L"pwt-child.exe"))) {
				slash[0] = 0;
				if (wcslen(child_w) > 6 && wcscmp(slash - 6, L"\\.libs") == 0)
					wcscpy(slash - 5, L"pwt-child.exe");
				else
					wcscpy(slash, L"\\pwt-child.exe");
			}
		}
	}
	WideCharToMultiByte(CP_UTF8, 0, self_w, -1, self_u8, (int)sizeof(self_u8), NULL, NULL);
	WideCharToMultiByte(CP_UTF8, 0, child_w, -1, child_u8, (int)sizeof(child_u8), NULL, NULL);
	return TRUE;
}

const char *pwt_child_path(void)
{
	InitOnceExecuteOnce(&paths_once, find_paths, NULL, NULL);
	return child_u8;
}

const char *pwt_self_path(void)
{
	InitOnceExecuteOnce(&paths_once, find_paths, NULL, NULL);
	return self_u8;
}

/* ---- children ------------------------------------------------------------- */

pid_t pwt_child_run(const char *args)
{
	wchar_t cmd[1024];
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	DWORD err = 0;
	int n;

	pwt_child_path();
	ck_assert_msg(exists(child_w), "pwt-child.exe not found (looked for %s)", child_u8);
	/* The name in argv[0] is irrelevant: the program is given apart. */
	n = swprintf(cmd, 1024, L"pwt-child %hs", args);
	ck_assert_msg(n > 0 && n < 1024, "pwt_child_run: arguments too long: %s", args);
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	/* Wine under load fails to start a process now and then
	 * (ERROR_INTERNAL_ERROR): try again, as pwt_spawn() does. */
	for (int tries = 0; tries < 50; tries++) {
		memset(&pi, 0, sizeof(pi));
		err = 0;
		if (CreateProcessW(child_w, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
			break;
		err = GetLastError();
		if (err != ERROR_INTERNAL_ERROR && err != ERROR_NO_SYSTEM_RESOURCES &&
		    err != ERROR_NOT_ENOUGH_QUOTA && err != ERROR_COMMITMENT_LIMIT)
			break;
		Sleep(20);
	}
	ck_assert_msg(err == 0, "CreateProcess(%s %s): error %lu", child_u8, args, (unsigned long)err);
	/* Only the process HANDLE: an open thread HANDLE would keep the
	 * process object (and its pid) alive too. */
	CloseHandle(pi.hThread);
	ck_assert_msg(kid_add(pi.hProcess) == 0, "out of memory");
	return (pid_t)pi.dwProcessId;
}

pid_t pwt_child_exit(int delay_ms, int code)
{
	char args[64];

	snprintf(args, sizeof(args), "exit %d %u", delay_ms, (unsigned)code);
	return pwt_child_run(args);
}

pid_t pwt_child_sleep_forever(void)
{
	return pwt_child_run("forever");
}

pid_t pwt_nonchild(int delay_ms)
{
	char args[96];
	pid_t mid, pid;
	HANDLE mh, h;
	DWORD code = 1;

	snprintf(args, sizeof(args), "nonchild %d %d %lu", delay_ms, PWT_NONCHILD_CODE,
	         (unsigned long)GetCurrentProcessId());
	mid = pwt_child_run(args);
	mh = kid_handle(mid);
	ck_assert_ptr_nonnull(mh);
	if (WaitForSingleObject(mh, 30000) != WAIT_OBJECT_0 || !GetExitCodeProcess(mh, &code))
		code = 1;
	CloseHandle(mh);
	kid_drop(mid);
	/* The exit code is the value of a HANDLE the middle process made for
	 * us (a multiple of 4), or 1 when it failed. */
	ck_assert_msg(code != 0 && code % 4 == 0, "pwt-child nonchild failed (exit code %lu)",
	              (unsigned long)code);
	h = (HANDLE)(UINT_PTR)code;
	pid = (pid_t)GetProcessId(h);
	ck_assert_msg(pid > 0 && pid != mid, "pwt-child nonchild: not a process HANDLE");
	ck_assert_msg(kid_add(h) == 0, "out of memory");
	return pid;
}

pid_t pwt_nonchild_zombie(pid_t *parent)
{
	pid_t pid = pwt_nonchild(0);

	ck_assert_int_eq(pwt_await_exit(pid, 30000), 0);
	*parent = pid;
	return pid;
}

void pwt_release_zombie(pid_t parent)
{
	kid_drop(parent);
}

int pwt_reap(pid_t pid)
{
	HANDLE h = kid_handle(pid);
	DWORD code = (DWORD)-1;

	if (!h)
		return -1;
	if (WaitForSingleObject(h, 60000) != WAIT_OBJECT_0 || !GetExitCodeProcess(h, &code)) {
		CloseHandle(h);
		return -1;   /* still in the table: pwt_cleanup() kills it */
	}
	CloseHandle(h);
	kid_drop(pid);
	return (int)code;
}

int pwt_exists(pid_t pid)
{
	HANDLE h;

	if (pid <= 0 || (DWORD)pid != pid)
		return 0;
	h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
	if (!h)
		return GetLastError() == ERROR_ACCESS_DENIED;
	CloseHandle(h);
	return 1;
}

int pwt_kill(pid_t pid)
{
	HANDLE h = kid_handle(pid);
	int r;

	if (!h && pid > 0 && (DWORD)pid == pid)
		h = OpenProcess(PROCESS_TERMINATE, FALSE, (DWORD)pid);
	if (!h)
		return -1;
	r = TerminateProcess(h, 128 + 9) ? 0 : -1;
	CloseHandle(h);
	return r;
}

int pwt_await_exit(pid_t pid, int timeout_ms)
{
	HANDLE h = kid_handle(pid);
	DWORD r;

	if (!h && pid > 0 && (DWORD)pid == pid)
		h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
	if (!h)
		return -1;
	r = WaitForSingleObject(h, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
	CloseHandle(h);
	return r == WAIT_OBJECT_0 ? 0 : -1;
}

int pwt_await_gone(pid_t pid, int timeout_ms)
{
	long long end = pwt_now_ms() + timeout_ms;

	if (pid <= 0 || (DWORD)pid != pid)
		return 0;
	for (;;) {
		HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);

		if (!h)
			return GetLastError() == ERROR_INVALID_PARAMETER ? 0 : -1;
		CloseHandle(h);
		if (pwt_now_ms() >= end)
			return -1;
		Sleep(10);
	}
}

/* ---- misc ------------------------------------------------------------------- */

int pwt_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		int r = _read(fd, (char *)buf + got, (unsigned)(n - got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int pwt_write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		int r = _write(fd, (const char *)buf + done, (unsigned)(n - done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

long long pwt_now_ms(void)
{
	LARGE_INTEGER f, c;

	QueryPerformanceFrequency(&f);
	QueryPerformanceCounter(&c);
	return (long long)(c.QuadPart / f.QuadPart) * 1000 +
	       (long long)(c.QuadPart % f.QuadPart) * 1000 / f.QuadPart;
}

void pwt_nap_ms(int ms)
{
	long long end = pwt_now_ms() + ms;

	/* Sleep may come back a little early: make it up. */
	for (long long left = ms; left > 0; left = end - pwt_now_ms())
		Sleep((DWORD)left);
}

long long pwt_cpu_ms(void)
{
	FILETIME c, e, k, u;
	ULARGE_INTEGER kk, uu;

	if (!GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u))
		return 0;
	kk.LowPart = k.dwLowDateTime;
	kk.HighPart = k.dwHighDateTime;
	uu.LowPart = u.dwLowDateTime;
	uu.HighPart = u.dwHighDateTime;
	return (long long)((kk.QuadPart + uu.QuadPart) / 10000);
}

int pwt_backend_is(const char *name)
{
	return strcmp(procwait_backend_name(), name) == 0;
}

int pwt_backend_has_fd(void)
{
	return 0;   /* a HANDLE, never a descriptor */
}

const char *pwt_backend(void)
{
	const char *b = getenv("PROCWAIT_BACKEND");

	return b && *b ? b : NULL;
}

/* Does pwt-child.exe run, and give its exit code back? */
static int child_works(void)
{
	wchar_t cmd[] = L"pwt-child exit 0 42";
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	DWORD code = 0;

	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	if (!CreateProcessW(child_w, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
		return 0;
	CloseHandle(pi.hThread);
	if (WaitForSingleObject(pi.hProcess, 30000) != WAIT_OBJECT_0)
		TerminateProcess(pi.hProcess, 1);
	GetExitCodeProcess(pi.hProcess, &code);
	CloseHandle(pi.hProcess);
	return code == 42;
}

int pwt_run(Suite *s)
{
	const char *want = pwt_backend();
	SRunner *sr;
	int failed;

	pwt_child_path();
	if (want) {
		const char *got = procwait_backend_name();

		if (strcmp(got, want) != 0) {
			printf("SKIP: backend '%s' is not available here (the library chose '%s')\n",
			       want, got);
			return 77;
		}
		printf("backend: %s\n", got);
	}
	if (exists(child_w) && !child_works()) {
		/* e.g. a libtool wrapper in a shared build: it looks for
		 * itself through argv[0] and re-quotes the arguments */
		printf("ERROR: %s does not run as a test child (does 'pwt-child exit 0 42' exit "
		       "42?); a libtool wrapper? Link it with -static, or set PWT_CHILD\n",
		       child_u8);
		return 99;
	}
	fflush(stdout);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	pwt_cleanup();
	return failed ? 1 : 0;
}

int pwt_spawn_capture(procwait_spawn_options *o, char *out, size_t size, size_t *len,
                      procwait_status *st)
{
	wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 1];
	procwait_proc *p = NULL;
	size_t got = 0;
	int fd, r, n;

	ck_assert_uint_gt(size, 0);
	ck_assert_uint_ne(GetTempPathW(MAX_PATH + 1, dir), 0);
	ck_assert_uint_ne(GetTempFileNameW(dir, L"pwt", 0, name), 0);
	fd = _wopen(name, _O_RDWR | _O_BINARY | _O_NOINHERIT | _O_TRUNC);
	ck_assert_int_ge(fd, 0);
	o->stdout_fd = fd;
	r = procwait_spawn(o, &p);
	if (r == 0) {
		pwt_track(p);
		r = procwait_proc_wait(p, 60000, 0, st);
		procwait_proc_close(p);
		if (r == 0) {
			_lseek(fd, 0, SEEK_SET);
			while (got + 1 < size && (n = _read(fd, out + got, (unsigned)(size - 1 - got))) > 0)
				got += (size_t)n;
		}
	}
	out[got] = '\0';
	if (len)
		*len = got;
	_close(fd);
	DeleteFileW(name);
	ck_assert_msg(r != -ETIMEDOUT, "the spawned child did not exit within 60 s");
	return r;
}
