/* check_gwreq.c - the gateway request/reply codec: tables of byte vectors
 * checked exactly, every truncation length, trailing bytes, every field
 * rule, and random round trips. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "mptcpshim/gwreq.h"
#include "mptcpshim/util.h"
#include "unhex.h"

static const char *auth64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                            "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

/* Valid requests: the destination, the authenticator (or none), and the
 * exact bytes on the wire. */
struct req_vec {
	const char *what;
	struct mps_gwdest dest;
	int auth;
	const char *hex;
};

static const struct req_vec req_vecs[] = {
        {"IPv4 198.18.0.1:443",
         {.type = MPS_GWT_DEST_IPV4, .port = 443, .addr = {198, 18, 0, 1}},
         0,
         "01 01 0009 01 0006 c6120001 01bb"},
        {"IPv6 [2001:db8::1]:80",
         {.type = MPS_GWT_DEST_IPV6, .port = 80, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
         0,
         "01 01 0015 02 0012 20010db8000000000000000000000001 0050"},
        {"name example.com:8443",
         {.type = MPS_GWT_DEST_NAME, .port = 8443, .name_len = 11, .name = "example.com"},
         0,
         "01 01 0010 03 000d 20fb 6578616d706c652e636f6d"},
        {"IPv4 with authenticator",
         {.type = MPS_GWT_DEST_IPV4, .port = 22, .addr = {198, 18, 1, 2}},
         1,
         "01 01 004c 01 0006 c6120102 0016 04 0040 "
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"},
};

struct rep_vec {
	uint8_t result;
	int confirm;
	const char *hex;
};

static const struct rep_vec rep_vecs[] = {
        {MPS_GWR_OK, 0, "01 02 0004 10 0001 00"},
        {MPS_GWR_TIMEDOUT, 0, "01 02 0004 10 0001 02"},
        {MPS_GWR_POLICY, 1, "01 02 0017 10 0001 05 11 0010 000102030405060708090a0b0c0d0e0f"},
};

static void assert_dest_eq(const struct mps_gwdest *a, const struct mps_gwdest *b)
{
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->port, b->port);
	if (a->type == MPS_GWT_DEST_NAME) {
		ck_assert_uint_eq(a->name_len, b->name_len);
		ck_assert_str_eq(a->name, b->name);
	} else {
		ck_assert_mem_eq(a->addr, b->addr, a->type == MPS_GWT_DEST_IPV4 ? 4 : 16);
	}
}

START_TEST(test_request_vectors)
{
	for (size_t i = 0; i < MPS_ARRAY_SIZE(req_vecs); i++) {
		const struct req_vec *v = &req_vecs[i];
		uint8_t want[600], out[600], auth[64];
		size_t n = unhex(v->hex, want, sizeof(want));
		struct mps_gwreq r;
		const char *why = NULL;

		unhex(auth64, auth, sizeof(auth));
		ck_assert_uint_eq(
		        mps_gwreq_put_request(out, sizeof(out), &v->dest, v->auth ? auth : NULL),
		        n);
		ck_assert_mem_eq(out, want, n);
		/* One byte short of room: nothing. */
		ck_assert_uint_eq(
		        mps_gwreq_put_request(out, n - 1, &v->dest, v->auth ? auth : NULL), 0);
		/* Decoded exactly, with the app's bytes behind it left alone. */
		memcpy(want + n, "\x16\x03\x01", 3);
		ck_assert_int_eq(mps_gwreq_decode_request(want, n + 3, &r, &why), (int)n);
		assert_dest_eq(&r.dest, &v->dest);
		ck_assert_uint_eq(r.has_auth, v->auth);
		if (v->auth)
			ck_assert_mem_eq(r.auth, auth, 64);
		/* Cut short at every length: "need more", never a verdict. */
		for (size_t k = 0; k < n; k++)
			ck_assert_msg(mps_gwreq_decode_request(want, k, &r, &why) == 0,
			              "%s cut at %zu", v->what, k);
	}
}
END_TEST

START_TEST(test_reply_vectors)
{
	uint8_t confirm[16];

	for (int i = 0; i < 16; i++)
		confirm[i] = (uint8_t)i;
	for (size_t i = 0; i < MPS_ARRAY_SIZE(rep_vecs); i++) {
		const struct rep_vec *v = &rep_vecs[i];
		uint8_t want[64], out[64];
		size_t n = unhex(v->hex, want, sizeof(want));
		struct mps_gwrep r;

		ck_assert_uint_eq(mps_gwreq_put_reply(out, sizeof(out), v->result,
		                                      v->confirm ? confirm : NULL),
		                  n);
		ck_assert_mem_eq(out, want, n);
		ck_assert_int_eq(mps_gwreq_decode_reply(want, n, &r, NULL), (int)n);
		ck_assert_uint_eq(r.result, v->result);
		ck_assert_uint_eq(r.has_confirm, v->confirm);
		if (v->confirm)
			ck_assert_mem_eq(r.confirm, confirm, 16);
		for (size_t k = 0; k < n; k++)
			ck_assert_int_eq(mps_gwreq_decode_reply(want, k, &r, NULL), 0);
	}
	ck_assert_uint_eq(mps_gwreq_put_reply(NULL, 64, MPS_GWR_MAX + 1, NULL), 0);
}
END_TEST

/* Invalid messages: each refused, for the stated reason. */
struct bad_vec {
	int reply;
	const char *hex;
	const char *why;
};

static const struct bad_vec bad_vecs[] = {
        {0, "02", "version"},
        {0, "47", "version"}, /* "GET ..." is refused at its first byte */
        {0, "01 02", "not a gateway request"},
        {1, "01 01", "not a gateway reply"},
        {0, "01 01 0401", "longer than 1024"},
        {0, "01 01 0002 01 00", "truncated TLV header"},
        {0, "01 01 0005 01 0006 c612", "runs past"},
        {0, "01 01 0008 01 0005 c6120001 01", "length is not 6"},
        {0, "01 01 000a 01 0007 c6120001 01bb 00", "length is not 6"},
        {0, "01 01 0014 02 0011 20010db8000000000000000000000001 00", "length is not 18"},
        {0, "01 01 0009 01 0006 c6120001 0000", "port 0"},
        {0, "01 01 0012 01 0006 c6120001 01bb 01 0006 c6120002 01bb", "repeated"},
        {0, "01 01 0012 01 0006 c6120001 01bb 03 0006 01bb 61 2e 62 63",
         "more than one destination"},
        {0, "01 01 0003 05 0000", "unknown TLV type"},
        {0, "01 01 0003 10 0001", "runs past"},
        {0, "01 01 0004 10 0001 00", "unknown TLV type in a request"},
        {0, "01 01 0000", "without a destination"},
        {0,
         "01 01 0043 04 0040 "
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
         "without a destination"},
        {0,
         "01 01 004b 01 0006 c6120001 01bb 04 003f "
         "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "length is not 64"},
        {0, "01 01 0005 03 0002 01bb", "length not 3..257"},
        {0, "01 01 0008 03 0005 01bb 61 2f 62", "not a valid host name"}, /* a/b */
        {0, "01 01 0008 03 0005 01bb 61 2e 2e", "not a valid host name"}, /* a.. */
        {0, "01 01 0008 03 0005 01bb 2e 61 62", "not a valid host name"}, /* .ab */
        {0, "01 01 0008 03 0005 01bb 61 00 62", "not a valid host name"}, /* NUL */
        {0, "01 01 0007 03 0004 0000 6162", "port 0"},
        {1, "01 02 0004 10 0001 07", "unknown code"},
        {1, "01 02 0005 10 0002 0000", "length is not 1"},
        {1, "01 02 0000", "without a result"},
        {1, "01 02 0008 10 0001 00 10 0001 00", "repeated"},
        {1, "01 02 0016 10 0001 00 11 000f 000102030405060708090a0b0c0d0e", "length is not 16"},
        {1, "01 02 0009 10 0001 00 01 0006 c6120001", "runs past"},
        {1, "01 02 000d 10 0001 00 01 0006 c6120001 01bb", "unknown TLV type in a reply"},
};

START_TEST(test_bad_vectors)
{
	for (size_t i = 0; i < MPS_ARRAY_SIZE(bad_vecs); i++) {
		const struct bad_vec *v = &bad_vecs[i];
		uint8_t b[600];
		size_t n = unhex(v->hex, b, sizeof(b));
		const char *why = NULL;
		struct mps_gwreq rq;
		struct mps_gwrep rp;
		int rc = v->reply ? mps_gwreq_decode_reply(b, n, &rp, &why) :
		                    mps_gwreq_decode_request(b, n, &rq, &why);

		ck_assert_msg(rc == -EBADMSG, "vector %zu (%s): rc %d", i, v->hex, rc);
		ck_assert_msg(why && strstr(why, v->why), "vector %zu: why '%s', expected '%s'", i,
		              why ? why : "(null)", v->why);
	}
}
END_TEST

/* Types 128..255 are optional extensions, skipped wherever they are. */
START_TEST(test_ignorable_tlv)
{
	uint8_t b[64], rb[32];
	size_t n = unhex("01 01 0011 c8 0002 abcd 01 0006 c6120001 01bb ff 0000", b, sizeof(b));
	size_t m = unhex("01 02 0007 80 0000 10 0001 03", rb, sizeof(rb));
	struct mps_gwreq r;
	struct mps_gwrep p;

	ck_assert_int_eq(mps_gwreq_decode_request(b, n, &r, NULL), (int)n);
	ck_assert_uint_eq(r.dest.type, MPS_GWT_DEST_IPV4);
	ck_assert_uint_eq(r.dest.port, 443);
	ck_assert_int_eq(mps_gwreq_decode_reply(rb, m, &p, NULL), (int)m);
	ck_assert_uint_eq(p.result, MPS_GWR_HOSTUNREACH);
}
END_TEST

START_TEST(test_name_rules)
{
	static const struct {
		const char *name;
		int ok;
	} t[] = {
	        {"a", 1},   {"example.com", 1}, {"example.com.", 1}, {"_srv.x-y.Z9", 1}, {"", 0},
	        {".", 0},   {"..", 0},          {".example", 0},     {"a..b", 0},        {"a b", 0},
	        {"a:b", 0}, {"[::1]", 0},       {"caf\xc3\xa9", 0},
	};
	char big[300];
	struct mps_gwdest d;

	for (size_t i = 0; i < MPS_ARRAY_SIZE(t); i++)
		ck_assert_msg(mps_gwdest_name_ok(t[i].name, strlen(t[i].name)) == t[i].ok, "'%s'",
		              t[i].name);
	/* Labels of 63 are fine, 64 are not; names of 255 are fine, 256 not. */
	memset(big, 'a', 64);
	ck_assert(mps_gwdest_name_ok(big, 63));
	ck_assert(!mps_gwdest_name_ok(big, 64));
	for (int i = 0; i < 256; i++)
		big[i] = (i % 8 == 7) ? '.' : 'b';
	big[255] = 'c';
	ck_assert(mps_gwdest_name_ok(big, 255));
	ck_assert(!mps_gwdest_name_ok(big, 256));
	ck_assert_int_eq(mps_gwdest_set_name(&d, big, 255, 1), 0);
	ck_assert_uint_eq(d.name_len, 255);
	ck_assert_int_eq(mps_gwdest_set_name(&d, "x", 1, 0), -EINVAL);
	ck_assert_int_eq(mps_gwdest_set_name(&d, "x y", 3, 80), -EINVAL);
}
END_TEST

START_TEST(test_errno_mapping)
{
	static const struct {
		uint8_t code;
		int err;
	} t[] = {
	        {MPS_GWR_OK, 0},
	        {MPS_GWR_REFUSED, ECONNREFUSED},
	        {MPS_GWR_TIMEDOUT, ETIMEDOUT},
	        {MPS_GWR_HOSTUNREACH, EHOSTUNREACH},
	        {MPS_GWR_NETUNREACH, ENETUNREACH},
	        {MPS_GWR_POLICY, ECONNREFUSED},
	        {MPS_GWR_NAME, EHOSTUNREACH},
	        {200, ECONNREFUSED},
	};

	for (size_t i = 0; i < MPS_ARRAY_SIZE(t); i++)
		ck_assert_int_eq(mps_gwreq_result_errno(t[i].code), t[i].err);
	ck_assert_uint_eq(mps_gwreq_result_of_errno(0), MPS_GWR_OK);
	ck_assert_uint_eq(mps_gwreq_result_of_errno(-ECONNREFUSED), MPS_GWR_REFUSED);
	ck_assert_uint_eq(mps_gwreq_result_of_errno(ETIMEDOUT), MPS_GWR_TIMEDOUT);
	ck_assert_uint_eq(mps_gwreq_result_of_errno(-EHOSTUNREACH), MPS_GWR_HOSTUNREACH);
	ck_assert_uint_eq(mps_gwreq_result_of_errno(ENETUNREACH), MPS_GWR_NETUNREACH);
	ck_assert_uint_eq(mps_gwreq_result_of_errno(ENETDOWN), MPS_GWR_NETUNREACH);
	ck_assert_uint_eq(mps_gwreq_result_of_errno(EACCES), MPS_GWR_REFUSED);
	/* Every code round-trips through its errno where the errno has a code. */
	for (uint8_t c = MPS_GWR_OK; c <= MPS_GWR_NETUNREACH; c++)
		ck_assert_uint_eq(mps_gwreq_result_of_errno(mps_gwreq_result_errno(c)), c);
	ck_assert_str_eq(mps_gwreq_result_name(MPS_GWR_POLICY), "refused by policy");
	ck_assert_str_eq(mps_gwreq_result_name(99), "unknown");
}
END_TEST

/* Random destinations: encode, decode, re-encode gives the same bytes. */
/* The destination as a sockaddr and as a log string, worked by hand. */
START_TEST(test_dest_forms)
{
	struct mps_gwdest d;
	struct sockaddr_storage ss;
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
	char buf[300];

	memset(&d, 0, sizeof(d));
	d.type = MPS_GWT_DEST_IPV4;
	d.port = 8080;
	memcpy(d.addr, "\xc6\x12\x00\x02", 4); /* 198.18.0.2 */
	ck_assert_uint_eq(mps_gwreq_dest_sockaddr(&d, &ss), sizeof(struct sockaddr_in));
	ck_assert_int_eq(in->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(in->sin_port), 8080);
	ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), 0xc6120002u);
	ck_assert_str_eq(mps_gwreq_dest_str(&d, buf, sizeof(buf)), "198.18.0.2:8080");

	d.type = MPS_GWT_DEST_IPV6;
	memset(d.addr, 0, 16);
	memcpy(d.addr, "\x20\x01\x0d\xb8", 4);
	d.addr[15] = 1; /* 2001:db8::1 */
	ck_assert_uint_eq(mps_gwreq_dest_sockaddr(&d, &ss), sizeof(struct sockaddr_in6));
	ck_assert_int_eq(in6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(in6->sin6_port), 8080);
	ck_assert_int_eq(memcmp(&in6->sin6_addr, d.addr, 16), 0);
	ck_assert_str_eq(mps_gwreq_dest_str(&d, buf, sizeof(buf)), "[2001:db8::1]:8080");

	d.type = MPS_GWT_DEST_NAME;
	strcpy(d.name, "mirror.example");
	d.name_len = 14;
	ck_assert_uint_eq(mps_gwreq_dest_sockaddr(&d, &ss), 0);
	ck_assert_str_eq(mps_gwreq_dest_str(&d, buf, sizeof(buf)), "mirror.example:8080");
}
END_TEST

