/* SPDX-License-Identifier: Apache-2.0 */
/* config.c: parse and check the pvhv device-tree configuration with libfdt. */
#include "lib/base.h"
#include "pvh/config.h"
#include "pvhv/abi.h"
#include <libfdt.h>

/* Properties a domain node may carry; anything else is an error. */
enum {
	PROP_KERNEL,
	PROP_INITRD,
	PROP_CMDLINE,
	PROP_MEMORY,
	PROP_VCPUS,
	PROP_MAX_RUNTIME,
	PROP_VIRTIO,
	PROP_DISKS,
	PROP_OVERLAY,
	NR_PROPS,
};

static const char *const prop_names[NR_PROPS] = {
	[PROP_KERNEL] = "kernel",
	[PROP_INITRD] = "initrd",
	[PROP_CMDLINE] = "cmdline",
	[PROP_MEMORY] = "memory-mib",
	[PROP_VCPUS] = "vcpus",
	[PROP_MAX_RUNTIME] = "max-runtime-ms",
	[PROP_VIRTIO] = "virtio",
	[PROP_DISKS] = "disks",
	[PROP_OVERLAY] = "overlay-mib",
};

static const char *const virtio_names[CONFIG_VIRTIO_KINDS] = {
	[CONFIG_VIRTIO_CONSOLE] = "console",
	[CONFIG_VIRTIO_RNG] = "rng",
	[CONFIG_VIRTIO_BLK] = "blk",
};

const char *config_virtio_name(enum config_virtio kind)
{
	return (unsigned)kind < CONFIG_VIRTIO_KINDS ? virtio_names[kind] : "?";
}


