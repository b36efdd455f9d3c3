/* sfev.c - what a subflow's events mean for its connection.
 *
 * subflow.c reports what happens to a subflow (struct mps_sf_ops: its
 * connect ended, the kernel took more, bytes or EOF read, a plain segment
 * or a queue written, a join's bytes or deadline, a subflow freed); these
 * are the connection's handlers, registered by conn_begin (connect.c) with
 * mps_sf_set_ops.  They dispatch to the negotiation (mpcap.c), the joins
 * (path.c, join.c), the DSS sides (dss_rx.c, dss_tx.c) and the path
 * failures (resilience.c): this file sits above them all and nothing but
 * connect.c names it, so the modules below never call up (docs/DESIGN.md
 * section 1, "Layers").  Shim thread only. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "handover_int.h"
#include "conn_int.h"
#include "dss_rx_int.h"
#include "dss_tx_int.h"
#include "gwconn_int.h"
#include "idlemem_int.h"
#include "gwdirect_int.h"
#include "mptcpshim/stat.h"
#include "join_int.h"
#include "mpcap_int.h"
#include "resilience_int.h"
#include "sfev_int.h"
#include "steer_int.h"
#include "subflow_int.h"
#include "path_int.h"
#include "mptcpshim/log.h"
#include "mptcpshim/netmon.h"
#include "mptcpshim/real.h"

static void sf_ev_connected(struct mps_conn *c, struct mps_subflow *sf)
{
	mps_path_client_join_connected(c, sf);
}

static void sf_ev_writable(struct mps_conn *c, struct mps_subflow *sf)
{
	(void)sf;
	mps_conn_push(c);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	mps_conn_check_done(c);
}

static void sf_ev_readable(struct mps_conn *c, struct mps_subflow *sf)
{
	c->ack_sf = sf;
	if (c->rx_mode == RX_NEGO)
		mps_conn_apply_verdict(c, sf, mps_nego_input(&c->nego, sf->rbuf, sf->rlen));
	else if (sf->state == SF_JOIN_SENT)
		mps_path_client_join_ack(c, sf);
	else
		mps_conn_rx_process(c, sf);
}

static void sf_ev_eof(struct mps_conn *c, struct mps_subflow *sf, int err)
{
	if (c->rx_mode == RX_NEGO) {
		ev_io_stop(c->loop, &sf->rio);
		mps_conn_apply_verdict(c, sf, mps_nego_eof(&c->nego));
		if (!mps_conn_closed(c) && c->rx_mode == RX_PLAIN && c->role == MPS_SERVER) {
			mps_conn_rcv_fin_reached(c);
			mps_conn_check_done(c);
		}
		return;
	}
	if (c->rx_mode == RX_PLAIN) {
		ev_io_stop(c->loop, &sf->rio);
		if (err) {
			mps_info("conn %s: plain TCP connection failed: %s", c->peer_str,
			         strerror(err));
			mps_conn_abort(c, 0, 0, NULL);
			return;
		}
		if (!mps_conn_rcv_fin(c))
			mps_conn_rcv_fin_reached(c);
		mps_conn_check_done(c);
		return;
	}
	mps_resil_sf_mp_eof(c, sf, err);
}

static void sf_ev_plain_written(struct mps_conn *c, uint64_t end)
{
	mps_sendbuf_ack(&c->sb, end);
}

static void sf_ev_written(struct mps_conn *c, struct mps_subflow *sf)
{
	/* A frame that was partly written pinned the send buffer below it
	 * (mps_conn_release_acked); once written, free what the peer has ACKed. */
	if (c->tx_mode == TX_MP && mps_dsn_lt(c->sb.una, c->snd_una))
		mps_conn_release_acked(c);
	if (c->tx_mode == TX_PLAIN && mps_conn_fin_sent(c) && !sf->wr_shut && sf->fd >= 0 &&
	    sf->nseg == 0 && c->snd_nxt == c->sb.end) {
		mps_real.shutdown(sf->fd, SHUT_WR);
		sf->wr_shut = 1;
	}
	/* the DATA_FIN with the subflow's FIN (dss_tx.c fin_close) */
	if (c->fin_close && !sf->wr_shut && sf->fd >= 0 && sf->nseg == 0) {
		sf->more = 0;
		mps_real.shutdown(sf->fd, SHUT_WR);
		sf->wr_shut = 1;
		mps_stat(c, sf, MPS_MIB_CLOSED_FIN, 1);
	}
}

const struct mps_sf_ops mps_conn_sf_ops = {
        .connected = sf_ev_connected,
        .writable = sf_ev_writable,
        .readable = sf_ev_readable,
        .rx = mps_conn_rx_process,
        .eof = sf_ev_eof,
        .plain_written = sf_ev_plain_written,
        .written = sf_ev_written,
        .join_read = mps_join_on_read,
        .join_timeout = mps_path_sf_on_jtimer,
        .freed = mps_conn_reaper_arm,
};

static void conn_app_hup(struct mps_conn *c)
{
	if (!mps_gwdirect_app_hup(c))
		mps_dss_rx_app_hup(c);
}

static void conn_freeing(struct mps_conn *c)
{
	mps_resil_stale_leave(c);
	mps_gwdirect_freeing(c);
	if (c->inl_join_held) /* read again: "unknown token", closed */
		mps_ho_joins_resume(c->loop, c->local_token);
}

static void engine_atfork_child(void)
{
	mps_resil_atfork_child();
	mps_idlemem_atfork_child();
}

/* What the engine hears of a connection's life from conn.c (struct
 * mps_conn_hooks), registered with the subflow events. */
const struct mps_conn_hooks mps_conn_engine_hooks = {
        .freeing = conn_freeing,
        .atfork_child = engine_atfork_child,
        .app_hup = conn_app_hup,
        .update_read = mps_conn_app_update_read,
        .pushed = mps_resil_stale_arm,
        .watch = mps_resil_watchdog_arm,
        .gw_verdict = mps_gwconn_verdict,
        .gw_reply = mps_gwconn_client_reply,
        .gw_dest_failed = mps_gwconn_dest_failed,
};

/* The path manager's entries for the modules below it (struct
 * mps_pm_ops), registered with the subflow events. */
static const struct mps_netmon_ops g_path_events = {
        .addr_event = mps_conn_on_addr_event,
        .link_event = mps_conn_on_link_event,
};

const struct mps_pm_ops mps_conn_pm_ops = {
        .fill = mps_path_pm_fill,
        .join_closed = mps_path_pm_join_closed,
        .gate_bytes = mps_path_gate_bytes,
        .add_addr = mps_path_pm_on_add_addr,
        .remove_addr = mps_path_pm_on_remove_addr,
        .server_advertise = mps_path_server_advertise,
        .ifindex_of = mps_path_ifindex_of,
        .cfg = mps_steer_cfg,
        .path_events = &g_path_events,
        .server_addr_event = mps_path_server_addr_event,
};
