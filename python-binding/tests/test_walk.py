"""procwait.pids() and procwait.process_iter(): psutil's walk over every
process, its info dicts (the values of the accessors, ad_value where
access is denied), the Processes it yields (the same one while the process
lives; bound to the process it saw), its descriptors."""
import os
import pwd
import shutil
import threading
import unittest

import procwait

from tests import _util
from tests._util import BINDING_DIR, require_psutil, spawn

SLEEP = os.path.realpath(shutil.which("sleep") or "/bin/sleep")

# what does not move while a test looks at a sleeping process
STEADY = ("pid", "name", "exe", "cmdline", "cwd", "ppid", "username", "create_time",
          "terminal", "num_threads", "nice", "uids", "gids")


def _sleeper(tc, name="sleep"):
    pid = spawn(tc, [SLEEP, "1000"])
    _util.wait_state(pid, "S")
    return pid


def _find(procs, pid):
    for p in procs:
        if p.pid == pid:
            return p
    raise AssertionError("pid %d not yielded" % pid)


class PidsTest(unittest.TestCase):

    def test_pids(self):
        kid = _sleeper(self)
        pids = procwait.pids()
        self.assertEqual(pids, sorted(pids))
        self.assertIn(os.getpid(), pids)
        self.assertIn(kid, pids)
        self.assertIn(1, pids)
        self.assertTrue(all(isinstance(p, int) for p in pids))


