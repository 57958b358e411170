/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack.c: the virtio guest's hostile cases against the rng device, one
 * broken ring or register sequence each (virtio 1.2, 2.7 and 4.2.3).
 *
 * A device must survive each: the rule-breaking cases end with NEEDS_RESET
 * (and a config-change interrupt), a bad queue configuration is refused
 * (QueueReady stays 0) or ends with NEEDS_RESET, a notification storm and
 * a stray kick just return, a queue moved while live is ignored or ends
 * with NEEDS_RESET.  In every case nothing in the arena outside the
 * buffers changes, and after a reset the device serves a good request.
 *
 * Cases (what=): loop (a->b->a), long (qsize + 1 hops), longind (an
 * indirect table of qsize + 1), nextoob, headoob (index = qsize), indnoneg
 * (INDIRECT not negotiated), indnest, indlen (24 bytes), indzero, indnext
 * (INDIRECT | NEXT), oob (buffer at oob=, default 4 GiB), overflow
 * (0xfffffffffffff000 + 0x2000; page 0 must not change), zerolen, hugelen
 * (0xffffffff), availjump (idx + 65535); qsize (3), qzero, qbig (2 *
 * QueueNumMax), misdesc, misavail, misused, ringoob (refused); storm,
 * notifybad (queues 1, 7, 8, 0xffff, 0xffffffff), moveq, midreset.
 */
#include "vguest.h"

#define W VIO_DESC_F_WRITE
#define N VIO_DESC_F_NEXT
#define I VIO_DESC_F_INDIRECT
#define WAIT_MS 1000u
#define STORM_DEFAULT 100000u

static struct {
	struct vio_dev d;
	uint16_t qsize;
	uint64_t ring;        /* queue 0 as the case sets it up */
	uint64_t spare;       /* a second ring (moveq, midreset) */
	uint64_t a, b;        /* 4 KiB device-writable buffers */
	uint64_t bait;        /* a buffer only the spare ring names */
	uint64_t table;       /* indirect tables, (qsize + 2) descriptors */
	uint64_t oob;         /* a GPA outside RAM */
} c;

static struct vio_queue *q0(void)
{
	return &c.d.q[0];
}

/*
 * Fresh arena pieces, then features negotiated and, with queue, queue 0
 * set up and DRIVER_OK.  0, or -1 after a failed check.
 */
static int begin(const char *name, uint64_t features, bool queue)
{
	arena_reset();
	c.ring = arena_take(vio_queue_bytes(c.qsize), 16);
	c.spare = arena_take(vio_queue_bytes(c.qsize), 16);
	c.a = arena_take(4 * KIB, 4 * KIB);
	c.b = arena_take(4 * KIB, 4 * KIB);
	c.bait = arena_take(64, 64);
	c.table = arena_take(16ull * (c.qsize + 2), 16);
	memset((void *)(uintptr_t)c.bait, ARENA_FILL, 64);

	if (vio_negotiate(&c.d, features) < 0 || (c.d.features & features) != features)
		return check(0, "%s: negotiate 0x%lx (got 0x%lx)", name, features, c.d.features), -1;
	if (queue && (vio_queue_setup(&c.d, 0, c.qsize, c.ring) < 0 || vio_driver_ok(&c.d) < 0))
		return check(0, "%s: queue 0 set up", name), -1;
	return 0;
}

static uint32_t wait_status(uint32_t bits, uint64_t ms)
{
	int known;
	uint64_t limit = ms * vio_ticks_per_ms(&known), t0 = tsc_read();
	uint32_t s;

	while (!((s = vio_status(&c.d)) & bits) && tsc_read() - t0 < limit)
		cpu_relax();
	return s;
}

/* Kicks queue 0 and expects the device to give up on it. */
static void expect_broken(const char *name)
{
	vio_notify(&c.d, 0);
	uint32_t s = wait_status(VIO_S_NEEDS_RESET, WAIT_MS);
	check(s & VIO_S_NEEDS_RESET, "%s: NEEDS_RESET (status 0x%x, used idx %u)", name, s,
	      vio_used_idx(q0()));
	uint32_t isr = vio_irq_ack(&c.d);
	check(isr & VIO_INT_CONFIG, "%s: config-change interrupt (InterruptStatus 0x%x)", name,
	      isr);
}

