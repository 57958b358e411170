/* SPDX-License-Identifier: Apache-2.0 */
/* images.c: the reference-counted store of shared read-only images, and uploads into it. */
#include "pvh/images.h"

static struct image *find_ready(struct image_store *s, const char *name)
{
	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (s->img[i].state == IMAGE_READY && strcmp(s->img[i].name, name) == 0)
			return &s->img[i];
	return NULL;
}

const struct image *image_find(const struct image_store *s, const char *name)
{
	return find_ready((struct image_store *)s, name);
}

static struct image *free_slot(struct image_store *s)
{
	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (s->img[i].state == IMAGE_FREE)
			return &s->img[i];
	return NULL;
}

static void clear(struct image *img)
{
	memset(img, 0, sizeof(*img));
}

int image_get(struct image_store *s, const char *name, uint64_t max_size, image_fetch_fn fetch,
	      void *ctx, struct image **out, char *err, size_t errlen)
{
	size_t n = strnlen(name, IMAGE_NAME_MAX);
	struct image *img;
	const void *data;
	size_t size;
	int rc;

	if (n == 0 || n == IMAGE_NAME_MAX)
		return errorf(-EINVAL, err, errlen, "image name is empty or longer than %d bytes",
			      IMAGE_NAME_MAX - 1);
	img = find_ready(s, name);
	if (img) {
		if (img->size > max_size)
			return errorf(-EINVAL, err, errlen, "image \"%s\" is %lu bytes, more than %lu", name,
				      (unsigned long)img->size, (unsigned long)max_size);
		img->refs++;
		*out = img;
		return 0;
	}
	img = free_slot(s);
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
	img->state = IMAGE_READY;
	img->origin = IMAGE_BUNDLE;
	s->loads++;
	*out = img;
	return 0;
}

void image_put(struct image_store *s, struct image *img)
{
	(void)s;
	if (img && img->state == IMAGE_READY && img->refs && --img->refs == 0 &&
	    img->origin == IMAGE_BUNDLE)
		clear(img);
}

unsigned image_count(const struct image_store *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < IMAGES_MAX; i++)
		n += s->img[i].state != IMAGE_FREE;
	return n;
}

int image_name_check(const char *name, size_t field, char *err, size_t errlen)
{
	size_t n = strnlen(name, MIN(field, (size_t)IMAGE_NAME_MAX));

	if (n == 0)
		return errorf(-EINVAL, err, errlen, "image name is empty");
	if (n == MIN(field, (size_t)IMAGE_NAME_MAX))
		return errorf(-EINVAL, err, errlen, "image name is longer than %d bytes", IMAGE_NAME_MAX - 1);
	if (name[0] == '.')
		return errorf(-EINVAL, err, errlen, "image name \"%s\" starts with '.'", name);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return errorf(-EINVAL, err, errlen,
				      "image name: byte %zu (0x%02x) is not one of A-Z a-z 0-9 . _ -", i,
				      (unsigned char)c);
	}
	return 0;
}

static struct image *upload(struct image_store *s, uint32_t handle, uint32_t owner)
{
	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (s->img[i].state == IMAGE_UPLOADING && s->img[i].handle == handle &&
		    s->img[i].owner == owner && handle)
			return &s->img[i];
	return NULL;
}

