# SPDX-License-Identifier: MIT
"""The fork server's step API and its client, over ctypes.

The server side is for hosts that fork with the interpreter's own
``os.fork`` (see ``procwait._pyhost``): ``next()`` hands out a request,
the host forks, and calls ``child()`` in the child and ``parent()`` in the
server. The client sends one request per connection and waits for its
exit status.
"""

import ctypes
import os
from typing import List, Optional, Sequence, Tuple

from . import _lib
from ._errors import Error

__all__ = ["Client", "ForkServer", "Request", "socket_path"]

FLAG_NO_SIGNALS = 1 << 0
FLAG_KEEP_FDS = 1 << 1
FLAG_NO_CGROUPS = 1 << 2


def _need():
    if not _lib.has_forkserver():
        raise OSError(38, "procwait: this libprocwait has no fork server "
                          "(it is built on Linux only)")


def _check(rc, what):
    if rc < 0:
        raise OSError(-rc, "%s: %s" % (what, _lib.strerror(rc)))
    return rc


def _strv(p) -> List[bytes]:
    out = []
    if not p:
        return out
    i = 0
    while p[i] is not None:
        out.append(p[i])
        i += 1
    return out


def _ms(seconds, what) -> int:
    if seconds is None:
        return 0
    if not isinstance(seconds, (int, float)) or not 0 <= seconds < float("inf"):
        raise ValueError("%s must be a finite number of seconds >= 0, not %r"
                         % (what, seconds))
    return min(int(seconds * 1000 + 0.999), 2**31 - 1)


def socket_path(name: str = "default", create: bool = False) -> str:
    """The default socket path of server ``name`` (see the C call
    procwait_forkserver_socket_path)."""
    _need()
    buf = ctypes.create_string_buffer(4096)
    _check(_lib.lib.procwait_forkserver_socket_path(os.fsencode(name), int(create),
                                                    buf, len(buf)), "socket path")
    return os.fsdecode(buf.value)


class Request:
    """A request handed out by :meth:`ForkServer.next`: argv, envp and cwd
    as bytes, as the client sent them. (For a spare they are there once
    :meth:`ForkServer.child` has returned.)"""

    __slots__ = ("_ptr",)

    def __init__(self, ptr):
        self._ptr = ptr

    def _p(self):
        if not self._ptr:
            raise ValueError("the request was handed to parent(): it is the server's now")
        return self._ptr

    @property
    def argv(self) -> List[bytes]:
        return _strv(_lib.lib.procwait_request_argv(self._p()))

    @property
    def envp(self) -> List[bytes]:
        return _strv(_lib.lib.procwait_request_envp(self._p()))

    @property
    def cwd(self) -> Optional[bytes]:
        return _lib.lib.procwait_request_cwd(self._p())


class ForkServer:
    """A fork server whose host forks: the C step API.

    ``socket``: the path (default: the default path of ``name``);
    ``idle``: seconds without clients or children before it stops
    (None: never); ``timeout``: the default per-request timeout in
    seconds (None: none); ``cgroups``: give each run a cgroup of its
    own where the server may create them (a stop then kills all of the
    run; see procwait_forkserver_new); ``request``: seconds a connection has to
    send its request before it is closed (None: the library's 10 s,
    0: no limit); ``max_children``: 0 means the library's default. SIGTERM and SIGINT stop the server while :meth:`next`
    runs (block them in between to never miss one)."""

    def __init__(self, socket: Optional[str] = None, name: Optional[str] = None,
                 idle: Optional[float] = None, timeout: Optional[float] = None,
                 max_children: int = 0, keep_fds: bool = False, spare: bool = False,
                 max_queue: int = -1, request: Optional[float] = None,
                 cgroups: bool = True):
        _need()
        if not isinstance(max_children, int) or max_children < 0:
            raise ValueError("max_children must be an int >= 0, not %r" % (max_children,))
        if not isinstance(max_queue, int) or max_queue < -1:
            raise ValueError("max_queue must be an int >= -1, not %r" % (max_queue,))
        o = _lib.ForkServerOptions()
        o.size = ctypes.sizeof(o)
        o.name = os.fsencode(name) if name is not None else None
        o.socket_path = os.fsencode(socket) if socket is not None else None
        o.max_children = max_children
        o.max_queue = max_queue
        o.timeout_ms = _ms(timeout, "timeout")
        o.kill_grace_ms = -1
        o.idle_ms = _ms(idle, "idle")
        o.request_ms = 0 if request is None else (_ms(request, "request") or -1)
        o.flags = (FLAG_KEEP_FDS if keep_fds else 0) | (0 if cgroups else FLAG_NO_CGROUPS)
        self._fs = ctypes.c_void_p()
        _check(_lib.lib.procwait_forkserver_new(ctypes.byref(o), ctypes.byref(self._fs)),
               "fork server on %s" % (socket or name or "the default socket"))
        self.path = os.fsdecode(_lib.lib.procwait_forkserver_path(self._fs))
        st = os.stat(self.path)
        #: (st_dev, st_ino) of our socket file, to never unlink another's.
        self.socket_id = (st.st_dev, st.st_ino)
        if spare:
            self.set_spares(1)

    def _h(self):
        if not self._fs:
            raise ValueError("the fork server is closed")
        return self._fs

    def fileno(self) -> int:
        """A descriptor readable when the server has work (see next)."""
        return _check(_lib.lib.procwait_forkserver_fd(self._h()), "fd")

    def timeout_ms(self) -> int:
        """Milliseconds until the server's next timer, -1 for none."""
        return _lib.lib.procwait_forkserver_timeout(self._h())

    def next(self, timeout_ms: int = -1) -> Tuple[int, Optional[Request]]:
        """Run the loop until a request is ready: (FS_READY, Request),
        (FS_TIMEOUT, None) or (FS_STOPPED, None)."""
        req = ctypes.c_void_p()
        rc = _check(_lib.lib.procwait_forkserver_next(self._h(), int(timeout_ms),
                                                      ctypes.byref(req)), "next")
        return rc, (Request(req) if rc == _lib.FS_READY else None)

    def child(self, req: "Request") -> None:
        """In the child: install the request (stdio, cwd, environ, session,
        signals, descriptors); a spare first waits for its request here.
        Raises OSError when it cannot (ECANCELED: a spare whose server
        stopped first, to exit quietly with 0)."""
        _check(_lib.lib.procwait_forkserver_child(self._h(), req._p()), "child")

    def parent(self, req: Request, pid: int) -> int:
        """In the server: track the child ``pid``, or report -errno. The
        request is the server's from then on (``req`` is spent)."""
        ptr, req._ptr = req._p(), None
        return _lib.lib.procwait_forkserver_parent(self._h(), ptr, int(pid))

    def set_spares(self, n: int) -> None:
        """Keep ``n`` (0 or 1) children forked ahead of requests: next()
        then also hands out placeholders to fork, whose child() waits
        for the next request (see procwait_forkserver_set_spares)."""
        _check(_lib.lib.procwait_forkserver_set_spares(self._h(), int(n)), "spares")

    def stop(self) -> None:
        _check(_lib.lib.procwait_forkserver_stop(self._h()), "stop")

    def children(self) -> int:
        return _check(_lib.lib.procwait_forkserver_children(self._h()), "children")

    def close(self) -> None:
        """Free the server (stopping it without grace if it runs)."""
        if self._fs:
            _lib.lib.procwait_forkserver_free(self._fs)
            self._fs = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _strv_array(items: Sequence) -> "ctypes.Array":
    arr = (ctypes.c_char_p * (len(items) + 1))()
    for i, s in enumerate(items):
        arr[i] = os.fsencode(s)
    arr[len(items)] = None
    return arr


