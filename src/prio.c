/* prio.c - MP_PRIO (RFC 8684 3.3.8): a subflow's backup flag, which the
 * schedulers read (sf->backup).  The client decides it for its interfaces
 * (MPTCPSHIM_BACKUP at the first subflow, mpcap.c; the policy file and its
 * reload, steer.c; `mptcpshim set backup`, set.c) and tells the server;
 * either end takes the peer's frame as it comes (dss_rx.c).  Shim thread
 * only. */
#include "config.h"

#include "mptcpshim/frame.h"
#include "mptcpshim/log.h"
#include "prio_int.h"
#include "subflow_int.h"

void mps_prio_set(struct mps_subflow *sf, int backup)
{
	uint8_t fr[MPS_PRIO_LEN];

	sf->backup = backup != 0;
	mps_frame_put_prio(fr, backup ? MPS_PF_BACKUP : 0);
	mps_sf_queue_ctl(sf, fr, sizeof(fr));
}

void mps_prio_rx(const struct mps_conn *c, struct mps_subflow *sf, uint8_t flags)
{
	sf->backup = (flags & MPS_PF_BACKUP) != 0;
	mps_info("conn %s: subflow %d is %s", c->peer_str, sf->id,
	         sf->backup ? "a backup" : "no longer a backup");
}
