#!/bin/sh
# procwait-bench smoke test: a quick run with --json parses, and every
# expected row is there with sane values (no timing pass/fail: the machine
# is shared); --only procinfo runs that section alone; --only pytest where
# pytest does not import gives its rows as missing, with the reason. Needs
# python3 to parse the JSON; skipped (77) without it.
set -u
bench="${PROCWAIT_BENCH:-bench/procwait-bench}"
py=$(command -v python3 2>/dev/null || true)
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if [ -z "$py" ]; then
	echo "SKIP: python3 is not installed (needed to parse the JSON)"
	exit 77
fi
out=$(mktemp) || exit 99
only=$(mktemp) || { rm -f "$out"; exit 99; }
nopytest=$(mktemp -d) || { rm -f "$out" "$only"; exit 99; }
trap 'rm -f "$out" "$only"; rm -rf "$nopytest"' EXIT
# the interpreter of the bench's Python rows, and whether pytest imports there
benchpy=${PROCWAIT_BENCH_PYTHON:-/usr/bin/python3}
[ -x "$benchpy" ] || benchpy=python3
BENCH_HAS_PYTEST=0
"$benchpy" -c 'import pytest' >/dev/null 2>&1 && BENCH_HAS_PYTEST=1
export BENCH_HAS_PYTEST
"$bench" --quick --duration 0.2 --json >"$out"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: procwait-bench exited $rc"
	exit 1
fi
# --only procinfo: that section alone, still a whole JSON document
"$bench" --quick --only procinfo --json >"$only"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: procwait-bench --only procinfo exited $rc"
	exit 1
fi
if ! "$py" -c '
import json, sys
s = json.load(open(sys.argv[1]))["sections"]
names = [r["name"] for r in s["procinfo"]]
assert "procwait-refresh-stat" in names and "bare-pread-stat" in names, names
assert not s["wait"] and not s["scale"] and not s["python"] and not s["pypreload"] \
    and not s["pytest"], "other sections ran"
' "$only"; then
	echo "FAIL: --only procinfo"
	exit 1
fi
# --only pytest where pytest does not import (a pytest module that fails
# first on PYTHONPATH): its rows are missing and say why, the generated
# library's import still runs, nothing else runs
printf 'raise ImportError("no pytest here (tests/bench.sh)")\n' >"$nopytest/pytest.py"
PYTHONPATH="$nopytest${PYTHONPATH:+:$PYTHONPATH}" "$bench" --quick --only pytest --json >"$only"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: procwait-bench --only pytest (pytest not importable) exited $rc"
	exit 1
fi
if ! "$py" -c '
import json, sys
s = json.load(open(sys.argv[1]))["sections"]
assert all(not s[k] for k in s if k != "pytest"), "other sections ran"
rows = {r["name"]: r for r in s["pytest"]}
lib = rows["heavylib-import"]
assert "missing" not in lib and lib["wall_ms"]["p50"] > 0, lib
for k in ("cold", "plain", "tier", "inproc"):
    for i in ("test", "file"):
        r = rows["pytest-%s-%s" % (k, i)]
        assert "pytest does not import" in r.get("missing", ""), r
        assert "wall_ms" not in r and r.get("ratio") is None, r
' "$only"; then
	echo "FAIL: --only pytest without pytest"
	exit 1
fi
"$bench" --bogus >/dev/null 2>&1
rc=$?
if [ "$rc" -ne 2 ]; then
	echo "FAIL: a bad option exits $rc, want 2"
	exit 1
fi
"$py" - "$out" <<'PY'
import json, os, sys

doc = json.load(open(sys.argv[1]))
bad = []

def check(cond, what):
    if not cond:
        bad.append(what)

m = doc.get("machine", {})
check(m.get("cpus", 0) >= 1, "machine.cpus")
check(m.get("backend") in ("pidfd", "poll"), "machine.backend %r" % m.get("backend"))
secs = doc.get("sections", {})
for s in ("wait", "scale", "procinfo", "forkserver", "python", "pypreload", "pytest"):
    check(isinstance(secs.get(s), list), "section %s is a list" % s)

def rows(sec):
    return {r["name"]: r for r in secs.get(sec, [])}

def sane_wait(r, name):
    check(r.get("vol_ctx_switches", -1) >= 0, name + ".vol_ctx_switches")
    check(r.get("invol_ctx_switches", -1) >= 0, name + ".invol_ctx_switches")
    check(r.get("cpu_s", -1) >= 0, name + ".cpu_s")
    lat = r.get("latency_us", {})
    ok = all(isinstance(lat.get(k), (int, float)) for k in ("median", "p90", "max"))
    check(ok and 0 < lat["median"] <= lat["p90"] <= lat["max"] < 60e6, name + ".latency_us %r" % lat)
    check(isinstance(r.get("ratio"), (int, float)) and r["ratio"] > 0, name + ".ratio")

w = rows("wait")
for name in ("waitpid-blocking", "procwait-pidfd", "procwait-poll"):
    r = w.get(name)
    check(r is not None, "wait row " + name)
    if r is None:
        continue
    if name == "procwait-pidfd" and "missing" in r and m.get("backend") == "poll":
        continue   # no pidfd here: said so, not faked
    check("missing" not in r, name + " ran (%s)" % r.get("missing"))
    if "missing" not in r:
        sane_wait(r, name)
