#!/bin/sh
# Build the Debian packages from this tree's release sources, check them
# with lintian, install them and run the installed-package smoke test
# (debian/tests/smoke, through autopkgtest when it is installed):
#
#   tests/packages.sh [OUTDIR]        (from a configured build tree)
#
# OUTDIR (default _packages) receives the sources, the .debs, the build
# log and lintian's report; it must be new, empty, or one this script
# made before (it is emptied then). It needs root (it installs the build
# dependencies and the packages) and Debian's tools; without them it says
# so and exits 77, as it does when procwait's packages are installed
# already (it would replace them). Afterwards every package it installed
# (the build dependencies, the test's, its own) is purged again, unless
# PROCWAIT_PACKAGES_KEEP=1.
set -u
me=packages.sh
out=${1:-_packages}
jobs=$(nproc 2>/dev/null || echo 2)
pkgs="libprocwait0 libprocwait-dev procwait python3-procwait"
marker=.procwait-packages

if [ "$(id -u)" -ne 0 ]; then
	echo "$me: SKIP: needs root (apt-get build-dep, dpkg -i)"
	exit 77
fi
for t in dpkg-buildpackage lintian apt-get make; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "$me: SKIP: no $t (apt-get install dpkg-dev debhelper lintian)"
		exit 77
	fi
done
for p in $pkgs; do
	st=$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null)
	case $st in
	i* | ?c* | ?H* | ?U* | ?F* | ?W* | ?t*)
		echo "$me: SKIP: $p is installed here ($st): this script installs and purges its own; remove it first"
		exit 77 ;;
	esac
done
if [ ! -f Makefile ]; then
	echo "$me: run it from a configured build tree (./configure first)"
	exit 2
fi
if [ -e "$out" ] && [ ! -f "$out/$marker" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
	echo "$me: $out is not empty and was not made by this script: name another directory"
	exit 2
fi
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd) || exit 1
# (only a directory this script made, with its marker, is emptied)
find "$out" -mindepth 1 -maxdepth 1 ! -name "$marker" -exec rm -rf {} + || exit 1
touch "$out/$marker"
version=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
src=$out/procwait-$version

# What is installed now; whatever is installed on top of it is purged at
# the end, on any exit.
installed() {
	dpkg-query -W -f '${db:Status-Abbrev} ${Package}:${Architecture}\n' |
		awk '$1 ~ /^ii/ { print $2 }' | sort
}
installed >"$out/installed-before"
restore() {
	trap - EXIT INT TERM HUP
	[ "${PROCWAIT_PACKAGES_KEEP:-0}" != 1 ] || return 0
	installed >"$out/installed-after"
	added=$(comm -13 "$out/installed-before" "$out/installed-after")
	if [ -n "$added" ]; then
		echo "== removing what this run installed: $(echo $added | wc -w) packages"
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $added >"$out/purge.log" 2>&1 ||
			{ echo "$me: apt-get purge failed:"; tail -5 "$out/purge.log"; }
	fi
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "== the release sources (make distdir)"
make distdir distdir="$src" >"$out/distdir.log" 2>&1 || { tail -20 "$out/distdir.log"; exit 1; }

echo "== build dependencies"
if ! (cd "$src" && dpkg-checkbuilddeps) 2>"$out/builddeps.log"; then
	cat "$out/builddeps.log"
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$src" >"$out/build-dep.log" 2>&1 ||
		{ tail -20 "$out/build-dep.log"; echo "$me: apt-get build-dep failed"; exit 1; }
fi

# The source package too, so that lintian checks it as well as the four.
echo "== dpkg-buildpackage -us -uc (source and binaries, with the test suite)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -j"$jobs") >"$out/build.log" 2>&1; then
	tail -80 "$out/build.log"
	echo "$me: the package build failed (log: $out/build.log)"
	exit 1
fi
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$out/build.log" | head -6
grep -E '^SKIP: ' "$out/build.log" | sort -u | head -20
# (dpkg-buildpackage writes the packages next to the sources: in OUTDIR)
ls -l "$out"/*.deb | awk '{ printf "   %-50s %7d bytes\n", $NF, $5 }' | sed "s|$out/||"

echo "== lintian"
changes=$(ls "$out"/procwait_"$version"_*.changes 2>/dev/null)
if [ -z "$changes" ]; then
	echo "$me: no procwait_${version}_*.changes in $out (debian/changelog's version is not $version?)"
	exit 1
fi
lintian --info --display-info --fail-on error,warning "$changes" >"$out/lintian.log" 2>&1
lrc=$?
cat "$out/lintian.log"
if [ "$lrc" -ne 0 ]; then
	echo "$me: lintian reports errors or warnings"
	exit 1
fi
echo "lintian: no error, no warning"

echo "== the installed packages' smoke test"
debs=$(ls "$out"/*.deb | grep -v -- '-dbgsym_')
if command -v autopkgtest >/dev/null 2>&1; then
	# The null testbed is this machine: autopkgtest installs the .debs and
	# the test's dependencies, then runs debian/tests/smoke.
	# shellcheck disable=SC2086
	autopkgtest -q $debs "$src" -- null >"$out/autopkgtest.log" 2>&1
	rc=$?
	cat "$out/autopkgtest.log"
else
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $debs gcc libc6-dev pkg-config \
		>"$out/install.log" 2>&1 || { tail -20 "$out/install.log"; exit 1; }
	(cd /tmp && "$src/debian/tests/smoke")
	rc=$?
fi
[ "$rc" -eq 0 ] || { echo "$me: the smoke test failed"; exit 1; }
echo "$me: packages built, lintian-clean, installed and smoke-tested"
exit 0
