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
	ck_assert_str_eq(procwait_strerror(-ESHUTDOWN), "Cannot send after transport endpoint shutdown");
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

/* Each backend test runs in its own forked process: the latch is fresh. */
START_TEST(test_backend_auto)
{
	const char *name;

	unsetenv("PROCWAIT_BACKEND");
	name = procwait_backend_name();
	ck_assert(strcmp(name, "pidfd") == 0 || strcmp(name, "poll") == 0);
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

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_errname);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_status_shell);
	tcase_add_test(tc, test_backend_auto);
	tcase_add_test(tc, test_backend_forced_poll);
	tcase_add_test(tc, test_backend_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pwt_run(error_suite());
}
