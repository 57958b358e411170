#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test-run.sh: `make run` without a terminal: the control domain's first session works.
#
# Runs scripts/run-demo.sh with stdin from /dev/null (the control domain
# then runs pvhctl hello, images, a `pvhctl run` of `uname -sr` in a sandbox
# booted from sandbox.ext4, ps and events by itself) and checks what it
# printed.  Last line: "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
log=build/demo/test-run.log
mkdir -p build/demo
PVHV_DEMO_TIMEOUT=${PVHV_DEMO_TIMEOUT:-300} bash scripts/run-demo.sh </dev/null 2>&1 | tr -d '\r' >"$log"
rc=${PIPESTATUS[0]}
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
check "pvhd's image store is on the control domain's third disk" '^\[ctl\] PVHV-STORE-MOUNTED /dev/vdc ext4$'
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
