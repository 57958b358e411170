#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""linux-net.py: iperf3 between two Linux guests, directly under QEMU (a) and inside pvhv (b); vsock in pvhv.

Two guests boot the kernel and initramfs of bench/linux-boot.py and switch
into build/linux/root.ext4 (scripts/rootfs/init): "ns" (10.0.0.1) serves
iperf3 (step netserve), "nc" (10.0.0.2) runs iperf3 --json against it for
PVHV_BENCH_NET_S seconds each way (step netbench: fwd = nc to ns, rev = -R).

  (a) directly: two QEMU -M microvm,acpi=on processes, each with a
                virtio-net-device on a -netdev socket (ns listens on
                127.0.0.1, nc connects) and the image as virtio-blk;
  (b) in pvhv:  one QEMU -M q35 running build/pvhv.elf with both as
                domains, net-mac/net-ipv4 and net-link to each other.

Same accelerator, CPU model, guest memory and vCPUs (PVHV_BENCH_NET_VCPUS,
1 each; pvhv gets 2 host CPUs), alternating a and b.  Inside pvhv the two
also hold vsock devices (CIDs 3 and 4): after iperf3, nc sends
PVHV_BENCH_VSOCK_MIB MiB to ns over a vsock stream (steps vbench, vsink).
QEMU here has no vhost-vsock for (a), so the vsock figure is pvhv's alone.

Reported: MB/s each way (iperf3's received bytes per second), b/a, and
pvhv's VM exits per frame and per MiB: three more pvhv boots (no traffic,
iperf3 only, vsock only) and their summary lines' differences, frames from
pvhv's own per-port count (summary "net tx_frames=").

Environment: PVHV_BENCH_RUNS (5), PVHV_BENCH_MEM, PVHV_BENCH_TIMEOUT,
PVHV_BENCH_CPU, PVHV_BENCH_TSC_KHZ, PVHV_QEMU as linux-boot.py;
PVHV_BENCH_NET_S (5), PVHV_BENCH_VSOCK_MIB (64), PVHV_BENCH_NET_VCPUS (1),
PVHV_BENCH_EXITS=0 skips the exit boots.  Logs go to build/bench/net/.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no bench/__pycache__ from loading linux-boot.py
sys.path.insert(0, HERE)
from benchload import lb, ROOT  # noqa: E402
OUT = os.path.join(ROOT, "build", "bench", "net")
LINUX_DIR = os.path.join(ROOT, "build", "linux")
ROOT_EXT4 = os.path.join(LINUX_DIR, "root.ext4")
MARK = b"PVHV-END="
RUNS = max(1, lb.env_int("PVHV_BENCH_RUNS", 5))
NET_S = max(1, lb.env_int("PVHV_BENCH_NET_S", 5))
VMIB = max(1, lb.env_int("PVHV_BENCH_VSOCK_MIB", 64))
VCPUS = max(1, lb.env_int("PVHV_BENCH_NET_VCPUS", 1))
VPORT = 5000
BASE = "console=ttyS0 quiet pvhv.end=poweroff pvhv.test=root"
ROW = lb.row
PFX = r"^(?:\[(\w+)\] )?"
NET = re.compile(PFX + r"PVHV-NET-BENCH dir=(\w+) bytes=(\d+) bps=([0-9.e+-]+) tx_packets=(\d+) rx_packets=(\d+)"
                 r" tx_bytes=(\d+) rx_bytes=(\d+)$", re.M)
VSOCK = re.compile(PFX + r"PVHV-VSOCK-BENCH bytes=(\d+) ns=(\d+)$", re.M)
SUMMARY = re.compile(r"^pvhv: summary dom=(\w+) (end=.*)$", re.M)
FRAMES = re.compile(r"^pvhv: summary dom=(\w+) net tx_frames=(\d+) tx_bytes=(\d+)", re.M)
NOT_EXITS = ("overlay_peak_kib", "console_dropped", "vsock_refused")
DOMS = (("ns", "10.0.0.1", "02:00:00:00:00:01", 3), ("nc", "10.0.0.2", "02:00:00:00:00:02", 4))


