#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""console.py: host console input reaches the focused domain (and only it).

Boots pvhv under QEMU with the host console on "-serial stdio" through
pipes, reads pvhv's output a line at a time and types into it when a
trigger line appears, the way a person at the console would.  Cases:

  echo-focus   two echo guests e1, e2: typed lines reach e1 (the first
               domain has the focus at boot) and not e2; Ctrl-] (0x1d) moves
               the focus to e2; once e2 has quit, the next key moves the
               focus back to e1 on its own, which gets that key too.
  linux-shell  Debian's kernel with busybox sh on ttyS0 (interrupt-driven
               8250 input): a typed command runs, "poweroff -f" ends it.
  linux-reboot-input  a 4-vCPU Linux domain reboots 8 times while keys
               arrive every 20 ms (input delivery racing its teardown) beside
               memcheck; the limit stops it, pvhv and memcheck are unharmed
               (opt-in; -1thread: the same on single-threaded TCG, in make test).
  serve-none   a bundle with "serve;" and no domain: pvhv runs, has the
               input, answers a line that is no command with help, and
               "stop" powers it off with status 0.
  serve-ended  serve with an echo domain that quits: pvhv says it goes on
               and does (QEMU still runs seconds later) until "stop".
  serve-focus  serve with a running echo domain: Ctrl-] moves the input to
               pvhv (not to the domain any more), "stop" ends the domain
               as stopped and pvhv powers off with status 0.

Output like run.py: "ok - <case> (Xs)" or "not ok - <case>: <why>" (+ the
last log lines), and "N passed, M failed" alone on the last line; exit
status 1 if any case failed.  Logs: build/itest-console/<case>/serial.log.

    tests/integration/console.py [-k SUBSTR]... [--list] [--timeout-scale F] [--qemu PATH]

Timeouts are for TCG; PVHV_ITEST_TIMEOUT_SCALE multiplies them (default 3
under CI=true, else 1).  Stdlib only.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bundle writing, QEMU arguments)
import linux  # noqa: E402  (where the Linux kernel and initramfs live)

ROOT = run.ROOT
OUT_DIR = os.path.join(run.BUILD, "itest-console")
FOCUS_KEY = b"\x1d"  # Ctrl-]


class Fail(Exception):
    pass


