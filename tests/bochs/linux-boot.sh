#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# linux-boot.sh: Debian's cloud kernel boots to its init under Bochs
# corei7_skylake_x, i.e. on the VMX backend, and powers off.  Part of
# `make test` (tests/run-all.sh); alone: `make test-bochs-linux`.
#
# Bochs runs some 50 million guest instructions a second, so this takes
# about two minutes of the test run.  One domain:
# build/linux/vmlinux + initramfs.cpio (scripts/fetch-linux.sh), 256 MiB,
# 1 vCPU, "console=ttyS0 quiet pvhv.end=poweroff".  Passes when the console
# shows PVHV-INIT-REACHED and "pvhv: dom linux ended: poweroff".
#
# With -T (teardown) instead: a 4-vCPU Linux domain that reboots in a loop
# until max-runtime-ms stops it while it runs, beside a memcheck sibling, on
# two host CPUs: the teardown of a running multi-vCPU domain with live
# timers, IPIs and halted vCPUs, on the VMX backend.  Passes when the Linux
# domain reached init and was stopped by its time limit, memcheck passed and
# pvhv reported its exit status.
#
# usage: linux-boot.sh [-t SECONDS] [-m MODEL] [-T]   (default 1200 s, corei7_skylake_x)
# Prints the console, the elapsed time and "1 passed, 0 failed" (or
# "0 passed, 1 failed"); the log stays in build/itest-bochs/slow/.
set -uo pipefail
cd "$(dirname "$0")/../.."

limit=1200
model=corei7_skylake_x
teardown=0
while getopts "t:m:T" opt; do
	case $opt in
	t) limit=$OPTARG ;;
	m) model=$OPTARG ;;
	T) teardown=1 ;;
	*) echo "usage: $0 [-t SECONDS] [-m MODEL] [-T]" >&2; exit 2 ;;
	esac
done
name=linux-boot
[ "$teardown" = 1 ] && name=linux-teardown

out=build/itest-bochs/slow/$name-$model
rm -rf "$out"
mkdir -p "$out"
fail() {
	echo "not ok - [bochs/$model] $name: $*"
	echo "0 passed, 1 failed"
	exit 1
}

if [ ! -f build/linux/vmlinux ] || [ ! -f build/linux/initramfs.cpio ]; then
	bash scripts/fetch-linux.sh || fail "scripts/fetch-linux.sh failed"
fi
command -v bochs >/dev/null && command -v grub-mkrescue >/dev/null ||
	fail "bochs or grub-mkrescue missing (make deps)"
if [ "$teardown" = 1 ]; then
	cp build/linux/vmlinux build/linux/initramfs.cpio build/guests/memcheck.elf "$out/"
	cat >"$out/teardown.dts" <<-'EOF'
	/dts-v1/;
	/ {
		compatible = "pvhv,config-1";
		domains {
			rb {
				kernel = "vmlinux";
				initrd = "initramfs.cpio";
				cmdline = "console=ttyS0 quiet pvhv.test=nproc pvhv.end=reboot";
				memory-mib = <128>;
				vcpus = <4>;
				max-runtime-ms = <60000>;
			};
			mc { kernel = "memcheck.elf"; cmdline = "mem=16 rounds=20"; memory-mib = <16>; };
		};
	};
	EOF
	build/tools/pvhv-bundle -o "$out/bundle.cpio" --config "$out/teardown.dts" >"$out/bundle.log" 2>&1 ||
		fail "pvhv-bundle: $(tail -n 1 "$out/bundle.log")"
	cpus=2
else
	build/tools/pvhv-bundle -o "$out/bundle.cpio" --domain linux --kernel build/linux/vmlinux \
		--initrd build/linux/initramfs.cpio --memory 256 --vcpus 1 \
		--cmdline "console=ttyS0 quiet pvhv.end=poweroff" >"$out/bundle.log" 2>&1 ||
		fail "pvhv-bundle: $(tail -n 1 "$out/bundle.log")"
	cpus=1
fi

# RAM: the 256 MiB domain, the bundle GRUB loads (~56 MiB) and pvhv's own.
t0=$(date +%s)
bash tests/bochs/run-bochs.sh -c "$cpus" -m 1024 -t "$limit" -o "$out/serial.log" "$model" \
	"$out/bundle.cpio" >"$out/bochs.out" 2>&1
rc=$?
secs=$(($(date +%s) - t0))
tr -d '\r' <"$out/serial.log"
echo "# bochs/$model: run-bochs.sh status $rc after ${secs}s"
log=$(tr -d '\r' <"$out/serial.log")
grep -q "PVHV-INIT-REACHED" <<<"$log" || fail "no PVHV-INIT-REACHED (status $rc, ${secs}s)"
if [ "$teardown" = 1 ]; then
	grep -q "^pvhv: dom rb stopped: timeout after" <<<"$log" ||
		fail "no \"pvhv: dom rb stopped: timeout\" (status $rc, ${secs}s)"
	grep -q "^pvhv: dom mc ended: poweroff, status 0" <<<"$log" || fail "memcheck did not pass"
	grep -qE "PANIC|FATAL exception" <<<"$log" && fail "pvhv panicked"
	# pvhv's status 1 (a domain did not power off) is what run-bochs.sh reports as 1.
	[ "$rc" = 1 ] || fail "pvhv exit status $rc, expected 1 (${secs}s)"
else
	grep -q "^pvhv: dom linux ended: poweroff, status 0" <<<"$log" ||
		fail "no \"pvhv: dom linux ended: poweroff\" (status $rc, ${secs}s)"
	[ "$rc" = 0 ] || fail "pvhv exit status $rc (${secs}s)"
fi
echo "ok - [bochs/$model] $name (${secs}s)"
echo "1 passed, 0 failed"
