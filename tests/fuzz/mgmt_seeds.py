#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mgmt_seeds.py: writes starting inputs for tests/fuzz/mgmt_fuzz.c into a directory: streams of
well-formed management requests (guest-abi/pvhv/mgmt.h), cut into pieces by a size byte each."""
import os
import struct
import sys

MAGIC, VERSION = 0x474D5650, 2


def frame(kind, payload=b"", seq=1):
    return struct.pack("<IHHII", MAGIC, VERSION, kind, seq, len(payload)) + payload


def image_begin(name, size, flags=0):
    return name.ljust(64, b"\0") + struct.pack("<QII", size, flags, 0)


def image_data(handle, offset, data):
    return struct.pack("<IIQ", handle, 0, offset) + data


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
        "host-stop": frame(18, seq=12) + frame(18, b"x", 13) + frame(18, seq=14),
        "badmagic": struct.pack("<IHHII", 0x12345678, 1, 1, 1, 0),
        # Images: an upload of 5000 bytes in two pieces, listed, deleted; then hostile ones.
        "image": frame(8, image_begin(b"disk.img", 5000)) + frame(9, image_data(1, 0, b"a" * 4000)) +
        frame(9, image_data(1, 4000, b"b" * 1000)) + frame(10, struct.pack("<I", 1)) +
        frame(11, struct.pack("<I", 0)) + frame(12, b"disk.img".ljust(64, b"\0")),
        "image-hostile": frame(8, image_begin(b"u", 100)) + frame(9, image_data(1, 7, b"x")) +
        frame(9, image_data(1, 0, b"x" * 101)) + frame(10, struct.pack("<I", 1)) +
        frame(8, image_begin(b"kernel", 10)) + frame(8, image_begin(b"w", 50)) +
        frame(9, image_data(2, 0, b"y" * 20)),
    }
    for name, stream in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(pieces(stream))
        with open(os.path.join(d, name + "-bytewise"), "wb") as f:
            f.write(pieces(stream, 0))


if __name__ == "__main__":
    main(sys.argv[1])