class Console:
    """pvhv under QEMU, its host console on our pipes."""

    def __init__(self, cmd, log_path, qout_path, scale):
        self.scale = scale
        self.lines = []          # complete output lines, CR stripped
        self.cursor = 0          # expect() searches from here on
        self.cond = threading.Condition()
        self.eof = False
        self.log = open(log_path, "w")
        self.qout = open(qout_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.qout, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split(b"\n")
            if done:
                with self.cond:
                    for raw in done:
                        line = raw.decode("utf-8", "replace").replace("\r", "")
                        self.lines.append(line)
                        self.log.write(line + "\n")
                    self.log.flush()
                    self.cond.notify_all()
        with self.cond:
            if buf:
                line = buf.decode("utf-8", "replace").replace("\r", "")
                self.lines.append(line)
                self.log.write(line + "\n")
            self.eof = True
            self.log.flush()
            self.cond.notify_all()

    def expect(self, rx, timeout, what=None):
        """Waits for a line matching rx (from the cursor on); moves the cursor past it."""
        limit = timeout * self.scale
        deadline = time.monotonic() + limit
        pat = re.compile(rx)
        with self.cond:
            while True:
                for i in range(self.cursor, len(self.lines)):
                    m = pat.search(self.lines[i])
                    if m:
                        self.cursor = i + 1
                        return m
                left = deadline - time.monotonic()
                if self.eof:
                    raise Fail("QEMU ended before %s" % (what or "/%s/" % rx))
                if left <= 0:
                    raise Fail("no %s within %ds" % (what or "/%s/" % rx, limit))
                self.cond.wait(min(left, 1.0))

    def type(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except OSError as e:
            raise Fail("writing to QEMU's stdin: %s" % e)

    def wait_exit(self, timeout):
        limit = timeout * self.scale
        try:
            return self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            raise Fail("QEMU still running %ds after the last domain was told to end" % limit)

    def text(self):
        with self.cond:
            return "\n".join(self.lines) + "\n"

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.reader.join(5)
        self.log.close()
        self.qout.close()


def check_after(con, must=(), must_not=()):
    """Whole-log checks once the run is over."""
    log = con.text()
    for rx in must:
        if not re.search(rx, log, re.M):
            raise Fail("missing /%s/" % rx)
    for rx in must_not:
        m = re.search(rx, log, re.M)
        if m:
            line = log[log.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
            raise Fail("unexpected /%s/ in line %r" % (rx, line))


def expect_exit(con, code, timeout=60):
    rc = con.wait_exit(timeout)
    if rc != code:
        raise Fail("QEMU exit code %s (%s), expected %d (%s)" % (
            rc, run.EXIT_MEANING.get(rc, "?"), code, run.EXIT_MEANING.get(code, "?")))
    con.reader.join(10)

# --------------------------------------------------------------------------
# The cases: each is build(cdir) -> bundle path and drive(con).
# --------------------------------------------------------------------------

def echo_dom(name):
    return dict(name=name, cmdline="name=%s" % name, memory=16, vcpus=1, max_runtime_ms=60000)


def build_echo(cdir):
    files = os.path.join(cdir, "files")
    os.makedirs(files)
    shutil.copyfile(run.need_guest("echo"), os.path.join(files, "echo.elf"))
    doms = [echo_dom("e1"), echo_dom("e2")]
    dts = os.path.join(cdir, "config.dts")
    run.write_dts(dts, doms, {d["name"]: "echo.elf" for d in doms})
    bundle = os.path.join(cdir, "bundle.cpio")
    run.run_tool(["-o", bundle, "--config", dts, "-C", files], cdir)
    return bundle


def drive_echo(con):
    con.expect(r"^\[e1\] echo e1 ready$", 60, "e1 ready")
    # Both must be running before anything is typed.
    con.cursor = 0
    con.expect(r"^\[e2\] echo e2 ready$", 60, "e2 ready")
    con.type("hello one\r")
    con.expect(r"^\[e1\] got: hello one$", 30, "e1 echoing 'hello one'")
    con.type(FOCUS_KEY)
    con.expect(r"^pvhv: console input goes to dom e2\b", 30, "focus moving to e2")
    con.type("hello two\r")
    con.expect(r"^\[e2\] got: hello two$", 30, "e2 echoing 'hello two'")
    con.type("quit\r")
    con.expect(r"^\[e2\] PASS echo$", 30, "e2 PASS")
    con.expect(r"^pvhv: dom e2 ended: poweroff, status 0$", 30, "e2 ending")
    # e2 has ended: the next key moves the focus to e1 and goes there too.
    con.type("quit\r")
    con.expect(r"^pvhv: console input goes to dom e1\b", 30, "focus moving back to e1 on its own")
    con.expect(r"^\[e1\] got: quit$", 30, "e1 echoing 'quit'")
    con.expect(r"^\[e1\] PASS echo$", 30, "e1 PASS")
    con.expect(r"^pvhv: dom e1 ended: poweroff, status 0$", 30, "e1 ending")
    expect_exit(con, 1)
    check_after(con, must=[r"^pvhv: summary dom=e1 end=poweroff status=0\b",
                           r"^pvhv: summary dom=e2 end=poweroff status=0\b",
                           r"^pvhv: exit status 0$",
                           r"(?s)^\[e1\] got: hello one$.*^\[e2\] got: hello two$.*^\[e1\] got: quit$"],
                must_not=[r"^\[e2\] got: hello one$", r"^\[e1\] got: hello two$",
                          r"^\[e[12]\] FAIL", r"^\[e[12]\] got: .*\x1d",
                          # one output line per input line
                          r"(?s)^\[e1\] got: hello one$.*^\[e1\] got: hello one$",
                          r"(?s)^\[e2\] got: hello two$.*^\[e2\] got: hello two$",
                          r"(?s)^\[e1\] got: quit$.*^\[e1\] got: quit$",
                          r"^\[e[12]\] got: $"])


def build_serve(cdir, names):
    files = os.path.join(cdir, "files")
    os.makedirs(files)
    shutil.copyfile(run.need_guest("echo"), os.path.join(files, "echo.elf"))
    doms = [echo_dom(n) for n in names]
    dts = os.path.join(cdir, "config.dts")
    run.write_dts(dts, doms, {d["name"]: "echo.elf" for d in doms}, serve=True)
    bundle = os.path.join(cdir, "bundle.cpio")
    run.run_tool(["-o", bundle, "--config", dts, "-C", files], cdir)
    return bundle


SERVE_HELP = r'^pvhv: console: "%s" is not a command: type "stop" to stop pvhv and every domain; '
SERVE_STOP = r"^pvhv: stopping \(asked by the host console\): every domain ends, then pvhv powers off$"


def drive_serve_none(con):
    con.expect(r"^pvhv: serving with 0 domains running: it runs until told to stop\b", 60, "pvhv serving")
    con.type("status\r")
    con.expect(r"^pvhv: console input goes to pvhv: type \"stop\" to stop it", 30, "the input on pvhv")
    con.expect(SERVE_HELP % "status", 30, "the help line")
    con.type("stop\r")
    con.expect(SERVE_STOP, 30, "pvhv stopping")
    expect_exit(con, 1)
    check_after(con, must=[r"^pvhv: summary$", r"^pvhv: exit status 0$"],
                must_not=[r"^pvhv: no domain could be started", r"^pvhv: summary dom="])


def drive_serve_ended(con):
    con.expect(r"^\[e1\] echo e1 ready$", 60, "e1 ready")
    con.type("quit\r")
    con.expect(r"^pvhv: dom e1 ended: poweroff, status 0$", 30, "e1 ending")
    con.expect(r"^pvhv: every domain has ended; serving until told to stop\b", 30, "pvhv going on")
    time.sleep(3 * con.scale)
    if con.proc.poll() is not None:
        raise Fail("QEMU ended (code %s) with no stop: pvhv should serve on" % con.proc.returncode)
    con.type("stop\r")   # no domain runs: pvhv has the input
    con.expect(r"^pvhv: console input goes to pvhv\b", 30, "the input on pvhv")
    con.expect(SERVE_STOP, 30, "pvhv stopping")
    expect_exit(con, 1)
    check_after(con, must=[r"^pvhv: summary dom=e1 end=poweroff status=0\b", r"^pvhv: exit status 0$"],
                must_not=[r"^\[e1\] got: stop$", r"^\[e1\] FAIL"])


def drive_serve_focus(con):
    con.expect(r"^\[e1\] echo e1 ready$", 60, "e1 ready")
    con.type("hi\r")
    con.expect(r"^\[e1\] got: hi$", 30, "e1 echoing 'hi'")
    con.type(FOCUS_KEY)
    con.expect(r"^pvhv: console input goes to pvhv: type \"stop\" to stop it \(Ctrl-\] switches\)$", 30,
               "the input moving to pvhv")
    con.type("nope\r")
    con.expect(SERVE_HELP % "nope", 30, "the help line")
    con.type("stop\r")
    con.expect(SERVE_STOP, 30, "pvhv stopping")
    con.expect(r"^pvhv: dom e1 stopped: pvhv is stopping$", 30, "e1 stopped by the stop")
    expect_exit(con, 1)
    check_after(con, must=[r"^pvhv: summary dom=e1 end=stopped\b", r"^pvhv: exit status 0$"],
                must_not=[r"^\[e1\] got: (?:nope|stop)$", r"^\[e1\] FAIL"])


def build_linux(cdir):
    files = os.path.join(cdir, "files")
    os.makedirs(files)
    kernel = run.link_file(linux.VMLINUX, files)
    initrd = run.link_file(linux.INITRAMFS, files)
    d = dict(name="sh", cmdline="console=ttyS0 quiet pvhv.end=shell", memory=256, vcpus=1,
             max_runtime_ms=600000)
    dts = os.path.join(cdir, "config.dts")
    run.write_dts(dts, [d], {"sh": kernel}, {"sh": initrd})
    bundle = os.path.join(cdir, "bundle.cpio")
    run.run_tool(["-o", bundle, "--config", dts, "-C", files], cdir)
    return bundle


def drive_linux(con):
    con.expect(r"^\[sh\] PVHV-INIT-REACHED\b", 120, "Linux reaching /init")
    con.expect(r"^\[sh\] PVHV-SHELL$", 60, "PVHV-SHELL")
    time.sleep(1.0 * con.scale)  # let sh set up its terminal
    con.type("echo INPUT-$((6*7))\r")
    # The tty echoes the command as typed ("$((6*7))"): only the shell's
    # output has "INPUT-42".
    con.expect(r"^\[sh\] .*\bINPUT-42\b", 60, "the shell's 'INPUT-42'")
    con.type("poweroff -f\r")
    con.expect(r"^pvhv: dom sh ended: poweroff, status 0$", 60, "the domain powering off")
    expect_exit(con, 1)
    check_after(con, must=[r"^pvhv: summary dom=sh end=poweroff status=0\b", r"^pvhv: exit status 0$"],
                must_not=[r"^\[sh\] PVHV-SHELL-EXITED", r"^\[sh\] .*(?:not found|can't)"])


def build_reboot_input(cdir):
    files = os.path.join(cdir, "files")
    os.makedirs(files)
    kernel = run.link_file(linux.VMLINUX, files)
    initrd = run.link_file(linux.INITRAMFS, files)
    shutil.copyfile(run.need_guest("memcheck"), os.path.join(files, "memcheck.elf"))
    doms = [dict(name="rb", cmdline="console=ttyS0 quiet pvhv.test=nproc pvhv.end=reboot",
                 memory=128, vcpus=4, max_runtime_ms=600000),
            dict(name="mc", cmdline="mem=16 rounds=300", memory=16, vcpus=1)]
    dts = os.path.join(cdir, "config.dts")
    run.write_dts(dts, doms, {"rb": kernel, "mc": "memcheck.elf"}, {"rb": initrd})
    bundle = os.path.join(cdir, "bundle.cpio")
    run.run_tool(["-o", bundle, "--config", dts, "-C", files], cdir)
    return bundle


def drive_reboot_input(con):
    """Keys arrive all the time while a 4-vCPU Linux domain is torn down and
    rebuilt at every reboot: console input delivery (an I/O APIC interrupt to
    its vCPUs) races the teardown, and must never reach freed vCPUs."""
    stop = threading.Event()

    def typist():
        while not stop.is_set():
            try:
                con.type("k")
            except (Fail, OSError, ValueError):
                return
            time.sleep(0.02)

    t = threading.Thread(target=typist, daemon=True)
    t.start()
    try:
        con.expect(r"^pvhv: dom rb stopped: reboot limit \(%d\) reached$" % linux.REBOOT_LIMIT,
                   240, "rb reaching its reboot limit")
    finally:
        stop.set()
        t.join(5)
    expect_exit(con, 3)
    check_after(con, must=[r"^pvhv: summary dom=mc end=poweroff status=0\b",
                           r"^pvhv: summary dom=rb end=stopped\b"] +
                          # The tty echoes the keys into init's lines: count pvhv's own.
                          [r"^pvhv: dom rb rebooting \(%d of at most %d\)$" % (k, linux.REBOOT_LIMIT)
                           for k in range(1, linux.REBOOT_LIMIT + 1)],
                must_not=[r"PANIC", r"FATAL exception", r"^\[mc\] FAIL"])


CASES = [
    dict(name="echo-focus", what="typed lines reach the focused echo domain only; Ctrl-] and ended-domain focus moves",
         build=build_echo, drive=drive_echo),
    dict(name="linux-shell", what="busybox sh on Linux's ttyS0 runs a typed command and powers off",
         build=build_linux, drive=drive_linux),
    # Opt-in (make test-teardown): see linux-teardown in linux.py.
    dict(name="linux-reboot-input", what="keys typed all the time while a 4-vCPU Linux domain reboots 8 times",
         build=build_reboot_input, drive=drive_reboot_input, env={"PVHV_TCG_THREAD": "multi"}, optin=True),
    dict(name="serve-none", what="serve with no domain: help for a wrong line, \"stop\" powers off with status 0",
         build=lambda cdir: build_serve(cdir, []), drive=drive_serve_none),
    dict(name="serve-ended", what="serve: the only domain ends, pvhv runs on until \"stop\"",
         build=lambda cdir: build_serve(cdir, ["e1"]), drive=drive_serve_ended),
    dict(name="serve-focus", what="serve: Ctrl-] gives pvhv the input; \"stop\" ends a running domain and pvhv",
         build=lambda cdir: build_serve(cdir, ["e1"]), drive=drive_serve_focus),
    # The same on single-threaded TCG, which does not have that problem.
    dict(name="linux-reboot-input-1thread", what="the same, single-threaded TCG",
         build=build_reboot_input, drive=drive_reboot_input, env={"PVHV_TCG_THREAD": "single"}),
]

# --------------------------------------------------------------------------


def run_case(case, opts):
    """-> (ok, seconds, reason, tail)"""
    t0 = time.monotonic()
    cdir, log_path, qout_path = run.case_dir(OUT_DIR, case["name"])
    con = None
    reason = None
    try:
        if not os.path.exists(run.HV_ELF):
            raise Fail("harness: build/pvhv.elf not built")
        try:
            bundle = case["build"](cdir)
        except run.Fail as e:
            raise Fail(str(e))
        try:
            base = run.qemu_base_args(dict(os.environ, **case.get("env", {})))
        except run.Fail as e:
            raise Fail(str(e))
        cmd = [opts.qemu] + base + ["-serial", "stdio", "-kernel", run.HV_ELF, "-initrd", bundle]
        with open(os.path.join(cdir, "cmd"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        con = Console(cmd, log_path, qout_path, opts.timeout_scale)
        case["drive"](con)
    except Fail as e:
        reason = str(e)
    finally:
        if con:
            con.close()
    secs = time.monotonic() - t0
    if reason is None:
        return True, secs, None, []
    tail = run.read_text(log_path).split("\n")
    if tail and tail[-1] == "":
        tail.pop()
    tail = tail[-30:]
    qerr = run.read_text(qout_path).strip()
    if qerr:
        tail += ["(qemu) " + l for l in qerr.split("\n")[-10:]]
    return False, secs, reason, tail


def main():
    ap = argparse.ArgumentParser(description="pvhv host console input tests")
    ap.add_argument("-k", action="append", metavar="SUBSTR", help="only cases whose name contains SUBSTR")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    scale = float(os.environ.get("PVHV_ITEST_TIMEOUT_SCALE", 0) or 0) or \
        (3.0 if os.environ.get("CI") == "true" else 1.0)
    ap.add_argument("--timeout-scale", type=float, default=scale,
                    help="multiply every timeout (env PVHV_ITEST_TIMEOUT_SCALE; default 3 under CI=true, else 1)")
    ap.add_argument("--qemu", default=os.environ.get("QEMU", "qemu-system-x86_64"))
    opts = ap.parse_args()
    if opts.k:
        cases = [c for c in CASES if any(k == c["name"] if c.get("optin") else k in c["name"]
                                         for k in opts.k)]
    else:
        cases = [c for c in CASES if not c.get("optin")]
    if opts.list:
        for c in cases:
            print("%-14s %s" % (c["name"], c["what"]))
        return 0
    print("# pvhv console input: %d cases, accel %s, timeout scale %g" % (
        len(cases), run.accel(), opts.timeout_scale))
    sys.stdout.flush()
    passed = failed = 0
    for c in cases:
        ok, secs, reason, tail = run_case(c, opts)
        if ok:
            passed += 1
            print("ok - %s (%.1fs)" % (c["name"], secs))
        else:
            failed += 1
            print("not ok - %s: %s" % (c["name"], reason))
            print("#   log: %s" % os.path.relpath(os.path.join(OUT_DIR, c["name"], "serial.log"), ROOT))
            for line in tail:
                print("#   | " + line)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
