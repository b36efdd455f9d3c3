/* simnet.c - the simulated network under the connection engine (see
 * simnet.h).  Test-only code, linked into tests/sim/check_sim. */
#define _GNU_SOURCE
#include "simnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/sockios.h> /* SIOCOUTQ */
#include <linux/tcp.h>     /* the kernel's tcp_info, as the engine reads it */
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/direct.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"

#define SIM_MAXSOCK 128
#define CHUNK 16384u
#define MSS 1448u
#define TICK 0.001 /* virtual seconds per step */
#define SRV_ADDR "198.18.0.1"
#define SRV_PORT 80

static const char *const cli_addr[SIM_NPATH] = {"198.18.1.1", "198.18.2.1"};
static const char *const cli_if[SIM_NPATH] = {"c0", "c1"};

/* The libc functions this file stands in for are exported: libev (a shared
 * library) must reach clock_gettime here, and the build hides symbols by
 * default (-fvisibility=hidden). */
#define SIM_EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ clock */

static int g_virtual;
static double g_now = 1000.0; /* monotonic, seconds */
#define REALTIME_BASE 1.7e9

static void to_ts(double t, struct timespec *ts)
{
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

SIM_EXPORT int clock_gettime(clockid_t id, struct timespec *ts)
{
	if (g_virtual) {
		switch (id) {
		case CLOCK_MONOTONIC:
		case CLOCK_MONOTONIC_RAW:
		case CLOCK_MONOTONIC_COARSE:
		case CLOCK_BOOTTIME:
			to_ts(g_now, ts);
			return 0;
		case CLOCK_REALTIME:
		case CLOCK_REALTIME_COARSE:
			to_ts(REALTIME_BASE + g_now, ts);
			return 0;
		default:
			break;
		}
	}
	return (int)syscall(SYS_clock_gettime, id, ts);
}

SIM_EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

static struct mps_sock *g_app_sock[2];

void sim_finish(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		mps_sock_put(g_app_sock[i]);
		g_app_sock[i] = NULL;
	}
	g_virtual = 0;
}

double sim_now(void)
{
	return g_now;
}

/* ------------------------------------------------------------------ random */

static uint64_t g_seed, g_rng;
static int g_trace = -1;

/* SIM_TRACE=1: the network's events on stderr, with the virtual time. */
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
	va_list ap;

	if (g_trace < 0)
		g_trace = getenv("SIM_TRACE") != NULL;
	if (!g_trace)
		return;
	fprintf(stderr, "sim %.4f: ", g_now - 1000.0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double rnd(void)
{
	g_rng = splitmix(g_rng);
	return (double)(g_rng >> 11) / 9007199254740992.0;
}

double sim_random(void)
{
	return rnd();
}

uint64_t sim_seed(void)
{
	return g_seed;
}

uint8_t sim_stream_byte(uint64_t seed, uint64_t i)
{
	return (uint8_t)(splitmix(seed ^ (i >> 3) * 0x100000001b3ull) >> ((i & 7) * 8));
}

/* ------------------------------------------------------------------ paths */

struct dirq {
	double free_at; /* serialisation: the path is busy until then */
};

static struct sim_path {
	struct sim_path_cfg cfg;
	enum sim_state st;
	struct dirq dir[2]; /* 0: client -> server */
} g_path[SIM_NPATH];

static struct sim_stats g_stats;

const struct sim_stats *sim_stats(void)
{
	return &g_stats;
}

/* ------------------------------------------------------------------ sockets */

struct chunk {
	struct chunk *next;
	double at;     /* delivery */
	double ack_at; /* acknowledgement back at the sender (once delivered) */
	uint32_t len, off;
	int fin;
	int delivered;
	/* the window model (cfg.reno) */
	double sent_at, sack_at; /* sent; the sender hears it arrived (SACK) */
	int lost, sacked;
	uint8_t data[];
};

struct ssock {
	int used;
	ino_t ino;
	int hfd; /* our end of the engine's socketpair */
	int listening, connected, closed, linger0, reset;
	int family;
	struct sockaddr_storage local, remote;
	int bound;
	struct ssock *peer;
	int path, dir;
	int err; /* SO_ERROR, once */
	uint64_t sent, acked;
	uint32_t retrans;
	double last_at, last_ack;
	struct chunk *head, *tail;
	struct chunk *undelivered; /* the first chunk not delivered yet (or NULL) */
	int fin_read;              /* the engine shut its side: FIN queued */
	/* the window model (cfg.reno), bytes and virtual seconds */
	double cwnd, ssthresh;
	double recover_until; /* one halving per RTT; Recovery until then */
	double climited_at;   /* the window was the limit (the kernel's is_cwnd_limited) */
	double srtt;          /* 0: no sample yet */
	uint64_t pipe;        /* sent, neither SACKed nor ACKed */
	uint32_t lost_now;    /* segments dropped, not delivered yet */
	int greedy;           /* a competitor: no engine, always data to send */
	uint64_t goodput;     /* greedy: bytes delivered in order */
	/* listener: connections waiting for accept */
	struct pend {
		int fd;
		double at;
		struct ssock *s;
	} pend[16];
	int npend;
};

static struct ssock g_sock[SIM_MAXSOCK];
static struct mps_real g_libc; /* the real calls, for other descriptors */
static uint16_t g_next_port = 40000;

static struct ssock *by_fd(int fd)
{
	struct stat st;
	int i;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return NULL;
	for (i = 0; i < SIM_MAXSOCK; i++)
		if (g_sock[i].used && g_sock[i].ino == st.st_ino && g_sock[i].hfd >= 0)
			return &g_sock[i];
	return NULL;
}

/* A new simulated socket: *efd gets the engine's end. */
static struct ssock *ssock_new(int family, int flags, int *efd)
{
	struct stat st;
	int sp[2], i;

	for (i = 0; i < SIM_MAXSOCK && g_sock[i].used; i++)
		;
	if (i == SIM_MAXSOCK) {
		errno = EMFILE;
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | flags, 0, sp) != 0)
		return NULL;
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	fcntl(sp[1], F_SETFD, FD_CLOEXEC);
	fstat(sp[0], &st);
	memset(&g_sock[i], 0, sizeof(g_sock[i]));
	g_sock[i].used = 1;
	g_sock[i].ino = st.st_ino;
	g_sock[i].hfd = sp[1];
	g_sock[i].family = family;
	g_sock[i].path = -1;
	g_sock[i].cwnd = 10.0 * MSS;
	g_sock[i].ssthresh = 1e18;
	*efd = sp[0];
	return &g_sock[i];
}

