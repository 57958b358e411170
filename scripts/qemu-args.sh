#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# qemu-args.sh: the one place that picks QEMU's machine and accelerator for pvhv.
#
# Prints, one argument per line, the QEMU arguments every pvhv run shares
# (machine, memory, CPUs, debug-exit device, accelerator and CPU model).
# Callers add -serial, -kernel and -initrd.  Sourcing it instead defines
# pvhv_qemu_args, which fills the array PVHV_QEMU_ARGS.
#
#   KVM + "-cpu host" when /dev/kvm is usable and offers nested SVM or
#   nested VMX; otherwise TCG with "-cpu qemu64,+svm,+npt".
#
# Environment:
#   PVHV_ACCEL=kvm|tcg   force an accelerator (tcg is always available)
#   PVHV_ICOUNT=N        add "-icount shift=N" (forces TCG): exact virtual time
#   PVHV_NO_SVM=1        hide SVM from the guest CPU (to test pvhv's refusal)
#   PVHV_CPU=MODEL       use "-cpu MODEL" instead (e.g. max: TCG's includes
#                        svm, npt and XSAVE/AVX)
#   PVHV_SMP, PVHV_MEM   override -smp 2 and -m 1024
#   PVHV_TCG_THREAD=single  under TCG, one thread for all vCPUs ("-accel
#                        tcg,thread=single"; see docs/ARCHITECTURE.md,
#                        "Known problems"); nothing under KVM

pvhv_qemu_accel() {
	local accel=${PVHV_ACCEL:-}
	[ -n "${PVHV_ICOUNT:-}" ] && accel=tcg
	if [ -z "$accel" ]; then
		accel=tcg
		if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
			local nested=
			if grep -qw svm /proc/cpuinfo 2>/dev/null; then
				nested=/sys/module/kvm_amd/parameters/nested
			elif grep -qw vmx /proc/cpuinfo 2>/dev/null; then
				nested=/sys/module/kvm_intel/parameters/nested
			fi
			if [ -n "$nested" ] && { [ ! -r "$nested" ] || grep -qiE '^(1|y)' "$nested"; }; then
				accel=kvm
			fi
		fi
	fi
	echo "$accel"
}

pvhv_qemu_args() {
	local accel cpu
	accel=$(pvhv_qemu_accel)
	if [ "$accel" = kvm ]; then
		cpu=host
		[ "${PVHV_NO_SVM:-0}" = 1 ] && cpu=host,-svm,-vmx
	else
		cpu=qemu64,+svm,+npt
		[ "${PVHV_NO_SVM:-0}" = 1 ] && cpu=qemu64,-svm
	fi
	[ -n "${PVHV_CPU:-}" ] && cpu=$PVHV_CPU
	[ "$accel" = tcg ] && [ -n "${PVHV_TCG_THREAD:-}" ] && accel="tcg,thread=$PVHV_TCG_THREAD"
	PVHV_QEMU_ARGS=(-M q35 -m "${PVHV_MEM:-1024}" -smp "${PVHV_SMP:-2}"
		-display none -no-reboot -nodefaults
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
		-accel "$accel" -cpu "$cpu")
	if [ -n "${PVHV_ICOUNT:-}" ]; then
		PVHV_QEMU_ARGS+=(-icount "shift=${PVHV_ICOUNT}")
	fi
}

# Meaning of QEMU's exit status under pvhv's isa-debug-exit contract.
pvhv_exit_meaning() {
	case "$1" in
	1) echo "V=0: every boot domain powered off with status 0" ;;
	3) echo "V=1: some boot domain ended otherwise (crash, stopped, non-zero status, not started)" ;;
	5) echo "V=2: no domain could start (bundle unusable)" ;;
	7) echo "V=3: hypervisor panic" ;;
	9) echo "V=4: no usable virtualization (pvhv refused to run)" ;;
	0) echo "QEMU exited on its own (pvhv never wrote isa-debug-exit)" ;;
	124) echo "timed out (hang)" ;;
	*) echo "unexpected QEMU exit status $1" ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	--accel) pvhv_qemu_accel ;;
	--meaning) pvhv_exit_meaning "${2:-}" ;;
	"") pvhv_qemu_args; printf '%s\n' "${PVHV_QEMU_ARGS[@]}" ;;
	*) echo "usage: $0 [--accel | --meaning STATUS]" >&2; exit 2 ;;
	esac
fi
