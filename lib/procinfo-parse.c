/* SPDX-License-Identifier: MIT */
/* Parsers of /proc/PID/stat, statm and status: bytes in, fields out. */
#include "procinfo-parse.h"

#include <errno.h>
#include <string.h>

int pw__scan_u64(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp, *fast_end;
	uint64_t v = 0, limit = UINT64_MAX;
	int neg = 0;

	if (p < end && *p == '-') {
		neg = 1;
		limit = (uint64_t)INT64_MAX + 1u;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	/* 19 digits cannot overflow 64 bits: check only past them. */
	fast_end = end - p > 19 ? p + 19 : end;
	for (; p < fast_end && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned)(*p - '0');
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > limit)
		return -ERANGE;
	*out = neg ? (uint64_t)0 - v : v;
	*pp = p;
	return 0;
}

static int is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* One whole token (up to a separator or end) as a number: 0 or -errno. */
static int scan_token(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	int r = pw__scan_u64(&p, end, out);

	while (p < end && !is_sep(*p))   /* trailing junk spoils the token */
		p++, r = r ? r : -EINVAL;
	*pp = p;
	return r;
}

int pw__parse_stat(const char *buf, size_t n, long expect_pid, struct pw__statline *out)
{
	const char *end = buf + n, *p = buf, *lp, *rp;
	uint64_t pid;
	int field;

	/* v[] is meaningful only where have[] says so: clear the rest */
	memset(out->have, 0, sizeof(out->have));
	out->pid = 0;
	out->comm[0] = '\0';
	out->comm_len = 0;
	out->state = 0;
	out->nfields = 0;
	if (pw__scan_u64(&p, end, &pid) < 0 || pid == 0 || pid > (uint64_t)INT32_MAX)
		return -EPROTO;
	if (expect_pid > 0 && pid != (uint64_t)expect_pid)
		return -EPROTO;
	/* comm: from the first '(' to the last ')' -- it may hold both, and
	 * spaces and newlines. The first '(' must follow "PID ". */
	if (end - p < 2 || p[0] != ' ' || p[1] != '(')
		return -EPROTO;
	lp = p + 1;
	/* comm is at most PW_COMM_MAX bytes, so the last ')' of a good line
	 * lies within PW_COMM_MAX + 1 bytes of the '(': look back from there,
	 * then make sure no ')' follows (memchr is quick over the numbers). */
	rp = end - lp > PW_COMM_MAX + 1 ? lp + PW_COMM_MAX + 1 : end - 1;
	for (; rp > lp && *rp != ')'; rp--)
		;
	if (rp <= lp || memchr(rp + 1, ')', (size_t)(end - rp - 1)))
		return -EPROTO;
	out->pid = (long)pid;
	out->comm_len = (size_t)(rp - lp - 1);
	memcpy(out->comm, lp + 1, out->comm_len);
	out->comm[out->comm_len] = '\0';
	/* ") S ...": the state is one printable letter, then a space or
	 * the end of the line */
	if (end - rp < 3 || rp[1] != ' ' || rp[2] <= ' ' || rp[2] > '~' ||
	    (end - rp > 3 && rp[3] != ' ' && rp[3] != '\n'))
		return -EPROTO;
	out->state = (unsigned char)rp[2];
	out->nfields = 3;
	p = rp + 3;
	for (field = 4; p < end && *p == ' '; field++) {
		const char *q, *digits;
		uint64_t v = 0;
		int r = 0;

		p++;
		if (p >= end || is_sep(*p))
			break;
		/* The common case inline: up to 19 digits cannot overflow. */
		q = p + (*p == '-');
		digits = q;
		while (q < end && (unsigned)(*q - '0') < 10u && q - digits < 19)
			v = v * 10 + (unsigned)(*q++ - '0');
		if (q == digits || (q < end && !is_sep(*q)) ||
		    (*p == '-' && v > (uint64_t)INT64_MAX + 1u)) {
			/* no digit, more than 19, junk, or below INT64_MIN:
			 * the careful way */
			r = scan_token(&p, end, &v);
		} else {
			if (*p == '-')
				v = (uint64_t)0 - v;
			p = q;
		}
		out->nfields = field;
		if (field <= PW_STAT_FIELDS && r == 0) {
			out->v[field] = v;
			out->have[field] = 1;
		}
	}
	return 0;
}

