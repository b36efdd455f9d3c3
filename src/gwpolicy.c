/* gwpolicy.c - the gateway's destination policy (see gwpolicy.h).  Pure.
 * Not yet used (issue 14). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/gwpolicy.h"
#include "mptcpshim/util.h"

void mps_gwpolicy_init(struct mps_gwpolicy *p)
{
	memset(p, 0, sizeof(*p));
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An IPv4-mapped IPv6 rule or address is the IPv4 one. */
static void normalise(struct mps_gwrule *r)
{
	if (r->family == 6 && r->plen >= 96 && memcmp(r->addr, v4mapped, 12) == 0) {
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->family = 4;
		r->plen = (uint8_t)(r->plen - 96);
	}
}

static int perr(char *err, size_t errlen, const char *rule, size_t col, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "rule '%s': column %zu: %s", rule, col, why);
	return -EINVAL;
}

/* Decimal number of at most `maxd` digits in s[*i..): -1 if none. */
static long num(const char *s, size_t *i, int maxd)
{
	long v = 0;
	int d = 0;

	while (s[*i] >= '0' && s[*i] <= '9') {
		if (++d > maxd)
			return -1;
		v = v * 10 + (s[*i] - '0');
		(*i)++;
	}
	return d ? v : -1;
}

/* ADDR[/LEN] in s[b..e): into r.  0 or the error. */
static int parse_prefix(const char *rule, size_t b, size_t e, int v6, struct mps_gwrule *r,
                        char *err, size_t errlen)
{
	char tmp[64];
	size_t slash = e, alen;
	unsigned maxlen = v6 ? 128 : 32;

	for (size_t i = b; i < e; i++)
		if (rule[i] == '/') {
			slash = i;
			break;
		}
	alen = slash - b;
	if (alen == 0 || alen >= sizeof(tmp))
		return perr(err, errlen, rule, b + 1, "expected an address");
	memcpy(tmp, rule + b, alen);
	tmp[alen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, r->addr) != 1)
		return perr(err, errlen, rule, b + 1,
		            v6 ? "not an IPv6 address" : "not an IPv4 address");
	r->family = v6 ? 6 : 4;
	r->plen = (uint8_t)maxlen;
	if (slash < e) {
		size_t i = slash + 1;
		long len = num(rule, &i, 3);

		if (len < 0 || i != e || (unsigned long)len > maxlen)
			return perr(err, errlen, rule, slash + 2,
			            v6 ? "prefix length must be 0..128" :
			                 "prefix length must be 0..32");
		r->plen = (uint8_t)len;
	}
	/* Host bits set is most likely a typo (10.1.2.3/8): refused. */
	for (unsigned bit = r->plen; bit < maxlen; bit++)
		if (r->addr[bit / 8] & (0x80 >> (bit % 8)))
			return perr(err, errlen, rule, slash + 2,
			            "address has bits set beyond the prefix length");
	return 0;
}

int mps_gwpolicy_parse_rule(const char *s, struct mps_gwrule *r, char *err, size_t errlen)
{
	size_t n = strlen(s), i = 0, colons = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->port_lo = 1;
	r->port_hi = 65535;
	if (n == 0)
		return perr(err, errlen, s, 1, "empty rule");
	for (size_t k = 0; k < n; k++)
		colons += s[k] == ':';
	if (s[0] == '*') {
		i = 1;
	} else if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return perr(err, errlen, s, n + 1, "missing ']'");
		rc = parse_prefix(s, 1, (size_t)(close - s), 1, r, err, errlen);
		if (rc)
			return rc;
		i = (size_t)(close - s) + 1;
	} else if (colons > 1) {
		/* Bare IPv6: the whole rule is the prefix, no port part. */
		rc = parse_prefix(s, 0, n, 1, r, err, errlen);
		if (rc)
			return rc;
		i = n;
	} else {
		const char *c = strchr(s, ':');
		size_t e = c ? (size_t)(c - s) : n;

		rc = parse_prefix(s, 0, e, 0, r, err, errlen);
		if (rc)
			return rc;
		i = e;
	}
	if (s[i] == ':') {
		size_t p0 = ++i;
		long lo = num(s, &i, 5), hi;

		if (lo < 1 || lo > 65535)
			return perr(err, errlen, s, p0 + 1, "port must be 1..65535");
		hi = lo;
		if (s[i] == '-') {
			size_t p1 = ++i;

			hi = num(s, &i, 5);
			if (hi < 1 || hi > 65535)
				return perr(err, errlen, s, p1 + 1, "port must be 1..65535");
			if (hi < lo)
				return perr(err, errlen, s, p1 + 1,
				            "port range ends before it starts");
		}
		r->port_lo = (uint16_t)lo;
		r->port_hi = (uint16_t)hi;
	}
	if (s[i] != '\0')
		return perr(err, errlen, s, i + 1, "unexpected character");
	normalise(r);
	return 0;
}

