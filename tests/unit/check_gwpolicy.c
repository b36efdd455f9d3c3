/* check_gwpolicy.c - rule syntax (with the column of each error), the
 * evaluation order and the default deny list, address by address. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/gwpolicy.h"
#include "mptcpshim/util.h"

static const struct {
	const char *rule;
	uint8_t family, plen;
	uint16_t lo, hi;
	const char *addr; /* as inet_ntop writes it */
} good[] = {
        {"198.18.0.0/15", 4, 15, 1, 65535, "198.18.0.0"},
        {"198.18.0.1", 4, 32, 1, 65535, "198.18.0.1"},
        {"198.18.0.1:443", 4, 32, 443, 443, "198.18.0.1"},
        {"10.0.0.0/8:8000-8999", 4, 8, 8000, 8999, "10.0.0.0"},
        {"0.0.0.0/0:25", 4, 0, 25, 25, "0.0.0.0"},
        {"*", 0, 0, 1, 65535, NULL},
        {"*:1-1024", 0, 0, 1, 1024, NULL},
        {"2001:db8::/32", 6, 32, 1, 65535, "2001:db8::"},
        {"[2001:db8::/32]:443", 6, 32, 443, 443, "2001:db8::"},
        {"[2001:db8::1]", 6, 128, 1, 65535, "2001:db8::1"},
        {"::1", 6, 128, 1, 65535, "::1"},
        {"[::ffff:10.0.0.0/104]:22", 4, 8, 22, 22, "10.0.0.0"},
        {"::ffff:127.0.0.1", 4, 32, 1, 65535, "127.0.0.1"},
};

START_TEST(test_parse_good)
{
	for (size_t i = 0; i < MPS_ARRAY_SIZE(good); i++) {
		struct mps_gwrule r;
		char err[128] = "", txt[64];

		ck_assert_msg(mps_gwpolicy_parse_rule(good[i].rule, &r, err, sizeof(err)) == 0,
		              "%s: %s", good[i].rule, err);
		ck_assert_uint_eq(r.family, good[i].family);
		ck_assert_uint_eq(r.plen, good[i].plen);
		ck_assert_uint_eq(r.port_lo, good[i].lo);
		ck_assert_uint_eq(r.port_hi, good[i].hi);
		if (good[i].addr) {
			inet_ntop(r.family == 4 ? AF_INET : AF_INET6, r.addr, txt, sizeof(txt));
			ck_assert_str_eq(txt, good[i].addr);
		}
	}
}
END_TEST

static const struct {
	const char *rule, *err;
} bad[] = {
        {"", "rule '': column 1: empty rule"},
        {"10.0.0.0/33", "rule '10.0.0.0/33': column 10: prefix length must be 0..32"},
        {"10.0.0.0/", "rule '10.0.0.0/': column 10: prefix length must be 0..32"},
        {"10.0.0.1/8",
         "rule '10.0.0.1/8': column 10: address has bits set beyond the prefix length"},
        {"10.0.0/8", "rule '10.0.0/8': column 1: not an IPv4 address"},
        {"example.com", "rule 'example.com': column 1: not an IPv4 address"},
        {"10.0.0.0/8:0", "rule '10.0.0.0/8:0': column 12: port must be 1..65535"},
        {"10.0.0.0/8:65536", "rule '10.0.0.0/8:65536': column 12: port must be 1..65535"},
        {"10.0.0.0/8:", "rule '10.0.0.0/8:': column 12: port must be 1..65535"},
        {"10.0.0.0/8:90-80",
         "rule '10.0.0.0/8:90-80': column 15: port range ends before it starts"},
        {"10.0.0.0/8:80-", "rule '10.0.0.0/8:80-': column 15: port must be 1..65535"},
        {"10.0.0.0/8:80x", "rule '10.0.0.0/8:80x': column 14: unexpected character"},
        {"[2001:db8::/32", "rule '[2001:db8::/32': column 15: missing ']'"},
        {"[2001:db8::/129]", "rule '[2001:db8::/129]': column 13: prefix length must be 0..128"},
        {"[2001:db8::/32]x", "rule '[2001:db8::/32]x': column 16: unexpected character"},
        {"[10.0.0.1]", "rule '[10.0.0.1]': column 2: not an IPv6 address"},
        {"2001:db8::1/64",
         "rule '2001:db8::1/64': column 13: address has bits set beyond the prefix length"},
        {"*x", "rule '*x': column 2: unexpected character"},
        {"[]", "rule '[]': column 2: expected an address"},
};

