/* fuzz_nego.c - HELLO / HELLO_ACK negotiation (src/nego.c) on peer bytes.
 *
 * Input: one control byte (bit 0: role; bits 1..2: a timeout or EOF after
 * which step; bits 3..7: the chunking seed), then the bytes the peer
 * sends.  They are fed as the engine does (every call sees all the bytes
 * received so far), in chunks.  Properties, against a model computed
 * from the whole input at once:
 *  - a verdict, once final, never changes (later input, EOF, timeout);
 *  - the final verdict is the model's: PLAIN iff the first bytes are not
 *    a HELLO prefix (version 1's length matches too, and so does the
 *    length with resumption fields: 80 for HELLO, 68 for HELLO_ACK); ERROR
 *    iff the prefix matches and the frame of the length it announces does
 *    not decode, or it is a complete version 1 HELLO; MP (ABORT on a
 *    server past its banner window) iff it does, with the remote fields of
 *    that frame;
 *  - a verdict never comes before the bytes that justify it. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/nego.h"

/* The verdict a fresh negotiation gives for buf[0..n) (state WAIT or
 * RELEASED), computed from the frame layer directly. */
static enum mps_nego_verdict model(int role, int released, const uint8_t *buf, size_t n,
                                   struct mps_frame *f)
{
	uint8_t want = role == MPS_CLIENT ? MPS_F_HELLO_ACK : MPS_F_HELLO;
	uint8_t prefix[MPS_HELLO_PREFIX_LEN];
	const char *why;
	size_t i;

	prefix[0] = want;
	prefix[1] = 0;
	prefix[2] = 0;
	prefix[3] = MPS_HELLO_BODY;
	memcpy(prefix + MPS_HDR_LEN, MPS_MAGIC, MPS_MAGIC_LEN);
	if (n == 0)
		return MPS_NV_WAIT;
	for (i = 0; i < n && i < sizeof(prefix); i++)
		if (buf[i] != prefix[i] && !(i == 3 && buf[i] == MPS_HELLO_V1_BODY) &&
		    !(i == 3 && buf[i] == mps_frame_hello_len(want, 0xff) - MPS_HDR_LEN))
			return MPS_NV_PLAIN;
	/* version 1's length: an error once its 28 bytes are in */
	if (n >= MPS_HDR_LEN && buf[3] == MPS_HELLO_V1_BODY)
		return n < MPS_HDR_LEN + MPS_HELLO_V1_BODY ? MPS_NV_WAIT : MPS_NV_ERROR;
	if (n < MPS_HDR_LEN || n < MPS_HDR_LEN + (size_t)buf[3])
		return MPS_NV_WAIT;
	if (mps_frame_decode(buf, MPS_HDR_LEN + buf[3], f, &why) != (int)(MPS_HDR_LEN + buf[3]))
		return MPS_NV_ERROR;
	return released ? MPS_NV_ABORT : MPS_NV_MP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mps_nego n;
	struct mps_frame f;
	enum mps_nego_verdict v = MPS_NV_WAIT, want, final = MPS_NV_WAIT;
	const uint8_t *buf;
	size_t len, fed = 0, i;
	uint32_t seed;
	int role, event, step = 0, released = 0;

	if (size < 1)
		return 0;
	role = (data[0] & 1) ? MPS_SERVER : MPS_CLIENT;
	event = (data[0] >> 1) & 3; /* 0 none, 1 timeout, 2 EOF, 3 both */
	seed = data[0] >> 3;
	buf = data + 1;
	len = size - 1;
	memset(&n, 0xa5, sizeof(n)); /* init must set every field */
	mps_nego_init(&n, role);
	FZ_ASSERT(n.state == MPS_NS_WAIT && !n.timed_out && !n.why);
	for (i = 0; i < sizeof(n.remote_pub); i++)
		FZ_ASSERT(n.remote_pub[i] == 0);

	while (fed < len || step == 0) {
		size_t chunk = 1 + (seed * 7 + (uint32_t)step * 13) % 11;

		/* a timeout (or EOF) arrives after the second chunk */
		if (step == 2 && (event & 1) && v == MPS_NV_WAIT) {
			v = mps_nego_timeout(&n);
			if (role == MPS_CLIENT) {
				FZ_ASSERT(v == MPS_NV_PLAIN && n.timed_out);
				final = v;
			} else {
				FZ_ASSERT(v == MPS_NV_WAIT && n.state == MPS_NS_RELEASED);
				released = 1;
			}
		}
		fed = fed + chunk > len ? len : fed + chunk;
		v = mps_nego_input(&n, buf, fed);
		if (final != MPS_NV_WAIT) {
			FZ_ASSERT(v == final); /* sticky */
		} else {
			want = model(role, released, buf, fed, &f);
			FZ_ASSERT(v == want);
			if (v != MPS_NV_WAIT) {
				final = v;
				FZ_ASSERT(n.why || v == MPS_NV_MP);
			}
			if (v == MPS_NV_MP) {
				FZ_ASSERT(n.state == MPS_NS_MP);
				FZ_ASSERT(memcmp(n.remote_pub, f.u.hello.pub, sizeof(n.remote_pub)) ==
				          0);
				FZ_ASSERT(n.remote_wnd == f.u.hello.wnd &&
				          n.remote_wnd >= MPS_MIN_WND);
				FZ_ASSERT(n.remote_version == f.u.hello.version &&
				          n.remote_caps == f.u.hello.caps);
			}
		}
		if (step == 3 && (event & 2)) {
			v = mps_nego_eof(&n);
			if (final == MPS_NV_WAIT) {
				FZ_ASSERT(v == MPS_NV_PLAIN);
				final = v;
			}
			FZ_ASSERT(v == final);
		}
		step++;
	}
	/* the same verdict again, whatever comes after */
	FZ_ASSERT(mps_nego_input(&n, buf, len) == (final == MPS_NV_WAIT ? v : final));
	if (final != MPS_NV_WAIT) {
		FZ_ASSERT(mps_nego_eof(&n) == final);
		FZ_ASSERT(mps_nego_timeout(&n) == final);
	}
	FZ_ASSERT(strcmp(mps_nego_state_name(n.state), "?") != 0);
	/* the RTT-derived windows stay within their stated bounds */
	{
		uint32_t rtt = len >= 4 ? (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
		                                  (uint32_t)buf[2] << 8 | buf[3] :
		                          0;
		uint32_t bw = mps_nego_banner_window_us(rtt),
		         rt = mps_nego_reply_timeout_us(rtt, 0);

		FZ_ASSERT(bw >= MPS_BANNER_MIN_US && bw <= MPS_BANNER_MAX_US);
		FZ_ASSERT(rt >= MPS_REPLY_BASE_US && rt <= MPS_REPLY_MAX_US);
		FZ_ASSERT(mps_nego_reply_timeout_us(rtt, 1) == MPS_REPLY_KNOWN_US);
	}
	return 0;
}
