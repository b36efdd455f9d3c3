/* conn.c - the connection engine (shim thread only, but mps_conn_start).
 *
 * A connection pumps bytes between the app's socketpair end ("app side",
 * our end is c->app_fd) and its subflow(s).  Two independent modes:
 *   rx: NEGO (looking at the peer's first bytes), MP (frames), PLAIN (raw)
 *   tx: HOLD (server: app bytes wait for the verdict), MP, PLAIN
 * See docs/DESIGN.md for the protocol, the states and the close rules.
 *
 * Data path, sender: app_fd -> readv into the DSN send buffer (no copy
 * after that) -> DATA frames queued as segments on the subflow -> one
 * sendmsg per batch of segments.  Bytes stay in the send buffer until
 * data-ACKed.  Receiver: read into the subflow's buffer, decode frames in
 * place, writev the in-order payloads straight to app_fd.  No per-byte
 * work, no lock on this path. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ev.h>

#include "mptcpshim/config.h"
#include "mptcpshim/conn.h"
#include "mptcpshim/crypto.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/real.h"
#include "mptcpshim/sendbuf.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"

#define RBUF_SIZE (256u * 1024u)      /* per-subflow receive buffer */
#define MAX_SEGS 32                   /* frames queued per subflow */
#define SF_QUEUE_MAX (512u * 1024u)   /* bytes queued per subflow before the kernel */
#define UNSENT_MAX (1024u * 1024u)    /* app bytes read but not yet framed */
#define FIRST_FLIGHT_UNKNOWN 0u       /* app bytes sent before a first HELLO_ACK */
#define ACK_EVERY (64u * 1024u)       /* send a standalone ACK after this much */
#define ACK_DELAY 0.002               /* ... or after this long, seconds */
#define FIN_WAIT_TIMEOUT 60.0         /* app closed: wait this long for the peer's FIN */
#define READ_BUDGET 8                 /* reads per wakeup before yielding */

enum { RX_NEGO, RX_MP, RX_PLAIN };
enum { TX_HOLD, TX_MP, TX_PLAIN };

struct seg {
	uint8_t hdr[MPS_HELLO_LEN]; /* the largest header or control frame */
	uint8_t hlen;
	uint8_t is_ack;       /* a standalone ACK, may be updated in place */
	uint8_t plain;        /* raw app bytes, freed from the send buffer once written */
	uint64_t dsn;         /* payload's first DSN */
	const uint8_t *payload;
	uint32_t plen;
};

struct mps_subflow {
	struct mps_conn *c;
	int fd;
	ev_io rio, wio;
	uint8_t *rbuf;
	size_t rlen, roff;
	struct seg seg[MAX_SEGS];
	int nseg;
	size_t seg_done; /* bytes of seg[0] already written */
	size_t queued;   /* bytes in seg[] not yet written */
	uint32_t rtt_us;
	int wr_shut;
	int wr_dead;
};

struct mps_conn {
	enum mps_role role;
	int rx_mode, tx_mode;
	struct mps_sock *sock;
	char peer_str[64];
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int bound;
	struct sockaddr_storage bind_addr;
	socklen_t bind_len;

	struct mps_nego nego;
	uint64_t local_key, remote_key;
	uint32_t local_token;
	int token_registered;

	/* app side */
	int app_fd;
	ev_io app_r, app_w;
	int hup_registered;
	size_t filler;
	int app_dup;    /* connecting: our dup of the app's end, to grow it later */
	int app_eof;    /* read 0: the app shut its write side (or closed) */
	int app_closed; /* every app descriptor is gone */
	int rx_blocked; /* app_fd full: subflow reading paused */

	/* send side */
	struct mps_sendbuf sb;
	uint64_t snd_start; /* first DSN of the stream */
	uint64_t snd_nxt;   /* next DSN to frame */
	uint64_t fin_dsn;
	int fin_sent, fin_acked;
	size_t first_flight;
	uint64_t snd_edge;  /* peer's window: never send at or beyond this DSN */

