/* frame.c - wire encode/decode.  Pure: no I/O, no allocation.
 *
 * The decoder never reads past avail: it checks the header first, then the
 * exact body length for the type, then every field, and only then reports a
 * frame.  Layouts and rules: docs/DESIGN.md "Wire protocol". */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/frame.h"
#include "mptcpshim/gwreq.h"
#include "mptcpshim/util.h"

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EBADMSG;
}

static void put_hdr(uint8_t *out, uint8_t type, uint8_t flags, uint16_t body)
{
	out[0] = type;
	out[1] = flags;
	mps_put16(out + 2, body);
}

/* Fixed body length for a type, or -1 for variable (DATA, ADD_ADDR), -2 unknown. */
static int fixed_body_len(uint8_t type)
{
	switch (type) {
	case MPS_F_HELLO:
	case MPS_F_HELLO_ACK:
		return MPS_HELLO_BODY;
	case MPS_F_ACK:
		return MPS_ACK_BODY;
	case MPS_F_CLOSE:
		return MPS_CLOSE_BODY;
	case MPS_F_JOIN:
		return MPS_JOIN_BODY;
	case MPS_F_JOIN_ACK:
		return MPS_JOIN_ACK_BODY;
	case MPS_F_JOIN_OK:
		return MPS_JOIN_OK_BODY;
	case MPS_F_REMOVE_ADDR:
		return MPS_REMOVE_ADDR_BODY;
	case MPS_F_PRIO:
		return MPS_PRIO_BODY;
	case MPS_F_DATA:
	case MPS_F_ADD_ADDR:
	case MPS_F_GWREQ:
	case MPS_F_GWREPLY:
		return -1;
	default:
		return -2;
	}
}

/* Header checks that need no body: known type, allowed flags, length. */
static int check_hdr(uint8_t type, uint8_t flags, uint16_t body, const char **why)
{
	int fixed = fixed_body_len(type);

	if (fixed == -2)
		return bad(why, "unknown frame type");
	if (type == MPS_F_DATA) {
		if (flags & ~MPS_DF_MASK)
			return bad(why, "DATA: unknown flag bits");
		if (body < 20)
			return bad(why, "DATA: body shorter than dsn+ack+wnd");
		if (body == 20 && !(flags & MPS_DF_FIN))
			return bad(why, "DATA: empty payload without DATA_FIN");
		return 0;
	}
	if (type == MPS_F_ACK && (flags & ~MPS_AF_LOUD))
		return bad(why, "ACK: unknown flag bits");
	if (flags != 0 && type != MPS_F_ACK)
		return bad(why, "flags must be zero for this frame type");
	if (type == MPS_F_ADD_ADDR) {
		/* The family byte (in the body) must then agree: checked later. */
		if (body != MPS_ADD_ADDR4_BODY && body != MPS_ADD_ADDR6_BODY)
			return bad(why, "ADD_ADDR: body neither 8 (IPv4) nor 20 (IPv6) bytes");
		return 0;
	}
	if (type == MPS_F_GWREQ || type == MPS_F_GWREPLY) {
		/* the message inside says the rest (checked with the body) */
		if (body < MPS_GWREQ_HDR_LEN || body > MPS_GWREQ_MSG_MAX)
			return bad(why, "GWREQ/GWREPLY: body length out of range");
		return 0;
	}
	if ((type == MPS_F_HELLO || type == MPS_F_HELLO_ACK) && body == MPS_HELLO_V1_BODY)
		return bad(why, "HELLO: version 1 (key in clear) is not supported");
	/* the caps byte says which of these it must be (checked with the body) */
	if ((type == MPS_F_HELLO && body == MPS_HELLO_RESUME_BODY) ||
	    (type == MPS_F_HELLO_ACK && body == MPS_HELLO_ACK_TICKET_BODY))
		return 0;
	if (body != (uint16_t)fixed)
		return bad(why, "wrong body length for frame type");
	return 0;
}

/* HELLO / HELLO_ACK body b[0..body): the fields, the resumption fields
 * its caps call for.  0 or -EBADMSG. */
