#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-demo.sh: boot pvhv with five test domains at once, serial on this terminal.
#
# Builds build/demo/bundle.cpio from the test guests (hello, two memcheck,
# cpuid, exitstatus), runs QEMU (accelerator from scripts/qemu-args.sh) and
# explains QEMU's exit status at the end.  PVHV_DEMO_TIMEOUT (seconds,
# default 120) bounds the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/qemu-args.sh

G=build/guests
for f in build/pvhv.elf build/tools/pvhv-bundle $G/hello.elf $G/memcheck.elf $G/cpuid.elf $G/exitstatus.elf; do
	[ -e "$f" ] || { echo "run-demo: $f is missing; run 'make all' first" >&2; exit 1; }
done

mkdir -p build/demo
bundle=build/demo/bundle.cpio
build/tools/pvhv-bundle -o "$bundle" \
	--domain hello --kernel $G/hello.elf --cmdline "name=demo" --memory 16 --vcpus 1 \
	--domain mem1 --kernel $G/memcheck.elf --cmdline "mem=16 rounds=20" --memory 16 --vcpus 1 \
	--domain mem2 --kernel $G/memcheck.elf --cmdline "mem=32 rounds=20" --memory 32 --vcpus 1 \
	--domain cpuid --kernel $G/cpuid.elf --cmdline "vcpus=1" --memory 16 --vcpus 1 \
	--domain exit --kernel $G/exitstatus.elf --cmdline "status=0" --memory 16 --vcpus 1

pvhv_qemu_args
echo "run-demo: accelerator $(pvhv_qemu_accel); domains hello, mem1, mem2, cpuid, exit"
echo "run-demo: qemu-system-x86_64 ${PVHV_QEMU_ARGS[*]} -serial stdio -kernel build/pvhv.elf -initrd $bundle"
echo "------------------------------------------------------------------------"
set +e
timeout --foreground "${PVHV_DEMO_TIMEOUT:-120}" qemu-system-x86_64 "${PVHV_QEMU_ARGS[@]}" \
	-serial stdio -kernel build/pvhv.elf -initrd "$bundle" </dev/null
rc=$?
set -e
echo "------------------------------------------------------------------------"
echo "run-demo: QEMU exit status $rc: $(pvhv_exit_meaning "$rc")"
[ "$rc" = 1 ] && exit 0
exit "$rc"
