/* gwdest.c - mptcpshim-gateway's own connect to a destination (--threaded,
 * --relay: a daemon thread per request; by default the library connects,
 * gwdirect.c).  Split from main.c. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>

#include "mptcpshim/gateway.h"
#include "mptcpshim/gwpolicy.h"
#include "mptcpshim/gwreq.h"
#include "gwdest.h"
#include "../proxy/pxutil.h"
#include "../proxy/upstream.h"

int mps_gwdest_open(const struct mps_gwpolicy *pol, int timeout_ms, const struct mps_gwdest *d,
                    uint8_t *result, int *err, const char **why)
{
	long long deadline = mps_px_now_ms() + timeout_ms;
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = mps_gwreq_dest_sockaddr(d, &ss);
	int fd = -1, judged = 0, allowed = 0, last = ECONNREFUSED;

	*err = 0;
	*why = NULL;
	if (sl) {
		if (mps_gwp_refused(mps_gwpolicy_check(pol, ss.ss_family, d->addr, d->port, why))) {
			*result = MPS_GWR_POLICY;
			return -1;
		}
		fd = mps_upstream_try((struct sockaddr *)&ss, sl, deadline);
		if (fd >= 0) {
			*result = MPS_GWR_OK;
			return fd;
		}
		*err = -fd;
		*result = mps_gwreq_result_of_errno(-fd);
		return -1;
	}
	/* A name, resolved here: every address is judged, and the one judged
	 * is the one connected to (no second lookup). */
	if (mps_gw_lookup(d, &res, getaddrinfo) != 0) {
		*result = MPS_GWR_NAME;
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		const void *a = mps_gw_ai_addr(ai);

		if (!a)
			continue;
		judged++;
		if (mps_gwp_refused(mps_gwpolicy_check(pol, ai->ai_family, a, d->port, why)))
			continue;
		allowed++;
		fd = mps_upstream_try(ai->ai_addr, ai->ai_addrlen, deadline);
		if (fd >= 0 || fd == -ETIMEDOUT)
			break;
		last = -fd;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		*result = MPS_GWR_OK;
		return fd;
	}
	if (judged && !allowed) {
		*result = MPS_GWR_POLICY;
		return -1;
	}
	if (!judged) {
		*result = MPS_GWR_NAME;
		return -1;
	}
	*err = fd == -ETIMEDOUT ? ETIMEDOUT : last;
	*result = mps_gwreq_result_of_errno(*err);
	return -1;
}
