/* path.c - which paths a connection uses (shim thread only).
 *
 * The client's path manager (mps_path_pm_fill: which subflows to open, from which
 * local address to which announced one) and the join handshake of the
 * subflows it opens; the attaching of verified joins; path events from
 * netmon.c (addresses and links coming and going).  ADD_ADDR and
 * REMOVE_ADDR (the server's announcements, the client's record of them)
 * are pm_addr.c's, the address policy itself (which local addresses count)
 * pm.c's.  It asks the connection through conn_api.h.  Functions used by
 * the other engine files are declared in conn_int.h, those it shares with
 * pm_addr.c in path_int.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_api.h"
#include "conn_int.h"
#include "join_int.h"
#include "steer_int.h"
#include "subflow_int.h"
#include "path_int.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/log.h"
#include "mptcpshim/pm.h"
#include "mptcpshim/real.h"
#include "mptcpshim/set.h"
#include "mptcpshim/util.h"
#include "mptcpshim/stat.h"

/* ------------------------------------------------------------- addresses */

int mps_path_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		               &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return 0;
}

static unsigned sa_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

/* An IPv4-mapped IPv6 address (dual-stack sockets) as plain IPv4. */
int mps_path_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

static unsigned g_la_gen; /* bumped at every netmon link or address event */

/* The interface that holds local address ss, or 0.  Asked once per
 * connection (both sides): the answers are cached like the local
 * addresses (local_addrs_cached), for at most half a second and until the next
 * netmon event, so a burst of connections makes one getifaddrs. */
#define IFX_CACHE 8
static struct {
	struct sockaddr_storage a;
	unsigned idx, gen;
	uint64_t at_us;
} g_ifx[IFX_CACHE];
static unsigned g_ifx_next;

static unsigned ifindex_lookup(const struct sockaddr_storage *ssp);

unsigned mps_path_ifindex_of(const struct sockaddr_storage *ss)
{
	struct sockaddr_storage a = *ss;
	unsigned idx, k;
	uint64_t now = mps_now_us();

	mps_unmap_v4(&a);
	for (k = 0; k < IFX_CACHE; k++)
		if (g_ifx[k].at_us && g_ifx[k].gen == g_la_gen && now - g_ifx[k].at_us < 500000u &&
		    mps_path_same_addr(&g_ifx[k].a, &a))
			return g_ifx[k].idx;
	idx = ifindex_lookup(&a);
	k = g_ifx_next++ % IFX_CACHE;
	g_ifx[k].a = a;
	g_ifx[k].idx = idx;
	g_ifx[k].gen = g_la_gen;
	g_ifx[k].at_us = now;
	return idx;
}

static unsigned ifindex_lookup(const struct sockaddr_storage *ssp)
{
	struct sockaddr_storage a = *ssp;
	struct ifaddrs *ifs, *i;
	unsigned idx = 0;

	mps_alloc_shim(1); /* libc's sockets: see mps_pm_local_addrs */
	if (getifaddrs(&ifs) != 0) {
		mps_alloc_shim(0);
		return 0;
	}
	for (i = ifs; i && !idx; i = i->ifa_next) {
		struct sockaddr_storage b;

		if (!i->ifa_addr || i->ifa_addr->sa_family != a.ss_family)
			continue;
		memset(&b, 0, sizeof(b));
		memcpy(&b, i->ifa_addr,
		       a.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		                                sizeof(struct sockaddr_in6));
		if (mps_path_same_addr(&a, &b))
			idx = if_nametoindex(i->ifa_name);
	}
	freeifaddrs(ifs);
	mps_alloc_shim(0);
	return idx;
}

static uint32_t random32(void)
{
	uint64_t k = 0;

	if (mps_crypto_new_key(&k))
		k = (uint64_t)mps_now_us() * 2654435761u;
	return (uint32_t)k;
}

