/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch.h: what arch/x86 offers the rest of pvhv: host CPUs and memory,
 * time, console output, and the vendor-neutral vCPU interface that the SVM
 * and VMX backends implement.
 */
#ifndef PVHV_ARCH_H
#define PVHV_ARCH_H

#include "lib/chunkpool.h"
#include "lib/base.h"
#include "arch/x86/pagetable.h"
#include "drivers/pci/pci.h"

#define MAX_CPUS 64

/* ------------------------------------------------------------ locking */

struct spinlock {
	volatile uint32_t next;
	volatile uint32_t owner;
};

static inline void spin_lock(struct spinlock *l)
{
	uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		__asm__ volatile("pause");
}

/* Takes the lock only if it is free now (no ticket is handed out otherwise). */
static inline bool spin_trylock(struct spinlock *l)
{
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint32_t free = owner;

	return __atomic_compare_exchange_n(&l->next, &free, owner + 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ per CPU */

struct vcpu;

/*
 * One per host CPU; %fs points at it.  The compiler's stack-protector
 * canary sits at %fs:0x28 (GCC's x86-64 TLS guard slot), so the layout of
 * the first fields is fixed.
 */
struct percpu {
	struct percpu *self;     /* 0x00 */
	uint32_t index;          /* 0x08: 0 = boot CPU */
	uint32_t apic_id;        /* 0x0c */
	uint64_t stack_top;      /* 0x10 */
	uint64_t pad0[3];        /* 0x18 */
	uint64_t canary;         /* 0x28 */
	/* -- free layout below -- */
	hpa_t host_save_pa;      /* SVM host save area / VMX VMXON region */
	hpa_t host_vmcb_pa;      /* SVM: VMSAVE area for host FS/GS/TR etc. */
	uint32_t asid_next;      /* SVM ASID allocator */
	uint64_t asid_gen;
	struct vcpu *last_vcpu;  /* vCPU whose state was last loaded here */
	volatile bool online;
	volatile bool kick;      /* set by another CPU, with an IPI */
	bool announced;          /* "cpu N running vcpus" printed */
	uint64_t last_tenant;    /* vcpu_hw.tenant of the last vCPU run here (IBPB on change) */
	uint64_t nmis;           /* host NMIs seen (counted and survived) */
	uint64_t slice_end_tsc;
	uint64_t housekeeping_tsc; /* pvh/sched.c: last time limits and input were looked at */
	uint64_t timer_ticks;
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(p));
	return p;
}

extern struct percpu cpus[MAX_CPUS];
extern unsigned nr_cpus;

/* High-water mark of c's stack in bytes (painted at start-up). */
uint64_t stack_used(const struct percpu *c);
/* Runs fn on every other online CPU (after smp_boot). */
void smp_boot(void);
/* Sends the kick IPI to host CPU idx (it leaves the guest and reschedules). */
void cpu_kick(unsigned idx);

/* ------------------------------------------------------------ host PCI (pci.c) */

#define PCI_HOST_MAX_FUNCS 256
#define PCI_HOST_MAX_SEGS 16

/* One host function pci_init() probed without error, as it found it. */
struct pci_host_func {
	uint16_t seg;
	uint8_t bus, dev, fn;
	hpa_t cfg;             /* its 4 KiB of ECAM, mapped uncached in pvhv's own tables */
	struct pci_func f;
};

/* The functions found at boot (index < pci_host_nr_funcs()), in bus order; fixed after boot. */
unsigned pci_host_nr_funcs(void);
const struct pci_host_func *pci_host_func(unsigned i);
/* The function at (seg, bus, dev, fn), or NULL. */
const struct pci_host_func *pci_host_find(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);
/* The MCFG segments whose ECAM windows are mapped (index < pci_host_nr_segs()). */
unsigned pci_host_nr_segs(void);
const struct pci_segment *pci_host_seg(unsigned i);
/* Configuration space access to h through its ECAM page (pci_cfg_ops' contract). */
struct pci_cfg_ops pci_host_cfg(const struct pci_host_func *h);

/* ------------------------------------------------------------ memory */

/* Host physical memory is identity-mapped: these are the only casts. */
static inline void *hpa_to_ptr(hpa_t pa) { return (void *)(uintptr_t)pa; }
static inline hpa_t ptr_to_hpa(const void *p) { return (hpa_t)(uintptr_t)p; }

/*
 * Page allocator over the boot memory map (image, boot modules, low
 * memory and firmware areas reserved).  Pages come back zeroed.  Returns
 * 0 or -ENOMEM.
 */
int page_alloc(uint64_t npages, uint64_t align_pages, hpa_t *out);
void page_free(hpa_t pa, uint64_t npages);
uint64_t page_free_count(void);
/* What holds host memory at [start, start + size) outside the guest RAM pool (mm.c), or NULL if free. */
const char *page_holder(hpa_t start, uint64_t size);
/*
 * The guest RAM pool (mempool.c, on lib/chunkpool.c): every free 2 MiB
 * host chunk, carved at boot.  A domain reserves its RAM when it is built
 * (all or nothing, under one lock: two builds cannot both count the same
 * memory) and takes chunks as its RAM is first touched.  Freed chunks are
 * dirty until zeroed, ahead of time by mempool_scrub_step() or at the
 * latest by the mempool_take() that hands them out.  The host allocator
 * gets unreserved chunks back when it runs dry.
 */
int mempool_reserve(struct cp_account *a, uint64_t chunks);
/* Gives back a's reservation; a must hold no chunks any more. */
void mempool_unreserve(struct cp_account *a);
/*
 * A zeroed chunk for a, out of its reservation: 0 and *chunk, or -ENOSPC
 * when a holds all it reserved.
 */
int mempool_take(struct cp_account *a, hpa_t *chunk);
/* The same, not zeroed: the caller writes every byte of it before anyone reads it. */
int mempool_take_to_overwrite(struct cp_account *a, hpa_t *chunk);
/* a gives chunk back (dirty: it is zeroed before anyone else sees it). */
void mempool_free(struct cp_account *a, hpa_t chunk);
/*
 * The 2 MiB chunk at host address chunk itself, for a, beyond its
 * reservation (cp_take_at()): taken back from the host allocator first if
 * that has all of it free.  0 with *dirty when the caller must zero it;
 * -EBUSY (a domain has it), -ENOENT (pvhv uses it, or it is not RAM),
 * -ENOMEM (the free chunks are all promised to domains).
 */
int mempool_take_at(struct cp_account *a, hpa_t chunk, bool *dirty);
/* Chunk indexes (hpa / 2 MiB) the pool covers: 0 .. this - 1, up to the end of host RAM. */
uint64_t mempool_capacity(void);
/* What holds host memory at [start, start + size), for messages: "pvhv's image", "a domain", ... */
const char *mem_holder(hpa_t start, uint64_t size);
/*
 * Zeroes at most one dirty chunk (2 MiB of work), in pieces: between two
 * it gives up (the chunk stays dirty) when a take waits for it or
 * give_up (may be NULL) says the CPU has better things to do.  True when
 * it zeroed a chunk.
 */
bool mempool_scrub_step(bool (*give_up)(void));
/* Free chunks nobody reserved, and dirty chunks waiting to be zeroed. */
uint64_t mempool_available(void);
uint64_t mempool_dirty(void);
/* Free host memory in pages: the host allocator's and the pool's free chunks. */
uint64_t mem_free_pages(void);
/* Page-table callbacks for pt_*() on host memory; ctx is a uint64_t counter of tables. */
extern const struct pt_ops host_pt_ops;

/* Boot modules as found by the boot protocol. */
struct boot_module {
	hpa_t start;
	uint64_t size;
	const char *cmdline; /* may be "" */
};
#define MAX_BOOT_MODULES 16
extern struct boot_module boot_modules[MAX_BOOT_MODULES];
extern unsigned nr_boot_modules;

/* ------------------------------------------------------------ console, time */

/* A byte typed on the host console, or -1. */
int serial_getc(void);
/*
 * Host console output; whole lines are printed atomically with respect to
 * other CPUs, in the order they were printed.  Once serial_set_async(true)
 * has been called a line may still be queued when kprintf returns.
 */
void kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
void kvprintf(const char *fmt, va_list ap);
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);
/*
 * The host console's transmit queue (serial.c).  serial_queue() adds n
 * bytes ('\n' sent as "\r\n") only if the queue then holds at most limit
 * bytes, else returns false and adds nothing.  serial_pump() writes queued
 * bytes while the UART has room, at most budget and until the TSC passes
 * deadline (0: no deadline), without waiting, and returns how many.
 * serial_set_async(true) lets kprintf return with its line still queued;
 * false first writes out everything queued, waiting for the UART (for the
 * end of the run and panics).
 */
