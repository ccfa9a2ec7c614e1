#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/python.sh: the Python binding's tests (python-binding/tests), under
# the backend tests/run-backend.sh sets. pytest runs them where it is
# installed, unittest otherwise. Skips (77) without python3, or without a
# shared libprocwait (a static-only build: ctypes needs the .so).
set -u
. "${srcdir:-.}/tests/python-env.sh"
if "$py" -c 'import pytest' >/dev/null 2>&1; then
	exec "$py" -m pytest -v -p no:cacheprovider "$src/tests"
fi
exec "$py" -m unittest discover -v -s "$src/tests" -t "$src"
