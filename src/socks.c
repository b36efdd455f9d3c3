/* socks.c - SOCKS5 and HTTP CONNECT request parsing, server side (see
 * socks.h).  Pure: no I/O, no allocation.  Used by mptcpshim-proxy
 * (src/proxy/). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mptcpshim/socks.h"
#include "mptcpshim/util.h"

void mps_proxy_init(struct mps_proxy *p)
{
	memset(p, 0, sizeof(*p));
}

static enum mps_proxy_status set_reply(struct mps_proxy *p, enum mps_proxy_status st,
                                       const void *reply, size_t n, const char *why)
{
	if (n > sizeof(p->reply))
		n = sizeof(p->reply);
	memcpy(p->reply, reply, n);
	p->reply_len = n;
	p->why = why;
	if (st == MPS_PXS_ERROR)
		p->state = 2;
	return st;
}

static enum mps_proxy_status socks_fail(struct mps_proxy *p, uint8_t rep, const char *why)
{
	uint8_t r[MPS_SOCKS_REPLY_LEN];

	mps_socks_reply(r, rep);
	return set_reply(p, MPS_PXS_ERROR, r, sizeof(r), why);
}

/* SOCKS5 greeting: VER=5 NMETHODS METHODS[NMETHODS]. */
static enum mps_proxy_status socks_greeting(struct mps_proxy *p, const uint8_t *b, size_t n)
{
	static const uint8_t ok[2] = {0x05, 0x00}, none[2] = {0x05, 0xff};
	size_t want;

	if (n < 2)
		return MPS_PXS_MORE;
	if (b[1] == 0)
		return set_reply(p, MPS_PXS_ERROR, none, 2, "SOCKS5 greeting offers no method");
	want = 2u + b[1];
	if (n < want)
		return MPS_PXS_MORE;
	if (!memchr(b + 2, 0x00, b[1]))
		return set_reply(p, MPS_PXS_ERROR, none, 2,
		                 "SOCKS5 client does not offer no-authentication");
	p->consumed = want;
	p->state = 1;
	return set_reply(p, MPS_PXS_REPLY, ok, 2, NULL);
}

/* SOCKS5 request: VER=5 CMD RSV=0 ATYP DST.ADDR DST.PORT. */
static enum mps_proxy_status socks_request(struct mps_proxy *p, const uint8_t *b, size_t n)
{
	struct mps_gwdest *d = &p->dest;
	size_t alen, want;

	if (n >= 1 && b[0] != 0x05)
		return socks_fail(p, MPS_SOCKS_FAILURE, "SOCKS5 request: version is not 5");
	if (n >= 2 && b[1] != 0x01)
		return socks_fail(p, MPS_SOCKS_CMD, "SOCKS5 request: only CONNECT is supported");
	if (n >= 3 && b[2] != 0x00)
		return socks_fail(p, MPS_SOCKS_FAILURE, "SOCKS5 request: reserved byte not 0");
	if (n < 4)
		return MPS_PXS_MORE;
	switch (b[3]) {
	case 0x01:
		alen = 4;
		break;
	case 0x04:
		alen = 16;
		break;
	case 0x03:
		if (n < 5)
			return MPS_PXS_MORE;
		if (b[4] == 0)
			return socks_fail(p, MPS_SOCKS_FAILURE,
			                  "SOCKS5 request: empty domain name");
		alen = 1u + b[4];
		break;
	default:
		return socks_fail(p, MPS_SOCKS_ATYP, "SOCKS5 request: unknown address type");
	}
	want = 4 + alen + 2;
	if (n < want)
		return MPS_PXS_MORE;
	memset(d, 0, sizeof(*d));
	d->port = mps_get16(b + 4 + alen);
	if (b[3] == 0x03) {
		if (mps_gwdest_set_name(d, (const char *)b + 5, b[4], d->port ? d->port : 1))
			return socks_fail(p, MPS_SOCKS_FAILURE,
			                  "SOCKS5 request: not a valid host name");
		d->port = mps_get16(b + 4 + alen);
	} else {
		d->type = b[3] == 0x01 ? MPS_GWT_DEST_IPV4 : MPS_GWT_DEST_IPV6;
		memcpy(d->addr, b + 4, alen);
	}
	if (d->port == 0)
		return socks_fail(p, MPS_SOCKS_FAILURE, "SOCKS5 request: port 0");
	p->consumed = want;
	p->state = 2;
	p->reply_len = 0;
	return MPS_PXS_READY;
}

