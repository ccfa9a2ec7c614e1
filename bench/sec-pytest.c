/* SPDX-License-Identifier: MIT */
/*
 * Section "pytest": one test, and one test file, of a Python project's
 * suite re-run the way a developer re-runs them between edits. The bench
 * generates the project in a private mktemp directory (gen_py below):
 *
 *  - site/heavylib, a "third-party" library outside the suite's rootdir:
 *    LIB_MODULES modules whose import-time code defines enums,
 *    dataclasses, classes and functions, compiles patterns and builds
 *    tables, and numpy when it imports. site/ is on PYTHONPATH for every
 *    run. The row heavylib-import is its import, bytecode cached, timed
 *    inside a fresh interpreter: the suite's premise is that it takes
 *    PYTEST_LIB_MIN_IMPORT_MS or more;
 *  - suite/: pytest.ini, a package benchapp that imports heavylib, a root
 *    conftest.py with session, module and function fixtures, and
 *    SUITE_FILES files tests/test_fNN.py of 15 tests each (parametrized
 *    ones among them, assert statements that pytest rewrites).
 *
 * Every run is `-m pytest -q ID` in suite/ with PYTEST_ADDOPTS set to
 * PYTEST_OPTS (-p no:cacheprovider, which on the command line would keep
 * the tier row off its tier), ID one test (ONE_TEST) or one file
 * (ONE_FILE); its output goes into a file of the directory and its exit
 * status is checked: 0, the tests passed. A run that fails makes its row
 * missing, with the status and pytest's last line. For each ID:
 *
 *  - pytest-cold: the interpreter the other sections use, per run;
 *  - pytest-plain: procwait-python without its pytest tier
 *    (PROCWAIT_PYTEST=0, PROCWAIT_PRELOAD=heavylib,pytest), server warm;
 *  - pytest-tier: procwait-python as a developer runs it
 *    (PROCWAIT_PRELOAD=heavylib; for -m pytest the launcher picks its
 *    pytest tier by itself), server warm. The targets: within
 *    PYTEST_TIER_MAX_RATIO of pytest-inproc's time, and for one test (a
 *    re-run after an edit) at least PYTEST_TIER_MIN_SPEEDUP times faster
 *    than pytest-cold (for the file that speedup is told: pytest-inproc's
 *    own is below it there). A launcher
 *    without the tier runs it as pytest-plain, heavylib alone preloaded;
 *  - pytest-inproc, the reference: one interpreter (the driver) imports
 *    pytest and calls pytest.main() with the same arguments once, then
 *    once per run, each call timed inside it (time.perf_counter): what a
 *    daemon re-running the tests in its own process takes.
 *
 * Each timed run of pytest-plain, pytest-tier and pytest-inproc follows a
 * pause of RERUN_PAUSE_MS, as a re-run after an edit does (a server's spare
 * is then ready, as between a user's runs; back to back, a run would wait
 * for the spare forked after the previous one).
 *
 * Bytecode is cached, as in a developer's tree: every run has
 * PYTHONPYCACHEPREFIX in the private directory (and not the caller's
 * PYTHONDONTWRITEBYTECODE), written by the untimed first run of each row.
 * The launcher, its environment and the cleanup are the pypreload
 * section's (sec-pypreload.c, stats.c): TMPDIR is the private directory,
 * whose processes (the launcher's servers, the drivers) are ended and
 * which is removed before the section ends. Rounds and ratios too: one
 * batch per row per round, the order rotated each round; a row's ratio
 * is the median over the rounds of its round median over pytest-inproc's
 * in the same round, its speed-up pytest-cold's over its own likewise;
 * p50 and p99 are pooled over the rounds. The library runs in a worker
 * process; a row that cannot run is "missing", with the reason.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

#define MAX_ROUNDS 16
#define MAX_RUNS 32              /* runs() of a row per round, at most */
#define LIB_MODULES 56           /* heavylib's modules */
#define LIB_WEIGHT 12            /* dataclasses a module (3x classes, 6x functions) */
#define SUITE_FILES 20           /* of 15 tests */
#define ONE_FILE "tests/test_f07.py"
#define ONE_TEST ONE_FILE "::test_f07_03"
#define PYTEST_OPTS "-p no:cacheprovider"   /* PYTEST_ADDOPTS of every run */
/* Before each timed re-run (launcher and in-process rows): a developer
 * re-runs a test after an edit, not back to back; a server's spare then
 * has made itself ready, as it has between a user's runs. */
#define RERUN_PAUSE_MS 200
#define PAUSE_STR2(x) #x
#define PAUSE_STR(x) PAUSE_STR2(x)
#define LAUNCHER_IDLE "60"       /* PROCWAIT_IDLE of the launcher's servers */
#define DRIVER_WAIT_S 300        /* an answer of an in-process driver, at most */
#define REMOVE_LEVELS 16         /* the bytecode prefix mirrors absolute paths */
#define NCOMMON 6                /* the bench's variables in every run's environment */
#define NSTRS (NCOMMON + 3)

/* The rows: the library's import, then for each ID (0 the test, 1 the
 * file) its four runners; group 6, 4 and 5 (bench.h). */
enum runner { K_COLD, K_PLAIN, K_TIER, K_INPROC, NK };
#define R_LIB 0
#define NR (1 + 2 * NK)
#define ROW(id, k) (1 + (id) * NK + (k))
#define ROW_ID(i) (((i) - 1) / NK)
#define ROW_K(i) (((i) - 1) % NK)

