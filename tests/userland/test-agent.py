#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test-agent.py: pvhv-agent and agent-run on the host, through a unix socket instead of vsock.

Runs commands through agent-run (exit codes, signals, stdio, env, cwd), speaks the protocol
of guest-abi/pvhv/agent.h directly for what a well-behaved client never does (KILL, a client
that vanishes, a slow reader, malformed frames), and runs the agent as PID 1 of a fresh PID
and mount namespace (mounts, POWEROFF).  Prints "ok - NAME" or "not ok - NAME: why" per
check and a final "N passed, M failed" line.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENT = os.path.join(ROOT, "build/userland/pvhv-agent")
RUN = os.path.join(ROOT, "build/userland/agent-run")

# guest-abi/pvhv/agent.h
MAGIC, VERSION, PAYLOAD_MAX = 0x47415650, 1, 65536
EXEC, STDIN, STDIN_EOF, KILL, POWEROFF = 1, 2, 3, 4, 5
STARTED, STDOUT, STDERR, EXIT, ERROR = 16, 17, 18, 19, 20
EXEC_STDIN = 1
EXITED, SIGNALED = 0, 1
EXIT_TIMEOUT, EXIT_KILLED = 1, 2
E_PROTO, E_EXEC, E_BUSY, E_DENIED = 1, 2, 3, 4

passed = failed = 0
agent_pid = 0  # the agent the main checks talk to


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name}: {why}")
    sys.stdout.flush()


def frame(ftype, payload=b"", magic=MAGIC, version=VERSION, flags=0, length=None):
    n = len(payload) if length is None else length
    return struct.pack("<IHHII", magic, version, ftype, flags, n) + payload


def exec_payload(argv, env=("PATH=/usr/bin:/bin",), cwd="", stdin=False, timeout_ms=0,
                 argc=None, envc=None):
    strs = [cwd] + list(argv) + list(env)
    body = b"".join(s.encode() + b"\0" for s in strs)
    return struct.pack("<IIII", EXEC_STDIN if stdin else 0,
                       len(argv) if argc is None else argc,
                       len(env) if envc is None else envc, timeout_ms) + body


class Conn:
    def __init__(self, path, timeout=15):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def frame(self):
        """Next (type, payload), or None at end of stream."""
        if not self._fill(16):
            return None
        magic, version, ftype, flags, n = struct.unpack("<IHHII", self.buf[:16])
        assert magic == MAGIC and version == VERSION and flags == 0 and n <= PAYLOAD_MAX, \
            f"bad frame header from the agent: {self.buf[:16].hex()}"
        if not self._fill(16 + n):
            raise AssertionError("agent closed inside a frame")
        payload, self.buf = self.buf[16:16 + n], self.buf[16 + n:]
        return ftype, payload

    def until_end(self):
        """All frames up to the end of the stream."""
        frames = []
        while True:
            f = self.frame()
            if f is None:
                return frames
            frames.append(f)

    def close(self):
        self.s.close()


def decode_exit(p):
    how, status, flags, _, wall, user, sys_, rss = struct.unpack("<IIIIQQQQ", p)
    return dict(how=how, status=status, flags=flags, wall_us=wall, user_us=user, sys_us=sys_,
                maxrss_kib=rss)


def decode_error(p):
    code, err = struct.unpack("<II", p[:8])
    return code, err, p[8:].decode()


def run(sock, *args, stdin=b"", extra=()):
    return subprocess.run([RUN, *extra, f"unix:{sock}", "--", *args], input=stdin,
                          capture_output=True, timeout=60)


def proc_status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except (FileNotFoundError, ProcessLookupError):
        return None


def gone(pid, seconds=5):
    """True when pid no longer exists (reaped) within the time."""
    end = time.time() + seconds
    while time.time() < end:
        st = proc_status(pid)
        if st is None:
            return True
        time.sleep(0.05)
    return False


