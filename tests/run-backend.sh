#!/bin/sh
# Run one test under one backend: run-backend.sh BACKEND tests/BACKEND/NAME.BACKEND
# runs the program tests/NAME (from the build tree) or the script
# $srcdir/tests/NAME.sh with PROCWAIT_BACKEND=BACKEND. A suite exits 77
# (skip) itself when the backend is not available on this machine.
#  - kqueue on Linux: the programs of tests/kqemu/, linked with the
#    kqueue emulation (tests/kqueue-emu), are preferred when they exist;
#  - win32: the cross-built tests/NAME.exe runs under Wine
#    (tests/win32/wine-run.sh).
set -u
backend=$1
marker=$2
name=${marker##*/}
base=tests/${name%.*}
PROCWAIT_BACKEND=$backend
export PROCWAIT_BACKEND
# The suites expect "not found" (ENOENT, 127) for a program that is on
# no PATH directory. execvp's search, which procwait's follows, answers
# EACCES (126) instead when an entry of PATH may not be searched, as
# another user's ~/.pyenv/bin in a PATH kept by su: leave such entries
# out, and the empty one (the current directory).
clean=""
old_ifs=$IFS
IFS=:
set -f
for d in $PATH; do
	if [ -n "$d" ] && [ -d "$d" ] && [ -x "$d" ]; then
		clean=${clean:+$clean:}$d
	fi
done
IFS=$old_ifs
set +f
PATH=${clean:-/usr/bin:/bin}
export PATH
if [ "$backend" = kqueue ] && [ -x "tests/kqemu/${name%.*}" ]; then
	exec "tests/kqemu/${name%.*}"
fi
if [ "$backend" = win32 ]; then
	exec "${SHELL:-/bin/sh}" "${srcdir:-.}/tests/win32/wine-run.sh" "$base.exe"
fi
if [ -x "$base" ]; then
	exec "$base"
fi
if [ -f "${srcdir:-.}/$base.sh" ]; then
	exec "${SHELL:-/bin/sh}" "${srcdir:-.}/$base.sh"
fi
echo "run-backend.sh: nothing to run for $marker" >&2
exit 99
