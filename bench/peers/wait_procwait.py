"""Measure procwait.wait(pid, timeout) (the Python binding) on one child.

The same child model as the C wait section and the other Python peers:
the child sleeps --duration seconds, prints its CLOCK_MONOTONIC ns stamp
and exits 0. Reported per child (median over --reps children): voluntary
and involuntary context switches and CPU time (getrusage deltas) and the
exit-detection latency (wake-up time minus the child's stamp).

Usage: wait_procwait.py --child PATH --duration SECONDS --reps N
Output (one JSON line, exit 0):
  {"vol_ctx_switches": median, "invol_ctx_switches": median, "cpu_s": median,
   "latency_us": {"median": x, "p90": x, "max": x}, "reps": N, "impl": "..."}
  or {"missing": "..."} if the binding does not import.
Exit 2 on bad arguments, 1 if the child cannot be run or misbehaves.
"""

import _peer

if __name__ == "__main__":
    args = _peer.parse_args(__doc__)
    procwait = _peer.import_procwait()

    def wait(proc, timeout):
        return procwait.wait(proc.pid, timeout=timeout).returncode

    impl = "procwait %s, backend %s (%s)" % (procwait.__version__, procwait.backend(),
                                             _peer.python_impl())
    _peer.run_wait_bench(args, wait, impl)
