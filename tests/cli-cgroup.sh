#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/cli-cgroup.sh: nothing of a run outlives a SIGKILLed `procwait serve`.
#
# A run through procwait-run starts a daemon the usual way (fork, setsid,
# fork: out of the run's process group and session, reparented to init),
# then the server is killed with SIGKILL. procwait-run, which outlives it,
# must kill the run's cgroup: the daemon is gone, and no cgroup directory
# of the server's is left. A server that cannot create cgroups (another
# user, here "nobody") must say so in its log and still run requests,
# stopping them by process group.
#
# Needs PROCWAIT_TOOL and PROCWAIT_RUN (see tests/cli-run.sh).
# Exit status: 0 passed, 1 failed, 77 skipped (runs get no cgroup here:
# the server's reason is printed), 99 hard error.

set -u

for v in PROCWAIT_TOOL PROCWAIT_RUN; do
	eval "p=\${$v:-}"
	if [ -z "$p" ] || [ ! -x "$p" ]; then
		echo "cli-cgroup: $v is not set to an executable (got '$p')" >&2
		exit 99
	fi
done
T=$PROCWAIT_TOOL
R=$PROCWAIT_RUN

tmp=$(mktemp -d "${TMPDIR:-/tmp}/procwait-cg.XXXXXX") || exit 99
chmod 755 "$tmp" || exit 99
XDG_RUNTIME_DIR=$tmp/xdg
export XDG_RUNTIME_DIR
mkdir -m 700 "$XDG_RUNTIME_DIR" || exit 99

pids=
cleanup()
{
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
	[ -s "$tmp/daemon.pid" ] && kill -KILL "$(cat "$tmp/daemon.pid")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

nfail=0
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
show() { sed 's/^/    | /' "$1"; }


# wait_for COMMAND...: COMMAND succeeds within 10 s (tried every 0.1 s).
wait_for()
{
	i=0
	while [ $i -lt 100 ] && ! "$@" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	"$@" 2>/dev/null
}

# wait_log FILE: the server logging to FILE has said whether its runs get
# cgroups (it listens a moment before it says it).
wait_log() { wait_for grep -q "cgroup" "$1"; }

# exited PID: the process is gone, or a zombie (init reaps it).
exited()
{
	case $(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) in
	''|Z|X) return 0 ;;
	esac
	return 1
}
gone() { wait_for exited "$1"; }

