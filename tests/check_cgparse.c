/* SPDX-License-Identifier: MIT */
/*
 * The cgroup parsers (lib/cgroup-parse.c), linked in directly: what the
 * fork server reads to find its cgroup (/proc/self/cgroup and
 * /proc/self/mountinfo) and to see a run's cgroup empty (cgroup.events).
 * tests/fuzz/fuzz-cgroup.c throws arbitrary bytes at the same functions.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "helpers.h"
#include "fs-cgroup.h"

#define S(lit) lit, sizeof(lit) - 1

START_TEST(test_self)
{
	char out[64];

	/* The v2 line among v1 ones, anywhere. */
	ck_assert_int_eq(pw__cg_parse_self(S("4:memory:/a\n0::/user.slice/x.scope\n1:name=systemd:/\n"),
	                                   out, sizeof(out)), 19);
	ck_assert_str_eq(out, "/user.slice/x.scope");
	ck_assert_int_eq(pw__cg_parse_self(S("0::/"), out, sizeof(out)), 1);
	ck_assert_str_eq(out, "/");
	/* No v2 line (v1 only), a removed cgroup, a relative path. */
	ck_assert_int_eq(pw__cg_parse_self(S("4:memory:/a\n"), out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(pw__cg_parse_self(S("0::/gone (deleted)\n"), out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(pw__cg_parse_self(S("0::x\n"), out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(pw__cg_parse_self(S("10::/a\n"), out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(pw__cg_parse_self(S(""), out, sizeof(out)), -ENOENT);
	/* Too long for the buffer: no partial copy is passed off as a path. */
	ck_assert_int_eq(pw__cg_parse_self(S("0::/abcdef\n"), out, 4), -ERANGE);
	ck_assert_int_eq(pw__cg_parse_self(S("0::/abc\n"), out, 5), 4);
}
END_TEST

START_TEST(test_mount)
{
	char root[64], mnt[64];

	/* Hybrid (v1 controllers, v2 at .../unified), optional fields. */
	ck_assert_int_eq(pw__cg_parse_mount(S(
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"30 22 0:26 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory\n"
		"41 25 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 master:2 - cgroup2 cgroup2 rw\n"),
		root, sizeof(root), mnt, sizeof(mnt)), 0);
	ck_assert_str_eq(root, "/");
	ck_assert_str_eq(mnt, "/sys/fs/cgroup/unified");
	/* No optional field; a mount root below the hierarchy's; an octal
	 * escape (\040 is a space). */
	ck_assert_int_eq(pw__cg_parse_mount(S(
		"36 25 0:30 /user.slice /sys/fs/my\\040cg rw,nosuid - cgroup2 cgroup2 rw"),
		root, sizeof(root), mnt, sizeof(mnt)), 0);
	ck_assert_str_eq(root, "/user.slice");
	ck_assert_str_eq(mnt, "/sys/fs/my cg");
	/* None: v1 only, "cgroup2" not in the type field, a line cut short. */
	ck_assert_int_eq(pw__cg_parse_mount(S("30 22 0:26 / /sys/fs/cgroup rw - cgroup cgroup rw\n"),
	                                    root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	ck_assert_int_eq(pw__cg_parse_mount(S("30 22 0:26 / /cgroup2 rw - tmpfs cgroup2 rw\n"),
	                                    root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	ck_assert_int_eq(pw__cg_parse_mount(S("41 25 0:38 / /x - cgroup2\n"),
	                                    root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	ck_assert_int_eq(pw__cg_parse_mount(S(""), root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	/* A mount point longer than the buffer. */
	ck_assert_int_eq(pw__cg_parse_mount(S("41 25 0:38 / /sys/fs/cgroup/unified rw - cgroup2 c rw\n"),
	                                    root, sizeof(root), mnt, 8), -ERANGE);
}
END_TEST

START_TEST(test_populated)
{
	ck_assert_int_eq(pw__cg_parse_populated(S("populated 1\nfrozen 0\n")), 1);
	ck_assert_int_eq(pw__cg_parse_populated(S("frozen 0\npopulated 0\n")), 0);
	ck_assert_int_eq(pw__cg_parse_populated(S("populated 0")), 0);
	ck_assert_int_eq(pw__cg_parse_populated(S("populated 2\n")), -EPROTO);
	ck_assert_int_eq(pw__cg_parse_populated(S("populated 10\n")), -EPROTO);
	ck_assert_int_eq(pw__cg_parse_populated(S("unpopulated 1\n")), -EPROTO);
	ck_assert_int_eq(pw__cg_parse_populated(S("")), -EPROTO);
}
END_TEST

static Suite *cgparse_suite(void)
{
	Suite *s = suite_create("cgparse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_mount);
	tcase_add_test(tc, test_populated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pwt_run(cgparse_suite());
}
