/* check_nego.c - the negotiation state machine, driven as nego.h describes. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/frame.h"
#include "mptcpshim/nego.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define REMOTE_KEY 0xa5a5a5a55a5a5a5aULL
#define REMOTE_WND 0x00300000u

/* Feed buf[0..avail) from an exact-size heap copy (catches over-reads). */
static enum mps_nego_verdict nego_in(struct mps_nego *n, const uint8_t *buf, size_t avail)
{
	uint8_t *p = malloc(avail ? avail : 1);
	ck_assert_ptr_nonnull(p);
	if (avail)
		memcpy(p, buf, avail);
	enum mps_nego_verdict v = mps_nego_input(n, p, avail);
	free(p);
	return v;
}

static size_t mk_hello_wnd(uint8_t out[MPS_HELLO_LEN], uint8_t type, uint8_t version,
			   uint8_t caps, uint32_t wnd, uint64_t key)
{
	/* key in the public value's first 8 bytes, the rest a fixed filler */
	struct mps_hello h = { .version = version, .caps = caps, .wnd = wnd };
	memset(h.pub, 0x77, sizeof(h.pub));
	for (int i = 0; i < 8; i++)
		h.pub[i] = (uint8_t)(key >> (56 - 8 * i));
	size_t n = mps_frame_put_hello(out, type, &h);
	ck_assert_uint_eq(n, MPS_HELLO_LEN);
	return n;
}

static size_t mk_hello(uint8_t out[MPS_HELLO_LEN], uint8_t type, uint8_t version, uint8_t caps,
		       uint64_t key)
{
	return mk_hello_wnd(out, type, version, caps, REMOTE_WND, key);
}

/* the key mk_hello_wnd put in a public value */
static uint64_t pub64(const uint8_t *p)
{
	uint64_t k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | p[i];
	return k;
}

static void init(struct mps_nego *n, enum mps_role role)
{
	memset(n, 0xa5, sizeof(*n));
	mps_nego_init(n, role);
	ck_assert_uint_eq(n->role, role);
	ck_assert_uint_eq(n->state, MPS_NS_WAIT);
}

/* Deliver a frame byte by byte: WAIT until the last byte, then want. */
static void feed_bytewise(struct mps_nego *n, const uint8_t *buf, size_t len,
			  enum mps_nego_verdict want)
{
	for (size_t i = 0; i < len; i++) {
		enum mps_nego_verdict v = nego_in(n, buf, i);
		ck_assert_msg(v == MPS_NV_WAIT, "after %zu of %zu bytes: verdict %d", i, len, v);
	}
	ck_assert_int_eq(nego_in(n, buf, len), want);
}

/* A malformed frame whose first bad byte is buf[first_bad - 1]: WAIT
 * before that byte; from it on either WAIT or ERROR (the frame may be
 * rejected early), ERROR once complete, and ERROR stays. */
static void feed_late_error(struct mps_nego *n, const uint8_t *buf, size_t len, size_t first_bad)
{
	int erred = 0;
	for (size_t i = 0; i <= len; i++) {
		enum mps_nego_verdict v = nego_in(n, buf, i);
		if (i < first_bad)
			ck_assert_msg(v == MPS_NV_WAIT, "%zu bytes: verdict %d, want WAIT", i, v);
		else if (i == len || erred)
			ck_assert_msg(v == MPS_NV_ERROR, "%zu bytes: verdict %d, want ERROR", i, v);
		else
			ck_assert_msg(v == MPS_NV_WAIT || v == MPS_NV_ERROR,
				      "%zu bytes: verdict %d, want WAIT or ERROR", i, v);
		if (v == MPS_NV_ERROR)
			erred = 1;
	}
}

/* ---- client ---------------------------------------------------------- */

START_TEST(test_nego_client_init)
{
	struct mps_nego n;
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"", 0), MPS_NV_WAIT);
	ck_assert_uint_eq(n.state, MPS_NS_WAIT);
}
END_TEST

/* Found by tests/fuzz/fuzz_nego: init left timed_out as it found it,
 * so a negotiation in reused memory could report a reply timeout that
 * never happened. */
START_TEST(test_nego_init_clears_all)
{
	struct mps_nego n;

	memset(&n, 0xa5, sizeof(n));
	mps_nego_init(&n, MPS_CLIENT);
	ck_assert_uint_eq(n.timed_out, 0);
	ck_assert_ptr_null(n.why);
	ck_assert(pub64(n.remote_pub) == 0);
	ck_assert_uint_eq(n.state, MPS_NS_WAIT);
}
END_TEST

