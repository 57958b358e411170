/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pvh.h: domains, their vCPUs and the services pvhv gives them (the
 * interface of pvh/ to itself; arch/x86 only calls pvh_main() and
 * sched_cpu_loop()).
 */
#ifndef PVHV_PVH_H
#define PVHV_PVH_H

#include "arch/x86/arch.h"
#include "pvh/config.h"
#include "pvh/ramlayout.h"
#include "pvh/conbuf.h"
#include "pvh/vlapic.h"
#include "pvh/vioapic.h"
#include "drivers/virtio/switch.h"
#include "pvh/imgshare.h"

#define SLICE_US 10000

enum vcpu_state {
	VCPU_OFFLINE,  /* not started (secondary vCPUs wait for the guest) */
	VCPU_RUNNABLE, /* in the run queue */
	VCPU_RUNNING,  /* on a host CPU */
	VCPU_BLOCKED,  /* halted, waiting for an event */
	VCPU_DEAD,
	VCPU_PAUSED,   /* would be runnable, but its domain is paused (off the run queue) */
};

struct domain;

struct vcpu {
	struct vcpu_hw hw;
	struct domain *dom;
	unsigned id;
	enum vcpu_state state;   /* under sched_lock */
	int cpu;                 /* host CPU it runs on, -1 when none */
	struct vcpu *runq_next;
	struct vlapic lapic;
	struct spinlock lapic_lock;
	bool wait_sipi;          /* INIT seen while offline: a SIPI starts it */
	bool irq_window;         /* window exit requested from the backend */
	bool halted_for_good;    /* HLT with interrupts off: only INIT could wake it */
	gpa_t pvclock_gpa;       /* registered pvclock structure, 0 if none */
	/*
	 * Stage-2 shootdown (domain.c, dom_stage2_shootdown()): in_guest is
	 * set from just before run() to just after it; s2_gen is the domain's
	 * s2_gen this vCPU last flushed for (both written by its own CPU).
	 */
	bool in_guest;
	uint32_t s2_gen;
};

enum dom_state {
	DOM_EMPTY,    /* slot unused */
	DOM_RUNNING,
	DOM_DYING,    /* ending: vCPUs are being taken off their CPUs */
	DOM_ENDED,
};

enum dom_end {
	END_NONE,
	END_POWEROFF,
	END_REBOOT,
	END_CRASH,
	END_STOPPED,     /* pvhv stopped it: a fault, a timeout, a limit */
	END_NOT_STARTED, /* its configuration or files were rejected */
};

/* The domain's emulated 16550 at COM1 (uart.c). */
#define UART_RX_FIFO 256 /* deeper than a 16550A: pasted input must not be lost */

struct uart {
	struct spinlock lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thri_pending;       /* "transmitter empty" interrupt not yet acknowledged */
	bool irq_line;           /* level last driven onto the I/O APIC pin */
	uint8_t rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
};

/* The domain's console output on its way to the host console (console.c). */
struct console {
	struct spinlock lock;    /* taken after uart.lock, before the host console's */
	bool ready;              /* buf set up (at the first byte) */
	struct conbuf buf;       /* lines, rate limit, drop count, last lines */
	uint64_t bytes;          /* bytes the guest wrote (under lock) */
};

struct domain;
struct vcpu;
struct vdev;
struct dom_disk;
enum exit_action;

/*
 * The device seam: each domain's own registry of emulated MMIO windows and
 * port ranges (pvh/devices.c), built from its configuration.  Handlers get
 * the offset inside their range.  An MMIO handler returns 0, or -errno to
 * stop the domain (an access that cannot be answered); a port handler
 * returns what the exit should do (ACT_DEAD when the access ended the
 * domain).
 */
typedef int (*mmio_access_fn)(struct domain *d, void *opaque, uint64_t off, bool write,
			      unsigned size, uint64_t *val);
typedef enum exit_action (*port_io_fn)(struct vcpu *v, void *opaque, uint16_t off, bool in,
				       uint8_t size, uint32_t *val);
