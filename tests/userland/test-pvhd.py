#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test-pvhd.py: pvhd on the host, against hostile and clumsy HTTP clients.

Starts build/userland/pvhd on a unix socket in a temporary directory (no pvhv behind it: every
management call gets 503) and checks what needs no pvhv: routing (404, 405 with the allowed
methods), the request limits and rejections (400, 411/413/414/431, 501, 505), JSON bodies
refused with the field and byte, keep-alive and pipelining, HTTP/1.0, Expect: 100-continue,
the timeouts of a slow client, the limit on clients at once, and clients that vanish; then
pvhd --tcp: its token file (made 0600, reused), and 401 for every request without the token.  Prints
"ok - NAME" or "not ok - NAME: why" per check and a final "N passed, M failed" line.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PVHD = os.path.join(ROOT, "build/userland/pvhd")
results = []


def check(name, cond, why=""):
    results.append(bool(cond))
    print(("ok - %s" % name) if cond else ("not ok - %s: %s" % (name, why)))


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    return s


def read_response(s, buf=b""):
    """One response from s (buf: bytes already read): (status, headers, body, rest), or None at EOF."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    return status, hdrs, rest[:n], rest[n:]


def request(path, raw):
    s = connect(path)
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass   # pvhd answered (and closed) before reading it all: its answer still counts
    r = read_response(s)
    s.close()
    return r


def fault(r):
    try:
        return json.loads(r[2])["fault_message"]
    except (TypeError, ValueError, KeyError):
        return None


def req(method, target, body=None, extra=""):
    b = b"" if body is None else body.encode() if isinstance(body, str) else body
    cl = "" if body is None else "Content-Length: %d\r\n" % len(b)
    return ("%s %s HTTP/1.1\r\nHost: pvhd\r\n%s%s\r\n" % (method, target, cl, extra)).encode() + b


def main():
    if not os.path.exists(PVHD):
        print("not ok - build/userland/pvhd is not built")
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="pvhd-test-")
    sock = os.path.join(tmp, "pvhd.sock")
    log = open(os.path.join(tmp, "pvhd.log"), "w")
    # pvhv is nowhere: vsock CID 1 (the local loopback CID) on a port nobody listens at.
    p = subprocess.Popen([PVHD, "--socket", sock, "--to", "vsock:1:9", "--max-clients", "3"], stderr=log)
    try:
        for _ in range(50):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        check("pvhd listens on its socket, mode 0600", os.path.exists(sock) and
              (os.stat(sock).st_mode & 0o777) == 0o600, "no socket or wrong mode")
        run_checks(sock)
    finally:
        p.terminate()
        p.wait()
    tcp_checks(tmp, log)
    store_checks(tmp)
    uplink_checks(tmp)
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


def run_checks(sock):
    r = request(sock, req("GET", "/api/v1/nothing"))
    check("an unknown resource is 404 with a JSON fault",
          r and r[0] == 404 and fault(r) == "/api/v1/nothing: no such resource", repr(r))
    r = request(sock, req("DELETE", "/api/v1/info"))
    check("a wrong method is 405 naming the allowed ones",
          r and r[0] == 405 and "allowed: GET" in (fault(r) or ""), repr(r))
    r = request(sock, req("POST", "/api/v1/sandboxes/x"))
    check("405 lists every method of a resource",
          r and r[0] == 405 and "allowed: GET, PUT, DELETE" in (fault(r) or ""), repr(r))
    r = request(sock, req("GET", "/api/v1/info"))
    check("no pvhv behind it: 503 with the reason", r and r[0] == 503 and "pvhv unreachable" in (fault(r) or ""),
          repr(r))
    r = request(sock, req("GET", "/api/v1/sandboxes/a/../b"))
    check("dot segments are no resource", r and r[0] == 404, repr(r))

    # JSON bodies: what and where.
    r = request(sock, req("PUT", "/api/v1/sandboxes/web", '{"machine-config":{"vcpu_count":0}}'))
    check("a field out of range is 400 naming it and its byte",
          r and r[0] == 400 and fault(r) == "machine-config.vcpu_count: an integer 1..64 expected at byte 32", repr(r))
    r = request(sock, req("PUT", "/api/v1/sandboxes/web", '{"network":{"egress":"allow=10.0.0.1/8"}}'))
    check("an egress CIDR with host bits is 400 naming the field",
          r and r[0] == 400 and fault(r) == "network.egress: 10.0.0.1/8 has host bits set past /8", repr(r))
    r = request(sock, req("PUT", "/api/v1/sandboxes/web",
                          '{"network":{"ports":[{"host_port":8080,"port":80},{"host_port":8080,"port":81}]}}'))
    check("a host port published twice in one request is 400",
          r and r[0] == 400 and fault(r) == "network.ports[1]: TCP host port 8080 published twice", repr(r))
    r = request(sock, req("PUT", "/api/v1/sandboxes/web", '{"network":{"egress":"allow=x.org;reboot"}}'))
    check("an allow-list item that is not a DNS name is 400",
          r and r[0] == 400 and "is neither a CIDR nor a DNS name" in (fault(r) or ""), repr(r))
    r = request(sock, req("PUT", "/api/v1/sandboxes/web", '{"paused":false,"extra":1}'))
    check("an unknown key is 400", r and r[0] == 400 and 'unknown key "extra"' in (fault(r) or ""), repr(r))
    r = request(sock, req("PUT", "/api/v1/sandboxes/web", "[" * 40))
    check("deep nesting is 400", r and r[0] == 400 and "body: JSON" in (fault(r) or ""), repr(r))
    r = request(sock, b"PUT /api/v1/sandboxes/web HTTP/1.1\r\nContent-Length: 70000\r\n\r\n")
    check("a JSON body over 64 KiB is 413 before it is read, and the connection closes",
          r and r[0] == 413 and r[1].get("connection") == "close", repr(r))
    r = request(sock, req("PUT", "/api/v1/images/x"))
    check("an image without Content-Length is 411", r and r[0] == 411, repr(r))
    r = request(sock, req("PUT", "/api/v1/images/..", "x"))
    check("a bad image name is 400 (or no resource)", r and r[0] in (400, 404), repr(r))

    # The head.
    bad = [
        ("a request line without a version", b"GET /\r\n\r\n", 400),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\n\r\n", 505),
        ("Transfer-Encoding", b"PUT /api/v1/images/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        ("two Content-Lengths", b"PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("a bare LF", b"GET / HTTP/1.1\nHost: x\n\n", 400),
        ("a NUL in the head", b"GET /\0 HTTP/1.1\r\n\r\n", 400),
        ("a target over 255 bytes", b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n\r\n", 414),
        ("a head over 8 KiB", b"GET / HTTP/1.1\r\nX: " + b"a" * 9000, 431),
        ("too many headers", b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * 60 + b"\r\n", 431),
    ]
    for name, raw, status in bad:
        r = request(sock, raw)
        check("%s is %d and closes" % (name, status),
              r and r[0] == status and r[1].get("connection") == "close" and fault(r), repr(r))

    # Keep-alive: two requests in one write, two responses in order; HTTP/1.0 closes.
    s = connect(sock)
    s.sendall(req("GET", "/api/v1/nothing") + req("DELETE", "/api/v1/info"))
    a = read_response(s)
    b = a and read_response(s, a[3])
    check("pipelined requests are answered in order on one connection",
          a and b and a[0] == 404 and b[0] == 405 and a[1].get("connection") == "keep-alive", repr((a, b)))
    s.close()
    s = connect(sock)
    s.sendall(b"GET /x HTTP/1.0\r\n\r\n")
    a = read_response(s)
    check("HTTP/1.0 without keep-alive: answered, then closed",
          a and a[0] == 404 and a[1].get("connection") == "close" and s.recv(10) == b"", repr(a))
    s.close()

    # Expect: 100-continue: the interim answer comes before the body is sent.
    s = connect(sock)
    body = b'{"bogus":true}'
    s.sendall(b"PUT /api/v1/sandboxes/web HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
              % len(body))
    interim = s.recv(100)
    s.sendall(body)
    a = read_response(s)
    check("Expect: 100-continue gets 100 first, then the answer to the body",
          interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n") and a and a[0] == 400, repr((interim, a)))
    s.close()

    # A client that goes away in the middle of a body does not hurt the next one.
    s = connect(sock)
    s.sendall(b"PUT /api/v1/sandboxes/web HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"boot")
    s.close()
    r = request(sock, req("GET", "/api/v1/nothing"))
    check("a client gone mid-body leaves pvhd serving", r and r[0] == 404, repr(r))

    # Slow clients: a head that dribbles in is cut at 10 s with 408; the limit on clients
    # (3 here) makes a fourth one wait for nothing: 503 at once.
    time.sleep(0.5)   # the children of the checks above have ended
    slow = []
    for _ in range(3):
        s = connect(sock)
        s.sendall(b"GET /api/v1/info HTTP/1.1\r\n")
        slow.append(s)
    time.sleep(0.5)
    t0 = time.time()
    r = request(sock, req("GET", "/api/v1/nothing"))
    check("a client beyond --max-clients gets 503 at once",
          r and r[0] == 503 and time.time() - t0 < 2, repr(r))
    answers = [read_response(s) for s in slow]
    waited = time.time() - t0
    check("a head not complete within 10 s gets 408",
          all(a and a[0] == 408 for a in answers) and 8 < waited < 15, "%r after %.1f s" % (answers, waited))
    for s in slow:
        s.close()
    time.sleep(1.5)
    r = request(sock, req("GET", "/api/v1/nothing"))
    check("once they are gone, clients are served again", r and r[0] == 404, repr(r))


def tcp_request(port, raw):
    """One request on TCP: (status, headers, body, rest), or None when nothing listens or answers."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
    except OSError:
        return None
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = read_response(s)
    s.close()
    return r


