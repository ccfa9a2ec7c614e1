# SPDX-License-Identifier: MIT
"""Linux inotify over ctypes (the standard library has none): watch
directories, read which names in them changed."""

import ctypes
import errno
import os
import struct

__all__ = ["Inotify", "CHANGE_MASK"]

IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ISDIR = 0x40000000
IN_ONLYDIR = 0x1000000
IN_CLOEXEC = 0o2000000
IN_NONBLOCK = 0o4000

#: A file written, replaced, created or removed in a watched directory.
CHANGE_MASK = (IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
               | IN_DELETE_SELF | IN_MOVE_SELF)

_HDR = struct.Struct("iIII")
_libc = None


def _c():
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        _libc = libc
    return _libc


class Inotify:
    """An inotify descriptor over a set of directories.

    ``read()`` returns the paths that changed (directory/name), the
    directory itself for events on it, and None when the kernel's queue
    overflowed (anything may have changed)."""

    def __init__(self):
        fd = _c().inotify_init1(IN_CLOEXEC | IN_NONBLOCK)
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, "inotify_init1: " + os.strerror(e))
        self.fd = fd
        self._dirs = {}   # wd -> directory
        self._wds = {}    # directory -> wd

    def fileno(self):
        return self.fd

    def add(self, directory):
        """Watch ``directory``; False when it cannot be watched (gone, or
        the user's watch limit is reached)."""
        directory = os.path.abspath(directory)
        if directory in self._wds:
            return True
        wd = _c().inotify_add_watch(self.fd, os.fsencode(directory), CHANGE_MASK | IN_ONLYDIR)
        if wd < 0:
            e = ctypes.get_errno()
            if e in (errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.ENOSPC):
                return False
            raise OSError(e, "inotify_add_watch %s: %s" % (directory, os.strerror(e)))
        self._dirs[wd] = directory
        self._wds[directory] = wd
        return True

    def watched(self):
        return set(self._wds)

    def read(self):
        """The changes queued now (non-blocking): a list of (path, is_dir,
        mask), or None after a queue overflow."""
        out = []
        overflow = False
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not buf:
                break
            off = 0
            while off + _HDR.size <= len(buf):
                wd, mask, _cookie, n = _HDR.unpack_from(buf, off)
                name = buf[off + _HDR.size:off + _HDR.size + n].split(b"\0", 1)[0]
                off += _HDR.size + n
                if mask & IN_Q_OVERFLOW:
                    overflow = True
                    continue
                d = self._dirs.get(wd)
                if d is None:
                    continue
                if mask & IN_IGNORED:
                    del self._dirs[wd]
                    self._wds.pop(d, None)
                    continue
                path = os.path.join(d, os.fsdecode(name)) if name else d
                out.append((path, bool(mask & IN_ISDIR), mask))
        return None if overflow else out

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
