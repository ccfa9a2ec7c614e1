/* SPDX-License-Identifier: MIT */
/* Self-test of the Linux kqueue emulation (plain C, no Check). Exit 0 when
 * everything holds, 1 at the first failure. Build (see kqueue-emu.c):
 *   gcc -std=gnu11 -Wall -Wextra -Werror -I tests/kqueue-emu \
 *     -o kqemu-selftest tests/kqueue-emu/selftest.c \
 *     tests/kqueue-emu/kqueue-emu.c -Wl,--wrap=close */
#define _GNU_SOURCE
#include <sys/event.h>
#include "kqemu.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "FAIL %s:%d: %s (errno %d: %s)\n",	\
		        __FILE__, __LINE__, #c, errno, strerror(errno));\
		exit(1);						\
	}								\
} while (0)

#define NCHILD 200

static const struct timespec zero = { 0, 0 };
static const struct timespec ten_s = { 10, 0 };

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	CHECK(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;   /* the DIR's own fd */
}

/* Fork a child that waits for EOF on pipe p (closing its own write end),
 * then exits with code (or, when code < 0, waits until killed). */
static pid_t spawn(int code, const int p[2])
{
	pid_t pid = fork();
	char c;

	CHECK(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		if (code < 0)
			for (;;)
				pause();
		_exit(code);
	}
	return pid;
}

/* As spawn(), on a pipe of its own: the child goes when *go is closed. */
static pid_t child(int code, int *go)
{
	int p[2];
	pid_t pid;

	CHECK(pipe2(p, O_CLOEXEC) == 0);
	pid = spawn(code, p);
	close(p[0]);
	*go = p[1];
	return pid;
}

static int reg(int kq, pid_t pid, unsigned short flags, void *udata,
               struct kevent *out, int nout)
{
	struct kevent ch;

	EV_SET(&ch, (uintptr_t)pid, EVFILT_PROC, flags,
	       NOTE_EXIT | NOTE_EXITSTATUS, 0, udata);
	return kevent(kq, &ch, 1, out, nout, NULL);
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void reap(pid_t pid, int want)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(st == want);
}

static void test_exit_status(void)
{
	struct kevent ev[2];
	int kq = kqueue(), go, tag;
	pid_t pid = child(7, &go);

	CHECK(kq >= 0);
	CHECK(reg(kq, pid, EV_ADD, &tag, NULL, 0) == 0);
	CHECK(kqemu_registrations() == 1);
	CHECK(!readable(kq, 50));
	CHECK(kevent(kq, NULL, 0, ev, 2, &zero) == 0);
	close(go);
	CHECK(readable(kq, 10000));
	CHECK(kevent(kq, NULL, 0, ev, 2, NULL) == 1);
	CHECK(ev[0].ident == (uintptr_t)pid && ev[0].filter == EVFILT_PROC);
	CHECK(ev[0].flags == (EV_EOF | EV_ONESHOT));
	CHECK(ev[0].fflags == (NOTE_EXIT | NOTE_EXITSTATUS));
	CHECK(ev[0].udata == &tag);
	CHECK(WIFEXITED(ev[0].data) && WEXITSTATUS(ev[0].data) == 7);
	CHECK(!readable(kq, 0));
	CHECK(kevent(kq, NULL, 0, ev, 2, &zero) == 0);
	CHECK(kqemu_registrations() == 0);
	reap(pid, 7 << 8);   /* peeked, not reaped */
	close(kq);
	puts("ok - exit status 7, child still reapable, poll(kq) follows");
}

static void test_killed(void)
{
	struct kevent ev;
	int kq = kqueue(), go;
	pid_t pid = child(-1, &go);

	CHECK(reg(kq, pid, EV_ADD | EV_CLEAR, NULL, NULL, 0) == 0);
	close(go);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(kevent(kq, NULL, 0, &ev, 1, &ten_s) == 1);
	CHECK(ev.flags == (EV_EOF | EV_ONESHOT | EV_CLEAR));
	CHECK(WIFSIGNALED(ev.data) && WTERMSIG(ev.data) == SIGKILL);
	reap(pid, SIGKILL);
	close(kq);
	puts("ok - SIGKILL gives WTERMSIG 9");
}

