#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fetch-bench-root.sh: builds build/linux/bench-root.ext4, the root file system
# only `make bench` uses: the test root of scripts/fetch-linux.sh (busybox,
# socat, iperf3, scripts/rootfs/init as /sbin/init) plus Debian's fio with
# every shared library ldd names.
#
# fio is apart from root.ext4 because Debian's package pulls in a large
# dependency closure (Ceph, GlusterFS, Boost, ICU: about 217 MiB installed on
# the host) that `make test` should not pay for; the libraries fio itself
# loads are about 20 MiB.  The image has BENCH_ROOT_FREE_MIB (96) MiB free for
# fio's write file.
#
# Needs build/linux/initramfs/ (scripts/fetch-linux.sh) and root (apt-get).
# Idempotent: does nothing when the image is newer than this script,
# scripts/rootfs/init and build/linux/initramfs.cpio.  FORCE=1 rebuilds.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=build/linux
S=$OUT/initramfs
IMG=$OUT/bench-root.ext4
FREE_MIB=${BENCH_ROOT_FREE_MIB:-96}

log() { echo "fetch-bench-root: $*"; }
die() { echo "fetch-bench-root: error: $*" >&2; exit 1; }

case "$FREE_MIB" in
'' | *[!0-9]*) die "BENCH_ROOT_FREE_MIB=\"$FREE_MIB\" is not a number of MiB" ;;
esac
[ -x "$S/bin/busybox" ] && [ -s "$OUT/initramfs.cpio" ] ||
	die "$S/bin/busybox missing: run scripts/fetch-linux.sh first"
if [ "${FORCE:-0}" != 1 ] && [ -s "$IMG" ] && [ "$IMG" -nt scripts/fetch-bench-root.sh ] &&
	[ "$IMG" -nt scripts/rootfs/init ] && [ "$IMG" -nt "$OUT/initramfs.cpio" ]; then
	log "up to date: $IMG"
	exit 0
fi

need_pkg() { # need_pkg PACKAGE: installs it (and its dependencies) when missing
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] && return 0
	[ "$(id -u)" = 0 ] || die "$1 is not installed and this is not root (apt-get)"
	log "installing $1"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends "$1" >/dev/null 2>&1 || {
		apt-get update -qq || die "apt-get update failed"
		apt-get install -y -qq --no-install-recommends "$1" >/dev/null || die "cannot install $1"
	}
}
for p in fio socat iperf3 e2fsprogs; do need_pkg "$p"; done

R=$OUT/bench-rootfs
rm -rf "$R"
cp -a "$S" "$R"
rm -rf "$R/init" "$R/lib/modules"
rm -f "$R/sbin/init"
install -m 0755 scripts/rootfs/init "$R/sbin/init"
echo "pvhv-bench-root-1" >"$R/etc/pvhv-root-id"
copy_with_libs() { # the binary and the libraries (and loader) ldd names, at the same paths
	local bin=$1 lib
	[ -x "$bin" ] || die "$bin missing after installing its package"
	install -D -m 0755 "$bin" "$R$bin"
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		[ -e "$R$lib" ] || install -D -m 0755 "$lib" "$R$lib"
	done
	if ldd "$bin" | grep -q 'not found'; then
		die "$bin: a library is missing on this host: $(ldd "$bin" | grep 'not found' | tr -s ' \t' ' ')"
	fi
}
for b in /usr/bin/socat /usr/bin/iperf3 /usr/bin/fio; do copy_with_libs "$b"; done

used_mib=$(( ($(du -sk "$R" | cut -f1) + 1023) / 1024 ))
size_mib=$(( used_mib + used_mib / 4 + FREE_MIB ))
rm -f "$IMG.tmp"
mkfs.ext4 -q -F -L pvhv-bench -d "$R" -E root_owner=0:0 "$IMG.tmp" "${size_mib}M" || die "mkfs.ext4 failed"
mv -f "$IMG.tmp" "$IMG"
rm -rf "$R"
log "wrote $IMG ($size_mib MiB ext4, $used_mib MiB used; fio $(fio --version))"
