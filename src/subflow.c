/* subflow.c - a connection's subflows: their life and their I/O (shim
 * thread only).
 *
 * Allocation and freeing (the memory goes with conn.c's reaper), membership
 * of a connection's subflow array, the "usable" tests that the scheduler,
 * the path manager and the loss handling share, parking of subflows dropped
 * for a local reason, the per-subflow segment queue and its writer
 * (mps_sf_flush), and the read/write watchers.  Everything here works on one
 * subflow at a time and reports what happens (connected, writable,
 * readable, EOF or error, written) through struct mps_sf_ops, whose
 * handlers (conn.c's) decide what the connection does about it: this file
 * never calls up into the engine by name.  Functions used by the engine
 * are declared in conn_int.h. */
#include "config.h"

#include <errno.h>
#include <linux/tcp.h> /* the kernel's tcp_info */
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h> /* madvise */
#include <sys/socket.h>
#include <sys/uio.h>

#include "engine_types.h"
#include "rxwatch_int.h"
#include "subflow_int.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

static void sf_on_read(struct ev_loop *loop, ev_io *w, int revents);
static void sf_on_rx_more(struct ev_loop *loop, ev_timer *w, int revents);
static void sf_on_write(struct ev_loop *loop, ev_io *w, int revents);
static void sf_on_jtimer(struct ev_loop *loop, ev_timer *w, int revents);

/* ------------------------------------------------------------- events */

/* Where this file reports what happens to a subflow: the connection
 * engine's handlers, registered once it runs (mps_sf_set_ops).  Nothing
 * here calls up into the engine by name. */
static const struct mps_sf_ops *g_sf_ops;

struct mps_subflow *mps_sf_zombies; /* freed subflows, for conn.c's reaper */

void mps_sf_set_ops(const struct mps_sf_ops *ops)
{
	g_sf_ops = ops;
}

/* A join handshake's deadline. */
static void sf_on_jtimer(struct ev_loop *loop, ev_timer *w, int revents)
{
	g_sf_ops->join_timeout(loop, w, revents);
}

/* ------------------------------------------------------------- subflows */

