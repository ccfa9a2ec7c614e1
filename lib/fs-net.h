/* SPDX-License-Identifier: MIT */
/*
 * Socket plumbing shared by the fork server and its client: paths and
 * directory checks (fs-path.c), frame I/O with descriptors (fs-io.c).
 */
#ifndef PROCWAIT_FS_NET_H
#define PROCWAIT_FS_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* dir must be a directory (not a link) owned by the effective uid and not
 * writable by group or others; created 0700 when missing and create. */
int pw__fs_check_dir(const char *dir, int create);
/* The same check on the directory holding path. */
int pw__fs_check_parent(const char *path);
/* Fill a socket address for path: 0, -EINVAL, -ENAMETOOLONG. */
int pw__fs_sockaddr(const char *path, struct sockaddr_un *sa, socklen_t *len);

/* Send one frame of len bytes with nfds descriptors (0..3), with extra
 * send flags (MSG_DONTWAIT); MSG_NOSIGNAL always; retries EINTR. 0 or
 * -errno (-EPIPE/-ECONNRESET when the peer is gone, -EAGAIN when full). */
int pw__fs_send(int sock, const void *buf, size_t len, const int *fds, int nfds, int flags);

/* Receive one frame into buf (cap bytes), with descriptors into fds
 * (room for max_fds; each received one is O_CLOEXEC). *nfds receives how
 * many arrived; *trunc is set when the frame or its descriptors were cut
 * (the excess descriptors are closed by the kernel or here).
 * Returns the byte count (0: the peer closed), or -errno (-EAGAIN when
 * nothing is there on a non-blocking call). */
ssize_t pw__fs_recv(int sock, void *buf, size_t cap, int *fds, int max_fds,
                    int *nfds, int *trunc, int flags);

#endif /* PROCWAIT_FS_NET_H */