/* The usable local addresses, cached (issue 15): getifaddrs is a
 * netlink dump (two requests, a socket, and the lock that keeps the app's
 * socket() off our transient numbers), once per connection on the server
 * (ADD_ADDR) and per first path manager run on the client (rejoins and
 * path events read afresh).  Kept for at most LA_CACHE_TTL seconds and
 * dropped at every link or address event (netmon), so a change is seen
 * as soon as before when netmon runs, and within half a second when it
 * does not.  Shim thread only. */
#define LA_CACHE_TTL 0.5
#define LA_CACHE_MAX 16
static struct la_cache {
	int valid, family, loop_scope, n;
	unsigned gen;
	double at;
	struct mps_local_addr la[LA_CACHE_MAX];
} g_la_cache[4];
static unsigned g_la_gen;

static int g_pm_first; /* mps_path_pm_fill runs from mps_path_pm_on_timer */

int mps_path_local_addrs(struct mps_conn *c, const struct mps_config *cfg, int family,
                         int loop_scope, struct mps_local_addr *out, int max)
{
	struct la_cache *e = &g_la_cache[(family == AF_INET6) * 2 + !!loop_scope];
	double now = ev_now(c->loop);

	if (!e->valid || e->gen != g_la_gen || e->family != family ||
	    e->loop_scope != !!loop_scope || now - e->at > LA_CACHE_TTL || now < e->at) {
		e->n = mps_pm_local_addrs(cfg, family, loop_scope, e->la, LA_CACHE_MAX);
		e->valid = 1;
		e->gen = g_la_gen;
		e->family = family;
		e->loop_scope = !!loop_scope;
		e->at = now;
	}
	if (max > e->n)
		max = e->n;
	memcpy(out, e->la, (size_t)max * sizeof(*out));
	return max;
}

/* ------------------------------------------------------------- joins (client) */

static void client_join_failed(struct mps_conn *c, struct mps_subflow *sf, const char *why)
{
	char r[64];

	mps_info("conn %s: subflow %d to %s failed: %s", c->peer_str, sf->id,
	         mps_addr_str(&sf->remote, r, sizeof(r)), why);
	mps_stat(c, sf, MPS_MIB_SF_FAILED, 1);
	mps_sf_conn_del(c, sf);
	mps_sf_free(c->loop, sf, 1);
	/* A join that failed slowly (neighbour resolution, SYN timeouts) was
	 * started while the path was still coming up: try again soon rather
	 * than at the next backoff step.  Quick failures (no route) keep the
	 * backoff, so unroutable pairs do not spin. */
	if (!mps_conn_closed(c) && ev_now(c->loop) - sf->born > 1.0 &&
	    (!ev_is_active(&c->rejoin_timer) ||
	     ev_timer_remaining(c->loop, &c->rejoin_timer) > 0.5)) {
		c->rejoin_backoff = 0.5;
		ev_timer_stop(c->loop, &c->rejoin_timer);
		ev_timer_set(&c->rejoin_timer, 0.5, 0.);
		ev_timer_start(c->loop, &c->rejoin_timer);
	}
}

