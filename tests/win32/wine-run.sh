#!/bin/sh
# wine-run.sh PROG.exe [ARGS...]
#
# Runs a cross-built Windows test program under Wine and exits with its exit
# code (0 pass, 1 fail, 77 skip, 99 hard error pass through unchanged), so it
# can serve as automake's LOG_COMPILER (programs in TESTS get $(EXEEXT) and
# take the plain LOG_COMPILER):
#   LOG_COMPILER = $(SHELL) $(srcdir)/tests/win32/wine-run.sh
#
# - WINEPREFIX: taken from the environment, else $PWD/tests/win32/wineprefix
#   (automake runs tests from the top build directory). It is created once,
#   under a lock, so parallel first runs are safe; the marker file
#   .wine-run-ready inside it records the Wine version that set it up.
# - Output: a Windows program writes CRLF line ends (msvcrt text mode); the
#   program itself can _setmode(_fileno(stdout), _O_BINARY) to avoid that.
#   Wine's service processes inherit the std handles of the program that
#   started the wineserver, so a pipe reader (prog | tee) may wait ~1-3 s
#   for them after the program ends; automake's driver writes to a file.
# - Needs no X display: DISPLAY/WAYLAND_DISPLAY are unset for Wine, Mono and
#   Gecko installs and the menu builder are disabled, so no dialog can wait.
# - Exits 77 (skip) when Wine is not installed, 99 when the program is not
#   there, the prefix cannot be made or the run times out.
# - The prefix has no just-in-time debugger: with Wine's default (winedbg
#   --auto) a crashing program printed a backtrace but its exit code was
#   sometimes 0, i.e. a crash could pass. Now a crash prints one "wine:
#   Unhandled page fault ..." line and exits with the exception code.
#
# Wine gives only the low 8 bits of a Windows exit code (a nonzero code whose
# low byte is 0 becomes 1): a crash, 0xC0000005, shows up as 5, abort() as 3,
# a missing DLL (0xC0000135) as 53 with an err:module line on stderr.
#
# Environment knobs:
#   WINE            the wine launcher (default: wine, else wine64)
#   WINESERVER      the wineserver (default: wineserver next to it)
#   WINEDEBUG       default -all,err+module (missing DLLs are still named)
#   WINE_RUN_TIMEOUT  seconds before the run is killed and counted as a hard
#                   error (default 600; 0 = none; Check's own timeouts do not
#                   work without fork)
#   WINE_RUN_PERSIST  seconds a wineserver started here stays up after its
#                   last client (default: unset = Wine's default, which on
#                   Debian is 0: it and its services go ~1 s after the last
#                   program). A few seconds saves ~0.5 s of Wine start per
#                   test; run tests/win32/wine-stop.sh after the tests then.
set -u
me="wine-run.sh"

