/* SPDX-License-Identifier: MIT */
/**
 * @file supervisor.h
 * @brief Supervise long-running children: restart policies, exponential
 *        backoff, a burst limit with a FATAL state, stop with grace.
 *
 * A supervisor runs services: programs started with procwait_spawn() in a
 * session of their own, so that stopping one reaches its whole process group
 * (stop signal, then SIGKILL after the grace). When a service exits the
 * restart policy decides: never, on failure (non-zero exit or a signal), or
 * always, after a backoff that doubles from @c backoff_min_ms up to
 * @c backoff_max_ms and is reset once the service has run for
 * @c backoff_max_ms without exiting. More than @c burst_limit starts within
 * @c burst_window_ms moves the service to #PROCWAIT_SERVICE_FATAL, where it
 * stays until restarted by hand.
 *
 * Single-threaded and event-driven: procwait_supervisor_fd() is readable when
 * a service may have exited, procwait_supervisor_timeout() tells when the
 * next timer runs, and procwait_supervisor_run() does the work and reports
 * every state change as an event. The fork server's request timeouts and
 * kills run on the same machinery.
 *
 * Platforms: Linux, as the fork server. Elsewhere (the BSDs, macOS,
 * Windows) every call answers @c -ENOSYS (procwait_supervisor_new() sets
 * @c *out to NULL; procwait_service_state_name() works everywhere).
 */
#ifndef PROCWAIT_SUPERVISOR_H
#define PROCWAIT_SUPERVISOR_H

#include <procwait/common.h>
#include <procwait/wait.h>

PROCWAIT_BEGIN_DECLS

/** @brief A supervisor (opaque). @since 0.1 */
typedef struct procwait_supervisor procwait_supervisor;

/** @brief When a service that exited is started again. @since 0.1 */
typedef enum procwait_restart {
	PROCWAIT_RESTART_NEVER = 0,      /**< never */
	PROCWAIT_RESTART_ON_FAILURE = 1, /**< after a non-zero exit or a signal death */
	PROCWAIT_RESTART_ALWAYS = 2      /**< after every exit */
} procwait_restart;

/** @brief States of a service. @since 0.1 */
typedef enum procwait_service_state {
	PROCWAIT_SERVICE_STOPPED = 0,  /**< not running, and not to be restarted */
	PROCWAIT_SERVICE_RUNNING = 1,  /**< running */
	PROCWAIT_SERVICE_BACKOFF = 2,  /**< exited; waiting to be restarted */
	PROCWAIT_SERVICE_STOPPING = 3, /**< stop signal sent; SIGKILL after the grace */
	PROCWAIT_SERVICE_EXITED = 4,   /**< exited and the policy says no restart */
	PROCWAIT_SERVICE_FATAL = 5     /**< the burst limit was hit, or it could not be started */
} procwait_service_state;

/**
 * @brief What to run and how to supervise it.
 * Start from #PROCWAIT_SERVICE_OPTIONS_INIT.
 * @since 0.1
 */
typedef struct procwait_service_options {
	size_t size;            /**< sizeof(procwait_service_options) */
	char *const *argv;      /**< NULL-terminated; argv[0] is searched in $PATH */
	char *const *envp;      /**< NULL inherits the caller's environment */
	const char *cwd;        /**< NULL inherits */
	int fds[3];             /**< the child's 0, 1, 2; -1 inherits */
	int restart;            /**< a ::procwait_restart */
	int backoff_min_ms;     /**< first restart delay; < 0 means 100 */
	int backoff_max_ms;     /**< delay cap; < 0 means 30000 */
	int burst_limit;        /**< starts allowed in the window; <= 0 means 5 */
	int burst_window_ms;    /**< the window; <= 0 means 10000 */
	int stop_signal;        /**< sent first to stop; 0 means SIGTERM */
	int kill_grace_ms;      /**< stop signal to SIGKILL; < 0 means 5000 */
	int timeout_ms;         /**< each run is stopped after this; <= 0 none */
	unsigned flags;         /**< must be 0 */
} procwait_service_options;

/** @brief Initialiser for ::procwait_service_options. @since 0.1 */
#define PROCWAIT_SERVICE_OPTIONS_INIT \
	{ sizeof(procwait_service_options), NULL, NULL, NULL, { -1, -1, -1 }, \
	  PROCWAIT_RESTART_NEVER, -1, -1, 0, 0, 0, -1, 0, 0u }

/**
 * @brief One state change of a service. @since 0.1
 */
typedef struct procwait_service_event {
	int id;                 /**< the service */
	void *data;             /**< the pointer given to procwait_supervisor_add() */
	int state;              /**< the new ::procwait_service_state */
	pid_t pid;              /**< the process (RUNNING: the new one; after an
	                             exit: the one that exited) */
	int error;              /**< FATAL because a start failed: -errno; else 0 */
	int timed_out;          /**< the exit followed a timeout stop */
	int restarts;           /**< restarts so far */
	int delay_ms;           /**< BACKOFF: the delay before the restart */
	procwait_status status; /**< after an exit: how it ended */
} procwait_service_event;