	/* receive side */
	uint64_t rcv_nxt;      /* next DSN expected (bytes in rxq count as received) */
	uint64_t ack_sent;
	uint32_t wnd_sent;     /* window advertised with ack_sent */
	uint32_t rcv_wnd_max;  /* our receive window when rxq is empty */
	uint64_t rcv_edge;     /* largest ack + wnd we advertised: no DSN at or past it */
	struct mps_sendbuf rxq; /* in-order bytes the app could not take yet */
	int rcv_fin;           /* DATA_FIN (or plain EOF) received */
	int fin_delivered;     /* ... and shown to the app as EOF */
	int peer_gone;         /* the peer closed its subflow after its DATA_FIN */
	ev_timer ack_timer;

	ev_timer nego_timer;
	int window_expired;
	ev_io conn_w; /* client: non-blocking connect completion */
	ev_timer fin_timer;

	struct mps_subflow sf;
	struct ev_loop *loop;
	struct mps_cmd start_cmd;
	struct mps_conn *next, *prev; /* every live connection (shim thread) */
	int exiting; /* the process is exiting: what the app wrote is all */
	int dead;
};

static struct mps_conn *g_conns;
static struct mps_conn *g_zombies; /* freed by g_reaper, before the loop sleeps */
static ev_prepare g_reaper;

static void reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
	while (g_zombies) {
		struct mps_conn *c = g_zombies;

		g_zombies = c->next;
		free(c);
	}
	ev_prepare_stop(loop, w);
}

static void conn_abort(struct mps_conn *c, uint32_t reason, int send_close, const char *why);
static void conn_finish(struct mps_conn *c);
static void conn_check_done(struct mps_conn *c);
static void rx_process(struct mps_conn *c, struct mps_subflow *sf);
static int sf_flush(struct mps_conn *c, struct mps_subflow *sf);
static void tx_fill(struct mps_conn *c, struct mps_subflow *sf);
static void app_update_read(struct mps_conn *c);
static void sf_on_read(struct ev_loop *loop, ev_io *w, int revents);
static void sf_on_write(struct ev_loop *loop, ev_io *w, int revents);

/* ---------------------------------------------------------------- helpers */