static void test_esrch(void)
{
	struct kevent ev[2], ch[2];
	int kq = kqueue(), go, tag;
	pid_t zombie = child(0, &go), gone, live;
	siginfo_t si;

	close(go);
	CHECK(waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT) == 0);
	CHECK(reg(kq, zombie, EV_ADD, &tag, ev, 2) == 1);
	CHECK(ev[0].flags == EV_ERROR && ev[0].data == ESRCH);
	CHECK(ev[0].ident == (uintptr_t)zombie && ev[0].udata == &tag);
	errno = 0;
	CHECK(reg(kq, zombie, EV_ADD, &tag, NULL, 0) == -1 && errno == ESRCH);
	reap(zombie, 0);
	gone = zombie;   /* now nonexistent */
	errno = 0;
	CHECK(reg(kq, gone, EV_ADD, NULL, NULL, 0) == -1 && errno == ESRCH);
	CHECK(reg(kq, gone, EV_ADD, NULL, ev, 1) == 1 && ev[0].data == ESRCH);
	CHECK(kqemu_registrations() == 0);

	/* Processing goes on after an error; errors are returned at once,
	 * without waiting for events (a NULL timeout here). */
	live = child(-1, &go);
	EV_SET(&ch[0], (uintptr_t)gone, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	EV_SET(&ch[1], (uintptr_t)live, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0, NULL);
	CHECK(kevent(kq, ch, 2, ev, 2, NULL) == 1);
	CHECK(ev[0].flags == EV_ERROR && ev[0].data == ESRCH);
	CHECK(kqemu_registrations() == 1);
	/* EV_RECEIPT: an EV_ERROR entry with data 0, and no wait. */
	CHECK(reg(kq, live, EV_ADD | EV_RECEIPT, NULL, ev, 2) == 1);
	CHECK(ev[0].flags == EV_ERROR && ev[0].data == 0);
	CHECK(ev[0].ident == (uintptr_t)live && kqemu_registrations() == 1);
	/* Changes past a failure with no room in eventlist are not applied. */
	EV_SET(&ch[1], (uintptr_t)live, EVFILT_PROC, EV_DELETE, 0, 0, NULL);
	errno = 0;
	CHECK(kevent(kq, ch, 2, NULL, 0, NULL) == -1 && errno == ESRCH);
	CHECK(kqemu_registrations() == 1);
	close(go);
	kill(live, SIGKILL);
	reap(live, SIGKILL);
	close(kq);
	CHECK(kqemu_registrations() == 0);
	puts("ok - zombie and nonexistent pid: ESRCH (EV_ERROR and -1), EV_RECEIPT");
}