void mps_path_client_join_connected(struct mps_conn *c, struct mps_subflow *sf)
{
	struct mps_join j;
	uint8_t fr[MPS_JOIN_LEN];
	int err = 0;
	socklen_t len = sizeof(err);

	if (mps_real.getsockopt(sf->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		client_join_failed(c, sf, strerror(err));
		return;
	}
	len = sizeof(sf->local);
	mps_real.getsockname(sf->fd, (struct sockaddr *)&sf->local, &len);
	sf->rtt_us = mps_sf_tcp_rtt_us(sf->fd);
	sf->nonce_local = random32();
	memset(&j, 0, sizeof(j));
	j.token = c->remote_token;
	j.nonce = sf->nonce_local;
	j.addr_id = sf->local_id;
	j.jflags = sf->backup ? MPS_JF_BACKUP : 0;
	mps_frame_put_join(fr, &j);
	if (mps_sf_queue_ctl(sf, fr, sizeof(fr)) != 0) { /* no memory for its segment table */
		client_join_failed(c, sf, "out of memory");
		return;
	}
	mps_sf_set_state(sf, SF_JOIN_SENT);
	ev_io_start(c->loop, &sf->rio);
	ev_timer_set(&sf->jtimer, JOIN_TIMEOUT, 0.);
	ev_timer_start(c->loop, &sf->jtimer);
	mps_sf_flush(c, sf);
}

/* JOIN_ACK on a client join: check the server's HMAC, answer with ours. */
void mps_path_client_join_ack(struct mps_conn *c, struct mps_subflow *sf)
{
	struct mps_frame f;
	const char *why = NULL;
	uint8_t mac[32], fr[MPS_JOIN_OK_LEN];
	char msg[96];
	int rc = mps_frame_decode(sf->rbuf + sf->roff, sf->rlen - sf->roff, &f, &why);

	if (rc == 0)
		return;
	if (rc < 0 || f.type != MPS_F_JOIN_ACK) {
		snprintf(msg, sizeof(msg), "bad JOIN_ACK: %s",
		         rc < 0 ? why : mps_frame_type_name(f.type));
		client_join_failed(c, sf, msg);
		return;
	}
	sf->nonce_remote = f.u.join_ack.nonce;
	/* RFC 8684 §3.2's order (R_B||R_A), keyed by the server's join key
	 * from the X25519 schedule: the keys never travel (DESIGN §10). */
	mps_crypto_join_hmac_k(c->kex.keys.join_key_s, sf->nonce_remote, sf->nonce_local, mac);
	if (mps_get64(mac) != f.u.join_ack.hmac) {
		mps_warn("conn %s: subflow %d: JOIN_ACK with a wrong HMAC, subflow closed",
		         c->peer_str, sf->id);
		mps_stat(c, sf, MPS_MIB_SF_FAILED, 1);
		mps_sf_conn_del(c, sf);
		mps_sf_free(c->loop, sf, 1);
		return;
	}
	mps_crypto_join_hmac_k(c->kex.keys.join_key_c, sf->nonce_local, sf->nonce_remote, mac);
	mps_frame_put_join_ok(fr, mac);
	mps_sf_queue_ctl(sf, fr, sizeof(fr)); /* the JOIN's table: kept until SF_ACTIVE */
	sf->roff += (size_t)rc;
	mps_sf_set_state(sf, SF_ACTIVE);
	sf->ready = 1;
	ev_timer_stop(c->loop, &sf->jtimer);
	mps_conn_path_back(c);
	{
		char l[64], r[64];

		mps_info("conn %s: subflow %d %s -> %s established", c->peer_str, sf->id,
		         mps_addr_str(&sf->local, l, sizeof(l)),
		         mps_addr_str(&sf->remote, r, sizeof(r)));
	}
	mps_stat(c, sf, MPS_MIB_SF_JOINED, 1);
	mps_sf_update_lowat(c);
	mps_sf_flush(c, sf);
	mps_conn_peer_joined(c);
	if (!mps_conn_closed(c))
		mps_conn_sf_input(c, sf);
}

void mps_path_sf_on_jtimer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_subflow *sf = w->data;

	if (!sf->c) {
		mps_join_drop(loop, sf, "join handshake timed out");
		return;
	}
	client_join_failed(sf->c, sf, "join handshake timed out");
}

