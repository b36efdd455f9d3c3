/* connect.c - a connection's start: mps_conn_start (app thread: the
 * connection is built there, then handed to the shim thread), its first
 * subflow's connect completion and first HELLO, and the client's plain
 * reconnect after a fallback.  Shim thread only, but mps_conn_start. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn_int.h"
#include "dss_ack_int.h"
#include "dss_rx_int.h"
#include "dss_tx_int.h"
#include "enginelock_int.h"
#include "gwconn_int.h"
#include "idlemem_int.h"
#include "join_int.h"
#include "mpcap_int.h"
#include "path_int.h"
#include "resilience_int.h"
#include "sfev_int.h"
#include "steer_int.h"
#include "subflow_int.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/resume.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"
#include "mptcpshim/set.h"
#include "mptcpshim/stat.h"

#define FIRST_FLIGHT_UNKNOWN 0u /* app bytes sent before a first HELLO_ACK */

/* ------------------------------------------------------------- connect */

/* An inline client's local address, read on the app's thread right after
 * its connect() (inlinex.c: the kernel binds at connect, before the SYN):
 * 1 when sf->local took it (one getsockname fewer per connection). */
static int inline_local(struct mps_conn *c, struct mps_subflow *sf)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)&c->sock->local;
	int ok;

	if (!c->inl || c->tx_mode != TX_MP)
		return 0;
	pthread_mutex_lock(&c->sock->lock);
	/* (sin_port sits where sin6_port does) */
	ok = c->sock->local_len >= sizeof(*a) && a->sin_port != 0 &&
	     (a->sin_family == AF_INET || a->sin_family == AF_INET6);
	if (ok)
		memcpy(&sf->local, &c->sock->local, sizeof(sf->local));
	pthread_mutex_unlock(&c->sock->lock);
	return ok;
}

static void client_established(struct mps_conn *c)
{
	struct mps_subflow *sf = c->sf[0];
	uint8_t fr[MPS_HELLO_MAX_LEN];
	socklen_t len = sizeof(sf->local);
	size_t n;

	/* Connected before the app can notice (getpeername right after
	 * POLLOUT must work); then drop the filler that held back the app's
	 * writability and give the app's end its full-size buffer.  Through
	 * a gateway: only once its GWREPLY says the destination answered. */
	if (c->inl)
		atomic_store(&c->sock->state, MPS_SS_CONNECTED); /* the app's socket is TCP's */
	else if (!c->gw)
		mps_conn_app_connected(c);
	if (!inline_local(c, sf))
		mps_real.getsockname(sf->fd, (struct sockaddr *)&sf->local, &len);
	if (c->tx_mode == TX_PLAIN) {
		/* The plain reconnect after a fallback: its address is now the
		 * connection's (getsockname). */
		pthread_mutex_lock(&c->sock->lock);
		c->sock->local = sf->local;
		c->sock->local_len = len;
		pthread_mutex_unlock(&c->sock->lock);
	}
	/* (towards a known shim the reply timer does not use it: an inline
	 * connection's is read when it is promoted, inline.c; a system call
	 * fewer per connection) */
	if (!c->inl || !c->known_shim)
		sf->rtt_us = mps_sf_tcp_rtt_us(sf->fd);
	sf->ready = 1;
	if (c->tx_mode == TX_MP) {
		mps_sf_set_state(sf, SF_NEGO);
		if (c->gw && c->gw_early == MPS_GW_EARLY_SENT) {
			/* HELLO and request left in the SYN (gwconn.c) */
			mps_dbg("conn %s: gateway: request sent by the app's thread", c->peer_str);
		} else if (c->gw) {
			/* the request rides with the HELLO (gw_timer runs) */
			n = mps_mpcap_client_hello(c, fr);
			mps_sf_queue_ctl(sf, fr, n);
			if (mps_gwconn_queue_request(c, sf))
				return;
		} else {
			c->quiet_asked = c->inl; /* inline: QUIET (frame.h) */
			n = mps_mpcap_client_hello(c, fr);
			mps_sf_queue_ctl(sf, fr, n);
			ev_timer_set(&c->nego_timer,
			             mps_nego_reply_timeout_us(sf->rtt_us, c->known_shim) / 1e6,
			             0.);
			ev_timer_start(c->loop, &c->nego_timer);
		}
	} else
		mps_sf_set_state(sf, SF_ACTIVE); /* the plain reconnect */
	if (!c->inl) /* the app's thread reads an inline connection's (inline.c) */
		ev_io_start(c->loop, &sf->rio);
	/* the HELLO and the request in one segment: the write that saw the
	 * connect done frames the request behind it and writes both */
	if (!c->hello_with_write) {
		mps_sf_flush(c, sf);
		mps_conn_push(c);
	}
	if (!mps_conn_closed(c))
		mps_conn_app_update_read(c);
}

