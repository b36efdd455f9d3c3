/* gwconf.h - the gateway client's configuration: MPTCPSHIM_GATEWAY and
 * MPTCPSHIM_GATEWAY_FOR parsed, and the routing rule (src/gwconf.c, pure;
 * config.c's table fills it, gateway.c routes by it).  A module of its own
 * so that config and gateway do not call each other. */
#ifndef MPS_GWCONF_H
#define MPS_GWCONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/gwpolicy.h"

#define MPS_GW_MAX 4 /* gateways in MPTCPSHIM_GATEWAY */
#define MPS_GW_FOR_MAX 32

enum mps_gw_fallback { MPS_GWF_DIRECT = 0, MPS_GWF_FAIL = 1 };

struct mps_gwconf {
	int n; /* gateways; 0: no gateway */
	struct sockaddr_storage gw[MPS_GW_MAX];
	socklen_t gw_len[MPS_GW_MAX];
	char key_file[256];
	int fallback;                            /* enum mps_gw_fallback */
	int for_all;                             /* MPTCPSHIM_GATEWAY_FOR=all */
	int nfor;                                /* explicit rules (none: the default) */
	struct mps_gwrule rules[MPS_GW_FOR_MAX]; /* gwpolicy.h's rule syntax */
};

/* MPTCPSHIM_GATEWAY's list (config.c's table calls these): 0, or -EINVAL
 * with no gateway.  MPTCPSHIM_GATEWAY_FOR: default, all or rules; 0, or
 * -EINVAL with the default. */
int mps_gwconf_set_gateways(struct mps_gwconf *c, const char *v);
int mps_gwconf_set_for(struct mps_gwconf *c, const char *v);
/* "HOST:PORT" with a numeric IPv4 or [IPv6] host: 0 or -EINVAL. */
int mps_gw_parse_hostport(const char *s, size_t len, struct sockaddr_storage *ss, socklen_t *sslen);

/* Does a connect to sa go through the gateway under c?  local(i) gives
 * the local subnets (family, address, prefix length) for the default
 * rule; NULL: none known.  1 or 0. */
struct mps_gw_subnet {
	int family;
	uint8_t addr[16];
	uint8_t plen;
};
int mps_gw_wants(const struct mps_gwconf *c, const struct sockaddr *sa,
                 const struct mps_gw_subnet *nets, size_t nnets);
/* Does a connect to a host NAME with this port go through the gateway
 * under c?  Yes with the default rule or `all` (a name is never local:
 * resolving it here would leak the query), and with explicit rules when
 * a rule for any address (`*`) takes the port.  1 or 0. */
int mps_gw_wants_name(const struct mps_gwconf *c, uint16_t port);

/* sa's family (4 or 6, v4-mapped IPv6 as 4), address (16 bytes, IPv4 in
 * the first 4) and port: 0, or -1 for another family. */
int mps_gw_host_of(const struct sockaddr *sa, uint8_t *fam, uint8_t addr[16], uint16_t *port);

#endif
