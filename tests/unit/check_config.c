/* check_config.c - MPTCPSHIM_* parsing through the getenv test seam. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the fake environment -------------------------------------------- */

#define MAXENV 16

static struct {
	const char *name, *value;
} fake_env[MAXENV];
static size_t fake_n;
static int warn_calls;
static char last_warn[512];
static int foreign_lookups;

static void env_reset(void)
{
	fake_n = 0;
	warn_calls = 0;
	last_warn[0] = '\0';
	foreign_lookups = 0;
}

static void env_set(const char *name, const char *value)
{
	ck_assert_uint_lt(fake_n, MAXENV);
	fake_env[fake_n].name = name;
	fake_env[fake_n].value = value;
	fake_n++;
}

static const char *fake_getenv(const char *name)
{
	ck_assert_ptr_nonnull(name);
	if (strncmp(name, "MPTCPSHIM_", 10) != 0)
		foreign_lookups++;
	for (size_t i = 0; i < fake_n; i++)
		if (strcmp(fake_env[i].name, name) == 0)
			return fake_env[i].value;
	return NULL;
}

static void count_warn(const char *msg)
{
	ck_assert_ptr_nonnull(msg);
	warn_calls++;
	snprintf(last_warn, sizeof(last_warn), "%s", msg);
}

static void parse(struct mps_config *c)
{
	memset(c, 0xa5, sizeof(*c)); /* parse must set every field */
	warn_calls = 0;
	mps_config_parse(c, fake_getenv, count_warn);
	ck_assert_int_eq(foreign_lookups, 0);
}

/* parse with a single variable set */
static void parse1(struct mps_config *c, const char *name, const char *value)
{
	env_reset();
	env_set(name, value);
	parse(c);
}

static void check_defaults_except(const struct mps_config *c, const char *except)
{
	if (strcmp(except, "DISABLE") != 0)
		ck_assert_int_eq(c->disabled, 0);
	if (strcmp(except, "LOG") != 0)
		ck_assert_int_eq(c->log_level, MPS_LOG_WARN);
	if (strcmp(except, "LOG_FILE") != 0)
		ck_assert_str_eq(c->log_file, "");
	if (strcmp(except, "PEERS") != 0) {
		ck_assert_int_eq(c->peers_all, 1);
		ck_assert_uint_eq(c->npeers, 0);
	}
	if (strcmp(except, "PLAIN_CACHE_TTL") != 0)
		ck_assert_uint_eq(c->plain_cache_ttl, 300);
	if (strcmp(except, "RESUME") != 0)
		ck_assert_uint_eq(c->resume_ttl, 600);
	if (strcmp(except, "SNDBUF") != 0)
		ck_assert_uint_eq(c->sndbuf, 4194304);
	if (strcmp(except, "MAX_SUBFLOWS") != 0)
		ck_assert_uint_eq(c->max_subflows, 8);
	if (strcmp(except, "SUBFLOWS_PER_PATH") != 0)
		ck_assert_uint_eq(c->subflows_per_path, 1);
	if (strcmp(except, "INTERFACES") != 0)
		ck_assert_uint_eq(c->ninterfaces, 0);
	if (strcmp(except, "EXCLUDE") != 0)
		ck_assert_uint_eq(c->nexclude, 0);
	if (strcmp(except, "ADVERTISE") != 0) {
		ck_assert_int_eq(c->advertise_all, 1);
		ck_assert_uint_eq(c->nadvertise, 0);
	}
	if (strcmp(except, "SCHEDULER") != 0)
		ck_assert_str_eq(c->scheduler, "default");
	if (strcmp(except, "KERNEL_MPTCP") != 0)
		ck_assert_int_eq(c->kernel_mptcp, 0); \
	if (strcmp(except, "CC") != 0)
		ck_assert_str_eq(c->cc, "auto");
}

static void check_defaults(const struct mps_config *c)
{
	check_defaults_except(c, "");
}

/* ---- sockaddr helpers ------------------------------------------------ */

static int allowed4(const struct mps_config *c, const char *addr, uint16_t port)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	return mps_config_peer_allowed(c, (const struct sockaddr *)&sin);
}

static int allowed6(const struct mps_config *c, const char *addr, uint16_t port)
{
	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
	return mps_config_peer_allowed(c, (const struct sockaddr *)&sin6);
}

/* ---- tests ----------------------------------------------------------- */

START_TEST(test_config_defaults)
{
	struct mps_config c;
	env_reset();
	parse(&c);
	ck_assert_int_eq(warn_calls, 0);
	check_defaults(&c);
	ck_assert_int_eq(allowed4(&c, "192.0.2.1", 80), 1);
	ck_assert_int_eq(allowed6(&c, "2001:db8::1", 443), 1);

	/* unrelated variables are ignored */
	env_set("MPTCPSHIM_NO_SUCH_THING", "1");
	parse(&c);
	check_defaults(&c);
}
END_TEST

START_TEST(test_config_log_level)
{
	static const struct {
		const char *v;
		int level;
	} ok[] = { { "debug", MPS_LOG_DEBUG },
		   { "info", MPS_LOG_INFO },
		   { "warn", MPS_LOG_WARN },
		   { "error", MPS_LOG_ERROR } };
	struct mps_config c;
	for (size_t i = 0; i < NELEM(ok); i++) {
		parse1(&c, "MPTCPSHIM_LOG", ok[i].v);
		ck_assert_msg(c.log_level == ok[i].level, "MPTCPSHIM_LOG=%s: level %d", ok[i].v,
			      c.log_level);
		ck_assert_int_eq(warn_calls, 0);
		check_defaults_except(&c, "LOG");
	}
	static const char *bad[] = { "verbose", "5", "debugx", "deb", "-1", "warn " };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_LOG", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_LOG=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_int_eq(c.log_level, MPS_LOG_WARN);
		check_defaults(&c);
	}
}
END_TEST

