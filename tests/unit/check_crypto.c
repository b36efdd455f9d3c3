/* check_crypto.c - key derivation, HMAC-SHA256 and join HMAC against
 * independently computed vectors (Python hashlib, Linux kernel KUnit). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mptcpshim/crypto.h"

struct derive_vec {
	uint64_t key;
	uint32_t token;
	uint64_t idsn;
};

struct join_vec {
	uint64_t key_a, key_b;
	uint32_t nonce_a, nonce_b;
	const char *hmac;
};

/* The two tables below are the output of tests/unit/vectors.py, which
 * regenerates them with Python's hashlib/hmac (python3 tests/unit/vectors.py). */

/* key, token, idsn */
static const struct derive_vec derive_vecs[] = {
	{ 0x0000000000000001ULL, 0xcd266215U, 0x19ec509083d00a50ULL },
	{ 0x0123456789abcdefULL, 0x55c53f5dU, 0x570762cd38be9818ULL },
	{ 0xffffffffffffffffULL, 0x12a3ae44U, 0x57fb595bbbacf0caULL },
	{ 0x8000000000000000ULL, 0xb1b0bee5U, 0x8e13d367c47404a9ULL },
	{ 0x00000000ffffffffULL, 0x5981693cU, 0x887ed5ffbf086e86ULL },
	{ 0xdeadbeefcafebabeULL, 0x3f8a286aU, 0x33a8062a61d417f8ULL },
	{ 0x0102030405060708ULL, 0x66840ddaU, 0xf5a101d3d29d6f72ULL },
};

/* key_a, key_b, nonce_a, nonce_b, hmac */
static const struct join_vec join_vecs[] = {
	{ 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x01020304U, 0xa0b0c0d0U,
	  "0ca3ceb849b1a94372451ab6b22b0ba8e61b1affa4aa8dfbf9661161d4a07bdb" },
	{ 0x0000000000000001ULL, 0xffffffffffffffffULL, 0x00000000U, 0xffffffffU,
	  "91266aeba170e65d29a5968d15a2a967bde778d140dd03f442ef16708513f78b" },
	{ 0xdeadbeefcafebabeULL, 0x8000000000000000ULL, 0x80000000U, 0x00000001U,
	  "0ead22e91a3c0a5cae3d1533a89451f1f582c0db15f4214d7c96b122a01d97e3" },
};

/* Linux net/mptcp/crypto_test.c: key and msg are the ASCII bytes of the
 * strings (16 and 8 bytes). */
struct kunit_vec {
	const char *key, *msg, *result;
};

static const struct kunit_vec kunit_vecs[] = {
	{ "0b0b0b0b0b0b0b0b", "48692054",
	  "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa" },
	{ "aaaaaaaaaaaaaaaa", "dddddddd",
	  "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9" },
	{ "0102030405060708", "cdcdcdcd",
	  "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static uint64_t be64_of(const char *s)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | (uint8_t)s[i];
	return v;
}

static uint32_t be32_of(const char *s)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | (uint8_t)s[i];
	return v;
}

START_TEST(test_crypto_key_derive)
{
	for (size_t i = 0; i < NELEM(derive_vecs); i++) {
		uint32_t token = 0x5a5a5a5a;
		uint64_t idsn = 0x5a5a5a5a5a5a5a5aULL;
		mps_crypto_key_derive(derive_vecs[i].key, &token, &idsn);
		ck_assert_msg(token == derive_vecs[i].token,
			      "key %016llx: token %08x, expected %08x",
			      (unsigned long long)derive_vecs[i].key, token, derive_vecs[i].token);
		ck_assert_msg(idsn == derive_vecs[i].idsn,
			      "key %016llx: idsn %016llx, expected %016llx",
			      (unsigned long long)derive_vecs[i].key, (unsigned long long)idsn,
			      (unsigned long long)derive_vecs[i].idsn);
	}
}
END_TEST

START_TEST(test_crypto_hmac_sha256_kunit)
{
	for (size_t i = 0; i < NELEM(kunit_vecs); i++) {
		uint8_t out[32];
		char hex[65];
		memset(out, 0xa5, sizeof(out));
		mps_crypto_hmac_sha256((const uint8_t *)kunit_vecs[i].key, strlen(kunit_vecs[i].key),
				       (const uint8_t *)kunit_vecs[i].msg, strlen(kunit_vecs[i].msg),
				       out);
		to_hex(out, 32, hex);
		ck_assert_str_eq(hex, kunit_vecs[i].result);
	}
}
END_TEST

