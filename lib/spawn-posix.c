/* SPDX-License-Identifier: MIT */
/*
 * Creating children with a handle: procwait_spawn() through
 * clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) on Linux, the way
 * posix_spawn(3) works but with the pidfd returned by the same system call,
 * and through fork(2) with a close-on-exec pipe for the exec error
 * elsewhere; procwait_fork() through fork(2) with a handshake that keeps the
 * child from running until the parent holds its pidfd or kqueue
 * registration.
 */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#if defined(HAVE_CLONE) && defined(HAVE_PIDFD_BACKEND)
#define PW_SPAWN_CLONE 1
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#define PW_SPAWN_STACK (256 * 1024)
#define PW_SPAWN_GUARD 4096   /* PROT_NONE below the stack: overflow faults */
#define PW_SPAWN_MAP (PW_SPAWN_GUARD + PW_SPAWN_STACK)

extern char **environ;

struct spawn_ctx {
	const char *file;
	char *const *argv;
	char *const *envp;
	const char *cwd;
	const char *path;       /* $PATH of the caller, for SEARCH_PATH */
	int fds[3];             /* -1 or the fd to become 0, 1, 2 */
	unsigned flags;
	sigset_t mask;          /* the caller's mask, restored in the child */
	volatile int err;       /* written by the child before _exit (clone) */
	int errfd;              /* or sent down this pipe (fork), else -1 */
};

#if defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define PW_NO_ASAN __attribute__((no_sanitize_address))
#  endif
#endif
#if !defined(PW_NO_ASAN) && defined(__SANITIZE_ADDRESS__)
#  define PW_NO_ASAN __attribute__((no_sanitize_address))
#endif
#ifndef PW_NO_ASAN
#  define PW_NO_ASAN
#endif

/* Child side: runs on its own stack in the parent's memory, while the
 * parent is suspended. Only async-signal-safe calls, no allocation; any
 * failure is reported through ctx->err. */
PW_NO_ASAN static void exec_search(struct spawn_ctx *c)
{
	char buf[4096];
	const char *dir = c->path ? c->path : "/bin:/usr/bin";
	size_t flen = 0;
	int seen_eacces = 0;

	while (c->file[flen])
		flen++;
	for (;;) {
		const char *end = dir;
		size_t dlen, i;

		while (*end && *end != ':')
			end++;
		dlen = (size_t)(end - dir);
		if (dlen + 1 + flen + 1 <= sizeof(buf)) {
			for (i = 0; i < dlen; i++)
				buf[i] = dir[i];
			if (dlen == 0)
				buf[dlen++] = '.';   /* empty element: cwd */
			buf[dlen] = '/';
			for (i = 0; i <= flen; i++)
				buf[dlen + 1 + i] = c->file[i];
			execve(buf, c->argv, c->envp);
			switch (errno) {
			case EACCES:
				seen_eacces = 1;
				break;
			case ENOENT: case ENOTDIR: case ESTALE: case ENODEV:
			case ETIMEDOUT: case ELOOP: case ENAMETOOLONG:
				break;
			default:
				return;   /* e.g. ENOEXEC, E2BIG: report it */
			}
		}
		if (!*end)
			break;
		dir = end + 1;
	}
	errno = seen_eacces ? EACCES : ENOENT;
}

