/* SPDX-License-Identifier: MIT */
/*
 * procwait-run: run a command through a procwait fork server and exit as
 * it did. The caller's descriptors 0, 1 and 2 are handed to the child (or,
 * with --pty, a pseudo-terminal whose master this process relays), and
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP and SIGCONT are passed
 * to the child's process group.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>

#include "cli.h"

#define RUN_EXIT_ERROR 125   /* procwait-run's own failure, as env(1) */

const char *cli_progname = "procwait-run";

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: %s [--socket PATH | --name NAME] [--timeout SECONDS]\n"
	        "                    [--pty | --no-pty] [--] COMMAND [ARG]...\n"
	        "\n"
	        "Run COMMAND through a procwait fork server (procwait serve, or a\n"
	        "preloading host), with this process's environment, directory and\n"
	        "standard descriptors, and exit as COMMAND did.\n"
	        "\n"
	        "  -s, --socket PATH      the server's socket (default: the server NAME)\n"
	        "  -n, --name NAME        server name (default \"default\")\n"
	        "  -t, --timeout SECONDS  stop COMMAND after SECONDS (SIGTERM to its group,\n"
	        "                         SIGKILL after the server's grace); 0 means none,\n"
	        "                         without this option the server's default applies\n"
	        "      --pty              give COMMAND a pseudo-terminal and relay it (the\n"
	        "                         caller's terminal in raw mode, window size mirrored)\n"
	        "      --no-pty           hand over the descriptors themselves (default)\n"
	        "  -h, --help             show this help\n"
	        "  -V, --version          show the version and exit\n"
	        "\n"
	        "Exit status: COMMAND's exit code, or 128+N when signal N killed it;\n"
	        "125 when the server cannot run it (none listening, refused, too big,\n"
	        "gone); 2 on a usage error.\n",
	        cli_progname);
}

static void fail_msg(const char *what, int rc, const procwait_client *c)
{
	const char *m = c ? procwait_client_message(c) : "";

	if (*m)
		fprintf(stderr, "%s: %s: %s (%s)\n", cli_progname, what, procwait_strerror(rc), m);
	else
		fprintf(stderr, "%s: %s: %s\n", cli_progname, what, procwait_strerror(rc));
}

/* ---- PTY mode -------------------------------------------------------------- */

struct pty {
	int master, slave;
	int raw;                 /* our stdin was put in raw mode */
	struct termios saved;
};

static int pty_open(struct pty *t)
{
	struct winsize ws;
	struct termios tio;
	const char *name;

	t->raw = 0;
	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0)
		return -errno;
	if (grantpt(t->master) < 0 || unlockpt(t->master) < 0 ||
	    !(name = ptsname(t->master)))
		return -errno;
	t->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->slave < 0)
		return -errno;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t->saved) == 0) {
		tcsetattr(t->slave, TCSANOW, &t->saved);
		tio = t->saved;
		cfmakeraw(&tio);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) == 0)
			t->raw = 1;
	}
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 ||
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(t->master, TIOCSWINSZ, &ws);
	return 0;
}

