/* check_gateway.c - the client side of the gateway glue that needs no
 * socket: MPTCPSHIM_GATEWAY* parsing (config.c's table, through a fake
 * getenv), the routing
 * decision (MPTCPSHIM_GATEWAY_FOR and its default), and HOST:PORT parsing. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/gwauth.h"
#include "mptcpshim/gwpolicy.h"

static const char *env_names[8], *env_vals[8];
static int nenv, nwarn;

static const char *fake_getenv(const char *n)
{
	for (int i = 0; i < nenv; i++)
		if (!strcmp(env_names[i], n))
			return env_vals[i];
	return NULL;
}

static void count_warn(const char *msg)
{
	(void)msg;
	nwarn++;
}

static void setenv2(const char *n, const char *v)
{
	env_names[nenv] = n;
	env_vals[nenv++] = v;
}

/* The gateway's variables are rows of config.c's table. */
static void parse(struct mps_gwconf *c)
{
	static struct mps_config cfg;

	nwarn = 0;
	mps_config_parse(&cfg, fake_getenv, count_warn);
	*c = cfg.gw;
	nenv = 0;
}

static struct sockaddr_storage sa4(const char *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, a, &in->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage sa6(const char *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
	return ss;
}

START_TEST(test_hostport)
{
	struct sockaddr_storage ss;
	socklen_t l;
	static const char *bad[] = {"",       "1.2.3.4",       "1.2.3.4:",    "1.2.3.4:0",
	                            ":80",    "1.2.3.4:65536", "host:80",     "[::1:80",
	                            "::1:80", "[::1]:x",       "1.2.3.4:+80", "1.2.3.4:8 0",
	                            "[]:80",  "1.2.3:80"};

	ck_assert_int_eq(mps_gw_parse_hostport("198.18.0.1:7443", 15, &ss, &l), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_uint_eq(l, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 7443);
	ck_assert_int_eq(mps_gw_parse_hostport("[2001:db8::1]:1", 15, &ss, &l), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 1);
	/* the length given is what counts: a list is parsed in place */
	ck_assert_int_eq(mps_gw_parse_hostport("198.18.0.1:80,10.0.0.1:1", 13, &ss, &l), 0);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 80);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mps_gw_parse_hostport(bad[i], strlen(bad[i]), &ss, &l) == -EINVAL,
		              "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_conf)
{
	struct mps_gwconf c;

	parse(&c);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(c.fallback, MPS_GWF_DIRECT);
	ck_assert_int_eq(nwarn, 0);

	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443,[2001:db8::2]:7443");
	setenv2("MPTCPSHIM_GATEWAY_KEY_FILE", "/k");
	setenv2("MPTCPSHIM_GATEWAY_FALLBACK", "fail");
	setenv2("MPTCPSHIM_GATEWAY_FOR", "198.18.0.0/15:443,[2001:db8::/32]:80-81");
	parse(&c);
	ck_assert_int_eq(nwarn, 0);
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(c.gw[1].ss_family, AF_INET6);
	ck_assert_str_eq(c.key_file, "/k");
	ck_assert_int_eq(c.fallback, MPS_GWF_FAIL);
	ck_assert_int_eq(c.nfor, 2);
	ck_assert_uint_eq(c.rules[1].port_lo, 80);
	ck_assert_uint_eq(c.rules[1].port_hi, 81);

	/* bad values: warned, and the safe default kept */
	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443,gw.example:1");
	setenv2("MPTCPSHIM_GATEWAY_FALLBACK", "sometimes");
	setenv2("MPTCPSHIM_GATEWAY_FOR", "198.18.0.1/8");
	parse(&c);
	ck_assert_int_eq(nwarn, 3);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(c.fallback, MPS_GWF_DIRECT);
	ck_assert_int_eq(c.nfor, 0);
	ck_assert_int_eq(c.for_all, 0);

	setenv2("MPTCPSHIM_GATEWAY", "1.1.1.1:1,1.1.1.1:2,1.1.1.1:3,1.1.1.1:4,1.1.1.1:5");
	parse(&c);
	ck_assert_int_eq(nwarn, 1);
	ck_assert_int_eq(c.n, 0);
	setenv2("MPTCPSHIM_GATEWAY", "1.1.1.1:1,1.1.1.1:2,1.1.1.1:3,1.1.1.1:4");
	setenv2("MPTCPSHIM_GATEWAY_FOR", "all");
	parse(&c);
	ck_assert_int_eq(nwarn, 0);
	ck_assert_int_eq(c.n, 4);
	ck_assert_int_eq(c.for_all, 1);
}
END_TEST

START_TEST(test_wants)
{
	struct mps_gwconf c;
	struct mps_gw_subnet nets[2] = {
	        {.family = 4, .addr = {192, 168, 1, 0}, .plen = 24},
	        {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8}, .plen = 64}};
	struct sockaddr_storage d;

	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443");
	parse(&c);
	/* default rule */
	d = sa4("203.0.113.7", 443);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, nets, 2), 1);
	d = sa4("10.1.2.3", 22); /* private, not local: through the gateway */
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, nets, 2), 1);
	d = sa4("192.168.1.77", 80); /* a local subnet */
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, nets, 2), 0);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 1);
	d = sa4("127.0.0.1", 80);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 0);
	d = sa4("169.254.3.4", 80);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 0);
	d = sa6("::1", 80);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 0);
	d = sa6("fe80::1", 80);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 0);
	d = sa6("::ffff:127.0.0.1", 80); /* mapped: judged as IPv4 */
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 0);
	d = sa6("2001:db8::5", 80); /* on the local /64 */
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, nets, 2), 0);
	d = sa6("2001:db8:1::5", 80);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, nets, 2), 1);

	/* explicit rules: only what they name */
	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443");
	setenv2("MPTCPSHIM_GATEWAY_FOR", "203.0.113.0/24:443,*:22");
	parse(&c);
	d = sa4("203.0.113.7", 443);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 1);
	d = sa4("203.0.113.7", 80);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 0);
	d = sa4("127.0.0.1", 22); /* the user asked for it */
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, nets, 2), 1);

	/* all */
	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443");
	setenv2("MPTCPSHIM_GATEWAY_FOR", "all");
	parse(&c);
	d = sa4("192.168.1.77", 80);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, nets, 2), 1);

	/* no gateway: never */
	parse(&c);
	d = sa4("203.0.113.7", 443);
	ck_assert_int_eq(mps_gw_wants(&c, (struct sockaddr *)&d, NULL, 0), 0);
}
END_TEST

