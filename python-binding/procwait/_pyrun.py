# SPDX-License-Identifier: MIT
"""Run a request in a forked child exactly as the ``python`` command line
would: ``script.py args``, ``-m module args``, ``-c code args``, ``-``
(a script on standard input), with ``sys.argv``, ``sys.path[0]``,
``__main__``, the standard streams and the exit status of a fresh
interpreter.

Options that change how an interpreter starts (-X, -I, -E, -O, -W, ...)
cannot be honoured by a process that has already started: :func:`parse`
raises :class:`Unsupported` for them, and the launcher (procwait-python)
execs the real interpreter instead. The C launcher's check
(supported() in tools/procwait-python.c) accepts exactly the same forms.
"""

import builtins
import gc
import io
import os
import signal
import sys
import types

__all__ = ["Unsupported", "parse", "prepare", "prepare_early", "run", "server_ready"]

#: Single-letter options a forked child honours: -u (unbuffered
#: streams), -B (no bytecode files), -q (quiet: only the REPL uses it).
FLAGS = "uBq"


class Unsupported(ValueError):
    """The command line needs a fresh interpreter."""


def parse(args):
    """Parse python's arguments (without argv[0]).

    Returns (flags, mode, target, rest): flags a set of letters from
    FLAGS; mode "script", "module", "command" or "stdin"; target the
    script path, module name or code (None for stdin); rest the script's
    own arguments."""
    flags = set()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-" or not a.startswith("-"):
            break
        if a.startswith("--"):
            raise Unsupported("option %s" % a)
        for j in range(1, len(a)):
            ch = a[j]
            if ch in "cm":
                if j + 1 < len(a):
                    val, nxt = a[j + 1:], i + 1
                elif i + 1 < len(args):
                    val, nxt = args[i + 1], i + 2
                else:
                    raise Unsupported("option -%s without its argument" % ch)
                return flags, ("command" if ch == "c" else "module"), val, list(args[nxt:])
            if ch not in FLAGS:
                raise Unsupported("option -%s" % ch)
            flags.add(ch)
        i += 1
    if i == len(args):
        return flags, "stdin", None, []
    if args[i] == "-":
        return flags, "stdin", "-", list(args[i + 1:])
    return flags, "script", args[i], list(args[i + 1:])


# ---- the streams --------------------------------------------------------------

_old_streams = []   # the server's stream objects: never collected (they are
                    # closefd=False, but flushing a stale buffer would write)


def _stream(fd, write, template, unbuffered, name):
    raw = io.FileIO(fd, "wb" if write else "rb", closefd=False)
    raw.name = name
    tty = raw.isatty()
    if write and unbuffered:
        buf = raw
    else:
        buf = (io.BufferedWriter if write else io.BufferedReader)(raw)
    t = io.TextIOWrapper(buf, encoding=template.encoding, errors=template.errors,
                         newline="\n",
                         line_buffering=write and (tty or fd == 2) and not unbuffered,
                         write_through=write and unbuffered)
    t.mode = "w" if write else "r"
    return t


def _reset_streams(unbuffered):
    _old_streams.extend([sys.stdin, sys.stdout, sys.stderr])
    sys.stdin = sys.__stdin__ = _stream(0, False, sys.stdin, False, "<stdin>")
    sys.stdout = sys.__stdout__ = _stream(1, True, sys.stdout, unbuffered, "<stdout>")
    sys.stderr = sys.__stderr__ = _stream(2, True, sys.stderr, unbuffered, "<stderr>")


# ---- the interpreter's state ----------------------------------------------------

_SPECIAL = {signal.SIGINT: signal.default_int_handler,
            signal.SIGPIPE: signal.SIG_IGN, signal.SIGXFSZ: signal.SIG_IGN}
_handled = None   # the server's signals with a Python handler: see server_ready()


def _python_handled():
    return [sig for sig in signal.valid_signals()
            if sig not in _SPECIAL and signal.getsignal(sig) not in (signal.SIG_DFL, None)]


def _mask(value):
    """Signals from a hex mask (bit N-1 for signal N), as procwait-python
    passes what its caller ignores and blocks."""
    try:
        bits = int(value, 16)
    except (TypeError, ValueError):
        return set()
    return {n for n in range(1, 65) if bits >> (n - 1) & 1} & set(signal.valid_signals())


