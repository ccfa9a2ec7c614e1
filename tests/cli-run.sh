#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/cli-run.sh: the fork server `procwait serve` and its client
# `procwait-run`, end to end.
#
# Run by tests/run-backend.sh once with PROCWAIT_BACKEND=pidfd and once with
# PROCWAIT_BACKEND=poll. Needs PROCWAIT_TOOL and PROCWAIT_RUN (absolute
# paths of the built tools, possibly libtool wrapper scripts: a wrapper
# execs the real binary, so the pid of a background wrapper is the tool's
# pid once the tool runs; a test signals a background procwait-run only
# after its child has said it is running). Portable to dash and bash.
#
# Every server listens on a socket in this test's private directory
# (mode 0700), is started from / (so that a child's directory can only be
# the client's), and is stopped with SIGTERM, which must make it exit 0 and
# remove its socket. Timing bounds are generous: a 2-core machine running
# other suites must not fail them.
#
# Exit status: 0 all passed, 1 some failed, 77 skipped (the requested
# backend is not available here), 99 hard error (no tools).

# Code for the children's shells sits in single quotes on purpose.
# shellcheck disable=SC2016

set -u

for v in PROCWAIT_TOOL PROCWAIT_RUN; do
	eval "p=\${$v:-}"
	if [ -z "$p" ] || [ ! -x "$p" ]; then
		echo "cli-run: $v is not set to an executable (got '$p')" >&2
		exit 99
	fi
done
T=$PROCWAIT_TOOL
R=$PROCWAIT_RUN
# Variables the children must not see (one only the servers have).
unset PW_UNSET_VAR PW_SERVER_ONLY

now_ns() { date +%s%N; }
case $(now_ns) in
*[!0-9]*|'') echo "cli-run: date +%s%N does not give nanoseconds here" >&2; exit 99 ;;
esac

backend=${PROCWAIT_BACKEND:-}
echo "cli-run: tools $T, $R; PROCWAIT_BACKEND=${backend:-(unset)}, shell $(readlink "/proc/$$/exe")"
if [ "$backend" = pidfd ] && "$T" --version 2>/dev/null | grep -q 'backend poll'; then
	echo "cli-run: the pidfd backend is not available here; skipped"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/procwait-run.XXXXXX") || exit 99
chmod 700 "$tmp" || exit 99
# No test may touch the user's default server directory.
XDG_RUNTIME_DIR=$tmp/xdg
export XDG_RUNTIME_DIR
mkdir -m 700 "$XDG_RUNTIME_DIR" || exit 99

