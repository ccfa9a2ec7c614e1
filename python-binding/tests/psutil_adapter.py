# SPDX-License-Identifier: MIT
"""Run psutil's own tests with psutil.Process backed by procwait.Process.

    python3 psutil_adapter.py [--mode psutil|procwait] [--json OUT]
                              [--timeout SECONDS] [--reruns N] [selector ...]

Without --mode: both modes run, each in a subprocess of its own, one after
the other: "psutil" (psutil unpatched: the baseline) and "procwait" (every
method procwait.Process implements is served by one, for the same pid).
The outcomes are compared: each test that passes with psutil and fails
with procwait is listed with a one-line reason. A test that does not pass
in the baseline is ignored (psutil's suite has tests that depend on the
machine), and one that fails with procwait but passes when run again
(--reruns, in a new subprocess) is listed as flaky, not counted. Exit
status: 0 when none is listed, 1 when some are, 77 when psutil's tests
(or pytest) are not installed for this interpreter, 99 when a mode
produced no results at all.

With --mode: that mode only, in this process; --json writes the outcome
of each test (a map of pytest node ids to {"outcome", "reason"}).

The selectors are pytest's (test_process.py, test_linux.py::TestProcess,
...), relative to psutil's tests directory unless they are paths that
exist; the default is every Process test (DEFAULT_SELECTORS).

The adapter is kept thin on purpose. Everything it does beyond calling
the procwait.Process of the same name is an API difference between the
two, listed in ADAPTATIONS below; a difference it does not paper over
shows up as a failing test.
"""

import argparse
import functools
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

# test_process.py's LimitedUserTestCase (defined when run as root) is left
# out: its __init__ binds every test name to the last test method (a late
# binding closure), so it runs one mocked test 90 times over.
DEFAULT_SELECTORS = [
    "test_process.py::TestProcess",
    "test_process.py::TestPopen",
    "test_linux.py::TestProcess",
    "test_linux.py::TestProcessAgainstStatus",
    "test_posix.py::TestProcess",
    "test_contracts.py::TestAvailProcessAPIs",
    "test_contracts.py::TestProcessWaitType",
    "test_contracts.py::TestFetchAllProcesses",
    "test_misc.py::TestSpecialMethods",
    "test_misc.py::TestMisc",
    "test_unicode.py",
]

# The psutil.Process methods served by procwait.Process (same name, same
# arguments, except as ADAPTATIONS says). The others stay psutil's.
DELEGATED = [
    "name", "exe", "cwd", "cmdline", "ppid", "status", "cpu_times", "create_time",
    "terminal", "num_threads", "nice", "memory_info", "num_ctx_switches", "uids",
    "gids", "username", "oneshot", "wait", "send_signal", "terminate", "kill",
]

# What the adapter does that is not a plain call: each line is an API
# difference (printed with --list-adaptations).
ADAPTATIONS = [
    "exceptions: procwait's are its own classes; EXCEPTIONS maps its four onto "
    "psutil's (pid, name, ppid, msg, seconds carried over as procwait sets them)",
    "wait(): procwait returns a Status, psutil the exit code (-signal for a "
    "signal, None for a non-child): Status.returncode; and psutil waits for a "
    "non-child until it is reaped, procwait until it exits: wait(gone=True)",
    "nice(value): procwait has no setter; nice with a value stays psutil's",
    "as_dict(): procwait's knows procwait's accessors only (a psutil name it "
    "lacks is a ValueError there): psutil's own as_dict runs, over the "
    "delegated accessors",
    "psutil's _init(), which its tests call to clear a Process's caches, "
    "drops the procwait.Process held too (its create_time is kept once read)",
    "psutil's private caches, which its other methods read: name() and "
    "wait() set _name (its own and its platform object's) and _exitcode as "
    "psutil's own do",
]

