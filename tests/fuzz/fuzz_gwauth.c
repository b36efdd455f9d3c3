/* fuzz_gwauth.c - libFuzzer harness for the key file parser and the
 * authenticator check.
 *
 * Properties checked, not only "no crash":
 *  - a parsed file holds only valid keys (256..512 bits, names of 1..32
 *    allowed characters, no name or key twice); written back one
 *    "NAME HEX" line each, it parses to the same keys;
 *  - a refused file leaves no key behind and says "line N: ...";
 *  - no input taken as an authenticator verifies against a fixed key
 *    (forging one is the MAC's job; the fuzzer must not find one).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *          tests/fuzz/fuzz_gwauth.c src/gwauth.c src/crypto.c \
 *          $(pkg-config --libs libcrypto) -o fuzz_gwauth
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/gwauth.h"
#include "mptcpshim/gwreq.h"

static void check_parse(const uint8_t *data, size_t size)
{
	struct mps_gwkeys ks = {0}, again = {0};
	char err[160] = "";
	char *text;
	size_t o = 0;
	int rc = mps_gwauth_parse(&ks, (const char *)data, size, err, sizeof(err));

	if (rc) {
		assert(ks.n == 0 && ks.v == NULL);
		assert(strncmp(err, "line ", 5) == 0 || strcmp(err, "out of memory") == 0);
		return;
	}
	text = malloc(ks.n * (MPS_GWAUTH_NAME_MAX + 2 + 2 * MPS_GWAUTH_KEY_MAX + 1) + 1);
	assert(text);
	for (size_t i = 0; i < ks.n; i++) {
		const struct mps_gwkey *k = &ks.v[i];
		size_t nl = strlen(k->name);

		assert(nl >= 1 && nl <= MPS_GWAUTH_NAME_MAX);
		assert(k->len >= MPS_GWAUTH_KEY_MIN && k->len <= MPS_GWAUTH_KEY_MAX);
		for (size_t j = 0; j < i; j++)
			assert(strcmp(ks.v[j].name, k->name) != 0);
		o += (size_t)sprintf(text + o, "%s ", k->name);
		for (size_t j = 0; j < k->len; j++)
			o += (size_t)sprintf(text + o, "%02x", k->key[j]);
		text[o++] = '\n';
	}
	assert(mps_gwauth_parse(&again, text, o, err, sizeof(err)) == 0);
	assert(again.n == ks.n);
	for (size_t i = 0; i < ks.n; i++) {
		assert(strcmp(again.v[i].name, ks.v[i].name) == 0);
		assert(again.v[i].len == ks.v[i].len);
		assert(memcmp(again.v[i].key, ks.v[i].key, ks.v[i].len) == 0);
		assert(memcmp(again.v[i].id, ks.v[i].id, MPS_GWAUTH_ID_LEN) == 0);
	}
	free(text);
	mps_gwauth_free(&again);
	mps_gwauth_free(&ks);
}

static void check_verify(const uint8_t *data, size_t size)
{
	static struct mps_gwkeys ks;
	static struct mps_gwreplay *rc;
	static const char line[] =
	        "fuzz 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	uint8_t auth[MPS_GWAUTH_LEN] = {0}, pub[32] = {0};
	const struct mps_gwkey *who;
	uint64_t now;

	if (!rc) {
		char err[64];

		assert(mps_gwauth_parse(&ks, line, sizeof(line) - 1, err, sizeof(err)) == 0);
		rc = mps_gwreplay_new(4, MPS_GWAUTH_WINDOW_S, 0);
		assert(rc);
	}
	memcpy(auth, data, size < sizeof(auth) ? size : sizeof(auth));
	if (size > sizeof(auth))
		memcpy(pub, data + sizeof(auth),
		       size - sizeof(auth) < sizeof(pub) ? size - sizeof(auth) : sizeof(pub));
	/* The id of the known key, so the MAC itself is what is tested. */
	memcpy(auth, ks.v[0].id, MPS_GWAUTH_ID_LEN);
	now = ((uint64_t)auth[24] << 56 | (uint64_t)auth[25] << 48 | (uint64_t)auth[26] << 40 |
	       (uint64_t)auth[27] << 32 | (uint64_t)auth[28] << 24 | (uint64_t)auth[29] << 16 |
	       (uint64_t)auth[30] << 8 | auth[31]);
	assert(mps_gwauth_verify(&ks, rc, auth, pub, data, size < MPS_GWDEST_TLV_MAX ? size : 0,
	                         now, &who) != 0);
	assert(who == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	check_verify(data, size);
	return 0;
}
