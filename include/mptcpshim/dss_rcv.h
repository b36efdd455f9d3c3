/* dss_rcv.h - the DSS receive side of one connection: what a DATA frame's
 * mapping means for the stream (in-order delivery, the out-of-order queue,
 * duplicates, the window edge) and the rules of the stream's end.  Pure:
 * no I/O; dss_rx.c hands it decoded frames and a delivery callback.
 *
 * The DATA_FIN rules (after RFC 8684 §3.3.3: a DATA_FIN fixes the stream's
 * length, so one that disagrees with the stream is a protocol error, and
 * the connection is reset):
 *  - a DATA_FIN below data already received (delivered or held out of
 *    order) is an error;
 *  - a DATA_FIN at another DSN than an earlier one is an error (the first
 *    one is not trusted over the second: either may be the lie, so the
 *    connection ends with an error rather than a guessed length);
 *  - data beyond a DATA_FIN (after it, or in the same frame) is an error;
 *  - the same DATA_FIN again is a duplicate (a resend after a lost ACK):
 *    harmless.
 * So the app never reads a byte past a DATA_FIN, and sees EOF only at the
 * stream's one consistent end. */
#ifndef MPS_DSS_RCV_H
#define MPS_DSS_RCV_H

#include <stddef.h>
#include <stdint.h>

#include "mptcpshim/frame.h"
#include "mptcpshim/ofo.h"

struct mps_dss_rcv {
	uint64_t high;    /* one past the highest DSN of data received */
	uint64_t fin_dsn; /* the DSN the DATA_FIN takes, once seen */
	uint8_t high_set, fin_seen;
};

/* In-order bytes for the app, in stream order.  Nonzero: stop (the
 * connection died); mps_dss_rcv_data then returns -ECANCELED. */
typedef int (*mps_dss_deliver_fn)(void *ctx, const uint8_t *p, size_t len);

/* One DATA frame (d, with DATA_FIN if fin) against the receive state:
 * *nxt is the next DSN expected (moved past what is delivered, and past
 * the DATA_FIN's DSN once every byte before it is in), *fin_reached is set
 * when that happens; edge is the window edge (no DSN at or past it).  Data
 * ahead of *nxt goes into q, data at *nxt and what q then holds after it
 * goes to deliver.  The bytes delivered from q stay valid until the caller
 * runs mps_ofo_advance(q, *nxt).
 * Returns 0 (something new), 1 (nothing new: a duplicate, which deserves
 * an ACK at once), -EPROTO (a protocol error: *why says which), -ENOSPC
 * (the peer fragments beyond q's cap: *why), -ENOMEM, or -ECANCELED. */
int mps_dss_rcv_data(struct mps_dss_rcv *r, struct mps_ofo *q, uint64_t *nxt, int *fin_reached,
                     uint64_t edge, const struct mps_data *d, int fin, mps_dss_deliver_fn deliver,
                     void *ctx, const char **why);

#endif
