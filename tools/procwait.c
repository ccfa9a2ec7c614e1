/* SPDX-License-Identifier: MIT */
/* procwait: the command-line face of the library. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_progname = "procwait";

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: %s COMMAND [OPTION]... [ARG]...\n"
	        "\n"
	        "Commands:\n"
	        "  wait [--timeout SECONDS] [--any] [--stats] PID...\n"
	        "        wait until every PID (with --any: one of them) has exited\n"
	        "  info [--json] PID...\n"
	        "        show psutil's fields of each PID (name, cpu_times, memory_info, ...)\n"
	        "  serve [--socket PATH] [--max-children N] [--timeout S] [--idle S]\n"
	        "        run a fork server whose children exec what procwait-run sends\n"
	        "\n"
	        "Options:\n"
	        "  -h, --help     show this help\n"
	        "  -V, --version  show the version and the backend in use\n"
	        "\n"
	        "Exit status: 0 done, 1 failure, 2 usage error, 124 timeout.\n",
	        cli_progname);
}

#ifdef HAVE_WIN32_BACKEND
/* Any process's exit code can be read while we hold its HANDLE, child or
 * not; there are no signals to die of (TerminateProcess sets an exit code). */
#define WAIT_HELP_STATUS \
	"exited PID one line: 'PID exited CODE' (the whole 32-bit exit code, for\n" \
	"any process: Windows keeps it while we hold the process open), or\n" \
	"'PID exited (status unknown)' when Windows cannot tell.\n"
#define WAIT_HELP_STATS \
	"      --stats            report the wait's CPU time (GetProcessTimes; no\n" \
	"                         context switch counts on Windows) on stderr\n"
#else
#define WAIT_HELP_STATUS \
	"exited PID one line: 'PID exited CODE', 'PID killed by SIGNAME' (and\n" \
	"' (core dumped)'), or 'PID exited (status unknown)' for a process that is\n" \
	"not our child.\n"
#define WAIT_HELP_STATS \
	"      --stats            report the wait's context switches and CPU time\n" \
	"                         (getrusage) on stderr\n"
#endif

void cli_usage_wait(FILE *out)
{
	fprintf(out,
	        "Usage: %s wait [--timeout SECONDS] [--any] [--stats] PID...\n"
	        "\n"
	        "Wait until every PID has exited (with --any: until one has), like\n"
	        "pidwait(1) or tail --pid, event-driven where the system allows. For each\n"
	        WAIT_HELP_STATUS
	        "\n"
	        "  -t, --timeout SECONDS  give up after SECONDS (fractions allowed)\n"
	        "  -a, --any              return when the first PID exits\n"
	        WAIT_HELP_STATS
	        "  -h, --help             show this help\n"
	        "\n"
	        "Exit status: 0 when the wait completed, 124 on timeout, 2 on a usage\n"
	        "error (bad option, bad or nonexistent PID), 1 on another failure.\n",
	        cli_progname);
}

/* An ignored SIGCHLD, inherited from whoever started us, would make the
 * kernel discard the statuses of our children (we may have some, after an
 * exec): take the default disposition back. Where there is no SIGCHLD
 * (Windows) there is nothing to undo. */
static void reset_sigchld(void)
{
#ifdef SIGCHLD
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
#endif
}

int main(int argc, char **argv)
{
	reset_sigchld();
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("procwait %s (library %s, backend %s)\n", PACKAGE_VERSION,
		       procwait_version_string(), procwait_backend_name());
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "wait"))
		return cmd_wait(argc - 1, argv + 1);
	if (!strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n", cli_progname, argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
