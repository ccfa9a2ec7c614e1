# SPDX-License-Identifier: MIT
"""The pytest tier of a procwait-python server (``serve --pytest``).

A ``-m pytest`` run spends most of its time before the first test: importing
pytest, finding and importing its plugins, importing what the conftest.py
files import. The tier does that once, in the server, and leaves each run
a fresh ``pytest.main``, exactly as plain pytest runs it:

- pytest and the plugins of the ``pytest11`` entry points (and
  PYTEST_PLUGINS) are imported the way pytest imports them: through its
  assertion-rewrite hook, so that a run's own hook does not warn that they
  were imported before it (their loader is a rewrite hook). The
  configuration built for that runs no plugin hook and is thrown away; what
  the plugins did at import stays, as it would in a run.
- The conftest.py files of the rootdir are imported in a throwaway fork of
  the server (collection with every test file ignored, without addopts or
  PYTEST_ADDOPTS, whose --junitxml or --cov would write the user's files).
  What they import from outside the rootdir (third-party libraries) is
  then imported by the server, unless the conftest files changed the
  environment or sys.path outside the rootdir, or a warning was recorded
  (an import that depends on what a conftest set up, or that warns, stays
  the runs'); a module found at another file here than there is left out. The conftest files themselves, the project under the rootdir and
  anything pytest rewrote are left to the runs: they are what a user edits.
- A spare child, forked ahead of its request, builds and throws away such
  a configuration once more while it waits: the pages a configuration
  touches are then its own before the run needs them (a fork's copies on
  write), and the run starts warm. It then builds the run's own
  configuration as far as pytest's get_config() goes before it reads the
  run's arguments (the default plugins registered), which the run's
  pytest.main() takes when it would have built the same (see
  _prebuild_config).
- The test modules and conftest files are rewritten once more, in a second
  throwaway fork that streams the code to the server while it serves; a
  run's rewrite hook takes a module's code from there as long as the file
  is unchanged (its mtime and size, stricter than pytest's own pyc cache,
  which is the same thing on disk: one without writable __pycache__ or
  with PYTHONDONTWRITEBYTECODE gains most).
- Work each run repeats on things the server already holds is kept
  while they are unchanged: the argparse parser of each pytest Parser
  (install_parser_memo), which names of a plugin module are fixtures
  (install_fixture_memo), the installed distributions' entry points
  (install_metadata_memo).
- The server watches the conftest files and the ini file as well as the
  modules it loaded: an edit makes it stale (see procwait._pyhost).

The launcher sends a run here only when its options leave what the tier
prepared unchanged (see pyl_pytest_tier() in tools/python-args.c).
"""

import base64
import importlib
import json
import marshal
import os
import select
import signal
import sys
import time
import types

__all__ = ["ENV", "CODE", "prepare_plugins", "prewarm", "conftest_imports", "import_all",
           "install_parser_memo", "install_fixture_memo", "install_metadata_memo",
           "install_code_cache", "Rewriter"]

#: What pytest reads from the environment to choose its plugins and
#: options: part of a tier server's identity (see procwait._pydeps).
ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")

#: Rewritten code by source path: (st_mtime_ns, st_size, code object).
CODE = {}

#: Seconds the throwaway collection may take before it is given up.
COLLECT_TIMEOUT = 120.0

#: The plugin modules prepare_plugins() registered (pytest's own, the entry
#: points' and PYTEST_PLUGINS'): install_fixture_memo() looks at them.
PLUGIN_MODULES = []

#: install_fixture_memo()'s findings: id(module) -> (module, its names,
#: the ids of their values (the values kept alive with them), the names
#: that are fixtures, in dir()'s order).
FIXTURE_NAMES = {}

#: How long ago a file must have changed for install_metadata_memo() to
#: keep what it read (within a clock tick, a same-size rewrite would look
#: unchanged).
SETTLED_NS = 2 * 10**9

