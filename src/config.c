/* config.c - the MPTCPSHIM_* environment.  Every variable name the library
 * reads appears here and nowhere else; man/libmptcpshim.7 documents each. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "mptcpshim/cc.h"
#include "mptcpshim/config.h"
#include "mptcpshim/log.h"
#include "mptcpshim/sched.h"
#include "mptcpshim/util.h"

#define ENV_DISABLE "MPTCPSHIM_DISABLE"
#define ENV_LOG "MPTCPSHIM_LOG"
#define ENV_LOG_FILE "MPTCPSHIM_LOG_FILE"
#define ENV_PEERS "MPTCPSHIM_PEERS"
#define ENV_PLAIN_TTL "MPTCPSHIM_PLAIN_CACHE_TTL"
#define ENV_PEER_CACHE "MPTCPSHIM_PEER_CACHE"
#define ENV_SNDBUF "MPTCPSHIM_SNDBUF"
#define ENV_MAX_SUBFLOWS "MPTCPSHIM_MAX_SUBFLOWS"
#define ENV_SUBFLOWS_PER_PATH "MPTCPSHIM_SUBFLOWS_PER_PATH"
#define ENV_INTERFACES "MPTCPSHIM_INTERFACES"
#define ENV_EXCLUDE "MPTCPSHIM_EXCLUDE"
#define ENV_ADVERTISE "MPTCPSHIM_ADVERTISE"
#define ENV_SCHEDULER "MPTCPSHIM_SCHEDULER"
#define ENV_CC "MPTCPSHIM_CC"
#define ENV_BACKUP "MPTCPSHIM_BACKUP"
#define ENV_OUTAGE_TIMEOUT "MPTCPSHIM_OUTAGE_TIMEOUT"
#define ENV_JOIN_PORTS "MPTCPSHIM_JOIN_PORTS"
#define ENV_POLICY "MPTCPSHIM_POLICY"
#define ENV_COUNTERS_FILE "MPTCPSHIM_COUNTERS_FILE"
#define ENV_GATEWAY "MPTCPSHIM_GATEWAY"
#define ENV_GATEWAY_KEY_FILE "MPTCPSHIM_GATEWAY_KEY_FILE"
#define ENV_GATEWAY_FOR "MPTCPSHIM_GATEWAY_FOR"
#define ENV_GATEWAY_FALLBACK "MPTCPSHIM_GATEWAY_FALLBACK"
#define ENV_JOIN_DELAY "MPTCPSHIM_JOIN_DELAY"
#define ENV_JOIN_BYTES "MPTCPSHIM_JOIN_BYTES"
#define ENV_KERNEL_MPTCP "MPTCPSHIM_KERNEL_MPTCP"
#define ENV_CONTROL "MPTCPSHIM_CONTROL"
#define ENV_HANDOVER "MPTCPSHIM_HANDOVER"
#define ENV_DEFER_ACCEPT "MPTCPSHIM_DEFER_ACCEPT"
#define ENV_HANDOVER_EXEC "MPTCPSHIM_HANDOVER_EXEC"
#define ENV_RESUME "MPTCPSHIM_RESUME"
#define ENV_DIRECT "MPTCPSHIM_DIRECT"
#define ENV_INLINE "MPTCPSHIM_INLINE"
/* Internal: set by our exec hooks for the new image (src/inherit.c). */
#define ENV_INHERIT "MPTCPSHIM_INHERIT"
/* Internal: the memfd of connections carried across exec (handover_exec.c). */
#define ENV_EXECSTATE "MPTCPSHIM_EXECSTATE"
/* Internal: set by the first process of a command that warned about its
 * environment, so its children and the programs they run stay quiet about
 * the same bad values (its value is a digest of the warnings). */
#define ENV_WARNED "MPTCPSHIM_WARNED"

const char mps_env_inherit[] = ENV_INHERIT;
const char mps_env_execstate[] = ENV_EXECSTATE;

