/* conn.c - the connection engine (shim thread only, but mps_conn_start).
 *
 * A connection pumps bytes between the app's socketpair end ("app side",
 * our end is c->app_fd) and its subflows.  Two independent modes:
 *   rx: NEGO (looking at the peer's first bytes), MP (frames), PLAIN (raw)
 *   tx: HOLD (server: app bytes wait for the verdict), MP, PLAIN
 * See docs/DESIGN.md for the protocol, the states and the close rules.
 *
 * Data path, sender: app_fd -> readv into the DSN send buffer (no copy
 * after that) -> DATA frames queued as segments on the subflow the
 * scheduler picks -> one sendmsg per batch.  Bytes stay in the send buffer
 * until data-ACKed.  Receiver: read into the subflow's buffer, decode frames
 * in place, writev the in-order payloads straight to app_fd; data ahead of
 * a gap (another subflow is behind) waits in the out-of-order queue.  No
 * per-byte work, no lock on this path. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <malloc.h> /* malloc_trim */
#include <net/if.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* the kernel's tcp_info, with tcpi_bytes_acked */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn_int.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/log.h"
#include "mptcpshim/netmon.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/pm.h"
#include "mptcpshim/real.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"

#define UNSENT_MAX (1024u * 1024u)  /* app bytes read but not yet framed */
#define FIRST_FLIGHT_UNKNOWN 0u     /* app bytes sent before a first HELLO_ACK */
#define ACK_EVERY (64u * 1024u)     /* send a standalone ACK after this much */
#define ACK_DELAY 0.002             /* ... or after this long, seconds */
#define FIN_WAIT_TIMEOUT 60.0       /* app closed: wait this long for the peer's FIN */
#define READ_BUDGET 8               /* reads per wakeup before yielding */

enum { RX_NEGO, RX_MP, RX_PLAIN };
enum { TX_HOLD, TX_MP, TX_PLAIN };

static struct mps_conn *g_conns;
static struct mps_conn *g_zombies;        /* freed by g_reaper, before the loop sleeps */
static struct mps_subflow *g_sf_zombies;
static ev_prepare g_reaper;

static void conn_abort(struct mps_conn *c, uint32_t reason, int send_close, const char *why);
static void conn_finish(struct mps_conn *c);
static void conn_check_done(struct mps_conn *c);
static void conn_push(struct mps_conn *c);
static void rx_process(struct mps_conn *c, struct mps_subflow *sf);
static int sf_flush(struct mps_conn *c, struct mps_subflow *sf);
static void app_update_read(struct mps_conn *c);
static void sf_on_read(struct ev_loop *loop, ev_io *w, int revents);
static void sf_on_write(struct ev_loop *loop, ev_io *w, int revents);
static void sf_on_jtimer(struct ev_loop *loop, ev_timer *w, int revents);
static void pm_fill(struct mps_conn *c);
static void pm_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
static void client_fallback(struct mps_conn *c, const char *why);

/* ---------------------------------------------------------------- helpers */

void mps_grow_pair_buffer(int fd)
{
	int v = MPS_PAIR_BUF;

	if (mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static uint32_t tcp_rtt_us(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (mps_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_rtt;
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
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

/* An IPv4-mapped IPv6 address (dual-stack sockets) as plain IPv4. */
void mps_unmap_v4(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		struct sockaddr_in in;

		memset(&in, 0, sizeof(in));
		in.sin_family = AF_INET;
		in.sin_port = in6->sin6_port;
		memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &in, sizeof(in));
	}
}

static int addr_is_loopback(const struct sockaddr_storage *ss)
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

/* The interface that holds local address ss, or 0. */
static unsigned ifindex_of(const struct sockaddr_storage *ss)
{
	struct sockaddr_storage a = *ss;
	struct ifaddrs *ifs, *i;
	unsigned idx = 0;

	mps_unmap_v4(&a);
	if (getifaddrs(&ifs) != 0)
		return 0;
	for (i = ifs; i && !idx; i = i->ifa_next) {
		struct sockaddr_storage b;

		if (!i->ifa_addr || i->ifa_addr->sa_family != a.ss_family)
			continue;
		memset(&b, 0, sizeof(b));
		memcpy(&b, i->ifa_addr,
		       a.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		if (same_addr(&a, &b))
			idx = if_nametoindex(i->ifa_name);
	}
	freeifaddrs(ifs);
	return idx;
}

static uint32_t random32(void)
{
	uint64_t k = 0;

	if (mps_crypto_new_key(&k))
		k = (uint64_t)mps_now_us() * 2654435761u;
	return (uint32_t)k;
}

/* ------------------------------------------------------------- reaping
 * Callers up the stack may still look at a connection or subflow after an
 * abort: memory goes once this loop iteration's callbacks are over. */

static void reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
	static double last_trim;
	int freed_conn = g_zombies != NULL;

	while (g_zombies) {
		struct mps_conn *c = g_zombies;

		g_zombies = c->next;
		free(c);
	}
	while (g_sf_zombies) {
		struct mps_subflow *sf = g_sf_zombies;

		g_sf_zombies = sf->jnext;
		free(sf->rbuf);
		free(sf);
	}
	ev_prepare_stop(loop, w);
	/* A connection's buffers (send buffer, receive queue, out-of-order
	 * queue: megabytes under loss) come back to malloc in scattered
	 * chunks that glibc keeps: give the pages back to the system, so a
	 * long-lived server's memory returns to its baseline.  At most once a
	 * second while others live: busy servers end many connections. */
	if (freed_conn && (!g_conns || ev_now(loop) - last_trim > 1.0)) {
		last_trim = ev_now(loop);
		malloc_trim(0);
	}
}

static void reaper_arm(struct ev_loop *loop)
{
	if (!ev_cb(&g_reaper))
		ev_prepare_init(&g_reaper, reap);
	if (!ev_is_active(&g_reaper))
		ev_prepare_start(loop, &g_reaper);
}

/* ------------------------------------------------------------- subflows */

struct mps_subflow *mps_sf_alloc(struct ev_loop *loop, int fd, int state)
{
	struct mps_subflow *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return NULL;
	sf->rbuf = malloc(RBUF_SIZE);
	if (!sf->rbuf) {
		free(sf);
		return NULL;
	}
	sf->fd = fd;
	sf->state = state;
	ev_io_init(&sf->rio, sf_on_read, fd, EV_READ);
	sf->rio.data = sf;
	ev_io_init(&sf->wio, sf_on_write, fd, EV_WRITE);
	sf->wio.data = sf;
	ev_init(&sf->jtimer, sf_on_jtimer);
	sf->jtimer.data = sf;
	return sf;
}

/* Close the subflow's socket (reset: RST; else a FIN after what is queued
 * in the kernel) and free it after this loop iteration. */
void mps_sf_free(struct ev_loop *loop, struct mps_subflow *sf, int reset)
{
	ev_io_stop(loop, &sf->rio);
	ev_io_stop(loop, &sf->wio);
	ev_timer_stop(loop, &sf->jtimer);
	if (sf->fd >= 0) {
		if (reset) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};

			mps_real.setsockopt(sf->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		} else
			shutdown(sf->fd, SHUT_WR);
		mps_ifd_close(sf->fd);
		sf->fd = -1;
	}
	sf->state = SF_DEAD;
	sf->jnext = g_sf_zombies;
	g_sf_zombies = sf;
	reaper_arm(loop);
}

/* May carry data: joined, or the first subflow (whose first flight goes
 * out while the negotiation runs). */
static int sf_usable(const struct mps_subflow *sf)
{
	return (sf->state == SF_ACTIVE || sf->state == SF_NEGO) && !sf->wr_dead && sf->fd >= 0 &&
	       !sf->stale;
}

static int n_usable(const struct mps_conn *c)
{
	int i, n = 0;

	for (i = 0; i < c->nsf; i++)
		n += sf_usable(c->sf[i]);
	return n;
}

static struct mps_subflow *best_usable(const struct mps_conn *c)
{
	struct mps_subflow *best = NULL;
	int i;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		if (!sf_usable(sf))
			continue;
		if (!best || (sf->backup < best->backup) ||
		    (sf->backup == best->backup && sf->rtt_us && sf->rtt_us < best->rtt_us))
			best = sf;
	}
	return best;
}

static int conn_add_sf(struct mps_conn *c, struct mps_subflow *sf);

/* A new subflow for fd, attached to c.  On failure fd is closed and NULL
 * returned. */
static struct mps_subflow *sf_attach_new(struct mps_conn *c, int fd, int state)
{
	struct mps_subflow *sf = mps_sf_alloc(c->loop, fd, state);

	if (sf && conn_add_sf(c, sf) == 0)
		return sf;
	if (sf) {
		sf->fd = -1;
		free(sf->rbuf);
		free(sf);
	}
	mps_ifd_close(fd);
	return NULL;
}

/* Everything not data-ACKed goes out again from snd_una, DATA_FIN included
 * (the receiver drops what it already has): when every path died (outage)
 * or nothing was data-ACKed for a second although a path works (an ACK or
 * the data itself was lost with a path). */
static void resend_from_una(struct mps_conn *c)
{
	int i;

	c->snd_nxt = c->snd_una;
	mps_ranges_init(&c->reinj); /* all of it is sent again anyway */
	for (i = 0; i < c->nsf; i++) {
		c->sf[i]->red_nxt = c->snd_una;
		c->sf[i]->red_init = 1;
	}
	if (c->fin_sent && !c->fin_acked)
		c->fin_resend = 1;
}

/* sf died or went stale: what it was given and the peer has not data-ACKed
 * is sent again on the others, before new data (RFC 8684 reinjection).
 * Only sf's own ranges: the other subflows' bytes are still on their way. */
static void reinject_sf(struct mps_conn *c, struct mps_subflow *sf)
{
	mps_ranges_trim(&sf->sent, c->snd_una);
	if (sf->sent.n)
		mps_dbg("conn %s: reinjecting %llu B from subflow %d", c->peer_str,
			(unsigned long long)mps_ranges_bytes(&sf->sent), sf->id);
	mps_ranges_move(&c->reinj, &sf->sent);
	if (sf->fin_on && c->fin_sent && !c->fin_acked)
		c->fin_resend = 1;
	sf->fin_on = 0;
}

/* Subflow membership and fds change under the sock lock: app threads
 * forwarding socket options walk the same array. */
static int conn_add_sf(struct mps_conn *c, struct mps_subflow *sf)
{
	int rc = -1;

	pthread_mutex_lock(&c->sock->lock);
	if (c->nsf < MPS_MAX_SUBFLOWS) {
		c->sf[c->nsf++] = sf;
		rc = 0;
	}
	pthread_mutex_unlock(&c->sock->lock);
	if (rc == 0) {
		sf->c = c;
		sf->id = ++c->next_sf_id;
	}
	return rc;
}

static void conn_del_sf(struct mps_conn *c, struct mps_subflow *sf)
{
	int i;

	pthread_mutex_lock(&c->sock->lock);
	for (i = 0; i < c->nsf; i++)
		if (c->sf[i] == sf) {
			c->sf[i] = c->sf[--c->nsf];
			c->sf[c->nsf] = NULL;
			break;
		}
	pthread_mutex_unlock(&c->sock->lock);
	if (c->ack_sf == sf)
		c->ack_sf = NULL;
}

/* Close the parked subflows (a reset: a new path is up, so the peer sees
 * one more path go, not the last one). */
static void unpark_all(struct mps_conn *c)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	while (c->nparked > 0) {
		int fd = c->parked[--c->nparked];

		mps_real.setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		mps_ifd_close(fd);
	}
}

/* The parked sockets may be closed (reset) once the peer surely counts
 * another of our subflows as alive: one it has sent us a frame on since
 * the join (a server attaches a join only at its JOIN_OK and sends on
 * attached subflows only; a server's joined subflows are known to the
 * client from its JOIN_ACK on).  Until then a reset could hit what the
 * peer sees as its last subflow, which it reads as our death. */
static int peer_counts_another(const struct mps_conn *c)
{
	int i;

	if (c->outage)
		return 0;
	for (i = 0; i < c->nsf; i++)
		if (sf_usable(c->sf[i]) && c->sf[i]->peer_live)
			return 1;
	return 0;
}

#define PARK_CHECK 0.5 /* seconds between looks at the parked sockets */

static void park_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (peer_counts_another(c)) {
		unpark_all(c);
		ev_timer_stop(loop, w);
	}
}

/* sf goes away for a local reason (its address or link gone, its remote
 * address withdrawn) but its TCP connection may still be alive: keep its
 * socket open and silent until the peer surely counts another subflow
 * (or the connection ends), so that a live shim never resets what may be
 * the peer's last subflow.  Returns 1 if parked. */
static int park_sf(struct mps_conn *c, struct mps_subflow *sf)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (sf->fd < 0 || c->nparked == MPS_MAX_PARKED || sf->wr_dead ||
	    mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    (ti.tcpi_state != MPS_TCP_ESTABLISHED && ti.tcpi_state != MPS_TCP_CLOSE_WAIT))
		return 0;
	ev_io_stop(c->loop, &sf->rio);
	ev_io_stop(c->loop, &sf->wio);
	c->parked[c->nparked++] = sf->fd;
	sf->fd = -1; /* mps_sf_free leaves it open */
	if (!ev_is_active(&c->park_timer)) {
		ev_timer_set(&c->park_timer, PARK_CHECK, PARK_CHECK);
		ev_timer_start(c->loop, &c->park_timer);
	}
	return 1;
}

/* Socket options the app set, for a subflow created later. */
static void apply_opts(struct mps_conn *c, int fd)
{
	int i;

	pthread_mutex_lock(&c->sock->lock);
	for (i = 0; i < c->sock->nopts; i++) {
		const struct mps_opt *o = &c->sock->opts[i];

		mps_real.setsockopt(fd, o->level, o->name, o->val, o->len);
	}
	pthread_mutex_unlock(&c->sock->lock);
}

/* With several subflows the kernel keeps only a little unsent data per
 * subflow, so our scheduler decides where bytes go. */