#: install_metadata_memo()'s: (st_dev, st_ino, entry_points.txt, st_size,
#: st_mtime_ns, st_ctime_ns) -> its entry points, (name, value, group) each.
METADATA = {}


def _log(msg):
    from ._pyhost import _log as log
    log("pytest tier: " + msg)


def _throwaway(job, *args):
    """Fork a child that runs job(w, *args), w the write end of a pipe,
    and exits (1 after an exception): (its pid, the read end)."""
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            job(w, *args)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(w)
    return pid, r


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


class _Streams:
    """The standard streams and descriptors, put back on exit (a plugin's
    import may write; nothing here should redirect them)."""

    def __enter__(self):
        self.streams = (sys.stdin, sys.stdout, sys.stderr)
        self.fds = [os.dup(fd) for fd in (0, 1, 2)]
        return self

    def __exit__(self, *exc):
        sys.stdin, sys.stdout, sys.stderr = self.streams
        for fd, saved in zip((0, 1, 2), self.fds):
            os.dup2(saved, fd)
            os.close(saved)


#: The ini file the tier's configuration found (None: none), for the watch.
INIFILE = None


def prepare_plugins(quiet=False):
    """Import pytest and its plugins as a run's configuration would: the
    ini file read, the rewrite hook installed and the plugins' files
    marked, the entry points and PYTEST_PLUGINS loaded through it. No
    plugin hook runs (pytest_load_initial_conftests and later are the
    runs'), no addopts (their -p plugins are the runs' too). Returns
    pytest's major version, or None when there is no pytest to prepare."""
    global INIFILE
    try:
        import pytest
        from _pytest.config import get_config
    except ImportError:
        return None
    major = int(pytest.__version__.split(".")[0])
    if major < 7:
        return None
    with _Streams():
        config = get_config(["--noconftest"])
        try:
            config._initini(["--noconftest"])
            INIFILE = str(config.inipath) if config.inipath else None
            config._consider_importhook([])
            if not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
                config.pluginmanager.load_setuptools_entrypoints("pytest11")
            config.pluginmanager.consider_env()
        except Exception as e:   # a broken ini or plugin: runs will say it
            if not quiet:
                _log("preparing the plugins stopped early: %s"
                     % (str(e).strip() or type(e).__name__))
        finally:
            PLUGIN_MODULES[:] = [p for p in config.pluginmanager.get_plugins()
                                 if isinstance(p, types.ModuleType)]
            config._ensure_unconfigure()   # the rewrite hook leaves sys.meta_path
    return major


def prewarm():
    """In a spare child, before its request: what prepare_plugins() did,
    again, then the run's own configuration built ahead (see
    _prebuild_config). Never fails the spare."""
    try:
        prepare_plugins(quiet=True)
        _prebuild_config()
    except BaseException:
        pass


def _prebuild_config():
    """Build what pytest's get_config() builds before it looks at a run's
    arguments (the plugin manager, the Config, the default plugins
    registered, and the argparse parser the run parses PYTEST_ADDOPTS
    with: about a quarter of a one-test run) and have the run's first
    get_config() call take it. That call gets it only when get_config
    would have built the same thing: arguments without -p (get_config
    reads "-p no:NAME" before the default plugins), no plugins passed in,
    the environment variables read meanwhile (PYTEST_DEBUG among them)
    unchanged, and nothing warned; the invocation parameters (arguments,
    directory) are the call's. Any other call, and every later one, is
    pytest's own. Nothing is built ahead under PYTEST_DEBUG: the plugin
    manager would trace to the spare's stderr, the server's."""
    import importlib.util
    import warnings
    from pathlib import Path
    from _pytest import config as pc
    from ._pydeps import Spy

    real = pc.get_config
    if os.environ.get("PYTEST_DEBUG"):
        return   # its trace would go to the server's stderr, not the run's
    argv0 = sys.argv[0]
    with Spy(anytime=True) as spy, warnings.catch_warnings(record=True) as caught, _Streams():
        warnings.simplefilter("always")
        config = real(None)
        try:
            # The run's first parser, kept by install_parser_memo(). argparse
            # names the program from sys.argv[0] as it builds: the name
            # "-m pytest" will give it (the memo keys on sys.argv[0]).
            sys.argv[0] = importlib.util.find_spec("pytest.__main__").origin
            config._parser._getparser()
        except Exception:
            pass
        finally:
            sys.argv[0] = argv0
    seen = {name: os.environ.get(name) for name in spy.names}
    if caught:
        config._ensure_unconfigure()
        return

    def get_config(args=None, plugins=None):
        pc.get_config = real
        if (not isinstance(args, list) or plugins or
                any(not isinstance(a, str) or a.startswith("-p") for a in args) or
                any(os.environ.get(name) != value for name, value in seen.items())):
            config._ensure_unconfigure()
            return real(args, plugins)
        config.invocation_params = pc.Config.InvocationParams(
            args=args, plugins=plugins, dir=Path.cwd())
        return config

    pc.get_config = get_config


