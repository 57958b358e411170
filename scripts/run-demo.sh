#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-demo.sh: boot pvhv with a control domain, serial on this terminal.
#
# Builds build/demo/bundle.cpio: the control domain (Debian's cloud kernel,
# build/linux/root.ext4 as its root, build/userland's pvhctl, pvhd, agent-run
# and pvhv-agent on a second disk at /opt; vsock CID 3, `control = <1>`,
# `pci = "all"`: QEMU's PCI functions are passed through to it) and, for the
# sandboxes it makes, the image sandbox.ext4: the same busybox tree with
# pvhv-agent as its init (tools/pvhv-mkimage --agent).  QEMU (q35, the
# accelerator from scripts/qemu-args.sh) gives the control domain two PCI
# devices: a virtio-net-pci on user networking (restrict=on: no way out but
# QEMU's DHCP and the forwarded port; hostfwd 127.0.0.1:PVHV_DEMO_PORT, default
# 7070, to its port 7070) and an NVMe on build/demo/store.img (made once,
# blank; it persists across runs).  Its init brings the uplink up with
# udhcpc and starts pvhd with --store (the NVMe's ext4, made at the first
# run: images uploaded through pvhd come back at the next), --uplink (the
# sandboxes' router; its trunk is the control domain's pvhv NIC, 10.0.0.1)
# and --tcp 0.0.0.0:7070 (bearer token in /var/lib/pvhd/token, printed on
# the console).  Runs QEMU and explains QEMU's exit status.
# On a terminal the control domain gives a shell where `pvhctl run` works
# (it prints a few commands to try and the token for pvhctl --host from this
# machine; `exit` powers off, Ctrl-A X quits QEMU).  Without a terminal it
# runs a first session itself (pvhctl hello, images, run, ps, events, and
# one pvhd API call), prints PVHV-DEMO-TOKEN, waits up to PVHV_DEMO_WAIT
# (120) s for a session from the host that removes a sandbox "hostrun"
# (tests/demo/test-run.sh runs one) and powers off.
# PVHV_DEMO_TIMEOUT (seconds, default 240; none on a terminal) bounds the run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/qemu-args.sh

U=build/userland
for f in build/pvhv.elf build/tools/pvhv-bundle build/tools/pvhv-mkimage $U/pvhctl $U/pvhd $U/agent-run $U/pvhv-agent; do
	[ -e "$f" ] || { echo "run-demo: $f is missing; run 'make all' first" >&2; exit 1; }
done

bash scripts/fetch-linux.sh >/dev/null
[ -d build/linux/rootfs ] || FORCE=1 bash scripts/fetch-linux.sh >/dev/null
if [ -t 0 ]; then
	steps=ctlshell
	serial=(-serial mon:stdio)
	limit=()
	stdin=/dev/stdin
else
	steps=ctldemo
	serial=(-serial stdio)
	limit=(timeout --foreground "${PVHV_DEMO_TIMEOUT:-240}")
	stdin=/dev/null
fi

D=build/demo
mkdir -p "$D/files"
# The control domain's /opt and the sandboxes' root, rebuilt when their inputs change.
if [ ! -e "$D/files/userland.img" ] || [ -n "$(find $U/pvhctl $U/pvhd $U/agent-run $U/pvhv-agent -newer "$D/files/userland.img")" ]; then
	python3 -c 'import sys; sys.path.insert(0, "tests/integration"); import run; run.gen_userland(sys.argv[1])' \
		"$D/files/userland.img"
fi
if [ ! -e "$D/files/sandbox.ext4" ] || [ build/linux/root.ext4 -nt "$D/files/sandbox.ext4" ] ||
	[ $U/pvhv-agent -nt "$D/files/sandbox.ext4" ]; then
	build/tools/pvhv-mkimage --agent $U/pvhv-agent --dir build/linux/rootfs "$D/files/sandbox.ext4" >/dev/null
fi
# The image store's NVMe disk: made once, blank (the control domain makes its ext4), kept across runs.
[ -e "$D/store.img" ] || truncate -s 128M "$D/store.img"
port=${PVHV_DEMO_PORT:-7070}
for f in vmlinux initramfs.cpio root.ext4; do
	ln -sfn "$PWD/build/linux/$f" "$D/files/$f"
done
cat >"$D/config.dts" <<EOF
/dts-v1/;
/ {
	compatible = "pvhv,config-1";
	domains {
		ctl {
			kernel = "vmlinux";
			initrd = "initramfs.cpio";
			cmdline = "console=ttyS0 quiet pvhv.test=root pvhv.root=$steps pvhv.name=ctl pvhv.end=poweroff pvhv.pcimods=nvme,virtio_pci pvhd.store=/dev/nvme0n1 pvhv.ip=10.0.0.1/24 pvhd.uplink=pci pvhd.tcp=0.0.0.0:7070 pvhv.demo-wait=${PVHV_DEMO_WAIT:-120}";
			memory-mib = <256>;
			disks = "root.ext4", "ro:userland.img";
			overlay-mib = <256>;
			vsock-cid = <3>;
			control = <1>;
			net-mac = "02:00:00:00:00:01";
			net-ipv4 = "10.0.0.1";
			net-trunk;
			pci = "all";
		};
	};
};
EOF
bundle=$D/bundle.cpio
build/tools/pvhv-bundle -o "$bundle" --config "$D/config.dts" -C "$D/files" --add "$D/files/sandbox.ext4"

pvhv_qemu_args
# The control domain's uplink and image store, by passthrough.
PVHV_QEMU_ARGS+=(-device virtio-net-pci,netdev=n0
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:7070"
	-drive "if=none,id=st,format=raw,file=$D/store.img" -device nvme,serial=pvhvstore,drive=st)
echo "run-demo: accelerator $(pvhv_qemu_accel); the control domain 'ctl', sandbox image sandbox.ext4"
echo "run-demo: qemu-system-x86_64 ${PVHV_QEMU_ARGS[*]} ${serial[*]} -kernel build/pvhv.elf -initrd $bundle"
echo "run-demo: pvhd's TCP API at 127.0.0.1:$port (token on the console); image store build/demo/store.img"
[ -t 0 ] && echo "run-demo: a shell in the control domain once it boots; 'exit' powers off; Ctrl-A X quits QEMU"
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
