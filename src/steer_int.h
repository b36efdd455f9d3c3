/* steer_int.h - the policy applied (steer.c) (private to the engine). */
#ifndef MPS_STEER_INT_H
#define MPS_STEER_INT_H

#include "engine_types.h"

/* steer.c: the policy file.  mps_steer_start matches a new connection (app
 * thread, before the shim thread knows it: sets c->pol and its scheduler);
 * mps_steer_match re-matches (shim thread); mps_steer_cfg is the configuration
 * the path manager uses for c: the process's, with the policy's
 * interfaces, backup interfaces and subflows per path (in tmp when any
 * is set).  c->pol is allocated only when a rule sets something: start
 * and match return 0, or -ENOMEM when it could not be (start: the
 * connection is refused; match: c->pol is left as it was). */
int mps_steer_start(struct mps_conn *c);
int mps_steer_match(struct mps_conn *c);
const struct mps_config *mps_steer_cfg(const struct mps_conn *c, struct mps_config *tmp);

#endif