START_TEST(test_nego_client_hello_ack_bytewise)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO_ACK, MPS_VERSION, MPS_CAP_NONE, REMOTE_KEY);
	init(&n, MPS_CLIENT);
	feed_bytewise(&n, buf, sizeof(buf), MPS_NV_MP);
	ck_assert_uint_eq(n.state, MPS_NS_MP);
	ck_assert(pub64(n.remote_pub) == REMOTE_KEY);
	ck_assert_uint_eq(n.remote_version, MPS_VERSION);
	ck_assert_uint_eq(n.remote_caps, MPS_CAP_NONE);
	ck_assert_uint_eq(n.remote_wnd, REMOTE_WND);
}
END_TEST

START_TEST(test_nego_client_hello_ack_at_once)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO_ACK, 3, 0, 1);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert(pub64(n.remote_pub) == 1);
	ck_assert_uint_eq(n.remote_version, 3);
	ck_assert_uint_eq(n.remote_wnd, REMOTE_WND);
}
END_TEST

/* remote_wnd is the window the peer's HELLO_ACK advertised. */
START_TEST(test_nego_client_remote_wnd)
{
	static const uint32_t wnds[] = { MPS_MIN_WND, MPS_MIN_WND + 1, 0x00100000, 0x80000000,
					 UINT32_MAX };
	for (size_t i = 0; i < NELEM(wnds); i++) {
		struct mps_nego n;
		uint8_t buf[MPS_HELLO_LEN];
		mk_hello_wnd(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, wnds[i], REMOTE_KEY);
		init(&n, MPS_CLIENT);
		ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
		ck_assert_uint_eq(n.remote_wnd, wnds[i]);
		ck_assert(pub64(n.remote_pub) == REMOTE_KEY);

		init(&n, MPS_CLIENT);
		feed_bytewise(&n, buf, sizeof(buf), MPS_NV_MP);
		ck_assert_uint_eq(n.remote_wnd, wnds[i]);
	}
}
END_TEST

/* A HELLO_ACK whose window is one below the minimum is malformed. */
START_TEST(test_nego_client_small_wnd)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello_wnd(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, 65535, REMOTE_KEY);
	ck_assert_uint_eq(buf[16], 0x00);
	ck_assert_uint_eq(buf[17], 0x00);
	ck_assert_uint_eq(buf[18], 0xff);
	ck_assert_uint_eq(buf[19], 0xff);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ERROR);
	ck_assert_uint_eq(n.state, MPS_NS_ERROR);
	ck_assert_ptr_nonnull(n.why);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ERROR);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_ERROR);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_ERROR);

	/* byte by byte: WAIT until the window's second byte shows it is too
	 * small, ERROR by the end */
	init(&n, MPS_CLIENT);
	feed_late_error(&n, buf, sizeof(buf), 18);

	/* followed by more bytes: still ERROR */
	uint8_t more[MPS_HELLO_LEN + MPS_ACK_LEN];
	memcpy(more, buf, MPS_HELLO_LEN);
	mps_frame_put_ack(more + MPS_HELLO_LEN, 1, MPS_MIN_WND);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, more, sizeof(more)), MPS_NV_ERROR);

	/* exactly the minimum is fine */
	mk_hello_wnd(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, 65536, REMOTE_KEY);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert_uint_eq(n.remote_wnd, 65536);
}
END_TEST

START_TEST(test_nego_client_hello_ack_then_data)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN + MPS_ACK_LEN + 3];
	mk_hello(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	mps_frame_put_ack(buf + MPS_HELLO_LEN, 12345, MPS_MIN_WND);
	memcpy(buf + MPS_HELLO_LEN + MPS_ACK_LEN, "xyz", 3);
	for (size_t extra = 1; extra <= sizeof(buf) - MPS_HELLO_LEN; extra++) {
		init(&n, MPS_CLIENT);
		ck_assert_int_eq(nego_in(&n, buf, MPS_HELLO_LEN + extra), MPS_NV_MP);
		ck_assert(pub64(n.remote_pub) == REMOTE_KEY);
		ck_assert_uint_eq(n.remote_wnd, REMOTE_WND);
	}
	/* and garbage after the HELLO_ACK is not nego's business either */
	uint8_t g[MPS_HELLO_LEN + 4];
	mk_hello(g, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	memcpy(g + MPS_HELLO_LEN, "\xff\xff\xff\xff", 4);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, g, sizeof(g)), MPS_NV_MP);
}
END_TEST

/* Unknown capability bits are ignored. */
START_TEST(test_nego_client_caps_ignored)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	/* every bit but TICKET (which adds a ticket to the body) */
	mk_hello(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0xff & ~MPS_CAP_TICKET, REMOTE_KEY);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert_uint_eq(n.remote_caps, 0xff & ~MPS_CAP_TICKET);
	ck_assert_uint_eq(n.remote_wnd, REMOTE_WND);
}
END_TEST

