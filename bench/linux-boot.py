#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""linux-boot.py: Linux boot to init, directly under QEMU (a) and inside pvhv (b).

Boots build/linux/vmlinux + build/linux/initramfs.cpio (scripts/fetch-linux.sh)

  (a) directly: QEMU -M microvm,acpi=on, PVH boot via -kernel/-initrd/-append;
  (b) in pvhv:  QEMU -M q35 running build/pvhv.elf with a bundle holding one
                domain with the same kernel, initrd and command line;

with the same accelerator, CPU model, guest memory and guest vCPUs, alternating
a and b, and reports the median wall time from QEMU process start to the
serial line "PVHV-INIT-REACHED" (read from QEMU's stdout pipe and timestamped
here as it arrives), the ratio b/a, pvhv's VM exits (its summary line: the
guest powers off right after init, so these are "exits to init + poweroff")
and pvhv's own "bench entry_to_first_guest_us".  Then it boots each once under
TCG with -icount (virtual time = executed instructions) and compares the
guest's own uptime printed at init, which is then exact.

Environment: PVHV_BENCH_RUNS (default 5, at least 5 are run), PVHV_BENCH_MEM
(guest MiB, 256), PVHV_BENCH_VCPUS (2), PVHV_BENCH_TIMEOUT (s per run, 300),
PVHV_BENCH_CPU (CPU model for both, default: scripts/qemu-args.sh's),
PVHV_BENCH_TSC_KHZ (host TSC kHz, default: host kernel log or /proc/cpuinfo),
PVHV_BENCH_ICOUNT=0 skips the icount pair, PVHV_QEMU (qemu-system-x86_64);
scripts/qemu-args.sh's PVHV_ACCEL picks the accelerator.  Logs (each serial
line with its arrival time in ms) go to build/bench/linux/.
"""

import os
import re
import select
import shlex
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "bench", "linux")
VMLINUX = os.path.join(ROOT, "build", "linux", "vmlinux")
INITRD = os.path.join(ROOT, "build", "linux", "initramfs.cpio")
HV_ELF = os.path.join(ROOT, "build", "pvhv.elf")
BUNDLE_TOOL = os.path.join(ROOT, "build", "tools", "pvhv-bundle")
QEMU = os.environ.get("PVHV_QEMU", "qemu-system-x86_64")

MARK = b"PVHV-INIT-REACHED"
# The same for (a) and (b): no earlycon, quiet (pvhv's console costs 2 exits
# per character), no test steps, power off right after init.
CMDLINE = "console=ttyS0 quiet pvhv.end=poweroff"
# The -icount pair runs 1 vCPU: QEMU 7.2's direct microvm boot with 2 vCPUs
# under -icount hangs at "x86: Booting SMP configuration" (guest time stops).
ICOUNT_VCPUS = 1


def env_int(name, default):
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


RUNS = max(5, env_int("PVHV_BENCH_RUNS", 5))
MEM = env_int("PVHV_BENCH_MEM", 256)
VCPUS = env_int("PVHV_BENCH_VCPUS", 2)
TMO = env_int("PVHV_BENCH_TIMEOUT", 300)


def row(k, v):
    print("  %-44s %s" % (k, v))


def pvhv_qemu_args(icount, vcpus):
    """pvhv's QEMU arguments from scripts/qemu-args.sh (the one place that picks them)."""
    env = dict(os.environ)
    env.pop("PVHV_ICOUNT", None)
    env["PVHV_SMP"] = str(vcpus)  # as many host CPUs for pvhv as guest vCPUs
    if icount:
        env["PVHV_ICOUNT"] = "0"
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "qemu-args.sh")], env=env,
                         check=True, stdout=subprocess.PIPE, universal_newlines=True).stdout
    args = [a for a in out.split("\n") if a]
    cpu = os.environ.get("PVHV_BENCH_CPU")
    for i, a in enumerate(args[:-1]):
        if a == "-cpu" and cpu:
            args[i + 1] = cpu
    return args


def opt(args, name):
    for i, a in enumerate(args[:-1]):
        if a == name:
            return args[i + 1]
    return None


