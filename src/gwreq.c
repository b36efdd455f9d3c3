/* gwreq.c - the gateway request and reply codec (see gwreq.h).  Pure: no
 * I/O, no allocation.  Not yet used by the engine (issue 14).
 *
 * Decoding walks a bounds-checked cursor: every read first checks what is
 * left, so no path reads past the bytes it was given, and each TLV's
 * length must be exactly its type's. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "mptcpshim/gwreq.h"
#include "mptcpshim/util.h"

struct cur {
	const uint8_t *p;
	size_t left;
};

/* Take n bytes from the cursor: a pointer to them, or NULL (cursor
 * unchanged) when fewer are left. */
static const uint8_t *take(struct cur *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->left < n)
		return NULL;
	c->p += n;
	c->left -= n;
	return p;
}

static int bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EBADMSG;
}

int mps_gwdest_name_ok(const char *name, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > MPS_GWDEST_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (ch == '.') {
			if (label == 0)
				return 0; /* empty label: leading dot or ".." */
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	/* label == 0 here only after a trailing dot, which is allowed once
	 * ("example.com."); a name of only "." failed above. */
	return 1;
}

int mps_gwdest_set_name(struct mps_gwdest *d, const char *name, size_t len, uint16_t port)
{
	if (!mps_gwdest_name_ok(name, len) || port == 0)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->type = MPS_GWT_DEST_NAME;
	d->port = port;
	d->name_len = (uint8_t)len;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	return 0;
}

static uint8_t *put_tlv_hdr(uint8_t *out, uint8_t type, uint16_t len)
{
	out[0] = type;
	mps_put16(out + 1, len);
	return out + MPS_GWREQ_TLV_HDR;
}

size_t mps_gwdest_put(uint8_t out[MPS_GWDEST_TLV_MAX], const struct mps_gwdest *d)
{
	uint8_t *v;

	if (d->port == 0)
		return 0;
	switch (d->type) {
	case MPS_GWT_DEST_IPV4:
		v = put_tlv_hdr(out, d->type, 6);
		memcpy(v, d->addr, 4);
		mps_put16(v + 4, d->port);
		return MPS_GWREQ_TLV_HDR + 6;
	case MPS_GWT_DEST_IPV6:
		v = put_tlv_hdr(out, d->type, 18);
		memcpy(v, d->addr, 16);
		mps_put16(v + 16, d->port);
		return MPS_GWREQ_TLV_HDR + 18;
	case MPS_GWT_DEST_NAME:
		if (!mps_gwdest_name_ok(d->name, d->name_len))
			return 0;
		v = put_tlv_hdr(out, d->type, (uint16_t)(2 + d->name_len));
		mps_put16(v, d->port);
		memcpy(v + 2, d->name, d->name_len);
		return MPS_GWREQ_TLV_HDR + 2 + d->name_len;
	default:
		return 0;
	}
}

static void put_hdr(uint8_t *out, uint8_t kind, size_t tlv_len)
{
	out[0] = MPS_GWREQ_VERSION;
	out[1] = kind;
	mps_put16(out + 2, (uint16_t)tlv_len);
}

size_t mps_gwreq_put_request(uint8_t *out, size_t cap, const struct mps_gwdest *d,
                             const uint8_t *auth)
{
	uint8_t dest[MPS_GWDEST_TLV_MAX];
	size_t dlen = mps_gwdest_put(dest, d);
	size_t tlv = dlen + (auth ? MPS_GWREQ_TLV_HDR + MPS_GWREQ_AUTH_LEN : 0);
	uint8_t *p;

	if (dlen == 0 || MPS_GWREQ_HDR_LEN + tlv > cap)
		return 0;
	put_hdr(out, MPS_GWREQ_KIND_REQUEST, tlv);
	p = out + MPS_GWREQ_HDR_LEN;
	memcpy(p, dest, dlen);
	p += dlen;
	if (auth) {
		p = put_tlv_hdr(p, MPS_GWT_AUTH, MPS_GWREQ_AUTH_LEN);
		memcpy(p, auth, MPS_GWREQ_AUTH_LEN);
	}
	return MPS_GWREQ_HDR_LEN + tlv;
}

size_t mps_gwreq_put_reply(uint8_t *out, size_t cap, uint8_t result, const uint8_t *confirm)
{
	size_t tlv =
	        MPS_GWREQ_TLV_HDR + 1 + (confirm ? MPS_GWREQ_TLV_HDR + MPS_GWREQ_CONFIRM_LEN : 0);
	uint8_t *p;

	if (result > MPS_GWR_MAX || MPS_GWREQ_HDR_LEN + tlv > cap)
		return 0;
	put_hdr(out, MPS_GWREQ_KIND_REPLY, tlv);
	p = put_tlv_hdr(out + MPS_GWREQ_HDR_LEN, MPS_GWT_RESULT, 1);
	*p++ = result;
	if (confirm) {
		p = put_tlv_hdr(p, MPS_GWT_CONFIRM, MPS_GWREQ_CONFIRM_LEN);
		memcpy(p, confirm, MPS_GWREQ_CONFIRM_LEN);
	}
	return MPS_GWREQ_HDR_LEN + tlv;
}

/* The header: 0 and *tlv_len set when the whole message is present, 1
 * when more bytes are needed, -EBADMSG.  The bytes present are judged as
 * they come, so garbage is refused at its first byte, not after 1 KiB. */
static int decode_hdr(const uint8_t *buf, size_t avail, uint8_t kind, size_t *tlv_len,
                      const char **why)
{
	if (avail >= 1 && buf[0] != MPS_GWREQ_VERSION)
		return bad(why, "unknown gateway message version");
	if (avail >= 2 && buf[1] != kind)
		return bad(why, kind == MPS_GWREQ_KIND_REQUEST ? "not a gateway request" :
		                                                 "not a gateway reply");
	if (avail < MPS_GWREQ_HDR_LEN)
		return 1;
	*tlv_len = mps_get16(buf + 2);
	if (*tlv_len > MPS_GWREQ_TLV_MAX)
		return bad(why, "gateway message longer than 1024 bytes");
	if (avail < MPS_GWREQ_HDR_LEN + *tlv_len)
		return 1;
	return 0;
}

/* Next TLV: 1 with *type, *val and *len set, 0 at the end, -EBADMSG. */
static int next_tlv(struct cur *c, uint8_t *type, const uint8_t **val, uint16_t *len,
                    const char **why)
{
	const uint8_t *h;

	if (c->left == 0)
		return 0;
	h = take(c, MPS_GWREQ_TLV_HDR);
	if (!h)
		return bad(why, "truncated TLV header");
	*type = h[0];
	*len = mps_get16(h + 1);
	*val = take(c, *len);
	if (!*val)
		return bad(why, "TLV runs past the end of the message");
	return 1;
}

static int decode_dest(uint8_t type, const uint8_t *v, uint16_t len, struct mps_gwdest *d,
                       const char **why)
{
	memset(d, 0, sizeof(*d));
	d->type = type;
	switch (type) {
	case MPS_GWT_DEST_IPV4:
		if (len != 6)
			return bad(why, "IPv4 destination: length is not 6");
		memcpy(d->addr, v, 4);
		d->port = mps_get16(v + 4);
		break;
	case MPS_GWT_DEST_IPV6:
		if (len != 18)
			return bad(why, "IPv6 destination: length is not 18");
		memcpy(d->addr, v, 16);
		d->port = mps_get16(v + 16);
		break;
	default: /* NAME */
		if (len < 3 || len > 2 + MPS_GWDEST_NAME_MAX)
			return bad(why, "name destination: length not 3..257");
		d->port = mps_get16(v);
		if (!mps_gwdest_name_ok((const char *)v + 2, len - 2u))
			return bad(why, "name destination: not a valid host name");
		d->name_len = (uint8_t)(len - 2);
		memcpy(d->name, v + 2, d->name_len);
		d->name[d->name_len] = '\0';
		break;
	}
	if (d->port == 0)
		return bad(why, "destination port 0");
	return 0;
}

/* One TLV of a message, for decode_msg: 0, or -EBADMSG (why set).  seen
 * has the types met before it. */
typedef int (*tlv_fn)(void *out, uint8_t type, const uint8_t *v, uint16_t len, uint64_t seen,
                      const char **why);

/* The walk both messages share: the header, then each TLV (types 128..255
 * skipped, a type repeated refused) handed to one().  out (out_size bytes)
 * is cleared once the whole message is present.  1: more bytes needed
 * (out untouched); 0 with *seen and *tlv_len set; -EBADMSG. */
static int decode_msg(const uint8_t *buf, size_t avail, uint8_t kind, tlv_fn one, void *out,
                      size_t out_size, uint64_t *seen, size_t *tlv_len, const char **why)
{
	struct cur c;
	uint8_t type;
	const uint8_t *v;
	uint16_t len;
	int rc;

	*seen = 0;
	rc = decode_hdr(buf, avail, kind, tlv_len, why);
	if (rc)
		return rc;
	memset(out, 0, out_size);
	c.p = buf + MPS_GWREQ_HDR_LEN;
	c.left = *tlv_len;
	while ((rc = next_tlv(&c, &type, &v, &len, why)) > 0) {
		if (type >= 128)
			continue; /* optional extension: skipped */
		if (type < 64 && (*seen & (1ull << type)))
			return bad(why, "TLV type repeated");
		rc = one(out, type, v, len, *seen, why);
		if (rc)
			return rc;
		*seen |= 1ull << type;
	}
	return rc;
}

static int request_tlv(void *out, uint8_t type, const uint8_t *v, uint16_t len, uint64_t seen,
                       const char **why)
{
	struct mps_gwreq *r = out;

	switch (type) {
	case MPS_GWT_DEST_IPV4:
	case MPS_GWT_DEST_IPV6:
	case MPS_GWT_DEST_NAME:
		if (seen & ((1ull << MPS_GWT_DEST_IPV4) | (1ull << MPS_GWT_DEST_IPV6) |
		            (1ull << MPS_GWT_DEST_NAME)))
			return bad(why, "more than one destination");
		return decode_dest(type, v, len, &r->dest, why);
	case MPS_GWT_AUTH:
		if (len != MPS_GWREQ_AUTH_LEN)
			return bad(why, "authenticator: length is not 64");
		memcpy(r->auth, v, MPS_GWREQ_AUTH_LEN);
		r->has_auth = 1;
		return 0;
	default:
		return bad(why, "unknown TLV type in a request");
	}
}

int mps_gwreq_decode_request(const uint8_t *buf, size_t avail, struct mps_gwreq *r,
                             const char **why)
{
	uint64_t seen;
	size_t tlv_len = 0;
	int rc = decode_msg(buf, avail, MPS_GWREQ_KIND_REQUEST, request_tlv, r, sizeof(*r), &seen,
	                    &tlv_len, why);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (!r->dest.type)
		return bad(why, "request without a destination");
	return (int)(MPS_GWREQ_HDR_LEN + tlv_len);
}

static int reply_tlv(void *out, uint8_t type, const uint8_t *v, uint16_t len, uint64_t seen,
                     const char **why)
{
	struct mps_gwrep *r = out;

	(void)seen;
	switch (type) {
	case MPS_GWT_RESULT:
		if (len != 1)
			return bad(why, "result: length is not 1");
		if (v[0] > MPS_GWR_MAX)
			return bad(why, "result: unknown code");
		r->result = v[0];
		return 0;
	case MPS_GWT_CONFIRM:
		if (len != MPS_GWREQ_CONFIRM_LEN)
			return bad(why, "confirm: length is not 16");
		memcpy(r->confirm, v, MPS_GWREQ_CONFIRM_LEN);
		r->has_confirm = 1;
		return 0;
	default:
		return bad(why, "unknown TLV type in a reply");
	}
}

int mps_gwreq_decode_reply(const uint8_t *buf, size_t avail, struct mps_gwrep *r, const char **why)
{
	uint64_t seen;
	size_t tlv_len = 0;
	int rc = decode_msg(buf, avail, MPS_GWREQ_KIND_REPLY, reply_tlv, r, sizeof(*r), &seen,
	                    &tlv_len, why);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (!(seen & (1ull << MPS_GWT_RESULT)))
		return bad(why, "reply without a result");
	return (int)(MPS_GWREQ_HDR_LEN + tlv_len);
}

int mps_gwreq_result_errno(uint8_t result)
{
	switch (result) {
	case MPS_GWR_OK:
		return 0;
	case MPS_GWR_TIMEDOUT:
		return ETIMEDOUT;
	case MPS_GWR_HOSTUNREACH:
	case MPS_GWR_NAME:
		return EHOSTUNREACH;
	case MPS_GWR_NETUNREACH:
		return ENETUNREACH;
	default: /* REFUSED, POLICY (a closed relay looks like a closed port) */
		return ECONNREFUSED;
	}
}

uint8_t mps_gwreq_result_of_errno(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return MPS_GWR_OK;
	case ETIMEDOUT:
		return MPS_GWR_TIMEDOUT;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return MPS_GWR_HOSTUNREACH;
	case ENETUNREACH:
	case ENETDOWN:
		return MPS_GWR_NETUNREACH;
	default:
		return MPS_GWR_REFUSED;
	}
}

const char *mps_gwreq_result_name(uint8_t result)
{
	static const char *const names[] = {"ok",
	                                    "connection refused",
	                                    "timed out",
	                                    "host unreachable",
	                                    "network unreachable",
	                                    "refused by policy",
	                                    "name not resolved"};

	return result <= MPS_GWR_MAX ? names[result] : "unknown";
}

const char *mps_gwreq_dest_str(const struct mps_gwdest *d, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	switch (d->type) {
	case MPS_GWT_DEST_IPV4:
		inet_ntop(AF_INET, d->addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, d->port);
		break;
	case MPS_GWT_DEST_IPV6:
		inet_ntop(AF_INET6, d->addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, d->port);
		break;
	default:
		snprintf(buf, len, "%s:%u", d->name, d->port);
		break;
	}
	return buf;
}

socklen_t mps_gwreq_dest_sockaddr(const struct mps_gwdest *d, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (d->type == MPS_GWT_DEST_IPV4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(d->port);
		memcpy(&in->sin_addr, d->addr, 4);
		return sizeof(*in);
	}
	if (d->type == MPS_GWT_DEST_IPV6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(d->port);
		memcpy(&in6->sin6_addr, d->addr, 16);
		return sizeof(*in6);
	}
	return 0;
}