/* A resuming HELLO (84 bytes: caps RESUME, ticket, nonce) is waited for
 * whole, then MP with its caps; a HELLO_ACK with a ticket (72) likewise. */
START_TEST(test_nego_resume_lengths)
{
	for (int role = MPS_CLIENT; role <= MPS_SERVER; role++) {
		uint8_t type = role == MPS_SERVER ? MPS_F_HELLO : MPS_F_HELLO_ACK;
		uint8_t caps = role == MPS_SERVER ? MPS_CAP_RESUME | MPS_CAP_TICKET : MPS_CAP_TICKET;
		struct mps_hello h = { .version = MPS_VERSION, .caps = caps, .wnd = REMOTE_WND,
		                       .lifetime = 600 };
		uint8_t buf[MPS_HELLO_MAX_LEN + 4];
		struct mps_nego n;

		memset(h.pub, 0x77, sizeof(h.pub));
		memset(h.ticket, 0x41, sizeof(h.ticket));
		memset(h.nonce, 0x42, sizeof(h.nonce));
		size_t len = mps_frame_put_hello(buf, type, &h);
		ck_assert_uint_eq(len, role == MPS_SERVER ? 84 : 72);
		memcpy(buf + len, "abcd", 4); /* app data behind it */
		init(&n, role);
		for (size_t k = 1; k < len; k++)
			ck_assert_int_eq(nego_in(&n, buf, k), MPS_NV_WAIT);
		ck_assert_int_eq(nego_in(&n, buf, len + 4), MPS_NV_MP);
		ck_assert_uint_eq(n.remote_caps, caps);
		/* the same bytes with the caps bit that adds the fields cleared:
		 * the length no longer matches, a protocol error */
		buf[13] &= (uint8_t)~(role == MPS_SERVER ? MPS_CAP_RESUME : MPS_CAP_TICKET);
		init(&n, role);
		ck_assert_int_eq(nego_in(&n, buf, len), MPS_NV_ERROR);
	}
}
END_TEST

/* A byte differing from the HELLO_ACK prefix at position pos: WAIT before
 * it arrives, PLAIN as soon as it does (and stays PLAIN). */
START_TEST(test_nego_client_prefix_mismatch)
{
	uint8_t good[MPS_HELLO_LEN];
	mk_hello(good, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	for (size_t pos = 0; pos < MPS_HELLO_PREFIX_LEN; pos++) {
		static const uint8_t xors[] = { 0x01, 0x80, 0xff };
		for (size_t x = 0; x < NELEM(xors); x++) {
			uint8_t buf[MPS_HELLO_LEN];
			struct mps_nego n;
			memcpy(buf, good, sizeof(buf));
			buf[pos] ^= xors[x];
			init(&n, MPS_CLIENT);
			for (size_t i = 0; i <= pos; i++)
				ck_assert_msg(nego_in(&n, buf, i) == MPS_NV_WAIT,
					      "mismatch at %zu: WAIT expected with %zu bytes", pos, i);
			ck_assert_msg(nego_in(&n, buf, pos + 1) == MPS_NV_PLAIN,
				      "mismatch at %zu: PLAIN expected", pos);
			ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
			ck_assert_ptr_nonnull(n.why);
			ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);

			/* all bytes at once */
			init(&n, MPS_CLIENT);
			ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
		}
	}
}
END_TEST

START_TEST(test_nego_client_plain_server)
{
	static const char *banners[] = { "SSH-2.0-OpenSSH_9.2\r\n", "220 ftp ready\r\n",
					 "HTTP/1.1 200 OK\r\n", "\x01" "X", "\x02\x01" };
	for (size_t i = 0; i < NELEM(banners); i++) {
		struct mps_nego n;
		init(&n, MPS_CLIENT);
		ck_assert_int_eq(nego_in(&n, (const uint8_t *)banners[i], strlen(banners[i])),
				 MPS_NV_PLAIN);
		ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
	}
}
END_TEST

/* The client must not accept the server's HELLO in place of HELLO_ACK. */
START_TEST(test_nego_client_gets_hello)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, buf, 1), MPS_NV_PLAIN);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
}
END_TEST

START_TEST(test_nego_client_eof)
{
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	/* EOF after any strict prefix of a HELLO_ACK, including none */
	for (size_t i = 0; i < MPS_HELLO_LEN; i++) {
		struct mps_nego n;
		init(&n, MPS_CLIENT);
		ck_assert_int_eq(nego_in(&n, buf, i), MPS_NV_WAIT);
		ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_PLAIN);
		ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
		ck_assert_ptr_nonnull(n.why);
		ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
	}
}
END_TEST

