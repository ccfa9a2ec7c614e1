# SPDX-License-Identifier: MIT
"""The Python fork-server host: ``python3 -m procwait serve``.

Imports the preload set once, freezes the heap for the garbage collector,
then serves requests through the C step API, forking with ``os.fork`` so
that the interpreter's own at-fork handling runs. Each child becomes what
a fresh ``python ARGS`` would be (see ``procwait._pyrun``).

While serving, the directories of every loaded module are watched: when a
loaded file changes, the server goes stale. It then removes its socket
(a new launcher starts a fresh server), refuses new requests with ESTALE
(the launcher retries them on the fresh server), lets the children it
runs finish, and exits.
"""

import errno
import gc
import importlib
import json
import os
import select
import signal
import sys
import threading
import time
import traceback

from . import _lib
from . import _pyservers
from ._forkserver import ForkServer
from ._pyrun import Unsupported, parse, prepare, prepare_early, run, server_ready
from ._sigfd import SignalFd

__all__ = ["BOOT", "package_dir", "serve", "module_files", "split_modules"]

#: ``python -c BOOT PKGDIR serve ...`` runs this package's CLI with PKGDIR
#: on sys.path only while procwait is imported (the children's sys.path
#: stays a plain interpreter's). tools/procwait-python.c has the same line.
BOOT = ("import sys; p = sys.argv.pop(1); sys.path.insert(0, p); "
        "import procwait.__main__ as m; sys.path.remove(p); "
        "sys.exit(m.main(sys.argv[1:]))")


def package_dir():
    """The directory holding this procwait package."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def split_modules(spec):
    """"a,b c" -> ["a", "b", "c"]; each a dotted module name."""
    mods = [m for part in (spec or "").replace(",", " ").split() for m in [part.strip()] if m]
    for m in mods:
        if not all(p.isidentifier() for p in m.split(".")):
            raise ValueError("not a module name: %r" % m)
    return mods


def module_files():
    """Absolute paths of the files behind every loaded module."""
    out = set()
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if isinstance(f, str) and f:
            out.add(os.path.abspath(f))
    return out


def _log(msg):
    try:
        sys.stderr.write("procwait serve[%d]: %s\n" % (os.getpid(), msg))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _dying_words(signo, frame):
    _log("killed by %s while preloading, before its report"
         % signal.Signals(signo).name)
    signal.signal(signo, signal.SIG_DFL)
    os.kill(os.getpid(), signo)


def _report(fd, obj):
    """One JSON line on ``fd``, then the descriptor is done with: closed,
    or /dev/null in its place for 0, 1 and 2 (never a free slot there
    that a socket could take)."""
    if fd is None:
        return
    try:
        os.write(fd, (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8", "replace"))
    except OSError:
        pass
    if fd > 2:
        os.close(fd)
        return
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    os.dup2(null, fd)
    os.close(null)


def _threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def preload(mods):
    """Import ``mods`` in order; on failure raise ImportError naming the
    module, with the original traceback's text."""
    for m in mods:
        try:
            importlib.import_module(m)
        except BaseException as e:   # SystemExit in a module body as well
            text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            raise ImportError("preloading %s failed:\n%s" % (m, text.rstrip())) from None


def _changed_since(files, t):
    for f in files:
        try:
            if os.stat(f).st_mtime >= t:
                return "%s changed" % f
        except OSError:
            return "%s removed" % f
    return None


class _Stale:
    """Watches the loaded modules' files."""

    def __init__(self, files, info=None):
        from ._inotify import Inotify
        self.files = files
        self.info = info   # removed: asked to drain (procwait._pyservers)
        self.early = None
        self.ino = Inotify()
        dirs = {os.path.dirname(f) for f in files} | ({os.path.dirname(info)} if info else set())
        missed = [d for d in sorted(dirs) if not self.ino.add(d)]
        if missed:
            _log("cannot watch %d director%s (e.g. %s): edits there go unnoticed"
                 % (len(missed), "y" if len(missed) == 1 else "ies", missed[0]))

    def changed(self):
        if self.early is not None:
            return self.early
        ev = self.ino.read()
        if ev is None:
            return "the change queue overflowed"
        for path, _isdir, _mask in ev:
            if path == self.info:
                if not os.path.exists(path):
                    return "asked to drain: %s removed" % path
            elif path in self.files or (path + "c") in self.files:
                return "%s changed" % path
        return None


