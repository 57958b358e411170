#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-bochs.sh: boots pvhv with one bundle under Bochs via GRUB (multiboot2).
#
# usage: run-bochs.sh [-c CPUS] [-m MIB] [-t SECONDS] [-o COM1_LOG] [-k] MODEL BUNDLE [ELF]
#
# MODEL is a Bochs CPU model (`bochs -help cpu`), e.g. corei7_skylake_x
# (VT-x + EPT), ryzen (AMD-V + NPT + nRIP save), core2_penryn_t9600 (VT-x
# without EPT).  The console goes to COM1_LOG (default: a temporary file)
# and is printed.  -m sets the machine's RAM (default 512 MiB: GRUB
# loads the bundle into it too).  -k keeps the work directory (ISO, bochsrc, bochs.log).  Exit status: pvhv's own ("pvhv: exit status N" on the
# console), 124 on timeout, 125 if the console shows no exit status.
#
# Bochs has no isa-debug-exit: pvhv's poweroff executes `xchg bx, bx`, which
# with magic_break stops at the debugger prompt; the -rc script's "q" then
# quits.  Bochs 2.7 in Debian has no nogui: rfb with timeout=0 starts at
# once on the first free port (docs in shared PLATFORM.md section 6).
set -uo pipefail

cpus=1
megs=512
limit=120
log=""
keep=0
while getopts "c:m:t:o:k" opt; do
	case $opt in
	c) cpus=$OPTARG ;;
	m) megs=$OPTARG ;;
	t) limit=$OPTARG ;;
	o) log=$OPTARG ;;
	k) keep=1 ;;
	*) echo "usage: $0 [-c CPUS] [-m MIB] [-t SECONDS] [-o COM1_LOG] [-k] MODEL BUNDLE [ELF]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then
	echo "usage: $0 [-c CPUS] [-m MIB] [-t SECONDS] [-o COM1_LOG] [-k] MODEL BUNDLE [ELF]" >&2
	exit 2
fi
model=$1
bundle=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
elf=${3:-$root/build/pvhv.elf}

work=$(mktemp -d "${TMPDIR:-/tmp}/pvhv-bochs.XXXXXX")
cleanup() { [ "$keep" = 1 ] && echo "bochs: kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
[ -n "$log" ] || log=$work/com1.txt
: >"$log"

# ---- GRUB ISO: pvhv.elf as the multiboot2 kernel, the bundle as a module
if ! "$root/tests/bochs/mkiso.sh" "$elf" "$bundle" "$work/pvhv.iso"; then
	echo "bochs: making the GRUB ISO failed" >&2
	exit 125
fi

# ---- bochsrc: values come from the environment (names without digits)
# Bochs 2.7 backs at most 2048 MiB of guest RAM with host memory (host=);
# a larger machine (-m) pages the rest through a file Bochs manages.
host=$((megs < 2048 ? megs : 2048))
cat >"$work/bochsrc" <<'EOF'
memory: guest=$BX_MEGS, host=$BX_HOST
cpu: model=$BX_CPU, count=$BX_COUNT, ips=50000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: rfb, options="timeout=0"
ata0-master: type=cdrom, path=$BX_ISO, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$BX_SERIAL
magic_break: enabled=1
speaker: enabled=0
sound: driver=dummy
log: $BX_LOG
panic: action=fatal
EOF
printf 'c\nq\n' >"$work/bochs.rc"

# Two Bochs started in the same instant can pick the same RFB port: one
# binds, the other's listen() fails and its port search then fails on every
# port, so it quits before the machine runs.  That startup race is Bochs's,
# not pvhv's: try again after a short random pause (nothing ran yet).
for attempt in 1 2 3 4 5; do
	: >"$log"
	BX_CPU=$model BX_COUNT=$cpus BX_MEGS=$megs BX_HOST=$host BX_ISO=$work/pvhv.iso BX_SERIAL=$log BX_LOG=$work/bochs.log \
		timeout "$limit" bochs -q -f "$work/bochsrc" -rc "$work/bochs.rc" </dev/null >"$work/bochs.out" 2>&1
	rc=$?
	grep -q "RFB could not bind any port" "$work/bochs.log" 2>/dev/null || break
	echo "bochs: RFB port race at startup (attempt $attempt), starting again" >&2
	sleep "0.$((RANDOM % 9 + 1))"
done
tr -d '\r' <"$log"
[ -z "$(tail -c 1 "$log")" ] || echo # Bochs may quit before the last newline is out
if [ $rc = 124 ]; then
	echo "bochs: timed out after ${limit}s" >&2
	exit 124
fi
status=$(tr -d '\r' <"$log" | sed -n 's/^pvhv: exit status \([0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$status" ]; then
	echo "bochs: exited $rc without a pvhv exit status; last lines of its log:" >&2
	tail -n 15 "$work/bochs.log" >&2
	exit 125
fi
exit "$status"
