/* SPDX-License-Identifier: Apache-2.0 */
/*
 * img-hostile: a hostile image upload against pvhv's management port, run
 * in the control domain by scripts/rootfs/init's ctlimage step.  On one
 * stream: data at a wrong offset, beyond the size, an END before all bytes,
 * data after that END, uploads too large for memory or the limit, bad and
 * taken names; then an upload left half way as the stream closes.  One line
 * per request: PVHV-IMG-HOSTILE <what> <status> <pvhv's message>.  Last,
 * on a new stream, pvhv's free memory before and after and whether any of
 * the images is listed: PVHV-IMG-HOSTILE-FREE before=B after=A listed=N.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "pvhv/mgmt.h"

static int sock = -1;
static uint32_t seq = 1;
static uint8_t result[PVHV_MGMT_MAX_PAYLOAD];

static void fail(const char *what)
{
	printf("PVHV-IMG-HOSTILE-FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

static void open_stream(void)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = PVHV_VSOCK_CID_HOST,
				 .svm_port = PVHV_MGMT_PORT };

	sock = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&a, sizeof(a)))
		fail("connect");
}

static void io(int write_it, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = write_it ? write(sock, b, n) : read(sock, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail(write_it ? "write" : "read");
		b += r;
		n -= (size_t)r;
	}
}

/* One request; its status returned, its result in result[], message printed under label. */
static int ask(const char *label, uint16_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	struct pvhv_mgmt_hdr h = { PVHV_MGMT_MAGIC, PVHV_MGMT_VERSION, type, seq++, (uint32_t)(alen + blen) };
	struct pvhv_mgmt_status st;
	static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD + sizeof(st)];

	io(1, &h, sizeof(h));
	io(1, (void *)a, alen);
	if (blen)
		io(1, (void *)b, blen);
	io(0, &h, sizeof(h));
	if (h.len < sizeof(st) || h.len > sizeof(buf))
		fail("reply length");
	io(0, buf, h.len);
	memcpy(&st, buf, sizeof(st));
	memcpy(result, buf + sizeof(st), h.len - sizeof(st));
	if (label)
		printf("PVHV-IMG-HOSTILE %s %d %.*s\n", label, st.status, (int)sizeof(st.msg), st.msg);
	return st.status;
}

static uint32_t begin(const char *label, const char *name, uint64_t size)
{
	struct pvhv_mgmt_image_begin b = { .size = size };
	uint32_t handle = 0;

	snprintf(b.name, sizeof(b.name), "%s", name);
	if (ask(label, PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), NULL, 0) == 0)
		memcpy(&handle, result, sizeof(handle));
	return handle;
}

static int data(const char *label, uint32_t handle, uint64_t offset, size_t n)
{
	static uint8_t bytes[PVHV_MGMT_IMAGE_CHUNK];
	struct pvhv_mgmt_image_data d = { .handle = handle, .offset = offset };

	memset(bytes, 0x5a, sizeof(bytes));
	return ask(label, PVHV_MGMT_IMAGE_PUT_DATA, &d, sizeof(d), bytes, n);
}

static uint64_t free_mem(void)
{
	struct pvhv_mgmt_hello hi;

	ask(NULL, PVHV_MGMT_HELLO, NULL, 0, NULL, 0);
	memcpy(&hi, result, sizeof(hi));
	return hi.free_mem_bytes;
}

/* Images called hostile or midway in the list. */
static unsigned listed(void)
{
	uint32_t first = 0;
	struct pvhv_mgmt_images l;
	unsigned n = 0;

	ask(NULL, PVHV_MGMT_IMAGE_LIST, &first, sizeof(first), NULL, 0);
	memcpy(&l, result, sizeof(l));
	for (unsigned k = 0; k < l.count; k++) {
		struct pvhv_mgmt_image e;

		memcpy(&e, result + sizeof(l) + k * sizeof(e), sizeof(e));
		n += !strncmp(e.name, "hostile", sizeof(e.name)) || !strncmp(e.name, "midway", sizeof(e.name));
	}
	return n;
}

int main(void)
{
	uint64_t before, after = 0;
	uint32_t h, end;
	unsigned n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	open_stream();
	before = free_mem();
	h = begin("begin", "hostile", 10000);
	data("wrong-offset", h, 5, 100);
	data("first", h, 0, 4000);
	data("second", h, 4000, 4000);
	data("over-size", h, 8000, 4000);
	data("replayed", h, 0, 4000);
	end = h;
	ask("end-early", PVHV_MGMT_IMAGE_PUT_END, &end, sizeof(end), NULL, 0);
	data("after-end", h, 8000, 2000);
	data("no-such-handle", h + 100, 0, 1);
	begin("too-big-for-memory", "hostile", 3ull << 30);
	begin("over-the-limit", "hostile", 5ull << 30);
	begin("bad-name", "bad/name", 10);
	begin("bundle-name", "vmlinux", 10);
	begin("empty", "hostile", 0);
	h = begin("midway-begin", "midway", 1 << 20);
	begin("duplicate", "midway", 10);
	data("midway-data", h, 0, 4000);
	close(sock);   /* with "midway" half way */
	for (int i = 0; i < 50; i++) {
		open_stream();
		after = free_mem();
		n = listed();
		close(sock);
		if (after == before && !n)
			break;
		usleep(100000);
	}
	printf("PVHV-IMG-HOSTILE-FREE before=%llu after=%llu listed=%u\n", (unsigned long long)before,
	       (unsigned long long)after, n);
	return 0;
}
