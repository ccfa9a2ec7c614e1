/* SPDX-License-Identifier: MIT */
/*
 * Section "python": the Python peers (the scripts in bench/peers), run with the same
 * child model as the wait section, and psutil's oneshot() on a sleeping
 * child as in the procinfo section (whose measurement is reused when that
 * section ran), and process_iter(attrs) over every process against
 * psutil's. A peer that cannot run says so in its row ("missing");
 * nothing is faked or dropped.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bench.h"

/* The number after "key": in a one-line JSON object; -1 when absent. */
static double json_num(const char *js, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return strtod(p, NULL);
}

/* The string after "key": (no escapes expected); empty when absent. */
static void json_str(const char *js, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p, *e;
	size_t n;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(js, pat);
	if (!p)
		return;
	p = strchr(p + strlen(pat), '"');
	if (!p)
		return;
	e = strchr(++p, '"');
	if (!e)
		return;
	n = (size_t)(e - p) < size - 1 ? (size_t)(e - p) : size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* target > 0: the oneshot peer reads that process instead of its own. */
static void run_peer(const struct options *o, const char *script, int wait_model, pid_t target,
                     struct row *row)
{
	char path[4096], cmd[16384], out[4096];
	struct stat stb;
	size_t got = 0;
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "%s/%s", o->peers_dir, script);
	if (strchr(path, '\'') || strchr(o->self, '\'') || strchr(o->python, '\'')) {
		snprintf(row->missing, sizeof(row->missing), "a path holds a quote: not run");
		return;
	}
	if (stat(path, &stb) < 0) {
		snprintf(row->missing, sizeof(row->missing),
		         "peer script %.100s not found (see PROCWAIT_BENCH_PEERS)", path);
		return;
	}
	if (wait_model)
		snprintf(cmd, sizeof(cmd), "'%s' '%s' --child '%s' --duration %g --reps %d",
		         o->python, path, o->self, o->duration_s, o->reps);
	else
		snprintf(cmd, sizeof(cmd), "'%s' '%s' --reps %d --pid %ld", o->python, path,
		         o->quick ? 500 : 2000, (long)(target > 0 ? target : 0));
	f = popen(cmd, "r");
	if (!f) {
		snprintf(row->missing, sizeof(row->missing), "cannot run %s: %s", o->python, strerror(errno));
		return;
	}
	got = fread(out, 1, sizeof(out) - 1, f);
	out[got] = '\0';
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || got == 0) {
		snprintf(row->missing, sizeof(row->missing), "%s failed (status %d)", script,
		         st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return;
	}
	json_str(out, "missing", row->missing, sizeof(row->missing));
	if (row->missing[0])
		return;
	json_str(out, "impl", row->impl, sizeof(row->impl));
	if (wait_model) {
		row->vol = json_num(out, "vol_ctx_switches");
		row->invol = json_num(out, "invol_ctx_switches");
		row->cpu_s = json_num(out, "cpu_s");
		row->lat_median = json_num(out, "median");
		row->lat_p90 = json_num(out, "p90");
		row->lat_max = json_num(out, "max");
	} else {
		row->oneshot_us = json_num(out, "oneshot_us");
		row->separate_us = json_num(out, "separate_us");
		row->speedup = row->oneshot_us > 0 && row->separate_us > 0 ?
		               row->separate_us / row->oneshot_us : -1;
		/* the procwait peer times psutil's oneshot in the same rounds */
		row->vs_rival = json_num(out, "vs_psutil");
		/* and checks its six values against psutil's */
		if (strstr(out, "\"same_values\": true"))
			strncat(row->impl, "; same values as psutil",
			        sizeof(row->impl) - strlen(row->impl) - 1);
		else if (strstr(out, "\"same_values\": false"))
			strncat(row->impl, "; VALUES DIFFER from psutil's",
			        sizeof(row->impl) - strlen(row->impl) - 1);
	}
}

static int have_python(const struct options *o)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "'%s' -c 'import json, resource' >/dev/null 2>&1", o->python);
	return system(cmd) == 0;
}

static void no_python(const struct options *o, struct row *row)
{
	snprintf(row->missing, sizeof(row->missing),
	         "no usable python3 (%s); apt-get install python3", o->python);
}

void peer_psutil_oneshot(const struct options *o, pid_t target, struct row *row)
{
	if (!have_python(o))
		no_python(o, row);
	else
		run_peer(o, "oneshot_psutil.py", 0, target, row);
}

/* The procinfo section's psutil row, when it has one. */
static const struct row *procinfo_psutil(const struct rows *procinfo)
{
	int i;

	for (i = 0; procinfo && i < procinfo->n; i++)
		if (!strcmp(procinfo->v[i].name, "psutil-oneshot-6"))
			return &procinfo->v[i];
	return NULL;
}

/* process_iter over every process, procwait's and psutil's in the same
 * rounds (bench/peers/process_iter.py): a row per attrs set. */