static void warnf(mps_warn_fn warn, const char *var, const char *val, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "config: ignoring %s=\"%.64s\": %s; keeping the default", var,
		 val, why);
	warn(msg);
}

/* Parse an unsigned decimal in [lo, hi].  0 on success. */
static int parse_ulong(const char *s, unsigned long long lo, unsigned long long hi,
		       unsigned long long *out)
{
	char *end;
	unsigned long long v;

	/* strtoull alone would also take " 8", "+8" and "-8" (wrapped) */
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* One PEERS entry: ADDR[/PREFIX][:PORT], IPv6 as [ADDR]:PORT or ADDR[/PREFIX]. */
static int parse_rule(const char *s, struct mps_peer_rule *r)
{
	char buf[128], *addr = buf, *slash, *port = NULL;
	unsigned long long v;
	int maxbits;

	if (strlen(s) >= sizeof(buf) || !*s)
		return -1;
	strcpy(buf, s);
	memset(r, 0, sizeof(*r));
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return -1;
		*close = '\0';
		addr = buf + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] == '/') {
			/* [addr]/prefix is not a form we accept: keep it simple */
			return -1;
		} else if (close[1])
			return -1;
	} else if (strchr(buf, ':') == strrchr(buf, ':')) {
		/* IPv4 (possibly with :port); IPv6 has at least two colons,
		 * "::ffff:198.18.0.1" too */
		port = strchr(buf, ':');
		if (port)
			*port++ = '\0';
	}
	slash = strchr(addr, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, addr, r->addr) == 1) {
		r->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, addr, r->addr) == 1) {
		r->family = AF_INET6;
		maxbits = 128;
	} else
		return -1;
	r->prefix = (uint8_t)maxbits;
	if (slash) {
		if (parse_ulong(slash, 0, (unsigned)maxbits, &v))
			return -1;
		r->prefix = (uint8_t)v;
	}
	if (port) {
		if (parse_ulong(port, 1, 65535, &v))
			return -1;
		r->port = (uint16_t)v;
	}
	/* A v4-mapped destination is matched as IPv4 (mps_config_peer_allowed):
	 * so is a v4-mapped rule, or it could never match. */
	if (r->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)r->addr) &&
	    r->prefix >= 96) {
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->family = AF_INET;
		r->prefix = (uint8_t)(r->prefix - 96);
	}
	return 0;
}

static int parse_peers(struct mps_config *c, const char *val)
{
	char buf[2048], *save = NULL, *tok;
	size_t n = 0;
	struct mps_peer_rule rules[MPS_MAX_PEER_RULES];

	if (!strcmp(val, "all")) {
		c->peers_all = 1;
		c->npeers = 0;
		return 0;
	}
	if (!strcmp(val, "none")) {
		c->peers_all = 0;
		c->npeers = 0;
		return 0;
	}
	if (strlen(val) >= sizeof(buf))
		return -1;
	strcpy(buf, val);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (n == MPS_MAX_PEER_RULES || parse_rule(tok, &rules[n]))
			return -1;
		n++;
	}
	if (n == 0)
		return -1;
	memcpy(c->peers, rules, n * sizeof(rules[0]));
	c->npeers = n;
	c->peers_all = 0;
	return 0;
}

/* An interface name as the kernel accepts it (dev_valid_name): 1..15
 * bytes, not "." or "..", no '/', ':' or white space.  ':' is refused
 * because it only ever appears in IPv4 alias labels ("eth0:1"), which the
 * path manager matches through their device name. */
