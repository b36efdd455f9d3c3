/* check_kex.c - X25519 (RFC 7748 vectors), HKDF (RFC 5869 vectors) and the
 * key schedule against vectors computed independently by
 * tests/unit/kex_vectors.py (Python hashlib/hmac). */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mptcpshim/crypto.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/kex.h"
#include "mptcpshim/resume.h"
#include "mptcpshim/util.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	ck_assert_uint_eq(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

#define ck_assert_hex(buf, n, hexstr)                \
	do {                                         \
		uint8_t want_[256];                  \
		unhex((hexstr), want_, (n));         \
		ck_assert_mem_eq((buf), want_, (n)); \
	} while (0)

/* RFC 7748 section 6.1. */
static const char *alice_priv = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char *alice_pub = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char *bob_priv = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char *bob_pub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char *shared_k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

/* The output of tests/unit/kex_vectors.py: the 144 OKM bytes of the
 * schedule over RFC 7748's shared secret, pub_c = Alice's, pub_s = Bob's,
 * without a PSK and with PSK = 20 21 .. 3f; then the resumed schedule
 * with okm_nopsk's rms as the ticket's secret, pub_c = Alice's, ticket
 * 40..4f, nonce_c 50..5f, nonce_s 60..7f, without and with the PSK. */
static const char *okm_nopsk =
	"2e95113d96823f99116abfdc3dcc8c99569b916f0e6071907f96b91f"
	"ce108917146beabaee4bbeca618f6bc0d53904c8ffd094de7b96be24"
	"7d4d33557a96081f41f11b773c0d0e6bb53fb47303247e65ecc4f41f"
	"572033d6753b2ba5e1f356aef4567681ce738399d333a516225834a1"
	"0d001dd32b4b21a3db785f328d430d05b5017b548b1d71d7a283c64b"
	"83ccd884"
	;
static const char *okm_psk =
	"b343b30c234d729808e2c46a77b3517e32256d4427005a5496ddbbcc"
	"6c1ce134cd0799ddb4ced5f6102fed64632c381846eb0ac28d58a4c0"
	"aa383631a2d4ced5610ba6b72470e534614634f57302b75e7bed9d3d"
	"57bc05c8293107af6baf1a2f671517f12acd9165502db50a094d9d66"
	"4af47bb6af796a2d2c678589a6881c8fee8f936ab2f8aa660568862f"
	"54094940"
	;
static const char *okm_res_nopsk =
	"eff37409a63be16f8187f725a39d27ca26d6004b7811230746b5ff04"
	"e7658abc0a130a9a3ef36768f9cd60aa8cf8a60cefe9a3af38528c33"
	"478bfb3b6c627d69cb36dd435aa5bf54e2aadb0a2abc58334f58c873"
	"4288965018290ea0bf917982ec03fb8ca95ba806de854063a0f702a4"
	"7d94879e3a4aaf66772609b1d7698ab594352d1624767f26ff311b03"
	"eb969779"
	;
static const char *okm_res_psk =
	"6f15861a42958979bc96ea739dcf47b1f1c684a4d44b4943574ee215"
	"e135e8891ced4c5b72b7d972d539ad6e1cfe0f9ca4bb4b08b4f2a34c"
	"1c02945c19a264b1bd644f0e598d3196605dae73661c19a25adf2815"
	"7e2c4379da7a646ef3d381345c2718a39f20bcc46927277d3967537d"
	"5d77b49bbc87ef7fefed9601780065516419622bccb16dc64c21125c"
	"cceddaf6"
	;

START_TEST(test_x25519_rfc7748_dh)
{
	struct mps_kex_keypair a, b;
	uint8_t ap[32], bp[32], k1[32], k2[32];

	unhex(alice_priv, ap, 32);
	unhex(bob_priv, bp, 32);
	ck_assert_int_eq(mps_kex_keypair_from_private(&a, ap), 0);
	ck_assert_int_eq(mps_kex_keypair_from_private(&b, bp), 0);
	ck_assert_hex(a.pub, 32, alice_pub);
	ck_assert_hex(b.pub, 32, bob_pub);
	ck_assert_int_eq(mps_kex_shared(a.priv, b.pub, k1), 0);
	ck_assert_int_eq(mps_kex_shared(b.priv, a.pub, k2), 0);
	ck_assert_hex(k1, 32, shared_k);
	ck_assert_hex(k2, 32, shared_k);
}
END_TEST

/* RFC 7748 section 5.2, first vector: scalar x u-coordinate. */
START_TEST(test_x25519_rfc7748_scalarmult)
{
	uint8_t k[32], u[32], out[32];

	unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k, 32);
	unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u, 32);
	ck_assert_int_eq(mps_kex_shared(k, u, out), 0);
	ck_assert_hex(out, 32, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}
END_TEST

/* Low-order points give an all-zero secret whatever the private key: each
 * must be refused, and the output left zeroed. */
START_TEST(test_x25519_low_order_refused)
{
	static const char *pts[] = {
	        "0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
	        "0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
	        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p-1 */
	        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
	};
	struct mps_kex_keypair a;
	uint8_t pub[32], out[32], zero[32] = {0};

	ck_assert_int_eq(mps_kex_keypair_new(&a), 0);
	for (size_t i = 0; i < MPS_ARRAY_SIZE(pts); i++) {
		unhex(pts[i], pub, 32);
		memset(out, 0xa5, sizeof(out));
		ck_assert_int_eq(mps_kex_shared(a.priv, pub, out), -EINVAL);
		ck_assert_mem_eq(out, zero, 32);
	}
}
END_TEST

