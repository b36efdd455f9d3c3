/* dss_rcv.c - the DSS receive side: delivery, reordering, the stream's end.
 * Pure: no I/O.  See include/mptcpshim/dss_rcv.h for the rules. */
#include "config.h"

#include <errno.h>

#include "mptcpshim/dss_rcv.h"
#include "mptcpshim/sendbuf.h"

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return -EPROTO;
}

int mps_dss_rcv_data(struct mps_dss_rcv *r, struct mps_ofo *q, uint64_t *nxt, int *fin_reached,
                     uint64_t edge, const struct mps_data *d, int fin, mps_dss_deliver_fn deliver,
                     void *ctx, const char **why)
{
	uint64_t dsn = d->dsn, end = dsn + d->len, high;
	const uint8_t *p = d->payload;
	int dup, rc;

	if (mps_dsn_lt(edge, end))
		return fail(why, "peer exceeded the receive window");
	/* Everything received so far ends at high (at least *nxt). */
	high = r->high_set && mps_dsn_lt(*nxt, r->high) ? r->high : *nxt;
	if (fin) {
		/* RFC 8684 §3.3.3: the DATA_FIN's DSN is the stream's length. */
		if (r->fin_seen && end != r->fin_dsn)
			return fail(why, "DATA_FIN contradicts an earlier DATA_FIN");
		if (!r->fin_seen && mps_dsn_lt(end, high))
			return fail(why, "DATA_FIN below data already received");
	}
	if (r->fin_seen && mps_dsn_lt(r->fin_dsn, end))
		return fail(why, "data beyond the DATA_FIN");
	/* Data (or DATA_FIN) we already have: the sender resends because our
	 * ACK got lost with a path.  (A first DATA_FIN without data is new,
	 * though its dsn is *nxt: it takes its DSN below.) */
	dup = *fin_reached || (d->len > 0 && !mps_dsn_lt(*nxt, end));
	if (!*fin_reached && mps_dsn_lt(*nxt, end)) {
		if (mps_dsn_lt(dsn, *nxt)) {
			p += *nxt - dsn; /* the front is a duplicate */
			dsn = *nxt;
		}
		if (dsn == *nxt) {
			if (deliver(ctx, p, (size_t)(end - dsn)))
				return -ECANCELED;
			*nxt = end;
			/* The gap this filled may free what waits behind it. */
			for (;;) {
				const uint8_t *h;
				size_t n = mps_ofo_peek(q, *nxt, &h);

				if (!n)
					break;
				if (deliver(ctx, h, n))
					return -ECANCELED;
				*nxt += n;
			}
		} else if ((rc = mps_ofo_insert(q, *nxt, dsn, p, (size_t)(end - dsn))) != 0) {
			if (rc == -ENOSPC)
				*why = "data too fragmented";
			else if (rc == -ERANGE)
				return fail(why, "peer exceeded the receive window");
			return rc;
		}
	}
	if (d->len > 0 && (!r->high_set || mps_dsn_lt(r->high, end))) {
		r->high = end;
		r->high_set = 1;
	}
	if (fin && !r->fin_seen) {
		r->fin_seen = 1;
		r->fin_dsn = end;
	}
	if (r->fin_seen && !*fin_reached && *nxt == r->fin_dsn) {
		*fin_reached = 1; /* the DATA_FIN takes one DSN */
		(*nxt)++;
	}
	return dup ? 1 : 0;
}
