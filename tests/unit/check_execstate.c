/* check_execstate.c - the state of connections carried across exec
 * (include/mptcpshim/execstate.h): a written state decodes to what was
 * written, and the decoder refuses every truncation, a wrong magic,
 * version, length or structure size, trailing bytes, counts out of
 * bounds, DSNs out of order and state the new image cannot rebuild. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine_types.h"
#include "mptcpshim/execstate.h"

static const uint8_t g_sb[10] = "0123456789", g_rxq[3] = "abc", g_rbuf[4] = "wxyz";

struct tweak {
	void (*conn)(struct mps_conn *c);
	void (*sf)(struct mps_subflow *sf);
	uint32_t nwas;
	int32_t ack;
	uint64_t sb_len; /* bytes written for the send buffer */
};

static void no_conn(struct mps_conn *c)
{
	(void)c;
}

static void no_sf(struct mps_subflow *sf)
{
	(void)sf;
}

/* One connection, one subflow: a consistent state, changed by t. */
static struct mps_xs_buf make(const struct tweak *t)
{
	static const struct mps_xs_lib lib = {1, 2, 3, 4, 0x7f0000000000ull};
	struct mps_conn *c = calloc(1, sizeof(*c));
	struct mps_subflow *sf = calloc(1, sizeof(*sf));
	struct mps_xs_buf b;
	uint8_t was[MPS_XS_MAXW] = {1, 0, 2};

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(sf);
	c->nsf = 1;
	c->tx_mode = TX_MP;
	c->rx_mode = RX_MP;
	c->sb.una = c->snd_una = 100;
	c->snd_nxt = 105;
	c->snd_max = c->sb.end = 110;
	c->sb.limit = c->rxq.limit = 1 << 20;
	c->rxq.una = 50;
	c->rxq.end = 53;
	sf->state = SF_ACTIVE;
	sf->rlen = sizeof(g_rbuf);
	t->conn(c);
	t->sf(sf);
	mps_xs_begin(&b, &lib);
	mps_xs_rec_begin(&b);
	mps_xs_put_i32(&b, 1234);
	mps_xs_put_f64(&b, 5.5);
	mps_xs_put_i32(&b, 7);
	mps_xs_put_u64(&b, 70);
	mps_xs_put_u64(&b, 80);
	mps_xs_put_i32(&b, 9);
	mps_xs_put_u64(&b, 90);
	mps_xs_put_i32(&b, t->ack);
	mps_xs_put_u32(&b, t->nwas);
	mps_xs_put(&b, was, t->nwas <= MPS_XS_MAXW ? t->nwas : MPS_XS_MAXW);
	mps_xs_put(&b, c, sizeof(*c));
	mps_xs_put_i32(&b, 11);
	mps_xs_put_u64(&b, 110);
	mps_xs_put(&b, sf, sizeof(*sf));
	mps_xs_put_u32(&b, sizeof(g_rbuf));
	mps_xs_put(&b, g_rbuf, sizeof(g_rbuf));
	mps_xs_put_u64(&b, 100);
	mps_xs_put_u64(&b, t->sb_len);
	mps_xs_put(&b, g_sb, t->sb_len <= sizeof(g_sb) ? t->sb_len : sizeof(g_sb));
	mps_xs_put_u64(&b, 50);
	mps_xs_put_u64(&b, sizeof(g_rxq));
	mps_xs_put(&b, g_rxq, sizeof(g_rxq));
	ck_assert_int_eq(mps_xs_finish(&b), 0);
	free(c);
	free(sf);
	return b;
}

static const struct tweak ok = {no_conn, no_sf, 3, 0, sizeof(g_sb)};

static int decode(const struct mps_xs_buf *b, size_t len, const char **why)
{
	static struct mps_xs_rec recs[MPS_XS_MAX_CONNS];
	struct mps_xs_hdr h;

	return mps_xs_decode(b->p, len, &h, recs, MPS_XS_MAX_CONNS, why);
}

