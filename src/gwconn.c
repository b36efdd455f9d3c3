/* gwconn.c - a connection through the gateway (docs/DESIGN.md section 10).
 *
 * Client: connect() goes to a gateway (MPTCPSHIM_GATEWAY): subflow 1 is
 * connected to each configured gateway in turn, the GWREQ rides with the
 * HELLO, and the app's connect() completes with the GWREPLY (or fails with
 * its errno); no gateway left: MPTCPSHIM_GATEWAY_FALLBACK.  Server (an
 * accepted connection on a gateway listener): the bytes after the client's
 * HELLO must be one GWREQ whose AUTH verifies before the HELLO_ACK goes
 * out; then, by default (MPS_SO_GW_DIRECT), this thread answers it itself
 * (gwdirect.c: the client's limits, the policy, a non-blocking connect),
 * or, with the daemon's --threaded, the daemon's answer goes back as
 * GWREPLY (mps_conn_gw_reply, app thread).  Shim thread only, but
 * mps_conn_gw_reply and mps_conn_gw_splice. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_int.h"
#include "dss_rx_int.h"
#include "dss_tx_int.h"
#include "gwconn_int.h"
#include "gwdirect_int.h"
#include "mpcap_int.h"
#include "subflow_int.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"
#include "mptcpshim/stat.h"

#define GW_ATTEMPT_TIMEOUT 5.0 /* client: a gateway's TCP handshake and HELLO_ACK */
#define GW_REPLY_TIMEOUT 90.0  /* client: then its GWREPLY (it bounds its own connect) */

static void gw_dest_err_check(struct mps_conn *c);

int mps_gwconn_queue_request(struct mps_conn *c, struct mps_subflow *sf)
{
	uint8_t fr[MPS_HDR_LEN + MPS_GWREQ_MSG_MAX];
	/* by name (MPS_SO_GW_CONNECT, socket.c) or by the app's address */
	int n = c->sock->gw_info ? mps_gw_client_request_dest(&c->sock->gw_info->dest,
	                                                      c->kex.kp.pub, fr, sizeof(fr)) :
	                           mps_gw_client_request((struct sockaddr *)&c->peer, c->kex.kp.pub,
	                                                 fr, sizeof(fr));

	mps_dbg("conn %s: gateway: request built %.0f us after the connection started here",
	        c->peer_str, (ev_time() - c->st.born) * 1e6);
	if (n < 0 || mps_gwdirect_queue_frame(c, sf, fr, (size_t)n)) {
		/* no key: no gateway can take it (logged once) */
		c->gw_idx = mps_gwconf()->n;
		mps_gwconn_failed(c, n == -ENOKEY ? ECONNREFUSED : ENOMEM,
		                  n == -ENOKEY ? "no usable gateway key" :
		                                 "cannot build the request");
		return -1;
	}
	return 0;
}

/* No gateway can be used: MPTCPSHIM_GATEWAY_FALLBACK says what then. */
static void gw_give_up(struct mps_conn *c, int err)
{
	static atomic_int told;
	const char *what;
	int rc;

	if (mps_gwconf()->fallback == MPS_GWF_FAIL || c->sock->gw_info) {
		/* a name cannot be connected to from here: MPS_GW_ENOGW tells
		 * the caller to resolve it and go direct itself (gateway.h) */
		if (mps_gwconf()->fallback != MPS_GWF_FAIL)
			err = MPS_GW_ENOGW;
		mps_warn("conn %s: no gateway reachable: connect fails (%s)", c->peer_str,
		         strerror(err));
		atomic_store(&c->sock->so_error, err);
		mps_conn_abort(c, 0, 0, NULL);
		return;
	}
	if (!atomic_exchange(&told, 1))
		mps_warn("conn %s: no gateway reachable: connecting directly, as plain TCP "
		         "(MPTCPSHIM_GATEWAY_FALLBACK=direct; said once)",
		         c->peer_str);
	else
		mps_info("conn %s: no gateway reachable: connecting directly", c->peer_str);
	c->gw = 0;
	c->gw_wait = 0;
	ev_timer_stop(c->loop, &c->gw_timer);
	/* the app's connect() reports the error, as plain TCP's would */
	if ((rc = mps_mpcap_plain_reconnect(c, &what)) < 0) {
		atomic_store(&c->sock->so_error, -rc);
		mps_conn_abort(c, 0, 0, NULL);
	}
}