static void set_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
}

static uint32_t ss_ip4(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		uint32_t v;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memcpy(&v, &s6->sin6_addr.s6_addr[12], 4);
			return v;
		}
	}
	return 0;
}

static uint16_t ss_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* An address as the family of the socket that shows it (v4-mapped in an
 * IPv6 socket). */
static socklen_t show_addr(const struct ssock *s, const struct sockaddr_storage *a,
                           struct sockaddr *out, socklen_t *len)
{
	struct sockaddr_storage tmp;
	socklen_t l;

	if (s->family == AF_INET6 && a->ss_family == AF_INET) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&tmp;

		memset(&tmp, 0, sizeof(tmp));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = ((const struct sockaddr_in *)a)->sin_port;
		s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &((const struct sockaddr_in *)a)->sin_addr, 4);
		a = &tmp;
	}
	l = a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(out, a, *len < l ? *len : l);
	*len = l;
	return l;
}

static int path_of_src(uint32_t ip)
{
	struct in_addr a;
	int i;

	for (i = 0; i < SIM_NPATH; i++)
		if (inet_pton(AF_INET, cli_addr[i], &a) == 1 && a.s_addr == ip)
			return i;
	return -1;
}

static int sim_socket(int domain, int type, int protocol)
{
	struct ssock *s;
	int efd;

	if (domain == AF_NETLINK) { /* no netmon socket: the test sends the events */
		errno = EAFNOSUPPORT;
		return -1;
	}
	if ((domain != AF_INET && domain != AF_INET6) || (type & 0xf) != SOCK_STREAM)
		return g_libc.socket(domain, type, protocol);
	s = ssock_new(domain, type & (SOCK_NONBLOCK | SOCK_CLOEXEC), &efd);
	return s ? efd : -1;
}

SIM_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct ssock *s = by_fd(fd);

	if (!s)
		return (int)syscall(SYS_bind, fd, addr, len);
	memset(&s->local, 0, sizeof(s->local));
	memcpy(&s->local, addr, len < sizeof(s->local) ? len : sizeof(s->local));
	if (ss_port(&s->local) == 0) {
		uint16_t p = htons(g_next_port++);

		if (s->local.ss_family == AF_INET)
			((struct sockaddr_in *)&s->local)->sin_port = p;
		else
			((struct sockaddr_in6 *)&s->local)->sin6_port = p;
	}
	s->bound = 1;
	return 0;
}

SIM_EXPORT int listen(int fd, int backlog)
{
	struct ssock *s = by_fd(fd);

	if (!s)
		return (int)syscall(SYS_listen, fd, backlog);
	s->listening = 1;
	return 0;
}

static struct ssock *find_listener(uint16_t port)
{
	int i;

	for (i = 0; i < SIM_MAXSOCK; i++)
		if (g_sock[i].used && g_sock[i].listening && !g_sock[i].closed &&
		    ss_port(&g_sock[i].local) == port)
			return &g_sock[i];
	return NULL;
}

/* Both ends of a connection over path p; the server's engine end is
 * returned in *sfd. */
static struct ssock *link_pair(struct ssock *c, int p, const struct sockaddr_storage *dst, int *sfd)
{
	struct ssock *s = ssock_new(AF_INET, SOCK_NONBLOCK | SOCK_CLOEXEC, sfd);

	if (!s)
		return NULL;
	s->connected = c->connected = 1;
	s->peer = c;
	c->peer = s;
	s->path = c->path = p;
	c->dir = 0;
	s->dir = 1;
	c->remote = *dst;
	set_addr(&s->local, SRV_ADDR, ss_port(dst));
	s->remote = c->local;
	c->last_ack = s->last_ack = g_now;
	g_stats.subflows[p]++;
	return s;
}

static int sim_connect_call(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct ssock *c = by_fd(fd), *l, *s;
	struct sockaddr_storage dst;
	struct in_addr srv;
	int p, sfd;

	if (!c)
		return g_libc.connect(fd, addr, len);
	memset(&dst, 0, sizeof(dst));
	memcpy(&dst, addr, len < sizeof(dst) ? len : sizeof(dst));
	if (!c->bound) {
		struct sockaddr_storage a;

		set_addr(&a, cli_addr[0], 0);
		bind(fd, (struct sockaddr *)&a, sizeof(struct sockaddr_in));
	}
	p = path_of_src(ss_ip4(&c->local));
	inet_pton(AF_INET, SRV_ADDR, &srv);
	if (p < 0 || g_path[p].st == SIM_DOWN) {
		errno = ENETUNREACH;
		return -1;
	}
	if (ss_ip4(&dst) != srv.s_addr || !(l = find_listener(ss_port(&dst))) ||
	    l->npend == (int)(sizeof(l->pend) / sizeof(l->pend[0]))) {
		errno = ECONNREFUSED;
		return -1;
	}
	/* The connection exists at once; the listener hears of it a delay
	 * later (while the path carries nothing, when it does again). */
	s = link_pair(c, p, &dst, &sfd);
	if (!s)
		return -1;
	set_addr(&c->remote, SRV_ADDR, ss_port(&dst));
	l->pend[l->npend].fd = sfd;
	l->pend[l->npend].s = s;
	l->pend[l->npend].at = g_now + g_path[p].cfg.delay;
	l->npend++;
	errno = EINPROGRESS;
	return -1;
}

