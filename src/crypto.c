/* crypto.c - key -> token/IDSN and join HMAC, after RFC 8684 §3.1/§3.2 and
 * the Linux kernel's net/mptcp/crypto.c conventions (keys big-endian). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "mptcpshim/crypto.h"
#include "mptcpshim/util.h"

/* Every libcrypto call of ours runs under this lock, which fork holds
 * (src/interpose/proc.c): libcrypto takes global locks of its own, and a
 * child forked while the shim thread was inside it (say, computing a
 * join's HMAC) inherited them locked and hung at its first SHA-256 or TLS
 * call: a fork-per-connection server hashing in its children did. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void mps_crypto_lock(int lock)
{
	mps_mutex_hold(&g_lock, lock);
}

void mps_crypto_init(void)
{
	/* Our exit drain runs after atexit handlers; OpenSSL's own atexit
	 * cleanup would tear libcrypto down under the shim thread. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

void mps_crypto_thread_stop(void)
{
	OPENSSL_thread_stop();
}

int mps_crypto_new_key(uint64_t *key)
{
	uint8_t b[8];
	int ok;

	do {
		pthread_mutex_lock(&g_lock);
		ok = RAND_bytes(b, sizeof(b)) == 1;
		pthread_mutex_unlock(&g_lock);
		if (!ok)
			return -EIO;
		*key = mps_get64(b);
	} while (*key == 0);
	return 0;
}

void mps_crypto_key_derive(uint64_t key, uint32_t *token, uint64_t *idsn)
{
	uint8_t in[8], md[SHA256_DIGEST_LENGTH];

	mps_put64(in, key);
	pthread_mutex_lock(&g_lock);
	SHA256(in, sizeof(in), md);
	pthread_mutex_unlock(&g_lock);
	if (token)
		*token = mps_get32(md);
	if (idsn)
		*idsn = mps_get64(md + SHA256_DIGEST_LENGTH - 8);
}

/* HMAC-SHA256 (RFC 2104) over a SHA-256 fetched once, in one digest
 * context kept under g_lock: OpenSSL 3's one-shot HMAC() looks the
 * algorithms up again on every call, 2-3.5 us of CPU against 0.5-0.7 us
 * here (OpenSSL 3.0, this project's 2-CPU VM; a gateway connection makes
 * three: the PSK and the authenticator at the client, the authenticator's
 * check at the gateway, and each join two; issue 14).  1, or 0 when the
 * digest is not available (HMAC() then). */
static int hmac_fast(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
                     uint8_t out[32])
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;
	uint8_t k[64] = {0}, pad[64], inner[32];
	unsigned int len = 32;
	int i, ok;

	if (!md)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (md && !ctx)
		ctx = EVP_MD_CTX_new();
	if (!md || !ctx)
		return 0;
	if (keylen > sizeof(k))
		ok = EVP_Digest(key, keylen, k, &len, md, NULL);
	else {
		memcpy(k, key, keylen);
		ok = 1;
	}
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	ok = ok && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof(pad)) &&
	     EVP_DigestUpdate(ctx, msg, msglen) && EVP_DigestFinal_ex(ctx, inner, &len);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	ok = ok && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof(pad)) &&
	     EVP_DigestUpdate(ctx, inner, sizeof(inner)) && EVP_DigestFinal_ex(ctx, out, &len);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	return ok;
}

void mps_crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
			    uint8_t out[32])
{
	unsigned int len = 32;

	pthread_mutex_lock(&g_lock);
	if (!hmac_fast(key, keylen, msg, msglen, out))
		HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &len);
	pthread_mutex_unlock(&g_lock);
}

void mps_crypto_join_hmac(uint64_t key_a, uint64_t key_b, uint32_t nonce_a, uint32_t nonce_b,
			  uint8_t out[32])
{
	uint8_t k[16], m[8];

	mps_put64(k, key_a);
	mps_put64(k + 8, key_b);
	mps_put32(m, nonce_a);
	mps_put32(m + 4, nonce_b);
	mps_crypto_hmac_sha256(k, sizeof(k), m, sizeof(m), out);
}

void mps_crypto_join_hmac_k(const uint8_t key[32], uint32_t nonce_a, uint32_t nonce_b,
			    uint8_t out[32])
{
	uint8_t m[8];

	mps_put32(m, nonce_a);
	mps_put32(m + 4, nonce_b);
	mps_crypto_hmac_sha256(key, 32, m, sizeof(m), out);
}