/* A host name (the proxy's MPS_SO_GW_CONNECT): through the gateway by
 * default and with `all` (resolving it locally would leak the query);
 * with explicit rules only where a `*` rule takes its port. */
START_TEST(test_wants_name)
{
	struct mps_gwconf c;

	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443");
	parse(&c);
	ck_assert_int_eq(mps_gw_wants_name(&c, 443), 1);
	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443");
	setenv2("MPTCPSHIM_GATEWAY_FOR", "all");
	parse(&c);
	ck_assert_int_eq(mps_gw_wants_name(&c, 80), 1);
	setenv2("MPTCPSHIM_GATEWAY", "198.18.0.1:7443");
	setenv2("MPTCPSHIM_GATEWAY_FOR", "203.0.113.0/24:443,*:22,*:8000-8080");
	parse(&c);
	ck_assert_int_eq(mps_gw_wants_name(&c, 22), 1);
	ck_assert_int_eq(mps_gw_wants_name(&c, 8000), 1);
	ck_assert_int_eq(mps_gw_wants_name(&c, 8080), 1);
	ck_assert_int_eq(mps_gw_wants_name(&c, 8081), 0);
	ck_assert_int_eq(mps_gw_wants_name(&c, 443), 0); /* only for an address rule */
	/* no gateway */
	parse(&c);
	ck_assert_int_eq(mps_gw_wants_name(&c, 443), 0);
}
END_TEST

/* MPS_SO_GW_DIRECT's checks (gateway.c): what the daemon checked before,
 * now the library's, with the daemon's log lines. */
static char last_log[600];
static int nlog;

static void grab_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	nlog++;
}

