#!/bin/sh
# Build the Debian packages from this tree's release sources, check them
# with lintian, install them and run the installed-package smoke test
# (debian/tests/smoke, through autopkgtest when it is installed):
#
#   tests/packages.sh [OUTDIR]        (from a configured build tree)
#
# OUTDIR (default _packages) receives the .debs, the build log and
# lintian's report. It needs root (it installs the build dependencies and
# the packages) and Debian's tools; without them it says so and exits 77.
# The packages are removed again afterwards unless they were installed
# before or PROCWAIT_PACKAGES_KEEP=1.
set -u
me=packages.sh
out=${1:-_packages}
jobs=$(nproc 2>/dev/null || echo 2)
pkgs="libprocwait0 libprocwait-dev procwait python3-procwait"

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
if [ ! -f Makefile ]; then
	echo "$me: run it from a configured build tree (./configure first)"
	exit 2
fi
version=$(sed -n 's/^PACKAGE_VERSION = //p' Makefile)
rm -rf "$out" && mkdir -p "$out" && out=$(cd "$out" && pwd)
src=$out/procwait-$version

echo "== the release sources (make distdir)"
make distdir distdir="$src" >"$out/distdir.log" 2>&1 || { tail -20 "$out/distdir.log"; exit 1; }

echo "== build dependencies"
if ! (cd "$src" && dpkg-checkbuilddeps) 2>"$out/builddeps.log"; then
	cat "$out/builddeps.log"
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq "$src" >"$out/build-dep.log" 2>&1 ||
		{ tail -20 "$out/build-dep.log"; echo "$me: apt-get build-dep failed"; exit 1; }
fi

echo "== dpkg-buildpackage -us -uc -b (with the test suite)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -j"$jobs") >"$out/build.log" 2>&1; then
	tail -80 "$out/build.log"
	echo "$me: the package build failed (log: $out/build.log)"
	exit 1
fi
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$out/build.log" | head -6
grep -E '^SKIP: ' "$out/build.log" | sort -u | head -20
# (dpkg-buildpackage writes the packages next to the sources: in OUTDIR)
ls -l "$out"/*.deb | awk '{ printf "   %-50s %7d bytes\n", $NF, $5 }' | sed "s|$out/||"

echo "== lintian"
changes=$(ls "$out"/procwait_"$version"_*.changes)
lintian --info --display-info --fail-on error,warning "$changes" >"$out/lintian.log" 2>&1
lrc=$?
cat "$out/lintian.log"
if [ "$lrc" -ne 0 ]; then
	echo "$me: lintian reports errors or warnings"
	exit 1
fi
echo "lintian: no error, no warning"

before=""
for p in $pkgs; do
	dpkg -s "$p" >/dev/null 2>&1 && before="$before $p"
done
remove() {
	[ -z "$before" ] && [ "${PROCWAIT_PACKAGES_KEEP:-0}" != 1 ] || return 0
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $pkgs >/dev/null 2>&1 || true
}
trap remove EXIT

echo "== the installed packages' smoke test"
if command -v autopkgtest >/dev/null 2>&1; then
	# The null testbed is this machine: autopkgtest installs the .debs and
	# the test's dependencies, then runs debian/tests/smoke.
	autopkgtest -q "$out"/*.deb "$src" -- null >"$out/autopkgtest.log" 2>&1
	rc=$?
	cat "$out/autopkgtest.log"
else
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$out"/*.deb gcc libc6-dev pkg-config \
		>"$out/install.log" 2>&1 || { tail -20 "$out/install.log"; exit 1; }
	(cd /tmp && "$src/debian/tests/smoke")
	rc=$?
fi
[ "$rc" -eq 0 ] || { echo "$me: the smoke test failed"; exit 1; }
echo "$me: packages built, lintian-clean, installed and smoke-tested"
exit 0
