/* SPDX-License-Identifier: Apache-2.0 */
/*
 * physmark.c: writes a marker into a locked page of its own and prints the
 * guest-physical address the page lies at (/proc/self/pagemap, root only),
 * then holds the page for a while.  The identity-ram test reads host memory
 * at that address from outside and must find the marker: guest-physical
 * equals host-physical.
 *
 *   physmark [SECONDS]    (default 20)
 *
 * Prints "PVHV-IDENT-MARK gpa=0x... mark=..." then, at the end,
 * "PVHV-IDENT-MARK-DONE intact" (or "changed"); "PVHV-IDENT-MARK-FAIL why" on errors.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_PFN_MASK ((1ull << 55) - 1) /* bits 0-54 (Documentation/admin-guide/mm/pagemap.rst) */

static int fail(const char *why)
{
	printf("PVHV-IDENT-MARK-FAIL %s\n", why);
	return 1;
}

int main(int argc, char **argv)
{
	unsigned secs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20;
	long ps = sysconf(_SC_PAGESIZE);
	char mark[64];
	uint64_t e;
	char *p;
	int fd;

	p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	snprintf(mark, sizeof(mark), "PVHV-PHYSMARK-%d-%ld", (int)getpid(), (long)time(NULL));
	memset(p, 0, (size_t)ps);
	strcpy(p, mark);
	/* Locked: the page stays at one physical address while the test looks. */
	if (mlock(p, (size_t)ps))
		return fail("mlock");
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return fail("open /proc/self/pagemap");
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / (uintptr_t)ps * sizeof(e))) != sizeof(e))
		return fail("read /proc/self/pagemap");
	close(fd);
	if (!(e & PAGEMAP_PRESENT) || !(e & PAGEMAP_PFN_MASK))
		return fail("page not present, or its frame hidden (not root?)");
	printf("PVHV-IDENT-MARK gpa=0x%llx mark=%s\n",
	       (unsigned long long)((e & PAGEMAP_PFN_MASK) * (uint64_t)ps), mark);
	fflush(stdout);
	sleep(secs);
	printf("PVHV-IDENT-MARK-DONE %s\n", strcmp(p, mark) ? "changed" : "intact");
	return 0;
}
