#!/bin/sh
# SPDX-License-Identifier: MIT
# Write debian/libprocwait0.symbols from the version script and a built
# library:
#
#   debian/gen-symbols.sh [LIBRARY]     (default lib/.libs/libprocwait.so.0)
#
# Every symbol the library exports must carry a version node that
# lib/procwait.sym defines; it is listed as NAME@NODE with the upstream
# version that first had it. Entries already in the symbols file keep
# their version; a new symbol gets the version of configure.ac. Run it
# from the source tree after adding to the API (tests/symbols.sh fails
# until the file is up to date); a symbol that disappears is an ABI break
# that needs a new soname, not a new symbols file.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lib=${1:-$top/lib/.libs/libprocwait.so.0}
script=$top/lib/procwait.sym
out=$top/debian/libprocwait0.symbols
[ -f "$lib" ] || { echo "$0: no library at $lib (build first)" >&2; exit 1; }

version=$(sed -n 's/^AC_INIT(\[procwait\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
[ -n "$version" ] || { echo "$0: no version in configure.ac" >&2; exit 1; }
nodes=$(sed -n 's/^\([A-Za-z0-9_.]*\)[ \t]*{.*/\1/p' "$script")
[ -n "$nodes" ] || { echo "$0: no version node in $script" >&2; exit 1; }

tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.new"' EXIT
# NAME@NODE, one per line: the nodes themselves, then every defined
# dynamic symbol (nm prints NAME@@NODE for a default version).
{
	for n in $nodes; do echo "$n@$n"; done
	nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@@/, "@", $3); print $3 }'
} | sort -u > "$tmp"
bad=$(grep -v '@' "$tmp" || true)
if [ -n "$bad" ]; then
	echo "$0: exported without a version node: $bad" >&2
	exit 1
fi
for s in $(cat "$tmp"); do
	node=${s#*@}
	case " $(echo $nodes) " in
	*" $node "*) ;;
	*) echo "$0: $s: node $node is not in $script" >&2; exit 1 ;;
	esac
done

{
	echo "libprocwait.so.0 libprocwait0 #MINVER#"
	echo "* Build-Depends-Package: libprocwait-dev"
	while read -r s; do
		v=""
		[ -f "$out" ] && v=$(awk -v s="$s" '$1 == s { print $2; exit }' "$out")
		echo " $s ${v:-$version}"
	done < "$tmp"
} > "$tmp.new"
mv "$tmp.new" "$out"
echo "$out: $(($(wc -l < "$out") - 2)) symbols"