def host_tsc_khz():
    """The host TSC rate: under TCG (without -icount) the guest's RDTSC is the host's."""
    v = os.environ.get("PVHV_BENCH_TSC_KHZ")
    if v:
        return int(v), "PVHV_BENCH_TSC_KHZ"
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        text = b""
        try:
            while True:
                try:
                    rec = os.read(fd, 8192)
                except BlockingIOError:
                    break
                except OSError:  # EPIPE: record overwritten while reading
                    continue
                if not rec:
                    break
                text += rec
        finally:
            os.close(fd)
        text = text.decode("utf-8", "replace")
        for pat in (r"tsc: Refined TSC clocksource calibration: ([0-9.]+) MHz",
                    r"tsc: Detected ([0-9.]+) MHz processor"):
            m = re.findall(pat, text)
            if m:
                return int(round(float(m[-1]) * 1000)), "host kernel log"
    except OSError:
        pass
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", f.read(), re.M)
    if m:
        return int(round(float(m.group(1)) * 1000)), "/proc/cpuinfo cpu MHz"
    return None, "unknown"


def boot(name, argv, out=OUT, mark=MARK, who="linux-boot"):
    """Run QEMU with the serial console on its stdout pipe; timestamp every line.
    init_ms is the arrival of the first line holding MARK (bench/linux-disk.py
    imports this with its own directory and mark)."""
    log = os.path.join(out, name + ".log")
    err = open(os.path.join(out, name + ".qemu"), "wb")
    lines = []  # (ms since start, text)
    init_ms = None
    buf = b""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                         start_new_session=True)
    fd = p.stdout.fileno()
    timed_out = False
    while True:
        left = TMO - (time.monotonic() - t0)
        if left <= 0:
            timed_out = True
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        data = os.read(fd, 65536)
        now = (time.monotonic() - t0) * 1000.0
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append((now, line.rstrip(b"\r").decode("utf-8", "replace")))
            if init_ms is None and mark in line:
                init_ms = now
    if timed_out:
        os.killpg(p.pid, signal.SIGKILL)
    rc = p.wait()
    end_ms = (time.monotonic() - t0) * 1000.0
    if buf:
        lines.append((end_ms, buf.decode("utf-8", "replace")))
    err.close()
    with open(log, "w") as f:
        f.write("# %s\n" % " ".join(shlex.quote(a) for a in argv))
        for ms, text in lines:
            f.write("%10.1f %s\n" % (ms, text))
        f.write("# exit %s%s after %.1f ms\n" % (rc, " (timeout)" if timed_out else "", end_ms))
    text = "\n".join(t for _, t in lines)

    def field(pat):
        m = re.search(pat, text, re.M)
        return m.group(1) if m else None

    res = dict(name=name, rc=rc, timeout=timed_out, init_ms=init_ms, end_ms=end_ms, log=log,
               uptime=field(r"PVHV-INIT-REACHED uptime=([0-9.]+)"),
               entry_us=field(r"^pvhv: bench entry_to_first_guest_us=([0-9]+)"),
               pvhv_tsc=field(r"^pvhv: loader .*tsc ([0-9]+) kHz"),
               summary=field(r"^pvhv: summary dom=linux (end=.*)$"),
               powerdown=field(r"\[ *([0-9]+\.[0-9]+)\] reboot: Power down"),
               hv_ms=next((ms for ms, t in lines if t.startswith("pvhv: booting")), None))
    if init_ms is None:
        print("%s: %s: no %s line (QEMU exit %s%s), log %s" %
              (who, name, mark.decode(), rc, ", timed out" if timed_out else "", os.path.relpath(log, ROOT)),
              file=sys.stderr)
    res["text"] = text
    return res


def parse_exits(summary):
    kv = dict(w.split("=", 1) for w in summary.split() if "=" in w)
    fixed = ("end", "status", "runtime_us", "cpu_us", "exits")
    reasons = {k: int(v) for k, v in kv.items() if k not in fixed and v.isdigit()}
    return kv, reasons


