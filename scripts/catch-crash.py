#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""catch-crash.py: boot one pvhv bundle under QEMU again and again and, when
a run ends in a triple fault, keep the machine as it was at that moment.

    scripts/catch-crash.py RUNS BUNDLE OUTDIR [--elf build/pvhv.elf]
                           [--accel tcg,thread=single] [--show ADDR]...
                           [-- extra QEMU arguments]

QEMU's own shutdown on a triple fault loses every register and byte of
memory.  Here the runs use "-action reboot=shutdown,shutdown=pause", so a
triple fault pauses the VM instead; the QEMU monitor then writes to
OUTDIR/crash.N.txt every CPU's registers ("info registers -a"), the page
each CPU's RAX points at (right after VMRUN returns that is the guest's
VMCB, whose control area holds the exit code and the guest's RIP), and the
physical pages named with --show (the host's page tables by default:
boot_pml4, boot_pdpt and the first boot_pd page, read from build/pvhv.elf's
symbols).  A run that ends through isa-debug-exit is a normal end.  The
serial log of run N is OUTDIR/serial.N.log; OUTDIR/results gets one line per
run: "run N rc=STATUS secs=S" with STATUS QEMU's exit status, "crash" or
"timeout".

The machine is the one scripts/qemu-args.sh gives (TCG here), with the
accelerator replaced by --accel when given.  Stdlib only.
"""

import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemumon import Monitor, symbol_addresses  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PAGE_TABLE_SYMBOLS = ("boot_pml4", "boot_pdpt", "boot_pd")


def qemu_base_args(accel):
    args = subprocess.run(["bash", os.path.join(ROOT, "scripts", "qemu-args.sh")],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    args = [a for a in args if a]
    if accel:
        args[args.index("-accel") + 1] = accel
    return args


def dump_crash(mon, path, show):
    with open(path, "w") as f:
        regs = mon.command("info registers -a")
        f.write(regs)
        for rax in sorted(set(re.findall(r"RAX=([0-9a-f]{16})", regs))):
            if int(rax, 16) and int(rax, 16) % 4096 == 0 and int(rax, 16) < (1 << 32):
                f.write("\n# page at RAX 0x%s (the guest VMCB right after VMRUN)\n" % rax)
                f.write(mon.command("xp /512gx 0x" + rax))
        for addr in show:
            f.write("\n# page 0x%x\n" % addr)
            f.write(mon.command("xp /512gx 0x%x" % addr))


def one_run(n, opts, base, show):
    sock = os.path.join(opts.outdir, "monitor.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    cmd = ["qemu-system-x86_64"] + base + [
        "-serial", "file:%s/serial.%d.log" % (opts.outdir, n), "-kernel", opts.elf,
        "-initrd", opts.bundle, "-action", "reboot=shutdown,shutdown=pause",
        "-monitor", "unix:%s,server,nowait" % sock] + opts.qemu
    t0 = time.monotonic()
    with open("%s/qemu.%d.out" % (opts.outdir, n), "w") as qout:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qout, stderr=subprocess.STDOUT)
    while not os.path.exists(sock) and proc.poll() is None:
        time.sleep(0.2)
    status = None
    try:
        mon = Monitor(sock)
        while proc.poll() is None:
            if time.monotonic() - t0 > opts.timeout:
                status = "timeout"
                break
            if re.search(r"paused|shutdown", mon.command("info status")):
                dump_crash(mon, "%s/crash.%d.txt" % (opts.outdir, n), show)
                status = "crash"
                break
            time.sleep(1)
    except OSError:
        pass  # QEMU went away between two questions: it ended on its own
    if proc.poll() is None:
        proc.kill()
    rc = proc.wait()
    return status or str(rc), time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", type=int)
    ap.add_argument("bundle")
    ap.add_argument("outdir")
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "pvhv.elf"))
    ap.add_argument("--accel", help="replaces the accelerator, e.g. tcg,thread=single")
    ap.add_argument("--show", action="append", default=[], type=lambda s: int(s, 0),
                    help="physical page to dump on a crash (default: the host page tables)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run (default 600)")
    ap.add_argument("qemu", nargs="*", help="extra QEMU arguments (after --)")
    opts = ap.parse_args()
    os.makedirs(opts.outdir, exist_ok=True)
    show = opts.show or symbol_addresses(opts.elf, PAGE_TABLE_SYMBOLS)
    base = qemu_base_args(opts.accel)
    crashes = 0
    for n in range(1, opts.runs + 1):
        status, secs = one_run(n, opts, base, show)
        crashes += status == "crash"
        line = "run %d rc=%s secs=%d" % (n, status, secs)
        print(line, flush=True)
        with open(os.path.join(opts.outdir, "results"), "a") as f:
            f.write(line + "\n")
    print("%d crashes in %d runs" % (crashes, opts.runs))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
