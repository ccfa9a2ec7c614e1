# SPDX-License-Identifier: MIT
"""pids() and process_iter(): psutil's walk over every process.

One procinfo handle is moved from pid to pid (procwait_procinfo_reopen):
each process's files are read once, through one /proc/PID directory (so
every field of a process is of that process, even if its pid is reused
meanwhile), /proc/stat is read once per walk, and the walk holds at most
five descriptors (the directory and four files), whatever the number of
processes. A Process it yields holds none until it is used: it is bound
to the pid and the start time the walk saw."""

import ctypes
import errno
import os
import threading

from typing import Any, Iterable, Iterator, List, Optional

from . import _lib
from ._errors import AccessDenied, Error, NoSuchProcess, ZombieProcess, raise_for
from ._process import (_NAME, _SNAP_FIELDS, _SNAPSHOT_SIZE, Process, _exe_of, _full_name,
                       _getpriority, _present, _read_buffer, _retry_out_of_fds,
                       _split_cmdline, _username, attr_names)

lib = _lib.lib

_PROC = "/proc"
_STARTTIME = _lib.INFO_STARTTIME | _lib.INFO_CREATE_TIME
_UIDS = _lib.INFO_UIDS
_ONESHOT = _lib.PROCINFO_ONESHOT
_ESRCH, _EACCES = -errno.ESRCH, -errno.EACCES
_cmdline_c = lib.procwait_procinfo_cmdline

# The Processes of the last walk, by pid (as psutil's process_iter keeps
# them): a process still there is yielded as the same Process. A walk
# replaces the whole map when it ends (those of a walk left early, beyond
# where it stopped, are kept); of two walks at once, the later to end
# decides, as in psutil.
_last = {}
_last_lock = threading.Lock()


def pids() -> List[int]:
    """The pids of every process, sorted (threads are not listed)."""
    try:
        names = os.listdir(_PROC)
    except FileNotFoundError:
        raise Error("no /proc here: process information is Linux-only") from None
    return sorted(int(n) for n in names if n.isdigit())


class _Walk(object):
    """The handle of one walk, and what it read of the process it is on."""

    __slots__ = ("pi", "snap", "snapref", "present", "pid", "name", "args", "keep",
                 "uid_names")

    def __init__(self):
        self.pi = None
        self.snap = _lib.Snapshot()
        self.snap.size = _SNAPSHOT_SIZE
        self.snapref = ctypes.byref(self.snap)
        self.present = 0            # snap.present, read once per process
        self.pid = 0
        self.name = None            # the process's name, once read
        self.args = None            # its command line, once read
        self.keep = []              # the string accessors' buffer
        self.uid_names = {}         # the walk's user names, looked up once each

    def go(self, pid):
        """Put the handle on pid (a oneshot scope: stat read once): 0, or
        the library's code (< 0). Out of descriptors, the Processes'
        procinfo handles are closed and the open is tried once more."""
        return _retry_out_of_fds(lambda: self._move(pid))

    def _move(self, pid):
        if self.pi is not None:
            return lib.procwait_procinfo_reopen(self.pi, pid, _ONESHOT)
        pi = ctypes.c_void_p()
        rc = lib.procwait_procinfo_open(pid, _ONESHOT, ctypes.byref(pi))
        if rc == 0:
            self.pi = pi
        return rc

    def _call(self, fn, buf, size):
        return fn(self.pi, buf, size)

    def strings(self, fn, size=4097):
        """The bytes of a string accessor, or its exception."""
        rc = _read_buffer(self._call, fn, size, self.keep)
        if rc.__class__ is int:
            raise_for(rc, self.pid, self.name)
        return rc

    def cmdline(self):
        if self.args is None:
            # (most often one call into the kept buffer; the C call answers
            # a kernel thread's from the walk's read of stat)
            buf = self.keep[0] if self.keep else None
            rc = _cmdline_c(self.pi, buf, len(buf)) if buf is not None else -1
            raw = buf[:rc] if rc >= 0 else self.strings(lib.procwait_procinfo_cmdline)
            self.args = _split_cmdline(raw)
        return list(self.args)

    def close(self):
        if self.pi is not None:
            lib.procwait_procinfo_close(self.pi)
            self.pi = None


# ---- the fields: one function each, of the walk on the process -----------

def _get_name(w):
    snap = w.snap if w.present & _NAME else _present(w.snap, _NAME, w.pid, None)
    w.name = _full_name(snap.name, w.cmdline)
    return w.name


def _get_exe(w):
    """As Process.exe()."""
    return _exe_of(lambda: os.fsdecode(w.strings(lib.procwait_procinfo_exe)), w.cmdline)


