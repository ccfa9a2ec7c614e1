#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/cli.sh: the `procwait wait` command-line tool, end to end.
#
# Run by tests/run-backend.sh once with PROCWAIT_BACKEND=pidfd and once with
# PROCWAIT_BACKEND=poll. Needs PROCWAIT_TOOL (absolute path of the built
# tool, possibly a libtool wrapper script). Portable to dash and bash.
#
# The tool knows real exit statuses only for its own children. A test makes
# a process the tool's child by starting it from a shell that then execs the
# tool (tests/cli.sh writes that shell as $tmp/launch.sh). The child first
# waits ("the gate") until its parent is no longer a shell: a shell that is
# still running (the launcher, or a libtool wrapper script in between) reaps
# any child of its own that exits, and the status would be lost.
#
# Exit status: 0 all passed, 1 some failed, 77 skipped (the requested
# backend is not available here), 99 hard error (no tool).

# Code for other shells and tool arguments sits in single quotes on purpose.
# shellcheck disable=SC2016,SC2089,SC2090

set -u

if [ -z "${PROCWAIT_TOOL:-}" ] || [ ! -x "$PROCWAIT_TOOL" ]; then
	echo "cli: PROCWAIT_TOOL is not set to an executable (got '${PROCWAIT_TOOL:-}')" >&2
	exit 99
fi
T=$PROCWAIT_TOOL
export PROCWAIT_TOOL

now_ns() { date +%s%N; }
case $(now_ns) in
*[!0-9]*|'') echo "cli: date +%s%N does not give nanoseconds here" >&2; exit 99 ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/procwait-cli.XXXXXX") || exit 99
bg_pids=

cleanup()
{
	for p in $bg_pids; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Remember a background pid for cleanup.
track() { bg_pids="$bg_pids $*"; }

# A watchdog for every tool run: a tool that hangs shows as rc 137 (and a
# long elapsed time) instead of hanging the suite.
if timeout --version >/dev/null 2>&1; then
	guard="timeout -s KILL 60"
else
	guard=
fi

# ---- the gate and the launcher ---------------------------------------

# Executables that may run the launcher or a wrapper script around the tool:
# the sh we use, and the tool's own interpreter if it is a script.
sh_exe=$(sh -c 'readlink "/proc/$$/exe"; :')
interp_exe=
if [ "$(head -c 2 "$T")" = "#!" ]; then
	# shellcheck disable=SC2046 # split the #! line into words
	set -- $(head -n 1 "$T" | sed 's/^#![[:space:]]*//')
	interp=${1:-}
	case $interp in
	*/env) interp=$(command -v "${2:-}" 2>/dev/null) ;;
	esac
	[ -n "$interp" ] && interp_exe=$(readlink -f "$interp")
	set --
fi
PW_SHELLS="|$sh_exe|$interp_exe|"
PW_GATE='i=0
while [ "$i" -lt 1000 ]; do
	e=$(readlink "/proc/$PW_PARENT/exe" 2>/dev/null) || break
	case "$PW_SHELLS" in
	*"|$e|"*) ;;
	*) break ;;
	esac
	i=$((i + 1))
	sleep 0.01
done'
export PW_SHELLS PW_GATE

# exec.sh CMD...: note our pid (soon the tool's) in $PW_TOOLPID, exec CMD.
PW_TOOLPID=$tmp/toolpid
export PW_TOOLPID
cat >"$tmp/exec.sh" <<'EOF'
echo $$ >"$PW_TOOLPID"
exec "$@"
EOF

# A short-lived process that is not the tool's child must not exit before
# the tool has started (a libtool wrapper alone can take 0.1 s on a busy
# machine). This sleeper (sh -c "$NC_SLEEP" sh SECONDS) waits for the pid
# in $PW_TOOLPID, then through the gate for the tool proper, then sleeps.
NC_SLEEP='i=0
while [ ! -s "$PW_TOOLPID" ] && [ "$i" -lt 1000 ]; do
	i=$((i + 1))
	sleep 0.01
