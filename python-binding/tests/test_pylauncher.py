"""procwait-python, the drop-in python3 that runs each command in a child
forked from a preloading fork server (python3 -m procwait serve): exit
statuses, stdin/env/cwd, sys.argv and sys.path[0], preloading and its
errors, edited files, a shared server, the idle exit, signals, the
interpreter state a child starts with, the fallback to the real
interpreter, pytest-xdist workers and reseeded random generators.

Isolation: every test runs the launcher with a TMPDIR of its own and no
XDG_RUNTIME_DIR, so the servers it starts are its own (their sockets live
in TMPDIR/procwait-UID/). Cleanup kills every process whose command line
names a socket there (a server, or a child it forked) and waits until it
is gone. Reference runs use the interpreter running these tests
(sys.executable), which the launcher is also told to use (PROCWAIT_PYTHON).

The whole file is skipped only when PROCWAIT_PYTHON_LAUNCHER (set by
make check) does not name an executable launcher.
"""
import glob
import json
import os
import re
import shutil
import select
import signal
import subprocess
import tempfile
import textwrap
import time
import unittest

from tests import _util
from tests._util import PYTHON

LAUNCHER = os.environ.get("PROCWAIT_PYTHON_LAUNCHER", "")

RUN_TIMEOUT = 30      # seconds, for any single run (they take well under 1 s)
SERVER_EXIT = 5       # seconds a server may take to go away when it should

#: Every temporary directory this file made, for tearDownModule's sweep.
_DIRS = []


def setUpModule():
    if not LAUNCHER:
        raise unittest.SkipTest("PROCWAIT_PYTHON_LAUNCHER is not set "
                                "(make check sets it to tools/procwait-python)")
    if not (os.path.isfile(LAUNCHER) and os.access(LAUNCHER, os.X_OK)):
        raise unittest.SkipTest("PROCWAIT_PYTHON_LAUNCHER=%r is not an executable file"
                                % LAUNCHER)


def tearDownModule():
    # Each test's cleanup already did this; a last sweep in case one
    # could not run (no server may outlive this file).
    for d in _DIRS:
        kill_servers(d)


# ---- processes ---------------------------------------------------------------

def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def _ppid_of(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rindex(b")") + 2:].split()[1])


def _procs_under(tmpdir):
    """{pid: ppid} of the live processes whose command line is a procwait
    server's with its socket under tmpdir: the servers, and the children
    they forked (a fork keeps the command line)."""
    prefix = os.fsencode(os.path.join(tmpdir, "procwait-"))
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        cmd = _cmdline(pid)
        if not cmd or b"serve" not in cmd or not any(a.startswith(prefix) for a in cmd):
            continue
        if _util.proc_state(pid) in (None, "Z", "X"):
            continue
        out[pid] = _ppid_of(pid)
    return out


def server_pids(tmpdir):
    """The servers under tmpdir: matching processes whose parent is not
    one (that is, not a child forked by a server)."""
    procs = _procs_under(tmpdir)
    return sorted(p for p, pp in procs.items() if pp not in procs)


def kill_servers(tmpdir, grace=3.0, timeout=10.0):
    """SIGTERM every process of _procs_under(tmpdir), SIGKILL what is left
    after grace seconds, and return once none is left."""
    start = time.monotonic()
    termed = set()
    while True:
        procs = _procs_under(tmpdir)
        if not procs:
            return
        now = time.monotonic()
        if now - start > timeout:
            raise AssertionError("procwait servers under %s survived SIGKILL: %r"
                                 % (tmpdir, sorted(procs)))
        hard = now - start >= grace
        for pid in procs:
            if not hard and pid in termed:
                continue
            try:
                os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)
            except ProcessLookupError:
                pass
            termed.add(pid)
        time.sleep(0.02)


