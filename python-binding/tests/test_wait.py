"""procwait.wait() and Process.wait(): exit statuses, timeouts, non-children,
reaped pids, argument checks."""
import errno
import faulthandler
import os
import resource
import shutil
import signal
import tempfile
import threading
import time
import unittest

import procwait

from tests import _util
from tests._util import PYTHON, Pipe, blocking_child, fork_child, spawn


def _exit_child(tc, code):
    return fork_child(tc, lambda: code)


class StatusTypeTest(unittest.TestCase):

    def test_status_is_immutable(self):
        pid = _exit_child(self, 0)
        st = procwait.wait(pid)
        self.assertIsInstance(st, procwait.Status)
        for attr, value in (("returncode", 1), ("pid", 1), ("known", False),
                            ("exitcode", 1), ("signal", 9), ("core", True)):
            with self.assertRaises((AttributeError, TypeError), msg=attr):
                setattr(st, attr, value)
        self.assertEqual(st.returncode, 0)


class ReturnCodeMixin:
    """Each test starts a child, lets it end some way, and checks the Status
    from self.do_wait(pid)."""

    def do_wait(self, pid, timeout=None):
        raise NotImplementedError

    def check_exited(self, st, pid, code):
        self.assertEqual(st.pid, pid)
        self.assertIs(st.known, True)
        self.assertEqual(st.returncode, code)
        self.assertEqual(st.exitcode, code)
        self.assertIsNone(st.signal)
        self.assertIs(st.core, False)
        self.assertEqual(st.shell(), code)

    def test_exit_0(self):
        pid = _exit_child(self, 0)
        self.check_exited(self.do_wait(pid), pid, 0)

    def test_sys_exit_3(self):
        pid = spawn(self, [PYTHON, "-c", "import sys; sys.exit(3)"])
        self.check_exited(self.do_wait(pid), pid, 3)

    def test_os_exit_7(self):
        pid = _exit_child(self, 7)
        self.check_exited(self.do_wait(pid), pid, 7)

    def test_exit_255(self):
        pid = _exit_child(self, 255)
        self.check_exited(self.do_wait(pid), pid, 255)

    def test_sigterm(self):
        pid, _release = blocking_child(self)
        os.kill(pid, signal.SIGTERM)
        st = self.do_wait(pid)
        self.assertEqual(st.pid, pid)
        self.assertIs(st.known, True)
        self.assertEqual(st.returncode, -15)
        self.assertEqual(st.signal, 15)
        self.assertIsNone(st.exitcode)
        self.assertIs(st.core, False)
        self.assertEqual(st.shell(), 143)

    def test_sigkill(self):
        pid, _release = blocking_child(self)
        os.kill(pid, signal.SIGKILL)
        st = self.do_wait(pid)
        self.assertEqual((st.returncode, st.signal, st.exitcode, st.shell()),
                         (-9, 9, None, 137))

    def test_sigabrt_core_allowed(self):
        tmp = tempfile.mkdtemp(prefix="procwait-core-")
        self.addCleanup(shutil.rmtree, tmp, True)

        def body():
            faulthandler.disable()  # pytest enables it; keep the death plain
            os.chdir(tmp)  # a core file, if any, lands here
            soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
            resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
            signal.signal(signal.SIGABRT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGABRT)
            time.sleep(10)
            return 1

        pid = fork_child(self, body)
        st = self.do_wait(pid)
        self.assertEqual(st.signal, 6)
        self.assertEqual(st.returncode, -6)
        self.assertIsNone(st.exitcode)
        self.assertEqual(st.shell(), 134)
        self.assertIsInstance(st.core, bool)

    def test_stopped_child_is_not_an_exit(self):
        pid, release = blocking_child(self, code=2)
        os.kill(pid, signal.SIGSTOP)
        _util.wait_state(pid, "T")
        with self.assertRaises(procwait.TimeoutExpired):
            self.do_wait(pid, timeout=0.1)
        os.kill(pid, signal.SIGCONT)
        release()
        self.check_exited(self.do_wait(pid, timeout=30), pid, 2)


class ModuleWaitReturnCodeTest(ReturnCodeMixin, unittest.TestCase):

    def do_wait(self, pid, timeout=None):
        return procwait.wait(pid, timeout=timeout)


