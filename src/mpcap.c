/* mpcap.c - MP_CAPABLE's equivalent (RFC 8684 3.1): the HELLO exchange's
 * outcome applied to a connection (nego.c decides it from the bytes, kex.c
 * derives the keys): multipath with keys, tokens and IDSNs, or plain TCP
 * both ways (the client's fallback is connect.c's reconnect); the banner
 * window and the HELLO's deadline.  Shim thread only. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conn_int.h"
#include "mptcpshim/defacc.h"
#include "dss_rx_int.h"
#include "dss_tx_int.h"
#include "mpcap_int.h"
#include "prio_int.h"
#include "resilience_int.h"
#include "subflow_int.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/log.h"
#include "mptcpshim/netmon.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/pm.h"
#include "mptcpshim/resume.h"
#include "mptcpshim/real.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"
#include "mptcpshim/stat.h"

/* ------------------------------------------------------------- negotiation */

/* kex accept callback: register key_s's token, or refuse (redraw) when it
 * names a live connection already. */
static int server_token_ok(const struct mps_kex_keys *keys, void *arg)
{
	struct mps_conn *c = arg;
	uint32_t token;

	mps_crypto_key_derive(keys->key_s, &token, NULL);
	if (mps_token_add(token, c) != 0)
		return -1;
	c->local_token = token;
	return 0;
}

int mps_mpcap_resume_on(const struct mps_conn *c)
{
	(void)c;
	return mps_config()->resume_ttl != 0;
}

const struct sockaddr *mps_mpcap_ticket_peer(const struct mps_conn *c)
{
	const struct mps_gwconf *g = mps_gwconf();

	if (c->gw && c->role == MPS_CLIENT && c->gw_idx < g->n)
		return (const struct sockaddr *)&g->gw[c->gw_idx];
	return (const struct sockaddr *)&c->peer;
}

size_t mps_mpcap_client_hello(const struct mps_conn *c, uint8_t fr[MPS_HELLO_MAX_LEN])
{
	struct mps_hello h = {.version = MPS_VERSION, .caps = MPS_CAP_NONE, .wnd = c->rcv_wnd_max};

	memcpy(h.pub, c->kex.kp.pub, sizeof(h.pub));
	/* resumption (kex.h): we keep tickets; this HELLO offers one.  Its
	 * ticket and nonce have no CR or LF either (the server drew the
	 * one, we the other, both without). */
	if (mps_mpcap_resume_on(c))
		h.caps |= MPS_CAP_TICKET;
	if (c->quiet_asked)
		h.caps |= MPS_CAP_QUIET; /* inline.c: no readiness without app bytes */
	/* ... and we can hold for an inline server, and close as TCP does */
	if (!c->gw)
		h.caps |= MPS_CAP_HOLD | MPS_CAP_FINCLOSE;
	if (c->kex.offer) {
		h.caps |= MPS_CAP_RESUME;
		memcpy(h.ticket, c->kex.ticket, sizeof(h.ticket));
		memcpy(h.nonce, c->kex.nonce_c, sizeof(h.nonce));
	}
	return mps_frame_put_hello(fr, MPS_F_HELLO, &h);
}

/* Server: the keys from the ticket the HELLO offers, if this process
 * holds it (taken out: single use), else from a full X25519 agreement.
 * Sets RESUME in h->caps when resumed.  0 or -errno (kex.h). */