static int decode_hello(uint8_t type, const uint8_t *b, uint16_t body, struct mps_hello *h,
                        const char **why)
{
	if (memcmp(b, MPS_MAGIC, MPS_MAGIC_LEN) != 0)
		return bad(why, "HELLO: bad magic");
	h->version = b[8];
	h->caps = b[9];
	if (h->version == 0)
		return bad(why, "HELLO: version 0");
	if (h->version < MPS_VERSION)
		return bad(why, "HELLO: version 1 in a version 2 body");
	if (mps_get16(b + 10) != 0)
		return bad(why, "HELLO: reserved bits set");
	h->wnd = mps_get32(b + 12);
	if (h->wnd < MPS_MIN_WND)
		return bad(why, "HELLO: window below the minimum");
	memcpy(h->pub, b + 16, MPS_HELLO_PUB_LEN);
	{
		uint8_t acc = 0;

		for (size_t i = 0; i < MPS_HELLO_PUB_LEN; i++)
			acc |= h->pub[i];
		/* the all-zero point: X25519 would give a zero secret */
		if (acc == 0)
			return bad(why, "HELLO: zero public value");
	}
	if (body != mps_frame_hello_len(type, h->caps) - MPS_HDR_LEN)
		return bad(why, "HELLO: body length does not match its TICKET/RESUME caps");
	if (type == MPS_F_HELLO && (h->caps & MPS_CAP_RESUME)) {
		memcpy(h->ticket, b + MPS_HELLO_BODY, MPS_TICKET_LEN);
		memcpy(h->nonce, b + MPS_HELLO_BODY + MPS_TICKET_LEN, MPS_HELLO_NONCE_LEN);
	} else if (type == MPS_F_HELLO_ACK && (h->caps & MPS_CAP_TICKET)) {
		memcpy(h->ticket, b + MPS_HELLO_BODY, MPS_TICKET_LEN);
		h->lifetime = mps_get32(b + MPS_HELLO_BODY + MPS_TICKET_LEN);
		if (h->lifetime == 0 || h->lifetime > MPS_TICKET_LIFETIME_MAX)
			return bad(why, "HELLO_ACK: ticket lifetime out of range");
	}
	return 0;
}

int mps_frame_decode(const uint8_t *buf, size_t avail, struct mps_frame *f, const char **why)
{
	uint8_t type, flags;
	uint16_t body;
	const uint8_t *b;
	int rc;

	if (avail < MPS_HDR_LEN) {
		/* The type byte alone can already be judged. */
		if (avail >= 1 && fixed_body_len(buf[0]) == -2)
			return bad(why, "unknown frame type");
		return 0;
	}
	type = buf[0];
	flags = buf[1];
	body = mps_get16(buf + 2);
	rc = check_hdr(type, flags, body, why);
	if (rc)
		return rc;
	if (avail < MPS_HDR_LEN + (size_t)body)
		return 0;

	b = buf + MPS_HDR_LEN;
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->flags = flags;
	f->body_len = body;
	switch (type) {
	case MPS_F_HELLO:
	case MPS_F_HELLO_ACK:
		rc = decode_hello(type, b, body, &f->u.hello, why);
		if (rc)
			return rc;
		break;
	case MPS_F_DATA:
		f->u.data.dsn = mps_get64(b);
		f->u.data.ack = mps_get64(b + 8);
		f->u.data.wnd = mps_get32(b + 16);
		if (!(flags & MPS_DF_ACK) && (f->u.data.ack != 0 || f->u.data.wnd != 0))
			return bad(why, "DATA: ack/wnd fields set without ACK flag");
		f->u.data.payload = b + 20;
		f->u.data.len = (uint32_t)body - 20u;
		break;
	case MPS_F_ACK:
		f->u.ack.ack = mps_get64(b);
		f->u.ack.wnd = mps_get32(b + 8);
		break;
	case MPS_F_CLOSE:
		f->u.reason = mps_get32(b);
		if (f->u.reason < MPS_CR_ABORT || f->u.reason > MPS_CR_INTERNAL)
			return bad(why, "CLOSE: unknown reason");
		break;
	case MPS_F_JOIN:
		f->u.join.token = mps_get32(b);
		f->u.join.nonce = mps_get32(b + 4);
		f->u.join.addr_id = b[8];
		f->u.join.jflags = b[9];
		if (b[9] & ~MPS_JF_BACKUP)
			return bad(why, "JOIN: unknown jflags bits");
		if (mps_get16(b + 10) != 0)
			return bad(why, "JOIN: reserved bits set");
		break;
	case MPS_F_JOIN_ACK:
		f->u.join_ack.nonce = mps_get32(b);
		f->u.join_ack.hmac = mps_get64(b + 4);
		break;
	case MPS_F_JOIN_OK:
		f->u.join_ok = b;
		break;
	case MPS_F_ADD_ADDR:
		f->u.addr.addr_id = b[0];
		if (b[1] == 4 && body == MPS_ADD_ADDR4_BODY)
			f->u.addr.family = AF_INET;
		else if (b[1] == 6 && body == MPS_ADD_ADDR6_BODY)
			f->u.addr.family = AF_INET6;
		else
			return bad(why, "ADD_ADDR: family does not match the body length");
		f->u.addr.port = mps_get16(b + 2);
		if (f->u.addr.port == 0)
			return bad(why, "ADD_ADDR: port 0");
		memcpy(f->u.addr.addr, b + 4, body - 4u);
		break;
	case MPS_F_REMOVE_ADDR:
		f->u.addr.addr_id = b[0];
		if (b[1] || b[2] || b[3])
			return bad(why, "REMOVE_ADDR: reserved bits set");
		break;
	case MPS_F_PRIO:
		f->u.prio = b[0];
		if ((b[0] & ~MPS_PF_BACKUP) || b[1] || b[2] || b[3])
			return bad(why, "PRIO: reserved bits set");
		break;
	case MPS_F_GWREQ:
	case MPS_F_GWREPLY: {
		/* The body is exactly one message, judged by its own decoder. */
		struct mps_gwreq rq;
		struct mps_gwrep rp;
		const char *w = NULL;
		int n = type == MPS_F_GWREQ ? mps_gwreq_decode_request(b, body, &rq, &w) :
		                              mps_gwreq_decode_reply(b, body, &rp, &w);

		if (n < 0) {
			*why = w;
			return -EBADMSG;
		}
		if (n != (int)body)
			return bad(why, type == MPS_F_GWREQ ? "GWREQ: body is not one request" :
			                                      "GWREPLY: body is not one reply");
		f->u.gw.msg = b;
		f->u.gw.len = body;
		break;
	}
	}
	return (int)(MPS_HDR_LEN + body);
}