/* The first subflow's connect ended; clean: poll said writable without
 * an error, so SO_ERROR need not be asked (a system call per connection,
 * ~1 us here: issue 15). */
static void conn_connected(struct mps_conn *c, int clean)
{
	int err = 0;
	socklen_t len = sizeof(err);

	ev_io_stop(c->loop, &c->conn_w);
	ev_timer_stop(c->loop, &c->conn_look);
	if (!c->nsf)
		return;
	if (!clean && mps_real.getsockopt(c->sf[0]->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		if (c->gw) {
			mps_gwconn_failed(c, err, "connect");
			return;
		}
		if (c->rx_mode == RX_PLAIN && atomic_load(&c->sock->state) != MPS_SS_CONNECTING) {
			/* The plain reconnect after a fallback failed. */
			char msg[128];

			snprintf(msg, sizeof(msg), "plain reconnect failed: %s", strerror(err));
			mps_conn_abort(c, 0, 0, msg);
			return;
		}
		atomic_store(&c->sock->so_error, err);
		mps_dbg("conn %s: connect failed: %s", c->peer_str, strerror(err));
		mps_conn_abort(c, 0, 0, NULL);
		return;
	}
	client_established(c);
}

static void conn_on_connected(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents; /* (libev says EV_WRITE for an error too) */
	conn_connected(w->data, 0);
}

/* An inline client's connect (not yet seen to end): 0 under way, 1 over
 * and connected, 2 over, maybe failed (SO_ERROR says). */
static int inline_connect_over(struct mps_conn *c)
{
	struct pollfd p = {.fd = c->nsf ? c->sf[0]->fd : -1, .events = POLLOUT};

	if (p.fd < 0 || mps_real.poll(&p, 1, 0) != 1)
		return 0;
	return p.revents == POLLOUT ? 1 : 2;
}

/* inline.c, engine lock held: the app's call found the connect under way;
 * it may be over without the shim thread having looked yet. */
void mps_conn_inline_connected(struct mps_conn *c)
{
	int over;

	if ((ev_is_active(&c->conn_look) || ev_is_active(&c->conn_w)) &&
	    (over = inline_connect_over(c)) != 0)
		conn_connected(c, over == 1);
}

/* An inline client's connect that no app call saw end by
 * MPS_CONNECT_LOOK_US: over, or watched from now on. */
static void conn_on_look(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;
	int over = inline_connect_over(c);

	(void)revents;
	if (over)
		conn_connected(c, over == 1);
	else
		ev_io_start(loop, &c->conn_w);
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

static uint32_t hello_wnd(uint32_t wnd)
{
	while (has_line_break(wnd, 4) && wnd > MPS_MIN_WND)
		wnd -= 1u << 16;
	return wnd;
}

/* The app's side at the start: watched for its last close, or none (a
 * gateway's), or the TCP socket itself (inline).  -1 when c ended. */
static int conn_begin_app(struct mps_conn *c)
{
	if (c->inl)
		mps_stat(c, NULL, MPS_MIB_INLINE_CONNS, 1);
	else if (c->app_fd < 0)
		c->app_closed = 1; /* no app end (a gateway's, gwlisten.c) */
	else if (mps_conn_hup_watch(c) != 0) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "cannot watch the app's descriptor");
		return -1;
	}
	return 0;
}

