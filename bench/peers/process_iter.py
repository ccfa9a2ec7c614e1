"""Time procwait.process_iter(attrs) against psutil.process_iter(attrs).

Both walk every process of the machine and read the same attrs (psutil's
own example, ["pid", "name", "username"], and a heavier set of nine); each
round times one full walk of each, interleaved, so the two see the same
load. Walks after the first are timed, as a program that walks again and
again (top, a test runner's leak check) sees them: both libraries keep the
Process objects of the last walk. The values are compared process by
process: equal, but for the counters that move between two reads
(cpu_times, memory_info, status), which must be close; a process whose
values differ is read again by both, and a difference that stays counts.

Usage: process_iter.py --reps N
Output (one JSON line, exit 0):
  {"sets": [{"attrs": [...], "procwait_ms": median walk, "psutil_ms": ...,
             "vs_psutil": psutil_ms / procwait_ms}, ...],
   "processes": how many the last walk saw,
   "same_values": true | false, "mismatch": "...",
   "reps": N, "impl": "procwait X.Y.Z; psutil X.Y.Z"}
  or {"missing": "..."} when psutil or the binding does not import.
Exit 2 on bad arguments.
"""

import statistics
import time

import _peer

SETS = (
    ["pid", "name", "username"],
    ["pid", "name", "ppid", "status", "cpu_times", "create_time", "memory_info",
     "cmdline", "username"],
)


def walk_ms(mod, attrs):
    t0 = time.perf_counter_ns()
    n = sum(1 for _ in mod.process_iter(attrs))
    return (time.perf_counter_ns() - t0) / 1e6, n


def differ(k, x, y):
    """Do two values of k differ beyond what moves between two reads?"""
    if k == "status":
        return False    # running or sleeping: either is right
    if k == "cpu_times" and x is not None and y is not None:
        return any(abs(u - v) > 0.05 for u, v in zip(x[:4], y[:4]))
    if k == "memory_info" and x is not None and y is not None:
        return abs(x.vms - y.vms) > (64 << 20) or abs(x.rss - y.rss) > (64 << 20)
    return x != y


def compare(procwait, psutil, attrs):
    """(same, why): the two walks' info, process by process. A process
    can change between two reads (a kernel worker's name follows its work,
    a shell execs): a difference counts when it is still there after three
    more reads of that process by each library, back to back."""
    ours = {p.pid: p.info for p in procwait.process_iter(attrs)}
    theirs = {p.pid: p.info for p in psutil.process_iter(attrs)}
    bad = []
    for pid in sorted(set(ours) & set(theirs)):
        for k in attrs:
            x, y = ours[pid][k], theirs[pid][k]
            for _ in range(3):
                if not differ(k, x, y):
                    break
                try:
                    x = procwait.Process(pid).as_dict([k])[k]
                    y = psutil.Process(pid).as_dict([k])[k]
                except (procwait.NoSuchProcess, psutil.NoSuchProcess):
                    break
            else:
                bad.append("%d %s %r != %r" % (pid, k, x, y))
    # a walk may miss a process that started or ended between the two
    missing = set(theirs) ^ set(ours)
    if len(missing) > max(3, len(theirs) // 20):
        bad.append("processes seen by one walk only: %s" % sorted(missing)[:10])
    return not bad, "; ".join(bad[:5])


if __name__ == "__main__":
    args = _peer.parse_args(__doc__, wait=False)
    psutil = _peer.import_psutil()
    procwait = _peer.import_procwait()
    sets, same, why, n = [], True, "", 0
    for attrs in SETS:
        ok, reason = compare(procwait, psutil, attrs)
        if not ok:
            same, why = False, (why + "; " if why else "") + reason
        ours, theirs = [], []
        walk_ms(procwait, attrs)        # the first walks make the Processes
        walk_ms(psutil, attrs)
        for _ in range(args.reps):
            ms, n = walk_ms(procwait, attrs)
            ours.append(ms)
            ms, _ = walk_ms(psutil, attrs)
            theirs.append(ms)
        a, b = statistics.median(ours), statistics.median(theirs)
        sets.append({"attrs": attrs, "procwait_ms": round(a, 3), "psutil_ms": round(b, 3),
                     "vs_psutil": round(b / a, 3)})
    _peer.emit({
        "sets": sets,
        "processes": n,
        "same_values": same,
        "mismatch": why,
        "reps": args.reps,
        "impl": "procwait %s; psutil %s" % (procwait.__version__, psutil.__version__),
    })
