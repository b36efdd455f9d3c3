/* kex.h - X25519 key agreement and the connection key schedule (issue 14;
 * docs/DESIGN.md "Key agreement and key schedule").  On the wire since
 * HELLO version 2: the engine (connect.c, mpcap.c) drives it through the
 * mps_kex_client_* / mps_kex_server_* functions at the end of this file.
 *
 * Each end draws an ephemeral X25519 keypair and sends its public value
 * (32 bytes) in HELLO / HELLO_ACK, where version 1 sent a 64-bit key in
 * clear.  Both ends compute
 * the shared secret and run the key schedule, which derives everything
 * RFC 8684 derives from the keys in clear (token, IDSN, join HMAC keys),
 * so a passive observer of the first subflow can no longer forge a join
 * (the weakness RFC 8684 section 5 names).  With a pre-shared gateway key
 * mixed in, an active attacker who does not hold it derives other keys,
 * and the key confirmation values tell the ends at once.
 *
 * Schedule (HKDF-SHA256, RFC 5869):
 *   PRK = HKDF-Extract(salt = PSK (32 bytes) or 32 zero bytes, IKM = shared)
 *   OKM = HKDF-Expand(PRK, info, 144)
 *   info = "mptcpshim kex v1" (16 bytes) | mode u8 (0 = no PSK, 1 = PSK)
 *          | pub_c (32) | pub_s (32)
 *   OKM = key_c u64 | key_s u64 | join_key_c[32] | join_key_s[32]
 *         | confirm_c[16] | confirm_s[16] | rms[32]  (integers big-endian)
 * rms is the resumption secret a ticket carries (issue 15; HKDF-Expand's
 * output is prefix-stable, so the first 112 bytes are what version 2 had).
 * A resumed connection (a ticket from an earlier one, no X25519):
 *   PRK = HKDF-Extract(salt = PSK or 32 zero bytes, IKM = the ticket's rms)
 *   info = "mptcpshim res v1" | mode u8 | pub_c (32) | ticket (16)
 *          | nonce_c (16) | nonce_s (32)
 *   OKM = HKDF-Expand(PRK, info, 144), the same layout (its rms: the next
 *         ticket's).
 * key_c/key_s take the place of the keys HELLO/HELLO_ACK carried in
 * version 1 (token and IDSN derive from them exactly as
 * mps_crypto_key_derive does), but never travel.  One exception: the
 * client's IDSN, which its first flight needs before the server's public
 * value is known, derives from its own public value (mps_kex_idsn_c).
 */
#ifndef MPS_KEX_H
#define MPS_KEX_H

#include <stddef.h>
#include <stdint.h>

#define MPS_KEX_KEY_LEN 32u     /* X25519 private, public and shared values */
#define MPS_KEX_PSK_LEN 32u     /* pre-shared gateway key (256 bits) */
#define MPS_KEX_CONFIRM_LEN 16u /* key confirmation values */
#define MPS_KEX_RMS_LEN 32u     /* resumption secret */
#define MPS_KEX_TICKET_LEN 16u  /* a ticket's id (frame.h MPS_TICKET_LEN) */
#define MPS_KEX_NONCE_C_LEN 16u /* the client's nonce in a resuming HELLO */
#define MPS_KEX_OKM_LEN (8u + 8u + 32u + 32u + 16u + 16u + MPS_KEX_RMS_LEN)
#define MPS_KEX_LABEL "mptcpshim kex v1" /* 16 bytes, no terminator in info */
#define MPS_KEX_RES_LABEL "mptcpshim res v1"
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
	uint8_t rms[MPS_KEX_RMS_LEN]; /* resumption secret: a ticket's (resume.h) */
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

/* The resumed connection's schedule (above): secret is the ticket's rms,
 * pub_c the resuming HELLO's public value, nonce_s the server's 32 bytes
 * (in HELLO_ACK's pub field).  0, -EAGAIN (a zero key), -EIO. */
int mps_kex_schedule_resume(const uint8_t secret[MPS_KEX_RMS_LEN],
                            const uint8_t pub_c[MPS_KEX_KEY_LEN],
                            const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            const uint8_t nonce_c[MPS_KEX_NONCE_C_LEN],
                            const uint8_t nonce_s[MPS_KEX_KEY_LEN], const uint8_t *psk,
                            struct mps_kex_keys *out);

