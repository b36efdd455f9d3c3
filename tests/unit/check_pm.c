/* check_pm.c - the path manager's address policy (include/mptcpshim/pm.h),
 * with made-up interfaces, and lightly mps_pm_local_addrs on this host. */
#include <arpa/inet.h>
#include <check.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/config.h"
#include "mptcpshim/pm.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define UPRUN (IFF_UP | IFF_RUNNING)

/* A config as mps_config_parse leaves it with the given variables set. */
static struct {
	const char *name, *value;
} env[8];
static size_t nenv;
static int nwarn;

static const char *fake_getenv(const char *name)
{
	for (size_t i = 0; i < nenv; i++)
		if (!strcmp(env[i].name, name))
			return env[i].value;
	return NULL;
}

static void count_warn(const char *msg)
{
	(void)msg;
	nwarn++;
}

static void cfg_with(struct mps_config *c, const char *n1, const char *v1, const char *n2,
		     const char *v2)
{
	nenv = 0;
	nwarn = 0;
	if (n1) {
		env[nenv].name = n1;
		env[nenv++].value = v1;
	}
	if (n2) {
		env[nenv].name = n2;
		env[nenv++].value = v2;
	}
	mps_config_parse(c, fake_getenv, count_warn);
	ck_assert_int_eq(nwarn, 0);
}

static uint8_t a4[16], a6[16];

static const uint8_t *ip4(const char *s)
{
	memset(a4, 0, sizeof(a4));
	ck_assert_int_eq(inet_pton(AF_INET, s, a4), 1);
	return a4;
}

static const uint8_t *ip6(const char *s)
{
	memset(a6, 0, sizeof(a6));
	ck_assert_int_eq(inet_pton(AF_INET6, s, a6), 1);
	return a6;
}

static int usable4(const struct mps_config *c, const char *ifn, unsigned flags, const char *a,
		   int lo)
{
	return mps_pm_usable(c, ifn, flags, AF_INET, ip4(a), AF_INET, lo);
}

static int usable6(const struct mps_config *c, const char *ifn, unsigned flags, const char *a,
		   int lo)
{
	return mps_pm_usable(c, ifn, flags, AF_INET6, ip6(a), AF_INET6, lo);
}

/* ---- mps_pm_usable --------------------------------------------------- */

START_TEST(test_pm_flags)
{
	struct mps_config c;
	cfg_with(&c, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(usable4(&c, "eth0", UPRUN, "192.0.2.2", 0), 1);
	ck_assert_int_eq(usable4(&c, "eth0", UPRUN | IFF_BROADCAST | IFF_MULTICAST, "192.0.2.2",
				 0),
			 1);
	ck_assert_int_eq(usable4(&c, "eth0", IFF_UP, "192.0.2.2", 0), 0);
	ck_assert_int_eq(usable4(&c, "eth0", IFF_RUNNING, "192.0.2.2", 0), 0);
	ck_assert_int_eq(usable4(&c, "eth0", 0, "192.0.2.2", 0), 0);
	ck_assert_int_eq(usable6(&c, "eth0", IFF_UP, "2001:db8::2", 0), 0);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "2001:db8::2", 0), 1);
	ck_assert_int_eq(usable4(&c, "lo", IFF_UP | IFF_LOOPBACK, "127.0.0.1", 1), 0);
	ck_assert_int_eq(usable4(&c, "lo", UPRUN | IFF_LOOPBACK, "127.0.0.1", 1), 1);
}
END_TEST