static void update_lowat(struct mps_conn *c)
{
	int i, multi = n_usable(c) > 1;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		int v = multi ? (int)SF_LOWAT : 0;

		if (sf->fd < 0 || sf->lowat == multi)
			continue;
		if (v == 0)
			v = INT32_MAX; /* the kernel's "no limit" */
		mps_real.setsockopt(sf->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
		sf->lowat = (uint8_t)multi;
	}
}

static void sf_log_stats(struct mps_conn *c, struct mps_subflow *sf)
{
	char l[64], r[64];

	mps_info("conn %s: subflow %d %s -> %s: sent %llu B, received %llu B", c->peer_str,
		 sf->id, mps_addr_str(&sf->local, l, sizeof(l)),
		 mps_addr_str(&sf->remote, r, sizeof(r)), (unsigned long long)sf->tx_bytes,
		 (unsigned long long)sf->rx_bytes);
}

/* ------------------------------------------------------------- hup watch
 * One epoll set, watched by one libev io watcher, holds every app_fd with
 * no requested events: epoll still reports EPOLLHUP (every app descriptor
 * closed, in every process) and EPOLLERR, which a readable-at-EOF socket
 * cannot tell us through libev. */

static int g_hup_ep = -1;
static ev_io g_hup_io;

static void conn_app_hup(struct mps_conn *c);

static void hup_on_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	struct epoll_event ev[64];
	int n, i;

	n = epoll_wait(g_hup_ep, ev, 64, 0);
	for (i = 0; i < n; i++) {
		struct mps_conn *c = ev[i].data.ptr;

		epoll_ctl(g_hup_ep, EPOLL_CTL_DEL, c->app_fd, NULL);
		c->hup_registered = 0;
		conn_app_hup(c);
	}
}

static int hup_watch(struct mps_conn *c)
{
	struct epoll_event ev = {.events = 0, .data.ptr = c};

	if (g_hup_ep < 0) {
		g_hup_ep = epoll_create1(EPOLL_CLOEXEC);
		if (g_hup_ep < 0)
			return -errno;
		mps_ifd_add(g_hup_ep);
		ev_io_init(&g_hup_io, hup_on_ready, g_hup_ep, EV_READ);
		ev_io_start(c->loop, &g_hup_io);
		ev_unref(c->loop); /* the async watcher keeps the loop alive */
	}
	if (epoll_ctl(g_hup_ep, EPOLL_CTL_ADD, c->app_fd, &ev) != 0)
		return -errno;
	c->hup_registered = 1;
	return 0;
}

/* ------------------------------------------------------------- lifecycle */

static void conn_free(struct mps_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (g_conns == c)
		g_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ev_io_stop(c->loop, &c->app_r);
	ev_io_stop(c->loop, &c->app_w);
	ev_io_stop(c->loop, &c->conn_w);
	ev_timer_stop(c->loop, &c->ack_timer);
	ev_timer_stop(c->loop, &c->nego_timer);
	ev_timer_stop(c->loop, &c->fin_timer);
	ev_timer_stop(c->loop, &c->outage_timer);
	ev_timer_stop(c->loop, &c->rejoin_timer);
	ev_timer_stop(c->loop, &c->pm_timer);
	ev_timer_stop(c->loop, &c->park_timer);
	unpark_all(c);
	ev_timer_stop(c->loop, &c->watchdog);
	ev_timer_stop(c->loop, &c->stale_tick);
	if (c->hup_registered)
		epoll_ctl(g_hup_ep, EPOLL_CTL_DEL, c->app_fd, NULL);
	while (c->nsf > 0) {
		struct mps_subflow *sf = c->sf[c->nsf - 1];

		conn_del_sf(c, sf);
		mps_sf_free(c->loop, sf, 0);
	}
	mps_ifd_close(c->app_dup);
	mps_ifd_close(c->app_fd);
	if (c->token_registered)
		mps_token_del(c->local_token, c);
	pthread_mutex_lock(&c->sock->lock);
	c->sock->conn = NULL;
	pthread_mutex_unlock(&c->sock->lock);
	mps_sock_put(c->sock);
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_free(&c->rxq);
	mps_ofo_free(&c->ofo);
	c->dead = 1;
	c->next = g_zombies;
	g_zombies = c;
	reaper_arm(c->loop);
}

/* Make the app see a reset: a byte left unread in our end when we close it
 * makes the kernel report ECONNRESET on the app's end (af_unix), exactly
 * once, as TCP does after an RST. */
static int app_inject_reset(struct mps_conn *c)
{
	int d, ok = 0;

	if (c->app_closed)
		return 1;
	d = mps_fdtab_dup_any(c->sock);
	if (d >= 0) {
		/* EAGAIN: the buffer is full, so bytes are unread already. */
		ok = mps_real.send(d, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ||
		     errno == EAGAIN || errno == EWOULDBLOCK;
		mps_real.close(d);
	}
	return ok; /* 0: e.g. the app shut its end for writing first */
}

/* End the connection abortively.  send_close: tell the peer (FASTCLOSE
 * equivalent) before resetting the subflows. */
static void drain_filler(struct mps_conn *c, size_t keep_unread);

static void conn_abort_err(struct mps_conn *c, uint32_t reason, int send_close, const char *why,
			   int app_err);

static void conn_abort(struct mps_conn *c, uint32_t reason, int send_close, const char *why)
{
	conn_abort_err(c, reason, send_close, why, ECONNRESET);
}

/* End the connection abortively; the app's next read or write fails with
 * app_err (ECONNRESET, or ETIMEDOUT after an outage), once, as TCP's. */
static void conn_abort_err(struct mps_conn *c, uint32_t reason, int send_close, const char *why,
			   int app_err)
{
	int connecting = atomic_load(&c->sock->state) == MPS_SS_CONNECTING;
	int i;

	if (c->dead)
		return;
	c->dead = 1;
	if (why)
		mps_warn("conn %s: aborting: %s", c->peer_str, why);
	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		if (send_close && sf_usable(sf) && c->tx_mode == TX_MP && c->rx_mode == RX_MP &&
		    sf->seg_done == 0) {
			uint8_t fr[MPS_CLOSE_LEN];

			/* Best effort: a reset subflow carries nothing more anyway. */
			mps_frame_put_close(fr, reason);
			if (mps_real.send(sf->fd, fr, sizeof(fr), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			}
		}
	}
	while (c->nsf > 0) {
		struct mps_subflow *sf = c->sf[c->nsf - 1];

		conn_del_sf(c, sf);
		mps_sf_free(c->loop, sf, 1);
	}
	if (connecting) {
		/* Failed (SO_ERROR is set) before anything shows.  Then one
		 * filler byte left unread in our end makes closing it flag the
		 * app's end with an error, and with the rest read back the end
		 * is writable at once: POLLOUT|POLLERR|POLLHUP together, as a
		 * refused TCP connect reports. */
		atomic_store(&c->sock->state, MPS_SS_FAILED);
		drain_filler(c, 1);
		mps_ifd_close(c->app_dup);
		c->app_dup = -1;
	} else {
		atomic_store(&c->sock->state, MPS_SS_CLOSED);
		/* The unread byte makes af_unix fail the app's calls with
		 * ECONNRESET (blocked ones too, and without SIGPIPE); the data
		 * hooks turn that into app_err when it is another error, and
		 * report it themselves when the byte could not be placed. */
		if ((!app_inject_reset(c) || app_err != ECONNRESET) && !c->app_closed &&
		    atomic_exchange(&c->sock->pending_err, app_err) == 0)
			atomic_fetch_add(&mps_pending_errors, 1);
	}
	conn_free(c);
}

static void conn_finish(struct mps_conn *c)
{
	int i;

	mps_info("conn %s: closed gracefully", c->peer_str);
	for (i = 0; i < c->nsf; i++)
		sf_log_stats(c, c->sf[i]);
	c->dead = 1;
	atomic_store(&c->sock->state, MPS_SS_CLOSED);
	conn_free(c);
}

static int all_queues_empty(const struct mps_conn *c)
{
	int i;

	for (i = 0; i < c->nsf; i++)
		if (c->sf[i]->nseg > 0 && !c->sf[i]->wr_dead)
			return 0;
	return 1;
}

/* Graceful end: both DATA_FINs exchanged and ACKed, nothing left to write. */
static void conn_check_done(struct mps_conn *c)
{
	if (c->dead)
		return;
	if (!c->fin_delivered)
		return; /* the app has not seen everything, EOF included */
	if (c->tx_mode == TX_PLAIN && c->rx_mode == RX_PLAIN) {
		if (!(c->app_eof && all_queues_empty(c) && c->snd_nxt == c->sb.end))
			return;
	} else if (!c->peer_gone) {
		if (!(c->fin_acked && all_queues_empty(c)))
			return;
	}
	/* peer_gone: it took all we sent and closed; what the app writes
	 * from now on meets a closed socket (EPIPE), as after a TCP close. */
	conn_finish(c);
}

/* ------------------------------------------------------------ transmit */

static struct mps_seg *seg_add(struct mps_subflow *sf)
{
	struct mps_seg *s;

	if (sf->nseg == MAX_SEGS)
		return NULL;
	s = &sf->seg[sf->nseg++];
	memset(s, 0, sizeof(*s));
	return s;
}

/* Queue a control frame.  0, or -1 when the queue is full. */
static int queue_ctl(struct mps_subflow *sf, const uint8_t *fr, size_t len)
{
	struct mps_seg *s = seg_add(sf);

	if (!s)
		return -1;
	memcpy(s->hdr, fr, len);
	s->hlen = (uint8_t)len;
	s->is_ack = fr[0] == MPS_F_ACK;
	sf->queued += len;
	return 0;
}

/* Carry ack in the last queued frame that has not started on the wire,
 * if it is an ACK or a DATA frame with the ACK flag.  1 if done. */
static int ack_piggyback(struct mps_subflow *sf, uint64_t ack, uint32_t wnd)
{
	struct mps_seg *last;

	if (sf->nseg == 0 || (sf->nseg == 1 && sf->seg_done > 0))
		return 0;
	last = &sf->seg[sf->nseg - 1];
	if (last->is_ack) {
		mps_frame_put_ack(last->hdr, ack, wnd);
		return 1;
	}
	if (last->hlen == MPS_DATA_HDR_LEN && last->hdr[0] == MPS_F_DATA &&
	    (last->hdr[1] & MPS_DF_ACK)) {
		mps_put64(last->hdr + 12, ack);
		mps_put32(last->hdr + 20, wnd);
		return 1;
	}
	return 0;
}

/* The receive window we can advertise now. */
static uint32_t adv_wnd(const struct mps_conn *c)
{
	size_t held = (size_t)(c->rxq.end - c->rxq.una);

	return held >= c->rcv_wnd_max ? 0 : (uint32_t)(c->rcv_wnd_max - held);
}

static int rxq_empty(const struct mps_conn *c) { return c->rxq.una == c->rxq.end; }

static void note_ack_sent(struct mps_conn *c)
{
	c->ack_sent = c->rcv_nxt;
	c->wnd_sent = adv_wnd(c);
	if (mps_dsn_lt(c->rcv_edge, c->ack_sent + c->wnd_sent))
		c->rcv_edge = c->ack_sent + c->wnd_sent;
	ev_timer_stop(c->loop, &c->ack_timer);
}

static struct mps_subflow *ack_subflow(struct mps_conn *c)
{
	if (c->ack_sf && sf_usable(c->ack_sf))
		return c->ack_sf;
	return best_usable(c);
}

static void send_ack(struct mps_conn *c)
{
	struct mps_subflow *sf = ack_subflow(c);
	uint8_t fr[MPS_ACK_LEN];

	if (c->rx_mode != RX_MP || c->tx_mode != TX_MP || !sf)
		return;
	if (!ack_piggyback(sf, c->rcv_nxt, adv_wnd(c))) {
		mps_frame_put_ack(fr, c->rcv_nxt, adv_wnd(c));
		if (queue_ctl(sf, fr, sizeof(fr)) != 0) {
			/* Queue full and nothing to ride on: try again soon. */
			if (!ev_is_active(&c->ack_timer)) {
				ev_timer_set(&c->ack_timer, ACK_DELAY, 0.);
				ev_timer_start(c->loop, &c->ack_timer);
			}
			return;
		}
	}
	note_ack_sent(c);
	sf_flush(c, sf);
}

static void ack_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->ack_sent != c->rcv_nxt || c->wnd_sent != adv_wnd(c))
		send_ack(c);
}

/* rcv_nxt moved: ACK now when much is unacknowledged or the stream ended,
 * else soon (piggybacked on data if any leaves first). */
static void ack_update(struct mps_conn *c)
{
	uint32_t wnd = adv_wnd(c);

	if (c->rx_mode != RX_MP || c->dead)
		return;
	/* The window opened (the app drained rxq): tell the peer at once if
	 * it grew by a quarter, as it may be waiting for exactly that. */
	if (wnd > c->wnd_sent && wnd - c->wnd_sent >= c->rcv_wnd_max / 4) {
		send_ack(c);
		return;
	}
	if (c->ack_sent == c->rcv_nxt)
		return;
	if (c->rcv_nxt - c->ack_sent >= ACK_EVERY || c->rcv_fin)
		send_ack(c);
	else if (!ev_is_active(&c->ack_timer)) {
		ev_timer_set(&c->ack_timer, ACK_DELAY, 0.);
		ev_timer_start(c->loop, &c->ack_timer);
	}
}

/* One DATA frame for [dsn, dsn + at most maxlen) onto sf.  Bytes framed. */
static size_t frame_data(struct mps_conn *c, struct mps_subflow *sf, uint64_t dsn, size_t maxlen)
{
	const uint8_t *p;
	size_t len = mps_sendbuf_peek(&c->sb, dsn, MPS_MIN(maxlen, (size_t)MPS_DATA_MAX), &p);
	struct mps_seg *s;
	int ackf = c->rx_mode == RX_MP;

	if (len == 0 || !(s = seg_add(sf)))
		return 0;
	s->dsn = dsn;
	s->payload = p;
	s->plen = (uint32_t)len;
	s->hlen = (uint8_t)mps_frame_put_data_hdr(s->hdr, ackf ? MPS_DF_ACK : 0, dsn, c->rcv_nxt,
						  adv_wnd(c), s->plen);
	if (ackf)
		note_ack_sent(c);
	sf->queued += s->hlen + len;
	sf->tx_bytes += len;
	mps_ranges_trim(&sf->sent, c->snd_una);
	mps_ranges_add(&sf->sent, dsn, dsn + len);
	if (mps_dsn_lt(c->snd_max, dsn + len))
		c->snd_max = dsn + len;
	return len;
}

