/* nego.c - MP_CAPABLE-equivalent negotiation, pure (see nego.h). */
#include "config.h"

#include <string.h>

#include "mptcpshim/frame.h"
#include "mptcpshim/nego.h"

void mps_nego_init(struct mps_nego *n, enum mps_role role)
{
	n->role = (uint8_t)role;
	n->state = MPS_NS_WAIT;
	n->remote_version = 0;
	n->remote_caps = 0;
	n->remote_wnd = 0;
	memset(n->remote_pub, 0, sizeof(n->remote_pub));
	n->why = NULL;
	n->timed_out = 0;
}

static enum mps_nego_verdict verdict_of(const struct mps_nego *n)
{
	switch (n->state) {
	case MPS_NS_MP:
		return MPS_NV_MP;
	case MPS_NS_PLAIN:
		return MPS_NV_PLAIN;
	case MPS_NS_ABORT:
		return MPS_NV_ABORT;
	case MPS_NS_ERROR:
		return MPS_NV_ERROR;
	default:
		return MPS_NV_WAIT;
	}
}

static enum mps_nego_verdict decide(struct mps_nego *n, uint8_t state, const char *why)
{
	n->state = state;
	n->why = why;
	return verdict_of(n);
}

enum mps_nego_verdict mps_nego_input(struct mps_nego *n, const uint8_t *buf, size_t avail)
{
	uint8_t want = n->role == MPS_CLIENT ? MPS_F_HELLO_ACK : MPS_F_HELLO;
	struct mps_frame f;
	const char *why = NULL;
	int rc;

	if (n->state != MPS_NS_WAIT && n->state != MPS_NS_RELEASED)
		return verdict_of(n);
	if (avail == 0)
		return MPS_NV_WAIT;
	if (!mps_frame_prefix_match(want, buf, avail))
		return decide(n, MPS_NS_PLAIN,
			      n->role == MPS_CLIENT ? "peer's first bytes are not a HELLO_ACK"
						    : "client's first bytes are not a HELLO");
	/* The whole frame its header announces: a version 1 HELLO (24-byte
	 * body, prefix matched) is judged once complete, as an error. */
	if (avail < MPS_HDR_LEN ||
	    avail < MPS_HDR_LEN + (size_t)(((unsigned)buf[2] << 8) | buf[3]))
		return MPS_NV_WAIT;
	rc = mps_frame_decode(buf, avail, &f, &why);
	if (rc <= 0)
		return decide(n, MPS_NS_ERROR, why ? why : "malformed HELLO");
	if (n->state == MPS_NS_RELEASED)
		/* The server app's bytes already went out raw: this connection
		 * can no longer become MP, and the HELLO must not reach the app. */
		return decide(n, MPS_NS_ABORT, "HELLO arrived after the banner window");
	n->remote_version = f.u.hello.version;
	n->remote_caps = f.u.hello.caps;
	n->remote_wnd = f.u.hello.wnd;
	memcpy(n->remote_pub, f.u.hello.pub, sizeof(n->remote_pub));
	return decide(n, MPS_NS_MP, NULL);
}

enum mps_nego_verdict mps_nego_eof(struct mps_nego *n)
{
	if (n->state != MPS_NS_WAIT && n->state != MPS_NS_RELEASED)
		return verdict_of(n);
	return decide(n, MPS_NS_PLAIN, "peer closed before negotiating");
}

enum mps_nego_verdict mps_nego_timeout(struct mps_nego *n)
{
	if (n->state != MPS_NS_WAIT)
		return verdict_of(n);
	if (n->role == MPS_CLIENT) {
		n->timed_out = 1;
		return decide(n, MPS_NS_PLAIN, "no HELLO_ACK before the reply timeout");
	}
	n->state = MPS_NS_RELEASED;
	n->why = "banner window expired";
	return MPS_NV_WAIT;
}

enum mps_nego_verdict mps_nego_hello_stalled(struct mps_nego *n)
{
	if (n->role != MPS_SERVER || (n->state != MPS_NS_WAIT && n->state != MPS_NS_RELEASED))
		return verdict_of(n);
	return decide(n, MPS_NS_PLAIN,
	              "client's first bytes began a HELLO that did not complete in time");
}

uint32_t mps_nego_hello_timeout_us(uint32_t rtt_us)
{
	return mps_nego_reply_timeout_us(rtt_us, 0) + MPS_HELLO_GRACE_US;
}

uint32_t mps_nego_banner_window_us(uint32_t rtt_us)
{
	uint64_t w = (uint64_t)rtt_us * 4u;

	if (w < MPS_BANNER_MIN_US)
		w = MPS_BANNER_MIN_US;
	if (w > MPS_BANNER_MAX_US)
		w = MPS_BANNER_MAX_US;
	return (uint32_t)w;
}

uint32_t mps_nego_banner_window_known_us(uint32_t rtt_us)
{
	uint32_t w = mps_nego_banner_window_us(rtt_us);

	return w < MPS_BANNER_KNOWN_US ? MPS_BANNER_KNOWN_US : w;
}

uint32_t mps_nego_reply_timeout_us(uint32_t rtt_us, int known_shim)
{
	uint64_t w = (uint64_t)rtt_us * 8u + MPS_REPLY_BASE_US;

	if (known_shim)
		return MPS_REPLY_KNOWN_US;
	return (uint32_t)(w > MPS_REPLY_MAX_US ? MPS_REPLY_MAX_US : w);
}

const char *mps_nego_state_name(uint8_t state)
{
	static const char *const names[] = {"WAIT", "RELEASED", "MP", "PLAIN", "ABORT", "ERROR"};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}
