#! /usr/bin/python3
# SPDX-License-Identifier: MIT
"""Validate procwait-python on real third-party pytest suites.

usage: /usr/bin/python3 bench/pytest-suites.py [OPTIONS] SUITE_DIR... [-- PYTEST_ARGS...]

Each SUITE_DIR is a checked-out project (nothing is vendored here: check it
out anywhere, e.g. /tmp/suites/NAME). For each, in SUITE_DIR:

 1. Outcomes. The whole suite runs three times, each with
    `-p no:cacheprovider --junitxml=X.xml PYTEST_ARGS`:
      plain   /usr/bin/python3 -m pytest ...
      tier    procwait-python -m pytest ...          (in-process: the pytest tier)
      xdist   /usr/bin/python3 -m pytest -d --tx W*popen//python=LAUNCHER ...
    and every test's outcome (passed, failed, skipped, error, xfail; a
    teardown error after a failure is "failed+error") in the tier and xdist
    runs is compared with the plain run's. JUnit XML has no xpass: a
    non-strict xpass reads as passed, a strict one as failed. Counts and
    every differing test id are printed.
    `-p no:cacheprovider` goes in PYTEST_ADDOPTS (prepended to any exported
    one), not on the command line: a `-p` there sends procwait-python's run
    to a server without the tier (as `-c`, `-o`, `--rootdir`, ... do).
 2. Timing. One test (the first passed test of the plain run without
    parameters, or --test ID) is re-run N times each way, median in ms:
      cold       /usr/bin/python3 -m pytest -q ID   (-p no:cacheprovider: see above)
      launcher   PROCWAIT_PYTEST=0 procwait-python -m pytest ...  (today's launcher)
      +preload   the same with PROCWAIT_PRELOAD=pytest (when PROCWAIT_PRELOAD is unset)
      tier       procwait-python -m pytest ...
      in-process pytest.main([...]) called again in one warm /usr/bin/python3
                 (a daemon's best case: warmed once, then timed call by call)
    The launcher rows get one warm-up run first; the rows are interleaved.

Which server served each launcher run is read from the servers' info files
(python-*.json beside the sockets, touched on every request): "tier" (a
server with the pytest tier), "plain" (without it; its preload set
follows), "none" (no server took it: the launcher ran python3 itself), or
"?" (a launcher that writes no info files). A heuristic: a server that
forks a fresh spare during the run is touched too and shows up as well.

Exit status: 0 when every run's outcomes match the plain run's, 1 when any
differ (or a run left no XML), 2 on a usage or set-up error.

Environment of the runs: PROCWAIT_PYTHON=/usr/bin/python3 (--python),
PROCWAIT_LIBRARY=TREE/lib/.libs/libprocwait.so when it exists (TREE: the
launcher's build tree; an exported PROCWAIT_LIBRARY wins), PROCWAIT_IDLE=60
and a private XDG_RUNTIME_DIR (a temp dir), so the launcher's servers are
this script's own; they are killed, and the dir removed, at the end.
PROCWAIT_PYTEST is removed from the environment except in the launcher rows.

Importability (src layouts): SUITE_DIR/src is put first on PYTHONPATH when
it exists (--no-src: not). An exported PYTHONPATH is passed through, its
relative entries taken relative to each SUITE_DIR, e.g.
    PYTHONPATH=lib bench/pytest-suites.py /tmp/suites/foo
Anything else a suite needs goes in PYTEST_ARGS (applied to every suite and
every run; the timing runs leave out its arguments that are paths in
SUITE_DIR), e.g. `-- tests` to keep pytest out of bench/.

The launcher: --launcher, else $PROCWAIT_PYTHON_LAUNCHER, else
tools/procwait-python of the tree this script lives in. A libtool wrapper
script (the uninstalled build's tools/procwait-python) costs a shell and a
sed per run (~15 ms): its .libs/ binary is run instead, with the
LD_LIBRARY_PATH the wrapper would set (--no-unwrap: keep the wrapper).

Examples:
    bench/pytest-suites.py /tmp/suites/click /tmp/suites/packaging
    bench/pytest-suites.py -n 20 --test tests/test_basic.py::test_basic_functionality \\
        /tmp/suites/click
    bench/pytest-suites.py /tmp/suites/attrs -- tests
The XML and output of every run are kept in --out (default: a new temp dir),
and what the servers logged in its server-logs/.
"""

