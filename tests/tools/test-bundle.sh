#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# test-bundle.sh: checks that pvhv-bundle builds good bundles and rejects bad ones with the right message.
set -u
cd "$(dirname "$0")/../.." || exit 1

TOOL=${PVHV_BUNDLE:-build/tools/pvhv-bundle}
if [ ! -x "$TOOL" ]; then
	echo "not ok - $TOOL not built (run make tools)"
	echo "0 passed, 1 failed"
	exit 1
fi
TOOL=$(realpath "$TOOL")

T=$(mktemp -d /tmp/pvhv-bundle-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; fail=$((fail + 1)); }

# A tiny ELF64 PVH kernel: one PT_LOAD at PADDR (MEMSZ bytes), PT_NOTE with
# the "Xen" PHYS32_ENTRY note unless --no-note.  --set OFF SIZE VALUE then
# overwrites SIZE bytes at file offset OFF (a header field) with VALUE.
cat >"$T/mkelf.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static uint8_t img[0x200];
static void w(size_t off, uint64_t v, int n) { for (int i = 0; i < n; i++) img[off + i] = v >> (8 * i); }
int main(int argc, char **argv)
{
	uint64_t paddr = 0x100000, memsz = 0x1000, set_off = 0, set_val = 0;
	int note = 1, set_size = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--no-note")) note = 0;
		else if (!strcmp(argv[i], "--paddr")) paddr = strtoull(argv[++i], 0, 0);
		else if (!strcmp(argv[i], "--memsz")) memsz = strtoull(argv[++i], 0, 0);
		else if (!strcmp(argv[i], "--set") && i + 3 < argc) {
			set_off = strtoull(argv[i + 1], 0, 0);
			set_size = atoi(argv[i + 2]);
			set_val = strtoull(argv[i + 3], 0, 0);
			i += 3;
		}
	}
	memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
	w(16, 2, 2); w(18, 62, 2); w(20, 1, 4); w(24, paddr, 8);
	w(32, 64, 8); w(52, 64, 2); w(54, 56, 2); w(56, 2, 2);
	/* PT_LOAD: offset 0x100, 0x10 bytes of code (hlt; jmp .) */
	w(64, 1, 4); w(64 + 8, 0x100, 8); w(64 + 16, paddr, 8); w(64 + 24, paddr, 8);
	w(64 + 32, 0x10, 8); w(64 + 40, memsz, 8); w(64 + 48, 0x1000, 8);
	img[0x100] = 0xf4; img[0x101] = 0xeb; img[0x102] = 0xfd;
	/* PT_NOTE at 0xe0, 24 bytes: "Xen" type 18, 8-byte desc */
	w(120, 4, 4); w(120 + 8, 0xe0, 8); w(120 + 32, note ? 24 : 0, 8); w(120 + 48, 4, 8);
	w(0xe0, 4, 4); w(0xe4, 8, 4); w(0xe8, 18, 4); memcpy(img + 0xec, "Xen", 4);
	w(0xf0, paddr, 8);
	if (set_size && set_off + set_size <= sizeof(img)) w(set_off, set_val, set_size);
	FILE *f = fopen(argv[1], "wb");
	if (!f || fwrite(img, 1, sizeof(img), f) != sizeof(img)) return 1;
	return fclose(f) != 0;
}
EOF
if ! gcc -std=gnu11 -O1 -o "$T/mkelf" "$T/mkelf.c"; then
	echo "not ok - compiling the ELF generator"
	echo "0 passed, 1 failed"
	exit 1
fi

mkdir -p "$T/k"
"$T/mkelf" "$T/k/hello.elf"
"$T/mkelf" "$T/k/nonote.elf" --no-note
"$T/mkelf" "$T/k/big.elf" --memsz 0x400000
"$T/mkelf" "$T/k/low.elf" --paddr 0x6000 --memsz 0x100
"$T/mkelf" "$T/k/tight.elf" --memsz 0x4ff800 # ends at 0x5ff800
printf 'not an elf at all, just text\n' >"$T/k/notelf"
head -c 5000 /dev/urandom >"$T/k/initrd.img"
mkdir -p "$T/other"
printf 'different content\n' >"$T/other/hello.elf"

