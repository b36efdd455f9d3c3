/* dss_ack_int.h - the data ACKs and window we send (dss_ack.c) (private to the engine). */
#ifndef MPS_DSS_ACK_INT_H
#define MPS_DSS_ACK_INT_H

#include "engine_types.h"

/* dss_ack.c: the data ACKs and the window we advertise (below dss_tx and
 * dss_rx: it calls neither). */
void mps_conn_send_ack(struct mps_conn *c);
/* The receive window we can advertise now. */
uint32_t mps_dss_ack_adv_wnd(const struct mps_conn *c);
/* Our ACK and window went out (in a frame): the timer stops. */
void mps_dss_ack_note_sent(struct mps_conn *c);
/* rcv_nxt moved or the window opened: ACK now, soon, or piggybacked. */
void mps_dss_ack_update(struct mps_conn *c);
/* An inline client's promotion: an ACK with MPS_AF_LOUD (frame.h), so the
 * server sends frames without data again; queued only, unless flush (the
 * caller's next frame takes it along in the same write). */
void mps_dss_ack_send_loud(struct mps_conn *c, int flush);
void mps_dss_ack_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
void mps_dss_ack_wnd_on_timer(struct ev_loop *loop, ev_timer *w, int revents);

#endif