START_TEST(test_pm_family)
{
	struct mps_config c;
	cfg_with(&c, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(mps_pm_usable(&c, "eth0", UPRUN, AF_INET, ip4("192.0.2.2"), AF_INET6, 0),
			 0);
	ck_assert_int_eq(
		mps_pm_usable(&c, "eth0", UPRUN, AF_INET6, ip6("2001:db8::2"), AF_INET, 0), 0);
	ck_assert_int_eq(mps_pm_usable(&c, "eth0", UPRUN, AF_UNIX, ip4("192.0.2.2"), AF_UNIX, 0),
			 0);
	ck_assert_int_eq(
		mps_pm_usable(&c, "eth0", UPRUN, AF_PACKET, ip4("192.0.2.2"), AF_PACKET, 0), 0);
}
END_TEST

START_TEST(test_pm_loopback_scope)
{
	struct mps_config c;
	cfg_with(&c, NULL, NULL, NULL, NULL);
	/* loopback addresses only in loopback scope */
	static const char *lo4[] = { "127.0.0.1", "127.0.0.2", "127.255.255.254", "127.1.2.3" };
	for (size_t i = 0; i < NELEM(lo4); i++) {
		ck_assert_int_eq(usable4(&c, "lo", UPRUN | IFF_LOOPBACK, lo4[i], 1), 1);
		ck_assert_int_eq(usable4(&c, "lo", UPRUN | IFF_LOOPBACK, lo4[i], 0), 0);
	}
	ck_assert_int_eq(usable6(&c, "lo", UPRUN | IFF_LOOPBACK, "::1", 1), 1);
	ck_assert_int_eq(usable6(&c, "lo", UPRUN | IFF_LOOPBACK, "::1", 0), 0);
	/* any non-zero loopback_scope counts as set */
	ck_assert_int_eq(usable4(&c, "lo", UPRUN, "127.0.0.1", 7), 1);
	/* other addresses only outside it */
	static const char *nonlo4[] = { "192.0.2.2", "10.0.0.1", "126.255.255.255", "128.0.0.1",
					"1.127.0.0" };
	for (size_t i = 0; i < NELEM(nonlo4); i++) {
		ck_assert_int_eq(usable4(&c, "eth0", UPRUN, nonlo4[i], 0), 1);
		ck_assert_int_eq(usable4(&c, "eth0", UPRUN, nonlo4[i], 1), 0);
	}
	static const char *nonlo6[] = { "2001:db8::1", "fd00::2", "::2", "1::1" };
	for (size_t i = 0; i < NELEM(nonlo6); i++) {
		ck_assert_int_eq(usable6(&c, "eth0", UPRUN, nonlo6[i], 0), 1);
		ck_assert_int_eq(usable6(&c, "eth0", UPRUN, nonlo6[i], 1), 0);
	}
	/* it is the address that counts, not the interface's flag */
	ck_assert_int_eq(usable4(&c, "lo", UPRUN | IFF_LOOPBACK, "10.9.9.9", 0), 1);
	ck_assert_int_eq(usable4(&c, "dummy0", UPRUN, "127.0.0.5", 1), 1);
}
END_TEST

START_TEST(test_pm_excluded_addrs)
{
	struct mps_config c;
	cfg_with(&c, NULL, NULL, NULL, NULL);
	/* unspecified */
	ck_assert_int_eq(usable4(&c, "eth0", UPRUN, "0.0.0.0", 0), 0);
	ck_assert_int_eq(usable4(&c, "eth0", UPRUN, "0.0.0.0", 1), 0);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "::", 0), 0);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "::", 1), 0);
	/* link-local fe80::/10, all of it */
	static const char *ll[] = { "fe80::1", "fe80::fc:ff:fe00:1", "febf:ffff::1", "fe90::1",
				    "fea0::1" };
	for (size_t i = 0; i < NELEM(ll); i++) {
		ck_assert_msg(usable6(&c, "eth0", UPRUN, ll[i], 0) == 0, "%s usable", ll[i]);
		ck_assert_int_eq(usable6(&c, "eth0", UPRUN, ll[i], 1), 0);
	}
	/* just outside fe80::/10 */
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "fec0::1", 0), 1);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "fe7f::1", 0), 1);
	/* IPv4-mapped */
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "::ffff:192.0.2.2", 0), 0);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "::ffff:127.0.0.1", 1), 0);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "::ffff:127.0.0.1", 0), 0);
	/* not mapped: ::fffe:..., 1::ffff:... */
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "::fffe:c000:202", 0), 1);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "1::ffff:c000:202", 0), 1);
}
END_TEST