/* RFC 4231 test case 2: a short key ("Jefe") and a message longer than 8 bytes. */
START_TEST(test_crypto_hmac_sha256_rfc4231)
{
	static const char key[] = "Jefe";
	static const char msg[] = "what do ya want for nothing?";
	uint8_t out[32];
	char hex[65];
	mps_crypto_hmac_sha256((const uint8_t *)key, strlen(key), (const uint8_t *)msg,
			       strlen(msg), out);
	to_hex(out, 32, hex);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
END_TEST

/* The key's lengths around SHA-256's 64-byte block (the HMAC is built on
 * the digest: a key longer than a block is hashed first): RFC 4231 test
 * cases 1 (20 bytes) and 6 (131 bytes), and a key of exactly 64 bytes
 * (Python's hmac). */
START_TEST(test_crypto_hmac_sha256_key_lengths)
{
	uint8_t k20[20], k131[131], k64[64], out[32];
	char hex[65];
	static const char m1[] = "Hi There";
	static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	static const char m64[] = "exactly one block of key";

	memset(k20, 0x0b, sizeof(k20));
	memset(k131, 0xaa, sizeof(k131));
	for (size_t i = 0; i < sizeof(k64); i++)
		k64[i] = (uint8_t)i;
	mps_crypto_hmac_sha256(k20, sizeof(k20), (const uint8_t *)m1, strlen(m1), out);
	to_hex(out, 32, hex);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	mps_crypto_hmac_sha256(k131, sizeof(k131), (const uint8_t *)m6, strlen(m6), out);
	to_hex(out, 32, hex);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	mps_crypto_hmac_sha256(k64, sizeof(k64), (const uint8_t *)m64, strlen(m64), out);
	to_hex(out, 32, hex);
	ck_assert_str_eq(hex, "aed89a53f83495834369f6c764db660e0e41d224347eb2b6f2054241399e36e2");
}
END_TEST

START_TEST(test_crypto_join_hmac_python)
{
	for (size_t i = 0; i < NELEM(join_vecs); i++) {
		uint8_t out[32];
		char hex[65];
		memset(out, 0xa5, sizeof(out));
		mps_crypto_join_hmac(join_vecs[i].key_a, join_vecs[i].key_b, join_vecs[i].nonce_a,
				     join_vecs[i].nonce_b, out);
		to_hex(out, 32, hex);
		ck_assert_str_eq(hex, join_vecs[i].hmac);
	}
}
END_TEST

/* The kernel KUnit test reads its ASCII key/msg as big-endian integers and
 * feeds them to mptcp_crypto_hmac_sha: the same construction as join_hmac. */
START_TEST(test_crypto_join_hmac_kunit)
{
	for (size_t i = 0; i < NELEM(kunit_vecs); i++) {
		uint8_t out[32];
		char hex[65];
		const char *k = kunit_vecs[i].key, *m = kunit_vecs[i].msg;
		mps_crypto_join_hmac(be64_of(k), be64_of(k + 8), be32_of(m), be32_of(m + 4), out);
		to_hex(out, 32, hex);
		ck_assert_str_eq(hex, kunit_vecs[i].result);
	}
}
END_TEST

START_TEST(test_crypto_join_hmac_order)
{
	/* swapping the keys or the nonces must change the digest */
	uint8_t a[32], b[32], c[32];
	mps_crypto_join_hmac(1, 2, 3, 4, a);
	mps_crypto_join_hmac(2, 1, 3, 4, b);
	mps_crypto_join_hmac(1, 2, 4, 3, c);
	ck_assert(memcmp(a, b, 32) != 0);
	ck_assert(memcmp(a, c, 32) != 0);
}
END_TEST

START_TEST(test_crypto_new_key)
{
	uint64_t k1 = 0, k2 = 0;
	ck_assert_int_eq(mps_crypto_new_key(&k1), 0);
	ck_assert_int_eq(mps_crypto_new_key(&k2), 0);
	ck_assert(k1 != 0);
	ck_assert(k2 != 0);
	ck_assert(k1 != k2);
	for (int i = 0; i < 1000; i++) {
		uint64_t k = 0;
		ck_assert_int_eq(mps_crypto_new_key(&k), 0);
		ck_assert(k != 0);
	}
}
END_TEST

/* The random pool (crypto.c) across its refills: no 16-byte draw repeats,
 * and a draw of n bytes fills exactly n. */
START_TEST(test_crypto_random_pool)
{
	static uint8_t seen[400][16];
	uint8_t guard[20];

	for (int i = 0; i < 400; i++) { /* 6,400 bytes: three refills */
		mps_crypto_lock(1);
		ck_assert_int_eq(mps_crypto_random_locked(seen[i], 16), 0);
		mps_crypto_lock(0);
		for (int j = 0; j < i; j++)
			ck_assert(memcmp(seen[i], seen[j], 16) != 0);
	}
	memset(guard, 0xee, sizeof(guard));
	mps_crypto_lock(1);
	ck_assert_int_eq(mps_crypto_random_locked(guard, 3), 0);
	mps_crypto_lock(0);
	for (int i = 3; i < 20; i++)
		ck_assert_int_eq(guard[i], 0xee);
}
END_TEST

/* A forked child never hands out the bytes its parent will (the pool's
 * page is wiped in the child): without MADV_WIPEONFORK both would draw
 * the same next 16 bytes from the pool they share as a copy. */
START_TEST(test_crypto_random_fork)
{
	uint8_t first[16], mine[16], theirs[16];
	int pfd[2];
	pid_t pid;
	int st;

	mps_crypto_lock(1);
	ck_assert_int_eq(mps_crypto_random_locked(first, 16), 0); /* the pool is full now */
	mps_crypto_lock(0);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint8_t b[16];

		mps_crypto_lock(1);
		if (mps_crypto_random_locked(b, 16) != 0)
			_exit(2);
		mps_crypto_lock(0);
		_exit(write(pfd[1], b, 16) == 16 ? 0 : 3);
	}
	mps_crypto_lock(1);
	ck_assert_int_eq(mps_crypto_random_locked(mine, 16), 0);
	mps_crypto_lock(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(read(pfd[0], theirs, 16), 16);
	ck_assert(memcmp(mine, theirs, 16) != 0);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_crypto_key_derive);
	tcase_add_test(tc, test_crypto_hmac_sha256_kunit);
	tcase_add_test(tc, test_crypto_hmac_sha256_rfc4231);
	tcase_add_test(tc, test_crypto_hmac_sha256_key_lengths);
	tcase_add_test(tc, test_crypto_join_hmac_python);
	tcase_add_test(tc, test_crypto_join_hmac_kunit);
	tcase_add_test(tc, test_crypto_join_hmac_order);
	tcase_add_test(tc, test_crypto_new_key);
	tcase_add_test(tc, test_crypto_random_pool);
	tcase_add_test(tc, test_crypto_random_fork);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(crypto_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
