/* kex.h - X25519 key agreement and the connection key schedule (planned,
 * issue 14: not yet used by the engine; docs/DESIGN.md "Gateway").
 *
 * Each end draws an ephemeral X25519 keypair and sends its public value
 * (32 bytes) in place of today's 64-bit key in clear.  Both ends compute
 * the shared secret and run the key schedule, which derives everything
 * RFC 8684 derives from the keys in clear (token, IDSN, join HMAC keys),
 * so a passive observer of the first subflow can no longer forge a join
 * (the weakness RFC 8684 section 5 names).  With a pre-shared gateway key
 * mixed in, an active attacker who does not hold it derives other keys,
 * and the key confirmation values tell the ends at once.
 *
 * Schedule (HKDF-SHA256, RFC 5869):
 *   PRK = HKDF-Extract(salt = PSK (32 bytes) or 32 zero bytes, IKM = shared)
 *   OKM = HKDF-Expand(PRK, info, 112)
 *   info = "mptcpshim kex v1" (16 bytes) | mode u8 (0 = no PSK, 1 = PSK)
 *          | pub_c (32) | pub_s (32)
 *   OKM = key_c u64 | key_s u64 | join_key_c[32] | join_key_s[32]
 *         | confirm_c[16] | confirm_s[16]           (integers big-endian)
 * key_c/key_s take the place of the keys HELLO/HELLO_ACK carry today
 * (token and IDSN derive from them exactly as mps_crypto_key_derive does),
 * but never travel.
 */
#ifndef MPS_KEX_H
#define MPS_KEX_H

#include <stddef.h>
#include <stdint.h>

#define MPS_KEX_KEY_LEN 32u     /* X25519 private, public and shared values */
#define MPS_KEX_PSK_LEN 32u     /* pre-shared gateway key (256 bits) */
#define MPS_KEX_CONFIRM_LEN 16u /* key confirmation values */
#define MPS_KEX_OKM_LEN (8u + 8u + 32u + 32u + 16u + 16u)
#define MPS_KEX_LABEL "mptcpshim kex v1" /* 16 bytes, no terminator in info */
#define MPS_KEX_LABEL_LEN 16u

struct mps_kex_keypair {
	uint8_t priv[MPS_KEX_KEY_LEN];
	uint8_t pub[MPS_KEX_KEY_LEN];
};

/* What the schedule derives for one connection.  _c is the client's
 * (connecting end's), _s the server's or gateway's. */
struct mps_kex_keys {
	uint64_t key_c, key_s; /* key-equivalents: token/IDSN via mps_crypto_key_derive */
	uint8_t join_key_c[32], join_key_s[32]; /* join HMAC keys (client's, server's) */
	uint8_t confirm_c[MPS_KEX_CONFIRM_LEN], confirm_s[MPS_KEX_CONFIRM_LEN];
};

/* A fresh ephemeral keypair (RAND_bytes inside OpenSSL).  0 or -EIO. */
int mps_kex_keypair_new(struct mps_kex_keypair *kp);

/* The keypair of a given private value (clamped by X25519 itself, RFC 7748
 * section 5): tests and fixed vectors.  0 or -EIO. */
int mps_kex_keypair_from_private(struct mps_kex_keypair *kp, const uint8_t priv[MPS_KEX_KEY_LEN]);

/* shared = X25519(priv, peer_pub).  An all-zero result (the peer sent a
 * low-order point, RFC 7748 section 6.1) is refused: -EINVAL, and shared is
 * zeroed.  -EIO when OpenSSL fails. */
int mps_kex_shared(const uint8_t priv[MPS_KEX_KEY_LEN], const uint8_t peer_pub[MPS_KEX_KEY_LEN],
                   uint8_t shared[MPS_KEX_KEY_LEN]);

/* HKDF-SHA256 (RFC 5869) extract-then-expand.  salt may be NULL (then
 * HashLen zero bytes, as RFC 5869 says).  outlen at most 255 * 32.
 * 0, -EINVAL or -EIO. */
int mps_kex_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                 const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);

/* The key schedule above.  psk is NULL (unauthenticated mode) or
 * MPS_KEX_PSK_LEN bytes.  An all-zero shared secret is refused (-EINVAL);
 * a derived key_c or key_s of 0 (probability 2^-63) gives -EAGAIN: the
 * server draws a new keypair, as it does when key_s's token collides with a
 * live connection's.  0, -EINVAL, -EAGAIN or -EIO. */
int mps_kex_schedule(const uint8_t shared[MPS_KEX_KEY_LEN], const uint8_t pub_c[MPS_KEX_KEY_LEN],
                     const uint8_t pub_s[MPS_KEX_KEY_LEN], const uint8_t *psk,
                     struct mps_kex_keys *out);

/* Constant-time comparison of a received confirmation value with ours.
 * 1 if equal. */
int mps_kex_confirm_ok(const uint8_t *mine, const uint8_t *theirs);

/* Erase secrets (OPENSSL_cleanse: not optimised away). */
void mps_kex_wipe(void *p, size_t n);

#endif
