# SPDX-License-Identifier: MIT
"""Finding libprocwait and declaring its C API for ctypes.

The library is looked for in this order:

1. ``PROCWAIT_LIBRARY``: a path. When it is set it is the only candidate,
   and a failure to load it is an ImportError (never a silent fallback).
2. The build tree this package sits in (``../lib/.libs`` from
   ``python-binding/``), for a checkout built in place.
3. The system: ``ctypes.util.find_library("procwait")``, then the soname.
"""

import ctypes
import ctypes.util
import os

SONAME = "libprocwait.so.0"
#: The oldest library this binding works with: (major, minor).
REQUIRED = (0, 1)

c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_size_t = ctypes.c_size_t
c_uint32 = ctypes.c_uint32
c_int32 = ctypes.c_int32
c_uint64 = ctypes.c_uint64
c_int64 = ctypes.c_int64
c_double = ctypes.c_double
POINTER = ctypes.POINTER


class Status(ctypes.Structure):
    """struct procwait_status"""
    _fields_ = [("pid", c_int), ("kind", c_int), ("code", c_int),
                ("signo", c_int), ("core", c_int)]


class Event(ctypes.Structure):
    """struct procwait_event"""
    _fields_ = [("proc", c_void_p), ("data", c_void_p), ("error", c_int),
                ("status", Status)]


class CpuTimes(ctypes.Structure):
    _fields_ = [("user", c_double), ("system", c_double),
                ("children_user", c_double), ("children_system", c_double),
                ("iowait", c_double)]


class MemoryInfo(ctypes.Structure):
    _fields_ = [("rss", c_uint64), ("vms", c_uint64), ("shared", c_uint64),
                ("text", c_uint64), ("data", c_uint64)]


class CtxSwitches(ctypes.Structure):
    _fields_ = [("voluntary", c_uint64), ("involuntary", c_uint64)]


class Ids(ctypes.Structure):
    _fields_ = [("real", c_uint32), ("effective", c_uint32), ("saved", c_uint32)]


NAME_MAX = 64


class Snapshot(ctypes.Structure):
    """struct procwait_snapshot (version 1); ``size`` versions it."""
    _fields_ = [
        ("size", c_uint32), ("reserved_", c_uint32),
        ("present", c_uint64), ("denied", c_uint64),
        ("pid", c_int32), ("ppid", c_int32),
        ("name", ctypes.c_char * (NAME_MAX + 1)),
        ("state", ctypes.c_char),
        ("status", ctypes.c_char * 18),
        ("cpu_times", CpuTimes),
        ("create_time", c_double),
        ("terminal", ctypes.c_char * 64),
        ("num_threads", c_int64),
        ("nice", c_int32), ("reserved2_", c_uint32),
        ("memory_info", MemoryInfo),
        ("num_ctx_switches", CtxSwitches),
        ("uids", Ids), ("gids", Ids),
        ("starttime", c_uint64),
    ]


# enum procwait_info_field
INFO_NAME = 1 << 0
INFO_PPID = 1 << 1
INFO_STATUS = 1 << 2
INFO_CPU_TIMES = 1 << 3
INFO_IOWAIT = 1 << 4
INFO_CREATE_TIME = 1 << 5
INFO_TERMINAL = 1 << 6
INFO_NUM_THREADS = 1 << 7
INFO_NICE = 1 << 8
INFO_RSS_VMS = 1 << 9
INFO_MEM_STATM = 1 << 10
INFO_CTX_SWITCHES = 1 << 11
INFO_UIDS = 1 << 12
INFO_GIDS = 1 << 13
INFO_STARTTIME = 1 << 14
INFO_MEMORY_INFO = INFO_RSS_VMS | INFO_MEM_STATM
INFO_ALL = (1 << 15) - 1
PROCINFO_ONESHOT = 1 << 0   # PROCWAIT_PROCINFO_ONESHOT

STATUS_UNKNOWN, STATUS_EXITED, STATUS_SIGNALED = 0, 1, 2
EZOMBIE = -100001          # PROCWAIT_EZOMBIE