START_TEST(test_pm_iflists)
{
	struct mps_config c;
	/* no lists: every interface */
	cfg_with(&c, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(usable4(&c, "wlan0", UPRUN, "192.0.2.9", 0), 1);
	ck_assert_int_eq(usable4(&c, NULL, UPRUN, "192.0.2.9", 0), 1);

	/* allow list */
	cfg_with(&c, "MPTCPSHIM_INTERFACES", "eth0,wlan0", NULL, NULL);
	ck_assert_int_eq(usable4(&c, "eth0", UPRUN, "192.0.2.2", 0), 1);
	ck_assert_int_eq(usable4(&c, "wlan0", UPRUN, "192.0.2.3", 0), 1);
	ck_assert_int_eq(usable4(&c, "eth1", UPRUN, "192.0.2.4", 0), 0);
	ck_assert_int_eq(usable4(&c, "eth", UPRUN, "192.0.2.4", 0), 0);
	ck_assert_int_eq(usable4(&c, "eth00", UPRUN, "192.0.2.4", 0), 0);
	ck_assert_int_eq(usable4(&c, "", UPRUN, "192.0.2.4", 0), 0);
	ck_assert_int_eq(usable4(&c, NULL, UPRUN, "192.0.2.4", 0), 0);
	/* alias labels belong to their device */
	ck_assert_int_eq(usable4(&c, "eth0:1", UPRUN, "192.0.2.5", 0), 1);
	ck_assert_int_eq(usable4(&c, "eth1:0", UPRUN, "192.0.2.5", 0), 0);
	/* the other rules still apply to allowed interfaces */
	ck_assert_int_eq(usable4(&c, "eth0", IFF_UP, "192.0.2.2", 0), 0);
	ck_assert_int_eq(usable6(&c, "eth0", UPRUN, "fe80::1", 0), 0);
	/* lo is not in the list: no loopback subflows either */
	ck_assert_int_eq(usable4(&c, "lo", UPRUN, "127.0.0.1", 1), 0);

	/* deny list */
	cfg_with(&c, "MPTCPSHIM_EXCLUDE", "wlan0 , usb0", NULL, NULL);
	ck_assert_int_eq(usable4(&c, "eth0", UPRUN, "192.0.2.2", 0), 1);
	ck_assert_int_eq(usable4(&c, "wlan0", UPRUN, "192.0.2.3", 0), 0);
	ck_assert_int_eq(usable6(&c, "usb0", UPRUN, "2001:db8::3", 0), 0);
	ck_assert_int_eq(usable4(&c, "usb0:2", UPRUN, "192.0.2.7", 0), 0);
	ck_assert_int_eq(usable4(&c, "usb01", UPRUN, "192.0.2.7", 0), 1);
	ck_assert_int_eq(usable4(&c, NULL, UPRUN, "192.0.2.7", 0), 1);

	/* both: allowed and not excluded */
	cfg_with(&c, "MPTCPSHIM_INTERFACES", "eth0,eth1", "MPTCPSHIM_EXCLUDE", "eth1");
	ck_assert_int_eq(usable4(&c, "eth0", UPRUN, "192.0.2.2", 0), 1);
	ck_assert_int_eq(usable4(&c, "eth1", UPRUN, "192.0.2.3", 0), 0);
	ck_assert_int_eq(usable4(&c, "eth2", UPRUN, "192.0.2.4", 0), 0);
	/* excluding the loopback device */
	cfg_with(&c, "MPTCPSHIM_EXCLUDE", "lo", NULL, NULL);
	ck_assert_int_eq(usable4(&c, "lo", UPRUN, "127.0.0.1", 1), 0);
	ck_assert_int_eq(usable6(&c, "lo", UPRUN, "::1", 1), 0);
}
END_TEST

/* Every rule at once, exhaustively over a small grid. */
START_TEST(test_pm_grid)
{
	static const unsigned flagsv[] = { 0, IFF_UP, IFF_RUNNING, UPRUN, UPRUN | IFF_LOOPBACK };
	static const struct {
		int family;
		const char *a;
		int lo, bad;
	} addrs[] = {
		{ AF_INET, "192.0.2.2", 0, 0 },   { AF_INET, "127.0.0.1", 1, 0 },
		{ AF_INET, "0.0.0.0", 0, 1 },     { AF_INET6, "2001:db8::1", 0, 0 },
		{ AF_INET6, "::1", 1, 0 },        { AF_INET6, "fe80::1", 0, 1 },
		{ AF_INET6, "::ffff:10.0.0.1", 0, 1 }, { AF_INET6, "::", 0, 1 },
	};
	static const char *ifs[] = { "eth0", "eth1", "lo" };
	struct mps_config c;
	cfg_with(&c, "MPTCPSHIM_INTERFACES", "eth0,lo", "MPTCPSHIM_EXCLUDE", "lo");
	for (size_t f = 0; f < NELEM(flagsv); f++)
		for (size_t a = 0; a < NELEM(addrs); a++)
			for (int wf = 0; wf < 2; wf++)
				for (int scope = 0; scope < 2; scope++)
					for (size_t i = 0; i < NELEM(ifs); i++) {
						uint8_t b[16] = { 0 };
						int want_family = wf ? AF_INET6 : AF_INET;
						ck_assert_int_eq(inet_pton(addrs[a].family,
									   addrs[a].a, b),
								 1);
						int want = (flagsv[f] & UPRUN) == UPRUN &&
							   addrs[a].family == want_family &&
							   addrs[a].lo == scope && !addrs[a].bad &&
							   !strcmp(ifs[i], "eth0");
						int got = mps_pm_usable(&c, ifs[i], flagsv[f],
									addrs[a].family, b,
									want_family, scope);
						ck_assert_msg(got == want,
							      "%s %s flags %#x want_family %d "
							      "scope %d: %d, want %d",
							      ifs[i], addrs[a].a, flagsv[f],
							      want_family, scope, got, want);
					}
}
END_TEST

/* ---- mps_pm_advertised ----------------------------------------------- */

START_TEST(test_pm_advertised)
{
	struct mps_config c;
	/* default: all */
	cfg_with(&c, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET, ip4("192.0.2.2")), 1);
	ck_assert_int_eq(mps_pm_advertised(&c, "wlan0", AF_INET6, ip6("2001:db8::2")), 1);
	cfg_with(&c, "MPTCPSHIM_ADVERTISE", "all", NULL, NULL);
	ck_assert_int_eq(mps_pm_advertised(&c, NULL, AF_INET, ip4("192.0.2.2")), 1);

	cfg_with(&c, "MPTCPSHIM_ADVERTISE", "none", NULL, NULL);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET, ip4("192.0.2.2")), 0);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET6, ip6("2001:db8::2")), 0);

	/* names and addresses */
	cfg_with(&c, "MPTCPSHIM_ADVERTISE", "eth1,198.51.100.7,2001:db8::7", NULL, NULL);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth1", AF_INET, ip4("192.0.2.2")), 1);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth1", AF_INET6, ip6("2001:db8::9")), 1);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth1:3", AF_INET, ip4("192.0.2.3")), 1);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth10", AF_INET, ip4("192.0.2.3")), 0);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET, ip4("192.0.2.2")), 0);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET, ip4("198.51.100.7")), 1);
	ck_assert_int_eq(mps_pm_advertised(&c, NULL, AF_INET, ip4("198.51.100.7")), 1);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET, ip4("198.51.100.8")), 0);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET6, ip6("2001:db8::7")), 1);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET6, ip6("2001:db8::8")), 0);
	/* families do not mix: 198.51.100.7 as the first IPv6 bytes, and the
	 * IPv4-mapped form, are other addresses */
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET6, ip6("c633:6407::")), 0);
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET6, ip6("::ffff:198.51.100.7")), 0);
	/* 2001:db8::7's first four bytes as IPv4 */
	ck_assert_int_eq(mps_pm_advertised(&c, "eth0", AF_INET, ip4("32.1.13.184")), 0);
}
END_TEST

