#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fetch-linux.sh: fetches Debian's cloud kernel (the package behind the
# linux-image-cloud-amd64 metapackage) from Debian's archive, extracts the
# ELF vmlinux (with its PVH note) from the LZ4-compressed bzImage, and builds
# an uncompressed newc initramfs from busybox-static, the package's virtio
# modules and scripts/initramfs/init.
#
# Writes (all under build/linux/, never committed):
#   vmlinux          ELF64 kernel with the Xen PHYS32_ENTRY (PVH) note
#   VERSION          kernel release string, e.g. 6.1.0-56-cloud-amd64
#   initramfs.cpio   uncompressed newc archive
#   root.ext4        a 48 MiB ext4 root file system (busybox-static,
#                    Debian's socat and iperf3 with their libraries, and
#                    scripts/rootfs/init as /sbin/init) for virtio tests;
#                    rootfs/ is the tree it was made from
#   deb/             the downloaded .deb
#
# Idempotent: does nothing when vmlinux and initramfs.cpio exist and are
# newer than this script and everything in scripts/initramfs/.
# Needs root (apt-get, mknod).  FORCE=1 rebuilds regardless.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=build/linux
META=linux-image-cloud-amd64
INITDIR=scripts/initramfs
ROOTDIR=scripts/rootfs

log() { echo "fetch-linux: $*"; }
die() { echo "fetch-linux: error: $*" >&2; exit 1; }

# ----------------------------------------------------------- up to date?
up_to_date() {
	[ -s "$OUT/vmlinux" ] && [ -s "$OUT/initramfs.cpio" ] && [ -s "$OUT/root.ext4" ] &&
		[ -s "$OUT/VERSION" ] || return 1
	local t src
	for t in "$OUT/vmlinux" "$OUT/initramfs.cpio" "$OUT/root.ext4"; do
		for src in scripts/fetch-linux.sh $(find "$INITDIR" "$ROOTDIR" -type f); do
			[ "$t" -nt "$src" ] || return 1
		done
	done
	return 0
}
if [ "${FORCE:-0}" != 1 ] && up_to_date; then
	log "up to date: $OUT/vmlinux ($(cat "$OUT/VERSION")), $OUT/initramfs.cpio"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, mknod /dev/console)"
[ -f "$INITDIR/init" ] || die "missing $INITDIR/init"

# ----------------------------------------------------------- host tools
apt_updated=0
apt_update_once() {
	if [ "$apt_updated" = 0 ]; then
		log "apt-get update"
		apt-get update -qq || die "apt-get update failed"
		apt_updated=1
	fi
}
need_pkg() { # need_pkg PACKAGE
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] && return 0
	log "installing $1"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 || {
		apt_update_once
		apt-get install -y -qq --no-install-recommends "$1" >/dev/null ||
			die "cannot install $1"
	}
}
need_pkg lz4
need_pkg cpio
need_pkg busybox-static
need_pkg e2fsprogs
need_pkg socat    # vsock and TCP streams in the test root
need_pkg iperf3   # network throughput in the test root
need_pkg kmod
need_pkg binutils
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX=/usr/bin/busybox
[ -x "$BUSYBOX" ] || die "busybox-static installed but no busybox binary found"
if grep -q INTERP <<< "$(readelf -l "$BUSYBOX" 2>/dev/null)"; then
	die "$BUSYBOX is not statically linked"
fi
DEPMOD=$(command -v depmod || echo /sbin/depmod)
[ -x "$DEPMOD" ] || die "depmod not found (package kmod)"

# ----------------------------------------------------------- resolve package
resolve_pkg() {
	apt-cache depends "$META" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
}
PKG=$(resolve_pkg || true)
if [ -z "$PKG" ]; then
	apt_update_once
	PKG=$(resolve_pkg || true)
