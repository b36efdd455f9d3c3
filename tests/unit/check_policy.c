/* check_policy.c - the policy file's parser and matcher
 * (include/mptcpshim/policy.h) and the name cache (namecache.h). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/namecache.h"
#include "mptcpshim/policy.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct mps_policy pol;
static char err[256];

static int parse(const char *text)
{
	return mps_policy_parse(&pol, text, strlen(text), "/etc/p.conf", err, sizeof(err));
}

static struct mps_pol_query q4(const char *addr, uint16_t port, const char *host, const char *prog,
                               int side)
{
	struct mps_pol_query q;

	memset(&q, 0, sizeof(q));
	if (inet_pton(AF_INET, addr, q.addr) == 1) {
		q.family = AF_INET;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, q.addr), 1);
		q.family = AF_INET6;
	}
	q.port = port;
	q.host = host;
	q.program = prog;
	q.side = side;
	return q;
}

/* The man page's example, as written there. */
static const char example[] =
        "# SSH, interactive: every byte on every path\n"
        "port=22 scheduler=redundant\n"
        "program=ssh,scp scheduler=redundant\n"
        "\n"
        "# bulk transfers: aggregate the paths\n"
        "program=rsync,curl,wget  scheduler=default subflows=2\n"
        "host=*.mirror.example.org,mirror.example.org scheduler=ecf\n"
        "\n"
        "# the office network never uses LTE; elsewhere LTE is only a backup\n"
        "dst=198.18.0.0/16,2001:db8::/32 interfaces=eth0,wlan0\t# wired or Wi-Fi\n"
        "backup=wwan0 gateway=no\n";

START_TEST(test_policy_example)
{
	struct mps_pol_action a;
	struct mps_pol_query q;

	ck_assert_int_eq(parse(example), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(pol.nrules, 6);
	ck_assert_uint_eq(pol.rule[0].line, 2);
	ck_assert_uint_eq(pol.rule[5].line, 11);
	ck_assert_uint_eq(pol.rule[0].nport, 1);
	ck_assert_uint_eq(pol.rule[0].port_lo[0], 22);
	ck_assert_uint_eq(pol.rule[0].port_hi[0], 22);
	ck_assert_str_eq(pol.rule[0].act.scheduler, "redundant");
	ck_assert_uint_eq(pol.rule[2].nprog, 3);
	ck_assert_str_eq(pol.rule[2].prog[2], "wget");
	ck_assert_uint_eq(pol.rule[2].act.subflows, 2);
	ck_assert_uint_eq(pol.rule[4].ndst, 2);
	ck_assert_int_eq(pol.rule[4].dst[1].family, AF_INET6);
	ck_assert_uint_eq(pol.rule[4].dst[1].bits, 32);
	ck_assert_uint_eq(pol.rule[4].act.nifaces, 2);
	ck_assert_str_eq(pol.rule[4].act.ifaces[1], "wlan0");

	/* ssh to the office: redundant from line 2, interfaces from line 10,
	 * backup and gateway from line 11 (first setter wins). */
	q = q4("198.18.1.2", 22, NULL, "ssh", MPS_POL_CLIENT);
	ck_assert_int_eq(mps_policy_match(&pol, &q, &a), 4);
	ck_assert_uint_eq(a.set, MPS_POL_SCHED | MPS_POL_IFACES | MPS_POL_BACKUP | MPS_POL_GATEWAY);
	ck_assert_str_eq(a.scheduler, "redundant");
	ck_assert_uint_eq(a.line[0], 2);
	ck_assert_uint_eq(a.nifaces, 2);
	ck_assert_uint_eq(a.line[1], 10);
	ck_assert_uint_eq(a.nbackup, 1);
	ck_assert_str_eq(a.backup[0], "wwan0");
	ck_assert_uint_eq(a.line[2], 11);
	ck_assert_uint_eq(a.gateway, 0);
	ck_assert_uint_eq(a.line[4], 11);
	/* curl elsewhere: default, 2 subflows, LTE as backup, no interface list. */
	q = q4("203.0.113.9", 443, NULL, "curl", MPS_POL_CLIENT);
	ck_assert_int_eq(mps_policy_match(&pol, &q, &a), 2);
	ck_assert_str_eq(a.scheduler, "default");
	ck_assert_uint_eq(a.subflows, 2);
	ck_assert(!(a.set & MPS_POL_IFACES));
	ck_assert(a.set & MPS_POL_BACKUP);
	/* a mirror by name (any case, trailing dot) */
	q = q4("203.0.113.9", 443, "FTP.Mirror.Example.ORG.", "python3", MPS_POL_CLIENT);
	mps_policy_match(&pol, &q, &a);
	ck_assert_str_eq(a.scheduler, "ecf");
	q.host = "mirror.example.org";
	mps_policy_match(&pol, &q, &a);
	ck_assert_str_eq(a.scheduler, "ecf");
	q.host = "evilmirror.example.org"; /* not below mirror.example.org */
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_SCHED));
	q.host = NULL; /* name unknown: a host= rule never matches */
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_SCHED));
	/* IPv6 in the office prefix, outside it */
	q = q4("2001:db8::5", 80, NULL, "x", MPS_POL_SERVER);
	mps_policy_match(&pol, &q, &a);
	ck_assert(a.set & MPS_POL_IFACES);
	q = q4("2001:db9::5", 80, NULL, "x", MPS_POL_SERVER);
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_IFACES));
	/* No policy at all: nothing set. */
	ck_assert_int_eq(mps_policy_match(NULL, &q, &a), 0);
	ck_assert_uint_eq(a.set, 0);
}
END_TEST

