#!/bin/sh
# wine-stop.sh: end the wineserver of the tests' Wine prefix, and with it
# every Wine process still running there (a test's stray child processes,
# Wine's own services), then wait until it is gone. Run it once after the
# test suites (CI: after `make check`, whatever its result) so no Wine
# process outlives the run. Same WINEPREFIX rule as wine-run.sh: the
# environment's, else $PWD/tests/win32/wineprefix. Exits 0 when there is
# nothing to stop or no Wine at all.
set -u
WINEPREFIX=${WINEPREFIX:-$PWD/tests/win32/wineprefix}
case $WINEPREFIX in
/*) ;;
*) WINEPREFIX=$PWD/$WINEPREFIX ;;
esac
export WINEPREFIX
[ -d "$WINEPREFIX" ] || exit 0
if [ -n "${WINESERVER:-}" ]; then
	wineserver=$WINESERVER
elif command -v wineserver >/dev/null 2>&1; then
	wineserver=wineserver
else
	exit 0
fi
# -k exits 1 when no server runs for the prefix, and starts none.
"$wineserver" -k </dev/null >/dev/null 2>&1 || :
if command -v timeout >/dev/null 2>&1; then
	timeout 30 "$wineserver" -w </dev/null >/dev/null 2>&1 || {
		echo "wine-stop.sh: the wineserver of $WINEPREFIX did not go within 30 s" >&2
		exit 1
	}
else
	"$wineserver" -w </dev/null >/dev/null 2>&1
fi
exit 0
