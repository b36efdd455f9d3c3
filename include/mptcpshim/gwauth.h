/* gwauth.h - client keys and authentication to the gateway (planned,
 * issue 14: not yet used; docs/DESIGN.md "Gateway").
 *
 * Key file: one key per line, "NAME KEY", where NAME is 1..32 of
 * [A-Za-z0-9._@-] and KEY is 256 to 512 bits, written as hex (only hex
 * digits: read as hex) or as standard base64 with padding.  Blank lines and
 * lines starting with '#' (after blanks) are ignored.  The line
 * mps_gwauth_gen_line() prints is by itself a valid client key file and a
 * valid line of the gateway's key file.
 *
 * Authenticator (64 bytes, the AUTH TLV of gwreq.h):
 *   key_id[8] | nonce[16] | timestamp u64 (Unix seconds) | mac[32]
 *   key_id = leftmost 8 bytes of HMAC-SHA256(key, "mptcpshim key id v1")
 *   mac    = HMAC-SHA256(key, "mptcpshim gw auth v1" | key_id | nonce
 *                              | timestamp | pub_c[32] | destination TLV)
 * The key never travels, and neither does the name: key_id is only a hint
 * that spares the gateway trying every key.
 */
#ifndef MPS_GWAUTH_H
#define MPS_GWAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define MPS_GWAUTH_KEY_MIN 32u /* 256 bits */
#define MPS_GWAUTH_KEY_MAX 64u
#define MPS_GWAUTH_NAME_MAX 32u
#define MPS_GWAUTH_ID_LEN 8u
#define MPS_GWAUTH_NONCE_LEN 16u
#define MPS_GWAUTH_MAC_LEN 32u
#define MPS_GWAUTH_LEN 64u             /* = MPS_GWREQ_AUTH_LEN */
#define MPS_GWAUTH_WINDOW_S 30u        /* timestamps within +-30 s of the gateway's clock */
#define MPS_GWAUTH_FILE_MAX (1u << 20) /* a key file larger than 1 MiB is refused */
#define MPS_GWAUTH_LINE_MAX 160u       /* "NAME KEY\n" of gen_line fits */

struct mps_gwkey {
	char name[MPS_GWAUTH_NAME_MAX + 1];
	uint8_t key[MPS_GWAUTH_KEY_MAX];
	uint8_t len;
	uint8_t id[MPS_GWAUTH_ID_LEN];
};

struct mps_gwkeys {
	struct mps_gwkey *v;
	size_t n, cap;
};

/* Parse key-file text into ks (appending; ks zero-initialised first).
 * Refused, with "line N: reason" in err: a malformed line, a bad name, a
 * key that is not hex or base64, shorter than 256 bits or longer than 512,
 * a duplicate name, a key listed twice.  On error ks is left empty.
 * 0, -EINVAL or -ENOMEM. */
int mps_gwauth_parse(struct mps_gwkeys *ks, const char *text, size_t len, char *err, size_t errlen);

/* The key file's metadata: a regular file, owned by uid or root, that no
 * group or other may read or write.  0 or -EPERM (reason in err). */
int mps_gwauth_check_mode(const struct stat *st, uid_t uid, char *err, size_t errlen);

/* Open path (O_NOFOLLOW), check it (above, against geteuid()), read it (at
 * most MPS_GWAUTH_FILE_MAX) and parse it.  0 or -errno, reason in err. */
int mps_gwauth_load(struct mps_gwkeys *ks, const char *path, char *err, size_t errlen);

/* Erase and free every key. */
void mps_gwauth_free(struct mps_gwkeys *ks);

/* The key with this id, or NULL. */
const struct mps_gwkey *mps_gwauth_find(const struct mps_gwkeys *ks,
                                        const uint8_t id[MPS_GWAUTH_ID_LEN]);

/* A new key line for NAME: "NAME <64 hex digits>\n" (RAND_bytes).
 * Returns the length written (NUL-terminated), -EINVAL for a bad name,
 * -ENOSPC when cap is too small, -EIO. */
