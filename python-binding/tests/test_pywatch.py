"""python3 -m procwait watch: --once exit statuses, tiers of fork servers
restarted from the first one that loaded a changed file, re-runs for files
no tier loaded (new, deleted, in new directories), temporary and ignored
files, a tier whose import fails, and stopping it by signal without leaving
a process behind. Runs the watcher as a subprocess in a temp project."""
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest

from procwait import _lib

from tests._util import (BINDING_DIR, PYTHON, default_signals, kill_leftovers,
                         procs_under, running, starttime, stop_group_leader)

WATCH = [PYTHON, "-m", "procwait", "watch"]
STEP = 20.0   # seconds allowed for one reaction of the watcher (a noisy box)

RUN_RE = r"^RUN a=(\d+) b=(\d+) v=(\d+)$"
READY_RE = r"^procwait watch: tier (\d+) \(([^)]*)\) ready in [0-9.]+s, pid (\d+)$"


def setUpModule():
    if not _lib.has_forkserver():
        raise unittest.SkipTest("this libprocwait has no fork server (it is built "
                                "on Linux only)")


# ---- processes ------------------------------------------------------------------

class Output:
    """The watcher's stdout and stderr, read line by line with select and
    deadlines (never blocking). Each stream has a cursor: expect() consumes
    the lines up to the one that matched."""

    def __init__(self, proc):
        self.proc = proc
        self.names = {proc.stdout.fileno(): "out", proc.stderr.fileno(): "err"}
        self.open = set(self.names)
        self.partial = {"out": b"", "err": b""}
        self.lines = {"out": [], "err": []}
        self.pos = {"out": 0, "err": 0}
        for fd in self.names:
            os.set_blocking(fd, False)

    def pump(self, timeout):
        if not self.open:
            time.sleep(min(max(timeout, 0), 0.05))
            return
        r, _, _ = select.select(list(self.open), [], [], max(timeout, 0))
        for fd in r:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            name = self.names[fd]
            if not chunk:
                self.open.discard(fd)
                if self.partial[name]:
                    self.lines[name].append(self.partial[name].decode("utf-8", "replace"))
                    self.partial[name] = b""
                continue
            parts = (self.partial[name] + chunk).split(b"\n")
            self.partial[name] = parts.pop()
            self.lines[name].extend(p.decode("utf-8", "replace") for p in parts)

    def transcript(self):
        return ("--- stdout:\n%s\n--- stderr:\n%s"
                % ("\n".join(self.lines["out"]), "\n".join(self.lines["err"])))

    def expect(self, name, regex, timeout=STEP, what=None):
        """The match of the next line of stream name matching regex."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines[name]
            while self.pos[name] < len(lines):
                m = rx.search(lines[self.pos[name]])
                self.pos[name] += 1
                if m:
                    return m
            left = deadline - time.monotonic()
            if left <= 0 or (not self.open and self.pos[name] >= len(lines)):
                raise AssertionError("no %s line matching %r (%s) within %.0fs%s\n%s"
                                     % (name, regex, what or "expected",
                                        timeout, "" if self.open else " (output closed)",
                                        self.transcript()))
            self.pump(min(left, 0.2))

    def mark(self, name):
        return len(self.lines[name])

    def since(self, name, mark):
        return self.lines[name][mark:self.pos[name]]

    def assert_quiet(self, name, regex, seconds, what):
        """Fail if a line matching regex shows up on name (after the cursor)
        within seconds. Consumes nothing."""
        rx = re.compile(regex)
        deadline = time.monotonic() + seconds
        while True:
            for ln in self.lines[name][self.pos[name]:]:
                if rx.search(ln):
                    raise AssertionError("%s: unexpected %s line %r\n%s"
                                         % (what, name, ln, self.transcript()))
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.pump(min(left, 0.1))

    def drain(self, timeout):
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            self.pump(deadline - time.monotonic())


class WatchTestCase(unittest.TestCase):

    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="pw-watch-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self._kill_leftovers)
        self.proj = os.path.join(self.tmp, "proj")
        self.tmpdir = os.path.join(self.tmp, "tmpdir")   # the watcher's TMPDIR
        os.mkdir(self.proj)
        os.mkdir(self.tmpdir, 0o700)
        self.seen = {}   # pid -> starttime of every tier and run reported

    def _kill_leftovers(self):
        kill_leftovers(self.seen, self.tmp)

    def write(self, name, text):
        """Write in place (one close-after-write event for a file that exists)."""
        path = os.path.join(self.proj, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def create(self, name, text):
        """Create a file with one event: written as NAME.tmp (ignored by the
        watcher), then renamed."""
        path = os.path.join(self.proj, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)
        return path

    def env(self):
        env = dict(os.environ)
        pp = env.get("PYTHONPATH")
        env["PYTHONPATH"] = BINDING_DIR + (os.pathsep + pp if pp else "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["TMPDIR"] = self.tmpdir
        return env

    def record(self, pid):
        pid = int(pid)
        if pid not in self.seen:
            self.seen[pid] = starttime(pid)
        return pid

    def start_watch(self, *args):
        proc = subprocess.Popen(WATCH + list(args), cwd=self.proj, env=self.env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True,
                                preexec_fn=default_signals)
        self.addCleanup(self._stop_watch, proc)
        return proc, Output(proc)

    def _stop_watch(self, proc):
        try:
            stop_group_leader(proc, 15)
        finally:
            proc.stdout.close()
            proc.stderr.close()

    def assert_nothing_left(self, timeout=10.0):
        """No recorded tier or run, no process in the project, no socket
        directory in TMPDIR, within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            alive = [p for p, st in self.seen.items() if running(p, st)]
            under = procs_under(self.tmp)
            left = os.listdir(self.tmpdir)
            if not alive and not under and not left:
                return
            if time.monotonic() > deadline:
                self.fail("left behind after %.0fs: tiers/runs %r, processes in the "
                          "project %r, files in TMPDIR %r" % (timeout, alive, under, left))
            time.sleep(0.05)