if "waitpid-blocking" in w and "missing" not in w["waitpid-blocking"]:
    check(abs(w["waitpid-blocking"]["ratio"] - 1) < 1e-9, "the reference's ratio is 1")

seen = {}
for r in secs.get("scale", []):
    seen[(r["name"], r.get("n"))] = r
for n in (10, 100, 1000):
    for name in ("epoll-pidfd-floor", "procwait-waitset", "procwait-waitset-poll", "sigchld-scan"):
        r = seen.get((name, n))
        check(r is not None, "scale row %s N=%d" % (name, n))
        if r is None or "missing" in r:
            check(r is None or (name in ("procwait-waitset", "epoll-pidfd-floor")
                                and m.get("backend") == "poll"),
                  "scale row %s N=%d ran (%s)" % (name, n, r and r.get("missing")))
            continue
        lat = r.get("latency_us", {})
        check(r.get("cpu_us_per_exit", -1) > 0, "%s N=%d cpu_us_per_exit" % (name, n))
        check(0 <= lat.get("p50", -1) <= lat.get("p99", -1) < 60e6, "%s N=%d latency" % (name, n))
        check(r.get("ratio") is None or r["ratio"] > 0, "%s N=%d ratio" % (name, n))

# procinfo: every row by its exact name, with numbers (no timing threshold:
# the targets are shown by the bench, not asserted here)
def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0

pi = rows("procinfo")
for name in ("bare-pread-stat", "procwait-refresh-stat", "procwait-snapshot-6",
             "procwait-oneshot-6", "procwait-separate-6", "psutil-oneshot-6"):
    r = pi.get(name)
    check(r is not None, "procinfo row " + name)
    if r is None:
        continue
    if name == "psutil-oneshot-6" and "missing" in r:
        check(isinstance(r["missing"], str) and len(r["missing"]) > 5,
              name + " says why it is missing")
        continue
    check("missing" not in r, name + " ran (%s)" % r.get("missing"))
    if "missing" in r:
        continue
    check(num(r.get("us_per_op")), name + ".us_per_op %r" % r.get("us_per_op"))
    check(num(r.get("ratio")), name + ".ratio %r" % r.get("ratio"))
    if name in ("procwait-oneshot-6", "psutil-oneshot-6"):
        for k in ("oneshot_us", "separate_us", "speedup"):
            check(num(r.get(k)), "%s.%s %r" % (name, k, r.get(k)))
    if name in ("procwait-refresh-stat", "procwait-oneshot-6"):
        check(isinstance(r.get("target"), str) and r.get("met") in (True, False),
              name + " target and met")
if "bare-pread-stat" in pi and num(pi["bare-pread-stat"].get("ratio")):
    check(abs(pi["bare-pread-stat"]["ratio"] - 1) < 1e-9, "bare-pread-stat's ratio is 1")
names = [r["name"] for r in secs.get("procinfo", [])]
check(len(names) == len(set(names)), "procinfo rows are unique")

p = rows("python")
for name in ("python-subprocess", "python-psutil", "python-procwait-wait",
             "python-psutil-oneshot", "python-procwait-oneshot"):
    r = p.get(name)
    check(r is not None, "python row " + name)
    if r is None or "missing" in r:
        check(r is None or len(r["missing"]) > 5, name + " says why it is missing")
        continue
    if name.endswith("-oneshot"):
        check(r.get("oneshot_us", 0) > 0 and r.get("separate_us", 0) > 0, name + " figures")
        check(num(r.get("speedup")), name + ".speedup")
    else:
        sane_wait(r, name)
# the binding is in this tree: with a shared library its rows must run
if os.environ.get("PROCWAIT_LIBRARY") and os.path.exists(os.environ["PROCWAIT_LIBRARY"]):
    for name in ("python-procwait-wait", "python-procwait-oneshot"):
        r = p.get(name) or {}
        check("missing" not in r, name + " ran (%s)" % r.get("missing"))
    r = p.get("python-procwait-oneshot") or {}
    if "missing" not in r and "missing" not in (p.get("python-psutil-oneshot") or {}):
        check("same values as psutil" in r.get("impl", ""), "procwait's six values equal psutil's")
        check(num(r.get("ratio")), "python-procwait-oneshot has a ratio to psutil's")

