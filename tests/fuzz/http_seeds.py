#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""http_seeds.py: writes starting inputs for tests/fuzz/http_fuzz.c into a directory: requests
pvhd serves (userland/pvhd/api.c), each a head and a JSON body."""
import os
import sys


def request(method, path, body=b"", extra=b""):
    head = b"%s %s HTTP/1.1\r\nHost: pvhd\r\n%sContent-Length: %d\r\n\r\n" % (method, path, extra, len(body))
    return head + body


SEEDS = {
    "info": request(b"GET", b"/api/v1/info"),
    "events": request(b"GET", b"/api/v1/events?after=12"),
    "create": request(b"PUT", b"/api/v1/sandboxes/web",
                      b'{"boot-source":{"kernel_image":"vmlinux","initrd":"initramfs.cpio","boot_args":"a \\"b\\""},'
                      b'"machine-config":{"vcpu_count":2,"mem_size_mib":256,"cpu_share":0},'
                      b'"drives":[{"image":"root.ext4","is_read_only":false},{"image":"d","is_read_only":true}],'
                      b'"vsock":{"guest_cid":1000},"timeout_s":30,"paused":false}'),
    "action": request(b"PUT", b"/api/v1/sandboxes/web/actions", b'{"action_type":"InstanceStart"}'),
    "exec": request(b"POST", b"/api/v1/sandboxes/web/exec",
                    b'{"cmd":["sh","-c","echo \\u00e9 \\ud83d\\ude00"],"env":["A=1"],"cwd":"/tmp","timeout_s":5}',
                    b"Expect: 100-continue\r\nConnection: close\r\n"),
    "image": request(b"PUT", b"/api/v1/images/blob.ext4", bytes(range(256))),
    "http10": b"DELETE /api/v1/sandboxes/web HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