static const char *const k_name[NK] = {
	"pytest-cold", "pytest-plain", "pytest-tier", "pytest-inproc",
};
static const char *const id_name[2] = { "test", "file" };
static const char *const id_arg[2] = { ONE_TEST, ONE_FILE };

/* The generator: python3 gen.py DIR MODULES WEIGHT FILES. */
static const char gen_py[] =
	"# bench/sec-pytest.c's suite: python3 gen.py DIR MODULES WEIGHT FILES\n"
	"import os\n"
	"import sys\n"
	"\n"
	"top, nmods, weight, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])\n"
	"\n"
	"\n"
	"def put(rel, lines):\n"
	"    path = os.path.join(top, rel)\n"
	"    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
	"    with open(path, 'w') as f:\n"
	"        f.write('\\n'.join(lines) + '\\n')\n"
	"\n"
	"\n"
	"def lib_module(i):\n"
	"    n = 400 * weight\n"
	"    L = ['\"\"\"heavylib.m%02d: import-time work, as a large library does.\"\"\"' % i,\n"
	"         'import collections, dataclasses, enum, math, re', 'from heavylib import _core',\n"
	"         '', 'class Color%02d(enum.Enum):' % i]\n"
	"    L += ['    C%d = %d' % (k, k) for k in range(24)]\n"
	"    for k in range(weight):\n"
	"        L += ['', '@dataclasses.dataclass(frozen=True)', 'class Rec%02d_%d:' % (i, k),\n"
	"              '    a: int = %d' % k, '    b: float = 0.5', \"    c: str = 'r%d'\" % k,\n"
	"              '    d: tuple = ()', '', '    def score(self):',\n"
	"              '        return self.a * %d + self.b' % (k + 1)]\n"
	"    for k in range(3 * weight):\n"
	"        L += ['', 'class Node%02d_%d(_core.Base):' % (i, k), '    kind = %d' % k]\n"
	"        for j in range(6):\n"
	"            L += ['    def m%d(self, x, y=%d):' % (j, j),\n"
	"                  '        return (x + y) * self.kind - %d' % j]\n"
	"        L += ['    @property', '    def label(self):', \"        return 'n%d' % self.kind\"]\n"
	"    for k in range(6 * weight):\n"
	"        L += ['def fn%d(x, y=%d):' % (k, k), '    return [x * %d + y, {x: y}]' % k]\n"
	"    L += ['', \"PATTERNS = [re.compile(r'(?P<key>item%d)_(\\\\d+)-(?:%d|x[a-f]{2,%d})$'\",\n"
	"          '                       %% (k, k, k + 2)) for k in range(%d)]' % (2 * weight),\n"
	"          'TABLE = {k: math.sin(k) * math.cos(k / 7.0) for k in range(%d)}' % n,\n"
	"          'INDEX = collections.defaultdict(list)', 'for _k, _v in TABLE.items():',\n"
	"          '    INDEX[round(_v, 2)].append(_k)',\n"
	"          'NAMES = sorted(\"%%s_%%d\" %% (c.name, k) for c in Color%02d for k in range(%d))'\n"
	"          % (i, 4 * weight), '', '', 'def api(k):',\n"
	"          '    return TABLE[k %% %d] + len(INDEX)' % n]\n"
	"    return L\n"
	"\n"
	"\n"
	"def library():\n"
	"    names = ['m%02d' % i for i in range(nmods)]\n"
	"    put('site/heavylib/_core.py', ['class Base:', '    kind = -1', '',\n"
	"        '    def __repr__(self):',\n"
	"        \"        return '<%s %d>' % (type(self).__name__, self.kind)\"])\n"
	"    put('site/heavylib/__init__.py', ['\"\"\"heavylib: a generated third-party library.\"\"\"',\n"
	"        'try:', '    import numpy', 'except ImportError:', '    numpy = None',\n"
	"        'from heavylib import ' + ', '.join(names), 'MODULES = (' + ', '.join(names) + ',)',\n"
	"        '', '', 'def total(k):', '    return sum(m.api(k) for m in MODULES)'])\n"
	"    for i in range(nmods):\n"
	"        put('site/heavylib/m%02d.py' % i, lib_module(i))\n"
	"\n"
	"\n"
	"APP = {\n"
	"    '__init__': ['from benchapp import checks, models, services', '', 'VERSION = (1, 0)'],\n"
	"    'models': ['import dataclasses', '', 'import heavylib', 'from heavylib import m01', '', '',\n"
	"               '@dataclasses.dataclass', 'class Record:', '    name: str', '    size: int = 0',\n"
	"               '    tags: list = dataclasses.field(default_factory=list)', '', '',\n"
	"               'class Registry:', '    def __init__(self, catalog):',\n"
	"               '        self.catalog = catalog', '        self.items = {}', '',\n"
	"               '    def new(self, name):',\n"
	"               '        r = Record(name, len(self.items), [m01.Color01.C1.name])',\n"
	"               '        self.items[name] = r', '        return r', '',\n"
	"               '    def drop(self, r):', '        self.items.pop(r.name, None)', '',\n"
	"               '    def __len__(self):',\n"
	"               '        return len(self.items) + len(heavylib.MODULES)'],\n"
	"    'services': ['import heavylib', '', '', 'class Catalog:', '    def __init__(self, size):',\n"
	"                 '        self.size = size',\n"
	"                 '        self.values = [heavylib.total(k) for k in range(size)]', '',\n"
	"                 '    def lookup(self, k):', '        return self.values[k % self.size]'],\n"
	"    'checks': ['import re', '', \"WORD = re.compile(r'^[a-z]+[0-9]*$')\", '', '',\n"
	"               'def double(n):', '    return 2 * n', '', '', 'def valid(name):',\n"
	"               '    return bool(WORD.match(name))'],\n"
	"}\n"
	"\n"
	"CONFTEST = ['\"\"\"The suite\\'s fixtures.\"\"\"', 'import pytest', '', 'import heavylib',\n"
	"            'from benchapp import models, services', '', '',\n"
	"            '@pytest.fixture(scope=\"session\")',\n"
	"            'def catalog():', '    return services.Catalog(size=32)', '', '',\n"
	"            '@pytest.fixture(scope=\"module\")', 'def registry(catalog):',\n"
	"            '    return models.Registry(catalog)', '', '', '@pytest.fixture',\n"
	"            'def record(registry):', '    r = registry.new(\"rec\")', '    yield r',\n"
	"            '    registry.drop(r)', '', '', '@pytest.fixture', 'def table():',\n"
	"            '    return dict(list(heavylib.m02.TABLE.items())[:50])']\n"
	"\n"
	"\n"
	"def test_file(f):\n"
	"    m = f % nmods\n"
	"    tests = [\n"
	"        ('record', ['assert record.name == \"rec\" and record.size >= 0',\n"
	"                    'assert record.tags == [\"C1\"], record']),\n"
	"        ('registry', ['assert len(registry) >= len(heavylib.MODULES)',\n"
	"                      'assert \"missing\" not in registry.items']),\n"
	"        ('catalog', ['assert catalog.lookup(%d) == catalog.values[%d %% catalog.size]'\n"
	"                     % (f, f)]),\n"
	"        ('table', ['assert all(-1.0 <= v <= 1.0 for v in table.values())',\n"
	"                   'assert len(table) == 50']),\n"
	"        ('', ['assert m%02d.api(%d) == m%02d.TABLE[%d] + len(m%02d.INDEX)' % (m, f, m, f, m)]),\n"
	"        ('', ['assert checks.valid(\"name%d\")' % f, 'assert not checks.valid(\"Bad Name\")']),\n"
	"        ('', ['rec = m%02d.Rec%02d_1(a=%d)' % (m, m, f),\n"
	"              'assert rec.score() == %d * 2 + 0.5' % f]),\n"
	"        ('', ['node = m%02d.Node%02d_2()' % (m, m), 'assert node.m1(1) == (1 + 1) * 2 - 1',\n"
	"              'assert repr(node).startswith(\"<Node\")']),\n"
	"        ('record, registry', ['assert registry.items[\"rec\"] is record']),\n"
	"        ('', ['with pytest.raises(KeyError):', '    {}[\"k%d\"]' % f]),\n"
	"    ]\n"
	"    L = ['\"\"\"Generated tests, file %d.\"\"\"' % f, 'import pytest', '', 'import heavylib',\n"
	"         'from heavylib import m%02d' % m, 'from benchapp import checks', '']\n"
	"    for k, (args, body) in enumerate(tests):\n"
	"        L += ['', 'def test_f%02d_%02d(%s):' % (f, k, args)] + ['    ' + b for b in body]\n"
	"    L += ['', '', '@pytest.mark.parametrize(\"n, want\", [(1, 2), (%d, %d), (-3, -6)])'\n"
	"          % (f, 2 * f),\n"
	"          'def test_f%02d_double(n, want):' % f, '    assert checks.double(n) == want', '', '',\n"
	"          '@pytest.mark.parametrize(\"name\", [\"alpha\", \"f%02d\"])' % f,\n"
	"          'def test_f%02d_names(name):' % f, '    assert checks.valid(name), name']\n"
	"    return L\n"
	"\n"
	"\n"
	"library()\n"
	"put('suite/pytest.ini', ['[pytest]', 'testpaths = tests', 'xfail_strict = true'])\n"
	"for name, lines in APP.items():\n"
	"    put('suite/benchapp/%s.py' % name, lines)\n"
	"put('suite/conftest.py', CONFTEST)\n"
	"for f in range(nfiles):\n"
	"    put('suite/tests/test_f%02d.py' % f, test_file(f))\n";