done
PW_PARENT=$(cat "$PW_TOOLPID" 2>/dev/null)
'"$PW_GATE"'
exec sleep "$1"'

# launch.sh PIDFILE ARGS BODY...: start one gated child per BODY (each in
# its own sh, so that $$ there is the child), write their pids to PIDFILE,
# then exec "procwait wait ARGS", ARGS eval'ed with $pids set.
cat >"$tmp/launch.sh" <<'EOF'
pidfile=$1
args=$2
shift 2
if [ -n "${PW_CORE_DIR:-}" ]; then
	cd "$PW_CORE_DIR" || exit 97
	ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)" || exit 97
fi
PW_PARENT=$$
export PW_PARENT
pids=
for body in "$@"; do
	sh -c "$PW_GATE
$body" &
	pids="$pids $!"
done
echo $pids >"$pidfile"
# PW_NOFILE: the tool runs with this RLIMIT_NOFILE.
if [ -n "${PW_NOFILE:-}" ]; then
	ulimit -n "$PW_NOFILE" || exit 97
fi
eval "exec \"\$PROCWAIT_TOOL\" wait $args"
EOF

# ---- running and checking -------------------------------------------

npass=0
nfail=0
name=
bad=0

begin() { name=$1; bad=0; rm -f "$PW_TOOLPID"; echo "-- $name"; }
fail() { bad=1; echo "FAIL: $name: $*"; }
end()
{
	if [ "$bad" -eq 0 ]; then
		npass=$((npass + 1))
		echo "ok: $name"
	else
		nfail=$((nfail + 1))
	fi
}

# run CMD...: run with stdout in $tmp/out, stderr in $tmp/err; sets rc, ms.
run()
{
	t0=$(now_ns)
	$guard sh "$tmp/exec.sh" "$@" <"$tmp/null" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	t1=$(now_ns)
	ms=$(( (t1 - t0) / 1000000 ))
	rm -f "$PW_TOOLPID"
}

# nc_sleep SECONDS: start a sleeper that is not the tool's child and lives
# SECONDS after the next tool run has started; its pid in $p.
nc_sleep()
{
	sh -c "$NC_SLEEP" sh "$1" &
	p=$!
	track "$p"
}
: >"$tmp/null"

# launch ARGS BODY...: run the tool as the parent of the gated BODYs; the
# children's pids end up in $c1, $c2, $c3 (and $cpids).
launch()
{
	rm -f "$tmp/pids"
	run sh "$tmp/launch.sh" "$tmp/pids" "$@"
	c1='' c2='' c3='' cpids=''
	if [ -s "$tmp/pids" ]; then
		read -r c1 c2 c3 <"$tmp/pids"
		cpids="$c1 $c2 $c3"
		# shellcheck disable=SC2086
		track $cpids
	else
		fail "the launcher wrote no pids (rc $rc, stderr: $(cat "$tmp/err"))"
	fi
}

show() { sed 's/^/    | /' "$1"; }

expect_rc()
{
	[ "$rc" -eq "$1" ] || fail "exit status $rc, want $1"
}

# expect_out LINE...: stdout is exactly these lines.
expect_out()
{
	printf '%s\n' "$@" >"$tmp/want"
	if ! cmp -s "$tmp/want" "$tmp/out"; then
		fail "stdout differs; want:"
		show "$tmp/want"
		echo "  got:"
		show "$tmp/out"
	fi
}

# expect_out_sorted LINE...: stdout holds these lines, in any order.
expect_out_sorted()
{
	printf '%s\n' "$@" | LC_ALL=C sort >"$tmp/want"
	LC_ALL=C sort "$tmp/out" >"$tmp/got"
	if ! cmp -s "$tmp/want" "$tmp/got"; then
		fail "stdout differs (order ignored); want:"
		show "$tmp/want"
		echo "  got:"
		show "$tmp/out"
	fi
}

expect_out_empty()
{
	if [ -s "$tmp/out" ]; then
		fail "stdout not empty:"
		show "$tmp/out"
	fi
}

# expect_out_grep ERE: some stdout line matches.
expect_out_grep()
{
	grep -Eq -- "$1" "$tmp/out" || { fail "stdout does not match /$1/:"; show "$tmp/out"; }
}

