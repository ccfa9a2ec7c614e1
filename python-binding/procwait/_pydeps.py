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

__all__ = ["Spy", "depends_on_cwd", "fnv", "extend"]

_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fnv(h, data):
    """FNV-1a over ``data`` (bytes), then the separator: as fnv() in
    tools/python-key.c."""
    for b in data:
        h = ((h ^ b) * _PRIME) & _MASK
    return ((h ^ 0xff) * _PRIME) & _MASK


def extend(base, deps, environb=None, cwd=None):
    """The server name's hash: ``base`` extended with the values of
    ``deps`` (sorted "env NAME" and "cwd" lines), as pyl_server_name()
    in tools/python-key.c computes it from the deps file."""
    env = os.environb if environb is None else environb
    h = base
    for line in deps:
        if line.startswith("env "):
            v = env.get(os.fsencode(line[4:]))
            h = fnv(h, line.encode())
            h = fnv(h, v if v is not None else b"")
            h = fnv(h, b"=" if v is not None else b"unset")
        elif line == "cwd":
            h = fnv(h, b"cwd")
            h = fnv(h, os.fsencode(cwd if cwd is not None else os.getcwd()))
    return h


class Spy:
    """Within ``with Spy() as s:``, the names of the environment variables
    read one by one gather in ``s.names``, and ``s.cwd`` is set when
    ``os.getcwd`` was called."""

    def __init__(self, always=()):
        self.names = set(always)
        self.cwd = False
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
            elif _importing():
                spy.names.add(key.decode("utf-8", "surrogateescape")
                              if isinstance(key, bytes) else key)
            return get(env, key)

        def __iter__(env):
            keys = list(it(env))
            spy._bulk = list(keys)
            return iter(keys)

        def getcwd():
            spy.cwd = spy.cwd or _importing()
            return self._cwd[0]()

        def getcwdb():
            spy.cwd = spy.cwd or _importing()
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
        """The deps lines: "env NAME" for each variable read, "cwd"."""
        # PROCWAIT_*: the launcher's own settings, which it sets for the
        # server (PROCWAIT_LIBRARY) or keys on itself.
        out = {"env " + n for n in self.names
               if n and "\n" not in n and "=" not in n and not n.startswith("PROCWAIT_")}
        if self.cwd:
            out.add("cwd")
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
