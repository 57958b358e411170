# SPDX-License-Identifier: Apache-2.0
# pvhv: one Makefile.  `make run` and `make test` are the ways in; both
# install what is missing first (scripts/deps.sh, apt-get on Debian 12).
all: image unit-bin guests tools userland

V ?= 0
Q := $(if $(filter 1,$(V)),,@)
B := build

CC := gcc
NASM := nasm
LD := ld

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
DEPFLAGS = -MMD -MP

# ---------------------------------------------------------------- the image
# Freestanding, no red zone, no SSE/x87 (guest FPU state lives in the
# registers while pvhv runs), stack protector on (canary at %fs:0x28, as
# Debian's libfdt.a also expects).
HV_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -mno-sse -mno-mmx -mno-80387 \
	-fstack-protector-strong -fno-omit-frame-pointer -fno-strict-aliasing \
	-fno-common --param=min-pagesize=0 -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-I. -Iguest-abi -Ilib -idirafter /usr/include $(WARN)
LIBFDT := /usr/lib/x86_64-linux-gnu/libfdt.a

HV_ASM := arch/x86/boot.asm arch/x86/trampoline.asm arch/x86/entry.asm \
	arch/x86/svm/svm_run.asm arch/x86/vmx/vmx_run.asm
HV_C := lib/string.c lib/format.c lib/pagealloc.c lib/chunkpool.c lib/msimsg.c arch/x86/mempool.c \
	arch/x86/main.c arch/x86/serial.c arch/x86/idt.c arch/x86/mm.c \
	arch/x86/pagetable.c arch/x86/decode.c arch/x86/gpt.c arch/x86/acpi.c arch/x86/apic.c arch/x86/smp.c \
	arch/x86/time.c arch/x86/svm/svm.c arch/x86/vmx/vmx.c arch/x86/poweroff.c arch/x86/fpu.c arch/x86/vcpu_state.c \
	arch/x86/spec.c arch/x86/spec_hw.c arch/x86/random.c arch/x86/hostirq.c \
	pvh/elf.c pvh/bootinfo.c pvh/ramlayout.c pvh/acpi_tables.c pvh/cpio.c pvh/config.c pvh/bundle.c \
	pvh/main.c pvh/cpuid.c pvh/msr.c pvh/irq.c pvh/insn.c pvh/mmio.c pvh/domain.c pvh/sched.c pvh/serve.c pvh/share.c pvh/hypercall.c pvh/console.c pvh/conbuf.c pvh/uart.c pvh/exit.c pvh/devices.c pvh/images.c pvh/imgstore.c pvh/imgshare.c \
	pvh/msi.c pvh/msitest.c pvh/summary.c pvh/vlapic.c pvh/vioapic.c pvh/mgmt.c pvh/mgmt_svc.c pvh/passthru.c pvh/pcisel.c \
	drivers/virtio/virtq.c drivers/virtio/mmio.c drivers/virtio/console.c drivers/virtio/rng.c \
	drivers/virtio/overlay.c drivers/virtio/blk.c drivers/virtio/pktq.c drivers/virtio/vsock.c \
	drivers/virtio/vsock_router.c drivers/virtio/net.c drivers/virtio/switch.c \
	drivers/pci/mcfg.c drivers/pci/probe.c drivers/pci/vcfg.c drivers/pci/quiesce.c drivers/pci/msix.c arch/x86/pci.c
HV_OBJ := $(HV_ASM:%.asm=$(B)/hv/%.o) $(HV_C:%.c=$(B)/hv/%.o)

image: $(B)/pvhv.elf

$(B)/pvhv.elf: $(HV_OBJ) arch/x86/linker.ld $(LIBFDT)
	@echo "  LD      $@"
	$(Q)$(LD) -n -nostdlib -z noexecstack -z max-page-size=4096 -T arch/x86/linker.ld -o $@ $(HV_OBJ) $(LIBFDT)

$(B)/hv/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(HV_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/hv/%.o: %.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) -f elf64 -g -I arch/x86/ -MD $(@:.o=.d) -MP $< -o $@

