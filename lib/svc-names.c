/* SPDX-License-Identifier: MIT */
/* The names of the supervisor's service states: plain data, the same on
 * every platform (where the supervisor itself is built or not). */
#include "internal.h"

static const char *const state_names[] = {
	"stopped", "running", "backoff", "stopping", "exited", "fatal"
};

PROCWAIT_EXTERN const char *procwait_service_state_name(int state)
{
	if (state < 0 || state >= (int)(sizeof(state_names) / sizeof(state_names[0])))
		return "unknown";
	return state_names[state];
}