static int frame_fin(struct mps_conn *c, struct mps_subflow *sf)
{
	struct mps_seg *s = seg_add(sf);
	int ackf = c->rx_mode == RX_MP;

	if (!s)
		return -1;
	s->dsn = c->sb.end;
	s->hlen = (uint8_t)mps_frame_put_data_hdr(s->hdr, MPS_DF_FIN | (ackf ? MPS_DF_ACK : 0),
						  s->dsn, c->rcv_nxt, adv_wnd(c), 0);
	sf->queued += s->hlen;
	mps_dbg("conn %s: DATA_FIN%s on subflow %d", c->peer_str, c->fin_sent ? " again" : "",
		sf->id);
	sf->fin_on = 1;
	c->fin_sent = 1;
	c->fin_resend = 0;
	c->fin_dsn = c->sb.end;
	if (ackf)
		note_ack_sent(c);
	return 0;
}

/* New data may be framed up to here (the peer's window; before the peer is
 * known, the first flight). */
static uint64_t send_limit(const struct mps_conn *c)
{
	uint64_t limit = c->sb.end;

	if (mps_dsn_lt(c->snd_edge, limit))
		limit = c->snd_edge;
	return limit;
}

static size_t sf_budget(const struct mps_conn *c, const struct mps_subflow *sf, int multi)
{
	size_t cap = multi ? SF_BURST : SF_QUEUE_MAX;

	if (sf->nseg >= MAX_SEGS - 2 || sf->queued >= cap)
		return 0;
	return cap - sf->queued;
}

static void plain_frame(struct mps_conn *c, struct mps_subflow *sf);

/* Plain relay: raw bytes on the only subflow. */
static void plain_push(struct mps_conn *c)
{
	struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;

	if (!sf || sf->fd < 0 || sf->wr_dead || sf->state == SF_CONNECTING || sf->state == SF_DEAD)
		return;
	/* Frame and write until the kernel pushes back (the write watcher
	 * brings us back) or nothing is left: returning with bytes unframed
	 * and no watcher armed would strand them. */
	for (;;) {
		uint64_t before = c->snd_nxt;

		plain_frame(c, sf);
		sf_flush(c, sf);
		if (c->snd_nxt == before || sf->nseg > 0 || sf->wr_dead || sf->fd < 0)
			break;
	}
	if (c->tx_mode == TX_PLAIN && c->app_eof && c->snd_nxt == c->sb.end && !c->fin_sent) {
		c->fin_sent = 1; /* shutdown(SHUT_WR) once the queue drains */
		sf_flush(c, sf);
	}
}

static void plain_frame(struct mps_conn *c, struct mps_subflow *sf)
{
	while (sf->nseg < MAX_SEGS && sf->queued < SF_QUEUE_MAX && mps_dsn_lt(c->snd_nxt, c->sb.end)) {
		const uint8_t *p;
		size_t len = mps_sendbuf_peek(&c->sb, c->snd_nxt, (size_t)(c->sb.end - c->snd_nxt), &p);
		struct mps_seg *s;

		if (len == 0 || !(s = seg_add(sf)))
			break;
		s->plain = 1;
		s->dsn = c->snd_nxt;
		s->payload = p;
		s->plen = (uint32_t)len;
		sf->queued += len;
		sf->tx_bytes += len;
		c->snd_nxt += len;
	}
}

static void redundant_push(struct mps_conn *c, uint64_t limit)
{
	int i;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		size_t budget;

		size_t framed = 0;

		if (!sf_usable(sf) || !sf->ready)
			continue;
		/* DSNs are compared modulo 2^64: an unset cursor (0) is not
		 * "behind" snd_una half the time, so it is set explicitly. */
		if (!sf->red_init || mps_dsn_lt(sf->red_nxt, c->snd_una)) {
			sf->red_nxt = c->snd_una;
			sf->red_init = 1;
		}
		budget = sf_budget(c, sf, 1);
		while (budget > 0 && mps_dsn_lt(sf->red_nxt, limit)) {
			size_t n = frame_data(c, sf, sf->red_nxt,
					      MPS_MIN(budget, (size_t)(limit - sf->red_nxt)));

			if (!n)
				break;
			sf->red_nxt += n;
			framed += n;
			budget = n > budget ? 0 : budget - n;
		}
		if (mps_dsn_lt(c->snd_nxt, sf->red_nxt))
			c->snd_nxt = sf->red_nxt;
		sf_flush(c, sf);
		if (framed || budget == 0) {
			/* More only once the kernel says it has room; with nothing
			 * to send, stay ready (re-arming would spin). */
			sf->ready = 0;
			ev_io_start(c->loop, &sf->wio);
		}
	}
}

/* The scheduler: hand new data to subflows that have room. */
static void stale_arm(struct mps_conn *c);

static void conn_push(struct mps_conn *c)
{
	uint64_t limit;
	int multi, i;

	if (c->dead || c->tx_mode == TX_HOLD || atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return;
	if (c->tx_mode == TX_PLAIN) {
		plain_push(c);
		return;
	}
	limit = send_limit(c);
	multi = n_usable(c) > 1;
	if (c->sched.ops->redundant && multi)
		redundant_push(c, limit);
	else {
		struct mps_sf_view v[MPS_MAX_SUBFLOWS];

		mps_ranges_trim(&c->reinj, c->snd_una);
		while (c->reinj.n || mps_dsn_lt(c->snd_nxt, limit)) {
			struct mps_subflow *sf;
			size_t budget, framed = 0;
			int k;

			for (i = 0; i < c->nsf; i++) {
				struct mps_subflow *s = c->sf[i];

				v[i].rtt_us = s->rtt_us;
				v[i].usable = (uint8_t)sf_usable(s);
				v[i].ready = (uint8_t)(s->ready && sf_budget(c, s, multi) > 0);
				v[i].backup = s->backup;
				v[i].tx_bytes = s->tx_bytes;
			}
			k = c->sched.ops->pick(&c->sched, v, c->nsf);
			if (k < 0)
				break;
			sf = c->sf[k];
			budget = sf_budget(c, sf, multi);
			/* Reinjected bytes first: they hold up the receiver. */
			while (framed < budget && c->reinj.n) {
				uint64_t at = c->reinj.r[0].start, end = c->reinj.r[0].end;
				size_t n = frame_data(c, sf, at,
						      (size_t)MPS_MIN(budget - framed, end - at));

				if (!n)
					break;
				mps_ranges_pop(&c->reinj, n, &at);
				framed += n;
			}
			while (framed < budget && mps_dsn_lt(c->snd_nxt, limit)) {
				size_t n = frame_data(c, sf, c->snd_nxt,
						      MPS_MIN(budget - framed,
							      (size_t)(limit - c->snd_nxt)));

				if (!n)
					break;
				c->snd_nxt += n;
				framed += n;
			}
			if (multi || framed == 0) {
				/* Next time only once the kernel says it has room. */
				sf->ready = 0;
				ev_io_start(c->loop, &sf->wio);
			}
			sf_flush(c, sf);
			if (c->dead)
				return;
		}
	}
	/* Everything framed: the end of the stream follows, on one subflow. */
	if (c->app_eof && (!c->fin_sent || c->fin_resend) && !c->fin_acked &&
	    c->snd_nxt == c->sb.end && c->reinj.n == 0) {
		struct mps_subflow *sf = best_usable(c);

		if (sf)
			frame_fin(c, sf);
	}
	if (c->nsf > 1 && (mps_dsn_lt(c->snd_una, c->snd_max) || (c->fin_sent && !c->fin_acked)))
		stale_arm(c); /* a lone DATA_FIN can be stuck on a dead path too */
	/* Control frames (HELLO_ACK, ADD_ADDR, ACKs, JOIN_OK) and the FIN
	 * wait in the queues too: write whatever is queued. */
	for (i = 0; i < c->nsf && !c->dead; i++) {
		struct mps_subflow *sf = c->sf[i];

		if (sf->nseg > 0 && sf->state != SF_CONNECTING && !ev_is_active(&sf->wio))
			sf_flush(c, sf);
	}
}

/* The subflow cannot be written any more (EPIPE, ECONNRESET...).  Nothing
 * is decided here: what the peer sent before is still in the kernel and is
 * read and delivered first; the read side then sees the error or EOF and
 * decides. */
static void sf_write_failed(struct mps_conn *c, struct mps_subflow *sf, int err)
{
	mps_dbg("conn %s: subflow %d write failed: %s", c->peer_str, sf->id, strerror(err));
	sf->wr_dead = 1;
	sf->nseg = 0;
	sf->queued = 0;
	sf->seg_done = 0;
	ev_io_stop(c->loop, &sf->wio);
	if (!c->rx_blocked && sf->fd >= 0) {
		ev_io_start(c->loop, &sf->rio);
		ev_feed_event(c->loop, &sf->rio, EV_READ);
	}
}

static void release_acked(struct mps_conn *c);

/* Write queued segments.  0, or -1 when the subflow failed (handled). */
static int sf_flush(struct mps_conn *c, struct mps_subflow *sf)
{
	while (sf->nseg > 0 && sf->fd >= 0 && !sf->wr_dead) {
		struct iovec iov[2 * MAX_SEGS];
		struct msghdr mh;
		size_t skip = sf->seg_done;
		int n = 0, i;
		ssize_t w;

		for (i = 0; i < sf->nseg; i++) {
			struct mps_seg *s = &sf->seg[i];

			if (s->hlen > skip) {
				iov[n].iov_base = s->hdr + skip;
				iov[n++].iov_len = s->hlen - skip;
				skip = 0;
			} else
				skip -= s->hlen;
			if (s->plen > skip) {
				iov[n].iov_base = (void *)(s->payload + skip);
				iov[n++].iov_len = s->plen - skip;
				skip = 0;
			} else
				skip -= s->plen;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		w = mps_real.sendmsg(sf->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				sf->ready = 0;
				ev_io_start(c->loop, &sf->wio);
				return 0;
			}
			sf_write_failed(c, sf, errno);
			return -1;
		}
		sf->queued -= (size_t)w;
		w += (ssize_t)sf->seg_done;
		sf->seg_done = 0;
		for (i = 0; i < sf->nseg; i++) {
			struct mps_seg *s = &sf->seg[i];
			size_t total = s->hlen + s->plen;

			if ((size_t)w < total) {
				sf->seg_done = (size_t)w;
				break;
			}
			w -= (ssize_t)total;
			if (s->plain)
				mps_sendbuf_ack(&c->sb, s->dsn + s->plen);
		}
		if (i > 0) {
			memmove(sf->seg, sf->seg + i, (size_t)(sf->nseg - i) * sizeof(struct mps_seg));
			sf->nseg -= i;
		}
	}
	/* A frame that was partly written pinned the send buffer below it
	 * (release_acked); once written, free what the peer has ACKed. */
	if (c->tx_mode == TX_MP && mps_dsn_lt(c->sb.una, c->snd_una))
		release_acked(c);
	if (c->tx_mode == TX_PLAIN && c->fin_sent && !sf->wr_shut && sf->fd >= 0 &&
	    sf->nseg == 0 && c->snd_nxt == c->sb.end) {
		shutdown(sf->fd, SHUT_WR);
		sf->wr_shut = 1;
	}
	return 0;
}

static void app_on_write(struct ev_loop *loop, ev_io *w, int revents);
static void client_join_connected(struct mps_conn *c, struct mps_subflow *sf);
static void conn_on_connected(struct ev_loop *loop, ev_io *w, int revents);

static void sf_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_subflow *sf = w->data;
	struct mps_conn *c = sf->c;

	ev_io_stop(loop, w);
	if (!c || c->dead)
		return;
	if (sf->state == SF_CONNECTING) {
		client_join_connected(c, sf);
		return;
	}
	sf->ready = 1;
	sf_flush(c, sf);
	conn_push(c);
	if (c->dead)
		return;
	app_update_read(c);
	conn_check_done(c);
}

/* ------------------------------------------------------------- app side */

/* Read app bytes while there is room; start/stop the watcher to match. */
static void app_update_read(struct mps_conn *c)
{
	int want = !c->app_eof && !c->dead && c->tx_mode != TX_HOLD &&
		   atomic_load(&c->sock->state) != MPS_SS_CONNECTING;

	if (want) {
		size_t unsent = (size_t)(c->sb.end - c->snd_nxt);

		if (mps_sendbuf_space(&c->sb) == 0 || unsent >= UNSENT_MAX)
			want = 0;
		if (c->tx_mode == TX_MP && c->rx_mode == RX_NEGO &&
		    !mps_dsn_lt(c->sb.end, c->snd_start + c->first_flight))
			want = 0; /* first flight: no more until the peer is known */
	}
	/* The server holds the app's first bytes until it knows the peer. */
	if (c->tx_mode == TX_HOLD && c->window_expired && !c->dead)
		want = 1;
	if (want)
		ev_io_start(c->loop, &c->app_r);
	else
		ev_io_stop(c->loop, &c->app_r);
}

static void server_release(struct mps_conn *c)
{
	/* Banner window over and the app has spoken: its bytes go out raw.
	 * The client's first bytes are still checked (nego RELEASED). */
	mps_nego_timeout(&c->nego);
	c->tx_mode = TX_PLAIN;
	mps_sendbuf_init(&c->sb, 0, mps_config()->sndbuf);
	c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = 0;
	mps_dbg("conn %s: banner window expired, server bytes go out plain", c->peer_str);
}

