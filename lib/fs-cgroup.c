/* SPDX-License-Identifier: MIT */
/*
 * A cgroup per fork-server run: the system calls (fs-cgroup.h).
 */
#include "internal.h"
#include "fs-cgroup.h"
#include "fs-proto.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define PW_CG_RETRY_MIN_MS 50
#define PW_CG_RETRY_MAX_MS 10000
#define PW_CG_FINI_WAIT_MS 200    /* killed runs empty within that */
#define PW_CG_MOUNTINFO_MAX (4 << 20)

/* Read a whole file into a malloc'd buffer (NUL-terminated): its length,
 * or -errno. */
static ssize_t read_all(const char *path, char **out)
{
	size_t cap = 4096, len = 0;
	char *buf = NULL, *nb;
	ssize_t n;
	int fd, e;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || len + 1 >= cap) {
			if (buf)
				cap *= 2;
			if (cap > PW_CG_MOUNTINFO_MAX || !(nb = realloc(buf, cap))) {
				free(buf);
				close(fd);
				return cap > PW_CG_MOUNTINFO_MAX ? -EFBIG : -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	e = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		return -e;
	}
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

/* Write a short string to dir/file: 0 or -errno. */
static int write_file(const char *dir, const char *file, const char *s)
{
	char path[PW_FS_MAX_CGROUP + 32];
	size_t len = strlen(s);
	ssize_t n;
	int fd, rc = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, s, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != len)
		rc = -EIO;
	close(fd);
	return rc;
}

int pw__cg_enter(const char *path)
{
	return write_file(path, "cgroup.procs", "0");
}

int pw__cg_kill(const char *path)
{
	return write_file(path, "cgroup.kill", "1");
}

/* 1 while processes are in the cgroup, 0 once empty, -errno. */
static int populated_fd(int fd)
{
	char buf[256];
	ssize_t n;

	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return pw__cg_parse_populated(buf, (size_t)n);
}

/* Wait up to ms for the cgroup to empty: 0 once empty, -ETIMEDOUT, or
 * -errno. The kernel wakes poll(POLLPRI) when cgroup.events changes. */
static int wait_empty(const char *dir, int ms)
{
	char path[PW_FS_MAX_CGROUP + 32];
	pw__deadline d;
	int fd, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.events", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	pw__deadline_init(&d, ms);
	for (;;) {
		struct pollfd p = { fd, POLLPRI, 0 };

		rc = populated_fd(fd);
		if (rc <= 0)
			break;
		if (pw__deadline_ms(&d) == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, pw__deadline_ms(&d)) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
	}
	close(fd);
	return rc;
}

/* ---- the server's directory -------------------------------------------- */

#define PW_CG_MAX_DEPTH 8

/* The pid in a server's directory name "procwait-PID-ID", or -1. */
static long server_dir_pid(const char *name)
{
	char *end;
	long pid;

	if (strncmp(name, "procwait-", 9) != 0)
		return -1;
	pid = strtol(name + 9, &end, 10);
	if (end == name + 9 || *end != '-' || pid <= 0 || pid > INT32_MAX)
		return -1;
	return pid;
}

/* The server of a directory may be running (ours included). */
static int server_may_live(long pid)
{
	return pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* rmdir the cgroup dir, with what is below it when no process is left in
 * any of it (a run's own fork server, killed with it, leaves its
 * directories). With a process in the subtree nothing below is touched,
 * nor a directory of a server that may be running (its next run may be
 * about to enter it). 0, -EBUSY while in use, or -errno. */
static int remove_cgroup(const char *dir, int depth)
{
	char path[PW_FS_MAX_CGROUP + 300];
	struct dirent *e;
	DIR *d;

	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY)
		return -errno;
	if (depth >= PW_CG_MAX_DEPTH || wait_empty(dir, 0) != 0 || !(d = opendir(dir)))
		return -EBUSY;
	while ((e = readdir(d)) != NULL) {
		long pid = server_dir_pid(e->d_name);

		if (e->d_type != DT_DIR || e->d_name[0] == '.' || (pid > 0 && server_may_live(pid)) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		(void)remove_cgroup(path, depth + 1);
	}
	closedir(d);
	return rmdir(dir) == 0 || errno == ENOENT ? 0 : -errno;
}

/* A server that was killed leaves its directory (its client removes only
 * its own run's). Remove those of servers that are gone, when empty. */
static void sweep_stale(const char *own)
{
	char path[PW_FS_MAX_CGROUP + 300];
	struct dirent *e;
	DIR *d = opendir(own);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		long pid = server_dir_pid(e->d_name);

		if (pid <= 0 || server_may_live(pid))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", own, e->d_name) < sizeof(path))
			(void)remove_cgroup(path, 0);
	}
	closedir(d);
}

