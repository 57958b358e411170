/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pci.h: pure PCI logic: the ACPI MCFG table, probing one function's
 * configuration space, and the model of a passed-through function's
 * configuration space as its domain sees it.  No hardware access here:
 * configuration space is reached only through struct pci_cfg_ops.
 */
#ifndef PVHV_DRIVERS_PCI_H
#define PVHV_DRIVERS_PCI_H

#include "lib/base.h"

/* PCI Local Bus 3.0, 6.1 and 6.2; PCIe Base 4.0, 7.5.1. */
#define PCI_CFG_SIZE 4096u     /* one function's space through ECAM */
#define PCI_ECAM_BUS_SIZE MIB(1) /* 32 devices x 8 functions x 4 KiB */
#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_ROM 0x30
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)
#define PCI_CAP_MSI 0x05
#define PCI_CAP_PCIE 0x10
#define PCI_CAP_MSIX 0x11
#define PCI_NR_BARS 6
#define PCI_EXT_CAP_START 0x100
#define PCI_EXT_SRIOV 0x0010   /* its VF BARs and VF count */
#define PCI_EXT_REBAR 0x0015   /* a size change moves the BAR's low address bits */
#define PCI_EXT_VF_REBAR 0x0024
#define PCI_MAX_LOCKED 4

/* ------------------------------------------------------------ MCFG */

/* One ECAM window: buses [bus_start, bus_end] of a segment; base is bus 0's address. */
struct pci_segment {
	uint64_t base;
	uint16_t seg;
	uint8_t bus_start, bus_end;
};

/*
 * Parses an ACPI MCFG table (PCI Firmware 3.2, 4.1.2) of len readable
 * bytes at table.  The header's length must fit in len, the checksum hold
 * and the allocation entries fill the rest exactly; each entry must have
 * bus_start <= bus_end, a 1 MiB aligned base, a window below 2^52 and no
 * overlap with another entry of the same segment.  Up to max entries go
 * to out, their number to *nr.  Returns 0, -EINVAL (err says which entry
 * and why) or -E2BIG (more than max entries).
 */
int pci_mcfg_parse(const void *table, size_t len, struct pci_segment *out, unsigned max,
		   unsigned *nr, char *err, size_t errlen);

/* ------------------------------------------------------------ probing */

/*
 * One function's configuration space.  off + size lies inside
 * PCI_CFG_SIZE and off is size-aligned (size 1, 2 or 4): callers check,
 * implementations may rely on it.
 */
struct pci_cfg_ops {
	uint32_t (*read)(void *ctx, unsigned off, unsigned size);
	void (*write)(void *ctx, unsigned off, unsigned size, uint32_t val);
	void *ctx;
};

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_MEM64_HI };

struct pci_bar {
	uint8_t kind;      /* enum pci_bar_kind; MEM64_HI is a 64-bit BAR's upper dword */
	bool prefetch;
	uint64_t addr;     /* as the host firmware programmed it */
	uint64_t size;     /* a power of two; 0 when kind is NONE or MEM64_HI */
};

struct pci_func {
	uint16_t vendor, device;
	uint32_t class_code; /* base class, subclass, programming interface */
	uint8_t header_type; /* without the multi-function bit */
	bool multi;
	struct pci_bar bar[PCI_NR_BARS];
	uint8_t msi_cap;     /* capability offsets; 0 = absent */
	bool msi_64, msi_maskable;
	uint8_t msi_vectors; /* multiple message capable: 1, 2, 4, ... 32 */
	uint8_t msix_cap;
	uint16_t msix_size;  /* table entries */
	uint8_t msix_bir, pba_bir;
	uint32_t msix_offset, pba_offset;
	uint8_t pcie_cap;
	/* Extended capabilities whose writes could resize or add BARs: read-only to a domain. */
	unsigned nr_locked;
	struct { uint16_t off, len; } locked[PCI_MAX_LOCKED];
};