def _child(fs, req, path0, prewarm=None):
    """In a forked child: never returns. A spare (a placeholder request,
    without argv) runs ``prewarm`` while it waits for its request."""
    code = 127
    try:
        prepare_early()
        if prewarm is not None and not req.argv:
            prewarm()
        try:
            fs.child(req)   # a spare waits here for its request
        except OSError as e:
            if e.errno == errno.ECANCELED:
                os._exit(0)   # a spare whose server stopped first
            raise
        argv = [os.fsdecode(a) for a in req.argv]
        try:
            flags, mode, target, rest = parse(argv[1:])
        except Unsupported as e:
            sys.stderr.write("procwait: %s needs a fresh interpreter\n" % e)
            code = 2
        else:
            prepare(req.envp, flags)
            run(argv, flags, mode, target, rest, path0)
    except BaseException:
        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:
            pass
    os._exit(code)


def _load(mods, pytest_tier):
    """The preload (with the pytest tier first, then what the conftest
    files import): (the files to watch beyond the modules' own, the files
    whose rewritten code the tier keeps)."""
    watch, rewrite = [], []
    if pytest_tier:
        from . import _pytier
        _pytier.install_metadata_memo()
        if _pytier.prepare_plugins() is None:
            _log("pytest tier: no pytest 7 or later here; preloading without it")
            pytest_tier = False
    preload(mods)
    if pytest_tier:
        rep = _pytier.conftest_imports()
        _pytier.import_all(rep.get("modules", []))
        _pytier.install_code_cache()
        _pytier.install_parser_memo()
        _pytier.install_fixture_memo(_pytier.PLUGIN_MODULES)
        inis = {f for f in (_pytier.INIFILE, rep.get("inifile")) if f}
        watch = rep.get("conftests", []) + sorted(inis)
        rewrite = rep.get("conftests", []) + rep.get("tests", [])
    return watch, rewrite


def _launched_socket(socket, base, deps, environb, cwd):
    """The socket of a launcher-started server: named from the base the
    launcher computed (hex) and this preload's deps (bytes lines), which go
    into the deps file of that base for the next launcher (see
    tools/python-key.c), hashed with the values the launcher had
    (``environb``, ``cwd``). The log the launcher opened for ``socket``
    follows the name, unless a server of that name has one."""
    from ._pydeps import extend
    d = os.path.dirname(socket)
    path = os.path.join(d, "python-%s.deps" % base)
    try:
        with open(path, "rb") as f:
            known = {line for line in f.read().split(b"\n") if line}
    except OSError:
        known = set()
    lines = sorted(known | deps)
    if set(lines) != known:
        tmp = "%s.%d.tmp" % (path, os.getpid())
        try:
            with open(tmp, "wb") as f:
                f.write(b"".join(line + b"\n" for line in lines))
            os.rename(tmp, path)
        except OSError as e:   # the name stays right; the next launcher restarts
            _log("cannot write %s: %s" % (path, e))
            try:
                os.unlink(tmp)
            except OSError:
                pass
    final = os.path.join(d, "python-%016x.sock" % extend(int(base, 16), lines, environb, cwd))
    if final != socket and not os.path.exists(final[:-5] + ".log"):
        try:
            os.rename(socket[:-5] + ".log", final[:-5] + ".log")
        except OSError:
            pass
    return final