# expect_ok NAME ARGS...: the tool succeeds and writes the bundle ($OUT).
expect_ok() {
	local name=$1
	shift
	rm -f "$T/out.cpio"
	if "$TOOL" -o "$T/out.cpio" "$@" >"$T/stdout" 2>"$T/stderr" && [ -s "$T/out.cpio" ]; then
		ok "$name"
	else
		notok "$name: $(cat "$T/stderr")"
	fi
}

# expect_fail NAME MESSAGE ARGS...: the tool fails, says MESSAGE, writes nothing.
expect_fail() {
	local name=$1 msg=$2
	shift 2
	rm -f "$T/out.cpio" "$T/out.cpio.tmp"
	if "$TOOL" -o "$T/out.cpio" "$@" >"$T/stdout" 2>"$T/stderr"; then
		notok "$name: succeeded"
	elif ! grep -qF -- "$msg" "$T/stderr"; then
		notok "$name: message lacks \"$msg\": $(cat "$T/stderr")"
	elif [ -e "$T/out.cpio" ] || [ -e "$T/out.cpio.tmp" ]; then
		notok "$name: wrote a bundle anyway"
	else
		ok "$name"
	fi
}

# list_has NAME PATTERN: --list of the last bundle prints a line matching PATTERN.
list_has() {
	if "$TOOL" --list "$T/out.cpio" >"$T/list" 2>&1 && grep -qE -- "$2" "$T/list"; then
		ok "$1"
	else
		notok "$1: $(cat "$T/list")"
	fi
}

# ---- --domain mode
expect_ok "domain mode: one domain" --domain hello --kernel "$T/k/hello.elf" --memory 16
list_has "list shows config.dtb" '^ +[0-9]+  config\.dtb$'
list_has "list shows kernel with size" '^ +512  hello\.elf$'
list_has "list shows the domain" '^domain hello: kernel=hello\.elf initrd=- memory=16 MiB vcpus=1'

expect_ok "domain mode: two domains share a kernel, initrd, cmdline" \
	--domain a --kernel "$T/k/hello.elf" --initrd "$T/k/initrd.img" --cmdline "console=ttyS0" --vcpus 2 \
	--domain b --kernel "$T/k/../k/hello.elf" --memory 4
list_has "list shows initrd" '^ +5000  initrd\.img$'
list_has "list shows domain a" '^domain a: kernel=hello\.elf initrd=initrd\.img memory=16 MiB vcpus=2 cmdline="console=ttyS0"$'
list_has "list shows domain b" '^domain b: kernel=hello\.elf initrd=- memory=4 MiB vcpus=1'
if [ "$("$TOOL" --list "$T/out.cpio" | grep -c 'hello\.elf$')" = 1 ]; then
	ok "shared kernel stored once"
else
	notok "shared kernel stored once"
fi

if command -v cpio >/dev/null; then
	mkdir -p "$T/x" && (cd "$T/x" && cpio -id --quiet <"$T/out.cpio") &&
		cmp -s "$T/x/hello.elf" "$T/k/hello.elf" && cmp -s "$T/x/initrd.img" "$T/k/initrd.img" &&
		ok "cpio(1) extracts identical files" || notok "cpio(1) extracts identical files"
fi

# No fixed domain limit (once 16, and 32 files): 40 domains, each with its own initrd.
args=()
for i in $(seq 0 39); do
	printf 'initrd %d' "$i" >"$T/k/i$i.img"
	args+=(--domain "d$i" --kernel "$T/k/hello.elf" --initrd "$T/k/i$i.img" --memory 2)
