/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtq_fuzz.c: libFuzzer target: the input is a hostile driver -- guest RAM
 * writes, register accesses and ring updates -- against the virtio-mmio
 * transport and split virtqueues, with an echo device whose notify pops
 * every chain, reads and writes all its bytes and pushes it back.
 *
 * Beyond ASan/UBSan it checks the contracts of virtio.h: each pop agrees
 * with a plain re-reading of the rules (ref_pop), every popped segment
 * lies inside RAM and is ordered readable-then-writable, a pop does
 * bounded work, a violation breaks the queue and logs one line per reset,
 * and nothing reaches the model after NEEDS_RESET or before DRIVER_OK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/virtio/virtio.h"

/* Guest RAM: [0, 0xc000) and [0xc100, 0x10000); rings and buffers can span the hole. */
#define RAM_END 0x10000u
#define HOLE_LO 0xc000u
#define HOLE_HI 0xc100u

#define NQUEUES 3u
#define BUDGET 8u  /* chains per notify */
/* A pop reads the avail index (twice with EVENT_IDX) and slot, and per descriptor one read plus two probes. */
#define POP_READS_MAX (3u + 3u * (VIRTQ_CHAIN_MAX + 2u))

#define REG_QUEUE_NOTIFY 0x050u
#define REG_STATUS 0x070u

static uint8_t ram[RAM_END];

static struct {
	unsigned reads;          /* env->read calls */
	unsigned logs;           /* since the last reset */
	unsigned resets;
	bool pending[NQUEUES];   /* notify said work is left */
} st;

static struct virtio_dev dev;
static uint8_t cfg[24];

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                               \
		}                                                                              \
	} while (0)

static bool in_ram(gpa_t gpa, uint64_t len)
{
	return range_within(gpa, len, 0, HOLE_LO) || range_within(gpa, len, HOLE_HI, RAM_END - HOLE_HI);
}

static int env_read(void *ctx, gpa_t gpa, void *dst, size_t len)
{
	st.reads++;
	if (!in_ram(gpa, len))
		return -EFAULT;
	memcpy(dst, ram + gpa, len);
	return 0;
}

static int env_write(void *ctx, gpa_t gpa, const void *src, size_t len)
{
	if (!in_ram(gpa, len))
		return -EFAULT;
	memcpy(ram + gpa, src, len);
	return 0;
}

static void env_irq(void *ctx)
{
}

static void env_log(void *ctx, const char *msg)
{
	CHECK(msg[0] != 0 && strlen(msg) < 200);
	st.logs++;
	CHECK(st.logs == 1); /* one line per violation, none after until reset */
}

static const struct virtio_env env = {
	.read = env_read, .write = env_write, .irq = env_irq, .log = env_log,
};

static void check_chain(const struct virtq *q, const struct virtq_chain *c)
{
	uint64_t rlen = 0, wlen = 0;

	CHECK(c->head < q->size);
	CHECK(c->nseg >= 1 && c->nseg <= VIRTQ_CHAIN_MAX && c->nseg <= q->size);
	CHECK(c->nread <= c->nseg);
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct virtq_seg *s = &c->seg[i];

		CHECK(s->len > 0);
		CHECK(in_ram(s->addr, 1) && in_ram(s->addr + s->len - 1, 1) && s->addr + s->len > s->addr);
		CHECK(s->write == (i >= c->nread));
		if (s->write)
			wlen += s->len;
		else
			rlen += s->len;
	}
	CHECK(rlen == c->read_len && wlen == c->write_len);
}

static bool ram_rd(gpa_t gpa, void *dst, size_t len)
{
	if (!in_ram(gpa, len))
		return false;
	memcpy(dst, ram + gpa, len);
	return true;
}

/* Both ends of [addr, addr + len) in RAM, len > 0, no wrap-around. */
static bool span_ok(uint64_t addr, uint64_t len)
{
	return len > 0 && addr + len > addr && in_ram(addr, 1) && in_ram(addr + len - 1, 1);
}

/*
 * What virtq_pop must answer, from the rules of virtio.h alone, written
 * apart from virtq.c: 0 (empty), 1 with the chain in *w, or -EINVAL.
 */
static int ref_pop(const struct virtq *q, struct virtq_chain *w)
{
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } d;
	gpa_t table = q->desc;
	unsigned entries = q->size, visited = 0, i;
	bool in_table = false;
	uint16_t idx, head;

	if (!ram_rd(q->avail + 2, &idx, 2))
		return -EINVAL;
	if (idx == q->last_avail)
		return 0;
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return -EINVAL;
	if (!ram_rd(q->avail + 4 + 2 * (q->last_avail % q->size), &head, 2) || head >= q->size)
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	w->head = head;
	for (i = head;; i = d.next) {
		if (visited++ == entries || !ram_rd(table + 16 * i, &d, 16))
			return -EINVAL;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (in_table || !q->indirect || (d.flags & VIRTQ_DESC_F_NEXT) || d.len == 0 ||
			    d.len % 16 || d.len > 16u * q->size || !span_ok(d.addr, d.len))
				return -EINVAL;
			in_table = true;
			table = d.addr;
			entries = d.len / 16;
			visited = 0;
			d.next = 0;
			continue;
		}
		if (!span_ok(d.addr, d.len) || w->nseg == MIN(q->size, VIRTQ_CHAIN_MAX))
			return -EINVAL;
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			w->write_len += d.len;
		} else {
			if (w->nseg > w->nread)
				return -EINVAL;
			w->nread++;
			w->read_len += d.len;
		}
		w->seg[w->nseg++] = (struct virtq_seg){ d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE };
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		if (d.next >= entries)
			return -EINVAL;
	}
}