START_TEST(test_nego_client_timeout)
{
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	for (size_t i = 0; i < MPS_HELLO_LEN; i++) {
		struct mps_nego n;
		init(&n, MPS_CLIENT);
		ck_assert_int_eq(nego_in(&n, buf, i), MPS_NV_WAIT);
		ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_PLAIN);
		ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
		ck_assert_ptr_nonnull(n.why);
		/* a HELLO_ACK arriving after the verdict changes nothing */
		ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
	}
}
END_TEST

static void check_malformed(enum mps_role role, uint8_t type)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];

	/* version 0 */
	mk_hello(buf, type, MPS_VERSION, 0, REMOTE_KEY);
	buf[12] = 0;
	init(&n, role);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ERROR);
	ck_assert_uint_eq(n.state, MPS_NS_ERROR);
	ck_assert_ptr_nonnull(n.why);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ERROR);

	/* the same, byte by byte: WAIT while the bad byte is unseen, then
	 * ERROR (at once or when the frame is complete) */
	init(&n, role);
	feed_late_error(&n, buf, sizeof(buf), 13);

	/* all-zero public value */
	mk_hello(buf, type, MPS_VERSION, 0, REMOTE_KEY);
	memset(buf + 20, 0, MPS_HELLO_PUB_LEN);
	init(&n, role);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ERROR);
	ck_assert_uint_eq(n.state, MPS_NS_ERROR);
	ck_assert_ptr_nonnull(n.why);

	/* reserved != 0 */
	static const uint8_t rsv[][2] = { { 0, 1 }, { 1, 0 }, { 0xff, 0xff } };
	for (size_t i = 0; i < NELEM(rsv); i++) {
		mk_hello(buf, type, MPS_VERSION, 0, REMOTE_KEY);
		buf[14] = rsv[i][0];
		buf[15] = rsv[i][1];
		init(&n, role);
		ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ERROR);
		ck_assert_uint_eq(n.state, MPS_NS_ERROR);
	}

	/* wnd below MPS_MIN_WND */
	static const uint32_t small[] = { 0, 1, 0x8000, 65535 };
	for (size_t i = 0; i < NELEM(small); i++) {
		mk_hello_wnd(buf, type, MPS_VERSION, 0, small[i], REMOTE_KEY);
		init(&n, role);
		ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ERROR);
		ck_assert_uint_eq(n.state, MPS_NS_ERROR);
		ck_assert_ptr_nonnull(n.why);
		init(&n, role);
		feed_late_error(&n, buf, sizeof(buf), 18);
	}
	/* the same bytes with the window raised to the minimum are MP */
	mk_hello_wnd(buf, type, MPS_VERSION, 0, MPS_MIN_WND, REMOTE_KEY);
	init(&n, role);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert_uint_eq(n.remote_wnd, MPS_MIN_WND);
}

START_TEST(test_nego_client_malformed)
{
	check_malformed(MPS_CLIENT, MPS_F_HELLO_ACK);
}
END_TEST

START_TEST(test_nego_client_final)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	/* later calls return MP again without looking at the bytes */
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"GET ", 4), MPS_NV_MP);
	ck_assert_int_eq(nego_in(&n, buf, 0), MPS_NV_MP);
	ck_assert_uint_eq(n.state, MPS_NS_MP);
	ck_assert(pub64(n.remote_pub) == REMOTE_KEY);

	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"X", 1), MPS_NV_PLAIN);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
	ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
}
END_TEST

/* ---- server ---------------------------------------------------------- */

START_TEST(test_nego_server_hello)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert_uint_eq(n.state, MPS_NS_MP);
	ck_assert(pub64(n.remote_pub) == REMOTE_KEY);
	ck_assert_uint_eq(n.remote_version, MPS_VERSION);
	ck_assert_uint_eq(n.remote_wnd, REMOTE_WND);

	init(&n, MPS_SERVER);
	feed_bytewise(&n, buf, sizeof(buf), MPS_NV_MP);
	ck_assert(pub64(n.remote_pub) == REMOTE_KEY);
	ck_assert_uint_eq(n.remote_wnd, REMOTE_WND);

	/* the client's advertised window, whatever it is */
	static const uint32_t wnds[] = { MPS_MIN_WND, 0x00123456, UINT32_MAX };
	for (size_t i = 0; i < NELEM(wnds); i++) {
		uint8_t w[MPS_HELLO_LEN];
		mk_hello_wnd(w, MPS_F_HELLO, MPS_VERSION, 0, wnds[i], REMOTE_KEY);
		init(&n, MPS_SERVER);
		ck_assert_int_eq(nego_in(&n, w, sizeof(w)), MPS_NV_MP);
		ck_assert_uint_eq(n.remote_wnd, wnds[i]);
	}

	/* HELLO followed by the first DATA frame */
	uint8_t more[MPS_HELLO_LEN + MPS_DATA_HDR_LEN + 2];
	memcpy(more, buf, MPS_HELLO_LEN);
	mps_frame_put_data_hdr(more + MPS_HELLO_LEN, 0, 77, 0, 0, 2);
	more[sizeof(more) - 2] = 'h';
	more[sizeof(more) - 1] = 'i';
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, more, sizeof(more)), MPS_NV_MP);
	ck_assert(pub64(n.remote_pub) == REMOTE_KEY);
}
END_TEST

