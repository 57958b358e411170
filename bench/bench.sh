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
# that kernel's disk I/O over virtio-blk, the same two ways, with busybox dd and
# (h) with fio (bench/linux-disk.py --fio), and (i) bench/linux-net.py: iperf3
# between two such guests, and a vsock stream inside pvhv, and (j) bench/linux-ctl.py:
# sandboxes made one after another by pvhctl in a control domain, and the
# control domain killed beside running ones, and (k) bench/linux-nat.py: a
# sandbox's iperf3 through the control domain's NAT vs QEMU alone, and the
# control domain crashed under a pinging sandbox (see bench/README.md).
# (b3) and (b4): pvhv's bytes per device, and ten domains sharing one image.
# Logs go to build/bench/.  PVHV_BENCH_RUNS (default 5) and
# PVHV_BENCH_TIMEOUT (seconds per run, default 60) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/qemu-args.sh

RUNS=${PVHV_BENCH_RUNS:-5}
SHARED_MIB=${PVHV_BENCH_SHARED_MIB:-256}
TMO=${PVHV_BENCH_TIMEOUT:-60}
OUT=build/bench
G=build/guests
mkdir -p "$OUT"

have_image=1
for f in build/pvhv.elf build/tools/pvhv-bundle $G/hello.elf $G/exitstatus.elf $G/virtio.elf; do
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

# mem_devices: hello domains without and with each device, and what each adds to overhead_bytes.
mem_devices() {
	local d="$OUT/dev-files" log="$OUT/devices.log" rc
	mkdir -p "$d"
	cp $G/hello.elf "$d/"
	python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes((i * 131 + (i >> 9)) & 0xff for i in range(65536)))' \
		"$d/small.img"
	{
		echo '/dts-v1/; / { compatible = "pvhv,config-1"; domains {'
		echo 'none { kernel = "hello.elf"; memory-mib = <16>; };'
		echo 'console { kernel = "hello.elf"; memory-mib = <16>; virtio = "console"; };'
		echo 'disk { kernel = "hello.elf"; memory-mib = <16>; disks = "small.img"; overlay-mib = <1>; };'
		echo 'net { kernel = "hello.elf"; memory-mib = <16>; net-mac = "02:00:00:00:00:01"; };'
		echo 'vsock { kernel = "hello.elf"; memory-mib = <16>; vsock-cid = <3>; };'
		echo 'all4 { kernel = "hello.elf"; memory-mib = <16>; virtio = "console"; disks = "small.img"; overlay-mib = <1>;'
		echo '       net-mac = "02:00:00:00:00:02"; vsock-cid = <4>; };'
		echo '}; };'
	} >"$OUT/devices.dts"
	build/tools/pvhv-bundle -o "$OUT/devices.cpio" --config "$OUT/devices.dts" -C "$d"
	rc=$(boot "$log" "$OUT/devices.cpio")
	local base
	base=$(field "$log" '^pvhv: bench dom=none ram_bytes=[0-9]+ overhead_bytes=([0-9]+)$')
	printf '  %-10s %16s %12s\n' domain overhead_bytes "more than none"
	tr -d '\r' <"$log" 2>/dev/null | sed -nE 's/^pvhv: bench dom=([^ ]+) ram_bytes=[0-9]+ overhead_bytes=([0-9]+)$/\1 \2/p' |
		while read -r dom o; do printf '  %-10s %16s %12s\n' "$dom" "$o" "$((o - ${base:-0}))"; done
	[ "$rc" = 1 ] || echo "  (devices run: QEMU exit status $rc, $(pvhv_exit_meaning "$rc"))"
	echo "  overhead_bytes counts stage-2 tables, chunk and vCPU arrays, struct domain and the"
	echo "  array of virtio device states (console, rng and vsock state live there); not the net"
	echo "  model (its own pages, opened with the device), the disk array nor overlay pages"
	echo "  (those are overlay_peak_kib in the summary).  No rng: it needs RDRAND or RDSEED on"
	echo "  the host CPU, which TCG's model lacks."
}

