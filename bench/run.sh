#!/usr/bin/env bash
# run.sh: the engine benchmarks behind `make bench`; see bench/README.md for what each measures.
# Prints one line a case: `bench NAME SIZE firings=N [expected=N] ms=T rss_kb=K [instructions=N]
# cmd=COMMAND`, COMMAND rerunning that case alone from the project root. Exits non-zero when a
# run fails, a Manners or Waltz firing count differs from CLIPS's, or a seating is invalid.
# Log cases add `mb_s=X ref=rg:Y,grep:Z` (MiB/s), the one-message case `ratio=R ref=grep:MS`;
# diagnose-log-jobs-200 is the 200-pattern case with --jobs 0 (a thread a core).
# Environment: BUILD (directory holding fixit, default build), CALLGRIND=1 (also count
# instructions under valgrind), BENCH_ONLY (an extended regex on "NAME SIZE": run only those),
# BENCH_LOG_MB (size of the generated log, default 200).

set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2

BUILD=${BUILD:-build}
CALLGRIND=${CALLGRIND:-}
BENCH_ONLY=${BENCH_ONLY:-}
FIXIT=$BUILD/fixit
GEN=$BUILD/bench
TIME=/usr/bin/time
FIRINGS_RE='^;; ([0-9]+) firings?, '

if [ ! -x "$FIXIT" ]; then
	echo "bench: $FIXIT not found: run make first" >&2
	exit 2
fi