/* TCP Fast Open (RFC 7413) to the gateway: connect() returns at once and
 * the first write, HELLO + GWREQ, rides in the SYN once the kernel holds
 * the gateway's cookie (its first connection fetches one), so the request
 * costs no round trip of its own.  A replayed SYN's request meets the
 * gateway's replay cache.  Where the kernel or the gateway does not do
 * TFO (net.ipv4.tcp_fastopen), this is an ordinary connect.  The write
 * before the handshake may fail with EINPROGRESS: the subflow writer waits
 * for writability then, as for EAGAIN. */
static void gw_fastopen(int fd)
{
	int one = 1;

	mps_real.setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one));
}

/* The first gateway's address as the app's own socket reaches it (an
 * IPv6 socket reaches an IPv4 gateway v4-mapped): 0, or -1 when the
 * families do not fit (a socket of the gateway's family is needed). */
static int gw_first_addr(const struct mps_conn *c, struct sockaddr_storage *to, socklen_t *tolen)
{
	const struct mps_gwconf *g = mps_gwconf();

	if (g->n < 1)
		return -1;
	*to = g->gw[0];
	*tolen = g->gw_len[0];
	if (to->ss_family == c->peer.ss_family)
		return 0;
	if (to->ss_family == AF_INET && c->peer.ss_family == AF_INET6) {
		struct sockaddr_in v4 = *(struct sockaddr_in *)to;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)to;

		memset(v6, 0, sizeof(*v6));
		v6->sin6_family = AF_INET6;
		v6->sin6_port = v4.sin_port;
		v6->sin6_addr.s6_addr[10] = v6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(v6->sin6_addr.s6_addr + 12, &v4.sin_addr, 4);
		*tolen = sizeof(*v6);
		return 0;
	}
	return -1;
}

