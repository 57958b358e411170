/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mgmt_svc.c: the management service.  A local service of the vsock
 * router at the host CID on PVHV_MGMT_PORT: the control domain's streams
 * come here (the router's allow() lets no other domain reach the port, and
 * accept() checks again).  Requests are answered one at a time in the
 * control domain's own exit (its packet delivery); a request is taken out
 * of the receive buffer, and credit given back, only once its reply is
 * queued, so a client that does not read its replies stops being served
 * instead of growing pvhv's buffers.  An image upload belongs to the
 * connection that began it: only it can send the bytes, and its end
 * (close, reset, the control domain's death) discards what is unfinished.
 * Everything here runs under the router's lock (pvh/devices.c's vsock lock).
 */
#include "pvh/pvh.h"
#include "pvh/mgmt.h"
#include "pvh/mgmt_svc.h"
#include "pvh/imgstore.h"
#include "drivers/virtio/vsock.h"
#include "pvhv/abi.h"

#define MGMT_CONNS 4

struct mgmt_conn {
	uint32_t handle;          /* 0: free */
	size_t rx_len;
	size_t tx_len, tx_off;    /* reply being sent */
	bool closing;             /* a protocol error: close once the reply is out */
	uint8_t rx[MGMT_FRAME_MAX];
	uint8_t tx[MGMT_REPLY_MAX];
};

static struct vsock_router *router;
static struct mgmt_conn conns[MGMT_CONNS];
static uint64_t served, refused;

static struct mgmt_conn *find(uint32_t handle)
{
	for (unsigned i = 0; i < MGMT_CONNS; i++)
		if (conns[i].handle == handle)
			return &conns[i];
	return NULL;
}

/* ------------------------------------------------------------ what pvhv answers */

static void op_hello(void *ctx, struct pvhv_mgmt_hello *out)
{
	(void)ctx;
	out->abi_version = PVHV_ABI_VERSION;
	out->host_cpus = nr_cpus;
	out->max_domains = domain_table_capacity();
	out->free_mem_bytes = mem_free_pages() * PAGE_SIZE;
	out->table_bytes = sched_table_growth_pages() * PAGE_SIZE;
	out->host_mem_bytes = mem_free_boot_pages * PAGE_SIZE;
	out->tsc_khz = (uint32_t)tsc_khz();
	out->vendor = vcpu_ops->hypercall_flag ? 1 : 2;   /* VMMCALL: AMD-V */
	snprintf(out->name, sizeof(out->name), "pvhv");
}

static unsigned op_slots(void *ctx)
{
	(void)ctx;
	return nr_domains;
}

static const uint32_t end_codes[] = {
	[END_NONE] = PVHV_MGMT_END_NONE, [END_POWEROFF] = PVHV_MGMT_END_POWEROFF,
	[END_REBOOT] = PVHV_MGMT_END_REBOOT, [END_CRASH] = PVHV_MGMT_END_CRASH,
	[END_STOPPED] = PVHV_MGMT_END_STOPPED, [END_NOT_STARTED] = PVHV_MGMT_END_NOT_STARTED,
};

static int op_domain(void *ctx, unsigned id, struct pvhv_mgmt_domain *out)
{
	const struct domain *d = dom_at(id);
	enum dom_state st = __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);

	(void)ctx;
	*out = (struct pvhv_mgmt_domain){
		.id = id, .gen = d->gen, .exit_status = d->exit_status, .vcpus = d->cfg->vcpus,
		.memory_bytes = d->cfg->memory, .cpu_us = tsc_to_us(d->cpu_tsc), .exits = d->exits_total,
		.reboots = d->reboots, .flags = d->cfg->control ? PVHV_MGMT_DOM_CONTROL : 0,
		.cpu_share = d->cfg->cpu_share,
	};
	memcpy(out->name, d->name, MIN(sizeof(out->name), strlen(d->name)));
	out->state = d->create_pending || st == DOM_EMPTY ? PVHV_MGMT_STATE_STARTING
		   : st == DOM_RUNNING			  ? PVHV_MGMT_STATE_RUNNING
		   : st == DOM_ENDED && !d->restart_pending ? PVHV_MGMT_STATE_ENDED
							   : PVHV_MGMT_STATE_ENDING;
	if (d->paused && (st == DOM_RUNNING || d->create_pending || st == DOM_EMPTY))
		out->state = PVHV_MGMT_STATE_PAUSED;
	if (d->paused == DOM_PAUSED_HELD && out->state == PVHV_MGMT_STATE_PAUSED)
		out->flags |= PVHV_MGMT_DOM_NOT_STARTED;
	out->end = d->end < ARRAY_SIZE(end_codes) ? end_codes[d->end] : PVHV_MGMT_END_NONE;
	if (d->born_us && d->paused != DOM_PAUSED_HELD)
		out->runtime_us = (st == DOM_ENDED && d->end_us ? d->end_us : time_us()) - d->born_us;
	return 0;
}

