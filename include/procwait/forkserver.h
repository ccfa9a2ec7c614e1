/* SPDX-License-Identifier: MIT */
/**
 * @file forkserver.h
 * @brief A fork server: pay the start-up cost once, fork a child per request.
 *
 * A server listens on an AF_UNIX SOCK_SEQPACKET socket in a directory only
 * its user can enter. A client (procwait_client_start(), or the
 * @c procwait-run tool) sends argv, the full environment, the working
 * directory and its descriptors 0, 1 and 2; the server forks a child that
 * runs the request with the server's preloaded state (copy-on-write), and
 * replies STARTED{pid} and, once the child is reaped, EXITED{status, rusage,
 * timed_out}.
 *
 * The server is one single-threaded event loop over the listening socket,
 * the client connections, the children's handles and timers. It never
 * installs a SIGCHLD handler and never calls waitpid(-1): it only reaps the
 * children it forked.
 *
 * Two ways to serve:
 * - procwait_forkserver_serve() forks internally and returns in each child
 *   with the request installed (for C programs);
 * - the step API, for a host that must own the fork() call (Python must fork
 *   through os.fork()): procwait_forkserver_next() runs the loop until a
 *   request is ready; the host forks; the child calls
 *   procwait_forkserver_child(), the parent procwait_forkserver_parent().
 *
 * Both share one event loop; serve() is a few lines over the step API.
 *
 * Platforms: the fork server needs Linux (epoll, signalfd, eventfd,
 * pidfds). Elsewhere (the BSDs, macOS, Windows) the library still has every
 * call, and each answers @c -ENOSYS: constructors set their out-parameter
 * to NULL, accessors returning pointers give NULL, and the free and close
 * calls do nothing.
 */
#ifndef PROCWAIT_FORKSERVER_H
#define PROCWAIT_FORKSERVER_H

#include <sys/types.h>
#include <sys/time.h>

#include <procwait/common.h>
#include <procwait/wait.h>

#if defined(_WIN32) && !defined(__CYGWIN__)
/** @brief A user id (a stand-in on Windows, where the fork server answers
 *  -ENOSYS). @since 0.1 */
typedef unsigned int procwait_uid;
#else
/** @brief A user id: uid_t. @since 0.1 */
typedef uid_t procwait_uid;
#endif

PROCWAIT_BEGIN_DECLS

/** @brief A fork server (opaque). @since 0.1 */
typedef struct procwait_forkserver procwait_forkserver;
/** @brief One request, as received by a server (opaque). @since 0.1 */
typedef struct procwait_request procwait_request;

/** @brief Limits of the protocol, enforced on both sides. @since 0.1 */
enum procwait_forkserver_limits {
	/** Largest frame in bytes: argv, envp and cwd of a request must fit
	 *  in it together with their length prefixes. */
	PROCWAIT_FORKSERVER_MAX_FRAME = 131072,
	/** Most argv entries in one request. */
	PROCWAIT_FORKSERVER_MAX_ARGS = 8192,
	/** Most environment entries in one request. */
	PROCWAIT_FORKSERVER_MAX_ENV = 8192,
	/** Longest working directory, in bytes. */
	PROCWAIT_FORKSERVER_MAX_CWD = 4095,
	/** Longest server name (see procwait_forkserver_socket_path()). */
	PROCWAIT_FORKSERVER_MAX_NAME = 64
};

/** @brief Flags of ::procwait_forkserver_options. @since 0.1 */
enum procwait_forkserver_flags {
	/** Do not handle SIGTERM and SIGINT. By default the server blocks
	 *  them while it runs its loop and reads them through a signalfd:
	 *  either one stops the server as procwait_forkserver_stop() does. */
	PROCWAIT_FORKSERVER_NO_SIGNALS = 1u << 0,
	/** Keep descriptors above 2 open in the children (by default every
	 *  inherited descriptor other than 0, 1 and 2 is closed). */
	PROCWAIT_FORKSERVER_KEEP_FDS = 1u << 1,
	/** Give runs no cgroup of their own (see procwait_forkserver_new()):
	 *  a stop then reaches a run's process group only. */
	PROCWAIT_FORKSERVER_NO_CGROUPS = 1u << 2
};