static void app_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;
	int i;

	if (c->tx_mode == TX_HOLD) {
		if (!c->window_expired) {
			ev_io_stop(loop, w);
			return;
		}
		server_release(c);
	}
	for (i = 0; i < READ_BUDGET; i++) {
		struct iovec iov[16];
		size_t room = mps_sendbuf_space(&c->sb);
		size_t unsent = (size_t)(c->sb.end - c->snd_nxt);
		int n;
		ssize_t r;

		if (unsent >= UNSENT_MAX)
			break;
		room = MPS_MIN(room, UNSENT_MAX - unsent);
		if (c->tx_mode == TX_MP && c->rx_mode == RX_NEGO) {
			uint64_t lim = c->snd_start + c->first_flight;

			room = mps_dsn_lt(c->sb.end, lim) ? MPS_MIN(room, (size_t)(lim - c->sb.end)) : 0;
		}
		if (room == 0)
			break;
		n = mps_sendbuf_reserve(&c->sb, iov, 16, room);
		if (n <= 0) {
			conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
			return;
		}
		r = mps_real.readv(c->app_fd, iov, n);
		if (r > 0) {
			mps_sendbuf_commit(&c->sb, (size_t)r);
			continue;
		}
		if (r == 0) {
			c->app_eof = 1;
			mps_dbg("conn %s: app finished sending", c->peer_str);
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (c->exiting) {
				/* The process is ending: nothing more will come. */
				c->app_eof = 1;
			}
			break;
		}
		/* ECONNRESET: the app closed with our bytes unread, as an RST. */
		conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	conn_push(c);
	if (c->dead)
		return;
	app_update_read(c);
	conn_check_done(c);
}

static void fin_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_abort(w->data, MPS_CR_TIMEOUT, 1, "peer did not finish after the app closed");
}

/* ------------------------------------------------------------- receive
 * MP mode never stops reading its subflows: ACKs travel in-band behind
 * data, so a receiver that stopped reading when its app is slow would
 * never see the ACKs that let its own sender go on (both apps echoing
 * deadlock that way).  In-order bytes go straight to the app; what the app
 * cannot take now waits in rxq, which the advertised window bounds. */

/* Write to the app.  Bytes written (0 when its buffer is full), or -1 when
 * the app is gone (c is then aborted). */
static ssize_t app_write(struct mps_conn *c, struct iovec *iov, int n)
{
	ssize_t w;

	do
		w = mps_real.writev(c->app_fd, iov, n);
	while (w < 0 && errno == EINTR);
	if (w >= 0)
		return w;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	/* EPIPE/ECONNRESET: the app closed; data it will never read. */
	conn_abort(c, MPS_CR_ABORT, 1, NULL);
	return -1;
}

/* The app sees EOF once every byte before the DATA_FIN is in its hands. */
static void fin_to_app(struct mps_conn *c)
{
	if (c->rcv_fin && !c->fin_delivered && rxq_empty(c)) {
		c->fin_delivered = 1;
		shutdown(c->app_fd, SHUT_WR);
		mps_dbg("conn %s: peer finished sending", c->peer_str);
	}
}

static void rcv_fin_reached(struct mps_conn *c)
{
	c->rcv_fin = 1;
	ev_timer_stop(c->loop, &c->fin_timer);
	fin_to_app(c);
}

static int rxq_append(struct mps_conn *c, const uint8_t *p, size_t len)
{
	if (mps_sendbuf_space(&c->rxq) < len) {
		conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: peer exceeded the receive window");
		return -1;
	}
	while (len > 0) {
		struct iovec iov[4];
		int n = mps_sendbuf_reserve(&c->rxq, iov, 4, len), i;
		size_t done = 0;

		if (n <= 0) {
			conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
			return -1;
		}
		for (i = 0; i < n; i++) {
			memcpy(iov[i].iov_base, p + done, iov[i].iov_len);
			done += iov[i].iov_len;
		}
		mps_sendbuf_commit(&c->rxq, done);
		p += done;
		len -= done;
	}
	return 0;
}

struct batch {
	struct iovec iov[64];
	int n;
};

/* Hand accepted in-order bytes on: to the app directly when nothing waits
 * before them, the rest into rxq.  0, or -1 when c died. */
static int batch_flush(struct mps_conn *c, struct batch *b)
{
	ssize_t w = 0;
	int i;

	if (b->n == 0)
		return 0;
	if (rxq_empty(c)) {
		w = app_write(c, b->iov, b->n);
		if (w < 0)
			return -1;
	}
	for (i = 0; i < b->n; i++) {
		size_t len = b->iov[i].iov_len;

		if ((size_t)w >= len) {
			w -= (ssize_t)len;
			continue;
		}
		if (rxq_append(c, (const uint8_t *)b->iov[i].iov_base + w, len - (size_t)w))
			return -1;
		w = 0;
	}
	b->n = 0;
	if (!rxq_empty(c))
		ev_io_start(c->loop, &c->app_w);
	return 0;
}

static int batch_add(struct mps_conn *c, struct batch *b, const uint8_t *p, size_t len)
{
	if (b->n == (int)MPS_ARRAY_SIZE(b->iov) && batch_flush(c, b))
		return -1;
	b->iov[b->n].iov_base = (void *)p;
	b->iov[b->n++].iov_len = len;
	return 0;
}

/* Drop queued, not yet started segments whose bytes the peer has, and free
 * the send buffer below the lowest byte a partly written frame still needs. */
static void release_acked(struct mps_conn *c)
{
	uint64_t pin = c->snd_una;
	int i, j, k;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		for (j = 0, k = 0; j < sf->nseg; j++) {
			struct mps_seg *s = &sf->seg[j];
			int started = j == 0 && sf->seg_done > 0;

			if (!started && s->plen > 0 && !s->plain &&
			    mps_dsn_le(s->dsn + s->plen, c->snd_una)) {
				sf->queued -= s->hlen + s->plen;
				continue;
			}
			if (started && s->plen > 0 && mps_dsn_lt(s->dsn, pin))
				pin = s->dsn;
			if (k != j)
				sf->seg[k] = *s;
			k++;
		}
		sf->nseg = k;
	}
	if (mps_dsn_lt(c->sb.una, pin))
		mps_sendbuf_ack(&c->sb, pin);
	/* Bytes ACKed but pinned by a frame half-written into a slow or
	 * stale subflow's socket do not count against the app: only what
	 * the peer lacks does.  (Memory: at most twice MPTCPSHIM_SNDBUF.) */
	c->sb.limit = mps_config()->sndbuf + (size_t)(c->snd_una - c->sb.una);
}

/* ack/wnd from the peer.  0, or -1 when c was aborted. */
static int handle_ack(struct mps_conn *c, uint64_t ack, uint32_t wnd)
{
	uint64_t max = c->fin_sent ? c->fin_dsn + 1 : c->snd_max;

	if (mps_dsn_lt(ack, c->snd_una))
		return 0; /* stale */
	if (mps_dsn_lt(max, ack)) {
		conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: data ACK beyond what was sent");
		return -1;
	}
	if (mps_dsn_lt(c->snd_edge, ack + wnd))
		c->snd_edge = ack + wnd;
	if (c->fin_sent && ack == c->fin_dsn + 1) {
		if (!c->fin_acked)
			mps_dbg("conn %s: our DATA_FIN is acknowledged", c->peer_str);
		c->fin_acked = 1;
		ack = c->fin_dsn;
	}
	if (mps_dsn_lt(c->snd_una, ack)) {
		c->last_progress = ev_now(c->loop);
		c->snd_una = ack;
		if (mps_dsn_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		release_acked(c);
	}
	return 0;
}

static void pm_on_add_addr(struct mps_conn *c, const struct mps_addr *a);
static void pm_on_remove_addr(struct mps_conn *c, uint8_t id);
static void drop_sf(struct mps_conn *c, struct mps_subflow *sf, const char *why);

static void rx_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	struct batch b;
	int dup = 0;

	b.n = 0;
	while (!c->dead) {
		struct mps_frame f;
		const char *why = NULL;
		char msg[128];
		int rc = mps_frame_decode(sf->rbuf + sf->roff, sf->rlen - sf->roff, &f, &why);

		if (rc == 0)
			break;
		if (rc < 0) {
			if (batch_flush(c, &b))
				return;
			snprintf(msg, sizeof(msg), "protocol: %s", why);
			conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
			return;
		}
		sf->peer_live = 1; /* the peer sends on it: it counts it */
		switch (f.type) {
		case MPS_F_DATA: {
			uint64_t dsn = f.u.data.dsn, end = dsn + f.u.data.len;
			const uint8_t *p = f.u.data.payload;

			if ((f.flags & MPS_DF_ACK) && handle_ack(c, f.u.data.ack, f.u.data.wnd))
				return;
			if (mps_dsn_lt(c->rcv_edge, end)) {
				if (batch_flush(c, &b) == 0)
					conn_abort(c, MPS_CR_PROTOCOL, 1,
						   "protocol: peer exceeded the receive window");
				return;
			}
			if ((f.flags & MPS_DF_FIN) && !c->fin_seen) {
				c->fin_seen = 1;
				c->rcv_fin_dsn = end;
			}
			/* Data (or DATA_FIN) we already have: the sender is
			 * resending because our ACK got lost with a path. */
			if (c->rcv_fin || !mps_dsn_lt(c->rcv_nxt, end))
				dup = 1;
			if (!c->rcv_fin && mps_dsn_lt(c->rcv_nxt, end)) {
				if (mps_dsn_lt(dsn, c->rcv_nxt)) {
					p += c->rcv_nxt - dsn; /* the front is a duplicate */
					dsn = c->rcv_nxt;
				}
				if (dsn == c->rcv_nxt) {
					if (batch_add(c, &b, p, (size_t)(end - dsn)))
						return;
					c->rcv_nxt = end;
					/* The gap this filled may free what waits behind it. */
					for (;;) {
						const uint8_t *q;
						size_t n = mps_ofo_peek(&c->ofo, c->rcv_nxt, &q);

						if (!n)
							break;
						if (batch_add(c, &b, q, n))
							return;
						c->rcv_nxt += n;
					}
				} else if (mps_ofo_insert(&c->ofo, c->rcv_nxt, dsn, p,
							  (size_t)(end - dsn))) {
					batch_flush(c, &b);
					conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
					return;
				}
			}
			if (c->fin_seen && !c->rcv_fin && c->rcv_nxt == c->rcv_fin_dsn) {
				c->rcv_fin = 1; /* DATA_FIN takes one DSN */
				c->rcv_nxt++;
				ev_timer_stop(c->loop, &c->fin_timer);
			}
			break;
		}
		case MPS_F_ACK:
			if (handle_ack(c, f.u.ack.ack, f.u.ack.wnd))
				return;
			break;
		case MPS_F_ADD_ADDR:
		case MPS_F_REMOVE_ADDR:
			if (c->role != MPS_CLIENT) {
				batch_flush(c, &b);
				conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: address frame sent to a server");
				return;
			}
			if (f.type == MPS_F_ADD_ADDR)
				pm_on_add_addr(c, &f.u.addr);
			else
				pm_on_remove_addr(c, f.u.addr.addr_id);
			break;
		case MPS_F_PRIO:
			sf->backup = (f.u.prio & MPS_PF_BACKUP) != 0;
			mps_info("conn %s: subflow %d is %s", c->peer_str, sf->id,
				 sf->backup ? "a backup" : "no longer a backup");
			break;
		case MPS_F_CLOSE:
			if (batch_flush(c, &b))
				return;
			mps_info("conn %s: peer aborted the connection (reason %u)", c->peer_str,
				 f.u.reason);
			conn_abort(c, 0, 0, NULL);
			return;
		default:
			if (batch_flush(c, &b))
				return;
			snprintf(msg, sizeof(msg), "protocol: unexpected %s frame",
				 mps_frame_type_name(f.type));
			conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
			return;
		}
		sf->roff += (size_t)rc;
	}
	if (batch_flush(c, &b))
		return;
	mps_ofo_advance(&c->ofo, c->rcv_nxt); /* only now: the batch pointed into it */
	fin_to_app(c);
	if (dup)
		send_ack(c); /* at once, even if rcv_nxt did not move */
	else
		ack_update(c);
}

/* Plain mode: raw bytes, and plain TCP flow control (stop reading the
 * subflow while the app is full). */
static void rx_plain(struct mps_conn *c, struct mps_subflow *sf)
{
	while (sf->roff < sf->rlen) {
		struct iovec iov = {sf->rbuf + sf->roff, sf->rlen - sf->roff};
		ssize_t w = app_write(c, &iov, 1);

		if (w < 0)
			return;
		if (w == 0) {
			c->rx_blocked = 1;
			ev_io_stop(c->loop, &sf->rio);
			ev_io_start(c->loop, &c->app_w);
			return;
		}
		sf->roff += (size_t)w;
	}
}

static void rx_process(struct mps_conn *c, struct mps_subflow *sf)
{
	if (c->rx_mode == RX_MP)
		rx_mp(c, sf);
	else if (c->rx_mode == RX_PLAIN)
		rx_plain(c, sf);
	if (c->dead || sf->state == SF_DEAD)
		return;
	/* Keep a partial frame at the front for the next read. */
	if (sf->roff == sf->rlen)
		sf->roff = sf->rlen = 0;
	else if (sf->roff > 0 && RBUF_SIZE - sf->rlen < MPS_FRAME_MAX) {
		memmove(sf->rbuf, sf->rbuf + sf->roff, sf->rlen - sf->roff);
		sf->rlen -= sf->roff;
		sf->roff = 0;
	}
	conn_push(c);
	if (c->dead)
		return;
	app_update_read(c);
	conn_check_done(c);
}

/* The app can take more: drain rxq (MP) or resume the plain relay. */
static void app_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->rx_mode != RX_MP) {
		struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;

		ev_io_stop(loop, w);
		c->rx_blocked = 0;
		if (!sf)
			return;
		rx_process(c, sf);
		if (!c->dead && !c->rx_blocked && sf->fd >= 0)
			ev_io_start(loop, &sf->rio);
		return;
	}
	while (!rxq_empty(c)) {
		struct iovec iov[16];
		uint64_t dsn = c->rxq.una;
		int n = 0;
		ssize_t wr;

		while (n < 16 && mps_dsn_lt(dsn, c->rxq.end)) {
			const uint8_t *p;
			size_t len = mps_sendbuf_peek(&c->rxq, dsn, SIZE_MAX, &p);

			if (len == 0)
				break;
			iov[n].iov_base = (void *)p;
			iov[n++].iov_len = len;
			dsn += len;
		}
		wr = app_write(c, iov, n);
		if (wr < 0)
			return;
		if (wr == 0)
			return; /* still full: stay armed */
		mps_sendbuf_ack(&c->rxq, c->rxq.una + (uint64_t)wr);
	}
	ev_io_stop(loop, w);
	fin_to_app(c);
	ack_update(c); /* the window opened */
	conn_check_done(c);
}