/* libmptcpshim(7)'s example, and what it says of an ssh session. */
START_TEST(test_policy_man_example)
{
	static const char man[] = "# interactive: every byte on every path (latency, loss)\n"
	                          "port=22 scheduler=redundant\n"
	                          "program=ssh,scp,mosh-client scheduler=redundant\n"
	                          "\n"
	                          "# bulk transfers: aggregate the paths, two subflows per path\n"
	                          "program=rsync,curl,wget scheduler=default subflows=2\n"
	                          "host=*.mirror.example.org scheduler=ecf\n"
	                          "\n"
	                          "# the office network: wired or Wi-Fi only\n"
	                          "dst=198.18.0.0/16 interfaces=eth0,wlan0\n"
	                          "\n"
	                          "# everywhere: LTE only while nothing else works\n"
	                          "backup=wwan0\n";
	struct mps_pol_action a;
	struct mps_pol_query q = q4("198.18.3.4", 22, NULL, "ssh", MPS_POL_CLIENT);

	ck_assert_int_eq(parse(man), 0);
	mps_policy_match(&pol, &q, &a);
	ck_assert_str_eq(a.scheduler, "redundant");
	ck_assert_uint_eq(a.line[0], 2);
	ck_assert_uint_eq(a.line[1], 10);
	ck_assert_str_eq(a.ifaces[1], "wlan0");
	ck_assert_uint_eq(a.line[2], 13);
	ck_assert_str_eq(a.backup[0], "wwan0");
}
END_TEST

START_TEST(test_policy_match_keys)
{
	struct mps_pol_action a;
	struct mps_pol_query q;

	ck_assert_int_eq(
	        parse("port=8000-8080,22 side=server dst=198.18.0.0/15 scheduler=roundrobin\n"
	              "dst=0.0.0.0/0 subflows=3\n"
	              "dst=::/0 subflows=4\n"
	              "dst=198.18.0.7 program=iperf3 scheduler=ecf\n"),
	        0);
	q = q4("198.19.255.1", 8080, NULL, "nginx", MPS_POL_SERVER);
	ck_assert_int_eq(mps_policy_match(&pol, &q, &a), 2);
	ck_assert_str_eq(a.scheduler, "roundrobin");
	ck_assert_uint_eq(a.subflows, 3);
	q.side = MPS_POL_CLIENT; /* side=server only */
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_SCHED));
	q = q4("198.19.255.1", 8081, NULL, "nginx", MPS_POL_SERVER);
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_SCHED));
	q = q4("198.20.0.1", 22, NULL, "nginx", MPS_POL_SERVER); /* outside /15 */
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_SCHED));
	/* /32 and a program */
	q = q4("198.18.0.7", 5201, NULL, "iperf3", MPS_POL_CLIENT);
	mps_policy_match(&pol, &q, &a);
	ck_assert_str_eq(a.scheduler, "ecf");
	q.program = NULL;
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_SCHED));
	q = q4("198.18.0.6", 5201, NULL, "iperf3", MPS_POL_CLIENT);
	mps_policy_match(&pol, &q, &a);
	ck_assert(!(a.set & MPS_POL_SCHED));
	/* an IPv4 prefix never matches IPv6, and ::/0 matches any IPv6 */
	q = q4("2001:db8::1", 1, NULL, NULL, MPS_POL_CLIENT);
	mps_policy_match(&pol, &q, &a);
	ck_assert_uint_eq(a.subflows, 4);
	ck_assert_uint_eq(a.line[3], 3);
}
END_TEST

