#!/bin/sh
# SPDX-License-Identifier: MIT
#
# tests/check-psutil.sh: psutil's own tests (test_process.py and the
# Process tests of test_linux, test_posix, test_contracts, test_misc and
# test_unicode), run twice by python-binding/tests/psutil_adapter.py:
# with psutil as it is, and with psutil.Process backed by procwait.Process.
# Fails (1) when a test that passes with psutil fails with procwait, and
# lists each with its reason. Skips (77) without python3, a shared
# libprocwait, psutil's installed tests (Debian's python3-psutil has them)
# or pytest. Run by `make check-psutil`, or by hand from the build
# directory:  srcdir=. PYTHON3=/usr/bin/python3 sh tests/check-psutil.sh
set -u
if [ -z "${PROCWAIT_LIBRARY:-}" ] && [ -f lib/.libs/libprocwait.so.0 ]; then
	PROCWAIT_LIBRARY=$PWD/lib/.libs/libprocwait.so.0     # run by hand in the build tree
fi
. "${srcdir:-.}/tests/python-env.sh"
PROCWAIT_LIBRARY=$lib
export PROCWAIT_LIBRARY
tests=$("$py" -c 'import importlib.util as u, os; s = u.find_spec("psutil"); print(os.path.join(list(s.submodule_search_locations)[0], "tests") if s else "")' 2>/dev/null)
if [ -z "$tests" ] || [ ! -f "$tests/test_process.py" ]; then
	echo "SKIP: psutil's tests are not installed for $py (${tests:-no psutil}; apt-get install python3-psutil: /usr/lib/python3/dist-packages/psutil/tests)"
	exit 77
fi
if ! "$py" -c 'import pytest' >/dev/null 2>&1; then
	echo "SKIP: pytest is not installed for $py (apt-get install python3-pytest)"
	exit 77
fi
echo "psutil tests: $tests"
exec "$py" "$src/tests/psutil_adapter.py" "$@"
