/* SPDX-License-Identifier: MIT */
/* Process information from /proc/PID: cached readers, oneshot scopes and
 * snapshots (DESIGN.md §5).
 *
 * A handle holds the /proc/PID directory and, opened on first use, one
 * descriptor per file. A read is one pread(fd, buf, cap, 0), repeated with
 * a doubled buffer when it fills the buffer. The descriptors pin the
 * process (its struct pid), so after the reap the kernel answers ESRCH (an
 * open file) or ENOENT (a lookup in the dead directory): never the data of
 * a new process that got the same pid. */
#include "internal.h"
#include "procinfo-parse.h"

#include <fcntl.h>
#include <stddef.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

enum { PI_STAT, PI_STATM, PI_STATUS, PI_CMDLINE, PI_NFILES };

static const struct {
	const char *name;
	size_t initial;   /* first buffer size; doubled as needed */
} pi_files[PI_NFILES] = {
	[PI_STAT] = { "stat", 512 },
	[PI_STATM] = { "statm", 128 },
	[PI_STATUS] = { "status", 2048 },
	[PI_CMDLINE] = { "cmdline", 1024 },
};

#define PI_MAX_BYTES ((size_t)64 << 20)   /* cmdline can be huge, not this huge */

/* The fields each file serves. */
#define PI_FROM_STAT (PROCWAIT_INFO_NAME | PROCWAIT_INFO_PPID | PROCWAIT_INFO_STATUS | \
	PROCWAIT_INFO_CPU_TIMES | PROCWAIT_INFO_IOWAIT | PROCWAIT_INFO_CREATE_TIME | \
	PROCWAIT_INFO_TERMINAL | PROCWAIT_INFO_NUM_THREADS | PROCWAIT_INFO_NICE | \
	PROCWAIT_INFO_RSS_VMS | PROCWAIT_INFO_STARTTIME)
#define PI_FROM_STATM PROCWAIT_INFO_MEM_STATM
#define PI_FROM_STATUS (PROCWAIT_INFO_CTX_SWITCHES | PROCWAIT_INFO_UIDS | PROCWAIT_INFO_GIDS)

struct pi_file {
	int fd;           /* -1 until first needed */
	char *buf;
	size_t cap, len;
	int cached;       /* read in the current oneshot scope */
};

struct procwait_procinfo {
	pid_t pid;
	int dirfd;
	int oneshot;              /* scope depth */
	double ticks;             /* clock ticks per second */
	uint64_t page;            /* bytes per page */
	double boot_time;         /* /proc/stat's btime; 0 until create_time needs it */
	struct pi_file f[PI_NFILES];
	/* the last parse of each file */
	struct pw__statline stat;
	struct pw__statm statm;
	struct pw__status status;
};

/* Errors of /proc: a vanished task reads as ESRCH or ENOENT, a refusal as
 * EACCES or EPERM. */
static int pi_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ESRCH:
		return -ESRCH;
	case EACCES:
	case EPERM:
		return -EACCES;
	default:
		return -err;
	}
}

/* Close the descriptors the handle keeps for files other than @which (their
 * last contents stay): how many it closed. */
static int pi_drop_files(procwait_procinfo *pi, int which)
{
	int i, n = 0;

	for (i = 0; i < PI_NFILES; i++) {
		if (i != which && pi->f[i].fd >= 0) {
			close(pi->f[i].fd);
			pi->f[i].fd = -1;
			n++;
		}
	}
	return n;
}

/* The descriptor of one file, opened in the directory on first use: the
 * fd, or -errno. Kept open, so that a later read is one pread(2); when the
 * process is out of descriptors, the handle gives up those of its other
 * files (they are opened again when needed) rather than fail the call. */
static int pi_file_fd(procwait_procinfo *pi, int which)
{
	static const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
	struct pi_file *f = &pi->f[which];

	if (pi->dirfd < 0)
		return -ESRCH;     /* a reopen failed: on no process */
	if (f->fd < 0) {
		f->fd = openat(pi->dirfd, pi_files[which].name, flags);
		if (f->fd < 0 && (errno == EMFILE || errno == ENFILE) && pi_drop_files(pi, which) > 0)
			f->fd = openat(pi->dirfd, pi_files[which].name, flags);
		if (f->fd < 0)
			return pi_errno(errno);
	}
	return f->fd;
}

