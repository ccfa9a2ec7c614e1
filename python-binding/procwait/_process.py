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


def _forget_info(proc):
    with _OPEN_INFO_LOCK:
        _OPEN_INFO.pop(id(proc), None)


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
        self._sets = weakref.WeakSet()
        try:
            self._p = open_handle(self._pid)
        except OSError as e:
            if e.errno not in (errno.EMFILE, errno.ENFILE) or \
                    not _drop_info(None, all_others=True):
                raise
            self._p = open_handle(self._pid)

    # ---- identity and life ---------------------------------------------

    @property
    def pid(self) -> int:
        return self._pid

    def _handle(self):
        if self._p is None:
            raise ValueError("the Process is closed")
        return self._p

    def close(self) -> None:
        """Release the handle and descriptors (also done when collected)."""
        for s in list(self._sets):
            s._forget(self)
        if self._pi is not None:
            _forget_info(self)
            lib.procwait_procinfo_close(self._pi)
            self._pi = None
        if self._p is not None:
            lib.procwait_proc_close(self._p)
            self._p = None

    def __del__(self):
        if getattr(self, "_p", None) is not None and lib is not None:
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
        return "procwait.Process(pid=%d%s%s)" % (self._pid, extra, "" if self._p else ", closed")

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
            p = self._handle()
            pi = ctypes.c_void_p()
            _drop_info(self)
            rc = lib.procwait_procinfo_open_proc(p, 0, ctypes.byref(pi))
            if rc in _EMFILE and _drop_info(self, all_others=True):
                rc = lib.procwait_procinfo_open_proc(p, 0, ctypes.byref(pi))
            if rc < 0:
                raise_for(rc, self._pid, self._name)
            self._pi = pi
            with _OPEN_INFO_LOCK:
                _OPEN_INFO[id(self)] = weakref.ref(self)
        return self._pi

    def _info_call(self, fn, *args):
        """fn(procinfo handle, *args) with self._lock held; once more when
        the process was out of descriptors and others could be closed."""
        with self._lock:
            rc = fn(self._pi or self._info(), *args)
            if rc in _EMFILE and _drop_info(self, all_others=True):
                rc = fn(self._pi or self._info(), *args)
        return rc

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
        if need is None:
            need = mask
        if snap.present & need == need:
            return snap
        if snap.denied & need:
            raise AccessDenied(self._pid, self._name)
        raise Error("%s: not reported by this kernel" % _field_names(need & ~snap.present))

    def _buffer_call(self, fn, size=_PATH_MAX + 1):
        while True:
            buf = ctypes.create_string_buffer(size)
            rc = self._info_call(fn, buf, size)
            if rc == -errno.ERANGE and size < _CMDLINE_MAX:
                size *= 4
                continue
            if rc == _lib.EZOMBIE:
                raise ZombieProcess(self._pid, self._name_or_none(), self._ppid_or_none())
            if rc < 0:
                raise_for(rc, self._pid, self._name)
            return buf.raw[:rc]

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
        name = self._get(_NAME).name.decode(_FSENC, _FSERR)
        if len(name) >= 15:
            try:
                args = self.cmdline()
            except AccessDenied:   # as psutil: gone or a zombie is raised
                args = []
            if args:
                base = os.path.basename(args[0])
                if base.startswith(name):
                    name = base
        self._name = name   # for the exceptions that follow, as psutil
        return name

    def exe(self) -> str:
        """The executable's path; "" for a kernel thread, and (as psutil
        answers) for a zombie."""
        try:
            return os.fsdecode(self._buffer_call(lib.procwait_procinfo_exe))
        except ZombieProcess:
            return ""

    def cwd(self) -> str:
        return os.fsdecode(self._buffer_call(lib.procwait_procinfo_cwd))

    def cmdline(self) -> List[str]:
        """The arguments; [] for a zombie or a kernel thread."""
        if self._depth and self._cmdline is not None:
            return list(self._cmdline)
        raw = self._buffer_call(lib.procwait_procinfo_cmdline, 4096)
        args = [os.fsdecode(a) for a in raw[:-1].split(b"\0")] if raw else []
        if self._depth:
            self._cmdline = args
        return list(args)

    def ppid(self) -> int:
        return self._get(_PPID).ppid

    def status(self) -> str:
        """psutil's status string: "running", "sleeping", "zombie", ..."""
        return self._get(_STATUS).status.decode("ascii")

    def cpu_times(self) -> pcputimes:
        snap = self._get(_CPU_IOWAIT, _CPU)
        c = snap.cpu_times
        # psutil gives 0.0 where the kernel has no delay accounting
        iowait = c.iowait if snap.present & _IOWAIT else 0.0
        if iowait != iowait:    # NaN
            iowait = 0.0
        return pcputimes(c.user, c.system, c.children_user, c.children_system, iowait)

    def create_time(self) -> float:
        """Seconds since the epoch. Kept once read: it is the process's for
        its life, and (as psutil's) still answers after it is gone."""
        if self._create_time is None:
            self._create_time = self._get(_CREATE_TIME).create_time
        return self._create_time

    def terminal(self) -> Optional[str]:
        """The controlling terminal's path, or None."""
        t = self._get(_TERMINAL).terminal
        return t.decode(_FSENC, _FSERR) if t else None

    def num_threads(self) -> int:
        return self._get(_lib.INFO_NUM_THREADS).num_threads

    def nice(self) -> int:
        return self._get(_lib.INFO_NICE).nice

    def memory_info(self) -> pmem:
        m = self._get(_lib.INFO_MEMORY_INFO).memory_info
        return pmem(m.rss, m.vms, m.shared, m.text, 0, m.data, 0)

    def num_ctx_switches(self) -> pctxsw:
        c = self._get(_lib.INFO_CTX_SWITCHES).num_ctx_switches
        return pctxsw(c.voluntary, c.involuntary)

    def uids(self) -> puids:
        i = self._get(_lib.INFO_UIDS).uids
        return puids(i.real, i.effective, i.saved)

    def gids(self) -> pgids:
        i = self._get(_lib.INFO_GIDS).gids
        return pgids(i.real, i.effective, i.saved)

    _AS_DICT = ("pid", "name", "exe", "cmdline", "cwd", "ppid", "status", "cpu_times",
                "create_time", "terminal", "num_threads", "nice", "memory_info",
                "num_ctx_switches", "uids", "gids")

    def as_dict(self, attrs: Optional[Iterable[str]] = None,
                ad_value: Any = None) -> Dict[str, Any]:
        """psutil's as_dict(): the fields named by attrs (all by default),
        from one snapshot; ad_value where access is denied (or the field
        is not there for a zombie)."""
        names = self._AS_DICT if attrs is None else tuple(attrs)
        for n in names:
            if n not in self._AS_DICT:
                raise ValueError("invalid attr name %r" % (n,))
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
        self._proc._depth += 1
        return self._proc

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
