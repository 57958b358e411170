/* SPDX-License-Identifier: Apache-2.0 */
/* restore.c: at pvhd's start, the images of --store DIR that pvhv lacks uploaded into it again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvhd.h"
#include "store.h"

#define RESTORE_WINDOW 32  /* DATA frames sent ahead of their replies */

struct restore_ctx {
	struct mgmt_conn mgmt;
	bool open;
	unsigned cid, port;
	struct pvhv_mgmt_image *have;   /* pvhv's images at the start */
	unsigned nhave;
	uint32_t handle;
	uint64_t off;
	unsigned ahead;
};

static int conn(struct restore_ctx *x, char *err, size_t errlen)
{
	if (x->open)
		return 0;
	if (mgmt_connect(&x->mgmt, x->cid, x->port)) {
		snprintf(err, errlen, "pvhv unreachable: %s", x->mgmt.err);
		return -EIO;
	}
	x->open = true;
	return 0;
}

/* pvhv's status as an errno-like failure with its message. */
static int mgmt_fail(struct restore_ctx *x, int rc, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: pvhv: %s (error %d)", what, x->mgmt.err, -rc);
	mgmt_close(&x->mgmt);   /* discards an upload under way, and no reply is left due */
	x->open = false;
	return rc == -PVHV_MGMT_ENOMEM || rc == -PVHV_MGMT_ENOSPC ? -ENOMEM : -EIO;
}

static bool has(void *ctx, const char *name)
{
	struct restore_ctx *x = ctx;

	for (unsigned k = 0; k < x->nhave; k++)
		if (!strncmp(x->have[k].name, name, sizeof(x->have[k].name)))
			return true;
	return false;
}

static int begin(void *ctx, const char *name, uint64_t size, char *err, size_t errlen)
{
	struct restore_ctx *x = ctx;
	struct pvhv_mgmt_image_begin b = { .size = size };
	int rc = conn(x, err, errlen);

	if (rc)
		return rc;
	snprintf(b.name, sizeof(b.name), "%s", name);
	rc = mgmt_call_exact(&x->mgmt, PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), &x->handle, sizeof(x->handle));
	if (rc)
		return mgmt_fail(x, rc, "upload", err, errlen);
	x->off = 0;
	x->ahead = 0;
	return 0;
}

static int data(void *ctx, const void *buf, size_t n, char *err, size_t errlen)
{
	struct restore_ctx *x = ctx;
	const uint8_t *p = buf;

	while (n) {
		struct pvhv_mgmt_image_data d = { .handle = x->handle, .offset = x->off };
		uint32_t len = n < PVHV_MGMT_IMAGE_CHUNK ? (uint32_t)n : PVHV_MGMT_IMAGE_CHUNK;
		int rc;

		if (mgmt_send(&x->mgmt, PVHV_MGMT_IMAGE_PUT_DATA, &d, sizeof(d), p, len))
			return mgmt_fail(x, MGMT_CLIENT_EIO, "upload", err, errlen);
		x->off += len;
		p += len;
		n -= len;
		if (++x->ahead == RESTORE_WINDOW) {
			rc = mgmt_reply(&x->mgmt, PVHV_MGMT_IMAGE_PUT_DATA, NULL, 0, NULL);
			if (rc)
				return mgmt_fail(x, rc, "upload", err, errlen);
			x->ahead--;
		}
	}
	return 0;
}

static int end(void *ctx, bool commit, char *err, size_t errlen)
{
	struct restore_ctx *x = ctx;
	int rc;

	if (!commit) {
		/* Closing the stream discards the upload: pvhv never shows it. */
		mgmt_close(&x->mgmt);
		x->open = false;
		return 0;
	}
	for (; x->ahead; x->ahead--) {
		rc = mgmt_reply(&x->mgmt, PVHV_MGMT_IMAGE_PUT_DATA, NULL, 0, NULL);
		if (rc)
			return mgmt_fail(x, rc, "upload", err, errlen);
	}
	rc = mgmt_call_exact(&x->mgmt, PVHV_MGMT_IMAGE_PUT_END, &x->handle, sizeof(x->handle), NULL, 0);
	return rc ? mgmt_fail(x, rc, "upload end", err, errlen) : 0;
}

static void report(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

int store_restore_into_pvhv(const char *dir, unsigned cid, unsigned port)
{
	static const struct store_restore_ops ops = { .has = has, .begin = begin, .data = data, .end = end };
	static struct pvhv_mgmt_image page[MGMT_CLIENT_MAX_IMAGES];
	static struct store_restore_result res;
	struct restore_ctx x = { .cid = cid, .port = port };
	char err[STORE_ERRLEN];
	unsigned count, total;
	uint32_t first = 0;
	int rc = store_check_dir(dir, err, sizeof(err));

	if (rc) {
		fprintf(stderr, "pvhd: --store: %s\n", err);
		return -1;
	}
	if (conn(&x, err, sizeof(err))) {
		fprintf(stderr, "pvhd: store %s: %s\n", dir, err);
		return -1;
	}
	do {
		void *nv;

		rc = mgmt_images(&x.mgmt, first, page, &count, &total);
		if (rc) {
			fprintf(stderr, "pvhd: store %s: pvhv's image list: %s\n", dir, x.mgmt.err);
			goto out;
		}
		nv = realloc(x.have, (x.nhave + count + 1) * sizeof(*x.have));
		if (!nv) {
			fprintf(stderr, "pvhd: store %s: no memory for pvhv's image list\n", dir);
			rc = -1;
			goto out;
		}
		x.have = nv;
		memcpy(x.have + x.nhave, page, count * sizeof(*page));
		x.nhave += count;
		first += count;
	} while (count && first < total);
	rc = store_restore(dir, &ops, &x, report, &res, err, sizeof(err));
	if (rc)
		fprintf(stderr, "pvhd: %s\n", err);
	else
		fprintf(stderr, "%s\n", res.line);
out:
	free(x.have);
	if (x.open)
		mgmt_close(&x.mgmt);
	return rc ? -1 : 0;
}
