"""procwait.Process: the psutil-named accessors (against os/resource always,
against psutil where it is installed), oneshot(), zombies, signals, fileno,
as_dict, close."""
import io
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import procwait

from tests import _util
from tests._util import (BINDING_DIR, PYTHON, Pipe, blocking_child,
                         fork_child, require_psutil, spawn)

MiB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
CPU_SLACK = 0.05
SLEEP = os.path.realpath(shutil.which("sleep") or "/bin/sleep")

ACCESSORS = ("name", "exe", "cmdline", "cwd", "ppid", "status", "cpu_times",
             "create_time", "terminal", "num_threads", "nice", "memory_info",
             "num_ctx_switches", "uids", "gids")


def _psutil_terminal(pp):
    """psutil's terminal(), after dropping psutil's memoized map of /dev
    (stale once a test made a new pty)."""
    try:
        from psutil import _psposix
        _psposix.get_terminal_map.cache_clear()
    except (ImportError, AttributeError):
        pass
    return pp.terminal()


def _open(tc, pid=None):
    p = procwait.Process(pid)
    tc.addCleanup(p.close)
    return p


def _sleep_child(tc, cwd=None):
    """/bin/sleep (exec'd, then asleep) as a child, with cwd."""
    pid = spawn(tc, [SLEEP, "1000"], cwd=cwd)
    _util.wait_state(pid, "S")
    return pid


class TypesMixin:

    def check_types(self, p):
        self.assertIsInstance(p.pid, int)
        self.assertIsInstance(p.name(), str)
        self.assertIsInstance(p.exe(), str)
        cmd = p.cmdline()
        self.assertIsInstance(cmd, list)
        for a in cmd:
            self.assertIsInstance(a, str)
        self.assertIsInstance(p.cwd(), str)
        self.assertIsInstance(p.ppid(), int)
        self.assertIsInstance(p.status(), str)
        ct = p.cpu_times()
        self.assertIsInstance(ct, procwait.pcputimes)
        self.assertEqual(ct._fields, ("user", "system", "children_user",
                                      "children_system", "iowait"))
        for v in ct:
            self.assertIsInstance(v, float)
            self.assertGreaterEqual(v, 0.0)
        self.assertIsInstance(p.create_time(), float)
        t = p.terminal()
        self.assertTrue(t is None or isinstance(t, str), repr(t))
        self.assertIsInstance(p.num_threads(), int)
        self.assertIsInstance(p.nice(), int)
        mi = p.memory_info()
        self.assertIsInstance(mi, procwait.pmem)
        self.assertEqual(mi._fields, ("rss", "vms", "shared", "text", "lib",
                                      "data", "dirty"))
        for v in mi:
            self.assertIsInstance(v, int)
        self.assertEqual((mi.lib, mi.dirty), (0, 0))
        cs = p.num_ctx_switches()
        self.assertIsInstance(cs, procwait.pctxsw)
        self.assertEqual(cs._fields, ("voluntary", "involuntary"))
        u = p.uids()
        self.assertIsInstance(u, procwait.puids)
        self.assertEqual(u._fields, ("real", "effective", "saved"))
        g = p.gids()
        self.assertIsInstance(g, procwait.pgids)
        self.assertEqual(g._fields, ("real", "effective", "saved"))


class PsutilCompareMixin:

    def compare_with_psutil(self, p, pp, mem_slack):
        """Every accessor of procwait Process p against psutil Process pp."""
        self.assertEqual(p.pid, pp.pid)
        self.assertEqual(p.name(), pp.name())
        self.assertEqual(p.exe(), pp.exe())
        self.assertEqual(p.cmdline(), pp.cmdline())
        self.assertEqual(p.cwd(), pp.cwd())
        self.assertEqual(p.ppid(), pp.ppid())
        self.assertEqual(p.status(), pp.status())
        self.assertEqual(p.terminal(), _psutil_terminal(pp))
        self.assertEqual(p.num_threads(), pp.num_threads())
        self.assertEqual(p.nice(), pp.nice())
        self.assertEqual(tuple(p.uids()), tuple(pp.uids()))
        self.assertEqual(tuple(p.gids()), tuple(pp.gids()))
        self.assertEqual(p.create_time(), pp.create_time())

        before = pp.cpu_times()
        ours = p.cpu_times()
        after = pp.cpu_times()
        for f in ours._fields:
            self.assertGreaterEqual(getattr(ours, f), getattr(before, f) - CPU_SLACK, f)
            self.assertLessEqual(getattr(ours, f), getattr(after, f) + CPU_SLACK, f)

        before = pp.num_ctx_switches()
        ours = p.num_ctx_switches()
        after = pp.num_ctx_switches()
        for f in ("voluntary", "involuntary"):
            self.assertGreaterEqual(getattr(ours, f), getattr(before, f), f)
            self.assertLessEqual(getattr(ours, f), getattr(after, f), f)

        theirs = pp.memory_info()
        ours = p.memory_info()
        off = ["%s: procwait %d, psutil %d" % (f, getattr(ours, f), getattr(theirs, f))
               for f in ("rss", "vms", "shared", "text", "data")
               if abs(getattr(ours, f) - getattr(theirs, f)) > mem_slack]
        self.assertEqual(off, [], "memory_info differs by more than %d bytes"
                         % mem_slack)
        self.assertEqual((ours.lib, ours.dirty), (0, 0))