/* Open one more subflow from local address la to remote r. */
static void pm_open(struct mps_conn *c, const struct mps_local_addr *la, uint8_t local_id,
                    const struct mps_remote *r)
{
	struct sockaddr_storage src;
	struct mps_subflow *sf;
	int fd, rc;

	mps_alloc_shim(1);
	fd = mps_real.socket(la->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd >= 0)
		fd = mps_ifd_take(fd, 0); /* out of the app's range; no room: no join */
	mps_alloc_shim(0);
	if (fd < 0)
		return;
	mps_sf_apply_opts(c, fd);
	memset(&src, 0, sizeof(src));
	src.ss_family = (sa_family_t)la->family;
	if (la->family == AF_INET)
		memcpy(&((struct sockaddr_in *)&src)->sin_addr, la->addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&src)->sin6_addr, la->addr, 16);
	if (bind(fd, (struct sockaddr *)&src, ss_len(&src)) != 0) {
		mps_ifd_close(fd);
		return;
	}
	/* Pin the path to the interface as well, for hosts whose routing
	 * would otherwise send every subflow out of the default route. */
	if (!la->loopback)
		mps_real.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, la->ifname,
		                    (socklen_t)strlen(la->ifname));
	sf = mps_sf_attach_new(c, fd, SF_CONNECTING);
	if (!sf)
		return;
	sf->local = src;
	mps_remote_get(r, &sf->remote);
	sf->born = ev_now(c->loop);
	sf->ifindex = la->ifindex;
	{
		struct mps_config tmp;

		sf->backup = (uint8_t)mps_pm_is_backup(mps_steer_cfg(c, &tmp), la->ifname);
	}
	if (mps_set_is_backup(la->ifname) >= 0) /* mptcpshim set ... backup */
		sf->backup = (uint8_t)mps_set_is_backup(la->ifname);
	sf->local_id = local_id;
	sf->remote_id = r->id;
	mps_stat(c, sf, MPS_MIB_SF_OPENED, 1);
	rc = mps_real.connect(fd, (struct sockaddr *)&sf->remote, ss_len(&sf->remote));
	if (rc != 0 && errno != EINPROGRESS) {
		client_join_failed(c, sf, strerror(errno));
		return;
	}
	ev_io_start(c->loop, &sf->wio);
}

/* Client path manager: MPTCPSHIM_SUBFLOWS_PER_PATH subflows per (usable
 * local address, announced remote address) pair that mps_pm_pair accepts
 * (on-link pairs only, where an interface shares a subnet with one of the
 * server's addresses; every pair otherwise), at most MPTCPSHIM_MAX_SUBFLOWS
 * in all.  Pairs that cannot route simply fail. */
void mps_path_pm_fill(struct mps_conn *c)
{
	struct mps_config cfg_tmp;
	const struct mps_config *cfg = mps_steer_cfg(c, &cfg_tmp);
	struct mps_local_addr la[16];
	/* through a gateway, the paths lead to the gateway */
	struct sockaddr_storage peer = c->gw ? c->gw_peer : c->peer;
	const struct mps_remote *rem[MPS_MAX_REMOTE];
	uint8_t raddr[MPS_MAX_REMOTE][16];
	int nl, nr = 0, i, j, k, fam;

	if (c->role != MPS_CLIENT || c->rx_mode != RX_MP || mps_conn_closed(c) || c->exiting)
		return;
	/* Through a gateway, no join before its GWREPLY: on one subflow the
	 * reply precedes every DATA byte; with a second, the gateway's first
	 * DATA (or DATA_FIN after an error reply) could overtake it there.
	 * The reply restarts the path manager (gwconn.c). */
	if (c->gw_wait)
		return;
	mps_unmap_v4(&peer);
	fam = peer.ss_family;
	/* the lazy first run reads the cache (a burst of new connections);
	 * rejoins and path events read the interfaces as they are now */
	if (g_pm_first)
		nl = mps_path_local_addrs(c, cfg, fam, mps_path_is_loopback(&peer), la,
		                          (int)MPS_ARRAY_SIZE(la));
	else
		nl = mps_pm_local_addrs(cfg, fam, mps_path_is_loopback(&peer), la,
		                        (int)MPS_ARRAY_SIZE(la));
	memset(raddr, 0, sizeof(raddr));
	for (j = 0; j < MPS_MAX_REMOTE; j++) {
		const struct mps_remote *r = &c->remotes[j];

		if (!r->valid || r->addr.sa.sa_family != fam)
			continue;
		if (fam == AF_INET)
			memcpy(raddr[nr], &r->addr.in.sin_addr, 4);
		else
			memcpy(raddr[nr], &r->addr.in6.sin6_addr, 16);
		rem[nr++] = r;
	}
	for (j = 0; j < nr; j++) {
		const struct mps_remote *r = rem[j];
		struct sockaddr_storage ra;

		mps_remote_get(r, &ra);
		for (i = 0; i < nl; i++) {
			struct sockaddr_storage l;
			unsigned have = 0;

			if (!mps_pm_pair(&la[i], fam, (const uint8_t(*)[16])raddr, nr, j) ||
			    mps_set_is_off(la[i].ifname))
				continue;
			memset(&l, 0, sizeof(l));
			l.ss_family = (sa_family_t)fam;
			if (fam == AF_INET)
				memcpy(&((struct sockaddr_in *)&l)->sin_addr, la[i].addr, 4);
			else
				memcpy(&((struct sockaddr_in6 *)&l)->sin6_addr, la[i].addr, 16);
			for (k = 0; k < c->nsf; k++) {
				struct sockaddr_storage sl = c->sf[k]->local, sr = c->sf[k]->remote;

				mps_unmap_v4(&sl);
				mps_unmap_v4(&sr);
				/* (a join still in progress to a port the server
				 * has replaced since counts no more: handover.c) */
				if (mps_path_same_addr(&sl, &l) && mps_path_same_addr(&sr, &ra) &&
				    (c->sf[k]->state == SF_ACTIVE || sa_port(&sr) == sa_port(&ra)))
					have++;
			}
			while (have < cfg->subflows_per_path &&
			       (unsigned)c->nsf < cfg->max_subflows) {
				pm_open(c, &la[i], (uint8_t)(i + 1), r);
				have++;
				if (mps_conn_closed(c))
					return;
			}
		}
	}
}

