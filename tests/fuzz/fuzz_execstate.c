/* fuzz_execstate.c - the state of connections carried across exec
 * (src/execstate.c).  The memfd is sealed and comes from a process of the
 * same program, but the new image trusts none of it before the decoder
 * said yes.
 *
 * Input: the first byte chooses the shape.  Even: the rest is the state,
 * as is.  Odd: a valid state of one connection (its structures native,
 * hence built here rather than in the seed corpus) with the rest of the
 * input applied as patches (u16 offset, u8 value, repeated).  Properties:
 *  - decoding never reads outside the buffer (ASan) and either refuses
 *    with a reason or returns 1..MPS_XS_MAX_CONNS records;
 *  - every view of an accepted record lies inside the buffer, every count
 *    is within its bound, the subflow count is the structure's own;
 *  - the DSN order holds: send buffer start <= snd_una <= snd_nxt <=
 *    snd_max <= its end (a connection that sends), and each queue's
 *    bounds are the structure's;
 *  - the unpatched valid state is accepted. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine_types.h"
#include "fuzz.h"
#include "mptcpshim/execstate.h"

static struct mps_xs_rec g_recs[MPS_XS_MAX_CONNS];

static struct mps_xs_buf valid(void)
{
	static const struct mps_xs_lib lib = {1, 2, 3, 4, 5};
	static const uint8_t bytes[16] = "0123456789abcdef", was[3] = {1, 0, 2};
	struct mps_conn *c = calloc(1, sizeof(*c));
	struct mps_subflow *sf = calloc(1, sizeof(*sf));
	struct mps_xs_buf b;

	FZ_ASSERT(c && sf);
	c->nsf = 1;
	c->tx_mode = TX_MP;
	c->sb.una = c->snd_una = 100;
	c->snd_nxt = 104;
	c->snd_max = c->sb.end = 108;
	c->sb.limit = c->rxq.limit = 1 << 20;
	c->rxq.una = 10;
	c->rxq.end = 12;
	sf->state = SF_ACTIVE;
	sf->rlen = 4;
	mps_xs_begin(&b, &lib);
	mps_xs_rec_begin(&b);
	mps_xs_put_i32(&b, 1);
	mps_xs_put_f64(&b, 1.0);
	mps_xs_put_i32(&b, 3);
	mps_xs_put_u64(&b, 30);
	mps_xs_put_u64(&b, 40);
	mps_xs_put_i32(&b, 4);
	mps_xs_put_u64(&b, 50);
	mps_xs_put_i32(&b, 0);
	mps_xs_put_u32(&b, sizeof(was));
	mps_xs_put(&b, was, sizeof(was));
	mps_xs_put(&b, c, sizeof(*c));
	mps_xs_put_i32(&b, 5);
	mps_xs_put_u64(&b, 60);
	mps_xs_put(&b, sf, sizeof(*sf));
	mps_xs_put_u32(&b, 4);
	mps_xs_put(&b, bytes, 4);
	mps_xs_put_u64(&b, 100);
	mps_xs_put_u64(&b, 8);
	mps_xs_put(&b, bytes, 8);
	mps_xs_put_u64(&b, 10);
	mps_xs_put_u64(&b, 2);
	mps_xs_put(&b, bytes, 2);
	FZ_ASSERT(mps_xs_finish(&b) == 0);
	free(c);
	free(sf);
	return b;
}

static int inside(const uint8_t *buf, size_t len, const uint8_t *p, uint64_t n)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static void check(const uint8_t *buf, size_t len)
{
	struct mps_xs_hdr h;
	const char *why = NULL;
	int n = mps_xs_decode(buf, len, &h, g_recs, MPS_XS_MAX_CONNS, &why), i;
	uint32_t k;

	if (n < 0) {
		FZ_ASSERT(why != NULL);
		return;
	}
	FZ_ASSERT(n >= 1 && n <= MPS_XS_MAX_CONNS && (uint32_t)n == h.nconn);
	for (i = 0; i < n; i++) {
		const struct mps_xs_rec *x = &g_recs[i];
		struct mps_conn c;

		FZ_ASSERT(inside(buf, len, x->conn, sizeof(c)));
		FZ_ASSERT(x->nwas <= MPS_XS_MAXW && inside(buf, len, x->was, x->nwas));
		FZ_ASSERT(x->nsf >= 1 && x->nsf <= MPS_MAX_SUBFLOWS);
		memcpy(&c, x->conn, sizeof(c));
		FZ_ASSERT((uint32_t)c.nsf == x->nsf);
		FZ_ASSERT(x->ack_idx >= -1 && x->ack_idx < (int32_t)x->nsf);
		FZ_ASSERT(x->word.fd >= 0 && x->shim.fd >= 0 && x->app_ino != 0);
		for (k = 0; k < x->nsf; k++) {
			FZ_ASSERT(x->sf[k].fd >= 0 && x->sf[k].ino != 0);
			FZ_ASSERT(inside(buf, len, x->sfraw[k], sizeof(struct mps_subflow)));
			FZ_ASSERT(x->rlen[k] <= RBUF_SIZE &&
			          inside(buf, len, x->rbuf[k], x->rlen[k]));
		}
		FZ_ASSERT(inside(buf, len, x->sb, x->sb_len) &&
		          inside(buf, len, x->rxq, x->rxq_len));
		FZ_ASSERT(c.sb.una == x->sb_una && c.sb.end == x->sb_una + x->sb_len);
		FZ_ASSERT(c.rxq.una == x->rxq_una && c.rxq.end == x->rxq_una + x->rxq_len);
		if (c.tx_mode != TX_HOLD)
			FZ_ASSERT(x->sb_una <= c.snd_una && c.snd_una <= c.snd_nxt &&
			          c.snd_nxt <= c.snd_max && c.snd_max <= x->sb_una + x->sb_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = {data, size};
	struct mps_xs_buf b;

	if (!size)
		return 0;
	if (!(fz_u8(&z) & 1)) {
		uint8_t *copy = malloc(z.n ? z.n : 1); /* exact size: ASan sees overreads */

		FZ_ASSERT(copy);
		memcpy(copy, z.p, z.n);
		check(copy, z.n);
		free(copy);
		return 0;
	}
	b = valid();
	if (!fz_more(&z))
		FZ_ASSERT(mps_xs_decode(b.p, b.len, &(struct mps_xs_hdr){0}, g_recs,
		                        MPS_XS_MAX_CONNS, &(const char *){NULL}) == 1);
	while (fz_more(&z)) {
		size_t off = (size_t)fz_u8(&z) << 8;

		off |= fz_u8(&z);
		b.p[off % b.len] = fz_u8(&z);
	}
	check(b.p, b.len);
	free(b.p);
	return 0;
}