class SelfTest(TypesMixin, PsutilCompareMixin, unittest.TestCase):
    """(a) the test process itself."""

    def test_pid(self):
        self.assertEqual(_open(self).pid, os.getpid())
        self.assertEqual(_open(self, None).pid, os.getpid())
        self.assertEqual(_open(self, os.getpid()).pid, os.getpid())

    def test_types(self):
        self.check_types(_open(self))

    def test_against_os(self):
        p = _open(self)
        self.assertEqual(p.ppid(), os.getppid())
        self.assertEqual(tuple(p.uids()), os.getresuid())
        self.assertEqual(tuple(p.gids()), os.getresgid())
        self.assertEqual(p.nice(), os.getpriority(os.PRIO_PROCESS, 0))
        self.assertEqual(p.cwd(), os.getcwd())
        self.assertEqual(p.exe(), os.readlink("/proc/self/exe"))
        with open("/proc/self/cmdline", "rb") as f:
            raw = f.read()
        self.assertEqual(p.cmdline(), [a.decode(errors="surrogateescape")
                                       for a in raw.split(b"\0")[:-1]])
        self.assertEqual(p.status(), "running")
        self.assertEqual(p.num_threads(), len(os.listdir("/proc/self/task")))
        self.assertLessEqual(p.create_time(), time.time())

        before = os.times()
        ours = p.cpu_times()
        after = os.times()
        for f in ("user", "system", "children_user", "children_system"):
            self.assertGreaterEqual(getattr(ours, f), getattr(before, f) - CPU_SLACK, f)
            self.assertLessEqual(getattr(ours, f), getattr(after, f) + CPU_SLACK, f)

        with open("/proc/self/statm") as f:
            vms_pages, rss_pages = [int(x) for x in f.read().split()[:2]]
        mi = p.memory_info()
        self.assertLessEqual(abs(mi.rss - rss_pages * PAGE), 2 * MiB)
        self.assertLessEqual(abs(mi.vms - vms_pages * PAGE), 2 * MiB)

    def test_nice_follows_setpriority(self):
        # in a child, so that the test process keeps its priority
        def body():
            os.setpriority(os.PRIO_PROCESS, 0, 7)
            with procwait.Process() as p:
                return 0 if p.nice() == 7 == os.getpriority(os.PRIO_PROCESS, 0) else 1
        pid = fork_child(self, body)
        self.assertEqual(procwait.wait(pid, timeout=30).returncode, 0)

    def test_against_psutil(self):
        psutil = require_psutil(self)
        self.compare_with_psutil(_open(self), psutil.Process(), 2 * MiB)

    def test_create_time_is_an_identity_key(self):
        # (pid, create_time) names one process: every handle gives the
        # same float, and so does psutil for every process it can see
        times = set()
        for _ in range(200):
            with procwait.Process(os.getpid()) as p:
                times.add(p.create_time())
        self.assertEqual(len(times), 1, sorted(times))
        try:
            import psutil
        except ImportError:
            return
        self.assertEqual(times, {psutil.Process().create_time()})
        seen = 0
        for pid in psutil.pids():
            try:
                want = psutil.Process(pid).create_time()
                with procwait.Process(pid) as p:
                    got = p.create_time()
            except (psutil.NoSuchProcess, procwait.NoSuchProcess):
                continue
            self.assertEqual(got, want, "pid %d" % pid)
            seen += 1
        self.assertGreater(seen, 2)


