/* main.c - mptcpshim-gateway: serves mptcpshim clients' connect()s to
 * plain servers (docs/DESIGN.md section 10).
 *
 * It runs under libmptcpshim (it re-executes itself with the library
 * preloaded when it is not), which does the protocol work on a gateway
 * listener: the client's HELLO + GWREQ must carry a valid authenticator
 * before anything is sent back, and only then does accept()'s connection
 * hand the daemon its request (getsockopt MPS_SO_GW_REQUEST).  The daemon
 * judges the destination (gwpolicy.c), connects to it plainly (the
 * library keeps a gateway's own connects plain) and hands the connected
 * socket to the library (setsockopt MPS_SO_GW_SPLICE: GWREPLY, then the
 * library's thread serves it), or reports the failure (MPS_SO_GW_REPLY).
 * A thread per connection until then; --relay keeps it for a relay
 * (relay.c, shared with mptcpshim-proxy) as before. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/gateway.h"
#include "mptcpshim/gwauth.h"
#include "mptcpshim/gwlimit.h"
#include "mptcpshim/gwpolicy.h"
#include "mptcpshim/gwreq.h"
#include "gwdest.h"
#include "gwopts.h"
#include "gwproc.h"
#include "../proxy/acceptloop.h"
#include "../proxy/pxutil.h"
#include "../proxy/relay.h"
#include "../proxy/upstream.h"

#ifndef MPS_LIBPATH
#define MPS_LIBPATH "libmptcpshim.so"
#endif
/* Descriptors a connection may hold (room for 5 client paths): the
 * library's socketpair (2), the destination and the subflows, while a
 * daemon thread answers (--threaded, --relay); the destination and the
 * subflows when the library serves it alone (MPS_SO_GW_DIRECT). */
#define FDS_PER_CONN 8
#define FDS_PER_CONN_DIRECT 6
#define MAX_CLIENTS 1024

static struct mps_gwpolicy g_policy;
/* pending connections per source, new connections per client key */
static pthread_mutex_t g_lim_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mps_gwlimit g_lim;
static atomic_int g_active;
static int g_direct; /* the library serves requests (MPS_SO_GW_DIRECT) */
static int g_sigpipe[2] = {-1, -1};

/* connections per client key name (authenticated ones) */
static pthread_mutex_t g_cl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[MPS_GWAUTH_NAME_MAX + 1];
	int n;
} g_cl[MAX_CLIENTS];

static void glog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void glog(const char *fmt, ...)
{
	char line[768];
	int n, m, saved = errno;
	va_list ap;

	n = snprintf(line, sizeof(line), "mptcpshim-gateway[%d]: ", (int)getpid());
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
	errno = saved;
}

/* 1 if the client may open one more connection (counted), 0 if not. */
static int client_take(const char *name)
{
	int i, free_i = -1, ok = 0;

	pthread_mutex_lock(&g_cl_mu);
	for (i = 0; i < MAX_CLIENTS; i++) {
		if (g_cl[i].n && !strcmp(g_cl[i].name, name))
			break;
		if (!g_cl[i].n && free_i < 0)
			free_i = i;
	}
	if (i == MAX_CLIENTS && free_i >= 0) {
		i = free_i;
		snprintf(g_cl[i].name, sizeof(g_cl[i].name), "%s", name);
	}
	if (i < MAX_CLIENTS && g_cl[i].n < g_opt.max_per_client) {
		g_cl[i].n++;
		ok = 1;
	}
	pthread_mutex_unlock(&g_cl_mu);
	return ok;
}

static void client_drop(const char *name)
{
	pthread_mutex_lock(&g_cl_mu);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (g_cl[i].n && !strcmp(g_cl[i].name, name)) {
			g_cl[i].n--;
			break;
		}
	pthread_mutex_unlock(&g_cl_mu);
}

struct gconn {
	int fd;
	struct sockaddr_storage peer;
	char name[64];
	uint8_t src[16];                      /* its source for the per-source limit */
	int pending;                          /* counted as pending there */
	char client[MPS_GWAUTH_NAME_MAX + 1]; /* spliced: the key it counts against */
};

/* Spliced connections (MPS_SO_GW_SPLICE) are served by the library's
 * thread; the daemon's end of each reports EPOLLHUP once it ended, and
 * only then does it stop counting (--max-conns, --max-per-client).  One
 * thread watches them all, where the relay needed one per connection. */
static int g_reap_ep = -1;

