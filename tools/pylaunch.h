/* SPDX-License-Identifier: MIT */
/* procwait-python's parts. */
#ifndef PROCWAIT_PYLAUNCH_H
#define PROCWAIT_PYLAUNCH_H

#include <stddef.h>
#include <stdint.h>

/* ---- python-find.c ---- */

/* The interpreter `python3` would be (PROCWAIT_PYTHON; else python3 on PATH,
 * never procwait-python itself; else @configured) as an absolute path into
 * @out; *how names where it came from, for messages. 0, or -errno
 * (-ENOENT: not found). */
int pyl_find_python(const char *configured, char *out, size_t size, const char **how);

/* The first executable @name on PATH that is not this program. */
int pyl_search_path(const char *name, char *out, size_t size);

/* @path starts with "#!" (a wrapper such as a pyenv shim). */
int pyl_is_script(const char *path);

/* ---- python-args.c ---- */

/* 1 when a forked child can run `python ARGV` (see procwait/_pyrun.py
 * parse()); 0 when the real interpreter must. */
int pyl_supported(int argc, char **argv);

/* 1 when `python ARGV` is `-m pytest ...` for the pytest tier: not turned
 * off (PROCWAIT_PYTEST=0), and no option that changes what the tier
 * prepared (-p, -c, -o, --rootdir, --confcutdir, --import-mode, ...). */
int pyl_pytest_tier(int argc, char **argv);

/* PROCWAIT_PRELOAD in one spelling: sorted, without repeats, joined by
 * commas, into *out (malloc'd). -EINVAL when it is not a list of module
 * names, -ENOMEM. */
int pyl_preload_canon(const char *spec, char **out);

/* ---- python-key.c ---- */

enum { PYL_PYTEST = 1, PYL_CWD = 2 };

/* The base identity of the server for this interpreter (an absolute path,
 * as it is to be exec'd), package directory, library (NULL in a static
 * build), canonical preload set and @flags (PYL_PYTEST: the pytest tier;
 * PYL_CWD: the directory counts), in this process's environment and
 * context. 0, or -errno. */
int pyl_server_base(const char *python, const char *pydir, const char *lib,
                    const char *preload, int flags, uint64_t *base);

/* The server's name, "python-" and 16 hex digits: @base extended with the
 * values, here, of what the deps file @deps lists (absent: nothing). */
int pyl_server_name(uint64_t base, const char *deps, char *name, size_t size);

#endif
