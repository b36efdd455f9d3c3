/* fdprobe - many concurrent connections driven by select(), reporting the
 * descriptor numbers the program was given (fdlimits.sh).
 *
 *   fdprobe server ADDR PORT N FILE
 *       accepts N connections (holding them all), then, with select(),
 *       reads each one's request line and answers it with FILE, then
 *       closes it.  Prints "server maxfd=M".  Out of descriptors
 *       (EMFILE/ENFILE at accept), it says after how many connections,
 *       serves those, and exits 1.
 *   fdprobe client HOST PORT N OUTDIR
 *       opens N connections one after the other (socket, blocking
 *       connect, a request line "GET i"), holding them all, then reads
 *       every answer to EOF with select() into OUTDIR/i (a connection
 *       that fails leaves its file empty, and the exit status 1).  Prints
 *       "client maxfd=M nfds=K" (K: the process's open descriptors at the
 *       peak, from /proc/self/fd, the shim's included).
 *
 * A descriptor at or above FD_SETSIZE cannot go into an fd_set: it is an
 * error, as for any select() program.  Exit 0 when every connection was
 * served, 1 on an error (printed with errno). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "fdprobe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void check_fd(int fd)
{
	if (fd >= FD_SETSIZE) {
		fprintf(stderr, "fdprobe: descriptor %d >= FD_SETSIZE\n", fd);
		exit(1);
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* opendir's own */
}

static struct addrinfo *resolve(const char *host, const char *port, int passive)
{
	struct addrinfo hints, *ai;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "fdprobe: %s: %s\n", host, gai_strerror(rc));
		exit(1);
	}
	return ai;
}

struct conn {
	int fd;
	char *buf;
	size_t len, cap, off;
	int state; /* server: 0 reading request, 1 sending; client: 0 reading */
};

static void append(struct conn *c, const char *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			die("realloc");
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *b;
	int fd = open(path, O_RDONLY);
	size_t off = 0;

	if (fd < 0 || fstat(fd, &st) != 0)
		die(path);
	b = malloc((size_t)st.st_size + 1);
	while (b && off < (size_t)st.st_size) {
		ssize_t r = read(fd, b + off, (size_t)st.st_size - off);

		if (r <= 0)
			die("read file");
		off += (size_t)r;
	}
	close(fd);
	*len = off;
	return b;
}

static int server(const char *addr, const char *port, int n, const char *file)
{
	struct addrinfo *ai = resolve(addr, port, 1);
	struct conn *c = calloc((size_t)n, sizeof(*c));
	size_t flen;
	char *data = slurp(file, &flen);
	int l, one = 1, i, maxfd = -1, left = n, over = 0;

	l = socket(ai->ai_family, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, ai->ai_addr, ai->ai_addrlen) != 0 || listen(l, 1024) != 0)
		die("bind/listen");
	for (i = 0; i < n; i++) {
		c[i].fd = accept(l, NULL, NULL);
		if (c[i].fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			fprintf(stderr, "fdprobe: accept after %d connections: %s\n", i,
			        strerror(errno));
			over = 1;
			left = n = i;
			break;
		}
		if (c[i].fd < 0)
			die("accept");
		check_fd(c[i].fd);
		if (c[i].fd > maxfd)
			maxfd = c[i].fd;
	}
	printf("server maxfd=%d nfds=%d\n", maxfd, count_fds());
	fflush(stdout);
	while (left > 0) {
		fd_set rd, wr;

		FD_ZERO(&rd);
		FD_ZERO(&wr);
		for (i = 0; i < n; i++) {
			if (c[i].fd < 0)
				continue;
			if (c[i].state == 0)
				FD_SET(c[i].fd, &rd);
			else
				FD_SET(c[i].fd, &wr);
		}
		if (select(maxfd + 1, &rd, &wr, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			die("select");
		}
		for (i = 0; i < n; i++) {
			char b[512];
			ssize_t r;

			if (c[i].fd < 0)
				continue;
			if (c[i].state == 0 && FD_ISSET(c[i].fd, &rd)) {
				r = read(c[i].fd, b, sizeof(b));
				if (r <= 0)
					die("read request");
				append(&c[i], b, (size_t)r);
				if (memchr(c[i].buf, '\n', c[i].len))
					c[i].state = 1;
			} else if (c[i].state == 1 && FD_ISSET(c[i].fd, &wr)) {
				r = write(c[i].fd, data + c[i].off, flen - c[i].off);
				if (r < 0)
					die("write");
				c[i].off += (size_t)r;
				if (c[i].off == flen) {
					close(c[i].fd);
					c[i].fd = -1;
					left--;
				}
			}
		}
	}
	return over;
}

static int client(const char *host, const char *port, int n, const char *outdir)
{
	struct addrinfo *ai = resolve(host, port, 0);
	struct conn *c = calloc((size_t)n, sizeof(*c));
	int i, maxfd = -1, left = n, failed = 0;

	signal(SIGPIPE, SIG_IGN); /* a write to a server gone: EPIPE */

	for (i = 0; i < n; i++) {
		char req[32];
		int len;

		c[i].fd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (c[i].fd < 0) {
			fprintf(stderr, "fdprobe: socket after %d connections: %s\n", i,
			        strerror(errno));
			exit(1);
		}
		check_fd(c[i].fd);
		len = snprintf(req, sizeof(req), "GET %d\n", i);
		if (connect(c[i].fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    write(c[i].fd, req, (size_t)len) != len) {
			/* the server is gone (out of descriptors): read the
			 * answers of the connections made so far */
			if (i == 0)
				die("connect");
			fprintf(stderr, "fdprobe: connection %d: %s\n", i, strerror(errno));
			close(c[i].fd);
			failed++;
			left = n = i;
			break;
		}
		if (c[i].fd > maxfd)
			maxfd = c[i].fd;
	}
	printf("client maxfd=%d nfds=%d\n", maxfd, count_fds());
	fflush(stdout);
	while (left > 0) {
		fd_set rd;

		FD_ZERO(&rd);
		for (i = 0; i < n; i++)
			if (c[i].fd >= 0)
				FD_SET(c[i].fd, &rd);
		if (select(maxfd + 1, &rd, NULL, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			die("select");
		}
		for (i = 0; i < n; i++) {
			char b[16384];
			ssize_t r;

			if (c[i].fd < 0 || !FD_ISSET(c[i].fd, &rd))
				continue;
			r = read(c[i].fd, b, sizeof(b));
			if (r < 0) {
				/* that connection failed (a server gone before
				 * accepting it): the others' answers still count */
				fprintf(stderr, "fdprobe: read (connection %d): %s\n", i,
				        strerror(errno));
				failed++;
				c[i].len = 0;
			}
			if (r > 0) {
				append(&c[i], b, (size_t)r);
				continue;
			}
			close(c[i].fd);
			c[i].fd = -1;
			left--;
		}
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%d", outdir, i);
		f = fopen(path, "wb");
		if (!f || fwrite(c[i].buf, 1, c[i].len, f) != c[i].len || fclose(f) != 0)
			die(path);
	}
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "server"))
		return server(argv[2], argv[3], atoi(argv[4]), argv[5]);
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], atoi(argv[4]), argv[5]);
	fprintf(stderr, "usage: fdprobe server ADDR PORT N FILE | client HOST PORT N OUTDIR\n");
	return 2;
}