static int valid_ifname(const char *s)
{
	size_t n = strlen(s);
	const char *c;

	if (n == 0 || n >= MPS_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (c = s; *c; c++)
		if (*c == '/' || *c == ':' || (unsigned char)*c <= ' ' ||
		    (unsigned char)*c >= 0x7f)
			return 0;
	return 1;
}

static int valid_ipaddr(const char *s)
{
	uint8_t a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* An ADVERTISE list entry: an address, or a name that cannot be taken for
 * a mistyped address ("300.1.1.1": digits and dots only) or for a keyword
 * ("all" and "none" only stand alone). */
static int valid_advertise_entry(const char *s)
{
	if (valid_ipaddr(s))
		return 1;
	if (strspn(s, "0123456789.") == strlen(s))
		return 0;
	if (!strcmp(s, "all") || !strcmp(s, "none"))
		return 0;
	return valid_ifname(s);
}

/* A comma (or space) separated list of at most MPS_MAX_IFLIST entries,
 * each an interface name, or also an IP address when addr_ok.  The result
 * is stored only when the whole list is valid.  0 on success. */
static int parse_iflist(const char *val, int addr_ok, char (*out)[MPS_IFLIST_ENTRY],
			size_t *nout)
{
	char buf[MPS_MAX_IFLIST * MPS_IFLIST_ENTRY + 64], *save = NULL, *tok;
	char list[MPS_MAX_IFLIST][MPS_IFLIST_ENTRY];
	size_t n = 0;

	if (strlen(val) >= sizeof(buf))
		return -1;
	strcpy(buf, val);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (n == MPS_MAX_IFLIST || strlen(tok) >= MPS_IFLIST_ENTRY)
			return -1;
		if (addr_ok ? !valid_advertise_entry(tok) : !valid_ifname(tok))
			return -1;
		strcpy(list[n++], tok);
	}
	if (n == 0)
		return -1;
	memcpy(out, list, n * sizeof(list[0]));
	*nout = n;
	return 0;
}

/* INTERFACES / EXCLUDE: names only, into the narrower IFNAMSIZ arrays. */
static int parse_ifnames(const char *val, char (*out)[MPS_IFNAMSIZ], size_t *nout)
{
	char list[MPS_MAX_IFLIST][MPS_IFLIST_ENTRY];
	size_t i, n;

	if (parse_iflist(val, 0, list, &n))
		return -1;
	for (i = 0; i < n; i++)
		strcpy(out[i], list[i]); /* valid_ifname: shorter than MPS_IFNAMSIZ */
	*nout = n;
	return 0;
}

/* ------------------------------------------------- the variables, as a table */

/* One MPTCPSHIM_* variable.  Its parser stores a good value in c and
 * returns NULL, or returns why a value is bad (usually e->expect): the
 * value is then ignored with a warning, the default kept.  Numbers and
 * interface lists say where in mps_config they go (off, and cnt for a
 * list's count). */
struct env_var {
	const char *name;
	const char *(*parse)(struct mps_config *c, const struct env_var *e, const char *v);
	const char *expect;
	unsigned long long lo, hi; /* numbers: the accepted range */
	size_t off, size, cnt;
};

#define VAR(n, fn, why) {.name = (n), .parse = (fn), .expect = (why)}
#define NUMBER(n, why, l, h, f)                                                                  \
	{.name = (n), .parse = parse_number, .expect = (why), .lo = (l), .hi = (h),              \
	 .off = offsetof(struct mps_config, f), .size = sizeof(((struct mps_config *)0)->f)}
#define IFNAMES(n, f, nf)                                                                        \
	{.name = (n), .parse = parse_ifname_var, .expect = IFNAMES_WHY,                          \
	 .off = offsetof(struct mps_config, f), .cnt = offsetof(struct mps_config, nf)}
#define IFNAMES_WHY "expected IFNAME,... (at most 16 names of at most 15 bytes)"

static const char *parse_disable(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"))
		c->disabled = 1;
	else if (strcmp(v, "0") && strcmp(v, "no") && strcmp(v, "false"))
		return e->expect;
	return NULL;
}

static const char *parse_kernel_mptcp(struct mps_config *c, const struct env_var *e,
				      const char *v)
{
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"))
		c->kernel_mptcp = 1;
	else if (strcmp(v, "0") && strcmp(v, "no") && strcmp(v, "false"))
		return e->expect;
	return NULL;
}

static const char *parse_log(struct mps_config *c, const struct env_var *e, const char *v)
{
	static const char *const lv[] = {"error", "warn", "info", "debug"};
	size_t i;

	for (i = 0; i < 4 && strcmp(v, lv[i]); i++)
		;
	if (i == 4)
		return e->expect;
	c->log_level = (int)i;
	return NULL;
}

static const char *parse_log_file(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (strlen(v) >= sizeof(c->log_file))
		return e->expect;
	strcpy(c->log_file, v);
	return NULL;
}

static const char *parse_peers_var(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (!parse_peers(c, v))
		return NULL;
	c->peers_all = 1;
	c->npeers = 0;
	return e->expect;
}

/* An unsigned field of e->size bytes at e->off, in [e->lo, e->hi]. */
static const char *parse_number(struct mps_config *c, const struct env_var *e, const char *v)
{
	unsigned long long u;

	if (parse_ulong(v, e->lo, e->hi, &u))
		return e->expect;
	if (e->size == sizeof(uint32_t)) {
		uint32_t x = (uint32_t)u;

		memcpy((char *)c + e->off, &x, sizeof(x));
	} else {
		uint64_t x = u;

		memcpy((char *)c + e->off, &x, sizeof(x));
	}
	return NULL;
}

static const char *parse_peer_cache(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (!strcmp(v, "none"))
		c->peer_cache[0] = 0;
	else if (v[0] != '/')
		return e->expect;
	else if (strlen(v) >= sizeof(c->peer_cache))
		return "path too long";
	else
		strcpy(c->peer_cache, v);
	return NULL;
}

/* INTERFACES, EXCLUDE, BACKUP: names into the array at e->off, their
 * count at e->cnt. */
static const char *parse_ifname_var(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (parse_ifnames(v, (char (*)[MPS_IFNAMSIZ])((char *)c + e->off),
			  (size_t *)((char *)c + e->cnt)))
		return e->expect;
	return NULL;
}

/* PORT or LO-HI */
static const char *parse_join_ports(struct mps_config *c, const struct env_var *e, const char *v)
{
	char buf[16], *dash;
	unsigned long long lo, hi;

	if (strlen(v) >= sizeof(buf))
		return e->expect;
	strcpy(buf, v);
	dash = strchr(buf, '-');
	if (dash)
		*dash = 0;
	if (parse_ulong(buf, 1, 65535, &lo) || parse_ulong(dash ? dash + 1 : buf, 1, 65535, &hi) ||
	    lo > hi)
		return e->expect;
	c->join_port_lo = (uint16_t)lo;
	c->join_port_hi = (uint16_t)hi;
	return NULL;
}

static const char *parse_advertise(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (!strcmp(v, "all"))
		c->advertise_all = 1;
	else if (!strcmp(v, "none"))
		c->advertise_all = 0;
	else if (parse_iflist(v, 1, c->advertise, &c->nadvertise))
		return e->expect;
	else
		c->advertise_all = 0;
	return NULL;
}

static const char *parse_scheduler(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (!mps_sched_find(v) || strlen(v) >= sizeof(c->scheduler))
		return e->expect;
	strcpy(c->scheduler, v);
	return NULL;
}

static const char *parse_cc(struct mps_config *c, const struct env_var *e, const char *v)
{
	if ((!mps_cc_find(v) && strcmp(v, "auto")) || strlen(v) >= sizeof(c->cc))
		return e->expect;
	strcpy(c->cc, v);
	return NULL;
}

static const char *parse_control(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return e->expect;
	c->control = v[0] == '1';
	return NULL;
}

static const char *parse_handover(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return e->expect;
	c->handover = v[0] == '1';
	return NULL;
}

static const char *parse_defer_accept(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return e->expect;
	c->defer_accept = v[0] == '1';
	return NULL;
}

static const char *parse_handover_exec(struct mps_config *c, const struct env_var *e,
                                       const char *v)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return e->expect;
	c->handover_exec = v[0] == '1';
	return NULL;
}

