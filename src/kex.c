/* kex.c - X25519 key agreement and the key schedule (see kex.h), OpenSSL 3.
 * connect.c and mpcap.c run the exchange in HELLO / HELLO_ACK (version 2). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "mptcpshim/crypto.h"
#include "mptcpshim/kex.h"
#include "mptcpshim/util.h"

/* Every libcrypto call runs under crypto.c's lock, which fork holds: see
 * crypto.c.  None of the mps_crypto_* functions is called while it is
 * held (the lock is not recursive). */

void mps_kex_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

static int is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int keypair_of(EVP_PKEY *pk, struct mps_kex_keypair *kp)
{
	size_t plen = MPS_KEX_KEY_LEN, slen = MPS_KEX_KEY_LEN;

	if (EVP_PKEY_get_raw_private_key(pk, kp->priv, &slen) != 1 || slen != MPS_KEX_KEY_LEN)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(pk, kp->pub, &plen) != 1 || plen != MPS_KEX_KEY_LEN)
		return -EIO;
	return 0;
}

/* The keys drawn lately, kept for their derivation (issue 15): importing
 * a raw private key (EVP_PKEY_new_raw_private_key) computes its public
 * value again, a scalar multiplication, about 40 % of mps_kex_shared's
 * time.  Each is taken out when used, or freed (OpenSSL wipes it) when
 * KEPT newer ones pushed it out (a connection that never got its answer).
 * Under crypto.c's lock, as every libcrypto call here. */
#define KEPT 32
static struct {
	uint8_t priv[MPS_KEX_KEY_LEN];
	EVP_PKEY *pk;
} g_kept[KEPT];
static unsigned g_kept_next;

static void kept_put(EVP_PKEY *pk, const uint8_t priv[MPS_KEX_KEY_LEN])
{
	unsigned k = g_kept_next++ % KEPT;

	EVP_PKEY_free(g_kept[k].pk);
	g_kept[k].pk = pk;
	memcpy(g_kept[k].priv, priv, MPS_KEX_KEY_LEN);
}

static EVP_PKEY *kept_take(const uint8_t priv[MPS_KEX_KEY_LEN])
{
	unsigned k;

	for (k = 0; k < KEPT; k++)
		if (g_kept[k].pk && CRYPTO_memcmp(g_kept[k].priv, priv, MPS_KEX_KEY_LEN) == 0) {
			EVP_PKEY *pk = g_kept[k].pk;

			g_kept[k].pk = NULL;
			OPENSSL_cleanse(g_kept[k].priv, MPS_KEX_KEY_LEN);
			return pk;
		}
	return NULL;
}

static void kept_drop(const uint8_t priv[MPS_KEX_KEY_LEN])
{
	mps_crypto_lock(1);
	EVP_PKEY_free(kept_take(priv));
	mps_crypto_lock(0);
}

/* Under crypto.c's lock. */
static int keypair_new_locked(struct mps_kex_keypair *kp)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;
	int rc = -EIO;

	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	if (ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &pk) == 1)
		rc = keypair_of(pk, kp);
	if (rc == 0)
		kept_put(pk, kp->priv);
	else
		EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(ctx);
	if (rc)
		mps_kex_wipe(kp, sizeof(*kp));
	return rc;
}

int mps_kex_keypair_new(struct mps_kex_keypair *kp)
{
	int rc;

	mps_crypto_lock(1);
	rc = keypair_new_locked(kp);
	mps_crypto_lock(0);
	return rc;
}

int mps_kex_keypair_from_private(struct mps_kex_keypair *kp, const uint8_t priv[MPS_KEX_KEY_LEN])
{
	EVP_PKEY *pk;
	int rc = -EIO;

	mps_crypto_lock(1);
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, MPS_KEX_KEY_LEN);
	if (pk)
		rc = keypair_of(pk, kp);
	EVP_PKEY_free(pk);
	mps_crypto_lock(0);
	if (rc)
		mps_kex_wipe(kp, sizeof(*kp));
	return rc;
}