bg_pids=
cleanup()
{
	for p in $bg_pids; do
		kill -KILL "$p" 2>/dev/null
	done
	chmod -R u+rwx "$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Remember background pids (servers, clients, grandchildren) for cleanup,
# and forget them once reaped.
track() { bg_pids="$bg_pids $*"; }
untrack()
{
	nb=
	for p in $bg_pids; do
		[ "$p" = "$1" ] || nb="$nb $p"
	done
	bg_pids=$nb
}

# A watchdog for every foreground run: a tool that hangs shows as rc 137
# and a long time instead of hanging the suite.
if timeout --version >/dev/null 2>&1; then
	guard="timeout -s KILL 30"
	guard_short="timeout -s KILL 10"
else
	guard=
	guard_short=
fi

npass=0 nfail=0
begin() { name=$1; bad=0; echo "-- $name"; }
fail() { bad=1; echo "FAIL: $name: $*"; }
end()
{
	if [ "$bad" -eq 0 ]; then npass=$((npass + 1)); echo "ok: $name"
	else nfail=$((nfail + 1)); fi
}
show() { sed 's/^/    | /' "$1"; }

# xrun CMD...: run CMD with stdin from $tmp/in (empty by default) or what
# `in` names, stdout and stderr to $tmp/out and $tmp/err; sets rc and ms.
# run ARGS...: xrun procwait-run -s $sock ARGS.
: >"$tmp/in"
xrun()
{
	t0=$(now_ns)
	$guard "$@" <"${in:-$tmp/in}" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ms=$(( ($(now_ns) - t0) / 1000000 ))
}
run() { xrun "$R" -s "$sock" "$@"; }
# runin FILE ARGS...: run ARGS with stdin from FILE.
runin() { in=$1; shift; run "$@"; in=; }

expect_rc()
{
	[ "$rc" -eq "$1" ] || { fail "exit status $rc, want $1 (after $ms ms); stderr:"; show "$tmp/err"; }
}
# expect_out TEXT: stdout is TEXT and a newline, byte for byte.
expect_out()
{
	printf '%s\n' "$1" >"$tmp/want"
	cmp -s "$tmp/want" "$tmp/out" || { fail "stdout is not '$1':"; show "$tmp/out"; }
}
# expect_out_file FILE: stdout is FILE's bytes.
expect_out_file()
{
	cmp -s "$1" "$tmp/out" || { fail "stdout differs from what was expected:"; od -c "$tmp/out" | head -n 10 | sed 's/^/    | /'; }
}
expect_out_empty() { [ ! -s "$tmp/out" ] || { fail "stdout not empty:"; show "$tmp/out"; }; }
expect_err_empty() { [ ! -s "$tmp/err" ] || { fail "stderr not empty:"; show "$tmp/err"; }; }
expect_err_has() { grep -Fq -- "$1" "$tmp/err" || { fail "stderr lacks '$1':"; show "$tmp/err"; }; }
# expect_err_line TEXT: stderr is one line, which contains TEXT.
expect_err_line()
{
	expect_err_has "$1"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || { fail "stderr is not one line:"; show "$tmp/err"; }
}
# expect_clear_err TEXT: one line containing TEXT, every errno named.
expect_clear_err()
{
	expect_err_line "$1"
	! grep -q 'Unknown error' "$tmp/err" || { fail "an unnamed error:"; show "$tmp/err"; }
}
expect_ms()
{
	if [ "$ms" -lt "$1" ] || [ "$ms" -gt "$2" ]; then
		fail "took $ms ms, want $1 to $2"
	fi
}

# alive PID: the process exists and is not a zombie.
alive()
{
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $st in
	Z*|X*|x*) return 1 ;;
	esac
	return 0
}
# reap PID SECONDS: wait for our background child PID at most SECONDS;
# wrc gets its status. Returns 1 (and kills it) when it is still running.
reap()
{
	i=0
	while alive "$1" && [ "$i" -lt $(($2 * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if alive "$1"; then
		kill -KILL "$1" 2>/dev/null
		wait "$1"
		wrc=$?
		untrack "$1"
		return 1
	fi
	wait "$1"
	wrc=$?
	untrack "$1"
	return 0
}
# wait_file FILE: wait up to 10 s until FILE exists and is not empty.
wait_file()
{
	i=0
	while [ ! -s "$1" ] && [ "$i" -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -s "$1" ]
}
# gone_within PID SECONDS: wait until PID is gone (or a zombie).
gone_within()
{
	i=0
	while alive "$1" && [ "$i" -lt $(($2 * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	! alive "$1"
}

# start_server SOCKET [SERVE-ARGS...]: start `procwait serve --socket
# SOCKET` from / (stderr to SOCKET.log) and wait until it answers; sets srv
# (its pid) and sock. The server's environment has PW_SERVER_ONLY set, which
# no child may see.
start_server()
{
	sock=$1
	shift
	(cd / && PW_SERVER_ONLY=leaked && export PW_SERVER_ONLY &&
		exec "$T" serve --socket "$sock" "$@") </dev/null >/dev/null 2>"$sock.log" &
	srv=$!
	track "$srv"
	i=0
	while [ "$i" -lt 100 ]; do
		if $guard_short "$R" -s "$sock" true </dev/null >/dev/null 2>&1; then
			return 0
		fi
		alive "$srv" || break
		sleep 0.05
		i=$((i + 1))
	done
	fail "the server on $sock does not answer; its log:"
	show "$sock.log"
	return 1
}
# stop_server: SIGTERM to the server; it must exit 0 within 10 s and
# remove its socket.
stop_server()
{
	kill -TERM "$srv" 2>/dev/null
	if ! reap "$srv" 10; then
		fail "the server did not stop within 10 s of SIGTERM"
	elif [ "$wrc" -ne 0 ]; then
		fail "the server exited $wrc after SIGTERM, want 0; its log:"
		show "$sock.log"
	fi
	[ ! -e "$sock" ] || fail "the server left its socket $sock behind"
}

# bg_run READY ARGS...: procwait-run -s $sock ARGS in the background (its
# pid in rp, output in $tmp/bout and $tmp/berr); then wait until READY
# exists (the child writes it once it runs, so procwait-run is the real
# binary by then, not a wrapper script).
bg_run()
{
	ready=$1
	shift
	rm -f "$ready"
	"$R" -s "$sock" "$@" </dev/null >"$tmp/bout" 2>"$tmp/berr" &
	rp=$!
	track "$rp"
	if ! wait_file "$ready"; then
		fail "the child did not start within 10 s; stderr:"
		show "$tmp/berr"
		return 1
	fi
	e=$(readlink "/proc/$rp/exe" 2>/dev/null)
	case $e in
	*/sh|*/bash|*/dash|*/ksh|*/busybox)
		fail "pid $rp is still a shell ($e): the test would signal a wrapper"
		return 1 ;;
	esac
	return 0
}

# The binary behind a libtool wrapper: where a test closes procwait-run's
# standard descriptors, the wrapper's shell would take them first.
R_REAL=$R R_LIBS=
if grep -q 'libtool wrapper' "$R" 2>/dev/null; then
	prog=$(sed -n "s/^ *program='\(.*\)'\$/\1/p" "$R" | head -n 1)
	R_LIBS=$(sed -n 's/^ *LD_LIBRARY_PATH="\([^"]*\):\$LD_LIBRARY_PATH"$/\1/p' "$R" | head -n 1)
	R_REAL=$(dirname "$R")/.libs/$prog
	[ -n "$prog" ] && [ -x "$R_REAL" ] || R_REAL=
fi
# run_real ARGS...: exec the real procwait-run (or $R when not found); for
# a subshell.
run_real()
{
	if [ -n "$R_LIBS" ]; then
		LD_LIBRARY_PATH=$R_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
		export LD_LIBRARY_PATH
	fi
	exec "${R_REAL:-$R}" "$@"
}

nl='
'
ff=$(printf '\377')

# ---- the main server ------------------------------------------------------

begin "serve: start and answer"
start_server "$tmp/main.sock" --grace 0.5 || { end; echo "cli-run: no server, giving up"; exit 1; }
main_srv=$srv
main_sock=$sock
end

# ---- exit statuses --------------------------------------------------------

begin "exit codes pass through"
run true
expect_rc 0
expect_out_empty
expect_err_empty
run sh -c 'exit 7'
expect_rc 7
expect_err_empty
run -- sh -c 'exit 255'
expect_rc 255
end

begin "death by a signal: 128 + N"
run sh -c 'kill -9 $$'
expect_rc 137
expect_err_empty
run sh -c 'kill -TERM $$'
expect_rc 143
expect_err_empty
end

begin "a missing program: 127, named on stderr"
run procwait-no-such-program-here arg
expect_rc 127
expect_err_has "procwait-no-such-program-here"
expect_err_has "No such file or directory"
expect_out_empty
run "$tmp/no/such/dir/prog"
expect_rc 127
expect_err_has "$tmp/no/such/dir/prog"
end

begin "a file that is not executable: 126"
printf '#!/bin/sh\necho ran\n' >"$tmp/noexec"
chmod 644 "$tmp/noexec"
run "$tmp/noexec"
expect_rc 126
expect_err_has "$tmp/noexec"
expect_err_has "Permission denied"
expect_out_empty
run "$tmp"
expect_rc 126
end

begin "nothing extra on success: stdout is the child's, byte for byte"
run printf 'x y'
expect_rc 0
printf 'x y' >"$tmp/want"
expect_out_file "$tmp/want"
expect_err_empty
end

# ---- descriptors ------------------------------------------------------------

begin "stdout and stderr pass through separately"
run sh -c 'echo out; echo err >&2; echo out2'
expect_rc 0
printf 'out\nout2\n' >"$tmp/want"
expect_out_file "$tmp/want"
printf 'err\n' >"$tmp/want"
cmp -s "$tmp/want" "$tmp/err" || { fail "stderr is not 'err':"; show "$tmp/err"; }
end

begin "stdin from a pipe, to EOF"
printf 'a\nb\n' | $guard "$R" -s "$sock" -- cat >"$tmp/out" 2>"$tmp/err"
rc=$? ms=0
expect_rc 0
printf 'a\nb\n' >"$tmp/want"
expect_out_file "$tmp/want"
expect_err_empty
printf 'no newline at the end' | $guard "$R" -s "$sock" -- wc -c >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 0
[ "$(tr -d ' ' <"$tmp/out")" = 21 ] || { fail "wc -c through stdin:"; show "$tmp/out"; }
end

begin "stdin at EOF (/dev/null): empty output, exit 0"
runin /dev/null -- cat
expect_rc 0
expect_out_empty
expect_err_empty
end

begin "large output fully delivered"
run head -c 5000000 /dev/zero
expect_rc 0
[ "$(wc -c <"$tmp/out")" -eq 5000000 ] || fail "to a file: $(wc -c <"$tmp/out") bytes, want 5000000"
n=$($guard "$R" -s "$sock" head -c 5000000 /dev/zero </dev/null 2>"$tmp/err" | wc -c)
[ "$n" -eq 5000000 ] || fail "through a pipe: $n bytes, want 5000000"
expect_err_empty
end

# ---- argv, environment, directory -----------------------------------------------

begin "argv reproduced exactly: spaces, empty, newlines, non-UTF-8, globs"
set -- 'a b' '' "x${nl}y" "$ff" "${ff}z$ff" '  lead' 'trail  ' '*' '$HOME' '-n' '--' "tab	x" "$nl"
printf '%s\n' "$@" >"$tmp/want"
run sh -c 'printf "%s\n" "$@"' sh "$@"
expect_rc 0
expect_out_file "$tmp/want"
set --
end

begin "argv: 2000 arguments, in order"
seq 1 2000 >"$tmp/want"
# shellcheck disable=SC2046 # one word per line
run sh -c 'printf "%s\n" "$@"' sh $(seq 1 2000)
expect_rc 0
expect_out_file "$tmp/want"
end

begin "environment passed; the server's is not"
xrun env FOO='a b' PW_NL="x${nl}y" PW_EQ='k=v=w' "$R" -s "$sock" sh -c \
	'printf "%s|%s|%s|%s|%s\n" "$FOO" "$PW_NL" "$PW_EQ" "${PW_UNSET_VAR-unset}" "${PW_SERVER_ONLY-unset}"'
expect_rc 0
expect_out "a b|x${nl}y|k=v=w|unset|unset"
end

begin "environment: the child's is procwait-run's, entry for entry"
rm -f "$tmp/go"
if bg_run "$tmp/ready" sh -c 'cp "/proc/$$/environ" "$1.env"; echo ok >"$1"
		while [ ! -e "$2" ]; do sleep 0.05; done' sh "$tmp/ready" "$tmp/go"; then
	cp "/proc/$rp/environ" "$tmp/client.env"
	cmp -s "$tmp/client.env" "$tmp/ready.env" || {
		fail "environments differ (client < > child):"
		tr '\0' '\n' <"$tmp/client.env" | sort >"$tmp/a"
		tr '\0' '\n' <"$tmp/ready.env" | sort >"$tmp/b"
		diff "$tmp/a" "$tmp/b" | sed 's/^/    | /'
	}
fi
touch "$tmp/go"
reap "$rp" 10 || fail "procwait-run did not end"
[ "$wrc" -eq 0 ] || fail "exit $wrc"
end

begin "working directory passed (a space in its name)"
mkdir "$tmp/a dir"
want=$(cd "$tmp/a dir" && pwd -P)
xrun sh -c 'cd "$1" && shift && exec "$@"' sh "$tmp/a dir" "$R" -s "$sock" pwd
expect_rc 0
expect_out "$want"
end

# ---- timeouts -----------------------------------------------------------------

begin "--timeout: SIGTERM, 143, \"timed out\""
run -t 0.5 -- sleep 100
expect_rc 143
expect_err_line "timed out"
expect_ms 400 10000
run --timeout=5 -- true
expect_rc 0
expect_err_empty
end

begin "--timeout: a child ignoring SIGTERM gets SIGKILL after the grace: 137"
run -t 0.5 -- sh -c 'trap "" TERM; sleep 100'
expect_rc 137
expect_err_line "timed out"
expect_ms 900 15000
end

# ---- signal forwarding --------------------------------------------------------

begin "SIGINT forwarded: the child's trap decides (exit 42)"
if bg_run "$tmp/ready" sh -c 'trap "exit 42" INT; echo ok >"$1"; while :; do sleep 0.1; done' sh "$tmp/ready"; then
	kill -INT "$rp"
	reap "$rp" 10 || fail "procwait-run did not end within 10 s of SIGINT"
	[ "$wrc" -eq 42 ] || { fail "exit $wrc, want 42"; show "$tmp/berr"; }
fi
end

for sig in TERM:143 HUP:129 INT:130; do
	s=${sig%:*} want=${sig#*:}
	begin "SIG$s forwarded: default action, $want"
	if bg_run "$tmp/ready" sh -c 'echo ok >"$1"; while :; do sleep 0.1; done' sh "$tmp/ready"; then
		kill -"$s" "$rp"
		reap "$rp" 10 || fail "procwait-run did not end within 10 s of SIG$s"
		[ "$wrc" -eq "$want" ] || { fail "exit $wrc, want $want"; show "$tmp/berr"; }
		[ ! -s "$tmp/berr" ] || { fail "stderr not empty:"; show "$tmp/berr"; }
	fi
	end
done

# ---- the client killed ------------------------------------------------------------

for variant in plain ignoring; do
	if [ "$variant" = plain ]; then
		begin "procwait-run SIGKILLed: the command's group is stopped"
		body='sleep 1000 & echo $! >"$1.tmp"; mv "$1.tmp" "$1"; wait'
	else
		begin "procwait-run SIGKILLed: a group ignoring SIGTERM is killed after the grace"
		body='trap "" TERM; sleep 1000 & echo $! >"$1.tmp"; mv "$1.tmp" "$1"; wait'
	fi
	if bg_run "$tmp/gc" sh -c "$body" sh "$tmp/gc"; then
		g=$(cat "$tmp/gc")
		track "$g"
		alive "$g" || fail "the grandchild $g is not running"
		kill -KILL "$rp"
		reap "$rp" 10
		[ "$wrc" -eq 137 ] || fail "procwait-run exit $wrc, want 137"
		gone_within "$g" 10 || fail "the grandchild sleep $g still runs 10 s later"
		untrack "$g"
	fi
	run echo still serving
	expect_rc 0
	expect_out "still serving"
	end
done

begin "closed standard descriptors: the child never gets procwait-run's own"
# A closed 0, 1 or 2 must not be taken by procwait-run's signalfd or its
# connection to the server and handed over: the child may see it closed or
# /dev/null, or procwait-run may refuse (125), nothing else; and nothing
# but requests may reach the server.
[ -n "$R_REAL" ] || echo "note: the binary behind the wrapper $R was not found"
fds_script='a=$(readlink /proc/$$/fd/0 2>/dev/null)
b=$(readlink /proc/$$/fd/1 2>/dev/null)
c=$(readlink /proc/$$/fd/2 2>/dev/null)
printf "0 %s\n1 %s\n2 %s\n" "$a" "$b" "$c" >"$1"'
: >"$sock.log"
for closed in 0 1 2 012; do
	rm -f "$tmp/fds"
	case $closed in
	0) (run_real -s "$sock" sh -c "$fds_script" sh "$tmp/fds") <&- ;;
	1) (run_real -s "$sock" sh -c "$fds_script" sh "$tmp/fds") >&- ;;
	2) (run_real -s "$sock" sh -c "$fds_script" sh "$tmp/fds") 2>&- ;;
	*) (run_real -s "$sock" sh -c "$fds_script" sh "$tmp/fds") <&- >&- 2>&- ;;
	esac
	rc=$?
	if [ "$rc" -eq 0 ]; then
		if grep -Eq 'signalfd|socket:|anon_inode' "$tmp/fds"; then
			fail "with $closed closed the child got:"
			show "$tmp/fds"
		fi
	elif [ "$rc" -ne 125 ]; then
		fail "with $closed closed: exit $rc, want 0 or 125"
	fi
done
[ ! -s "$sock.log" ] || { fail "the server complained:"; show "$sock.log"; }
end

begin "the server SIGKILLed during a run: 125, the child killed too"
if start_server "$tmp/die.sock"; then
	if bg_run "$tmp/ready" sh -c 'echo $$ >"$1"; exec sleep 100' sh "$tmp/ready"; then
		c=$(cat "$tmp/ready")
		track "$c"
		kill -KILL "$srv"
		reap "$srv" 10
		reap "$rp" 10 || fail "procwait-run did not end within 10 s"
		[ "$wrc" -eq 125 ] || fail "procwait-run exit $wrc, want 125"
		cp "$tmp/berr" "$tmp/err"
		expect_clear_err "went away"
		gone_within "$c" 10 || fail "the child $c still runs"
		untrack "$c"
	fi
	kill -KILL "$srv" 2>/dev/null
	rm -f "$sock"
fi
sock=$main_sock srv=$main_srv
end

# ---- errors of procwait-run: 125 ------------------------------------------------

begin "no server: 125, one line"
xrun "$R" -s "$tmp/none.sock" -- touch "$tmp/ran"
expect_rc 125
expect_clear_err "$tmp/none.sock"
expect_err_has "No such file or directory"
expect_out_empty
[ ! -e "$tmp/ran" ] || fail "the command ran"
end

begin "request too big: 125, Argument list too long"
# One argument can be at most 128 KiB (execve's limit), the frame too:
# two of 100000 bytes fit an exec but not a request.
big=$(head -c 100000 /dev/zero | tr '\0' x)
run sh -c ': >"$1"' sh "$tmp/ran" "$big" "$big"
big=
expect_rc 125
expect_clear_err "Argument list too long"
[ ! -e "$tmp/ran" ] || fail "the command ran"
run true
expect_rc 0
end

begin "a socket in a group- or world-writable directory: refused"
mkdir -m 700 "$tmp/gw"
if start_server "$tmp/gw/s.sock"; then
	for mode in 770 703; do
		chmod "$mode" "$tmp/gw"
		run -- touch "$tmp/ran"
		expect_rc 125
		expect_clear_err "Operation not permitted"
		[ ! -e "$tmp/ran" ] || { fail "the command ran (mode $mode)"; rm -f "$tmp/ran"; }
		xrun "$T" serve --socket "$tmp/gw/other.sock"
		[ "$rc" -eq 1 ] || { fail "serve in a $mode directory: exit $rc, want 1"; show "$tmp/err"; }
		expect_err_has "Operation not permitted"
		[ ! -e "$tmp/gw/other.sock" ] || fail "serve created a socket in a $mode directory"
	done
	chmod 700 "$tmp/gw"
	run true
	expect_rc 0
	stop_server
fi
end

# ---- usage errors: 2 -------------------------------------------------------------

begin "procwait-run usage errors: exit 2, nothing run"
sock=$main_sock
for args in '-t abc --' '-t -1 --' '-t 1x --' '--timeout= --' '--frobnicate --' '-Z --'; do
	# shellcheck disable=SC2086 # the options are words
	run $args touch "$tmp/ran"
	[ "$rc" -eq 2 ] || { fail "procwait-run $args ...: exit $rc, want 2"; show "$tmp/err"; }
	[ -s "$tmp/err" ] || fail "procwait-run $args ...: no message"
	expect_out_empty
	[ ! -e "$tmp/ran" ] || { fail "procwait-run $args ...: the command ran"; rm -f "$tmp/ran"; }
done
run
expect_rc 2
expect_err_has "no command"
run --
expect_rc 2
expect_err_has "no command"
run -t abc -- true
expect_err_has "invalid timeout 'abc'"
run -t -1 -- true
expect_err_has "invalid timeout '-1'"
run --frobnicate true
expect_err_has "frobnicate"
end

begin "procwait serve usage errors: exit 2, no socket"
for args in '--max-children 0' '--max-children x' '-j -1' '--max-queue x' '--grace abc' \
	'--idle -1' '--timeout nan' 'extra' '--frobnicate'; do
	# shellcheck disable=SC2086 # the options are words
	$guard_short "$T" serve --socket "$tmp/usage.sock" $args </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 2 ] || { fail "serve $args: exit $rc, want 2"; show "$tmp/err"; }
	[ -s "$tmp/err" ] || fail "serve $args: no message"
	[ ! -e "$tmp/usage.sock" ] || { fail "serve $args created its socket"; rm -f "$tmp/usage.sock"; }
done
xrun "$T" serve --socket "$tmp/usage.sock" --max-children 0
expect_err_has "'0'"
xrun "$T" serve --socket "$tmp/usage.sock" extra
expect_err_has "unexpected argument 'extra'"
for n in a/b .hidden '' "$(printf '%070d' 0)"; do
	$guard_short "$T" serve --name "$n" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 2 ] || { fail "serve --name '$n': exit $rc, want 2"; show "$tmp/err"; }
