/* SPDX-License-Identifier: MIT */
/* procwait-python's parts. */
#ifndef PROCWAIT_PYLAUNCH_H
#define PROCWAIT_PYLAUNCH_H

#include <stddef.h>

/* The name of the server for this interpreter (an absolute path, as it is
 * to be exec'd), package directory, library (NULL in a static build) and
 * preload set, in this process's environment and context (python-key.c):
 * "python-" and 16 hex digits. 0, or -errno. */
int pyl_server_name(const char *python, const char *pydir, const char *lib,
                    const char *preload, char *name, size_t size);

#endif