fi
[ -n "$PKG" ] || die "cannot resolve the image package behind $META (apt-cache depends)"
PKGVER=$(apt-cache show "$PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
log "$META -> $PKG ${PKGVER:-?}"

# ----------------------------------------------------------- download
mkdir -p "$OUT/deb"
find_deb() { ls -1t "$OUT/deb/${PKG}"_*.deb 2>/dev/null | head -n1; }
DEB=$(find_deb || true)
if [ -n "$DEB" ] && [ -n "$PKGVER" ] &&
   [ "$(dpkg-deb -f "$DEB" Version 2>/dev/null)" != "$PKGVER" ]; then
	DEB=""
fi
if [ -z "$DEB" ] || ! dpkg-deb -f "$DEB" Package >/dev/null 2>&1; then
	log "apt-get download $PKG"
	# apt-get download drops privileges to _apt; let it write there.
	chmod 0777 "$OUT/deb" 2>/dev/null || true
	( cd "$OUT/deb" && apt-get download -qq "$PKG" ) || {
		apt_update_once
		( cd "$OUT/deb" && apt-get download -qq "$PKG" ) || die "apt-get download $PKG failed"
	}
	DEB=$(find_deb || true)
	[ -n "$DEB" ] || die "download of $PKG produced no .deb in $OUT/deb"
else
	log "using cached $DEB"
fi
dpkg-deb -f "$DEB" Package >/dev/null || die "$DEB is not a valid .deb"

# ----------------------------------------------------------- extract
X="$OUT/extract"
rm -rf "$X"
mkdir -p "$X"
dpkg-deb -x "$DEB" "$X" || die "dpkg-deb -x $DEB failed"
BZ=$(ls -1 "$X"/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$BZ" ] || die "no /boot/vmlinuz-* in $DEB"
VERSION=${BZ##*/vmlinuz-}
[ -d "$X/lib/modules/$VERSION" ] || die "no lib/modules/$VERSION in $DEB"
log "kernel release $VERSION, bzImage $(stat -c %s "$BZ") bytes"

# ----------------------------------------------------------- vmlinux
# LZ4 legacy frame magic 0x184C2102 (LE bytes 02 21 4C 18).
OFF=$(LC_ALL=C grep -m1 -obUaP '\x02\x21\x4c\x18' "$BZ" | head -n1 | cut -d: -f1 || true)
[ -n "$OFF" ] || die "LZ4 legacy magic 02 21 4C 18 not found in $BZ"
log "LZ4 legacy payload at offset $OFF"
TMPV="$OUT/vmlinux.tmp"
trap 'rm -f "$OUT/vmlinux.tmp" "$OUT/initramfs.cpio.tmp"' EXIT
# lz4 complains about the bzImage's trailing data after the frame; ignore
# its status and check the result instead.
tail -c +"$((OFF + 1))" "$BZ" | lz4 -dc > "$TMPV" 2>/dev/null || true
[ -s "$TMPV" ] || die "lz4 -dc produced nothing"
[ "$(head -c 4 "$TMPV" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] ||
	die "decompressed kernel is not an ELF"
grep -q 'ELF64' <<< "$(readelf -h "$TMPV")" || die "decompressed kernel is not ELF64"
NOTES=$(readelf -n "$TMPV" 2>/dev/null)
grep -qE '^[[:space:]]+Xen[[:space:]]+0x[0-9a-f]+[[:space:]]+.*(\(0x00000012\)|PHYS32_ENTRY)' <<< "$NOTES" ||
	die "vmlinux has no Xen PHYS32_ENTRY (type 0x12) note: not PVH-bootable"
# Stronger check with pvhv's own loader, if the host tool is built.
if [ -x build/tools/pvhv-bundle ]; then
	if build/tools/pvhv-bundle -o "$OUT/.check.cpio" --domain check \
		--kernel "$TMPV" --memory 256 --vcpus 1 >"$OUT/.check.log" 2>&1; then
		log "pvhv-bundle accepts the kernel"
	else
		cat "$OUT/.check.log" >&2
		rm -f "$OUT/.check.cpio" "$OUT/.check.log"
		die "pvhv-bundle rejects the kernel"
	fi
	rm -f "$OUT/.check.cpio" "$OUT/.check.log"
fi
mv -f "$TMPV" "$OUT/vmlinux"
echo "$VERSION" > "$OUT/VERSION"
log "wrote $OUT/vmlinux ($(stat -c %s "$OUT/vmlinux") bytes, PVH note ok)"

# ----------------------------------------------------------- initramfs
S="$OUT/initramfs"
rm -rf "$S"
mkdir -p "$S"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,mnt}
chmod 1777 "$S/tmp"
cp "$BUSYBOX" "$S/bin/busybox"
chmod 0755 "$S/bin/busybox"
# Applet symlinks, placed where busybox itself says (--list-full).
n=0
while read -r app; do
	[ -n "$app" ] || continue
	[ "$app" = bin/busybox ] && continue
	mkdir -p "$S/$(dirname "$app")"
	[ -e "$S/$app" ] || { ln -s /bin/busybox "$S/$app"; n=$((n + 1)); }
done < <("$BUSYBOX" --list-full)
[ -e "$S/bin/sh" ] || ln -s busybox "$S/bin/sh"
log "busybox: $n applet links"
mknod -m 600 "$S/dev/console" c 5 1
mknod -m 666 "$S/dev/null" c 1 3
mknod -m 666 "$S/dev/ttyS0" c 4 64
install -m 0755 "$INITDIR/init" "$S/init"
cat > "$S/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
cat > "$S/etc/group" <<'EOF'
root:x:0:
EOF

# Modules: the virtio set plus what they depend on.  Walk "depends:" from
# modinfo over the extracted tree, so the closure is whatever this kernel
# needs, whatever the modules' compression.
MODSRC="$X/lib/modules/$VERSION"
MODDST="$S/lib/modules/$VERSION"
mkdir -p "$MODDST"
declare -A MODPATH=()
while IFS= read -r f; do
	b=${f##*/}
	b=${b%%.ko*}
	b=${b//-/_}
	MODPATH[$b]=$f
done < <(find "$MODSRC/kernel" -name '*.ko*' -type f)
want=(virtio virtio_ring virtio_mmio virtio_blk virtio_net net_failover failover ext4 crc32c_generic
      virtio_console vsock vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common
      virtio_rng pvpanic_mmio virtio_pci)
declare -A HAVE=()
queue=("${want[@]}")
while [ ${#queue[@]} -gt 0 ]; do
	m=${queue[0]}
	queue=("${queue[@]:1}")
	m=${m//-/_}
	[ -n "${HAVE[$m]:-}" ] && continue
	f=${MODPATH[$m]:-}
	if [ -z "$f" ]; then
		# Built in?  Then modules.builtin lists it.
		if grep -qE "/${m//_/[-_]}\.ko$" "$MODSRC/modules.builtin" 2>/dev/null; then
			log "module $m is built in"
			HAVE[$m]=builtin
			continue
		fi
		die "module $m not found in $PKG"
	fi
	HAVE[$m]=$f
	rel=${f#"$MODSRC"/}
	mkdir -p "$MODDST/$(dirname "$rel")"
	cp -p "$f" "$MODDST/$rel"
	deps=$(modinfo -F depends "$f" 2>/dev/null || true)
	IFS=, read -r -a dl <<< "$deps"
	for d in "${dl[@]}"; do [ -n "$d" ] && queue+=("$d"); done
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$MODSRC/$f" ] && cp -p "$MODSRC/$f" "$MODDST/$f"
done
"$DEPMOD" -b "$S" "$VERSION" || die "depmod -b $S $VERSION failed"
[ -s "$MODDST/modules.dep" ] || die "depmod wrote no modules.dep"
nmods=$(find "$MODDST" -name '*.ko*' | wc -l)
log "modules: $nmods files: $(find "$MODDST" -name '*.ko*' -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')"
grep -q virtio_mmio "$MODDST/modules.alias" || die "modules.alias lacks virtio_mmio"

TMPC="$OUT/initramfs.cpio.tmp"
( cd "$S" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet ) > "$TMPC" ||
	die "cpio failed"
mv -f "$TMPC" "$OUT/initramfs.cpio"
log "wrote $OUT/initramfs.cpio ($(stat -c %s "$OUT/initramfs.cpio") bytes, uncompressed newc)"

# ----------------------------------------------------------- root.ext4
# The same busybox tree without the initramfs's /init and modules, with
# scripts/rootfs/init as /sbin/init, made into ext4 by mkfs.ext4 -d.
R="$OUT/rootfs"
rm -rf "$R"
cp -a "$S" "$R"
rm -rf "$R/init" "$R/lib/modules"
rm -f "$R/sbin/init"
install -m 0755 "$ROOTDIR/init" "$R/sbin/init"
echo "pvhv-test-root-1" > "$R/etc/pvhv-root-id"
# Debian's socat and iperf3 as installed on this machine, with the shared
# libraries ldd names (and the dynamic loader) at the same paths.
copy_with_libs() {
	local bin=$1 lib
	install -D -m 0755 "$bin" "$R$bin"
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		[ -e "$R$lib" ] || install -D -m 0755 "$lib" "$R$lib"   # the loader must be executable
	done
}
for b in /usr/bin/socat /usr/bin/iperf3; do
	[ -x "$b" ] || die "$b missing after installing its package"
	copy_with_libs "$b"
done
rm -f "$OUT/root.ext4.tmp"
mkfs.ext4 -q -F -L pvhv-root -d "$R" -E root_owner=0:0 "$OUT/root.ext4.tmp" 48M ||
	die "mkfs.ext4 failed"
mv -f "$OUT/root.ext4.tmp" "$OUT/root.ext4"
# $R stays: scripts/run-demo.sh makes the sandboxes' image from the same tree.
log "wrote $OUT/root.ext4 ($(stat -c %s "$OUT/root.ext4") bytes, ext4)"

rm -rf "$X"
log "done: $PKG ${PKGVER:-} release $VERSION"