START_TEST(test_random_roundtrip)
{
	srand(14);
	for (int i = 0; i < 5000; i++) {
		struct mps_gwdest d;
		struct mps_gwreq r;
		uint8_t auth[64], a[MPS_GWREQ_MSG_MAX], b[MPS_GWREQ_MSG_MAX];
		size_t n, m;
		int with_auth = rand() & 1;

		memset(&d, 0, sizeof(d));
		d.type = (uint8_t)(1 + rand() % 3);
		d.port = (uint16_t)(1 + rand() % 65535);
		for (int k = 0; k < 16; k++)
			d.addr[k] = (uint8_t)rand();
		if (d.type == MPS_GWT_DEST_NAME) {
			d.name_len = (uint8_t)(1 + rand() % 255);
			for (int k = 0; k < d.name_len; k++)
				d.name[k] = (k % 10 == 9 && k + 1 < d.name_len) ?
				                    '.' :
				                    (char)('a' + rand() % 26);
			d.name[d.name_len] = '\0';
			memset(d.addr, 0, sizeof(d.addr));
		} else if (d.type == MPS_GWT_DEST_IPV4) {
			memset(d.addr + 4, 0, 12);
		}
		for (int k = 0; k < 64; k++)
			auth[k] = (uint8_t)rand();
		n = mps_gwreq_put_request(a, sizeof(a), &d, with_auth ? auth : NULL);
		ck_assert_uint_gt(n, 0);
		ck_assert_int_eq(mps_gwreq_decode_request(a, n, &r, NULL), (int)n);
		assert_dest_eq(&r.dest, &d);
		m = mps_gwreq_put_request(b, sizeof(b), &r.dest, r.has_auth ? r.auth : NULL);
		ck_assert_uint_eq(m, n);
		ck_assert_mem_eq(a, b, n);
	}
}
END_TEST

static Suite *gwreq_suite(void)
{
	Suite *s = suite_create("gwreq");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_request_vectors);
	tcase_add_test(tc, test_reply_vectors);
	tcase_add_test(tc, test_bad_vectors);
	tcase_add_test(tc, test_ignorable_tlv);
	tcase_add_test(tc, test_name_rules);
	tcase_add_test(tc, test_errno_mapping);
	tcase_add_test(tc, test_random_roundtrip);
	tcase_add_test(tc, test_dest_forms);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gwreq_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
