# SPDX-License-Identifier: Apache-2.0
# tools.mk: host tools, built hosted from the same pure sources as pvhv.
# Included by the top-level Makefile (uses B, CC, WARN, Q, DEPFLAGS).

TOOLS_PURE_C := pvh/elf.c pvh/config.c pvh/cpio.c pvh/bootinfo.c pvh/ramlayout.c
TOOLS_CFLAGS := -std=gnu11 -O2 -g -DPVHV_HOSTED -I. -Iguest-abi $(WARN)
BUNDLE_OBJ := $(B)/tools/tools/pvhv-bundle.o $(TOOLS_PURE_C:%.c=$(B)/tools/%.o)

MKIMAGE_C := tools/pvhv-mkimage.c tools/mkimage_stage.c tools/tar.c tools/json.c tools/sha256.c
MKIMAGE_OBJ := $(MKIMAGE_C:%.c=$(B)/tools/%.o)

tools: $(B)/tools/pvhv-bundle $(B)/tools/pvhv-mkimage

# pvhv-mkimage: sandbox root images (ext4) from a directory, docker save or OCI layout;
# tar.c, json.c and sha256.c are pure (unit tests; mkimage_fuzz).  Needs zlib1g-dev and, to
# run, e2fsprogs.  `make mkimage-static` links it static with Debian's libz.a (for the control domain).
$(B)/tools/pvhv-mkimage: $(MKIMAGE_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(TOOLS_CFLAGS) -o $@ $^ -lz

mkimage-static: $(B)/tools/pvhv-mkimage-static

$(B)/tools/pvhv-mkimage-static: $(MKIMAGE_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(TOOLS_CFLAGS) -static -o $@ $^ -lz

$(B)/tools/pvhv-bundle: $(BUNDLE_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(TOOLS_CFLAGS) -o $@ $^ -lfdt

$(B)/tools/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(CC) $(TOOLS_CFLAGS) $(DEPFLAGS) -c $< -o $@