START_TEST(test_nego_server_plain)
{
	/* the last entry is the old 20-byte HELLO header (length 0x0014) */
	static const char *firsts[] = { "GET / HTTP/1.1\r\n", "SSH-2.0-x", "\x16\x03\x01\x02\x00",
					"\x02", "\x01\x01", "\x01\x00\x00\x15",
					"\x01\x00\x00\x14" };
	for (size_t i = 0; i < NELEM(firsts); i++) {
		struct mps_nego n;
		size_t len = strlen(firsts[i]);
		if (i == 4 || i == 5 || i == 6)
			len = i == 4 ? 2 : 4;
		init(&n, MPS_SERVER);
		ck_assert_msg(nego_in(&n, (const uint8_t *)firsts[i], len) == MPS_NV_PLAIN,
			      "first bytes #%zu", i);
		ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
		ck_assert_ptr_nonnull(n.why);
		/* final */
		ck_assert_int_eq(nego_in(&n, (const uint8_t *)firsts[i], len), MPS_NV_PLAIN);
	}
	/* byte by byte: "G" alone already decides */
	struct mps_nego n;
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"G", 1), MPS_NV_PLAIN);
}
END_TEST

START_TEST(test_nego_server_gets_hello_ack)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
}
END_TEST

START_TEST(test_nego_server_prefix_mismatch)
{
	uint8_t good[MPS_HELLO_LEN];
	mk_hello(good, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);
	for (size_t pos = 0; pos < MPS_HELLO_PREFIX_LEN; pos++) {
		uint8_t buf[MPS_HELLO_LEN];
		struct mps_nego n;
		memcpy(buf, good, sizeof(buf));
		buf[pos] ^= 0x40;
		init(&n, MPS_SERVER);
		for (size_t i = 0; i <= pos; i++)
			ck_assert_int_eq(nego_in(&n, buf, i), MPS_NV_WAIT);
		ck_assert_int_eq(nego_in(&n, buf, pos + 1), MPS_NV_PLAIN);
		ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
	}
}
END_TEST

START_TEST(test_nego_server_empty)
{
	struct mps_nego n;
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"", 0), MPS_NV_WAIT);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"", 0), MPS_NV_WAIT);
	ck_assert_uint_eq(n.state, MPS_NS_WAIT);
}
END_TEST

START_TEST(test_nego_server_eof)
{
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);
	for (size_t i = 0; i < MPS_HELLO_LEN; i++) {
		struct mps_nego n;
		init(&n, MPS_SERVER);
		ck_assert_int_eq(nego_in(&n, buf, i), MPS_NV_WAIT);
		ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_PLAIN);
		ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
		ck_assert_ptr_nonnull(n.why);
	}
}
END_TEST

START_TEST(test_nego_server_released)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);

	/* banner timeout with nothing from the client */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	ck_assert_uint_eq(n.state, MPS_NS_RELEASED);
	ck_assert_int_eq(nego_in(&n, buf, 0), MPS_NV_WAIT);
	ck_assert_uint_eq(n.state, MPS_NS_RELEASED);

	/* a late HELLO, byte by byte: WAIT, then ABORT */
	feed_bytewise(&n, buf, sizeof(buf), MPS_NV_ABORT);
	ck_assert_uint_eq(n.state, MPS_NS_ABORT);
	ck_assert_ptr_nonnull(n.why);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ABORT);

	/* a late HELLO all at once */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ABORT);
	ck_assert_uint_eq(n.state, MPS_NS_ABORT);

	/* plain client bytes after release */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"GET / HTTP/1.1\r\n", 16), MPS_NV_PLAIN);
	ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);

	/* a HELLO prefix that goes wrong after release */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	uint8_t bad[MPS_HELLO_LEN];
	memcpy(bad, buf, sizeof(bad));
	bad[6] = 'x';
	ck_assert_int_eq(nego_in(&n, bad, 6), MPS_NV_WAIT);
	ck_assert_uint_eq(n.state, MPS_NS_RELEASED);
	ck_assert_int_eq(nego_in(&n, bad, 7), MPS_NV_PLAIN);

	/* partial bytes before the timeout, the rest of the HELLO after */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, buf, 5), MPS_NV_WAIT);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	ck_assert_uint_eq(n.state, MPS_NS_RELEASED);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_ABORT);

	/* EOF after release */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_PLAIN);
	ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
}
END_TEST