/* The library's import, timed inside: ms, numpy's version or -, modules. */
static const char lib_py[] =
	"import time\n"
	"t = time.perf_counter()\n"
	"import heavylib\n"
	"t = time.perf_counter() - t\n"
	"np = heavylib.numpy.__version__ if heavylib.numpy else '-'\n"
	"print('%.3f %s %d' % (t * 1e3, np, len(heavylib.MODULES)))\n";

/* The in-process driver: python3 driver.py ARGS. pytest.main(ARGS) once,
 * "warm STATUS MS" on fd 4; then for each line N on fd 3, N more calls
 * and "ok MS MS..." (or "fail STATUS" at the first that fails). */
static const char driver_py[] =
	"import os, sys, time\n"
	"import pytest\n"
	"\n"
	"args = sys.argv[1:]\n"
	"cmd = os.fdopen(3, 'r')\n"
	"rep = os.fdopen(4, 'w')\n"
	"\n"
	"\n"
	"def once():\n"
	"    time.sleep(" PAUSE_STR(RERUN_PAUSE_MS) " / 1e3)\n"
	"    t = time.perf_counter()\n"
	"    rc = int(pytest.main(list(args)))\n"
	"    return (time.perf_counter() - t) * 1e3, rc\n"
	"\n"
	"\n"
	"ms, rc = once()\n"
	"rep.write('warm %d %.4f\\n' % (rc, ms))\n"
	"rep.flush()\n"
	"for line in cmd:\n"
	"    times = []\n"
	"    for _ in range(int(line)):\n"
	"        ms, rc = once()\n"
	"        if rc:\n"
	"            break\n"
	"        times.append('%.4f' % ms)\n"
	"    rep.write('fail %d\\n' % rc if rc else 'ok %s\\n' % ' '.join(times))\n"
	"    rep.flush()\n";