class SleepingChildTest(TypesMixin, PsutilCompareMixin, unittest.TestCase):
    """(b) a sleeping child: /bin/sleep in its own cwd, reniced."""

    def setUp(self):
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="procwait-cwd-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.t0 = time.time()
        self.pid = _sleep_child(self, cwd=self.tmp)
        self.t1 = time.time()
        os.setpriority(os.PRIO_PROCESS, self.pid, 5)
        self.p = _open(self, self.pid)

    def test_types(self):
        self.check_types(self.p)

    def test_known_values(self):
        p = self.p
        self.assertEqual(p.pid, self.pid)
        self.assertEqual(p.name(), "sleep")
        self.assertEqual(p.exe(), SLEEP)
        self.assertEqual(p.cmdline(), [SLEEP, "1000"])
        self.assertEqual(p.cwd(), self.tmp)
        self.assertEqual(p.ppid(), os.getpid())
        self.assertEqual(p.status(), "sleeping")
        self.assertEqual(p.num_threads(), 1)
        self.assertEqual(p.nice(), 5)
        self.assertEqual(p.nice(), os.getpriority(os.PRIO_PROCESS, self.pid))
        self.assertEqual(tuple(p.uids()), os.getresuid())
        self.assertEqual(tuple(p.gids()), os.getresgid())
        ct = p.create_time()
        self.assertGreaterEqual(ct, self.t0 - 1.0)
        self.assertLessEqual(ct, self.t1 + 1.0)
        self.assertLess(p.cpu_times().user, 1.0)
        mi = p.memory_info()
        self.assertGreater(mi.rss, 0)
        self.assertGreater(mi.vms, mi.rss)
        self.assertGreater(p.num_ctx_switches().voluntary, 0)

    def test_against_psutil(self):
        psutil = require_psutil(self)
        self.compare_with_psutil(self.p, psutil.Process(self.pid), 2 * PAGE)

    def test_stopped(self):
        os.kill(self.pid, signal.SIGSTOP)
        _util.wait_state(self.pid, "T")
        self.assertEqual(self.p.status(), "stopped")
        os.kill(self.pid, signal.SIGCONT)
        _util.wait_state(self.pid, "S")
        self.assertEqual(self.p.status(), "sleeping")

    def test_as_dict(self):
        p = self.p
        d = p.as_dict(attrs=["name", "ppid"])
        self.assertEqual(d, {"name": "sleep", "ppid": os.getpid()})
        d = p.as_dict()
        self.assertIsInstance(d, dict)
        for key in ACCESSORS:
            self.assertIn(key, d)
        self.assertEqual(d["name"], "sleep")
        self.assertEqual(d["exe"], SLEEP)
        self.assertEqual(d["cmdline"], [SLEEP, "1000"])
        self.assertEqual(d["cwd"], self.tmp)
        self.assertEqual(d["ppid"], os.getpid())
        self.assertEqual(d["status"], "sleeping")
        self.assertEqual(d["nice"], 5)
        self.assertEqual(d["num_threads"], 1)
        self.assertEqual(tuple(d["uids"]), os.getresuid())
        self.assertEqual(tuple(d["gids"]), os.getresgid())
        self.assertEqual(d["terminal"], p.terminal())
        self.assertLess(abs(d["create_time"] - p.create_time()), 1e-6)
        self.assertIsInstance(d["memory_info"], procwait.pmem)
        self.assertIsInstance(d["cpu_times"], procwait.pcputimes)


class ChildNameTest(unittest.TestCase):

    def _renamed(self, name):
        pid, _release = blocking_child(self, name=name)
        _util.wait_state(pid, "S")
        return pid, _open(self, pid)

    def test_paren_space_name(self):
        t0 = time.time()
        pid, p = self._renamed("a) b")
        self.assertEqual(p.name(), "a) b")
        self.assertEqual(p.ppid(), os.getpid())
        self.assertEqual(p.status(), "sleeping")
        self.assertEqual(p.num_threads(), 1)
        self.assertEqual(p.nice(), os.getpriority(os.PRIO_PROCESS, 0))
        self.assertGreaterEqual(p.create_time(), t0 - 1.0)
        self.assertLessEqual(p.create_time(), time.time() + 1.0)
        self.assertEqual(p.cwd(), os.getcwd())
        self.assertEqual(p.exe(), os.readlink("/proc/self/exe"))
        with p.oneshot():
            self.assertEqual(p.name(), "a) b")
            self.assertEqual(p.ppid(), os.getpid())
            self.assertEqual(p.status(), "sleeping")

    def test_paren_space_name_psutil(self):
        psutil = require_psutil(self)
        pid, p = self._renamed("a) b")
        pp = psutil.Process(pid)
        self.assertEqual(p.name(), pp.name())
        self.assertEqual(p.ppid(), os.getpid())
        self.assertEqual(p.status(), pp.status())
        self.assertEqual(p.create_time(), pp.create_time())
        self.assertEqual(p.memory_info().vms, pp.memory_info().vms)

    def test_newline_and_parens_name(self):
        name = "x) (y\nz) S 1"
        pid, p = self._renamed(name)
        self.assertEqual(p.name(), name)
        self.assertEqual(p.ppid(), os.getpid())
        self.assertEqual(p.status(), "sleeping")

    def _long_name_child(self, linkname, argv0_name):
        tmp = tempfile.mkdtemp(prefix="procwait-name-")
        self.addCleanup(shutil.rmtree, tmp, True)
        link = os.path.join(tmp, linkname)
        os.symlink(SLEEP, link)
        argv0 = os.path.join(tmp, argv0_name)
        pid = fork_child(self, lambda: os.execv(link, [argv0, "1000"]))
        _util.wait_state(pid, "S")
        # exec'd: comm is the link's basename, cut to 15 bytes
        with open("/proc/%d/comm" % pid) as f:
            self.assertEqual(f.read().rstrip("\n"), linkname[:15])
        return pid, _open(self, pid)

    def test_long_name_extended_from_cmdline(self):
        self._long_name_extended_from_cmdline(with_psutil=False)

    def test_long_name_extended_from_cmdline_psutil(self):
        require_psutil(self)
        self._long_name_extended_from_cmdline(with_psutil=True)

    def _long_name_extended_from_cmdline(self, with_psutil):
        name = "procwait-long-name-test"
        pid, p = self._long_name_child(name, name)
        self.assertEqual(p.name(), name)
        if not with_psutil:
            return
        import psutil
        self.assertEqual(p.name(), psutil.Process(pid).name())

    def test_long_name_not_extended_when_cmdline_differs(self):
        self._long_name_not_extended_when_cmdline_differs(with_psutil=False)

    def test_long_name_not_extended_when_cmdline_differs_psutil(self):
        require_psutil(self)
        self._long_name_not_extended_when_cmdline_differs(with_psutil=True)

    def _long_name_not_extended_when_cmdline_differs(self, with_psutil):
        name = "procwait-long-name-test"
        pid, p = self._long_name_child(name, "something-else-entirely")
        self.assertEqual(p.name(), name[:15])
        if not with_psutil:
            return
        import psutil
        self.assertEqual(p.name(), psutil.Process(pid).name())


