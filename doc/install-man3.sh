#!/bin/sh
# SPDX-License-Identifier: MIT
# Install (or uninstall) Doxygen's section 3 pages of the public API.
#
#   install-man3.sh install   SRC DEST
#   install-man3.sh uninstall SRC DEST
#
# SRC is Doxygen's man3 directory (doc/man/man3), DEST the installed
# section 3 directory. Only pages named for procwait's own API go in:
# procwait_* and PROCWAIT_* (functions, types, macros), and the headers'
# pages, renamed procwait_HEADER.h.3 (Doxygen names them common.h.3,
# wait.h.3, ...; procwait.h.3 keeps its name). The link pages Doxygen
# writes for struct members (error.3, log.3, pid.3, ...) stay out: those
# names belong to the C library's manual. A link page (".so man3/X.3")
# is rewritten to the installed name of its target.
set -eu
action=${1:-}
src=${2:-}
dest=${3:-}
if [ -z "$action" ] || [ -z "$src" ] || [ -z "$dest" ]; then
	echo "usage: $0 install|uninstall SRC DEST" >&2
	exit 2
fi

# The installed name of a page of SRC, or nothing when it stays out.
installed_name() {
	case $1 in
	procwait_*.3 | PROCWAIT_* | procwait.h.3) echo "$1" ;;
	*.h.3) echo "procwait_$1" ;;
	esac
}

case $action in
install)
	[ -d "$src" ] || { echo "$0: no $src (run make doc)" >&2; exit 1; }
	mkdir -p "$dest"
	n=0
	for page in "$src"/*.3; do
		base=${page##*/}
		name=$(installed_name "$base")
		[ -n "$name" ] || continue
		target=$(sed -n 's|^\.so man3/\(.*\)$|\1|p' "$page")
		if [ -n "$target" ]; then
			to=$(installed_name "$target")
			if [ -z "$to" ]; then
				echo "$0: $base links to $target, which is not installed" >&2
				exit 1
			fi
			printf '.so man3/%s\n' "$to" > "$dest/$name"
			chmod 644 "$dest/$name"
		else
			cp "$page" "$dest/$name"
			chmod 644 "$dest/$name"
		fi
		n=$((n + 1))
	done
	echo "installed $n API manual pages in $dest"
	;;
uninstall)
	# Every installed name starts with procwait_ or PROCWAIT_ (or is
	# procwait.h.3): remove by those patterns, so that uninstall works
	# after make clean too.
	rm -f "$dest"/procwait_*.3 "$dest"/PROCWAIT_*.3 "$dest"/procwait.h.3
	;;
*)
	echo "$0: unknown action '$action'" >&2
	exit 2
	;;
esac
