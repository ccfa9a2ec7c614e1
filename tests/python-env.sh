# SPDX-License-Identifier: MIT
#
# tests/python-env.sh, sourced by tests/python.sh and tests/check-psutil.sh:
# the python ($PYTHON3, else python3) and the shared library
# ($PROCWAIT_LIBRARY) the binding's tests use, or a skip (exit 77) with the
# reason; then $py, $src (python-binding in the source tree) and the
# environment the binding is imported with.
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
