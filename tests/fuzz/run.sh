#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh: builds the virtio fuzzers (clang + libFuzzer) and runs each for a bounded time:
# FUZZ_SECONDS (default 60) and at most FUZZ_RUNS inputs (default 20 million) per target.
#   virtq_fuzz  the virtio-mmio transport and split virtqueues
#   vsock_fuzz  three guests' vsock devices on pvhv's stream router
# Corpora grow in build/fuzz/corpus (virtq) and build/fuzz/vsock_corpus; a crashing input lands
# in build/fuzz/artifacts/ (virtq) or build/fuzz/vsock_artifacts/.
# Last line: "N passed, M failed" over the targets (exit status 0 when none failed).
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-20000000}
out=build/fuzz
passed=0
failed=0

if ! make --no-print-directory fuzz-bin; then
	echo "fuzz: build failed (needs clang and libclang-rt-14-dev)"
	echo "0 passed, 2 failed"
	exit 1
fi

# run_one NAME CORPUS ARTIFACTS SEEDS_SCRIPT
run_one() {
	local name=$1 corpus=$2 artifacts=$3 seeds=$4 log="$out/$1.log" rc
	mkdir -p "$corpus" "$out/$name-seeds" "$artifacts"
	if ! python3 "$seeds" "$out/$name-seeds"; then
		echo "$name: cannot write seeds"
		failed=$((failed + 1))
		return
	fi
	echo "$name: ${secs}s, at most $runs inputs (log: $log)"
	"$out/$name" -max_total_time="$secs" -runs="$runs" -timeout=10 -rss_limit_mb=1024 \
		-max_len=4096 -artifact_prefix="$artifacts/" -print_final_stats=1 \
		"$corpus" "$out/$name-seeds" >"$log" 2>&1
	rc=$?
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log"
	if [ "$rc" != 0 ]; then
		tail -n 40 "$log"
		echo "$name: libFuzzer exit status $rc; the input is in $artifacts/"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + 1))
}

run_one virtq_fuzz "$out/corpus" "$out/artifacts" tests/fuzz/seeds.py
run_one vsock_fuzz "$out/vsock_corpus" "$out/vsock_artifacts" tests/fuzz/vsock_seeds.py
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
