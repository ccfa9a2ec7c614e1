"""procwait.WaitSet: many children, remove(), timeouts, max_events, fileno."""
import errno
import os
import random
import resource
import select
import time
import unittest

import procwait

from tests import _util
from tests._util import blocking_child, fork_child


def _waitset(tc):
    ws = procwait.WaitSet()
    tc.addCleanup(ws.close)
    return ws


class WaitSetManyTest(unittest.TestCase):

    N = 500

    def setUp(self):
        # 500 pidfds plus the usual: make sure the soft limit allows it
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 4 * self.N
        if soft != resource.RLIM_INFINITY and soft < want:
            new = want if hard == resource.RLIM_INFINITY else min(want, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))

    def test_500_children(self):
        rng = random.Random(0x5EED)
        delays = [rng.uniform(0.0, 0.3) for _ in range(self.N)]
        ws = _waitset(self)
        pids = []
        procs = []
        for i in range(self.N):
            def body(i=i):
                time.sleep(delays[i])
                return i % 256
            pid = fork_child(self, body)
            pids.append(pid)
            proc = ws.add(pid, data=i)
            self.addCleanup(proc.close)
            self.assertIsInstance(proc, procwait.Process)
            self.assertEqual(proc.pid, pid)
            procs.append(proc)
        self.assertEqual(len(ws), self.N)

        seen = {}
        deadline = time.monotonic() + 60
        while len(ws) > 0:
            self.assertLess(time.monotonic(), deadline, "children not all reported")
            before = len(ws)
            events = ws.wait(timeout=10)
            self.assertIsInstance(events, list)
            self.assertEqual(len(ws), before - len(events))
            for ev in events:
                self.assertIsInstance(ev, procwait.WaitEvent)
                i = ev.data
                self.assertNotIn(i, seen, "child %d reported twice" % i)
                seen[i] = ev
                self.assertIs(ev.process, procs[i])
                self.assertEqual(ev.process.pid, pids[i])
                self.assertEqual(ev.status.pid, pids[i])
                self.assertIs(ev.status.known, True)
                self.assertEqual(ev.status.returncode, i % 256)
                self.assertEqual(ev.status.exitcode, i % 256)
        self.assertEqual(sorted(seen), list(range(self.N)))
        self.assertEqual(len(ws), 0)
        with self.assertRaises(ChildProcessError):
            ws.wait(timeout=0)
        with self.assertRaises(ChildProcessError):
            ws.wait()
        # every child was reaped by the set
        for pid in pids:
            with self.assertRaises(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


class WaitSetTest(unittest.TestCase):

    def test_context_manager_and_empty(self):
        with procwait.WaitSet() as ws:
            self.assertIsInstance(ws, procwait.WaitSet)
            self.assertEqual(len(ws), 0)
            with self.assertRaises(ChildProcessError):
                ws.wait(timeout=0)
            with self.assertRaises(ChildProcessError):
                ws.wait(timeout=None)

    def test_add_process_object(self):
        pid = fork_child(self, lambda: 17)
        p = procwait.Process(pid)
        self.addCleanup(p.close)
        ws = _waitset(self)
        got = ws.add(p, data="payload")
        self.assertIs(got, p)
        self.assertEqual(len(ws), 1)
        events = ws.wait(timeout=30)
        self.assertEqual(len(events), 1)
        ev = events[0]
        self.assertIs(ev.process, p)
        self.assertEqual(ev.data, "payload")
        self.assertEqual(ev.status.returncode, 17)
        self.assertEqual(len(ws), 0)
        # reaped by the set: a wait through the handle says so
        with self.assertRaises(ChildProcessError):
            p.wait(timeout=0)

    def test_data_defaults_to_none(self):
        pid = fork_child(self, lambda: 1)
        ws = _waitset(self)
        proc = ws.add(pid)
        self.addCleanup(proc.close)
        (ev,) = ws.wait(timeout=30)
        self.assertIsNone(ev.data)
        self.assertEqual(ev.status.returncode, 1)

    def test_signal_status(self):
        pid, _release = blocking_child(self)
        ws = _waitset(self)
        self.addCleanup(ws.add(pid).close)
        os.kill(pid, 15)
        (ev,) = ws.wait(timeout=30)
        self.assertEqual((ev.status.returncode, ev.status.signal), (-15, 15))

    def test_remove(self):
        a_pid, _a_release = blocking_child(self)
        b_pid, b_release = blocking_child(self, code=4)
        ws = _waitset(self)
        a = ws.add(a_pid, data="a")
        self.addCleanup(a.close)
        b = ws.add(b_pid, data="b")
        self.addCleanup(b.close)
        self.assertEqual(len(ws), 2)
        ws.remove(a)
        self.assertEqual(len(ws), 1)
        with self.assertRaises(KeyError):
            ws.remove(a)
        outsider = procwait.Process(a_pid)
        self.addCleanup(outsider.close)
        with self.assertRaises(KeyError):
            ws.remove(outsider)
        # a removed member's exit is not reported by the set
        a.kill()
        self.assertEqual(a.wait(timeout=30).returncode, -9)
        t0 = time.monotonic()
        self.assertEqual(ws.wait(timeout=0.2), [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.2 - 1e-3)
        b_release()
        events = ws.wait(timeout=30)
        self.assertEqual(len(events), 1)
        self.assertIs(events[0].process, b)
        self.assertEqual(events[0].data, "b")
        self.assertEqual(events[0].status.returncode, 4)
        self.assertEqual(len(ws), 0)
        with self.assertRaises(ChildProcessError):
            ws.wait(timeout=0)

    def test_readd_after_remove(self):
        pid, release = blocking_child(self, code=6)
        ws = _waitset(self)
        p = ws.add(pid, data=1)
        self.addCleanup(p.close)
        ws.remove(p)
        self.assertEqual(len(ws), 0)
        self.assertIs(ws.add(p, data=2), p)
        release()
        (ev,) = ws.wait(timeout=30)
        self.assertEqual((ev.data, ev.status.returncode), (2, 6))

    def test_timeout(self):
        pid, release = blocking_child(self, code=3)
        ws = _waitset(self)
        self.addCleanup(ws.add(pid).close)
        t0 = time.monotonic()
        self.assertEqual(ws.wait(timeout=0), [])
        self.assertLess(time.monotonic() - t0, 0.5)
        t0 = time.monotonic()
        self.assertEqual(ws.wait(timeout=0.2), [])
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 0.2 - 1e-3)
        self.assertLess(elapsed, 5.0)
        self.assertEqual(len(ws), 1)
        release()
        (ev,) = ws.wait(timeout=None)
        self.assertEqual(ev.status.returncode, 3)

    def test_max_events(self):
        ws = _waitset(self)
        pids = []
        for i in range(3):
            pid = fork_child(self, lambda i=i: 20 + i)
            pids.append(pid)
            self.addCleanup(ws.add(pid, data=i).close)
        for pid in pids:
            _util.wait_state(pid, "Z")
        codes = []
        for left in (2, 1, 0):
            events = ws.wait(timeout=30, max_events=1)
            self.assertEqual(len(events), 1)
            codes.append(events[0].status.returncode)
            self.assertEqual(len(ws), left)
        self.assertEqual(sorted(codes), [20, 21, 22])

    def test_all_exited_reported_together(self):
        ws = _waitset(self)
        pids = [fork_child(self, lambda i=i: i) for i in range(5)]
        for i, pid in enumerate(pids):
            self.addCleanup(ws.add(pid, data=i).close)
        for pid in pids:
            _util.wait_state(pid, "Z")
        got = []
        deadline = time.monotonic() + 30
        while len(ws) and time.monotonic() < deadline:
            got.extend(ws.wait(timeout=10))
        self.assertEqual(sorted((e.data, e.status.returncode) for e in got),
                         [(i, i) for i in range(5)])

    def test_fileno(self):
        pid, release = blocking_child(self, code=9)
        ws = _waitset(self)
        self.addCleanup(ws.add(pid).close)
        fd = ws.fileno()
        self.assertIsInstance(fd, int)
        self.assertGreaterEqual(fd, 0)
        os.fstat(fd)  # an open descriptor
        if procwait.backend() == "pidfd":
            self.assertEqual(select.select([fd], [], [], 0)[0], [])
            release()
            self.assertEqual(select.select([fd], [], [], 30)[0], [fd])
            (ev,) = ws.wait(timeout=0)
        else:
            release()
            (ev,) = ws.wait(timeout=30)
        self.assertEqual(ev.status.returncode, 9)

    def test_close_releases_descriptors(self):
        pid = fork_child(self, lambda: 0)
        before = _util.open_fds()
        ws = procwait.WaitSet()
        p = ws.add(pid)
        ws.close()
        p.close()
        self.assertEqual(_util.open_fds(), before)
        self.assertEqual(procwait.wait(pid, timeout=30).returncode, 0)


if __name__ == "__main__":
    unittest.main()


class ReviewFindingsWaitSetTest(unittest.TestCase):

    def test_member_reaped_elsewhere_reports_echild(self):
        pid = fork_child(self, lambda: 6)
        with procwait.WaitSet() as ws:
            p = ws.add(pid, data="x")
            self.addCleanup(p.close)
            self.assertEqual(p.wait().returncode, 6)   # reaped through the handle
            events = ws.wait(timeout=5)
            self.assertEqual(len(events), 1)
            ev = events[0]
            self.assertIs(ev.process, p)
            self.assertEqual(ev.data, "x")
            self.assertEqual(ev.error, errno.ECHILD)
            self.assertFalse(ev.status.known)

    def test_events_carry_no_error_normally(self):
        pid = fork_child(self, lambda: 2)
        with procwait.WaitSet() as ws:
            p = ws.add(pid)
            self.addCleanup(p.close)
            (ev,) = ws.wait(timeout=10)
            self.assertEqual((ev.error, ev.status.returncode), (0, 2))