expect_err_empty()
{
	if [ -s "$tmp/err" ]; then
		fail "stderr not empty:"
		show "$tmp/err"
	fi
}

expect_err_nonempty()
{
	[ -s "$tmp/err" ] || fail "no message on stderr"
}

# expect_err_has STRING: stderr contains STRING (fixed string).
expect_err_has()
{
	grep -Fq -- "$1" "$tmp/err" || { fail "stderr does not mention '$1':"; show "$tmp/err"; }
}

# expect_ms MIN MAX: elapsed milliseconds within [MIN, MAX).
expect_ms()
{
	[ "$ms" -ge "$1" ] || fail "returned after ${ms} ms, want at least $1 ms"
	[ "$ms" -lt "$2" ] || fail "took ${ms} ms, want under $2 ms"
}

alive() { kill -0 "$1" 2>/dev/null; }

# A long sleeper of ours (not the tool's child), for "do not wait" tests.
start_long() { sleep 30 & long=$!; track "$long"; }
stop() { kill -KILL "$@" 2>/dev/null; wait "$@" 2>/dev/null; }

# The usual shape of a usage error: exit 2, a message, no stdout, at once.
expect_usage_error()
{
	expect_rc 2
	expect_out_empty
	expect_err_nonempty
	expect_ms 0 3000
	if [ -n "${live:-}" ] && ! alive "$live"; then
		fail "the live sleeper $live is gone"
	fi
}

# ---- the backend --------------------------------------------------------

backend=${PROCWAIT_BACKEND:-}
echo "cli: tool $T, PROCWAIT_BACKEND=${backend:-(unset)}, shell $(readlink "/proc/$$/exe")"
if [ "$backend" = pidfd ] && "$T" --version 2>/dev/null | grep -q 'backend poll'; then
	echo "cli: the pidfd backend is not available here; skipped"
	exit 77
fi

# ---- exit statuses of the tool's children -----------------------------

begin "child exit code 3"
launch '$pids' 'exit 3'
expect_rc 0
expect_out "$c1 exited 3"
expect_err_empty
expect_ms 0 10000
end

begin "child exit code 0"
launch '$pids' 'exit 0'
expect_rc 0
expect_out "$c1 exited 0"
expect_err_empty
end

begin "child exit code 255"
launch '$pids' 'exit 255'
expect_rc 0
expect_out "$c1 exited 255"
expect_err_empty
end

begin "child exits later (exit 7 after 0.3 s)"
launch '$pids' 'sleep 0.3; exit 7'
expect_rc 0
expect_out "$c1 exited 7"
expect_err_empty
expect_ms 250 10000
end

begin "child killed by SIGTERM"
launch '$pids' 'kill -TERM $$'
expect_rc 0
expect_out "$c1 killed by SIGTERM"
expect_err_empty
end

begin "child killed by SIGKILL"
launch '$pids' 'kill -KILL $$'
expect_rc 0
expect_out "$c1 killed by SIGKILL"
expect_err_empty
end

begin "child killed by SIGSEGV, core dump"
coredir=$(mktemp -d "$tmp/core.XXXXXX")
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo '|unknown')
# ulimit -H: not POSIX, but in dash, bash, busybox sh and ksh.
# shellcheck disable=SC3045
hard=$(ulimit -H -c 2>/dev/null || echo unknown)
PW_CORE_DIR=$coredir
export PW_CORE_DIR
launch '$pids' 'kill -SEGV $$'
unset PW_CORE_DIR
expect_rc 0
expect_err_empty
case $pattern in
'|'*) want_core=0; why="core_pattern is a pipe ($pattern)" ;;
*) if [ "$hard" = 0 ]; then want_core=0; why="the hard core limit is 0"; else want_core=1; fi ;;
esac
if [ "$want_core" = 1 ]; then
	expect_out "$c1 killed by SIGSEGV (core dumped)"
	if [ -z "$(ls -A "$coredir")" ]; then
		echo "note: no core file appeared in $coredir (core_pattern '$pattern')"
	fi