def group_members(pgid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    out.append(int(d))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return out


def test_client(sock):
    for code in (0, 3, 255):
        r = run(sock, "sh", "-c", f"exit {code}")
        check(f"exit code {code}", r.returncode == code, f"agent-run exited {r.returncode}")
    r = run(sock, "sh", "-c", "kill -TERM $$")
    check("killed by SIGTERM gives 143", r.returncode == 143, f"exited {r.returncode}")
    r = run(sock, "sh", "-c", "kill -KILL $$")
    check("killed by SIGKILL gives 137", r.returncode == 137, f"exited {r.returncode}")
    r = run(sock, "sh", "-c", "echo to-out; echo to-err >&2; echo more-out")
    check("stdout and stderr kept apart",
          r.stdout == b"to-out\nmore-out\n" and r.stderr == b"to-err\n",
          f"stdout {r.stdout!r} stderr {r.stderr!r}")
    data = os.urandom(1 << 20)
    r = run(sock, "cat", stdin=data)
    check("stdin: cat returns 1 MiB byte-exact", r.returncode == 0 and r.stdout == data,
          f"status {r.returncode}, {len(r.stdout)} bytes back, equal={r.stdout == data}")
    r = run(sock, "sh", "-c", "wc -c", stdin=b"", extra=("-n",))
    check("no stdin: the command reads end of file", r.stdout.strip() == b"0", f"{r.stdout!r}")
    with tempfile.TemporaryDirectory() as d:
        r = run(sock, "sh", "-c", 'echo "$GREETING"; pwd; env | sort',
                extra=("-e", "GREETING=hello there", "-e", "PATH=/usr/bin:/bin", "-C", d))
        lines = r.stdout.decode().splitlines()
        envs = sorted(x for x in lines[2:] if x.split("=")[0] not in ("PWD", "SHLVL", "_"))
        check("env and cwd honoured, and only the env given",
              lines[:2] == ["hello there", os.path.realpath(d)] and
              envs == ["GREETING=hello there", "PATH=/usr/bin:/bin"], f"{lines}")
    r = run(sock, "no-such-command-here")
    check("missing command: agent-run exits 127 with the reason",
          r.returncode == 127 and b"exec no-such-command-here: No such file or directory" in r.stderr,
          f"status {r.returncode} stderr {r.stderr!r}")
    r = run(sock, "true", extra=("-C", "/no/such/dir"))
    check("missing directory: the reason comes back",
          r.returncode == 127 and b"chdir /no/such/dir: No such file or directory" in r.stderr,
          f"status {r.returncode} stderr {r.stderr!r}")
    t0 = time.time()
    r = run(sock, "sleep", "30", extra=("-t", "1"))
    check("time limit: killed after 1 s, 137", r.returncode == 137 and time.time() - t0 < 10,
          f"status {r.returncode} after {time.time() - t0:.1f} s")
    t0 = time.time()
    procs = [subprocess.Popen([RUN, f"unix:{sock}", "--", "sleep", "1"]) for _ in range(4)]
    codes = [p.wait(timeout=30) for p in procs]
    check("four connections served at once", codes == [0] * 4 and time.time() - t0 < 3.5,
          f"codes {codes} in {time.time() - t0:.1f} s")


def proto_missing_command(sock):
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["no-such-command-here"])))
    fr = c.until_end()
    ok = len(fr) == 1 and fr[0][0] == ERROR
    code, err, text = decode_error(fr[0][1]) if ok else (0, 0, "")
    check("missing command: ERROR EXEC, ENOENT, clear text, then close",
          ok and code == E_EXEC and err == 2 and text == "exec no-such-command-here: No such file or directory",
          f"{fr}")


def proto_hostile_name(sock):
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["evil\x1b[2J\x07name"])))
    fr = c.until_end()
    text = decode_error(fr[0][1])[2] if fr and fr[0][0] == ERROR else ""
    check("control characters in argv[0] come back as '?'",
          text == "exec evil?[2J?name: No such file or directory", f"{fr}")


def proto_exit(sock):
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sh", "-c", "exit 3"])))
    fr = c.until_end()
    types = [t for t, _ in fr]
    ex = decode_exit(fr[-1][1]) if types and types[-1] == EXIT else {}
    check("STARTED then EXIT with how, status and figures",
          types == [STARTED, EXIT] and ex["how"] == EXITED and ex["status"] == 3 and ex["maxrss_kib"] > 0,
          f"{fr}")