void mps_gwconn_early(struct mps_conn *c, struct mps_subflow *sf)
{
	uint8_t fr[MPS_HELLO_MAX_LEN + MPS_HDR_LEN + MPS_GWREQ_MSG_MAX];
	struct sockaddr_storage to;
	socklen_t tolen;
	size_t hl;
	ssize_t w;
	int n;

	c->gw_early = MPS_GW_EARLY_NONE;
	if (sf->state != SF_CONNECTING || gw_first_addr(c, &to, &tolen))
		return;
	hl = mps_mpcap_client_hello(c, fr); /* the same as the shim thread's */
	n = c->sock->gw_info ? mps_gw_client_request_dest(&c->sock->gw_info->dest, c->kex.kp.pub,
	                                                  fr + hl, sizeof(fr) - hl) :
	                       mps_gw_client_request((struct sockaddr *)&c->peer, c->kex.kp.pub,
	                                             fr + hl, sizeof(fr) - hl);
	if (n < 0)
		return; /* no key: the shim thread fails it, logged there */
	gw_fastopen(sf->fd);
	if (mps_real.connect(sf->fd, (struct sockaddr *)&to, tolen) != 0) {
		/* no TFO here: an ordinary handshake, under way (the shim
		 * thread sends the flight once it completed) or failed (the
		 * shim thread tries again, and says why) */
		c->gw_early = errno == EINPROGRESS ? MPS_GW_EARLY_CONNECTING : MPS_GW_EARLY_FAILED;
		if (c->gw_early == MPS_GW_EARLY_FAILED)
			mps_dbg("conn %s: gateway: connect from the app's thread: %s (the shim "
			        "thread tries again)",
			        c->peer_str, strerror(errno));
		return;
	}
	w = mps_real.send(sf->fd, fr, hl + (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w == (ssize_t)(hl + (size_t)n))
		c->gw_early = MPS_GW_EARLY_SENT; /* in the SYN: the kernel had the cookie */
	else if (w < 0 && (errno == EINPROGRESS || errno == EAGAIN))
		c->gw_early = MPS_GW_EARLY_CONNECTING; /* a SYN asking for the cookie */
	else
		c->gw_early = MPS_GW_EARLY_FAILED; /* a part (a SYN's room is larger) or an error */
}

/* Connect subflow 1 to gateway c->gw_idx, or the next one that can be
 * tried; none left: gw_give_up. */
void mps_gwconn_attempt(struct mps_conn *c)
{
	const struct mps_gwconf *g = mps_gwconf();
	int err = ECONNREFUSED;

	if (c->gw_early == MPS_GW_EARLY_FAILED && c->nsf)
		mps_sf_set_state(c->sf[0], SF_NEGO); /* not reused: a new socket, a new request */
	while (c->gw_idx < g->n) {
		struct sockaddr_storage to = g->gw[c->gw_idx];
		socklen_t tolen = g->gw_len[c->gw_idx];
		struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;
		int fd, rc, early = 0;
		char a[64];

		/* The first attempt uses the app's own socket when its family
		 * fits; the app's thread may have connected it already
		 * (mps_gwconn_early). */
		if (sf && sf->state == SF_CONNECTING && !ev_is_active(&c->conn_w) &&
		    c->gw_idx == 0 && gw_first_addr(c, &to, &tolen) == 0) {
			fd = sf->fd;
			early = c->gw_early == MPS_GW_EARLY_SENT ||
			        c->gw_early == MPS_GW_EARLY_CONNECTING;
		} else {
			if (sf) {
				mps_sf_conn_del(c, sf);
				mps_sf_free(c->loop, sf, 1);
			}
			ev_io_stop(c->loop, &c->conn_w);
			mps_nego_init(&c->nego, MPS_CLIENT); /* same keypair, next gateway */
			fd = mps_conn_tcp_socket_fam(c, to.ss_family, 0);
			if (fd < 0) {
				err = -fd;
				c->gw_idx++;
				continue;
			}
			sf = mps_sf_attach_new(c, fd, SF_CONNECTING);
			if (!sf) {
				mps_ifd_close(fd);
				err = ENOMEM;
				break;
			}
		}
		sf->remote = to;
		c->gw_peer = to;
		if (early) {
			rc = 0; /* connected by the app's thread */
		} else {
			c->gw_early = MPS_GW_EARLY_NONE; /* the flight: client_established */
			gw_fastopen(fd);
			rc = mps_real.connect(fd, (struct sockaddr *)&to, tolen);
		}
		if (rc == 0 || errno == EINPROGRESS) {
			ev_io_set(&c->conn_w, fd, EV_WRITE);
			ev_io_start(c->loop, &c->conn_w);
			ev_timer_stop(c->loop, &c->gw_timer);
			ev_timer_set(&c->gw_timer, GW_ATTEMPT_TIMEOUT, 0.);
			ev_timer_start(c->loop, &c->gw_timer);
			mps_dbg("conn %s: through gateway %s", c->peer_str,
			        mps_addr_str(&to, a, sizeof(a)));
			return;
		}
		err = errno;
		mps_warn("conn %s: gateway %s: %s", c->peer_str, mps_addr_str(&to, a, sizeof(a)),
		         strerror(err));
		c->gw_idx++;
		/* the next attempt needs a new socket: this one failed */
		if (c->nsf && c->sf[0]->fd == fd)
			mps_sf_set_state(c->sf[0], SF_NEGO);
	}
	if (c->nsf) {
		struct mps_subflow *sf = c->sf[0];

		mps_sf_conn_del(c, sf);
		mps_sf_free(c->loop, sf, 1);
	}
	ev_io_stop(c->loop, &c->conn_w);
	gw_give_up(c, err);
}

/* The gateway tried now failed before its HELLO_ACK: the next one. */
void mps_gwconn_failed(struct mps_conn *c, int err, const char *why)
{
	char a[64];

	if (c->rx_mode != RX_NEGO) {
		/* it took the request: the answer is final */
		atomic_store(&c->sock->so_error, err);
		mps_warn("conn %s: gateway %s: %s", c->peer_str,
		         mps_addr_str(&c->gw_peer, a, sizeof(a)), why);
		mps_conn_abort(c, 0, 0, NULL);
		return;
	}
	mps_warn("conn %s: gateway %s: %s (%s)", c->peer_str,
	         mps_addr_str(&c->gw_peer, a, sizeof(a)), why, strerror(err));
	ev_timer_stop(c->loop, &c->gw_timer);
	ev_io_stop(c->loop, &c->conn_w);
	if (c->nsf)
		mps_sf_set_state(c->sf[0], SF_NEGO); /* not reused */
	c->gw_idx++;
	mps_gwconn_attempt(c);
}

static void gw_refuse(struct mps_conn *c, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "gateway: request refused, nothing sent back: %s", why);
	mps_stat(c, NULL, MPS_MIB_GW_UNAUTH, 1);
	mps_conn_abort(c, 0, 0, msg);
}