static int server_keys(struct mps_conn *c, const struct mps_hello *hello, struct mps_hello *h)
{
	uint8_t secret[MPS_KEX_RMS_LEN];
	int rc;

	if (hello->caps & MPS_CAP_RESUME)
		mps_kex_server_offered(&c->kex, hello->ticket, hello->nonce);
	/* a gateway's ticket is bound to the client key its request
	 * authenticated with (set on c->kex before: gwconn.c) */
	if (c->kex.offer && mps_mpcap_resume_on(c) &&
	    mps_resume_redeem_bound(hello->ticket, secret, c->kex.have_psk ? c->kex.psk : NULL,
	                            mps_now_us()) == 0) {
		rc = mps_kex_server_finish_resumed(&c->kex, secret, NULL, NULL, server_token_ok, c);
		mps_kex_wipe(secret, sizeof(secret));
		if (rc == 0) {
			h->caps |= MPS_CAP_RESUME;
			mps_stat(c, c->sf[0], MPS_MIB_RESUMED, 1);
		}
		return rc;
	}
	if (c->kex.offer) {
		/* another process's ticket, an expired or used one, or a
		 * forged one: the full agreement, in the same round trip */
		mps_dbg("conn %s: HELLO offers a ticket this process does not hold (or not "
		        "for this client key): full key agreement",
		        c->peer_str);
		mps_stat(c, c->sf[0], MPS_MIB_RESUME_MISSED, 1);
	}
	return mps_kex_server_finish(&c->kex, NULL, NULL, server_token_ok, c);
}

/* Server: a ticket for the client's next connection, when it keeps them
 * (TICKET in its HELLO): the schedule's rms under a random id. */
static void server_ticket(struct mps_conn *c, const struct mps_hello *hello, struct mps_hello *h)
{
	uint32_t ttl = mps_config()->resume_ttl;
	uint64_t now = mps_now_us();

	if (!(hello->caps & MPS_CAP_TICKET) || !mps_mpcap_resume_on(c))
		return;
	/* no CR/LF: the client sends it back in a HELLO (connect.c) */
	if (mps_kex_random_noline(h->ticket, sizeof(h->ticket)))
		return;
	mps_resume_issue_bound(h->ticket, c->kex.keys.rms, c->kex.have_psk ? c->kex.psk : NULL,
	                       now + (uint64_t)ttl * 1000000u, now);
	h->caps |= MPS_CAP_TICKET;
	h->lifetime = ttl;
}

/* The server's side of the keys: ours against the client's public value
 * (or a ticket's secret), the HELLO_ACK queued, the send side numbered.
 * 0, or -1 when c ended. */
static int go_mp_server(struct mps_conn *c, struct mps_subflow *sf, const struct mps_hello *hello)
{
	struct mps_hello h = {.version = MPS_VERSION, .caps = MPS_CAP_NONE, .wnd = c->rcv_wnd_max};
	uint8_t fr[MPS_HELLO_MAX_LEN];
	uint64_t my_idsn;
	size_t n;
	int rc;

	/* X25519 (DESIGN §10): a keypair of ours against the client's
	 * public value; RFC 8684 §3.1: a token names one connection, so
	 * a colliding token (or a zero key) draws a new keypair.  A PSK,
	 * if any, was set on c->kex before (a gateway's listener). */
	mps_kex_server_begin(&c->kex, c->nego.remote_pub);
	rc = server_keys(c, hello, &h);
	if (rc) {
		mps_conn_abort(c, rc == -EINVAL ? MPS_CR_PROTOCOL : MPS_CR_INTERNAL, 0,
		               rc == -EINVAL ? "negotiation: HELLO's public value is a "
		                               "low-order point" :
		                               "key exchange failed");
		return -1;
	}
	c->token_registered = 1;
	c->local_key = c->kex.keys.key_s;
	c->remote_key = c->kex.keys.key_c;
	mps_crypto_key_derive(c->local_key, &c->local_token, &my_idsn);
	c->remote_idsn = mps_kex_idsn_hello(c->nego.remote_pub, c->kex.offer, c->kex.nonce_c);
	server_ticket(c, hello, &h);
	if (hello->caps & MPS_CAP_QUIET) {
		/* an inline client: what carries no data waits for data */
		h.caps |= MPS_CAP_QUIET;
		c->peer_quiet = 1;
		sf->quiet = 1;
	}
	if (c->inl && (hello->caps & MPS_CAP_HOLD)) {
		/* accepted inline (inline.c): the client holds for us too */
		h.caps |= MPS_CAP_HOLD;
		c->quiet_ok = 1;
	}
	if ((hello->caps & MPS_CAP_FINCLOSE) && !c->gw) {
		h.caps |= MPS_CAP_FINCLOSE;
		c->fin_close_ok = 1;
	}
	mps_kex_wipe(c->kex.keys.rms, sizeof(c->kex.keys.rms)); /* in the table only */
	memcpy(h.pub, c->kex.kp.pub, sizeof(h.pub));            /* resumed: the server's nonce */
	n = mps_frame_put_hello(fr, MPS_F_HELLO_ACK, &h);
	mps_sf_queue_ctl(sf, fr, n);
	c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = my_idsn + 1;
	mps_dss_tx_sb_restart(c, c->snd_start);
	c->snd_edge = c->snd_start + c->nego.remote_wnd;
	c->tx_mode = TX_MP;
	mps_conn_pm()->server_advertise(c, sf);
	return 0;
}

