/* SPDX-License-Identifier: MIT */
/* The controlling terminal's name from its device number (stat's tty_nr).
 *
 * psutil lists /dev and stats every tty to build a map; procwait computes
 * the name instead: Unix98 pty slaves (majors 136-143) are /dev/pts/N from
 * the number alone, and any other terminal is named by the kernel in
 * /sys/dev/char/MAJOR:MINOR/uevent (DEVNAME=). */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST 143

static int put(char *buf, size_t size, const char *pfx, const char *name, size_t len)
{
	size_t p = strlen(pfx);

	if (p + len + 1 > size)
		return -ERANGE;
	memcpy(buf, pfx, p);
	memcpy(buf + p, name, len);
	buf[p + len] = '\0';
	return (int)(p + len);
}

/* DEVNAME of a character device from sysfs: its length, or -ENODATA. */
static int sysfs_devname(unsigned major, unsigned minor, char *buf, size_t size)
{
	char path[64], text[512];
	const char *p, *end, *eol;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/uevent", major, minor);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -ENODATA;
	do
		n = read(fd, text, sizeof(text));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -ENODATA;
	end = text + n;
	for (p = text; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (eol - p > 8 && memcmp(p, "DEVNAME=", 8) == 0)
			return put(buf, size, "/dev/", p + 8, (size_t)(eol - p - 8));
		if (eol == end)
			break;
	}
	return -ENODATA;
}

int pw__tty_name(uint64_t tty_nr, char *buf, size_t size)
{
	/* stat prints tty_nr as a signed int in the "new" 32-bit encoding:
	 * major in bits 8-19, minor in bits 0-7 and 20-31. */
	uint32_t dev = (uint32_t)tty_nr;
	unsigned major = (dev >> 8) & 0xfffu;
	unsigned minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
	char num[24];

	if (dev == 0)
		return put(buf, size, "", "", 0);
	if (major >= PTS_MAJOR_FIRST && major <= PTS_MAJOR_LAST) {
		int len = snprintf(num, sizeof(num), "%u",
		                   (major - PTS_MAJOR_FIRST) * 256u + minor);

		return put(buf, size, "/dev/pts/", num, (size_t)len);
	}
	return sysfs_devname(major, minor, buf, size);
}
