/* crypto.c - key -> token/IDSN, join HMAC and HKDF, after RFC 8684 §3.1/§3.2 and
 * the Linux kernel's net/mptcp/crypto.c conventions (keys big-endian). */
#include "config.h"

/* SHA256_Init and co. (below: sha256_parts) */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
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

/* Random bytes come from a pool refilled RPOOL_BYTES at a time: a
 * RAND_bytes call costs 1-2 us of DRBG set-up (more with cold caches:
 * 2.5 % of a short connection's client thread, issue 15) whatever the
 * size, and a connection draws several small values.  The pool lives in a
 * page marked MADV_WIPEONFORK: a child made by fork, by clone without
 * CLONE_VM or by the keeper finds it zeroed, "avail" included, and draws
 * its own; no two processes ever hand out the same bytes.  Bytes handed
 * out are wiped from the pool.  Without the page (madvise refused):
 * RAND_bytes for each draw, as before. */
#define RPOOL_BYTES 2048u
struct rpool {
	uint32_t avail;
	uint8_t b[RPOOL_BYTES];
};
static struct rpool *g_rpool;
static int g_rpool_tried;

static struct rpool *rpool(void)
{
	if (!g_rpool_tried) {
		long pg = sysconf(_SC_PAGESIZE);
		size_t len = pg > 0 && (size_t)pg >= sizeof(struct rpool) ? (size_t)pg : 8192u;
		void *m =
		        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		g_rpool_tried = 1;
		if (m != MAP_FAILED && madvise(m, len, MADV_WIPEONFORK) == 0)
			g_rpool = m;
		else if (m != MAP_FAILED)
			munmap(m, len);
	}
	return g_rpool;
}

int mps_crypto_random_locked(uint8_t *p, size_t n)
{
	struct rpool *r = rpool();
	uint8_t *src;

	if (!r || n > RPOOL_BYTES / 4)
		return RAND_bytes(p, (int)n) == 1 ? 0 : -EIO;
	if (r->avail < n) {
		if (RAND_bytes(r->b, RPOOL_BYTES) != 1)
			return -EIO;
		r->avail = RPOOL_BYTES;
	}
	src = r->b + r->avail - n;
	memcpy(p, src, n);
	OPENSSL_cleanse(src, n);
	r->avail -= (uint32_t)n;
	return 0;
}

int mps_crypto_new_key(uint64_t *key)
{
	uint8_t b[8];
	int rc;

	do {
		pthread_mutex_lock(&g_lock);
		rc = mps_crypto_random_locked(b, sizeof(b));
		pthread_mutex_unlock(&g_lock);
		if (rc)
			return rc;
		*key = mps_get64(b);
	} while (*key == 0);
	return 0;
}

struct part {
	const uint8_t *p;
	size_t len;
};

/* SHA-256 of the n parts one after the other.  OpenSSL's low-level
 * SHA-256 (deprecated in 3.0, not removed; the same SHA-NI code): EVP
 * costs ~0.2 us of provider dispatch per digest, and OpenSSL 3's one-shot
 * SHA256(), HMAC() and EVP_KDF look the algorithm up again on every call
 * (an HKDF through EVP_KDF was 6 % of a short connection's client
 * thread; issues 14 and 15). */
static void sha256_parts(const struct part *v, int n, uint8_t out[32])
{
	SHA256_CTX ctx;
	int i;

	SHA256_Init(&ctx);
	for (i = 0; i < n; i++)
		SHA256_Update(&ctx, v[i].p, v[i].len);
	SHA256_Final(out, &ctx);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
}

void mps_crypto_key_derive(uint64_t key, uint32_t *token, uint64_t *idsn)
{
	uint8_t in[8], md[SHA256_DIGEST_LENGTH];

	mps_put64(in, key);
	pthread_mutex_lock(&g_lock);
	sha256_parts((const struct part[]){{in, sizeof(in)}}, 1, md);
	pthread_mutex_unlock(&g_lock);
	if (token)
		*token = mps_get32(md);
	if (idsn)
		*idsn = mps_get64(md + SHA256_DIGEST_LENGTH - 8);
}

/* HMAC-SHA256 (RFC 2104) of the n (<= 3) message parts one after the
 * other, under g_lock. */
static void hmac_locked(const uint8_t *key, size_t keylen, const struct part *msg, int n,
                        uint8_t out[32])
{
	uint8_t k[64] = {0}, ipad[64], opad[64], inner[32];
	struct part in[4] = {{ipad, 64}}, outer[2] = {{opad, 64}, {inner, 32}};
	int i;

	if (keylen > sizeof(k))
		sha256_parts((const struct part[]){{key, keylen}}, 1, k);
	else if (keylen)
		memcpy(k, key, keylen);
	for (i = 0; i < 64; i++) {
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
	memcpy(in + 1, msg, (size_t)n * sizeof(*msg));
	sha256_parts(in, n + 1, inner);
	sha256_parts(outer, 2, out);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	OPENSSL_cleanse(inner, sizeof(inner));
}

void mps_crypto_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
			    uint8_t out[32])
{
	pthread_mutex_lock(&g_lock);
	hmac_locked(key, keylen, (const struct part[]){{msg, msglen}}, 1, out);
	pthread_mutex_unlock(&g_lock);
}

int mps_crypto_hkdf_sha256(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                           const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	uint8_t prk[32], t[32];
	size_t tlen = 0, done, n;
	uint8_t i = 1;

	if (outlen == 0 || outlen > 255u * 32u || ikmlen == 0)
		return -EINVAL;
	pthread_mutex_lock(&g_lock);
	hmac_locked(salt, saltlen, (const struct part[]){{ikm, ikmlen}}, 1, prk); /* extract */
	for (done = 0; done < outlen; done += n, i++) {
		/* expand: T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty */
		struct part m[3] = {{t, tlen}, {info, infolen}, {&i, 1}};

		hmac_locked(prk, sizeof(prk), m, 3, t);
		tlen = sizeof(t);
		n = outlen - done < tlen ? outlen - done : tlen;
		memcpy(out + done, t, n);
	}
	pthread_mutex_unlock(&g_lock);
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(t, sizeof(t));
	return 0;
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