import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.dirname(HERE)


def die(msg):
    print("pytest-suites: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    if "--" in argv:
        i = argv.index("--")
        argv, pytest_args = argv[:i], argv[i + 1:]
    else:
        pytest_args = []
    p = argparse.ArgumentParser(
        prog="pytest-suites.py",
        description=__doc__.split("\n", 3)[3],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [OPTIONS] SUITE_DIR... [-- PYTEST_ARGS...]")
    p.add_argument("suites", nargs="*", metavar="SUITE_DIR")
    p.add_argument("--launcher", help="procwait-python to test (default "
                   "$PROCWAIT_PYTHON_LAUNCHER, else TREE/tools/procwait-python)")
    p.add_argument("--python", default="/usr/bin/python3",
                   help="the real interpreter, with pytest and pytest-xdist "
                   "(default /usr/bin/python3)")
    p.add_argument("-n", "--runs", type=int, default=10,
                   help="timed runs per row (default 10)")
    p.add_argument("--test", action="append", default=[], metavar="ID",
                   help="the test id to time (repeatable: each suite takes the "
                   "first whose file exists in it)")
    p.add_argument("--workers", type=int, default=2,
                   help="xdist workers through the launcher (default 2)")
    p.add_argument("--no-src", action="store_true",
                   help="do not put SUITE_DIR/src on PYTHONPATH")
    p.add_argument("--no-unwrap", action="store_true",
                   help="run a libtool wrapper script as it is")
    p.add_argument("--out", help="directory for the XML and logs (default: a new temp dir)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds for each whole-suite run (default: none)")
    p.add_argument("--skip-compare", action="store_true", help="timing only")
    p.add_argument("--skip-timing", action="store_true", help="outcomes only")
    a = p.parse_args(argv)
    if not a.suites:
        p.error("no SUITE_DIR")
    if a.runs < 1 or a.workers < 1:
        p.error("--runs and --workers must be at least 1")
    a.pytest_args = pytest_args
    return a


# ---- the launcher and the environment ---------------------------------------------

def resolve_launcher(a):
    """(argv0 to run, tree or None, extra environment) for the launcher."""
    path = a.launcher or os.environ.get("PROCWAIT_PYTHON_LAUNCHER") or \
        os.path.join(TREE, "tools", "procwait-python")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        die("the launcher %s is not an executable (build it: make -j2)" % path)
    tools = os.path.dirname(path)
    tree = os.path.dirname(tools)
    if not os.path.isdir(os.path.join(tree, "lib")):
        tree = None
    env = {}
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        head = b""
    if not a.no_unwrap and head.startswith(b"#!") and b"Generated by libtool" in head:
        real = os.path.join(tools, ".libs", os.path.basename(path))
        m = re.search(rb'LD_LIBRARY_PATH="([^"$]*):\$LD_LIBRARY_PATH"', head + _rest(path))
        if os.access(real, os.X_OK) and m:
            libdir = m.group(1).decode()
            old = os.environ.get("LD_LIBRARY_PATH", "")
            env["LD_LIBRARY_PATH"] = libdir + (":" + old if old else "")
            print("launcher: %s is a libtool wrapper: running %s with LD_LIBRARY_PATH=%s"
                  % (path, real, libdir))
            path = real
    return path, tree, env


def _rest(path):
    try:
        with open(path, "rb") as f:
            return f.read(1 << 16)
    except OSError:
        return b""


def base_env(a, launcher_tree, launcher_env, rundir):
    env = dict(os.environ)
    env.pop("PROCWAIT_PYTEST", None)
    env["PYTEST_ADDOPTS"] = " ".join(
        x for x in ("-p no:cacheprovider", os.environ.get("PYTEST_ADDOPTS", "")) if x)
    env.pop("PROCWAIT_DISABLE", None)
    env["PROCWAIT_PYTHON"] = a.python
    env["PROCWAIT_IDLE"] = "60"
    env["XDG_RUNTIME_DIR"] = rundir
    if "PROCWAIT_LIBRARY" not in os.environ:
        for tree in (launcher_tree, TREE):
            lib = tree and os.path.join(tree, "lib", ".libs", "libprocwait.so")
            if lib and os.path.exists(lib):
                env["PROCWAIT_LIBRARY"] = lib
                break
    env.update(launcher_env)
    return env


def suite_env(a, env, suite):
    env = dict(env)
    parts = []
    src = os.path.join(suite, "src")
    if not a.no_src and os.path.isdir(src):
        parts.append(src)
    for p in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if p:
            parts.append(os.path.normpath(os.path.join(suite, p)))
    if parts:
        env["PYTHONPATH"] = os.pathsep.join(parts)
    else:
        env.pop("PYTHONPATH", None)
    return env


# ---- the servers: found through their sockets, killed at the end -------------------

def _socket_inodes(rundir):
    paths = set()
    for d, _, files in os.walk(rundir):
        paths.update(os.path.join(d, f) for f in files if f.endswith(".sock"))
    inodes = set()
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                cols = line.split()
                if len(cols) >= 8 and cols[7] in paths:
                    inodes.add("socket:[%s]" % cols[6])
    except OSError:
        pass
    return inodes


def _procs():
    """{pid: (ppid, sid)} of every process we can read."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        out[int(d)] = (int(rest[1]), int(rest[3]))
    return out


def server_pids(rundir):
    """The processes that hold a socket of @rundir, their sessions and descendants."""
    inodes = _socket_inodes(rundir)
    holders = set()
    if inodes:
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                fds = os.listdir("/proc/%s/fd" % d)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%s/fd/%s" % (d, fd)) in inodes:
                        holders.add(int(d))
                        break
                except OSError:
                    pass
    procs = _procs()
    pids = set(holders)
    # The servers lead sessions of their own (setsid): their session is theirs.
    for pid, (ppid, sid) in procs.items():
        if sid in holders:
            pids.add(pid)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, sid) in procs.items():
            if ppid in pids and pid not in pids:
                pids.add(pid)
                grew = True
    pids.discard(os.getpid())
    return pids


def kill_servers(rundir):
    pids = server_pids(rundir)
    print("stopping the launcher's servers: %d processes" % len(pids))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while pids and time.monotonic() < deadline:
            pids = {p for p in pids if os.path.exists("/proc/%d" % p)
                    and _state(p) not in ("Z", "X")}
            time.sleep(0.05)
        if not pids:
            break
    return pids


def _state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2]
    except OSError:
        return "X"


class LogCopier(threading.Thread):
    """Copies what the servers write to their logs (python-*.log beside the
    sockets, removed when a server exits) into @dest, every 0.2 s."""

    def __init__(self, rundir, dest):
        super().__init__(daemon=True)
        self.rundir, self.dest = rundir, dest
        self.offsets = {}
        self.done = threading.Event()

    def copy(self):
        for d, _, files in os.walk(self.rundir):
            for f in files:
                if not f.endswith(".log"):
                    continue
                path = os.path.join(d, f)
                try:
                    with open(path, "rb") as src:
                        src.seek(0, 2)
                        size = src.tell()
                        off = self.offsets.get(path, 0)
                        if size < off:
                            off = 0
                        src.seek(off)
                        data = src.read()
                except OSError:
                    continue
                if data:
                    os.makedirs(self.dest, exist_ok=True)
                    with open(os.path.join(self.dest, f), "ab") as out:
                        out.write(data)
                self.offsets[path] = off + len(data)

    def run(self):
        while not self.done.wait(0.2):
            self.copy()

    def stop(self):
        self.done.set()
        self.join()
        self.copy()


# ---- which server served a run -------------------------------------------------------

def server_infos(rundir):
    """{info file: (mtime_ns, info)} of the servers' info files in @rundir."""
    out = {}
    for d, _, files in os.walk(rundir):
        for f in files:
            if not (f.startswith("python-") and f.endswith(".json")):
                continue
            path = os.path.join(d, f)
            try:
                st = os.stat(path)
                with open(path) as fh:
                    info = json.load(fh)
            except (OSError, ValueError):
                continue
            out[path] = (st.st_mtime_ns, info)
    return out


def any_log(rundir):
    for d, _, files in os.walk(rundir):
        if any(f.endswith(".log") for f in files):
            return True
    return False


def served_by(rundir, before):
    """The kinds of the servers that took a request since @before (a
    server_infos() snapshot): a set of "tier", "plain[PRELOAD]", or
    {"none"}; {"?"} when no server writes info files."""
    after = server_infos(rundir)
    kinds = set()
    for path, (mtime, info) in after.items():
        if path in before and before[path][0] == mtime:
            continue
        if info.get("pytest"):
            kinds.add("tier")
        else:
            pre = info.get("preload")
            if isinstance(pre, (list, tuple)):
                pre = ",".join(pre)
            kinds.add("plain[%s]" % (pre or ""))
    if not kinds:
        kinds.add("none" if after or not any_log(rundir) else "?")
    return kinds


# ---- junit XML ---------------------------------------------------------------------

def node_id(suite, classname, name):
    """The pytest node id behind a junit (classname, name): the module is the
    longest dotted prefix of classname that is a file in @suite."""
    parts = classname.split(".") if classname else []
    for k in range(len(parts), 0, -1):
        rel = "/".join(parts[:k]) + ".py"
        if os.path.isfile(os.path.join(suite, rel)):
            return "::".join([rel] + parts[k:] + [name])
    return (classname + "::" if classname else "") + name


def outcomes(xml_path, suite):
    """{key: outcome} and {key: node id} from a junit XML file."""
    root = ET.parse(xml_path).getroot()
    kinds, ids = {}, {}
    for tc in root.iter("testcase"):
        cls, name = tc.get("classname", ""), tc.get("name", "")
        key = cls + "::" + name
        k = kinds.setdefault(key, [])
        ids.setdefault(key, node_id(suite, cls, name))
        got = None
        for child in tc:
            if child.tag == "failure":
                got = "failed"
            elif child.tag == "error":
                got = "error"
            elif child.tag == "skipped":
                got = "xfail" if child.get("type") == "pytest.xfail" else "skipped"
            else:
                continue
            if got not in k:
                k.append(got)
        if got is None and not k:
            k.append("passed")
    out = {}
    for key, k in kinds.items():
        if len(k) > 1 and "passed" in k:
            k.remove("passed")
        out[key] = "+".join(k)
    return out, ids


def counts(res):
    c = {}
    for v in res.values():
        c[v] = c.get(v, 0) + 1
    return ", ".join("%d %s" % (n, k) for k, n in sorted(c.items(), key=lambda kv: -kv[1]))


# ---- the runs ----------------------------------------------------------------------

def run_logged(cmd, cwd, env, log, timeout):
    t = time.monotonic()
    with open(log, "wb") as f:
        f.write(("$ cd %s && %s\n" % (shlex.quote(cwd), shlex.join(cmd))).encode())
        f.flush()
        try:
            rc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=f, stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    return rc, time.monotonic() - t


def tail(log, n=15):
    try:
        with open(log, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    | " + l for l in lines[-n:])


def compare_suite(a, suite, name, env, launcher, outdir, rundir):
    runs = [
        ("plain", [a.python, "-m", "pytest"]),
        ("tier", [launcher, "-m", "pytest"]),
        ("xdist", [a.python, "-m", "pytest", "-d",
                   "--tx", "%d*popen//python=%s" % (a.workers, launcher)]),
    ]
    results = {}
    ok = True
    for label, cmd in runs:
        xml = os.path.join(outdir, "%s.%s.xml" % (name, label))
        log = os.path.join(outdir, "%s.%s.log" % (name, label))
        if os.path.exists(xml):
            os.unlink(xml)
        full = cmd + ["--junitxml=" + xml] + a.pytest_args
        before = server_infos(rundir)
        rc, secs = run_logged(full, suite, env, log, a.timeout)
        by = "" if label == "plain" else \
            ", served by " + "+".join(sorted(served_by(rundir, before)))
        if not os.path.exists(xml):
            print("  %-6s exit %s in %.1f s%s: NO XML (log %s)\n%s"
                  % (label, rc, secs, by, log, tail(log)))
            ok = False
            continue
        res, ids = outcomes(xml, suite)
        results[label] = (res, ids, rc)
        print("  %-6s exit %s in %6.1f s: %d tests: %s%s"
              % (label, rc, secs, len(res), counts(res), by))
    if "plain" not in results:
        return False, None
    base, base_ids, base_rc = results["plain"]
    for label in ("tier", "xdist"):
        if label not in results:
            continue
        res, ids, rc = results[label]
        diff = []
        for key in sorted(set(base) | set(res)):
            x, y = base.get(key, "missing"), res.get(key, "missing")
            if x != y:
                diff.append((base_ids.get(key) or ids.get(key), x, y))
        same = len(set(base) & set(res)) - sum(1 for d in diff if "missing" not in d[1:])
        if diff or rc != base_rc:
            ok = False
        print("  plain vs %-5s: %d identical, %d differ%s" % (
            label, same, len(diff),
            "" if rc == base_rc else " (exit %s against %s)" % (rc, base_rc)))
        for tid, x, y in diff:
            print("    %s: plain %s, %s %s" % (tid, x, label, y))
    pick = None
    for key, v in base.items():
        if v == "passed" and "[" not in key:
            pick = base_ids[key]
            break
    if pick is None:
        pick = next((base_ids[k] for k, v in base.items() if v == "passed"), None)
    return ok, pick


INPROC = r"""
import json, os, sys, time
out, n, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
null = os.open(os.devnull, os.O_WRONLY)
os.dup2(null, 1)
os.dup2(null, 2)
t = time.perf_counter()
import pytest
rc0 = int(pytest.main(list(args)))
first = time.perf_counter() - t
times, rcs = [], []
for i in range(n):
    t = time.perf_counter()
    rc = pytest.main(list(args))
    times.append(time.perf_counter() - t)
    rcs.append(int(rc))
with open(out, "w") as f:
    json.dump({"first": first, "rc0": rc0, "times": times, "rcs": rcs}, f)
"""


def time_suite(a, suite, name, env, launcher, outdir, rundir, test_id):
    # The paths in PYTEST_ARGS (`-- tests`) would run beside the id: left out.
    qargs = ["-q"] + \
        [x for x in a.pytest_args
         if x.startswith("-") or not os.path.exists(os.path.join(suite, x))] + [test_id]
    nt = dict(env, PROCWAIT_PYTEST="0")
    rows = [
        ("cold python3", [a.python, "-m", "pytest"] + qargs, env, False),
        ("launcher PROCWAIT_PYTEST=0", [launcher, "-m", "pytest"] + qargs, nt, True),
    ]
    if "PROCWAIT_PRELOAD" not in os.environ:
        rows.append(("  + PROCWAIT_PRELOAD=pytest", [launcher, "-m", "pytest"] + qargs,
                     dict(nt, PROCWAIT_PRELOAD="pytest"), True))
    rows.append(("tier", [launcher, "-m", "pytest"] + qargs, env, True))
    log = os.path.join(outdir, "%s.timing.log" % name)
    logf = open(log, "wb")
    times = {r[0]: [] for r in rows}
    servers = {r[0]: set() for r in rows}
    bad = {}

    def once(label, cmd, e, warm):
        logf.write(("$ %s  # %s\n" % (shlex.join(cmd), label)).encode())
        logf.flush()
        before = server_infos(rundir) if warm else None
        t = time.perf_counter()
        rc = subprocess.run(cmd, cwd=suite, env=e, stdin=subprocess.DEVNULL,
                            stdout=logf, stderr=subprocess.STDOUT).returncode
        dt = time.perf_counter() - t
        if warm:
            servers[label] |= served_by(rundir, before)
        if rc != 0:
            bad[label] = rc
        return dt

    print("  timing %s (%d runs a row; log %s)" % (test_id, a.runs, log))
    for label, cmd, e, warm in rows:
        if warm:
            once(label, cmd, e, warm)
            servers[label] = set()   # the warm-up may start one: not counted
    for i in range(a.runs):
        for label, cmd, e, warm in rows:
            times[label].append(once(label, cmd, e, warm))
    logf.close()
    res = os.path.join(outdir, "%s.inproc.json" % name)
    r = subprocess.run([a.python, "-c", INPROC, res, str(a.runs)] + qargs, cwd=suite, env=env,
                       stdin=subprocess.DEVNULL)
    inproc = None
    if r.returncode == 0 and os.path.exists(res):
        with open(res) as f:
            j = json.load(f)
        inproc = j["times"]
        if j["rc0"] != 0 or any(j["rcs"]):
            bad["in-process pytest.main"] = "%s/%s" % (j["rc0"], j["rcs"])
        times["in-process pytest.main"] = inproc
    else:
        bad["in-process pytest.main"] = r.returncode
    med = {k: statistics.median(v) * 1000 for k, v in times.items() if v}
    cold = med.get("cold python3")
    ip = med.get("in-process pytest.main")
    print("    %-28s %9s %9s %9s %9s %11s  %s" % ("", "median ms", "min ms", "max ms",
                                                "cold/row", "row/in-proc", "served by"))
    for k, v in times.items():
        if not v:
            continue
        m = med[k]
        print("    %-28s %9.1f %9.1f %9.1f %9s %11s  %s" % (
            k, m, min(v) * 1000, max(v) * 1000,
            "%.1fx" % (cold / m) if cold else "-", "%.1fx" % (m / ip) if ip else "-",
            "+".join(sorted(servers.get(k, ()))) or "-"))
    tier = med.get("tier")
    if cold and tier and ip:
        print("    cold/tier %.1fx, tier/in-process %.2fx" % (cold / tier, tier / ip))
    for k, rc in bad.items():
        print("    WARNING: %s: exit %s (see %s)" % (k, rc, log))
    return med


def git_commit(suite):
    """HEAD of @suite when it is a git checkout's top."""
    try:
        r = subprocess.run(["git", "-C", suite, "rev-parse", "--show-toplevel", "HEAD"],
                           capture_output=True, text=True)
    except OSError:
        return None
    lines = r.stdout.split()
    if r.returncode or len(lines) != 2 or os.path.realpath(lines[0]) != os.path.realpath(suite):
        return None
    return lines[1]


def main():
    a = parse_args(sys.argv[1:])
    launcher, launcher_tree, launcher_env = resolve_launcher(a)
    if not os.access(a.python, os.X_OK):
        die("no interpreter %s" % a.python)
    suites = []
    for s in a.suites:
        s = os.path.abspath(s)
        if not os.path.isdir(s):
            die("%s is not a directory" % s)
        suites.append(s)
    outdir = os.path.abspath(a.out) if a.out else tempfile.mkdtemp(prefix="pytest-suites.")
    os.makedirs(outdir, exist_ok=True)
    rundir = tempfile.mkdtemp(prefix="pytest-suites-run.")
    env0 = base_env(a, launcher_tree, launcher_env, rundir)
    print("launcher %s, python %s, PROCWAIT_LIBRARY=%s, XDG_RUNTIME_DIR=%s, out %s"
          % (launcher, a.python, env0.get("PROCWAIT_LIBRARY", "(unset)"), rundir, outdir))
    print("PYTEST_ADDOPTS=%s" % shlex.quote(env0["PYTEST_ADDOPTS"]))
    if a.pytest_args:
        print("pytest args: %s" % shlex.join(a.pytest_args))
    status = 0
    summary = []
    logs = LogCopier(rundir, os.path.join(outdir, "server-logs"))
    logs.start()
    try:
        for suite in suites:
            name = os.path.basename(suite.rstrip("/")) or "suite"
            env = suite_env(a, env0, suite)
            commit = git_commit(suite)
            print("\n== %s (%s)%s PYTHONPATH=%s" % (
                name, suite, " commit " + commit if commit else "",
                env.get("PYTHONPATH", "")))
            pick = None
            if not a.skip_compare:
                ok, pick = compare_suite(a, suite, name, env, launcher, outdir, rundir)
                if not ok:
                    status = 1
                summary.append("%s: outcomes %s" % (name, "identical" if ok else "DIFFER"))
            if not a.skip_timing:
                tid = next((t for t in a.test
                            if os.path.exists(os.path.join(suite, t.split("::")[0]))), None) or pick
                if tid is None:
                    print("  timing: no test id (give --test ID)")
                else:
                    time_suite(a, suite, name, env, launcher, outdir, rundir, tid)
    finally:
        logs.stop()
        left = kill_servers(rundir)
        if left:
            print("WARNING: processes left: %s" % sorted(left), file=sys.stderr)
        subprocess.run(["rm", "-rf", rundir])
    if summary:
        print("\n" + "\n".join(summary))
    print("XML and logs: %s" % outdir)
    return status


if __name__ == "__main__":
    sys.exit(main())
