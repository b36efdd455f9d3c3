/* check_execstate.c - the state carried across exec (src/execstate.c):
 * a valid state decodes to what was encoded; every cut, a trailing byte
 * and each field out of range are refused. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/execstate.h"

#define SB_LEN 100
#define RX_LEN 7
#define RLEN0 5
#define RLEN1 3

static void v4(uint8_t out[MPS_XS_ADDR], uint16_t port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};

	memset(out, 0, MPS_XS_ADDR);
	in.sin_addr.s_addr = htonl(0xc6120011); /* 198.18.0.17 */
	memcpy(out, &in, sizeof(in));
}

/* A two-subflow state with bytes in each part; returns its length. */
static size_t make(uint8_t *buf, size_t cap, struct mps_xs *x, struct mps_xs_sf *sf)
{
	size_t off, i;

	memset(x, 0, sizeof(*x));
	memset(sf, 0, 2 * sizeof(*sf));
	x->nsf = 2;
	x->sb_len = SB_LEN;
	x->rx_len = RX_LEN;
	x->rcv_wnd_max = 65536;
	x->sock_ino = 11;
	x->shim_ino = 12;
	x->shim_fd = 900;
	x->next_sf_id = 3;
	x->role = 1;
	x->snd_start = 1000;
	x->snd_una = 1010;
	x->snd_nxt = 1050;
	x->snd_max = 1060;
	x->sb_end = 1010 + SB_LEN;
	x->rcv_nxt = 5000;
	x->ack_sent = 4990;
	x->peer_len = sizeof(struct sockaddr_in);
	v4(x->peer, 40000);
	strcpy(x->peer_str, "198.18.0.17:40000");
	strcpy(x->sched, "default");
	x->remotes[0].valid = 1;
	x->remotes[0].id = 1;
	v4(x->remotes[0].addr, 20001);
	for (i = 0; i < 2; i++) {
		sf[i].fd = 901 + (int)i;
		sf[i].ino = 21 + i;
		sf[i].id = 1 + (uint32_t)i;
		sf[i].rlen = i ? RLEN1 : RLEN0;
		v4(sf[i].local, 20000);
		v4(sf[i].remote, (uint16_t)(40000 + i));
	}
	mps_xs_seal(x, sf);
	ck_assert_uint_le(x->size, cap);
	memcpy(buf, x, sizeof(*x));
	memcpy(buf + sizeof(*x), sf, 2 * sizeof(*sf));
	off = sizeof(*x) + 2 * sizeof(*sf);
	for (i = 0; i < SB_LEN + RX_LEN + RLEN0 + RLEN1; i++)
		buf[off + i] = (uint8_t)i;
	return x->size;
}

static int dec(const uint8_t *buf, size_t len)
{
	struct mps_xs x;
	struct mps_xs_sf sf[MPS_XS_MAX_SF];
	const uint8_t *sb, *rx, *rb;
	const char *why = NULL;
	int rc = mps_xs_decode(buf, len, &x, sf, &sb, &rx, &rb, &why);

	if (rc)
		ck_assert_ptr_nonnull(why);
	return rc;
}

START_TEST(test_roundtrip)
{
	static uint8_t buf[1 << 16];
	struct mps_xs x, y;
	struct mps_xs_sf sf[2], got[MPS_XS_MAX_SF];
	const uint8_t *sb, *rx, *rb;
	const char *why = NULL;
	size_t len = make(buf, sizeof(buf), &x, sf);

	ck_assert_uint_eq(len, sizeof(x) + 2 * sizeof(sf[0]) + SB_LEN + RX_LEN + RLEN0 + RLEN1);
	ck_assert_int_eq(mps_xs_decode(buf, len, &y, got, &sb, &rx, &rb, &why), 0);
	ck_assert_int_eq(memcmp(&x, &y, sizeof(x)), 0);
	ck_assert_int_eq(memcmp(sf, got, sizeof(sf)), 0);
	ck_assert_ptr_eq(sb, buf + sizeof(x) + 2 * sizeof(sf[0]));
	ck_assert_ptr_eq(rx, sb + SB_LEN);
	ck_assert_ptr_eq(rb, rx + RX_LEN);
	ck_assert_uint_eq(sb[0], 0);
	ck_assert_uint_eq(rx[0], SB_LEN);
	ck_assert_uint_eq(rb[RLEN0], SB_LEN + RX_LEN + RLEN0);
}
END_TEST

START_TEST(test_cut_and_trailing)
{
	static uint8_t buf[1 << 16];
	struct mps_xs x;
	struct mps_xs_sf sf[2];
	size_t len = make(buf, sizeof(buf), &x, sf), n;

	for (n = 0; n < len; n++)
		ck_assert_int_eq(dec(buf, n), -EINVAL);
	ck_assert_int_eq(dec(buf, len + 1), -EINVAL); /* a trailing byte */
	ck_assert_int_eq(dec(buf, len), 0);
}
END_TEST

