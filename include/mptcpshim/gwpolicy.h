/* gwpolicy.h - which destinations the gateway connects to (planned,
 * issue 14: not yet used; docs/DESIGN.md "Gateway").  Pure.
 *
 * Rules (--allow / --deny): ADDRESS[/LEN][:PORTS], where ADDRESS is IPv4,
 * or IPv6 in brackets when a port follows ("[2001:db8::/32]:443"; bare
 * "2001:db8::/32" has no port part), or "*" for any address; PORTS is
 * "P" or "P-Q" (1..65535).  No port part: every port.  Host bits beyond
 * LEN must be zero.
 *
 * Evaluation order, first match wins:
 *   1. an explicit --deny rule           -> refused
 *   2. an explicit --allow rule          -> allowed
 *   3. one of the gateway's own addresses -> refused
 *   4. the default deny list             -> refused
 *   5. anything else                      -> allowed
 * The default deny list: IPv4 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10,
 * 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16, 224.0.0.0/4
 * (multicast), 240.0.0.0/4 (reserved, and 255.255.255.255); IPv6 ::/128,
 * ::1/128, fe80::/10, fec0::/10, fc00::/7, ff00::/8.  An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is judged as the IPv4 address, in rules and in
 * destinations alike.
 */
#ifndef MPS_GWPOLICY_H
#define MPS_GWPOLICY_H

#include <stddef.h>
#include <stdint.h>

#define MPS_GWPOLICY_RULES_MAX 256u
#define MPS_GWPOLICY_OWN_MAX 64u

struct mps_gwrule {
	uint8_t family; /* 4, 6, or 0 for "*" */
	uint8_t plen;
	uint16_t port_lo, port_hi;
	uint8_t addr[16]; /* network order; the first 4 bytes for IPv4 */
};

enum mps_gwp_verdict {
	MPS_GWP_ALLOW = 0,      /* no rule refused it */
	MPS_GWP_ALLOW_EXPLICIT, /* an --allow rule */
	MPS_GWP_DENY_EXPLICIT,  /* a --deny rule */
	MPS_GWP_DENY_OWN,       /* one of the gateway's addresses */
	MPS_GWP_DENY_DEFAULT,   /* the default deny list */
};

struct mps_gwpolicy {
	struct mps_gwrule allow[MPS_GWPOLICY_RULES_MAX], deny[MPS_GWPOLICY_RULES_MAX];
	size_t nallow, ndeny;
	struct mps_gwrule own[MPS_GWPOLICY_OWN_MAX]; /* host routes, every port */
	size_t nown;
};

void mps_gwpolicy_init(struct mps_gwpolicy *p);

/* Parse one rule.  0, or -EINVAL with err = "rule 'TEXT': column N:
 * reason" (N counts from 1). */
int mps_gwpolicy_parse_rule(const char *s, struct mps_gwrule *r, char *err, size_t errlen);

/* Add an --allow (allow != 0) or --deny rule: 0, -EINVAL (err as above),
 * -ENOSPC beyond MPS_GWPOLICY_RULES_MAX. */
int mps_gwpolicy_add(struct mps_gwpolicy *p, int allow, const char *rule, char *err, size_t errlen);

/* One of the gateway's own addresses (family AF_INET or AF_INET6): 0,
 * -EINVAL, -ENOSPC. */
int mps_gwpolicy_add_own(struct mps_gwpolicy *p, int family, const void *addr);

/* The verdict for a destination (family AF_INET or AF_INET6, address in
 * network order); *why, if given, names the rule class.  Refused verdicts
 * are those >= MPS_GWP_DENY_EXPLICIT. */
enum mps_gwp_verdict mps_gwpolicy_check(const struct mps_gwpolicy *p, int family, const void *addr,
                                        uint16_t port, const char **why);
static inline int mps_gwp_refused(enum mps_gwp_verdict v)
{
	return v >= MPS_GWP_DENY_EXPLICIT;
}

#endif
