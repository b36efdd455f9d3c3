/* procmodels: servers and clients in the process models of issue 5.
 *
 * Every connection carries one stream from the client: the client sends
 * SIZE pseudo-random bytes and shuts down writing; the server reads to
 * EOF and answers "<sha256 hex> <bytes>\n"; the client checks that answer
 * against the SHA-256 of what it sent.
 *
 * usage:
 *   procmodels client HOST PORT NCONN SIZE
 *       NCONN threads connect at once (a barrier), one connection each.
 *       Prints "client: N/N ok"; exit 1 on any failure.
 *   procmodels client-exit HOST PORT FILE
 *       Connect, write FILE, and exit at once (no close, no shutdown):
 *       the keeper must deliver what is still in flight.
 *   procmodels serve MODEL HOST PORT NCONN [ARG]
 *       Listen on HOST:PORT, serve NCONN connections, exit.  MODEL:
 *       threads   NCONN threads all blocked in accept() at once
 *       epoll-et  one thread, non-blocking, epoll edge-triggered
 *       epoll-lt  the same, level-triggered
 *       fork      a child per connection; the parent closes its copy
 *       forkafter the first connection accepted and negotiated here, then
 *                 a child accepts the others, forking a grandchild for
 *                 each (the child's connections need a join listener of
 *                 their own), while this process serves the first
 *       exec      a child per connection: dup2 onto 0 and 1, execv
 *                 "procmodels child ARG" (inetd style; the connection was
 *                 accepted close-on-exec)
 *       spawn     posix_spawn "procmodels child ARG" with the connection
 *                 dup2'd onto 0 and 1 by file actions
 *       vfork     vfork, dup2 onto 0 and 1, execv "procmodels child ARG"
 *       daemon    fork after listen(); the parent exits at once, the child
 *                 (setsid) serves with threads; ARG: file for its pid
 *       handoff   (NCONN 1) read the first 1 MiB, fork a child that reads
 *                 the rest and answers, and exit at once while it talks
 *       sink      (NCONN 1) read to EOF and print "<sha256> <bytes>" on
 *                 stdout, no answer (the client-exit peer)
 *       reuseport REUSEPORT_PROCS processes, each with its own listening
 *                 socket bound to HOST:PORT with SO_REUSEPORT (the kernel
 *                 spreads connections over the group), a thread per
 *                 connection; the group ends once NCONN are served.  Each
 *                 member prints "reuseport member PID served K" on stderr
 *   procmodels child INFOFILE
 *       (exec'd) The connection is on 0 and 1.  Writes what the socket
 *       calls answer to INFOFILE ("peer=ADDR family=F domain=D type=T
 *       proto=P tcpi_state=S inherit=absent|present extra=N"), then
 *       serves it.  extra: descriptors above 2 that are sockets, epoll
 *       sets or eventfds: what leaked across exec (the server's listener
 *       and the shim's internal descriptors are close-on-exec: 0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 65536
#define HANDOFF_FIRST (1 << 20)

static const char *g_self;

static void die(const char *what)
{
	fprintf(stderr, "procmodels[%d]: %s: %s\n", (int)getpid(), what, strerror(errno));
	exit(1);
}

static void hexdigest(EVP_MD_CTX *ctx, char out[65])
{
	unsigned char md[32];
	unsigned len = 0, i;

	EVP_DigestFinal_ex(ctx, md, &len);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static EVP_MD_CTX *sha_new(void)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		die("sha256");
	return c;
}

static int resolve(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *ai;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- server side ---- */

