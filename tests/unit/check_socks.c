/* check_socks.c - the SOCKS5 / HTTP CONNECT parser: byte tables checked
 * exactly, every truncation length, pipelined bytes after the request, the
 * error replies and the reply encoders. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/socks.h"
#include "mptcpshim/util.h"
#include "unhex.h"

/* Drive the parser as the proxy would, over b[0..n) delivered at once:
 * REPLY bytes are collected into *replies.  Returns the final status and
 * sets *off to the bytes consumed in all. */
static enum mps_proxy_status drive(struct mps_proxy *p, const uint8_t *b, size_t n, size_t *off,
                                   uint8_t *replies, size_t *rlen)
{
	enum mps_proxy_status st;

	*off = 0;
	*rlen = 0;
	mps_proxy_init(p);
	for (;;) {
		st = mps_proxy_input(p, b + *off, n - *off);
		ck_assert_uint_le(p->consumed, n - *off);
		if (st == MPS_PXS_MORE)
			ck_assert_uint_eq(p->consumed, 0);
		memcpy(replies + *rlen, p->reply, p->reply_len);
		*rlen += p->reply_len;
		*off += p->consumed;
		if (st != MPS_PXS_REPLY)
			return st;
	}
}

struct socks_vec {
	const char *what;
	const char *in;    /* hex: greeting + request (+ pipelined bytes) */
	size_t pipelined;  /* trailing bytes that are the app's */
	int status;        /* final status */
	const char *reply; /* hex: every reply byte the proxy sends before READY/ERROR */
	uint8_t type;      /* READY: destination */
	uint16_t port;
	const char *addr; /* hex address or name */
};

static const struct socks_vec socks_vecs[] = {
        {"IPv4", "050100 050100 01 c6120001 01bb", 0, MPS_PXS_READY, "0500", MPS_GWT_DEST_IPV4, 443,
         "c6120001"},
        {"IPv4 + TLS ClientHello", "05020200 050100 01 c6120001 01bb 160301", 3, MPS_PXS_READY,
         "0500", MPS_GWT_DEST_IPV4, 443, "c6120001"},
        {"IPv6", "050100 050100 04 20010db8000000000000000000000001 0016", 0, MPS_PXS_READY, "0500",
         MPS_GWT_DEST_IPV6, 22, "20010db8000000000000000000000001"},
        {"name", "050100 050100 03 0b 6578616d706c652e636f6d 0050", 0, MPS_PXS_READY, "0500",
         MPS_GWT_DEST_NAME, 80, "example.com"},
        {"no acceptable method", "050102", 0, MPS_PXS_ERROR, "05ff", 0, 0, NULL},
        {"no method at all", "0500", 0, MPS_PXS_ERROR, "05ff", 0, 0, NULL},
        {"BIND", "050100 050200 01 c6120001 01bb", 0, MPS_PXS_ERROR, "0500 05070001000000000000", 0,
         0, NULL},
        {"UDP ASSOCIATE", "050100 0503", 0, MPS_PXS_ERROR, "0500 05070001000000000000", 0, 0, NULL},
        {"address type 5", "050100 05010005", 0, MPS_PXS_ERROR, "0500 05080001000000000000", 0, 0,
         NULL},
        {"request version 4", "050100 04", 0, MPS_PXS_ERROR, "0500 05010001000000000000", 0, 0,
         NULL},
        {"reserved byte", "050100 050101", 0, MPS_PXS_ERROR, "0500 05010001000000000000", 0, 0,
         NULL},
        {"empty name", "050100 0501000300", 0, MPS_PXS_ERROR, "0500 05010001000000000000", 0, 0,
         NULL},
        {"bad name", "050100 050100 03 03 612062 0050", 0, MPS_PXS_ERROR,
         "0500 05010001000000000000", 0, 0, NULL},
        {"port 0", "050100 050100 01 c6120001 0000", 0, MPS_PXS_ERROR, "0500 05010001000000000000",
         0, 0, NULL},
        {"SOCKS4", "04 01 0050 c6120001 00", 0, MPS_PXS_ERROR, "005b000000000000", 0, 0, NULL},
        {"TLS, not a proxy client", "160301", 0, MPS_PXS_ERROR, "", 0, 0, NULL},
};

static void check_dest(const struct mps_gwdest *d, uint8_t type, uint16_t port, const char *addr)
{
	uint8_t a[16];

	ck_assert_uint_eq(d->type, type);
	ck_assert_uint_eq(d->port, port);
	if (type == MPS_GWT_DEST_NAME) {
		ck_assert_str_eq(d->name, addr);
		ck_assert_uint_eq(d->name_len, strlen(addr));
	} else {
		size_t n = unhex(addr, a, sizeof(a));
		ck_assert_mem_eq(d->addr, a, n);
	}
}