/* The steering policy file (src/steer.c reads it at the first
 * connection): absolute, as a daemon may change directory first. */
static const char *parse_policy(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (v[0] != '/')
		return e->expect;
	if (strlen(v) >= sizeof(c->policy_file))
		return "path too long";
	strcpy(c->policy_file, v);
	return NULL;
}

/* Where the counters go at exit (src/stat.c): absolute, like the policy. */
static const char *parse_counters_file(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (v[0] != '/')
		return e->expect;
	if (strlen(v) >= sizeof(c->counters_file))
		return "path too long";
	strcpy(c->counters_file, v);
	return NULL;
}

/* The gateway's (gateway.c parses the lists). */
static const char *parse_gw_list(struct mps_config *c, const struct env_var *e, const char *v)
{
	return mps_gwconf_set_gateways(&c->gw, v) ? e->expect : NULL;
}

static const char *parse_gw_key(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (strlen(v) >= sizeof(c->gw.key_file))
		return e->expect;
	strcpy(c->gw.key_file, v);
	return NULL;
}

static const char *parse_gw_for(struct mps_config *c, const struct env_var *e, const char *v)
{
	return mps_gwconf_set_for(&c->gw, v) ? e->expect : NULL;
}

static const char *parse_gw_fallback(struct mps_config *c, const struct env_var *e, const char *v)
{
	if (!strcmp(v, "direct"))
		c->gw.fallback = MPS_GWF_DIRECT;
	else if (!strcmp(v, "fail"))
		c->gw.fallback = MPS_GWF_FAIL;
	else
		return e->expect;
	return NULL;
}

