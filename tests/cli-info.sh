#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/cli-info.sh: `procwait info [--json] PID...`, end to end.
#
# The JSON is read back with python3 and compared with what the test knows
# about the processes it started. Needs PROCWAIT_TOOL; skips (77) without
# python3, which it needs to parse JSON and to stage renamed processes.

set -u

if [ -z "${PROCWAIT_TOOL:-}" ] || [ ! -x "$PROCWAIT_TOOL" ]; then
	echo "cli-info: PROCWAIT_TOOL is not set to an executable" >&2
	exit 99
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is not installed (apt-get install python3)"
	exit 77
fi
T=$PROCWAIT_TOOL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/procwait-info.XXXXXX") || exit 99
bg=
cleanup()
{
	for p in $bg; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

npass=0 nfail=0
begin() { name=$1; bad=0; echo "-- $name"; }
fail() { bad=1; echo "FAIL: $name: $*"; }
end()
{
	if [ "$bad" -eq 0 ]; then npass=$((npass + 1)); echo "ok: $name"
	else nfail=$((nfail + 1)); fi
}
run() { "$T" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"; rc=$?; }
show() { sed 's/^/    | /' "$1"; }
expect_rc() { [ "$rc" -eq "$1" ] || { fail "exit status $rc, want $1"; show "$tmp/err"; }; }
expect_err_has() { grep -Fq -- "$1" "$tmp/err" || { fail "stderr lacks '$1':"; show "$tmp/err"; }; }
expect_out_empty() { [ ! -s "$tmp/out" ] || { fail "stdout not empty:"; show "$tmp/out"; }; }
# pycheck 'PYTHON': run the code with `objs` = the JSON objects of stdout
# (one per line) and `env` = os.environ; an AssertionError fails the test.
pycheck()
{
	if ! python3 - "$tmp/out" >"$tmp/py" 2>&1 <<EOF
import json, os, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
objs = [json.loads(l) for l in lines]
env = os.environ
$1
EOF
	then
		fail "JSON check failed:"; show "$tmp/py"; echo "  stdout:"; show "$tmp/out"
	fi
}
KEYS='["pid","name","exe","cmdline","cwd","ppid","status","cpu_times","create_time","terminal","num_threads","nice","memory_info","num_ctx_switches","uids","gids"]'

# A python3 child that renames itself (prctl PR_SET_NAME) and sleeps.
# Writes its pid to $tmp/ready once renamed.
renamed()
{
	rm -f "$tmp/ready"
	python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(15, sys.argv[1].encode()) == 0
open(sys.argv[2] + ".tmp", "w").write(str(os.getpid()))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
time.sleep(60)' "$1" "$tmp/ready" &
	rp=$!
	bg="$bg $rp"
	i=0
	while [ ! -s "$tmp/ready" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
}

# ---- JSON ---------------------------------------------------------------------

begin "--json: a sleeping child, field by field"
(cd "$tmp" && exec sleep 30) &
s=$!
bg="$bg $s"
sleep 0.2
run info --json "$s"
expect_rc 0
PW_PID=$s PW_PPID=$$ PW_CWD=$(cd "$tmp" && pwd -P) PW_EXE=$(readlink -f "$(command -v sleep)") \
PW_UID=$(id -u) PW_GID=$(id -g) pycheck "
assert len(objs) == 1, objs
o = objs[0]
assert list(o) == $KEYS, list(o)
assert o['pid'] == int(env['PW_PID'])
assert o['name'] == 'sleep', o['name']
assert o['exe'] == env['PW_EXE'], o['exe']
assert o['cmdline'] == ['sleep', '30'], o['cmdline']
assert o['cwd'] == env['PW_CWD'], o['cwd']
assert o['ppid'] == int(env['PW_PPID']), o['ppid']
assert o['status'] == 'sleeping', o['status']
assert list(o['cpu_times']) == ['user','system','children_user','children_system','iowait']
assert all(v is None or (isinstance(v, float) and v >= 0) for v in o['cpu_times'].values())
import time
assert abs(o['create_time'] - time.time()) < 30, o['create_time']
assert o['terminal'] is None or o['terminal'].startswith('/dev/'), o['terminal']
assert o['num_threads'] == 1 and o['nice'] == 0
assert list(o['memory_info']) == ['rss','vms','shared','text','data']
assert 0 < o['memory_info']['rss'] <= o['memory_info']['vms']
assert list(o['num_ctx_switches']) == ['voluntary','involuntary']
assert o['uids'] == {'real': int(env['PW_UID']), 'effective': int(env['PW_UID']), 'saved': int(env['PW_UID'])}
assert o['gids']['real'] == int(env['PW_GID'])
"
end

begin "--json: create_time is psutil's, to the last bit, for every process"
# (the python3 on PATH may be a build without psutil: try the system's too)
pspy=
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import psutil' >/dev/null 2>&1; then pspy=$py; break; fi
done
if [ -n "$pspy" ]; then
	# shellcheck disable=SC2046 # one argument per pid
	run info --json $(ls /proc | grep -E '^[0-9]+$')
	# (processes that exit meanwhile are reported on stderr; rc may be 1)
	if ! "$pspy" - "$tmp/out" >"$tmp/py" 2>&1 <<'EOF'
import json, sys
import psutil
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    try:
        want = psutil.Process(o["pid"]).create_time()
    except psutil.NoSuchProcess:
        continue
    assert o["create_time"] == want, (o["pid"], o["create_time"], want)
    n += 1
assert n >= 3, n
EOF
	then
		fail "create_time differs from psutil's:"; show "$tmp/py"
	fi
else
	echo "note: no python3 with psutil here (apt-get install python3-psutil); not compared"
fi
end

begin "--json: one object per line, in the order given"
run info --json "$s" 1 "$s"
expect_rc 0
PW_PID=$s pycheck "
assert [o['pid'] for o in objs] == [int(env['PW_PID']), 1, int(env['PW_PID'])]
assert all(list(o) == $KEYS for o in objs)
"
end

begin "--json: names with ')', a newline, and parentheses"
for n in 'a) b' 'x
y' '((sd-pam))'; do
	renamed "$n"
	run info --json "$rp"
	expect_rc 0
	PW_NAME=$n PW_PPID=$$ pycheck "
o = objs[0]
assert o['name'] == env['PW_NAME'], repr(o['name'])
assert o['ppid'] == int(env['PW_PPID']), o['ppid']
assert o['status'] == 'sleeping', o['status']
"
	kill "$rp"; wait "$rp" 2>/dev/null
done
end

begin "--json: a name over 15 bytes, as psutil extends it from cmdline[0]"
long=averyveryverylongprogramname
cp "$(command -v sleep)" "$tmp/$long"
"$tmp/$long" 30 &
lp=$!
bg="$bg $lp"
sleep 0.2
run info --json "$lp"
expect_rc 0
PW_LONG=$long pycheck "
o = objs[0]
assert o['name'] == env['PW_LONG'], o['name']
assert o['cmdline'][0].endswith('/' + env['PW_LONG'])
"
kill "$lp"; wait "$lp" 2>/dev/null
end

begin "--json: a zombie has no exe or cwd, and an empty cmdline"
rm -f "$tmp/zpid"
python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
open(sys.argv[1], "w").write(str(pid))
time.sleep(60)' "$tmp/zpid" &
zp=$!
bg="$bg $zp"
i=0
while [ ! -s "$tmp/zpid" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
z=$(cat "$tmp/zpid")
sleep 0.1
run info --json "$z"
expect_rc 0
pycheck "
o = objs[0]
assert o['status'] == 'zombie', o['status']
assert o['exe'] is None and o['cwd'] is None, (o['exe'], o['cwd'])
assert o['cmdline'] == [], o['cmdline']
assert o['name'] == 'python3', o['name']
"
kill "$zp"; wait "$zp" 2>/dev/null
end

if grep -q '(kthreadd)' /proc/2/stat 2>/dev/null; then
	begin "--json: pid 2, a kernel thread"
	run info --json 2
	expect_rc 0
	pycheck "
o = objs[0]
assert o['name'] == 'kthreadd' and o['ppid'] == 0
# psutil's: '' when readlink says ENOENT (root), else AccessDenied: null
try:
    os.readlink('/proc/2/exe')
    want_exe = 'unexpected: a kernel thread has an exe'
except FileNotFoundError:
    want_exe = ''
except PermissionError:
    want_exe = None
assert o['exe'] == want_exe and o['cmdline'] == [], (o['exe'], o['cmdline'])
"
	end
else
	echo "note: pid 2 is not kthreadd here (a container?): kernel thread case not run"
fi

# ---- text -------------------------------------------------------------------

begin "text: one block per pid, psutil's keys in order"
run info "$s" "$s"
expect_rc 0
keys=$(sed -n 's/^\([a-z_]*\):.*/\1/p' "$tmp/out" | head -n 16 | tr '\n' ' ')
[ "$keys" = "pid name exe cmdline cwd ppid status cpu_times create_time terminal num_threads nice memory_info num_ctx_switches uids gids " ] ||
	fail "keys: $keys"
[ "$(grep -c '^pid: ' "$tmp/out")" -eq 2 ] || fail "want two blocks"
grep -qx '' "$tmp/out" || fail "blocks are not separated by a blank line"
grep -qx "pid: $s" "$tmp/out" || fail "no 'pid: $s'"
grep -qx "name: sleep" "$tmp/out" || fail "no 'name: sleep'"
grep -qx "cmdline: sleep 30" "$tmp/out" || fail "no 'cmdline: sleep 30'"
grep -qx "status: sleeping" "$tmp/out" || fail "no 'status: sleeping'"
end

begin "text: a newline in a name is escaped"
renamed 'x
y'
run info "$rp"
expect_rc 0
grep -qx 'name: x\\ny' "$tmp/out" || { fail "name line:"; show "$tmp/out"; }
kill "$rp"; wait "$rp" 2>/dev/null
end

# ---- errors -------------------------------------------------------------------

begin "no PID, bad options"
run info
expect_rc 2
expect_err_has "no PID given"
run info --frobnicate "$s"
expect_rc 2
expect_err_has "unknown option '--frobnicate'"
expect_out_empty
run info --help
expect_rc 0
grep -q '^Usage: .* info \[--json\] PID\.\.\.' "$tmp/out" || fail "--help shows no usage"
end

begin "malformed PIDs: exit 2 before printing anything"
for arg in abc 0 12x '' 99999999999; do
	run info "$s" "$arg"
	expect_rc 2
	expect_err_has "invalid PID"
	expect_out_empty
done
run info -5
expect_rc 2
expect_out_empty
end

begin "a nonexistent PID: a clear error, exit 2, the others still shown"
sleep 0 &
gone=$!
wait "$gone"
run info --json "$gone"
expect_rc 2
expect_err_has "no such process: $gone"
expect_out_empty
run info --json "$s" "$gone"
expect_rc 2
expect_err_has "no such process: $gone"
PW_PID=$s pycheck "assert [o['pid'] for o in objs] == [int(env['PW_PID'])]"
pid_max=$(cat /proc/sys/kernel/pid_max)
run info $((pid_max + 1))
expect_rc 2
expect_err_has "no such process"
end

begin "a write error is a failure"
if [ -w /dev/full ]; then
	"$T" info "$s" >/dev/full 2>"$tmp/err"
	rc=$?
	expect_rc 1
	expect_err_has "write error"
else
	echo "note: no /dev/full here"
fi
end

echo "cli-info: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
