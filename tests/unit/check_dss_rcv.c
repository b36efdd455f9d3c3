/* check_dss_rcv.c - the DSS receive side (src/dss_rcv.c), driven the way
 * dss_rx.c drives it: DATA frames encoded, decoded by the frame decoder
 * (src/frame.c), then judged and delivered with a real out-of-order queue.
 * Mostly the rules of the stream's end (RFC 8684 §3.3.3): the app never
 * gets a byte past a DATA_FIN, an inconsistent DATA_FIN is a protocol
 * error, the same DATA_FIN twice is harmless. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/dss_rcv.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/ofo.h"

#define WND 65536u

/* A receiver: the state the engine keeps, and what its app was given. */
struct rcv {
	struct mps_dss_rcv dss;
	struct mps_ofo q;
	uint64_t nxt, edge, start;
	int fin;
	uint8_t app[4 * WND];
	size_t app_len;
	const char *why;
};

static uint8_t stream[4 * WND]; /* the honest stream: byte i is stream[i] */

static int deliver(void *ctx, const uint8_t *p, size_t len)
{
	struct rcv *r = ctx;

	ck_assert_uint_le(r->app_len + len, sizeof(r->app));
	memcpy(r->app + r->app_len, p, len);
	r->app_len += len;
	return 0;
}