def proto_cpu_time(sock):
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])))
    fr = c.until_end()
    ex = decode_exit(fr[-1][1]) if fr and fr[-1][0] == EXIT else {}
    check("EXIT reports CPU and wall time",
          ex and ex["user_us"] + ex["sys_us"] > 50000 and ex["wall_us"] >= 50000,
          f"{ex}")


def proto_kill_group(sock):
    # KILL reaches the whole group: the shell waits for its background sleep in the trap,
    # so it exits 5 only if the sleep got the signal too.
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sh", "-c", 'sleep 1000 & trap "wait; exit 5" TERM; wait'])))
    t, p = c.frame()
    pid = struct.unpack("<I", p)[0] if t == STARTED else 0
    time.sleep(0.3)
    members = group_members(pid)
    c.send(frame(KILL, struct.pack("<I", 15)))
    fr = c.until_end()
    ex = decode_exit(fr[-1][1]) if fr and fr[-1][0] == EXIT else {}
    check("KILL signals the whole process group",
          len(members) >= 2 and ex and ex["how"] == EXITED and ex["status"] == 5 and
          ex["flags"] & EXIT_KILLED and all(gone(m) for m in members),
          f"members {members} exit {ex} frames {fr}")


def proto_disconnect(sock):
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sh", "-c", "sleep 1000 & sleep 1000"])))
    t, p = c.frame()
    pid = struct.unpack("<I", p)[0] if t == STARTED else 0
    time.sleep(0.3)
    members = group_members(pid)
    c.close()
    check("client disconnect kills the command and its group",
          len(members) >= 2 and all(gone(m) for m in members), f"members {members}")


def proto_timeout(sock):
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sleep", "30"], timeout_ms=300)))
    fr = c.until_end()
    ex = decode_exit(fr[-1][1]) if fr and fr[-1][0] == EXIT else {}
    check("time limit: EXIT SIGNALED 9 with the TIMEOUT flag",
          ex and ex["how"] == SIGNALED and ex["status"] == 9 and ex["flags"] & EXIT_TIMEOUT, f"{fr}")


def proto_flood(sock):
    # A command writing as fast as it can to a client reading 64 KiB every 20 ms.
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["cat", "/dev/zero"])))
    t, p = c.frame()
    pid = struct.unpack("<I", p)[0] if t == STARTED else 0
    st = proc_status(pid) or {}
    session = int(st.get("PPid", "0"))
    got, end = 0, time.time() + 3
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    while time.time() < end:
        got += len(c.s.recv(65536))
        time.sleep(0.02)
    sst = proc_status(session) or {}
    hwm = int(sst.get("VmHWM", "0 kB").split()[0])
    c.close()
    check("flood to a slow reader: the agent's session stays under 4 MiB resident",
          session > 1 and 0 < hwm < 4096 and got > 1 << 20,
          f"session {session} VmHWM {hwm} KiB after {got} bytes read")
    print(f"# flood: read {got >> 20} MiB in 3 s, session VmHWM {hwm} KiB")


def sessions_of(agent_pid):
    with open(f"/proc/{agent_pid}/task/{agent_pid}/children") as f:
        return f.read().split()


def slow_reader_gets_everything(sock):
    """Output still in the pipe when the command exits reaches a client that reads only later."""
    # The command makes its stdout pipe 1 MiB (F_SETPIPE_SZ), fills it and exits at once.
    fill = "import fcntl, sys; fcntl.fcntl(1, 1031, 1 << 20); sys.stdout.buffer.write(bytes(1000000))"
    c = Conn(sock)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.send(frame(EXEC, exec_payload([sys.executable, "-c", fill])))
    time.sleep(3.5)
    out, ex = 0, {}
    while True:
        f = c.frame()
        if f is None:
            break
        if f[0] == STDOUT:
            out += len(f[1])
        if f[0] == EXIT:
            ex = decode_exit(f[1])
    check("a client that reads 3.5 s after the command exited gets all its output, then EXIT 0",
          out == 1000000 and ex.get("how") == EXITED and ex.get("status") == 0, f"{out} bytes, exit {ex}")