done
[ -z "$(ls "$XDG_RUNTIME_DIR/procwait" 2>/dev/null)" ] || fail "a socket appeared under $XDG_RUNTIME_DIR"
end

# ---- help -----------------------------------------------------------------

begin "--help"
xrun "$T" serve --help
expect_rc 0
expect_err_empty
for o in --socket --name --max-children --max-queue --timeout --grace --idle; do
	grep -Fq -- "$o" "$tmp/out" || fail "serve --help does not mention $o"
done
xrun "$R" --help
expect_rc 0
expect_err_empty
for o in --socket --name --timeout --pty; do
	grep -Fq -- "$o" "$tmp/out" || fail "procwait-run --help does not mention $o"
done
grep -q '^Usage: ' "$tmp/out" || fail "procwait-run --help shows no usage line"
end

# ---- serve behaviour --------------------------------------------------------

begin "a second server on a live socket: exit 1, Address already in use"
sock=$main_sock srv=$main_srv
xrun "$T" serve --socket "$sock"
expect_rc 1
expect_err_has "Address already in use"
[ -S "$sock" ] || fail "the socket is gone"
run echo first still serving
expect_rc 0
expect_out "first still serving"
end

begin "a stale socket (SIGKILLed server): refused, then replaced"
if start_server "$tmp/stale.sock"; then
	kill -KILL "$srv"
	reap "$srv" 10
	[ -S "$sock" ] || fail "no stale socket left to test with"
	run true
	expect_rc 125
	expect_clear_err "Connection refused"
	if start_server "$tmp/stale.sock"; then
		run echo new server
		expect_rc 0
		expect_out "new server"
		stop_server
	fi
