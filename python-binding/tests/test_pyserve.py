"""python3 -m procwait serve: the report line, preloading once, a failing
preload, bad command lines, the children's exit statuses, sys.argv and
sys.path[0] as a plain interpreter's, stdio/env/cwd of the request, stop by
signal, --idle, the stale check (an edited preloaded module), the frozen
heap. Driven with procwait._forkserver.Client."""
import errno
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import textwrap
import time
import unittest

from procwait import _lib

from tests import _util
from tests._util import (BINDING_DIR, PYTHON, default_signals, kill_leftovers,
                         procs_under, running, starttime, stop_group_leader)

SERVE = [PYTHON, "-m", "procwait", "serve"]


def setUpModule():
    if not _lib.has_forkserver():
        raise unittest.SkipTest("this libprocwait has no fork server (it is built "
                                "on Linux only)")


# ---- processes ------------------------------------------------------------------

def _read_until_eof(fds, timeout, what="the child"):
    """Read every fd in fds to EOF (select, with a deadline): list of bytes."""
    data = {fd: b"" for fd in fds}
    left_open = set(fds)
    deadline = time.monotonic() + timeout
    while left_open:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("%s did not close its output within %.0fs "
                                 "(read so far: %r)" % (what, timeout, list(data.values())))
        r, _, _ = select.select(list(left_open), [], [], left)
        for fd in r:
            chunk = os.read(fd, 65536)
            if chunk:
                data[fd] += chunk
            else:
                left_open.discard(fd)
    return [data[fd] for fd in fds]


def _read_line(fd, timeout, what):
    """One line (or what came before EOF) from fd, within timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no line from %s within %.0fs (so far %r)"
                                 % (what, timeout, data))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    return data


def _wait_gone(pids, timeout, what):
    """pids is {pid: starttime}; fail unless all are gone within timeout."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p, st in pids.items() if running(p, st)]
        if not alive:
            return
        if time.monotonic() > deadline:
            raise AssertionError("%s still running %.0fs later: pids %r"
                                 % (what, timeout, alive))
        time.sleep(0.02)