done
expect_ok "domain mode: 40 domains, 41 files" "${args[@]}"
list_has "list shows domain d39" '^domain d39: kernel=hello\.elf initrd=i39\.img memory=2 MiB vcpus=1'
list_has "list shows initrd i39" '^ +9  i39\.img$'

expect_fail "missing kernel file" "pvhv-bundle: domain d: kernel \"missing.elf\": cannot read" \
	--domain d --kernel "$T/k/missing.elf"
expect_fail "missing initrd file" "pvhv-bundle: domain d: initrd \"nope.img\": cannot read" \
	--domain d --kernel "$T/k/hello.elf" --initrd "$T/k/nope.img"
expect_fail "not ELF" "pvhv-bundle: domain d: kernel \"notelf\": not an ELF file (bad magic)" \
	--domain d --kernel "$T/k/notelf"
expect_fail "no PVH note" "pvhv-bundle: domain d: kernel \"nonote.elf\": no PVH entry note" \
	--domain d --kernel "$T/k/nonote.elf"
expect_fail "memory too small for segments" "pvhv-bundle: domain d: kernel \"big.elf\": segment 0 [0x100000, 0x500000) beyond RAM (0x400000 bytes)" \
	--domain d --kernel "$T/k/big.elf" --memory 4
expect_fail "kernel overlaps boot info" "overlaps the boot-info area" \
	--domain d --kernel "$T/k/low.elf"

# ---- every ELF header field and segment check pvhv makes, through the shared parser
# elf_field NAME MESSAGE OFF SIZE VALUE: hello.elf with one field changed is refused.
elf_field() {
	"$T/mkelf" "$T/k/f.elf" --set "$3" "$4" "$5"
	expect_fail "ELF $1" "pvhv-bundle: domain d: kernel \"f.elf\": $2" --domain d --kernel "$T/k/f.elf"
}
elf_field "class" "ELF header: e_ident[EI_CLASS] 3 is neither ELFCLASS32 (1) nor ELFCLASS64 (2)" 4 1 3
elf_field "data encoding" "ELF header: e_ident[EI_DATA] 2 is not ELFDATA2LSB" 5 1 2
elf_field "ident version" "ELF header: e_ident[EI_VERSION] 0 is not EV_CURRENT (1)" 6 1 0
elf_field "e_version" "ELF header: e_version 0 is not EV_CURRENT (1)" 20 4 0
elf_field "e_type ET_DYN" "ELF header: e_type 3 is not ET_EXEC (2): ET_DYN" 16 2 3
elf_field "e_machine AArch64" "ELF header: e_machine 183 is not EM_X86_64 (62)" 18 2 183
elf_field "e_machine i386 in ELF64" "ELF header: e_machine 3 is not EM_X86_64 (62) as ELFCLASS64 requires" 18 2 3
elf_field "e_phentsize" "ELF header: e_phentsize 32 is not 56" 54 2 32
elf_field "e_phnum 0" "ELF header: e_phnum 0, no program headers" 56 2 0
elf_field "e_phnum PN_XNUM" "ELF header: e_phnum 0xffff (PN_XNUM" 56 2 0xffff
elf_field "e_phoff beyond file" "ELF header: program header table at e_phoff 0x1d0 (e_phnum 2 x 56 bytes) beyond file (0x200 bytes)" 32 8 0x1d0
elf_field "p_filesz > p_memsz" "program header 0: p_filesz 0x10 > p_memsz 0x8" $((64 + 40)) 8 8
elf_field "p_offset beyond file" "program header 0: p_offset 0x1f8 + p_filesz 0x10 beyond file (0x200 bytes)" $((64 + 8)) 8 0x1f8
elf_field "p_paddr wraps" "program header 0: p_paddr 0xfffffffffffff000 + p_memsz 0x1000 overflows" $((64 + 24)) 8 0xfffffffffffff000
"$T/mkelf" "$T/k/acpi.elf" --paddr 0x9000 --memsz 0x100
expect_fail "kernel overlaps the ACPI tables" \
	"pvhv-bundle: domain d: kernel \"acpi.elf\": segment 0 [0x9000, 0x9100) overlaps the ACPI tables [0x8000, 0x10000)" \
	--domain d --kernel "$T/k/acpi.elf"