fi
end

begin "SIGTERM to the server with a run active: the child stopped, exit 0"
if start_server "$tmp/stop.sock" --grace 0.5; then
	if bg_run "$tmp/ready" sh -c 'echo ok >"$1"; exec sleep 100' sh "$tmp/ready"; then
		stop_server
		reap "$rp" 10 || fail "procwait-run did not end"
		[ "$wrc" -eq 143 ] || { fail "procwait-run exit $wrc, want 143"; show "$tmp/berr"; }
	else
		stop_server
	fi
fi
end

begin "SIGTERM to the server: a queued request is refused, 125"
if start_server "$tmp/stopq.sock" --max-children 1 --max-queue 1 --grace 0.5; then
	if bg_run "$tmp/ready" sh -c 'echo ok >"$1"; exec sleep 100' sh "$tmp/ready"; then
		first=$rp
		"$R" -s "$sock" -- touch "$tmp/ran" </dev/null >/dev/null 2>"$tmp/qerr" &
		q=$!
		track "$q"
		sleep 0.5
		stop_server
		reap "$first" 10
		[ "$wrc" -eq 143 ] || fail "the running request: exit $wrc, want 143"
		reap "$q" 10
		[ "$wrc" -eq 125 ] || fail "the queued request: exit $wrc, want 125"
		cp "$tmp/qerr" "$tmp/err"
		expect_clear_err "stopping"
		[ ! -e "$tmp/ran" ] || fail "the queued command ran"
	else
		stop_server
	fi
