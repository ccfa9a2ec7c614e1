/* SPDX-License-Identifier: MIT */
/*
 * procwait-python's server identity: a child forked from a server has the
 * server's process context, not its caller's. So everything that makes a
 * fresh `python3 ARGS` what it is goes into the server's name, and a caller
 * in another context gets a server of its own (started by it, in its
 * context):
 *  - the interpreter as invoked (a venv's bin/python3 is not /usr/bin/python3
 *    even when it links there), the procwait package and library it runs;
 *  - the preload set (in one spelling), HOME (the user site); the directory
 *    only for the pytest tier (its rootdir) and for an interpreter that is a
 *    script (a pyenv shim picks the python by directory);
 *  - the start-up environment: PYTHON*, locale, LD_*, the thread and device
 *    settings numerical libraries read at import, PYENV_*; and the server's
 *    own setting PROCWAIT_IDLE (a server keeps the idle time it started with);
 *  - the process context: umask, resource limits, nice, CPU affinity,
 *    group ids, namespaces, cgroup, no_new_privs, seccomp, capabilities;
 *  - and what the server's preload turned out to depend on: the environment
 *    variables it read, the directory it imported from. The server writes
 *    those into the deps file of its base name (see pyl_server_name()).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "pylaunch.h"

extern char **environ;

static void fnv_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ULL;
	}
}

static void fnv(uint64_t *h, const char *s)
{
	fnv_bytes(h, s, strlen(s));
	*h ^= 0xff;   /* a separator no string contains */
	*h *= 1099511628211ULL;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Environment variables that change how an interpreter starts, or what
 * a preloaded module sets up at import (thread pools, devices). */
static int startup_var(const char *e)
{
	static const char *const prefixes[] = {
		"PYTHON", "LC_", "LANG=", "LD_", "HOME=", "PROCWAIT_LIBRARY=", "OMP_",
		"OPENBLAS_", "GOTO_", "MKL_", "BLIS_", "VECLIB_", "NUMEXPR_", "NUMBA_", "CUDA_",
		"TF_", "TORCH_", "PYTORCH_", "JAX_", "XLA_", "DJANGO_SETTINGS_MODULE=", "PYENV_",
		"PROCWAIT_IDLE="
	};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(e, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static void hash_file(uint64_t *h, const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fnv(h, "-");
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fnv_bytes(h, buf, (size_t)n);
	close(fd);
	fnv(h, "");
}

/* The lines of /proc/self/status that set what a process may do. */
static void hash_status(uint64_t *h)
{
	static const char *const keys[] = {
		"NoNewPrivs:", "Seccomp:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"
	};
	char line[256];
	size_t i;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				fnv(h, line);
	fclose(f);
}

static void hash_context(uint64_t *h)
{
	static const char *const ns[] = { "mnt", "net", "pid", "user", "uts", "ipc", "cgroup" };
	char path[64], link[128];
	gid_t groups[256];
	cpu_set_t cpus;
	mode_t mask;
	int r, n, prio;
	size_t i;

	mask = umask(0);
	umask(mask);
	fnv_bytes(h, &mask, sizeof(mask));
	for (r = 0; r < RLIM_NLIMITS; r++) {
		struct rlimit rl;

		if (getrlimit(r, &rl) == 0)
			fnv_bytes(h, &rl, sizeof(rl));
	}
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	fnv_bytes(h, &prio, sizeof(prio));
	CPU_ZERO(&cpus);
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0)
		fnv_bytes(h, &cpus, sizeof(cpus));
	{
		gid_t g = getgid(), eg = getegid();

		fnv_bytes(h, &g, sizeof(g));
		fnv_bytes(h, &eg, sizeof(eg));
	}
	n = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
	if (n > 0)
		fnv_bytes(h, groups, (size_t)n * sizeof(gid_t));
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		len = readlink(path, link, sizeof(link) - 1);
		link[len > 0 ? len : 0] = '\0';
		fnv(h, link);
	}
	hash_file(h, "/proc/self/cgroup");
	hash_status(h);
}

int pyl_server_base(const char *python, const char *pydir, const char *lib,
                    const char *preload, int flags, uint64_t *base)
{
	uint64_t h = 14695981039346656037ULL;
	size_t n = 0, i;
	char **vars;

	fnv(&h, python);   /* as invoked: a venv's python is its own */
	fnv(&h, pydir);
	fnv(&h, lib ? lib : "");
	fnv(&h, preload);
	fnv(&h, flags & PYL_PYTEST ? "pytest" : "");
	if (flags & (PYL_PYTEST | PYL_CWD)) {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		fnv(&h, cwd);
	}
	while (environ[n])
		n++;
	vars = calloc(n + 1, sizeof(*vars));
	if (!vars)
		return -ENOMEM;
	for (i = n = 0; environ[i]; i++)
		if (startup_var(environ[i]))
			vars[n++] = environ[i];
	qsort(vars, n, sizeof(*vars), cmpstr);
	for (i = 0; i < n; i++)
		fnv(&h, vars[i]);
	free(vars);
	hash_context(&h);
	*base = h;
	return 0;
}

/* One line of the deps file: "env NAME" (the variable's value, or its
 * absence) or "cwd" (the directory). procwait/_pyhost.py hashes the same. */
static void hash_dep(uint64_t *h, const char *line)
{
	if (strncmp(line, "env ", 4) == 0) {
		const char *v = getenv(line + 4);

		fnv(h, line);
		fnv(h, v ? v : "");
		fnv(h, v ? "=" : "unset");
	} else if (strcmp(line, "cwd") == 0) {
		char cwd[PATH_MAX];

		fnv(h, line);
		fnv(h, getcwd(cwd, sizeof(cwd)) ? cwd : "");
	}
	/* Anything else is from a newer procwait: not ours to know. */
}

int pyl_server_name(uint64_t base, const char *deps, char *name, size_t size)
{
	uint64_t h = base;
	char line[1024];
	FILE *f = fopen(deps, "re");

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (*line)
				hash_dep(&h, line);
		}
		fclose(f);
	}
	if (snprintf(name, size, "python-%016llx", (unsigned long long)h) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}