static int op_destroy(void *ctx, unsigned id, char *msg, size_t msglen)
{
	struct domain *d = dom_at(id);

	(void)ctx;
	if (d->cfg->control)
		return errorf(-PVHV_MGMT_EPERM, msg, msglen, "%s is the control domain", d->name);
	if (__atomic_load_n(&d->state, __ATOMIC_ACQUIRE) != DOM_RUNNING)
		return errorf(-PVHV_MGMT_EINVAL, msg, msglen, "%s is not running", d->name);
	domain_end(d, END_STOPPED, 0, "destroyed through the management port");
	return 0;
}

/* The newest kept lines that fit in cap, oldest first. */
static size_t op_console(void *ctx, unsigned id, char *buf, size_t cap)
{
	struct domain *d = dom_at(id);
	uint32_t first;
	size_t n = 0;

	(void)ctx;
	spin_lock(&d->console.lock);
	first = d->console.ready ? d->console.buf.nkeep : 0;
	while (first > 0) {
		const char *line = conbuf_kept(&d->console.buf, first - 1);

		if (!line || n + strlen(line) + 1 > cap)
			break;
		n += strlen(line) + 1;
		first--;
	}
	n = 0;
	for (uint32_t i = first; d->console.ready && i < d->console.buf.nkeep; i++) {
		const char *line = conbuf_kept(&d->console.buf, i);
		size_t l = line ? strlen(line) : 0;

		if (!line || n + l + 1 > cap)
			break;
		memcpy(buf + n, line, l);
		buf[n + l] = '\n';
		n += l + 1;
	}
	spin_unlock(&d->console.lock);
	return n;
}

static unsigned op_events(void *ctx, uint64_t after, struct pvhv_mgmt_event *out, unsigned max,
			  uint32_t *lost)
{
	static struct domain_event ev[PVHV_MGMT_MAX_PAYLOAD / sizeof(struct pvhv_mgmt_event)];
	unsigned n = domain_events(after, ev, MIN(max, (unsigned)ARRAY_SIZE(ev)), lost);

	(void)ctx;
	for (unsigned i = 0; i < n; i++) {
		out[i] = (struct pvhv_mgmt_event){
			.seq = ev[i].seq, .id = ev[i].id, .gen = ev[i].gen, .exit_status = ev[i].status,
			.time_us = ev[i].time_us,
			.end = ev[i].end < ARRAY_SIZE(end_codes) ? end_codes[ev[i].end] : PVHV_MGMT_END_NONE,
		};
		memcpy(out[i].reason, ev[i].reason, sizeof(out[i].reason));
	}
	return n;
}

static int op_create(void *ctx, const char *name, const struct config_prop *props, unsigned n,
		     struct pvhv_mgmt_ref *ref, char *msg, size_t msglen)
{
	unsigned id;
	uint32_t gen;
	int rc;

	(void)ctx;
	rc = sched_create_domain(name, props, n, &id, &gen, msg, msglen);
	if (rc)
		return rc == -ENOSPC ? -PVHV_MGMT_EPERM : -PVHV_MGMT_EINVAL;
	*ref = (struct pvhv_mgmt_ref){ id, gen };
	return 0;
}

/* ------------------------------------------------------------ domain life */

static int op_create_paused(void *ctx, const char *name, const struct config_prop *props, unsigned n,
			    struct pvhv_mgmt_ref *ref, char *msg, size_t msglen)
{
	unsigned id;
	uint32_t gen;
	int rc;