def serve(mods, socket=None, name=None, idle=None, report_fd=None, stale_check=True,
          max_children=0, max_queue=-1, gc_freeze=True, launched=None, pytest_tier=False,
          huge_pages=False):
    """Preload ``mods`` and serve until stopped. Returns the exit status
    (0 after a stop, 1 when preloading or listening failed). ``launched``:
    the base name (hex) procwait-python computed, for a server it started
    (named by its deps, listed, capped, its files removed at exit);
    ``pytest_tier``: prepare pytest runs (procwait._pytier)."""
    from ._pydeps import Spy, depends_on_cwd, initial_environ
    path0 = sys.path[0] if sys.path else None
    started = time.time()
    environb, cwd = initial_environ(), os.getcwd()   # the launcher's, before the preload
    # A signal that ends the server before its report leaves the launcher
    # nothing to go by: say in the log which one it was, then die of it.
    dying = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    old = {s: signal.signal(s, _dying_words) for s in dying
           if signal.getsignal(s) is not signal.SIG_IGN}
    before = set(sys.modules)
    try:
        with Spy(_pytier_env() if pytest_tier else ()) as spy:
            watch, rewrite = _load(mods, pytest_tier)
    except ImportError as e:
        _log(str(e))
        _report(report_fd, {"error": str(e)})
        return 1
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    deps = spy.deps() | ({b"cwd"} if depends_on_cwd(before, path0) else set())
    launch_socket = socket
    try:
        if launched is not None:
            socket = _launched_socket(socket, launched, deps, environb, cwd)
        # A spare child forked ahead of each request: the fork of this
        # (large) process is off the request's path.
        fs = ForkServer(socket=socket, name=name, idle=idle, max_children=max_children,
                        max_queue=max_queue, spare=True)
    except OSError as e:
        if launched is not None and e.errno == errno.EADDRINUSE:
            # A server of the same name started meanwhile (its launcher
            # read the deps file first): the launcher joins that one.
            _report(report_fd, {"pid": os.getpid(), "socket": socket, "joined": True})
            return 0
        _log("cannot listen: %s" % e)
        _report(report_fd, {"error": "cannot listen: %s" % e})
        return 1
    except ValueError as e:
        _log("cannot listen: %s" % e)
        _report(report_fd, {"error": "cannot listen: %s" % e})
        return 1
    try:
        return _serve(fs, mods, started, report_fd, stale_check, watch, path0, gc_freeze,
                      launched, pytest_tier, deps, rewrite, huge_pages)
    finally:
        fs.close()
        if launched is not None:
            _pyservers.remove(fs.path, fs.socket_id, os.getpid())
            if launch_socket != fs.path:   # the lock its launcher took
                _pyservers.remove(launch_socket, None, os.getpid())


def _serve(fs, mods, started, report_fd, stale_check, watch, path0, gc_freeze, launched,
           pytest_tier, deps, rewrite, huge_pages):
    n = _threads()
    if n > 1:
        _log("warning: the preloaded modules started %d threads; a forked child "
             "has only the thread that forked it" % (n - 1))
    files = module_files()
    if launched is not None:
        _pyservers.publish(fs.path, {"python": sys.executable, "preload": mods,
                                     "pytest": os.getcwd() if pytest_tier else None,
                                     "deps": sorted(os.fsdecode(d) for d in deps),
                                     "started": started,
                                     "modules": len(sys.modules)})
    info = _pyservers.files(fs.path)["info"] if launched is not None else None
    stale = None
    if stale_check:
        try:
            stale = _Stale(files | set(watch), info)
        except OSError as e:
            _log("cannot watch the loaded modules (%s): edits go unnoticed" % e)
        else:
            # A file edited while we were importing (before the watches):
            # stale from the start.
            stale.early = _changed_since(files | set(watch), started)
    _report(report_fd, {"pid": os.getpid(), "socket": fs.path, "modules": len(sys.modules),
                        "files": sorted(files)})
    if launched is not None:
        limit = _max_servers()
        for gone in _pyservers.evict(fs.path, limit):
            _log("more than %d servers (PROCWAIT_MAX_SERVERS): draining the least "
                 "recently used, pid %s" % (limit, gone.get("pid")))
    # SIGTERM and SIGINT reach the server through its signalfd, also
    # between two calls of next(); the children get an empty mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    hup = None
    if launched is not None:
        # A hang-up stops it as SIGTERM does, its files removed; blocked
        # and read from a signalfd by the loop, so that one that comes
        # just before a blocking call is not left waiting.
        try:
            hup = SignalFd({signal.SIGHUP})
        except OSError as e:
            _log("SIGHUP will not stop this server: %s" % e)
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except (OSError, ValueError):
            pass
    server_ready()
    if gc_freeze:
        # The collector would touch every object in every child, copying
        # the pages they sit on: the heap so far stays out of its way.
        gc.disable()
        gc.freeze()
    rewriter = None
    if rewrite:
        from ._pytier import Rewriter
        rewriter = Rewriter(rewrite)
    if os.environ.get("PROCWAIT_HUGE_PAGES") == "1":
        huge_pages = True   # (the launcher's servers have no option for it)
    try:
        return _loop(fs, stale, path0, info, _pytier_prewarm() if pytest_tier else None,
                     rewriter, huge_pages, hup)
    finally:
        if hup is not None:
            hup.close()
        if stale is not None:
            stale.ino.close()
        if rewriter is not None:
            rewriter.close()