: >"$T/k/empty.img"
expect_fail "empty initrd" "pvhv-bundle: domain d: initrd \"empty.img\" is empty" \
	--domain d --kernel "$T/k/hello.elf" --initrd "$T/k/empty.img"

# no_escape NAME: the last run's stderr holds no ESC byte (a name is never echoed raw).
no_escape() {
	if LC_ALL=C grep -q $'\x1b' "$T/stderr"; then
		notok "$1: raw ESC in: $(cat -v "$T/stderr")"
	else
		ok "$1"
	fi
}
expect_fail "domain name with a control character, named by index" \
	"pvhv-bundle: domain #1: name has control or non-ASCII byte 0x1b at offset 2" \
	--domain ok --kernel "$T/k/hello.elf" --domain $'ev\x1b[2Jil' --kernel "$T/k/hello.elf"
no_escape "a bad domain name is not echoed"
expect_fail "bad vcpus" "pvhv-bundle: domain d: vcpus 40 exceeds 16" \
	--domain d --kernel "$T/k/hello.elf" --vcpus 40
expect_fail "odd memory" "pvhv-bundle: domain d: memory-mib 3 is not a multiple of 2" \
	--domain d --kernel "$T/k/hello.elf" --memory 3
expect_fail "no --kernel" "pvhv-bundle: domain d: missing kernel" --domain d
expect_fail "bad domain name" "has characters outside" --domain 'a.b' --kernel "$T/k/hello.elf"
expect_fail "duplicate domain" "pvhv-bundle: domain d: duplicate domain name" \
	--domain d --kernel "$T/k/hello.elf" --domain d --kernel "$T/k/hello.elf"
expect_fail "same basename, different files" "different files with the same name \"hello.elf\"" \
	--domain a --kernel "$T/k/hello.elf" --domain b --kernel "$T/other/hello.elf"
expect_fail "initrd does not fit" "initrd \"initrd.img\" (5000 bytes) does not fit" \
	--domain d --kernel "$T/k/tight.elf" --memory 6 --initrd "$T/k/initrd.img"
expect_fail "usage: bad number" "--memory: \"lots\" is not a number" --domain d --kernel "$T/k/hello.elf" --memory lots
expect_fail "usage: --kernel before --domain" "--kernel must follow --domain NAME" --kernel "$T/k/hello.elf"
expect_fail "usage: nothing to do" "give either --config or --domain"

# ---- --allow-invalid
rm -f "$T/out.cpio"
if "$TOOL" -o "$T/out.cpio" --allow-invalid --domain d --kernel "$T/k/nonote.elf" --vcpus 40 2>"$T/stderr" &&
	grep -qF "pvhv-bundle: warning: domain d: vcpus 40 exceeds 16" "$T/stderr" && [ -s "$T/out.cpio" ]; then
	ok "--allow-invalid writes a bad bundle with a warning"
else
	notok "--allow-invalid writes a bad bundle with a warning: $(cat "$T/stderr")"
fi
list_has "list marks the invalid domain" '^domain d: INVALID: vcpus 40 exceeds 16$'
list_has "invalid bundle still holds the kernel" '^ +512  nonote\.elf$'

