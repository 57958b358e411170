/* SPDX-License-Identifier: Apache-2.0 */
/* virtq.c: split virtqueues over a hostile guest's memory: checks, pop, push, EVENT_IDX (see virtio.h). */
#include "drivers/virtio/virtio.h"

/* Ring layouts (virtio 1.2, 2.7.5, 2.7.6, 2.7.8); indexes and fields are little-endian like x86. */
#define DESC_BYTES 16u
#define AVAIL_FLAGS 0u
#define AVAIL_IDX 2u
#define AVAIL_RING 4u
#define USED_IDX 2u
#define USED_RING 4u
#define USED_ELEM_BYTES 8u

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

_Static_assert(sizeof(struct virtq_desc) == DESC_BYTES, "descriptor layout (virtio 1.2, 2.7.5)");
_Static_assert(sizeof(struct virtq_used_elem) == USED_ELEM_BYTES, "used element layout (2.7.8)");

/*
 * Ordering.  x86 keeps loads in order with older loads and stores in order
 * with older stores (SDM vol. 3A, 9.2.2), so "ring entry after index" on
 * reads and "used element before used->idx" on writes only need the
 * compiler held back.  A store followed by a load of another location may
 * pass, though: where the device publishes an index and then reads the
 * driver's (avail_event then avail->idx, used->idx then used_event), a full
 * fence is required, as the driver has one on its side (virtio 1.2, 2.7.10).
 * The hosted build runs on x86 too and uses the same two primitives.
 */
static inline void order_same_kind(void)
{
	__asm__ __volatile__("" ::: "memory");
}