/* inline.c, engine lock held: an inline server's connection whose
 * client's whole HELLO waits on the socket (b: the got bytes peeked at
 * its head): taken, on the app's thread; what follows it stays for the
 * app's reads.  0 once multipath, -1 when c ended. */
int mps_conn_inline_hello(struct mps_conn *c, const uint8_t *b, size_t got)
{
	struct mps_subflow *sf = c->sf[0];
	struct mps_frame f;
	int n = mps_frame_decode(b, got, &f, NULL);

	if (n <= 0 || f.type != MPS_F_HELLO ||
	    mps_real.recv(sf->fd, sf->rbuf, (size_t)n, MSG_DONTWAIT) != n) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "inline: the HELLO is gone");
		return -1;
	}
	mps_dbg("conn %s: inline server: HELLO taken on the app's thread", c->peer_str);
	sf->roff = 0;
	sf->rlen = (size_t)n;
	sf->rx_bytes += (uint64_t)n;
	mps_sf_input(c, sf);
	if (mps_conn_closed(c))
		return -1;
	if (c->rx_mode != RX_MP) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 0,
		               "inline: a HELLO without a multipath verdict");
		return -1;
	}
	mps_sf_flush(c, sf); /* the HELLO_ACK, unless the client is QUIET */
	return 0;
}

/* hello: an inline server's client's whole HELLO, peeked at accept (not
 * taken; the caller's buffer), or NULL. */
static void conn_begin_hello(struct ev_loop *loop, struct mps_conn *c, const uint8_t *hello,
                             size_t hello_len)
{
	struct mps_subflow *sf = c->sf[0];

	c->loop = loop;
	mps_sf_set_ops(&mps_conn_sf_ops);          /* before the first subflow event */
	mps_join_set_attach(mps_conn_attach_join); /* before the first join */
	mps_conn_set_hooks(&mps_conn_engine_hooks);
	mps_conn_set_pm(&mps_conn_pm_ops); /* before the data path asks it */
	mps_conn_reaper_arm(loop);
	mps_idlemem_arm(loop);
	c->next = mps_conn_list;
	if (mps_conn_list)
		mps_conn_list->prev = c;
	mps_conn_list = c;
	mps_stat_new(c);
	if (conn_begin_app(c))
		return;
	/* The first subflow's segment table, here on the shim thread (its
	 * arena, not the app's heap): its HELLO or HELLO_ACK must not find
	 * it missing. */
	if (mps_sf_seg_prepare(sf) != 0) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "out of memory");
		return;
	}
	if (c->role == MPS_CLIENT) {
		if (c->gw) {
			mps_gwconn_attempt(c);
			return;
		}
		if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING) {
			/* An inline connect's end is most often seen first by
			 * the app's thread: its write, read, SO_ERROR or
			 * getpeername (inline.c) runs it there.  The shim
			 * thread watching from its next wake-up (which, busy, is
			 * at once) took ~2/3 of wrk's (issue 15): it looks only
			 * after MPS_CONNECT_LOOK_US, for an app that only waits. */
			if (c->inl) {
				ev_timer_set(&c->conn_look, MPS_CONNECT_LOOK_US / 1e6, 0.);
				ev_timer_start(loop, &c->conn_look);
			} else
				ev_io_start(loop, &c->conn_w);
			return;
		}
		client_established(c);
		return;
	}
	/* Server: wait for the client's first bytes; hold the app's (the
	 * local address: server_local). */
	if (hello) {
		/* the whole HELLO, peeked at accept: taken now (nor is the
		 * RTT read for the timers it ends: a promotion reads it) */
		mps_conn_inline_hello(c, hello, hello_len);
		return;
	}
	sf->rtt_us = mps_sf_tcp_rtt_us(sf->fd);
	if (c->inl) {
		/* inline: the app's first call looks (inline.c); accepted
		 * before any byte came, it must look in time: a client that is
		 * not inline itself (no HOLD) falls back once its HELLO_ACK
		 * timer runs out (an app that waits a second before its first
		 * read: asan.sh s2c with INLINE=1).  Half of that timer, then
		 * the shim thread takes it (mpcap.c, hello timer). */
		if (c->inl_look) {
			ev_timer_set(&c->hello_timer,
			             mps_nego_reply_timeout_us(sf->rtt_us, 0) / 2e6, 0.);
			ev_timer_start(loop, &c->hello_timer);
		}
		return;
	}
	if (c->gw) {
		/* a gateway listener's: an authenticated request in time, or
		 * closed without a byte back; no banner window (the daemon
		 * speaks only after its reply) */
		ev_timer_set(&c->gw_timer, mps_gw_auth_timeout(), 0.);
		ev_timer_start(loop, &c->gw_timer);
		ev_io_start(loop, &sf->rio);
		return;
	}
	mps_conn_server_await(c);
}

