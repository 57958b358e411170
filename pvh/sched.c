/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched.c: round-robin time slicing of every domain's vCPUs over every host
 * CPU, and the end of a domain's life once its vCPUs are off their CPUs.
 *
 * One global run queue under one lock: vCPUs migrate freely.  The host
 * CPU's one-shot APIC timer makes a spinning guest exit at the end of its
 * slice, so no guest can starve the others.
 *
 * CPU shares (cpu-share, pvh/share.h): a vCPU's slice is proportional to
 * its domain's share, 10 ms at the default 100.  Runnable vCPUs take
 * turns in queue order, one slice each, so over a round each domain's
 * busy vCPUs get CPU time in proportion to its share; a vCPU that halts
 * or yields early gives the rest of its turn away and banks nothing (a
 * share is a weight among those that want the CPU, not a reservation).
 * The range, 10 to 400, bounds the slice to 1-40 ms: below 1 ms a slice
 * is about the housekeeping period (HOUSEKEEPING_US) and, under
 * emulation, the cost of a switch, so shares would stop being what a
 * domain gets; above 40 ms every other runnable vCPU on that CPU waits
 * that long per turn of a busy vCPU of that domain, too long for an
 * interactive sandbox.  A heavier weighting than 40:1 is for more
 * vCPUs, not a longer slice.  What each domain got is pvhv's own
 * accounting (cpu_tsc: DOMAIN_STATS cpu_us, the summary's cpu_us).
 */
#include "pvh/pvh.h"
#include "arch/x86/x86.h"
#include "pvh/imgstore.h"
#include "pvh/share.h"
#include "pvh/msi.h"

static struct spinlock lock;
static struct vcpu *runq_head, *runq_tail;
static volatile bool cpu_idle[MAX_CPUS];
static bool cpu_busy[MAX_CPUS]; /* running a vCPU (from the pick to the end of its run), under sched_lock */
uint64_t first_guest_entry_tsc;

void sched_lock(void)
{
	spin_lock(&lock);
}

/*
 * CPUs each lock holder kicks once it has let go of sched_lock.  An IPI
 * is not cheap to send: under emulation the ICR write can take
 * milliseconds (the emulator's own lock, the sending thread preempted by
 * the thread it just woke).  Sent under the lock, that whole time became
 * the lock's, and the woken CPU spun on it before it could pick the vCPU
 * it was woken for: 2-12 ms per wake-up, most of a disk request's time.
 */
static uint64_t kicks_due[MAX_CPUS];

void sched_kick_locked(unsigned cpu)
{
	kicks_due[this_cpu()->index] |= 1ULL << cpu;
}

void sched_unlock(void)
{
	unsigned me = this_cpu()->index;
	uint64_t due = kicks_due[me];

	kicks_due[me] = 0;
	spin_unlock(&lock);
	while (due) {
		cpu_kick((unsigned)__builtin_ctzll(due));
		due &= due - 1;
	}
}

void sched_enqueue_locked(struct vcpu *v)
{
	if (v->dom->paused) {
		v->state = VCPU_PAUSED;   /* sched_resume_domain() queues it */
		return;
	}
	v->state = VCPU_RUNNABLE;
	v->runq_next = NULL;
	if (runq_tail)
		runq_tail->runq_next = v;
	else
		runq_head = v;
	runq_tail = v;
	/*
	 * A CPU between two vCPUs (or idle and awake: a timer it found due)
	 * looks at the queue before it sleeps: alone there, v is this CPU's
	 * next.  Kicking another CPU for it would cost an IPI and a host CPU
	 * woken for nothing, or a migration.
	 */
	if (!cpu_busy[this_cpu()->index] && runq_head == v)
		return;
	/* Wake one idle CPU to take it. */
	for (unsigned i = 0; i < nr_cpus; i++) {
		if (cpu_idle[i] && i != this_cpu()->index) {
			cpu_idle[i] = false;
			sched_kick_locked(i);
			break;
		}
	}
}

/* Next vCPU whose domain still runs; it leaves the lock RUNNING on this CPU. */
static struct vcpu *pick_next_locked(void)
{
	struct vcpu *v;

	while ((v = runq_head)) {
		runq_head = v->runq_next;
		if (!runq_head)
			runq_tail = NULL;
		if (v->dom->paused && v->state == VCPU_RUNNABLE) {
			v->state = VCPU_PAUSED;   /* queued before its domain was paused */
			continue;
		}
		if (v->dom->state == DOM_RUNNING && v->state == VCPU_RUNNABLE) {
			v->state = VCPU_RUNNING;
			v->cpu = (int)this_cpu()->index;
			cpu_busy[v->cpu] = true;
			v->dom->on_cpu++;
			return v;
		}
	}
	return NULL;
}

/*
 * References are taken without sched_lock: the walks run at every
 * housekeeping on every CPU, and a lock there slowed guests' timers down
 * badly under TCG.  The increment and the state check pair with
 * domain_end()'s state change and reference check (both sequentially
 * consistent), so either the walker sees the domain dying or the ending
 * CPU sees the reference.
 */
bool dom_get(struct domain *dom)
{
	__atomic_add_fetch(&dom->refs, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&dom->state, __ATOMIC_SEQ_CST) == DOM_RUNNING)
		return true;
	dom_put(dom);
	return false;
}

