/* fuzz_kex.c - libFuzzer harness for what the key agreement takes from the
 * peer: its 32-byte X25519 public value.
 *
 * Properties checked, not only "no crash":
 *  - a refused value leaves the output all zero, and is refused only for an
 *    all-zero secret (low-order points); an accepted one gives a non-zero
 *    secret;
 *  - the exchange is symmetric where it can be checked: the peer value
 *    X25519(k, 9) of a fuzzed scalar k agrees with our fixed keypair;
 *  - the schedule is deterministic and a PSK changes every output;
 *  - the resumed schedule (the input as the ticket's secret and ticket id)
 *    is deterministic, agrees on both ends' engine paths, and the
 *    server's nonce changes it; the server's ticket table never gives a
 *    secret for an id it was not given, and gives one once for one it was.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *          tests/fuzz/fuzz_kex.c src/kex.c src/crypto.c \
 *          $(pkg-config --libs libcrypto) -o fuzz_kex
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mptcpshim/kex.h"
#include "mptcpshim/resume.h"

static int zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mine_priv[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	static struct mps_kex_keypair mine;
	static int ready;
	struct mps_kex_keypair peer;
	struct mps_kex_keys k1, k2, k3;
	uint8_t in[32] = {0}, s1[32], s2[32], psk[32];
	int rc;

	if (!ready) {
		assert(mps_kex_keypair_from_private(&mine, mine_priv) == 0);
		ready = 1;
	}
	memcpy(in, data, size < 32 ? size : 32);
	memset(s1, 0xa5, sizeof(s1));
	rc = mps_kex_shared(mine.priv, in, s1);
	assert(rc == 0 || rc == -EINVAL);
	if (rc) {
		assert(zero(s1, 32));
	} else {
		assert(!zero(s1, 32));
		assert(mps_kex_schedule(s1, in, mine.pub, NULL, &k1) == 0 ||
		       k1.key_c == 0); /* -EAGAIN: 2^-63 */
		assert(mps_kex_schedule(s1, in, mine.pub, NULL, &k2) == 0 || k2.key_c == 0);
		assert(memcmp(&k1, &k2, sizeof(k1)) == 0);
		memset(psk, 0, sizeof(psk));
		if (mps_kex_schedule(s1, in, mine.pub, psk, &k3) == 0 && k1.key_c)
			assert(memcmp(k1.join_key_c, k3.join_key_c, 32) != 0);
	}
	/* The input as a ticket's secret and id: the resumed schedule. */
	{
		static const uint8_t nc[16] = {1}, ns1[32] = {2}, ns2[32] = {3};
		uint8_t got[32], tid[16];
		struct mps_kex_end c, s;

		memcpy(tid, in + 16, 16);
		assert(mps_kex_schedule_resume(in, mine.pub, tid, nc, ns1, NULL, &k1) == 0 ||
		       k1.key_c == 0);
		assert(mps_kex_schedule_resume(in, mine.pub, tid, nc, ns1, NULL, &k2) == 0 ||
		       k2.key_c == 0);
		assert(memcmp(&k1, &k2, sizeof(k1)) == 0);
		if (mps_kex_schedule_resume(in, mine.pub, tid, nc, ns2, NULL, &k3) == 0 && k1.key_c)
			assert(memcmp(k1.join_key_s, k3.join_key_s, 32) != 0);
		memset(&c, 0, sizeof(c));
		memcpy(c.kp.pub, mine.pub, 32);
		assert(mps_kex_client_offer(&c, tid, in) == 0);
		memset(&s, 0, sizeof(s));
		mps_kex_server_begin(&s, c.kp.pub);
		mps_kex_server_offered(&s, c.ticket, c.nonce_c);
		if (mps_kex_server_finish_resumed(&s, in, NULL, NULL, NULL, NULL) == 0) {
			assert(mps_kex_client_finish_resumed(&c, s.kp.pub) == 0);
			assert(memcmp(&c.keys, &s.keys, sizeof(c.keys)) == 0);
		}
		/* the table: a fuzzed id is unknown until issued, then once */
		mps_resume_clear();
		assert(mps_resume_redeem(tid, got, 1) == -ENOENT);
		mps_resume_issue(tid, in, 100, 1);
		tid[size % 16] ^= 1;
		assert(mps_resume_redeem(tid, got, 2) == -ENOENT);
		tid[size % 16] ^= 1;
		assert(mps_resume_redeem(tid, got, 2) == 0 && memcmp(got, in, 32) == 0);
		assert(mps_resume_redeem(tid, got, 2) == -ENOENT);
	}
	/* The input as a scalar: both ends agree. */
	assert(mps_kex_keypair_from_private(&peer, in) == 0);
	if (mps_kex_shared(peer.priv, mine.pub, s1) == 0) {
		assert(mps_kex_shared(mine.priv, peer.pub, s2) == 0);
		assert(memcmp(s1, s2, 32) == 0);
	}
	return 0;
}