/** @brief Severity of a log message. @since 0.1 */
enum procwait_log_level {
	PROCWAIT_LOG_ERROR = 3,   /**< the server cannot do its job */
	PROCWAIT_LOG_WARNING = 4, /**< a refused client, a malformed frame */
	PROCWAIT_LOG_INFO = 6     /**< start and stop */
};

/**
 * @brief Options of procwait_forkserver_new().
 *
 * Start from #PROCWAIT_FORKSERVER_OPTIONS_INIT and set what you need.
 * @since 0.1
 */
typedef struct procwait_forkserver_options {
	size_t size;             /**< sizeof(procwait_forkserver_options) */
	/** Server name for the default socket path; NULL means "default". */
	const char *name;
	/** Socket path; NULL means procwait_forkserver_socket_path(name). */
	const char *socket_path;
	/** Children running at once; 0 means 64. */
	int max_children;
	/** Requests waiting for a free slot; past this a request is refused
	 *  with EAGAIN. -1 means 4 × max_children, less when the descriptor
	 *  limit (RLIMIT_NOFILE) could not hold that many (a queued request
	 *  holds four); 0 means none wait. */
	int max_queue;
	/** Default per-request timeout in ms (a request may ask for its
	 *  own); <= 0 means none. */
	int timeout_ms;
	/** Time between the stop signal and SIGKILL, in ms; < 0 means 5000. */
	int kill_grace_ms;
	/** Stop after this many ms without children or clients; <= 0 means
	 *  never. */
	int idle_ms;
	/** Users allowed to connect; NULL (or @c n_allowed_uids 0) means the
	 *  server's own effective uid only. */
	const procwait_uid *allowed_uids;
	size_t n_allowed_uids;   /**< entries in @c allowed_uids */
	/** Called by procwait_forkserver_serve() in the server just before
	 *  each fork (flush buffered output here). May be NULL. */
	void (*before_fork)(void *data);
	/** Called by procwait_forkserver_serve() in each child after the
	 *  request is installed. May be NULL. */
	void (*after_fork)(void *data);
	/** Receives the server's log messages (one line, no newline); NULL
	 *  writes warnings and errors to standard error, prefixed with
	 *  "procwait: ". */
	void (*log)(void *data, int level, const char *message);
	void *data;              /**< passed to the three callbacks */
	unsigned flags;          /**< #procwait_forkserver_flags */
	/** Time a connection has to send its whole request, in ms, from the
	 *  moment it is accepted; past it the connection is closed (an error
	 *  frame, ETIMEDOUT, tells the client why). 0 means 10000; < 0 means
	 *  no limit. Connections that have not sent their request do not count
	 *  against the slots or the queue: when too many of them wait
	 *  (max_queue + 32), the one waiting longest is closed to make room
	 *  for a newer one. */
	int request_ms;
} procwait_forkserver_options;

/** @brief Initialiser for ::procwait_forkserver_options. @since 0.1 */
#define PROCWAIT_FORKSERVER_OPTIONS_INIT \
	{ sizeof(procwait_forkserver_options), NULL, NULL, 0, -1, 0, -1, 0, \
	  NULL, 0, NULL, NULL, NULL, NULL, 0u, 0 }