size_t mps_frame_hello_len(uint8_t type, uint8_t caps)
{
	if (type == MPS_F_HELLO && (caps & MPS_CAP_RESUME))
		return MPS_HDR_LEN + MPS_HELLO_RESUME_BODY;
	if (type == MPS_F_HELLO_ACK && (caps & MPS_CAP_TICKET))
		return MPS_HDR_LEN + MPS_HELLO_ACK_TICKET_BODY;
	return MPS_HELLO_LEN;
}

size_t mps_frame_put_hello(uint8_t out[MPS_HELLO_MAX_LEN], uint8_t type, const struct mps_hello *h)
{
	size_t len = mps_frame_hello_len(type, h->caps);
	uint8_t *b = out + MPS_HDR_LEN;

	put_hdr(out, type, 0, (uint16_t)(len - MPS_HDR_LEN));
	memcpy(b, MPS_MAGIC, MPS_MAGIC_LEN);
	b[8] = h->version;
	b[9] = h->caps;
	mps_put16(b + 10, 0);
	mps_put32(b + 12, h->wnd);
	memcpy(b + 16, h->pub, MPS_HELLO_PUB_LEN);
	if (len == MPS_HDR_LEN + MPS_HELLO_RESUME_BODY) {
		memcpy(b + MPS_HELLO_BODY, h->ticket, MPS_TICKET_LEN);
		memcpy(b + MPS_HELLO_BODY + MPS_TICKET_LEN, h->nonce, MPS_HELLO_NONCE_LEN);
	} else if (len == MPS_HDR_LEN + MPS_HELLO_ACK_TICKET_BODY) {
		memcpy(b + MPS_HELLO_BODY, h->ticket, MPS_TICKET_LEN);
		mps_put32(b + MPS_HELLO_BODY + MPS_TICKET_LEN, h->lifetime);
	}
	return len;
}

size_t mps_frame_put_data_hdr(uint8_t out[MPS_DATA_HDR_LEN], uint8_t flags, uint64_t dsn,
			      uint64_t ack, uint32_t wnd, uint32_t len)
{
	int has_ack = (flags & MPS_DF_ACK) != 0;

	put_hdr(out, MPS_F_DATA, flags, (uint16_t)(20u + len));
	mps_put64(out + 4, dsn);
	mps_put64(out + 12, has_ack ? ack : 0);
	mps_put32(out + 20, has_ack ? wnd : 0);
	return MPS_DATA_HDR_LEN;
}

size_t mps_frame_put_ack(uint8_t out[MPS_ACK_LEN], uint64_t ack, uint32_t wnd)
{
	put_hdr(out, MPS_F_ACK, 0, MPS_ACK_BODY);
	mps_put64(out + 4, ack);
	mps_put32(out + 12, wnd);
	return MPS_ACK_LEN;
}

size_t mps_frame_put_close(uint8_t out[MPS_CLOSE_LEN], uint32_t reason)
{
	put_hdr(out, MPS_F_CLOSE, 0, MPS_CLOSE_BODY);
	mps_put32(out + 4, reason);
	return MPS_CLOSE_LEN;
}

size_t mps_frame_put_join(uint8_t out[MPS_JOIN_LEN], const struct mps_join *j)
{
	uint8_t *b = out + MPS_HDR_LEN;

	put_hdr(out, MPS_F_JOIN, 0, MPS_JOIN_BODY);
	mps_put32(b, j->token);
	mps_put32(b + 4, j->nonce);
	b[8] = j->addr_id;
	b[9] = j->jflags & MPS_JF_BACKUP; /* never put bits the decoder rejects */
	mps_put16(b + 10, 0);
	return MPS_JOIN_LEN;
}

