/* SPDX-License-Identifier: MIT */
/*
 * One frame per SOCK_SEQPACKET message, descriptors attached to exactly
 * that frame through SCM_RIGHTS (so no buffered reader can lose them, as
 * happened to python-preloaded).
 */
#include "internal.h"
#include "fs-net.h"

#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#define PW_FS_MAX_CMSG_FDS 8

int pw__fs_send(int sock, const void *buf, size_t len, const int *fds, int nfds, int flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * PW_FS_MAX_CMSG_FDS)];
	} cm;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m;
	ssize_t r;

	assert(nfds >= 0 && nfds <= PW_FS_MAX_CMSG_FDS);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		m.msg_control = cm.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		r = sendmsg(sock, &m, MSG_NOSIGNAL | flags);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return (size_t)r == len ? 0 : -EMSGSIZE;
}

ssize_t pw__fs_recv(int sock, void *buf, size_t cap, int *fds, int max_fds,
                    int *nfds, int *trunc, int flags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * PW_FS_MAX_CMSG_FDS)];
	} cm;
	struct iovec iov = { buf, cap };
	struct msghdr m;
	struct cmsghdr *c;
	ssize_t r;
	int n = 0;

	*nfds = 0;
	*trunc = 0;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = cm.b;
	m.msg_controllen = sizeof(cm.b);
	do
		r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | flags);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		*trunc = 1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		int k, cnt, got[PW_FS_MAX_CMSG_FDS];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (cnt > PW_FS_MAX_CMSG_FDS)
			cnt = PW_FS_MAX_CMSG_FDS;
		memcpy(got, CMSG_DATA(c), sizeof(int) * (size_t)cnt);
		for (k = 0; k < cnt; k++) {
			if (n < max_fds) {
				fds[n++] = got[k];
			} else {
				close(got[k]);
				*trunc = 1;
			}
		}
	}
	*nfds = n;
	return r;
}
