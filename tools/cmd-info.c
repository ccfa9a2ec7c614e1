/* SPDX-License-Identifier: MIT */
/* procwait info [--json] PID...: psutil's fields of each process. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct info {
	pid_t pid;
	procwait_snapshot s;
	char exe[PATH_MAX + 1], cwd[PATH_MAX + 1];
	int exe_r, cwd_r;
	char *cmdline;    /* NUL-terminated arguments, back to back */
	const char *name; /* psutil's name: s.name, or in cmdline */
	int cmdline_r;    /* bytes, or -errno */
};

/* ---- output helpers ------------------------------------------------------ */

/* The shortest %g form that reads back as the same double (Python's repr). */
static void put_double(double v)
{
	char buf[40];
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* keep it a float, as psutil's values are */
	fputs(buf, stdout);
	if (!strpbrk(buf, ".eEn"))
		fputs(".0", stdout);
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* A JSON string: control characters escaped; a byte that is not UTF-8 is
 * written as the code point of the same value (Latin-1), so the output is
 * always valid JSON for strict parsers too. That is lossy (a raw 0xff and
 * a real U+00FF look alike); psutil's surrogateescape would need lone
 * surrogates, which strict parsers reject. */
static void put_json_str(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	putchar('"');
	while (i < n) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", stdout);
		} else if (c == '\t') {
			fputs("\\t", stdout);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else if ((k = utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, k, stdout);
			i += k;
			continue;
		} else {
			printf("\\u%04x", c);
		}
		i++;
	}
	putchar('"');
}

/* Text: control characters (and the backslash) as C escapes, every other
 * byte as it is. */