int mps_gwpolicy_add(struct mps_gwpolicy *p, int allow, const char *rule, char *err, size_t errlen)
{
	struct mps_gwrule r;
	int rc = mps_gwpolicy_parse_rule(rule, &r, err, errlen);

	if (rc)
		return rc;
	if ((allow ? p->nallow : p->ndeny) >= MPS_GWPOLICY_RULES_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "rule '%s': more than %u rules", rule,
			         MPS_GWPOLICY_RULES_MAX);
		return -ENOSPC;
	}
	if (allow)
		p->allow[p->nallow++] = r;
	else
		p->deny[p->ndeny++] = r;
	return 0;
}

static int host_rule(struct mps_gwrule *r, int family, const void *addr)
{
	memset(r, 0, sizeof(*r));
	if (family == AF_INET) {
		r->family = 4;
		r->plen = 32;
		memcpy(r->addr, addr, 4);
	} else if (family == AF_INET6) {
		r->family = 6;
		r->plen = 128;
		memcpy(r->addr, addr, 16);
	} else {
		return -EINVAL;
	}
	r->port_lo = 1;
	r->port_hi = 65535;
	normalise(r);
	return 0;
}

int mps_gwpolicy_add_own(struct mps_gwpolicy *p, int family, const void *addr)
{
	struct mps_gwrule r;

	if (host_rule(&r, family, addr))
		return -EINVAL;
	if (p->nown >= MPS_GWPOLICY_OWN_MAX)
		return -ENOSPC;
	p->own[p->nown++] = r;
	return 0;
}

/* d is a host rule (family, full-length address, port in port_lo). */
static int matches(const struct mps_gwrule *r, const struct mps_gwrule *d)
{
	unsigned full, rem;

	if (d->port_lo < r->port_lo || d->port_lo > r->port_hi)
		return 0;
	if (r->family == 0)
		return 1;
	if (r->family != d->family)
		return 0;
	full = r->plen / 8u;
	rem = r->plen % 8u;
	if (memcmp(r->addr, d->addr, full) != 0)
		return 0;
	return rem == 0 || ((r->addr[full] ^ d->addr[full]) & (uint8_t)(0xff00 >> rem)) == 0;
}

static int any_match(const struct mps_gwrule *v, size_t n, const struct mps_gwrule *d)
{
	for (size_t i = 0; i < n; i++)
		if (matches(&v[i], d))
			return 1;
	return 0;
}

static const struct mps_gwrule default_deny[] = {
        {4, 8, 1, 65535, {0}},           {4, 8, 1, 65535, {10}},
        {4, 10, 1, 65535, {100, 64}},    {4, 8, 1, 65535, {127}},
        {4, 16, 1, 65535, {169, 254}},   {4, 12, 1, 65535, {172, 16}},
        {4, 16, 1, 65535, {192, 168}},   {4, 4, 1, 65535, {224}},
        {4, 4, 1, 65535, {240}},         {6, 128, 1, 65535, {0}},
        {6, 128, 1, 65535, {[15] = 1}},  {6, 10, 1, 65535, {0xfe, 0x80}},
        {6, 10, 1, 65535, {0xfe, 0xc0}}, {6, 7, 1, 65535, {0xfc}},
        {6, 8, 1, 65535, {0xff}},
};

enum mps_gwp_verdict mps_gwpolicy_check(const struct mps_gwpolicy *p, int family, const void *addr,
                                        uint16_t port, const char **why)
{
	struct mps_gwrule d;
	enum mps_gwp_verdict v;
	const char *w;

	if (host_rule(&d, family, addr) || port == 0) {
		v = MPS_GWP_DENY_EXPLICIT;
		w = "not an IPv4 or IPv6 destination with a port";
	} else {
		d.port_lo = d.port_hi = port;
		if (any_match(p->deny, p->ndeny, &d)) {
			v = MPS_GWP_DENY_EXPLICIT;
			w = "a --deny rule";
		} else if (any_match(p->allow, p->nallow, &d)) {
			v = MPS_GWP_ALLOW_EXPLICIT;
			w = "an --allow rule";
		} else if (any_match(p->own, p->nown, &d)) {
			v = MPS_GWP_DENY_OWN;
			w = "the gateway's own address";
		} else if (any_match(default_deny, MPS_ARRAY_SIZE(default_deny), &d)) {
			v = MPS_GWP_DENY_DEFAULT;
			w = "a loopback, link-local, private, multicast or reserved address";
		} else {
			v = MPS_GWP_ALLOW;
			w = "no rule refuses it";
		}
	}
	if (why)
		*why = w;
	return v;
}
