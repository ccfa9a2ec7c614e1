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

/* pw__cg_parse_mount() from the start: its result and root, mnt. */
static int mount1(const char *buf, size_t n, char *root, size_t rsize, char *mnt, size_t msize)
{
	size_t pos = 0;

	return pw__cg_parse_mount(buf, n, &pos, root, rsize, mnt, msize);
}

START_TEST(test_mount)
{
	static const char two[] =
		"50 1 0:40 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"
		"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"51 1 0:40 / /host/cgroup rw - cgroup2 cgroup2 rw";
	char root[64], mnt[64];
	size_t pos = 0;

	/* Hybrid (v1 controllers, v2 at .../unified), optional fields. */
	ck_assert_int_eq(mount1(S(
		"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"30 22 0:26 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory\n"
		"41 25 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 master:2 - cgroup2 cgroup2 rw\n"),
		root, sizeof(root), mnt, sizeof(mnt)), 0);
	ck_assert_str_eq(root, "/");
	ck_assert_str_eq(mnt, "/sys/fs/cgroup/unified");
	/* No optional field; a mount root below the hierarchy's; an octal
	 * escape (\040 is a space). */
	ck_assert_int_eq(mount1(S(
		"36 25 0:30 /user.slice /sys/fs/my\\040cg rw,nosuid - cgroup2 cgroup2 rw"),
		root, sizeof(root), mnt, sizeof(mnt)), 0);
	ck_assert_str_eq(root, "/user.slice");
	ck_assert_str_eq(mnt, "/sys/fs/my cg");
	/* One mount after the other, then none. */
	ck_assert_int_eq(pw__cg_parse_mount(two, sizeof(two) - 1, &pos, root, sizeof(root), mnt,
	                                    sizeof(mnt)), 0);
	ck_assert_str_eq(root, "/docker/abc");
	ck_assert_int_eq(pw__cg_parse_mount(two, sizeof(two) - 1, &pos, root, sizeof(root), mnt,
	                                    sizeof(mnt)), 0);
	ck_assert_str_eq(mnt, "/host/cgroup");
	ck_assert_uint_eq(pos, sizeof(two) - 1);
	ck_assert_int_eq(pw__cg_parse_mount(two, sizeof(two) - 1, &pos, root, sizeof(root), mnt,
	                                    sizeof(mnt)), -ENOENT);
	/* None: v1 only, "cgroup2" not in the type field, a line cut short. */
	ck_assert_int_eq(mount1(S("30 22 0:26 / /sys/fs/cgroup rw - cgroup cgroup rw\n"),
	                        root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	ck_assert_int_eq(mount1(S("30 22 0:26 / /cgroup2 rw - tmpfs cgroup2 rw\n"),
	                        root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	ck_assert_int_eq(mount1(S("41 25 0:38 / /x - cgroup2\n"),
	                        root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	ck_assert_int_eq(mount1(S(""), root, sizeof(root), mnt, sizeof(mnt)), -ENOENT);
	/* A mount point longer than the buffer. */
	ck_assert_int_eq(mount1(S("41 25 0:38 / /sys/fs/cgroup/unified rw - cgroup2 c rw\n"),
	                        root, sizeof(root), mnt, 8), -ERANGE);
}
END_TEST

START_TEST(test_run_path)
{
	/* What a client accepts as its run's cgroup from server 42. */
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-42-7/run-0", 42), 1);
	ck_assert_int_eq(pw__cg_is_run_of("/procwait-42-123456/run-99", 42), 1);
	/* Another server's, another shape, the server's own directory. */
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-43-7/run-0", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-421-7/run-0", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-42/run-0", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-42-7", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-42-7/run-", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-42-7/run-1x", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/procwait-42-7/run-1/", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/sys/fs/cgroup/user.slice", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/run-1", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("", 42), 0);
	ck_assert_int_eq(pw__cg_is_run_of("/procwait-0-7/run-1", 0), 0);
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
	tcase_add_test(tc, test_run_path);
	tcase_add_test(tc, test_populated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pwt_run(cgparse_suite());
}
