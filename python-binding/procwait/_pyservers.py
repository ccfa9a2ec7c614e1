# SPDX-License-Identifier: MIT
"""procwait-python's servers, seen from outside: each one's files in the
user's socket directory, the list of them, stopping them, and the cap on
how many stay.

A server the launcher started (``serve --launched``) keeps beside its
socket ``python-HASH.sock``:

- ``.json``: who it is (pid, interpreter, preload, pytest tier, started);
  its mtime is the time of its last request. Removing the file asks the
  server to drain: it takes no new run (a launcher starts a fresh server),
  lets the running ones finish, and exits.
- ``.log``: its output; ``.lock``: the launchers' start lock.

It removes them all when it exits for any reason it can catch (idle time,
a stale module, SIGTERM, SIGINT, SIGHUP). What a SIGKILLed server leaves,
the next listing removes.
"""

import errno
import fcntl
import json
import os
import signal
import time

__all__ = ["DEFAULT_MAX_SERVERS", "files", "publish", "remove", "servers",
           "drain", "terminate", "evict", "directory"]

#: Servers kept per user when PROCWAIT_MAX_SERVERS is not set; a new
#: server drains the least recently used ones beyond it.
DEFAULT_MAX_SERVERS = 8


def directory():
    """The user's socket directory (it may not exist yet)."""
    from ._forkserver import socket_path
    return os.path.dirname(socket_path("python"))


def files(sock):
    """The side files of the server on ``sock``: {"info", "log", "lock"}."""
    stem = sock[:-5] if sock.endswith(".sock") else sock
    return {"info": stem + ".json", "log": stem + ".log", "lock": stem + ".lock"}


def _stat(pid):
    """(state, start time in clock ticks since boot) from /proc/PID/stat
    (fields 3 and 22): with the pid, who the process is."""
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0], int(fields[19])


def publish(sock, info):
    """Write the server's info file (atomically)."""
    path = files(sock)["info"]
    info = dict(info, pid=os.getpid(), start_ticks=_stat(os.getpid())[1], socket=sock)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.rename(tmp, path)