PRINTF_LIKE(2, 3)
static int dom_error(struct domain_config *d, const char *fmt, ...)
{
	va_list ap;

	d->valid = false;
	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Index of the first control (< 0x20, 0x7f) or non-ASCII byte in s[0, len), or -1. */
static int unsafe_byte(const char *s, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return i;
	return -1;
}

/*
 * The node name becomes the domain's name in every console line, so a name
 * that would put raw control bytes there (terminal escapes, line breaks)
 * is not copied: the domain is called "#index" instead, which no valid
 * name can be ('#' is outside the allowed set).
 */
static int check_name(const void *fdt, int node, struct domain_config *d,
		      const struct domain_config *prev, unsigned idx)
{
	const char *name;
	int len, i;
	unsigned j;

	name = fdt_get_name(fdt, node, &len);
	if (!name || len <= 0) {
		snprintf(d->name, sizeof(d->name), "#%u", idx);
		return dom_error(d, "node name unreadable");
	}
	i = unsafe_byte(name, len);
	if (i >= 0) {
		snprintf(d->name, sizeof(d->name), "#%u", idx);
		return dom_error(d, "name has control or non-ASCII byte 0x%02x at offset %d",
				 (unsigned char)name[i], i);
	}
	memcpy(d->name, name, MIN((size_t)len, sizeof(d->name) - 1));
	if (len > CONFIG_NAME_MAX - 1)
		return dom_error(d, "name is %d bytes, limit %d", len,
				 CONFIG_NAME_MAX - 1);
	for (i = 0; i < len; i++)
		if (!name_char_ok(name[i]))
			return dom_error(d, "name \"%s\" has characters outside [A-Za-z0-9_-]",
					 d->name);
	for (j = 0; j < idx; j++)
		if (strcmp(prev[j].name, d->name) == 0)
			return dom_error(d, "duplicate domain name");
	return 0;
}

static int get_string(struct domain_config *d, const char *prop,
		      const char *val, int len, bool may_be_empty,
		      const char **out)
{
	if (len < 1 || val[len - 1] != '\0' || strnlen(val, len) != (size_t)len - 1)
		return dom_error(d, "%s is not a NUL-terminated string", prop);
	if (!may_be_empty && len == 1)
		return dom_error(d, "%s is an empty string", prop);
	*out = val;
	return 0;
}

/* A file name is printed in messages, so it must be printable ASCII. */
static int get_file_name(struct domain_config *d, const char *prop,
			 const char *val, int len, const char **out)
{
	const char *s;
	int rc, i;

	rc = get_string(d, prop, val, len, false, &s);
	if (rc)
		return rc;
	i = unsafe_byte(s, len - 1);
	if (i >= 0)
		return dom_error(d, "%s name has control or non-ASCII byte 0x%02x at offset %d",
				 prop, (unsigned char)s[i], i);
	*out = s;
	return 0;
}

/*
 * virtio = "console", "rng";  A string list (each NUL-terminated): known
 * kinds, each at most once, at most CONFIG_MAX_VIRTIO.
 */
static int get_virtio(struct domain_config *d, const char *val, int len)
{
	int off = 0;

	if (len < 2 || val[len - 1] != '\0')
		return dom_error(d, "virtio is not a list of NUL-terminated strings");
	while (off < len) {
		const char *s = val + off;
		size_t n = strnlen(s, (size_t)(len - off));
		unsigned k;

		if (n == 0)
			return dom_error(d, "virtio: empty device name at byte %d", off);
		if (unsafe_byte(s, (int)n) >= 0)
			return dom_error(d, "virtio: device name at byte %d has a control or non-ASCII byte", off);
		for (k = 0; k < CONFIG_VIRTIO_KINDS; k++)
			if (strcmp(s, virtio_names[k]) == 0)
				break;
		if (k == CONFIG_VIRTIO_BLK)
			return dom_error(d, "virtio: \"blk\" is not listed here: name the images in \"disks\"");
		if (k == CONFIG_VIRTIO_KINDS)
			return dom_error(d, "virtio: unknown device \"%.*s\" (known: console, rng)",
					 (int)MIN(n, 32u), s);
		for (unsigned i = 0; i < d->nr_virtio; i++)
			if (d->virtio[i] == k)
				return dom_error(d, "virtio: \"%s\" listed twice", s);
		if (d->nr_virtio == CONFIG_MAX_VIRTIO)
			return dom_error(d, "virtio: more than %d devices", CONFIG_MAX_VIRTIO);
		d->virtio[d->nr_virtio++] = (enum config_virtio)k;
		off += (int)n + 1;
	}
	return 0;
}

/*
 * disks = "root.ext4", "ro:data.img";  A string list: each entry a file of
 * the bundle (printable ASCII, no '/'), with "ro:" in front for a read-only
 * disk.  At most CONFIG_MAX_VIRTIO in all with the "virtio" devices (checked
 * once every property is in, see parse_props()).
 */
static int get_disks(struct domain_config *d, const char *val, int len)
{
	int off = 0;

	if (len < 2 || val[len - 1] != '\0')
		return dom_error(d, "disks is not a list of NUL-terminated strings");
	while (off < len) {
		const char *s = val + off;
		size_t n = strnlen(s, (size_t)(len - off));
		struct config_disk *k;
		int bad;

		if (d->nr_disks == CONFIG_MAX_VIRTIO)
			return dom_error(d, "disks: more than %d", CONFIG_MAX_VIRTIO);
		k = &d->disk[d->nr_disks];
		bad = unsafe_byte(s, (int)n);
		if (bad >= 0)
			return dom_error(d, "disks: entry %u has a control or non-ASCII byte at offset %d",
					 d->nr_disks, bad);
		k->read_only = strncmp(s, "ro:", 3) == 0;
		k->image = k->read_only ? s + 3 : s;
		if (!*k->image)
			return dom_error(d, "disks: entry %u names no image", d->nr_disks);
		if (strchr(k->image, '/') || strchr(k->image, ':'))
			return dom_error(d, "disks: entry %u \"%.*s\": an image is a bundle file name, "
					 "without '/' or ':' (\"ro:\" in front for read-only)",
					 d->nr_disks, (int)MIN(n, 40u), s);
		d->nr_disks++;
		off += (int)n + 1;
	}
	return 0;
}

static int get_cell(struct domain_config *d, const char *prop,
		    const void *val, int len, uint32_t *out)
{
	if (len != 4)
		return dom_error(d, "%s must be one 32-bit cell, not %d bytes",
				 prop, len);
	*out = fdt32_ld(val);
	return 0;
}

static int set_prop(struct domain_config *d, unsigned which, const void *val,
		    int len)
{
	const char *name = prop_names[which];
	uint32_t v = 0;
	size_t n;
	int rc;

	switch (which) {
	case PROP_KERNEL:
		return get_file_name(d, name, val, len, &d->kernel);
	case PROP_INITRD:
		return get_file_name(d, name, val, len, &d->initrd);
	case PROP_CMDLINE:
		rc = get_string(d, name, val, len, true, &d->cmdline);
		if (rc)
			return rc;
		n = (size_t)len - 1;
		if (n > PVHV_CMDLINE_MAX - 1)
			return dom_error(d, "cmdline is %llu bytes, limit %u",
					 (unsigned long long)n, PVHV_CMDLINE_MAX - 1);
		return 0;
	case PROP_MEMORY:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v < CONFIG_MEM_MIN_MIB)
			return dom_error(d, "memory-mib %u is below %u", v,
					 CONFIG_MEM_MIN_MIB);
		if (v > CONFIG_MEM_MAX_MIB)
			return dom_error(d, "memory-mib %u exceeds %u", v,
					 CONFIG_MEM_MAX_MIB);
		if (v % (PVHV_RAM_ALIGN >> 20))
			return dom_error(d, "memory-mib %u is not a multiple of %u",
					 v, PVHV_RAM_ALIGN >> 20);
		d->memory = MIB(v);
		return 0;
	case PROP_VCPUS:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v < 1)
			return dom_error(d, "vcpus %u is below 1", v);
		if (v > CONFIG_MAX_VCPUS)
			return dom_error(d, "vcpus %u exceeds %u", v, CONFIG_MAX_VCPUS);
		d->vcpus = v;
		return 0;
	case PROP_VIRTIO:
		return get_virtio(d, val, len);
	case PROP_DISKS:
		return get_disks(d, val, len);
	case PROP_OVERLAY:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v > CONFIG_OVERLAY_MAX_MIB)
			return dom_error(d, "overlay-mib %u exceeds %u", v, CONFIG_OVERLAY_MAX_MIB);
		d->overlay = MIB(v);
		return 0;
	case PROP_MAX_RUNTIME:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v < 1)
			return dom_error(d, "max-runtime-ms %u is below 1", v);
		d->max_runtime_ms = v;
		return 0;
	}
	return dom_error(d, "internal: property %u", which);
}