static void check_against_ref(int rc, int want, const struct virtq_chain *c, const struct virtq_chain *w)
{
	CHECK(rc == want);
	if (rc != 1)
		return;
	CHECK(c->head == w->head && c->nseg == w->nseg && c->nread == w->nread);
	CHECK(c->read_len == w->read_len && c->write_len == w->write_len);
	for (unsigned i = 0; i < c->nseg; i++)
		CHECK(c->seg[i].addr == w->seg[i].addr && c->seg[i].len == w->seg[i].len &&
		      c->seg[i].write == w->seg[i].write);
}

/* Reads every readable byte and fills every writable one, in uneven pieces. */
static bool echo(const struct virtq_chain *c)
{
	uint8_t buf[4096];
	uint64_t off;

	for (off = 0; off < c->read_len; off += sizeof(buf) - 1)
		if (virtq_chain_read(c, &env, off, buf, MIN(sizeof(buf) - 1, c->read_len - off)))
			return false; /* a hole inside a segment: env said no */
	CHECK(virtq_chain_read(c, &env, c->read_len, buf, 1) == -ERANGE);
	memset(buf, 0xa5, sizeof(buf));
	for (off = 0; off < c->write_len; off += sizeof(buf) - 3)
		if (virtq_chain_write(c, &env, off, buf, MIN(sizeof(buf) - 3, c->write_len - off)))
			return false;
	CHECK(virtq_chain_write(c, &env, c->write_len, buf, 1) == -ERANGE);
	return true;
}

static bool m_notify(struct virtio_dev *d, unsigned qi)
{
	struct virtq *q;
	struct virtq_chain c, w;
	char err[128];

	CHECK(qi < NQUEUES);
	CHECK((d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET |
			    VIRTIO_STATUS_FAILED)) == VIRTIO_STATUS_DRIVER_OK);
	CHECK(d->status & VIRTIO_STATUS_FEATURES_OK);
	q = &d->vq[qi];
	CHECK(q->ready && !q->broken);
	for (unsigned n = 0; n < BUDGET; n++) {
		int want = ref_pop(q, &w);
		unsigned reads = st.reads;
		int rc = virtq_pop(q, &env, &c, err, sizeof(err));

		CHECK(st.reads - reads <= POP_READS_MAX);
		check_against_ref(rc, want, &c, &w);
		if (rc < 0) {
			CHECK(q->broken && err[0]);
			virtio_dev_fail(d, qi, err);
			CHECK(d->status & VIRTIO_STATUS_NEEDS_RESET);
			return false;
		}
		if (rc == 0) {
			virtio_dev_used(d, qi);
			return false;
		}
		check_chain(q, &c);
		if (!echo(&c)) {
			virtio_dev_fail(d, qi, "segment not in RAM");
			return false;
		}
		CHECK(virtq_push(q, &env, c.head, (uint32_t)MIN(c.write_len, UINT32_MAX)) == 0);
	}
	virtio_dev_used(d, qi);
	return true;
}

static void m_config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned len)
{
	CHECK(off + len <= sizeof(cfg) && (len == 1 || len == 2 || len == 4 || len == 8));
	memcpy(buf, cfg + off, len);
}

static void m_config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len)
{
	CHECK(off + len <= sizeof(cfg) && (len == 1 || len == 2 || len == 4 || len == 8));
	memcpy(cfg + off, buf, len);
}

static void m_reset(struct virtio_dev *d)
{
	st.logs = 0;
	st.resets++;
	memset(st.pending, 0, sizeof(st.pending));
}

static const uint16_t queue_max_choice[] = { 1, 2, 4, 16, 64, 256 };
static struct virtio_dev_ops ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = NQUEUES,
	.config_size = sizeof(cfg),
	.config_read = m_config_read,
	.config_write = m_config_write,
	.notify = m_notify,
	.reset = m_reset,
};

/* ---------------------------------------------------------------- the input */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->n > 0; i++, in->p++, in->n--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

static bool mmio(uint64_t off, bool write, unsigned size, uint64_t val)
{
	uint64_t v = val;
	bool more = virtio_mmio_access(&dev, off, write, size, &v);

	CHECK(write || !more);
	return more;
}

static void wr_reg(uint32_t off, uint64_t val)
{
	bool more = mmio(off, true, 4, val);

	if (off == REG_QUEUE_NOTIFY && val < NQUEUES)
		st.pending[val] = more;
}