	(void)ctx;
	rc = sched_create_domain_held(name, props, n, &id, &gen, msg, msglen);
	if (rc)
		return rc == -ENOSPC ? -PVHV_MGMT_EPERM : -PVHV_MGMT_EINVAL;
	*ref = (struct pvhv_mgmt_ref){ id, gen };
	return 0;
}

static int op_start(void *ctx, unsigned id, char *msg, size_t msglen)
{
	(void)ctx;
	return sched_resume_domain(dom_at(id), true, msg, msglen) ? -PVHV_MGMT_EINVAL : 0;
}

static int op_pause(void *ctx, unsigned id, char *msg, size_t msglen)
{
	struct domain *d = dom_at(id);

	(void)ctx;
	if (d->cfg->control)
		return errorf(-PVHV_MGMT_EPERM, msg, msglen, "%s is the control domain", d->name);
	return sched_pause_domain(d, msg, msglen) ? -PVHV_MGMT_EINVAL : 0;
}

static int op_resume(void *ctx, unsigned id, char *msg, size_t msglen)
{
	(void)ctx;
	return sched_resume_domain(dom_at(id), false, msg, msglen) ? -PVHV_MGMT_EINVAL : 0;
}

/* pvhv's exit reasons as the protocol numbers them. */
static const uint8_t exit_codes[EXIT_NR] = {
	[EXIT_INTR] = PVHV_MGMT_EXIT_INTR, [EXIT_CPUID] = PVHV_MGMT_EXIT_CPUID,
	[EXIT_MSR_READ] = PVHV_MGMT_EXIT_MSR_READ, [EXIT_MSR_WRITE] = PVHV_MGMT_EXIT_MSR_WRITE,
	[EXIT_IO] = PVHV_MGMT_EXIT_IO, [EXIT_HLT] = PVHV_MGMT_EXIT_HLT,
	[EXIT_HYPERCALL] = PVHV_MGMT_EXIT_HYPERCALL, [EXIT_NPF] = PVHV_MGMT_EXIT_NPF,
	[EXIT_TRIPLE_FAULT] = PVHV_MGMT_EXIT_TRIPLE_FAULT, [EXIT_BAD_INSN] = PVHV_MGMT_EXIT_BAD_INSN,
	[EXIT_XSETBV] = PVHV_MGMT_EXIT_XSETBV, [EXIT_WBINVD] = PVHV_MGMT_EXIT_WBINVD,
	[EXIT_RDPMC] = PVHV_MGMT_EXIT_RDPMC, [EXIT_EXC_DB] = PVHV_MGMT_EXIT_EXC_DB,
	[EXIT_EXC_AC] = PVHV_MGMT_EXIT_EXC_AC, [EXIT_EXC_MC] = PVHV_MGMT_EXIT_EXC_MC,
	[EXIT_IRQ_WINDOW] = PVHV_MGMT_EXIT_IRQ_WINDOW, [EXIT_PAUSE] = PVHV_MGMT_EXIT_PAUSE,
	[EXIT_INVALID] = PVHV_MGMT_EXIT_INVALID, [EXIT_UNEXPECTED] = PVHV_MGMT_EXIT_UNEXPECTED,
	[EXIT_COW] = PVHV_MGMT_EXIT_COW,
};
_Static_assert(EXIT_NR == PVHV_MGMT_EXIT_COW + 1, "a new exit reason needs a protocol number");

