/* steer_int.h - the policy applied (steer.c) (private to the engine). */
#ifndef MPS_STEER_INT_H
#define MPS_STEER_INT_H

#include "engine_types.h"

/* steer.c: the policy file.  steer_start matches a new connection (app
 * thread, before the shim thread knows it: sets c->pol and its scheduler);
 * steer_match re-matches (shim thread); steer_cfg is the configuration
 * the path manager uses for c: the process's, with the policy's
 * interfaces, backup interfaces and subflows per path (in tmp when any
 * is set). */
void steer_start(struct mps_conn *c);
void steer_match(struct mps_conn *c);
const struct mps_config *steer_cfg(const struct mps_conn *c, struct mps_config *tmp);

#endif