/* Read fd (or rfd/wfd apart, for exec'd children) to EOF, answer. */
static int serve_stream(int rfd, int wfd, EVP_MD_CTX *ctx, unsigned long long n)
{
	static __thread char buf[CHUNK];
	char hex[65], line[128];
	ssize_t r;

	for (;;) {
		r = read(rfd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "procmodels[%d]: read: %s\n", (int)getpid(),
			        strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		n += (unsigned long long)r;
	}
	hexdigest(ctx, hex);
	snprintf(line, sizeof(line), "%s %llu\n", hex, n);
	fprintf(stderr, "procmodels[%d]: received %llu B sha256 %.16s\n", (int)getpid(), n, hex);
	return write_all(wfd, line, strlen(line));
}

static int serve_fd(int fd)
{
	EVP_MD_CTX *ctx = sha_new();
	int rc = serve_stream(fd, fd, ctx, 0);

	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

static int listen_on(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (resolve(host, port, &ss, &len))
		die("resolve");
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128))
		die("bind/listen");
	return fd;
}

static int accept1(int lfd)
{
	int c;

	do
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (c < 0 && errno == EINTR);
	if (c < 0)
		die("accept");
	return c;
}

struct tsrv {
	int lfd;
	int left; /* connections still to accept (shared) */
	int failed;
	pthread_mutex_t lock;
};

static void *accept_thread(void *arg)
{
	struct tsrv *t = arg;

	for (;;) {
		int c;

		pthread_mutex_lock(&t->lock);
		if (t->left <= 0) {
			pthread_mutex_unlock(&t->lock);
			return NULL;
		}
		t->left--;
		pthread_mutex_unlock(&t->lock);
		c = accept1(t->lfd);
		if (serve_fd(c)) {
			pthread_mutex_lock(&t->lock);
			t->failed++;
			pthread_mutex_unlock(&t->lock);
		}
	}
}

static int serve_threads(int lfd, int n)
{
	struct tsrv t = {.lfd = lfd, .left = n, .lock = PTHREAD_MUTEX_INITIALIZER};
	pthread_t th[256];
	int i;

	if (n > 256)
		n = 256;
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, accept_thread, &t))
			die("pthread_create");
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return t.failed ? 1 : 0;
}

struct econn {
	int fd;
	EVP_MD_CTX *ctx;
	unsigned long long n;
	char reply[128];
	size_t rlen, roff;
};

/* One readiness event on a connection: 1 when it is finished. */
static int epoll_conn(int ep, struct econn *e, int et)
{
	static char buf[CHUNK];

	if (e->rlen) {
		/* answering */
		while (e->roff < e->rlen) {
			ssize_t w = write(e->fd, e->reply + e->roff, e->rlen - e->roff);

			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (w < 0)
				return -1;
			e->roff += (size_t)w;
		}
		return 1;
	}
	for (;;) {
		ssize_t r = read(e->fd, buf, sizeof(buf));

		if (r > 0) {
			EVP_DigestUpdate(e->ctx, buf, (size_t)r);
			e->n += (unsigned long long)r;
			if (!et)
				return 0; /* level-triggered: one read per event */
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r < 0)
			return -1;
		break;
	}
	{
		char hex[65];
		struct epoll_event ev = {.events = EPOLLOUT | (et ? EPOLLET : 0u), .data.ptr = e};

		hexdigest(e->ctx, hex);
		e->rlen = (size_t)snprintf(e->reply, sizeof(e->reply), "%s %llu\n", hex, e->n);
		fprintf(stderr, "procmodels: received %llu B sha256 %.16s\n", e->n, hex);
		epoll_ctl(ep, EPOLL_CTL_MOD, e->fd, &ev);
	}
	return epoll_conn(ep, e, et);
}

static int serve_epoll(int lfd, int n, int et)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), done = 0, accepted = 0, failed = 0;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	if (ep < 0)
		die("epoll_create1");
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (done < n) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, -1), i;

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die("epoll_wait");
		for (i = 0; i < k; i++) {
			struct econn *e = evs[i].data.ptr;
			int r;

			if (!e) {
				int c;

				while (accepted < n &&
				       (c = accept4(lfd, NULL, NULL,
				                    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct epoll_event cev = {.events = EPOLLIN |
					                                    (et ? EPOLLET : 0u)};

					e = calloc(1, sizeof(*e));
					e->fd = c;
					e->ctx = sha_new();
					cev.data.ptr = e;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
					accepted++;
				}
				continue;
			}
			r = epoll_conn(ep, e, et);
			if (r) {
				failed += r < 0;
				done++;
				epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
				close(e->fd);
				EVP_MD_CTX_free(e->ctx);
				free(e);
			}
		}
	}
	close(ep);
	return failed ? 1 : 0;
}