static void *reaper_main(void *arg)
{
	struct epoll_event ev[64];

	(void)arg;
	for (;;) {
		int n = epoll_wait(g_reap_ep, ev, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			glog("epoll_wait: %s: ended connections are no longer counted out",
			     strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct gconn *gc = ev[i].data.ptr;

			epoll_ctl(g_reap_ep, EPOLL_CTL_DEL, gc->fd, NULL);
			close(gc->fd);
			client_drop(gc->client);
			free(gc);
			atomic_fetch_sub(&g_active, 1);
		}
	}
}

/* The connection authenticated, or was refused: it no longer counts
 * against its source. */
static void pending_done(struct gconn *gc)
{
	if (!gc->pending)
		return;
	pthread_mutex_lock(&g_lim_mu);
	mps_gwlimit_pending_drop(&g_lim, gc->src);
	pthread_mutex_unlock(&g_lim_mu);
	gc->pending = 0;
}

/* Say it at most every 10 s (a flood must not flood the log). */
static int log_now(_Atomic long long *last)
{
	long long t = mps_px_now_ms(), l = atomic_load(last);

	return t - l > 10000 && atomic_compare_exchange_strong(last, &l, t);
}

/* --threaded, --relay: the client's rate and cap (the library applies
 * them with MPS_SO_GW_DIRECT).  0: counted; -1: refused (replied, closed). */
static int client_admit(struct gconn *gc, const char *client, const char *who, const char *dest)
{
	static _Atomic long long last_rate;
	uint8_t result = MPS_GWR_LIMITED; /* replied as refused, counted apart */
	int rc;

	pthread_mutex_lock(&g_lim_mu);
	rc = mps_gwlimit_rate_take(&g_lim, client, mps_px_now_ms());
	pthread_mutex_unlock(&g_lim_mu);
	if (rc) {
		if (log_now(&last_rate))
			glog("%s -> %s: refused: more than %d new connections per second of this "
			     "client (--rate-per-client; said at most every 10 s)",
			     who, dest, g_opt.rate_per_client);
	} else if (!client_take(client)) {
		glog("%s -> %s: refused: %d connections of this client open (--max-per-client)",
		     who, dest, g_opt.max_per_client);
	} else {
		return 0;
	}
	setsockopt(gc->fd, MPS_SOL_SHIM, MPS_SO_GW_REPLY, &result, 1);
	close(gc->fd);
	return -1;
}

/* The library takes the destination's socket u as the connection's end
 * and serves it on its own thread: no relay thread, no copy through the
 * pair (gateway.h).  0: the reaper counts it out when it ends; -1: gc->fd
 * closed (u too). */
static int splice_dest(struct gconn *gc, int u, const char *client, const char *who,
                       const char *dest, long long t0)
{
	struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = gc};

	if (setsockopt(gc->fd, MPS_SOL_SHIM, MPS_SO_GW_SPLICE, &u, sizeof(u)) != 0) {
		glog("%s -> %s: cannot reply: %s", who, dest, strerror(errno));
		mps_abort_fd(u);
		close(gc->fd);
		return -1;
	}
	if (g_opt.verbose)
		glog("%s -> %s: connected in %lld ms", who, dest, mps_px_now_ms() - t0);
	close(u);
	snprintf(gc->client, sizeof(gc->client), "%s", client);
	if (epoll_ctl(g_reap_ep, EPOLL_CTL_ADD, gc->fd, &ev) == 0)
		return 0;
	glog("%s -> %s: epoll_ctl: %s: not counted against the limits", who, dest, strerror(errno));
	close(gc->fd);
	return -1;
}

