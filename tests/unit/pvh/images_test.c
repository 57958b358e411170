/* SPDX-License-Identifier: Apache-2.0 */
/* images_test.c: unit tests for pvh/images.c: one fetch per image in use, references, limits. */
#include <criterion/criterion.h>
#include <stdio.h>
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
