/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the cgroup parsers (lib/cgroup-parse.c): the text
 * of /proc/self/cgroup, /proc/self/mountinfo and cgroup.events. Whatever
 * the bytes: no crash, no read outside them (a heap copy of exactly the
 * input, so ASan sees any overrun), and the results keep their
 * invariants. The first byte sizes the output buffers (1..256). */
#define _GNU_SOURCE 1   /* memmem */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs-cgroup.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* out holds a NUL-terminated absolute path within size bytes. */
static void check_path(const char *out, size_t size)
{
	CHECK(memchr(out, '\0', size) != NULL);
	CHECK(out[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *a, *b, *path;
	size_t n, cap, pos = 0;
	int rc;

	if (size < 1)
		return 0;
	cap = (size_t)data[0] + 1;
	n = size - 1;
	text = malloc(n ? n : 1);
	a = malloc(cap);
	b = malloc(cap);
	if (!text || !a || !b)
		goto out;
	memcpy(text, data + 1, n);

	rc = pw__cg_parse_self(text, n, a, cap);
	CHECK(rc == -ENOENT || rc == -ERANGE || rc >= 1);
	if (rc >= 1) {
		check_path(a, cap);
		CHECK(strlen(a) == (size_t)rc && (size_t)rc < cap);
		CHECK(memmem(text, n, "0::", 3) != NULL);
	}

	/* Every mount in turn: the position only moves forward. */
	for (;;) {
		size_t before = pos;

		rc = pw__cg_parse_mount(text, n, &pos, a, cap, b, cap);
		CHECK(rc == 0 || rc == -ENOENT || rc == -ERANGE);
		CHECK(pos <= n && (pos > before || (rc == -ENOENT && pos == n)));
		if (rc == -ENOENT)
			break;
		if (rc == 0) {
			check_path(a, cap);
			check_path(b, cap);
			CHECK(memmem(text, n, "cgroup2", 7) != NULL);
		}
	}

	/* A path: NUL-terminated copy of the input. */
	path = malloc(n + 1);
	if (path) {
		memcpy(path, text, n);
		path[n] = '\0';
		rc = pw__cg_is_run_of(path, 42);
		CHECK(rc == 0 || rc == 1);
		if (rc)
			CHECK(strstr(path, "/procwait-42-") && strstr(path, "/run-"));
		free(path);
	}

	rc = pw__cg_parse_populated(text, n);
	CHECK(rc == 0 || rc == 1 || rc == -EPROTO);
	if (rc >= 0)
		CHECK(memmem(text, n, "populated ", 10) != NULL);
out:
	free(text);
	free(a);
	free(b);
	return 0;
}