int mps_kex_shared(const uint8_t priv[MPS_KEX_KEY_LEN], const uint8_t peer_pub[MPS_KEX_KEY_LEN],
                   uint8_t shared[MPS_KEX_KEY_LEN])
{
	EVP_PKEY *me = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = MPS_KEX_KEY_LEN;
	int rc = -EIO;

	mps_crypto_lock(1);
	me = kept_take(priv);
	if (!me)
		me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, MPS_KEX_KEY_LEN);
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, MPS_KEX_KEY_LEN);
	if (me && peer)
		ctx = EVP_PKEY_CTX_new(me, NULL);
	if (ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1) {
		/* OpenSSL itself fails the derivation when the result is all
		 * zero (a low-order peer point): the only way it fails once
		 * both keys were accepted, so that is the peer's fault. */
		if (EVP_PKEY_derive(ctx, shared, &len) == 1 && len == MPS_KEX_KEY_LEN)
			rc = 0;
		else
			rc = -EINVAL;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(me);
	mps_crypto_lock(0);
	/* RFC 7748 section 6.1: check for the all-zero value ourselves too,
	 * whatever the library version does. */
	if (rc == 0 && is_zero(shared, MPS_KEX_KEY_LEN))
		rc = -EINVAL;
	if (rc)
		mps_kex_wipe(shared, MPS_KEX_KEY_LEN);
	return rc;
}

int mps_kex_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                 const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	/* (crypto.c: over a digest fetched once; EVP_KDF_fetch on every
	 * call cost ~6 % of a short connection's client thread, issue 15) */
	return mps_crypto_hkdf_sha256(salt, saltlen, ikm, ikmlen, info, infolen, out, outlen);
}

/* HKDF over ikm with this info, split into out (both schedules). */
static int derive(const uint8_t *psk, const uint8_t *ikm, const uint8_t *info, size_t infolen,
                  struct mps_kex_keys *out)
{
	uint8_t okm[MPS_KEX_OKM_LEN];
	const uint8_t *o = okm;
	int rc;

	rc = mps_kex_hkdf(psk, psk ? MPS_KEX_PSK_LEN : 0, ikm, MPS_KEX_KEY_LEN, info, infolen, okm,
	                  sizeof(okm));
	if (rc)
		goto out;
	out->key_c = mps_get64(o);
	o += 8;
	out->key_s = mps_get64(o);
	o += 8;
	memcpy(out->join_key_c, o, 32);
	o += 32;
	memcpy(out->join_key_s, o, 32);
	o += 32;
	memcpy(out->confirm_c, o, MPS_KEX_CONFIRM_LEN);
	o += MPS_KEX_CONFIRM_LEN;
	memcpy(out->confirm_s, o, MPS_KEX_CONFIRM_LEN);
	o += MPS_KEX_CONFIRM_LEN;
	memcpy(out->rms, o, MPS_KEX_RMS_LEN);
	/* A zero key means "none" in the engine (HELLO rejects it). */
	if (out->key_c == 0 || out->key_s == 0)
		rc = -EAGAIN;
out:
	mps_kex_wipe(okm, sizeof(okm));
	if (rc)
		mps_kex_wipe(out, sizeof(*out));
	return rc;
}

int mps_kex_schedule(const uint8_t shared[MPS_KEX_KEY_LEN], const uint8_t pub_c[MPS_KEX_KEY_LEN],
                     const uint8_t pub_s[MPS_KEX_KEY_LEN], const uint8_t *psk,
                     struct mps_kex_keys *out)
{
	uint8_t info[MPS_KEX_LABEL_LEN + 1 + 2 * MPS_KEX_KEY_LEN];

	memset(out, 0, sizeof(*out));
	if (is_zero(shared, MPS_KEX_KEY_LEN))
		return -EINVAL;
	memcpy(info, MPS_KEX_LABEL, MPS_KEX_LABEL_LEN);
	/* The mode is in info as well as in the salt, so the two modes never
	 * share an output even for a PSK of 32 zero bytes. */
	info[MPS_KEX_LABEL_LEN] = psk ? 1 : 0;
	memcpy(info + MPS_KEX_LABEL_LEN + 1, pub_c, MPS_KEX_KEY_LEN);
	memcpy(info + MPS_KEX_LABEL_LEN + 1 + MPS_KEX_KEY_LEN, pub_s, MPS_KEX_KEY_LEN);
	return derive(psk, shared, info, sizeof(info), out);
}