START_TEST(test_policy_prefix_bits)
{
	struct mps_pol_action a;
	struct mps_pol_query q;

	ck_assert_int_eq(parse("dst=198.18.128.0/17 subflows=2\n"
	                       "dst=2001:db8:0:8000::/49 subflows=5\n"),
	                 0);
	q = q4("198.18.128.1", 1, NULL, NULL, 1);
	mps_policy_match(&pol, &q, &a);
	ck_assert_uint_eq(a.subflows, 2);
	q = q4("198.18.127.255", 1, NULL, NULL, 1);
	ck_assert_int_eq(mps_policy_match(&pol, &q, &a), 0);
	q = q4("2001:db8:0:ffff::1", 1, NULL, NULL, 1);
	mps_policy_match(&pol, &q, &a);
	ck_assert_uint_eq(a.subflows, 5);
	q = q4("2001:db8:0:7fff::1", 1, NULL, NULL, 1);
	ck_assert_int_eq(mps_policy_match(&pol, &q, &a), 0);
}
END_TEST

START_TEST(test_policy_empty_and_comments)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_uint_eq(pol.nrules, 0);
	ck_assert_int_eq(parse("\n\n   \t\r\n# only comments\n   # indented\n"), 0);
	ck_assert_uint_eq(pol.nrules, 0);
	/* CRLF line ends, no final newline, a comment right after a word */
	ck_assert_int_eq(parse("scheduler=ecf\r\nport=1 subflows=1 #x=y\r\nbackup=a"), 0);
	ck_assert_uint_eq(pol.nrules, 3);
	ck_assert_str_eq(pol.rule[2].act.backup[0], "a");
	/* exactly the limits */
	ck_assert_int_eq(parse("subflows=8 port=65535 backup=abcdefghijklmno"), 0);
	/* text not NUL-terminated: only len bytes are read */
	ck_assert_int_eq(mps_policy_parse(&pol, "subflows=1XXXX", 10, "f", err, sizeof(err)), 0);
	ck_assert_uint_eq(pol.rule[0].act.subflows, 1);
}
END_TEST

