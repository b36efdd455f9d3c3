/* gwreq.h - the gateway request and reply codec (planned, issue 14: not
 * yet on the wire; docs/DESIGN.md "Gateway").  Pure: no I/O, no allocation.
 *
 * After RFC 8803's 0-RTT convert: the destination rides in the client's
 * first message, and the app's first bytes follow it at once.
 *
 *   message = version u8 (1) | kind u8 (1 request, 2 reply) | tlv_len u16
 *             | TLVs (tlv_len bytes, at most MPS_GWREQ_TLV_MAX)
 *   TLV     = type u8 | len u16 | value (len bytes)
 *
 * Request TLVs: exactly one destination (IPV4, IPV6 or NAME), at most one
 * AUTH.  Reply TLVs: exactly one RESULT, at most one CONFIRM.  A type may
 * appear once.  Unknown types 0..127 are refused; 128..255 are skipped
 * (room for optional extensions).  Every length is exact.
 */
#ifndef MPS_GWREQ_H
#define MPS_GWREQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define MPS_GWREQ_VERSION 1u
#define MPS_GWREQ_KIND_REQUEST 1u
#define MPS_GWREQ_KIND_REPLY 2u
#define MPS_GWREQ_HDR_LEN 4u
#define MPS_GWREQ_TLV_HDR 3u
#define MPS_GWREQ_TLV_MAX 1024u /* a request never needs more */
#define MPS_GWREQ_MSG_MAX (MPS_GWREQ_HDR_LEN + MPS_GWREQ_TLV_MAX)

enum mps_gwreq_tlv {
	MPS_GWT_DEST_IPV4 = 1, /* addr[4] | port u16 (!= 0): 6 bytes */
	MPS_GWT_DEST_IPV6 = 2, /* addr[16] | port u16 (!= 0): 18 bytes */
	MPS_GWT_DEST_NAME = 3, /* port u16 (!= 0) | name (1..255 bytes): 3..257 bytes */
	MPS_GWT_AUTH = 4,      /* authenticator (gwauth.h): 64 bytes */
	MPS_GWT_RESULT = 16,   /* reply: result code u8: 1 byte */
	MPS_GWT_CONFIRM = 17,  /* reply: the gateway's key confirmation (kex.h): 16 bytes */
};

#define MPS_GWREQ_AUTH_LEN 64u
#define MPS_GWREQ_CONFIRM_LEN 16u
#define MPS_GWDEST_NAME_MAX 255u
/* The destination TLV, header included, at its largest. */
#define MPS_GWDEST_TLV_MAX (MPS_GWREQ_TLV_HDR + 2u + MPS_GWDEST_NAME_MAX)

/* The destination's connect result, as the gateway saw it. */
enum mps_gwreq_result {
	MPS_GWR_OK = 0,
	MPS_GWR_REFUSED = 1,     /* ECONNREFUSED */
	MPS_GWR_TIMEDOUT = 2,    /* ETIMEDOUT */
	MPS_GWR_HOSTUNREACH = 3, /* EHOSTUNREACH */
	MPS_GWR_NETUNREACH = 4,  /* ENETUNREACH */
	MPS_GWR_POLICY = 5,      /* refused by the gateway's policy: ECONNREFUSED at the client */
	MPS_GWR_NAME = 6,        /* the name did not resolve: EHOSTUNREACH at the client */
	MPS_GWR_MAX = MPS_GWR_NAME,
	/* Never on the wire: refused by the gateway's limits (--max-per-client,
	 * --rate-per-client), replied as MPS_GWR_REFUSED and counted apart
	 * (gateway_limited, mps_stat_gw_reply). */
	MPS_GWR_LIMITED = 0x80,
};

struct mps_gwdest {
	uint8_t type;                       /* MPS_GWT_DEST_IPV4, _IPV6 or _NAME */
	uint16_t port;                      /* never 0 */
	uint8_t addr[16];                   /* network order; the first 4 bytes for IPv4 */
	uint8_t name_len;                   /* NAME: 1..255 */
	char name[MPS_GWDEST_NAME_MAX + 1]; /* NAME: NUL-terminated */
};

struct mps_gwreq {
	struct mps_gwdest dest;
	uint8_t has_auth;
	uint8_t auth[MPS_GWREQ_AUTH_LEN]; /* raw; gwauth.c parses and checks it */
};

struct mps_gwrep {
	uint8_t result; /* enum mps_gwreq_result */
	uint8_t has_confirm;
	uint8_t confirm[MPS_GWREQ_CONFIRM_LEN];
};

/* A host name the gateway will resolve: 1..255 bytes, dot-separated labels
 * of 1..63 letters, digits, '-' or '_', one trailing dot allowed.  1 if
 * valid. */
int mps_gwdest_name_ok(const char *name, size_t len);

/* Fill d with a NAME destination (validated): 0 or -EINVAL. */
int mps_gwdest_set_name(struct mps_gwdest *d, const char *name, size_t len, uint16_t port);

/* The destination TLV bytes (canonical: the authenticator's MAC covers
 * exactly these).  Returns the length, or 0 for an invalid destination
 * (nothing written). */
size_t mps_gwdest_put(uint8_t out[MPS_GWDEST_TLV_MAX], const struct mps_gwdest *d);

/* Encode a request (auth NULL: none) or a reply (confirm NULL: none)
 * into out[0..cap).  Returns the length, or 0 when the input is invalid or
 * does not fit (nothing useful written). */
size_t mps_gwreq_put_request(uint8_t *out, size_t cap, const struct mps_gwdest *d,
                             const uint8_t *auth);
size_t mps_gwreq_put_reply(uint8_t *out, size_t cap, uint8_t result, const uint8_t *confirm);

/* Decode a request (resp. reply) from buf[0..avail).  Returns the
 * message's length (> 0; the bytes after it are the app's), 0 when more
 * bytes are needed (never more than MPS_GWREQ_MSG_MAX in all), or
 * -EBADMSG with *why a static reason.  Never reads past avail. */
int mps_gwreq_decode_request(const uint8_t *buf, size_t avail, struct mps_gwreq *r,
                             const char **why);
int mps_gwreq_decode_reply(const uint8_t *buf, size_t avail, struct mps_gwrep *r, const char **why);

/* Result code -> the errno a TCP connect() would give (0 for OK); an
 * unknown code gives ECONNREFUSED. */
int mps_gwreq_result_errno(uint8_t result);
/* errno of the gateway's own connect() (positive or negative) -> result
 * code; anything without a code of its own is REFUSED. */
uint8_t mps_gwreq_result_of_errno(int err);
const char *mps_gwreq_result_name(uint8_t result);
/* d's address and port as a sockaddr in *ss: its length, or 0 for a name. */
socklen_t mps_gwreq_dest_sockaddr(const struct mps_gwdest *d, struct sockaddr_storage *ss);
/* "host:port" or "[v6]:port" of d, for log lines. */
const char *mps_gwreq_dest_str(const struct mps_gwdest *d, char *buf, size_t len);

#endif
