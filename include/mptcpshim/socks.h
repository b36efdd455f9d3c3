/* socks.h - the local proxy's request parser: SOCKS5 (RFC 1928: the
 * no-authentication method, CONNECT only, IPv4, IPv6 and domain names) and
 * HTTP CONNECT (RFC 9110 section 9.3.6), server side.  Pure: feed bytes,
 * get a verdict.  Used by `mptcpshim proxy` (src/proxy/).
 *
 * The caller keeps the bytes received and not yet consumed, and calls
 * mps_proxy_input() with all of them after each read:
 *   MORE   nothing consumed; call again when more bytes came.
 *   REPLY  send reply[0..reply_len) (the SOCKS method selection), drop
 *          `consumed` bytes and call again at once with the rest (a client
 *          may send its request right behind its greeting).
 *   READY  dest holds the destination; `consumed` bytes were the request;
 *          the rest (say, a TLS ClientHello sent right behind the CONNECT)
 *          is the application's and goes to the destination.  The reply
 *          waits for the connect's result (mps_socks_reply,
 *          mps_http_reply).
 *   ERROR  send reply[0..reply_len) (may be empty: not a proxy client at
 *          all), then close; why says what was wrong.
 */
#ifndef MPS_SOCKS_H
#define MPS_SOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "mptcpshim/gwreq.h"

#define MPS_PROXY_HTTP_MAX 8192u /* request line and headers, at most */
#define MPS_PROXY_REPLY_MAX 128u
#define MPS_SOCKS_REPLY_LEN 10u /* every reply we send: bound address 0.0.0.0:0 */

enum mps_proxy_kind { MPS_PX_UNKNOWN = 0, MPS_PX_SOCKS5, MPS_PX_HTTP };
enum mps_proxy_status { MPS_PXS_MORE = 0, MPS_PXS_REPLY, MPS_PXS_READY, MPS_PXS_ERROR };

/* SOCKS5 reply codes (RFC 1928 section 6). */
enum {
	MPS_SOCKS_OK = 0x00,
	MPS_SOCKS_FAILURE = 0x01,
	MPS_SOCKS_NOT_ALLOWED = 0x02,
	MPS_SOCKS_NETUNREACH = 0x03,
	MPS_SOCKS_HOSTUNREACH = 0x04,
	MPS_SOCKS_REFUSED = 0x05,
	MPS_SOCKS_TTL = 0x06,
	MPS_SOCKS_CMD = 0x07,
	MPS_SOCKS_ATYP = 0x08,
};

struct mps_proxy {
	uint8_t kind;           /* enum mps_proxy_kind, once known */
	uint8_t state;          /* internal: 0 start, 1 SOCKS method chosen, 2 done */
	struct mps_gwdest dest; /* READY */
	size_t consumed;
	uint8_t reply[MPS_PROXY_REPLY_MAX];
	size_t reply_len;
	const char *why; /* ERROR: static reason */
};

void mps_proxy_init(struct mps_proxy *p);
enum mps_proxy_status mps_proxy_input(struct mps_proxy *p, const uint8_t *buf, size_t len);

/* SOCKS5 reply for a connect result (enum mps_gwreq_result): 10 bytes,
 * bound address 0.0.0.0:0.  OK 0x00, REFUSED 0x05, TIMEDOUT 0x06 (TTL
 * expired, as Tor answers a timeout), HOSTUNREACH and NAME 0x04, NETUNREACH 0x03, POLICY 0x02 (not allowed by
 * ruleset), anything else 0x01. */
uint8_t mps_socks_rep_of_result(uint8_t result);
size_t mps_socks_reply(uint8_t out[MPS_SOCKS_REPLY_LEN], uint8_t rep);

/* HTTP CONNECT response for a connect result: "HTTP/1.1 200 Connection
 * established", 504 Gateway Timeout (TIMEDOUT), 403 Forbidden (POLICY),
 * 502 Bad Gateway (the rest).  Returns the length (out NUL-terminated),
 * 0 if cap is too small. */
size_t mps_http_reply(char *out, size_t cap, uint8_t result);

#endif
