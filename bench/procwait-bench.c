/* SPDX-License-Identifier: MIT */
/*
 * procwait-bench: context switches, latency and speed of waiting for
 * processes, side by side with the physical limit and with peers, in one
 * run. Every figure comes with its ratio to the section's reference; never
 * a lone absolute time. See README.md, "Reading procwait-bench".
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <procwait/procwait.h>

#include "bench.h"

#ifndef PEERS_DIR
#define PEERS_DIR "bench/peers"
#endif

static const struct { const char *name; unsigned bit; } sections[] = {
	{ "wait", SEC_WAIT }, { "scale", SEC_SCALE }, { "procinfo", SEC_PROCINFO },
	{ "forkserver", SEC_FORKSERVER }, { "python", SEC_PYTHON },
	{ "pypreload", SEC_PYPRELOAD | SEC_PYTEST }, { "pytest", SEC_PYTEST },
};

struct row *rows_add(struct rows *r, int kind, const char *name)
{
	struct row *row;

	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 16;
		struct row *v = realloc(r->v, (size_t)cap * sizeof(*v));

		if (!v) {
			fprintf(stderr, "procwait-bench: out of memory\n");
			exit(1);
		}
		r->v = v;
		r->cap = cap;
	}
	row = &r->v[r->n++];
	memset(row, 0, sizeof(*row));
	row->kind = kind;
	row->ratio = -1;
	snprintf(row->name, sizeof(row->name), "%s", name);
	return row;
}

static void all_missing(struct row *rows, int n, const char *what, const char *why)
{
	int i;

	for (i = 0; i < n; i++)
		snprintf(rows[i].missing, sizeof(rows[i].missing), "%s%s", what, why);
}

/* The worker of run_in_worker (fn1, one row) and run_rows_in_worker (fnn). */
static void worker(const char *backend, void (*fn1)(const struct options *, struct row *),
                   void (*fnn)(const struct options *, struct row *, int),
                   const struct options *o, struct row *rows, int nrows)
{
	size_t size = (size_t)nrows * sizeof(*rows);
	char why[32];
	int p[2], st = -1;
	pid_t pid;
	ssize_t n = 0, k;

	if (pipe(p) < 0) {
		all_missing(rows, nrows, "pipe: ", strerror(errno));
		return;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		all_missing(rows, nrows, "fork: ", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		if (backend)
			setenv("PROCWAIT_BACKEND", backend, 1);
		else
			unsetenv("PROCWAIT_BACKEND");
		if (fn1)
			fn1(o, rows);
		else
			fnn(o, rows, nrows);
		if (write(p[1], rows, size) != (ssize_t)size)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	while (n < (ssize_t)size) {
		k = read(p[0], (char *)rows + n, size - (size_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += k;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)size) {
		snprintf(why, sizeof(why), "%d)", st);
		all_missing(rows, nrows, "the measuring process died (status ", why);
	}
}

void run_in_worker(const char *backend, void (*fn)(const struct options *, struct row *),
                   const struct options *o, struct row *row)
{
	worker(backend, fn, NULL, o, row, 1);
}

void run_rows_in_worker(const char *backend,
                        void (*fn)(const struct options *, struct row *, int),
                        const struct options *o, struct row *rows, int n)
{
	worker(backend, NULL, fn, o, rows, n);
}

/* ---- output ---------------------------------------------------------------- */

static void fmt_ratio(char *buf, size_t size, double r)
{
	if (r < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2fx", r);
}

static void table(const char *title, const char *ref, const struct rows *r)
{
	char ratio[32];
	int i;

	if (r->n == 0)
		return;
	printf("\n== %s (reference: %s)\n", title, ref);
	switch (r->v[0].kind) {
	case ROW_WAIT:
		printf("%-22s %8s %8s %10s %12s %12s %12s %8s\n", "row", "vol.cs", "invol.cs",
		       "cpu_s", "lat.med_us", "lat.p90_us", "lat.max_us", "ratio");
		break;
	case ROW_SCALE:
		printf("%-22s %6s %12s %12s %12s %8s %10s %10s\n", "row", "N", "cpu_us/exit",
		       "lat.p50_us", "lat.p99_us", "ratio", "p99 vs N0", "cpu vs N0");
		break;
	case ROW_PROCINFO:
		printf("%-22s %9s %8s %8s  %-16s %-8s %s\n", "row", "us/op", "ratio", "speedup",
		       "target", "note", "what");
		break;
	case ROW_FORKSERVER:
		printf("%-22s %2s %10s %10s %9s %7s %9s  %-14s %-8s %s\n", "row", "K", "lat.p50_us",
		       "lat.p99_us", "runs/s", "ratio", "vs.py-mp", "target", "note", "what");
		break;
	case ROW_PYPRELOAD:
		printf("%-23s %9s %9s %7s %8s %9s  %-14s %-8s %s\n", "row", "p50_ms", "p99_ms",
		       "ratio", "speedup", "over_ms", "target", "note", "what");
		break;
	default:
		break;
	}
	for (i = 0; i < r->n; i++) {
		const struct row *w = &r->v[i];

		fmt_ratio(ratio, sizeof(ratio), w->ratio);
		if (w->missing[0]) {
			printf("%-22s %s%s\n", w->name, w->kind == ROW_SCALE ? "" : "missing: ",
			       w->missing);
			continue;
		}
		switch (w->kind) {
		case ROW_WAIT:
			printf("%-22s %8.0f %8.0f %10.6f %12.1f %12.1f %12.1f %8s\n", w->name, w->vol,
			       w->invol, w->cpu_s, w->lat_median, w->lat_p90, w->lat_max, ratio);
			break;
		case ROW_SCALE: {
			char g1[32], g2[32];

			fmt_ratio(g1, sizeof(g1), w->p99_growth);
			fmt_ratio(g2, sizeof(g2), w->cpu_growth);
			printf("%-22s %6d %12.2f %12.1f %12.1f %8s %10s %10s\n", w->name, w->n,
			       w->cpu_us_per_exit, w->lat_p50, w->lat_p99, ratio, g1, g2);
			break;
		}
		case ROW_ONESHOT:
			printf("%-22s oneshot %.2f us, separate %.2f us per six fields", w->name,
			       w->oneshot_us, w->separate_us);
			if (w->speedup > 0)
				printf(", speedup %.2fx", w->speedup);
			if (w->ratio > 0)
				printf(", %.2fx faster than psutil's oneshot%s", 1.0 / w->ratio,
				       w->vs_rival > 0 ? " (same rounds)" : "");
			printf(" (%s)\n", w->impl);
			break;
		case ROW_WALK:
			printf("%-22s procwait %.2f ms, psutil %.2f ms per walk of %d processes: "
			       "%.2fx faster (target >= %.0fx: %s) (%s)\n", w->name, w->ms_p50,
			       w->rival_ms, w->n, w->vs_rival, PROCESS_ITER_MIN_VS_PSUTIL,
			       w->met ? "met" : "not met", w->impl);
			break;
		case ROW_PROCINFO: {
			char sp[32];

			fmt_ratio(sp, sizeof(sp), w->speedup > 0 ? w->speedup : -1);
			printf("%-22s %9.3f %8s %8s  %-16s %-8s %s", w->name, w->us_per_op, ratio, sp,
			       w->target[0] ? w->target : "-",
			       w->met < 0 ? "" : w->met ? "met" : "not met", w->impl);
			if (w->oneshot_us > 0 && w->separate_us > 0)
				printf("; oneshot %.3f, separate %.3f us", w->oneshot_us, w->separate_us);
			printf("\n");
			break;
		}
		case ROW_FORKSERVER: {
			char vs[32];

			fmt_ratio(vs, sizeof(vs), w->vs_rival);
			printf("%-22s %2d %10.1f %10.1f %9.1f %7s %9s  %-14s %-8s %s\n", w->name, w->n,
			       w->lat_p50, w->lat_p99, w->per_s, ratio, vs, w->target[0] ? w->target : "-",
			       w->met < 0 ? "" : w->met ? "met" : "not met", w->impl);
			break;
		}
		case ROW_PYPRELOAD: {
			char sp[32], over[32];

			if (w->n == 3) {   /* memory */
				printf("%-23s Private_Dirty %.0f kB, Shared %.0f kB, ratio %s", w->name,
				       w->private_dirty_kb, w->shared_kb, ratio);
				if (w->ratio >= 0)
					printf(", Private_Dirty %+.0f kB over the reference",
					       w->pd_over_ref_kb);
				printf(" (%s)\n", w->impl);
				break;
			}
			fmt_ratio(sp, sizeof(sp), w->speedup);
			if (w->n == 2 && w->target[0] && w->met >= 0)
				snprintf(over, sizeof(over), "%+.2f", w->overhead_ms);
			else
				snprintf(over, sizeof(over), "-");
			printf("%-23s %9.2f %9.2f %7s %8s %9s  %-14s %-8s %s\n", w->name, w->ms_p50,
			       w->ms_p99, ratio, sp, over, w->target[0] ? w->target : "-",
			       w->met < 0 ? "" : w->met ? "met" : "NOT met", w->impl);
			break;
		}
		}
	}
}

/* JSON strings here hold no control characters; escape quotes and '\'. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static void json_double(double v)
{
	if (v < 0 || !isfinite(v))
		printf("null");
	else
		printf("%.6g", v);
}

static void json_rows(const char *name, const struct rows *r, int last)
{
	int i;

	printf("\"%s\": [", name);
	for (i = 0; i < r->n; i++) {
		const struct row *w = &r->v[i];

		printf("%s{\"name\": ", i ? ", " : "");
		json_string(w->name);
		if (w->kind == ROW_SCALE)
			printf(", \"n\": %d", w->n);
		if (w->kind == ROW_FORKSERVER)
			printf(", \"in_flight\": %d", w->n);
		if (w->kind == ROW_PYPRELOAD)
			printf(", \"group\": %d", w->n);
		if (w->missing[0]) {
			printf(", \"missing\": ");
			json_string(w->missing);
			printf("}");
			continue;
		}
		if (w->impl[0]) {
			printf(", \"impl\": ");
			json_string(w->impl);
		}
		switch (w->kind) {
		case ROW_WAIT:
			printf(", \"vol_ctx_switches\": %.0f, \"invol_ctx_switches\": %.0f, \"cpu_s\": ",
			       w->vol, w->invol);
			json_double(w->cpu_s);
			printf(", \"latency_us\": {\"median\": ");
			json_double(w->lat_median);
			printf(", \"p90\": ");
			json_double(w->lat_p90);
			printf(", \"max\": ");
			json_double(w->lat_max);
			printf("}");
			break;
		case ROW_SCALE:
			printf(", \"cpu_us_per_exit\": ");
			json_double(w->cpu_us_per_exit);
			printf(", \"latency_us\": {\"p50\": ");
			json_double(w->lat_p50);
			printf(", \"p99\": ");
			json_double(w->lat_p99);
			printf("}, \"p99_vs_smallest_n\": ");
			json_double(w->p99_growth);
			printf(", \"cpu_vs_smallest_n\": ");
			json_double(w->cpu_growth);
			break;
		case ROW_ONESHOT:
			printf(", \"oneshot_us\": ");
			json_double(w->oneshot_us);
			printf(", \"separate_us\": ");
			json_double(w->separate_us);
			printf(", \"speedup\": ");
			json_double(w->speedup > 0 ? w->speedup : -1);
			break;
		case ROW_WALK:
			printf(", \"processes\": %d, \"procwait_ms\": ", w->n);
			json_double(w->ms_p50);
			printf(", \"psutil_ms\": ");
			json_double(w->rival_ms);
			printf(", \"vs_psutil\": ");
			json_double(w->vs_rival);
			printf(", \"target\": ");
			json_string(w->target);
			printf(", \"met\": %s", w->met ? "true" : "false");
			break;
		case ROW_PROCINFO:
			printf(", \"us_per_op\": ");
			json_double(w->us_per_op > 0 ? w->us_per_op : -1);
			if (w->oneshot_us > 0 && w->separate_us > 0) {
				printf(", \"oneshot_us\": ");
				json_double(w->oneshot_us);
				printf(", \"separate_us\": ");
				json_double(w->separate_us);
			}
			if (w->speedup > 0) {
				printf(", \"speedup\": ");
				json_double(w->speedup);
			}
			if (w->target[0]) {
				printf(", \"target\": ");
				json_string(w->target);
				printf(", \"met\": %s", w->met < 0 ? "null" : w->met ? "true" : "false");
			}
			break;
		case ROW_FORKSERVER:
			printf(", \"latency_us\": {\"p50\": ");
			json_double(w->lat_p50);
			printf(", \"p99\": ");
			json_double(w->lat_p99);
			printf("}, \"runs_per_s\": ");
			json_double(w->per_s);
			printf(", \"vs_python_mp\": ");
			json_double(w->vs_rival);
			printf(", \"vs_python_mp_script\": ");
			json_double(w->speedup);
			if (w->target[0]) {
				printf(", \"target\": ");
				json_string(w->target);
				printf(", \"met\": %s", w->met < 0 ? "null" : w->met ? "true" : "false");
			}
			break;
		case ROW_PYPRELOAD:
			if (w->n == 3) {
				printf(", \"private_dirty_kb\": ");
				json_double(w->private_dirty_kb);
				printf(", \"shared_kb\": ");
				json_double(w->shared_kb);
				if (w->ratio >= 0)
					printf(", \"private_dirty_over_ref_kb\": %.6g", w->pd_over_ref_kb);
				break;
			}
			printf(", \"wall_ms\": {\"p50\": ");
			json_double(w->ms_p50);
			printf(", \"p99\": ");
			json_double(w->ms_p99);
			printf("}");
			if (w->speedup > 0) {
				printf(", \"speedup\": ");
				json_double(w->speedup);
			}
			if (w->n == 2 && w->met >= 0)
				printf(", \"overhead_ms\": %.6g, \"overhead_rounds_ms\": %.6g",
				       w->overhead_ms, w->overhead_rounds_ms);
			if (w->target[0]) {
				printf(", \"target\": ");
				json_string(w->target);
				printf(", \"met\": %s", w->met < 0 ? "null" : w->met ? "true" : "false");
			}
			break;
		}
		printf(", \"ratio\": ");
		json_double(w->ratio);
		printf("}");
	}
	printf("]%s", last ? "" : ", ");
}

/* The backend the library picks here, asked in a worker. */
static void w_backend(const struct options *o, struct row *row)
{
	(void)o;
	snprintf(row->impl, sizeof(row->impl), "%s", procwait_backend_name());
}

static void print_machine(const struct options *o, int json)
{
	struct utsname u;
	struct row probe;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(&probe, 0, sizeof(probe));
	run_in_worker(getenv("PROCWAIT_BACKEND"), w_backend, o, &probe);
	uname(&u);
	if (json) {
		printf("\"machine\": {\"cpus\": %ld, \"kernel\": ", cpus);
		json_string(u.release);
		printf(", \"arch\": ");
		json_string(u.machine);
		printf(", \"procwait\": ");
		json_string(procwait_version_string());
		printf(", \"backend\": ");
		json_string(probe.impl);
		printf(", \"duration_s\": %g, \"reps\": %d}, ", o->duration_s, o->reps);
	} else {
		printf("procwait-bench %s: %ld CPUs, %s %s, backend %s; child lives %g s, %d reps\n",
		       procwait_version_string(), cpus, u.sysname, u.release, probe.impl,
		       o->duration_s, o->reps);
	}
}

/* ---- options -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: procwait-bench [OPTION]...\n"
	        "Measure waiting for processes (context switches, latency, CPU, side by side\n"
	        "with blocking waitpid, the physical limit) and reading their information\n"
	        "(side by side with one pread of /proc/PID/stat), and the Python peers.\n"
	        "\n"
	        "Sections:\n"
	        "  wait        one child lives D seconds; waitpid, procwait-pidfd, procwait-poll\n"
	        "  scale       a wait set over N children exiting within D\n"
	        "  procinfo    a sleeping child's stat through a procinfo handle: refresh,\n"
	        "              snapshot, six fields in a oneshot scope and without, psutil\n"
	        "  forkserver  /bin/true per request: posix_spawn, procwait serve through the\n"
	        "              client API and procwait-run, a preloaded child of the bench's\n"
	        "              own fork server, CPython's multiprocessing forkserver\n"
	        "  python      CPython's, psutil's and procwait's waits and oneshots, and\n"
	        "              process_iter(attrs) over every process, procwait's and psutil's\n"
	        "  pypreload   procwait-python (python3 on a preloading fork server): a\n"
	        "              heavy-import script against python3 cold, the launcher's\n"
	        "              own cost over the C client's, a child's memory with and\n"
	        "              without gc.freeze (--only pypreload runs 'pytest' too)\n"
	        "  pytest      one test and one file of a generated suite re-run by\n"
	        "              python3 -m pytest cold, by procwait-python without and\n"
	        "              with its pytest tier, and by pytest.main() in one process\n"
	        "\n"
	        "  --quick              fewer repetitions (about a minute in all)\n"
	        "  --json               one JSON object instead of tables\n"
	        "  --duration SECONDS   child lifetime, and the spread of exits in 'scale' (2)\n"
	        "  --reps N             repetitions per row (5; quick: 2, and 1 in 'scale');\n"
	        "                       every figure is the median over the repetitions\n"
	        "                       ('procinfo' times batches instead: 9 rounds, quick 7)\n"
	        "                       ('forkserver', 'pypreload': 9 rounds of batches,\n"
	        "                       quick 5; 'pytest': 7, quick 3)\n"
	        "  --scale N[,N...]     wait-set sizes for 'scale' (10,100,1000)\n"
	        "  --only SECTION[,...] wait, scale, procinfo, forkserver, python, pypreload,\n"
	        "                       pytest\n"
	        "  -h, --help           this help\n"
	        "  -V, --version        the version, and exit\n"
	        "\n"
	        "Environment: PROCWAIT_BENCH_PYTHON (interpreter for the peers),\n"
	        "PROCWAIT_BENCH_PEERS (directory of the peer scripts), PROCWAIT_TOOL and\n"
	        "PROCWAIT_RUN (the procwait and procwait-run programs; by default next to\n"
	        "this one, else in PATH), PROCWAIT_PYTHON_LAUNCHER (procwait-python; by\n"
	        "default next to this one).\n");
}

static int parse_list(const char *s, struct options *o)
{
	char *end;
	long v;

	o->nscale = 0;
	while (*s) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (end == s || errno || v < 1 || v > 20000 ||
		    (size_t)o->nscale >= sizeof(o->scale) / sizeof(o->scale[0]))
			return -1;
		o->scale[o->nscale++] = (int)v;
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return o->nscale ? 0 : -1;
}

static int parse_only(const char *s, struct options *o)
{
	char buf[256], *tok, *save = NULL;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", s);
	o->sections = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (!strcmp(tok, sections[i].name))
				break;
		if (i == sizeof(sections) / sizeof(sections[0]))
			return -1;
		o->sections |= sections[i].bit;
	}
	return o->sections ? 0 : -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int i, reps_set = 0;
	ssize_t n;

	memset(o, 0, sizeof(*o));
	o->duration_s = 2;
	o->reps = 5;
	o->scale[0] = 10;
	o->scale[1] = 100;
	o->scale[2] = 1000;
	o->nscale = 3;
	o->sections = SEC_WAIT | SEC_SCALE | SEC_PROCINFO | SEC_FORKSERVER | SEC_PYTHON |
	              SEC_PYPRELOAD | SEC_PYTEST;
	o->python = getenv("PROCWAIT_BENCH_PYTHON");
	if (!o->python || !*o->python)
		o->python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
	o->peers_dir = getenv("PROCWAIT_BENCH_PEERS");
	if (!o->peers_dir || !*o->peers_dir)
		o->peers_dir = PEERS_DIR;
	n = readlink("/proc/self/exe", o->self, sizeof(o->self) - 1);
	if (n <= 0)
		snprintf(o->self, sizeof(o->self), "%s", argv[0]);
	else
		o->self[n] = '\0';
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("procwait-bench %s (library %s)\n", PACKAGE_VERSION,
			       procwait_version_string());
			exit(0);
		} else if (!strcmp(a, "--quick")) {
			o->quick = 1;
		} else if (!strcmp(a, "--json")) {
			o->json = 1;
		} else if (!strcmp(a, "--duration") && v) {
			o->duration_s = strtod(v, &end);
			if (*end || !(o->duration_s > 0 && o->duration_s <= 3600))
				goto bad;
			i++;
		} else if (!strcmp(a, "--reps") && v) {
			long r = strtol(v, &end, 10);

			if (*end || r < 1 || r > 64)
				goto bad;
			o->reps = (int)r;
			reps_set = 1;
			i++;
		} else if (!strcmp(a, "--scale") && v) {
			if (parse_list(v, o) < 0)
				goto bad;
			i++;
		} else if (!strcmp(a, "--only") && v) {
			if (parse_only(v, o) < 0)
				goto bad;
			i++;
		} else {
			goto bad;
		}
		continue;
bad:
		fprintf(stderr, "procwait-bench: bad option or value: %s%s%s\n", a, v ? " " : "",
		        v ? v : "");
		usage(stderr);
		return -1;
	}
	if (o->quick && !reps_set)
		o->reps = 2;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct rows wait = { 0 }, scale = { 0 }, procinfo = { 0 }, forkserver = { 0 };
	struct rows python = { 0 }, pypreload = { 0 }, pytest = { 0 };
	char procinfo_title[256] = "procinfo", forkserver_title[512] = "forkserver";
	char pypreload_title[512] = "pypreload", pytest_title[512] = "pytest";

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(strtod(argv[2], NULL));
	if (parse_options(argc, argv, &o) < 0)
		return 2;
	if (o.json)
		printf("{");
	print_machine(&o, o.json);
	if (o.sections & SEC_WAIT)
		section_wait(&o, &wait);
	if (o.sections & SEC_SCALE)
		section_scale(&o, &scale);
	if (o.sections & SEC_PROCINFO)
		section_procinfo(&o, &procinfo, procinfo_title, sizeof(procinfo_title));
	if (o.sections & SEC_FORKSERVER)
		section_forkserver(&o, &forkserver, forkserver_title, sizeof(forkserver_title));
	if (o.sections & SEC_PYTHON)
		section_python(&o, (o.sections & SEC_WAIT) ? &wait : NULL,
		               (o.sections & SEC_PROCINFO) ? &procinfo : NULL, &python);
	if (o.sections & SEC_PYPRELOAD)
		section_pypreload(&o, &pypreload, pypreload_title, sizeof(pypreload_title));
	if (o.sections & SEC_PYTEST)
		section_pytest(&o, &pytest, pytest_title, sizeof(pytest_title));
	if (o.json) {
		printf("\"sections\": {");
		json_rows("wait", &wait, 0);
		json_rows("scale", &scale, 0);
		json_rows("procinfo", &procinfo, 0);
		json_rows("forkserver", &forkserver, 0);
		json_rows("python", &python, 0);
		json_rows("pypreload", &pypreload, 0);
		json_rows("pytest", &pytest, 1);
		printf("}}\n");
	} else {
		table("wait: one child lives D seconds", "waitpid-blocking, the physical limit", &wait);
		table("scale: a wait set over N children exiting within D",
		      "epoll-pidfd-floor at the same N, the bare kernel", &scale);
		table(procinfo_title,
		      "bare-pread-stat, one pread of /proc/PID/stat on an open fd: the physical limit",
		      &procinfo);
		if (procinfo.n)
			printf("targets: procwait-refresh-stat within %.1fx of bare-pread-stat; six "
			       "fields in a oneshot scope >= %.0fx faster than without (psutil "
			       "reports %.2fx)\n", PROCINFO_REFRESH_MAX_RATIO,
			       PROCINFO_ONESHOT_MIN_SPEEDUP, PSUTIL_ONESHOT_REPORTED);
		table(forkserver_title, "fork-exec, posix_spawn of /bin/true", &forkserver);
		forkserver_summary(&forkserver);
		table("python peers, same child model", "waitpid-blocking (wait section)", &python);
		table(pypreload_title, "python3-cold; the -c pass rows: c-client-c-pass; memory: "
		      "child-mem-gc-freeze", &pypreload);
		pypreload_summary(&pypreload);
		table(pytest_title, "pytest-inproc-*, pytest.main() again in one process; "
		      "heavylib-import: none", &pytest);
		pytest_summary(&pytest);
	}
	free(wait.v);
	free(scale.v);
	free(procinfo.v);
	free(forkserver.v);
	free(python.v);
	free(pypreload.v);
	free(pytest.v);
	return 0;
}
