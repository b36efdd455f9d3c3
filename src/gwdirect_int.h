/* gwdirect_int.h - a gateway connection served by the library (gwdirect.c)
 * (private to the engine). */
#ifndef MPS_GWDIRECT_INT_H
#define MPS_GWDIRECT_INT_H

#include "engine_types.h"

/* Queue a frame outside the stream (the client's GWREQ, the GWREPLY) on sf;
 * c holds it until it is written.  0 or -1. */
int mps_gwdirect_queue_frame(struct mps_conn *c, struct mps_subflow *sf, const uint8_t *fr,
                             size_t len);
/* Queue the GWREPLY (result, and CONFIRM) on the first usable subflow
 * (*sfp): 0 or -EIO. */
int mps_gwdirect_queue_reply(struct mps_conn *c, uint8_t result, struct mps_subflow **sfp);
/* The destination's connected socket d (internal, non-blocking) becomes
 * c's app end. */
void mps_gwdirect_take_dest(struct mps_conn *c, int d);
/* The request verified (MPS_SO_GW_DIRECT): MPS_GWR_OK (connecting, or
 * resolving), or the refusal to reply once the HELLO_ACK is queued. */
uint8_t mps_gwdirect_start(struct mps_conn *c);
/* A refusal or a failed connect: the GWREPLY, then our DATA_FIN. */
void mps_gwdirect_end(struct mps_conn *c, uint8_t result);
/* The destination's handshake ended (err 0: connected; ETIMEDOUT: the
 * connect timeout, for every address together). */
void mps_gwdirect_done(struct mps_conn *c, int err);
/* Right after the HELLO_ACK was queued: if the destination's handshake
 * already ended (it often has, over the key exchange, when the destination
 * is near), mps_gwdirect_done now instead of in a later loop iteration. */
void mps_gwdirect_answered(struct mps_conn *c);
/* c is about to be freed: a destination still connecting is closed, the
 * client's count (MPS_SO_GW_DIRECT) and the listener's count released. */
void mps_gwdirect_freeing(struct mps_conn *c);
/* c's app end hung up: 1 when that means nothing (served here). */
int mps_gwdirect_app_hup(struct mps_conn *c);

#endif