/*
 * Reads a function's identity, BARs and capability list.  BARs are sized
 * by writing all-ones and restoring each one with memory and I/O decoding
 * turned off in the command register, which is restored afterwards
 * (PCI 3.0, 6.2.5.1).  Only header type 0 functions have their BARs
 * sized (bridges' windows are not ours to take).  A capability list that
 * loops or points outside 0x40-0xff ends the walk; an MSI-X table or PBA
 * outside an implemented memory BAR drops the MSI-X capability (err says
 * so, the return stays 0).  A PCI Express function's extended list
 * (from 0x100, same loop rules) is searched for SR-IOV and (VF)
 * Resizable BAR, recorded in locked; more than PCI_MAX_LOCKED of them
 * fails the probe.  Returns 0, -ENODEV when no function answers (vendor
 * 0xffff or 0), or -E2BIG (err says so).
 */
int pci_probe_func(const struct pci_cfg_ops *ops, struct pci_func *f, char *err, size_t errlen);

/* The boot line for a function: "0000:00:03.0 1af4:1041 class 020000 bar0 mem64 ...". */
void pci_func_format(const struct pci_func *f, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
		     char *buf, size_t len);

/* ------------------------------------------------------------ passthrough model */

#define PCI_VCFG_MSI_CHANGED (1u << 0)
#define PCI_VCFG_MSIX_CHANGED (1u << 1)

/*
 * A header type 0 function given to a domain.  What its configuration
 * space shows (PCI 3.0, 6.1; rules in vcfg.c):
 *  - identity, class, status, capability list and the rest of the 4 KiB
 *    pass through, writes too, except as below;
 *  - SR-IOV and Resizable BAR extended capabilities are read-only;
 *  - BARs are emulated at the host's addresses: all-ones sizes them, the
 *    host address restores them, any other value is ignored and counted
 *    in bar_moves; the expansion ROM BAR reads as absent;
 *  - command: I/O and memory decode and bus master pass, INTx disable is
 *    always set (interrupts come by MSI or MSI-X only), the other bits stay
 *    as the host left them; status: only writes of its error bits (RW1C)
 *    pass; cache line size and latency timer pass; interrupt line is kept
 *    in the model, interrupt pin reads 0;
 *  - MSI and MSI-X capability writes stay in the model (msi, msix below)
 *    and set a PCI_VCFG_*_CHANGED bit in changed, for pvhv to act on;
 *  - an access outside the 4 KiB, misaligned or not 1, 2 or 4 bytes wide
 *    is refused (-EINVAL, counted in refused; a refused read gives all-ones).
 */
struct pci_vcfg {
	struct pci_func f;
	struct pci_cfg_ops hw;
	uint32_t bar_reg[PCI_NR_BARS]; /* what each BAR register reads as now */
	uint8_t int_line;
	struct {
		uint16_t ctrl;     /* enable and multiple message enable as written */
		uint64_t addr;
		uint16_t data;
		uint32_t mask;
	} msi;
	uint16_t msix_ctrl;        /* enable and function mask as written */
	unsigned changed;
	uint64_t bar_moves, refused;
};

/*
 * Sets up v for the function f was probed from, reached through hw.
 * Returns 0, or -EINVAL when f is not header type 0 (err says so).
 */
int pci_vcfg_init(struct pci_vcfg *v, const struct pci_func *f, const struct pci_cfg_ops *hw,
		  char *err, size_t errlen);

/* The domain's config read/write at off; 0 or -EINVAL (refused, see above). */
int pci_vcfg_read(struct pci_vcfg *v, uint32_t off, unsigned size, uint32_t *val);
int pci_vcfg_write(struct pci_vcfg *v, uint32_t off, unsigned size, uint32_t val);

/* ------------------------------------------------------------ interrupt messages */

/*
 * The messages a domain programs (its MSI capability, its MSI-X table)
 * are never the ones the device sends: each is bound to a host message by
 * the caller (pvh/msi.h) and the device is programmed with that one.
 * Binding goes through these callbacks, message index i (MSI: 0).
 *  - bind: 0 with the host message, or -errno (the message stays off);
 *    a bind of a bound index replaces its domain message;
 *  - unbind: the index's host message is no longer sent (nothing when unbound).
 */
