/* dss_rx_int.h - the DSS receive side (dss_rx.c) (private to the engine). */
#ifndef MPS_DSS_RX_INT_H
#define MPS_DSS_RX_INT_H

#include "engine_types.h"

/* dss_rx.c: the DSS receive side. */
void mps_conn_rcv_fin_reached(struct mps_conn *c);
void mps_conn_rx_process(struct mps_conn *c, struct mps_subflow *sf);
void mps_dss_rx_app_on_write(struct ev_loop *loop, ev_io *w, int revents);
/* Every app descriptor is closed (or errored). */
void mps_dss_rx_app_hup(struct mps_conn *c);
/* An inline connection's app closed its number (inline.c). */
void mps_dss_rx_inline_hup(struct mps_conn *c);
/* An inline app read EOF: if the peer closed first as TCP does (its FIN
 * behind its DATA_FIN), the connection ends now (c may be freed). */
void mps_dss_rx_inline_eof(struct mps_conn *c);

#endif
