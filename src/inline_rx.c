/* inline_rx.c - an inline connection's receive side below inline.c
 * (docs/DESIGN.md section 7, "Inline connections"): delivery into the
 * app's buffer while it reads, what a look ahead left in rxq, and the
 * count FIONREAD answers.  Engine lock held. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_int.h"
#include "dss_ack_int.h"
#include "inline_int.h"
#include "subflow_int.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"
#include "mptcpshim/util.h"

/* dss_rx.c's app_write for an inline connection: into the app's buffer
 * while it reads, as far as it goes (the rest waits in rxq, and the read
 * then promotes).  Bytes taken; -EPIPE when the app has closed. */
ssize_t mps_inline_deliver(struct mps_conn *c, const struct iovec *iov, int n)
{
	size_t skip = c->inl_got, taken = 0;
	int i = 0, k;

	if (c->app_closed)
		return -EPIPE;
	if (!c->inl_dst)
		return 0;
	while (i < c->inl_ndst && skip >= c->inl_dst[i].iov_len)
		skip -= c->inl_dst[i++].iov_len;
	for (k = 0; k < n && i < c->inl_ndst; k++) {
		size_t off = 0;

		while (off < iov[k].iov_len && i < c->inl_ndst) {
			size_t m = MPS_MIN(iov[k].iov_len - off, c->inl_dst[i].iov_len - skip);

			memcpy((char *)c->inl_dst[i].iov_base + skip,
			       (const char *)iov[k].iov_base + off, m);
			off += m;
			skip += m;
			taken += m;
			if (skip == c->inl_dst[i].iov_len)
				i++, skip = 0;
		}
		if (off < iov[k].iov_len)
			break;
	}
	c->inl_got += taken;
	if (taken)
		mps_stat(c, NULL, MPS_MIB_BYTES_RECEIVED, (uint64_t)taken);
	return (ssize_t)taken;
}

size_t mps_inline_iov_len(const struct iovec *iov, int n)
{
	size_t t = 0;
	int i;

	for (i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Bytes a look ahead (mps_inline_ready) left in rxq, into the app's
 * buffer.  How many. */
size_t mps_inline_rxq_take(struct mps_conn *c, const struct iovec *dst, int n)
{
	size_t got = 0;
	int i;

	for (i = 0; i < n && c->rxq.una != c->rxq.end; i++) {
		size_t off = 0;

		while (off < dst[i].iov_len && c->rxq.una != c->rxq.end) {
			const uint8_t *p;
			size_t m = mps_sendbuf_peek(&c->rxq, c->rxq.una, dst[i].iov_len - off, &p);

			if (m == 0)
				break;
			memcpy((char *)dst[i].iov_base + off, p, m);
			mps_sendbuf_ack(&c->rxq, c->rxq.una + m);
			off += m;
			got += m;
		}
	}
	if (got) {
		mps_stat(c, NULL, MPS_MIB_BYTES_RECEIVED, (uint64_t)got);
		if (c->rxq.una == c->rxq.end && c->sock)
			atomic_store_explicit(&c->sock->inl_rxq, 0, memory_order_relaxed);
		if (c->rxq.una == c->rxq.end && mps_conn_rcv_fin(c))
			c->fin_delivered = 1;
		mps_dss_ack_update(c); /* the window opened */
	}
	return got;
}

/* FIONREAD on an inline socket: the app bytes a read would give now, what
 * rxq holds and the DATA frames waiting whole and in order in the socket
 * (peeked, nothing taken; at most FIONREAD_PEEK bytes looked at).  -1
 * when that cannot be told (bytes of a frame begun in the subflow's
 * buffer): the caller promotes. */
#define FIONREAD_PEEK 8192

int mps_inline_count_readable(struct mps_conn *c)
{
	struct mps_subflow *sf = c->sf[0];
	uint8_t b[FIONREAD_PEEK];
	uint64_t next = c->rcv_nxt;
	size_t n = (size_t)(c->rxq.end - c->rxq.una), off = 0;
	ssize_t r;

	if (sf->roff != sf->rlen)
		return -1;
	r = mps_real.recv(sf->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	while (r > 0 && off < (size_t)r) {
		struct mps_frame f;
		int fl = mps_frame_decode(b + off, (size_t)r - off, &f, NULL);

		if (fl <= 0)
			break;
		if (f.type == MPS_F_DATA && f.u.data.len) {
			if (f.u.data.dsn != next)
				break;
			n += f.u.data.len;
			next += f.u.data.len;
		}
		off += (size_t)fl;
	}
	return n > 0x7fffffff ? 0x7fffffff : (int)n;
}