static int reap(int n)
{
	int failed = 0, st;

	while (n-- > 0) {
		if (wait(&st) < 0)
			die("wait");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	return failed ? 1 : 0;
}

static int serve_fork(int lfd, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		int c = accept1(lfd);
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(lfd);
			exit(serve_fd(c) ? 1 : 0);
		}
		close(c); /* the child holds the connection now */
	}
	return reap(n);
}

/* Read exactly want bytes of c into ctx (the first part of a stream that
 * another process or a later call reads on); dies on EOF or an error. */
static unsigned long long read_first(int c, EVP_MD_CTX *ctx, unsigned long long want,
                                     const char *what)
{
	static char buf[CHUNK];
	unsigned long long n = 0;

	while (n < want) {
		ssize_t r = read(c, buf, MIN(sizeof(buf), (size_t)(want - n)));

		if (r <= 0)
			die(what);
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		n += (unsigned long long)r;
	}
	return n;
}

static int serve_forkafter(int lfd, int n)
{
	EVP_MD_CTX *ctx = sha_new();
	unsigned long long got;
	int c = accept1(lfd), rc;
	pid_t pid;

	/* The first 64 KiB first: the connection is negotiated and this
	 * process has its join listener; then the child takes the listening
	 * socket at once (the other clients must not wait for this one's
	 * transfer: a HELLO unanswered for a second looks like a plain
	 * server), and this process serves the rest of its connection. */
	got = read_first(c, ctx, 65536, "forkafter: read");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(c);
		exit(serve_fork(lfd, n - 1)); /* prompt accepts: a child each */
	}
	rc = serve_stream(c, c, ctx, got);
	EVP_MD_CTX_free(ctx);
	close(c);
	return reap(1) || rc ? 1 : 0;
}

__attribute__((noreturn)) static void exec_child(int c, const char *info)
{
	char *argv[] = {(char *)g_self, "child", (char *)info, NULL};

	if (dup2(c, 0) < 0 || dup2(c, 1) < 0)
		_exit(126);
	close(c);
	execv(g_self, argv);
	_exit(127);
}

/* vfork in its own frame: the child never returns from it. */
static pid_t fork_exec(int c, const char *info, int use_vfork)
{
	pid_t pid = use_vfork ? vfork() : fork();

	if (pid == 0)
		exec_child(c, info);
	return pid;
}

static int serve_exec(int lfd, int n, const char *info, int how)
{
	int i;

	for (i = 0; i < n; i++) {
		int c = accept1(lfd); /* close-on-exec: only the dup2'd copies go */
		char infof[512];
		pid_t pid;

		snprintf(infof, sizeof(infof), "%s.%d", info, i);
		if (how == 's') {
			char *argv[] = {(char *)g_self, "child", infof, NULL};
			posix_spawn_file_actions_t fa;

			posix_spawn_file_actions_init(&fa);
			posix_spawn_file_actions_adddup2(&fa, c, 0);
			posix_spawn_file_actions_adddup2(&fa, c, 1);
			errno = posix_spawn(&pid, g_self, &fa, NULL, argv, environ);
			posix_spawn_file_actions_destroy(&fa);
			if (errno)
				die("posix_spawn");
		} else {
			pid = fork_exec(c, infof, how == 'v');
			if (pid < 0)
				die("fork");
		}
		close(c);
	}
	return reap(n);
}