/* ---- mps_pm_onlink / mps_pm_pair: which pairs get subflows ----------- */

static struct mps_local_addr local4(const char *a, unsigned plen)
{
	struct mps_local_addr l;

	memset(&l, 0, sizeof(l));
	l.family = AF_INET;
	memcpy(l.addr, ip4(a), 4);
	l.prefixlen = plen;
	return l;
}

START_TEST(test_pm_onlink)
{
	struct mps_local_addr l = local4("198.18.1.2", 24), l6;

	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("198.18.1.200")), 1);
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("198.18.2.1")), 0);
	l.prefixlen = 23; /* 198.18.0.0/23 holds 198.18.1.x but not 198.18.2.x */
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("198.18.0.9")), 1);
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("198.18.2.9")), 0);
	l.prefixlen = 32;
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("198.18.1.2")), 1);
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("198.18.1.3")), 0);
	l.prefixlen = 0; /* everything is "on link" with a /0 */
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("203.0.113.1")), 1);
	l.prefixlen = 33; /* nonsense: nothing */
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET, ip4("198.18.1.2")), 0);
	/* another family never */
	l.prefixlen = 24;
	ck_assert_int_eq(mps_pm_onlink(&l, AF_INET6, ip6("2001:db8::1")), 0);

	memset(&l6, 0, sizeof(l6));
	l6.family = AF_INET6;
	memcpy(l6.addr, ip6("2001:db8:1::2"), 16);
	l6.prefixlen = 64;
	ck_assert_int_eq(mps_pm_onlink(&l6, AF_INET6, ip6("2001:db8:1::99")), 1);
	ck_assert_int_eq(mps_pm_onlink(&l6, AF_INET6, ip6("2001:db8:2::2")), 0);
}
END_TEST

