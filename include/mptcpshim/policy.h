/* policy.h - the steering policy file (MPTCPSHIM_POLICY=FILE): which
 * scheduler, interfaces, backup interfaces and subflows per path a
 * connection uses, chosen by its destination and the program.
 *
 * The parser and the matcher are pure (src/policy.c, unit-tested and
 * fuzzed); loading the file, reloading it and applying the result to
 * connections is the engine's (src/steer.c).
 *
 * Format (libmptcpshim(7), POLICY FILE): one rule per line, words
 * separated by blanks, each word KEY=VALUE; '#' starts a comment (at the
 * start of a word).  Match keys (all present must match; values in a
 * comma list are alternatives):
 *   dst=PREFIX[,...]      the peer's address (198.18.0.0/15, 2001:db8::1)
 *   port=N[-M][,...]      the service port: the destination port of a
 *                         connect(), the local port of an accept()
 *   host=NAME[,...]       the name the program resolved the peer's address
 *                         from (getaddrinfo); "*.example.com" matches
 *                         below example.com; case-insensitive
 *   program=NAME[,...]    the program's name (its argv[0] base name)
 *   side=client|server    connect() or accept()
 * Set keys:
 *   scheduler=NAME        default, roundrobin, redundant, ecf
 *   interfaces=IF[,...]   only these interfaces carry subflows
 *   backup=IF[,...]       these interfaces carry data only while no other works
 *   subflows=N            subflows per path, 1..8
 *   gateway=yes|no        through the gateway or not (mps_steer_gateway)
 * A line with no match key matches every connection.  Rules are read top
 * down and each setting comes from the first matching rule that sets it
 * (ssh_config(5)'s rule), so a catch-all at the end supplies defaults for
 * what the specific rules above leave unset. */
#ifndef MPS_POLICY_H
#define MPS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define MPS_POL_MAX_RULES 64
#define MPS_POL_MAX_LIST 8     /* values of one key in one rule */
#define MPS_POL_MAX_IF 16      /* interfaces of one key in one rule */
#define MPS_POL_NAME 64        /* host name pattern, NUL included */
#define MPS_POL_PROG 32        /* program name, NUL included */
#define MPS_POL_IFNAMSIZ 16    /* IF_NAMESIZE */
#define MPS_POL_MAX_FILE 65536 /* bytes; a larger file is an error */

/* What a rule sets (bits of mps_pol_action.set). */
enum {
	MPS_POL_SCHED = 1u << 0,
	MPS_POL_IFACES = 1u << 1,
	MPS_POL_BACKUP = 1u << 2,
	MPS_POL_SUBFLOWS = 1u << 3,
	MPS_POL_GATEWAY = 1u << 4,
};

enum { MPS_POL_ANY_SIDE = 0, MPS_POL_CLIENT = 1, MPS_POL_SERVER = 2 };

struct mps_pol_action {
	unsigned set;       /* MPS_POL_* bits: which fields below hold a value */
	char scheduler[16]; /* a name mps_sched_find knows */
	uint8_t nifaces;
	char ifaces[MPS_POL_MAX_IF][MPS_POL_IFNAMSIZ];
	uint8_t nbackup;
	char backup[MPS_POL_MAX_IF][MPS_POL_IFNAMSIZ];
	uint8_t subflows; /* 1..8 */
	uint8_t gateway;  /* 0 or 1: through MPTCPSHIM_GATEWAY or not */
	/* The line of the rule each field came from (0: none), for the logs;
	 * indexed by bit number of MPS_POL_*. */
	unsigned line[5];
};

struct mps_pol_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t bits;
};

struct mps_pol_rule {
	unsigned line;
	uint8_t ndst, nport, nhost, nprog, side;
	struct mps_pol_prefix dst[MPS_POL_MAX_LIST];
	uint16_t port_lo[MPS_POL_MAX_LIST], port_hi[MPS_POL_MAX_LIST];
	char host[MPS_POL_MAX_LIST][MPS_POL_NAME];
	char prog[MPS_POL_MAX_LIST][MPS_POL_PROG];
	struct mps_pol_action act; /* act.line[] unused here */
};

struct mps_policy {
	unsigned nrules;
	struct mps_pol_rule rule[MPS_POL_MAX_RULES];
};

/* What is known of a connection when it starts. */
struct mps_pol_query {
	int family;          /* AF_INET or AF_INET6 (IPv4-mapped given as AF_INET) */
	uint8_t addr[16];    /* the peer's address, network order */
	uint16_t port;       /* the service port (see above) */
	const char *host;    /* the resolved name, or NULL when not known */
	const char *program; /* the program's base name, or NULL */
	int side;            /* MPS_POL_CLIENT or MPS_POL_SERVER */
};

/* Parse text[0..len) (need not be NUL-terminated; a NUL byte is an error)
 * into p.  On an error p is left empty (no rule: the defaults apply), and
 * err gets one line "FILE:LINE:COL: message" (name is FILE; LINE and COL
 * count from 1, COL in bytes, pointing at the offending character) when
 * errlen > 0.  0, or -EINVAL on a syntax error, -EFBIG past
 * MPS_POL_MAX_FILE bytes or MPS_POL_MAX_RULES rules. */
int mps_policy_parse(struct mps_policy *p, const char *text, size_t len, const char *name,
                     char *err, size_t errlen);

/* The settings for q: each field from the first rule that matches q and
 * sets it (out->set says which were found; out->line which rule).  Returns
 * the number of rules that matched. */
int mps_policy_match(const struct mps_policy *p, const struct mps_pol_query *q,
                     struct mps_pol_action *out);

/* Engine side (src/steer.c) -------------------------------------------- */

/* Re-read the MPTCPSHIM_POLICY file.  New connections use the new rules;
 * live ones take their new scheduler, backup flags and subflows per path
 * at the shim thread's next turn (within one RTT).  On an error (file
 * unreadable, syntax error: logged with file, line and column) the rules
 * in force are kept.  Any thread.  0, -ENOENT when MPTCPSHIM_POLICY is
 * unset, or the error (-EINVAL syntax, -EFBIG, or the open/read errno). */
int mps_policy_reload(void);

#endif