static int sim_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct ssock *l = by_fd(fd);
	int i, nfd;
	char b;

	if (!l)
		return g_libc.accept4(fd, addr, len, flags);
	for (i = 0; i < l->npend; i++)
		if (l->pend[i].at < 0) /* announced */
			break;
	if (i == l->npend) {
		errno = EAGAIN;
		return -1;
	}
	nfd = l->pend[i].fd;
	if (addr && len)
		show_addr(l, &l->pend[i].s->remote, addr, len);
	memmove(&l->pend[i], &l->pend[i + 1], (size_t)(l->npend - i - 1) * sizeof(l->pend[0]));
	l->npend--;
	if (g_libc.read(fd, &b, 1) != 1) {
		/* the announcement byte: one per pending connection */
	}
	return nfd;
}

/* The path whose link (rate, queue) path p's traffic goes through. */
static int bneck(int p)
{
	int v = g_path[p].cfg.via;

	return v > 0 && v <= SIM_NPATH ? v - 1 : p;
}

static int reno(const struct ssock *s)
{
	return s->path >= 0 && g_path[s->path].cfg.reno;
}

static uint64_t in_flight(const struct ssock *s)
{
	return reno(s) ? s->pipe : s->sent - s->acked;
}

/* The one-way queueing delay at s's bottleneck now. */
static double qdelay(const struct ssock *s)
{
	const struct dirq *d = &g_path[bneck(s->path)].dir[s->dir];

	return d->free_at > g_now ? d->free_at - g_now : 0;
}

static struct tcp_info sim_tcp_info(const struct ssock *s)
{
	struct tcp_info ti;
	const struct sim_path *p = &g_path[s->path];
	double q = qdelay(s);
	double rtt = 2 * p->cfg.delay + q;
	uint64_t inflight = s->sent - s->acked;
	int unread = 0;

	memset(&ti, 0, sizeof(ti));
	ioctl(s->hfd, FIONREAD, &unread);
	ti.tcpi_state = 1; /* TCP_ESTABLISHED */
	ti.tcpi_rtt = (uint32_t)(rtt * 1e6);
	ti.tcpi_rttvar = ti.tcpi_rtt / 4;
	ti.tcpi_snd_mss = MSS;
	ti.tcpi_snd_cwnd = (uint32_t)(inflight / MSS) + 10;
	ti.tcpi_snd_ssthresh = 0x7fffffff;
	ti.tcpi_unacked = (uint32_t)((inflight + MSS - 1) / MSS);
	ti.tcpi_bytes_acked = s->acked + 1;
	ti.tcpi_data_segs_out = (uint32_t)(s->sent / MSS);
	ti.tcpi_total_retrans = s->retrans;
	ti.tcpi_notsent_bytes = (uint32_t)unread;
	ti.tcpi_delivery_rate = (uint64_t)p->cfg.rate;
	ti.tcpi_delivery_rate_app_limited = inflight < CHUNK;
	ti.tcpi_last_ack_recv = (uint32_t)((g_now - s->last_ack) * 1000);
	ti.tcpi_snd_wnd = 1u << 22;
	if (reno(s)) {
		double srtt = s->srtt > 0 ? s->srtt : rtt;
		int limited = g_now - s->climited_at <= srtt;

		ti.tcpi_rtt = (uint32_t)(srtt * 1e6);
		ti.tcpi_rttvar = ti.tcpi_rtt / 4;
		ti.tcpi_snd_cwnd = (uint32_t)(s->cwnd / MSS);
		ti.tcpi_snd_ssthresh =
		        s->ssthresh >= 1e15 ? 0x7fffffffu : (uint32_t)(s->ssthresh / MSS);
		ti.tcpi_ca_state = g_now < s->recover_until ? 3 /* TCP_CA_Recovery */ : 0;
		ti.tcpi_lost = s->lost_now;
		ti.tcpi_unacked = (uint32_t)((s->pipe + MSS - 1) / MSS);
		ti.tcpi_delivery_rate = (uint64_t)(fmin(s->cwnd, (double)s->pipe) / srtt);
		ti.tcpi_delivery_rate_app_limited = !limited;
	}
	return ti;
}

static int sim_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct ssock *s = by_fd(fd);

	if (!s) {
		if (level == IPPROTO_TCP)
			trace("getsockopt fd %d: not a simulated socket", fd);
		return g_libc.getsockopt(fd, level, name, val, len);
	}
	if (level == SOL_SOCKET && name == SO_ERROR && *len >= sizeof(int)) {
		*(int *)val = s->err;
		s->err = 0;
		*len = sizeof(int);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_INFO) {
		struct tcp_info ti;

		if (!s->connected || s->path < 0) {
			errno = ENOTCONN;
			return -1;
		}
		ti = sim_tcp_info(s);
		trace("TCP_INFO fd %d: rtt %u us, acked %llu, unacked %u", fd, ti.tcpi_rtt,
		      (unsigned long long)ti.tcpi_bytes_acked, ti.tcpi_unacked);
		if (*len > sizeof(ti))
			*len = sizeof(ti);
		memcpy(val, &ti, *len);
		return 0;
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION && getenv("SIM_TCP_CONGESTION")) {
		/* the kernel algorithm the simulated sockets claim (check_simcc:
		 * "bbr" marks them model-based for the coupled windows; the
		 * model's windows stay Reno's) */
		snprintf(val, *len, "%s", getenv("SIM_TCP_CONGESTION"));
		return 0;
	}
	memset(val, 0, *len);
	return 0;
}

