/* SPDX-License-Identifier: MIT */
/*
 * Section "scale": N children exit at random times within D; the waiter
 * reports every exit. Waiter CPU per exit and latency p50/p99 show the cost
 * per exit as N grows: O(1) for a procwait wait set (epoll over pidfds),
 * O(n) for the libuv-style peer model "sigchld-scan" (a SIGCHLD handler
 * with a self-pipe, then waitpid(WNOHANG) over every watched child). The
 * reference, "epoll-pidfd-floor", is the bare kernel mechanism with nothing
 * around it: what this machine can do at that N. An exit's latency is
 * taken when the waiter holds its status, in every row alike.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <procwait/procwait.h>

#include "bench.h"

/* Shared with the children: when to exit (offset from start) and the stamp
 * each writes just before _exit. */
struct board {
	volatile int64_t start_ns;
	volatile int64_t stamp[];
};

struct run {
	const struct options *o;
	int n;
	struct board *b;
	int64_t *offset;
	pid_t *pid;
	double *lat_us;
	int go[2];
};

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru_cpu_s(&ru);
}

/* Fork the n children; each blocks on the go pipe, then sleeps until its
 * instant, stamps and exits. */
static int spawn_children(struct run *r, struct row *row)
{
	int i;

	if (pipe2(r->go, O_CLOEXEC) < 0) {
		snprintf(row->missing, sizeof(row->missing), "pipe: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < r->n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			snprintf(row->missing, sizeof(row->missing), "fork of child %d: %s", i,
			         strerror(errno));
			return -1;
		}
		if (pid == 0) {
			char c;

			close(r->go[1]);
			while (read(r->go[0], &c, 1) < 0 && errno == EINTR)
				;
			sleep_ns(r->b->start_ns + r->offset[i] - now_ns());
			r->b->stamp[i] = now_ns();
			_exit(0);
		}
		r->pid[i] = pid;
	}
	close(r->go[0]);
	return 0;
}

static void release_children(struct run *r)
{
	r->b->start_ns = now_ns();
	close(r->go[1]);   /* EOF: every child starts its clock */
}

static void finish(struct run *r, struct row *row, double cpu0, double cpu1)
{
	row->cpu_us_per_exit = (cpu1 - cpu0) * 1e6 / r->n;
	row->lat_p99 = percentile(r->lat_us, r->n, 99);
	row->lat_p50 = percentile(r->lat_us, r->n, 50);
}

static void by_waitset(struct run *r, struct row *row)
{
	procwait_waitset *set = NULL;
	procwait_event ev[64];
	procwait_proc *p;
	const char *want = getenv("PROCWAIT_BACKEND");
	double cpu0;
	int i, k, got = 0, rc;

	if (want && strcmp(procwait_backend_name(), want) != 0) {
		snprintf(row->missing, sizeof(row->missing), "the %s backend is not available here", want);
		return;
	}
	snprintf(row->impl, sizeof(row->impl), "procwait_waitset, %s backend", procwait_backend_name());
	if (spawn_children(r, row) < 0)
		return;
	rc = procwait_waitset_new(0, &set);
	for (i = 0; rc == 0 && i < r->n; i++) {
		rc = procwait_proc_open(r->pid[i], 0, &p);
		if (rc == 0)
			rc = procwait_waitset_add(set, p, (void *)(intptr_t)i);
	}
	if (rc < 0) {
		snprintf(row->missing, sizeof(row->missing), "setting up the set: %s", procwait_strerror(rc));
		release_children(r);
		return;
	}
	cpu0 = cpu_now();
	release_children(r);
	while (got < r->n) {
		k = procwait_waitset_wait(set, ev, 64, -1);
		if (k <= 0) {
			snprintf(row->missing, sizeof(row->missing), "waitset_wait: %s", procwait_strerror(k));
			return;
		}
		for (i = 0; i < k; i++) {
			int idx = (int)(intptr_t)ev[i].data;

			r->lat_us[idx] = (double)(now_ns() - r->b->stamp[idx]) / 1e3;
			procwait_proc_close(ev[i].proc);
			got++;
		}
	}
	finish(r, row, cpu0, cpu_now());
	procwait_waitset_free(set);
}