class ServeTestCase(unittest.TestCase):
    """A private temp dir; servers started as subprocesses, clients and
    children tracked and killed at the end whatever happens."""

    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="pw-serve-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self._kill_leftovers)
        self.mods = self._mkdir("mods")          # preloaded modules
        self.proj = self._mkdir("proj")          # children's cwd
        self.sockdir = self._mkdir("sock")       # private (0700) for the socket
        self.srvdir = self._mkdir("srv")         # the server's cwd
        self.sock = os.path.join(self.sockdir, "s.sock")
        self.children = {}
        # What a request sends: a small, known environment.
        self.child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                          "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}

    def _mkdir(self, name):
        d = os.path.join(self.tmp, name)
        os.mkdir(d, 0o700)
        return d

    def _kill_leftovers(self):
        kill_leftovers(self.children, self.tmp)

    def write(self, path, text):
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    # ---- the server -----------------------------------------------------------

    def server_env(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([BINDING_DIR, self.mods])
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PW_SERVER_ONLY"] = "server"
        return env

    def start_server(self, *args, expect_report=True):
        """python3 -m procwait serve --socket S --report-fd W ARGS; returns
        (proc, the report line decoded from JSON)."""
        r, w = os.pipe()
        self.errfile = os.path.join(self.tmp, "server%d.err" % len(os.listdir(self.tmp)))
        err = open(self.errfile, "wb")
        try:
            proc = subprocess.Popen(SERVE + ["--socket", self.sock, "--report-fd", str(w)]
                                    + list(args), pass_fds=(w,), cwd=self.srvdir,
                                    env=self.server_env(), stdin=subprocess.DEVNULL,
                                    stdout=err, stderr=err, start_new_session=True,
                                    preexec_fn=default_signals)
        finally:
            err.close()
            os.close(w)
        self.addCleanup(self._stop_server, proc)
        try:
            line = _read_line(r, 30, "the server's report fd")
        finally:
            os.close(r)
        self.assertTrue(line.endswith(b"\n"),
                        "the report is not one full line: %r; server stderr: %s"
                        % (line, self.server_err()))
        rep = json.loads(line.decode("utf-8"))
        if expect_report:
            self.assertIn("pid", rep, "the server reported %r; stderr: %s"
                          % (rep, self.server_err()))
        return proc, rep

    def server_err(self):
        try:
            with open(self.errfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""

    def _stop_server(self, proc):
        stop_group_leader(proc, 10)

    def wait_server(self, proc, timeout, what):
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail("the server did not exit within %.0fs %s; stderr: %s"
                      % (timeout, what, self.server_err()))

    # ---- requests ---------------------------------------------------------------

    def client(self, sock=None):
        from procwait._forkserver import Client
        c = Client(sock or self.sock)
        self.addCleanup(c.close)
        return c

    def launch(self, args, env=None, cwd=None):
        """Start PYTHON ARGS on the server with pipes for stdio; returns
        (client, pid, stdin_w, stdout_r, stderr_r, inodes of the three
        pipes the child was given)."""
        c = self.client()
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        for fd in (in_w, out_r, err_r):
            self.addCleanup(_close_quietly, fd)
        inodes = [os.fstat(fd).st_ino for fd in (in_r, out_w, err_w)]
        try:
            pid = c.start([PYTHON] + list(args),
                          env=self.child_env if env is None else env,
                          cwd=self.proj if cwd is None else cwd,
                          stdin=in_r, stdout=out_w, stderr=err_w)
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        self.children[pid] = starttime(pid)
        return c, pid, in_w, out_r, err_r, inodes

    def request(self, args, stdin=b"", env=None, cwd=None, timeout=20.0):
        """Run PYTHON ARGS on the server: (returncode, stdout, stderr, pid)."""
        c, pid, in_w, out_r, err_r, _ = self.launch(args, env=env, cwd=cwd)
        try:
            if stdin:
                os.write(in_w, stdin)
        except BrokenPipeError:
            pass
        os.close(in_w)
        out, err = _read_until_eof([out_r, err_r], timeout, "the child of %r" % (args,))
        res = c.wait(timeout)
        self.assertIsNotNone(res, "no exit status for %r within %.0fs" % (args, timeout))
        code, timed_out = res
        self.assertFalse(timed_out)
        return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), pid

    def plain(self, args, stdin=b"", env=None, cwd=None):
        """The same command line in a fresh interpreter: (rc, out, err)."""
        # (the served child's signal state is python's defaults: the plain
        # one starts from the same state, whatever runs the tests ignores)
        p = subprocess.run([PYTHON] + list(args), input=stdin, capture_output=True,
                           preexec_fn=default_signals,
                           env=self.child_env if env is None else env,
                           cwd=self.proj if cwd is None else cwd, timeout=30)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")

    def _same_json_as_plain(self, cases, what):
        """For each (args, stdin) of cases, in a subtest: the served child
        and a fresh interpreter both exit 0 with nothing on stderr, and print
        the same JSON on stdout (what: what it holds, for the message)."""
        for args, stdin in cases:
            with self.subTest(args=args):
                code, out, err, _ = self.request(args, stdin=stdin)
                pcode, pout, perr = self.plain(args, stdin=stdin)
                self.assertEqual((pcode, perr), (0, ""), "plain python failed")
                self.assertEqual((code, err), (0, ""), "the served child failed")
                self.assertEqual(json.loads(out), json.loads(pout),
                                 "%s differ from plain python's" % what)


def _close_quietly(fd):
    try:
        os.close(fd)
    except OSError:
        pass


# ---- the report, preloading ---------------------------------------------------------

class ReportTest(ServeTestCase):

    def test_report_line_and_preload_imported_once(self):
        log = os.path.join(self.tmp, "imports.log")
        mod = self.write(os.path.join(self.mods, "pw_pre.py"), """\
            import os
            with open(%r, "a") as f:
                f.write("%%d\\n" %% os.getpid())
            VALUE = 42
            """ % log)
        proc, rep = self.start_server("--preload", "pw_pre,json")
        self.assertEqual(set(rep), {"pid", "socket", "modules", "files"}, rep)
        self.assertEqual(rep["pid"], proc.pid)
        self.assertEqual(rep["socket"], self.sock)
        self.assertTrue(stat.S_ISSOCK(os.stat(self.sock).st_mode),
                        "%s is not a socket" % self.sock)
        self.assertIsInstance(rep["modules"], int)
        self.assertGreater(rep["modules"], 0)
        self.assertIsInstance(rep["files"], list)
        self.assertTrue(all(isinstance(f, str) and os.path.isabs(f) for f in rep["files"]),
                        rep["files"])
        self.assertEqual(rep["files"], sorted(rep["files"]))
        self.assertIn(mod, rep["files"])
        self.assertIn(os.path.abspath(json.__file__), rep["files"])

        pids = set()
        for i in range(3):
            code, out, err, pid = self.request(
                ["-c", "import os, sys, pw_pre; print(os.getppid(), pw_pre.VALUE, os.getpid())"])
            self.assertEqual((code, err), (0, ""), "request %d" % i)
            self.assertEqual(out.split(), [str(proc.pid), "42", str(pid)],
                             "request %d: the child's parent is not the server" % i)
            pids.add(pid)
        self.assertEqual(len(pids), 3, "three requests, three children: %r" % pids)
        with open(log) as f:
            self.assertEqual(f.read().split(), [str(proc.pid)],
                             "pw_pre must be imported once, by the server")

    def test_failing_preload(self):
        self.write(os.path.join(self.mods, "pw_bad.py"), """\
            import os
            raise RuntimeError("pw_bad import exploded")
            """)
        for spec, words in (("json,pw_bad", ["pw_bad", "pw_bad import exploded"]),
                            ("pw_no_such_module", ["pw_no_such_module"])):
            with self.subTest(preload=spec):
                proc, rep = self.start_server("--preload", spec, expect_report=False)
                self.assertEqual(set(rep), {"error"}, "report: %r" % rep)
                rc = self.wait_server(proc, 20, "after a failed preload")
                self.assertEqual(rc, 1, "exit status after a failed preload")
                err = self.server_err()
                for w in words:
                    self.assertIn(w, rep["error"], "the JSON error: %r" % rep["error"])
                    self.assertIn(w, err, "the server's stderr")
                self.assertFalse(os.path.lexists(self.sock),
                                 "a failed server left its socket behind")
                self.assertEqual(os.listdir(self.sockdir), [])

    def test_bad_command_lines(self):
        cases = [
            (["--no-such-option"], "unrecognized arguments"),
            (["--max-children", "-1"], "max-children"),
            (["--max-children", "many"], "max-children"),
            (["--idle", "-1"], "idle"),
            (["--idle", "abc"], "idle"),
            (["--idle", "nan"], "idle"),
            (["--idle", "inf"], "idle"),
            (["--preload", "a;b"], "not a module name"),
            (["--preload", "json", "--name", "pw-test"], "not allowed with"),
        ]
        for args, word in cases:
            with self.subTest(args=args):
                p = subprocess.run(SERVE + ["--socket", self.sock] + args,
                                   capture_output=True, cwd=self.srvdir,
                                   env=self.server_env(), stdin=subprocess.DEVNULL,
                                   timeout=30)
                err = p.stderr.decode("utf-8", "replace")
                self.assertEqual(p.returncode, 2, "stderr: %s" % err)
                self.assertIn(word, err)
                self.assertEqual(p.stdout, b"")
                self.assertEqual(os.listdir(self.sockdir), [],
                                 "a refused command line left files behind")
                self.assertEqual(procs_under(self.tmp), [],
                                 "a refused command line left processes behind")


# ---- the children ---------------------------------------------------------------------

class ChildStatusTest(ServeTestCase):

    def test_exit_statuses_are_a_plain_pythons(self):
        self.start_server("--preload", "json")
        cases = [
            ("ok.py", "x = 1\n", 0),
            ("exit3.py", "import sys\nsys.exit(3)\n", 3),
            ("exitstr.py", "import sys\nsys.exit('x')\n", 1),
            ("raises.py", "def inner(n):\n    raise ValueError('boom %d' % n)\n\n"
                          "def outer():\n    inner(42)\n\nouter()\n", 1),
            ("osexit.py", "import os\nos._exit(7)\n", 7),
            ("sigkill.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", -9),
            ("kbint.py", "def f():\n    raise KeyboardInterrupt\n\nf()\n", -2),
            ("syntax.py", "x = 1\ndef (:\n", 1),
        ]
        for name, src, want in cases:
            with self.subTest(script=name):
                path = self.write(os.path.join(self.proj, name), src)
                code, out, err, _ = self.request([name])
                pcode, pout, perr = self.plain([name])
                self.assertEqual(pcode, want, "plain python: %s" % perr)
                self.assertEqual(code, want, "served child's stderr: %s" % err)
                self.assertEqual(out, pout)
                if name == "exitstr.py":
                    self.assertEqual(err, "x\n")
                if name in ("raises.py", "kbint.py", "syntax.py"):
                    self.assertNotIn("_pyrun", err)
                    self.assertNotIn("procwait", err)
                    frames = [ln for ln in err.splitlines() if ln.startswith('  File ')]
                    self.assertTrue(frames, err)
                    for ln in frames:
                        self.assertTrue(ln.startswith('  File "%s", line ' % path),
                                        "a frame that is not the script's: %r in\n%s"
                                        % (ln, err))
                    self.assertEqual(err, perr, "the traceback differs from plain python's")
                if want == 0:
                    self.assertEqual(err, "")

    def test_command_module_script_stdin(self):
        self.start_server("--preload", "json")
        probe = ("import json, sys\n"
                 "print(json.dumps([sys.argv, sys.path[0], sys.orig_argv, __name__,\n"
                 "                  getattr(globals().get('__spec__'), 'name', None),\n"
                 "                  sys.modules['__main__'].__dict__ is globals()]))\n")
        self.write(os.path.join(self.proj, "probe.py"), probe)
        self.write(os.path.join(self.proj, "pw_probemod.py"), probe)
        os.mkdir(os.path.join(self.proj, "sub"))
        self.write(os.path.join(self.proj, "sub", "deep.py"), probe)
        os.mkdir(os.path.join(self.proj, "pw_pkg"))
        self.write(os.path.join(self.proj, "pw_pkg", "__init__.py"), "")
        self.write(os.path.join(self.proj, "pw_pkg", "__main__.py"), probe)
        os.mkdir(os.path.join(self.proj, "appdir"))
        self.write(os.path.join(self.proj, "appdir", "__main__.py"), probe)
        cases = [
            (["-c", probe, "a1", "-b"], b""),
            (["-uc", probe, "a1"], b""),
            (["-m", "pw_probemod", "a1", "--x"], b""),
            (["-B", "-mpw_probemod"], b""),
            (["probe.py", "a1", "-c"], b""),
            ([os.path.join(self.proj, "probe.py"), "a1"], b""),
            (["sub/deep.py"], b""),
            (["-q", "-u", "sub/deep.py", "z"], b""),
            (["-m", "pw_pkg", "p1"], b""),
            (["appdir", "d1"], b""),
            (["-", "a1", "a2"], probe.encode()),
            ([], probe.encode()),
        ]
        self._same_json_as_plain(cases, "[sys.argv, sys.path[0], sys.orig_argv, __name__, "
                                        "__spec__.name, __main__]")

    def test_script_path_kept_as_spelled(self):
        # python makes the script's path absolute without normalising it:
        # `python3 ./t.py` has __file__ /cwd/./t.py, and its tracebacks say so.
        self.start_server()
        self.write(os.path.join(self.proj, "probe.py"),
                   "import sys\nprint(__file__)\nprint(sys.argv[0])\n"
                   "def f():\n    raise ValueError(7)\nf()\n")
        os.mkdir(os.path.join(self.proj, "sub"))
        for script in ("./probe.py", "sub/../probe.py"):
            with self.subTest(script=script):
                code, out, err, _ = self.request([script])
                pcode, pout, perr = self.plain([script])
                self.assertEqual(pout.splitlines()[0], os.path.join(self.proj, script),
                                 "plain python's own __file__")
                self.assertEqual((code, out), (pcode, pout),
                                 "__file__ differs from plain python's")
                self.assertEqual(err, perr, "the traceback differs from plain python's")

    def test_main_file_in_each_form(self):
        # A script read from standard input has __file__ "<stdin>" (and
        # __cached__ None) in python; -c has no __file__.
        self.start_server()
        probe = ("import json\n"
                 "print(json.dumps([globals().get('__file__', 'unset'),\n"
                 "                  globals().get('__cached__', 'unset')]))\n")
        self.write(os.path.join(self.proj, "probe.py"), probe)
        self.write(os.path.join(self.proj, "pw_probemod.py"), probe)
        self._same_json_as_plain(((["-c", probe], b""), (["-m", "pw_probemod"], b""),
                                  (["probe.py"], b""), (["-"], probe.encode()),
                                  ([], probe.encode())),
                                 "[__file__, __cached__] of __main__")

    def test_errors_in_each_form_are_a_plain_pythons(self):
        self.start_server("--preload", "json")
        self.write(os.path.join(self.proj, "pw_raisemod.py"),
                   "def f():\n    raise LookupError('from a module')\n\nf()\n")
        cases = [
            (["-c", "def f():\n    1/0\nf()"], b""),
            (["-m", "pw_raisemod"], b""),
            (["-m", "pw_no_such_mod"], b""),
            (["no_such_file.py"], b""),
            (["-"], b"import sys\nsys.stdout.write('partial\\n')\nraise OSError(5, 'x')\n"),
            ([], b"def (:\n"),
        ]
        for args, stdin in cases:
            with self.subTest(args=args):
                code, out, err, _ = self.request(args, stdin=stdin)
                pcode, pout, perr = self.plain(args, stdin=stdin)
                self.assertNotEqual(pcode, 0)
                self.assertEqual((code, out, err), (pcode, pout, perr),
                                 "status, stdout and stderr differ from plain python's")
                self.assertNotIn("_pyrun", err)

    def test_unsupported_option(self):
        self.start_server()
        for args, opt in ((["-X", "dev", "-c", "print(1)"], "-X"),
                          (["-I", "-c", "print(1)"], "-I"),
                          (["-W", "error", "probe.py"], "-W")):
            with self.subTest(args=args):
                code, out, err, _ = self.request(args)
                self.assertEqual(code, 2, err)
                self.assertEqual(out, "")
                self.assertIn("procwait: option %s needs a fresh interpreter" % opt, err)

    def test_gc_enabled_and_heap_frozen(self):
        self.start_server("--preload", "json")
        code, out, err, _ = self.request(
            ["-c", "import gc, json; print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))"])
        self.assertEqual((code, err), (0, ""))
        enabled, frozen = json.loads(out)
        self.assertIs(enabled, True, "the collector is off in the child")
        self.assertGreater(frozen, 0, "the child did not inherit a frozen heap")


class FreshStateTest(ServeTestCase):

    def test_signal_state_is_a_plain_pythons(self):
        self.start_server("--preload", "json")
        probe = ("import json, signal\n"
                 "st = dict(l.split(':', 1) for l in open('/proc/self/status')\n"
                 "          if l.startswith(('SigBlk', 'SigIgn', 'SigCgt')))\n"
                 "h = {int(s): repr(signal.getsignal(s)) for s in signal.valid_signals()\n"
                 "     if signal.getsignal(s) is not signal.SIG_DFL}\n"
                 "print(json.dumps([{k: v.strip() for k, v in st.items()}, h]))\n")
        code, out, err, _ = self.request(["-c", probe])
        pcode, pout, perr = self.plain(["-c", probe])
        self.assertEqual((pcode, perr), (0, ""))
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(json.loads(out), json.loads(pout),
                         "signal mask, ignored/caught signals or handlers differ from "
                         "plain python's")

    def test_signals_through_the_client(self):
        self.start_server()
        for signo, want, word in ((signal.SIGINT, -signal.SIGINT, "KeyboardInterrupt"),
                                  (signal.SIGTERM, -signal.SIGTERM, "")):
            with self.subTest(signal=signo):
                c, pid, in_w, out_r, err_r, _ = self.launch(
                    ["-c", "import time\nprint('up', flush=True)\ntime.sleep(60)\n"])
                self.assertEqual(_read_line(out_r, 20, "the child"), b"up\n")
                c.send_signal(signo)
                os.close(in_w)
                out, err = _read_until_eof([out_r, err_r], 20)
                self.assertEqual(c.wait(20), (want, False), err)
                self.assertIn(word, err.decode())

    def test_u_flag_unbuffers_stdout(self):
        self.start_server()
        for args in (["-u", "-c"], ["-uc"]):
            with self.subTest(args=args):
                c, pid, in_w, out_r, err_r, _ = self.launch(
                    args + ["import sys\nsys.stdout.write('early')\nsys.stdin.read()\n"])
                data = b""
                deadline = time.monotonic() + 20
                while data != b"early" and time.monotonic() < deadline:
                    r, _, _ = select.select([out_r], [], [], deadline - time.monotonic())
                    if r:
                        data += os.read(out_r, 100)
                self.assertEqual(data, b"early", "-u: the write did not reach the pipe "
                                                 "before the exit")
                os.close(in_w)
                _read_until_eof([out_r, err_r], 20)
                self.assertEqual(c.wait(20), (0, False))

    def _three_children_differ(self, preload, code, what):
        """Three children of a server preloading preload run code (exit 0,
        nothing on stderr): their outputs must all differ."""
        self.start_server("--preload", preload)
        outs = set()
        for i in range(3):
            rc, out, err, _ = self.request(["-c", code])
            self.assertEqual((rc, err), (0, ""))
            outs.add(out)
        self.assertEqual(len(outs), 3, "children share %s: %r" % (what, outs))

    def test_random_is_reseeded_per_child(self):
        self._three_children_differ("random", "import random; print(random.getrandbits(64))",
                                    "the random state")

    def test_numpy_global_generator_is_reseeded_per_child(self):
        try:
            import numpy  # noqa: F401
        except ImportError:
            self.skipTest("numpy is not installed (apt-get install python3-numpy)")
        self._three_children_differ(
            "numpy", "import numpy; print(numpy.random.randint(0, 2**62, 4).tolist(), "
                     "numpy.random.standard_normal())", "numpy's global state")

    def test_real_world_preload_pytest(self):
        # pytest loads importlib.metadata: a child's set-up once failed on
        # it (every child exited 127), which tiny preload sets never see.
        try:
            import pytest  # noqa: F401
        except ImportError:
            self.skipTest("pytest is not installed (apt-get install python3-pytest)")
        self.start_server("--preload", "pytest,importlib.metadata")
        self.write(os.path.join(self.proj, "test_one.py"), """\
            def test_ok():
                assert 1 + 1 == 2
            """)
        code, out, err, _ = self.request(["-m", "pytest", "-q", "-p", "no:cacheprovider",
                                          "test_one.py"])
        self.assertEqual(code, 0, "pytest through the server: %s%s" % (out, err))
        self.assertIn("1 passed", out)


class StdioEnvCwdTest(ServeTestCase):

    def test_stdio_are_the_given_pipes(self):
        self.start_server()
        c, pid, in_w, out_r, err_r, inodes = self.launch(
            ["-c", "import json, os, sys\n"
                   "data = sys.stdin.read()\n"
                   "print(json.dumps([os.fstat(i).st_ino for i in (0, 1, 2)]))\n"
                   "print(data.upper(), end='')\n"
                   "sys.stderr.write('err:' + data)\n"])
        os.write(in_w, b"hello pipes\n")
        os.close(in_w)
        out, err = _read_until_eof([out_r, err_r], 20, "the child")
        self.assertEqual(c.wait(20), (0, False), err)
        first, rest = out.decode().split("\n", 1)
        self.assertEqual(json.loads(first), inodes,
                         "the child's 0, 1, 2 are not the pipes given to start()")
        self.assertEqual(rest, "HELLO PIPES\n")
        self.assertEqual(err, b"err:hello pipes\n")

    def test_env_is_exactly_the_given_one(self):
        self.start_server()
        env = dict(self.child_env, PW_ONE="1", PW_SPACE="a b=c", PW_EMPTY="",
                   PW_UNI="h\u00e9")
        code, out, err, _ = self.request(
            ["-c", "import ctypes, json, os\n"
                   "libc = ctypes.CDLL(None)\n"
                   "libc.getenv.restype = ctypes.c_char_p\n"
                   "print(json.dumps([dict(os.environ), libc.getenv(b'PW_SPACE').decode(),\n"
                   "                  libc.getenv(b'PW_SERVER_ONLY')]))\n"], env=env)
        self.assertEqual((code, err), (0, ""))
        environ, c_space, c_server = json.loads(out)
        self.assertEqual(environ, env, "os.environ is not the request's environment")
        self.assertEqual(c_space, "a b=c", "getenv() in the child")
        self.assertIsNone(c_server, "the server's environment leaked into the child")

    def test_cwd_is_the_given_one(self):
        self.start_server()
        sub = os.path.join(self.proj, "work dir")
        os.mkdir(sub)
        self.write(os.path.join(sub, "here.txt"), "found\n")
        code, out, err, _ = self.request(
            ["-c", "import os; print(os.getcwd()); print(open('here.txt').read(), end='')"],
            cwd=sub)
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, sub + "\nfound\n")