START_TEST(test_config_disable)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_DISABLE", "1");
	ck_assert_int_eq(c.disabled, 1);
	ck_assert_int_eq(warn_calls, 0);
	check_defaults_except(&c, "DISABLE");

	parse1(&c, "MPTCPSHIM_DISABLE", "0");
	ck_assert_int_eq(c.disabled, 0);
	ck_assert_int_eq(warn_calls, 0);

	static const char *bad[] = { "bad", "2", "-1", "1x", "01x" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_DISABLE", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_DISABLE=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_int_eq(c.disabled, 0);
		check_defaults(&c);
	}
}
END_TEST

/* MPTCPSHIM_KERNEL_MPTCP: 0 or 1 (yes/no, true/false), default 0 */
START_TEST(test_config_kernel_mptcp)
{
	struct mps_config c;
	static const char *on[] = { "1", "yes", "true" };
	for (size_t i = 0; i < NELEM(on); i++) {
		parse1(&c, "MPTCPSHIM_KERNEL_MPTCP", on[i]);
		ck_assert_int_eq(c.kernel_mptcp, 1);
		ck_assert_int_eq(warn_calls, 0);
		check_defaults_except(&c, "KERNEL_MPTCP");
	}
	parse1(&c, "MPTCPSHIM_KERNEL_MPTCP", "0");
	ck_assert_int_eq(c.kernel_mptcp, 0);
	ck_assert_int_eq(warn_calls, 0);
	static const char *bad[] = { "on", "2", "-1", "1x", "mptcp" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_KERNEL_MPTCP", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_KERNEL_MPTCP=\"%s\": %d warnings", bad[i],
			      warn_calls);
		check_defaults(&c);
	}
}
END_TEST

START_TEST(test_config_peers_rules)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_PEERS", "198.18.0.0/15,2001:db8::/32,127.0.0.1:5201,[::1]:80");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(c.peers_all, 0);
	ck_assert_uint_eq(c.npeers, 4);
	check_defaults_except(&c, "PEERS");

	static const uint8_t a0[4] = { 198, 18, 0, 0 };
	ck_assert_int_eq(c.peers[0].family, AF_INET);
	ck_assert_mem_eq(c.peers[0].addr, a0, 4);
	ck_assert_uint_eq(c.peers[0].prefix, 15);
	ck_assert_uint_eq(c.peers[0].port, 0);

	static const uint8_t a1[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	ck_assert_int_eq(c.peers[1].family, AF_INET6);
	ck_assert_mem_eq(c.peers[1].addr, a1, 16);
	ck_assert_uint_eq(c.peers[1].prefix, 32);
	ck_assert_uint_eq(c.peers[1].port, 0);

	static const uint8_t a2[4] = { 127, 0, 0, 1 };
	ck_assert_int_eq(c.peers[2].family, AF_INET);
	ck_assert_mem_eq(c.peers[2].addr, a2, 4);
	ck_assert_uint_eq(c.peers[2].prefix, 32);
	ck_assert_uint_eq(c.peers[2].port, 5201);

	static const uint8_t a3[16] = { [15] = 1 };
	ck_assert_int_eq(c.peers[3].family, AF_INET6);
	ck_assert_mem_eq(c.peers[3].addr, a3, 16);
	ck_assert_uint_eq(c.peers[3].prefix, 128);
	ck_assert_uint_eq(c.peers[3].port, 80);

	/* 198.18.0.0/15 = 198.18.0.0 .. 198.19.255.255, any port */
	ck_assert_int_eq(allowed4(&c, "198.18.0.0", 1), 1);
	ck_assert_int_eq(allowed4(&c, "198.18.7.9", 443), 1);
	ck_assert_int_eq(allowed4(&c, "198.19.255.255", 65535), 1);
	ck_assert_int_eq(allowed4(&c, "198.17.255.255", 443), 0);
	ck_assert_int_eq(allowed4(&c, "198.20.0.0", 443), 0);
	ck_assert_int_eq(allowed4(&c, "10.0.0.1", 443), 0);
	ck_assert_int_eq(allowed4(&c, "70.18.0.1", 443), 0); /* 198 with the top bit cleared */

	/* 2001:db8::/32 */
	ck_assert_int_eq(allowed6(&c, "2001:db8::", 1), 1);
	ck_assert_int_eq(allowed6(&c, "2001:db8:ffff:ffff::1", 8080), 1);
	ck_assert_int_eq(allowed6(&c, "2001:db9::1", 8080), 0);
	ck_assert_int_eq(allowed6(&c, "2001:db7:ffff::1", 8080), 0);
	ck_assert_int_eq(allowed6(&c, "fe80::1", 8080), 0);

	/* 127.0.0.1:5201: address and port */
	ck_assert_int_eq(allowed4(&c, "127.0.0.1", 5201), 1);
	ck_assert_int_eq(allowed4(&c, "127.0.0.1", 5202), 0);
	ck_assert_int_eq(allowed4(&c, "127.0.0.1", 0x5201), 0); /* byte order */
	ck_assert_int_eq(allowed4(&c, "127.0.0.2", 5201), 0);

	/* [::1]:80 */
	ck_assert_int_eq(allowed6(&c, "::1", 80), 1);
	ck_assert_int_eq(allowed6(&c, "::1", 81), 0);
	ck_assert_int_eq(allowed6(&c, "::2", 80), 0);
	ck_assert_int_eq(allowed6(&c, "::", 80), 0);

	/* the families do not mix: an IPv4 rule says nothing about IPv6 */
	ck_assert_int_eq(allowed6(&c, "c612::", 443), 0); /* 198.18 as IPv6 bits */
	ck_assert_int_eq(allowed4(&c, "32.1.13.184", 443), 0); /* 2001:0db8 as IPv4 bits */
}
END_TEST