/* Every error: the message names file:line:column and the rules are gone. */
static const struct {
	const char *text;
	const char *where; /* "/etc/p.conf:L:C: " */
	const char *what;  /* a part of the message */
	int rc;
} bad[] = {
        {"scheduler", "/etc/p.conf:1:1: ", "expected KEY=VALUE", -EINVAL},
        {"\n  colour=red scheduler=ecf", "/etc/p.conf:2:3: ", "unknown key 'colour'", -EINVAL},
        {"=x", "/etc/p.conf:1:1: ", "unknown key ''", -EINVAL},
        {"port=22 port=23 scheduler=ecf", "/etc/p.conf:1:9: ", "'port' given twice", -EINVAL},
        {"port= scheduler=ecf", "/etc/p.conf:1:6: ", "no value for 'port'", -EINVAL},
        {"port=22", "/etc/p.conf:1:1: ", "this rule sets nothing", -EINVAL},
        {"port=22,,23 subflows=1", "/etc/p.conf:1:9: ", "empty entry in the list of 'port'",
         -EINVAL},
        {"port=22, subflows=1", "/etc/p.conf:1:9: ", "empty entry", -EINVAL},
        {"port=0 subflows=1", "/etc/p.conf:1:6: ", "bad port '0'", -EINVAL},
        {"port=65536 subflows=1", "/etc/p.conf:1:6: ", "bad port '65536'", -EINVAL},
        {"port=ssh subflows=1", "/etc/p.conf:1:6: ", "bad port 'ssh'", -EINVAL},
        {"port=1-x subflows=1", "/etc/p.conf:1:8: ", "bad port 'x'", -EINVAL},
        {"port=1- subflows=1", "/etc/p.conf:1:8: ", "bad port ''", -EINVAL},
        {"port=9-8 subflows=1", "/etc/p.conf:1:6: ", "empty port range '9-8'", -EINVAL},
        {"port=99999999999 subflows=1", "/etc/p.conf:1:6: ", "bad port", -EINVAL},
        {"dst=198.18.0.0/33 subflows=1", "/etc/p.conf:1:16: ", "bad prefix length '33'", -EINVAL},
        {"dst=::/129 subflows=1", "/etc/p.conf:1:8: ", "bad prefix length '129'", -EINVAL},
        {"dst=198.18.0.0/ subflows=1", "/etc/p.conf:1:16: ", "bad prefix length ''", -EINVAL},
        {"dst=198.18.0.0/x subflows=1", "/etc/p.conf:1:16: ", "bad prefix length 'x'", -EINVAL},
        {"dst=example.com subflows=1", "/etc/p.conf:1:5: ", "bad address 'example.com'", -EINVAL},
        {"dst=1.2.3.4,10.0.0.256/8 subflows=1", "/etc/p.conf:1:13: ", "bad address '10.0.0.256'",
         -EINVAL},
        {"dst=0000000000000000000000000000000000000000000000000000000000000000001 subflows=1",
         "/etc/p.conf:1:5: ", "bad address", -EINVAL},
        {"dst=1.1.1.1,1.1.1.1,1.1.1.1,1.1.1.1,1.1.1.1,1.1.1.1,1.1.1.1,1.1.1.1,1.1.1.1 subflows=1",
         "/etc/p.conf:1:69: ", "too many entries for 'dst'", -EINVAL},
        {"host=a..b subflows=1", "/etc/p.conf:1:7: ", "bad character in host name", -EINVAL},
        {"host=.a subflows=1", "/etc/p.conf:1:6: ", "bad host name '.a'", -EINVAL},
        {"host=a. subflows=1", "/etc/p.conf:1:6: ", "bad host name 'a.'", -EINVAL},
        {"host=*. subflows=1", "/etc/p.conf:1:8: ", "bad host name '*.'", -EINVAL},
        {"host=* subflows=1", "/etc/p.conf:1:6: ", "bad character in host name '*'", -EINVAL},
        {"host=a*b subflows=1", "/etc/p.conf:1:7: ", "bad character", -EINVAL},
        {"host=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa subflows=1",
         "/etc/p.conf:1:6: ", "host name too long", -EINVAL},
        {"program=/usr/bin/ssh subflows=1", "/etc/p.conf:1:9: ", "no '/'", -EINVAL},
        {"program=abcdefghijabcdefghijabcdefghijab subflows=1",
         "/etc/p.conf:1:9: ", "program name too long", -EINVAL},
        {"side=both subflows=1", "/etc/p.conf:1:6: ", "side is 'client' or 'server'", -EINVAL},
        {"scheduler=blest", "/etc/p.conf:1:11: ", "unknown scheduler 'blest'", -EINVAL},
        {"scheduler=aaaaaaaaaaaaaaaaaaaa", "/etc/p.conf:1:11: ", "unknown scheduler", -EINVAL},
        {"subflows=0", "/etc/p.conf:1:10: ", "subflows is 1..8, not '0'", -EINVAL},
        {"subflows=9", "/etc/p.conf:1:10: ", "subflows is 1..8", -EINVAL},
        {"subflows=-1", "/etc/p.conf:1:10: ", "subflows is 1..8", -EINVAL},
        {"gateway=on", "/etc/p.conf:1:9: ", "gateway is 'yes' or 'no'", -EINVAL},
        {"interfaces=eth0:1", "/etc/p.conf:1:16: ", "bad character in interface name", -EINVAL},
        {"backup=a/b", "/etc/p.conf:1:9: ", "bad character in interface name", -EINVAL},
        {"backup=abcdefghijklmnop",
         "/etc/p.conf:1:8: ", "interface name 'abcdefghijklmnop' too long", -EINVAL},
        {"backup=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q",
         "/etc/p.conf:1:40: ", "too many entries for 'backup'", -EINVAL},
        {"subflows=1\nsubflows=2\nport=x subflows=3", "/etc/p.conf:3:6: ", "bad port", -EINVAL},
};

