#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fetch-linux.sh [generic]: fetches Debian's cloud kernel (the package behind
# the linux-image-cloud-amd64 metapackage) from Debian's archive, extracts the
# ELF vmlinux (with its PVH note) from the bzImage (LZ4 legacy, XZ, gzip or
# zstd payload, decompressed with Debian's lz4, xz, gzip or zstd), and builds
# an uncompressed newc initramfs from busybox-static, the package's virtio
# and nvme modules and scripts/initramfs/init.
#
# With "generic" it does the same for Debian's generic kernel (behind
# linux-image-amd64, which has the e1000e driver the cloud kernel lacks)
# into build/linux-generic/: vmlinux, VERSION, initramfs.cpio (the same
# init, plus the e1000e, nvme and virtio_pci modules) and deb/, but no
# root.ext4 (build/linux's serves both kernels).  Without an argument the
# cloud run first runs the generic one (PVHV_LINUX_GENERIC=0 skips it).
#
# Writes (all under build/linux/, never committed):
#   vmlinux          ELF64 kernel with the Xen PHYS32_ENTRY (PVH) note
#   VERSION          kernel release string, e.g. 6.1.0-56-cloud-amd64
#   initramfs.cpio   uncompressed newc archive
#   root.ext4        a 64 MiB ext4 root file system (busybox-static,
#                    Debian's socat, iperf3, dnsmasq, nft and iproute2's
#                    ip (as /usr/local/sbin/ip) with their libraries, the
#                    initramfs's modules (nf_tables, veth, ...), and
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
FLAVOR=${1:-cloud}
case "$FLAVOR" in
cloud)
	OUT=build/linux
	META=linux-image-cloud-amd64
	# The generic kernel first (cached like this one): its own run, its own checks.
	if [ "${PVHV_LINUX_GENERIC:-1}" != 0 ]; then
		bash scripts/fetch-linux.sh generic || { echo "fetch-linux: error: the generic kernel failed" >&2; exit 1; }
	fi
	;;
generic)
	OUT=build/linux-generic
	META=linux-image-amd64
	;;
*)
	echo "fetch-linux: error: unknown flavour \"$FLAVOR\" (cloud or generic)" >&2
	exit 2
	;;
esac
INITDIR=scripts/initramfs
ROOTDIR=scripts/rootfs

log() { echo "fetch-linux ($FLAVOR): $*"; }
die() { echo "fetch-linux ($FLAVOR): error: $*" >&2; exit 1; }

# ----------------------------------------------------------- up to date?
up_to_date() {
	local t src targets=("$OUT/vmlinux" "$OUT/initramfs.cpio")
	[ "$FLAVOR" = cloud ] && targets+=("$OUT/root.ext4")
	[ -s "$OUT/VERSION" ] || return 1
	for t in "${targets[@]}"; do
		[ -s "$t" ] || return 1
	done
	for t in "${targets[@]}"; do
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
need_pkg xz-utils   # the generic kernel's bzImage is XZ
need_pkg zstd
need_pkg gzip
need_pkg cpio
need_pkg busybox-static
need_pkg e2fsprogs
need_pkg util-linux # blkid, for the control domain's image store (scripts/rootfs/init)
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
# The bzImage's payload, found by its magic and decompressed with Debian's
# tool for it; a magic can also occur by chance inside the setup code or
# another payload, so every place is tried until one gives an ELF.
# Magic (bytes), tool: LZ4 legacy 02 21 4C 18, XZ FD 37 7A 58 5A 00,
# zstd 28 B5 2F FD, gzip 1F 8B 08.
TMPV="$OUT/vmlinux.tmp"
trap 'rm -f "$OUT/vmlinux.tmp" "$OUT/initramfs.cpio.tmp"' EXIT
is_elf() { [ -s "$1" ] && [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }
found=""
for kind in 'lz4:\x02\x21\x4c\x18' 'xz:\xfd\x37\x7a\x58\x5a\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
	tool=${kind%%:*}
	for OFF in $(LC_ALL=C grep -obUaP "${kind#*:}" "$BZ" | cut -d: -f1 | head -n 8); do
		# Each tool complains about the bzImage's trailing data after its
		# stream; ignore its status and check the result instead.
		case "$tool" in
		lz4) tail -c +"$((OFF + 1))" "$BZ" | lz4 -dc > "$TMPV" 2>/dev/null || true ;;
		xz) tail -c +"$((OFF + 1))" "$BZ" | xz -dc --single-stream > "$TMPV" 2>/dev/null || true ;;
		zstd) tail -c +"$((OFF + 1))" "$BZ" | zstd -dcq > "$TMPV" 2>/dev/null || true ;;
		gzip) tail -c +"$((OFF + 1))" "$BZ" | gzip -dc > "$TMPV" 2>/dev/null || true ;;
		esac
		if is_elf "$TMPV"; then
			found="$tool payload at offset $OFF"
			break 2
		fi
	done