void dom_put(struct domain *dom)
{
	if (__atomic_sub_fetch(&dom->refs, 1, __ATOMIC_SEQ_CST) != 0 ||
	    __atomic_load_n(&dom->state, __ATOMIC_SEQ_CST) != DOM_DYING)
		return;
	sched_lock();
	dom_quiesce_locked(dom);
	sched_unlock();
}

/*
 * Once per ending, when the domain is dying, no vCPU of it is on a CPU and
 * nobody holds a reference: queues its teardown (or rebuild) for the
 * service step at the top of a CPU's scheduling loop.  It never runs where
 * the condition is found: that can be an exit handler, a walk inside
 * another vCPU's run loop or housekeeping, deep in the stack, and a
 * rebuild is the deepest work pvhv does (a 16 KiB CPU stack overflowed
 * into the host page tables that way).
 */
static unsigned teardowns_pending;

bool dom_quiesce_locked(struct domain *dom)
{
	if (dom->state != DOM_DYING || dom->on_cpu || dom->quiescing ||
	    __atomic_load_n(&dom->refs, __ATOMIC_SEQ_CST))
		return false;
	dom->quiescing = true;
	dom->teardown_pending = true;
	teardowns_pending++;
	return true;
}

/*
 * Zeroing freed RAM ahead of time.  A CPU with vCPUs to run spends at
 * most about 1/SCRUB_DUTY of its time on it (one chunk, then a pause
 * SCRUB_DUTY - 1 times as long as the chunk took: about 100 us of every
 * 2 ms on hardware, far more under emulation); an idle CPU scrubs until a
 * vCPU is runnable.  Whatever is left when a domain needs memory is
 * zeroed by the take itself.
 */
#define SCRUB_DUTY 20
static uint64_t scrub_next_tsc[MAX_CPUS];

static void scrub_some(struct percpu *cpu)
{
	uint64_t t0, t1;

	if (!mempool_dirty())
		return;
	t0 = rdtsc();
	if ((int64_t)(t0 - scrub_next_tsc[cpu->index]) < 0)
		return;
	mempool_scrub_step(NULL);
	t1 = rdtsc();
	scrub_next_tsc[cpu->index] = t1 + (t1 - t0) * (SCRUB_DUTY - 1);
}

/* Between two pieces of an idle CPU's scrubbing: a halted vCPU's timer may have come due. */
static bool work_waiting(void)
{
	irq_wake_timers();
	return __atomic_load_n(&runq_head, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&teardowns_pending, __ATOMIC_RELAXED);
}

/* Top of the scheduling loop: the queued teardowns, each by one CPU, then some scrubbing. */
static void restart_due(void);
static void create_due(void);

static bool poweroff_due_locked(bool *serving_on);
static void domains_over(bool off, bool serving_on);

static void service(struct percpu *cpu)
{
	bool off, on;

	scrub_some(cpu);
	if (serve_stop_due())
		sched_stop_all();
	restart_due();
	create_due();
	if (serve_stopping()) {
		/* Nothing may have been running: then nothing ends and no teardown powers off. */
		sched_lock();
		off = poweroff_due_locked(&on);
		sched_unlock();
		domains_over(off, on);
	}
	while (__atomic_load_n(&teardowns_pending, __ATOMIC_ACQUIRE)) {
		struct domain *d = NULL;

		sched_lock();
		for (unsigned i = 0; i < nr_domains && !d; i++)
			if (dom_at(i)->teardown_pending)
				d = dom_at(i);
		if (d) {
			d->teardown_pending = false;
			teardowns_pending--;
		}
		sched_unlock();
		if (!d)
			return;
		sched_domain_quiesced(d);
	}
}

static void purge_domain_locked(struct domain *dom)
{
	struct vcpu **pp = &runq_head;

	runq_tail = NULL;
	while (*pp) {
		if ((*pp)->dom == dom) {
			*pp = (*pp)->runq_next;
			continue;
		}
		runq_tail = *pp;
		pp = &(*pp)->runq_next;
	}
}

static void check_deadlines(void)
{
	uint64_t now = time_us();

	for (unsigned i = 0; i < nr_domains; i++) {
		struct domain *d = dom_at(i);

		/* A domain created paused has its limit counted from its start. */
		if (d->state == DOM_RUNNING && d->deadline_us && now >= d->deadline_us &&
		    d->paused != DOM_PAUSED_HELD)
			domain_end(d, END_STOPPED, 0, "timeout after %lu ms (max-runtime-ms)",
				   (d->deadline_us - d->born_us) / 1000);
	}
}