static void put(gpa_t gpa, const void *src, size_t len)
{
	for (size_t i = 0; i < len && gpa + i < RAM_END; i++)
		ram[gpa + i] = ((const uint8_t *)src)[i];
}

/* The Linux driver's sequence with one queue, so inputs reach the rings quickly. */
static void bring_up(struct input *in)
{
	uint64_t features = take(in, 8);
	uint32_t qi = take(in, 1) % NQUEUES, size = take(in, 2);
	uint32_t desc = take(in, 2), avail = take(in, 2), used = take(in, 2);

	if (!(features >> 63))
		features &= 0x3000003eULL; /* mostly what could be offered */

	wr_reg(REG_STATUS, 0);
	wr_reg(REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr_reg(0x024, 0);
	wr_reg(0x020, (uint32_t)features);
	wr_reg(0x024, 1);
	wr_reg(0x020, (uint32_t)(features >> 32) | 1u);
	wr_reg(REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	wr_reg(0x030, qi);
	wr_reg(0x038, size);
	wr_reg(0x080, desc);
	wr_reg(0x084, 0);
	wr_reg(0x090, avail);
	wr_reg(0x094, 0);
	wr_reg(0x0a0, used);
	wr_reg(0x0a4, 0);
	wr_reg(0x044, 1);
	wr_reg(REG_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void step(struct input *in)
{
	uint8_t op = take(in, 1);

	switch (op % 8) {
	case 0: { /* register or config write */
		uint64_t off = take(in, 2);
		unsigned size = 1u << (take(in, 1) % 4);

		if (size == 4 && off < 0x100)
			wr_reg(off, take(in, 4));
		else
			mmio(off, true, size, take(in, 8));
		break;
	}
	case 1: { /* read */
		uint64_t off = take(in, 2);

		mmio(off, false, 1u << (take(in, 1) % 4), 0);
		break;
	}
	case 2: { /* guest RAM bytes */
		gpa_t gpa = take(in, 2);
		unsigned len = take(in, 1);
		uint8_t buf[256];

		for (unsigned i = 0; i < len; i++)
			buf[i] = take(in, 1);
		put(gpa, buf, len);
		break;
	}
	case 3:
		bring_up(in);
		break;
	case 4: { /* a descriptor: table, index, addr, len, flags, next */
		gpa_t table = take(in, 2);
		unsigned i = take(in, 1);
		uint64_t addr = take(in, 3);
		uint32_t len = take(in, 2);
		uint16_t flags = take(in, 1) & 7, next = take(in, 1);

		if (op & 0x80)
			len |= 0xffff0000u; /* sometimes very long */
		put(table + 16 * i, &addr, 8);
		put(table + 16 * i + 8, &len, 4);
		put(table + 16 * i + 12, &flags, 2);
		put(table + 16 * i + 14, &next, 2);
		break;
	}
	case 5: { /* make heads available on queue qi, as the driver does */
		unsigned qi = take(in, 1) % NQUEUES, n = take(in, 1) % 8;
		struct virtq *q = &dev.vq[qi];
		uint16_t idx;

		if (q->avail >= RAM_END || q->size == 0 || (q->size & (q->size - 1)))
			break;
		memcpy(&idx, ram + MIN(q->avail + 2, RAM_END - 2), 2);
		for (unsigned k = 0; k < n; k++, idx++) {
			uint16_t head = take(in, 1);

			put(q->avail + 4 + 2 * (idx & (q->size - 1)), &head, 2);
		}
		put(q->avail + 2, &idx, 2);
		break;
	}
	case 6: { /* kick */
		unsigned qi = take(in, 1) % 4;

		wr_reg(REG_QUEUE_NOTIFY, qi);
		break;
	}
	case 7: /* later: continue where a bounded notify stopped; model events */
		if (op == 0xff)
			virtio_dev_fail(&dev, take(in, 1) % (NQUEUES + 1), "the model's own complaint");
		if (op & 0x80)
			virtio_dev_config_changed(&dev);
		for (unsigned qi = 0; qi < NQUEUES; qi++)
			if (st.pending[qi])
				wr_reg(REG_QUEUE_NOTIFY, qi);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t dev_choice = take(&in, 1);

	memset(ram, 0, sizeof(ram));
	memset(&st, 0, sizeof(st));
	memset(cfg, 0x3c, sizeof(cfg));
	ops.queue_max = queue_max_choice[dev_choice % ARRAY_SIZE(queue_max_choice)];
	ops.features = (uint64_t)(dev_choice >> 3) << 1 | (uint64_t)(dev_choice & 0x80) << 27;
	virtio_dev_init(&dev, &ops, &env, NULL, "fuzz");
	/* At most 4096 steps per input: each is bounded, so the whole run is. */
	for (unsigned n = 0; in.n > 0 && n < 4096; n++) {
		bool broken = dev.status & VIRTIO_STATUS_NEEDS_RESET;
		unsigned resets = st.resets;

		step(&in);
		/* NEEDS_RESET is left only by a reset. */
		CHECK(!broken || (dev.status & VIRTIO_STATUS_NEEDS_RESET) || st.resets != resets);
	}
	return 0;
}
