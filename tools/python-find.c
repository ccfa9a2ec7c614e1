/* SPDX-License-Identifier: MIT */
/*
 * procwait-python's interpreter: the one `python3` would run. PROCWAIT_PYTHON
 * when set; else `python3` on PATH, as the shell would find it (so an
 * activated venv, a pyenv shim or a PATH of the user's own picks it), skipping
 * procwait-python itself when it is installed as python3; else the python3
 * found at configure time.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "pylaunch.h"

/* @p path is this very program (installed or linked as python3). */
static int is_self(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* An executable regular file that is not this program. */
static int usable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0 &&
	       !is_self(path);
}

int pyl_search_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		char cand[PATH_MAX];
		int n;

		/* Only absolute entries: an empty or relative one would name
		 * another interpreter in each directory a run starts in. */
		if (len && path[0] == '/')
			n = snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, path, name);
		else
			n = -1;
		if (n > 0 && n < (int)sizeof(cand) && usable(cand)) {
			if ((size_t)n >= size)
				return -ENAMETOOLONG;
			memcpy(out, cand, (size_t)n + 1);
			return 0;
		}
		path += len + (end ? 1 : 0);
	}
	return -ENOENT;
}

int pyl_find_python(const char *configured, char *out, size_t size, const char **how)
{
	const char *env = getenv("PROCWAIT_PYTHON");
	const char *p = env && *env ? env : NULL;

	*how = "PROCWAIT_PYTHON";
	if (!p) {
		*how = "python3 on PATH";
		if (pyl_search_path("python3", out, size) == 0)
			return 0;
		*how = "the python3 found at configure time";
		p = configured && *configured ? configured : "/usr/bin/python3";
	}
	if (strchr(p, '/')) {
		char cwd[PATH_MAX];
		int n;

		if (p[0] == '/')
			n = snprintf(out, size, "%s", p);
		else if (getcwd(cwd, sizeof(cwd)))
			n = snprintf(out, size, "%s/%s", cwd, p);
		else
			return -errno;
		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	return pyl_search_path(p, out, size);
}

int pyl_is_script(const char *path)
{
	char head[2];
	FILE *f = fopen(path, "re");
	int script;

	if (!f)
		return 0;
	script = fread(head, 1, 2, f) == 2 && head[0] == '#' && head[1] == '!';
	fclose(f);
	return script;
}
