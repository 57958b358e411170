#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what building and testing pvhv needs, from Debian's archive.
# Idempotent: does nothing when every package is already there.
set -euo pipefail
pkgs=(build-essential nasm libfdt-dev device-tree-compiler libcriterion-dev
      qemu-system-x86 acpica-tools cpio lz4 busybox-static python3
      grub-pc-bin grub-common xorriso mtools bochs bochsbios vgabios
      clang libclang-rt-14-dev e2fsprogs zlib1g-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "deps: need root to apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
