# SPDX-License-Identifier: MIT
"""WaitSet: many processes, one pollable descriptor; and async_wait()."""

import asyncio
import collections
import ctypes
import errno
import select
import time

from typing import Any, List, Optional, Union

from . import _lib
from ._errors import TimeoutExpired, raise_for
from ._process import Process
from ._status import Status, check_timeout, ms_until

lib = _lib.lib

#: One exit: the member, its Status, the data given to add(), and error:
#: 0, or the errno that kept the status away (ECHILD: the child was reaped
#: elsewhere, e.g. by Process.wait(); the Status is then not known).
WaitEvent = collections.namedtuple("WaitEvent", ["process", "status", "data", "error"],
                                   defaults=(0,))


class WaitSet(object):
    """A set of processes to wait for. The cost per exit does not grow
    with the number of members (an epoll set of pidfds on Linux).

    A member whose exit has been reported leaves the set; its Process
    stays open. :meth:`fileno` and :meth:`timeout_hint` embed the set in
    any event loop."""

    def __init__(self) -> None:
        s = ctypes.c_void_p()
        rc = lib.procwait_waitset_new(0, ctypes.byref(s))
        if rc < 0:
            raise_for(rc)
        self._s = s
        self._members = {}      # handle address -> (Process, data)

    def _set(self):
        if self._s is None:
            raise ValueError("the WaitSet is closed")
        return self._s

    def add(self, proc: Union[Process, int], data: Any = None) -> Process:
        """Add a Process (or a pid, opened as one); returns the Process."""
        if not isinstance(proc, Process):
            proc = Process(proc)
        rc = lib.procwait_waitset_add(self._set(), proc._handle(), None)
        if rc == -errno.EEXIST:
            raise ValueError("%r is already in a wait set" % (proc,))
        if rc < 0:
            raise_for(rc, proc.pid)
        self._members[proc._handle().value] = (proc, data)
        proc._sets.add(self)
        return proc

    def remove(self, proc: Process) -> None:
        """Remove a member without waiting for it; KeyError if it is none."""
        if not isinstance(proc, Process) or proc._p is None or \
                proc._p.value not in self._members:
            raise KeyError(proc)
        rc = lib.procwait_waitset_remove(self._set(), proc._p)
        if rc < 0:
            raise_for(rc, proc.pid)
        self._forget(proc)

    def _forget(self, proc):
        if proc._p is not None:
            self._members.pop(proc._p.value, None)
        proc._sets.discard(self)

    def _collect(self, max_events):
        events = (_lib.Event * max_events)()
        n = lib.procwait_waitset_wait(self._set(), events, max_events, 0)
        if n == -errno.ECHILD:
            raise ChildProcessError(errno.ECHILD, "the wait set is empty")
        if n < 0:
            raise_for(n)
        out = []
        for ev in events[:n]:
            proc, data = self._members.pop(ev.proc, (None, None))
            if proc is not None:
                proc._sets.discard(self)
            if ev.error == 0:
                status = Status._from_c(ev.status)
            else:
                status = Status(proc.pid if proc is not None else 0, False)
            out.append(WaitEvent(proc, status, data, -ev.error))
        return out

    def wait(self, timeout: Optional[float] = None, max_events: int = 64) -> List["WaitEvent"]:
        """Wait until members exit: a list of :class:`WaitEvent`, [] when
        ``timeout`` seconds pass first. ChildProcessError when the set is
        empty. The sleep happens in Python's poll(2): signal handlers
        (Ctrl-C) run at once."""
        timeout = check_timeout(timeout)
        if max_events <= 0:
            raise ValueError("max_events must be > 0")
        deadline = None if timeout is None else time.monotonic() + timeout
        poller = select.poll()
        poller.register(self.fileno(), select.POLLIN)
        while True:
            out = self._collect(max_events)
            if out:
                return out
            left = ms_until(deadline)
            if left == 0:
                return []
            hint = lib.procwait_waitset_timeout(self._set())
            if hint >= 0:
                left = hint if left < 0 else min(left, hint)
            poller.poll(None if left < 0 else left)

    def fileno(self) -> int:
        """A descriptor that becomes readable when a member may have
        exited; also wake after :meth:`timeout_hint` when that is not None."""
        return lib.procwait_waitset_fd(self._set())

    def timeout_hint(self) -> Optional[float]:
        """Seconds until members without a descriptor are due a check,
        or None when the descriptor alone matters."""
        ms = lib.procwait_waitset_timeout(self._set())
        return None if ms < 0 else ms / 1000.0

    def __len__(self) -> int:
        return lib.procwait_waitset_size(self._set())

    def __iter__(self):
        return iter([p for p, _ in self._members.values()])

    def close(self) -> None:
        if self._s is not None:
            for proc, _ in list(self._members.values()):
                proc._sets.discard(self)
            self._members.clear()
            lib.procwait_waitset_free(self._s)
            self._s = None

    def __del__(self):
        if getattr(self, "_s", None) is not None and lib is not None:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


async def async_wait(pid_or_process: Union[Process, int],
                     timeout: Optional[float] = None) -> Status:
    """Wait for a process in asyncio: the loop watches a wait set's
    descriptor (``loop.add_reader``); nothing blocks and no thread is
    used. Returns a :class:`Status`; raises :class:`TimeoutExpired`.

    A Process belongs to one wait set at a time: pass a pid, or a
    Process that is in no WaitSet and no other async_wait()."""
    timeout = check_timeout(timeout)
    loop = asyncio.get_running_loop()
    own = not isinstance(pid_or_process, Process)
    proc = Process(pid_or_process) if own else pid_or_process
    ws = WaitSet()
    fut = loop.create_future()
    timer = None
    fd = -1
    try:
        ws.add(proc)
        fd = ws.fileno()

        def check():
            nonlocal timer
            if fut.done():
                return
            try:
                events = ws.wait(timeout=0)
            except BaseException as e:      # hand any failure to the awaiter
                fut.set_exception(e)
                return
            if events:
                fut.set_result(events[0].status)
                return
            hint = ws.timeout_hint()
            if hint is not None and timer is None:
                def again():
                    nonlocal timer
                    timer = None
                    check()
                timer = loop.call_later(hint, again)

        loop.add_reader(fd, check)
        check()
        if timeout is None:
            return await fut
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise TimeoutExpired(timeout, proc.pid) from None
    finally:
        if fd >= 0:
            loop.remove_reader(fd)
        if timer is not None:
            timer.cancel()
        ws.close()
        if own:
            proc.close()
