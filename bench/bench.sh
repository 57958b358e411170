#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench.sh: pvhv's numbers -- boot latency, per-domain overhead, VM exits, image size, code size.
#
# Boots the hello-only bundle 5 times (median of pvhv's
# "bench entry_to_first_guest_us"), once more under TCG with
# "-icount shift=0" (exact virtual time: 1 instruction = 1 ns), and once
# with hello domains of 16, 64 and 256 MiB for the overhead per domain, and
# once (icount) with a 64 MiB and a 3 GiB domain that reboot 4 times, for
# pvhv's own build time of each (guest RAM is taken at first touch).
# Then (f) bench/linux-boot.py: the Debian cloud kernel (scripts/fetch-linux.sh)
# booted to init directly under QEMU and inside pvhv, and (g) bench/linux-disk.py:
# that kernel's disk I/O over virtio-blk, the same two ways (see bench/README.md).
# Logs go to build/bench/.  PVHV_BENCH_RUNS (default 5) and
# PVHV_BENCH_TIMEOUT (seconds per run, default 60) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/qemu-args.sh

RUNS=${PVHV_BENCH_RUNS:-5}
TMO=${PVHV_BENCH_TIMEOUT:-60}
OUT=build/bench
G=build/guests
mkdir -p "$OUT"

have_image=1
for f in build/pvhv.elf build/tools/pvhv-bundle $G/hello.elf $G/exitstatus.elf; do
	[ -e "$f" ] || { echo "bench: $f is missing (make all); boot figures skipped" >&2; have_image=0; }
done

# boot LOG BUNDLE [env...]: one QEMU run, serial to LOG; prints the exit status.
boot() {
	local log=$1 bundle=$2
	shift 2
	(
		for kv in "$@"; do export "${kv?}"; done
		pvhv_qemu_args
		rm -f "$log"
		set +e
		timeout "$TMO" qemu-system-x86_64 "${PVHV_QEMU_ARGS[@]}" -serial "file:$log" \
			-kernel build/pvhv.elf -initrd "$bundle" </dev/null >"$log.qemu" 2>&1
		echo $?
	)
}

