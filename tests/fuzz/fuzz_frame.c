/* fuzz_frame.c - the frame decoder (src/frame.c) on peer bytes.
 *
 * The input is a byte stream as a subflow would receive it.  Properties:
 *  - the decoder reports a frame only inside the buffer, of the length its
 *    header says, and re-encoding what it decoded gives the very same bytes
 *    (every reserved bit and field rule is checked, so nothing is lost);
 *  - every shorter prefix of a valid frame asks for more bytes (0), never
 *    an error nor a different frame; a rejected buffer is never accepted
 *    once cut shorter;
 *  - a rejection carries a reason;
 *  - encoders' output, from fields taken from the input, decodes back to
 *    the same fields. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "mptcpshim/frame.h"

/* Encode f back into out; the length written. */
static size_t reencode(const struct mps_frame *f, uint8_t *out)
{
	size_t n;

	switch (f->type) {
	case MPS_F_HELLO:
	case MPS_F_HELLO_ACK:
		return mps_frame_put_hello(out, f->type, &f->u.hello);
	case MPS_F_DATA:
		n = mps_frame_put_data_hdr(out, f->flags, f->u.data.dsn, f->u.data.ack,
		                           f->u.data.wnd, f->u.data.len);
		memcpy(out + n, f->u.data.payload, f->u.data.len);
		return n + f->u.data.len;
	case MPS_F_ACK:
		n = mps_frame_put_ack(out, f->u.ack.ack, f->u.ack.wnd);
		out[1] = f->flags; /* MPS_AF_LOUD, the one flag an ACK may carry */
		return n;
	case MPS_F_CLOSE:
		return mps_frame_put_close(out, f->u.reason);
	case MPS_F_JOIN:
		return mps_frame_put_join(out, &f->u.join);
	case MPS_F_JOIN_ACK:
		return mps_frame_put_join_ack(out, &f->u.join_ack);
	case MPS_F_JOIN_OK:
		return mps_frame_put_join_ok(out, f->u.join_ok);
	case MPS_F_ADD_ADDR:
		return mps_frame_put_add_addr(out, &f->u.addr);
	case MPS_F_REMOVE_ADDR:
		return mps_frame_put_remove_addr(out, f->u.addr.addr_id);
	case MPS_F_PRIO:
		return mps_frame_put_prio(out, f->u.prio);
	case MPS_F_GWREQ:
	case MPS_F_GWREPLY:
		return mps_frame_put_gw(out, f->type, f->u.gw.msg, f->u.gw.len);
	}
	/* A type the decoder accepts but this harness cannot encode: teach
	 * reencode() the new frame. */
	FZ_ASSERT(!"decoded a frame type unknown to fuzz_frame.c");
	return 0;
}

static void stream(const uint8_t *data, size_t size)
{
	static uint8_t out[MPS_FRAME_MAX];
	size_t off = 0, k;

	while (off < size) {
		const uint8_t *b = data + off;
		size_t avail = size - off;
		struct mps_frame f, g;
		const char *why = NULL, *why2;
		int rc = mps_frame_decode(b, avail, &f, &why);

		if (rc == 0) {
			FZ_ASSERT(avail < MPS_FRAME_MAX);
			return;
		}
		if (rc < 0) {
			FZ_ASSERT(rc == -EBADMSG);
			FZ_ASSERT(why && *why);
			for (k = 0; k < avail && k < 64; k++)
				FZ_ASSERT(mps_frame_decode(b, k, &g, &why2) <= 0);
			return;
		}
		FZ_ASSERT((size_t)rc <= avail);
		FZ_ASSERT((size_t)rc == MPS_HDR_LEN + f.body_len);
		FZ_ASSERT(f.type == b[0] && f.flags == b[1]);
		FZ_ASSERT(strcmp(mps_frame_type_name(f.type), "UNKNOWN") != 0);
		if (f.type == MPS_F_DATA) {
			FZ_ASSERT(f.u.data.payload == b + MPS_DATA_HDR_LEN);
			FZ_ASSERT(f.u.data.len > 0 || (f.flags & MPS_DF_FIN));
		}
		FZ_ASSERT(reencode(&f, out) == (size_t)rc);
		FZ_ASSERT(memcmp(out, b, (size_t)rc) == 0);
		/* exactly the frame's bytes decode to the same frame */
		FZ_ASSERT(mps_frame_decode(b, (size_t)rc, &g, &why2) == rc);
		FZ_ASSERT(reencode(&g, out) == (size_t)rc && memcmp(out, b, (size_t)rc) == 0);
		for (k = 0; k < (size_t)rc; k++)
			FZ_ASSERT(mps_frame_decode(b, k, &g, &why2) == 0);
		if (f.type == MPS_F_HELLO || f.type == MPS_F_HELLO_ACK)
			FZ_ASSERT(mps_frame_prefix_match(f.type, b, (size_t)rc));
		off += (size_t)rc;
	}
}

/* Fields from the input -> encoder -> decoder -> the same fields (where
 * the decoder accepts them: what it refuses must break a stated rule). */
