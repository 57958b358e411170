#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh: builds the virtio fuzzers (build/fuzz/virtq_fuzz and build/fuzz/net_fuzz, clang +
# libFuzzer) and runs each for a bounded time: FUZZ_SECONDS (default 60) and at most FUZZ_RUNS
# inputs (default 20 million).  FUZZ_TARGETS picks some ("net"; default both).
# Each corpus grows in build/fuzz/<target>-corpus (virtq: build/fuzz/corpus); a crashing input
# lands in build/fuzz/artifacts/.
# Last line: "N passed, M failed" over the targets (exit status 0 when none failed).
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-20000000}
targets=${FUZZ_TARGETS:-virtq net}
out=build/fuzz
passed=0
failed=0

make --no-print-directory fuzz-bin || {
	echo "fuzz: build failed (needs clang and libclang-rt-14-dev)"
	echo "0 passed, 1 failed"
	exit 1
}
mkdir -p "$out/artifacts"

# run NAME SEEDS-SCRIPT CORPUS MAX-LEN
run() {
	local name=$1 seeds=$2 corpus=$3 max_len=$4 rc

	mkdir -p "$corpus" "$out/$name-seeds"
	if ! python3 "$seeds" "$out/$name-seeds"; then
		echo "${name}_fuzz: cannot write seeds"
		failed=$((failed + 1))
		return
	fi
	echo "${name}_fuzz: ${secs}s, at most $runs inputs (log: $out/$name-fuzz.log)"
	"$out/${name}_fuzz" -max_total_time="$secs" -runs="$runs" -timeout=10 -rss_limit_mb=1024 \
		-max_len="$max_len" -artifact_prefix="$out/artifacts/$name-" -print_final_stats=1 \
		"$corpus" "$out/$name-seeds" >"$out/$name-fuzz.log" 2>&1
	rc=$?
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$out/$name-fuzz.log"
	if [ "$rc" != 0 ]; then
		tail -n 40 "$out/$name-fuzz.log"
		echo "${name}_fuzz: libFuzzer exit status $rc; the input is in $out/artifacts/"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + 1))
}

for t in $targets; do
	case $t in
	virtq) run virtq tests/fuzz/seeds.py "$out/corpus" 4096 ;;
	net) run net tests/fuzz/net_seeds.py "$out/net-corpus" 8192 ;;
	*) echo "fuzz: no target $t"; failed=$((failed + 1)) ;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