int64_t pw__stat_signed(const struct pw__statline *st, int n)
{
	if (n < 0 || n > PW_STAT_FIELDS || !st->have[n])
		return 0;
	return (int64_t)st->v[n];
}

int pw__parse_statm(const char *buf, size_t n, struct pw__statm *out)
{
	const char *end = buf + n, *p = buf;
	int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 7; i++) {
		uint64_t v;

		if (i > 0) {
			if (p >= end || *p != ' ')
				break;
			p++;
		}
		if (scan_token(&p, end, &v) < 0)
			break;
		out->v[i] = v;
		out->n = i + 1;
	}
	return 0;
}

/* The value of a status line after "Key:": up to max whitespace-separated
 * numbers. Returns how many were read in a row from the start. */
static int scan_values(const char *p, const char *end, uint64_t *v, int max)
{
	int i;

	for (i = 0; i < max; i++) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (scan_token(&p, end, &v[i]) < 0)
			break;
	}
	return i;
}

static int key_is(const char *line, const char *end, const char *key, const char **val)
{
	size_t k = strlen(key);

	if ((size_t)(end - line) < k || memcmp(line, key, k) != 0)
		return 0;
	*val = line + k;
	return 1;
}

static int ids32(const uint64_t *v, uint32_t *out)
{
	int i;

	for (i = 0; i < 3; i++)
		if (v[i] > UINT32_MAX)
			return 0;
	for (i = 0; i < 3; i++)
		out[i] = (uint32_t)v[i];
	return 1;
}

int pw__parse_status(const char *buf, size_t n, struct pw__status *out)
{
	const char *end = buf + n, *line = buf;

	memset(out, 0, sizeof(*out));
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *val;
		uint64_t v[4];

		if (!eol)
			eol = end;
		if (key_is(line, eol, "Tgid:", &val)) {
			if (scan_values(val, eol, v, 1) == 1 && v[0] > 0 && v[0] <= INT32_MAX) {
				out->tgid = (long)v[0];
				out->have |= PW_STATUS_TGID;
			}
		} else if (key_is(line, eol, "Uid:", &val)) {
			if (scan_values(val, eol, v, 3) == 3 && ids32(v, out->uid))
				out->have |= PW_STATUS_UID;
		} else if (key_is(line, eol, "Gid:", &val)) {
			if (scan_values(val, eol, v, 3) == 3 && ids32(v, out->gid))
				out->have |= PW_STATUS_GID;
		} else if (key_is(line, eol, "voluntary_ctxt_switches:", &val)) {
			if (scan_values(val, eol, v, 1) == 1) {
				out->vctx = v[0];
				out->have |= PW_STATUS_VCTX;
			}
		} else if (key_is(line, eol, "nonvoluntary_ctxt_switches:", &val)) {
			if (scan_values(val, eol, v, 1) == 1) {
				out->nvctx = v[0];
				out->have |= PW_STATUS_NVCTX;
			}
		}
		if (eol == end)
			break;
		line = eol + 1;
	}
	return 0;
}

int pw__parse_btime(const char *buf, size_t n, uint64_t *out)
{
	const char *end = buf + n, *line = buf;

	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line)), *val;
		uint64_t v;

		if (!eol)
			eol = end;
		if (key_is(line, eol, "btime ", &val) &&
		    scan_values(val, eol, &v, 1) == 1 && (int64_t)v > 0) {
			*out = v;
			return 0;
		}
		if (eol == end)
			break;
		line = eol + 1;
	}
	return -ENOENT;
}