class ProcessWaitReturnCodeTest(ReturnCodeMixin, unittest.TestCase):

    def do_wait(self, pid, timeout=None):
        p = procwait.Process(pid)
        self.addCleanup(p.close)
        return p.wait(timeout=timeout)


class TimeoutTest(unittest.TestCase):

    def _check_timeout_exc(self, exc, pid, seconds):
        self.assertIsInstance(exc, procwait.Error)
        self.assertEqual(exc.pid, pid)
        self.assertAlmostEqual(exc.seconds, seconds, places=6)

    def test_timeout_zero_live_child(self):
        pid, release = blocking_child(self, code=4)
        t0 = time.monotonic()
        with self.assertRaises(procwait.TimeoutExpired) as cm:
            procwait.wait(pid, timeout=0)
        self.assertLess(time.monotonic() - t0, 0.5)
        self._check_timeout_exc(cm.exception, pid, 0)
        release()
        self.assertEqual(procwait.wait(pid).returncode, 4)

    def test_short_timeout(self):
        pid, release = blocking_child(self, code=5)
        t0 = time.monotonic()
        with self.assertRaises(procwait.TimeoutExpired) as cm:
            procwait.wait(pid, timeout=0.2)
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 0.2 - 1e-3)
        self.assertLess(elapsed, 5.0)
        self._check_timeout_exc(cm.exception, pid, 0.2)
        # still waitable afterwards, through a handle too
        p = procwait.Process(pid)
        self.addCleanup(p.close)
        with self.assertRaises(procwait.TimeoutExpired) as cm:
            p.wait(timeout=0.05)
        self._check_timeout_exc(cm.exception, pid, 0.05)
        release()
        st = p.wait(timeout=None)
        self.assertEqual(st.returncode, 5)

    def test_none_waits_until_exit(self):
        def body():
            time.sleep(0.3)
            return 0
        pid = fork_child(self, body)
        t0 = time.monotonic()
        st = procwait.wait(pid, timeout=None)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        self.assertEqual(st.returncode, 0)
        self.assertEqual(st.pid, pid)

    def test_default_timeout_waits_until_exit(self):
        pid, release = blocking_child(self, code=6)
        threading.Timer(0.2, release).start()
        self.assertEqual(procwait.wait(pid).returncode, 6)

    def test_huge_timeout(self):
        pid = _exit_child(self, 8)
        self.assertEqual(procwait.wait(pid, timeout=1e9).returncode, 8)

    def test_timeout_zero_on_exited_child_returns(self):
        pid = _exit_child(self, 9)
        _util.wait_state(pid, "Z")
        st = procwait.wait(pid, timeout=0)
        self.assertEqual(st.returncode, 9)

    def test_negative_timeout_is_value_error(self):
        pid, release = blocking_child(self)
        with self.assertRaises(ValueError):
            procwait.wait(pid, timeout=-1)
        with self.assertRaises(ValueError):
            procwait.wait(pid, timeout=-0.5)
        p = procwait.Process(pid)
        self.addCleanup(p.close)
        with self.assertRaises(ValueError):
            p.wait(timeout=-1)
        # the child was not reaped by the failed calls
        self.assertEqual(os.waitpid(pid, os.WNOHANG), (0, 0))


class BadArgumentTest(unittest.TestCase):

    def test_pid_not_positive(self):
        for pid in (0, -1, -os.getpid()):
            with self.assertRaises(ValueError, msg=str(pid)):
                procwait.wait(pid, timeout=0)

    def test_pid_not_int(self):
        for pid in ("1", 1.5, None, b"1"):
            with self.assertRaises((ValueError, TypeError), msg=repr(pid)):
                procwait.wait(pid, timeout=0)


