/* dss_tx_int.h - the DSS send side (dss_tx.c) (private to the engine). */
#ifndef MPS_DSS_TX_INT_H
#define MPS_DSS_TX_INT_H

#include "engine_types.h"

/* dss_tx.c: the DSS send side. */
void mps_conn_push(struct mps_conn *c);
void mps_conn_app_update_read(struct mps_conn *c);
void mps_conn_release_acked(struct mps_conn *c);
/* ack/wnd from the peer.  0, or -1 when c was aborted. */
int mps_dss_tx_handle_ack(struct mps_conn *c, uint64_t ack, uint32_t wnd);
/* The send buffer starts over at DSN start. */
void mps_dss_tx_sb_restart(struct mps_conn *c, uint64_t start);
void mps_dss_tx_app_on_read(struct ev_loop *loop, ev_io *w, int revents);
/* The app-thread send path (direct.c): app bytes taken into the send
 * buffer and pushed; the count taken (0: none may go this way now). */
size_t mps_dss_tx_app_write(struct mps_conn *c, const struct iovec *iov, int n);
void mps_dss_tx_fin_on_timer(struct ev_loop *loop, ev_timer *w, int revents);

#endif