PW_NO_ASAN static int spawn_child(void *arg)
{
	struct spawn_ctx *c = arg;
	struct sigaction sa;
	int i, sig;

	/* Handlers of the parent must not run here: reset every caught
	 * signal to its default (ignored ones stay ignored, as with exec). */
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN &&
		    sa.sa_handler != SIG_DFL) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			sigaction(sig, &sa, NULL);
		}
	}
	if ((c->flags & PROCWAIT_SPAWN_SETSID) && setsid() < 0)
		goto fail;
	/* After setsid the child already leads a group of its own. */
	if ((c->flags & PROCWAIT_SPAWN_SETPGID) && !(c->flags & PROCWAIT_SPAWN_SETSID) &&
	    setpgid(0, 0) < 0)
		goto fail;
	/* Move sources that sit on 0..2 out of the way first, so that
	 * swaps such as stdin_fd = 1, stdout_fd = 0 come out right. */
	for (i = 0; i < 3; i++) {
		if (c->fds[i] >= 0 && c->fds[i] < 3 && c->fds[i] != i) {
			int fd = fcntl(c->fds[i], F_DUPFD_CLOEXEC, 3);

			if (fd < 0)
				goto fail;
			c->fds[i] = fd;
		}
	}
	for (i = 0; i < 3; i++) {
		if (c->fds[i] < 0)
			continue;
		if (c->fds[i] == i) {
			/* dup2 onto itself would keep FD_CLOEXEC. */
			int fl = fcntl(i, F_GETFD);

			if (fl < 0 || fcntl(i, F_SETFD, fl & ~FD_CLOEXEC) < 0)
				goto fail;
		} else if (dup2(c->fds[i], i) < 0) {
			goto fail;
		}
	}
	if (c->cwd && chdir(c->cwd) < 0)
		goto fail;
	sigprocmask(SIG_SETMASK, &c->mask, NULL);
	if ((c->flags & PROCWAIT_SPAWN_SEARCH_PATH) && !strchr(c->file, '/'))
		exec_search(c);
	else
		execve(c->file, c->argv, c->envp);
fail:
	c->err = errno ? errno : ECHILD;
	if (c->errfd >= 0) {
		int e = c->err;

		while (write(c->errfd, &e, sizeof(e)) < 0 && errno == EINTR)
			;
	}
	_exit(127);
}

/* A close-on-exec pipe: 0 or -errno. */
static int pipe_cloexec(int fd[2])
{
#ifdef HAVE_PIPE2
	return pipe2(fd, O_CLOEXEC) < 0 ? -errno : 0;
#else
	if (pipe(fd) < 0)
		return -errno;
	if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fd[1], F_SETFD, FD_CLOEXEC) < 0) {
		int err = -errno;

		close(fd[0]);
		close(fd[1]);
		return err;
	}
	return 0;
#endif
}

#ifndef PW_SPAWN_CLONE
/* fork, run the child side, learn its exec error from a close-on-exec
 * pipe: the pid, or -errno when no process could be made (c->err tells a
 * failed exec). fork rather than vfork: FreeBSD's libthr wraps sigaction
 * and sigprocmask with locks that a vfork child must not take. */
