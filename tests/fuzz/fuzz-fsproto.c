/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the fork server's frame decoder (lib/fs-proto.c):
 * whatever the bytes, no crash, no read outside them, no leak, and the
 * results keep their invariants. The first input byte selects: bit 0 the
 * "truncated" flag for pw__fs_frame, bits 1-7 one more ERROR message
 * buffer size (0..127); the rest is one received message. That message is
 * framed and its payload decoded by its type, and the raw bytes are also
 * decoded directly as every payload kind, header or not. A decoded REQUEST
 * must encode back to the very same bytes: the format is canonical. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs-proto.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t frame[PROCWAIT_FORKSERVER_MAX_FRAME];
static struct procwait_request sentinel;   /* *out must not stay at this */

static size_t count(char *const *v, size_t max)
{
	size_t n = 0;

	while (n <= max && v[n])
		n++;
	return n;
}

static void check_request(const uint8_t *p, size_t n)
{
	struct procwait_request *r = &sentinel;
	const char *why = "unset";
	const uint8_t *q;
	size_t argc, envc, len;
	int rc, enc;

	rc = pw__fs_request_decode(p, n, &r, &why);
	if (rc < 0) {
		CHECK(r == NULL && why != NULL);
		CHECK(rc == -EPROTO || rc == -E2BIG || rc == -ENOMEM);
		return;
	}
	CHECK(rc == 0 && r != NULL && why == NULL);
	CHECK(r->argv != NULL && r->argv[0] != NULL && r->envp != NULL);
	argc = count(r->argv, PROCWAIT_FORKSERVER_MAX_ARGS);
	envc = count(r->envp, PROCWAIT_FORKSERVER_MAX_ENV);
	CHECK(argc >= 1 && argc <= PROCWAIT_FORKSERVER_MAX_ARGS);
	CHECK(envc <= PROCWAIT_FORKSERVER_MAX_ENV);
	CHECK(r->argv[argc] == NULL && r->envp[envc] == NULL);
	CHECK(r->cwd != NULL && r->cwd[0] == '/');
	CHECK(strlen(r->cwd) <= PROCWAIT_FORKSERVER_MAX_CWD);
	CHECK(r->fds[0] == -1 && r->fds[1] == -1 && r->fds[2] == -1);
	CHECK((r->flags & ~(unsigned)PROCWAIT_CLIENT_PTY) == 0);
	CHECK(r->timeout_ms >= -1 && r->owner == NULL);

	/* Round trip: only payloads that fit in a frame can be re-encoded. */
	if (n <= PW_FS_MAX_PAYLOAD) {
		enc = pw__fs_request_encode(frame, sizeof(frame), r->flags, r->timeout_ms,
		                            r->argv, r->envp, r->cwd);
		CHECK(enc > 0 && (size_t)enc == PW_FS_HEADER + n);
		CHECK(pw__fs_frame(frame, (size_t)enc, 0, &q, &len) == PW_FS_REQUEST);
		CHECK(q == frame + PW_FS_HEADER && len == n);
		CHECK(memcmp(q, p, n) == 0);
	}
	pw__fs_request_free(r);
}

static void check_int(const uint8_t *p, size_t n)
{
	uint8_t buf[PW_FS_HEADER + 64];
	int32_t v;

	if (pw__fs_int_decode(p, n, &v) < 0)
		return;
	CHECK(n == 4);
	CHECK(pw__fs_int_encode(buf, PW_FS_SIGNAL, v) == PW_FS_HEADER + 4);
	CHECK(memcmp(buf + PW_FS_HEADER, p, 4) == 0);
}

static void check_exited(const uint8_t *p, size_t n)
{
	uint8_t buf[PW_FS_HEADER + 64];
	struct pw__fs_exited e, again;
	const uint8_t *q;
	size_t len, flen;

	if (pw__fs_exited_decode(p, n, &e) < 0)
		return;
	CHECK(e.kind >= 0 && e.kind <= 2);
	CHECK(e.core == 0 || e.core == 1);
	CHECK(e.timed_out == 0 || e.timed_out == 1);
	CHECK(e.utime_us >= 0 && e.stime_us >= 0 && e.maxrss_kib >= 0);
	/* What decodes encodes to a frame that decodes to the same. */
	flen = pw__fs_exited_encode(buf, &e);
	CHECK(flen <= sizeof(buf));
	CHECK(pw__fs_frame(buf, flen, 0, &q, &len) == PW_FS_EXITED);
	CHECK(len == n && pw__fs_exited_decode(q, len, &again) == 0);
	CHECK(again.kind == e.kind && again.code == e.code && again.signo == e.signo &&
	      again.core == e.core && again.timed_out == e.timed_out &&
	      again.utime_us == e.utime_us && again.stime_us == e.stime_us &&
	      again.maxrss_kib == e.maxrss_kib);
}