/* RFC 5869 appendix A.1, A.2 and A.3. */
START_TEST(test_hkdf_rfc5869)
{
	uint8_t ikm[22], salt[13], info[10], okm[42];

	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	ck_assert_int_eq(mps_kex_hkdf(salt, 13, ikm, 22, info, 10, okm, 42), 0);
	ck_assert_hex(
	        okm, 42,
	        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
	ck_assert_int_eq(mps_kex_hkdf(NULL, 0, ikm, 22, NULL, 0, okm, 42), 0);
	ck_assert_hex(
	        okm, 42,
	        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
	ck_assert_int_eq(mps_kex_hkdf(NULL, 0, ikm, 22, NULL, 0, okm, 0), -EINVAL);
	ck_assert_int_eq(mps_kex_hkdf(NULL, 0, ikm, 0, NULL, 0, okm, 42), -EINVAL);
	/* A.2: 80-byte inputs (a salt longer than SHA-256's block is hashed
	 * first, RFC 2104), three blocks of output and a part */
	{
		uint8_t ikm2[80], salt2[80], info2[80], okm2[82];

		for (int i = 0; i < 80; i++) {
			ikm2[i] = (uint8_t)i;
			salt2[i] = (uint8_t)(0x60 + i);
			info2[i] = (uint8_t)(0xb0 + i);
		}
		ck_assert_int_eq(mps_kex_hkdf(salt2, 80, ikm2, 80, info2, 80, okm2, 82), 0);
		ck_assert_hex(okm2, 82,
		              "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		              "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		              "cc30c58179ec3e87c14c01d5c1f3434f1d87");
	}
}
END_TEST

static void check_keys(const struct mps_kex_keys *k, const char *okmhex)
{
	uint8_t okm[MPS_KEX_OKM_LEN];

	unhex(okmhex, okm, sizeof(okm));
	ck_assert_uint_eq(k->key_c, mps_get64(okm));
	ck_assert_uint_eq(k->key_s, mps_get64(okm + 8));
	ck_assert_mem_eq(k->join_key_c, okm + 16, 32);
	ck_assert_mem_eq(k->join_key_s, okm + 48, 32);
	ck_assert_mem_eq(k->confirm_c, okm + 80, 16);
	ck_assert_mem_eq(k->confirm_s, okm + 96, 16);
	ck_assert_mem_eq(k->rms, okm + 112, 32);
}

START_TEST(test_schedule_vectors)
{
	uint8_t pc[32], ps[32], sh[32], psk[32];
	struct mps_kex_keys k;

	unhex(alice_pub, pc, 32);
	unhex(bob_pub, ps, 32);
	unhex(shared_k, sh, 32);
	for (int i = 0; i < 32; i++)
		psk[i] = (uint8_t)(0x20 + i);
	ck_assert_int_eq(mps_kex_schedule(sh, pc, ps, NULL, &k), 0);
	check_keys(&k, okm_nopsk);
	ck_assert_int_eq(mps_kex_schedule(sh, pc, ps, psk, &k), 0);
	check_keys(&k, okm_psk);
}
END_TEST

/* The transcript binds the roles and the values: swapping the public
 * values, or changing one bit of the shared secret or the PSK, changes
 * every output; an all-zero secret is refused. */
START_TEST(test_schedule_binds_transcript)
{
	uint8_t pc[32], ps[32], sh[32], psk[32] = {0}, zero[32] = {0};
	struct mps_kex_keys k0, k1;

	unhex(alice_pub, pc, 32);
	unhex(bob_pub, ps, 32);
	unhex(shared_k, sh, 32);
	ck_assert_int_eq(mps_kex_schedule(sh, pc, ps, NULL, &k0), 0);
	ck_assert_int_eq(mps_kex_schedule(sh, ps, pc, NULL, &k1), 0);
	ck_assert_uint_ne(k0.key_c, k1.key_c);
	ck_assert_uint_ne(k0.key_c, k0.key_s);
	/* An all-zero PSK still differs from no PSK (the mode byte). */
	ck_assert_int_eq(mps_kex_schedule(sh, pc, ps, psk, &k1), 0);
	ck_assert_uint_ne(k0.key_c, k1.key_c);
	ck_assert(!mps_kex_confirm_ok(k0.confirm_s, k1.confirm_s));
	psk[31] = 1;
	ck_assert_int_eq(mps_kex_schedule(sh, pc, ps, psk, &k0), 0);
	ck_assert(memcmp(k0.join_key_s, k1.join_key_s, 32) != 0);
	sh[0] ^= 1;
	ck_assert_int_eq(mps_kex_schedule(sh, pc, ps, psk, &k1), 0);
	ck_assert(memcmp(k0.join_key_c, k1.join_key_c, 32) != 0);
	ck_assert_int_eq(mps_kex_schedule(zero, pc, ps, NULL, &k1), -EINVAL);
	ck_assert_uint_eq(k1.key_c, 0);
}
END_TEST

/* Two fresh ends agree; an end with another PSK (an active attacker in the
 * middle without the gateway key) derives other keys, which the
 * confirmation values reveal. */
START_TEST(test_exchange_roundtrip)
{
	struct mps_kex_keypair c, s;
	uint8_t kc[32], ks[32], psk[32], other[32];
	struct mps_kex_keys a, b;
	uint32_t ta, tb;
	uint64_t ia, ib;

	memset(psk, 0x42, sizeof(psk));
	memcpy(other, psk, 32);
	other[7] ^= 0x80;
	for (int round = 0; round < 16; round++) {
		ck_assert_int_eq(mps_kex_keypair_new(&c), 0);
		ck_assert_int_eq(mps_kex_keypair_new(&s), 0);
		ck_assert(memcmp(c.pub, s.pub, 32) != 0);
		ck_assert_int_eq(mps_kex_shared(c.priv, s.pub, kc), 0);
		ck_assert_int_eq(mps_kex_shared(s.priv, c.pub, ks), 0);
		ck_assert_mem_eq(kc, ks, 32);
		ck_assert_int_eq(mps_kex_schedule(kc, c.pub, s.pub, psk, &a), 0);
		ck_assert_int_eq(mps_kex_schedule(ks, c.pub, s.pub, psk, &b), 0);
		ck_assert_mem_eq(&a, &b, sizeof(a));
		ck_assert(mps_kex_confirm_ok(a.confirm_c, b.confirm_c));
		mps_crypto_key_derive(a.key_s, &ta, &ia);
		mps_crypto_key_derive(b.key_s, &tb, &ib);
		ck_assert_uint_eq(ta, tb);
		ck_assert_uint_eq(ia, ib);
		ck_assert_int_eq(mps_kex_schedule(ks, c.pub, s.pub, other, &b), 0);
		ck_assert(!mps_kex_confirm_ok(a.confirm_s, b.confirm_s));
		ck_assert(!mps_kex_confirm_ok(a.confirm_c, b.confirm_c));
	}
}
END_TEST

/* The exchange as the engine runs it (kex.h mps_kex_client_* /
 * mps_kex_server_*, the functions conn.c calls), with fixed private values
 * through the draw seam, against tests/unit/kex_vectors.py's "engine"
 * vectors.  Alice's public value holds a CR byte, so the client redraws
 * (takes Bob's); the server is Alice. */
/* eng_nopsk: key_c key_s token_s idsn_s idsn_c join_ack join_ok confirm_c confirm_s */
static const char *eng_nopsk[] = {
	"2317185da274d883",
	"fab04e649250a920",
	"75ead746",
	"b981b5df9edd55c6",
	"1da5603d9cf32f9b",
	"dbf1de1c1316b92c",
	"bd4e1ac8fd8d300fc6b496415c054542e46d4cba",
	"2c14d01acb1e1d480d535b3a2740583d",
	"20e71ad97da1f882a3fccf4bf845d68b",
};
/* eng_psk: key_c key_s token_s idsn_s idsn_c join_ack join_ok confirm_c confirm_s */
static const char *eng_psk[] = {
	"23889c43d5cd7ab5",
	"0a09fa6a93d14590",
	"496921e4",
	"6a797f7d048167e3",
	"1da5603d9cf32f9b",
	"03c0475d8cd5ea70",
	"8a2a42afcf8953de87dc2d716f911bae9cf8e74f",
	"910835397cf6826262186c4a4f7ea82d",
	"b86731bca7eae5d93969b0debb72d9bc",
};

struct draws {
	const char *const *priv;
	int n, next;
};

static int draw_fixed(struct mps_kex_keypair *kp, void *arg)
{
	struct draws *d = arg;
	uint8_t priv[32];

	ck_assert_int_lt(d->next, d->n);
	unhex(d->priv[d->next++], priv, 32);
	return mps_kex_keypair_from_private(kp, priv);
}

static int refuse_first(const struct mps_kex_keys *k, void *arg)
{
	int *calls = arg;

	(void)k;
	return (*calls)++ == 0 ? -1 : 0;
}

static void run_engine(const uint8_t *psk, const char *const *v)
{
	/* RFC 7748 section 6.1: Alice's private value, then Bob's */
	static const char *const cdraws[] = {
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	};
	static const char *const sdraws[] = {
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	};
	struct draws dc = { cdraws, 2, 0 }, ds = { sdraws, 1, 0 };
	struct mps_kex_end c, s;
	uint8_t mac[32], want[32];
	uint32_t token;
	uint64_t idsn;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(mps_kex_client_begin(&c, psk, draw_fixed, &dc), 0);
	ck_assert_int_eq(dc.next, 2); /* the first public value had a CR */
	ck_assert_hex(c.kp.pub, 32, bob_pub);
	if (psk) /* a gateway sets it once it has authenticated the client */
		ck_assert_int_eq(mps_kex_server_set_psk(&s, psk), 0);
	mps_kex_server_begin(&s, c.kp.pub);
	ck_assert_int_eq(mps_kex_server_finish(&s, draw_fixed, &ds, NULL, NULL), 0);
	ck_assert_hex(s.kp.pub, 32, alice_pub);
	ck_assert_int_eq(mps_kex_client_finish(&c, s.kp.pub), 0);
	ck_assert(c.done && s.done);
	ck_assert_mem_eq(&c.keys, &s.keys, sizeof(c.keys));
	/* private values are wiped once done */
	ck_assert(memcmp(c.kp.priv, (uint8_t[32]){ 0 }, 32) == 0);
	ck_assert(memcmp(s.kp.priv, (uint8_t[32]){ 0 }, 32) == 0);

	unhex(v[0], want, 8);
	ck_assert_uint_eq(c.keys.key_c, mps_get64(want));
	unhex(v[1], want, 8);
	ck_assert_uint_eq(c.keys.key_s, mps_get64(want));
	mps_crypto_key_derive(s.keys.key_s, &token, &idsn);
	unhex(v[2], want, 4);
	ck_assert_uint_eq(token, mps_get32(want));
	unhex(v[3], want, 8);
	ck_assert_uint_eq(idsn, mps_get64(want));
	unhex(v[4], want, 8);
	ck_assert_uint_eq(mps_kex_idsn_c(c.kp.pub), mps_get64(want));
	/* JOIN_ACK: server's join key over R_B || R_A; JOIN_OK: client's over R_A || R_B */
	mps_crypto_join_hmac_k(s.keys.join_key_s, 0x05060708, 0x01020304, mac);
	ck_assert_hex(mac, 8, v[5]);
	mps_crypto_join_hmac_k(c.keys.join_key_c, 0x01020304, 0x05060708, mac);
	ck_assert_hex(mac, 20, v[6]);
	ck_assert_hex(c.keys.confirm_c, 16, v[7]);
	ck_assert_hex(s.keys.confirm_s, 16, v[8]);
	ck_assert(mps_kex_confirm_ok(c.keys.confirm_s, s.keys.confirm_s));
}

START_TEST(test_engine_vectors)
{
	uint8_t psk[32];

	for (int i = 0; i < 32; i++)
		psk[i] = (uint8_t)(0x20 + i);
	run_engine(NULL, eng_nopsk);
	run_engine(psk, eng_psk);
}
END_TEST

/* The server redraws while accept refuses (a colliding token); a
 * low-order client value is refused without a draw loop; a set PSK after
 * finish is refused. */
START_TEST(test_engine_server_redraw)
{
	static const uint8_t low[32] = { 0 }; /* the all-zero point */
	struct mps_kex_end c, s, s2;
	int calls = 0;

	ck_assert_int_eq(mps_kex_client_begin(&c, NULL, NULL, NULL), 0);
	for (int i = 0; i < 32; i++)
		ck_assert(c.kp.pub[i] != '\r' && c.kp.pub[i] != '\n');
	memset(&s, 0, sizeof(s));
	mps_kex_server_begin(&s, c.kp.pub);
	ck_assert_int_eq(mps_kex_server_finish(&s, NULL, NULL, refuse_first, &calls), 0);
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(mps_kex_server_set_psk(&s, low), -EALREADY);
	ck_assert_int_eq(mps_kex_client_finish(&c, s.kp.pub), 0);
	ck_assert_mem_eq(&c.keys, &s.keys, sizeof(c.keys));

	memset(&s2, 0, sizeof(s2));
	mps_kex_server_begin(&s2, low);
	ck_assert_int_eq(mps_kex_server_finish(&s2, NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert(!s2.done);
	/* and a client given a low-order HELLO_ACK value */
	ck_assert_int_eq(mps_kex_client_begin(&c, NULL, NULL, NULL), 0);
	ck_assert_int_eq(mps_kex_client_finish(&c, low), -EINVAL);
	ck_assert(!c.done);
}
END_TEST

/* RFC 8684 section 5's weakness, and that version 2 closes it.  An
 * observer of the first subflow sees the HELLO and HELLO_ACK and, on an
 * extra subflow, the JOIN (token, R_A) and the JOIN_ACK (R_B).  With
 * version 1 the HELLOs carried the keys: the observer computes the very
 * JOIN_OK HMAC the server checks, so it can complete a join of its own.
 * With version 2 they carry X25519 public values: the same computation
 * (the public values' bytes taken for keys, the old way), or any HMAC
 * keyed by what was seen, gives something else. */
START_TEST(test_observer_forges_v1_not_v2)
{
	uint8_t fr[MPS_HELLO_LEN], mac_srv[32], mac_obs[32];
	const uint32_t ra = 0x11223344, rb = 0x55667788;

	/* version 1, replayed from its wire layout: key u64 at body offset 16 */
	{
		uint64_t key_c = 0x0123456789abcdefULL, key_s = 0x0fedcba987654321ULL;
		uint8_t v1c[28], v1s[28];

		memcpy(v1c, "\x01\x00\x00\x18MPTCPSHM\x01\x00\x00\x00\x00\x01\x00\x00", 20);
		memcpy(v1s, v1c, 20);
		v1s[0] = 0x02;
		mps_put64(v1c + 20, key_c);
		mps_put64(v1s + 20, key_s);
		/* the server's check of JOIN_OK under version 1 */
		mps_crypto_join_hmac(key_c, key_s, ra, rb, mac_srv);
		/* the observer: keys read off the captured frames */
		mps_crypto_join_hmac(mps_get64(v1c + 20), mps_get64(v1s + 20), ra, rb, mac_obs);
		ck_assert_mem_eq(mac_obs, mac_srv, 20); /* forged */
	}
	/* version 2: the engine's exchange, the frames as they go out */
	for (int round = 0; round < 8; round++) {
		struct mps_kex_end c, s;
		struct mps_hello h = { .version = MPS_VERSION, .wnd = MPS_MIN_WND };
		struct mps_frame fc, fs;
		const char *why;
		uint8_t hc[MPS_HELLO_LEN];

		memset(&s, 0, sizeof(s));
		ck_assert_int_eq(mps_kex_client_begin(&c, NULL, NULL, NULL), 0);
		memcpy(h.pub, c.kp.pub, 32);
		mps_frame_put_hello(hc, MPS_F_HELLO, &h);
		mps_kex_server_begin(&s, c.kp.pub);
		ck_assert_int_eq(mps_kex_server_finish(&s, NULL, NULL, NULL, NULL), 0);
		memcpy(h.pub, s.kp.pub, 32);
		mps_frame_put_hello(fr, MPS_F_HELLO_ACK, &h);
		ck_assert_int_eq(mps_kex_client_finish(&c, s.kp.pub), 0);
		/* what the server checks in JOIN_OK */
		mps_crypto_join_hmac_k(s.keys.join_key_c, ra, rb, mac_srv);
		mps_crypto_join_hmac_k(c.keys.join_key_c, ra, rb, mac_obs);
		ck_assert_mem_eq(mac_obs, mac_srv, 20); /* the client can */
		/* the observer decodes the captured frames */
		ck_assert_int_eq(mps_frame_decode(hc, sizeof(hc), &fc, &why), (int)MPS_HELLO_LEN);
		ck_assert_int_eq(mps_frame_decode(fr, sizeof(fr), &fs, &why), (int)MPS_HELLO_LEN);
		for (int off = 0; off <= 24; off += 8) {
			/* the old way: 8 bytes of each value taken for the keys */
			mps_crypto_join_hmac(mps_get64(fc.u.hello.pub + off), mps_get64(fs.u.hello.pub + off),
			                     ra, rb, mac_obs);
			ck_assert(memcmp(mac_obs, mac_srv, 20) != 0);
		}
		/* whole public values as HMAC keys */
		mps_crypto_join_hmac_k(fc.u.hello.pub, ra, rb, mac_obs);
		ck_assert(memcmp(mac_obs, mac_srv, 20) != 0);
		mps_crypto_join_hmac_k(fs.u.hello.pub, ra, rb, mac_obs);
		ck_assert(memcmp(mac_obs, mac_srv, 20) != 0);
		/* the schedule run over what was seen (a public value for the secret) */
		{
			struct mps_kex_keys k;

			ck_assert_int_eq(mps_kex_schedule(fs.u.hello.pub, fc.u.hello.pub,
			                                  fs.u.hello.pub, NULL, &k), 0);
			mps_crypto_join_hmac_k(k.join_key_c, ra, rb, mac_obs);
			ck_assert(memcmp(mac_obs, mac_srv, 20) != 0);
		}
	}
}
END_TEST

/* ---- resumption (issue 15) ------------------------------------------- */

static void res_inputs(uint8_t pc[32], uint8_t tid[16], uint8_t nc[16], uint8_t ns[32],
                       uint8_t rms[32])
{
	uint8_t okm[MPS_KEX_OKM_LEN];

	unhex(alice_pub, pc, 32);
	for (int i = 0; i < 16; i++) {
		tid[i] = (uint8_t)(0x40 + i);
		nc[i] = (uint8_t)(0x50 + i);
	}
	for (int i = 0; i < 32; i++)
		ns[i] = (uint8_t)(0x60 + i);
	unhex(okm_nopsk, okm, sizeof(okm));
	memcpy(rms, okm + 112, 32);
}

/* The resumed schedule against kex_vectors.py, with the full schedule's
 * rms as the ticket's secret; every input changes every output; its keys
 * are never the full agreement's (its own label). */
START_TEST(test_schedule_resume_vectors)
{
	uint8_t pc[32], tid[16], nc[16], ns[32], rms[32], psk[32], sh[32], ps[32];
	struct mps_kex_keys k, k2, full;

	res_inputs(pc, tid, nc, ns, rms);
	for (int i = 0; i < 32; i++)
		psk[i] = (uint8_t)(0x20 + i);
	ck_assert_int_eq(mps_kex_schedule_resume(rms, pc, tid, nc, ns, NULL, &k), 0);
	check_keys(&k, okm_res_nopsk);
	ck_assert_int_eq(mps_kex_schedule_resume(rms, pc, tid, nc, ns, psk, &k), 0);
	check_keys(&k, okm_res_psk);
	ck_assert_int_eq(mps_kex_schedule_resume(rms, pc, tid, nc, ns, NULL, &k), 0);
	/* one bit of each input */
	uint8_t *ins[] = { rms, pc, tid, nc, ns };
	size_t lens[] = { 32, 32, 16, 16, 32 };
	for (size_t i = 0; i < 5; i++) {
		for (size_t byte = 0; byte < lens[i]; byte += lens[i] - 1) {
			ins[i][byte] ^= 0x01;
			ck_assert_int_eq(mps_kex_schedule_resume(rms, pc, tid, nc, ns, NULL, &k2), 0);
			ins[i][byte] ^= 0x01;
			ck_assert(k.key_c != k2.key_c && k.key_s != k2.key_s);
			ck_assert(memcmp(k.join_key_c, k2.join_key_c, 32) != 0);
			ck_assert(memcmp(k.join_key_s, k2.join_key_s, 32) != 0);
			ck_assert(memcmp(k.rms, k2.rms, 32) != 0);
		}
	}
	/* the full schedule over the same 32 bytes as its secret differs */
	unhex(shared_k, sh, 32);
	unhex(bob_pub, ps, 32);
	ck_assert_int_eq(mps_kex_schedule(rms, pc, ns, NULL, &full), 0);
	ck_assert(memcmp(full.join_key_c, k.join_key_c, 32) != 0);
	ck_assert(full.key_s != k.key_s);
}
END_TEST

static int draw_nonce_fixed(struct mps_kex_keypair *kp, void *arg)
{
	memset(kp, 0, sizeof(*kp));
	memcpy(kp->pub, arg, 32);
	return 0;
}

/* The resumed exchange as the engine runs it: both ends derive the
 * vectors' keys, and the joins' HMACs agree; no X25519 on the server (its
 * kp.pub is the nonce); a forged or stale secret gives other keys (the
 * join HMACs then fail); a HELLO_ACK that resumes what was not offered is
 * refused; the IDSN of a resuming HELLO comes from its nonce. */
START_TEST(test_engine_resume)
{
	uint8_t pc[32], tid[16], nc[16], ns[32], rms[32], mac_c[32], mac_s[32], bad[32];
	struct mps_kex_end c, s;
	struct mps_kex_keys want;
	uint64_t idsn;

	res_inputs(pc, tid, nc, ns, rms);
	ck_assert_int_eq(mps_kex_client_begin(&c, NULL, mps_kex_standby_draw, NULL), 0);
	ck_assert_int_eq(mps_kex_client_offer(&c, tid, rms), 0);
	ck_assert(c.offer);
	ck_assert(!memchr(c.nonce_c, '\n', 16) && !memchr(c.nonce_c, '\r', 16));
	ck_assert(!memchr(c.kp.pub, '\n', 32) && !memchr(c.kp.pub, '\r', 32));
	memset(&s, 0, sizeof(s));
	mps_kex_server_begin(&s, c.kp.pub);
	mps_kex_server_offered(&s, c.ticket, c.nonce_c);
	ck_assert_int_eq(mps_kex_server_finish_resumed(&s, rms, draw_nonce_fixed, ns, NULL, NULL), 0);
	ck_assert_mem_eq(s.kp.pub, ns, 32);
	ck_assert_int_eq(mps_kex_client_finish_resumed(&c, s.kp.pub), 0);
	ck_assert(c.done && s.done && c.resumed && s.resumed);
	ck_assert_mem_eq(&c.keys, &s.keys, sizeof(c.keys));
	ck_assert_int_eq(mps_kex_schedule_resume(rms, c.kp.pub, tid, c.nonce_c, ns, NULL, &want), 0);
	ck_assert_mem_eq(&c.keys, &want, sizeof(want));
	ck_assert(memcmp(c.secret, (uint8_t[32]){ 0 }, 32) == 0); /* wiped */
	mps_crypto_join_hmac_k(s.keys.join_key_c, 1, 2, mac_s);
	mps_crypto_join_hmac_k(c.keys.join_key_c, 1, 2, mac_c);
	ck_assert_mem_eq(mac_c, mac_s, 20);
	mps_crypto_key_derive(mps_get64(c.nonce_c), NULL, &idsn);
	ck_assert_uint_eq(mps_kex_idsn_hello(c.kp.pub, 1, c.nonce_c), idsn);
	ck_assert_uint_eq(mps_kex_idsn_hello(c.kp.pub, 0, c.nonce_c), mps_kex_idsn_c(c.kp.pub));

	/* a server holding another secret for the ticket (forged, or a stale
	 * one): other keys, so the join HMACs and the confirm differ */
	memcpy(bad, rms, 32);
	bad[31] ^= 0x80;
	ck_assert_int_eq(mps_kex_client_begin(&c, NULL, mps_kex_standby_draw, NULL), 0);
	ck_assert_int_eq(mps_kex_client_offer(&c, tid, rms), 0);
	memset(&s, 0, sizeof(s));
	mps_kex_server_begin(&s, c.kp.pub);
	mps_kex_server_offered(&s, c.ticket, c.nonce_c);
	ck_assert_int_eq(mps_kex_server_finish_resumed(&s, bad, NULL, NULL, NULL, NULL), 0);
	ck_assert_int_eq(mps_kex_client_finish_resumed(&c, s.kp.pub), 0);
	mps_crypto_join_hmac_k(s.keys.join_key_c, 1, 2, mac_s);
	mps_crypto_join_hmac_k(c.keys.join_key_c, 1, 2, mac_c);
	ck_assert(memcmp(mac_c, mac_s, 20) != 0);
	ck_assert(!mps_kex_confirm_ok(c.keys.confirm_s, s.keys.confirm_s));

	/* HELLO_ACK resuming what we did not offer; a server with no offer */
	ck_assert_int_eq(mps_kex_client_begin(&c, NULL, NULL, NULL), 0);
	ck_assert_int_eq(mps_kex_client_finish_resumed(&c, ns), -EINVAL);
	ck_assert(!c.done);
	memset(&s, 0, sizeof(s));
	mps_kex_server_begin(&s, pc);
	ck_assert_int_eq(mps_kex_server_finish_resumed(&s, rms, NULL, NULL, NULL, NULL), -EINVAL);
}
END_TEST

/* The standby keypair: the same for every offer until a full agreement
 * uses it (a server lost the ticket), then another; both ends agree in
 * that fallback. */
START_TEST(test_engine_resume_fallback)
{
	struct mps_kex_keypair a, b, d;
	struct mps_kex_end c, s;
	uint8_t tid[16] = { 1 }, rms[32] = { 2 };

	ck_assert_int_eq(mps_kex_standby_draw(&a, NULL), 0);
	ck_assert_int_eq(mps_kex_standby_draw(&b, NULL), 0);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	ck_assert_int_eq(mps_kex_client_begin(&c, NULL, mps_kex_standby_draw, NULL), 0);
	ck_assert_mem_eq(c.kp.pub, a.pub, 32);
	ck_assert_int_eq(mps_kex_client_offer(&c, tid, rms), 0);
	memset(&s, 0, sizeof(s));
	mps_kex_server_begin(&s, c.kp.pub);
	mps_kex_server_offered(&s, c.ticket, c.nonce_c);
	ck_assert_int_eq(mps_kex_server_finish(&s, NULL, NULL, NULL, NULL), 0); /* no ticket */
	ck_assert_int_eq(mps_kex_client_finish(&c, s.kp.pub), 0);
	ck_assert(!c.resumed && !s.resumed);
	ck_assert_mem_eq(&c.keys, &s.keys, sizeof(c.keys));
	ck_assert(memcmp(c.secret, (uint8_t[32]){ 0 }, 32) == 0);
	ck_assert_int_eq(mps_kex_standby_draw(&d, NULL), 0);
	ck_assert(memcmp(d.pub, a.pub, 32) != 0); /* retired: a new one */
	ck_assert(!memchr(d.pub, '\n', 32) && !memchr(d.pub, '\r', 32));
}
END_TEST

static struct sockaddr_in sin4(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	s.sin_addr.s_addr = htonl(addr);
	return s;
}

/* The server's table: a ticket resumes once; expired ones are gone; a
 * full table drops the entry expiring first. */
START_TEST(test_resume_server_table)
{
	uint8_t t[16] = { 0 }, sec[32], got[32];
	const uint64_t now = 1000000000u, S = 1000000u;

	mps_resume_clear();
	memset(sec, 0xab, sizeof(sec));
	t[0] = 1;
	mps_resume_issue(t, sec, now + 10 * S, now);
	ck_assert_uint_eq(mps_resume_count(1, now), 1);
	ck_assert_int_eq(mps_resume_redeem(t, got, now + S), 0);
	ck_assert_mem_eq(got, sec, 32);
	ck_assert_int_eq(mps_resume_redeem(t, got, now + S), -ENOENT); /* single use */
	ck_assert_uint_eq(mps_resume_count(1, now), 0);
	/* expiry */
	mps_resume_issue(t, sec, now + 10 * S, now);
	ck_assert_int_eq(mps_resume_redeem(t, got, now + 10 * S), -ENOENT);
	ck_assert_uint_eq(mps_resume_count(1, now), 0); /* wiped at that look */
	/* an unknown ticket, one bit off */
	mps_resume_issue(t, sec, now + 10 * S, now);
	t[15] ^= 1;
	ck_assert_int_eq(mps_resume_redeem(t, got, now), -ENOENT);
	t[15] ^= 1;
	ck_assert_int_eq(mps_resume_redeem(t, got, now), 0);
	/* bound: MAX + 1 tickets, the first expiring first: it goes */
	for (uint32_t i = 0; i <= MPS_RESUME_SERVER_MAX; i++) {
		mps_put32(t, i);
		sec[0] = (uint8_t)i;
		mps_resume_issue(t, sec, now + 100 * S + i, now);
	}
	ck_assert_uint_eq(mps_resume_count(1, now), MPS_RESUME_SERVER_MAX);
	mps_put32(t, 0);
	ck_assert_int_eq(mps_resume_redeem(t, got, now), -ENOENT);
	for (uint32_t i = 1; i <= MPS_RESUME_SERVER_MAX; i++) {
		mps_put32(t, i);
		ck_assert_int_eq(mps_resume_redeem(t, got, now), 0);
		ck_assert_uint_eq(got[0], (uint8_t)i);
	}
	ck_assert_uint_eq(mps_resume_count(1, now), 0);
	/* an entry already expired at issue is not kept */
	mps_resume_issue(t, sec, now, now);
	ck_assert_uint_eq(mps_resume_count(1, now), 0);
}
END_TEST

/* A ticket bound to a PSK (a gateway's client key) redeems only under the
 * same PSK: not under another, nor unbound; an unbound one not under a
 * PSK.  A wrong key uses the ticket up (single use either way). */
START_TEST(test_resume_server_bound)
{
	uint8_t t[16] = { 0 }, sec[32], got[32], k1[32], k2[32];
	const uint64_t now = 1000000000u, S = 1000000u;

	mps_resume_clear();
	memset(sec, 0xcd, sizeof(sec));
	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x11, sizeof(k2));
	k2[31] ^= 1;
	t[0] = 2;
	mps_resume_issue_bound(t, sec, k1, now + 10 * S, now);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(mps_resume_redeem_bound(t, got, k1, now), 0);
	ck_assert_mem_eq(got, sec, 32);
	mps_resume_issue_bound(t, sec, k1, now + 10 * S, now);
	memset(got, 0, sizeof(got));
	ck_assert_int_eq(mps_resume_redeem_bound(t, got, k2, now), -EPERM);
	ck_assert_int_eq(got[0], 0); /* nothing handed out */
	ck_assert_int_eq(mps_resume_redeem_bound(t, got, k1, now), -ENOENT); /* used up */
	mps_resume_issue_bound(t, sec, k1, now + 10 * S, now);
	ck_assert_int_eq(mps_resume_redeem(t, got, now), -EPERM); /* unbound */
	mps_resume_issue(t, sec, now + 10 * S, now);
	ck_assert_int_eq(mps_resume_redeem_bound(t, got, k1, now), -EPERM);
	ck_assert_uint_eq(mps_resume_count(1, now), 0);
}
END_TEST

/* The client's table: per server address and port; the newest first; at
 * most MPS_RESUME_PER_PEER per server and MPS_RESUME_CLIENT_MAX in all;
 * expiry. */
START_TEST(test_resume_client_table)
{
	struct sockaddr_in a = sin4(0xc6120001, 80), b = sin4(0xc6120001, 81);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	struct sockaddr un = { .sa_family = AF_UNIX };
	uint8_t t[16] = { 0 }, sec[32] = { 0 }, got_t[16], got_s[32];
	const uint64_t now = 1000000000u, S = 1000000u;

	mps_resume_clear();
	ck_assert_int_eq(mps_resume_take((struct sockaddr *)&a, got_t, got_s, now), -ENOENT);
	t[0] = 1;
	ck_assert_int_eq(mps_resume_keep((struct sockaddr *)&a, t, sec, now + 10 * S, now), 0);
	t[0] = 2;
	ck_assert_int_eq(mps_resume_keep((struct sockaddr *)&a, t, sec, now + 20 * S, now), 0);
	ck_assert_int_eq(mps_resume_keep(&un, t, sec, now + 20 * S, now), -EAFNOSUPPORT);
	/* another port, another family: nothing */
	ck_assert_int_eq(mps_resume_take((struct sockaddr *)&b, got_t, got_s, now), -ENOENT);
	ck_assert_int_eq(mps_resume_take((struct sockaddr *)&a6, got_t, got_s, now), -ENOENT);
	ck_assert_int_eq(mps_resume_take((struct sockaddr *)&a, got_t, got_s, now), 0);
	ck_assert_uint_eq(got_t[0], 2); /* expires last */
	/* the other one expires */
	ck_assert_int_eq(mps_resume_take((struct sockaddr *)&a, got_t, got_s, now + 10 * S),
	                 -ENOENT);
	ck_assert_uint_eq(mps_resume_count(0, now), 0);
	/* per peer */
	for (uint32_t i = 0; i < MPS_RESUME_PER_PEER + 3; i++) {
		t[0] = (uint8_t)i;
		mps_resume_keep((struct sockaddr *)&a, t, sec, now + 100 * S + i, now);
	}
	ck_assert_uint_eq(mps_resume_count(0, now), MPS_RESUME_PER_PEER);
	for (uint32_t i = MPS_RESUME_PER_PEER + 3; i-- > 3;) {
		ck_assert_int_eq(mps_resume_take((struct sockaddr *)&a, got_t, got_s, now), 0);
		ck_assert_uint_eq(got_t[0], i);
	}
	ck_assert_int_eq(mps_resume_take((struct sockaddr *)&a, got_t, got_s, now), -ENOENT);
	/* in all: many servers */
	for (uint32_t i = 0; i < MPS_RESUME_CLIENT_MAX + 5; i++) {
		struct sockaddr_in p = sin4(0xc6120000 + i, 80);

		mps_resume_keep((struct sockaddr *)&p, t, sec, now + 100 * S + i, now);
	}
	ck_assert_uint_eq(mps_resume_count(0, now), MPS_RESUME_CLIENT_MAX);
	{
		struct sockaddr_in first = sin4(0xc6120000, 80), last = sin4(0xc6120000 +
		                                                             MPS_RESUME_CLIENT_MAX + 4,
		                                                             80);

		ck_assert_int_eq(mps_resume_take((struct sockaddr *)&first, got_t, got_s, now),
		                 -ENOENT);
		ck_assert_int_eq(mps_resume_take((struct sockaddr *)&last, got_t, got_s, now), 0);
	}
	mps_resume_clear();
	ck_assert_uint_eq(mps_resume_count(0, now), 0);
}
END_TEST

static Suite *kex_suite(void)
{
	Suite *s = suite_create("kex");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_x25519_rfc7748_dh);
	tcase_add_test(tc, test_x25519_rfc7748_scalarmult);
	tcase_add_test(tc, test_x25519_low_order_refused);
	tcase_add_test(tc, test_hkdf_rfc5869);
	tcase_add_test(tc, test_schedule_vectors);
	tcase_add_test(tc, test_schedule_binds_transcript);
	tcase_add_test(tc, test_exchange_roundtrip);
	tcase_add_test(tc, test_engine_vectors);
	tcase_add_test(tc, test_engine_server_redraw);
	tcase_add_test(tc, test_observer_forges_v1_not_v2);
	tcase_add_test(tc, test_schedule_resume_vectors);
	tcase_add_test(tc, test_engine_resume);
	tcase_add_test(tc, test_engine_resume_fallback);
	tcase_add_test(tc, test_resume_server_table);
	tcase_add_test(tc, test_resume_server_bound);
	tcase_add_test(tc, test_resume_client_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	mps_crypto_init();
	sr = srunner_create(kex_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