/* Every app descriptor is closed (or errored). */
static void conn_app_hup(struct mps_conn *c)
{
	c->app_closed = 1;
	mps_dbg("conn %s: app closed", c->peer_str);
	if (atomic_load(&c->sock->linger0)) {
		/* close() with SO_LINGER {1, 0}: an abortive close, as TCP's RST. */
		conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	if (c->rx_blocked || !rxq_empty(c)) {
		/* Data for the app that it will never read: TCP answers with RST. */
		conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	/* Drain what the app wrote before closing; EOF then ends our stream. */
	if (!c->app_eof) {
		if (c->tx_mode == TX_HOLD)
			c->window_expired = 1;
		app_update_read(c);
		ev_feed_event(c->loop, &c->app_r, EV_READ);
	}
	if (!c->rcv_fin) {
		ev_timer_set(&c->fin_timer, FIN_WAIT_TIMEOUT, 0.);
		ev_timer_start(c->loop, &c->fin_timer);
	}
	conn_check_done(c);
}

/* ------------------------------------------------------------- subflow loss */

/* ------------------------------------------------------------- outage */

static void outage_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;
	char msg[96];

	snprintf(msg, sizeof(msg), "no path came back within %u s (MPTCPSHIM_OUTAGE_TIMEOUT)",
		 mps_config()->outage_timeout);
	conn_abort_err(c, MPS_CR_TIMEOUT, 0, msg, ETIMEDOUT);
}

static void rejoin_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	pm_fill(c);
	if (c->dead)
		return;
	if (c->outage)
		c->rejoin_backoff = MPS_MIN(c->rejoin_backoff * 2, 2.0);
	else if ((c->rejoin_backoff *= 2) > 8.0)
		return; /* after a loss: 0.5, 1, 2, 4, 8 s; netlink events retry too */
	ev_timer_set(w, c->rejoin_backoff, 0.);
	ev_timer_start(loop, w);
}

/* The last working subflow is gone before the stream ended: hold the
 * connection for MPTCPSHIM_OUTAGE_TIMEOUT.  The app sees a stall.  The
 * client keeps trying to rejoin (with backoff, and at once on a link or
 * address event); the server waits for a join. */
static void outage_begin(struct mps_conn *c, const char *why)
{
	if (c->outage || c->dead)
		return;
	c->outage = 1;
	c->outage_since = ev_now(c->loop);
	mps_warn("conn %s: no working path (%s): holding the connection for up to %u s",
		 c->peer_str, why, mps_config()->outage_timeout);
	resend_from_una(c);
	ev_timer_set(&c->outage_timer, mps_config()->outage_timeout, 0.);
	ev_timer_start(c->loop, &c->outage_timer);
	if (c->role == MPS_CLIENT) {
		c->rejoin_backoff = 0.1;
		ev_timer_set(&c->rejoin_timer, c->rejoin_backoff, 0.);
		ev_timer_start(c->loop, &c->rejoin_timer);
	}
}

static void outage_end(struct mps_conn *c)
{
	if (!c->outage)
		return;
	c->outage = 0;
	ev_timer_stop(c->loop, &c->outage_timer);
	ev_timer_stop(c->loop, &c->rejoin_timer);
	c->last_progress = ev_now(c->loop);
	mps_warn("conn %s: path back after %.2f s, resuming", c->peer_str,
		 ev_now(c->loop) - c->outage_since);
}

/* ------------------------------------------------------------- blackholes
 * A path can die silently: no RST, no link event, packets just vanish.
 * TCP would retransmit for minutes.  Every 25 ms, while two or more
 * subflows carry data, compare their TCP-level ACK progress (TCP_INFO):
 * a subflow with data unacknowledged whose ACKs stopped for
 * max(3 x the largest smoothed RTT, 100 ms) while another's moved is stale:
 * the scheduler skips it and everything not data-ACKed is resent on the
 * others at once.  It stays open as its own probe: TCP keeps retransmitting
 * on it, and when its ACKs move again it is back in use. */

#define STALE_TICK 0.025
#define STALE_MIN 0.100

static void stale_arm(struct mps_conn *c)
{
	if (!ev_is_active(&c->stale_tick) && c->nsf > 1 && c->rx_mode == RX_MP && !c->dead) {
		ev_timer_set(&c->stale_tick, STALE_TICK, STALE_TICK);
		ev_timer_start(c->loop, &c->stale_tick);
	}
}

static void stale_on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;
	double now = ev_now(loop), thresh, newest = 0;
	uint32_t max_rtt = 0;
	int i, became = 0, busy = 0;
	struct tcp_info ti[MPS_MAX_SUBFLOWS];
	int have[MPS_MAX_SUBFLOWS], out[MPS_MAX_SUBFLOWS];

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		socklen_t len = sizeof(ti[i]);

		have[i] = sf->state == SF_ACTIVE && sf->fd >= 0 && !sf->wr_dead &&
			  mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &ti[i], &len) == 0;
		if (!have[i])
			continue;
		if (ti[i].tcpi_bytes_acked != sf->acked_seen || sf->acked_at == 0) {
			sf->acked_seen = ti[i].tcpi_bytes_acked;
			sf->acked_at = now;
		}
		/* Bytes in flight, or unsent ones: a local drop (a firewall's
		 * output hook, a dead link) keeps a segment out of flight. */
		out[i] = ti[i].tcpi_unacked > 0 || ti[i].tcpi_notsent_bytes > 0;
		if (!out[i])
			sf->acked_at = now; /* nothing to send: nothing to wait for */
		else
			busy = 1;
		if (sf->acked_at > newest)
			newest = sf->acked_at;
		if (ti[i].tcpi_rtt > max_rtt)
			max_rtt = ti[i].tcpi_rtt;
		sf->rtt_us = ti[i].tcpi_rtt;
	}
	thresh = MPS_MAX(3.0 * max_rtt / 1e6, STALE_MIN);
	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		if (!have[i])
			continue;
		if (sf->stale && now - sf->acked_at < thresh) {
			sf->stale = 0;
			sf->ready = 1;
			mps_info("conn %s: subflow %d recovered", c->peer_str, sf->id);
			update_lowat(c);
		} else if (!sf->stale && out[i] && now - sf->acked_at > thresh &&
			   newest - sf->acked_at > thresh && n_usable(c) > 1) {
			sf->stale = 1;
			became = 1;
			reinject_sf(c, sf);
			mps_info("conn %s: subflow %d stale (no ACK for %.0f ms while others "
				 "progress): data moved to the others",
				 c->peer_str, sf->id, (now - sf->acked_at) * 1e3);
		}
	}
	if (became) {
		/* What the stale path holds was queued for reinjection. */
		send_ack(c); /* ours may be stuck on the stale path too */
		conn_push(c);
	}
	if (!busy && !became && c->snd_una == c->snd_max && (!c->fin_sent || c->fin_acked)) {
		int any_stale = 0;

		/* Idle at the data level too (TCP may have delivered bytes whose
		 * data ACK is still on its way): conn_push re-arms. */
		for (i = 0; i < c->nsf; i++)
			any_stale |= c->sf[i]->stale;
		if (!any_stale)
			ev_timer_stop(loop, w);
	}
}

/* Progress watchdog, every second: bytes outstanding and not a single one
 * data-ACKed for the outage timeout means the paths are dead even if TCP
 * has not said so (blackhole): the app gets ETIMEDOUT, as with TCP's
 * user timeout. */
static void watchdog_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;
	int idle = c->snd_una == c->snd_max && (!c->fin_sent || c->fin_acked);

	if (c->rx_mode != RX_MP || idle) {
		c->last_progress = ev_now(loop);
		return;
	}
	/* Data-level retransmission: nothing ACKed for a second although a
	 * path works means an ACK (or the data) was lost with a path that
	 * died: send again from snd_una; the receiver re-ACKs duplicates. */
	if (!c->outage && n_usable(c) > 0 && ev_now(loop) - c->last_resend > 1.0 &&
	    ev_now(loop) - c->last_progress > 1.0) {
		c->last_resend = ev_now(loop);
		resend_from_una(c);
		conn_push(c);
		if (c->dead)
			return;
	}
	if (ev_now(loop) - c->last_progress > mps_config()->outage_timeout) {
		char msg[96];

		snprintf(msg, sizeof(msg), "no data acknowledged for %u s (MPTCPSHIM_OUTAGE_TIMEOUT)",
			 mps_config()->outage_timeout);
		conn_abort_err(c, MPS_CR_TIMEOUT, 1, msg, ETIMEDOUT);
	}
}

/* sf is gone (error, EOF, withdrawn address) while the connection lives on
 * other subflows.  Its bytes not data-ACKed are sent again on the others
 * (the receiver drops what it already has). */
static void sf_lost(struct mps_conn *c, struct mps_subflow *sf, const char *why)
{
	if (c->rcv_fin) /* the peer is closing down: expected */
		mps_dbg("conn %s: subflow %d closed (%s)", c->peer_str, sf->id, why);
	else
		mps_info("conn %s: subflow %d lost (%s); %d left", c->peer_str, sf->id, why,
			 n_usable(c) - sf_usable(sf));
	sf_log_stats(c, sf);
	reinject_sf(c, sf);
	conn_del_sf(c, sf);
	mps_sf_free(c->loop, sf, 1);
	update_lowat(c);
	send_ack(c); /* the last ACK may have left on the lost path */
	/* Client: try that path again later (it may come back without a
	 * netlink event, e.g. after a reset by a middlebox). */
	if (c->role == MPS_CLIENT && !ev_is_active(&c->rejoin_timer)) {
		c->rejoin_backoff = 0.5;
		ev_timer_set(&c->rejoin_timer, c->rejoin_backoff, 0.);
		ev_timer_start(c->loop, &c->rejoin_timer);
	}
	conn_push(c);
}

/* EOF or error on an MP subflow. */
static void sf_mp_eof(struct mps_conn *c, struct mps_subflow *sf, int err)
{
	/* A live peer shim never FINs a subflow mid-stream (it resets those
	 * it drops; FIN comes only at the connection's end), but a dying
	 * peer process's kernel does, on all its subflows within moments
	 * (RST on those with unread data).  So after a mid-stream FIN, the
	 * last subflow closing within 2 s means the peer is gone: a reset
	 * for the app, not an outage. */
	int peer_leaving = sf->state == SF_ACTIVE && !c->rcv_fin &&
			   c->peer_closed_at > 0 && ev_now(c->loop) - c->peer_closed_at < 2.0;

	if (sf->state == SF_ACTIVE && !c->rcv_fin && !err)
		c->peer_closed_at = ev_now(c->loop);
	ev_io_stop(c->loop, &sf->rio);
	if (peer_leaving && n_usable(c) - sf_usable(sf) == 0) {
		conn_abort(c, 0, 0, "every subflow closed by the peer before the stream ended");
		return;
	}
	if (sf->state == SF_ACTIVE && c->rcv_fin && (c->fin_acked || c->snd_una == c->sb.end)) {
		/* The peer ended its stream and then its connection, as a TCP
		 * peer's close() does, and it has all we sent.  Checked before
		 * looking at the other subflows: a live shim closes subflows
		 * only at the end, so a dead path still listed (never found
		 * stale: nothing was sent on it) is no reason to wait. */
		c->peer_gone = 1;
		conn_check_done(c);
		return;
	}
	if (sf->state != SF_ACTIVE || n_usable(c) - sf_usable(sf) > 0) {
		if (sf->state != SF_ACTIVE) {
			mps_dbg("conn %s: subflow %d closed during its join", c->peer_str, sf->id);
			conn_del_sf(c, sf);
			mps_sf_free(c->loop, sf, 1);
			return;
		}
		if (!c->rcv_fin || !c->fin_acked) {
			sf_lost(c, sf, err ? strerror(err) : "closed by the peer");
			return;
		}
	}
	if (c->outage || c->nsf > 1) {
		/* Other subflows (stale ones) or an outage in progress: this is
		 * one more path going away, not the peer leaving, which closes
		 * every subflow. */
		drop_sf(c, sf, err ? strerror(err) : "closed by the peer");
		return;
	}
	if (c->rcv_fin) {
		mps_info("conn %s: peer closed with %llu bytes of ours undelivered", c->peer_str,
			 (unsigned long long)(c->sb.end - c->snd_una));
		conn_abort(c, 0, 0, NULL);
		return;
	}
	if (err == ECONNRESET && !c->outage) {
		/* The peer reset its last subflow.  A live peer shim never does
		 * that (it parks its last subflow when its address or link
		 * goes: park_sf): its process is gone (killed with unread
		 * bytes), as a TCP peer's reset says. */
		conn_abort(c, 0, 0, "the peer reset its last subflow before the stream ended");
		return;
	}
	if (err) {
		/* Failed (a path problem, a TCP timeout): the connection waits
		 * for a path. */
		char why[80];

		snprintf(why, sizeof(why), "last subflow: %s", strerror(err));
		drop_sf(c, sf, why); /* the last one: outage */
		return;
	}
	/* A clean FIN without DATA_FIN: the peer's process ended without
	 * finishing its stream (killed).  An error, never a silent EOF. */
	conn_abort(c, 0, 0, "last subflow closed before the stream ended");
}

/* ------------------------------------------------------------- negotiation */

static void addr_to_ss(const struct mps_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = a->family;
	if (a->family == AF_INET) {
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, a->addr, 4);
		((struct sockaddr_in *)ss)->sin_port = htons(a->port);
	} else {
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a->addr, 16);
		((struct sockaddr_in6 *)ss)->sin6_port = htons(a->port);
	}
}

