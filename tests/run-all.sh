#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-all.sh: every pvhv test suite -- unit (Criterion), bundle and image tools, sandbox agent, pvhd, virtio fuzzing, integration (QEMU, console input, Bochs).
# Fetches the Debian kernel for the Linux cases first (scripts/fetch-linux.sh).
#
# Prints each suite's own output, then one line per suite and a final
# "N passed, M failed" line.  Exits 1 if anything failed or a suite could
# not run.  Extra arguments go to tests/integration/run.py (e.g. -k hello).
# Under CI=true every integration timeout is tripled
# (PVHV_ITEST_TIMEOUT_SCALE, unless already set).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${CI:-}" = true ] && [ -z "${PVHV_ITEST_TIMEOUT_SCALE:-}" ]; then
	export PVHV_ITEST_TIMEOUT_SCALE=3
fi

total_pass=0
total_fail=0
report=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# suite NAME PASSED FAILED NOTE
record() {
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	report+=("$(printf '%-12s %4d passed, %4d failed%s' "$1" "$2" "$3" "${4:+  ($4)}")")
}

# Last "N passed, M failed" line of a file -> "N M", or nothing.
last_counts() {
	grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1 | sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/'
}

# ---- unit tests (Criterion)
echo "=== unit: build/unit/unit-tests"
if [ -x build/unit/unit-tests ]; then
	build/unit/unit-tests 2>&1 | tee "$tmp/unit.out"
	rc=${PIPESTATUS[0]}
	syn=$(grep -E 'Synthesis: Tested: [0-9]+ \| Passing: [0-9]+ \| Failing: [0-9]+ \| Crashing: [0-9]+' "$tmp/unit.out" | tail -n 1)
	if [ -n "$syn" ]; then
		tested=$(sed -E 's/.*Tested: ([0-9]+).*/\1/' <<<"$syn")
		passing=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$syn")
		failed=$((tested - passing))
		note=""
		if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
			failed=1
			note="exit status $rc"
		fi
		record unit "$passing" "$failed" "$note"
	else
		record unit 0 1 "no Criterion synthesis line, exit status $rc"
	fi
else
	echo "build/unit/unit-tests is missing (make unit-bin)"
	record unit 0 1 "binary missing"
fi

# suite NAME COMMAND...: runs it, shows its output, records the counts of
# its last "N passed, M failed" line (a non-zero exit with none failed
# still counts as one failure).
suite() {
	local name=$1 rc counts p f note=""
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$tmp/$name.out"
	rc=${PIPESTATUS[0]}
	counts=$(last_counts "$tmp/$name.out")
	if [ -z "$counts" ]; then
		record "$name" 0 1 "no 'N passed, M failed' line, exit status $rc"
		return
	fi
	read -r p f <<<"$counts"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		note="exit status $rc"
	fi
	record "$name" "$p" "$f" "$note"
}

# Bundle tool.
suite tools bash tests/tools/test-bundle.sh
# Sandbox root images from docker-save tars and OCI layouts made by the test (debugfs reads them back).
suite mkimage python3 tests/tools/test-mkimage.py

# The virtio transport and queues, and the vsock devices on the router, under
# libFuzzer for a bounded time each (FUZZ_SECONDS: 20 here, so that eight
# targets leave room for the Linux cases within make test's 30 minutes;
# tests/fuzz/run.sh alone defaults to 60): hostile rings, register writes,
# vsock packets, management requests, HTTP/JSON, MSI-X, PCI config.
suite fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash tests/fuzz/run.sh

# The Debian kernel and initramfs the Linux cases boot (build/linux/;
# idempotent, downloads from Debian's archive only when missing or stale).
# If it fails, those cases fail and say the files are missing.
echo "=== linux: scripts/fetch-linux.sh"
bash scripts/fetch-linux.sh || echo "scripts/fetch-linux.sh failed (status $?): the linux-* cases will fail"

# The sandbox agent and agent-run on the host (unix socket instead of vsock; as
# root also as PID 1 of fresh PID and mount namespaces), then as /init of
# Debian's kernel under plain QEMU (vsock modules loaded, listening).
suite userland python3 tests/userland/test-agent.py
# pvhd on the host against hostile HTTP clients (no pvhv behind it).
suite pvhd python3 tests/userland/test-pvhd.py
# pvhv-router in a network namespace of its own: --dns none, --host records, their sets.
suite router bash tests/userland/test-router.sh

# QEMU: test guests, hostile guests, bad bundles, Linux.
suite integration python3 tests/integration/run.py "$@"
# Host console input reaching the focused domain (QEMU, -serial stdio).
suite console python3 tests/integration/console.py
# `make run` without a terminal: the control domain's first session (pvhctl run in a sandbox).
suite demo bash tests/demo/test-run.sh
# multiboot2 through GRUB under QEMU: one bundle module, or separate modules.
suite grub bash tests/integration/grub.sh
# Bochs: the VT-x backend, SVM with nRIP-save, refusals; then Debian's
# kernel on VT-x (about a minute or two).  PVHV_BOCHS=0 skips both.
if [ "${PVHV_BOCHS:-1}" != 0 ]; then
	suite bochs python3 tests/integration/bochs.py
	suite bochs-linux bash tests/bochs/linux-boot.sh
	# A running 4-vCPU Linux domain rebooting in a loop, stopped by its time
	# limit beside memcheck on two CPUs: teardown on the VMX backend.
	suite bochs-teardown bash tests/bochs/linux-boot.sh -T
fi

echo "=== summary"
printf '%s\n' "${report[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
