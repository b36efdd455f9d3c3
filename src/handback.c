/* handback.c - the engine's side of handing a plain connection's TCP
 * socket back to the app (handback.h, docs/DESIGN.md section 2,
 * "Hand-back").  mps_handback_run is called by an app thread; the rest
 * runs on the shim thread. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "conn_int.h"
#include "dss_tx_int.h"
#include "mptcpshim/handback.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"

struct hb_req {
	struct mps_cmd cmd;
	struct mps_sock *s;
	int fd;
	mps_handback_swap_fn swap;
	int rc;
	sem_t done;
};

static int unread(int fd)
{
	int n = 0;

	return mps_real.ioctl(fd, FIONREAD, &n) != 0 ? -1 : n;
}

/* Is everything the connection carried where the app's TCP socket will
 * find it?  Nothing held by us from the peer (the subflow's buffer
 * delivered, the relay not paused) and nothing of the app's unsent (our
 * end empty, the plain send buffer written).  Still relaying plainly,
 * in both directions, with no end seen yet. */
static int hb_quiet(const struct mps_conn *c, const struct mps_subflow *sf)
{
	return c->rx_mode == RX_PLAIN && c->tx_mode == TX_PLAIN &&
	       c->state == MPS_CONN_ESTABLISHED && !c->app_eof && !c->app_closed &&
	       !c->rx_blocked && !c->gw && c->nsf == 1 && c->nparked == 0 &&
	       sf->state == SF_ACTIVE && sf->fd >= 0 && sf->roff == sf->rlen && sf->nseg == 0 &&
	       c->snd_nxt == c->sb.end && !ev_is_active(&sf->wio) && !ev_is_active(&sf->rx_more) &&
	       !ev_is_active(&c->app_w);
}

static int hb_pause_conn(struct ev_loop *loop, struct mps_sock *s, struct mps_conn *c);
static void hb_unpause(struct ev_loop *loop, struct mps_sock *s, struct mps_conn *c);

static void hb_on_cmd(struct ev_loop *loop, void *arg)
{
	struct hb_req *r = arg;
	struct mps_conn *c;
	struct mps_subflow *sf;
	int tcp, rc;

	pthread_mutex_lock(&r->s->lock);
	c = r->s->conn;
	pthread_mutex_unlock(&r->s->lock);
	rc = -ENOTCONN;
	if (!c || mps_conn_closed(c) || atomic_load(&r->s->handback) != MPS_HB_OFFERED)
		goto out;
	sf = c->sf[0];
	rc = -EAGAIN;
	/* This thread runs the relay: while we look, nothing moves.  The
	 * app's end empty means the app read everything we relayed; our end
	 * empty, everything it wrote reached the TCP socket. */
	/* What the app has just written (its answer, before this read) goes
	 * to the TCP socket first, as the relay would do next. */
	if (unread(c->app_fd) > 0 && ev_is_active(&c->app_r)) {
		mps_dss_tx_app_on_read(loop, &c->app_r, EV_READ);
		if (mps_conn_closed(c))
			goto out;
	}
	if (!hb_quiet(c, sf) || unread(r->fd) != 0 || unread(c->app_fd) != 0) {
		/* Bytes for the app keep coming: the relay pauses for it to
		 * catch up.  Nothing for it: never paused (its next read would
		 * wait for the pause to end). */
		if (unread(r->fd) > 0)
			hb_pause_conn(loop, r->s, c);
		else
			hb_unpause(loop, r->s, c);
		goto out;
	}
	tcp = sf->fd;
	rc = r->swap(r->fd, tcp, r->s);
	if (rc)
		goto out; /* fd untouched: the relay goes on */
	/* The app's number is the TCP socket now; our copy goes, and the
	 * connection with it, without a byte or a FIN on the wire (conn.c). */
	ev_io_stop(loop, &sf->rio);
	ev_io_stop(loop, &c->app_r);
	mps_ifd_close(tcp);
	sf->fd = -1;
	mps_handback_cancel(r->s);
	mps_stat(c, NULL, MPS_MIB_HANDED_BACK, 1);
	mps_dbg("conn %s: plain TCP client: socket handed back to the app (fd %d)", c->peer_str,
	        r->fd);
	mps_conn_handed_back(c);
out:
	r->rc = rc;
	sem_post(&r->done);
}

/* ------------------------------------------------------------- pause
 * A relay that keeps the app's end full (the client streams right after
 * the app's answer) never lets the app find it empty: the app asks us to
 * stop reading the TCP socket for a while (mps_handback_pause), so that
 * it drains its end and swaps at its next read.  What the TCP socket
 * receives meanwhile waits in its receive queue for the app.  If the app
 * does not come back within HB_PAUSE_MAX (it reads through calls we do
 * not hook, or is busy), the relay resumes and the offer is dropped: a
 * pause stalls a connection once, at most that long after the app last
 * read from its end. */
#define HB_PAUSE_MAX 0.2
#define HB_PAUSED 64

static struct {
	struct mps_sock *s; /* referenced */
	double until;
	int outq; /* bytes the app had not read yet at the last tick */
} g_paused[HB_PAUSED];
static int g_npaused;
static ev_timer g_pause_timer;

struct hb_pause_req {
	struct mps_cmd cmd;
	struct mps_sock *s; /* referenced */
};

static struct mps_conn *hb_conn(struct mps_sock *s)
{
	struct mps_conn *c;

	pthread_mutex_lock(&s->lock);
	c = s->conn;
	pthread_mutex_unlock(&s->lock);
	return c && !mps_conn_closed(c) ? c : NULL;
}