static enum mps_proxy_status http_fail(struct mps_proxy *p, int code, const char *why)
{
	static const char r400[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
	                           "Connection: close\r\n\r\n";
	static const char r405[] = "HTTP/1.1 405 Method Not Allowed\r\nAllow: CONNECT\r\n"
	                           "Content-Length: 0\r\nConnection: close\r\n\r\n";

	if (code == 405)
		return set_reply(p, MPS_PXS_ERROR, r405, sizeof(r405) - 1, why);
	return set_reply(p, MPS_PXS_ERROR, r400, sizeof(r400) - 1, why);
}

/* "host:port", "[v6]:port": into p->dest.  0 or -1. */
static int http_authority(struct mps_proxy *p, const char *s, size_t n)
{
	struct mps_gwdest *d = &p->dest;
	const char *host, *colon;
	size_t hlen, plen;
	unsigned long port = 0;
	char tmp[MPS_GWDEST_NAME_MAX + 1];

	colon = NULL;
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (!colon)
		return -1;
	plen = n - (size_t)(colon - s) - 1;
	if (plen == 0 || plen > 5)
		return -1;
	for (size_t i = 0; i < plen; i++) {
		if (colon[1 + i] < '0' || colon[1 + i] > '9')
			return -1;
		port = port * 10 + (unsigned long)(colon[1 + i] - '0');
	}
	if (port == 0 || port > 65535)
		return -1;
	host = s;
	hlen = (size_t)(colon - s);
	memset(d, 0, sizeof(*d));
	if (hlen >= 2 && host[0] == '[') {
		if (host[hlen - 1] != ']' || hlen - 2 >= sizeof(tmp))
			return -1;
		memcpy(tmp, host + 1, hlen - 2);
		tmp[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, d->addr) != 1)
			return -1;
		d->type = MPS_GWT_DEST_IPV6;
	} else {
		if (hlen == 0 || hlen >= sizeof(tmp))
			return -1;
		memcpy(tmp, host, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET, tmp, d->addr) == 1)
			d->type = MPS_GWT_DEST_IPV4;
		else if (mps_gwdest_set_name(d, host, hlen, (uint16_t)port))
			return -1;
	}
	d->port = (uint16_t)port;
	return 0;
}

/* The next line of b[0..n) from *pos: its length without CR LF (or LF),
 * and *pos moved past it; -1 when no line end is there yet. */
static long next_line(const uint8_t *b, size_t n, size_t *pos)
{
	const uint8_t *nl = memchr(b + *pos, '\n', n - *pos);
	size_t len;

	if (!nl)
		return -1;
	len = (size_t)(nl - (b + *pos));
	*pos += len + 1;
	if (len && nl[-1] == '\r')
		len--;
	return (long)len;
}

static enum mps_proxy_status http_request(struct mps_proxy *p, const uint8_t *b, size_t n)
{
	size_t pos = 0, lim = MPS_PROXY_HTTP_MAX < n ? MPS_PROXY_HTTP_MAX : n;
	const char *line = (const char *)b, *sp1, *sp2;
	long len;

