/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c: `pvhctl api [--socket PATH] METHOD PATH [BODY|@FILE]`, a raw client
 * of pvhd for scripts and tests: one request on pvhd's unix socket, the
 * response body on stdout (and a newline), exit status 0 for a 2xx
 * status, else 1 ("pvhctl api: HTTP STATUS" on stderr; 2 for bad usage or
 * no pvhd).  @FILE is streamed with its
 * size as Content-Length (an image upload need not fit in memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdio.h"
#include "pvhctl.h"

/* The body: BODY itself, or FILE's bytes streamed.  -1 with a message on failure. */
static int send_body(int s, const char *arg, int file, uint64_t size)
{
	static char buf[65536];
	uint64_t sent = 0;

	if (file < 0)
		return fd_write_all(s, arg, strlen(arg));
	while (sent < size) {
		ssize_t n = read(file, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "pvhctl api: %s: %s at byte %llu\n", arg + 1, n ? strerror(errno) : "shorter than it was",
				(unsigned long long)sent);
			return -1;
		}
		if ((uint64_t)n > size - sent)
			n = (ssize_t)(size - sent);
		if (fd_write_all(s, buf, (size_t)n)) {
			/* pvhd may have refused early and closed: its reply still says why. */
			return 0;
		}
		sent += (uint64_t)n;
	}
	return 0;
}

/* Reads the response: status into *status, body to stdout.  -1 when it is not HTTP. */
static int read_response(int s, int *status)
{
	static char buf[65536];
	size_t len = 0;
	char *end = NULL, *cl;
	unsigned long long want = 0, got;
	bool ends_nl = true;

	while (!end) {
		ssize_t n = len < sizeof(buf) - 1 ? read(s, buf + len, sizeof(buf) - 1 - len) : 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		end = strstr(buf, "\r\n\r\n");
		/* An interim "100 Continue" is not the answer. */
		if (end && !strncmp(buf, "HTTP/1.1 100 ", 13)) {
			len -= (size_t)(end + 4 - buf);
			memmove(buf, end + 4, len + 1);
			end = NULL;
		}
	}
	if (sscanf(buf, "HTTP/1.%*c %d ", status) != 1)
		return -1;
	*end = 0;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl)
		want = strtoull(cl + 17, NULL, 10);
	got = len - (size_t)(end + 4 - buf);
	fwrite(end + 4, 1, got, stdout);
	if (got)
		ends_nl = end[4 + got - 1] == '\n';
	while (!cl || got < want) {
		ssize_t n = read(s, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
		ends_nl = buf[n - 1] == '\n';
		got += (unsigned long long)n;
	}
	if (!ends_nl)
		putchar('\n');
	return cl && got < want ? -1 : 0;
}

int api_main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *path = "/run/pvhd.sock", *body = NULL;
	char head[1024];
	int k = 1, s, file = -1, status = 0, n;
	uint64_t size = 0;

	if (k + 1 < argc && !strcmp(argv[k], "--socket"))
		path = argv[k + 1], k += 2;
	if (argc - k < 2 || argc - k > 3 || argv[k + 1][0] != '/' || strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "usage: pvhctl api [--socket PATH] METHOD /PATH [BODY|@FILE]\n");
		return 2;
	}
	if (argc - k == 3) {
		body = argv[k + 2];
		size = strlen(body);
		if (body[0] == '@') {
			struct stat sb;

			file = open(body + 1, O_RDONLY | O_CLOEXEC);
			if (file < 0 || fstat(file, &sb) || !S_ISREG(sb.st_mode)) {
				fprintf(stderr, "pvhctl api: %s: %s\n", body + 1, file < 0 ? strerror(errno) : "not a regular file");
				return 2;
			}
			size = (uint64_t)sb.st_size;
		}
	}
	/* pvhd may answer and close before the whole body is sent: its answer still counts. */
	signal(SIGPIPE, SIG_IGN);
	strcpy(a.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "pvhctl api: %s: %s (is pvhd running?)\n", path, strerror(errno));
		return 2;
	}
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: pvhd\r\nConnection: close\r\n", argv[k], argv[k + 1]);
	if (body && n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %llu\r\n", (unsigned long long)size);
	if (n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "pvhctl api: %s %s: too long\n", argv[k], argv[k + 1]);
		return 2;
	}
	if (fd_write_all(s, head, (size_t)n) || (body && send_body(s, body, file, size))) {
		fprintf(stderr, "pvhctl api: sending the request: %s\n", strerror(errno));
		return 1;
	}
	if (read_response(s, &status)) {
		fprintf(stderr, "pvhctl api: a malformed or cut response from pvhd\n");
		return 1;
	}
	if (status >= 200 && status < 300)
		return 0;
	fflush(stdout);
	fprintf(stderr, "pvhctl api: HTTP %d\n", status);
	return 1;
}