static int serve_daemon(int lfd, int n, const char *pidfile)
{
	pid_t pid = fork();
	FILE *f;

	if (pid < 0)
		die("fork");
	if (pid > 0)
		exit(0); /* the shell's command ends here */
	setsid();
	f = fopen(pidfile, "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	/* Concurrently: a connection left in the backlog for seconds would
	 * make the shim client give up negotiating (see DESIGN section 5). */
	return serve_threads(lfd, n);
}

static int serve_handoff(int lfd)
{
	EVP_MD_CTX *ctx = sha_new();
	unsigned long long n;
	int c = accept1(lfd);
	pid_t pid;

	close(lfd);
	n = read_first(c, ctx, HANDOFF_FIRST, "handoff: read");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		exit(serve_stream(c, c, ctx, n) ? 1 : 0);
	fprintf(stderr, "procmodels[%d]: handed the connection to %d after %llu B, exiting\n",
	        (int)getpid(), (int)pid, n);
	exit(0); /* the servicing process goes while its child talks */
}

static int serve_sink(int lfd)
{
	static char buf[CHUNK];
	EVP_MD_CTX *ctx = sha_new();
	unsigned long long n = 0;
	char hex[65];
	int c = accept1(lfd);

	for (;;) {
		ssize_t r = read(c, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("sink: read");
		if (r == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		n += (unsigned long long)r;
	}
	hexdigest(ctx, hex);
	printf("%s %llu\n", hex, n);
	close(c);
	return 0;
}

/* ---- SO_REUSEPORT group ---- */

#define REUSEPORT_PROCS 3

/* Shared by the group (MAP_SHARED): connections served so far. */
struct rp_group {
	int n, done;
};

struct rp_conn {
	struct rp_group *g;
	int fd;
	int *mine, failed;
};

static void *rp_serve(void *arg)
{
	struct rp_conn *rc = arg;

	if (serve_fd(rc->fd))
		__atomic_add_fetch(&rc->failed, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(rc->mine, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&rc->g->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* One member: its own socket in the group; "bound" on ready, listen once
 * go says so (every member listens before a client connects), serve until
 * the group has served g->n.  A thread per connection: one left in the
 * backlog would make a shim client give up negotiating. */
static int rp_member(const char *host, const char *port, struct rp_group *g, int ready, int go)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, one = 1, mine = 0, failed = 0, nconn = 0;
	struct rp_conn *conns = calloc((size_t)g->n, sizeof(*conns));
	char b = 'b';

	if (!conns || resolve(host, port, &ss, &len))
		die("reuseport: setup");
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&ss, len))
		die("reuseport: socket/bind");
	if (write(ready, &b, 1) != 1 || read(go, &b, 1) != 1)
		die("reuseport: sync");
	if (listen(lfd, 128))
		die("reuseport: listen");
	while (__atomic_load_n(&g->done, __ATOMIC_SEQ_CST) < g->n) {
		struct pollfd p = {lfd, POLLIN, 0};
		pthread_t t;
		int c;

		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue; /* EAGAIN: another member took it */
		if (nconn == g->n)
			die("reuseport: more connections than expected");
		conns[nconn] = (struct rp_conn){.g = g, .fd = c, .mine = &mine};
		if (pthread_create(&t, NULL, rp_serve, &conns[nconn]))
			die("pthread_create");
		pthread_detach(t);
		nconn++;
	}
	for (int i = 0; i < nconn; i++)
		failed += __atomic_load_n(&conns[i].failed, __ATOMIC_SEQ_CST);
	fprintf(stderr, "procmodels: reuseport member %d served %d\n", (int)getpid(),
	        __atomic_load_n(&mine, __ATOMIC_SEQ_CST));
	return failed ? 1 : 0;
}

static int serve_reuseport(const char *host, const char *port, int n)
{
	struct rp_group *g =
	        mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2], go[2], i;
	char b;

	if (g == MAP_FAILED || pipe(ready) || pipe(go))
		die("reuseport: setup");
	g->n = n;
	for (i = 0; i < REUSEPORT_PROCS; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			exit(rp_member(host, port, g, ready[1], go[0]));
	}
	for (i = 0; i < REUSEPORT_PROCS; i++)
		if (read(ready[0], &b, 1) != 1)
			die("reuseport: a member failed to bind");
	for (i = 0; i < REUSEPORT_PROCS; i++)
		if (write(go[1], "g", 1) != 1)
			die("reuseport: go");
	return reap(REUSEPORT_PROCS);
}

static int cmd_serve(int argc, char **argv)
{
	const char *model = argv[2];
	int n = atoi(argv[5]), lfd;
	const char *arg = argc > 6 ? argv[6] : "/dev/null";

	if (!strcmp(model, "reuseport"))
		return serve_reuseport(argv[3], argv[4], n);
	lfd = listen_on(argv[3], argv[4]);
	if (!strcmp(model, "threads"))
		return serve_threads(lfd, n);
	if (!strcmp(model, "epoll-et"))
		return serve_epoll(lfd, n, 1);
	if (!strcmp(model, "epoll-lt"))
		return serve_epoll(lfd, n, 0);
	if (!strcmp(model, "fork"))
		return serve_fork(lfd, n);
	if (!strcmp(model, "forkafter"))
		return serve_forkafter(lfd, n);
	if (!strcmp(model, "exec"))
		return serve_exec(lfd, n, arg, 'e');
	if (!strcmp(model, "spawn"))
		return serve_exec(lfd, n, arg, 's');
	if (!strcmp(model, "vfork"))
		return serve_exec(lfd, n, arg, 'v');
	if (!strcmp(model, "daemon"))
		return serve_daemon(lfd, n, arg);
	if (!strcmp(model, "handoff"))
		return serve_handoff(lfd);
	if (!strcmp(model, "sink"))
		return serve_sink(lfd);
	fprintf(stderr, "procmodels: unknown model %s\n", model);
	return 2;
}

/* Descriptors above 2 that are sockets, epoll sets or eventfds and came
 * across exec: without close-on-exec (the library of this image may hold
 * its own, all close-on-exec: a connection carried into it, its thread's). */
static int leaked_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[64], to[64];
		int fd = atoi(e->d_name);
		ssize_t l;

		if (fd <= 2 || fd == dirfd(d) || (fcntl(fd, F_GETFD) & FD_CLOEXEC))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		l = readlink(path, to, sizeof(to) - 1);
		if (l <= 0)
			continue;
		to[l] = '\0';
		if (!strncmp(to, "socket:", 7) || !strncmp(to, "anon_inode:", 11)) {
			fprintf(stderr, "procmodels[%d]: fd %d (%s) leaked across exec\n",
			        (int)getpid(), fd, to);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* The exec'd child: the connection is on 0 and 1. */
static int cmd_child(const char *info)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?", port[16] = "?";
	int dom = -1, type = -1, proto = -1, rc, extra = leaked_fds();
	struct tcp_info ti;
	socklen_t il = sizeof(int), tl = sizeof(ti);
	EVP_MD_CTX *ctx;
	FILE *f;

	memset(&ti, 0, sizeof(ti));
	memset(&ss, 0, sizeof(ss));
	if (getpeername(0, (struct sockaddr *)&ss, &len) == 0)
		getnameinfo((struct sockaddr *)&ss, len, addr, sizeof(addr), port, sizeof(port),
		            NI_NUMERICHOST | NI_NUMERICSERV);
	getsockopt(0, SOL_SOCKET, SO_DOMAIN, &dom, &il);
	il = sizeof(int);
	getsockopt(1, SOL_SOCKET, SO_TYPE, &type, &il);
	il = sizeof(int);
	getsockopt(0, SOL_SOCKET, SO_PROTOCOL, &proto, &il);
	rc = getsockopt(0, IPPROTO_TCP, TCP_INFO, &ti, &tl);
	f = fopen(info, "w");
	if (f) {
		fprintf(f,
		        "peer=%s family=%d domain=%d type=%d proto=%d tcpi_state=%d inherit=%s "
		        "extra=%d\n",
		        addr, ss.ss_family, dom, type, proto, rc == 0 ? ti.tcpi_state : -1,
		        getenv("MPTCPSHIM_INHERIT") ? "present" : "absent", extra);
		fclose(f);
	}
	ctx = sha_new();
	rc = serve_stream(0, 1, ctx, 0);
	EVP_MD_CTX_free(ctx);
	return rc ? 1 : 0;
}

/* ---- client side ---- */

struct tcli {
	const char *host, *port;
	unsigned long long size;
	int idx, ok;
	pthread_barrier_t *start;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int connect_to(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (resolve(host, port, &ss, &len))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *client_thread(void *arg)
{
	struct tcli *t = arg;
	uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(t->idx + 1) ^ (uint64_t)getpid();
	static __thread uint64_t buf[CHUNK / 8];
	EVP_MD_CTX *ctx = sha_new();
	unsigned long long left = t->size;
	char hex[65], want[128], got[128];
	size_t glen = 0;
	int fd, i;

	pthread_barrier_wait(t->start);
	fd = connect_to(t->host, t->port);
	if (fd < 0) {
		fprintf(stderr, "procmodels: client %d: connect: %s\n", t->idx, strerror(errno));
		goto out;
	}
	while (left) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;

		for (i = 0; i < CHUNK / 8; i++)
			buf[i] = xorshift(&seed);
		EVP_DigestUpdate(ctx, buf, n);
		if (write_all(fd, buf, n)) {
			fprintf(stderr, "procmodels: client %d: write: %s\n", t->idx,
			        strerror(errno));
			goto out_close;
		}
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	hexdigest(ctx, hex);
	snprintf(want, sizeof(want), "%s %llu\n", hex, t->size);
	for (;;) {
		ssize_t r = read(fd, got + glen, sizeof(got) - 1 - glen);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		glen += (size_t)r;
		if (glen == sizeof(got) - 1)
			break;
	}
	got[glen] = '\0';
	if (!strcmp(got, want))
		t->ok = 1;
	else
		fprintf(stderr, "procmodels: client %d: answer \"%.80s\", want \"%.80s\"\n", t->idx,
		        got, want);
out_close:
	close(fd);
out:
	EVP_MD_CTX_free(ctx);
	return NULL;
}

static int cmd_client(char **argv)
{
	int n = atoi(argv[4]), i, ok = 0;
	struct tcli *t = calloc((size_t)n, sizeof(*t));
	pthread_t *th = calloc((size_t)n, sizeof(*th));
	pthread_barrier_t start;

	if (n <= 0 || !t || !th)
		return 2;
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (i = 0; i < n; i++) {
		t[i] = (struct tcli){.host = argv[2],
		                     .port = argv[3],
		                     .size = strtoull(argv[5], NULL, 10),
		                     .idx = i,
		                     .start = &start};
		if (pthread_create(&th[i], NULL, client_thread, &t[i]))
			die("pthread_create");
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		ok += t[i].ok;
	}
	printf("client: %d/%d ok\n", ok, n);
	free(t);
	free(th);
	return ok == n ? 0 : 1;
}

static int cmd_client_exit(char **argv)
{
	static char buf[CHUNK];
	int fd = connect_to(argv[2], argv[3]), in;
	unsigned long long n = 0;
	ssize_t r;

	if (fd < 0)
		die("connect");
	in = open(argv[4], O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die("open");
	while ((r = read(in, buf, sizeof(buf))) > 0) {
		if (write_all(fd, buf, (size_t)r))
			die("write");
		n += (unsigned long long)r;
	}
	printf("client-exit: wrote %llu B, exiting\n", n);
	return 0; /* exit() with the connection open and bytes in flight */
}

int main(int argc, char **argv)
{
	g_self = argv[0];
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 6 && !strcmp(argv[1], "client"))
		return cmd_client(argv);
	if (argc >= 5 && !strcmp(argv[1], "client-exit"))
		return cmd_client_exit(argv);
	if (argc >= 6 && !strcmp(argv[1], "serve"))
		return cmd_serve(argc, argv);
	if (argc >= 3 && !strcmp(argv[1], "child"))
		return cmd_child(argv[2]);
	fprintf(stderr, "usage: see the comment at the top of procmodels.c\n");
	return 2;
}