/**
 * @brief The default socket path of server @p name.
 *
 * @c $XDG_RUNTIME_DIR/procwait/NAME.sock when @c XDG_RUNTIME_DIR is set (and
 * absolute), else @c $TMPDIR/procwait-UID/NAME.sock (@c /tmp when @c TMPDIR
 * is unset). The directory is created with mode 0700 when @p create is
 * non-zero, and in every case refused when it is not a directory (a symbolic
 * link included), is owned by another user, or is writable by group or
 * others.
 *
 * @param name   the server name: 1 to #PROCWAIT_FORKSERVER_MAX_NAME bytes of
 *               letters, digits, '.', '_' and '-', not starting with '.';
 *               NULL means "default".
 * @param create non-zero to create the directory when it is missing.
 * @param buf    receives the path, NUL-terminated.
 * @param size   size of @p buf.
 * @return the length of the path.
 * @retval -EINVAL       @p buf NULL or @p name not a valid name.
 * @retval -ENAMETOOLONG the path does not fit a socket address.
 * @retval -ERANGE       the path does not fit @p buf.
 * @retval -EPERM        the directory is owned by another user, or is
 *                       group- or world-writable.
 * @retval -ENOTDIR      the directory's path is not a directory.
 * @retval -ENOENT       the directory is missing and @p create is 0.
 * @retval -EACCES, ...  mkdir(2) or lstat(2) failed.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_socket_path(const char *name, int create,
                                                     char *buf, size_t size);

/**
 * @brief Create a server and start listening.
 *
 * Binds and listens on the socket (mode 0600). An existing socket file at the
 * path is replaced when no server answers on it; when one does, the call
 * fails with -EADDRINUSE.
 *
 * A cgroup per run: unless #PROCWAIT_FORKSERVER_NO_CGROUPS is set, the server
 * looks for its own cgroup v2 directory (the @c 0:: line of
 * /proc/self/cgroup under the cgroup2 mount, /sys/fs/cgroup or, on hybrid
 * systems, /sys/fs/cgroup/unified) and makes @c procwait-PID-ID in it (ID:
 * its socket's inode), and a @c run-N directory there for each run, which
 * the child enters before anything of the request's runs. Stopping a run
 * (timeout, client gone, server stopping, procwait_forkserver_free()) then
 * ends with SIGKILL to the whole cgroup (@c cgroup.kill, Linux 5.14 and later), daemons that
 * left the run's process group and session included; the client is told
 * the path (procwait_client_cgroup()) and kills the run itself if the
 * server dies. A run that ends by itself leaves what it started running,
 * as a shell would: its cgroup is removed once empty, and at the server's
 * end what is still in it moves back to the server's own cgroup. Stale
 * directories of killed servers are removed by the next server started in
 * the same cgroup. Creating cgroups needs root or a delegated subtree
 * (systemd's Delegate=yes, a user session's user\@UID.service): where the
 * server cannot, it logs why (#PROCWAIT_LOG_WARNING) and stops runs through
 * their process group only. The kernel makes a process that moves into a
 * cgroup wait for an RCU grace period when no other move happened just
 * before (about 10 to 20 ms measured on Linux 6.18); a spare
 * (procwait_forkserver_set_spares()) moves while it idles, so requests do
 * not wait for it.
 *
 * @param opts     options; NULL means all defaults.
 * @param[out] out the server, freed with procwait_forkserver_free().
 * @retval 0             success.
 * @retval -EINVAL       @p out NULL, @c opts->size too small, an unknown
 *                       flag, a bad name, or @c allowed_uids NULL with
 *                       @c n_allowed_uids > 0.
 * @retval -EADDRINUSE   another server listens on the path.
 * @retval -ENAMETOOLONG the path does not fit a socket address.
 * @retval -EPERM        the socket directory is not private to the user.
 * @retval -EMFILE, -ENFILE, -ENOMEM, -EACCES, ...  the system refused.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_new(const procwait_forkserver_options *opts,
                                            procwait_forkserver **out);

/**
 * @brief The path the server listens on.
 * @param fs the server.
 * @return the path, owned by the server; NULL when @p fs is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_forkserver_path(const procwait_forkserver *fs);

/**
 * @brief A descriptor that is readable when the server has work to do.
 *
 * For embedding the server in another event loop: when it is readable, call
 * procwait_forkserver_next() with timeout 0. The server's timers are not
 * behind it: also call next() within procwait_forkserver_timeout() ms.
 *
 * @param fs the server.
 * @return the descriptor (an epoll descriptor on Linux), owned by the server.
 * @retval -EINVAL @p fs is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_fd(const procwait_forkserver *fs);

/**
 * @brief Milliseconds until the server's next timer, -1 for none.
 * @param fs the server.
 * @retval -EINVAL @p fs is NULL (distinguish from -1 by checking @p fs).
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_timeout(const procwait_forkserver *fs);

/** @brief Results of procwait_forkserver_next(). @since 0.1 */
enum procwait_forkserver_next_result {
	PROCWAIT_FORKSERVER_TIMEOUT = 0, /**< the timeout passed */
	PROCWAIT_FORKSERVER_READY = 1,   /**< a request is ready to fork */
	PROCWAIT_FORKSERVER_STOPPED = 2  /**< the server has stopped */
};

