/* fuzz_config.c - the MPTCPSHIM_* environment (src/config.c), through its
 * getenv test seam.
 *
 * Input: lines "NAME=VALUE" (the environment; names as in
 * man/libmptcpshim.7, see config.dict).  Properties:
 *  - parsing is deterministic, warns at most once per variable set, with
 *    one line each;
 *  - every field is within its documented range whatever the input
 *    (lists: at most 16 valid names; ports: LO <= HI; peer rules: prefix
 *    within the family's width);
 *  - the PEERS rules it keeps, written back as text and parsed again,
 *    give the same rules;
 *  - mps_config_peer_allowed agrees with a bit-by-bit prefix model, for
 *    each rule's own address and for one just outside its prefix. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "fuzz.h"
#include "mptcpshim/config.h"

#define MAXVARS 64

static struct {
	char name[64];
	char value[2048];
} vars[MAXVARS];
static size_t nvars;
static int nwarn, nasked;
static const char *peers_text; /* for the round trip: PEERS only */

static const char *get(const char *name)
{
	size_t i;

	for (i = nvars; i-- > 0;) /* the last one wins, like the environment */
		if (!strcmp(vars[i].name, name)) {
			if (vars[i].value[0])
				nasked++;
			return vars[i].value;
		}
	return NULL;
}

static const char *get_peers(const char *name)
{
	return strcmp(name, "MPTCPSHIM_PEERS") ? NULL : peers_text;
}

static void warn(const char *msg)
{
	FZ_ASSERT(msg && *msg && !strchr(msg, '\n') && strlen(msg) < 256);
	nwarn++;
}

static void ifnames_ok(char (*list)[MPS_IFNAMSIZ], size_t n)
{
	size_t i, j, len;

	FZ_ASSERT(n <= MPS_MAX_IFLIST);
	for (i = 0; i < n; i++) {
		len = strnlen(list[i], MPS_IFNAMSIZ);
		FZ_ASSERT(len > 0 && len < MPS_IFNAMSIZ);
		for (j = 0; j < len; j++)
			FZ_ASSERT(list[i][j] != '/' && list[i][j] != ':' &&
			          (unsigned char)list[i][j] > ' ');
	}
}

static int model_match(const struct mps_peer_rule *r, int family, const uint8_t *addr,
                       uint16_t port)
{
	unsigned b;

	if (r->family != family || (r->port && r->port != port))
		return 0;
	for (b = 0; b < r->prefix; b++)
		if (((addr[b / 8] ^ r->addr[b / 8]) >> (7 - b % 8)) & 1)
			return 0;
	return 1;
}

static void probe(const struct mps_config *c, int family, const uint8_t *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	size_t i;
	int want = c->peers_all;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, addr, 4);
		in->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, addr, 16);
		in6->sin6_port = htons(port);
	}
	/* a v4-mapped destination is matched as IPv4 */
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr))
		for (i = 0; i < c->npeers && !want; i++)
			want = model_match(&c->peers[i], AF_INET, addr + 12, port);
	else
		for (i = 0; i < c->npeers && !want; i++)
			want = model_match(&c->peers[i], family, addr, port);
	FZ_ASSERT(mps_config_peer_allowed(c, (struct sockaddr *)&ss) == want);
	if (family == AF_INET) {
		/* the same address as a v4-mapped IPv6 one */
		struct sockaddr_in6 in6;

		memset(&in6, 0, sizeof(in6));
		in6.sin6_family = AF_INET6;
		in6.sin6_addr.s6_addr[10] = in6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(in6.sin6_addr.s6_addr + 12, addr, 4);
		in6.sin6_port = htons(port);
		FZ_ASSERT(mps_config_peer_allowed(c, (struct sockaddr *)&in6) == want);
	}
}

/* The rules as PEERS text, or 0 when one has no textual form (an IPv6
 * rule with both a prefix and a port). */