class CredentialsTest(unittest.TestCase):

    def test_distinct_uids_gids(self):
        self._distinct_uids_gids(with_psutil=False)

    def test_distinct_uids_gids_psutil(self):
        require_psutil(self)
        self._distinct_uids_gids(with_psutil=True)

    def _distinct_uids_gids(self, with_psutil):
        if os.geteuid() != 0:
            self.skipTest("needs root to set distinct real/effective/saved ids")
        ready = Pipe(self)
        go = Pipe(self)

        def body():
            os.close(ready.r)
            os.close(go.w)
            os.setgroups([])
            os.setresgid(1001, 1002, 1003)
            os.setresuid(2001, 2002, 2003)
            os.write(ready.w, b"r")
            os.read(go.r, 1)
            return 0

        pid = fork_child(self, body)
        ready.close_w()
        go.close_r()
        _util.read_exact(ready.r, 1)
        p = _open(self, pid)
        self.assertEqual(tuple(p.uids()), (2001, 2002, 2003))
        self.assertEqual(tuple(p.gids()), (1001, 1002, 1003))
        self.assertEqual(p.uids().effective, 2002)
        self.assertEqual(p.gids().saved, 1003)
        if not with_psutil:
            return
        import psutil
        pp = psutil.Process(pid)
        self.assertEqual(tuple(p.uids()), tuple(pp.uids()))
        self.assertEqual(tuple(p.gids()), tuple(pp.gids()))


class TerminalTest(unittest.TestCase):

    def test_controlling_terminal(self):
        self._controlling_terminal(with_psutil=False)

    def test_controlling_terminal_psutil(self):
        require_psutil(self)
        self._controlling_terminal(with_psutil=True)

    def _controlling_terminal(self, with_psutil):
        import fcntl
        import termios
        try:
            master, slave = os.openpty()
        except OSError as e:
            self.skipTest("no pseudo-terminal: %s" % e)
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        ttyname = os.ttyname(slave)
        ready = Pipe(self)
        go = Pipe(self)

        def body():
            os.close(ready.r)
            os.close(go.w)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            os.write(ready.w, b"r")
            os.read(go.r, 1)
            return 0

        pid = fork_child(self, body)
        ready.close_w()
        go.close_r()
        _util.read_exact(ready.r, 1)
        p = _open(self, pid)
        self.assertEqual(p.terminal(), ttyname)
        if not with_psutil:
            return
        import psutil
        self.assertEqual(p.terminal(), _psutil_terminal(psutil.Process(pid)))

    def test_no_terminal(self):
        def body():
            os.setsid()  # no controlling terminal any more
            time.sleep(60)
        pid = fork_child(self, body)
        _util.wait_state(pid, "S")
        deadline = time.monotonic() + 10
        while os.getsid(pid) != pid and time.monotonic() < deadline:
            time.sleep(0.005)
        self.assertIsNone(_open(self, pid).terminal())


class KernelThreadTest(unittest.TestCase):

    def test_kthreadd_exe_is_empty(self):
        self._kthreadd_exe_is_empty(with_psutil=False)

    def test_kthreadd_exe_is_empty_psutil(self):
        require_psutil(self)
        self._kthreadd_exe_is_empty(with_psutil=True)

    def _kthreadd_exe_is_empty(self, with_psutil):
        try:
            with open("/proc/2/stat", "rb") as f:
                data = f.read()
        except OSError:
            self.skipTest("no pid 2 here")
        flags = int(data[data.rindex(b")") + 2:].split()[6])
        if not flags & 0x00200000:  # PF_KTHREAD
            self.skipTest("pid 2 is not a kernel thread here")
        p = _open(self, 2)
        if os.geteuid() == 0:
            self.assertEqual(p.exe(), "")
        else:
            # readlink(/proc/2/exe) is EACCES for non-root: psutil says
            # AccessDenied; "" (known to be a kernel thread) is fine too
            try:
                self.assertEqual(p.exe(), "")
            except procwait.AccessDenied as e:
                self.assertEqual(e.pid, 2)
        self.assertEqual(p.cmdline(), [])
        self.assertEqual(p.ppid(), 0)
        self.assertEqual(p.name(), data[data.index(b"(") + 1:data.rindex(b")")].decode())
        if not with_psutil:
            return
        import psutil
        pp = psutil.Process(2)
        self.assertEqual((p.name(), p.cmdline()), (pp.name(), pp.cmdline()))
        if os.geteuid() == 0:
            self.assertEqual(p.exe(), pp.exe())