class NonChildTest(unittest.TestCase):
    """A grandchild whose parent exited: not our child, so its exit is known
    but its status is not."""

    def _grandchild(self, reap_by_middle):
        """Start M (our child, a child subreaper) -> C -> G; C exits so G is
        re-parented to M (not to us). G blocks on a pipe until we close it
        and then exits 9. When reap_by_middle, M reaps G as soon as it
        exits (as an init that reaps would); otherwise M leaves G a zombie
        until we close `hold`. Returns (gpid, release, hold)."""
        info = Pipe(self)
        go = Pipe(self)
        hold = Pipe(self)

        def middle():
            os.close(info.r)
            os.close(go.w)
            os.close(hold.w)
            _util.prctl(_util.PR_SET_CHILD_SUBREAPER, 1)
            c = os.fork()
            if c == 0:
                g = os.fork()
                if g == 0:
                    os.read(go.r, 1)
                    os._exit(9)
                os.write(info.w, b"%d\n" % g)
                os._exit(0)
            os.waitpid(c, 0)
            if not reap_by_middle:
                os.read(hold.r, 1)
            while True:
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    return 0

        fork_child(self, middle, grace=5.0)
        info.close_w()
        go.close_r()
        hold.close_r()
        line = b""
        while not line.endswith(b"\n"):
            line += _util.read_exact(info.r, 1)
        gpid = int(line)
        # pin G for a reuse-safe kill at cleanup, in case the test fails
        try:
            pidfd = os.pidfd_open(gpid)
        except OSError:
            pidfd = None

        def kill_g():
            try:
                if pidfd is None:
                    os.kill(gpid, signal.SIGKILL)
                else:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if pidfd is not None:
                os.close(pidfd)
        self.addCleanup(kill_g)
        self.addCleanup(hold.close_w)
        # G is not our child
        with self.assertRaises(ChildProcessError):
            os.waitpid(gpid, os.WNOHANG)
        return gpid, go.close_w, hold.close_w

    def _check_unknown(self, st, gpid):
        self.assertEqual(st.pid, gpid)
        self.assertIs(st.known, False)
        self.assertIsNone(st.returncode)
        self.assertIsNone(st.exitcode)
        self.assertIsNone(st.signal)
        self.assertIsNone(st.shell())

    def test_non_child_wait(self):
        gpid, release, _hold = self._grandchild(reap_by_middle=True)
        with self.assertRaises(procwait.TimeoutExpired):
            procwait.wait(gpid, timeout=0)
        timer = threading.Timer(0.2, release)
        timer.start()
        self.addCleanup(timer.cancel)
        st = procwait.wait(gpid, timeout=30)
        self._check_unknown(st, gpid)

    def test_non_child_process_wait(self):
        gpid, release, _hold = self._grandchild(reap_by_middle=True)
        p = procwait.Process(gpid)
        self.addCleanup(p.close)
        with self.assertRaises(procwait.TimeoutExpired):
            p.wait(timeout=0.05)
        release()
        self._check_unknown(p.wait(timeout=30), gpid)

    def test_non_child_zombie(self):
        # G exited, but its parent has not reaped it (as under an init that
        # does not reap): it has exited all the same.
        gpid, release, hold = self._grandchild(reap_by_middle=False)
        release()
        _util.wait_state(gpid, "Z")
        st = procwait.wait(gpid, timeout=10)
        self._check_unknown(st, gpid)
        hold()

    def test_non_child_wait_gone(self):
        # psutil's meaning, asked for: until the parent has reaped it.
        gpid, release, hold = self._grandchild(reap_by_middle=False)
        p = procwait.Process(gpid)
        self.addCleanup(p.close)
        release()
        _util.wait_state(gpid, "Z")
        self._check_unknown(p.wait(timeout=10), gpid)          # exited: at once
        with self.assertRaises(procwait.TimeoutExpired):
            p.wait(timeout=0.2, gone=True)                     # not reaped yet
        self.assertEqual(_util.proc_state(gpid), "Z")
        timer = threading.Timer(0.2, hold)
        timer.start()
        self.addCleanup(timer.cancel)
        t0 = time.monotonic()
        self._check_unknown(p.wait(timeout=30, gone=True), gpid)
        self.assertGreater(time.monotonic() - t0, 0.1)
        with self.assertRaises(procwait.NoSuchProcess):
            procwait.Process(gpid)
        self._check_unknown(p.wait(gone=True), gpid)           # and again

    def test_child_wait_gone(self):
        pid = _exit_child(self, 4)
        p = procwait.Process(pid)
        self.addCleanup(p.close)
        self.assertEqual(p.wait(timeout=30, gone=True).returncode, 4)   # reaped by it