static inline void order_store_load(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int rd16(const struct virtio_env *env, gpa_t gpa, uint16_t *v)
{
	return env->read(env->ctx, gpa, v, sizeof(*v));
}

static int wr16(const struct virtio_env *env, gpa_t gpa, uint16_t v)
{
	return env->write(env->ctx, gpa, &v, sizeof(v));
}

/*
 * True when [gpa, gpa + len) does not wrap and its first and last bytes are
 * RAM (len > 0).  RAM may have a hole (guest RAM above 4 GiB): a range
 * across it passes here, and every copy through env->read/write checks
 * its whole range again and fails there.
 */
static bool probe(const struct virtio_env *env, gpa_t gpa, uint64_t len)
{
	uint8_t b;

	if (gpa + len < gpa || gpa + len - 1 < gpa)
		return false;
	return env->read(env->ctx, gpa, &b, 1) == 0 && env->read(env->ctx, gpa + len - 1, &b, 1) == 0;
}

static int check_ring(const struct virtio_env *env, const char *what, gpa_t gpa, uint64_t align,
		      uint64_t len, char *err, size_t errlen)
{
	if (!IS_ALIGNED(gpa, align))
		return errorf(-EINVAL, err, errlen, "%s ring %#llx is not %llu-byte aligned", what,
			      (unsigned long long)gpa, (unsigned long long)align);
	if (!probe(env, gpa, len))
		return errorf(-EINVAL, err, errlen, "%s ring [%#llx, +%#llx) is not inside RAM", what,
			      (unsigned long long)gpa, (unsigned long long)len);
	return 0;
}

int virtq_check_config(const struct virtq *q, uint16_t max, const struct virtio_env *env,
		       char *err, size_t errlen)
{
	uint64_t n = q->size;
	int rc;

	if (n == 0 || (n & (n - 1)) != 0 || n > max || n > VIRTQ_MAX_SIZE)
		return errorf(-EINVAL, err, errlen, "size %u is not a power of two <= %u", q->size,
			      (unsigned)MIN(max, VIRTQ_MAX_SIZE));
	/* Sizes per virtio 1.2, 2.7: avail and used carry their trailing event u16 either way. */
	rc = check_ring(env, "desc", q->desc, 16, DESC_BYTES * n, err, errlen);
	if (rc == 0)
		rc = check_ring(env, "avail", q->avail, 2, 6 + 2 * n, err, errlen);
	if (rc == 0)
		rc = check_ring(env, "used", q->used, 4, 6 + USED_ELEM_BYTES * n, err, errlen);
	return rc;
}

/* A rule was broken: the queue does nothing more until the device is reset. */
PRINTF_LIKE(4, 5)
static int broken(struct virtq *q, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	q->broken = true;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Checks one buffer descriptor (already copied out) and appends it to the chain. */
static int add_segment(struct virtq *q, const struct virtio_env *env, struct virtq_chain *c,
		       const struct virtq_desc *d, const char *where, unsigned idx, char *err,
		       size_t errlen)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	struct virtq_seg *s;

	if (d->len == 0)
		return broken(q, err, errlen, "%s %u: length 0", where, idx);
	if (!probe(env, d->addr, d->len))
		return broken(q, err, errlen, "%s %u: [%#llx, +%#x) is not inside RAM", where, idx,
			      (unsigned long long)d->addr, d->len);
	if (!write && c->nseg > c->nread)
		return broken(q, err, errlen, "%s %u: readable after writable", where, idx);
	if (c->nseg >= q->size)
		return broken(q, err, errlen, "chain longer than size %u", q->size);
	if (c->nseg >= VIRTQ_CHAIN_MAX)
		return broken(q, err, errlen, "chain longer than %u segments", VIRTQ_CHAIN_MAX);
	s = &c->seg[c->nseg++];
	s->addr = d->addr;
	s->len = d->len;
	s->write = write;
	if (write) {
		c->write_len += d->len;
	} else {
		c->nread++;
		c->read_len += d->len;
	}
	return 0;
}

/*
 * Follows the chain at head through the descriptor table and at most one
 * indirect table (virtio 1.2, 2.7.5.3), copying each descriptor once.
 * Each table is walked at most its own size of steps, so a loop ends.
 */
static int walk_chain(struct virtq *q, const struct virtio_env *env, uint16_t head,
		      struct virtq_chain *c, char *err, size_t errlen)
{
	const char *where = "desc";
	gpa_t table = q->desc;
	uint32_t tsize = q->size, steps = 0, idx = head;
	bool in_indirect = false;
	struct virtq_desc d;
	int rc;

	c->head = head;
	c->nseg = c->nread = 0;
	c->read_len = c->write_len = 0;
	if (head >= q->size)
		return broken(q, err, errlen, "desc %u >= size %u", head, q->size);
	for (;;) {
		if (++steps > tsize)
			return broken(q, err, errlen, "%s chain from %u loops or is longer than %u", where,
				      head, tsize);
		if (env->read(env->ctx, table + (uint64_t)idx * DESC_BYTES, &d, sizeof(d)))
			return broken(q, err, errlen, "%s %u is not readable", where, idx);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (in_indirect)
				return broken(q, err, errlen, "indirect desc %u: INDIRECT inside an indirect table",
					      idx);
			if (!q->indirect)
				return broken(q, err, errlen, "desc %u: INDIRECT not negotiated", idx);
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return broken(q, err, errlen, "desc %u: INDIRECT together with NEXT", idx);
			if (d.len == 0 || d.len % DESC_BYTES || d.len > DESC_BYTES * q->size)
				return broken(q, err, errlen, "desc %u: indirect table of %u bytes (size %u)", idx,
					      d.len, q->size);
			if (!probe(env, d.addr, d.len))
				return broken(q, err, errlen, "desc %u: indirect table [%#llx, +%#x) is not inside RAM",
					      idx, (unsigned long long)d.addr, d.len);
			in_indirect = true;
			where = "indirect desc";
			table = d.addr;
			tsize = d.len / DESC_BYTES;
			steps = 0;
			idx = 0;
			continue;
		}
		rc = add_segment(q, env, c, &d, where, idx, err, errlen);
		if (rc)
			return rc;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= tsize)
			return broken(q, err, errlen, "%s %u: next %u >= size %u", where, idx, d.next, tsize);
		idx = d.next;
	}
}

static int publish_avail_event(struct virtq *q, const struct virtio_env *env)
{
	return wr16(env, q->used + USED_RING + (uint64_t)USED_ELEM_BYTES * q->size, q->last_avail);
}

