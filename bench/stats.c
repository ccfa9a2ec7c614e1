/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include "bench.h"

extern char **environ;

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double ru_cpu_s(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

void sleep_ns(int64_t ns)
{
	struct timespec ts;

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double percentile(double *v, int n, double p)
{
	int rank;

	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	rank = (int)(p / 100.0 * n + 0.999999);   /* nearest rank, 1-based */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

pid_t spawn_sleeper(void)
{
	pid_t pid, parent = getpid();

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
#ifdef PR_SET_PDEATHSIG
	/* no orphan if the bench dies before stop_sleeper() */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	if (getppid() != parent)
		_exit(0);
	for (;;)
		pause();
}

void stop_sleeper(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void row_why(struct row *row, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(row->missing, sizeof(row->missing), fmt, ap);
	va_end(ap);
}

void rows_why(struct row *rows, int *ok, int from, int to, const char *msg)
{
	int i;

	for (i = from; i <= to; i++)
		if (ok[i]) {
			row_why(&rows[i], "%s", msg);
			ok[i] = 0;
		}
}

int bench_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void bench_stop_server(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = 0;
}

int bench_libtool_binary(const char *path, const char *name, char *real, size_t size)
{
	char head[2048], *slash;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	head[n] = '\0';
	if (!strstr(head, "libtool") || !strstr(head, "wrapper script"))
		return 0;
	if (snprintf(real, size, "%s", path) >= (int)size || !(slash = strrchr(real, '/')))
		return 0;
	return snprintf(slash + 1, size - (size_t)(slash + 1 - real), ".libs/%s", name) <
	       (int)(size - (size_t)(slash + 1 - real));
}

/* ---- processes and files of the Python sections --------------------------------- */
/* sec-pypreload.c and sec-pytest.c: a private directory, programs run in
 * it, the launcher found, its servers ended. */

int bench_status_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int bench_capture(int devnull, char *const argv[], char *const env[], int quiet, char *out,
                  size_t size)
{
	posix_spawn_file_actions_t fa;
	size_t got = 0;
	int p[2] = { -1, -1 }, st = -1;
	pid_t pid;

	if (out)
		out[0] = '\0';
	if (out && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (posix_spawn_file_actions_init(&fa) != 0) {
		if (out) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, out ? p[1] : devnull, 1);
	if (quiet)
		posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, env) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	if (out) {
		close(p[1]);
		while (pid > 0 && got < size - 1) {
			ssize_t k = read(p[0], out + got, size - 1 - got);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		out[got] = '\0';
		close(p[0]);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int bench_which(const char *name, char *out, size_t size)
{
	const char *p = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(out, size, "%s", name);
		return bench_executable(out) ? 0 : -1;
	}
	while (p && *p) {
		const char *end = strchr(p, ':');
		int n = end ? (int)(end - p) : (int)strlen(p);

		snprintf(out, size, "%.*s/%s", n, p, name);
		if (n > 0 && bench_executable(out))
			return 0;
		p = end ? end + 1 : NULL;
	}
	out[0] = '\0';
	return -1;
}

/* A libtool wrapper script (the build tree) runs a shell before the
 * launcher: take the binary in .libs/ instead when it runs here (on the
 * library this process's LD_LIBRARY_PATH finds), as installed. */
static void unwrap(const char *python, int devnull, struct bench_launcher *l)
{
	char real[4096];
	char *argv[4] = { real, "-c", "pass", NULL };
	char *env[] = { "PROCWAIT_DISABLE=1", NULL, NULL, NULL };
	char penv[4200], ldenv[4200];
	const char *ld = getenv("LD_LIBRARY_PATH");

	if (!bench_libtool_binary(l->path, "procwait-python", real, sizeof(real)))
		return;
	/* PROCWAIT_DISABLE: the launcher execs the interpreter at once */
	snprintf(penv, sizeof(penv), "PROCWAIT_PYTHON=%s", python);
	env[1] = penv;
	if (ld) {
		snprintf(ldenv, sizeof(ldenv), "LD_LIBRARY_PATH=%s", ld);
		env[2] = ldenv;
	}
	if (bench_executable(real) && bench_capture(devnull, argv, env, 1, NULL, 0) == 0) {
		snprintf(l->path, sizeof(l->path), "%s", real);
		snprintf(l->note, sizeof(l->note), ", build tree .libs binary");
	} else {
		snprintf(l->note, sizeof(l->note), ", libtool wrapper (a shell)");
	}
}

/* dir/name into out; 0 when it does not fit. */
static int join_path(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return n > 0 && (size_t)n < size;
}

int bench_find_launcher(const struct options *o, const char *python, int devnull,
                        struct bench_launcher *l, char *err, size_t esize)
{
	const char *e = getenv("PROCWAIT_PYTHON_LAUNCHER");
	char dir[4096], *slash;
	size_t len;

	l->note[0] = '\0';
	if (e && *e) {
		snprintf(l->path, sizeof(l->path), "%s", e);
		if (!bench_executable(l->path)) {
			snprintf(err, esize, "PROCWAIT_PYTHON_LAUNCHER=%.100s is not executable", e);
			return -1;
		}
		unwrap(python, devnull, l);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", o->self);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		len = strlen(dir);
		if (len >= 6 && !strcmp(dir + len - 6, "/.libs"))
			dir[len - 6] = '\0';
		if (join_path(l->path, sizeof(l->path), dir, "../tools/procwait-python") &&
		    bench_executable(l->path)) {
			unwrap(python, devnull, l);
			return 0;
		}
		if (join_path(l->path, sizeof(l->path), dir, "procwait-python") &&
		    bench_executable(l->path)) {
			unwrap(python, devnull, l);
			return 0;
		}
	}
	l->path[0] = '\0';
	snprintf(err, esize, "procwait-python is not found beside this program "
	         "(set PROCWAIT_PYTHON_LAUNCHER)");
	return -1;
}

static int dropped(const char *e, const char *const drop[])
{
	size_t i;

	for (i = 0; drop[i]; i++)
		if (!strncmp(e, drop[i], strlen(drop[i])))
			return 1;
	return 0;
}

char **bench_env(const char *const drop[], char *const add[])
{
	size_t n = 0, na = 0, k = 0, i;
	char **env;

	while (environ[n])
		n++;
	while (add[na])
		na++;
	env = calloc(n + na + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++)
		if (!dropped(environ[i], drop))
			env[k++] = environ[i];
	for (i = 0; i < na; i++)
		env[k++] = add[i];
	env[k] = NULL;
	return env;
}

int bench_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	int rc;

	if (!f)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int bench_server_file(const char *dir, const char *suffix, char *out, size_t size)
{
	char sub[600];
	struct dirent *d, *e;
	size_t ls = strlen(suffix);
	DIR *top, *in;

	out[0] = '\0';
	top = opendir(dir);
	if (!top)
		return -1;
	while (!out[0] && (d = readdir(top)) != NULL) {
		if (strncmp(d->d_name, "procwait-", 9) != 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name);
		in = opendir(sub);
		if (!in)
			continue;
		while ((e = readdir(in)) != NULL) {
			size_t n = strlen(e->d_name);

			if (!strncmp(e->d_name, "python-", 7) && n > ls &&
			    !strcmp(e->d_name + n - ls, suffix)) {
				snprintf(out, size, "%s/%s", sub, e->d_name);
				break;
			}
		}
		closedir(in);
	}
	closedir(top);
	return out[0] ? 0 : -1;
}

void bench_last_line(const char *path, char *out, size_t size)
{
	char buf[4096], *p;
	size_t len;
	ssize_t n;
	off_t end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ?
	          end - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	p = strrchr(buf, '\n');
	p = p ? p + 1 : buf;
	len = strlen(p) < size ? strlen(p) : size - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

int bench_spawn_runs(char *const argv[], char *const env[], const posix_spawn_file_actions_t *fa,
                     int n, double *lat, char *err, size_t esize)
{
	int64_t t0;
	int i, r, st;
	pid_t pid;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		r = posix_spawn(&pid, argv[0], fa, NULL, argv, env);
		if (r != 0) {
			snprintf(err, esize, "posix_spawn %.100s: %s", argv[0], strerror(r));
			return -1;
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		lat[i] = (double)(now_ns() - t0) / 1e6;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(err, esize, "%.60s %.40s exited with status %d", argv[0],
			         argv[1] ? argv[1] : "", bench_status_code(st));
			return -1;
		}
	}
	return 0;
}

void bench_cloexec_all(void)
{
	struct dirent *d;
	DIR *dp = opendir("/proc/self/fd");

	if (!dp)
		return;
	while ((d = readdir(dp)) != NULL) {
		int fd = atoi(d->d_name);

		if (fd > 2 && fd != dirfd(dp))
			fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	}
	closedir(dp);
}

/* Whether pid is gone (or a zombie that someone else reaps). */
static int gone(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

void bench_kill_dir_processes(const char *dir)
{
	static char buf[1 << 16];
	pid_t pids[64];
	int np = 0, i, t;
	struct dirent *d;
	DIR *proc;

	if (!dir[0] || !(proc = opendir("/proc")))
		return;
	while ((d = readdir(proc)) != NULL && np < 64) {
		char path[300];
		struct stat st;
		ssize_t n;
		long pid;
		char *end;
		int fd;

		pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) < 0 || st.st_uid != geteuid()) {
			close(fd);
			continue;
		}
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n > 0 && memmem(buf, (size_t)n, dir, strlen(dir)) &&
		    kill((pid_t)pid, SIGTERM) == 0)
			pids[np++] = (pid_t)pid;
	}
	closedir(proc);
	for (i = 0; i < np; i++) {
		for (t = 0; t < 300 && !gone(pids[i]); t++)
			sleep_ns(10000000);
		if (!gone(pids[i]))
			kill(pids[i], SIGKILL);
	}
}

void bench_remove_dir(const char *dir, int levels)
{
	char path[4096];
	struct dirent *d;
	struct stat st;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp)) != NULL) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (levels > 0)
				bench_remove_dir(path, levels - 1);
		} else {
			unlink(path);
		}
	}
	closedir(dp);
	rmdir(dir);
}