static void gw_log_request(struct mps_conn *c, const struct mps_gwinfo *info)
{
	char a[64], d[300];

	switch (info->dest.type) {
	case MPS_GWT_DEST_IPV4:
	case MPS_GWT_DEST_IPV6:
		inet_ntop(info->dest.type == MPS_GWT_DEST_IPV4 ? AF_INET : AF_INET6,
		          info->dest.addr, a, sizeof(a));
		snprintf(d, sizeof(d), "%s port %u", a, info->dest.port);
		break;
	default:
		snprintf(d, sizeof(d), "%s port %u", info->dest.name, info->dest.port);
	}
	mps_info("conn %s: gateway request from client '%s' for %s", c->peer_str, info->client, d);
}

/* Gateway: the bytes after the client's HELLO (of the length its header
 * says: longer when it offers a ticket) must be one GWREQ whose AUTH
 * verifies; then (only then) the HELLO_ACK goes out. */
static void gw_server_request(struct mps_conn *c, struct mps_subflow *sf)
{
	size_t hl = MPS_HDR_LEN + (size_t)sf->rbuf[3]; /* nego.c: all of it is in rbuf */
	const uint8_t *p = sf->rbuf + hl;
	size_t n = sf->rlen - hl;
	struct mps_gwinfo *info;
	struct mps_frame f;
	const char *why = "?";
	char msg[160];
	uint8_t psk[MPS_KEX_PSK_LEN], res = MPS_GWR_OK;
	int rc, rc2;

	rc = mps_frame_decode(p, n, &f, &why);
	if (rc == 0 && n >= 1 && p[0] != MPS_F_GWREQ)
		rc = -EBADMSG, why = "the frame after HELLO is not GWREQ";
	if (rc == 0)
		return; /* more to come, within gw_timer */
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "malformed request: %s", why);
		gw_refuse(c, msg);
		return;
	}
	if (f.type != MPS_F_GWREQ) {
		gw_refuse(c, "the frame after HELLO is not GWREQ");
		return;
	}
	info = calloc(1, sizeof(*info));
	if (!info) {
		gw_refuse(c, "out of memory");
		return;
	}
	if (mps_gw_server_verify(f.u.gw.msg, f.u.gw.len, c->nego.remote_pub, info, psk, &why)) {
		free(info);
		gw_refuse(c, why);
		return;
	}
	/* the client's key authenticates the exchange too (mps_mpcap_go_mp) */
	rc2 = mps_kex_server_set_psk(&c->kex, psk);
	mps_kex_wipe(psk, sizeof(psk));
	if (rc2) {
		free(info);
		gw_refuse(c, "key exchange already done");
		return;
	}
	ev_timer_stop(c->loop, &c->gw_timer);
	c->gw_req_at = ev_time();
	mps_dbg("conn %s: gateway: request verified %.0f us after the connection started here",
	        c->peer_str, (c->gw_req_at - c->st.born) * 1e6);
	pthread_mutex_lock(&c->sock->lock);
	free(c->sock->gw_info);
	c->sock->gw_info = info;
	pthread_mutex_unlock(&c->sock->lock);
	/* 2: served here (MPS_SO_GW_DIRECT; no daemon thread waits) */
	mps_gw_signal(&c->sock->lock, &c->sock->gw_cond, &c->sock->gw_ready,
	              mps_gw_direct() ? 2 : 1);
	if (mps_gw_direct())
		/* the destination's handshake runs while the key exchange
		 * below is computed; a refusal's reply waits for the
		 * HELLO_ACK */
		res = mps_gwdirect_start(c);
	mps_stat(c, NULL, MPS_MIB_GW_REQUESTS, 1);
	if (res != MPS_GWR_OK)
		gw_log_request(c, info); /* before the refusal's line */
	mps_mpcap_go_mp(c, sf);
	if (mps_conn_closed(c))
		return;
	mps_dbg("conn %s: gateway: keys derived, HELLO_ACK queued %.0f us after the request "
	        "verified",
	        c->peer_str, (ev_time() - c->gw_req_at) * 1e6);
	sf->roff = hl + (size_t)rc;
	if (res != MPS_GWR_OK) {
		mps_gwdirect_end(c, res);
		if (mps_conn_closed(c))
			return;
	}
	/* A near destination has answered during the key exchange: its
	 * GWREPLY goes now, in the HELLO_ACK's segment (one wake-up of the
	 * client instead of two); what the client sent behind its request
	 * then goes straight on. */
	if (res == MPS_GWR_OK) {
		mps_gwdirect_answered(c);
		/* the request's line once the answer is on its way (a write
		 * less before it) */
		gw_log_request(c, info);
		if (mps_conn_closed(c))
			return;
	}
	mps_conn_rx_process(c, sf);
}

