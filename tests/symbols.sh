#!/bin/sh
# The shared library exports the public API and nothing else.
set -u
lib="${PROCWAIT_LIBDIR:-lib/.libs}/libprocwait.so"
if [ ! -f "$lib" ]; then
	echo "SKIP: no shared library at $lib (static-only build)"
	exit 77
fi
if ! command -v nm >/dev/null 2>&1; then
	echo "SKIP: nm is not installed"
	exit 77
fi
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { sub(/@.*/, "", $3); print $3 }')
bad=$(printf '%s\n' "$syms" | grep -v '^procwait_' | grep -v '^$' || true)
count=$(printf '%s\n' "$syms" | grep -c '^procwait_')
echo "exported procwait_ symbols: $count"
if [ -n "$bad" ]; then
	echo "FAIL: symbols exported beyond the public API:"
	printf '  %s\n' $bad
	exit 1
fi
if [ "$count" -lt 20 ]; then
	echo "FAIL: only $count public symbols exported"
	exit 1
fi
# Every exported function is declared in a public header (version.h is
# generated from version.h.in).
hdrs="${srcdir:-.}/include/procwait"
for s in $syms; do
	if ! grep -q "\\b$s *(" "$hdrs"/*.h "$hdrs"/*.h.in; then
		echo "FAIL: $s is exported but declared in no public header"
		exit 1
	fi
done
exit 0