START_TEST(test_config_peers_prefix_edges)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_PEERS", "0.0.0.0/0");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.npeers, 1);
	ck_assert_int_eq(allowed4(&c, "1.2.3.4", 1), 1);
	ck_assert_int_eq(allowed4(&c, "255.255.255.255", 1), 1);
	ck_assert_int_eq(allowed6(&c, "::1", 1), 0);

	parse1(&c, "MPTCPSHIM_PEERS", "::/0");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(allowed6(&c, "2001:db8::1", 1), 1);
	ck_assert_int_eq(allowed4(&c, "1.2.3.4", 1), 0);

	parse1(&c, "MPTCPSHIM_PEERS", "10.1.2.3");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.npeers, 1);
	ck_assert_uint_eq(c.peers[0].prefix, 32);
	ck_assert_int_eq(allowed4(&c, "10.1.2.3", 9), 1);
	ck_assert_int_eq(allowed4(&c, "10.1.2.2", 9), 0);

	parse1(&c, "MPTCPSHIM_PEERS", "10.0.0.0/9");
	ck_assert_int_eq(allowed4(&c, "10.127.255.255", 9), 1);
	ck_assert_int_eq(allowed4(&c, "10.128.0.0", 9), 0);

	parse1(&c, "MPTCPSHIM_PEERS", "2001:db8::/33");
	ck_assert_int_eq(allowed6(&c, "2001:db8:7fff::", 1), 1);
	ck_assert_int_eq(allowed6(&c, "2001:db8:8000::", 1), 0);

	parse1(&c, "MPTCPSHIM_PEERS", "2001:db8::1");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.peers[0].prefix, 128);
	ck_assert_int_eq(allowed6(&c, "2001:db8::1", 1), 1);
	ck_assert_int_eq(allowed6(&c, "2001:db8::2", 1), 0);

	/* a single rule with a port: other ports are refused */
	parse1(&c, "MPTCPSHIM_PEERS", "[2001:db8::1]:443");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.peers[0].port, 443);
	ck_assert_int_eq(allowed6(&c, "2001:db8::1", 443), 1);
	ck_assert_int_eq(allowed6(&c, "2001:db8::1", 444), 0);
}
END_TEST

/* Found by tests/fuzz/fuzz_config: a v4-mapped IPv6 rule was refused in
 * its dotted form (taken for IPv4 with a port) and, in hex form, accepted
 * but never matched (mapped destinations are matched as IPv4). */
START_TEST(test_config_peers_v4mapped)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_PEERS", "::ffff:198.18.0.0/111");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.npeers, 1);
	ck_assert_int_eq(allowed4(&c, "198.18.1.2", 80), 1);
	ck_assert_int_eq(allowed6(&c, "::ffff:198.18.1.2", 80), 1);
	ck_assert_int_eq(allowed4(&c, "198.20.0.1", 80), 0);

	parse1(&c, "MPTCPSHIM_PEERS", "::ffff:c612:1");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(allowed4(&c, "198.18.0.1", 80), 1);
	ck_assert_int_eq(allowed6(&c, "::ffff:198.18.0.1", 80), 1);
	ck_assert_int_eq(allowed4(&c, "198.18.0.2", 80), 0);

	parse1(&c, "MPTCPSHIM_PEERS", "[::ffff:198.18.0.1]:22");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(allowed4(&c, "198.18.0.1", 22), 1);
	ck_assert_int_eq(allowed4(&c, "198.18.0.1", 23), 0);
}
END_TEST

START_TEST(test_config_peers_all_none)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_PEERS", "all");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(c.peers_all, 1);
	ck_assert_int_eq(allowed4(&c, "203.0.113.5", 22), 1);
	ck_assert_int_eq(allowed6(&c, "2001:db8::5", 22), 1);

	parse1(&c, "MPTCPSHIM_PEERS", "none");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(c.peers_all, 0);
	ck_assert_uint_eq(c.npeers, 0);
	ck_assert_int_eq(allowed4(&c, "203.0.113.5", 22), 0);
	ck_assert_int_eq(allowed4(&c, "127.0.0.1", 80), 0);
	ck_assert_int_eq(allowed6(&c, "2001:db8::5", 22), 0);
	ck_assert_int_eq(allowed6(&c, "::1", 80), 0);
	check_defaults_except(&c, "PEERS");
}
END_TEST

START_TEST(test_config_peers_bad)
{
	static const char *bad[] = {
		"198.18.0.0/15,bogus",
		"bogus",
		"10.0.0.0/33",
		"10.0.0.0/",
		"10.0.0.0/-1",
		"300.1.1.1",
		"1.2.3",
		"1.2.3.4:70000",
		"1.2.3.4:",
		"1.2.3.4:http",
		"::1/129",
		"[::1",
		"[::1]:99999",
		"2001:db8::/32/1",
		"gggg::1",
		"127.0.0.1:5201,[::1]:80,10.0.0.0/8x",
	};
	struct mps_config c;
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_PEERS", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_PEERS=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_msg(c.peers_all == 1, "MPTCPSHIM_PEERS=\"%s\": default not kept",
			      bad[i]);
		ck_assert_uint_eq(c.npeers, 0);
		ck_assert_int_eq(allowed4(&c, "8.8.8.8", 53), 1);
		check_defaults(&c);
	}
}
END_TEST

