# SPDX-License-Identifier: MIT
"""Exceptions, with psutil's names and attributes, and the mapping of the
library's negative error codes onto them."""

import errno
import io

from . import _lib


class Error(Exception):
    """Base class of procwait's own exceptions."""

    def __init__(self, msg=""):
        Exception.__init__(self, msg)
        self.msg = msg

    def _details(self):
        return ", ".join("%s=%r" % (k, getattr(self, k)) for k in ("pid", "ppid", "name", "seconds")
                         if getattr(self, k, None) is not None)

    def __str__(self):
        details = self._details()
        return "%s (%s)" % (self.msg, details) if details else self.msg


class NoSuchProcess(Error):
    """The process does not exist (any more), or was reaped."""

    def __init__(self, pid, name=None, msg=None):
        Error.__init__(self, msg or "process no longer exists")
        self.pid = pid
        self.name = name


class ZombieProcess(NoSuchProcess):
    """The process is a zombie: it has exited but is not reaped, and the
    call cannot answer for it."""

    def __init__(self, pid, name=None, ppid=None, msg=None):
        NoSuchProcess.__init__(self, pid, name, msg or "process is a zombie")
        self.ppid = ppid


class AccessDenied(Error):
    """The system refused access."""

    def __init__(self, pid=None, name=None, msg=None):
        Error.__init__(self, msg or "access denied")
        self.pid = pid
        self.name = name


class TimeoutExpired(Error):
    """The timeout passed before the process exited."""

    def __init__(self, seconds, pid=None, name=None):
        Error.__init__(self, "timeout after %s seconds" % seconds)
        self.seconds = seconds
        self.pid = pid
        self.name = name


def raise_for(rc, pid=None, name=None, seconds=None):
    """Raise the exception for a negative return code of the library."""
    msg = _lib.strerror(rc)
    if rc == -errno.ESRCH:
        raise NoSuchProcess(pid, name)
    if rc == _lib.EZOMBIE:
        raise ZombieProcess(pid, name)
    if rc in (-errno.EACCES, -errno.EPERM):
        raise AccessDenied(pid, name, msg)
    if rc == -errno.ETIMEDOUT:
        raise TimeoutExpired(seconds, pid, name)
    if rc == -errno.EINVAL:
        raise ValueError(msg)
    if rc == -errno.ENOTSUP:
        raise io.UnsupportedOperation(errno.ENOTSUP, msg)
    raise OSError(-rc, msg)
