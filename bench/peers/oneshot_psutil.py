"""Measure psutil's Process.oneshot() on six fields of a process.

The set of six calls is name(), cpu_times(), create_time(), ppid(), status(),
terminal().  Each batch times --reps sets (time.perf_counter_ns) (a) each set
inside `with p.oneshot():` and (b) the same set without oneshot; 5 batches
of each are run (interleaved) and the median batch is kept.  The process
is --pid PID (procwait-bench passes a sleeping child of its own), or this
one without it (or with --pid 0).

Usage: oneshot_psutil.py --reps N [--pid PID]
Output (one JSON line, exit 0):
  {"oneshot_us": us per set inside oneshot, "separate_us": us per set without,
   "speedup": separate/oneshot, "reps": N, "pid": PID,
   "impl": "psutil X.Y.Z"}
  or {"missing": "..."} if psutil is not importable.
Exit 2 on bad arguments, 1 if the process cannot be read.
"""

import _peer

def six(p):
    p.name(); p.cpu_times(); p.create_time(); p.ppid(); p.status(); p.terminal()


if __name__ == "__main__":
    args = _peer.parse_args(__doc__, wait=False, pid=True)
    psutil = _peer.import_psutil()
    try:
        p = psutil.Process(args.pid or None)
        six(p)                  # warm up caches (terminal map, create time)
    except psutil.Error as e:
        _peer.fail("cannot read process %d: %r" % (args.pid, e))
    oneshot_us, separate_us, _ = _peer.time_oneshot(p, six, args.reps)
    _peer.emit({
        "oneshot_us": round(oneshot_us, 3),
        "separate_us": round(separate_us, 3),
        "speedup": round(separate_us / oneshot_us, 3),
        "reps": args.reps,
        "pid": p.pid,
        "impl": "psutil " + psutil.__version__,
    })
