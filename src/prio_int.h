/* prio_int.h - MP_PRIO (prio.c) for the engine's modules. */
#ifndef MPS_PRIO_INT_H
#define MPS_PRIO_INT_H

#include <stdint.h>

#include "engine_types.h"

/* This end marks sf backup (1) or regular (0) and tells the peer with
 * an MP_PRIO frame queued on sf. */
void mps_prio_set(struct mps_subflow *sf, int backup);

/* The peer's MP_PRIO frame (flags: MPS_PF_*) received on sf of c. */
void mps_prio_rx(const struct mps_conn *c, struct mps_subflow *sf, uint8_t flags);

#endif