void mps_grow_pair_buffer(int fd)
{
	int v = MPS_PAIR_BUF;

	if (mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0)
		mps_real.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static void close_internal(int fd)
{
	if (fd >= 0) {
		mps_ifd_del(fd);
		mps_real.close(fd);
	}
}

/* Replace or drop the subflow fd under the sock lock, so app threads that
 * forward socket options never see a stale descriptor. */
static void sf_set_fd(struct mps_conn *c, struct mps_subflow *sf, int fd)
{
	pthread_mutex_lock(&c->sock->lock);
	sf->fd = fd;
	pthread_mutex_unlock(&c->sock->lock);
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
	struct mps_subflow *sf = &c->sf;

	if (c->prev)
		c->prev->next = c->next;
	else if (g_conns == c)
		g_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;

	ev_io_stop(c->loop, &sf->rio);
	ev_io_stop(c->loop, &sf->wio);
	ev_io_stop(c->loop, &c->app_r);
	ev_io_stop(c->loop, &c->app_w);
	ev_io_stop(c->loop, &c->conn_w);
	ev_timer_stop(c->loop, &c->ack_timer);
	ev_timer_stop(c->loop, &c->nego_timer);
	ev_timer_stop(c->loop, &c->fin_timer);
	if (c->hup_registered)
		epoll_ctl(g_hup_ep, EPOLL_CTL_DEL, c->app_fd, NULL);
	if (sf->fd >= 0) {
		int fd = sf->fd;

		sf_set_fd(c, sf, -1);
		close_internal(fd);
	}
	close_internal(c->app_dup);
	close_internal(c->app_fd);
	if (c->token_registered)
		mps_token_del(c->local_token, c);
	pthread_mutex_lock(&c->sock->lock);
	c->sock->conn = NULL;
	pthread_mutex_unlock(&c->sock->lock);
	mps_sock_put(c->sock);
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_free(&c->rxq);
	free(sf->rbuf);
	sf->rbuf = NULL;
	/* Callers up the stack may still test c->dead: the memory itself goes
	 * once this loop iteration's callbacks are over. */
	c->dead = 1;
	c->next = g_zombies;
	g_zombies = c;
	if (!ev_is_active(&g_reaper))
		ev_prepare_start(c->loop, &g_reaper);
}

/* Make the app see a reset: a byte left unread in our end when we close it
 * makes the kernel report ECONNRESET on the app's end (af_unix), exactly
 * once, as TCP does after an RST. */
static void app_inject_reset(struct mps_conn *c)
{
	int d;

	if (c->app_closed)
		return;
	d = mps_fdtab_dup_any(c->sock);
	if (d >= 0) {
		if (send(d, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* full: then data is already unread, which is enough */
		}
		mps_real.close(d);
	}
}

static void sf_reset(struct mps_conn *c, struct mps_subflow *sf)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd = sf->fd;

	if (fd < 0)
		return;
	ev_io_stop(c->loop, &sf->rio);
	ev_io_stop(c->loop, &sf->wio);
	mps_real.setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	sf_set_fd(c, sf, -1);
	close_internal(fd);
	sf->nseg = 0;
	sf->queued = 0;
	sf->seg_done = 0;
}

/* End the connection abortively.  send_close: tell the peer (FASTCLOSE
 * equivalent) before resetting the subflow. */
static void conn_abort(struct mps_conn *c, uint32_t reason, int send_close, const char *why)
{
	struct mps_subflow *sf = &c->sf;
	int connecting = atomic_load(&c->sock->state) == MPS_SS_CONNECTING;

	if (c->dead)
		return;
	c->dead = 1;
	if (why)
		mps_warn("conn %s: aborting: %s", c->peer_str, why);
	if (send_close && sf->fd >= 0 && c->tx_mode == TX_MP && c->rx_mode == RX_MP) {
		uint8_t fr[MPS_CLOSE_LEN];

		mps_frame_put_close(fr, reason);
		/* Best effort, after any partly written frame has been dropped:
		 * a reset subflow carries nothing more anyway. */
		if (sf->seg_done == 0 && send(sf->fd, fr, sizeof(fr), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		}
	}
	sf_reset(c, sf);
	if (connecting) {
		/* The filler bytes still sit unread in our end: closing it flags
		 * the app's end with an error, so EPOLLERR|EPOLLHUP fire. */
		close_internal(c->app_dup);
		c->app_dup = -1;
		atomic_store(&c->sock->state, MPS_SS_FAILED);
	} else {
		atomic_store(&c->sock->state, MPS_SS_CLOSED);
		app_inject_reset(c);
	}
	conn_free(c);
}

static void conn_finish(struct mps_conn *c)
{
	struct mps_subflow *sf = &c->sf;

	mps_info("conn %s: closed gracefully", c->peer_str);
	c->dead = 1;
	if (sf->fd >= 0) {
		int fd = sf->fd;

		shutdown(fd, SHUT_WR);
		sf_set_fd(c, sf, -1);
		close_internal(fd);
	}
	atomic_store(&c->sock->state, MPS_SS_CLOSED);
	conn_free(c);
}

/* Graceful end: both DATA_FINs exchanged and ACKed, nothing left to write. */
static void conn_check_done(struct mps_conn *c)
{
	struct mps_subflow *sf = &c->sf;

	if (c->dead)
		return;
	if (!c->fin_delivered)
		return; /* the app has not seen everything, EOF included */
	if (c->tx_mode == TX_PLAIN && c->rx_mode == RX_PLAIN) {
		if (!(c->app_eof && sf->nseg == 0 && c->snd_nxt == c->sb.end))
			return;
	} else if (!c->peer_gone) {
		if (!(c->fin_acked && sf->nseg == 0))
			return;
	}
	/* peer_gone: it took all we sent and closed; what the app writes
	 * from now on meets a closed socket (EPIPE), as after a TCP close. */
	conn_finish(c);
}

/* ------------------------------------------------------------ transmit */

static struct seg *seg_add(struct mps_subflow *sf)
{
	struct seg *s;

	if (sf->nseg == MAX_SEGS)
		return NULL;
	s = &sf->seg[sf->nseg++];
	memset(s, 0, sizeof(*s));
	return s;
}

/* Queue a control frame.  0, or -1 when the queue is full. */
static int queue_ctl(struct mps_subflow *sf, const uint8_t *fr, size_t len)
{
	struct seg *s = seg_add(sf);

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
	struct seg *last;

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

static void send_ack(struct mps_conn *c)
{
	uint8_t fr[MPS_ACK_LEN];

	if (c->rx_mode != RX_MP || c->tx_mode != TX_MP || c->sf.fd < 0 || c->sf.wr_dead)
		return;
	if (!ack_piggyback(&c->sf, c->rcv_nxt, adv_wnd(c))) {
		mps_frame_put_ack(fr, c->rcv_nxt, adv_wnd(c));
		if (queue_ctl(&c->sf, fr, sizeof(fr)) != 0) {
			/* Queue full and nothing to ride on: try again soon. */
			if (!ev_is_active(&c->ack_timer)) {
				ev_timer_set(&c->ack_timer, ACK_DELAY, 0.);
				ev_timer_start(c->loop, &c->ack_timer);
			}
			return;
		}
	}
	note_ack_sent(c);
}

static void ack_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->ack_sent != c->rcv_nxt || c->wnd_sent != adv_wnd(c)) {
		send_ack(c);
		sf_flush(c, &c->sf);
	}
}

/* rcv_nxt moved: ACK now when much is unacknowledged or the stream ended,
 * else soon (piggybacked on data if any leaves first). */
static void ack_update(struct mps_conn *c)
{
	uint32_t wnd = adv_wnd(c);

	if (c->rx_mode != RX_MP)
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

/* Frame new app bytes onto the subflow's queue. */
static void tx_fill(struct mps_conn *c, struct mps_subflow *sf)
{
	if (sf->fd < 0 || sf->wr_dead || c->tx_mode == TX_HOLD ||
	    atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return;
	while (sf->nseg < MAX_SEGS && sf->queued < SF_QUEUE_MAX) {
		uint64_t limit = c->sb.end;
		const uint8_t *p;
		size_t len;
		struct seg *s;

		if (c->tx_mode == TX_MP && mps_dsn_lt(c->snd_edge, limit))
			limit = c->snd_edge; /* the peer's window (first flight before it) */
		if (mps_dsn_lt(c->snd_nxt, limit)) {
			size_t want = (size_t)(limit - c->snd_nxt);

			len = mps_sendbuf_peek(&c->sb, c->snd_nxt, MPS_MIN(want, MPS_DATA_MAX), &p);
			if (len == 0)
				break;
			s = seg_add(sf);
			s->dsn = c->snd_nxt;
			s->payload = p;
			s->plen = (uint32_t)len;
			if (c->tx_mode == TX_PLAIN) {
				s->plain = 1;
			} else {
				int ackf = c->rx_mode == RX_MP;

				s->hlen = (uint8_t)mps_frame_put_data_hdr(s->hdr, ackf ? MPS_DF_ACK : 0,
									  s->dsn, c->rcv_nxt, adv_wnd(c),
									  s->plen);
				if (ackf)
					note_ack_sent(c);
			}
			sf->queued += s->hlen + len;
			c->snd_nxt += len;
			continue;
		}
		/* Everything framed: the end of the stream follows. */
		if (c->app_eof && !c->fin_sent && c->snd_nxt == c->sb.end) {
			if (c->tx_mode == TX_PLAIN) {
				c->fin_sent = 1; /* shutdown(SHUT_WR) once the queue drains */
				break;
			}
			s = seg_add(sf);
			s->dsn = c->sb.end;
			s->hlen = (uint8_t)mps_frame_put_data_hdr(
				s->hdr, MPS_DF_FIN | (c->rx_mode == RX_MP ? MPS_DF_ACK : 0), s->dsn,
				c->rcv_nxt, adv_wnd(c), 0);
			sf->queued += s->hlen;
			c->fin_sent = 1;
			c->fin_dsn = c->sb.end;
			if (c->rx_mode == RX_MP)
				note_ack_sent(c);
		}
		break;
	}
}

/* The subflow cannot be written any more (EPIPE, ECONNRESET...).  Nothing
 * is decided here: what the peer sent before is still in the kernel and is
 * read and delivered first; the read side then sees the error or EOF and
 * decides (conn_check_done or abort). */
static void sf_write_failed(struct mps_conn *c, struct mps_subflow *sf, int err)
{
	mps_dbg("conn %s: subflow write failed: %s", c->peer_str, strerror(err));
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

/* Write queued segments.  0, or -1 when the subflow failed (handled). */
static int sf_flush(struct mps_conn *c, struct mps_subflow *sf)
{
	while (sf->nseg > 0 && sf->fd >= 0) {
		struct iovec iov[2 * MAX_SEGS];
		struct msghdr mh;
		size_t skip = sf->seg_done;
		int n = 0, i;
		ssize_t w;

		for (i = 0; i < sf->nseg; i++) {
			struct seg *s = &sf->seg[i];

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
			struct seg *s = &sf->seg[i];
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
			memmove(sf->seg, sf->seg + i, (size_t)(sf->nseg - i) * sizeof(struct seg));
			sf->nseg -= i;
		}
		/* Room again: frame more before the next write. */
		tx_fill(c, sf);
	}
	ev_io_stop(c->loop, &sf->wio);
	if (c->tx_mode == TX_PLAIN && c->fin_sent && !sf->wr_shut && sf->fd >= 0 &&
	    c->snd_nxt == c->sb.end) {
		shutdown(sf->fd, SHUT_WR);
		sf->wr_shut = 1;
	}
	return 0;
}

static void sf_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_subflow *sf = w->data;
	struct mps_conn *c = sf->c;

	tx_fill(c, sf);
	sf_flush(c, sf);
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
			want = 0;
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
	c->snd_start = c->snd_nxt = 0;
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
		r = readv(c->app_fd, iov, n);
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
	tx_fill(c, &c->sf);
	sf_flush(c, &c->sf);
	app_update_read(c);
	conn_check_done(c);
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
		w = writev(c->app_fd, iov, n);
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

/* ack/wnd from the peer.  0, or -1 when c was aborted. */
static int handle_ack(struct mps_conn *c, uint64_t ack, uint32_t wnd)
{
	uint64_t max = c->fin_sent ? c->fin_dsn + 1 : c->snd_nxt;

	if (mps_dsn_lt(ack, c->sb.una))
		return 0; /* stale */
	if (mps_dsn_lt(max, ack)) {
		conn_abort(c, MPS_CR_PROTOCOL, 1, "protocol: data ACK beyond what was sent");
		return -1;
	}
	if (mps_dsn_lt(c->snd_edge, ack + wnd))
		c->snd_edge = ack + wnd;
	if (c->fin_sent && ack == c->fin_dsn + 1) {
		c->fin_acked = 1;
		ack = c->fin_dsn;
	}
	mps_sendbuf_ack(&c->sb, ack);
	return 0;
}

static void rx_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	struct batch b;

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
		switch (f.type) {
		case MPS_F_DATA: {
			uint64_t dsn = f.u.data.dsn, end = dsn + f.u.data.len;

			if ((f.flags & MPS_DF_ACK) && handle_ack(c, f.u.data.ack, f.u.data.wnd))
				return;
			if (c->rcv_fin && (f.flags & MPS_DF_FIN))
				break; /* retransmitted end of stream */
			if (mps_dsn_lt(c->rcv_edge, end)) {
				if (batch_flush(c, &b) == 0)
					conn_abort(c, MPS_CR_PROTOCOL, 1,
						   "protocol: peer exceeded the receive window");
				return;
			}
			if (mps_dsn_lt(c->rcv_nxt, dsn)) {
				/* One subflow delivers in order: a gap is a lie. */
				if (batch_flush(c, &b) == 0)
					conn_abort(c, MPS_CR_PROTOCOL, 1,
						   "protocol: DATA beyond the next expected DSN");
				return;
			}
			if (mps_dsn_lt(c->rcv_nxt, end)) {
				uint64_t off = c->rcv_nxt - dsn;

				b.iov[b.n].iov_base = (void *)(f.u.data.payload + off);
				b.iov[b.n++].iov_len = (size_t)(end - c->rcv_nxt);
				c->rcv_nxt = end;
			}
			if (f.flags & MPS_DF_FIN) {
				c->rcv_nxt = end + 1; /* DATA_FIN takes one DSN */
				c->rcv_fin = 1;
				ev_timer_stop(c->loop, &c->fin_timer);
			}
			if (b.n == (int)MPS_ARRAY_SIZE(b.iov) && batch_flush(c, &b))
				return;
			break;
		}
		case MPS_F_ACK:
			if (handle_ack(c, f.u.ack.ack, f.u.ack.wnd))
				return;
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
	fin_to_app(c);
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
	if (c->dead)
		return;
	/* Keep a partial frame at the front for the next read. */
	if (sf->roff == sf->rlen)
		sf->roff = sf->rlen = 0;
	else if (sf->roff > 0 && RBUF_SIZE - sf->rlen < MPS_FRAME_MAX) {
		memmove(sf->rbuf, sf->rbuf + sf->roff, sf->rlen - sf->roff);
		sf->rlen -= sf->roff;
		sf->roff = 0;
	}
	tx_fill(c, sf);
	sf_flush(c, sf);
	app_update_read(c);
	conn_check_done(c);
}

/* The app can take more: drain rxq (MP) or resume the plain relay. */
static void app_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;

	if (c->rx_mode != RX_MP) {
		ev_io_stop(loop, w);
		c->rx_blocked = 0;
		rx_process(c, &c->sf);
		if (!c->dead && !c->rx_blocked && c->sf.fd >= 0)
			ev_io_start(loop, &c->sf.rio);
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
	sf_flush(c, &c->sf);
	conn_check_done(c);
}

static void fin_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	conn_abort(w->data, MPS_CR_TIMEOUT, 1, "peer did not finish after the app closed");
}

/* Every app descriptor is closed (or errored). */
static void conn_app_hup(struct mps_conn *c)
{
	c->app_closed = 1;
	mps_dbg("conn %s: app closed", c->peer_str);
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

/* ------------------------------------------------------------- negotiation */

static void client_fallback(struct mps_conn *c, const char *why);

static void go_mp(struct mps_conn *c, struct mps_subflow *sf)
{
	uint64_t idsn;

	c->remote_key = c->nego.remote_key;
	mps_crypto_key_derive(c->remote_key, NULL, &idsn);
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
		c->snd_start = c->snd_nxt = my_idsn + 1;
		mps_sendbuf_init(&c->sb, c->snd_start, mps_config()->sndbuf);
		c->snd_edge = c->snd_start + c->nego.remote_wnd;
		c->tx_mode = TX_MP;
	} else {
		if (mps_dsn_lt(c->snd_edge, c->snd_start + c->nego.remote_wnd))
			c->snd_edge = c->snd_start + c->nego.remote_wnd;
		mps_peercache_note((struct sockaddr *)&c->peer, MPS_PEER_SHIM, mps_now_us(), 0);
	}
	c->rx_mode = RX_MP;
	sf->roff = MPS_HELLO_LEN;
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
		if (c->tx_mode == TX_HOLD) {
			c->tx_mode = TX_PLAIN;
			mps_sendbuf_init(&c->sb, 0, mps_config()->sndbuf);
			c->snd_start = c->snd_nxt = 0;
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
		apply_verdict(c, &c->sf, mps_nego_timeout(&c->nego));
		return;
	}
	/* Server: the banner window is over.  Release only if the app has
	 * actually written; otherwise keep waiting for the client. */
	c->window_expired = 1;
	app_update_read(c);
}

/* ------------------------------------------------------------- subflow read */

static void sf_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_subflow *sf = w->data;
	struct mps_conn *c = sf->c;
	ssize_t r;

	if (sf->rlen == RBUF_SIZE) {
		/* Deliver (and compact) before reading more; if the app cannot
		 * take it, rx_blocked is set and app_on_write resumes us. */
		rx_process(c, sf);
		if (c->dead)
			return;
		if (sf->rlen == RBUF_SIZE) {
			ev_io_stop(loop, w);
			return;
		}
	}
	do
		r = read(sf->fd, sf->rbuf + sf->rlen, RBUF_SIZE - sf->rlen);
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
		/* MP with one subflow: its loss ends the connection (issue:
		 * failover keeps it alive once there are other paths). */
		if (c->rcv_fin) {
			/* The peer ended its stream and then its connection, as a
			 * TCP peer's close() does.  Fine if it has all we sent. */
			ev_io_stop(loop, w);
			if (c->fin_acked || c->sb.una == c->sb.end) {
				c->peer_gone = 1;
				conn_check_done(c);
				return;
			}
			mps_info("conn %s: peer closed with %llu bytes of ours undelivered",
				 c->peer_str, (unsigned long long)(c->sb.end - c->sb.una));
			conn_abort(c, 0, 0, NULL);
			return;
		}
		conn_abort(c, 0, 0,
			   err ? "subflow reset before the stream ended"
			       : "subflow closed before the stream ended");
		return;
	}
	sf->rlen += (size_t)r;
	if (c->rx_mode == RX_NEGO) {
		apply_verdict(c, sf, mps_nego_input(&c->nego, sf->rbuf, sf->rlen));
		return;
	}
	rx_process(c, sf);
}

/* ------------------------------------------------------------- connect */

static void client_established(struct mps_conn *c)
{
	struct mps_subflow *sf = &c->sf;
	struct mps_hello h = {
		.version = MPS_VERSION, .caps = MPS_CAP_NONE, .wnd = c->rcv_wnd_max};
	uint8_t fr[MPS_HELLO_LEN];

	/* Drop the filler that held back the app's writability, then give
	 * the app's end its full-size buffer. */
	while (c->filler > 0) {
		uint8_t junk[16384];
		ssize_t r = read(c->app_fd, junk, MPS_MIN(sizeof(junk), c->filler));

		if (r <= 0)
			break;
		c->filler -= (size_t)r;
	}
	if (c->app_dup >= 0) {
		mps_grow_pair_buffer(c->app_dup);
		close_internal(c->app_dup);
		c->app_dup = -1;
	}
	atomic_store(&c->sock->state, MPS_SS_CONNECTED);
	sf->rtt_us = tcp_rtt_us(sf->fd);
	if (c->tx_mode == TX_MP) {
		h.key = c->local_key;
		mps_frame_put_hello(fr, MPS_F_HELLO, &h);
		queue_ctl(sf, fr, sizeof(fr));
		ev_timer_set(&c->nego_timer, mps_nego_reply_timeout_us(sf->rtt_us) / 1e6, 0.);
		ev_timer_start(c->loop, &c->nego_timer);
	}
	ev_io_start(c->loop, &sf->rio);
	tx_fill(c, sf);
	sf_flush(c, sf);
	app_update_read(c);
}

static void conn_on_connected(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_conn *c = w->data;
	int err = 0;
	socklen_t len = sizeof(err);

	ev_io_stop(loop, w);
	if (mps_real.getsockopt(c->sf.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
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
	if (c->sock->opt_nodelay)
		mps_real.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->sock->opt_keepalive)
		mps_real.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (c->bound) {
		mps_real.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&c->bind_addr, c->bind_len) != 0) {
			int e = errno;

			close_internal(fd);
			return -e;
		}
	}
	return fd;
}

