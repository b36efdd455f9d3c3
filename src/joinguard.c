/* joinguard.c - admission policy for unverified joins, pure (see joinguard.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "mptcpshim/joinguard.h"

int mps_jg_src_of(const struct sockaddr *sa, struct mps_jg_src *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		out->family = 4;
		memcpy(out->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			out->family = 4;
			memcpy(out->addr, in6->sin6_addr.s6_addr + 12, 4);
			return 0;
		}
		out->family = 6;
		memcpy(out->addr, in6->sin6_addr.s6_addr, 8); /* the /64 */
		return 0;
	}
	return -EAFNOSUPPORT;
}

int mps_jg_same_src(const struct mps_jg_src *a, const struct mps_jg_src *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Unverified slots of src. */
static size_t count_unverified(const struct mps_jg_slot *s, size_t n, const struct mps_jg_src *src)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += (size_t)(!s[i].verified && mps_jg_same_src(&s[i].src, src));
	return k;
}

/* The oldest unverified slot of src (any source if src is NULL); -1 if
 * there is none. */
static int oldest_unverified(const struct mps_jg_slot *s, size_t n, const struct mps_jg_src *src)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i].verified || (src && !mps_jg_same_src(&s[i].src, src)))
			continue;
		if (best < 0 || s[i].seq < s[best].seq)
			best = (int)i;
	}
	return best;
}

int mps_jg_victim(const struct mps_jg_slot *slots, size_t n, const struct mps_jg_src *src,
                  size_t max_total, size_t max_per_src)
{
	int big = -1, o;
	size_t i, most = 0;

	if (count_unverified(slots, n, src) >= max_per_src)
		return oldest_unverified(slots, n, src);
	if (n < max_total)
		return MPS_JG_ADMIT;
	/* Full: the source with the most unverified joins pays its oldest;
	 * among equals, the one holding the oldest.  Verified joins go only
	 * when no unverified one is left: then the oldest. */
	for (i = 0; i < n; i++) {
		size_t k;

		if (slots[i].verified)
			continue;
		k = count_unverified(slots, n, &slots[i].src);
		o = oldest_unverified(slots, n, &slots[i].src);
		if (big < 0 || k > most || (k == most && slots[o].seq < slots[big].seq)) {
			big = o;
			most = k;
		}
	}
	if (big >= 0)
		return big;
	for (i = 0, o = 0; i < n; i++)
		if (slots[i].seq < slots[o].seq)
			o = (int)i;
	return o;
}

uint32_t mps_jg_first_timeout_us(uint32_t rtt_us)
{
	uint64_t w = (uint64_t)rtt_us * 4u;

	if (w < MPS_JG_FIRST_MIN_US)
		w = MPS_JG_FIRST_MIN_US;
	if (w > MPS_JG_FIRST_MAX_US)
		w = MPS_JG_FIRST_MAX_US;
	return (uint32_t)w;
}
