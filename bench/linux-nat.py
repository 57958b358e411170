#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""linux-nat.py: a sandbox's traffic through the control domain's NAT, and the control domain's restart.

Part 1, iperf3 to a loopback iperf3 server on the host, through QEMU's user
network (restrict=on; guestfwd=tcp:10.0.2.100:5201-cmd:socat - TCP:127.0.0.1:PORT,
one socat per guest connection, so iperf3's control and data connections
each get their own) and a virtio-net-pci NIC:

  (a) directly: QEMU -M q35 boots build/linux/vmlinux through its PVH note
                (root.ext4 on virtio-blk-pci), step natdirect: eth0 is the NIC;
  (b) in pvhv:  the control domain (pci = "all", so the NIC is its own;
                step natctl) runs pvhd as the sandboxes' router (--uplink the
                NIC, --trunk pvhv's port) and makes sandbox "nb" (--net
                --egress all, step natsb), which gets its lease from ctl's
                dnsmasq and runs the same iperf3 through pvhv's switch, ctl's
                forwarding and masquerade, and the passed-through NIC.

Same kernel, accelerator, CPU model, guest memory (PVHV_BENCH_MEM) and one
vCPU, alternating a and b.  Reported: MB/s each way, b/a, and pvhv's VM exits
per packet: one more pvhv boot whose sandbox runs no iperf3, subtracted from
a b boot's summary lines (ctl and nb), divided by the sandbox's eth0 packets.
These are real-time boots: slirp's I/O runs in real time, so -icount does not
make this figure exact (it would stretch the guest's clock, not QEMU's I/O).

Part 2, the control domain's restart: ctl with pvhd --tcp 0.0.0.0:7070 (QEMU
hostfwd to a loopback port, a token the bench chose), sandbox "np" (step
natping) pinging QEMU's gateway through ctl's NAT five times a second; ctl
crashes (echo c > /proc/sysrq-trigger) and pvhv restarts it.  The host polls
pvhd's GET /api/v1/info every PVHV_BENCH_NAT_POLL_MS (200) ms from a thread;
every time is the host's, on the serial log's clock.  Reported: crash to
pvhd answering again, and the gap in np's pings.

