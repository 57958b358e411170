#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""vsock_seeds.py: writes starting inputs for tests/fuzz/vsock_fuzz.c (its step format) into a directory.

Each seed posts receive buffers and walks a stream through the router the way two Linux guests
would -- connect, data, credit, shutdown -- so the fuzzer starts from live streams.
"""
import os
import struct
import sys

CTL, WEB, DB = 0, 1, 2                  # guest indexes (CIDs 3, 4, 5)
DST = {3: 0, 4: 1, 5: 2, 2: 3}          # dst CID -> choice byte
REQUEST, RESPONSE, RST, SHUTDOWN, RW, CREDIT_UPDATE, CREDIT_REQUEST = 1, 2, 3, 4, 5, 6, 7
REPLY_OP = {RESPONSE: 0, RW: 1, CREDIT_UPDATE: 3, CREDIT_REQUEST: 4, SHUTDOWN: 5, RST: 6, REQUEST: 7}


def rx(g, n=8, size_choice=4):
    return bytes([3, g, n - 1]) + bytes([size_choice] * n)


def drain(g):
    return bytes([4, g])


def tx(g, dst_cid, op, sport=0, dport=0, buf_alloc=4096, fwd=0, length=0, flags=0):
    b = bytes([0, g, 0, DST[dst_cid], sport, op, flags]) + struct.pack("<HBH", buf_alloc, 0, fwd)
    if op == RW:
        b += struct.pack("<H", length)
    return b + bytes([dport])


def reply(g, op, both=True, length=0):
    b = bytes([2, g, REPLY_OP[op] | (8 if both else 0) | 16])
    if op == RW:
        b += struct.pack("<H", length)
    return b


def wake():
    return bytes([5, 0])


def service(what, n=0):
    return bytes([7, what]) + struct.pack("<H", n)


SEEDS = {
    "stream": rx(WEB) + rx(CTL) + tx(CTL, 4, REQUEST) + drain(WEB) + reply(WEB, RESPONSE) + drain(CTL)
    + reply(CTL, RW, length=300) + drain(WEB) + reply(WEB, CREDIT_UPDATE) + drain(CTL)
    + reply(CTL, SHUTDOWN) + drain(WEB) + reply(WEB, SHUTDOWN) + drain(CTL) + reply(CTL, RST),
    "held": rx(CTL) + rx(WEB, 2) + tx(CTL, 4, REQUEST) + drain(WEB) + reply(WEB, RESPONSE)
    + drain(CTL) + reply(CTL, RW, length=1900) + rx(WEB, 4) + wake() + drain(WEB),
    "local": rx(CTL) + tx(CTL, 2, REQUEST, dport=8) + drain(CTL) + reply(CTL, RW, length=200)
    + service(1, 100) + service(0, 50) + drain(CTL) + reply(CTL, CREDIT_REQUEST) + service(2 | 4),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "vsock-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