static int sim_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct ssock *s = by_fd(fd);

	if (!s)
		return g_libc.setsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_LINGER && len >= sizeof(struct linger)) {
		const struct linger *lg = val;

		s->linger0 = lg->l_onoff && !lg->l_linger;
	}
	return 0;
}

static int sim_getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
	struct ssock *s = by_fd(fd);

	if (!s)
		return g_libc.getsockname(fd, a, len);
	show_addr(s, &s->local, a, len);
	return 0;
}

static int sim_getpeername(int fd, struct sockaddr *a, socklen_t *len)
{
	struct ssock *s = by_fd(fd);

	if (!s)
		return g_libc.getpeername(fd, a, len);
	if (!s->connected) {
		errno = ENOTCONN;
		return -1;
	}
	show_addr(s, &s->remote, a, len);
	return 0;
}

/* SIOCOUTQ (ccglue's mps_ccglue_room): on a simulated socket, as the kernel's, the
 * bytes written and not yet acknowledged: what the simulator has not taken
 * from the socketpair yet, and what it has in flight.  This definition
 * stands in for libc's in this binary, and the core calls it as
 * mps_real.ioctl (set below). */
int ioctl(int fd, unsigned long req, ...)
{
	struct ssock *s;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == SIOCOUTQ && (s = by_fd(fd)) && s->connected) {
		int unread = 0;

		if (syscall(SYS_ioctl, s->hfd, FIONREAD, &unread) != 0)
			unread = 0;
		*(int *)arg = unread + (int)(s->sent - s->acked);
		return 0;
	}
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

/* ------------------------------------------------------------------ host */

static unsigned if_of(const char *name)
{
	int i;

	if (!strcmp(name, "lo"))
		return 1;
	for (i = 0; i < SIM_NPATH; i++)
		if (!strcmp(name, cli_if[i]))
			return 2 + (unsigned)i;
	return 0;
}

SIM_EXPORT unsigned int if_nametoindex(const char *name)
{
	return if_of(name);
}

SIM_EXPORT char *if_indextoname(unsigned int idx, char name[IF_NAMESIZE])
{
	if (idx == 1) {
		strcpy(name, "lo");
		return name;
	}
	if (idx >= 2 && idx < 2 + SIM_NPATH) {
		strcpy(name, cli_if[idx - 2]);
		return name;
	}
	errno = ENXIO;
	return NULL;
}

struct fake_ifa {
	struct ifaddrs ifa;
	struct sockaddr_in addr, mask;
	char name[IF_NAMESIZE];
};

SIM_EXPORT int getifaddrs(struct ifaddrs **out)
{
	struct fake_ifa *f = calloc(SIM_NPATH + 1, sizeof(*f));
	int i;

	if (!f)
		return -1;
	for (i = 0; i <= SIM_NPATH; i++) {
		const char *ip = i ? cli_addr[i - 1] : "127.0.0.1";

		strcpy(f[i].name, i ? cli_if[i - 1] : "lo");
		f[i].addr.sin_family = f[i].mask.sin_family = AF_INET;
		inet_pton(AF_INET, ip, &f[i].addr.sin_addr);
		inet_pton(AF_INET, i ? "255.255.255.0" : "255.0.0.0", &f[i].mask.sin_addr);
		f[i].ifa.ifa_name = f[i].name;
		f[i].ifa.ifa_flags = IFF_UP | IFF_RUNNING | (i ? 0 : IFF_LOOPBACK);
		if (i && g_path[i - 1].st == SIM_DOWN)
			f[i].ifa.ifa_flags = 0;
		f[i].ifa.ifa_addr = (struct sockaddr *)&f[i].addr;
		f[i].ifa.ifa_netmask = (struct sockaddr *)&f[i].mask;
		f[i].ifa.ifa_next = i < SIM_NPATH ? &f[i + 1].ifa : NULL;
	}
	*out = &f[0].ifa;
	return 0;
}

SIM_EXPORT void freeifaddrs(struct ifaddrs *ifa)
{
	free(ifa);
}

/* ------------------------------------------------------------------ moving bytes */

static int path_up(int p)
{
	return g_path[p].st == SIM_UP;
}

static size_t cwnd_of(const struct ssock *s)
{
	const struct sim_path *p = &g_path[s->path];

	if (p->cfg.reno)
		return (size_t)s->cwnd;
	double bdp = p->cfg.rate * 2 * (p->cfg.delay + p->cfg.jitter);

	return (size_t)fmax(4.0 * CHUNK, fmin(2 * bdp, 8.0 * 1024 * 1024)) + p->cfg.queue;
}

/* The window model: a segment dropped (the bottleneck's queue is full, or
 * the path's seeded loss).  It arrives after a round trip more (the
 * duplicate ACKs, then the fast retransmission; its second trip is not
 * charged to the link); the window halves, once per RTT. */
static void reno_drop(struct ssock *s, struct chunk *ch, double q)
{
	const struct sim_path *p = &g_path[s->path];
	double rtt = s->srtt > 0 ? s->srtt : 2 * (p->cfg.delay + q);

	ch->lost = 1;
	ch->at = g_now + 3 * (q + p->cfg.delay);
	ch->sack_at = ch->at + p->cfg.delay;
	s->retrans++;
	s->lost_now += (ch->len + MSS - 1) / MSS;
	g_stats.retrans[s->path]++;
	if (g_now >= s->recover_until) {
		s->ssthresh = fmax(s->cwnd / 2, 2.0 * MSS);
		s->cwnd = s->ssthresh;
		s->recover_until = g_now + rtt;
		trace("path %d dir %d: drop (sock %d%s), cwnd %.0f", s->path, s->dir,
		      (int)(s - g_sock), s->greedy ? " competitor" : "", s->cwnd);
	}
}