static int rounds(const struct options *o)
{
	return o->quick ? 3 : 7;
}

/* Runs of each row per round (<= MAX_RUNS). */
static int runs(const struct options *o, int i)
{
	if (i == R_LIB)
		return 1;
	if (ROW_K(i) == K_COLD)
		return o->quick ? 2 : 3;
	return o->quick ? 5 : 10;
}

struct tctx {
	const struct options *o;
	char dir[256];                 /* private mktemp directory, "" if none */
	char suite[300], out[300];     /* the runs' directory and output */
	char dout[2][300];             /* the drivers' output */
	char gen[300], lib[300], drv[300];   /* the scripts */
	char python[4096];             /* o->python, with its path */
	struct bench_launcher ln;      /* procwait-python */
	int devnull;
	char *strs[NSTRS];             /* the environments' own strings */
	char **env[3];                 /* by runner: K_COLD's (the drivers' too),
	                                  K_PLAIN's, K_TIER's */
	posix_spawn_file_actions_t fa; /* stdin /dev/null, stdout and stderr: out */
	int fa_ok;
	char *argv[2][NK][6];          /* each row's command line */
	char *lib_argv[3];
	pid_t pid[2];                  /* the drivers; 0: none */
	int cmd[2], rep[2];            /* their pipes; -1: none */
	double *lat[NR];               /* ms per run, pooled */
	int nlat[NR];
	double rmed[NR][MAX_ROUNDS];   /* each round's median */
};

/* ---- the environments, the project --------------------------------------------- */