START_TEST(test_socks_vectors)
{
	for (size_t i = 0; i < MPS_ARRAY_SIZE(socks_vecs); i++) {
		const struct socks_vec *v = &socks_vecs[i];
		uint8_t in[300], want[64], got[64];
		size_t n = unhex(v->in, in, sizeof(in)), wn = unhex(v->reply, want, sizeof(want));
		size_t off, rlen;
		struct mps_proxy p;
		enum mps_proxy_status st = drive(&p, in, n, &off, got, &rlen);

		ck_assert_msg((int)st == v->status, "%s: status %d", v->what, st);
		ck_assert_msg(rlen == wn && memcmp(got, want, wn) == 0, "%s: reply bytes", v->what);
		if (st == MPS_PXS_READY) {
			ck_assert_uint_eq(p.kind, MPS_PX_SOCKS5);
			ck_assert_uint_eq(off, n - v->pipelined);
			check_dest(&p.dest, v->type, v->port, v->addr);
		} else {
			ck_assert_ptr_nonnull(p.why);
		}
		/* Cut short at every length before the verdict's last byte:
		 * never READY, and an error only where the full input errs. */
		for (size_t k = 0; k + v->pipelined < n; k++) {
			st = drive(&p, in, k, &off, got, &rlen);
			ck_assert_msg(st == MPS_PXS_MORE ||
			                      (st == MPS_PXS_ERROR && v->status == MPS_PXS_ERROR),
			              "%s cut at %zu: status %d", v->what, k, st);
		}
	}
}
END_TEST

struct http_vec {
	const char *what;
	const char *in;
	size_t pipelined;
	int status;
	const char *reply;
	uint8_t type;
	uint16_t port;
	const char *addr;
};

#define R400 "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
#define R405                                                                                     \
	"HTTP/1.1 405 Method Not Allowed\r\nAllow: CONNECT\r\nContent-Length: 0\r\nConnection: " \
	"close\r\n\r\n"

