/* SPDX-License-Identifier: Apache-2.0 */
/* token.c: pvhd's TCP bearer token, made once from getrandom and kept in a file only root may read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "pvhd.h"

/* Makes the directories above path that are missing (mode 0700), as mkdir -p. */
static void make_parent(const char *path)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		(void)mkdir(dir, 0700);
		*p = '/';
	}
}

/* A new token into path (which must not exist): 0, or -1 with err filled. */
static int make_token(const char *path, char *tok, char *err, size_t errlen)
{
	unsigned char raw[PVHD_TOKEN_BYTES];
	size_t got = 0;
	int fd;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	for (size_t k = 0; k < sizeof(raw); k++)
		snprintf(tok + 2 * k, 3, "%02x", raw[k]);
	make_parent(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	tok[PVHD_TOKEN_HEX] = '\n';
	if (fchmod(fd, 0600) || fd_write_all(fd, tok, PVHD_TOKEN_HEX + 1) || fsync(fd)) {
		snprintf(err, errlen, "%s: writing it: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	tok[PVHD_TOKEN_HEX] = 0;
	return 0;
}

int token_load(const char *path, char *tok, bool *made, char *err, size_t errlen)
{
	char buf[PVHD_TOKEN_HEX + 2];
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*made = false;
	if (fd < 0 && errno == ENOENT) {
		*made = true;
		return make_token(path, tok, err, errlen);
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* A token others can read is no secret: refuse it rather than serve with it. */
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (sb.st_mode & 077) || sb.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: not a regular file of ours with mode 0600 (mode %o)", path,
			 (unsigned)(sb.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < PVHD_TOKEN_HEX || n > PVHD_TOKEN_HEX + 1 || (n == PVHD_TOKEN_HEX + 1 && buf[PVHD_TOKEN_HEX] != '\n')) {
		snprintf(err, errlen, "%s: not %d hex digits and a newline", path, PVHD_TOKEN_HEX);
		return -1;
	}
	for (int k = 0; k < PVHD_TOKEN_HEX; k++)
		if (!strchr("0123456789abcdef", buf[k]) || !buf[k]) {
			snprintf(err, errlen, "%s: byte %d is not a lower-case hex digit", path, k);
			return -1;
		}
	memcpy(tok, buf, PVHD_TOKEN_HEX);
	tok[PVHD_TOKEN_HEX] = 0;
	return 0;
}