/* The loop's command (conn_launch). */
static void conn_begin(struct ev_loop *loop, void *arg)
{
	conn_begin_hello(loop, arg, NULL, 0);
}

/* A server's connection waits for its client's first bytes on the shim
 * thread (conn_begin; an inline one's promotion before them), the app's
 * bytes held for the banner window. */
void mps_conn_server_await(struct mps_conn *c)
{
	struct ev_loop *loop = c->loop;
	struct mps_subflow *sf = c->sf[0];
	int known;

	/* The banner window counts from now, when this thread first looks at
	 * the connection (not from the loop's last wake-up, which may be
	 * long past on a loaded machine), is longer towards a host that sent
	 * us a HELLO lately (nego.h, MPS_BANNER_KNOWN_US), and none at all
	 * towards a host whose clients were found plain lately and that sent
	 * no HELLO since: its banner goes out as the app writes it (a late
	 * HELLO is still caught: that connection ends and the client
	 * reconnects plainly, once; the host is then a shim client's). */
	ev_now_update(loop);
	known = mps_peercache_shim_client((struct sockaddr *)&c->peer, mps_now_us()) ||
	        mps_peercache_shared_shim_client(mps_config()->peer_cache,
	                                         (struct sockaddr *)&c->peer, mps_now_us(),
	                                         (int64_t)time(NULL));
	if (!known &&
	    mps_peercache_lookup((struct sockaddr *)&c->peer, mps_now_us()) == MPS_PEER_PLAIN) {
		mps_dbg("conn %s: a plain client's host: the app's banner is not held",
		        c->peer_str);
		known = -1;
		c->banner_unheld = 1;
	}
	ev_timer_set(&c->nego_timer,
	             (known > 0 ? mps_nego_banner_window_known_us(sf->rtt_us) :
	              known < 0 ? 0 :
	                          mps_nego_banner_window_us(sf->rtt_us)) /
	                     1e6,
	             0.);
	ev_timer_start(loop, &c->nego_timer);
	ev_io_start(loop, &sf->rio);
}

/* The send side's start: a client's key exchange, IDSN and first flight;
 * a server holds the app's bytes until the verdict.  0 or -errno. */