/* The window model: the sender hears that ch arrived (a SACK or an ACK):
 * the pipe shrinks and, while the window was the limit and no recovery is
 * under way, the window grows (by the bytes in slow start, by one MSS per
 * window's worth in congestion avoidance). */
static void reno_sacked(struct ssock *s, struct chunk *ch)
{
	ch->sacked = 1;
	s->pipe -= ch->len;
	if (ch->lost) {
		uint32_t n = (ch->len + MSS - 1) / MSS;

		s->lost_now = s->lost_now > n ? s->lost_now - n : 0;
	} else {
		double sample = g_now - ch->sent_at;

		s->srtt = s->srtt > 0 ? 0.875 * s->srtt + 0.125 * sample : sample;
	}
	if (g_now < s->recover_until || g_now - s->climited_at > fmax(s->srtt, 0.001))
		return;
	if (s->cwnd < s->ssthresh)
		s->cwnd += ch->len;
	else
		s->cwnd += (double)MSS * ch->len / s->cwnd;
}

static void enqueue(struct ssock *s, const uint8_t *data, uint32_t len, int fin)
{
	struct sim_path *p = &g_path[s->path];
	struct sim_path *bp = &g_path[bneck(s->path)];
	struct dirq *d = &bp->dir[s->dir];
	struct chunk *ch = malloc(sizeof(*ch) + (data ? len : 0));
	double tx = fmax(g_now, d->free_at) + (double)len / bp->cfg.rate;

	if (!ch)
		abort();
	memset(ch, 0, sizeof(*ch));
	if (data)
		memcpy(ch->data, data, len);
	ch->len = len;
	ch->fin = fin;
	ch->sent_at = g_now;
	if (p->cfg.reno) {
		double q = qdelay(s);
		double qmax =
		        bp->cfg.queue ? (double)bp->cfg.queue : bp->cfg.rate * 2 * bp->cfg.delay;

		s->pipe += len;
		if (len &&
		    (q * bp->cfg.rate + len > qmax || (p->cfg.loss > 0 && rnd() < p->cfg.loss))) {
			reno_drop(s, ch, q);
		} else {
			d->free_at = tx;
			ch->at =
			        tx + p->cfg.delay + (p->cfg.jitter > 0 ? rnd() * p->cfg.jitter : 0);
			ch->sack_at = ch->at + p->cfg.delay;
		}
	} else {
		d->free_at = tx;
		ch->at = tx + p->cfg.delay + (p->cfg.jitter > 0 ? rnd() * p->cfg.jitter : 0);
	}
	if (!p->cfg.reno && len && p->cfg.loss > 0 && rnd() < p->cfg.loss) {
		/* lost once: the retransmission timeout, then again */
		ch->at += fmax(0.2, 4 * p->cfg.delay) + p->cfg.delay;
		s->retrans++;
		g_stats.retrans[s->path]++;
	}
	if (ch->at < s->last_at)
		ch->at = s->last_at; /* TCP delivers in order */
	s->last_at = ch->at;
	if (s->tail)
		s->tail->next = ch;
	else
		s->head = ch;
	s->tail = ch;
	if (!s->undelivered)
		s->undelivered = ch;
	s->sent += len;
}

/* What the engine wrote on s, into the path as far as the window allows. */
static int take(struct ssock *s)
{
	static uint8_t buf[1u << 20];
	size_t seg = g_path[s->path].cfg.seg ? g_path[s->path].cfg.seg : reno(s) ? MSS : CHUNK;
	int moved = 0;

	if (seg > sizeof(buf))
		seg = sizeof(buf);
	/* the receiver's window (the model's: 4 MiB not acknowledged) */
	while (!s->fin_read && in_flight(s) < cwnd_of(s) &&
	       (!reno(s) || s->sent - s->acked < (4u << 20))) {
		size_t room = cwnd_of(s) - (size_t)in_flight(s);
		ssize_t r = s->greedy ? (ssize_t)(room < seg ? room : seg) :
		                        g_libc.read(s->hfd, buf, room < seg ? room : seg);

		if (r > 0) {
			enqueue(s, s->greedy ? NULL : buf, (uint32_t)r, 0);
			moved = 1;
			if (reno(s) && in_flight(s) >= cwnd_of(s))
				s->climited_at = g_now;
			continue;
		}
		if (r == 0) {
			s->fin_read = 1;
			enqueue(s, buf, 0, 1);
			moved = 1;
		}
		break;
	}
	return moved;
}

static void reset_peer(struct ssock *s);

static void sock_close(struct ssock *s)
{
	struct chunk *ch, *n;

	if (s->hfd >= 0)
		close(s->hfd);
	s->hfd = -1;
	s->closed = 1;
	for (ch = s->head; ch; ch = n) {
		n = ch->next;
		free(ch);
	}
	s->head = s->tail = s->undelivered = NULL;
	if (s->peer && s->peer->peer == s)
		s->peer->peer = NULL;
	s->peer = NULL;
	s->used = 0;
}

/* A reset: the peer's engine sees its subflow end (an EOF here). */
static void reset_peer(struct ssock *s)
{
	struct ssock *p = s->peer;

	if (p)
		sock_close(p);
}