fi
end

begin "serve --timeout: the default per-request timeout; -t overrides it"
if start_server "$tmp/deft.sock" --timeout 0.5 --grace 0.5; then
	run sleep 100
	expect_rc 143
	expect_err_line "timed out"
	expect_ms 400 10000
	run -t 10 -- sh -c 'sleep 1.5; echo slept'
	expect_rc 0
	expect_out slept
	stop_server
fi
end

begin "--name and the default server, under \$XDG_RUNTIME_DIR/procwait"
for n in default mine; do
	if [ "$n" = default ]; then set -- ; else set -- --name "$n"; fi
	(cd / && exec "$T" serve "$@") </dev/null >/dev/null 2>"$tmp/name.log" &
	srv=$!
	track "$srv"
	sock=$XDG_RUNTIME_DIR/procwait/$n.sock
	i=0
	while [ ! -S "$sock" ] && [ "$i" -lt 100 ] && alive "$srv"; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$sock" ] || { fail "no socket $sock"; show "$tmp/name.log"; }
	[ "$(stat -c %a "$XDG_RUNTIME_DIR/procwait")" = 700 ] ||
		fail "$XDG_RUNTIME_DIR/procwait is not mode 700"
	if [ "$n" = default ]; then
		xrun "$R" echo via default
		expect_rc 0
		expect_out "via default"
	fi
	xrun "$R" -n "$n" echo via name
	expect_rc 0
	expect_out "via name"
	stop_server
	set --
