/* SPDX-License-Identifier: MIT */
/*
 * In a child forked for a request: make the client's descriptors 0, 1, 2,
 * its directory and environment, a session of its own, default signals,
 * nothing else open, and death with the server. The request's accessors.
 */
#include "internal.h"
#include "fs-net.h"
#include "fs-proto.h"
#include "fs-server.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

extern char **environ;

static void say(const char *what, const char *arg, int err)
{
	char line[PROCWAIT_FORKSERVER_MAX_CWD + 128];
	int n = snprintf(line, sizeof(line), "procwait: %s%s%s: %s\n", what,
	                 arg ? " " : "", arg ? arg : "", strerror(err));

	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		(void)sigaction(s, &sa, NULL);   /* EINVAL for the libc's own */
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Make fds[0..2] the descriptors 0, 1, 2 (without close-on-exec). */
static int install_stdio(int fds[3])
{
	int i;

	/* A received descriptor may sit on 0..2 itself: lift them all
	 * above 2 first, so no dup2 clobbers a source. */
	for (i = 0; i < 3; i++) {
		if (fds[i] >= 0 && fds[i] <= 2) {
			int up = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			if (up < 0)
				return -errno;
			fds[i] = up;   /* the low one is replaced by dup2 below */
		}
	}
	for (i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		if (dup2(fds[i], i) < 0)
			return -errno;
		close(fds[i]);
		fds[i] = -1;
	}
	return 0;
}

static void close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0u) == 0)
		return;
#endif
	{
		DIR *d = opendir("/proc/self/fd");
		long max;
		int fd;

		if (d) {
			struct dirent *e;
			int dfd = dirfd(d);

			while ((e = readdir(d)) != NULL) {
				fd = atoi(e->d_name);
				if (fd >= lowfd && fd != dfd && e->d_name[0] != '.')
					close(fd);
			}
			closedir(d);
			return;
		}
		max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = lowfd; fd < max; fd++)
			close(fd);
	}
}

/* A private copy of the environment, independent of the request's
 * lifetime, reachable from environ (LeakSanitizer sees it so; valgrind
 * reports the block lost all the same). */
static int set_environ(char *const *envp)
{
	char **v = pw__strv_dup(envp);

	if (!v)
		return -ENOMEM;
	environ = v;
	return 0;
}

PROCWAIT_EXTERN int procwait_forkserver_child(procwait_forkserver *fs, procwait_request *req)
{
	pid_t server;
	unsigned flags;
	int rc;

	pw__check_arg(fs && req && req == fs->pending);
	server = fs->server_pid;
	flags = fs->flags;
#if defined(HAVE_SYS_PRCTL_H) && defined(PR_SET_PDEATHSIG)
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	/* The server may have died before the line above: then nobody would
	 * ever kill this child. */
	if (getppid() != server)
		_exit(127);
	/* Into the run's cgroup before anything of the request's runs (a
	 * spare does it ahead of its request). Should the move fail, the run
	 * is still stopped through its process group. */
	if (req->cgroup)
		(void)pw__cg_enter(req->cgroup);
	reset_signals();
	(void)setsid();
	/* The request becomes ours alone; the rest of the server goes. */
	if (req->owner)
		((struct pw__fs_conn *)req->owner)->req = NULL;
	req->owner = NULL;
	fs->pending = NULL;
	pw__fs_forget(fs);   /* closes the server's descriptors, frees it */
	if (req->spare) {
		/* A spare: everything above was done ahead of the request,
		 * which comes now (nobody to tell about a failure yet). */
		rc = pw__fs_spare_receive(req);
		if (rc < 0)
			return rc;
	}
	rc = install_stdio(req->fds);
	if (rc < 0) {
		say("cannot install standard descriptors", NULL, -rc);
		return rc;
	}
	if (req->flags & PROCWAIT_CLIENT_PTY) {
#ifdef TIOCSCTTY
		if (ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0) {
			rc = -errno;
			say("cannot take the terminal", NULL, -rc);
			return rc;
		}
#endif
	}
	if (!(flags & PROCWAIT_FORKSERVER_KEEP_FDS))
		close_from(3);
	if (chdir(req->cwd) < 0) {
		rc = -errno;
		say("cannot change to directory", req->cwd, -rc);
		return rc;
	}
	rc = set_environ(req->envp);
	if (rc < 0) {
		say("cannot set the environment", NULL, -rc);
		return rc;
	}
	return 0;
}

int pw__fs_spare_receive(procwait_request *req)
{
	uint8_t *buf = malloc(PROCWAIT_FORKSERVER_MAX_FRAME + 1);
	struct procwait_request *r = NULL;
	const uint8_t *p;
	const char *why;
	size_t len;
	ssize_t n;
	int fds[PW_FS_NFDS + 1], nfds = 0, trunc = 0, type, rc = -EPROTO, i;

	if (!buf)
		return -ENOMEM;
	do
		n = pw__fs_recv(req->spare_fd, buf, PROCWAIT_FORKSERVER_MAX_FRAME + 1, fds,
		                PW_FS_NFDS + 1, &nfds, &trunc, 0);
	while (n == -EINTR);
	close(req->spare_fd);
	req->spare_fd = -1;
	if (n <= 0) {
		/* The server closed its end: stopping, or gone. */
		rc = n == 0 ? -ECANCELED : (int)n;
		goto out;
	}
	type = pw__fs_frame(buf, (size_t)n, trunc, &p, &len);
	if (type != PW_FS_REQUEST || nfds != PW_FS_NFDS ||
	    pw__fs_request_decode(p, len, &r, &why) < 0)
		goto out;
	req->flags = r->flags;
	req->timeout_ms = r->timeout_ms;
	req->argv = r->argv;
	req->envp = r->envp;
	req->cwd = r->cwd;
	req->backing = r;
	for (i = 0; i < PW_FS_NFDS; i++)
		req->fds[i] = fds[i];
	nfds = 0;
	rc = 0;
out:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	free(buf);
	return rc;
}

PROCWAIT_EXTERN char *const *procwait_request_argv(const procwait_request *req)
{
	return req ? req->argv : NULL;
}

PROCWAIT_EXTERN char *const *procwait_request_envp(const procwait_request *req)
{
	return req ? req->envp : NULL;
}

PROCWAIT_EXTERN const char *procwait_request_cwd(const procwait_request *req)
{
	return req ? req->cwd : NULL;
}

PROCWAIT_EXTERN void procwait_request_free(procwait_request *req)
{
	int i;

	if (!req)
		return;
	for (i = 0; i < PW_FS_NFDS; i++)
		if (req->fds[i] >= 0)
			close(req->fds[i]);
	if (req->spare) {
		if (req->spare_fd >= 0)
			close(req->spare_fd);
		pw__fs_request_free(req->backing);
	}
	pw__fs_request_free(req);
}