/* Deliver what is due from s to its peer, and take the ACKs that are back. */
static int deliver(struct ssock *s)
{
	struct ssock *p = s->peer;
	struct chunk *ch;
	int moved = 0;

	if (!path_up(s->path))
		return 0;
	if (reno(s))
		for (ch = s->head; ch; ch = ch->next)
			if (!ch->sacked && ch->sack_at <= g_now) {
				reno_sacked(s, ch);
				moved = 1;
			}
	for (ch = s->undelivered; ch; ch = ch->next) {
		if (ch->at > g_now || (!p && !s->greedy))
			break;
		if (ch->fin) {
			shutdown(p->hfd, SHUT_WR);
		} else if (s->greedy) {
			ch->off = ch->len;
			s->goodput += ch->len;
		} else {
			while (ch->off < ch->len) {
				ssize_t w = send(p->hfd, ch->data + ch->off, ch->len - ch->off,
				                 MSG_DONTWAIT | MSG_NOSIGNAL);

				if (w <= 0) {
					if (w < 0 && errno == EPIPE) {
						/* the receiver closed: TCP resets the sender */
						sock_close(s);
						return 1;
					}
					break;
				}
				ch->off += (uint32_t)w;
				g_stats.bytes[s->path] += (uint64_t)w;
				moved = 1;
			}
			if (ch->off < ch->len)
				break; /* the receiver's window is full */
		}
		ch->delivered = 1;
		s->undelivered = ch->next;
		trace("path %d dir %d: %u bytes%s delivered", s->path, s->dir, ch->len,
		      ch->fin ? " (FIN)" : "");
		ch->ack_at = g_now + g_path[s->path].cfg.delay;
		moved = 1;
	}
	while ((ch = s->head) && ch->delivered && ch->ack_at <= g_now) {
		if (reno(s) && !ch->sacked)
			reno_sacked(s, ch);
		s->acked += ch->len;
		s->last_ack = g_now;
		s->head = ch->next;
		if (!s->head)
			s->tail = NULL;
		free(ch);
		moved = 1;
	}
	return moved;
}

/* A path that works again: what waited is sent again now. */
static void retime(int path)
{
	int i;
	struct chunk *ch;

	for (i = 0; i < SIM_MAXSOCK; i++) {
		struct ssock *s = &g_sock[i];

		if (!s->used || s->path != path)
			continue;
		for (ch = s->head; ch; ch = ch->next) {
			double again = g_now + g_path[path].cfg.delay;

			if (!ch->delivered && ch->at < again)
				ch->at = again;
			if (ch->delivered && ch->ack_at < again)
				ch->ack_at = again;
		}
		if (s->last_at < g_now)
			s->last_at = g_now;
	}
}

static int pump_net(void)
{
	int j, moved = 0, shuffle = 0;
	int order[SIM_MAXSOCK];

	/* The window model: senders answer their ACKs in a seeded order each
	 * round (a fixed order would hand the first socket the room a queue
	 * frees, and the drops to the last). */
	for (j = 0; j < SIM_MAXSOCK; j++)
		order[j] = j;
	for (j = 0; j < SIM_NPATH; j++)
		shuffle |= g_path[j].cfg.reno;
	for (j = SIM_MAXSOCK - 1; shuffle && j > 0; j--) {
		int k = (int)(rnd() * (j + 1)), t = order[j];

		order[j] = order[k];
		order[k] = t;
	}
	for (j = 0; j < SIM_MAXSOCK; j++) {
		struct ssock *s = &g_sock[order[j]];
		struct pollfd pfd;

		if (s->used && s->greedy) {
			moved |= take(s);
			moved |= deliver(s);
			continue;
		}
		if (!s->used || s->hfd < 0)
			continue;
		if (s->listening) {
			int k;

			for (k = 0; k < s->npend; k++) {
				struct ssock *n = s->pend[k].s;

				if (s->pend[k].at >= 0 && s->pend[k].at <= g_now &&
				    path_up(n->path)) {
					s->pend[k].at = -1;
					if (send(s->hfd, "A", 1, MSG_DONTWAIT) == 1)
						moved = 1;
				}
			}
			continue;
		}
		if (!s->connected)
			continue;
		pfd.fd = s->hfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, 0);
		if ((pfd.revents & POLLHUP) && s->linger0 && !s->reset) {
			if (s->path >= 0 && !path_up(s->path))
				continue; /* the RST waits for the path to carry it */
			s->reset = 1;     /* closed abortively: RST */
			reset_peer(s);
			sock_close(s);
			moved = 1;
			continue;
		}
		if (s->path >= 0) {
			moved |= take(s);
			if (s->used)
				moved |= deliver(s);
		}
		if (s->used && (pfd.revents & POLLHUP) && s->fin_read && !s->head) {
			/* closed by the engine and everything delivered */
			sock_close(s);
			moved = 1;
		}
	}
	return moved;
}

void sim_path_reset(int p)
{
	int i;

	for (i = 0; i < SIM_MAXSOCK; i++) {
		struct ssock *s = &g_sock[i];

		if (s->used && s->connected && s->path == p) {
			trace("path %d: subflow reset", p);
			reset_peer(s);
			sock_close(s);
		}
	}
}

int sim_competitor(int path)
{
	int i;

	for (i = 0; i < SIM_MAXSOCK && g_sock[i].used; i++)
		;
	if (i == SIM_MAXSOCK || path < 0 || path >= SIM_NPATH)
		return -1;
	memset(&g_sock[i], 0, sizeof(g_sock[i]));
	g_sock[i].used = g_sock[i].connected = g_sock[i].greedy = 1;
	g_sock[i].hfd = -1;
	g_sock[i].family = AF_INET;
	g_sock[i].path = path;
	g_sock[i].last_ack = g_now;
	g_sock[i].cwnd = 10.0 * MSS;
	g_sock[i].ssthresh = 1e18;
	return i;
}

uint64_t sim_competitor_bytes(int n)
{
	return n >= 0 && n < SIM_MAXSOCK && g_sock[n].greedy ? g_sock[n].goodput : 0;
}