def _reset_signals(inherited_ign=None, inherited_blk=None):
    """The dispositions of a fresh interpreter: SIGINT raises
    KeyboardInterrupt, SIGPIPE and SIGXFSZ are ignored, the rest default;
    and what python3 would have inherited from procwait-python's caller
    (ignored signals stay ignored, the mask is the caller's). The C side
    reset every disposition to SIG_DFL; Python's own table must follow,
    for the signals it had handlers for."""
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for sig, want in _SPECIAL.items():
        signal.signal(sig, want)
    for sig in (_handled if _handled is not None else _python_handled()):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass   # a signal glibc reserves
    for sig in _mask(inherited_ign):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError, RuntimeError):
            pass
    if inherited_blk:
        signal.pthread_sigmask(signal.SIG_SETMASK, _mask(inherited_blk))


def _reset_environ(envp):
    env = {}
    for e in envp:
        k, sep, v = e.partition(b"=")
        if sep and k and k not in env:   # the first one, as getenv() finds it
            env[k] = v
    # The C environment is the request's already (procwait_forkserver_child
    # replaced it): only the mapping must follow, without a putenv each.
    data = getattr(os.environ, "_data", None)
    if isinstance(data, dict) and os.environ is not os.environb and \
            getattr(os.environb, "_data", None) is data:
        data.clear()
        data.update(env)
    else:
        os.environb.clear()
        os.environb.update(env)


def _reseed():
    # random reseeds itself in the child of os.fork (register_at_fork);
    # numpy's legacy global generator does not.
    nprnd, np = sys.modules.get("numpy.random"), sys.modules.get("numpy")
    if nprnd is None or np is None:
        return
    try:
        # A full MT19937 state from the OS, as RandomState() seeds itself,
        # at a third of the cost of seed(): pos 624 regenerates on use.
        key = np.frombuffer(os.urandom(624 * 4), dtype=np.uint32)
        nprnd.set_state(("MT19937", key, 624, 0, 0.0))
    except Exception:   # another bit generator, an odd numpy
        try:
            nprnd.seed()
        except Exception:
            pass


def _fresh_main(loader):
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    main.__loader__ = loader
    sys.modules["__main__"] = main
    return main


def server_ready():
    """Called once by a server before it forks its first child: the work
    that is the same for every child is done here, once. The server
    imports nothing more, so its import caches stay as invalidated here:
    each child lists directories afresh, as a fresh interpreter does (a
    file created since must be found even on a file system with coarse
    mtimes)."""
    global _handled
    import importlib
    importlib.invalidate_caches()
    _handled = _python_handled()


def prepare_early():
    """What a child does before it knows its request (a spare does it
    while it waits): the collector back on, generators reseeded."""
    gc.enable()
    _reseed()


def prepare(envp, flags):
    """What a child does once its request is installed: the rest of the
    state a fresh interpreter would have. (Cached source lines need no
    reset: traceback checks each file's linecache entry before it
    prints.)"""
    _reset_environ(envp)
    import time
    time.tzset()   # TZ, as a fresh interpreter reads it at start-up
    _reset_signals(os.environ.pop("PROCWAIT_SIGIGN", None),
                   os.environ.pop("PROCWAIT_SIGBLK", None))
    _reset_streams("u" in flags or bool(os.environ.get("PYTHONUNBUFFERED")))
    if "B" in flags:
        sys.dont_write_bytecode = True


# ---- running ------------------------------------------------------------------

def _set_path0(value, server_path0):
    if sys.flags.safe_path:
        return   # -P / PYTHONSAFEPATH: python adds nothing either
    if sys.path and sys.path[0] == server_path0:
        sys.path[0] = value
    else:
        sys.path.insert(0, value)