# field LOG REGEX: first capture group of the first line matching REGEX (sed -E).
field() {
	tr -d '\r' <"$1" 2>/dev/null | sed -nE "s/$2/\1/p" | head -n 1
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

row() { printf '  %-44s %s\n' "$1" "$2"; }

accel=$(pvhv_qemu_accel)
echo "pvhv benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), accel $accel, $(nproc) host CPUs)"
echo

if [ "$have_image" = 1 ]; then
	build/tools/pvhv-bundle -o "$OUT/hello.cpio" \
		--domain hello --kernel $G/hello.elf --cmdline "name=bench" --memory 16 --vcpus 1
	build/tools/pvhv-bundle -o "$OUT/sizes.cpio" \
		--domain m16 --kernel $G/hello.elf --cmdline "name=m16" --memory 16 --vcpus 1 \
		--domain m64 --kernel $G/hello.elf --cmdline "name=m64" --memory 64 --vcpus 1 \
		--domain m256 --kernel $G/hello.elf --cmdline "name=m256" --memory 256 --vcpus 1
	mkdir -p "$OUT/build-files"
	cp $G/exitstatus.elf "$OUT/build-files/"
	{
		echo '/dts-v1/; / { compatible = "pvhv,config-1"; domains {'
		for m in 64 3072; do
			echo "m$m { kernel = \"exitstatus.elf\"; cmdline = \"reason=reboot\"; memory-mib = <$m>; reboot-limit = <4>; };"
		done
		echo '}; };'
	} >"$OUT/build.dts"
	build/tools/pvhv-bundle -o "$OUT/build.cpio" --config "$OUT/build.dts" -C "$OUT/build-files"

	# (a) boot latency
	vals=()
	bad=0
	for i in $(seq 1 "$RUNS"); do
		rc=$(boot "$OUT/hello-$i.log" "$OUT/hello.cpio")
		v=$(field "$OUT/hello-$i.log" '^pvhv: bench entry_to_first_guest_us=([0-9]+).*')
		if [ -n "$v" ]; then vals+=("$v"); else bad=$((bad + 1)); fi
		[ "$rc" = 1 ] || echo "bench: run $i: QEMU exit status $rc ($(pvhv_exit_meaning "$rc")), log $OUT/hello-$i.log" >&2
	done
	med=$(printf '%s\n' "${vals[@]}" | grep . | median || true)
	rc=$(boot "$OUT/hello-icount.log" "$OUT/hello.cpio" PVHV_ICOUNT=0)
	icount=$(field "$OUT/hello-icount.log" '^pvhv: bench entry_to_first_guest_us=([0-9]+).*')
	[ "$rc" = 1 ] || echo "bench: icount run: QEMU exit status $rc ($(pvhv_exit_meaning "$rc"))" >&2

	echo "(a) Boot: pvhv entry to first guest instruction"
	row "median of $RUNS runs ($accel)" "${med:-n/a} us   (runs: ${vals[*]:-none}$( [ "$bad" -gt 0 ] && echo "; $bad without a figure"))"
	row "TCG -icount shift=0 (virtual time, exact)" "${icount:-n/a} us"
	echo

	# (b) overhead per domain
	echo "(b) Memory overhead per domain (pvhv's own allocations beyond guest RAM)"
	rc=$(boot "$OUT/sizes.log" "$OUT/sizes.cpio")
	printf '  %-10s %14s %16s %10s\n' domain ram_bytes overhead_bytes overhead
	for log in "$OUT/hello-1.log" "$OUT/sizes.log"; do
		tr -d '\r' <"$log" 2>/dev/null | sed -nE 's/^pvhv: bench dom=([^ ]+) ram_bytes=([0-9]+) overhead_bytes=([0-9]+).*/\1 \2 \3/p' |
			while read -r d r o; do
				printf '  %-10s %14s %16s %9s%%\n' "$d" "$r" "$o" "$(awk -v o="$o" -v r="$r" 'BEGIN { if (r > 0) printf "%.2f", 100 * o / r; else print "n/a" }')"
			done
	done
	[ "$rc" = 1 ] || echo "  (sizes run: QEMU exit status $rc, $(pvhv_exit_meaning "$rc"))"
	echo

	# (b2) build time against RAM size
	echo "(b2) pvhv's work to build a domain (TSC; TCG -icount shift=0), 64 MiB vs 3 GiB, 4 reboots each"
	rc=$(boot "$OUT/build.log" "$OUT/build.cpio" PVHV_ICOUNT=0 PVHV_MEM=3584)
	printf '  %-10s %10s %16s %22s\n' domain build_us rebuild_us_max ram_touched_peak_kib
	tr -d '\r' <"$OUT/build.log" 2>/dev/null |
		sed -nE 's/^pvhv: bench dom=([^ ]+) build_us=([0-9]+) rebuild_us_max=([0-9]+) reboots=[0-9]+ ram_touched_peak_kib=([0-9]+)$/\1 \2 \3 \4/p' |
		while read -r d b r t; do printf '  %-10s %10s %16s %22s\n' "$d" "$b" "$r" "$t"; done
	row "free memory before the first build / after the last teardown" \
		"$(field "$OUT/build.log" '^pvhv: bench mem_free_kib (boot=[0-9]+ end=[0-9]+)$')"
	[ "$rc" = 3 ] || echo "  (build run: QEMU exit status $rc, $(pvhv_exit_meaning "$rc"))"
	echo

	# (c) VM exits of the hello guest
	echo "(c) VM exits of the hello guest (its summary line, run 1)"
	sum=$(tr -d '\r' <"$OUT/hello-1.log" 2>/dev/null | grep -E '^pvhv: summary dom=hello ' | head -n 1 || true)
	if [ -n "$sum" ]; then
		for kv in $(sed -E 's/^pvhv: summary dom=[^ ]+ //' <<<"$sum"); do
			row "${kv%%=*}" "${kv#*=}"
		done
	else
		row "(no summary line for dom=hello)" "see $OUT/hello-1.log"
	fi
	echo
fi

# (d) image size
echo "(d) Image size"
if [ -e build/pvhv.elf ]; then
	row "build/pvhv.elf file" "$(stat -c %s build/pvhv.elf) bytes"
	size build/pvhv.elf | awk 'NR == 2 { printf "  %-44s %s bytes\n  %-44s %s bytes\n  %-44s %s bytes\n  %-44s %s bytes\n", "text", $1, "data", $2, "bss", $3, "loaded total (text+data+bss)", $4 }'
	if command -v readelf >/dev/null; then
		n=0 f=0 m=0
		while read -r _ _ _ _ fsz msz _; do
			n=$((n + 1)) f=$((f + fsz)) m=$((m + msz))
		done < <(readelf -lW build/pvhv.elf | grep -E '^ +LOAD ')
		row "PT_LOAD segments" "$n, $f bytes in file, $m bytes in memory"
	fi
else
	row "build/pvhv.elf" "missing"
fi
echo

# (e) code size
echo "(e) Hypervisor source (arch/ pvh/ lib/ drivers/; no tests, no tools)"
printf '  %-12s %6s %8s %8s %8s %8s\n' dir files "C .c" "C .h" asm "code*"
tl=0
for d in arch pvh lib drivers; do
	[ -d "$d" ] || continue
	c=$(find "$d" -name '*.c' -exec cat {} + 2>/dev/null | wc -l)
	h=$(find "$d" -name '*.h' -exec cat {} + 2>/dev/null | wc -l)
	a=$(find "$d" \( -name '*.asm' -o -name '*.S' -o -name '*.s' \) -exec cat {} + 2>/dev/null | wc -l)
	n=$(find "$d" \( -name '*.c' -o -name '*.h' -o -name '*.asm' -o -name '*.S' -o -name '*.s' \) | wc -l)
	# Rough: drop blank lines, // and ; line comments, and /* ... */ blocks.
	code=$(find "$d" \( -name '*.c' -o -name '*.h' -o -name '*.asm' -o -name '*.S' -o -name '*.s' \) -exec cat {} + 2>/dev/null |
		awk '{ s = $0
			if (inc) { if (s ~ /\*\//) { sub(/.*\*\//, "", s); inc = 0 } else next }
			while (s ~ /\/\*/) { if (s ~ /\/\*.*\*\//) sub(/\/\*.*\*\//, "", s); else { sub(/\/\*.*/, "", s); inc = 1 } }
			sub(/^[ \t]*(\/\/|;).*/, "", s)
			if (s ~ /[^ \t]/) n++ } END { print n + 0 }')
	tl=$((tl + code))
	printf '  %-12s %6d %8d %8d %8d %8d\n' "$d/" "$n" "$c" "$h" "$a" "$code"
done
printf '  %-12s %6s %8s %8s %8s %8d\n' total "" "" "" "" "$tl"
echo "  * code = non-blank, non-comment lines (rough)"
echo

# (f) Linux boot to init: directly under QEMU vs inside pvhv
python3 bench/linux-boot.py || echo "bench: bench/linux-boot.py failed (status $?)" >&2

# (g) Linux disk I/O over virtio-blk: directly under QEMU vs inside pvhv
echo
python3 bench/linux-disk.py || echo "bench: bench/linux-disk.py failed (status $?)" >&2
