/* policy.c - the steering policy file's parser and matcher.  Pure: text in,
 * rules out; a query in, settings out.  Format and rules:
 * include/mptcpshim/policy.h and libmptcpshim(7), POLICY FILE. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "mptcpshim/policy.h"
#include "mptcpshim/sched.h"

struct pcur {
	const char *name;
	char *err;
	size_t errlen;
	unsigned line;
	const char *bol; /* the line's first byte: columns count from here */
};

static int fail(struct pcur *k, const char *at, int rc, const char *fmt, const char *arg)
{
	char msg[160];

	if (k->errlen) {
		snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
		snprintf(k->err, k->errlen, "%s:%u:%u: %s", k->name ? k->name : "policy", k->line,
		         (unsigned)(at - k->bol) + 1, msg);
	}
	return rc;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* A copy of [s, e) as a C string for messages, cut at 40 bytes. */
static const char *quote(char *buf, size_t cap, const char *s, const char *e)
{
	size_t n = (size_t)(e - s);

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static int parse_uint(const char *s, const char *e, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (s == e || e - s > 10)
		return -1;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_prefix(struct pcur *k, const char *s, const char *e, struct mps_pol_prefix *p)
{
	char buf[64], tmp[48];
	const char *slash = memchr(s, '/', (size_t)(e - s));
	const char *aend = slash ? slash : e;
	unsigned long bits, max;

	if ((size_t)(aend - s) >= sizeof(buf))
		return fail(k, s, -EINVAL, "bad address '%s'", quote(tmp, sizeof(tmp), s, aend));
	memcpy(buf, s, (size_t)(aend - s));
	buf[aend - s] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = AF_INET6;
	else
		return fail(k, s, -EINVAL, "bad address '%s' (an IPv4 or IPv6 address)",
		            quote(tmp, sizeof(tmp), s, aend));
	max = p->family == AF_INET ? 32 : 128;
	bits = max;
	if (slash && parse_uint(slash + 1, e, max, &bits))
		return fail(k, slash + 1, -EINVAL,
		            "bad prefix length '%s' (0..32 for IPv4, 0..128 for IPv6)",
		            quote(tmp, sizeof(tmp), slash + 1, e));
	p->bits = (uint8_t)bits;
	return 0;
}

static int parse_port(struct pcur *k, const char *s, const char *e, uint16_t *lo, uint16_t *hi)
{
	const char *dash = memchr(s, '-', (size_t)(e - s));
	unsigned long a, b;
	char tmp[48];

	if (parse_uint(s, dash ? dash : e, 65535, &a) || a == 0)
		return fail(k, s, -EINVAL, "bad port '%s' (1..65535)",
		            quote(tmp, sizeof(tmp), s, dash ? dash : e));
	b = a;
	if (dash && (parse_uint(dash + 1, e, 65535, &b) || b == 0))
		return fail(k, dash + 1, -EINVAL, "bad port '%s' (1..65535)",
		            quote(tmp, sizeof(tmp), dash + 1, e));
	if (b < a)
		return fail(k, s, -EINVAL, "empty port range '%s'", quote(tmp, sizeof(tmp), s, e));
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* Letters, digits, '-', '_' and dots between labels; "*." first makes a
 * suffix pattern. */
static int parse_host(struct pcur *k, const char *s, const char *e, char *out)
{
	const char *p = s;
	char tmp[48];

	if (e - s >= 2 && s[0] == '*' && s[1] == '.')
		p += 2;
	if ((size_t)(e - s) >= MPS_POL_NAME)
		return fail(k, s, -EINVAL, "host name too long (at most %s bytes)", "63");
	if (p == e || *p == '.' || e[-1] == '.')
		return fail(k, p, -EINVAL, "bad host name '%s'", quote(tmp, sizeof(tmp), s, e));
	for (; p < e; p++) {
		char ch = *p;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.') ||
		    (ch == '.' && p[1] == '.'))
			return fail(k, p, -EINVAL, "bad character in host name '%s'",
			            quote(tmp, sizeof(tmp), s, e));
	}
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

static int parse_prog(struct pcur *k, const char *s, const char *e, char *out)
{
	if ((size_t)(e - s) >= MPS_POL_PROG)
		return fail(k, s, -EINVAL, "program name too long (at most %s bytes)", "31");
	if (memchr(s, '/', (size_t)(e - s)))
		return fail(k, (const char *)memchr(s, '/', (size_t)(e - s)), -EINVAL,
		            "a program name has no '/' (the base name: ssh, not /usr/bin/ssh)",
		            NULL);
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

/* What the kernel accepts for a device name: 1..15 bytes, no '/', ':'. */
static int parse_ifname(struct pcur *k, const char *s, const char *e, char *out)
{
	const char *p;
	char tmp[48];

	if ((size_t)(e - s) >= MPS_POL_IFNAMSIZ)
		return fail(k, s, -EINVAL, "interface name '%s' too long (at most 15 bytes)",
		            quote(tmp, sizeof(tmp), s, e));
	for (p = s; p < e; p++)
		if (*p == '/' || *p == ':')
			return fail(k, p, -EINVAL, "bad character in interface name '%s'",
			            quote(tmp, sizeof(tmp), s, e));
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

enum key {
	K_DST,
	K_PORT,
	K_HOST,
	K_PROGRAM,
	K_SIDE,
	K_SCHEDULER,
	K_INTERFACES,
	K_BACKUP,
	K_SUBFLOWS,
	K_GATEWAY,
	K_N
};

static const char *const key_names[K_N] = {
        "dst",       "port",       "host",   "program",  "side",
        "scheduler", "interfaces", "backup", "subflows", "gateway",
};

/* Split a comma list and hand each entry to the key's parser. */
static int parse_list(struct pcur *k, struct mps_pol_rule *r, enum key key, const char *s,
                      const char *e)
{
	unsigned cap = (key == K_INTERFACES || key == K_BACKUP) ? MPS_POL_MAX_IF : MPS_POL_MAX_LIST;
	unsigned n = 0;
	const char *p = s;
	int rc;

	for (;;) {
		const char *c = memchr(p, ',', (size_t)(e - p));
		const char *end = c ? c : e;

		if (end == p)
			return fail(k, p, -EINVAL, "empty entry in the list of '%s'",
			            key_names[key]);
		if (n == cap)
			return fail(k, p, -EINVAL, "too many entries for '%s'", key_names[key]);
		switch (key) {
		case K_DST:
			rc = parse_prefix(k, p, end, &r->dst[n]);
			break;
		case K_PORT:
			rc = parse_port(k, p, end, &r->port_lo[n], &r->port_hi[n]);
			break;
		case K_HOST:
			rc = parse_host(k, p, end, r->host[n]);
			break;
		case K_PROGRAM:
			rc = parse_prog(k, p, end, r->prog[n]);
			break;
		case K_INTERFACES:
			rc = parse_ifname(k, p, end, r->act.ifaces[n]);
			break;
		default: /* K_BACKUP */
			rc = parse_ifname(k, p, end, r->act.backup[n]);
			break;
		}
		if (rc)
			return rc;
		n++;
		if (!c)
			break;
		p = c + 1;
	}
	switch (key) {
	case K_DST:
		r->ndst = (uint8_t)n;
		break;
	case K_PORT:
		r->nport = (uint8_t)n;
		break;
	case K_HOST:
		r->nhost = (uint8_t)n;
		break;
	case K_PROGRAM:
		r->nprog = (uint8_t)n;
		break;
	case K_INTERFACES:
		r->act.nifaces = (uint8_t)n;
		r->act.set |= MPS_POL_IFACES;
		break;
	default:
		r->act.nbackup = (uint8_t)n;
		r->act.set |= MPS_POL_BACKUP;
		break;
	}
	return 0;
}

static int parse_word(struct pcur *k, struct mps_pol_rule *r, const char *w, const char *e,
                      unsigned *seen)
{
	const char *eq = memchr(w, '=', (size_t)(e - w));
	const char *v;
	char tmp[48];
	unsigned long n;
	int key;

	if (!eq)
		return fail(k, w, -EINVAL, "expected KEY=VALUE, got '%s'",
		            quote(tmp, sizeof(tmp), w, e));
	for (key = 0; key < K_N; key++)
		if (strlen(key_names[key]) == (size_t)(eq - w) &&
		    !memcmp(key_names[key], w, (size_t)(eq - w)))
			break;
	if (key == K_N)
		return fail(k, w, -EINVAL,
		            "unknown key '%s' (dst, port, host, program, side, scheduler, "
		            "interfaces, backup, subflows, gateway)",
		            quote(tmp, sizeof(tmp), w, eq));
	if (*seen & (1u << key))
		return fail(k, w, -EINVAL, "'%s' given twice in one rule", key_names[key]);
	*seen |= 1u << key;
	v = eq + 1;
	if (v == e)
		return fail(k, v, -EINVAL, "no value for '%s'", key_names[key]);
	switch (key) {
	case K_SIDE:
		if ((e - v == 6 && !memcmp(v, "client", 6)))
			r->side = MPS_POL_CLIENT;
		else if (e - v == 6 && !memcmp(v, "server", 6))
			r->side = MPS_POL_SERVER;
		else
			return fail(k, v, -EINVAL, "side is 'client' or 'server', not '%s'",
			            quote(tmp, sizeof(tmp), v, e));
		return 0;
	case K_SCHEDULER:
		if ((size_t)(e - v) >= sizeof(r->act.scheduler) ||
		    !mps_sched_find(quote(r->act.scheduler, sizeof(r->act.scheduler), v, e)))
			return fail(k, v, -EINVAL,
			            "unknown scheduler '%s' (default, roundrobin, redundant, ecf)",
			            quote(tmp, sizeof(tmp), v, e));
		r->act.set |= MPS_POL_SCHED;
		return 0;
	case K_SUBFLOWS:
		if (parse_uint(v, e, 8, &n) || n == 0)
			return fail(k, v, -EINVAL, "subflows is 1..8, not '%s'",
			            quote(tmp, sizeof(tmp), v, e));
		r->act.subflows = (uint8_t)n;
		r->act.set |= MPS_POL_SUBFLOWS;
		return 0;
	case K_GATEWAY:
		if (e - v == 3 && !memcmp(v, "yes", 3))
			r->act.gateway = 1;
		else if (e - v == 2 && !memcmp(v, "no", 2))
			r->act.gateway = 0;
		else
			return fail(k, v, -EINVAL, "gateway is 'yes' or 'no', not '%s'",
			            quote(tmp, sizeof(tmp), v, e));
		r->act.set |= MPS_POL_GATEWAY;
		return 0;
	default:
		return parse_list(k, r, (enum key)key, v, e);
	}
}

static int parse_line(struct pcur *k, struct mps_policy *p, const char *s, const char *e)
{
	struct mps_pol_rule r;
	const char *first = NULL;
	unsigned seen = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	r.line = k->line;
	while (s < e) {
		const char *w;

		while (s < e && is_blank(*s))
			s++;
		if (s == e || *s == '#')
			break;
		w = s;
		while (s < e && !is_blank(*s))
			s++;
		if (!first)
			first = w;
		rc = parse_word(k, &r, w, s, &seen);
		if (rc)
			return rc;
	}
	if (!first)
		return 0; /* blank or comment */
	if (!r.act.set)
		return fail(k, first, -EINVAL,
		            "this rule sets nothing (scheduler=, interfaces=, backup=, "
		            "subflows= or gateway=)",
		            NULL);
	if (p->nrules == MPS_POL_MAX_RULES)
		return fail(k, first, -EFBIG, "too many rules (at most %s)", "64");
	p->rule[p->nrules++] = r;
	return 0;
}

int mps_policy_parse(struct mps_policy *p, const char *text, size_t len, const char *name,
                     char *err, size_t errlen)
{
	struct pcur k = {name, err, errlen, 1, text};
	const char *s = text, *end = text + len;
	int rc = 0;

	p->nrules = 0;
	if (errlen)
		err[0] = '\0';
	if (len > MPS_POL_MAX_FILE)
		return fail(&k, text, -EFBIG, "file too large (at most %s bytes)", "65536");
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		const char *nul = memchr(s, '\0', (size_t)(eol - s));

		k.bol = s;
		if (nul) {
			rc = fail(&k, nul, -EINVAL, "NUL byte in a text file", NULL);
			break;
		}
		rc = parse_line(&k, p, s, eol);
		if (rc)
			break;
		k.line++;
		s = nl ? nl + 1 : end;
	}
	if (rc)
		p->nrules = 0;
	return rc;
}

/* ------------------------------------------------------------- matching */

static int prefix_has(const struct mps_pol_prefix *p, int family, const uint8_t *a)
{
	unsigned i, bits = p->bits;

	if (p->family != family)
		return 0;
	for (i = 0; i < bits / 8; i++)
		if (p->addr[i] != a[i])
			return 0;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));

		if ((p->addr[i] ^ a[i]) & mask)
			return 0;
	}
	return 1;
}

/* "example.com" is that name; "*.example.com" any name below it.  A
 * trailing dot on the resolved name (fully qualified) is ignored. */
static int host_has(const char *pat, const char *host)
{
	size_t hl = strlen(host), pl;

	if (hl && host[hl - 1] == '.')
		hl--;
	if (pat[0] == '*') {
		pl = strlen(pat + 1); /* ".example.com" */
		return hl > pl && !strncasecmp(host + hl - pl, pat + 1, pl);
	}
	pl = strlen(pat);
	return hl == pl && !strncasecmp(host, pat, pl);
}

static int rule_matches(const struct mps_pol_rule *r, const struct mps_pol_query *q)
{
	unsigned i;

	if (r->side && r->side != q->side)
		return 0;
	if (r->ndst) {
		for (i = 0; i < r->ndst; i++)
			if (prefix_has(&r->dst[i], q->family, q->addr))
				break;
		if (i == r->ndst)
			return 0;
	}
	if (r->nport) {
		for (i = 0; i < r->nport; i++)
			if (q->port >= r->port_lo[i] && q->port <= r->port_hi[i])
				break;
		if (i == r->nport)
			return 0;
	}
	if (r->nhost) {
		if (!q->host)
			return 0;
		for (i = 0; i < r->nhost; i++)
			if (host_has(r->host[i], q->host))
				break;
		if (i == r->nhost)
			return 0;
	}
	if (r->nprog) {
		if (!q->program)
			return 0;
		for (i = 0; i < r->nprog; i++)
			if (!strcmp(r->prog[i], q->program))
				break;
		if (i == r->nprog)
			return 0;
	}
	return 1;
}

int mps_policy_match(const struct mps_policy *p, const struct mps_pol_query *q,
                     struct mps_pol_action *out)
{
	unsigned i, b;
	int n = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; p && i < p->nrules; i++) {
		const struct mps_pol_action *a = &p->rule[i].act;
		unsigned add;

		if (!rule_matches(&p->rule[i], q))
			continue;
		n++;
		add = a->set & ~out->set;
		if (add & MPS_POL_SCHED)
			memcpy(out->scheduler, a->scheduler, sizeof(out->scheduler));
		if (add & MPS_POL_IFACES) {
			out->nifaces = a->nifaces;
			memcpy(out->ifaces, a->ifaces, sizeof(out->ifaces));
		}
		if (add & MPS_POL_BACKUP) {
			out->nbackup = a->nbackup;
			memcpy(out->backup, a->backup, sizeof(out->backup));
		}
		if (add & MPS_POL_SUBFLOWS)
			out->subflows = a->subflows;
		if (add & MPS_POL_GATEWAY)
			out->gateway = a->gateway;
		for (b = 0; b < 5; b++)
			if (add & (1u << b))
				out->line[b] = p->rule[i].line;
		out->set |= add;
	}
	return n;
}
