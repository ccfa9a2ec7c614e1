#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/python.sh: the Python binding's tests (python-binding/tests), under
# the backend tests/run-backend.sh sets. pytest runs them where it is
# installed, unittest otherwise. Skips (77) without python3, or without a
# shared libprocwait (a static-only build: ctypes needs the .so).
set -u
py=${PYTHON3:-python3}
if ! command -v "$py" >/dev/null 2>&1; then
	echo "SKIP: python3 is not installed (apt-get install python3)"
	exit 77
fi
lib=${PROCWAIT_LIBRARY:-}
if [ -z "$lib" ] || [ ! -f "$lib" ]; then
	echo "SKIP: no shared libprocwait at '${lib}' (a static-only build: ctypes needs the .so)"
	exit 77
fi
src=${srcdir:-.}/python-binding
PYTHONPATH=$src${PYTHONPATH:+:$PYTHONPATH}
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH PYTHONDONTWRITEBYTECODE
echo "python: $("$py" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
if "$py" -c 'import pytest' >/dev/null 2>&1; then
	exec "$py" -m pytest -v -p no:cacheprovider "$src/tests"
fi
exec "$py" -m unittest discover -v -s "$src/tests" -t "$src"