/* Client: keep the ticket HELLO_ACK carries for this server's next
 * connection.  0, or -1 when the server sent one unasked (c aborted). */
static int client_ticket(struct mps_conn *c, const struct mps_hello *hello)
{
	uint32_t life = hello->lifetime, ttl = mps_config()->resume_ttl;
	uint64_t now = mps_now_us();

	if (!(hello->caps & MPS_CAP_TICKET))
		return 0;
	if (!mps_mpcap_resume_on(c)) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 0,
		               "negotiation: HELLO_ACK carries a ticket our HELLO did not ask for");
		return -1;
	}
	if (memchr(hello->ticket, '\n', sizeof(hello->ticket)) ||
	    memchr(hello->ticket, '\r', sizeof(hello->ticket)))
		return 0; /* never sent in a HELLO (a plain server may take its place) */
	/* through a gateway: kept for that gateway (its address and port) */
	mps_resume_keep(mps_mpcap_ticket_peer(c), hello->ticket, c->kex.keys.rms,
	                now + (uint64_t)(life < ttl ? life : ttl) * 1000000u, now);
	return 0;
}

/* The client's side of the keys, from the server's public value (or, the
 * ticket taken, its nonce).  0, or -1 when c ended. */
static int go_mp_client(struct mps_conn *c, const struct mps_hello *hello)
{
	int rc, resumed = (hello->caps & MPS_CAP_RESUME) != 0;

	if (resumed && !c->kex.offer) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 0,
		               "negotiation: HELLO_ACK resumes a ticket our HELLO did not offer");
		return -1;
	}
	if (resumed)
		rc = mps_kex_client_finish_resumed(&c->kex, c->nego.remote_pub);
	else
		rc = mps_kex_client_finish(&c->kex, c->nego.remote_pub);
	if (rc) {
		mps_conn_abort(c, rc == -EINVAL ? MPS_CR_PROTOCOL : MPS_CR_INTERNAL, 0,
		               rc == -EINVAL ? "negotiation: HELLO_ACK's public value gives no "
		                               "usable key" :
		                               "key exchange failed");
		return -1;
	}
	if (c->kex.offer)
		mps_stat(c, c->sf[0], resumed ? MPS_MIB_RESUMED : MPS_MIB_RESUME_MISSED, 1);
	rc = client_ticket(c, hello);
	mps_kex_wipe(c->kex.keys.rms, sizeof(c->kex.keys.rms));
	if (rc)
		return -1;
	c->quiet_ok = (hello->caps & MPS_CAP_QUIET) != 0;
	c->fin_close_ok = (hello->caps & MPS_CAP_FINCLOSE) && !c->gw;
	if ((hello->caps & MPS_CAP_HOLD) && !c->gw) {
		/* an inline server (HOLD): our frames without data wait for
		 * data, as a QUIET client's server does (dss_rx.c) */
		c->peer_quiet = 1;
		c->sf[0]->quiet = 1;
	}
	c->local_key = c->kex.keys.key_c;
	c->remote_key = c->kex.keys.key_s;
	mps_crypto_key_derive(c->local_key, &c->local_token, NULL);
	mps_crypto_key_derive(c->remote_key, &c->remote_token, &c->remote_idsn);
	if (mps_dsn_lt(c->snd_edge, c->snd_start + c->nego.remote_wnd))
		c->snd_edge = c->snd_start + c->nego.remote_wnd;
	return 0;
}