void mps_gwconn_verdict(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v)
{
	char msg[160];

	if (c->role == MPS_SERVER) {
		if (v == MPS_NV_MP) {
			if (c->rx_mode == RX_NEGO)
				gw_server_request(c, sf);
			return;
		}
		snprintf(msg, sizeof(msg), "not a shim client (%s)",
		         c->nego.why ? c->nego.why : "no HELLO");
		gw_refuse(c, msg);
		return;
	}
	if (v == MPS_NV_MP) {
		mps_dbg("conn %s: gateway: HELLO_ACK %.0f us after the connection started here",
		        c->peer_str, (ev_time() - c->st.born) * 1e6);
		ev_timer_stop(c->loop, &c->gw_timer);
		mps_mpcap_go_mp(c, sf);
		if (mps_conn_closed(c))
			return;
		/* the gateway bounds its own connect and answers ETIMEDOUT */
		ev_timer_set(&c->gw_timer, GW_REPLY_TIMEOUT, 0.);
		ev_timer_start(c->loop, &c->gw_timer);
		mps_conn_rx_process(c, sf);
		return;
	}
	snprintf(msg, sizeof(msg), "no HELLO_ACK (%s)", c->nego.why ? c->nego.why : "?");
	mps_gwconn_failed(c, ECONNREFUSED, msg);
}

