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
 * per-byte work, no lock on this path.
 *
 * This file holds the connection: its states, the app side, framing and
 * scheduling, the receive path, the negotiation, socket options and the
 * exit drain.  A subflow's own life and I/O are in subflow.c, path
 * failures (reinjection, outages, blackholes, the watchdog) in
 * resilience.c, the path manager, joins and path events in path.c; what
 * they share is declared in conn_int.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <time.h>
#include <unistd.h>

#include "conn_int.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/dss_rcv.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/netmon.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/pm.h"
#include "mptcpshim/real.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"
#include "mptcpshim/set.h"

#define UNSENT_MAX (1024u * 1024u)  /* app bytes read but not yet framed */
#define FIRST_FLIGHT_UNKNOWN 0u     /* app bytes sent before a first HELLO_ACK */
#define ACK_EVERY (64u * 1024u)     /* send a standalone ACK after this much */
#define ACK_DELAY 0.002             /* ... or after this long, seconds */
#define FIN_WAIT_TIMEOUT 60.0       /* app closed: wait this long for the peer's FIN */
#define GW_ATTEMPT_TIMEOUT 5.0      /* client: a gateway's TCP handshake and HELLO_ACK */
#define GW_REPLY_TIMEOUT 90.0       /* client: then its GWREPLY (it bounds its own connect) */
#define GW_REQUEST_TIMEOUT 10.0     /* gateway: an authenticated request, from accept */
#define READ_BUDGET 8               /* reads per wakeup before yielding */

struct mps_conn *g_conns;
static struct mps_conn *g_zombies;        /* freed by g_reaper, before the loop sleeps */
struct mps_subflow *g_sf_zombies;
static ev_prepare g_reaper;

static void conn_finish(struct mps_conn *c);
static void client_fallback(struct mps_conn *c, const char *why);
static void app_connected(struct mps_conn *c);
static int new_tcp_socket_fam(struct mps_conn *c, int family, int kmptcp);
static void gw_attempt(struct mps_conn *c);
static void gw_failed(struct mps_conn *c, int err, const char *why);
static void gw_verdict(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v);
static int gw_client_reply(struct mps_conn *c, const uint8_t *msg, size_t len);
static int gw_queue_request(struct mps_conn *c, struct mps_subflow *sf);
static void gw_on_timer(struct ev_loop *loop, ev_timer *w, int revents);

/* ---------------------------------------------------------------- helpers */