struct mmio_dev {
	gpa_t base;
	uint64_t size;
	mmio_access_fn access;
	void *opaque;
};
struct port_dev {
	uint16_t base, count;
	port_io_fn io;
	void *opaque;
};
/* I/O APIC, virtio, and a control domain's ECAM windows and MSI-X tables (passthru.c). */
#define DOM_MAX_MMIO (1 + CONFIG_MAX_VIRTIO + 4 + 16)
#define DOM_MAX_PORTS (8 + 8) /* platform ports, and a control domain's I/O BARs (passthru.c) */
#define DOM_RUNTIME_STRINGS 4096 /* a run-time config's strings: names, cmdline, disks */
#define DOM_IMG_SEGS 17          /* ELF_MAX_SEGMENTS kernel segments and the initrd */

struct domain {
	unsigned id;
	uint32_t gen;         /* generation of the slot: a handle names (id, gen) */
	char name[CONFIG_NAME_MAX];
	const struct domain_config *cfg;
	enum dom_state state; /* changes under sched_lock */
	enum dom_end end;
	unsigned exit_status;
	char reason[192];

	/*
	 * Kernel and initrd: images of the store (pvh/imgstore.c), referenced
	 * from the first build until the domain ends for good.
	 */
	const void *kernel;
	size_t kernel_size;
	const void *initrd;
	size_t initrd_size;
	struct image *kernel_img, *initrd_img;

	/*
	 * Guest RAM: ram_size bytes, low and high (pvh/ramlayout.h: chunk
	 * i's GPA is ram_chunk_gpa()), in 2 MiB host chunks, reserved in the pool
	 * at build and taken at first touch (chunk[i] 0 until then; set once,
	 * under ram_lock, read without it).
	 */
	uint64_t ram_size;
	struct ram_layout ram;   /* where it lies in guest-physical space (set at build) */
	struct cp_account mem;
	/*
	 * identity-ram: ram.r[1 .. nr) is host memory at its own address,
	 * taken at the first build into this account and held until
	 * domain_release(): a reboot or restart tears the domain down but
	 * keeps these chunks (a device may still DMA there until its
	 * passthrough is quiesced, and no other domain may get them
	 * meanwhile), and the next build zeroes and maps them again.
	 */
	struct cp_account ident;
	struct spinlock ram_lock;
	uint64_t populated_peak; /* the most chunks it held (any boot) */
	bool ram_failed;         /* a chunk could not be wholly mapped: RAM faults fail */
	/*
	 * Chunks that are an image's own pages, mapped read-only: chunk[i] is
	 * then the image's host address | CHUNK_SHARED, and the first write
	 * (the guest's, a stage-2 fault, or pvhv's own) copies it into a chunk
	 * of the reservation (under ram_lock).  Counts of this build:
	 */
	uint64_t img_shared;     /* chunks an image backs now */
	uint64_t img_copied;     /* partly covered chunks: image bytes copied in at their first touch */
	uint64_t img_unshared;   /* shared chunks copied at a write since */
	uint64_t cow_tsc;        /* time those copies took (TSC) */
	uint32_t s2_gen;         /* bumped when a stage-2 entry loses rights (atomic) */
	/* Where the kernel's segments and the initrd go (set at build, read under ram_lock). */
	struct imgshare_seg img_seg[DOM_IMG_SEGS];
	unsigned nr_img_seg;
	hpa_t *chunk;
	uint64_t nr_chunks;
	hpa_t chunk_array_pa;
	uint64_t chunk_array_pages;
	hpa_t stage2_root;

	struct vcpu *vcpu;
	unsigned nr_vcpus;
	hpa_t vcpu_array_pa;
	uint64_t vcpu_array_pages;
	unsigned on_cpu; /* vCPUs on a host CPU now (under sched_lock) */
	unsigned refs;   /* dom_get() references from other CPUs' walks (atomic) */
	bool quiescing;  /* the teardown of this ending was claimed (under sched_lock) */
	bool teardown_pending; /* claimed, waiting for a CPU's service step (under sched_lock) */
	bool live;             /* counted in sched_live_peak() (under sched_lock) */