int image_upload_begin(struct image_store *s, const char *name, uint64_t size, uint64_t max_size,
		       uint32_t owner, image_fetch_fn fetch, void *ctx, const struct image_mem *m,
		       uint32_t *handle, char *err, size_t errlen)
{
	char why[96];
	const void *data;
	size_t fsize;
	struct image *img;
	uint8_t *buf;
	int rc = image_name_check(name, IMAGE_NAME_MAX, err, errlen);

	if (rc)
		return rc;
	if (size == 0)
		return errorf(-EINVAL, err, errlen, "image \"%s\": size 0", name);
	if (size > max_size)
		return errorf(-EINVAL, err, errlen, "image \"%s\": %lu bytes, at most %lu", name,
			      (unsigned long)size, (unsigned long)max_size);
	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (s->img[i].state != IMAGE_FREE && strcmp(s->img[i].name, name) == 0)
			return errorf(-EEXIST, err, errlen, "image \"%s\" %s", name,
				      s->img[i].state == IMAGE_UPLOADING ? "exists (being uploaded)" :
				      s->img[i].origin == IMAGE_BUNDLE ? "is a file of the boot bundle" : "exists");
	if (fetch(ctx, name, &data, &fsize, why, sizeof(why)) == 0)
		return errorf(-EEXIST, err, errlen, "image \"%s\" is a file of the boot bundle", name);
	img = free_slot(s);
	if (!img)
		return errorf(-ENOSPC, err, errlen, "image \"%s\": the store holds %d images already",
			      name, IMAGES_MAX);
	if (m->alloc(m->ctx, size, &buf))
		return errorf(-ENOMEM, err, errlen, "image \"%s\": no memory for %lu KiB", name,
			      (unsigned long)((size + 1023) >> 10));
	if (++s->next_handle == 0 || upload(s, s->next_handle, owner))
		s->next_handle = 1;   /* wrapped: 4 billion uploads on; slots bound the live ones */
	clear(img);
	memcpy(img->name, name, strlen(name) + 1);
	img->size = size;
	img->buf = buf;
	img->state = IMAGE_UPLOADING;
	img->origin = IMAGE_UPLOADED;
	img->handle = s->next_handle;
	img->owner = owner;
	*handle = img->handle;
	return 0;
}

int image_upload_data(struct image_store *s, uint32_t handle, uint32_t owner, uint64_t offset,
		      const void *p, size_t n, char *err, size_t errlen)
{
	struct image *img = upload(s, handle, owner);

	if (!img)
		return errorf(-ENOENT, err, errlen, "no upload %u on this connection", handle);
	if (offset != img->filled)
		return errorf(-EINVAL, err, errlen, "image \"%s\": data at offset %lu, expected %lu",
			      img->name, (unsigned long)offset, (unsigned long)img->filled);
	if (n > img->size - img->filled)
		return errorf(-EINVAL, err, errlen, "image \"%s\": %zu bytes at %lu go beyond its %lu",
			      img->name, n, (unsigned long)offset, (unsigned long)img->size);
	memcpy(img->buf + img->filled, p, n);
	img->filled += n;
	return 0;
}

static void discard(struct image *img, const struct image_mem *m)
{
	m->free(m->ctx, img->buf, img->size);
	clear(img);
}

int image_upload_end(struct image_store *s, uint32_t handle, uint32_t owner,
		     const struct image_mem *m, char *err, size_t errlen)
{
	struct image *img = upload(s, handle, owner);

	if (!img)
		return errorf(-ENOENT, err, errlen, "no upload %u on this connection", handle);
	if (img->filled != img->size) {
		errorf(-EINVAL, err, errlen, "image \"%s\": %lu of %lu bytes received; upload discarded",
		       img->name, (unsigned long)img->filled, (unsigned long)img->size);
		discard(img, m);
		return -EINVAL;
	}
	img->data = img->buf;
	img->state = IMAGE_READY;
	img->handle = img->owner = 0;
	return 0;
}

unsigned image_upload_abort(struct image_store *s, uint32_t owner, const struct image_mem *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (s->img[i].state == IMAGE_UPLOADING && s->img[i].owner == owner) {
			discard(&s->img[i], m);
			n++;
		}
	return n;
}

int image_delete(struct image_store *s, const char *name, image_fetch_fn fetch, void *ctx,
		 const struct image_mem *m, char *err, size_t errlen)
{
	struct image *img = find_ready(s, name);
	char why[96];
	const void *data;
	size_t size;

	if (!img && fetch(ctx, name, &data, &size, why, sizeof(why)) == 0)
		return errorf(-EPERM, err, errlen, "image \"%s\" is a file of the boot bundle", name);
	if (!img)
		return errorf(-ENOENT, err, errlen, "no image \"%s\"", name);
	if (img->origin != IMAGE_UPLOADED)
		return errorf(-EPERM, err, errlen, "image \"%s\" is a file of the boot bundle", name);
	if (img->refs)
		return errorf(-EBUSY, err, errlen, "image \"%s\" is in use (%u user%s)", name, img->refs,
			      img->refs == 1 ? "" : "s");
	discard(img, m);
	return 0;
}
