#!/bin/sh
# The manual pages say what the programs say: every option of each --help
# table (-x, --long) appears in the program's page, so does every
# PROCWAIT_* variable the program reads, --version names the program and
# the version the page carries, and groff formats each page without a
# warning (lintian's check).
set -u
top=$(cd "${srcdir:-.}" && pwd)
T=${PROCWAIT_TOOL:-tools/procwait}
bindir=$(dirname "$T")
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# The page's text with roff's escapes taken out: \- is -, fonts go.
page_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/-/g' -e 's/\\&//g' "$1"
}

# The options a --help output defines: its table lines, "  -x, --long"
# or "      --long".
help_options() {
	sed -n 's/^ \{1,8\}\(-[A-Za-z0-9], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\1\2/p' |
		tr ',' '\n' | tr -d ' ' | grep -v '^$'
}

# The PROCWAIT_* variables the given sources read.
env_read() {
	grep -ho 'getenv("PROCWAIT_[A-Z0-9_]*"\|environ[.a-z]*[[(]"PROCWAIT_[A-Z0-9_]*"' "$@" |
		grep -o 'PROCWAIT_[A-Z0-9_]*' | sort -u
}

check_page() {       # check_page PAGE PROGRAM-WITH---version|"" HELP-COMMAND...
	name=$1
	page=doc/$1.1
	prog=$2
	shift 2
	if [ ! -f "$page" ]; then
		fail "no $page (configure makes it from $page.in)"
		return
	fi
	text=$(page_text "$page")
	n=0
	for cmd in "$@"; do
		# shellcheck disable=SC2086
		help=$($cmd --help 2>&1) || { fail "$cmd --help exited $?"; continue; }
		k=0
		for opt in $(printf '%s\n' "$help" | help_options); do
			k=$((k + 1))
			# the option itself, not a part of a longer one (-t in --timeout)
			printf '%s\n' "$text" | grep -qE -e "(^|[^-[:alnum:]])$opt([^-[:alnum:]]|\$)" ||
				fail "$page lacks $opt (from $cmd --help)"
		done
		[ "$k" -gt 0 ] || fail "no option found in $cmd --help: has its format changed?"
		n=$((n + k))
	done
	if [ -n "$prog" ]; then
		v=$("$prog" --version 2>&1 | head -1)
		pv=$(sed -n 's/^\.TH .*"procwait \([^"]*\)".*/\1/p' "$page")
		case $v in
		"$name $pv "* | "$name $pv") ;;
		*) fail "$prog --version says '$v'; $page carries version '$pv'" ;;
		esac
	fi
	if command -v groff >/dev/null 2>&1; then
		w=$(groff -k -man -ww -z -Tutf8 "$page" 2>&1)
		[ -z "$w" ] || fail "groff warns on $page: $w"
	else
		echo "($page: groff is not installed, its formatting is not checked)"
	fi
	echo "$page: $n options checked"
}

check_env() {        # check_env PAGE SOURCE...
	page=doc/$1.1
	shift
	[ -f "$page" ] || return
	text=$(page_text "$page")
	vars=$(env_read "$@")
	[ -n "$vars" ] || fail "no PROCWAIT_* variable found in $*"
	for v in $vars; do
		printf '%s\n' "$text" | grep -qF -e "$v" || fail "$page lacks $v, which the program reads"
	done
	echo "$page: environment checked ($(echo $vars | wc -w) variables)"
}

B=${PROCWAIT_BENCH:-bench/procwait-bench}
check_page procwait "$T" "$T" "$T wait" "$T info" "$T serve"
check_env procwait "$top"/tools/procwait.c "$top"/tools/cmd-*.c "$top"/tools/cli-util.c "$top"/lib/backend.c
if [ -x "$bindir/procwait-run" ]; then
	check_page procwait-run "$bindir/procwait-run" "$bindir/procwait-run"
	check_env procwait-run "$top"/tools/procwait-run.c "$top"/tools/cli-client.c "$top"/tools/cli-util.c \
		"$top"/lib/backend.c
	# procwait-python has no option of its own (its --help is python3's):
	# its page is checked for the variables it and its server read.
	# The module's commands are checked as the tools are.
	if [ -n "${PYTHON3:-}" ] && "$PYTHON3" -c 'import procwait' 2>/dev/null; then
		check_page procwait-python "" "$PYTHON3 -m procwait serve" "$PYTHON3 -m procwait watch" \
			"$PYTHON3 -m procwait servers" "$PYTHON3 -m procwait stop"
	else
		echo "(python3 -m procwait is not importable here: its commands' options are not checked)"
		check_page procwait-python ""
	fi
	check_env procwait-python "$top"/tools/procwait-python.c "$top"/tools/python-*.c \
		"$top"/python-binding/procwait/_lib.py "$top"/python-binding/procwait/_py*.py \
		"$top"/python-binding/procwait/_hugepages.py "$top"/python-binding/procwait/__main__.py
	check_page procwait-bench "$B" "$B"
	check_env procwait-bench "$top"/bench/*.c
fi
# The API's pages, as Doxygen writes them from the headers (when doxygen
# is installed): groff has nothing to say of any of them either.
if [ -d doc/man/man3 ] && command -v groff >/dev/null 2>&1; then
	n=0
	for p in doc/man/man3/*.3; do
		grep -q '^\.so ' "$p" && continue
		n=$((n + 1))
		w=$(groff -k -man -ww -z -Tutf8 "$p" 2>&1)
		[ -z "$w" ] || fail "groff warns on $p (from a header's comment): $w"
	done
	echo "doc/man/man3: $n pages checked"
else
	echo "(doc/man/man3: no Doxygen pages or no groff here, not checked)"
fi
exit $failed
