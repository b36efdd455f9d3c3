/* fuzz_gwpolicy.c - libFuzzer harness for the --allow/--deny rule parser.
 *
 * Properties checked, not only "no crash":
 *  - a refused rule names the rule and a column inside it (or just past it);
 *  - an accepted rule, written back canonically (address/len:lo-hi), parses
 *    to the same rule;
 *  - a policy holding only that rule as --deny refuses the rule's own first
 *    address at its first port, and as --allow allows it.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *          tests/fuzz/fuzz_gwpolicy.c src/gwpolicy.c -o fuzz_gwpolicy
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/gwpolicy.h"

static struct mps_gwpolicy pol;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256], err[512], canon[128], a[64];
	struct mps_gwrule r, r2;
	const char *col;
	uint8_t addr[16] = {0};
	int fam;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mps_gwpolicy_parse_rule(s, &r, err, sizeof(err)) != 0) {
		unsigned long c;

		assert(strncmp(err, "rule '", 6) == 0);
		col = strstr(err + 6 + strlen(s), "': column ");
		assert(col);
		c = strtoul(col + 10, NULL, 10);
		assert(c >= 1 && c <= strlen(s) + 1);
		return 0;
	}
	assert(r.port_lo >= 1 && r.port_lo <= r.port_hi);
	if (r.family == 0) {
		snprintf(canon, sizeof(canon), "*:%u-%u", r.port_lo, r.port_hi);
		fam = AF_INET;
	} else {
		fam = r.family == 4 ? AF_INET : AF_INET6;
		assert(inet_ntop(fam, r.addr, a, sizeof(a)));
		snprintf(canon, sizeof(canon), r.family == 4 ? "%s/%u:%u-%u" : "[%s/%u]:%u-%u", a,
		         r.plen, r.port_lo, r.port_hi);
		memcpy(addr, r.addr, 16);
	}
	assert(mps_gwpolicy_parse_rule(canon, &r2, err, sizeof(err)) == 0);
	assert(memcmp(&r, &r2, sizeof(r)) == 0);
	mps_gwpolicy_init(&pol);
	assert(mps_gwpolicy_add(&pol, 0, s, err, sizeof(err)) == 0);
	assert(mps_gwpolicy_check(&pol, fam, addr, r.port_lo, NULL) == MPS_GWP_DENY_EXPLICIT);
	mps_gwpolicy_init(&pol);
	assert(mps_gwpolicy_add(&pol, 1, s, err, sizeof(err)) == 0);
	assert(mps_gwpolicy_check(&pol, fam, addr, r.port_lo, NULL) == MPS_GWP_ALLOW_EXPLICIT);
	return 0;
}
