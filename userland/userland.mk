# SPDX-License-Identifier: Apache-2.0
# userland.mk: programs that run inside guests (userland/), ordinary hosted C built static
# with Debian's glibc.  They share only guest-abi/ with pvhv.  Included by the top-level
# Makefile (uses B, CC, WARN, Q, DEPFLAGS).

USERLAND_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE -DPVHV_HOSTED -I. -Iguest-abi -Iuserland/lib $(WARN)
USERLAND_LDFLAGS := -static
USERLAND_LIB_C := userland/lib/agentproto.c
AGENT_C := userland/agent/agent.c userland/agent/session.c
AGENT_RUN_C := userland/agent/agent-run.c
PVHCTL_C := userland/pvhctl/pvhctl.c userland/pvhctl/api.c userland/pvhctl/remote.c userland/lib/jsonw.c tools/json.c userland/lib/mgmtclient.c userland/lib/fdio.c
# pvhd: the JSON API daemon; http.c, jsonw.c, spec.c and tools/json.c are pure (unit tests, http_fuzz).
PVHD_C := userland/pvhd/pvhd.c userland/pvhd/token.c userland/pvhd/api.c userland/pvhd/exec.c userland/pvhd/spec.c \
	userland/lib/http.c userland/lib/jsonw.c userland/lib/mgmtclient.c userland/lib/fdio.c userland/lib/agentproto.c \
	tools/json.c
# A hostile management client for the integration tests (the ctlimage step).
IMG_HOSTILE_C := tests/userland/img-hostile.c
# A page's guest-physical address, for the identity-ram test (the ctlident step).
PHYSMARK_C := tests/userland/physmark.c

userland: $(B)/userland/pvhv-agent $(B)/userland/agent-run $(B)/userland/pvhctl $(B)/userland/pvhd \
	$(B)/userland/img-hostile $(B)/userland/physmark

$(B)/userland/pvhv-agent: $(AGENT_C:%.c=$(B)/userland/obj/%.o) $(USERLAND_LIB_C:%.c=$(B)/userland/obj/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(USERLAND_LDFLAGS) -o $@ $^

$(B)/userland/agent-run: $(AGENT_RUN_C:%.c=$(B)/userland/obj/%.o) $(USERLAND_LIB_C:%.c=$(B)/userland/obj/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(USERLAND_LDFLAGS) -o $@ $^

$(B)/userland/pvhctl: $(PVHCTL_C:%.c=$(B)/userland/obj/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(USERLAND_LDFLAGS) -o $@ $^

$(B)/userland/pvhd: $(PVHD_C:%.c=$(B)/userland/obj/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(USERLAND_LDFLAGS) -o $@ $^

$(B)/userland/img-hostile: $(IMG_HOSTILE_C:%.c=$(B)/userland/obj/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(USERLAND_LDFLAGS) -o $@ $^

$(B)/userland/physmark: $(PHYSMARK_C:%.c=$(B)/userland/obj/%.o)
	@echo "  LD      $@"
	$(Q)$(CC) $(USERLAND_LDFLAGS) -o $@ $^

$(B)/userland/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(USERLAND_CFLAGS) $(DEPFLAGS) -c $< -o $@
