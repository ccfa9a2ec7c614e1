"""The pytest tier of procwait-python: `procwait-python -m pytest` runs
from a server that has pytest, its plugins and what the conftest files
import (from outside the rootdir) loaded, and gives the same outcomes as
`python3 -m pytest`: the same report lines and exit status, plugins not
warned about as imported before the rewrite hook (filterwarnings=error),
edits seen, and options that change what the tier prepared sent to a
server without it.

Isolation as in test_pylauncher. Skipped where the interpreter has no
pytest 7 or later.
"""
import json
import os
import re
import textwrap
import unittest

from tests import _util
from tests._util import PYTHON, BINDING_DIR
from tests.test_pylauncher import LauncherCase, kill_servers, _DIRS
from tests import test_pylauncher

#: A conftest line recording the run's parent (see test_pylauncher.PRELUDE).
RECORD = ('import os as _pw_os\n'
          'with open(_pw_os.environ["PWT_PPID_FILE"], "a") as _pw_f:\n'
          '    _pw_f.write("%d\\n" % _pw_os.getppid())\n')


def setUpModule():
    test_pylauncher.setUpModule()
    try:
        import pytest
    except ImportError:
        raise unittest.SkipTest("pytest is not installed for %s (python3-pytest)" % PYTHON)
    if int(pytest.__version__.split(".")[0]) < 7:
        raise unittest.SkipTest("the pytest tier needs pytest 7 or later")


def tearDownModule():
    for d in _DIRS:
        kill_servers(d)


def _summary(out):
    """The -rA report lines and the counts line, without timings."""
    lines = [l for l in out.splitlines()
             if re.match(r"(PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR) ", l)]
    counts = [re.sub(r" in [0-9.]+s.*", "", l.strip("= ")) for l in out.splitlines()
              if re.search(r"\b(passed|failed)\b.* in [0-9.]+s", l)]
    return sorted(lines) + counts


class TierCase(LauncherCase):
    preload = ""

    def setUp(self):
        super().setUp()
        # A third-party module the conftest imports: it notes each import.
        self.imports = os.path.join(self.tmp, "imports")
        self.write("pwt_dep.py", '''\
            import os
            with open(%r, "a") as f:
                f.write("%%d\\n" %% os.getpid())
            VALUE = 1
            ''' % self.imports, where=self.mods)
        self.write("pytest.ini", "[pytest]\nfilterwarnings = error\n")
        self.write("tests/conftest.py", RECORD + textwrap.dedent('''\
            import pytest, pwt_dep
            @pytest.fixture
            def value():
                return pwt_dep.VALUE
            '''))
        self.write("tests/test_a.py", '''\
            import pytest
            def test_pass(value):
                assert value == 1
            def test_fail():
                x = [1, 2]
                assert x == [1, 3]
            @pytest.mark.skip(reason="no")
            def test_skip():
                pass
            @pytest.mark.xfail
            def test_xfail():
                assert 0
            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_param(n):
                assert n < 3
            ''')
        # No .pytest_cache in the work tree, the same way for both.
        self.env["PYTEST_ADDOPTS"] = "-p no:cacheprovider"

    def servers(self):
        e = {"PYTHONPATH": BINDING_DIR + ":" + self.env["PYTHONPATH"]}
        r = self.run_cmd([PYTHON, "-m", "procwait", "servers", "--json"], env=e)
        self.assertRc(r, 0)
        return {i["pid"]: i for i in map(json.loads, r.stdout.splitlines())}

    def tier_of(self, res):
        """The pytest tier's rootdir of the server that ran res, or None."""
        return self.servers()[self.assertForked(res)]["pytest"]


