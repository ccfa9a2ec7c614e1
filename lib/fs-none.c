/* SPDX-License-Identifier: MIT */
/* The fork server and the supervisor where they are not built (they need
 * Linux's epoll, signalfd, eventfd and pidfds for now): every call answers
 * -ENOSYS, as forkserver.h and supervisor.h document; out-parameters are
 * cleared, and the free and close calls do nothing. */
#include "internal.h"

PROCWAIT_EXTERN int procwait_forkserver_socket_path(const char *name, int create, char *buf, size_t size)
{
	(void)name;
	(void)create;
	(void)buf;
	(void)size;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_new(const procwait_forkserver_options *opts, procwait_forkserver **out)
{
	if (out)
		*out = NULL;
	(void)opts;
	return -ENOSYS;
}

PROCWAIT_EXTERN const char *procwait_forkserver_path(const procwait_forkserver *fs)
{
	(void)fs;
	return NULL;
}

PROCWAIT_EXTERN int procwait_forkserver_fd(const procwait_forkserver *fs)
{
	(void)fs;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_timeout(const procwait_forkserver *fs)
{
	(void)fs;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_next(procwait_forkserver *fs, int timeout_ms, procwait_request **req)
{
	if (req)
		*req = NULL;
	(void)fs;
	(void)timeout_ms;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_child(procwait_forkserver *fs, procwait_request *req)
{
	(void)fs;
	(void)req;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_parent(procwait_forkserver *fs, procwait_request *req, pid_t pid)
{
	(void)fs;
	(void)req;
	(void)pid;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_serve(procwait_forkserver *fs, procwait_request **req)
{
	if (req)
		*req = NULL;
	(void)fs;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_set_spares(procwait_forkserver *fs, int n)
{
	(void)fs;
	(void)n;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_stop(procwait_forkserver *fs)
{
	(void)fs;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_forkserver_children(const procwait_forkserver *fs)
{
	(void)fs;
	return -ENOSYS;
}

PROCWAIT_EXTERN void procwait_forkserver_free(procwait_forkserver *fs)
{
	(void)fs;
}

PROCWAIT_EXTERN char *const *procwait_request_argv(const procwait_request *req)
{
	(void)req;
	return NULL;
}

PROCWAIT_EXTERN char *const *procwait_request_envp(const procwait_request *req)
{
	(void)req;
	return NULL;
}

PROCWAIT_EXTERN const char *procwait_request_cwd(const procwait_request *req)
{
	(void)req;
	return NULL;
}

PROCWAIT_EXTERN void procwait_request_free(procwait_request *req)
{
	(void)req;
}

PROCWAIT_EXTERN int procwait_client_connect(const char *socket_path, procwait_client **out)
{
	if (out)
		*out = NULL;
	(void)socket_path;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_client_start(procwait_client *c, const procwait_client_request *req)
{
	(void)c;
	(void)req;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_client_send(procwait_client *c, const procwait_client_request *req)
{
	(void)c;
	(void)req;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_client_started(procwait_client *c, int timeout_ms)
{
	(void)c;
	(void)timeout_ms;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_client_fd(const procwait_client *c)
{
	(void)c;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_client_signal(procwait_client *c, int signo)
{
	(void)c;
	(void)signo;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_client_wait(procwait_client *c, int timeout_ms, procwait_result *res)
{
	(void)c;
	(void)timeout_ms;
	(void)res;
	return -ENOSYS;
}

PROCWAIT_EXTERN const char *procwait_client_message(const procwait_client *c)
{
	(void)c;
	return NULL;
}

PROCWAIT_EXTERN const char *procwait_client_cgroup(const procwait_client *c)
{
	(void)c;
	return NULL;
}

PROCWAIT_EXTERN void procwait_client_close(procwait_client *c)
{
	(void)c;
}

PROCWAIT_EXTERN int procwait_supervisor_new(unsigned flags, procwait_supervisor **out)
{
	if (out)
		*out = NULL;
	(void)flags;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_add(procwait_supervisor *sv, const procwait_service_options *opts, void *data)
{
	(void)sv;
	(void)opts;
	(void)data;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_stop(procwait_supervisor *sv, int id)
{
	(void)sv;
	(void)id;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_restart(procwait_supervisor *sv, int id)
{
	(void)sv;
	(void)id;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_remove(procwait_supervisor *sv, int id)
{
	(void)sv;
	(void)id;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_state(const procwait_supervisor *sv, int id, pid_t *pid)
{
	(void)sv;
	(void)id;
	(void)pid;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_run(procwait_supervisor *sv, int timeout_ms, procwait_service_event *events, int max_events)
{
	(void)sv;
	(void)timeout_ms;
	(void)events;
	(void)max_events;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_fd(const procwait_supervisor *sv)
{
	(void)sv;
	return -ENOSYS;
}

PROCWAIT_EXTERN int procwait_supervisor_timeout(const procwait_supervisor *sv)
{
	(void)sv;
	return -ENOSYS;
}

PROCWAIT_EXTERN void procwait_supervisor_free(procwait_supervisor *sv)
{
	(void)sv;
}