# Debian package that provides a missing tool, installed only when we may (root with apt-get).
need_tool() {
	if [ ! -x "$1" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing Debian package $2 for $1" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; }
	fi
	[ -x "$1" ]
}

if ! need_tool "$TIME" time; then
	echo "bench: $TIME missing (Debian package time): rss_kb will read NA" >&2
	TIME=
fi
if [ "$CALLGRIND" = 1 ] && ! need_tool /usr/bin/valgrind valgrind; then
	echo "bench: CALLGRIND=1 needs valgrind (Debian package valgrind)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fixit-bench.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
failed=0

# Generated inputs: cheap and deterministic, so they are rebuilt every time.
mkdir -p "$GEN" || exit 2
for n in 1 100 1000; do
	sh bench/gen-constant.sh "$n" >"$GEN/constant-$n.yaml" || exit 2
done
sh bench/gen-diagnosis.sh rules 1000 >"$GEN/diagnosis.yaml" || exit 2
for n in 10000 100000; do
	sh bench/gen-diagnosis.sh facts "$n" >"$GEN/diagnosis-$n.fct" || exit 2
done

now_us() {
	local t=$EPOCHREALTIME
	echo "${t/./}"
}

# timed COMMAND...: sets ms and rss from one run with stdout in $tmp/out; 1 when it failed.
timed() {
	local t0 t1 rc
	t0=$(now_us)
	if [ -n "$TIME" ]; then
		"$TIME" -f '%e %M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err"
	else
		"$@" >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
	t1=$(now_us)
	ms=$(((t1 - t0 + 500) / 1000))
	rss=NA
	if [ -n "$TIME" ] && [ -s "$tmp/time" ]; then
		rss=$(awk 'END { print $2 }' "$tmp/time")
	fi
	return "$rc"
}

# run_case NAME SIZE EXPECTED COMMAND...   (EXPECTED empty: no expected count)
# Leaves the run's stdout in $tmp/out for checks made by the caller.
run_case() {
	local name=$1 size=$2 expected=$3
	shift 3
	local cmd="$*" firings=NA instr="" rc line ms rss
	: >"$tmp/out"
	if [ -n "$BENCH_ONLY" ] && ! [[ "$name $size" =~ $BENCH_ONLY ]]; then
		return 1
	fi
	timed "$@"
	rc=$?
	line=$(tail -n 1 "$tmp/out")
	if [[ "$line" =~ $FIRINGS_RE ]]; then
		firings=${BASH_REMATCH[1]}
	fi
	if [ "$rc" -ne 0 ] || [ "$firings" = NA ]; then
		echo "bench: $name $size: exit status $rc: $cmd" >&2
		tail -n 5 "$tmp/err" >&2
		failed=1
	fi
	if [ "$CALLGRIND" = 1 ]; then
		valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >/dev/null 2>"$tmp/cg"
		instr=$(awk '/Collected :/ { n = $NF } END { print n }' "$tmp/cg")
		[ -n "$instr" ] || { instr=NA; failed=1; echo "bench: $name $size: no callgrind total" >&2; }
		instr=" instructions=$instr"
	fi
	if [ -n "$expected" ]; then
		if [ "$firings" != "$expected" ]; then
			echo "bench: $name $size: $firings firings, CLIPS 6.4 fires $expected" >&2
			failed=1
		fi
		expected=" expected=$expected"
	fi
	echo "bench $name $size firings=$firings$expected ms=$ms rss_kb=$rss$instr cmd=$cmd"
	return 0
}

# Firing counts of CLIPS 6.4 (depth strategy) on the same data, from the data's README.
declare -A manners_expected=([16]=183 [32]=623 [64]=2271 [128]=8639)
declare -A waltz_expected=([12]=3576 [25]=7164 [37]=10476 [50]=14064)

for n in 16 32 64 128; do
	data=bench/data/manners$n.fct
	run_case manners "$n" "${manners_expected[$n]}" \
		"$FIXIT" run bench/manners.yaml --facts "$data" --quiet || continue
	if ! sh bench/check-seating.sh "$tmp/out" "$data" >"$tmp/check" 2>&1; then
		echo "bench: manners $n: invalid seating" >&2
		cat "$tmp/check" >&2
		failed=1
	fi
done

for n in 12 25 37 50; do
	run_case waltz "$n" "${waltz_expected[$n]}" \
		"$FIXIT" run bench/waltz.yaml --facts "bench/data/waltz$n.fct" --quiet
done

for n in 1 100 1000; do
	run_case constant "$n" "" "$FIXIT" run "$GEN/constant-$n.yaml" --quiet
done

for n in 10000 100000; do
	run_case diagnosis "$n" "" \
		"$FIXIT" run "$GEN/diagnosis.yaml" --facts "$GEN/diagnosis-$n.fct" --quiet
done

# --- Log scanning (bench/gen-log.sh): fixit diagnose --lines over a device log with 50, 200 and
# 1,000 generated patterns, against `rg -j1` and `grep -E` counting lines on the same regexes
# (caseless, one thread). firings= is the number of diagnosed cases (the kb has one rule),
# rg's and grep's the lines they count; mb_s= is MiB of log a second, ref= the others' mb_s.
# BENCH_LOG_MB (default 200) sets the log's size.
BENCH_LOG_MB=${BENCH_LOG_MB:-200}
RG=$(command -v rg || true)
[ -n "$RG" ] || echo "bench: rg (ripgrep) not found: its reference is left out" >&2


mb_s() {
	awk -v mb="$BENCH_LOG_MB" -v ms="$1" 'BEGIN { printf "%.1f", (ms > 0 ? mb * 1000 / ms : 0) }'
}

want_case() {
	[ -z "$BENCH_ONLY" ] || [[ "$1 $2" =~ $BENCH_ONLY ]]
}

if want_case diagnose-log "$BENCH_LOG_MB" || want_case rg-log "$BENCH_LOG_MB" ||
	want_case grep-log "$BENCH_LOG_MB" || want_case diagnose-message 1; then
	BENCH_LOG_MB=$BENCH_LOG_MB sh bench/gen-log.sh "$GEN" || exit 2
fi
log=$GEN/log-$BENCH_LOG_MB.txt
for n in 50 200 1000; do
	want_case diagnose-log "$BENCH_LOG_MB" || break
	ref=""
	if [ -n "$RG" ]; then
		cmd="$RG -j1 --no-unicode -i -c -f $GEN/pats-$n.txt $log"
		if timed $cmd; then
			ref="rg:$(mb_s "$ms")"
			echo "bench rg-log-$n $BENCH_LOG_MB firings=$(cat "$tmp/out") ms=$ms rss_kb=$rss" \
				"mb_s=$(mb_s "$ms") cmd=$cmd"
		else
			echo "bench: rg on $n patterns failed" >&2
			failed=1
		fi
	fi
	cmd="grep -E -i -c -f $GEN/pats-$n.txt $log"
	if timed $cmd; then
		ref="${ref:+$ref,}grep:$(mb_s "$ms")"
		echo "bench grep-log-$n $BENCH_LOG_MB firings=$(cat "$tmp/out") ms=$ms rss_kb=$rss" \
			"mb_s=$(mb_s "$ms") cmd=$cmd"
	else
		echo "bench: grep on $n patterns failed" >&2
		failed=1
	fi
	for jobs in 1 0; do
		# --jobs 0 (a thread a core) only where it is compared: 200 patterns.
		[ "$jobs" = 1 ] || [ "$n" = 200 ] || continue
		name=diagnose-log-$n
		opt=
		if [ "$jobs" = 0 ]; then
			name=diagnose-log-jobs-$n
			opt="--jobs 0 "
		fi
		cmd="$FIXIT diagnose --lines $opt--rules $GEN/pats-$n.yaml $log"
		if timed $cmd; then
			echo "bench $name $BENCH_LOG_MB firings=$(grep -c '^  finding' "$tmp/out")" \
				"ms=$ms rss_kb=$rss mb_s=$(mb_s "$ms") ref=$ref cmd=$cmd"
		else
			echo "bench: $name: exit status $?: $cmd" >&2
			tail -n 5 "$tmp/err" >&2
			failed=1
		fi
	done
done

# One pasted message through the built-in kb, the whole process, against `grep -c x` on the
# same file: medians of 41 runs each, the two commands alternating so that a change in the
# machine's load between them does not skew the ratio (the aim: at most 2).
median_pair() { # median_pair OUT_A OUT_B -- A... -- B...: median ms of each into OUT_A, OUT_B
	local -n _ma=$1 _mb=$2
	shift 3
	local a=() b=() i t0 t1
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	: >"$tmp/ta"
	: >"$tmp/tb"
	for i in $(seq 41); do
		t0=$(now_us); "${a[@]}" >/dev/null 2>&1; t1=$(now_us); echo $((t1 - t0)) >>"$tmp/ta"
		t0=$(now_us); "${b[@]}" >/dev/null 2>&1; t1=$(now_us); echo $((t1 - t0)) >>"$tmp/tb"
	done
	_ma=$(sort -n "$tmp/ta" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }')
	_mb=$(sort -n "$tmp/tb" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }')
}
if want_case diagnose-message 1; then
	msg=$GEN/message.txt
	cmd="$FIXIT diagnose $msg"
	if timed $cmd; then
		findings=$(grep -c '^  finding' "$tmp/out")
		median_pair fx_ms grep_ms -- $cmd -- grep -c x "$msg"
		ratio=$(awk -v a="$fx_ms" -v b="$grep_ms" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		instr=""
		if [ "$CALLGRIND" = 1 ]; then
			instr=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd 2>&1 >/dev/null |
				awk '/Collected :/ { n = $NF } END { print n }')
			instr=" instructions=${instr:-NA}"
		fi
		echo "bench diagnose-message 1 firings=$findings ms=$fx_ms rss_kb=$rss ratio=$ratio" \
			"ref=grep:$grep_ms$instr cmd=$cmd"
	else
		echo "bench: diagnose-message: exit status $?: $cmd" >&2
		failed=1
	fi
fi

exit "$failed"
