/* SPDX-License-Identifier: MIT */
/* procwait-bench: shared types of the sections and the output. */
#ifndef PROCWAIT_BENCH_H
#define PROCWAIT_BENCH_H

#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum row_kind {
	ROW_WAIT, ROW_SCALE, ROW_ONESHOT, ROW_PROCINFO, ROW_FORKSERVER, ROW_PYPRELOAD, ROW_WALK
};

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
	/* ROW_SCALE; ROW_FORKSERVER: requests in flight */
	int n;
	double cpu_us_per_exit, lat_p50, lat_p99;
	double p99_growth, cpu_growth;   /* vs the same row at the smallest N */
	/* ROW_ONESHOT and ROW_PROCINFO: µs per set of six fields with and
	 * without a oneshot scope, speedup = separate / oneshot (< 0: none) */
	double oneshot_us, separate_us, speedup;
	double vs_rival;           /* ROW_ONESHOT: the rival's time over ours, timed
	                              in the same rounds; <= 0 when not.
	                              ROW_FORKSERVER: runs/s over the best python-mp
	                              row's (speedup: over python-mp-forkserver's) */
	double per_s;              /* ROW_FORKSERVER: runs per second (and
	                              lat_p50, lat_p99 in µs per run) */
	/* ROW_PROCINFO: µs per operation (< 0: none); the target for
	 * the row ("" when it has none) and whether this run meets it (-1:
	 * no target, 0 not met, 1 met) */
	double us_per_op;
	char target[24];
	int met;
	/* ROW_PYPRELOAD (n: its group, 1 the script, 2 the launcher's cost,
	 * 3 memory; the pytest section's: 4 one test, 5 one file, 6 its
	 * library's import, see sec-pytest.c): wall ms per run, pooled over the rounds (speedup: the
	 * reference's time over this row's, median of the rounds); the
	 * launcher's overhead over the C client's, between the medians and
	 * the median of the per-round differences; memory rows: a child's
	 * Private_Dirty and Shared kB (medians) and Private_Dirty above the
	 * gc.freeze row's (when ratio >= 0) */
	double ms_p50, ms_p99, overhead_ms, overhead_rounds_ms;
	double private_dirty_kb, shared_kb, pd_over_ref_kb;
	/* ROW_WALK: a walk over every process (n of them) by process_iter,
	 * median ms per walk, procwait's in ms_p50 and psutil's here, in the
	 * same rounds; vs_rival: psutil's over procwait's; target and met */
	double rival_ms;
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

enum {
	SEC_WAIT = 1, SEC_SCALE = 2, SEC_PROCINFO = 4, SEC_FORKSERVER = 8, SEC_PYTHON = 16,
	SEC_PYPRELOAD = 32, SEC_PYTEST = 64
};

/* A growing list of rows. */
struct rows {
	struct row *v;
	int n, cap;
};
struct row *rows_add(struct rows *r, int kind, const char *name);

/* Sections. Each appends its rows. */
void section_wait(const struct options *o, struct rows *out);
void section_scale(const struct options *o, struct rows *out);
/* The procinfo targets, shown (never asserted): a refresh of stat
 * within this ratio of one bare pread; six fields in a oneshot scope at
 * least this much faster than without; psutil's own figure for the six. */
#define PROCINFO_REFRESH_MAX_RATIO 1.3
#define PROCINFO_ONESHOT_MIN_SPEEDUP 3.0
#define PSUTIL_ONESHOT_REPORTED 2.56

/* procinfo: title gets the section's header line (what was measured on). */
void section_procinfo(const struct options *o, struct rows *out, char *title, size_t size);
/* forkserver: a process per request, through fork+exec, procwait's fork
 * servers and CPython's multiprocessing forkserver; title as procinfo's.
 * The target: procwait-fork-fn at least this many times the
 * throughput of CPython's forkserver (its preloaded row) in the same run. */
#define FORKSERVER_MIN_VS_PYMP 2.0
/* A request after a pause with a cgroup per run (and a spare) against one
 * without, time per request: at most this ratio. */
#define FORKSERVER_PAUSED_MAX 1.25
void section_forkserver(const struct options *o, struct rows *out, char *title, size_t size);
void forkserver_summary(const struct rows *r);   /* the target line */
/* pypreload: procwait-python (a preloading Python fork server's drop-in
 * python3) against python3 cold, its own cost over the C client's, and a
 * child's memory with and without gc.freeze; title as procinfo's. The
 * issue's targets: a heavy-import script at least this many times faster
 * than cold; the launcher's overhead on -c pass under this many ms. */
#define PYPRELOAD_MIN_SPEEDUP 30.0
#define PYPRELOAD_MAX_OVERHEAD_MS 5.0
void section_pypreload(const struct options *o, struct rows *out, char *title, size_t size);
void pypreload_summary(const struct rows *r);    /* the target lines */
/* pytest: one test and one test file of a generated suite re-run by
 * python3 -m pytest cold, by procwait-python without and with its pytest
 * tier, and by pytest.main() repeated in one process (the reference);
 * title as procinfo's. The targets: the tier within this ratio of the
 * in-process run, and at least this many times faster than cold; the
 * generated library's import, cold, at least this long (the suite's
 * premise, not a target of procwait's). */
