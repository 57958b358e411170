#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run.sh: builds the fuzzers (clang + libFuzzer) and runs each for a bounded time:
# FUZZ_SECONDS (default 60) and at most FUZZ_RUNS inputs (default 20 million) per target.
#   virtq  the virtio-mmio transport and split virtqueues (build/fuzz/virtq_fuzz)
#   vsock  three guests' vsock devices on pvhv's stream router (build/fuzz/vsock_fuzz)
#   net    a hostile transmit ring through the net model, the switch and a peer's receive ring
#   mgmt   a hostile client's byte stream through the management protocol's handler
#   mkimage  hostile tar archives and JSON manifests through pvhv-mkimage's readers
#   http   hostile requests through pvhd's HTTP head parser and JSON body decoders, and
#          any bytes through its JSON writer and back
#   pci    a hostile domain's config accesses to a passed-through PCI function (build/fuzz/pci_fuzz)
#   msix   a hostile domain's MSI-X table accesses and control writes (build/fuzz/msix_fuzz)
# FUZZ_TARGETS picks some (default: all seven).  Each corpus grows in build/fuzz/<target>-corpus
# (virtq: build/fuzz/corpus); a crashing input lands in build/fuzz/artifacts/<target>-*.
# Last line: "N passed, M failed" over the targets (exit status 0 when none failed).
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-20000000}
targets=${FUZZ_TARGETS:-virtq vsock net mgmt mkimage http pci msix}
out=build/fuzz
passed=0
failed=0

if ! make --no-print-directory fuzz-bin; then
	echo "fuzz: build failed (needs clang and libclang-rt-14-dev)"
	echo "0 passed, $(echo $targets | wc -w) failed"
	exit 1
fi
mkdir -p "$out/artifacts"

# run NAME SEEDS-SCRIPT CORPUS MAX-LEN
run() {
	local name=$1 seeds=$2 corpus=$3 max_len=$4 log="$out/$1-fuzz.log" rc

	mkdir -p "$corpus" "$out/$name-seeds"
	if ! python3 "$seeds" "$out/$name-seeds"; then
		echo "${name}_fuzz: cannot write seeds"
		failed=$((failed + 1))
		return
	fi
	echo "${name}_fuzz: ${secs}s, at most $runs inputs (log: $log)"
	"$out/${name}_fuzz" -max_total_time="$secs" -runs="$runs" -timeout=10 -rss_limit_mb=1024 \
		-max_len="$max_len" -artifact_prefix="$out/artifacts/$name-" -print_final_stats=1 \
		"$corpus" "$out/$name-seeds" >"$log" 2>&1
	rc=$?
	grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log"
	if [ "$rc" != 0 ]; then
		tail -n 40 "$log"
		echo "${name}_fuzz: libFuzzer exit status $rc; the input is in $out/artifacts/"
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + 1))
}

for t in $targets; do
	case $t in
	virtq) run virtq tests/fuzz/seeds.py "$out/corpus" 4096 ;;
	vsock) run vsock tests/fuzz/vsock_seeds.py "$out/vsock-corpus" 4096 ;;
	net) run net tests/fuzz/net_seeds.py "$out/net-corpus" 8192 ;;
	mgmt) run mgmt tests/fuzz/mgmt_seeds.py "$out/mgmt-corpus" 16384 ;;
	mkimage) run mkimage tests/fuzz/mkimage_seeds.py "$out/mkimage-corpus" 32768 ;;
	http) run http tests/fuzz/http_seeds.py "$out/http-corpus" 16384 ;;
	pci) run pci tests/fuzz/pci_seeds.py "$out/pci-corpus" 4096 ;;
	msix) run msix tests/fuzz/msix_seeds.py "$out/msix-corpus" 4096 ;;
	*) echo "fuzz: no target $t"; failed=$((failed + 1)) ;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
