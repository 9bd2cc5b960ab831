#!/usr/bin/env bats
# The README's file table is the map a newcomer reads first: it names every
# source file, and no file that is gone.

load lib/common

@test "the README's file table names every source file, and only files there are" {
	local root=$BATS_TEST_DIRNAME/.. f missing=0
	# the first column of the table under "| File | Role |": `a.c`, `b.c`
	awk '/^\| File \| Role \|$/ { t = 1; next } t && !/^\|/ { exit }
	    t { print $1 }' FS=' [|] ' "$root/README.md" | grep -o '`[^`]*`' |
	    tr -d '`' | grep -v '/$' >"$T/named"
	[ -s "$T/named" ]
	for f in "$root"/*.c "$root"/proto/*.c; do
		f=${f#"$root"/}
		grep -qxF "$f" "$T/named" || { echo "not in the README's table: $f"; missing=1; }
	done
	while read -r f; do
		[ -e "$root/$f" ] || { echo "in the README's table, but gone: $f"; missing=1; }
	done <"$T/named"
	((missing == 0))
}
