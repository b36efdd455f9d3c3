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

static size_t count_src(const struct mps_jg_slot *s, size_t n, const struct mps_jg_src *src)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += (size_t)mps_jg_same_src(&s[i].src, src);
	return k;
}

/* The oldest slot of src (any source if src is NULL), unverified ones
 * first; -1 if there is none. */
static int oldest_of(const struct mps_jg_slot *s, size_t n, const struct mps_jg_src *src)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (src && !mps_jg_same_src(&s[i].src, src))
			continue;
		if (best < 0 || s[i].verified < s[best].verified ||
		    (s[i].verified == s[best].verified && s[i].seq < s[best].seq))
			best = (int)i;
	}
	return best;
}

int mps_jg_victim(const struct mps_jg_slot *slots, size_t n, const struct mps_jg_src *src,
                  size_t max_total, size_t max_per_src)
{
	const struct mps_jg_src *big = NULL;
	size_t i, most = 0, unver = 0;

	if (count_src(slots, n, src) >= max_per_src)
		return oldest_of(slots, n, src);
	if (n < max_total)
		return MPS_JG_ADMIT;
	/* Full: the source with the most pending joins pays; among equals,
	 * the one holding the oldest.  Sources whose joins are all verified
	 * pay only if no unverified join is left anywhere. */
	for (i = 0; i < n; i++)
		unver += !slots[i].verified;
	for (i = 0; i < n; i++) {
		size_t k;
		int o;

		if (unver && slots[i].verified)
			continue;
		k = count_src(slots, n, &slots[i].src);
		o = oldest_of(slots, n, &slots[i].src);
		if (!big || k > most ||
		    (k == most && slots[o].seq < slots[oldest_of(slots, n, big)].seq)) {
			big = &slots[i].src;
			most = k;
		}
	}
	return big ? oldest_of(slots, n, big) : oldest_of(slots, n, NULL);
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