/* In the order the warnings come out. */
static const struct env_var g_vars[] = {
	VAR(ENV_DISABLE, parse_disable, "expected 0 or 1"),
	VAR(ENV_LOG, parse_log, "expected error, warn, info or debug"),
	VAR(ENV_LOG_FILE, parse_log_file, "path too long"),
	VAR(ENV_PEERS, parse_peers_var,
	    "expected all, none or ADDR[/PREFIX][:PORT],... ([v6]:PORT for IPv6)"),
	NUMBER(ENV_PLAIN_TTL, "expected seconds, 0..604800", 0, 86400 * 7, plain_cache_ttl),
	VAR(ENV_PEER_CACHE, parse_peer_cache, "expected an absolute path or none"),
	NUMBER(ENV_SNDBUF, "expected bytes, 65536..1073741824", 65536, 1ull << 30, sndbuf),
	NUMBER(ENV_MAX_SUBFLOWS, "expected a count, 1..32", 1, MPS_MAX_SUBFLOWS, max_subflows),
	NUMBER(ENV_SUBFLOWS_PER_PATH, "expected a count, 1..8", 1, 8, subflows_per_path),
	IFNAMES(ENV_INTERFACES, interfaces, ninterfaces),
	IFNAMES(ENV_BACKUP, backup, nbackup),
	NUMBER(ENV_OUTAGE_TIMEOUT, "expected seconds, 1..3600", 1, 3600, outage_timeout),
	VAR(ENV_JOIN_PORTS, parse_join_ports, "expected PORT or LO-HI, 1..65535"),
	NUMBER(ENV_JOIN_DELAY, "expected milliseconds, 0..60000", 0, 60000, join_delay_ms),
	NUMBER(ENV_JOIN_BYTES, "expected bytes, 0..1073741824", 0, 1ull << 30, join_bytes),
	VAR(ENV_KERNEL_MPTCP, parse_kernel_mptcp, "expected 0 or 1"),
	VAR(ENV_CONTROL, parse_control, "expected 0 or 1"),
	VAR(ENV_HANDOVER, parse_handover, "expected 0 or 1"),
	VAR(ENV_DEFER_ACCEPT, parse_defer_accept, "expected 0 or 1"),
	VAR(ENV_HANDOVER_EXEC, parse_handover_exec, "expected 0 or 1"),
	NUMBER(ENV_RESUME, "expected seconds, 0..86400", 0, 86400, resume_ttl),
	NUMBER(ENV_DIRECT, "expected 0 or 1", 0, 1, direct),
	NUMBER(ENV_INLINE, "expected 0 or 1", 0, 1, inl),
	IFNAMES(ENV_EXCLUDE, exclude, nexclude),
	VAR(ENV_ADVERTISE, parse_advertise, "expected all, none or IFNAME/ADDRESS,... (at most 16)"),
	VAR(ENV_SCHEDULER, parse_scheduler, "expected default, roundrobin, redundant or ecf"),
	VAR(ENV_CC, parse_cc, "expected uncoupled, lia, olia or auto"),
	VAR(ENV_POLICY, parse_policy, "expected an absolute path"),
	VAR(ENV_COUNTERS_FILE, parse_counters_file, "expected an absolute path"),
	VAR(ENV_GATEWAY, parse_gw_list,
	    "expected IPV4:PORT or [IPV6]:PORT, comma-separated (numeric, at most 4)"),
	VAR(ENV_GATEWAY_KEY_FILE, parse_gw_key, "path too long"),
	VAR(ENV_GATEWAY_FOR, parse_gw_for,
	    "expected default, all or ADDRESS[/LEN][:PORT[-PORT]],... (at most 32)"),
	VAR(ENV_GATEWAY_FALLBACK, parse_gw_fallback, "expected direct or fail"),
};