START_TEST(test_parse_errors)
{
	for (size_t i = 0; i < MPS_ARRAY_SIZE(bad); i++) {
		struct mps_gwrule r;
		char err[160] = "";

		ck_assert_int_eq(mps_gwpolicy_parse_rule(bad[i].rule, &r, err, sizeof(err)),
		                 -EINVAL);
		ck_assert_str_eq(err, bad[i].err);
	}
}
END_TEST

static enum mps_gwp_verdict check(const struct mps_gwpolicy *p, const char *a, uint16_t port)
{
	uint8_t b[16];
	int fam = strchr(a, ':') ? AF_INET6 : AF_INET;
	const char *why = NULL;
	enum mps_gwp_verdict v;

	ck_assert_int_eq(inet_pton(fam, a, b), 1);
	v = mps_gwpolicy_check(p, fam, b, port, &why);
	ck_assert_ptr_nonnull(why);
	return v;
}

static void own(struct mps_gwpolicy *p, const char *a)
{
	uint8_t b[16];
	int fam = strchr(a, ':') ? AF_INET6 : AF_INET;

	ck_assert_int_eq(inet_pton(fam, a, b), 1);
	ck_assert_int_eq(mps_gwpolicy_add_own(p, fam, b), 0);
}

START_TEST(test_order_and_defaults)
{
	static struct mps_gwpolicy p;
	static const struct {
		const char *addr;
		uint16_t port;
		enum mps_gwp_verdict v;
	} t[] = {
	        {"198.18.1.1", 443, MPS_GWP_ALLOW},
	        {"198.18.5.9", 443, MPS_GWP_DENY_EXPLICIT},
	        {"93.184.216.34", 25, MPS_GWP_DENY_EXPLICIT},
	        {"93.184.216.34", 24, MPS_GWP_ALLOW},
	        {"10.1.2.3", 443, MPS_GWP_ALLOW_EXPLICIT},
	        {"10.1.2.3", 80, MPS_GWP_DENY_DEFAULT},
	        {"10.2.0.1", 443, MPS_GWP_DENY_DEFAULT},
	        {"::ffff:10.1.2.3", 443, MPS_GWP_ALLOW_EXPLICIT},
	        {"127.0.0.1", 80, MPS_GWP_DENY_DEFAULT},
	        {"127.0.0.1", 8080, MPS_GWP_ALLOW_EXPLICIT},
	        {"::ffff:127.0.0.1", 80, MPS_GWP_DENY_DEFAULT},
	        {"198.18.0.1", 80, MPS_GWP_DENY_OWN},
	        {"::ffff:198.18.0.1", 80, MPS_GWP_DENY_OWN},
	        {"2001:db8::1", 80, MPS_GWP_DENY_OWN},
	        {"2001:db8::2", 80, MPS_GWP_ALLOW},
	        {"fd12::1", 22, MPS_GWP_ALLOW_EXPLICIT},
	        {"fd12::1", 80, MPS_GWP_DENY_DEFAULT},
	        {"fc00::1", 22, MPS_GWP_DENY_DEFAULT},
	        {"fe80::1", 80, MPS_GWP_DENY_DEFAULT},
	        {"febf::1", 80, MPS_GWP_DENY_DEFAULT},
	        {"fec0::1", 80, MPS_GWP_DENY_DEFAULT},
	        {"ff02::1", 80, MPS_GWP_DENY_DEFAULT},
	        {"::", 80, MPS_GWP_DENY_DEFAULT},
	        {"::1", 80, MPS_GWP_DENY_DEFAULT},
	        {"::2", 80, MPS_GWP_ALLOW},
	        {"0.1.2.3", 80, MPS_GWP_DENY_DEFAULT},
	        {"1.0.0.0", 80, MPS_GWP_ALLOW},
	        {"9.255.255.255", 80, MPS_GWP_ALLOW},
	        {"11.0.0.0", 80, MPS_GWP_ALLOW},
	        {"100.63.255.255", 80, MPS_GWP_ALLOW},
	        {"100.64.0.0", 80, MPS_GWP_DENY_DEFAULT},
	        {"100.127.255.255", 80, MPS_GWP_DENY_DEFAULT},
	        {"100.128.0.0", 80, MPS_GWP_ALLOW},
	        {"169.254.1.1", 80, MPS_GWP_DENY_DEFAULT},
	        {"172.15.255.255", 80, MPS_GWP_ALLOW},
	        {"172.16.0.0", 80, MPS_GWP_DENY_DEFAULT},
	        {"172.31.255.255", 80, MPS_GWP_DENY_DEFAULT},
	        {"172.32.0.0", 80, MPS_GWP_ALLOW},
	        {"192.167.255.255", 80, MPS_GWP_ALLOW},
	        {"192.168.1.1", 80, MPS_GWP_DENY_DEFAULT},
	        {"192.169.0.0", 80, MPS_GWP_ALLOW},
	        {"223.255.255.255", 80, MPS_GWP_ALLOW},
	        {"224.0.0.1", 80, MPS_GWP_DENY_DEFAULT},
	        {"239.255.255.255", 80, MPS_GWP_DENY_DEFAULT},
	        {"255.255.255.255", 80, MPS_GWP_DENY_DEFAULT},
	        {"2001:db8::3", 0, MPS_GWP_DENY_EXPLICIT}, /* port 0 never */
	};
	char err[128];

	mps_gwpolicy_init(&p);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 0, "198.18.5.0/24", err, sizeof(err)), 0);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 0, "*:25", err, sizeof(err)), 0);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 1, "10.1.0.0/16:443", err, sizeof(err)), 0);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 1, "[fd00::/8]:22", err, sizeof(err)), 0);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 1, "127.0.0.1:8080", err, sizeof(err)), 0);
	own(&p, "198.18.0.1");
	own(&p, "2001:db8::1");
	for (size_t i = 0; i < MPS_ARRAY_SIZE(t); i++)
		ck_assert_msg(check(&p, t[i].addr, t[i].port) == t[i].v,
		              "%s port %u: %d, expected %d", t[i].addr, t[i].port,
		              check(&p, t[i].addr, t[i].port), t[i].v);
	/* An explicit deny beats an explicit allow. */
	ck_assert_int_eq(mps_gwpolicy_add(&p, 0, "10.1.2.3", err, sizeof(err)), 0);
	ck_assert_int_eq(check(&p, "10.1.2.3", 443), MPS_GWP_DENY_EXPLICIT);
	ck_assert_int_eq(check(&p, "10.1.2.4", 443), MPS_GWP_ALLOW_EXPLICIT);
	/* An allow for the gateway's own address opens it (order 2 before 3). */
	ck_assert_int_eq(mps_gwpolicy_add(&p, 1, "[2001:db8::1]:8443", err, sizeof(err)), 0);
	ck_assert_int_eq(check(&p, "2001:db8::1", 8443), MPS_GWP_ALLOW_EXPLICIT);
	ck_assert_int_eq(check(&p, "2001:db8::1", 8444), MPS_GWP_DENY_OWN);
	ck_assert(mps_gwp_refused(MPS_GWP_DENY_OWN));
	ck_assert(!mps_gwp_refused(MPS_GWP_ALLOW_EXPLICIT));
}
END_TEST