class TierTest(TierCase):

    def test_outcomes_as_python3(self):
        args = ["-m", "pytest", "-rA", "tests"]
        want = self.plain(args)
        self.assertEqual(want.returncode, 1, self.describe(want))
        for _ in range(2):
            got = self.launch(args)
            self.assertRc(got, 1)
            self.assertEqual(_summary(got.stdout), _summary(want.stdout), self.describe(got))
            self.assertIn("assert [1, 2] == [1, 3]", got.stdout)   # rewritten asserts
            self.assertEqual(self.tier_of(got), self.work)
        one = self.launch(["-m", "pytest", "-q", "tests/test_a.py::test_pass"])
        self.assertRc(one, 0)

    def test_conftest_imports_are_preloaded_once(self):
        for _ in range(3):
            self.assertRc(self.launch(["-m", "pytest", "-q", "tests/test_a.py::test_pass"]), 0)
        with open(self.imports) as f:
            pids = f.read().split()
        # Once by the throwaway collection of the conftest files, once by
        # the server; by no run.
        self.assertEqual(len(pids), 2, "pwt_dep was imported %d times for 3 runs" % len(pids))

    def test_a_preloaded_plugin_under_filterwarnings_error(self):
        try:
            import xdist  # noqa: F401
        except ImportError:
            self.skipTest("pytest-xdist is not installed for %s" % PYTHON)
        got = self.launch(["-m", "pytest", "-q", "tests/test_a.py::test_pass"],
                          env={"PROCWAIT_PRELOAD": "xdist.plugin"})
        self.assertRc(got, 0)
        self.assertNotIn("already imported", got.stdout + got.stderr)

    def test_rewritten_code_comes_from_the_server(self):
        # No pyc on disk here (PYTHONDONTWRITEBYTECODE): the server's
        # rewriter is where an unchanged test module's code comes from.
        args = ["-m", "pytest", "-q", "tests/test_a.py::test_pass"]
        self.assertRc(self.launch(args), 0)
        log = os.path.join(self.tmp, "debug.log")
        marker = "rewritten code of %s from the procwait server" % os.path.join(
            self.work, "tests", "test_a.py")

        def served():
            self.assertRc(self.launch(args[:3] + ["--debug=" + log] + args[3:]), 0)
            with open(log) as f:
                return marker in f.read()
        self.assertTrue(test_pylauncher.wait_until(served, 20, 0.2),
                        "no run took test_a.py's code from the server\n" + self.server_log())
        self.write("tests/test_a.py", "def test_pass(value):\n    assert value == 2\n")
        r = self.launch(args[:3] + ["--debug=" + log] + args[3:])
        self.assertRc(r, 1)
        with open(log) as f:
            self.assertNotIn(marker, f.read(), "an edited module's old code was used")

    def test_edits_are_seen(self):
        args = ["-m", "pytest", "-q", "tests/test_a.py::test_pass"]
        self.assertRc(self.launch(args), 0)
        # The conftest (never in the server) and the preloaded dependency.
        self.write("tests/conftest.py", RECORD + textwrap.dedent('''\
            import pytest, pwt_dep
            @pytest.fixture
            def value():
                return pwt_dep.VALUE + 1
            '''))
        self.assertRc(self.launch(args), 1)
        self.write("pwt_dep.py", "VALUE = 0\n", where=self.mods)
        self.assertRc(self.launch(args), 0)
        self.write("tests/test_a.py", "def test_pass(value):\n    assert value == 2\n")
        self.assertRc(self.launch(args), 1)

    def test_options_that_change_the_tier_go_without_it(self):
        for extra in (["-p", "no:warnings"], ["-o", "filterwarnings="], ["--noconftest"],
                      ["--import-mode=importlib"], ["-c", "pytest.ini"]):
            args = ["-m", "pytest", "-q"] + extra + ["tests/test_a.py::test_skip"]
            want = self.plain(args)
            got = self.launch(args)
            self.assertEqual(got.returncode, want.returncode, self.describe(got))
            if extra != ["--noconftest"]:   # no conftest: nothing records the parent
                self.assertIsNone(self.tier_of(got), "%s ran in the tier" % extra)

    def test_python3_m_procwait_pytest(self):
        e = {"PYTHONPATH": BINDING_DIR + ":" + self.env["PYTHONPATH"],
             "PROCWAIT_PYTHON": None, "PROCWAIT_PYTHON_LAUNCHER": test_pylauncher.LAUNCHER}
        got = self.run_cmd([PYTHON, "-m", "procwait", "pytest", "-q", "-rA", "tests"], env=e)
        want = self.plain(["-m", "pytest", "-q", "-rA", "tests"])
        self.assertEqual(got.returncode, want.returncode, self.describe(got))
        self.assertEqual(_summary(got.stdout), _summary(want.stdout))
        self.assertEqual(self.tier_of(got), self.work)
        info = self.servers()[got.ppid]
        self.assertEqual(info["python"], PYTHON)

    def test_short_option_values_keep_the_tier(self):
        # -rfEp: -r's value holds a 'p', which is no -p.
        got = self.launch(["-m", "pytest", "-q", "-rfEp", "tests/test_a.py::test_pass"])
        self.assertRc(got, 0)
        self.assertEqual(self.tier_of(got), self.work)

    def test_what_a_plugin_does_at_import_stays(self):
        # A pytest11 plugin on PYTHONPATH that changes sys.path and the
        # warning filters at import: the tier imports it once, for every run.
        extra = os.path.join(self.tmp, "extra")
        os.mkdir(extra)
        self.write("pwt_extra_mod.py", "X = 1\n", where=extra)
        self.write("pwtplug.py", '''\
            import sys, warnings
            sys.path.append(%r)
            warnings.filterwarnings("error", message="pwt-plugin")
            ''' % extra, where=self.mods)
        self.write("pwtplug-1.0.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: pwtplug\nVersion: 1.0\n", where=self.mods)
        self.write("pwtplug-1.0.dist-info/entry_points.txt",
                   "[pytest11]\npwtplug = pwtplug\n", where=self.mods)
        self.write("tests/test_plug.py", '''\
            import warnings, pytest
            def test_path():
                import pwt_extra_mod
                assert pwt_extra_mod.X == 1
            def test_filter():
                with pytest.raises(UserWarning):
                    warnings.warn("pwt-plugin here")
            ''')
        args = ["-m", "pytest", "-q", "-rA", "tests/test_plug.py"]
        want = self.plain(args)
        self.assertEqual(want.returncode, 0, self.describe(want))
        for _ in range(2):
            got = self.launch(args)
            self.assertRc(got, 0)
            self.assertEqual(_summary(got.stdout), _summary(want.stdout))
            self.assertEqual(self.tier_of(got), self.work)

    def test_conftest_set_up_for_an_import_stays_the_runs(self):
        # A conftest that sets the environment, then imports a library
        # that reads it at import (MPLBACKEND, KERAS_BACKEND), and one
        # whose import warns: as plain pytest, run after run.
        self.write("pwt_backendlib.py", '''\
            import os, warnings
            BACKEND = os.environ.get("PWT_BACKEND2", "default")
            warnings.warn("pwt_backendlib is deprecated", DeprecationWarning)
            ''', where=self.mods)
        self.write("tests/conftest.py", RECORD + textwrap.dedent('''\
            import os
            os.environ["PWT_BACKEND2"] = "jax"
            import pytest, pwt_dep, pwt_backendlib
            @pytest.fixture
            def value():
                return pwt_dep.VALUE
            '''))
        self.write("tests/test_b.py", '''\
            import pwt_backendlib
            def test_backend():
                assert pwt_backendlib.BACKEND == "jax"
            ''')
        args = ["-m", "pytest", "-q", "-rA", "tests/test_b.py"]
        want = self.plain(args)
        for _ in range(2):
            got = self.launch(args)
            self.assertEqual(got.returncode, want.returncode, self.describe(got))
            self.assertEqual(_summary(got.stdout), _summary(want.stdout), self.describe(got))
            self.assertEqual(self.tier_of(got), self.work)

    def test_turned_off(self):
        got = self.launch(["-m", "pytest", "-q", "tests/test_a.py::test_pass"],
                          env={"PROCWAIT_PYTEST": "0"})
        self.assertRc(got, 0)
        self.assertIsNone(self.tier_of(got))

    def test_a_run_with_pytest_debug_is_traced(self):
        # Spares of a server started with PYTEST_DEBUG, and spares that
        # built their configuration without it: a run that has it gets
        # pytest's trace on its own stderr, one without it none.
        args = ["-m", "pytest", "-q", "tests/test_a.py::test_pass"]
        want = self.plain(args, env={"PYTEST_DEBUG": "1"})
        self.assertIn("pytest_plugin_registered", want.stderr, self.describe(want))
        for debug in ("1", "1", "", "1"):
            got = self.launch(args, env={"PYTEST_DEBUG": debug})
            self.assertRc(got, 0)
            self.assertEqual("pytest_plugin_registered" in got.stderr, bool(debug),
                             self.describe(got))
            self.assertEqual(self.tier_of(got), self.work)

    def test_conftest_options(self):
        self.write("tests/conftest.py", RECORD + textwrap.dedent('''\
            import pytest, pwt_dep
            def pytest_addoption(parser):
                parser.addoption("--pwt-level", type=int, default=1)
            @pytest.fixture
            def value(request):
                return request.config.getoption("pwt_level")
            '''))
        for level, rc in (("1", 0), ("2", 1), ("1", 0)):
            args = ["-m", "pytest", "-q", "--pwt-level", level, "tests/test_a.py::test_pass"]
            want = self.plain(args)
            self.assertEqual(want.returncode, rc, self.describe(want))
            got = self.launch(args)
            self.assertRc(got, rc)
            self.assertEqual(self.tier_of(got), self.work)
        bad = self.launch(["-m", "pytest", "-q", "--pwt-level", "x", "tests"])
        self.assertRc(bad, 4)
        self.assertIn("invalid int value", bad.stderr)

    def test_usage_errors_and_help_as_plain_pytest(self):
        # Found by a review: the parser the spare built ahead named the
        # program after the spare ("-c: error: ..."), and the kept parser
        # lost the rootdir and inifile lines of a usage error.
        self.assertRc(self.launch(["-m", "pytest", "-q", "tests/test_a.py::test_pass"]), 0)
        for env in ({}, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}):
            for args in (["--maxfail=x"], ["--bogus", "tests"], ["-q", "--pwt-nope"]):
                want = self.plain(["-m", "pytest"] + args, env=env)
                self.assertEqual(want.returncode, 4, self.describe(want))
                got = self.launch(["-m", "pytest"] + args, env=env)
                self.assertEqual((got.returncode, got.stderr), (4, want.stderr),
                                 self.describe(got))
            want = self.plain(["-m", "pytest", "--help"], env=env)
            got = self.launch(["-m", "pytest", "--help"], env=env)
            self.assertRc(got, 0)
            self.assertEqual(got.stdout, want.stdout)
            self.assertEqual(self.tier_of(got), self.work)   # (the conftest ran)


