/* SPDX-License-Identifier: MIT */
/*
 * A preloading fork server in C: pay the start-up cost once, then run each
 * request in a forked child that already has the state.
 *
 *   ./preload-server &                  # listens as the server "preload-demo"
 *   procwait-run -n preload-demo -- lookup 17 42
 *
 * The README's fork server section shows this file; the build compiles it,
 * so the example cannot rot.
 */
#include <procwait/procwait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TABLE_SIZE (1 << 20)

static unsigned *table;   /* the "preloaded" state, shared copy-on-write */

static int expensive_init(void)
{
	unsigned i;

	table = malloc(TABLE_SIZE * sizeof(*table));
	if (!table)
		return -1;
	for (i = 0; i < TABLE_SIZE; i++)
		table[i] = i * 2654435761u;
	return 0;
}

/* Runs in the child: stdio, cwd and environment are the client's. */
static int run_job(char *const *argv)
{
	int i;

	if (!argv[0] || strcmp(argv[0], "lookup") != 0) {
		fprintf(stderr, "usage: lookup INDEX...\n");
		return 2;
	}
	for (i = 1; argv[i]; i++)
		printf("%s: %u\n", argv[i], table[strtoul(argv[i], NULL, 10) % TABLE_SIZE]);
	return 0;
}

static void flush(void *data)
{
	(void)data;
	fflush(NULL);   /* nothing buffered may be written twice */
}

int main(void)
{
	procwait_forkserver_options o = PROCWAIT_FORKSERVER_OPTIONS_INIT;
	procwait_forkserver *fs;
	procwait_request *req;
	int rc, code;

	if (expensive_init() < 0)
		return 1;
	o.name = "preload-demo";      /* $XDG_RUNTIME_DIR/procwait/preload-demo.sock */
	o.max_children = 8;           /* more requests wait in a bounded queue */
	o.timeout_ms = 60000;         /* SIGTERM after a minute, SIGKILL after the grace */
	o.before_fork = flush;
	rc = procwait_forkserver_new(&o, &fs);
	if (rc < 0) {
		fprintf(stderr, "preload-server: %s\n", procwait_strerror(rc));
		return 1;
	}
	rc = procwait_forkserver_serve(fs, &req);
	if (rc == 1) {                /* in a child, the request installed */
		code = run_job(procwait_request_argv(req));
		procwait_request_free(req);
		fflush(NULL);
		_exit(code);
	}
	procwait_forkserver_free(fs); /* the server, stopped by SIGTERM or SIGINT */
	free(table);
	return rc < 0;
}
