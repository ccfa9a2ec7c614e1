/* SPDX-License-Identifier: MIT */
/* The client side shared by procwait-run and procwait-python: standard
 * descriptors, the signal descriptor, and an interruptible start. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "cli.h"

int cli_fill_stdio(void)
{
	int i;

	/* A closed 0, 1 or 2 would be taken by our signalfd or our connection
	 * to the server, which would then be handed to the child as its
	 * standard descriptor (and our messages written into the connection).
	 * Fill the gaps with /dev/null first, as a shell's `>&-` never meant
	 * "our socket". */
	for (i = 0; i < 3; i++) {
		if (fcntl(i, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY) != i)
			return -1;
	}
	return 0;
}

int cli_block_signals(const int *sigs, size_t n)
{
	sigset_t mask;
	size_t i;
	int fd;

	sigemptyset(&mask);
	for (i = 0; i < n; i++)
		sigaddset(&mask, sigs[i]);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* How long the server may take to answer a forwarded signal before the
 * request is given up all the same (a stuck server must not make Ctrl-C
 * useless). */
#define VERDICT_MS 1000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cli_send_started(procwait_client *c, const procwait_client_request *rq, int sfd,
                     int *interrupted)
{
	int rc = procwait_client_send(c, rq), last = 0;
	int64_t give_up = 0;

	*interrupted = 0;
	while (rc >= 0) {
		struct pollfd pf[2] = { { procwait_client_fd(c), POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		int ms = -1;

		if (give_up) {
			int64_t now = now_ms();

			if (now >= give_up) {
				*interrupted = last;
				return 0;
			}
			ms = (int)(give_up - now);
		}
		rc = poll(pf, 2, ms);
		if (rc < 0) {
			if (errno == EINTR) {
				rc = 0;
				continue;
			}
			return -errno;
		}
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			int s = (int)si.ssi_signo;

			if (s == SIGINT || s == SIGTERM || s == SIGHUP || s == SIGQUIT) {
				/* The server withdraws a queued request, or
				 * passes the signal to a child it is starting:
				 * its answer tells which. A second signal, or
				 * no answer in time, gives up waiting. */
				if (last || procwait_client_signal(c, s) < 0) {
					*interrupted = s;
					return 0;
				}
				last = s;
				if (!give_up)
					give_up = now_ms() + VERDICT_MS;
			} else if (s == SIGTSTP) {
				raise(SIGSTOP);   /* nothing runs yet: stop alone */
			}
		}
		rc = 0;
		if (pf[0].revents) {
			rc = procwait_client_started(c, 0);
			if (rc < 0 && last) {
				/* Withdrawn (-EINTR), or failed otherwise after
				 * the user asked to stop: stop. */
				*interrupted = last;
				return 0;
			}
			if (rc != 0)
				return rc;
		}
	}
	return rc;
}
