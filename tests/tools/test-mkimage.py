#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test-mkimage.py: pvhv-mkimage on docker-save tars, OCI layouts and directories made here.

Every input is built by this script from local bytes with Python's tarfile (nothing is
pulled from a registry); the images are read back with Debian's debugfs -R (no mounting,
no root).  When run as root, the tool itself runs as nobody, so owners and set-uid bits
must come out right without CAP_CHOWN.  Hostile inputs must fail with a message naming
the entry and leave no image.  Prints "ok - NAME" / "not ok - NAME: why" per check and a
final "N passed, M failed" line.
"""
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.environ.get("PVHV_MKIMAGE", os.path.join(ROOT, "build/tools/pvhv-mkimage"))
DEBUGFS = shutil.which("debugfs") or "/usr/sbin/debugfs"

passed = failed = 0


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}: {why}")
    sys.stdout.flush()


# ---------------------------------------------------------------- building inputs

def member(name, kind="file", data=b"", mode=0o644, uid=0, gid=0, link=""):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.uid, ti.gid, ti.mtime = mode, uid, gid, 1700000000
    ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
               "hard": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
    if kind == "file":
        ti.size = len(data)
    if kind in ("sym", "hard"):
        ti.linkname = link
    if kind == "chr":
        ti.devmajor, ti.devminor = 1, 3
    return ti, data


def tar_bytes(members, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue()


LONG = "deep/" + "d" * 120 + "/file-with-a-long-name"

LAYER1 = [
    member("etc", "dir", mode=0o755),
    member("etc/keep", data=b"kept v1\n"),
    member("etc/gone", data=b"whited out\n"),
    member("opq", "dir", mode=0o755),
    member("opq/old1", data=b"old\n"),
    member("opq/sub", "dir"),
    member("opq/sub/old2", data=b"old\n"),
    member("bin", "dir", mode=0o755),
    member("bin/tool", data=b"#!/bin/sh\necho tool\n", mode=0o4755),
    member("home", "dir", mode=0o755),
    member("home/user", "dir", mode=0o750, uid=1000, gid=1000),
    member("home/user/file", data=b"user data\n", mode=0o640, uid=1000, gid=1000),
    member("sbin", "sym", link="usr/sbin"),
    member("usr", "dir"),
    member("usr/sbin", "dir"),
    member("dev", "dir"),
    member("dev/null", "chr", mode=0o666),
    member(LONG, data=b"long\n"),
]
LAYER2 = [
    member("etc", "dir", mode=0o755),
    member("etc/.wh.gone"),
    member("etc/keep", data=b"kept v2\n"),
    member("etc/hard", "hard", link="etc/keep"),
    member("opq", "dir", mode=0o711),
    member("opq/.wh..wh..opq"),
    member("opq/new", data=b"new\n"),
    member("link", "sym", link="etc/keep"),
    member("fifo", "fifo", mode=0o600),
]


def docker_save(path, layers, manifest=None, fmt=tarfile.PAX_FORMAT, blobs=False, corrupt=False):
    """A `docker save` tar: legacy layout (ID/layer.tar + manifest.json), or with blobs the
    layout of Docker 25 and later (blobs/sha256/DIGEST named in manifest.json)."""
    members, names = [], []
    for i, layer in enumerate(layers):
        data = layer if isinstance(layer, bytes) else tar_bytes(layer, fmt)
        if blobs:
            name = "blobs/sha256/" + hashlib.sha256(data).hexdigest()
            if corrupt:
                data = data[:-1] + b"\1"
        else:
            name = f"{i:064x}/layer.tar"
            members.append(member(f"{i:064x}", "dir", mode=0o755))
        names.append(name)
        members.append(member(name, data=data))
    if manifest is None:
        manifest = [{"Config": "config.json", "RepoTags": ["test:1"], "Layers": names}]
    members.append(member("config.json", data=b'{"architecture":"amd64","os":"linux"}'))
    members.append(member("manifest.json", data=json.dumps(manifest).encode()))
    with open(path, "wb") as f:
        f.write(tar_bytes(members))


def oci_layout(dest, layers, gz=True, as_tar=False, corrupt_digest=False):
    """An OCI image layout (directory, or a tar of it): index -> manifest -> layers."""
    blobs = {}

    def blob(data):
        h = hashlib.sha256(data).hexdigest()
        blobs[h] = data
        return {"digest": "sha256:" + h, "size": len(data)}

    descs = []
    for layer in layers:
        data = tar_bytes(layer)
        if gz:
            data = gzip.compress(data)
        d = blob(data)
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
        descs.append(d)
    if corrupt_digest:
        h = descs[-1]["digest"][7:]
        blobs[h] = blobs[h][:-1] + bytes([blobs[h][-1] ^ 1])
    cfg = blob(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}')
    cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
    man = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": cfg, "layers": descs}).encode())
    man["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    man["platform"] = {"os": "linux", "architecture": "amd64"}
    other = dict(man, platform={"os": "linux", "architecture": "arm64"}, digest="sha256:" + "0" * 64)
    files = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
             "index.json": json.dumps({"schemaVersion": 2, "manifests": [other, man]}).encode()}
    for h, data in blobs.items():
        files[f"blobs/sha256/{h}"] = data
    if as_tar:
        with open(dest, "wb") as f:
            f.write(tar_bytes([member(n, data=d) for n, d in files.items()]))
    else:
        for n, d in files.items():
            os.makedirs(os.path.dirname(os.path.join(dest, n)), exist_ok=True)
            with open(os.path.join(dest, n), "wb") as f:
                f.write(d)


# ---------------------------------------------------------------- running and reading back

def as_user():
    """Run the tool as nobody when we are root: no CAP_CHOWN, no CAP_DAC_OVERRIDE."""
    if os.getuid() != 0:
        return None

    def drop():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    return drop


def mkimage(args, out):
    p = subprocess.run([TOOL] + args + [out], capture_output=True, text=True, timeout=120,
                       preexec_fn=as_user())
    return p.returncode, p.stdout + p.stderr


def dbg(img, cmd):
    p = subprocess.run([DEBUGFS, "-R", cmd, img], capture_output=True, text=True, timeout=60)
    return p.stdout + p.stderr


def stat(img, path):
    """(type, mode, uid, gid, inode, links) of path in img, or None."""
    s = dbg(img, f'stat "{path}"')
    m = re.search(r"Inode: (\d+)\s+Type: (\w[\w ]*?)\s+Mode:\s+(\d+)", s)
    u = re.search(r"User:\s+(\d+)\s+Group:\s+(\d+)", s)
    ln = re.search(r"Links: (\d+)", s)
    if not (m and u and ln):
        return None
    return m.group(2), int(m.group(3), 8), int(u.group(1)), int(u.group(2)), int(m.group(1)), int(ln.group(1))


def cat(img, path):
    p = subprocess.run([DEBUGFS, "-R", f'cat "{path}"', img], capture_output=True, timeout=60)
    return p.stdout


def ls(img, path):
    return set(dbg(img, f'ls -l "{path}"').split()) if stat(img, path) else set()


def check_layers(name, img, gone_checked=True):
    """The result of LAYER1 then LAYER2, as every source must produce it."""
    st = stat(img, "/bin/tool")
    check(f"{name}: set-uid 4755 root file", st and st[1] == 0o4755 and st[2:4] == (0, 0), st)
    st = stat(img, "/home/user/file")
    check(f"{name}: file owned 1000:1000 mode 0640", st and st[1:4] == (0o640, 1000, 1000), st)
    st = stat(img, "/home/user")
    check(f"{name}: directory owned 1000:1000 mode 0750", st and st[1:4] == (0o750, 1000, 1000), st)
    check(f"{name}: layer 2 replaced etc/keep", cat(img, "/etc/keep") == b"kept v2\n", cat(img, "/etc/keep"))
    check(f"{name}: whiteout deleted etc/gone", stat(img, "/etc/gone") is None, dbg(img, "ls /etc"))
    names = ls(img, "/opq")
    check(f"{name}: opaque dir keeps only layer 2", "new" in names and "old1" not in names and "sub" not in names,
          names)
    st = stat(img, "/opq")
    check(f"{name}: opaque dir has layer 2's mode 0711", st and st[1] == 0o711, st)
    st = stat(img, "/link")
    check(f"{name}: symlink", st and st[0] == "symlink" and "etc/keep" in dbg(img, "stat /link"), st)
    a, b = stat(img, "/etc/keep"), stat(img, "/etc/hard")
    check(f"{name}: hard link shares the inode", a and b and a[4] == b[4] and a[5] == 2, (a, b))
    st = stat(img, "/dev/null")
    check(f"{name}: char device 1,3", st and st[0] == "character special" and "Device major/minor number: 01:03"
          in dbg(img, "stat /dev/null"), st)
    st = stat(img, "/fifo")
    check(f"{name}: fifo", st and st[0] == "FIFO" and st[1] == 0o600, st)
    check(f"{name}: GNU/pax long name", cat(img, "/" + LONG) == b"long\n", cat(img, "/" + LONG))
    st = stat(img, "/")
    check(f"{name}: root is root's 0755", st and st[1:4] == (0o755, 0, 0), st)
    fsck = subprocess.run(["/usr/sbin/e2fsck", "-fn", img], capture_output=True, text=True)
    check(f"{name}: e2fsck -fn clean", fsck.returncode == 0, fsck.stdout[-400:])


def main():
    if not os.access(TOOL, os.X_OK):
        check("pvhv-mkimage built", False, f"{TOOL} missing (make tools)")
        print(f"{passed} passed, {failed} failed")
        return 1
    t = tempfile.mkdtemp(prefix="pvhv-mkimage-test.")
    os.chmod(t, 0o777)  # the tool may run as nobody
    try:
        run_all(t)
    finally:
        shutil.rmtree(t, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_all(t):
    # docker save, PAX headers (long names as pax path records).
    docker_save(f"{t}/img.tar", [LAYER1, LAYER2])
    rc, out = mkimage(["--docker-save", f"{t}/img.tar"], f"{t}/docker.ext4")
    check("docker save: builds", rc == 0 and os.path.exists(f"{t}/docker.ext4"), out)
    if rc == 0:
        check_layers("docker save", f"{t}/docker.ext4")
        check("docker save: no staging or temporary files left",
              sorted(os.listdir(t)) == ["docker.ext4", "img.tar"], os.listdir(t))
        os.unlink(f"{t}/docker.ext4")

    docker_save(f"{t}/blobs.tar", [LAYER1, LAYER2], blobs=True)
    rc, out = mkimage(["--docker-save", f"{t}/blobs.tar"], f"{t}/blobs.ext4")
    check("docker save (Docker 25 blobs layout): builds", rc == 0, out)
    if rc == 0:
        check_layers("docker save (blobs)", f"{t}/blobs.ext4")
        os.unlink(f"{t}/blobs.ext4")
    docker_save(f"{t}/blobsbad.tar", [LAYER1, LAYER2], blobs=True, corrupt=True)
    rc, out = mkimage(["--docker-save", f"{t}/blobsbad.tar"], f"{t}/blobsbad.ext4")
    check("docker save (blobs): a layer that is not its digest is refused",
          rc != 0 and "sha256 is" in out and not os.path.exists(f"{t}/blobsbad.ext4"), out)

    # Order within a layer: an opaque marker after a sibling of its own layer keeps that
    # sibling; a file replaces a directory and the other way round; a whiteout in a
    # directory nobody made makes nothing.
    docker_save(f"{t}/order.tar", [
        [member("opq2", "dir", mode=0o755), member("opq2/old", data=b"old\n"),
         member("thing", data=b"file\n"), member("dirthen", "dir", mode=0o755),
         member("dirthen/child", data=b"c\n")],
        [member("opq2/early", data=b"early\n"), member("opq2/.wh..wh..opq"),
         member("thing", "dir", mode=0o755), member("thing/in", data=b"in\n"),
         member("dirthen", data=b"now a file\n"),
         member("nowhere/.wh.x")]])
    rc, out = mkimage(["--docker-save", f"{t}/order.tar"], f"{t}/order.ext4")
    check("layer order: builds", rc == 0, out)
    if rc == 0:
        img = f"{t}/order.ext4"
        names = ls(img, "/opq2")
        check("layer order: opaque marker keeps its own layer's earlier entry",
              "early" in names and "old" not in names, names)
        check("layer order: a directory replaces a file",
              (stat(img, "/thing") or ("",))[0] == "directory" and cat(img, "/thing/in") == b"in\n")
        check("layer order: a file replaces a directory and its contents",
              cat(img, "/dirthen") == b"now a file\n" and stat(img, "/dirthen/child") is None)
        check("layer order: a whiteout makes no directory", stat(img, "/nowhere") is None)
        os.unlink(img)

    # GNU format layers: long names through 'L' headers.
    docker_save(f"{t}/gnu.tar", [LAYER1, LAYER2], fmt=tarfile.GNU_FORMAT)
    rc, out = mkimage(["--docker-save", f"{t}/gnu.tar", "--size", "24"], f"{t}/gnu.ext4")
    check("docker save (GNU tar): builds with --size 24", rc == 0, out)
    if rc == 0:
        check("docker save (GNU tar): 24 MiB", os.path.getsize(f"{t}/gnu.ext4") == 24 << 20)
        check("docker save (GNU tar): long name", cat(f"{t}/gnu.ext4", "/" + LONG) == b"long\n")

    # OCI layout, gzip layers, two manifests in the index (linux/amd64 picked).
    oci_layout(f"{t}/oci", [LAYER1, LAYER2])
    rc, out = mkimage(["--oci", f"{t}/oci"], f"{t}/oci.ext4")
    check("OCI dir (gzip layers): builds", rc == 0, out)
    if rc == 0:
        check_layers("OCI dir", f"{t}/oci.ext4")
    oci_layout(f"{t}/oci.tar", [LAYER1, LAYER2], gz=False, as_tar=True)
    rc, out = mkimage(["--oci", f"{t}/oci.tar"], f"{t}/ocitar.ext4")
    check("OCI tar (plain layers): builds", rc == 0, out)
    if rc == 0:
        check_layers("OCI tar", f"{t}/ocitar.ext4")
    oci_layout(f"{t}/ocibad", [LAYER1, LAYER2], corrupt_digest=True)
    rc, out = mkimage(["--oci", f"{t}/ocibad"], f"{t}/ocibad.ext4")
    check("OCI: a layer whose sha256 is not its digest is refused",
          rc != 0 and "sha256" in out and not os.path.exists(f"{t}/ocibad.ext4"), out)

    # A directory (made here as root with real owners; as a user, only what a user can make).
    src = f"{t}/srcdir"
    os.makedirs(f"{src}/etc")
    with open(f"{src}/etc/hello", "w") as f:
        f.write("hello\n")
    os.link(f"{src}/etc/hello", f"{src}/etc/hello2")
    os.symlink("usr/sbin", f"{src}/sbin")
    os.makedirs(f"{src}/usr/sbin")
    owned = os.getuid() == 0
    if owned:
        os.chown(f"{src}/etc/hello", 1000, 1000)
    os.chmod(f"{src}/etc/hello", 0o4755)  # after chown, which clears set-uid; readable by nobody
    os.chmod(src, 0o755)
    for d in ("etc", "usr", "usr/sbin"):
        os.chmod(f"{src}/{d}", 0o755)
    agent = f"{t}/agent"
    with open(agent, "wb") as f:
        f.write(b"\x7fELF pretend agent")
    rc, out = mkimage(["--dir", src, "--agent", agent], f"{t}/dir.ext4")
    check("--dir --agent: builds", rc == 0, out)
    if rc == 0:
        img = f"{t}/dir.ext4"
        st = stat(img, "/etc/hello")
        want_owner = (1000, 1000) if owned else (os.getuid(), os.getgid())
        check("--dir: mode 4755 and owner kept", st and st[1] == 0o4755 and st[2:4] == want_owner, st)
        a, b = stat(img, "/etc/hello"), stat(img, "/etc/hello2")
        check("--dir: hard link kept", a and b and a[4] == b[4], (a, b))
        st = stat(img, "/usr/sbin/init")
        check("--agent: /sbin/init through the /sbin -> usr/sbin symlink, 0755 root",
              st and st[0] == "regular" and st[1:4] == (0o755, 0, 0) and
              cat(img, "/usr/sbin/init") == b"\x7fELF pretend agent", st)
        check("--agent: /sbin is still a symlink", (stat(img, "/sbin") or ("",))[0] == "symlink")
        for d, mode in (("/dev", 0o755), ("/proc", 0o555), ("/sys", 0o555), ("/tmp", 0o1777)):
            st = stat(img, d)
            check(f"--agent: {d} made, mode {mode:o}", st and st[0] == "directory" and st[1] == mode, st)

    docker_save(f"{t}/big.tar", [[member("big", data=b"b" * (3 << 20))]])
    rc, out = mkimage(["--docker-save", f"{t}/big.tar", "--size", "2"], f"{t}/small.ext4")
    check("--size too small: mke2fs fails, no image", rc != 0 and "mke2fs" in out and
          not [n for n in os.listdir(t) if n.startswith("small.ext4")], out)
    for bad in (["--size", "0"], ["--size", "12x"], ["--dir", src, "--oci", f"{t}/oci"], []):
        rc, out = mkimage(bad, f"{t}/usage.ext4")
        check(f"usage error {' '.join(bad) or '(no source)'}: status 2",
              rc == 2 and ("usage" in out or "--size" in out) and not os.path.exists(f"{t}/usage.ext4"), (rc, out))

    hostile(t)


def with_checksum(hdr):
    """hdr (a tar starting with a header) with its header checksum recomputed."""
    h = bytearray(hdr)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h[:512])
    return bytes(h)


def hostile(t):
    def refused(name, layers, want, raw_outer=None):
        path = f"{t}/h-{name}.tar"
        if raw_outer is not None:
            with open(path, "wb") as f:
                f.write(raw_outer)
        else:
            docker_save(path, layers)
        img = f"{t}/h-{name}.ext4"
        rc, out = mkimage(["--docker-save", path], img)
        print("#", out.strip().replace(t, "$T"))
        out = out.replace(path, "TAR")  # its name must not satisfy the checks below
        left = [n for n in os.listdir(t) if n.startswith(f"h-{name}.ext4")]
        check(f"hostile {name}: refused with a message naming it",
              rc != 0 and all(w in out for w in want) and not left, f"rc={rc} left={left} out={out!r}")

    refused("dotdot", [[member("../evil", data=b"x")]], ['"../evil"', '".." in the path refused'])
    refused("dotdot-inner", [[member("a/../../evil", data=b"x")]], ['"a/../../evil"', '".." in the path refused'])
    check("hostile dotdot: nothing written beside the staging directory", not os.path.exists(f"{t}/evil"))
    refused("absolute", [[member("/etc/abs", data=b"x")]], ["/etc/abs", "absolute"])
    outside = f"{t}/outside"
    os.makedirs(outside, exist_ok=True)
    os.chmod(outside, 0o777)
    refused("symlink-escape", [[member("esc", "sym", link=outside), member("esc/pwned", data=b"x")]],
            ["esc/pwned", '"esc" is a symlink'])
    check("hostile symlink-escape: nothing written outside", os.listdir(outside) == [], os.listdir(outside))
    refused("symlink-escape-layer2", [[member("esc", "sym", link="../../../../" + outside)],
                                      [member("esc/pwned", data=b"x")]], ["esc/pwned", '"esc" is a symlink'])
    check("hostile symlink-escape-layer2: nothing written outside", os.listdir(outside) == [])
    refused("hardlink-through-symlink", [[member("esc", "sym", link=outside),
                                          member("hl", "hard", link="esc/target")]], ["hl", '"esc" is a symlink'])
    refused("through-file", [[member("f", data=b"x"), member("f/x", data=b"y")]], ["f/x", "not a directory"])
    refused("hardlink-out", [[member("hl", "hard", link="../../etc/passwd")]], ["hl", "hard link"])
    refused("hardlink-missing", [[member("hl", "hard", link="etc/passwd")]], ["hl", "etc/passwd"])

    good = tar_bytes([member("f", data=b"y" * 3000)])
    bad = bytearray(good)
    bad[0] ^= 0x01  # the name changes, the checksum does not
    refused("bad-checksum", [bytes(bad)], ["bad header checksum", "layer.tar"])
    refused("truncated-data", [good[:1024]], ["archive ends", "\"f\""])
    refused("truncated-header", [good[:300]], ["archive ends"])
    refused("bad-octal", [with_checksum(good[:100] + b"0008888\0" + good[108:])], ["\"f\"", "mode"])
    refused("bad-type", [with_checksum(good[:156] + b"S" + good[157:])], ["\"f\"", "type 'S'"])
    refused("bad-magic", [with_checksum(good[:257] + b"ustar\0" + b"99" + good[265:])], ["\"f\"", "magic"])
    # The outer tar itself cut short inside a layer.
    docker_save(f"{t}/whole.tar", [[member("f", data=b"z" * 5000)]])
    whole = open(f"{t}/whole.tar", "rb").read()
    refused("outer-truncated", None, ["archive ends"], raw_outer=whole[:2048])
    refused("no-manifest", None, ["manifest.json"], raw_outer=tar_bytes([member("x", data=b"1")]))
    refused("bad-json", [[member("f", data=b"1")]], ["manifest.json", "JSON"],
            raw_outer=tar_bytes([member("manifest.json", data=b'[{"Layers": ["a"],}]')]))
    refused("layer-missing", [[member("f", data=b"1")]], ["nope/layer.tar"],
            raw_outer=tar_bytes([member("manifest.json", data=b'[{"Layers": ["nope/layer.tar"]}]')]))
    refused("layer-escape", [[member("f", data=b"1")]], ["../x/layer.tar"],
            raw_outer=tar_bytes([member("manifest.json", data=b'[{"Layers": ["../x/layer.tar"]}]')]))


if __name__ == "__main__":
    sys.exit(main())
