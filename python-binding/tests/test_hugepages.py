"""procwait._hugepages: a server's heap in huge pages, and the copy on
write a fork relies on unchanged."""

import os
import time
import unittest

from tests import _util
from tests._util import BINDING_DIR
from tests.test_pyserve import ServeTestCase, setUpModule  # noqa: F401

CODE = r"""
import os, sys
sys.path.insert(0, %(binding)r)
from procwait._hugepages import collapse

def anon_huge():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("AnonHugePages:"):
                return int(line.split()[1])
    return 0

data = bytearray(os.urandom(1 << 20)) * 24        # 24 MB on the heap
keep = bytes(data)
before = anon_huge()
done, why = collapse()
if not done:
    print("SKIP", why)
    sys.exit(0)
assert why is None
assert data == keep, "collapse changed the heap"
assert anon_huge() > before, (before, anon_huge())
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    data[::4096] = b"x" * len(data[::4096])       # a write to every page: copies
    os.write(w, b"ok" if data[4096] == ord("x") else b"no")
    os._exit(0)
os.close(w)
assert os.read(r, 2) == b"ok"
os.waitpid(pid, 0)
assert data == keep, "a child's writes reached the parent"
print("OK", done >> 20)
"""


class HugePagesTest(unittest.TestCase):

    def test_collapse_keeps_copy_on_write(self):
        r = _util.run_python(CODE % {"binding": BINDING_DIR})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        if r.stdout.startswith("SKIP"):
            self.skipTest("the kernel keeps 4 kB pages here: " + r.stdout[5:].strip())
        self.assertRegex(r.stdout, r"^OK [1-9]")


class ServerHugePagesTest(ServeTestCase):
    """With PROCWAIT_HUGE_PAGES=1 a server moves its heap once its first
    run is under way, and says so in its log; by default it leaves it."""

    def _runs_then_log(self, env=None, wait=True):
        saved = dict(os.environ)
        try:
            os.environ.update(env or {})
            proc, _rep = self.start_server("--preload", "json")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        for _ in range(2):
            code, out, err, _pid = self.request(["-c", "print(1)"])
            self.assertEqual((code, out, err), (0, "1\n", ""))
        # (the server moves it before it serves the second run: no wait
        # is needed, the loop only covers a slow write of its log)
        deadline = time.monotonic() + (10 if wait else 0)
        while "huge pages" not in self.server_err() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.server_err()

    def test_logged_once(self):
        log = self._runs_then_log({"PROCWAIT_HUGE_PAGES": "1"})
        self.assertEqual(log.count("huge pages"), 1, log)
        self.assertRegex(log, r"heap (in huge pages: \d+ MB|not in huge pages: \S+)")

    def test_off_by_default(self):
        log = self._runs_then_log(wait=False)
        self.assertNotIn("huge pages", log)


if __name__ == "__main__":
    unittest.main()