def start_tcp(tmp, log, token_file):
    """pvhd with --tcp on a free loopback port: (process, port), once it accepts."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    p = subprocess.Popen([PVHD, "--socket", os.path.join(tmp, "tcp.sock"), "--tcp", "127.0.0.1:%d" % port,
                          "--token-file", token_file, "--to", "vsock:1:9"], stderr=log)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return p, port


def tcp_checks(tmp, log):
    """--tcp: every request bears the token from --token-file (made 0600 once, then reused)."""
    token_file = os.path.join(tmp, "state", "token")
    p, port = start_tcp(tmp, log, token_file)
    try:
        st = os.stat(token_file) if os.path.exists(token_file) else None
        token = open(token_file).read() if st else ""
        check("--tcp makes a token file, mode 0600, of 64 hex digits",
              st and (st.st_mode & 0o777) == 0o600 and re.fullmatch(r"[0-9a-f]{64}\n", token),
              "%r %r" % (st, token))
        token = token.strip()
        r = tcp_request(port, req("GET", "/api/v1/info"))
        check("TCP without a token: 401 with a fault",
              r and r[0] == 401 and "no token" in (fault(r) or ""), repr(r))
        r = tcp_request(port, req("GET", "/api/v1/info", extra="Authorization: Bearer %s\r\n" % ("0" * 64)))
        check("TCP with a wrong token: 401", r and r[0] == 401 and "wrong" in (fault(r) or ""), repr(r))
        r = tcp_request(port, req("GET", "/api/v1/info", extra="Authorization: Bearer %s\r\n" % token[:-1]))
        check("TCP with a token one digit short: 401", r and r[0] == 401, repr(r))
        # Refused before anything is read or done: the body is left and the connection closes.
        r = tcp_request(port, req("PUT", "/api/v1/images/x", "y" * 100000))
        check("TCP upload without a token: 401, connection closed",
              r and r[0] == 401 and r[1].get("connection") == "close", repr(r and r[:2]))
        # With it the request reaches the API: pvhv is nowhere here, so 503 from the resource
        # (200 with a pvhv behind it: the linux-pvhd-tcp case).
        auth = "Authorization: Bearer %s\r\n" % token
        r = tcp_request(port, req("GET", "/api/v1/info", extra=auth))
        check("TCP with the token: served (pvhv unreachable here)",
              r and r[0] == 503 and "pvhv unreachable" in (fault(r) or ""), repr(r))
        r = tcp_request(port, req("GET", "/api/v1/nothing", extra=auth))
        check("TCP with the token: routed like the unix socket", r and r[0] == 404, repr(r))
        r = request(os.path.join(tmp, "tcp.sock"), req("GET", "/api/v1/nothing"))
        check("the unix socket needs no token", r and r[0] == 404, repr(r))
        pvhctl_checks(tmp, port, token_file)
    finally:
        p.terminate()
        p.wait()
    p, port = start_tcp(tmp, log, token_file)
    try:
        again = open(token_file).read().strip()
        r = tcp_request(port, req("GET", "/api/v1/nothing", extra="Authorization: Bearer %s\r\n" % token))
        check("a restarted pvhd keeps the token", again == token and r and r[0] == 404, repr(r))
    finally:
        p.terminate()
        p.wait()
    os.chmod(token_file, 0o644)
    r = subprocess.run([PVHD, "--socket", os.path.join(tmp, "t2.sock"), "--tcp", "127.0.0.1:1",
                        "--token-file", token_file], stderr=subprocess.PIPE, timeout=10)
    check("a token file others can read is refused", r.returncode != 0 and b"mode 0600" in r.stderr,
          repr(r.stderr))


def pvhctl_checks(tmp, port, token_file):
    """pvhctl --host / --api: pvhd's refusals come back with its fault_message and status."""
    pvhctl = os.path.join(ROOT, "build/userland/pvhctl")
    host = ["--host", "127.0.0.1:%d" % port]
    env = dict(os.environ)
    env.pop("PVHCTL_TOKEN", None)

    def run(args, extra_env=None):
        e = dict(env, **(extra_env or {}))
        r = subprocess.run([pvhctl] + args, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return r.returncode, r.stderr.decode()

    rc, err = run(host + ["ps"])
    check("pvhctl --host without a token refuses to ask", rc == 1 and "needs pvhd's token" in err, err)
    rc, err = run(host + ["ps"], {"PVHCTL_TOKEN": "0" * 64})
    check("pvhctl --host with a wrong token: pvhd's 401 and message",
          rc == 1 and "(pvhd: HTTP 401)" in err and "wrong" in err, err)
    rc, err = run(host + ["--token-file", token_file, "ps"])
    check("pvhctl --host --token-file: through to pvhd's resource (503: no pvhv here)",
          rc == 1 and "pvhv unreachable" in err and "(pvhd: HTTP 503)" in err, err)
    rc, err = run(["--api", os.path.join(tmp, "tcp.sock"), "stop", "web"])
    check("pvhctl --api: the unix socket, no token", rc == 1 and "(pvhd: HTTP 503)" in err, err)


def store_checks(tmp):
    """pvhd --store DIR: a directory it cannot use, or no pvhv to restore into, stops it before it listens
    (the store itself is tested in tests/unit/userland/pvhd/store_test.c and linux-ctl-store)."""
    def start(store):
        sock = os.path.join(tmp, "store.sock")
        r = subprocess.run([PVHD, "--socket", sock, "--to", "vsock:1:9", "--store", store],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        return r.returncode, r.stderr.decode(), os.path.exists(sock)

    missing = os.path.join(tmp, "no-such-dir")
    rc, err, listened = start(missing)
    check("pvhd --store on a missing directory: named, exit 1",
          rc == 1 and "pvhd: --store: store %s: No such file or directory" % missing in err and not listened, err)
    afile = os.path.join(tmp, "a-file")
    open(afile, "w").close()
    rc, err, listened = start(afile)
    check("pvhd --store on a file: not a directory", rc == 1 and "store %s: not a directory" % afile in err, err)
    sdir = os.path.join(tmp, "store")
    os.mkdir(sdir)
    rc, err, listened = start(sdir)
    check("pvhd --store without pvhv: no restore, so no serving", rc == 1 and
          "pvhd: store %s: pvhv unreachable: " % sdir in err and not listened, err)


def uplink_checks(tmp):
    """pvhd --host-record is checked before anything starts: a bad record, a repeated name, or a record
    without --uplink stops it with the value named, exit 2, before it listens."""
    sock = os.path.join(tmp, "uplink.sock")

    def start(*args):
        r = subprocess.run([PVHD, "--socket", sock, "--to", "vsock:1:9"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        return r.returncode, r.stderr.decode(), os.path.exists(sock)

    up = ["--uplink", "eth9", "--dns", "none"]
    for arg, msg in (("a;b=10.0.2.100", '"a;b" is not a DNS name'),
                     ("files.test=10.0.2", '"10.0.2" is not an IPv4 address'),
                     ("files.test=127.0.0.1", "127.0.0.1 is not a unicast address a sandbox could reach"),
                     ("files.test", '"files.test" is not NAME=IPV4')):
        rc, err, listened = start(*(up + ["--host-record", arg]))
        check("pvhd --host-record %s: refused, named" % arg,
              rc == 2 and "pvhd: --host-record: " + msg in err and not listened, err)
    rc, err, listened = start(*(up + ["--host-record", "a.test=10.0.2.1", "--host-record", "A.test=10.0.2.2"]))
    check("pvhd --host-record twice for a name: refused", rc == 2 and "a.test defined twice" in err and not listened,
          err)
    rc, err, listened = start("--host-record", "a.test=10.0.2.1")
    check("pvhd --host-record without --uplink: refused", rc == 2 and "needs --uplink" in err and not listened, err)


if __name__ == "__main__":
    sys.exit(main())
