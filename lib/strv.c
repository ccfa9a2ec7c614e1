/* SPDX-License-Identifier: MIT */
/*
 * NULL-terminated string vectors: a deep copy in one allocation.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

char **pw__strv_dup(char *const *v)
{
	size_t n = 0, bytes = 0, i;
	char **out, *p;

	for (; v[n]; n++)
		bytes += strlen(v[n]) + 1;
	out = malloc((n + 1) * sizeof(char *) + bytes);
	if (!out)
		return NULL;
	p = (char *)(out + n + 1);
	for (i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;

		memcpy(p, v[i], len);
		out[i] = p;
		p += len;
	}
	out[n] = NULL;
	return out;
}