/* n random bytes with no CR or LF among them (what a client's HELLO
 * carries: section 5 of DESIGN, a line-oriented plain server never sees a
 * line).  0 or -EIO. */
int mps_kex_random_noline(uint8_t *p, size_t n);

/* Constant-time comparison of a received confirmation value with ours.
 * 1 if equal. */
int mps_kex_confirm_ok(const uint8_t *mine, const uint8_t *theirs);

/* Erase secrets (OPENSSL_cleanse: not optimised away). */
void mps_kex_wipe(void *p, size_t n);

/* ---- The exchange as the engine runs it (one per connection) ----------
 *
 * Client:  mps_kex_client_begin(e, psk, NULL, NULL)   -> e->kp.pub goes in HELLO
 *          ... HELLO_ACK arrives ...
 *          mps_kex_client_finish(e, pub_s)            -> e->keys
 * Server:  mps_kex_server_begin(e, pub_c)             (HELLO arrived)
 *          [mps_kex_server_set_psk(e, psk)]            gateway: after it has
 *                                                      authenticated the client
 *          mps_kex_server_finish(e, NULL, NULL, ok, arg) -> e->kp.pub goes in
 *                                                      HELLO_ACK, e->keys
 * After finish, both ends hold the same e->keys: key_c/key_s (token, IDSN),
 * join_key_c/join_key_s (the JOIN_OK / JOIN_ACK HMAC keys) and
 * confirm_c/confirm_s (what a gateway reply's CONFIRM carries; compare
 * with mps_kex_confirm_ok).  The private value is wiped at finish.
 *
 * draw: where keypairs come from; NULL = mps_kex_keypair_new (random).
 * Tests pass fixed private values through it, so fixed vectors run the
 * engine's own path.  It returns 0 or -errno. */
typedef int (*mps_kex_draw_fn)(struct mps_kex_keypair *kp, void *arg);

struct mps_kex_end {
	uint8_t role;     /* MPS_CLIENT (0) or MPS_SERVER (1), as nego.h's mps_role */
	uint8_t have_psk; /* psk is set: authenticated mode */
	uint8_t done;     /* keys are valid */
	uint8_t offer;    /* the HELLO offers a ticket (ticket, nonce_c) */
	uint8_t resumed;  /* the keys come from the ticket's secret: no X25519 */
	uint8_t ticket[MPS_KEX_TICKET_LEN];
	uint8_t nonce_c[MPS_KEX_NONCE_C_LEN];
	uint8_t secret[MPS_KEX_RMS_LEN]; /* client: the offered ticket's (wiped once done) */
	struct mps_kex_keypair kp; /* ours (priv wiped once done) */
	uint8_t peer_pub[MPS_KEX_KEY_LEN];
	uint8_t psk[MPS_KEX_PSK_LEN];
	struct mps_kex_keys keys;
};

/* Client: draw the keypair whose public value HELLO carries, redrawn while
 * it holds a CR or LF byte (a line-oriented plain server must never see a
 * complete line from our HELLO: docs/DESIGN.md "Negotiation").  psk: NULL,
 * or MPS_KEX_PSK_LEN bytes (a gateway key, mps_gwauth_psk).  0 or -EIO. */
int mps_kex_client_begin(struct mps_kex_end *e, const uint8_t *psk, mps_kex_draw_fn draw,
                         void *arg);

/* Client: the server's public value (HELLO_ACK) arrived: derive the keys.
 * -EINVAL when it is a low-order point (zero secret) or the schedule gives
 * a zero key (a server redraws before it sends, so either is the peer's
 * fault: a protocol error); -EIO when OpenSSL fails. */
int mps_kex_client_finish(struct mps_kex_end *e, const uint8_t pub_s[MPS_KEX_KEY_LEN]);

/* The client's IDSN: least significant 64 bits of SHA-256 of the first 8
 * bytes of its public value (mps_crypto_key_derive of them), known to both
 * ends from HELLO alone.  DSNs travel in clear in every DATA frame, so
 * this reveals nothing the wire does not. */
uint64_t mps_kex_idsn_c(const uint8_t pub_c[MPS_KEX_KEY_LEN]);