/* The floor: pidfds in an epoll set, waitpid on readiness, no library. */
static void by_epoll_floor(struct run *r, struct row *row)
{
	struct epoll_event ev[64];
	int ep, *fd, i, k, got = 0;
	double cpu0;

	snprintf(row->impl, sizeof(row->impl), "pidfd_open + epoll_wait + waitpid, bare");
#ifdef SYS_pidfd_open
	fd = calloc((size_t)r->n, sizeof(*fd));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!fd || ep < 0) {
		snprintf(row->missing, sizeof(row->missing), "setup: %s", strerror(errno));
		free(fd);
		return;
	}
	if (spawn_children(r, row) < 0) {
		free(fd);
		return;
	}
	for (i = 0; i < r->n; i++) {
		struct epoll_event e;

		fd[i] = (int)syscall(SYS_pidfd_open, r->pid[i], 0);
		e.events = EPOLLIN;
		e.data.u32 = (uint32_t)i;
		if (fd[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd[i], &e) < 0) {
			snprintf(row->missing, sizeof(row->missing), "no pidfds here: %s", strerror(errno));
			release_children(r);
			free(fd);
			return;
		}
	}
	cpu0 = cpu_now();
	release_children(r);
	while (got < r->n) {
		k = epoll_wait(ep, ev, 64, -1);
		for (i = 0; i < k; i++) {
			int idx = (int)ev[i].data.u32;

			while (waitpid(r->pid[idx], NULL, 0) < 0 && errno == EINTR)
				;
			r->lat_us[idx] = (double)(now_ns() - r->b->stamp[idx]) / 1e3;
			epoll_ctl(ep, EPOLL_CTL_DEL, fd[idx], NULL);
			close(fd[idx]);
			got++;
		}
	}
	finish(r, row, cpu0, cpu_now());
	close(ep);
	free(fd);
#else
	(void)ev; (void)ep; (void)fd; (void)i; (void)k; (void)got; (void)cpu0;
	snprintf(row->missing, sizeof(row->missing), "no pidfd_open system call here");
#endif
}

static int sigpipe_w = -1;