void mps_mpcap_go_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	struct mps_frame f;
	uint64_t idsn;

	/* nego.c judged these bytes a valid HELLO (HELLO_ACK): decoded
	 * again for the fields it does not keep (the ticket's) */
	if (mps_frame_decode(sf->rbuf, sf->rlen, &f, NULL) <= 0) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "negotiation: HELLO vanished");
		return;
	}
	if (c->role == MPS_SERVER ? go_mp_server(c, sf, &f.u.hello) : go_mp_client(c, &f.u.hello))
		return;
	if (c->role == MPS_CLIENT && !c->gw) {
		/* a shim (after all, maybe: a timed-out HELLO from a slow
		 * start): the user's other processes are told, once per
		 * process (with MPTCPSHIM_INLINE only: their first connection
		 * then starts inline; else what plain verdict it had goes) */
		if (mps_peercache_lookup((struct sockaddr *)&c->peer, mps_now_us()) !=
		    MPS_PEER_SHIM) {
			if (mps_config()->inl)
				mps_peercache_shared_note_shim(mps_config()->peer_cache,
				                               (struct sockaddr *)&c->peer,
				                               (int64_t)time(NULL));
			else
				mps_peercache_shared_forget(mps_config()->peer_cache,
				                            (struct sockaddr *)&c->peer,
				                            (int64_t)time(NULL));
		}
		mps_peercache_note((struct sockaddr *)&c->peer, MPS_PEER_SHIM, mps_now_us(), 0);
	}
	if (c->role == MPS_SERVER && !c->gw) {
		/* its host's next connections get the longer banner window,
		 * in this process tree and (told once per tree) in the user's
		 * server processes started later */
		if (!mps_peercache_shim_client((struct sockaddr *)&c->peer, mps_now_us()))
			mps_peercache_shared_note_shim_client(
			        mps_config()->peer_cache, (struct sockaddr *)&c->peer,
			        (int64_t)time(NULL), mps_config()->plain_cache_ttl);
		mps_peercache_note_shim_client((struct sockaddr *)&c->peer, mps_now_us(),
		                               (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
	}
	idsn = c->remote_idsn;
	c->rcv_nxt = c->ack_sent = c->quiet_mark = idsn + 1;
	c->wnd_sent = c->rcv_wnd_max; /* announced in our HELLO/HELLO_ACK */
	c->rcv_edge = c->rcv_nxt + c->rcv_wnd_max;
	c->rx_mode = RX_MP;
	mps_sf_set_state(sf, SF_ACTIVE);
	sf->ready = 1;
	sf->peer_live = 1; /* the HELLO exchange ran on it */
	sf->roff = MPS_HDR_LEN + (size_t)f.body_len;
	sf->ifindex = mps_conn_pm()->ifindex_of(&sf->local);
	mps_netmon_start(c->loop, mps_conn_pm()->path_events); /* path.c hears them */
	mps_resil_watchdog_arm(c); /* the first flight may be outstanding */
	if (c->role == MPS_CLIENT) {
		char ifname[IF_NAMESIZE];
		struct mps_config tmp;
		int named;

		/* The first subflow went where routing sent it: if that is a
		 * backup interface, tell the server (it has no JOIN to say so). */
		const struct mps_config *bc = mps_conn_pm()->cfg(c, &tmp);

		named = 0; /* the name costs a socket: only with backup rules */
		if (bc->nbackup && sf->ifindex) {
			mps_alloc_shim(1); /* libc's socket: see mps_pm_local_addrs */
			named = if_indextoname(sf->ifindex, ifname) != NULL;
			mps_alloc_shim(0);
		}
		if (named && mps_pm_is_backup(bc, ifname))
			mps_prio_set(sf, 1);
	}
	ev_timer_stop(c->loop, &c->nego_timer);
	mps_stat(c, c->sf[0], MPS_MIB_MP_CONNS, 1);
	mps_info("conn %s: multipath negotiated (%s), subflow 1 established", c->peer_str,
	         c->role == MPS_CLIENT ? "client" : "server");
}

void mps_conn_apply_verdict(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v)
{
	char msg[160];

	if (v != MPS_NV_WAIT)
		ev_timer_stop(c->loop, &c->hello_timer);
	if (c->inl && v != MPS_NV_WAIT && v != MPS_NV_MP && mps_conn_promote(c, "fallback")) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "cannot take a socketpair for the fallback");
		return;
	}
	if (c->gw && v != MPS_NV_WAIT) {
		mps_conn_hooks()->gw_verdict(c, sf, v);
		return;
	}
	switch (v) {
	case MPS_NV_WAIT:
		/* Server: the first bytes began a HELLO (else the verdict
		 * would be PLAIN).  The rest must come in time: a client that
		 * sends part of a HELLO and stalls (or a plain one whose first
		 * bytes merely look like it) is served plain after the bound. */
		if (c->role == MPS_SERVER && sf->rlen > 0 && !ev_is_active(&c->hello_timer)) {
			ev_timer_set(&c->hello_timer, mps_nego_hello_timeout_us(sf->rtt_us) / 1e6,
			             0.);
			ev_timer_start(c->loop, &c->hello_timer);
		}
		return;
	case MPS_NV_MP:
		mps_mpcap_go_mp(c, sf);
		break;
	case MPS_NV_PLAIN:
		if (c->role == MPS_CLIENT) {
			mps_conn_client_fallback(c, c->nego.why);
			return;
		}
		mps_info("conn %s: plain TCP client (%s)", c->peer_str, c->nego.why);
		/* its bytes came before the app spoke, or while its banner
		 * was held: this listener's clients speak first (defacc.h) */
		if (c->tx_mode == TX_HOLD && sf->rlen > 0)
			mps_defacc_seen((struct sockaddr *)&sf->local, 1, mps_conn_defacc_apply);
		mps_stat_fallback(c, MPS_MIB_FB_PLAIN_CLIENT, c->nego.why);
		/* a server that connects back to its client (active FTP) does
		 * so plainly, from any process it forks (peercache.c) */
		mps_peercache_note_host((struct sockaddr *)&c->peer, mps_now_us(),
		                        (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
		ev_timer_stop(c->loop, &c->nego_timer);
		c->rx_mode = RX_PLAIN;
		mps_sf_set_state(sf, SF_ACTIVE);
		mps_handback_offer(c->sock); /* the app may take its TCP socket back */
		if (c->tx_mode == TX_HOLD) {
			c->tx_mode = TX_PLAIN;
			mps_dss_tx_sb_restart(c, 0);
			c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = 0;
		}
		break;
	case MPS_NV_ABORT:
		mps_conn_abort(c, MPS_CR_PROTOCOL, 0, c->nego.why);
		return;
	case MPS_NV_ERROR:
		snprintf(msg, sizeof(msg), "negotiation: %s", c->nego.why);
		mps_conn_abort(c, MPS_CR_PROTOCOL, 0, msg);
		return;
	}
	if (!mps_conn_closed(c))
		mps_conn_rx_process(c, sf);
}

void mps_mpcap_nego_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->role == MPS_CLIENT) {
		if (!c->nsf)
			return;
		if (c->quiet_asked && !mps_conn_promote(c, "no HELLO_ACK read yet")) {
			/* A QUIET HELLO (inline.c): the server holds its HELLO_ACK
			 * for its first data, as long as its app thinks; the app
			 * may not have read it yet either.  No fallback on time:
			 * a plain server's answer still makes one (nego.c). */
			ev_feed_event(loop, &c->sf[0]->rio, EV_READ);
			ev_timer_set(
			        w, mps_nego_reply_timeout_us(c->sf[0]->rtt_us, c->known_shim) / 1e6,
			        0.);
			ev_timer_start(loop, w);
			return;
		}
		if (!c->known_shim && mps_peercache_lookup((struct sockaddr *)&c->peer,
		                                           mps_now_us()) == MPS_PEER_SHIM) {
			/* Another connection to this address got its HELLO_ACK
			 * meanwhile: the server runs mptcpshim, and this HELLO
			 * waits in its accept queue (a burst of connections).
			 * Wait as for a known shim instead of falling back. */
			double rest = (MPS_REPLY_KNOWN_US -
			               mps_nego_reply_timeout_us(c->sf[0]->rtt_us, 0)) /
			              1e6;

			c->known_shim = 1;
			mps_dbg("conn %s: no HELLO_ACK yet, but the server runs mptcpshim: "
			        "waiting %.1f s more",
			        c->peer_str, rest);
			ev_timer_set(w, rest, 0.);
			ev_timer_start(loop, w);
			return;
		}
		mps_conn_apply_verdict(c, c->sf[0], mps_nego_timeout(&c->nego));
		return;
	}
	/* Server: the banner window is over.  Release only if the app has
	 * actually written; otherwise keep waiting for the client.  Not while
	 * the client's first bytes wait to be looked at: on a loaded machine
	 * this timer and the subflow's readability come in one loop
	 * iteration, and libev runs the timer first, so a HELLO that came in
	 * time would be answered with the raw banner (then aborted as late).
	 * A begun HELLO (rlen > 0) is the HELLO deadline's to decide. */
	if (c->nsf && c->rx_mode == RX_NEGO && c->tx_mode == TX_HOLD) {
		struct mps_subflow *sf = c->sf[0];
		uint8_t b;

		if (sf->rlen > 0)
			return;
		if (mps_real.recv(sf->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
			mps_dbg("conn %s: banner window over with the client's first bytes "
			        "unread: reading them first",
			        c->peer_str);
			ev_feed_event(loop, &sf->rio, EV_READ);
			/* the verdict stops this timer; if none comes, look again */
			ev_timer_set(w, mps_nego_banner_window_us(sf->rtt_us) / 1e6, 0.);
			ev_timer_start(loop, w);
			return;
		}
	}
	c->window_expired = 1;
	mps_conn_app_update_read(c);
}

