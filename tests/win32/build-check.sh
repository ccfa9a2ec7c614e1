#!/bin/sh
# build-check.sh PREFIX [CACHEDIR]
#
# Cross-builds the Check unit-test library (the version Debian 12 ships)
# for a MinGW-w64 host and installs it, static only, into PREFIX:
#   PREFIX/lib/libcheck.a, PREFIX/include/check.h (+ check_stdint.h),
#   PREFIX/lib/pkgconfig/check.pc, and PREFIX/lib/libpthread.a (a copy of
#   the toolchain's static libwinpthread.a, see below).
# Use it with:
#   PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig pkg-config --cflags --libs check
#
# The source comes from Debian's pool, checked against the sha256 below, and
# is kept in CACHEDIR (default PREFIX/src). A stamp file makes a second run a
# no-op. Everything the build prints goes to PREFIX/build.log; on success the
# script prints one line, on failure the log's last 30 lines and exits 1.
#
# Environment: HOST (default x86_64-w64-mingw32), JOBS (default: nproc).
#
# Why libpthread.a: Check's configure finds winpthreads (-pthread) and uses a
# mutex in its message packing, so libcheck.a needs pthread_mutex_*. A plain
# -lpthread would pick the toolchain's import library and every test .exe
# would need libwinpthread-1.dll at run time (not on Wine's DLL path). The
# copy in PREFIX/lib is found first through check.pc's -L, so test programs
# link winpthreads statically and import only Windows system DLLs.
set -eu

CHECK_VERSION=0.15.2
CHECK_SHA256=8451b68ac5d6f3157b24f22eceff575bcf566264f6d78f3852f89d4e08cf42e1
CHECK_TARBALL=check_${CHECK_VERSION}.orig.tar.gz
CHECK_URL=https://deb.debian.org/debian/pool/main/c/check/$CHECK_TARBALL

me="build-check.sh"
if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
	echo "usage: $me PREFIX [CACHEDIR]" >&2
	exit 2
fi

HOST=${HOST:-x86_64-w64-mingw32}
mkdir -p "$1"
PREFIX=$(cd "$1" && pwd)
CACHEDIR=${2:-$PREFIX/src}
mkdir -p "$CACHEDIR"
CACHEDIR=$(cd "$CACHEDIR" && pwd)
LOG=$PREFIX/build.log
STAMP=$PREFIX/.check-$CHECK_VERSION-$HOST.stamp
STAMP_TEXT="check $CHECK_VERSION $CHECK_SHA256 $HOST"

installed() {
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_TEXT" ] &&
		[ -f "$PREFIX/lib/libcheck.a" ] && [ -f "$PREFIX/lib/libpthread.a" ] &&
		[ -f "$PREFIX/include/check.h" ] && [ -f "$PREFIX/lib/pkgconfig/check.pc" ]
}

# Two runs at once (make -j, two CI steps) must not build over each other.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$PREFIX/.build-check.lock"
	flock 9
fi

if installed; then
	echo "$me: Check $CHECK_VERSION for $HOST already in $PREFIX"
	exit 0
fi

# A cross build must not see the native build's settings, nor install
# elsewhere, nor take a parent make's command-line variables.
unset CC CPP CFLAGS CPPFLAGS LDFLAGS LIBS CONFIG_SITE DESTDIR \
	MAKEFLAGS MFLAGS MAKELEVEL PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR 2>/dev/null || :
PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig
export PKG_CONFIG_LIBDIR
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

BUILDDIR=$PREFIX/.build.$$
rm -f "$STAMP"
: >"$LOG"
step="starting"
finish() {
	rc=$?
	rm -rf "$BUILDDIR"
	if [ "$rc" -ne 0 ]; then
		echo "$me: FAILED ($step), exit $rc; last 30 lines of $LOG:" >&2
		tail -n 30 "$LOG" >&2
	fi
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { echo "== $me: $*" >>"$LOG"; }
run() { log "$*"; "$@" >>"$LOG" 2>&1 </dev/null; }
die() { log "ERROR: $*"; echo "$me: $*" >&2; exit 1; }

step="checking tools"
for tool in "$HOST-gcc" "$HOST-ar" "$HOST-objdump" make tar gzip sha256sum pkg-config; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install gcc-mingw-w64-x86-64 make pkg-config)"
done

