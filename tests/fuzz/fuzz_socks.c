/* fuzz_socks.c - libFuzzer harness for the SOCKS5 / HTTP CONNECT parser.
 *
 * Properties checked, not only "no crash":
 *  - the input delivered all at once and delivered one byte at a time give
 *    the same verdict, the same reply bytes, the same destination and the
 *    same number of bytes consumed (the parser does not depend on how
 *    reads split the stream);
 *  - "need more" consumes nothing; nothing consumes past its input;
 *  - a READY destination is valid (it encodes as a gateway destination);
 *  - an ERROR names its reason.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *          tests/fuzz/fuzz_socks.c src/socks.c src/gwreq.c -o fuzz_socks
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mptcpshim/socks.h"

struct outcome {
	enum mps_proxy_status st;
	size_t consumed;
	uint8_t replies[4 * MPS_PROXY_REPLY_MAX];
	size_t rlen;
	struct mps_gwdest dest;
};

static void record(struct outcome *o, const struct mps_proxy *p)
{
	assert(o->rlen + p->reply_len <= sizeof(o->replies));
	memcpy(o->replies + o->rlen, p->reply, p->reply_len);
	o->rlen += p->reply_len;
}

/* step = 0: all available bytes at once; 1: one more byte per call. */
static void run(const uint8_t *data, size_t size, int step, struct outcome *o)
{
	struct mps_proxy p;
	size_t avail = step ? 0 : size;

	memset(o, 0, sizeof(*o));
	mps_proxy_init(&p);
	for (;;) {
		enum mps_proxy_status st = mps_proxy_input(&p, data + o->consumed, avail);

		assert(p.consumed <= avail);
		record(o, &p);
		if (st == MPS_PXS_MORE) {
			assert(p.consumed == 0);
			if (o->consumed + avail >= size) {
				o->st = st;
				return;
			}
			avail = step ? avail + 1 : size - o->consumed;
			continue;
		}
		o->consumed += p.consumed;
		avail -= p.consumed;
		if (st == MPS_PXS_REPLY)
			continue;
		o->st = st;
		if (st == MPS_PXS_READY)
			o->dest = p.dest;
		else
			assert(p.why != NULL);
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome a, b;
	uint8_t tlv[MPS_GWDEST_TLV_MAX];

	run(data, size, 0, &a);
	run(data, size, 1, &b);
	assert(a.st == b.st);
	assert(a.rlen == b.rlen && memcmp(a.replies, b.replies, a.rlen) == 0);
	if (a.st == MPS_PXS_READY) {
		assert(a.consumed == b.consumed && a.consumed <= size);
		assert(memcmp(&a.dest, &b.dest, sizeof(a.dest)) == 0);
		assert(mps_gwdest_put(tlv, &a.dest) > 0);
	}
	return 0;
}