def busy(sock):
    """64 sessions at once are served; the 65th connection is refused with ERROR BUSY."""
    conns, pids = [], []
    end = time.time() + 10
    while sessions_of(agent_pid) and time.time() < end:  # the earlier tests' sessions end
        time.sleep(0.05)
    try:
        for _ in range(64):
            c = Conn(sock)
            c.send(frame(EXEC, exec_payload(["sleep", "30"])))
            conns.append(c)
        for i, c in enumerate(conns):
            f = c.frame()
            assert f and f[0] == STARTED, f"connection {i + 1} of 64: {f}"
            pids.append(struct.unpack("<I", f[1])[0])
        extra = Conn(sock)
        fr = extra.until_end()
    finally:
        for c in conns:
            c.close()
    check("64 sessions at once, the 65th gets ERROR BUSY",
          all(pids) and len(fr) == 1 and fr[0][0] == ERROR and decode_error(fr[0][1])[0] == E_BUSY,
          f"{sum(1 for x in pids if x)} started, then {fr}")
    check("closing them kills all 64 commands", all(gone(x, 10) for x in pids if x), "some still run")
    time.sleep(0.5)  # let the agent reap its sessions


def expect_refused(sock, name, data, want_text, half_close=False):
    c = Conn(sock)
    c.send(data)
    if half_close:
        c.s.shutdown(socket.SHUT_WR)
    try:
        fr = c.until_end()
    except (ConnectionResetError, AssertionError) as e:
        fr = [("exception", str(e))]
    ok = len(fr) == 1 and fr[0][0] == ERROR
    code, _, text = decode_error(fr[0][1]) if ok else (0, 0, "")
    check(f"malformed: {name} -> ERROR and close", ok and code == E_PROTO and want_text in text,
          f"frames {fr}")


def test_malformed(sock):
    ex = exec_payload(["true"])
    expect_refused(sock, "bad magic", frame(EXEC, ex, magic=0x12345678), "magic 0x12345678")
    expect_refused(sock, "bad version", frame(EXEC, ex, version=7), "version 7")
    expect_refused(sock, "flags not 0", frame(EXEC, ex, flags=1), "flags 0x1")
    expect_refused(sock, "huge length", frame(EXEC, length=0x7fffffff), "length 2147483647 > maximum 65536")
    expect_refused(sock, "truncated frame", frame(EXEC, ex, length=len(ex) + 100),
                   "closed inside a frame", half_close=True)
    expect_refused(sock, "unknown type", frame(99), "type 99 frame before EXEC")
    expect_refused(sock, "argv count beyond the payload", frame(EXEC, exec_payload(["true"], argc=1000)),
                   "strings cannot fit")
    expect_refused(sock, "last string without its NUL", frame(EXEC, ex[:-1]), "not NUL-terminated")
    expect_refused(sock, "env count beyond the payload", frame(EXEC, exec_payload(["true"], envc=3)),
                   "env[1] not NUL-terminated")
    expect_refused(sock, "STDIN before EXEC", frame(STDIN, b"x"), "STDIN frame before EXEC")
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sleep", "30"])) + frame(EXEC, ex))
    fr = c.until_end()
    check("malformed: a second EXEC -> ERROR after STARTED, command killed",
          [t for t, _ in fr] == [STARTED, ERROR] and "EXEC frame not allowed" in decode_error(fr[1][1])[2]
          and gone(struct.unpack("<I", fr[0][1])[0]), f"{fr}")
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sleep", "30"])) + frame(KILL, struct.pack("<I", 0)))
    fr = c.until_end()
    check("malformed: KILL with signal 0 -> ERROR",
          [t for t, _ in fr] == [STARTED, ERROR] and "signal 0 not in 1..64" in decode_error(fr[1][1])[2],
          f"{fr}")
    c = Conn(sock)
    c.send(frame(EXEC, exec_payload(["sleep", "30"])) + frame(STDIN, b"x"))
    fr = c.until_end()
    check("malformed: STDIN when EXEC said stdin is closed -> ERROR",
          [t for t, _ in fr][-1:] == [ERROR] and "stdin is closed" in decode_error(fr[-1][1])[2], f"{fr}")
    c = Conn(sock)
    c.send(frame(POWEROFF))
    fr = c.until_end()
    check("POWEROFF refused when not init and not allowed",
          len(fr) == 1 and fr[0][0] == ERROR and decode_error(fr[0][1])[0] == E_DENIED, f"{fr}")
    r = run(sock, "sh", "-c", "echo still serving")
    check("the agent still serves the next client", r.returncode == 0 and r.stdout == b"still serving\n",
          f"{r}")