# psutil tests that test psutil's own code rather than its contract: they
# mock its /proc readers (psutil._pslinux, open()) or set its private state,
# none of which procwait's code goes through. Listed with the reason, not
# counted.
NOT_APPLICABLE = {
    "test_linux.py::TestProcess::test_cmdline_mocked": "mocks psutil's open() of /proc",
    "test_linux.py::TestProcess::test_cmdline_spaces_mocked": "mocks psutil's open() of /proc",
    "test_linux.py::TestProcess::test_cmdline_mixed_separators": "mocks psutil's open() of /proc",
    "test_linux.py::TestProcess::test_cwd_zombie": "mocks psutil's readlink",
    "test_linux.py::TestProcess::test_exe_mocked": "mocks psutil's readlink",
    "test_linux.py::TestProcess::test_readlink_path_deleted_mocked": "mocks psutil's readlink "
    "(procwait's rule is pinned by tests/check_procinfo.c's test_deleted_links)",
    "test_linux.py::TestProcess::test_stat_file_parsing": "mocks psutil's open() of /proc",
    "test_linux.py::TestProcess::test_status_file_parsing": "mocks psutil's open() of /proc",
    "test_posix.py::TestProcess::test_name_long": "mocks psutil._psplatform.Process",
    "test_posix.py::TestProcess::test_name_long_cmdline_ad_exc": "mocks "
    "psutil._psplatform.Process (the rule is procwait's test_long_name_of_a_vanished_process_raises)",
    "test_posix.py::TestProcess::test_name_long_cmdline_nsp_exc": "mocks "
    "psutil._psplatform.Process (the rule is procwait's test_long_name_of_a_vanished_process_raises)",
    "test_process.py::TestProcess::test_oneshot": "counts calls of psutil's internal readers",
    "test_process.py::TestProcess::test_oneshot_twice": "counts calls of psutil's internal readers",
    "test_process.py::TestProcess::test_send_signal_mocked": "mocks os.kill, which procwait's "
    "pidfd_send_signal does not call",
    "test_process.py::TestProcess::test_zombie_process_status_w_exc": "mocks "
    "psutil._psplatform.Process",
    "test_misc.py::TestSpecialMethods::test_process__eq__": "fakes pid reuse through psutil's "
    "private _ident",
    "test_process.py::TestProcess::test_reused_pid": "fakes pid reuse through psutil's private "
    "_ident",
}
# Not API differences: the procwait.Process is opened at the first call
# (psutil.Process's constructor reads create_time, so in practice there);
# == (so !=) and hash are served by it too (pid stays psutil's attribute).


def psutil_tests_dir():
    """psutil's installed tests directory, or None."""
    try:
        spec = importlib.util.find_spec("psutil")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    d = os.path.join(list(spec.submodule_search_locations)[0], "tests")
    return d if os.path.isfile(os.path.join(d, "test_process.py")) else None


def missing_reason():
    """Why the comparison cannot run here (None when it can)."""
    if psutil_tests_dir() is None:
        return ("psutil's tests are not installed for %s (apt-get install "
                "python3-psutil: they are in .../dist-packages/psutil/tests)" % sys.executable)
    if importlib.util.find_spec("pytest") is None:
        return "pytest is not installed for %s (apt-get install python3-pytest)" % sys.executable
    return None


# ---- procwait mode: the patch ------------------------------------------------

