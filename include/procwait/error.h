/* SPDX-License-Identifier: MIT */
/**
 * @file error.h
 * @brief The error model: every call that can fail returns a negative errno.
 *
 * A call that can fail returns an @c int: zero or a positive value on
 * success, @c -errno on failure (for example @c -ESRCH). Nothing in procwait
 * sets the global @c errno as its way of reporting, and nothing aborts on bad
 * input: a bad argument is @c -EINVAL.
 *
 * Codes specific to procwait, for conditions errno has no name for, are
 * placed far below the errno range, from #PROCWAIT_ERROR_BASE downwards, so
 * they never collide with a system errno value.
 */
#ifndef PROCWAIT_ERROR_H
#define PROCWAIT_ERROR_H

#include <procwait/common.h>

PROCWAIT_BEGIN_DECLS

/**
 * @brief Library-specific error codes start here and grow downwards.
 *
 * procwait_strerror() answers "Unknown error N" and procwait_errname() NULL
 * for any code they do not know, so later versions can add codes without
 * breaking callers.
 * @since 0.1
 */
#define PROCWAIT_ERROR_BASE (-100000)

/**
 * @brief The process is a zombie: it has exited, is not yet reaped, and
 * the call cannot answer for it (such as its executable or working
 * directory, which a zombie no longer has).
 *
 * Name "PROCWAIT_EZOMBIE", message "Process is a zombie".
 * @since 0.1
 */
#define PROCWAIT_EZOMBIE (PROCWAIT_ERROR_BASE - 1)

/**
 * @brief A human-readable message for an error code.
 *
 * @param err a code as returned by procwait (negative), or a positive errno
 *            value; both give the same message.
 * @return a string with static storage duration, never NULL. Unknown codes
 *         give "Unknown error N". Thread-safe (does not use strerror()).
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_strerror(int err);

/**
 * @brief The symbolic name of an error code, such as "ESRCH".
 *
 * @param err a code as returned by procwait (negative), or a positive errno.
 * @return a string with static storage duration, or NULL when the code has
 *         no known name. Thread-safe.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_errname(int err);

PROCWAIT_END_DECLS

#endif /* PROCWAIT_ERROR_H */
