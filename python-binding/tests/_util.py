"""Helpers shared by the procwait binding tests (standard library only).

Every child a test starts goes through fork_child() or spawn(), which
register a cleanup on the test case: the child is killed (if still running)
and reaped (if not reaped already) when the test ends, pass or fail.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

BINDING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable or "/usr/bin/python3"

PSUTIL_SKIP = ("psutil is not installed for this interpreter "
               "(apt-get install python3-psutil)")

PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong, ctypes.c_ulong]
_libc.prctl.restype = ctypes.c_int


def prctl(option, arg2=0):
    if isinstance(arg2, bytes):
        buf = ctypes.create_string_buffer(arg2)
        arg2 = ctypes.cast(buf, ctypes.c_void_p).value
    if _libc.prctl(option, arg2, 0, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def set_comm(name):
    """Rename the calling thread (the process's comm) with PR_SET_NAME."""
    prctl(PR_SET_NAME, name.encode() if isinstance(name, str) else name)


def default_signals():
    """preexec_fn: the signal state of a process started from an ordinary
    interactive shell: no ignored or blocked signal inherited from whatever
    runs the tests (a background job, nohup, a CI runner that ignores
    SIGINT). A test that sends a signal, or compares a served child with a
    plain python, starts its processes with this."""
    for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM,
              signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGTSTP,
              signal.SIGTTIN, signal.SIGTTOU, signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(s, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def require_psutil(tc):
    try:
        import psutil  # noqa: F401
    except ImportError:
        tc.skipTest(PSUTIL_SKIP)
    return psutil


def reap_or_kill(pid, grace=0.0):
    """Reap child pid; kill it first if it still runs (after grace seconds).
    Reuse-safe: only acts on a pid that is still an unreaped child of ours."""
    deadline = time.monotonic() + grace
    while True:
        try:
            r, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # already reaped (by procwait or by the test)
        if r != 0:
            return  # it was a zombie: reaped now
        if time.monotonic() >= deadline:
            break
        time.sleep(0.005)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _child_run(fn):
    code = 0
    try:
        r = fn() if fn is not None else None
        if isinstance(r, int):
            code = r
    except BaseException:
        code = 250
    finally:
        os._exit(code)


def fork_child(tc, fn=None, grace=0.0):
    """Fork a child that runs fn() and _exits with its int result (0 if
    none, 250 on exception). Registered for cleanup on tc: reaped, or killed
    if it still runs grace seconds into the cleanup."""
    pid = os.fork()
    if pid == 0:
        _child_run(fn)
    tc.addCleanup(reap_or_kill, pid, grace)
    return pid


def spawn(tc, argv, cwd=None, env=None, setup=None):
    """fork + exec argv[0]; returns once the exec has happened (a CLOEXEC
    pipe reaches EOF). Registered for cleanup on tc."""
    r, w = os.pipe()  # both O_CLOEXEC (non-inheritable) by default
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            if cwd is not None:
                os.chdir(cwd)
            if setup is not None:
                setup()
            if env is None:
                os.execv(argv[0], argv)
            else:
                os.execve(argv[0], argv, env)
        except BaseException:
            try:
                os.write(w, b"x")
            finally:
                os._exit(127)
    tc.addCleanup(reap_or_kill, pid)
    os.close(w)
    try:
        data = b""
        while True:
            chunk = os.read(r, 16)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
    if data:
        raise RuntimeError("exec of %r failed in the child" % (argv,))
    return pid


def stat_fields(pid):
    """/proc/pid/stat after the comm field, split (bytes): [state, ppid,
    ...]; None when pid is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(b")") + 2:].split()


def proc_state(pid):
    """The state letter in /proc/pid/stat, or None when it is gone."""
    f = stat_fields(pid)
    return None if f is None else f[0][:1].decode()


def starttime(pid):
    """pid's start time (clock ticks since boot), None when it is gone."""
    f = stat_fields(pid)
    return None if f is None else int(f[19])


def running(pid, start=None):
    """pid exists, is not a zombie, and (given start) is the same process."""
    f = stat_fields(pid)
    if f is None or f[0] in (b"Z", b"X"):
        return False
    return start is None or int(f[19]) == start


def procs_under(top):
    """Live processes (not zombies) whose cwd is top or below it, this one
    left out."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % name)
        except OSError:
            continue
        if cwd == top or cwd.startswith(top + os.sep):
            out.append(int(name))
    return out


def kill_if_same(pid, start):
    """SIGKILL pid if it is still the process that started at start (a
    starttime(); nothing when start is None)."""
    if start is not None and running(pid, start):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


#: A daemon made the usual way (fork, setsid, fork: out of the run's
#: process group and session); the script prints its pid.
DAEMON_SCRIPT = """\
import os, sys, time
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, b"%d\\n" % os.getpid())
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        time.sleep(300)
    os._exit(0)
os.close(w)
os.wait()
print(os.read(r, 32).decode().strip(), flush=True)
"""


def cgroups_expected():
    """Fork-server runs must get a cgroup here: root, with a writable
    cgroup2 mount, on Linux 5.14 or later (cgroup.kill). Else the server
    says why in its log and stops runs by process group."""
    try:
        major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    except ValueError:
        return False
    if os.geteuid() != 0 or (major, minor) < (5, 14):
        return False
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 4 and fields[2] == "cgroup2" and \
                        fields[3].split(",")[0] == "rw":
                    return True
    except OSError:
        pass
    return False


def kill_leftovers(started, top):
    """SIGKILL what a test left running: the processes of started ({pid:
    starttime}) that still run as themselves, and every process whose cwd
    is top or below it."""
    for pid, start in started.items():
        kill_if_same(pid, start)
    for pid in procs_under(top):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_group_leader(proc, timeout):
    """Stop a subprocess.Popen started with start_new_session=True: SIGTERM,
    then, when it has not exited within timeout seconds, SIGKILL to its whole
    process group; waits for it (10 s more at the most)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)