Environment: PVHV_BENCH_RUNS (3), PVHV_BENCH_MEM (256), PVHV_BENCH_TIMEOUT,
PVHV_BENCH_CPU, PVHV_QEMU as linux-boot.py; PVHV_BENCH_NAT_S (5, iperf3
seconds each way), PVHV_BENCH_NAT_AFTER (30, seconds the restarted ctl
waits before it ends the sandbox), PVHV_BENCH_EXITS=0, PVHV_BENCH_NAT_IPERF=0 (part 2
only), PVHV_BENCH_NAT_RESTART=0 (part 1 only).
Logs go to build/bench/nat/.
"""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no bench/__pycache__ from loading linux-boot.py
sys.path.insert(0, HERE)
from benchload import load, lb, ROOT  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
itest = load("itest_run", os.path.join(ROOT, "tests", "integration", "run.py"))
net = load("linux_net", os.path.join(HERE, "linux-net.py"))

OUT = os.path.join(ROOT, "build", "bench", "nat")
LINUX_DIR = os.path.join(ROOT, "build", "linux")
ROOT_EXT4 = os.path.join(LINUX_DIR, "root.ext4")
RUNS = max(1, lb.env_int("PVHV_BENCH_RUNS", 3))
NAT_S = max(1, lb.env_int("PVHV_BENCH_NAT_S", 5))
AFTER = max(5, lb.env_int("PVHV_BENCH_NAT_AFTER", 30))
POLL_MS = max(50, lb.env_int("PVHV_BENCH_NAT_POLL_MS", 200))
CTL_MIB = 512
ROW = lb.row
# The initramfs loads virtio_pci first (step drivers): its root step loads only the virtio-mmio drivers.
BASE = "console=ttyS0 quiet pvhv.end=poweroff pvhv.test=drivers,root pvhv.drivers=virtio_pci,virtio_net"
SUMMARY = re.compile(r"^pvhv: summary dom=(\w+) (end=.*)$", re.M)
NOT_EXITS = net.NOT_EXITS


def netdev(port, extra=""):
    return "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:5201-cmd:socat - TCP:127.0.0.1:%d%s" % (port, extra)


def direct_argv(accel, cpu, port):
    return [lb.QEMU, "-M", "q35", "-m", str(lb.MEM), "-smp", "1", "-display", "none", "-no-reboot",
            "-nodefaults", "-accel", accel, "-cpu", cpu, "-serial", "stdio",
            "-kernel", lb.VMLINUX, "-initrd", lb.INITRD,
            "-append", "%s pvhv.root=natdirect pvhv.peer=10.0.2.100 pvhv.iperf-s=%d" % (BASE, NAT_S),
            "-drive", "if=none,id=d0,file=%s,format=raw,snapshot=on" % ROOT_EXT4,
            "-device", "virtio-blk-pci,drive=d0", "-netdev", netdev(port), "-device", "virtio-net-pci,netdev=n0"]


def make_bundle(path, extra):
    files = os.path.join(OUT, "files")
    os.makedirs(files, exist_ok=True)
    userland = os.path.join(files, "userland.img")
    if not os.path.exists(userland):
        itest.gen_userland(userland)
    for f in (lb.VMLINUX, lb.INITRD, ROOT_EXT4):
        dst = os.path.join(files, os.path.basename(f))
        if not os.path.lexists(dst):
            os.symlink(f, dst)
    dts = path[:-len(".cpio")] + ".dts"
    with open(dts, "w") as f:
        f.write('/dts-v1/;\n\n/ {\n\tcompatible = "pvhv,config-1";\n\tdomains {\n\t\tctl {\n'
                '\t\t\tkernel = "vmlinux";\n\t\t\tinitrd = "initramfs.cpio";\n'
                '\t\t\tcmdline = "%s pvhv.root=natctl pvhv.name=ctl %s";\n'
                '\t\t\tmemory-mib = <%d>;\n\t\t\tdisks = "root.ext4", "ro:userland.img";\n'
                '\t\t\tvsock-cid = <3>;\n\t\t\tcontrol = <1>;\n\t\t\tpci = "all";\n'
                '\t\t\tnet-mac = "02:00:00:00:00:01";\n\t\t\tnet-ipv4 = "10.0.0.1";\n\t\t\tnet-trunk;\n'
                '\t\t};\n\t};\n};\n' % (BASE, extra, CTL_MIB))
    subprocess.run([lb.BUNDLE_TOOL, "-o", path, "--config", dts, "-C", files], check=True,
                   stdout=subprocess.DEVNULL)


def pvhv_boot(name, hv, extra, port, fwd="", started=None):
    """One pvhv boot; started() is called once the bundle is made, just before QEMU starts."""
    bundle = os.path.join(OUT, name + ".cpio")
    make_bundle(bundle, extra)
    if started:
        started()
    return lb.boot(name, [lb.QEMU] + hv + ["-serial", "stdio", "-kernel", lb.HV_ELF, "-initrd", bundle,
                                           "-netdev", netdev(port, fwd), "-device", "virtio-net-pci,netdev=n0"],
                   out=OUT, mark=b"PVHV-END=", who="linux-nat")


def nat_result(r, who):
    """{"fwd"/"rev": (bytes, bps, tx_pk, rx_pk, tx_b, rx_b)} of the guest printing as `who` (None: unprefixed)."""
    res = {}
    for m in net.NET.finditer(r["text"]):
        if m.group(1) == who:
            res[m.group(2)] = (int(m.group(3)), float(m.group(4))) + tuple(int(x) for x in m.group(5, 6, 7, 8))
    return res


def exits_of(r):
    """Summed exits and exits by reason of every summary line (ctl and its sandbox)."""
    total, reasons, doms = 0, {}, []
    for m in SUMMARY.finditer(r["text"]):
        kv, rs = lb.parse_exits(m.group(2))
        doms.append(m.group(1))
        total += int(kv.get("exits", 0))
        for k, n in rs.items():
            if k not in NOT_EXITS:
                reasons[k] = reasons.get(k, 0) + n
    return (total if doms else None), reasons, doms


def mbs(res, d):
    v = res.get(d)
    return v[1] / 8e6 if v else None


def server_conns(log, start):
    """Control and data connections the host's iperf3 server saw since byte `start` of its log."""
    with open(log) as f:
        f.seek(start)
        text = f.read()
    return len(re.findall(r"Accepted connection from", text)), len(re.findall(r"local 127\.0\.0\.1 port \d+ connected to", text))