static void test_delete_dup(void)
{
	struct kevent ev[2], ch;
	int kq = kqueue(), go, a, b;
	pid_t pid = child(3, &go);

	CHECK(reg(kq, pid, EV_ADD, &a, NULL, 0) == 0);
	CHECK(reg(kq, pid, EV_DELETE, NULL, NULL, 0) == 0);
	CHECK(kqemu_registrations() == 0);
	errno = 0;
	CHECK(reg(kq, pid, EV_DELETE, NULL, NULL, 0) == -1 && errno == ENOENT);
	CHECK(reg(kq, pid, EV_DELETE, NULL, ev, 2) == 1);
	CHECK(ev[0].flags == EV_ERROR && ev[0].data == ENOENT);

	CHECK(reg(kq, pid, EV_ADD, &a, NULL, 0) == 0);
	CHECK(reg(kq, pid, EV_ADD, &b, NULL, 0) == 0);
	CHECK(kqemu_registrations() == 1);
	close(go);
	CHECK(kevent(kq, NULL, 0, ev, 2, &ten_s) == 1);
	CHECK(ev[0].udata == &b && WEXITSTATUS(ev[0].data) == 3);
	CHECK(kevent(kq, NULL, 0, ev, 2, &zero) == 0);

	/* Other filters: EINVAL; a non-kqueue: EBADF; bad counts: EINVAL. */
	EV_SET(&ch, 1, -4 /* EVFILT_VNODE */, EV_ADD, 0, 0, NULL);
	CHECK(kevent(kq, &ch, 1, ev, 1, NULL) == 1 && ev[0].data == EINVAL);
	errno = 0;
	CHECK(kevent(0, NULL, 0, ev, 1, &zero) == -1 && errno == EBADF);
	errno = 0;
	CHECK(kevent(kq, NULL, -1, ev, 1, &zero) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(kevent(kq, NULL, 0, ev, -1, &zero) == -1 && errno == EINVAL);
	reap(pid, 3 << 8);
	close(kq);
	puts("ok - EV_DELETE then ENOENT; duplicate EV_ADD updates udata; EINVAL/EBADF");
}

static void test_early_exit(void)
{
	struct kevent ev;
	int kq = kqueue(), go, st;
	pid_t pid = child(-1, &go);

	kqemu_early_exit(pid);
	CHECK(reg(kq, pid, EV_ADD, NULL, NULL, 0) == 0);
	CHECK(readable(kq, 0));
	CHECK(kevent(kq, NULL, 0, &ev, 1, &zero) == 1);
	CHECK(ev.ident == (uintptr_t)pid && (ev.fflags & NOTE_EXIT));
	CHECK(ev.data == 0 && (ev.flags & EV_EOF));
	CHECK(waitpid(pid, &st, WNOHANG) == 0);   /* still running */
	CHECK(kqemu_registrations() == 0);
	/* The mark is consumed: a new registration waits for the real exit. */
	CHECK(reg(kq, pid, EV_ADD, NULL, NULL, 0) == 0);
	CHECK(kevent(kq, NULL, 0, &ev, 1, &zero) == 0);
	close(go);
	kill(pid, SIGKILL);
	CHECK(kevent(kq, NULL, 0, &ev, 1, &ten_s) == 1);
	CHECK(WTERMSIG(ev.data) == SIGKILL);
	reap(pid, SIGKILL);
	close(kq);
	puts("ok - kqemu_early_exit fires at once, one-shot");
}

static void test_close_releases(void)
{
	int before = fd_count(), kq, kq2, go[5], i;
	pid_t pid[5];

	kq = kqueue();
	for (i = 0; i < 5; i++) {
		pid[i] = child(-1, &go[i]);
		close(go[i]);
		CHECK(reg(kq, pid[i], EV_ADD, NULL, NULL, 0) == 0);
	}
	CHECK(kqemu_registrations() == 5 && fd_count() == before + 6);
	CHECK(close(kq) == 0);
	CHECK(kqemu_registrations() == 0 && fd_count() == before);

	/* A kqueue closed behind the wrapper's back: the next kqueue() with
	 * that fd number drops the stale record and its pidfds. */
	kq = kqueue();
	for (i = 0; i < 5; i++)
		CHECK(reg(kq, pid[i], EV_ADD, NULL, NULL, 0) == 0);
	CHECK(syscall(SYS_close, kq) == 0);
	CHECK(kqemu_registrations() == 5);
	kq2 = kqueue();
	CHECK(kq2 == kq);
	CHECK(kqemu_registrations() == 0 && fd_count() == before + 1);
	close(kq2);
	CHECK(fd_count() == before);
	for (i = 0; i < 5; i++) {
		kill(pid[i], SIGKILL);
		reap(pid[i], SIGKILL);
	}
	puts("ok - close(kq) releases registrations and pidfds; stale record dropped");
}

static void test_many(void)
{
	static pid_t pid[NCHILD];
	static int seen[NCHILD];
	struct kevent ch[NCHILD], ev[64];
	int kq = kqueue(), before = fd_count(), go[2], got = 0, n, i, j;

	CHECK(pipe2(go, O_CLOEXEC) == 0);
	for (i = 0; i < NCHILD; i++) {
		pid[i] = spawn(i & 0xff, go);
		EV_SET(&ch[i], (uintptr_t)pid[i], EVFILT_PROC, EV_ADD,
		       NOTE_EXIT, 0, &seen[i]);
	}
	CHECK(kevent(kq, ch, NCHILD, NULL, 0, NULL) == 0);
	CHECK(kqemu_registrations() == NCHILD);
	CHECK(fd_count() == before + 2 + NCHILD);
	close(go[0]);
	close(go[1]);   /* all go */
	while (got < NCHILD) {
		n = kevent(kq, NULL, 0, ev, 64, &ten_s);
		CHECK(n > 0);
		for (j = 0; j < n; j++) {
			i = (int)((int *)ev[j].udata - seen);
			CHECK(i >= 0 && i < NCHILD && ev[j].ident == (uintptr_t)pid[i]);
			CHECK(seen[i]++ == 0);
			CHECK(WIFEXITED(ev[j].data) && WEXITSTATUS(ev[j].data) == (i & 0xff));
		}
		got += n;
	}
	CHECK(kevent(kq, NULL, 0, ev, 64, &zero) == 0);
	CHECK(kqemu_registrations() == 0 && fd_count() == before);
	for (i = 0; i < NCHILD; i++)
		reap(pid[i], (i & 0xff) << 8);
	close(kq);
	puts("ok - 200 children, each reported exactly once");
}

/* Four threads wait on one kqueue at once: every exit is still delivered
 * exactly once (an event one thread's epoll_wait saw is dropped if another
 * thread delivered it first). */
static struct {
	int kq;
	atomic_int got;
	atomic_int seen[NCHILD];
} mt;

static void *mt_waiter(void *arg)
{
	struct kevent ev[8];
	int n, j;

	(void)arg;
	while (atomic_load(&mt.got) < NCHILD) {
		const struct timespec t = { 0, 100000000 };

		n = kevent(mt.kq, NULL, 0, ev, 8, &t);
		CHECK(n >= 0);
		for (j = 0; j < n; j++)
			atomic_fetch_add((atomic_int *)ev[j].udata, 1);
		atomic_fetch_add(&mt.got, n);
	}
	return NULL;
}

static void test_threads(void)
{
	static pid_t pid[NCHILD];
	struct kevent ch;
	pthread_t th[4];
	int go[2], i, before = fd_count();

	mt.kq = kqueue();
	CHECK(pipe2(go, O_CLOEXEC) == 0);
	for (i = 0; i < NCHILD; i++) {
		pid[i] = spawn(0, go);
		EV_SET(&ch, (uintptr_t)pid[i], EVFILT_PROC, EV_ADD, NOTE_EXIT,
		       0, &mt.seen[i]);
		CHECK(kevent(mt.kq, &ch, 1, NULL, 0, NULL) == 0);
	}
	for (i = 0; i < 4; i++)
		CHECK(pthread_create(&th[i], NULL, mt_waiter, NULL) == 0);
	close(go[0]);
	close(go[1]);
	for (i = 0; i < 4; i++)
		CHECK(pthread_join(th[i], NULL) == 0);
	CHECK(atomic_load(&mt.got) == NCHILD);
	for (i = 0; i < NCHILD; i++) {
		CHECK(atomic_load(&mt.seen[i]) == 1);
		reap(pid[i], 0);
	}
	CHECK(kqemu_registrations() == 0);
	close(mt.kq);
	CHECK(fd_count() == before);
	puts("ok - 4 threads waiting on one kqueue: each exit delivered once");
}

static int64_t ns_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_timeout_eintr(void)
{
	const struct timespec one_ms = { 0, 1000000 };
	struct kevent ev;
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	int kq = kqueue(), go;
	pid_t pid = child(-1, &go);
	int64_t t0, dt;

	CHECK(reg(kq, pid, EV_ADD, NULL, NULL, 0) == 0);
	t0 = ns_now();
	CHECK(kevent(kq, NULL, 0, &ev, 1, &one_ms) == 0);
	dt = ns_now() - t0;
	printf("   (timeout {0, 1000000} took %.3f ms)\n", dt / 1e6);
	CHECK(dt >= 1000000 && dt < 200000000);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;   /* no SA_RESTART; BSD gives EINTR anyway */
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	errno = 0;
	CHECK(kevent(kq, NULL, 0, &ev, 1, NULL) == -1 && errno == EINTR);
	close(go);
	kill(pid, SIGKILL);
	reap(pid, SIGKILL);
	close(kq);
	CHECK(kqemu_registrations() == 0);
	puts("ok - timeout of 1 ms returns 0; a signal gives EINTR");
}

static void test_nested_nonchild(void)
{
	struct kevent ev, ch;
	int outer = kqueue(), inner = kqueue(), go[2], p[2];
	pid_t mid, pid;

	/* A non-child: a grandchild whose parent has exited. */
	CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(p, O_CLOEXEC) == 0);
	mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		pid = spawn(5, go);
		_exit(write(p[1], &pid, sizeof(pid)) != sizeof(pid));
	}
	close(go[0]);
	close(p[1]);
	CHECK(read(p[0], &pid, sizeof(pid)) == sizeof(pid));
	close(p[0]);
	reap(mid, 0);

	CHECK(reg(inner, pid, EV_ADD, NULL, NULL, 0) == 0);
	EV_SET(&ch, (uintptr_t)inner, EVFILT_READ, EV_ADD, 0, 0, &p);
	CHECK(kevent(outer, &ch, 1, NULL, 0, NULL) == 0);
	CHECK(!readable(outer, 50));
	close(go[1]);   /* the grandchild exits with 5 */
	CHECK(kevent(outer, NULL, 0, &ev, 1, &ten_s) == 1);
	CHECK(ev.filter == EVFILT_READ && ev.ident == (uintptr_t)inner);
	CHECK(ev.udata == &p);
	CHECK(kevent(inner, NULL, 0, &ev, 1, &zero) == 1);
	CHECK(ev.ident == (uintptr_t)pid && ev.data == 0);   /* not our child */
	CHECK(kevent(outer, NULL, 0, &ev, 1, &zero) == 0);
	EV_SET(&ch, (uintptr_t)inner, EVFILT_READ, EV_DELETE, 0, 0, NULL);
	CHECK(kevent(outer, &ch, 1, NULL, 0, NULL) == 0);
	close(inner);

	/* As on BSD, closing an fd drops its EVFILT_READ registration, even
	 * while another descriptor (here a dup) keeps the file open; then
	 * EV_ADD/EV_DELETE on it give EBADF. */
	CHECK(pipe2(p, O_CLOEXEC) == 0 && write(p[1], "x", 1) == 1);
	EV_SET(&ch, (uintptr_t)p[0], EVFILT_READ, EV_ADD, 0, 0, NULL);
	CHECK(kevent(outer, &ch, 1, NULL, 0, NULL) == 0);
	CHECK(readable(outer, 0));
	CHECK(kevent(outer, NULL, 0, &ev, 1, &zero) == 1);
	CHECK(ev.ident == (uintptr_t)p[0] && ev.filter == EVFILT_READ);
	go[0] = dup(p[0]);
	close(p[0]);
	CHECK(!readable(outer, 0) && kevent(outer, NULL, 0, &ev, 1, &zero) == 0);
	errno = 0;
	CHECK(kevent(outer, &ch, 1, NULL, 0, NULL) == -1 && errno == EBADF);
	ch.flags = EV_DELETE;
	CHECK(kevent(outer, &ch, 1, &ev, 1, NULL) == 1 && ev.data == EBADF);
	close(go[0]);
	close(p[1]);
	close(outer);
	CHECK(kqemu_registrations() == 0);
	puts("ok - nested kqueue via EVFILT_READ; a non-child gives data 0; "
	     "close drops EVFILT_READ");
}