START_TEST(test_policy_errors)
{
	size_t i;

	for (i = 0; i < NELEM(bad); i++) {
		/* a good rule first: it must not survive the error */
		char text[512];
		int rc;

		snprintf(text, sizeof(text), "%s", bad[i].text);
		rc = parse(text);
		ck_assert_msg(rc == bad[i].rc, "case %zu '%s': rc %d", i, bad[i].text, rc);
		ck_assert_msg(!strncmp(err, bad[i].where, strlen(bad[i].where)),
		              "case %zu '%s': '%s', expected at '%s'", i, bad[i].text, err,
		              bad[i].where);
		ck_assert_msg(strstr(err, bad[i].what), "case %zu: '%s' lacks '%s'", i, err,
		              bad[i].what);
		ck_assert_uint_eq(pol.nrules, 0);
	}
}
END_TEST

START_TEST(test_policy_limits)
{
	static char big[MPS_POL_MAX_FILE + 2];
	char text[MPS_POL_MAX_RULES * 12 + 32];
	size_t n = 0;
	int i;

	/* a NUL byte, with its column */
	ck_assert_int_eq(
	        mps_policy_parse(&pol, "subflows=1\nport=2\0 x", 20, "f", err, sizeof(err)),
	        -EINVAL);
	ck_assert_str_eq(err, "f:2:7: NUL byte in a text file");
	/* 64 rules fit, the 65th does not */
	for (i = 0; i < MPS_POL_MAX_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "subflows=1\n");
	ck_assert_int_eq(parse(text), 0);
	ck_assert_uint_eq(pol.nrules, MPS_POL_MAX_RULES);
	snprintf(text + n, sizeof(text) - n, "subflows=2\n");
	ck_assert_int_eq(parse(text), -EFBIG);
	ck_assert_str_eq(err, "/etc/p.conf:65:1: too many rules (at most 64)");
	ck_assert_uint_eq(pol.nrules, 0);
	/* the file size */
	memset(big, '\n', sizeof(big));
	ck_assert_int_eq(mps_policy_parse(&pol, big, MPS_POL_MAX_FILE, "f", err, sizeof(err)), 0);
	ck_assert_int_eq(mps_policy_parse(&pol, big, MPS_POL_MAX_FILE + 1, "f", err, sizeof(err)),
	                 -EFBIG);
	ck_assert_str_eq(err, "f:1:1: file too large (at most 65536 bytes)");
	/* no error buffer: same result, nothing written */
	ck_assert_int_eq(mps_policy_parse(&pol, "x", 1, "f", NULL, 0), -EINVAL);
	/* a NULL name still names something */
	ck_assert_int_eq(mps_policy_parse(&pol, "x", 1, NULL, err, sizeof(err)), -EINVAL);
	ck_assert(!strncmp(err, "policy:1:1: ", 12));
	/* a short error buffer is cut, NUL-terminated */
	ck_assert_int_eq(mps_policy_parse(&pol, "x", 1, "f", err, 5), -EINVAL);
	ck_assert_str_eq(err, "f:1:");
}
END_TEST

