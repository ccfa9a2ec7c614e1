/* SPDX-License-Identifier: MIT */
/* procwait wait [--timeout SECONDS] [--any] PID... */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_WIN32_BACKEND
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/resource.h>
#endif

#include "cli.h"

#define EVENT_BATCH 64

static long long now_ms(void)
{
#ifdef HAVE_WIN32_BACKEND
	return (long long)GetTickCount64();   /* monotonic, in ms */
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

/* Returns 0, or -EIO when the line could not be written. */
static int print_exit(const procwait_status *st)
{
	char buf[32];
	const char *name;

	switch (st->kind) {
	case PROCWAIT_STATUS_EXITED:
		printf("%ld exited %d\n", (long)st->pid, st->code);
		break;
	case PROCWAIT_STATUS_SIGNALED:
		name = cli_signame(st->signo, buf, sizeof(buf));
		if (name)
			printf("%ld killed by %s%s\n", (long)st->pid, name,
			       st->core ? " (core dumped)" : "");
		else
			printf("%ld killed by signal %d%s\n", (long)st->pid, st->signo,
			       st->core ? " (core dumped)" : "");
		break;
	default:
		printf("%ld exited (status unknown)\n", (long)st->pid);
		break;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
}

#ifdef HAVE_WIN32_BACKEND
/* --stats: what the wait itself cost. Windows has no getrusage: the CPU
 * time comes from GetProcessTimes (100 ns units, advancing by scheduler
 * ticks), and there is no count of context switches to report. */
struct usage {
	int ok;
	unsigned long long cpu_100ns;   /* user + kernel */
};

static void get_usage(struct usage *u)
{
	FILETIME created, exited, kernel, user;

	u->ok = GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user) != 0;
	u->cpu_100ns = u->ok ? ((unsigned long long)kernel.dwHighDateTime << 32 |
	                        kernel.dwLowDateTime) +
	                       ((unsigned long long)user.dwHighDateTime << 32 |
	                        user.dwLowDateTime)
	                     : 0;
}

static void print_stats(const struct usage *a, const struct usage *b, long long ms)
{
	if (a->ok && b->ok) {
		unsigned long long cpu_us = (b->cpu_100ns - a->cpu_100ns) / 10;

		fprintf(stderr, "%s: backend %s: waited %lld.%03lld s; context switches: "
		        "unavailable; CPU %llu.%06llu s\n",
		        cli_progname, procwait_backend_name(), ms / 1000, ms % 1000,
		        cpu_us / 1000000, cpu_us % 1000000);
	} else {
		fprintf(stderr, "%s: backend %s: waited %lld.%03lld s; context switches: "
		        "unavailable; CPU unavailable\n",
		        cli_progname, procwait_backend_name(), ms / 1000, ms % 1000);
	}
}
#else
/* --stats: what the wait itself cost, from getrusage(2). */
struct usage {
	struct rusage ru;
};

static void get_usage(struct usage *u)
{
	getrusage(RUSAGE_SELF, &u->ru);
}

static void print_stats(const struct usage *ua, const struct usage *ub, long long ms)
{
	const struct rusage *a = &ua->ru, *b = &ub->ru;
	long long cpu_us = (b->ru_utime.tv_sec - a->ru_utime.tv_sec +
	                    b->ru_stime.tv_sec - a->ru_stime.tv_sec) * 1000000LL +
	                   (b->ru_utime.tv_usec - a->ru_utime.tv_usec +
	                    b->ru_stime.tv_usec - a->ru_stime.tv_usec);

	fprintf(stderr, "%s: backend %s: waited %lld.%03lld s; context switches: "
	        "%ld voluntary, %ld involuntary; CPU %lld.%06lld s\n",
	        cli_progname, procwait_backend_name(), ms / 1000, ms % 1000,
	        b->ru_nvcsw - a->ru_nvcsw, b->ru_nivcsw - a->ru_nivcsw,
	        cpu_us / 1000000, cpu_us % 1000000);
}
#endif

static int parse_args(int argc, char **argv, int *timeout_ms, int *any, int *stats,
                      int *first_pid)
{
	int i;

	*timeout_ms = -1;
	*any = 0;
	*stats = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_usage_wait(stdout);
			return 1;
		}
		if (!strcmp(a, "-a") || !strcmp(a, "--any")) {
			*any = 1;
			continue;
		}
		if (!strcmp(a, "--stats")) {
			*stats = 1;
			continue;
		}
		if (!strcmp(a, "-t") || !strcmp(a, "--timeout")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: option '%s' needs a value\n", cli_progname, a);
				return -EINVAL;
			}
			val = argv[++i];
		} else if (!strncmp(a, "--timeout=", 10)) {
			val = a + 10;
		} else {
			fprintf(stderr, "%s: unknown option '%s'\n", cli_progname, a);
			return -EINVAL;
		}
		if (cli_parse_seconds(val, timeout_ms) < 0) {
			fprintf(stderr, "%s: invalid timeout '%s': want seconds >= 0\n",
			        cli_progname, val);
			return -EINVAL;
		}
	}
	*first_pid = i;
	return 0;
}

