/* gwdirect.c - a gateway connection served by the library (MPS_SO_GW_DIRECT;
 * docs/DESIGN.md section 10, "Served by the library"), below gwconn.c,
 * which verifies the request and calls here: the client's limits, the
 * policy, the destination's non-blocking connect (a name resolved on a
 * short-lived thread), the GWREPLY and the destination's socket taken as
 * the connection's app end.  Shim thread only, but the name resolver
 * thread (gw_resolve_main). */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
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
#include "gwdirect_int.h"
#include "subflow_int.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"
#include "mptcpshim/stat.h"

/* Queue a frame held in c->gw_frame (a segment points into it until it is
 * written: it is freed with the connection). */
int mps_gwdirect_queue_frame(struct mps_conn *c, struct mps_subflow *sf, const uint8_t *fr,
                             size_t len)
{
	struct mps_seg *seg;
	uint8_t *copy = malloc(len);

	if (!copy)
		return -1;
	memcpy(copy, fr, len);
	seg = mps_sf_seg_add(sf);
	if (!seg) {
		free(copy);
		return -1;
	}
	free(c->gw_frame); /* a dropped attempt's: its segments went with it */
	c->gw_frame = copy;
	memcpy(seg->hdr, copy, MPS_HDR_LEN);
	seg->hlen = MPS_HDR_LEN;
	seg->payload = copy + MPS_HDR_LEN;
	seg->plen = (uint32_t)(len - MPS_HDR_LEN);
	sf->queued += len;
	return 0;
}

/* Queue the GWREPLY (result, and CONFIRM) on the first usable subflow
 * (*sfp): 0 or -EIO. */
int mps_gwdirect_queue_reply(struct mps_conn *c, uint8_t result, struct mps_subflow **sfp)
{
	struct mps_subflow *sf;
	uint8_t msg[64], fr[MPS_HDR_LEN + 64];
	size_t n;

	sf = c->nsf && mps_sf_usable(c->sf[0]) ? c->sf[0] : mps_sf_best_usable(c);
	/* a closed gateway looks like a closed port (counted apart) */
	if (result == MPS_GWR_LIMITED)
		result = MPS_GWR_REFUSED;
	n = mps_gwreq_put_reply(msg, sizeof(msg), result,
	                        c->kex.have_psk ? c->kex.keys.confirm_s : NULL);
	n = n ? mps_frame_put_gw(fr, MPS_F_GWREPLY, msg, n) : 0;
	*sfp = sf;
	return sf && n && mps_gwdirect_queue_frame(c, sf, fr, n) == 0 ? 0 : -EIO;
}

/* The destination's connected socket d (internal, non-blocking) becomes
 * c's app end. */
