/* SPDX-License-Identifier: MIT */
/* Scaffolding shared by the fork-server suites (check_forkserver.c,
 * check_fs_spare.c): a growable byte buffer, small process and file
 * utilities, the programs a request runs, a serve() server in a forked
 * process with its log, its private directory and its janitor, and one
 * request through the client API. Suite-wide helpers are in helpers.h. */
#ifndef PWT_FS_TESTLIB_H
#define PWT_FS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "helpers.h"

/* ---- buffers ---------------------------------------------------------------- */

/* A growable byte buffer; { NULL, 0, 0 } is an empty one. */
struct fst_buf {
	uint8_t *p;
	size_t n, cap;
};

/* Append n bytes (aborts when out of memory). */
void fst_buf_put(struct fst_buf *b, const void *data, size_t n);
/* Append v in host byte order. */
void fst_buf_u32(struct fst_buf *b, uint32_t v);
void fst_buf_u16(struct fst_buf *b, uint16_t v);
/* Append s as a u32 length and its bytes (no NUL). */
void fst_buf_str(struct fst_buf *b, const char *s);
/* Free the bytes; b is empty again. */
void fst_buf_free(struct fst_buf *b);
/* Entries of a NULL-terminated vector (0 for NULL). */
uint32_t fst_vec_len(char *const *v);

/* ---- small utilities -------------------------------------------------------- */

/* A descriptor of /dev/null (close-on-exec), opened once and kept. */
int fst_devnull(void);
/* Does path exist (lstat: a dangling link counts)? */
int fst_exists(const char *path);
/* Read fd until EOF into b, within timeout_ms: 0, or -ETIMEDOUT / -errno. */
int fst_read_all(int fd, struct fst_buf *b, int timeout_ms);
/* Read until b holds needle (or EOF / timeout): 1 found, 0 not. */
int fst_read_until(int fd, struct fst_buf *b, const char *needle, int timeout_ms);
/* Remove dir and everything below it (no links followed): nftw()'s result. */
int fst_rm_tree(const char *dir);
/* The fields of /proc/PID/stat after the command ("S ppid pgrp ..."), read
 * into line (size bytes); NULL when the process is gone. */
const char *fst_proc_stat(pid_t pid, char *line, size_t size);
/* pid (not our child) disappears within ms: looked at once at least, and
 * once more at the deadline. */
int fst_gone_within(pid_t pid, int ms);
/* Reap our child pid within ms (SIGKILL after that): the raw status, or -1
 * when it had to be killed. */
int fst_reap_within(pid_t pid, int ms);
/* A status in words, in b (n bytes); returns b. */
const char *fst_status_str(const procwait_status *s, char *b, size_t n);

/* ---- the programs a request runs --------------------------------------------- */

/* What a child reports of argv, environ and its directory: counted,
 * length-prefixed strings, so any byte but NUL round-trips. */
void fst_dump_encode(struct fst_buf *b, char *const *argv, char *const *envp, const char *cwd);
/* Write the state the process runs in as one line on fd 1: "fds=0,1,2
 * blocked=N ignored=N caught=N sid=self|other pgrp=self|other ppid=N". The
 * descriptors at or above RLIMIT_NOFILE's soft limit are left out (a tool's
 * own, as valgrind's: out of the program's reach). */
void fst_report_state(void);
/* Run argv when argv[0] is a built-in program (never returns then), return
 * when it is not. An empty or NULL argv exits 120. The built-ins:
 *   @exit [CODE]          exit CODE (0)
 *   @kill SIG             die of signal SIG (unblocked, default action)
 *   @burn MS              use MS ms of CPU, exit 0
 *   @dump                 fst_dump_encode() of argv, environ, cwd on fd 1
 *   @report               fst_report_state(), exit 0
 *   @wait-stdin [CODE]    read stdin to EOF, exit CODE (0)
 *   @stdio                read stdin to EOF (1 kB at most); write "out:"
 *                         and it on 1, "err:" and it on 2
 *   @big BYTES            write BYTES bytes, byte i being i % 251, on 1
 *   @mark PATH            create PATH, exit 0 (1 when it cannot)
 *   @fdopen FD            exit 0 when FD is open, 1 when not
 *   @tty                  "isatty=0|1 ctty=self|other" on 1
 *   @sleep MS             sleep MS ms, exit 0 */