	uint64_t exits[EXIT_NR];
	uint64_t exits_total;
	uint64_t born_us;        /* first start: reboots keep it */
	uint64_t start_us, end_us;
	uint64_t cpu_tsc;
	uint64_t deadline_us; /* 0 = none (max-runtime-ms) */
	uint64_t start_tsc;
	struct vioapic ioapic;
	struct spinlock ioapic_lock;
	unsigned reboots;        /* reboots and control-domain restarts so far (reboot-limit caps them) */
	bool restart_pending;    /* an ended control domain waits for restart_at_us (under sched_lock) */
	bool create_pending;     /* made through the management port: built by a service step */
	struct image *pins[2 + CONFIG_MAX_VIRTIO]; /* its uploaded images until built (pvh/imgstore.h) */
	uint64_t restart_at_us;
	uint64_t overhead_bytes;
	uint64_t build_us;       /* pvhv's work to build it: the first build ... */
	uint64_t rebuild_us_max; /* ... and the longest rebuild for a reboot */
	struct uart uart;
	struct console console;

	/* Devices (pvh/devices.c), rebuilt with the domain. */
	struct mmio_dev mmio[DOM_MAX_MMIO];
	unsigned nr_mmio;
	struct port_dev ports[DOM_MAX_PORTS];
	unsigned nr_ports;
	struct msitest *msitest;  /* the MSI test device (config test-msi), NULL without */
	struct vdev *vdev;
	unsigned nr_vdev;
	hpa_t vdev_pa;
	uint64_t vdev_pages;
	bool dev_pending;        /* some device left work after a notification */
	/*
	 * Its network port (devices.c, under its net lock): the switch's view,
	 * counters kept over reboots, and the device frames go to (NULL while
	 * it has none).  In the slot, so a port another domain routes to is
	 * never freed memory.
	 */
	struct switch_port net_port;
	struct vdev *net_vdev;
	/* Passed-through PCI functions (pvh/passthru.c), rebuilt with the domain; NULL: none. */
	struct passthru *pt;
	hpa_t pt_pa;
	/* Disks (pvh/devices.c): opened at the first build, kept over reboots. */
	struct dom_disk *disk;
	unsigned nr_disks;
	hpa_t disk_pa;
	uint64_t overlay_pages;  /* copy-on-write pages its disks hold (atomic) */
	uint64_t overlay_peak;   /* the most they held at once */
	uint64_t vsock_refused;  /* streams it asked for that its configuration does not allow */
	bool host_stopped;       /* ended by pvhv's stop (serve.c): not a failure (under sched_lock) */

	/*
	 * A domain made at run time: its configuration and the strings it
	 * points to (sched.c).  They stay with the slot: a slot is reused,
	 * never freed, so a reader on another CPU never finds freed memory.
	 */
	struct domain_config runtime_cfg;
	char runtime_str[DOM_RUNTIME_STRINGS];
	/* Pause (sched.c, under sched_lock; read without it by the run loop). */
	uint8_t paused;          /* DOM_PAUSED_* */
	uint64_t paused_since_us, paused_us;
	uint64_t console_in_bytes; /* given through the management port */
};

#define DOM_PAUSED_NO 0
#define DOM_PAUSED_USER 1  /* paused through the management port */
#define DOM_PAUSED_HELD 2  /* created paused: runs at its first start */


/*
 * The domain table (domain.c): slot id's domain, for id < nr_domains.
 * Slots are made as domains are (each from the host allocator), kept
 * and reused, and the table of pointers to them is sized at boot from
 * host memory (a domain needs CONFIG_MEM_MIN_MIB of RAM at least), so it
 * is never reallocated under a reader.  nr_domains only grows; a slot is
 * in the table before nr_domains counts it.
 */