def patch_psutil():
    """Make psutil.Process (and so psutil.Popen) delegate DELEGATED to a
    procwait.Process for the same pid. Call before psutil's tests are
    imported: psutil.tests makes Process objects at import time."""
    try:
        import procwait
    except ImportError:
        # run from the source tree: the package is two levels up
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import procwait
    import psutil

    # procwait exception -> psutil exception, most derived first.
    EXCEPTIONS = (
        (procwait.ZombieProcess,
         lambda e: psutil.ZombieProcess(e.pid, e.name, e.ppid, e.msg)),
        (procwait.NoSuchProcess,
         lambda e: psutil.NoSuchProcess(e.pid, e.name, e.msg)),
        (procwait.AccessDenied,
         lambda e: psutil.AccessDenied(e.pid, e.name, e.msg)),
        (procwait.TimeoutExpired,
         lambda e: psutil.TimeoutExpired(e.seconds, e.pid, e.name)),
    )
    caught = tuple(cls for cls, _ in EXCEPTIONS)

    def translate(e):
        for cls, make in EXCEPTIONS:
            if isinstance(e, cls):
                return make(e)
        raise AssertionError(e)

    def held(self):
        """The procwait.Process for self's pid, opened at the first call
        (psutil's constructor makes that call: it reads create_time)."""
        pw = self.__dict__.get("_procwait")
        if pw is None:
            try:
                pw = self.__dict__["_procwait"] = procwait.Process(self._pid)
            except caught as e:
                raise translate(e) from e
        return pw

    def call(self, name, *args, **kwargs):
        try:
            return getattr(held(self), name)(*args, **kwargs)
        except caught as e:
            raise translate(e) from e

    P = psutil.Process
    originals = {n: getattr(P, n) for n in DELEGATED}

    def delegate(name):
        orig = originals[name]

        @functools.wraps(orig, updated=())
        def method(self, *args, **kwargs):
            return call(self, name, *args, **kwargs)
        return method

    for name in DELEGATED:
        setattr(P, name, delegate(name))

    @functools.wraps(originals["wait"], updated=())
    def wait(self, timeout=None):
        code = call(self, "wait", timeout, gone=True).returncode
        self._exitcode = code
        return code
    P.wait = wait

    @functools.wraps(originals["name"], updated=())
    def name(self):
        self._name = self._proc._name = call(self, "name")
        return self._name
    P.name = name

    @functools.wraps(originals["nice"], updated=())
    def nice(self, value=None):
        if value is not None:
            return originals["nice"](self, value)
        return call(self, "nice")
    P.nice = nice

    orig_init = P._init

    @functools.wraps(orig_init, updated=())
    def _init(self, pid, *args, **kwargs):
        pw = self.__dict__.pop("_procwait", None)
        if pw is not None:
            pw.close()
        return orig_init(self, pid, *args, **kwargs)
    P._init = _init


    def __eq__(self, other):
        if not isinstance(other, P):
            return NotImplemented
        return held(self) == held(other)
    P.__eq__ = __eq__
    P.__hash__ = lambda self: hash(held(self))
    return procwait


# ---- one mode, in this process ---------------------------------------------

class _TestTimeout(BaseException):
    pass


class Recorder(object):
    """A pytest plugin: the outcome of each test, and a time limit on each
    (a hung wait must not hang the whole run)."""

    def __init__(self, limit):
        self.tests = {}
        self.limit = limit

    @staticmethod
    def _reason(report):
        lr = report.longrepr
        crash = getattr(lr, "reprcrash", None)
        if crash is not None:
            text = crash.message
        elif isinstance(lr, tuple) and len(lr) == 3:      # a skip
            text = lr[2]
        else:
            text = str(lr or "")
        lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
        line = lines[0] if lines else ""
        return line if len(line) <= 240 else line[:237] + "..."

    def pytest_runtest_logreport(self, report):
        t = self.tests.setdefault(report.nodeid, {"outcome": "passed", "reason": ""})
        if report.when == "call":
            t["seconds"] = round(report.duration, 3)
        if report.passed:
            if hasattr(report, "wasxfail"):
                t["outcome"] = "xpassed"
            return
        if report.skipped:
            if t["outcome"] == "passed":
                t["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
                t["reason"] = self._reason(report)
            return
        if t["outcome"] in ("passed", "skipped"):
            t["outcome"] = "failed" if report.when == "call" else "error"
            t["reason"] = ("%s: " % report.when if report.when != "call" else "") + \
                self._reason(report)

    def _alarm(self, signo, frame):
        raise _TestTimeout("timed out after %s seconds" % self.limit)


def _install_timeout(recorder):
    import pytest

    class Timeout(object):
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item):
            old = signal.signal(signal.SIGALRM, recorder._alarm)
            signal.setitimer(signal.ITIMER_REAL, recorder.limit)
            try:
                yield
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
    return Timeout()


