/* SPDX-License-Identifier: MIT */
/*
 * A cgroup (v2) per fork-server run, so that a run is killed whole,
 * double-forked daemons included, with one write to its cgroup.kill.
 *
 * The server makes OWN/procwait-PID-ID under its own cgroup OWN (which must
 * let it create cgroups and move processes out: root, or a delegated
 * subtree), and one run-N directory below it per run. The child moves
 * itself in before it runs anything of the request's (a spare does it
 * ahead of its request). The client is told the path in STARTED
 * (fs-proto.h) and kills the run through it when its server dies.
 *
 * A run's cgroup is removed when its run has ended and it is empty. What
 * a run leaves running after a normal exit stays, as it would after
 * python3 or a shell, in its cgroup until it exits; at the server's end it
 * is moved back to OWN so that nothing of the server's is left behind.
 *
 * The parsers are pure (no system calls) so the tests and the fuzzer
 * reach them; the rest is system calls on the cgroup v2 files
 * cgroup.procs, cgroup.kill (Linux 5.14 and later) and cgroup.events.
 */
#ifndef PROCWAIT_FS_CGROUP_H
#define PROCWAIT_FS_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* ---- parsers (cgroup-parse.c) -------------------------------------------- */

/* The cgroup v2 path in /proc/self/cgroup text ("0::PATH"): its length,
 * copied NUL-terminated to out; -ENOENT when there is no v2 line (or the
 * cgroup was removed: "PATH (deleted)"), -ERANGE when out is too small. */
int pw__cg_parse_self(const char *buf, size_t n, char *out, size_t size);

/* The next cgroup2 mount in /proc/self/mountinfo text, from offset *pos
 * on: its root within the hierarchy and its mount point, unescaped,
 * NUL-terminated. 0, -ENOENT when there is none, -ERANGE when a field does
 * not fit; *pos is then past that mount's line (n when none is left). */
int pw__cg_parse_mount(const char *buf, size_t n, size_t *pos, char *root, size_t rsize,
                       char *mnt, size_t msize);

/* "populated 0|1" in cgroup.events text: 0 or 1, -EPROTO when missing. */
int pw__cg_parse_populated(const char *buf, size_t n);

/* 1 when path (NUL-terminated) names a run's cgroup of server pid, as
 * pw__cg_run_new() makes them: ".../procwait-PID-ID/run-N"; else 0. */
int pw__cg_is_run_of(const char *path, long pid);

/* ---- the server's runs (fs-cgroup.c) ----------------------------------- */

struct pw__cg {
	char *own;              /* the server's own cgroup directory */
	char *base;             /* own/procwait-PID-ID; NULL: runs get no cgroup */
	unsigned seq;           /* the next run-N */
	char **linger;          /* ended runs' cgroups, not yet empty */
	int nlinger, cap;
	int64_t retry_at;       /* next removal attempt (0: none due) */
	int retry_ms;
};

/* Find the server's cgroup and make its directory for runs,
 * procwait-PID-ID (id: a number of this server's own, unique among the
 * process's servers). 0, or -errno with *why telling what failed (then
 * runs get no cgroup). */
int pw__cg_init(struct pw__cg *cg, unsigned long id, char *why, size_t size);
/* A new run's cgroup: 0 with *path (malloc'd), or -errno. */
int pw__cg_run_new(struct pw__cg *cg, char **path);
/* An ended run's cgroup (taken over): removed now or once empty. */
void pw__cg_run_done(struct pw__cg *cg, char *path);
/* Retry the removal of the lingering ones when due. */
void pw__cg_sweep(struct pw__cg *cg, int64_t now);
/* When the next sweep is due (CLOCK_MONOTONIC ns), INT64_MAX for none. */
int64_t pw__cg_next(const struct pw__cg *cg);
/* At the server's end: wait briefly for killed runs to empty, move what
 * is still running back to the server's cgroup, remove every directory. */
void pw__cg_fini(struct pw__cg *cg);
/* In a forked child: free the memory only. */
void pw__cg_forget(struct pw__cg *cg);

/* ---- one run's cgroup (fs-cgroup.c) ------------------------------------ */

/* Move the calling process into the cgroup: 0 or -errno. */
int pw__cg_enter(const char *path);
/* Kill every process in it (cgroup.kill): 0 or -errno. */
int pw__cg_kill(const char *path);
/* The client's part once it has killed a run whose server is gone: wait
 * up to wait_ms for the run's cgroup to empty and remove it; then its
 * parent, the server's directory, when empty, or (server_dead) the whole
 * directory, the server's other runs included, once nothing is in it. */
void pw__cg_remove_run(const char *path, int wait_ms, int server_dead);

#endif /* PROCWAIT_FS_CGROUP_H */