static int parse_props(const void *fdt, int node, struct domain_config *d)
{
	unsigned seen = 0, i;
	int prop, len, rc;

	fdt_for_each_property_offset(prop, fdt, node) {
		const char *pname;
		const void *val = fdt_getprop_by_offset(fdt, prop, &pname, &len);

		if (!val || !pname)
			return dom_error(d, "unreadable property");
		if (strcmp(pname, "phandle") == 0 || strcmp(pname, "name") == 0)
			continue;
		for (i = 0; i < NR_PROPS; i++)
			if (strcmp(pname, prop_names[i]) == 0)
				break;
		if (i == NR_PROPS)
			return dom_error(d, "unknown property \"%s\"", pname);
		if (seen & (1u << i))
			return dom_error(d, "duplicate property \"%s\"", pname);
		seen |= 1u << i;
		rc = set_prop(d, i, val, len);
		if (rc)
			return rc;
	}
	if (!(seen & (1u << PROP_KERNEL)))
		return dom_error(d, "missing kernel");
	if (!(seen & (1u << PROP_MEMORY)))
		return dom_error(d, "missing memory-mib");
	if (d->nr_virtio + d->nr_disks > CONFIG_MAX_VIRTIO)
		return dom_error(d, "%u virtio devices and %u disks: more than %d devices",
				 d->nr_virtio, d->nr_disks, CONFIG_MAX_VIRTIO);
	if (!(seen & (1u << PROP_OVERLAY)))
		d->overlay = MIB(CONFIG_OVERLAY_DEFAULT_MIB);
	return 0;
}

static void parse_domain(const void *fdt, int node, struct pvh_config *cfg)
{
	struct domain_config *d = &cfg->dom[cfg->nr_domains];
	int child;

	d->vcpus = 1;
	d->valid = true;
	if (check_name(fdt, node, d, cfg->dom, cfg->nr_domains))
		return;
	if (parse_props(fdt, node, d))
		return;
	child = fdt_first_subnode(fdt, node);
	if (child >= 0)
		dom_error(d, "unexpected child node \"%s\"",
			  fdt_get_name(fdt, child, NULL));
}

int config_parse(const void *fdt, size_t len, struct pvh_config *cfg,
		 char *err, size_t errlen)
{
	int rc, domains, node;
	unsigned count = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!fdt || ((uintptr_t)fdt & 7))
		return errorf(-EINVAL, err, errlen,
			     "config: blob is not 8-byte aligned");
	if (len > INT32_MAX)
		return errorf(-EINVAL, err, errlen,
			     "config: blob is %llu bytes, too large",
			     (unsigned long long)len);
	rc = fdt_check_full(fdt, len);
	if (rc)
		return errorf(-EINVAL, err, errlen,
			     "config: not a valid device tree: %s",
			     fdt_strerror(rc));
	if (fdt_totalsize(fdt) != len)
		return errorf(-EINVAL, err, errlen,
			     "config: device tree header says %u bytes, blob is %llu",
			     fdt_totalsize(fdt), (unsigned long long)len);
	if (fdt_node_check_compatible(fdt, 0, CONFIG_COMPATIBLE) != 0)
		return errorf(-EINVAL, err, errlen,
			     "config: root node is not compatible with \"%s\"",
			     CONFIG_COMPATIBLE);
	domains = fdt_subnode_offset(fdt, 0, "domains");
	if (domains < 0)
		return errorf(-EINVAL, err, errlen, "config: no /domains node");
	fdt_for_each_subnode(node, fdt, domains)
		count++;
	if (count == 0)
		return errorf(-EINVAL, err, errlen, "config: /domains is empty");
	if (count > CONFIG_MAX_DOMAINS)
		return errorf(-EINVAL, err, errlen,
			     "config: %u domains, limit %u", count,
			     CONFIG_MAX_DOMAINS);
	fdt_for_each_subnode(node, fdt, domains) {
		parse_domain(fdt, node, cfg);
		cfg->nr_domains++;
	}
	return 0;
}
