/* upstream.h - how mptcpshim-proxy reaches a destination.  One function,
 * so that the gateway (docs/DESIGN.md section 10) can become a second
 * upstream later without touching the relay: today every connection goes
 * directly to the destination, over a socket the preloaded library makes
 * multipath when the destination runs mptcpshim (plain TCP otherwise). */
#ifndef MPS_PROXY_UPSTREAM_H
#define MPS_PROXY_UPSTREAM_H

#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/gwreq.h"

/* Open a TCP connection to d within timeout_ms (names are resolved here,
 * with getaddrinfo, and each address tried in turn until one connects or
 * the time is up).  Returns a connected, non-blocking, close-on-exec
 * socket, or -1 with *result the enum mps_gwreq_result that says why
 * (MPS_GWR_NAME for a name that did not resolve) and *err the errno of
 * the last attempt (0 for a name). */
int mps_upstream_open(const struct mps_gwdest *d, int timeout_ms, uint8_t *result, int *err);

/* One non-blocking connect to sa, waited for until the deadline
 * (CLOCK_MONOTONIC milliseconds).  The connected non-blocking socket, or
 * -errno (-ETIMEDOUT once the deadline passed). */

int mps_upstream_try(const struct sockaddr *sa, socklen_t salen, long long deadline);

/* "host:port" or "[v6]:port" of d, for log lines. */
const char *mps_upstream_dest_str(const struct mps_gwdest *d, char *buf, unsigned len);

#endif
