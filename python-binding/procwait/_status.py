# SPDX-License-Identifier: MIT
"""The exit status of a process, and waiting for one."""

import ctypes
import enum
import errno
import math
import os
import select
import signal as _signal
import time

from typing import Optional

from . import _lib
from ._errors import TimeoutExpired, raise_for

lib = _lib.lib

# The fallback's backoff (DESIGN.md §4), run in Python: the blocking C
# calls resume after EINTR, and a wait must yield to Ctrl-C at once.
_BACKOFF_MIN = 0.0001
_BACKOFF_MAX = 0.040


#: psutil's Negsignal: an IntEnum of the negated signal numbers, named
#: after the signals (Negsignal.SIGTERM == -15).
Negsignal = enum.IntEnum("Negsignal", [(s.name, -s.value) for s in _signal.Signals])


def negsignal(signo: int) -> int:
    """-signo, as the Negsignal member when there is one."""
    try:
        return Negsignal(-signo)
    except ValueError:
        return -signo


class Status(object):
    """How a process ended. Immutable."""

    __slots__ = ("pid", "known", "exitcode", "signal", "core")

    pid: int
    known: bool
    exitcode: Optional[int]
    signal: Optional[int]
    core: bool

    def __init__(self, pid: int, known: bool, exitcode: Optional[int] = None,
                 signal: Optional[int] = None, core: bool = False) -> None:
        object.__setattr__(self, "pid", pid)
        object.__setattr__(self, "known", known)
        object.__setattr__(self, "exitcode", exitcode)
        object.__setattr__(self, "signal", signal)
        object.__setattr__(self, "core", core)

    def __setattr__(self, name, value):
        raise AttributeError("Status is immutable")

    @classmethod
    def _from_c(cls, st):
        if st.kind == _lib.STATUS_EXITED:
            return cls(st.pid, True, exitcode=st.code)
        if st.kind == _lib.STATUS_SIGNALED:
            return cls(st.pid, True, signal=st.signo, core=bool(st.core))
        return cls(st.pid, False)

    @property
    def returncode(self) -> Optional[int]:
        """subprocess's convention: the exit code, or -signal (a
        :data:`Negsignal` member, as psutil gives: ``Negsignal.SIGTERM``
        is -15); None when the status is not known (the process was not
        our child)."""
        if self.exitcode is not None:
            return self.exitcode
        if self.signal is not None:
            return negsignal(self.signal)
        return None

    def shell(self) -> Optional[int]:
        """The shell's convention: the exit code, or 128 + signal."""
        if self.exitcode is not None:
            return self.exitcode
        if self.signal is not None:
            return 128 + self.signal
        return None

    def __reduce__(self):
        return (Status, (self.pid, self.known, self.exitcode, self.signal, self.core))

    def __eq__(self, other):
        if not isinstance(other, Status):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self):
        return hash(tuple(getattr(self, k) for k in self.__slots__))

    def __repr__(self):
        if self.exitcode is not None:
            how = "exitcode=%d" % self.exitcode
        elif self.signal is not None:
            how = "signal=%d%s" % (self.signal, ", core=True" if self.core else "")
        else:
            how = "known=False"
        return "procwait.Status(pid=%d, %s)" % (self.pid, how)


def check_timeout(timeout):
    """None (forever) or seconds >= 0, as a float; infinity is None."""
    if timeout is None:
        return None
    if isinstance(timeout, (str, bytes)) or not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds or None, not %s"
                        % type(timeout).__name__)
    timeout = float(timeout)
    if math.isnan(timeout) or timeout < 0:
        raise ValueError("timeout must be None or >= 0 seconds, not %r" % (timeout,))
    return None if math.isinf(timeout) else timeout


def ms_until(deadline):
    """Milliseconds left until a time.monotonic() deadline (rounded up),
    -1 for no deadline, 0 once it has passed; capped to fit a C int."""
    if deadline is None:
        return -1
    left = deadline - time.monotonic()
    if left <= 0:
        return 0
    return min(int(math.ceil(left * 1000.0)), 2 ** 31 - 1)


def wait_handle(p, pid, timeout, name=None):
    """Wait on a procwait_proc handle: a Status, or TimeoutExpired.

    With a pidfd the waiting happens in Python's poll(2), so signal
    handlers (Ctrl-C) run at once; the C call then only collects the
    status. Readiness is a hint (a tracer can make a pidfd readable early):
    the C call re-checks, and the loop goes on. Without a pidfd (the
    fallback) the backoff runs here, 0.1 ms doubling to 40 ms as in C,
    sleeping in time.sleep() so that Ctrl-C gets through as well."""
    timeout = check_timeout(timeout)
    if timeout is None and lib.procwait_proc_pid(p) == os.getpid():
        raise_for(-errno.EDEADLK, pid, name)   # it would wait for itself
    deadline = None if timeout is None else time.monotonic() + timeout
    st = _lib.Status()
    stp = ctypes.byref(st)
    fd = lib.procwait_proc_fd(p)
    poller = None
    if fd >= 0:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
    backoff = _BACKOFF_MIN
    while True:
        rc = lib.procwait_proc_wait(p, 0, 0, stp)
        if rc == 0:
            return Status._from_c(st)
        if rc != -errno.ETIMEDOUT:
            raise_for(rc, pid, name)
        left = ms_until(deadline)
        if left == 0:
            raise TimeoutExpired(timeout, pid, name)
        if poller is not None and not poller.poll(0):
            poller.poll(None if left < 0 else left)
            backoff = _BACKOFF_MIN
            continue
        # No descriptor, or ready but not exited (a tracer holds the exit):
        # back off rather than spin.
        nap = backoff if left < 0 else min(backoff, left / 1000.0)
        time.sleep(nap)
        backoff = min(backoff * 2, _BACKOFF_MAX)