/* Domains alive now (from their first start to their final end) and the most at once. */
static unsigned live_now, live_peak;

unsigned sched_live_peak(void)
{
	return __atomic_load_n(&live_peak, __ATOMIC_RELAXED);
}

static void live_end_locked(struct domain *d)
{
	if (d->live) {
		d->live = false;
		live_now--;
	}
}

static void start_domain_locked(struct domain *d)
{
	if (!d->live) {
		d->live = true;
		live_now++;
		live_peak = MAX(live_peak, live_now);
	}
	d->quiescing = false;
	__atomic_store_n(&d->state, DOM_RUNNING, __ATOMIC_SEQ_CST);
	d->end = END_NONE;
	d->start_us = time_us();
	d->start_tsc = rdtsc();
	if (!d->reboots) {
		/* A time limit covers the domain's whole life, reboots included. */
		d->born_us = d->start_us;
		d->deadline_us = d->cfg->max_runtime_ms ? d->born_us + d->cfg->max_runtime_ms * 1000ULL : 0;
	}
	sched_enqueue_locked(&d->vcpu[0]);
}

static bool all_ended(void)
{
	for (unsigned i = 0; i < nr_domains; i++)
		if (dom_at(i)->state != DOM_ENDED || dom_at(i)->restart_pending || dom_at(i)->create_pending)
			return false;
	return true;
}

/*
 * Under sched_lock, when a domain has ended for good: true once, when
 * pvhv powers off now (serve.c: every domain has ended, and pvhv does not
 * serve or was told to stop).  *serving_on: every domain has ended and a
 * service goes on, which it says (domains_over(), after the lock).
 */
static bool poweroff_claimed;

static bool poweroff_due_locked(bool *serving_on)
{
	*serving_on = false;
	if (poweroff_claimed || !all_ended())
		return false;
	if (serve_serving() && !serve_stopping()) {
		*serving_on = true;
		return false;
	}
	poweroff_claimed = true;
	return true;
}

/* What poweroff_due_locked() found, acted on without sched_lock (kprintf may wait for the UART). */
static void domains_over(bool off, bool serving_on)
{
	if (serving_on)
		kprintf("pvhv: every domain has ended; serving until told to stop "
			"(\"stop\" on the host console, or pvhctl host stop)\n");
	if (off)
		summary_and_poweroff();
}

/*
 * The host stop (serve.c), at a CPU's service step: every running domain
 * ends as stopped, a control domain waiting for its restart stays ended
 * (its disks are closed as for any end), and nothing created is built
 * (create_due()).  The teardowns and the power-off follow as usual.
 */
void sched_stop_all(void)
{
	for (unsigned i = 0; i < __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE); i++) {
		struct domain *d = dom_at(i);
		bool run, waiting;

		sched_lock();
		run = d->state == DOM_RUNNING;
		waiting = d->restart_pending;
		d->restart_pending = false;
		d->host_stopped = run;
		if (waiting)
			live_end_locked(d);
		sched_unlock();
		if (waiting)
			domain_release(d);
		if (run)
			domain_end(d, END_STOPPED, 0, "pvhv is stopping");
	}
}

/*
 * The control domain is pvhv's way to be managed: when it ends other than
 * by powering off (a crash, a triple fault, a time limit, destroyed), it
 * is built again after a back-off (1 s, doubling up to 30 s), while the
 * other domains keep running; its restarts share reboot-limit with its
 * reboots.  Its disks stay as over a reboot.  True when a restart waits.
 */
#define RESTART_BACKOFF_US 1000000ull
#define RESTART_BACKOFF_MAX_US 30000000ull

static bool restart_control(struct domain *dom)
{
	uint64_t backoff;

	if (!dom->cfg->control || dom->end == END_POWEROFF || dom->end == END_NOT_STARTED || serve_stopping())
		return false;
	if (dom->reboots >= dom->cfg->reboot_limit) {
		kprintf("pvhv: dom %s: the control domain is not restarted: reboot limit (%u) reached\n",
			dom->name, dom->cfg->reboot_limit);
		return false;
	}
	backoff = MIN(RESTART_BACKOFF_US << MIN(dom->reboots, 5u), RESTART_BACKOFF_MAX_US);
	dom->reboots++;
	kprintf("pvhv: dom %s: the control domain ended (%s); restarting in %lu ms (%u of at most %u)\n",
		dom->name, domain_end_name(dom->end), backoff / 1000, dom->reboots, dom->cfg->reboot_limit);
	sched_lock();
	dom->restart_at_us = time_us() + backoff;
	dom->restart_pending = true;
	dom->state = DOM_ENDED;
	sched_unlock();
	return true;
}

