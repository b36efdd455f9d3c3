/* join.c - the server side of MP_JOIN (RFC 8684 §3.2, in-band).
 *
 * Each process that owns multipath server connections runs one join
 * listener: a wildcard TCP listener on an ephemeral port, or the first
 * free one of MPTCPSHIM_JOIN_PORTS (IPv6 dual-stack
 * when the host has IPv6), announced to clients in ADD_ADDR frames.  Joins
 * never reach the app's own listener, so the app never sees them, and in
 * every process model (fork per connection, pre-forked workers,
 * SO_REUSEPORT groups) a join lands in the process whose token table holds
 * the connection it names.  See docs/DESIGN.md "Joins".
 *
 * A join is verified before it is attached: JOIN (known token) -> JOIN_ACK
 * (our nonce and truncated HMAC) -> JOIN_OK (the client's HMAC, checked).
 * Anything else closes that subflow alone, with the reason and the peer's
 * address logged; the connection it named is not affected, and a join never
 * falls back to plain TCP. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine_types.h"
#include "join_int.h"
#include "subflow_int.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/joinguard.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"
#include "mptcpshim/stat.h"

/* Joins for a connection offered or handed to a forked child (handover
 * code, registered by the engine with mps_join_set_handover): join.c never
 * calls up by name.  Until then, none is. */
static int no_defer(struct ev_loop *loop, struct mps_subflow *sf, uint32_t token)
{
	(void)loop;
	(void)sf;
	(void)token;
	return 0;
}
static void no_gone(struct mps_subflow *sf) { (void)sf; }
static int no_handed(uint32_t token, char *why, size_t len)
{
	(void)token;
	(void)why;
	(void)len;
	return 0;
}
static const struct mps_join_handover g_no_ho = {
	.defer = no_defer, .gone = no_gone, .handed = no_handed};
static const struct mps_join_handover *g_ho = &g_no_ho;

void mps_join_set_handover(const struct mps_join_handover *ho) { g_ho = ho ? ho : &g_no_ho; }

/* Unverified joins wait in a bounded table; joinguard.c decides which
 * one makes room for a newcomer (docs/DESIGN.md "Joins under attack"). */
#define ACCEPT_BUDGET 64 /* accepts per readiness: pending joins' reads run between */

static struct {
	int fd4, fd6; /* -1 when not open; fd6 is dual-stack */
	uint16_t port4, port6;
	int tried4, tried6;
	ev_io io4, io6;
	struct mps_subflow *pending[MPS_JG_MAX];
	struct mps_jg_slot slot[MPS_JG_MAX];
	int npending;
	uint64_t seq;
	double evict_logged;  /* ev_now of the last eviction warn line */
	unsigned evict_quiet; /* evictions since, not logged at warn */
} g = {.fd4 = -1, .fd6 = -1};

void mps_join_atfork_child(void)
{
	/* The parent's listener and pending joins stay the parent's (its
	 * descriptors are closed here by fdtab): a connection this child
	 * accepts later gets a listener, and a port, of its own. */
	g.fd4 = g.fd6 = -1;
	g.tried4 = g.tried6 = 0;
	g.port4 = g.port6 = 0;
	g.npending = 0;
}

static int pending_find(const struct mps_subflow *sf)
{
	int i;

	for (i = 0; i < g.npending; i++)
		if (g.pending[i] == sf)
			return i;
	return -1;
}

static void pending_del(struct mps_subflow *sf)
{
	int i = pending_find(sf);

	if (i < 0)
		return;
	g.npending--;
	g.pending[i] = g.pending[g.npending];
	g.slot[i] = g.slot[g.npending];
}

void mps_join_drop(struct ev_loop *loop, struct mps_subflow *sf, const char *why)
{
	mps_warn("join from %s rejected: %s", sf->peer_str, why);
	mps_stat(sf->c, sf, MPS_MIB_SF_REJECTED, 1);
	pending_del(sf);
	g_ho->gone(sf);
	mps_sf_free(loop, sf, 1);
}

/* A join for a connection this process handed to a forked child (which
 * announced its own port): closed, not an attack nor an error. */
static void join_drop_handed(struct ev_loop *loop, struct mps_subflow *sf, const char *why)
{
	mps_info("join from %s closed: %s", sf->peer_str, why);
	pending_del(sf);
	g_ho->gone(sf);
	mps_sf_free(loop, sf, 1);
}

