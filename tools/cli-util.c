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
	/* Only the signals this system has: C11 promises the six in the
	 * first row, the rest are POSIX or system-specific. */
	static const struct { int no; const char *name; } tab[] = {
		{ SIGINT, "SIGINT" }, { SIGILL, "SIGILL" }, { SIGABRT, "SIGABRT" },
		{ SIGFPE, "SIGFPE" }, { SIGSEGV, "SIGSEGV" }, { SIGTERM, "SIGTERM" },
#ifdef SIGHUP
		{ SIGHUP, "SIGHUP" },
#endif
#ifdef SIGQUIT
		{ SIGQUIT, "SIGQUIT" },
#endif
#ifdef SIGTRAP
		{ SIGTRAP, "SIGTRAP" },
#endif
#ifdef SIGBUS
		{ SIGBUS, "SIGBUS" },
#endif
#ifdef SIGKILL
		{ SIGKILL, "SIGKILL" },
#elif defined(HAVE_WIN32_BACKEND)
		/* No SIGKILL on Windows, but the library takes 9 for
		 * TerminateProcess and reports the death so. */
		{ 9, "SIGKILL" },
#endif
#ifdef SIGUSR1
		{ SIGUSR1, "SIGUSR1" },
#endif
#ifdef SIGUSR2
		{ SIGUSR2, "SIGUSR2" },
#endif
#ifdef SIGPIPE
		{ SIGPIPE, "SIGPIPE" },
#endif
#ifdef SIGALRM
		{ SIGALRM, "SIGALRM" },
#endif
#ifdef SIGCHLD
		{ SIGCHLD, "SIGCHLD" },
#endif
#ifdef SIGCONT
		{ SIGCONT, "SIGCONT" },
#endif
#ifdef SIGSTOP
		{ SIGSTOP, "SIGSTOP" },
#endif
#ifdef SIGTSTP
		{ SIGTSTP, "SIGTSTP" },
#endif
#ifdef SIGTTIN
		{ SIGTTIN, "SIGTTIN" },
#endif
#ifdef SIGTTOU
		{ SIGTTOU, "SIGTTOU" },
#endif
#ifdef SIGURG
		{ SIGURG, "SIGURG" },
#endif
#ifdef SIGXCPU
		{ SIGXCPU, "SIGXCPU" },
#endif
#ifdef SIGXFSZ
		{ SIGXFSZ, "SIGXFSZ" },
#endif
#ifdef SIGVTALRM
		{ SIGVTALRM, "SIGVTALRM" },
#endif
#ifdef SIGPROF
		{ SIGPROF, "SIGPROF" },
#endif
#ifdef SIGWINCH
		{ SIGWINCH, "SIGWINCH" },
#endif
#ifdef SIGIO
		{ SIGIO, "SIGIO" },
#endif
#ifdef SIGSYS
		{ SIGSYS, "SIGSYS" },
#endif
#ifdef SIGSTKFLT
		{ SIGSTKFLT, "SIGSTKFLT" },
#endif
#ifdef SIGPWR
		{ SIGPWR, "SIGPWR" },
#endif
#ifdef SIGBREAK
		{ SIGBREAK, "SIGBREAK" },
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
