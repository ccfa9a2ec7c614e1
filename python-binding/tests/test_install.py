"""The package installs offline with pip into a fresh venv, and imports."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from tests._util import BINDING_DIR


class InstallTest(unittest.TestCase):

    def setUp(self):
        try:
            import ensurepip  # noqa: F401
            import venv  # noqa: F401
        except ImportError as e:
            self.skipTest("venv/ensurepip unavailable for %s (%s); on Debian: "
                          "apt-get install python3-venv" % (sys.executable, e))
        self.tmp = tempfile.mkdtemp(prefix="procwait-install-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def _env(self):
        env = dict(os.environ)
        for k in ("PYTHONPATH", "PYTHONHOME", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
                  "PIP_FIND_LINKS", "VIRTUAL_ENV"):
            env.pop(k, None)
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["PIP_NO_INPUT"] = "1"
        env["PIP_NO_CACHE_DIR"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def _run(self, argv, **kw):
        return subprocess.run(argv, env=self._env(), capture_output=True,
                              text=True, timeout=240, **kw)

    def test_pip_install_offline(self):
        # install from a copy: pip may leave build/ or *.egg-info behind
        src = os.path.join(self.tmp, "src")
        shutil.copytree(BINDING_DIR, src, ignore=shutil.ignore_patterns(
            "tests", "__pycache__", "build", "dist", "*.egg-info", "*.pyc"))
        venv_dir = os.path.join(self.tmp, "v")
        r = self._run([sys.executable, "-m", "venv", venv_dir], cwd=self.tmp)
        if r.returncode != 0 and ("ensurepip" in r.stdout + r.stderr):
            self.skipTest("venv cannot bootstrap pip for %s: %s; on Debian: "
                          "apt-get install python3-venv"
                          % (sys.executable, (r.stdout + r.stderr).strip()))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pip = os.path.join(venv_dir, "bin", "pip")
        py = os.path.join(venv_dir, "bin", "python")

        r = self._run([pip, "install", "--no-index", src], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        lib = os.environ.get("PROCWAIT_LIBRARY")
        if not lib:
            import procwait
            lib = procwait.library_path
        env = self._env()
        env["PROCWAIT_LIBRARY"] = lib
        code = ("import os, procwait, sys; print(procwait.__version__); "
                "print(os.path.dirname(os.path.abspath(procwait.__file__))); "
                "print(procwait.backend())")
        r = subprocess.run([py, "-c", code], env=env, cwd=self.tmp,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        version, pkgdir, backend = r.stdout.split("\n")[:3]
        self.assertEqual(version, "0.1.0")
        self.assertIn(backend, ("pidfd", "poll"))
        # imported from the venv, not from the source tree or its copy
        real_venv = os.path.realpath(venv_dir)
        self.assertTrue(os.path.realpath(pkgdir).startswith(real_venv + os.sep), pkgdir)
        self.assertIn("site-packages", pkgdir)
        self.assertTrue(os.path.isfile(os.path.join(pkgdir, "py.typed")),
                        "py.typed not installed in " + pkgdir)
        self.assertTrue(os.path.isfile(os.path.join(pkgdir, "__init__.py")))
        # and pip knows about it (uninstallable)
        r = self._run([pip, "show", "procwait"], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Version: 0.1.0", r.stdout)


if __name__ == "__main__":
    unittest.main()