done
[ -n "$found" ] || die "no LZ4, XZ, zstd or gzip payload in $BZ decompresses to an ELF"
log "vmlinux from the $found"
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
# nvme and virtio_pci (virtio_net too) for disks and NICs a control domain
# is given by PCI passthrough; the generic kernel adds e1000e (QEMU's
# -device e1000e), which the cloud kernel has not.
want=(virtio virtio_ring virtio_mmio virtio_blk virtio_net net_failover failover ext4 crc32c_generic
      virtio_console vsock vmw_vsock_virtio_transport vmw_vsock_virtio_transport_common
      virtio_rng pvpanic_mmio nvme virtio_pci
      nf_tables nft_chain_nat nft_nat nft_masq nft_ct nf_conntrack nf_nat veth)
[ "$FLAVOR" = generic ] && want+=(e1000e)
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

if [ "$FLAVOR" = generic ]; then
	rm -rf "$X"
	log "done: $PKG ${PKGVER:-} release $VERSION (no root.ext4: build/linux's serves it)"
	exit 0
fi

# ----------------------------------------------------------- root.ext4
# The same busybox tree without the initramfs's /init and modules, with
# scripts/rootfs/init as /sbin/init, made into ext4 by mkfs.ext4 -d.
R="$OUT/rootfs"
rm -rf "$R"
cp -a "$S" "$R"
rm -rf "$R/init"   # the modules stay: the router (userland/router) loads nf_tables and veth there
rm -f "$R/sbin/init"
install -m 0755 "$ROOTDIR/init" "$R/sbin/init"
echo "pvhv-test-root-1" > "$R/etc/pvhv-root-id"
# Debian's socat and iperf3 as installed on this machine, with the shared
# libraries ldd names (and the dynamic loader) at the same paths.
copy_with_libs() {
	local bin=$1 lib
	rm -f "$R$bin"   # a busybox applet link there would take the copy to the host's busybox
	install -D -m 0755 "$bin" "$R$bin"
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		[ -e "$R$lib" ] || install -D -m 0755 "$lib" "$R$lib"   # the loader must be executable
	done
}
# Debian's mke2fs (mkfs.ext4) and blkid: the control domain's init makes
# its image store's file system only on a device where blkid finds none.
need_pkg dnsmasq-base   # the sandboxes' DHCP and DNS (userland/router/pvhv-router)
need_pkg nftables       # their NAT, egress filter and published ports
need_pkg iproute2       # netns and veth for the stand-in uplink (busybox ip has neither)
for b in /usr/bin/socat /usr/bin/iperf3 /sbin/mke2fs /sbin/blkid /usr/sbin/dnsmasq /usr/sbin/nft; do
	[ -x "$b" ] || die "$b missing after installing its package"
	copy_with_libs "$b"
done
ln -sf mke2fs "$R/sbin/mkfs.ext4"
install -D -m 0644 /etc/mke2fs.conf "$R/etc/mke2fs.conf"
# iproute2's ip beside busybox's (which stays /sbin/ip for the other steps).
copy_with_libs /usr/sbin/ip
mkdir -p "$R/usr/local/sbin" "$R/var/run/netns"
mv "$R/usr/sbin/ip" "$R/usr/local/sbin/ip"
rm -f "$OUT/root.ext4.tmp"
mkfs.ext4 -q -F -L pvhv-root -d "$R" -E root_owner=0:0 "$OUT/root.ext4.tmp" 64M ||
	die "mkfs.ext4 failed"
mv -f "$OUT/root.ext4.tmp" "$OUT/root.ext4"
# $R stays: scripts/run-demo.sh makes the sandboxes' image from the same tree.
log "wrote $OUT/root.ext4 ($(stat -c %s "$OUT/root.ext4") bytes, ext4)"

rm -rf "$X"
log "done: $PKG ${PKGVER:-} release $VERSION"