static char *str(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* environ without the launcher's, the bytecode's and pytest's settings,
 * then the bench's: the NCOMMON every run has, and each launcher row's.
 * -p no:cacheprovider is in PYTEST_ADDOPTS: on the command line, a -p
 * would send the tier row to a server without the tier (README.md,
 * "Faster Python test iterations"). */
static int make_envs(struct tctx *c)
{
	static const char *const drop[] = {
		"TMPDIR=", "XDG_RUNTIME_DIR=", "PROCWAIT_IDLE=", "PROCWAIT_PRELOAD=",
		"PROCWAIT_PYTHON=", "PROCWAIT_DISABLE=", "PROCWAIT_PYTEST=", "PYTHONPATH=",
		"PYTHONPYCACHEPREFIX=", "PYTHONDONTWRITEBYTECODE=", "PYTEST_ADDOPTS=", NULL,
	};
	const char *pp = getenv("PYTHONPATH");
	char *add[NCOMMON + 3];
	int i;

	c->strs[0] = str("TMPDIR=%s", c->dir);
	c->strs[1] = str("PROCWAIT_IDLE=%s", LAUNCHER_IDLE);
	c->strs[2] = str("PROCWAIT_PYTHON=%s", c->python);
	c->strs[3] = str("PYTHONPATH=%s/site%s%s", c->dir, pp && *pp ? ":" : "", pp ? pp : "");
	c->strs[4] = str("PYTHONPYCACHEPREFIX=%s/pycache", c->dir);
	c->strs[5] = str("PYTEST_ADDOPTS=%s", PYTEST_OPTS);
	c->strs[NCOMMON] = str("PROCWAIT_PRELOAD=%s", "heavylib,pytest");
	c->strs[NCOMMON + 1] = str("PROCWAIT_PYTEST=%s", "0");
	c->strs[NCOMMON + 2] = str("PROCWAIT_PRELOAD=%s", "heavylib");
	for (i = 0; i < NSTRS; i++)
		if (!c->strs[i])
			return -1;
	memcpy(add, c->strs, NCOMMON * sizeof(add[0]));
	add[NCOMMON] = NULL;
	c->env[K_COLD] = bench_env(drop, add);
	add[NCOMMON] = c->strs[NCOMMON];
	add[NCOMMON + 1] = c->strs[NCOMMON + 1];
	add[NCOMMON + 2] = NULL;
	c->env[K_PLAIN] = bench_env(drop, add);
	add[NCOMMON] = c->strs[NCOMMON + 2];
	add[NCOMMON + 1] = NULL;
	c->env[K_TIER] = bench_env(drop, add);
	return c->env[K_COLD] && c->env[K_PLAIN] && c->env[K_TIER] ? 0 : -1;
}

/* The scripts, then the library and the suite from gen.py. */
static int generate(struct tctx *c, char *err, size_t esize)
{
	char mods[16], weight[16], files[16];
	char *argv[] = { c->python, c->gen, c->dir, mods, weight, files, NULL };
	int rc;

	snprintf(c->gen, sizeof(c->gen), "%s/gen.py", c->dir);
	snprintf(c->lib, sizeof(c->lib), "%s/lib.py", c->dir);
	snprintf(c->drv, sizeof(c->drv), "%s/driver.py", c->dir);
	snprintf(c->suite, sizeof(c->suite), "%s/suite", c->dir);
	snprintf(c->out, sizeof(c->out), "%s/run.out", c->dir);
	snprintf(c->dout[0], sizeof(c->dout[0]), "%s/driver-test.out", c->dir);
	snprintf(c->dout[1], sizeof(c->dout[1]), "%s/driver-file.out", c->dir);
	snprintf(mods, sizeof(mods), "%d", LIB_MODULES);
	snprintf(weight, sizeof(weight), "%d", LIB_WEIGHT);
	snprintf(files, sizeof(files), "%d", SUITE_FILES);
	if (bench_write_file(c->gen, gen_py) < 0 || bench_write_file(c->lib, lib_py) < 0 ||
	    bench_write_file(c->drv, driver_py) < 0) {
		snprintf(err, esize, "cannot write the scripts in %.60s: %s", c->dir, strerror(errno));
		return -1;
	}
	rc = bench_capture(c->devnull, argv, c->env[0], 1, NULL, 0);
	if (rc != 0) {
		snprintf(err, esize, "generating the suite: %.60s gen.py exited with status %d",
		         c->python, rc);
		return -1;
	}
	return 0;
}

/* ---- the runs ---------------------------------------------------------------- */

/* One line of fd into buf (its '\n' removed), within DRIVER_WAIT_S. 0, or
 * -1 at its end or after the wait. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size - 1) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int r = poll(&pf, 1, DRIVER_WAIT_S * 1000);
		ssize_t k;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		k = read(fd, buf + got, size - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
		if (buf[got - 1] == '\n')
			break;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Why a driver failed: what it said, and the last line of its output. */
static void driver_why(struct tctx *c, int id, const char *what, char *err, size_t esize)
{
	char last[120];

	bench_last_line(c->dout[id], last, sizeof(last));
	snprintf(err, esize, "the in-process run: %.28s%s%.100s", what, last[0] ? "; " : "",
	         last);
}

/* The driver of ID id, its pytest.main() called once (the warm-up). */
static int start_driver(struct tctx *c, int id, char *err, size_t esize)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { c->python, c->drv, "-q", (char *)id_arg[id], NULL };
	char line[256];
	int cp[2], rp[2], in, out, r, rc;

	if (pipe2(cp, O_CLOEXEC) < 0) {
		snprintf(err, esize, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(rp, O_CLOEXEC) < 0) {
		snprintf(err, esize, "pipe: %s", strerror(errno));
		close(cp[0]);
		close(cp[1]);
		return -1;
	}
	c->cmd[id] = cp[1];
	c->rep[id] = rp[0];
	/* the driver's ends above 4, so that neither dup2 clobbers the other's */
	in = fcntl(cp[0], F_DUPFD_CLOEXEC, 5);
	out = fcntl(rp[1], F_DUPFD_CLOEXEC, 5);
	close(cp[0]);
	close(rp[1]);
	if (in < 0 || out < 0) {
		snprintf(err, esize, "fcntl F_DUPFD: %s", strerror(errno));
		r = -1;
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, c->dout[id], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_adddup2(&fa, in, 3);
	posix_spawn_file_actions_adddup2(&fa, out, 4);
	r = posix_spawn(&c->pid[id], argv[0], &fa, NULL, argv, c->env[0]);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		snprintf(err, esize, "posix_spawn %.100s: %s", argv[0], strerror(r));
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (r != 0) {
		c->pid[id] = 0;
		return -1;
	}
	if (read_line(c->rep[id], line, sizeof(line)) < 0) {
		driver_why(c, id, "no answer", err, esize);
		return -1;
	}
	if (sscanf(line, "warm %d", &rc) != 1 || rc != 0) {
		driver_why(c, id, line, err, esize);
		return -1;
	}
	return 0;
}

/* n more calls of the driver of ID id: their ms into lat. */
static int batch_inproc(struct tctx *c, int id, int n, double *lat, char *err, size_t esize)
{
	char line[64 + MAX_RUNS * 24], *p, *end;
	void (*pipe_was)(int);
	int i, r;

	/* a driver that died is a failed row, not a SIGPIPE of the worker */
	pipe_was = signal(SIGPIPE, SIG_IGN);
	r = dprintf(c->cmd[id], "%d\n", n);
	signal(SIGPIPE, pipe_was);
	if (r < 0 || read_line(c->rep[id], line, sizeof(line)) < 0) {
		driver_why(c, id, "no answer", err, esize);
		return -1;
	}
	if (strncmp(line, "ok ", 3) != 0) {
		driver_why(c, id, line, err, esize);
		return -1;
	}
	for (p = line + 3, i = 0; i < n; i++, p = end) {
		lat[i] = strtod(p, &end);
		if (end == p || !(lat[i] > 0)) {
			driver_why(c, id, "a line without n times", err, esize);
			return -1;
		}
	}
	return 0;
}

/* The library imported in a fresh interpreter: ms, numpy's version (or
 * "-") and the number of modules. */
static int run_lib(struct tctx *c, double *ms, char np[24], int *mods, char *err, size_t esize)
{
	char out[256];
	int rc;

	rc = bench_capture(c->devnull, c->lib_argv, c->env[0], 1, out, sizeof(out));
	if (rc != 0 || sscanf(out, "%lf %23s %d", ms, np, mods) != 3 || !(*ms > 0)) {
		snprintf(err, esize, "python3 lib.py (import heavylib) exited with status %d: "
		         "'%.40s'", rc, out);
		return -1;
	}
	return 0;
}

static int batch_lib(struct tctx *c, int n, double *lat, char *err, size_t esize)
{
	char np[24];
	int i, mods;

	for (i = 0; i < n; i++)
		if (run_lib(c, &lat[i], np, &mods, err, esize) < 0)
			return -1;
	return 0;
}

static int batch(struct tctx *c, int i, int n, double *lat, char *err, size_t esize)
{
	int id = ROW_ID(i), k = ROW_K(i);
	char last[120];

	if (i == R_LIB)
		return batch_lib(c, n, lat, err, esize);
	if (k == K_INPROC)
		return batch_inproc(c, id, n, lat, err, esize);
	if (k == K_COLD) {
		if (bench_spawn_runs(c->argv[id][k], c->env[k], &c->fa, n, lat, err, esize) == 0)
			return 0;
	} else {
		struct timespec pause = { 0, RERUN_PAUSE_MS * 1000000L };
		int j;

		for (j = 0; j < n; j++) {
			nanosleep(&pause, NULL);
			if (bench_spawn_runs(c->argv[id][k], c->env[k], &c->fa, 1, lat + j, err,
			                     esize) < 0)
				break;
		}
		if (j == n)
			return 0;
	}
	bench_last_line(c->out, last, sizeof(last));
	if (last[0])
		snprintf(err + strlen(err), esize - strlen(err), "; %.100s", last);
	return -1;
}

/* ---- the worker --------------------------------------------------------------- */

/* The command lines, the runs' file actions, the rows' descriptions. */
static int commands(struct tctx *c, struct row *rows, const char *pytest)
{
	int id, k;

	for (id = 0; id < 2; id++) {
		for (k = K_COLD; k <= K_TIER; k++) {
			char **a = c->argv[id][k];

			a[0] = k == K_COLD ? c->python : c->ln.path;
			a[1] = "-m";
			a[2] = "pytest";
			a[3] = "-q";
			a[4] = (char *)id_arg[id];
			a[5] = NULL;
		}
		snprintf(rows[ROW(id, K_COLD)].impl, sizeof(rows[0].impl),
		         "python3 -m pytest, pytest %.20s", pytest);
		snprintf(rows[ROW(id, K_PLAIN)].impl, sizeof(rows[0].impl),
		         "no tier, preload heavylib,pytest%.26s", c->ln.note);
		snprintf(rows[ROW(id, K_TIER)].impl, sizeof(rows[0].impl),
		         "pytest tier, preload heavylib%.26s", c->ln.note);
		snprintf(rows[ROW(id, K_INPROC)].impl, sizeof(rows[0].impl),
		         "pytest.main() again in one process, timed inside");
	}
	c->lib_argv[0] = c->python;
	c->lib_argv[1] = c->lib;
	c->lib_argv[2] = NULL;
	if (posix_spawn_file_actions_init(&c->fa) != 0)
		return -1;
	c->fa_ok = 1;
	posix_spawn_file_actions_addopen(&c->fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&c->fa, 1, c->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&c->fa, 1, 2);
	return 0;
}

/* The interpreter, the directory, the project, pytest, the launcher:
 * ok[i] for the rows that can run. The worker runs in the suite. */
static void setup(struct tctx *c, struct row *rows, int *ok)
{
	char err[160], pytest[64], *tmp;
	char *probe[] = { c->python, "-c", "import pytest; print(pytest.__version__)", NULL };

	if (bench_which(c->o->python, c->python, sizeof(c->python)) < 0) {
		snprintf(err, sizeof(err), "no usable python3 (%.60s); apt-get install python3",
		         c->o->python);
		rows_why(rows, ok, 0, NR - 1, err);
		return;
	}
	tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 50)
		tmp = "/tmp";
	snprintf(c->dir, sizeof(c->dir), "%s/procwait-bench-XXXXXX", tmp);
	if (!mkdtemp(c->dir)) {
		snprintf(err, sizeof(err), "mkdtemp %.60s: %s", c->dir, strerror(errno));
		c->dir[0] = '\0';
		rows_why(rows, ok, 0, NR - 1, err);
		return;
	}
	if (make_envs(c) < 0) {
		rows_why(rows, ok, 0, NR - 1, "out of memory");
		return;
	}
	if (generate(c, err, sizeof(err)) < 0) {
		rows_why(rows, ok, 0, NR - 1, err);
		return;
	}
	if (chdir(c->suite) < 0) {
		snprintf(err, sizeof(err), "chdir %.60s: %s", c->suite, strerror(errno));
		rows_why(rows, ok, 0, NR - 1, err);
		return;
	}
	if (bench_capture(c->devnull, probe, c->env[0], 1, pytest, sizeof(pytest)) != 0 ||
	    !pytest[0]) {
		snprintf(err, sizeof(err), "pytest does not import in %.60s (apt-get install "
		         "python3-pytest)", c->python);
		rows_why(rows, ok, 1, NR - 1, err);
	}
	pytest[strcspn(pytest, "\n")] = '\0';
	if (bench_find_launcher(c->o, c->python, c->devnull, &c->ln, err, sizeof(err)) < 0) {
		rows_why(rows, ok, ROW(0, K_PLAIN), ROW(0, K_TIER), err);
		rows_why(rows, ok, ROW(1, K_PLAIN), ROW(1, K_TIER), err);
	}
	if (commands(c, rows, pytest) < 0)
		rows_why(rows, ok, 0, NR - 1, "posix_spawn_file_actions_init failed");
}

/* The first, untimed runs: bytecode written, servers started and warm,
 * the drivers' first pytest.main() done. */
static void warm_up(struct tctx *c, struct row *rows, int *ok)
{
	char err[160], np[24];
	double lat;
	int i, r, mods;

	for (i = 0; i < NR; i++) {
		if (!ok[i])
			continue;
		if (i == R_LIB)
			r = run_lib(c, &lat, np, &mods, err, sizeof(err));
		else if (ROW_K(i) == K_INPROC)
			r = start_driver(c, ROW_ID(i), err, sizeof(err));
		else
			r = batch(c, i, 1, &lat, err, sizeof(err));
		if (r < 0) {
			row_why(&rows[i], "%s", err);
			ok[i] = 0;
		} else if (i == R_LIB) {
			snprintf(rows[i].impl, sizeof(rows[i].impl), "import heavylib: %d modules%s%.12s, "
			         ".pyc cached", mods, strcmp(np, "-") ? " + numpy " : ", no numpy",
			         strcmp(np, "-") ? np : "");
		}
	}
}

static void teardown(struct tctx *c)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (c->cmd[i] >= 0)
			close(c->cmd[i]);   /* the driver's end of input: it exits */
		if (c->rep[i] >= 0)
			close(c->rep[i]);
	}
	bench_kill_dir_processes(c->dir);
	for (i = 0; i < 2; i++)
		if (c->pid[i] > 0)
			while (waitpid(c->pid[i], NULL, 0) < 0 && errno == EINTR)
				;
	if (chdir("/") == 0 && c->dir[0])
		bench_remove_dir(c->dir, REMOVE_LEVELS);
	for (i = 0; i < NR; i++)
		free(c->lat[i]);
	for (i = 0; i < 3; i++)
		free(c->env[i]);
	for (i = 0; i < NSTRS; i++)
		free(c->strs[i]);
	if (c->fa_ok)
		posix_spawn_file_actions_destroy(&c->fa);
	close(c->devnull);
}

