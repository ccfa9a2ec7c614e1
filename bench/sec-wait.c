/* SPDX-License-Identifier: MIT */
/*
 * Section "wait": one child lives D seconds, stamps CLOCK_MONOTONIC into a
 * pipe and calls _exit; the waiter's context switches and CPU are taken
 * from getrusage around the wait alone, the latency from the stamp to the
 * waiter's wake-up. Blocking waitpid is the reference: the physical limit.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <procwait/procwait.h>

#include "bench.h"

int child_main(double seconds)
{
	char buf[32];
	int n;

	sleep_ns((int64_t)(seconds * 1e9));
	n = snprintf(buf, sizeof(buf), "%lld", (long long)now_ns());
	if (write(1, buf, (size_t)n) != n)
		_exit(1);
	_exit(0);
}

enum waiter { W_WAITPID, W_PROCWAIT };

/* One rep: 0, or -1 with row->missing set. */
static int one_rep(const struct options *o, enum waiter how, double *vol, double *invol,
                   double *cpu, double *lat_us, struct row *row)
{
	struct rusage r0, r1;
	procwait_status st;
	int64_t woke, stamp;
	char buf[32];
	int p[2], raw, r = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(row->missing, sizeof(row->missing), "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(row->missing, sizeof(row->missing), "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		child_main(o->duration_s);
	}
	close(p[1]);
	getrusage(RUSAGE_SELF, &r0);
	if (how == W_WAITPID) {
		while (waitpid(pid, &raw, 0) < 0 && errno == EINTR)
			;
	} else {
		int timeout_ms = (int)(o->duration_s * 1000) + 60000;

		r = procwait_wait_pid(pid, timeout_ms, 0, &st);
	}
	woke = now_ns();
	getrusage(RUSAGE_SELF, &r1);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	if (r < 0 || n <= 0) {
		snprintf(row->missing, sizeof(row->missing), "the wait failed: %s",
		         r < 0 ? procwait_strerror(r) : "no stamp from the child");
		return -1;
	}
	buf[n] = '\0';
	stamp = strtoll(buf, NULL, 10);
	*vol = (double)(r1.ru_nvcsw - r0.ru_nvcsw);
	*invol = (double)(r1.ru_nivcsw - r0.ru_nivcsw);
	*cpu = ru_cpu_s(&r1) - ru_cpu_s(&r0);
	*lat_us = (double)(woke - stamp) / 1e3;
	return 0;
}

static void measure(const struct options *o, struct row *row, enum waiter how)
{
	double vol[64], invol[64], cpu[64], lat[64];
	int i, reps = o->reps > 64 ? 64 : o->reps;

	for (i = 0; i < reps; i++)
		if (one_rep(o, how, &vol[i], &invol[i], &cpu[i], &lat[i], row) < 0)
			return;
	row->vol = median(vol, reps);
	row->invol = median(invol, reps);
	row->cpu_s = median(cpu, reps);
	row->lat_max = percentile(lat, reps, 100);
	row->lat_p90 = percentile(lat, reps, 90);
	row->lat_median = median(lat, reps);
}

static void w_waitpid(const struct options *o, struct row *row)
{
	snprintf(row->impl, sizeof(row->impl), "waitpid(pid, &st, 0)");
	measure(o, row, W_WAITPID);
}

/* The backend asked for through the worker's environment. */
static void w_procwait(const struct options *o, struct row *row)
{
	const char *want = getenv("PROCWAIT_BACKEND");

	if (want && strcmp(procwait_backend_name(), want) != 0) {
		snprintf(row->missing, sizeof(row->missing),
		         "the %s backend is not available here", want);
		return;
	}
	snprintf(row->impl, sizeof(row->impl), "procwait_wait_pid, %s backend",
	         procwait_backend_name());
	measure(o, row, W_PROCWAIT);
}

void section_wait(const struct options *o, struct rows *out)
{
	struct row *ref = rows_add(out, ROW_WAIT, "waitpid-blocking");
	int first = out->n - 1, i;

	run_in_worker(NULL, w_waitpid, o, ref);
	run_in_worker("pidfd", w_procwait, o, rows_add(out, ROW_WAIT, "procwait-pidfd"));
	run_in_worker("poll", w_procwait, o, rows_add(out, ROW_WAIT, "procwait-poll"));
	ref = &out->v[first];
	for (i = first; i < out->n; i++)
		out->v[i].ratio = !ref->missing[0] && !out->v[i].missing[0] && ref->lat_median > 0 ?
		                  out->v[i].lat_median / ref->lat_median : -1;
}