def cmdline(name, iperf_s, vmib, vsock):
    """The kernel command line of ns (server) or nc (client)."""
    if name == "ns":
        return "%s pvhv.root=netserve%s pvhv.ip=10.0.0.1/24 pvhv.vport=%d" % (
            BASE, ",vsink" if vsock else "", VPORT)
    return "%s pvhv.root=netbench%s pvhv.ip=10.0.0.2/24 pvhv.peer=10.0.0.1 pvhv.iperf-s=%d " \
           "pvhv.vcid=3 pvhv.vport=%d pvhv.vmib=%d" % (BASE, ",vbench" if vsock else "", iperf_s, VPORT, vmib)


def make_bundle(path, iperf_s, vmib):
    dts = path[:-len(".cpio")] + ".dts"
    with open(dts, "w") as f:
        f.write("/dts-v1/;\n\n/ {\n\tcompatible = \"pvhv,config-1\";\n\tdomains {\n")
        for (name, ip, mac, cid), (peer, _, _, _) in zip(DOMS, reversed(DOMS)):
            f.write("\t\t%s {\n\t\t\tkernel = \"vmlinux\";\n\t\t\tinitrd = \"initramfs.cpio\";\n"
                    "\t\t\tcmdline = \"%s\";\n\t\t\tmemory-mib = <%d>;\n\t\t\tvcpus = <%d>;\n"
                    "\t\t\tdisks = \"root.ext4\";\n\t\t\toverlay-mib = <16>;\n"
                    "\t\t\tnet-mac = \"%s\";\n\t\t\tnet-ipv4 = \"%s\";\n\t\t\tnet-link = \"%s\";\n"
                    "\t\t\tvsock-cid = <%d>;\n%s\t\t};\n"
                    % (name, cmdline(name, iperf_s, vmib, True), lb.MEM, VCPUS, mac, ip, peer, cid,
                       "\t\t\tvsock-connect = \"ns\";\n" if name == "nc" else ""))
        f.write("\t};\n};\n")
    subprocess.run([lb.BUNDLE_TOOL, "-o", path, "--config", dts, "-C", LINUX_DIR], check=True,
                   stdout=subprocess.DEVNULL)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def direct_argv(name, accel, cpu, port):
    mac, append = dict((d[0], d[2]) for d in DOMS)[name], cmdline(name, NET_S, 0, False)
    if accel == "tcg":
        khz, _ = lb.host_tsc_khz()   # as linux-disk.py: microvm has no HPET or PM timer
        if khz:
            append += " tsc_early_khz=%d tsc=reliable" % khz
    net = "socket,id=n0,%s=127.0.0.1:%d" % ("listen" if name == "ns" else "connect", port)
    return [lb.QEMU, "-M", "microvm,acpi=on", "-m", str(lb.MEM), "-smp", str(VCPUS), "-display", "none",
            "-no-reboot", "-nodefaults", "-accel", accel, "-cpu", cpu, "-serial", "stdio",
            "-kernel", lb.VMLINUX, "-initrd", lb.INITRD, "-append", append,
            "-drive", "if=none,id=d0,file=%s,format=raw,snapshot=on" % ROOT_EXT4,
            "-device", "virtio-blk-device,drive=d0", "-netdev", net,
            "-device", "virtio-net-device,netdev=n0,mac=%s" % mac]


def parse(text):
    """{"fwd"/"rev": (bytes, bps, tx_pk, rx_pk, tx_b, rx_b)}, the vsock (bytes, ns) or None."""
    net = {m.group(2): (int(m.group(3)), float(m.group(4))) + tuple(int(x) for x in m.group(5, 6, 7, 8))
           for m in NET.finditer(text) if m.group(1) in (None, "nc")}
    v = next(((int(m.group(2)), int(m.group(3))) for m in VSOCK.finditer(text)), None)
    return net, v


