/* netmon.h - rtnetlink watcher for link and address changes (shim thread). */
#ifndef MPS_NETMON_H
#define MPS_NETMON_H

struct ev_loop;

/* Start watching (once per process; a no-op after the first call). */
void mps_netmon_start(struct ev_loop *loop);

#endif
