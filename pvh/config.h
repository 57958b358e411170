/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h: parse the pvhv configuration, a flattened device tree:
 *
 *   / {
 *       compatible = "pvhv,config-1";
 *       serve;                          // optional: pvhv is a service (below)
 *       domains {                       // optional with serve, else at least one domain
 *           NAME {
 *               kernel = "file-in-bundle";
 *               initrd = "file";        // optional
 *               cmdline = "...";        // optional
 *               memory-mib = <16>;
 *               vcpus = <1>;            // optional, default 1
 *               max-runtime-ms = <5000>; // optional, >= 1; absent: no limit
 *               reboot-limit = <8>;     // optional: reboots before pvhv stops it (0-100000, default 8)
 *               virtio = "console", "rng"; // optional: virtio-mmio devices, in slot order
 *               disks = "root.ext4", "ro:data.img"; // optional: virtio-blk, slots after virtio's
 *               overlay-mib = <64>;     // optional: copy-on-write budget of the writable disks
 *               net-mac = "02:00:00:00:00:01"; // optional: a virtio-net port, slot after the disks
 *               net-ipv4 = "10.0.0.1";  // optional (up to 4): the only IPv4 sources it may use
 *               net-ipv6 = "fd00::1";   // optional (up to 4): the same for IPv6
 *               net-link = "other";     // optional: the domain at the other end (it must link
 *                                       // back), or the control domain with a trunk (a member)
 *               net-trunk;              // optional, control domain only: its port is the trunk
 *               vsock-cid = <3>;        // optional: a virtio-vsock device with this CID (>= 3, unique)
 *               vsock-connect = "other"; // optional: domains it may open streams to
 *               control = <1>;          // optional: the control domain (at most one; needs vsock-cid)
 *               cpu-share = <100>;      // optional: CPU weight against the others (10-400, default 100)
 *               pci = "all";            // optional, control domain only: the host's PCI functions it
 *                                       // drives ("all", or up to 16 like "0000:00:03.0");
 *                                       // implies identity-ram
 *               test-msi;               // optional, tests only: the MSI test device (pvh/msitest.c)
 *               identity-ram;           // optional, control domain only: RAM at guest-physical =
 *                                       // host-physical (devices DMA to it; no IOMMU)

 *           };
 *       };
 *   };
 *
 * Without serve, pvhv powers off once every domain of the bundle has
 * ended.  With serve it runs with no domain at all and keeps running when
 * every domain has ended, until the control domain's HOST_STOP or "stop"
 * typed on the host console (pvh/serve.c).
 *
 * The blob is untrusted.  Strings returned point into it, so it must
 * outlive the parsed configuration.
 */
#ifndef PVHV_PVH_CONFIG_H
#define PVHV_PVH_CONFIG_H

#include "lib/base.h"

#define CONFIG_MAX_VCPUS 16
#define CONFIG_NAME_MAX 32 /* including NUL */
#define CONFIG_MEM_MIN_MIB 2
#define CONFIG_MEM_MAX_MIB 65536 /* PVHV_RAM_MAX (pvhv/platform.h says why) */
#define CONFIG_COMPATIBLE "pvhv,config-1"
#define CONFIG_BUNDLE_NAME "config.dtb" /* the config's name in a bundle */

/* Virtio devices a domain may have (the "virtio" string list). */
enum config_virtio {
	CONFIG_VIRTIO_CONSOLE,
	CONFIG_VIRTIO_RNG,
	CONFIG_VIRTIO_BLK,   /* from "disks", never in the "virtio" list */
	CONFIG_VIRTIO_NET,   /* from "net-mac" */
	CONFIG_VIRTIO_VSOCK, /* from "vsock-cid" */
	CONFIG_VIRTIO_KINDS,
};
#define CONFIG_MAX_VIRTIO 8 /* PVHV_VIRTIO_MAX_DEVICES: virtio, disks, net, vsock together */
#define CONFIG_OVERLAY_DEFAULT_MIB 64
#define CONFIG_REBOOT_LIMIT_DEFAULT 8
#define CONFIG_REBOOT_LIMIT_MAX 100000
#define CONFIG_OVERLAY_MAX_MIB 65536

/* A domain's virtio-net port (slot after the disks). */
#define CONFIG_NET_ADDRS 4
struct config_net {
	bool present;               /* net-mac given */
	uint8_t mac[6];             /* unicast, not zero */
	unsigned nr_ipv4, nr_ipv6;  /* none given: any source address */
	uint8_t ipv4[CONFIG_NET_ADDRS][4];
	uint8_t ipv6[CONFIG_NET_ADDRS][16];
	const char *link;           /* the domain at the other end; NULL: none */
	int peer;                   /* its index (config_parse), -1: none (a run-time member: the trunk
				       is found by the caller) */
	bool trunk;                 /* net-trunk: the control domain's port reaches every member */
	bool member;                /* a member of the control domain's trunk (linked to it, or made at
				       run time with a port) */
};

/* A domain's virtio-vsock device (last slot). */
struct config_vsock {
	uint32_t cid;               /* >= 3; 0: no vsock device */
	unsigned nr_connect;
	const char *connect;        /* domains it may open streams to: nr_connect NUL-terminated names */
	int connect_len;            /* bytes of the list (points into the blob) */
};


/* One disk: a bundle file shared read-only by every domain using it. */
struct config_disk {
	const char *image;   /* file name in the bundle (points into the blob) */
	bool read_only;      /* "ro:" */
};

