/* SPDX-License-Identifier: Apache-2.0 */
/* images.c: the reference-counted store of shared read-only disk images. */
#include "pvh/images.h"

static struct image *find(struct image_store *s, const char *name)
{
	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (s->img[i].refs && strcmp(s->img[i].name, name) == 0)
			return &s->img[i];
	return NULL;
}

int image_get(struct image_store *s, const char *name, uint64_t max_size, image_fetch_fn fetch,
	      void *ctx, struct image **out, char *err, size_t errlen)
{
	size_t n = strnlen(name, IMAGE_NAME_MAX);
	struct image *img = NULL;
	const void *data;
	size_t size;
	int rc;

	if (n == 0 || n == IMAGE_NAME_MAX)
		return errorf(-EINVAL, err, errlen, "image name is empty or longer than %d bytes",
			      IMAGE_NAME_MAX - 1);
	img = find(s, name);
	if (img) {
		img->refs++;
		*out = img;
		return 0;
	}
	for (unsigned i = 0; i < IMAGES_MAX && !img; i++)
		if (!s->img[i].refs)
			img = &s->img[i];
	if (!img)
		return errorf(-ENOSPC, err, errlen, "image \"%s\": the store holds %d images already",
			      name, IMAGES_MAX);
	rc = fetch(ctx, name, &data, &size, err, errlen);
	if (rc)
		return rc;
	if (!size)
		return errorf(-EINVAL, err, errlen, "image \"%s\" is empty", name);
	if (size > max_size)
		return errorf(-EINVAL, err, errlen, "image \"%s\" is %lu bytes, more than %lu", name,
			      (unsigned long)size, (unsigned long)max_size);
	memcpy(img->name, name, n + 1);
	img->data = data;
	img->size = size;
	img->refs = 1;
	s->loads++;
	*out = img;
	return 0;
}

void image_put(struct image_store *s, struct image *img)
{
	(void)s;
	if (img && img->refs && --img->refs == 0) {
		img->data = NULL;
		img->size = 0;
		img->name[0] = 0;
	}
}

unsigned image_count(const struct image_store *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < IMAGES_MAX; i++)
		n += s->img[i].refs != 0;
	return n;
}
