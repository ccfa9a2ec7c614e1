/* SPDX-License-Identifier: MIT */
/* Error names and messages, versions, the backend switch. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

START_TEST(test_strerror)
{
	ck_assert_str_eq(procwait_strerror(-ESRCH), "No such process");
	ck_assert_str_eq(procwait_strerror(ESRCH), "No such process");
	ck_assert_str_eq(procwait_strerror(-ETIMEDOUT), "Timed out");
	ck_assert_str_eq(procwait_strerror(-ECHILD), "No child processes");
	ck_assert_str_eq(procwait_strerror(0), "Success");
	/* what the fork server and its client return */
	ck_assert_str_eq(procwait_strerror(-EADDRINUSE), "Address already in use");
#ifdef ESHUTDOWN   /* not on Windows, where nothing of ours returns it */
	ck_assert_str_eq(procwait_strerror(-ESHUTDOWN), "Cannot send after transport endpoint shutdown");
#endif
	ck_assert_str_eq(procwait_strerror(-EALREADY), "Operation already in progress");
	ck_assert_str_eq(procwait_strerror(-EPROTONOSUPPORT), "Protocol not supported");
	ck_assert_str_eq(procwait_strerror(-99999), "Unknown error -99999");
	ck_assert_str_eq(procwait_strerror(PROCWAIT_EZOMBIE), "Process is a zombie");
	ck_assert_str_eq(procwait_strerror(PROCWAIT_ERROR_BASE - 2), "Unknown error -100002");
	ck_assert_str_eq(procwait_strerror(-PROCWAIT_EZOMBIE), "Unknown error 100001");
	ck_assert_str_eq(procwait_strerror(INT_MIN), "Unknown error -2147483648");
	ck_assert_str_eq(procwait_strerror(INT_MAX), "Unknown error 2147483647");
}
END_TEST

START_TEST(test_errname)
{
	ck_assert_str_eq(procwait_errname(-ETIMEDOUT), "ETIMEDOUT");
	ck_assert_str_eq(procwait_errname(EINVAL), "EINVAL");
	ck_assert_str_eq(procwait_errname(-EDEADLK), "EDEADLK");
	ck_assert_ptr_null(procwait_errname(0));
	ck_assert_ptr_null(procwait_errname(12345));
	ck_assert_ptr_null(procwait_errname(INT_MIN));
	ck_assert_ptr_null(procwait_errname(PROCWAIT_ERROR_BASE));
	ck_assert_str_eq(procwait_errname(PROCWAIT_EZOMBIE), "PROCWAIT_EZOMBIE");
}
END_TEST

START_TEST(test_version)
{
	char buf[32];

	ck_assert_uint_eq(procwait_version(), PROCWAIT_VERSION_HEX);
	ck_assert_str_eq(procwait_version_string(), PROCWAIT_VERSION_STRING);
	snprintf(buf, sizeof(buf), "%d.%d.%d", PROCWAIT_VERSION_MAJOR, PROCWAIT_VERSION_MINOR,
	         PROCWAIT_VERSION_PATCH);
	ck_assert_str_eq(procwait_version_string(), buf);
}
END_TEST

START_TEST(test_status_shell)
{
	procwait_status st;

	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(procwait_status_shell(&st), -ENODATA);   /* zeroed = unknown */
	st.kind = PROCWAIT_STATUS_EXITED;
	st.code = 3;
	ck_assert_int_eq(procwait_status_shell(&st), 3);
	st.kind = PROCWAIT_STATUS_SIGNALED;
	st.signo = 9;
	ck_assert_int_eq(procwait_status_shell(&st), 137);
	st.kind = -1;
	ck_assert_int_eq(procwait_status_shell(&st), -EINVAL);
}
END_TEST

#ifndef HAVE_WIN32_BACKEND
/* Each backend test runs in its own forked process: the latch is fresh. */
START_TEST(test_backend_auto)
{
	const char *name;

	unsetenv("PROCWAIT_BACKEND");
	name = procwait_backend_name();
	ck_assert(strcmp(name, "pidfd") == 0 || strcmp(name, "kqueue") == 0 ||
	          strcmp(name, "poll") == 0);
	ck_assert_str_eq(procwait_backend_name(), name);   /* latched */
}
END_TEST