static void rcv_init(struct rcv *r, uint64_t start)
{
	memset(&r->dss, 0, sizeof(r->dss));
	mps_ofo_init(&r->q, WND, 0);
	r->nxt = r->start = start;
	r->edge = start + WND;
	r->fin = 0;
	r->app_len = 0;
	r->why = NULL;
	for (size_t i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* DATA [off, off+len) of the stream (offsets from start), DATA_FIN if fin:
 * through the encoder and the decoder, then the receive side, then the
 * queue advanced as dss_rx.c does once its batch is flushed. */
static int rx(struct rcv *r, size_t off, size_t len, int fin)
{
	static uint8_t wire[MPS_FRAME_MAX];
	struct mps_frame f;
	const char *why = NULL;
	size_t hl = mps_frame_put_data_hdr(wire, fin ? MPS_DF_FIN : 0, r->start + off, 0, 0,
	                                   (uint32_t)len);
	int n, rc;

	memcpy(wire + hl, stream + off, len);
	n = mps_frame_decode(wire, hl + len, &f, &why);
	ck_assert_int_eq(n, (int)(hl + len));
	ck_assert_uint_eq(f.type, MPS_F_DATA);
	rc = mps_dss_rcv_data(&r->dss, &r->q, &r->nxt, &r->fin, r->edge, &f.u.data,
	                      (f.flags & MPS_DF_FIN) != 0, deliver, r, &r->why);
	mps_ofo_advance(&r->q, r->nxt);
	return rc;
}

/* The app holds the stream's first n bytes, nothing else. */
static void app_has(struct rcv *r, size_t n)
{
	ck_assert_uint_eq(r->app_len, n);
	ck_assert_mem_eq(r->app, stream, n);
}

START_TEST(test_in_order_fin)
{
	static struct rcv r;
	rcv_init(&r, 1000);
	ck_assert_int_eq(rx(&r, 0, 100, 0), 0);
	ck_assert_int_eq(rx(&r, 100, 50, 1), 0); /* data + DATA_FIN at 150 */
	app_has(&r, 150);
	ck_assert(r.fin);
	ck_assert_uint_eq(r.nxt, 1000 + 151); /* the DATA_FIN takes one DSN */
	/* the same DATA_FIN again (alone, or with its data): a duplicate */
	ck_assert_int_eq(rx(&r, 150, 0, 1), 1);
	ck_assert_int_eq(rx(&r, 100, 50, 1), 1);
	/* old data again: a duplicate too */
	ck_assert_int_eq(rx(&r, 20, 30, 0), 1);
	app_has(&r, 150);
	ck_assert_uint_eq(r.nxt, 1000 + 151);
	mps_ofo_free(&r.q);
}
END_TEST

/* A lone DATA_FIN at the next DSN: the stream ends there.  It is news
 * (the caller ACKs it as the stream's end: dss_ack.c); the same DATA_FIN
 * again is a duplicate. */
START_TEST(test_lone_fin)
{
	static struct rcv r;
	rcv_init(&r, 5);
	ck_assert_int_eq(rx(&r, 0, 10, 0), 0);
	ck_assert_int_eq(rx(&r, 10, 0, 1), 0);
	ck_assert(r.fin);
	app_has(&r, 10);
	ck_assert_int_eq(rx(&r, 10, 0, 1), 1);
	mps_ofo_free(&r.q);
}
END_TEST

/* The DATA_FIN arrives before a gap fills: EOF only once every byte before
 * it is in, and at its DSN. */
START_TEST(test_fin_out_of_order)
{
	static struct rcv r;
	rcv_init(&r, 0);
	ck_assert_int_eq(rx(&r, 0, 10, 0), 0);
	ck_assert_int_eq(rx(&r, 30, 20, 1), 0); /* DATA_FIN at 50, ahead */
	ck_assert(!r.fin);
	ck_assert_int_eq(rx(&r, 20, 10, 0), 0);
	ck_assert(!r.fin);
	app_has(&r, 10);
	ck_assert_int_eq(rx(&r, 10, 10, 0), 0);
	app_has(&r, 50);
	ck_assert(r.fin);
	ck_assert_uint_eq(r.nxt, 51);
	mps_ofo_free(&r.q);
}
END_TEST

/* DATA_FIN at x, then data past x: a protocol error, and the app got
 * nothing past x (the attack: it used to read 92 bytes past the end). */
START_TEST(test_data_past_fin)
{
	static struct rcv r;
	rcv_init(&r, 777);
	ck_assert_int_eq(rx(&r, 0, 100, 1), 0);
	ck_assert(r.fin);
	ck_assert_int_eq(rx(&r, 101, 92, 0), -EPROTO);
	ck_assert_str_eq(r.why, "data beyond the DATA_FIN");
	ck_assert_int_eq(rx(&r, 100, 92, 0), -EPROTO);
	ck_assert_int_eq(rx(&r, 50, 100, 0), -EPROTO); /* straddling the end */
	app_has(&r, 100);
	mps_ofo_free(&r.q);

	/* the same with the DATA_FIN ahead of a gap: the data past it is
	 * refused before any of it is held */
	rcv_init(&r, 777);
	ck_assert_int_eq(rx(&r, 50, 50, 1), 0);
	ck_assert_int_eq(rx(&r, 100, 92, 0), -EPROTO);
	ck_assert_int_eq(rx(&r, 0, 100, 0), 0); /* inside the stream: fine */
	ck_assert(r.fin);
	app_has(&r, 100);
	mps_ofo_free(&r.q);
}
END_TEST

/* A DATA_FIN below what was delivered, or below data held out of order:
 * the stream cannot end there. */
START_TEST(test_fin_below_received)
{
	static struct rcv r;
	rcv_init(&r, 0);
	ck_assert_int_eq(rx(&r, 0, 200, 0), 0);
	ck_assert_int_eq(rx(&r, 100, 0, 1), -EPROTO);
	ck_assert_str_eq(r.why, "DATA_FIN below data already received");
	ck_assert_int_eq(rx(&r, 50, 20, 1), -EPROTO);
	ck_assert(!r.fin);
	app_has(&r, 200);
	mps_ofo_free(&r.q);

	rcv_init(&r, UINT64_MAX - 50); /* and across the 2^64 wrap */
	ck_assert_int_eq(rx(&r, 0, 10, 0), 0);
	ck_assert_int_eq(rx(&r, 80, 40, 0), 0); /* held out of order, to 120 */
	ck_assert_int_eq(rx(&r, 60, 0, 1), -EPROTO);
	ck_assert_int_eq(rx(&r, 119, 0, 1), -EPROTO);
	ck_assert_int_eq(rx(&r, 120, 0, 1), 0); /* at the end of it: fine */
	ck_assert(!r.fin);
	ck_assert_int_eq(rx(&r, 10, 70, 0), 0);
	ck_assert(r.fin);
	app_has(&r, 120);
	mps_ofo_free(&r.q);
}
END_TEST

/* Two DATA_FINs that disagree: neither is trusted. */
START_TEST(test_fin_contradiction)
{
	static struct rcv r;
	rcv_init(&r, 42);
	ck_assert_int_eq(rx(&r, 0, 10, 0), 0);
	ck_assert_int_eq(rx(&r, 100, 0, 1), 0); /* ahead */
	ck_assert_int_eq(rx(&r, 90, 0, 1), -EPROTO);
	ck_assert_str_eq(r.why, "DATA_FIN contradicts an earlier DATA_FIN");
	ck_assert_int_eq(rx(&r, 90, 20, 1), -EPROTO);
	ck_assert_int_eq(rx(&r, 90, 10, 1), 0); /* the same one, with data */
	mps_ofo_free(&r.q);
}
END_TEST

START_TEST(test_window_and_fragments)
{
	static struct rcv r;
	rcv_init(&r, 0);
	ck_assert_int_eq(rx(&r, WND - 10, 10, 0), 0); /* up to the edge */
	ck_assert_int_eq(rx(&r, WND - 10, 11, 0), -EPROTO);
	ck_assert_str_eq(r.why, "peer exceeded the receive window");
	ck_assert_int_eq(rx(&r, WND, 0, 1), 0); /* a DATA_FIN at the edge */
	mps_ofo_free(&r.q);

	/* one-byte frames each leaving a gap: the cap ends it */
	rcv_init(&r, 0);
	size_t i, cap = r.q.max_segs;
	int rc = 0;
	for (i = 0; i < 4 * cap && rc == 0; i++)
		rc = rx(&r, 1 + 2 * i, 1, 0);
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_str_eq(r.why, "data too fragmented");
	ck_assert_uint_eq(i, cap + 1);
	ck_assert_uint_eq(r.app_len, 0);
	mps_ofo_free(&r.q);
}
END_TEST

static Suite *dss_suite(void)
{
	Suite *s = suite_create("dss_rcv");
	TCase *tc = tcase_create("fin");
	tcase_add_test(tc, test_in_order_fin);
	tcase_add_test(tc, test_lone_fin);
	tcase_add_test(tc, test_fin_out_of_order);
	tcase_add_test(tc, test_data_past_fin);
	tcase_add_test(tc, test_fin_below_received);
	tcase_add_test(tc, test_fin_contradiction);
	tcase_add_test(tc, test_window_and_fragments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dss_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
