/* mib.c - counter names (see mib.h). */
#include "config.h"

#include <string.h>

#include "mptcpshim/mib.h"

static const char *const names[MPS_MIB__MAX] = {
        [MPS_MIB_CONNS] = "connections",
        [MPS_MIB_MP_CONNS] = "multipath_connections",
        [MPS_MIB_SF_OPENED] = "subflows_opened",
        [MPS_MIB_SF_JOINED] = "subflows_joined",
        [MPS_MIB_SF_REJECTED] = "joins_rejected",
        [MPS_MIB_SF_FAILED] = "subflows_failed",
        [MPS_MIB_SF_LOST] = "subflows_lost",
        [MPS_MIB_REINJ_BYTES] = "reinjected_bytes",
        [MPS_MIB_STALE] = "stale_events",
        [MPS_MIB_FB_PLAIN_SERVER] = "fallbacks_plain_server",
        [MPS_MIB_FB_TIMEOUT] = "fallbacks_timeout",
        [MPS_MIB_FB_PLAIN_CLIENT] = "fallbacks_plain_client",
        [MPS_MIB_OUTAGES] = "outages",
        [MPS_MIB_OUTAGES_SURVIVED] = "outages_survived",
        [MPS_MIB_FAILOVERS] = "failovers",
        [MPS_MIB_BYTES_SENT] = "bytes_sent",
        [MPS_MIB_BYTES_RECEIVED] = "bytes_received",
        [MPS_MIB_SET_APPLIED] = "set_applied",
        [MPS_MIB_GW_REQUESTS] = "gateway_requests",
        [MPS_MIB_GW_UNAUTH] = "gateway_unauthenticated",
        [MPS_MIB_GW_POLICY] = "gateway_policy_refused",
        [MPS_MIB_GW_DEST_FAILED] = "gateway_dest_failed",
        [MPS_MIB_HANDED] = "connections_handed",
        [MPS_MIB_HANDED_BACK] = "connections_handed_back",
        [MPS_MIB_EXEC_ADOPTED] = "connections_exec_adopted",
        [MPS_MIB_TAKEN_OVER] = "connections_taken_over",
        [MPS_MIB_RESUMED] = "connections_resumed",
        [MPS_MIB_RESUME_MISSED] = "resumptions_missed",
        [MPS_MIB_IDLE_RELEASES] = "idle_releases",
        [MPS_MIB_GW_LIMITED] = "gateway_limited",
        [MPS_MIB_DIRECT_WRITES] = "direct_writes",
        [MPS_MIB_INLINE_CONNS] = "inline_connections",
        [MPS_MIB_INLINE_PROMOTED] = "inline_promoted",
        [MPS_MIB_INLINE_HELLO_SHARED] = "inline_hello_shared",
        [MPS_MIB_CLOSED_FIN] = "closed_as_tcp",
};

const char *mps_mib_name(int id)
{
	return id >= 0 && id < MPS_MIB__MAX ? names[id] : NULL;
}

int mps_mib_find(const char *name)
{
	int i;

	for (i = 0; i < MPS_MIB__MAX; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}