bool serial_queue(const char *s, size_t n, size_t limit);
size_t serial_pump(size_t budget, uint64_t deadline);
size_t serial_queued(void);
void serial_set_async(bool on);

uint64_t tsc_khz(void);
uint64_t time_us(void); /* since boot */
uint64_t tsc_to_us(uint64_t tsc_delta);
extern uint64_t boot_tsc;

/* Arms this CPU's one-shot timer to fire after us microseconds (0 = stop). */
void timer_arm_us(uint64_t us);
/* Arms it for a TSC value (at least 1 us ahead). */
void timer_arm_tsc(uint64_t deadline);

/* ------------------------------------------------------------ device interrupts */

/*
 * Host vectors HOSTIRQ_FIRST-HOSTIRQ_LAST carry devices' MSIs (pvh/msi.c
 * hands them out).  Host interrupts are let in only where the CPU holds
 * no lock (the window after a guest's EXIT_INTR, the idle HLT), but the
 * handler still does no more than note the interrupt (a count per vector,
 * a bit in a pending map) and EOI it; whoever delivers takes the notes
 * afterwards, from ordinary code: pvh/msi.c's msi_poll().
 */
#define HOSTIRQ_FIRST 0x30
#define HOSTIRQ_LAST 0xef
/* Takes the map of vectors noted since the last call (bit v of map[v / 64]); false when none. */
bool hostirq_take_pending(uint64_t map[4]);
/* Takes the count of interrupts noted on vec since the last take (0 when none). */
uint64_t hostirq_take(uint8_t vec);
/* Sends vec to the host CPU with xAPIC ID apic_id, as a device's MSI would arrive (the test device). */
void hostirq_send(uint32_t apic_id, uint8_t vec);

