#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# grub.sh: pvhv booted by GRUB through multiboot2 under QEMU, both ways it
# takes its input: one bundle module, and separate modules (config.dtb plus
# one module per kernel, each named by its file name).  Prints "ok - ..." /
# "not ok - ..." per case and "N passed, M failed" last.
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/qemu-args.sh
out=build/itest-grub
rm -rf "$out"
mkdir -p "$out/mods"
pass=0
fail=0
limit=90
[ -n "${CI:-}" ] && limit=270

check() { # name iso
	local name=$1 iso=$2 rc log
	pvhv_qemu_args
	timeout "$limit" qemu-system-x86_64 "${PVHV_QEMU_ARGS[@]}" -serial "file:$out/$name.log" \
		-cdrom "$iso" -boot d >"$out/$name.qemu" 2>&1
	rc=$?
	log=$(tr -d '\r' <"$out/$name.log")
	if [ "$rc" = 1 ] && grep -q '^pvhv: booting' <<<"$log" &&
	   grep -q '^pvhv: loader multiboot2' <<<"$log" &&
	   grep -q '^\[one\] PASS hello' <<<"$log" && grep -q '^\[two\] PASS memcheck' <<<"$log" &&
	   grep -q '^pvhv: exit status 0' <<<"$log"; then
		echo "ok - grub-$name"
		pass=$((pass + 1))
	else
		echo "not ok - grub-$name: QEMU status $rc"
		tail -n 20 <<<"$log" | sed 's/^/#   | /'
		fail=$((fail + 1))
	fi
}

cat >"$out/config.dts" <<'DTS'
/dts-v1/;
/ {
	compatible = "pvhv,config-1";
	domains {
		one { kernel = "hello.elf"; memory-mib = <16>; cmdline = "name=one"; };
		two { kernel = "memcheck.elf"; memory-mib = <16>; cmdline = "mem=16 rounds=5"; };
	};
};
DTS
dtc -q -I dts -O dtb -o "$out/mods/config.dtb" "$out/config.dts"
cp build/guests/hello.elf build/guests/memcheck.elf "$out/mods/"
build/tools/pvhv-bundle -o "$out/bundle.cpio" --config "$out/config.dts" -C build/guests >/dev/null
bash tests/bochs/mkiso.sh build/pvhv.elf "$out/bundle.cpio" "$out/bundle.iso" &&
	check bundle "$out/bundle.iso"
bash tests/bochs/mkiso.sh build/pvhv.elf "$out/mods" "$out/modules.iso" &&
	check modules "$out/modules.iso"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
