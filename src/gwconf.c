/* gwconf.c - the gateway client's configuration (include/mptcpshim/gwconf.h):
 * MPTCPSHIM_GATEWAY's list, MPTCPSHIM_GATEWAY_FOR's rules and the routing
 * decision they make.  Pure: no state, no system call. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/gwconf.h"

int mps_gw_parse_hostport(const char *s, size_t len, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon;
	size_t hl;
	long port;
	char pbuf[8];

	memset(ss, 0, sizeof(*ss));
	colon = NULL;
	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (!colon)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof(host) || len - hl - 1 == 0 || len - hl - 1 >= sizeof(pbuf))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memcpy(pbuf, colon + 1, len - hl - 1);
	pbuf[len - hl - 1] = '\0';
	if (pbuf[0] < '0' || pbuf[0] > '9')
		return -EINVAL;
	errno = 0;
	port = strtol(pbuf, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -EINVAL;
	if (host[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (hl < 3 || host[hl - 1] != ']')
			return -EINVAL;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*in6);
		return 0;
	}
	{
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*in);
	}
	return 0;
}

int mps_gwconf_set_gateways(struct mps_gwconf *c, const char *v)
{
	const char *p = v;
	int n = 0;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (n == MPS_GW_MAX || mps_gw_parse_hostport(p, len, &c->gw[n], &c->gw_len[n])) {
			c->n = 0;
			return -EINVAL;
		}
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	c->n = n;
	return 0;
}

int mps_gwconf_set_for(struct mps_gwconf *c, const char *v)
{
	const char *p = v;
	char rule[128], err[160];
	int n = 0;

	c->for_all = 0;
	c->nfor = 0;
	if (!strcmp(v, "default"))
		return 0;
	if (!strcmp(v, "all")) {
		c->for_all = 1;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ",");

		if (n == MPS_GW_FOR_MAX || len == 0 || len >= sizeof(rule))
			return -EINVAL;
		memcpy(rule, p, len);
		rule[len] = '\0';
		if (mps_gwpolicy_parse_rule(rule, &c->rules[n], err, sizeof(err)))
			return -EINVAL;
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	c->nfor = n;
	return 0;
}

/* family 4/6, full address, port of sa; 0 or -1 for another family. */
int mps_gw_host_of(const struct sockaddr *sa, uint8_t *fam, uint8_t addr[16], uint16_t *port)
{
	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		*fam = 4;
		memcpy(addr, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		*port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			*fam = 4;
			memcpy(addr, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			*fam = 6;
			memcpy(addr, &in6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned full = plen / 8u, rem = plen % 8u;

	if (memcmp(a, b, full) != 0)
		return 0;
	return rem == 0 || ((a[full] ^ b[full]) & (uint8_t)(0xff00 >> rem)) == 0;
}

int mps_gw_wants(const struct mps_gwconf *c, const struct sockaddr *sa,
                 const struct mps_gw_subnet *nets, size_t nnets)
{
	uint8_t fam, a[16];
	uint16_t port;

	if (c->n == 0 || mps_gw_host_of(sa, &fam, a, &port))
		return 0;
	if (c->for_all)
		return 1;
	if (c->nfor) {
		for (int i = 0; i < c->nfor; i++) {
			const struct mps_gwrule *r = &c->rules[i];

			if (port < r->port_lo || port > r->port_hi)
				continue;
			if (r->family == 0 || (r->family == fam && prefix_eq(r->addr, a, r->plen)))
				return 1;
		}
		return 0;
	}
	/* Default: not loopback, link-local, unspecified, or a local subnet. */
	if (fam == 4) {
		static const uint8_t ll[2] = {169, 254};

		if (a[0] == 127 || a[0] == 0 || prefix_eq(a, ll, 16))
			return 0;
	} else {
		static const uint8_t lo[16] = {[15] = 1}, any[16] = {0}, ll[2] = {0xfe, 0x80};

		if (!memcmp(a, lo, 16) || !memcmp(a, any, 16) || prefix_eq(a, ll, 10))
			return 0;
	}
	for (size_t i = 0; i < nnets; i++)
		if (nets[i].family == fam && prefix_eq(nets[i].addr, a, nets[i].plen))
			return 0;
	return 1;
}

int mps_gw_wants_name(const struct mps_gwconf *c, uint16_t port)
{
	if (c->n == 0)
		return 0;
	if (c->for_all || !c->nfor)
		return 1;
	for (int i = 0; i < c->nfor; i++) {
		const struct mps_gwrule *r = &c->rules[i];

		if (r->family == 0 && port >= r->port_lo && port <= r->port_hi)
			return 1;
	}
	return 0;
}