/* The rows' figures from the rounds. */
static void figures(struct tctx *c, struct row *rows, const int *ok, int nr)
{
	double v[MAX_ROUNDS];
	int i, k;

	for (i = 0; i < NR; i++) {
		int ref, cold;

		rows[i].ratio = rows[i].speedup = rows[i].overhead_ms = -1;
		rows[i].overhead_rounds_ms = -1;
		if (!ok[i])
			continue;
		rows[i].ms_p50 = percentile(c->lat[i], c->nlat[i], 50);
		rows[i].ms_p99 = percentile(c->lat[i], c->nlat[i], 99);
		if (i == R_LIB)
			continue;
		ref = ROW(ROW_ID(i), K_INPROC);
		cold = ROW(ROW_ID(i), K_COLD);
		if (ok[ref]) {
			for (k = 0; k < nr; k++)
				v[k] = c->rmed[i][k] / c->rmed[ref][k];
			rows[i].ratio = median(v, nr);
		}
		if (ok[cold] && i != cold) {
			for (k = 0; k < nr; k++)
				v[k] = c->rmed[cold][k] / c->rmed[i][k];
			rows[i].speedup = median(v, nr);
		}
	}
}

static void w_pytest(const struct options *o, struct row *rows, int nrows)
{
	static struct tctx c;
	char err[160];
	int ok[NR], i, j, k, nr = rounds(o);

	(void)nrows;
	bench_cloexec_all();
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.cmd[0] = c.cmd[1] = c.rep[0] = c.rep[1] = -1;
	for (i = 0; i < NR; i++)
		ok[i] = 1;
	c.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c.devnull < 0) {
		rows_why(rows, ok, 0, NR - 1, "cannot open /dev/null");
		return;
	}
	setup(&c, rows, ok);
	for (i = 0; i < NR; i++) {
		c.lat[i] = calloc((size_t)(runs(o, i) * nr), sizeof(double));
		if (!c.lat[i])
			rows_why(rows, ok, i, i, "out of memory");
	}
	warm_up(&c, rows, ok);
	for (k = 0; k < nr; k++)
		for (j = 0; j < NR; j++) {
			double *lat, tmp[MAX_RUNS];
			int n;

			i = (j + k) % NR;
			if (!ok[i])
				continue;
			n = runs(o, i);
			lat = c.lat[i] + c.nlat[i];
			if (batch(&c, i, n, lat, err, sizeof(err)) < 0) {
				row_why(&rows[i], "%s", err);
				ok[i] = 0;
				continue;
			}
			memcpy(tmp, lat, (size_t)n * sizeof(tmp[0]));
			c.rmed[i][k] = median(tmp, n);
			c.nlat[i] += n;
		}
	figures(&c, rows, ok, nr);
	teardown(&c);
}