/* Client: the GWREPLY.  0, or 1 when c is gone. */
int mps_gwconn_client_reply(struct mps_conn *c, const uint8_t *msg, size_t len)
{
	struct mps_gwrep r;
	const char *why = NULL;
	char a[64];
	int err;

	if (c->role != MPS_CLIENT || !c->gw_wait ||
	    mps_gwreq_decode_reply(msg, len, &r, &why) != (int)len) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "gateway: unexpected GWREPLY");
		return 1;
	}
	ev_timer_stop(c->loop, &c->gw_timer);
	c->gw_wait = 0;
	/* CONFIRM: only a gateway that holds our key derived these keys;
	 * someone in the middle cannot answer for it */
	if (c->kex.have_psk &&
	    (!r.has_confirm || !mps_kex_confirm_ok(c->kex.keys.confirm_s, r.confirm))) {
		atomic_store(&c->sock->so_error, ECONNREFUSED);
		mps_conn_abort(c, MPS_CR_PROTOCOL, 1,
		               r.has_confirm ?
		                       "gateway: wrong CONFIRM (not the gateway of our key)" :
		                       "gateway: reply without CONFIRM");
		return 1;
	}
	err = mps_gwreq_result_errno(r.result);
	if (err) {
		mps_info("conn %s: gateway %s: %s", c->peer_str,
		         mps_addr_str(&c->gw_peer, a, sizeof(a)), mps_gwreq_result_name(r.result));
		atomic_store(&c->sock->so_error, err);
		mps_conn_abort(c, 0, 0, NULL);
		return 1;
	}
	mps_dbg("conn %s: gateway: GWREPLY %.0f us after the connection started here", c->peer_str,
	        (ev_time() - c->st.born) * 1e6);
	mps_conn_app_connected(c); /* the app's thread wakes: then the log line */
	mps_info("conn %s: connected through gateway %s", c->peer_str,
	         mps_addr_str(&c->gw_peer, a, sizeof(a)));
	/* joins waited for the reply (mps_path_pm_fill): open them now if
	 * their time came meanwhile (lazy joins still wait for theirs) */
	if (c->pm_gate == 2 && !ev_is_active(&c->pm_timer)) {
		ev_timer_set(&c->pm_timer, 0., 0.);
		ev_timer_start(c->loop, &c->pm_timer);
	}
	return 0;
}

void mps_gwconn_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	(void)loop;
	(void)revents;
	if (mps_conn_closed(c))
		return;
	if (c->role == MPS_SERVER) {
		if (c->gw_connecting)
			mps_gwdirect_done(c, ETIMEDOUT); /* --connect-timeout */
		else if (atomic_load(&c->sock->gw_ready) == 0)
			gw_refuse(c, "no authenticated request in time");
		else if (c->gw_dest_err)
			gw_dest_err_check(c);
		return;
	}
	if (c->rx_mode == RX_NEGO)
		mps_gwconn_failed(c, ETIMEDOUT, "no answer in time");
	else if (c->gw_wait)
		mps_gwconn_failed(c, ETIMEDOUT, "no reply in time");
}

struct gw_reply_cmd {
	struct mps_cmd cmd;
	struct mps_sock *s;
	uint8_t result;
	int fd, u; /* splice: the daemon's end and the destination's socket (u -1: none) */
	_Atomic int done;
	int rc;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* MPS_SO_GW_SPLICE: the destination's socket u becomes c's app end.
 * Nothing crossed the pair but what the client sent after its request
 * (the daemon's bytes are not read before the reply, and this runs in
 * the same callback that queues it): that is read back from the
 * daemon's end fd and written to u first, before anything in rxq.
 * 0 or -errno (c is untouched then). */
static int gw_splice(struct mps_conn *c, int fd, int u)
{
	char buf[16384];
	int d;

	d = mps_fd_high_nonblock(u);
	if (d < 0)
		return d;
	for (;;) {
		ssize_t r = mps_real.recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r <= 0)
			break;
		if (mps_real.send(d, buf, (size_t)r, MSG_DONTWAIT | MSG_NOSIGNAL) != r) {
			mps_real.close(d);
			return -EIO;
		}
	}
	mps_ifd_add(d);
	mps_gwdirect_take_dest(c, d);
	return 0;
}