static void check_started(const uint8_t *p, size_t n)
{
	uint8_t buf[PW_FS_HEADER + 8 + PW_FS_MAX_CGROUP];
	char cg[PW_FS_MAX_CGROUP + 1], again[PW_FS_MAX_CGROUP + 1];
	const uint8_t *q;
	size_t len, flen;
	int32_t pid, pid2;
	int rc;

	memset(cg, 'X', sizeof(cg));
	rc = pw__fs_started_decode(p, n, &pid, cg, sizeof(cg));
	if (rc < 0) {
		CHECK(rc == -EPROTO);
		return;
	}
	CHECK(pid > 0 && memchr(cg, '\0', sizeof(cg)) != NULL);
	CHECK(cg[0] == '\0' ? n == 4 : (cg[0] == '/' && n == 8 + strlen(cg)));
	/* Canonical: what decodes encodes to the same bytes. */
	flen = pw__fs_started_encode(buf, pid, cg[0] ? cg : NULL);
	CHECK(pw__fs_frame(buf, flen, 0, &q, &len) == PW_FS_STARTED);
	CHECK(len == n && memcmp(q, p, n) == 0);
	CHECK(pw__fs_started_decode(q, len, &pid2, again, sizeof(again)) == 0);
	CHECK(pid2 == pid && strcmp(again, cg) == 0);
}

/* One ERROR decode into msg of size bytes (msg may be NULL when size 0). */
static void check_error1(const uint8_t *p, size_t n, char *msg, size_t size)
{
	int err = 0, rc;
	size_t i, len;

	if (size)
		memset(msg, 'X', size);
	rc = pw__fs_error_decode(p, n, &err, msg, size);
	if (rc < 0) {
		CHECK(rc == -EPROTO);
		return;
	}
	CHECK(rc == 0 && err >= 1 && err <= 4095 && n >= 8);
	if (size == 0)
		return;
	CHECK(memchr(msg, '\0', size) != NULL);   /* NUL-terminated inside msg */
	len = strlen(msg);
	CHECK(len == (n - 8 < size - 1 ? n - 8 : size - 1));
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)msg[i], in = p[8 + i];

		CHECK(ch >= 0x20 && ch != 0x7f);
		CHECK(ch == in || (ch == '?' && (in < 0x20 || in == 0x7f)));
	}
}

static void check_error(const uint8_t *p, size_t n, size_t extra)
{
	char big[PW_FS_MAX_MESSAGE + 1], one[1], *var;

	check_error1(p, n, big, sizeof(big));
	check_error1(p, n, one, sizeof(one));
	check_error1(p, n, NULL, 0);
	/* a heap buffer of exactly extra bytes, so ASan sees any overrun */
	var = extra ? malloc(extra) : NULL;
	if (extra && !var)
		return;
	check_error1(p, n, var, extra);
	free(var);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *msg, *payload = NULL;
	size_t n, len = 0, extra;
	int truncated, type;

	if (size < 1)
		return 0;
	truncated = data[0] & 1;
	extra = data[0] >> 1;
	msg = data + 1;
	n = size - 1;

	type = pw__fs_frame(msg, n, truncated, &payload, &len);
	if (type > 0) {
		CHECK(!truncated && type <= 0xffff);
		CHECK(payload == msg + PW_FS_HEADER && len == n - PW_FS_HEADER);
		switch (type) {
		case PW_FS_REQUEST:
			check_request(payload, len);
			break;
		case PW_FS_SIGNAL:
			check_int(payload, len);
			break;
		case PW_FS_STARTED:
			check_started(payload, len);
			break;
		case PW_FS_EXITED:
			check_exited(payload, len);
			break;
		case PW_FS_ERROR:
			check_error(payload, len, extra);
			break;
		default:
			break;
		}
	} else {
		CHECK(type == -EPROTO || type == -EPROTONOSUPPORT || type == -EMSGSIZE);
		CHECK(!truncated || type == -EMSGSIZE);
	}

	/* The raw bytes as a payload: no header needed to reach the decoders. */
	check_request(msg, n);
	check_int(msg, n);
	check_started(msg, n);
	check_exited(msg, n);
	check_error(msg, n, extra);
	return 0;
}