else
	echo "note: not asserting '(core dumped)': $why"
	expect_out_grep "^$c1 killed by SIGSEGV( \\(core dumped\\))?\$"
	[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "want one line"
fi
rm -rf "$coredir"
end

# ---- a process that is not the tool's child ---------------------------

begin "non-child: status unknown"
nc_sleep 0.3
run "$T" wait "$p"
expect_rc 0
expect_out "$p exited (status unknown)"
expect_err_empty
expect_ms 150 10000
stop "$p"
end

# ---- several pids -------------------------------------------------------

begin "several children, all waited"
launch '$pids' 'exit 1' 'sleep 0.2; exit 2' 'kill -TERM $$'
expect_rc 0
expect_out_sorted "$c1 exited 1" "$c2 exited 2" "$c3 killed by SIGTERM"
expect_err_empty
expect_ms 150 10000
end

begin "several non-children, all waited"
nc_sleep 0.1
p1=$p
nc_sleep 0.4
p2=$p
run "$T" wait "$p1" "$p2"
expect_rc 0
expect_out_sorted "$p1 exited (status unknown)" "$p2 exited (status unknown)"
expect_err_empty
expect_ms 300 10000
stop "$p1" "$p2"
end

begin "a child and a non-child together"
nc_sleep 0.3
launch "$p "'$pids' 'sleep 0.1; exit 9'
expect_rc 0
expect_out_sorted "$c1 exited 9" "$p exited (status unknown)"
expect_err_empty
expect_ms 200 10000
stop "$p"
end

begin "duplicate child pid: one line"
launch '$pids $pids' 'sleep 0.1; exit 5'
expect_rc 0
expect_out "$c1 exited 5"
expect_err_empty
end

begin "duplicate non-child pid: one line"
nc_sleep 0.2
run "$T" wait "$p" "$p" "$p"
expect_rc 0
expect_out "$p exited (status unknown)"
expect_err_empty
stop "$p"
end

begin "options after '--'"
nc_sleep 0.1
run "$T" wait --timeout 10 -- "$p"
expect_rc 0
expect_out "$p exited (status unknown)"
expect_err_empty
stop "$p"
end

# ---- --any ----------------------------------------------------------------

begin "--any: returns after the short non-child"
nc_sleep 0.2
short=$p
start_long
run "$T" wait --any "$short" "$long"
expect_rc 0
expect_out "$short exited (status unknown)"
expect_err_empty
expect_ms 100 5000
alive "$long" || fail "the long sleeper is gone after the wait"
stop "$long" "$short"
end

begin "--any (long pid first): returns after the short non-child"
nc_sleep 0.2
short=$p
start_long
run "$T" wait --any "$long" "$short"
expect_rc 0
expect_out "$short exited (status unknown)"
expect_err_empty
expect_ms 100 5000
stop "$long" "$short"
end

begin "-a with children: exit status of the short one"
launch '-a $pids' 'sleep 0.2; exit 4' 'exec sleep 30'
expect_rc 0
expect_out "$c1 exited 4"
expect_err_empty
expect_ms 100 5000
[ -n "$c2" ] && { alive "$c2" || fail "the long child is gone after the wait"; }
[ -n "$c2" ] && kill -KILL "$c2" 2>/dev/null
end

begin "--any --timeout: none exits in time"
start_long
l1=$long
start_long
run "$T" wait --any --timeout 0.3 "$l1" "$long"
expect_rc 124
expect_out_empty
expect_err_empty
expect_ms 250 10000
stop "$l1" "$long"
end

# ---- timeouts -------------------------------------------------------------

begin "--timeout 0.3 on a 30 s sleeper"
start_long
run "$T" wait --timeout 0.3 "$long"
expect_rc 124
expect_out_empty
expect_err_empty
expect_ms 250 10000
alive "$long" || fail "the sleeper is gone after the timeout"
stop "$long"
end

begin "--timeout=0.3 form"
start_long
run "$T" wait --timeout=0.3 "$long"
expect_rc 124
expect_out_empty
expect_err_empty
expect_ms 250 10000
stop "$long"
end

begin "-t 0.3 short form"
start_long
run "$T" wait -t 0.3 "$long"
expect_rc 124
expect_out_empty
expect_err_empty
expect_ms 250 10000
stop "$long"
end

begin "--timeout 0 on a live process"
start_long
run "$T" wait --timeout 0 "$long"
expect_rc 124
expect_out_empty
expect_err_empty
expect_ms 0 3000
stop "$long"
end

begin "--timeout 0.3 on a 30 s child"
launch '--timeout 0.3 $pids' 'exec sleep 30'
expect_rc 124
expect_out_empty
expect_err_empty
expect_ms 250 10000
[ -n "$c1" ] && kill -KILL "$c1" 2>/dev/null
end

begin "--timeout 10, the process exits first"
nc_sleep 0.2
run "$T" wait --timeout 10 "$p"
expect_rc 0
expect_out "$p exited (status unknown)"
expect_err_empty
expect_ms 100 5000
stop "$p"
end

begin "--timeout 1: one of two exits, then timeout"
nc_sleep 0.1
short=$p
start_long
run "$T" wait --timeout 1 "$short" "$long"
expect_rc 124
expect_out "$short exited (status unknown)"
expect_err_empty
expect_ms 900 10000
stop "$long" "$short"
end

# ---- usage errors: exit 2 at once, before any waiting --------------------

# A 30 s sleeper that usage tests name next to bad arguments: the tool must
# neither wait for it nor harm it. Restarted when a test let it go.
live=
need_live()
{
	if [ -z "$live" ] || ! alive "$live"; then
		start_long
		live=$long
	fi
}

begin "usage: no PID"
run "$T" wait
expect_usage_error
end

begin "usage: --any but no PID"
run "$T" wait --any
expect_usage_error
end

for bad_pid in abc 0 12x 99999999999 +5 ' 5' 1.5; do
	begin "usage: PID '$bad_pid'"
	run "$T" wait "$bad_pid"
	expect_usage_error
	expect_err_has "$bad_pid"
	end
done

begin "usage: PID '-5'"
run "$T" wait -5
expect_usage_error
expect_err_has "-5"
end

begin "usage: PID ''"
run "$T" wait ""
expect_usage_error
end

begin "usage: nonexistent PID (a reaped process)"
sh -c 'exit 0' &
gone=$!
wait "$gone"
if alive "$gone"; then
	echo "note: pid $gone was reused at once; using pid_max instead"
	gone=$(cat /proc/sys/kernel/pid_max)
fi
run "$T" wait "$gone"
expect_usage_error
expect_err_has "$gone"
end

begin "usage: nonexistent PID (pid_max)"
nopid=$(cat /proc/sys/kernel/pid_max)
run "$T" wait "$nopid"
expect_usage_error
expect_err_has "$nopid"
end

begin "usage: live PID then bad PID"
need_live
run "$T" wait "$live" abc
expect_usage_error
expect_err_has abc
end

begin "usage: bad PID then live PID"
need_live
run "$T" wait 0 "$live"
expect_usage_error
end

begin "usage: live PID then nonexistent PID"
need_live
run "$T" wait "$live" "$nopid"
expect_usage_error
expect_err_has "$nopid"
end

begin "usage: --any, live PID and bad PID"
need_live
run "$T" wait --any "$live" 12x
expect_usage_error
end

begin "usage: unknown option --bogus"
need_live
run "$T" wait --bogus "$live"
expect_usage_error
expect_err_has "--bogus"
end

begin "usage: --timeout without a value"
run "$T" wait --timeout
expect_usage_error
end

begin "usage: -t without a value"
run "$T" wait -t
expect_usage_error
end

for bad_t in -1 abc '' 1s nan inf 0x10 ' 0.1' 1e400; do
	begin "usage: --timeout '$bad_t'"
	need_live
	run "$T" wait --timeout "$bad_t" "$live"
	expect_usage_error
	end
done

begin "usage: --timeout=-1"
need_live
run "$T" wait --timeout=-1 "$live"
expect_usage_error
end

begin "usage: no command"
run "$T"
expect_usage_error
end

begin "usage: unknown command"
need_live
run "$T" frobnicate "$live"
expect_usage_error
expect_err_has frobnicate
end

[ -n "$live" ] && stop "$live"

# ---- help and version -----------------------------------------------------

for h in --help -h; do
	begin "procwait $h"
	run "$T" "$h"
	expect_rc 0
	expect_out_grep '^Usage'
	expect_out_grep 'wait'
	expect_err_empty
	end
done

for h in --help -h; do
	begin "procwait wait $h"
	run "$T" wait "$h"
	expect_rc 0
	expect_out_grep '^Usage: .*wait'
	expect_out_grep '--timeout'
	expect_out_grep '--any'
	expect_err_empty
	end
done

for v in --version -V; do
	begin "procwait $v"
	run "$T" "$v"
	expect_rc 0
	expect_out_grep '^procwait '
	if [ -n "$backend" ]; then
		expect_out_grep "backend $backend"
	else
		expect_out_grep 'backend (pidfd|poll)'
	fi
	expect_err_empty
	end
done

# ---- robustness -------------------------------------------------------------

begin "its own pid: refused, not a hang"
run sh -c 'exec "$0" wait $$' "$T"
expect_rc 2
expect_out_empty
expect_err_has "itself"
expect_ms 0 3000
end

begin "write error on stdout: exit 1 with a message"
nc_sleep 0.2
t0=$(now_ns)
$guard sh "$tmp/exec.sh" "$T" wait "$p" <"$tmp/null" >/dev/full 2>"$tmp/err"
rc=$?
rm -f "$PW_TOOLPID"
expect_rc 1
expect_err_has "write error"
end

begin "SIGCHLD ignored by whoever started the tool: statuses kept"
if command -v perl >/dev/null 2>&1; then
	rm -f "$tmp/pids"
	run perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or exit 98' \
		sh "$tmp/launch.sh" "$tmp/pids" '$pids' 'exit 5'
	c1=
	[ -s "$tmp/pids" ] && read -r c1 <"$tmp/pids"
	track $c1
	expect_rc 0
	expect_out "$c1 exited 5"
else
	echo "note: perl is not installed; SIGCHLD-ignored start not staged"
fi
end

begin "--stats: the wait's cost on stderr"
nc_sleep 0.3
run "$T" wait --stats "$p"
expect_rc 0
expect_out "$p exited (status unknown)"
expect_err_has "context switches:"
grep -Eq "backend (pidfd|poll): waited [0-9]+\.[0-9]{3} s; context switches: [0-9]+ voluntary, [0-9]+ involuntary; CPU [0-9]+\.[0-9]{6} s" "$tmp/err" ||
	{ fail "--stats line has not the documented shape:"; show "$tmp/err"; }
if [ -n "$backend" ]; then
	expect_err_has "backend $backend:"
fi
end

begin "descriptors exhausted: three children under RLIMIT_NOFILE 6"
# stdin, stdout, stderr and three pidfds leave none for the set's own
# descriptor: the set works through the backoff loop and --stats says why.
PW_NOFILE=6 launch '--stats $pids' 'sleep 0.2; exit 3' 'sleep 0.4; exit 4' 'sleep 0.6; exit 5'
expect_rc 0
expect_out_sorted "$c1 exited 3" "$c2 exited 4" "$c3 exited 5"
if [ "$backend" = pidfd ]; then
	expect_err_has "fell back to the backoff loop: epoll_create1: Too many open files"
fi
end

begin "descriptors exhausted: a member without a pidfd too (RLIMIT_NOFILE 5)"
# (5 is as low as the libtool wrapper script around an uninstalled tool
# can go: it needs a pipe)
PW_NOFILE=5 launch '$pids' 'sleep 0.2; exit 6' 'exit 7' 'sleep 0.4; exit 8'
expect_rc 0
expect_out_sorted "$c1 exited 6" "$c2 exited 7" "$c3 exited 8"
end

# ---- summary --------------------------------------------------------------

echo "cli: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
