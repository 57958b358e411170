/* SPDX-License-Identifier: Apache-2.0 */
/* images_test.c: unit tests for pvh/images.c: one fetch per image in use, references, limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/images.h"

static struct image_store store;
static unsigned fetches;
static char err[160];
static const uint8_t bytes[4096];

/* Files "a" and "b" of 4096 bytes, "empty" of 0; anything else is missing. */
static int fetch(void *ctx, const char *name, const void **data, size_t *size, char *e, size_t elen)
{
	(void)ctx;
	fetches++;
	if (strcmp(name, "a") && strcmp(name, "b") && strcmp(name, "empty"))
		return errorf(-ENOENT, e, elen, "no file \"%s\" in bundle", name);
	*data = bytes;
	*size = strcmp(name, "empty") ? sizeof(bytes) : 0;
	return 0;
}

static void setup(void)
{
	memset(&store, 0, sizeof(store));
	fetches = 0;
	err[0] = 0;
}

TestSuite(images, .init = setup);

static struct image *get(const char *name)
{
	struct image *img = NULL;

	cr_assert_eq(image_get(&store, name, 1 << 20, fetch, NULL, &img, err, sizeof(err)), 0, "%s", err);
	return img;
}

Test(images, fetched_once_while_in_use)
{
	struct image *a1 = get("a"), *a2 = get("a"), *b = get("b");

	cr_assert_eq(a1, a2);
	cr_assert_neq(a1, b);
	cr_assert_eq(fetches, 2);
	cr_assert_eq(a1->refs, 2);
	cr_assert_eq(a1->size, 4096);
	cr_assert_eq(image_count(&store), 2);
	image_put(&store, a1);
	cr_assert_eq(image_count(&store), 2);
	image_put(&store, a2);
	cr_assert_eq(image_count(&store), 1);
	/* The last reference gone, the next user fetches it again. */
	get("a");
	cr_assert_eq(fetches, 3);
}

