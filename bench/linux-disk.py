#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""linux-disk.py: Linux disk I/O over virtio-blk, directly under QEMU (a) and inside pvhv (b).

The kernel and initramfs of bench/linux-boot.py switch into build/linux/root.ext4
on /dev/vda, whose /sbin/init (scripts/rootfs/init, step "bench") times with
busybox's dd and fstrim, O_DIRECT:

  seqread  all of /dev/vda in 1 MiB reads      write  8 MiB to a file in 1 MiB writes + fsync
  read4k   2048 4 KiB reads of /dev/vda         trim   rm that file, fstrim / (virtio DISCARD)

and prints "PVHV-BENCH-DISK name=N bytes=N reqs=N ns=N" per measurement.

  (a) directly: QEMU -M microvm,acpi=on, the image as a virtio-mmio
                virtio-blk-device (-drive snapshot=on,discard=unmap);
  (b) in pvhv:  QEMU -M q35 running build/pvhv.elf with a bundle holding one
                domain with the same kernel, initrd, command line and
                disks = "root.ext4" (overlay-mib = 32);

with the same accelerator, CPU model, guest memory and vCPUs as linux-boot.py,
alternating a and b.  Reported: per measurement the medians for (a) and (b)
(MB/s, IOPS for read4k), the ratio b/a; pvhv's VM exits per MiB or request
(one extra pvhv boot per measurement against a boot that measures nothing,
under TCG with -icount and 1 vCPU so that the boot's own exits cancel out);
then under TCG one -icount pair (1 vCPU), where the guest's clock counts
executed instructions.

With --fio (or PVHV_BENCH_FIO=1) it boots build/linux/bench-root.ext4 instead
(scripts/fetch-bench-root.sh: the test root plus Debian's fio) and runs fio
(libaio, direct=1, JSON output) in the guest, step "fio": sequential 1 MiB and
random 4 KiB, read (/dev/vda) and write (a file), queue depth 1 and 32; per
job MB/s and IOPS from fio's JSON, b/a, vda's interrupts per MiB or request as
the guest counts them, and pvhv's exits per MiB or request as above.  Logs go
to build/bench/fio/; PVHV_BENCH_FIO_JOBS=a,b,... picks jobs.

Environment: PVHV_BENCH_RUNS (default 5), PVHV_BENCH_MEM, PVHV_BENCH_VCPUS,
PVHV_BENCH_TIMEOUT, PVHV_BENCH_CPU, PVHV_BENCH_TSC_KHZ, PVHV_QEMU as
linux-boot.py; PVHV_BENCH_ICOUNT=0 skips the icount pair,
PVHV_BENCH_EXITS=0 the exit boots, PVHV_BENCH_DISK_CPU=N pins the
measurements to guest vCPU N.  Logs go to build/bench/disk/.
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # no bench/__pycache__ from loading linux-boot.py
sys.path.insert(0, HERE)
from benchload import lb, ROOT  # noqa: E402
FIO = "--fio" in sys.argv[1:] or os.environ.get("PVHV_BENCH_FIO") == "1"
OUT = os.path.join(ROOT, "build", "bench", "fio" if FIO else "disk")
LINUX_DIR = os.path.join(ROOT, "build", "linux")
ROOT_EXT4 = os.path.join(LINUX_DIR, "bench-root.ext4" if FIO else "root.ext4")
MARK = b"PVHV-END="
OVERLAY_MIB = 96 if FIO else 32   # fio writes a 32 MiB file (plus the journal's blocks)
# (name, unit, what the unit counts): MB/s = 10^6 bytes per second.
MEASURES = [("seqread", "MB/s", "all of vda, 1 MiB reads"), ("read4k", "IOPS", "4 KiB reads of vda"),
            ("write", "MB/s", "1 MiB writes to a file + fsync"), ("trim", "MB/s", "fstrim / after rm")]
FIO_JOBS = [j for j in os.environ.get("PVHV_BENCH_FIO_JOBS", "").split(",") if j] or \
    ["%s%s-q%d" % (k, d, q) for k in ("seq", "rand") for d in ("read", "write") for q in (1, 32)]
if FIO:
    MEASURES = [(j, "MB/s" if j.startswith("seq") else "IOPS", "%s %s, queue depth %s" %
                 ("1 MiB" if j.startswith("seq") else "4 KiB", "reads of vda" if "read" in j else "writes to a file",
                  j.split("-q")[-1])) for j in FIO_JOBS]
RUNS = max(1, lb.env_int("PVHV_BENCH_RUNS", 5))
CPU_PIN = os.environ.get("PVHV_BENCH_DISK_CPU", "")
STEP = "fio" if FIO else "bench"
CMDLINE = "console=ttyS0 quiet pvhv.end=poweroff pvhv.test=root pvhv.root=" + STEP
if FIO:
    CMDLINE += " pvhv.fio=" + ",".join(FIO_JOBS)
if CPU_PIN.isdigit():
    CMDLINE += " pvhv.bench-cpu=" + CPU_PIN
ROW = lb.row
NOT_EXITS = ("overlay_peak_kib", "console_dropped")   # summary fields that count no exit
LINE = re.compile(r"^(?:\[linux\] )?PVHV-BENCH-DISK name=(\w+) bytes=(\d+) reqs=(\d+) ns=(\d+)$", re.M)
FIO_SUM = re.compile(r"^(?:\[linux\] )?PVHV-FIO-SUM name=(\S+) bytes=(\d+) ios=(\d+) irqs=(-?\d+)$", re.M)
FIO_JSON = re.compile(r"^(?:\[linux\] )?PVHV-FIO-JSON (\S+) (\S+)$", re.M)   # job, a piece of its JSON


def dts_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def make_bundle(path, cmdline, vcpus):
    """A bundle with one domain "linux" and root.ext4 as its disk (pvhv-bundle --config)."""
    dts = path[:-len(".cpio")] + ".dts"
    with open(dts, "w") as f:
        f.write("/dts-v1/;\n\n/ {\n\tcompatible = \"pvhv,config-1\";\n\tdomains {\n\t\tlinux {\n"
                "\t\t\tkernel = \"vmlinux\";\n\t\t\tinitrd = \"initramfs.cpio\";\n"
                "\t\t\tcmdline = %s;\n\t\t\tmemory-mib = <%d>;\n\t\t\tvcpus = <%d>;\n"
                "\t\t\tdisks = %s;\n\t\t\toverlay-mib = <%d>;\n\t\t};\n\t};\n};\n"
                % (dts_str(cmdline), lb.MEM, vcpus, dts_str(os.path.basename(ROOT_EXT4)), OVERLAY_MIB))
    subprocess.run([lb.BUNDLE_TOOL, "-o", path, "--config", dts, "-C", LINUX_DIR], check=True,
                   stdout=subprocess.DEVNULL)


def argv_pair(icount, cmdline=CMDLINE, tag=""):
    vcpus = lb.ICOUNT_VCPUS if icount else lb.VCPUS
    bundle = os.path.join(OUT, "disk%s-%dvcpu.cpio" % (tag, vcpus))
    make_bundle(bundle, cmdline, vcpus)
    hv = lb.pvhv_qemu_args(icount, vcpus)
    accel, cpu = lb.opt(hv, "-accel"), lb.opt(hv, "-cpu")
    append, note = cmdline, "none (KVM: kvmclock)"
    if accel == "tcg":
        # As linux-boot.py: no HPET/PM timer on microvm, so the TSC rate comes
        # from the command line.  tsc=reliable: with 2 vCPUs the kernel finds
        # TCG's TSCs "unsynchronized" (qemu64 has no invariant TSC), falls back
        # to jiffies (4 ms steps) and every figure here would be quantised.
        khz, src = (1000000, "-icount: 1 GHz virtual") if icount else lb.host_tsc_khz()
        if khz:
            append += " tsc_early_khz=%d tsc=reliable" % khz
            note = "tsc_early_khz=%d (%s) tsc=reliable" % (khz, src)
    direct = [lb.QEMU, "-M", "microvm,acpi=on", "-m", str(lb.MEM), "-smp", str(vcpus),
              "-display", "none", "-no-reboot", "-nodefaults", "-accel", accel, "-cpu", cpu]
    if icount:
        direct += ["-icount", lb.opt(hv, "-icount")]
    direct += ["-serial", "stdio", "-kernel", lb.VMLINUX, "-initrd", lb.INITRD, "-append", append,
               "-drive", "if=none,id=d0,file=%s,format=raw,snapshot=on,discard=unmap" % ROOT_EXT4,
               "-device", "virtio-blk-device,drive=d0"]
    pvhv = [lb.QEMU] + hv + ["-serial", "stdio", "-kernel", lb.HV_ELF, "-initrd", bundle]
    return direct, pvhv, accel, cpu, note, hv


def boot(name, argv):
    r = lb.boot(name, argv, out=OUT, mark=MARK, who="linux-disk")
    r["m"] = {m.group(1): tuple(int(x) for x in m.group(2, 3, 4)) for m in LINE.finditer(r["text"])}
    if FIO:
        fio_parse(r)
    r["irqs"] = next(iter(re.findall(r"PVHV-BENCH-DISK-IRQS (.*)$", r["text"], re.M)), None)
    for bad in re.findall(r"PVHV-(?:BENCH-DISK-FAIL|FIO-FAIL|UNKNOWN-STEP|ROOT-FAIL)\S*.*$", r["text"], re.M):
        print("linux-disk: %s: %s (log %s)" % (name, bad, os.path.relpath(r["log"], ROOT)), file=sys.stderr)
    return r


def fio_parse(r):
    """fio's figures: r["fio"][job] = {bw (bytes/s), iops, bytes, ios, irqs}; r["m"][job] = (bytes, ios, 0).
    bw and iops come from fio's JSON (absent when the guest ran with pvhv.fio-json=0)."""
    r["fio"] = {}
    for m in FIO_SUM.finditer(r["text"]):
        b, n, irqs = (int(x) for x in m.group(2, 3, 4))
        r["fio"][m.group(1)] = dict(bytes=b, ios=n, irqs=irqs, bw=None, iops=None)
        r["m"][m.group(1)] = (b, n, 0)
    pieces = {}
    for m in FIO_JSON.finditer(r["text"]):
        pieces[m.group(1)] = pieces.get(m.group(1), "") + m.group(2)
    for text in pieces.values():
        try:
            job = json.loads(text)["jobs"][0]
        except (ValueError, KeyError, IndexError) as e:
            print("linux-disk: %s: fio JSON unreadable: %s" % (r["name"], e), file=sys.stderr)
            continue
        f = r["fio"].get(job.get("jobname"))
        if f is not None:
            d = job["read" if "read" in job["jobname"] else "write"]
            f["bw"], f["iops"] = float(d["bw_bytes"]), float(d["iops"])


def fio_val(r, name, key):
    f = r.get("fio", {}).get(name)
    return None if not f or f[key] is None or (key in ("bw", "iops") and not f["ios"]) else f[key]


def per_unit(name, nbytes, reqs):
    """What a count is divided by: MiB for large transfers, requests for 4 KiB ones."""
    if name == "read4k" or name.startswith("rand"):
        return reqs, "request"
    return nbytes / 1048576.0, "MiB"


def rate(r, name):
    """MB/s, or IOPS for read4k and fio's random jobs, from the guest's own line; None if missing."""
    if FIO:
        v = fio_val(r, name, "bw" if name.startswith("seq") else "iops")
        return None if v is None else (v / 1e6 if name.startswith("seq") else v)
    v = r["m"].get(name)
    if not v or v[2] <= 0:
        return None
    nbytes, reqs, ns = v
    return reqs * 1e9 / ns if name == "read4k" else nbytes * 1e3 / ns


def fmt(v):
    return "n/a" if v is None else ("%.0f" % v if v >= 100 else "%.1f" % v)


def exits_of(r):
    """(total, npf, {reason: count}) from pvhv's summary line, or None."""
    if not r["summary"]:
        return None
    kv, reasons = lb.parse_exits(r["summary"])
    reasons = {k: n for k, n in reasons.items() if k not in NOT_EXITS}
    return int(kv.get("exits", 0)), reasons.get("npf", 0), reasons


def report_timed(ra, rb):
    print()
    names = [m for m, _, _ in MEASURES]
    print("  per run      |%s|  |%s|" % (" (a) direct ".center(10 * len(names) - 2, "-"),
                                        " (b) pvhv ".center(10 * len(names) - 2, "-")))
    print("  run   " + "".join("%10s" % n for n in names) + "  " + "".join("%10s" % n for n in names))
    for i in range(RUNS):
        print("  %3d   %s  %s" % (i + 1, "".join("%10s" % fmt(rate(ra[i], n)) for n in names),
                                   "".join("%10s" % fmt(rate(rb[i], n)) for n in names)))
    print("  (MB/s = 10^6 bytes/s; read4k in IOPS; the guest's own clock, dd's or fstrim's start included)")
    print()
    for name, unit, what in MEASURES:
        a = lb.median([rate(r, name) for r in ra])
        b = lb.median([rate(r, name) for r in rb])
        ratio = "%.3f" % (b / a) if a and b else "n/a"
        ROW("%s (%s)" % (name, what), "(a) %s  (b) %s %s  b/a %s" % (fmt(a), fmt(b), unit, ratio))
    irq = next((r["irqs"] for r in rb if r["irqs"]), None)
    if irq:
        ROW("(b) the disk's interrupts per vCPU (run 1)", irq)


def report_fio_timed(ra, rb):
    """Per fio job: each run's figure, the medians of MB/s and IOPS, b/a, and the guest's interrupts per unit."""
    print()
    print("  per job: the runs' MB/s (seq) or IOPS (rand), (a) then (b); medians of both figures; b/a")
    for name, unit, what in MEASURES:
        runs = " ".join(fmt(rate(r, name)) for r in ra) + " | " + " ".join(fmt(rate(r, name)) for r in rb)
        ROW("%s (%s)" % (name, what), "%s %s" % (runs, unit))
        med = {}
        for side, rs in (("a", ra), ("b", rb)):
            bw = lb.median([fio_val(r, name, "bw") for r in rs])
            iops = lb.median([fio_val(r, name, "iops") for r in rs])
            irq = lb.median([fio_val(r, name, "irqs") * 1.0 / per_unit(name, fio_val(r, name, "bytes"),
                                                                       fio_val(r, name, "ios"))[0]
                             for r in rs if fio_val(r, name, "irqs") is not None and fio_val(r, name, "ios")])
            med[side] = (bw, iops, irq)
        a, b = med["a"], med["b"]
        ratio = "%.3f" % (b[0] / a[0]) if a[0] and b[0] else "n/a"
        ROW("", "(a) %s MB/s %s IOPS  (b) %s MB/s %s IOPS  b/a %s" %
            (fmt(a[0] and a[0] / 1e6), fmt(a[1]), fmt(b[0] and b[0] / 1e6), fmt(b[1]), ratio))
        ROW("", "vda interrupts per %s (guest's count): (a) %s  (b) %s" %
            (per_unit(name, 1, 1)[1], fmt(a[2]), fmt(b[2])))
    print("  (fio's own bw_bytes and iops; MB/s = 10^6 bytes/s; interrupts from /proc/interrupts around the job)")


def report_exits(hv, how):
    """pvhv's exits per measurement: one boot each, less a boot that measures nothing."""
    print()
    # fio: the base boot runs a job of one 4 KiB read, so fio's own start (a process, its
    # libraries, CPUID) cancels out as well.
    base = boot("exits-none", hv("startup" if FIO else ""))
    b0 = exits_of(base)
    if not b0:
        ROW("pvhv VM exits", "no summary line (see %s)" % os.path.relpath(base["log"], ROOT))
        return
    print("  pvhv VM exits per measurement, %s:" % how)
    b_bytes, b_reqs = (4096, 1) if FIO else (0, 0)
    print("  a boot running only it, less a boot measuring %s (%d exits, %d npf)" %
          ("one 4 KiB fio read" if FIO else "nothing", b0[0], b0[1]))
    for name, unit, _ in MEASURES:
        r = boot("exits-" + name, hv(name))
        e, v = exits_of(r), r["m"].get(name)
        if not e or not v:
            ROW(name, "n/a (see %s)" % os.path.relpath(r["log"], ROOT))
            continue
        dt, dn = e[0] - b0[0], e[1] - b0[1]
        per, per_what = per_unit(name, v[0] - b_bytes, v[1] - b_reqs)
        if not per:
            ROW(name, "n/a: nothing moved (see %s)" % os.path.relpath(r["log"], ROOT))
            continue
        ROW("%s (%d %s, %.1f MiB)" % (name, v[1], "calls" if name == "trim" else "fio I/Os" if FIO else "dd blocks",
                                     v[0] / 1048576.0),
            "%d exits (%d npf): %.1f exits, %.1f npf per %s" % (dt, dn, dt / per, dn / per, per_what))
        irqs = fio_val(r, name, "irqs") - (fio_val(base, "startup", "irqs") or 0) if FIO else None
        if irqs is not None:
            tot = (dt + irqs) / per
            goal = ""
            if per_what == "MiB":
                goal = "  (goal <= 16 per MiB: %s)" % ("meets" if tot <= 16 else "MISSES")
            ROW("", "+ %d vda interrupts (guest's count): %.1f per %s; exits + interrupts %.1f per %s%s" %
                (irqs, irqs / per, per_what, tot, per_what, goal))
        delta = sorted(((k, n - b0[2].get(k, 0)) for k, n in e[2].items()), key=lambda kv: -kv[1])
        ROW("", "per %s: %s" % (per_what, ", ".join("%s %.1f" % (k, n / per) for k, n in delta[:5] if n > 0)))
    print("  (npf holds the virtio-mmio register accesses; a difference also holds printing the result")
    print("   line and the timer and idle exits of the time the measurement took%s)" %
          ("; pvhv counts no injected\n   interrupts, so they are the guest's own count of vda's" if FIO else ""))


def report_icount():
    idirect, ipvhv, _, icpu, inote, ihv = argv_pair(True, tag="-icount")
    ia = boot("icount-a", idirect)
    ib = boot("icount-b", ipvhv)
    print()
    print("  TCG -icount %s (guest time = executed instructions), -cpu %s, %d vCPU (guest and pvhv's host), %s" %
          (lb.opt(ihv, "-icount"), icpu, lb.ICOUNT_VCPUS, inote))
    for name, unit, _ in MEASURES:
        a, b = rate(ia, name), rate(ib, name)
        ROW("%s (%s)" % (name, unit), "(a) %s  (b) %s  b/a %s" %
            (fmt(a), fmt(b), "%.3f" % (b / a) if a and b else "n/a"))
    e = exits_of(ib)
    if e:
        ROW("(b) pvhv VM exits, whole icount boot", "%d (npf %d)" % e[:2])
    print("  (a)'s I/O is done by QEMU's threads while its vCPU waits; idle time under -icount")
    print("  passes at the host's real-time rate (sleep=on), so (a) is not instruction-exact.")


def main():
    if FIO:
        print("(h) Linux disk I/O with fio over virtio-blk: directly under QEMU (a) vs inside pvhv (b)")
    else:
        print("(g) Linux disk I/O over virtio-blk: directly under QEMU (a) vs inside pvhv (b)")
    missing = [f for f in (lb.VMLINUX, lb.INITRD, ROOT_EXT4, lb.HV_ELF, lb.BUNDLE_TOOL) if not os.path.exists(f)]
    if missing:
        ROW("skipped, missing", " ".join(os.path.relpath(f, ROOT) for f in missing))
        print("  (scripts/fetch-linux.sh%s builds build/linux/; make all the rest)" %
              (" then scripts/fetch-bench-root.sh" if FIO else ""))
        return 0
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith((".log", ".qemu", ".cpio", ".dts")):   # bundles hold the whole image: 200 MiB for fio
            os.unlink(os.path.join(OUT, f))
    direct, pvhv, accel, cpu, note, hv = argv_pair(False)
    version = open(os.path.join(LINUX_DIR, "VERSION")).read().strip()
    ROW("kernel", "%s, initramfs.cpio, %s %d KiB" % (version, os.path.basename(ROOT_EXT4),
                                                     os.path.getsize(ROOT_EXT4) >> 10))
    ROW("guest", "%d MiB, %d vCPUs, cmdline \"%s\"" % (lb.MEM, lb.VCPUS, CMDLINE))
    ROW("accelerator, CPU model (both)", "%s, -cpu %s" % (accel, cpu))
    ROW("(a) direct", "microvm, virtio-blk-device, -drive snapshot=on,discard=unmap, + %s" % note)
    ROW("(b) pvhv", "-M q35 -smp %s, disks = \"%s\", overlay-mib = %d" %
        (lb.opt(hv, "-smp"), os.path.basename(ROOT_EXT4), OVERLAY_MIB))
    ROW("runs", "%d each, alternating a, b after one untimed boot of each%s" %
        (RUNS, "" if RUNS >= 5 else " (fewer than 5: rough medians)"))
    sys.stdout.flush()

    warm = boot("warmup-a", direct)
    if "PVHV-UNKNOWN-STEP=" + STEP in warm["text"]:
        ROW("failed", "%s predates the %s step: run scripts/fetch-%s.sh" %
            (os.path.basename(ROOT_EXT4), STEP, "bench-root" if FIO else "linux"))
        return 1
    boot("warmup-b", pvhv)
    ra, rb = [], []
    for i in range(1, RUNS + 1):
        ra.append(boot("a-%d" % i, direct))
        rb.append(boot("b-%d" % i, pvhv))
    if FIO:
        report_fio_timed(ra, rb)
    else:
        report_timed(ra, rb)
    complete = all(len(r["m"]) == len(MEASURES) for r in ra + rb)
    if not complete:
        ROW("runs without every measurement", " ".join(r["name"] for r in ra + rb if len(r["m"]) < len(MEASURES)))

    if os.environ.get("PVHV_BENCH_EXITS", "1") != "0":
        # Under TCG with -icount (1 vCPU): the boot's own timer and idle
        # exits then repeat from boot to boot and cancel out; in real time
        # they differ by more than some measurements cost.
        exact = accel == "tcg" and os.environ.get("PVHV_BENCH_ICOUNT", "1") != "0"
        if FIO:  # the job alone, without its JSON (2 exits per character of the console)
            only = lambda m: argv_pair(exact, "%s pvhv.fio=%s pvhv.fio-json=0" % (CMDLINE, m),
                                       "-" + (m or "none"))[1]
        else:
            only = lambda m: argv_pair(exact, "%s pvhv.bench=%s" % (CMDLINE, m), "-" + (m or "none"))[1]
        report_exits(only, "TCG -icount, %d vCPU" % lb.ICOUNT_VCPUS if exact else
                     "%s, %d vCPUs" % (accel, lb.VCPUS))
    else:
        print()
        ROW("pvhv VM exits per measurement", "skipped (PVHV_BENCH_EXITS=0)")
    if accel == "tcg" and os.environ.get("PVHV_BENCH_ICOUNT", "1") != "0":
        report_icount()
    elif accel == "tcg":
        print()
        ROW("TCG -icount pair", "skipped (PVHV_BENCH_ICOUNT=0)")
    print("  Logs: %s/" % os.path.relpath(OUT, ROOT))
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
