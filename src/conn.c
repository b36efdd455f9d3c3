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
 * This file holds the connection's life: its state and its changes,
 * abort and finish, the app's end hanging up, the reaper, the exit drain
 * and the keeper.  The rest of the engine, by concern (docs/DESIGN.md
 * section 1): connect.c (start, connect completion, plain reconnect),
 * mpcap.c (the HELLO exchange's outcome), dss_tx.c (the send side: app
 * bytes, framing, the scheduler, data ACKs received), dss_rx.c (the
 * receive side: frames, delivery to the app, data ACKs and window sent),
 * connopt.c (socket options, app threads), gwconn.c (through the
 * gateway); a subflow's own life and I/O are in subflow.c, path failures
 * (reinjection, outages, blackholes, the watchdog) in resilience.c, the
 * path manager, joins and path events in path.c; what they share is
 * declared in conn_int.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h> /* malloc_trim */
#include <netinet/in.h>
#include <linux/tcp.h> /* TCP_NODELAY */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_api.h"
#include "conn_int.h"
#include "ccglue_int.h"
#include "subflow_int.h"
#include "mptcpshim/defacc.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"
#include "rxwatch_int.h"
#include "sideset_int.h"

struct mps_conn *mps_conn_list;
static struct mps_conn *g_zombies; /* freed by g_reaper, before the loop sleeps */
static ev_prepare g_reaper;

static void conn_finish(struct mps_conn *c);

/* What the modules above hear of a connection's life (sfev.c's
 * mps_conn_engine_hooks), registered by conn_begin before the first
 * connection: conn.c calls nothing above it. */
static const struct mps_conn_hooks *g_hooks;

void mps_conn_set_hooks(const struct mps_conn_hooks *h)
{
	g_hooks = h;
}

const struct mps_conn_hooks *mps_conn_hooks(void)
{
	return g_hooks;
}

/* The path manager, for the modules below it (struct mps_pm_ops). */
static const struct mps_pm_ops *g_pm;

void mps_conn_set_pm(const struct mps_pm_ops *pm)
{
	g_pm = pm;
}

const struct mps_pm_ops *mps_conn_pm(void)
{
	return g_pm;
}

/* ---------------------------------------------------------------- helpers */

/* Read back the filler bytes the app's end holds, but keep_unread. */
void mps_conn_drain_filler(struct mps_conn *c, size_t keep_unread)
{
	while (c->filler > keep_unread) {
		uint8_t junk[16384];
		ssize_t r = mps_real.read(c->app_fd, junk,
		                          MPS_MIN(sizeof(junk), c->filler - keep_unread));

		if (r <= 0)
			break;
		c->filler -= (size_t)r;
	}
}

void mps_grow_pair_buffer(int fd)
{
	int v = MPS_PAIR_BUF;

	if (mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
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
	mps_sendbuf_cache_drop();
	malloc_trim(0);
}

void mps_conn_trim_soon(struct ev_loop *loop)
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

/* Off the loop (an inline connection ended on the app's thread) the
 * reaper waits for the loop's next wake-up, unless REAP_LAZY_MAX are
 * waiting: the memory of a few connections is not worth a wake-up each. */
#define REAP_LAZY_MAX 64
static unsigned g_reap_waiting;

static void reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
	int freed_conn = g_zombies != NULL;

	g_reap_waiting = 0;
	while (g_zombies) {
		struct mps_conn *c = g_zombies;

		g_zombies = c->next;
		free(c);
	}
	while (mps_sf_zombies) {
		struct mps_subflow *sf = mps_sf_zombies;

		mps_sf_zombies = sf->jnext;
		mps_sf_destroy(sf);
	}
	ev_prepare_stop(loop, w);
	if (freed_conn)
		mps_conn_trim_soon(loop);
}

/* ------------------------------------------------------------- the walk
 * conn_api.h's other entries live with their owners: mps_conn_kick in
 * dss_tx.c, mps_conn_sf_input in dss_rx.c, mps_conn_path_back and
 * mps_conn_path_gone in resilience.c. */

struct mps_conn *mps_conn_first(void)
{
	return mps_conn_list;
}

struct mps_conn *mps_conn_next(const struct mps_conn *c)
{
	return c->next;
}

void mps_conn_reaper_arm(struct ev_loop *loop)
{
	if (!ev_cb(&g_reaper))
		ev_prepare_init(&g_reaper, reap);
	if (!ev_is_active(&g_reaper))
		(ev_prepare_start)(loop, &g_reaper);
	if (++g_reap_waiting >= REAP_LAZY_MAX)
		mps_evoff_touch(0);
}

/* ------------------------------------------------------------- hup watch
 * One set of ours (sideset.c) holds every app_fd with no requested events:
 * epoll still reports EPOLLHUP (every app descriptor closed, in every
 * process) and EPOLLERR, which a readable-at-EOF socket cannot tell us
 * through libev.  First in its loop iteration (EV_MAXPRI): the app's last
 * close makes its end readable (EOF) and hung up at once, and an EOF taken
 * first is passed on as a FIN, before the hang-up says the close was
 * abortive (SO_LINGER {1, 0}: a reset).  A client read a truncated stream
 * as complete so (gwrelay.sh proxystop, 1 run in 4-8).  The hang-up
 * handles an EOF not yet read (mps_dss_rx_app_hup drains first). */