class _OnlyConftests:
    """A plugin for the throwaway collection: every file but conftest.py
    is ignored; the conftest files, rootdir and ini file are noted."""

    def __init__(self):
        self.conftests = []
        self.tests = []
        self.rootdir = self.inifile = None
        self.warned = False

    def pytest_ignore_collect(self, collection_path, config):
        if collection_path.name != "conftest.py" and not collection_path.is_dir():
            from _pytest.python import path_matches_patterns
            if collection_path.suffix == ".py" and \
                    path_matches_patterns(collection_path, config.getini("python_files")):
                self.tests.append(str(collection_path))
            return True
        return None

    def pytest_plugin_registered(self, plugin):
        f = getattr(plugin, "__file__", None)
        if isinstance(f, str) and os.path.basename(f) == "conftest.py":
            self.conftests.append(os.path.abspath(f))

    def pytest_configure(self, config):
        self.rootdir = str(config.rootpath)
        self.inifile = str(config.inipath) if config.inipath else None

    def pytest_warning_recorded(self):
        self.warned = True


def _collect_in_child(w):
    import pytest
    from _pytest.assertion.rewrite import AssertionRewritingHook
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    before = set(sys.modules)
    env0 = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    path0 = list(sys.path)
    plugin = _OnlyConftests()
    pytest.hookimpl(tryfirst=True)(_OnlyConftests.pytest_ignore_collect)
    os.environ.pop("PYTEST_ADDOPTS", None)
    pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-o", "addopts="],
                plugins=[plugin])
    top = plugin.rootdir or os.getcwd()
    root = top + os.sep
    env1 = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # (the rootdir itself is inside: a tests package's conftest puts it
    # on sys.path under the default import mode)
    outside = [p for p in sys.path if p not in path0 and os.path.abspath(p) != top and
               not os.path.abspath(p).startswith(root)]
    mods = []
    for name, m in list(sys.modules.items()):
        f = getattr(m, "__file__", None)
        if name in before or not isinstance(f, str) or name == "__main__":
            continue
        f = os.path.abspath(f)
        if name.rpartition(".")[2] == "conftest" or f.startswith(root) or \
                isinstance(getattr(m, "__loader__", None), AssertionRewritingHook):
            continue
        mods.append([name, f])
    if env1 != env0 or outside or plugin.warned:
        mods = []   # their imports depend on what the conftests set up
    report = {"modules": mods, "conftests": plugin.conftests, "tests": plugin.tests,
              "rootdir": plugin.rootdir, "inifile": plugin.inifile}
    _write_all(w, json.dumps(report).encode())


def conftest_imports():
    """Collect with every test file ignored, in a throwaway fork: the
    report {"modules": [[name, file], ...], "conftests", "rootdir",
    "inifile"}; empty on failure (logged)."""
    pid, r = _throwaway(_collect_in_child)
    chunks, deadline = [], time.monotonic() + COLLECT_TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                _log("collecting the conftest files took over %ds: given up"
                     % COLLECT_TIMEOUT)
                os.kill(pid, signal.SIGKILL)
                chunks = []
                break
            b = os.read(r, 1 << 16)
            if not b:
                break
            chunks.append(b)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    try:
        return json.loads(b"".join(chunks).decode()) if chunks else {}
    except ValueError:
        _log("the conftest collection sent no report")
        return {}


