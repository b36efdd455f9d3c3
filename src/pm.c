/* pm.c - the path manager's view of local addresses.
 *
 * mps_pm_usable and mps_pm_advertised are pure policy (unit-tested with
 * made-up interfaces); mps_pm_local_addrs applies the policy to
 * getifaddrs(3).  Rules: include/mptcpshim/pm.h. */
#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/pm.h"

/* "eth0" names the interface "eth0" and its IPv4 alias labels ("eth0:1",
 * as getifaddrs reports them): the lists hold device names. */
static int ifname_is(const char *entry, const char *ifname)
{
	size_t n = strlen(entry);

	return !strncmp(entry, ifname, n) && (ifname[n] == '\0' || ifname[n] == ':');
}

static int addr_is_loopback(int family, const uint8_t *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return !memcmp(a, lo6, 16);
}

/* Addresses that never make a subflow of their own: unspecified (no
 * path), IPv6 link-local (needs a scope the peer cannot know) and
 * IPv4-mapped (the same path as the IPv4 address). */
static int addr_is_excluded(int family, const uint8_t *a)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (family == AF_INET)
		return !memcmp(a, zero, 4);
	if (!memcmp(a, zero, 16))
		return 1;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return 1;
	return !memcmp(a, mapped, 12);
}

int mps_pm_usable(const struct mps_config *cfg, const char *ifname, unsigned flags, int family,
		  const uint8_t *addr, int want_family, int loopback_scope)
{
	size_t i;

	if (!ifname)
		ifname = "";
	if (!(flags & IFF_UP) || !(flags & IFF_RUNNING))
		return 0;
	if (family != want_family || (family != AF_INET && family != AF_INET6) || !addr)
		return 0;
	if (addr_is_loopback(family, addr) != !!loopback_scope)
		return 0;
	if (addr_is_excluded(family, addr))
		return 0;
	if (cfg->ninterfaces) {
		for (i = 0; i < cfg->ninterfaces; i++)
			if (ifname_is(cfg->interfaces[i], ifname))
				break;
		if (i == cfg->ninterfaces)
			return 0;
	}
	for (i = 0; i < cfg->nexclude; i++)
		if (ifname_is(cfg->exclude[i], ifname))
			return 0;
	return 1;
}

int mps_pm_advertised(const struct mps_config *cfg, const char *ifname, int family,
		      const uint8_t *addr)
{
	size_t i;

	if (cfg->advertise_all)
		return 1;
	if (!ifname)
		ifname = "";
	for (i = 0; i < cfg->nadvertise; i++) {
		const char *e = cfg->advertise[i];
		uint8_t a[16];

		/* An entry is an address when it parses as one (config.c
		 * refuses ':' in interface names, so no entry is both). */
		if (inet_pton(AF_INET, e, a) == 1) {
			if (family == AF_INET && addr && !memcmp(a, addr, 4))
				return 1;
		} else if (inet_pton(AF_INET6, e, a) == 1) {
			if (family == AF_INET6 && addr && !memcmp(a, addr, 16))
				return 1;
		} else if (ifname_is(e, ifname)) {
			return 1;
		}
	}
	return 0;
}

int mps_pm_onlink(const struct mps_local_addr *l, int family, const uint8_t *addr)
{
	unsigned bits = l->prefixlen, alen = family == AF_INET ? 4 : 16, i;

	if (family != l->family || bits > alen * 8)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (l->addr[i] != addr[i])
			return 0;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));

		if ((l->addr[i] ^ addr[i]) & mask)
			return 0;
	}
	return 1;
}

int mps_pm_pair(const struct mps_local_addr *l, int family, const uint8_t (*raddr)[16], int nr,
		int j)
{
	int k;

	if (mps_pm_onlink(l, family, raddr[j]))
		return 1;
	for (k = 0; k < nr; k++)
		if (mps_pm_onlink(l, family, raddr[k]))
			return 0;
	return 1;
}

static unsigned mask_bits(const struct sockaddr *m, int family)
{
	const uint8_t *b;
	unsigned n = 0, len, i;

	if (!m || m->sa_family != family)
		return family == AF_INET ? 32 : 128;
	if (family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)m)->sin_addr;
		len = 4;
	} else {
		b = (const uint8_t *)&((const struct sockaddr_in6 *)m)->sin6_addr;
		len = 16;
	}
	for (i = 0; i < len; i++)
		n += (unsigned)__builtin_popcount(b[i]);
	return n;
}

static int local_addrs(const struct mps_config *cfg, int want_family, int loopback_scope,
                       struct mps_local_addr *out, int max);

/* getifaddrs and if_nametoindex open sockets inside libc: the app's
 * socket() must not meet them at a low number (mps_alloc_shim). */
int mps_pm_local_addrs(const struct mps_config *cfg, int want_family, int loopback_scope,
		       struct mps_local_addr *out, int max)
{
	int n;

	mps_alloc_shim(1);
	n = local_addrs(cfg, want_family, loopback_scope, out, max);
	mps_alloc_shim(0);
	return n;
}

static int local_addrs(const struct mps_config *cfg, int want_family, int loopback_scope,
                       struct mps_local_addr *out, int max)
{
	struct ifaddrs *ifa, *it;
	int n = 0;

	if (max <= 0 || getifaddrs(&ifa) != 0)
		return 0;
	for (it = ifa; it && n < max; it = it->ifa_next) {
		struct mps_local_addr *la = &out[n];
		const uint8_t *a;
		size_t alen;
		int family, i;
		char *colon;

		if (!it->ifa_addr || !it->ifa_name)
			continue;
		family = it->ifa_addr->sa_family;
		if (family == AF_INET) {
			a = (const uint8_t *)&((const struct sockaddr_in *)it->ifa_addr)->sin_addr;
			alen = 4;
		} else if (family == AF_INET6) {
			a = (const uint8_t *)&((const struct sockaddr_in6 *)it->ifa_addr)->sin6_addr;
			alen = 16;
		} else {
			continue;
		}
		if (!mps_pm_usable(cfg, it->ifa_name, it->ifa_flags, family, a, want_family,
				   loopback_scope))
			continue;
		memset(la, 0, sizeof(*la));
		la->family = family;
		memcpy(la->addr, a, alen);
		la->loopback = addr_is_loopback(family, a);
		la->prefixlen = mask_bits(it->ifa_netmask, family);
		/* The device name, without an alias label: that is what
		 * SO_BINDTODEVICE and the index refer to. */
		strncpy(la->ifname, it->ifa_name, sizeof(la->ifname) - 1);
		colon = strchr(la->ifname, ':');
		if (colon)
			*colon = '\0';
		/* One if_nametoindex (an ioctl) per device, not per address. */
		for (i = 0; i < n; i++)
			if (!strcmp(out[i].ifname, la->ifname))
				break;
		la->ifindex = i < n ? out[i].ifindex : if_nametoindex(la->ifname);
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

int mps_pm_is_backup(const struct mps_config *cfg, const char *ifname)
{
	size_t i;

	for (i = 0; ifname && i < cfg->nbackup; i++)
		if (ifname_is(cfg->backup[i], ifname))
			return 1;
	return 0;
}