# pypreload: every row by name; with this tree's launcher and library
# they must run (the targets are shown by the bench, not asserted here)
pp = rows("pypreload")
launcher = os.environ.get("PROCWAIT_PYTHON_LAUNCHER", "")
lib = os.environ.get("PROCWAIT_LIBRARY", "")
must_run = bool(launcher and os.access(launcher, os.X_OK) and lib and os.path.exists(lib))
for name in ("python3-cold", "procwait-python", "procwait-python-c-pass", "c-client-c-pass",
             "child-mem-gc-freeze", "child-mem-no-gc-freeze"):
    r = pp.get(name)
    check(r is not None, "pypreload row " + name)
    if r is None:
        continue
    if "missing" in r:
        check(len(r["missing"]) > 5, name + " says why it is missing")
        check(not must_run or (name.startswith("child-mem")
                               and not os.path.exists("/proc/self/smaps_rollup")),
              name + " ran (%s)" % r["missing"])
        continue
    if name.startswith("child-mem"):
        check(num(r.get("private_dirty_kb")) and num(r.get("shared_kb")), name + " figures")
    else:
        ms = r.get("wall_ms", {})
        check(num(ms.get("p50")) and num(ms.get("p99")) and ms["p50"] <= ms["p99"] < 600e3,
              name + ".wall_ms %r" % ms)
    check(r.get("ratio") is None or num(r["ratio"]), name + ".ratio")
    if name in ("procwait-python", "procwait-python-c-pass"):
        check(isinstance(r.get("target"), str) and r.get("met") in (True, False, None),
              name + " target and met")
if "python3-cold" in pp and num(pp["python3-cold"].get("ratio")):
    check(abs(pp["python3-cold"]["ratio"] - 1) < 1e-9, "python3-cold's ratio is 1")
r = pp.get("procwait-python") or {}
if "missing" not in r and "missing" not in (pp.get("python3-cold") or {}):
    check(num(r.get("speedup")) and r.get("met") in (True, False), "procwait-python's speedup")
r = pp.get("procwait-python-c-pass") or {}
if "missing" not in r and "missing" not in (pp.get("c-client-c-pass") or {}):
    check(isinstance(r.get("overhead_ms"), (int, float)) and r.get("met") in (True, False),
          "procwait-python-c-pass's overhead")

# pytest: the generated library's import and each runner on one test and
# one file, by name; the rows run (their runs passed: a failed run makes
# its row missing) where pytest imports, the launcher's with this tree's
# launcher and library (the targets are shown by the bench, not asserted)
pt = rows("pytest")
has_pytest = os.environ.get("BENCH_HAS_PYTEST") == "1"
r = pt.get("heavylib-import")
check(r is not None and "missing" not in r, "pytest row heavylib-import ran (%s)"
      % (r and r.get("missing")))
if r is not None and "missing" not in r:
    ms = r.get("wall_ms", {})
    check(num(ms.get("p50")) and ms["p50"] <= ms.get("p99", -1), "heavylib-import.wall_ms %r" % ms)
    check(isinstance(r.get("target"), str) and r.get("met") in (True, False),
          "heavylib-import target and met")
for k in ("cold", "plain", "tier", "inproc"):
    for i in ("test", "file"):
        name = "pytest-%s-%s" % (k, i)
        r = pt.get(name)
        check(r is not None, "pytest row " + name)
        if r is None:
            continue
        if "missing" in r:
            check(len(r["missing"]) > 5, name + " says why it is missing")
            check(not has_pytest or (k in ("plain", "tier") and not must_run),
                  name + " ran (%s)" % r["missing"])
            continue
        ms = r.get("wall_ms", {})
        check(num(ms.get("p50")) and num(ms.get("p99")) and ms["p50"] <= ms["p99"] < 600e3,
              name + ".wall_ms %r" % ms)
        check(num(r.get("ratio")), name + ".ratio %r" % r.get("ratio"))
        if k == "inproc":
            check(abs(r["ratio"] - 1) < 1e-9, name + "'s ratio is 1")
        if k != "cold" and "missing" not in (pt.get("pytest-cold-" + i) or {}):
            check(num(r.get("speedup")), name + ".speedup %r" % r.get("speedup"))
        if k == "tier":
            check(isinstance(r.get("target"), str) and r.get("met") in (True, False, None),
                  name + " target and met")
names = [r["name"] for r in secs.get("pytest", [])]
check(len(names) == len(set(names)) == 9, "pytest rows are the nine, unique: %r" % names)

# forkserver's paused rows: the three servers run wherever procwait serve
# does (a server without cgroups says so; the rows still run)
fs = rows("forkserver")
for name in ("paused-plain", "paused", "paused-nospare"):
    r = fs.get(name)
    check(r is not None, "forkserver row " + name)
    if r is None:
        continue
    if "missing" in r:
        check(len(r["missing"]) > 5, name + " says why it is missing")
        check("missing" in (fs.get("procwait-client") or {}),
              name + " ran where procwait-client did (%s)" % r["missing"])
        continue
    lat = r.get("latency_us", {})
    check(0 < lat.get("p50", -1) <= lat.get("p99", -1) < 60e6, name + " latency %r" % lat)
    check(num(r.get("ratio")), name + ".ratio %r" % r.get("ratio"))
r = fs.get("paused") or {}
if "missing" not in r and "missing" not in (fs.get("paused-plain") or {}):
    check(isinstance(r.get("target"), str) and r.get("met") in (True, False),
          "paused target and met")
    check(abs((fs["paused-plain"].get("ratio") or 0) - 1) < 1e-9, "paused-plain's ratio is 1")

for b in bad:
    print("FAIL:", b)
print("bench smoke: %d rows checked, %d problems" %
      (sum(len(v) for v in secs.values()), len(bad)))
sys.exit(1 if bad else 0)
PY