void mps_gwdirect_take_dest(struct mps_conn *c, int d)
{
	int one = 1;

	/* each end's sender already chose when to send (the relay's reason,
	 * docs/DESIGN.md "Local proxy"): no Nagle towards the destination */
	mps_real.setsockopt(d, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev_io_stop(c->loop, &c->app_r);
	ev_io_stop(c->loop, &c->app_w);
	mps_conn_hup_set(c, 0); /* u's hangups show in its reads */
	/* The pair's end stays open, unused, until the connection is freed
	 * (conn_free closes app_dup): the daemon's end then reports POLLHUP,
	 * which is how it learns that the connection ended (its limits count
	 * connections, not threads). */
	c->app_dup = c->app_fd;
	c->app_fd = d;
	ev_io_set(&c->app_r, d, EV_READ);
	ev_io_set(&c->app_w, d, EV_WRITE);
	c->gw_splice = 1;
	if (c->rxq.una != c->rxq.end)
		ev_io_start(c->loop, &c->app_w);
}

/* ------------------------------------------------------------- served here
 *
 * MPS_SO_GW_DIRECT: the shim thread answers the request itself, as the
 * daemon's thread did (same checks, same log lines, same replies), with
 * no thread hand-off: the per-client rate and cap, the policy, then a
 * non-blocking connect in this loop, bounded by --connect-timeout
 * (gw_timer).  A name is resolved on a thread of its own (getaddrinfo
 * blocks), every address judged, and the allowed ones are tried in turn
 * (the address judged is the one connected to: no second lookup).
 * Meanwhile the client's bytes wait in rxq (app_write holds them while
 * gw_connecting).  The connection never had an app of its own: accept()
 * closed the pair's app end (interpose/accept.c), so its hang-up means
 * nothing, and once the destination answered the pair's other end goes
 * too: 1 descriptor plus the subflows. */

#define GW_NAME_ADDRS 8

struct mps_gw_addrs {
	struct mps_cmd cmd;
	struct mps_sock *s; /* referenced while the resolver runs */
	struct mps_gwdest dest;
	int n, next, judged, last_err;
	const char *why; /* the last policy refusal's reason */
	struct sockaddr_storage a[GW_NAME_ADDRS];
	socklen_t len[GW_NAME_ADDRS];
};

static void gw_who(struct mps_conn *c, char *who, size_t wl, char *dest, size_t dl)
{
	const struct mps_gwinfo *info = c->sock->gw_info; /* written on this thread only */

	snprintf(who, wl, "%s (%s)", info->client, c->peer_str);
	mps_gwreq_dest_str(&info->dest, dest, dl);
}

/* A refusal or a failed connect: the GWREPLY, then our DATA_FIN, as when
 * the daemon replied and closed its end.  What the client sends after its
 * request is dropped (gw_drop): nothing will read it. */
void mps_gwdirect_end(struct mps_conn *c, uint8_t result)
{
	struct mps_subflow *sf;

	c->gw_drop = 1;
	if (mps_gwdirect_queue_reply(c, result, &sf)) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 1, "gateway: cannot queue the reply");
		return;
	}
	mps_stat_gw_reply(c, result);
	c->gw_wait = 0;
	c->app_eof = 1;
	mps_sf_flush(c, sf);
	if (mps_conn_closed(c))
		return;
	mps_conn_push(c);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	/* what waits in rxq is dropped, the client's DATA_FIN taken (there
	 * may be no app end to watch: gwlisten.c) */
	mps_dss_rx_app_on_write(c->loop, &c->app_w, EV_WRITE);
}

