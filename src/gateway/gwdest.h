/* gwdest.h - mptcpshim-gateway's own connect to a destination (gwdest.c). */
#ifndef MPS_GATEWAY_GWDEST_H
#define MPS_GATEWAY_GWDEST_H

#include <stdint.h>

#include "mptcpshim/gwpolicy.h"
#include "mptcpshim/gwreq.h"

/* The destination's address(es), judged by the policy pol, then connected
 * to in turn (blocking) within timeout_ms.  The socket, or -1 with
 * *result (MPS_GWR_*), *err (the errno, 0 if none) and *why (the policy's
 * reason, NULL if none). */
int mps_gwdest_open(const struct mps_gwpolicy *pol, int timeout_ms, const struct mps_gwdest *d,
                    uint8_t *result, int *err, const char **why);

#endif