START_TEST(test_direct)
{
	char path[] = "/tmp/check_gateway_keys.XXXXXX", line[200];
	struct mps_gwpolicy pol;
	struct sockaddr_storage a = sa4("198.51.100.7", 5000), b = sa4("198.51.100.8", 5000);
	struct mps_gwdest d;
	const char *why = NULL;
	uint8_t ip[4];
	int kfd, sfd;
	struct mps_gwdirect dir = {.policy = &pol,
	                           .connect_timeout_ms = 1500,
	                           .max_per_client = 2,
	                           .rate_per_client = 0,
	                           .max_conns = 100,
	                           .max_pending_per_source = 2,
	                           .log = grab_log};

	kfd = mkstemp(path);
	ck_assert_int_ge(kfd, 0);
	ck_assert_int_gt(mps_gwauth_gen_line("alice", line, sizeof(line)), 0);
	ck_assert_int_eq(write(kfd, line, strlen(line)), (int)strlen(line));
	close(kfd);
	sfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(sfd, 0);
	mps_gwpolicy_init(&pol);
	/* before the listener: nothing to serve with */
	ck_assert_int_eq(mps_gw_set_direct(&dir), -EINVAL);
	ck_assert_int_eq(mps_gw_listen(sfd, path, strlen(path)), 0);
	unlink(path);
	ck_assert_int_eq(mps_gw_direct(), 0);
	ck_assert_int_eq(mps_gw_set_direct(&dir), 0);
	ck_assert_int_eq(mps_gw_set_direct(&dir), -EALREADY); /* once */
	ck_assert_int_eq(mps_gw_direct(), 1);
	ck_assert(mps_gw_direct_timeout() > 1.49 && mps_gw_direct_timeout() < 1.51);
	/* the per-client cap: two at once, a third refused (as limited:
	 * replied as refused, counted as gateway_limited) and logged */
	ck_assert_int_eq(mps_gw_direct_admit("alice", "alice (p)", "d:1"), MPS_GWR_OK);
	ck_assert_int_eq(mps_gw_direct_admit("alice", "alice (p)", "d:1"), MPS_GWR_OK);
	nlog = 0;
	ck_assert_int_eq(mps_gw_direct_admit("alice", "alice (p)", "d:1"), MPS_GWR_LIMITED);
	ck_assert_int_eq(nlog, 1);
	ck_assert_ptr_nonnull(strstr(last_log, "alice (p) -> d:1: refused: 2 connections"));
	mps_gw_direct_release("alice");
	ck_assert_int_eq(mps_gw_direct_admit("alice", "alice (p)", "d:1"), MPS_GWR_OK);
	mps_gw_direct_release("alice");
	mps_gw_direct_release("alice");
	/* the policy: the default deny list, logged as the daemon did */
	memset(&d, 0, sizeof(d));
	d.type = MPS_GWT_DEST_IPV4;
	d.port = 80;
	inet_pton(AF_INET, "10.0.0.1", ip);
	memcpy(d.addr, ip, 4);
	ck_assert_int_eq(mps_gw_direct_judge(&d, "alice (p)", "10.0.0.1:80"), MPS_GWR_POLICY);
	ck_assert_ptr_nonnull(strstr(last_log, "10.0.0.1:80: refused by policy ("));
	ck_assert_int_eq(mps_gw_direct_refused(AF_INET, ip, 80, &why), 1);
	ck_assert_ptr_nonnull(why);
	inet_pton(AF_INET, "198.51.100.1", ip);
	memcpy(d.addr, ip, 4);
	ck_assert_int_eq(mps_gw_direct_judge(&d, "alice (p)", "198.51.100.1:80"), MPS_GWR_OK);
	ck_assert_int_eq(mps_gw_direct_refused(AF_INET, ip, 80, NULL), 0);
	/* the per-source pending limit at accept: 2, then refused; another
	 * source is not affected; a drop makes room */
	ck_assert_int_eq(mps_gw_direct_accept((struct sockaddr *)&a), 0);
	ck_assert_int_eq(mps_gw_direct_accept((struct sockaddr *)&a), 0);
	nlog = 0;
	ck_assert_int_eq(mps_gw_direct_accept((struct sockaddr *)&a), -1);
	ck_assert_int_eq(nlog, 1);
	ck_assert_ptr_nonnull(strstr(last_log, "dropped: this source holds its share"));
	ck_assert_int_eq(mps_gw_direct_accept((struct sockaddr *)&b), 0);
	mps_gw_direct_pending_drop((struct sockaddr *)&a);
	ck_assert_int_eq(mps_gw_direct_accept((struct sockaddr *)&a), 0);
	/* the global cap counts the library's connections */
	mps_gw_count_add(100);
	ck_assert_int_eq(mps_gw_direct_accept((struct sockaddr *)&b), -1);
	mps_gw_count_add(-100);
	ck_assert_int_eq(mps_gw_count(), 0);
	close(sfd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gateway");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_hostport);
	tcase_add_test(tc, test_conf);
	tcase_add_test(tc, test_wants);
	tcase_add_test(tc, test_wants_name);
	tcase_add_test(tc, test_direct);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