#define PYTEST_TIER_MAX_RATIO 1.3
#define PYTEST_TIER_MIN_SPEEDUP 25.0
#define PYTEST_LIB_MIN_IMPORT_MS 700.0
void section_pytest(const struct options *o, struct rows *out, char *title, size_t size);
void pytest_summary(const struct rows *r);       /* the target lines */
/* python: procwait.process_iter(attrs) over every process at least this
 * many times faster than psutil.process_iter(attrs), same values. */
#define PROCESS_ITER_MIN_VS_PSUTIL 3.0
/* python: wait gives the reference (waitpid-blocking) and procinfo the
 * psutil oneshot figures when those sections ran (either may be NULL). */
void section_python(const struct options *o, const struct rows *wait,
                    const struct rows *procinfo, struct rows *out);

/* sec-python.c: run bench/peers/oneshot_psutil.py on process target (its
 * own process when target <= 0) into row (ROW_ONESHOT or ROW_PROCINFO:
 * oneshot_us, separate_us, speedup, impl; or missing with the reason). */
void peer_psutil_oneshot(const struct options *o, pid_t target, struct row *row);

/* The child of the wait model: sleep, print the CLOCK_MONOTONIC ns stamp
 * on fd 1, _exit(0). Used through --child by the Python peers. */
int child_main(double seconds);

/* Run fn(arg, row) in a forked worker with PROCWAIT_BACKEND=backend (NULL
 * leaves it unset), so that every row gets a fresh backend probe; the row
 * comes back through a pipe. The main process never calls the library. */
void run_in_worker(const char *backend, void (*fn)(const struct options *, struct row *),
                   const struct options *o, struct row *row);
/* The same for a worker that fills n rows at once (rows measured side by
 * side, in the same process). */
void run_rows_in_worker(const char *backend,
                        void (*fn)(const struct options *, struct row *, int),
                        const struct options *o, struct row *rows, int n);

/* stats.c: shared by the sections */
/* Mark row missing, with the reason. */
void row_why(struct row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* rows[from..to] that are still ok[] become missing, with msg; ok[] 0. */
void rows_why(struct row *rows, int *ok, int from, int to, const char *msg);
/* A regular file we may execute. */
int bench_executable(const char *path);
/* SIGTERM to a server we started, then reap it; *pid becomes 0. */
void bench_stop_server(pid_t *pid);
/* When path is a libtool wrapper script (an uninstalled program of the
 * build tree), the real binary: .libs/NAME beside it, into real. 1 when
 * it is one, else 0. */
int bench_libtool_binary(const char *path, const char *name, char *real, size_t size);
/* The Python sections' processes and files (sec-pypreload.c,
 * sec-pytest.c). A wait status as a shell shows it: the exit code, or
 * 128 + the signal. */
int bench_status_code(int st);
/* Spawn argv in env with stdin from devnull, stderr on devnull (quiet) or
 * ours, stdout into out (size bytes, "" when NULL: devnull). Its exit
 * code, or -1. */
int bench_capture(int devnull, char *const argv[], char *const env[], int quiet, char *out,
                  size_t size);
/* name with its path into out: as it is when it holds a '/', else from
 * PATH. 0, or -1 when there is none. */
int bench_which(const char *name, char *out, size_t size);
/* procwait-python: PROCWAIT_PYTHON_LAUNCHER, else ../tools/procwait-python
 * from this program's directory (past a .libs/), else procwait-python
 * beside it; a libtool wrapper is replaced by its .libs binary when that
 * runs python (note says which ran). 0, or -1 with err set. */
struct bench_launcher {
	char path[4096];
	char note[32];
};
int bench_find_launcher(const struct options *o, const char *python, int devnull,
                        struct bench_launcher *l, char *err, size_t esize);
/* environ without the variables that start with one of drop's prefixes
 * ("NAME="), then add's strings; both lists end with NULL. The array is
 * malloc'd, its strings are environ's and add's. NULL when out of memory. */
char **bench_env(const char *const drop[], char *const add[]);
int bench_write_file(const char *path, const char *text);   /* 0 or -1 */
/* A file of procwait-python's server, python-*SUFFIX under
 * dir/procwait-* /, into out ("" and -1 when none). */
int bench_server_file(const char *dir, const char *suffix, char *out, size_t size);
/* The last line of a file (a server's last word), "" when none. */
void bench_last_line(const char *path, char *out, size_t size);
/* n runs of argv in env, one after the other, each to exit 0; ms per run
 * in lat. 0, or -1 with err set. */
int bench_spawn_runs(char *const argv[], char *const env[], const posix_spawn_file_actions_t *fa,
                     int n, double *lat, char *err, size_t esize);
/* Descriptors a worker inherited (its result pipe) must not reach the
 * servers, which outlive their starter: close-on-exec for all but 0-2. */
void bench_cloexec_all(void);
/* SIGTERM every process of ours whose command line names dir (the
 * launcher's servers, which are nobody's children), then wait for them
 * (SIGKILL after 3 s). */
void bench_kill_dir_processes(const char *dir);
/* dir, its files and its subdirectories down to levels below it. */
void bench_remove_dir(const char *dir, int levels);
struct rusage;
int64_t now_ns(void);
double ru_cpu_s(const struct rusage *ru);   /* user + system seconds */
void sleep_ns(int64_t ns);
double median(double *v, int n);          /* sorts v */
double percentile(double *v, int n, double p);   /* nearest rank; sorts v */
/* A child that sleeps in pause() until stop_sleeper() (or its parent's
 * death) kills it: a process to read information about. -1 on error,
 * with errno set. */
pid_t spawn_sleeper(void);
void stop_sleeper(pid_t pid);

#endif