/* More rules than MPS_MAX_PEER_RULES cannot be stored: a bad value. */
START_TEST(test_config_peers_too_many)
{
	static char many[64 * (MPS_MAX_PEER_RULES + 1)];
	struct mps_config c;
	size_t off = 0;
	for (int i = 0; i < MPS_MAX_PEER_RULES; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%s10.0.%d.0/24",
					i ? "," : "", i);
	parse1(&c, "MPTCPSHIM_PEERS", many);
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.npeers, MPS_MAX_PEER_RULES);
	ck_assert_int_eq(allowed4(&c, "10.0.31.7", 1), 1);
	ck_assert_int_eq(allowed4(&c, "10.0.32.7", 1), 0);

	snprintf(many + off, sizeof(many) - off, ",10.0.99.0/24");
	parse1(&c, "MPTCPSHIM_PEERS", many);
	ck_assert_int_eq(warn_calls, 1);
	ck_assert_int_eq(c.peers_all, 1);
	ck_assert_uint_eq(c.npeers, 0);
}
END_TEST

START_TEST(test_config_plain_cache_ttl)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_PLAIN_CACHE_TTL", "60");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.plain_cache_ttl, 60);
	check_defaults_except(&c, "PLAIN_CACHE_TTL");

	parse1(&c, "MPTCPSHIM_PLAIN_CACHE_TTL", "86400");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.plain_cache_ttl, 86400);

	static const char *bad[] = { "bad", "-1", "60s", "1e3", "99999999999999999999" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_PLAIN_CACHE_TTL", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_PLAIN_CACHE_TTL=\"%s\": %d warnings",
			      bad[i], warn_calls);
		ck_assert_uint_eq(c.plain_cache_ttl, 300);
		check_defaults(&c);
	}
}
END_TEST

/* MPTCPSHIM_RESUME: the ticket lifetime, 0 (off) to 86400; a bad value
 * warns and keeps 600 (resumption on). */
START_TEST(test_config_resume)
{
	struct mps_config c;
	static const char *good[] = { "0", "1", "86400" };
	static const unsigned want[] = { 0, 1, 86400 };
	for (size_t i = 0; i < NELEM(good); i++) {
		parse1(&c, "MPTCPSHIM_RESUME", good[i]);
		ck_assert_int_eq(warn_calls, 0);
		ck_assert_uint_eq(c.resume_ttl, want[i]);
		check_defaults_except(&c, "RESUME");
	}
	static const char *bad[] = { "86401", "-1", "off", "10m", "1 " };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_RESUME", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_RESUME=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_uint_eq(c.resume_ttl, 600);
		check_defaults(&c);
	}
}
END_TEST

START_TEST(test_config_peer_cache)
{
	struct mps_config c;
	char def[64];

	snprintf(def, sizeof(def), "/tmp/mptcpshim-peers-%u", (unsigned)geteuid());
	parse1(&c, "MPTCPSHIM_LOG", "info");
	ck_assert_str_eq(c.peer_cache, def);

	parse1(&c, "MPTCPSHIM_PEER_CACHE", "/run/user/1000/peers");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_str_eq(c.peer_cache, "/run/user/1000/peers");
	check_defaults(&c);

	parse1(&c, "MPTCPSHIM_PEER_CACHE", "none");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_str_eq(c.peer_cache, "");

	static const char *bad[] = { "peers", "./peers", "~/peers" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_PEER_CACHE", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_PEER_CACHE=\"%s\": %d warnings",
			      bad[i], warn_calls);
		ck_assert_str_eq(c.peer_cache, def);
	}
	char longp[400];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	parse1(&c, "MPTCPSHIM_PEER_CACHE", longp);
	ck_assert_int_eq(warn_calls, 1);
	ck_assert_str_eq(c.peer_cache, def);
}
END_TEST

START_TEST(test_config_policy)
{
	struct mps_config c;

	parse1(&c, "MPTCPSHIM_LOG", "info");
	ck_assert_str_eq(c.policy_file, "");
	parse1(&c, "MPTCPSHIM_POLICY", "/home/ann/.mptcpshim");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_str_eq(c.policy_file, "/home/ann/.mptcpshim");
	static const char *bad[] = { "policy", "./policy", "~/policy" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_POLICY", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_POLICY=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_str_eq(c.policy_file, "");
	}
	char longp[300];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	parse1(&c, "MPTCPSHIM_POLICY", longp);
	ck_assert_int_eq(warn_calls, 1);
	ck_assert_str_eq(c.policy_file, "");
	/* the new scheduler is a valid MPTCPSHIM_SCHEDULER */
	parse1(&c, "MPTCPSHIM_SCHEDULER", "ecf");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_str_eq(c.scheduler, "ecf");
}
END_TEST

START_TEST(test_config_join_ports)
{
	struct mps_config c;

	parse1(&c, "MPTCPSHIM_LOG", "info");
	ck_assert_uint_eq(c.join_port_lo, 0);
	ck_assert_uint_eq(c.join_port_hi, 0);

	parse1(&c, "MPTCPSHIM_JOIN_PORTS", "40000-40009");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.join_port_lo, 40000);
	ck_assert_uint_eq(c.join_port_hi, 40009);
	check_defaults(&c);

	parse1(&c, "MPTCPSHIM_JOIN_PORTS", "443");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.join_port_lo, 443);
	ck_assert_uint_eq(c.join_port_hi, 443);

	parse1(&c, "MPTCPSHIM_JOIN_PORTS", "1-65535");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.join_port_hi, 65535);

	static const char *bad[] = { "0", "65536", "40009-40000", "40000-", "-40000", "a-b",
				     "40000-40009-40010", " 40000", "40000 ", "1234567890123456789" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_JOIN_PORTS", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_JOIN_PORTS=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_uint_eq(c.join_port_lo, 0);
		ck_assert_uint_eq(c.join_port_hi, 0);
	}
}
END_TEST