const char *mps_sf_state_name(enum mps_sf_state s)
{
	static const char *const names[] = {"CONNECTING", "NEGO",   "JOIN_SENT", "JOIN_WAIT",
	                                    "JOIN_ACKED", "ACTIVE", "DEAD"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Every change of a subflow's state goes through here (debug log: the
 * connection, the subflow, from and to). */
void mps_sf_set_state(struct mps_subflow *sf, enum mps_sf_state s)
{
	if (sf->state == s)
		return;
	mps_dbg("conn %s: subflow %d %s -> %s", sf->c ? sf->c->peer_str : "-", sf->id,
	        mps_sf_state_name(sf->state), mps_sf_state_name(s));
	sf->state = s;
}

/* Every subflow sends at once (TCP_NODELAY), whatever the app asked: the
 * shim's own frames (HELLO, HELLO_ACK, DATA_ACK, DATA_FIN) are small
 * segments the app never wrote, and with Nagle's algorithm the app's next
 * bytes waited behind them for the peer's delayed ACK (40 ms: issue 15,
 * p90 of a short shim <-> shim request 28 ms against 5 ms).  The relay
 * already batches what the app wrote: one send per pass.  The app's own
 * TCP_NODELAY is remembered and read back (connopt.c, sockopt.c) and
 * given to its TCP socket at a hand-back. */
void mps_sf_nodelay(int fd)
{
	int one = 1;

	if (fd >= 0)
		mps_real.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A receive buffer, mapped on its own: the kernel maps its pages on
 * demand (a subflow that carries little touches one or two) and all of
 * them can be given back while the subflow is quiet
 * (mps_sf_idle_release).  Not malloc: a 256 KiB block comes with malloc's
 * header in the page before it, one page resident per subflow for its
 * whole life (issue 15: 3.5 MB for 1,000 quiet subflows).  Neighbouring
 * buffers share one kernel mapping (VMA).  NULL when out of memory. */
/* A few freed receive buffers are kept for the next subflows (issue 15):
 * a munmap in a process with several threads costs every core that runs
 * one of them a TLB shoot-down (an interrupt; in a VM an exit), and a
 * process making short connections paid it for each one, plus the page
 * faults of the new mapping.  Lock-free slots (a fork copies them as
 * they are).  As many as the lazy reaper frees at once (conn.c: up to 64
 * connections ended off the loop; with 8 slots, 56 of 64 went back to
 * the kernel and the next 56 subflows mapped anew, 5 % of a short
 * connection's client CPU).  Only a buffer that received at most
 * RBUF_POOL_TOUCHED bytes in its life is kept, so the pool's resident
 * pages stay under 64 x 36 KiB; any other goes back at once. */
#define RBUF_POOL 64
#define RBUF_POOL_TOUCHED (32u * 1024u)
static _Atomic(uint8_t *) g_rbuf_pool[RBUF_POOL];

uint8_t *mps_sf_rbuf_alloc(void)
{
	void *p;
	int i;

	for (i = 0; i < RBUF_POOL; i++)
		if (atomic_load_explicit(&g_rbuf_pool[i], memory_order_relaxed) &&
		    (p = atomic_exchange(&g_rbuf_pool[i], NULL)) != NULL)
			return p;
	p = mmap(NULL, RBUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void mps_sf_rbuf_free(uint8_t *rbuf, uint64_t received)
{
	int i;

	if (!rbuf)
		return;
	for (i = 0; received <= RBUF_POOL_TOUCHED && i < RBUF_POOL; i++) {
		uint8_t *none = NULL;

		if (!atomic_load_explicit(&g_rbuf_pool[i], memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&g_rbuf_pool[i], &none, rbuf))
			return;
	}
	munmap(rbuf, RBUF_SIZE);
}

/* A subflow's memory, once off every list (the reaper's zombies, or one
 * that was never attached). */
void mps_sf_destroy(struct mps_subflow *sf)
{
	mps_sf_rbuf_free(sf->rbuf, sf->rx_bytes);
	free(sf->seg);
	mps_ranges_free(&sf->sent);
	free(sf);
}

/* Issue 15: what a quiet subflow holds and does not need goes back: the
 * receive buffer's pages (when it holds no unread byte), the segment
 * table (when nothing is queued, and the handshake is over: from then on
 * a frame that finds no memory for it waits or is dropped as on a full
 * table), the sent ranges' heap slots.  Nothing changes for the data
 * path: the next frame queued allocates the table again, the next read
 * maps pages again.  Returns the bytes given back. */
size_t mps_sf_idle_release(struct mps_subflow *sf)
{
	size_t freed = 0;

	/* everything read was consumed (a join's last frame leaves roff ==
	 * rlen > 0 until the next read): start over at the front, as
	 * mps_conn_rx_process does */
	if (sf->rbuf && sf->roff == sf->rlen && !ev_is_active(&sf->rx_more)) {
		sf->roff = sf->rlen = 0;
		if (madvise(sf->rbuf, RBUF_SIZE, MADV_DONTNEED) == 0)
			freed += RBUF_SIZE;
	}
	if (sf->seg && sf->nseg == 0 && sf->state == SF_ACTIVE) {
		free(sf->seg);
		sf->seg = NULL;
		freed += MAX_SEGS * sizeof(struct mps_seg);
	}
	if (mps_ranges_shrink(&sf->sent))
		freed += MPS_RANGES_MAX * sizeof(struct mps_range);
	return freed;
}

struct mps_subflow *mps_sf_alloc(struct ev_loop *loop, int fd, enum mps_sf_state state)
{
	struct mps_subflow *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return NULL;
	sf->rbuf = mps_sf_rbuf_alloc();
	if (!sf->rbuf) {
		free(sf);
		return NULL;
	}
	sf->fd = fd;
	sf->state = state;
	mps_sf_nodelay(fd);
	ev_io_init(&sf->rio, sf_on_read, fd, EV_READ);
	sf->rio.data = sf;
	ev_io_init(&sf->wio, sf_on_write, fd, EV_WRITE);
	sf->wio.data = sf;
	ev_init(&sf->jtimer, sf_on_jtimer);
	sf->jtimer.data = sf;
	ev_init(&sf->rx_more, sf_on_rx_more);
	sf->rx_more.data = sf;
	return sf;
}

/* Close the subflow's socket (reset: RST; else a FIN after what is queued
 * in the kernel) and free it after this loop iteration. */
void mps_sf_free(struct ev_loop *loop, struct mps_subflow *sf, int reset)
{
	mps_rxwatch_del(sf);
	ev_io_stop(loop, &sf->rio);
	ev_io_stop(loop, &sf->wio);
	ev_timer_stop(loop, &sf->jtimer);
	ev_timer_stop(loop, &sf->rx_more);
	if (sf->fd >= 0) {
		if (reset) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};

			mps_real.setsockopt(sf->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		} else if (!sf->wr_shut) /* (the FIN may be out: sfev.c) */
			mps_real.shutdown(sf->fd, SHUT_WR);
		mps_ifd_close(sf->fd);
		sf->fd = -1;
	}
	mps_sf_set_state(sf, SF_DEAD);
	sf->jnext = mps_sf_zombies;
	mps_sf_zombies = sf;
	g_sf_ops->freed(loop);
}

#define SF_PROBE_DRAIN_MAX (256u * 1024u)

/* Close the first subflow to a server found plain as a polite TCP client
 * closes: read what the server sent (a banner, an error line), so that
 * close() is not turned into a reset by unread data, then a FIN.  A plain
 * peer that crashes on ECONNRESET must not see one from us where a TCP
 * client would not send it.  Only if more than SF_PROBE_DRAIN_MAX is
 * waiting does the close reset, as TCP's would. */
void mps_sf_close_probe(struct ev_loop *loop, struct mps_subflow *sf)
{
	uint8_t buf[4096];
	size_t left = SF_PROBE_DRAIN_MAX;

	while (sf->fd >= 0 && left > 0) {
		ssize_t r = mps_real.recv(sf->fd, buf, MPS_MIN(sizeof(buf), left), MSG_DONTWAIT);

		if (r <= 0)
			break;
		left -= (size_t)r;
	}
	mps_sf_free(loop, sf, 0);
}

/* The kernel's smoothed RTT of a TCP socket, microseconds (0: unknown). */
uint32_t mps_sf_tcp_rtt_us(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (mps_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_rtt;
}

/* May carry data: joined, or the first subflow (whose first flight goes
 * out while the negotiation runs). */
int mps_sf_usable(const struct mps_subflow *sf)
{
	return (sf->state == SF_ACTIVE || sf->state == SF_NEGO) && !sf->wr_dead && sf->fd >= 0 &&
	       !sf->stale;
}

int mps_sf_n_usable(const struct mps_conn *c)
{
	int i, n = 0;

	for (i = 0; i < c->nsf; i++)
		n += mps_sf_usable(c->sf[i]);
	return n;
}

struct mps_subflow *mps_sf_best_usable(const struct mps_conn *c)
{
	struct mps_subflow *best = NULL;
	int i;

	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		if (!mps_sf_usable(sf))
			continue;
		if (!best || (sf->backup < best->backup) ||
		    (sf->backup == best->backup && sf->rtt_us && sf->rtt_us < best->rtt_us))
			best = sf;
	}
	return best;
}

/* A new subflow for fd, attached to c.  On failure fd is closed and NULL
 * returned. */
struct mps_subflow *mps_sf_attach_new(struct mps_conn *c, int fd, enum mps_sf_state state)
{
	struct mps_subflow *sf = mps_sf_alloc(c->loop, fd, state);

	if (sf && mps_sf_conn_add(c, sf) == 0)
		return sf;
	if (sf) {
		sf->fd = -1;
		mps_sf_destroy(sf);
	}
	mps_ifd_close(fd);
	return NULL;
}

/* Subflow membership and fds change under the sock lock: app threads
 * forwarding socket options walk the same array. */
int mps_sf_conn_add(struct mps_conn *c, struct mps_subflow *sf)
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

void mps_sf_conn_del(struct mps_conn *c, struct mps_subflow *sf)
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
void mps_sf_unpark_all(struct mps_conn *c)
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
		if (mps_sf_usable(c->sf[i]) && c->sf[i]->peer_live)
			return 1;
	return 0;
}

#define PARK_CHECK 0.5 /* seconds between looks at the parked sockets */

void mps_sf_park_on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c = w->data;

	if (peer_counts_another(c)) {
		mps_sf_unpark_all(c);
		ev_timer_stop(loop, w);
	}
}

/* sf goes away for a local reason (its address or link gone, its remote
 * address withdrawn) but its TCP connection may still be alive: keep its
 * socket open and silent until the peer surely counts another subflow
 * (or the connection ends), so that a live shim never resets what may be
 * the peer's last subflow.  Returns 1 if parked. */
int mps_sf_park(struct mps_conn *c, struct mps_subflow *sf)
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
void mps_sf_apply_opts(struct mps_conn *c, int fd)
{
	int i;

	pthread_mutex_lock(&c->sock->lock);
	for (i = 0; i < c->sock->nopts; i++) {
		const struct mps_opt *o = &c->sock->opts[i];

		if (o->level == IPPROTO_TCP && o->name == TCP_NODELAY)
			continue; /* the app's, not the subflow's (mps_sf_nodelay) */
		mps_real.setsockopt(fd, o->level, o->name, o->val, o->len);
	}
	pthread_mutex_unlock(&c->sock->lock);
}

/* With several subflows the kernel keeps only a little unsent data per
 * subflow, so our scheduler decides where bytes go. */
void mps_sf_update_lowat(struct mps_conn *c)
{
	int i, multi = mps_sf_n_usable(c) > 1;

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

void mps_sf_log_stats(struct mps_conn *c, struct mps_subflow *sf)
{
	char l[64], r[64];

	mps_info("conn %s: subflow %d %s -> %s: sent %llu B, received %llu B, stale %u times",
	         c->peer_str, sf->id, mps_addr_str(&sf->local, l, sizeof(l)),
	         mps_addr_str(&sf->remote, r, sizeof(r)), (unsigned long long)sf->tx_bytes,
	         (unsigned long long)sf->rx_bytes, sf->n_stale);
}

/* ------------------------------------------------------------- segment queue */

/* The segment table, if it is not there yet (a connection's first
 * subflow takes it as it starts, conn_begin: its HELLO or HELLO_ACK must
 * not find it missing).  0 or -ENOMEM. */
int mps_sf_seg_prepare(struct mps_subflow *sf)
{
	if (!sf->seg && !(sf->seg = malloc(MAX_SEGS * sizeof(*sf->seg))))
		return -ENOMEM;
	return 0;
}

struct mps_seg *mps_sf_seg_add(struct mps_subflow *sf)
{
	struct mps_seg *s;

	if (sf->nseg == MAX_SEGS)
		return NULL;
	if (mps_sf_seg_prepare(sf) != 0)
		return NULL; /* as when full: the frame waits, or is not sent (a control frame) */
	s = &sf->seg[sf->nseg++];
	memset(s, 0, sizeof(*s));
	return s;
}

/* Queue a control frame.  0, or -1 when the queue is full.  A frame longer than a segment's hdr (a HELLO with resumption fields,
 * frame.h MPS_HELLO_MAX_LEN) takes two segments: written back to back,
 * the bytes on the wire are the same, and no segment grows for it. */
int mps_sf_queue_ctl(struct mps_subflow *sf, const uint8_t *fr, size_t len)
{
	for (size_t off = 0; off < len;) {
		struct mps_seg *s = mps_sf_seg_add(sf);
		size_t n = len - off < sizeof(s->hdr) ? len - off : sizeof(s->hdr);

		if (!s)
			return -1;
		memcpy(s->hdr, fr + off, n);
		s->hlen = (uint8_t)n;
		s->is_ack = off == 0 && fr[0] == MPS_F_ACK;
		s->ctl = 1;
		sf->queued += n;
		off += n;
	}
	return 0;
}

/* ------------------------------------------------------------- subflow write */

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
	if (c->inl) {
		c->inl_err = err; /* the app's thread reads it, inline.c */
		return;
	}
	if (!c->rx_blocked && sf->fd >= 0) {
		ev_io_start(c->loop, &sf->rio);
		ev_feed_event(c->loop, &sf->rio, EV_READ);
	}
}

/* Write queued segments.  0, or -1 when the subflow failed (handled). */
/* A QUIET peer's subflow (frame.h): anything to write with app data? */
static int has_data(const struct mps_subflow *sf)
{
	int i;

	for (i = 0; i < sf->nseg; i++)
		if (!sf->seg[i].ctl)
			return 1;
	return 0;
}

int mps_sf_flush(struct mps_conn *c, struct mps_subflow *sf)
{
	/* our FIN went with the DATA_FIN (MPS_CAP_FINCLOSE): the peer
	 * expects nothing more here (a data ACK, a resend) */
	if (sf->wr_shut && c->tx_mode == TX_MP && sf->nseg > 0) {
		sf->nseg = 0;
		sf->queued = 0;
		sf->seg_done = 0;
		return 0;
	}
	/* frames without data wait for some (an inline client's) */
	if (sf->quiet && !has_data(sf))
		return 0;

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
		w = mps_real.sendmsg(sf->fd, &mh,
		                     MSG_NOSIGNAL | MSG_DONTWAIT | (sf->more ? MSG_MORE : 0));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			/* EINPROGRESS: a Fast Open connect still in its handshake */
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINPROGRESS) {
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
				g_sf_ops->plain_written(c, s->dsn + s->plen);
		}
		if (i > 0) {
			memmove(sf->seg, sf->seg + i,
			        (size_t)(sf->nseg - i) * sizeof(struct mps_seg));
			sf->nseg -= i;
		}
	}
	g_sf_ops->written(c, sf);
	return 0;
}