START_TEST(test_backend_forced_poll)
{
	setenv("PROCWAIT_BACKEND", "poll", 1);
	ck_assert_str_eq(procwait_backend_name(), "poll");
	ck_assert_int_eq(procwait_last_fallback(NULL), 0);
}
END_TEST

/* An unknown name is reported, not obeyed blindly nor ignored silently. */
START_TEST(test_backend_unknown)
{
	const char *call = NULL;

	setenv("PROCWAIT_BACKEND", "bogus", 1);
	ck_assert_ptr_nonnull(procwait_backend_name());
	ck_assert_int_eq(procwait_last_fallback(&call), -ENOTSUP);
	ck_assert_str_eq(call, "PROCWAIT_BACKEND");
}
END_TEST

#else /* HAVE_WIN32_BACKEND */

/* The backend latch is process-wide and the Windows suites run without
 * fork: each backend test starts this program again ("--backend-report",
 * see main()) with the environment it needs, and reads its answer. */
extern char **environ;

/* Run ourselves with PROCWAIT_BACKEND=backend (NULL: unset); the child's
 * report in out: "NAME FALLBACK CALL". */
static void backend_report(const char *backend, char *out, size_t size)
{
	char *argv[] = { (char *)"check_error", (char *)"--backend-report", NULL };
	procwait_spawn_options o = PROCWAIT_SPAWN_OPTIONS_INIT;
	procwait_status st;
	char **env, var[64];
	size_t n = 0, i;

	for (i = 0; environ[i]; i++)
		;
	env = calloc(i + 2, sizeof(*env));
	ck_assert_ptr_nonnull(env);
	for (i = 0; environ[i]; i++)
		if (strncmp(environ[i], "PROCWAIT_BACKEND=", 17) != 0)
			env[n++] = environ[i];
	if (backend) {
		snprintf(var, sizeof(var), "PROCWAIT_BACKEND=%s", backend);
		env[n++] = var;
	}
	env[n] = NULL;
	o.file = pwt_self_path();
	o.argv = argv;
	o.envp = env;
	ck_assert_int_eq(pwt_spawn_capture(&o, out, size, NULL, &st), 0);
	free(env);
	ck_assert_int_eq(st.kind, PROCWAIT_STATUS_EXITED);
	ck_assert_int_eq(st.code, 0);
}

START_TEST(test_backend_auto)
{
	char out[128];

	backend_report(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "win32 0 -");
	/* and this process has latched the same */
	ck_assert_str_eq(procwait_backend_name(), "win32");
	ck_assert_str_eq(procwait_backend_name(), "win32");
}
END_TEST

START_TEST(test_backend_forced_win32)
{
	char out[128];

	backend_report("win32", out, sizeof(out));
	ck_assert_str_eq(out, "win32 0 -");
}
END_TEST

/* poll is not built on Windows: asking for it is asking for an unknown
 * backend, reported as such; the automatic choice is made. */
START_TEST(test_backend_forced_poll)
{
	char out[128], want[128];

	backend_report("poll", out, sizeof(out));
	snprintf(want, sizeof(want), "win32 %d PROCWAIT_BACKEND", -ENOTSUP);
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_backend_unknown)
{
	char out[128], want[128];

	backend_report("bogus", out, sizeof(out));
	snprintf(want, sizeof(want), "win32 %d PROCWAIT_BACKEND", -ENOTSUP);
	ck_assert_str_eq(out, want);
}
END_TEST

#endif /* HAVE_WIN32_BACKEND */

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = pwt_tcase("core");

	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_errname);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_status_shell);
	tcase_add_test(tc, test_backend_auto);
#ifdef HAVE_WIN32_BACKEND
	tcase_add_test(tc, test_backend_forced_win32);
#endif
	tcase_add_test(tc, test_backend_forced_poll);
	tcase_add_test(tc, test_backend_unknown);
	suite_add_tcase(s, tc);
	return s;
}

#ifdef HAVE_WIN32_BACKEND
int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--backend-report") == 0) {
		/* For the backend tests: a fresh process, a fresh latch. */
		const char *call = NULL;
		int err;
		const char *name = procwait_backend_name();

		err = procwait_last_fallback(&call);
		printf("%s %d %s", name, err, call ? call : "-");
		return 0;
	}
	return pwt_run(error_suite());
}
#else
int main(void)
{
	return pwt_run(error_suite());
}
#endif