int cmd_wait(int argc, char **argv)
{
	procwait_event ev[EVENT_BATCH];
	procwait_waitset *set = NULL;
	procwait_proc **procs = NULL;
	struct usage ru0, ru1;
	const char *fb_call = NULL;
	long long deadline = 0, t0 = 0;
	int timeout_ms, any, stats, first, nprocs = 0, waited = 0, fb_err = 0, i, j, r;
	int rc = CLI_EXIT_FAILURE;

	r = parse_args(argc, argv, &timeout_ms, &any, &stats, &first);
	if (r != 0) {
		if (r < 0)
			fprintf(stderr, "Try '%s wait --help'.\n", cli_progname);
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (first >= argc) {
		fprintf(stderr, "%s wait: no PID given\nTry '%s wait --help'.\n",
		        cli_progname, cli_progname);
		return CLI_EXIT_USAGE;
	}
	/* Check every pid before waiting for any. */
	procs = calloc((size_t)(argc - first), sizeof(*procs));
	if (!procs) {
		fprintf(stderr, "%s: out of memory\n", cli_progname);
		return CLI_EXIT_FAILURE;
	}
	for (i = first; i < argc; i++) {
		pid_t pid;
		int dup = 0;

		if (cli_parse_pid(argv[i], &pid) < 0) {
			fprintf(stderr, "%s: invalid PID '%s': want a positive process id\n",
			        cli_progname, argv[i]);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		if (pid == getpid()) {
			fprintf(stderr, "%s: refusing to wait for itself (PID %ld)\n",
			        cli_progname, (long)pid);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		for (j = 0; j < nprocs; j++)
			dup |= procwait_proc_pid(procs[j]) == pid;
		if (dup)
			continue;
		r = procwait_proc_open(pid, 0, &procs[nprocs]);
		if (r < 0) {
			if (r == -ESRCH)
				fprintf(stderr, "%s: no such process: %ld\n", cli_progname, (long)pid);
			else
				fprintf(stderr, "%s: cannot watch %ld: %s\n", cli_progname,
				        (long)pid, procwait_strerror(r));
			rc = CLI_EXIT_USAGE;
			goto out;
		}
		nprocs++;
	}
	r = procwait_waitset_new(0, &set);
	for (i = 0; r == 0 && i < nprocs; i++)
		r = procwait_waitset_add(set, procs[i], NULL);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", cli_progname, procwait_strerror(r));
		goto out;
	}
	/* Whether a handle or the set fell back (descriptors short, say). */
	fb_err = procwait_last_fallback(&fb_call);
	t0 = now_ms();
	get_usage(&ru0);
	waited = 1;
	if (timeout_ms >= 0)
		deadline = t0 + timeout_ms;
	while (procwait_waitset_size(set) > 0) {
		int left = -1;

		if (timeout_ms >= 0) {
			long long l = deadline - now_ms();

			left = l < 0 ? 0 : (int)l;
		}
		r = procwait_waitset_wait(set, ev, EVENT_BATCH, left);
		if (r == 0) {
			rc = CLI_EXIT_TIMEOUT;
			goto out;
		}
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", cli_progname, procwait_strerror(r));
			goto out;
		}
		for (i = 0; i < r; i++) {
			if (print_exit(&ev[i].status) < 0) {
				fprintf(stderr, "%s: write error on standard output\n", cli_progname);
				goto out;
			}
		}
		if (any)
			break;
	}
	rc = CLI_EXIT_OK;
out:
	if (stats && waited) {
		get_usage(&ru1);
		print_stats(&ru0, &ru1, now_ms() - t0);
		if (fb_err)
			fprintf(stderr, "%s: fell back to the backoff loop: %s: %s\n",
			        cli_progname, fb_call ? fb_call : "?", procwait_strerror(fb_err));
	}
	procwait_waitset_free(set);
	for (i = 0; i < nprocs; i++)
		procwait_proc_close(procs[i]);
	free(procs);
	return rc;
}
