/* gwconn_int.h - a connection through the gateway (gwconn.c) (private to the engine). */
#ifndef MPS_GWCONN_INT_H
#define MPS_GWCONN_INT_H

#include "engine_types.h"

/* What the app's thread did for the first attempt (mps_gwconn_early). */
enum mps_gw_early {
	MPS_GW_EARLY_NONE = 0,   /* nothing: the shim thread connects and sends */
	MPS_GW_EARLY_CONNECTING, /* connected (SYN sent), HELLO + GWREQ not sent */
	MPS_GW_EARLY_SENT,       /* HELLO + GWREQ sent (in the SYN) */
	MPS_GW_EARLY_FAILED,     /* the connect failed or a part was sent: a new socket */
};

/* gwconn.c: a connection through the gateway (client and server). */
void mps_gwconn_attempt(struct mps_conn *c);
/* Client, on the app's thread in mps_conn_start, before the shim thread
 * has c: connect subflow sf (the app's socket) to the first gateway and
 * send HELLO + GWREQ at once (in the SYN, with the gateway's TFO cookie),
 * so that the request does not wait for the shim thread to wake up.
 * c->gw_early says what happened (enum mps_gw_early); mps_gwconn_attempt
 * and client_established go on from there. */
void mps_gwconn_early(struct mps_conn *c, struct mps_subflow *sf);
void mps_gwconn_failed(struct mps_conn *c, int err, const char *why);
void mps_gwconn_verdict(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v);
/* Client: the GWREPLY.  0, or 1 when c is gone. */
int mps_gwconn_client_reply(struct mps_conn *c, const uint8_t *msg, size_t len);
int mps_gwconn_queue_request(struct mps_conn *c, struct mps_subflow *sf);
void mps_gwconn_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
/* Server, spliced: the destination's socket failed with err (a reset):
 * its bytes read before go to the client, then the connection is reset. */
void mps_gwconn_dest_failed(struct mps_conn *c, int err);

#endif