static pid_t spawn_fork(struct spawn_ctx *c)
{
	int fd[2], r, e;
	ssize_t n;
	pid_t pid;

	r = pipe_cloexec(fd);
	if (r < 0)
		return r;
	c->errfd = fd[1];
	pid = fork();
	if (pid == 0) {
		close(fd[0]);
		spawn_child(c);
	}
	r = errno;
	close(fd[1]);
	c->errfd = -1;
	if (pid < 0) {
		close(fd[0]);
		return -r;
	}
	do
		n = read(fd[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(fd[0]);
	if (n == (ssize_t)sizeof(e))
		c->err = e;
	return pid;
}
#endif

static void reap_failed(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

PROCWAIT_EXTERN int procwait_spawn(const procwait_spawn_options *o, procwait_proc **out)
{
	struct spawn_ctx c;
	procwait_proc *p;
	sigset_t all;
	int i, err;
#ifdef PW_SPAWN_CLONE
	int pidfd = -1, use_pidfd;
#endif
	pid_t pid;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(o && o->size >= sizeof(procwait_spawn_options));
	pw__check_arg(o->argv && o->argv[0]);
	pw__check_arg((o->flags & ~(unsigned)(PROCWAIT_SPAWN_SEARCH_PATH |
	               PROCWAIT_SPAWN_SETSID | PROCWAIT_SPAWN_SETPGID)) == 0);
	memset(&c, 0, sizeof(c));
	c.fds[0] = o->stdin_fd;
	c.fds[1] = o->stdout_fd;
	c.fds[2] = o->stderr_fd;
	for (i = 0; i < 3; i++) {
		pw__check_arg(c.fds[i] >= -1);
		if (c.fds[i] >= 0 && fcntl(c.fds[i], F_GETFD) < 0)
			return -EBADF;
	}
	c.file = o->file ? o->file : o->argv[0];
	c.argv = o->argv;
	c.envp = o->envp ? o->envp : environ;
	c.cwd = o->cwd;
	c.flags = o->flags;
	c.path = (o->flags & PROCWAIT_SPAWN_SEARCH_PATH) ? getenv("PATH") : NULL;
	c.errfd = -1;

	p = pw__proc_alloc(0, PW_CHILD_YES);
	if (!p)
		return -ENOMEM;
#ifdef PW_SPAWN_CLONE
	void *stack = mmap(NULL, PW_SPAWN_MAP, PROT_READ | PROT_WRITE,
	             MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED || mprotect(stack, PW_SPAWN_GUARD, PROT_NONE) < 0) {
		if (stack != MAP_FAILED)
			munmap(stack, PW_SPAWN_MAP);
		pw__proc_free(p);
		return -ENOMEM;
	}
	use_pidfd = pw__backend_get() == &pw__backend_pidfd;

	/* No handler of ours may run in the child while it shares our
	 * memory: block everything around clone, as posix_spawn does. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &c.mask);
	pid = clone(spawn_child, (char *)stack + PW_SPAWN_MAP,
	            CLONE_VM | CLONE_VFORK | SIGCHLD | (use_pidfd ? CLONE_PIDFD : 0),
	            &c, &pidfd);
	err = errno;
	if (pid < 0 && use_pidfd && pw__errclass(err) != PW_ERR_OTHER) {
		/* CLONE_PIDFD refused (a seccomp rule on clone's flags, a
		 * kernel before 5.2) or no descriptor left for the pidfd
		 * (EMFILE): clone without it and try pidfd_open afterwards.
		 * Only this flag is refused, so nothing is latched. */
		pw__fallback_note(-err, "clone");
		use_pidfd = 0;
		pidfd = -1;
		pid = clone(spawn_child, (char *)stack + PW_SPAWN_MAP,
		            CLONE_VM | CLONE_VFORK | SIGCHLD, &c, NULL);
		err = errno;
	}
	pthread_sigmask(SIG_SETMASK, &c.mask, NULL);
	munmap(stack, PW_SPAWN_MAP);
#else
	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &c.mask);
	pid = spawn_fork(&c);
	err = pid < 0 ? (int)-pid : 0;
	pthread_sigmask(SIG_SETMASK, &c.mask, NULL);
#endif
	if (pid < 0) {
		pw__proc_free(p);
		return -err;
	}
	if (c.err) {
		/* The child failed before or at exec and has exited. */
		reap_failed(pid);
#ifdef PW_SPAWN_CLONE
		if (pidfd >= 0)
			close(pidfd);
#endif
		pw__proc_free(p);
		return -c.err;
	}
	p->pid = pid;
#ifdef PW_SPAWN_CLONE
	if (use_pidfd && pidfd >= 0) {
		p->fd = pidfd;
		p->be = &pw__backend_pidfd;
	} else
#endif
	{
		pw__proc_attach(p);   /* child: cannot fail, may fall back */
	}
	*out = p;
	return 0;
}

PROCWAIT_EXTERN int procwait_fork(unsigned flags, procwait_proc **out)
{
	procwait_proc *p;
	int pipefd[2], err;
	pid_t pid;
	char go = 1;

	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(flags == 0);
	/* Allocate first: once the child runs, failing is no longer an
	 * option. */
	p = pw__proc_alloc(0, PW_CHILD_YES);
	if (!p)
		return -ENOMEM;
	err = pipe_cloexec(pipefd);
	if (err < 0) {
		pw__proc_free(p);
		return err;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		pw__proc_free(p);
		return err;
	}
	if (pid == 0) {
		ssize_t n;

		/* Wait for the parent's byte (or EOF if it died): only then
		 * may we run, and so exit. A byte rather than EOF, because a
		 * concurrent fork in another thread may hold our write end. */
		close(pipefd[1]);
		do
			n = read(pipefd[0], &go, 1);
		while (n < 0 && errno == EINTR);
		close(pipefd[0]);
		pw__proc_free(p);   /* the parent's allocation, copied */
		return 0;
	}
	p->pid = pid;
	pw__proc_attach(p);   /* a child that cannot have exited yet */
	/* Our read end stays open until the byte is written: a child that
	 * died meanwhile (SIGKILL, a crashing atfork handler) must not make
	 * the write raise SIGPIPE in the caller. */
	while (write(pipefd[1], &go, 1) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	close(pipefd[1]);
	*out = p;
	return pid;
}
