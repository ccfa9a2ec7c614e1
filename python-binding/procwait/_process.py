# SPDX-License-Identifier: MIT
"""Process: a reuse-safe handle on one process, with psutil's accessors."""

import collections
import ctypes
import errno
import os
import signal as _signal
import sys
import threading
import time
import weakref

from typing import Any, Dict, Iterable, List, Optional

from . import _lib
from ._errors import AccessDenied, Error, NoSuchProcess, TimeoutExpired, ZombieProcess, raise_for
from ._status import _BACKOFF_MAX, _BACKOFF_MIN, Status, check_timeout, ms_until, wait_handle

lib = _lib.lib

pcputimes = collections.namedtuple(
    "pcputimes", ["user", "system", "children_user", "children_system", "iowait"])
pmem = collections.namedtuple("pmem", ["rss", "vms", "shared", "text", "lib", "data", "dirty"])
pctxsw = collections.namedtuple("pctxsw", ["voluntary", "involuntary"])
puids = collections.namedtuple("puids", ["real", "effective", "saved"])
pgids = collections.namedtuple("pgids", ["real", "effective", "saved"])

# Hot-path constants: module globals are cheaper than _lib attributes.
_NAME, _PPID, _STATUS = _lib.INFO_NAME, _lib.INFO_PPID, _lib.INFO_STATUS
_CPU, _IOWAIT = _lib.INFO_CPU_TIMES, _lib.INFO_IOWAIT
_CPU_IOWAIT = _CPU | _IOWAIT
_CREATE_TIME, _TERMINAL = _lib.INFO_CREATE_TIME, _lib.INFO_TERMINAL
_FSENC, _FSERR = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()

_PATH_MAX = 4096
_CMDLINE_MAX = 64 << 20


def _check_pid(pid):
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise TypeError("pid must be an int, not %s" % type(pid).__name__)
    if pid <= 0:
        raise ValueError("pid must be a positive integer (got %d)" % pid)
    return pid


def open_handle(pid):
    """A procwait_proc handle on pid (a c_void_p), or the exception."""
    _check_pid(pid)
    p = ctypes.c_void_p()
    rc = lib.procwait_proc_open(pid, 0, ctypes.byref(p))
    if rc == -errno.EINVAL:
        raise ValueError("pid %d is not a process (a thread id?)" % pid)
    if rc < 0:
        raise_for(rc, pid)
    return p


# ---- descriptors -----------------------------------------------------------
#
# A Process holds its pidfd for its life, and, once an accessor has run, a
# procinfo handle: /proc/PID and up to four files kept open (a read is then
# one pread). The procinfo handles of a program are bounded: at most
# _info_cap() are open, and opening one more closes the one opened first
# (its Process opens it again through its pidfd when it next reads: still
# the same process). When the process runs out of descriptors anyway, the
# others are closed and the call is tried once more: no accessor fails for
# want of a descriptor that procwait itself holds.

_OPEN_INFO = collections.OrderedDict()   # id(Process) -> weakref, oldest first
_OPEN_INFO_LOCK = threading.RLock()     # (a Process collected meanwhile forgets itself)
_EMFILE = (-errno.EMFILE, -errno.ENFILE)


