# SPDX-License-Identifier: Apache-2.0
# guests.mk: the in-VM test guests (tests/guests/<name>/), included by the
# top-level Makefile.  Each guest links its own sources with the shared
# runtime in lib/ into $(B)/guests/<name>.elf, a PVH ELF loaded at 1 MiB.

GUESTS := acloop hello exitstatus cpuid probe memcheck highmem hcfuzz triplefault busyloop fpu echo hostile emul victim flood virtio pingpong \
	cowcheck msi

# Sources per guest, relative to tests/guests/<name>/ (default main.c).
GUEST_SRC_hcfuzz := main.c ring3.asm
GUEST_SRC_acloop := main.asm
# Guests that bring their own entry and need none of lib/.
GUEST_NOLIB := acloop
GUEST_SRC_emul := main.c insns.asm
GUEST_SRC_virtio := main.c attack.c blk.c
GUEST_SRC_pingpong := main.c ap.asm
GUEST_SRC_msi := main.c isr.asm
GUEST_SRC_cowcheck := main.c blob.asm ../pingpong/ap.asm
# Linked with 2 MiB pages: its blob's file offset agrees with its address mod 2 MiB.
GUEST_LDFLAGS_cowcheck := -z max-page-size=0x200000
# Optional parts of lib/ a guest links besides entry and guest (lib/<name>.c).
GUEST_LIBS_virtio := virtio

GUEST_LIB_OBJ := $(B)/guests/obj/lib/entry.o $(B)/guests/obj/lib/guest.o
GUEST_ELFS := $(GUESTS:%=$(B)/guests/%.elf)

# Like the image: freestanding, no red zone, general registers only (the fpu
# guest touches SSE/x87 in inline asm alone).
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fno-common -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-Iguest-abi -Itests/guests/lib $(WARN)
GUEST_LDFLAGS := -n -nostdlib -z max-page-size=4096 -z noexecstack -T tests/guests/lib/guest.ld

guests: $(GUEST_ELFS)

guest_objs = $(patsubst %,$(B)/guests/obj/$(1)/%.o,$(basename $(or $(GUEST_SRC_$(1)),main.c))) \
	$(GUEST_LIBS_$(1):%=$(B)/guests/obj/lib/%.o)

define GUEST_ELF_RULE
$(B)/guests/$(1).elf: $(call guest_objs,$(1)) $(if $(filter $(1),$(GUEST_NOLIB)),,$(GUEST_LIB_OBJ)) tests/guests/lib/guest.ld
	@echo "  LD      $$@"
	$(Q)$(LD) $(GUEST_LDFLAGS) $(GUEST_LDFLAGS_$(1)) -o $$@ $(call guest_objs,$(1)) $(if $(filter $(1),$(GUEST_NOLIB)),,$(GUEST_LIB_OBJ))
endef
$(foreach g,$(GUESTS),$(eval $(call GUEST_ELF_RULE,$(g))))

$(B)/guests/obj/%.o: tests/guests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(B)/guests/obj/%.o: tests/guests/%.asm
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) -f elf64 -g -MD $(@:.o=.d) -MP $< -o $@

.PHONY: guests
