/* SPDX-License-Identifier: MIT */
/*
 * Backend choice: the table in order of preference, the one-time probe and
 * its latch (the only process-wide mutable state of the library), and the
 * bookkeeping of why a call fell back.
 */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* In order of preference; the poll fallback is always last. */
static const struct pw__backend *const pw__backends[] = {
#ifdef HAVE_WIN32_BACKEND
	&pw__backend_win32,
#else
#ifdef HAVE_PIDFD_BACKEND
	&pw__backend_pidfd,
#endif
#ifdef HAVE_KQUEUE_BACKEND
	&pw__backend_kqueue,
#endif
	&pw__backend_poll,
#endif
};
#define PW_NBACKENDS (sizeof(pw__backends) / sizeof(pw__backends[0]))

/* The latch: NULL until the first probe. */
static _Atomic(const struct pw__backend *) pw__latched;
/* Why the fallback was latched: errno and system call in one atomic word,
 * (index in pw__calls << 32) | -err, so a reader never sees half of one
 * reason and half of another. 0 when nothing was latched. */
static atomic_llong pw__latched_reason;
static const char *const pw__calls[] = {
	"?", "pidfd_open", "waitid", "pidfd_send_signal", "poll", "clone",
	"epoll_ctl", "PROCWAIT_BACKEND", "kqueue", "kevent", "OpenProcess",
};

/* The last per-call fallback of this thread (thread-local, not shared). */
static _Thread_local int pw__tls_err;
static _Thread_local const char *pw__tls_call;

enum pw__errclass pw__errclass(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOSYS: case EPERM: case EACCES:
		return PW_ERR_PERMANENT;
	case EMFILE: case ENFILE: case ENOMEM:
		return PW_ERR_TEMPORARY;
	case ESRCH: case EINVAL:
		return PW_ERR_MAYBE_GONE;
	default:
		return PW_ERR_OTHER;
	}
}

static void latch_reason(int err, const char *syscall)
{
	long long idx = 0;
	size_t i;

	for (i = 1; syscall && i < sizeof(pw__calls) / sizeof(pw__calls[0]); i++)
		if (strcmp(syscall, pw__calls[i]) == 0)
			idx = (long long)i;
	atomic_store(&pw__latched_reason, (idx << 32) | (long long)(unsigned)(err < 0 ? -err : err));
}

void pw__fallback_note(int err, const char *syscall)
{
	pw__tls_err = err > 0 ? -err : err;
	pw__tls_call = syscall;
}

void pw__fallback(int err, const char *syscall)
{
	if (err > 0)
		err = -err;
	pw__fallback_note(err, syscall);
	if (pw__errclass(err) == PW_ERR_PERMANENT && &PW_BACKEND_LAST != pw__backends[0]) {
		latch_reason(err, syscall);
		atomic_store(&pw__latched, &PW_BACKEND_LAST);
	}
}

static const char *env_backend(void)
{
#ifdef HAVE_SECURE_GETENV
	return secure_getenv("PROCWAIT_BACKEND");
#else
	return getenv("PROCWAIT_BACKEND");
#endif
}

static int known_backend(const char *name)
{
	size_t i;

	for (i = 0; i < PW_NBACKENDS; i++)
		if (strcmp(name, pw__backends[i]->name) == 0)
			return 1;
	return 0;
}

/* Probe the backends; *latch tells whether the answer may be kept. */
static const struct pw__backend *choose(int *latch)
{
	const char *want = env_backend();
	size_t i;

	*latch = 1;
	if (want && (*want == '\0' || !known_backend(want))) {
		/* Unknown or not built here: say so through
		 * procwait_last_fallback() and make the automatic choice. */
		if (*want)
			latch_reason(-ENOTSUP, "PROCWAIT_BACKEND");
		want = NULL;
	}
	for (i = 0; i + 1 < PW_NBACKENDS; i++) {
		const struct pw__backend *be = pw__backends[i];
		const char *call = NULL;
		int r;

		if (want && strcmp(want, be->name) != 0)
			continue;
		r = be->probe(&call);
		if (r == 0)
			return be;
		pw__fallback(r, call);
		if (pw__errclass(r) != PW_ERR_PERMANENT)
			*latch = 0;   /* e.g. EMFILE: probe again next time */
	}
	/* The poll fallback; chosen through PROCWAIT_BACKEND=poll it is no
	 * fallback and leaves no reason behind. */
	return &PW_BACKEND_LAST;
}

const struct pw__backend *pw__backend_get(void)
{
	const struct pw__backend *be = atomic_load(&pw__latched);
	const struct pw__backend *expected = NULL;
	int latch;

	if (be)
		return be;
	be = choose(&latch);
	if (!latch)
		return be;
	if (!atomic_compare_exchange_strong(&pw__latched, &expected, be))
		be = expected;   /* another thread latched first */
	return be;
}

PROCWAIT_EXTERN const char *procwait_backend_name(void)
{
	return pw__backend_get()->name;
}

PROCWAIT_EXTERN int procwait_last_fallback(const char **syscall)
{
	int err = pw__tls_err;
	const char *call = pw__tls_call;

	if (!err) {
		long long v = atomic_load(&pw__latched_reason);

		err = -(int)(v & 0xffffffff);
		call = err ? pw__calls[v >> 32] : NULL;
	}
	if (syscall)
		*syscall = call;
	return err;
}