if [ $# -lt 1 ]; then
	echo "usage: $me PROG.exe [ARGS...]" >&2
	exit 99
fi

if [ -n "${WINE:-}" ]; then
	wine=$WINE
elif command -v wine >/dev/null 2>&1; then
	wine=wine
elif command -v wine64 >/dev/null 2>&1; then
	wine=wine64
else
	echo "$me: SKIP: wine is not installed (Debian: apt-get install wine64), cannot run $1" >&2
	exit 77
fi
if ! command -v "$wine" >/dev/null 2>&1; then
	echo "$me: SKIP: $wine not found, cannot run $1" >&2
	exit 77
fi
if [ -n "${WINESERVER:-}" ]; then
	wineserver=$WINESERVER
else
	wineserver=$(dirname "$(command -v "$wine")")/wineserver
	[ -x "$wineserver" ] || wineserver=wineserver
fi

prog=$1
shift
if [ ! -f "$prog" ] && [ -f "$prog.exe" ]; then
	prog=$prog.exe
fi
if [ ! -f "$prog" ]; then
	echo "$me: no such program: $prog" >&2
	exit 99
fi

WINEPREFIX=${WINEPREFIX:-$PWD/tests/win32/wineprefix}
case $WINEPREFIX in
/*) ;;
*) WINEPREFIX=$PWD/$WINEPREFIX ;;
esac
WINEARCH=${WINEARCH:-win64}
WINEDEBUG=${WINEDEBUG:--all,err+module}
# mscoree/mshtml empty: never offer to install Mono or Gecko; no menu
# builder: no .desktop files or menus written under $HOME.
WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d${WINEDLLOVERRIDES:+;$WINEDLLOVERRIDES}"
export WINEPREFIX WINEARCH WINEDEBUG WINEDLLOVERRIDES
unset DISPLAY WAYLAND_DISPLAY

ready=$WINEPREFIX/.wine-run-ready
# What the marker records: a new Wine or a new setup below redoes the setup.
setup="$("$wine" --version 2>/dev/null </dev/null || echo unknown); wine-run setup 2"

make_prefix() {
	# Under the lock: another run may have made it meanwhile.
	if [ -f "$ready" ] && [ "$(cat "$ready" 2>/dev/null)" = "$setup" ]; then
		return 0
	fi
	mkdir -p "$WINEPREFIX" || return 1
	initlog=$WINEPREFIX/wine-run-init.log
	# wineboot --init makes a new prefix or updates an old one; the registry
	# is written when the wineserver exits, which -w waits for.
	# An empty AeDebug Debugger: no winedbg on a crash (see above).
	# 9>&-: Wine's processes must not keep the lock held.
	if "$wine" wineboot.exe --init </dev/null >"$initlog" 2>&1 9>&- &&
		"$wine" reg.exe add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' \
			/v Debugger /t REG_SZ /d '' /f </dev/null >>"$initlog" 2>&1 9>&- &&
		"$wineserver" -w </dev/null >>"$initlog" 2>&1 9>&- &&
		[ -f "$WINEPREFIX/system.reg" ]; then
		echo "$setup" >"$ready"
		return 0
	fi
	echo "$me: could not set up the Wine prefix $WINEPREFIX; $initlog says:" >&2
	tail -n 20 "$initlog" >&2
	return 1
}

if [ ! -f "$ready" ] || [ "$(cat "$ready" 2>/dev/null)" != "$setup" ]; then
	mkdir -p "$(dirname "$WINEPREFIX")"
	lock=$WINEPREFIX.lock
	if command -v flock >/dev/null 2>&1; then
		(
			flock 9 || exit 1
			make_prefix
		) 9>"$lock" || exit 99
	else
		# mkdir is atomic; a lock left by a killed run is taken over after
		# 300 s (making a prefix takes ~10 s).
		n=0
		until mkdir "$lock.d" 2>/dev/null; do
			n=$((n + 1))
			if [ "$n" -ge 300 ]; then
				rm -rf "$lock.d"
				n=0
			fi
			sleep 1
		done
		make_prefix
		rc=$?
		rmdir "$lock.d" 2>/dev/null
		[ "$rc" -eq 0 ] || exit 99
	fi
fi

if [ -n "${WINE_RUN_PERSIST:-}" ]; then
	# Fails harmlessly (exit 2) when a wineserver for this prefix is already
	# up. The first program started on it keeps Wine's service processes, so
	# start them here with /dev/null for output: a later `prog | cat` must
	# not wait on them.
	if "$wineserver" -p"$WINE_RUN_PERSIST" </dev/null >/dev/null 2>&1; then
		"$wine" cmd.exe /c exit 0 </dev/null >/dev/null 2>&1
	fi
fi

timeout=${WINE_RUN_TIMEOUT:-600}
if [ "$timeout" != 0 ] && command -v timeout >/dev/null 2>&1; then
	# --foreground: stay in make's process group, so ^C still reaches it.
	timeout --foreground -k 10 "$timeout" "$wine" "$prog" "$@"
	rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "$me: $prog timed out after ${timeout}s (WINE_RUN_TIMEOUT)" >&2
		exit 99
	fi
else
	"$wine" "$prog" "$@"
	rc=$?
fi
exit "$rc"