def test_init(log):
    """The agent as PID 1 of new PID and mount namespaces: mounts, orphan reaping, POWEROFF."""
    # Not under /tmp: the agent mounts a tmpfs there in its namespace.
    with tempfile.TemporaryDirectory(prefix="pvhv-agent-init.", dir="/var/tmp") as tmp:
        sock = os.path.join(tmp, "init.sock")
        p = start_agent([f"unix:{sock}"], log,
                        prefix=("unshare", "--pid", "--fork", "--mount", "--propagation", "private"))
        try:
            init_checks(sock, p)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def init_checks(sock, p):
    r = run(sock, "sh", "-c", "cat /proc/1/comm; stat -f -c %T /proc /sys /dev /tmp; "
            "sleep 0.2 & exit 0")
    check("init: PID 1 mounts proc, sysfs, devtmpfs, tmpfs",
          r.stdout.decode().split() == ["pvhv-agent", "proc", "sysfs", "tmpfs", "tmpfs"],
          f"{r.stdout!r} {r.stderr!r}")
    time.sleep(0.5)
    r = run(sock, "sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null | awk '{print $3}' | grep -c Z || true")
    check("init: orphans are reaped (no zombies)", r.stdout.strip() == b"0", f"{r.stdout!r}")
    c = Conn(sock)
    c.send(frame(POWEROFF))
    fr = c.until_end()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "still running"
    # reboot(RB_POWER_OFF) in a PID namespace ends its init as if by SIGINT.
    check("init: POWEROFF ends the namespace through reboot()", fr == [] and rc in (-2, 130),
          f"frames {fr}, unshare status {rc}")


def start_agent(args, log, prefix=()):
    """An agent started with --listen ARGS[0] ARGS[1:]; it has said "ready" when this returns, or died."""
    log.flush()
    start = os.path.getsize(log.name)
    p = subprocess.Popen([*prefix, AGENT, "--listen", *args], stdout=log, stderr=log)
    for _ in range(100):
        log.flush()
        with open(log.name) as f:
            f.seek(start)
            if "ready" in f.read() or p.poll() is not None:
                break
        time.sleep(0.05)
    return p


def test_once(tmp, log):
    sock = os.path.join(tmp, "once.sock")
    p = start_agent([f"unix:{sock}", "--once"], log)
    r = run(sock, "sh", "-c", "exit 6")
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "still running"
    check("--once: one command, then the agent exits 0", r.returncode == 6 and rc == 0,
          f"command {r.returncode}, agent {rc}")


def test_tcp_and_vsock(log):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = start_agent([f"tcp:{port}"], log)
    try:
        r = subprocess.run([RUN, f"tcp:127.0.0.1:{port}", "--", "sh", "-c", "echo over tcp; exit 4"],
                           capture_output=True, timeout=30)
        check("tcp loopback listener", r.returncode == 4 and r.stdout == b"over tcp\n", f"{r}")
    finally:
        p.terminate()
        p.wait(timeout=10)
    try:
        socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM).close()
    except (OSError, AttributeError):
        print("# no AF_VSOCK on this host: the vsock listener is not tried")
        return
    p = start_agent(["vsock:52017"], log)
    alive = p.poll() is None
    p.terminate()
    p.wait(timeout=10)
    check("vsock listener binds (no vsock loopback here to connect through)", alive, "agent exited")


