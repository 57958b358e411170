#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mgmt_seeds.py: writes starting inputs for tests/fuzz/mgmt_fuzz.c into a directory: streams of
well-formed management requests (guest-abi/pvhv/mgmt.h), cut into pieces by a size byte each."""
import os
import struct
import sys

MAGIC, VERSION = 0x474D5650, 1


def frame(kind, payload=b"", seq=1):
    return struct.pack("<IHHII", MAGIC, VERSION, kind, seq, len(payload)) + payload


def pieces(stream, size=255):
    out = b""
    for i in range(0, len(stream), size + 1):
        chunk = stream[i:i + size + 1]
        out += bytes([len(chunk) - 1]) + chunk
    return out


def main(d):
    os.makedirs(d, exist_ok=True)
    ref = lambda i, g: struct.pack("<II", i, g)
    seeds = {
        "hello": frame(1),
        "list": frame(2, seq=2),
        "info": frame(3, ref(1, 2), 3),
        "stale": frame(3, ref(1, 1), 4),
        "destroy": frame(4, ref(2, 3), 5),
        "console": frame(5, ref(0, 1), 6),
        "all": frame(1) + frame(2) + frame(3, ref(0, 1)) + frame(5, ref(2, 3)) + frame(4, ref(1, 2)),
        "start": frame(13, ref(1, 2), 7),
        "pause-resume": frame(14, ref(2, 3), 8) + frame(15, ref(2, 3), 9),
        "stats": frame(16, ref(1, 2), 10),
        "console-write": frame(17, struct.pack("<IIII", 2, 3, 5, 0) + b"hello", 11),
        "badmagic": struct.pack("<IHHII", 0x12345678, 1, 1, 1, 0),
    }
    for name, stream in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(pieces(stream))
        with open(os.path.join(d, name + "-bytewise"), "wb") as f:
            f.write(pieces(stream, 0))


if __name__ == "__main__":
    main(sys.argv[1])