def install_parser_memo():
    """Have each pytest Parser keep the argparse parser it builds.

    Parser._getparser() builds a new argparse parser from the option groups
    at each call, about seven times a run (six hundred add_argument calls
    each: a quarter of a one-test run). The parser it returns depends on
    the groups and their options, prog (argparse's default is sys.argv[0]
    as the parser is built) and extra_info's items (copied when empty),
    and parsing leaves it unchanged, so the same one serves while those
    are the same. Options are only ever appended through pytest's API; an
    option's attributes edited in place after it was added are not seen.
    Not with argcomplete, which edits the parser; a pytest whose Parser is
    built otherwise keeps its own."""
    from _pytest.config import argparsing
    real = getattr(argparsing.Parser, "_getparser", None)
    if real is None or getattr(real, "procwait_memo", False):
        return

    def _getparser(self):
        try:
            groups = self._groups + [self._anonymous]
            key = (self.prog, sys.argv[0] if sys.argv else None,
                   tuple(self.extra_info.items()),
                   tuple((id(g), tuple(map(id, g.options))) for g in groups))
        except (AttributeError, TypeError):
            return real(self)
        if os.environ.get("_ARGCOMPLETE"):
            return real(self)
        memo = self.__dict__.get("_procwait_parser")
        if memo is not None and memo[0] == key and len(memo[1]._actions) == memo[2]:
            return memo[1]
        parser = real(self)
        self.__dict__["_procwait_parser"] = (key, parser, len(parser._actions))
        return parser

    _getparser.procwait_memo = True
    argparsing.Parser._getparser = _getparser


#: Where the attribute hooks (__getattr__, __getattribute__) of a value may
#: come from for install_fixture_memo() to look at the value in the server:
#: code known to do nothing but answer (the builtin types', the standard
#: typing, enum, io and abc's, pytest's). A hook of other code may set
#: something up (a lazy proxy, a module loaded on first use: unittest's
#: own __getattr__ imports), which a run must do itself, as in plain pytest.
_INERT_HOOKS = ("builtins", "typing", "enum", "io", "abc", "pytest", "_pytest")
_PLAIN_GETATTRIBUTE = (object.__getattribute__, type.__getattribute__)


def _inert(value):
    """Does looking up a missing attribute of value run only code of
    _INERT_HOOKS?"""
    def known(hook):
        mod = getattr(hook, "__module__", None) or \
            getattr(getattr(hook, "__objclass__", None), "__module__", None)
        return isinstance(mod, str) and mod.partition(".")[0] in _INERT_HOOKS

    t = type(value)
    if t is types.ModuleType:
        hook = value.__dict__.get("__getattr__")
        return hook is None or known(hook)
    if t.__module__ == "builtins":
        return True
    for name in ("__getattribute__", "__getattr__"):
        hook = getattr(t, name, None)
        if hook is not None and hook not in _PLAIN_GETATTRIBUTE and not known(hook):
            return False
    return True