done
xrun "$R" -n a/b true
expect_rc 2
xrun "$R" -n nosuchserver true
expect_rc 125
expect_clear_err "nosuchserver"
end

begin "--idle 1: the server stops by itself, exit 0"
if start_server "$tmp/idle.sock" --idle 1; then
	t0=$(now_ns)
	reap "$srv" 15 || fail "still running 15 s later"
	ms=$(( ($(now_ns) - t0) / 1000000 ))
	[ "$wrc" -eq 0 ] || { fail "exit $wrc, want 0"; show "$sock.log"; }
	expect_ms 500 15000
	[ ! -e "$sock" ] || fail "the socket was left behind"
fi
end

begin "--idle 1: not while a child runs"
if start_server "$tmp/idle2.sock" --idle 1; then
	run sh -c 'sleep 2; echo done'
	expect_rc 0
	expect_out "done"
	reap "$srv" 15 || fail "still running 15 s later"
	[ "$wrc" -eq 0 ] || { fail "exit $wrc, want 0"; show "$sock.log"; }
	[ ! -e "$sock" ] || fail "the socket was left behind"
fi
end

begin "--max-children 1 --max-queue 0: a second run is refused as busy"
if start_server "$tmp/busy.sock" --max-children 1 --max-queue 0; then
	if bg_run "$tmp/ready" sh -c 'echo ok >"$1"; exec sleep 100' sh "$tmp/ready"; then
		run -- touch "$tmp/ran"
		expect_rc 125
		expect_clear_err "busy"
		[ ! -e "$tmp/ran" ] || fail "the command ran"
		kill -TERM "$rp"
		reap "$rp" 10
		[ "$wrc" -eq 143 ] || fail "the long run exit $wrc, want 143"
		# Its slot is free once its result is in.
		run echo free again
		expect_rc 0
		expect_out "free again"
	fi
	stop_server