START_TEST(test_namecache)
{
	uint8_t a[16], b[16], m[16] = {[10] = 0xff, [11] = 0xff};
	char out[64];
	int i;

	mps_namecache_clear();
	inet_pton(AF_INET, "198.18.0.1", a);
	inet_pton(AF_INET6, "2001:db8::1", b);
	ck_assert_int_eq(mps_namecache_get(AF_INET, a, out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(mps_namecache_put(AF_INET, a, "one.example"), 0);
	ck_assert_int_eq(mps_namecache_put(AF_INET6, b, "six.example"), 0);
	ck_assert_int_eq(mps_namecache_get(AF_INET, a, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "one.example");
	ck_assert_int_eq(mps_namecache_get(AF_INET6, b, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "six.example");
	/* IPv4-mapped is the IPv4 address */
	memcpy(m + 12, a, 4);
	ck_assert_int_eq(mps_namecache_get(AF_INET6, m, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "one.example");
	/* the later name wins; too small a buffer: not found */
	ck_assert_int_eq(mps_namecache_put(AF_INET6, m, "two.example"), 0);
	ck_assert_int_eq(mps_namecache_get(AF_INET, a, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "two.example");
	ck_assert_int_eq(mps_namecache_get(AF_INET, a, out, 5), -ENOENT);
	/* bad input */
	ck_assert_int_eq(mps_namecache_put(AF_UNIX, a, "x"), -EINVAL);
	ck_assert_int_eq(mps_namecache_put(AF_INET, a, ""), -EINVAL);
	{
		char lng[80];

		memset(lng, 'a', 64); /* 64 bytes and the NUL: one too many */
		lng[64] = 0;
		ck_assert_int_eq(mps_namecache_put(AF_INET, a, lng), -EINVAL);
		lng[63] = 0; /* 63: the longest kept */
		ck_assert_int_eq(mps_namecache_put(AF_INET, a, lng), 0);
		ck_assert_int_eq(mps_namecache_get(AF_INET, a, lng, sizeof(lng)), 0);
		ck_assert_uint_eq(strlen(lng), 63);
	}
	ck_assert_int_eq(mps_namecache_get(AF_UNIX, a, out, sizeof(out)), -ENOENT);
	/* bounded: the oldest go first */
	for (i = 0; i < MPS_NAMECACHE_SIZE; i++) {
		uint8_t x[4] = {198, 19, (uint8_t)(i >> 8), (uint8_t)i};

		ck_assert_int_eq(mps_namecache_put(AF_INET, x, "many"), 0);
	}
	ck_assert_int_eq(mps_namecache_get(AF_INET, a, out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(mps_namecache_get(AF_INET6, b, out, sizeof(out)), -ENOENT);
	{
		uint8_t x[4] = {198, 19, 0, 5};

		ck_assert_int_eq(mps_namecache_get(AF_INET, x, out, sizeof(out)), 0);
	}
}
END_TEST

/* mps_policy_reload (src/steer.c): the file named by MPTCPSHIM_POLICY,
 * read anew; errors are returned (and logged), the rules in force kept. */
START_TEST(test_policy_reload)
{
	char path[] = "/tmp/check_policy.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	close(fd);
	setenv("MPTCPSHIM_POLICY", path, 1);
	setenv("MPTCPSHIM_LOG", "error", 1);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("port=22 scheduler=redundant\nbackup=wwan0\n", f);
	fclose(f);
	ck_assert_int_eq(mps_policy_reload(), 0);
	f = fopen(path, "w");
	fputs("port=22 scheduler=redundant\nbackup=wwan0:1\n", f);
	fclose(f);
	ck_assert_int_eq(mps_policy_reload(), -EINVAL);
	f = fopen(path, "w");
	for (int i = 0; i < 65; i++)
		fputs("subflows=1\n", f);
	fclose(f);
	ck_assert_int_eq(mps_policy_reload(), -EFBIG);
	unlink(path);
	ck_assert_int_eq(mps_policy_reload(), -ENOENT);
}
END_TEST

/* Without MPTCPSHIM_POLICY there is nothing to reload (its own process:
 * the configuration is read once). */
START_TEST(test_policy_reload_unset)
{
	unsetenv("MPTCPSHIM_POLICY");
	ck_assert_int_eq(mps_policy_reload(), -ENOENT);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_policy_example);
	tcase_add_test(tc, test_policy_man_example);
	tcase_add_test(tc, test_policy_match_keys);
	tcase_add_test(tc, test_policy_prefix_bits);
	tcase_add_test(tc, test_policy_empty_and_comments);
	tcase_add_test(tc, test_policy_errors);
	tcase_add_test(tc, test_policy_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("reload");
	tcase_add_test(tc, test_policy_reload);
	tcase_add_test(tc, test_policy_reload_unset);
	suite_add_tcase(s, tc);
	tc = tcase_create("namecache");
	tcase_add_test(tc, test_namecache);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
