/* SPDX-License-Identifier: Apache-2.0 */
/* pvhv-bundle.c: host tool that builds (and lists) the newc cpio bundle pvhv boots from. */
#define _GNU_SOURCE
#include <errno.h>
#include <libfdt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base.h"
#include "pvh/bootinfo.h"
#include "pvh/config.h"
#include "pvh/cpio.h"
#include "pvh/elf.h"
#include "pvhv/abi.h"

#define PROG "pvhv-bundle"
#define DEFAULT_MEMORY_MIB 16

static const char usage_text[] =
	"usage: " PROG " -o OUT --config FILE.dts|FILE.dtb [-C DIR] [--allow-invalid]\n"
	"       " PROG " -o OUT (--domain NAME --kernel PATH [--initrd PATH]\n"
	"                [--cmdline STR] [--memory MIB] [--vcpus N])... [--allow-invalid]\n"
	"       " PROG " --list BUNDLE\n"
	"Either form takes --add PATH (repeatable): a file stored under its basename\n"
	"that no domain of the config names, for domains made at run time.\n"
	"\n"
	"Writes a newc cpio bundle holding config.dtb and every file the config\n"
	"names.  With --config, kernel/initrd names are paths relative to DIR\n"
	"(default: the config file's directory).  With --domain, files are stored\n"
	"under their basenames.  Every domain is checked as pvhv would; any\n"
	"problem fails the build unless --allow-invalid is given.\n";

/* A domain described on the command line (--domain mode). */
struct dom_arg {
	const char *name, *kernel, *initrd, *cmdline;
	unsigned long memory, vcpus;
	bool has_vcpus;
};

/* A file to put in the bundle. */
struct file {
	const char *name; /* in the bundle */
	char *path;       /* on the host */
	uint8_t *data;
	size_t size;
	bool read_ok;
};

static struct file *files;  /* grown as files are added: no limit but memory */
static unsigned nr_files, files_cap;
static bool allow_invalid;
static unsigned nr_problems;

NORETURN PRINTF_LIKE(1, 2) static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	exit(2);
}

NORETURN PRINTF_LIKE(1, 2) static void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A problem with one domain: fatal later, or a warning with --allow-invalid. */
PRINTF_LIKE(2, 3) static void problem(const char *dom, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %sdomain %s: ", allow_invalid ? "warning: " : "", dom);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	nr_problems++;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		fatal("out of memory");
	return p;
}

/* config_parse() into an array as large as the blob's domain count (cfg->dom: free() it). */
static int parse_config(const void *dtb, size_t len, struct pvh_config *cfg, char *err, size_t errlen)
{
	unsigned count;
	int rc = config_count_domains(dtb, len, &count, err, errlen);

	cfg->nr_domains = 0;
	cfg->dom = NULL;
	if (rc)
		return rc;
	cfg->dom = xrealloc(NULL, (count ? count : 1) * sizeof(*cfg->dom));   /* a serving bundle may have none */
	return config_parse(dtb, len, cfg, count, err, errlen);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		fatal("out of memory");
	return p;
}

/* Whole file into an 8-byte aligned buffer; returns 0 or -errno. */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	int e;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		e = S_ISREG(st.st_mode) ? errno : EISDIR;
		fclose(f);
		return -e;
	}
	buf = xmalloc(st.st_size);
	if (fread(buf, 1, st.st_size, f) != (size_t)st.st_size) {
		fclose(f);
		free(buf);
		return -EIO;
	}
	fclose(f);
	*data = buf;
	*size = st.st_size;
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Compile a .dts with dtc into a temporary file and read it back. */
static void compile_dts(const char *path, uint8_t **data, size_t *size)
{
	char tmp[] = "/tmp/pvhv-bundle-XXXXXX";
	int fd = mkstemp(tmp), status, rc;
	pid_t pid;

	if (fd < 0)
		fatal("mkstemp: %s", strerror(errno));
	close(fd);
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		execlp("dtc", "dtc", "-q", "-I", "dts", "-O", "dtb", "-o", tmp,
		       path, (char *)NULL);
		fprintf(stderr, PROG ": cannot run dtc: %s\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		unlink(tmp);
		fatal("%s: dtc failed to compile the config", path);
	}
	rc = read_file(tmp, data, size);
	unlink(tmp);
	if (rc)
		fatal("%s: reading dtc output: %s", path, strerror(-rc));
}

