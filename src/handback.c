/* handback.c - the engine's side of handing a plain connection's TCP
 * socket back to the app (handback.h, docs/DESIGN.md section 2,
 * "Hand-back").  mps_handback_run is called by an app thread; the rest
 * runs on the shim thread. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <sys/ioctl.h>

#include "conn_int.h"
#include "mptcpshim/handback.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"

atomic_ulong mps_handback_count;

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

	return ioctl(fd, FIONREAD, &n) != 0 ? -1 : n;
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
	if (!hb_quiet(c, sf) || unread(r->fd) != 0 || unread(c->app_fd) != 0)
		goto out;
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
	atomic_fetch_add(&mps_handback_count, 1);
	mps_dbg("conn %s: plain TCP client: socket handed back to the app (fd %d)", c->peer_str,
	        r->fd);
	mps_conn_handed_back(c);
out:
	r->rc = rc;
	sem_post(&r->done);
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