# ---- stopping -------------------------------------------------------------------------

class StopTest(ServeTestCase):

    def test_sigterm_stops_server_and_children(self):
        proc, rep = self.start_server()
        c, pid, in_w, out_r, err_r, _ = self.launch(
            ["-c", "import time; print('up', flush=True); time.sleep(60)"])
        start = self.children[pid]
        self.assertEqual(_read_line(out_r, 20, "the child"), b"up\n")
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = self.wait_server(proc, 15, "after SIGTERM")
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, "exit status after SIGTERM; stderr: %s" % self.server_err())
        self.assertLess(elapsed, 8.0, "the server took %.1fs to stop" % elapsed)
        res = c.wait(10)
        self.assertIsNotNone(res, "no status for the child after the server stopped")
        self.assertEqual(res[0], -signal.SIGTERM, "the child's status: %r" % (res,))
        _wait_gone({pid: start}, 5, "the child of a stopped server")
        self.assertFalse(os.path.lexists(self.sock), "the socket is left behind")

    def test_killed_server_leaves_nothing_of_the_run(self):
        # The run's daemon left its process group and session; the server
        # is SIGKILLed: the client, which outlives it, kills the run's
        # cgroup before it reports the server lost.
        proc, rep = self.start_server()
        c, pid, in_w, out_r, err_r, _ = self.launch(
            ["-c", _util.DAEMON_SCRIPT + "import time\ntime.sleep(60)\n"])
        daemon = int(_read_line(out_r, 20, "the child"))
        dstart = starttime(daemon)
        if c.cgroup is None:
            self.assertFalse(_util.cgroups_expected(),
                             "root with a writable cgroup2 mount, yet the run has no "
                             "cgroup; server stderr: %s" % self.server_err())
            self.skipTest("runs get no cgroup here: %s" % self.server_err().strip())
        with open("/proc/%d/cgroup" % daemon) as f:
            v2 = [ln for ln in f.read().splitlines() if ln.startswith("0::")]
        self.assertTrue(v2 and c.cgroup.endswith(v2[0][3:]),
                        "the daemon is in %r, not in the run's cgroup %s" % (v2, c.cgroup))
        proc.kill()
        proc.wait(10)
        with self.assertRaises(ConnectionResetError):
            c.wait(20)
        _wait_gone({daemon: dstart}, 10, "the daemon of a killed server's run")
        self.assertFalse(os.path.exists(c.cgroup), "the run's cgroup %s is left" % c.cgroup)

    def test_sigint_stops_server(self):
        proc, rep = self.start_server()
        code, out, err, _ = self.request(["-c", "print('fine')"])
        self.assertEqual((code, out), (0, "fine\n"))
        proc.send_signal(signal.SIGINT)
        self.assertEqual(self.wait_server(proc, 15, "after SIGINT"), 0)
        self.assertFalse(os.path.lexists(self.sock), "the socket is left behind")

    def test_idle_exits_by_itself(self):
        proc, rep = self.start_server("--idle", "1")
        t0 = time.monotonic()
        self.assertEqual(self.wait_server(proc, 15, "with --idle 1"), 0)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertFalse(os.path.lexists(self.sock), "the socket is left behind")

    def test_idle_waits_for_a_running_child(self):
        proc, rep = self.start_server("--idle", "0.5")
        c, pid, in_w, out_r, err_r, _ = self.launch(
            ["-c", "import sys; sys.stdin.read(); print('done')"])
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            self.assertIsNone(proc.poll(), "the server went idle with a child running")
            time.sleep(0.05)
        os.close(in_w)
        out, err = _read_until_eof([out_r, err_r], 20)
        self.assertEqual(c.wait(20), (0, False))
        self.assertEqual(out, b"done\n")
        c.close()
        self.assertEqual(self.wait_server(proc, 15, "idle after its child ended"), 0)
        self.assertFalse(os.path.lexists(self.sock), "the socket is left behind")