/* Each mutation of a valid state must be refused. */
#define REFUSED(stmt)                                                           \
	do {                                                                    \
		len = make(buf, sizeof(buf), &x, sf);                           \
		stmt;                                                           \
		memcpy(buf, &x, sizeof(x));                                     \
		memcpy(buf + sizeof(x), sf, 2 * sizeof(sf[0]));                 \
		ck_assert_msg(dec(buf, len) == -EINVAL, "accepted: %s", #stmt); \
	} while (0)

START_TEST(test_fields)
{
	static uint8_t buf[1 << 16];
	struct mps_xs x;
	struct mps_xs_sf sf[2];
	size_t len;

	REFUSED(x.magic[0] ^= 1);
	REFUSED(x.version = 2);
	REFUSED(x.size += 1);
	REFUSED(x.nsf = 0);
	REFUSED(x.nsf = MPS_XS_MAX_SF + 1);
	REFUSED(x.sb_len += 1);
	REFUSED(x.rx_len = x.rcv_wnd_max + 1);
	REFUSED(x.rcv_wnd_max = 0);
	REFUSED(x.role = 2);
	REFUSED(x.shim_fd = -1);
	REFUSED(x.sock_ino = 0);
	REFUSED(x.shim_ino = 0);
	REFUSED(x.next_sf_id = 0);
	REFUSED(x.peer_len = 3);
	REFUSED(x.peer[0] = x.peer[1] = 0);
	REFUSED(x.snd_una = x.snd_start - 1);
	REFUSED(x.snd_nxt = x.snd_una - 1);
	REFUSED(x.snd_max = x.snd_nxt - 1);
	REFUSED(x.sb_end = x.snd_max - 1);
	REFUSED(x.ack_sent = x.rcv_nxt + 1);
	REFUSED(x.remotes[1].valid = 2);
	REFUSED(x.remotes[1].valid = 1); /* no address */
	REFUSED(x.fresh = 2);
	REFUSED(x.fresh = 1); /* with data and two subflows */
	REFUSED(sf[1].fd = -1);
	REFUSED(sf[1].ino = 0);
	REFUSED(sf[1].id = 0);
	REFUSED(sf[1].id = sf[0].id);
	REFUSED(sf[1].fd = sf[0].fd);
	REFUSED(sf[1].ino = sf[0].ino);
	REFUSED(sf[1].fd = x.shim_fd);
	REFUSED(sf[0].ino = x.shim_ino);
	REFUSED(sf[1].rlen = MPS_XS_MAX_RBUF + 1);
	REFUSED(sf[1].rlen += 1);
	REFUSED(sf[1].local[0] = sf[1].local[1] = 0);
	REFUSED(sf[1].remote[0] = 77);
}
END_TEST

START_TEST(test_strings_terminated)
{
	static uint8_t buf[1 << 16];
	struct mps_xs x, y;
	struct mps_xs_sf sf[2], got[MPS_XS_MAX_SF];
	const uint8_t *sb, *rx, *rb;
	const char *why;
	size_t len = make(buf, sizeof(buf), &x, sf);

	memset(x.peer_str, 'a', sizeof(x.peer_str));
	memset(x.sched, 'b', sizeof(x.sched));
	memset(sf[1].peer_str, 'c', sizeof(sf[1].peer_str));
	memcpy(buf, &x, sizeof(x));
	memcpy(buf + sizeof(x), sf, sizeof(sf));
	ck_assert_int_eq(mps_xs_decode(buf, len, &y, got, &sb, &rx, &rb, &why), 0);
	ck_assert_uint_eq(strlen(y.peer_str), sizeof(y.peer_str) - 1);
	ck_assert_uint_eq(strlen(y.sched), sizeof(y.sched) - 1);
	ck_assert_uint_eq(strlen(got[1].peer_str), sizeof(got[1].peer_str) - 1);
}
END_TEST

START_TEST(test_fresh)
{
	static uint8_t buf[1 << 16];
	struct mps_xs x;
	struct mps_xs_sf sf[2];
	size_t len;

	make(buf, sizeof(buf), &x, sf);
	x.nsf = 1;
	x.sb_len = x.rx_len = 0;
	x.snd_start = x.snd_una = x.snd_nxt = x.snd_max = x.sb_end = 0;
	sf[0].rlen = 0;
	x.fresh = 1;
	mps_xs_seal(&x, sf);
	len = x.size;
	memcpy(buf, &x, sizeof(x));
	memcpy(buf + sizeof(x), sf, sizeof(sf[0]));
	ck_assert_int_eq(dec(buf, len), 0);
	x.role = 0; /* a client's is never fresh */
	memcpy(buf, &x, sizeof(x));
	ck_assert_int_eq(dec(buf, len), -EINVAL);
}
END_TEST

START_TEST(test_size_bounds)
{
	ck_assert_uint_eq(mps_xs_size(1, MPS_XS_MAX_BUF + 1ull, 0, 0), 0);
	ck_assert_uint_eq(mps_xs_size(1, 0, MPS_XS_MAX_BUF + 1ull, 0), 0);
	ck_assert_uint_eq(mps_xs_size(1, 0, 0, (uint64_t)MPS_XS_MAX_SF * MPS_XS_MAX_RBUF + 1), 0);
	ck_assert_uint_eq(mps_xs_size(MPS_XS_MAX_SF, MPS_XS_MAX_BUF, MPS_XS_MAX_BUF,
	                              (uint64_t)MPS_XS_MAX_SF * MPS_XS_MAX_RBUF) > 0,
	                  1);
}
END_TEST

static Suite *execstate_suite(void)
{
	Suite *s = suite_create("execstate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_cut_and_trailing);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_strings_terminated);
	tcase_add_test(tc, test_fresh);
	tcase_add_test(tc, test_size_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(execstate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
