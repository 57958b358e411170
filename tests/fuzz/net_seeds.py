#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""net_seeds.py: writes starting inputs for tests/fuzz/net_fuzz.c (its input format) into a directory.

Each seed configures port A (MAC, one IPv4 and one IPv6 address) and B, then lays out guest RAM
the way a driver would: a transmit chain (header + one frame) on device A's queue and one receive
buffer on device B's, so the fuzzer starts from frames that reach the switch and the receiver.
"""
import os
import struct
import sys

MAC_A = bytes.fromhex("525400123456")
MAC_B = bytes.fromhex("525400000002")
BCAST = b"\xff" * 6
IP_A, IP_B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
IP6_A = bytes.fromhex("fd000000000000000000000000000001")
LL_A = bytes.fromhex("fe80000000000000505400fffe123456")
ALL_NODES = bytes.fromhex("ff020000000000000000000000000001")
F_NEXT, F_WRITE = 1, 2
QUEUE_16 = 4                # 1 << 4 entries


def config(how_tx=QUEUE_16, how_rx=QUEUE_16, feat_a=0, feat_b=0):
    cfg = bytes([1, 1]) + MAC_A + MAC_B + IP_A + bytes(12) + IP6_A + bytes(48)
    return cfg + bytes([how_tx, how_rx, 1, feat_a, feat_b])


def eth(dst, ethertype):
    return dst + MAC_A + struct.pack(">H", ethertype)


def arp(op, spa, tpa):
    return eth(BCAST, 0x0806) + struct.pack(">HHBBH", 1, 0x0800, 6, 4, op) + MAC_A + spa + bytes(6) + tpa


def udp4(src, dst, sport, dport):
    ip = struct.pack(">BBHHHBBH", 0x45, 0, 20 + 8 + 4, 0, 0, 64, 17, 0) + src + dst
    return eth(MAC_B, 0x0800) + ip + struct.pack(">HHHH", sport, dport, 12, 0) + b"ping"


def icmp6(src, body, nh=58, ext=b""):
    ip = struct.pack(">IHBB", 0x60000000, len(ext) + len(body), nh, 255) + src + ALL_NODES
    return eth(bytes.fromhex("333300000001"), 0x86dd) + ip + ext + body


def nd(t, target, opt):
    body = struct.pack(">BBHI", t, 0, 0, 0) + target
    return body + (bytes([opt, 1]) + MAC_A if opt else b"")


def tcp4(payload):
    length = 20 + 20 + payload
    ip = struct.pack(">BBHHHBBH", 0x45, 0, length, 0x1234, 0x4000, 64, 6, 0) + IP_A + IP_B
    return eth(MAC_B, 0x0800) + ip + struct.pack(">HHIIBBHHH", 40000, 80, 1000, 0, 0x50, 0x18, 0, 0, 0) + bytes(payload)


def ram(frame, hdr=bytes(12), rx_len=12 + 1514, rx_addr=0x1800):
    mem = bytearray(0x2000)
    struct.pack_into("<QIHH", mem, 0x000, 0x1000, 12 + len(frame), 0, 0)   # TX desc 0
    struct.pack_into("<HHH", mem, 0x100, 0, 1, 0)                          # TX avail: idx 1, ring[0] 0
    struct.pack_into("<QIHH", mem, 0x200, rx_addr, rx_len, F_WRITE, 0)     # RX desc 0
    struct.pack_into("<HHH", mem, 0x300, 0, 1, 0)
    mem[0x1000:0x100c] = hdr
    mem[0x100c:0x100c + len(frame)] = frame
    return bytes(mem[:0x100c + len(frame)])


def main(out):
    os.makedirs(out, exist_ok=True)
    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])
    frames = {
        "arp-request": arp(1, IP_A, IP_B),
        "arp-probe": arp(1, bytes(4), IP_A),
        "udp": udp4(IP_A, IP_B, 1000, 2000),
        "dhcp": udp4(bytes(4), b"\xff" * 4, 68, 67),
        "dad": icmp6(bytes(16), nd(135, IP6_A, 0)),
        "na": icmp6(LL_A, nd(136, IP6_A, 2)),
        "mld": icmp6(bytes(16), bytes([143, 0, 0, 0, 0, 0, 0, 0]), nh=0, ext=hbh),
        "ra": icmp6(LL_A, nd(134, bytes(16), 1)),
    }
    for name, frame in frames.items():
        with open(os.path.join(out, "net-" + name), "wb") as f:
            f.write(config() + ram(frame))
    # A TCP segmentation frame (checksum partial, 1448-byte segments): passed whole to a receiver
    # that took GUEST_CSUM and GUEST_TSO4, segmented for one that did not.
    tso = struct.pack("<BBHHHHH", 1, 1, 54, 1448, 34, 16, 0)
    for name, feat_b in (("tso-pass", 0x3f), ("tso-segment", 0x01), ("tso-merged", 0x7f)):
        with open(os.path.join(out, "net-" + name), "wb") as f:
            f.write(config(feat_a=0x0f, feat_b=feat_b) + ram(tcp4(3000), tso, 12 + 65549, 0x8000))


if __name__ == "__main__":
    main(sys.argv[1])
