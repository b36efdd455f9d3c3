/* connopt.c - the socket-option surface of a connection: getsockopt,
 * setsockopt and TCP_INFO asked by the app on a shim descriptor.
 *
 * Locking rule: these run on APP threads, while the shim thread owns the
 * connection.  They reach it only through s->conn under s->lock (the shim
 * thread takes the same lock to add or drop a subflow and to clear
 * s->conn), and read the fields the shim thread writes unlocked (state,
 * modes, DSNs) with relaxed atomic loads: a statistics snapshot, never a
 * decision. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "engine_types.h"
#include "mptcpshim/conn.h" /* the socket-option surface it defines */
#include "subflow_int.h"
#include "mptcpshim/util.h"
#include "mptcpshim/real.h"

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
	static const int one = 1; /* the kernel reads one int of any len */
	const void *app_val = val;

	*err = 0;
	pthread_mutex_lock(&s->lock);
	if (!s->conn) {
		pthread_mutex_unlock(&s->lock);
		*err = ENOTCONN;
		return -1;
	}
	/* The app's TCP_NODELAY is remembered, and the kernel checks it,
	 * but the subflows keep theirs on (mps_sf_nodelay). */
	if (level == IPPROTO_TCP && name == TCP_NODELAY && val)
		val = &one;
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
		mps_sock_remember_opt(s, level, name, app_val, len);
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
	/* ended by the peer's close first: TCP's socket is in CLOSE_WAIT
	 * until the app shuts its side down */
	return mps_sock_close_wait(c->sock) ? MPS_TCP_CLOSE_WAIT : MPS_TCP_CLOSE;
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
	if (!found && c) {
		/* its subflows gone (the peer closed them first, as TCP's
		 * close): no counters, its state */
		best.tcpi_state = conn_tcp_state(c);
		found = 1;
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