static int pi_fill(procwait_procinfo *pi, struct pi_file *f, int which)
{
	ssize_t n;
	int fd = pi_file_fd(pi, which);

	if (fd < 0)
		return fd;
	if (!f->buf) {
		f->buf = malloc(pi_files[which].initial);
		if (!f->buf)
			return -ENOMEM;
		f->cap = pi_files[which].initial;
	}
	for (;;) {
		n = pread(fd, f->buf, f->cap, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pi_errno(errno);
		}
		if ((size_t)n < f->cap)
			break;
		/* The read filled the buffer: there may be more. */
		if (f->cap >= PI_MAX_BYTES)
			return -E2BIG;
		{
			char *nb = realloc(f->buf, f->cap * 2);

			if (!nb)
				return -ENOMEM;
			f->buf = nb;
			f->cap *= 2;
		}
	}
	f->len = (size_t)n;
	return 0;
}

/* Read (or, inside a oneshot scope, reuse) one file, and parse it. */
static int pi_read(procwait_procinfo *pi, int which)
{
	struct pi_file *f = &pi->f[which];
	int r;

	if (pi->oneshot && f->cached)
		return 0;
	f->cached = 0;
	r = pi_fill(pi, f, which);
	if (r < 0)
		return r;
	switch (which) {
	case PI_STAT:
		r = pw__parse_stat(f->buf, f->len, pi->pid, &pi->stat);
		break;
	case PI_STATM:
		r = pw__parse_statm(f->buf, f->len, &pi->statm);
		break;
	case PI_STATUS:
		r = pw__parse_status(f->buf, f->len, &pi->status);
		break;
	default:
		break;
	}
	if (r < 0)
		return r;
	f->cached = pi->oneshot > 0;
	return 0;
}

/* The boot time as psutil's boot_time() has it: /proc/stat's btime line,
 * whole seconds. Read once per handle, when create_time is first asked
 * for, so every handle on every process in one boot gets the same value
 * (the kernel's btime moves only when the clock is set). Without /proc/stat
 * it is what the kernel would print there: CLOCK_REALTIME less
 * CLOCK_BOOTTIME, in whole seconds. */
