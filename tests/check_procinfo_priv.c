/* SPDX-License-Identifier: MIT */
/* Process information where /proc says no: hidepid=invisible and
 * hidepid=noaccess, another user's process, and pid reuse under an open
 * handle. Each test runs the library in a child that has a private mount
 * namespace with a proc of its own on /proc and has become nobody; the
 * child reports what it got through a pipe. Needs root and mount
 * namespaces: exits 77 (skip) without them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "helpers.h"

#define NOBODY 65534

/* In a child: a private mount namespace with a fresh file system of type
 * fstype (proc, or tmpfs for no proc at all) on /proc, mounted with opts
 * (NULL: none). 0 or an errno; *step says which call failed. */
static int fresh_proc(const char *fstype, const char *opts, const char **step)
{
	*step = "unshare(CLONE_NEWNS)";
	if (unshare(CLONE_NEWNS) < 0)
		return errno;
	*step = "mount --make-rprivate /";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return errno;
	*step = "mount on /proc";
	if (mount(fstype, "/proc", fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		return errno;
	return 0;
}

static int become_nobody(void)
{
	if (setgroups(0, NULL) < 0)
		return errno;
	if (setresgid(NOBODY, NOBODY, NOBODY) < 0)
		return errno;
	if (setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return errno;
	return 0;
}

/* What a child reports. */
struct res {
	int setup;              /* 0, or the errno of the setup step */
	char step[48];
	int r[24];              /* return values, meaning per test */
	uint64_t present, denied;
	char name[PROCWAIT_NAME_MAX + 1];
};

typedef void (*body_fn)(struct res *res, void *arg);

/* Run fn in a child with a fresh fstype on /proc mounted with opts, as
 * nobody when nobody is set. */
static void run_in_ns(const char *fstype, const char *opts, int nobody, body_fn fn, void *arg,
                      struct res *out)
{
	int p[2], st;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct res res;
		const char *step = "";

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		memset(&res, 0, sizeof(res));
		res.setup = fresh_proc(fstype, opts, &step);
		if (res.setup == 0 && nobody) {
			step = "setresuid(nobody)";
			res.setup = become_nobody();
		}
		snprintf(res.step, sizeof(res.step), "%s", step);
		if (res.setup == 0)
			fn(&res, arg);
		if (pwt_write_full(p[1], &res, sizeof(res)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	memset(out, 0, sizeof(*out));
	ck_assert_msg(pwt_read_full(p[0], out, sizeof(*out)) == 0, "the child died: status %#x",
	              (unsigned)pwt_reap(pid));
	close(p[0]);
	st = pwt_reap(pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_msg(out->setup == 0, "%s: %s", out->step, strerror(out->setup));
}

/* A pid that no process has (a child, reaped). */
static pid_t gone_pid(void)
{
	pid_t pid = pwt_child_exit(0, 0);

	pwt_reap(pid);
	return pid;
}

/* ---- hidepid=invisible ---------------------------------------------------- */

static void body_invisible(struct res *res, void *arg)
{
	procwait_procinfo *pi = NULL;
	pid_t gone = *(pid_t *)arg;

	prctl(PR_SET_NAME, (unsigned long)"pwt-hidden", 0, 0, 0);
	/* pid 1 and our parent are root's: hidden, but kill(2) says EPERM */
	res->r[0] = kill(1, 0) < 0 ? errno : 0;
	res->r[1] = procwait_procinfo_open(1, 0, &pi);
	if (res->r[1] == 0)
		procwait_procinfo_close(pi);
	res->r[2] = procwait_procinfo_open(getppid(), 0, &pi);
	if (res->r[2] == 0)
		procwait_procinfo_close(pi);
	res->r[3] = procwait_procinfo_open(gone, 0, &pi);
	if (res->r[3] == 0)
		procwait_procinfo_close(pi);
	/* we see ourselves */
	res->r[4] = procwait_procinfo_open(getpid(), 0, &pi);
	if (res->r[4] == 0) {
		res->r[5] = procwait_procinfo_name(pi, res->name, sizeof(res->name));
		res->r[6] = procwait_procinfo_ppid(pi);
		procwait_procinfo_close(pi);
	}
	res->r[7] = getppid();
}

START_TEST(test_hidepid_invisible)
{
	struct res res;
	pid_t gone = gone_pid();

	run_in_ns("proc", "hidepid=invisible", 1, body_invisible, &gone, &res);
	ck_assert_int_eq(res.r[0], EPERM);  /* pid 1 exists and is not ours */
	ck_assert_int_eq(res.r[1], -EACCES);
	ck_assert_int_eq(res.r[2], -EACCES);
	ck_assert_int_eq(res.r[3], -ESRCH);
	ck_assert_int_eq(res.r[4], 0);
	ck_assert_int_eq(res.r[5], 10);
	ck_assert_str_eq(res.name, "pwt-hidden");
	ck_assert_int_eq(res.r[6], getpid());
	ck_assert_int_eq(res.r[7], getpid());
	pwt_assert_no_children();
}
END_TEST

/* ---- hidepid=noaccess ----------------------------------------------------- */

static void body_noaccess(struct res *res, void *arg)
{
	procwait_snapshot snap = PROCWAIT_SNAPSHOT_INIT;
	procwait_procinfo *pi = NULL;
	char buf[PATH_MAX];
	procwait_cpu_times ct;
	procwait_memory_info mi;
	procwait_ids ids;
	uint64_t u;
	double d;
	int n = 1;

	res->r[0] = procwait_procinfo_open(1, 0, &pi);
	if (res->r[0] == 0) {
		/* the directory opened: every reading call is denied */
		res->r[n++] = procwait_procinfo_name(pi, buf, sizeof(buf));
		res->r[n++] = procwait_procinfo_ppid(pi);
		res->r[n++] = procwait_procinfo_status(pi);
		res->r[n++] = procwait_procinfo_exe(pi, buf, sizeof(buf));
		res->r[n++] = procwait_procinfo_cwd(pi, buf, sizeof(buf));
		res->r[n++] = procwait_procinfo_cmdline(pi, buf, sizeof(buf));
		res->r[n++] = procwait_procinfo_cpu_times(pi, &ct);
		res->r[n++] = procwait_procinfo_create_time(pi, &d);
		res->r[n++] = procwait_procinfo_memory_info(pi, &mi);
		res->r[n++] = procwait_procinfo_uids(pi, &ids);
		res->r[n++] = procwait_procinfo_starttime(pi, &u);
		res->r[n++] = procwait_procinfo_snapshot(pi, PROCWAIT_INFO_ALL, &snap);
		procwait_procinfo_close(pi);
	}
	res->r[20] = n;
	/* our own entry stays readable */
	res->r[21] = procwait_procinfo_open(getpid(), 0, &pi);
	if (res->r[21] == 0) {
		res->r[22] = procwait_procinfo_ppid(pi);
		procwait_procinfo_close(pi);
	}
}

START_TEST(test_hidepid_noaccess)
{
	struct res res;

	run_in_ns("proc", "hidepid=noaccess", 1, body_noaccess, NULL, &res);
	ck_assert_msg(res.r[0] == -EACCES || res.r[0] == 0, "open(1): %s",
	              procwait_strerror(res.r[0]));
	if (res.r[0] == 0) {
		ck_assert_int_eq(res.r[20], 13);
		for (int i = 1; i < res.r[20]; i++)
			ck_assert_msg(res.r[i] == -EACCES, "call %d: %s, want EACCES", i,
			              procwait_strerror(res.r[i]));
	} else {
		ck_assert_int_eq(res.r[20], 1);
	}
	ck_assert_int_eq(res.r[21], 0);
	ck_assert_int_eq(res.r[22], getpid());
	pwt_assert_no_children();
}
END_TEST

/* ---- another user's process, no hidepid ----------------------------------- */

static void body_other_user(struct res *res, void *arg)
{
	procwait_snapshot snap = PROCWAIT_SNAPSHOT_INIT;
	procwait_procinfo *pi = NULL;
	char buf[PATH_MAX];

	res->r[0] = procwait_procinfo_open(1, 0, &pi);
	if (res->r[0] != 0)
		return;
	res->r[1] = procwait_procinfo_exe(pi, buf, sizeof(buf));
	res->r[2] = procwait_procinfo_cwd(pi, buf, sizeof(buf));
	res->r[3] = procwait_procinfo_snapshot(pi, PROCWAIT_INFO_ALL, &snap);
	res->present = snap.present;
	res->denied = snap.denied;
	memcpy(res->name, snap.name, sizeof(res->name));
	res->r[4] = snap.ppid;
	res->r[5] = procwait_procinfo_ppid(pi);
	res->r[6] = procwait_procinfo_name(pi, buf, sizeof(buf));
	procwait_procinfo_close(pi);
}

START_TEST(test_other_user)
{
	char comm[64];
	struct res res;
	size_t len;
	FILE *f;

	/* pid 1's name, as root sees it */
	f = fopen("/proc/1/comm", "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(comm, sizeof(comm), f));
	fclose(f);
	len = strlen(comm);
	if (len && comm[len - 1] == '\n')
		comm[--len] = '\0';

	run_in_ns("proc", NULL, 1, body_other_user, NULL, &res);
	ck_assert_int_eq(res.r[0], 0);
	ck_assert_int_eq(res.r[1], -EACCES);
	ck_assert_int_eq(res.r[2], -EACCES);
	ck_assert_int_eq(res.r[3], 0);
	printf("note: snapshot(ALL) of pid 1 as nobody: present %#llx denied %#llx\n",
	       (unsigned long long)res.present, (unsigned long long)res.denied);
	ck_assert_uint_ne(res.present & PROCWAIT_INFO_NAME, 0);
	ck_assert_uint_eq(res.present & res.denied, 0);
	ck_assert_uint_eq((res.present | res.denied) & ~(uint64_t)PROCWAIT_INFO_ALL, 0);
	ck_assert_str_eq(res.name, comm);
	ck_assert_int_eq(res.r[4], 0);      /* pid 1's parent */
	ck_assert_int_eq(res.r[5], 0);
	ck_assert_int_eq(res.r[6], (int)len);
	pwt_assert_no_children();
}
END_TEST

/* ---- some files denied ------------------------------------------------------ */

/* A handle opened as root on a hidepid=noaccess proc, read after becoming
 * nobody: stat is open already and still reads, statm and status can no
 * longer be opened. The snapshot fills what it can and says what was
 * denied; accessors of denied fields answer -EACCES. */
static void body_denied(struct res *res, void *arg)
{
	procwait_snapshot snap = PROCWAIT_SNAPSHOT_INIT;
	procwait_procinfo *pi = NULL;
	procwait_memory_info mi;
	procwait_ids ids;
	char buf[PROCWAIT_NAME_MAX + 1];

	res->r[0] = procwait_procinfo_open(getppid(), 0, &pi);
	if (res->r[0] != 0)
		return;
	res->r[1] = become_nobody();
	if (res->r[1] == 0) {
		res->r[2] = procwait_procinfo_snapshot(pi, PROCWAIT_INFO_ALL, &snap);
		res->present = snap.present;
		res->denied = snap.denied;
		memcpy(res->name, snap.name, sizeof(res->name));
		res->r[3] = snap.ppid;
		res->r[4] = procwait_procinfo_uids(pi, &ids);
		res->r[5] = procwait_procinfo_memory_info(pi, &mi);
		res->r[6] = procwait_procinfo_snapshot(pi, PROCWAIT_INFO_UIDS |
		                                               PROCWAIT_INFO_MEM_STATM, &snap);
		res->r[7] = procwait_procinfo_name(pi, buf, sizeof(buf));
		res->r[8] = procwait_procinfo_ppid(pi);
		res->r[9] = procwait_procinfo_snapshot(pi, PROCWAIT_INFO_NAME | PROCWAIT_INFO_UIDS,
		                                       &snap);
		res->r[10] = (int)snap.present;
		res->r[11] = (int)snap.denied;
	}
	procwait_procinfo_close(pi);
}

START_TEST(test_denied_fields)
{
	const uint64_t from_stat = PROCWAIT_INFO_ALL &
		~(uint64_t)(PROCWAIT_INFO_MEM_STATM | PROCWAIT_INFO_CTX_SWITCHES |
		            PROCWAIT_INFO_UIDS | PROCWAIT_INFO_GIDS);
	const uint64_t denied = PROCWAIT_INFO_MEM_STATM | PROCWAIT_INFO_CTX_SWITCHES |
		PROCWAIT_INFO_UIDS | PROCWAIT_INFO_GIDS;
	char comm[PROCWAIT_NAME_MAX + 1] = "";
	struct res res;

	ck_assert_int_eq(prctl(PR_SET_NAME, (unsigned long)"pwt-denied", 0, 0, 0), 0);
	ck_assert_int_eq(prctl(PR_GET_NAME, (unsigned long)comm, 0, 0, 0), 0);
	run_in_ns("proc", "hidepid=noaccess", 0, body_denied, NULL, &res);
	ck_assert_int_eq(res.r[0], 0);
	ck_assert_int_eq(res.r[1], 0);
	ck_assert_int_eq(res.r[2], 0);
	ck_assert_msg(res.present == from_stat ||
	              res.present == (from_stat & ~(uint64_t)PROCWAIT_INFO_IOWAIT),
	              "present %#llx", (unsigned long long)res.present);
	ck_assert_uint_eq(res.denied, denied);
	ck_assert_str_eq(res.name, comm);
	ck_assert_int_eq(res.r[3], getppid());
	ck_assert_int_eq(res.r[4], -EACCES);
	ck_assert_int_eq(res.r[5], -EACCES);
	ck_assert_int_eq(res.r[6], -EACCES);   /* nothing requested could be read */
	ck_assert_int_eq(res.r[7], (int)strlen(comm));
	ck_assert_int_eq(res.r[8], getppid());
	ck_assert_int_eq(res.r[9], 0);
	ck_assert_int_eq(res.r[10], PROCWAIT_INFO_NAME);
	ck_assert_int_eq(res.r[11], PROCWAIT_INFO_UIDS);
	pwt_assert_no_children();
}
END_TEST

/* ---- no proc at all ------------------------------------------------------- */

static void body_no_proc(struct res *res, void *arg)
{
	procwait_procinfo *pi = NULL;
	procwait_proc *p = NULL;

	res->r[0] = procwait_procinfo_open(getpid(), 0, &pi);
	res->r[1] = procwait_procinfo_open(1, 0, &pi);
	res->r[2] = procwait_procinfo_open(getppid(), 0, &pi);
	/* a process handle made before: the pidfd needs no /proc */
	res->r[3] = procwait_proc_open(getppid(), 0, &p);
	if (res->r[3] == 0) {
		res->r[4] = procwait_procinfo_open_proc(p, 0, &pi);
		procwait_proc_close(p);
	}
	if (pi)
		procwait_procinfo_close(pi);
}

/* An empty file system on /proc: every open is -ENOSYS. */
START_TEST(test_no_proc)
{
	struct res res;

	run_in_ns("tmpfs", NULL, 0, body_no_proc, NULL, &res);
	ck_assert_int_eq(res.r[0], -ENOSYS);
	ck_assert_int_eq(res.r[1], -ENOSYS);
	ck_assert_int_eq(res.r[2], -ENOSYS);
	if (res.r[3] == 0)
		ck_assert_int_eq(res.r[4], -ENOSYS);
	pwt_assert_no_children();
}
END_TEST

/* ---- pid reuse -------------------------------------------------------------- */

/* A child named name that blocks until killed; returns once it is named. */
static pid_t named_child(const char *name)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = pwt_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
		if (pwt_write_full(p[1], "r", 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ck_assert_int_eq(pwt_read_full(p[0], &c, 1), 0);
	close(p[0]);
	return pid;
}

START_TEST(test_pid_reuse)
{
	procwait_snapshot snap = PROCWAIT_SNAPSHOT_INIT;
	char buf[PATH_MAX];
	procwait_cpu_times ct;
	procwait_memory_info mi;
	procwait_ids ids;
	procwait_procinfo *pi, *fresh;
	uint64_t u;
	pid_t a, b = -1;
	int tries, r = 0;

	a = named_child("pwt-A");
	ck_assert_int_eq(procwait_procinfo_open(a, 0, &pi), 0);
	ck_assert_int_eq(procwait_procinfo_name(pi, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "pwt-A");
	kill(a, SIGKILL);
	pwt_reap(a);

	/* Have the next fork get A's pid: other processes may take it first,
	 * so retry. If reuse cannot be arranged, say so and pass: there is
	 * nothing to check then. */
	for (tries = 0; tries < 50; tries++) {
		r = pwt_set_last_pid(a - 1);
		if (r < 0) {
			printf("note: cannot write ns_last_pid (%s): pid reuse not checked\n",
			       strerror(-r));
			break;
		}
		b = named_child("pwt-B");
		if (b == a)
			break;
		kill(b, SIGKILL);
		pwt_reap(b);
		b = -1;
	}
	if (b != a) {
		if (r == 0)
			printf("note: pid %d was not reused in %d tries: pid reuse not checked\n",
			       (int)a, tries);
		procwait_procinfo_close(pi);
		pwt_assert_no_children();
		return;
	}

	/* B has A's pid now: the old handle must not answer for it */
	ck_assert_int_eq(procwait_procinfo_name(pi, buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_snapshot(pi, PROCWAIT_INFO_ALL, &snap), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_snapshot(pi, PROCWAIT_INFO_NAME, &snap), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_ppid(pi), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_status(pi), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_cpu_times(pi, &ct), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_memory_info(pi, &mi), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_uids(pi, &ids), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_starttime(pi, &u), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_exe(pi, buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_cwd(pi, buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_cmdline(pi, buf, sizeof(buf)), -ESRCH);
	ck_assert_int_eq(procwait_procinfo_num_threads(pi), -ESRCH);
	procwait_procinfo_close(pi);

	/* while a fresh handle sees B: the pid really was reused */
	ck_assert_int_eq(procwait_procinfo_open(a, 0, &fresh), 0);
	ck_assert_int_eq(procwait_procinfo_name(fresh, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "pwt-B");
	procwait_procinfo_close(fresh);
	kill(b, SIGKILL);
	pwt_reap(b);
	pwt_assert_no_children();
}
END_TEST

static Suite *priv_suite(void)
{
	Suite *s = suite_create("procinfo_priv");
	TCase *tc;

	tc = tcase_create("hidepid");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hidepid_invisible);
	tcase_add_test(tc, test_hidepid_noaccess);
	tcase_add_test(tc, test_other_user);
	tcase_add_test(tc, test_denied_fields);
	tcase_add_test(tc, test_no_proc);
	suite_add_tcase(s, tc);

	tc = tcase_create("reuse");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pid_reuse);
	suite_add_tcase(s, tc);
	return s;
}

/* Can we run at all? NULL if so, else why not. Probed in a child, so that
 * nothing here changes the runner's own namespace. */
static const char *probe(void)
{
	static char why[160];
	int p[2], st;
	pid_t pid;
	ssize_t n;

	if (geteuid() != 0)
		return "not root";
	if (pipe2(p, O_CLOEXEC) < 0)
		return "pipe failed";
	pid = pwt_fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0) {
		const char *step = "";
		int err;

		close(p[0]);
		/* hidepid=invisible by name, not hidepid=2: the names came
		 * with Linux 5.8, together with proc mounts that each keep
		 * their own options. On an older kernel, a hidepid mount
		 * would change the options of every proc mount of the pid
		 * namespace, the host's /proc included: skip there. */
		err = fresh_proc("proc", "hidepid=invisible", &step);
		if (err == 0) {
			step = "setresuid(nobody)";
			err = become_nobody();
		}
		if (err) {
			char msg[160];
			int len = snprintf(msg, sizeof(msg), "%s: %s%s", step, strerror(err),
			                   err == EPERM ? " (a container?)" :
			                   err == EINVAL ? " (kernel before 5.8?)" : "");

			if (pwt_write_full(p[1], msg, (size_t)len) < 0)
				_exit(2);
			_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], why, sizeof(why) - 1);
	close(p[0]);
	st = pwt_reap(pid);
	if (st == -1 || !WIFEXITED(st))
		return "the probe child died";
	if (WEXITSTATUS(st) == 0)
		return NULL;
	why[n > 0 ? n : 0] = '\0';
	return why;
}

int main(void)
{
	const char *why = probe();

	if (why) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	return pwt_run(priv_suite());
}