def remove(sock, socket_id, pid):
    """Remove the files of the server ``pid`` on ``sock``: its socket when
    it is still the one ``socket_id`` (st_dev, st_ino) names, its info file
    when it is still its own, the log and the lock. Nothing while a
    launcher holds the lock (it is starting a new server of that name), and
    only the socket while another server's socket is there."""
    f = files(sock)
    try:
        fd = os.open(f["lock"], os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        fd = None
    try:
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return
        try:
            st = os.lstat(sock)
            if (st.st_dev, st.st_ino) != socket_id:
                return   # a successor's
            os.unlink(sock)
        except OSError:
            pass
        try:
            with open(f["info"]) as i:
                mine = json.load(i).get("pid") == pid
        except (OSError, ValueError, AttributeError):
            mine = False
        for k in (["info"] if mine else []) + ["log", "lock"]:
            try:
                os.unlink(f[k])   # launchers check the lock is still at its path
            except OSError:
                pass
    finally:
        if fd is not None:
            os.close(fd)


def _memory(pid):
    """(rss, pss) in bytes from /proc/PID/smaps_rollup; (None, None)."""
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Rss", "Pss"):
                    out[k] = int(v.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return out.get("Rss"), out.get("Pss")


def _alive(info):
    """The process of ``info`` runs (the same one: its start time; not a
    zombie)."""
    try:
        state, ticks = _stat(int(info["pid"]))
        return state not in (b"Z", b"X") and ticks == info.get("start_ticks")
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False


def servers(clean=True, now=None):
    """The running servers of this user, least recently used first: dicts
    of the info file plus "idle" (seconds since the last request), "age",
    "rss" and "pss". Files of servers that are gone are removed when
    ``clean``."""
    d = directory()
    now = time.time() if now is None else now
    out = []
    try:
        names = os.listdir(d)
    except OSError:
        return out
    for n in names:
        if not (n.startswith("python-") and n.endswith(".json")):
            continue
        path = os.path.join(d, n)
        try:
            st = os.stat(path)
            with open(path) as f:
                info = json.load(f)
            if not isinstance(info, dict):
                raise ValueError(path)
        except (OSError, ValueError):
            continue   # being written, or not ours
        if not _alive(info):
            if clean:
                remove(os.path.join(d, n[:-5] + ".sock"), _socket_id(d, n), info.get("pid"))
            continue
        info["idle"] = max(0.0, now - st.st_mtime)
        info["age"] = max(0.0, now - info.get("started", now))
        info["rss"], info["pss"] = _memory(int(info["pid"]))
        out.append(info)
    out.sort(key=lambda i: -i["idle"])
    return out


def _socket_id(d, n):
    try:
        st = os.lstat(os.path.join(d, n[:-5] + ".sock"))
        return (st.st_dev, st.st_ino)
    except OSError:
        return None


def drain(info):
    """Ask a server to take no new run and exit when its runs end."""
    try:
        os.unlink(files(info["socket"])["info"])
        return True
    except OSError as e:
        return e.errno != errno.ENOENT


def terminate(info):
    """SIGTERM: the server stops now, its runs with it."""
    if not _alive(info):
        return False
    try:
        os.kill(int(info["pid"]), signal.SIGTERM)
        return True
    except OSError:
        return False


def evict(own_sock, limit):
    """Drain the least recently used servers beyond ``limit`` (the caller's
    own one, ``own_sock``, counts and stays). Returns those drained."""
    others = [i for i in servers() if i.get("socket") != own_sock]
    extra = len(others) + 1 - limit
    gone = []
    for info in others[:max(0, extra)]:
        if drain(info):
            gone.append(info)
    return gone


def _size(n):
    if n is None:
        return "?"
    for unit in ("B", "K", "M", "G"):
        if n < 1024 or unit == "G":
            return "%.0f%s" % (n, unit) if unit == "B" else "%.1f%s" % (n, unit)
        n /= 1024.0


def _span(secs):
    secs = int(secs)
    return ("%dh%02dm" % (secs // 3600, secs // 60 % 60) if secs >= 3600 else
            "%dm%02ds" % (secs // 60, secs % 60) if secs >= 60 else "%ds" % secs)


def _pick(found, which):
    out = []
    for w in which:
        hit = [i for i in found if str(i.get("pid")) == w or i.get("socket") == w or
               os.path.basename(i.get("socket", "")) == w]
        if not hit:
            raise LookupError(w)
        out.extend(h for h in hit if h not in out)
    return out


def cli(args):
    """``python3 -m procwait servers|stop``: the exit status."""
    import sys
    found = servers()
    if args.cmd == "servers":
        if args.json:
            for i in found:
                sys.stdout.write(json.dumps(i, sort_keys=True) + "\n")
            return 0
        if not found:
            sys.stdout.write("no servers in %s\n" % directory())
            return 0
        sys.stdout.write("%-8s %-8s %-8s %-8s %-8s %-22s %s\n"
                         % ("PID", "AGE", "IDLE", "RSS", "PSS", "PRELOAD", "PYTHON / SOCKET"))
        for i in found:
            pre = ",".join(i.get("preload") or []) or "-"
            if i.get("pytest"):
                pre += " +pytest"
            sys.stdout.write("%-8s %-8s %-8s %-8s %-8s %-22s %s\n    %s\n"
                             % (i.get("pid"), _span(i["age"]), _span(i["idle"]),
                                _size(i["rss"]), _size(i["pss"]), pre,
                                i.get("python"), i.get("socket")))
        return 0
    if args.all == bool(args.which):
        sys.stderr.write("procwait stop: name the servers (PID or SOCKET), or --all\n")
        return 2
    try:
        chosen = found if args.all else _pick(found, args.which)
    except LookupError as e:
        sys.stderr.write("procwait stop: no server %s (see python3 -m procwait servers)\n"
                         % e.args[0])
        return 1
    for i in chosen:
        ok = terminate(i) if args.now else drain(i)
        sys.stdout.write("%s %s (pid %s)\n" % ("stopped" if args.now else "draining",
                                                i.get("socket"), i.get("pid")))
        if not ok:
            sys.stderr.write("procwait stop: pid %s was gone already\n" % i.get("pid"))
    return 0
