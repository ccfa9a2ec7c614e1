"""Shared helpers for the procwait-bench peer scripts (stdlib only).

Output contract common to all peers: exactly one JSON object on one line on
stdout.  Exit status 0 on success and when a dependency is missing (the
object is then {"missing": "..."}), 2 on bad arguments (argparse usage
message on stderr), 1 when the child cannot be run or misbehaves (reason on
stderr).
"""

import argparse
import json
import math
import platform
import resource
import statistics
import subprocess
import sys
import time

PSUTIL_MISSING = "python3-psutil is not installed (apt-get install python3-psutil)"
PROCWAIT_MISSING = ("the procwait Python binding does not import (%s): pip install "
                    "./python-binding, or PYTHONPATH=python-binding and PROCWAIT_LIBRARY")


# ---- argument parsing -----------------------------------------------------

def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not an integer: %r" % text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1: %r" % text)
    return value


def _nonneg_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError("must be a finite number >= 0: %r" % text)
    return value


def _nonneg_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not an integer: %r" % text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0: %r" % text)
    return value


def parse_args(doc, wait=True, pid=False):
    """Parse --reps (and, if wait, --child/--duration; if pid, an optional
    --pid, 0 by default); exits 2 on error."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if wait:
        parser.add_argument("--child", required=True, metavar="PATH",
                            help="child program, run as PATH --child SECONDS")
        parser.add_argument("--duration", required=True, type=_nonneg_float,
                            metavar="SECONDS", help="how long the child sleeps")
    if pid:
        parser.add_argument("--pid", type=_nonneg_int, default=0, metavar="PID",
                            help="the process to read (0: this one)")
    parser.add_argument("--reps", required=True, type=_positive_int,
                        metavar="N", help="number of repetitions")
    return parser.parse_args()


# ---- output ---------------------------------------------------------------

def emit(obj):
    """Print obj as one JSON line on stdout and exit 0."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
    sys.exit(0)


def fail(reason):
    """Report a real failure (not a missing dependency): stderr, exit 1."""
    sys.stderr.write("%s: %s\n" % (sys.argv[0], reason))
    sys.exit(1)


def import_psutil():
    """Return the psutil module, or emit {"missing": ...} and exit 0."""
    try:
        import psutil
    except ImportError:
        emit({"missing": PSUTIL_MISSING})
    return psutil


def import_procwait():
    """Return the procwait binding, or emit {"missing": ...} and exit 0."""
    try:
        import procwait
    except ImportError as e:
        emit({"missing": PROCWAIT_MISSING % (str(e)[:60],)})
    return procwait


def python_impl():
    return "%s %s" % (platform.python_implementation(), platform.python_version())


# ---- statistics -----------------------------------------------------------

def percentile(values, p):
    """Nearest-rank percentile: the ceil(p/100 * n)-th smallest value."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


# ---- the oneshot timing shared by the oneshot scripts ---------------------

def time_oneshot(p, six, reps, batches=5, rival=None):
    """Time six(p) reps times (a) each inside `with p.oneshot():` and (b)
    without, in interleaved batches: the median batch of each, in µs per
    set of six calls, as (oneshot_us, separate_us, rival_us). With rival
    (another library's process object), its oneshot is timed in the same
    rounds, so that the two are compared under the same load; rival_us is
    None without one."""
    def with_oneshot(proc):
        t0 = time.perf_counter_ns()
        for _ in range(reps):
            with proc.oneshot():
                six(proc)
        return time.perf_counter_ns() - t0

    def separate():
        t0 = time.perf_counter_ns()
        for _ in range(reps):
            six(p)
        return time.perf_counter_ns() - t0

    a, b, c = [], [], []
    for _ in range(batches):
        a.append(with_oneshot(p))
        b.append(separate())
        if rival is not None:
            c.append(with_oneshot(rival))
    us = lambda v: statistics.median(v) / reps / 1000.0   # noqa: E731
    return us(a), us(b), (us(c) if c else None)


# ---- the child-running loop shared by the wait scripts --------------------

def run_wait_bench(args, wait, impl):
    """Run args.reps children and emit the wait-benchmark JSON object.

    wait(proc, timeout) must block until the child has exited, reap it exactly
    once and return its exit status.  Only that call is measured.
    """
    argv = [args.child, "--child", str(args.duration)]
    timeout = args.duration + 60
    vol, invol, cpu, lat_us = [], [], [], []
    for _ in range(args.reps):
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE)
        except OSError as e:
            fail("cannot start child %r: %s" % (args.child, e))
        with proc:   # on leaving: closes the pipe; wait() is a no-op if reaped
            try:
                ru0 = resource.getrusage(resource.RUSAGE_SELF)
                status = wait(proc, timeout)
                t_wake = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                ru1 = resource.getrusage(resource.RUSAGE_SELF)
            except Exception as e:   # TimeoutExpired from either library
                proc.kill()
                proc.wait()
                fail("waiting for child failed: %r" % (e,))
            if proc.returncode is None:   # reaped by someone else (psutil)
                proc.returncode = status
            out = proc.stdout.read()
            if status != 0:
                fail("child %r exited with status %r" % (args.child, status))
            try:
                stamp = int(out.strip())
            except ValueError:
                fail("child %r wrote no valid time stamp: %r" % (args.child, out[:80]))
        vol.append(ru1.ru_nvcsw - ru0.ru_nvcsw)
        invol.append(ru1.ru_nivcsw - ru0.ru_nivcsw)
        cpu.append((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime))
        lat_us.append((t_wake - stamp) / 1000.0)
    emit({
        "vol_ctx_switches": statistics.median(vol),
        "invol_ctx_switches": statistics.median(invol),
        "cpu_s": round(statistics.median(cpu), 6),
        "latency_us": {"median": round(statistics.median(lat_us), 3),
                       "p90": round(percentile(lat_us, 90), 3),
                       "max": round(max(lat_us), 3)},
        "reps": args.reps,
        "impl": impl,
    })