/* ------------------------------------------------------------ PCI */

struct pci_cfg_ops;
struct pci_func;
/*
 * pci_quiesce() (drivers/pci/pci.h) with a real busy wait (arch/x86/pci.c):
 * up to 100 ms for outstanding requests, 100 ms after a function-level
 * reset and up to 1 s more for the function to answer.  Interrupts stay
 * off meanwhile, so call it where the CPU may be gone that long (a control
 * domain's teardown, not an exit handler) and with no lock others spin on.
 * 0, or -ETIMEDOUT (err says so; bus master stays off).
 */
int arch_pci_quiesce(const struct pci_cfg_ops *hw, const struct pci_func *f, char *err, size_t errlen);

/* ------------------------------------------------------------ power */

/* Exit statuses of pvhv itself (QEMU turns v into (v << 1) | 1). */
#define PVHV_EXIT_OK 0
#define PVHV_EXIT_DOMAIN_FAILED 1
#define PVHV_EXIT_NO_DOMAIN 2
#define PVHV_EXIT_PANIC 3
#define PVHV_EXIT_NO_VIRT 4

NORETURN void machine_poweroff(unsigned status);

/* ------------------------------------------------------------ vCPUs */

/* Guest general-purpose registers in x86 encoding order (ModRM numbers). */
enum vcpu_gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

/* Registers the backends keep in their control structure. */
enum vcpu_reg {
	VREG_RIP, VREG_RSP, VREG_RFLAGS, VREG_CR0, VREG_CR3, VREG_CR4,
	VREG_EFER, VREG_PAT,
	VREG_CPL,      /* read only */
	VREG_CS_MODE,  /* read only: 16, 32 or 64 */
	VREG_CS_BASE,  /* read only: the CPU ignores it in 64-bit mode */
};