static int conn_start_tx(struct mps_conn *c, const struct mps_conn_params *p,
                         const struct mps_config *cfg)
{
	uint64_t idsn;
	int rc;

	if (p->role == MPS_CLIENT) {
		/* A client's HELLO may reach a plain, line-oriented server:
		 * with no CR or LF in it (kex redraws the public value, and
		 * hello_wnd rounds the window), such a server never sees a
		 * complete line (and so never acts on it). */
		const uint8_t *psk = p->kex_psk;
		uint8_t gwpsk[MPS_KEX_PSK_LEN];

		/* through a gateway: its key authenticates the exchange (no
		 * key: no PSK, and the request fails in client_established) */
		if (p->gw && !psk && mps_gw_client_psk(gwpsk) == 0)
			psk = gwpsk;
		uint8_t tid[MPS_KEX_TICKET_LEN], secret[MPS_KEX_RMS_LEN];
		/* a ticket from this server, or from the first gateway
		 * (resume.h): the HELLO offers it, with the standby keypair
		 * for a server that lost it (the gateway's PSK stays mixed
		 * in either way) */
		int offer =
		        !p->kex_psk && mps_config()->resume_ttl &&
		        mps_resume_take(mps_mpcap_ticket_peer(c), tid, secret, mps_now_us()) == 0;

		rc = mps_kex_client_begin(&c->kex, psk, offer ? mps_kex_standby_draw : NULL, NULL);
		if (rc == 0 && offer)
			rc = mps_kex_client_offer(&c->kex, tid, secret);
		mps_kex_wipe(secret, sizeof(secret));
		mps_kex_wipe(gwpsk, sizeof(gwpsk));
		if (rc)
			return rc;
		/* our first flight goes before the server's public value is
		 * known: the IDSN comes from ours, or from the nonce of a
		 * resuming HELLO (kex.h) */
		idsn = mps_kex_idsn_hello(c->kex.kp.pub, c->kex.offer, c->kex.nonce_c);
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
	return 0;
}

/* The connection's watchers and timers, with their handlers. */
static void conn_init_watchers(struct mps_conn *c, struct mps_subflow *sf)
{
	ev_io_init(&c->app_r, mps_dss_tx_app_on_read, c->app_fd, EV_READ);
	c->app_r.data = c;
	ev_io_init(&c->app_w, mps_dss_rx_app_on_write, c->app_fd, EV_WRITE);
	c->app_w.data = c;
	ev_io_init(&c->conn_w, conn_on_connected, sf->fd, EV_WRITE);
	c->conn_w.data = c;
	ev_init(&c->conn_look, conn_on_look);
	c->conn_look.data = c;
	ev_init(&c->ack_timer, mps_dss_ack_on_timer);
	c->ack_timer.data = c;
	/* Last in its loop iteration: when the app's answer is readable in
	 * the same iteration, the ACK rides on its DATA frame instead of
	 * leaving alone just before it (one segment, one wake-up of the
	 * peer's shim thread fewer per request: issue 15). */
	ev_set_priority(&c->ack_timer, EV_MINPRI);
	ev_init(&c->wnd_timer, mps_dss_ack_wnd_on_timer);
	c->wnd_timer.data = c;
	ev_init(&c->nego_timer, mps_mpcap_nego_on_timer);
	c->nego_timer.data = c;
	ev_init(&c->hello_timer, mps_mpcap_hello_on_timer);
	c->hello_timer.data = c;
	ev_init(&c->fin_timer, mps_dss_tx_fin_on_timer);
	c->fin_timer.data = c;
	ev_init(&c->outage_timer, mps_resil_outage_on_timer);
	c->outage_timer.data = c;
	ev_init(&c->rejoin_timer, mps_resil_rejoin_on_timer);
	c->rejoin_timer.data = c;
	ev_init(&c->pm_timer, mps_path_pm_on_timer);
	c->pm_timer.data = c;
	ev_init(&c->park_timer, mps_sf_park_on_timer);
	c->park_timer.data = c;
	ev_init(&c->watchdog, mps_resil_watchdog_on_timer);
	c->watchdog.data = c;
	ev_init(&c->gw_timer, mps_gwconn_on_timer);
	c->gw_timer.data = c;
}

/* conn_begin on the shim thread; an inline connection's here, under the
 * engine lock: the HELLO of a connected socket leaves now, and the app's
 * first call finds the connection begun.  0 or -errno. */
static int conn_launch(struct mps_conn *c, const struct mps_conn_params *p)
{
	struct ev_loop *loop;

	if (c->inl) {
		int i;

		/* a process's first connection: the shim thread it just
		 * started opens the engine within a moment (else the caller
		 * takes the socketpair) */
		for (i = 0; !(loop = mps_engine_lock()) && i < 20; i++) {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
		}
		if (!loop)
			return -EAGAIN;
		conn_begin_hello(loop, c, p->inl_hello_len ? p->inl_hello : NULL, p->inl_hello_len);
		mps_engine_unlock();
		return 0;
	}
	c->start_cmd.fn = conn_begin;
	c->start_cmd.arg = c;
	return mps_loop_submit(&c->start_cmd);
}

/* A server's local address: the one adopt() read, or the kernel's. */
static void server_local(struct mps_subflow *sf, struct mps_sock *s)
{
	socklen_t len = sizeof(sf->local);

	pthread_mutex_lock(&s->lock);
	if (s->local_len > 0 && s->local_len <= sizeof(sf->local))
		memcpy(&sf->local, &s->local, s->local_len);
	else
		mps_real.getsockname(sf->fd, (struct sockaddr *)&sf->local, &len);
	pthread_mutex_unlock(&s->lock);
}

int mps_conn_start(const struct mps_conn_params *p)
{
	const struct mps_config *cfg = mps_config();
	struct mps_conn *c = calloc(1, sizeof(*c));
	struct mps_sock *s = p->sock;
	struct mps_subflow *sf;
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
	c->inl = p->inl != 0;
	c->inl_fd = p->inl ? p->inl_fd : -1;
	c->inl_look = p->inl && p->inl_look;
	c->filler = p->filler;
	c->app_dup = p->app_dup;
	c->peer = s->peer;
	c->peer_len = s->peer_len;
	c->bound = p->bound;
	c->bind_addr = p->local;
	c->bind_len = p->local_len;
	c->gw = p->gw != 0;
	c->gw_wait = c->gw;
	mps_addr_str(&c->peer, c->peer_str, sizeof(c->peer_str));
	if (c->gw && s->gw_info && c->role == MPS_CLIENT) /* by name: the name in logs, status */
		snprintf(c->peer_str, sizeof(c->peer_str), "%.48s:%u", s->gw_info->dest.name,
		         s->gw_info->dest.port);
	c->sched.ops = mps_sched_find(mps_set_sched_name() ? mps_set_sched_name() : cfg->scheduler);
	if (!c->sched.ops)
		c->sched.ops = mps_sched_find("default");
	c->sf[0] = sf;
	c->nsf = 1;
	c->next_sf_id = 1;
	sf->c = c;
	sf->id = 1;
	sf->remote = s->peer;
	if (c->role == MPS_SERVER)
		server_local(sf, s);
	rc = mps_steer_start(c); /* the policy file: scheduler, interfaces, backup */
	if (rc) {
		mps_sf_destroy(sf);
		free(c);
		return rc;
	}
	c->rx_mode = RX_NEGO;
	c->rcv_wnd_max = (uint32_t)MPS_MIN(cfg->sndbuf, (size_t)UINT32_MAX);
	if (c->rcv_wnd_max < MPS_MIN_WND)
		c->rcv_wnd_max = MPS_MIN_WND;
	c->rcv_wnd_max = hello_wnd(c->rcv_wnd_max & ~0xffffu);
	mps_sendbuf_init(&c->rxq, 0, c->rcv_wnd_max);
	mps_ofo_init(&c->ofo, c->rcv_wnd_max, 0);
	rc = conn_start_tx(c, p, cfg);
	if (rc) {
		mps_sf_destroy(sf);
		free(c->pol);
		free(c);
		return rc;
	}
	mps_nego_init(&c->nego, p->role);

	conn_init_watchers(c, sf);

	pthread_mutex_lock(&s->lock);
	s->conn = c;
	pthread_mutex_unlock(&s->lock);
	mps_sock_get(s);

	if (c->gw && c->role == MPS_CLIENT)
		mps_gwconn_early(c, sf); /* the request leaves now, not after a wake-up */
	rc = conn_launch(c, p);
	if (rc) {
		pthread_mutex_lock(&s->lock);
		s->conn = NULL;
		pthread_mutex_unlock(&s->lock);
		mps_sock_put(s);
		mps_sendbuf_free(&c->sb);
		mps_sendbuf_free(&c->rxq);
		mps_sf_destroy(sf);
		free(c->pol);
		free(c);
		return rc;
	}
	return 0;
}