/* Server: the client's public value (HELLO) arrived.  e starts zeroed
 * (or as a finished exchange left it); a PSK already set on it with
 * mps_kex_server_set_psk is kept. */
void mps_kex_server_begin(struct mps_kex_end *e, const uint8_t pub_c[MPS_KEX_KEY_LEN]);

/* Server: mix a pre-shared key in (gateway: the authenticated client's
 * key).  Only before mps_kex_server_finish: -EALREADY after. */
int mps_kex_server_set_psk(struct mps_kex_end *e, const uint8_t psk[MPS_KEX_PSK_LEN]);

/* Server: draw a keypair and derive the keys; redraw while the schedule
 * gives a zero key or accept(keys, arg) refuses them (returns nonzero:
 * the token of key_s collides with a live connection's, RFC 8684 section
 * 3.1), at most 64 times.  accept may be NULL.  0; -EINVAL when pub_c is a
 * low-order point (the client's fault); -EIO (OpenSSL, or 64 draws
 * refused). */
int mps_kex_server_finish(struct mps_kex_end *e, mps_kex_draw_fn draw, void *arg,
                          int (*accept)(const struct mps_kex_keys *keys, void *arg),
                          void *accept_arg);

/* ---- Resumption (issue 15; DESIGN "Key agreement and key schedule") -----
 *
 * Client:  mps_kex_client_begin(e, NULL, mps_kex_standby_draw, NULL)
 *          mps_kex_client_offer(e, ticket, secret)  -> HELLO with RESUME
 *          HELLO_ACK with RESUME: mps_kex_client_finish_resumed(e, nonce_s)
 *          without:               mps_kex_client_finish(e, pub_s) (the
 *                                 standby keypair is retired then)
 * Server:  mps_kex_server_begin(e, pub_c); mps_kex_server_offered(e,
 *          ticket, nonce_c) when the HELLO offered one; then, the ticket's
 *          secret found (resume.h): mps_kex_server_finish_resumed, else
 *          mps_kex_server_finish as before. */

/* A draw function for the client's keypair when it offers a ticket: the
 * process's standby keypair (drawn once, with no CR or LF in its public
 * value), so a resumed connection does no X25519 at all and a server that
 * lost the ticket can still run a full agreement in the same round trip. */
int mps_kex_standby_draw(struct mps_kex_keypair *kp, void *arg);

/* Client: the HELLO offers this ticket; draws nonce_c.  0 or -EIO. */
int mps_kex_client_offer(struct mps_kex_end *e, const uint8_t ticket[MPS_KEX_TICKET_LEN],
                         const uint8_t secret[MPS_KEX_RMS_LEN]);

/* Client: HELLO_ACK says the server took the ticket; nonce_s its pub
 * field.  -EINVAL when we offered none or the schedule gives a zero key
 * (the peer's fault), -EIO. */
int mps_kex_client_finish_resumed(struct mps_kex_end *e, const uint8_t nonce_s[MPS_KEX_KEY_LEN]);

/* Server: the HELLO offered this ticket with this nonce. */
void mps_kex_server_offered(struct mps_kex_end *e, const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            const uint8_t nonce_c[MPS_KEX_NONCE_C_LEN]);

/* Server: resume with the offered ticket's secret: draw nonce_s into
 * e->kp.pub (through draw: its kp.pub is taken as the nonce; NULL =
 * random) and derive, redrawing as mps_kex_server_finish does while
 * accept refuses.  0 or -EIO; -EINVAL when nothing was offered. */
int mps_kex_server_finish_resumed(struct mps_kex_end *e, const uint8_t secret[MPS_KEX_RMS_LEN],
                                  mps_kex_draw_fn draw, void *arg,
                                  int (*accept)(const struct mps_kex_keys *keys, void *arg),
                                  void *accept_arg);

/* The client's IDSN for its HELLO: from nonce_c when it offers a ticket
 * (the standby public value is the same for many connections), else from
 * pub_c (mps_kex_idsn_c). */
uint64_t mps_kex_idsn_hello(const uint8_t pub_c[MPS_KEX_KEY_LEN], int offer,
                            const uint8_t nonce_c[MPS_KEX_NONCE_C_LEN]);

#endif