static double pi_boot_time(procwait_procinfo *pi)
{
	struct timespec r, b;
	uint64_t bt;
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int fd;

	if (pi->boot_time > 0)
		return pi->boot_time;
	fd = open("/proc/stat", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	while (fd >= 0) {
		ssize_t n;

		if (len == cap) {
			char *nb = cap < PI_MAX_BYTES ? realloc(buf, cap ? cap * 2 : 8192) : NULL;

			if (!nb)
				break;
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (buf && pw__parse_btime(buf, len, &bt) == 0) {
		pi->boot_time = (double)bt;
	} else {
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_BOOTTIME, &b);
		pi->boot_time = (double)(r.tv_sec - b.tv_sec - (r.tv_nsec < b.tv_nsec));
	}
	free(buf);
	return pi->boot_time;
}

/* Close every descriptor of the handle: it is then on no process. */
static void pi_detach(procwait_procinfo *pi)
{
	int i;

	for (i = 0; i < PI_NFILES; i++) {
		if (pi->f[i].fd >= 0)
			close(pi->f[i].fd);
		pi->f[i].fd = -1;
		pi->f[i].cached = 0;
	}
	if (pi->dirfd >= 0)
		close(pi->dirfd);
	pi->dirfd = -1;
	pi->oneshot = 0;
}

static void pi_free(procwait_procinfo *pi)
{
	int i;

	pi_detach(pi);
	for (i = 0; i < PI_NFILES; i++)
		free(pi->f[i].buf);
	free(pi);
}

/* /proc/PID did not open with ENOENT: gone, hidden, or no /proc at all. */
static int pi_absent(pid_t pid)
{
	if (access("/proc/self/stat", F_OK) < 0)
		return -ENOSYS;
	/* hidepid=invisible hides other users' processes; kill(2) still
	 * tells that one exists (EPERM). */
	if (kill(pid, 0) == 0 || errno == EPERM)
		return -EACCES;
	return -ESRCH;
}

/* Is the process of proc still the one the freshly opened directory shows?
 * 0 yes, -ESRCH no. */
static int pi_same(procwait_procinfo *pi, procwait_proc *proc)
{
	int reaped;

	pthread_mutex_lock(&proc->lock);
	reaped = proc->reaped;
	pthread_mutex_unlock(&proc->lock);
	if (reaped)
		return -ESRCH;
#ifdef HAVE_PIDFD_BACKEND
	if (proc->fd >= 0) {
		/* Not reaped after the directory was opened: then the pid was
		 * still this process's when it was opened. */
		int r = pw__pidfd_send_signal(proc->fd, 0);

		if (r == 0 || r == -ESRCH)
			return r;
		/* Refused (a seccomp rule, or no permission): a pidfd that is
		 * not readable has not exited, so it cannot be reaped... */
		if (pw__fd_wait(proc->fd, 0) == 0)
			return 0;
		/* ...and an exited one is not reaped while fdinfo still
		 * shows its pid. When nothing can tell, say gone. */
		return pw__pidfd_pid(proc->fd) == proc->pid ? 0 : -ESRCH;
	}
#endif
	if (proc->starttime && pi->stat.have[PW_STAT_STARTTIME] &&
	    pi->stat.v[PW_STAT_STARTTIME] != proc->starttime)
		return -ESRCH;
	return 0;
}

/* Put the handle on process pid (of proc, when given): open its directory
 * and read its stat. On failure the handle is on no process. */
static int pi_attach(procwait_procinfo *pi, pid_t pid, procwait_proc *proc, unsigned flags)
{
	char path[32];
	int r;

	pi_detach(pi);
	pi->pid = pid;
	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	pi->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pi->dirfd < 0)
		return errno == ENOENT ? pi_absent(pid) : pi_errno(errno);
	/* in a scope from the start, this read of stat is the scope's */
	pi->oneshot = (flags & PROCWAIT_PROCINFO_ONESHOT) != 0;
	r = pi_read(pi, PI_STAT);
	if (r == 0 && proc)
		r = pi_same(pi, proc);
	if (r < 0)
		pi_detach(pi);
	return r;
}

static int pi_open(pid_t pid, procwait_proc *proc, unsigned flags, procwait_procinfo **out)
{
	procwait_procinfo *pi = calloc(1, sizeof(*pi));
	long v;
	int i, r;

	if (!pi)
		return -ENOMEM;
	pi->dirfd = -1;
	for (i = 0; i < PI_NFILES; i++)
		pi->f[i].fd = -1;
	v = sysconf(_SC_CLK_TCK);
	pi->ticks = v > 0 ? (double)v : 100.0;
	v = sysconf(_SC_PAGESIZE);
	pi->page = v > 0 ? (uint64_t)v : 4096u;
	r = pi_attach(pi, pid, proc, flags);
	if (r < 0) {
		pi_free(pi);
		return r;
	}
	*out = pi;
	return 0;
}

PROCWAIT_EXTERN int procwait_procinfo_open(pid_t pid, unsigned flags, procwait_procinfo **out)
{
	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(pid > 0 && !(flags & ~PW__PROCINFO_FLAGS));
	return pi_open(pid, NULL, flags, out);
}

PROCWAIT_EXTERN int procwait_procinfo_open_proc(procwait_proc *proc, unsigned flags,
                                                procwait_procinfo **out)
{
	pw__check_arg(out);
	*out = NULL;
	pw__check_arg(proc && !(flags & ~PW__PROCINFO_FLAGS));
	return pi_open(proc->pid, proc, flags, out);
}

PROCWAIT_EXTERN int procwait_procinfo_reopen(procwait_procinfo *pi, pid_t pid, unsigned flags)
{
	pw__check_arg(pi && pid > 0 && !(flags & ~PW__PROCINFO_FLAGS));
	return pi_attach(pi, pid, NULL, flags);
}

PROCWAIT_EXTERN void procwait_procinfo_close(procwait_procinfo *pi)
{
	if (pi)
		pi_free(pi);
}

PROCWAIT_EXTERN int procwait_procinfo_pid(const procwait_procinfo *pi)
{
	pw__check_arg(pi);
	return (int)pi->pid;
}

PROCWAIT_EXTERN int procwait_procinfo_oneshot_begin(procwait_procinfo *pi)
{
	pw__check_arg(pi);
	if (pi->oneshot == INT_MAX)
		return -EOVERFLOW;
	pi->oneshot++;
	return 0;
}

PROCWAIT_EXTERN int procwait_procinfo_oneshot_end(procwait_procinfo *pi)
{
	int i;

	pw__check_arg(pi && pi->oneshot > 0);
	if (--pi->oneshot == 0)
		for (i = 0; i < PI_NFILES; i++)
			pi->f[i].cached = 0;
	return 0;
}

PROCWAIT_EXTERN const char *procwait_state_name(int state)
{
	switch (state) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk-sleep";
	case 'T': return "stopped";
	case 't': return "tracing-stop";
	case 'Z': return "zombie";
	case 'X': case 'x': return "dead";
	case 'K': return "wake-kill";
	case 'W': return "waking";
	case 'I': return "idle";
	case 'P': return "parked";
	default: return "?";
	}
}