def part_iperf(hv, accel, cpu, port, slog):
    ROW("(a) direct", "-M q35 -m %d -smp 1, -kernel vmlinux (PVH note), virtio-net-pci on user,restrict=on" % lb.MEM)
    ROW("(b) pvhv", "-M q35 -smp 2: ctl (%d MiB, pci = \"all\", pvhd --uplink) + sandbox nb (%d MiB, --net "
        "--egress all)" % (CTL_MIB, lb.MEM))
    ROW("iperf3 server", "host 127.0.0.1:%d, reached at 10.0.2.100:5201 through guestfwd + socat" % port)
    ROW("runs", "%d each, alternating a, b after one untimed run of each%s" %
        (RUNS, "" if RUNS >= 5 else " (fewer than 5: rough medians)"))
    sys.stdout.flush()
    extra = "pvhv.nat=iperf pvhv.iperf-s=%d" % NAT_S
    ra, rb = [], []
    for i in range(0, RUNS + 1):
        tag = "warmup" if i == 0 else str(i)
        s0 = os.path.getsize(slog)
        a = lb.boot("a-%s" % tag, direct_argv(accel, cpu, port), out=OUT, mark=b"PVHV-END=", who="linux-nat")
        a["res"], a["conns"] = nat_result(a, None), server_conns(slog, s0)
        s0 = os.path.getsize(slog)
        b = pvhv_boot("b-%s" % tag, hv, extra, port)
        b["res"], b["conns"] = nat_result(b, "nb"), server_conns(slog, s0)
        if i:
            ra.append(a)
            rb.append(b)
    print()
    for d, what in (("fwd", "guest -> host"), ("rev", "host -> guest, iperf3 -R")):
        a, b = lb.median([mbs(r["res"], d) for r in ra]), lb.median([mbs(r["res"], d) for r in rb])
        ROW("iperf3 %s (%s) MB/s" % (d, what), "(a) %s  (b) %s  b/a %s" %
            (net.fmt(a), net.fmt(b), "%.3f" % (b / a) if a and b else "n/a"))
        ROW("", "runs (a) %s | (b) %s" % (" ".join(net.fmt(mbs(r["res"], d)) for r in ra),
                                           " ".join(net.fmt(mbs(r["res"], d)) for r in rb)))
    ROW("host server's connections per run", "(a) %s | (b) %s (control, data: 2 tests each)" % (
        " ".join("%d,%d" % r["conns"] for r in ra), " ".join("%d,%d" % r["conns"] for r in rb)))
    complete = all(len(r["res"]) == 2 for r in ra + rb)
    if not complete:
        ROW("runs without every figure", " ".join(os.path.relpath(r["log"], ROOT) for r in ra + rb
                                                  if len(r["res"]) < 2))
    if os.environ.get("PVHV_BENCH_EXITS", "1") != "0" and rb:
        none = pvhv_boot("exits-none", hv, "pvhv.nat=iperf pvhv.iperf-s=0", port)
        report_exits(none, rb)
    return complete


