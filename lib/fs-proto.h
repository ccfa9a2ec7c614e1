/* SPDX-License-Identifier: MIT */
/*
 * The fork server's wire protocol: one frame per SOCK_SEQPACKET message.
 *
 *   header  u32 magic "PWFS" | u16 version | u16 type | u32 payload length
 *   payload (host byte order: both ends are on one machine)
 *
 * client -> server
 *   REQUEST  u32 flags | i32 timeout_ms | u32 argc | u32 envc | u32 cwd_len
 *            | cwd | argc x (u32 len | bytes) | envc x (u32 len | bytes)
 *            with exactly three descriptors (SCM_RIGHTS): the child's 0, 1, 2
 *   SIGNAL   i32 signo
 * server -> client
 *   STARTED  i32 pid [| u32 len | cgroup]   the run's cgroup directory, an
 *            absolute path of 1 to PW_FS_MAX_CGROUP bytes, when the run has
 *            one (a server without cgroups sends the pid alone)
 *            (added in version 1 without a bump: a client decodes both
 *            forms, and a client built before it refuses the longer one,
 *            so a server and its clients are upgraded together)
 *   EXITED   i32 kind | i32 code | i32 signo | i32 core | i32 timed_out
 *            | i32 reserved | i64 utime_us | i64 stime_us | i64 maxrss_kib
 *   ERROR    i32 errno | u32 len | message (at most PW_FS_MAX_MESSAGE bytes)
 *
 * Strings carry no NUL byte; every length is bounded; a payload must be
 * consumed exactly. Everything here is pure: no system calls, so the
 * decoder can be fuzzed.
 */
#ifndef PROCWAIT_FS_PROTO_H
#define PROCWAIT_FS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <procwait/forkserver.h>

#define PW_FS_MAGIC 0x53465750u   /* "PWFS" read as a little-endian u32 */
#define PW_FS_VERSION 1
#define PW_FS_HEADER 12
#define PW_FS_MAX_PAYLOAD (PROCWAIT_FORKSERVER_MAX_FRAME - PW_FS_HEADER)
#define PW_FS_MAX_MESSAGE 512
#define PW_FS_NFDS 3
#define PW_FS_MAX_CGROUP 1024

enum pw__fs_type {
	PW_FS_REQUEST = 1,
	PW_FS_SIGNAL = 2,
	PW_FS_STARTED = 0x81,
	PW_FS_EXITED = 0x82,
	PW_FS_ERROR = 0x83
};

/* A request as the server holds it: argv, envp and cwd in one block. */
struct procwait_request {
	unsigned flags;         /* PROCWAIT_CLIENT_* */
	int timeout_ms;         /* -1 server default, 0 none, > 0 ms */
	char **argv;
	char **envp;
	char *cwd;
	int fds[PW_FS_NFDS];    /* received descriptors, -1 when not held */
	void *owner;            /* the server's connection */
	/* A spare's placeholder (see procwait_forkserver_set_spares()): the
	 * child's end of its socketpair until the request arrives (else -1
	 * or, in a request from decode, 0: test with `spare`), and the
	 * decoded request whose block argv, envp and cwd then point into. */
	int spare;
	int spare_fd;
	struct procwait_request *backing;
	/* The cgroup directory the child moves into (fs-cgroup.h), or NULL;
	 * owned by the request. */
	char *cgroup;
};

struct pw__fs_exited {
	int32_t kind, code, signo, core, timed_out;
	int64_t utime_us, stime_us, maxrss_kib;
};

/* Check a received message of n bytes (truncated: the kernel cut it) and
 * find its payload. Returns the frame type, or -EPROTO for a bad magic or
 * length, -EPROTONOSUPPORT for another version, -EMSGSIZE when too long. */
int pw__fs_frame(const void *buf, size_t n, int truncated,
                 const uint8_t **payload, size_t *len);

/* Write a header for a payload of len bytes at buf (PW_FS_HEADER bytes). */
void pw__fs_header(void *buf, int type, size_t len);

/* Decode a REQUEST payload into a new request (fds set to -1).
 * Returns 0, -EPROTO (malformed; *why says what), -E2BIG (a count over a
 * limit), or -ENOMEM. */
int pw__fs_request_decode(const uint8_t *p, size_t n, struct procwait_request **out,
                          const char **why);
void pw__fs_request_free(struct procwait_request *r);

/* Encode a whole REQUEST frame into buf (cap bytes): the frame's length,
 * -E2BIG when it does not fit (or cap is past the frame limit), -EINVAL
 * for counts over the limits. */
int pw__fs_request_encode(void *buf, size_t cap, unsigned flags, int timeout_ms,
                          char *const *argv, char *const *envp, const char *cwd);

/* Small frames: into buf of at least PW_FS_HEADER + 64 bytes (ERROR:
 * PW_FS_HEADER + 8 + PW_FS_MAX_MESSAGE); return the frame length. */
size_t pw__fs_int_encode(void *buf, int type, int32_t value);
size_t pw__fs_exited_encode(void *buf, const struct pw__fs_exited *e);
size_t pw__fs_error_encode(void *buf, int err, const char *msg);

/* STARTED: the pid, and the run's cgroup directory (NULL: none). buf
 * holds at least PW_FS_HEADER + 8 + PW_FS_MAX_CGROUP bytes; a cgroup
 * longer than PW_FS_MAX_CGROUP is left out. */
size_t pw__fs_started_encode(void *buf, int32_t pid, const char *cgroup);
/* cgroup receives the path NUL-terminated ("" when the frame has none);
 * size must exceed PW_FS_MAX_CGROUP. 0, or -EPROTO for a malformed frame
 * (a pid <= 0, a path that is not absolute or holds a NUL byte). */
int pw__fs_started_decode(const uint8_t *p, size_t n, int32_t *pid, char *cgroup,
                          size_t size);

/* Decode small payloads: 0 or -EPROTO. */
int pw__fs_int_decode(const uint8_t *p, size_t n, int32_t *value);
int pw__fs_exited_decode(const uint8_t *p, size_t n, struct pw__fs_exited *e);
/* msg receives at most size-1 bytes, NUL-terminated, with control bytes
 * replaced by '?'. */
int pw__fs_error_decode(const uint8_t *p, size_t n, int *err, char *msg, size_t size);

#endif /* PROCWAIT_FS_PROTO_H */
