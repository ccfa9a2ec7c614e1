/* SPDX-License-Identifier: MIT */
/*
 * The fork server's listening socket: AF_UNIX SOCK_SEQPACKET at a path in
 * a private directory, never abstract, never TCP. A stale socket file (no
 * server answers) is replaced; a live one is left alone (-EADDRINUSE).
 */
#include "internal.h"
#include "fs-net.h"
#include "fs-server.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>

/* Is a server answering at sa? 1 yes, 0 no (stale or nothing there). */
static int live(const struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return 0;
	r = connect(fd, (const struct sockaddr *)sa, len);
	close(fd);
	return r == 0;
}

int pw__fs_listen(procwait_forkserver *fs, const char *name, const char *path)
{
	char def[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sa;
	struct stat st;
	socklen_t len;
	int fd, rc, tries;

	if (!path) {
		rc = procwait_forkserver_socket_path(name, 1, def, sizeof(def));
		if (rc < 0)
			return rc == -ERANGE ? -ENAMETOOLONG : rc;
		path = def;
	} else {
		if (name)
			pw__check_arg(procwait_forkserver_socket_path(name, 0, def, 0) != -EINVAL);
		rc = pw__fs_check_parent(path);
		if (rc < 0)
			return rc;
	}
	rc = pw__fs_sockaddr(path, &sa, &len);
	if (rc < 0)
		return rc;
	fs->path = strdup(path);
	if (!fs->path)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (tries = 0; ; tries++) {
		if (bind(fd, (struct sockaddr *)&sa, len) == 0)
			break;
		rc = -errno;
		if (rc != -EADDRINUSE || tries > 0)
			goto fail;
		/* Something is at the path: replace only a dead socket. */
		if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || live(&sa, len)) {
			rc = -EADDRINUSE;
			goto fail;
		}
		unlink(path);
	}
	/* Only the owner may connect; SO_PEERCRED is checked all the same. */
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0) {
		rc = -errno;
		unlink(path);
		goto fail;
	}
	fs->sock_dev = st.st_dev;
	fs->sock_ino = st.st_ino;
	if (listen(fd, SOMAXCONN) < 0) {
		rc = -errno;
		unlink(path);
		goto fail;
	}
	fs->lfd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

void pw__fs_unlisten(procwait_forkserver *fs)
{
	struct stat st;

	if (fs->lfd < 0)
		return;
	if (fs->epfd >= 0)
		epoll_ctl(fs->epfd, EPOLL_CTL_DEL, fs->lfd, NULL);
	close(fs->lfd);
	fs->lfd = -1;
	/* Another server may have replaced our file meanwhile: leave it. */
	if (fs->path && lstat(fs->path, &st) == 0 && st.st_dev == fs->sock_dev &&
	    st.st_ino == fs->sock_ino)
		unlink(fs->path);
}

void pw__fs_release(procwait_forkserver *fs)
{
	if (fs->epfd >= 0)
		close(fs->epfd);
	if (fs->sigfd >= 0)
		close(fs->sigfd);
	if (fs->evfd >= 0)
		close(fs->evfd);
	fs->epfd = fs->sigfd = fs->evfd = fs->lfd = -1;
	free(fs->uids);
	free(fs->buf);
	free(fs->path);
	fs->uids = NULL;
	fs->buf = NULL;
	fs->path = NULL;
}

void pw__fs_forget(procwait_forkserver *fs)
{
	struct pw__fs_conn *c, *nx;

	/* Descriptors only: the epoll set, the listening socket and the
	 * connections are shared with the server, which keeps using them. */
	if (fs->units.ws)
		pw__units_forget(&fs->units);   /* points into the connections */
	if (fs->lfd >= 0)
		close(fs->lfd);
	if (fs->spare_fd >= 0)
		close(fs->spare_fd);   /* the server's end: the spare is its child */
	fs->spare_fd = -1;
	if (fs->spare)
		procwait_proc_close(fs->spare);   /* the pidfd only: not ours to reap */
	fs->spare = NULL;
	for (c = fs->conns; c; c = nx) {
		nx = c->next;
		if (c->fd >= 0)
			close(c->fd);
		procwait_request_free(c->req);   /* and its descriptors */
		free(c);
	}
	fs->conns = NULL;
	fs->qhead = fs->qtail = NULL;
	fs->pending = NULL;
	free(fs->spare_cg);
	fs->spare_cg = NULL;
	pw__cg_forget(&fs->cg);   /* the directories are the server's */
	pw__fs_release(fs);
	fs->forgotten = 1;
}
