/* crypto.h - keys, tokens, IDSNs and join HMACs (RFC 8684 §3.1, §3.2), via OpenSSL. */
#ifndef MPS_CRYPTO_H
#define MPS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Initialise libcrypto without its atexit cleanup (the shim thread may
 * still hash while the process exits).  Call once, early. */
void mps_crypto_init(void);
/* The calling thread's libcrypto state, released now rather than by the
 * thread-exit destructor (which takes libcrypto's global lock). */
void mps_crypto_thread_stop(void);
/* Held across fork (src/interpose/proc.c): no libcrypto call of ours is
 * running while a child is made. */
void mps_crypto_lock(int lock);

/* n random bytes (RAND_bytes, drawn through a pool that a forked or
 * cloned child never shares), with mps_crypto_lock held.  0 or -EIO. */
int mps_crypto_random_locked(uint8_t *p, size_t n);

/* Fill *key with a non-zero random 64-bit key.  0 or -EIO. */
int mps_crypto_new_key(uint64_t *key);

/* token = most significant 32 bits of SHA-256(key as 8 big-endian bytes);
 * idsn  = least significant 64 bits of the same digest. */
void mps_crypto_key_derive(uint64_t key, uint32_t *token, uint64_t *idsn);

/* HMAC-SHA256 over msg with key; out receives 32 bytes. */
void mps_crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
			    uint8_t out[32]);

/* HKDF-SHA256 (RFC 5869): extract with salt (NULL/0: none, i.e. 32 zero
 * bytes), expand with info into outlen bytes.  0, or -EINVAL (outlen 0 or
 * over 255 * 32, ikm empty). */
int mps_crypto_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                           const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);

/* Join HMAC as RFC 8684 §3.2: key = key_a || key_b, msg = nonce_a || nonce_b, all
 * big-endian; out receives the 32-byte digest.  HELLO version 1's (keys in
 * clear, so anyone who saw the HELLOs could compute it): kept for the unit
 * test that shows that weakness; the engine uses mps_crypto_join_hmac_k. */
void mps_crypto_join_hmac(uint64_t key_a, uint64_t key_b, uint32_t nonce_a, uint32_t nonce_b,
			  uint8_t out[32]);

/* Join HMAC since HELLO version 2 (docs/DESIGN.md "Key agreement"): key =
 * a 32-byte join key from the key schedule (kex.h: join_key_s for
 * JOIN_ACK, join_key_c for JOIN_OK), msg = nonce_a || nonce_b (the
 * sender's nonce first), big-endian; out receives the 32-byte digest. */
void mps_crypto_join_hmac_k(const uint8_t key[32], uint32_t nonce_a, uint32_t nonce_b,
			    uint8_t out[32]);

#endif