/* A forked child shares the kqueues (as epoll fds are shared); its close()
 * of them, or of a watched fd, must not take anything from the parent. */
static void test_fork(void)
{
	struct kevent ev[2], ch;
	int kq = kqueue(), p[2], go;
	pid_t pid = child(9, &go), fk;

	CHECK(pipe2(p, O_CLOEXEC) == 0 && write(p[1], "x", 1) == 1);
	CHECK(reg(kq, pid, EV_ADD, NULL, NULL, 0) == 0);
	EV_SET(&ch, (uintptr_t)p[0], EVFILT_READ, EV_ADD, 0, 0, p);
	CHECK(kevent(kq, &ch, 1, NULL, 0, NULL) == 0);
	fk = fork();
	CHECK(fk >= 0);
	if (fk == 0) {
		close(p[0]);
		close(kq);
		_exit(kqemu_registrations() != 0);
	}
	reap(fk, 0);
	CHECK(kqemu_registrations() == 1);
	CHECK(kevent(kq, NULL, 0, ev, 2, &zero) == 1 && ev[0].udata == p);
	ch.flags = EV_DELETE;
	CHECK(kevent(kq, &ch, 1, NULL, 0, NULL) == 0);
	close(go);
	CHECK(kevent(kq, NULL, 0, ev, 2, &ten_s) == 1);
	CHECK(ev[0].ident == (uintptr_t)pid && WEXITSTATUS(ev[0].data) == 9);
	reap(pid, 9 << 8);
	close(p[0]);
	close(p[1]);
	close(kq);
	puts("ok - a forked child closing the shared kqueue takes nothing away");
}

int main(void)
{
	int before = fd_count();

	test_exit_status();
	test_killed();
	test_esrch();
	test_delete_dup();
	test_early_exit();
	test_close_releases();
	test_many();
	test_threads();
	test_timeout_eintr();
	test_nested_nonchild();
	test_fork();
	CHECK(fd_count() == before && kqemu_registrations() == 0);
	puts("all kqueue-emu self-tests passed");
	return 0;
}