def _exit_code(e):
    """As _Py_HandleSystemExit: None 0, an int itself, else printed, 1."""
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xff if -2**63 <= code < 2**63 else 255
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def _teardown():
    """What Py_FinalizeEx does to the run's objects before the process
    ends, the cheap part: __main__'s globals are dropped (names with an
    underscore first, as _PyModule_ClearDict does), so that what only the
    script held goes now: __del__ methods run, files left open are flushed
    and closed. (Objects in cycles or in other modules are left, as python
    itself does not promise them a __del__ at exit; a full collection and
    a scan for open files would cost a millisecond per run.)"""
    main = sys.modules.get("__main__")
    d = getattr(main, "__dict__", None)
    if isinstance(d, dict):
        for first in (True, False):
            for k in [k for k in d if k.startswith("_") == first]:
                if k != "__builtins__":
                    d[k] = None


def _finalize(code, sigint):
    """Py_FinalizeEx's order: non-daemon threads, atexit, the run's
    objects, flush (the server's stream objects too: a module may have
    kept one, and what the run wrote through it is the run's)."""
    th = sys.modules.get("threading")
    if th is not None:
        try:
            th._shutdown()
        except BaseException:
            pass
    import atexit
    atexit._run_exitfuncs()
    try:
        _teardown()
    except BaseException:
        pass
    for s in _old_streams:
        try:
            s.flush()
        except Exception:
            pass
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            code = 120
    if sigint:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    os._exit(code)


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 16)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def run(argv, flags, mode, target, rest, server_path0):
    """Run the command and exit the process with python's status.
    Never returns."""
    import importlib.machinery
    argv0 = argv[0] if argv else "python3"
    sys.orig_argv = list(argv)
    code, sigint = 0, False
    try:
        if mode == "command":
            sys.argv = ["-c"] + rest
            _set_path0("", server_path0)
            main = _fresh_main(importlib.machinery.BuiltinImporter)
            exec(compile(target, "<string>", "exec", dont_inherit=True), main.__dict__)
        elif mode == "module":
            import runpy
            sys.argv = ["-m"] + rest
            _set_path0(os.getcwd(), server_path0)
            _fresh_main(importlib.machinery.BuiltinImporter)
            runpy._run_module_as_main(target, True)
        elif mode == "stdin":
            sys.argv = [target or ""] + rest
            _set_path0("", server_path0)
            main = _fresh_main(importlib.machinery.BuiltinImporter)
            main.__file__ = "<stdin>"
            main.__cached__ = None
            src = _read_all(0)
            exec(compile(src, "<stdin>", "exec", dont_inherit=True), main.__dict__)
        else:
            # Absolute as python makes it: joined, not normalised
            # (./p.py gives /cwd/./p.py in __file__ and tracebacks).
            path = target if os.path.isabs(target) else os.path.join(os.getcwd(), target)
            sys.argv = [target] + rest
            try:
                src = None
                if not os.path.isdir(path):
                    with open(path, "rb") as f:
                        src = f.read()
                if src is None or _is_zip(path, src):
                    # A directory or a zip file with a __main__.py.
                    import runpy
                    _set_path0(path, server_path0)
                    _fresh_main(importlib.machinery.BuiltinImporter)
                    runpy._run_module_as_main("__main__", False)
                else:
                    _set_path0(os.path.dirname(os.path.realpath(path)), server_path0)
                    main = _fresh_main(importlib.machinery.SourceFileLoader("__main__", path))
                    main.__file__ = path
                    main.__cached__ = None
                    exec(compile(src, path, "exec", dont_inherit=True), main.__dict__)
            except OSError as e:
                if e.filename != path:
                    raise
                sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n"
                                 % (argv0, path, e.errno, e.strerror))
                code = 2
    except SystemExit as e:
        code = _exit_code(e)
    except BaseException as e:
        tb = e.__traceback__
        tb = tb.tb_next if tb is not None else None   # our frame is not theirs
        t, v = type(e), e.with_traceback(tb)
        sys.last_type, sys.last_value, sys.last_traceback = t, v, tb
        try:
            sys.excepthook(t, v, tb)
        except BaseException:
            pass
        code, sigint = 1, isinstance(e, KeyboardInterrupt)
    _finalize(code, sigint)


def _is_zip(path, src):
    """A zip archive (its end record near the end), as python's zipimport
    path hook would accept it."""
    if b"PK\x05\x06" not in src[-65558:]:
        return False
    import zipimport
    try:
        zipimport.zipimporter(path)
    except zipimport.ZipImportError:
        return False
    return True