def _info_cap():
    """Procinfo handles open at once: a fortieth of the descriptor limit
    (five descriptors each: an eighth of the limit), 2 to 256."""
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft == resource.RLIM_INFINITY:
            soft = 1 << 20
    except (ImportError, OSError, ValueError):
        soft = 1024
    return max(2, min(256, soft // 40))


def _drop_info(keep, all_others=False):
    """Close the procinfo handles of other Processes: the oldest beyond the
    cap (all of them with all_others). One that another thread is using
    is left alone. True when any was closed."""
    closed = False
    with _OPEN_INFO_LOCK:
        over = len(_OPEN_INFO) - (0 if all_others else _info_cap() - 1)
        if over <= 0:
            return False
        for key in list(_OPEN_INFO):
            if over <= 0:
                break
            ref = _OPEN_INFO.get(key)
            proc = ref() if ref is not None else None
            if proc is None:
                _OPEN_INFO.pop(key, None)
                continue
            if proc is keep:
                continue
            if not proc._lock.acquire(blocking=False):
                continue
            try:
                if proc._pi is not None:
                    lib.procwait_procinfo_close(proc._pi)
                    proc._pi = None
                    closed = True
            finally:
                proc._lock.release()
            _OPEN_INFO.pop(key, None)
            over -= 1
    return closed


def _retry_out_of_fds(call, keep=None):
    """call() (a library call: 0 or -errno), once more when the process
    was out of descriptors and the procinfo handles of Processes other
    than keep could be closed."""
    rc = call()
    if rc in _EMFILE and _drop_info(keep, all_others=True):
        rc = call()
    return rc


def _forget_info(proc):
    with _OPEN_INFO_LOCK:
        _OPEN_INFO.pop(id(proc), None)


_NO_SETS = frozenset()     # the wait sets of a Process that is in none


def _starttime_of(pi):
    """The start time a procinfo handle reads (its oneshot read, when
    opened with PROCINFO_ONESHOT), or None."""
    snap = _lib.Snapshot()
    snap.size = _SNAPSHOT_SIZE
    if _snapshot_c(pi, _lib.INFO_STARTTIME, ctypes.byref(snap)) < 0 or \
            not snap.present & _lib.INFO_STARTTIME:
        return None
    return snap.starttime


# ---- fields ----------------------------------------------------------------
#
# One conversion per field from a snapshot to psutil's value, shared by the
# accessors and by process_iter(), so both give the same values.

def _present(snap, need, pid, name):
    """snap when it holds the need bits; else AccessDenied or Error."""
    if snap.present & need == need:
        return snap
    if snap.denied & need:
        raise AccessDenied(pid, name)
    raise Error("%s: not reported by this kernel" % _field_names(need & ~snap.present))


def _v_status(snap):
    s = snap.status
    try:
        return _STATUS_NAMES[s]
    except KeyError:
        return _STATUS_NAMES.setdefault(s, s.decode("ascii"))


_tuple_new = tuple.__new__     # a namedtuple from a tuple: no argument parsing
_STATUS_NAMES = {}             # the few status strings, decoded once


def _v_cpu_times(snap):
    c = snap.cpu_times
    # psutil gives 0.0 where the kernel has no delay accounting
    iowait = c.iowait if snap.present & _IOWAIT else 0.0
    if iowait != iowait:    # NaN
        iowait = 0.0
    return _tuple_new(pcputimes, (c.user, c.system, c.children_user, c.children_system, iowait))


def _v_terminal(snap):
    t = snap.terminal
    return t.decode(_FSENC, _FSERR) if t else None


def _v_memory_info(snap):
    m = snap.memory_info
    return _tuple_new(pmem, (m.rss, m.vms, m.shared, m.text, 0, m.data, 0))


def _v_ctx_switches(snap):
    c = snap.num_ctx_switches
    return pctxsw(c.voluntary, c.involuntary)


def _v_uids(snap):
    i = snap.uids
    return puids(i.real, i.effective, i.saved)


def _v_gids(snap):
    i = snap.gids
    return pgids(i.real, i.effective, i.saved)


# as_dict name: (bits to read, bits that must be there, conversion)
_SNAP_FIELDS = {
    "ppid": (_PPID, _PPID, lambda snap: snap.ppid),
    "status": (_STATUS, _STATUS, _v_status),
    "cpu_times": (_CPU_IOWAIT, _CPU, _v_cpu_times),
    "create_time": (_CREATE_TIME, _CREATE_TIME, lambda snap: snap.create_time),
    "terminal": (_TERMINAL, _TERMINAL, _v_terminal),
    "num_threads": (_lib.INFO_NUM_THREADS, _lib.INFO_NUM_THREADS,
                    lambda snap: snap.num_threads),
    "nice": (_lib.INFO_NICE, _lib.INFO_NICE, lambda snap: snap.nice),
    "memory_info": (_lib.INFO_MEMORY_INFO, _lib.INFO_MEMORY_INFO, _v_memory_info),
    "num_ctx_switches": (_lib.INFO_CTX_SWITCHES, _lib.INFO_CTX_SWITCHES, _v_ctx_switches),
    "uids": (_lib.INFO_UIDS, _lib.INFO_UIDS, _v_uids),
    "gids": (_lib.INFO_GIDS, _lib.INFO_GIDS, _v_gids),
}


def _full_name(comm, cmdline):
    """psutil's name(): the kernel cuts names at 15 bytes; then the first
    argument's base name is taken when it starts with them. cmdline() is
    called only then; AccessDenied from it leaves the cut name."""
    name = comm.decode(_FSENC, _FSERR)
    if len(name) >= 15:
        try:
            args = cmdline()
        except AccessDenied:   # as psutil: gone or a zombie is raised
            args = []
        if args:
            base = os.path.basename(args[0])
            if base.startswith(name):
                name = base
    return name


def _exe_of(read, cmdline):
    """psutil's exe() from read(), which reads the link: "" for a zombie,
    and where the link says nothing, _guess_exe()'s answer."""
    try:
        exe = read()
    except ZombieProcess:
        exe = ""
    except AccessDenied as e:
        return _guess_exe(cmdline, e)
    return exe or _guess_exe(cmdline, exe)


def _guess_exe(cmdline, fallback):
    """psutil's exe() where the link says nothing (fallback: "", or the
    AccessDenied raised): the first argument, when it is an absolute path
    to an executable file."""
    try:
        args = cmdline()
    except (AccessDenied, ZombieProcess):
        args = []
    if args and os.path.isabs(args[0]) and os.path.isfile(args[0]) and \
            os.access(args[0], os.X_OK):
        return args[0]
    if isinstance(fallback, AccessDenied):
        raise fallback
    return fallback


def _getpriority(pid, denied):
    """The nice value through getpriority(2), psutil's way of reading it
    (which hidepid does not hide); denied is raised when that fails too."""
    try:
        return os.getpriority(os.PRIO_PROCESS, pid)
    except ProcessLookupError:
        raise NoSuchProcess(pid, denied.name) from None
    except OSError:
        raise denied from None


def _username(uid):
    """psutil's username(): the real uid's name, or the uid as a string
    when it has none."""
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _split_cmdline(raw):
    return [os.fsdecode(a) for a in raw[:-1].split(b"\0")] if raw else []


def _read_buffer(call, fn, size=_PATH_MAX + 1, keep=None):
    """call(fn, buf, size) into a buffer grown until the answer fits: the
    bytes, or the return code (< 0) of the call that failed. keep: a list
    in which the buffer is kept for the next call."""
    buf = keep[0] if keep else None
    if buf is not None and len(buf) >= size:
        size = len(buf)
    else:
        buf = ctypes.create_string_buffer(size)
    while True:
        rc = call(fn, buf, size)
        if rc == -errno.ERANGE and size < _CMDLINE_MAX:
            size *= 4
            buf = ctypes.create_string_buffer(size)
            continue
        if keep is not None:
            keep[:] = [buf]
        return buf[:rc] if rc >= 0 else rc


class Process(object):
    """A process, held by a pidfd where the system has them: waits and
    signals cannot reach another process that later gets the same pid, and
    the information accessors never answer for one.

    Accessors have psutil's names, units and return types. Outside a
    :meth:`oneshot` block each reads afresh, with one C call; inside one,
    the files read serve every later accessor of the block.

    Threads may share a Process; a oneshot block belongs to the thread
    that opened it (as with psutil)."""

    def __init__(self, pid: Optional[int] = None) -> None:
        if pid == 0 and type(pid) is int:
            # As psutil on Linux: no process has pid 0 (the idle task is
            # not one); psutil elsewhere shows the kernel's, which no
            # process handle can hold.
            raise NoSuchProcess(0, msg="process PID not found")
        self._pid = os.getpid() if pid is None else _check_pid(pid)
        self._p = None
        self._pi = None
        self._depth = 0         # oneshot blocks open
        self._have = 0          # fields the block's snapshot holds
        self._cmdline = None    # the block's command line, once read
        self._buf = _lib.Snapshot()        # a oneshot block's snapshot
        self._buf.size = _SNAPSHOT_SIZE
        self._bufref = ctypes.byref(self._buf)
        self._lock = threading.Lock()      # one C call on the info handle at a time
        self._ident = None                 # start time, for ==
        self._status = None                # what the wait that reaped it got
        self._create_time = None           # once read (it does not change)
        self._name = None                  # the name, once known (exceptions)
        self._lazy = None                  # start time, while no handle is open yet
        self._sets = weakref.WeakSet()
        self._p = self._open_pid()

    # ---- identity and life ---------------------------------------------

    @property
    def pid(self) -> int:
        return self._pid

    @classmethod
    def _seen(cls, pid, starttime, create_time):
        """The Process a walk found: pid with that start time (-1: not
        known, the process is hidden from us), with no descriptor open
        yet. Its accessors check the start time when they first open
        /proc/PID, and its waits and signals when they first open the pid,
        so neither ever reaches a process that got the pid later
        (NoSuchProcess then, as when it is gone)."""
        self = cls.__new__(cls)
        self._pid = pid
        self._p = self._pi = self._buf = None     # the buffer: at the first oneshot
        self._depth = self._have = 0
        self._cmdline = self._status = None
        self._lock = threading.Lock()
        self._ident = self._lazy = starttime
        self._create_time = create_time
        self._name = None
        self._sets = _NO_SETS                      # made when it attaches
        return self

    def _handle(self):
        p = self._p
        if p is None:
            if self._lazy is None:
                raise ValueError("the Process is closed")
            p = self._attach()
        return p

    def _attach(self):
        """The pid handle of a Process a walk found, opened now: still
        the process the walk saw (its start time), or NoSuchProcess. Where
        the start time cannot be read now (hidepid) but was in the walk,
        AccessDenied: nothing is attached that could be another process."""
        try:
            p = self._open_pid()
        except ValueError:      # the pid is a thread's now: reused
            raise NoSuchProcess(self._pid, self._name) from None
        try:
            if self._lazy != -1:
                pi = ctypes.c_void_p()
                rc = _retry_out_of_fds(lambda: lib.procwait_procinfo_open_proc(
                    p, _lib.PROCINFO_ONESHOT, ctypes.byref(pi)))
                if rc == 0:
                    start = _starttime_of(pi)
                    lib.procwait_procinfo_close(pi)
                    rc = 0 if start == self._lazy else -errno.ESRCH
                if rc < 0:
                    raise_for(rc, self._pid, self._name)
            with self._lock:
                if self._p is None and self._lazy is not None:
                    if self._sets is _NO_SETS:
                        self._sets = weakref.WeakSet()
                    self._p, p = p, None
        finally:
            if p is not None:   # refused, or another thread was first, or closed
                lib.procwait_proc_close(p)
        return self._handle()

    def _open_pid(self):
        try:
            return open_handle(self._pid)
        except OSError as e:
            if e.errno not in (errno.EMFILE, errno.ENFILE) or \
                    not _drop_info(None, all_others=True):
                raise
            return open_handle(self._pid)

    def close(self) -> None:
        """Release the handle and descriptors (also done when collected)."""
        for s in list(self._sets):
            s._forget(self)
        if self._pi is not None:
            _forget_info(self)
            lib.procwait_procinfo_close(self._pi)
            self._pi = None
        self._lazy = None
        if self._p is not None:
            lib.procwait_proc_close(self._p)
            self._p = None

    def __del__(self):
        # (a Process a walk made may hold a procinfo handle and no pidfd)
        if lib is not None and (getattr(self, "_p", None) is not None or
                                getattr(self, "_pi", None) is not None):
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        """The pid, and what is known without reading anything: the name
        once name() has read it, the exit code once wait() has it."""
        extra = ""
        if self._name is not None:
            extra += ", name=%r" % self._name
        if self._status is not None and self._status.returncode is not None:
            extra += ", exitcode=%d" % self._status.returncode
        closed = self._p is None and self._lazy is None
        return "procwait.Process(pid=%d%s%s)" % (self._pid, extra, ", closed" if closed else "")

    def _start_ident(self):
        if self._ident is None:
            try:
                self._ident = self._get(_lib.INFO_STARTTIME).starttime
            except (Error, ValueError):
                self._ident = -1
        return self._ident

    def __eq__(self, other):
        """The same process: the same pid and start time (as psutil)."""
        if not isinstance(other, Process):
            return NotImplemented
        return self is other or (self._pid == other._pid and
                                 self._start_ident() == other._start_ident() != -1)

    def __hash__(self):
        return hash(self._pid)

    # ---- waiting and signals -------------------------------------------

    def wait(self, timeout: Optional[float] = None, *, gone: bool = False) -> Status:
        """Wait for the process to exit: a :class:`Status`. A child is
        reaped by the first wait that sees it exit; later waits return
        the same Status (as psutil returns the same code). A process that
        is not our child has exited when it is a zombie, before its parent
        reaps it: ``gone=True`` waits on until it is reaped too, as
        psutil's wait() does. Raises :class:`TimeoutExpired` when
        ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + check_timeout(timeout)
        if self._status is None and self._p is None and self._lazy is not None:
            try:
                self._handle()
            except NoSuchProcess:
                # a Process a walk made, gone since: its end is not known
                # (psutil's None), as a non-child's
                self._status = Status(self._pid, False)
                return self._status
        if self._status is None:
            self._status = wait_handle(self._handle(), self._pid, timeout, self._name)
        if gone:
            # Until a signal cannot reach it: reaped (the handle knows
            # when by itself, or by the pid's start time under the
            # fallback, so a reused pid does not count).
            nap = _BACKOFF_MIN
            while lib.procwait_proc_signal(self._handle(), 0) == 0:
                left = ms_until(deadline)
                if left == 0:
                    raise TimeoutExpired(timeout, self._pid, self._name)
                time.sleep(nap if left < 0 else min(nap, left / 1000.0))
                nap = min(nap * 2, _BACKOFF_MAX)
        return self._status

    def send_signal(self, sig: int) -> None:
        """Send ``sig``; it cannot reach another process with the same pid."""
        rc = lib.procwait_proc_signal(self._handle(), int(sig))
        if rc < 0:
            raise_for(rc, self._pid, self._name)

    def terminate(self) -> None:
        self.send_signal(_signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(_signal.SIGKILL)

    def fileno(self) -> int:
        """The pidfd, readable once the process has exited (for select,
        poll, event loops). io.UnsupportedOperation under the fallback."""
        rc = lib.procwait_proc_fd(self._handle())
        if rc < 0:
            raise_for(rc, self._pid, self._name)
        return rc

    # ---- information -----------------------------------------------------

    def _info(self):
        """The procinfo handle, opened on first use (called with
        self._lock held)."""
        if self._pi is None:
            pi = ctypes.c_void_p()
            _drop_info(self)
            rc = _retry_out_of_fds(lambda: self._open_info(pi), self)
            if rc < 0:
                raise_for(rc, self._pid, self._name)
            self._pi = pi
            with _OPEN_INFO_LOCK:
                _OPEN_INFO[id(self)] = weakref.ref(self)
        return self._pi

    def _open_info(self, pi):
        """Open the procinfo handle into pi: through the pid handle, or
        for a Process a walk found and nothing has attached yet, by pid
        and then checked to be the process the walk saw."""
        if self._p is not None or self._lazy is None:
            return lib.procwait_procinfo_open_proc(self._handle(), 0, ctypes.byref(pi))
        rc = lib.procwait_procinfo_open(self._pid, _lib.PROCINFO_ONESHOT, ctypes.byref(pi))
        if rc == 0 and self._lazy != -1 and _starttime_of(pi) != self._lazy:
            lib.procwait_procinfo_close(pi)
            rc = -errno.ESRCH
        elif rc == 0:
            lib.procwait_procinfo_oneshot_end(pi)
        return rc

    def _info_call(self, fn, *args):
        """fn(procinfo handle, *args) with self._lock held; once more when
        the process was out of descriptors and others could be closed."""
        with self._lock:
            return _retry_out_of_fds(lambda: fn(self._pi or self._info(), *args), self)

    def oneshot(self) -> "_OneShot":
        """psutil's oneshot(): inside the block, every accessor is served
        from one read of each /proc file. Blocks nest."""
        return _OneShot(self)

    def _snapshot(self, mask):
        """A snapshot holding mask's fields: one C call. Inside a oneshot
        block the block's snapshot serves; a field of a file not read yet
        in the block reads that file's fields into the same buffer (the C
        call leaves the other fields as they are). Outside a block each
        call has a buffer of its own, so threads may share a Process."""
        if not self._depth:
            snap = _lib.Snapshot()
            snap.size = _SNAPSHOT_SIZE
            rc = self._info_call(_snapshot_c, mask, ctypes.byref(snap))
            if rc < 0:
                raise_for(rc, self._pid, self._name)
            return snap
        snap = self._buf
        if self._have & mask == mask:
            return snap
        new = _groups(mask) & ~self._have
        present, denied = snap.present, snap.denied
        rc = self._info_call(_snapshot_c, new, self._bufref)
        if self._have:
            # the fields read before in the block keep serving
            snap.present |= present
            snap.denied |= denied
        if rc < 0:
            raise_for(rc, self._pid, self._name)
        self._have |= new
        return snap

    def _get(self, mask, need=None):
        """A snapshot of mask in which the need bits (default: all of
        mask) are present; AccessDenied when they were refused."""
        if self._depth and self._have & mask == mask:
            snap = self._buf        # the hot path of a oneshot block
        else:
            snap = self._snapshot(mask)
        return _present(snap, mask if need is None else need, self._pid, self._name)

    def _buffer_call(self, fn, size=_PATH_MAX + 1):
        rc = _read_buffer(self._info_call, fn, size)
        if rc == _lib.EZOMBIE:
            raise ZombieProcess(self._pid, self._name_or_none(), self._ppid_or_none())
        if isinstance(rc, int):
            raise_for(rc, self._pid, self._name)
        return rc

    def _name_or_none(self):
        try:
            return os.fsdecode(self._snapshot(_lib.INFO_NAME).name)
        except Error:
            return None

    def _ppid_or_none(self):
        try:
            return self._get(_PPID).ppid
        except Error:
            return None

    def name(self) -> str:
        """The process name. As psutil: the kernel cuts names at 15
        bytes, and then the first argument's base name is taken when it
        starts with them."""
        name = _full_name(self._get(_NAME).name, self.cmdline)
        self._name = name   # for the exceptions that follow, as psutil
        return name

    def exe(self) -> str:
        """The executable's path; "" for a kernel thread, and (as psutil
        answers) for a zombie. As psutil: where the link may not be read
        (another user's process), or is empty, the first argument when it
        is an absolute path to an executable file."""
        return _exe_of(lambda: os.fsdecode(self._buffer_call(lib.procwait_procinfo_exe)),
                       self.cmdline)

    def cwd(self) -> str:
        return os.fsdecode(self._buffer_call(lib.procwait_procinfo_cwd))

    def cmdline(self) -> List[str]:
        """The arguments; [] for a zombie or a kernel thread."""
        if self._depth and self._cmdline is not None:
            return list(self._cmdline)
        args = _split_cmdline(self._buffer_call(lib.procwait_procinfo_cmdline, 4096))
        if self._depth:
            self._cmdline = args
        return list(args)

    def ppid(self) -> int:
        return self._get(_PPID).ppid

    def status(self) -> str:
        """psutil's status string: "running", "sleeping", "zombie", ..."""
        return _v_status(self._get(_STATUS))

    def cpu_times(self) -> pcputimes:
        return _v_cpu_times(self._get(_CPU_IOWAIT, _CPU))

    def create_time(self) -> float:
        """Seconds since the epoch. Kept once read: it is the process's for
        its life, and (as psutil's) still answers after it is gone."""
        if self._create_time is None:
            self._create_time = self._get(_CREATE_TIME).create_time
        return self._create_time

    def terminal(self) -> Optional[str]:
        """The controlling terminal's path, or None."""
        return _v_terminal(self._get(_TERMINAL))

    def num_threads(self) -> int:
        return self._get(_lib.INFO_NUM_THREADS).num_threads

    def nice(self) -> int:
        """The nice value: from stat, or (as psutil reads it) from
        getpriority(2) when stat may not be read."""
        try:
            return self._get(_lib.INFO_NICE).nice
        except AccessDenied as e:
            return _getpriority(self._pid, e)

    def memory_info(self) -> pmem:
        return _v_memory_info(self._get(_lib.INFO_MEMORY_INFO))

    def num_ctx_switches(self) -> pctxsw:
        return _v_ctx_switches(self._get(_lib.INFO_CTX_SWITCHES))

    def uids(self) -> puids:
        return _v_uids(self._get(_lib.INFO_UIDS))

    def gids(self) -> pgids:
        return _v_gids(self._get(_lib.INFO_GIDS))

    def username(self) -> str:
        """The name of the real user id (as psutil: the id itself, as a
        string, when the system has no name for it)."""
        return _username(self._get(_lib.INFO_UIDS).uids.real)

    def as_dict(self, attrs: Optional[Iterable[str]] = None,
                ad_value: Any = None) -> Dict[str, Any]:
        """psutil's as_dict(): the fields named by attrs (a list, tuple or
        set; None or empty: all of them), read in one oneshot block;
        ad_value where access is denied (or the field is not there for a
        zombie)."""
        names = attr_names(attrs)
        out = {}
        with self.oneshot():
            for n in names:
                if n == "pid":
                    out[n] = self._pid
                    continue
                try:
                    out[n] = getattr(self, n)()
                except (AccessDenied, ZombieProcess):
                    out[n] = ad_value
        return out


#: The names as_dict() and process_iter() take, in the order of their dicts.
AS_DICT_ATTRS = ("pid", "name", "exe", "cmdline", "cwd", "ppid", "status", "username",
                 "cpu_times", "create_time", "terminal", "num_threads", "nice",
                 "memory_info", "num_ctx_switches", "uids", "gids")


def attr_names(attrs):
    """The names of attrs, checked as psutil's as_dict() checks them (and
    each once, in the order given): all of them for None or empty."""
    if attrs is None:
        return AS_DICT_ATTRS
    if not isinstance(attrs, (list, tuple, set, frozenset)):
        raise TypeError("invalid attrs type %s" % type(attrs))
    bad = [n for n in attrs if n not in AS_DICT_ATTRS]
    if bad:
        raise ValueError("invalid attr name%s %s" % ("s" if len(bad) > 1 else "",
                                                     ", ".join(map(repr, bad))))
    return tuple(dict.fromkeys(attrs)) or AS_DICT_ATTRS


# The fields each file fills. rss and vms go with statm: asked with
# MEM_STATM, the C call takes them from statm (exact) without reading stat.
_G_STAT = (_lib.INFO_NAME | _lib.INFO_PPID | _lib.INFO_STATUS | _lib.INFO_CPU_TIMES |
           _lib.INFO_IOWAIT | _lib.INFO_CREATE_TIME | _lib.INFO_TERMINAL |
           _lib.INFO_NUM_THREADS | _lib.INFO_NICE | _lib.INFO_STARTTIME)
_G_STATM = _lib.INFO_MEM_STATM | _lib.INFO_RSS_VMS
_G_STATUS = _lib.INFO_CTX_SWITCHES | _lib.INFO_UIDS | _lib.INFO_GIDS
_snapshot_c = lib.procwait_procinfo_snapshot
_SNAPSHOT_SIZE = ctypes.sizeof(_lib.Snapshot)


def _groups(mask):
    """Every field of each file mask needs: a file read fills them all."""
    out = 0
    if mask & _G_STAT:
        out |= _G_STAT
    if mask & _G_STATM:
        out |= _G_STATM
    if mask & _G_STATUS:
        out |= _G_STATUS
    return out


class _OneShot(object):
    """The context manager of Process.oneshot() (a class: cheaper than a
    generator, and this is a hot path). The block's reads are kept on the
    Python side: the snapshot buffer for stat, statm and status, and the
    command line once read, so no C scope is needed."""

    __slots__ = ("_proc",)

    def __init__(self, proc):
        self._proc = proc

    def __enter__(self):
        p = self._proc
        if p._buf is None:      # a Process a walk made: its first block
            with p._lock:
                if p._buf is None:
                    buf = _lib.Snapshot()
                    buf.size = _SNAPSHOT_SIZE
                    p._bufref = ctypes.byref(buf)
                    p._buf = buf
        p._depth += 1
        return p

    def __exit__(self, *exc):
        p = self._proc
        p._depth -= 1
        if p._depth == 0:
            p._have = 0
            p._cmdline = None
        return False


def _field_names(mask):
    names = [k[5:].lower() for k in dir(_lib) if k.startswith("INFO_") and k not in
             ("INFO_ALL", "INFO_MEMORY_INFO") and getattr(_lib, k) & mask]
    return ", ".join(sorted(names)) or "?"
