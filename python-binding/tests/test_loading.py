"""Loading libprocwait: PROCWAIT_LIBRARY, the helpful ImportError, the
version, the backend choice."""
import ctypes.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import procwait

from tests._util import BINDING_DIR


def _env(**overrides):
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    env.pop("PYTHONHOME", None)
    env["PYTHONPATH"] = BINDING_DIR
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _run(code, env, cwd="/"):
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


class LoadedTest(unittest.TestCase):

    def test_version(self):
        self.assertEqual(procwait.__version__, "0.1.0")

    def test_library_path(self):
        path = procwait.library_path
        self.assertIsInstance(path, str)
        self.assertTrue(os.path.exists(path), path)
        env = os.environ.get("PROCWAIT_LIBRARY")
        if env:
            self.assertTrue(os.path.samefile(path, env), (path, env))

    def test_library_path_is_the_mapped_library(self):
        with open("/proc/self/maps") as f:
            maps = f.read()
        self.assertIn(os.path.realpath(procwait.library_path), maps)

    def test_backend(self):
        self.assertIn(procwait.backend(), ("pidfd", "poll"))
        forced = os.environ.get("PROCWAIT_BACKEND")
        if forced == "poll":
            self.assertEqual(procwait.backend(), "poll")
        elif forced == "pidfd" and hasattr(os, "pidfd_open"):
            try:
                os.close(os.pidfd_open(os.getpid()))
            except OSError:
                return
            self.assertEqual(procwait.backend(), "pidfd")


class BackendEnvTest(unittest.TestCase):

    CODE = "import procwait; print(procwait.backend())"

    def test_force_poll(self):
        r = _run(self.CODE, _env(PROCWAIT_BACKEND="poll"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "poll")

    def test_force_pidfd(self):
        try:
            os.close(os.pidfd_open(os.getpid()))
        except (AttributeError, OSError) as e:
            self.skipTest("no pidfd on this system: %s" % e)
        r = _run(self.CODE, _env(PROCWAIT_BACKEND="pidfd"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "pidfd")

    def test_poll_backend_still_waits(self):
        code = ("import os, procwait\n"
                "pid = os.fork()\n"
                "if pid == 0: os._exit(42)\n"
                "print(procwait.backend(), procwait.wait(pid, timeout=30).returncode)\n")
        r = _run(code, _env(PROCWAIT_BACKEND="poll"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "poll 42")


class MissingLibraryTest(unittest.TestCase):

    def _check_helpful(self, r):
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("PROCWAIT_LIBRARY", r.stderr)
        # and says how to get a library: build it / install it
        self.assertRegex(r.stderr.lower(), r"make|install|build|configure")

    def test_nonexistent_procwait_library(self):
        r = _run("import procwait",
                 _env(PROCWAIT_LIBRARY="/nonexistent/libprocwait.so.0"))
        self._check_helpful(r)
        self.assertIn("/nonexistent/libprocwait.so.0", r.stderr)

    def test_procwait_library_not_a_library(self):
        tmp = tempfile.mkdtemp(prefix="procwait-badlib-")
        self.addCleanup(shutil.rmtree, tmp, True)
        bogus = os.path.join(tmp, "libprocwait.so.0")
        with open(bogus, "w") as f:
            f.write("this is not an ELF file\n")
        r = _run("import procwait", _env(PROCWAIT_LIBRARY=bogus))
        self._check_helpful(r)

    def test_procwait_library_wrong_library(self):
        # a real shared library that is not libprocwait
        libm = ctypes.util.find_library("m")
        if not libm:
            self.skipTest("no libm to stand in for a wrong library")
        r = _run("import procwait", _env(PROCWAIT_LIBRARY=libm))
        self._check_helpful(r)

    def test_no_library_anywhere(self):
        if ctypes.util.find_library("procwait"):
            self.skipTest("a system libprocwait is installed: the fallback would find it")
        # the package alone, away from any build tree
        tmp = tempfile.mkdtemp(prefix="procwait-pkgonly-")
        self.addCleanup(shutil.rmtree, tmp, True)
        shutil.copytree(os.path.join(BINDING_DIR, "procwait"),
                        os.path.join(tmp, "procwait"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = _env(PROCWAIT_LIBRARY=None)
        env["PYTHONPATH"] = tmp
        r = _run("import procwait; print(procwait.library_path)", env, cwd=tmp)
        self._check_helpful(r)


if __name__ == "__main__":
    unittest.main()
