/* SPDX-License-Identifier: MIT */
/* Shared bits of the procwait command-line tool. */
#ifndef PROCWAIT_CLI_H
#define PROCWAIT_CLI_H

#include <stdio.h>

#include <procwait/procwait.h>

/* Exit codes of the tool, as timeout(1) and friends use them. */
#define CLI_EXIT_OK       0
#define CLI_EXIT_FAILURE  1
#define CLI_EXIT_USAGE    2
#define CLI_EXIT_TIMEOUT  124

extern const char *cli_progname;

int cmd_wait(int argc, char **argv);
void cli_usage_wait(FILE *out);
int cmd_info(int argc, char **argv);
void cli_usage_info(FILE *out);
int cmd_serve(int argc, char **argv);
void cli_usage_serve(FILE *out);

/* "SIGTERM", "SIGRTMIN+3", or NULL for a number that is no signal. */
const char *cli_signame(int signo, char *buf, size_t size);
/* Parse a pid: decimal digits only, > 0, fits pid_t. 0 or -EINVAL. */
int cli_parse_pid(const char *s, pid_t *out);
/* Parse seconds ("2", "0.5", "1e3"): finite and >= 0, into whole
 * milliseconds rounded up and capped at INT_MAX. 0 or -EINVAL. */
int cli_parse_seconds(const char *s, int *ms_out);

/* Open /dev/null on whichever of 0, 1 and 2 is closed. 0, or -1. */
int cli_fill_stdio(void);
/* Block @sigs and return a non-blocking signalfd reading them, or -errno. */
int cli_block_signals(const int *sigs, size_t n);
/* Send @rq and wait for STARTED (the server may queue it) while staying
 * interruptible: SIGINT, SIGTERM, SIGHUP or SIGQUIT read from @sfd are
 * passed to the server, which withdraws a queued request (then
 * *interrupted is set to the signal and 0 returned) or hands the signal to
 * a child it is starting (then the pid is returned, the signal on its way);
 * SIGTSTP stops us. Returns the pid, 0 when interrupted, or -errno. */
int cli_send_started(procwait_client *c, const procwait_client_request *rq, int sfd,
                     int *interrupted);

#endif