sha_ok() { [ -f "$1" ] && [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$CHECK_SHA256" ]; }

step="downloading $CHECK_URL"
src=$CACHEDIR/$CHECK_TARBALL
if ! sha_ok "$src"; then
	rm -f "$src.part"
	if command -v curl >/dev/null 2>&1; then
		run curl -fsSL --retry 3 --connect-timeout 20 -o "$src.part" "$CHECK_URL" || die "download failed: $CHECK_URL"
	elif command -v wget >/dev/null 2>&1; then
		run wget -q --tries=3 --timeout=20 -O "$src.part" "$CHECK_URL" || die "download failed: $CHECK_URL"
	else
		die "neither curl nor wget is installed"
	fi
	sha_ok "$src.part" || die "sha256 mismatch for $CHECK_URL (got $(sha256sum <"$src.part" | cut -d' ' -f1))"
	mv -f "$src.part" "$src"
fi
log "source $src sha256 OK"

step="unpacking"
mkdir -p "$BUILDDIR"
run tar -xzf "$src" -C "$BUILDDIR"
top=$BUILDDIR/check-$CHECK_VERSION
[ -x "$top/configure" ] || die "no configure in $CHECK_TARBALL"

step="configure"
build=$(sh "$top/build-aux/config.guess" 2>/dev/null || sh "$top/config.guess")
# --build makes configure cross-compile for sure: were a Wine binfmt handler
# registered, it would otherwise run its test programs under Wine.
# _GNU_SOURCE-style defines already select MinGW's C99 printf family; saying
# so makes the %zu in Check's error paths right whatever configure decides.
cd "$top"
run ./configure --build="$build" --host="$HOST" --prefix="$PREFIX" \
	--disable-shared --enable-static --disable-subunit --disable-build-docs \
	--disable-timeout-tests --disable-dependency-tracking --disable-silent-rules \
	CPPFLAGS="-D__USE_MINGW_ANSI_STDIO=1" CFLAGS="-O2 -g" ||
	die "configure failed"

# Only the library and its headers: no docs (texinfo), no checkmk, no
# Check self-tests.
step="make"
run make -j"$JOBS" -C lib || die "make lib failed"
run make -j"$JOBS" -C src || die "make src failed"
step="make install"
run make -C src install || die "make -C src install failed"
run make install-includeHEADERS install-pcdataDATA install-m4dataDATA || die "make install (headers, check.pc) failed"

step="post-install"
# Static only: the libtool archive adds nothing but an absolute path.
rm -f "$PREFIX/lib/libcheck.la"
winpthread=$("$HOST-gcc" -print-file-name=libwinpthread.a)
[ -f "$winpthread" ] || die "$HOST-gcc has no libwinpthread.a (Debian: mingw-w64-x86-64-dev)"
cp -f "$winpthread" "$PREFIX/lib/libpthread.a"
pc=$PREFIX/lib/pkgconfig/check.pc
# shellcheck disable=SC2016
sed -e 's|^Libs:.*|Libs: -L${libdir} -lcheck -lpthread|' "$pc" >"$pc.tmp"
{
	cat "$pc.tmp"
	echo "# build-check.sh: static, for $HOST; -lpthread is the static"
	echo "# winpthreads copied into \${libdir}, so test .exe files need no DLL."
} >"$pc"
rm -f "$pc.tmp"

# check.h marks _ck_assert_failed() format(printf): on MinGW GCC reads that
# as the msvcrt printf, which has no %jd/%ju, so every ck_assert_int_eq()
# and ck_assert_uint_eq() gives -Wformat warnings (errors under -Werror).
# Check formats those messages with its own C99 vsnprintf (configure picks
# the replacement), so gnu_printf is the truth.
hdr=$PREFIX/include/check.h
awk '
$0 == "#define CK_ATTRIBUTE_FORMAT(a, b, c) __attribute__ ((format (a, b, c)))" {
	print "#if defined(__MINGW32__) /* build-check.sh: Check formats with its own C99 vsnprintf */"
	print "#define CK_ATTRIBUTE_FORMAT(a, b, c) __attribute__ ((format (gnu_##a, b, c)))"
	print "#else"
	print
	print "#endif"
	n++
	next
}
{ print }
END { exit n == 1 ? 0 : 1 }' "$hdr" >"$hdr.tmp" || die "check.h: CK_ATTRIBUTE_FORMAT line not found"
mv -f "$hdr.tmp" "$hdr"

step="smoke test"
cat >"$BUILDDIR/smoke.c" <<'EOF'
#include <check.h>
START_TEST(t_ok)
{
	ck_assert_int_eq(1 + 1, 2);
	ck_assert_uint_eq(2u, 2u);
	ck_assert_str_eq("a", "a");
}
END_TEST
int main(void)
{
	Suite *s = suite_create("smoke");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;
	tcase_add_test(tc, t_ok);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
EOF
# shellcheck disable=SC2046
run "$HOST-gcc" -std=c99 -Wall -Wextra -Wformat=2 -Werror -o "$BUILDDIR/smoke.exe" "$BUILDDIR/smoke.c" \
	$(pkg-config --cflags --libs check) || die "cannot link a test program against the new install"
"$HOST-objdump" -p "$BUILDDIR/smoke.exe" >"$BUILDDIR/smoke.dump" 2>>"$LOG" || die "objdump failed"
dlls=$(sed -n 's/^[[:space:]]*DLL Name: //p' "$BUILDDIR/smoke.dump" | tr '\n' ' ')
log "smoke.exe imports: $dlls"
case " $(echo "$dlls" | tr '[:upper:]' '[:lower:]') " in
*winpthread* | *libgcc* | *libcheck*) die "smoke.exe needs non-system DLLs: $dlls" ;;
esac

echo "$STAMP_TEXT" >"$STAMP"
log "done"
echo "$me: Check $CHECK_VERSION built for $HOST into $PREFIX"
