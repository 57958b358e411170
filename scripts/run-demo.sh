#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-demo.sh: boot pvhv with Debian's kernel and five test domains at once,
# serial on this terminal.
#
# Builds build/demo/bundle.cpio: a Linux domain (Debian's cloud kernel with
# a busybox initramfs, 2 vCPUs) and the test guests (hello, two memcheck,
# cpuid, exitstatus); runs QEMU (accelerator from scripts/qemu-args.sh) and
# explains QEMU's exit status at the end.  On a terminal the Linux domain
# gives an interactive shell: console input goes to it, Ctrl-] moves input
# to the next running domain, `poweroff -f` ends it, Ctrl-A X quits QEMU.
# Without a terminal it prints its CPU count and powers off.
# PVHV_DEMO_TIMEOUT (seconds, default 120; none on a terminal) bounds the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/qemu-args.sh

G=build/guests
for f in build/pvhv.elf build/tools/pvhv-bundle $G/hello.elf $G/memcheck.elf $G/cpuid.elf $G/exitstatus.elf; do
	[ -e "$f" ] || { echo "run-demo: $f is missing; run 'make all' first" >&2; exit 1; }
done

bash scripts/fetch-linux.sh >/dev/null
if [ -t 0 ]; then
	linux_end="pvhv.end=shell"
	serial=(-serial mon:stdio)
	limit=()
	stdin=/dev/stdin
else
	linux_end="pvhv.test=nproc pvhv.end=poweroff"
	serial=(-serial stdio)
	limit=(timeout --foreground "${PVHV_DEMO_TIMEOUT:-120}")
	stdin=/dev/null
fi

mkdir -p build/demo
bundle=build/demo/bundle.cpio
build/tools/pvhv-bundle -o "$bundle" \
	--domain linux --kernel build/linux/vmlinux --initrd build/linux/initramfs.cpio \
	--cmdline "console=ttyS0 quiet $linux_end" --memory 256 --vcpus 2 \
	--domain hello --kernel $G/hello.elf --cmdline "name=demo" --memory 16 --vcpus 1 \
	--domain mem1 --kernel $G/memcheck.elf --cmdline "mem=16 rounds=20" --memory 16 --vcpus 1 \
	--domain mem2 --kernel $G/memcheck.elf --cmdline "mem=32 rounds=20" --memory 32 --vcpus 1 \
	--domain cpuid --kernel $G/cpuid.elf --cmdline "vcpus=1" --memory 16 --vcpus 1 \
	--domain exit --kernel $G/exitstatus.elf --cmdline "status=0" --memory 16 --vcpus 1

pvhv_qemu_args
echo "run-demo: accelerator $(pvhv_qemu_accel); domains linux, hello, mem1, mem2, cpuid, exit"
echo "run-demo: qemu-system-x86_64 ${PVHV_QEMU_ARGS[*]} ${serial[*]} -kernel build/pvhv.elf -initrd $bundle"
[ -t 0 ] && echo "run-demo: input goes to dom linux (a busybox shell once it boots); Ctrl-] switches domain; 'poweroff -f' ends it; Ctrl-A X quits"
echo "------------------------------------------------------------------------"
set +e
"${limit[@]}" qemu-system-x86_64 "${PVHV_QEMU_ARGS[@]}" \
	"${serial[@]}" -kernel build/pvhv.elf -initrd "$bundle" <"$stdin"
rc=$?
set -e
echo "------------------------------------------------------------------------"
echo "run-demo: QEMU exit status $rc: $(pvhv_exit_meaning "$rc")"
[ "$rc" = 1 ] && exit 0
exit "$rc"