def install_fixture_memo(modules):
    """Have pytest's fixture manager skip, in a plugin module unchanged
    since the server looked at it, the names that are no fixture.

    At each run's session start, FixtureManager.parsefactories() looks at
    every name of every registered plugin (dir(), then each attribute's
    fixture marker): some 1,500 names of 40 modules, about 7 ms of a
    one-test run. modules (the server's plugin modules) are looked at here,
    once, the same way. In a run, parsefactories' dir() of such a module
    gives the names of its fixtures alone, in dir()'s order, so the same
    fixtures are registered in the same order, as long as the module holds
    the same names bound to the same objects (pytest's fixture decorator
    returns a new function: a new fixture is a new binding). A module that
    changed, any other object, and every other caller of dir() get the
    builtin's answer. Left out: a module of a subclass of ModuleType or
    with a __dir__, and one holding a value whose attribute lookup runs
    code that may do more than answer (see _INERT_HOOKS): the run looks
    at those itself. An object already bound in a plugin module that
    gains a fixture marker in place, without a new binding, would not be
    seen. Only for the parsefactories() that picks fixtures from dir()
    alone (pytest 7 and 8); one that also looks at the other names (to
    warn about wrapped fixtures) keeps the builtin's."""
    import builtins
    import pytest
    from _pytest import fixtures
    code = getattr(getattr(getattr(fixtures, "FixtureManager", None), "parsefactories", None),
                   "__code__", None)
    needed = ("getfixturemarker", "safe_getattr", "FixtureFunctionMarker")
    try:
        major = int(pytest.__version__.split(".")[0])
    except (AttributeError, ValueError):
        return
    if code is None or "dir" not in code.co_names or "dir" in vars(fixtures) or \
            "_check_for_wrapped_fixture" in code.co_names or not 7 <= major <= 8 or \
            not all(hasattr(fixtures, n) for n in needed):
        return
    real_dir = builtins.dir

    def dir(*args):
        if len(args) == 1 and type(args[0]) is types.ModuleType and \
                sys._getframe(1).f_code is code:
            hit = FIXTURE_NAMES.get(id(args[0]))
            if hit is not None and hit[0] is args[0]:
                d = args[0].__dict__
                if tuple(d) == hit[1] and tuple(map(id, d.values())) == hit[3]:
                    return list(hit[4])
        return real_dir(*args)

    fixtures.dir = dir      # (first: _pytest.fixtures is a plugin module too)
    marker_of, getattr_, marker_type = (fixtures.getfixturemarker, fixtures.safe_getattr,
                                        fixtures.FixtureFunctionMarker)
    for m in modules:
        if type(m) is not types.ModuleType or "__dir__" in m.__dict__:
            continue
        d = m.__dict__
        values = tuple(d.values())
        if not all(_inert(v) for v in values):
            continue
        try:
            names = [n for n in real_dir(m)
                     if isinstance(marker_of(getattr_(m, n, None)), marker_type)]
        except Exception:
            continue
        FIXTURE_NAMES[id(m)] = (m, tuple(d), values, tuple(map(id, values)), names)