class ProcessIterTest(unittest.TestCase):

    def test_yields_every_process_in_pid_order(self):
        kid = _sleeper(self)
        procs = list(procwait.process_iter())
        pids = [p.pid for p in procs]
        self.assertEqual(pids, sorted(pids))
        self.assertIn(os.getpid(), pids)
        self.assertIn(kid, pids)
        self.assertTrue(all(isinstance(p, procwait.Process) for p in procs))
        self.assertFalse(hasattr(_find(procs, kid), "info"))
        self.assertEqual(_find(procs, kid).name(), "sleep")

    def test_info_is_what_the_accessors_answer(self):
        kid = _sleeper(self)
        for p in procwait.process_iter(list(STEADY)):
            if p.pid not in (kid, os.getpid()):
                continue
            self.assertEqual(list(p.info), list(STEADY))
            with procwait.Process(p.pid) as q:
                self.assertEqual(p.info, q.as_dict(STEADY))
            self.assertEqual(p.info["username"], pwd.getpwuid(os.getuid()).pw_name)
        info = _find(procwait.process_iter(["name", "cmdline", "ppid", "exe"]), kid).info
        self.assertEqual(info, {"name": "sleep", "cmdline": [SLEEP, "1000"],
                                "ppid": os.getpid(), "exe": SLEEP})

    def test_long_command_lines(self):
        """A command line longer than the walk's buffer, after and before
        short ones: the whole of each."""
        long_arg = "x" * 20000
        code = "import time; time.sleep(1000)"
        a = spawn(self, [_util.PYTHON, "-c", code, long_arg])
        b = _sleeper(self)
        _util.wait_state(a, "S")
        got = {p.pid: p.info["cmdline"] for p in procwait.process_iter(["cmdline"])
               if p.pid in (a, b)}
        self.assertEqual(got, {a: [_util.PYTHON, "-c", code, long_arg], b: [SLEEP, "1000"]})

    def test_every_field(self):
        """attrs=[]: every field, as psutil; the types of the accessors."""
        kid = _sleeper(self)
        info = _find(procwait.process_iter([]), kid).info
        self.assertEqual(set(info), set(procwait.Process(kid).as_dict()))
        self.assertIsInstance(info["cpu_times"], procwait.pcputimes)
        self.assertIsInstance(info["memory_info"], procwait.pmem)
        self.assertIsInstance(info["num_ctx_switches"], procwait.pctxsw)
        self.assertIsInstance(info["uids"], procwait.puids)
        self.assertIsInstance(info["gids"], procwait.pgids)
        self.assertEqual(info["status"], "sleeping")
        self.assertGreater(info["memory_info"].rss, 0)

    def test_attrs_checked_as_psutil(self):
        with self.assertRaises(TypeError):
            list(procwait.process_iter("name"))
        with self.assertRaisesRegex(ValueError, "invalid attr name 'nope'"):
            list(procwait.process_iter(["name", "nope"]))
        with self.assertRaisesRegex(ValueError, "invalid attr names 'a', 'b'"):
            procwait.Process().as_dict(["a", "b"])
        # each name once, in the order given
        me = _find(procwait.process_iter(("ppid", "name", "ppid")), os.getpid())
        self.assertEqual(list(me.info), ["ppid", "name"])
        self.assertEqual(set(procwait.Process().as_dict([])),
                         set(procwait.Process().as_dict()))

    def test_same_process_same_object(self):
        kid = _sleeper(self)
        a = _find(procwait.process_iter(), kid)
        b = _find(procwait.process_iter(["name"]), kid)
        self.assertIs(a, b)
        self.assertEqual(b.info, {"name": "sleep"})
        # closed by its user: the next walk makes a new one
        b.close()
        c = _find(procwait.process_iter(), kid)
        self.assertIsNot(c, b)
        self.assertEqual(c.name(), "sleep")
        self.assertEqual(c, procwait.Process(kid))

    def test_process_gone_during_the_walk_is_left_out(self):
        kid = _sleeper(self)
        walk = procwait.process_iter(["name", "cmdline"])
        first = next(walk)
        self.assertLess(first.pid, kid)
        os.kill(kid, 9)
        os.waitpid(kid, 0)
        self.assertNotIn(kid, [p.pid for p in walk])

    def test_yielded_process_waits_and_signals(self):
        kid = _sleeper(self)
        p = _find(procwait.process_iter(), kid)
        p.send_signal(15)
        st = p.wait(timeout=30)
        self.assertEqual(st.signal, 15)
        self.assertEqual(st.returncode, procwait.Negsignal.SIGTERM)
        self.assertIs(p.wait(), st)
        with self.assertRaises(procwait.NoSuchProcess):
            p.name()

    def test_bound_to_the_process_the_walk_saw(self):
        """A Process whose start time is not the pid's process now (the
        pid was reused) answers nothing of the new one, and signals none."""
        kid = _sleeper(self)
        start = _util.starttime(kid)
        stale = procwait.Process._seen(kid, start + 1, None)
        with self.assertRaises(procwait.NoSuchProcess):
            stale.name()
        with self.assertRaises(procwait.NoSuchProcess):
            stale.send_signal(9)
        self.assertTrue(_util.running(kid, start))
        # its wait: gone, the end not known (psutil's None); the pid's
        # process is left alone
        other = procwait.Process._seen(kid, start + 1, None)
        st = other.wait(timeout=0)
        self.assertFalse(st.known)
        self.assertIsNone(st.returncode)
        self.assertTrue(_util.running(kid, start))
        with self.assertRaises(procwait.NoSuchProcess):
            other.fileno()
        same = procwait.Process._seen(kid, start, None)
        self.assertEqual(same.name(), "sleep")
        self.assertEqual(same, procwait.Process(kid))
        self.assertIn("pid=%d" % kid, repr(same))
        self.assertNotIn("closed", repr(same))
        same.close()
        self.assertIn("closed", repr(same))
        with self.assertRaises(ValueError):
            same.wait(timeout=0)

    def test_process_gone_since_the_walk(self):
        kid = _sleeper(self)
        p = _find(procwait.process_iter(), kid)
        os.kill(kid, 9)
        os.waitpid(kid, 0)
        st = p.wait(timeout=5)
        self.assertFalse(st.known)
        with self.assertRaises(procwait.NoSuchProcess):
            p.send_signal(0)

    def test_pid_now_a_thread_id(self):
        """A reused pid can be a thread's id now: gone, as for a process."""
        go = threading.Event()
        tid = []

        def body():
            tid.append(threading.get_native_id())
            go.wait(30)

        t = threading.Thread(target=body)
        t.start()
        try:
            while not tid:
                pass
            stale = procwait.Process._seen(tid[0], 1, None)
            with self.assertRaises(procwait.NoSuchProcess):
                stale.send_signal(0)
        finally:
            go.set()
            t.join()

    def test_used_processes_leave_no_descriptors(self):
        """Found in review: a Process a walk made, whose accessors opened
        /proc/PID, kept it open after it was collected."""
        import gc
        before = _util.open_fds()
        kids = [_sleeper(self) for _ in range(10)]
        procs = [p for p in procwait.process_iter() if p.pid in kids]
        self.assertEqual(len(procs), 10)
        for p in procs:
            self.assertEqual(p.status(), "sleeping")
        for k in kids:
            os.kill(k, 9)
            os.waitpid(k, 0)
        del procs, p
        list(procwait.process_iter())     # the map of the last walk forgets them
        gc.collect()
        extra = {fd: os.readlink("/proc/self/fd/%d" % fd) for fd in _util.open_fds()
                 if fd not in before and os.path.exists("/proc/self/fd/%d" % fd)}
        self.assertEqual(extra, {})

    def test_threads_attach_once(self):
        """Found in review: threads that attached a walk's Process at
        once could each open a pidfd, and all but one leak."""
        import sys
        kid = _sleeper(self)
        before = len(_util.open_fds())
        # what one attach holds: a pidfd, or nothing under the fallback
        p = procwait.Process._seen(kid, _util.starttime(kid), None)
        p.send_signal(0)
        held = len(_util.open_fds()) - before
        p.close()
        self.assertIn(held, (0, 1))
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            for _ in range(500):
                start = _util.starttime(kid)
                p = procwait.Process._seen(kid, start, None)
                threads = [threading.Thread(target=p.send_signal, args=(0,)) for _ in range(8)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(len(_util.open_fds()), before + held)
                p.close()
        finally:
            sys.setswitchinterval(interval)

    def test_walk_left_early_keeps_the_rest(self):
        """Found in review: a walk left after its first Process emptied
        the map, so the next walk made every Process anew (psutil's keeps
        them)."""
        kid = _sleeper(self)
        a = _find(procwait.process_iter(), kid)
        walk = procwait.process_iter()
        next(walk)
        walk.close()
        self.assertIs(_find(procwait.process_iter(), kid), a)

    def test_holds_no_descriptors(self):
        before = _util.open_fds()
        procs = list(procwait.process_iter([]))
        self.assertEqual(_util.open_fds(), before)
        self.assertGreater(len(procs), 1)
        during = []
        for _ in procwait.process_iter(["cmdline", "exe", "cwd", "username"]):
            during.append(len(_util.open_fds()))
        self.assertLessEqual(max(during), len(before) + 5)   # /proc/PID and 4 files

    def test_concurrent_walks(self):
        def walk():
            for _ in range(5):
                me = _find(procwait.process_iter(["name", "cpu_times"]), os.getpid())
                assert me.info["name"], me.info

        self.assertEqual(_util.run_threads(walk, 3), [])

    def test_against_psutil(self):
        psutil = require_psutil(self)
        kid = _sleeper(self)
        attrs = ["pid", "name", "exe", "cmdline", "cwd", "ppid", "username",
                 "create_time", "terminal", "num_threads", "nice", "uids", "gids"]
        for pid in (kid, os.getpid(), 1):
            ours = _find(procwait.process_iter(attrs, ad_value="-"), pid).info
            theirs = psutil.Process(pid).as_dict(attrs, ad_value="-")
            self.assertEqual(ours, theirs, pid)


class WalkEnvironmentTest(unittest.TestCase):
    """A walk in a process short of descriptors, and as another user."""

    CODE = r"""
import os, resource, sys
sys.path.insert(0, %(binding)r)
import procwait
if %(limit)d:
    resource.setrlimit(resource.RLIMIT_NOFILE, (%(limit)d, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
kept = [procwait.Process(os.getpid()) for _ in range(%(kept)d)]
for p in kept:
    p.name()
n = 0
walked = []
for p in procwait.process_iter(["name", "exe", "cmdline", "username"], ad_value="DENIED"):
    n += 1
    walked.append(p)
    if p.pid == 1:
        try:
            import psutil
            theirs = psutil.Process(1).as_dict(["exe"], ad_value="DENIED")["exe"]
        except ImportError:
            theirs = p.info["exe"]
        print("PID1", p.info["exe"] == theirs, bool(p.info["name"]), p.info["exe"])
    if p.pid == os.getpid():
        print("SELF", p.info["exe"] == os.path.realpath(sys.executable), p.info["username"])
print("WALKED", n)
# every descriptor taken: a walk's Process still attaches (the others'
# handles are closed for it), and never says the process is gone
for p in walked:
    if p.pid != os.getpid():
        try:
            p.name()
        except procwait.Error:
            pass
me = [p for p in walked if p.pid == os.getpid()][0]
spent = []
while True:
    try:
        spent.append(os.dup(0))
    except OSError:
        break
try:
    me.send_signal(0)
    print("ATTACHED")
except OSError as e:
    print("ATTACH", type(e).__name__, e.errno)
except procwait.NoSuchProcess:
    print("ATTACH NoSuchProcess")
for fd in spent:
    os.close(fd)
"""

    def run_code(self, limit=0, kept=0, setup=None):
        code = self.CODE % {"binding": BINDING_DIR, "limit": limit, "kept": kept}
        r = _util.run_python(code, cwd="/", setup=setup)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_low_descriptor_limit(self):
        """Under 16 descriptors, with Processes holding some: every
        process walked, nothing fails for want of a descriptor."""
        out = self.run_code(limit=16, kept=4)
        self.assertRegex(out, r"WALKED [1-9]")
        self.assertIn("SELF True", out)
        self.assertIn("ATTACHED", out)

    def test_as_another_user(self):
        if os.geteuid() != 0:
            out = self.run_code()
            self.assertIn("PID1 True True", out)
            return

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        try:
            out = self.run_code(setup=drop)
        except AssertionError as e:
            if "ImportError" in str(e) or "Permission denied" in str(e):
                self.skipTest("the binding is not usable by nobody: %s" % str(e)[-200:])
            raise
        self.assertIn("PID1 True True", out)     # psutil's answer, guess included
        self.assertIn("SELF True nobody", out)


class HiddenProcessesTest(unittest.TestCase):
    """/proc mounted with hidepid=noaccess: the directories of other
    users' processes are listed but cannot be read. As psutil: such a
    process is yielded, every field of its info is ad_value but its pid
    (found in a private mount namespace, as root turned nobody)."""

    CODE = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x00020000) < 0:                          # CLONE_NEWNS
    print("SKIP unshare:", os.strerror(ctypes.get_errno())); sys.exit(0)
