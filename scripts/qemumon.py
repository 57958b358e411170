# SPDX-License-Identifier: Apache-2.0
"""qemumon.py: QEMU's human monitor on a Unix socket, and where each CPU of a
running pvhv is.

Used by scripts/catch-crash.py (a triple fault's registers and pages) and
by tests/integration/run.py (a case that times out: each host CPU's RIP
and its frame-pointer chain, named from build/pvhv.elf's symbols, so a
hang says where pvhv spins).  Stdlib and binutils only.
"""

import re
import socket
import subprocess


class Monitor:
    """The human monitor on a Unix socket: one command at a time, reply up to the next prompt."""

    def __init__(self, path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.command(None)

    def command(self, cmd):
        if cmd is not None:
            self.sock.sendall((cmd + "\n").encode())
        buf = b""
        while not buf.rstrip().endswith(b"(qemu)"):
            data = self.sock.recv(65536)
            if not data:
                raise OSError("monitor closed")
            buf += data
        return buf.decode("utf-8", "replace")

    def close(self):
        self.sock.close()


def symbol_addresses(elf, names):
    """Addresses of names in elf (nm), in the order given; missing ones are left out."""
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in names:
            found[parts[2]] = int(parts[0], 16)
    return [found[n] for n in names if n in found]


def symbolize(elf, addrs):
    """{addr: "function (file:line)"} for the addresses inside elf's image, by addr2line."""
    lo_hi = symbol_addresses(elf, ("__image_start", "__image_end"))
    if len(lo_hi) != 2:
        return {}
    inside = [a for a in addrs if lo_hi[0] <= a < lo_hi[1]]
    if not inside:
        return {}
    out = subprocess.run(["addr2line", "-f", "-e", elf] + ["0x%x" % a for a in inside],
                         capture_output=True, text=True).stdout.split("\n")
    names = {}
    for k, a in enumerate(inside):
        if 2 * k + 1 < len(out):
            where = re.sub(r".*/", "", out[2 * k + 1]).split(" ")[0]
            names[a] = "%s (%s)" % (out[2 * k], where)
    return names


def read_qwords(mon, addr, n):
    """n 64-bit words at virtual address addr, as the selected CPU sees it; [] where unreadable."""
    text = mon.command("x /%dgx 0x%x" % (n, addr))
    words = [int(w, 16) for w in re.findall(r"0x([0-9a-f]{16})\b", text.split(":", 1)[-1])]
    return words[:n]


def cpu_places(mon, elf, depth=12):
    """-> (one line per CPU, the full text): for a CPU in pvhv (on its boot page tables), its
    RIP and the return addresses on its frame-pointer chain, named from elf's symbols; for a
    CPU in a guest (QEMU shows the guest's registers then), the guest's RIP and CR3."""
    full = mon.command("info registers -a")
    host_cr3 = symbol_addresses(elf, ("boot_pml4",))
    blocks = re.split(r"\n(?=CPU#\d+)", full)
    lines, detail = [], [full]
    for block in blocks:
        m = re.search(r"CPU#(\d+)", block)
        rip = re.search(r"RIP=([0-9a-f]{16})", block)
        rbp = re.search(r"RBP=([0-9a-f]{16})", block)
        cr3 = re.search(r"CR3=([0-9a-f]+)", block)
        if not (m and rip and rbp and cr3):
            continue
        cpu = int(m.group(1))
        halted = " halted" if re.search(r"\bHLT=1\b", block) else ""
        # pvhv runs on its boot page tables alone: any other CR3 is a guest's.
        if int(cr3.group(1), 16) & ~0xfff not in host_cr3:
            lines.append("cpu%d%s in a guest: rip 0x%s cr3 0x%s" % (cpu, halted, rip.group(1), cr3.group(1)))
            continue
        mon.command("cpu %d" % cpu)
        chain, fp = [int(rip.group(1), 16)], int(rbp.group(1), 16)
        for _ in range(depth):
            if not fp or fp % 8:
                break
            words = read_qwords(mon, fp, 2)
            if len(words) < 2 or not words[1]:
                break
            chain.append(words[1])
            if words[0] <= fp:
                break
            fp = words[0]
        # A return address names its call by the byte before it (a call last in a function).
        look = chain[:1] + [a - 1 for a in chain[1:]]
        names = symbolize(elf, look)
        lines.append("cpu%d%s in pvhv: %s" % (cpu, halted, " <- ".join(names.get(a, "0x%x" % a) for a in look)))
        detail.append("# cpu%d chain: %s" % (cpu, " ".join("0x%x=%s" % (a, names.get(a, "?")) for a in look)))
    return lines, "\n".join(detail)