/* ---- snapshots ------------------------------------------------------------ */

static void fill_from_stat(procwait_procinfo *pi, uint64_t mask, procwait_snapshot *s)
{
	const struct pw__statline *st = &pi->stat;
	const unsigned char *h = st->have;

	if (mask & PROCWAIT_INFO_NAME) {
		memcpy(s->name, st->comm, st->comm_len + 1);
		s->present |= PROCWAIT_INFO_NAME;
	}
	if ((mask & PROCWAIT_INFO_PPID) && h[PW_STAT_PPID] &&
	    st->v[PW_STAT_PPID] <= INT32_MAX) {
		s->ppid = (int32_t)st->v[PW_STAT_PPID];
		s->present |= PROCWAIT_INFO_PPID;
	}
	if (mask & PROCWAIT_INFO_STATUS) {
		s->state = (char)st->state;
		const char *name = procwait_state_name(st->state);

		memcpy(s->status, name, strlen(name) + 1);   /* the longest fits */
		s->present |= PROCWAIT_INFO_STATUS;
	}
	if ((mask & PROCWAIT_INFO_CPU_TIMES) && h[PW_STAT_UTIME] && h[PW_STAT_STIME] &&
	    h[PW_STAT_CUTIME] && h[PW_STAT_CSTIME]) {
		s->cpu_times.user = (double)st->v[PW_STAT_UTIME] / pi->ticks;
		s->cpu_times.system = (double)st->v[PW_STAT_STIME] / pi->ticks;
		s->cpu_times.children_user = (double)pw__stat_signed(st, PW_STAT_CUTIME) / pi->ticks;
		s->cpu_times.children_system = (double)pw__stat_signed(st, PW_STAT_CSTIME) / pi->ticks;
		s->present |= PROCWAIT_INFO_CPU_TIMES;
	}
	if (mask & PROCWAIT_INFO_IOWAIT) {
		if (h[PW_STAT_BLKIO_TICKS]) {
			s->cpu_times.iowait = (double)st->v[PW_STAT_BLKIO_TICKS] / pi->ticks;
			s->present |= PROCWAIT_INFO_IOWAIT;
		} else {
			s->cpu_times.iowait = NAN;
		}
	}
	if (h[PW_STAT_STARTTIME]) {
		if (mask & PROCWAIT_INFO_CREATE_TIME) {
			/* psutil's sum, to the last bit: starttime / ticks + btime */
			s->create_time = (double)st->v[PW_STAT_STARTTIME] / pi->ticks +
			                 pi_boot_time(pi);
			s->present |= PROCWAIT_INFO_CREATE_TIME;
		}
		if (mask & PROCWAIT_INFO_STARTTIME) {
			s->starttime = st->v[PW_STAT_STARTTIME];
			s->present |= PROCWAIT_INFO_STARTTIME;
		}
	}
	if ((mask & PROCWAIT_INFO_TERMINAL) && h[PW_STAT_TTY_NR] &&
	    pw__tty_name(st->v[PW_STAT_TTY_NR], s->terminal, sizeof(s->terminal)) >= 0)
		s->present |= PROCWAIT_INFO_TERMINAL;
	if ((mask & PROCWAIT_INFO_NUM_THREADS) && h[PW_STAT_NUM_THREADS] &&
	    st->v[PW_STAT_NUM_THREADS] <= INT64_MAX) {
		s->num_threads = (int64_t)st->v[PW_STAT_NUM_THREADS];
		s->present |= PROCWAIT_INFO_NUM_THREADS;
	}
	if ((mask & PROCWAIT_INFO_NICE) && h[PW_STAT_NICE]) {
		int64_t nice = pw__stat_signed(st, PW_STAT_NICE);

		if (nice >= -128 && nice <= 127) {
			s->nice = (int32_t)nice;
			s->present |= PROCWAIT_INFO_NICE;
		}
	}
	if ((mask & PROCWAIT_INFO_RSS_VMS) && h[PW_STAT_VSIZE] && h[PW_STAT_RSS] &&
	    st->v[PW_STAT_RSS] <= UINT64_MAX / pi->page) {
		s->memory_info.vms = st->v[PW_STAT_VSIZE];
		s->memory_info.rss = st->v[PW_STAT_RSS] * pi->page;
		s->present |= PROCWAIT_INFO_RSS_VMS;
	}
}