/**
 * @brief Run the event loop until a request is ready to fork.
 *
 * Accepts and checks clients, reads their requests, forwards their signals,
 * reaps children and reports their exits, runs timeouts and kills. With
 * @c PROCWAIT_FORKSERVER_NO_SIGNALS unset, SIGTERM and SIGINT are blocked in
 * the calling thread while the call runs; receiving one stops the server.
 * Outside the call they have the caller's disposition: a host that must
 * not die of one that comes between procwait_forkserver_new() (the socket
 * exists) and the loop blocks both before new(); one that came meanwhile
 * is pending and stops the server at the loop's start, as
 * <tt>procwait serve</tt> does.
 *
 * When a request is returned, the caller must fork and call
 * procwait_forkserver_child() in the child and procwait_forkserver_parent()
 * in the parent (also when fork() failed) before calling next() again.
 * Block every signal around the fork() (restore the mask in the parent;
 * child() empties it after resetting the dispositions): a signal the
 * client forwards right after the start then waits for the child's
 * default dispositions instead of meeting the server's.
 *
 * Once stopping (a signal, procwait_forkserver_stop(), the idle time), the
 * server stops accepting, refuses queued requests, sends the stop signal to
 * every child's process group, SIGKILL after the grace, reaps them all,
 * reports their exits, removes its socket and returns
 * #PROCWAIT_FORKSERVER_STOPPED (from then on, at once).
 *
 * @param fs         the server.
 * @param timeout_ms < 0 forever, 0 do what is ready without blocking,
 *                   > 0 milliseconds.
 * @param[out] req   receives the request when READY is returned.
 * @return a ::procwait_forkserver_next_result.
 * @retval -EINVAL  @p fs or @p req NULL.
 * @retval -EBUSY   a request returned earlier was not yet handed to
 *                  procwait_forkserver_parent().
 * @retval -ENOMEM, ...  the loop could not go on; the server is still
 *                  usable and the call may be repeated.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_next(procwait_forkserver *fs, int timeout_ms,
                                             procwait_request **req);

/**
 * @brief In the child of a fork for @p req: install the request.
 *
 * Moves into the run's cgroup when it has one (see
 * procwait_forkserver_new(); should the move fail, the run goes on, stopped
 * through its process group), makes the client's descriptors 0, 1 and 2, changes to the request's
 * directory, replaces @c environ with the request's environment, starts a
 * new session (the child leads its own process group), makes the terminal the
 * controlling one in PTY mode, resets every signal disposition to the default
 * and empties the signal mask, closes every other descriptor (unless
 * #PROCWAIT_FORKSERVER_KEEP_FDS), sets SIGKILL as the parent-death signal and
 * exits with 127 at once if the server already died. Releases everything
 * the server holds in the child: afterwards only procwait_forkserver_free()
 * may be called on @p fs (it frees what is left). @p req stays valid until
 * procwait_request_free().
 *
 * On failure, a message naming the step has been written to the client's
 * standard error; the child should _exit(127).
 *
 * @param fs  the server (in the child).
 * @param req the request from procwait_forkserver_next().
 * @retval 0       the request is installed.
 * @retval -EINVAL @p fs or @p req NULL, or @p req not the request last
 *                 returned by procwait_forkserver_next().
 * @retval -EMFILE, -EBADF  the descriptors could not be installed.
 * @retval -EPERM, -ENOTTY  PTY mode: the terminal could not be made the
 *                 controlling one.
 * @retval -ENOENT, -EACCES, -ENOTDIR, ...  chdir(2) failed.
 * @retval -ENOMEM  the environment could not be set (or, in a spare, the
 *                 buffer for its request could not be allocated).
 * @retval -ECANCELED  a spare (see procwait_forkserver_set_spares()): the
 *                 server stopped before handing it a request; exit with
 *                 status 0 and say nothing.
 * @retval -EPROTO  a spare received something that is no request.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_child(procwait_forkserver *fs, procwait_request *req);

/**
 * @brief In the server after forking for @p req: track the child.
 *
 * Takes @p req over (do not free it). The client is sent STARTED{pid}, and
 * EXITED once the child has been reaped. When fork() failed, pass -errno as
 * @p pid: the client gets an error reply.
 *
 * @param fs  the server.
 * @param req the request from procwait_forkserver_next().
 * @param pid the child's pid, or -errno from a failed fork().
 * @retval 0       the child is tracked (or the failure reported).
 * @retval -EINVAL @p fs or @p req NULL, @p pid 0, or @p req is not the
 *                 request last returned by next() (it is then not taken).
 * @retval -ESRCH  the child is already gone (reaped behind the server's
 *                 back, e.g. with SIGCHLD ignored); its client got an error.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_parent(procwait_forkserver *fs, procwait_request *req,
                                               pid_t pid);

/**
 * @brief Serve requests, forking internally.
 *
 * Runs procwait_forkserver_next() in a loop; for each request calls the
 * @c before_fork hook, forks, and in the child installs the request
 * (procwait_forkserver_child()), calls the @c after_fork hook and returns 1
 * with @p *req set (there, only procwait_forkserver_free() may still be
 * called on @p fs); in the server it tracks the child and goes on. Returns 0
 * in the server once it has stopped. SIGTERM and SIGINT stay blocked in the
 * calling thread for the whole call (unless NO_SIGNALS).
 *
 * @param fs       the server.
 * @param[out] req in the child, the installed request.
 * @return 1 in a child, 0 in the server after a stop.
 * @retval -EINVAL  @p fs or @p req NULL.
 * @retval -ENOMEM, ...  as procwait_forkserver_next().
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_serve(procwait_forkserver *fs, procwait_request **req);

/**
 * @brief Keep a spare child forked ahead of the next request.
 *
 * fork() of a large process (a Python interpreter with its imports, say)
 * takes milliseconds. With a spare, procwait_forkserver_next() returns a
 * placeholder request whenever the server would otherwise wait and no spare
 * is there: the host forks for it exactly as for a request (child() in the
 * child, parent() in the server; procwait_forkserver_serve() does both).
 * In the spare, procwait_forkserver_child() does what needs no request
 * (parent-death signal, signal reset, new session, the server's
 * descriptors closed) and then blocks until the server hands it the next
 * request, which it installs as usual before returning: the request's
 * accessors then tell argv, envp and cwd. The server hands requests over
 * itself, inside next(), so they start without a fork.
 *
 * A spare never counts as a running child, does not keep the server from
 * its idle time, and is killed when the server stops. A spare that dies
 * before its request, or a fork that fails, turns spares off until the
 * next request has been forked the usual way.
 *
 * In a spare, procwait_forkserver_child() returns -ECANCELED when the
 * server stopped (or died) before a request came: exit at once, status 0,
 * saying nothing.
 *
 * @param fs the server.
 * @param n  0 (the default: fork per request) or 1.
 * @retval 0       success (0 also kills an idle spare).
 * @retval -EINVAL @p fs NULL, @p n not 0 or 1, or called in a forked child.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_set_spares(procwait_forkserver *fs, int n);

/**
 * @brief Ask the server to stop.
 *
 * Async-signal-safe, and safe from another thread: it only writes to an
 * eventfd. The loop in procwait_forkserver_next() carries the stop out. In
 * a process forked from the server the call does nothing.
 *
 * @param fs the server.
 * @retval 0       the stop is requested.
 * @retval -EINVAL @p fs is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_stop(procwait_forkserver *fs);

/**
 * @brief Children the server is running now.
 * @param fs the server.
 * @retval -EINVAL @p fs is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_forkserver_children(const procwait_forkserver *fs);

/**
 * @brief Free a server.
 *
 * A server that has not stopped is stopped first, without grace: its
 * children's groups get SIGKILL and are reaped, and its socket is removed.
 * NULL is allowed.
 *
 * @param fs the server, or NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN void procwait_forkserver_free(procwait_forkserver *fs);

/**
 * @brief The request's argument vector, NULL-terminated.
 * @param req the request.
 * @return the vector, owned by the request; NULL when @p req is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN char *const *procwait_request_argv(const procwait_request *req);

/**
 * @brief The request's environment, NULL-terminated, as the client had it.
 * @param req the request.
 * @return the vector, owned by the request; NULL when @p req is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN char *const *procwait_request_envp(const procwait_request *req);

/**
 * @brief The request's working directory.
 * @param req the request.
 * @return the path, owned by the request; NULL when @p req is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_request_cwd(const procwait_request *req);

/**
 * @brief Free a request in the child (the server frees its own).
 * @param req the request, or NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN void procwait_request_free(procwait_request *req);

/* ---- client --------------------------------------------------------- */

