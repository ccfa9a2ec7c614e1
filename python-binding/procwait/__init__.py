# SPDX-License-Identifier: MIT
"""procwait: event-driven process waits and psutil-style process
information, through ctypes over libprocwait.

    >>> import procwait, subprocess
    >>> child = subprocess.Popen(["sleep", "0.1"])
    >>> procwait.wait(child.pid, timeout=5).returncode
    0

Waits sleep on a pidfd until the kernel reports the exit (1 context
switch), where psutil and subprocess wake up on a backoff timer. Process
information comes from /proc through descriptors kept open: one read of a
file serves every field in it.
"""

from typing import Optional

from . import _lib
from ._errors import AccessDenied, Error, NoSuchProcess, TimeoutExpired, ZombieProcess
from ._process import Process, pcputimes, pctxsw, pgids, pmem, puids
from ._status import Negsignal, Status
from ._waitset import WaitEvent, WaitSet, async_wait
from ._walk import pids, process_iter
from ._process import open_handle as _open_handle
from ._status import wait_handle as _wait_handle

__version__ = "0.1.0"
#: The libprocwait that was loaded (a path, or a name the linker resolved).
library_path = _lib.library_path

__all__ = [
    "AccessDenied", "Error", "Negsignal", "NoSuchProcess", "Process", "Status", "TimeoutExpired",
    "WaitEvent", "WaitSet", "ZombieProcess", "async_wait", "backend", "library_path",
    "pcputimes", "pctxsw", "pgids", "pmem", "pids", "process_iter", "puids", "wait",
]


def backend() -> str:
    """The wait backend in use: "pidfd" or "poll" (PROCWAIT_BACKEND forces one)."""
    return _lib.lib.procwait_backend_name().decode("ascii")


def wait(pid: int, timeout: Optional[float] = None) -> Status:
    """Wait for process ``pid`` to exit and return its :class:`Status`.

    ``timeout``: None waits forever, 0 checks once, else seconds.
    A child of ours is reaped and its exact status returned; any other
    process gives a Status with ``known`` False. Raises
    :class:`TimeoutExpired` or :class:`NoSuchProcess`."""
    p = _open_handle(pid)
    try:
        return _wait_handle(p, pid, timeout)
    finally:
        _lib.lib.procwait_proc_close(p)
