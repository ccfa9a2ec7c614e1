/* SPDX-License-Identifier: MIT */
/*
 * Encoding and decoding of the fork server's frames. Pure functions over
 * bytes; see fs-proto.h for the format.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fs-proto.h"

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put_i64(uint8_t *p, int64_t v)
{
	memcpy(p, &v, 8);
}

static int64_t get_i64(const uint8_t *p)
{
	int64_t v;
	memcpy(&v, p, 8);
	return v;
}

void pw__fs_header(void *buf, int type, size_t len)
{
	uint8_t *p = buf;
	uint16_t v = PW_FS_VERSION, t = (uint16_t)type;

	put_u32(p, PW_FS_MAGIC);
	memcpy(p + 4, &v, 2);
	memcpy(p + 6, &t, 2);
	put_u32(p + 8, (uint32_t)len);
}

int pw__fs_frame(const void *buf, size_t n, int truncated,
                 const uint8_t **payload, size_t *len)
{
	const uint8_t *p = buf;
	uint16_t version, type;
	uint32_t plen;

	if (truncated || n > PROCWAIT_FORKSERVER_MAX_FRAME)
		return -EMSGSIZE;
	if (n < PW_FS_HEADER || get_u32(p) != PW_FS_MAGIC)
		return -EPROTO;
	memcpy(&version, p + 4, 2);
	memcpy(&type, p + 6, 2);
	if (version != PW_FS_VERSION)
		return -EPROTONOSUPPORT;
	plen = get_u32(p + 8);
	if (plen != n - PW_FS_HEADER)
		return -EPROTO;
	if (type == 0)
		return -EPROTO;
	*payload = p + PW_FS_HEADER;
	*len = plen;
	return type;
}

/* A cursor over a payload: every read checks the bytes are there. */
struct cur {
	const uint8_t *p;
	size_t left;
};

static int cur_u32(struct cur *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = get_u32(c->p);
	c->p += 4;
	c->left -= 4;
	return 0;
}

/* A length-prefixed string: its bytes (no NUL allowed) and length. */
static int cur_str(struct cur *c, const uint8_t **s, uint32_t *len)
{
	if (cur_u32(c, len) < 0 || *len > c->left)
		return -1;
	*s = c->p;
	if (memchr(*s, 0, *len))
		return -2;
	c->p += *len;
	c->left -= *len;
	return 0;
}

void pw__fs_request_free(struct procwait_request *r)
{
	if (!r)
		return;
	free(r->cgroup);
	free(r);   /* one block; descriptors are the owner's business */
}

int pw__fs_request_decode(const uint8_t *p, size_t n, struct procwait_request **out,
                          const char **why)
{
	struct cur c = { p, n }, scan;
	uint32_t flags, tmo, argc, envc, cwdlen, len, i;
	const uint8_t *s;
	struct procwait_request *r;
	size_t strbytes, vec, total;
	char *dst;
	int rc;

	*out = NULL;
	*why = "truncated request header";
	if (cur_u32(&c, &flags) < 0 || cur_u32(&c, &tmo) < 0 ||
	    cur_u32(&c, &argc) < 0 || cur_u32(&c, &envc) < 0 ||
	    cur_u32(&c, &cwdlen) < 0)
		return -EPROTO;
	if (flags & ~(uint32_t)PROCWAIT_CLIENT_PTY) {
		*why = "unknown request flags";
		return -EPROTO;
	}
	if ((int32_t)tmo < -1) {
		*why = "negative timeout";
		return -EPROTO;
	}
	if (argc == 0) {
		*why = "empty argv";
		return -EPROTO;
	}
	if (argc > PROCWAIT_FORKSERVER_MAX_ARGS || envc > PROCWAIT_FORKSERVER_MAX_ENV) {
		*why = "too many argv or environment entries";
		return -E2BIG;
	}
	if (cwdlen == 0 || cwdlen > PROCWAIT_FORKSERVER_MAX_CWD || cwdlen > c.left) {
		*why = "bad working directory length";
		return -EPROTO;
	}
	if (c.p[0] != '/' || memchr(c.p, 0, cwdlen)) {
		*why = "working directory not an absolute path";
		return -EPROTO;
	}
	/* First pass: check every string and count the bytes. */
	scan = c;
	scan.p += cwdlen;
	scan.left -= cwdlen;
	strbytes = (size_t)cwdlen + 1;
	for (i = 0; i < argc + envc; i++) {
		rc = cur_str(&scan, &s, &len);
		if (rc == -2) {
			*why = "NUL byte inside a string";
			return -EPROTO;
		}
		if (rc < 0) {
			*why = "truncated string";
			return -EPROTO;
		}
		strbytes += (size_t)len + 1;
	}
	if (scan.left != 0) {
		*why = "trailing bytes after the request";
		return -EPROTO;
	}
	vec = ((size_t)argc + 1 + (size_t)envc + 1) * sizeof(char *);
	total = sizeof(*r) + vec + strbytes;
	r = calloc(1, total);
	if (!r) {
		*why = "out of memory";
		return -ENOMEM;
	}
	r->flags = flags;
	r->timeout_ms = (int32_t)tmo;
	r->argv = (char **)(void *)(r + 1);
	r->envp = r->argv + argc + 1;
	dst = (char *)(r->envp + envc + 1);
	r->cwd = dst;
	memcpy(dst, c.p, cwdlen);
	dst[cwdlen] = '\0';
	dst += cwdlen + 1;
	c.p += cwdlen;
	c.left -= cwdlen;
	for (i = 0; i < argc + envc; i++) {
		char **slot = i < argc ? &r->argv[i] : &r->envp[i - argc];

		(void)cur_str(&c, &s, &len);   /* checked above */
		memcpy(dst, s, len);
		dst[len] = '\0';
		*slot = dst;
		dst += len + 1;
	}
	r->argv[argc] = NULL;
	r->envp[envc] = NULL;
	r->fds[0] = r->fds[1] = r->fds[2] = -1;
	r->spare_fd = -1;
	*out = r;
	*why = NULL;
	return 0;
}

