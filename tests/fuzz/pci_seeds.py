#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pci_seeds.py: seed inputs for pci_fuzz: an NVMe-like function sized and programmed as Linux does."""
import os
import struct
import sys


def preamble():
    kinds = bytes([3, 0, 1, 0, 2, 0])  # mem64, -, io, -, mem32, -
    shifts = bytes([10, 0, 4, 0, 8, 0])
    head = kinds + shifts + bytes([7, 0x40, 1, 0])
    caps = bytearray(192)
    caps[0:4] = bytes([0x11, 0x50, 63, 0])          # MSI-X at 0x40, 64 entries
    caps[4:8] = struct.pack("<I", 0x2000)           # table bar0+0x2000
    caps[8:12] = struct.pack("<I", 0x3000)          # PBA bar0+0x3000
    caps[0x10:0x14] = bytes([0x05, 0x80, 0x86, 1])  # MSI at 0x50, 64-bit, maskable
    caps[0x40:0x44] = bytes([0x10, 0, 2, 0])        # PCIe at 0x80
    ext = bytearray(64)
    ext[0:4] = struct.pack("<I", 0x0001 | 1 << 16 | 0x120 << 20)  # AER, next 0x120
    ext[0x20:0x24] = struct.pack("<I", 0x0015 | 1 << 16)         # resizable BAR, last
    return head + bytes(caps) + bytes(ext)


def op(write, size, off, val=0):
    code = {1: 0, 2: 1, 4: 2}[size]
    return bytes([(code << 1) | write]) + struct.pack("<HI", off, val)


def main(out):
    os.makedirs(out, exist_ok=True)
    sizing = b"".join(op(1, 4, 0x10 + 4 * i, 0xffffffff) + op(0, 4, 0x10 + 4 * i) for i in range(6))
    msi = op(1, 4, 0x54, 0xfee00000) + op(1, 4, 0x58, 0) + op(1, 2, 0x5c, 0x41) + op(1, 2, 0x52, 1)
    msix = op(1, 2, 0x42, 0xc000) + op(1, 2, 0x42, 0x8000) + op(1, 4, 0x128, 0xd00) + op(1, 4, 0x104, 1)
    cmd = op(1, 2, 4, 7) + op(1, 4, 4, 0xffffffff) + op(1, 1, 0x3c, 5)
    for name, body in (("sizing", sizing), ("msi", msi), ("msix", msix), ("cmd", cmd),
                       ("all", sizing + msi + msix + cmd + op(1, 4, 0xffc, 1) + op(0, 4, 0x1000))):
        with open(os.path.join(out, name), "wb") as f:
            f.write(preamble() + body)


if __name__ == "__main__":
    main(sys.argv[1])