/* Neutral exit reasons; each backend maps its codes onto these. */
enum vcpu_exit_reason {
	EXIT_INTR,        /* host interrupt (timer, kick) or exit_deadline_tsc: just reschedule */
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_HLT,
	EXIT_HYPERCALL,
	EXIT_NPF,         /* stage-2 fault */
	EXIT_TRIPLE_FAULT,
	EXIT_BAD_INSN,    /* virtualization instruction: inject #UD */
	EXIT_XSETBV,
	EXIT_WBINVD,      /* WBINVD/INVD: completes as a no-op (never flushes the shared caches) */
	EXIT_RDPMC,       /* no virtual PMU: #GP */
	EXIT_EXC_DB,      /* #DB intercepted and already reflected into the guest by the backend */
	EXIT_EXC_AC,      /* #AC intercepted and already reflected */
	EXIT_EXC_MC,      /* machine check while the guest ran: stops the domain */
	EXIT_IRQ_WINDOW,  /* the guest can take an interrupt now (after irq_window(true)) */
	EXIT_PAUSE,       /* the guest spins on PAUSE (filter count reached): a reschedule point */
	EXIT_INVALID,     /* VM entry failed: the guest state is invalid */
	EXIT_UNEXPECTED,  /* anything else: stops the domain, naming the code */
	EXIT_COW,         /* not a backend's: an EXIT_NPF that was a write to an image's chunk (copied) */
	EXIT_NR
};

struct vcpu_exit {
	enum vcpu_exit_reason reason;
	uint8_t insn_len; /* bytes to skip when the instruction completes */
	/*
	 * The CPU did not say how long the exiting instruction is (SVM
	 * without NRIP save); insn_len is 0 and neutral code decodes it.
	 */
	bool insn_len_unknown;
	union {
		struct {
			uint16_t port;
			uint8_t size;  /* 1, 2, 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			uint32_t index;
		} msr;
		struct {
			gpa_t gpa;
			bool write;
			bool fetch;
			/*
			 * The CPU was delivering an event (reading the IDT or
			 * GDT, pushing the frame): RIP is the interrupted
			 * instruction, not the access.
			 */
			bool in_event_delivery;
			uint8_t vector; /* the event's, with in_event_delivery */
		} npf;
		struct {
			uint64_t code;
			uint64_t info1;
			uint64_t info2;
		} raw;
	};
};

/*
 * What the backends share about a vCPU.  pvh/ embeds it in struct vcpu.
 * regs[] is loaded into the CPU before each entry and saved after each
 * exit by the backend (RSP lives in the backend's control structure:
 * use vcpu_ops.get_reg(VREG_RSP)).
 */
struct vcpu_hw {
	uint64_t regs[GPR_COUNT];
	hpa_t stage2_root;      /* the domain's NPT/EPT root */
	void *ctl;              /* VMCB or VMCS */
	hpa_t ctl_pa;
	unsigned ctl_pages;     /* what the backend allocated at ctl_pa (pvhv's overhead) */
	uint32_t asid;
	uint64_t asid_gen;
	int last_cpu;
	int irq_taken;          /* SVM: the vector the guest took in the last run(), or -1 */
	uint64_t guest_efer;    /* EFER as the guest sees it */
	hpa_t fpu_pa;           /* XSAVE (or FXSAVE) area */
	uint64_t fpu_pages;
	uint64_t xcr0;          /* the guest's XCR0 */
	/*
	 * TSC by which the host wants the CPU back (the deadline its one-shot
	 * timer is armed for; 0 = none).  A backend with a timer that stops the
	 * guest whatever its RFLAGS.IF (the VMX-preemption timer) arms it for
	 * this too: see run_vcpu() in pvh/sched.c for why.
	 */
	uint64_t exit_deadline_tsc;
	/*
	 * Host CPU state that VM entry and exit do not switch and that
	 * vcpu_switch_in()/vcpu_switch_out() move between vCPUs
	 * (arch/x86/vcpu_state.c): debug registers DR0-DR3 (and DR6 where the
	 * backend's control structure lacks it), TSC_AUX, PKRU, SPEC_CTRL.
	 */
	uint64_t dr[4];
	uint64_t dr6;
	uint64_t tsc_aux;
	uint32_t pkru;
	uint64_t spec_ctrl;     /* the guest's IA32_SPEC_CTRL (checked against spec's mask) */
	uint64_t virt_spec_ctrl; /* the guest's AMD VIRT_SPEC_CTRL (SSBD only) */
	uint64_t tenant;        /* who owns this vCPU (domain id + generation): IBPB on change */
	/*
	 * Set by pvh/ when a stage-2 entry lost rights (a shared page made
	 * private): run() drops the CPU's cached stage-2 translations of this
	 * vCPU before entering, and clears it.
	 */
	bool flush_stage2;
};