#: Run in a python of its own (they change pytest's functions): the
#: configuration a spare builds ahead, and the parser memo.
INTERNALS = r'''
import os, sys, tempfile
sys.path.insert(0, %(binding)r)
from procwait import _pytier
from _pytest import config as pc
real = pc.get_config
d = tempfile.mkdtemp()
os.chdir(d)
_pytier.install_parser_memo()

def fresh(args, **env):
    _pytier._prebuild_config()
    assert pc.get_config is not real, "no configuration prebuilt"
    os.environ.update(env)
    try:
        return pc.get_config(args)
    finally:
        assert pc.get_config is real, "get_config not given back"
        for k in env:
            del os.environ[k]

# Taken: the run's arguments and directory, the default plugins there.
os.mkdir("sub")
_pytier._prebuild_config()
os.chdir("sub")
c = pc.get_config(["-q", "t.py"])
assert pc.get_config is real
assert c.invocation_params.args == ("-q", "t.py"), c.invocation_params
assert str(c.invocation_params.dir) == os.path.join(d, "sub"), c.invocation_params
assert c.pluginmanager.get_plugin("python") is not None
assert c.pluginmanager.get_plugin("cacheprovider") is not None
os.chdir(d)
# -p no:NAME is read before the default plugins: not taken.
c = fresh(["-p", "no:cacheprovider"])
assert c.pluginmanager.get_plugin("cacheprovider") is None
c = fresh(["-pno:cacheprovider"])
assert c.pluginmanager.get_plugin("cacheprovider") is None
# A variable get_config reads, changed since: not taken.
c = fresh(["-q"], PYTEST_DEBUG="1")
assert c.pluginmanager.trace.root._writer is not None, "PYTEST_DEBUG ignored"
c = fresh(["-q"])
assert c.pluginmanager.trace.root._writer is None

# The memo: the same parser while the options are the same.
p = c._parser
a = p._getparser()
assert p._getparser() is a
p.addoption("--pwt-x", default="0")
b = p._getparser()
assert b is not a and "--pwt-x" in b._option_string_actions
assert p.parse_known_args(["--pwt-x", "5"]).pwt_x == "5"
assert p.parse_known_args([]).pwt_x == "0"
p.getgroup("pwt", "a group").addoption("--pwt-y", action="store_true")
assert "--pwt-y" in p._getparser()._option_string_actions
os.environ["_ARGCOMPLETE"] = "1"
assert p._getparser() is not p._getparser()
del os.environ["_ARGCOMPLETE"]

# A whole run on a prebuilt configuration.
with open("test_it.py", "w") as f:
    f.write("def test_it(request):\n"
            "    assert request.config.invocation_params.args == ('-q', 'test_it.py')\n")
_pytier._prebuild_config()
sys.exit(int(__import__("pytest").main(["-q", "test_it.py"])))
'''