def run_direct(name, accel, cpu):
    """ns and nc as two QEMU processes joined by a socket netdev."""
    port = free_port()
    res = {}

    def one(dom):
        res[dom] = lb.boot("%s-%s" % (name, dom), direct_argv(dom, accel, cpu, port), out=OUT, mark=MARK,
                           who="linux-net")

    ts = threading.Thread(target=one, args=("ns",))
    ts.start()
    time.sleep(1.0)   # ns's QEMU listens before its guest starts; nc's connects at start
    one("nc")
    ts.join()
    net, _ = parse(res["nc"]["text"])
    return dict(name=name, net=net, vsock=None, logs=[res["ns"]["log"], res["nc"]["log"]])


def run_pvhv(name, hv, iperf_s, vmib):
    bundle = os.path.join(OUT, "net-%d-%d.cpio" % (iperf_s, vmib))
    if not os.path.exists(bundle):
        make_bundle(bundle, iperf_s, vmib)
    r = lb.boot(name, [lb.QEMU] + hv + ["-serial", "stdio", "-kernel", lb.HV_ELF, "-initrd", bundle],
                out=OUT, mark=MARK, who="linux-net")
    net, v = parse(r["text"])
    exits, reasons = 0, {}
    for m in SUMMARY.finditer(r["text"]):
        kv, rs = lb.parse_exits(m.group(2))
        exits += int(kv.get("exits", 0))
        for k, n in rs.items():
            if k not in NOT_EXITS:
                reasons[k] = reasons.get(k, 0) + n
    frames = sum(int(m.group(2)) for m in FRAMES.finditer(r["text"]))
    return dict(name=name, net=net, vsock=v, exits=exits if SUMMARY.search(r["text"]) else None,
                reasons=reasons, frames=frames, logs=[r["log"]])


def mbs(r, d):
    v = r["net"].get(d)
    return v[1] / 8e6 if v else None


def vsock_mbs(r):
    v = r["vsock"]
    return v[0] * 1e3 / v[1] if v and v[1] > 0 else None


def fmt(v):
    return "n/a" if v is None else ("%.0f" % v if v >= 100 else "%.1f" % v)


def report_exits(hv):
    print()
    none = run_pvhv("exits-none", hv, 0, 0)
    net = run_pvhv("exits-net", hv, NET_S, 0)
    vs = run_pvhv("exits-vsock", hv, 0, VMIB)
    if none["exits"] is None:
        ROW("pvhv VM exits", "no summary line (see %s)" % os.path.relpath(none["logs"][0], ROOT))
        return
    print("  pvhv VM exits of both domains: a boot with only that traffic less a boot with none"
          " (%d exits, %d frames)" % (none["exits"], none["frames"]))

    def top(r, per, what):
        d = sorted(((k, n - none["reasons"].get(k, 0)) for k, n in r["reasons"].items()), key=lambda kv: -kv[1])
        return "per %s: %s" % (what, ", ".join("%s %.2f" % (k, n / per) for k, n in d[:5] if n > 0))

    if net["exits"] is not None and len(net["net"]) == 2:
        dx, df = net["exits"] - none["exits"], net["frames"] - none["frames"]
        mib = sum(v[0] for v in net["net"].values()) / 1048576.0
        pk = sum(v[2] + v[3] for v in net["net"].values())
        ROW("iperf3 %d s each way (%.0f MiB, %d frames)" % (NET_S, mib, df),
            "%d exits: %.2f per frame, %.1f per MiB" % (dx, dx / df if df else 0, dx / mib if mib else 0))
        ROW("", "nc's eth0 counted %d packets (tx + rx) over the two runs" % pk)
        if df:
            ROW("", top(net, df, "frame"))
    else:
        ROW("iperf3", "n/a (see %s)" % os.path.relpath(net["logs"][0], ROOT))
    if vs["exits"] is not None and vs["vsock"]:
        dx, mib = vs["exits"] - none["exits"], vs["vsock"][0] / 1048576.0
        ROW("vsock stream (%.0f MiB, %s MB/s)" % (mib, fmt(vsock_mbs(vs))), "%d exits: %.1f per MiB" % (dx, dx / mib))
        ROW("", top(vs, mib, "MiB"))
    else:
        ROW("vsock stream", "n/a (see %s)" % os.path.relpath(vs["logs"][0], ROOT))
    print("  (the difference also holds the timer and idle exits of the time the traffic took;")
    print("   frames: pvhv's per-port tx_frames, both ports; pvhv counts no packets for vsock)")