void mps_sf_input(struct mps_conn *c, struct mps_subflow *sf)
{
	g_sf_ops->readable(c, sf);
}

static void (*g_inline_read)(struct mps_conn *c, struct mps_subflow *sf);

void mps_sf_set_inline_read(void (*fn)(struct mps_conn *c, struct mps_subflow *sf))
{
	g_inline_read = fn;
}

void mps_sf_input_eof(struct mps_conn *c, struct mps_subflow *sf, int err)
{
	g_sf_ops->eof(c, sf, err);
}

static void sf_on_write(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_subflow *sf = w->data;
	struct mps_conn *c = sf->c;

	ev_io_stop(loop, w);
	if (!c || mps_conn_closed(c))
		return;
	if (sf->state == SF_CONNECTING) {
		g_sf_ops->connected(c, sf);
		return;
	}
	sf->ready = 1;
	mps_sf_flush(c, sf);
	g_sf_ops->writable(c, sf);
}

/* ------------------------------------------------------------- subflow read */

/* The frames a callback left undecoded (RX_FRAME_BUDGET): one more budget,
 * after the other ready descriptors had their turn. */
static void sf_on_rx_more(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_subflow *sf = w->data;
	struct mps_conn *c = sf->c;

	(void)loop;
	(void)revents;
	if (!c || mps_conn_closed(c) || sf->state == SF_DEAD || c->rx_mode != RX_MP)
		return;
	g_sf_ops->rx(c, sf);
}