# ---- --config mode
mkdir -p "$T/cfg/kernels"
cp "$T/k/hello.elf" "$T/cfg/kernels/hello.elf"
cp "$T/k/initrd.img" "$T/cfg/initrd.img"
cat >"$T/cfg/good.dts" <<'EOF'
/dts-v1/;
/ {
	compatible = "pvhv,config-1";
	domains {
		one {
			kernel = "kernels/hello.elf";
			initrd = "initrd.img";
			cmdline = "hello";
			memory-mib = <8>;
			vcpus = <2>;
		};
		two {
			kernel = "kernels/hello.elf";
			memory-mib = <2>;
		};
	};
};
EOF
expect_ok "config mode: .dts" --config "$T/cfg/good.dts"
list_has "config mode keeps the configured name" '^ +512  kernels/hello\.elf$'
list_has "config mode lists domain one" '^domain one: kernel=kernels/hello\.elf initrd=initrd\.img memory=8 MiB vcpus=2 cmdline="hello"$'

dtc -q -I dts -O dtb -o "$T/good.dtb" "$T/cfg/good.dts"
expect_ok "config mode: .dtb with -C" --config "$T/good.dtb" -C "$T/cfg"
expect_fail "config mode: .dtb without -C looks beside the dtb" \
	"pvhv-bundle: domain one: kernel \"kernels/hello.elf\": cannot read" --config "$T/good.dtb"

printf '/dts-v1/;\n/ { compatible = "pvhv,config-1"; domains { x { kernel = "k" }; }; };\n' >"$T/cfg/syntax.dts"
expect_fail "bad dts" "dtc failed to compile the config" --config "$T/cfg/syntax.dts"

sed -e 's/vcpus = <2>/vcpus = <40>/' "$T/cfg/good.dts" >"$T/cfg/vcpus.dts"
expect_fail "config mode: bad vcpus" "pvhv-bundle: domain one: vcpus 40 exceeds 16" --config "$T/cfg/vcpus.dts"

sed -e 's/memory-mib = <2>/memroy-mib = <2>/' "$T/cfg/good.dts" >"$T/cfg/typo.dts"
expect_fail "config mode: property typo" "pvhv-bundle: domain two: unknown property \"memroy-mib\"" --config "$T/cfg/typo.dts"

sed -e 's/initrd = "initrd.img"/initrd = "gone.img"/' "$T/cfg/good.dts" >"$T/cfg/gone.dts"
expect_fail "config mode: missing initrd" "pvhv-bundle: domain one: initrd \"gone.img\": cannot read" --config "$T/cfg/gone.dts"

sed -e 's/pvhv,config-1/pvhv,config-9/' "$T/cfg/good.dts" >"$T/cfg/compat.dts"
expect_fail "config mode: wrong compatible" "not compatible with \"pvhv,config-1\"" --config "$T/cfg/compat.dts"

printf '/dts-v1/;\n/ { compatible = "pvhv,config-1"; domains { x { kernel = "config.dtb"; memory-mib = <2>; }; }; };\n' >"$T/cfg/reserved.dts"
expect_fail "config mode: reserved file name" "file name \"config.dtb\" is reserved" --config "$T/cfg/reserved.dts"

printf '/dts-v1/;\n/ { compatible = "pvhv,config-1"; domains { x { kernel = "k\\x1b[2J"; memory-mib = <2>; }; }; };\n' >"$T/cfg/ctl.dts"
expect_fail "config mode: kernel name with a control character" \
	"pvhv-bundle: domain x: kernel name has control or non-ASCII byte 0x1b at offset 1" --config "$T/cfg/ctl.dts"
no_escape "a bad kernel name is not echoed"

rm -f "$T/out.cpio"
if "$TOOL" -o "$T/out.cpio" --allow-invalid --domain $'a\x01' --kernel "$T/k/hello.elf" 2>"$T/stderr" &&
	grep -qF "pvhv-bundle: warning: domain #0: name has control or non-ASCII byte 0x01 at offset 1" "$T/stderr"; then
	ok "--allow-invalid keeps a domain with a control-character name"
else
	notok "--allow-invalid keeps a domain with a control-character name: $(cat -v "$T/stderr")"