void mps_mpcap_hello_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	(void)loop;
	(void)revents;
	if (mps_conn_closed(c) || c->rx_mode != RX_NEGO || !c->nsf)
		return;
	if (c->inl) {
		/* an inline server's (inline.c peeked it, or the app has not
		 * looked yet): the shim thread reads the rest, or judges it,
		 * from now on */
		if (mps_conn_promote(c, c->inl_look ? "no HELLO taken in time" :
		                                      "a HELLO begun and stalled"))
			mps_conn_abort(c, MPS_CR_INTERNAL, 0, "cannot take a socketpair");
		return;
	}
	/* the length its header announces, once that much came (resumption
	 * fields make it longer than MPS_HELLO_LEN) */
	mps_info("conn %s: HELLO incomplete (%zu of %u bytes) %.1f s after its first bytes",
	         c->peer_str, c->sf[0]->rlen,
	         c->sf[0]->rlen >= MPS_HDR_LEN ? MPS_HDR_LEN + c->sf[0]->rbuf[3] : MPS_HELLO_LEN,
	         mps_nego_hello_timeout_us(c->sf[0]->rtt_us) / 1e6);
	mps_conn_apply_verdict(c, c->sf[0], mps_nego_hello_stalled(&c->nego));
}

/* ------------------------------------------------------------- fallback
 * (from connect.c: the fallback is MP_CAPABLE's other outcome) */