def report_exits(none, rb):
    nx, nr, nd = exits_of(none)
    full = [r for r in rb if len(r["res"]) == 2 and exits_of(r)[0] is not None]
    if nx is None or not full:
        ROW("pvhv VM exits", "no summary lines (see %s)" % os.path.relpath(none["log"], ROOT))
        return
    print("  pvhv VM exits (summary lines of %s), a b boot less a boot whose sandbox runs no iperf3 (%d exits):"
          % ("+".join(nd), nx))
    for r in full:
        x, rs, _ = exits_of(r)
        pk = sum(v[2] + v[3] for v in r["res"].values())
        mib = sum(v[0] for v in r["res"].values()) / 1048576.0
        dx = x - nx
        d = sorted(((k, n - nr.get(k, 0)) for k, n in rs.items()), key=lambda kv: -kv[1])
        ROW("%s: %d packets (nb's eth0, tx + rx), %.0f MiB" % (r["name"], pk, mib),
            "%d exits: %.2f per packet, %.0f per MiB" % (dx, dx / pk if pk else 0, dx / mib if mib else 0))
        ROW("", "per packet: " + ", ".join("%s %.2f" % (k, n / pk) for k, n in d[:6] if n > 0 and pk))
    print("  (the difference also holds the timer and idle exits of the %d s of traffic)" % (2 * NAT_S))


def poller(port, token, t0, stop, out):
    """GET /api/v1/info every POLL_MS ms: (ms since t0, status or None) into out."""
    while not stop.is_set():
        t = time.monotonic()
        st = None
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
            c.request("GET", "/api/v1/info", headers={"Authorization": "Bearer " + token})
            st = c.getresponse().status
            c.close()
        except (OSError, http.client.HTTPException):
            pass
        out.append(((t - t0) * 1000.0, st))
        stop.wait(max(0.0, POLL_MS / 1000.0 - (time.monotonic() - t)))


def timed_lines(log):
    res = []
    with open(log) as f:
        for raw in f:
            if raw.startswith("#"):
                continue
            t, _, text = raw.strip("\n").lstrip().partition(" ")
            res.append((float(t), text))
    return res


def first(lines, rx, after=-1.0):
    rx = re.compile(rx)
    return next((t for t, s in lines if t > after and rx.search(s)), None)