static void walk_rows(const struct options *o, struct rows *out)
{
	static const char *const names[] = { "python-process-iter-3", "python-process-iter-9" };
	char path[4096], cmd[9000], res[16384], missing[160] = "", impl[64] = "";
	struct stat stb;
	const char *p;
	size_t got = 0;
	FILE *f = NULL;
	int st = -1, i, same;

	snprintf(path, sizeof(path), "%s/process_iter.py", o->peers_dir);
	if (stat(path, &stb) < 0) {
		snprintf(missing, sizeof(missing),
		         "peer script %.100s not found (see PROCWAIT_BENCH_PEERS)", path);
	} else if (!have_python(o)) {
		snprintf(missing, sizeof(missing), "no usable python3 (%.100s)", o->python);
	} else if (strchr(path, '\'') || strchr(o->python, '\'')) {
		snprintf(missing, sizeof(missing), "a path holds a quote: not run");
	} else {
		snprintf(cmd, sizeof(cmd), "'%s' '%s' --reps %d", o->python, path,
		         o->quick ? 10 : 40);
		f = popen(cmd, "r");
	}
	if (f) {
		got = fread(res, 1, sizeof(res) - 1, f);
		st = pclose(f);
	}
	res[got] = '\0';
	if (!missing[0] && (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || !got))
		snprintf(missing, sizeof(missing), "process_iter.py failed (status %d)",
		         st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	if (!missing[0])
		json_str(res, "missing", missing, sizeof(missing));
	json_str(res, "impl", impl, sizeof(impl));
	same = strstr(res, "\"same_values\": true") != NULL;
	p = res;
	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		struct row *row = rows_add(out, ROW_WALK, names[i]);

		row->ratio = -1;
		snprintf(row->target, sizeof(row->target), ">= %.0fx psutil", PROCESS_ITER_MIN_VS_PSUTIL);
		if (missing[0]) {
			snprintf(row->missing, sizeof(row->missing), "%s", missing);
			continue;
		}
		p = p ? strstr(p, "\"procwait_ms\":") : NULL;
		if (!p) {
			snprintf(row->missing, sizeof(row->missing), "process_iter.py: no figures");
			continue;
		}
		row->ms_p50 = json_num(p, "procwait_ms");
		row->rival_ms = json_num(p, "psutil_ms");
		row->vs_rival = json_num(p, "vs_psutil");
		row->n = (int)json_num(res, "processes");
		row->met = same && row->vs_rival >= PROCESS_ITER_MIN_VS_PSUTIL;
		snprintf(row->impl, sizeof(row->impl), "%.40s; %s", impl,
		         same ? "same values" : "VALUES DIFFER");
		p++;
	}
}

void section_python(const struct options *o, const struct rows *wait,
                    const struct rows *procinfo, struct rows *out)
{
	static const struct { const char *name, *script; int wait_model, reusable; } peers[] = {
		{ "python-subprocess", "wait_subprocess.py", 1, 0 },
		{ "python-psutil", "wait_psutil.py", 1, 0 },
		{ "python-procwait-wait", "wait_procwait.py", 1, 0 },
		{ "python-psutil-oneshot", "oneshot_psutil.py", 0, 1 },
		{ "python-procwait-oneshot", "oneshot_procwait.py", 0, 0 },
	};
	const struct row *ref = NULL, *reuse = procinfo_psutil(procinfo), *psutil1 = NULL;
	int python = have_python(o), i;

	for (i = 0; wait && i < wait->n; i++)
		if (!strcmp(wait->v[i].name, "waitpid-blocking") && !wait->v[i].missing[0])
			ref = &wait->v[i];
	for (i = 0; i < (int)(sizeof(peers) / sizeof(peers[0])); i++) {
		struct row *row = rows_add(out, peers[i].wait_model ? ROW_WAIT : ROW_ONESHOT,
		                           peers[i].name);

		if (peers[i].reusable && reuse) {
			/* measured once, in the procinfo section, on its sleeping child */
			snprintf(row->missing, sizeof(row->missing), "%s", reuse->missing);
			snprintf(row->impl, sizeof(row->impl), "%.30s, the procinfo section's run",
			         reuse->impl);
			row->oneshot_us = reuse->oneshot_us;
			row->separate_us = reuse->separate_us;
			row->speedup = reuse->speedup;
		} else if (!python) {
			no_python(o, row);
		} else if (peers[i].wait_model) {
			run_peer(o, peers[i].script, 1, 0, row);
		} else {
			pid_t target = spawn_sleeper();

			if (target < 0)
				snprintf(row->missing, sizeof(row->missing), "fork: %s", strerror(errno));
			else
				run_peer(o, peers[i].script, 0, target, row);
			stop_sleeper(target);
		}
		/* the wait peers against the physical limit; the oneshot
		 * peers against psutil's oneshot (the first of them) */
		if (peers[i].wait_model)
			row->ratio = ref && !row->missing[0] && ref->lat_median > 0 ?
			             row->lat_median / ref->lat_median : -1;
		else if (!psutil1)
			row->ratio = -1, psutil1 = row;
		else if (!row->missing[0] && row->vs_rival > 0)
			row->ratio = 1.0 / row->vs_rival;   /* paired, same rounds */
		else
			row->ratio = !row->missing[0] && !psutil1->missing[0] &&
			             psutil1->oneshot_us > 0 && row->oneshot_us > 0 ?
			             row->oneshot_us / psutil1->oneshot_us : -1;
	}
	walk_rows(o, out);
}
