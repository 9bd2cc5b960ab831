#!/usr/bin/env bats
# The gates of tests/run-bats, tests/lint-bats, tests/sanitizers.check and
# tests/valgrind.check,
# each turned red by a failure planted in a file of its own under $T (never
# in tests/, which the suite runs).

load lib/common

RUNBATS=$BATS_TEST_DIRNAME/run-bats

# plant NAME < BATS: $T/NAME.bats holds the bats text on stdin, where a
# line may say "TEST" for "@test" (bats would take it for one of this file)
plant() { sed 's/^TEST /@test /' >"$T/$1.bats"; }

# clean CMD...: CMD without this bats run's variables, exported functions
# and libexec in PATH (a bats inside would take them for its own), and
# without CI, SANLOG (test-san's) and VGLOG (test-valgrind's)
clean() {
	local v path=:$PATH: unset=(-u CI -u SANLOG -u VGLOG)
	for v in $(compgen -e | grep '^BATS_'); do unset+=(-u "$v"); done
	for v in $(declare -Fx | awk '{ print $3 }'); do unset+=(-u "BASH_FUNC_$v%%"); done
	path=${path//:$BATS_LIBEXEC:/:}
	path=${path#:}
	env "${unset[@]}" PATH="${path%:}" "$@"
}

# gate [VAR=VALUE...] FILE...: tests/run-bats on FILE..., CI unset unless
# given; $output, $status and $last (the summary line)
gate() {
	local envs=()
	while [[ $1 == *=* ]]; do envs+=("$1"); shift; done
	run clean "${envs[@]}" "$RUNBATS" "$@"
	printf '%s\n' "$output"	# shown if the test fails
	last=${lines[${#lines[@]} - 1]}
}

@test "a passing file: green, with the summary line" {
	plant ok <<<'@test "one" { true; }'
	gate "$T/ok.bats"
	[ "$status" -eq 0 ]
	[ "$last" = "1 passed, 0 failed, 0 skipped" ]
}

@test "a failing test: red" {
	plant fail <<<$'@test "one" { true; }\n@test "two" { false; }'
	gate "$T/fail.bats"
	[ "$status" -eq 1 ]
	[ "$last" = "1 passed, 1 failed, 0 skipped" ]
}

@test "a skipped test: counted, and red under CI=true" {
	plant skip <<<$'@test "one" { true; }\n@test "two" { skip "not here"; }'
	gate "$T/skip.bats"
	[ "$status" -eq 0 ]
	[ "$last" = "1 passed, 0 failed, 1 skipped" ]
	gate CI=true "$T/skip.bats"
	[ "$status" -eq 1 ]
	[[ $output == *$'\nnot ok - run-bats: skipped under CI=true: two # skip not here\n'* ]]
	[ "$last" = "1 passed, 1 failed, 1 skipped" ]
}

@test "a run that executes no test: red (no test, a filter that matches none, all skipped)" {
	plant none <<<'# nothing'
	gate "$T/none.bats"
	[ "$status" -eq 1 ]
	[[ $output == *'not ok - run-bats: no test ran'* ]]
	[ "$last" = "0 passed, 1 failed, 0 skipped" ]
	plant ok <<<'@test "one" { true; }'
	gate "$T/ok.bats" --filter nomatch
	[ "$status" -eq 1 ]
	plant skipped <<<'@test "one" { skip; }'
	gate "$T/skipped.bats"
	[ "$status" -eq 1 ]
	[ "$last" = "0 passed, 1 failed, 1 skipped" ]
}

@test "a mid-test ! that matches: red, though bats passes the test" {
	plant bang <<-'EOF'
	TEST "one" {
		! grep -q x <<<x
		true
	}
	EOF
	run clean bats "$T/bang.bats"
	[ "$status" -eq 0 ]
	gate "$T/bang.bats"
	[ "$status" -eq 1 ]
	[[ $output == *"not ok - run-bats: $T/bang.bats:2: \`!\` before the last line"* ]]
	[ "$last" = "1 passed, 1 failed, 0 skipped" ]
}

@test "a test before && before the last line: red; if, || false and the last line are fine" {
	plant chain <<-'EOF'
	TEST "one" {
		[ 1 = 2 ] && [ 1 = 1 ]
		(( 1 > 2 )) && [[ 1 ]]
		true
	}
	EOF
	gate "$T/chain.bats"
	[ "$status" -eq 1 ]
	[ "$(grep -c '^not ok - run-bats: .*: a test before `&&`' <<<"$output")" -eq 2 ]
	plant fine <<-'EOF'
	bats_require_minimum_version 1.5.0
	f() {
		! grep -q x <<<y || false
		[ 1 = 1 ] && [ 2 = 2 ]
	}
	TEST "one" {
		if [ -n "$BATS_TEST_NAME" ] && [ 1 = 1 ]; then f; fi
		! grep -q x <<<y || false
		run ! grep -q x <<<y
		# ! grep in a comment
		cat <<EOT
	! grep in a here-document
	EOT
		[ 1 = 1 ] ||
		    false
		! grep -q x <<<y
	}
	EOF
	gate "$T/fine.bats"
	[ "$status" -eq 0 ]
	[ "$last" = "1 passed, 0 failed, 0 skipped" ]
}

@test "sanitizers.check: a report file is red, so is no SANLOG; an empty SANLOG is green" {
	mkdir "$T/san"
	gate SANLOG="$T/san" "$BATS_TEST_DIRNAME/sanitizers.check"
	[ "$status" -eq 0 ]
	[ "$last" = "1 passed, 0 failed, 0 skipped" ]
	printf '==1==ERROR: AddressSanitizer: planted\n' >"$T/san/asan.1"
	gate SANLOG="$T/san" "$BATS_TEST_DIRNAME/sanitizers.check"
	[ "$status" -eq 1 ]
	[[ $output == *'# ==1==ERROR: AddressSanitizer: planted'* ]]
	[ "$last" = "0 passed, 1 failed, 0 skipped" ]
	gate "$BATS_TEST_DIRNAME/sanitizers.check"
	[ "$status" -eq 1 ]
	[[ $output == *'SANLOG is not set'* ]]
}

@test "valgrind.check: a report file with anything in it is red, so is none at all and no VGLOG; empty ones are green" {
	mkdir "$T/vg"
	gate VGLOG="$T/vg" "$BATS_TEST_DIRNAME/valgrind.check"
	[ "$status" -eq 1 ]
	[[ $output == *"no report file in $T/vg"* ]]
	: >"$T/vg/vg.1"
	: >"$T/vg/vg.2"
	gate VGLOG="$T/vg" "$BATS_TEST_DIRNAME/valgrind.check"
	[ "$status" -eq 0 ]
	[ "$last" = "1 passed, 0 failed, 0 skipped" ]
	printf '==2== 16 bytes in 1 blocks are definitely lost in loss record 1 of 1\n' >"$T/vg/vg.2"
	gate VGLOG="$T/vg" "$BATS_TEST_DIRNAME/valgrind.check"
	[ "$status" -eq 1 ]
	[[ $output == *"# $T/vg/vg.2"* ]]
	[[ $output == *'definitely lost in loss record'* ]]
	[ "$last" = "0 passed, 1 failed, 0 skipped" ]
	gate "$BATS_TEST_DIRNAME/valgrind.check"
	[ "$status" -eq 1 ]
	[[ $output == *'VGLOG is not set'* ]]
}

@test "test-san looks for reports once the suite has ended, and also when it failed" {
	plant fail <<<'@test "one" { printf "planted\n" >"$SANLOG/asan.1"; false; }'
	run clean timeout 120 make -s -o mailproxy-san -C "$BATS_TEST_DIRNAME/.." test-san SANLOG="$T/san" \
	    BATS_FILES="$T/fail.bats"
	printf '%s\n' "$output"
	[ "$status" -ne 0 ]
	# the suite's summary, then the check's
	[[ $output == *$'\n0 passed, 1 failed, 0 skipped\n'*$'\nnot ok 1 no AddressSanitizer'*$'\n0 passed, 1 failed, 0 skipped'* ]]
}