def part_restart(hv, port):
    hport = net.free_port()
    token = secrets.token_hex(32)
    polls, stop = [], threading.Event()
    th = []

    def started():   # lb.boot's own zero follows within a millisecond or so
        th.append(threading.Thread(target=poller, args=(hport, token, time.monotonic(), stop, polls), daemon=True))
        th[0].start()

    lb.TMO = max(lb.TMO, 300 + AFTER)
    r = pvhv_boot("restart", hv, "pvhv.nat=restart pvhv.nat-after=%d pvhv.token=%s" % (AFTER, token), port,
                  ",hostfwd=tcp:127.0.0.1:%d-:7070" % hport, started)
    stop.set()
    th[0].join()
    with open(os.path.join(OUT, "restart-polls.log"), "w") as f:
        f.write("# ms since QEMU started (as restart.log), HTTP status of GET /api/v1/info or none\n")
        for t, st in polls:
            f.write("%10.1f %s\n" % (t, st))
    lines = timed_lines(r["log"])
    t_crash = first(lines, r"^pvhv: dom ctl: the control domain ended")
    t_restart = first(lines, r"^pvhv: dom ctl: the control domain restarted$")
    t_serving = first(lines, r"^\[ctl\] PVHV-NAT-SERVING ")
    pings = [(t, s.split()[2] == "ok") for t, s in lines if re.match(r"^\[np\] PVHV-NATPING (ok|fail) \d+$", s)]
    ROW("ctl crashed with sandbox np pinging through its NAT", "log %s" % os.path.relpath(r["log"], ROOT))
    if t_crash is None:
        ROW("", "no crash line: nothing to measure")
        return False
    ok_before = [t for t, st in polls if st == 200 and t < t_crash]
    ok_after = [t for t, st in polls if st == 200 and t > t_crash]
    ROW("pvhd's API (GET /api/v1/info via hostfwd, every %d ms)" % POLL_MS,
        "%d polls answered before the crash, last at -%s; first answer after it at +%s" %
        (len(ok_before), "%.2f s" % ((t_crash - ok_before[-1]) / 1000.0) if ok_before else "n/a",
         "%.2f s" % ((ok_after[0] - t_crash) / 1000.0) if ok_after else "never"))
    ROW("", "crash -> ctl restarted by pvhv +%s, -> its init's PVHV-NAT-SERVING +%s" % (
        "%.2f s" % ((t_restart - t_crash) / 1000.0) if t_restart else "n/a",
        "%.2f s" % ((t_serving - t_crash) / 1000.0) if t_serving else "n/a"))
    # The restarted pvhd adopts np's kept router entry (pvhv-router adopt): the gap is crash to first answer.
    p_before = [t for t, ok in pings if ok and t < t_crash]
    p_after = [t for t, ok in pings if ok and t > t_crash]
    last = ([t for t, _ in pings] or [None])[-1]
    ROW("np's pings of 10.0.2.2 through ctl's NAT (5 a second)",
        "%d answered before the crash; %s" % (len(p_before), "first answered after it at +%.2f s (gap %.2f s)" %
                                              ((p_after[0] - t_crash) / 1000.0, (p_after[0] - p_before[-1]) / 1000.0)
                                              if p_after and p_before else
                                              "none answered after it, up to +%.1f s" % ((last - t_crash) / 1000.0)
                                              if last else "no lines"))
    m = re.search(r"^\[ctl\] PVHV-NAT-ROUTER (.*)$", r["text"], re.M)
    ROW("the restarted router's sandboxes (pvhv-router show)", (m.group(1) or "none") if m else "n/a")
    m = re.search(r"^\[ctl\] PVHV-NAT-ADOPT (.*)$", r["text"], re.M)
    ROW("the restarted pvhd's adoption", m.group(1) if m else "n/a")
    m = re.search(r"^\[ctl\] PVHV-NAT-TRUNK-PING (.*)$", r["text"], re.M)
    ROW("the restarted ctl pings np over pvhv's trunk", m.group(1) if m else "n/a")
    return bool(ok_after) and bool(p_before) and bool(p_after)


def main():
    print("(k) A sandbox through the control domain's NAT (iperf3 to the host) vs QEMU alone; ctl's restart")
    missing = [f for f in (lb.VMLINUX, lb.INITRD, ROOT_EXT4, lb.HV_ELF, lb.BUNDLE_TOOL) if not os.path.exists(f)]
    for tool in ("iperf3", "socat"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            missing.append(tool)
    if missing:
        ROW("skipped, missing", " ".join(os.path.relpath(f, ROOT) if os.sep in f else f for f in missing))
        return 0
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".log", ".qemu", ".cpio", ".dts")):
            os.unlink(os.path.join(OUT, f))
    os.environ["PVHV_MEM"] = str(1024 + CTL_MIB + lb.MEM)
    hv = lb.pvhv_qemu_args(False, 2)
    accel, cpu = lb.opt(hv, "-accel"), lb.opt(hv, "-cpu")
    ROW("accelerator, CPU model (both)", "%s, -cpu %s" % (accel, cpu))
    port = net.free_port()
    slog = os.path.join(OUT, "iperf3-server.log")
    with open(slog, "w") as f:
        srv = subprocess.Popen(["iperf3", "-s", "-B", "127.0.0.1", "-p", str(port), "--forceflush"],
                               stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        a = part_iperf(hv, accel, cpu, port, slog) if os.environ.get("PVHV_BENCH_NAT_IPERF", "1") != "0" else True
        sys.stdout.flush()
        b = True
        if os.environ.get("PVHV_BENCH_NAT_RESTART", "1") != "0":
            print()
            b = part_restart(hv, port)
    finally:
        srv.terminate()
        srv.wait()
    print("  Logs: %s/" % os.path.relpath(OUT, ROOT))
    return 0 if a and b else 1


if __name__ == "__main__":
    sys.exit(main())