/* After a queue configuration the device must not take: QueueReady 0, or NEEDS_RESET. */
static void expect_refused(const char *name, uint32_t ready)
{
	uint32_t s = vio_status(&c.d);

	check(!ready || (s & VIO_S_NEEDS_RESET), "%s: refused (QueueReady %u, status 0x%x)", name,
	      ready, s);
}

/* ------------------------------------------------------------ broken chains */
static void a_loop(const char *name)
{
	vio_raw_desc(q0(), 0, c.a, 64, W | N, 1);
	vio_raw_desc(q0(), 1, c.b, 64, W | N, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

/* Every descriptor once, then back to the first: qsize + 1 hops. */
static void a_long(const char *name)
{
	for (uint16_t i = 0; i < c.qsize; i++)
		vio_raw_desc(q0(), i, c.a + 16ull * i, 16, W | N, (i + 1) % c.qsize);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

/* An indirect table of qsize + 1 descriptors, no loop (2.7.5.3.1: chain <= queue size). */
static void a_longind(const char *name)
{
	volatile struct vio_desc *t = (volatile struct vio_desc *)(uintptr_t)c.table;
	unsigned n = c.qsize + 1u;

	for (unsigned i = 0; i < n; i++)
		t[i] = (struct vio_desc){ c.a + 8ull * i, 8, W | (i + 1 < n ? N : 0), i + 1 };
	vio_raw_desc(q0(), 0, c.table, 16 * n, I, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

static void a_nextoob(const char *name)
{
	vio_raw_desc(q0(), 0, c.a, 64, W | N, c.qsize);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

static void a_headoob(const char *name)
{
	vio_raw_desc(q0(), 0, c.a, 64, W, 0);
	vio_raw_avail(q0(), c.qsize);
	expect_broken(name);
}

/* Runs with and without INDIRECT negotiated: the table is a good one. */
static void a_indirect(const char *name, uint32_t len, uint16_t flags)
{
	volatile struct vio_desc *t = (volatile struct vio_desc *)(uintptr_t)c.table;

	t[0] = (struct vio_desc){ c.a, 64, W | N, 1 };
	t[1] = (struct vio_desc){ c.b, 64, W, 0 };
	vio_raw_desc(q0(), 0, c.table, len, flags, 1);
	vio_raw_desc(q0(), 1, c.b + 2048, 64, W, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

static void a_indnoneg(const char *name) { a_indirect(name, 32, I); }
static void a_indlen(const char *name) { a_indirect(name, 24, I); }
static void a_indzero(const char *name) { a_indirect(name, 0, I); }
static void a_indnext(const char *name) { a_indirect(name, 32, I | N); }

static void a_indnest(const char *name)
{
	volatile struct vio_desc *t = (volatile struct vio_desc *)(uintptr_t)c.table;

	t[0] = (struct vio_desc){ c.table + 32, 16, I, 0 };
	t[2] = (struct vio_desc){ c.a, 64, W, 0 };
	vio_raw_desc(q0(), 0, c.table, 16, I, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

static void a_oob(const char *name)
{
	if (!check(ram_top() <= c.oob, "%s: 0x%lx is above RAM (top 0x%lx)", name, c.oob,
		   ram_top()))
		return;
	vio_raw_desc(q0(), 0, c.oob, 64, W, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

/* 0xfffffffffffff000 + 0x2000 wraps to 0x1000: page 0 must not change. */
static void a_overflow(const char *name)
{
	static uint8_t page0[4096];
	volatile uint64_t zero = 0;   /* hides the address from the compiler */
	const void *p = (const void *)(uintptr_t)zero;

	memcpy(page0, p, sizeof(page0));
	vio_raw_desc(q0(), 0, 0xfffffffffffff000ull, 0x2000, W, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
	const volatile uint8_t *now = p;
	unsigned changed = 0, first = 0;
	for (unsigned i = 0; i < sizeof(page0); i++)
		if (now[i] != page0[i] && !changed++)
			first = i;
	check(!changed, "%s: page 0 unchanged (%u bytes changed, first at 0x%x)", name, changed,
	      first);
}

static void a_zerolen(const char *name)
{
	vio_raw_desc(q0(), 0, c.a, 0, W, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

static void a_hugelen(const char *name)
{
	vio_raw_desc(q0(), 0, c.a, 0xffffffffu, W, 0);
	vio_raw_avail(q0(), 0);
	expect_broken(name);
}

/* avail->idx 65535 ahead of the device: more entries than the ring has. */
static void a_availjump(const char *name)
{
	vio_raw_desc(q0(), 0, c.a, 64, W, 0);
	q0()->avail[2] = 0;
	vio_raw_avail_idx(q0(), q0()->avail_idx + 65535);
	expect_broken(name);
}

/* ------------------------------------------------------------ bad queue configurations */
static uint64_t avail_of(uint64_t ring) { return ring + 16ull * c.qsize; }
static uint64_t used_of(uint64_t ring) { return (avail_of(ring) + 6 + 2ull * c.qsize + 3) & ~3ull; }

static void a_qsize(const char *name)
{
	expect_refused(name, vio_raw_queue(&c.d, 0, 3, c.ring, avail_of(c.ring), used_of(c.ring)));
}

static void a_qzero(const char *name)
{
	expect_refused(name, vio_raw_queue(&c.d, 0, 0, c.ring, avail_of(c.ring), used_of(c.ring)));
}

static void a_qbig(const char *name)
{
	vio_write32(&c.d, VIO_QUEUE_SEL, 0);
	uint32_t max = vio_read32(&c.d, VIO_QUEUE_NUM_MAX);

	expect_refused(name, vio_raw_queue(&c.d, 0, 2 * max, c.ring, avail_of(c.ring),
					   used_of(c.ring)));
}

static void a_misdesc(const char *name)
{
	expect_refused(name, vio_raw_queue(&c.d, 0, c.qsize, c.ring + 8, avail_of(c.ring) + 8,
					   used_of(c.ring) + 8));
}

static void a_misavail(const char *name)
{
	expect_refused(name, vio_raw_queue(&c.d, 0, c.qsize, c.ring, avail_of(c.ring) + 1,
					   used_of(c.ring) + 4));
}

static void a_misused(const char *name)
{
	expect_refused(name, vio_raw_queue(&c.d, 0, c.qsize, c.ring, avail_of(c.ring),
					   used_of(c.ring) + 2));
}

static void a_ringoob(const char *name)
{
	expect_refused(name, vio_raw_queue(&c.d, 0, c.qsize, c.oob, avail_of(c.ring),
					   used_of(c.ring)));
}

/* ------------------------------------------------------------ live queues */
/* Kicks with nothing available: each must just return. */
static void a_storm(const char *name)
{
	uint64_t n = cmdline_u64("storm", STORM_DEFAULT);
	int known;
	uint64_t per_ms = vio_ticks_per_ms(&known), t0 = tsc_read();

	for (uint64_t i = 0; i < n; i++)
		vio_write32(&c.d, VIO_QUEUE_NOTIFY, 0);
	uint64_t dt = tsc_read() - t0;
	gprintf("%s: %lu notifies in %lu TSC ticks = %lu us, %lu ns each%s\n", name, n, dt,
		dt * 1000 / per_ms, n ? dt * 1000000 / per_ms / n : 0,
		known ? "" : " (no pvclock: 4 GHz assumed)");
	uint32_t s = vio_status(&c.d);
	check(!(s & (VIO_S_NEEDS_RESET | VIO_S_FAILED)) && vio_used_idx(q0()) == 0,
	      "%s: device untouched (status 0x%x, used idx %u)", name, s, vio_used_idx(q0()));
}

/* Kicks for queues the device lacks: ignored, or NEEDS_RESET. */
static void a_notifybad(const char *name)
{
	static const uint32_t bad[] = { 1, 7, 8, 0xffff, 0xffffffffu };

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		vio_write32(&c.d, VIO_QUEUE_NOTIFY, bad[i]);
	uint32_t s = vio_status(&c.d);
	check(vio_used_idx(q0()) == 0 && !(s & VIO_S_FAILED),
	      "%s: ignored or NEEDS_RESET (status 0x%x, used idx %u)", name, s, vio_used_idx(q0()));
}

/*
 * Rewrites queue 0's size and ring addresses while it is live, to a
 * spare ring holding a chain into bait, then uses the old ring.  The device
 * must keep the old ring (the request completes there) or give up with
 * NEEDS_RESET; it must never touch the spare ring or bait.
 */
static void a_moveq(const char *name)
{
	if (!rng_good_request(&c.d, c.a, 64, name))
		return;
	volatile struct vio_desc *sd = (volatile struct vio_desc *)(uintptr_t)c.spare;
	volatile uint16_t *sa = (volatile uint16_t *)(uintptr_t)avail_of(c.spare);
	volatile uint16_t *su = (volatile uint16_t *)(uintptr_t)used_of(c.spare);

	sd[0] = (struct vio_desc){ c.bait, 64, W, 0 };
	sa[2] = 0;
	sa[1] = 1;
	vio_write32(&c.d, VIO_QUEUE_SEL, 0);
	vio_write32(&c.d, VIO_QUEUE_NUM, c.qsize / 2 ? c.qsize / 2 : 1);
	vio_write64(&c.d, VIO_QUEUE_DESC_LO, c.spare);
	vio_write64(&c.d, VIO_QUEUE_AVAIL_LO, avail_of(c.spare));
	vio_write64(&c.d, VIO_QUEUE_USED_LO, used_of(c.spare));

	struct vio_buf b = { c.b, 64, true };
	struct vio_used_elem e = { 0, 0 };
	int head = vio_submit(&c.d, 0, &b, 1, 0);
	vio_notify(&c.d, 0);
	int done = vio_wait(&c.d, 0, WAIT_MS, &e) == 0;
	uint32_t s = vio_status(&c.d);
	check((done && e.id == (uint32_t)head && e.len && e.len <= 64) ||
	      (!done && (s & VIO_S_NEEDS_RESET)),
	      "%s: ignored or NEEDS_RESET (completed %d, id %u len %u, status 0x%x)", name, done,
	      e.id, e.len, s);
	const uint8_t *p = (const uint8_t *)(uintptr_t)c.bait;
	unsigned touched = 0;
	for (unsigned i = 0; i < 64; i++)
		touched += p[i] != ARENA_FILL;
	check(su[1] == 0 && !touched, "%s: spare ring unused (its used idx %u, %u bait bytes changed)",
	      name, su[1], touched);
}

/*
 * Status = 0 with a chain published but not kicked, then a kick to the
 * reset device; then once more with the kick first.  The reset must read
 * back as 0 with QueueReady 0 and the old ring must stay untouched after it.
 */
static void a_midreset(const char *name)
{
	for (int kick_first = 0; kick_first < 2; kick_first++) {
		uint64_t ring = kick_first ? c.spare : c.ring;
		if (kick_first && (vio_negotiate(&c.d, 0) < 0 ||
				   vio_queue_setup(&c.d, 0, c.qsize, ring) < 0 ||
				   vio_driver_ok(&c.d) < 0)) {
			check(0, "%s: set up again on the spare ring", name);
			return;
		}
		struct vio_queue q = *q0();   /* the driver's view survives the reset */
		vio_raw_desc(&q, 0, c.a, 64, W, 0);
		vio_raw_avail(&q, 0);
		if (kick_first)
			vio_notify(&c.d, 0);
		vio_write32(&c.d, VIO_STATUS, 0);
		uint32_t s = vio_status(&c.d);
		for (unsigned i = 0; s && i < 1000000; i++)
			s = vio_status(&c.d);
		vio_write32(&c.d, VIO_QUEUE_SEL, 0);
		uint32_t ready = vio_read32(&c.d, VIO_QUEUE_READY);
		check(!s && !ready, "%s (%s): reset reads status 0x%x, QueueReady %u", name,
		      kick_first ? "after the kick" : "before the kick", s, ready);
		uint16_t used = vio_used_idx(&q);
		vio_notify(&c.d, 0);
		int known;
		uint64_t t0 = tsc_read(), limit = 50 * vio_ticks_per_ms(&known);
		while (tsc_read() - t0 < limit)
			cpu_relax();
		check(vio_used_idx(&q) == used, "%s: ring untouched after the reset (used idx %u -> %u)",
		      name, used, vio_used_idx(&q));
	}
}

/* ------------------------------------------------------------ the driver */
struct attack {
	const char *name;
	void (*run)(const char *name);
	uint64_t features;   /* negotiated for the case */
	bool queue;          /* queue 0 set up and DRIVER_OK first */
};

static const struct attack attacks[] = {
	{ "loop", a_loop, 0, true },
	{ "long", a_long, 0, true },
	{ "longind", a_longind, VIO_F_INDIRECT_DESC, true },
	{ "nextoob", a_nextoob, 0, true },
	{ "headoob", a_headoob, 0, true },
	{ "indnoneg", a_indnoneg, 0, true },
	{ "indnest", a_indnest, VIO_F_INDIRECT_DESC, true },
	{ "indlen", a_indlen, VIO_F_INDIRECT_DESC, true },
	{ "indzero", a_indzero, VIO_F_INDIRECT_DESC, true },
	{ "indnext", a_indnext, VIO_F_INDIRECT_DESC, true },
	{ "oob", a_oob, 0, true },
	{ "overflow", a_overflow, 0, true },
	{ "zerolen", a_zerolen, 0, true },
	{ "hugelen", a_hugelen, 0, true },
	{ "availjump", a_availjump, 0, true },
	{ "qsize", a_qsize, 0, false },
	{ "qzero", a_qzero, 0, false },
	{ "qbig", a_qbig, 0, false },
	{ "misdesc", a_misdesc, 0, false },
	{ "misavail", a_misavail, 0, false },
	{ "misused", a_misused, 0, false },
	{ "ringoob", a_ringoob, 0, false },
	{ "storm", a_storm, 0, true },
	{ "notifybad", a_notifybad, 0, true },
	{ "moveq", a_moveq, 0, true },
	{ "midreset", a_midreset, 0, true },
};

/* Is name one of the comma-separated words of list? */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		const char *e = p;
		while (*e && *e != ',')
			e++;
		if ((size_t)(e - p) == n && memcmp(p, name, n) == 0)
			return 1;
		p = *e ? e + 1 : e;
	}
	return 0;
}

static void recover(const char *name)
{
	char what[48];

	gsnprintf(what, sizeof(what), "%s: recovery", name);
	if (vio_negotiate(&c.d, 0) < 0 || vio_queue_setup(&c.d, 0, c.qsize, c.ring) < 0 ||
	    vio_driver_ok(&c.d) < 0) {
		check(0, "%s: reset and set up again", what);
		return;
	}
	rng_good_request(&c.d, c.a, 64, what);
}

void run_attacks(const char *what_arg)
{
	static char what[256];   /* cmdline_get()'s buffers rotate: keep a copy */
	unsigned ran = 0;

	if (!what_arg || !*what_arg) {
		check(0, "what=CASE[,CASE...]|all given");
		return;
	}
	memcpy(what, what_arg, strlen(what_arg) + 1);
	if (vio_probe(&c.d, device_base(), VIO_ID_RNG) < 0) {
		check(0, "virtio-rng at 0x%lx", device_base());
		return;
	}
	c.qsize = pick_qsize(&c.d);
	c.oob = cmdline_u64("oob", 0x100000000ull);
	gprintf("rng at 0x%lx, queue size %u\n", device_base(), c.qsize);
	for (unsigned i = 0; i < ARRAY_SIZE(attacks); i++) {
		const struct attack *a = &attacks[i];
		if (!streq(what, "all") && !listed(what, a->name))
			continue;
		ran++;
		gprintf("case %s\n", a->name);
		if (begin(a->name, a->features, a->queue) == 0)
			a->run(a->name);
		arena_check(a->name);
		recover(a->name);
	}
	check(ran > 0, "what=%s names %u case(s)", what, ran);
}
