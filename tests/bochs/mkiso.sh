#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mkiso.sh: a GRUB rescue ISO booting pvhv via multiboot2 with one bundle.
#
# usage: mkiso.sh PVHV_ELF BUNDLE OUT.iso
# GRUB talks on COM1 only; the bundle is module "bundle".  Works for Bochs
# (run-bochs.sh) and for QEMU: -cdrom OUT.iso -boot d.
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: $0 PVHV_ELF BUNDLE OUT.iso" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/pvhv-iso.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree/boot/grub"
cp "$1" "$tree/boot/pvhv.elf"
cp "$2" "$tree/boot/bundle.cpio"
cat >"$tree/boot/grub/grub.cfg" <<'EOF'
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry pvhv {
	multiboot2 /boot/pvhv.elf
	module2 /boot/bundle.cpio bundle
	boot
}
EOF
if ! grub-mkrescue -o "$3" "$tree" >"$work/grub.log" 2>&1; then
	cat "$work/grub.log" >&2
	exit 1
fi