def test_linux_init(tmp):
    """Debian's kernel (build/linux, scripts/fetch-linux.sh) under plain QEMU with the agent as
    /init: it mounts, loads the virtio and vsock modules from the image and listens on vsock."""
    linux = os.path.join(ROOT, "build/linux")
    debs = [f for f in os.listdir(os.path.join(linux, "deb")) if f.startswith("linux-image-")] \
        if os.path.isdir(os.path.join(linux, "deb")) else []
    vmlinux = os.path.join(linux, "vmlinux")
    if not debs or not os.path.exists(vmlinux):
        print("# no build/linux (scripts/fetch-linux.sh): the agent is not tried as a Linux init")
        return
    root = os.path.join(tmp, "initrd")
    os.makedirs(root)
    mods = ["kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
            "kernel/drivers/virtio/virtio_mmio.ko", "kernel/net/vmw_vsock/vsock.ko",
            "kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko",
            "kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko"]
    fs = subprocess.run(f"dpkg-deb --fsys-tarfile {os.path.join(linux, 'deb', debs[0])} | "
                        f"tar -x -C {root} --wildcards " + " ".join(f"'./lib/modules/*/{m}'" for m in mods),
                        shell=True, capture_output=True)
    subprocess.run(["cp", AGENT, os.path.join(root, "init")], check=True)
    cpio = os.path.join(tmp, "initrd.cpio")
    subprocess.run(f"cd {root} && find . | cpio -o -H newc --quiet > {cpio}", shell=True, check=True)
    serial = os.path.join(tmp, "serial.log")
    p = subprocess.Popen(["qemu-system-x86_64", "-M", "q35", "-m", "512", "-display", "none", "-no-reboot",
                          "-serial", f"file:{serial}", "-kernel", vmlinux, "-initrd", cpio,
                          "-append", "console=ttyS0 rdinit=/init panic=-1 quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log, end = "", time.time() + 120
    try:
        while time.time() < end and p.poll() is None and "ready (" not in log:
            time.sleep(0.5)
            if os.path.exists(serial):
                with open(serial, errors="replace") as f:
                    log = f.read()
    finally:
        p.kill()
        p.wait()
    lines = [x for x in log.splitlines() if "pvhv-agent" in x or "Unknown symbol" in x]
    check("Linux init: mounts, loads virtio and vsock modules, listens on vsock",
          fs.returncode == 0 and lines == ["pvhv-agent[1]: ready (1 listener, init)"],
          f"tar {fs.returncode} {fs.stderr[-200:]!r}; agent lines {lines}; log tail {log[-600:]!r}")


def main():
    for f in (AGENT, RUN):
        if not os.access(f, os.X_OK):
            print(f"not ok - {f} not built (make userland)")
            print("0 passed, 1 failed")
            return 1
    with tempfile.TemporaryDirectory(prefix="pvhv-agent-test.") as tmp:
        sock = os.path.join(tmp, "agent.sock")
        log = open(os.path.join(tmp, "agent.log"), "w+")
        agent = start_agent([f"unix:{sock}"], log)
        global agent_pid
        agent_pid = agent.pid
        try:
            for group in (test_client, proto_missing_command, proto_hostile_name, proto_exit, proto_cpu_time,
                          proto_kill_group, proto_disconnect, proto_timeout, proto_flood, slow_reader_gets_everything, busy, test_malformed):
                try:
                    group(sock)
                except Exception as e:  # a hung or broken answer fails this group only
                    check(group.__name__, False, f"{type(e).__name__}: {e}")
            check("the agent is still running", agent.poll() is None, f"status {agent.poll()}")
        finally:
            agent.terminate()
            agent.wait(timeout=10)
        # POWEROFF with --allow-poweroff outside init: the agent exits 0.
        sock2 = os.path.join(tmp, "agent2.sock")
        agent = start_agent([f"unix:{sock2}", "--allow-poweroff"], log)
        c = Conn(sock2)
        c.send(frame(POWEROFF))
        c.until_end()
        try:
            rc = agent.wait(timeout=10)
        except subprocess.TimeoutExpired:
            agent.kill()
            rc = "still running"
        check("POWEROFF with --allow-poweroff ends the agent", rc == 0, f"status {rc}")
        test_tcp_and_vsock(log)
        test_once(tmp, log)
        if os.geteuid() == 0:
            test_init(log)
        else:
            print("# not root: the PID 1 checks need unshare --pid --mount")
        test_linux_init(tmp)
        log.seek(0)
        logtext = log.read()
        check("the agent's log has no control characters (it quotes what clients sent)",
              "evil?[2J?name" in logtext and not any(ord(ch) < 32 and ch != "\n" for ch in logtext),
              "escape or bell in the log")
        log.seek(0)
        print("# agent log:\n" + "".join("#   " + line for line in log.readlines()[-20:]))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