static int format_peers(const struct mps_config *c, char *out, size_t cap)
{
	size_t i, len = 0;

	out[0] = 0;
	for (i = 0; i < c->npeers; i++) {
		const struct mps_peer_rule *r = &c->peers[i];
		char a[INET6_ADDRSTRLEN];

		FZ_ASSERT(inet_ntop(r->family, r->addr, a, sizeof(a)));
		if (r->family == AF_INET6 && r->port && r->prefix != 128)
			return 0;
		if (r->family == AF_INET6 && r->port)
			len += (size_t)snprintf(out + len, cap - len, "%s[%s]:%u", i ? "," : "", a,
			                        r->port);
		else if (r->port)
			len += (size_t)snprintf(out + len, cap - len, "%s%s/%u:%u", i ? "," : "", a,
			                        r->prefix, r->port);
		else
			len += (size_t)snprintf(out + len, cap - len, "%s%s/%u", i ? "," : "", a,
			                        r->prefix);
		FZ_ASSERT(len < cap);
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mps_config c, c2;
	static char text[4096];
	const uint8_t *p = data, *end = data + size;
	size_t i;

	nvars = 0;
	while (p < end && nvars < MAXVARS) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *le = nl ? nl : end, *eq = memchr(p, '=', (size_t)(le - p));

		if (eq && (size_t)(eq - p) < sizeof(vars[0].name) &&
		    (size_t)(le - eq - 1) < sizeof(vars[0].value) &&
		    !memchr(p, 0, (size_t)(le - p))) {
			memcpy(vars[nvars].name, p, (size_t)(eq - p));
			vars[nvars].name[eq - p] = 0;
			memcpy(vars[nvars].value, eq + 1, (size_t)(le - eq - 1));
			vars[nvars].value[le - eq - 1] = 0;
			nvars++;
		}
		p = nl ? nl + 1 : end;
	}

	nwarn = nasked = 0;
	mps_config_parse(&c, get, warn);
	FZ_ASSERT(nwarn <= nasked);
	mps_config_parse(&c2, get, warn);
	/* ADVERTISE entries are copied whole from a stack buffer: the bytes
	 * after an entry's terminator mean nothing */
	for (i = 0; i < MPS_MAX_IFLIST; i++) {
		size_t l = strnlen(c.advertise[i], MPS_IFLIST_ENTRY);

		FZ_ASSERT(l < MPS_IFLIST_ENTRY);
		memset(c.advertise[i] + l, 0, MPS_IFLIST_ENTRY - l);
		l = strnlen(c2.advertise[i], MPS_IFLIST_ENTRY);
		memset(c2.advertise[i] + l, 0, MPS_IFLIST_ENTRY - l);
	}
	FZ_ASSERT(!memcmp(&c, &c2, sizeof(c)));

	FZ_ASSERT(c.disabled == 0 || c.disabled == 1);
	FZ_ASSERT(c.log_level >= MPS_LOG_ERROR && c.log_level <= MPS_LOG_DEBUG);
	FZ_ASSERT(memchr(c.log_file, 0, sizeof(c.log_file)));
	FZ_ASSERT(memchr(c.peer_cache, 0, sizeof(c.peer_cache)));
	FZ_ASSERT(!c.peer_cache[0] || c.peer_cache[0] == '/');
	FZ_ASSERT(memchr(c.scheduler, 0, sizeof(c.scheduler)) && c.scheduler[0]);
	FZ_ASSERT(c.plain_cache_ttl <= 604800);
	FZ_ASSERT(c.sndbuf >= 65536 && c.sndbuf <= (1u << 30));
	FZ_ASSERT(c.max_subflows >= 1 && c.max_subflows <= MPS_MAX_SUBFLOWS);
	FZ_ASSERT(c.subflows_per_path >= 1 && c.subflows_per_path <= 8);
	FZ_ASSERT(c.outage_timeout >= 1 && c.outage_timeout <= 3600);
	FZ_ASSERT(c.join_port_lo <= c.join_port_hi);
	FZ_ASSERT(!c.join_port_lo == !c.join_port_hi);
	ifnames_ok(c.interfaces, c.ninterfaces);
	ifnames_ok(c.exclude, c.nexclude);
	ifnames_ok(c.backup, c.nbackup);
	FZ_ASSERT(c.nadvertise <= MPS_MAX_IFLIST);
	for (i = 0; i < c.nadvertise; i++)
		FZ_ASSERT(c.advertise[i][0] && memchr(c.advertise[i], 0, MPS_IFLIST_ENTRY));
	FZ_ASSERT(c.npeers <= MPS_MAX_PEER_RULES);
	FZ_ASSERT(!c.peers_all || c.npeers == 0);
	for (i = 0; i < c.npeers; i++) {
		const struct mps_peer_rule *r = &c.peers[i];
		uint8_t out[16];
		unsigned bit;

		FZ_ASSERT(r->family == AF_INET || r->family == AF_INET6);
		FZ_ASSERT(r->prefix <= (r->family == AF_INET ? 32 : 128));
		probe(&c, r->family, r->addr, r->port ? r->port : 1);
		if (r->prefix) {
			/* flip a bit inside the prefix: outside this rule */
			bit = (unsigned)(size ? data[0] : 0) % r->prefix;
			memcpy(out, r->addr, 16);
			out[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			probe(&c, r->family, out, r->port);
		}
	}

	if (c.npeers && format_peers(&c, text, sizeof(text))) {
		peers_text = text;
		mps_config_parse(&c2, get_peers, warn);
		FZ_ASSERT(c2.npeers == c.npeers && !c2.peers_all);
		FZ_ASSERT(!memcmp(c2.peers, c.peers, c.npeers * sizeof(c.peers[0])));
	}
	return 0;
}
