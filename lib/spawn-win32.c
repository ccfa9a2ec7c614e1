/* SPDX-License-Identifier: MIT */
/*
 * procwait_spawn() on Windows, through CreateProcessW. The argument vector
 * (UTF-8) is turned into one command line that the C runtime's parser
 * (CommandLineToArgvW's rules) splits back into the same vector: an
 * argument is quoted when it is empty or holds blanks or quotes, a quote
 * inside is escaped as \", and backslashes are doubled where they precede a
 * quote (or the closing quote). The environment becomes a UTF-16 block.
 * Only the three standard handles are inherited (a handle list), so handles
 * another thread makes inheritable meanwhile do not leak into the child.
 * procwait_fork() does not exist on Windows: -ENOSYS.
 */
#include "internal.h"

#include <io.h>
#include <stdlib.h>
#include <string.h>

/* Grow-as-you-go UTF-16 buffer. */
struct wbuf {
	wchar_t *s;
	size_t len, cap;
	int err;
};

static void wb_put(struct wbuf *b, const wchar_t *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		wchar_t *v;

		while (b->len + n + 1 > cap)
			cap *= 2;
		v = realloc(b->s, cap * sizeof(*v));
		if (!v) {
			b->err = -ENOMEM;
			return;
		}
		b->s = v;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n * sizeof(*s));
	b->len += n;
	b->s[b->len] = 0;
}

static void wb_putc(struct wbuf *b, wchar_t c, size_t times)
{
	while (times--)
		wb_put(b, &c, 1);
}

/* UTF-8 to a new UTF-16 string; NULL (and *err) on failure. */
static wchar_t *utf16(const char *s, int *err)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0) {
		*err = -EINVAL;   /* not UTF-8 */
		return NULL;
	}
	w = malloc((size_t)n * sizeof(*w));
	if (!w) {
		*err = -ENOMEM;
		return NULL;
	}
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
	return w;
}

/* argv[0] is read by the C runtime up to the next blank, or between
 * quotes with no escapes at all: quoted verbatim (a quote inside it cannot
 * be written, the caller checked). */
static void quote_arg0(struct wbuf *b, const wchar_t *a)
{
	wb_putc(b, L'"', 1);
	wb_put(b, a, wcslen(a));
	wb_putc(b, L'"', 1);
}

/* Append one argument, quoted as the C runtime's parser wants it. */
static void quote_arg(struct wbuf *b, const wchar_t *a)
{
	size_t slashes = 0;

	if (*a && !wcspbrk(a, L" \t\n\v\"")) {
		wb_put(b, a, wcslen(a));
		return;
	}
	wb_putc(b, L'"', 1);
	for (; *a; a++) {
		if (*a == L'\\') {
			slashes++;
			continue;
		}
		if (*a == L'"') {
			wb_putc(b, L'\\', slashes * 2 + 1);   /* \\..\" */
		} else {
			wb_putc(b, L'\\', slashes);
		}
		slashes = 0;
		wb_putc(b, *a, 1);
	}
	wb_putc(b, L'\\', slashes * 2);   /* before the closing quote */
	wb_putc(b, L'"', 1);
}

int pw__win_cmdline(char *const *argv, wchar_t **out)
{
	struct wbuf b = { 0 };
	size_t i;

	for (i = 0; argv[i]; i++) {
		int err = 0;
		wchar_t *w = utf16(argv[i], &err);

		if (!w) {
			free(b.s);
			return err;
		}
		if (i == 0 && wcschr(w, L'"')) {
			free(w);
			free(b.s);
			return -EINVAL;   /* cannot be passed as argv[0] */
		}
		if (i)
			wb_putc(&b, L' ', 1);
		if (i == 0)
			quote_arg0(&b, w);
		else
			quote_arg(&b, w);
		free(w);
	}
	if (b.err) {
		free(b.s);
		return b.err;
	}
	*out = b.s;
	return 0;
}

static int env_block(char *const *envp, wchar_t **out)
{
	struct wbuf b = { 0 };
	size_t i;

	for (i = 0; envp[i]; i++) {
		int err = 0;
		wchar_t *w = utf16(envp[i], &err);

		if (!w) {
			free(b.s);
			return err;
		}
		wb_put(&b, w, wcslen(w) + 1);   /* with its terminating NUL */
		free(w);
	}
	wb_putc(&b, 0, i ? 1 : 2);   /* the block ends with an empty string */
	if (b.err) {
		free(b.s);
		return b.err;
	}
	*out = b.s;
	return 0;
}

/* A batch file runs through cmd.exe, which does not parse its command
 * line by the C runtime's rules: quoting cannot make arguments safe there
 * ("BatBadBut"), so procwait refuses to start one. */
static int is_batch(const wchar_t *w)
{
	size_t n = wcslen(w);

	return n >= 4 && (_wcsicmp(w + n - 4, L".bat") == 0 || _wcsicmp(w + n - 4, L".cmd") == 0);
}

/* The program to run: with SEARCH_PATH and no directory in the name,
 * looked up in the directories of PATH only (with ".exe" appended when it
 * has no extension): not in the application's or the current directory,
 * where SearchPathW would look first. */
static int program(const char *file, int search, wchar_t **out)
{
	wchar_t *w, path[MAX_PATH * 2];
	const wchar_t *dirs;
	int err = 0;
	DWORD n;

	w = utf16(file, &err);
	if (!w)
		return err;
	if (!search || wcspbrk(w, L"/\\:")) {
		if (is_batch(w)) {
			free(w);
			return -ENOEXEC;
		}
		*out = w;
		return 0;
	}
	dirs = _wgetenv(L"PATH");
	n = dirs && *dirs ? SearchPathW(dirs, w, L".exe", MAX_PATH * 2, path, NULL) : 0;
	free(w);
	if (n >= MAX_PATH * 2)
		return -ENAMETOOLONG;
	if (n == 0)
		return -ENOENT;
	if (is_batch(path))
		return -ENOEXEC;
	*out = _wcsdup(path);
	return *out ? 0 : -ENOMEM;
}

