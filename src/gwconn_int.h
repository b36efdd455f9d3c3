/* gwconn_int.h - a connection through the gateway (gwconn.c) (private to the engine). */
#ifndef MPS_GWCONN_INT_H
#define MPS_GWCONN_INT_H

#include "engine_types.h"

/* gwconn.c: a connection through the gateway (client and server). */
void mps_gwconn_attempt(struct mps_conn *c);
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
