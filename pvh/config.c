/* SPDX-License-Identifier: Apache-2.0 */
/* config.c: parse and check the pvhv device-tree configuration with libfdt. */
#include "lib/base.h"
#include "pvh/config.h"
#include "pvh/share.h"
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
	PROP_REBOOT_LIMIT,
	PROP_VIRTIO,
	PROP_DISKS,
	PROP_OVERLAY,
	PROP_NET_MAC,
	PROP_NET_IPV4,
	PROP_NET_IPV6,
	PROP_NET_LINK,
	PROP_VSOCK_CID,
	PROP_VSOCK_CONNECT,
	PROP_CONTROL,
	PROP_CPU_SHARE,
	PROP_NET_TRUNK,
	PROP_PCI,
	PROP_TEST_MSI,
	PROP_IDENTITY_RAM,
	NR_PROPS,
};

static const char *const prop_names[NR_PROPS] = {
	[PROP_KERNEL] = "kernel",
	[PROP_INITRD] = "initrd",
	[PROP_CMDLINE] = "cmdline",
	[PROP_MEMORY] = "memory-mib",
	[PROP_VCPUS] = "vcpus",
	[PROP_MAX_RUNTIME] = "max-runtime-ms",
	[PROP_REBOOT_LIMIT] = "reboot-limit",
	[PROP_VIRTIO] = "virtio",
	[PROP_DISKS] = "disks",
	[PROP_OVERLAY] = "overlay-mib",
	[PROP_NET_MAC] = "net-mac",
	[PROP_NET_IPV4] = "net-ipv4",
	[PROP_NET_IPV6] = "net-ipv6",
	[PROP_NET_LINK] = "net-link",
	[PROP_VSOCK_CID] = "vsock-cid",
	[PROP_VSOCK_CONNECT] = "vsock-connect",
	[PROP_CONTROL] = "control",
	[PROP_CPU_SHARE] = "cpu-share",
	[PROP_NET_TRUNK] = "net-trunk",
	[PROP_PCI] = "pci",
	[PROP_TEST_MSI] = "test-msi",
	[PROP_IDENTITY_RAM] = "identity-ram",
};

