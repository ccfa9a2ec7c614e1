# SPDX-License-Identifier: MIT
"""What a server's preload depended on, beyond its module list: the
environment variables it read and whether it used the directory it was
started in. procwait-python names a server from its base identity plus
these (see tools/python-key.c), so a caller whose values differ gets a
server of its own rather than modules set up for someone else's.

Reads are seen through ``os.environ``/``os.environb`` (``os.getenv``,
``in``, ``[]``, ``.get``) and ``os.getcwd``, while a module is being
imported (what a module sets up at import is what a fork inherits; a value
read and thrown away by other preload work, such as the pytest tier's
throwaway configuration, is not); the caller names further variables it
depends on (``Spy(always=...)``). Reading the whole environment
(``dict(os.environ)``, ``.copy()``, iterating) counts as no variable in
particular. What C code reads with getenv() is not seen: the launcher's
fixed list of start-up variables covers the known ones.
"""

import os
import sys

__all__ = ["Spy", "depends_on_cwd", "fnv", "extend", "initial_environ", "MAX_LINE"]

#: The longest deps line, without its newline (python-key.c's buffer).
MAX_LINE = 1000

_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fnv(h, data):
    """FNV-1a over ``data`` (bytes), then the separator: as fnv() in
    tools/python-key.c."""
    for b in data:
        h = ((h ^ b) * _PRIME) & _MASK
    return ((h ^ 0xff) * _PRIME) & _MASK


def initial_environ():
    """The environment this process was started with (what its launcher
    hashed), not what it became: Python itself sets LC_CTYPE at start-up
    (PEP 538), a preloaded module may set more. From /proc/self/environ;
    the current one where that cannot be read."""
    try:
        with open("/proc/self/environ", "rb") as f:
            data = f.read()
    except OSError:
        return dict(os.environb)
    env = {}
    for item in data.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep and k and k not in env:   # the first one, as getenv() finds it
            env[k] = v
    return env


def extend(base, deps, environb, cwd):
    """The server name's hash: ``base`` extended with the values in
    ``environb`` (bytes to bytes) and ``cwd`` of ``deps`` (sorted lines,
    bytes: b"env NAME" and b"cwd"), as pyl_server_name() in
    tools/python-key.c computes it from the deps file."""
    h = base
    for line in deps:
        if line.startswith(b"env "):
            v = environb.get(line[4:])
            h = fnv(h, line)
            h = fnv(h, v if v is not None else b"")
            h = fnv(h, b"=" if v is not None else b"unset")
        elif line == b"cwd":
            h = fnv(h, b"cwd")
            h = fnv(h, os.fsencode(cwd))
    return h


class Spy:
    """Within ``with Spy() as s:``, the names of the environment variables
    read one by one gather in ``s.names``, and ``s.cwd`` is set when
    ``os.getcwd`` was called: while a module is being imported, or at any
    time with ``anytime``."""

    def __init__(self, always=(), anytime=False):
        self.names = set(always)
        self.cwd = False
        self.anytime = anytime
        self._bulk = []   # keys of an enumeration, in order: not reads

    def __enter__(self):
        cls = type(os.environ)
        spy = self
        self._saved = {k: cls.__dict__[k] for k in ("__getitem__", "__iter__")}
        self._cwd = (os.getcwd, os.getcwdb)
        get, it = self._saved["__getitem__"], self._saved["__iter__"]

        def __getitem__(env, key):
            if spy._bulk and spy._bulk[0] == key:
                spy._bulk.pop(0)   # dict(os.environ), .copy(), items()
            elif spy.anytime or _importing():
                spy.names.add(key.decode("utf-8", "surrogateescape")
                              if isinstance(key, bytes) else key)
            return get(env, key)

        def __iter__(env):
            keys = list(it(env))
            spy._bulk = list(keys)
            return iter(keys)

        def getcwd():
            spy.cwd = spy.cwd or spy.anytime or _importing()
            return self._cwd[0]()

        def getcwdb():
            spy.cwd = spy.cwd or spy.anytime or _importing()
            return self._cwd[1]()

        cls.__getitem__, cls.__iter__ = __getitem__, __iter__
        os.getcwd, os.getcwdb = getcwd, getcwdb
        return self

    def __exit__(self, *exc):
        cls = type(os.environ)
        for k, v in self._saved.items():
            setattr(cls, k, v)
        os.getcwd, os.getcwdb = self._cwd
        self._bulk = []

    def deps(self):
        """The deps lines, bytes: b"env NAME" for each variable read,
        b"cwd". (A line is at most MAX_LINE bytes: tools/python-key.c
        reads no longer ones.)"""
        out = set()
        for n in self.names:
            b = os.fsencode(n)
            # PROCWAIT_*: the launcher's own settings, which it sets for
            # the server (PROCWAIT_LIBRARY) or keys on itself.
            if b and b"\n" not in b and b"=" not in b and b"\0" not in b and \
                    not b.startswith(b"PROCWAIT_") and len(b) + 4 <= MAX_LINE:
                out.add(b"env " + b)
        if self.cwd:
            out.add(b"cwd")
        return out


def _importing():
    """A module is being imported: the import system's frames are on the
    stack."""
    f = sys._getframe(2)
    while f is not None:
        if f.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        f = f.f_back
    return False


def depends_on_cwd(before, path0):
    """True when a module loaded since ``before`` (a set of module names)
    came from the starting directory through sys.path's "" entry (or
    ``path0``): its file is under the directory and under no other
    sys.path entry."""
    cwd = os.getcwd()
    others = [os.path.abspath(p) for p in sys.path
              if p and p != path0 and os.path.abspath(p) != cwd]
    for name, m in list(sys.modules.items()):
        if name in before:
            continue
        f = getattr(m, "__file__", None)
        if not isinstance(f, str):
            continue
        f = os.path.abspath(f)
        if f.startswith(cwd + os.sep) and not any(
                f.startswith(o + os.sep) and len(o) > len(cwd) for o in others):
            return True
    return False