void fst_run_builtin(char *const *argv);

/* Compare got, what a @dump child wrote, with what was sent: argv, envp
 * and cwd (its realpath()); the test fails on any difference. */
void fst_expect_dump(const struct fst_buf *got, char *const *argv, char *const *envp,
                     const char *cwd, const char *what);

/* ---- the server under test -------------------------------------------------- */

/* In a server process: state its children must not inherit, which the
 * tests then look for: SIGUSR2 ignored, SIGUSR1 blocked, /dev/null on
 * mark_fd without close-on-exec. */
void fst_server_taint(int mark_fd);
/* Block SIGTERM and SIGINT in a server process before
 * procwait_forkserver_new(), as a host should: one sent before serve()
 * runs stays pending and stops the loop at its start, instead of killing
 * the process with its socket left behind. */
void fst_block_stop_signals(void);

/* The server's log: fst_log_open() opens DIR/server.log (close-on-exec)
 * for fst_srv_log() to append to; fst_log_close() closes it. */
void fst_log_open(const char *dir);
void fst_log_close(void);
/* A procwait_forkserver_options.log: "[LEVEL] MSG\n" to the log when it is
 * open, and to stderr when PWT_VERBOSE is set. */
void fst_srv_log(void *data, int level, const char *msg);
/* DIR/server.log so far, NUL-terminated (free it). */
char *fst_log_text(const char *dir);

/* Connect (and hang up) until a server answers on path, for at most 10 s;
 * fails the test otherwise. */
void fst_wait_listening(const char *path);
/* Fork a server process running server_main(cfg, readyfd), which never
 * returns and writes its set-up result (an int, 0 or -errno) to readyfd.
 * *pid is set as soon as the process exists (for the cleanups). The result
 * must come within 20 s and be 0 (else the test fails with "WHAT: error"),
 * then the server must answer on path. */
void fst_spawn_server(pid_t *pid, void (*server_main)(const void *cfg, int readyfd),
                      const void *cfg, const char *path, const char *what);
/* Stop the server *pid (nothing when *pid <= 0) with SIGTERM and clear
 * *pid: it must exit 0 within ms and have removed its socket path. note is
 * added to the message on another status ("" for none). */
void fst_stop_server(pid_t *pid, int ms, const char *path, const char *note);

/* ---- the private directory --------------------------------------------------- */

/* Make a fresh 0700 directory $TMPDIR/PREFIX-XXXXXX (or /tmp when TMPDIR
 * is not absolute or is long) into dir (size bytes); start a janitor, a
 * process outside the test's process group and not its child, that removes
 * it once the test process is gone (a failing test may end in _exit(), and
 * Check kills its process group); register cleanup with atexit() (once per
 * process); ignore SIGPIPE; open fst_devnull(). */
void fst_setup_dir(char *dir, size_t size, const char *prefix, void (*cleanup)(void));
/* For an atexit() cleanup: kill (SIGKILL) and reap the server *pid when
 * there is one, remove dir when set; no assertion. Clears both. */
void fst_cleanup_now(pid_t *pid, char *dir);
/* Remove dir when set (the test fails when it cannot) and clear it. */
void fst_remove_dir(char *dir);

/* ---- one request through the client API ---------------------------------------- */

struct fst_run {
	int start_rc;           /* the pid, or -errno */
	int wait_rc;
	procwait_result res;
	char msg[600];
};

/* Connect to path, start rq, wait (wait_ms) when it started, hang up. */
void fst_run_req(const char *path, const procwait_client_request *rq, int wait_ms,
                 struct fst_run *out);
/* The request started, ended within the wait, and its status is the
 * started pid's. */
void fst_assert_ran(const struct fst_run *r, const char *what);

#endif