static const char *const virtio_names[CONFIG_VIRTIO_KINDS] = {
	[CONFIG_VIRTIO_CONSOLE] = "console",
	[CONFIG_VIRTIO_RNG] = "rng",
	[CONFIG_VIRTIO_BLK] = "blk",
	[CONFIG_VIRTIO_NET] = "net",
	[CONFIG_VIRTIO_VSOCK] = "vsock",
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
static int check_name_str(const char *name, int len, struct domain_config *d,
			  const struct domain_config *prev, unsigned nprev, unsigned idx);

static int check_name(const void *fdt, int node, struct domain_config *d,
		      const struct domain_config *prev, unsigned idx)
{
	const char *name;
	int len;

	name = fdt_get_name(fdt, node, &len);
	if (!name || len <= 0) {
		snprintf(d->name, sizeof(d->name), "#%u", idx);
		return dom_error(d, "node name unreadable");
	}
	return check_name_str(name, len, d, prev, idx, idx);
}

/* prev[0, nprev) are the other domains (slot idx excluded by the caller's choice of nprev). */
static int check_name_str(const char *name, int len, struct domain_config *d,
			  const struct domain_config *prev, unsigned nprev, unsigned idx)
{
	int i;
	unsigned j;

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
	for (j = 0; j < nprev; j++)
		if (prev[j].valid && strcmp(prev[j].name, d->name) == 0)
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
		if (k == CONFIG_VIRTIO_NET || k == CONFIG_VIRTIO_VSOCK)
			return dom_error(d, "virtio: \"%s\" is not listed here: give %s", s,
					 k == CONFIG_VIRTIO_NET ? "net-mac" : "vsock-cid");
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

/* ------------------------------------------------------------ addresses */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int config_parse_mac(const char *s, uint8_t mac[6])
{
	for (unsigned i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

/* n hex digits (exactly) at s: 0 and *v, or -EINVAL. */
static int hex_field(const char *s, unsigned n, unsigned *v)
{
	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		int h = hex_digit(s[i]);

		if (h < 0)
			return -EINVAL;
		*v = *v << 4 | (unsigned)h;
	}
	return 0;
}

int config_parse_pci(const char *s, struct config_pci *a)
{
	unsigned seg, bus, dev, fn;

	if (hex_field(s, 4, &seg) || s[4] != ':' || hex_field(s + 5, 2, &bus) || s[7] != ':' ||
	    hex_field(s + 8, 2, &dev) || s[10] != '.' || s[11] < '0' || s[11] > '7' || s[12] != '\0' ||
	    dev > 31)
		return -EINVAL;
	fn = (unsigned)(s[11] - '0');
	*a = (struct config_pci){ (uint16_t)seg, (uint8_t)bus, (uint8_t)dev, (uint8_t)fn };
	return 0;
}

int config_parse_ipv4(const char *s, uint8_t ip[4])
{
	for (unsigned i = 0; i < 4; i++) {
		const char *start = s;
		unsigned v = 0, n = 0;

		while (*s >= '0' && *s <= '9' && n < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			n++;
		}
		/* One to three digits, no leading zero (it reads as octal elsewhere), at most 255. */
		if (n == 0 || n > 3 || v > 255 || (n > 1 && *start == '0'))
			return -EINVAL;
		if (*s != (i == 3 ? '\0' : '.'))
			return -EINVAL;
		ip[i] = (uint8_t)v;
		s++;
	}
	return 0;
}

/* RFC 4291 2.2 text forms: eight groups of 1-4 hex digits, one "::" for a run of zeros. */
int config_parse_ipv6(const char *s, uint8_t ip[16])
{
	uint16_t g[8];
	int n = 0, gap = -1;

	if (s[0] == ':' && s[1] == ':') {
		gap = 0;
		s += 2;
	} else if (*s == ':') {
		return -EINVAL;
	}
	while (*s) {
		unsigned v = 0, digits = 0;
		int h;

		if (n == 8)
			return -EINVAL;
		while ((h = hex_digit(*s)) >= 0 && digits < 5) {
			v = v << 4 | (unsigned)h;
			s++;
			digits++;
		}
		if (digits == 0 || digits > 4)
			return -EINVAL;
		g[n++] = (uint16_t)v;
		if (*s == 0)
			break;
		if (*s != ':')
			return -EINVAL;
		s++;
		if (*s == ':') {
			if (gap >= 0)
				return -EINVAL;
			gap = n;
			s++;
		} else if (*s == 0) {
			return -EINVAL;  /* a trailing single ':' */
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return -EINVAL;
	memset(ip, 0, 16);
	for (int i = 0; i < n; i++) {
		int at = gap >= 0 && i >= gap ? 8 - (n - i) : i;

		ip[2 * at] = (uint8_t)(g[i] >> 8);
		ip[2 * at + 1] = (uint8_t)g[i];
	}
	return 0;
}

/*
 * A string list (each NUL-terminated, printable ASCII, non-empty): calls
 * one(d, i, s) for each entry, at most max entries.
 */
static int each_string(struct domain_config *d, const char *prop, const char *val, int len, unsigned max,
		       int (*one)(struct domain_config *d, unsigned i, const char *s))
{
	unsigned i = 0;
	int off = 0, rc;

	if (len < 2 || val[len - 1] != '\0')
		return dom_error(d, "%s is not a list of NUL-terminated strings", prop);
	for (; off < len; i++) {
		const char *s = val + off;
		size_t n = strnlen(s, (size_t)(len - off));
		int bad = unsafe_byte(s, (int)n);

		if (i == max)
			return dom_error(d, "%s: more than %u entries", prop, max);
		if (n == 0)
			return dom_error(d, "%s: entry %u is empty", prop, i);
		if (bad >= 0)
			return dom_error(d, "%s: entry %u has a control or non-ASCII byte at offset %d", prop, i, bad);
		rc = one(d, i, s);
		if (rc)
			return rc;
		off += (int)n + 1;
	}
	return 0;
}

/* "all" alone, or distinct function addresses "SSSS:BB:DD.F". */
static int one_pci(struct domain_config *d, unsigned i, const char *s)
{
	struct config_pci a;

	if (strcmp(s, "all") == 0) {
		if (i != 0 || d->nr_pci)
			return dom_error(d, "pci: \"all\" must be the only entry");
		d->pci_all = true;
		return 0;
	}
	if (d->pci_all)
		return dom_error(d, "pci: \"all\" must be the only entry");
	if (config_parse_pci(s, &a))
		return dom_error(d, "pci: entry %u \"%.16s\" is not a function address like 0000:00:03.0", i, s);
	for (unsigned j = 0; j < d->nr_pci; j++)
		if (!memcmp(&d->pci[j], &a, sizeof(a)))
			return dom_error(d, "pci: %s listed twice", s);
	d->pci[d->nr_pci++] = a;
	return 0;
}

static int one_ipv4(struct domain_config *d, unsigned i, const char *s)
{
	uint8_t *ip = d->net.ipv4[i];

	if (config_parse_ipv4(s, ip))
		return dom_error(d, "net-ipv4: \"%.40s\" is not an IPv4 address (a.b.c.d)", s);
	if (ip[0] == 0 || ip[0] >= 224 || ip[0] == 127)
		return dom_error(d, "net-ipv4: %s is not a unicast host address", s);
	d->net.nr_ipv4 = i + 1;
	return 0;
}

static int one_ipv6(struct domain_config *d, unsigned i, const char *s)
{
	static const uint8_t zero[16], loopback[16] = { [15] = 1 };
	uint8_t *ip = d->net.ipv6[i];

	if (config_parse_ipv6(s, ip))
		return dom_error(d, "net-ipv6: \"%.46s\" is not an IPv6 address", s);
	if (!memcmp(ip, zero, 16) || !memcmp(ip, loopback, 16) || ip[0] == 0xff)
		return dom_error(d, "net-ipv6: %s is not a unicast host address", s);
	d->net.nr_ipv6 = i + 1;
	return 0;
}

static int one_connect(struct domain_config *d, unsigned i, const char *s)
{
	(void)s;
	d->vsock.nr_connect = i + 1;
	return 0;
}

/* Entry i of a list each_string() accepted (i < its count). */
static const char *list_entry(const char *list, unsigned i)
{
	while (i--)
		list += strlen(list) + 1;
	return list;
}

bool config_vsock_may_connect(const struct domain_config *c, const char *name)
{
	const char *s = c->vsock.connect;

	for (unsigned i = 0; i < c->vsock.nr_connect; i++, s += strlen(s) + 1)
		if (strcmp(s, name) == 0)
			return true;
	return false;
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
	const char *str;
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
	case PROP_NET_MAC:
		rc = get_string(d, name, val, len, false, &str);
		if (rc)
			return rc;
		if (config_parse_mac(str, d->net.mac))
			return dom_error(d, "net-mac: \"%.20s\" is not a MAC address (xx:xx:xx:xx:xx:xx)", str);
		if (d->net.mac[0] & 1)
			return dom_error(d, "net-mac: %s is a multicast address", str);
		if (!(d->net.mac[0] | d->net.mac[1] | d->net.mac[2] | d->net.mac[3] | d->net.mac[4] |
		      d->net.mac[5]))
			return dom_error(d, "net-mac: %s is all zeros", str);
		d->net.present = true;
		return 0;
	case PROP_NET_IPV4:
		return each_string(d, name, val, len, CONFIG_NET_ADDRS, one_ipv4);
	case PROP_NET_IPV6:
		return each_string(d, name, val, len, CONFIG_NET_ADDRS, one_ipv6);
	case PROP_NET_LINK:
		return get_string(d, name, val, len, false, &d->net.link);
	case PROP_VSOCK_CID:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v < 3 || v == UINT32_MAX)
			return dom_error(d, "vsock-cid %u is reserved (0-2 and 0xffffffff)", v);
		d->vsock.cid = v;
		return 0;
	case PROP_VSOCK_CONNECT:
		/* As long as the domains are many: no limit but the blob's size. */
		rc = each_string(d, name, val, len, UINT32_MAX, one_connect);
		if (!rc) {
			d->vsock.connect = val;
			d->vsock.connect_len = len;
		}
		return rc;
	case PROP_CONTROL:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v > 1)
			return dom_error(d, "control must be 0 or 1, not %u", v);
		d->control = v == 1;
		return 0;
	case PROP_CPU_SHARE:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v < SHARE_MIN || v > SHARE_MAX)
			return dom_error(d, "cpu-share %u is outside %u-%u", v, SHARE_MIN, SHARE_MAX);
		d->cpu_share = v;
		return 0;
	case PROP_PCI:
		return each_string(d, name, val, len, CONFIG_MAX_PCI, one_pci);
	case PROP_NET_TRUNK:
		if (len != 0)
			return dom_error(d, "net-trunk takes no value (%d bytes)", len);
		d->net.trunk = true;
		return 0;
	case PROP_TEST_MSI:
		if (len != 0)
			return dom_error(d, "test-msi takes no value (%d bytes)", len);
		d->test_msi = true;
		return 0;
	case PROP_IDENTITY_RAM:
		if (len != 0)
			return dom_error(d, "identity-ram takes no value (%d bytes)", len);
		d->identity_ram = true;
		return 0;
	case PROP_MAX_RUNTIME:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v < 1)
			return dom_error(d, "max-runtime-ms %u is below 1", v);
		d->max_runtime_ms = v;
		return 0;
	case PROP_REBOOT_LIMIT:
		rc = get_cell(d, name, val, len, &v);
		if (rc)
			return rc;
		if (v > CONFIG_REBOOT_LIMIT_MAX)
			return dom_error(d, "reboot-limit %u exceeds %u", v, CONFIG_REBOOT_LIMIT_MAX);
		d->reboot_limit = v;
		return 0;
	}
	return dom_error(d, "internal: property %u", which);
}