/* Room for one more join from src: evict as joinguard says.  A victim
 * still waiting for its JOIN is read first: if its JOIN is already in the
 * socket, it is looked at (and may be verified, then spared) rather than
 * evicted unread. */
static void make_room(struct ev_loop *loop, const struct mps_jg_src *src)
{
	int tries, v;

	for (tries = 0; tries < 4; tries++) {
		struct mps_subflow *sf;
		char why[160];

		v = mps_jg_victim(g.slot, (size_t)g.npending, src, MPS_JG_MAX, MPS_JG_PER_SRC);
		if (v == MPS_JG_ADMIT)
			return;
		sf = g.pending[v];
		if (tries < 3 && sf->state == SF_JOIN_WAIT) {
			mps_join_on_read(loop, sf);
			if (pending_find(sf) < 0 || sf->state != SF_JOIN_WAIT)
				continue; /* dropped, or verified: decide again */
		}
		/* A flood of unverified joins evicts one per newcomer: one warn
		 * line a second, with how many went unlogged since. */
		if (ev_now(loop) - g.evict_logged >= 1.0) {
			if (g.evict_quiet)
				snprintf(why, sizeof(why),
				         "evicted (%d joins pending, a newer one arrived; "
				         "%u more evicted unlogged since the last line)",
				         g.npending, g.evict_quiet);
			else
				snprintf(why, sizeof(why),
				         "evicted (%d joins pending, a newer one arrived)", g.npending);
			g.evict_logged = ev_now(loop);
			g.evict_quiet = 0;
			mps_join_drop(loop, sf, why);
		} else {
			g.evict_quiet++;
			mps_dbg("join from %s rejected: evicted", sf->peer_str);
			pending_del(sf);
			g_ho->gone(sf); /* (it may wait for a hand-over's decision) */
			mps_sf_free(loop, sf, 1);
		}
		return;
	}
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	int budget;

	for (budget = 0; budget < ACCEPT_BUDGET; budget++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		struct mps_subflow *sf;
		struct mps_jg_src src;
		int fd, got;

		mps_alloc_shim(1);
		fd = mps_real.accept4(w->fd, (struct sockaddr *)&peer, &plen,
		                      SOCK_NONBLOCK | SOCK_CLOEXEC);
		got = fd >= 0;
		if (got)
			fd = mps_ifd_take(fd, 0); /* out of the app's range */
		mps_alloc_shim(0);
		if (!got)
			return; /* EAGAIN, or a transient error: the next readiness retries */
		if (fd < 0)
			continue; /* no room: the peer's join fails, its connection goes on */
		mps_jg_src_of((struct sockaddr *)&peer, &src);
		make_room(loop, &src);
		if (g.npending >= MPS_JG_MAX) { /* cannot happen: make_room evicts */
			mps_ifd_close(fd);
			continue;
		}
		sf = mps_sf_alloc(loop, fd, SF_JOIN_WAIT);
		if (!sf) {
			mps_ifd_close(fd);
			continue;
		}
		sf->remote = peer;
		mps_unmap_v4(&sf->remote);
		mps_addr_str(&sf->remote, sf->peer_str, sizeof(sf->peer_str));
		plen = sizeof(sf->local);
		mps_real.getsockname(fd, (struct sockaddr *)&sf->local, &plen);
		mps_unmap_v4(&sf->local);
		g.pending[g.npending] = sf;
		g.slot[g.npending].src = src;
		g.slot[g.npending].seq = g.seq++;
		g.slot[g.npending].verified = 0;
		g.npending++;
		ev_io_start(loop, &sf->rio);
		/* The client sends JOIN as soon as its connect completes: it
		 * is due about one RTT after the handshake. */
		sf->rtt_us = mps_sf_tcp_rtt_us(fd);
		ev_timer_set(&sf->jtimer, mps_jg_first_timeout_us(sf->rtt_us) / 1e6, 0.);
		ev_timer_start(loop, &sf->jtimer);
	}
	/* budget spent: libev calls again while connections wait, after
	 * the pending joins' own reads */
	(void)revents;
}