fi
end

begin "--max-children 1 --max-queue 1: a second run waits for the slot"
if start_server "$tmp/queue.sock" --max-children 1 --max-queue 1; then
	rm -f "$tmp/go" "$tmp/qout"
	if bg_run "$tmp/ready" sh -c 'echo ok >"$1"; while [ ! -e "$2" ]; do sleep 0.05; done' \
		sh "$tmp/ready" "$tmp/go"; then
		first=$rp
		"$R" -s "$sock" echo queued </dev/null >"$tmp/qout" 2>"$tmp/qerr" &
		q=$!
		track "$q"
		sleep 0.5
		alive "$q" || { fail "the queued run ended before the slot was free:"; show "$tmp/qerr"; }
		[ ! -s "$tmp/qout" ] || fail "the queued run ran early"
		touch "$tmp/go"
		reap "$first" 10
		[ "$wrc" -eq 0 ] || fail "the first run exit $wrc"
		reap "$q" 10 || fail "the queued run did not end"
		[ "$wrc" -eq 0 ] || { fail "the queued run exit $wrc"; show "$tmp/qerr"; }
		[ "$(cat "$tmp/qout")" = queued ] || { fail "the queued run's output:"; show "$tmp/qout"; }
	fi
	stop_server
fi
end

begin "a queued run interrupted by SIGTERM exits 143 and its command never runs"
if start_server "$tmp/withdraw.sock" --max-children 1 --max-queue 1; then
	rm -f "$tmp/go" "$tmp/wran"
	if bg_run "$tmp/ready" sh -c 'echo ok >"$1"; while [ ! -e "$2" ]; do sleep 0.05; done' \
		sh "$tmp/ready" "$tmp/go"; then
		first=$rp
		"$R" -s "$sock" sh -c 'echo ran >"$1"' sh "$tmp/wran" </dev/null >/dev/null 2>"$tmp/qerr" &
		q=$!
		track "$q"
		sleep 0.5   # queued by now (and the libtool wrapper has exec'd)
		kill -TERM "$q" 2>/dev/null
		if ! reap "$q" 10; then
			fail "the queued procwait-run ignored SIGTERM"
		elif [ "$wrc" -ne 143 ]; then
			fail "the queued procwait-run exit $wrc, want 143"
			show "$tmp/qerr"
		fi
		touch "$tmp/go"
		reap "$first" 10
		[ "$wrc" -eq 0 ] || fail "the first run exit $wrc"
		run true </dev/null >/dev/null 2>&1   # the slot serves again
		[ ! -e "$tmp/wran" ] || fail "the withdrawn command ran anyway"
	fi
	stop_server
