# SPDX-License-Identifier: MIT
"""signalfd(2) over ctypes (the standard library has none): signals the
server blocks and reads in its loop. A Python signal handler runs only
between two bytecodes, so a signal that comes just before a blocking
select() or next() would wait for the next event; a blocked signal read
from a descriptor cannot be missed that way."""

import ctypes
import os
import signal
import struct

__all__ = ["SignalFd"]

_SFD_CLOEXEC = 0o2000000
_SFD_NONBLOCK = 0o4000
_SIGINFO_SIZE = 128       # struct signalfd_siginfo
_libc = None


def _c():
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.signalfd.restype = ctypes.c_int
        libc.signalfd.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        _libc = libc
    return _libc


class SignalFd(object):
    """Block ``signals`` in the calling thread and read them from a
    non-blocking, close-on-exec descriptor (``fileno()``)."""

    def __init__(self, signals):
        word = ctypes.sizeof(ctypes.c_ulong) * 8
        mask = (ctypes.c_ulong * (1024 // word))()   # a sigset_t, 128 bytes
        for s in signals:
            mask[(s - 1) // word] |= 1 << ((s - 1) % word)
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        fd = _c().signalfd(-1, ctypes.byref(mask), _SFD_CLOEXEC | _SFD_NONBLOCK)
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, "signalfd: %s" % os.strerror(e))
        self.fd = fd

    def fileno(self):
        return self.fd

    def read(self):
        """The signals received since the last read (numbers; [] if none)."""
        got = []
        while self.fd is not None:
            try:
                b = os.read(self.fd, _SIGINFO_SIZE)
            except BlockingIOError:
                break
            if len(b) < 4:
                break
            got.append(struct.unpack_from("=I", b)[0])   # ssi_signo
        return got

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
