"""procwait-python as a drop-in python3, beyond one run: what a run reads
from the environment at start-up (TZ), settings a preloaded library read at
import (a server's identity holds them), the spelling of PROCWAIT_PRELOAD,
the directory only when the preload used it, the python3 of PATH (a venv),
and the servers' lifecycle: `python3 -m procwait servers` and `stop`, the
cap on servers (PROCWAIT_MAX_SERVERS), the files a server removes when it
exits, PROCWAIT_IDLE.

Isolation as in test_pylauncher: a TMPDIR of each test's own holds its
servers, killed at cleanup.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

from tests import _util
from tests._util import PYTHON, BINDING_DIR
from tests.test_pylauncher import (LAUNCHER, PRELUDE, SERVER_EXIT, LauncherCase,
                                   kill_servers, server_pids, wait_until, _DIRS)
from tests import test_pylauncher


def setUpModule():
    test_pylauncher.setUpModule()


def tearDownModule():
    for d in _DIRS:
        kill_servers(d)


class DropInCase(LauncherCase):

    def ppid_of(self, res):
        """The parent of the run: the server that forked it."""
        return self.assertForked(res)

    def cli(self, *args, env=None):
        """python3 -m procwait ARGS in the test's environment."""
        e = dict(env or {})
        e["PYTHONPATH"] = BINDING_DIR + ":" + self.env["PYTHONPATH"]
        return self.run_cmd([PYTHON, "-m", "procwait"] + list(args), env=e)

    def server_files(self):
        return sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.sockdir, "*"))
                      if not p.endswith(".deps"))


# ---- 1. what a run reads at start-up ------------------------------------------------

class StartupTest(DropInCase):

    def test_tz_is_the_runs(self):
        code = PRELUDE + "import time; print(time.tzname, time.timezone)"
        for tz in ("Asia/Tokyo", "UTC", "America/New_York"):
            want = self.plain(["-c", code], env={"TZ": tz})
            got = self.launch(["-c", code], env={"TZ": tz})
            self.assertRc(got, 0)
            self.assertEqual(got.stdout, want.stdout, "TZ=%s\n%s" % (tz, self.describe(got)))
            self.ppid_of(got)
        self.assertEqual(len(server_pids(self.tmp)), 1, "TZ named another server")


# ---- 2. the server's identity -------------------------------------------------------------

class IdentityTest(DropInCase):
    preload = "pwt_envlib"

    def setUp(self):
        super().setUp()
        self.write("pwt_envlib.py", '''\
            import os
            BACKEND = os.environ.get("PWT_BACKEND", "agg")
            WHOLE = dict(os.environ)   # a bulk read: no variable in particular
            ''', where=self.mods)

    def test_a_variable_read_at_import_names_the_server(self):
        code = PRELUDE + "import pwt_envlib; print(pwt_envlib.BACKEND)"
        a = self.launch(["-c", code], env={"PWT_BACKEND": "svg"})
        b = self.launch(["-c", code])
        c = self.launch(["-c", code], env={"PWT_BACKEND": "svg"})
        self.assertEqual([r.stdout for r in (a, b, c)], ["svg\n", "agg\n", "svg\n"],
                         self.describe(b))
        pa, pb, pc = self.ppid_of(a), self.ppid_of(b), self.ppid_of(c)
        self.assertNotEqual(pa, pb, "a caller with another PWT_BACKEND shared the server")
        self.assertEqual(pa, pc, "the same PWT_BACKEND did not find its server again")

    def test_a_preload_that_sets_what_it_read(self):
        # The server hashes the values its launcher had, not what the
        # preload (or Python's own LC_CTYPE coercion) made of them.
        self.write("pwt_setter.py", '''\
            import os
            SEEN = os.environ.get("PWT_SETTER")
            os.environ.setdefault("PWT_SETTER", "set-by-the-module")
            ''', where=self.mods)
        code = PRELUDE + "import pwt_setter; print(pwt_setter.SEEN)"
        env = {"PROCWAIT_PRELOAD": "pwt_setter", "LC_ALL": None, "LANG": None,
               "LC_CTYPE": None}
        runs = [self.launch(["-c", code], env=env) for _ in range(3)]
        for r in runs:
            self.assertRc(r, 0)
            self.assertEqual(r.stdout, "None\n", self.describe(r))
        self.assertEqual(len({self.ppid_of(r) for r in runs}), 1,
                         "one environment, several servers\n" + self.server_log())

    def test_a_bulk_read_of_the_environment_does_not(self):
        code = PRELUDE + "import pwt_envlib; print(pwt_envlib.BACKEND)"
        a = self.launch(["-c", code], env={"PWT_UNRELATED": "1"})
        b = self.launch(["-c", code], env={"PWT_UNRELATED": "2"})
        self.assertEqual(self.ppid_of(a), self.ppid_of(b),
                         "a variable only seen in dict(os.environ) named a server")

    def test_preload_spellings_name_one_server(self):
        code = PRELUDE + "print(1)"
        runs = [self.launch(["-c", code], env={"PROCWAIT_PRELOAD": p})
                for p in ("json,csv", "csv, json", " json csv,json ", "csv,json")]
        self.assertEqual(len({self.ppid_of(r) for r in runs}), 1,
                         "one preload set in other spellings started other servers\n%s"
                         % self.server_log())

    def test_directory_only_when_the_preload_used_it(self):
        code = PRELUDE + "import os; print(os.getcwd())"
        sub = os.path.join(self.work, "sub")
        os.mkdir(sub)
        a = self.launch(["-c", code], env={"PROCWAIT_PRELOAD": "json"})
        b = self.launch(["-c", code], env={"PROCWAIT_PRELOAD": "json"}, cwd=sub)
        self.assertEqual(b.stdout, sub + "\n")
        self.assertEqual(self.ppid_of(a), self.ppid_of(b), "cd started another server")
        # A preloaded module found in the directory: each directory its own.
        other = os.path.join(self.tmp, "other")
        for d, v in ((self.work, "work"), (other, "other")):
            self.write("pwt_here.py", "WHERE = %r\n" % v, where=d)
        code = PRELUDE + "import pwt_here; print(pwt_here.WHERE)"
        env = {"PROCWAIT_PRELOAD": "pwt_here"}
        c = self.launch(["-c", code], env=env)
        d = self.launch(["-c", code], env=env, cwd=other)
        self.assertEqual((c.stdout, d.stdout), ("work\n", "other\n"), self.describe(d))
        self.assertNotEqual(self.ppid_of(c), self.ppid_of(d))

    def test_idle_setting_names_the_server(self):
        code = PRELUDE + "print(1)"
        a = self.launch(["-c", code], env={"PROCWAIT_IDLE": "30"})
        b = self.launch(["-c", code], env={"PROCWAIT_IDLE": "1"})
        pa, pb = self.ppid_of(a), self.ppid_of(b)
        self.assertNotEqual(pa, pb, "PROCWAIT_IDLE=1 was given the server of PROCWAIT_IDLE=30")
        self.assertTrue(wait_until(lambda: not _util.running(pb), 1 + SERVER_EXIT),
                        "the server with PROCWAIT_IDLE=1 did not exit\n" + self.server_log())
        self.assertTrue(_util.running(pa))


