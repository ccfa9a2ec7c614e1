/* SPDX-License-Identifier: MIT */
/*
 * Parsers of /proc/self/cgroup, /proc/self/mountinfo and cgroup.events
 * (fs-cgroup.h). Pure functions over bytes: no system calls, no
 * allocation, no dependence on NUL termination.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs-cgroup.h"

/* The line starting at buf[i] ends at the returned index (its '\n' or n). */
static size_t line_end(const char *buf, size_t n, size_t i)
{
	const char *nl = memchr(buf + i, '\n', n - i);

	return nl ? (size_t)(nl - buf) : n;
}

int pw__cg_parse_self(const char *buf, size_t n, char *out, size_t size)
{
	static const char deleted[] = " (deleted)";
	size_t i = 0, e, len;

	while (i < n) {
		e = line_end(buf, n, i);
		if (e - i >= 4 && memcmp(buf + i, "0::/", 4) == 0) {
			len = e - i - 3;
			if (len >= sizeof(deleted) - 1 &&
			    memcmp(buf + e - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0)
				return -ENOENT;
			if (memchr(buf + i + 3, '\0', len))
				return -ENOENT;
			if (len >= size)
				return -ERANGE;
			memcpy(out, buf + i + 3, len);
			out[len] = '\0';
			return (int)len;
		}
		i = e + 1;
	}
	return -ENOENT;
}

/* Copy a mountinfo field, undoing the kernel's octal escapes (\040 for a
 * space, and so on). 0, -ERANGE, or -ENOENT for a malformed field. */
static int unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			ch = (unsigned char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) |
			                     (s[i + 3] - '0'));
			i += 3;
		}
		if (ch == '\0')
			return -ENOENT;
		if (o + 1 >= size)
			return -ERANGE;
		out[o++] = (char)ch;
	}
	if (o == 0 || out[0] != '/')
		return -ENOENT;
	out[o] = '\0';
	return 0;
}

int pw__cg_parse_mount(const char *buf, size_t n, size_t *pos, char *root, size_t rsize,
                       char *mnt, size_t msize)
{
	size_t i = *pos, e;

	while (i < n) {
		/* id parent major:minor root mountpoint options [optional...] - fstype ... */
		const char *f[6];
		size_t fl[6], j, k = 0, start;
		int dash = 0, rc;

		e = line_end(buf, n, i);
		*pos = e < n ? e + 1 : n;
		j = i;
		while (j < e) {
			while (j < e && buf[j] == ' ')
				j++;
			if (j >= e)
				break;
			start = j;
			while (j < e && buf[j] != ' ')
				j++;
			if (dash) {
				/* the field after " - ": the file system type */
				if (j - start == 7 && memcmp(buf + start, "cgroup2", 7) == 0 && k == 6) {
					rc = unescape(f[3], fl[3], root, rsize);
					if (rc == 0)
						rc = unescape(f[4], fl[4], mnt, msize);
					if (rc != -ENOENT)
						return rc;
				}
				break;
			}
			if (j - start == 1 && buf[start] == '-' && k == 6) {
				dash = 1;
				continue;
			}
			if (k < 6) {
				f[k] = buf + start;
				fl[k] = j - start;
				k++;
			}
		}
		i = *pos;
		if (e >= n)
			break;
	}
	*pos = n;
	return -ENOENT;
}

int pw__cg_parse_populated(const char *buf, size_t n)
{
	static const char key[] = "populated ";
	size_t i = 0, e, kl = sizeof(key) - 1;

	while (i < n) {
		e = line_end(buf, n, i);
		if (e - i == kl + 1 && memcmp(buf + i, key, kl) == 0 &&
		    (buf[i + kl] == '0' || buf[i + kl] == '1'))
			return buf[i + kl] - '0';
		i = e + 1;
	}
	return -EPROTO;
}

/* At least one digit, then the end of s or stop: the end, or NULL. */
static const char *digits(const char *s, char stop)
{
	const char *p = s;

	while (*p >= '0' && *p <= '9')
		p++;
	return p > s && *p == stop ? p : NULL;
}

int pw__cg_is_run_of(const char *path, long pid)
{
	char name[32];
	const char *run, *srv, *p;
	size_t nl;

	run = strrchr(path, '/');
	if (!run || run == path || strncmp(run + 1, "run-", 4) != 0 || !digits(run + 5, '\0'))
		return 0;
	srv = run - 1;
	while (srv > path && *srv != '/')
		srv--;
	if (*srv != '/')
		return 0;
	nl = (size_t)snprintf(name, sizeof(name), "/procwait-%ld-", pid);
	if (pid <= 0 || nl >= sizeof(name) || (size_t)(run - srv) <= nl ||
	    strncmp(srv, name, nl) != 0)
		return 0;
	p = digits(srv + nl, '/');
	return p == run;
}