# ---- --once -----------------------------------------------------------------------------

class OnceTest(WatchTestCase):

    def test_once_exit_status_is_the_runs(self):
        self.write("t.py", """\
            import sys
            print("hello once", sys.argv[1:])
            sys.exit(int(sys.argv[1]))
            """)
        for code in (0, 3):
            with self.subTest(code=code):
                p = subprocess.run(WATCH + ["--once", "--", "t.py", str(code)], cwd=self.proj,
                                   env=self.env(), stdin=subprocess.DEVNULL,
                                   capture_output=True, timeout=60)
                err = p.stderr.decode("utf-8", "replace")
                self.assertEqual(p.returncode, code, "stderr:\n%s" % err)
                self.assertEqual(p.stdout.decode(), "hello once ['%d']\n" % code)
                self.assertRegex(err, r"procwait watch: tier 0 \(-\) ready in ")
                self.assertRegex(err, r"procwait watch: exit %d in " % code)
                self.assert_nothing_left()

    def test_once_killed_run_and_failures(self):
        self.write("k.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
        self.write("t.py", "print('never')\n")
        for args, code, words in (
                (["--", "k.py"], 128 + 9, "killed by signal 9"),
                (["--tier", "pw_no_such_mod", "--", "t.py"], 1,
                 "tier 1 (pw_no_such_mod) failed"),
                (["--"], 2, "no python arguments given"),
                ([], 2, "no python arguments given")):
            with self.subTest(args=args):
                p = subprocess.run(WATCH + ["--once"] + args, cwd=self.proj, env=self.env(),
                                   stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=60)
                err = p.stderr.decode("utf-8", "replace")
                self.assertEqual(p.returncode, code, err)
                self.assertIn(words, err)
                self.assertEqual(p.stdout, b"")
                self.assert_nothing_left()

    def test_once_with_tiers(self):
        self.write("a.py", "import os\nLOADED = os.getpid()\n")
        self.write("t.py", """\
            import os, a
            print("ppid-is-tier", os.getppid() == a.LOADED, os.getpid() != a.LOADED)
            """)
        p = subprocess.run(WATCH + ["--once", "--preload", "json", "--tier", "a", "--", "t.py"],
                           cwd=self.proj, env=self.env(), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(p.stdout.decode(), "ppid-is-tier True True\n",
                         "the run is not a child of the last tier")
        self.assert_nothing_left()


# ---- tiers and changes -----------------------------------------------------------------------

A_SRC = """\
import os
LOADED = os.getpid()
"""

B_SRC = """\
import os
import a
LOADED = os.getpid()
"""

T_SRC = """\
import a, b
V = %d
print("RUN a=%%d b=%%d v=%%d" %% (a.LOADED, b.LOADED, V), flush=True)
"""


class TiersTest(WatchTestCase):

    def start_tiers(self, debounce="0.1"):
        self.write("a.py", A_SRC)
        self.write("b.py", B_SRC)
        self.write("t.py", T_SRC % 1)
        proc, out = self.start_watch("--preload", "json", "--tier", "a", "--tier", "b",
                                     "--debounce", debounce, "--", "t.py")
        pids = {}
        for k, mods in ((0, "json"), (1, "a"), (2, "b")):
            m = out.expect("err", READY_RE, what="tier %d ready" % k)
            self.assertEqual((int(m.group(1)), m.group(2)), (k, mods), out.transcript())
            pids[k] = self.record(m.group(3))
        run = self.expect_run(out)
        self.assertEqual(run, (pids[1], pids[2], 1),
                         "a and b must be loaded by tiers 1 and 2 (tier pids %r)" % pids)
        return proc, out, pids

    def expect_run(self, out, what="a run"):
        m = out.expect("out", RUN_RE, what=what)
        out.expect("err", r"^procwait watch: exit 0 in ", what="the exit of " + what)
        return int(m.group(1)), int(m.group(2)), int(m.group(3))

    def step(self, out, action, changed):
        """Do action; expect 'changed: <changed>', a run, its exit. Returns
        (the run's (a, b, v), the stderr lines of the step, new tier pids)."""
        mark = out.mark("err")
        action()
        out.expect("err", r"^procwait watch: changed: %s$" % re.escape(changed),
                   what="the change of %s" % changed)
        run = self.expect_run(out, "the run after %s changed" % changed)
        lines = out.since("err", mark)
        ready = {}
        for ln in lines:
            m = re.match(READY_RE, ln)
            if m:
                ready[int(m.group(1))] = self.record(m.group(3))
        return run, lines, ready

    def test_restart_from_the_tier_that_loaded_the_file(self):
        proc, out, pids = self.start_tiers()

        run, lines, ready = self.step(out, lambda: self.write("t.py", T_SRC % 2), "t.py")
        self.assertEqual(run, (pids[1], pids[2], 2), "after a t.py edit")
        self.assertEqual(ready, {}, "no tier restarts for t.py: %r" % lines)
        self.assertFalse([ln for ln in lines if "restarting" in ln], lines)

        run, lines, ready = self.step(out, lambda: self.write("b.py", B_SRC + "# 2\n"),
                                      "b.py")
        self.assertIn("procwait watch: restarting tier 2", lines)
        self.assertEqual(set(ready), {2}, "only tier 2 restarts: %r" % lines)
        self.assertNotEqual(ready[2], pids[2])
        self.assertEqual(run, (pids[1], ready[2], 2), "after a b.py edit")
        pids[2] = ready[2]

        run, lines, ready = self.step(out, lambda: self.write("a.py", A_SRC + "# 2\n"),
                                      "a.py")
        self.assertIn("procwait watch: restarting tier 1 and below", lines)
        self.assertEqual(set(ready), {1, 2}, "tiers 1 and 2 restart: %r" % lines)
        self.assertNotIn(ready[1], pids.values())
        self.assertNotIn(ready[2], pids.values())
        self.assertEqual(run, (ready[1], ready[2], 2), "after an a.py edit")
        self.assertTrue(running(pids[0], self.seen[pids[0]]), "tier 0 must be kept")
        replaced = [p for p in self.seen if p not in (pids[0], ready[1], ready[2])]
        self.assertEqual(len(replaced), 3, self.seen)
        for old in replaced:
            self.assertFalse(running(old, self.seen[old]), "the replaced tier %d still runs"
                             % old)
        self.assertIsNone(proc.poll())

    def test_files_no_tier_loaded_just_rerun(self):
        proc, out, pids = self.start_tiers()
        same = (pids[1], pids[2], 1)

        def check(action, changed):
            run, lines, ready = self.step(out, action, changed)
            self.assertEqual(run, same, "after %s changed" % changed)
            self.assertEqual(ready, {}, "no tier restarts for %s: %r" % (changed, lines))
            self.assertFalse([ln for ln in lines if "restarting" in ln], lines)

        extra = os.path.join(self.proj, "extra_new.py")
        check(lambda: self.create("extra_new.py", "X = 1\n"), "extra_new.py")
        check(lambda: os.unlink(extra), "extra_new.py")
        newdir = os.path.join(self.proj, "newpkg")
        check(lambda: os.mkdir(newdir), "newpkg")
        # the new directory is watched now: a file in it re-runs
        check(lambda: self.create("newpkg/inner.py", "Y = 1\n"), "newpkg/inner.py")
        check(lambda: self.write("newpkg/inner.py", "Y = 2\n"), "newpkg/inner.py")
        self.assertIsNone(proc.poll())

    def test_temporary_and_ignored_files_do_not_run(self):
        # A longer debounce: the temporary file below must be created and
        # removed within it even on a loaded machine.
        proc, out, pids = self.start_tiers(debounce="0.5")
        os.mkdir(os.path.join(self.proj, "sub"))
        out.expect("err", r"^procwait watch: changed: sub$", what="the new directory")
        self.assertEqual(self.expect_run(out), (pids[1], pids[2], 1))
        # sed -i's temporary file, created and gone within the debounce
        # time, in the top directory and in the new one; then names the
        # watcher ignores (hidden, backup, bytecode, __pycache__).
        for d in (self.proj, os.path.join(self.proj, "sub")):
            tmp = os.path.join(d, "sedAb3xYz")
            with open(tmp, "w") as f:
                f.write("x\n")
            os.unlink(tmp)
        self.write(".hidden.py", "h = 1\n")
        self.write("t.py~", "backup\n")
        self.write("stale.pyc", "")
        self.write("sub/.b.py.swp", "s\n")
        os.mkdir(os.path.join(self.proj, "__pycache__"))
        self.write("__pycache__/c.py", "c = 1\n")
        out.assert_quiet("err", r"^procwait watch: (changed|exit|restarting)", 1.5,
                         "a temporary or ignored file caused a run")
        out.assert_quiet("out", r"^RUN ", 0.0, "a temporary or ignored file caused a run")
        # and the next real change is reported alone
        run, lines, ready = self.step(out, lambda: self.write("t.py", T_SRC % 3), "t.py")
        self.assertEqual(run, (pids[1], pids[2], 3))
        self.assertEqual([ln for ln in lines if "changed:" in ln],
                         ["procwait watch: changed: t.py"], lines)
        self.assertIsNone(proc.poll())

    def test_change_during_a_run_stops_it(self):
        self.write("a.py", A_SRC)
        self.write("b.py", B_SRC)
        slow = ("import os, time, a, b\nV = %d\n"
                "print('RUN pid=%%d v=%%d' %% (os.getpid(), V), flush=True)\n"
                "if V == 1:\n    time.sleep(60)\n")
        self.write("t.py", slow % 1)
        proc, out = self.start_watch("--preload", "json", "--tier", "a", "--tier", "b",
                                     "--debounce", "0.1", "--", "t.py")
        m = out.expect("out", r"^RUN pid=(\d+) v=1$", what="the first run")
        first = self.record(m.group(1))
        self.write("t.py", slow % 2)
        out.expect("err", r"^procwait watch: changed: t\.py$", what="the t.py change")
        m = out.expect("out", r"^RUN pid=(\d+) v=(\d+)$", what="the second run")
        self.assertEqual(m.group(2), "2", out.transcript())
        self.assertNotEqual(self.record(m.group(1)), first)
        out.expect("err", r"^procwait watch: exit 0 in ", what="the second run's exit")
        self.assertFalse(running(first, self.seen[first]),
                         "the run in progress was not stopped by the change")

    def test_a_failing_tier_is_reported_and_retried(self):
        proc, out, pids = self.start_tiers()
        mark = out.mark("err")
        self.write("b.py", B_SRC + "def broken(:\n")
        out.expect("err", r"^procwait watch: changed: b\.py$", what="the b.py change")
        out.expect("err", r"^procwait watch: restarting tier 2$", what="restarting tier 2")
        m = out.expect("err", r"^procwait watch: tier 2 \(b\) failed: (.*)$",
                       what="tier 2's failure")
        self.assertIn("b", m.group(1))
        self.assertTrue(any("SyntaxError" in ln for ln in out.since("err", mark)),
                        out.transcript())
        out.assert_quiet("err", r"^procwait watch: (exit|killed by|no status|changed)",
                         1.0, "a run after tier 2 failed")
        out.assert_quiet("out", r"^RUN ", 0.0, "a run after tier 2 failed")
        self.assertIsNone(proc.poll(), "the watcher exited after a failing tier")
        self.assertTrue(running(pids[1], self.seen[pids[1]]), "tier 1 must be kept")

        run, lines, ready = self.step(out, lambda: self.write("b.py", B_SRC), "b.py")
        self.assertIn("procwait watch: restarting tier 2", lines)
        self.assertEqual(set(ready), {2}, lines)
        self.assertEqual(run, (pids[1], ready[2], 1), "the run after b.py was fixed")


# ---- stopping ------------------------------------------------------------------------------

class StopTest(WatchTestCase):

    def run_and_stop(self, signo, to_group):
        self.write("a.py", A_SRC)
        self.write("b.py", B_SRC)
        self.write("t.py", """\
            import os, time, a, b
            print("RUN pid=%d" % os.getpid(), flush=True)
            time.sleep(60)
            """)
        proc, out = self.start_watch("--preload", "json", "--tier", "a", "--tier", "b",
                                     "--debounce", "0.1", "--", "t.py")
        for k in range(3):
            self.record(out.expect("err", READY_RE, what="tier %d ready" % k).group(3))
        run = self.record(out.expect("out", r"^RUN pid=(\d+)$", what="the run").group(1))
        self.assertTrue(running(run), "the run is not running")
        self.assertEqual(len(self.seen), 4, self.seen)
        if to_group:
            os.killpg(proc.pid, signo)   # as a terminal's Ctrl-C
        else:
            os.kill(proc.pid, signo)
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            out.drain(0.5)
            self.fail("the watcher did not exit within 20s of signal %d\n%s"
                      % (signo, out.transcript()))
        out.drain(5)
        self.assertIn(rc, (128 + signo, -signo), out.transcript())
        self.assert_nothing_left()

    def test_sigterm_while_tier0_starts_leaves_no_process(self):
        # tier 0 is a subprocess in its own session: stopping the watcher
        # while it still imports (a slow --preload) must stop it too.
        marker = os.path.join(self.tmp, "importing")
        self.write("pw_slow.py", """\
            import time
            open(%r, "w").close()
            time.sleep(30)
            """ % marker)
        self.write("t.py", "print('RUN')\n")
        proc, out = self.start_watch("--preload", "pw_slow", "--", "t.py")
        deadline = time.monotonic() + STEP
        while not os.path.exists(marker):
            self.assertLess(time.monotonic(), deadline, "tier 0 never started importing")
            self.assertIsNone(proc.poll(), "the watcher exited")
            time.sleep(0.02)
        tier0 = [p for p in procs_under(self.tmp) if p != proc.pid]
        self.assertEqual(len(tier0), 1, "tier 0 is not running: %r" % tier0)
        self.record(tier0[0])
        os.kill(proc.pid, signal.SIGTERM)
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            self.fail("the watcher did not exit within 20s of SIGTERM")
        self.assertIn(rc, (128 + signal.SIGTERM, -signal.SIGTERM))
        self.assert_nothing_left(5.0)

    def test_sigterm_leaves_no_process(self):
        self.run_and_stop(signal.SIGTERM, False)

    def test_sighup_leaves_no_process(self):
        self.run_and_stop(signal.SIGHUP, False)

    def test_ctrl_c_leaves_no_process(self):
        self.run_and_stop(signal.SIGINT, True)


if __name__ == "__main__":
    unittest.main()
