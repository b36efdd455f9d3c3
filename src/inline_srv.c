/* inline_srv.c - inline servers (issue 15; docs/DESIGN.md section 7,
 * "Inline connections", inline servers): an accepted connection kept on
 * the app's TCP socket before its client's first bytes are known.  The
 * app's first call looks (inline.c): a whole HELLO is taken and the
 * connection goes on inline, a plain client's connection is handed back
 * untouched.  App thread, engine lock held. */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>

#include "conn_int.h"
#include "inline_int.h"
#include "subflow_int.h"
#include "mptcpshim/config.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/log.h"
#include "mptcpshim/nego.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"

/* An inline server's client turned out plain (its first bytes, or its
 * end, came before any HELLO): the connection ends here, nothing taken
 * from the socket and nothing sent; the app's number is its TCP socket,
 * as the accept fast path leaves a plain client's. */
void mps_inline_hand_back(struct mps_conn *c, const char *why)
{
	mps_dbg("conn %s: a plain TCP client (%s), served on its own socket", c->peer_str, why);
	mps_stat_fallback(c, MPS_MIB_FB_PLAIN_CLIENT, why);
	mps_stat(c, NULL, MPS_MIB_HANDED_BACK, 1); /* as handback.c's, to the user */
	mps_peercache_note_host((struct sockaddr *)&c->peer, mps_now_us(),
	                        (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
	c->inl = 0;
	mps_fdtab_clear(c->inl_fd);
	if (c->nsf && c->sf[0]->fd >= 0) {
		/* our copy of the socket goes without a FIN (mps_sf_free would
		 * shut the app's connection down before its answer) */
		ev_io_stop(c->loop, &c->sf[0]->rio);
		ev_io_stop(c->loop, &c->sf[0]->wio);
		mps_ifd_close(c->sf[0]->fd);
		c->sf[0]->fd = -1;
	}
	mps_conn_handed_back(c);
}

/* An inline server's connection accepted before its client's first bytes
 * (inlinex.c): a look at them, taking nothing unless they are a whole
 * HELLO.  0 once multipath (read on), -EAGAIN for nothing whole yet,
 * -EPIPE for a plain client (*why: the caller hands it back), -EXDEV when
 * promoted (a malformed HELLO, for the shim thread to judge), or
 * -ECONNRESET (a HELLO refused: c ended). */
int mps_inline_server_nego(struct mps_conn *c, const char **why)
{
	uint8_t b[MPS_HELLO_MAX_LEN];
	struct mps_nego n;
	enum mps_nego_verdict v;
	ssize_t r;

	do
		r = mps_real.recv(c->sf[0]->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EAGAIN;
	if (r <= 0) {
		*why = r < 0 ? "its connection failed first" : "it closed first";
		return -EPIPE;
	}
	mps_nego_init(&n, MPS_SERVER);
	v = mps_nego_input(&n, b, (size_t)r);
	if (v == MPS_NV_WAIT) {
		/* a HELLO begun: the rest in time, or the shim thread judges
		 * (mpcap.c's timer promotes an inline connection) */
		if (!ev_is_active(&c->hello_timer)) {
			ev_timer_set(&c->hello_timer,
			             mps_nego_hello_timeout_us(c->sf[0]->rtt_us) / 1e6, 0.);
			ev_timer_start(c->loop, &c->hello_timer);
		}
		return -EAGAIN;
	}
	if (v == MPS_NV_ERROR || v == MPS_NV_ABORT) {
		/* a broken HELLO: the shim thread judges it, as at any
		 * server's (the app sees the reset, never its bytes) */
		if (mps_conn_promote(c, "a malformed HELLO"))
			mps_conn_abort(c, MPS_CR_PROTOCOL, 0, "negotiation: a malformed HELLO");
		return -EXDEV;
	}
	if (v != MPS_NV_MP) {
		*why = n.why ? n.why : "no HELLO";
		return -EPIPE;
	}
	ev_timer_stop(c->loop, &c->hello_timer);
	return mps_conn_inline_hello(c, b, (size_t)r) ? -ECONNRESET : 0;
}

/* A join for token's connection (handover_join.c asks at its JOIN and
 * JOIN_OK, shim thread): an inline server's is promoted now (the shim
 * thread will schedule over two subflows).  1 (the join waits) while an
 * app thread still waits on the TCP socket, the first subflow's: the
 * kernel would not wake it for bytes that come over the second, and the
 * client sends none there before our JOIN_ACK.  So a blocking or
 * poll/select server stays inline until a join actually comes, and the
 * join goes on once that wait is over (inline.c, mps_inline_wait_end). */
int mps_inline_join_held(uint32_t token)
{
	struct mps_conn *c = mps_token_find(token);

	if (!c || c->role != MPS_SERVER || mps_conn_closed(c))
		return 0;
	if (c->inl && mps_conn_promote(c, "a subflow joins") != 0)
		return 0; /* (no socketpair: attaching drops the join) */
	if (!c->inl_rx_defer)
		return 0;
	c->inl_join_held = 1;
	return 1;
}
