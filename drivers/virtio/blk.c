/* SPDX-License-Identifier: Apache-2.0 */
/* blk.c: the virtio block device model (virtio 1.2, 5.2) over a copy-on-write overlay. */
#include "drivers/virtio/devices.h"

#define BLK_QUEUE_MAX 128u
#define SECTOR 512u
#define BOUNCE 4096u    /* bytes copied per step between guest and disk (a request is sectors) */

/* Feature bits (5.2.3). */
#define F_SIZE_MAX (1ULL << 1)
#define F_SEG_MAX (1ULL << 2)
#define F_RO (1ULL << 5)
#define F_BLK_SIZE (1ULL << 6)
#define F_FLUSH (1ULL << 9)
#define F_DISCARD (1ULL << 13)
#define F_WRITE_ZEROES (1ULL << 14)

/* Request types and status (5.2.6). */
#define T_IN 0u
#define T_OUT 1u
#define T_FLUSH 4u
#define T_GET_ID 8u
#define T_DISCARD 11u
#define T_WRITE_ZEROES 13u
#define S_OK 0u
#define S_IOERR 1u
#define S_UNSUPP 2u
#define DZ_F_UNMAP 1u

#define HDR_SIZE 16u      /* le32 type, le32 reserved, le64 sector */
#define DZ_SEG_SIZE 16u   /* le64 sector, le32 num_sectors, le32 flags */

/* struct virtio_blk_config (5.2.4) up to write_zeroes_may_unmap and its padding. */
#define CFG_SIZE 60u
#define CFG_CAPACITY 0u
#define CFG_SIZE_MAX 8u
#define CFG_SEG_MAX 12u
#define CFG_BLK_SIZE 20u
#define CFG_MAX_DISCARD_SECTORS 36u
#define CFG_MAX_DISCARD_SEG 40u
#define CFG_DISCARD_ALIGN 44u
#define CFG_MAX_WZ_SECTORS 48u
#define CFG_MAX_WZ_SEG 52u
#define CFG_WZ_MAY_UNMAP 56u

static bool read_only(const struct virtio_dev *d)
{
	return d->ops->features & F_RO;
}

static void put32(uint8_t *c, uint32_t off, uint32_t v)
{
	memcpy(c + off, &v, 4);
}

static void config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned len)
{
	const struct virtio_blk *b = d->priv;
	uint8_t c[CFG_SIZE] = { 0 };
	uint64_t cap = b->ov->size / SECTOR;

	memcpy(c + CFG_CAPACITY, &cap, 8);
	put32(c, CFG_SIZE_MAX, VIRTIO_BLK_SIZE_MAX);
	put32(c, CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX);
	put32(c, CFG_BLK_SIZE, SECTOR);
	if (!read_only(d)) {
		put32(c, CFG_MAX_DISCARD_SECTORS, VIRTIO_BLK_DZ_SECTORS);
		put32(c, CFG_MAX_DISCARD_SEG, VIRTIO_BLK_DZ_SEG);
		put32(c, CFG_DISCARD_ALIGN, OVERLAY_BLOCK / SECTOR);
		put32(c, CFG_MAX_WZ_SECTORS, VIRTIO_BLK_DZ_SECTORS);
		put32(c, CFG_MAX_WZ_SEG, VIRTIO_BLK_DZ_SEG);
		c[CFG_WZ_MAY_UNMAP] = 1;
	}
	if (off <= CFG_SIZE && len <= CFG_SIZE - off)  /* the transport checked; kept local */
		memcpy(buf, c + off, len);
}

static void config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len)
{
	(void)d, (void)off, (void)buf, (void)len; /* writeback needs F_CONFIG_WCE: not offered */
}

/* Byte offset of [sector, +bytes) on the disk, or false when it passes the capacity. */
static bool disk_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes, uint64_t *off)
{
	uint64_t cap = b->ov->size / SECTOR;

	if (sector > cap || bytes / SECTOR > cap - sector)
		return false;
	*off = sector * SECTOR;
	return true;
}