START_TEST(test_config_sndbuf)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_SNDBUF", "1048576");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.sndbuf, 1048576);
	check_defaults_except(&c, "SNDBUF");

	parse1(&c, "MPTCPSHIM_SNDBUF", "65536");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.sndbuf, 65536);

	static const char *bad[] = { "bad", "65535", "0", "1", "-1048576", "1048576x",
				     "99999999999999999999999" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_SNDBUF", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_SNDBUF=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_uint_eq(c.sndbuf, 4194304);
		check_defaults(&c);
	}
}
END_TEST

/* Every numeric variable: a value out of its range (too small, too large)
 * or not a plain decimal gives exactly one warning and keeps every default
 * (MPTCPSHIM_SNDBUF=10 once went unreported: see check_warnonce). */
START_TEST(test_config_numeric_ranges)
{
	static const struct {
		const char *name, *value;
	} bad[] = {
		{ "MPTCPSHIM_SNDBUF", "10" },
		{ "MPTCPSHIM_SNDBUF", "1073741825" },
		{ "MPTCPSHIM_SNDBUF", "4M" },
		{ "MPTCPSHIM_PLAIN_CACHE_TTL", "604801" },
		{ "MPTCPSHIM_PLAIN_CACHE_TTL", "-1" },
		{ "MPTCPSHIM_MAX_SUBFLOWS", "0" },
		{ "MPTCPSHIM_MAX_SUBFLOWS", "33" },
		{ "MPTCPSHIM_SUBFLOWS_PER_PATH", "0" },
		{ "MPTCPSHIM_SUBFLOWS_PER_PATH", "9" },
		{ "MPTCPSHIM_OUTAGE_TIMEOUT", "0" },
		{ "MPTCPSHIM_OUTAGE_TIMEOUT", "3601" },
		{ "MPTCPSHIM_OUTAGE_TIMEOUT", "1.5" },
		{ "MPTCPSHIM_JOIN_PORTS", "0" },
		{ "MPTCPSHIM_JOIN_PORTS", "65536" },
		{ "MPTCPSHIM_JOIN_PORTS", "2000-1000" },
		{ "MPTCPSHIM_JOIN_DELAY", "60001" },
		{ "MPTCPSHIM_JOIN_DELAY", "0.5" },
		{ "MPTCPSHIM_JOIN_BYTES", "1073741825" },
		{ "MPTCPSHIM_JOIN_BYTES", "64K" },
	};
	struct mps_config c;

	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, bad[i].name, bad[i].value);
		ck_assert_msg(warn_calls == 1, "%s=\"%s\": %d warnings", bad[i].name, bad[i].value,
			      warn_calls);
		ck_assert_msg(strstr(last_warn, bad[i].name) && strstr(last_warn, "keeping the default"),
			      "%s=\"%s\": warning \"%s\"", bad[i].name, bad[i].value, last_warn);
		check_defaults(&c);
		ck_assert_uint_eq(c.outage_timeout, 30);
		ck_assert_uint_eq(c.join_port_lo, 0);
		ck_assert_uint_eq(c.join_delay_ms, 200);
		ck_assert_uint_eq(c.join_bytes, 65536);
	}
}
END_TEST

/* Lazy joins (issue 15): the two thresholds, 0 allowed (join at once). */
START_TEST(test_config_join_gate)
{
	struct mps_config c;

	parse1(&c, "MPTCPSHIM_JOIN_DELAY", "0");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.join_delay_ms, 0);
	ck_assert_uint_eq(c.join_bytes, 65536);
	parse1(&c, "MPTCPSHIM_JOIN_DELAY", "60000");
	ck_assert_uint_eq(c.join_delay_ms, 60000);
	parse1(&c, "MPTCPSHIM_JOIN_BYTES", "0");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.join_bytes, 0);
	ck_assert_uint_eq(c.join_delay_ms, 200);
	parse1(&c, "MPTCPSHIM_JOIN_BYTES", "1048576");
	ck_assert_uint_eq(c.join_bytes, 1048576);
}
END_TEST

/* MPTCPSHIM_WARNED: the digests of the lines a command already printed. */
START_TEST(test_config_warned_marker)
{
	const char *a = "config: ignoring MPTCPSHIM_SCHEDULER=\"x\": ...";
	const char *b = "config: ignoring MPTCPSHIM_SNDBUF=\"10\": ...";
	char mark[32], da[12], db[12];

	ck_assert_uint_eq(mps_config_warn_digest(a), mps_config_warn_digest(a));
	ck_assert_uint_ne(mps_config_warn_digest(a), mps_config_warn_digest(b));
	snprintf(da, sizeof(da), "%08x", (unsigned)mps_config_warn_digest(a));
	snprintf(db, sizeof(db), "%08x", (unsigned)mps_config_warn_digest(b));
	ck_assert_int_eq(mps_config_warned(NULL, a), 0);
	ck_assert_int_eq(mps_config_warned("", a), 0);
	ck_assert_int_eq(mps_config_warned(da, a), 1);
	ck_assert_int_eq(mps_config_warned(da, b), 0);
	snprintf(mark, sizeof(mark), "%s,%s", db, da);
	ck_assert_int_eq(mps_config_warned(mark, a), 1);
	ck_assert_int_eq(mps_config_warned(mark, b), 1);
	/* a prefix or a longer token is not the digest */
	snprintf(mark, sizeof(mark), "%.7s", da);
	ck_assert_int_eq(mps_config_warned(mark, a), 0);
	snprintf(mark, sizeof(mark), "%s0", da);
	ck_assert_int_eq(mps_config_warned(mark, a), 0);
	snprintf(mark, sizeof(mark), "x,%s", da);
	ck_assert_int_eq(mps_config_warned(mark, a), 1);
}
END_TEST

