/* SPDX-License-Identifier: MIT */
/*
 * procwait-python's reading of its command line and PROCWAIT_PRELOAD:
 * which command lines a forked child can run, which runs the pytest tier
 * serves, and the preload set in one spelling.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pylaunch.h"

/* The index of the argument after python's own options (flags from
 * "uBq"), with *mode 'c' or 'm' and *value its argument, or 0 for a
 * script or standard input; -1 for a command line a fresh interpreter
 * must run. The grammar of procwait/_pyrun.py parse(). */
static int python_options(int argc, char **argv, char *mode, const char **value)
{
	int i;

	*mode = 0;
	*value = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t j;

		if (a[0] != '-' || strcmp(a, "-") == 0)
			return i;
		if (a[1] == '-' || a[1] == '\0')
			return -1;
		for (j = 1; a[j]; j++) {
			if (a[j] == 'c' || a[j] == 'm') {
				*mode = a[j];
				if (a[j + 1]) {
					*value = a + j + 1;
					return i + 1;
				}
				if (i + 1 >= argc)
					return -1;
				*value = argv[i + 1];
				return i + 2;
			}
			if (!strchr("uBq", a[j]))
				return -1;
		}
	}
	return i;
}

int pyl_supported(int argc, char **argv)
{
	const char *inspect = getenv("PYTHONINSPECT");
	const char *value;
	char mode;
	int i = python_options(argc, argv, &mode, &value);

	if ((inspect && *inspect) || i < 0)
		return 0;   /* the REPL after the script; start-up options */
	if (mode)
		return 1;
	if (i == argc || strcmp(argv[i], "-") == 0)
		return !isatty(STDIN_FILENO);   /* a terminal: the REPL, prompts */
	{
		size_t n = strlen(argv[i]);
		return n < 4 || strcmp(argv[i] + n - 4, ".pyc") != 0;   /* bytecode: python's */
	}
}

/* pytest options that change what the tier prepared: the plugins (-p),
 * the configuration (-c, --config-file, -o, --rootdir, --confcutdir,
 * --noconftest), how modules are imported and rewritten. */
static int changes_tier(const char *a)
{
	static const char *const longs[] = {
		"--config-file", "--rootdir", "--confcutdir", "--noconftest", "--import-mode",
		"--override-ini", "--assert", "--pyargs"
	};
	size_t i;

	if (a[0] != '-')
		return 0;
	if (a[1] != '-') {
		/* A cluster of short options: -p, -c or -o in it, up to the
		 * first option whose value the rest of the cluster is. */
		for (i = 1; a[i]; i++) {
			if (strchr("pco", a[i]))
				return 1;
			if (strchr("kmrWn", a[i]))
				return 0;
		}
		return 0;
	}
	for (i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		size_t n = strlen(longs[i]);

		if (strncmp(a, longs[i], n) == 0 && (a[n] == '\0' || a[n] == '='))
			return 1;
	}
	return 0;
}

int pyl_pytest_tier(int argc, char **argv)
{
	const char *off = getenv("PROCWAIT_PYTEST");
	const char *value;
	char mode;
	int i = python_options(argc, argv, &mode, &value);

	if ((off && strcmp(off, "0") == 0) || i < 0 || mode != 'm' ||
	    (strcmp(value, "pytest") != 0 && strcmp(value, "py.test") != 0))
		return 0;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (changes_tier(argv[i]))
			return 0;
	}
	return 1;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "mod1,mod2 pkg.mod": dotted Python identifiers (ASCII), separated by
 * commas or spaces, as python3 -m procwait serve --preload takes them. */
static int preload_ok(const char *s)
{
	int at_start = 1;

	for (; *s; s++) {
		int alpha = *s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
		int digit = *s >= '0' && *s <= '9';

		if (*s == ',' || *s == ' ') {
			at_start = 1;
		} else if (*s == '.') {
			if (at_start)
				return 0;
			at_start = 1;
		} else if (alpha || (digit && !at_start)) {
			at_start = 0;
		} else {
			return 0;
		}
	}
	return 1;
}

int pyl_preload_canon(const char *spec, char **out)
{
	char *copy, *tok, *save = NULL, **mods, *res, *o;
	size_t n = 0, i, len = 1;

	*out = NULL;
	if (!preload_ok(spec))
		return -EINVAL;
	copy = strdup(spec);
	mods = calloc(strlen(spec) / 2 + 2, sizeof(*mods));
	if (!copy || !mods) {
		free(copy);
		free(mods);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		mods[n++] = tok;
		len += strlen(tok) + 1;
	}
	qsort(mods, n, sizeof(*mods), cmpstr);
	res = o = malloc(len);
	if (res) {
		*o = '\0';
		for (i = 0; i < n; i++) {
			if (i && strcmp(mods[i], mods[i - 1]) == 0)
				continue;   /* the same module twice */
			o += sprintf(o, "%s%s", o == res ? "" : ",", mods[i]);
		}
	}
	free(copy);
	free(mods);
	*out = res;
	return res ? 0 : -ENOMEM;
}
