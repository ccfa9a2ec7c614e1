"""Measure waiting for a child with subprocess.Popen.wait(timeout=...).

Because a timeout is given, CPython polls waitpid(WNOHANG) with sleeps that
double from 1 ms up to 50 ms.  For each of --reps runs it starts
`CHILD --child SECONDS`, which sleeps, prints its CLOCK_MONOTONIC time in ns
and exits; around proc.wait() only it records voluntary and involuntary
context switches and CPU time (getrusage deltas) and the exit-detection
latency (wake-up time minus the child's stamp).

Usage: wait_subprocess.py --child PATH --duration SECONDS --reps N
Output (one JSON line, exit 0):
  {"vol_ctx_switches": median, "invol_ctx_switches": median, "cpu_s": median,
   "latency_us": {"median": x, "p90": x, "max": x}, "reps": N, "impl": "..."}
Exit 2 on bad arguments, 1 if the child cannot be run or misbehaves.
"""

import _peer


def wait(proc, timeout):
    return proc.wait(timeout=timeout)


if __name__ == "__main__":
    args = _peer.parse_args(__doc__)
    _peer.run_wait_bench(args, wait, _peer.python_impl() + " subprocess")