/* A host PCI function: segment, bus, device (< 32), function (< 8). */
#define CONFIG_MAX_PCI 16
struct config_pci {
	uint16_t seg;
	uint8_t bus, dev, fn;
};

/* "console", "rng", "blk": the names used in the configuration and in messages. */
const char *config_virtio_name(enum config_virtio kind);

struct domain_config {
	/* Node name, truncated if too long; "#index" if it is not printable ASCII. */
	char name[CONFIG_NAME_MAX];
	const char *kernel;         /* name of a file in the bundle, printable ASCII */
	const char *initrd;         /* the same; NULL when absent */
	const char *cmdline;        /* NULL when absent */
	uint64_t memory;            /* bytes */
	unsigned vcpus;
	uint32_t max_runtime_ms;    /* 0: no limit; else stopped after this long */
	uint32_t reboot_limit;      /* reboots it may make; the next one stops it */
	unsigned nr_virtio;         /* devices, slot i at PVHV_VIRTIO_MMIO_GPA + i * stride */
	enum config_virtio virtio[CONFIG_MAX_VIRTIO];
	unsigned nr_disks;          /* virtio-blk, slot nr_virtio + i */
	struct config_disk disk[CONFIG_MAX_VIRTIO];
	uint64_t overlay;           /* bytes: the writable disks' copy-on-write pages, together */
	struct config_net net;
	struct config_vsock vsock;
	bool pci_all;               /* pci = "all": every function pvhv does not keep (pvh/passthru.c) */
	unsigned nr_pci;            /* else the functions listed; whether they exist is checked at build */
	struct config_pci pci[CONFIG_MAX_PCI];
	bool control;               /* the control domain: the only one that may reach the management port */
	bool identity_ram;          /* identity-ram (control only): RAM at guest-physical = host-physical */
	uint32_t cpu_share;         /* SHARE_MIN..SHARE_MAX (pvh/share.h): its vCPUs' slice grows with it */
	bool test_msi;              /* test-msi: the MSI test device at PVHV_MSITEST_PORT (pvh/msitest.c) */
	bool runtime;               /* made through the management port (config_domain_from_props) */
	bool valid;
	char error[160];            /* why not valid */
};

/* The domains of a configuration: dom is the caller's array (no fixed limit here). */
struct pvh_config {
	unsigned nr_domains;
	struct domain_config *dom;
	bool serve;                 /* the root's "serve": run until told to stop */
};

#define CONFIG_SERVE_PROP "serve"

/*
 * Checks the blob fdt[0, len) as config_parse() does and counts its
 * domains, so that the caller can size the array: 0 with *count >= 1 (or
 * >= 0 when the root says serve), or -EINVAL with err set (corrupt, wrong
 * compatible, a serve property with a value, no /domains or no domain
 * without serve).
 */
int config_count_domains(const void *fdt, size_t len, unsigned *count, char *err, size_t errlen);

/*
 * Parse fdt[0, len) into cfg->dom, an array of max entries the caller set.
 * The blob must be 8-byte aligned (libfdt's rule) and its header's
 * totalsize must equal len.  Returns -EINVAL with err set when the blob
 * itself is unusable (as config_count_domains(), or more than max
 * domains).  Otherwise returns 0 with every domain node listed in order: a
 * domain that breaks a rule has valid = false and its error set (the
 * fields parsed before the problem are still filled in); the others are
 * valid.  cfg->serve is the root's serve property.
 */
int config_parse(const void *fdt, size_t len, struct pvh_config *cfg, unsigned max,
		 char *err, size_t errlen);

/* A property by name with its value as a configuration node would carry it. */
struct config_prop {
	const char *name;
	const void *val;
	int len;
};

/*
 * Builds d for a domain made at run time from props (checked exactly as the
 * properties of a configuration node; control, net-trunk, net-link and
 * vsock-connect are refused), its name checked like a node name and
 * unique among others[0, nothers) (the valid ones; the slot it replaces is
 * the caller's to leave out), its vsock CID unique among them.  A network
 * port (net-mac) is a member of the trunk among others (d->net.member),
 * its MAC neither the trunk's nor another member's there.  0, or
 * -EINVAL with d->valid false and d->error set.  Strings point into the
 * props' values: the caller keeps them.
 */
int config_domain_from_props(struct domain_config *d, const char *name, const struct config_prop *props,
			     unsigned n, const struct domain_config *others, unsigned nothers);

/* True when c's vsock-connect names the domain called name. */
bool config_vsock_may_connect(const struct domain_config *c, const char *name);
/* Virtio slots a domain has: virtio list, disks, net port, vsock device. */
unsigned config_nr_devices(const struct domain_config *d);
/* The kind of slot i (< config_nr_devices(d)); for a disk, *disk is its index. */
enum config_virtio config_slot_kind(const struct domain_config *d, unsigned i, unsigned *disk);

/* Parsers used by the config (and by tests): 0, or -EINVAL. */
int config_parse_mac(const char *s, uint8_t mac[6]);
int config_parse_ipv4(const char *s, uint8_t ip[4]);
/* "SSSS:BB:DD.F", hex, exactly these widths, DD < 0x20, F < 8. */
int config_parse_pci(const char *s, struct config_pci *a);
int config_parse_ipv6(const char *s, uint8_t ip[16]);

#endif