START_TEST(test_config_log_file)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_LOG_FILE", "/tmp/x");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_str_eq(c.log_file, "/tmp/x");
	check_defaults_except(&c, "LOG_FILE");

	/* the longest path that fits */
	static char longest[256];
	memset(longest, 'a', 255);
	longest[0] = '/';
	longest[255] = '\0';
	parse1(&c, "MPTCPSHIM_LOG_FILE", longest);
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_str_eq(c.log_file, longest);

	/* one more does not fit: never silently truncated */
	static char toolong[257];
	memset(toolong, 'b', 256);
	toolong[0] = '/';
	toolong[256] = '\0';
	parse1(&c, "MPTCPSHIM_LOG_FILE", toolong);
	ck_assert_int_eq(warn_calls, 1);
	ck_assert_str_eq(c.log_file, "");
}
END_TEST

START_TEST(test_config_all_set)
{
	struct mps_config c;
	env_reset();
	env_set("MPTCPSHIM_DISABLE", "1");
	env_set("MPTCPSHIM_LOG", "debug");
	env_set("MPTCPSHIM_LOG_FILE", "/var/log/shim.log");
	env_set("MPTCPSHIM_PEERS", "10.0.0.0/8");
	env_set("MPTCPSHIM_PLAIN_CACHE_TTL", "5");
	env_set("MPTCPSHIM_SNDBUF", "131072");
	parse(&c);
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(c.disabled, 1);
	ck_assert_int_eq(c.log_level, MPS_LOG_DEBUG);
	ck_assert_str_eq(c.log_file, "/var/log/shim.log");
	ck_assert_int_eq(c.peers_all, 0);
	ck_assert_uint_eq(c.npeers, 1);
	ck_assert_uint_eq(c.plain_cache_ttl, 5);
	ck_assert_uint_eq(c.sndbuf, 131072);

	/* each bad variable warns once; the good ones still apply */
	env_reset();
	env_set("MPTCPSHIM_DISABLE", "maybe");
	env_set("MPTCPSHIM_LOG", "loud");
	env_set("MPTCPSHIM_PEERS", "10.0.0.0/8");
	env_set("MPTCPSHIM_PLAIN_CACHE_TTL", "x");
	env_set("MPTCPSHIM_SNDBUF", "100");
	parse(&c);
	ck_assert_int_eq(warn_calls, 4);
	ck_assert_int_eq(c.disabled, 0);
	ck_assert_int_eq(c.log_level, MPS_LOG_WARN);
	ck_assert_int_eq(c.peers_all, 0);
	ck_assert_uint_eq(c.npeers, 1);
	ck_assert_uint_eq(c.plain_cache_ttl, 300);
	ck_assert_uint_eq(c.sndbuf, 4194304);
}
END_TEST

/* A numeric variable: every good value is taken, every bad one warns once
 * and keeps the default (and nothing else changes). */
static unsigned get_max_subflows(const struct mps_config *c) { return c->max_subflows; }
static unsigned get_per_path(const struct mps_config *c) { return c->subflows_per_path; }

static void check_count_var(const char *var, const char *short_name,
			    unsigned (*field)(const struct mps_config *), unsigned lo, unsigned hi,
			    unsigned def)
{
	struct mps_config c;
	char v[32];
	for (unsigned k = lo; k <= hi; k++) {
		snprintf(v, sizeof(v), "%u", k);
		parse1(&c, var, v);
		ck_assert_int_eq(warn_calls, 0);
		unsigned got = field(&c);
		ck_assert_msg(got == k, "%s=%s: %u", var, v, got);
		check_defaults_except(&c, short_name);
	}
	char above[16], below[16];
	snprintf(above, sizeof(above), "%u", hi + 1);
	snprintf(below, sizeof(below), "%u", lo - 1);
	const char *bad[] = { above, below, "-1", "x", "2x", "1.5", " 2", "+2", "0x4",
			      "99999999999999999999999", "1000" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, var, bad[i]);
		ck_assert_msg(warn_calls == 1, "%s=\"%s\": %d warnings", var, bad[i], warn_calls);
		ck_assert_msg(strstr(last_warn, var) != NULL, "warning does not name %s: %s", var,
			      last_warn);
		ck_assert_uint_eq(field(&c), def);
		check_defaults(&c);
	}
	/* empty counts as unset */
	parse1(&c, var, "");
	ck_assert_int_eq(warn_calls, 0);
	check_defaults(&c);
}

START_TEST(test_config_max_subflows)
{
	check_count_var("MPTCPSHIM_MAX_SUBFLOWS", "MAX_SUBFLOWS", get_max_subflows, 1, MPS_MAX_SUBFLOWS, 8);
}
END_TEST

START_TEST(test_config_subflows_per_path)
{
	check_count_var("MPTCPSHIM_SUBFLOWS_PER_PATH", "SUBFLOWS_PER_PATH", get_per_path, 1, 8, 1);
}
END_TEST