# The run: a daemon that writes its pid and its cgroup, then sleeps; the
# leader sleeps too.
cat >"$tmp/run.sh" <<EOF
#!/bin/sh
( setsid sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo \$! >"$tmp/daemon.tmp"; grep "^0::" /proc/self/cgroup >"$tmp/cgroup"; mv "$tmp/daemon.tmp" "$tmp/daemon.pid"' & )
exec sleep 300
EOF
chmod 755 "$tmp/run.sh"

# ---- 1. the server is SIGKILLed while the run's daemon lives ----------------------

sock=$tmp/xdg/s.sock
"$T" serve -v -s "$sock" 2>"$tmp/serve.log" &
srv=$!
pids="$pids $srv"
wait_for test -S "$sock" || { echo "cli-cgroup: the server did not start:"; show "$tmp/serve.log"; exit 99; }
wait_log "$tmp/serve.log"
if grep -q "runs get no cgroup of their own" "$tmp/serve.log"; then
	echo "cli-cgroup: skipped: $(grep 'runs get no cgroup' "$tmp/serve.log")"
	exit 77
fi
base=$(sed -n 's/.*each run gets a cgroup under \(.*\)$/\1/p' "$tmp/serve.log")
echo "-- the server's runs go under $base"
[ -n "$base" ] && [ -d "$base" ] || fail "the server's log names no cgroup directory"

"$R" -s "$sock" "$tmp/run.sh" >"$tmp/run.out" 2>"$tmp/run.err" &
client=$!
pids="$pids $client"
wait_for test -s "$tmp/daemon.pid" || { fail "the run's daemon did not start"; show "$tmp/run.err"; }
daemon=$(cat "$tmp/daemon.pid")
echo "-- daemon $daemon in $(cat "$tmp/cgroup")"
grep -q "/procwait-$srv-[0-9]*/run-" "$tmp/cgroup" || fail "the daemon is not in a run's cgroup: $(cat "$tmp/cgroup")"
kill -KILL "$srv"
wait "$srv" 2>/dev/null
wait "$client"
rc=$?
[ "$rc" -eq 125 ] || { fail "procwait-run exited $rc, want 125 (server lost)"; show "$tmp/run.err"; }
grep -q "went away" "$tmp/run.err" || { fail "procwait-run does not say the server went away"; show "$tmp/run.err"; }
if gone "$daemon"; then
	echo "ok: the daemon $daemon is gone"
else
	fail "the daemon $daemon outlived the killed server"
fi
if [ -n "$base" ] && [ -e "$base" ]; then
	fail "the killed server's cgroup directory $base is left"
fi
rm -f "$tmp/daemon.pid" "$tmp/cgroup" "$sock"

# ---- 2. a run's own fork server, killed with its run ------------------------------
# The outer run starts a server of its own and a run on it, then times out:
# its cgroup.kill ends all of that at once (no grace: the inner server has
# no time to clean up), and the outer server removes the inner server's
# directories too (they hold no process), leaving nothing.

sock=$tmp/xdg/s2.sock
"$T" serve -v -g 0 -s "$sock" 2>"$tmp/serve3.log" &
srv=$!
pids="$pids $srv"
wait_for test -S "$sock" || fail "the second server did not start"
wait_log "$tmp/serve3.log"
mkdir -m 700 "$tmp/nest" || exit 99
cat >"$tmp/nest.sh" <<NEST
#!/bin/sh
"$T" serve -s "$tmp/nest/s.sock" 2>/dev/null &
i=0
while [ \$i -lt 100 ] && [ ! -S "$tmp/nest/s.sock" ]; do sleep 0.1; i=\$((i + 1)); done
"$R" -s "$tmp/nest/s.sock" sh -c 'echo \$\$ >"$tmp/inner.pid"; exec sleep 300' &
exec sleep 300
NEST
chmod 755 "$tmp/nest.sh"
"$R" -s "$sock" -t 3 "$tmp/nest.sh" 2>"$tmp/run4.err"
rc=$?
[ "$rc" -eq 143 ] || [ "$rc" -eq 137 ] ||
	{ fail "the outer run exited $rc, want 143 or 137 (timed out)"; show "$tmp/run4.err"; }
if [ -s "$tmp/inner.pid" ]; then
	gone "$(cat "$tmp/inner.pid")" || fail "the inner server's run outlived the outer run"
else
	fail "the inner server's run never started"
fi
base=$(sed -n 's/.*each run gets a cgroup under \(.*\)$/\1/p' "$tmp/serve3.log")
i=0
while [ $i -lt 100 ] && [ -n "$(ls -d "$base"/run-*/procwait-* 2>/dev/null)" ]; do
	sleep 0.1
	i=$((i + 1))
done
left=$(ls -d "$base"/run-*/procwait-* 2>/dev/null)
[ -z "$left" ] || fail "the inner server's cgroup directories are left: $left"
kill -TERM "$srv"
wait "$srv"
[ ! -e "$base" ] || fail "the stopped server left $base"
echo "ok: a run's own server went with its run, and its cgroups"

# ---- 3. a server that cannot make cgroups says so, and still serves ----------------

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
	nobody=$(id -u nobody)
	ngroup=$(id -g nobody)
	as_nobody="setpriv --reuid=$nobody --regid=$ngroup --clear-groups"
	nx=$tmp/nobody
	mkdir -m 700 "$nx" && chown "$nobody:$ngroup" "$nx" || exit 99
	# (exec'd by setpriv: $! is the server, once it runs)
	XDG_RUNTIME_DIR=$nx $as_nobody "$T" serve -v -s "$nx/s.sock" 2>"$tmp/serve2.log" &
	srv=$!
	pids="$pids $srv"
	wait_for test -S "$nx/s.sock" || fail "the server as nobody did not start"
	wait_log "$tmp/serve2.log"
	if grep -q "runs get no cgroup of their own (.*): a stop reaches a run's process group only" \
	   "$tmp/serve2.log"; then
		echo "ok: as nobody: $(grep 'runs get no cgroup' "$tmp/serve2.log")"
	else
		fail "a server as nobody does not say why runs get no cgroup"
		show "$tmp/serve2.log"
	fi
	XDG_RUNTIME_DIR=$nx $as_nobody "$R" -s "$nx/s.sock" sh -c 'exit 7' 2>"$tmp/run2.err"
	rc=$?
	[ "$rc" -eq 7 ] || { fail "a run as nobody exited $rc, want 7"; show "$tmp/run2.err"; }
	# The process-group stop still works: a timeout ends the run.
	XDG_RUNTIME_DIR=$nx $as_nobody "$R" -s "$nx/s.sock" -t 0.3 sleep 30 2>"$tmp/run3.err"
	rc=$?
	[ "$rc" -eq 143 ] || { fail "a timed-out run as nobody exited $rc, want 143"; show "$tmp/run3.err"; }
	kill -TERM "$srv"
	wait "$srv"
else
	echo "-- not root, or no setpriv or user nobody: the other-user case is not tried"
fi

if [ "$nfail" -eq 0 ]; then
	echo "cli-cgroup: all passed"
	exit 0
fi
echo "cli-cgroup: $nfail failed"
exit 1