def _get_nice(w):
    """As Process.nice()."""
    nice = _lib.INFO_NICE
    if w.present & nice:
        return w.snap.nice
    try:
        return _present(w.snap, nice, w.pid, w.name).nice
    except AccessDenied as e:
        return _getpriority(w.pid, e)


def _snap_getter(need, conv):
    def get(w):
        if w.present & need == need:
            return conv(w.snap)
        return conv(_present(w.snap, need, w.pid, w.name))
    return get


def _get_username(w):
    snap = w.snap if w.present & _UIDS else _present(w.snap, _UIDS, w.pid, w.name)
    uid = snap.uids.real
    name = w.uid_names.get(uid)
    if name is None:
        name = w.uid_names[uid] = _username(uid)
    return name


_GETTERS = {
    "pid": lambda w: w.pid,
    "name": _get_name,
    "exe": _get_exe,
    "cmdline": _Walk.cmdline,
    "cwd": lambda w: os.fsdecode(w.strings(lib.procwait_procinfo_cwd)),
    "username": _get_username,
}
_GETTERS.update((n, _snap_getter(need, conv)) for n, (_, need, conv) in _SNAP_FIELDS.items()
                if n not in _GETTERS)
_GETTERS["nice"] = _get_nice


def _mask(names):
    """The snapshot bits a walk reads for names: the start time always
    (stat is read anyway)."""
    mask = _STARTTIME
    for n in names or ():
        if n in _SNAP_FIELDS:
            mask |= _SNAP_FIELDS[n][0]
        elif n == "name":
            mask |= _NAME
        elif n == "username":
            mask |= _UIDS
    return mask


def process_iter(attrs: Optional[Iterable[str]] = None,
                 ad_value: Any = None) -> Iterator[Process]:
    """psutil's process_iter(): a :class:`Process` for every process, in
    pid order. A process that is still the one a previous walk yielded
    (same pid, same start time) is yielded as the same Process.

    With ``attrs`` (a list of :meth:`Process.as_dict` names; empty: all),
    each Process has an ``info`` dict of them, read in the walk with each
    file read once: ``ad_value`` where access is denied. A process that
    ends during the walk is left out."""
    names = None if attrs is None else attr_names(attrs)
    plan = [(n, _GETTERS[n]) for n in names or ()]
    mask = _mask(names)
    snapshot = lib.procwait_procinfo_snapshot
    global _last
    with _last_lock:
        before = _last
    now, last = {}, 0
    walk = _Walk()
    snap, snapref = walk.snap, walk.snapref
    try:
        for pid in pids():
            rc = walk.go(pid)
            walk.pid, walk.name, walk.args = pid, None, None
            if rc == 0:
                rc = snapshot(walk.pi, mask, snapref)
            if rc == _ESRCH:
                continue
            if rc < 0 and rc != _EACCES:
                raise_for(rc, pid)
            if rc < 0:
                # hidden from us (hidepid): the pid (and the nice value,
                # which getpriority(2) tells) is all there is
                proc = _yieldable(before.get(pid), -1, pid)
                if plan:
                    try:
                        proc.info = _hidden_info(pid, plan, ad_value)
                    except NoSuchProcess:
                        continue
            else:
                present = walk.present = snap.present
                if present & _STARTTIME == _STARTTIME:
                    start = snap.starttime
                    proc = before.get(pid)
                    if proc is None or proc._ident != start or \
                            (proc._p is None and proc._lazy is None):
                        proc = Process._seen(pid, start, snap.create_time)
                else:
                    proc = _yieldable(before.get(pid), -1, pid)
                if plan:
                    info = {}
                    try:
                        for n, get in plan:
                            try:
                                info[n] = get(walk)
                            except (AccessDenied, ZombieProcess):
                                info[n] = ad_value
                    except NoSuchProcess:
                        continue
                    proc.info = info
                    if walk.name is not None:
                        proc._name = walk.name
            now[pid] = proc
            last = pid
            yield proc
        last = None
    finally:
        walk.close()
        if last is not None:    # left early: the rest as it was
            now.update((k, v) for k, v in before.items() if k > last)
        with _last_lock:
            _last = now


def _yieldable(old, starttime, pid, create_time=None):
    """The Process of the last walk when it is this process and still
    open, else a new one. (A hidden process, whose start time is not
    known, is taken to be the same while it is hidden, as psutil does.)"""
    if old is not None and old._ident == starttime and \
            not (old._p is None and old._lazy is None):
        return old
    return Process._seen(pid, starttime, create_time)


def _hidden_info(pid, plan, ad_value):
    info = {}
    for n, _ in plan:
        if n == "pid":
            info[n] = pid
        elif n == "nice":
            try:
                info[n] = _getpriority(pid, AccessDenied(pid))
            except AccessDenied:
                info[n] = ad_value
        else:
            info[n] = ad_value
    return info