static void *conn_main(void *arg)
{
	struct gconn *gc = arg;
	struct mps_gwinfo info;
	socklen_t il = sizeof(info);
	char dest[320], who[160];
	const char *why = NULL;
	uint8_t result;
	int u, err, counted = 0, rc;
	long long t0;

	/* Blocks until the library authenticated the request (or refused
	 * the connection: it logged the peer and the reason). */
	rc = getsockopt(gc->fd, MPS_SOL_SHIM, MPS_SO_GW_REQUEST, &info, &il);
	pending_done(gc);
	if (rc != 0 && errno == EALREADY) {
		/* The library serves it (MPS_SO_GW_DIRECT): counted until
		 * its end reports the connection's end. */
		struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = gc};

		if (epoll_ctl(g_reap_ep, EPOLL_CTL_ADD, gc->fd, &ev) == 0)
			return NULL;
		glog("%s: epoll_ctl: %s: not counted against the limits", gc->name,
		     strerror(errno));
		close(gc->fd);
		goto done;
	}
	if (rc != 0) {
		if (g_opt.verbose)
			glog("%s: no authenticated request (%s)", gc->name, strerror(errno));
		close(gc->fd);
		goto done;
	}
	mps_gwreq_dest_str(&info.dest, dest, sizeof(dest));
	snprintf(who, sizeof(who), "%s (%s)", info.client, gc->name);
	/* a name: with g_direct the library applied the client's limits */
	if (!g_direct) {
		if (client_admit(gc, info.client, who, dest))
			goto done;
		counted = 1;
	}
	t0 = mps_px_now_ms();
	u = mps_gwdest_open(&g_policy, g_opt.connect_timeout_ms, &info.dest, &result, &err, &why);
	if (u >= 0 && !g_opt.relay) {
		if (splice_dest(gc, u, info.client, who, dest, t0) == 0)
			return NULL; /* counted until reaper_main sees it end */
		goto done;
	}
	if (setsockopt(gc->fd, MPS_SOL_SHIM, MPS_SO_GW_REPLY, &result, 1) != 0) {
		glog("%s -> %s: cannot reply: %s", who, dest, strerror(errno));
		if (u >= 0)
			mps_abort_fd(u);
		close(gc->fd);
		goto done;
	}
	if (u < 0) {
		if (result == MPS_GWR_POLICY)
			glog("%s -> %s: refused by policy (%s)", who, dest, why ? why : "?");
		else
			glog("%s -> %s: %s%s%s", who, dest, mps_gwreq_result_name(result),
			     err ? ": " : "", err ? strerror(err) : "");
		close(gc->fd);
		goto done;
	}
	if (g_opt.verbose)
		glog("%s -> %s: connected in %lld ms", who, dest, mps_px_now_ms() - t0);
	fcntl(gc->fd, F_SETFL, fcntl(gc->fd, F_GETFL) | O_NONBLOCK);
	mps_relay(gc->fd, u, who, dest, NULL, 0, g_opt.verbose, glog);
done:
	if (counted)
		client_drop(info.client);
	pending_done(gc);
	free(gc);
	atomic_fetch_sub(&g_active, 1);
	return NULL;
}

/* An accepted connection (acceptloop.h): before authentication, one
 * source holds a bounded share (--max-pending-per-source). */
static void *gw_admit(int cfd, const struct sockaddr_storage *peer, const char *name)
{
	static _Atomic long long last_src;
	struct gconn *gc = calloc(1, sizeof(*gc));
	int rc;

	if (!gc) {
		glog("%s: dropped: out of memory", name);
		mps_abort_fd(cfd);
		return NULL;
	}
	gc->fd = cfd;
	gc->peer = *peer;
	snprintf(gc->name, sizeof(gc->name), "%s", name);
	if (mps_gwlimit_source_key((const struct sockaddr *)peer, gc->src) != 0)
		return gc;
	pthread_mutex_lock(&g_lim_mu);
	rc = mps_gwlimit_pending_take(&g_lim, gc->src);
	pthread_mutex_unlock(&g_lim_mu);
	if (rc) {
		if (log_now(&last_src))
			glog("%s: dropped: %s (--max-pending-per-source %d; said at most every 10 s)",
			     gc->name,
			     rc == -EBUSY ? "this source holds its share of unauthenticated "
			                    "connections" :
			                    "too many sources pending",
			     g_opt.max_pending_per_source);
		mps_abort_fd(cfd);
		free(gc);
		return NULL;
	}
	gc->pending = 1;
	return gc;
}

/* Admitted, not started (the cap, no thread). */
static void gw_drop(void *arg)
{
	pending_done(arg);
	free(arg);
}

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (write(g_sigpipe[1], &c, 1) < 0) {
		/* the pipe is full: a stop is pending anyway */
	}
	errno = saved;
}

