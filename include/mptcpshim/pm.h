/* pm.h - the path manager's view of local addresses.
 * mps_pm_usable is the pure policy (unit-tested); mps_pm_local_addrs applies
 * it to getifaddrs(3). */
#ifndef MPS_PM_H
#define MPS_PM_H

#include <net/if.h>
#include <stdint.h>

#include "mptcpshim/config.h"

struct mps_local_addr {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t addr[16];         /* network order */
	unsigned ifindex;
	char ifname[IF_NAMESIZE];
	int loopback;             /* a loopback address (127/8, ::1) */
	unsigned prefixlen;       /* of the interface's subnet (from its netmask) */
};

/* Policy for one interface address.  flags are the interface's IFF_*
 * flags.  Usable when: the interface is up (IFF_UP) and running
 * (IFF_RUNNING); family == want_family; the address is loopback exactly
 * when loopback_scope is set (a connection to a loopback address uses only
 * loopback addresses, and vice versa); not an IPv6 link-local (fe80::/10)
 * or IPv4-mapped address, not unspecified; ifname is in cfg's
 * MPTCPSHIM_INTERFACES list (when that list is non-empty) and not in
 * MPTCPSHIM_EXCLUDE.  1 = usable, 0 = not.
 * A list entry names a device: "eth0" matches ifname "eth0" and the IPv4
 * alias labels getifaddrs reports for it ("eth0:1").  A NULL ifname
 * matches no entry.  Loopback means the address, not IFF_LOOPBACK. */
int mps_pm_usable(const struct mps_config *cfg, const char *ifname, unsigned flags, int family,
		  const uint8_t *addr, int want_family, int loopback_scope);

/* Server side: is this (usable) address one to advertise (MPTCPSHIM_ADVERTISE:
 * "all", "none", or a list of interface names and addresses)?  1 or 0.
 * An address entry matches that exact address (same family); a name entry
 * matches ifname as in mps_pm_usable. */
int mps_pm_advertised(const struct mps_config *cfg, const char *ifname, int family,
		      const uint8_t *addr);

/* Is addr (of family) on l's subnet (l's address and prefix length)? */
int mps_pm_onlink(const struct mps_local_addr *l, int family, const uint8_t *addr);

/* The client's pairing rule: does remote address j (of nr, all of
 * family, each 16 bytes, IPv4 in the first 4) get a subflow from local
 * address l?  Yes when j is on l's subnet, or when none of the remote
 * addresses is: an interface attached to the subnet of one of the
 * server's addresses is that address's path (no crossed subflows squeezed
 * into another path's bottleneck), and an interface that reaches the
 * server only through a router tries every address. */
int mps_pm_pair(const struct mps_local_addr *l, int family, const uint8_t (*raddr)[16], int nr,
		int j);

/* Is ifname listed in MPTCPSHIM_BACKUP (same matching as the other lists)? */
int mps_pm_is_backup(const struct mps_config *cfg, const char *ifname);

/* Usable local addresses now, in getifaddrs order, at most max.  Returns
 * the count (0 on error).  out[].ifname is the device name (an alias label
 * "eth0:1" is reported as "eth0"), out[].ifindex its index. */
int mps_pm_local_addrs(const struct mps_config *cfg, int want_family, int loopback_scope,
		       struct mps_local_addr *out, int max);

#endif
