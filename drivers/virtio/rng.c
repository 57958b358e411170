/* SPDX-License-Identifier: Apache-2.0 */
/* rng.c: the virtio entropy device model (virtio 1.2, 5.4): one request queue. */
#include "drivers/virtio/devices.h"

#define RNG_QUEUE_MAX 64u

static void config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned len)
{
	(void)d, (void)off, (void)buf, (void)len; /* no config space */
}

static void config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len)
{
	(void)d, (void)off, (void)buf, (void)len;
}

/* Each chain's writable bytes are filled from the source, bounded per call. */
static bool notify(struct virtio_dev *d, unsigned qi)
{
	const struct virtio_rng *r = d->priv;
	struct virtq *q = &d->vq[0];
	struct virtq_chain ch;
	uint8_t buf[256];
	char err[96];
	uint64_t bytes = 0;
	unsigned chains = 0;
	int rc;

	if (qi != 0)
		return false;
	while (chains < VIRTIO_BUDGET_CHAINS && bytes < VIRTIO_BUDGET_BYTES) {
		uint64_t done = 0, want;

		rc = virtq_pop(q, d->env, &ch, err, sizeof(err));
		if (rc < 0) {
			virtio_dev_fail(d, 0, err);
			return false;
		}
		if (rc == 0)
			break;
		/* A request asks for at most what is left of this call's budget. */
		want = MIN(ch.write_len, (uint64_t)VIRTIO_BUDGET_BYTES - bytes);
		while (done < want) {
			size_t n = (size_t)MIN(want - done, (uint64_t)sizeof(buf));

			if (r->fill(r->ctx, buf, n))
				break;
			if (virtq_chain_write(&ch, d->env, done, buf, n)) {
				virtio_dev_fail(d, 0, "request buffer left guest RAM");
				return false;
			}
			done += n;
		}
		memset(buf, 0, sizeof(buf)); /* no copy of a guest's entropy stays behind */
		if (virtq_push(q, d->env, ch.head, (uint32_t)done)) {
			virtio_dev_fail(d, 0, "used ring outside guest RAM");
			return false;
		}
		bytes += done;
		chains++;
	}
	if (chains)
		virtio_dev_used(d, 0);
	return chains == VIRTIO_BUDGET_CHAINS || bytes >= VIRTIO_BUDGET_BYTES;
}

static void reset(struct virtio_dev *d)
{
	(void)d;
}

const struct virtio_dev_ops virtio_rng_ops = {
	.device_id = VIRTIO_ID_RNG,
	.features = 0,
	.nr_queues = 1,
	.queue_max = RNG_QUEUE_MAX,
	.config_size = 0,
	.config_read = config_read,
	.config_write = config_write,
	.notify = notify,
	.reset = reset,
};