static const char *row_name(int i, char *buf, size_t size)
{
	if (i == R_LIB)
		snprintf(buf, size, "heavylib-import");
	else
		snprintf(buf, size, "%s-%s", k_name[ROW_K(i)], id_name[ROW_ID(i)]);
	return buf;
}

void section_pytest(const struct options *o, struct rows *out, char *title, size_t size)
{
	struct row rows[NR];
	int i;

	memset(rows, 0, sizeof(rows));
	for (i = 0; i < NR; i++) {
		rows[i].kind = ROW_PYPRELOAD;
		rows[i].n = i == R_LIB ? 6 : 4 + ROW_ID(i);
		row_name(i, rows[i].name, sizeof(rows[i].name));
	}
	snprintf(title, size,
	         "pytest: one test (%s) and one file (15 tests) of a generated %d-test suite "
	         "re-run, `-m pytest -q ID` with PYTEST_ADDOPTS='%s'; %d interleaved rounds of "
	         "%d cold and %d other runs, each of those after a %d ms pause; ratio: time over "
	         "pytest-inproc, speedup: pytest-cold's time over the row's, paired by round",
	         ONE_TEST, 15 * SUITE_FILES, PYTEST_OPTS, rounds(o), runs(o, ROW(0, K_COLD)),
	         runs(o, ROW(0, K_TIER)), RERUN_PAUSE_MS);
	run_rows_in_worker(getenv("PROCWAIT_BACKEND"), w_pytest, o, rows, NR);
	for (i = 0; i < NR; i++) {
		struct row *r = rows_add(out, ROW_PYPRELOAD, rows[i].name);

		*r = rows[i];
		r->met = -1;
		if (r->missing[0])
			r->ratio = r->speedup = r->overhead_ms = r->overhead_rounds_ms = -1;
		if (i == R_LIB) {
			snprintf(r->target, sizeof(r->target), ">= %.0f ms", PYTEST_LIB_MIN_IMPORT_MS);
			r->met = r->missing[0] ? -1 : r->ms_p50 >= PYTEST_LIB_MIN_IMPORT_MS;
		} else if (ROW_K(i) == K_TIER && ROW_ID(i) == 0) {
			snprintf(r->target, sizeof(r->target), "<=%.1fx, >=%.0fx",
			         PYTEST_TIER_MAX_RATIO, PYTEST_TIER_MIN_SPEEDUP);
			r->met = r->ratio < 0 || r->speedup < 0 ? -1 :
			         r->ratio <= PYTEST_TIER_MAX_RATIO &&
			         r->speedup >= PYTEST_TIER_MIN_SPEEDUP;
		} else if (ROW_K(i) == K_TIER) {
			snprintf(r->target, sizeof(r->target), "<=%.1fx", PYTEST_TIER_MAX_RATIO);
			r->met = r->ratio < 0 ? -1 : r->ratio <= PYTEST_TIER_MAX_RATIO;
		}
	}
}