static void encode_decode(const uint8_t *data, size_t size)
{
	struct fz z = {data, size};
	uint8_t out[MPS_FRAME_MAX];
	struct mps_frame f;
	const char *why;
	struct mps_hello h;
	struct mps_join j;
	struct mps_join_ack ja;
	struct mps_addr a;
	uint64_t dsn, ack;
	uint32_t wnd, len;
	uint8_t flags, hmac[20];
	size_t n;
	int rc;

	h.version = fz_u8(&z);
	h.caps = fz_u8(&z);
	h.wnd = fz_u32(&z);
	{
		uint8_t acc = 0;

		for (n = 0; n < MPS_HELLO_PUB_LEN; n++)
			acc |= h.pub[n] = (fz_u8(&z) & 1) ? fz_u8(&z) : 0;
		for (n = 0; n < MPS_TICKET_LEN; n++)
			h.ticket[n] = fz_u8(&z);
		for (n = 0; n < MPS_HELLO_NONCE_LEN; n++)
			h.nonce[n] = fz_u8(&z);
		h.lifetime = fz_u32(&z);
		for (int t = MPS_F_HELLO; t <= MPS_F_HELLO_ACK; t++) {
			/* a ticket's lifetime is checked where one is carried */
			int life_ok = t == MPS_F_HELLO || !(h.caps & MPS_CAP_TICKET) ||
			              (h.lifetime >= 1 && h.lifetime <= MPS_TICKET_LIFETIME_MAX);

			n = mps_frame_put_hello(out, (uint8_t)t, &h);
			FZ_ASSERT(n == mps_frame_hello_len((uint8_t)t, h.caps) && n <= MPS_HELLO_MAX_LEN);
			rc = mps_frame_decode(out, n, &f, &why);
			FZ_ASSERT((rc == (int)n) ==
			          (h.version >= MPS_VERSION && h.wnd >= MPS_MIN_WND && acc && life_ok));
			if (rc <= 0) {
				FZ_ASSERT(rc == -EBADMSG);
				continue;
			}
			FZ_ASSERT(f.u.hello.version == h.version && f.u.hello.caps == h.caps &&
			          f.u.hello.wnd == h.wnd &&
			          memcmp(f.u.hello.pub, h.pub, MPS_HELLO_PUB_LEN) == 0);
			if (t == MPS_F_HELLO && (h.caps & MPS_CAP_RESUME))
				FZ_ASSERT(!memcmp(f.u.hello.ticket, h.ticket, MPS_TICKET_LEN) &&
				          !memcmp(f.u.hello.nonce, h.nonce, MPS_HELLO_NONCE_LEN));
			if (t == MPS_F_HELLO_ACK && (h.caps & MPS_CAP_TICKET))
				FZ_ASSERT(!memcmp(f.u.hello.ticket, h.ticket, MPS_TICKET_LEN) &&
				          f.u.hello.lifetime == h.lifetime);
		}
	}

	flags = fz_u8(&z) & MPS_DF_MASK;
	dsn = fz_u64(&z);
	ack = fz_u64(&z);
	wnd = fz_u32(&z);
	len = fz_u16(&z) % (MPS_DATA_MAX + 1);
	n = mps_frame_put_data_hdr(out, flags, dsn, ack, wnd, len);
	memset(out + n, 0x5a, len);
	rc = mps_frame_decode(out, n + len, &f, &why);
	if (len || (flags & MPS_DF_FIN)) {
		FZ_ASSERT(rc == (int)(n + len));
		FZ_ASSERT(f.flags == flags && f.u.data.dsn == dsn && f.u.data.len == len);
		if (flags & MPS_DF_ACK)
			FZ_ASSERT(f.u.data.ack == ack && f.u.data.wnd == wnd);
	} else
		FZ_ASSERT(rc == -EBADMSG);

	j.token = fz_u32(&z);
	j.nonce = fz_u32(&z);
	j.addr_id = fz_u8(&z);
	j.jflags = fz_u8(&z);
	n = mps_frame_put_join(out, &j);
	FZ_ASSERT(mps_frame_decode(out, n, &f, &why) == (int)n);
	FZ_ASSERT(f.u.join.token == j.token && f.u.join.nonce == j.nonce &&
	          f.u.join.addr_id == j.addr_id && f.u.join.jflags == (j.jflags & MPS_JF_BACKUP));

	ja.nonce = fz_u32(&z);
	ja.hmac = fz_u64(&z);
	n = mps_frame_put_join_ack(out, &ja);
	FZ_ASSERT(mps_frame_decode(out, n, &f, &why) == (int)n);
	FZ_ASSERT(f.u.join_ack.nonce == ja.nonce && f.u.join_ack.hmac == ja.hmac);

	for (n = 0; n < sizeof(hmac); n++)
		hmac[n] = fz_u8(&z);
	n = mps_frame_put_join_ok(out, hmac);
	FZ_ASSERT(mps_frame_decode(out, n, &f, &why) == (int)n);
	FZ_ASSERT(memcmp(f.u.join_ok, hmac, sizeof(hmac)) == 0);

	memset(&a, 0, sizeof(a));
	a.addr_id = fz_u8(&z);
	a.family = (fz_u8(&z) & 1) ? AF_INET6 : AF_INET;
	a.port = fz_u16(&z);
	for (n = 0; n < 16; n++)
		a.addr[n] = fz_u8(&z);
	n = mps_frame_put_add_addr(out, &a);
	rc = mps_frame_decode(out, n, &f, &why);
	if (a.port) {
		FZ_ASSERT(rc == (int)n);
		FZ_ASSERT(f.u.addr.addr_id == a.addr_id && f.u.addr.family == a.family &&
		          f.u.addr.port == a.port &&
		          !memcmp(f.u.addr.addr, a.addr, a.family == AF_INET ? 4 : 16));
	} else
		FZ_ASSERT(rc == -EBADMSG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stream(data, size);
	encode_decode(data, size);
	return 0;
}