/* A control domain whose back-off is over is built and started (service step). */
static void restart_due(void)
{
	for (unsigned i = 0; i < nr_domains; i++) {
		struct domain *d = dom_at(i);
		bool due, last, on;

		sched_lock();
		due = d->restart_pending && time_us() >= d->restart_at_us;
		if (due)
			d->restart_pending = false;
		sched_unlock();
		if (!due)
			continue;
		if (domain_build(d) == 0) {
			kprintf("pvhv: dom %s: the control domain restarted\n", d->name);
			sched_lock();
			start_domain_locked(d);
			sched_unlock();
			continue;
		}
		d->end = END_STOPPED;
		kprintf("pvhv: dom %s stopped: rebuilding the control domain failed: %s\n", d->name, d->reason);
		domain_release(d);
		sched_lock();
		live_end_locked(d);
		last = poweroff_due_locked(&on);
		sched_unlock();
		domains_over(last, on);
	}
}

/* ------------------------------------------------------------ domains made at run time */

#define RUNTIME_STRINGS DOM_RUNTIME_STRINGS

/*
 * The creator's scratch (one request at a time: the management service
 * runs under the vsock router's lock): the request's strings, its
 * configuration, and a copy of every live domain's configuration for the
 * uniqueness checks, grown (never shrunk) as the domains grow in number.
 */
static struct domain_config scratch_cfg, *others;
static unsigned others_cap;
static char scratch_str[RUNTIME_STRINGS];

uint64_t sched_others_pages(void)
{
	return others ? pages_for(others_cap * sizeof(*others)) : 0;
}

/* Room in others for n configurations (outside sched_lock: the allocator may wait). */
static int others_reserve(unsigned n)
{
	uint64_t cap = others_cap;
	hpa_t pa;

	if (n <= others_cap)
		return 0;
	while (cap < n)
		cap = cap ? cap * 2 : 16;
	if (page_alloc(pages_for(cap * sizeof(*others)), 1, &pa))
		return -ENOMEM;
	if (others)
		page_free(ptr_to_hpa(others), pages_for(others_cap * sizeof(*others)));
	others = hpa_to_ptr(pa);
	others_cap = (unsigned)cap;
	return 0;
}

/*
 * Clears a reused slot (under sched_lock) but for its run-time
 * configuration and its lock words.  Other CPUs still look at an ended
 * domain's slot without a reference: the console writer tries every
 * domain's console lock (console.c) and pvhd's console and stats requests
 * take it (mgmt_svc.c).  Zeroing a ticket lock under its holder breaks it
 * for good (the holder's unlock leaves owner past next, and the next
 * spin_lock, the new domain's first console byte with interrupts off,
 * waits forever: all of pvhv stopped that way once in about 1400
 * create/destroy cycles).  So no lock word is written, and the console,
 * which those CPUs read, is cleared while its lock is held.
 */
static void slot_clear_locked(struct domain *d)
{
	static const size_t locks[] = {
		offsetof(struct domain, ram_lock), offsetof(struct domain, ioapic_lock),
		offsetof(struct domain, uart.lock), offsetof(struct domain, console.lock),
	};

	spin_lock(&d->console.lock);
	if (!memzero_except(d, offsetof(struct domain, runtime_cfg), locks, ARRAY_SIZE(locks),
			    sizeof(struct spinlock)))
		panic("struct domain: its locks are not in order");
	spin_unlock(&d->console.lock);
}

/* Moves a config's string pointers from one arena to another of the same layout. */
static const char *moved(const char *p, const char *from, char *to)
{
	return p && p >= from && p < from + RUNTIME_STRINGS ? to + (p - from) : p;
}

static void relocate(struct domain_config *c, const char *from, char *to)
{
	c->kernel = moved(c->kernel, from, to);
	c->initrd = moved(c->initrd, from, to);
	c->cmdline = moved(c->cmdline, from, to);
	for (unsigned i = 0; i < c->nr_disks; i++)
		c->disk[i].image = moved(c->disk[i].image, from, to);
	c->net.link = moved(c->net.link, from, to);
	c->vsock.connect = moved(c->vsock.connect, from, to);
}

static void unpin(struct image **pins)
{
	for (unsigned i = 0; i < 2 + CONFIG_MAX_VIRTIO; i++) {
		imgstore_put(pins[i]);
		pins[i] = NULL;
	}
}

