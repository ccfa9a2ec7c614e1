"""Measure the procwait binding's Process.oneshot() on six fields.

The same six calls and the same batches as oneshot_psutil.py: name(),
cpu_times(), create_time(), ppid(), status(), terminal(), (a) inside
`with p.oneshot():` (one C snapshot call serves all six) and (b) without
(one C call each). Where psutil imports, the six values are compared with
psutil's for the same process, so the speed is for the same answers.

Usage: oneshot_procwait.py --reps N [--pid PID]
Output (one JSON line, exit 0):
  {"oneshot_us": ..., "separate_us": ..., "speedup": separate/oneshot,
   "psutil_oneshot_us": psutil's oneshot timed in the same rounds (or null),
   "vs_psutil": psutil_oneshot_us / oneshot_us (or null),
   "same_values": true | false | null (psutil missing), "mismatch": "...",
   "reps": N, "pid": PID, "impl": "procwait X.Y.Z"}
  or {"missing": "..."} if the binding does not import.
Exit 2 on bad arguments, 1 if the process cannot be read.
"""

import _peer

def six(p):
    return (p.name(), p.cpu_times(), p.create_time(), p.ppid(), p.status(), p.terminal())


def compare(ours, q):
    """(same, why) against psutil's six values, q a psutil.Process."""
    theirs = six(q)
    bad = []
    for what, a, b in zip(("name", "ppid", "status", "terminal"),
                          (ours[0], ours[3], ours[4], ours[5]),
                          (theirs[0], theirs[3], theirs[4], theirs[5])):
        if a != b:
            bad.append("%s %r != %r" % (what, a, b))
    if any(abs(x - y) > 0.02 for x, y in zip(ours[1][:4], theirs[1][:4])):
        bad.append("cpu_times %r != %r" % (tuple(ours[1][:4]), tuple(theirs[1][:4])))
    # psutil's boot time is /proc/stat's whole second: up to 1 s apart
    if abs(ours[2] - theirs[2]) > 1.0:
        bad.append("create_time %r != %r" % (ours[2], theirs[2]))
    return not bad, "; ".join(bad)


if __name__ == "__main__":
    args = _peer.parse_args(__doc__, wait=False, pid=True)
    procwait = _peer.import_procwait()
    try:
        p = procwait.Process(args.pid or None)
        values = six(p)
    except procwait.Error as e:
        _peer.fail("cannot read process %d: %r" % (args.pid, e))
    try:
        import psutil
        q = psutil.Process(p.pid)
        same, why = compare(values, q)
    except ImportError:
        q, same, why = None, None, _peer.PSUTIL_MISSING
    oneshot_us, separate_us, psutil_us = _peer.time_oneshot(p, six, args.reps, rival=q)
    _peer.emit({
        "oneshot_us": round(oneshot_us, 3),
        "separate_us": round(separate_us, 3),
        "speedup": round(separate_us / oneshot_us, 3),
        "psutil_oneshot_us": round(psutil_us, 3) if psutil_us else None,
        "vs_psutil": round(psutil_us / oneshot_us, 3) if psutil_us else None,
        "same_values": same,
        "mismatch": why,
        "reps": args.reps,
        "pid": p.pid,
        "impl": "procwait %s" % procwait.__version__,
    })