static void check(int rc, const char *what)
{
	if (rc)
		fatal("building the config: %s: %s", what, fdt_strerror(rc));
}

/* The config for --domain mode, via libfdt's sequential-write API. */
static void build_dtb(const struct dom_arg *doms, unsigned n, uint8_t **data,
		      size_t *size)
{
	size_t cap = 1 << 20;
	void *fdt = xmalloc(cap);
	unsigned i;

	check(fdt_create(fdt, cap), "create");
	check(fdt_finish_reservemap(fdt), "reservemap");
	check(fdt_begin_node(fdt, ""), "root");
	check(fdt_property_string(fdt, "compatible", CONFIG_COMPATIBLE), "compatible");
	check(fdt_begin_node(fdt, "domains"), "domains");
	for (i = 0; i < n; i++) {
		const struct dom_arg *d = &doms[i];
		const char *base;

		check(fdt_begin_node(fdt, d->name), d->name);
		if (d->kernel) {
			base = strrchr(d->kernel, '/');
			check(fdt_property_string(fdt, "kernel", base ? base + 1 : d->kernel), "kernel");
		}
		if (d->initrd) {
			base = strrchr(d->initrd, '/');
			check(fdt_property_string(fdt, "initrd", base ? base + 1 : d->initrd), "initrd");
		}
		if (d->cmdline)
			check(fdt_property_string(fdt, "cmdline", d->cmdline), "cmdline");
		check(fdt_property_u32(fdt, "memory-mib", d->memory), "memory-mib");
		if (d->has_vcpus)
			check(fdt_property_u32(fdt, "vcpus", d->vcpus), "vcpus");
		check(fdt_end_node(fdt), d->name);
	}
	check(fdt_end_node(fdt), "domains");
	check(fdt_end_node(fdt), "root");
	check(fdt_finish(fdt), "finish");
	*data = fdt;
	*size = fdt_totalsize(fdt);
}

static struct file *find_file(const char *name)
{
	unsigned i;

	for (i = 0; i < nr_files; i++)
		if (strcmp(files[i].name, name) == 0)
			return &files[i];
	return NULL;
}

/* Register name -> path; the same name must always mean the same file. */
static void add_file_path(const char *dom, const char *name, const char *path)
{
	struct file *f = find_file(name);
	char *a, *b;

	if (strcmp(name, CONFIG_BUNDLE_NAME) == 0)
		fatal("domain %s: file name \"%s\" is reserved for the config",
		      dom, name);
	if (f) {
		if (strcmp(f->path, path) == 0)
			return;
		a = realpath(f->path, NULL);
		b = realpath(path, NULL);
		if (!a || !b || strcmp(a, b) != 0)
			fatal("domain %s: %s and %s are different files with the same name \"%s\"",
			      dom, f->path, path, name);
		free(a);
		free(b);
		return;
	}
	if (nr_files == files_cap) {
		files_cap = files_cap ? files_cap * 2 : 16;
		files = xrealloc(files, files_cap * sizeof(*files));
	}
	f = &files[nr_files++];
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->path = strdup(path);
}

/* Read a registered file once; a failure is a problem for this domain. */
static struct file *load(const char *dom, const char *what, const char *name)
{
	struct file *f = find_file(name);
	int rc;

	if (!f) {
		problem(dom, "%s \"%s\": no such file registered", what, name);
		return NULL;
	}
	if (!f->read_ok && !f->data) {
		rc = read_file(f->path, &f->data, &f->size);
		if (rc) {
			problem(dom, "%s \"%s\": cannot read %s: %s", what, name,
				f->path, strerror(-rc));
			return NULL;
		}
		f->read_ok = true;
		if (f->size > UINT32_MAX)
			fatal("%s: larger than 4 GiB, too big for a bundle", f->path);
	}
	return f->read_ok ? f : NULL;
}

/* ram_layout_identity()'s take() for a host whose memory is all free. */
static bool take_any(void *ctx, uint64_t idx)
{
	return true;
}