static void op_stats(void *ctx, unsigned id, struct pvhv_mgmt_stats *out)
{
	struct domain *d = dom_at(id);
	struct pvhv_mgmt_domain dom;

	op_domain(ctx, id, &dom);
	out->state = dom.state;
	out->flags = dom.flags;
	out->vcpus = dom.vcpus;
	out->reboots = dom.reboots;
	out->cpu_share = dom.cpu_share;
	out->runtime_us = dom.runtime_us;
	out->cpu_us = dom.cpu_us;
	out->vsock_cid = d->cfg->vsock.cid;
	sched_lock();   /* paused_since_us and paused_us change under it */
	out->paused_us = d->paused_us;
	if (d->paused == DOM_PAUSED_USER)   /* the current pause, up to the end if it ended paused */
		out->paused_us += (d->state == DOM_ENDED && d->end_us ? d->end_us : time_us()) - d->paused_since_us;
	sched_unlock();
	out->exits_total = __atomic_load_n(&d->exits_total, __ATOMIC_RELAXED);
	for (unsigned r = 0; r < EXIT_NR; r++)
		out->exits[exit_codes[r]] = __atomic_load_n(&d->exits[r], __ATOMIC_RELAXED);
	out->memory_bytes = d->cfg->memory;
	out->populated_bytes = __atomic_load_n(&d->mem.taken, __ATOMIC_RELAXED) * LARGE_PAGE_SIZE;
	out->populated_peak_bytes = d->populated_peak * LARGE_PAGE_SIZE;
	out->image_chunks_shared = __atomic_load_n(&d->img_shared, __ATOMIC_RELAXED);
	out->image_chunks_copied = d->img_copied + __atomic_load_n(&d->img_unshared, __ATOMIC_RELAXED);
	out->overlay_pages = __atomic_load_n(&d->overlay_pages, __ATOMIC_RELAXED);
	out->overlay_peak_pages = __atomic_load_n(&d->overlay_peak, __ATOMIC_RELAXED);
	spin_lock(&d->console.lock);
	out->console_out_bytes = d->console.bytes;
	out->console_dropped_bytes = d->console.ready ? d->console.buf.dropped : 0;
	out->console_lines = d->console.ready ? d->console.buf.kept_total : 0;
	spin_unlock(&d->console.lock);
	out->console_in_bytes = __atomic_load_n(&d->console_in_bytes, __ATOMIC_RELAXED);
	out->vsock_refused = d->vsock_refused;
	devices_net_stats(d, out);
}

static int op_console_write(void *ctx, unsigned id, const char *buf, size_t n, char *msg, size_t msglen)
{
	struct domain *d = dom_at(id);
	int took;

	(void)ctx;
	if (!dom_get(d))
		return errorf(-PVHV_MGMT_EPIPE, msg, msglen, "%s is not running: no console input", d->name);
	took = devices_console_write(d, buf, n);
	dom_put(d);
	if (took < 0)
		return errorf(-PVHV_MGMT_EPIPE, msg, msglen,
			      "%s reads no console input (no virtio console, COM1 receive interrupt off)",
			      d->name);
	__atomic_fetch_add(&d->console_in_bytes, (uint64_t)took, __ATOMIC_RELAXED);
	return took;
}

static const struct mgmt_life_ops life_ops = {
	.create_paused = op_create_paused, .start = op_start, .pause = op_pause, .resume = op_resume,
	.stats = op_stats, .console_write = op_console_write,
};

/* ------------------------------------------------------------ images: ctx is the connection */

static uint32_t owner(void *ctx)
{
	return ((const struct mgmt_conn *)ctx)->handle;
}

static int op_image_begin(void *ctx, const char *name, uint64_t size, uint32_t *handle, char *msg,
			  size_t msglen)
{
	return imgstore_begin(owner(ctx), name, size, handle, msg, msglen);
}

static int op_image_data(void *ctx, uint32_t handle, uint64_t offset, const uint8_t *p, size_t n,
			 char *msg, size_t msglen)
{
	return imgstore_data(owner(ctx), handle, offset, p, n, msg, msglen);
}

static int op_image_end(void *ctx, uint32_t handle, char *msg, size_t msglen)
{
	return imgstore_end(owner(ctx), handle, msg, msglen);
}

static unsigned op_image_list(void *ctx, uint32_t first, struct pvhv_mgmt_image *out, unsigned max,
			      uint32_t *total)
{
	(void)ctx;
	return imgstore_list(first, out, max, total);
}

static int op_image_remove(void *ctx, const char *name, char *msg, size_t msglen)
{
	(void)ctx;
	return imgstore_delete(name, msg, msglen);
}

static const struct mgmt_image_ops image_ops = {
	.begin = op_image_begin, .data = op_image_data, .end = op_image_end,
	.list = op_image_list, .remove = op_image_remove,
};

/* HOST_STOP: only the control domain reaches this port (svc_accept()). */
static int op_host_stop(void *ctx, char *msg, size_t msglen)
{
	(void)ctx, (void)msg, (void)msglen;
	serve_stop("the control domain (HOST_STOP)");
	return 0;
}

static const struct mgmt_ops ops = {
	.hello = op_hello, .slots = op_slots, .domain = op_domain, .destroy = op_destroy,
	.console = op_console, .events = op_events, .create = op_create, .host_stop = op_host_stop,
	.image = &image_ops, .life = &life_ops,
};