int sim_competitor_info(int n, void *info, size_t len)
{
	struct tcp_info ti;

	if (n < 0 || n >= SIM_MAXSOCK || !g_sock[n].greedy)
		return -1;
	ti = sim_tcp_info(&g_sock[n]);
	memcpy(info, &ti, len < sizeof(ti) ? len : sizeof(ti));
	return 0;
}

int sim_live_subflows(int p)
{
	int i, n = 0;

	for (i = 0; i < SIM_MAXSOCK; i++)
		if (g_sock[i].used && g_sock[i].connected && g_sock[i].path == p &&
		    g_sock[i].dir == 0 && g_sock[i].peer && !g_sock[i].fin_read &&
		    !g_sock[i].peer->fin_read)
			n++;
	return n;
}

/* ------------------------------------------------------------------ apps */

static struct sim_app *g_app[2];

/* The bytes an app writes, generated once (a greedy writer offers the same
 * 64 KiB again and again while its socket is full). */
static struct txgen {
	const struct sim_app *a;
	uint64_t seed, off, len;
	uint8_t buf[2 * 65536];
} g_txgen[2];

static const uint8_t *tx_bytes(const struct sim_app *a, size_t n)
{
	struct txgen *g = &g_txgen[a == g_app[1]];
	uint64_t k;

	if (g->a != a || g->seed != a->tx_seed || a->tx_done < g->off ||
	    a->tx_done + n > g->off + g->len) {
		g->a = a;
		g->seed = a->tx_seed;
		g->off = a->tx_done;
		g->len = a->tx_total - a->tx_done;
		if (g->len > sizeof(g->buf))
			g->len = sizeof(g->buf);
		for (k = 0; k < g->len; k++)
			g->buf[k] = sim_stream_byte(a->tx_seed, g->off + k);
	}
	return g->buf + (a->tx_done - g->off);
}

/* The hooked write's app-thread way (direct.c), on the loop's thread:
 * random sizes, so that its writes and the socketpair's interleave. */
static ssize_t direct_write(struct sim_app *a, const uint8_t *p, size_t n)
{
	struct iovec iov;
	struct mps_conn *c;

	if (!a->sock)
		return -1;
	pthread_mutex_lock(&a->sock->lock);
	c = a->sock->conn;
	pthread_mutex_unlock(&a->sock->lock);
	if (!c)
		return -1;
	iov.iov_base = (void *)p;
	iov.iov_len = 1 + (size_t)(sim_random() * (double)(n - 1));
	return (ssize_t)mps_direct_conn_write(c, &iov, 1);
}

static int pump_app(struct sim_app *a)
{
	uint8_t buf[65536];
	int moved = 0;

	if (!a || a->fd < 0)
		return 0;
	if (a->direct && g_now >= a->phase_until) {
		/* spells of each way, 50-300 ms (virtual) at random */
		a->direct_phase = !a->direct_phase;
		a->phase_until = g_now + 0.05 + 0.25 * sim_random();
	}
	while (a->tx_done < a->tx_total && !a->tx_closed) {
		size_t n = (size_t)(a->tx_total - a->tx_done);
		ssize_t w;

		if (n > sizeof(buf))
			n = sizeof(buf);
		if (a->direct_phase && sim_random() < 0.1) {
			/* now and then one through the socketpair, right
			 * before the next direct one */
			n = 1 + (size_t)(sim_random() * (double)(n - 1));
			w = send(a->fd, tx_bytes(a, n), n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0) {
				a->tx_done += (uint64_t)w;
				moved = 1;
				continue;
			}
		}
		if (a->direct_phase) {
			/* refused while the socketpair holds earlier bytes,
			 * or the send buffer is full: wait, as a blocked
			 * writer would */
			w = direct_write(a, tx_bytes(a, n), n);
			if (w <= 0)
				break;
			a->tx_done += (uint64_t)w;
			a->tx_direct += (uint64_t)w;
			moved = 1;
			continue;
		}
		w = send(a->fd, tx_bytes(a, n), n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w <= 0)
			break;
		a->tx_done += (uint64_t)w;
		moved = 1;
	}
	if (a->tx_done == a->tx_total && a->tx_close && !a->tx_closed) {
		a->tx_closed = 1;
		if (a->tx_close == 2) {
			close(a->fd);
			a->fd = -1;
			return 1;
		}
		shutdown(a->fd, SHUT_WR);
		moved = 1;
	}
	while (!a->no_read && !a->rx_eof && !a->rx_err) {
		ssize_t r = recv(a->fd, buf, sizeof(buf), MSG_DONTWAIT);
		ssize_t k;

		if (r < 0) {
			if (errno != EAGAIN)
				a->rx_err = errno;
			break;
		}
		if (r == 0) {
			a->rx_eof = 1;
			moved = 1;
			break;
		}
		for (k = 0; k < r; k++)
			if (!a->rx_bad &&
			    buf[k] != sim_stream_byte(a->rx_seed, a->rx_done + (uint64_t)k)) {
				a->rx_bad = 1;
				a->rx_bad_at = a->rx_done + (uint64_t)k;
			}
		if (a->rx_done && g_now - a->rx_at > a->rx_gap)
			a->rx_gap = g_now - a->rx_at; /* the longest wait between two reads */
		a->rx_at = g_now;
		a->rx_done += (uint64_t)r;
		moved = 1;
	}
	return moved;
}

/* ------------------------------------------------------------------ world */

static struct ev_loop *g_loop;