# ---- 3. the interpreter python3 would be ------------------------------------------------

class InterpreterTest(DropInCase):

    def test_python3_of_a_venv_on_path(self):
        venv = os.path.join(self.tmp, "venv")
        r = subprocess.run([PYTHON, "-m", "venv", "--without-pip", venv],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot make a venv with %s (python3-venv): %s" % (PYTHON, r.stderr))
        env = {"PROCWAIT_PYTHON": None, "VIRTUAL_ENV": venv,
               "PATH": os.path.join(venv, "bin") + ":" + os.environ.get("PATH", "")}
        code = PRELUDE + "import sys; print(sys.prefix)"
        got = self.launch(["-c", code], env=env)
        self.assertRc(got, 0)
        self.assertEqual(got.stdout, venv + "\n", self.describe(got))
        self.ppid_of(got)
        # Outside it, another server: the python3 of that PATH.
        out = self.launch(["-c", code], env={"PROCWAIT_PYTHON": None,
                                             "PATH": os.path.dirname(PYTHON) + ":/bin"})
        self.assertNotEqual(out.stdout, venv + "\n")

    def test_a_wrapper_that_runs_it_again_is_an_error_not_a_loop(self):
        bindir = os.path.join(self.tmp, "wrap")
        os.mkdir(bindir)
        self.write("python3", "#!/bin/sh\nexec %s \"$@\"\n" % LAUNCHER, where=bindir)
        os.chmod(os.path.join(bindir, "python3"), 0o755)
        env = {"PROCWAIT_PYTHON": None, "PATH": bindir + ":/usr/bin:/bin"}
        for extra in ({}, {"PROCWAIT_DISABLE": "1"}):
            got = self.launch(["-c", "print(1)"], env=dict(env, **extra), timeout=60)
            self.assertRc(got, 127)
            self.assertIn("set PROCWAIT_PYTHON", got.stderr)

    def test_itself_as_python3_on_path_is_skipped(self):
        real = os.path.join(os.path.dirname(LAUNCHER), ".libs", "procwait-python")
        if not os.access(real, os.X_OK):
            real = LAUNCHER   # installed: not a libtool wrapper
        bindir = os.path.join(self.tmp, "bin")
        os.mkdir(bindir)
        os.symlink(real, os.path.join(bindir, "python3"))
        os.symlink(PYTHON, os.path.join(self.tmp, "python3"))
        env = {"PROCWAIT_PYTHON": None, "PATH": bindir + ":" + self.tmp}
        libs = os.path.join(os.path.dirname(os.path.dirname(LAUNCHER)), "lib", ".libs")
        if os.path.isdir(libs):
            env["LD_LIBRARY_PATH"] = libs
        got = self.run_cmd([os.path.join(bindir, "python3"), "-c",
                            PRELUDE + "import sys; print(sys.executable)"], env=env)
        self.assertRc(got, 0)
        self.assertEqual(got.stdout, os.path.join(self.tmp, "python3") + "\n",
                         self.describe(got))


# ---- 4. lifecycle ------------------------------------------------------------------------

class LifecycleTest(DropInCase):

    def listing(self):
        r = self.cli("servers", "--json")
        self.assertRc(r, 0)
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_list_then_drain_all(self):
        a = self.launch(["-c", PRELUDE + "print(1)"])
        b = self.launch(["-c", PRELUDE + "print(1)"], env={"PROCWAIT_PRELOAD": "csv"})
        pids = {self.ppid_of(a), self.ppid_of(b)}
        found = self.listing()
        self.assertEqual({i["pid"] for i in found}, pids, found)
        for i in found:
            for k in ("python", "preload", "socket", "idle", "age", "rss", "pss"):
                self.assertIn(k, i)
            self.assertEqual(i["python"], PYTHON)
            self.assertTrue(os.path.exists(i["socket"]))
        self.assertEqual(sorted(i["preload"] for i in found), [["csv"], ["json"]])
        table = self.cli("servers")
        self.assertRc(table, 0)
        self.assertIn(str(a.ppid), table.stdout)
        r = self.cli("stop", "--all")
        self.assertRc(r, 0)
        self.assertNoServer()
        self.assertEqual(self.server_files(), [], "a drained server left files")

    def test_stop_one_by_pid_now(self):
        a = self.launch(["-c", PRELUDE + "print(1)"])
        b = self.launch(["-c", PRELUDE + "print(1)"], env={"PROCWAIT_PRELOAD": "csv"})
        pa, pb = self.ppid_of(a), self.ppid_of(b)
        self.assertRc(self.cli("stop", "--now", str(pa)), 0)
        self.assertTrue(wait_until(lambda: not _util.running(pa), SERVER_EXIT))
        self.assertTrue(_util.running(pb))
        self.assertEqual([i["pid"] for i in self.listing()], [pb])
        bad = self.cli("stop", "999999999")
        self.assertRc(bad, 1)
        self.assertIn("no server 999999999", bad.stderr)
        self.assertRc(self.cli("stop"), 2)

    def test_a_run_in_progress_outlives_a_drain(self):
        p = self.popen([LAUNCHER, "-c", PRELUDE + "import time; time.sleep(1.5); print('done')"],
                       stdout=subprocess.PIPE, text=True)
        self.assertTrue(wait_until(lambda: len(self.listing()) == 1, 10))
        self.assertRc(self.cli("stop", "--all"), 0)
        # The next run gets a fresh server while the drained one finishes.
        nxt = self.launch(["-c", PRELUDE + "print(2)"])
        self.assertRc(nxt, 0)
        out, _ = p.communicate(timeout=30)
        self.assertEqual((p.returncode, out), (0, "done\n"))

    def test_sigterm_and_sighup_remove_the_files(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            r = self.launch(["-c", PRELUDE + "print(1)"])
            pid = self.ppid_of(r)
            self.assertTrue(any(f.endswith(".json") for f in self.server_files()))
            # Both wait blocked, read by the loop (a signalfd each): one
            # sent just before a blocking call cannot be left waiting, as
            # SIGHUP was under a Python handler (a CI run under load).
            with open("/proc/%d/status" % pid) as f:
                blk = int([l.split()[1] for l in f if l.startswith("SigBlk:")][0], 16)
            self.assertTrue(blk & (1 << (sig - 1)), "%s is not blocked in the server" % sig.name)
            os.kill(pid, sig)
            self.assertTrue(wait_until(lambda: not _util.running(pid), SERVER_EXIT),
                            "%s did not stop the server" % sig.name)
            self.assertEqual(self.server_files(), [], "%s left files" % sig.name)

    def test_files_of_a_killed_server_go_with_the_next_listing(self):
        r = self.launch(["-c", PRELUDE + "print(1)"])
        pid = self.ppid_of(r)
        os.kill(pid, signal.SIGKILL)
        self.assertTrue(wait_until(lambda: not _util.running(pid), SERVER_EXIT))
        self.assertNotEqual(self.server_files(), [])
        self.assertEqual(self.listing(), [])
        self.assertEqual(self.server_files(), [])

    def test_cap_drains_the_least_recently_used(self):
        env = {"PROCWAIT_MAX_SERVERS": "2"}
        pids = []
        for mods in ("json", "csv", "decimal"):
            e = dict(env, PROCWAIT_PRELOAD=mods)
            pids.append(self.ppid_of(self.launch(["-c", PRELUDE + "print(1)"], env=e)))
            time.sleep(0.05)   # distinct last-use times
        self.assertTrue(wait_until(lambda: not _util.running(pids[0]), SERVER_EXIT),
                        "the least recently used server outlived the cap\n" + self.server_log())
        self.assertTrue(all(_util.running(p) for p in pids[1:]))
        self.assertIn("PROCWAIT_MAX_SERVERS", self.server_log())


if __name__ == "__main__":
    unittest.main()