/* Check one valid domain as pvhv's domain_build() will, in the same order. */
static void check_domain(const struct domain_config *d)
{
	struct ram_layout ram;
	struct ram_range held;
	uint64_t end;
	char err[256];
	struct elf_image im;
	struct file *k, *i;
	uint64_t gpa = 0;
	int place_rc = 0;

	for (unsigned n = 0; n < d->nr_disks; n++) {
		struct file *f = load(d->name, "disk image", d->disk[n].image);

		if (f && !f->size)
			problem(d->name, "disk image \"%s\" is empty", d->disk[n].image);
	}
	k = load(d->name, "kernel", d->kernel);
	i = d->initrd ? load(d->name, "initrd", d->initrd) : NULL;
	if (i && !i->size) {
		problem(d->name, "initrd \"%s\" is empty", d->initrd);
		return;
	}
	if (!k)
		return;
	if (elf_parse_pvh(k->data, k->size, &im, err, sizeof(err))) {
		problem(d->name, "kernel \"%s\": %s", d->kernel, err);
		return;
	}
	/* identity-ram: the host's memory is not known here; check against all of it free from 16 MiB. */
	if (d->identity_ram)
		ram_layout_identity(&ram, d->memory, PVHV_RAM_MAX / PVHV_RAM_ALIGN * 2, take_any, NULL, &held,
				    &end);
	else
		ram_layout_plain(&ram, d->memory);
	if (i)
		place_rc = bootinfo_place_initrd_in(&ram, im.highest, i->size, &gpa);
	if (elf_check_fits(&im, &ram, gpa, place_rc ? 0 : i ? i->size : 0, err,
			   sizeof(err))) {
		problem(d->name, "kernel \"%s\": %s", d->kernel, err);
		return;
	}
	if (place_rc)
		problem(d->name, "initrd \"%s\" (%zu bytes) does not fit in RAM between the kernel's end (0x%llx) and min(%llu MiB, 3 GiB)",
			d->initrd, i->size, (unsigned long long)im.highest,
			(unsigned long long)(d->memory >> 20));
}

/* Parse the config and check every domain, counting problems. */
static void check_config(const char *src, const uint8_t *dtb, size_t len,
			 const char *dir, bool from_args)
{
	static struct pvh_config cfg;
	char err[256], path[PATH_MAX];
	unsigned i;

	if (parse_config(dtb, len, &cfg, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s%s: %s\n", allow_invalid ? "warning: " : "",
			src, err);
		nr_problems++;
		return;
	}
	for (i = 0; i < cfg.nr_domains; i++) {
		const struct domain_config *d = &cfg.dom[i];
		const char *names[2] = { d->kernel, d->initrd };
		unsigned j;

		/* Register the files even for a bad domain (--allow-invalid). */
		for (j = 0; j < 2 + d->nr_disks && !from_args; j++) {
			const char *name = j < 2 ? names[j] : d->disk[j - 2].image;

			if (!name)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
					     name) >= sizeof(path))
				fatal("domain %s: path too long", d->name);
			add_file_path(d->name, name, path);
		}
		if (!d->valid) {
			problem(d->name, "%s", d->error);
			if (d->kernel)
				load(d->name, "kernel", d->kernel);
			if (d->initrd)
				load(d->name, "initrd", d->initrd);
			continue;
		}
		check_domain(d);
	}
}

/* ---------------------------------------------------------------- writing */

static void put_entry(FILE *out, unsigned ino, uint32_t mode, const char *name,
		      const void *data, size_t size, size_t *pos)
{
	static const char zeros[4];
	size_t namesz = strlen(name) + 1;
	int n;

	n = fprintf(out, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		    ino, mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, 0u, 0u,
		    (unsigned)namesz, 0u);
	*pos += n;
	fwrite(name, 1, namesz, out);
	*pos += namesz;
	fwrite(zeros, 1, ALIGN_UP(*pos, 4) - *pos, out);
	*pos = ALIGN_UP(*pos, 4);
	fwrite(data, 1, size, out);
	*pos += size;
	fwrite(zeros, 1, ALIGN_UP(*pos, 4) - *pos, out);
	*pos = ALIGN_UP(*pos, 4);
}