int mps_gwauth_gen_line(const char *name, char *out, size_t cap);

/* key_id of a key. */
void mps_gwauth_key_id(const uint8_t *key, size_t len, uint8_t id[MPS_GWAUTH_ID_LEN]);

/* The pre-shared key the key schedule (kex.h) mixes in for a client with
 * this key: HMAC-SHA256(key, "mptcpshim kex psk v1"), so the same key is
 * never used for two purposes. */
void mps_gwauth_psk(const struct mps_gwkey *k, uint8_t psk[32]);

/* A fresh random nonce: 0 or -EIO. */
int mps_gwauth_nonce(uint8_t nonce[MPS_GWAUTH_NONCE_LEN]);

/* Build the authenticator (client side).  dest is the destination TLV as
 * mps_gwdest_put() writes it. */
void mps_gwauth_sign(const struct mps_gwkey *k, const uint8_t nonce[MPS_GWAUTH_NONCE_LEN],
                     uint64_t ts, const uint8_t pub_c[32], const uint8_t *dest, size_t destlen,
                     uint8_t out[MPS_GWAUTH_LEN]);

/* The replay cache: nonces seen within the window, in 2^log2_buckets
 * buckets of MPS_GWREPLAY_WAYS entries (24 bytes each).  A nonce may sit in
 * either of two buckets chosen by keyed hashes (seeds drawn at creation);
 * a new one goes to the less loaded.  Memory is fixed at creation:
 * 2^log2_buckets * 8 * 24 bytes (the default, MPS_GWREPLAY_LOG2_DEFAULT =
 * 12, is 768 KiB for 32768 entries: at most 32768 authenticated requests
 * in any 60 s; it refuses, never forgets, beyond).  Timestamps before
 * not_before (the gateway's start) are refused: a restarted gateway has
 * forgotten what it saw. */
#define MPS_GWREPLAY_WAYS 8u
#define MPS_GWREPLAY_LOG2_DEFAULT 12u
#define MPS_GWREPLAY_LOG2_MAX 20u
struct mps_gwreplay;
struct mps_gwreplay *mps_gwreplay_new(unsigned log2_buckets, uint32_t window_s,
                                      uint64_t not_before);
void mps_gwreplay_free(struct mps_gwreplay *rc);
/* Record a nonce seen now.  0; -ESTALE for a timestamp outside
 * [now - window, now + window] or before not_before; -EEXIST for a nonce
 * still in the window (a replay); -ENOSPC when its bucket is full of live
 * entries (refused rather than forgetting one that could then be
 * replayed). */
int mps_gwreplay_check(struct mps_gwreplay *rc, const uint8_t nonce[MPS_GWAUTH_NONCE_LEN],
                       uint64_t ts, uint64_t now);
/* The same cache shared by several processes (mptcpshim-gateway
 * --workers: a replay must be refused whichever worker the kernel hands it
 * to).  _new_shared makes it in a memory file (memfd, inherited across
 * exec) and returns its descriptor, or -errno; each process maps it with
 * _attach (NULL: not such a file), and each check holds a process-shared,
 * robust mutex in it.  _free unmaps it. */
int mps_gwreplay_new_shared(unsigned log2_buckets, uint32_t window_s, uint64_t not_before);
struct mps_gwreplay *mps_gwreplay_attach(int fd);

/* Verify an authenticator (gateway side), in this order: timestamp window
 * (-ESTALE), key id and MAC (-EACCES: no key has that id, or the MAC is
 * wrong; compared in constant time), replay cache (-EEXIST, -ENOSPC; only
 * an authenticated request ever enters the cache).  On 0, *who is the
 * client's key. */
int mps_gwauth_verify(const struct mps_gwkeys *ks, struct mps_gwreplay *rc,
                      const uint8_t auth[MPS_GWAUTH_LEN], const uint8_t pub_c[32],
                      const uint8_t *dest, size_t destlen, uint64_t now,
                      const struct mps_gwkey **who);

#endif