def _pytier_env():
    from ._pytier import ENV
    return ENV


def _pytier_prewarm():
    from ._pytier import prewarm
    return prewarm


def _max_servers():
    v = os.environ.get("PROCWAIT_MAX_SERVERS", "")
    try:
        n = int(v) if v else _pyservers.DEFAULT_MAX_SERVERS
    except ValueError:
        n = -1
    if n < 1:
        _log("PROCWAIT_MAX_SERVERS is not a number >= 1: %r; using %d"
             % (v, _pyservers.DEFAULT_MAX_SERVERS))
        n = _pyservers.DEFAULT_MAX_SERVERS
    return n


def _loop(fs, stale, path0, info=None, prewarm=None, rewriter=None, huge_pages=False,
          hup=None):
    draining = None
    forks = 0
    while True:
        if hup is not None and hup.read():
            fs.stop()
        fds = [fs.fileno()] + ([stale.ino.fileno()] if stale is not None else []) + \
              ([rewriter.fileno()] if rewriter is not None and rewriter.fd is not None else []) + \
              ([hup.fileno()] if hup is not None else [])
        if draining is not None:
            if fs.children() == 0:
                fs.stop()
            timeout = 100
        elif len(fds) > 1:
            early = stale is not None and stale.early
            r, _, _ = select.select(fds, [], [], 0 if early else _secs(fs.timeout_ms()))
            if rewriter is not None and rewriter.fd is not None and rewriter.fd in r and \
                    not rewriter.read():
                # All the code is in: the idle spare, forked before, goes
                # for one that has it.
                fs.set_spares(0)
                fs.set_spares(1)
            if stale is not None and (early or stale.ino.fileno() in r):
                draining = stale.changed()
                if draining is not None:
                    _log("%s: no new requests; exiting when the %d running "
                         "child(ren) end" % (draining, fs.children()))
                    _forget_socket(fs)
                    fs.set_spares(0)   # requests come to us, to be refused
                    continue
            timeout = 0
        else:
            timeout = -1
        rc, req = fs.next(timeout)
        if rc == _lib.FS_STOPPED:
            return 0
        if rc != _lib.FS_READY:
            continue
        if info is not None:
            _touch(info)   # a request (or the spare that took one)
        if draining is not None:
            fs.parent(req, -errno.ESTALE)
            continue
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except (OSError, ValueError):
                pass
        # Every signal blocked across the fork: one the client forwards
        # before the child has reset what it inherits from us stays
        # pending instead of meeting our dispositions (fs.child() resets
        # them, then empties the mask).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _ALL_SIGNALS)
        try:
            pid = os.fork()
        except OSError as e:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            fs.parent(req, -(e.errno or errno.EAGAIN))
            continue
        if pid == 0:
            _child(fs, req, path0, prewarm)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        run = bool(req.argv) if huge_pages else False   # (before parent() takes it)
        fs.parent(req, pid)
        forks += 1
        if huge_pages and (run or forks > 1):
            # Once the first run is on its way (the first spare is forked
            # at the start; the second once a run took the first), so that
            # neither waits for it: see procwait._hugepages.
            huge_pages = False
            from ._hugepages import collapse
            done, why = collapse()
            _log("heap in huge pages: %d MB" % (done >> 20) if done else
                 "heap not in huge pages: %s" % why)


_ALL_SIGNALS = signal.valid_signals()


def _touch(path):
    try:
        os.utime(path)
    except OSError:
        pass


def _secs(ms):
    return None if ms < 0 else ms / 1000.0


def _forget_socket(fs):
    """Remove our socket file (not a newer server's) so that the next
    launcher starts a fresh server."""
    try:
        st = os.lstat(fs.path)
        if (st.st_dev, st.st_ino) == fs.socket_id:
            os.unlink(fs.path)
    except OSError:
        pass