static int create_domain(const char *name, const struct config_prop *props, unsigned n, unsigned *id,
			 uint32_t *gen, char *msg, size_t msglen, uint8_t paused)
{
	struct config_prop copy[16];
	size_t used = 0;
	unsigned slot, nothers = 0, count = __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE);
	struct domain *d, *fresh = NULL;

	if (n > ARRAY_SIZE(copy))
		return errorf(-EINVAL, msg, msglen, "%u properties, at most %zu", n, ARRAY_SIZE(copy));
	for (unsigned i = 0; i < n; i++) {
		if (props[i].len < 0 || (size_t)props[i].len > RUNTIME_STRINGS - used)
			return errorf(-EINVAL, msg, msglen, "the configuration is over %u bytes", RUNTIME_STRINGS);
		memcpy(scratch_str + used, props[i].val, (size_t)props[i].len);
		copy[i] = (struct config_prop){ props[i].name, scratch_str + used, props[i].len };
		used += (size_t)props[i].len;
	}
	/*
	 * Memory first, outside the lock: a new slot in case no ended domain's
	 * can be reused, and room for the others.  Only this function adds
	 * slots, one request at a time, so count stays right until the lock
	 * is taken.
	 */
	if (count < domain_table_capacity() && domain_slot_alloc(&fresh))
		fresh = NULL;   /* an ended domain's slot may still do */
	if (others_reserve(count)) {
		domain_slot_free(fresh);
		return errorf(-ENOMEM, msg, msglen, "no memory to check the name against %u domains", count);
	}
	sched_lock();
	/*
	 * A slot: the lowest ended one that waits for nothing, else the new
	 * one.  Reusing first keeps the table (pvhv's memory) as small as the
	 * most domains alive at once, however many come and go; an ended
	 * domain stays listed until its slot is needed (its end is in the
	 * event log).
	 */
	slot = count;
	for (unsigned i = 0; i < count && slot == count; i++) {
		d = dom_at(i);
		if (d->state == DOM_ENDED && !d->restart_pending && !d->cfg->control && !d->create_pending)
			slot = i;
	}
	if (slot == count && !fresh) {
		sched_unlock();
		if (count < domain_table_capacity())
			return errorf(-ENOMEM, msg, msglen,
				      "no memory for a new domain slot (%lu KiB) and no ended domain's to reuse",
				      domain_slot_pages() * PAGE_SIZE >> 10);
		return errorf(-ENOSPC, msg, msglen,
			      "all %u domain slots hold a live domain: as many as host memory allows (one per %u MiB)",
			      count, CONFIG_MEM_MIN_MIB);
	}
	for (unsigned i = 0; i < count; i++) {
		d = dom_at(i);
		if (i != slot && (d->state != DOM_ENDED || d->restart_pending))
			others[nothers++] = *d->cfg;   /* live names and CIDs stay unique */
	}
	if (config_domain_from_props(&scratch_cfg, name, copy, n, others, nothers)) {
		sched_unlock();
		domain_slot_free(fresh);
		return errorf(-EINVAL, msg, msglen, "%s", scratch_cfg.error);
	}
	/*
	 * Every image must be there now: a missing one is the request's error,
	 * not a failed build; uploaded ones are pinned until the build holds them.
	 */
	struct image *pins[2 + CONFIG_MAX_VIRTIO] = { 0 };
	{
		const struct domain_config *c = &scratch_cfg;
		const char *names[2 + CONFIG_MAX_VIRTIO] = { c->kernel, c->initrd };
		char why[96];

		for (unsigned i = 0; i < c->nr_disks; i++)
			names[2 + i] = c->disk[i].image;
		for (unsigned i = 0; i < 2 + c->nr_disks; i++)
			if (names[i] && imgstore_check(names[i], &pins[i], why, sizeof(why))) {
				unpin(pins);
				sched_unlock();
				domain_slot_free(fresh);
				return errorf(-EINVAL, msg, msglen, "%s: %s", i == 0 ? "kernel" : i == 1 ? "initrd" : "disk",
					      why);
			}
	}
	d = slot < count ? dom_at(slot) : fresh;
	*gen = slot < count ? d->gen + 1 : 1;
	/* The slot is reused: everything but the run-time configuration, rewritten below. */
	slot_clear_locked(d);
	memcpy(d->pins, pins, sizeof(pins));
	memcpy(d->runtime_str, scratch_str, used);
	d->runtime_cfg = scratch_cfg;
	relocate(&d->runtime_cfg, scratch_str, d->runtime_str);
	d->id = slot;
	d->gen = *gen;
	d->cfg = &d->runtime_cfg;
	snprintf(d->name, sizeof(d->name), "%s", d->runtime_cfg.name);
	d->state = DOM_EMPTY;
	d->paused = paused;
	d->create_pending = true;
	if (slot == count) {
		domain_slot_publish_locked(d);
		fresh = NULL;
	}
	sched_unlock();
	domain_slot_free(fresh);
	*id = slot;
	return 0;
}

uint64_t sched_table_growth_pages(void)
{
	return (__atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE) - mem_boot_slots) * domain_slot_pages() +
	       sched_others_pages();
}