START_TEST(test_roundtrip)
{
	static struct mps_xs_rec recs[MPS_XS_MAX_CONNS];
	struct mps_xs_buf b = make(&ok);
	struct mps_xs_hdr h;
	struct mps_conn c;
	const char *why;

	ck_assert_int_eq(mps_xs_decode(b.p, b.len, &h, recs, MPS_XS_MAX_CONNS, &why), 1);
	ck_assert_uint_eq(h.lib.ino, 2);
	ck_assert_uint_eq(h.lib.base, 0x7f0000000000ull);
	ck_assert_int_eq(recs[0].parent, 1234);
	ck_assert(recs[0].t0 == 5.5);
	ck_assert_int_eq(recs[0].word.fd, 7);
	ck_assert_uint_eq(recs[0].word.ino, 70);
	ck_assert_uint_eq(recs[0].app_ino, 80);
	ck_assert_int_eq(recs[0].shim.fd, 9);
	ck_assert_int_eq(recs[0].ack_idx, 0);
	ck_assert_uint_eq(recs[0].nwas, 3);
	ck_assert_int_eq(recs[0].was[2], 2);
	ck_assert_uint_eq(recs[0].nsf, 1);
	ck_assert_int_eq(recs[0].sf[0].fd, 11);
	ck_assert_uint_eq(recs[0].rlen[0], 4);
	ck_assert_mem_eq(recs[0].rbuf[0], g_rbuf, 4);
	ck_assert_uint_eq(recs[0].sb_una, 100);
	ck_assert_uint_eq(recs[0].sb_len, 10);
	ck_assert_mem_eq(recs[0].sb, g_sb, 10);
	ck_assert_uint_eq(recs[0].rxq_len, 3);
	ck_assert_mem_eq(recs[0].rxq, g_rxq, 3);
	memcpy(&c, recs[0].conn, sizeof(c));
	ck_assert_uint_eq(c.snd_nxt, 105);
	free(b.p);
}
END_TEST

START_TEST(test_truncated)
{
	struct mps_xs_buf b = make(&ok);
	const char *why;
	size_t k;

	for (k = 0; k < b.len; k++)
		ck_assert_int_eq(decode(&b, k, &why), -1);
	/* one byte more than the header says */
	b.p = realloc(b.p, b.len + 1);
	ck_assert_int_eq(decode(&b, b.len + 1, &why), -1);
	free(b.p);
}
END_TEST

/* The header's fields, one at a time. */
START_TEST(test_header)
{
	static const size_t off[] = {0, 4, 8, 16, 20, 64};
	struct mps_xs_buf b = make(&ok);
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		b.p[off[i]] ^= 1;
		ck_assert_int_eq(decode(&b, b.len, &why), -1);
		b.p[off[i]] ^= 1;
		ck_assert_int_eq(decode(&b, b.len, &why), 1);
	}
	b.p[64] = 0; /* no record */
	ck_assert_int_eq(decode(&b, b.len, &why), -1);
	free(b.p);
}
END_TEST

static void bad_order(struct mps_conn *c)
{
	c->snd_nxt = 111;
}

static void bad_una(struct mps_conn *c)
{
	c->snd_una = 99;
}

static void bad_rxq(struct mps_conn *c)
{
	c->rxq.end = 54;
}

static void bad_nsf(struct mps_conn *c)
{
	c->nsf = 0;
}

static void bad_many(struct mps_conn *c)
{
	c->nsf = MPS_MAX_SUBFLOWS + 1;
}

static void gateway(struct mps_conn *c)
{
	c->gw = 1;
}

static void parked(struct mps_conn *c)
{
	c->nparked = 1;
}

static void ofo(struct mps_conn *c)
{
	c->ofo.bytes = 1;
}

static void closed(struct mps_conn *c)
{
	c->state = MPS_CONN_CLOSED;
}

static void queued(struct mps_subflow *sf)
{
	sf->nseg = 1;
}

static void rlen(struct mps_subflow *sf)
{
	sf->rlen = 3;
}

static void roff(struct mps_subflow *sf)
{
	sf->roff = 5;
}

START_TEST(test_refused)
{
	const struct tweak bad[] = {
	        {bad_order, no_sf, 3, 0, 10},
	        {bad_una, no_sf, 3, 0, 10},
	        {bad_rxq, no_sf, 3, 0, 10},
	        {bad_nsf, no_sf, 3, 0, 10},
	        {bad_many, no_sf, 3, 0, 10},
	        {gateway, no_sf, 3, 0, 10},
	        {parked, no_sf, 3, 0, 10},
	        {ofo, no_sf, 3, 0, 10},
	        {closed, no_sf, 3, 0, 10},
	        {no_conn, queued, 3, 0, 10},
	        {no_conn, rlen, 3, 0, 10},
	        {no_conn, roff, 3, 0, 10},
	        {no_conn, no_sf, 3, 1, 10},
	        {no_conn, no_sf, 3, -2, 10},
	        {no_conn, no_sf, MPS_XS_MAXW + 1, 0, 10},
	        {no_conn, no_sf, 3, 0, 9}, /* the buffer's end is not sb.end */
	};
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mps_xs_buf b = make(&bad[i]);

		why = NULL;
		ck_assert_msg(decode(&b, b.len, &why) == -1, "case %zu accepted", i);
		ck_assert_ptr_nonnull(why);
		free(b.p);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("execstate");
	TCase *tc = tcase_create("execstate");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