Test(images, errors_name_the_image)
{
	struct image *img = NULL;

	cr_assert_eq(image_get(&store, "nope", 1 << 20, fetch, NULL, &img, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "no file \"nope\" in bundle");
	cr_assert_eq(image_get(&store, "empty", 1 << 20, fetch, NULL, &img, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "image \"empty\" is empty");
	cr_assert_eq(image_get(&store, "a", 1024, fetch, NULL, &img, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "image \"a\" is 4096 bytes, more than 1024");
	cr_assert_eq(image_get(&store, "", 1024, fetch, NULL, &img, err, sizeof(err)), -EINVAL);
	cr_assert_null(img);
	cr_assert_eq(image_count(&store), 0);
}

Test(images, full_store)
{
	char name[IMAGE_NAME_MAX];
	struct image *img;

	/* Fill every slot with a different name (fetch refuses those, so fake them). */
	for (unsigned i = 0; i < IMAGES_MAX; i++) {
		snprintf(store.img[i].name, sizeof(store.img[i].name), "x%u", i);
		store.img[i].refs = 1;
		store.img[i].state = IMAGE_READY;
		store.img[i].origin = IMAGE_BUNDLE;
	}
	cr_assert_eq(image_get(&store, "a", 1 << 20, fetch, NULL, &img, err, sizeof(err)), -ENOSPC);
	cr_assert_eq(fetches, 0);
	snprintf(name, sizeof(name), "x%u", 7);
	cr_assert_eq(image_get(&store, name, 1 << 20, fetch, NULL, &img, err, sizeof(err)), 0);
	cr_assert_eq(img, &store.img[7]);
	cr_assert_eq(img->refs, 2);
}

Test(images, put_of_null_or_free_is_harmless)
{
	struct image *a = get("a");

	image_put(&store, NULL);
	image_put(&store, a);
	image_put(&store, a);
	cr_assert_eq(a->refs, 0);
	cr_assert_eq(image_count(&store), 0);
}

/* ------------------------------------------------------------ uploads */

/* Upload memory from malloc, counted: every test ends with nothing held. */
static long held_bytes, allocs;
static bool refuse_alloc;

static int m_alloc(void *ctx, uint64_t size, uint8_t **out)
{
	(void)ctx;
	if (refuse_alloc)
		return -ENOMEM;
	*out = malloc(size);
	cr_assert(*out);
	held_bytes += (long)size;
	allocs++;
	return 0;
}

static void m_free(void *ctx, uint8_t *p, uint64_t size)
{
	(void)ctx;
	held_bytes -= (long)size;
	free(p);
}

static const struct image_mem mem = { m_alloc, m_free, NULL };

static uint32_t begin_ok(const char *name, uint64_t size, uint32_t owner)
{
	uint32_t h = 0;

	cr_assert_eq(image_upload_begin(&store, name, size, 1 << 20, owner, fetch, NULL, &mem, &h, err,
					sizeof(err)), 0, "%s", err);
	cr_assert_neq(h, 0);
	return h;
}

static void upload_setup(void)
{
	setup();
	held_bytes = allocs = 0;
	refuse_alloc = false;
}

Test(images, upload_appears_whole_only_at_end, .init = upload_setup)
{
	uint8_t data[100];
	struct image *img;
	uint32_t h = begin_ok("disk-1.ext4", sizeof(data), 7);

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	cr_assert_eq(held_bytes, 100);
	cr_assert_eq(image_count(&store), 1);
	/* Not visible while incomplete: a get goes to the bundle, which has no such file. */
	cr_assert_null(image_find(&store, "disk-1.ext4"));
	cr_assert_eq(image_get(&store, "disk-1.ext4", 1 << 20, fetch, NULL, &img, err, sizeof(err)), -ENOENT);
	cr_assert_eq(image_upload_data(&store, h, 7, 0, data, 60, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(image_upload_data(&store, h, 7, 60, data + 60, 40, err, sizeof(err)), 0, "%s", err);
	cr_assert_null(image_find(&store, "disk-1.ext4"));
	cr_assert_eq(image_upload_end(&store, h, 7, &mem, err, sizeof(err)), 0, "%s", err);
	fetches = 0;
	img = get("disk-1.ext4");
	cr_assert_eq(fetches, 0, "an uploaded image is never fetched");
	cr_assert_eq(img->origin, IMAGE_UPLOADED);
	cr_assert_eq(img->size, 100);
	cr_assert_eq(memcmp(img->data, data, 100), 0);
	/* In use: not deletable; the last user gone, it stays until deleted. */
	cr_assert_eq(image_delete(&store, "disk-1.ext4", fetch, NULL, &mem, err, sizeof(err)), -EBUSY);
	cr_assert_str_eq(err, "image \"disk-1.ext4\" is in use (1 user)");
	image_put(&store, img);
	cr_assert_not_null(image_find(&store, "disk-1.ext4"));
	cr_assert_eq(held_bytes, 100);
	cr_assert_eq(image_delete(&store, "disk-1.ext4", fetch, NULL, &mem, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(held_bytes, 0);
	cr_assert_eq(image_count(&store), 0);
	cr_assert_eq(image_delete(&store, "disk-1.ext4", fetch, NULL, &mem, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "no image \"disk-1.ext4\"");
}

Test(images, hostile_data_changes_nothing, .init = upload_setup)
{
	uint8_t data[64] = { 1, 2, 3 };
	uint32_t h = begin_ok("u", 64, 7);

	cr_assert_eq(image_upload_data(&store, h, 7, 0, data, 10, err, sizeof(err)), 0);
	cr_assert_eq(image_upload_data(&store, h, 7, 0, data, 10, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "image \"u\": data at offset 0, expected 10");
	cr_assert_eq(image_upload_data(&store, h, 7, 11, data, 10, err, sizeof(err)), -EINVAL);
	cr_assert_eq(image_upload_data(&store, h, 7, 10, data, 55, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "image \"u\": 55 bytes at 10 go beyond its 64");
	cr_assert_eq(image_upload_data(&store, h + 1, 7, 10, data, 1, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "no upload 2 on this connection");
	cr_assert_eq(image_upload_data(&store, h, 8, 10, data, 1, err, sizeof(err)), -ENOENT,
		     "another connection cannot write to it");
	cr_assert_eq(image_upload_end(&store, h, 8, &mem, err, sizeof(err)), -ENOENT);
	cr_assert_eq(store.img[0].filled, 10, "the refused pieces changed nothing");
	/* The rest fits exactly. */
	cr_assert_eq(image_upload_data(&store, h, 7, 10, data, 54, err, sizeof(err)), 0);
	cr_assert_eq(image_upload_end(&store, h, 7, &mem, err, sizeof(err)), 0);
	cr_assert_eq(image_upload_end(&store, h, 7, &mem, err, sizeof(err)), -ENOENT, "ended once");
	cr_assert_eq(image_delete(&store, "u", fetch, NULL, &mem, err, sizeof(err)), 0);
	cr_assert_eq(held_bytes, 0);
}

Test(images, end_before_complete_discards, .init = upload_setup)
{
	uint8_t data[8] = { 0 };
	uint32_t h = begin_ok("u", 16, 7);

	cr_assert_eq(image_upload_data(&store, h, 7, 0, data, 8, err, sizeof(err)), 0);
	cr_assert_eq(image_upload_end(&store, h, 7, &mem, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "image \"u\": 8 of 16 bytes received; upload discarded");
	cr_assert_eq(held_bytes, 0);
	cr_assert_eq(image_count(&store), 0);
	cr_assert_null(image_find(&store, "u"));
	/* The name is free again. */
	begin_ok("u", 16, 7);
	cr_assert_eq(image_upload_abort(&store, 7, &mem), 1);
	cr_assert_eq(held_bytes, 0);
}

Test(images, abort_frees_only_the_owners_uploads, .init = upload_setup)
{
	uint8_t data[4] = { 0 };
	uint32_t h;

	begin_ok("one", 4, 7);
	begin_ok("two", 8, 7);
	h = begin_ok("three", 4, 9);
	cr_assert_eq(held_bytes, 16);
	cr_assert_eq(image_upload_abort(&store, 7, &mem), 2);
	cr_assert_eq(held_bytes, 4);
	cr_assert_eq(image_upload_data(&store, h, 9, 0, data, 4, err, sizeof(err)), 0);
	cr_assert_eq(image_upload_end(&store, h, 9, &mem, err, sizeof(err)), 0);
	/* A finished image is no longer the connection's: closing it keeps the image. */
	cr_assert_eq(image_upload_abort(&store, 9, &mem), 0);
	cr_assert_not_null(image_find(&store, "three"));
	cr_assert_eq(image_delete(&store, "three", fetch, NULL, &mem, err, sizeof(err)), 0);
	cr_assert_eq(held_bytes, 0);
}

Test(images, begin_refusals_change_nothing, .init = upload_setup)
{
	uint32_t h = 0;
	char long_name[IMAGE_NAME_MAX + 1];

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	begin_ok("taken", 4, 7);
#define REFUSED(rc, msg, name, size)                                                                 \
	do {                                                                                         \
		cr_assert_eq(image_upload_begin(&store, name, size, 1 << 20, 7, fetch, NULL, &mem, &h, err, \
						sizeof(err)), rc, "%s", err);                        \
		cr_assert_str_eq(err, msg);                                                          \
	} while (0)
	REFUSED(-EINVAL, "image name is empty", "", 4);
	REFUSED(-EINVAL, "image name is longer than 63 bytes", long_name, 4);
	REFUSED(-EINVAL, "image name \".x\" starts with '.'", ".x", 4);
	REFUSED(-EINVAL, "image name: byte 1 (0x2f) is not one of A-Z a-z 0-9 . _ -", "a/b", 4);
	REFUSED(-EINVAL, "image name: byte 0 (0x3a) is not one of A-Z a-z 0-9 . _ -", ":b", 4);
	REFUSED(-EINVAL, "image \"n\": size 0", "n", 0);
	REFUSED(-EINVAL, "image \"n\": 1048577 bytes, at most 1048576", "n", (1 << 20) + 1);
	REFUSED(-EEXIST, "image \"taken\" exists (being uploaded)", "taken", 4);
	REFUSED(-EEXIST, "image \"a\" is a file of the boot bundle", "a", 4);
	image_put(&store, get("b"));
	cr_assert_eq(image_count(&store), 1, "b was fetched and dropped");
	{
		struct image *b = get("b");   /* in use: an entry of the store, still the bundle's */

		REFUSED(-EEXIST, "image \"b\" is a file of the boot bundle", "b", 4);
		image_put(&store, b);
	}
	refuse_alloc = true;
	REFUSED(-ENOMEM, "image \"n\": no memory for 1 KiB", "n", 4);
	refuse_alloc = false;
	cr_assert_eq(allocs, 1);
	cr_assert_eq(held_bytes, 4);
	cr_assert_eq(image_count(&store), 1);
	/* A full store refuses before taking memory. */
	for (unsigned i = 1; i < IMAGES_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%u", i);
		begin_ok(name, 1, 8);
	}
	REFUSED(-ENOSPC, "image \"n\": the store holds 64 images already", "n", 4);
	cr_assert_eq(allocs, IMAGES_MAX);
	image_upload_abort(&store, 8, &mem);
	image_upload_abort(&store, 7, &mem);
	cr_assert_eq(held_bytes, 0);
#undef REFUSED
}

Test(images, delete_of_a_bundle_file_is_refused, .init = upload_setup)
{
	struct image *a = get("a");

	cr_assert_eq(image_delete(&store, "a", fetch, NULL, &mem, err, sizeof(err)), -EPERM);
	cr_assert_str_eq(err, "image \"a\" is a file of the boot bundle");
	image_put(&store, a);
	cr_assert_eq(image_delete(&store, "b", fetch, NULL, &mem, err, sizeof(err)), -EPERM);
	cr_assert_eq(image_count(&store), 0);
}