/* The server announced an address (pm_addr.c recorded it): the client's
 * path manager runs soon. */
void mps_path_pm_announced(struct mps_conn *c)
{
	/* The server announces its addresses together: pair with all of them
	 * (mps_pm_pair looks at the whole list), not one at a time.  Lazy
	 * joins (issue 15): the first time, only once the connection has
	 * lived MPTCPSHIM_JOIN_DELAY or moved MPTCPSHIM_JOIN_BYTES (both
	 * ways), so a short request/response never pays for a subflow it
	 * would not use (a join is a handshake, a JOIN exchange with HMACs
	 * and descriptors on both sides). */
	if (c->pm_gate == 0) {
		const struct mps_config *cfg = mps_config();

		c->pm_gate = cfg->join_delay_ms == 0 || cfg->join_bytes == 0 ? 2 : 1;
		c->pm_gate_at = ev_now(c->loop) + cfg->join_delay_ms / 1e3;
		c->pm_snd0 = c->snd_max;
		c->pm_rcv0 = c->rcv_nxt;
	}
	if (!ev_is_active(&c->pm_timer)) {
		ev_timer_set(&c->pm_timer,
		             c->pm_gate == 2 ? 0. : MPS_MAX(c->pm_gate_at - ev_now(c->loop), 0.),
		             0.);
		ev_timer_start(c->loop, &c->pm_timer);
	}
}

/* Lazy joins: the connection moved MPTCPSHIM_JOIN_BYTES: join now. */
void mps_path_gate_bytes(struct mps_conn *c)
{
	if (c->pm_gate != 1 ||
	    (c->snd_max - c->pm_snd0) + (c->rcv_nxt - c->pm_rcv0) < mps_config()->join_bytes)
		return;
	c->pm_gate = 2;
	mps_path_pm_now(c);
}

void mps_path_pm_now(struct mps_conn *c)
{
	ev_timer_stop(c->loop, &c->pm_timer);
	ev_timer_set(&c->pm_timer, 0., 0.);
	ev_timer_start(c->loop, &c->pm_timer);
}

#define INLINE_JOIN_AFTER 5.0  /* s of life before an inline connection joins */
#define INLINE_JOIN_RECHECK 60.0 /* s at most between two looks at a quiet one */