START_TEST(test_pm_pair)
{
	uint8_t r[3][16];
	struct mps_local_addr a = local4("198.18.1.2", 24), b = local4("198.18.2.2", 24),
			      routed = local4("198.18.9.2", 24);

	memset(r, 0, sizeof(r));
	memcpy(r[0], ip4("198.18.1.1"), 4);
	memcpy(r[1], ip4("198.18.2.1"), 4);
	memcpy(r[2], ip4("198.18.7.1"), 4); /* on nobody's subnet */
	/* Topology A: each interface is the path to the address on its subnet */
	ck_assert_int_eq(mps_pm_pair(&a, AF_INET, r, 2, 0), 1);
	ck_assert_int_eq(mps_pm_pair(&a, AF_INET, r, 2, 1), 0);
	ck_assert_int_eq(mps_pm_pair(&b, AF_INET, r, 2, 0), 0);
	ck_assert_int_eq(mps_pm_pair(&b, AF_INET, r, 2, 1), 1);
	/* ... and never to a routed address while it has an on-link one */
	ck_assert_int_eq(mps_pm_pair(&a, AF_INET, r, 3, 2), 0);
	/* Topology B: an interface behind a router tries every address */
	ck_assert_int_eq(mps_pm_pair(&routed, AF_INET, r, 3, 0), 1);
	ck_assert_int_eq(mps_pm_pair(&routed, AF_INET, r, 3, 1), 1);
	ck_assert_int_eq(mps_pm_pair(&routed, AF_INET, r, 3, 2), 1);
}
END_TEST