START_TEST(test_nego_server_malformed)
{
	check_malformed(MPS_SERVER, MPS_F_HELLO);
}
END_TEST

/* A version 1 HELLO / HELLO_ACK (24-byte body, a 64-bit key in clear) is
 * a protocol error, judged once complete, never a plain peer's bytes. */
START_TEST(test_nego_v1_refused)
{
	static const uint8_t types[] = { MPS_F_HELLO_ACK, MPS_F_HELLO };
	for (int r = 0; r < 2; r++) {
		uint8_t v1[4 + 24] = { types[r], 0, 0, 24, 'M', 'P', 'T', 'C', 'P', 'S', 'H', 'M',
				       1,        0, 0, 0,  0,   1,   0,   0,   1,   2,   3,   4,
				       5,        6, 7, 8 };
		struct mps_nego n;

		init(&n, r ? MPS_SERVER : MPS_CLIENT);
		feed_late_error(&n, v1, sizeof(v1), sizeof(v1));
		ck_assert_uint_eq(n.state, MPS_NS_ERROR);
		ck_assert_ptr_nonnull(strstr(n.why, "version 1"));
		/* the same with bytes behind it */
		uint8_t more[sizeof(v1) + 40];
		memcpy(more, v1, sizeof(v1));
		memset(more + sizeof(v1), 'x', 40);
		init(&n, r ? MPS_SERVER : MPS_CLIENT);
		ck_assert_int_eq(nego_in(&n, more, sizeof(more)), MPS_NV_ERROR);
	}
}
END_TEST

START_TEST(test_nego_server_final)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"SSH-2.0-x", 9), MPS_NV_MP);
	ck_assert_int_eq(nego_in(&n, buf, 3), MPS_NV_MP);
	ck_assert_uint_eq(n.state, MPS_NS_MP);

	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, (const uint8_t *)"SSH-2.0-x", 9), MPS_NV_PLAIN);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
	ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
}
END_TEST

/* EOF and timer events after a final verdict return that verdict again. */
START_TEST(test_nego_final_events)
{
	struct mps_nego n;
	uint8_t ack[MPS_HELLO_LEN], hello[MPS_HELLO_LEN];
	mk_hello(ack, MPS_F_HELLO_ACK, MPS_VERSION, 0, REMOTE_KEY);
	mk_hello(hello, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);

	init(&n, MPS_CLIENT);
	ck_assert_int_eq(nego_in(&n, ack, sizeof(ack)), MPS_NV_MP);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_MP);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_MP);
	ck_assert_uint_eq(n.state, MPS_NS_MP);

	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, hello, sizeof(hello)), MPS_NV_MP);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_MP);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_MP);
	ck_assert_uint_eq(n.state, MPS_NS_MP);

	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	ck_assert_int_eq(nego_in(&n, hello, sizeof(hello)), MPS_NV_ABORT);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_ABORT);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_ABORT);
	ck_assert_uint_eq(n.state, MPS_NS_ABORT);

	hello[12] = 0;
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, hello, sizeof(hello)), MPS_NV_ERROR);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_ERROR);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_ERROR);

	init(&n, MPS_CLIENT);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_PLAIN);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_PLAIN);
	ck_assert_int_eq(nego_in(&n, ack, sizeof(ack)), MPS_NV_PLAIN);
	ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
}
END_TEST

/* ---- windows --------------------------------------------------------- */