static void inline_join_check(struct mps_conn *c, ev_timer *w)
{
	double now = ev_now(c->loop), due = c->pm_gate_at + INLINE_JOIN_AFTER, next;
	uint64_t moved = (c->snd_max - c->pm_snd0) + (c->rcv_nxt - c->pm_rcv0);

	if (c->role != MPS_CLIENT)
		return; /* a server's joins come from its client */
	if (now >= due && moved >= mps_config()->join_bytes &&
	    mps_conn_promote(c, "a long-lived connection joins") == 0)
		return; /* (the promotion re-arms this timer: joins now) */
	/* not yet: at the due time, then twice as long each time */
	next = now < due ? due - now : MPS_MIN(2. * (now - c->pm_gate_at), INLINE_JOIN_RECHECK);
	c->pm_snd0 = c->snd_max;
	c->pm_rcv0 = c->rcv_nxt;
	if (now >= due)
		c->pm_gate_at = now - next / 2.; /* (the doubling counts from here) */
	ev_timer_set(w, next, 0.);
	ev_timer_start(c->loop, w);
}

void mps_path_pm_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	/* An inline connection joins once it is promoted (bulk data, a
	 * path failure: inline.c), not on MPTCPSHIM_JOIN_DELAY or _BYTES: a
	 * keep-alive request/response connection moves those in a second
	 * and would pay for a socketpair it may never need.  One that lives
	 * on and moves data is promoted after INLINE_JOIN_AFTER, so that its
	 * second subflow is up before a path dies (failover without a
	 * stall); a quiet one is looked at again less and less often. */
	if (c->inl) {
		inline_join_check(c, w);
		return;
	}
	/* promoted while an app thread waits on the first subflow's socket:
	 * bytes a join brought would not wake it (inline.c starts this
	 * timer again once the last such wait is over) */
	if (c->inl_rx_defer)
		return;

	c->pm_gate = 2;
	g_pm_first = 1;
	mps_path_pm_fill(c);
	g_pm_first = 0;
}

/* A join of ours closed before it completed.  If the server announced a
 * new port for that address meanwhile (a fork-per-connection server's
 * child took the connection over and announced its own join listener,
 * handover.c; the old one closed the join), join again at once: the
 * announcement came while this join was in flight, so the path manager
 * counted it and opened none.  A join refused at an unchanged address is
 * not retried here (the rejoin backoff decides). */
void mps_path_pm_join_closed(struct mps_conn *c, const struct mps_subflow *sf)
{
	struct sockaddr_storage was = sf->remote;
	int i;

	if (c->role != MPS_CLIENT || mps_conn_closed(c))
		return;
	mps_unmap_v4(&was);
	for (i = 0; i < MPS_MAX_REMOTE; i++) {
		const struct mps_remote *r = &c->remotes[i];
		struct sockaddr_storage ra;

		mps_remote_get(r, &ra);
		if (!r->valid || r->id != sf->remote_id || !mps_path_same_addr(&ra, &was) ||
		    sa_port(&ra) == sa_port(&was))
			continue;
		mps_dbg("conn %s: join again, at the port announced since (%u)", c->peer_str,
		        sa_port(&ra));
		mps_path_pm_now(c);
		return;
	}
}

/* ------------------------------------------------------------- joins (server) */

void mps_conn_attach_join(struct mps_conn *c, struct mps_subflow *sf)
{
	char r[64];

	/* an inline server's connection (inline.h) takes its socketpair:
	 * the shim thread reads and schedules more than one subflow */
	if (c->inl && mps_conn_promote(c, "a subflow joined")) {
		mps_join_drop(c->loop, sf, "no socketpair for a second subflow");
		return;
	}
	if (mps_sf_conn_add(c, sf)) {
		mps_join_drop(c->loop, sf, "too many subflows");
		return;
	}
	mps_sf_set_state(sf, SF_ACTIVE);
	sf->ready = 1;
	sf->peer_live = 1; /* its JOIN_OK says the client has it */
	sf->rtt_us = mps_sf_tcp_rtt_us(sf->fd);
	sf->ifindex = mps_path_ifindex_of(&sf->local);
	mps_sf_apply_opts(c, sf->fd);
	mps_info("conn %s: subflow %d from %s joined", c->peer_str, sf->id,
	         mps_addr_str(&sf->remote, r, sizeof(r)));
	mps_stat(c, sf, MPS_MIB_SF_JOINED, 1);
	mps_conn_path_back(c);
	mps_sf_update_lowat(c);
	mps_conn_peer_joined(c);
	if (!mps_conn_closed(c))
		mps_conn_sf_input(c, sf);
	if (!mps_conn_closed(c))
		mps_conn_kick(c);
}