struct pci_msg_ops {
	int (*bind)(void *ctx, unsigned i, uint64_t addr, uint32_t data, uint64_t *host_addr,
		    uint32_t *host_data);
	void (*unbind)(void *ctx, unsigned i);
	void *ctx;
};

/*
 * Applies v's MSI capability as the domain left it (after
 * PCI_VCFG_MSI_CHANGED, which it clears) to the device: enabled and not
 * masked binds message 0 and writes the host message and enable into the
 * real capability, with one message only (multiple messages need
 * interrupt remapping, which pvhv does not offer: Linux asks for one);
 * else (also for address 0, with which a domain parks an unused vector)
 * the device's MSI is turned off first and the message unbound.
 * Returns 0, or the bind's error (MSI then stays off in the device).
 */
int pci_vcfg_msi_sync(struct pci_vcfg *v, const struct pci_msg_ops *ops);

#define PCI_MSIX_MAX 2048      /* table entries (PCI 3.0, 6.8.2.3) */
#define PCI_MSIX_ENTRY 16
#define PCI_MSIX_MASKBIT 1u    /* vector control bit 0 */

struct pci_msix_entry {
	uint64_t addr;   /* the domain's message */
	uint32_t data;
	uint32_t ctrl;   /* vector control as the domain wrote it (bit 0: masked) */
	bool live;       /* the device has the host message and the entry unmasked */
};

/*
 * A function's MSI-X table as its domain sees it (PCI 3.0, 6.8.2):
 * entries[nr] hold the domain's messages (the caller's array, zeroed and
 * then set up by pci_msix_init()).  The device's own table is reached
 * through hw (off from the table's start, 4-byte accesses); its entries
 * stay masked unless the domain's entry is unmasked while MSI-X is
 * enabled and not function-masked, and then carry the bound host message.
 */
struct pci_msix {
	unsigned nr;
	struct pci_msix_entry *e;
	struct pci_cfg_ops hw;     /* the device's table (the cfg ops' shape; off < nr * 16) */
	struct pci_msg_ops msg;
	bool enabled, fmask;
	uint64_t refused;          /* accesses of a width or alignment a table does not take */
	uint64_t bind_failed;
	int last_error;            /* the last bind's error (0 none), for the caller's message */
	unsigned last_index;
};

/*
 * Sets m up for nr (1..PCI_MSIX_MAX) entries in e: every entry masked, as
 * after reset, and the device's entries masked too.  -EINVAL when nr is out of range.
 */
int pci_msix_init(struct pci_msix *m, struct pci_msix_entry *e, unsigned nr, const struct pci_cfg_ops *hw,
		  const struct pci_msg_ops *msg);

/*
 * The domain's access at off from the table's start: 4 or 8 bytes,
 * aligned, inside the table (else refused: -EINVAL, a read gives
 * all-ones).  A write applies at once (see struct pci_msix).
 */
int pci_msix_read(struct pci_msix *m, uint64_t off, unsigned size, uint64_t *val);
int pci_msix_write(struct pci_msix *m, uint64_t off, unsigned size, uint64_t val);

/* The MSI-X control word changed (enable, function mask: PCI_VCFG_MSIX_CHANGED): applies it to every entry. */
void pci_msix_control(struct pci_msix *m, uint16_t ctrl);

/* Masks every device entry and unbinds every message (teardown). */
void pci_msix_release(struct pci_msix *m);

/* ------------------------------------------------------------ quiesce */

/*
 * Quiesces a function before the memory its domain gave it is reused (a
 * control domain's restart): bus master, memory and I/O decode, MSI and
 * MSI-X off; then a function-level reset where the function offers one
 * (PCIe Device Capabilities FLR bit, or the Advanced Features capability),
 * with the waits the specifications ask for (delay_us: the caller's busy
 * wait); then its BARs as f records them restored, with decode and bus
 * master still off.  Returns 0, or -ETIMEDOUT when the function does not
 * come back from reset (err says so; bus master stays off).
 */
int pci_quiesce(const struct pci_cfg_ops *hw, const struct pci_func *f, void (*delay_us)(uint64_t us),
		char *err, size_t errlen);

#endif
