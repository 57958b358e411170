#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# mkiso.sh: a GRUB rescue ISO booting pvhv via multiboot2.
#
# usage: mkiso.sh PVHV_ELF BUNDLE|DIR OUT.iso
# With a bundle (cpio) it is one module named "bundle"; with a directory,
# every file in it becomes its own module named by its file name (the
# configuration as config.dtb), the other way pvhv reads its input.
# GRUB talks on COM1 only.  Works for Bochs (run-bochs.sh) and for QEMU:
# -cdrom OUT.iso -boot d.
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
modules="	module2 /boot/bundle.cpio bundle"
if [ -d "$2" ]; then
	mkdir -p "$tree/boot/mods"
	modules=""
	for f in "$2"/*; do
		b=$(basename "$f")
		cp "$f" "$tree/boot/mods/$b"
		modules+="	module2 /boot/mods/$b $b"$'\n'
	done
else
	cp "$2" "$tree/boot/bundle.cpio"
fi
cat >"$tree/boot/grub/grub.cfg" <<EOF
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry pvhv {
	multiboot2 /boot/pvhv.elf
$modules
	boot
}
EOF
if ! grub-mkrescue -o "$3" "$tree" >"$work/grub.log" 2>&1; then
	cat "$work/grub.log" >&2
	exit 1
fi
