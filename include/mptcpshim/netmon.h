/* netmon.h - rtnetlink watcher for link and address changes (shim thread). */
#ifndef MPS_NETMON_H
#define MPS_NETMON_H

#include <stdint.h>

struct ev_loop;

/* Whom netmon tells (the connection engine registers itself: netmon does
 * not know it). */
struct mps_netmon_ops {
	/* An address was added or removed on interface ifindex. */
	void (*addr_event)(int family, const uint8_t *addr, unsigned ifindex, int added);
	/* ifindex went up or down (0, up: events were lost, or a route
	 * appeared: re-check everything). */
	void (*link_event)(unsigned ifindex, int up);
};

/* Start watching and reporting to ops (once per process; a no-op after
 * the first call). */
void mps_netmon_start(struct ev_loop *loop, const struct mps_netmon_ops *ops);

#endif