static void fill_from_statm(procwait_procinfo *pi, uint64_t mask, procwait_snapshot *s)
{
	const struct pw__statm *m = &pi->statm;
	uint64_t lim = UINT64_MAX / pi->page;

	/* size resident shared text lib data dt */
	if (m->n >= 6 && m->v[2] <= lim && m->v[3] <= lim && m->v[5] <= lim) {
		s->memory_info.shared = m->v[2] * pi->page;
		s->memory_info.text = m->v[3] * pi->page;
		s->memory_info.data = m->v[5] * pi->page;
		s->present |= PROCWAIT_INFO_MEM_STATM;
	}
	/* stat's rss is the kernel's per-CPU counter, which can lag by some
	 * pages (Linux 6.2 and later); statm's is the exact sum (VmRSS, what
	 * psutil shows): with statm read anyway, rss and vms come from it. */
	if ((mask & PROCWAIT_INFO_RSS_VMS) && m->n >= 2 && m->v[0] <= lim && m->v[1] <= lim) {
		s->memory_info.vms = m->v[0] * pi->page;
		s->memory_info.rss = m->v[1] * pi->page;
		s->present |= PROCWAIT_INFO_RSS_VMS;
	}
}

static void fill_from_status(procwait_procinfo *pi, uint64_t mask, procwait_snapshot *s)
{
	const struct pw__status *ps = &pi->status;

	if ((mask & PROCWAIT_INFO_CTX_SWITCHES) &&
	    (ps->have & (PW_STATUS_VCTX | PW_STATUS_NVCTX)) == (PW_STATUS_VCTX | PW_STATUS_NVCTX)) {
		s->num_ctx_switches.voluntary = ps->vctx;
		s->num_ctx_switches.involuntary = ps->nvctx;
		s->present |= PROCWAIT_INFO_CTX_SWITCHES;
	}
	if ((mask & PROCWAIT_INFO_UIDS) && (ps->have & PW_STATUS_UID)) {
		s->uids.real = ps->uid[0];
		s->uids.effective = ps->uid[1];
		s->uids.saved = ps->uid[2];
		s->present |= PROCWAIT_INFO_UIDS;
	}
	if ((mask & PROCWAIT_INFO_GIDS) && (ps->have & PW_STATUS_GID)) {
		s->gids.real = ps->gid[0];
		s->gids.effective = ps->gid[1];
		s->gids.saved = ps->gid[2];
		s->present |= PROCWAIT_INFO_GIDS;
	}
}

/* Read one file for the fields in want: 0 read (fill), 1 denied (noted in
 * s->denied), or -errno. */
static int snap_file(procwait_procinfo *pi, int which, uint64_t want, procwait_snapshot *s)
{
	int r;

	if (!want)
		return 1;
	r = pi_read(pi, which);
	if (r == -EACCES) {
		s->denied |= want;
		return 1;
	}
	return r;
}