fi
list_has "list names that domain by index" '^domain #0: INVALID: name has control or non-ASCII byte 0x01 at offset 1$'

printf 'garbage' >"$T/cfg/garbage.dtb"
expect_fail "config mode: garbage dtb" "config: not a valid device tree" --config "$T/cfg/garbage.dtb"

# ---- --list on a broken bundle
head -c 200 "$T/out.cpio" >"$T/trunc.cpio" 2>/dev/null
if ! "$TOOL" --list "$T/trunc.cpio" >/dev/null 2>"$T/stderr" && grep -qF "cpio:" "$T/stderr"; then
	ok "--list rejects a truncated bundle"
else
	notok "--list rejects a truncated bundle: $(cat "$T/stderr")"
fi

# ---- disks: the images travel in the bundle once, however many domains name them
head -c 8192 /dev/urandom >"$T/cfg/root.img"
: >"$T/cfg/empty.img"
cat >"$T/cfg/disks.dts" <<'EOF'
/dts-v1/;
/ {
	compatible = "pvhv,config-1";
	domains {
		a { kernel = "kernels/hello.elf"; memory-mib = <2>; disks = "root.img", "ro:root.img"; overlay-mib = <4>; };
		b { kernel = "kernels/hello.elf"; memory-mib = <2>; virtio = "rng"; disks = "root.img"; };
	};
};
EOF
expect_ok "disks: images go into the bundle" --config "$T/cfg/disks.dts"
list_has "disks: the image is in the bundle" '^ +8192  root\.img$'
list_has "disks: domain a lists its disks" '^domain a: .* disk=root\.img disk=ro:root\.img overlay-mib=4$'
list_has "disks: domain b lists virtio and disk" '^domain b: .* virtio=rng disk=root\.img overlay-mib=64$'
if [ "$("$TOOL" --list "$T/out.cpio" | grep -c ' root\.img$')" = 1 ]; then
	ok "disks: an image named three times is stored once"
else
	notok "disks: an image named three times is stored once: $("$TOOL" --list "$T/out.cpio")"
fi
sed -e 's/"ro:root.img"/"gone.img"/' "$T/cfg/disks.dts" >"$T/cfg/disk-gone.dts"
expect_fail "disks: a missing image" 'pvhv-bundle: domain a: disk image "gone.img": cannot read' \
	--config "$T/cfg/disk-gone.dts"
sed -e 's/"ro:root.img"/"empty.img"/' "$T/cfg/disks.dts" >"$T/cfg/disk-empty.dts"
expect_fail "disks: an empty image" 'pvhv-bundle: domain a: disk image "empty.img" is empty' \
	--config "$T/cfg/disk-empty.dts"
sed -e 's|"ro:root.img"|"../root.img"|' "$T/cfg/disks.dts" >"$T/cfg/disk-path.dts"
expect_fail "disks: a path instead of a bundle name" "an image is a bundle file name" \
	--config "$T/cfg/disk-path.dts"

# --add: files for domains made at run time, stored once under their basename.
printf 'extra bytes' >"$T/extra.img"
expect_ok "--add: a file no domain names" --domain d --kernel "$T/k/hello.elf" --add "$T/extra.img" \
	--add "$T/k/hello.elf"
list_has "--add: the file is in the bundle" '^ +11  extra\.img$'
if [ "$("$TOOL" --list "$T/out.cpio" | grep -c ' hello\.elf$')" = 1 ]; then
	ok "--add: a kernel added again is stored once"
else
	notok "--add: a kernel added again is stored once: $("$TOOL" --list "$T/out.cpio")"
fi
expect_fail "--add: a missing file" "pvhv-bundle: --add $T/nope.img: No such file or directory" \
	--domain d --kernel "$T/k/hello.elf" --add "$T/nope.img"
expect_fail "--add: no file name" "--add $T/: no file name" --domain d --kernel "$T/k/hello.elf" --add "$T/"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