int mps_kex_schedule_resume(const uint8_t secret[MPS_KEX_RMS_LEN],
                            const uint8_t pub_c[MPS_KEX_KEY_LEN],
                            const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            const uint8_t nonce_c[MPS_KEX_NONCE_C_LEN],
                            const uint8_t nonce_s[MPS_KEX_KEY_LEN], const uint8_t *psk,
                            struct mps_kex_keys *out)
{
	uint8_t info[MPS_KEX_LABEL_LEN + 1 + MPS_KEX_KEY_LEN + MPS_KEX_TICKET_LEN +
	             MPS_KEX_NONCE_C_LEN + MPS_KEX_KEY_LEN];
	uint8_t *p = info;

	memset(out, 0, sizeof(*out));
	/* Its own label: a resumed connection's keys never equal a full
	 * agreement's.  Both nonces make each resumption's keys fresh: a
	 * recorded resuming HELLO sent again meets another nonce_s. */
	memcpy(p, MPS_KEX_RES_LABEL, MPS_KEX_LABEL_LEN);
	p += MPS_KEX_LABEL_LEN;
	*p++ = psk ? 1 : 0;
	memcpy(p, pub_c, MPS_KEX_KEY_LEN);
	p += MPS_KEX_KEY_LEN;
	memcpy(p, ticket, MPS_KEX_TICKET_LEN);
	p += MPS_KEX_TICKET_LEN;
	memcpy(p, nonce_c, MPS_KEX_NONCE_C_LEN);
	p += MPS_KEX_NONCE_C_LEN;
	memcpy(p, nonce_s, MPS_KEX_KEY_LEN);
	return derive(psk, secret, info, sizeof(info), out);
}

int mps_kex_random_noline(uint8_t *p, size_t n)
{
	int ok = 1;

	mps_crypto_lock(1);
	ok = mps_crypto_random_locked(p, n) == 0;
	/* a CR or LF byte is drawn again: 2/256 of the bytes, so it ends */
	for (size_t i = 0; ok && i < n; i++)
		while (ok && (p[i] == '\n' || p[i] == '\r'))
			ok = mps_crypto_random_locked(p + i, 1) == 0;
	mps_crypto_lock(0);
	return ok ? 0 : -EIO;
}

int mps_kex_confirm_ok(const uint8_t *mine, const uint8_t *theirs)
{
	return CRYPTO_memcmp(mine, theirs, MPS_KEX_CONFIRM_LEN) == 0;
}

/* ---- the exchange as the engine runs it --------------------------------- */

static int draw_default(struct mps_kex_keypair *kp, void *arg)
{
	(void)arg;
	return mps_kex_keypair_new(kp);
}