static void gw_dest_on_connect(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;
	socklen_t l = sizeof(int);
	int err = 0;

	(void)revents;
	ev_io_stop(loop, w);
	if (mps_real.getsockopt(c->gw_dest_fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0)
		err = errno;
	mps_gwdirect_done(c, err);
}

void mps_gwdirect_answered(struct mps_conn *c)
{
	struct pollfd p = {.fd = c->gw_dest_fd, .events = POLLOUT};

	if (!c->gw_connecting || c->gw_dest_fd < 0 || !ev_is_active(&c->gw_dest_w) ||
	    mps_real.poll(&p, 1, 0) != 1 || !(p.revents & (POLLOUT | POLLERR | POLLHUP)))
		return;
	gw_dest_on_connect(c->loop, &c->gw_dest_w, EV_WRITE);
}

/* Start a connect to the next allowed address: 0 (under way), or the
 * result to reply (logged), nothing under way. */
static uint8_t gw_connect_next(struct mps_conn *c)
{
	struct mps_gw_addrs *r = c->gw_addrs;
	char who[160], dest[300];
	uint8_t res;

	while (r->next < r->n) {
		int i = r->next++, fd;

		fd = mps_real.socket(r->a[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                     IPPROTO_TCP);
		if (fd < 0) {
			r->last_err = errno;
			continue;
		}
		fd = mps_ifd_take(fd, 1);
		if (mps_real.connect(fd, (struct sockaddr *)&r->a[i], r->len[i]) != 0 &&
		    errno != EINPROGRESS) {
			r->last_err = errno;
			mps_ifd_close(fd);
			continue;
		}
		mps_dbg("conn %s: gateway: connecting the destination %.0f us after the request "
		        "verified",
		        c->peer_str, (ev_time() - c->gw_req_at) * 1e6);
		c->gw_dest_fd = fd;
		ev_io_set(&c->gw_dest_w, fd, EV_WRITE);
		ev_io_start(c->loop, &c->gw_dest_w);
		return MPS_GWR_OK;
	}
	gw_who(c, who, sizeof(who), dest, sizeof(dest));
	if (!r->judged) {
		res = MPS_GWR_NAME;
		mps_gw_direct_log(1, "%s -> %s: %s", who, dest, mps_gwreq_result_name(res));
	} else if (!r->n) {
		res = MPS_GWR_POLICY;
		mps_gw_direct_log(1, "%s -> %s: refused by policy (%s)", who, dest,
		                  r->why ? r->why : "?");
	} else {
		res = mps_gwreq_result_of_errno(r->last_err);
		mps_gw_direct_log(1, "%s -> %s: %s: %s", who, dest, mps_gwreq_result_name(res),
		                  strerror(r->last_err));
	}
	return res;
}

/* Nothing under way any more (connected, or given up). */
static void gw_direct_stop(struct mps_conn *c)
{
	ev_io_stop(c->loop, &c->gw_dest_w);
	ev_timer_stop(c->loop, &c->gw_timer);
	c->gw_connecting = 0;
	c->gw_dest_fd = -1;
	free(c->gw_addrs);
	c->gw_addrs = NULL;
}

/* The destination's handshake ended (err 0: connected; ETIMEDOUT: the
 * connect timeout, for every address together). */
void mps_gwdirect_done(struct mps_conn *c, int err)
{
	char who[160], dest[300];
	struct mps_subflow *sf;
	int d = c->gw_dest_fd;
	uint8_t res;

	ev_io_stop(c->loop, &c->gw_dest_w);
	if (err) {
		mps_ifd_close(d);
		c->gw_dest_fd = -1;
		if (c->gw_addrs) {
			c->gw_addrs->last_err = err;
			if (err == ETIMEDOUT)
				c->gw_addrs->next = c->gw_addrs->n; /* the time is up */
			res = gw_connect_next(c);
			if (res == MPS_GWR_OK)
				return; /* the next address */
		} else {
			/* still resolving */
			res = MPS_GWR_TIMEDOUT;
			gw_who(c, who, sizeof(who), dest, sizeof(dest));
			mps_gw_direct_log(1, "%s -> %s: %s: the name did not resolve in time", who,
			                  dest, mps_gwreq_result_name(res));
		}
		gw_direct_stop(c);
		mps_gwdirect_end(c, res);
		return;
	}
	gw_direct_stop(c);
	mps_dbg("conn %s: gateway: the destination answered %.0f us after the request verified",
	        c->peer_str, (ev_time() - c->gw_req_at) * 1e6);
	if (mps_gwdirect_queue_reply(c, MPS_GWR_OK, &sf)) {
		mps_ifd_close(d);
		mps_conn_abort(c, MPS_CR_INTERNAL, 1, "gateway: cannot queue the reply");
		return;
	}
	gw_who(c, who, sizeof(who), dest, sizeof(dest));
	mps_gw_direct_log(0, "%s -> %s: connected in %.0f ms", who, dest,
	                  (ev_time() - c->gw_req_at) * 1e3);
	mps_gwdirect_take_dest(c, d);
	/* no app holds the pair's other end (accept closed it): no need to
	 * keep ours for a daemon to count the connection */
	mps_ifd_close(c->app_dup);
	c->app_dup = -1;
	mps_stat_gw_reply(c, MPS_GWR_OK);
	c->gw_wait = 0;
	mps_sf_flush(c, sf);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	/* what the client sent meanwhile (and its DATA_FIN) goes on now */
	ev_io_start(c->loop, &c->app_w);
	ev_feed_event(c->loop, &c->app_w, EV_WRITE);
}

/* The name's addresses, judged (shim thread). */
static void gw_resolved(struct ev_loop *loop, void *arg)
{
	struct mps_gw_addrs *r = arg;
	struct mps_sock *s = r->s;
	struct mps_conn *c;
	uint8_t res;

	(void)loop;
	pthread_mutex_lock(&s->lock);
	c = s->conn;
	pthread_mutex_unlock(&s->lock);
	r->s = NULL;
	if (!c || mps_conn_closed(c) || !c->gw_connecting || c->gw_addrs) {
		free(r); /* gone, or timed out meanwhile */
	} else {
		c->gw_addrs = r;
		res = gw_connect_next(c);
		if (res != MPS_GWR_OK) {
			gw_direct_stop(c);
			mps_gwdirect_end(c, res);
		}
	}
	mps_sock_put(s);
}

static void *gw_resolve_main(void *arg)
{
	struct mps_gw_addrs *r = arg;
	struct addrinfo *res, *ai;

	mps_inside = 1; /* our own calls go straight to libc */
	if (mps_gw_lookup(&r->dest, &res, mps_real.getaddrinfo) == 0) {
		for (ai = res; ai; ai = ai->ai_next) {
			const void *a = mps_gw_ai_addr(ai);

			if (!a)
				continue;
			r->judged++;
			if (mps_gw_direct_refused(ai->ai_family, a, r->dest.port, &r->why) ||
			    r->n == GW_NAME_ADDRS || ai->ai_addrlen > sizeof(r->a[0]))
				continue;
			memcpy(&r->a[r->n], ai->ai_addr, ai->ai_addrlen);
			r->len[r->n++] = ai->ai_addrlen;
		}
		freeaddrinfo(res);
	}
	r->cmd.fn = gw_resolved;
	r->cmd.arg = r;
	if (mps_loop_submit(&r->cmd) != 0) {
		mps_sock_put(r->s); /* the loop is gone: so is the connection */
		free(r);
	}
	return NULL;
}

/* The request verified: MPS_GWR_OK (connecting, or resolving), or the
 * refusal to reply once the HELLO_ACK is queued. */
uint8_t mps_gwdirect_start(struct mps_conn *c)
{
	const struct mps_gwinfo *info = c->sock->gw_info;
	struct mps_gw_addrs *r;
	char who[160], dest[300];
	pthread_attr_t at;
	pthread_t th;
	uint8_t res;
	int name = info->dest.type != MPS_GWT_DEST_IPV4 && info->dest.type != MPS_GWT_DEST_IPV6;

	/* authenticated: no longer pending for its source */
	mps_gw_direct_pending_drop((struct sockaddr *)&c->peer);
	c->gw_pend_done = 1;
	gw_who(c, who, sizeof(who), dest, sizeof(dest));
	res = mps_gw_direct_admit(info->client, who, dest);
	if (res != MPS_GWR_OK)
		return res;
	c->gw_counted = 1;
	if (!name && (res = mps_gw_direct_judge(&info->dest, who, dest)) != MPS_GWR_OK)
		return res;
	r = calloc(1, sizeof(*r));
	if (!r)
		return MPS_GWR_REFUSED;
	r->dest = info->dest;
	ev_io_init(&c->gw_dest_w, gw_dest_on_connect, -1, EV_WRITE);
	c->gw_dest_w.data = c;
	c->gw_dest_fd = -1;
	c->gw_connecting = 1;
	ev_io_stop(c->loop, &c->app_w);
	ev_timer_stop(c->loop, &c->gw_timer);
	ev_timer_set(&c->gw_timer, mps_gw_direct_timeout(), 0.);
	ev_timer_start(c->loop, &c->gw_timer);
	if (name) {
		r->s = c->sock;
		mps_sock_get(c->sock);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, 256 * 1024);
		if (pthread_create(&th, &at, gw_resolve_main, r) == 0) {
			pthread_attr_destroy(&at);
			return MPS_GWR_OK;
		}
		pthread_attr_destroy(&at);
		mps_sock_put(c->sock);
		free(r);
		gw_direct_stop(c);
		mps_gw_direct_log(1, "%s -> %s: refused: cannot start a resolver thread", who,
		                  dest);
		return MPS_GWR_REFUSED;
	}
	r->len[0] = mps_gwreq_dest_sockaddr(&info->dest, &r->a[0]);
	r->n = r->judged = 1;
	c->gw_addrs = r;
	res = gw_connect_next(c);
	if (res != MPS_GWR_OK)
		gw_direct_stop(c);
	return res;
}

/* struct mps_conn_hooks.app_hup: 1 when the hang-up of c's app end means
 * nothing (a connection served here: accept() closed that end). */
int mps_gwdirect_app_hup(struct mps_conn *c)
{
	if (!c->gw || c->role != MPS_SERVER || !mps_gw_direct())
		return 0;
	c->app_closed = 1; /* no app: an abort has no app to tell */
	return 1;
}

/* c is about to be freed (struct mps_conn_hooks.freeing). */
void mps_gwdirect_freeing(struct mps_conn *c)
{
	if (!c->gw || c->role != MPS_SERVER)
		return;
	if (c->gw_connecting) {
		mps_ifd_close(c->gw_dest_fd);
		gw_direct_stop(c);
	}
	if (c->gw_counted && c->sock->gw_info)
		mps_gw_direct_release(c->sock->gw_info->client);
	c->gw_counted = 0;
	if (mps_gw_direct() && !c->gw_pend_done)
		mps_gw_direct_pending_drop((struct sockaddr *)&c->peer);
	c->gw_pend_done = 1;
	mps_gw_count_add(-1);
}