/* A listening socket on port (0: ephemeral), or -1 with errno set. */
static int listen_on(int family, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = mps_real.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP), zero = 0,
	    one = 1, e;

	if (fd < 0)
		return -1;
	fd = mps_ifd_take(fd, 1); /* out of the app's range */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET6) {
		/* Dual-stack: IPv4 joins arrive as v4-mapped addresses. */
		mps_real.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		len = sizeof(struct sockaddr_in);
	}
	/* a fixed port: a previous process's joins may linger in TIME_WAIT */
	if (port)
		mps_real.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
		e = errno;
		mps_ifd_close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The join listener: on the first free port of MPTCPSHIM_JOIN_PORTS (a
 * firewall admits that range; another process of ours may hold a port of
 * it: each process has its own listener), else on an ephemeral port. */
static int open_listener(int family, uint16_t *port)
{
	const struct mps_config *cfg = mps_config();
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned p;
	int fd = -1;

	if (cfg->join_port_lo) {
		for (p = cfg->join_port_lo; p <= cfg->join_port_hi && fd < 0; p++)
			if ((fd = listen_on(family, p)) < 0 && errno != EADDRINUSE)
				break;
		if (fd < 0)
			mps_warn("join: no free port in MPTCPSHIM_JOIN_PORTS=%u-%u (%s): using an "
				 "ephemeral one, which a firewall may block",
				 cfg->join_port_lo, cfg->join_port_hi, strerror(errno));
	}
	if (fd < 0 && (fd = listen_on(family, 0)) < 0)
		return -1;
	len = sizeof(ss);
	if (mps_real.getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		mps_ifd_close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Where a verified join goes (path.c's mps_conn_attach_join, registered by
 * the engine with mps_join_set_attach): join.c never calls up by name. */
static void (*g_join_attach)(struct mps_conn *c, struct mps_subflow *sf);

void mps_join_set_attach(void (*attach)(struct mps_conn *c, struct mps_subflow *sf))
{
	g_join_attach = attach;
}

uint16_t mps_join_port(struct ev_loop *loop, int family)
{
	if (g.fd6 < 0 && !g.tried6) {
		g.tried6 = 1;
		g.fd6 = open_listener(AF_INET6, &g.port6);
		if (g.fd6 >= 0) {
			ev_io_init(&g.io6, on_accept, g.fd6, EV_READ);
			ev_io_start(loop, &g.io6);
			ev_unref(loop);
			mps_dbg("join: listening on port %u (IPv6, dual-stack)", g.port6);
		}
	}
	if (g.fd6 >= 0)
		return g.port6;
	if (family == AF_INET6)
		return 0;
	if (g.fd4 < 0 && !g.tried4) {
		g.tried4 = 1;
		g.fd4 = open_listener(AF_INET, &g.port4);
		if (g.fd4 >= 0) {
			ev_io_init(&g.io4, on_accept, g.fd4, EV_READ);
			ev_io_start(loop, &g.io4);
			ev_unref(loop);
			mps_dbg("join: listening on port %u (IPv4)", g.port4);
		}
	}
	return g.fd4 >= 0 ? g.port4 : 0;
}

/* JOIN: a known token gets our nonce and truncated HMAC. */
static int on_join(struct ev_loop *loop, struct mps_subflow *sf, const struct mps_frame *f)
{
	struct mps_conn *c = mps_token_find(f->u.join.token);
	struct mps_join_ack ja;
	uint8_t mac[32], fr[MPS_JOIN_ACK_LEN];
	char why[64];

	if (!c && g_ho->handed(f->u.join.token, why, sizeof(why))) {
		join_drop_handed(loop, sf, why);
		return -1;
	}
	if (!c || mps_conn_closed(c)) {
		snprintf(why, sizeof(why), "unknown token %08x", f->u.join.token);
		mps_join_drop(loop, sf, why);
		return -1;
	}
	sf->token = f->u.join.token;
	sf->nonce_remote = f->u.join.nonce;
	sf->remote_id = f->u.join.addr_id;
	sf->backup = (f->u.join.jflags & MPS_JF_BACKUP) != 0;
	{
		uint64_t n = 0;

		if (mps_crypto_new_key(&n)) {
			mps_join_drop(loop, sf, "no randomness for a nonce");
			return -1;
		}
		sf->nonce_local = (uint32_t)n;
	}
	/* RFC 8684 §3.2's order (R_B||R_A, B = server), keyed by our join key
	 * from the X25519 schedule (DESIGN §10): the keys never travel. */
	mps_crypto_join_hmac_k(c->kex.keys.join_key_s, sf->nonce_local, sf->nonce_remote, mac);
	ja.nonce = sf->nonce_local;
	ja.hmac = mps_get64(mac);
	mps_frame_put_join_ack(fr, &ja);
	/* A fresh socket's buffer always takes 16 bytes. */
	if (mps_real.send(sf->fd, fr, sizeof(fr), MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(fr)) {
		mps_join_drop(loop, sf, "cannot send JOIN_ACK");
		return -1;
	}
	mps_sf_set_state(sf, SF_JOIN_ACKED);
	{
		int i = pending_find(sf);

		if (i >= 0)
			g.slot[i].verified = 1;
	}
	/* a known token: the rest of the join gets the usual deadline */
	ev_timer_stop(loop, &sf->jtimer);
	ev_timer_set(&sf->jtimer, JOIN_TIMEOUT, 0.);
	ev_timer_start(loop, &sf->jtimer);
	return 0;
}

/* JOIN_OK: the client proves it knows both keys; then the subflow joins. */
static int on_join_ok(struct ev_loop *loop, struct mps_subflow *sf, const struct mps_frame *f)
{
	struct mps_conn *c = mps_token_find(sf->token);
	uint8_t mac[32];
	char why[64];

	if (!c && g_ho->handed(sf->token, why, sizeof(why))) {
		join_drop_handed(loop, sf, why);
		return -1;
	}
	if (!c || mps_conn_closed(c)) {
		mps_join_drop(loop, sf, "its connection ended during the join");
		return -1;
	}
	mps_crypto_join_hmac_k(c->kex.keys.join_key_c, sf->nonce_remote, sf->nonce_local, mac);
	if (memcmp(mac, f->u.join_ok, MPS_JOIN_OK_BODY) != 0) {
		mps_join_drop(loop, sf, "wrong HMAC in JOIN_OK");
		return -1;
	}
	pending_del(sf);
	ev_timer_stop(loop, &sf->jtimer);
	g_join_attach(c, sf);
	return 1;
}

void mps_join_on_read(struct ev_loop *loop, struct mps_subflow *sf)
{
	ssize_t r;

	do
		r = mps_real.recv(sf->fd, sf->rbuf + sf->rlen, RBUF_SIZE - sf->rlen, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if (sf->roff >= sf->rlen)
			return;
		/* a join deferred by handover.c, read again: its frames wait */
	} else if (r <= 0) {
		mps_join_drop(loop, sf, r == 0 ? "closed during the join" : strerror(errno));
		return;
	} else {
		sf->rlen += (size_t)r;
		sf->rx_bytes += (uint64_t)r;
	}
	while (sf->roff < sf->rlen) {
		struct mps_frame f;
		const char *why = NULL;
		char msg[96];
		int rc = mps_frame_decode(sf->rbuf + sf->roff, sf->rlen - sf->roff, &f, &why);

		if (rc == 0)
			return;
		if (rc < 0) {
			snprintf(msg, sizeof(msg), "malformed: %s", why);
			mps_join_drop(loop, sf, msg);
			return;
		}
		/* its connection is being offered to a forked child: wait */
		if ((sf->state == SF_JOIN_WAIT && f.type == MPS_F_JOIN &&
		     g_ho->defer(loop, sf, f.u.join.token)) ||
		    (sf->state == SF_JOIN_ACKED && f.type == MPS_F_JOIN_OK &&
		     g_ho->defer(loop, sf, sf->token)))
			return;
		if (sf->state == SF_JOIN_WAIT && f.type == MPS_F_JOIN) {
			sf->roff += (size_t)rc;
			if (on_join(loop, sf, &f))
				return;
			continue;
		}
		if (sf->state == SF_JOIN_ACKED && f.type == MPS_F_JOIN_OK) {
			sf->roff += (size_t)rc;
			on_join_ok(loop, sf, &f); /* attached (data may follow) or dropped */
			return;
		}
		snprintf(msg, sizeof(msg), "unexpected %s frame during the join",
			 mps_frame_type_name(f.type));
		mps_join_drop(loop, sf, msg);
		return;
	}
}