def wait_state(pid, states, timeout=10.0):
    """Poll /proc until pid's state is one of states; AssertionError when
    it is not within timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        s = proc_state(pid)
        if s is not None and s in states:
            return s
        if time.monotonic() > deadline:
            raise AssertionError("pid %d: state %r, not one of %r after %.1fs"
                                 % (pid, s, states, timeout))
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def read_exact(fd, n, timeout=10.0):
    """Read n bytes from fd (blocking pipe), failing after timeout."""
    import select
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("timed out reading %d bytes from the child" % n)
        rl, _, _ = select.select([fd], [], [], left)
        if rl:
            chunk = os.read(fd, n - len(data))
            if not chunk:
                raise AssertionError("child closed the pipe early (%r so far)" % data)
            data += chunk
    return data


class Pipe:
    """os.pipe() whose ends are closed once, idempotently, and at cleanup."""

    def __init__(self, tc):
        self.r, self.w = os.pipe()
        self._open = {self.r, self.w}
        tc.addCleanup(self.close)

    def close_r(self):
        self._close(self.r)

    def close_w(self):
        self._close(self.w)

    def _close(self, fd):
        if fd in self._open:
            self._open.discard(fd)
            os.close(fd)

    def close(self):
        for fd in list(self._open):
            self._close(fd)


def blocking_child(tc, name=None, code=0):
    """A forked child that (optionally renames itself, then) tells the parent
    it is ready and blocks until the parent closes its pipe, then exits with
    code. Returns (pid, release) where release() lets it exit."""
    ready = Pipe(tc)
    go = Pipe(tc)

    def body():
        os.close(ready.r)
        os.close(go.w)
        if name is not None:
            set_comm(name)
        os.write(ready.w, b"r")
        os.read(go.r, 1)
        return code

    pid = fork_child(tc, body)
    ready.close_w()
    go.close_r()
    read_exact(ready.r, 1)
    ready.close_r()
    return pid, go.close_w


def run_threads(fn, n):
    """fn() in n threads at once, joined: the exceptions they raised, a
    list (the kernel may still be ending the threads when it returns)."""
    import threading
    errors = []

    def body():
        try:
            fn()
        except BaseException as e:   # reported to the caller
            errors.append(e)

    threads = [threading.Thread(target=body) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def run_python(code, env=None, cwd=None, setup=None, timeout=120):
    """PYTHON -c code, stdin /dev/null, the output captured as text: the
    subprocess.CompletedProcess (setup runs in the child before the exec)."""
    return subprocess.run([PYTHON, "-c", code], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, cwd=cwd,
                          preexec_fn=setup, timeout=timeout)


def open_fds():
    return sorted(int(x) for x in os.listdir("/proc/self/fd"))
