/* SPDX-License-Identifier: MIT */
/* Minimal /proc readers the wait core needs: a task's state letter (is a
 * non-child a zombie yet?) and its thread-group id (a pid or a tid?). They
 * read by path, once; the cached readers are procinfo-linux.c's. Both use
 * the procinfo parsers. */
#include "internal.h"
#include "procinfo-parse.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static ssize_t read_small(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return n;
}

int pw__proc_stat(pid_t pid, struct pw__stat *st)
{
	char buf[2048];
	ssize_t n = read_small(pid, "stat", buf, sizeof(buf));
	struct pw__statline sl;
	int r;

	st->state = 0;
	st->ppid = -1;
	st->num_threads = -1;
	st->starttime = 0;
	if (n < 0)
		return (int)n;
	r = pw__parse_stat(buf, (size_t)n, pid, &sl);
	if (r < 0)
		return r;
	st->state = sl.state;
	if (sl.have[PW_STAT_PPID])
		st->ppid = (long)sl.v[PW_STAT_PPID];
	if (sl.have[PW_STAT_NUM_THREADS])
		st->num_threads = (long)sl.v[PW_STAT_NUM_THREADS];
	if (sl.have[PW_STAT_STARTTIME])
		st->starttime = sl.v[PW_STAT_STARTTIME];
	return 0;
}

int pw__proc_tgid(pid_t pid)
{
	char buf[2048];
	ssize_t n = read_small(pid, "status", buf, sizeof(buf));
	struct pw__status ps;

	if (n < 0)
		return (int)n;
	pw__parse_status(buf, (size_t)n, &ps);
	if (!(ps.have & PW_STATUS_TGID))
		return -EPROTO;
	return (int)ps.tgid;
}