def fmt_ms(v):
    return "n/a" if v is None else "%.0f" % v


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def main():
    missing = [f for f in (VMLINUX, INITRD, HV_ELF, BUNDLE_TOOL) if not os.path.exists(f)]
    print("(f) Linux boot to init: directly under QEMU (a) vs inside pvhv (b)")
    if missing:
        row("skipped, missing", " ".join(os.path.relpath(f, ROOT) for f in missing))
        print("  (scripts/fetch-linux.sh builds build/linux/; make all the rest)")
        return 0
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".log", ".qemu")):
            os.unlink(os.path.join(OUT, f))

    def argv_pair(icount):
        vcpus = ICOUNT_VCPUS if icount else VCPUS
        bundle = os.path.join(OUT, "linux-%dvcpu.cpio" % vcpus)
        subprocess.run([BUNDLE_TOOL, "-o", bundle, "--domain", "linux", "--kernel", VMLINUX,
                        "--initrd", INITRD, "--cmdline", CMDLINE, "--memory", str(MEM),
                        "--vcpus", str(vcpus)], check=True, stdout=subprocess.DEVNULL)
        hv = pvhv_qemu_args(icount, vcpus)
        accel, cpu = opt(hv, "-accel"), opt(hv, "-cpu")
        append = CMDLINE
        tsc_note = "none (KVM: kvmclock)"
        if accel == "tcg":
            # microvm has no HPET or ACPI PM timer; under TCG the PIT calibration
            # fails ("tsc: Unable to calibrate against PIT") and boot hangs.  pvhv
            # tells its guest the TSC rate (pvclock CPUID leaves); this is the
            # direct guest's equivalent.  Under -icount the TSC counts virtual ns.
            khz, src = (1000000, "-icount: 1 GHz virtual") if icount else host_tsc_khz()
            if khz:
                append += " tsc_early_khz=%d" % khz
                tsc_note = "tsc_early_khz=%d (%s)" % (khz, src)
        direct = [QEMU, "-M", "microvm,acpi=on", "-m", str(MEM), "-smp", str(vcpus),
                  "-display", "none", "-no-reboot", "-nodefaults", "-accel", accel, "-cpu", cpu]
        if icount:
            direct += ["-icount", opt(hv, "-icount")]
        direct += ["-serial", "stdio", "-kernel", VMLINUX, "-initrd", INITRD, "-append", append]
        pvhv = [QEMU] + hv + ["-serial", "stdio", "-kernel", HV_ELF, "-initrd", bundle]
        return direct, pvhv, accel, cpu, tsc_note, hv

    direct, pvhv, accel, cpu, tsc_note, hv = argv_pair(False)
    version = open(os.path.join(ROOT, "build", "linux", "VERSION")).read().strip()
    row("kernel", "%s (build/linux/vmlinux), initramfs.cpio %d bytes" % (version, os.path.getsize(INITRD)))
    row("guest", "%d MiB, %d vCPUs, cmdline \"%s\"" % (MEM, VCPUS, CMDLINE))
    row("accelerator, CPU model (both)", "%s, -cpu %s" % (accel, cpu))
    row("(a) direct", "-M microvm,acpi=on -m %d -smp %d, + %s" % (MEM, VCPUS, tsc_note))
    row("(b) pvhv", "-M q35 -m %s -smp %s, pvhv.elf + bundle" % (opt(hv, "-m"), opt(hv, "-smp")))
    sys.stdout.flush()

    # One untimed boot of each first: page cache, QEMU's own first-start costs.
    boot("warmup-a", direct)
    boot("warmup-b", pvhv)
    ra, rb = [], []
    for i in range(1, RUNS + 1):
        ra.append(boot("a-%d" % i, direct))
        rb.append(boot("b-%d" % i, pvhv))

    def pre(r):  # wall ms before the guest kernel's clock started (QEMU, firmware, pvhv, early kernel)
        return r["init_ms"] - 1000.0 * float(r["uptime"]) if r["init_ms"] is not None and r["uptime"] else None

    def entry(r):
        return int(r["entry_us"]) / 1000.0 if r["entry_us"] else None

    def up(r):
        return 1000.0 * float(r["uptime"]) if r["uptime"] else None

    cols = [("init", lambda r: r["init_ms"], ra), ("uptime", up, ra), ("before", pre, ra),
            ("init", lambda r: r["init_ms"], rb), ("uptime", up, rb), ("before", pre, rb),
            ("qemu->hv", lambda r: r["hv_ms"], rb), ("hv->guest", entry, rb)]
    print()
    print("  all in ms    |------- (a) direct -------|  |----------------------- (b) pvhv -----------------------|")
    print("  run   " + "".join("%10s" % c[0] for c in cols[:3]) + "   " + "".join("%10s" % c[0] for c in cols[3:]))
    for i in range(RUNS):
        v = [fmt_ms(f(rs[i])) for _, f, rs in cols]
        print("  %3d   %s   %s" % (i + 1, "".join("%10s" % x for x in v[:3]), "".join("%10s" % x for x in v[3:])))
    med = [fmt_ms(median([f(r) for r in rs])) for _, f, rs in cols]
    print("  median%s   %s" % ("".join("%10s" % x for x in med[:3]), "".join("%10s" % x for x in med[3:])))
    print("  init: QEMU process start -> PVHV-INIT-REACHED line on the serial pipe; uptime: the guest's own")
    print("  /proc/uptime at init; before = init - uptime (QEMU, firmware, pvhv, early kernel before its clock);")
    print("  qemu->hv: QEMU start -> \"pvhv: booting\"; hv->guest: pvhv's bench entry_to_first_guest_us.")
    ma = median([a["init_ms"] for a in ra])
    mb = median([b["init_ms"] for b in rb])
    ratio = mb / ma if ma and mb else None
    ua, ub = median([up(a) for a in ra]), median([up(b) for b in rb])
    goal = lambda ok: "meets goal" if ok else "MISSES goal"
    print()
    row("median wall time to init (a) direct", "%s ms" % fmt_ms(ma))
    row("median wall time to init (b) pvhv", "%s ms" % fmt_ms(mb))
    row("ratio b/a (goal <= 1.15)", "n/a" if ratio is None else "%.3f  %s" % (ratio, goal(ratio <= 1.15)))
    if ua and ub:
        row("ratio b/a of the guest's uptime at init", "%.3f  (the kernel's own boot, wall clock)" % (ub / ua))
    bad = [r["name"] for r in ra + rb if r["init_ms"] is None]
    if bad:
        row("runs without an init line", " ".join(bad))

    # VM exits: run b-1's summary.
    print()
    s = next((b["summary"] for b in rb if b["summary"]), None)
    if s:
        kv, reasons = parse_exits(s)
        total = int(kv.get("exits", 0))
        print("  pvhv VM exits to init + poweroff (summary of %s; no test steps, powered off right after init)" %
              next(b["name"] for b in rb if b["summary"]))
        row("total (goal < 20000)", "%d  %s" % (total, goal(total < 20000)))
        for k, v in sorted(reasons.items(), key=lambda kv_: -kv_[1]):
            row("  " + k, "%6d  %5.1f%%" % (v, 100.0 * v / total if total else 0))
        top = max(reasons.items(), key=lambda kv_: kv_[1]) if reasons else None
        if top:
            row("most exits", "%s (%d of %d)" % (top[0], top[1], total))
        tot_all = [int(parse_exits(b["summary"])[0].get("exits", 0)) for b in rb if b["summary"]]
        row("total exits, all %d timed runs" % len(tot_all), " ".join(map(str, tot_all)))
    else:
        row("pvhv VM exits", "no summary line (see %s)" % os.path.relpath(rb[0]["log"], ROOT))

    # Exact: -icount, guest uptime at init.
    print()
    if os.environ.get("PVHV_BENCH_ICOUNT", "1") == "0":
        row("TCG -icount pair", "skipped (PVHV_BENCH_ICOUNT=0)")
        return 0
    idirect, ipvhv, _, icpu, itsc, ihv = argv_pair(True)
    ia = boot("icount-a", idirect)
    ib = boot("icount-b", ipvhv)
    print("  TCG -icount %s (virtual time = executed instructions, exact), -cpu %s, %d vCPU (guest and pvhv's host)" %
          (opt(ihv, "-icount"), icpu, ICOUNT_VCPUS))
    row("(a) direct: guest uptime at init", "%s s   (%s)" % (ia["uptime"] or "n/a", itsc))
    row("(b) pvhv: guest uptime at init", "%s s   (pvhv tsc %s kHz)" % (ib["uptime"] or "n/a", ib["pvhv_tsc"] or "?"))
    if ia["uptime"] and ib["uptime"] and float(ia["uptime"]) > 0:
        r = float(ib["uptime"]) / float(ia["uptime"])
        row("ratio b/a (goal <= 1.15)", "%.3f  %s" % (r, goal(r <= 1.15)))
    else:
        row("ratio b/a", "n/a")
    if ia["powerdown"] and ib["powerdown"] and float(ia["powerdown"]) > 0:
        row("kernel stamp of \"reboot: Power down\" a, b", "%s s, %s s: ratio %.4f (us precision, after init)" %
            (ia["powerdown"], ib["powerdown"], float(ib["powerdown"]) / float(ia["powerdown"])))
    row("(b) pvhv entry -> first guest insn (virtual)", "%s ms" %
        ("n/a" if ib["entry_us"] is None else "%.1f" % (int(ib["entry_us"]) / 1000.0)))
    if ib["summary"]:
        row("(b) pvhv VM exits, icount run", parse_exits(ib["summary"])[0].get("exits", "?"))
    print("  (uptime counts from the kernel's first clock reading: it leaves out QEMU's and pvhv's own")
    print("   start-up; the wall times above include them.  Logs: %s/)" % os.path.relpath(OUT, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