fi
end

# ---- PTY mode --------------------------------------------------------------------

sock=$main_sock srv=$main_srv

begin "--pty: the child has a terminal, our stdin is /dev/null"
runin /dev/null --pty -- sh -c 'test -t 0 && test -t 1 && test -t 2 && tty'
expect_rc 0
tr -d '\r' <"$tmp/out" >"$tmp/o"
if ! grep -Eqx '/dev/pts/[0-9]+' "$tmp/o" || [ "$(wc -l <"$tmp/o")" -ne 1 ]; then
	fail "tty printed:"
	show "$tmp/o"
fi
expect_err_empty
end

begin "--pty: stderr goes through the terminal too"
runin /dev/null --pty -- sh -c 'echo to-stderr >&2'
expect_rc 0
expect_err_empty
[ "$(tr -d '\r' <"$tmp/out")" = to-stderr ] || { fail "stdout:"; show "$tmp/out"; }
end

begin "--pty: output fully delivered (seq 1 20000)"
seq 1 20000 >"$tmp/want"
runin /dev/null --pty -- seq 1 20000
expect_rc 0
tr -d '\r' <"$tmp/out" >"$tmp/o"
cmp -s "$tmp/want" "$tmp/o" || fail "got $(wc -l <"$tmp/o") lines, last '$(tail -n 1 "$tmp/o")'; want 20000"
end

begin "--pty: exit codes pass through"
runin /dev/null --pty -- sh -c 'exit 3'
expect_rc 3
runin /dev/null --pty -- sh -c 'kill -TERM $$'
expect_rc 143
runin /dev/null --pty -- procwait-no-such-program-here
expect_rc 127
tr -d '\r' <"$tmp/out" | grep -Fq procwait-no-such-program-here ||
	{ fail "no message on the terminal:"; show "$tmp/out"; }
end

begin "--pty: our stdin reaches the child"
printf 'hello pty\n' >"$tmp/pin"
runin "$tmp/pin" --pty -- head -n 1
expect_rc 0
tr -d '\r' <"$tmp/out" | grep -Fqx 'hello pty' || { fail "stdout:"; show "$tmp/out"; }
end

begin "--no-pty after --pty: descriptors handed over"
runin /dev/null --pty --no-pty -- sh -c 'test -t 1 || echo no-tty'
expect_rc 0
expect_out no-tty
end

# ---- the end ------------------------------------------------------------------------

begin "serve: SIGTERM stops the main server, exit 0, socket removed"
sock=$main_sock srv=$main_srv
stop_server
end

echo "cli-run: $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
