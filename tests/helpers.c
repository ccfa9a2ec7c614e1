/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "helpers.h"

void pwt_nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* In a forked child: Check's runner installs SIGTERM/SIGINT/SIGALRM
 * handlers that kill the whole process group; a test child must die of a
 * signal, not pass it on. Reset every caught signal to its default. */
static void child_defaults(void)
{
	struct sigaction sa;
	int sig;

	for (sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
		    sa.sa_handler != SIG_DFL) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			sigaction(sig, &sa, NULL);
		}
	}
}

/* fork(2) for test children: signals stay blocked until the child has
 * reset its handlers, so a signal sent right after fork returns cannot run
 * Check's inherited handler in the child. */
static pid_t fork_clean(void)
{
	sigset_t all, old;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_defaults();
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

pid_t pwt_fork(void)
{
	return fork_clean();
}

pid_t pwt_child_exit(int delay_ms, int code)
{
	pid_t pid = fork_clean();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (delay_ms > 0)
			pwt_nap_ms(delay_ms);
		_exit(code);
	}
	return pid;
}

void pwt_core_cleanup(pid_t pid)
{
	char path[96];

	snprintf(path, sizeof(path), "/tmp/pwt-core.%d/core", (int)pid);
	unlink(path);
	snprintf(path, sizeof(path), "/tmp/pwt-core.%d/core.%d", (int)pid, (int)pid);
	unlink(path);
	snprintf(path, sizeof(path), "/tmp/pwt-core.%d", (int)pid);
	rmdir(path);
}

pid_t pwt_child_signal(int delay_ms, int signo, int core)
{
	pid_t pid = fork_clean();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl;

		rl.rlim_cur = rl.rlim_max = core ? RLIM_INFINITY : 0;
		if (core) {
			/* A core must be allowed for CLD_DUMPED: lift the
			 * soft limit as far as the hard one goes, and keep
			 * the dump out of the source tree. */
			char dir[64];

			getrlimit(RLIMIT_CORE, &rl);
			rl.rlim_cur = rl.rlim_max;
			/* A directory of its own: with core_pattern "core",
			 * dumps of concurrent suites into one directory race
			 * for the same file and one of them fails. */
			snprintf(dir, sizeof(dir), "/tmp/pwt-core.%d", (int)getpid());
			if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || chdir(dir) < 0)
				_exit(99);
			unlink("core");   /* left by an earlier run with this pid */
		}
		setrlimit(RLIMIT_CORE, &rl);
		prctl(PR_SET_DUMPABLE, 1);
		if (delay_ms > 0)
			pwt_nap_ms(delay_ms);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, signo);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		/* An ignored SIGQUIT is inherited from a shell's background
		 * job: take the default back, or raise() returns. */
		signal(signo, SIG_DFL);
		raise(signo);
		_exit(98);
	}
	return pid;
}

pid_t pwt_child_sleep_forever(void)
{
	pid_t pid = fork_clean();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/* A grandchild that naps delay_ms then exits with code; its parent (the
 * middle process, returned in *mid) exits at once, so the grandchild is
 * reparented, or, with keep, pauses without reaping it until killed. */
static pid_t grandchild(int delay_ms, int code, int keep, pid_t *mid)
{
	int p[2];
	pid_t grand = -1;

	ck_assert_int_eq(pipe(p), 0);
	*mid = fork_clean();
	ck_assert_int_ge(*mid, 0);
	if (*mid == 0) {
		pid_t g = fork();

		if (g == 0) {
			close(p[0]);
			close(p[1]);
			pwt_nap_ms(delay_ms);
			_exit(code);
		}
		if (write(p[1], &g, sizeof(g)) != (ssize_t)sizeof(g))
			_exit(1);
		while (keep)
			pause();
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &grand, sizeof(grand)), (int)sizeof(grand));
	close(p[0]);
	return grand;
}

pid_t pwt_nonchild(int delay_ms)
{
	pid_t mid, grand = grandchild(delay_ms, 0, 0, &mid);

	pwt_reap(mid);
	return grand;
}

pid_t pwt_nonchild_zombie(pid_t *parent)
{
	/* The middle process keeps the grandchild's zombie: it neither reaps
	 * nor ignores SIGCHLD, it waits to be killed. */
	pid_t mid, grand = grandchild(0, 5, 1, &mid);

	*parent = mid;
	/* Let the grandchild become a zombie. */
	for (int i = 0; i < 2000; i++) {
		char path[64], buf[256];
		FILE *f;
		char *rp;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)grand);
		f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			fclose(f);
			buf[n] = '\0';
			rp = strrchr(buf, ')');
			if (rp && rp[1] == ' ' && rp[2] == 'Z')
				break;
		}
		pwt_nap_ms(1);
	}
	return grand;
}

void pwt_release_zombie(pid_t parent)
{
	kill(parent, SIGKILL);
	pwt_reap(parent);
}

int pwt_reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return st;
}

int pwt_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

long long pwt_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

void pwt_assert_no_children(void)
{
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

int pwt_backend_is(const char *name)
{
	return strcmp(procwait_backend_name(), name) == 0;
}

int pwt_backend_has_fd(void)
{
	return pwt_backend_is("pidfd") || pwt_backend_is("kqueue");
}

long long pwt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pwt_exhaust_fds(void)
{
	struct rlimit rl;
	int fd = dup(0);

	/* Everything from the current lowest free fd on is out of reach. */
	if (fd < 0)
		fd = 3;
	else
		close(fd);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = (rlim_t)fd;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_lt(dup(0), 0);
	ck_assert_int_eq(errno, EMFILE);
}

const char *pwt_backend(void)
{
	const char *b = getenv("PROCWAIT_BACKEND");

	return b && *b ? b : NULL;
}

int pwt_run(Suite *s)
{
	const char *want = pwt_backend();
	SRunner *sr;
	int failed;

	if (want) {
		/* Probe in a child, so that the runner itself stays
		 * unprobed and every forked test probes afresh. */
		int p[2];
		char got[32] = "";
		pid_t pid;

		if (pipe(p) < 0)
			return 99;
		pid = fork();
		if (pid == 0) {
			const char *name = procwait_backend_name();

			if (write(p[1], name, strlen(name)) < 0)
				_exit(1);
			_exit(0);
		}
		close(p[1]);
		if (read(p[0], got, sizeof(got) - 1) < 0)
			got[0] = '\0';
		close(p[0]);
		pwt_reap(pid);
		if (strcmp(got, want) != 0) {
			printf("SKIP: backend '%s' is not available here (the library chose '%s')\n",
			       want, got);
			return 77;
		}
		printf("backend: %s\n", got);
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

int pwt_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int pwt_write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = write(fd, (const char *)buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

int pwt_set_last_pid(pid_t last)
{
	char buf[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	int n, r = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%d", (int)last);
	if (write(fd, buf, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}