_Static_assert(sizeof(((struct mps_config *)0)->plain_cache_ttl) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->resume_ttl) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->direct) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->inl) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->outage_timeout) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->join_delay_ms) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->join_bytes) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->max_subflows) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->subflows_per_path) == sizeof(uint32_t) &&
		       sizeof(((struct mps_config *)0)->sndbuf) == sizeof(uint64_t),
	       "parse_number stores 32- or 64-bit fields");

void mps_config_parse(struct mps_config *c, mps_getenv_fn get, mps_warn_fn warn)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->log_level = MPS_LOG_WARN;
	c->peers_all = 1;
	c->plain_cache_ttl = 300;
	c->resume_ttl = 600; /* docs/DESIGN.md "Resumption": why, and what it gives up */
	c->sndbuf = 4u << 20;
	c->max_subflows = 8;
	c->subflows_per_path = 1;
	c->advertise_all = 1;
	c->outage_timeout = 30;
	c->control = 1;
	c->handover = 1; /* a forked child services its connection: docs/DESIGN.md */
	c->handover_exec = 1; /* ... and the image it execs (step 5) */
	c->defer_accept = 1;  /* learnt per listener: defacc.h */
	c->direct = 1;        /* the app-thread send path: direct.c */
	c->join_delay_ms = 200;
	c->join_bytes = 65536;
	strcpy(c->scheduler, "default");
	strcpy(c->cc, "auto"); /* docs/DESIGN.md "Coupled congestion control": why */
	/* Default: a per-user file in /tmp (peercache.c refuses one that is
	 * not a regular file of ours that nobody else can write). */
	snprintf(c->peer_cache, sizeof(c->peer_cache), "/tmp/mptcpshim-peers-%u",
		 (unsigned)geteuid());

	for (i = 0; i < MPS_ARRAY_SIZE(g_vars); i++) {
		const char *v = get(g_vars[i].name), *why;

		if (v && *v && (why = g_vars[i].parse(c, &g_vars[i], v)))
			warnf(warn, g_vars[i].name, v, why);
	}
}

static const char *real_getenv(const char *name) { return getenv(name); }
static const char *no_env(const char *name) { return NULL; }

/* Warnings found while parsing wait until the log itself is configured
 * (one per variable at most). */