/** @brief A connection to a fork server (opaque). @since 0.1 */
typedef struct procwait_client procwait_client;

/** @brief Flags of ::procwait_client_request. @since 0.1 */
enum procwait_client_flags {
	/** PTY mode: the descriptors are the slave side of a pseudo-terminal
	 *  (the same descriptor three times); the child makes it its
	 *  controlling terminal. */
	PROCWAIT_CLIENT_PTY = 1u << 0
};

/**
 * @brief What to run. Start from #PROCWAIT_CLIENT_REQUEST_INIT.
 * @since 0.1
 */
typedef struct procwait_client_request {
	size_t size;            /**< sizeof(procwait_client_request) */
	char *const *argv;      /**< NULL-terminated, at least one entry */
	char *const *envp;      /**< NULL-terminated; NULL sends @c environ */
	const char *cwd;        /**< NULL sends the current directory */
	int fds[3];             /**< the child's 0, 1, 2; -1 sends the caller's own */
	/** Timeout in ms; -1 means the server's default; 0 means none. */
	int timeout_ms;
	unsigned flags;         /**< #procwait_client_flags */
} procwait_client_request;

/** @brief Initialiser for ::procwait_client_request. @since 0.1 */
#define PROCWAIT_CLIENT_REQUEST_INIT \
	{ sizeof(procwait_client_request), NULL, NULL, NULL, { -1, -1, -1 }, -1, 0u }