START_TEST(test_nego_banner_window)
{
	ck_assert_uint_eq(mps_nego_banner_window_us(0), MPS_BANNER_MIN_US);
	ck_assert_uint_eq(mps_nego_banner_window_us(1), MPS_BANNER_MIN_US);
	ck_assert_uint_eq(mps_nego_banner_window_us(MPS_BANNER_MIN_US / 4), MPS_BANNER_MIN_US);
	ck_assert_uint_eq(mps_nego_banner_window_us(MPS_BANNER_MIN_US / 4 + 1),
			  MPS_BANNER_MIN_US + 4);
	ck_assert_uint_eq(mps_nego_banner_window_us(10000), 40000);
	ck_assert_uint_eq(mps_nego_banner_window_us(50000), 200000);
	ck_assert_uint_eq(mps_nego_banner_window_us(MPS_BANNER_MAX_US / 4), MPS_BANNER_MAX_US);
	ck_assert_uint_eq(mps_nego_banner_window_us(MPS_BANNER_MAX_US / 4 + 1), MPS_BANNER_MAX_US);
	ck_assert_uint_eq(mps_nego_banner_window_us(1000000), MPS_BANNER_MAX_US);
	/* 4*rtt overflows 32 bits here: still capped */
	ck_assert_uint_eq(mps_nego_banner_window_us(0x40000000u), MPS_BANNER_MAX_US);
	ck_assert_uint_eq(mps_nego_banner_window_us(0x40000001u), MPS_BANNER_MAX_US);
	ck_assert_uint_eq(mps_nego_banner_window_us(UINT32_MAX), MPS_BANNER_MAX_US);
	for (uint32_t rtt = 0; rtt < 100000; rtt += 7) {
		uint64_t want = 4ull * rtt;
		if (want < MPS_BANNER_MIN_US)
			want = MPS_BANNER_MIN_US;
		if (want > MPS_BANNER_MAX_US)
			want = MPS_BANNER_MAX_US;
		uint32_t got = mps_nego_banner_window_us(rtt);
		if (got != want)
			ck_abort_msg("banner(%u) = %u, want %llu", rtt, got, (unsigned long long)want);
	}
	/* towards a known shim client host: never below MPS_BANNER_KNOWN_US */
	ck_assert_uint_eq(mps_nego_banner_window_known_us(0), MPS_BANNER_KNOWN_US);
	ck_assert_uint_eq(mps_nego_banner_window_known_us(10000), MPS_BANNER_KNOWN_US);
	ck_assert_uint_eq(mps_nego_banner_window_known_us(UINT32_MAX),
			  MPS_BANNER_KNOWN_US > MPS_BANNER_MAX_US ? MPS_BANNER_KNOWN_US
								  : MPS_BANNER_MAX_US);
	for (uint32_t rtt = 0; rtt < 100000; rtt += 7) {
		uint32_t plain = mps_nego_banner_window_us(rtt);
		uint32_t known = mps_nego_banner_window_known_us(rtt);
		if (known < plain || known < MPS_BANNER_KNOWN_US)
			ck_abort_msg("known banner(%u) = %u < %u", rtt, known, plain);
	}
}
END_TEST

START_TEST(test_nego_server_hello_stalled)
{
	struct mps_nego n;
	uint8_t buf[MPS_HELLO_LEN];
	mk_hello(buf, MPS_F_HELLO, MPS_VERSION, 0, REMOTE_KEY);

	/* 12 of 28 bytes (header + magic), then the bound: PLAIN, and the
	 * rest of the HELLO arriving later changes nothing (app data) */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, buf, MPS_HELLO_PREFIX_LEN), MPS_NV_WAIT);
	ck_assert_int_eq(mps_nego_hello_stalled(&n), MPS_NV_PLAIN);
	ck_assert_uint_eq(n.state, MPS_NS_PLAIN);
	ck_assert_ptr_nonnull(n.why);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_PLAIN);
	ck_assert(pub64(n.remote_pub) == 0);

	/* after the banner went raw: PLAIN too */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_timeout(&n), MPS_NV_WAIT);
	ck_assert_int_eq(nego_in(&n, buf, 1), MPS_NV_WAIT);
	ck_assert_int_eq(mps_nego_hello_stalled(&n), MPS_NV_PLAIN);

	/* a verdict already given stands */
	init(&n, MPS_SERVER);
	ck_assert_int_eq(nego_in(&n, buf, sizeof(buf)), MPS_NV_MP);
	ck_assert_int_eq(mps_nego_hello_stalled(&n), MPS_NV_MP);
	init(&n, MPS_SERVER);
	ck_assert_int_eq(mps_nego_eof(&n), MPS_NV_PLAIN);
	ck_assert_int_eq(mps_nego_hello_stalled(&n), MPS_NV_PLAIN);

	/* the client has its own reply timeout: no effect there */
	init(&n, MPS_CLIENT);
	ck_assert_int_eq(mps_nego_hello_stalled(&n), MPS_NV_WAIT);
	ck_assert_uint_eq(n.state, MPS_NS_WAIT);
}
END_TEST