/* ------------------------------------------------------------- path events
 * From netmon.c: act on a path change the moment the kernel reports it,
 * instead of waiting for TCP to notice. */

static int local_is(const struct mps_subflow *sf, int family, const uint8_t *addr)
{
	struct sockaddr_storage l = sf->local;

	mps_unmap_v4(&l);
	if (l.ss_family != family)
		return 0;
	if (family == AF_INET)
		return !memcmp(&((struct sockaddr_in *)&l)->sin_addr, addr, 4);
	return !memcmp(&((struct sockaddr_in6 *)&l)->sin6_addr, addr, 16);
}

/* Drop subflows that match; the last usable one is left to TCP (losing
 * it would end the connection, and the path may come back). */
static void drop_matching(struct mps_conn *c, int family, const uint8_t *addr, unsigned ifindex,
                          const char *why)
{
	int i;

	for (i = c->nsf - 1; i >= 0 && !mps_conn_closed(c); i--) {
		struct mps_subflow *sf = c->sf[i];
		int match = addr ? local_is(sf, family, addr) : (ifindex && sf->ifindex == ifindex);

		if (match)
			mps_conn_path_gone(c, sf, why);
	}
}

void mps_conn_on_addr_event(int family, const uint8_t *addr, unsigned ifindex, int added)
{
	struct mps_conn *c, *next;

	g_la_gen++;
	for (c = mps_conn_first(); c; c = next) {
		next = mps_conn_next(c);
		if (mps_conn_closed(c) || c->rx_mode != RX_MP)
			continue;
		if (!added)
			drop_matching(c, family, addr, 0, "local address removed");
		if (mps_conn_closed(c))
			continue;
		if (c->role == MPS_SERVER)
			mps_conn_pm()->server_addr_event(c, family, addr, added);
		else if (added && c->pm_gate != 1) /* waiting: its timer fills */
			mps_path_pm_fill(c);
		if (!mps_conn_closed(c))
			mps_conn_kick(c);
	}
}

/* A link came up or a route appeared: a join still connecting chose its
 * route before (a device-bound socket with no route takes the server for a
 * neighbour on its link: its SYN waits for an ARP answer that never
 * comes, then for TCP's SYN backoff, 1 s and 3 s later).  Start it again
 * (mps_path_pm_fill, right after) with the routing as it is now. */
static void restart_connecting_joins(struct mps_conn *c)
{
	int i;

	for (i = c->nsf - 1; i >= 0; i--) {
		struct mps_subflow *sf = c->sf[i];

		if (sf->state == SF_CONNECTING && sf->id != 1) {
			mps_sf_conn_del(c, sf);
			mps_sf_free(c->loop, sf, 1);
		}
	}
}

void mps_conn_on_link_event(unsigned ifindex, int up)
{
	struct mps_conn *c, *next;

	mps_stat_path(ifindex, up);
	g_la_gen++;
	for (c = mps_conn_first(); c; c = next) {
		next = mps_conn_next(c);
		if (mps_conn_closed(c) || c->rx_mode != RX_MP)
			continue;
		if (!up)
			drop_matching(c, 0, NULL, ifindex, "interface down");
		else if (c->role == MPS_CLIENT && c->pm_gate != 1) {
			restart_connecting_joins(c);
			mps_path_pm_fill(c);
		}
		if (!mps_conn_closed(c))
			mps_conn_kick(c);
	}
}