/**
 * @brief How a request's child ended.
 * @since 0.1
 */
typedef struct procwait_result {
	procwait_status status; /**< exit code, or signal and core flag */
	int timed_out;          /**< 1 when the server stopped it on timeout */
	struct timeval utime;   /**< user CPU time of the child (and the
	                             descendants it waited for) */
	struct timeval stime;   /**< system CPU time, likewise */
	long maxrss;            /**< peak resident set size, KiB */
} procwait_result;

/**
 * @brief Connect to a fork server.
 *
 * The socket's directory is checked as procwait_forkserver_socket_path()
 * does (a socket given by path is checked the same way).
 *
 * @param socket_path the server's socket; NULL means the default path of
 *                    the server named "default".
 * @param[out] out    the connection, closed with procwait_client_close().
 * @retval 0              connected.
 * @retval -EINVAL        @p out NULL.
 * @retval -ENAMETOOLONG  the path does not fit a socket address.
 * @retval -ENOENT, -ECONNREFUSED  no server listens on the path.
 * @retval -EPERM         the socket's directory is not private to the user.
 * @retval -ENOTDIR       the socket's directory is not a directory (a
 *                        symbolic link included).
 * @retval -EMFILE, -ENFILE, -ENOMEM  the system refused.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_client_connect(const char *socket_path, procwait_client **out);

/**
 * @brief Send a request and wait until its child runs.
 *
 * One request per connection. Returns once the server has answered
 * STARTED: the child runs (an exec failure in the child then shows as exit
 * status 127, or 126 when the program is not executable).
 *
 * @param c   the connection.
 * @param req what to run.
 * @return the child's pid (> 0).
 * @retval -EINVAL        @p c or @p req NULL, @c req->size too small, argv
 *                        NULL or empty, an unknown flag, a bad descriptor
 *                        number, more entries than the limits.
 * @retval -E2BIG         argv, envp and cwd do not fit one frame.
 * @retval -EALREADY      a request was already sent on @p c.
 * @retval -EBADF         a descriptor to send is not open.
 * @retval -EPERM         the server refused this user.
 * @retval -EAGAIN        the server is full (its queue too).
 * @retval -ESHUTDOWN     the server is stopping.
 * @retval -EPROTO, ...   the server's error reply; procwait_client_message()
 *                        tells its text.
 * @retval -ECONNRESET    the server went away.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_client_start(procwait_client *c, const procwait_client_request *req);

/**
 * @brief Send a request without waiting for it to start.
 *
 * procwait_client_start() is this call followed by
 * procwait_client_started(c, -1). Use the two when the wait for a free slot
 * must stay interruptible: poll procwait_client_fd() with your other
 * descriptors, then call procwait_client_started(). Closing the connection
 * before STARTED withdraws a queued request.
 *
 * @param c   the connection.
 * @param req what to run.
 * @retval 0   sent.
 * @retval -EINVAL, -E2BIG, -EALREADY, -EBADF  as procwait_client_start().
 * @retval -EPERM, -EAGAIN, -ESHUTDOWN, ...  the server refused at once (its
 *             error reply was already there).
 * @retval -ECONNRESET  the server went away.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_client_send(procwait_client *c, const procwait_client_request *req);

/**
 * @brief Wait for the STARTED reply to a sent request.
 *
 * @param c          the connection.
 * @param timeout_ms < 0 forever, 0 check once, > 0 milliseconds.
 * @return the child's pid (> 0; again on later calls), or 0 when the
 *         timeout passed.
 * @retval -EINVAL     @p c NULL.
 * @retval -ESRCH      no request was sent on @p c.
 * @retval -EALREADY   the request already ended in an error.
 * @retval -EINTR      the request was withdrawn from the queue by a signal
 *                     sent with procwait_client_signal() before it started.
 * @retval -EPERM, -EAGAIN, -ESHUTDOWN, -EPROTO, ...  the server's error
 *                     reply (procwait_client_message() tells its text).
 * @retval -ECONNRESET the server went away.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_client_started(procwait_client *c, int timeout_ms);

/**
 * @brief The connection's descriptor, readable when the result is there
 *        (or the server went away).
 * @param c the connection.
 * @retval -EINVAL @p c is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_client_fd(const procwait_client *c);

/**
 * @brief Ask the server to send @p signo to the child's process group.
 *
 * SIGKILL also goes to the run's cgroup, when it has one (see
 * procwait_forkserver_new()): daemons that left the group die too.
 * The child leads its own session, so its process group is orphaned and
 * the kernel would discard the job-control stops SIGTSTP, SIGTTIN and
 * SIGTTOU: the server sends SIGSTOP instead (SIGCONT resumes the group).
 * The call never blocks.
 *
 * It may be called once the request is sent, before STARTED: a request
 * still queued is then withdrawn (procwait_client_started() returns
 * -EINTR) unless the signal is SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT,
 * SIGWINCH, SIGCHLD or SIGURG (those are dropped); a request the server is
 * starting gets the signal once its child is tracked, and the child keeps
 * it pending until its dispositions are reset (procwait_forkserver_serve()
 * forks with every signal blocked; a host that forks itself should too).
 * So a signal that races with the start is never lost.
 *
 * @param c     the connection.
 * @param signo a signal number (1 to NSIG - 1).
 * @retval 0            sent.
 * @retval -EINVAL      @p c NULL or @p signo out of range.
 * @retval -ESRCH       no request was sent on @p c, or its exit (or a
 *                      final error) was already reported.
 * @retval -EAGAIN      the server is not reading (the frame was not sent).
 * @retval -ECONNRESET  the server went away, or closed the connection
 *                      after reporting the exit.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_client_signal(procwait_client *c, int signo);

/**
 * @brief Wait for the child's exit.
 *
 * @param c          the connection.
 * @param timeout_ms < 0 forever, 0 check once, > 0 milliseconds.
 * @param[out] res   the result.
 * When the server goes away before it reports the exit (killed, say),
 * nobody is left to stop the run: this call kills it before it returns
 * -ECONNRESET, with SIGKILL to the child's process group (the child, when
 * it was checked at STARTED to be the server's) and, when the run has a
 * cgroup (procwait_client_cgroup()) that this user may kill, to
 * everything in it, double-forked daemons included. It then removes the
 * cgroup once empty (and the dead server's directory), waiting for that
 * no longer than @p timeout_ms and at most a second; what is left then is
 * removed by the next server started in the same cgroup. A client of
 * another user (see @c allowed_uids) cannot write the server's
 * @c cgroup.kill: only the group is killed.
 *
 * @retval 1           @p res filled in.
 * @retval 0           the timeout passed.
 * @retval -EINVAL     @p c or @p res NULL.
 * @retval -ECONNRESET the server went away before reporting the exit (the
 *                     run was killed, as said above).
 * @retval -EPROTO     the server sent something malformed.
 * @retval -EALREADY   the result (or a final error) was already returned.
 * @retval -ESRCH      no request was started on @p c.
 * @since 0.1
 */
PROCWAIT_EXTERN int procwait_client_wait(procwait_client *c, int timeout_ms,
                                         procwait_result *res);

/**
 * @brief The text of the server's last error reply, or "" if none.
 * @param c the connection.
 * @return the text, owned by @p c; "" when @p c is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_client_message(const procwait_client *c);

/**
 * @brief The run's cgroup directory, as the server's STARTED reply named it.
 *
 * A server that can create cgroups (see procwait_forkserver_new()) gives
 * each run one: this is its absolute path under the cgroup2 mount, or NULL
 * when the run has none or has not started.
 *
 * @param c the connection.
 * @return the path, owned by @p c; NULL when @p c is NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN const char *procwait_client_cgroup(const procwait_client *c);

/**
 * @brief Close a connection. A child still running is then stopped by the
 *        server (stop signal, grace, SIGKILL to its group and to its cgroup
 *        when it has one). NULL is allowed.
 * @param c the connection, or NULL.
 * @since 0.1
 */
PROCWAIT_EXTERN void procwait_client_close(procwait_client *c);

PROCWAIT_END_DECLS

#endif /* PROCWAIT_FORKSERVER_H */