static void note_announced(struct mps_conn *c, const struct mps_addr *a)
{
	int i;

	for (i = 0; i < MPS_MAX_REMOTE; i++)
		if (!c->remotes[i].valid) {
			c->remotes[i].valid = 1;
			c->remotes[i].id = a->addr_id;
			addr_to_ss(a, &c->remotes[i].addr);
			return;
		}
}

/* Server: announce where clients may join: the address they reached (with
 * our join port) and the others MPTCPSHIM_ADVERTISE allows. */
static void server_advertise(struct mps_conn *c, struct mps_subflow *sf)
{
	const struct mps_config *cfg = mps_config();
	struct sockaddr_storage primary = sf->local;
	struct mps_local_addr la[16];
	struct mps_addr a;
	uint8_t fr[MPS_ADD_ADDR_MAX_LEN], pa[16];
	uint16_t port;
	int n, i, fam, loop_scope;
	uint8_t id = 1;

	mps_unmap_v4(&primary);
	fam = primary.ss_family;
	port = mps_join_port(c->loop, fam);
	if (port == 0) {
		mps_warn("conn %s: no join listener: the connection stays on one subflow",
			 c->peer_str);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)fam;
	a.port = port;
	if (fam == AF_INET)
		memcpy(a.addr, &((struct sockaddr_in *)&primary)->sin_addr, 4);
	else
		memcpy(a.addr, &((struct sockaddr_in6 *)&primary)->sin6_addr, 16);
	a.addr_id = 0;
	queue_ctl(sf, fr, mps_frame_put_add_addr(fr, &a));
	note_announced(c, &a);
	loop_scope = addr_is_loopback(&primary);
	n = mps_pm_local_addrs(cfg, fam, loop_scope, la, (int)MPS_ARRAY_SIZE(la));
	memcpy(pa, a.addr, sizeof(pa));
	for (i = 0; i < n && id < MPS_MAX_REMOTE; i++) {
		if (!memcmp(la[i].addr, pa, fam == AF_INET ? 4 : 16))
			continue; /* the primary, announced above */
		if (!mps_pm_advertised(cfg, la[i].ifname, fam, la[i].addr))
			continue;
		a.addr_id = id++;
		memcpy(a.addr, la[i].addr, 16);
		queue_ctl(sf, fr, mps_frame_put_add_addr(fr, &a));
		note_announced(c, &a);
	}
	c->next_addr_id = id;
}

static void go_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	uint64_t idsn;

	c->remote_key = c->nego.remote_key;
	mps_crypto_key_derive(c->remote_key, &c->remote_token, &idsn);
	c->rcv_nxt = c->ack_sent = idsn + 1;
	c->wnd_sent = c->rcv_wnd_max; /* announced in our HELLO/HELLO_ACK */
	c->rcv_edge = c->rcv_nxt + c->rcv_wnd_max;
	if (c->role == MPS_SERVER) {
		struct mps_hello h = {
			.version = MPS_VERSION, .caps = MPS_CAP_NONE, .wnd = c->rcv_wnd_max};
		uint8_t fr[MPS_HELLO_LEN];
		uint64_t my_idsn;

		/* RFC 8684 §3.1: a token names one connection; new key on collision. */
		do {
			if (mps_crypto_new_key(&c->local_key)) {
				conn_abort(c, MPS_CR_INTERNAL, 0, "no randomness for a key");
				return;
			}
			mps_crypto_key_derive(c->local_key, &c->local_token, &my_idsn);
		} while (mps_token_add(c->local_token, c) == -EEXIST);
		c->token_registered = 1;
		h.key = c->local_key;
		mps_frame_put_hello(fr, MPS_F_HELLO_ACK, &h);
		queue_ctl(sf, fr, sizeof(fr));
		c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = my_idsn + 1;
		mps_sendbuf_init(&c->sb, c->snd_start, mps_config()->sndbuf);
		c->snd_edge = c->snd_start + c->nego.remote_wnd;
		c->tx_mode = TX_MP;
		server_advertise(c, sf);
	} else {
		if (mps_dsn_lt(c->snd_edge, c->snd_start + c->nego.remote_wnd))
			c->snd_edge = c->snd_start + c->nego.remote_wnd;
		mps_peercache_note((struct sockaddr *)&c->peer, MPS_PEER_SHIM, mps_now_us(), 0);
	}
	c->rx_mode = RX_MP;
	sf->state = SF_ACTIVE;
	sf->ready = 1;
	sf->peer_live = 1; /* the HELLO exchange ran on it */
	sf->roff = MPS_HELLO_LEN;
	sf->ifindex = ifindex_of(&sf->local);
	mps_netmon_start(c->loop);
	c->last_progress = ev_now(c->loop);
	ev_timer_set(&c->watchdog, 1., 1.);
	ev_timer_start(c->loop, &c->watchdog);
	if (c->role == MPS_CLIENT) {
		char ifname[IF_NAMESIZE];

		/* The first subflow went where routing sent it: if that is a
		 * backup interface, tell the server (it has no JOIN to say so). */
		if (sf->ifindex && if_indextoname(sf->ifindex, ifname) &&
		    mps_pm_is_backup(mps_config(), ifname)) {
			uint8_t fr[MPS_PRIO_LEN];

			sf->backup = 1;
			mps_frame_put_prio(fr, MPS_PF_BACKUP);
			queue_ctl(sf, fr, sizeof(fr));
		}
	}
	ev_timer_stop(c->loop, &c->nego_timer);
	mps_info("conn %s: multipath negotiated (%s), subflow 1 established", c->peer_str,
		 c->role == MPS_CLIENT ? "client" : "server");
}

static void apply_verdict(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v)
{
	char msg[160];

	switch (v) {
	case MPS_NV_WAIT:
		return;
	case MPS_NV_MP:
		go_mp(c, sf);
		break;
	case MPS_NV_PLAIN:
		if (c->role == MPS_CLIENT) {
			client_fallback(c, c->nego.why);
			return;
		}
		mps_info("conn %s: plain TCP client (%s)", c->peer_str, c->nego.why);
		ev_timer_stop(c->loop, &c->nego_timer);
		c->rx_mode = RX_PLAIN;
		sf->state = SF_ACTIVE;
		if (c->tx_mode == TX_HOLD) {
			c->tx_mode = TX_PLAIN;
			mps_sendbuf_init(&c->sb, 0, mps_config()->sndbuf);
			c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = 0;
		}
		break;
	case MPS_NV_ABORT:
		conn_abort(c, MPS_CR_PROTOCOL, 0, c->nego.why);
		return;
	case MPS_NV_ERROR:
		snprintf(msg, sizeof(msg), "negotiation: %s", c->nego.why);
		conn_abort(c, MPS_CR_PROTOCOL, 0, msg);
		return;
	}
	if (!c->dead)
		rx_process(c, sf);
}

static void nego_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->role == MPS_CLIENT) {
		if (c->nsf)
			apply_verdict(c, c->sf[0], mps_nego_timeout(&c->nego));
		return;
	}
	/* Server: the banner window is over.  Release only if the app has
	 * actually written; otherwise keep waiting for the client. */
	c->window_expired = 1;
	app_update_read(c);
}

/* ------------------------------------------------------------- joins (client) */

static void client_join_failed(struct mps_conn *c, struct mps_subflow *sf, const char *why)
{
	char r[64];

	mps_info("conn %s: subflow %d to %s failed: %s", c->peer_str, sf->id,
		 mps_addr_str(&sf->remote, r, sizeof(r)), why);
	conn_del_sf(c, sf);
	mps_sf_free(c->loop, sf, 1);
	/* A join that failed slowly (neighbour resolution, SYN timeouts) was
	 * started while the path was still coming up: try again soon rather
	 * than at the next backoff step.  Quick failures (no route) keep the
	 * backoff, so unroutable pairs do not spin. */
	if (!c->dead && ev_now(c->loop) - sf->born > 1.0 &&
	    (!ev_is_active(&c->rejoin_timer) || ev_timer_remaining(c->loop, &c->rejoin_timer) > 0.5)) {
		c->rejoin_backoff = 0.5;
		ev_timer_stop(c->loop, &c->rejoin_timer);
		ev_timer_set(&c->rejoin_timer, 0.5, 0.);
		ev_timer_start(c->loop, &c->rejoin_timer);
	}
}

static void client_join_connected(struct mps_conn *c, struct mps_subflow *sf)
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
	sf->rtt_us = tcp_rtt_us(sf->fd);
	sf->nonce_local = random32();
	memset(&j, 0, sizeof(j));
	j.token = c->remote_token;
	j.nonce = sf->nonce_local;
	j.addr_id = sf->local_id;
	j.jflags = sf->backup ? MPS_JF_BACKUP : 0;
	mps_frame_put_join(fr, &j);
	queue_ctl(sf, fr, sizeof(fr));
	sf->state = SF_JOIN_SENT;
	ev_io_start(c->loop, &sf->rio);
	ev_timer_set(&sf->jtimer, JOIN_TIMEOUT, 0.);
	ev_timer_start(c->loop, &sf->jtimer);
	sf_flush(c, sf);
}

/* JOIN_ACK on a client join: check the server's HMAC, answer with ours. */
static void client_join_ack(struct mps_conn *c, struct mps_subflow *sf)
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
	/* RFC 8684 §3.2: the server's HMAC is keyed Key_B||Key_A over R_B||R_A. */
	mps_crypto_join_hmac(c->remote_key, c->local_key, sf->nonce_remote, sf->nonce_local, mac);
	if (mps_get64(mac) != f.u.join_ack.hmac) {
		mps_warn("conn %s: subflow %d: JOIN_ACK with a wrong HMAC, subflow closed",
			 c->peer_str, sf->id);
		conn_del_sf(c, sf);
		mps_sf_free(c->loop, sf, 1);
		return;
	}
	mps_crypto_join_hmac(c->local_key, c->remote_key, sf->nonce_local, sf->nonce_remote, mac);
	mps_frame_put_join_ok(fr, mac);
	queue_ctl(sf, fr, sizeof(fr));
	sf->roff += (size_t)rc;
	sf->state = SF_ACTIVE;
	sf->ready = 1;
	ev_timer_stop(c->loop, &sf->jtimer);
	outage_end(c);
	{
		char l[64], r[64];

		mps_info("conn %s: subflow %d %s -> %s established", c->peer_str, sf->id,
			 mps_addr_str(&sf->local, l, sizeof(l)),
			 mps_addr_str(&sf->remote, r, sizeof(r)));
	}
	update_lowat(c);
	sf_flush(c, sf);
	rx_process(c, sf);
}

static void sf_on_jtimer(struct ev_loop *loop, ev_timer *w, int revents)
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

	fd = socket(la->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return;
	mps_ifd_add(fd);
	apply_opts(c, fd);
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
	sf = sf_attach_new(c, fd, SF_CONNECTING);
	if (!sf)
		return;
	sf->local = src;
	sf->remote = r->addr;
	sf->born = ev_now(c->loop);
	sf->ifindex = la->ifindex;
	sf->backup = (uint8_t)mps_pm_is_backup(mps_config(), la->ifname);
	sf->local_id = local_id;
	sf->remote_id = r->id;
	rc = mps_real.connect(fd, (struct sockaddr *)&r->addr, ss_len(&r->addr));
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
static void pm_fill(struct mps_conn *c)
{
	const struct mps_config *cfg = mps_config();
	struct mps_local_addr la[16];
	struct sockaddr_storage peer = c->peer;
	const struct mps_remote *rem[MPS_MAX_REMOTE];
	uint8_t raddr[MPS_MAX_REMOTE][16];
	int nl, nr = 0, i, j, k, fam;

	if (c->role != MPS_CLIENT || c->rx_mode != RX_MP || c->dead || c->exiting)
		return;
	mps_unmap_v4(&peer);
	fam = peer.ss_family;
	nl = mps_pm_local_addrs(cfg, fam, addr_is_loopback(&peer), la, (int)MPS_ARRAY_SIZE(la));
	memset(raddr, 0, sizeof(raddr));
	for (j = 0; j < MPS_MAX_REMOTE; j++) {
		const struct mps_remote *r = &c->remotes[j];

		if (!r->valid || r->addr.ss_family != fam)
			continue;
		if (fam == AF_INET)
			memcpy(raddr[nr], &((const struct sockaddr_in *)&r->addr)->sin_addr, 4);
		else
			memcpy(raddr[nr], &((const struct sockaddr_in6 *)&r->addr)->sin6_addr, 16);
		rem[nr++] = r;
	}
	for (j = 0; j < nr; j++) {
		const struct mps_remote *r = rem[j];

		for (i = 0; i < nl; i++) {
			struct sockaddr_storage l;
			unsigned have = 0;

			if (!mps_pm_pair(&la[i], fam, (const uint8_t(*)[16])raddr, nr, j))
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
				if (same_addr(&sl, &l) && same_addr(&sr, &r->addr))
					have++;
			}
			while (have < cfg->subflows_per_path && (unsigned)c->nsf < cfg->max_subflows) {
				pm_open(c, &la[i], (uint8_t)(i + 1), r);
				have++;
				if (c->dead)
					return;
			}
		}
	}
}

static void pm_on_add_addr(struct mps_conn *c, const struct mps_addr *a)
{
	struct mps_remote *r = NULL;
	int i;

	for (i = 0; i < MPS_MAX_REMOTE; i++)
		if (c->remotes[i].valid && c->remotes[i].id == a->addr_id)
			r = &c->remotes[i];
	for (i = 0; !r && i < MPS_MAX_REMOTE; i++)
		if (!c->remotes[i].valid)
			r = &c->remotes[i];
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	r->id = a->addr_id;
	r->valid = 1;
	r->addr.ss_family = a->family;
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&r->addr;

		memcpy(&in->sin_addr, a->addr, 4);
		in->sin_port = htons(a->port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&r->addr;

		memcpy(&in6->sin6_addr, a->addr, 16);
		in6->sin6_port = htons(a->port);
	}
	mps_unmap_v4(&r->addr);
	{
		char s[64];

		mps_dbg("conn %s: server announced %s (id %u)", c->peer_str,
			mps_addr_str(&r->addr, s, sizeof(s)), a->addr_id);
	}
	/* The server announces its addresses together: pair with all of them
	 * (mps_pm_pair looks at the whole list), not one at a time. */
	if (!ev_is_active(&c->pm_timer)) {
		ev_timer_set(&c->pm_timer, 0., 0.);
		ev_timer_start(c->loop, &c->pm_timer);
	}
}