def install_metadata_memo():
    """Keep what importlib.metadata makes of an installed distribution's
    entry points while its entry_points.txt is unchanged.

    A run reads them twice: pytest looks for the pytest plugins' files to
    rewrite and pluggy loads the pytest11 entry points, each through every
    distribution's entry_points.txt (some 5 ms of a one-test run). The
    server's reads serve the runs, keyed on the file's device, inode,
    absolute path, size and times: an install, an upgrade or an edit is
    read anew (a file changed within two seconds of the server's read is
    not kept: a same-size rewrite in the same clock tick would look
    unchanged). Each call still gets entry points of its own, bound to its
    distribution, as importlib.metadata gives them. Read as before: a
    distribution not on a plain file system path (zipped), of a class of
    its own, or when read_text() has been replaced (a test's mock)."""
    import importlib.metadata as md
    import pathlib
    cls = getattr(md, "PathDistribution", None)
    prop = getattr(md.Distribution, "entry_points", None)
    if cls is None or not isinstance(prop, property) or \
            getattr(cls, "_procwait_memo", False) or cls.entry_points is not prop or \
            not all(hasattr(md, n) for n in ("EntryPoint", "EntryPoints")):
        return
    fget, EntryPoint, EntryPoints = prop.fget, md.EntryPoint, md.EntryPoints
    read_text, path_read_text = cls.read_text, pathlib.Path.read_text
    path_type = type(pathlib.Path())

    def entry_points(self):
        p = getattr(self, "_path", None)
        if type(self) is not cls or cls.read_text is not read_text or \
                type(p) is not path_type or pathlib.Path.read_text is not path_read_text:
            return fget(self)
        try:
            path = os.path.abspath(os.path.join(os.fspath(p), "entry_points.txt"))
            st = os.stat(path)
        except (TypeError, ValueError, OSError):
            return fget(self)
        key = (st.st_dev, st.st_ino, path, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        hit = METADATA.get(key)
        if hit is not None:
            return EntryPoints(EntryPoint(*t)._for(self) for t in hit)
        eps = fget(self)
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > SETTLED_NS:
            try:
                METADATA[key] = tuple((e.name, e.value, e.group) for e in eps)
            except AttributeError:
                pass
        return eps

    cls.entry_points = property(entry_points, doc=prop.__doc__)
    cls._procwait_memo = True


def install_code_cache():
    """Make pytest's rewrite hook look in CODE before its pyc cache."""
    from _pytest.assertion import rewrite
    orig = rewrite._read_pyc
    if getattr(orig, "procwait_cache", False):
        return

    def _read_pyc(source, pyc, trace=lambda x: None):
        hit = CODE.get(str(source))
        if hit is not None:
            try:
                st = os.stat(source)
            except OSError:
                st = None
            if st is not None and (st.st_mtime_ns, st.st_size) == hit[:2]:
                trace("rewritten code of %s from the procwait server" % source)
                return hit[2]
        return orig(source, pyc, trace)

    _read_pyc.procwait_cache = True
    rewrite._read_pyc = _read_pyc


def _rewrite_all(w, files):
    """In the rewriter's fork: one JSON line per file rewritten."""
    from pathlib import Path
    from _pytest.assertion import rewrite
    from _pytest.config import get_config
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    config = get_config(["--noconftest"])
    config._initini(["--noconftest"])   # the ini options rewriting reads
    for f in files:
        try:
            st, co = rewrite._rewrite_test(Path(f), config)
        except Exception:   # a syntax error, say: the run reports it
            continue
        line = json.dumps({"path": f, "mtime_ns": st.st_mtime_ns, "size": st.st_size,
                           "code": base64.b64encode(marshal.dumps(co)).decode()})
        _write_all(w, (line + "\n").encode())


class Rewriter:
    """A throwaway fork of the server that rewrites ``files`` and streams
    the code back; :meth:`read` (when :meth:`fileno` is readable) puts it
    into CODE. Runs forked before a file arrived rewrite it themselves."""

    def __init__(self, files):
        self.pid, self.fd = _throwaway(_rewrite_all, files)
        self.buf = b""

    def fileno(self):
        return self.fd

    def read(self):
        """Take what arrived: False once the rewriter is done."""
        b = os.read(self.fd, 1 << 20)
        if not b:
            self.close()
            return False
        *lines, self.buf = (self.buf + b).split(b"\n")
        for line in lines:
            try:
                rec = json.loads(line)
                CODE[rec["path"]] = (rec["mtime_ns"], rec["size"],
                                     marshal.loads(base64.b64decode(rec["code"])))
            except (ValueError, KeyError, TypeError, EOFError):
                pass
        return True

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(self.pid, 0)


def import_all(mods):
    """Import [name, file] pairs in order; a module that does not import
    here, or would come from another file, is left to the runs."""
    import importlib.util
    files = dict((n, f) for n, f in mods)
    bad = set()
    for name, f in mods:
        top = name.partition(".")[0]
        if name in sys.modules or top in bad:
            continue
        if top not in sys.modules:
            try:
                spec = importlib.util.find_spec(top)
                origin = spec.origin if spec is not None else None
            except (ImportError, ValueError):
                origin = None
            if not isinstance(origin, str) or os.path.abspath(origin) != files.get(top):
                bad.add(top)
                continue
        try:
            importlib.import_module(name)
        except BaseException:   # SystemExit in a module body as well
            continue
        got = getattr(sys.modules.get(name), "__file__", None)
        if not isinstance(got, str) or os.path.abspath(got) != f:
            _log("%s came from %s here, not %s as in the collection" % (name, got, f))