void mps_grow_pair_buffer(int fd)
{
	int v = MPS_PAIR_BUF;

	if (mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

uint32_t mps_conn_tcp_rtt_us(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (mps_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_rtt;
}

/* ------------------------------------------------------------- reaping
 * Callers up the stack may still look at a connection or subflow after an
 * abort: memory goes once this loop iteration's callbacks are over. */

/* A connection's buffers (send buffer, receive queue, out-of-order queue:
 * megabytes under loss) come back to malloc in scattered chunks that glibc
 * keeps: give the pages back to the system, so a long-lived server's
 * memory returns to its baseline.  At most once a second (malloc_trim
 * walks the heap, and busy servers end thousands of connections a second):
 * a connection that ends within a second of the last trim is trimmed for
 * by a timer. */
static ev_timer g_trim_timer;
static double g_last_trim;

static void trim_now(struct ev_loop *loop, ev_timer *w, int revents)
{
	g_last_trim = ev_now(loop);
	malloc_trim(0);
}

static void trim_soon(struct ev_loop *loop)
{
	double wait = 1.0 - (ev_now(loop) - g_last_trim);

	if (ev_is_active(&g_trim_timer))
		return;
	if (wait <= 0) {
		trim_now(loop, &g_trim_timer, 0);
		return;
	}
	ev_timer_init(&g_trim_timer, trim_now, wait, 0.);
	ev_timer_start(loop, &g_trim_timer);
}

static void reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
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
	if (freed_conn)
		trim_soon(loop);
}

void mps_conn_reaper_arm(struct ev_loop *loop)
{
	if (!ev_cb(&g_reaper))
		ev_prepare_init(&g_reaper, reap);
	if (!ev_is_active(&g_reaper))
		ev_prepare_start(loop, &g_reaper);
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

		mps_real.epoll_ctl(g_hup_ep, EPOLL_CTL_DEL, c->app_fd, NULL);
		c->hup_registered = 0;
		conn_app_hup(c);
	}
}

static int hup_watch(struct mps_conn *c)
{
	struct epoll_event ev = {.events = 0, .data.ptr = c};

	if (g_hup_ep < 0) {
		g_hup_ep = mps_real.epoll_create1(EPOLL_CLOEXEC);
		if (g_hup_ep < 0)
			return -errno;
		g_hup_ep = mps_ifd_take(g_hup_ep, 1); /* out of the app's range */
		ev_io_init(&g_hup_io, hup_on_ready, g_hup_ep, EV_READ);
		ev_io_start(c->loop, &g_hup_io);
		ev_unref(c->loop); /* the async watcher keeps the loop alive */
	}
	if (mps_real.epoll_ctl(g_hup_ep, EPOLL_CTL_ADD, c->app_fd, &ev) != 0)
		return -errno;
	c->hup_registered = 1;
	return 0;
}

/* handover.c: a connection offered to a forked child leaves this
 * process's hup set (on = 0) and joins it again, or joins the child's
 * (1: c->loop is the loop to watch on).  0 or -errno. */
int mps_conn_hup_set(struct mps_conn *c, int on)
{
	if (on)
		return c->hup_registered ? 0 : hup_watch(c);
	if (c->hup_registered)
		mps_real.epoll_ctl(g_hup_ep, EPOLL_CTL_DEL, c->app_fd, NULL);
	c->hup_registered = 0;
	return 0;
}

/* ------------------------------------------------------------- lifecycle */

static void conn_free(struct mps_conn *c)
{
	mps_dbg("conn %s: freed (%d subflow(s), %d parked)", c->peer_str, c->nsf, c->nparked);
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
	ev_timer_stop(c->loop, &c->wnd_timer);
	ev_timer_stop(c->loop, &c->nego_timer);
	ev_timer_stop(c->loop, &c->hello_timer);
	ev_timer_stop(c->loop, &c->fin_timer);
	ev_timer_stop(c->loop, &c->outage_timer);
	ev_timer_stop(c->loop, &c->rejoin_timer);
	ev_timer_stop(c->loop, &c->pm_timer);
	ev_timer_stop(c->loop, &c->park_timer);
	mps_sf_unpark_all(c);
	ev_timer_stop(c->loop, &c->watchdog);
	ev_timer_stop(c->loop, &c->stale_tick);
	cc_free(c);
	ev_timer_stop(c->loop, &c->gw_timer);
	if (c->gw && c->role == MPS_SERVER && atomic_load(&c->sock->gw_ready) == 0) {
		/* the daemon's thread waiting for the request learns it died */
		mps_gw_signal(&c->sock->lock, &c->sock->gw_cond, &c->sock->gw_ready, -1);
	}
	if (c->hup_registered)
		mps_real.epoll_ctl(g_hup_ep, EPOLL_CTL_DEL, c->app_fd, NULL);
	while (c->nsf > 0) {
		struct mps_subflow *sf = c->sf[c->nsf - 1];

		mps_sf_conn_del(c, sf);
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
	free(c->gw_frame);
	c->gw_frame = NULL;
	mps_conn_set_state(c, MPS_CONN_CLOSED);
	c->next = g_zombies;
	g_zombies = c;
	mps_conn_reaper_arm(c->loop);
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
	if (d < 0)
		/* forked children may hold the only copy: the reset must reach
		 * them as an error, not an EOF that passes for a complete stream */
		d = mps_fdtab_dup_from_children(c->sock->ino);
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

void mps_conn_abort(struct mps_conn *c, uint32_t reason, int send_close, const char *why)
{
	mps_conn_abort_err(c, reason, send_close, why, ECONNRESET);
}

/* End the connection abortively; the app's next read or write fails with
 * app_err (ECONNRESET, or ETIMEDOUT after an outage), once, as TCP's. */
void mps_conn_abort_err(struct mps_conn *c, uint32_t reason, int send_close, const char *why,
			   int app_err)
{
	int connecting = atomic_load(&c->sock->state) == MPS_SS_CONNECTING;
	int i;

	if (mps_conn_closed(c))
		return;
	mps_conn_set_state(c, MPS_CONN_CLOSED);
	if (why)
		mps_warn("conn %s: aborting: %s", c->peer_str, why);
	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		if (send_close && mps_sf_usable(sf) && c->tx_mode == TX_MP && c->rx_mode == RX_MP &&
		    sf->seg_done == 0) {
			uint8_t fr[MPS_CLOSE_LEN];
			int one = 1;

			/* Best effort: a reset subflow carries nothing more anyway.
			 * The reset below drops whatever the kernel still holds, and
			 * Nagle holds a small frame while one is unacknowledged:
			 * without TCP_NODELAY the peer often saw only the reset
			 * (apps_iperf cut-c2s: "the peer reset its last subflow",
			 * where iperf3's server had closed with bytes unread). */
			mps_real.setsockopt(sf->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			mps_frame_put_close(fr, reason);
			if (mps_real.send(sf->fd, fr, sizeof(fr), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			}
		}
	}
	while (c->nsf > 0) {
		struct mps_subflow *sf = c->sf[c->nsf - 1];

		mps_sf_conn_del(c, sf);
		mps_sf_free(c->loop, sf, 1);
	}
	if (connecting) {
		/* Failed (SO_ERROR is set) before anything shows.  Then one
		 * filler byte left unread in our end makes closing it flag the
		 * app's end with an error, and with the rest read back the end
		 * is writable at once: POLLOUT|POLLERR|POLLHUP together, as a
		 * refused TCP connect reports. */
		if (c->gw && atomic_load(&c->sock->so_error) == 0)
			atomic_store(&c->sock->so_error, ECONNREFUSED);
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
		mps_sf_log_stats(c, c->sf[i]);
	mps_conn_set_state(c, MPS_CONN_CLOSED);
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

static const char *const g_state_names[] = {
	[MPS_CONN_ESTABLISHED] = "ESTABLISHED", [MPS_CONN_FIN_WAIT1] = "FIN_WAIT1",
	[MPS_CONN_FIN_WAIT2] = "FIN_WAIT2",     [MPS_CONN_CLOSE_WAIT] = "CLOSE_WAIT",
	[MPS_CONN_LAST_ACK] = "LAST_ACK",       [MPS_CONN_TIME_WAIT] = "TIME_WAIT",
	[MPS_CONN_CLOSED] = "CLOSED",
};

const char *mps_conn_state_name(enum mps_conn_state s)
{
	return (unsigned)s < MPS_ARRAY_SIZE(g_state_names) ? g_state_names[s] : "?";
}

enum mps_conn_state mps_conn_state_with(int ours, int acked, int theirs)
{
	if (!ours)
		return theirs ? MPS_CONN_CLOSE_WAIT : MPS_CONN_ESTABLISHED;
	if (acked)
		return theirs ? MPS_CONN_TIME_WAIT : MPS_CONN_FIN_WAIT2;
	return theirs ? MPS_CONN_LAST_ACK : MPS_CONN_FIN_WAIT1;
}

/* The one place a connection's state changes (a CLOSED one stays so).
 * Shim thread; app threads read it atomically (conn_tcp_state). */
void mps_conn_set_state(struct mps_conn *c, enum mps_conn_state s)
{
	if (c->state == s || c->state == MPS_CONN_CLOSED)
		return;
	mps_dbg("conn %s: %s -> %s", c->peer_str, mps_conn_state_name(c->state),
		mps_conn_state_name(s));
	__atomic_store_n(&c->state, s, __ATOMIC_RELAXED);
}

/* Graceful end: both DATA_FINs exchanged and ACKed, nothing left to write. */
void mps_conn_check_done(struct mps_conn *c)
{
	if (mps_conn_closed(c))
		return;
	if (!c->fin_delivered)
		return; /* the app has not seen everything, EOF included */
	if (c->tx_mode == TX_PLAIN && c->rx_mode == RX_PLAIN) {
		if (!(c->app_eof && all_queues_empty(c) && c->snd_nxt == c->sb.end))
			return;
	} else if (!c->peer_gone) {
		if (!(mps_conn_fin_acked(c) && all_queues_empty(c)))
			return;
	}
	/* peer_gone: it took all we sent and closed; what the app writes
	 * from now on meets a closed socket (EPIPE), as after a TCP close. */
	conn_finish(c);
}

/* ------------------------------------------------------------ transmit */

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
	if (c->ack_sf && mps_sf_usable(c->ack_sf))
		return c->ack_sf;
	return mps_sf_best_usable(c);
}

static void send_ack_on(struct mps_conn *c, struct mps_subflow *sf)
{
	uint8_t fr[MPS_ACK_LEN];

	if (c->rx_mode != RX_MP || c->tx_mode != TX_MP || !sf)
		return;
	if (!ack_piggyback(sf, c->rcv_nxt, adv_wnd(c))) {
		mps_frame_put_ack(fr, c->rcv_nxt, adv_wnd(c));
		if (mps_sf_queue_ctl(sf, fr, sizeof(fr)) != 0) {
			/* Queue full and nothing to ride on: try again soon. */
			if (!ev_is_active(&c->ack_timer)) {
				ev_timer_set(&c->ack_timer, ACK_DELAY, 0.);
				ev_timer_start(c->loop, &c->ack_timer);
			}
			return;
		}
	}
	note_ack_sent(c);
	mps_sf_flush(c, sf);
}

void mps_conn_send_ack(struct mps_conn *c) { send_ack_on(c, ack_subflow(c)); }

static void ack_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->ack_sent != c->rcv_nxt || c->wnd_sent != adv_wnd(c))
		mps_conn_send_ack(c);
}

/* The window update on every usable subflow (a write failure only marks
 * its subflow: the array does not change under the loop). */
static void send_ack_all(struct mps_conn *c)
{
	int i;

	for (i = 0; i < c->nsf && !mps_conn_closed(c); i++)
		if (mps_sf_usable(c->sf[i]))
			send_ack_on(c, c->sf[i]);
}

#define WND_RESEND_FIRST 0.5 /* seconds; doubles */
#define WND_RESEND_MAX 8.0

/* The peer may be blocked on our window: one lost update (on a path that
 * died silently: only the peer may know) would stall the connection for
 * good, as the sender has nothing outstanding to time out on.  So the
 * update goes on every subflow, and again while no new data arrives. */
static void wnd_reopened(struct mps_conn *c)
{
	send_ack_all(c);
	c->wnd_rcv_nxt = c->rcv_nxt;
	c->wnd_backoff = WND_RESEND_FIRST;
	ev_timer_set(&c->wnd_timer, c->wnd_backoff, 0.);
	ev_timer_start(c->loop, &c->wnd_timer);
}

static void wnd_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	(void)loop;
	(void)revents;
	/* data came (the update got through), the stream ended, or the
	 * window closed again: nothing to repeat */
	if (mps_conn_closed(c) || c->rx_mode != RX_MP || c->rcv_nxt != c->wnd_rcv_nxt || mps_conn_rcv_fin(c) ||
	    adv_wnd(c) < c->rcv_wnd_max / 4)
		return;
	send_ack_all(c);
	c->wnd_backoff *= 2;
	if (c->wnd_backoff <= WND_RESEND_MAX) {
		ev_timer_set(&c->wnd_timer, c->wnd_backoff, 0.);
		ev_timer_start(c->loop, &c->wnd_timer);
	}
}

/* rcv_nxt moved: ACK now when much is unacknowledged or the stream ended,
 * else soon (piggybacked on data if any leaves first). */
static void ack_update(struct mps_conn *c)
{
	uint32_t wnd = adv_wnd(c);

	if (c->rx_mode != RX_MP || mps_conn_closed(c))
		return;
	/* The window opened (the app drained rxq): tell the peer at once if
	 * it grew by a quarter, as it may be waiting for exactly that. */
	if (wnd > c->wnd_sent && wnd - c->wnd_sent >= c->rcv_wnd_max / 4) {
		if (c->wnd_sent < c->rcv_wnd_max / 4)
			wnd_reopened(c); /* it was nearly closed: the peer may be blocked */
		else
			mps_conn_send_ack(c);
		return;
	}
	if (c->ack_sent == c->rcv_nxt)
		return;
	if (c->rcv_nxt - c->ack_sent >= ACK_EVERY || mps_conn_rcv_fin(c))
		mps_conn_send_ack(c);
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

	if (len == 0 || !(s = mps_sf_seg_add(sf)))
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
	struct mps_seg *s = mps_sf_seg_add(sf);
	int ackf = c->rx_mode == RX_MP;

	if (!s)
		return -1;
	s->dsn = c->sb.end;
	s->hlen = (uint8_t)mps_frame_put_data_hdr(s->hdr, MPS_DF_FIN | (ackf ? MPS_DF_ACK : 0),
						  s->dsn, c->rcv_nxt, adv_wnd(c), 0);
	sf->queued += s->hlen;
	mps_dbg("conn %s: DATA_FIN%s on subflow %d", c->peer_str, mps_conn_fin_sent(c) ? " again" : "",
		sf->id);
	sf->fin_on = 1;
	mps_conn_set_state(c, mps_conn_state_with(1, mps_conn_fin_acked(c), mps_conn_rcv_fin(c)));
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
		mps_sf_flush(c, sf);
		if (c->snd_nxt == before || sf->nseg > 0 || sf->wr_dead || sf->fd < 0)
			break;
	}
	if (c->tx_mode == TX_PLAIN && c->app_eof && c->snd_nxt == c->sb.end && !mps_conn_fin_sent(c)) {
		/* shutdown(SHUT_WR) once the queue drains */
		mps_conn_set_state(c, mps_conn_state_with(1, 0, mps_conn_rcv_fin(c)));
		mps_sf_flush(c, sf);
	}
}

static void plain_frame(struct mps_conn *c, struct mps_subflow *sf)
{
	while (sf->nseg < MAX_SEGS && sf->queued < SF_QUEUE_MAX && mps_dsn_lt(c->snd_nxt, c->sb.end)) {
		const uint8_t *p;
		size_t len = mps_sendbuf_peek(&c->sb, c->snd_nxt, (size_t)(c->sb.end - c->snd_nxt), &p);
		struct mps_seg *s;

		if (len == 0 || !(s = mps_sf_seg_add(sf)))
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

		if (!mps_sf_usable(sf) || !sf->ready)
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
		mps_sf_flush(c, sf);
		if (framed || budget == 0) {
			/* More only once the kernel says it has room; with nothing
			 * to send, stay ready (re-arming would spin). */
			sf->ready = 0;
			ev_io_start(c->loop, &sf->wio);
		}
	}
}

/* The scheduler: hand new data to subflows that have room. */

/* For schedulers that weigh paths by their queues and rates (ecf): a fresh
 * TCP_INFO of each usable subflow, once per push. */
static void sched_info(struct mps_conn *c)
{
	int i;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (!mps_sf_usable(sf))
			continue;
		memset(&ti, 0, sizeof(ti));
		if (mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
			continue;
		if (ti.tcpi_rtt)
			sf->rtt_us = ti.tcpi_rtt;
		/* The measured delivery rate, or what the congestion window
		 * allows if more: a path held back by the data-level window or
		 * by us (app-limited samples) must not look slower than it is,
		 * or ecf would hand the slow path data it should wait for. */
		sf->rate = ti.tcpi_delivery_rate;
		if (ti.tcpi_rtt) {
			uint64_t cw = (uint64_t)ti.tcpi_snd_cwnd * ti.tcpi_snd_mss * 1000000u /
			              ti.tcpi_rtt;

			if (cw > sf->rate)
				sf->rate = cw;
		}
		sf->inflight = ti.tcpi_unacked * ti.tcpi_snd_mss + ti.tcpi_notsent_bytes;
	}
}

void mps_conn_push(struct mps_conn *c)
{
	uint64_t limit;
	int multi, i;

	if (mps_conn_closed(c) || c->tx_mode == TX_HOLD || atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return;
	if (c->tx_mode == TX_PLAIN) {
		plain_push(c);
		return;
	}
	if (c->pm_gate == 1)
		pm_gate_bytes(c); /* lazy joins: enough bytes moved? */
	limit = send_limit(c);
	multi = mps_sf_n_usable(c) > 1;
	if (c->sched.ops->redundant && multi)
		redundant_push(c, limit);
	else {
		struct mps_sf_view v[MPS_MAX_SUBFLOWS];

		mps_ranges_trim(&c->reinj, c->snd_una);
		if (c->sched.ops->wants_info)
			sched_info(c);
		while (c->reinj.n || mps_dsn_lt(c->snd_nxt, limit)) {
			struct mps_subflow *sf;
			size_t budget, framed = 0;
			int k;

			for (i = 0; i < c->nsf; i++) {
				struct mps_subflow *s = c->sf[i];

				v[i].rtt_us = s->rtt_us;
				v[i].usable = (uint8_t)mps_sf_usable(s);
				v[i].ready = (uint8_t)(s->ready && sf_budget(c, s, multi) > 0 &&
						       cc_room(c, s) > 0);
				v[i].backup = s->backup;
				v[i].tx_bytes = s->tx_bytes;
				v[i].rate = s->rate;
				v[i].queued = s->inflight + (uint32_t)s->queued;
			}
			if (c->sched.ops->wants_info) {
				uint64_t backlog =
					mps_dsn_lt(c->snd_nxt, limit) ? limit - c->snd_nxt : 0;
				int r;

				for (r = 0; r < c->reinj.n; r++)
					backlog += c->reinj.r[r].end - c->reinj.r[r].start;
				c->sched.backlog = backlog;
				c->sched.chunk = SF_BURST;
				c->sched.window = mps_dsn_lt(c->snd_una, c->snd_edge) ?
				                          c->snd_edge - c->snd_una : 0;
			}
			k = c->sched.ops->pick(&c->sched, v, c->nsf);
			if (k < 0)
				break;
			sf = c->sf[k];
			budget = MPS_MIN(sf_budget(c, sf, multi), cc_room(c, sf));
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
			mps_sf_flush(c, sf);
			if (mps_conn_closed(c))
				return;
		}
	}
	/* Everything framed: the end of the stream follows, on one subflow. */
	if (c->app_eof && (!mps_conn_fin_sent(c) || c->fin_resend) && !mps_conn_fin_acked(c) &&
	    c->snd_nxt == c->sb.end && c->reinj.n == 0) {
		struct mps_subflow *sf = mps_sf_best_usable(c);

		if (sf)
			frame_fin(c, sf);
	}
	if (c->nsf > 1 && (mps_dsn_lt(c->snd_una, c->snd_max) || (mps_conn_fin_sent(c) && !mps_conn_fin_acked(c))))
		mps_resil_stale_arm(c); /* a lone DATA_FIN can be stuck on a dead path too */
	/* Control frames (HELLO_ACK, ADD_ADDR, ACKs, JOIN_OK) and the FIN
	 * wait in the queues too: write whatever is queued. */
	for (i = 0; i < c->nsf && !mps_conn_closed(c); i++) {
		struct mps_subflow *sf = c->sf[i];

		if (sf->nseg > 0 && sf->state != SF_CONNECTING && !ev_is_active(&sf->wio))
			mps_sf_flush(c, sf);
	}
}

/* ------------------------------------------------------------- app side */

/* Read app bytes while there is room; start/stop the watcher to match. */
void mps_conn_app_update_read(struct mps_conn *c)
{
	int want = !c->app_eof && !mps_conn_closed(c) && c->tx_mode != TX_HOLD && !c->gw_wait &&
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
	if (c->tx_mode == TX_HOLD && c->window_expired && !mps_conn_closed(c))
		want = 1;
	if (want)
		ev_io_start(c->loop, &c->app_r);
	else
		ev_io_stop(c->loop, &c->app_r);
}

/* The send buffer starts over at DSN start (the negotiation's outcome
 * changes its numbering).  Free first: a chunk kept from a reservation
 * (mps_sendbuf_commit keeps the one being filled) would otherwise leak.
 * While the server holds the app's bytes (TX_HOLD) nothing is reserved,
 * so none was seen leaking; this keeps it so if that changes. */
static void sb_restart(struct mps_conn *c, uint64_t start)
{
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_init(&c->sb, start, mps_config()->sndbuf);
}

static void server_release(struct mps_conn *c)
{
	/* Banner window over and the app has spoken: its bytes go out raw.
	 * The client's first bytes are still checked (nego RELEASED). */
	mps_nego_timeout(&c->nego);
	c->tx_mode = TX_PLAIN;
	sb_restart(c, 0);
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
	/* Reserve for one chunk first and double while reads fill what was
	 * reserved: a keep-alive request or response (a few KiB) no longer
	 * allocates chunks for 1 MiB; a bulk sender still reaches 1 MiB
	 * reads within the budget. */
	size_t want = MPS_CHUNK;

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
		room = MPS_MIN(room, want);
		n = mps_sendbuf_reserve(&c->sb, iov, 16, room);
		if (n <= 0) {
			mps_conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
			return;
		}
		r = mps_real.readv(c->app_fd, iov, n);
		if (r > 0) {
			mps_sendbuf_commit(&c->sb, (size_t)r);
			mps_stat(c, NULL, MPS_MIB_BYTES_SENT, (uint64_t)r);
			if ((size_t)r == room)
				want = MPS_MIN(2 * want, (size_t)UNSENT_MAX);
			continue;
		}
		mps_sendbuf_commit(&c->sb, 0); /* the spans reserved go back */
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
		mps_info("conn %s: resetting: the app's end failed (%s), as a TCP reset does",
		         c->peer_str, strerror(errno));
		mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	mps_conn_push(c);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	mps_conn_check_done(c);
}

static void fin_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	mps_conn_abort(w->data, MPS_CR_TIMEOUT, 1, "peer did not finish after the app closed");
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
	if (w > 0)
		mps_stat(c, NULL, MPS_MIB_BYTES_RECEIVED, (uint64_t)w);
	if (w >= 0)
		return w;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	/* EPIPE/ECONNRESET: the app closed; data it will never read. */
	mps_info("conn %s: resetting: the app closed with data for it unread (%s), as TCP does",
	         c->peer_str, strerror(errno));
	mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
	return -1;
}

/* The app sees EOF once every byte before the DATA_FIN is in its hands. */
static void fin_to_app(struct mps_conn *c)
{
	if (mps_conn_rcv_fin(c) && !c->fin_delivered && rxq_empty(c)) {
		c->fin_delivered = 1;
		shutdown(c->app_fd, SHUT_WR);
		mps_dbg("conn %s: peer finished sending", c->peer_str);
	}
}

void mps_conn_rcv_fin_reached(struct mps_conn *c)
{
	mps_conn_set_state(c, mps_conn_state_with(mps_conn_fin_sent(c), mps_conn_fin_acked(c), 1));
	ev_timer_stop(c->loop, &c->fin_timer);
	fin_to_app(c);
}

static int rxq_append(struct mps_conn *c, const uint8_t *p, size_t len)
{
	if (mps_sendbuf_space(&c->rxq) < len) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: peer exceeded the receive window");
		return -1;
	}
	while (len > 0) {
		struct iovec iov[4];
		int n = mps_sendbuf_reserve(&c->rxq, iov, 4, len), i;
		size_t done = 0;

		if (n <= 0) {
			mps_conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
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
void mps_conn_release_acked(struct mps_conn *c)
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
	uint64_t max = mps_conn_fin_sent(c) ? c->fin_dsn + 1 : c->snd_max;

	if (mps_dsn_lt(ack, c->snd_una))
		return 0; /* stale */
	if (mps_dsn_lt(max, ack)) {
		mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: data ACK beyond what was sent");
		return -1;
	}
	if (mps_dsn_lt(c->snd_edge, ack + wnd))
		c->snd_edge = ack + wnd;
	if (mps_conn_fin_sent(c) && ack == c->fin_dsn + 1) {
		if (!mps_conn_fin_acked(c))
			mps_dbg("conn %s: our DATA_FIN is acknowledged", c->peer_str);
		mps_conn_set_state(c, mps_conn_state_with(1, 1, mps_conn_rcv_fin(c)));
		ack = c->fin_dsn;
	}
	if (mps_dsn_lt(c->snd_una, ack)) {
		c->last_progress = ev_now(c->loop);
		mps_stat_progress(c); /* ends a failover */
		c->snd_una = ack;
		if (mps_dsn_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		mps_conn_release_acked(c);
	}
	return 0;
}

struct deliver_ctx {
	struct mps_conn *c;
	struct batch *b;
};

/* mps_dss_rcv_data's delivery: into the batch (nonzero when c died). */
static int deliver_to_batch(void *ctx, const uint8_t *p, size_t len)
{
	struct deliver_ctx *dc = ctx;

	return batch_add(dc->c, dc->b, p, len);
}

static void rx_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	struct batch b;
	int dup = 0, nframes = 0, more = 0;

	b.n = 0;
	while (!mps_conn_closed(c)) {
		struct mps_frame f;
		const char *why = NULL;
		char msg[128];
		int rc;

		/* A peer's frames cost per frame (one-byte DATA frames:
		 * 10,000 in a read): the rest waits for the next iteration,
		 * after the other connections. */
		if (nframes++ == RX_FRAME_BUDGET) {
			more = sf->roff < sf->rlen;
			break;
		}
		rc = mps_frame_decode(sf->rbuf + sf->roff, sf->rlen - sf->roff, &f, &why);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (batch_flush(c, &b))
				return;
			snprintf(msg, sizeof(msg), "protocol: %s", why);
			mps_conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
			return;
		}
		sf->peer_live = 1; /* the peer sends on it: it counts it */
		switch (f.type) {
		case MPS_F_DATA: {
			struct deliver_ctx dc = {c, &b};
			int was_fin, fin, drc;

			if (c->gw_wait && c->role == MPS_CLIENT) {
				mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "gateway: DATA before GWREPLY");
				return;
			}
			if ((f.flags & MPS_DF_ACK) && handle_ack(c, f.u.data.ack, f.u.data.wnd))
				return;
			was_fin = fin = mps_conn_rcv_fin(c);
			drc = mps_dss_rcv_data(&c->dss, &c->ofo, &c->rcv_nxt, &fin,
					       c->rcv_edge, &f.u.data, (f.flags & MPS_DF_FIN) != 0,
					       deliver_to_batch, &dc, &why);
			if (drc == -ECANCELED)
				return; /* c died delivering */
			if (drc < 0) {
				if (batch_flush(c, &b))
					return;
				if (drc == -ENOSPC)
					snprintf(msg, sizeof(msg),
						 "protocol: peer's %s (%zu out-of-order ranges, the cap)",
						 why, c->ofo.nsegs);
				else
					snprintf(msg, sizeof(msg), "protocol: %s", why);
				if (drc == -ENOMEM)
					mps_conn_abort(c, MPS_CR_INTERNAL, 1, "out of memory");
				else
					mps_conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
				return;
			}
			if (drc == 1)
				dup = 1;
			if (fin && !was_fin) {
				mps_conn_set_state(c, mps_conn_state_with(mps_conn_fin_sent(c),
									  mps_conn_fin_acked(c), 1));
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
				mps_conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: address frame sent to a server");
				return;
			}
			if (f.type == MPS_F_ADD_ADDR)
				mps_path_pm_on_add_addr(c, &f.u.addr);
			else
				mps_path_pm_on_remove_addr(c, f.u.addr.addr_id);
			break;
		case MPS_F_PRIO:
			sf->backup = (f.u.prio & MPS_PF_BACKUP) != 0;
			mps_info("conn %s: subflow %d is %s", c->peer_str, sf->id,
				 sf->backup ? "a backup" : "no longer a backup");
			break;
		case MPS_F_GWREPLY:
			if (batch_flush(c, &b))
				return;
			if (gw_client_reply(c, f.u.gw.msg, f.u.gw.len))
				return; /* c is gone */
			break;
		case MPS_F_CLOSE:
			if (batch_flush(c, &b))
				return;
			mps_info("conn %s: peer aborted the connection (reason %u)", c->peer_str,
				 f.u.reason);
			mps_conn_abort(c, 0, 0, NULL);
			return;
		default:
			if (batch_flush(c, &b))
				return;
			snprintf(msg, sizeof(msg), "protocol: unexpected %s frame",
				 mps_frame_type_name(f.type));
			mps_conn_abort(c, MPS_CR_PROTOCOL, 1, msg);
			return;
		}
		sf->roff += (size_t)rc;
	}
	if (batch_flush(c, &b))
		return;
	mps_ofo_advance(&c->ofo, c->rcv_nxt); /* only now: the batch pointed into it */
	fin_to_app(c);
	if (dup)
		mps_conn_send_ack(c); /* at once, even if rcv_nxt did not move */
	else
		ack_update(c);
	if (more && !mps_conn_closed(c) && !ev_is_active(&sf->rx_more)) {
		ev_timer_set(&sf->rx_more, 0., 0.);
		ev_timer_start(c->loop, &sf->rx_more);
	}
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

void mps_conn_rx_process(struct mps_conn *c, struct mps_subflow *sf)
{
	if (c->rx_mode == RX_MP)
		rx_mp(c, sf);
	else if (c->rx_mode == RX_PLAIN)
		rx_plain(c, sf);
	if (mps_conn_closed(c) || sf->state == SF_DEAD)
		return;
	/* Keep a partial frame at the front for the next read. */
	if (sf->roff == sf->rlen)
		sf->roff = sf->rlen = 0;
	else if (sf->roff > 0 && RBUF_SIZE - sf->rlen < MPS_FRAME_MAX) {
		memmove(sf->rbuf, sf->rbuf + sf->roff, sf->rlen - sf->roff);
		sf->rlen -= sf->roff;
		sf->roff = 0;
	}
	mps_conn_push(c);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	mps_conn_check_done(c);
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
		mps_conn_rx_process(c, sf);
		if (!mps_conn_closed(c) && !c->rx_blocked && sf->fd >= 0)
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
	mps_conn_check_done(c);
}

/* Every app descriptor is closed (or errored). */
static void conn_app_hup(struct mps_conn *c)
{
	c->app_closed = 1;
	mps_dbg("conn %s: app closed", c->peer_str);
	if (atomic_load(&c->sock->linger0)) {
		/* close() with SO_LINGER {1, 0}: an abortive close, as TCP's RST. */
		mps_info("conn %s: resetting: the app closed with SO_LINGER {1, 0}", c->peer_str);
		mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	if (c->rx_blocked || !rxq_empty(c)) {
		/* Data for the app that it will never read: TCP answers with RST. */
		mps_info("conn %s: resetting: the app closed with %llu received bytes unread%s, "
		         "as TCP does",
		         c->peer_str, (unsigned long long)(c->rxq.end - c->rxq.una),
		         c->rx_blocked ? " (and more in a subflow)" : "");
		mps_conn_abort(c, MPS_CR_ABORT, 1, NULL);
		return;
	}
	/* Drain what the app wrote before closing; EOF then ends our stream. */
	if (!c->app_eof) {
		if (c->tx_mode == TX_HOLD)
			c->window_expired = 1;
		mps_conn_app_update_read(c);
		ev_feed_event(c->loop, &c->app_r, EV_READ);
	}
	if (!mps_conn_rcv_fin(c)) {
		ev_timer_set(&c->fin_timer, FIN_WAIT_TIMEOUT, 0.);
		ev_timer_start(c->loop, &c->fin_timer);
	}
	mps_conn_check_done(c);
}

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

static void go_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	uint64_t idsn;
	int rc;

	if (c->role == MPS_SERVER) {
		struct mps_hello h = {
			.version = MPS_VERSION, .caps = MPS_CAP_NONE, .wnd = c->rcv_wnd_max};
		uint8_t fr[MPS_HELLO_LEN];
		uint64_t my_idsn;

		/* X25519 (DESIGN §10): a keypair of ours against the client's
		 * public value; RFC 8684 §3.1: a token names one connection, so
		 * a colliding token (or a zero key) draws a new keypair.  A PSK,
		 * if any, was set on c->kex before (a gateway's listener). */
		mps_kex_server_begin(&c->kex, c->nego.remote_pub);
		rc = mps_kex_server_finish(&c->kex, NULL, NULL, server_token_ok, c);
		if (rc) {
			mps_conn_abort(c, rc == -EINVAL ? MPS_CR_PROTOCOL : MPS_CR_INTERNAL, 0,
			           rc == -EINVAL ? "negotiation: HELLO's public value is a "
			                           "low-order point"
			                         : "key exchange failed");
			return;
		}
		c->token_registered = 1;
		c->local_key = c->kex.keys.key_s;
		c->remote_key = c->kex.keys.key_c;
		mps_crypto_key_derive(c->local_key, &c->local_token, &my_idsn);
		c->remote_idsn = mps_kex_idsn_c(c->nego.remote_pub);
		memcpy(h.pub, c->kex.kp.pub, sizeof(h.pub));
		mps_frame_put_hello(fr, MPS_F_HELLO_ACK, &h);
		mps_sf_queue_ctl(sf, fr, sizeof(fr));
		c->snd_start = c->snd_nxt = c->snd_una = c->snd_max = my_idsn + 1;
		sb_restart(c, c->snd_start);
		c->snd_edge = c->snd_start + c->nego.remote_wnd;
		c->tx_mode = TX_MP;
		mps_path_server_advertise(c, sf);
	} else {
		rc = mps_kex_client_finish(&c->kex, c->nego.remote_pub);
		if (rc) {
			mps_conn_abort(c, rc == -EINVAL ? MPS_CR_PROTOCOL : MPS_CR_INTERNAL, 0,
			           rc == -EINVAL ? "negotiation: HELLO_ACK's public value gives no "
			                           "usable key"
			                         : "key exchange failed");
			return;
		}
		c->local_key = c->kex.keys.key_c;
		c->remote_key = c->kex.keys.key_s;
		mps_crypto_key_derive(c->local_key, &c->local_token, NULL);
		mps_crypto_key_derive(c->remote_key, &c->remote_token, &c->remote_idsn);
		if (mps_dsn_lt(c->snd_edge, c->snd_start + c->nego.remote_wnd))
			c->snd_edge = c->snd_start + c->nego.remote_wnd;
	}
	if (c->role == MPS_CLIENT && !c->gw) {
		/* a shim after all (a timed-out HELLO from a slow start, say):
		 * the user's other processes are told, once per process */
		if (mps_peercache_lookup((struct sockaddr *)&c->peer, mps_now_us()) != MPS_PEER_SHIM)
			mps_peercache_shared_forget(mps_config()->peer_cache,
						    (struct sockaddr *)&c->peer, (int64_t)time(NULL));
		mps_peercache_note((struct sockaddr *)&c->peer, MPS_PEER_SHIM, mps_now_us(), 0);
	}
	idsn = c->remote_idsn;
	c->rcv_nxt = c->ack_sent = idsn + 1;
	c->wnd_sent = c->rcv_wnd_max; /* announced in our HELLO/HELLO_ACK */
	c->rcv_edge = c->rcv_nxt + c->rcv_wnd_max;
	c->rx_mode = RX_MP;
	sf->state = SF_ACTIVE;
	sf->ready = 1;
	sf->peer_live = 1; /* the HELLO exchange ran on it */
	sf->roff = MPS_HELLO_LEN;
	sf->ifindex = mps_path_ifindex_of(&sf->local);
	{
		static const struct mps_netmon_ops path_events = {
			.addr_event = mps_conn_on_addr_event, .link_event = mps_conn_on_link_event};

		mps_netmon_start(c->loop, &path_events); /* path.c hears them */
	}
	c->last_progress = ev_now(c->loop);
	ev_timer_set(&c->watchdog, 1., 1.);
	ev_timer_start(c->loop, &c->watchdog);
	if (c->role == MPS_CLIENT) {
		char ifname[IF_NAMESIZE];
		struct mps_config tmp;
		int named;

		/* The first subflow went where routing sent it: if that is a
		 * backup interface, tell the server (it has no JOIN to say so). */
		mps_alloc_shim(1); /* libc's socket: see mps_pm_local_addrs */
		named = sf->ifindex && if_indextoname(sf->ifindex, ifname);
		mps_alloc_shim(0);
		if (named && mps_pm_is_backup(steer_cfg(c, &tmp), ifname)) {
			uint8_t fr[MPS_PRIO_LEN];

			sf->backup = 1;
			mps_frame_put_prio(fr, MPS_PF_BACKUP);
			mps_sf_queue_ctl(sf, fr, sizeof(fr));
		}
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
	if (c->gw && v != MPS_NV_WAIT) {
		gw_verdict(c, sf, v);
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
		go_mp(c, sf);
		break;
	case MPS_NV_PLAIN:
		if (c->role == MPS_CLIENT) {
			client_fallback(c, c->nego.why);
			return;
		}
		mps_info("conn %s: plain TCP client (%s)", c->peer_str, c->nego.why);
		mps_stat_fallback(c, MPS_MIB_FB_PLAIN_CLIENT, c->nego.why);
		/* a server that connects back to its client (active FTP) does
		 * so plainly, from any process it forks (peercache.c) */
		mps_peercache_note_host((struct sockaddr *)&c->peer, mps_now_us(),
					(uint64_t)mps_config()->plain_cache_ttl * 1000000u);
		ev_timer_stop(c->loop, &c->nego_timer);
		c->rx_mode = RX_PLAIN;
		sf->state = SF_ACTIVE;
		if (c->tx_mode == TX_HOLD) {
			c->tx_mode = TX_PLAIN;
			sb_restart(c, 0);
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

static void nego_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->role == MPS_CLIENT) {
		if (c->nsf)
			mps_conn_apply_verdict(c, c->sf[0], mps_nego_timeout(&c->nego));
		return;
	}
	/* Server: the banner window is over.  Release only if the app has
	 * actually written; otherwise keep waiting for the client. */
	c->window_expired = 1;
	mps_conn_app_update_read(c);
}

static void hello_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	(void)loop;
	(void)revents;
	if (mps_conn_closed(c) || c->rx_mode != RX_NEGO || !c->nsf)
		return;
	mps_info("conn %s: HELLO incomplete (%zu of %u bytes) %.1f s after its first bytes",
	         c->peer_str, c->sf[0]->rlen, (unsigned)MPS_HELLO_LEN,
	         mps_nego_hello_timeout_us(c->sf[0]->rtt_us) / 1e6);
	mps_conn_apply_verdict(c, c->sf[0], mps_nego_hello_stalled(&c->nego));
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
	 * writability and give the app's end its full-size buffer.  Through
	 * a gateway: only once its GWREPLY says the destination answered. */
	if (!c->gw)
		app_connected(c);
	mps_real.getsockname(sf->fd, (struct sockaddr *)&sf->local, &len);
	if (c->tx_mode == TX_PLAIN) {
		/* The plain reconnect after a fallback: its address is now the
		 * connection's (getsockname). */
		pthread_mutex_lock(&c->sock->lock);
		c->sock->local = sf->local;
		c->sock->local_len = len;
		pthread_mutex_unlock(&c->sock->lock);
	}
	sf->rtt_us = mps_conn_tcp_rtt_us(sf->fd);
	sf->ready = 1;
	if (c->tx_mode == TX_MP) {
		sf->state = SF_NEGO;
		memcpy(h.pub, c->kex.kp.pub, sizeof(h.pub));
		mps_frame_put_hello(fr, MPS_F_HELLO, &h);
		mps_sf_queue_ctl(sf, fr, sizeof(fr));
		if (c->gw) {
			/* the request rides with the HELLO (gw_timer runs) */
			if (gw_queue_request(c, sf))
				return;
		} else {
			ev_timer_set(&c->nego_timer,
				     mps_nego_reply_timeout_us(sf->rtt_us, c->known_shim) / 1e6,
				     0.);
			ev_timer_start(c->loop, &c->nego_timer);
		}
	} else
		sf->state = SF_ACTIVE; /* the plain reconnect */
	ev_io_start(c->loop, &sf->rio);
	mps_sf_flush(c, sf);
	mps_conn_push(c);
	if (!mps_conn_closed(c))
		mps_conn_app_update_read(c);
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
		if (c->gw) {
			gw_failed(c, err, "connect");
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

/* The plain reconnect's socket: kernel MPTCP where MPTCPSHIM_KERNEL_MPTCP
 * asks for it and the kernel has it (a kernel-MPTCP server gets multipath,
 * a plain one sees TCP: kmptcp.h), else TCP. */
static int new_tcp_socket(struct mps_conn *c)
{
	return new_tcp_socket_fam(c, c->peer.ss_family, 1);
}

/* A new socket of family (the app's bound address is kept when it is of
 * that family): for a plain connection (kmptcp: kernel MPTCP where
 * MPTCPSHIM_KERNEL_MPTCP asks), or TCP for a shim subflow (a gateway). */
static int new_tcp_socket_fam(struct mps_conn *c, int family, int kmptcp)
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

/* The peer is plain TCP: reconnect plainly and replay what the app sent. */
static void client_fallback(struct mps_conn *c, const char *why)
{
	struct mps_subflow *sf = c->sf[0], *nsf;
	int fd, rc;

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
	c->rx_mode = RX_PLAIN;
	c->tx_mode = TX_PLAIN;
	c->snd_nxt = c->snd_una = c->sb.una; /* nothing was ACKed: replay from the start */
	/* our DATA_FIN (if framed) is framed again */
	mps_conn_set_state(c, mps_conn_state_with(0, 0, mps_conn_rcv_fin(c)));
	fd = new_tcp_socket(c);
	if (fd < 0) {
		mps_conn_abort(c, 0, 0, "plain reconnect: cannot create a socket");
		return;
	}
	nsf = mps_sf_attach_new(c, fd, SF_CONNECTING);
	if (!nsf) {
		mps_conn_abort(c, 0, 0, "plain reconnect: out of memory");
		return;
	}
	nsf->remote = c->peer;
	rc = mps_real.connect(fd, (struct sockaddr *)&c->peer, c->peer_len);
	if (rc == 0 || errno == EINPROGRESS) {
		ev_io_set(&c->conn_w, fd, EV_WRITE);
		ev_io_start(c->loop, &c->conn_w);
		return;
	}
	mps_conn_abort(c, 0, 0, "plain reconnect failed");
}

/* ------------------------------------------------------------- gateway */

/* The connection is up for the app (TCP's connect completed; through a
 * gateway, its GWREPLY said so). */
static void app_connected(struct mps_conn *c)
{
	if (c->gw && c->nsf) {
		/* getsockname: the address the gateway sees */
		socklen_t len = sizeof(c->sock->local);

		pthread_mutex_lock(&c->sock->lock);
		if (mps_real.getsockname(c->sf[0]->fd, (struct sockaddr *)&c->sock->local, &len) == 0)
			c->sock->local_len = len;
		pthread_mutex_unlock(&c->sock->lock);
	}
	atomic_store(&c->sock->state, MPS_SS_CONNECTED);
	drain_filler(c, 0);
	if (c->app_dup >= 0) {
		mps_grow_pair_buffer(c->app_dup);
		mps_ifd_close(c->app_dup);
		c->app_dup = -1;
	}
}

/* Queue a frame held in c->gw_frame (a segment points into it until it is
 * written: it is freed with the connection). */
static int gw_queue_frame(struct mps_conn *c, struct mps_subflow *sf, const uint8_t *fr,
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

static int gw_queue_request(struct mps_conn *c, struct mps_subflow *sf)
{
	uint8_t fr[MPS_HDR_LEN + MPS_GWREQ_MSG_MAX];
	int n = mps_gw_client_request((struct sockaddr *)&c->peer, c->kex.kp.pub, fr, sizeof(fr));

	if (n < 0 || gw_queue_frame(c, sf, fr, (size_t)n)) {
		/* no key: no gateway can take it (logged once) */
		c->gw_idx = mps_gwconf()->n;
		gw_failed(c, n == -ENOKEY ? ECONNREFUSED : ENOMEM,
			  n == -ENOKEY ? "no usable gateway key" : "cannot build the request");
		return -1;
	}
	return 0;
}

/* No gateway can be used: MPTCPSHIM_GATEWAY_FALLBACK says what then. */
static void gw_give_up(struct mps_conn *c, int err)
{
	static atomic_int told;
	struct mps_subflow *nsf;
	int fd, rc;

	if (mps_gwconf()->fallback == MPS_GWF_FAIL) {
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
	c->rx_mode = RX_PLAIN;
	c->tx_mode = TX_PLAIN;
	c->snd_nxt = c->snd_una = c->sb.una;
	mps_conn_set_state(c, mps_conn_state_with(0, 0, mps_conn_rcv_fin(c)));
	fd = new_tcp_socket(c);
	if (fd < 0) {
		atomic_store(&c->sock->so_error, -fd);
		mps_conn_abort(c, 0, 0, NULL);
		return;
	}
	nsf = mps_sf_attach_new(c, fd, SF_CONNECTING);
	if (!nsf) {
		mps_ifd_close(fd);
		atomic_store(&c->sock->so_error, ENOMEM);
		mps_conn_abort(c, 0, 0, NULL);
		return;
	}
	nsf->remote = c->peer;
	rc = mps_real.connect(fd, (struct sockaddr *)&c->peer, c->peer_len);
	if (rc == 0 || errno == EINPROGRESS) {
		ev_io_set(&c->conn_w, fd, EV_WRITE);
		ev_io_start(c->loop, &c->conn_w);
		return;
	}
	atomic_store(&c->sock->so_error, errno);
	mps_conn_abort(c, 0, 0, NULL);
}

/* Connect subflow 1 to gateway c->gw_idx, or the next one that can be
 * tried; none left: gw_give_up. */
static void gw_attempt(struct mps_conn *c)
{
	const struct mps_gwconf *g = mps_gwconf();
	int err = ECONNREFUSED;

	while (c->gw_idx < g->n) {
		struct sockaddr_storage to = g->gw[c->gw_idx];
		socklen_t tolen = g->gw_len[c->gw_idx];
		struct mps_subflow *sf = c->nsf ? c->sf[0] : NULL;
		int fd, rc;
		char a[64];

		/* The first attempt uses the app's own socket when its family
		 * fits (an IPv6 socket reaches an IPv4 gateway v4-mapped). */
		if (sf && sf->state == SF_CONNECTING && !ev_is_active(&c->conn_w) &&
		    c->gw_idx == 0 && (to.ss_family == c->peer.ss_family ||
				       (to.ss_family == AF_INET && c->peer.ss_family == AF_INET6))) {
			if (to.ss_family != c->peer.ss_family) {
				struct sockaddr_in v4 = *(struct sockaddr_in *)&to;
				struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&to;

				memset(v6, 0, sizeof(*v6));
				v6->sin6_family = AF_INET6;
				v6->sin6_port = v4.sin_port;
				v6->sin6_addr.s6_addr[10] = v6->sin6_addr.s6_addr[11] = 0xff;
				memcpy(v6->sin6_addr.s6_addr + 12, &v4.sin_addr, 4);
				tolen = sizeof(*v6);
			}
			fd = sf->fd;
		} else {
			if (sf) {
				mps_sf_conn_del(c, sf);
				mps_sf_free(c->loop, sf, 1);
			}
			ev_io_stop(c->loop, &c->conn_w);
			mps_nego_init(&c->nego, MPS_CLIENT); /* same keypair, next gateway */
			fd = new_tcp_socket_fam(c, to.ss_family, 0);
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
		rc = mps_real.connect(fd, (struct sockaddr *)&to, tolen);
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
			c->sf[0]->state = SF_NEGO;
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
static void gw_failed(struct mps_conn *c, int err, const char *why)
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
		c->sf[0]->state = SF_NEGO; /* not reused */
	c->gw_idx++;
	gw_attempt(c);
}

static void gw_refuse(struct mps_conn *c, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "gateway: request refused, nothing sent back: %s", why);
	mps_conn_abort(c, 0, 0, msg);
}

/* Gateway: the bytes after the client's HELLO must be one GWREQ whose
 * AUTH verifies; then (only then) the HELLO_ACK goes out. */
static void gw_server_request(struct mps_conn *c, struct mps_subflow *sf)
{
	const uint8_t *p = sf->rbuf + MPS_HELLO_LEN;
	size_t n = sf->rlen - MPS_HELLO_LEN;
	struct mps_gwinfo *info;
	struct mps_frame f;
	const char *why = "?";
	char msg[160], d[300];
	uint8_t psk[MPS_KEX_PSK_LEN];
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
	/* the client's key authenticates the exchange too (go_mp) */
	rc2 = mps_kex_server_set_psk(&c->kex, psk);
	mps_kex_wipe(psk, sizeof(psk));
	if (rc2) {
		free(info);
		gw_refuse(c, "key exchange already done");
		return;
	}
	ev_timer_stop(c->loop, &c->gw_timer);
	pthread_mutex_lock(&c->sock->lock);
	free(c->sock->gw_info);
	c->sock->gw_info = info;
	pthread_mutex_unlock(&c->sock->lock);
	mps_gw_signal(&c->sock->lock, &c->sock->gw_cond, &c->sock->gw_ready, 1);
	switch (info->dest.type) {
	case MPS_GWT_DEST_IPV4:
	case MPS_GWT_DEST_IPV6: {
		char a[64];

		inet_ntop(info->dest.type == MPS_GWT_DEST_IPV4 ? AF_INET : AF_INET6,
			  info->dest.addr, a, sizeof(a));
		snprintf(d, sizeof(d), "%s port %u", a, info->dest.port);
		break;
	}
	default:
		snprintf(d, sizeof(d), "%s port %u", info->dest.name, info->dest.port);
	}
	mps_info("conn %s: gateway request from client '%s' for %s", c->peer_str, info->client,
		 d);
	go_mp(c, sf);
	if (mps_conn_closed(c))
		return;
	sf->roff = MPS_HELLO_LEN + (size_t)rc;
	mps_conn_rx_process(c, sf);
}

static void gw_verdict(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v)
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
		ev_timer_stop(c->loop, &c->gw_timer);
		go_mp(c, sf);
		if (mps_conn_closed(c))
			return;
		/* the gateway bounds its own connect and answers ETIMEDOUT */
		ev_timer_set(&c->gw_timer, GW_REPLY_TIMEOUT, 0.);
		ev_timer_start(c->loop, &c->gw_timer);
		mps_conn_rx_process(c, sf);
		return;
	}
	snprintf(msg, sizeof(msg), "no HELLO_ACK (%s)", c->nego.why ? c->nego.why : "?");
	gw_failed(c, ECONNREFUSED, msg);
}

/* Client: the GWREPLY.  0, or 1 when c is gone. */
static int gw_client_reply(struct mps_conn *c, const uint8_t *msg, size_t len)
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
			   r.has_confirm ? "gateway: wrong CONFIRM (not the gateway of our key)"
					 : "gateway: reply without CONFIRM");
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
	mps_info("conn %s: connected through gateway %s", c->peer_str,
		 mps_addr_str(&c->gw_peer, a, sizeof(a)));
	app_connected(c);
	return 0;
}

static void gw_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	(void)loop;
	(void)revents;
	if (mps_conn_closed(c))
		return;
	if (c->role == MPS_SERVER) {
		if (atomic_load(&c->sock->gw_ready) == 0)
			gw_refuse(c, "no authenticated request in time");
		return;
	}
	if (c->rx_mode == RX_NEGO)
		gw_failed(c, ETIMEDOUT, "no answer in time");
	else if (c->gw_wait)
		gw_failed(c, ETIMEDOUT, "no reply in time");
}

struct gw_reply_cmd {
	struct mps_cmd cmd;
	struct mps_sock *s;
	uint8_t result;
	_Atomic int done;
	int rc;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void gw_reply_run(struct ev_loop *loop, void *arg)
{
	struct gw_reply_cmd *r = arg;
	struct mps_conn *c;
	struct mps_subflow *sf;
	uint8_t msg[64], fr[MPS_HDR_LEN + 64];
	size_t n;

	(void)loop;
	pthread_mutex_lock(&r->s->lock);
	c = r->s->conn;
	pthread_mutex_unlock(&r->s->lock);
	r->rc = -ENOTCONN;
	if (c && !mps_conn_closed(c) && c->gw && c->gw_wait && c->role == MPS_SERVER) {
		sf = c->nsf && mps_sf_usable(c->sf[0]) ? c->sf[0] : mps_sf_best_usable(c);
		n = mps_gwreq_put_reply(msg, sizeof(msg), r->result,
					c->kex.have_psk ? c->kex.keys.confirm_s : NULL);
		n = n ? mps_frame_put_gw(fr, MPS_F_GWREPLY, msg, n) : 0;
		if (sf && n && gw_queue_frame(c, sf, fr, n) == 0) {
			r->rc = 0;
			c->gw_wait = 0;
			mps_sf_flush(c, sf);
			if (!mps_conn_closed(c))
				mps_conn_app_update_read(c);
		} else {
			r->rc = -EIO;
		}
	}
	mps_gw_signal(&r->mu, &r->cv, &r->done, 1);
}

int mps_conn_gw_reply(struct mps_sock *s, uint8_t result)
{
	struct gw_reply_cmd *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->cmd.fn = gw_reply_run;
	r->cmd.arg = r;
	r->s = s;
	r->result = result;
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

static void conn_begin(struct ev_loop *loop, void *arg)
{
	struct mps_conn *c = arg;
	struct mps_subflow *sf = c->sf[0];
	socklen_t len = sizeof(sf->local);

	c->loop = loop;
	mps_conn_reaper_arm(loop);
	c->next = g_conns;
	if (g_conns)
		g_conns->prev = c;
	g_conns = c;
	mps_stat_new(c);
	if (hup_watch(c) != 0) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "cannot watch the app's descriptor");
		return;
	}
	if (c->role == MPS_CLIENT) {
		if (c->gw) {
			gw_attempt(c);
			return;
		}
		if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING) {
			ev_io_start(loop, &c->conn_w);
			return;
		}
		client_established(c);
		return;
	}
	/* Server: wait for the client's first bytes; hold the app's. */
	mps_real.getsockname(sf->fd, (struct sockaddr *)&sf->local, &len);
	sf->rtt_us = mps_conn_tcp_rtt_us(sf->fd);
	if (c->gw) {
		/* a gateway listener's: an authenticated request in time, or
		 * closed without a byte back; no banner window (the daemon
		 * speaks only after its reply) */
		ev_timer_set(&c->gw_timer, GW_REQUEST_TIMEOUT, 0.);
		ev_timer_start(loop, &c->gw_timer);
		ev_io_start(loop, &sf->rio);
		return;
	}
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
	c->gw = p->gw != 0;
	c->gw_wait = c->gw;
	mps_addr_str(&c->peer, c->peer_str, sizeof(c->peer_str));
	c->sched.ops = mps_sched_find(mps_set_sched_name() ? mps_set_sched_name() : cfg->scheduler);
	if (!c->sched.ops)
		c->sched.ops = mps_sched_find("default");
	c->sf[0] = sf;
	c->nsf = 1;
	c->next_sf_id = 1;
	sf->c = c;
	sf->id = 1;
	sf->remote = s->peer;
	steer_start(c); /* the policy file: scheduler, interfaces, backup */
	c->rx_mode = RX_NEGO;
	c->rcv_wnd_max = (uint32_t)MPS_MIN(cfg->sndbuf, (size_t)UINT32_MAX);
	if (c->rcv_wnd_max < MPS_MIN_WND)
		c->rcv_wnd_max = MPS_MIN_WND;
	c->rcv_wnd_max = hello_wnd(c->rcv_wnd_max & ~0xffffu);
	mps_sendbuf_init(&c->rxq, 0, c->rcv_wnd_max);
	mps_ofo_init(&c->ofo, c->rcv_wnd_max, 0);
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
		rc = mps_kex_client_begin(&c->kex, psk, NULL, NULL);
		mps_kex_wipe(gwpsk, sizeof(gwpsk));
		if (rc) {
			free(sf->rbuf);
			free(sf);
			free(c);
			return rc;
		}
		/* our first flight goes before the server's public value is
		 * known: the IDSN comes from ours (kex.h) */
		idsn = mps_kex_idsn_c(c->kex.kp.pub);
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
	mps_nego_init(&c->nego, p->role);

	ev_io_init(&c->app_r, app_on_read, c->app_fd, EV_READ);
	c->app_r.data = c;
	ev_io_init(&c->app_w, app_on_write, c->app_fd, EV_WRITE);
	c->app_w.data = c;
	ev_io_init(&c->conn_w, conn_on_connected, sf->fd, EV_WRITE);
	c->conn_w.data = c;
	ev_init(&c->ack_timer, ack_on_timer);
	c->ack_timer.data = c;
	ev_init(&c->wnd_timer, wnd_on_timer);
	c->wnd_timer.data = c;
	ev_init(&c->nego_timer, nego_on_timer);
	c->nego_timer.data = c;
	ev_init(&c->hello_timer, hello_on_timer);
	c->hello_timer.data = c;
	ev_init(&c->fin_timer, fin_on_timer);
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
	ev_init(&c->stale_tick, mps_resil_stale_on_tick);
	c->stale_tick.data = c;
	ev_init(&c->gw_timer, gw_on_timer);
	c->gw_timer.data = c;

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

/* The TCP state a plain socket would be in (app threads: atomic). */
static uint8_t conn_tcp_state(const struct mps_conn *c)
{
	switch (__atomic_load_n(&c->state, __ATOMIC_RELAXED)) {
	case MPS_CONN_ESTABLISHED:
		return MPS_TCP_ESTABLISHED;
	case MPS_CONN_FIN_WAIT1:
		return MPS_TCP_FIN_WAIT1;
	case MPS_CONN_FIN_WAIT2:
		return MPS_TCP_FIN_WAIT2;
	case MPS_CONN_CLOSE_WAIT:
		return MPS_TCP_CLOSE_WAIT;
	case MPS_CONN_LAST_ACK:
		return MPS_TCP_LAST_ACK;
	case MPS_CONN_TIME_WAIT:
	case MPS_CONN_CLOSED:
		break;
	}
	return MPS_TCP_CLOSE;
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
		if (!found || mps_sf_usable(sf) > best_usable ||
		    (mps_sf_usable(sf) == best_usable && ti.tcpi_rtt < best.tcpi_rtt)) {
			best = ti;
			best_usable = mps_sf_usable(sf);
			found = 1;
		}
	}
	if (found && __atomic_load_n(&c->tx_mode, __ATOMIC_RELAXED) == TX_MP &&
	    __atomic_load_n(&c->rx_mode, __ATOMIC_RELAXED) == RX_MP) {
		/* Connection-level counters and state instead of one path's.
		 * The shim thread writes these fields unlocked; 64-bit relaxed
		 * loads are enough for a statistics snapshot. */
		uint64_t start = __atomic_load_n(&c->snd_start, __ATOMIC_RELAXED);
		uint64_t ridsn = __atomic_load_n(&c->remote_idsn, __ATOMIC_RELAXED);
		uint64_t rnxt = __atomic_load_n(&c->rcv_nxt, __ATOMIC_RELAXED);
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
		mps_conn_app_update_read(c);
		if (ev_is_active(&c->app_r))
			ev_feed_event(loop, &c->app_r, EV_READ);
	}
}

static int conn_drained(const struct mps_conn *c)
{
	if (mps_conn_closed(c) || (c->tx_mode != TX_PLAIN && mps_sf_n_usable(c) == 0) ||
	    (c->tx_mode == TX_PLAIN && (!c->nsf || c->sf[0]->wr_dead)))
		return 1;
	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return 1; /* nothing was sent: TCP would not wait either */
	if (!c->app_eof || c->snd_nxt != c->sb.end || !mps_conn_fin_sent(c) || !all_queues_empty(c))
		return 0;
	return c->tx_mode == TX_PLAIN || mps_conn_fin_acked(c);
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
	return mps_conn_closed(c) || (c->app_closed && conn_drained(c));
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
		mps_mutex_hold(&c->sock->lock, lock);
}

/* Forked child (not the keeper): the parent's connections stay the
 * parent's.  Their descriptors were closed here (fdtab) and their memory is
 * a copy this process must never act on: forget them, and every watcher of
 * the parent's loop, so that a connection made or accepted here starts
 * from scratch on this process's own loop (a worker forked after its
 * parent served connections; multiprocessing children). */
static struct mps_conn *g_parents_conns; /* kept reachable, never used */

void mps_conn_atfork_child(void)
{
	g_parents_conns = g_conns;
	g_conns = NULL;
	g_zombies = NULL;
	memset(&g_reaper, 0, sizeof(g_reaper));
	memset(&g_trim_timer, 0, sizeof(g_trim_timer));
	g_last_trim = 0;
	g_hup_ep = -1; /* an internal descriptor: closed by fdtab */
	memset(&g_hup_io, 0, sizeof(g_hup_io));
	memset(&g_keeper_tick, 0, sizeof(g_keeper_tick));
	g_keeper_limit = g_keeper_deadline = 0;
}
