"""Measure CPython's multiprocessing 'forkserver' start method.

A trivial target (a function that returns at once) is run --reps times, one
process after the other: p.start(); p.join().  Each start+join is timed
(time.perf_counter_ns), and so is the whole loop: the throughput is --reps
over that time.  Every process must exit with code 0.  Two ways, with the
same fork server (started and warmed up first, not timed):

 - "script": the target in this script, run as a script: multiprocessing as
   a script uses it.  Before CPython 3.14 (and some 3.13 releases) the fork
   server never preloads __main__ (CPython gh-126631, gh-137996): every
   child runs the main script again before the target;
 - "preloaded": the target in this file imported as a module that the fork
   server preloads (set_forkserver_preload), and the main script not run
   again in the children (its __file__ hidden while they start): a
   preloaded child per request, CPython's best case.

This file imports nothing heavy at its top: the children of "script" run it.

Usage: forkserver_mp.py --reps N
Output (one JSON line, exit 0):
  {"script": {"per_s": processes per second, "p50_us": x, "p99_us": x,
              "latencies_us": [every start+join in us]},
   "preloaded": {the same}, "reps": N,
   "impl": "CPython X.Y.Z multiprocessing forkserver"}
  or {"missing": "..."} when the forkserver start method is not available.
Exit 2 on bad arguments, 1 if a process cannot be started or fails.
"""

import sys
import time


def noop():
    pass


def run(ctx, target, reps, fail):
    """reps start+join of target: (processes/s, [µs per process])."""
    lat_us = []
    t_start = time.perf_counter_ns()
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        p = ctx.Process(target=target)
        p.start()
        p.join()
        lat_us.append((time.perf_counter_ns() - t0) / 1000.0)
        if p.exitcode != 0:
            fail("a process exited with code %r" % (p.exitcode,))
    return reps / ((time.perf_counter_ns() - t_start) / 1e9), lat_us


def main():
    import _peer

    args = _peer.parse_args(__doc__, wait=False)
    try:
        import multiprocessing
        ctx = multiprocessing.get_context("forkserver")
    except (ImportError, ValueError) as e:
        _peer.emit({"missing": "multiprocessing forkserver is not available here (%s)"
                    % (str(e)[:60],)})
    import forkserver_mp   # this file as a module, for "preloaded"

    ctx.set_forkserver_preload(["__main__", "forkserver_mp"])
    out = {}
    main_module = sys.modules["__main__"]
    try:
        run(ctx, noop, 1, _peer.fail)   # starts the fork server
        out["script"] = run(ctx, noop, args.reps, _peer.fail)
        main_file = main_module.__file__
        del main_module.__file__
        try:
            run(ctx, forkserver_mp.noop, 1, _peer.fail)
            out["preloaded"] = run(ctx, forkserver_mp.noop, args.reps, _peer.fail)
        finally:
            main_module.__file__ = main_file
    except OSError as e:
        _peer.fail("cannot start a process: %r" % (e,))
    obj = {}
    for mode, (per_s, lat_us) in out.items():
        obj[mode] = {"per_s": round(per_s, 3),
                     "p50_us": round(_peer.percentile(lat_us, 50), 3),
                     "p99_us": round(_peer.percentile(lat_us, 99), 3),
                     "latencies_us": [round(v, 1) for v in lat_us]}
    obj["reps"] = args.reps
    obj["impl"] = _peer.python_impl() + " multiprocessing forkserver"
    _peer.emit(obj)


if __name__ == "__main__":
    main()
