# SPDX-License-Identifier: MIT
"""python3 -m procwait serve|watch|servers|stop: the preloading fork
server, the test-runner watch mode, and procwait-python's servers."""

import argparse
import sys


def _seconds(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number of seconds: %r" % s)
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError("seconds must be finite and >= 0: %r" % s)
    return v


def _base(s):
    if len(s) != 16 or any(c not in "0123456789abcdef" for c in s):
        raise argparse.ArgumentTypeError("not 16 lowercase hex digits: %r" % s)
    return s


def _mods(s):
    from ._pyhost import split_modules
    try:
        return split_modules(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def _parser():
    p = argparse.ArgumentParser(prog="python3 -m procwait",
                                description="A preloading Python fork server, and a watch "
                                            "mode that re-runs tests on every change.")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    sub.required = True
    s = sub.add_parser("serve", help="preload modules, then fork a child per request",
                       description="Import MODS once, then run each request (python's own "
                                   "arguments: script, -m module, -c code) in a forked "
                                   "child. procwait-python is its client.")
    s.add_argument("--preload", type=_mods, default=[], metavar="MOD[,MOD...]",
                   help="modules to import before serving")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--socket", metavar="PATH", help="the socket to listen on")
    where.add_argument("--name", metavar="NAME", help="listen on the default path of NAME")
    s.add_argument("--idle", type=_seconds, metavar="SECONDS",
                   help="exit after this long without clients or children")
    s.add_argument("--max-children", type=int, default=0, metavar="N",
                   help="children at once (default 64)")
    s.add_argument("--max-queue", type=int, default=-1, metavar="N",
                   help="requests waiting for a free slot; more are refused with "
                        "EAGAIN (default 4 x max-children)")
    s.add_argument("--report-fd", type=int, metavar="FD",
                   help="write one JSON line there once serving (or the error)")
    s.add_argument("--no-stale-check", action="store_true",
                   help="do not exit when a loaded module's file changes")
    s.add_argument("--pytest", action="store_true",
                   help="the pytest tier: prepare pytest, its plugins and what the "
                        "conftest files import (procwait-python does this for -m pytest)")
    s.add_argument("--launched", metavar="BASE", type=_base,
                   help="started by procwait-python with this base name (16 hex "
                        "digits): named by what the preload depended on, listed by "
                        "`servers`, its files removed at exit")
    s.add_argument("--no-gc-freeze", action="store_true",
                   help="leave the heap to the collector (for measuring what "
                        "gc.freeze saves)")
    s.add_argument("--huge-pages", action="store_true",
                   help="move the heap to 2 MB pages once the first run is under "
                        "way (faster forks and exits; experimental: see README)")
    ls = sub.add_parser("servers", help="list procwait-python's servers of this user",
                        description="List the servers procwait-python started for this "
                                    "user, least recently used first, and remove the "
                                    "files of those that are gone.")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    st = sub.add_parser("stop", help="stop procwait-python's servers",
                        description="Drain servers (no new runs, exit when their runs "
                                    "end; the next run starts a fresh one), or stop "
                                    "them at once with --now.")
    st.add_argument("which", nargs="*", metavar="PID|SOCKET",
                    help="the servers to stop (see `servers`)")
    st.add_argument("--all", action="store_true", help="every server of this user")
    st.add_argument("--now", action="store_true",
                    help="SIGTERM: stop now, ending the runs in progress")
    pt = sub.add_parser("pytest", help="run pytest through procwait-python's pytest tier",
                        description="procwait-python -m pytest ARGS, with this interpreter "
                                    "as the one it runs (PROCWAIT_PYTHON): a venv's python "
                                    "-m procwait pytest uses that venv.",
                        add_help=False)
    pt.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                    help="pytest's arguments")
    w = sub.add_parser("watch", help="run python ARGS through tiers of fork servers, "
                                     "re-running on every change",
                       description="Run `python ARGS` (e.g. -m pytest tests/) in a child "
                                   "of a preloading server, and again whenever a file "
                                   "changes. Each --tier is forked from the one above; a "
                                   "change restarts only the tier that loaded the file and "
                                   "those below it.")
    w.add_argument("--preload", type=_mods, default=[], metavar="MOD[,MOD...]",
                   help="the first tier's modules (third-party libraries)")
    w.add_argument("--tier", type=_mods, action="append", default=[], metavar="MOD[,MOD...]",
                   help="a further tier's modules (repeatable, top to bottom)")
    w.add_argument("--path", action="append", default=[], metavar="DIR",
                   help="directory tree to watch for sources (default: .)")
    w.add_argument("--debounce", type=_seconds, default=0.2, metavar="SECONDS",
                   help="quiet time before acting on changes (default 0.2)")
    w.add_argument("--once", action="store_true",
                   help="run once and exit with the run's status (no watching)")
    w.add_argument("args", nargs=argparse.REMAINDER, metavar="-- ARGS",
                   help="python's arguments for each run")
    return p


def _pytest(args):
    """Exec procwait-python -m pytest ARGS with this interpreter."""
    import os
    import shutil
    launcher = os.environ.get("PROCWAIT_PYTHON_LAUNCHER") or shutil.which("procwait-python")
    if not launcher:
        sys.stderr.write("procwait pytest: procwait-python is not on PATH "
                         "(or set PROCWAIT_PYTHON_LAUNCHER)\n")
        return 127
    env = dict(os.environ, PROCWAIT_PYTHON=sys.executable)
    try:
        os.execve(launcher, [launcher, "-m", "pytest"] + list(args), env)
    except OSError as e:
        sys.stderr.write("procwait pytest: cannot run %s: %s\n" % (launcher, e.strerror))
        return 127


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["pytest"]:
        return _pytest(argv[1:])   # pytest's options are pytest's, --help too
    args = _parser().parse_args(argv)
    if args.cmd == "serve":
        from ._pyhost import serve
        if args.max_children < 0:
            sys.stderr.write("procwait serve: --max-children must be >= 0\n")
            return 2
        if args.launched is not None and not args.socket:
            sys.stderr.write("procwait serve: --launched needs --socket\n")
            return 2
        if args.max_queue < -1:
            sys.stderr.write("procwait serve: --max-queue must be >= 0\n")
            return 2
        return serve(args.preload, socket=args.socket, name=args.name, idle=args.idle,
                     report_fd=args.report_fd, stale_check=not args.no_stale_check,
                     max_children=args.max_children, max_queue=args.max_queue,
                     gc_freeze=not args.no_gc_freeze, huge_pages=args.huge_pages,
                     launched=args.launched,
                     pytest_tier=args.pytest)
    if args.cmd in ("servers", "stop"):
        from ._pyservers import cli
        return cli(args)
    from ._watch import watch
    rest = args.args[1:] if args.args[:1] == ["--"] else args.args
    if not rest:
        sys.stderr.write("procwait watch: no python arguments given (e.g. -- -m pytest)\n")
        return 2
    return watch([args.preload] + args.tier, rest, paths=args.path or ["."],
                 debounce=args.debounce, once=args.once)


if __name__ == "__main__":
    sys.exit(main())