/* *why = "WHAT ARG: the error's text"; returns rc. */
static int say(char *why, size_t size, int rc, const char *what, const char *arg)
{
	snprintf(why, size, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", strerror(-rc));
	return rc;
}

/* Find the cgroup2 mount that shows self (a path in the hierarchy) and
 * self's directory under it, into out. 0, or -errno with *why set. */
static int find_own(const char *self, char *out, size_t osize, char *why, size_t size)
{
	char root[PW_FS_MAX_CGROUP + 1], mnt[PW_FS_MAX_CGROUP + 1];
	size_t pos = 0, rl;
	const char *rel;
	char *text;
	ssize_t n;
	int rc, seen = 0;

	n = read_all("/proc/self/mountinfo", &text);
	if (n < 0)
		return say(why, size, (int)n, "/proc/self/mountinfo", NULL);
	/* The first mount whose root holds our cgroup (a container may have
	 * several cgroup2 mounts, of other hierarchies' parts). */
	while ((size_t)n > pos) {
		rc = pw__cg_parse_mount(text, (size_t)n, &pos, root, sizeof(root), mnt, sizeof(mnt));
		if (rc == -ENOENT)
			break;
		seen = 1;
		rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (rc < 0 || strncmp(self, root, rl) != 0 || (self[rl] != '/' && self[rl] != '\0'))
			continue;
		free(text);
		rel = strcmp(self + rl, "/") == 0 ? "" : self + rl;
		/* Room for "/procwait-PID-ID/run-N" within the protocol's limit. */
		if (strlen(mnt) + strlen(rel) + 64 > PW_FS_MAX_CGROUP || osize <= PW_FS_MAX_CGROUP)
			return say(why, size, -ENAMETOOLONG, "the cgroup path", self);
		snprintf(out, osize, "%s%s", strcmp(mnt, "/") == 0 ? "" : mnt, rel);
		return 0;
	}
	free(text);
	if (seen)
		return say(why, size, -ENOENT, "no cgroup2 mount shows the cgroup", self);
	return say(why, size, -ENOTSUP, "no cgroup2 file system mounted", NULL);
}

int pw__cg_init(struct pw__cg *cg, unsigned long id, char *why, size_t size)
{
	char self[PW_FS_MAX_CGROUP + 1], path[PW_FS_MAX_CGROUP + 64];
	char *text;
	ssize_t n;
	int rc;

	memset(cg, 0, sizeof(*cg));
	n = read_all("/proc/self/cgroup", &text);
	if (n < 0)
		return say(why, size, (int)n, "/proc/self/cgroup", NULL);
	rc = pw__cg_parse_self(text, (size_t)n, self, sizeof(self));
	free(text);
	if (rc < 0)
		return say(why, size, rc == -ENOENT ? -ENOTSUP : rc,
		           "no cgroup v2 membership in /proc/self/cgroup", NULL);
	rc = find_own(self, path, sizeof(path), why, size);
	if (rc < 0)
		return rc;
	cg->own = strdup(path);
	if (!cg->own)
		return say(why, size, -ENOMEM, "memory", NULL);
	/* Moving the child out of our cgroup needs write access there
	 * (delegation); the kernel checks it at the move. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->own);
	if (access(path, W_OK) < 0) {
		rc = say(why, size, -errno, "cannot move processes out of", cg->own);
		goto fail;
	}
	sweep_stale(cg->own);
	/* PID and an id of this server's own (its socket's inode): a server
	 * that dies leaves a name no later server takes, whatever its pid. */
	snprintf(path, sizeof(path), "%s/procwait-%ld-%lu", cg->own, (long)getpid(), id);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		rc = say(why, size, -errno, "cannot create a cgroup in", cg->own);
		goto fail;
	}
	cg->base = strdup(path);
	if (!cg->base) {
		rmdir(path);
		rc = say(why, size, -ENOMEM, "memory", NULL);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/cgroup.kill", cg->base);
	if (access(path, W_OK) < 0) {
		rc = say(why, size, -errno, "no cgroup.kill (Linux 5.14 and later) in", cg->base);
		rmdir(cg->base);
		goto fail;
	}
	cg->retry_ms = PW_CG_RETRY_MIN_MS;
	return 0;
fail:
	free(cg->own);
	free(cg->base);
	cg->own = cg->base = NULL;
	return rc;
}

int pw__cg_run_new(struct pw__cg *cg, char **path)
{
	char p[PW_FS_MAX_CGROUP + 1];
	int tries, remade = 0;

	*path = NULL;
	if (!cg->base)
		return -ENOTSUP;
	for (tries = 0; tries < 64; tries++) {
		snprintf(p, sizeof(p), "%s/run-%u", cg->base, cg->seq++);
		if (mkdir(p, 0755) == 0) {
			*path = strdup(p);
			if (!*path) {
				rmdir(p);
				return -ENOMEM;
			}
			return 0;
		}
		if (errno == EEXIST)
			continue;   /* a run of an earlier server with our pid */
		if (errno != ENOENT || remade)
			return -errno;
		/* The directory went: a client whose server it took for dead
		 * removed it (fs-client.c). Make it again, once. */
		remade = 1;
		if (mkdir(cg->base, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

void pw__cg_run_done(struct pw__cg *cg, char *path)
{
	char **nl;

	if (!path)
		return;
	if (remove_cgroup(path, 0) != -EBUSY) {
		free(path);   /* removed, or never will be (EACCES, EROFS, ...) */
		return;
	}
	if (cg->nlinger == cg->cap) {
		int cap = cg->cap ? 2 * cg->cap : 8;

		nl = realloc(cg->linger, (size_t)cap * sizeof(*nl));
		if (!nl) {
			free(path);   /* out of memory: the directory stays */
			return;
		}
		cg->linger = nl;
		cg->cap = cap;
	}
	cg->linger[cg->nlinger++] = path;
	if (!cg->retry_at) {
		cg->retry_ms = PW_CG_RETRY_MIN_MS;
		cg->retry_at = pw__now_ns() + (int64_t)cg->retry_ms * 1000000;
	}
}

void pw__cg_sweep(struct pw__cg *cg, int64_t now)
{
	int i, j;

	if (!cg->retry_at || now < cg->retry_at)
		return;
	for (i = j = 0; i < cg->nlinger; i++) {
		if (remove_cgroup(cg->linger[i], 0) != -EBUSY)
			free(cg->linger[i]);
		else
			cg->linger[j++] = cg->linger[i];
	}
	cg->nlinger = j;
	if (j == 0) {
		cg->retry_at = 0;
		return;
	}
	/* Survivors may run for long: back off. */
	cg->retry_ms = cg->retry_ms >= PW_CG_RETRY_MAX_MS / 2 ? PW_CG_RETRY_MAX_MS :
	               2 * cg->retry_ms;
	cg->retry_at = now + (int64_t)cg->retry_ms * 1000000;
}

int64_t pw__cg_next(const struct pw__cg *cg)
{
	return cg->retry_at ? cg->retry_at : INT64_MAX;
}

/* Move every process of dir into the cgroup to (cgroup.procs lists
 * them). */
static void evict(const char *dir, const char *to)
{
	char path[PW_FS_MAX_CGROUP + 32];
	char *text, *p, *end;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	n = read_all(path, &text);
	if (n < 0)
		return;
	for (p = text; *p; p = end) {
		long pid = strtol(p, &end, 10);
		char num[24];

		if (end == p)
			break;
		snprintf(num, sizeof(num), "%ld", pid);
		(void)write_file(to, "cgroup.procs", num);
	}
	free(text);
}

void pw__cg_fini(struct pw__cg *cg)
{
	pw__deadline d;
	int i, round;

	pw__deadline_init(&d, PW_CG_FINI_WAIT_MS);
	for (i = 0; i < cg->nlinger; i++) {
		char *dir = cg->linger[i];

		/* A run just killed empties in a moment; a survivor of a run
		 * that ended by itself goes back where it came from. Eviction
		 * races with forks inside: a few rounds. */
		(void)wait_empty(dir, pw__deadline_ms(&d));
		for (round = 0; round < 8 && remove_cgroup(dir, 0) == -EBUSY; round++)
			evict(dir, cg->own);
		free(dir);
	}
	free(cg->linger);
	if (cg->base)
		rmdir(cg->base);
	free(cg->base);
	free(cg->own);
	memset(cg, 0, sizeof(*cg));
}

void pw__cg_forget(struct pw__cg *cg)
{
	int i;

	for (i = 0; i < cg->nlinger; i++)
		free(cg->linger[i]);
	free(cg->linger);
	free(cg->base);
	free(cg->own);
	memset(cg, 0, sizeof(*cg));
}

/* ---- the client's part ------------------------------------------------- */

void pw__cg_remove_run(const char *path, int wait_ms, int server_dead)
{
	char parent[PW_FS_MAX_CGROUP + 1];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return;
	*slash = '\0';
	/* With the server dead, its whole directory once nothing is left in
	 * it: this run's cgroup and the others (its spare's, say, which the
	 * parent-death signal empties). Else this run's, and the server's
	 * directory only when that was its last run (the server makes it
	 * again, pw__cg_run_new()). */
	if (server_dead) {
		(void)wait_empty(parent, wait_ms);
		(void)remove_cgroup(parent, 0);
	} else if (wait_empty(path, wait_ms) == 0 && rmdir(path) == 0) {
		(void)rmdir(parent);
	}
}
