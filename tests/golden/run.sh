#!/usr/bin/env bash
# run.sh: the golden end-to-end runner. Each tests/golden/NAME.cmd is one shell command line run
# by bash from the project root with the built fixit first on PATH; its stdout must equal
# NAME.out, its stderr NAME.err (empty when absent), its exit status NAME.status (0 when absent).
#
#   tests/golden/run.sh [BUILD_DIR] [NAME...]    run all cases, or the named ones
#   GOLDEN_UPDATE=1 tests/golden/run.sh ...      rewrite the expected files from what happens
#
# Prints PASS/FAIL per case (a unified diff for each failure) and a last line
# `golden: N passed, N failed`; exits non-zero if any case failed.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2
root=$PWD
build=${1:-${BUILD:-build}}
[ $# -gt 0 ] && shift
dir=tests/golden
work=$build/golden
mkdir -p "$work"

if [ $# -gt 0 ]; then
	cases=()
	for n in "$@"; do cases+=("$dir/${n%.cmd}.cmd"); done
else
	shopt -s nullglob
	cases=("$dir"/*.cmd)
fi

# Output must not depend on who runs the tests or where.
export LC_ALL=C TZ=UTC NO_COLOR=1
case $build in
/*) export PATH="$build:$PATH" ;;
*) export PATH="$root/$build:$PATH" ;;
esac

passed=0
failed=0
for cmdfile in "${cases[@]}"; do
	name=$(basename "$cmdfile" .cmd)
	if [ ! -f "$cmdfile" ]; then
		echo "FAIL golden/$name: no such case"
		failed=$((failed + 1))
		continue
	fi
	out=$work/$name.out
	err=$work/$name.err
	timeout 120 bash -c "$(cat "$cmdfile")" >"$out" 2>"$err" </dev/null
	status=$?

	if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$out" "$dir/$name.out"
		if [ -s "$err" ]; then cp "$err" "$dir/$name.err"; else rm -f "$dir/$name.err"; fi
		if [ "$status" -ne 0 ]; then echo "$status" >"$dir/$name.status"; else rm -f "$dir/$name.status"; fi
		echo "UPDATED golden/$name"
		passed=$((passed + 1))
		continue
	fi

	want_status=0
	[ -f "$dir/$name.status" ] && want_status=$(tr -d ' \n' <"$dir/$name.status")
	report=""
	if [ "$status" != "$want_status" ]; then
		report+="exit status $status, expected $want_status"$'\n'
	fi
	for stream in out err; do
		expected=$dir/$name.$stream
		[ -f "$expected" ] || expected=/dev/null
		if ! d=$(diff -u --label "expected $name.$stream" --label "actual" "$expected" "$work/$name.$stream"); then
			report+="$d"$'\n'
		fi
	done
	if [ -z "$report" ]; then
		echo "PASS golden/$name"
		passed=$((passed + 1))
	else
		echo "FAIL golden/$name: $(cat "$cmdfile")"
		printf '%s' "$report" | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done

echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