# name: (restype, argtypes)
_PROTOTYPES = {
    "procwait_version": (c_uint, []),
    "procwait_version_string": (c_char_p, []),
    "procwait_strerror": (c_char_p, [c_int]),
    "procwait_backend_name": (c_char_p, []),
    "procwait_proc_open": (c_int, [c_int, c_uint, POINTER(c_void_p)]),
    "procwait_proc_wait": (c_int, [c_void_p, c_int, c_uint, POINTER(Status)]),
    "procwait_proc_signal": (c_int, [c_void_p, c_int]),
    "procwait_proc_pid": (c_int, [c_void_p]),
    "procwait_proc_fd": (c_int, [c_void_p]),
    "procwait_proc_close": (None, [c_void_p]),
    "procwait_waitset_new": (c_int, [c_uint, POINTER(c_void_p)]),
    "procwait_waitset_add": (c_int, [c_void_p, c_void_p, c_void_p]),
    "procwait_waitset_remove": (c_int, [c_void_p, c_void_p]),
    "procwait_waitset_wait": (c_int, [c_void_p, POINTER(Event), c_int, c_int]),
    "procwait_waitset_fd": (c_int, [c_void_p]),
    "procwait_waitset_timeout": (c_int, [c_void_p]),
    "procwait_waitset_size": (c_int, [c_void_p]),
    "procwait_waitset_free": (None, [c_void_p]),
    "procwait_procinfo_open": (c_int, [c_int, c_uint, POINTER(c_void_p)]),
    "procwait_procinfo_open_proc": (c_int, [c_void_p, c_uint, POINTER(c_void_p)]),
    "procwait_procinfo_reopen": (c_int, [c_void_p, c_int, c_uint]),
    "procwait_procinfo_close": (None, [c_void_p]),
    "procwait_procinfo_oneshot_end": (c_int, [c_void_p]),
    "procwait_procinfo_snapshot": (c_int, [c_void_p, c_uint64, POINTER(Snapshot)]),
    "procwait_procinfo_exe": (c_int, [c_void_p, c_char_p, c_size_t]),
    "procwait_procinfo_cwd": (c_int, [c_void_p, c_char_p, c_size_t]),
    "procwait_procinfo_cmdline": (c_int, [c_void_p, c_char_p, c_size_t]),
}



class ForkServerOptions(ctypes.Structure):
    """struct procwait_forkserver_options (the callbacks stay NULL)."""
    _fields_ = [("size", c_size_t), ("name", c_char_p), ("socket_path", c_char_p),
                ("max_children", c_int), ("max_queue", c_int), ("timeout_ms", c_int),
                ("kill_grace_ms", c_int), ("idle_ms", c_int),
                ("allowed_uids", POINTER(c_uint32)), ("n_allowed_uids", c_size_t),
                ("before_fork", c_void_p), ("after_fork", c_void_p), ("log", c_void_p),
                ("data", c_void_p), ("flags", c_uint), ("request_ms", c_int)]


class ClientRequest(ctypes.Structure):
    """struct procwait_client_request"""
    _fields_ = [("size", c_size_t), ("argv", POINTER(c_char_p)),
                ("envp", POINTER(c_char_p)), ("cwd", c_char_p), ("fds", c_int * 3),
                ("timeout_ms", c_int), ("flags", c_uint)]


class Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class Result(ctypes.Structure):
    """struct procwait_result"""
    _fields_ = [("status", Status), ("timed_out", c_int), ("utime", Timeval),
                ("stime", Timeval), ("maxrss", ctypes.c_long)]


# enum procwait_forkserver_next_result
FS_TIMEOUT, FS_READY, FS_STOPPED = 0, 1, 2

