/* SPDX-License-Identifier: MIT */
/*
 * Parsers of /proc/PID/stat, statm and status, and /proc/stat's btime. Pure functions over bytes:
 * no system calls, no allocation, no dependence on NUL termination, so that
 * the library, the tests and the libFuzzer target (tests/fuzz) share them.
 */
#ifndef PROCWAIT_PROCINFO_PARSE_H
#define PROCWAIT_PROCINFO_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* comm is at most 64 bytes (kernel threads' extended names). */
#define PW_COMM_MAX 64
/* stat has 52 fields in Linux 6.x; room for a few more. */
#define PW_STAT_FIELDS 60

/* Field numbers of stat, as proc(5) counts them (1-based). */
enum {
	PW_STAT_PID = 1, PW_STAT_COMM = 2, PW_STAT_STATE = 3, PW_STAT_PPID = 4,
	PW_STAT_TTY_NR = 7, PW_STAT_FLAGS = 9,
	PW_STAT_UTIME = 14, PW_STAT_STIME = 15, PW_STAT_CUTIME = 16, PW_STAT_CSTIME = 17,
	PW_STAT_NICE = 19, PW_STAT_NUM_THREADS = 20, PW_STAT_STARTTIME = 22,
	PW_STAT_VSIZE = 23, PW_STAT_RSS = 24, PW_STAT_BLKIO_TICKS = 42
};

struct pw__statline {
	long pid;                       /* field 1, checked against the caller's */
	char comm[PW_COMM_MAX + 1];     /* field 2 without the parentheses */
	size_t comm_len;
	int state;                      /* field 3: the letter */
	/* Fields 4 and up: v[n] is field n as an unsigned 64-bit value
	 * (negative numbers stored in two's complement: read them with
	 * pw__stat_signed()). have[n] says whether field n was there and a
	 * well-formed number that fits; v[n] is undefined where it is not. */
	uint64_t v[PW_STAT_FIELDS + 1];
	unsigned char have[PW_STAT_FIELDS + 1];
	int nfields;                    /* the number of fields on the line */
};

/* Parse a stat line of n bytes. expect_pid > 0 checks the leading pid.
 * 0, or -EPROTO when the line has no pid, no "(comm)" (bounded by the first
 * '(' and the last ')'), a comm over PW_COMM_MAX bytes, no state, or the
 * wrong pid. Missing or malformed trailing fields are absent (have[] = 0),
 * never an error. */
int pw__parse_stat(const char *buf, size_t n, long expect_pid, struct pw__statline *out);

/* Field n of a parsed stat line as a signed value; 0 when absent. */
int64_t pw__stat_signed(const struct pw__statline *st, int n);

/* statm: size resident shared text lib data dt, in pages. */
struct pw__statm {
	uint64_t v[7];
	int n;          /* how many leading fields were there and well formed */
};
int pw__parse_statm(const char *buf, size_t n, struct pw__statm *out);

/* status: only the lines procwait uses. */
enum {
	PW_STATUS_TGID = 1u << 0,
	PW_STATUS_UID = 1u << 1,
	PW_STATUS_GID = 1u << 2,
	PW_STATUS_VCTX = 1u << 3,
	PW_STATUS_NVCTX = 1u << 4
};
struct pw__status {
	unsigned have;          /* PW_STATUS_* bits found and well formed */
	long tgid;
	uint32_t uid[3], gid[3];  /* real, effective, saved */
	uint64_t vctx, nvctx;
};
/* Always succeeds (0): lines it does not know, or cannot parse, are left
 * out of have. */
int pw__parse_status(const char *buf, size_t n, struct pw__status *out);

/* /proc/stat: the boot time, the "btime" line (whole seconds since the
 * epoch, as psutil's boot_time() reads it). 0, or -ENOENT when there is no
 * such line with a positive number. */
int pw__parse_btime(const char *buf, size_t n, uint64_t *out);

/* The overflow-checked decimal scanner the parsers use: an optional '-',
 * then digits, from *pp up to end. On success stores the value (negative
 * ones in two's complement), advances *pp past the digits and returns 0;
 * -ERANGE on overflow, -EINVAL when no digit is there. */
int pw__scan_u64(const char **pp, const char *end, uint64_t *out);

#endif /* PROCWAIT_PROCINFO_PARSE_H */
