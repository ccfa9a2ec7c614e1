/* SPDX-License-Identifier: MIT */
/*
 * pwt-child.exe: the child process of the Windows test suites, started by
 * tests/helpers-win32.c (and by tests through procwait_spawn()) where the
 * POSIX suites fork. One mode a run, chosen by the first argument:
 *
 *   exit DELAY_MS CODE          sleep, then ExitProcess(CODE); CODE is any
 *                               32-bit value (strtoul base 0: 0xC0000005)
 *   forever                     sleep until killed
 *   gate EVENT DELAY_MS CODE    wait (at most 120 s) until the named event
 *                               EVENT is set, then as "exit"
 *   nonchild DELAY_MS CODE PID  start a grandchild "exit DELAY_MS CODE",
 *                               give process PID a HANDLE on it
 *                               (DuplicateHandle) and exit with that
 *                               HANDLE's value as the exit code: the
 *                               grandchild outlives its parent and is
 *                               nobody's child; exit code 1 on failure
 *                               (no HANDLE value is odd)
 *   leader-exit DELAY_MS CODE   the main thread ends (ExitThread) while a
 *                               second thread sleeps, then ExitProcess(CODE)
 *   args ARG...                 write each ARG (the C runtime's wide argv,
 *                               as UTF-8) to stdout, each followed by a NUL
 *   env NAME...                 write each variable's value (UTF-8) or
 *                               "(unset)" to stdout, each followed by a NUL
 *   cwd                         write the working directory (UTF-8)
 *   cat                         copy stdin to stdout
 *
 * Exit code 120 means a usage error, 121 an I/O error. Windows only: the
 * program is built on a Windows build (Makefile.am, HAVE_WIN32).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

#define USAGE_EXIT 120
#define IO_EXIT 121

/* The C runtime's own split of the wide command line (what a wmain()
 * would get); msvcrt and the UCRT compatibility layer both export it. */
typedef struct {
	int newmode;
} pwt_startupinfo;
extern int __cdecl __wgetmainargs(int *argc, wchar_t ***argv, wchar_t ***env, int glob,
                                  pwt_startupinfo *si);

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end)
		ExitProcess(USAGE_EXIT);
	return v;
}

static void put(HANDLE out, const void *buf, DWORD n)
{
	DWORD done;

	while (n > 0) {
		if (!WriteFile(out, buf, n, &done, NULL) || done == 0)
			ExitProcess(IO_EXIT);
		buf = (const char *)buf + done;
		n -= done;
	}
}

/* Write w as UTF-8, then a NUL when nul is set. */
static void put_utf8(HANDLE out, const wchar_t *w, int nul)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	char *s;

	if (n <= 0)
		ExitProcess(IO_EXIT);
	s = malloc((size_t)n);
	if (!s)
		ExitProcess(IO_EXIT);
	WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
	put(out, s, (DWORD)(nul ? n : n - 1));   /* n counts the NUL */
	free(s);
}

static DWORD WINAPI late_exit(void *arg)
{
	const unsigned long *v = arg;

	Sleep((DWORD)v[0]);
	ExitProcess((UINT)v[1]);
	return 0;
}

/* This program, started again with the command line cmd (no handles
 * inherited); the process HANDLE, or NULL. */
static HANDLE start_self(wchar_t *cmd)
{
	wchar_t self[32768];
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	DWORD n = GetModuleFileNameW(NULL, self, 32768);

	if (n == 0 || n >= 32768)
		return NULL;
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	if (!CreateProcessW(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
		return NULL;
	CloseHandle(pi.hThread);
	return pi.hProcess;
}

static int nonchild(unsigned long delay, unsigned long code, unsigned long pid)
{
	wchar_t cmd[128];
	HANDLE grand, parent, remote = NULL;

	swprintf(cmd, 128, L"pwt-child exit %lu %lu", delay, code);
	grand = start_self(cmd);
	if (!grand)
		return 1;
	parent = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid);
	if (!parent || !DuplicateHandle(GetCurrentProcess(), grand, parent, &remote, 0, FALSE,
	                                DUPLICATE_SAME_ACCESS)) {
		TerminateProcess(grand, 1);
		return 1;
	}
	/* Handle values are small multiples of 4: they fit an exit code. */
	return (int)(DWORD)(UINT_PTR)remote;
}

int main(int argc, char **argv)
{
	HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
	const char *mode = argc > 1 ? argv[1] : "";

	if (strcmp(mode, "exit") == 0 && argc == 4) {
		unsigned long delay = num(argv[2]), code = num(argv[3]);

		if (delay)
			Sleep((DWORD)delay);
		ExitProcess((UINT)code);
	}
	if (strcmp(mode, "forever") == 0 && argc == 2) {
		for (;;)
			Sleep(INFINITE);
	}
	if (strcmp(mode, "gate") == 0 && argc == 5) {
		unsigned long delay = num(argv[3]), code = num(argv[4]);
		HANDLE ev = OpenEventA(SYNCHRONIZE, FALSE, argv[2]);

		if (!ev || WaitForSingleObject(ev, 120000) != WAIT_OBJECT_0)
			ExitProcess(USAGE_EXIT);
		if (delay)
			Sleep((DWORD)delay);
		ExitProcess((UINT)code);
	}
	if (strcmp(mode, "nonchild") == 0 && argc == 5)
		ExitProcess((UINT)nonchild(num(argv[2]), num(argv[3]), num(argv[4])));
	if (strcmp(mode, "leader-exit") == 0 && argc == 4) {
		static unsigned long v[2];
		HANDLE th;

		v[0] = num(argv[2]);
		v[1] = num(argv[3]);
		th = CreateThread(NULL, 0, late_exit, v, 0, NULL);
		if (!th)
			ExitProcess(IO_EXIT);
		CloseHandle(th);
		ExitThread(0);
	}
	if (strcmp(mode, "args") == 0) {
		pwt_startupinfo si = { 0 };
		wchar_t **wargv = NULL, **wenv = NULL;
		int wargc = 0;

		if (__wgetmainargs(&wargc, &wargv, &wenv, 0, &si) < 0 || !wargv)
			ExitProcess(IO_EXIT);
		for (int i = 2; i < wargc; i++)
			put_utf8(out, wargv[i], 1);
		return 0;
	}
	if (strcmp(mode, "env") == 0) {
		for (int i = 2; i < argc; i++) {
			wchar_t name[256], val[32767];
			DWORD n;

			if (!MultiByteToWideChar(CP_UTF8, 0, argv[i], -1, name, 256))
				ExitProcess(USAGE_EXIT);
			n = GetEnvironmentVariableW(name, val, 32767);
			if (n == 0 && GetLastError() == ERROR_ENVVAR_NOT_FOUND)
				put(out, "(unset)", 8);
			else if (n < 32767)
				put_utf8(out, val, 1);
			else
				ExitProcess(IO_EXIT);
		}
		return 0;
	}
	if (strcmp(mode, "cwd") == 0 && argc == 2) {
		wchar_t dir[32768];
		DWORD n = GetCurrentDirectoryW(32768, dir);

		if (n == 0 || n >= 32768)
			ExitProcess(IO_EXIT);
		put_utf8(out, dir, 0);
		return 0;
	}
	if (strcmp(mode, "cat") == 0 && argc == 2) {
		HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
		char buf[4096];
		DWORD n;

		while (ReadFile(in, buf, sizeof(buf), &n, NULL) && n > 0)
			put(out, buf, n);
		return 0;
	}
	fprintf(stderr, "pwt-child: bad arguments (mode '%s', %d arguments)\n", mode, argc - 1);
	return USAGE_EXIT;
}