class OneshotTest(unittest.TestCase):

    def setUp(self):
        self.req = Pipe(self)
        self.ack = Pipe(self)
        req, ack = self.req, self.ack

        def body():
            os.close(req.w)
            os.close(ack.r)
            _util.set_comm("pw-old")
            os.write(ack.w, b"k")
            while True:
                b = os.read(req.r, 64)
                if not b:
                    return 0
                _util.set_comm(b)
                os.write(ack.w, b"k")

        self.pid = fork_child(self, body)
        req.close_r()
        ack.close_w()
        _util.read_exact(ack.r, 1)
        _util.wait_state(self.pid, "S")
        self.p = _open(self, self.pid)

    def rename(self, name):
        os.write(self.req.w, name.encode())
        _util.read_exact(self.ack.r, 1)
        _util.wait_state(self.pid, "S")

    def test_oneshot_serves_one_read(self):
        p = self.p
        self.assertEqual(p.name(), "pw-old")
        with p.oneshot():
            self.assertEqual(p.name(), "pw-old")
            cs = p.num_ctx_switches()
            self.rename("pw-new1")
            self.assertEqual(p.name(), "pw-old")
            self.assertEqual(p.num_ctx_switches(), cs)
        self.assertEqual(p.name(), "pw-new1")
        self.assertGreater(p.num_ctx_switches().voluntary, cs.voluntary)

    def test_outside_oneshot_each_call_reads_fresh(self):
        p = self.p
        self.assertEqual(p.name(), "pw-old")
        cs = p.num_ctx_switches()
        self.rename("pw-new2")
        self.assertEqual(p.name(), "pw-new2")
        cs2 = p.num_ctx_switches()
        self.assertGreater(cs2.voluntary, cs.voluntary)
        self.rename("pw-new3")
        self.assertEqual(p.name(), "pw-new3")
        self.assertGreater(p.num_ctx_switches().voluntary, cs2.voluntary)

    def test_oneshot_nested(self):
        p = self.p
        with p.oneshot():
            self.assertEqual(p.name(), "pw-old")
            with p.oneshot():
                self.rename("pw-new4")
                self.assertEqual(p.name(), "pw-old")
            # the inner block's end does not end the outer one
            self.assertEqual(p.name(), "pw-old")
        self.assertEqual(p.name(), "pw-new4")
        # and a new block takes a new snapshot
        with p.oneshot():
            self.assertEqual(p.name(), "pw-new4")
            self.rename("pw-new5")
            self.assertEqual(p.name(), "pw-new4")
        self.assertEqual(p.name(), "pw-new5")


class ZombieTest(unittest.TestCase):

    def _check_zombie(self, p, pid):
        # exe() answers "" for a zombie, as psutil 5.9 does; cwd() raises
        self.assertEqual(p.exe(), "")
        with self.assertRaises(procwait.ZombieProcess) as cm:
            p.cwd()
        self.assertEqual(cm.exception.pid, pid)
        self.assertIsInstance(cm.exception, procwait.NoSuchProcess)
        self.assertIn(cm.exception.ppid, (None, os.getpid()))
        self.assertEqual(p.status(), "zombie")
        self.assertEqual(p.name(), "pw-zombie")
        self.assertEqual(p.ppid(), os.getpid())

    def _check_gone(self, p, pid):
        for acc in ("name", "status", "ppid", "exe", "cwd", "cmdline",
                    "cpu_times", "memory_info", "num_ctx_switches", "uids"):
            with self.assertRaises(procwait.NoSuchProcess, msg=acc) as cm:
                getattr(p, acc)()
            self.assertNotIsInstance(cm.exception, procwait.ZombieProcess, acc)
            self.assertEqual(cm.exception.pid, pid, acc)

    def test_zombie_opened_while_alive(self):
        pid, release = blocking_child(self, name="pw-zombie", code=3)
        p = _open(self, pid)
        self.assertEqual(p.name(), "pw-zombie")
        release()
        _util.wait_state(pid, "Z")
        self._check_zombie(p, pid)
        # reaped while the Process exists
        self.assertEqual(os.waitpid(pid, 0)[0], pid)
        self._check_gone(p, pid)

    def test_zombie_opened_as_zombie(self):
        pid, release = blocking_child(self, name="pw-zombie", code=3)
        release()
        _util.wait_state(pid, "Z")
        p = _open(self, pid)
        self._check_zombie(p, pid)
        with p.oneshot():
            self.assertEqual(p.status(), "zombie")
            with self.assertRaises(procwait.ZombieProcess):
                p.cwd()
        st = p.wait(timeout=0)
        self.assertEqual(st.returncode, 3)
        self._check_gone(p, pid)


def _exit_child_code(tc, code):
    """A child that exits with code at once (not reaped yet)."""
    pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit %d" % code], os.environ)
    tc.addCleanup(_util.reap_or_kill, pid)
    return pid