	/* The method is judged as soon as its bytes are in. */
	for (size_t i = 0; i < lim && b[i] != ' ' && b[i] != '\n'; i++)
		if (i >= 7 || b[i] != (uint8_t) "CONNECT"[i])
			return http_fail(p, 405, "HTTP: method is not CONNECT");
	len = next_line(b, lim, &pos);
	if (len < 0)
		return n >= MPS_PROXY_HTTP_MAX ? http_fail(p, 400, "HTTP: request line too long") :
		                                 MPS_PXS_MORE;
	if (memchr(line, '\0', (size_t)len))
		return http_fail(p, 400, "HTTP: NUL byte");
	sp1 = memchr(line, ' ', (size_t)len);
	if (!sp1 || (size_t)(sp1 - line) != 7)
		return http_fail(p, 405, "HTTP: method is not CONNECT");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line + len - (sp1 + 1)));
	if (!sp2)
		return http_fail(p, 400, "HTTP: malformed request line");
	if (!((line + len - (sp2 + 1)) == 8 &&
	      (memcmp(sp2 + 1, "HTTP/1.1", 8) == 0 || memcmp(sp2 + 1, "HTTP/1.0", 8) == 0)))
		return http_fail(p, 400, "HTTP: version is not HTTP/1.0 or HTTP/1.1");
	if (http_authority(p, sp1 + 1, (size_t)(sp2 - (sp1 + 1))))
		return http_fail(p, 400, "HTTP: CONNECT target is not host:port");
	/* Headers, up to the empty line; each must be "name: value". */
	for (;;) {
		size_t start = pos;
		const char *h;
		const char *c;

		len = next_line(b, lim, &pos);
		if (len < 0)
			return n >= MPS_PROXY_HTTP_MAX ?
			               http_fail(p, 400, "HTTP: headers too long") :
			               MPS_PXS_MORE;
		if (len == 0)
			break;
		h = (const char *)b + start;
		if (memchr(h, '\0', (size_t)len))
			return http_fail(p, 400, "HTTP: NUL byte");
		c = memchr(h, ':', (size_t)len);
		if (!c || c == h || memchr(h, ' ', (size_t)(c - h)) ||
		    memchr(h, '\t', (size_t)(c - h)))
			return http_fail(p, 400, "HTTP: malformed header line");
	}
	p->consumed = pos;
	p->state = 2;
	p->reply_len = 0;
	return MPS_PXS_READY;
}

enum mps_proxy_status mps_proxy_input(struct mps_proxy *p, const uint8_t *buf, size_t len)
{
	p->consumed = 0;
	p->reply_len = 0;
	p->why = NULL;
	if (p->state == 2)
		return set_reply(p, MPS_PXS_ERROR, "", 0, "request already complete");
	if (len == 0)
		return MPS_PXS_MORE;
	if (p->kind == MPS_PX_UNKNOWN) {
		if (buf[0] == 0x05) {
			p->kind = MPS_PX_SOCKS5;
		} else if (buf[0] == 0x04) {
			static const uint8_t rej[8] = {0x00, 0x5b};

			return set_reply(p, MPS_PXS_ERROR, rej, sizeof(rej),
			                 "SOCKS4 is not supported (SOCKS5 only)");
		} else if (buf[0] >= 'A' && buf[0] <= 'Z') {
			p->kind = MPS_PX_HTTP;
		} else {
			return set_reply(p, MPS_PXS_ERROR, "", 0, "neither SOCKS5 nor HTTP");
		}
	}
	if (p->kind == MPS_PX_HTTP)
		return http_request(p, buf, len);
	if (p->state == 0)
		return socks_greeting(p, buf, len);
	return socks_request(p, buf, len);
}

uint8_t mps_socks_rep_of_result(uint8_t result)
{
	switch (result) {
	case MPS_GWR_OK:
		return MPS_SOCKS_OK;
	case MPS_GWR_REFUSED:
		return MPS_SOCKS_REFUSED;
	case MPS_GWR_TIMEDOUT:
		return MPS_SOCKS_TTL; /* as Tor answers a timeout: "TTL expired" */
	case MPS_GWR_HOSTUNREACH:
	case MPS_GWR_NAME:
		return MPS_SOCKS_HOSTUNREACH;
	case MPS_GWR_NETUNREACH:
		return MPS_SOCKS_NETUNREACH;
	case MPS_GWR_POLICY:
		return MPS_SOCKS_NOT_ALLOWED;
	default:
		return MPS_SOCKS_FAILURE;
	}
}

size_t mps_socks_reply(uint8_t out[MPS_SOCKS_REPLY_LEN], uint8_t rep)
{
	memset(out, 0, MPS_SOCKS_REPLY_LEN);
	out[0] = 0x05;
	out[1] = rep;
	out[3] = 0x01; /* ATYP IPv4, BND.ADDR 0.0.0.0, BND.PORT 0 */
	return MPS_SOCKS_REPLY_LEN;
}

size_t mps_http_reply(char *out, size_t cap, uint8_t result)
{
	const char *r;
	size_t n;

	switch (result) {
	case MPS_GWR_OK:
		r = "HTTP/1.1 200 Connection established\r\n\r\n";
		break;
	case MPS_GWR_TIMEDOUT:
		r = "HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		break;
	case MPS_GWR_POLICY:
		r = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		break;
	default:
		r = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		break;
	}
	n = strlen(r);
	if (n + 1 > cap)
		return 0;
	memcpy(out, r, n + 1);
	return n;
}