static const struct row *find_row(const struct rows *r, int i)
{
	char name[40];
	int k;

	row_name(i, name, sizeof(name));
	for (k = 0; k < r->n; k++)
		if (!strcmp(r->v[k].name, name))
			return &r->v[k];
	return NULL;
}

/* The target lines of ID id: the speedup over cold is one test's target
 * (a re-run after an edit); for the file it is told, not judged. */
static void tier_summary(const struct rows *r, int id)
{
	const struct row *cold = find_row(r, ROW(id, K_COLD)), *tier = find_row(r, ROW(id, K_TIER));
	const struct row *in = find_row(r, ROW(id, K_INPROC));

	if (!cold || !tier || !in)
		return;
	printf("target: pytest-tier-%s within %.1fx of pytest-inproc-%s, same rounds: ",
	       id_name[id], PYTEST_TIER_MAX_RATIO, id_name[id]);
	if (tier->ratio > 0)
		printf("%.2fx, %.2f against %.2f ms (%s)\n", tier->ratio, tier->ms_p50, in->ms_p50,
		       tier->ratio <= PYTEST_TIER_MAX_RATIO ? "met" : "NOT met");
	else
		printf("not measured (%s)\n", tier->missing[0] ? tier->missing : in->missing);
	if (id != 0) {
		if (tier->speedup > 0 && in->speedup > 0)
			printf("pytest-tier-%s is %.1fx faster than pytest-cold-%s (no target; "
			       "pytest-inproc-%s: %.1fx)\n", id_name[id], tier->speedup, id_name[id],
			       id_name[id], in->speedup);
		return;
	}
	printf("target: pytest-tier-%s >= %.0fx faster than pytest-cold-%s, same rounds: ",
	       id_name[id], PYTEST_TIER_MIN_SPEEDUP, id_name[id]);
	if (tier->speedup > 0)
		printf("%.1fx, %.2f against %.2f ms (%s)\n", tier->speedup, tier->ms_p50,
		       cold->ms_p50, tier->speedup >= PYTEST_TIER_MIN_SPEEDUP ? "met" : "NOT met");
	else
		printf("not measured (%s)\n", tier->missing[0] ? tier->missing : cold->missing);
}

void pytest_summary(const struct rows *r)
{
	const struct row *lib = find_row(r, R_LIB);

	if (!lib)
		return;
	printf("the suite's premise: heavylib's cold import >= %.0f ms: ", PYTEST_LIB_MIN_IMPORT_MS);
	if (lib->missing[0])
		printf("not measured (%s)\n", lib->missing);
	else
		printf("%.0f ms median (%s)\n", lib->ms_p50, lib->met ? "holds" : "does NOT hold");
	tier_summary(r, 0);
	tier_summary(r, 1);
}