/* ---- mps_pm_local_addrs on this host --------------------------------- */

START_TEST(test_pm_local_addrs)
{
	struct mps_config c;
	struct mps_local_addr out[64];
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	cfg_with(&c, NULL, NULL, NULL, NULL);

	int n = mps_pm_local_addrs(&c, AF_INET, 1, out, (int)NELEM(out));
	int found = 0;
	ck_assert_int_ge(n, 1);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(out[i].family, AF_INET);
		ck_assert_int_eq(out[i].loopback, 1);
		ck_assert_uint_eq(out[i].addr[0], 127);
		ck_assert(out[i].ifname[0] != '\0');
		ck_assert_ptr_nonnull(memchr(out[i].ifname, '\0', sizeof(out[i].ifname)));
		ck_assert_uint_gt(out[i].ifindex, 0);
		ck_assert_uint_eq(out[i].ifindex, if_nametoindex(out[i].ifname));
		if (!memcmp(out[i].addr, lo4, 4)) {
			found = 1;
			ck_assert_uint_eq(out[i].prefixlen, 8); /* 127.0.0.1/8 on lo */
		}
	}
	ck_assert_msg(found, "127.0.0.1 not found among %d loopback addresses", n);

	/* outside loopback scope: never a loopback address, never link-local */
	for (int fam = 0; fam < 2; fam++) {
		int family = fam ? AF_INET6 : AF_INET;
		n = mps_pm_local_addrs(&c, family, 0, out, (int)NELEM(out));
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++) {
			ck_assert_int_eq(out[i].family, family);
			ck_assert_int_eq(out[i].loopback, 0);
			if (family == AF_INET) {
				ck_assert_uint_ne(out[i].addr[0], 127);
			} else {
				static const uint8_t lo6[16] = { [15] = 1 };
				ck_assert(memcmp(out[i].addr, lo6, 16) != 0);
				ck_assert(!(out[i].addr[0] == 0xfe &&
					    (out[i].addr[1] & 0xc0) == 0x80));
			}
		}
	}

	/* max caps the count; max 0 finds nothing */
	n = mps_pm_local_addrs(&c, AF_INET, 1, out, 1);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(mps_pm_local_addrs(&c, AF_INET, 1, out, 0), 0);

	/* the lists apply: excluding lo removes 127.0.0.1 */
	cfg_with(&c, "MPTCPSHIM_EXCLUDE", out[0].ifname, NULL, NULL);
	n = mps_pm_local_addrs(&c, AF_INET, 1, out, (int)NELEM(out));
	for (int i = 0; i < n; i++)
		ck_assert(memcmp(out[i].addr, lo4, 4) != 0);
	cfg_with(&c, "MPTCPSHIM_INTERFACES", "no-such-if0", NULL, NULL);
	ck_assert_int_eq(mps_pm_local_addrs(&c, AF_INET, 1, out, (int)NELEM(out)), 0);
	ck_assert_int_eq(mps_pm_local_addrs(&c, AF_INET, 0, out, (int)NELEM(out)), 0);
}
END_TEST

static Suite *pm_suite(void)
{
	Suite *s = suite_create("pm");
	TCase *tc = tcase_create("usable");
	tcase_add_test(tc, test_pm_flags);
	tcase_add_test(tc, test_pm_family);
	tcase_add_test(tc, test_pm_loopback_scope);
	tcase_add_test(tc, test_pm_excluded_addrs);
	tcase_add_test(tc, test_pm_iflists);
	tcase_add_test(tc, test_pm_grid);
	tcase_add_test(tc, test_pm_onlink);
	tcase_add_test(tc, test_pm_pair);
	suite_add_tcase(s, tc);

	tc = tcase_create("advertised");
	tcase_add_test(tc, test_pm_advertised);
	suite_add_tcase(s, tc);

	tc = tcase_create("host");
	tcase_add_test(tc, test_pm_local_addrs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pm_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