static void write_bundle(const char *out_path, const uint8_t *dtb, size_t dtb_len)
{
	size_t tmplen = strlen(out_path) + 5, pos = 0;
	char *tmp = xmalloc(tmplen);
	unsigned i, ino = 1;
	FILE *out;

	snprintf(tmp, tmplen, "%s.tmp", out_path);
	out = fopen(tmp, "wb");
	if (!out)
		fatal("%s: %s", tmp, strerror(errno));
	put_entry(out, ino++, 0100644, CONFIG_BUNDLE_NAME, dtb, dtb_len, &pos);
	for (i = 0; i < nr_files; i++)
		if (files[i].read_ok)
			put_entry(out, ino++, 0100644, files[i].name, files[i].data,
				  files[i].size, &pos);
	put_entry(out, 0, 0, "TRAILER!!!", "", 0, &pos);
	if (ferror(out) | fclose(out)) {
		unlink(tmp);
		fatal("%s: write failed", tmp);
	}
	if (rename(tmp, out_path)) {
		unlink(tmp);
		fatal("%s: %s", out_path, strerror(errno));
	}
	free(tmp);
}

/* ---------------------------------------------------------------- listing */

static int list_bundle(const char *path)
{
	static struct pvh_config cfg;
	struct cpio_file f;
	char err[256];
	uint8_t *ar, *dtb;
	size_t len, off = 0;
	unsigned i;
	int rc;

	rc = read_file(path, &ar, &len);
	if (rc)
		fatal("%s: %s", path, strerror(-rc));
	while ((rc = cpio_next(ar, len, &off, &f, err, sizeof(err))) == 1)
		printf("%10zu  %s\n", f.size, f.name);
	if (rc < 0)
		fatal("%s: %s", path, err);
	if (cpio_find(ar, len, CONFIG_BUNDLE_NAME, &f, err, sizeof(err)))
		fatal("%s: %s", path, err);
	dtb = xmalloc(f.size); /* malloc's alignment suits libfdt */
	memcpy(dtb, f.data, f.size);
	if (parse_config(dtb, f.size, &cfg, err, sizeof(err)))
		fatal("%s: %s", path, err);
	if (cfg.serve)
		printf("serve: pvhv runs until told to stop\n");
	for (i = 0; i < cfg.nr_domains; i++) {
		const struct domain_config *d = &cfg.dom[i];

		if (!d->valid) {
			printf("domain %s: INVALID: %s\n", d->name, d->error);
			continue;
		}
		printf("domain %s: kernel=%s initrd=%s memory=%llu MiB vcpus=%u cmdline=\"%s\"",
		       d->name, d->kernel, d->initrd ? d->initrd : "-",
		       (unsigned long long)(d->memory >> 20), d->vcpus,
		       d->cmdline ? d->cmdline : "");
		if (d->max_runtime_ms)
			printf(" max-runtime-ms=%u", d->max_runtime_ms);
		for (unsigned n = 0; n < d->nr_virtio; n++)
			printf(" virtio=%s", config_virtio_name(d->virtio[n]));
		for (unsigned n = 0; n < d->nr_disks; n++)
			printf(" disk=%s%s", d->disk[n].read_only ? "ro:" : "", d->disk[n].image);
		if (d->nr_disks)
			printf(" overlay-mib=%llu", (unsigned long long)(d->overlay >> 20));
		putchar('\n');
	}
	free(dtb);
	free(ar);
	return 0;
}

/* ---------------------------------------------------------------- main */

static unsigned long parse_number(const char *opt, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || *s == '-' || v > UINT32_MAX)
		usage_error("%s: \"%s\" is not a number", opt, s);
	return v;
}