class ReprAndNameTest(unittest.TestCase):

    def test_repr_says_what_is_known(self):
        pid = _exit_child_code(self, 5)
        p = _open(self, pid)
        self.assertEqual(repr(p), "procwait.Process(pid=%d)" % pid)
        name = p.name()
        p.wait(timeout=30)
        self.assertEqual(repr(p), "procwait.Process(pid=%d, name=%r, exitcode=5)" % (pid, name))
        p.close()
        self.assertTrue(repr(p).endswith(", closed)"))

    def test_create_time_after_reaping(self):
        # psutil answers the value it knew once the process is gone.
        pid = _exit_child_code(self, 0)
        p = _open(self, pid)
        t = p.create_time()
        p.wait(timeout=30)
        with self.assertRaises(procwait.NoSuchProcess):
            p.ppid()
        self.assertEqual(p.create_time(), t)

    def test_long_name_of_a_vanished_process_raises(self):
        # psutil's name() keeps the cut name when the command line is
        # refused, and raises when the process is gone meanwhile.
        pid = _exit_child_code(self, 0)
        p = _open(self, pid)
        real = procwait.Process.cmdline
        p._get = lambda mask, need=None: type("S", (), {"name": b"a-very-long-name"})()
        try:
            procwait.Process.cmdline = lambda self: (_ for _ in ()).throw(
                procwait.NoSuchProcess(pid))
            with self.assertRaises(procwait.NoSuchProcess):
                p.name()
            procwait.Process.cmdline = lambda self: (_ for _ in ()).throw(
                procwait.AccessDenied(pid))
            self.assertEqual(p.name(), "a-very-long-name")
        finally:
            procwait.Process.cmdline = real
        p.wait(timeout=30)


class PidArgumentTest(unittest.TestCase):

    def test_pid_zero_and_negative(self):
        # psutil on Linux: NoSuchProcess for 0 (no process has it),
        # ValueError for a negative pid.
        with self.assertRaises(procwait.NoSuchProcess) as cm:
            procwait.Process(0)
        self.assertEqual(cm.exception.pid, 0)
        for pid in (-1, -os.getpid()):
            with self.assertRaisesRegex(ValueError, "positive integer"):
                procwait.Process(pid)
        for pid in (False, 0.0, "0"):
            with self.assertRaises(TypeError, msg=repr(pid)):
                procwait.Process(pid)


class SignalTest(unittest.TestCase):

    def test_send_signal(self):
        pid, _release = blocking_child(self)
        p = _open(self, pid)
        p.send_signal(signal.SIGUSR1)
        st = p.wait(timeout=30)
        self.assertEqual((st.signal, st.returncode), (signal.SIGUSR1, -signal.SIGUSR1))
        with self.assertRaises(procwait.NoSuchProcess) as cm:
            p.send_signal(signal.SIGTERM)
        self.assertEqual(cm.exception.pid, pid)
        with self.assertRaises(procwait.NoSuchProcess):
            p.terminate()
        with self.assertRaises(procwait.NoSuchProcess):
            p.kill()

    def test_terminate(self):
        pid, _release = blocking_child(self)
        p = _open(self, pid)
        p.terminate()
        code = p.wait(timeout=30).returncode
        self.assertEqual(code, -signal.SIGTERM)
        # psutil's Negsignal: an int that names the signal
        self.assertIs(code, procwait.Negsignal.SIGTERM)
        self.assertIsInstance(code, int)
        self.assertEqual(str(code), "-15")
        try:
            from psutil import _psposix
        except ImportError:
            return
        self.assertEqual(code.name, _psposix.negsig_to_enum(-15).name)

    def test_exceptions_carry_the_name_known(self):
        # As psutil: once name() was read, the exceptions say it.
        pid, _release = blocking_child(self)
        p = _open(self, pid)
        with self.assertRaises(procwait.TimeoutExpired) as cm:
            p.wait(timeout=0)
        self.assertIsNone(cm.exception.name)
        name = p.name()
        with self.assertRaises(procwait.TimeoutExpired) as cm:
            p.wait(timeout=0)
        self.assertEqual(cm.exception.name, name)
        p.kill()
        p.wait(timeout=30)
        with self.assertRaises(procwait.NoSuchProcess) as cm:
            p.send_signal(signal.SIGTERM)
        self.assertEqual((cm.exception.pid, cm.exception.name), (pid, name))
        with self.assertRaises(procwait.NoSuchProcess) as cm:
            p.cwd()
        self.assertEqual(cm.exception.name, name)
        self.assertIn(name, str(cm.exception))

    def test_kill(self):
        pid, _release = blocking_child(self)
        p = _open(self, pid)
        p.kill()
        self.assertEqual(p.wait(timeout=30).returncode, -signal.SIGKILL)

    def test_signal_zero_probes(self):
        pid, release = blocking_child(self, code=1)
        p = _open(self, pid)
        p.send_signal(0)  # alive: no error
        release()
        self.assertEqual(p.wait(timeout=30).returncode, 1)
        with self.assertRaises(procwait.NoSuchProcess):
            p.send_signal(0)


