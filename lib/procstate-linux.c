/* SPDX-License-Identifier: MIT */
/* Minimal /proc readers the wait core needs: a task's state letter (is a
 * non-child a zombie yet?) and its thread-group id (a pid or a tid?). The
 * full reader is procinfo's job. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

/* Skip to the start of field number `to` (1-based), from field `from`,
 * whose first byte is at p. NULL when the line ends first. */
static const char *skip_fields(const char *p, int from, int to)
{
	for (; from < to && p; from++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p;
}

static uint64_t scan_u64(const char *p)
{
	uint64_t v = 0;

	while (*p >= '0' && *p <= '9' && v <= (UINT64_MAX - 9) / 10)
		v = v * 10 + (uint64_t)(*p++ - '0');
	return v;
}

int pw__proc_stat(pid_t pid, struct pw__stat *st)
{
	char buf[1024];
	ssize_t n = read_small(pid, "stat", buf, sizeof(buf));
	const char *rp, *q;

	st->state = 0;
	st->num_threads = -1;
	st->starttime = 0;
	if (n < 0)
		return (int)n;
	/* comm may hold ')' and spaces: the state (field 3) follows the last
	 * ')'; num_threads is field 20, starttime field 22. */
	rp = memrchr(buf, ')', (size_t)n);
	if (!rp || rp + 2 >= buf + n || rp[1] != ' ')
		return -EPROTO;
	st->state = (unsigned char)rp[2];
	q = skip_fields(rp + 2, 3, 20);
	if (q && *q >= '0' && *q <= '9')
		st->num_threads = (long)scan_u64(q);
	q = skip_fields(q, 20, 22);
	if (q)
		st->starttime = scan_u64(q);
	return 0;
}

int pw__proc_tgid(pid_t pid)
{
	char buf[2048];
	ssize_t n = read_small(pid, "status", buf, sizeof(buf));
	const char *p;
	long tgid;

	if (n < 0)
		return (int)n;
	p = strstr(buf, "\nTgid:");
	if (!p || sscanf(p + 6, "%ld", &tgid) != 1 || tgid <= 0)
		return -EPROTO;
	return (int)tgid;
}