# ---------------------------------------------------------------- unit tests
# The pure modules, built hosted from the very same source files.
PURE_C := lib/format.c lib/pagealloc.c lib/chunkpool.c lib/msimsg.c arch/x86/pagetable.c arch/x86/decode.c arch/x86/gpt.c \
	arch/x86/spec.c \
	pvh/elf.c pvh/bootinfo.c pvh/ramlayout.c pvh/acpi_tables.c pvh/cpio.c pvh/config.c pvh/vlapic.c pvh/vioapic.c pvh/conbuf.c pvh/images.c pvh/imgshare.c pvh/mgmt.c pvh/share.c pvh/pcisel.c \
	drivers/virtio/virtq.c drivers/virtio/mmio.c drivers/virtio/console.c drivers/virtio/rng.c \
	drivers/virtio/overlay.c drivers/virtio/blk.c drivers/virtio/pktq.c drivers/virtio/vsock.c \
	drivers/virtio/vsock_router.c drivers/virtio/net.c drivers/virtio/switch.c \
	drivers/pci/mcfg.c drivers/pci/probe.c drivers/pci/vcfg.c drivers/pci/quiesce.c drivers/pci/msix.c
UNIT_C := $(sort $(wildcard tests/unit/*_test.c tests/unit/*/*_test.c tests/unit/*/*/*_test.c))
HOST_CFLAGS := -std=gnu11 -O1 -g -DPVHV_HOSTED -I. -Iguest-abi \
	-I/usr/include/libfdt $(WARN) -fsanitize=address,undefined
# Guest-side protocol code (userland/) is hosted C already: its unit tests link it as is.
UNIT_USERLAND_C := userland/lib/agentproto.c userland/lib/http.c userland/lib/jsonw.c userland/pvhd/spec.c \
	userland/pvhd/store.c userland/pvhd/netpol.c
# The host tools' pure readers (tar, JSON): only lib/base.h, like PURE_C, but not in the image.
UNIT_TOOLS_C := tools/tar.c tools/json.c tools/sha256.c
UNIT_OBJ := $(PURE_C:%.c=$(B)/host/%.o) $(UNIT_USERLAND_C:%.c=$(B)/host/%.o) \
	$(UNIT_TOOLS_C:%.c=$(B)/host/%.o) $(UNIT_C:%.c=$(B)/host/%.o)

unit-bin: $(B)/unit/unit-tests