static int finish_props(struct domain_config *d, unsigned seen);

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
	return finish_props(d, seen);
}

/* The rules about what a domain must have, once every property is in. */
static int finish_props(struct domain_config *d, unsigned seen)
{
	if (!(seen & (1u << PROP_KERNEL)))
		return dom_error(d, "missing kernel");
	if (!(seen & (1u << PROP_MEMORY)))
		return dom_error(d, "missing memory-mib");
	if ((seen & (1u << PROP_NET_IPV4 | 1u << PROP_NET_IPV6 | 1u << PROP_NET_LINK)) && !d->net.present)
		return dom_error(d, "net-ipv4, net-ipv6 or net-link without net-mac");
	if (d->net.trunk && !d->net.present)
		return dom_error(d, "net-trunk without net-mac");
	if (d->net.trunk && !d->control)
		return dom_error(d, "net-trunk: only the control domain has a trunk (control = <1>)");
	if (d->net.trunk && d->net.link)
		return dom_error(d, "net-trunk with net-link: a trunk reaches its members, no peer");
	if ((seen & (1u << PROP_VSOCK_CONNECT)) && !d->vsock.cid)
		return dom_error(d, "vsock-connect without vsock-cid");
	if ((d->pci_all || d->nr_pci) && !d->control)
		return dom_error(d, "pci: only the control domain (control = <1>) drives the machine's devices");
	/*
	 * Its devices DMA to the addresses it programs, and there is no
	 * IOMMU to translate them: passed-through PCI needs identity RAM.
	 */
	if (d->pci_all || d->nr_pci)
		d->identity_ram = true;
	/* Its RAM is host memory a device may DMA to: only the domain trusted with the machine. */
	if (d->identity_ram && !d->control)
		return dom_error(d, "identity-ram: only the control domain (control = <1>) has its RAM at "
				 "guest-physical = host-physical");
	if (d->identity_ram && d->memory < 2 * MIB(CONFIG_MEM_MIN_MIB))
		return dom_error(d, "identity-ram: memory-mib %lu is below %u (2 MiB private, the rest identity)",
				 d->memory >> 20, 2 * CONFIG_MEM_MIN_MIB);
	if (d->control && !d->vsock.cid)
		return dom_error(d, "control without vsock-cid (the management port is a vsock stream)");
	if (config_nr_devices(d) > CONFIG_MAX_VIRTIO)
		return dom_error(d, "%u virtio devices, %u disks%s%s: more than %d devices",
				 d->nr_virtio, d->nr_disks, d->net.present ? ", net" : "",
				 d->vsock.cid ? ", vsock" : "", CONFIG_MAX_VIRTIO);
	if (!(seen & (1u << PROP_OVERLAY)))
		d->overlay = MIB(CONFIG_OVERLAY_DEFAULT_MIB);
	return 0;
}