/* The peer is plain TCP: reconnect plainly and replay what the app sent. */
static void client_fallback(struct mps_conn *c, const char *why)
{
	struct mps_subflow *sf = &c->sf;
	int fd, rc;

	mps_info("conn %s: peer does not speak mptcpshim (%s): reconnecting as plain TCP",
		 c->peer_str, why);
	mps_peercache_note((struct sockaddr *)&c->peer, MPS_PEER_PLAIN, mps_now_us(),
			   (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
	ev_timer_stop(c->loop, &c->nego_timer);
	sf_reset(c, sf);
	sf->rlen = sf->roff = 0;
	sf->wr_shut = 0;
	c->rx_mode = RX_PLAIN;
	c->tx_mode = TX_PLAIN;
	c->snd_nxt = c->sb.una; /* nothing was ACKed: replay from the start */
	c->fin_sent = 0;
	fd = new_tcp_socket(c);
	if (fd < 0) {
		conn_abort(c, 0, 0, "plain reconnect: cannot create a socket");
		return;
	}
	sf_set_fd(c, sf, fd);
	ev_io_set(&sf->rio, fd, EV_READ);
	ev_io_set(&sf->wio, fd, EV_WRITE);
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
	struct mps_subflow *sf = &c->sf;

	c->loop = loop;
	if (!ev_cb(&g_reaper))
		ev_prepare_init(&g_reaper, reap);
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
	sf->rtt_us = tcp_rtt_us(sf->fd);
	ev_timer_set(&c->nego_timer, mps_nego_banner_window_us(sf->rtt_us) / 1e6, 0.);
	ev_timer_start(loop, &c->nego_timer);
	ev_io_start(loop, &sf->rio);
}

int mps_conn_start(const struct mps_conn_params *p)
{
	struct mps_conn *c = calloc(1, sizeof(*c));
	struct mps_sock *s = p->sock;
	uint64_t idsn;
	int rc;

	if (!c || !(c->sf.rbuf = malloc(RBUF_SIZE))) {
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
	c->sf.c = c;
	c->sf.fd = p->tcp_fd;
	c->rx_mode = RX_NEGO;
	if (p->role == MPS_CLIENT) {
		rc = new_hello_key(&c->local_key);
		if (rc) {
			free(c->sf.rbuf);
			free(c);
			return rc;
		}
		mps_crypto_key_derive(c->local_key, &c->local_token, &idsn);
		c->tx_mode = TX_MP;
		c->snd_start = c->snd_nxt = idsn + 1;
		mps_sendbuf_init(&c->sb, c->snd_start, mps_config()->sndbuf);
		/* First flight, before the server's window is known: the minimum
		 * window towards a known shim; nothing towards an unknown peer,
		 * which may be a plain server that would act on app bytes
		 * arriving behind our HELLO (and then again on the replay). */
		c->first_flight = p->peer_known_shim ? MPS_MIN_WND : FIRST_FLIGHT_UNKNOWN;
		c->snd_edge = c->snd_start + c->first_flight;
	} else {
		c->tx_mode = TX_HOLD;
		mps_sendbuf_init(&c->sb, 0, mps_config()->sndbuf);
	}
	mps_nego_init(&c->nego, p->role, c->local_key);
	c->rcv_wnd_max = (uint32_t)MPS_MIN(mps_config()->sndbuf, (size_t)UINT32_MAX);
	if (c->rcv_wnd_max < MPS_MIN_WND)
		c->rcv_wnd_max = MPS_MIN_WND;
	c->rcv_wnd_max = hello_wnd(c->rcv_wnd_max & ~0xffffu);
	mps_sendbuf_init(&c->rxq, 0, c->rcv_wnd_max);

	ev_io_init(&c->sf.rio, sf_on_read, c->sf.fd, EV_READ);
	c->sf.rio.data = &c->sf;
	ev_io_init(&c->sf.wio, sf_on_write, c->sf.fd, EV_WRITE);
	c->sf.wio.data = &c->sf;
	ev_io_init(&c->app_r, app_on_read, c->app_fd, EV_READ);
	c->app_r.data = c;
	ev_io_init(&c->app_w, app_on_write, c->app_fd, EV_WRITE);
	c->app_w.data = c;
	ev_io_init(&c->conn_w, conn_on_connected, c->sf.fd, EV_WRITE);
	c->conn_w.data = c;
	ev_init(&c->ack_timer, ack_on_timer);
	c->ack_timer.data = c;
	ev_init(&c->nego_timer, nego_on_timer);
	c->nego_timer.data = c;
	ev_init(&c->fin_timer, fin_on_timer);
	c->fin_timer.data = c;

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
		free(c->sf.rbuf);
		free(c);
		return rc;
	}
	return 0;
}

int mps_conn_with_subflow(struct mps_sock *s, int (*fn)(int fd, void *arg), void *arg)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = fn(s->conn ? s->conn->sf.fd : -1, arg);
	pthread_mutex_unlock(&s->lock);
	return rc;
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
	if (c->dead || c->sf.fd < 0 || c->sf.wr_dead)
		return 1;
	if (atomic_load(&c->sock->state) == MPS_SS_CONNECTING)
		return 1; /* nothing was sent: TCP would not wait either */
	if (!c->app_eof || c->snd_nxt != c->sb.end || !c->fin_sent || c->sf.nseg > 0)
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
