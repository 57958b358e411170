#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mkimage_seeds.py: writes starting inputs for tests/fuzz/mkimage_fuzz.c into a directory: small
tar archives (pax, GNU, ustar) behind an even selector byte, manifests as JSON behind an odd one."""
import io
import json
import os
import sys
import tarfile


def tar(fmt, long=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, kind, data in (("etc", tarfile.DIRTYPE, b""), ("etc/f", tarfile.REGTYPE, b"data\n"),
                                 ("l" * (150 if long else 10), tarfile.SYMTYPE, b""),
                                 ("h", tarfile.LNKTYPE, b""), ("etc/.wh..wh..opq", tarfile.REGTYPE, b"")):
            ti = tarfile.TarInfo(name)
            ti.type, ti.size, ti.uid, ti.mtime = kind, len(data), 1000, 1700000000
            ti.linkname = "etc/f" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
            if long:
                ti.pax_headers = {"comment": "x"} if fmt == tarfile.PAX_FORMAT else {}
            t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


def main(d):
    os.makedirs(d, exist_ok=True)
    seeds = {
        "pax": b"\xfe" + tar(tarfile.PAX_FORMAT, True),
        "gnu": b"\x10" + tar(tarfile.GNU_FORMAT, True),
        "ustar": b"\x00" + tar(tarfile.USTAR_FORMAT),
        "docker": b"\x01" + json.dumps([{"Config": "c.json", "RepoTags": ["a:1"],
                                          "Layers": ["a/layer.tar", "b/layer.tar"]}]).encode(),
        "oci": b"\x03" + json.dumps({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "a" * 64,
             "size": 123, "platform": {"os": "linux", "architecture": "amd64"}}],
            "s": "\u00e9\\\"\n\ud83d\ude00", "n": [0, -1.5e3, True, False, None]}).encode(),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
