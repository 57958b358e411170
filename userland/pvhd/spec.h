/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec.h: pvhd's JSON request bodies decoded into management requests.
 *
 * Pure (lib/base.h, tools/json.h and guest-abi only), so Criterion and
 * libFuzzer drive it as they drive the HTTP parser.  Every decoder checks
 * the whole body: syntax, every key known (an unknown one is refused), each
 * value's type and range.  On failure it returns -1 with a message naming
 * the field and the byte where it is, e.g. "machine-config.vcpu_count: an
 * integer 1..64 expected at byte 57", and the outputs are unspecified.
 */
#ifndef USERLAND_PVHD_SPEC_H
#define USERLAND_PVHD_SPEC_H

#include "lib/base.h"
#include "pvhv/mgmt.h"
#include "netpol.h"

#define SPEC_BODY_MAX 65536u   /* bytes of a JSON body */
#define SPEC_TOKENS_MAX 2048u  /* JSON tokens of a body */
#define SPEC_EXEC_ARGS_MAX 256u
#define SPEC_EXEC_ENV_MAX 256u
#define SPEC_ERRLEN 192

/* Defaults of a sandbox (as `pvhctl run IMAGE` makes one). */
#define SPEC_DEFAULT_KERNEL "vmlinux"
#define SPEC_DEFAULT_INITRD "initramfs.cpio"
#define SPEC_DEFAULT_CMDLINE "console=ttyS0 quiet pvhv.test=root"
#define SPEC_DEFAULT_MEMORY_MIB 128u
#define SPEC_MEMORY_MIB_MAX (1u << 20)
#define SPEC_VCPUS_MAX 64u

/* True for a sandbox name: 1..31 bytes of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool spec_sandbox_name_ok(const char *name);
/* True for an image name: 1..63 bytes of the same, as pvhv's image store takes. */
bool spec_image_name_ok(const char *name);

/* A sandbox's network port as its create request asks for it. */
struct spec_net {
	bool present;          /* "network" given: c has PVHV_MGMT_CREATE_NET */
	bool pick_ipv4;        /* no "ipv4": the caller picks one (and the MAC from it, unless "mac") */
	bool mac_given;
	struct netpol pol;     /* egress (default none) and published ports */
};

/*
 * PUT /api/v1/sandboxes/{name}: body[0..len) into *c and *net, with NAME
 * (checked by the caller with spec_sandbox_name_ok).  Keys: "boot-source"
 * {kernel_image, initrd, boot_args}, "machine-config" {vcpu_count,
 * mem_size_mib, cpu_share}, "drives" [{image, is_read_only}] (at most 4),
 * "vsock" {guest_cid}, "timeout_s", "paused", "network" {ipv4, mac,
 * egress ("none" | "all" | "allow=CIDR|NAME,..."), ports [{host_port,
 * port}]}.  A CID of 0 (or no "vsock") leaves c->vsock_cid 0: the caller
 * picks a free one.  With "network", c->net_ipv4[0] and c->net_mac are
 * "ipv4" and "mac" when given (0 otherwise: see net->pick_ipv4).
 */
int spec_decode_create(const char *name, const char *body, size_t len, struct pvhv_mgmt_create *c,
		       struct spec_net *net, char *err, size_t errlen);

enum spec_action { SPEC_START = 1, SPEC_PAUSE, SPEC_RESUME, SPEC_STOP };

/* PUT .../actions: {"action_type": "InstanceStart" | "Pause" | "Resume" | "Stop"}. */
int spec_decode_action(const char *body, size_t len, enum spec_action *a, char *err, size_t errlen);

/* POST .../exec: {"cmd": [...] (1.. strings), "env": ["N=V", ...], "cwd": "/...", "timeout_s": N}. */
struct spec_exec {
	uint32_t argc, envc;
	uint32_t timeout_s;                         /* 0: none */
	const char *argv[SPEC_EXEC_ARGS_MAX + 1];   /* into strings[]; NULL-terminated */
	const char *env[SPEC_EXEC_ENV_MAX + 1];
	const char *cwd;                            /* "" for the agent's own */
	char strings[SPEC_BODY_MAX + 1];            /* decoded strings fit: escapes only shrink */
};

int spec_decode_exec(const char *body, size_t len, struct spec_exec *ex, char *err, size_t errlen);

#endif