/* The plain reconnect's socket: kernel MPTCP where MPTCPSHIM_KERNEL_MPTCP
 * asks for it and the kernel has it (a kernel-MPTCP server gets multipath,
 * a plain one sees TCP: kmptcp.h), else TCP. */
int mps_conn_tcp_socket(struct mps_conn *c)
{
	return mps_conn_tcp_socket_fam(c, c->peer.ss_family, 1);
}

/* A new socket of family (the app's bound address is kept when it is of
 * that family): for a plain connection (kmptcp: kernel MPTCP where
 * MPTCPSHIM_KERNEL_MPTCP asks), or TCP for a shim subflow (a gateway). */
int mps_conn_tcp_socket_fam(struct mps_conn *c, int family, int kmptcp)
{
	int fd = kmptcp ? mps_kmptcp_socket(family, SOCK_NONBLOCK | SOCK_CLOEXEC) :
	                  mps_real.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                                  IPPROTO_TCP);
	int one = 1;

	if (fd < 0)
		fd = mps_real.socket(c->peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                     IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* Out of the app's range; if there is no room it stays low: the
	 * fallback must not fail for that. */
	fd = mps_ifd_take(fd, 1);
	mps_sf_apply_opts(c, fd);
	if (c->bound && c->bind_addr.ss_family == family) {
		mps_real.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&c->bind_addr, c->bind_len) != 0) {
			int e = errno;

			mps_ifd_close(fd);
			return -e;
		}
	}
	return fd;
}