/* INTERFACES and EXCLUDE: the same syntax, each into its own list. */
static void check_iflist_var(const char *var, const char *short_name, int excl)
{
	struct mps_config c;
#define LIST(c) (excl ? (c).exclude : (c).interfaces)
#define NLIST(c) (excl ? (c).nexclude : (c).ninterfaces)
	parse1(&c, var, "eth0");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(NLIST(c), 1);
	ck_assert_str_eq(LIST(c)[0], "eth0");
	check_defaults_except(&c, short_name);

	parse1(&c, var, "eth0,wlan0, usb0 ,enp0s31f6,br-lan,veth.10");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(NLIST(c), 6);
	ck_assert_str_eq(LIST(c)[0], "eth0");
	ck_assert_str_eq(LIST(c)[1], "wlan0");
	ck_assert_str_eq(LIST(c)[2], "usb0");
	ck_assert_str_eq(LIST(c)[3], "enp0s31f6");
	ck_assert_str_eq(LIST(c)[4], "br-lan");
	ck_assert_str_eq(LIST(c)[5], "veth.10");
	check_defaults_except(&c, short_name);

	/* 15 bytes is the longest name */
	parse1(&c, var, "abcdefghijklmno");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_str_eq(LIST(c)[0], "abcdefghijklmno");

	/* 16 entries fit, 17 do not */
	char many[512];
	size_t off = 0;
	for (int i = 0; i < MPS_MAX_IFLIST; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%seth%d", i ? "," : "", i);
	parse1(&c, var, many);
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(NLIST(c), MPS_MAX_IFLIST);
	ck_assert_str_eq(LIST(c)[15], "eth15");
	snprintf(many + off, sizeof(many) - off, ",eth99");
	parse1(&c, var, many);
	ck_assert_int_eq(warn_calls, 1);
	check_defaults(&c);

	static const char *bad[] = {
		"abcdefghijklmnop", /* 16 bytes */
		"eth0,abcdefghijklmnopqrstuvwxyz",
		"eth0:1",
		"a/b",
		".",
		"..",
		",",
		" , ",
		"eth0,\t",
		"eth\x01",
		"192.0.2.1:80",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, var, bad[i]);
		ck_assert_msg(warn_calls == 1, "%s=\"%s\": %d warnings", var, bad[i], warn_calls);
		ck_assert_msg(strstr(last_warn, var) != NULL, "warning: %s", last_warn);
		ck_assert_uint_eq(NLIST(c), 0);
		check_defaults(&c);
	}
	/* control characters and tabs, written out (the table above is text) */
	static const char *ctl[] = { "eth0,\tx", "et\x01h", "eth\x7f" };
	for (size_t i = 0; i < NELEM(ctl); i++) {
		parse1(&c, var, ctl[i]);
		ck_assert_int_eq(warn_calls, 1);
		ck_assert_uint_eq(NLIST(c), 0);
	}
#undef LIST
#undef NLIST
}

START_TEST(test_config_interfaces)
{
	check_iflist_var("MPTCPSHIM_INTERFACES", "INTERFACES", 0);
}
END_TEST

START_TEST(test_config_exclude)
{
	check_iflist_var("MPTCPSHIM_EXCLUDE", "EXCLUDE", 1);
}
END_TEST

START_TEST(test_config_advertise)
{
	struct mps_config c;
	parse1(&c, "MPTCPSHIM_ADVERTISE", "all");
	ck_assert_int_eq(warn_calls, 0);
	check_defaults(&c);

	parse1(&c, "MPTCPSHIM_ADVERTISE", "none");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(c.advertise_all, 0);
	ck_assert_uint_eq(c.nadvertise, 0);
	check_defaults_except(&c, "ADVERTISE");

	parse1(&c, "MPTCPSHIM_ADVERTISE",
	       "eth1,198.51.100.7, 2001:db8::7,::ffff:192.0.2.1,"
	       "2001:0db8:0000:0000:0000:0000:0000:0001");
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_int_eq(c.advertise_all, 0);
	ck_assert_uint_eq(c.nadvertise, 5);
	ck_assert_str_eq(c.advertise[0], "eth1");
	ck_assert_str_eq(c.advertise[1], "198.51.100.7");
	ck_assert_str_eq(c.advertise[2], "2001:db8::7");
	ck_assert_str_eq(c.advertise[3], "::ffff:192.0.2.1");
	ck_assert_str_eq(c.advertise[4], "2001:0db8:0000:0000:0000:0000:0000:0001");
	check_defaults_except(&c, "ADVERTISE");

	/* 16 entries fit, 17 do not */
	char many[1024];
	size_t off = 0;
	for (int i = 0; i < MPS_MAX_IFLIST; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "%s10.0.0.%d", i ? "," : "",
					i);
	parse1(&c, "MPTCPSHIM_ADVERTISE", many);
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.nadvertise, MPS_MAX_IFLIST);
	snprintf(many + off, sizeof(many) - off, ",eth0");
	parse1(&c, "MPTCPSHIM_ADVERTISE", many);
	ck_assert_int_eq(warn_calls, 1);
	check_defaults(&c);

	static const char *bad[] = {
		"all,eth0",       "none,eth0",      "eth0,none",  "eth0 all",
		"300.1.1.1",      "10.0.0.0/8", "[2001:db8::1]",
		"fe80::1%eth0",   "gggg::1",        "192.0.2.1:80", "abcdefghijklmnop",
		",",              "eth0:1",         "2001:db8::1/64",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_ADVERTISE", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_ADVERTISE=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_int_eq(c.advertise_all, 1);
		ck_assert_uint_eq(c.nadvertise, 0);
		check_defaults(&c);
	}
}
END_TEST

START_TEST(test_config_scheduler)
{
	static const char *ok[] = { "default", "roundrobin", "redundant" };
	struct mps_config c;
	for (size_t i = 0; i < NELEM(ok); i++) {
		parse1(&c, "MPTCPSHIM_SCHEDULER", ok[i]);
		ck_assert_int_eq(warn_calls, 0);
		ck_assert_str_eq(c.scheduler, ok[i]);
		check_defaults_except(&c, "SCHEDULER");
	}
	static const char *bad[] = { "Default", "rr", "round-robin", "redundant ", "blest",
				     "roundrobinroundrobin", "minrtt", "0" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_SCHEDULER", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_SCHEDULER=\"%s\": %d warnings", bad[i],
			      warn_calls);
		ck_assert_str_eq(c.scheduler, "default");
		check_defaults(&c);
	}
}
END_TEST

