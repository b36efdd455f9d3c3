/* path_int.h - what path.c (the client's path manager, joins, path
 * events) and pm_addr.c (ADD_ADDR/REMOVE_ADDR) share, and nobody else.
 * Shim thread only. */
#ifndef MPS_PATH_INT_H
#define MPS_PATH_INT_H

#include <stdint.h>
#include <sys/socket.h>

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

#endif