extern unsigned nr_domains;
static inline struct domain *dom_at(unsigned id)
{
	extern struct domain **dom_table;

	return __atomic_load_n(&dom_table[id], __ATOMIC_ACQUIRE);
}
/* Boot: sizes the table from free host memory.  0, or -ENOMEM with err set. */
int domain_table_init(char *err, size_t errlen);
/* How many slots the table holds (as many as memory allows domains). */
unsigned domain_table_capacity(void);
/* A zeroed slot, not in the table yet: 0, or -ENOMEM. */
int domain_slot_alloc(struct domain **out);
/* Gives back a slot that never went into the table. */
void domain_slot_free(struct domain *d);
/*
 * Puts d in the table as slot nr_domains (caller holds sched_lock, or is
 * the boot CPU before any other walks; nr_domains < capacity checked).
 */
void domain_slot_publish_locked(struct domain *d);
/* Pages of one slot (pvhv's own memory for the domain's bookkeeping). */
uint64_t domain_slot_pages(void);
extern uint64_t first_guest_entry_tsc;
extern uint64_t mem_free_boot_pages; /* main.c: free host memory before the first build */
extern unsigned mem_boot_slots;      /* main.c: slots the table had then (the boot domains) */
/* Pages the domain table grew by since boot (slots made at run time and the creator's list). */
uint64_t sched_table_growth_pages(void);

/* bundle.c: the boot module(s) and the files in them. */
int bundle_open(char *err, size_t errlen);
const void *bundle_config(size_t *len);
/* 0 and the file, or -ENOENT naming it in err. */
int bundle_file(const char *name, const void **data, size_t *size, char *err, size_t errlen);
/* The idx-th regular file: 0 with its name (cut to namelen) and size, or -ENOENT past the last. */
int bundle_file_at(unsigned idx, char *name, size_t namelen, size_t *size);

/* domain.c */
/* Builds the domain from its configuration; on failure sets dom->reason and returns -errno. */
int domain_build(struct domain *dom);
/* Undoes a build; an identity domain keeps its identity RAM (domain_release() gives it back). */
void domain_teardown(struct domain *dom);
/*
 * The domain has ended for good (or never started), after its teardown:
 * its disks close (devices_release()) and its identity RAM goes back to
 * the pool.
 */
void domain_release(struct domain *dom);
/*
 * Ends the domain (from any CPU, any vCPU of it): records how and why,
 * then takes its vCPUs off their CPUs.  Only the first call counts.
 */