static void sf_on_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct mps_subflow *sf = w->data;
	struct mps_conn *c = sf->c;
	ssize_t r;

	if (!c) {
		g_sf_ops->join_read(loop, sf);
		return;
	}
	if ((c->inl || c->inl_rx_defer) && sf->id == 1 && g_inline_read) {
		g_inline_read(c, sf); /* the app's (the first subflow's socket) */
		return;
	}
	/* Frames left by the receive budget come first (rx_more decodes
	 * them next iteration): an EOF read now would overtake them. */
	if (ev_is_active(&sf->rx_more))
		return;
	if (sf->rlen == RBUF_SIZE) {
		/* Deliver (and compact) before reading more; if the app cannot
		 * take it (plain relay), rx_blocked is set and app_on_write
		 * resumes us. */
		g_sf_ops->rx(c, sf);
		if (mps_conn_closed(c) || sf->state == SF_DEAD)
			return;
		if (sf->rlen == RBUF_SIZE) {
			ev_io_stop(loop, w);
			return;
		}
	}
	/* MSG_DONTWAIT: an inline connection's socket keeps the app's
	 * O_NONBLOCK (a blocking app's, after its close: dss_rx.c), and a
	 * read that slept here would hold the engine lock */
	do
		r = mps_real.recv(sf->fd, sf->rbuf + sf->rlen, RBUF_SIZE - sf->rlen, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r <= 0) {
		g_sf_ops->eof(c, sf, r < 0 ? errno : 0);
		return;
	}
	sf->rlen += (size_t)r;
	sf->rx_bytes += (uint64_t)r;
	g_sf_ops->readable(c, sf);
}