int virtq_pop(struct virtq *q, const struct virtio_env *env, struct virtq_chain *out,
	      char *err, size_t errlen)
{
	uint16_t avail_idx, head, ahead;
	int rc;

	if (q->broken)
		return errorf(-EINVAL, err, errlen, "queue is broken");
	if (!q->ready)
		return 0;
	if (rd16(env, q->avail + AVAIL_IDX, &avail_idx))
		return broken(q, err, errlen, "avail ring is not readable");
	if (avail_idx == q->last_avail) {
		if (!q->event_idx)
			return 0;
		/*
		 * Empty: ask for a notification at the next entry, then look
		 * again, since the driver may have added one and read the old
		 * avail_event in between (virtio 1.2, 2.7.10).
		 */
		if (publish_avail_event(q, env))
			return broken(q, err, errlen, "used ring is not writable");
		order_store_load();
		if (rd16(env, q->avail + AVAIL_IDX, &avail_idx))
			return broken(q, err, errlen, "avail ring is not readable");
		if (avail_idx == q->last_avail)
			return 0;
	}
	ahead = avail_idx - q->last_avail;
	if (ahead > q->size)
		return broken(q, err, errlen, "avail idx %u is %u entries ahead of %u (size %u)",
			      avail_idx, ahead, q->last_avail, q->size);
	order_same_kind(); /* the ring entry is read after the index that made it valid */
	if (rd16(env, q->avail + AVAIL_RING + 2u * (q->last_avail & (q->size - 1u)), &head))
		return broken(q, err, errlen, "avail ring is not readable");
	rc = walk_chain(q, env, head, out, err, errlen);
	if (rc)
		return rc;
	q->last_avail++;
	if (q->event_idx && publish_avail_event(q, env))
		return broken(q, err, errlen, "used ring is not writable");
	return 1;
}

int virtq_push(struct virtq *q, const struct virtio_env *env, uint16_t head, uint32_t len)
{
	struct virtq_used_elem e = { .id = head, .len = len };
	gpa_t slot;

	if (!q->ready || q->broken || head >= q->size)
		return -EINVAL;
	slot = q->used + USED_RING + (uint64_t)USED_ELEM_BYTES * (q->used_idx & (q->size - 1u));
	if (env->write(env->ctx, slot, &e, sizeof(e)))
		return -EFAULT;
	order_same_kind(); /* the element is visible before the index that publishes it */
	if (wr16(env, q->used + USED_IDX, (uint16_t)(q->used_idx + 1)))
		return -EFAULT;
	q->used_idx++;
	return 0;
}

bool virtq_should_interrupt(struct virtq *q, const struct virtio_env *env)
{
	uint16_t old = q->signalled_used, now = q->used_idx, v;

	if (!q->ready || old == now)
		return false;
	q->signalled_used = now;
	order_store_load(); /* used->idx is stored before used_event / flags are read */
	if (q->event_idx) {
		/* used_event trails the avail ring; interrupt when it lies in [old, now) (2.7.10). */
		if (rd16(env, q->avail + AVAIL_RING + 2u * q->size, &v))
			return true;
		return (uint16_t)(now - v - 1u) < (uint16_t)(now - old);
	}
	if (rd16(env, q->avail + AVAIL_FLAGS, &v))
		return true;
	return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies len bytes at byte off of c's readable part into dst, or from src into its writable part. */
static int chain_copy(const struct virtq_chain *c, const struct virtio_env *env, bool write,
		      uint64_t off, uint8_t *dst, const uint8_t *src, size_t len)
{
	unsigned nseg = MIN(c->nseg, VIRTQ_CHAIN_MAX), nread = MIN(c->nread, nseg);
	unsigned i = write ? nread : 0, end = write ? nseg : nread;
	uint64_t total = write ? c->write_len : c->read_len;

	if (off > total || len > total - off)
		return -ERANGE;
	for (; i < end && len > 0; i++) {
		const struct virtq_seg *s = &c->seg[i];
		size_t n;
		int rc;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = MIN((uint64_t)s->len - off, (uint64_t)len);
		if (write) {
			rc = env->write(env->ctx, s->addr + off, src, n);
			src += n;
		} else {
			rc = env->read(env->ctx, s->addr + off, dst, n);
			dst += n;
		}
		if (rc)
			return -EFAULT;
		len -= n;
		off = 0;
	}
	return len == 0 ? 0 : -ERANGE;
}

int virtq_chain_read(const struct virtq_chain *c, const struct virtio_env *env, uint64_t off,
		     void *dst, size_t len)
{
	return chain_copy(c, env, false, off, dst, NULL, len);
}

int virtq_chain_write(const struct virtq_chain *c, const struct virtio_env *env, uint64_t off,
		      const void *src, size_t len)
{
	return chain_copy(c, env, true, off, NULL, src, len);
}