void domain_end(struct domain *dom, enum dom_end how, unsigned status, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
const char *domain_end_name(enum dom_end e);
/* Every end (a reboot's too) is logged; the last DOMAIN_EVENTS are kept. */
#define DOMAIN_EVENTS 128
struct domain_event {
	uint64_t seq;        /* from 1 */
	unsigned id;
	uint32_t gen;
	enum dom_end end;
	unsigned status;
	uint64_t time_us;
	char reason[64];
};
/* Up to max events with seq > after, oldest first; *lost: those after `after` no longer kept. */
unsigned domain_events(uint64_t after, struct domain_event *out, unsigned max, uint32_t *lost);
/* Logs the end of a domain that never ran (its build failed). */
void domain_event_not_started(struct domain *dom);
/*
 * A domain made at run time (sched.c): checks the configuration (props as
 * config_domain_from_props), takes a free slot or an ended domain's (the
 * generation moves on), and leaves the build and start to a CPU's service
 * step.  0 with *id and *gen, or a negative errno with why in msg (nothing
 * changed).
 */
int sched_create_domain(const char *name, const struct config_prop *props, unsigned n, unsigned *id,
			uint32_t *gen, char *msg, size_t msglen);
/* As sched_create_domain, but the domain is held (DOM_PAUSED_HELD) until sched_resume_domain(start). */
int sched_create_domain_held(const char *name, const struct config_prop *props, unsigned n, unsigned *id,
			     uint32_t *gen, char *msg, size_t msglen);
/*
 * The one place a guest-physical range becomes host memory.  Copies fail
 * with -EFAULT unless [gpa, gpa + len) lies wholly in one of the domain's
 * RAM ranges (pvh/ramlayout.h; len 0 needs gpa in RAM).
 */
int dom_copy_from_guest(struct domain *dom, void *dst, gpa_t gpa, size_t len);
int dom_copy_to_guest(struct domain *dom, gpa_t gpa, const void *src, size_t len);
/*
 * Host pointer to [gpa, gpa + len) when it lies in RAM and in one 2 MiB
 * chunk, else NULL.  The caller may write through it: the chunk is taken
 * from the domain's reservation if the domain has not touched it yet (NULL
 * if that fails).  dom_copy_to_guest() does the same; dom_copy_from_guest()
 * reads zeros from a chunk not taken yet, without taking it (a read must
 * not cost the domain memory, and a fresh chunk reads zero anyway).
 */
void *dom_gpa_ptr(struct domain *dom, gpa_t gpa, size_t len);
/*
 * A stage-2 fault at gpa inside the domain's RAM: makes sure its chunk is
 * there and mapped writable (an image's chunk is copied first).  0 or
 * DOM_RAM_COW (the guest may retry the access), or -errno with the
 * domain's RAM unchanged when no chunk could be mapped.
 */
int dom_ram_fault(struct domain *dom, gpa_t gpa);
/* dom_ram_fault()'s answer when the fault was a write to an image's chunk, now copied. */
#define DOM_RAM_COW 1

/* sched.c */
/* One lock for the run queue, vCPU states and domain states. */
void sched_lock(void);
/* Releases it, then sends the kicks sched_kick_locked() asked for. */
void sched_unlock(void);
/*
 * Under sched_lock: host CPU cpu is kicked (cpu_kick) right after this
 * CPU's sched_unlock(), never while the lock is held.
 */
void sched_kick_locked(unsigned cpu);
/* Puts a vCPU on the run queue and kicks an idle CPU to take it (caller holds sched_lock). */
void sched_enqueue_locked(struct vcpu *v);
/*
 * A walk over another domain's vCPUs (timers, console input, interrupt
 * delivery from outside the domain) holds a reference: dom_get() succeeds
 * only while the domain runs, and the domain is torn down (its vCPUs and
 * memory freed) only after its last vCPU left its CPU and the last
 * reference was put.  Neither may be called with sched_lock held.
 */
bool dom_get(struct domain *dom);
void dom_put(struct domain *dom);
/* Under sched_lock: queues the teardown of a dying domain nothing holds any more (true once). */
bool dom_quiesce_locked(struct domain *dom);
/* Called when a domain's last vCPU has left its CPU after domain_end(). */
void sched_domain_quiesced(struct domain *dom);
void sched_start(void);
/* The most domains alive at once so far (first start to final end; reboots and restarts inside). */
unsigned sched_live_peak(void);
/* Pages of the run-time creator's list of live configurations (grown, never freed). */
uint64_t sched_others_pages(void);
/*
 * Pause and resume (sched.c): the caller has checked that d is a running
 * domain and not the control domain.  Pausing kicks its vCPUs off their
 * CPUs; they are parked (VCPU_PAUSED) until resume.  Resume re-queues them
 * and any halted one with an interrupt pending.  0, or -EINVAL with why
 * in msg (not paused / already paused / not held for start).
 */
int sched_pause_domain(struct domain *d, char *msg, size_t msglen);
int sched_resume_domain(struct domain *d, bool start, char *msg, size_t msglen);

/* exit.c: every exit that is not a host interrupt. */
enum exit_action {
	ACT_CONTINUE, /* re-enter the guest */
	ACT_YIELD,    /* requeue behind the others */
	ACT_BLOCK,    /* halted: off the run queue until an event */
	ACT_DEAD,     /* the domain is ending */
};
enum exit_action vcpu_handle_exit(struct vcpu *v, struct vcpu_exit *e);
const char *exit_reason_name(enum vcpu_exit_reason r);

/* msr.c: 0, or -EPERM when the access must raise #GP. */
int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

/* irq.c */
bool irq_owns_msr(uint32_t msr);
void irq_vcpu_init(struct vcpu *v);
void irq_domain_init(struct domain *d);
int vcpu_lapic_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int vcpu_lapic_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);
void irq_deliver(struct domain *d, uint32_t dest, bool logical, uint8_t mode, uint8_t vector,
		 bool level, int self, uint8_t shorthand);
