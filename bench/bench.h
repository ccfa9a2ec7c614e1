/* SPDX-License-Identifier: MIT */
/* procwait-bench: shared types of the sections and the output. */
#ifndef PROCWAIT_BENCH_H
#define PROCWAIT_BENCH_H

#include <stddef.h>
#include <stdint.h>

enum row_kind { ROW_WAIT, ROW_SCALE, ROW_ONESHOT };

/* One row of a section's table. Plain bytes: workers hand rows back to the
 * main process through a pipe. */
struct row {
	int kind;                  /* enum row_kind */
	char name[40];
	char missing[160];         /* non-empty: could not run, and why */
	char impl[64];             /* what was measured (peers' versions) */
	/* ROW_WAIT: per rep medians; latencies in µs */
	double vol, invol, cpu_s;
	double lat_median, lat_p90, lat_max;
	/* ROW_SCALE */
	int n;
	double cpu_us_per_exit, lat_p50, lat_p99;
	double p99_growth, cpu_growth;   /* vs the same row at the smallest N */
	/* ROW_ONESHOT */
	double oneshot_us, separate_us;
	/* every kind: ratio to the section's reference; < 0 when none */
	double ratio;
};

struct options {
	double duration_s;         /* child lifetime; spread of exits in scale */
	int reps;
	int scale[8], nscale;
	int json, quick;
	unsigned sections;         /* bit per section */
	const char *python;        /* interpreter for the peers */
	const char *peers_dir;
	char self[4096];           /* this program, for --child */
};

enum { SEC_WAIT = 1, SEC_SCALE = 2, SEC_PROCINFO = 4, SEC_FORKSERVER = 8, SEC_PYTHON = 16 };

/* A growing list of rows. */
struct rows {
	struct row *v;
	int n, cap;
};
struct row *rows_add(struct rows *r, int kind, const char *name);

/* Sections. Each appends its rows. */
void section_wait(const struct options *o, struct rows *out);
void section_scale(const struct options *o, struct rows *out);
void section_python(const struct options *o, const struct rows *wait, struct rows *out);

/* The child of the wait model: sleep, print the CLOCK_MONOTONIC ns stamp
 * on fd 1, _exit(0). Used through --child by the Python peers. */
int child_main(double seconds);

/* Run fn(arg, row) in a forked worker with PROCWAIT_BACKEND=backend (NULL
 * leaves it unset), so that every row gets a fresh backend probe; the row
 * comes back through a pipe. The main process never calls the library. */
void run_in_worker(const char *backend, void (*fn)(const struct options *, struct row *),
                   const struct options *o, struct row *row);

/* stats.c */
struct rusage;
int64_t now_ns(void);
double ru_cpu_s(const struct rusage *ru);   /* user + system seconds */
void sleep_ns(int64_t ns);
double median(double *v, int n);          /* sorts v */
double percentile(double *v, int n, double p);   /* nearest rank; sorts v */

#endif
