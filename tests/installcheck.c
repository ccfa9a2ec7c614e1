/* SPDX-License-Identifier: MIT */
/* Built outside the tree against the installed library, through
 * `pkg-config --cflags --libs procwait` (make installcheck). */
#include <procwait/procwait.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char *argv[] = { "sh", "-c", "exit 7", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_proc *p;
	procwait_status st;
	int r;

	if (procwait_version() != PROCWAIT_VERSION_HEX) {
		fprintf(stderr, "header/library version mismatch\n");
		return 1;
	}
	o.argv = argv;
	o.flags = PROCWAIT_SPAWN_SEARCH_PATH;
	r = procwait_spawn(&o, &p);
	if (r < 0) {
		fprintf(stderr, "spawn: %s\n", procwait_strerror(r));
		return 1;
	}
	r = procwait_proc_wait(p, 10000, 0, &st);
	procwait_proc_close(p);
	if (r < 0 || st.kind != PROCWAIT_STATUS_EXITED || st.code != 7) {
		fprintf(stderr, "wait: %s\n", procwait_strerror(r));
		return 1;
	}
	printf("installed procwait %s works (backend %s)\n",
	       procwait_version_string(), procwait_backend_name());
	return 0;
}