/* IN: the writable data (all but the status byte) from the disk.  -EFAULT for the guest's fault. */
static int do_in(struct virtio_dev *d, const struct virtq_chain *ch, uint64_t sector,
		 uint8_t *status, uint32_t *written)
{
	const struct virtio_blk *b = d->priv;
	uint64_t len = ch->write_len - 1, off;
	uint8_t buf[BOUNCE];

	if (len % SECTOR || len > VIRTIO_BLK_MAX_DATA || !disk_range(b, sector, len, &off)) {
		*status = S_IOERR;
		return 0;
	}
	for (uint64_t done = 0, n; done < len; done += n) {
		n = MIN(len - done, sizeof(buf));
		if (overlay_read(b->ov, off + done, buf, n) || virtq_chain_write(ch, d->env, done, buf, n))
			return -EFAULT;
	}
	*written = (uint32_t)len;
	return 0;
}

/* OUT: the readable data after the header onto the disk, checked against the limit first. */
static int do_out(struct virtio_dev *d, const struct virtq_chain *ch, uint64_t sector,
		  uint8_t *status)
{
	const struct virtio_blk *b = d->priv;
	uint64_t len = ch->read_len - HDR_SIZE, off, need;
	uint8_t buf[BOUNCE];

	if (read_only(d) || len % SECTOR || len > VIRTIO_BLK_MAX_DATA ||
	    !disk_range(b, sector, len, &off)) {
		*status = S_IOERR;
		return 0;
	}
	need = overlay_pages_needed(b->ov, off, len, false);
	if (need > b->ov->limit - b->ov->used) {
		*status = S_IOERR;   /* the overlay is full: this disk only */
		return 0;
	}
	for (uint64_t done = 0, n; done < len; done += n) {
		n = MIN(len - done, sizeof(buf));
		if (virtq_chain_read(ch, d->env, HDR_SIZE + done, buf, n))
			return -EFAULT;
		if (overlay_write(b->ov, off + done, buf, n)) {
			*status = S_IOERR;
			return 0;
		}
	}
	return 0;
}

/*
 * DISCARD / WRITE_ZEROES: every segment checked before any is done.  The
 * bytes they cover are added to *work (they cost a scan of the image).
 */