# The fork server exists where the library was built with it (Linux):
# these are declared when present.
_FORKSERVER_PROTOTYPES = {
    "procwait_forkserver_new": (c_int, [POINTER(ForkServerOptions), POINTER(c_void_p)]),
    "procwait_forkserver_path": (c_char_p, [c_void_p]),
    "procwait_forkserver_fd": (c_int, [c_void_p]),
    "procwait_forkserver_timeout": (c_int, [c_void_p]),
    "procwait_forkserver_next": (c_int, [c_void_p, c_int, POINTER(c_void_p)]),
    "procwait_forkserver_child": (c_int, [c_void_p, c_void_p]),
    "procwait_forkserver_parent": (c_int, [c_void_p, c_void_p, c_int]),
    "procwait_forkserver_stop": (c_int, [c_void_p]),
    "procwait_forkserver_set_spares": (c_int, [c_void_p, c_int]),
    "procwait_forkserver_children": (c_int, [c_void_p]),
    "procwait_forkserver_free": (None, [c_void_p]),
    "procwait_forkserver_socket_path": (c_int, [c_char_p, c_int, c_char_p, c_size_t]),
    "procwait_request_argv": (POINTER(c_char_p), [c_void_p]),
    "procwait_request_envp": (POINTER(c_char_p), [c_void_p]),
    "procwait_request_cwd": (c_char_p, [c_void_p]),
    "procwait_request_free": (None, [c_void_p]),
    "procwait_client_connect": (c_int, [c_char_p, POINTER(c_void_p)]),
    "procwait_client_start": (c_int, [c_void_p, POINTER(ClientRequest)]),
    "procwait_client_fd": (c_int, [c_void_p]),
    "procwait_client_signal": (c_int, [c_void_p, c_int]),
    "procwait_client_wait": (c_int, [c_void_p, c_int, POINTER(Result)]),
    "procwait_client_message": (c_char_p, [c_void_p]),
    "procwait_client_cgroup": (c_char_p, [c_void_p]),
    "procwait_client_close": (None, [c_void_p]),
}

_HOW_TO_FIX = (
    "Build it (./bootstrap, or ./configure && make, in the procwait source tree), "
    "install it (sudo make install && sudo ldconfig), or point PROCWAIT_LIBRARY "
    "at the file, e.g. PROCWAIT_LIBRARY=/path/to/lib/.libs/libprocwait.so.0")


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    tree = os.path.normpath(os.path.join(here, "..", "..", "lib", ".libs", SONAME))
    if os.path.exists(tree):
        yield tree
    found = ctypes.util.find_library("procwait")
    if found:
        yield found
    yield SONAME


def _declare(lib):
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    for name, (restype, argtypes) in _FORKSERVER_PROTOTYPES.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes


def has_forkserver():
    """True when the loaded library has the fork server (Linux builds)."""
    return hasattr(lib, "procwait_forkserver_new")


def _check_version(lib, path):
    v = lib.procwait_version()
    major, minor = v >> 16, (v >> 8) & 0xff
    if major != REQUIRED[0] or minor < REQUIRED[1]:
        raise ImportError(
            "procwait: %s is libprocwait %s; this binding needs %d.%d or a later %d.x. %s"
            % (path, lib.procwait_version_string().decode(), REQUIRED[0], REQUIRED[1],
               REQUIRED[0], _HOW_TO_FIX))


def load():
    """Load, declare and check the library: (CDLL, the path or name loaded)."""
    explicit = os.environ.get("PROCWAIT_LIBRARY")
    tried = []
    for cand in ([explicit] if explicit else _candidates()):
        try:
            lib = ctypes.CDLL(cand, use_errno=True)
        except OSError as e:
            tried.append("%s (%s)" % (cand, e))
            continue
        try:
            _declare(lib)
        except AttributeError as e:
            tried.append("%s (not a libprocwait: %s)" % (cand, e))
            continue
        try:
            _check_version(lib, cand)
        except ImportError as e:
            if explicit:
                raise
            tried.append("%s (%s)" % (cand, str(e).split(". ")[0]))
            continue
        return lib, cand
    if explicit:
        raise ImportError("procwait: PROCWAIT_LIBRARY=%s does not load: %s. %s"
                          % (explicit, "; ".join(tried), _HOW_TO_FIX))
    raise ImportError("procwait: cannot find libprocwait (tried %s). %s"
                      % ("; ".join(tried), _HOW_TO_FIX))


lib, library_path = load()


def strerror(rc):
    return lib.procwait_strerror(rc).decode("utf-8", "replace")