PROCWAIT_EXTERN int procwait_procinfo_snapshot(procwait_procinfo *pi, uint64_t mask,
                                               procwait_snapshot *snap)
{
	uint64_t from_stat, from_statm;
	int r;

	pw__check_arg(pi && snap && snap->size >= sizeof(procwait_snapshot));
	mask &= PROCWAIT_INFO_ALL;
	snap->present = 0;
	snap->denied = 0;
	snap->pid = (int32_t)pi->pid;
	from_stat = mask & PI_FROM_STAT;
	from_statm = mask & PI_FROM_STATM;
	if (from_statm) {
		/* statm has rss and vms too, exact: stat is not read for them */
		from_statm |= mask & PROCWAIT_INFO_RSS_VMS;
		from_stat &= ~(uint64_t)PROCWAIT_INFO_RSS_VMS;
	}
	r = snap_file(pi, PI_STAT, from_stat, snap);
	if (r == 0)
		fill_from_stat(pi, from_stat, snap);
	if (r >= 0) {
		r = snap_file(pi, PI_STATM, from_statm, snap);
		if (r == 0)
			fill_from_statm(pi, from_statm, snap);
		if (r == 1 && (from_statm & PROCWAIT_INFO_RSS_VMS)) {
			/* statm refused: stat may still tell rss and vms */
			snap->denied &= ~(uint64_t)PROCWAIT_INFO_RSS_VMS;
			r = snap_file(pi, PI_STAT, PROCWAIT_INFO_RSS_VMS, snap);
			if (r == 0)
				fill_from_stat(pi, PROCWAIT_INFO_RSS_VMS, snap);
		}
	}
	if (r >= 0) {
		r = snap_file(pi, PI_STATUS, mask & PI_FROM_STATUS, snap);
		if (r == 0)
			fill_from_status(pi, mask, snap);
	}
	if (r < 0) {
		snap->present = 0;
		snap->denied = 0;
		return r;
	}
	if (mask && !snap->present && snap->denied)
		return -EACCES;
	return 0;
}

/* ---- accessors ------------------------------------------------------------ */

/* Fields through a snapshot of mask, of which the need bits must be there:
 * 0, -EACCES (denied), -ENODATA (the kernel does not report them) or the
 * snapshot's error. */
static int pi_fields(procwait_procinfo *pi, uint64_t mask, uint64_t need, procwait_snapshot *s)
{
	int r;

	pw__check_arg(pi);
	s->size = sizeof(*s);
	r = procwait_procinfo_snapshot(pi, mask, s);
	if (r < 0)
		return r;
	if ((s->present & need) == need)
		return 0;
	return (s->denied & need) ? -EACCES : -ENODATA;
}

static int pi_field(procwait_procinfo *pi, uint64_t bit, procwait_snapshot *s)
{
	return pi_fields(pi, bit, bit, s);
}

/* An out-parameter accessor: the snapshot member at off, len bytes. */
static int pi_copy(procwait_procinfo *pi, uint64_t bit, void *out, size_t off, size_t len)
{
	procwait_snapshot s;
	int r;

	pw__check_arg(out);
	r = pi_field(pi, bit, &s);
	if (r == 0)
		memcpy(out, (const char *)&s + off, len);
	return r;
}

/* return the accessor's answer: member of a snapshot of bit, into out */
#define PI_RETURN_COPY(pi, bit, out, member) \
	_Static_assert(sizeof(*(out)) == sizeof(((procwait_snapshot *)0)->member), \
	               "the out type matches the member"); \
	return pi_copy(pi, bit, out, offsetof(procwait_snapshot, member), sizeof(*(out)))

static int copy_out(char *buf, size_t size, const char *src, size_t len)
{
	if (len >= size || len > INT_MAX) {
		if (size)
			buf[0] = '\0';
		return -ERANGE;
	}
	memcpy(buf, src, len);
	buf[len] = '\0';
	return (int)len;
}

PROCWAIT_EXTERN int procwait_procinfo_name(procwait_procinfo *pi, char *buf, size_t size)
{
	procwait_snapshot s;
	int r;

	pw__check_arg(buf);
	r = pi_field(pi, PROCWAIT_INFO_NAME, &s);
	return r < 0 ? r : copy_out(buf, size, s.name, strlen(s.name));
}