size_t mps_frame_put_join_ack(uint8_t out[MPS_JOIN_ACK_LEN], const struct mps_join_ack *ja)
{
	put_hdr(out, MPS_F_JOIN_ACK, 0, MPS_JOIN_ACK_BODY);
	mps_put32(out + 4, ja->nonce);
	mps_put64(out + 8, ja->hmac);
	return MPS_JOIN_ACK_LEN;
}

size_t mps_frame_put_join_ok(uint8_t out[MPS_JOIN_OK_LEN], const uint8_t hmac[20])
{
	put_hdr(out, MPS_F_JOIN_OK, 0, MPS_JOIN_OK_BODY);
	memcpy(out + 4, hmac, MPS_JOIN_OK_BODY);
	return MPS_JOIN_OK_LEN;
}

size_t mps_frame_put_add_addr(uint8_t out[MPS_ADD_ADDR_MAX_LEN], const struct mps_addr *a)
{
	uint8_t *b = out + MPS_HDR_LEN;
	size_t alen;

	if (a->family == AF_INET)
		alen = 4;
	else if (a->family == AF_INET6)
		alen = 16;
	else
		return 0;
	put_hdr(out, MPS_F_ADD_ADDR, 0, (uint16_t)(4u + alen));
	b[0] = a->addr_id;
	b[1] = a->family == AF_INET ? 4 : 6;
	mps_put16(b + 2, a->port);
	memcpy(b + 4, a->addr, alen);
	return MPS_HDR_LEN + 4u + alen;
}

size_t mps_frame_put_remove_addr(uint8_t out[MPS_REMOVE_ADDR_LEN], uint8_t addr_id)
{
	put_hdr(out, MPS_F_REMOVE_ADDR, 0, MPS_REMOVE_ADDR_BODY);
	out[4] = addr_id;
	out[5] = out[6] = out[7] = 0;
	return MPS_REMOVE_ADDR_LEN;
}

int mps_frame_prefix_match(uint8_t type, const uint8_t *buf, size_t n)
{
	uint8_t prefix[MPS_HELLO_PREFIX_LEN];

	put_hdr(prefix, type, 0, MPS_HELLO_BODY);
	memcpy(prefix + MPS_HDR_LEN, MPS_MAGIC, MPS_MAGIC_LEN);
	if (n > sizeof(prefix))
		n = sizeof(prefix);
	for (size_t i = 0; i < n; i++) {
		/* byte 3 is the body length's low byte: version 1's (24)
		 * matches too, so that peer gets an error, not plain TCP;
		 * and so do the longer bodies with resumption fields */
		if (i == 3 && (buf[i] == MPS_HELLO_V1_BODY ||
		               buf[i] == mps_frame_hello_len(type, 0xff) - MPS_HDR_LEN))
			continue;
		if (buf[i] != prefix[i])
			return 0;
	}
	return 1;
}

const char *mps_frame_type_name(uint8_t type)
{
	switch (type) {
	case MPS_F_HELLO:
		return "HELLO";
	case MPS_F_HELLO_ACK:
		return "HELLO_ACK";
	case MPS_F_DATA:
		return "DATA";
	case MPS_F_ACK:
		return "ACK";
	case MPS_F_CLOSE:
		return "CLOSE";
	case MPS_F_JOIN:
		return "JOIN";
	case MPS_F_JOIN_ACK:
		return "JOIN_ACK";
	case MPS_F_JOIN_OK:
		return "JOIN_OK";
	case MPS_F_ADD_ADDR:
		return "ADD_ADDR";
	case MPS_F_REMOVE_ADDR:
		return "REMOVE_ADDR";
	case MPS_F_PRIO:
		return "PRIO";
	case MPS_F_GWREQ:
		return "GWREQ";
	case MPS_F_GWREPLY:
		return "GWREPLY";
	default:
		return "UNKNOWN";
	}
}

size_t mps_frame_put_prio(uint8_t out[MPS_PRIO_LEN], uint8_t pflags)
{
	put_hdr(out, MPS_F_PRIO, 0, MPS_PRIO_BODY);
	out[4] = pflags & MPS_PF_BACKUP;
	out[5] = out[6] = out[7] = 0;
	return MPS_PRIO_LEN;
}

size_t mps_frame_put_gw(uint8_t *out, uint8_t type, const uint8_t *msg, size_t len)
{
	if ((type != MPS_F_GWREQ && type != MPS_F_GWREPLY) || len == 0 ||
	    len > MPS_GWREQ_MSG_MAX)
		return 0;
	put_hdr(out, type, 0, (uint16_t)len);
	memcpy(out + MPS_HDR_LEN, msg, len);
	return MPS_HDR_LEN + len;
}
