/* config_peers.c - MPTCPSHIM_PEERS matched: is a destination one the shim
 * tries (mps_config_peer_allowed, declared in config.h)?  The rules are
 * parsed with the other variables in config.c; split from it to keep
 * config.c under the engine's size bar (docs/DESIGN.md section 1). */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/config.h"

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rem = bits % 8;

	if (memcmp(a, b, full))
		return 0;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));

		if ((a[full] & mask) != (b[full] & mask))
			return 0;
	}
	return 1;
}

int mps_config_peer_allowed(const struct mps_config *c, const struct sockaddr *sa)
{
	const uint8_t *addr;
	uint16_t port;
	int family = sa->sa_family;
	size_t i;

	if (c->peers_all)
		return 1;
	if (family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		addr = (const uint8_t *)&in->sin_addr;
		port = ntohs(in->sin_port);
	} else if (family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		addr = (const uint8_t *)&in6->sin6_addr;
		port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			family = AF_INET;
			addr += 12;
		}
	} else
		return 0;
	for (i = 0; i < c->npeers; i++) {
		const struct mps_peer_rule *r = &c->peers[i];

		if (r->family == family && prefix_match(addr, r->addr, r->prefix) &&
		    (r->port == 0 || r->port == port))
			return 1;
	}
	return 0;
}