class FilenoTest(unittest.TestCase):

    def test_fileno(self):
        pid, release = blocking_child(self, code=2)
        p = _open(self, pid)
        backend = procwait.backend()
        if backend == "poll":
            with self.assertRaises(io.UnsupportedOperation) as cm:
                p.fileno()
            self.assertIsInstance(cm.exception, OSError)
            release()
            self.assertEqual(p.wait(timeout=30).returncode, 2)
            return
        self.assertEqual(backend, "pidfd")
        fd = p.fileno()
        self.assertIsInstance(fd, int)
        self.assertGreaterEqual(fd, 0)
        with open("/proc/self/fdinfo/%d" % fd) as f:
            info = f.read()
        self.assertIn("Pid:\t%d\n" % pid, info)
        self.assertEqual(select.select([fd], [], [], 0)[0], [])
        release()
        self.assertEqual(select.select([fd], [], [], 30)[0], [fd])
        self.assertEqual(p.wait(timeout=0).returncode, 2)


class CloseTest(unittest.TestCase):

    def _use(self, p):
        p.name(); p.exe(); p.cwd(); p.cmdline(); p.memory_info()
        p.num_ctx_switches(); p.uids(); p.status()
        with p.oneshot():
            p.name(); p.gids()

    def test_close_releases_descriptors(self):
        pid, release = blocking_child(self, code=1)
        before = _util.open_fds()
        p = procwait.Process(pid)
        self._use(p)
        p.close()
        self.assertEqual(_util.open_fds(), before)
        with procwait.Process(pid) as p2:
            self.assertEqual(p2.pid, pid)
            self._use(p2)
        self.assertEqual(_util.open_fds(), before)
        release()
        self.assertEqual(procwait.wait(pid, timeout=30).returncode, 1)


class DescriptorBoundTest(unittest.TestCase):
    """Found by psutil's own tests run against procwait (a walk of every
    process failed with EMFILE after ten of them under ulimit -n 64): a
    Process keeps its pidfd, and the procinfo handles (five descriptors
    each) of a program are bounded; out of descriptors, the others are
    closed and the call is tried again."""

    CODE = r"""
import os, resource, sys
sys.path.insert(0, %(binding)r)
import procwait
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
kids = [os.posix_spawn("/bin/sleep", ["sleep", "60"], os.environ) for _ in range(40)]
procs = [procwait.Process(pid) for pid in kids]
for _ in range(3):
    for p in procs:
        with p.oneshot():
            assert p.name() == "sleep" and p.ppid() == os.getpid(), p
            p.uids(); p.memory_info(); p.status()
        assert p.cmdline() == ["sleep", "60"]
        assert p.cwd() == os.getcwd()
# Every descriptor taken: each call still gets one, from the handles.
spent = []
while True:
    try:
        spent.append(os.dup(0))
    except OSError:
        break
for p in procs[:5]:
    assert p.cmdline() == ["sleep", "60"] and p.num_ctx_switches().voluntary >= 0
for fd in spent:
    os.close(fd)
# A walk of the system's processes, ten at a time kept.
walked, keep = 0, []
for name in os.listdir("/proc"):
    if not name.isdigit():
        continue
    try:
        p = procwait.Process(int(name))
        p.name(); p.status(); p.create_time(); p.num_threads()
    except (procwait.NoSuchProcess, procwait.AccessDenied, ValueError):
        continue
    walked += 1
    keep = keep[-9:] + [p]
for p in procs:
    p.kill()
    assert p.wait(timeout=30).signal == 9
print("walked", walked)
"""

    def test_low_descriptor_limit(self):
        r = _util.run_python(self.CODE % {"binding": BINDING_DIR})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"walked [1-9]")


class AccessDeniedTest(unittest.TestCase):

    CODE = r"""
import procwait
p = procwait.Process(1)
print("NAME", p.name())
try:
    exe = p.exe()
except procwait.AccessDenied as e:
    print("DENIED", e.pid, isinstance(e, procwait.Error))
else:
    # psutil's guess: the first argument, an absolute path to an executable
    print("GUESSED", exe == p.cmdline()[0])
"""

    def test_exe_of_pid1(self):
        if os.geteuid() != 0:
            p = _open(self, 1)
            try:
                exe = p.exe()
            except procwait.AccessDenied as e:
                self.assertEqual(e.pid, 1)
            else:
                self.assertEqual(exe, p.cmdline()[0])   # psutil's guess
            return
        # root: ask as 'nobody' in a subprocess
        env = dict(os.environ, PYTHONPATH=BINDING_DIR)

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        r = None
        for exe in (sys.executable, PYTHON):
            try:
                r = subprocess.run([exe, "-c", self.CODE], env=env, cwd="/",
                                   preexec_fn=drop, capture_output=True,
                                   text=True, timeout=60)
                break
            except PermissionError:
                continue  # interpreter not executable by nobody: try the next
        if r is None:
            self.skipTest("no Python interpreter executable by nobody")
        if r.returncode != 0 and "ImportError" in r.stderr:
            self.skipTest("the binding or library is not readable by nobody: "
                          + r.stderr.strip().splitlines()[-1])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("NAME %s\n" % _open(self, 1).name(), r.stdout)
        self.assertRegex(r.stdout, "DENIED 1 True\n|GUESSED True\n")