static void hup_on_ready(struct ev_loop *loop, void *ptr);
static struct mps_sideset g_hups = MPS_SIDESET_INIT(hup_on_ready, 1, EV_MAXPRI);

static void hup_on_ready(struct ev_loop *loop, void *ptr)
{
	struct mps_conn *c = ptr;

	(void)loop;
	mps_sideset_del(&g_hups, c->app_fd);
	c->hup_registered = 0;
	g_hooks->app_hup(c); /* registered with c */
}

int mps_conn_hup_watch(struct mps_conn *c)
{
	int rc = mps_sideset_add(&g_hups, c->loop, c->app_fd, 0, c);

	if (rc == 0)
		c->hup_registered = 1;
	return rc;
}

/* handover.c: a connection offered to a forked child leaves this
 * process's hup set (on = 0) and joins it again, or joins the child's
 * (1: c->loop is the loop to watch on).  0 or -errno. */
int mps_conn_hup_set(struct mps_conn *c, int on)
{
	if (on)
		return c->hup_registered ? 0 : mps_conn_hup_watch(c);
	if (c->hup_registered)
		mps_sideset_del(&g_hups, c->app_fd);
	c->hup_registered = 0;
	return 0;
}

static const struct mps_inline_ops *g_inline;

void mps_conn_set_inline(const struct mps_inline_ops *ops)
{
	g_inline = ops;
}

int mps_conn_promote(struct mps_conn *c, const char *why)
{
	if (!c->inl)
		return 0;
	return g_inline ? g_inline->promote(c, why) : -ENOSYS;
}

ssize_t mps_conn_inline_deliver(struct mps_conn *c, const struct iovec *iov, int n)
{
	return g_inline ? g_inline->deliver(c, iov, n) : -EPIPE;
}

/* ------------------------------------------------------------- lifecycle */

/* The connection is up for the app (TCP's connect completed; through a
 * gateway, its GWREPLY said so). */
void mps_conn_app_connected(struct mps_conn *c)
{
	if (c->gw && c->nsf) {
		/* getsockname: the address the gateway sees */
		socklen_t len = sizeof(c->sock->local);

		pthread_mutex_lock(&c->sock->lock);
		if (mps_real.getsockname(c->sf[0]->fd, (struct sockaddr *)&c->sock->local, &len) ==
		    0)
			c->sock->local_len = len;
		pthread_mutex_unlock(&c->sock->lock);
	}
	atomic_store(&c->sock->state, MPS_SS_CONNECTED);
	mps_conn_drain_filler(c, 0);
	if (c->app_dup >= 0) {
		mps_grow_pair_buffer(c->app_dup);
		mps_ifd_close(c->app_dup);
		c->app_dup = -1;
	}
}