static void on_sigchld(int sig)
{
	int e = errno;

	(void)sig;
	if (write(sigpipe_w, "", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
	errno = e;
}

static void by_sigchld_scan(struct run *r, struct row *row)
{
	struct sigaction sa;
	struct pollfd pfd;
	char drain[256];
	int sp[2], i, left = r->n, *alive;
	double cpu0;

	snprintf(row->impl, sizeof(row->impl), "SIGCHLD + self-pipe + waitpid(WNOHANG) scan");
	alive = calloc((size_t)r->n, sizeof(*alive));
	if (!alive || pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(row->missing, sizeof(row->missing), "setup: %s", strerror(errno));
		free(alive);
		return;
	}
	sigpipe_w = sp[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	if (spawn_children(r, row) < 0) {
		free(alive);
		return;
	}
	for (i = 0; i < r->n; i++)
		alive[i] = 1;
	cpu0 = cpu_now();
	release_children(r);
	pfd.fd = sp[0];
	pfd.events = POLLIN;
	while (left > 0) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		while (read(sp[0], drain, sizeof(drain)) > 0)
			;
		/* The peer model's cost: every watched child, every wake-up. */
		for (i = 0; i < r->n; i++) {
			if (alive[i] && waitpid(r->pid[i], NULL, WNOHANG) == r->pid[i]) {
				r->lat_us[i] = (double)(now_ns() - r->b->stamp[i]) / 1e3;
				alive[i] = 0;
				left--;
			}
		}
	}
	finish(r, row, cpu0, cpu_now());
	free(alive);
}

static void measure(const struct options *o, struct row *row,
                    void (*how)(struct run *, struct row *))
{
	struct run r;
	struct rlimit rl;
	size_t board_size;
	int i;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.n = row->n;
	/* a pidfd per child, and room to spare */
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)r.n + 64 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	board_size = sizeof(struct board) + (size_t)r.n * sizeof(int64_t);
	r.b = mmap(NULL, board_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	r.offset = calloc((size_t)r.n, sizeof(*r.offset));
	r.pid = calloc((size_t)r.n, sizeof(*r.pid));
	r.lat_us = calloc((size_t)r.n, sizeof(*r.lat_us));
	if (r.b == MAP_FAILED || !r.offset || !r.pid || !r.lat_us) {
		snprintf(row->missing, sizeof(row->missing), "out of memory for N=%d", r.n);
		return;
	}
	srand((unsigned)now_ns());
	for (i = 0; i < r.n; i++)
		r.offset[i] = (int64_t)((double)rand() / RAND_MAX * o->duration_s * 1e9);
	how(&r, row);
	/* whatever went wrong, leave no child behind */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	munmap(r.b, board_size);
	free(r.offset);
	free(r.pid);
	free(r.lat_us);
}

static void w_waitset(const struct options *o, struct row *row)
{
	measure(o, row, by_waitset);
}

static void w_sigchld_scan(const struct options *o, struct row *row)
{
	measure(o, row, by_sigchld_scan);
}

static void w_epoll_floor(const struct options *o, struct row *row)
{
	measure(o, row, by_epoll_floor);
}

void section_scale(const struct options *o, struct rows *out)
{
	static const struct {
		const char *name, *backend;
		void (*fn)(const struct options *, struct row *);
	} model[] = {
		{ "epoll-pidfd-floor", NULL, w_epoll_floor },   /* the reference */
		{ "procwait-waitset", "pidfd", w_waitset },
		{ "procwait-waitset-poll", "poll", w_waitset },
		{ "sigchld-scan", NULL, w_sigchld_scan },
	};
	const int nmodel = (int)(sizeof(model) / sizeof(model[0]));
	int first = out->n, s, m, i;
	/* One run per rep (one with --quick): each figure is the median over
	 * the reps, as in the wait section; a single p99 is noisy on a
	 * shared machine. */
	int reps = o->quick ? 1 : o->reps;

	for (s = 0; s < o->nscale; s++) {
		for (m = 0; m < nmodel; m++) {
			struct row *row = rows_add(out, ROW_SCALE, model[m].name);
			double cpu[64], p50[64], p99[64];
			int k;

			row->n = o->scale[s];
			for (k = 0; k < reps && !row->missing[0]; k++) {
				run_in_worker(model[m].backend, model[m].fn, o, row);
				cpu[k] = row->cpu_us_per_exit;
				p50[k] = row->lat_p50;
				p99[k] = row->lat_p99;
			}
			if (!row->missing[0]) {
				row->cpu_us_per_exit = median(cpu, reps);
				row->lat_p50 = median(p50, reps);
				row->lat_p99 = median(p99, reps);
			}
		}
	}
	/* ratio: p99 latency against the floor at the same N; growth: against
	 * the same row at the smallest N */
	for (i = first; i < out->n; i++) {
		struct row *row = &out->v[i];
		const struct row *ref = &out->v[first + (i - first) / nmodel * nmodel];
		const struct row *base = &out->v[first + (i - first) % nmodel];

		row->ratio = !row->missing[0] && !ref->missing[0] && ref->lat_p99 > 0 ?
		             row->lat_p99 / ref->lat_p99 : -1;
		row->p99_growth = !row->missing[0] && !base->missing[0] && base->lat_p99 > 0 ?
		                  row->lat_p99 / base->lat_p99 : -1;
		row->cpu_growth = !row->missing[0] && !base->missing[0] && base->cpu_us_per_exit > 0 ?
		                  row->cpu_us_per_exit / base->cpu_us_per_exit : -1;
	}
}