def run_mode(mode, selectors, out, limit, pytest_args):
    reason = missing_reason()
    if reason:
        print("SKIP: " + reason)
        return 77
    tests_dir = psutil_tests_dir()
    info = {"mode": mode, "python": sys.executable}
    if mode == "procwait":
        procwait = patch_psutil()
        info["procwait_library"] = procwait.library_path
        info["procwait_backend"] = procwait.backend()
    import psutil
    import pytest
    info["psutil"] = psutil.__version__
    info["psutil_tests"] = tests_dir
    args = []
    for s in selectors or DEFAULT_SELECTORS:
        path = s.split("::", 1)[0]
        args.append(s if os.path.exists(path) else os.path.join(tests_dir, s))
    args = ["-q", "--tb=line", "-p", "no:cacheprovider", "--rootdir", tests_dir] + \
        list(pytest_args) + args
    print("== psutil %s tests, mode %s: pytest %s" % (psutil.__version__, mode, " ".join(args)))
    sys.stdout.flush()
    rec = Recorder(limit)
    t0 = time.monotonic()
    rc = pytest.main(args, plugins=[rec, _install_timeout(rec)])
    info["seconds"] = round(time.monotonic() - t0, 1)
    info["pytest_exit"] = int(rc)
    info["tests"] = rec.tests
    counts = {}
    for t in rec.tests.values():
        counts[t["outcome"]] = counts.get(t["outcome"], 0) + 1
    print("== mode %s: %d tests in %.1f s: %s" % (
        mode, len(rec.tests), info["seconds"],
        ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items()))))
    if out:
        with open(out, "w") as f:
            json.dump(info, f, indent=1, sort_keys=True)
    return 0 if rec.tests else 99


# ---- both modes, compared ----------------------------------------------------

FAILED = ("failed", "error")
MODE_TIMEOUT = 1800     # seconds a mode may take, all tests included


def compare(base, pw):
    """(passed-with-psutil ids, failing-with-procwait [(id, reason)],
    skipped-with-procwait [(id, reason)], not applicable and failing
    [(id, why not applicable)])."""
    bt, pt = base["tests"], pw["tests"]
    passed = sorted(k for k, v in bt.items() if v["outcome"] == "passed")
    regressions, skipped, na = [], [], []
    for k in passed:
        v = pt.get(k)
        if v is not None and v["outcome"] in FAILED and k in NOT_APPLICABLE:
            na.append((k, NOT_APPLICABLE[k]))
        elif v is None:
            regressions.append((k, "not run in procwait mode"))
        elif v["outcome"] in FAILED:
            regressions.append((k, v["reason"] or v["outcome"]))
        elif v["outcome"] != "passed":
            skipped.append((k, "%s: %s" % (v["outcome"], v["reason"])))
    return passed, regressions, skipped, na