/* Count a vector, and the bytes its strings need on the wire. */
static int vec_size(char *const *v, uint32_t max, uint32_t *count, size_t *bytes)
{
	size_t n = 0;

	*count = 0;
	if (!v)
		return 0;
	for (; v[*count]; (*count)++) {
		if (*count >= max)
			return -EINVAL;
		n += 4 + strlen(v[*count]);
		if (n > PROCWAIT_FORKSERVER_MAX_FRAME)
			return -E2BIG;
	}
	*bytes += n;
	return 0;
}

static uint8_t *put_str(uint8_t *p, const char *s, size_t len)
{
	put_u32(p, (uint32_t)len);
	memcpy(p + 4, s, len);
	return p + 4 + len;
}

int pw__fs_request_encode(void *buf, size_t cap, unsigned flags, int timeout_ms,
                          char *const *argv, char *const *envp, const char *cwd)
{
	uint32_t argc, envc, i;
	size_t cwdlen = strlen(cwd), bytes = 20 + cwdlen;
	uint8_t *p = buf;
	int rc;

	if (cwdlen == 0 || cwdlen > PROCWAIT_FORKSERVER_MAX_CWD)
		return cwdlen ? -E2BIG : -EINVAL;
	if ((rc = vec_size(argv, PROCWAIT_FORKSERVER_MAX_ARGS, &argc, &bytes)) < 0 ||
	    (rc = vec_size(envp, PROCWAIT_FORKSERVER_MAX_ENV, &envc, &bytes)) < 0)
		return rc;
	if (argc == 0)
		return -EINVAL;
	if (bytes > PW_FS_MAX_PAYLOAD || PW_FS_HEADER + bytes > cap)
		return -E2BIG;
	pw__fs_header(p, PW_FS_REQUEST, bytes);
	p += PW_FS_HEADER;
	put_u32(p, flags);
	put_u32(p + 4, (uint32_t)timeout_ms);
	put_u32(p + 8, argc);
	put_u32(p + 12, envc);
	put_u32(p + 16, (uint32_t)cwdlen);
	memcpy(p + 20, cwd, cwdlen);
	p += 20 + cwdlen;
	for (i = 0; i < argc; i++)
		p = put_str(p, argv[i], strlen(argv[i]));
	for (i = 0; i < envc; i++)
		p = put_str(p, envp[i], strlen(envp[i]));
	return (int)(PW_FS_HEADER + bytes);
}

size_t pw__fs_int_encode(void *buf, int type, int32_t value)
{
	pw__fs_header(buf, type, 4);
	put_u32((uint8_t *)buf + PW_FS_HEADER, (uint32_t)value);
	return PW_FS_HEADER + 4;
}

int pw__fs_int_decode(const uint8_t *p, size_t n, int32_t *value)
{
	if (n != 4)
		return -EPROTO;
	*value = (int32_t)get_u32(p);
	return 0;
}

