/* join_int.h - the join listener and MP_JOIN server side (join.c) (private to the engine). */
#ifndef MPS_JOIN_INT_H
#define MPS_JOIN_INT_H

#include "engine_types.h"

/* join.c */
/* The port of this process's join listener for family (created on first
 * use: a wildcard listener on an ephemeral port, dual-stack for IPv6).
 * 0 when it cannot be had. */
uint16_t mps_join_port(struct ev_loop *loop, int family);
/* Bytes arrived on an unverified server-side join. */
void mps_join_on_read(struct ev_loop *loop, struct mps_subflow *sf);
void mps_join_drop(struct ev_loop *loop, struct mps_subflow *sf, const char *why);
/* A verified join is handed to attach (the engine registers it first). */
void mps_join_set_attach(void (*attach)(struct mps_conn *c, struct mps_subflow *sf));
/* The handover's part in the joins (handover_join.c's mps_handover_defer_join,
 * mps_handover_join_gone, mps_handover_handed: see handover.h), registered
 * by engine.c's mps_engine_wire; none until then. */
struct mps_join_handover {
	int (*defer)(struct ev_loop *loop, struct mps_subflow *sf, uint32_t token);
	void (*gone)(struct mps_subflow *sf);
	int (*handed)(uint32_t token, char *why, size_t len);
};
void mps_join_set_handover(const struct mps_join_handover *ho);

#endif