class Client:
    """One request to a fork server: ``start()`` then ``wait()``.

    ``stdin``/``stdout``/``stderr`` are descriptors (None: ours)."""

    def __init__(self, socket: str):
        _need()
        self._c = ctypes.c_void_p()
        _check(_lib.lib.procwait_client_connect(os.fsencode(socket), ctypes.byref(self._c)),
               "connect to %s" % socket)
        self.pid = None

    def _h(self):
        if not self._c:
            raise ValueError("the connection is closed")
        return self._c

    def start(self, argv: Sequence, env: Optional[dict] = None, cwd: Optional[str] = None,
              stdin: Optional[int] = None, stdout: Optional[int] = None,
              stderr: Optional[int] = None, timeout: Optional[float] = None) -> int:
        """Send the request and wait until it runs; returns the pid."""
        if not argv:
            raise ValueError("argv must not be empty")
        rq = _lib.ClientRequest()
        rq.size = ctypes.sizeof(rq)
        argv_a = _strv_array(list(argv))
        rq.argv = ctypes.cast(argv_a, ctypes.POINTER(ctypes.c_char_p))
        env_a = None
        if env is not None:
            env_a = _strv_array([os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()])
            rq.envp = ctypes.cast(env_a, ctypes.POINTER(ctypes.c_char_p))
        rq.cwd = os.fsencode(cwd) if cwd is not None else None
        for i, fd in enumerate((stdin, stdout, stderr)):
            rq.fds[i] = -1 if fd is None else int(fd)
        rq.timeout_ms = 0 if timeout is None else max(1, _ms(timeout, "timeout"))
        rc = _lib.lib.procwait_client_start(self._h(), ctypes.byref(rq))
        if rc < 0:
            msg = (_lib.lib.procwait_client_message(self._c) or b"").decode("utf-8", "replace")
            raise OSError(-rc, "fork server: %s" % (msg or _lib.strerror(rc)))
        self.pid = rc
        return rc

    @property
    def cgroup(self) -> Optional[str]:
        """The run's cgroup directory, as the server named it; None when
        the run has none (or has not started)."""
        p = _lib.lib.procwait_client_cgroup(self._h())
        return os.fsdecode(p) if p else None

    def fileno(self) -> int:
        return _check(_lib.lib.procwait_client_fd(self._h()), "fd")

    def send_signal(self, signo: int) -> None:
        """Send ``signo`` to the child's process group (through the server)."""
        _check(_lib.lib.procwait_client_signal(self._h(), int(signo)), "signal")

    def wait(self, timeout: Optional[float] = None):
        """Wait for the exit: a :class:`procwait.Status`-like
        ``(returncode, timed_out)``; returncode is the exit code, or
        -signal for a signal death (as subprocess reports it). None when
        ``timeout`` passed. A server that dies first raises
        ConnectionResetError, once the run has been killed (its cgroup,
        or its process group)."""
        res = _lib.Result()
        ms = -1 if timeout is None else _ms(timeout, "timeout")
        rc = _lib.lib.procwait_client_wait(self._h(), ms, ctypes.byref(res))
        if rc == 0:
            return None
        if rc < 0:
            msg = (_lib.lib.procwait_client_message(self._c) or b"").decode("utf-8", "replace")
            raise OSError(-rc, "fork server: %s" % (msg or _lib.strerror(rc)))
        st = res.status
        if st.kind == _lib.STATUS_EXITED:
            code = st.code
        elif st.kind == _lib.STATUS_SIGNALED:
            code = -st.signo
        else:
            raise Error("the child's exit status is unknown")
        return code, bool(res.timed_out)

    def close(self) -> None:
        """Close the connection (a child still running is stopped)."""
        if self._c:
            _lib.lib.procwait_client_close(self._c)
            self._c = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