size_t pw__fs_started_encode(void *buf, int32_t pid, const char *cgroup)
{
	uint8_t *p = (uint8_t *)buf + PW_FS_HEADER;
	size_t len = cgroup ? strlen(cgroup) : 0;

	if (len > PW_FS_MAX_CGROUP)
		len = 0;
	pw__fs_header(buf, PW_FS_STARTED, len ? 8 + len : 4);
	put_u32(p, (uint32_t)pid);
	if (!len)
		return PW_FS_HEADER + 4;
	put_u32(p + 4, (uint32_t)len);
	memcpy(p + 8, cgroup, len);
	return PW_FS_HEADER + 8 + len;
}

int pw__fs_started_decode(const uint8_t *p, size_t n, int32_t *pid, char *cgroup,
                          size_t size)
{
	uint32_t len;

	if (size <= PW_FS_MAX_CGROUP || (n != 4 && n < 8))
		return -EPROTO;
	*pid = (int32_t)get_u32(p);
	cgroup[0] = '\0';
	if (*pid <= 0)
		return -EPROTO;
	if (n == 4)
		return 0;
	len = get_u32(p + 4);
	if (len == 0 || len > PW_FS_MAX_CGROUP || len != n - 8 || p[8] != '/' ||
	    memchr(p + 8, '\0', len))
		return -EPROTO;
	memcpy(cgroup, p + 8, len);
	cgroup[len] = '\0';
	return 0;
}

#define PW_FS_EXITED_LEN (6 * 4 + 3 * 8)

size_t pw__fs_exited_encode(void *buf, const struct pw__fs_exited *e)
{
	uint8_t *p = (uint8_t *)buf + PW_FS_HEADER;

	pw__fs_header(buf, PW_FS_EXITED, PW_FS_EXITED_LEN);
	put_u32(p, (uint32_t)e->kind);
	put_u32(p + 4, (uint32_t)e->code);
	put_u32(p + 8, (uint32_t)e->signo);
	put_u32(p + 12, (uint32_t)e->core);
	put_u32(p + 16, (uint32_t)e->timed_out);
	put_u32(p + 20, 0);
	put_i64(p + 24, e->utime_us);
	put_i64(p + 32, e->stime_us);
	put_i64(p + 40, e->maxrss_kib);
	return PW_FS_HEADER + PW_FS_EXITED_LEN;
}

int pw__fs_exited_decode(const uint8_t *p, size_t n, struct pw__fs_exited *e)
{
	if (n != PW_FS_EXITED_LEN)
		return -EPROTO;
	e->kind = (int32_t)get_u32(p);
	e->code = (int32_t)get_u32(p + 4);
	e->signo = (int32_t)get_u32(p + 8);
	e->core = (int32_t)get_u32(p + 12);
	e->timed_out = (int32_t)get_u32(p + 16);
	e->utime_us = get_i64(p + 24);
	e->stime_us = get_i64(p + 32);
	e->maxrss_kib = get_i64(p + 40);
	/* Only statuses a process can have. */
	if (e->kind == 1 ? (e->code < 0 || e->code > 255 || e->signo != 0) :
	    e->kind == 2 ? (e->signo <= 0 || e->signo > 127 || e->code != 0) :
	    e->kind == 0 ? 0 : 1)
		return -EPROTO;
	if (e->utime_us < 0 || e->stime_us < 0 || e->maxrss_kib < 0)
		return -EPROTO;
	e->core = e->core != 0;
	e->timed_out = e->timed_out != 0;
	return 0;
}

size_t pw__fs_error_encode(void *buf, int err, const char *msg)
{
	uint8_t *p = (uint8_t *)buf + PW_FS_HEADER;
	size_t len = strlen(msg);

	if (len > PW_FS_MAX_MESSAGE)
		len = PW_FS_MAX_MESSAGE;
	pw__fs_header(buf, PW_FS_ERROR, 8 + len);
	put_u32(p, (uint32_t)err);
	put_u32(p + 4, (uint32_t)len);
	memcpy(p + 8, msg, len);
	return PW_FS_HEADER + 8 + len;
}

int pw__fs_error_decode(const uint8_t *p, size_t n, int *err, char *msg, size_t size)
{
	uint32_t len, i;
	int32_t e;

	if (n < 8)
		return -EPROTO;
	e = (int32_t)get_u32(p);
	len = get_u32(p + 4);
	if (len > PW_FS_MAX_MESSAGE || len != n - 8 || e <= 0 || e > 4095)
		return -EPROTO;
	*err = e;
	if (size == 0)
		return 0;
	if (len > size - 1)
		len = (uint32_t)(size - 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = p[8 + i];
		msg[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	msg[len] = '\0';
	return 0;
}