/**
 * @brief Create a supervisor.
 * @param flags    must be 0.
 * @param[out] out the supervisor, freed with procwait_supervisor_free().
 * @retval 0        success.
 * @retval -EINVAL  @p out NULL or an unknown flag.
 * @retval -EMFILE, -ENFILE, -ENOMEM  the system refused.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_new(unsigned flags, procwait_supervisor **out);

/**
 * @brief Add a service and start it.
 *
 * The options are copied. The start is reported by the next
 * procwait_supervisor_run() as a RUNNING event (or FATAL with @c error set
 * when the program could not be started).
 *
 * @param sv   the supervisor.
 * @param opts the service.
 * @param data any pointer, returned in its events.
 * @return the service id (>= 0).
 * @retval -EINVAL  @p sv or @p opts NULL, @c opts->size too small, argv
 *                  NULL or empty, a restart policy, signal or flag unknown,
 *                  or a descriptor below -1.
 * @retval -ENOMEM  out of memory.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_add(procwait_supervisor *sv,
                                            const procwait_service_options *opts, void *data);

/**
 * @brief Stop a service: stop signal to its group, SIGKILL after the grace;
 *        it is not restarted. A service in BACKOFF goes to STOPPED at once.
 * @param sv the supervisor.
 * @param id the service.
 * @retval 0        the stop is under way (or the service was not running).
 * @retval -EINVAL  @p sv NULL.
 * @retval -ENOENT  no service @p id.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_stop(procwait_supervisor *sv, int id);

/**
 * @brief Start a service again that is STOPPED, EXITED or FATAL, with its
 *        backoff and burst count reset.
 * @param sv the supervisor.
 * @param id the service.
 * @retval 0        the start is under way.
 * @retval -EINVAL  @p sv NULL.
 * @retval -ENOENT  no service @p id.
 * @retval -EBUSY   the service is running, stopping or in backoff.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_restart(procwait_supervisor *sv, int id);

/**
 * @brief Remove a service that is not running (STOPPED, EXITED or FATAL).
 *
 * Its events not yet returned by procwait_supervisor_run() are dropped.
 * @param sv the supervisor.
 * @param id the service.
 * @retval 0        removed; its id may be reused.
 * @retval -EINVAL  @p sv NULL.
 * @retval -ENOENT  no service @p id.
 * @retval -EBUSY   the service is running, stopping or in backoff.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_remove(procwait_supervisor *sv, int id);

/**
 * @brief The current state of a service.
 * @param sv the supervisor.
 * @param id the service.
 * @param[out] pid the running process, or 0; may be NULL.
 * @return a ::procwait_service_state.
 * @retval -EINVAL  @p sv NULL.
 * @retval -ENOENT  no service @p id.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_state(const procwait_supervisor *sv, int id, pid_t *pid);

/**
 * @brief Reap exits, run due timers (timeouts, kills, restarts), and report
 *        state changes.
 *
 * Blocks until at least one event is there or the timeout passes. Events
 * not reported for lack of room stay queued for the next call.
 *
 * @param sv         the supervisor.
 * @param timeout_ms < 0 forever, 0 check once, > 0 milliseconds.
 * @param[out] events room for @p max_events events.
 * @param max_events > 0.
 * @return the number of events (0 when the timeout passed).
 * @retval -ECHILD   nothing is running, in backoff or queued: nothing will
 *                   ever happen.
 * @retval -EINVAL   @p sv or @p events NULL, or @p max_events <= 0.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_run(procwait_supervisor *sv, int timeout_ms,
                                            procwait_service_event *events, int max_events);

/**
 * @brief A descriptor readable when a service may have exited (embed it in
 *        an event loop together with procwait_supervisor_timeout()).
 * @param sv the supervisor.
 * @retval -EINVAL @p sv is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_fd(const procwait_supervisor *sv);

/**
 * @brief Milliseconds until the next timer, 0 when events are queued, -1
 *        for none.
 * @param sv the supervisor.
 * @retval -EINVAL @p sv is NULL (distinguish from -1 by checking @p sv).
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_supervisor_timeout(const procwait_supervisor *sv);

/**
 * @brief The name of a ::procwait_service_state ("running", "fatal", ...).
 * @param state the state.
 * @return the name; "unknown" for a value out of range.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_service_state_name(int state);

/**
 * @brief Free a supervisor: every running service's group gets SIGKILL and
 *        is reaped. NULL is allowed.
 * @param sv the supervisor, or NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN void procwait_supervisor_free(procwait_supervisor *sv);

PROCWAIT_END_DECLS

#endif /* PROCWAIT_SUPERVISOR_H */