/* ------------------------------------------------------------ the stream */

/* Sends what is left of the reply; true when it is all out. */
static bool flush(struct mgmt_conn *c)
{
	while (c->tx_off < c->tx_len) {
		int n = vsock_local_send(router, c->handle, c->tx + c->tx_off, c->tx_len - c->tx_off);

		if (n <= 0)
			return false;   /* 0: wait for wake; < 0: the stream is going away */
		c->tx_off += (size_t)n;
	}
	c->tx_len = c->tx_off = 0;
	return true;
}

/*
 * Ends our side.  The router frees a stream without calling closed() when
 * the guest had shut down both ways already: the slot is then free now.
 */
static void close_conn(struct mgmt_conn *c)
{
	vsock_local_close(router, c->handle, false);
	if (c->handle && !vsock_router_conn(router, c->handle)) {
		imgstore_abort(c->handle);
		c->handle = 0;
	}
}

/* Answers the complete requests in rx while replies go out. */
static void serve(struct mgmt_conn *c)
{
	char err[80];

	while (!c->closing && flush(c)) {
		int64_t len = mgmt_frame(c->rx, c->rx_len, err, sizeof(err));

		if (len == 0)
			return;
		if (len < 0) {
			c->tx_len = mgmt_proto_error(c->rx, c->rx_len, err, c->tx);
			c->closing = true;
			break;
		}
		struct mgmt_ops o = ops;

		o.ctx = c;   /* uploads belong to the connection */
		c->tx_len = mgmt_handle(&o, c->rx, (size_t)len, c->tx);
		c->tx_off = 0;
		served++;
		memmove(c->rx, c->rx + len, c->rx_len - (size_t)len);
		c->rx_len -= (size_t)len;
		vsock_local_consumed(router, c->handle, (uint32_t)len);
	}
	if (c->closing && flush(c))
		close_conn(c);
}

static int svc_accept(void *ctx, uint32_t conn, uint64_t cid, uint32_t port)
{
	struct domain *d = domain_by_cid(cid);

	(void)ctx, (void)port;
	if (!d || !d->cfg->control) {
		refused++;
		return -EPERM;
	}
	for (unsigned i = 0; i < MGMT_CONNS; i++)
		if (!conns[i].handle) {
			imgstore_abort(conn);   /* none should be left; a reused handle must not find any */
			conns[i].handle = conn;
			conns[i].rx_len = conns[i].tx_len = conns[i].tx_off = 0;
			conns[i].closing = false;
			return 0;
		}
	refused++;
	return -EBUSY;
}

static void svc_recv(void *ctx, uint32_t conn, const uint8_t *data, size_t n)
{
	struct mgmt_conn *c = find(conn);

	(void)ctx;
	if (!c)
		return;
	/* The router holds the client to our credit (the size of rx): this always fits. */
	n = MIN(n, sizeof(c->rx) - c->rx_len);
	memcpy(c->rx + c->rx_len, data, n);
	c->rx_len += n;
	serve(c);
}

static void svc_peer_shutdown(void *ctx, uint32_t conn, uint32_t flags)
{
	struct mgmt_conn *c = find(conn);

	(void)ctx, (void)flags;
	if (c && !c->tx_len)
		close_conn(c);
}

static void svc_closed(void *ctx, uint32_t conn)
{
	struct mgmt_conn *c = find(conn);

	(void)ctx;
	if (c) {
		imgstore_abort(c->handle);   /* its unfinished uploads go with it */
		c->handle = 0;
	}
}

static void svc_wake(void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < MGMT_CONNS; i++)
		if (conns[i].handle)
			serve(&conns[i]);
}

static const struct vsock_service service = {
	.port = PVHV_MGMT_PORT,
	.buf_alloc = MGMT_FRAME_MAX,
	.accept = svc_accept,
	.recv = svc_recv,
	.peer_shutdown = svc_peer_shutdown,
	.closed = svc_closed,
	.wake = svc_wake,
};

void mgmt_service_start(struct vsock_router *r)
{
	router = r;
	if (vsock_router_listen(r, &service))
		kprintf("pvhv: management port %u: cannot listen\n", PVHV_MGMT_PORT);
}