def wait_until(pred, timeout, interval=0.02):
    """Poll pred() until it is true (returns True) or timeout passes
    (returns False)."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _read_line(fd, timeout=RUN_TIMEOUT):
    """Read from fd until a newline; AssertionError after timeout or EOF."""
    import select
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no line from the child after %.0fs (%r so far)"
                                 % (timeout, buf))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError("the child closed its stdout early (%r so far)" % buf)
            buf += chunk
    return buf


#: Prepended to scripts: records the script's parent pid (a server's when
#: the launcher forked it, the test's for a plain python3 or an exec'd
#: interpreter) without touching its stdout or stderr.
PRELUDE = ('import os as _pw_os\n'
           'with open(_pw_os.environ["PWT_PPID_FILE"], "a") as _pw_f:\n'
           '    _pw_f.write("%d\\n" % _pw_os.getppid())\n')

#: Prints what python3 decides from its command line.
REPORT = PRELUDE + textwrap.dedent('''\
    import json, sys
    import __main__
    print(json.dumps({"argv": sys.argv, "path0": sys.path[0], "path": sys.path,
                      "name": __name__,
                      "file": globals().get("__file__"),
                      "spec": None if __main__.__spec__ is None else __main__.__spec__.name,
                      "main_is_globals": vars(__main__) is globals()}))
    ''')


class LauncherCase(unittest.TestCase):
    """Runs the launcher (and plain python3) in a private TMPDIR."""

    maxDiff = None
    preload = "json"
    idle = "30"

    def setUp(self):
        base = "/tmp" if os.access("/tmp", os.W_OK) else None   # short socket paths
        self.tmp = tempfile.mkdtemp(prefix="pwpy-", dir=base)
        _DIRS.append(self.tmp)
        self.addCleanup(self._cleanup_tmp)   # registered first: runs last
        self.work = os.path.join(self.tmp, "work")
        self.mods = os.path.join(self.tmp, "mods")
        os.mkdir(self.work)
        os.mkdir(self.mods)
        self.sockdir = os.path.join(self.tmp, "procwait-%d" % os.geteuid())
        env = dict(os.environ)
        for k in ("XDG_RUNTIME_DIR", "PROCWAIT_DISABLE", "PYTHONUNBUFFERED",
                  "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONIOENCODING", "PYTEST_ADDOPTS",
                  "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"):
            env.pop(k, None)
        pp = env.get("PYTHONPATH")
        env.update(TMPDIR=self.tmp, PROCWAIT_IDLE=self.idle, PROCWAIT_PRELOAD=self.preload,
                   PROCWAIT_PYTHON=PYTHON, PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=self.mods + (":" + pp if pp else ""))
        self.env = env
        self._n = 0

    def _cleanup_tmp(self):
        try:
            kill_servers(self.tmp)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- files --

    def write(self, rel, text, where=None):
        path = os.path.join(where or self.work, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def server_log(self):
        out = []
        for p in sorted(glob.glob(os.path.join(self.sockdir, "*.log"))):
            with open(p, errors="replace") as f:
                out.append("--- %s\n%s" % (p, f.read()))
        return "\n".join(out) or "(no server log)"

    def sockets(self):
        return sorted(glob.glob(os.path.join(self.sockdir, "*.sock")))

    # -- runs --

    def _env(self, extra):
        env = dict(self.env)
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        self._n += 1
        env["PWT_PPID_FILE"] = os.path.join(self.tmp, "ppid-%d" % self._n)
        return env

    @staticmethod
    def _ppid(env):
        try:
            with open(env["PWT_PPID_FILE"]) as f:
                lines = f.read().split()
        except FileNotFoundError:
            return None
        return int(lines[0]) if lines else None

    def run_cmd(self, argv, input=None, env=None, cwd=None, timeout=RUN_TIMEOUT,
                preexec_fn=_util.default_signals):
        e = self._env(env)
        try:
            res = subprocess.run(argv, input=input,
                                 stdin=subprocess.DEVNULL if input is None else None,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 cwd=cwd or self.work, env=e, timeout=timeout,
                                 preexec_fn=preexec_fn, encoding="utf-8",
                                 errors="backslashreplace")
        except subprocess.TimeoutExpired:
            self.fail("%r did not end within %ss\n%s" % (argv, timeout, self.server_log()))
        res.ppid = self._ppid(e)
        return res

    def launch(self, args, **kw):
        return self.run_cmd([LAUNCHER] + list(args), **kw)

    def plain(self, args, **kw):
        return self.run_cmd([PYTHON] + list(args), **kw)

    def popen(self, argv, env=None, cwd=None, preexec_fn=_util.default_signals, **kw):
        e = self._env(env)
        p = subprocess.Popen(argv, env=e, cwd=cwd or self.work, preexec_fn=preexec_fn, **kw)
        p.ppid_file = e["PWT_PPID_FILE"]
        self.addCleanup(self._end_popen, p)
        return p

    @staticmethod
    def _end_popen(p):
        if p.poll() is None:
            p.kill()
        try:
            p.communicate(timeout=RUN_TIMEOUT)
        except (ValueError, OSError, subprocess.TimeoutExpired):
            pass

    def describe(self, res):
        return ("argv=%r rc=%r\n--- stdout\n%s\n--- stderr\n%s\n%s"
                % (res.args, res.returncode, res.stdout, res.stderr, self.server_log()))

    # -- assertions --

    def assertRc(self, res, rc):
        self.assertEqual(res.returncode, rc, "unexpected exit status\n" + self.describe(res))

    def assertForkedBy(self, ppid, what=""):
        """ppid (a script's parent) is a server of this test: the launcher
        ran the script in a forked child, not by exec'ing python3."""
        self.assertIsNotNone(ppid, "%s: the script did not record its parent pid\n%s"
                             % (what, self.server_log()))
        servers = server_pids(self.tmp)
        self.assertIn(ppid, servers,
                      "%s: the script's parent %d (%r) is not a procwait server of this "
                      "test %r: was it forked by one?\n%s"
                      % (what, ppid, _cmdline(ppid), servers, self.server_log()))
        return ppid

    def assertForked(self, res):
        return self.assertForkedBy(res.ppid, self.describe(res))

    def assertNoServer(self, timeout=SERVER_EXIT):
        ok = wait_until(lambda: not _procs_under(self.tmp), timeout)
        self.assertTrue(ok, "procwait server(s) %r still run under %s after %ss\n%s"
                        % (sorted(_procs_under(self.tmp)), self.tmp, timeout,
                           self.server_log()))


# ---- 1. exit statuses ------------------------------------------------------------

class ExitStatusTest(LauncherCase):

    def test_exit_0(self):
        self.write("ok.py", PRELUDE + 'print("hello")\n')
        res = self.launch(["ok.py"])
        self.assertRc(res, 0)
        self.assertEqual(res.stdout, "hello\n")
        self.assertEqual(res.stderr, "")
        self.assertForked(res)

    def test_uncaught_exception_traceback_as_python(self):
        self.write("boom.py", PRELUDE + textwrap.dedent('''\
            def inner(x):
                return {"a": 1}[x]

            def outer():
                try:
                    inner("b")
                except KeyError as e:
                    raise ValueError("pwt boom") from e

            outer()
            '''))
        res = self.launch(["boom.py"])
        ref = self.plain(["boom.py"])
        self.assertRc(ref, 1)
        self.assertRc(res, 1)
        self.assertForked(res)
        self.assertIn("Traceback (most recent call last):", res.stderr)
        self.assertTrue(res.stderr.endswith("ValueError: pwt boom\n"), res.stderr)
        self.assertEqual(res.stderr, ref.stderr,
                         "the traceback differs from python3's for the same script")
        self.assertEqual(res.stdout, "")

    def test_sys_exit_3(self):
        self.write("e3.py", PRELUDE + 'import sys\nsys.exit(3)\n')
        res = self.launch(["e3.py"])
        self.assertRc(res, 3)
        self.assertEqual(res.stderr, "")
        self.assertForked(res)

    def test_sys_exit_message(self):
        self.write("emsg.py", PRELUDE + 'import sys\nsys.exit("pwt: bad things")\n')
        res = self.launch(["emsg.py"])
        ref = self.plain(["emsg.py"])
        self.assertRc(ref, 1)
        self.assertRc(res, 1)
        self.assertEqual(res.stderr, "pwt: bad things\n")
        self.assertEqual(res.stderr, ref.stderr)
        self.assertForked(res)

    def test_os_exit_7(self):
        self.write("e7.py", PRELUDE + 'import os\nos._exit(7)\n')
        res = self.launch(["e7.py"])
        self.assertRc(res, 7)
        self.assertForked(res)

    def test_missing_script_as_python(self):
        ref = self.plain(["no-such-script.py"])
        res = self.launch(["no-such-script.py"])
        self.assertRc(ref, 2)
        self.assertRc(res, 2)
        self.assertEqual(len(server_pids(self.tmp)), 1,
                         "no server handled the run\n" + self.describe(res))
        # python3 puts its argv[0] first; the launcher its own: compare the rest.
        self.assertIn("can't open file", ref.stderr)
        self.assertEqual(res.stderr.partition(": ")[2], ref.stderr.partition(": ")[2])

    def _sigterm_script(self):
        return self.write("term.py", PRELUDE + textwrap.dedent('''\
            import os, signal, time
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
            os._exit(99)
            '''))

    def test_killed_by_sigterm_is_minus_15(self):
        self._sigterm_script()
        ref = self.plain(["term.py"])
        self.assertRc(ref, -signal.SIGTERM)
        res = self.launch(["term.py"])
        self.assertRc(res, -signal.SIGTERM)
        self.assertForked(res)

    def test_killed_by_sigterm_shell_sees_143(self):
        self._sigterm_script()
        shell = 'exec 2>/dev/null; "$0" term.py; echo "status $?"'
        ref = self.run_cmd(["/bin/sh", "-c", shell, PYTHON])
        self.assertEqual(ref.stdout, "status 143\n", self.describe(ref))
        res = self.run_cmd(["/bin/sh", "-c", shell, LAUNCHER])
        self.assertEqual(res.stdout, "status 143\n", self.describe(res))
        self.assertForked(res)


# ---- 2. stdin, environment, working directory ------------------------------------------

class StdioEnvCwdTest(LauncherCase):

    def test_stdin_piped_to_the_script(self):
        self.write("cat.py", PRELUDE + textwrap.dedent('''\
            import json, sys
            data = sys.stdin.read()
            print(json.dumps([len(data), data.upper()]))
            '''))
        text = "hello\nworld\n" * 1000
        res = self.launch(["cat.py"], input=text)
        self.assertRc(res, 0)
        self.assertEqual(json.loads(res.stdout), [len(text), text.upper()])
        self.assertForked(res)

    STDIN_CODE = PRELUDE + ('import sys\nprint(sys.argv, __name__, repr(globals().get('
                            '"__file__")), sys.path[0] == "")\n')

    def test_script_on_stdin_without_arguments(self):
        res = self.launch([], input=self.STDIN_CODE)
        ref = self.plain([], input=self.STDIN_CODE)
        self.assertRc(ref, 0)
        self.assertRc(res, 0)
        self.assertEqual(res.stdout, "[''] __main__ '<stdin>' True\n")
        self.assertEqual(res.stdout, ref.stdout)
        self.assertForked(res)

    def test_script_on_stdin_dash_with_arguments(self):
        res = self.launch(["-", "a", "b c"], input=self.STDIN_CODE)
        ref = self.plain(["-", "a", "b c"], input=self.STDIN_CODE)
        self.assertRc(res, 0)
        self.assertEqual(res.stdout, "['-', 'a', 'b c'] __main__ '<stdin>' True\n")
        self.assertEqual(res.stdout, ref.stdout)
        self.assertForked(res)

    def test_stdin_script_from_shell_pipe(self):
        # echo 'print(1)' | procwait-python (and the script's parent pid)
        res = self.run_cmd(["/bin/sh", "-c",
                            'echo "import os; print(1); print(os.getppid())" | "$0"',
                            LAUNCHER])
        self.assertRc(res, 0)
        one, ppid = res.stdout.split("\n", 1)
        self.assertEqual(one, "1")
        self.assertForkedBy(int(ppid), self.describe(res))

    def test_environment_passed_through(self):
        self.write("env.py", PRELUDE + textwrap.dedent('''\
            import ctypes, json, os
            libc = ctypes.CDLL(None)
            libc.getenv.restype = ctypes.c_char_p
            print(json.dumps({k: [os.environ.get(k), (libc.getenv(k.encode()) or b"").decode()
                                  or None] for k in ("PWT_ONLY", "PWT_GONE")}))
            '''))
        # The first run starts the server with PWT_GONE in its environment...
        first = self.launch(["env.py"], env={"PWT_GONE": "server-start", "PWT_ONLY": None})
        self.assertRc(first, 0)
        self.assertEqual(json.loads(first.stdout),
                         {"PWT_ONLY": [None, None],
                          "PWT_GONE": ["server-start", "server-start"]})
        server = self.assertForked(first)
        # ... the second, from the same server, has the launcher's own.
        res = self.launch(["env.py"], env={"PWT_GONE": None, "PWT_ONLY": "only here"})
        self.assertRc(res, 0)
        self.assertEqual(json.loads(res.stdout),
                         {"PWT_ONLY": ["only here", "only here"],
                          "PWT_GONE": [None, None]},
                         "os.environ / getenv() must be the launcher's environment")
        self.assertEqual(self.assertForked(res), server, "the second run used another server")

    def test_working_directory_passed_through(self):
        self.write("cwd.py", PRELUDE + textwrap.dedent('''\
            import os
            with open("data.txt") as f:
                print(os.getcwd(), f.read())
            '''))
        script = os.path.join(self.work, "cwd.py")
        for sub in ("one", "two"):
            d = os.path.join(self.work, sub)
            self.write("data.txt", "in-" + sub, where=d)
            res = self.launch([script], cwd=d)
            self.assertRc(res, 0)
            self.assertEqual(res.stdout, "%s in-%s\n" % (os.path.realpath(d), sub))
            self.assertForked(res)


# ---- 3. sys.argv, sys.path[0], __main__ ---------------------------------------------------

class ArgvPathTest(LauncherCase):

    def compare(self, args, cwd=None):
        res = self.launch(args, cwd=cwd)
        ref = self.plain(args, cwd=cwd)
        self.assertRc(ref, 0)
        self.assertRc(res, 0)
        self.assertForked(res)
        got, want = json.loads(res.stdout), json.loads(ref.stdout)
        self.assertEqual(got, want, "sys.argv, sys.path or __main__ differ from "
                                    "python3 %s" % " ".join(args))
        return got

    def test_module(self):
        self.write("pwt_argmod.py", REPORT)
        got = self.compare(["-m", "pwt_argmod", "a", "-b", "--c"])
        self.assertEqual(got["argv"], [os.path.join(self.work, "pwt_argmod.py"),
                                       "a", "-b", "--c"])
        self.assertEqual(got["spec"], "pwt_argmod")

    def test_package_main(self):
        self.write("pwt_pkg/__init__.py", "")
        self.write("pwt_pkg/__main__.py", REPORT)
        got = self.compare(["-m", "pwt_pkg", "x"])
        self.assertEqual(got["spec"], "pwt_pkg.__main__")

    def test_command(self):
        got = self.compare(["-c", REPORT, "a", "b"])
        self.assertEqual(got["argv"], ["-c", "a", "b"])
        self.assertEqual(got["path0"], "")
        self.assertIsNone(got["file"])

    def test_command_flags_before(self):
        got = self.compare(["-B", "-c", REPORT, "-x"])
        self.assertEqual(got["argv"], ["-c", "-x"])

    def test_script_in_subdirectory_by_relative_path(self):
        self.write("sub/dir/argscript.py", REPORT)
        got = self.compare(["sub/dir/argscript.py", "x", "y"])
        self.assertEqual(got["argv"], ["sub/dir/argscript.py", "x", "y"])
        self.assertEqual(got["path0"], os.path.join(os.path.realpath(self.work), "sub", "dir"))
        self.assertIsNone(got["spec"])

    def test_script_by_unnormalised_and_symlinked_paths(self):
        # python3 joins a relative script path to the cwd without
        # normalising it (__file__, tracebacks), and puts the symlink
        # target's directory into sys.path[0].
        self.write("sub/dir/argscript.py", REPORT)
        os.symlink(os.path.join("sub", "dir", "argscript.py"),
                   os.path.join(self.work, "link.py"))
        for path in ("./sub/../sub/dir/argscript.py", "link.py"):
            with self.subTest(path=path):
                got = self.compare([path, "q"])
                self.assertEqual(got["path0"], os.path.join(os.path.realpath(self.work),
                                                            "sub", "dir"))

    def test_directory_with_main(self):
        self.write("app/__main__.py", REPORT)
        got = self.compare(["app", "z"])
        self.assertEqual(got["argv"], ["app", "z"])


# ---- 4, 5. preloading ----------------------------------------------------------------------

class PreloadTest(LauncherCase):

    def test_preloaded_module_is_shared_not_reimported(self):
        loads = os.path.join(self.tmp, "loads.txt")
        self.write("pwt_pre.py", '''\
            import os
            LOADED_BY = os.getpid()
            with open(%r, "a") as f:
                f.write("%%d\\n" %% os.getpid())
            ''' % loads, where=self.mods)
        self.write("use.py", PRELUDE + textwrap.dedent('''\
            import json, os, sys
            before = "pwt_pre" in sys.modules
            import pwt_pre
            print(json.dumps({"before": before, "pid": os.getpid(), "ppid": os.getppid(),
                              "loaded_by": pwt_pre.LOADED_BY}))
            '''))
        runs = []
        for _ in range(3):
            res = self.launch(["use.py"], env={"PROCWAIT_PRELOAD": "pwt_pre"})
            self.assertRc(res, 0)
            self.assertForked(res)
            runs.append(json.loads(res.stdout))
        with open(loads) as f:
            lines = f.read().split()
        self.assertEqual(len(lines), 1, "pwt_pre was imported %d times: %r" % (len(lines), lines))
        importer = int(lines[0])
        for r in runs:
            self.assertTrue(r["before"], "pwt_pre was not in sys.modules before the import: %r" % r)
            self.assertNotEqual(importer, r["pid"], "the run imported pwt_pre itself")
            self.assertEqual(r["loaded_by"], r["ppid"],
                             "LOADED_BY is not the server's pid: %r" % r)
            self.assertEqual(r["loaded_by"], importer)
        self.assertEqual(len({r["ppid"] for r in runs}), 1, "the runs used several servers")

    def test_import_error_reported(self):
        self.write("pwt_bad.py", 'import os\nraise RuntimeError("pwt-boom-4711")\n',
                   where=self.mods)
        res = self.launch(["-c", PRELUDE + 'print("ran")'],
                          env={"PROCWAIT_PRELOAD": "json,pwt_bad"})
        self.assertRc(res, 1)
        self.assertEqual(res.stdout, "", "the command ran despite the preload error")
        self.assertIsNone(res.ppid, "the command ran despite the preload error")
        self.assertTrue(res.stderr.startswith("procwait-python: preloading pwt_bad failed:"),
                        self.describe(res))
        self.assertIn("RuntimeError: pwt-boom-4711", res.stderr)
        self.assertIn("pwt_bad.py", res.stderr)
        self.assertNoServer()
        self.assertEqual(self.sockets(), [])

    def _dying_module(self, signo, times):
        """pwt_die: a module whose import kills the importing process with
        signo, the first `times` times it is imported."""
        count = os.path.join(self.tmp, "deaths")
        self.write("pwt_die.py", '''\
            import os
            path = %r
            n = os.path.getsize(path) if os.path.exists(path) else 0
            if n < %d:
                with open(path, "a") as f:
                    f.write("x")
                os.kill(os.getpid(), %d)
                import time
                time.sleep(30)
            ''' % (count, times, signo), where=self.mods)
        return count

    def test_server_killed_while_preloading_is_replaced(self):
        # (found by a soak: the launcher exited 1, "the server did not
        # start", with an empty log)
        self._dying_module(signal.SIGKILL, 1)
        res = self.launch(["-c", PRELUDE + 'print("ran")'],
                          env={"PROCWAIT_PRELOAD": "json,pwt_die"})
        self.assertRc(res, 0)
        self.assertEqual((res.stdout, res.stderr), ("ran\n", ""))
        self.assertForked(res)
        self.assertIn("ended before it reported", self.server_log())

    def test_server_killed_twice_while_preloading_runs_the_real_interpreter(self):
        self._dying_module(signal.SIGKILL, 99)
        res = self.launch(["-c", PRELUDE + 'import os\nprint("ran", os.getppid())'],
                          env={"PROCWAIT_PRELOAD": "json,pwt_die"})
        self.assertRc(res, 0)
        self.assertEqual((res.stdout, res.stderr), ("ran %d\n" % os.getpid(), ""),
                         self.describe(res))
        log = self.server_log()
        self.assertIn("ended before it reported", log)
        self.assertIn("the server died twice while preloading: running", log)
        self.assertNoServer()

    def test_sigterm_while_preloading_is_logged(self):
        self._dying_module(signal.SIGTERM, 1)
        res = self.launch(["-c", PRELUDE + 'print("ran")'],
                          env={"PROCWAIT_PRELOAD": "pwt_die"})
        self.assertRc(res, 0)
        self.assertEqual(res.stdout, "ran\n")
        self.assertForked(res)
        self.assertIn("killed by SIGTERM while preloading", self.server_log())

    def test_preload_importlib_metadata(self):
        # pytest and many libraries import importlib.metadata: a server
        # holding it must run commands like any other.
        code = PRELUDE + ('import sys\nimport importlib.metadata as md\n'
                          'print("metadata" in dir(md), "importlib.metadata" in sys.modules)\n')
        res = self.launch(["-c", code], env={"PROCWAIT_PRELOAD": "importlib.metadata"})
        self.assertRc(res, 0)
        self.assertEqual(res.stdout, "True True\n")
        self.assertForked(res)

    def test_invalid_preload_list(self):
        res = self.launch(["-c", PRELUDE + 'print("ran")'], env={"PROCWAIT_PRELOAD": "os;rm"})
        self.assertRc(res, 2)
        self.assertEqual(res.stdout, "")
        self.assertIsNone(res.ppid, "the command ran despite the bad PROCWAIT_PRELOAD")
        self.assertIn("PROCWAIT_PRELOAD", res.stderr)
        self.assertIn("os;rm", res.stderr)
        self.assertNoServer(timeout=0)


# ---- 6. edited files ---------------------------------------------------------------------

class EditTest(LauncherCase):

    def test_script_edited_between_runs(self):
        self.write("s.py", PRELUDE + 'print("version one")\n')
        res = self.launch(["s.py"])
        self.assertEqual(res.stdout, "version one\n", self.describe(res))
        server = self.assertForked(res)
        self.write("s.py", PRELUDE + 'print("version two")\n')
        res = self.launch(["s.py"])
        self.assertEqual(res.stdout, "version two\n", self.describe(res))
        self.assertEqual(self.assertForked(res), server)

    def test_imported_module_edited_between_runs(self):
        # Not preloaded: each child imports it afresh. The same size on
        # purpose (a cache keyed on size and mtime would miss the edit).
        self.write("pwt_dep.py", "VALUE = 1\n", where=self.mods)
        self.write("s.py", PRELUDE + 'import pwt_dep\nprint(pwt_dep.VALUE)\n')
        res = self.launch(["s.py"])
        self.assertEqual(res.stdout, "1\n", self.describe(res))
        server = self.assertForked(res)
        self.write("pwt_dep.py", "VALUE = 2\n", where=self.mods)
        res = self.launch(["s.py"])
        self.assertEqual(res.stdout, "2\n", self.describe(res))
        self.assertEqual(self.assertForked(res), server,
                         "a module the server never loaded made it restart")

    def _preloaded_edit(self, edit):
        env = {"PROCWAIT_PRELOAD": "pwt_hot"}
        self.write("pwt_hot.py", 'VALUE = "old"\n', where=self.mods)
        self.write("s.py", PRELUDE + 'import pwt_hot\nprint(pwt_hot.VALUE)\n')
        res = self.launch(["s.py"], env=env)
        self.assertEqual(res.stdout, "old\n", self.describe(res))
        old = self.assertForked(res)
        [sock] = self.sockets()
        ident = os.stat(sock).st_ino
        edit(os.path.join(self.mods, "pwt_hot.py"), 'VALUE = "new"\n')

        # The server learns of the edit through inotify, asynchronously:
        # give it up to ~2 s to drop its socket before the next run. (A
        # launcher that comes earlier must be refused and retry on a fresh
        # server anyway, so this only keeps the test from racing ahead.)
        def dropped():
            try:
                return os.stat(sock).st_ino != ident
            except FileNotFoundError:
                return True
        wait_until(dropped, 2.0)
        res = self.launch(["s.py"], env=env)
        self.assertEqual(res.stdout, "new\n", "the edited preloaded module was not "
                         "picked up\n" + self.describe(res))
        new = self.assertForked(res)
        self.assertNotEqual(new, old, "the run came from the stale server")
        self.assertTrue(wait_until(lambda: _util.proc_state(old) in (None, "Z"), SERVER_EXIT),
                        "the stale server %d did not exit\n%s" % (old, self.server_log()))
        self.assertEqual(server_pids(self.tmp), [new])

    def test_preloaded_module_edited_in_place(self):
        def edit(path, text):
            with open(path, "w") as f:
                f.write(text)
        self._preloaded_edit(edit)

    def test_preloaded_module_replaced_by_rename(self):
        # What editors that save safely do: write a new file, rename it over.
        def edit(path, text):
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
        self._preloaded_edit(edit)


# ---- 7, 8. one server, and its end ------------------------------------------------------------

class ServerLifeTest(LauncherCase):

    def test_concurrent_cold_starts_share_one_server(self):
        code = PRELUDE + 'import os\nprint(os.getppid())\n'
        env = {"PROCWAIT_PRELOAD": "json,decimal,argparse"}
        self.assertEqual(self.sockets(), [])
        procs = [self.popen([LAUNCHER, "-c", code], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
        ppids = []
        for p in procs:
            out, err = p.communicate(timeout=RUN_TIMEOUT)
            self.assertEqual(p.returncode, 0, "a launcher failed: %r %r\n%s"
                             % (out, err, self.server_log()))
            ppids.append(int(out))
        self.assertEqual(len(set(ppids)), 1, "the launchers used several servers: %r" % ppids)
        self.assertForkedBy(ppids[0], "concurrent launchers")
        self.assertEqual(server_pids(self.tmp), [ppids[0]], "more than one server runs")
        self.assertEqual(len(self.sockets()), 1)

    def test_cold_start_keeps_no_descriptor_of_the_caller(self):
        # The server lives on after the launcher: a descriptor it inherited
        # from the caller (here a pipe's write end, not close-on-exec) would
        # keep the reader waiting for EOF until PROCWAIT_IDLE.
        self.assertEqual(self.sockets(), [])
        r, w = os.pipe()
        try:
            p = self.popen([LAUNCHER, "-c", PRELUDE + 'print("ran")'],
                           env={"PROCWAIT_PRELOAD": "json", "PROCWAIT_IDLE": "60"},
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, pass_fds=(w,))
            out, err = p.communicate(timeout=RUN_TIMEOUT)
            self.assertEqual((p.returncode, out.strip()), (0, b"ran"), err)
            os.close(w)
            w = -1
            ready, _, _ = select.select([r], [], [], 5)
            self.assertTrue(ready and os.read(r, 1) == b"",
                            "the started server holds the caller's pipe open")
            self.assertEqual(len(server_pids(self.tmp)), 1, "no server kept running")
        finally:
            os.close(r)
            if w >= 0:
                os.close(w)

    def test_invalid_idle(self):
        res = self.launch(["-c", PRELUDE + 'print("ran")'], env={"PROCWAIT_IDLE": "soon"})
        self.assertRc(res, 2)
        self.assertEqual(res.stdout, "")
        self.assertIsNone(res.ppid, "the command ran despite the bad PROCWAIT_IDLE")
        self.assertIn("PROCWAIT_IDLE", res.stderr)
        self.assertNoServer(timeout=0)

    def test_server_killed_mid_run_is_status_125(self):
        # 1 would be the script's own failure (an uncaught exception):
        # a lost server is 125, as procwait-run says for the same case
        code = PRELUDE + ('import os, signal, time\n'
                          'os.kill(os.getppid(), signal.SIGKILL)\n'
                          'time.sleep(3)\n')
        res = self.launch(["-c", code])
        self.assertRc(res, 125)
        self.assertIn("the fork server went away", res.stderr)
        self.assertEqual(res.stdout, "")

    def test_killed_server_leaves_nothing_of_the_run(self):
        # A script whose daemon left its process group and session kills
        # its server: the launcher kills the run's cgroup, then says 125.
        pidfile = os.path.join(self.tmp, "daemon.pid")
        code = PRELUDE + _util.DAEMON_SCRIPT.replace(
            "print(os.read(r, 32).decode().strip(), flush=True)",
            "open(%r, 'w').write(os.read(r, 32).decode())" % pidfile) + (
            'import signal, time\n'
            'os.kill(os.getppid(), signal.SIGKILL)\n'
            'time.sleep(30)\n')
        res = self.launch(["-c", code])
        self.assertRc(res, 125)
        with open(pidfile) as f:
            daemon = int(f.read())
        if not _util.cgroups_expected():
            _util.kill_if_same(daemon, _util.starttime(daemon))
            self.skipTest("runs get no cgroup here (not root, or no writable cgroup2 mount)")
        gone = wait_until(lambda: _util.proc_state(daemon) in (None, "Z"), 10)
        self.assertTrue(gone, "the daemon %d outlived its killed server\n%s"
                        % (daemon, self.server_log()))

    def test_idle_server_exits(self):
        res = self.launch(["-c", PRELUDE + 'print("ok")'], env={"PROCWAIT_IDLE": "2"})
        self.assertRc(res, 0)
        server = self.assertForked(res)
        [sock] = self.sockets()
        gone = wait_until(lambda: _util.proc_state(server) in (None, "Z"), 2 + SERVER_EXIT)
        self.assertTrue(gone, "the server did not exit after PROCWAIT_IDLE=2\n"
                        + self.server_log())
        self.assertFalse(os.path.exists(sock), "the idle server left its socket behind")
        self.assertNoServer(timeout=0)


# ---- 9. signals ------------------------------------------------------------------------------

class SignalTest(LauncherCase):

    #: Seconds between the script's "ready" and the signal. The launcher
    #: forwards signals once the server has told it the child started,
    #: which the script's first line can precede; a signal in that window
    #: is test_sigint_right_after_the_start_reaches_the_script's business.
    SETTLE = 0.5

    def interrupt(self, python, script, sig=signal.SIGINT, preexec_fn=_util.default_signals,
                  settle=SETTLE, env=None):
        p = self.popen([python, script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, preexec_fn=preexec_fn, env=env)
        first = _read_line(p.stdout.fileno())
        self.assertEqual(first, b"ready\n")
        time.sleep(settle)
        p.send_signal(sig)
        out, err = p.communicate(timeout=15)
        return p.returncode, out.decode(), err.decode(), self._ppid({"PWT_PPID_FILE":
                                                                    p.ppid_file})

    CATCH = PRELUDE + textwrap.dedent('''\
        import sys, time
        try:
            print("ready", flush=True)
            time.sleep(10)
        except KeyboardInterrupt:
            print("caught KeyboardInterrupt", flush=True)
            sys.exit(5)
        ''')

    def test_sigint_raises_keyboardinterrupt_in_the_script(self):
        self.write("catch.py", self.CATCH)
        rc, out, err, ppid = self.interrupt(LAUNCHER, "catch.py")
        self.assertEqual(rc, 5, "stdout %r stderr %r" % (out, err))
        self.assertEqual(out, "caught KeyboardInterrupt\n")
        self.assertForkedBy(ppid, "catch.py")

    def test_sigint_right_after_the_start_reaches_the_script(self):
        # Once the script runs, python3 turns a SIGINT into KeyboardInterrupt.
        # Here it runs before the launcher hears from the server that the
        # child started (the server's parent side is slowed down by an
        # at-fork hook, as a busy machine's scheduler may do it): a SIGINT
        # then must still reach the script, not end the launcher alone.
        self.write("pwt_slowparent.py", '''\
            import os, time
            os.register_at_fork(after_in_parent=lambda: time.sleep(0.5))
            ''', where=self.mods)
        self.write("catch.py", self.CATCH)
        rc0, out0, err0, _ = self.interrupt(PYTHON, "catch.py", settle=0)
        self.assertEqual((rc0, out0), (5, "caught KeyboardInterrupt\n"), err0)
        rc, out, err, ppid = self.interrupt(LAUNCHER, "catch.py", settle=0,
                                            env={"PROCWAIT_PRELOAD": "pwt_slowparent"})
        self.assertForkedBy(ppid, "catch.py")
        self.assertEqual((rc, out), (5, "caught KeyboardInterrupt\n"),
                         "a SIGINT after the script started was lost (stderr %r)" % err)

    def test_uncaught_sigint_kills_the_launcher_by_sigint(self):
        self.write("sleep.py", PRELUDE + textwrap.dedent('''\
            import time
            print("ready", flush=True)
            time.sleep(10)
            '''))
        rc0, out0, err0, _ = self.interrupt(PYTHON, "sleep.py")
        self.assertEqual(rc0, -signal.SIGINT, err0)
        rc, out, err, ppid = self.interrupt(LAUNCHER, "sleep.py")
        self.assertEqual(rc, -signal.SIGINT, "stdout %r stderr %r" % (out, err))
        self.assertTrue(err.startswith("Traceback (most recent call last):\n"), err)
        self.assertTrue(err.endswith("\nKeyboardInterrupt\n"), err)

        # Where the signal lands (the print's line or the sleep's) is up to
        # timing: compare the frames without line numbers and source lines.
        def frames(text):
            return [re.sub(r"line \d+", "line N", ln) for ln in text.splitlines()
                    if not ln.startswith("    ")]
        self.assertEqual(frames(err), frames(err0), "the traceback differs from python3's:"
                         "\n--- procwait-python\n%s--- python3\n%s" % (err, err0))
        self.assertForkedBy(ppid, "sleep.py")

    def test_sighup_ignored_like_nohup(self):
        # `nohup python3 script.py &`: an ignored SIGHUP stays ignored in
        # the interpreter, so the hangup does not end the script.
        self.write("hup.py", PRELUDE + textwrap.dedent('''\
            import time
            print("ready", flush=True)
            time.sleep(1.5)   # the signal comes 0.5 s (SETTLE) after "ready"
            print("survived", flush=True)
            '''))

        def nohup():
            _util.default_signals()
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

        rc0, out0, err0, _ = self.interrupt(PYTHON, "hup.py", signal.SIGHUP, nohup)
        self.assertEqual((rc0, out0), (0, "survived\n"), err0)
        rc, out, err, ppid = self.interrupt(LAUNCHER, "hup.py", signal.SIGHUP, nohup)
        self.assertForkedBy(ppid, "hup.py")
        self.assertEqual((rc, out), (0, "survived\n"),
                         "an inherited SIG_IGN for SIGHUP was not honoured (stderr %r)" % err)


# ---- 10. the interpreter state a child starts with ----------------------------------------------

STATE = PRELUDE + textwrap.dedent('''\
    import json, signal, sys
    with open("/proc/self/status") as f:
        status = dict(line.split(":", 1) for line in f
                      if line.startswith(("SigIgn", "SigCgt", "SigBlk")))
    out = {
        "status": {k: v.strip() for k, v in status.items()},
        "handlers": {s.name: repr(signal.getsignal(s))
                     for s in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ,
                               signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                               signal.SIGCHLD, signal.SIGUSR1)},
        "line_buffering": [s.line_buffering for s in (sys.stdin, sys.stdout, sys.stderr)],
        "write_through": [s.write_through for s in (sys.stdout, sys.stderr)],
        "encoding": [[s.encoding, s.errors] for s in (sys.stdin, sys.stdout, sys.stderr)],
        "names": [s.name for s in (sys.stdin, sys.stdout, sys.stderr)],
        "dunder": [sys.stdin is sys.__stdin__, sys.stdout is sys.__stdout__,
                   sys.stderr is sys.__stderr__],
        "flags": repr(sys.flags),
        "dont_write_bytecode": sys.dont_write_bytecode,
    }
    print(json.dumps(out, sort_keys=True))
    ''')


class InterpreterStateTest(LauncherCase):

    def compare_state(self, env=None, preexec_fn=_util.default_signals, keys=None):
        self.write("state.py", STATE)
        ref = self.plain(["state.py"], env=env, preexec_fn=preexec_fn)
        res = self.launch(["state.py"], env=env, preexec_fn=preexec_fn)
        self.assertRc(ref, 0)
        self.assertRc(res, 0)
        self.assertForked(res)
        got, want = json.loads(res.stdout), json.loads(ref.stdout)
        if keys is not None:
            got = {k: got[k] for k in keys}
            want = {k: want[k] for k in keys}
        self.assertEqual(got, want, "the child's state differs from python3's (env %r)" % env)

    def test_signals_and_stdio_as_python(self):
        for env in ({}, {"PYTHONUNBUFFERED": "1"}, {"PYTHONIOENCODING": "latin-1:replace"},
                    {"LC_ALL": "C", "LANG": None}):
            with self.subTest(env=env):
                self.compare_state(env)

    def test_stream_mode_as_python(self):
        # open() sets .mode on a TextIOWrapper; python3's standard streams
        # have "r", "w", "w" there (some libraries read sys.stdout.mode).
        code = PRELUDE + ('import sys\nprint([getattr(s, "mode", None) '
                          'for s in (sys.stdin, sys.stdout, sys.stderr)])\n')
        ref = self.plain(["-c", code])
        res = self.launch(["-c", code])
        self.assertEqual(ref.stdout, "['r', 'w', 'w']\n", self.describe(ref))
        self.assertForked(res)
        self.assertEqual(res.stdout, ref.stdout, "sys.std*.mode differs from python3's")

    def test_inherited_ignored_signals_as_python(self):
        # As in `nohup cmd &` from sh: SIGHUP, SIGINT and SIGQUIT ignored
        # at exec. python3 keeps them ignored (signal.getsignal says SIG_IGN).
        def ignoring():
            _util.default_signals()
            for s in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT):
                signal.signal(s, signal.SIG_IGN)
        self.compare_state(preexec_fn=ignoring, keys=("status", "handlers"))

    def test_inherited_blocked_signals_as_python(self):
        # A blocked signal stays blocked across exec: python3 starts with
        # the caller's signal mask.
        def blocking():
            _util.default_signals()
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
        self.compare_state(preexec_fn=blocking, keys=("status",))


# ---- 11. the real interpreter, and -u --------------------------------------------------------

class FallbackTest(LauncherCase):

    def assertExecd(self, res, out):
        self.assertRc(res, 0)
        self.assertEqual(res.stdout, "%s %d\n" % (out, os.getpid()),
                         "not run by the real interpreter (its parent must be this "
                         "test, pid %d)\n%s" % (os.getpid(), self.describe(res)))

    def test_dash_X_dev_runs_the_real_interpreter(self):
        res = self.launch(["-X", "dev", "-c",
                           "import os, sys; print(sys.flags.dev_mode, os.getppid())"])
        self.assertExecd(res, "True")

    def test_dash_I_runs_the_real_interpreter(self):
        res = self.launch(["-I", "-c",
                           "import os, sys; print(sys.flags.isolated, os.getppid())"])
        self.assertExecd(res, "1")

    def test_disable_runs_the_real_interpreter(self):
        res = self.launch(["-c", "import os; print('x', os.getppid())"],
                          env={"PROCWAIT_DISABLE": "1"})
        self.assertExecd(res, "x")

    def test_version(self):
        ref = self.plain(["--version"])
        res = self.launch(["--version"])
        self.assertRc(res, 0)
        self.assertTrue(ref.stdout.startswith("Python 3."), self.describe(ref))
        self.assertEqual((res.stdout, res.stderr), (ref.stdout, ref.stderr))

    def test_repl_on_a_terminal_runs_the_real_interpreter(self):
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        try:
            p = self.popen([LAUNCHER], stdin=slave, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        finally:
            os.close(slave)
        os.write(master, b"import os; print('PPID', os.getppid())\nraise SystemExit(0)\n")
        out, err = p.communicate(timeout=15)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn(b"PPID %d\n" % os.getpid(), out,
                      "the REPL did not run in the real interpreter: %r %r" % (out, err))
        self.assertEqual(server_pids(self.tmp), [], "a server was started for the REPL")

    def test_dash_u_unbuffered_in_the_forked_child(self):
        # With -u the bytes reach the pipe at once, long before the script
        # ends (it waits for its stdin to close); buffered they would not.
        code = PRELUDE + ('import os, sys\nsys.stdout.write("partial")\n'
                          'sys.stdin.read()\nsys.stdout.write(" %d" % os.getppid())\n')
        p = self.popen([LAUNCHER, "-u", "-c", code], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = _util.read_exact(p.stdout.fileno(), len(b"partial"), timeout=10)
        self.assertEqual(first, b"partial")
        self.assertIsNone(p.poll(), "the script ended before its stdin closed")
        out, err = p.communicate(input=b"", timeout=RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, err)
        self.assertForkedBy(int(out.decode().split()[-1]), "-u -c")


# ---- 12. pytest-xdist workers ------------------------------------------------------------

XDIST_TESTS = '''\
import os

def _record(name):
    with open(os.environ["PWT_XDIST_LOG"], "a") as f:
        f.write("%s %s %d\\n" % (name, os.environ.get("PYTEST_XDIST_WORKER"), os.getppid()))

def test_worker_forked_by_a_server():
    _record("a")
    with open("/proc/%d/cmdline" % os.getppid(), "rb") as f:
        parent = f.read().split(b"\\0")
    assert os.environ.get("PYTEST_XDIST_WORKER"), "not in an xdist worker"
    assert b"serve" in parent, parent
    assert any(os.fsencode(os.environ["TMPDIR"]) in a for a in parent), parent

def test_b():
    _record("b")

def test_c():
    _record("c")

def test_d():
    _record("d")
'''


class XdistTest(LauncherCase):

    def test_xdist_workers_run_through_the_launcher(self):
        try:
            import xdist  # noqa: F401
        except ImportError:
            self.skipTest("pytest-xdist is not installed for this interpreter "
                          "(apt-get install python3-pytest-xdist)")
        self.write("test_pwt_xdist.py", XDIST_TESTS)
        log = os.path.join(self.tmp, "xdist.log")
        # --tx, not -n: -n N replaces the --tx specs with N plain popen ones.
        res = self.plain(["-m", "pytest", "-p", "no:cacheprovider", "-d",
                          "--tx", "2*popen//python=" + LAUNCHER, "test_pwt_xdist.py"],
                         env={"PROCWAIT_PRELOAD": "pytest", "PWT_XDIST_LOG": log},
                         timeout=60)
        self.assertRc(res, 0)
        self.assertIn("4 passed", res.stdout)
        with open(log) as f:
            rows = [line.split() for line in f]
        self.assertEqual(sorted(r[0] for r in rows), ["a", "b", "c", "d"])
        self.assertTrue(all(r[1].startswith("gw") for r in rows), rows)
        ppids = {int(r[2]) for r in rows}
        self.assertEqual(len(ppids), 1, "the workers came from several servers: %r" % rows)
        self.assertForkedBy(ppids.pop(), "xdist workers")


# ---- 13. random generators --------------------------------------------------------------------

class RandomTest(LauncherCase):

    CODE = 'import json, sys\nprint(json.dumps(["%s" in sys.modules, %s]))\n'

    def two_runs(self, module, expr, preload):
        code = PRELUDE + self.CODE % (module, expr)
        outs = []
        for _ in range(2):
            res = self.launch(["-c", code], env={"PROCWAIT_PRELOAD": preload})
            self.assertRc(res, 0)
            outs.append((json.loads(res.stdout), self.assertForked(res)))
        (a, s1), (b, s2) = outs
        self.assertEqual(s1, s2, "the runs came from different servers")
        self.assertTrue(a[0] and b[0], "%s was not preloaded" % module)
        self.assertNotEqual(a[1], b[1], "two children of one server drew the same "
                                        "%s: not reseeded after the fork" % expr)

    def test_random_reseeded(self):
        self.two_runs("random", "__import__('random').random()", "random")

    def test_numpy_random_reseeded(self):
        probe = subprocess.run([PYTHON, "-c", "import numpy"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=RUN_TIMEOUT)
        if probe.returncode != 0:
            self.skipTest("numpy is not installed for %s" % PYTHON)
        self.two_runs("numpy.random", "__import__('numpy').random.random()", "numpy")


if __name__ == "__main__":
    unittest.main()