void irq_set_gsi(struct domain *d, unsigned gsi, bool level);
int irq_ioapic_mmio(struct domain *d, uint64_t off, bool write, unsigned size, uint64_t *val);
bool irq_pending(struct vcpu *v);
bool irq_timer_check(struct vcpu *v, uint64_t now);
uint64_t irq_timer_deadline(struct vcpu *v);
void irq_before_entry(struct vcpu *v);
void irq_after_exit(struct vcpu *v);
uint64_t irq_wake_timers(void);
void vcpu_wake(struct vcpu *v);

/*
 * insn.c: the instruction at the vCPU's CS.base + RIP.  insn_fetch()
 * copies up to len of its bytes, stopping at a page the guest's tables or
 * RAM do not give, and returns how many it copied; *mode is the CPU's
 * code size (16, 32, 64) for the decoder.  insn_unreadable() ends the
 * domain, naming what needed the instruction.
 */
size_t insn_fetch(struct vcpu *v, uint8_t *buf, size_t len, unsigned *mode);
void insn_unreadable(struct vcpu *v, const char *what);
/*
 * For an exit with insn_len_unknown: decodes the instruction and sets
 * e->insn_len.  Returns true, or false with *act what the exit handler
 * returns instead, without acting on the exit: ACT_CONTINUE when the
 * bytes are not the instruction that exited (another vCPU rewrote them or
 * the page tables under them: the CPU runs whatever is there now), or
 * ACT_DEAD when they cannot be read (the domain was ended).
 */
bool insn_exit_len(struct vcpu *v, struct vcpu_exit *e, enum exit_action *act);
/* exit.c: before an interrupt is injected: a HLT at RIP completes first (see there). */
void exit_complete_hlt(struct vcpu *v);

/* devices.c */
struct acpi_params;
/*
 * Console input through the management port: bytes for d's virtio
 * console (driver ready) or else COM1 (receive interrupt enabled); the
 * count taken (up to n, less when its buffer is full), or -EPIPE when it
 * reads neither.  The caller holds a reference on d.
 */
int devices_console_write(struct domain *d, const char *buf, size_t n);
/* Its network port's counters (0 without one). */
struct pvhv_mgmt_stats;
/* The network fields of d's statistics (net_*): its port's identity and counters, 0 without a port. */
void devices_net_stats(const struct domain *d, struct pvhv_mgmt_stats *out);
/* Registers the domain's devices (after its RAM exists).  0, or -errno with err set. */
/* msitest.c: the MSI test device of a test-msi domain (nothing otherwise): 0 or -errno. */
int msitest_add(struct domain *d, int (*add)(struct domain *, uint16_t, uint16_t, port_io_fn, void *));
/* Unbinds its route, prints its counters and frees it (nothing without one). */
void msitest_teardown(struct domain *d);
int devices_build(struct domain *d, char *err, size_t errlen);
/* Undoes devices_build(); the disks (and what was written to them) stay for a reboot. */
void devices_teardown(struct domain *d);
/* Closes the disks for good: the domain has ended (or never started). */
void devices_release(struct domain *d);
/* The virtio windows and pins the DSDT lists for c. */
void devices_acpi(const struct domain_config *c, struct acpi_params *ap);
const struct mmio_dev *dom_find_mmio(const struct domain *d, gpa_t gpa);
const struct port_dev *dom_find_port(const struct domain *d, uint16_t port);
/* Bytes of pvhv's own memory the domain's devices hold now (registry, disks, net port). */
uint64_t devices_overhead(const struct domain *d);
/*
 * Boot: the vsock router's endpoints (one per slot the domain table may
 * hold) and the network ports of the boot domains (only they may have
 * one).  0, or -ENOMEM.
 */
