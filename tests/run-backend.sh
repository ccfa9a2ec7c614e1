#!/bin/sh
# Run one test under one backend: run-backend.sh BACKEND tests/BACKEND/NAME.BACKEND
# runs the program tests/NAME (from the build tree) or the script
# $srcdir/tests/NAME.sh with PROCWAIT_BACKEND=BACKEND. A suite exits 77
# (skip) itself when the backend is not available on this machine.
set -u
backend=$1
marker=$2
name=${marker##*/}
base=tests/${name%.*}
PROCWAIT_BACKEND=$backend
export PROCWAIT_BACKEND
if [ -x "$base" ]; then
	exec "$base"
fi
if [ -f "${srcdir:-.}/$base.sh" ]; then
	exec "${SHELL:-/bin/sh}" "${srcdir:-.}/$base.sh"
fi
echo "run-backend.sh: nothing to run for $marker" >&2
exit 99