static int do_zero(struct virtio_dev *d, const struct virtq_chain *ch, uint32_t type,
		   uint8_t *status, uint64_t *work)
{
	const struct virtio_blk *b = d->priv;
	uint8_t seg[VIRTIO_BLK_DZ_SEG][DZ_SEG_SIZE];
	uint64_t len = ch->read_len - HDR_SIZE, off;
	unsigned n = (unsigned)(len / DZ_SEG_SIZE);

	if (read_only(d)) {
		*status = S_IOERR;
		return 0;
	}
	if (!len || len % DZ_SEG_SIZE || len > sizeof(seg)) {
		*status = S_UNSUPP;   /* 5.2.6.2: a malformed segment list is unsupported */
		return 0;
	}
	if (virtq_chain_read(ch, d->env, HDR_SIZE, seg, (size_t)len))
		return -EFAULT;
	for (unsigned i = 0; i < n; i++) {
		uint64_t sector;
		uint32_t num, flags;

		memcpy(&sector, seg[i], 8);
		memcpy(&num, seg[i] + 8, 4);
		memcpy(&flags, seg[i] + 12, 4);
		if ((type == T_DISCARD && flags) || (flags & ~DZ_F_UNMAP) ||
		    num > VIRTIO_BLK_DZ_SECTORS) {
			*status = S_UNSUPP;
			return 0;
		}
		if (!disk_range(b, sector, (uint64_t)num * SECTOR, &off)) {
			*status = S_IOERR;
			return 0;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t sector;
		uint32_t num;

		memcpy(&sector, seg[i], 8);
		memcpy(&num, seg[i] + 8, 4);
		*work += (uint64_t)num * SECTOR;
		if (overlay_zero(b->ov, sector * SECTOR, (uint64_t)num * SECTOR)) {
			*status = S_IOERR;
			return 0;
		}
	}
	return 0;
}

/*
 * One request.  Returns the bytes written into the chain (status
 * included), or -EINVAL after failing the device for a malformed chain.
 * Adds the bytes of disk it touched to *work.
 */
static int64_t request(struct virtio_dev *d, const struct virtq_chain *ch, uint64_t *work)
{
	const struct virtio_blk *b = d->priv;
	uint8_t hdr[HDR_SIZE], status = S_OK;
	uint32_t type, written = 0;
	uint64_t sector;
	int rc = 0;

	if (ch->write_len == 0 || ch->read_len < HDR_SIZE) {
		virtio_dev_fail(d, 0, ch->write_len ? "request header short" : "request has no status byte");
		return -EINVAL;
	}
	if (virtq_chain_read(ch, d->env, 0, hdr, sizeof(hdr)))
		goto fault;
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	switch (type) {
	case T_IN:
		rc = do_in(d, ch, sector, &status, &written);
		break;
	case T_OUT:
		rc = do_out(d, ch, sector, &status);
		break;
	case T_FLUSH:
		break;   /* the overlay is memory: nothing is cached on the way */
	case T_GET_ID:
		written = (uint32_t)MIN(ch->write_len - 1, (uint64_t)VIRTIO_BLK_ID_BYTES);
		rc = virtq_chain_write(ch, d->env, 0, b->id, written);
		break;
	case T_DISCARD:
	case T_WRITE_ZEROES:
		rc = do_zero(d, ch, type, &status, work);
		break;
	default:
		status = S_UNSUPP;
	}
	if (rc || virtq_chain_write(ch, d->env, ch->write_len - 1, &status, 1))
		goto fault;
	*work += ch->read_len + ch->write_len;
	return (int64_t)written + 1;
fault:
	virtio_dev_fail(d, 0, "request buffer left guest RAM");
	return -EINVAL;
}

/* Serves requests until the queue is empty or this call's budget is spent. */
static bool notify(struct virtio_dev *d, unsigned qi)
{
	struct virtq *q = &d->vq[0];
	struct virtq_chain ch;
	char err[96];
	uint64_t bytes = 0;
	unsigned chains = 0;
	int rc;

	if (qi != 0)
		return false;
	while (chains < VIRTIO_BUDGET_CHAINS && bytes < VIRTIO_BUDGET_BYTES) {
		int64_t n;

		rc = virtq_pop(q, d->env, &ch, err, sizeof(err));
		if (rc < 0) {
			virtio_dev_fail(d, 0, err);
			return false;
		}
		if (rc == 0)
			break;
		n = request(d, &ch, &bytes);
		if (n < 0)
			return false;
		if (virtq_push(q, d->env, ch.head, (uint32_t)n)) {
			virtio_dev_fail(d, 0, "used ring outside guest RAM");
			return false;
		}
		chains++;
	}
	if (chains)
		virtio_dev_used(d, 0);
	return chains == VIRTIO_BUDGET_CHAINS || bytes >= VIRTIO_BUDGET_BYTES;
}

static void reset(struct virtio_dev *d)
{
	(void)d;   /* the disk's contents outlive a device reset */
}

const struct virtio_dev_ops virtio_blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.features = F_SIZE_MAX | F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_DISCARD | F_WRITE_ZEROES,
	.nr_queues = 1,
	.queue_max = BLK_QUEUE_MAX,
	.config_size = CFG_SIZE,
	.config_read = config_read,
	.config_write = config_write,
	.notify = notify,
	.reset = reset,
};

const struct virtio_dev_ops virtio_blk_ro_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.features = F_SIZE_MAX | F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_RO,
	.nr_queues = 1,
	.queue_max = BLK_QUEUE_MAX,
	.config_size = CFG_SIZE,
	.config_read = config_read,
	.config_write = config_write,
	.notify = notify,
	.reset = reset,
};