int sched_create_domain(const char *name, const struct config_prop *props, unsigned n, unsigned *id,
			uint32_t *gen, char *msg, size_t msglen)
{
	return create_domain(name, props, n, id, gen, msg, msglen, DOM_PAUSED_NO);
}

int sched_create_domain_held(const char *name, const struct config_prop *props, unsigned n, unsigned *id,
			     uint32_t *gen, char *msg, size_t msglen)
{
	return create_domain(name, props, n, id, gen, msg, msglen, DOM_PAUSED_HELD);
}

/* Builds and starts the domains made at run time (service step: never inside an exit). */
static void create_due(void)
{
	for (unsigned i = 0; i < __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE); i++) {
		struct domain *d = dom_at(i);
		bool due;
		int rc;

		sched_lock();
		due = d->create_pending;
		d->create_pending = false;
		sched_unlock();
		if (!due)
			continue;
		if (serve_stopping()) {
			rc = -EAGAIN;
			snprintf(d->reason, sizeof(d->reason), "pvhv is stopping");
		} else {
			rc = domain_build(d);
		}
		unpin(d->pins);   /* the build holds what it uses now */
		if (rc == 0) {
			kprintf("pvhv: dom %s created (slot %u, generation %u): %lu MiB RAM, %u vcpu%s, "
				"built in %lu us\n", d->name, d->id, d->gen, d->ram_size >> 20, d->nr_vcpus,
				d->nr_vcpus == 1 ? "" : "s", d->build_us);
			sched_lock();
			start_domain_locked(d);
			sched_unlock();
			continue;
		}
		domain_release(d);
		kprintf("pvhv: dom %s not started: %s\n", d->name, d->reason);
		d->end = END_NOT_STARTED;
		domain_event_not_started(d);
		sched_lock();
		d->state = DOM_ENDED;
		sched_unlock();
	}
}

void sched_domain_quiesced(struct domain *dom)
{
	bool reboot, on;

	sched_lock();
	purge_domain_locked(dom);
	sched_unlock();

	reboot = dom->end == END_REBOOT;
	if (reboot && serve_stopping()) {
		reboot = false;
		dom->end = END_STOPPED;
		dom->host_stopped = true;
		snprintf(dom->reason, sizeof(dom->reason), "pvhv is stopping");
		kprintf("pvhv: dom %s stopped: %s (instead of its reboot)\n", dom->name, dom->reason);
	} else if (reboot && dom->reboots >= dom->cfg->reboot_limit) {
		reboot = false;
		dom->end = END_STOPPED;
		snprintf(dom->reason, sizeof(dom->reason), "reboot limit (%u) reached", dom->cfg->reboot_limit);
		kprintf("pvhv: dom %s stopped: %s\n", dom->name, dom->reason);
	}
	domain_teardown(dom);
	if (reboot) {
		dom->reboots++;
		kprintf("pvhv: dom %s rebooting (%u of at most %u)\n", dom->name, dom->reboots,
			dom->cfg->reboot_limit);
		if (domain_build(dom) == 0) {
			sched_lock();
			start_domain_locked(dom);
			sched_unlock();
			return;
		}
		dom->end = END_STOPPED;
		kprintf("pvhv: dom %s stopped: rebuilding for reboot failed: %s\n", dom->name,
			dom->reason);
	}
	if (!reboot && restart_control(dom))
		return;
	domain_release(dom);
	sched_lock();
	dom->state = DOM_ENDED;
	live_end_locked(dom);
	reboot = poweroff_due_locked(&on);
	sched_unlock();
	domains_over(reboot, on);
}

/*
 * Time limits, host console input and the timers of halted vCPUs, at most
 * every HOUSEKEEPING_US on each CPU.  Called at every timer exit and every
 * scheduling decision: a guest that yields all the time never lets the
 * slice timer fire, and must not starve these.
 */
#define HOUSEKEEPING_US 1000

static void housekeeping(struct percpu *cpu)
{
	uint64_t now = rdtsc();

	if (now - cpu->housekeeping_tsc < HOUSEKEEPING_US * tsc_khz() / 1000)
		return;
	cpu->housekeeping_tsc = now;
	check_deadlines();
	devices_housekeeping(time_us());
	console_poll_input();
	console_drain();
	irq_wake_timers();
}

static void announce(struct percpu *cpu)
{
	if (!cpu->announced) {
		cpu->announced = true;
		kprintf("pvhv: cpu %u running vcpus\n", cpu->index);
	}
}

/* The host timer fires at the end of the slice or at the vCPU's own timer, whichever is first. */
static uint64_t next_event(struct vcpu *v, uint64_t slice_end)
{
	uint64_t dl = irq_timer_deadline(v);

	return dl && dl < slice_end ? dl : slice_end;
}