static void put_text_str(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\\')
			fputs("\\\\", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* Why a field has no value, for the text output. */
static const char *why(int err)
{
	if (err == PROCWAIT_EZOMBIE)
		return "(zombie)";
	if (err == -EACCES)
		return "(access denied)";
	return "(unknown)";
}

/* ---- gathering ------------------------------------------------------------ */

/* psutil's Process.name(): the kernel cuts names at 15 bytes; when the
 * first argument's base name starts with them, that is the name. */
static void psutil_name(struct info *in)
{
	const char *base;
	size_t len = strlen(in->s.name);

	in->name = in->s.name;
	if (len < 15 || in->cmdline_r <= 0)
		return;
	base = strrchr(in->cmdline, '/');
	base = base ? base + 1 : in->cmdline;
	if (strncmp(base, in->s.name, len) == 0)
		in->name = base;
}

static int gather(procwait_procinfo *pi, struct info *in)
{
	int r, size = 4096;

	in->s.size = sizeof(in->s);
	r = procwait_procinfo_snapshot(pi, PROCWAIT_INFO_ALL, &in->s);
	if (r < 0 && r != -EACCES)
		return r;
	in->exe_r = procwait_procinfo_exe(pi, in->exe, sizeof(in->exe));
	in->cwd_r = procwait_procinfo_cwd(pi, in->cwd, sizeof(in->cwd));
	for (;;) {
		char *nb = realloc(in->cmdline, (size_t)size);

		if (!nb)
			return -ENOMEM;
		in->cmdline = nb;
		in->cmdline_r = procwait_procinfo_cmdline(pi, in->cmdline, (size_t)size);
		if (in->cmdline_r != -ERANGE || size > INT_MAX / 2)
			break;
		size *= 2;
	}
	/* the process went away meanwhile: say so rather than half an answer */
	if (in->exe_r == -ESRCH || in->cwd_r == -ESRCH || in->cmdline_r == -ESRCH)
		return -ESRCH;
	psutil_name(in);
	return 0;
}

static int has(const struct info *in, uint64_t bits)
{
	return (in->s.present & bits) == bits;
}

/* ---- JSON ------------------------------------------------------------------- */

static void json_u64_obj(const char *key, const char *const *names, const uint64_t *v,
                         int n, int ok)
{
	int i;

	printf(",\"%s\":", key);
	if (!ok) {
		fputs("null", stdout);
		return;
	}
	putchar('{');
	for (i = 0; i < n; i++)
		printf("%s\"%s\":%llu", i ? "," : "", names[i], (unsigned long long)v[i]);
	putchar('}');
}

static void json_ids(const char *key, const procwait_ids *ids, int ok)
{
	static const char *const names[] = { "real", "effective", "saved" };
	uint64_t v[3] = { ids->real, ids->effective, ids->saved };

	json_u64_obj(key, names, v, 3, ok);
}

static void json_str_or_null(const char *key, const char *s, int r)
{
	printf(",\"%s\":", key);
	if (r < 0)
		fputs("null", stdout);
	else
		put_json_str(s, (size_t)r);
}

static void print_json(const struct info *in)
{
	static const char *const mem[] = { "rss", "vms", "shared", "text", "data" };
	static const char *const ctx[] = { "voluntary", "involuntary" };
	const procwait_snapshot *s = &in->s;
	int i;

	printf("{\"pid\":%ld", (long)in->pid);
	fputs(",\"name\":", stdout);
	if (has(in, PROCWAIT_INFO_NAME))
		put_json_str(in->name, strlen(in->name));
	else
		fputs("null", stdout);
	json_str_or_null("exe", in->exe, in->exe_r);
	fputs(",\"cmdline\":", stdout);
	if (in->cmdline_r < 0) {
		fputs("null", stdout);
	} else {
		putchar('[');
		for (i = 0; i < in->cmdline_r;) {
			size_t len = strlen(in->cmdline + i);

			if (i)
				putchar(',');
			put_json_str(in->cmdline + i, len);
			i += (int)len + 1;
		}
		putchar(']');
	}
	json_str_or_null("cwd", in->cwd, in->cwd_r);
	if (has(in, PROCWAIT_INFO_PPID))
		printf(",\"ppid\":%ld", (long)s->ppid);
	else
		fputs(",\"ppid\":null", stdout);
	fputs(",\"status\":", stdout);
	if (has(in, PROCWAIT_INFO_STATUS))
		put_json_str(s->status, strlen(s->status));
	else
		fputs("null", stdout);
	fputs(",\"cpu_times\":", stdout);
	if (has(in, PROCWAIT_INFO_CPU_TIMES)) {
		fputs("{\"user\":", stdout);
		put_double(s->cpu_times.user);
		fputs(",\"system\":", stdout);
		put_double(s->cpu_times.system);
		fputs(",\"children_user\":", stdout);
		put_double(s->cpu_times.children_user);
		fputs(",\"children_system\":", stdout);
		put_double(s->cpu_times.children_system);
		fputs(",\"iowait\":", stdout);
		if (has(in, PROCWAIT_INFO_IOWAIT))
			put_double(s->cpu_times.iowait);
		else
			fputs("null", stdout);
		putchar('}');
	} else {
		fputs("null", stdout);
	}
	fputs(",\"create_time\":", stdout);
	if (has(in, PROCWAIT_INFO_CREATE_TIME))
		put_double(s->create_time);
	else
		fputs("null", stdout);
	fputs(",\"terminal\":", stdout);
	if (has(in, PROCWAIT_INFO_TERMINAL) && s->terminal[0])
		put_json_str(s->terminal, strlen(s->terminal));
	else
		fputs("null", stdout);
	if (has(in, PROCWAIT_INFO_NUM_THREADS))
		printf(",\"num_threads\":%lld", (long long)s->num_threads);
	else
		fputs(",\"num_threads\":null", stdout);
	if (has(in, PROCWAIT_INFO_NICE))
		printf(",\"nice\":%d", (int)s->nice);
	else
		fputs(",\"nice\":null", stdout);
	{
		uint64_t v[5] = { s->memory_info.rss, s->memory_info.vms, s->memory_info.shared,
		                  s->memory_info.text, s->memory_info.data };
		uint64_t c[2] = { s->num_ctx_switches.voluntary, s->num_ctx_switches.involuntary };

		json_u64_obj("memory_info", mem, v, 5, has(in, PROCWAIT_INFO_MEMORY_INFO));
		json_u64_obj("num_ctx_switches", ctx, c, 2, has(in, PROCWAIT_INFO_CTX_SWITCHES));
	}
	json_ids("uids", &s->uids, has(in, PROCWAIT_INFO_UIDS));
	json_ids("gids", &s->gids, has(in, PROCWAIT_INFO_GIDS));
	fputs("}\n", stdout);
}

/* ---- text ------------------------------------------------------------------- */

static void text_denied(const char *key, const struct info *in, uint64_t bits)
{
	printf("%s: %s\n", key, (in->s.denied & bits) ? why(-EACCES) : why(0));
}

static void text_str(const char *key, const char *s, int r)
{
	printf("%s: ", key);
	if (r < 0)
		fputs(why(r), stdout);
	else
		put_text_str(s, (size_t)r);
	putchar('\n');
}

static void print_text(const struct info *in, int first)
{
	const procwait_snapshot *s = &in->s;
	int i;

	if (!first)
		putchar('\n');
	printf("pid: %ld\n", (long)in->pid);
	if (has(in, PROCWAIT_INFO_NAME))
		text_str("name", in->name, (int)strlen(in->name));
	else
		text_denied("name", in, PROCWAIT_INFO_NAME);
	text_str("exe", in->exe, in->exe_r);
	fputs("cmdline:", stdout);
	if (in->cmdline_r < 0) {
		printf(" %s", why(in->cmdline_r));
	} else {
		for (i = 0; i < in->cmdline_r;) {
			size_t len = strlen(in->cmdline + i);
			int plain = len > 0 && !strpbrk(in->cmdline + i, " \t\n'\"\\$`");

			fputs(plain ? " " : " '", stdout);
			put_text_str(in->cmdline + i, len);
			if (!plain)
				putchar('\'');
			i += (int)len + 1;
		}
	}
	putchar('\n');
	text_str("cwd", in->cwd, in->cwd_r);
	if (has(in, PROCWAIT_INFO_PPID))
		printf("ppid: %ld\n", (long)s->ppid);
	else
		text_denied("ppid", in, PROCWAIT_INFO_PPID);
	if (has(in, PROCWAIT_INFO_STATUS))
		printf("status: %s\n", s->status);
	else
		text_denied("status", in, PROCWAIT_INFO_STATUS);
	if (has(in, PROCWAIT_INFO_CPU_TIMES)) {
		printf("cpu_times: user=%.2f system=%.2f children_user=%.2f children_system=%.2f",
		       s->cpu_times.user, s->cpu_times.system, s->cpu_times.children_user,
		       s->cpu_times.children_system);
		if (has(in, PROCWAIT_INFO_IOWAIT))
			printf(" iowait=%.2f\n", s->cpu_times.iowait);
		else
			printf(" iowait=%s\n", why(0));
	} else {
		text_denied("cpu_times", in, PROCWAIT_INFO_CPU_TIMES);
	}
	if (has(in, PROCWAIT_INFO_CREATE_TIME))
		printf("create_time: %.2f\n", s->create_time);
	else
		text_denied("create_time", in, PROCWAIT_INFO_CREATE_TIME);
	if (has(in, PROCWAIT_INFO_TERMINAL))
		printf("terminal: %s\n", s->terminal[0] ? s->terminal : "none");
	else
		text_denied("terminal", in, PROCWAIT_INFO_TERMINAL);
	if (has(in, PROCWAIT_INFO_NUM_THREADS))
		printf("num_threads: %lld\n", (long long)s->num_threads);
	else
		text_denied("num_threads", in, PROCWAIT_INFO_NUM_THREADS);
	if (has(in, PROCWAIT_INFO_NICE))
		printf("nice: %d\n", (int)s->nice);
	else
		text_denied("nice", in, PROCWAIT_INFO_NICE);
	if (has(in, PROCWAIT_INFO_MEMORY_INFO))
		printf("memory_info: rss=%llu vms=%llu shared=%llu text=%llu data=%llu\n",
		       (unsigned long long)s->memory_info.rss, (unsigned long long)s->memory_info.vms,
		       (unsigned long long)s->memory_info.shared,
		       (unsigned long long)s->memory_info.text,
		       (unsigned long long)s->memory_info.data);
	else
		text_denied("memory_info", in, PROCWAIT_INFO_MEMORY_INFO);
	if (has(in, PROCWAIT_INFO_CTX_SWITCHES))
		printf("num_ctx_switches: voluntary=%llu involuntary=%llu\n",
		       (unsigned long long)s->num_ctx_switches.voluntary,
		       (unsigned long long)s->num_ctx_switches.involuntary);
	else
		text_denied("num_ctx_switches", in, PROCWAIT_INFO_CTX_SWITCHES);
	if (has(in, PROCWAIT_INFO_UIDS))
		printf("uids: real=%u effective=%u saved=%u\n", (unsigned)s->uids.real,
		       (unsigned)s->uids.effective, (unsigned)s->uids.saved);
	else
		text_denied("uids", in, PROCWAIT_INFO_UIDS);
	if (has(in, PROCWAIT_INFO_GIDS))
		printf("gids: real=%u effective=%u saved=%u\n", (unsigned)s->gids.real,
		       (unsigned)s->gids.effective, (unsigned)s->gids.saved);
	else
		text_denied("gids", in, PROCWAIT_INFO_GIDS);
}

/* ---- the command ------------------------------------------------------------ */

#ifdef HAVE_PROCFS
#define INFO_HELP_AVAILABILITY ""
#else
#define INFO_HELP_AVAILABILITY \
	"\n" \
	"Not available on this system: it needs a Linux-style /proc.\n"
#endif

void cli_usage_info(FILE *out)
{
	fprintf(out,
	        "Usage: %s info [--json] PID...\n"
	        "\n"
	        "Show what psutil would tell about each PID: name, exe, cmdline, cwd, ppid,\n"
	        "status, cpu_times, create_time, terminal, num_threads, nice, memory_info,\n"
	        "num_ctx_switches, uids and gids, read in one pass over /proc/PID.\n"
	        "\n"
	        "      --json   one JSON object per line, keyed by psutil's field names;\n"
	        "               null where a field is unknown or access is denied\n"
	        "  -h, --help   show this help\n"
	        "\n"
	        "Exit status: 0 success, 2 on a usage error or a bad PID (malformed,\n"
	        "nonexistent, or hidden), 1 on another failure.\n"
	        INFO_HELP_AVAILABILITY,
	        cli_progname);
}

int cmd_info(int argc, char **argv)
{
	int json = 0, first = 1, rc = CLI_EXIT_OK, i;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_usage_info(stdout);
			return CLI_EXIT_OK;
		}
		if (!strcmp(a, "--json")) {
			json = 1;
			continue;
		}
		fprintf(stderr, "%s: unknown option '%s'\nTry '%s info --help'.\n",
		        cli_progname, a, cli_progname);
		return CLI_EXIT_USAGE;
	}
	if (i >= argc) {
		fprintf(stderr, "%s info: no PID given\nTry '%s info --help'.\n", cli_progname,
		        cli_progname);
		return CLI_EXIT_USAGE;
	}
	/* Every PID is checked before anything is printed. */
	for (int j = i; j < argc; j++) {
		if (cli_parse_pid(argv[j], &pid) < 0) {
			fprintf(stderr, "%s: invalid PID '%s': want a positive process id\n",
			        cli_progname, argv[j]);
			return CLI_EXIT_USAGE;
		}
	}
	for (; i < argc; i++) {
		procwait_procinfo *pi = NULL;
		struct info *in;
		int r;

		cli_parse_pid(argv[i], &pid);
		in = calloc(1, sizeof(*in));
		if (!in) {
			fprintf(stderr, "%s: out of memory\n", cli_progname);
			return CLI_EXIT_FAILURE;
		}
		in->pid = pid;
		r = procwait_procinfo_open(pid, 0, &pi);
#ifndef HAVE_PROCFS
		/* Not built here: the library answers -ENOSYS for every PID, so
		 * say it once. (On Linux it means /proc is not mounted, and the
		 * per-PID message below says so.) */
		if (r == -ENOSYS) {
			fprintf(stderr, "%s info: not available on this system: process "
			        "information needs a Linux-style /proc\n", cli_progname);
			free(in);
			return CLI_EXIT_FAILURE;
		}
#endif
		if (r == 0) {
			r = gather(pi, in);
			procwait_procinfo_close(pi);
		}
		if (r == 0) {
			if (json)
				print_json(in);
			else
				print_text(in, first);
			first = 0;
		} else if (r == -ESRCH) {
			fprintf(stderr, "%s: no such process: %ld\n", cli_progname, (long)pid);
			rc = CLI_EXIT_USAGE;
		} else if (r == -EACCES) {
			fprintf(stderr, "%s: process %ld: permission denied (hidden by /proc's hidepid?)\n",
			        cli_progname, (long)pid);
			rc = CLI_EXIT_USAGE;
		} else {
			fprintf(stderr, "%s: process %ld: %s\n", cli_progname, (long)pid,
			        procwait_strerror(r));
			if (rc == CLI_EXIT_OK)
				rc = CLI_EXIT_FAILURE;
		}
		free(in->cmdline);
		free(in);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on standard output\n", cli_progname);
		return CLI_EXIT_FAILURE;
	}
	return rc;
}