static const struct http_vec http_vecs[] = {
        {"name + ClientHello",
         "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: x\r\n\r\n\x16\x03\x01",
         3, MPS_PXS_READY, "", MPS_GWT_DEST_NAME, 443, "example.com"},
        {"IPv6", "CONNECT [2001:db8::1]:8443 HTTP/1.0\r\n\r\n", 0, MPS_PXS_READY, "",
         MPS_GWT_DEST_IPV6, 8443, "20010db8000000000000000000000001"},
        {"IPv4, bare LF", "CONNECT 198.18.0.1:80 HTTP/1.1\nProxy-Connection: keep-alive\n\n", 0,
         MPS_PXS_READY, "", MPS_GWT_DEST_IPV4, 80, "c6120001"},
        {"GET", "GET / HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R405, 0, 0, NULL},
        {"CONNECTX", "CONNECTX a:1 HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R405, 0, 0, NULL},
        {"no port", "CONNECT example.com HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0, NULL},
        {"port 0", "CONNECT example.com:0 HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0, NULL},
        {"port 65536", "CONNECT example.com:65536 HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0,
         NULL},
        {"port +80", "CONNECT example.com:+80 HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0,
         NULL},
        {"bad host", "CONNECT exa/mple:80 HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0, NULL},
        {"bad IPv6", "CONNECT [2001:db8::zz]:80 HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0,
         NULL},
        {"IPv6 unbracketed", "CONNECT 2001:db8::1:80 HTTP/1.1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0,
         0, NULL},
        {"HTTP/2", "CONNECT a:1 HTTP/2.0\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0, NULL},
        {"no version", "CONNECT a:1\r\n\r\n", 0, MPS_PXS_ERROR, R400, 0, 0, NULL},
        {"header without colon", "CONNECT a:1 HTTP/1.1\r\nHost a\r\n\r\n", 0, MPS_PXS_ERROR, R400,
         0, 0, NULL},
        {"space in header name", "CONNECT a:1 HTTP/1.1\r\nHo st: a\r\n\r\n", 0, MPS_PXS_ERROR, R400,
         0, 0, NULL},
};

START_TEST(test_http_vectors)
{
	for (size_t i = 0; i < MPS_ARRAY_SIZE(http_vecs); i++) {
		const struct http_vec *v = &http_vecs[i];
		const uint8_t *in = (const uint8_t *)v->in;
		size_t n = strlen(v->in), off, rlen;
		uint8_t got[256];
		struct mps_proxy p;
		enum mps_proxy_status st = drive(&p, in, n, &off, got, &rlen);

		ck_assert_msg((int)st == v->status, "%s: status %d (%s)", v->what, st,
		              p.why ? p.why : "");
		ck_assert_msg(rlen == strlen(v->reply) && memcmp(got, v->reply, rlen) == 0,
		              "%s: reply", v->what);
		if (st == MPS_PXS_READY) {
			ck_assert_uint_eq(p.kind, MPS_PX_HTTP);
			ck_assert_uint_eq(off, n - v->pipelined);
			check_dest(&p.dest, v->type, v->port, v->addr);
		}
		for (size_t k = 0; k + v->pipelined < n; k++) {
			st = drive(&p, in, k, &off, got, &rlen);
			ck_assert_msg(st == MPS_PXS_MORE ||
			                      (st == MPS_PXS_ERROR && v->status == MPS_PXS_ERROR),
			              "%s cut at %zu: status %d", v->what, k, st);
		}
	}
}
END_TEST

/* A method other than CONNECT is refused at its first wrong byte, and
 * headers without an end are refused at 8 KiB instead of growing. */
START_TEST(test_http_early_and_bounded)
{
	static uint8_t big[MPS_PROXY_HTTP_MAX + 16];
	struct mps_proxy p;
	size_t n;

	mps_proxy_init(&p);
	ck_assert_int_eq(mps_proxy_input(&p, (const uint8_t *)"G", 1), MPS_PXS_ERROR);
	mps_proxy_init(&p);
	ck_assert_int_eq(mps_proxy_input(&p, (const uint8_t *)"CONNEC", 6), MPS_PXS_MORE);
	n = (size_t)snprintf((char *)big, sizeof(big), "CONNECT a:1 HTTP/1.1\r\nX: ");
	memset(big + n, 'y', sizeof(big) - n);
	mps_proxy_init(&p);
	ck_assert_int_eq(mps_proxy_input(&p, big, MPS_PROXY_HTTP_MAX - 1), MPS_PXS_MORE);
	ck_assert_int_eq(mps_proxy_input(&p, big, MPS_PROXY_HTTP_MAX), MPS_PXS_ERROR);
	ck_assert_str_eq(p.why, "HTTP: headers too long");
	memset(big, 'C', 1);
	memcpy(big, "CONNECT ", 8);
	memset(big + 8, 'a', sizeof(big) - 8);
	mps_proxy_init(&p);
	ck_assert_int_eq(mps_proxy_input(&p, big, sizeof(big)), MPS_PXS_ERROR);
	ck_assert_str_eq(p.why, "HTTP: request line too long");
	/* Once READY, more input is a caller bug, answered with an error. */
	mps_proxy_init(&p);
	ck_assert_int_eq(mps_proxy_input(&p, (const uint8_t *)"CONNECT a:1 HTTP/1.1\n\n", 22),
	                 MPS_PXS_READY);
	ck_assert_int_eq(mps_proxy_input(&p, (const uint8_t *)"x", 1), MPS_PXS_ERROR);
}
END_TEST

START_TEST(test_reply_encoders)
{
	static const struct {
		uint8_t result, rep;
		const char *http;
	} t[] = {
	        {MPS_GWR_OK, 0x00, "HTTP/1.1 200 Connection established\r\n\r\n"},
	        {MPS_GWR_REFUSED, 0x05, "HTTP/1.1 502 Bad Gateway\r\n"},
	        {MPS_GWR_TIMEDOUT, 0x06, "HTTP/1.1 504 Gateway Timeout\r\n"},
	        {MPS_GWR_HOSTUNREACH, 0x04, "HTTP/1.1 502 Bad Gateway\r\n"},
	        {MPS_GWR_NETUNREACH, 0x03, "HTTP/1.1 502 Bad Gateway\r\n"},
	        {MPS_GWR_POLICY, 0x02, "HTTP/1.1 403 Forbidden\r\n"},
	        {MPS_GWR_NAME, 0x04, "HTTP/1.1 502 Bad Gateway\r\n"},
	        {99, 0x01, "HTTP/1.1 502 Bad Gateway\r\n"},
	};
	for (size_t i = 0; i < MPS_ARRAY_SIZE(t); i++) {
		uint8_t r[MPS_SOCKS_REPLY_LEN], want[MPS_SOCKS_REPLY_LEN] = {5, 0, 0, 1};
		char h[128];

		want[1] = t[i].rep;
		ck_assert_uint_eq(mps_socks_rep_of_result(t[i].result), t[i].rep);
		ck_assert_uint_eq(mps_socks_reply(r, t[i].rep), 10);
		ck_assert_mem_eq(r, want, 10);
		ck_assert_uint_eq(mps_http_reply(h, sizeof(h), t[i].result), strlen(h));
		ck_assert_msg(strncmp(h, t[i].http, strlen(t[i].http)) == 0, "%s", h);
		ck_assert_str_eq(h + strlen(h) - 4, "\r\n\r\n");
	}
	{
		char h[8];
		ck_assert_uint_eq(mps_http_reply(h, sizeof(h), MPS_GWR_OK), 0);
	}
}
END_TEST

static Suite *socks_suite(void)
{
	Suite *s = suite_create("socks");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_socks_vectors);
	tcase_add_test(tc, test_http_vectors);
	tcase_add_test(tc, test_http_early_and_bounded);
	tcase_add_test(tc, test_reply_encoders);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(socks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
