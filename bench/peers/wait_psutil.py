"""Measure waiting for a child with psutil.Process(pid).wait(timeout=...).

psutil (5.x) polls waitpid(WNOHANG) with sleeps that double from 0.1 ms up
to 40 ms, and reaps the child itself; the Popen object is then told the exit
status so the child is reaped exactly once.  For each of --reps runs it
starts `CHILD --child SECONDS`, which sleeps, prints its CLOCK_MONOTONIC time
in ns and exits; around the wait only it records voluntary and involuntary
context switches and CPU time (getrusage deltas) and the exit-detection
latency (wake-up time minus the child's stamp).

Usage: wait_psutil.py --child PATH --duration SECONDS --reps N
Output (one JSON line, exit 0):
  {"vol_ctx_switches": median, "invol_ctx_switches": median, "cpu_s": median,
   "latency_us": {"median": x, "p90": x, "max": x}, "reps": N, "impl": "..."}
  or {"missing": "..."} if psutil is not importable.
Exit 2 on bad arguments, 1 if the child cannot be run or misbehaves.
"""

import _peer

if __name__ == "__main__":
    args = _peer.parse_args(__doc__)
    psutil = _peer.import_psutil()

    def wait(proc, timeout):
        return psutil.Process(proc.pid).wait(timeout=timeout)

    impl = "psutil %s (%s)" % (psutil.__version__, _peer.python_impl())
    _peer.run_wait_bench(args, wait, impl)