$(B)/unit/unit-tests: $(UNIT_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ -lcriterion -lfdt

# format.c provides vsnprintf; rename it so tests compare against libc's.
$(B)/host/lib/format.o: HOST_CFLAGS += -Dvsnprintf=pvhv_vsnprintf -Dsnprintf=pvhv_snprintf

$(B)/host/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(HOST_CFLAGS) $(DEPFLAGS) -c $< -o $@

# ---------------------------------------------------------------- fuzzing
# libFuzzer over the virtio transport and queues, the vsock router, the network model and
# switch, a passed-through PCI function's configuration space, pvhv-mkimage's tar and JSON readers, and pvhd's HTTP and JSON request parsing (clang; `make fuzz` builds and runs each for a
# bounded time via tests/fuzz/run.sh, FUZZ_SECONDS to change that).  vsock_fuzz: three hostile guests' vsock devices on the router.
FUZZ_C := tests/fuzz/virtq_fuzz.c drivers/virtio/virtq.c drivers/virtio/mmio.c
FUZZ_VSOCK_C := tests/fuzz/vsock_fuzz.c drivers/virtio/vsock.c drivers/virtio/vsock_router.c \
	drivers/virtio/virtq.c drivers/virtio/mmio.c
MGMT_FUZZ_C := tests/fuzz/mgmt_fuzz.c pvh/mgmt.c pvh/images.c lib/format.c
NET_FUZZ_C := tests/fuzz/net_fuzz.c drivers/virtio/virtq.c drivers/virtio/mmio.c drivers/virtio/net.c \
	drivers/virtio/switch.c
MKIMAGE_FUZZ_C := tests/fuzz/mkimage_fuzz.c tools/tar.c tools/json.c
PCI_FUZZ_C := tests/fuzz/pci_fuzz.c drivers/pci/probe.c drivers/pci/vcfg.c
MSIX_FUZZ_C := tests/fuzz/msix_fuzz.c drivers/pci/msix.c
HTTP_FUZZ_C := tests/fuzz/http_fuzz.c userland/lib/http.c userland/lib/jsonw.c userland/pvhd/spec.c userland/pvhd/netpol.c tools/json.c
FUZZ_CFLAGS := -std=gnu11 -O1 -g -DPVHV_HOSTED -I. -Iguest-abi $(WARN) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

fuzz-bin: $(B)/fuzz/virtq_fuzz $(B)/fuzz/vsock_fuzz $(B)/fuzz/net_fuzz $(B)/fuzz/mgmt_fuzz \
	$(B)/fuzz/mkimage_fuzz $(B)/fuzz/http_fuzz $(B)/fuzz/pci_fuzz \
	$(B)/fuzz/msix_fuzz

$(B)/fuzz/virtq_fuzz: $(FUZZ_C) drivers/virtio/virtio.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(FUZZ_C)

$(B)/fuzz/vsock_fuzz: $(FUZZ_VSOCK_C) drivers/virtio/vsock.h drivers/virtio/devices.h \
		drivers/virtio/virtio.h guest-abi/pvhv/vsock.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(FUZZ_VSOCK_C)

$(B)/fuzz/mgmt_fuzz: $(MGMT_FUZZ_C) pvh/mgmt.h guest-abi/pvhv/mgmt.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(MGMT_FUZZ_C)

$(B)/fuzz/net_fuzz: $(NET_FUZZ_C) drivers/virtio/virtio.h drivers/virtio/devices.h drivers/virtio/switch.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(NET_FUZZ_C)

$(B)/fuzz/mkimage_fuzz: $(MKIMAGE_FUZZ_C) tools/tar.h tools/json.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(MKIMAGE_FUZZ_C)

$(B)/fuzz/http_fuzz: $(HTTP_FUZZ_C) userland/lib/http.h userland/lib/jsonw.h userland/pvhd/spec.h tools/json.h \
		guest-abi/pvhv/mgmt.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(HTTP_FUZZ_C)

$(B)/fuzz/pci_fuzz: $(PCI_FUZZ_C) drivers/pci/pci.h tests/unit/drivers/pci/fake_pci.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(PCI_FUZZ_C)

$(B)/fuzz/msix_fuzz: $(MSIX_FUZZ_C) drivers/pci/pci.h lib/base.h
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $(MSIX_FUZZ_C)

fuzz:
	$(Q)bash tests/fuzz/run.sh

# ---------------------------------------------------------------- guests, tools
include tests/guests/guests.mk
include tools/tools.mk
include userland/userland.mk

# ---------------------------------------------------------------- entry points
deps:
	$(Q)bash scripts/deps.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/run-demo.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/run-all.sh

# Just Debian's kernel under Bochs with the VMX backend (also part of `test`).
test-bochs-linux: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tests/bochs/linux-boot.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/fetch-linux.sh || echo "bench: scripts/fetch-linux.sh failed; no Linux boot figures" >&2
	$(Q)bash scripts/fetch-bench-root.sh || echo "bench: scripts/fetch-bench-root.sh failed; no fio figures" >&2
	$(Q)bash bench/bench.sh

clean:
	rm -rf $(B)/hv $(B)/host $(B)/unit $(B)/guests $(B)/tools $(B)/userland $(B)/fuzz $(B)/pvhv.elf

# 4-vCPU Linux domains rebooting in a loop under multi-threaded TCG (not in
# `test`: see "Known problems" in docs/ARCHITECTURE.md).
test-teardown: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash scripts/fetch-linux.sh
	$(Q)python3 tests/integration/run.py -k linux-teardown -k yield-storm
	$(Q)python3 tests/integration/console.py -k linux-reboot-input

.PHONY: all image unit-bin guests tools mkimage-static userland deps run test test-bochs-linux test-teardown bench fuzz fuzz-bin clean

-include $(shell find $(B) -name '*.d' 2>/dev/null)