START_TEST(test_limits)
{
	static struct mps_gwpolicy p;
	uint8_t a[4] = {198, 18, 0, 1};
	char err[128];

	mps_gwpolicy_init(&p);
	for (unsigned i = 0; i < MPS_GWPOLICY_RULES_MAX; i++)
		ck_assert_int_eq(mps_gwpolicy_add(&p, 1, "*:1", err, sizeof(err)), 0);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 1, "*:1", err, sizeof(err)), -ENOSPC);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 0, "*:1", err, sizeof(err)), 0);
	ck_assert_int_eq(mps_gwpolicy_add(&p, 0, "bad", err, sizeof(err)), -EINVAL);
	for (unsigned i = 0; i < MPS_GWPOLICY_OWN_MAX; i++)
		ck_assert_int_eq(mps_gwpolicy_add_own(&p, AF_INET, a), 0);
	ck_assert_int_eq(mps_gwpolicy_add_own(&p, AF_INET, a), -ENOSPC);
	ck_assert_int_eq(mps_gwpolicy_add_own(&p, AF_UNIX, a), -EINVAL);
	ck_assert_int_eq(mps_gwpolicy_check(&p, AF_UNIX, a, 80, NULL), MPS_GWP_DENY_EXPLICIT);
}
END_TEST

static Suite *gwpolicy_suite(void)
{
	Suite *s = suite_create("gwpolicy");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_good);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_order_and_defaults);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gwpolicy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