/* MPTCPSHIM_CC: the three algorithms and auto; anything else warns once and
 * keeps the default, auto. */
START_TEST(test_config_cc)
{
	static const char *ok[] = { "uncoupled", "lia", "olia", "auto" };
	struct mps_config c;
	for (size_t i = 0; i < NELEM(ok); i++) {
		parse1(&c, "MPTCPSHIM_CC", ok[i]);
		ck_assert_int_eq(warn_calls, 0);
		ck_assert_str_eq(c.cc, ok[i]);
		check_defaults_except(&c, "CC");
	}
	static const char *bad[] = { "LIA", "lia ", "balia", "coupled", "cubic", "0",
				     "uncoupleduncoupled" };
	for (size_t i = 0; i < NELEM(bad); i++) {
		parse1(&c, "MPTCPSHIM_CC", bad[i]);
		ck_assert_msg(warn_calls == 1, "MPTCPSHIM_CC=\"%s\": %d warnings", bad[i], warn_calls);
		ck_assert_str_eq(c.cc, "auto");
		check_defaults(&c);
	}
}
END_TEST

/* The multipath variables together, and each bad one warning once. */
START_TEST(test_config_mp_all_set)
{
	struct mps_config c;
	env_reset();
	env_set("MPTCPSHIM_MAX_SUBFLOWS", "4");
	env_set("MPTCPSHIM_SUBFLOWS_PER_PATH", "2");
	env_set("MPTCPSHIM_INTERFACES", "eth0,eth1");
	env_set("MPTCPSHIM_EXCLUDE", "eth1");
	env_set("MPTCPSHIM_ADVERTISE", "eth0,192.0.2.9");
	env_set("MPTCPSHIM_SCHEDULER", "roundrobin");
	env_set("MPTCPSHIM_SNDBUF", "131072");
	parse(&c);
	ck_assert_int_eq(warn_calls, 0);
	ck_assert_uint_eq(c.max_subflows, 4);
	ck_assert_uint_eq(c.subflows_per_path, 2);
	ck_assert_uint_eq(c.ninterfaces, 2);
	ck_assert_str_eq(c.interfaces[1], "eth1");
	ck_assert_uint_eq(c.nexclude, 1);
	ck_assert_str_eq(c.exclude[0], "eth1");
	ck_assert_int_eq(c.advertise_all, 0);
	ck_assert_uint_eq(c.nadvertise, 2);
	ck_assert_str_eq(c.scheduler, "roundrobin");
	ck_assert_uint_eq(c.sndbuf, 131072);

	env_reset();
	env_set("MPTCPSHIM_MAX_SUBFLOWS", "33");
	env_set("MPTCPSHIM_SUBFLOWS_PER_PATH", "0");
	env_set("MPTCPSHIM_INTERFACES", "eth0/1");
	env_set("MPTCPSHIM_EXCLUDE", "wlan0"); /* good */
	env_set("MPTCPSHIM_ADVERTISE", "eth0,all");
	env_set("MPTCPSHIM_SCHEDULER", "fastest");
	parse(&c);
	ck_assert_int_eq(warn_calls, 5);
	ck_assert_uint_eq(c.max_subflows, 8);
	ck_assert_uint_eq(c.subflows_per_path, 1);
	ck_assert_uint_eq(c.ninterfaces, 0);
	ck_assert_uint_eq(c.nexclude, 1);
	ck_assert_int_eq(c.advertise_all, 1);
	ck_assert_uint_eq(c.nadvertise, 0);
	ck_assert_str_eq(c.scheduler, "default");

	/* empty values count as unset */
	env_reset();
	env_set("MPTCPSHIM_MAX_SUBFLOWS", "");
	env_set("MPTCPSHIM_SUBFLOWS_PER_PATH", "");
	env_set("MPTCPSHIM_INTERFACES", "");
	env_set("MPTCPSHIM_EXCLUDE", "");
	env_set("MPTCPSHIM_ADVERTISE", "");
	env_set("MPTCPSHIM_SCHEDULER", "");
	parse(&c);
	ck_assert_int_eq(warn_calls, 0);
	check_defaults(&c);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_config_defaults);
	tcase_add_test(tc, test_config_log_level);
	tcase_add_test(tc, test_config_disable);
	tcase_add_test(tc, test_config_kernel_mptcp);
	tcase_add_test(tc, test_config_log_file);
	tcase_add_test(tc, test_config_plain_cache_ttl);
	tcase_add_test(tc, test_config_resume);
	tcase_add_test(tc, test_config_peer_cache);
	tcase_add_test(tc, test_config_policy);
	tcase_add_test(tc, test_config_join_ports);
	tcase_add_test(tc, test_config_sndbuf);
	tcase_add_test(tc, test_config_numeric_ranges);
	tcase_add_test(tc, test_config_warned_marker);
	tcase_add_test(tc, test_config_all_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("peers");
	tcase_add_test(tc, test_config_peers_rules);
	tcase_add_test(tc, test_config_peers_prefix_edges);
	tcase_add_test(tc, test_config_peers_v4mapped);
	tcase_add_test(tc, test_config_peers_all_none);
	tcase_add_test(tc, test_config_peers_bad);
	tcase_add_test(tc, test_config_peers_too_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("multipath");
	tcase_add_test(tc, test_config_max_subflows);
	tcase_add_test(tc, test_config_subflows_per_path);
	tcase_add_test(tc, test_config_interfaces);
	tcase_add_test(tc, test_config_exclude);
	tcase_add_test(tc, test_config_advertise);
	tcase_add_test(tc, test_config_scheduler);
	tcase_add_test(tc, test_config_cc);
	tcase_add_test(tc, test_config_mp_all_set);
	tcase_add_test(tc, test_config_join_gate);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