#: A tests package whose conftest imports a third-party module: the
#: conftest puts the rootdir itself on sys.path (pytest's default import
#: mode), which was taken for a path outside the rootdir, so nothing the
#: conftest files import was preloaded (found on attrs' suite: one test
#: 134 ms instead of 54).
TESTS_PACKAGE = r'''
import json, os, sys, tempfile
sys.path.insert(0, %(binding)r)
from procwait import _pytier
d, site = tempfile.mkdtemp(), tempfile.mkdtemp()   # the library outside the rootdir
with open(os.path.join(site, "pwt_third.py"), "w") as f:
    f.write("X = 1\n")
for rel, text in (("pyproject.toml", "[tool.pytest.ini_options]\n"),
                  ("tests/__init__.py", ""),
                  ("tests/conftest.py", "import pwt_third\n"),
                  ("tests/test_x.py", "def test_x():\n    pass\n")):
    os.makedirs(os.path.dirname(os.path.join(d, rel)) or d, exist_ok=True)
    with open(os.path.join(d, rel), "w") as f:
        f.write(text)
sys.path.append(site)
os.chdir(d)
rep = _pytier.conftest_imports()
print(json.dumps([m[0] for m in rep.get("modules", [])]))
'''


#: install_fixture_memo(): a plugin module's fixtures as pytest finds them,
#: while the module is unchanged and after it changed; dir() elsewhere is
#: the builtin's; modules it must leave to the runs.
FIXTURE_MEMO = r'''
import os, sys, tempfile, types, unittest
sys.path.insert(0, %(binding)r)
from procwait import _pytier
import pytest
from _pytest import fixtures
d = tempfile.mkdtemp()
os.chdir(d)
sys.path.insert(0, d)
with open("pwt_plug.py", "w") as f:
    f.write("import pytest\n"
            "@pytest.fixture\n"
            "def pwt_one():\n"
            "    return 1\n"
            "@pytest.fixture(name='pwt_named', autouse=True)\n"
            "def _named():\n"
            "    return 'n'\n"
            "NOT_A_FIXTURE = 3\n"
            "def helper():\n"
            "    pass\n")
import pwt_plug

class Lazy:                     # a proxy: its lookups run code of its own
    def __getattr__(self, name):
        raise AttributeError(name)
lazy = types.ModuleType("pwt_lazy")
lazy.proxy = Lazy()
unit = types.ModuleType("pwt_unit")
unit.unittest = unittest        # whose __getattr__ imports on first use
class Sub(types.ModuleType):
    pass
sub = Sub("pwt_sub")
_pytier.install_fixture_memo([pwt_plug, os, lazy, unit, sub])
hit = _pytier.FIXTURE_NAMES[id(pwt_plug)]
assert hit[4] == ["_named", "pwt_one"], hit[4]
assert id(os) in _pytier.FIXTURE_NAMES and _pytier.FIXTURE_NAMES[id(os)][4] == []
for m in (lazy, unit, sub):
    assert id(m) not in _pytier.FIXTURE_NAMES, m
# any caller but parsefactories: the builtin's answer
assert fixtures.dir(pwt_plug) == dir(pwt_plug)
assert "helper" in fixtures.dir(pwt_plug)
with open("test_a.py", "w") as f:
    f.write("def test_a(pwt_one, pwt_named, request):\n"
            "    assert pwt_one == 1 and pwt_named == 'n'\n"
            "    assert 'pwt_named' in request.fixturenames\n")
assert pytest.main(["-q", "-p", "pwt_plug", "test_a.py"]) == 0
# the memo is what the run uses: without pwt_one in it, no such fixture
hit[4].remove("pwt_one")
assert pytest.main(["-q", "-p", "pwt_plug", "test_a.py"]) == 1
hit[4].append("pwt_one")
# a new fixture bound in the module: seen
@pytest.fixture
def pwt_two():
    return 2
pwt_plug.pwt_two = pwt_two
with open("test_b.py", "w") as f:
    f.write("def test_b(pwt_one, pwt_two):\n"
            "    assert (pwt_one, pwt_two) == (1, 2)\n")
assert pytest.main(["-q", "-p", "pwt_plug", "test_b.py"]) == 0
# a fixture rebound to a plain function: no longer a fixture
pwt_plug.pwt_one = lambda: 5
with open("test_c.py", "w") as f:
    f.write("def test_c(pwt_one):\n"
            "    pass\n")
assert pytest.main(["-q", "-p", "pwt_plug", "test_c.py"]) == 1
print("fixture memo ok")
'''


