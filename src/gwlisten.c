/* gwlisten.c - the gateway listener served by the shim thread itself
 * (MPS_SO_GW_DIRECT, docs/DESIGN.md section 10 "Served by the library").
 *
 * The shim thread accepts on (its own copy of) the daemon's listener, in
 * its loop: --max-conns and the per-source pending limit (gateway.c), then
 * the connection engine starts on the accepted socket with no app end at
 * all (no socketpair: the destination's socket becomes the app end once
 * it answered, gwconn.c).  No daemon thread wakes, no descriptor crosses
 * threads: the connection's first bytes are read in the loop iteration
 * after its accept.  Shim thread only, but mps_gwlisten_start. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/fdhigh.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/gwlisten.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"

#define ACCEPT_BUDGET 64 /* per callback: the loop's other work goes on */
#define MAX_WATCHED 8

static struct {
	ev_io io;
	ev_timer pause;
	int fd;
} g_lis[MAX_WATCHED];
static int g_nlis;
static struct ev_loop *g_loop;

struct start_cmd {
	struct mps_cmd cmd;
	int fd;
};

/* Reset a connection we do not take (the daemon's way). */
static void refuse(int fd)
{
	struct linger l = {1, 0};

	mps_real.setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	mps_real.close(fd);
}

/* Start the engine on accepted socket fd: 0, or -errno (fd closed). */
static int adopt(int fd, const struct sockaddr_storage *peer, socklen_t plen)
{
	struct mps_conn_params p;
	struct mps_sock *s;
	int rc;

	fd = mps_ifd_take(fd, 1);
	s = mps_sock_new(peer->ss_family);
	if (!s) {
		mps_ifd_close(fd);
		return -ENOMEM;
	}
	memcpy(&s->peer, peer, plen);
	s->peer_len = plen;
	s->local_len = sizeof(s->local);
	mps_real.getsockname(fd, (struct sockaddr *)&s->local, &s->local_len);
	atomic_store(&s->state, MPS_SS_CONNECTED);
	atomic_store(&s->connect_told, 1);
	memset(&p, 0, sizeof(p));
	p.role = MPS_SERVER;
	p.tcp_fd = fd;
	p.shim_fd = -1; /* no app end until the destination answered */
	p.app_dup = -1;
	p.sock = s;
	p.gw = 1;
	rc = mps_conn_start(&p);
	mps_sock_put(s); /* the conn holds its own reference */
	if (rc) {
		mps_ifd_close(fd);
		return rc;
	}
	mps_gw_count_add(1); /* until the connection is freed (gwconn.c) */
	return 0;
}

static void on_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	int i = (int)(intptr_t)w->data;

	(void)revents;
	ev_io_start(loop, &g_lis[i].io);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	static int told;
	int i = (int)(intptr_t)w->data;

	(void)revents;
	for (int k = 0; k < ACCEPT_BUDGET; k++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd, rc;
		char a[64];

		fd = mps_real.accept4(w->fd, (struct sockaddr *)&peer, &plen,
		                      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the connection stays queued: try again in 100 ms
				 * rather than spin on a readable listener */
				if (!told++)
					mps_warn("gateway: accept: %s: pausing 100 ms (said once)",
					         strerror(errno));
				ev_io_stop(loop, w);
				ev_timer_set(&g_lis[i].pause, 0.1, 0.);
				ev_timer_start(loop, &g_lis[i].pause);
			}
			return;
		}
		if (mps_gw_direct_accept((struct sockaddr *)&peer)) {
			mps_stat_gw_limited(NULL);
			refuse(fd); /* logged */
			continue;
		}
		rc = adopt(fd, &peer, plen);
		if (rc) {
			mps_gw_direct_pending_drop((struct sockaddr *)&peer);
			mps_warn("gateway: accept from %s: dropped: %s",
			         mps_addr_str(&peer, a, sizeof(a)), strerror(-rc));
		}
	}
}

static void start_run(struct ev_loop *loop, void *arg)
{
	struct start_cmd *sc = arg;
	int i = g_nlis;

	if (i == MAX_WATCHED) {
		mps_ifd_close(sc->fd);
		free(sc);
		return;
	}
	g_loop = loop;
	g_lis[i].fd = sc->fd;
	ev_io_init(&g_lis[i].io, on_accept, sc->fd, EV_READ);
	g_lis[i].io.data = (void *)(intptr_t)i;
	ev_init(&g_lis[i].pause, on_pause);
	g_lis[i].pause.data = (void *)(intptr_t)i;
	ev_io_start(loop, &g_lis[i].io);
	g_nlis++;
	free(sc);
}

int mps_gwlisten_start(int lfd)
{
	struct start_cmd *sc;
	int fd, rc;

	fd = mps_fd_high_nonblock(lfd);
	if (fd < 0)
		return fd;
	mps_ifd_add(fd);
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		mps_ifd_close(fd);
		return -ENOMEM;
	}
	sc->cmd.fn = start_run;
	sc->cmd.arg = sc;
	sc->fd = fd;
	rc = mps_loop_submit(&sc->cmd);
	if (rc) {
		mps_ifd_close(fd);
		free(sc);
	}
	return rc;
}

void mps_gwlisten_exit(void)
{
	/* nobody runs the loop now (mps_loop_exit): no accept after the
	 * gateway's exit, and no copy of the listener left to a keeper */
	for (int i = 0; i < g_nlis; i++) {
		ev_io_stop(g_loop, &g_lis[i].io);
		ev_timer_stop(g_loop, &g_lis[i].pause);
		mps_ifd_close(g_lis[i].fd);
	}
	g_nlis = 0;
	mps_conn_gw_exit();
}
