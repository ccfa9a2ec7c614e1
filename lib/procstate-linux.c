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

int pw__proc_stat(pid_t pid, uint64_t *starttime)
{
	char buf[1024];
	ssize_t n = read_small(pid, "stat", buf, sizeof(buf));
	char *rp, *q;
	int field, state;

	if (starttime)
		*starttime = 0;
	if (n < 0)
		return (int)n;
	/* comm may hold ')' and spaces: the state follows the last ')'. */
	rp = memrchr(buf, ')', (size_t)n);
	if (!rp || rp + 2 >= buf + n || rp[1] != ' ')
		return -EPROTO;
	state = (unsigned char)rp[2];
	if (!starttime)
		return state;
	/* The state is field 3; starttime is field 22. */
	q = rp + 2;
	for (field = 3; field < 22 && q; field++) {
		q = strchr(q, ' ');
		if (q)
			q++;
	}
	if (q) {
		uint64_t v = 0;

		while (*q >= '0' && *q <= '9' && v <= (UINT64_MAX - 9) / 10)
			v = v * 10 + (uint64_t)(*q++ - '0');
		*starttime = v;
	}
	return state;
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