#define MAX_WARNINGS 24
static char g_warnings[MAX_WARNINGS][256];
static int g_nwarnings;
static void keep_warning(const char *msg)
{
	if (g_nwarnings < MAX_WARNINGS)
		snprintf(g_warnings[g_nwarnings++], sizeof(g_warnings[0]), "%s", msg);
}

uint32_t mps_config_warn_digest(const char *msg)
{
	uint32_t h = 0x811c9dc5u; /* FNV-1a, 32 bit */

	for (; *msg; msg++)
		h = (h ^ (uint8_t)*msg) * 0x01000193u;
	return h;
}

int mps_config_warned(const char *marker, const char *msg)
{
	char key[12];
	size_t n, tok;

	if (!marker)
		return 0;
	n = (size_t)snprintf(key, sizeof(key), "%08x", (unsigned)mps_config_warn_digest(msg));
	for (; *marker; marker += tok + (marker[tok] == ',')) {
		tok = strcspn(marker, ",");
		if (tok == n && !strncmp(marker, key, n))
			return 1;
	}
	return 0;
}

static struct mps_config g_config;
static pthread_once_t g_config_once = PTHREAD_ONCE_INIT;
static int g_early; /* parsing from the constructor: the environment is ours */

static void config_init(void)
{
	/* Secure-exec (setuid, file capabilities): the environment is not ours
	 * to trust, so only the defaults apply. */
	int secure = getauxval(AT_SECURE) != 0;

	int i;

	mps_config_parse(&g_config, secure ? no_env : real_getenv, keep_warning);
	if (secure)
		g_config.disabled = 1;
	mps_log_setup(g_config.log_level, g_config.log_file);
	if (g_nwarnings > 0) {
		/* Once per command: a process whose ancestor (same command)
		 * already warned about a value keeps quiet about it; the first
		 * one marks the environment its children and the programs they
		 * run inherit (digests of the lines it printed).  Parsed in the
		 * constructor (mps_config_early), before the program can start
		 * a thread, so setenv is safe here. */
		const char *seen = getenv(ENV_WARNED);
		char mark[MAX_WARNINGS * 9 + 1] = "";
		size_t len = 0;

		if (seen && strlen(seen) < sizeof(mark) / 2)
			len = (size_t)snprintf(mark, sizeof(mark), "%s", seen);
		for (i = 0; i < g_nwarnings; i++) {
			if (mps_config_warned(seen, g_warnings[i]))
				continue;
			mps_log(MPS_LOG_WARN, "%s", g_warnings[i]);
			if (len + 10 < sizeof(mark))
				len += (size_t)snprintf(
				        mark + len, sizeof(mark) - len, "%s%08x", len ? "," : "",
				        (unsigned)mps_config_warn_digest(g_warnings[i]));
		}
		if (g_early && len)
			setenv(ENV_WARNED, mark, 1);
	}
}

void mps_config_early(void)
{
	g_early = 1;
	(void)mps_config();
	g_early = 0;
}

const struct mps_config *mps_config(void)
{
	pthread_once(&g_config_once, config_init);
	return &g_config;
}

int mps_config_take_inherit(char *buf, size_t cap)
{
	const char *v = getenv(ENV_INHERIT);
	int ok;

	if (!v)
		return 0;
	ok = strlen(v) < cap && !getauxval(AT_SECURE);
	if (ok)
		strcpy(buf, v);
	/* Read once: it must not leak into what this image runs next. */
	unsetenv(ENV_INHERIT);
	return ok;
}

int mps_config_take_execstate(void)
{
	const char *v = getenv(ENV_EXECSTATE);
	char *end;
	long fd;

	if (!v)
		return -1;
	fd = strtol(v, &end, 10);
	if (*end || end == v || fd < 0 || fd > 0x7fffffff || getauxval(AT_SECURE))
		fd = -1;
	unsetenv(ENV_EXECSTATE);
	return (int)fd;
}