/* The state letter as it is now, read past any oneshot scope (whose cached
 * stat may predate the death this is asked about) and without disturbing
 * that cache: the letter, or -errno. */
static int pi_state_now(procwait_procinfo *pi)
{
	struct pw__statline st;
	char buf[512];   /* pid, comm and state come first: a prefix will do */
	int fd = pi_file_fd(pi, PI_STAT);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pi_errno(errno);
	n = pw__parse_stat(buf, (size_t)n, pi->pid, &st);
	return n < 0 ? (int)n : st.state;
}

/* The kernel's " (deleted)" after a link's target that was removed (or a
 * memfd's name): dropped when no file has the name with it, as psutil
 * does. A NUL and what follows it is not part of the path either. */
static size_t link_path_len(char *path, size_t n)
{
	static const char deleted[] = " (deleted)";
	const size_t dl = sizeof(deleted) - 1;
	struct stat st;
	char *nul = memchr(path, '\0', n);

	if (nul)
		n = (size_t)(nul - path);
	path[n] = '\0';
	if (n >= dl && memcmp(path + n - dl, deleted, dl) == 0 && stat(path, &st) < 0)
		n -= dl;
	return n;
}

/* exe and cwd: a link in the directory. A zombie and a kernel thread have
 * none: the first is an error, the second an empty answer. */
static int pi_link(procwait_procinfo *pi, const char *name, char *buf, size_t size)
{
	char tmp[PATH_MAX + 1];
	ssize_t n;
	int r;

	pw__check_arg(pi && buf);
	if (pi->dirfd < 0)
		return -ESRCH;     /* a reopen failed: on no process */
	n = readlinkat(pi->dirfd, name, tmp, sizeof(tmp));
	if (n >= (ssize_t)sizeof(tmp))
		return -ENAMETOOLONG;
	if (n >= 0)
		return copy_out(buf, size, tmp, link_path_len(tmp, (size_t)n));
	r = pi_errno(errno);
	if (r != -ESRCH)
		return r;
	/* ENOENT: gone, a zombie, or a task without one. stat tells now. */
	r = pi_state_now(pi);
	if (r < 0)
		return r;
	if (r == 'Z' || r == 'X' || r == 'x')
		return PROCWAIT_EZOMBIE;
	return copy_out(buf, size, "", 0);
}

PROCWAIT_EXTERN int procwait_procinfo_exe(procwait_procinfo *pi, char *buf, size_t size)
{
	return pi_link(pi, "exe", buf, size);
}

PROCWAIT_EXTERN int procwait_procinfo_cwd(procwait_procinfo *pi, char *buf, size_t size)
{
	return pi_link(pi, "cwd", buf, size);
}

/* The kernel's flag of its own threads in stat's flags field (PF_KTHREAD in
 * the kernel's sched.h). */
#define PI_PF_KTHREAD 0x00200000u

/* Does the scope's read of stat show a kernel thread? Then it has no
 * command line, as of that read (a kernel thread has no memory to keep
 * one in). */
static int pi_kthread_in_scope(const procwait_procinfo *pi)
{
	return pi->oneshot && pi->f[PI_STAT].cached && pi->stat.have[PW_STAT_FLAGS] &&
	       (pi->stat.v[PW_STAT_FLAGS] & PI_PF_KTHREAD);
}

PROCWAIT_EXTERN int procwait_procinfo_cmdline(procwait_procinfo *pi, char *buf, size_t size)
{
	const char *data;
	size_t len, i;
	char sep;
	int r;

	pw__check_arg(pi && buf);
	if (pi_kthread_in_scope(pi))
		return 0;   /* as for the empty command line read below */
	r = pi_read(pi, PI_CMDLINE);
	if (r < 0)
		return r;
	data = pi->f[PI_CMDLINE].buf;
	len = pi->f[PI_CMDLINE].len;
	if (len == 0)
		return 0;   /* a zombie or a kernel thread */
	/* As psutil: arguments end in NULs, unless the process rewrote its
	 * command line (setproctitle) with spaces in their place. */
	sep = data[len - 1] == '\0' ? '\0' : ' ';
	if (data[len - 1] == sep)
		len--;
	if (sep == '\0' && !memchr(data, '\0', len) && memchr(data, ' ', len))
		sep = ' ';
	if (len + 1 > size || len + 1 > INT_MAX)
		return -ERANGE;
	for (i = 0; i < len; i++)
		buf[i] = data[i] == sep ? '\0' : data[i];
	buf[len] = '\0';
	return (int)(len + 1);
}

