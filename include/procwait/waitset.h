/* SPDX-License-Identifier: MIT */
/**
 * @file waitset.h
 * @brief Wait sets: wait for the first exits among many processes.
 *
 * A ::procwait_waitset holds process handles with a user pointer each. On
 * Linux it is one epoll set over the handles' pidfds, on the BSDs and macOS
 * one kqueue over the handles' kqueues: the cost per exit is O(1) however
 * many processes are watched (a SIGCHLD handler that scans every child with
 * waitpid(WNOHANG) costs O(n) per exit). Under the fallback, or for a member
 * handle without a descriptor, the set runs one backoff loop over those
 * members. On Windows, WaitForMultipleObjects takes 64 handles at most: the
 * first 63 members are waited by the calling thread itself, and members
 * beyond them in groups of 63 by helper threads (one per group, each with a
 * wake-up event of its own), which the set starts as it grows and ends when
 * it is freed.
 *
 * A member whose exit has been reported leaves the set; its handle stays
 * open and belongs to the caller. One set is used by one thread at a time.
 * A process forked from the set's owner may use or free its copy of the
 * set (the copy makes its own epoll set on first use, or, when it cannot,
 * polls its members) without disturbing the owner's set.
 *
 * To embed a set in another event loop, watch procwait_waitset_fd() for
 * POLLIN, and also wake up after procwait_waitset_timeout() milliseconds
 * when that is not -1; on either, call procwait_waitset_wait() with timeout
 * 0.
 */
#ifndef PROCWAIT_WAITSET_H
#define PROCWAIT_WAITSET_H

#include <procwait/common.h>
#include <procwait/wait.h>
#include <procwait/proc.h>

PROCWAIT_BEGIN_DECLS

/** @brief A set of processes to wait for (opaque). @since 0.1 */
typedef struct procwait_waitset procwait_waitset;

/**
 * @brief One exit reported by procwait_waitset_wait(). @since 0.1
 */
typedef struct procwait_event {
	procwait_proc *proc;    /**< the member that exited (no longer in the set) */
	void *data;             /**< the pointer given to procwait_waitset_add() */
	int error;              /**< 0, or why the status could not be had, e.g.
	                             -ECHILD when the child was reaped through its
	                             handle elsewhere */
	procwait_status status; /**< how it ended, when @c error is 0 */
} procwait_event;

/**
 * @brief Create an empty wait set.
 *
 * When the set's own descriptor (epoll, kqueue) cannot be made, for want
 * of descriptors or because the call is refused, the set is made all the
 * same and works without one: its members are checked by the backoff loop,
 * procwait_last_fallback() says why, and procwait_waitset_add() and
 * procwait_waitset_wait() try again to make the descriptor (and move the
 * members to it) until they succeed.
 *
 * @param flags    0, or #PROCWAIT_WAIT_NOREAP to leave the zombies of
 *                 children for the caller to reap.
 * @param[out] out the new set, freed with procwait_waitset_free().
 * @retval 0        success.
 * @retval -EINVAL  @p out NULL or an unknown flag.
 * @retval -ENOMEM  out of memory.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_waitset_new(unsigned flags, procwait_waitset **out);

/**
 * @brief Add a process handle to a set.
 *
 * @param set  the set.
 * @param proc the handle; it must stay open while it is a member
 *             (procwait_proc_close() removes it).
 * @param data any pointer, handed back in the event.
 * @retval 0        success.
 * @retval -EINVAL  @p set or @p proc NULL.
 * @retval -EEXIST  @p proc is already in a set (this one or another).
 * @retval -ECHILD  @p proc's child was already reaped through the handle.
 * @retval -ENOMEM  out of memory.
 *
 * When the kernel refuses to watch one more descriptor (the epoll
 * max_user_watches limit, memory), or the set has no descriptor of its own
 * (see procwait_waitset_new()), the member is watched by the backoff loop
 * instead: adding does not fail for that.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_waitset_add(procwait_waitset *set, procwait_proc *proc, void *data);

/**
 * @brief Remove a process handle from a set, without waiting or closing it.
 *
 * @param set  the set.
 * @param proc the handle.
 * @retval 0        success.
 * @retval -EINVAL  @p set or @p proc NULL.
 * @retval -ENOENT  @p proc is not a member of @p set.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_waitset_remove(procwait_waitset *set, procwait_proc *proc);

/**
 * @brief Wait until at least one member exits, and report up to
 *        @p max_events exits.
 *
 * @param set         the set.
 * @param[out] events room for @p max_events events.
 * @param max_events  > 0.
 * @param timeout_ms  < 0 forever, 0 check once, > 0 milliseconds.
 * @return the number of events filled in (1..max_events), or 0 when the
 *         deadline passed with no exit.
 * @retval -ECHILD  the set is empty: there is nothing to wait for.
 * @retval -EINVAL  @p set or @p events NULL, or @p max_events <= 0.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_waitset_wait(procwait_waitset *set, procwait_event *events,
                                          int max_events, int timeout_ms);

/**
 * @brief A descriptor that becomes readable when a member may have exited.
 *
 * It belongs to the set: do not close it. On Linux it is an epoll descriptor,
 * on the BSDs and macOS a kqueue.
 *
 * @param set the set.
 * @return the descriptor.
 * @retval -EINVAL @p set is NULL.
 * @retval -ENOTSUP Windows: a set has no descriptor (call
 *         procwait_waitset_wait() from a thread of its own instead).
 * @retval -EMFILE, -ENFILE, -ENOMEM, or another -errno  the set's
 *         descriptor could not be made (see procwait_waitset_new()): until
 *         an add or a wait makes it, procwait_waitset_timeout() alone says
 *         when to call procwait_waitset_wait().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_waitset_fd(const procwait_waitset *set);

/**
 * @brief How long an event loop may sleep before calling
 *        procwait_waitset_wait() even if the descriptor stays quiet.
 *
 * Members without a descriptor (the fallback backend, descriptors exhausted,
 * a readiness that turned out to be spurious) are checked on a backoff
 * timer; this tells when the next check is due.
 *
 * @param set the set.
 * @return milliseconds (>= 0), or -1 when only the descriptor matters.
 * @retval -EINVAL @p set is NULL (this is also below -1).
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_waitset_timeout(const procwait_waitset *set);

/**
 * @brief The number of members in a set.
 *
 * @param set the set.
 * @return the number of members (>= 0).
 * @retval -EINVAL @p set is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_waitset_size(const procwait_waitset *set);

/**
 * @brief Free a set. Its members' handles are removed, not closed.
 *
 * @param set the set, or NULL (ignored).
 * @since 0.1
 */
PROCWAIT_EXTERN void procwait_waitset_free(procwait_waitset *set);

PROCWAIT_END_DECLS

#endif /* PROCWAIT_WAITSET_H */