class ReapedPidTest(unittest.TestCase):

    def _reaped_pid(self):
        pid = _exit_child(self, 0)
        os.waitpid(pid, 0)
        return pid

    def test_wait_reaped_pid(self):
        pid = self._reaped_pid()
        with self.assertRaises(procwait.NoSuchProcess) as cm:
            procwait.wait(pid, timeout=0)
        self.assertEqual(cm.exception.pid, pid)
        self.assertIsInstance(cm.exception, procwait.Error)
        with self.assertRaises(procwait.NoSuchProcess):
            procwait.wait(pid)

    def test_process_reaped_pid(self):
        pid = self._reaped_pid()
        with self.assertRaises(procwait.NoSuchProcess) as cm:
            procwait.Process(pid)
        self.assertEqual(cm.exception.pid, pid)

    def test_second_process_wait_returns_the_status_again(self):
        # psutil's contract: a second wait() gives the same code. The
        # status is the Process's; the pid itself is gone.
        pid = _exit_child(self, 3)
        p = procwait.Process(pid)
        self.addCleanup(p.close)
        st = p.wait()
        self.assertEqual(st.returncode, 3)
        self.assertEqual(p.wait(), st)
        self.assertEqual(p.wait(timeout=0), st)
        with self.assertRaises(procwait.NoSuchProcess):
            procwait.wait(pid, timeout=0)


class FdLeakTest(unittest.TestCase):

    def test_wait_does_not_leak_fds(self):
        before = _util.open_fds()
        for i in range(20):
            pid = _exit_child(self, i)
            self.assertEqual(procwait.wait(pid).returncode, i)
        pid, release = blocking_child(self)
        for _ in range(5):
            with self.assertRaises(procwait.TimeoutExpired):
                procwait.wait(pid, timeout=0)
        release()
        procwait.wait(pid)
        self.assertEqual(_util.open_fds(), before)


if __name__ == "__main__":
    unittest.main()


class ReviewFindingsWaitTest(unittest.TestCase):
    """Behaviour pinned after the binding's review."""

    def test_waiting_for_itself_forever_is_edeadlk(self):
        with self.assertRaises(OSError) as cm:
            procwait.wait(os.getpid())
        self.assertEqual(cm.exception.errno, errno.EDEADLK)
        with procwait.Process() as me:
            with self.assertRaises(OSError) as cm:
                me.wait()
            self.assertEqual(cm.exception.errno, errno.EDEADLK)
            with self.assertRaises(procwait.TimeoutExpired):
                me.wait(timeout=0.05)

    def test_infinite_timeout_waits(self):
        pid = fork_child(self, lambda: 4)
        self.assertEqual(procwait.wait(pid, timeout=float("inf")).returncode, 4)

    def test_timeout_must_be_a_number(self):
        pid, release = blocking_child(self)
        for bad in ("3", b"3", [1]):
            with self.assertRaises(TypeError, msg=repr(bad)):
                procwait.wait(pid, timeout=bad)
        release()
        self.assertEqual(procwait.wait(pid).returncode, 0)

    def test_status_pickles_and_copies(self):
        import copy
        import pickle
        pid = fork_child(self, lambda: 9)
        st = procwait.wait(pid)
        self.assertEqual(pickle.loads(pickle.dumps(st)), st)
        self.assertEqual(copy.copy(st), st)
        self.assertEqual(copy.deepcopy(st).returncode, 9)

    def test_ctrl_c_interrupts_a_wait(self):
        # a python blocked in procwait.wait() on a sleeping child gets its
        # KeyboardInterrupt at once, under whichever backend is in force
        code = ("import os, sys, procwait\n"
                "pid = os.posix_spawn('/bin/sleep', ['sleep', '30'], os.environ)\n"
                "sys.stdout.write('%d\\n' % pid); sys.stdout.flush()\n"
                "try:\n"
                "    procwait.wait(pid)\n"
                "except KeyboardInterrupt:\n"
                "    os.kill(pid, 9); procwait.wait(pid); sys.exit(42)\n"
                "sys.exit(1)\n")
        import subprocess
        # (SIGINT at its default in the child, so that python turns it into
        # KeyboardInterrupt even when the tests run with it ignored)
        child = subprocess.Popen([PYTHON, "-c", code], stdout=subprocess.PIPE,
                                 preexec_fn=_util.default_signals)
        self.addCleanup(child.stdout.close)
        self.addCleanup(lambda: child.poll() is None and child.kill())
        grandchild = int(child.stdout.readline())
        self.assertGreater(grandchild, 0)
        time.sleep(0.3)             # let it block in the wait
        t0 = time.monotonic()
        child.send_signal(signal.SIGINT)
        self.assertEqual(child.wait(timeout=10), 42)
        self.assertLess(time.monotonic() - t0, 2.0)
