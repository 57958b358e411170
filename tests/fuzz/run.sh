#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh: builds the virtio fuzzer (build/fuzz/virtq_fuzz, clang + libFuzzer) and runs it for a
# bounded time: FUZZ_SECONDS (default 60) and at most FUZZ_RUNS inputs (default 20 million).
# The corpus grows in build/fuzz/corpus; a crashing input lands in build/fuzz/artifacts/.
# Last line: "1 passed, 0 failed" or "0 passed, 1 failed" (exit status 0 or 1).
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-20000000}
out=build/fuzz

fail() {
	echo "virtq_fuzz: $1"
	echo "0 passed, 1 failed"
	exit 1
}

make --no-print-directory fuzz-bin || fail "build failed (needs clang and libclang-rt-14-dev)"
mkdir -p "$out/corpus" "$out/seeds" "$out/artifacts"
python3 tests/fuzz/seeds.py "$out/seeds" || fail "cannot write seeds"

echo "virtq_fuzz: ${secs}s, at most $runs inputs (log: $out/fuzz.log)"
"$out/virtq_fuzz" -max_total_time="$secs" -runs="$runs" -timeout=10 -rss_limit_mb=1024 \
	-max_len=4096 -artifact_prefix="$out/artifacts/" -print_final_stats=1 \
	"$out/corpus" "$out/seeds" >"$out/fuzz.log" 2>&1
rc=$?
grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$out/fuzz.log"
if [ "$rc" != 0 ]; then
	tail -n 40 "$out/fuzz.log"
	fail "libFuzzer exit status $rc; the input is in $out/artifacts/"
fi
echo "1 passed, 0 failed"
