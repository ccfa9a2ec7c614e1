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

# The exported set, with its version nodes, is the one that
# debian/libprocwait0.symbols records: a symbol gone is an ABI break (it
# needs a new soname, not a new file); a new one is recorded by running
# debian/gen-symbols.sh.
symfile="${srcdir:-.}/debian/libprocwait0.symbols"
if [ ! -f "$symfile" ]; then
	echo "FAIL: no $symfile"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@@/, "@", $3); print $3 }' | sort >"$tmp/have"
awk '/^ / { split($1, a, "@"); if (a[1] != a[2]) print $1 }' "$symfile" | sort >"$tmp/listed"
gone=$(comm -13 "$tmp/have" "$tmp/listed")
new=$(comm -23 "$tmp/have" "$tmp/listed")
if [ -n "$gone" ]; then
	echo "FAIL: in $symfile but no longer exported (an ABI break):"
	printf '  %s\n' $gone
fi
if [ -n "$new" ]; then
	echo "FAIL: exported but not in $symfile (run debian/gen-symbols.sh):"
	printf '  %s\n' $new
fi
[ -z "$gone$new" ] || exit 1
# The packages' version is the release's (debian/changelog's first line).
want=$(sed -n 's/^AC_INIT(\[procwait\], *\[\([^]]*\)\].*/\1/p' "${srcdir:-.}/configure.ac")
have=$(sed -n '1s/^procwait (\([^)]*\)).*/\1/p' "${srcdir:-.}/debian/changelog")
if [ "$want" != "$have" ]; then
	echo "FAIL: debian/changelog is at version '$have', configure.ac at '$want' (add a changelog entry)"
	exit 1
fi
echo "the exports match $symfile ($(wc -l <"$tmp/have") symbols)"
exit 0