void sim_init(uint64_t seed)
{
	const struct sim_path_cfg def = {.rate = 10e6, .delay = 0.010};
	int i;

	if (g_loop) {
		fprintf(stderr, "simnet: one simulation per process (run Check in fork mode)\n");
		abort();
	}
	g_seed = seed;
	g_rng = seed;
	g_virtual = 1;
	mps_real_init();
	g_libc = mps_real;
	mps_real.socket = sim_socket;
	mps_real.connect = sim_connect_call;
	mps_real.accept4 = sim_accept4;
	mps_real.getsockopt = sim_getsockopt;
	mps_real.setsockopt = sim_setsockopt;
	mps_real.getsockname = sim_getsockname;
	mps_real.getpeername = sim_getpeername;
	mps_real.ioctl = ioctl;
	for (i = 0; i < SIM_NPATH; i++)
		sim_path(i, &def);
	g_loop = mps_loop_adopt();
	if (!g_loop)
		abort();
}

void sim_path(int i, const struct sim_path_cfg *cfg)
{
	const char *loss = getenv("SIM_LOSS"), *jitter = getenv("SIM_JITTER");

	g_path[i].cfg = *cfg;
	/* Exploration: every path of every test lossy or jittery (a test's
	 * own assertions may then not hold: its seed shows what happened). */
	if (loss && *loss)
		g_path[i].cfg.loss = fmax(g_path[i].cfg.loss, atof(loss));
	if (jitter && *jitter)
		g_path[i].cfg.jitter = fmax(g_path[i].cfg.jitter, atof(jitter));
}

void sim_path_state(int i, enum sim_state st)
{
	enum sim_state was = g_path[i].st;
	static const char *const name[] = {"up", "blackhole", "down"};

	if (st != was)
		trace("path %d: %s", i, name[st]);
	g_path[i].st = st;
	if (st == SIM_UP && was != SIM_UP)
		retime(i);
	if ((st == SIM_DOWN) != (was == SIM_DOWN)) {
		extern void mps_conn_on_link_event(unsigned ifindex, int up);

		mps_conn_on_link_event(2 + (unsigned)i, st != SIM_DOWN);
	}
}

int sim_connect(struct sim_app *cli, struct sim_app *srv)
{
	struct mps_conn_params p;
	struct mps_sock *cs, *ss;
	struct sockaddr_storage a, dst;
	struct ssock *c, *s, *l;
	int cfd, sfd, capp[2], sapp[2];

	/* The server's listening socket for port 80 (its first subflows). */
	if (!find_listener(SRV_PORT)) {
		int lfd = sim_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		set_addr(&a, SRV_ADDR, SRV_PORT);
		bind(lfd, (struct sockaddr *)&a, sizeof(struct sockaddr_in));
		listen(lfd, 16);
	}
	l = find_listener(SRV_PORT);
	c = ssock_new(AF_INET, SOCK_NONBLOCK | SOCK_CLOEXEC, &cfd);
	if (!c)
		return -1;
	set_addr(&a, cli_addr[0], 0);
	bind(cfd, (struct sockaddr *)&a, sizeof(struct sockaddr_in));
	set_addr(&dst, SRV_ADDR, SRV_PORT);
	s = link_pair(c, 0, &dst, &sfd);
	(void)l;
	if (!s || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, capp) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sapp))
		return -1;
	mps_grow_pair_buffer(capp[0]);
	mps_grow_pair_buffer(capp[1]);
	mps_grow_pair_buffer(sapp[0]);
	mps_grow_pair_buffer(sapp[1]);

	cs = mps_sock_new(AF_INET);
	ss = mps_sock_new(AF_INET);
	if (!cs || !ss)
		return -1;
	memcpy(&cs->peer, &dst, sizeof(struct sockaddr_in));
	cs->peer_len = sizeof(struct sockaddr_in);
	memcpy(&cs->local, &c->local, sizeof(struct sockaddr_in));
	cs->local_len = sizeof(struct sockaddr_in);
	memcpy(&ss->peer, &c->local, sizeof(struct sockaddr_in));
	ss->peer_len = sizeof(struct sockaddr_in);
	memcpy(&ss->local, &s->local, sizeof(struct sockaddr_in));
	ss->local_len = sizeof(struct sockaddr_in);
	atomic_store(&cs->state, MPS_SS_CONNECTED);
	atomic_store(&ss->state, MPS_SS_CONNECTED);
	atomic_store(&cs->connect_told, 1);
	atomic_store(&ss->connect_told, 1);

	memset(&p, 0, sizeof(p));
	p.role = MPS_SERVER;
	p.tcp_fd = sfd;
	p.shim_fd = sapp[1];
	p.app_dup = -1;
	p.sock = ss;
	if (mps_conn_start(&p))
		return -1;
	memset(&p, 0, sizeof(p));
	p.role = MPS_CLIENT;
	p.tcp_fd = cfd;
	p.shim_fd = capp[1];
	p.app_dup = -1;
	p.sock = cs;
	if (mps_conn_start(&p))
		return -1;
	memset(cli, 0, sizeof(*cli));
	memset(srv, 0, sizeof(*srv));
	/* the references mps_sock_new gave: sim_finish puts them */
	cli->sock = g_app_sock[0] = cs;
	srv->sock = g_app_sock[1] = ss;
	cli->fd = capp[0];
	srv->fd = sapp[0];
	g_app[0] = cli;
	g_app[1] = srv;
	return 0;
}

int sim_run(double secs, int (*done)(void *), void *arg)
{
	double end = g_now + secs;

	for (;;) {
		int round;

		for (round = 0; round < 64; round++) {
			int moved = 0;

			ev_run(g_loop, EVRUN_NOWAIT);
			if (fabs(ev_now(g_loop) - (REALTIME_BASE + g_now)) > 0.0015)
				trace("libev's clock is off: %.6f", ev_now(g_loop) - REALTIME_BASE);
			moved |= pump_net();
			moved |= pump_app(g_app[0]);
			moved |= pump_app(g_app[1]);
			if (!moved)
				break;
		}
		ev_run(g_loop, EVRUN_NOWAIT);
		if (done && done(arg))
			return 1;
		if (g_now >= end)
			return 0;
		g_now += TICK;
	}
}
