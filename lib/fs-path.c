/* SPDX-License-Identifier: MIT */
/*
 * Where a fork server's socket lives: $XDG_RUNTIME_DIR/procwait/NAME.sock,
 * else $TMPDIR/procwait-UID/NAME.sock, in a directory that must be private
 * to the user (DESIGN.md §6; CVE-2022-42919 was a socket anyone could reach).
 */
#include "internal.h"
#include "fs-net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/un.h>

static int name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > PROCWAIT_FORKSERVER_MAX_NAME || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int pw__fs_check_dir(const char *dir, int create)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		if (errno != ENOENT || !create)
			return -errno;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (lstat(dir, &st) < 0)
			return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

int pw__fs_check_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return pw__fs_check_dir(".", 0);
	n = (size_t)(slash - path);
	if (n == 0)
		return -EPERM;   /* the root directory is nobody's private place */
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return pw__fs_check_dir(dir, 0);
}

int pw__fs_sockaddr(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n + 1);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

PROCWAIT_EXTERN int procwait_forkserver_socket_path(const char *name, int create,
                                                     char *buf, size_t size)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	const char *base = secure_getenv("XDG_RUNTIME_DIR");
	int n, rc;

	pw__check_arg(buf);
	if (!name)
		name = "default";
	pw__check_arg(name_ok(name));
	if (base && base[0] == '/') {
		n = snprintf(dir, sizeof(dir), "%s/procwait", base);
	} else {
		base = secure_getenv("TMPDIR");
		if (!base || base[0] != '/')
			base = "/tmp";
		n = snprintf(dir, sizeof(dir), "%s/procwait-%lu", base,
		             (unsigned long)geteuid());
	}
	if (n < 0 || (size_t)n + 1 + strlen(name) + 5 >=
	             sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	rc = pw__fs_check_dir(dir, create);
	if (rc < 0)
		return rc;
	n = snprintf(buf, size, "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= size)
		return -ERANGE;
	return n;
}