static void pm_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	pm_fill(w->data);
}

static void pm_on_remove_addr(struct mps_conn *c, uint8_t id)
{
	int i;

	for (i = 0; i < MPS_MAX_REMOTE; i++)
		if (c->remotes[i].valid && c->remotes[i].id == id)
			c->remotes[i].valid = 0;
	for (i = c->nsf - 1; i >= 0 && !c->dead; i--) {
		struct mps_subflow *sf = c->sf[i];

		/* The first subflow went to the address announced as id 0. */
		if (sf->remote_id == id)
			drop_sf(c, sf, "address withdrawn by the server");
	}
}

/* ------------------------------------------------------------- joins (server) */

void mps_conn_attach_join(struct mps_conn *c, struct mps_subflow *sf)
{
	char r[64];

	if (conn_add_sf(c, sf)) {
		mps_join_drop(c->loop, sf, "too many subflows");
		return;
	}
	sf->state = SF_ACTIVE;
	sf->ready = 1;
	sf->peer_live = 1; /* its JOIN_OK says the client has it */
	sf->rtt_us = tcp_rtt_us(sf->fd);
	sf->ifindex = ifindex_of(&sf->local);
	apply_opts(c, sf->fd);
	mps_info("conn %s: subflow %d from %s joined", c->peer_str, sf->id,
		 mps_addr_str(&sf->remote, r, sizeof(r)));
	outage_end(c);
	update_lowat(c);
	rx_process(c, sf);
	if (!c->dead)
		conn_push(c);
}

/* ------------------------------------------------------------- subflow read */

static void sf_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_subflow *sf = w->data;
	struct mps_conn *c = sf->c;
	ssize_t r;

	if (!c) {
		mps_join_on_read(loop, sf);
		return;
	}
	if (sf->rlen == RBUF_SIZE) {
		/* Deliver (and compact) before reading more; if the app cannot
		 * take it (plain relay), rx_blocked is set and app_on_write
		 * resumes us. */
		rx_process(c, sf);
		if (c->dead || sf->state == SF_DEAD)
			return;
		if (sf->rlen == RBUF_SIZE) {
			ev_io_stop(loop, w);
			return;
		}
	}
	do
		r = mps_real.read(sf->fd, sf->rbuf + sf->rlen, RBUF_SIZE - sf->rlen);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r <= 0) {
		int err = r < 0 ? errno : 0;

		if (c->rx_mode == RX_NEGO) {
			ev_io_stop(loop, w);
			apply_verdict(c, sf, mps_nego_eof(&c->nego));
			if (!c->dead && c->rx_mode == RX_PLAIN && c->role == MPS_SERVER) {
				rcv_fin_reached(c);
				conn_check_done(c);
			}
			return;
		}
		if (c->rx_mode == RX_PLAIN) {
			ev_io_stop(loop, w);
			if (err) {
				conn_abort(c, 0, 0, NULL);
				return;
			}
			if (!c->rcv_fin)
				rcv_fin_reached(c);
			conn_check_done(c);
			return;
		}
		sf_mp_eof(c, sf, err);
		return;
	}
	sf->rlen += (size_t)r;
	sf->rx_bytes += (uint64_t)r;
	c->ack_sf = sf;
	if (c->rx_mode == RX_NEGO)
		apply_verdict(c, sf, mps_nego_input(&c->nego, sf->rbuf, sf->rlen));
	else if (sf->state == SF_JOIN_SENT)
		client_join_ack(c, sf);
	else
		rx_process(c, sf);
}

/* ------------------------------------------------------------- connect */

/* Read back the filler bytes the app's end holds, but keep_unread. */
static void drain_filler(struct mps_conn *c, size_t keep_unread)
{
	while (c->filler > keep_unread) {
		uint8_t junk[16384];
		ssize_t r = mps_real.read(c->app_fd, junk, MPS_MIN(sizeof(junk), c->filler - keep_unread));

		if (r <= 0)
			break;
		c->filler -= (size_t)r;
	}
}

static void client_established(struct mps_conn *c)
{
	struct mps_subflow *sf = c->sf[0];
	struct mps_hello h = {
		.version = MPS_VERSION, .caps = MPS_CAP_NONE, .wnd = c->rcv_wnd_max};
	uint8_t fr[MPS_HELLO_LEN];
	socklen_t len = sizeof(sf->local);

	/* Connected before the app can notice (getpeername right after
	 * POLLOUT must work); then drop the filler that held back the app's
	 * writability and give the app's end its full-size buffer. */
	atomic_store(&c->sock->state, MPS_SS_CONNECTED);
	drain_filler(c, 0);
	if (c->app_dup >= 0) {
		mps_grow_pair_buffer(c->app_dup);
		mps_ifd_close(c->app_dup);
		c->app_dup = -1;
	}
	mps_real.getsockname(sf->fd, (struct sockaddr *)&sf->local, &len);
	sf->rtt_us = tcp_rtt_us(sf->fd);
	sf->ready = 1;
	if (c->tx_mode == TX_MP) {
		sf->state = SF_NEGO;
		h.key = c->local_key;
		mps_frame_put_hello(fr, MPS_F_HELLO, &h);
		queue_ctl(sf, fr, sizeof(fr));
		ev_timer_set(&c->nego_timer,
			     mps_nego_reply_timeout_us(sf->rtt_us, c->known_shim) / 1e6, 0.);
		ev_timer_start(c->loop, &c->nego_timer);
	} else
		sf->state = SF_ACTIVE; /* the plain reconnect */
	ev_io_start(c->loop, &sf->rio);
	sf_flush(c, sf);
	conn_push(c);
	if (!c->dead)
		app_update_read(c);
}

static void conn_on_connected(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;
	int err = 0;
	socklen_t len = sizeof(err);

	ev_io_stop(loop, w);
	if (!c->nsf)
		return;
	if (mps_real.getsockopt(c->sf[0]->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		if (c->rx_mode == RX_PLAIN) {
			/* The plain reconnect after a fallback failed. */
			char msg[128];

			snprintf(msg, sizeof(msg), "plain reconnect failed: %s", strerror(err));
			conn_abort(c, 0, 0, msg);
			return;
		}
		atomic_store(&c->sock->so_error, err);
		mps_dbg("conn %s: connect failed: %s", c->peer_str, strerror(err));
		conn_abort(c, 0, 0, NULL);
		return;
	}
	client_established(c);
}

static int new_tcp_socket(struct mps_conn *c)
{
	int fd = socket(c->peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	int one = 1;

	if (fd < 0)
		return -errno;
	mps_ifd_add(fd);
	apply_opts(c, fd);
	if (c->bound) {
		mps_real.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&c->bind_addr, c->bind_len) != 0) {
			int e = errno;

			mps_ifd_close(fd);
			return -e;
		}
	}
	return fd;
}

