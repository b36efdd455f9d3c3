/* upstream.h - how mptcpshim-proxy reaches a destination: over a socket
 * the preloaded library makes multipath, to the gateway when one is
 * configured (names resolved there) or directly (multipath when the
 * destination runs mptcpshim, plain TCP otherwise).  docs/DESIGN.md
 * section 10, "Local proxy". */
#ifndef MPS_PROXY_UPSTREAM_H
#define MPS_PROXY_UPSTREAM_H

#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/gwreq.h"

/* Open a TCP connection to d within timeout_ms.  An address is connected
 * to (the library routes it through the gateway when MPTCPSHIM_GATEWAY and
 * MPTCPSHIM_GATEWAY_FOR say so); a name goes to the gateway, which
 * resolves it, when one is configured (MPS_SO_GW_CONNECT), else it is
 * resolved here with getaddrinfo and each address tried in turn until one
 * connects or the time is up.  Returns a connected, non-blocking,
 * close-on-exec socket, or -1 with *result the enum mps_gwreq_result that
 * says why (MPS_GWR_NAME for a name that did not resolve here) and *err
 * the errno of the last attempt (0 for a name).  *how: a static phrase
 * for log lines ("direct", "through the gateway, resolved there"...). */
int mps_upstream_open(const struct mps_gwdest *d, int timeout_ms, uint8_t *result, int *err,
                      const char **how);

/* One non-blocking connect to sa, waited for until the deadline
 * (CLOCK_MONOTONIC milliseconds).  The connected non-blocking socket, or
 * -errno (-ETIMEDOUT once the deadline passed). */

int mps_upstream_try(const struct sockaddr *sa, socklen_t salen, long long deadline);


#endif