int main(int argc, char **argv)
{
	struct dom_arg *doms = NULL;
	const char **adds = NULL;
	unsigned nr_adds = 0;
	const char *out_path = NULL, *config = NULL, *dir = NULL;
	unsigned nr_doms = 0, i;
	struct dom_arg *cur = NULL;
	uint8_t *dtb;
	size_t dtb_len;
	char *dirbuf = NULL;

	for (i = 1; i < (unsigned)argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;
		bool takes_value = strcmp(a, "--allow-invalid") != 0 &&
				   strcmp(a, "-h") != 0 && strcmp(a, "--help") != 0;

		if (takes_value && !v)
			usage_error("%s needs a value", a);
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(a, "--allow-invalid") == 0) {
			allow_invalid = true;
			continue;
		} else if (strcmp(a, "--list") == 0) {
			return list_bundle(v);
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			out_path = v;
		} else if (strcmp(a, "--config") == 0) {
			config = v;
		} else if (strcmp(a, "-C") == 0) {
			dir = v;
		} else if (strcmp(a, "--add") == 0) {
			adds = xrealloc(adds, (nr_adds + 1) * sizeof(*adds));
			adds[nr_adds++] = v;
		} else if (strcmp(a, "--domain") == 0) {
			doms = xrealloc(doms, (nr_doms + 1) * sizeof(*doms));
			cur = &doms[nr_doms++];
			memset(cur, 0, sizeof(*cur));
			cur->name = v;
			cur->memory = DEFAULT_MEMORY_MIB;
		} else if (!cur && (strcmp(a, "--kernel") == 0 || strcmp(a, "--initrd") == 0 ||
				    strcmp(a, "--cmdline") == 0 || strcmp(a, "--memory") == 0 ||
				    strcmp(a, "--vcpus") == 0)) {
			usage_error("%s must follow --domain NAME", a);
		} else if (strcmp(a, "--kernel") == 0) {
			cur->kernel = v;
		} else if (strcmp(a, "--initrd") == 0) {
			cur->initrd = v;
		} else if (strcmp(a, "--cmdline") == 0) {
			cur->cmdline = v;
		} else if (strcmp(a, "--memory") == 0) {
			cur->memory = parse_number(a, v);
		} else if (strcmp(a, "--vcpus") == 0) {
			cur->vcpus = parse_number(a, v);
			cur->has_vcpus = true;
		} else {
			usage_error("unknown option \"%s\"", a);
		}
		i++;
	}
	if (!out_path)
		usage_error("-o OUT is required");
	if (!config == !nr_doms)
		usage_error("give either --config or --domain");
	if (dir && !config)
		usage_error("-C only goes with --config");

	if (config) {
		int rc;

		if (has_suffix(config, ".dts")) {
			compile_dts(config, &dtb, &dtb_len);
		} else {
			rc = read_file(config, &dtb, &dtb_len);
			if (rc)
				fatal("%s: %s", config, strerror(-rc));
		}
		if (!dir) {
			const char *slash = strrchr(config, '/');

			dirbuf = slash ? strndup(config, slash - config) : strdup(".");
			dir = *dirbuf ? dirbuf : "/";
		}
		check_config(config, dtb, dtb_len, dir, false);
	} else {
		for (i = 0; i < nr_doms; i++) {
			const char *paths[2] = { doms[i].kernel, doms[i].initrd };
			unsigned j;

			for (j = 0; j < 2; j++) {
				const char *base;

				if (!paths[j])
					continue;
				base = strrchr(paths[j], '/');
				add_file_path(doms[i].name, base ? base + 1 : paths[j],
					      paths[j]);
			}
		}
		build_dtb(doms, nr_doms, &dtb, &dtb_len);
		check_config("command line", dtb, dtb_len, NULL, true);
	}
	for (i = 0; i < nr_adds; i++) {
		struct file *f;
		const char *base = strrchr(adds[i], '/');

		base = base ? base + 1 : adds[i];
		if (!*base)
			usage_error("--add %s: no file name", adds[i]);
		add_file_path("--add", base, adds[i]);
		f = find_file(base);
		if (!f->data) {
			int rc = read_file(f->path, &f->data, &f->size);

			if (rc)
				fatal("--add %s: %s", adds[i], strerror(-rc));
			f->read_ok = true;
		}
	}
	if (nr_problems && !allow_invalid) {
		fprintf(stderr, PROG ": %u problem%s, %s not written\n", nr_problems,
			nr_problems == 1 ? "" : "s", out_path);
		return 1;
	}
	write_bundle(out_path, dtb, dtb_len);
	free(dirbuf);
	free(adds);
	return 0;
}