unsigned config_nr_devices(const struct domain_config *d)
{
	return d->nr_virtio + d->nr_disks + d->net.present + (d->vsock.cid != 0);
}

enum config_virtio config_slot_kind(const struct domain_config *d, unsigned i, unsigned *disk)
{
	if (i < d->nr_virtio)
		return d->virtio[i];
	i -= d->nr_virtio;
	if (i < d->nr_disks) {
		*disk = i;
		return CONFIG_VIRTIO_BLK;
	}
	i -= d->nr_disks;
	if (i == 0 && d->net.present)
		return CONFIG_VIRTIO_NET;
	return CONFIG_VIRTIO_VSOCK;
}

static int find_domain(const struct pvh_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nr_domains; i++)
		if (strcmp(cfg->dom[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * d = cfg->dom[i]'s net-link: the control domain's trunk (d becomes its
 * member, with a MAC no other member and not the trunk has), or a domain
 * that links back.  0 with d->net.peer set, or -EINVAL with d invalid.
 */
static int link_domain(struct pvh_config *cfg, unsigned i)
{
	struct domain_config *d = &cfg->dom[i], *o;
	int p = find_domain(cfg, d->net.link);

	if (p < 0 || p == (int)i)
		return dom_error(d, "net-link: \"%.32s\" is %s", d->net.link, p < 0 ? "no domain" : "this domain");
	o = &cfg->dom[p];
	if (o->net.trunk && !o->valid)
		return dom_error(d, "net-link: domain %s's trunk is not valid", o->name);
	if (o->net.trunk && o->net.present) {
		if (!memcmp(o->net.mac, d->net.mac, 6))
			return dom_error(d, "net-mac: the same as the trunk's (domain %s)", o->name);
		for (unsigned j = 0; j < i; j++)
			if (cfg->dom[j].valid && cfg->dom[j].net.member && cfg->dom[j].net.peer == p &&
			    !memcmp(cfg->dom[j].net.mac, d->net.mac, 6))
				return dom_error(d, "net-mac: the same as domain %s's, on the same trunk",
						 cfg->dom[j].name);
		d->net.member = true;
		d->net.peer = p;
		return 0;
	}
	if (!o->net.present || !o->net.link || strcmp(o->net.link, d->name) != 0)
		return dom_error(d, "net-link: domain %s does not link back (net-link = \"%s\")", o->name,
				 d->name);
	if (!memcmp(o->net.mac, d->net.mac, 6))
		return dom_error(d, "net-mac: the same as domain %s's, at the other end of its link", o->name);
	d->net.peer = p;
	return 0;
}

/*
 * What one domain's configuration says about others, once all are in: a
 * net-link names another domain with a port that links back; vsock CIDs
 * are unique; vsock-connect names other domains that have vsock.  The
 * domain that breaks the rule is the invalid one.
 */
static void check_cross(struct pvh_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_domains; i++) {
		struct domain_config *d = &cfg->dom[i];
		int p;

		d->net.peer = -1;
		if (!d->valid)
			continue;
		if (d->net.link && link_domain(cfg, i))
			continue;
		for (unsigned j = 0; j < i && d->control; j++)
			if (cfg->dom[j].control && cfg->dom[j].valid) {
				dom_error(d, "control: domain %s is the control domain already", cfg->dom[j].name);
				break;
			}
		if (!d->valid)
			continue;
		for (unsigned j = 0; j < i && d->vsock.cid; j++)
			if (cfg->dom[j].vsock.cid == d->vsock.cid) {
				dom_error(d, "vsock-cid %u is domain %s's already", d->vsock.cid, cfg->dom[j].name);
				break;
			}
		for (unsigned k = 0; k < d->vsock.nr_connect && d->valid; k++) {
			const char *to = list_entry(d->vsock.connect, k);

			p = find_domain(cfg, to);
			if (p < 0 || p == (int)i || !cfg->dom[p].vsock.cid)
				dom_error(d, "vsock-connect: \"%.32s\" is %s", to,
					  p < 0 ? "no domain" : p == (int)i ? "this domain" : "a domain without vsock");
		}
	}
}

static void parse_domain(const void *fdt, int node, struct pvh_config *cfg)
{
	struct domain_config *d = &cfg->dom[cfg->nr_domains];
	int child;

	d->vcpus = 1;
	d->reboot_limit = CONFIG_REBOOT_LIMIT_DEFAULT;
	d->cpu_share = SHARE_DEFAULT;
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

/*
 * The root node's "serve" property (README "Serve mode"): present and
 * empty, or absent.  A value is refused rather than read as true or false:
 * "serve = <0>;" would read as its opposite to a reader used to flags.
 */
static int get_serve(const void *fdt, bool *serve, char *err, size_t errlen)
{
	int len;
	const void *val = fdt_getprop(fdt, 0, CONFIG_SERVE_PROP, &len);

	*serve = false;
	if (!val && len == -FDT_ERR_NOTFOUND)
		return 0;
	if (!val)
		return errorf(-EINVAL, err, errlen, "config: " CONFIG_SERVE_PROP ": unreadable: %s",
			      fdt_strerror(len));
	if (len != 0)
		return errorf(-EINVAL, err, errlen,
			      "config: " CONFIG_SERVE_PROP " takes no value (it has %d bytes): write \"serve;\"", len);
	*serve = true;
	return 0;
}

/*
 * The blob's checks; *domains is the /domains node's offset (-1 when a
 * serving bundle has none), *serve the root's serve property.
 */
static int check_blob(const void *fdt, size_t len, int *domains, unsigned *count, bool *serve, char *err,
		      size_t errlen)
{
	int rc, node;

	*count = 0;
	*serve = false;
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
	rc = get_serve(fdt, serve, err, errlen);
	if (rc)
		return rc;
	/* A service may start with no domain: the control plane makes them. */
	*domains = fdt_subnode_offset(fdt, 0, "domains");
	if (*domains < 0 && *serve) {
		*domains = -1;
		return 0;
	}
	if (*domains < 0)
		return errorf(-EINVAL, err, errlen, "config: no /domains node");
	fdt_for_each_subnode(node, fdt, *domains)
		(*count)++;
	if (*count == 0 && !*serve)
		return errorf(-EINVAL, err, errlen, "config: /domains is empty");
	return 0;
}

int config_count_domains(const void *fdt, size_t len, unsigned *count, char *err, size_t errlen)
{
	int domains;
	bool serve;

	return check_blob(fdt, len, &domains, count, &serve, err, errlen);
}

int config_parse(const void *fdt, size_t len, struct pvh_config *cfg, unsigned max,
		 char *err, size_t errlen)
{
	int rc, domains, node;
	unsigned count;

	cfg->nr_domains = 0;
	rc = check_blob(fdt, len, &domains, &count, &cfg->serve, err, errlen);
	if (rc)
		return rc;
	if (count > max)
		return errorf(-EINVAL, err, errlen, "config: %u domains, room for %u", count, max);
	if (count == 0)
		return 0;
	memset(cfg->dom, 0, count * sizeof(*cfg->dom));
	fdt_for_each_subnode(node, fdt, domains) {
		parse_domain(fdt, node, cfg);
		cfg->nr_domains++;
	}
	check_cross(cfg);
	return 0;
}

/*
 * Properties a domain made at run time may have: no control role, trunk or
 * link of its own (there is one control domain, from the boot bundle; a
 * network port is always a member of its trunk).
 */
static bool runtime_prop(unsigned i)
{
	return i != PROP_NET_LINK && i != PROP_NET_TRUNK && i != PROP_CONTROL && i != PROP_VSOCK_CONNECT &&
	       i != PROP_PCI && i != PROP_TEST_MSI && i != PROP_IDENTITY_RAM;
}

/* A run-time domain's port joins the trunk among others, with a MAC no live member and not the trunk has. */
static int runtime_member(struct domain_config *d, const struct domain_config *others, unsigned nothers)
{
	const struct domain_config *t = NULL;

	for (unsigned j = 0; j < nothers && !t; j++)
		if (others[j].valid && others[j].net.trunk && others[j].net.present)
			t = &others[j];
	if (!t)
		return dom_error(d, "net-mac: no control domain with a trunk (net-trunk) to join");
	if (!memcmp(t->net.mac, d->net.mac, 6))
		return dom_error(d, "net-mac: the same as the trunk's (domain %s)", t->name);
	for (unsigned j = 0; j < nothers; j++)
		if (others[j].valid && others[j].net.member && !memcmp(others[j].net.mac, d->net.mac, 6))
			return dom_error(d, "net-mac: %02x:%02x:%02x:%02x:%02x:%02x is domain %s's already, on "
					 "the trunk", d->net.mac[0], d->net.mac[1], d->net.mac[2], d->net.mac[3],
					 d->net.mac[4], d->net.mac[5], others[j].name);
	d->net.member = true;
	return 0;
}

int config_domain_from_props(struct domain_config *d, const char *name, const struct config_prop *props,
			     unsigned n, const struct domain_config *others, unsigned nothers)
{
	unsigned seen = 0, i;
	size_t len = strnlen(name, CONFIG_NAME_MAX + 1);
	int rc;

	memset(d, 0, sizeof(*d));
	d->vcpus = 1;
	d->reboot_limit = CONFIG_REBOOT_LIMIT_DEFAULT;
	d->cpu_share = SHARE_DEFAULT;
	d->valid = true;
	d->net.peer = -1;
	if (len == 0)
		return dom_error(d, "the name is empty");
	if (check_name_str(name, (int)MIN(len, (size_t)CONFIG_NAME_MAX), d, others, nothers, nothers))
		return -EINVAL;
	for (unsigned k = 0; k < n; k++) {
		for (i = 0; i < NR_PROPS; i++)
			if (strcmp(props[k].name, prop_names[i]) == 0)
				break;
		if (i == NR_PROPS || !runtime_prop(i))
			return dom_error(d, "property \"%s\" is not for domains made at run time", props[k].name);
		if (seen & (1u << i))
			return dom_error(d, "duplicate property \"%s\"", props[k].name);
		seen |= 1u << i;
		rc = set_prop(d, i, props[k].val, props[k].len);
		if (rc)
			return rc;
	}
	rc = finish_props(d, seen);
	if (rc)
		return rc;
	d->runtime = true;
	for (unsigned j = 0; j < nothers && d->vsock.cid; j++)
		if (others[j].valid && others[j].vsock.cid == d->vsock.cid)
			return dom_error(d, "vsock-cid %u is domain %s's already", d->vsock.cid, others[j].name);
	if (d->net.present)
		return runtime_member(d, others, nothers);
	return 0;
}
