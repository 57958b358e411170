#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""seeds.py: writes starting inputs for tests/fuzz/virtq_fuzz.c (its input format) into a directory.

Each seed brings a device up the way Linux does, builds chains in guest RAM and kicks, so the
fuzzer starts from inputs that reach virtq_pop instead of having to find the handshake first.
"""
import os
import struct
import sys

VERSION_1_HI = 1            # bit 32, in the high word (the harness forces it anyway)
INDIRECT = 1 << 28
EVENT_IDX = 1 << 29
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def dev(queue_max_index=3):
    return bytes([queue_max_index + 6 * 4])        # 16 entries, a few model feature bits


def bring_up(features, qi=0, size=16, desc=0x1000, avail=0x2000, used=0x3000):
    return bytes([3]) + struct.pack("<QBHHHH", features | VERSION_1_HI << 32, qi, size, desc, avail, used)


def desc(table, i, addr, length, flags, nxt=0):
    return bytes([4]) + struct.pack("<HB", table, i) + addr.to_bytes(3, "little") + struct.pack("<HBB", length, flags, nxt)


def avail(heads, qi=0):
    return bytes([5, qi, len(heads)]) + bytes(heads)


def ram(gpa, data):
    return bytes([2]) + struct.pack("<HB", gpa, len(data)) + data


def kick(qi=0):
    return bytes([6, qi])


def later():
    return bytes([7])


def seeds():
    yield "direct", dev() + bring_up(0) + ram(0x8000, b"hello, device!!!") + \
        desc(0x1000, 0, 0x8000, 16, F_NEXT, 1) + desc(0x1000, 1, 0x8100, 32, F_WRITE) + avail([0]) + kick()
    yield "indirect_event_idx", dev() + bring_up(INDIRECT | EVENT_IDX) + \
        desc(0x1000, 0, 0x4000, 48, F_INDIRECT) + desc(0x4000, 0, 0x8000, 8, F_NEXT, 1) + \
        desc(0x4000, 1, 0x8100, 8, F_WRITE | F_NEXT, 2) + desc(0x4000, 2, 0x8200, 8, F_WRITE) + \
        desc(0x1000, 1, 0x8300, 4, F_NEXT, 2) + desc(0x1000, 2, 0x4100, 16, F_INDIRECT) + \
        desc(0x4100, 0, 0x8400, 4, F_WRITE) + avail([0, 1]) + kick() + \
        ram(0x2000 + 4 + 2 * 16, struct.pack("<H", 3)) + avail([0, 1, 0]) + kick() + later()
    many = b"".join(desc(0x1000, i, 0x8000 + 0x40 * i, 16, F_WRITE) for i in range(16))
    yield "bounded_notify", dev() + bring_up(EVENT_IDX) + many + avail(list(range(7))) + \
        avail(list(range(7, 14))) + kick() + later() + later() + kick(1) + kick(3)
    yield "hole_and_loop", dev(2) + bring_up(INDIRECT, qi=1, size=4) + \
        desc(0x1000, 0, 0xbff0, 0x120, F_NEXT, 1) + desc(0x1000, 1, 0x8000, 8, F_NEXT, 0) + \
        avail([0], qi=1) + kick(1)


    # a descriptor table across the hole in guest RAM: passes the ring check, then unreadable
    yield "ring_across_hole", dev(4) + bring_up(0, size=64, desc=0xbf00, avail=0x2000, used=0x3000) + \
        desc(0xbf00, 0, 0x8000, 8, F_NEXT, 40) + avail([0]) + kick()
    # size 4: two direct buffers and a table of three make five (> size)
    yield "over_size", dev(2) + bring_up(INDIRECT, size=4) + desc(0x1000, 0, 0x8000, 8, F_NEXT, 1) + \
        desc(0x1000, 1, 0x8000, 8, F_NEXT, 2) + desc(0x1000, 2, 0x4000, 48, F_INDIRECT) + \
        b"".join(desc(0x4000, i, 0x8000, 8, F_NEXT if i < 2 else 0, i + 1) for i in range(3)) + \
        avail([0]) + kick()
    # size 128 (queue_max 256): 64 segments pass, 65 do not
    chain = b"".join(desc(0x1000, i, 0x8000 + 8 * i, 8, F_NEXT, i + 1) for i in range(64))
    yield "chain_max", dev(5) + bring_up(0, size=128, avail=0x1800, used=0x2000) + chain + \
        desc(0x1000, 63, 0x8000, 8, 0) + avail([0], qi=0) + kick() + \
        desc(0x1000, 63, 0x8000, 8, F_NEXT, 64) + desc(0x1000, 64, 0x8000, 8, 0) + avail([0]) + kick()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