# ---- the stale check ----------------------------------------------------------------

def _edit_in_place(path, text):
    with open(path, "w") as f:
        f.write(text)


def _edit_by_rename(path, text):
    tmp = os.path.join(os.path.dirname(path), "sedAb12Cd")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class StaleTest(ServeTestCase):

    def _long_child(self):
        """A child that runs until we write to its stdin, then exits 5."""
        c, pid, in_w, out_r, err_r, _ = self.launch(
            ["-c", "import sys; print('up', flush=True); sys.stdin.read(1); "
                   "import pw_stale; print(pw_stale.X); sys.exit(5)"])
        self.assertEqual(_read_line(out_r, 20, "the long child"), b"up\n")
        return c, in_w, out_r, err_r

    def _refused(self, timeout):
        """Poll with new requests until one is refused; the errno, or
        None when every request within timeout ran."""
        from procwait._forkserver import Client
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                c = Client(self.sock)
            except OSError as e:
                return e.errno
            try:
                try:
                    c.start([PYTHON, "-c", "pass"], env=self.child_env, cwd=self.proj)
                except OSError as e:
                    return e.errno
                self.assertEqual(c.wait(20), (0, False))
            finally:
                c.close()
            time.sleep(0.05)
        return None

    def test_edited_module_makes_server_stale(self):
        for edit in (_edit_in_place, _edit_by_rename):
            with self.subTest(edit=edit.__name__):
                if os.path.lexists(self.sock):
                    os.unlink(self.sock)
                mod = self.write(os.path.join(self.mods, "pw_stale.py"), "X = 1\n")
                proc, rep = self.start_server("--preload", "pw_stale")
                self.assertIn(mod, rep["files"])
                c, in_w, out_r, err_r = self._long_child()
                t0 = time.monotonic()
                edit(mod, "X = 2\n")
                e = self._refused(4.0)
                self.assertIn(e, (errno.ESTALE, errno.ENOENT, errno.ECONNREFUSED),
                              "new requests still run %.1fs after the edit (errno %r); "
                              "stderr: %s" % (time.monotonic() - t0, e, self.server_err()))
                self.assertFalse(os.path.lexists(self.sock),
                                 "a stale server must remove its socket")
                self.assertIsNone(proc.poll(), "the server exited before its child ended")
                os.write(in_w, b"x")
                out, err = _read_until_eof([out_r, err_r], 20, "the long child")
                self.assertEqual(c.wait(20), (5, False), err)
                self.assertEqual(out, b"1\n", "the child saw the preloaded module")
                self.assertEqual(self.wait_server(proc, 15, "after going stale"), 0)
                self.assertIn("pw_stale.py", self.server_err())

    def test_stale_server_leaves_a_newer_servers_socket(self):
        mod = self.write(os.path.join(self.mods, "pw_stale.py"), "X = 1\n")
        old, _ = self.start_server("--preload", "pw_stale")
        os.unlink(self.sock)     # as a newer server would replace it
        new, rep = self.start_server("--no-stale-check")
        ident = (os.stat(self.sock).st_dev, os.stat(self.sock).st_ino)
        _edit_in_place(mod, "X = 2\n")
        self.assertEqual(self.wait_server(old, 15, "after going stale (no children)"), 0)
        self.assertTrue(os.path.lexists(self.sock), "the stale server removed the newer "
                                                    "server's socket")
        self.assertEqual((os.stat(self.sock).st_dev, os.stat(self.sock).st_ino), ident)
        code, out, err, _ = self.request(["-c", "import os; print(os.getppid())"])
        self.assertEqual((code, out, err), (0, "%d\n" % new.pid, ""))
        self.assertIsNone(new.poll())

    def test_no_stale_check(self):
        mod = self.write(os.path.join(self.mods, "pw_stale.py"), "X = 1\n")
        proc, rep = self.start_server("--preload", "pw_stale", "--no-stale-check")
        c, in_w, out_r, err_r = self._long_child()
        _edit_in_place(mod, "X = 2\n")
        self.assertIsNone(self._refused(1.5), "a request was refused with --no-stale-check")
        self.assertTrue(os.path.lexists(self.sock), "the socket went away")
        self.assertIsNone(proc.poll(), "the server exited")
        code, out, err, _ = self.request(["-c", "import pw_stale; print(pw_stale.X)"])
        self.assertEqual((code, out, err), (0, "1\n", ""))
        os.write(in_w, b"x")
        _read_until_eof([out_r, err_r], 20, "the long child")
        self.assertEqual(c.wait(20), (5, False))
        self.assertIsNone(proc.poll(), "the server exited after its child ended")


if __name__ == "__main__":
    unittest.main()