static void pty_restore(struct pty *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
	t->raw = 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy what the master has to stdout; 0 when it is drained or closed. */
static int pty_pump(struct pty *t, int nonblock)
{
	char buf[8192];
	int got = 0;

	for (;;) {
		ssize_t n;

		if (nonblock) {
			struct pollfd p = { t->master, POLLIN, 0 };
			if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
				return got;
		}
		n = read(t->master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)   /* EIO: every slave is closed */
			return 0;
		write_all(STDOUT_FILENO, buf, (size_t)n);
		got = 1;
		if (!nonblock)
			return 1;
	}
}

/* ---- the run --------------------------------------------------------------------- */

static int exit_code(const procwait_result *r)
{
	if (r->status.kind == PROCWAIT_STATUS_EXITED)
		return r->status.code;
	if (r->status.kind == PROCWAIT_STATUS_SIGNALED)
		return 128 + r->status.signo;
	fprintf(stderr, "%s: the command's exit status is unknown\n", cli_progname);
	return RUN_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pty", no_argument, NULL, 'p' },
		{ "no-pty", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const int forwarded[] = {
		SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGTSTP, SIGCONT
	};
	procwait_client_request rq = PROCWAIT_CLIENT_REQUEST_INIT;
	char pathbuf[128];
	const char *socket_path = NULL, *name = NULL;
	procwait_client *c = NULL;
	procwait_result res;
	struct pty t = { -1, -1, 0, { 0 } };
	int opt, use_pty = 0, rc, sfd, stdin_open = 1, ms, interrupted;

	if (cli_fill_stdio() < 0)
		return RUN_EXIT_ERROR;

	while ((opt = getopt_long(argc, argv, "+s:n:t:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': socket_path = optarg; break;
		case 'n': name = optarg; break;
		case 't':
			if (cli_parse_seconds(optarg, &ms) < 0) {
				fprintf(stderr, "%s: invalid timeout '%s'\n", cli_progname, optarg);
				return CLI_EXIT_USAGE;
			}
			rq.timeout_ms = ms;   /* 0: none, as with timeout(1) */
			break;
		case 'p': use_pty = 1; break;
		case 'P': use_pty = 0; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("%s %s (library %s)\n", cli_progname, PACKAGE_VERSION,
			       procwait_version_string());
			return 0;
		default: usage(stderr); return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no command given\n", cli_progname);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!socket_path && name) {
		rc = procwait_forkserver_socket_path(name, 0, pathbuf, sizeof(pathbuf));
		if (rc < 0) {
			fail_msg(name, rc, NULL);
			return rc == -EINVAL ? CLI_EXIT_USAGE : RUN_EXIT_ERROR;
		}
		socket_path = pathbuf;
	}
	rq.argv = argv + optind;

	/* Signals arrive on a descriptor from here on; the child gets a
	 * default disposition and an empty mask from the server. */
	sfd = cli_block_signals(forwarded, sizeof(forwarded) / sizeof(forwarded[0]));
	if (sfd < 0) {
		fail_msg("signalfd", sfd, NULL);
		return RUN_EXIT_ERROR;
	}
	rc = procwait_client_connect(socket_path, &c);
	if (rc < 0) {
		fail_msg(socket_path ? socket_path : "cannot reach the default fork server", rc, NULL);
		return RUN_EXIT_ERROR;
	}
	if (use_pty) {
		signal(SIGPIPE, SIG_IGN);
		rc = pty_open(&t);
		if (rc < 0) {
			fail_msg("cannot open a pseudo-terminal", rc, NULL);
			pty_restore(&t);
			return RUN_EXIT_ERROR;
		}
		rq.fds[0] = rq.fds[1] = rq.fds[2] = t.slave;
		rq.flags |= PROCWAIT_CLIENT_PTY;
	}
	rc = cli_send_started(c, &rq, sfd, &interrupted);
	if (t.slave >= 0) {
		close(t.slave);   /* the child holds it now */
		t.slave = -1;
	}
	if (interrupted) {
		/* Interrupted while queued: the request is withdrawn, and we
		 * end as the command would have. */
		pty_restore(&t);
		procwait_client_close(c);
		return 128 + interrupted;
	}
	if (rc < 0) {
		pty_restore(&t);
		fail_msg("cannot run the command", rc, c);
		procwait_client_close(c);
		return RUN_EXIT_ERROR;
	}
	for (;;) {
		struct pollfd pf[4];
		int n = 0, ci, si, mi = -1, ii = -1;

		pf[n].fd = procwait_client_fd(c); pf[n].events = POLLIN; ci = n++;
		pf[n].fd = sfd; pf[n].events = POLLIN; si = n++;
		if (use_pty) {
			pf[n].fd = t.master; pf[n].events = POLLIN; mi = n++;
			if (stdin_open) {
				pf[n].fd = STDIN_FILENO; pf[n].events = POLLIN; ii = n++;
			}
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[si].revents & POLLIN) {
			struct signalfd_siginfo si_;

			while (read(sfd, &si_, sizeof(si_)) == (ssize_t)sizeof(si_)) {
				int s = (int)si_.ssi_signo;

				if (s == SIGWINCH && use_pty) {
					struct winsize ws;
					if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
						ioctl(t.master, TIOCSWINSZ, &ws);
					continue;   /* the kernel tells the child */
				}
				procwait_client_signal(c, s);
				if (s == SIGTSTP) {
					/* Stop along with the child; a SIGCONT to us
					 * (fg) is passed on when we resume. */
					pty_restore(&t);
					raise(SIGSTOP);
					if (use_pty && isatty(STDIN_FILENO)) {
						struct termios tio = t.saved;
						cfmakeraw(&tio);
						if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) == 0)
							t.raw = 1;
					}
				}
			}
		}
		if (mi >= 0 && (pf[mi].revents & (POLLIN | POLLHUP)))
			pty_pump(&t, 1);
		if (ii >= 0 && (pf[ii].revents & (POLLIN | POLLHUP))) {
			char buf[4096];
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));

			if (r > 0) {
				write_all(t.master, buf, (size_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* End of input: the terminal's EOF character,
				 * so that a reader in canonical mode sees it. */
				struct termios tio;
				char eof = 4;

				if (tcgetattr(t.master, &tio) == 0 && tio.c_cc[VEOF])
					eof = (char)tio.c_cc[VEOF];
				write_all(t.master, &eof, 1);
				stdin_open = 0;
			}
		}
		if (pf[ci].revents & (POLLIN | POLLHUP | POLLERR))
			break;
	}
	rc = procwait_client_wait(c, -1, &res);
	if (use_pty) {
		pty_pump(&t, 1);   /* what the child wrote before it exited */
		pty_restore(&t);
		close(t.master);
	}
	if (rc < 0) {
		fail_msg(rc == -ECONNRESET ? "the fork server went away" :
		         "lost the command", rc, c);
		procwait_client_close(c);
		return RUN_EXIT_ERROR;
	}
	procwait_client_close(c);
	if (res.timed_out)
		fprintf(stderr, "%s: timed out; the command was stopped\n", cli_progname);
	/* The forwarded signals stay blocked: one arriving now must not
	 * change our exit status. */
	return exit_code(&res);
}