/* An inheritable duplicate of the handle behind C runtime fd (or the
 * caller's standard handle std for -1); NULL when there is none. */
static int std_handle(int fd, DWORD std, HANDLE *out)
{
	HANDLE h = fd >= 0 ? (HANDLE)_get_osfhandle(fd) : GetStdHandle(std);

	*out = NULL;
	/* -2: the C runtime's "no handle" for 0..2 of a process without a
	 * console (it is also GetCurrentThread()'s pseudo-handle: never pass
	 * that on). */
	if (h == INVALID_HANDLE_VALUE || h == NULL || (intptr_t)h == -2)
		return fd >= 0 ? -EBADF : 0;
	if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), out, 0, TRUE,
	                     DUPLICATE_SAME_ACCESS)) {
		*out = NULL;
		return fd >= 0 ? pw__win_errno(GetLastError()) : 0;
	}
	return 0;
}

PROCWAIT_EXTERN int procwait_spawn(const procwait_spawn_options *o, procwait_proc **out)
{
	static const DWORD stds[3] = { STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE };
	wchar_t *app = NULL, *cmd = NULL, *env = NULL, *cwd = NULL;
	HANDLE hs[3] = { NULL, NULL, NULL }, list[3];
	STARTUPINFOEXW si;
	PROCESS_INFORMATION pi;
	LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
	SIZE_T asize = 0;
	procwait_proc *p = NULL;
	DWORD cflags = CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT;
	int i, nlist = 0, r;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(o && o->size >= sizeof(procwait_spawn_options));
	pw__check_arg(o->argv && o->argv[0]);
	pw__check_arg((o->flags & ~(unsigned)(PROCWAIT_SPAWN_SEARCH_PATH |
	               PROCWAIT_SPAWN_SETSID | PROCWAIT_SPAWN_SETPGID)) == 0);
	pw__check_arg(o->stdin_fd >= -1 && o->stdout_fd >= -1 && o->stderr_fd >= -1);
	if (o->flags & (PROCWAIT_SPAWN_SETSID | PROCWAIT_SPAWN_SETPGID))
		cflags |= CREATE_NEW_PROCESS_GROUP;

	r = program(o->file ? o->file : o->argv[0], o->flags & PROCWAIT_SPAWN_SEARCH_PATH, &app);
	if (r == 0)
		r = pw__win_cmdline(o->argv, &cmd);
	/* envp NULL: the child inherits our environment block itself (UTF-16,
	 * what _putenv() and SetEnvironmentVariableW() both change; the C
	 * runtime's narrow environ is in the ANSI code page, not UTF-8). */
	if (r == 0 && o->envp)
		r = env_block(o->envp, &env);
	if (r == 0 && o->cwd) {
		cwd = utf16(o->cwd, &r);
		r = cwd ? 0 : r;
	}
	for (i = 0; r == 0 && i < 3; i++) {
		int fd = i == 0 ? o->stdin_fd : i == 1 ? o->stdout_fd : o->stderr_fd;

		r = std_handle(fd, stds[i], &hs[i]);
		if (r == 0 && hs[i])
			list[nlist++] = hs[i];
	}
	if (r < 0)
		goto out;
	p = pw__proc_alloc(0, PW_CHILD_YES);
	if (!p) {
		r = -ENOMEM;
		goto out;
	}

	memset(&si, 0, sizeof(si));
	si.StartupInfo.cb = sizeof(si);
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
	si.StartupInfo.hStdInput = hs[0];
	si.StartupInfo.hStdOutput = hs[1];
	si.StartupInfo.hStdError = hs[2];
	if (nlist) {
		InitializeProcThreadAttributeList(NULL, 1, 0, &asize);
		attrs = malloc(asize);
		if (!attrs || !InitializeProcThreadAttributeList(attrs, 1, 0, &asize) ||
		    !UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
		                               list, (SIZE_T)nlist * sizeof(HANDLE), NULL, NULL)) {
			r = attrs ? pw__win_errno(GetLastError()) : -ENOMEM;
			free(attrs);
			attrs = NULL;
			goto out;
		}
		si.lpAttributeList = attrs;
	}
	memset(&pi, 0, sizeof(pi));
	if (!CreateProcessW(app, cmd, NULL, NULL, nlist > 0, cflags, env, cwd,
	                    &si.StartupInfo, &pi)) {
		DWORD err = GetLastError();

		r = err == ERROR_DIRECTORY && cwd ? -ENOENT : pw__win_errno(err);
		goto out;
	}
	CloseHandle(pi.hThread);
	p->pid = (pid_t)pi.dwProcessId;
	p->handle = pi.hProcess;
	p->be = &pw__backend_win32;
	*out = p;
	p = NULL;
	r = 0;
out:
	if (attrs) {
		DeleteProcThreadAttributeList(attrs);
		free(attrs);
	}
	for (i = 0; i < 3; i++)
		if (hs[i])
			CloseHandle(hs[i]);
	if (p)
		pw__proc_free(p);
	free(app);
	free(cmd);
	free(env);
	free(cwd);
	return r;
}

PROCWAIT_EXTERN int procwait_fork(unsigned flags, procwait_proc **out)
{
	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(flags == 0);
	return -ENOSYS;
}