static void conn_free(struct mps_conn *c)
{
	mps_dbg("conn %s: freed (%d subflow(s), %d parked)", c->peer_str, c->nsf, c->nparked);
	if (c->prev)
		c->prev->next = c->next;
	else if (mps_conn_list == c)
		mps_conn_list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ev_io_stop(c->loop, &c->app_r);
	ev_io_stop(c->loop, &c->app_w);
	ev_io_stop(c->loop, &c->conn_w);
	ev_timer_stop(c->loop, &c->conn_look);
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
	ev_timer_stop(c->loop, &c->inl_timer);
	if (g_hooks && g_hooks->freeing)
		g_hooks->freeing(c);
	mps_ccglue_free(c);
	ev_timer_stop(c->loop, &c->gw_timer);
	mps_handback_cancel(c->sock);
	if (c->gw && c->role == MPS_SERVER && atomic_load(&c->sock->gw_ready) == 0) {
		/* the daemon's thread waiting for the request learns it died */
		mps_gw_signal(&c->sock->lock, &c->sock->gw_cond, &c->sock->gw_ready, -1);
	}
	if (c->hup_registered)
		mps_sideset_del(&g_hups, c->app_fd);
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
	mps_ranges_free(&c->reinj);
	free(c->pol);
	c->pol = NULL;
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
	/* inline (inline.h): the app's number is the TCP socket itself, a
	 * byte sent there would go to the peer; its next call reports the
	 * error (inline.c, pending_err) */
	if (c->inl)
		return 0;
	d = mps_fdtab_dup_any(c->sock);
	if (d < 0)
		/* forked children may hold the only copy: the reset must reach
		 * them as an error, not an EOF that passes for a complete stream */
		d = mps_fdtab_dup_from_children(c->sock->ino);
	if (d >= 0) {
		/* EAGAIN: the buffer is full, so bytes are unread already. */
		ok = mps_real.send(d, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 || errno == EAGAIN ||
		     errno == EWOULDBLOCK;
		mps_real.close(d);
	}
	return ok; /* 0: e.g. the app shut its end for writing first */
}

/* End the connection abortively.  send_close: tell the peer (FASTCLOSE
 * equivalent) before resetting the subflows. */
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
			if (mps_real.send(sf->fd, fr, sizeof(fr), MSG_DONTWAIT | MSG_NOSIGNAL) <
			    0) {
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
		mps_conn_drain_filler(c, 1);
		/* that byte alone is more than the smallest buffer lets be
		 * writable: the end became so only when closing ours freed
		 * it, after the error and hang-up showed (poll: POLLERR|POLLHUP
		 * without POLLOUT, now and then) */
		if (c->app_dup >= 0)
			mps_grow_pair_buffer(c->app_dup);
		mps_ifd_close(c->app_dup);
		c->app_dup = -1;
	} else if (c->gw_splice) {
		/* the app end is the destination's TCP socket: it gets a reset */
		struct linger l = {1, 0};

		atomic_store(&c->sock->state, MPS_SS_CLOSED);
		mps_real.setsockopt(c->app_fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
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

/* handback.c: the app's number is the TCP socket now (the subflow's fd
 * already let go): the connection ends here without a byte, FIN or reset
 * on the wire. */
void mps_conn_handed_back(struct mps_conn *c)
{
	mps_conn_set_state(c, MPS_CONN_CLOSED);
	atomic_store(&c->sock->state, MPS_SS_CLOSED);
	conn_free(c);
}

static void conn_finish(struct mps_conn *c)
{
	int i;

	mps_info("conn %s: closed gracefully", c->peer_str);
	for (i = 0; i < c->nsf; i++)
		mps_sf_log_stats(c, c->sf[i]);
	/* ended by the peer's close before the app's: TCP_INFO says
	 * CLOSE_WAIT until the app closes, as TCP's (connopt.c) */
	if (c->peer_gone && !c->app_closed)
		atomic_store(&c->sock->peer_closed, 1);
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

/* ------------------------------------------------------------- process exit
 * TCP delivers what the app wrote even after the process exits; our bytes
 * live in this process, so exit waits (bounded) until every connection has
 * handed its stream, DATA_FIN included, to the peer. */

void mps_conn_exit_drain(struct ev_loop *loop)
{
	struct mps_conn *c, *next;

	for (c = mps_conn_list; c; c = next) {
		next = c->next;
		c->exiting = 1;
		if (c->tx_mode == TX_HOLD)
			c->window_expired = 1;
		g_hooks->update_read(c);
		if (ev_is_active(&c->app_r))
			ev_feed_event(loop, &c->app_r, EV_READ);
	}
}

/* The gateway exits (stopped, or failed): its spliced connections end
 * with a reset at both ends, as when a middlebox that terminates TCP
 * dies (the relay's stop does the same), never with an EOF that passes a
 * cut stream off as complete, and no keeper goes on relaying them. */
void mps_conn_gw_exit(void)
{
	struct mps_conn *c, *next;

	for (c = mps_conn_list; c; c = next) {
		next = c->next;
		if (c->gw_splice || c->gw_connecting)
			mps_conn_abort(c, MPS_CR_ABORT, 1, "the gateway exits");
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

	for (c = mps_conn_list; c; c = c->next)
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

	for (c = mps_conn_list; c; c = c->next)
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

	for (c = mps_conn_list; c; c = c->next) {
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

	for (c = mps_conn_list; c; c = c->next)
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

	for (c = mps_conn_list; c; c = c->next)
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
	g_parents_conns = mps_conn_list;
	mps_conn_list = NULL;
	if (g_hooks && g_hooks->atfork_child)
		g_hooks->atfork_child();
	g_zombies = NULL;
	memset(&g_reaper, 0, sizeof(g_reaper));
	memset(&g_trim_timer, 0, sizeof(g_trim_timer));
	g_last_trim = 0;
	mps_sideset_atfork_child(&g_hups);
	mps_rxwatch_atfork_child();
	memset(&g_keeper_tick, 0, sizeof(g_keeper_tick));
	g_keeper_limit = g_keeper_deadline = 0;
}

/* TCP_DEFER_ACCEPT learnt per listener (include/mptcpshim/defacc.h): the
 * evidence comes from the engine (a plain client that spoke first, a
 * banner nobody waited out), the listener is the app's.  Called under
 * defacc's lock (so lfd is still that listener) or inside the app's own
 * accept on lfd. */
int mps_conn_defacc_apply(int lfd, int on)
{
	int v = on ? MPS_DEFACC_SECS : 0;

	if (mps_real.setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &v, sizeof(v)) != 0)
		return -1;
	if (on)
		mps_info(
		        "listener fd %d: its clients speak first: TCP_DEFER_ACCEPT on (accept waits "
		        "for their first bytes, which then show a plain client at once)",
		        lfd);
	else
		mps_info("listener fd %d: a client waited for the server to speak: "
		         "TCP_DEFER_ACCEPT off again",
		         lfd);
	return 0;
}
