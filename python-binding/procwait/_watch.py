# SPDX-License-Identifier: MIT
"""python3 -m procwait watch: run ``python ARGS`` through a chain of
preloading fork servers, and again on every change.

Tier 0 imports the --preload set; tier k+1 is forked from tier k and
imports its own set on top (third-party libraries, then the application,
then the test helpers: the zeus design). Each run is forked from the last
tier. Every tier reports the files of the modules it has loaded; when a
file changes, the first tier that loaded it and every tier below it are
restarted, and the tiers above are kept. A change anywhere else under the
watched trees (a test file, a new file, a deleted one) only re-runs.
"""

import errno
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

from . import _lib
from ._forkserver import Client
from . import _inotify
from ._inotify import Inotify
from ._pyhost import BOOT, package_dir

__all__ = ["watch"]

_IGNORED_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".tox", ".nox", ".venv",
                 ".mypy_cache", ".pytest_cache", "node_modules", "build", "dist"}


def _say(msg):
    sys.stderr.write("procwait watch: %s\n" % msg)
    sys.stderr.flush()


def _ignored(path):
    """Editor droppings, bytecode and hidden files do not re-run."""
    base = os.path.basename(path)
    return (base.startswith(".") or base.endswith(("~", ".pyc", ".pyo", ".swp", ".swx",
                                                    ".tmp")) or base == "4913"
            or "__pycache__" in path.split(os.sep))


class _Tier:
    def __init__(self, index, mods, sock):
        self.index = index
        self.mods = mods
        self.sock = sock
        self.files = set()
        self.proc = None      # tier 0: a Popen
        self.client = None    # tier k > 0: its request on tier k - 1
        self.pid = None


class Watcher:
    def __init__(self, tiers, args, paths, debounce):
        self.tiers_mods = tiers
        self.args = list(args)
        self.paths = [os.path.abspath(p) for p in paths]
        self.debounce = debounce
        self.dir = tempfile.mkdtemp(prefix="procwait-watch-")
        self.tiers = []
        self.starting = None   # a tier started, not yet reported ready
        self.broken = False    # a tier died: restart them all
        self.run = None
        self.run_started = 0.0
        self.ino = Inotify()
        for p in self.paths:
            self._watch_tree(p)

    # ---- watching ---------------------------------------------------------

    def _watch_tree(self, top):
        for d, subdirs, _files in os.walk(top):
            subdirs[:] = [s for s in subdirs if s not in _IGNORED_DIRS and not s.startswith(".")]
            self.ino.add(d)

    def _in_trees(self, path):
        return any(path == p or path.startswith(p + os.sep) for p in self.paths)

    def _changes(self):
        """Block until something changes, then until it is quiet for the
        debounce time: the set of changed paths, None after an overflow."""
        changed, born = set(), set()
        timeout = None
        while True:
            r, _, _ = select.select([self.ino.fileno()] + ([self.run] if self.run else []),
                                    [], [], timeout)
            if self.run is not None and self.run in r:
                self._finish_run()
            if self.ino.fileno() not in r:
                if not r and timeout is not None:
                    # Created and gone within the batch: an editor's or
                    # sed's temporary file, nothing to act on.
                    return {p for p in changed if p not in born or os.path.lexists(p)}
                continue
            ev = self.ino.read()
            if ev is None:
                return None
            for path, isdir, mask in ev:
                if isdir and os.path.isdir(path) and self._in_trees(path) and \
                        os.path.basename(path) not in _IGNORED_DIRS:
                    self._watch_tree(path)
                if not _ignored(path):
                    if mask & (_inotify.IN_CREATE | _inotify.IN_MOVED_TO) and \
                            path not in changed:
                        born.add(path)
                    changed.add(path)
            if changed:
                timeout = self.debounce

    # ---- tiers ------------------------------------------------------------------

    def _tier_argv(self, tier):
        return [sys.executable, "-c", BOOT, package_dir(), "serve",
                "--preload", ",".join(tier.mods) or "", "--socket", tier.sock,
                "--no-stale-check"]

    def _start_tier(self, k):
        tier = _Tier(k, self.tiers_mods[k], os.path.join(self.dir, "tier%d.sock" % k))
        rfd, wfd = os.pipe2(os.O_CLOEXEC)
        try:
            if k == 0:
                argv = self._tier_argv(tier) + ["--report-fd", str(wfd)]
                env = dict(os.environ)
                if os.path.isabs(_lib.library_path):
                    env["PROCWAIT_LIBRARY"] = _lib.library_path
                tier.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env=env,
                                             pass_fds=(wfd,), start_new_session=True,
                                             preexec_fn=_die_with_parent)
                tier.pid = tier.proc.pid
            else:
                argv = self._tier_argv(tier) + ["--report-fd", "1"]
                null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    tier.client = Client(self.tiers[k - 1].sock)
                    tier.pid = tier.client.start(argv, stdin=null, stdout=wfd, stderr=2)
                finally:
                    os.close(null)
        except OSError as e:
            os.close(rfd)
            os.close(wfd)
            _say("tier %d cannot start: %s" % (k, e))
            return None
        os.close(wfd)
        self.starting = tier   # stopped by close() if we are stopped meanwhile
        with os.fdopen(rfd, "rb") as f:
            line = f.readline()
        try:
            rep = json.loads(line.decode("utf-8", "replace")) if line else {}
        except ValueError:
            rep = {}
        if "pid" not in rep:
            _say("tier %d (%s) failed: %s" % (k, ",".join(tier.mods) or "-",
                                               rep.get("error", "it exited before serving")))
            self._stop_tier(tier)
            self.starting = None
            return None
        tier.files = set(rep.get("files", []))
        for d in {os.path.dirname(f) for f in tier.files}:
            self.ino.add(d)
        return tier

    def _stop_tier(self, tier):
        """Stop a tier; it stops its children, tiers below included."""
        if tier.proc is not None:
            if tier.proc.poll() is None:
                tier.proc.terminate()
                try:
                    tier.proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(tier.proc.pid, signal.SIGKILL)
                    tier.proc.wait()
        if tier.client is not None:
            _end(tier.client)
            tier.client = None

    def restart_from(self, k):
        """Keep tiers 0..k-1, (re)start k and below. False when one failed."""
        while len(self.tiers) > k:
            self._stop_tier(self.tiers.pop())
        for i in range(k, len(self.tiers_mods)):
            t0 = time.monotonic()
            tier = self._start_tier(i)
            if tier is None:
                return False
            self.tiers.append(tier)
            self.starting = None
            _say("tier %d (%s) ready in %.2fs, pid %d"
                 % (i, ",".join(tier.mods) or "-", time.monotonic() - t0, tier.pid))
        return True

    def first_stale_tier(self, changed):
        for t in self.tiers:
            if changed & t.files:
                return t.index
        return None

    # ---- runs --------------------------------------------------------------------

    def start_run(self):
        self.run = Client(self.tiers[-1].sock)
        self.run_started = time.monotonic()
        try:
            self.run.start([sys.executable] + self.args, env=dict(os.environ), cwd=os.getcwd())
        except OSError as e:
            _say("cannot run: %s" % e)
            self.run.close()
            self.run = None

    def _finish_run(self):
        try:
            res = self.run.wait()
        except OSError as e:
            # The last tier went away under the run (killed, crashed):
            # every tier is restarted on the next change.
            _say("the run's server went away (%s); tiers restart on the next change" % e)
            res = None
            self.broken = True
        self.run.close()
        self.run = None
        code = res[0] if res else None
        self.last_code = code if code is None or code >= 0 else 128 - code
        _say("%s in %.2fs"
             % ("exit %d" % code if code is not None and code >= 0 else
                "killed by signal %d" % -code if code is not None else "no status",
                time.monotonic() - self.run_started))

    def stop_run(self):
        if self.run is not None:
            _end(self.run)
            self.run = None

    def close(self):
        self.stop_run()
        if self.starting is not None:
            self._stop_tier(self.starting)
            self.starting = None
        while self.tiers:
            self._stop_tier(self.tiers.pop())
        self.ino.close()
        try:
            for n in os.listdir(self.dir):
                os.unlink(os.path.join(self.dir, n))
            os.rmdir(self.dir)
        except OSError:
            pass


