/* SPDX-License-Identifier: MIT */
/* Parsing and naming helpers shared by procwait and procwait-run. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_signame(int signo, char *buf, size_t size)
{
	static const struct { int no; const char *name; } tab[] = {
		{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
		{ SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
		{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
		{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
		{ SIGCHLD, "SIGCHLD" }, { SIGCONT, "SIGCONT" }, { SIGSTOP, "SIGSTOP" },
		{ SIGTSTP, "SIGTSTP" }, { SIGTTIN, "SIGTTIN" }, { SIGTTOU, "SIGTTOU" },
		{ SIGURG, "SIGURG" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
		{ SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" },
		{ SIGWINCH, "SIGWINCH" }, { SIGIO, "SIGIO" }, { SIGSYS, "SIGSYS" },
#ifdef SIGSTKFLT
		{ SIGSTKFLT, "SIGSTKFLT" },
#endif
#ifdef SIGPWR
		{ SIGPWR, "SIGPWR" },
#endif
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].no == signo)
			return tab[i].name;
#ifdef SIGRTMIN
	if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
		snprintf(buf, size, "SIGRTMIN+%d", signo - SIGRTMIN);
		return buf;
	}
#endif
	(void)buf;
	(void)size;
	return NULL;
}

int cli_parse_pid(const char *s, pid_t *out)
{
	long long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	if (v <= 0)
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

int cli_parse_seconds(const char *s, int *ms_out)
{
	char *end;
	double sec, ms;
	const char *c;

	/* Plain decimal only: strtod alone would take " 1", "0x10",
	 * "inf" and "nan". */
	if (!(*s >= '0' && *s <= '9') && !(*s == '.' && s[1] >= '0' && s[1] <= '9'))
		return -EINVAL;
	for (c = s; *c; c++)
		if (*c == 'x' || *c == 'X' || *c == 'p' || *c == 'P')
			return -EINVAL;
	errno = 0;
	sec = strtod(s, &end);
	/* An underflow (1e-400) is a zero timeout; an overflow is no number. */
	if (*end || (errno == ERANGE && sec > 1.0) || !isfinite(sec) || sec < 0)
		return -EINVAL;
	ms = ceil(sec * 1000.0);
	*ms_out = ms >= (double)INT_MAX ? INT_MAX : (int)ms;
	return 0;
}
