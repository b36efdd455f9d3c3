/* privdrop.c - a server that drops privileges after fork, as vsftpd does.
 *
 *   privdrop server ADDR PORT FILE N fork|clone
 *     Accepts N control connections.  For each it makes a child with
 *     fork(), or with clone(2) called directly (no fork handler runs in
 *     the child, as in vsftpd's isolated sessions), at once after accept.
 *     The child calls setgroups/setgid/setuid (nobody) and sets
 *     RLIMIT_NPROC to 0, reads the client's request line, then listens
 *     on a fresh port of ADDR, sends
 *     "PORT n\n" on the control connection, accepts one data connection
 *     and sends FILE on it with sendfile(2) (opened before the drop).
 *     Exit 0 when every child exited 0.
 *   privdrop client ADDR PORT OUT
 *     Connects, sends "GET\n", reads the PORT line, connects to that port and copies
 *     the data connection to OUT until EOF.
 * Every step is bounded by an alarm: a hang fails instead. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534

static void die(const char *what)
{
	fprintf(stderr, "privdrop[%d]: %s: %s\n", (int)getpid(), what, strerror(errno));
	exit(2);
}

static struct sockaddr_in addr_of(const char *a, int port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	if (inet_pton(AF_INET, a, &in.sin_addr) != 1) {
		fprintf(stderr, "privdrop: bad address %s\n", a);
		exit(2);
	}
	return in;
}

static int listen_on(const char *a, int port)
{
	struct sockaddr_in in = addr_of(a, port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&in, sizeof(in)) || listen(fd, 8))
		die("bind/listen");
	return fd;
}

static void session(int ctl, const char *a, int file)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	struct rlimit none = {0, 0};
	struct stat st;
	char line[32];
	int lfd, dfd, n;
	off_t off = 0;

	alarm(20);
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		die("dropping privileges");
	if (setrlimit(RLIMIT_NPROC, &none))
		die("setrlimit(RLIMIT_NPROC)");
	/* the client speaks first (a server-first banner is ftp.sh's) */
	n = (int)read(ctl, line, sizeof(line));
	if (n <= 0)
		die("read request");
	lfd = listen_on(a, 0);
	if (getsockname(lfd, (struct sockaddr *)&in, &len))
		die("getsockname");
	n = snprintf(line, sizeof(line), "PORT %d\n", ntohs(in.sin_port));
	if (write(ctl, line, (size_t)n) != n)
		die("write PORT");
	dfd = accept(lfd, NULL, NULL);
	if (dfd < 0)
		die("accept data");
	if (fstat(file, &st))
		die("fstat");
	while (off < st.st_size)
		if (sendfile(dfd, file, &off, (size_t)(st.st_size - off)) <= 0)
			die("sendfile");
	close(dfd);
	close(lfd);
	close(ctl);
	exit(0);
}

static int server(const char *a, int port, const char *path, int n, int raw)
{
	int lfd = listen_on(a, port), i, st, bad = 0;

	for (i = 0; i < n; i++) {
		int ctl = accept(lfd, NULL, NULL), file;
		pid_t pid;

		if (ctl < 0)
			die("accept");
		file = open(path, O_RDONLY | O_CLOEXEC);
		if (file < 0)
			die(path);
		/* at once after accept, as vsftpd does */
		pid = raw ? (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0) : fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(lfd);
			session(ctl, a, file);
		}
		close(ctl);
		close(file);
	}
	alarm(30);
	for (i = 0; i < n; i++) {
		if (wait(&st) < 0)
			die("wait");
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "privdrop: a session failed (status %#x)\n", st);
			bad = 1;
		}
	}
	return bad;
}

static int connect_to(const char *a, int port)
{
	struct sockaddr_in in = addr_of(a, port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&in, sizeof(in)))
		die("connect");
	return fd;
}

static int client(const char *a, int port, const char *out)
{
	char line[32], buf[65536];
	size_t got = 0;
	ssize_t r;
	int ctl, dfd, o, dport;

	alarm(20);
	ctl = connect_to(a, port);
	if (write(ctl, "GET\n", 4) != 4)
		die("write request");
	while (got < sizeof(line) - 1 && (got == 0 || line[got - 1] != '\n')) {
		r = read(ctl, line + got, 1);
		if (r <= 0)
			die("read PORT");
		got += (size_t)r;
	}
	line[got] = 0;
	if (sscanf(line, "PORT %d", &dport) != 1) {
		fprintf(stderr, "privdrop: bad line '%s'\n", line);
		return 2;
	}
	dfd = connect_to(a, dport);
	o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (o < 0)
		die(out);
	while ((r = read(dfd, buf, sizeof(buf))) > 0)
		if (write(o, buf, (size_t)r) != r)
			die("write");
	if (r < 0)
		die("read data");
	close(o);
	close(dfd);
	close(ctl);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "server"))
		return server(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]),
		              !strcmp(argv[6], "clone"));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: privdrop server ADDR PORT FILE N fork|clone\n"
	                "       privdrop client ADDR PORT OUT\n");
	return 2;
}