def main():
    print("(i) Linux network: iperf3 between two guests, directly under QEMU (a) vs inside pvhv (b); vsock in pvhv")
    missing = [f for f in (lb.VMLINUX, lb.INITRD, ROOT_EXT4, lb.HV_ELF, lb.BUNDLE_TOOL) if not os.path.exists(f)]
    if missing:
        ROW("skipped, missing", " ".join(os.path.relpath(f, ROOT) for f in missing))
        return 0
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".log", ".qemu", ".cpio", ".dts")):
            os.unlink(os.path.join(OUT, f))
    hv = lb.pvhv_qemu_args(False, 2)
    accel, cpu = lb.opt(hv, "-accel"), lb.opt(hv, "-cpu")
    ROW("guests", "2 x %d MiB, %d vCPU each, root.ext4, iperf3 %d s each way" % (lb.MEM, VCPUS, NET_S))
    ROW("accelerator, CPU model (both)", "%s, -cpu %s" % (accel, cpu))
    ROW("(a) direct", "2 x microvm, virtio-net-device on -netdev socket (127.0.0.1)")
    ROW("(b) pvhv", "-M q35 -smp 2, net-link between the two, vsock-cid 3 and 4")
    ROW("runs", "%d each, alternating a, b after one untimed run of each%s" %
        (RUNS, "" if RUNS >= 5 else " (fewer than 5: rough medians)"))
    sys.stdout.flush()
    run_direct("warmup-a", accel, cpu)
    run_pvhv("warmup-b", hv, NET_S, VMIB)
    ra, rb = [], []
    for i in range(1, RUNS + 1):
        ra.append(run_direct("a-%d" % i, accel, cpu))
        rb.append(run_pvhv("b-%d" % i, hv, NET_S, VMIB))
    print()
    for d, what in (("fwd", "nc -> ns"), ("rev", "ns -> nc, iperf3 -R")):
        a, b = lb.median([mbs(r, d) for r in ra]), lb.median([mbs(r, d) for r in rb])
        ROW("iperf3 %s (%s) MB/s" % (d, what), "(a) %s  (b) %s  b/a %s" %
            (fmt(a), fmt(b), "%.3f" % (b / a) if a and b else "n/a"))
        ROW("", "runs (a) %s | (b) %s" % (" ".join(fmt(mbs(r, d)) for r in ra),
                                           " ".join(fmt(mbs(r, d)) for r in rb)))
    ROW("vsock stream nc -> ns MB/s (pvhv only)", "%s  runs %s" % (
        fmt(lb.median([vsock_mbs(r) for r in rb])), " ".join(fmt(vsock_mbs(r)) for r in rb)))
    print("  (MB/s = 10^6 bytes/s; iperf3's received bytes per second; vsock: %d MiB, the sender's clock" % VMIB)
    print("   around socat; (a) has no vsock: QEMU here has no vhost-vsock)")
    complete = all(len(r["net"]) == 2 for r in ra + rb) and all(r["vsock"] for r in rb)
    if not complete:
        ROW("runs without every figure", " ".join(r["name"] for r in ra + rb
                                                  if len(r["net"]) < 2 or (r in rb and not r["vsock"])))
    if os.environ.get("PVHV_BENCH_EXITS", "1") != "0":
        report_exits(hv)
    print("  Logs: %s/" % os.path.relpath(OUT, ROOT))
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