if libc.mount(None, b"/", None, 0x4000 | 0x40000, None) < 0:   # MS_REC | MS_PRIVATE
    print("SKIP private:", os.strerror(ctypes.get_errno())); sys.exit(0)
if libc.mount(b"proc", b"/proc", b"proc", 0x2 | 0x4 | 0x8, b"hidepid=noaccess") < 0:
    print("SKIP mount:", os.strerror(ctypes.get_errno())); sys.exit(0)
os.setgroups([]); os.setgid(65534); os.setuid(65534)
sys.path.insert(0, %(binding)r)
import procwait
attrs = ["pid", "name", "cmdline", "exe", "username", "create_time", "nice"]
seen = {p.pid: p for p in procwait.process_iter(attrs, ad_value="DENIED")}
print("PID1", seen[1].info)
print("NICE1", seen[1].info["nice"] == os.getpriority(os.PRIO_PROCESS, 1))
print("SELF", seen[os.getpid()].info["name"], seen[os.getpid()].info["username"])
again = {p.pid: p for p in procwait.process_iter()}
print("SAME", again[os.getpid()] is seen[os.getpid()], again[1] is seen[1])
try:
    seen[1].name()
except procwait.AccessDenied:
    print("NAME denied")
# a Process that knew a start time, on a pid hidden now (reused, say):
# nothing attached that could be another process
stale = procwait.Process._seen(1, 12345, None)
try:
    stale.fileno()
    print("STALE attached")
except procwait.AccessDenied:
    print("STALE denied")
"""

    def test_noaccess(self):
        if os.geteuid() != 0:
            self.skipTest("needs root, for a mount namespace of its own")
        r = _util.run_python(self.CODE % {"binding": BINDING_DIR}, cwd="/")
        if r.stdout.startswith("SKIP") or "ImportError" in r.stderr:
            self.skipTest((r.stdout + r.stderr).strip()[-200:])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("PID1 {'pid': 1, 'name': 'DENIED', 'cmdline': 'DENIED', "
                      "'exe': 'DENIED', 'username': 'DENIED', 'create_time': 'DENIED', "
                      "'nice': ", r.stdout)
        self.assertIn("NICE1 True", r.stdout)    # getpriority(2), as psutil
        self.assertIn("SELF python", r.stdout)
        self.assertIn("nobody", r.stdout)
        self.assertIn("SAME True True", r.stdout)
        self.assertIn("NAME denied", r.stdout)
        self.assertIn("STALE denied", r.stdout)


if __name__ == "__main__":
    unittest.main()