/* Server, spliced: the destination's socket failed (err: a reset).  TCP
 * delivers the bytes received before a reset, so what was read from it
 * goes out first: the reset reaches the client once every byte read is
 * data-ACKed, or after 1 s (gw_timer).  What the client sends meanwhile
 * is dropped (app_write), as a reset socket drops it. */
void mps_gwconn_dest_failed(struct mps_conn *c, int err)
{
	if (c->gw_dest_err || mps_conn_closed(c))
		return;
	c->gw_dest_err = err ? err : ECONNRESET;
	c->gw_dest_err_at = ev_now(c->loop);
	mps_info("conn %s: the destination's socket failed (%s): resetting once what it sent "
	         "is delivered",
	         c->peer_str, strerror(c->gw_dest_err));
	ev_io_stop(c->loop, &c->app_r);
	ev_io_stop(c->loop, &c->app_w);
	ev_timer_stop(c->loop, &c->gw_timer);
	ev_timer_set(&c->gw_timer, 0., 0.005);
	ev_timer_start(c->loop, &c->gw_timer);
}

static void gw_dest_err_check(struct mps_conn *c)
{
	if (c->snd_una == c->sb.end || ev_now(c->loop) - c->gw_dest_err_at >= 1.0 ||
	    mps_sf_n_usable(c) == 0) {
		ev_timer_stop(c->loop, &c->gw_timer);
		mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
	}
}

static void gw_reply_run(struct ev_loop *loop, void *arg)
{
	struct gw_reply_cmd *r = arg;
	struct mps_conn *c;
	struct mps_subflow *sf = NULL;

	(void)loop;
	pthread_mutex_lock(&r->s->lock);
	c = r->s->conn;
	pthread_mutex_unlock(&r->s->lock);
	r->rc = -ENOTCONN;
	if (c && !mps_conn_closed(c) && c->gw && c->gw_wait && c->role == MPS_SERVER &&
	    !c->gw_connecting) {
		mps_dbg("conn %s: gateway: the daemon answered %.0f us after the request verified",
		        c->peer_str, (ev_time() - c->gw_req_at) * 1e6);
		r->rc = mps_gwdirect_queue_reply(c, r->result, &sf);
		if (r->rc == 0 && r->u >= 0 && (r->rc = gw_splice(c, r->fd, r->u)) != 0) {
			/* queued, not sent: the client sees a reset, not a reply */
			mps_conn_abort(c, MPS_CR_INTERNAL, 1,
			               "gateway: cannot take the destination's socket");
		} else if (r->rc == 0) {
			mps_stat_gw_reply(c, r->result);
			c->gw_wait = 0;
			mps_sf_flush(c, sf);
			if (!mps_conn_closed(c))
				mps_conn_app_update_read(c);
		}
	}
	mps_gw_signal(&r->mu, &r->cv, &r->done, 1);
}

static int gw_reply(struct mps_sock *s, uint8_t result, int fd, int u)
{
	struct gw_reply_cmd *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->cmd.fn = gw_reply_run;
	r->cmd.arg = r;
	r->s = s;
	r->result = result;
	r->fd = fd;
	r->u = u;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	rc = mps_loop_submit(&r->cmd);
	if (rc == 0) {
		mps_gw_wait(&r->mu, &r->cv, &r->done);
		rc = r->rc;
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return rc;
}

int mps_conn_gw_reply(struct mps_sock *s, uint8_t result)
{
	return gw_reply(s, result, -1, -1);
}

int mps_conn_gw_splice(struct mps_sock *s, int fd, int u)
{
	return gw_reply(s, MPS_GWR_OK, fd, u);
}