int devices_boot_init(const struct pvh_config *cfg);
/* The summary line of a domain's network port (none without one). */
void devices_net_summary(const struct domain *d);
/* The domain whose vsock device has this CID, or NULL. */
struct domain *domain_by_cid(uint64_t cid);
/* Periodic device checks (a vsock sender stalled by a receiver with no buffers). */
void devices_housekeeping(uint64_t now_us);
/* Continues device work a notification left (called before a vCPU of d enters). */
void devices_poll(struct domain *d);
/* Host console input for d's virtio console; false when it has none ready (use COM1). */
bool devices_console_input(struct domain *d, const char *buf, size_t n);
/* exit.c: registers the ACPI sleep/reset, 8042 and pvpanic ports through add. */
int platform_ports_add(struct domain *d, int (*add)(struct domain *, uint16_t, uint16_t, port_io_fn, void *));
/*
 * passthru.c: the host PCI functions the control domain drives.  build
 * chooses them (after its stage 2 exists, before its ACPI tables) and maps
 * their BARs: 0, or -errno with err set (the domain is not started;
 * teardown undoes what was done).  acpi fills ap's host bridges; devices
 * registers the ECAM and MSI-X traps through add (devices_build()).
 * teardown unbinds every route and quiesces every function: called
 * before the domain's memory is reused.
 */
struct passthru;
int passthru_build(struct domain *d, char *err, size_t errlen);
void passthru_acpi(const struct domain *d, struct acpi_params *ap);
int passthru_devices(struct domain *d, int (*add)(struct domain *, gpa_t, uint64_t, mmio_access_fn, void *),
		     int (*add_ports)(struct domain *, uint16_t, uint16_t, port_io_fn, void *), char *err,
		     size_t errlen);
void passthru_teardown(struct domain *d);
/* BAR writes that asked to move a BAR, over its functions (ignored). */
uint64_t passthru_bar_moves(const struct domain *d);
/* domain.c */
uint64_t pages_for(uint64_t bytes);

/* mmio.c: a stage-2 fault in an emulated device region, or outside RAM. */
enum exit_action mmio_handle(struct vcpu *v, struct vcpu_exit *e);

/* cpuid.c */
void cpuid_policy(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* hypercall.c */
enum exit_action hypercall_dispatch(struct vcpu *v, const struct vcpu_exit *e);

/* uart.c: a port access at offset 0-7 from COM1 (size 1, 2 or 4). */
void uart_io(struct domain *dom, uint16_t offset, bool in, uint8_t size, uint32_t *val);
/* A byte for the guest to read (dropped when the receive FIFO is full). */
void uart_receive(struct domain *dom, uint8_t byte);
/* Bytes for the guest to read, as many as the FIFO takes; -EPIPE when the guest has not enabled the
 * receive interrupt (nothing reads COM1). */
int uart_receive_buf(struct domain *dom, const char *buf, size_t n);

/*
 * console.c: every domain's console output (COM1 and the console
 * hypercall as one source, virtio-console as another, each cut into its
 * own lines) goes through console_feed() into the domain's
 * conbuf, under its rate limit; one writer moves lines from there to the
 * host console with a bounded budget per call.
 *
 * console_feed() takes any bytes and never waits for the host console.
 * console_flush(): the domain stops writing (it ends): its partial line,
 * the count of what it lost and its waiting lines are queued ahead of
 * anything printed after; nothing waits for the UART.
 * console_drain(): the writer, from the scheduler's housekeeping on any
 * CPU; returns at once if another CPU is at it.
 * console_drain_all(): the end of the run: every waiting line is written,
 * and kprintf waits for the UART from now on.
 */
void console_feed(struct domain *dom, enum conbuf_source src, const char *s, size_t n);
void console_flush(struct domain *dom);
void console_drain(void);
void console_drain_all(void);
/* Boot CPU only: moves host console input to the focused domain. */
void console_poll_input(void);

/* summary.c */
NORETURN void summary_and_poweroff(void);

/*
 * serve.c: the bundle's policy once every domain has ended, and the host
 * stop.  serve_init() once at boot with the configuration's serve.
 * serve_stop() asks pvhv to stop (from any CPU, sched_lock not held; by
 * names who asked, for the log); later calls do nothing.
 * serve_stop_due() is true once, on the CPU whose service step must end
 * every domain now.  sched_stop_all() does that (sched.c).
 */
void serve_init(bool serve);
bool serve_serving(void);
bool serve_stopping(void);
void serve_stop(const char *by);
bool serve_stop_due(void);
void sched_stop_all(void);

#endif
