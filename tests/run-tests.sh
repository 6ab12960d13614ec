#!/usr/bin/env bash
# run-tests.sh: what `make test` runs once everything is built: each cmocka unit binary given
# as an argument, the stand-alone check of include/fixit.h (C11, and C++ when a C++ compiler
# exists), the export check of libfixit.so, and the golden end-to-end cases.
# Environment: BUILD (build directory), CC, CXX; VERBOSE=1 shows every unit test's output.
# The last line is `N passed, N failed`, counting individual tests; the exit status is 1 if any
# failed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
build=${BUILD:-build}
cc=${CC:-gcc}
cxx=${CXX:-g++}
passed=0
failed=0

# --- Unit tests ----------------------------------------------------------------------------------
# cmocka prints its summary (on stderr) as "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s),
# listed below:", once per group. A binary that dies before its summary (a sanitizer report,
# a signal cmocka cannot catch, a timeout) keeps the tests it finished and counts one failure.
export CMOCKA_MESSAGE_OUTPUT=STDOUT
for bin in "$@"; do
	name=$(basename "$bin")
	log=$build/tests/$name.log
	timeout 300 "$bin" >"$log" 2>&1 </dev/null
	status=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
	if ! grep -q '^\[  PASSED  \] [0-9]' "$log" && ! grep -q '^\[  FAILED  \] [0-9]' "$log"; then
		# No summary: count what finished, and the crash as one more failure.
		p=$(grep -c '^\[       OK \]' "$log")
		f=$(($(grep -c '^\[  FAILED  \]' "$log") + 1))
	elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -eq 0 ]; then
		echo "PASS $name: $p tests"
		[ "${VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$log"
	else
		echo "FAIL $name: $p passed, $f failed, exit status $status"
		sed 's/^/    /' "$log"
	fi
done

# --- Header check ----------------------------------------------------------------------------------
# fixit.h must compile with nothing before it and no feature macros, strictly, in C and in C++.
check() {
	local what=$1 log=$build/tests/header-$2.log
	shift 2
	if "$@" >"$log" 2>&1; then
		echo "PASS $what"
		passed=$((passed + 1))
	else
		echo "FAIL $what: $*"
		sed 's/^/    /' "$log"
		failed=$((failed + 1))
	fi
}
mkdir -p "$build/tests"
check "header fixit.h as C11" c "$cc" -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wundef -Wvla -Wpointer-arith -Wwrite-strings -Wcast-qual -Werror \
	-Iinclude -c tests/header_check.c -o "$build/tests/header_check.o"
if command -v "$cxx" >/dev/null 2>&1; then
	check "header fixit.h as C++" cxx "$cxx" -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Wshadow \
		-Wundef -Wcast-qual -Wold-style-cast -Werror \
		-Iinclude -c tests/header_check.c -o "$build/tests/header_check_cxx.o"
fi

# --- Exports ------------------------------------------------------------------------------------------
# libfixit.so must export exactly the functions fixit.h declares: none missing (declared but
# never written), none extra (an internal name leaking).
exports() {
	local want got
	want=$(grep -oE '^ +fx_[A-Za-z0-9_]+;' "$build/libfixit.map" | tr -d ' ;' | LC_ALL=C sort)
	got=$(nm -D --defined-only "$build/libfixit.so.0" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' | LC_ALL=C sort)
	diff -u --label "declared in fixit.h" --label "exported by libfixit.so" \
		<(echo "$want") <(echo "$got")
}
check "libfixit.so exports exactly the API of fixit.h" exports exports

# --- Golden cases ------------------------------------------------------------------------------------
golden_log=$build/golden.log
bash tests/golden/run.sh "$build" | tee "$golden_log"
summary=$(tail -n 1 "$golden_log")
if [[ $summary =~ ^golden:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	passed=$((passed + BASH_REMATCH[1]))
	failed=$((failed + BASH_REMATCH[2]))
else
	echo "FAIL golden runner: no summary"
	failed=$((failed + 1))
fi

# --- The built-in knowledge base: its own tests, then the corpus of real messages -----------------
# `fixit test` checks every pattern's examples and near-misses and every case in the rule files;
# on tests/corpus/ it also measures top-1 / top-3 remedy accuracy and false alarms, and fails
# under 95% top-3 or on any false alarm. Both print their figures; each counts as one test here.
kbtest() {
	local what=$1 log=$build/tests/kb-$2.log
	shift 2
	if env -u FIXIT_RULES "$build/fixit" test "$@" >"$log" 2>&1; then
		echo "PASS $what"
		passed=$((passed + 1))
		grep -E '^(accuracy|false alarms|patterns):' "$log" | sed 's/^/    /'
	else
		echo "FAIL $what"
		sed 's/^/    /' "$log"
		failed=$((failed + 1))
	fi
}
kbtest "fixit test: the built-in knowledge base's patterns and cases" builtin
kbtest "fixit test: the corpus of real messages (top-3 >= 95%, no false alarm)" corpus \
	--min-top3 95 tests/corpus

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