def _end(client):
    """SIGTERM to what a client runs, its exit awaited (30 s at most: the
    server's grace then SIGKILLs it), the connection closed."""
    try:
        client.send_signal(signal.SIGTERM)
        client.wait(30)
    except OSError:
        pass
    client.close()


def _die_with_parent():
    """In tier 0, before exec: SIGTERM when the watcher dies, however it
    dies (the tier stops its children, the tiers below included)."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def watch(tiers, args, paths=(".",), debounce=0.2, once=False):
    """Run ``python ARGS`` through tiers of preloading servers, again on
    every change. Returns the exit status (the run's with ``once``)."""
    tiers = [list(t) for t in tiers] or [[]]
    w = Watcher(tiers, args, paths, debounce)
    w.last_code = 1

    def _quit(signo, _frame):
        raise SystemExit(128 + signo)
    # A stopped watcher stops its tiers and its run: no server left behind.
    old = {s: signal.signal(s, _quit) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if w.restart_from(0):
            w.start_run()
        if once:
            while w.run is not None:
                select.select([w.run], [], [])
                w._finish_run()
            return w.last_code
        while True:
            changed = w._changes()
            if changed is not None and not changed:
                continue
            w.stop_run()
            k = 0 if changed is None or w.broken else w.first_stale_tier(changed)
            w.broken = False
            if changed is not None:
                shown = sorted(changed)
                _say("changed: %s%s" % (", ".join(os.path.relpath(p) for p in shown[:3]),
                                        " and %d more" % (len(shown) - 3) if len(shown) > 3
                                        else ""))
            if k is None and len(w.tiers) < len(tiers):
                k = len(w.tiers)   # a tier that failed before: try it again
            if k is not None:
                _say("restarting tier %d%s" % (k, " and below" if k + 1 < len(tiers) else ""))
                if not w.restart_from(k):
                    continue
            w.start_run()
    except KeyboardInterrupt:
        return 130
    finally:
        w.close()
        for s, h in old.items():
            signal.signal(s, h)