/* Connect c plainly to its peer, replaying its stream from the start (the
 * client's fallback; a gateway client's direct connect): a new first
 * subflow whose connect's end conn_w sees.  0, or -errno with *what set
 * ("cannot create a socket", "out of memory", NULL for the connect
 * itself); the caller aborts c then. */
int mps_mpcap_plain_reconnect(struct mps_conn *c, const char **what)
{
	struct mps_subflow *sf;
	int fd;

	*what = NULL;
	c->rx_mode = RX_PLAIN;
	c->tx_mode = TX_PLAIN;
	c->snd_nxt = c->snd_una = c->sb.una; /* nothing was ACKed: replay from the start */
	/* our DATA_FIN (if framed) is framed again */
	mps_conn_set_state(c, mps_conn_state_with(0, 0, mps_conn_rcv_fin(c)));
	fd = mps_conn_tcp_socket(c);
	if (fd < 0) {
		*what = "cannot create a socket";
		return fd;
	}
	sf = mps_sf_attach_new(c, fd, SF_CONNECTING); /* closes fd if not */
	if (!sf) {
		*what = "out of memory";
		return -ENOMEM;
	}
	sf->remote = c->peer;
	if (mps_real.connect(fd, (struct sockaddr *)&c->peer, c->peer_len) == 0 ||
	    errno == EINPROGRESS) {
		ev_io_set(&c->conn_w, fd, EV_WRITE);
		ev_io_start(c->loop, &c->conn_w);
		return 0;
	}
	return -errno;
}

/* The peer is plain TCP: reconnect plainly and replay what the app sent. */
void mps_conn_client_fallback(struct mps_conn *c, const char *why)
{
	struct mps_subflow *sf = c->sf[0];
	const char *what;

	mps_info("conn %s: peer does not speak mptcpshim (%s): reconnecting as plain TCP",
	         c->peer_str, why);
	mps_stat_fallback(c, c->nego.timed_out ? MPS_MIB_FB_TIMEOUT : MPS_MIB_FB_PLAIN_SERVER, why);
	mps_peercache_note((struct sockaddr *)&c->peer, MPS_PEER_PLAIN, mps_now_us(),
	                   (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
	if (!c->nego.timed_out)
		/* a plain server answered: its host's other ports (FTP data,
		 * connect-back ports) are connected to plainly at once */
		mps_peercache_note_host((struct sockaddr *)&c->peer, mps_now_us(),
		                        (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
	/* the user's next processes connect plainly at once too */
	mps_peercache_shared_note_plain(mps_config()->peer_cache, (struct sockaddr *)&c->peer,
	                                (int64_t)time(NULL), mps_config()->plain_cache_ttl,
	                                !c->nego.timed_out);
	ev_timer_stop(c->loop, &c->nego_timer);
	mps_sf_conn_del(c, sf);
	mps_sf_close_probe(c->loop, sf);
	if (mps_mpcap_plain_reconnect(c, &what) < 0) {
		char m[80];

		if (what)
			snprintf(m, sizeof(m), "plain reconnect: %s", what);
		mps_conn_abort(c, 0, 0, what ? m : "plain reconnect failed");
	}
}
