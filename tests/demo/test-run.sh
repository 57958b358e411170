#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test-run.sh: `make run` without a terminal: the control domain's first session works,
# and a session from this machine through pvhd's TCP API does too.
#
# Runs scripts/run-demo.sh with stdin from /dev/null (the control domain
# then runs pvhctl hello, images, a `pvhctl run` of `uname -sr` in a sandbox
# booted from sandbox.ext4, ps and events by itself, then prints its pvhd's
# token and waits) on a free loopback port (PVHV_DEMO_PORT), takes the token
# from the console, runs build/userland/pvhctl --host against the demo from
# here (hello, then `run --name hostrun sandbox.ext4 -- uname -sr`) and checks
# their exit status and what everything printed.  Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
log=build/demo/test-run.log
tok=build/demo/test-run.token
mkdir -p build/demo
rm -f "$tok"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PVHV_DEMO_PORT=$port PVHV_DEMO_TIMEOUT=${PVHV_DEMO_TIMEOUT:-300} bash scripts/run-demo.sh </dev/null >"$log.raw" 2>&1 &
demo=$!
# The token, once the control domain prints it (the demo's own session comes first).
token=
for _ in $(seq 1 500); do
	token=$(tr -d '\r' <"$log.raw" | sed -n 's/^\[ctl\] PVHV-DEMO-TOKEN \([0-9a-f]*\)$/\1/p' | head -n 1)
	[ -n "$token" ] && break
	kill -0 "$demo" 2>/dev/null || break
	sleep 0.5
done
host_rc=none hello_rc=none
if [ -n "$token" ]; then
	(umask 077 && echo "$token" >"$tok")
	build/userland/pvhctl --host "127.0.0.1:$port" --token-file "$tok" hello >build/demo/test-run.hello 2>&1
	hello_rc=$?
	build/userland/pvhctl --host "127.0.0.1:$port" --token-file "$tok" run --name hostrun sandbox.ext4 -- uname -sr \
		</dev/null >build/demo/test-run.host 2>&1
	host_rc=$?
fi
wait "$demo"
rc=$?
tr -d '\r' <"$log.raw" >"$log"
{
	echo "[host] pvhctl --host hello: status $hello_rc: $(tr '\n' ' ' <build/demo/test-run.hello 2>/dev/null)"
	echo "[host] pvhctl --host run: status $host_rc: $(tr '\n' ' ' <build/demo/test-run.host 2>/dev/null)"
} >>"$log"
rm -f "$tok" "$log.raw"
pass=0 fail=0
check() {
	if grep -qE -- "$2" "$log"; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1 (no line matching /$2/ in $log)"
		fail=$((fail + 1))
	fi
}
check "pvhctl hello answers" '^\[ctl\] pvhv protocol 2, ABI [0-9]+\.[0-9]+, [0-9]+ CPUs'
check "the sandbox image is listed" '^\[ctl\] sandbox\.ext4 +[0-9]+ '
check "pvhctl run prints the sandbox's uname" '^\[ctl\] Linux [0-9]+\.[0-9]+\.[0-9]+-[0-9]+-cloud-amd64$'
check "pvhctl run returns the command's status" '^\[ctl\] PVHV-DEMO-RUN-EXIT=0$'
check "the sandbox was destroyed after the command" '^pvhv: dom demo1 stopped: destroyed through the management port$'
check "pvhd's image store is on the passed-through NVMe" '^\[ctl\] PVHV-STORE-MOUNTED /dev/nvme0n1 ext4$'
check "the uplink (passed-through virtio-net-pci) has a lease from QEMU" '^\[ctl\] PVHV-UPLINK-LEASE eth[0-9] 10\.0\.2\.15$'
check "pvhd routes the sandboxes over the uplink" '^\[ctl\] PVHV-DEMO-PVHD .*pvhd: uplink: up: eth0 \(10\.0\.0\.1/24\) -> eth[0-9], dns 10\.0\.2\.3'
check "pvhctl --host hello from this machine exits 0" '^\[host\] pvhctl --host hello: status 0: pvhv protocol 2, '
check "pvhctl --host run from this machine exits 0 with the sandbox's uname" '^\[host\] pvhctl --host run: status 0: Linux [0-9]+\.[0-9]+\.[0-9]+-[0-9]+-cloud-amd64 $'
check "the control domain saw the host's session through pvhd" '^\[ctl\] PVHV-DEMO-HOST [0-9]+ requests; 0 refused$'
check "pvhd answers its API at boot" '^\[ctl\] \{"name":"pvhv[^"]*","api":"v1","protocol":2,'
check "the control domain powered the machine off" '^run-demo: QEMU exit status 1: '
if [ "$rc" = 0 ]; then
	echo "ok - run-demo.sh exits 0"
	pass=$((pass + 1))
else
	echo "not ok - run-demo.sh exits $rc; the log's tail:"
	tail -n 20 "$log" | sed 's/^/#   /'
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
