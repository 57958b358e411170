#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""msix_seeds.py: seed inputs for msix_fuzz: tables programmed, enabled, masked and moved as Linux does."""
import os
import struct
import sys


def op(kind, off=0, val=0, width=4):
    code = {4: 0, 8: 1, 2: 2, 1: 3}[width]
    return bytes([(code << 1) | kind]) + struct.pack("<HQ", off, val)


def entry(i, vector, addr=0xfee00000):
    return (op(1, i * 16, addr) + op(1, i * 16 + 4, 0) + op(1, i * 16 + 8, vector) +
            op(1, i * 16 + 12, 0))


def main(out):
    os.makedirs(out, exist_ok=True)
    linux = op(8, 0, 0xc000) + entry(0, 0x41) + entry(1, 0x42) + op(8, 0, 0x8000)
    seeds = {
        "linux": bytes([3]) + linux,
        "move": bytes([3]) + linux + op(1, 8, 0x51) + op(1, 16 + 12, 1) + op(1, 16 + 8, 0x52) +
        op(1, 16 + 12, 0),
        "bad-addr": bytes([0]) + entry(0, 0x41, 0xfed00000) + op(8, 0, 0x8000) + op(1, 0, 0xfee01000),
        "wide": bytes([7]) + op(1, 32, 0x00000000fee00000, 8) + op(1, 40, 0x0000000000000045, 8) +
        op(8, 0, 0x8000) + op(0, 32, 0, 8) + op(0, 3, 0, 1) + op(8, 0, 0),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