PROCWAIT_EXTERN int procwait_procinfo_ppid(procwait_procinfo *pi)
{
	procwait_snapshot s;
	int r = pi_field(pi, PROCWAIT_INFO_PPID, &s);

	return r < 0 ? r : s.ppid;
}

PROCWAIT_EXTERN int procwait_procinfo_status(procwait_procinfo *pi)
{
	procwait_snapshot s;
	int r = pi_field(pi, PROCWAIT_INFO_STATUS, &s);

	return r < 0 ? r : (unsigned char)s.state;
}

PROCWAIT_EXTERN int procwait_procinfo_cpu_times(procwait_procinfo *pi, procwait_cpu_times *out)
{
	procwait_snapshot s;
	int r;

	pw__check_arg(out);
	/* iowait may be missing alone: then it is NaN */
	r = pi_fields(pi, PROCWAIT_INFO_CPU_TIMES | PROCWAIT_INFO_IOWAIT,
	              PROCWAIT_INFO_CPU_TIMES, &s);
	if (r == 0)
		*out = s.cpu_times;
	return r;
}

PROCWAIT_EXTERN int procwait_procinfo_create_time(procwait_procinfo *pi, double *out)
{
	PI_RETURN_COPY(pi, PROCWAIT_INFO_CREATE_TIME, out, create_time);
}

PROCWAIT_EXTERN int procwait_procinfo_terminal(procwait_procinfo *pi, char *buf, size_t size)
{
	procwait_snapshot s;
	int r;

	pw__check_arg(buf);
	r = pi_field(pi, PROCWAIT_INFO_TERMINAL, &s);
	return r < 0 ? r : copy_out(buf, size, s.terminal, strlen(s.terminal));
}

PROCWAIT_EXTERN int procwait_procinfo_num_threads(procwait_procinfo *pi)
{
	procwait_snapshot s;
	int r = pi_field(pi, PROCWAIT_INFO_NUM_THREADS, &s);

	if (r < 0)
		return r;
	return s.num_threads > INT_MAX ? INT_MAX : (int)s.num_threads;
}

PROCWAIT_EXTERN int procwait_procinfo_nice(procwait_procinfo *pi, int *out)
{
	procwait_snapshot s;
	int r;

	pw__check_arg(out);
	r = pi_field(pi, PROCWAIT_INFO_NICE, &s);
	if (r == 0)
		*out = s.nice;
	return r;
}

PROCWAIT_EXTERN int procwait_procinfo_memory_info(procwait_procinfo *pi, procwait_memory_info *out)
{
	PI_RETURN_COPY(pi, PROCWAIT_INFO_MEMORY_INFO, out, memory_info);
}

PROCWAIT_EXTERN int procwait_procinfo_num_ctx_switches(procwait_procinfo *pi,
                                                       procwait_ctx_switches *out)
{
	PI_RETURN_COPY(pi, PROCWAIT_INFO_CTX_SWITCHES, out, num_ctx_switches);
}

PROCWAIT_EXTERN int procwait_procinfo_uids(procwait_procinfo *pi, procwait_ids *out)
{
	PI_RETURN_COPY(pi, PROCWAIT_INFO_UIDS, out, uids);
}

PROCWAIT_EXTERN int procwait_procinfo_gids(procwait_procinfo *pi, procwait_ids *out)
{
	PI_RETURN_COPY(pi, PROCWAIT_INFO_GIDS, out, gids);
}

PROCWAIT_EXTERN int procwait_procinfo_starttime(procwait_procinfo *pi, uint64_t *out)
{
	PI_RETURN_COPY(pi, PROCWAIT_INFO_STARTTIME, out, starttime);
}
