/* connect_int.h - connect.c's functions for the modules above it
 * (handexec.c: a connection rebuilt after exec). */
#ifndef MPS_CONNECT_INT_H
#define MPS_CONNECT_INT_H

struct mps_conn;
struct mps_subflow;

/* The engine's tables (subflow events, joins, conn hooks, path manager),
 * registered before a connection's first event.  Shim thread. */
void mps_conn_engine_tables(void);
/* c's watchers and timers with their handlers (sf: its first subflow). */
void mps_conn_watchers_init(struct mps_conn *c, struct mps_subflow *sf);

#endif
