/* main.c - mptcpshim-proxy: a local SOCKS5 (RFC 1928) and HTTP CONNECT
 * proxy for the programs LD_PRELOAD cannot reach (Go programs, static
 * binaries, io_uring users).  `mptcpshim proxy` runs it with
 * libmptcpshim preloaded, so the connections it opens are multipath to
 * destinations that run mptcpshim; the clients themselves need nothing but
 * ALL_PROXY / HTTPS_PROXY.
 *
 * A thread per connection with non-blocking sockets and poll(): simple and
 * correct at a local proxy's scale (docs/DESIGN.md "Local proxy").  The
 * request is parsed by src/socks.c; the destination is reached through
 * mps_upstream_open() (upstream.c), the one place a gateway upstream will
 * plug in.  This program uses nothing of the preload library's engine. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <link.h>
#include <linux/sockios.h>

#include "mptcpshim/socks.h"
#include "acceptloop.h"
#include "pxutil.h"
#include "relay.h"
#include "upstream.h"

#define FDS_PER_CONN 8 /* under the library: app end + shim end + subflows, both sides */

static struct {
	int verbose;
	int max_conns;
	int hs_timeout_ms;
	int connect_timeout_ms;
} g_opt = {0, 1024, 10000, 30000};

static atomic_int g_active;
static int g_sigpipe[2] = {-1, -1};