/*
 * Moves a vCPU's host-CPU state in and out (FPU/XSAVE, debug registers,
 * TSC_AUX, PKRU) and applies the speculation barriers that a change of
 * tenant on this host CPU needs (IBPB, x87 pointer scrub).  Called with
 * interrupts off, around a run of vcpu_ops->run() on one CPU.
 */
void vcpu_switch_in(struct vcpu_hw *v);
void vcpu_switch_out(struct vcpu_hw *v);
/* Power-on values of that state (DR6 0xffff0ff0, the rest 0). */
void vcpu_state_reset(struct vcpu_hw *v);
/*
 * The speculation policy decided at boot from the host CPU
 * (arch/x86/spec.h; never NULL once pvh_main() runs): what guests may see
 * in CPUID and write to the speculation-control MSRs.
 */
struct spec_policy;
extern const struct spec_policy *spec;
/* The guest writes TSC_AUX / SPEC_CTRL while loaded on this CPU. */
void vcpu_set_tsc_aux(struct vcpu_hw *v, uint64_t val);
bool host_has_rdtscp(void);
/* Random bytes from RDSEED (else RDRAND): 0, or -EIO when the CPU has neither or they keep failing. */
int arch_random(void *buf, size_t n);
bool arch_has_random(void);
/* The host has machine-check architecture (MCG_* MSRs). */
bool arch_has_mca(void);
/* The backend lets guests run RDTSCP/RDPID (set by its probe): CPUID may show them. */
extern bool vcpu_rdtscp_ok;

/* Guest FPU/SSE/AVX state (fpu.c): same for every backend. */
int fpu_vcpu_init(struct vcpu_hw *v);
void fpu_vcpu_free(struct vcpu_hw *v);
void fpu_switch_in(struct vcpu_hw *v);
void fpu_switch_out(struct vcpu_hw *v);
/* 0, or -EPERM when the guest's XSETBV must raise #GP. */
int fpu_set_xcr0(struct vcpu_hw *v, uint32_t index, uint64_t val);
/* XCR0 bits guests may enable (0 when XSAVE is not offered). */
uint64_t fpu_xcr0_supported(void);

