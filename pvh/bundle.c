/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle.c: finds the configuration and the files it names among the boot
 * modules.  Either one module that is a newc cpio archive (the bundle made
 * by tools/pvhv-bundle: QEMU's PVH boot passes only one), or, through
 * multiboot2, separate modules each named by its command line, one of them
 * the configuration (named "config.dtb", or else the first FDT).
 */
#include "pvh/pvh.h"
#include "pvh/cpio.h"

#define FDT_MAGIC_BE 0xedfe0dd0u /* 0xd00dfeed read little-endian */
#define CONFIG_MAX_BYTES MIB(1)

static const uint8_t *archive;
static size_t archive_len;
static const void *config;
static size_t config_len;

static const char *basename(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash ? slash + 1 : s;
}

/* A module's name is the first word of its command line, without directories. */
static bool module_named(const struct boot_module *m, const char *name)
{
	const char *b = basename(m->cmdline);
	size_t n = strlen(name);

	return !strncmp(b, name, n) && (b[n] == 0 || b[n] == ' ');
}

int bundle_open(char *err, size_t errlen)
{
	if (nr_boot_modules == 0) {
		snprintf(err, errlen, "no boot module: pass a bundle (QEMU: -initrd bundle.cpio)");
		return -ENOENT;
	}
	if (nr_boot_modules == 1 && boot_modules[0].size >= 6 &&
	    !memcmp(hpa_to_ptr(boot_modules[0].start), "070701", 6)) {
		struct cpio_file f;
		int rc;

		archive = hpa_to_ptr(boot_modules[0].start);
		archive_len = boot_modules[0].size;
		rc = cpio_find(archive, archive_len, CONFIG_BUNDLE_NAME, &f, err, errlen);
		if (rc)
			return rc;
		config = f.data;
		config_len = f.size;
		return 0;
	}
	for (unsigned i = 0; i < nr_boot_modules; i++)
		if (module_named(&boot_modules[i], CONFIG_BUNDLE_NAME))
			config = hpa_to_ptr(boot_modules[i].start), config_len = boot_modules[i].size;
	for (unsigned i = 0; !config && i < nr_boot_modules; i++)
		if (boot_modules[i].size >= 4 &&
		    *(const uint32_t *)hpa_to_ptr(boot_modules[i].start) == FDT_MAGIC_BE)
			config = hpa_to_ptr(boot_modules[i].start), config_len = boot_modules[i].size;
	if (!config) {
		snprintf(err, errlen,
			 "the boot module is neither a newc cpio bundle nor are any of the %u modules a configuration (FDT)",
			 nr_boot_modules);
		return -ENOENT;
	}
	return 0;
}

/*
 * libfdt wants the blob 8-byte aligned; a cpio member is only 4-aligned.
 * The copy lives as long as pvhv (domain names and strings point into it).
 */
const void *bundle_config(size_t *len)
{
	static void *copy;
	hpa_t pa;

	if (!copy && config_len <= CONFIG_MAX_BYTES &&
	    !page_alloc(ALIGN_UP(config_len, PAGE_SIZE) / PAGE_SIZE, 1, &pa)) {
		copy = hpa_to_ptr(pa);
		memcpy(copy, config, config_len);
	}
	*len = config_len;
	return copy ? copy : config;
}

int bundle_file(const char *name, const void **data, size_t *size, char *err, size_t errlen)
{
	if (archive) {
		struct cpio_file f;
		int rc = cpio_find(archive, archive_len, name, &f, err, errlen);

		if (rc)
			return rc;
		*data = f.data;
		*size = f.size;
		return 0;
	}
	for (unsigned i = 0; i < nr_boot_modules; i++) {
		if (module_named(&boot_modules[i], name)) {
			*data = hpa_to_ptr(boot_modules[i].start);
			*size = boot_modules[i].size;
			return 0;
		}
	}
	snprintf(err, errlen, "no module named \"%s\"", name);
	return -ENOENT;
}

int bundle_file_at(unsigned idx, char *name, size_t namelen, size_t *size)
{
	if (archive) {
		struct cpio_file f;
		size_t off = 0;
		char err[8];

		while (cpio_next(archive, archive_len, &off, &f, err, sizeof(err)) == 1) {
			if ((f.mode & CPIO_MODE_TYPE) != CPIO_MODE_REG || idx--)
				continue;
			snprintf(name, namelen, "%s", f.name[0] == '.' && f.name[1] == '/' ? f.name + 2 : f.name);
			*size = f.size;
			return 0;
		}
		return -ENOENT;
	}
	if (idx >= nr_boot_modules)
		return -ENOENT;
	{
		const char *b = basename(boot_modules[idx].cmdline);
		size_t l = 0;

		while (b[l] && b[l] != ' ')
			l++;

		snprintf(name, namelen, "%.*s", (int)l, b);
		*size = boot_modules[idx].size;
	}
	return 0;
}