static void hb_pause_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	double now = ev_now(loop);
	int i = 0;

	(void)revents;
	while (i < g_npaused) {
		struct mps_sock *s = g_paused[i].s;
		struct mps_conn *c;

		c = hb_conn(s);
		if (c && g_paused[i].until > now) {
			i++;
			continue;
		}
		if (c && atomic_load(&s->handback) == MPS_HB_OFFERED) {
			/* still draining (a large pair buffer on a loaded host):
			 * more time, as long as it goes down */
			int q = 0;

			if (mps_real.ioctl(c->app_fd, SIOCOUTQ, &q) == 0 && q > 0 && q < g_paused[i].outq) {
				g_paused[i].outq = q;
				g_paused[i].until = now + HB_PAUSE_MAX;
				i++;
				continue;
			}
		}
		if (c && c->nsf == 1 && c->sf[0]->fd >= 0 && !c->rx_blocked &&
		    !ev_is_active(&c->sf[0]->rio)) {
			mps_handback_cancel(s);
			mps_dbg("conn %s: the app did not drain its end: relaying on", c->peer_str);
			ev_io_start(loop, &c->sf[0]->rio);
		}
		atomic_store(&s->hb_listed, 0);
		atomic_fetch_sub(&s->hb_refs, 1);
		mps_sock_put(s);
		g_paused[i] = g_paused[--g_npaused];
	}
	if (!g_npaused)
		ev_timer_stop(loop, w);
}

/* Stop reading c's TCP socket (s is c's sock) for the app to drain its
 * end; 1 if paused. */
static int hb_pause_conn(struct ev_loop *loop, struct mps_sock *s, struct mps_conn *c)
{
	if (!c || g_npaused >= HB_PAUSED || atomic_load(&s->handback) != MPS_HB_OFFERED ||
	    atomic_load(&s->hb_listed) || c->rx_mode != RX_PLAIN || c->nsf != 1 ||
	    c->sf[0]->fd < 0 || (!c->rx_blocked && !ev_is_active(&c->sf[0]->rio)))
		return 0;
	/* (blocked on a full end: the rest of our buffer goes to the app as
	 * it reads, and the relay does not read on, dss_rx.c) */
	ev_io_stop(loop, &c->sf[0]->rio);
	atomic_fetch_add(&s->hb_refs, 1);
	mps_sock_get(s);
	atomic_store(&s->hb_listed, 1);
	g_paused[g_npaused].s = s;
	g_paused[g_npaused].outq = INT32_MAX;
	g_paused[g_npaused++].until = ev_now(loop) + HB_PAUSE_MAX;
	if (!ev_cb(&g_pause_timer))
		ev_timer_init(&g_pause_timer, hb_pause_tick, HB_PAUSE_MAX / 4, HB_PAUSE_MAX / 4);
	if (!ev_is_active(&g_pause_timer))
		ev_timer_start(loop, &g_pause_timer);
	return 1;
}

/* The relay of c reads its TCP socket again (a pause that would make the
 * app's next read wait). */
static void hb_unpause(struct ev_loop *loop, struct mps_sock *s, struct mps_conn *c)
{
	int i;

	for (i = 0; i < g_npaused; i++)
		if (g_paused[i].s == s)
			break;
	if (i == g_npaused)
		return;
	if (c->nsf == 1 && c->sf[0]->fd >= 0 && !c->rx_blocked && !ev_is_active(&c->sf[0]->rio))
		ev_io_start(loop, &c->sf[0]->rio);
	atomic_store(&s->hb_listed, 0);
	atomic_fetch_sub(&s->hb_refs, 1);
	mps_sock_put(s);
	g_paused[i] = g_paused[--g_npaused];
}

static void hb_on_pause(struct ev_loop *loop, void *arg)
{
	struct hb_pause_req *r = arg;

	hb_pause_conn(loop, r->s, hb_conn(r->s));
	atomic_fetch_sub(&r->s->hb_refs, 1);
	mps_sock_put(r->s);
	free(r);
}

static void hb_atfork_child(void)
{
	g_npaused = 0; /* the parent's (their references are the parent's too) */
	memset(&g_pause_timer, 0, sizeof(g_pause_timer));
}

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static void hb_atfork_register(void)
{
	pthread_atfork(NULL, NULL, hb_atfork_child);
}

int mps_handback_pause(struct mps_sock *s)
{
	struct hb_pause_req *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	pthread_once(&g_atfork_once, hb_atfork_register);
	atomic_fetch_add(&s->hb_refs, 1);
	mps_sock_get(s);
	r->s = s;
	r->cmd.fn = hb_on_pause;
	r->cmd.arg = r;
	rc = mps_loop_submit(&r->cmd);
	if (rc) {
		atomic_fetch_sub(&s->hb_refs, 1);
		mps_sock_put(s);
		free(r);
	}
	return rc;
}

int mps_handback_run(struct mps_sock *s, int fd, mps_handback_swap_fn swap)
{
	struct hb_req r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.s = s;
	r.fd = fd;
	r.swap = swap;
	r.cmd.fn = hb_on_cmd;
	r.cmd.arg = &r;
	if (sem_init(&r.done, 0, 0) != 0)
		return -errno;
	rc = mps_loop_submit(&r.cmd);
	if (rc == 0) {
		while (sem_wait(&r.done) != 0 && errno == EINTR)
			;
		rc = r.rc;
	}
	sem_destroy(&r.done);
	if (rc && rc != -EAGAIN)
		mps_handback_cancel(s);
	return rc;
}