static int has_line_break(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

/* The client's standby keypair (resumption): the public value of every
 * resuming HELLO until one of them ends in a full agreement (a server that
 * had lost the ticket), which retires it.  Under crypto.c's lock, which
 * fork holds, so a child never inherits it half written. */
static struct mps_kex_keypair g_standby;
static int g_standby_ok;

int mps_kex_standby_draw(struct mps_kex_keypair *kp, void *arg)
{
	int rc = 0;

	(void)arg;
	mps_crypto_lock(1);
	for (int tries = 0; !g_standby_ok && tries < 64; tries++) {
		rc = keypair_new_locked(&g_standby);
		if (rc)
			break;
		if (!has_line_break(g_standby.pub, MPS_KEX_KEY_LEN))
			g_standby_ok = 1;
		else
			EVP_PKEY_free(kept_take(g_standby.priv));
	}
	if (g_standby_ok)
		*kp = g_standby;
	else if (rc == 0)
		rc = -EIO;
	mps_crypto_lock(0);
	return rc;
}

static void standby_retire(const uint8_t pub[MPS_KEX_KEY_LEN])
{
	mps_crypto_lock(1);
	if (g_standby_ok && memcmp(g_standby.pub, pub, MPS_KEX_KEY_LEN) == 0) {
		mps_kex_wipe(&g_standby, sizeof(g_standby));
		g_standby_ok = 0;
	}
	mps_crypto_lock(0);
}

int mps_kex_client_begin(struct mps_kex_end *e, const uint8_t *psk, mps_kex_draw_fn draw,
                         void *arg)
{
	int rc, tries = 0;

	memset(e, 0, sizeof(*e));
	e->role = 0;
	if (!draw)
		draw = draw_default;
	if (psk) {
		memcpy(e->psk, psk, MPS_KEX_PSK_LEN);
		e->have_psk = 1;
	}
	/* (254/256)^32: about 78 % of draws have no CR/LF; 64 failures in a
	 * row (a draw function that always gives the same value) is a bug. */
	for (;;) {
		rc = draw(&e->kp, arg);
		if (rc || !has_line_break(e->kp.pub, MPS_KEX_KEY_LEN) || ++tries >= 64)
			break;
		kept_drop(e->kp.priv); /* never used: not kept either */
	}
	if (rc == 0 && has_line_break(e->kp.pub, MPS_KEX_KEY_LEN))
		rc = -EIO;
	if (rc)
		mps_kex_wipe(e, sizeof(*e));
	return rc;
}

int mps_kex_client_finish(struct mps_kex_end *e, const uint8_t pub_s[MPS_KEX_KEY_LEN])
{
	uint8_t shared[MPS_KEX_KEY_LEN];
	int rc;

	memcpy(e->peer_pub, pub_s, MPS_KEX_KEY_LEN);
	rc = mps_kex_shared(e->kp.priv, pub_s, shared);
	if (rc == 0)
		rc = mps_kex_schedule(shared, e->kp.pub, pub_s, e->have_psk ? e->psk : NULL,
		                      &e->keys);
	mps_kex_wipe(shared, sizeof(shared));
	if (rc == -EAGAIN)
		rc = -EINVAL; /* the server should have redrawn */
	if (e->offer)
		standby_retire(e->kp.pub); /* used in a full agreement: draw another */
	mps_kex_wipe(e->kp.priv, sizeof(e->kp.priv));
	mps_kex_wipe(e->secret, sizeof(e->secret));
	e->done = rc == 0;
	return rc;
}

uint64_t mps_kex_idsn_c(const uint8_t pub_c[MPS_KEX_KEY_LEN])
{
	uint64_t idsn;

	mps_crypto_key_derive(mps_get64(pub_c), NULL, &idsn);
	return idsn;
}

void mps_kex_server_begin(struct mps_kex_end *e, const uint8_t pub_c[MPS_KEX_KEY_LEN])
{
	uint8_t psk[MPS_KEX_PSK_LEN], have = e->have_psk && !e->done;

	/* a PSK set before (mps_kex_server_set_psk on a zeroed end) is kept */
	memcpy(psk, e->psk, sizeof(psk));
	memset(e, 0, sizeof(*e));
	if (have) {
		memcpy(e->psk, psk, sizeof(psk));
		e->have_psk = 1;
	}
	mps_kex_wipe(psk, sizeof(psk));
	e->role = 1;
	memcpy(e->peer_pub, pub_c, MPS_KEX_KEY_LEN);
}

int mps_kex_server_set_psk(struct mps_kex_end *e, const uint8_t psk[MPS_KEX_PSK_LEN])
{
	if (e->done)
		return -EALREADY;
	memcpy(e->psk, psk, MPS_KEX_PSK_LEN);
	e->have_psk = 1;
	return 0;
}

int mps_kex_server_finish(struct mps_kex_end *e, mps_kex_draw_fn draw, void *arg,
                          int (*accept)(const struct mps_kex_keys *keys, void *arg),
                          void *accept_arg)
{
	uint8_t shared[MPS_KEX_KEY_LEN];
	int rc = -EIO, tries;

	if (!draw)
		draw = draw_default;
	for (tries = 0; tries < 64; tries++) {
		rc = draw(&e->kp, arg);
		if (rc)
			break;
		rc = mps_kex_shared(e->kp.priv, e->peer_pub, shared);
		if (rc)
			break; /* -EINVAL: the client's low-order point; no draw helps */
		rc = mps_kex_schedule(shared, e->peer_pub, e->kp.pub, e->have_psk ? e->psk : NULL,
		                      &e->keys);
		mps_kex_wipe(shared, sizeof(shared));
		if (rc == -EAGAIN)
			continue; /* a zero key: draw again */
		if (rc)
			break;
		if (accept && accept(&e->keys, accept_arg) != 0) {
			rc = -EIO; /* if the last draw is refused too */
			continue;
		}
		break;
	}
	if (rc == -EAGAIN)
		rc = -EIO;
	mps_kex_wipe(shared, sizeof(shared));
	mps_kex_wipe(e->kp.priv, sizeof(e->kp.priv));
	if (rc)
		mps_kex_wipe(&e->keys, sizeof(e->keys));
	e->done = rc == 0;
	return rc;
}

/* ---- resumption ------------------------------------------------------- */

int mps_kex_client_offer(struct mps_kex_end *e, const uint8_t ticket[MPS_KEX_TICKET_LEN],
                         const uint8_t secret[MPS_KEX_RMS_LEN])
{
	int rc = mps_kex_random_noline(e->nonce_c, sizeof(e->nonce_c));

	if (rc)
		return rc;
	memcpy(e->ticket, ticket, MPS_KEX_TICKET_LEN);
	memcpy(e->secret, secret, MPS_KEX_RMS_LEN);
	e->offer = 1;
	return 0;
}

int mps_kex_client_finish_resumed(struct mps_kex_end *e, const uint8_t nonce_s[MPS_KEX_KEY_LEN])
{
	int rc = -EINVAL;

	memcpy(e->peer_pub, nonce_s, MPS_KEX_KEY_LEN);
	if (e->offer) {
		rc = mps_kex_schedule_resume(e->secret, e->kp.pub, e->ticket, e->nonce_c, nonce_s,
		                             e->have_psk ? e->psk : NULL, &e->keys);
		if (rc == -EAGAIN)
			rc = -EINVAL; /* the server should have drawn another nonce */
	}
	mps_kex_wipe(e->kp.priv, sizeof(e->kp.priv));
	mps_kex_wipe(e->secret, sizeof(e->secret));
	e->done = rc == 0;
	e->resumed = e->done;
	return rc;
}

void mps_kex_server_offered(struct mps_kex_end *e, const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            const uint8_t nonce_c[MPS_KEX_NONCE_C_LEN])
{
	memcpy(e->ticket, ticket, MPS_KEX_TICKET_LEN);
	memcpy(e->nonce_c, nonce_c, MPS_KEX_NONCE_C_LEN);
	e->offer = 1;
}

static int draw_nonce(struct mps_kex_keypair *kp, void *arg)
{
	int ok;

	(void)arg;
	memset(kp->priv, 0, sizeof(kp->priv));
	mps_crypto_lock(1);
	ok = mps_crypto_random_locked(kp->pub, sizeof(kp->pub)) == 0;
	mps_crypto_lock(0);
	return ok ? 0 : -EIO;
}

int mps_kex_server_finish_resumed(struct mps_kex_end *e, const uint8_t secret[MPS_KEX_RMS_LEN],
                                  mps_kex_draw_fn draw, void *arg,
                                  int (*accept)(const struct mps_kex_keys *keys, void *arg),
                                  void *accept_arg)
{
	int rc = -EINVAL, tries;

	if (!e->offer)
		return -EINVAL;
	if (!draw)
		draw = draw_nonce;
	for (tries = 0; tries < 64; tries++) {
		rc = draw(&e->kp, arg);
		if (rc)
			break;
		mps_kex_wipe(e->kp.priv, sizeof(e->kp.priv)); /* a nonce: no private part */
		if (is_zero(e->kp.pub, MPS_KEX_KEY_LEN)) {
			rc = -EIO; /* HELLO_ACK's pub is never all zero */
			continue;
		}
		rc = mps_kex_schedule_resume(secret, e->peer_pub, e->ticket, e->nonce_c, e->kp.pub,
		                             e->have_psk ? e->psk : NULL, &e->keys);
		if (rc == -EAGAIN)
			continue;
		if (rc)
			break;
		if (accept && accept(&e->keys, accept_arg) != 0) {
			rc = -EIO;
			continue;
		}
		break;
	}
	if (rc == -EAGAIN)
		rc = -EIO;
	if (rc)
		mps_kex_wipe(&e->keys, sizeof(e->keys));
	e->done = rc == 0;
	e->resumed = e->done;
	return rc;
}

uint64_t mps_kex_idsn_hello(const uint8_t pub_c[MPS_KEX_KEY_LEN], int offer,
                            const uint8_t nonce_c[MPS_KEX_NONCE_C_LEN])
{
	uint64_t idsn;

	mps_crypto_key_derive(mps_get64(offer ? nonce_c : pub_c), NULL, &idsn);
	return idsn;
}
