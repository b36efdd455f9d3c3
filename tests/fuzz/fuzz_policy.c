/* fuzz_policy.c - libFuzzer harness for the policy file parser and matcher
 * (include/mptcpshim/policy.h).
 *
 * Properties checked, not only "no crash":
 *  - the result is 0, -EINVAL or -EFBIG;
 *  - a refused file leaves no rule, and its message is "f:LINE:COL: ..."
 *    with LINE an existing line and COL inside it or just past its end;
 *  - an accepted file's rules each set something, come in line order, hold
 *    valid ports, prefixes, subflows and a known scheduler;
 *  - matching a query built from the same bytes sets only what some rule
 *    sets, and names a rule line for exactly the fields it set.
 *
 * Build: see tests/fuzz/fuzz.mk. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "mptcpshim/policy.h"
#include "mptcpshim/sched.h"

static struct mps_policy pol;

static void check_error(const uint8_t *data, size_t size, const char *err)
{
	unsigned long line, col, n = 1, len = 0;
	char *end;
	size_t i, bol = 0;

	FZ_ASSERT(!strncmp(err, "f:", 2));
	line = strtoul(err + 2, &end, 10);
	FZ_ASSERT(*end == ':');
	col = strtoul(end + 1, &end, 10);
	FZ_ASSERT(end[0] == ':' && end[1] == ' ');
	FZ_ASSERT(line >= 1 && col >= 1);
	for (i = 0; i < size && n < line; i++)
		if (data[i] == '\n') {
			n++;
			bol = i + 1;
		}
	FZ_ASSERT(n == line);
	while (bol + len < size && data[bol + len] != '\n')
		len++;
	FZ_ASSERT(col <= len + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mps_pol_action a;
	struct mps_pol_query q;
	char err[256], host[24], prog[16];
	unsigned i, j, any = 0, last = 0;
	struct fz z;
	int rc;

	rc = mps_policy_parse(&pol, (const char *)data, size, "f", err, sizeof(err));
	FZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -EFBIG);
	if (rc) {
		FZ_ASSERT(pol.nrules == 0);
		if (size <= MPS_POL_MAX_FILE)
			check_error(data, size, err);
		return 0;
	}
	for (i = 0; i < pol.nrules; i++) {
		const struct mps_pol_rule *r = &pol.rule[i];

		FZ_ASSERT(r->act.set != 0);
		FZ_ASSERT(r->line > last);
		last = r->line;
		any |= r->act.set;
		for (j = 0; j < r->nport; j++)
			FZ_ASSERT(r->port_lo[j] >= 1 && r->port_lo[j] <= r->port_hi[j]);
		for (j = 0; j < r->ndst; j++)
			FZ_ASSERT(r->dst[j].bits <= (r->dst[j].family == AF_INET ? 32 : 128));
		if (r->act.set & MPS_POL_SUBFLOWS)
			FZ_ASSERT(r->act.subflows >= 1 && r->act.subflows <= 8);
		if (r->act.set & MPS_POL_SCHED)
			FZ_ASSERT(mps_sched_find(r->act.scheduler) != NULL);
	}
	/* A query from the tail of the input. */
	z.p = data + size / 2;
	z.n = size - size / 2;
	memset(&q, 0, sizeof(q));
	q.family = fz_u8(&z) & 1 ? AF_INET6 : AF_INET;
	for (i = 0; i < 16; i++)
		q.addr[i] = fz_u8(&z);
	q.port = (uint16_t)(fz_u8(&z) << 8 | fz_u8(&z));
	q.side = fz_u8(&z) % 3;
	for (i = 0; i + 1 < sizeof(host); i++)
		host[i] = (char)(fz_u8(&z) | 0x20);
	host[i] = 0;
	for (i = 0; i + 1 < sizeof(prog); i++)
		prog[i] = (char)(fz_u8(&z) | 0x20);
	prog[i] = 0;
	q.host = fz_u8(&z) & 1 ? host : NULL;
	q.program = fz_u8(&z) & 1 ? prog : NULL;
	rc = mps_policy_match(&pol, &q, &a);
	FZ_ASSERT(rc >= 0 && (unsigned)rc <= pol.nrules);
	FZ_ASSERT((a.set & ~any) == 0);
	FZ_ASSERT(rc > 0 || a.set == 0);
	for (i = 0; i < 5; i++)
		FZ_ASSERT(!!(a.set & (1u << i)) == !!a.line[i]);
	return 0;
}