/* --- log: one write() per line on stderr ------------------------------------ */
static void plog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void plog(const char *fmt, ...)
{
	char line[768];
	int n, m, saved = errno;
	va_list ap;

	n = snprintf(line, sizeof(line), "mptcpshim-proxy[%d]: ", (int)getpid());
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

/* --- one connection ----------------------------------------------------------- */
struct pconn {
	int cfd; /* the client */
	struct sockaddr_storage peer;
	char name[64]; /* the client, for log lines */
};

static void *conn_main(void *arg)
{
	struct pconn *pc = arg;
	struct mps_proxy px;
	uint8_t buf[MPS_PROXY_HTTP_MAX + 512];
	size_t have = 0;
	long long deadline = mps_px_now_ms() + g_opt.hs_timeout_ms;
	char dest[320], reply[MPS_PROXY_REPLY_MAX];
	enum mps_proxy_status st = MPS_PXS_MORE;
	uint8_t result;
	int u, err;
	long long t0;
	size_t rlen;
	const char *how = "";

	mps_proxy_init(&px);
	fcntl(pc->cfd, F_SETFL, fcntl(pc->cfd, F_GETFL) | O_NONBLOCK);
	/* The request, within the handshake timeout. */
	for (;;) {
		struct pollfd pf = {.fd = pc->cfd, .events = POLLIN};
		long long left = deadline - mps_px_now_ms();
		ssize_t r;

		if (left <= 0) {
			plog("%s: no complete request within %d s: dropped", pc->name,
			     g_opt.hs_timeout_ms / 1000);
			close(pc->cfd);
			goto done;
		}
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		r = recv(pc->cfd, buf + have, sizeof(buf) - have, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			if (g_opt.verbose || have)
				plog("%s: closed before its request was complete", pc->name);
			close(pc->cfd);
			goto done;
		}
		have += (size_t)r;
		for (;;) {
			st = mps_proxy_input(&px, buf, have);
			if (st != MPS_PXS_REPLY)
				break;
			if (mps_send_all(pc->cfd, px.reply, px.reply_len, deadline)) {
				close(pc->cfd);
				goto done;
			}
			memmove(buf, buf + px.consumed, have - px.consumed);
			have -= px.consumed;
		}
		if (st == MPS_PXS_READY)
			break;
		if (st == MPS_PXS_ERROR) {
			plog("%s: refused: %s", pc->name, px.why ? px.why : "bad request");
			if (px.reply_len)
				mps_send_all(pc->cfd, px.reply, px.reply_len, mps_px_now_ms() + 1000);
			mps_close_after_reply(pc->cfd);
			goto done;
		}
		if (have == sizeof(buf)) { /* the parser bounds requests below this */
			plog("%s: request too long", pc->name);
			close(pc->cfd);
			goto done;
		}
	}
	mps_gwreq_dest_str(&px.dest, dest, sizeof(dest));
	t0 = mps_px_now_ms();
	u = mps_upstream_open(&px.dest, g_opt.connect_timeout_ms, &result, &err, &how);
	if (px.kind == MPS_PX_SOCKS5) {
		rlen = mps_socks_reply((uint8_t *)reply,
		                       mps_socks_rep_of_result(u >= 0 ? MPS_GWR_OK : result));
	} else {
		rlen = mps_http_reply(reply, sizeof(reply), u >= 0 ? MPS_GWR_OK : result);
	}
	if (u < 0) {
		plog("%s -> %s: %s%s%s, %s", pc->name, dest, mps_gwreq_result_name(result),
		     err ? ": " : "", err ? strerror(err) : "", how);
		mps_send_all(pc->cfd, reply, rlen, mps_px_now_ms() + 1000);
		mps_close_after_reply(pc->cfd);
		goto done;
	}
	if (g_opt.verbose)
		plog("%s -> %s: connected in %lld ms (%s), %s", pc->name, dest, mps_px_now_ms() - t0,
		     px.kind == MPS_PX_SOCKS5 ? "SOCKS5" : "HTTP CONNECT", how);
	if (mps_send_all(pc->cfd, reply, rlen, mps_px_now_ms() + g_opt.hs_timeout_ms)) {
		close(pc->cfd);
		mps_abort_fd(u);
		goto done;
	}
	mps_relay(pc->cfd, u, pc->name, dest, buf + px.consumed, have - px.consumed, g_opt.verbose,
	          plog);
done:
	free(pc);
	atomic_fetch_sub(&g_active, 1);
	return NULL;
}

/* An accepted client: its thread's argument (acceptloop.h). */
static void *proxy_admit(int cfd, const struct sockaddr_storage *peer, const char *name)
{
	struct pconn *pc = calloc(1, sizeof(*pc));

	if (!pc) {
		plog("%s: dropped: out of memory", name);
		mps_abort_fd(cfd);
		return NULL;
	}
	pc->cfd = cfd;
	pc->peer = *peer;
	snprintf(pc->name, sizeof(pc->name), "%s", name);
	return pc;
}

/* --- start-up ---------------------------------------------------------------------- */
static void usage(FILE *f)
{
	fprintf(f, "Usage: mptcpshim [OPTIONS] proxy [--listen ADDR:PORT] [--allow-remote]\n"
	           "                 [--max-conns N] [--handshake-timeout SECS]\n"
	           "                 [--connect-timeout SECS] [--verbose]\n"
	           "A local SOCKS5 and HTTP CONNECT proxy whose connections are multipath\n"
	           "(run it through `mptcpshim proxy`, which preloads the library).\n\n"
	           "  --listen ADDR:PORT       where to listen (default 127.0.0.1:1080;\n"
	           "                           IPv6 as [::1]:1080)\n"
	           "  --allow-remote           allow a non-loopback listen address (an open\n"
	           "                           proxy is an open relay: firewall it)\n"
	           "  --max-conns N            concurrent connections at most (default 1024)\n"
	           "  --handshake-timeout SECS drop a client whose request is not complete\n"
	           "                           after SECS (default 10)\n"
	           "  --connect-timeout SECS   give up a destination after SECS (default 30)\n"
	           "  -v, --verbose            log every connection\n"
	           "  -h, --help               this help\n"
	           "See mptcpshim(1).\n");
}

/* ADDR:PORT, [V6]:PORT or PORT (on 127.0.0.1), numeric only. 0 or -1. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':'), *port = s;
	size_t hl;
	int p;
	char *end;

	memset(ss, 0, sizeof(*ss));
	if (colon) {
		port = colon + 1;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, s, hl);
		host[hl] = '\0';
	} else {
		strcpy(host, "127.0.0.1");
	}
	errno = 0;
	p = (int)strtol(port, &end, 10);
	if (errno || end == port || *end || p < 1 || p > 65535)
		return -1;
	if (host[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		hl = strlen(host);
		if (hl < 3 || host[hl - 1] != ']')
			return -1;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*len = sizeof(*in);
	}
	return 0;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

static int find_shim(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libmptcpshim")) {
		*(int *)data = 1;
		return 1;
	}
	return 0;
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

int main(int argc, char **argv)
{
	const char *listen_s = "127.0.0.1:1080";
	int allow_remote = 0, lfd, one = 1, shim = 0;
	struct sockaddr_storage la;
	socklen_t lalen = 0;
	struct sigaction sa;
	char lname[80];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t n = strcspn(a, "=");

		if (a[n] == '=')
			v = a + n + 1;
#define OPT(name) (strncmp(a, name, n) == 0 && strlen(name) == n)
#define VAL()                                                                                     \
	(v ? v :                                                                                  \
	     (i + 1 < argc ? argv[++i] :                                                          \
	                     (fprintf(stderr, "mptcpshim-proxy: %s needs a value\n", a), exit(2), \
	                      (const char *)NULL)))
		if (OPT("--listen")) {
			listen_s = VAL();
		} else if (OPT("--allow-remote") && !v) {
			allow_remote = 1;
		} else if (OPT("--max-conns")) {
			g_opt.max_conns = mps_px_parse_int("mptcpshim-proxy", "--max-conns", VAL(),
			                                   1, 100000);
		} else if (OPT("--handshake-timeout")) {
			g_opt.hs_timeout_ms =
			        1000 * mps_px_parse_int("mptcpshim-proxy", "--handshake-timeout",
			                                VAL(), 1, 3600);
		} else if (OPT("--connect-timeout")) {
			g_opt.connect_timeout_ms =
			        1000 * mps_px_parse_int("mptcpshim-proxy", "--connect-timeout",
			                                VAL(), 1, 3600);
		} else if ((OPT("-v") || OPT("--verbose")) && !v) {
			g_opt.verbose = 1;
		} else if ((OPT("-h") || OPT("--help")) && !v) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mptcpshim-proxy: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
#undef OPT
#undef VAL
	}
	if (parse_listen(listen_s, &la, &lalen)) {
		fprintf(stderr,
		        "mptcpshim-proxy: --listen '%s': expected ADDR:PORT, [IPV6]:PORT or PORT "
		        "(numeric)\n",
		        listen_s);
		return 2;
	}
	mps_px_addr_str(&la, lname, sizeof(lname));
	/* An open SOCKS or HTTP CONNECT proxy is an open relay: anyone who can
	 * reach it connects anywhere as this host (and into its networks),
	 * and there is no authentication but "none".  Loopback only, unless
	 * asked. */
	if (!is_loopback(&la) && !allow_remote) {
		fprintf(stderr,
		        "mptcpshim-proxy: refusing to listen on %s: not a loopback address. "
		        "The proxy has no authentication, so anyone who can reach it could relay "
		        "connections through this host (an open relay). Pass --allow-remote to do "
		        "it anyway, behind a firewall.\n",
		        lname);
		return 2;
	}
	if (!is_loopback(&la))
		plog("warning: listening on %s, not loopback (--allow-remote): anyone who can "
		     "reach it can relay through this host",
		     lname);

	dl_iterate_phdr(find_shim, &shim);
	if (!shim)
		plog("warning: libmptcpshim is not preloaded: connections are plain TCP "
		     "(start the proxy with `mptcpshim proxy`)");

	/* Descriptors: about FDS_PER_CONN per connection under the library. */
	g_opt.max_conns = mps_px_fit_nofile(g_opt.max_conns, FDS_PER_CONN, plog);

	if (pipe2(g_sigpipe, O_CLOEXEC | O_NONBLOCK)) {
		plog("pipe: %s", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	lfd = socket(la.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&la, lalen) || listen(lfd, 128)) {
		plog("cannot listen on %s: %s", lname, strerror(errno));
		return 1;
	}
	plog("listening on %s (SOCKS5 and HTTP CONNECT, at most %d connections)%s", lname,
	     g_opt.max_conns, shim ? ", multipath through libmptcpshim" : "");

	{
		struct mps_accept_loop al = {.lfd = lfd,
		                             .stopfd = g_sigpipe[0],
		                             .max_conns = g_opt.max_conns,
		                             .active = &g_active,
		                             .log = plog,
		                             .admit = proxy_admit,
		                             .drop = free,
		                             .serve = conn_main};

		/* Stopping: the relayed connections are reset at both ends
		 * (relay.h), so a client reads an error, never an EOF that
		 * passes a truncated stream for a complete one (the library
		 * would otherwise finish the upstream gracefully). */
		if (mps_accept_loop_run(&al) > 0)
			plog("%d relayed connection(s) reset", mps_relay_abort_all());
	}
	close(lfd);
	close(g_sigpipe[0]);
	close(g_sigpipe[1]);
	return 0;
}
