/* SPDX-License-Identifier: Apache-2.0 */
/* console.c: the virtio-console model (virtio 1.2, 5.3), a single port. */
#include "drivers/virtio/devices.h"

#define RXQ 0
#define TXQ 1
#define CONSOLE_QUEUE_MAX 256u

/* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr; all 0 (no features). */
#define CONSOLE_CONFIG_SIZE 12u

static void config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned len)
{
	(void)d;
	(void)off;
	memset(buf, 0, len);
}

static void config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len)
{
	(void)d, (void)off, (void)buf, (void)len; /* emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE */
}

/* Transmit: every readable byte of each chain goes to the backend, bounded per call. */
static bool notify(struct virtio_dev *d, unsigned qi)
{
	const struct virtio_console *c = d->priv;
	struct virtq *q = &d->vq[TXQ];
	struct virtq_chain ch;
	char buf[512], err[96];
	uint64_t bytes = 0;
	unsigned chains = 0;
	int rc;

	if (qi != TXQ)
		return false; /* receive buffers wait for input */
	while (chains < VIRTIO_BUDGET_CHAINS && bytes < VIRTIO_BUDGET_BYTES) {
		rc = virtq_pop(q, d->env, &ch, err, sizeof(err));
		if (rc < 0) {
			virtio_dev_fail(d, TXQ, err);
			return false;
		}
		if (rc == 0)
			break;
		for (uint64_t off = 0; off < ch.read_len; off += sizeof(buf)) {
			size_t n = (size_t)MIN(ch.read_len - off, (uint64_t)sizeof(buf));

			if (virtq_chain_read(&ch, d->env, off, buf, n)) {
				virtio_dev_fail(d, TXQ, "transmit buffer left guest RAM");
				return false;
			}
			c->output(c->ctx, buf, n);
		}
		bytes += ch.read_len;
		chains++;
		if (virtq_push(q, d->env, ch.head, 0)) {
			virtio_dev_fail(d, TXQ, "used ring outside guest RAM");
			return false;
		}
	}
	if (chains)
		virtio_dev_used(d, TXQ);
	return chains == VIRTIO_BUDGET_CHAINS || bytes >= VIRTIO_BUDGET_BYTES;
}

size_t virtio_console_input(struct virtio_dev *d, const char *buf, size_t n)
{
	struct virtq *q = &d->vq[RXQ];
	struct virtq_chain ch;
	size_t done = 0;
	char err[96];
	int rc;

	if (!(d->status & VIRTIO_STATUS_DRIVER_OK) || (d->status & VIRTIO_STATUS_NEEDS_RESET) ||
	    !q->ready || q->broken)
		return 0;
	while (done < n) {
		uint64_t take;

		rc = virtq_pop(q, d->env, &ch, err, sizeof(err));
		if (rc < 0) {
			virtio_dev_fail(d, RXQ, err);
			break;
		}
		if (rc == 0)
			break;
		take = MIN((uint64_t)(n - done), ch.write_len);
		if (virtq_chain_write(&ch, d->env, 0, buf + done, (size_t)take) ||
		    virtq_push(q, d->env, ch.head, (uint32_t)take)) {
			virtio_dev_fail(d, RXQ, "receive buffer left guest RAM");
			break;
		}
		done += (size_t)take;
	}
	if (done)
		virtio_dev_used(d, RXQ);
	return done;
}

static void reset(struct virtio_dev *d)
{
	(void)d;
}

const struct virtio_dev_ops virtio_console_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.features = 0,
	.nr_queues = 2,
	.queue_max = CONSOLE_QUEUE_MAX,
	.config_size = CONSOLE_CONFIG_SIZE,
	.config_read = config_read,
	.config_write = config_write,
	.notify = notify,
	.reset = reset,
};