static void add_own_addresses(void)
{
	struct ifaddrs *ifa = NULL, *i;

	if (getifaddrs(&ifa) != 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			mps_gwpolicy_add_own(&g_policy, AF_INET,
			                     &((struct sockaddr_in *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			mps_gwpolicy_add_own(&g_policy, AF_INET6,
			                     &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
	}
	freeifaddrs(ifa);
}

/* The gateway listener, marked for the library (MPS_SO_GW_LISTEN: the
 * key file, the authentication timeout).  -1 if it cannot be made. */
static int open_listener(const struct sockaddr_storage *la, socklen_t lalen, const char *lname,
                         const char *key_file, int replay_fd)
{
	int lfd, one = 1, tfo_qlen = 1024;

	lfd = socket(la->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    /* --workers: each worker's listener on the same port */
	    (replay_fd >= 0 && setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind(lfd, (const struct sockaddr *)la, lalen) || listen(lfd, 1024)) {
		glog("cannot listen on %s: %s", lname, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	/* TCP Fast Open: a client's request may ride in its SYN (gwconn.c).
	 * Effective where net.ipv4.tcp_fastopen has the server bit (2). */
	if (setsockopt(lfd, IPPROTO_TCP, TCP_FASTOPEN, &tfo_qlen, sizeof(tfo_qlen)))
		glog("warning: TCP_FASTOPEN on the listener: %s", strerror(errno));
	/* --workers: one replay cache for them all (gwproc.c) */
	if (replay_fd >= 0 &&
	    setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_REPLAY, &replay_fd, sizeof(replay_fd))) {
		glog("the library refused the workers' replay cache: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	if (setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_LISTEN, key_file,
	               (socklen_t)strlen(key_file)) ||
	    setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_AUTH_TIMEOUT, &g_opt.auth_timeout_ms,
	               sizeof(int))) {
		glog("the library refused the gateway listener: %s", strerror(errno));
		close(lfd);
		return -1;
	}
	return lfd;
}

/* --listen's address and the key file, checked for clear errors before
 * anything starts (the library loads the key file again for itself).
 * -1 to go on; else the exit status (--check ends here). */
static int check_listen_and_keys(struct sockaddr_storage *la, socklen_t *lalen,
                                 struct mps_gwkeys *ks)
{
	const char *listen_s = g_opt.listen, *key_file = g_opt.key_file;
	char err[256];

	if (mps_gw_parse_hostport(listen_s, strlen(listen_s), la, lalen)) {
		fprintf(stderr,
		        "mptcpshim-gateway: --listen '%s': expected ADDR:PORT or "
		        "[IPV6]:PORT (numeric)\n",
		        listen_s);
		return 2;
	}
	memset(ks, 0, sizeof(*ks));
	if (mps_gwauth_load(ks, key_file, err, sizeof(err))) {
		fprintf(stderr, "mptcpshim-gateway: --key-file %s: %s\n", key_file, err);
		return 2;
	}
	if (ks->n == 0) {
		fprintf(stderr, "mptcpshim-gateway: --key-file %s: no key in it\n", key_file);
		return 2;
	}
	if (g_opt.check) {
		/* For whoever starts it (the systemd unit's ExecStartPre):
		 * the file the administrator wrote, checked before a copy
		 * of it is handed to the service. */
		printf("mptcpshim-gateway: --key-file %s: %zu client key(s); options valid\n",
		       key_file, ks->n);
		mps_gwauth_free(ks);
		return 0;
	}
	return -1;
}

/* SIGTERM, SIGINT and SIGHUP stop the accept loop (through g_sigpipe);
 * SIGPIPE is ignored. */
static int catch_signals(void)
{
	struct sigaction sa;

	if (pipe2(g_sigpipe, O_CLOEXEC | O_NONBLOCK)) {
		glog("pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

/* The thread that counts spliced connections out when they end. */
static int start_reaper(void)
{
	pthread_t th;

	g_reap_ep = epoll_create1(EPOLL_CLOEXEC);
	if (g_reap_ep < 0 || pthread_create(&th, NULL, reaper_main, NULL)) {
		glog("cannot start the connection reaper: %s", strerror(errno));
		return -1;
	}
	pthread_detach(th);
	return 0;
}

/* Worker of n (--workers): the gateway's limits split evenly (rounded
 * up); --max-conns, when not given, is 4096 a worker. */
static void share_limits(int n)
{
	int *lim[] = {&g_opt.max_per_client, &g_opt.rate_per_client, &g_opt.max_pending_per_source};

	if (n <= 1)
		return;
	if (g_opt.max_conns_set)
		g_opt.max_conns = (g_opt.max_conns + n - 1) / n;
	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
		*lim[i] = (*lim[i] + n - 1) / n;
}

/* The limits the daemon applies itself (--threaded, --relay; before
 * authentication always): 0 or -1. */
static int init_limits(size_t nkeys)
{
	uint8_t nonce_seed[MPS_GWAUTH_NONCE_LEN];
	uint64_t seed = 0;

	if (mps_gwauth_nonce(nonce_seed) == 0)
		memcpy(&seed, nonce_seed, sizeof(seed));
	if (mps_gwlimit_init(&g_lim, (uint32_t)g_opt.max_pending_per_source,
	                     (size_t)g_opt.max_conns, g_opt.rate_per_client,
	                     2.0 * g_opt.rate_per_client, nkeys, seed)) {
		glog("out of memory");
		return -1;
	}
	return 0;
}

/* The library's thread answers each request itself: the client's limits,
 * the policy and the connect, no thread of ours per connection in the way
 * (a name still comes here). */
static void serve_direct(int lfd)
{
	struct mps_gwdirect d = {.policy = &g_policy,
	                         .connect_timeout_ms = g_opt.connect_timeout_ms,
	                         .max_per_client = g_opt.max_per_client,
	                         .rate_per_client = g_opt.rate_per_client,
	                         .verbose = g_opt.verbose,
	                         .max_conns = g_opt.max_conns,
	                         .max_pending_per_source = g_opt.max_pending_per_source,
	                         .log = glog};

	if (setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_DIRECT, &d, sizeof(d)) == 0)
		g_direct = 1;
	else
		glog("warning: the library does not serve requests itself (%s): a thread "
		     "per connection",
		     strerror(errno));
}

/* Accept and serve until SIGTERM, SIGINT or SIGHUP. */
static void serve(int lfd)
{
	struct mps_accept_loop al = {.lfd = lfd,
	                             .stopfd = g_sigpipe[0],
	                             .max_conns = g_opt.max_conns,
	                             .active = &g_active,
	                             .log = glog,
	                             .admit = gw_admit,
	                             .drop = gw_drop,
	                             .serve = conn_main};

	/* Stopping: every relayed connection ends with a reset at
	 * both ends, as when a middlebox that terminates TCP dies.
	 * Without it the library would finish the clients'
	 * connections gracefully after exit (a keeper process), and
	 * a client would read EOF: a truncated stream taken for a
	 * complete one. */
	if (g_direct) {
		/* The library's thread accepts and serves every
		 * connection (gwlisten.c): nothing to do here but wait
		 * for the stop. */
		struct pollfd pf = {.fd = g_sigpipe[0], .events = POLLIN};
		int n = 0;
		socklen_t nl = sizeof(n);

		while (poll(&pf, 1, -1) < 0 && errno == EINTR)
			;
		if (getsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_COUNT, &n, &nl) != 0)
			n = 0;
		/* the library resets them as it exits (mps_conn_gw_exit) */
		glog("stopping (%d connection(s) open are reset)", n);
	} else if (mps_accept_loop_run(&al) > 0) {
		glog("%d relayed connection(s) reset", mps_relay_abort_all());
	}
}

int main(int argc, char **argv)
{
	const char *key_file;
	struct sockaddr_storage la;
	socklen_t lalen = 0;
	struct mps_gwkeys ks;
	char lname[80];
	int lfd, rc, wi, wn, replay_fd;
	char wtag[32] = "";

	mps_gwpolicy_init(&g_policy);
	if ((rc = mps_gwopts_parse(argc, argv, &g_policy)) >= 0)
		return rc;
	key_file = g_opt.key_file;
	if ((rc = check_listen_and_keys(&la, &lalen, &ks)) >= 0)
		return rc;
	if (!mps_gwproc_worker(&wi, &wn, &replay_fd) && g_opt.workers > 1) {
		mps_gwauth_free(&ks);
		return catch_signals() ?
		               1 :
		               mps_gwproc_supervise(g_opt.workers, argv, g_sigpipe[0], glog);
	}
	mps_gwproc_need_shim(argv, MPS_LIBPATH);
	share_limits(wn);
	add_own_addresses();
	mps_px_addr_str(&la, lname, sizeof(lname));

	g_opt.max_conns = mps_px_fit_nofile(
	        g_opt.max_conns, g_opt.relay || g_opt.threaded ? FDS_PER_CONN : FDS_PER_CONN_DIRECT,
	        glog);
	if (catch_signals())
		return 1;

	lfd = open_listener(&la, lalen, lname, key_file, replay_fd);
	if (replay_fd >= 0)
		close(replay_fd); /* mapped by the library */
	if (lfd < 0 || init_limits(ks.n))
		return 1;
	if (wn > 1)
		snprintf(wtag, sizeof(wtag), "worker %d of %d: ", wi, wn);
	glog("%slistening on %s: %zu client key(s), at most %d connections (%d per client, %d "
	     "new per second per client, %d unauthenticated per source for at most %d s)",
	     wtag, lname, ks.n, g_opt.max_conns, g_opt.max_per_client, g_opt.rate_per_client,
	     g_opt.max_pending_per_source, g_opt.auth_timeout_ms / 1000);
	mps_gwauth_free(&ks);

	if (!g_opt.relay && start_reaper())
		return 1;
	if (!g_opt.relay && !g_opt.threaded)
		serve_direct(lfd);
	serve(lfd);
	close(lfd);
	return 0;
}
