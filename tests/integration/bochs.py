#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bochs.py: the test-guest suite under Bochs, booted by GRUB (multiboot2).

QEMU's TCG has no VT-x and no nRIP save, so Bochs covers what run.py cannot:
the VMX backend (corei7_skylake_x: VT-x + EPT + unrestricted guest + VPID),
SVM with nRIP save (ryzen), and the refusal on CPUs without usable
virtualization (core2_penryn_t9600: VT-x without EPT; p4_prescott_celeron_336:
neither VT-x nor AMD-V).  Bochs is slow (1.5-3 s to boot, guests run at a
few tens of MIPS), so each boot runs several domains with small workloads.

Cases reuse run.py's data format, bundle builder and log checks; the exit
status comes from the console line "pvhv: exit status N" (Bochs has no
isa-debug-exit; tests/bochs/run-bochs.sh explains) and is compared as QEMU's
(N << 1) | 1.  Prints "ok - [bochs/MODEL] CASE (secs)" or "not ok - ..."
per case and "N passed, M failed" last; exit status 1 if any failed.

    tests/integration/bochs.py [-k SUBSTR]... [-m MODEL]... [-j N] [--cpus N] [--list]
"""

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the QEMU harness: case format, bundles, checks)

from run import dom, memcheck, probe, NPF_STOP  # noqa: E402

RUN_BOCHS = os.path.join(run.ROOT, "tests", "bochs", "run-bochs.sh")
OUT_DIR = os.path.join(run.BUILD, "itest-bochs")

VIRT_MODELS = ["corei7_skylake_x", "ryzen"]
NO_VIRT = r"^pvhv: no usable hardware virtualization: \S"

CASES = [
    dict(name="basic", what="hello and an exit status",
         domains=[dom("hello", "hello", "name=world"),
                  dom("ex", "exitstatus", "status=7", status=7)], code=3,
         must=[r"^\[hello\] hello from world$", r"^\[ex\] exiting with 7\b",
               r"^pvhv: summary dom=ex end=poweroff status=7\b"]),
    dict(name="cpuid", what="CPUID/MSR policy; XSAVE shown, XSETBV checked by pvhv (intercepted here)",
         domains=[dom("cpuid", "cpuid", "vcpus=1 xsave=1")], code=1),
    dict(name="isolation", what="accesses outside RAM stop only that guest; memcheck sibling",
         domains=[probe("ramend", "0x1000000", "read"),
                  probe("above4g", "0x100000000", "write"),
                  probe("lapic", "0xfee00000", "write"),
                  memcheck("mc", rounds=20)], code=3,
         must=[NPF_STOP % ("ramend", "read", 0x1000000),
               NPF_STOP % ("above4g", "write", 0x100000000),
               NPF_STOP % ("lapic", "write", 0xfee00000)],
         must_not=[r"FAIL probe survived"]),
    # Host MSI routing on both backends: the routed host vector, sent while the
    # guest runs, exits it (VMX external-interrupt exiting, SVM's INTR intercept)
    # and reaches it as its own vector.
    dict(name="msi-route", what="a host interrupt on a routed vector reaches the domain; unrouted one counted",
         domains=[dom("msi", "msi", "rounds=20 other=10", test_msi=True, max_runtime_ms=60000)], code=1,
         must=[r"^\[msi\] msi: rounds=20 other=10 host_vector=0x[0-9a-f]+ delivered=31 dropped=0 unrouted=1 ",
               r"^pvhv: dom msi msitest: delivered=31 dropped=0 unrouted=1$"],
         must_not=[r"FATAL", r"PANIC"]),
    # The guest RAM pool (issue 9): each boot takes its chunks at first touch
    # (EPT violations / NPT faults) and must find the ones its previous boot
    # dirtied zeroed; a rebuild gives back all it took.
    dict(name="mem-scrub", what="RAM taken at first touch; what the last boot dirtied reads zero",
         domains=[dom("ms", "memcheck", "mem=16 rounds=1 zero=1 reboot=1", end="stopped",
                      reason=r"reboot limit \(2\) reached", reboot_limit=2),
                  dom("h4k", "hello", "name=h4k")], code=3,
         must=[r"^pvhv: bench mem_free_kib boot=(\d+) end=\1$",
               r"^pvhv: bench dom=ms build_us=\d+ rebuild_us_max=\d+ reboots=2 ram_touched_peak_kib=16384$"],
         must_not=[r"^\[ms\] not zero at", r"^\[ms\] mismatch"],
         counts=[(r"^\[ms\] ok - free RAM reads zero \(\d+ words, 0 not zero\)$", 3)]),
    # Guest RAM above 4 GiB (pvhv/platform.h) on both backends.  megs: the Bochs machine's RAM
    # (Bochs leaves its PCI hole below 4 GiB unbacked, so pvhv sees about 5.5 GiB of 6.5).
    dict(name="highmem", what="4.5 GiB: RAM from 4 GiB up and at the top of low RAM; a read in the hole stops it",
         domains=[dom("hm", "highmem", "mem=4608", memory=4608, end="stopped",
                      reason=r"nested page fault: read at gpa 0x0*c0000000\b")],
         megs=6656, code=3, timeout=400,
         must=[NPF_STOP % ("hm", "read", 0xc0000000), r"^\[hm\] ok - pattern read back from 4 x 1 MiB",
               r"^\[hm\] hello from high RAM$"],
         counts=[(r"^\[hm\] ok - ", 6)], must_not=[r"^\[hm\] (FAIL|not zero|mismatch)"]),
    # identity-ram on both backends, booted by GRUB: the control domain's RAM
    # is host memory at the same addresses from 16 MiB, mapped at build,
    # and the same ranges again after its reboot.
    dict(name="ident", what="identity-ram: RAM at guest-physical = host-physical, the same ranges over a reboot",
         domains=[dom("ctl", "exitstatus", "reason=reboot", end="stopped", reason=r"reboot limit \(1\) reached",
                      reboot_limit=1, vsock_cid=3, control=True, identity_ram=True, memory=32),
                  memcheck("mc", rounds=20)], code=3,
         must=[r"^pvhv: dom ctl: RAM at guest-physical = host-physical \(30 MiB in 1 range\); "
               r"no IOMMU: ctl is trusted for DMA$",
               r"(?s)^pvhv: dom ctl: identity RAM (0x1000000-0x2e00000) zeroed and mapped$"
               r".*^pvhv: dom ctl: identity RAM \1 kept over restart 1, zeroed and mapped$",
               r"^pvhv: bench mem_free_kib boot=(\d+) end=\1$"],
         counts=[(r"^\[ctl\] booting$", 2)]),
    # Kernel images shared copy-on-write: read-only executable EPT/NPT leaves,
    # the write fault, and the shootdown (INVEPT / TLB_CONTROL) of a second
    # vCPU that read the shared page before the write.
    dict(name="cow-share", what="image chunks read and run in place, copied at a write; a vCPU that read it sees the copy",
         domains=[dom("cw", "cowcheck", "write=1 reboot=1", end="stopped", reason=r"reboot limit \(1\) reached",
                      reboot_limit=1),
                  dom("cs", "cowcheck", "smp=1 write=1", vcpus=2)], code=3,
         counts=[(r"^\[cw\] ok - writes to both chunks stick$", 2)],
         must=[r"^pvhv: bench dom=cw image_chunks shared=0 copied_at_touch=2 copied_at_write=2 cow_faults=4 ",
               r"^pvhv: bench dom=cs image_chunks shared=0 copied_at_touch=2 copied_at_write=2 cow_faults=2 ",
               r"^\[cs\] ok - vcpu 1 sees vcpu 0's write to the copied chunk: 0x4e65772076616c75$"]),
    # Bochs 2.7's SVM turns a guest triple fault into a Bochs panic (the 3rd
    # exception) before it looks at the SHUTDOWN intercept: no triple fault
    # on AMD models.
    dict(name="hcfuzz-triplefault", what="hypercall fuzzing and a triple fault hurt no sibling",
         models=["corei7_skylake_x"],
         domains=[dom("fuzz", "hcfuzz", "seed=1 count=2000"),
                  dom("tf", "triplefault", end="stopped",
                      reason=r"triple fault \(rip 0x[0-9a-f]+\)"),
                  memcheck("mc", rounds=20)], code=3,
         must_not=[r"^pvhv: dom mc (stopped|ended: crash)"]),
    # Hardening: the #DB delivery loop (CVE-2015-8104), which Bochs models
    # (a pending debug trap outranks the host's interrupts), WBINVD/RDPMC,
    # and per-vCPU debug registers/TSC_AUX/PKRU with breakpoints that keep
    # firing while vCPUs migrate between the two CPUs.
    # virtio-mmio (issue 8): the tiny guests' driver and the ring attacks on VT-x and SVM.
    dict(name="virtio", what="virtio entropy, console and block; every ring rule broken, then recovery",
         domains=[dom("vr", "virtio", "mode=rng slot=1 indirect=1 event_idx=1", virtio=["console", "rng"]),
                  dom("bw", "virtio", "mode=blk slot=0 indirect=1 name=pattern.img", disks=["gen:pattern"]),
                  dom("va", "virtio", "mode=attack what=all slot=0", virtio=["rng"], max_runtime_ms=240000),
                  memcheck("mc", rounds=20)], code=1,
         must=[r"^pvhv: dom va virtio rng \(slot 0\): "]),
    dict(name="hostile-acloop", what="an #AC delivery loop (32-bit, conforming handler) exits every time",
         domains=[dom("ac", "acloop", end="stopped", reason=r"timeout after \d+ ms",
                      max_runtime_ms=4000),
                  memcheck("mc", rounds=20)], code=3,
         must=[r"^\[ac\] looping on #AC", r"^pvhv: summary dom=ac end=stopped .*\bexc_ac=\d{2,}\b"],
         must_not=[r"^\[ac\] (no #AC|#AC handler ran)"]),
    dict(name="hostile-dbloop", what="a #DB delivery loop exits every time; a timeout stops it",
         domains=[dom("db", "hostile", "mode=dbloop", end="stopped", reason=r"timeout after \d+ ms",
                      max_runtime_ms=4000),
                  memcheck("mc", rounds=20)], code=3,
         must=[r"^\[db\] looping on #DB", r"^pvhv: summary dom=db end=stopped .*\bexc_db=\d{2,}\b"],
         must_not=[r"^\[db\] no #DB loop"]),
] + [
    dict(name="hostile-isolate", models=[model],
         what="WBINVD no-op, RDPMC #GP; DRs, TSC_AUX, PKRU per vCPU; breakpoints fire",
         domains=[dom("ins", "hostile", "mode=insns wbinvd=100"),
                  dom("iso1", "hostile", "mode=isolate seed=1 rounds=300 need_aux=1" + extra),
                  dom("iso2", "hostile", "mode=isolate seed=2 rounds=300 need_aux=1" + extra)], code=1,
         must=[r"^pvhv: summary dom=ins end=poweroff .*\bwbinvd=110\b",
               r"^\[iso1\] ok - DR0-DR3/DR6 kept", r"^\[iso2\] ok - RDTSCP(/RDPID)? returned",
               r"^\[iso1\] ok - hardware breakpoint fired 300 times",
               r"^\[iso2\] ok - hardware breakpoint fired 300 times"])
    # Bochs 2.7's SVM takes the #DB intercept before it sets DR6's B0-B3
    # (QEMU's SVM and AMD's CPUs set them first): ryzen skips that check.
    for model, extra in (("corei7_skylake_x", ""), ("ryzen", " dr6=0"))
] + [
    dict(name="hcfuzz", what="hypercall fuzzing hurts no sibling", models=["ryzen"],
         domains=[dom("fuzz", "hcfuzz", "seed=1 count=2000"), memcheck("mc", rounds=20)], code=1,
         must_not=[r"^pvhv: dom mc (stopped|ended: crash)"]),
    # Bochs 2.7 masks host interrupts in a guest entered with RFLAGS.IF=0
    # (it computes the mask at VM entry before it marks the CPU as in the
    # guest), so the spinner comes back through the VMX-preemption timer
    # (skylake_x) or the PAUSE filter (ryzen); see run_vcpu() in pvh/sched.c.
    # A spinner without PAUSE stays unpreemptible under Bochs SVM: QEMU
    # covers that (run.py busyloop-nopause).
    dict(name="busyloop", what="a spinner with interrupts off is preempted; max-runtime-ms stops it",
         domains=[dom("busy", "busyloop", end="stopped", reason=r"timeout after \d+ ms",
                      max_runtime_ms=3000),
                  memcheck("mc1", rounds=20), memcheck("mc2", rounds=20)], code=3,
         must=[r"(?s)^pvhv: dom mc1 ended: poweroff, status 0$.*^pvhv: dom busy stopped: timeout",
               r"(?s)^pvhv: dom mc2 ended: poweroff, status 0$.*^pvhv: dom busy stopped: timeout"]),
    dict(name="fpu", what="FPU/SSE state does not leak between domains sharing CPUs",
         domains=[dom("fpu1", "fpu", "rounds=20000"), dom("fpu2", "fpu", "rounds=20000 seed=2"),
                  dom("fpu3", "fpu", "rounds=20000 seed=3")], code=1),
    # The CPU reports instruction lengths here (VMX, NRIP save), so this covers
    # each backend's CS base and its event-delivery report on a stage-2 fault.
    dict(name="emul", what="prefixed exiting instructions; MMIO with CS.base != 0; faults in event delivery",
         domains=[dom("emul", "emul", max_runtime_ms=60000),
                  dom("idt", "emul", "event=idt", end="stopped", reason=run.EMUL_IDT_RE),
                  dom("stack", "emul", "event=stack", end="stopped", reason=run.EMUL_STACK_RE),
                  memcheck("mc", rounds=20)], code=3,
         must=[r"^\[emul\] ok - 2e 0f 08 \(invd\) came back$",
               r"^\[idt\] delivering #UD through an IDT at 0xfec00000$",
               r"^\[stack\] delivering #DE onto a stack at 0xfec00800$"],
         must_not=[r"^\[(idt|stack)\] guest exception"]),
]

REFUSAL_CASES = [
    dict(name="refuse-no-ept", model="core2_penryn_t9600",
         what="VT-x without EPT/unrestricted guest: refused, exit status 4",
         domains=[dict(dom("hello", "hello", "name=world"), end=None)], code=9,
         must=[NO_VIRT + r".*EPT"], must_not=[r"^\[hello\]", r"PANIC|FATAL"]),
    dict(name="refuse-no-virt", model="p4_prescott_celeron_336",
         what="neither VT-x nor AMD-V: refused, exit status 4",
         domains=[dict(dom("hello", "hello", "name=world"), end=None)], code=9,
         must=[NO_VIRT], must_not=[r"^\[hello\]", r"PANIC|FATAL"]),
]


def plan(opts):
    """-> [(model, case)]"""
    models = opts.m or VIRT_MODELS
    out = [(m, c) for m in models for c in CASES if m in c.get("models", [m])]
    if not opts.m:
        out += [(c["model"], c) for c in REFUSAL_CASES]
    if opts.k:
        out = [(m, c) for m, c in out if any(k in c["name"] or k in m for k in opts.k)]
    return out


def run_case(model, case, opts):
    """-> (ok, seconds, reason, tail_lines)"""
    t0 = time.monotonic()
    cdir = os.path.join(OUT_DIR, model, case["name"])
    shutil.rmtree(cdir, ignore_errors=True)
    os.makedirs(cdir)
    log_path = os.path.join(cdir, "serial.log")
    out_path = os.path.join(cdir, "bochs.out")
    try:
        if not os.path.exists(run.HV_ELF):
            raise run.Fail("harness: build/pvhv.elf not built")
        bundle = run.build_bundle(case, cdir)
        limit = int(case.get("timeout", 150) * opts.timeout_scale)
        cmd = ["bash", RUN_BOCHS, "-c", str(opts.cpus), "-t", str(limit), "-o", log_path,
               "-m", str(case.get("megs", 512)), model, bundle]
        with open(out_path, "wb") as out:
            rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT).returncode
        log = run.read_text(log_path)
        if rc == 124:
            reason = "timed out after %ds" % limit
        elif rc > 100:
            reason = "no pvhv exit status (run-bochs.sh status %d)" % rc
        else:
            reason = run.check_log(case, (rc << 1) | 1, log)
            if reason:
                reason = reason.replace("QEMU exit code", "exit code (as QEMU's)")
    except run.Fail as e:
        reason, log = str(e), run.read_text(log_path)
    secs = time.monotonic() - t0
    if reason is None:
        return True, secs, None, []
    tail = [l for l in log.split("\n") if l][-30:]
    tail += ["(bochs) " + l for l in run.read_text(out_path).strip().split("\n")[-8:] if l]
    return False, secs, reason, tail


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", action="append", metavar="SUBSTR", help="only cases (or models) containing SUBSTR")
    ap.add_argument("-m", action="append", metavar="MODEL", help="Bochs CPU model(s) for the suite (default: %s)"
                    % ", ".join(VIRT_MODELS))
    ap.add_argument("-j", type=int, default=int(os.environ.get("PVHV_BOCHS_JOBS", 2)), metavar="N",
                    help="Bochs instances at once (default 2)")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the Bochs machine (default 2)")
    ap.add_argument("--timeout-scale", type=float,
                    default=float(os.environ.get("PVHV_ITEST_TIMEOUT_SCALE", 0)) or 1.0)
    ap.add_argument("--list", action="store_true")
    opts = ap.parse_args()
    runs = plan(opts)
    if opts.list:
        for m, c in runs:
            print("%-24s %-20s %s" % (m, c["name"], c.get("what", "")))
        return 0
    if not shutil.which("bochs") or not shutil.which("grub-mkrescue"):
        print("bochs.py: bochs or grub-mkrescue missing (make deps)")
        print("0 passed, 1 failed")
        return 1
    print("# pvhv under Bochs: %d cases, %d CPUs each, -j %d" % (len(runs), opts.cpus, opts.j))
    sys.stdout.flush()
    lock = threading.Lock()
    results = []

    def one(mc):
        model, case = mc
        ok, secs, reason, tail = run_case(model, case, opts)
        with lock:
            tag = "[bochs/%s] %s" % (model, case["name"])
            if ok:
                print("ok - %s (%.1fs)" % (tag, secs))
            else:
                print("not ok - %s: %s" % (tag, reason))
                print("#   log: %s" % os.path.relpath(os.path.join(OUT_DIR, model, case["name"], "serial.log"),
                                                     run.ROOT))
                for line in tail:
                    print("#   | " + line)
            sys.stdout.flush()
            results.append(ok)

    with ThreadPoolExecutor(max_workers=max(1, opts.j)) as ex:
        list(ex.map(one, runs))
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