def run_child(mode, selectors, limit, pytest_args, tmp):
    """Run one mode in a subprocess: its outcome map, or an exit status
    (77: skipped, 99: no results)."""
    path = os.path.join(tmp, "%s-%d.json" % (mode, len(os.listdir(tmp))))
    cmd = [sys.executable, os.path.abspath(__file__), "--mode", mode,
           "--json", path, "--timeout", str(limit)]
    cmd += ["--pytest-arg=" + a for a in pytest_args] + list(selectors)
    sys.stdout.flush()
    child = subprocess.Popen(cmd)
    try:
        rc = child.wait(timeout=MODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        rc = child.wait()
        print("ERROR: mode %s killed after %d seconds" % (mode, MODE_TIMEOUT))
    if rc == 77:
        return 77
    if not os.path.exists(path):
        print("ERROR: mode %s produced no results (exit status %d)" % (mode, rc))
        return 99
    with open(path) as f:
        return json.load(f)


def _listing(title, tag, items, always=False):
    """A count line, then one line per (test id, reason)."""
    if items or always:
        print("%s: %d" % (title, len(items)))
    for k, why in items:
        print("  %s %s: %s" % (tag, k, why))


def run_both(selectors, out, limit, pytest_args, reruns):
    reason = missing_reason()
    if reason:
        print("SKIP: " + reason)
        return 77
    tmp = tempfile.mkdtemp(prefix="psadapt-")
    try:
        base = run_child("psutil", selectors, limit, pytest_args, tmp)
        if isinstance(base, int):
            return base
        pw = run_child("procwait", selectors, limit, pytest_args, tmp)
        if isinstance(pw, int):
            return pw
        passed, regressions, skipped, na = compare(base, pw)
        # A failure counts when it repeats: the failing tests run again
        # (by themselves, in a new procwait subprocess); those that pass
        # then are listed as flaky, not counted.
        flaky, rerun_seconds = [], 0.0
        for _ in range(reruns):
            if not regressions:
                break
            again = run_child("procwait", [k for k, _ in regressions], limit, pytest_args, tmp)
            if isinstance(again, int):
                return again
            rerun_seconds += again["seconds"]
            still = []
            for k, why in regressions:
                if again["tests"].get(k, {}).get("outcome") == "passed":
                    flaky.append((k, why))
                else:
                    still.append((k, why))
            regressions = still
    finally:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    n_pw = sum(1 for v in pw["tests"].values() if v["outcome"] == "passed")
    n_both = sum(1 for k in passed if pw["tests"].get(k, {}).get("outcome") == "passed")
    print()
    print("== psutil %s tests, procwait %s backend (%s)" % (
        base.get("psutil"), pw.get("procwait_backend"), pw.get("procwait_library")))
    print("run: %d (psutil mode %.1f s, procwait mode %.1f s, re-runs %.1f s)" % (
        len(base["tests"]), base["seconds"], pw["seconds"], rerun_seconds))
    print("passed with psutil: %d" % len(passed))
    print("passed with procwait: %d (%d of them also with psutil)" % (n_pw, n_both))
    _listing("pass with psutil, fail with procwait", "FAIL", regressions, always=True)
    _listing("failed with procwait once, passed when run again (not counted)", "FLAKY", flaky)
    _listing("pass with psutil, fail with procwait, not applicable (they test "
             "psutil's own code; not counted)", "N/A", na)
    _listing("pass with psutil, skipped with procwait", "SKIP", skipped)
    # For information (not counted): tests the baseline does not pass.
    bt, pt = base["tests"], pw["tests"]
    for k in sorted(NOT_APPLICABLE):
        if pt.get(k, {}).get("outcome") == "passed":
            print("  note: listed as not applicable, passes with procwait: %s" % k)
    for k in sorted(bt):
        b, p = bt[k], pt.get(k, {"outcome": "not run", "reason": ""})
        if b["outcome"] in FAILED and p["outcome"] == "passed":
            print("  note: fails with psutil, passes with procwait: %s (psutil: %s)"
                  % (k, b["reason"]))
        elif b["outcome"] in FAILED and p["outcome"] in FAILED and \
                re.sub(r"\d+", "N", b["reason"]) != re.sub(r"\d+", "N", p["reason"]):
            print("  note: fails in both modes, differently: %s (psutil: %s; procwait: %s)"
                  % (k, b["reason"], p["reason"]))
    if out:
        with open(out, "w") as f:
            json.dump({"psutil": base, "procwait": pw, "regressions": dict(regressions),
                       "flaky": dict(flaky), "skipped": dict(skipped),
                       "not_applicable": dict(na)},
                      f, indent=1, sort_keys=True)
    return 1 if regressions else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=("psutil", "procwait"),
                    help="run one mode here (default: both, in subprocesses, compared)")
    ap.add_argument("--json", metavar="OUT", help="write the outcomes (JSON) to OUT")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds a test may take (default 120)")
    ap.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                    help="an argument for pytest (repeatable), e.g. --pytest-arg=-x")
    ap.add_argument("--reruns", type=int, default=1,
                    help="run the tests failing with procwait again, N times; "
                         "those that pass are flaky, not counted (default 1)")
    ap.add_argument("--list-adaptations", action="store_true",
                    help="print what the adapter does beyond delegating, and exit")
    ap.add_argument("selectors", nargs="*", help="pytest selectors (default: the Process tests)")
    a = ap.parse_args(argv)
    if a.list_adaptations:
        print("delegated to procwait.Process: " + ", ".join(DELEGATED + ["pid", "==", "hash"]))
        for line in ADAPTATIONS:
            print("- " + line)
        return 0
    if a.mode:
        return run_mode(a.mode, a.selectors, a.json, a.timeout, a.pytest_arg)
    return run_both(a.selectors, a.json, a.timeout, a.pytest_arg, a.reruns)


if __name__ == "__main__":
    sys.exit(main())
