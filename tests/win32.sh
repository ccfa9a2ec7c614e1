#!/bin/sh
# The Windows backend's suites, from `make check` on Linux: cross-build
# procwait for x86_64-w64-mingw32 in a build directory of its own
# (tests/win32-build; from a copy of the sources when they are configured
# in place), with Check cross-built once by
# tests/win32/build-check.sh, and run that build's `make check`: the wait
# suites (tests/win32/*.win32) under Wine. Skips (77) with the reason when
# mingw-w64 or Wine is missing (./bootstrap installs both), or when
# PROCWAIT_WIN32_CHECK=no. The inner test-suite.log's summary is printed.
set -u
host=x86_64-w64-mingw32
me=win32.sh
if [ "${PROCWAIT_WIN32_CHECK:-yes}" = no ]; then
	echo "$me: SKIP: PROCWAIT_WIN32_CHECK=no"
	exit 77
fi
if ! command -v "$host-gcc" >/dev/null 2>&1; then
	echo "$me: SKIP: no $host-gcc (apt-get install gcc-mingw-w64-x86-64)"
	exit 77
fi
if ! command -v wine >/dev/null 2>&1 && ! command -v wine64 >/dev/null 2>&1; then
	echo "$me: SKIP: no wine (apt-get install wine64)"
	exit 77
fi
# The inner build is another make: none of the outer make's settings
# (TESTS=tests/win32.sh in MAKEFLAGS would run this script again in it).
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL TESTS TEST_LOGS
src=$(cd "${srcdir:-.}" && pwd)
build=$PWD/tests/win32-build
# A source directory that is itself configured (the in-tree build that
# ./bootstrap makes) refuses a second, out-of-tree configure. Cross-build
# from a pristine copy of the distributed sources then: `make distdir` of
# this build, which keeps the files' times, so an unchanged tree is not
# rebuilt.
if [ -f "$src/config.status" ]; then
	copy=$PWD/tests/win32-src
	echo "$me: $src is configured in place: cross-building a copy of its sources ($copy)"
	if ! make distdir distdir="$copy" top_distdir="$copy" >tests/win32-distdir.log 2>&1; then
		tail -30 tests/win32-distdir.log
		exit 99
	fi
	src=$copy
fi
jobs=$(nproc 2>/dev/null || echo 2)
# Check for mingw, shared by every build tree of this user.
check=${PROCWAIT_MINGW_CHECK:-${XDG_CACHE_HOME:-$HOME/.cache}/procwait/mingw-check-$host}
sh "$src/tests/win32/build-check.sh" "$check" || exit 99

mkdir -p "$build" && cd "$build" || exit 99
if [ ! -f Makefile ] || [ "$src/configure" -nt config.status ]; then
	echo "$me: configure --host=$host"
	if ! PKG_CONFIG=pkg-config PKG_CONFIG_LIBDIR="$check/lib/pkgconfig" \
			"$src/configure" --host="$host" --build="$(sh "$src/build-aux/config.guess")" \
			--enable-werror >configure.log 2>&1; then
		tail -30 configure.log
		exit 99
	fi
fi
echo "$me: build (library, CLI, test programs)"
if ! make -j"$jobs" >build.log 2>&1 || ! make -j"$jobs" check TESTS= >>build.log 2>&1; then
	tail -40 build.log
	exit 99
fi
echo "$me: make check under Wine"
# One suite at a time: Wine under two suites that each start a few hundred
# processes has been seen to refuse a CreateProcess.
make check >check.log 2>&1
rc=$?
sh "$src/tests/win32/wine-stop.sh" >/dev/null 2>&1
grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' check.log
sed -n '/^# TOTAL/,/^# ERROR/p' test-suite.log 2>/dev/null
if [ $rc -ne 0 ]; then
	for l in $(grep -l -E '^(FAIL|ERROR)' tests/win32/*.log 2>/dev/null); do
		echo "---- $build/$l"
		tail -40 "$l"
	done
	exit 1
fi
exit 0