#: install_metadata_memo(): a distribution's entry points as
#: importlib.metadata reads them, before and after an edit of the file.
METADATA_MEMO = r'''
import importlib.metadata as md, os, sys, tempfile, time
sys.path.insert(0, %(binding)r)
from procwait import _pytier
site = tempfile.mkdtemp()
info = os.path.join(site, "pwt_dist-1.0.dist-info")
os.mkdir(info)
def put(name, text):
    with open(os.path.join(info, name), "w") as f:
        f.write(text)
put("METADATA", "Metadata-Version: 2.1\nName: pwt-dist\nVersion: 1.0\n")
put("entry_points.txt", "[pytest11]\npwt = pwt_mod\n[console_scripts]\npwt-x = pwt_mod:main\n")
sys.path.insert(0, site)
plain = md.Distribution.entry_points.fget       # importlib's own
_pytier.install_metadata_memo()
_pytier.install_metadata_memo()     # twice: once installed
def seen(eps):
    return [(e.name, e.value, e.group) for e in eps]
want = [("pwt", "pwt_mod", "pytest11"), ("pwt-x", "pwt_mod:main", "console_scripts")]
# just written: not kept (a same-size rewrite in the same tick would hide)
assert seen(md.distribution("pwt-dist").entry_points) == want
assert not _pytier.METADATA
_pytier.SETTLED_NS = -10**12
assert seen(md.distribution("pwt-dist").entry_points) == want
assert len(_pytier.METADATA) == 1
dist = md.distribution("pwt-dist")
eps = dist.entry_points                     # from the memo
assert eps == plain(dist) and seen(eps) == want
assert all(e.dist is dist for e in eps), "bound to the caller's distribution"
assert isinstance(eps, md.EntryPoints) and eps.select(group="pytest11").names == {"pwt"}
assert "pwt" in md.entry_points(group="pytest11").names
# read_text replaced (a test's mock): importlib's own answer
real = md.PathDistribution.read_text
md.PathDistribution.read_text = lambda self, name: ("[pytest11]\nmocked = m\n"
                                                    if name == "entry_points.txt" else
                                                    real(self, name))
assert [e.name for e in md.distribution("pwt-dist").entry_points] == ["mocked"]
md.PathDistribution.read_text = real
# an edit, even to a text of the same size: read anew (its time a second
# on, whatever the file system's clock granularity)
put("entry_points.txt", "[pytest11]\npwx = pwt_mod\n[console_scripts]\npwt-x = pwt_mod:main\n")
ep_file = os.path.join(info, "entry_points.txt")
st = os.stat(ep_file)
os.utime(ep_file, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
assert seen(md.distribution("pwt-dist").entry_points)[0] == ("pwx", "pwt_mod", "pytest11")
# none at all: as before
os.unlink(os.path.join(info, "entry_points.txt"))
assert list(md.distribution("pwt-dist").entry_points) == []
print("metadata memo ok")
'''


class TierInternalsTest(unittest.TestCase):

    def test_fixture_memo(self):
        env = dict(os.environ)
        env.pop("PYTEST_ADDOPTS", None)
        r = _util.run_python(FIXTURE_MEMO % {"binding": BINDING_DIR}, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("fixture memo ok", r.stdout)

    def test_metadata_memo(self):
        r = _util.run_python(METADATA_MEMO % {"binding": BINDING_DIR})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("metadata memo ok", r.stdout)

    def test_conftest_imports_of_a_tests_package(self):
        env = dict(os.environ)
        env.pop("PYTEST_ADDOPTS", None)
        r = _util.run_python(TESTS_PACKAGE % {"binding": BINDING_DIR}, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("pwt_third", json.loads(r.stdout.splitlines()[-1]), r.stdout + r.stderr)

    def test_prebuilt_configuration_and_parser_memo(self):
        env = dict(os.environ)
        env.pop("PYTEST_DEBUG", None)
        env["PYTEST_ADDOPTS"] = "-p no:cacheprovider"
        r = _util.run_python(INTERNALS % {"binding": BINDING_DIR}, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("1 passed", r.stdout)


if __name__ == "__main__":
    unittest.main()
