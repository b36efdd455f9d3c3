/* path_int.h - what path.c (the client's path manager, joins, path
 * events) and pm_addr.c (ADD_ADDR/REMOVE_ADDR) share, and nobody else.
 * Shim thread only. */
#ifndef MPS_PATH_INT_H
#define MPS_PATH_INT_H

#include <stdint.h>
#include <sys/socket.h>

#include "engine_types.h"

struct mps_conn;
struct mps_config;
struct mps_local_addr;

/* path.c */
int mps_path_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
int mps_path_is_loopback(const struct sockaddr_storage *ss);
/* The usable local addresses of family (loopback ones when loop_scope),
 * cached for half a second and until the next netmon event: up to max in
 * out, their count returned. */
int mps_path_local_addrs(struct mps_conn *c, const struct mps_config *cfg, int family,
                         int loop_scope, struct mps_local_addr *out, int max);
/* Client: an address was announced (recorded): the path manager runs once
 * the lazy-join gate allows. */
void mps_path_pm_announced(struct mps_conn *c);

/* pm_addr.c */
/* Server: a local address was added or removed (netmon). */
void mps_path_server_addr_event(struct mps_conn *c, int family, const uint8_t *addr, int added);

/* path.c */
/* A verified server-side join joins its connection (join.c -> path.c). */
void mps_conn_attach_join(struct mps_conn *c, struct mps_subflow *sf);
unsigned mps_path_ifindex_of(const struct sockaddr_storage *ss);
void mps_path_server_advertise(struct mps_conn *c, struct mps_subflow *sf);
void mps_path_client_join_connected(struct mps_conn *c, struct mps_subflow *sf);
void mps_path_client_join_ack(struct mps_conn *c, struct mps_subflow *sf);
void mps_path_sf_on_jtimer(struct ev_loop *loop, ev_timer *w, int revents);
void mps_path_pm_fill(struct mps_conn *c);
void mps_path_pm_on_add_addr(struct mps_conn *c, const struct mps_addr *a);
void mps_path_pm_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
void mps_path_gate_bytes(struct mps_conn *c);
/* The client's path manager runs at the loop's next turn (its timer,
 * stopped and started again at 0: joins now). */
void mps_path_pm_now(struct mps_conn *c);
void mps_path_pm_on_remove_addr(struct mps_conn *c, uint8_t id);
void mps_path_pm_join_closed(struct mps_conn *c, const struct mps_subflow *sf);

/* Path events, registered with netmon.c by mpcap.c (struct mps_netmon_ops).
 * addr_event: an address was added or removed on interface ifindex.
 * link_event: ifindex went up or down (0, up: events were lost, re-check
 * everything). */
void mps_conn_on_addr_event(int family, const uint8_t *addr, unsigned ifindex, int added);
void mps_conn_on_link_event(unsigned ifindex, int up);


#endif