class ExeGuessTest(unittest.TestCase):
    """As psutil: where exe may not be read, the first argument when it is
    an absolute path to an executable file (root's sleep, seen by nobody);
    not when it is a bare name."""

    CODE = r"""
import sys
import procwait
for pid in sys.argv[1:]:
    try:
        print("EXE", procwait.Process(int(pid)).exe())
    except procwait.AccessDenied:
        print("DENIED")
"""

    def test_guess(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: a process of root's, read as nobody")
        absolute = spawn(self, [SLEEP, "1000"])
        bare = os.posix_spawn(SLEEP, ["sleep", "1000"], os.environ)
        self.addCleanup(_util.reap_or_kill, bare)
        _util.wait_state(absolute, "S")
        _util.wait_state(bare, "S")
        env = dict(os.environ, PYTHONPATH=BINDING_DIR)

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        r = subprocess.run([PYTHON, "-c", self.CODE, str(absolute), str(bare)], env=env,
                           cwd="/", preexec_fn=drop, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0 and ("ImportError" in r.stderr or "Permission" in r.stderr):
            self.skipTest("the binding is not usable by nobody: " + r.stderr[-200:])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "EXE %s\nDENIED\n" % SLEEP)


class ErrorTypesTest(unittest.TestCase):

    def test_hierarchy(self):
        self.assertTrue(issubclass(procwait.Error, Exception))
        self.assertTrue(issubclass(procwait.NoSuchProcess, procwait.Error))
        self.assertTrue(issubclass(procwait.ZombieProcess, procwait.NoSuchProcess))
        self.assertTrue(issubclass(procwait.AccessDenied, procwait.Error))
        self.assertTrue(issubclass(procwait.TimeoutExpired, procwait.Error))
        self.assertFalse(issubclass(procwait.AccessDenied, procwait.NoSuchProcess))
        self.assertFalse(issubclass(procwait.TimeoutExpired, procwait.NoSuchProcess))

    def test_no_such_process_attributes(self):
        pid = fork_child(self, lambda: 0)
        os.waitpid(pid, 0)
        with self.assertRaises(procwait.NoSuchProcess) as cm:
            procwait.Process(pid)
        e = cm.exception
        self.assertEqual(e.pid, pid)
        self.assertTrue(hasattr(e, "name"))
        self.assertTrue(hasattr(e, "msg"))
        self.assertIn(str(pid), str(e))


if __name__ == "__main__":
    unittest.main()


class ReviewFindingsTest(unittest.TestCase):
    """Behaviour pinned after the binding's review."""

    def test_oneshot_failed_refill_keeps_earlier_fields(self):
        # name() fills the block from stat; the child is then reaped and
        # uids() (status) fails: the stat fields read before still serve
        pid, release = blocking_child(self, name="pw-keep")
        p = _open(self, pid)
        with p.oneshot():
            self.assertEqual(p.name(), "pw-keep")
            release()
            os.waitpid(pid, 0)
            with self.assertRaises(procwait.NoSuchProcess):
                p.uids()
            self.assertEqual(p.name(), "pw-keep")
            self.assertEqual(p.ppid(), os.getpid())
            self.assertIn(p.status(), ("sleeping", "running"))
        with self.assertRaises(procwait.NoSuchProcess):
            p.name()

    def test_threads_share_a_process(self):
        pid, _release = blocking_child(self, name="pw-threads")
        p = _open(self, pid)

        def work():
            for _ in range(300):
                self.assertEqual(p.name(), "pw-threads")
                self.assertEqual(p.uids().real, os.getuid())
                self.assertGreater(p.memory_info().rss, 0)

        before = len(os.listdir("/proc/self/task"))
        self.assertEqual(_util.run_threads(work, 4), [])
        # join() returns before the kernel has ended the threads: wait for
        # that, so that later tests counting this process's threads see
        # none of them
        deadline = time.monotonic() + 10
        while len(os.listdir("/proc/self/task")) > before and time.monotonic() < deadline:
            time.sleep(0.001)
        self.assertEqual(len(os.listdir("/proc/self/task")), before)

    def test_memory_info_in_oneshot_is_statm(self):
        # whatever was read first in the block, rss and vms are statm's
        pid, _release = blocking_child(self, name="pw-mem")
        p = _open(self, pid)
        page = os.sysconf("SC_PAGE_SIZE")
        for first in ("name", "memory_info"):
            with p.oneshot():
                getattr(p, first)()
                mi = p.memory_info()
            with open("/proc/%d/statm" % pid) as f:
                size, resident = [int(x) for x in f.read().split()[:2]]
            self.assertEqual(mi.vms, size * page, first)
            self.assertEqual(mi.rss, resident * page, first)

    def test_equality_is_pid_and_start_time(self):
        pid, _release = blocking_child(self)
        a, b = _open(self, pid), _open(self, pid)
        self.assertEqual(a, b)
        self.assertEqual(hash(a), hash(b))
        self.assertNotEqual(a, _open(self, os.getpid()))
        self.assertEqual(a, a)
