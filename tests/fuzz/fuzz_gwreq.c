/* fuzz_gwreq.c - libFuzzer harness for the gateway request/reply decoders.
 *
 * Properties checked, not only "no crash":
 *  - a decoded message never claims more bytes than it was given, and a
 *    "need more" answer comes only while the message is incomplete;
 *  - a refusal always names its reason;
 *  - what decodes re-encodes canonically; the canonical bytes decode to
 *    the same values, to their exact length, and every prefix of them is
 *    "need more".
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *          tests/fuzz/fuzz_gwreq.c src/gwreq.c -o fuzz_gwreq
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mptcpshim/gwreq.h"

static void same_dest(const struct mps_gwdest *a, const struct mps_gwdest *b)
{
	assert(a->type == b->type && a->port == b->port);
	if (a->type == MPS_GWT_DEST_NAME)
		assert(a->name_len == b->name_len &&
		       memcmp(a->name, b->name, a->name_len + 1u) == 0);
	else
		assert(memcmp(a->addr, b->addr, 16) == 0);
}

static void check_request(const uint8_t *data, size_t size)
{
	struct mps_gwreq r, r2;
	uint8_t b[MPS_GWREQ_MSG_MAX];
	const char *why = NULL;
	int rc = mps_gwreq_decode_request(data, size, &r, &why);
	size_t m;

	if (rc < 0) {
		assert(rc == -EBADMSG && why != NULL);
		return;
	}
	if (rc == 0) {
		assert(size < MPS_GWREQ_MSG_MAX);
		return;
	}
	assert((size_t)rc <= size && rc <= (int)MPS_GWREQ_MSG_MAX);
	assert(r.dest.port != 0);
	m = mps_gwreq_put_request(b, sizeof(b), &r.dest, r.has_auth ? r.auth : NULL);
	assert(m > 0 && m <= (size_t)rc);
	assert(mps_gwreq_decode_request(b, m, &r2, NULL) == (int)m);
	same_dest(&r.dest, &r2.dest);
	assert(r.has_auth == r2.has_auth);
	assert(!r.has_auth || memcmp(r.auth, r2.auth, sizeof(r.auth)) == 0);
	for (size_t k = 0; k < m; k++)
		assert(mps_gwreq_decode_request(b, k, &r2, NULL) == 0);
}

static void check_reply(const uint8_t *data, size_t size)
{
	struct mps_gwrep r, r2;
	uint8_t b[64];
	const char *why = NULL;
	int rc = mps_gwreq_decode_reply(data, size, &r, &why);
	size_t m;

	if (rc < 0) {
		assert(rc == -EBADMSG && why != NULL);
		return;
	}
	if (rc == 0) {
		assert(size < MPS_GWREQ_MSG_MAX);
		return;
	}
	assert((size_t)rc <= size);
	assert(r.result <= MPS_GWR_MAX);
	m = mps_gwreq_put_reply(b, sizeof(b), r.result, r.has_confirm ? r.confirm : NULL);
	assert(m > 0 && m <= (size_t)rc);
	assert(mps_gwreq_decode_reply(b, m, &r2, NULL) == (int)m);
	assert(r2.result == r.result && r2.has_confirm == r.has_confirm);
	assert(!r.has_confirm || memcmp(r.confirm, r2.confirm, sizeof(r.confirm)) == 0);
	for (size_t k = 0; k < m; k++)
		assert(mps_gwreq_decode_reply(b, k, &r2, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_reply(data, size);
	return 0;
}