START_TEST(test_nego_hello_timeout)
{
	/* always longer than a shim client waits for our HELLO_ACK */
	for (uint32_t rtt = 0; rtt < 1000000; rtt += 997)
		ck_assert_uint_eq(mps_nego_hello_timeout_us(rtt),
		                  mps_nego_reply_timeout_us(rtt, 0) + MPS_HELLO_GRACE_US);
	ck_assert_uint_eq(mps_nego_hello_timeout_us(0), 2000000u);
	ck_assert_uint_eq(mps_nego_hello_timeout_us(100000), 2800000u);
	ck_assert_uint_eq(mps_nego_hello_timeout_us(UINT32_MAX), 4000000u);
}
END_TEST

START_TEST(test_nego_reply_timeout)
{
	ck_assert_uint_eq(mps_nego_reply_timeout_us(0, 0), MPS_REPLY_BASE_US);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(1, 0), MPS_REPLY_BASE_US + 8);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(100000, 0), 1800000);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(250000, 0), MPS_REPLY_MAX_US);
	/* a known shim server gets longer, whatever the RTT */
	ck_assert_uint_eq(mps_nego_reply_timeout_us(0, 1), MPS_REPLY_KNOWN_US);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(250000, 1), MPS_REPLY_KNOWN_US);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(250001, 0), MPS_REPLY_MAX_US);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(10000000, 0), MPS_REPLY_MAX_US);
	/* 8*rtt (+ base) overflows 32 bits here: still capped */
	ck_assert_uint_eq(mps_nego_reply_timeout_us(0x20000000u, 0), MPS_REPLY_MAX_US);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(0x1fffffffu, 0), MPS_REPLY_MAX_US);
	ck_assert_uint_eq(mps_nego_reply_timeout_us(UINT32_MAX, 0), MPS_REPLY_MAX_US);
	for (uint32_t rtt = 0; rtt < 400000; rtt += 13) {
		uint64_t want = 8ull * rtt + MPS_REPLY_BASE_US;
		if (want > MPS_REPLY_MAX_US)
			want = MPS_REPLY_MAX_US;
		uint32_t got = mps_nego_reply_timeout_us(rtt, 0);
		if (got != want)
			ck_abort_msg("reply(%u) = %u, want %llu", rtt, got, (unsigned long long)want);
	}
}
END_TEST

START_TEST(test_nego_state_name)
{
	for (uint8_t s = MPS_NS_WAIT; s <= MPS_NS_ERROR; s++) {
		const char *name = mps_nego_state_name(s);
		ck_assert_ptr_nonnull(name);
		ck_assert(name[0] != '\0');
		for (uint8_t t = MPS_NS_WAIT; t < s; t++)
			ck_assert_str_ne(name, mps_nego_state_name(t));
	}
}
END_TEST

static Suite *nego_suite(void)
{
	Suite *s = suite_create("nego");
	TCase *tc = tcase_create("client");
	tcase_add_test(tc, test_nego_client_init);
	tcase_add_test(tc, test_nego_init_clears_all);
	tcase_add_test(tc, test_nego_client_hello_ack_bytewise);
	tcase_add_test(tc, test_nego_client_hello_ack_at_once);
	tcase_add_test(tc, test_nego_client_remote_wnd);
	tcase_add_test(tc, test_nego_client_small_wnd);
	tcase_add_test(tc, test_nego_client_hello_ack_then_data);
	tcase_add_test(tc, test_nego_client_caps_ignored);
	tcase_add_test(tc, test_nego_resume_lengths);
	tcase_add_test(tc, test_nego_client_prefix_mismatch);
	tcase_add_test(tc, test_nego_client_plain_server);
	tcase_add_test(tc, test_nego_client_gets_hello);
	tcase_add_test(tc, test_nego_client_eof);
	tcase_add_test(tc, test_nego_client_timeout);
	tcase_add_test(tc, test_nego_client_malformed);
	tcase_add_test(tc, test_nego_client_final);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_add_test(tc, test_nego_server_hello);
	tcase_add_test(tc, test_nego_server_plain);
	tcase_add_test(tc, test_nego_server_gets_hello_ack);
	tcase_add_test(tc, test_nego_server_prefix_mismatch);
	tcase_add_test(tc, test_nego_server_empty);
	tcase_add_test(tc, test_nego_server_eof);
	tcase_add_test(tc, test_nego_server_released);
	tcase_add_test(tc, test_nego_server_hello_stalled);
	tcase_add_test(tc, test_nego_server_malformed);
	tcase_add_test(tc, test_nego_server_final);
	tcase_add_test(tc, test_nego_v1_refused);
	tcase_add_test(tc, test_nego_final_events);
	suite_add_tcase(s, tc);

	tc = tcase_create("windows");
	tcase_add_test(tc, test_nego_banner_window);
	tcase_add_test(tc, test_nego_reply_timeout);
	tcase_add_test(tc, test_nego_hello_timeout);
	tcase_add_test(tc, test_nego_state_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nego_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