/* The peer is plain TCP: reconnect plainly and replay what the app sent. */
static void client_fallback(struct mps_conn *c, const char *why)
{
	struct mps_subflow *sf = c->sf[0], *nsf;
	int fd, rc;

	mps_info("conn %s: peer does not speak mptcpshim (%s): reconnecting as plain TCP",
		 c->peer_str, why);
	mps_peercache_note((struct sockaddr *)&c->peer, MPS_PEER_PLAIN, mps_now_us(),
			   (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
	ev_timer_stop(c->loop, &c->nego_timer);
	conn_del_sf(c, sf);
	mps_sf_free(c->loop, sf, 1);
	c->rx_mode = RX_PLAIN;
	c->tx_mode = TX_PLAIN;
	c->snd_nxt = c->snd_una = c->sb.una; /* nothing was ACKed: replay from the start */
	c->fin_sent = 0;
	fd = new_tcp_socket(c);
	if (fd < 0) {
		conn_abort(c, 0, 0, "plain reconnect: cannot create a socket");
		return;
	}
	nsf = sf_attach_new(c, fd, SF_CONNECTING);
	if (!nsf) {
		conn_abort(c, 0, 0, "plain reconnect: out of memory");
		return;
	}
	nsf->remote = c->peer;
	rc = mps_real.connect(fd, (struct sockaddr *)&c->peer, c->peer_len);
	if (rc == 0 || errno == EINPROGRESS) {
		ev_io_set(&c->conn_w, fd, EV_WRITE);
		ev_io_start(c->loop, &c->conn_w);
		return;
	}
	conn_abort(c, 0, 0, "plain reconnect failed");
}

/* ------------------------------------------------------------- start */

static int has_line_break(uint64_t v, int nbytes)
{
	int i;

	for (i = 0; i < nbytes; i++, v >>= 8)
		if ((v & 0xff) == '\n' || (v & 0xff) == '\r')
			return 1;
	return 0;
}

/* A client's HELLO may reach a plain, line-oriented server: with no CR or
 * LF in it, such a server never sees a complete line (and so never acts
 * on it) before we reset the connection.  Costs ~1 bit of key entropy. */
static int new_hello_key(uint64_t *key)
{
	int rc;

	do
		rc = mps_crypto_new_key(key);
	while (rc == 0 && has_line_break(*key, 8));
	return rc;
}

static uint32_t hello_wnd(uint32_t wnd)
{
	while (has_line_break(wnd, 4) && wnd > MPS_MIN_WND)
		wnd -= 1u << 16;
	return wnd;
}

static void conn_begin(struct ev_loop *loop, void *arg)
{
	struct mps_conn *c = arg;
	struct mps_subflow *sf = c->sf[0];
	socklen_t len = sizeof(sf->local);

	c->loop = loop;
	reaper_arm(loop);
	c->next = g_conns;
	if (g_conns)
		g_conns->prev = c;
	g_conns = c;
	if (hup_watch(c) != 0) {
		conn_abort(c, MPS_CR_INTERNAL, 0, "cannot watch the app's descriptor");
		return;
	}
	if (c->role == MPS_CLIENT) {
		if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING) {
			ev_io_start(loop, &c->conn_w);
			return;
		}
		client_established(c);
		return;
	}
	/* Server: wait for the client's first bytes; hold the app's. */
	mps_real.getsockname(sf->fd, (struct sockaddr *)&sf->local, &len);
	sf->rtt_us = tcp_rtt_us(sf->fd);
	ev_timer_set(&c->nego_timer, mps_nego_banner_window_us(sf->rtt_us) / 1e6, 0.);
	ev_timer_start(loop, &c->nego_timer);
	ev_io_start(loop, &sf->rio);
}

int mps_conn_start(const struct mps_conn_params *p)
{
	const struct mps_config *cfg = mps_config();
	struct mps_conn *c = calloc(1, sizeof(*c));
	struct mps_sock *s = p->sock;
	struct mps_subflow *sf;
	uint64_t idsn;
	int rc;

	if (!c)
		return -ENOMEM;
	sf = mps_sf_alloc(NULL, p->tcp_fd, p->role == MPS_SERVER ? SF_NEGO : SF_CONNECTING);
	if (!sf) {
		free(c);
		return -ENOMEM;
	}
	c->role = p->role;
	c->sock = s;
	c->app_fd = p->shim_fd;
	c->filler = p->filler;
	c->app_dup = p->app_dup;
	c->peer = s->peer;
	c->peer_len = s->peer_len;
	c->bound = p->bound;
	c->bind_addr = p->local;
	c->bind_len = p->local_len;
	mps_addr_str(&c->peer, c->peer_str, sizeof(c->peer_str));
	c->sched.ops = mps_sched_find(cfg->scheduler);
	if (!c->sched.ops)
		c->sched.ops = mps_sched_find("default");
	c->sf[0] = sf;
	c->nsf = 1;
	c->next_sf_id = 1;
	sf->c = c;
	sf->id = 1;
	sf->remote = s->peer;
	c->rx_mode = RX_NEGO;
	c->rcv_wnd_max = (uint32_t)MPS_MIN(cfg->sndbuf, (size_t)UINT32_MAX);
	if (c->rcv_wnd_max < MPS_MIN_WND)
		c->rcv_wnd_max = MPS_MIN_WND;
	c->rcv_wnd_max = hello_wnd(c->rcv_wnd_max & ~0xffffu);
	mps_sendbuf_init(&c->rxq, 0, c->rcv_wnd_max);
	mps_ofo_init(&c->ofo);
	if (p->role == MPS_CLIENT) {
		rc = new_hello_key(&c->local_key);
		if (rc) {
			free(sf->rbuf);
			free(sf);
			free(c);
			return rc;
		}
		mps_crypto_key_derive(c->local_key, &c->local_token, &idsn);
		c->tx_mode = TX_MP;
		c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = idsn + 1;
		mps_sendbuf_init(&c->sb, c->snd_start, cfg->sndbuf);
		/* First flight, before the server's window is known: the minimum
		 * window towards a known shim; nothing towards an unknown peer,
		 * which may be a plain server that would act on app bytes
		 * arriving behind our HELLO (and then again on the replay). */
		c->known_shim = p->peer_known_shim;
		c->first_flight = p->peer_known_shim ? MPS_MIN_WND : FIRST_FLIGHT_UNKNOWN;
		c->snd_edge = c->snd_start + c->first_flight;
	} else {
		c->tx_mode = TX_HOLD;
		mps_sendbuf_init(&c->sb, 0, cfg->sndbuf);
	}
	mps_nego_init(&c->nego, p->role, c->local_key);

	ev_io_init(&c->app_r, app_on_read, c->app_fd, EV_READ);
	c->app_r.data = c;
	ev_io_init(&c->app_w, app_on_write, c->app_fd, EV_WRITE);
	c->app_w.data = c;
	ev_io_init(&c->conn_w, conn_on_connected, sf->fd, EV_WRITE);
	c->conn_w.data = c;
	ev_init(&c->ack_timer, ack_on_timer);
	c->ack_timer.data = c;
	ev_init(&c->nego_timer, nego_on_timer);
	c->nego_timer.data = c;
	ev_init(&c->fin_timer, fin_on_timer);
	c->fin_timer.data = c;
	ev_init(&c->outage_timer, outage_on_timer);
	c->outage_timer.data = c;
	ev_init(&c->rejoin_timer, rejoin_on_timer);
	c->rejoin_timer.data = c;
	ev_init(&c->pm_timer, pm_on_timer);
	c->pm_timer.data = c;
	ev_init(&c->park_timer, park_on_timer);
	c->park_timer.data = c;
	ev_init(&c->watchdog, watchdog_on_timer);
	c->watchdog.data = c;
	ev_init(&c->stale_tick, stale_on_tick);
	c->stale_tick.data = c;

	pthread_mutex_lock(&s->lock);
	s->conn = c;
	pthread_mutex_unlock(&s->lock);
	mps_sock_get(s);

	c->start_cmd.fn = conn_begin;
	c->start_cmd.arg = c;
	rc = mps_loop_submit(&c->start_cmd);
	if (rc) {
		pthread_mutex_lock(&s->lock);
		s->conn = NULL;
		pthread_mutex_unlock(&s->lock);
		mps_sock_put(s);
		mps_sendbuf_free(&c->sb);
		mps_sendbuf_free(&c->rxq);
		free(sf->rbuf);
		free(sf);
		free(c);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------- socket options */

static int sf_live(const struct mps_subflow *sf)
{
	return sf->fd >= 0 && sf->state != SF_DEAD;
}

int mps_conn_getopt(struct mps_sock *s, int level, int name, void *val, socklen_t *len, int *err)
{
	int rc = -1, i;

	*err = ENOTCONN;
	pthread_mutex_lock(&s->lock);
	if (s->conn)
		for (i = 0; i < s->conn->nsf; i++) {
			struct mps_subflow *sf = s->conn->sf[i];

			if (!sf_live(sf))
				continue;
			rc = mps_real.getsockopt(sf->fd, level, name, val, len);
			*err = rc ? errno : 0;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int mps_conn_setopt(struct mps_sock *s, int level, int name, const void *val, socklen_t len,
		    enum mps_opt_how how, int *err)
{
	int rc = 0, i, first = 1;

	*err = 0;
	pthread_mutex_lock(&s->lock);
	if (!s->conn) {
		pthread_mutex_unlock(&s->lock);
		*err = ENOTCONN;
		return -1;
	}
	/* No live subflow (an outage): remembered for the next one. */
	for (i = 0; i < s->conn->nsf; i++) {
		struct mps_subflow *sf = s->conn->sf[i];
		int r;

		if (!sf_live(sf))
			continue;
		r = mps_real.setsockopt(sf->fd, level, name, val, len);
		if (first) {
			rc = r;
			*err = r ? errno : 0;
			first = 0;
		}
		if (how == MPS_OPT_FIRST)
			break;
	}
	/* What the kernel took is replayed onto subflows created later
	 * (under the same lock as their creation, so none is missed). */
	if (rc == 0 && how == MPS_OPT_EVERY)
		mps_sock_remember_opt(s, level, name, val, len);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The TCP state a plain socket would be in, from the data-level FINs. */
static uint8_t conn_tcp_state(const struct mps_conn *c)
{
	int ours = __atomic_load_n(&c->fin_sent, __ATOMIC_RELAXED);
	int acked = __atomic_load_n(&c->fin_acked, __ATOMIC_RELAXED);
	int theirs = __atomic_load_n(&c->rcv_fin, __ATOMIC_RELAXED);

	if (!ours)
		return theirs ? MPS_TCP_CLOSE_WAIT : MPS_TCP_ESTABLISHED;
	if (acked)
		return theirs ? MPS_TCP_CLOSE : MPS_TCP_FIN_WAIT2;
	return theirs ? MPS_TCP_LAST_ACK : MPS_TCP_FIN_WAIT1;
}

int mps_conn_tcp_info(struct mps_sock *s, void *val, socklen_t *len, int *err)
{
	struct tcp_info ti, best;
	struct mps_conn *c;
	int i, found = 0, best_usable = 0;

	*err = ENOTCONN;
	if (!val || !len) {
		*err = EFAULT;
		return -1;
	}
	memset(&best, 0, sizeof(best));
	pthread_mutex_lock(&s->lock);
	c = s->conn;
	for (i = 0; c && i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		socklen_t l = sizeof(ti);

		if (!sf_live(sf) || mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
			continue;
		/* The subflow the default scheduler would pick: lowest RTT
		 * among those carrying data. */
		if (!found || sf_usable(sf) > best_usable ||
		    (sf_usable(sf) == best_usable && ti.tcpi_rtt < best.tcpi_rtt)) {
			best = ti;
			best_usable = sf_usable(sf);
			found = 1;
		}
	}
	if (found && __atomic_load_n(&c->tx_mode, __ATOMIC_RELAXED) == TX_MP &&
	    __atomic_load_n(&c->rx_mode, __ATOMIC_RELAXED) == RX_MP) {
		/* Connection-level counters and state instead of one path's.
		 * The shim thread writes these fields unlocked; 64-bit relaxed
		 * loads are enough for a statistics snapshot. */
		uint64_t start = __atomic_load_n(&c->snd_start, __ATOMIC_RELAXED);
		uint64_t rkey = __atomic_load_n(&c->remote_key, __ATOMIC_RELAXED), ridsn;
		uint64_t rnxt = __atomic_load_n(&c->rcv_nxt, __ATOMIC_RELAXED);
		uint32_t tok;

		mps_crypto_key_derive(rkey, &tok, &ridsn);
		/* +1: TCP's bytes_acked counts the SYN */
		best.tcpi_bytes_acked = __atomic_load_n(&c->snd_una, __ATOMIC_RELAXED) - start + 1;
		best.tcpi_bytes_sent = __atomic_load_n(&c->snd_max, __ATOMIC_RELAXED) - start;
		best.tcpi_bytes_received = rnxt - ridsn - 1;
		best.tcpi_state = conn_tcp_state(c);
	}
	pthread_mutex_unlock(&s->lock);
	if (!found)
		return -1;
	*err = 0;
	if (*len > sizeof(best))
		*len = sizeof(best);
	memcpy(val, &best, *len);
	return 0;
}

/* ------------------------------------------------------------- process exit
 * TCP delivers what the app wrote even after the process exits; our bytes
 * live in this process, so exit waits (bounded) until every connection has
 * handed its stream, DATA_FIN included, to the peer. */

void mps_conn_exit_drain(struct ev_loop *loop)
{
	struct mps_conn *c, *next;

	for (c = g_conns; c; c = next) {
		next = c->next;
		c->exiting = 1;
		if (c->tx_mode == TX_HOLD)
			c->window_expired = 1;
		app_update_read(c);
		if (ev_is_active(&c->app_r))
			ev_feed_event(loop, &c->app_r, EV_READ);
	}
}

static int conn_drained(const struct mps_conn *c)
{
	if (c->dead || (c->tx_mode != TX_PLAIN && n_usable(c) == 0) ||
	    (c->tx_mode == TX_PLAIN && (!c->nsf || c->sf[0]->wr_dead)))
		return 1;
	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return 1; /* nothing was sent: TCP would not wait either */
	if (!c->app_eof || c->snd_nxt != c->sb.end || !c->fin_sent || !all_queues_empty(c))
		return 0;
	return c->tx_mode == TX_PLAIN || c->fin_acked;
}

int mps_conn_all_drained(void)
{
	const struct mps_conn *c;

	for (c = g_conns; c; c = c->next)
		if (!conn_drained(c))
			return 0;
	return 1;
}

/* Nothing left for this process to do for c.  An app descriptor still
 * open may be held by another process (a forked child, an exec'd image):
 * while one is, the connection must be serviced. */
static int conn_finished(const struct mps_conn *c)
{
	return c->dead || (c->app_closed && conn_drained(c));
}

int mps_conn_all_finished(void)
{
	const struct mps_conn *c;

	for (c = g_conns; c; c = c->next)
		if (!conn_finished(c))
			return 0;
	return 1;
}

static ev_timer g_keeper_tick;
static double g_keeper_limit, g_keeper_deadline;

static void keeper_on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	const struct mps_conn *c;
	int open = 0, pending = 0;

	for (c = g_conns; c; c = c->next) {
		if (conn_finished(c))
			continue;
		if (c->app_closed)
			pending++;
		else
			open++;
	}
	if (!open && !pending) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (open) {
		/* Some process still uses a connection: no limit yet. */
		g_keeper_deadline = 0;
		return;
	}
	if (!g_keeper_deadline)
		g_keeper_deadline = ev_now(loop) + g_keeper_limit;
	else if (ev_now(loop) >= g_keeper_deadline) {
		mps_warn(
		        "keeper: %d connection(s) still undelivered %.0f s after the app closed them",
		        pending, g_keeper_limit);
		ev_break(loop, EVBREAK_ALL);
	}
}

void mps_conn_keeper_begin(struct ev_loop *loop, double timeout)
{
	const struct mps_conn *c;
	int n = 0;

	for (c = g_conns; c; c = c->next)
		n += !conn_finished(c);
	mps_info("keeper: servicing %d connection(s)", n);
	g_keeper_limit = timeout;
	g_keeper_deadline = 0;
	ev_timer_init(&g_keeper_tick, keeper_on_tick, 0., 0.05);
	ev_timer_again(loop, &g_keeper_tick);
}

void mps_conn_lock_socks(int lock)
{
	struct mps_conn *c;

	for (c = g_conns; c; c = c->next)
		if (lock)
			pthread_mutex_lock(&c->sock->lock);
		else
			pthread_mutex_unlock(&c->sock->lock);
}

/* ------------------------------------------------------------- path events
 * From netmon.c: act on a path change the moment the kernel reports it,
 * instead of waiting for TCP to notice. */

/* A path under sf went away (link, address, withdrawn by the server):
 * drop it now rather than wait for TCP.  Its data is resent on the others;
 * if it was the last, the connection waits for a path (outage). */
static void drop_sf(struct mps_conn *c, struct mps_subflow *sf, const char *why)
{
	if (sf->state != SF_ACTIVE) {
		conn_del_sf(c, sf);
		mps_sf_free(c->loop, sf, 1);
		return;
	}
	if (park_sf(c, sf))
		mps_dbg("conn %s: subflow %d parked", c->peer_str, sf->id);
	if (n_usable(c) - sf_usable(sf) > 0)
		sf_lost(c, sf, why);
	else if (!c->rcv_fin || !c->fin_acked) {
		sf_log_stats(c, sf);
		reinject_sf(c, sf);
		conn_del_sf(c, sf);
		mps_sf_free(c->loop, sf, 1);
		outage_begin(c, why);
	}
}

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

	for (i = c->nsf - 1; i >= 0 && !c->dead; i--) {
		struct mps_subflow *sf = c->sf[i];
		int match = addr ? local_is(sf, family, addr) : (ifindex && sf->ifindex == ifindex);

		if (match)
			drop_sf(c, sf, why);
	}
}

static void server_addr_event(struct mps_conn *c, int family, const uint8_t *addr, int added)
{
	const struct mps_config *cfg = mps_config();
	struct mps_subflow *sf = best_usable(c);
	struct sockaddr_storage ss;
	struct mps_addr a;
	uint8_t fr[MPS_ADD_ADDR_MAX_LEN];
	char ifname[IF_NAMESIZE];
	int i;

	if (!sf)
		return;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	memcpy(family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
				 : (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
	       addr, family == AF_INET ? 4 : 16);
	for (i = 0; i < MPS_MAX_REMOTE; i++) {
		struct mps_remote *r = &c->remotes[i];

		if (!r->valid || !same_addr(&r->addr, &ss))
			continue;
		if (!added) {
			/* Withdraw it: clients stop using it at once. */
			queue_ctl(sf, fr, mps_frame_put_remove_addr(fr, r->id));
			r->valid = 0;
			mps_info("conn %s: address id %u withdrawn", c->peer_str, r->id);
		}
		return; /* already announced */
	}
	if (!added || c->next_addr_id >= 255)
		return;
	{
		struct sockaddr_storage first = c->sf[0]->local;
		unsigned idx = ifindex_of(&ss);

		mps_unmap_v4(&first);
		if (first.ss_family != family || addr_is_loopback(&first) != addr_is_loopback(&ss) ||
		    !idx || !if_indextoname(idx, ifname) ||
		    !mps_pm_usable(cfg, ifname, IFF_UP | IFF_RUNNING, family, addr, family,
				   addr_is_loopback(&ss)) ||
		    !mps_pm_advertised(cfg, ifname, family, addr))
			return;
	}
	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)family;
	a.port = mps_join_port(c->loop, family);
	if (!a.port)
		return;
	a.addr_id = c->next_addr_id++;
	memcpy(a.addr, addr, family == AF_INET ? 4 : 16);
	if (queue_ctl(sf, fr, mps_frame_put_add_addr(fr, &a)) == 0)
		note_announced(c, &a);
}

void mps_conn_on_addr_event(int family, const uint8_t *addr, unsigned ifindex, int added)
{
	struct mps_conn *c, *next;

	for (c = g_conns; c; c = next) {
		next = c->next;
		if (c->dead || c->rx_mode != RX_MP)
			continue;
		if (!added)
			drop_matching(c, family, addr, 0, "local address removed");
		if (c->dead)
			continue;
		if (c->role == MPS_SERVER)
			server_addr_event(c, family, addr, added);
		else if (added)
			pm_fill(c);
		if (!c->dead)
			conn_push(c);
	}
}

void mps_conn_on_link_event(unsigned ifindex, int up)
{
	struct mps_conn *c, *next;

	for (c = g_conns; c; c = next) {
		next = c->next;
		if (c->dead || c->rx_mode != RX_MP)
			continue;
		if (!up)
			drop_matching(c, 0, NULL, ifindex, "interface down");
		else if (c->role == MPS_CLIENT)
			pm_fill(c);
		if (!c->dead)
			conn_push(c);
	}
}
