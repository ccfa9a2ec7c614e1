/* SPDX-License-Identifier: MIT */
/*
 * procwait serve: a generic fork server whose children exec their argv.
 * A fast spawner for a host with a huge address space (the fork happens in
 * this small process), and the test bed of the protocol.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

#ifdef HAVE_FORKSERVER
#define SERVE_HELP_AVAILABILITY ""
#else
#define SERVE_HELP_AVAILABILITY \
	"\n" \
	"Not available on this system: the fork server needs Linux (epoll,\n" \
	"signalfd, pidfds, AF_UNIX).\n"
#endif

void cli_usage_serve(FILE *out)
{
	fprintf(out,
	        "Usage: %s serve [--socket PATH | --name NAME] [--max-children N]\n"
	        "                [--max-queue N] [--timeout SECONDS] [--grace SECONDS]\n"
	        "                [--idle SECONDS] [--request-time SECONDS]\n"
	        "                [--allow-uid UID]... [--no-cgroups] [--no-spare]\n"
	        "                [--verbose]\n"
	        "\n"
	        "Run a fork server whose children exec the argv of each request (sent\n"
	        "with procwait-run). It listens on PATH, by default\n"
	        "$XDG_RUNTIME_DIR/procwait/NAME.sock (else $TMPDIR/procwait-UID/NAME.sock),\n"
	        "NAME being \"default\". It stops on SIGTERM or SIGINT, or after the idle\n"
	        "time: children's groups get SIGTERM, then SIGKILL after the grace.\n"
	        "\n"
	        "Each run gets a cgroup of its own when the server may create them (cgroup\n"
	        "v2; root, or a delegated subtree): a stop (timeout, client gone, server\n"
	        "stopping) then kills all of the run, daemons that left its process group\n"
	        "included, and procwait-run does the same should the server die. Where\n"
	        "none can be made the server says why and stops runs by process group.\n"
	        "A spare child is kept forked ahead of the next request, so that a run\n"
	        "starts without a fork (nor the kernel's wait to move it into its cgroup).\n"
	        "\n"
	        "  -s, --socket PATH       listen on PATH (its directory must be private)\n"
	        "  -n, --name NAME         server name for the default path\n"
	        "  -j, --max-children N    children at once (default 64)\n"
	        "  -q, --max-queue N       requests waiting for a slot (default 4 x N)\n"
	        "  -t, --timeout SECONDS   default per-request timeout (default none)\n"
	        "  -g, --grace SECONDS     stop signal to SIGKILL (default 5)\n"
	        "  -i, --idle SECONDS      stop after SECONDS without clients (default never)\n"
	        "  -r, --request-time SECONDS\n"
	        "                          close a connection that has not sent its\n"
	        "                          request within SECONDS (default 10, 0: never)\n"
	        "  -u, --allow-uid UID     also serve user UID (default: only our own)\n"
	        "      --no-cgroups        give runs no cgroup of their own\n"
	        "      --no-spare          fork each child when its request comes\n"
	        "  -v, --verbose           log starts and stops, not only problems\n"
	        "  -h, --help              show this help\n"
	        "\n"
	        "Exit status: 0 after a clean stop, 1 when the server cannot run, 2 on a\n"
	        "usage error.\n"
	        SERVE_HELP_AVAILABILITY,
	        cli_progname);
}

static int verbose;

static void log_line(void *data, int level, const char *msg)
{
	(void)data;
	if (level <= PROCWAIT_LOG_WARNING || verbose)
		fprintf(stderr, "%s serve: %s\n", cli_progname, msg);
}

static int parse_count(const char *s, int *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < 0 || v > 1000000)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* In a child with the request installed: exec it, as a shell would. */
static void exec_request(procwait_request *req)
{
	char *const *argv = procwait_request_argv(req);
	int err;

	fflush(NULL);
	execvp(argv[0], argv);
	err = errno;
	fprintf(stderr, "%s: %s: %s\n", cli_progname, argv[0], strerror(err));
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "max-children", required_argument, NULL, 'j' },
		{ "max-queue", required_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "grace", required_argument, NULL, 'g' },
		{ "idle", required_argument, NULL, 'i' },
		{ "request-time", required_argument, NULL, 'r' },
		{ "allow-uid", required_argument, NULL, 'u' },
		{ "no-cgroups", no_argument, NULL, 'C' },
		{ "no-spare", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	procwait_request *req;
	procwait_uid uids[64];
	size_t nuids = 0;
	int c, rc, v, spare = 1;
#ifdef HAVE_FORKSERVER
	sigset_t stopsigs;
#endif

#ifndef HAVE_WIN32_BACKEND
	uids[nuids++] = geteuid();   /* (Windows has no uids, nor a fork server) */
#endif
	o.log = log_line;
	while ((c = getopt_long(argc, argv, "+s:n:j:q:t:g:i:r:u:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.socket_path = optarg;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'j':
			if (parse_count(optarg, &v) < 0 || v == 0)
				goto bad_value;
			o.max_children = v;
			break;
		case 'q':
			if (parse_count(optarg, &v) < 0)
				goto bad_value;
			o.max_queue = v;
			break;
		case 't':
			if (cli_parse_seconds(optarg, &v) < 0)
				goto bad_value;
			o.timeout_ms = v;
			break;
		case 'g':
			if (cli_parse_seconds(optarg, &v) < 0)
				goto bad_value;
			o.kill_grace_ms = v;
			break;
		case 'i':
			if (cli_parse_seconds(optarg, &v) < 0)
				goto bad_value;
			o.idle_ms = v;
			break;
		case 'r':
			if (cli_parse_seconds(optarg, &v) < 0)
				goto bad_value;
			o.request_ms = v > 0 ? v : -1;
			break;
		case 'u':
			if (parse_count(optarg, &v) < 0 || nuids == sizeof(uids) / sizeof(uids[0]))
				goto bad_value;
			uids[nuids++] = (procwait_uid)v;
			break;
		case 'C':
			o.flags |= PROCWAIT_FORKSERVER_NO_CGROUPS;
			break;
		case 'S':
			spare = 0;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			cli_usage_serve(stdout);
			return CLI_EXIT_OK;
		default:
			cli_usage_serve(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s serve: unexpected argument '%s'\n", cli_progname, argv[optind]);
		return CLI_EXIT_USAGE;
	}
	o.allowed_uids = uids;
	o.n_allowed_uids = nuids;
	/* SIGTERM and SIGINT blocked from before the socket exists: one that
	 * comes before the loop runs waits for its signalfd, and the stop is
	 * clean (socket removed, exit 0) instead of a death by signal. The
	 * loop keeps them blocked; a child's mask is emptied. */
#ifdef HAVE_FORKSERVER
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGTERM);
	sigaddset(&stopsigs, SIGINT);
	sigprocmask(SIG_BLOCK, &stopsigs, NULL);
#endif
	rc = procwait_forkserver_new(&o, &fs);
#ifndef HAVE_FORKSERVER
	/* Not built here: the library's stubs answer -ENOSYS. (Where it is
	 * built, -ENOSYS is a kernel lacking a call: the message below.) */
	if (rc == -ENOSYS) {
		fprintf(stderr, "%s serve: no fork server on this system: it needs Linux "
		        "(epoll, signalfd, pidfds)\n", cli_progname);
		return CLI_EXIT_FAILURE;
	}
#endif
	if (rc < 0) {
		fprintf(stderr, "%s serve: cannot listen on %s: %s\n", cli_progname,
		        o.socket_path ? o.socket_path : o.name ? o.name : "the default path",
		        procwait_strerror(rc));
		return rc == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	if (verbose)
		fprintf(stderr, "%s serve: listening on %s\n", cli_progname,
		        procwait_forkserver_path(fs));
	if (spare)
		(void)procwait_forkserver_set_spares(fs, 1);   /* only -EINVAL */
	rc = procwait_forkserver_serve(fs, &req);
	if (rc == 1)
		exec_request(req);   /* the child; does not return */
	procwait_forkserver_free(fs);
	if (rc < 0) {
		fprintf(stderr, "%s serve: %s\n", cli_progname, procwait_strerror(rc));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
bad_value:
	fprintf(stderr, "%s serve: invalid value '%s' for -%c\n", cli_progname, optarg, c);
	return CLI_EXIT_USAGE;
}
