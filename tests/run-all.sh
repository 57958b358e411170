#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-all.sh: every pvhv test suite -- unit (Criterion), bundle tool, integration (QEMU, console input, Bochs).
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

# ---- bundle tool tests
if [ -f tests/tools/test-bundle.sh ]; then
	echo "=== tools: tests/tools/test-bundle.sh"
	bash tests/tools/test-bundle.sh 2>&1 | tee "$tmp/tools.out"
	rc=${PIPESTATUS[0]}
	counts=$(last_counts "$tmp/tools.out")
	if [ -n "$counts" ]; then
		read -r p f <<<"$counts"
		note=""
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="exit status $rc"; fi
		record tools "$p" "$f" "$note"
	else
		record tools 0 1 "no 'N passed, M failed' line, exit status $rc"
	fi
fi

# ---- the Debian kernel and initramfs the linux-* cases boot (build/linux/;
# idempotent, downloads from Debian's archive only when missing or stale).
# If it fails, those cases fail and say the files are missing.
echo "=== linux: scripts/fetch-linux.sh"
bash scripts/fetch-linux.sh || echo "scripts/fetch-linux.sh failed (status $?): the linux-* cases will fail"

# ---- integration (QEMU)
echo "=== integration: tests/integration/run.py $*"
python3 tests/integration/run.py "$@" 2>&1 | tee "$tmp/itest.out"
rc=${PIPESTATUS[0]}
counts=$(last_counts "$tmp/itest.out")
if [ -n "$counts" ]; then
	read -r p f <<<"$counts"
	note=""
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="exit status $rc"; fi
	record integration "$p" "$f" "$note"
else
	record integration 0 1 "no 'N passed, M failed' line, exit status $rc"
fi

# ---- host console input reaching the focused domain (QEMU, -serial stdio)
echo "=== console: tests/integration/console.py"
python3 tests/integration/console.py 2>&1 | tee "$tmp/console.out"
rc=${PIPESTATUS[0]}
counts=$(last_counts "$tmp/console.out")
if [ -n "$counts" ]; then
	read -r p f <<<"$counts"
	note=""
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="exit status $rc"; fi
	record console "$p" "$f" "$note"
else
	record console 0 1 "no 'N passed, M failed' line, exit status $rc"
fi

# ---- multiboot2 through GRUB under QEMU: one bundle module, or separate modules
echo "=== grub: tests/integration/grub.sh"
bash tests/integration/grub.sh 2>&1 | tee "$tmp/grub.out"
rc=${PIPESTATUS[0]}
counts=$(last_counts "$tmp/grub.out")
if [ -n "$counts" ]; then
	read -r p f <<<"$counts"
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	record grub "$p" "$f" ""
else
	record grub 0 1 "no 'N passed, M failed' line, exit status $rc"
fi

# ---- integration under Bochs (VT-x backend, SVM with nRIP, refusals); PVHV_BOCHS=0 skips it
if [ "${PVHV_BOCHS:-1}" != 0 ]; then
	echo "=== bochs: tests/integration/bochs.py"
	python3 tests/integration/bochs.py 2>&1 | tee "$tmp/bochs.out"
	rc=${PIPESTATUS[0]}
	counts=$(last_counts "$tmp/bochs.out")
	if [ -n "$counts" ]; then
		read -r p f <<<"$counts"
		note=""
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; note="exit status $rc"; fi
		record bochs "$p" "$f" "$note"
	else
		record bochs 0 1 "no 'N passed, M failed' line, exit status $rc"
	fi
fi

# ---- Debian's kernel under Bochs with the VT-x backend (about 2 minutes)
if [ "${PVHV_BOCHS:-1}" != 0 ]; then
	echo "=== bochs-linux: tests/bochs/linux-boot.sh"
	bash tests/bochs/linux-boot.sh 2>&1 | tee "$tmp/bochs-linux.out"
	rc=${PIPESTATUS[0]}
	counts=$(last_counts "$tmp/bochs-linux.out")
	if [ -n "$counts" ]; then
		read -r p f <<<"$counts"
		[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
		record bochs-linux "$p" "$f" ""
	else
		record bochs-linux 0 1 "no 'N passed, M failed' line, exit status $rc"
	fi
fi

echo "=== summary"
printf '%s\n' "${report[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