struct vcpu_ops {
	const char *name;
	/* Hypercall instruction flag for the CPUID leaf (PVHV_CPUID_F_VMMCALL or 0). */
	uint32_t hypercall_flag;
	/* Stage-2 page-table format and the leaf flags for guest RAM. */
	const struct pt_format *stage2_fmt;
	uint64_t stage2_ram_flags;
	/* Leaf flags for guest memory that may be read and written but not executed. */
	uint64_t stage2_noexec_flags;
	/* Leaf flags for guest memory that may be read and executed: a write faults. */
	uint64_t stage2_readonly_flags;
	/* Leaf flags for a device's registers: read-write, not executable, uncached. */
	uint64_t stage2_mmio_flags;
	/* Turns virtualization on for this host CPU.  0 or -errno. */
	int (*cpu_init)(struct percpu *cpu);
	/* Allocates the control structure.  0 or -ENOMEM. */
	int (*vcpu_init)(struct vcpu_hw *v);
	void (*vcpu_free)(struct vcpu_hw *v);
	/*
	 * The vCPU leaves this host CPU after its last run() here (it may run
	 * on another one next); the scheduler calls it before anyone else can
	 * pick the vCPU up.  NULL when the backend needs no such step.
	 */
	void (*vcpu_put)(struct vcpu_hw *v);
	/* Sets the PVH entry state: 32-bit flat protected mode, paging off. */
	void (*reset_pvh)(struct vcpu_hw *v, uint32_t entry, uint32_t ebx);
	/* Sets the state after INIT + start-up IPI: real mode at CS:IP = vector<<8:0. */
	void (*reset_sipi)(struct vcpu_hw *v, uint8_t vector);
	/* Enters the guest until the next exit, which it decodes into *exit. */
	void (*run)(struct vcpu_hw *v, struct vcpu_exit *exit);
	uint64_t (*get_reg)(struct vcpu_hw *v, enum vcpu_reg r);
	void (*set_reg)(struct vcpu_hw *v, enum vcpu_reg r, uint64_t val);
	/* Completes the exiting instruction (moves RIP past it). */
	void (*skip_insn)(struct vcpu_hw *v, const struct vcpu_exit *exit);
	void (*inject_exception)(struct vcpu_hw *v, uint8_t vector, bool has_error, uint32_t error);
	/*
	 * True when inject_irq() may offer an external interrupt for the next
	 * run() (for a backend without irq_taken: IF set, no interrupt shadow,
	 * no event waiting to be injected).
	 */
	bool (*irq_injectable)(struct vcpu_hw *v);
	/*
	 * Offers external interrupt vector for the next run() only; only after
	 * irq_injectable().  Without irq_taken the vector is delivered at that
	 * entry.  With it the CPU holds the offer during that run and the
	 * guest takes it whenever its IF and interrupt shadow allow, or not at
	 * all: irq_taken() says which.
	 */
	void (*inject_irq)(struct vcpu_hw *v, uint8_t vector);
	/*
	 * Called after every run(): the vector offered for it that the guest
	 * took, or -1 (not taken, or its delivery cut short by the exit: offer
	 * it again).  NULL when inject_irq() delivers at entry for sure, so the
	 * vector counts as taken when it is offered.
	 */
	int (*irq_taken)(struct vcpu_hw *v);
	/*
	 * Asks for EXIT_IRQ_WINDOW as soon as the guest can take an interrupt
	 * (or stops asking).  NULL for a backend whose offers wait in the CPU
	 * (irq_taken set): it never needs a window.
	 */
	void (*irq_window)(struct vcpu_hw *v, bool on);
};

/* The backend picked at boot (never NULL after arch_virt_init()). */
extern const struct vcpu_ops *vcpu_ops;

/*
 * Once at boot, after the speculation policy: map guest RAM with 4 KiB
 * stage-2 leaves only when the CPU has iTLB multihit or pvhv's command line
 * says stage2=4k (prints the choice).
 */
void stage2_init(bool itlb_multihit);
bool stage2_small_pages(void);
/* Stage-2 page-table helpers built on vcpu_ops->stage2_fmt. */
int stage2_create(hpa_t *root);
int stage2_map(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size);
/* The same, not executable (needs host NX: falls back to stage2_map() without it). */
int stage2_map_noexec(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size);
/* The same, readable and executable only: a write is a stage-2 fault. */
int stage2_map_readonly(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size);
/*
 * The same for a device's memory (a passed-through BAR): read-write, not
 * executable, uncached whatever the guest's own page attributes say.
 */
int stage2_map_mmio(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size);
/* Removes the mappings of [gpa, gpa + size) (whole pages); the caller flushes. */
int stage2_unmap(hpa_t root, gpa_t gpa, uint64_t size);
/*
 * Replaces the mappings of [gpa, gpa + size) (whole 2 MiB pieces, each
 * mapped before) by read-write-execute ones to hpa.  The caller makes
 * every vCPU that may have cached the old ones flush (flush_stage2)
 * before anything relies on the new ones.  0, or -errno (-ENOMEM: no
 * page for a table), the range then left unmapped.
 */
int stage2_remap(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size);
void stage2_destroy(hpa_t root);
uint64_t stage2_count_tables(hpa_t root);

/* Host CPUID (unfiltered). */
void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* ------------------------------------------------------------ into pvh/ */

/* Entered once on the boot CPU after the arch is up. */
NORETURN void pvh_main(void);
/* Every host CPU, boot CPU included, ends up here. */
NORETURN void sched_cpu_loop(void);

#endif