/*
 * Just before run(): the vCPU says it is in the guest, then flushes if a
 * stage-2 shootdown happened since its last entry (the other half is
 * stage2_shootdown() in domain.c; both orders are sequentially consistent).
 */
static void enter_guest(struct vcpu *v)
{
	uint32_t g;

	__atomic_store_n(&v->in_guest, true, __ATOMIC_SEQ_CST);
	g = __atomic_load_n(&v->dom->s2_gen, __ATOMIC_SEQ_CST);
	if (g != v->s2_gen) {
		v->hw.flush_stage2 = true;
		__atomic_store_n(&v->s2_gen, g, __ATOMIC_RELEASE);
	}
}

static void run_vcpu(struct vcpu *v)
{
	struct percpu *cpu = this_cpu();
	struct domain *d = v->dom;
	uint64_t slice_tsc = share_slice_us(d->cfg->cpu_share) * tsc_khz() / 1000;
	uint64_t slice_end, armed = 0;
	enum exit_action act = ACT_CONTINUE;
	struct vcpu_exit e;

	announce(cpu);
	vcpu_switch_in(&v->hw);
	if (!first_guest_entry_tsc)
		__atomic_compare_exchange_n(&first_guest_entry_tsc, &(uint64_t){ 0 }, rdtsc(), false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	slice_end = rdtsc() + slice_tsc;
	for (;;) {
		uint64_t t0, ev;

		cpu->kick = false;
		if (d->state != DOM_RUNNING) {
			act = ACT_DEAD;
			break;
		}
		if (__atomic_load_n(&d->paused, __ATOMIC_RELAXED)) {
			act = ACT_YIELD;   /* the epilogue parks it */
			break;
		}
		t0 = rdtsc(); /* from here to the exit handled, the time is the domain's */
		if (d->dev_pending)
			devices_poll(d); /* device work a notification left: bounded, charged here */
		irq_before_entry(v);
		ev = next_event(v, slice_end);
		if (ev != armed) {
			timer_arm_tsc(ev);
			armed = ev;
		}
		/*
		 * The timer interrupt alone should make the guest exit, whatever
		 * its RFLAGS.IF (external-interrupt exiting, the INTR intercept).
		 * Bochs 2.7 gets that wrong: VM entry computes the interrupt mask
		 * before it marks the CPU as in the guest, so a guest entered
		 * with IF=0 masks host interrupts until it changes IF itself.  A
		 * timer of the backend that ignores IF (VMX-preemption timer)
		 * covers that; on SVM only the PAUSE filter does (EXIT_PAUSE).
		 */
		v->hw.exit_deadline_tsc = ev;
		enter_guest(v);
		vcpu_ops->run(&v->hw, &e);
		__atomic_store_n(&v->in_guest, false, __ATOMIC_RELEASE);
		irq_after_exit(v);
		__atomic_fetch_add(&d->exits_total, 1, __ATOMIC_RELAXED);
		if (e.reason == EXIT_INTR || e.reason == EXIT_PAUSE) {
			__atomic_fetch_add(&d->exits[e.reason], 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&d->cpu_tsc, rdtsc() - t0, __ATOMIC_RELAXED);
			/* Let the pending host interrupt in, if any: timer tick or kick. */
			irq_enable();
			__asm__ volatile("nop");
			irq_disable();
			msi_poll(); /* a device interrupt just noted goes to its domain now */
			/* One-shot: whatever was armed may have fired. */
			if (e.reason == EXIT_INTR || (int64_t)(rdtsc() - armed) >= 0)
				armed = 0;
			housekeeping(cpu);
			if ((int64_t)(rdtsc() - slice_end) >= 0) {
				if (runq_head) {
					act = ACT_YIELD;
					break;
				}
				slice_end = rdtsc() + slice_tsc;
			}
			continue;
		}
		act = vcpu_handle_exit(v, &e);
		/* After handling: the handler may say what the exit turned out to be (EXIT_COW). */
		__atomic_fetch_add(&d->exits[e.reason < EXIT_NR ? e.reason : EXIT_UNEXPECTED], 1,
				   __ATOMIC_RELAXED);
		__atomic_fetch_add(&d->cpu_tsc, rdtsc() - t0, __ATOMIC_RELAXED);
		if (act != ACT_CONTINUE)
			break;
	}
	timer_arm_us(0);
	vcpu_switch_out(&v->hw);
	if (vcpu_ops->vcpu_put)
		vcpu_ops->vcpu_put(&v->hw);

	sched_lock();
	cpu_busy[cpu->index] = false;
	d->on_cpu--;
	v->cpu = -1;
	if (d->state != DOM_RUNNING) {
		v->state = VCPU_DEAD;
		dom_quiesce_locked(d); /* queues the teardown if this was the last one out */
	} else if (act == ACT_BLOCK && (v->halted_for_good || !irq_pending(v))) {
		/* An interrupt that arrived since the HLT was seen keeps it runnable. */
		v->state = VCPU_BLOCKED;
	} else {
		sched_enqueue_locked(v);
	}
	sched_unlock();
}

NORETURN void sched_cpu_loop(void)
{
	struct percpu *cpu = this_cpu();

	for (;;) {
		struct vcpu *v;

		service(cpu);
		housekeeping(cpu);
		sched_lock();
		v = pick_next_locked();
		cpu_idle[cpu->index] = !v; /* also after a scrub step: a busy CPU is never "idle" */
		sched_unlock();
		if (v) {
			run_vcpu(v);
			continue;
		}
		/* Nothing to run: zero freed RAM before sleeping (a kick still finds this CPU idle). */
		if (mempool_scrub_step(work_waiting))
			continue;
		/* Sleep until a kick, the next guest timer of a halted vCPU, or a slice. */
		{
			uint64_t dl = irq_wake_timers();
			uint64_t cap = rdtsc() + SLICE_US * tsc_khz() / 1000;

			/* A vCPU whose timer was just found due is this CPU's: nobody was kicked for it. */
			if (__atomic_load_n(&runq_head, __ATOMIC_RELAXED))
				continue;
			timer_arm_tsc(dl && dl < cap ? dl : cap);
		}
		irq_enable_and_halt();
		msi_poll();
		cpu_idle[cpu->index] = false;
		cpu->housekeeping_tsc = 0; /* woken: look at everything now */
	}
}

/* Starts every domain that was built; called once by the boot CPU. */
void sched_start(void)
{
	sched_lock();
	for (unsigned i = 0; i < nr_domains; i++)
		if (dom_at(i)->state == DOM_EMPTY && dom_at(i)->vcpu)
			start_domain_locked(dom_at(i));
	sched_unlock();
}

/* ------------------------------------------------------------ pause and resume */

int sched_pause_domain(struct domain *d, char *msg, size_t msglen)
{
	int rc = 0;

	sched_lock();
	if (d->state != DOM_RUNNING) {
		rc = errorf(-EINVAL, msg, msglen, "%s is not running", d->name);
	} else if (d->paused) {
		rc = errorf(-EINVAL, msg, msglen, "%s is %s", d->name,
			    d->paused == DOM_PAUSED_HELD ? "not started yet" : "paused already");
	} else {
		__atomic_store_n(&d->paused, DOM_PAUSED_USER, __ATOMIC_RELEASE);
		d->paused_since_us = time_us();
		/* Those on a CPU see the flag at their next exit; a kick makes that now. */
		for (unsigned i = 0; i < d->nr_vcpus; i++)
			if (d->vcpu[i].state == VCPU_RUNNING && d->vcpu[i].cpu >= 0 &&
			    d->vcpu[i].cpu != (int)this_cpu()->index)
				sched_kick_locked((unsigned)d->vcpu[i].cpu);
	}
	sched_unlock();
	return rc;
}

/* Under sched_lock: a held domain's life (and time limit) begins at its start. */
static void first_start_locked(struct domain *d)
{
	d->start_us = d->born_us = time_us();
	d->start_tsc = rdtsc();
	d->deadline_us = d->cfg->max_runtime_ms ? d->born_us + d->cfg->max_runtime_ms * 1000ULL : 0;
}

int sched_resume_domain(struct domain *d, bool start, char *msg, size_t msglen)
{
	uint8_t want = start ? DOM_PAUSED_HELD : DOM_PAUSED_USER;

	sched_lock();
	if (d->paused != want || (d->state != DOM_RUNNING && !d->create_pending && d->state != DOM_EMPTY)) {
		sched_unlock();
		if (d->state == DOM_DYING || d->state == DOM_ENDED)
			return errorf(-EINVAL, msg, msglen, "%s has ended", d->name);
		return errorf(-EINVAL, msg, msglen, start ? "%s was not created paused, or has started" :
			      "%s is not paused", d->name);
	}
	__atomic_store_n(&d->paused, DOM_PAUSED_NO, __ATOMIC_RELEASE);
	if (!start)
		d->paused_us += time_us() - d->paused_since_us;
	else if (d->state == DOM_RUNNING)
		first_start_locked(d);   /* else still being built: start_domain_locked() sets it */
	for (unsigned i = 0; d->state == DOM_RUNNING && i < d->nr_vcpus; i++) {
		struct vcpu *v = &d->vcpu[i];

		/* What arrived meanwhile (a timer, a device's interrupt) wakes a halted one now. */
		if (v->state == VCPU_PAUSED ||
		    (v->state == VCPU_BLOCKED && !v->halted_for_good && irq_pending(v)))
			sched_enqueue_locked(v);
	}
	sched_unlock();
	return 0;
}