# mem_shared: host free memory at pvhv's start for ten hello domains (no image), one virtio
# domain with a SHARED_MIB MiB image, and ten virtio domains on that one image.
mem_shared() {
	local d="$OUT/shared-files" n kind rc line
	mkdir -p "$d"
	cp $G/hello.elf $G/virtio.elf "$d/"
	[ -s "$d/shared.img" ] && [ "$(stat -c %s "$d/shared.img")" = $((SHARED_MIB << 20)) ] ||
		python3 - "$d/shared.img" "$SHARED_MIB" <<-'PY'
			import sys
			# tests/guests/virtio/blk.c PATTERN: byte i = (i * 131 + i / 512) mod 256; it repeats every 128 KiB.
			block = bytes((i * 131 + (i >> 9)) & 0xff for i in range(128 * 1024))
			with open(sys.argv[1], "wb") as f:
			    for _ in range(int(sys.argv[2]) * 8):
			        f.write(block)
		PY
	for kind in ten-hello one-disk ten-disk; do
		n=10
		[ "$kind" = one-disk ] && n=1
		{
			echo '/dts-v1/; / { compatible = "pvhv,config-1"; domains {'
			for i in $(seq 1 "$n"); do
				if [ "$kind" = ten-hello ]; then
					echo "h$i { kernel = \"hello.elf\"; cmdline = \"name=h$i\"; memory-mib = <16>; };"
				else
					echo "v$i { kernel = \"virtio.elf\"; cmdline = \"mode=blk slot=0 name=shared.img\"; memory-mib = <16>; disks = \"shared.img\"; overlay-mib = <1>; };"
				fi
			done
			echo '}; };'
		} >"$OUT/shared-$kind.dts"
		build/tools/pvhv-bundle -o "$OUT/shared-$kind.cpio" --config "$OUT/shared-$kind.dts" -C "$d"
		rc=$(boot "$OUT/shared-$kind.log" "$OUT/shared-$kind.cpio" PVHV_MEM=1024)
		line=$(field "$OUT/shared-$kind.log" '^pvhv: bench mem_free_kib (boot=[0-9]+ end=[0-9]+)$')
		row "$kind: bundle $(( $(stat -c %s "$OUT/shared-$kind.cpio") >> 10 )) KiB, free KiB" \
			"${line:-n/a}$( [ "$rc" = 1 ] || echo " (QEMU exit status $rc, $(pvhv_exit_meaning "$rc"))")"
	done
	local f0 f1 f10 loads users peak
	f0=$(field "$OUT/shared-ten-hello.log" '^pvhv: bench mem_free_kib boot=([0-9]+) .*')
	f1=$(field "$OUT/shared-one-disk.log" '^pvhv: bench mem_free_kib boot=([0-9]+) .*')
	f10=$(field "$OUT/shared-ten-disk.log" '^pvhv: bench mem_free_kib boot=([0-9]+) .*')
	loads=$(tr -d '\r' <"$OUT/shared-ten-disk.log" | grep -c '^pvhv: image shared.img: .* in the image store$' || true)
	users=$(tr -d '\r' <"$OUT/shared-ten-disk.log" | sed -nE 's/^pvhv: dom [^ ]+ disk 0 .* ([0-9]+) users?$/\1/p' | sort -n | tail -n 1)
	peak=$(tr -d '\r' <"$OUT/shared-ten-disk.log" | sed -nE 's/^pvhv: summary dom=[^ ]+ .*overlay_peak_kib=([0-9]+).*/\1/p' | sort -n | tail -n 1)
	if [ -n "$f0" ] && [ -n "$f1" ] && [ -n "$f10" ]; then
		row "image held: ten-hello - one-disk" "$((f0 - f1)) KiB"
		row "image held: ten-hello - ten-disk" "$((f0 - f10)) KiB (once, not ten times)"
	fi
	row "\"in the image store\" lines, most users" "${loads:-0}, ${users:-n/a}"
	row "largest overlay_peak_kib of the ten" "${peak:-n/a} KiB (each domain's own writes)"
	row "guests passing their disk checks" "$(tr -d '\r' <"$OUT/shared-ten-disk.log" | grep -c '] PASS virtio$' || true) of 10 (virtio mode=blk)"
	echo "  free KiB at boot = before the first domain is built, with the bundle (image included)"
	echo "  already in RAM; pvhv prints no free figure while domains run.  The image is held once:"
	echo "  the store serves it in place from the bundle (one load, ten users) and each domain"
	echo "  adds only its overlay pages and a page of disk state."
}

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

	# (b3) bytes per device, and one image shared by ten domains
	echo "(b3) pvhv's bytes per device (overhead_bytes of a hello domain with one device more than none)"
	mem_devices
	echo
	echo "(b4) ten domains sharing one ${SHARED_MIB} MiB disk image (tests/guests/virtio mode=blk reads and writes it)"
	mem_shared
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

# (h) the same with fio (libaio, direct=1) from build/linux/bench-root.ext4
echo
python3 bench/linux-disk.py --fio || echo "bench: bench/linux-disk.py --fio failed (status $?)" >&2

# (i) iperf3 between two Linux guests: two QEMUs on a socket netdev vs a pvhv link; vsock in pvhv
echo
python3 bench/linux-net.py || echo "bench: bench/linux-net.py failed (status $?)" >&2

# (j) the control plane: sandboxes on demand through pvhctl in a Linux control domain (pvhv only)
echo
python3 bench/linux-ctl.py || echo "bench: bench/linux-ctl.py failed (status $?)" >&2

# (k) a sandbox's iperf3 through the control domain's NAT (pci = "all", virtio-net-pci) vs QEMU alone; ctl's restart
echo
python3 bench/linux-nat.py || echo "bench: bench/linux-nat.py failed (status $?)" >&2
