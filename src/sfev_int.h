/* sfev_int.h - what subflow events mean; the tables registered by conn_begin (sfev.c) (private to the engine). */
#ifndef MPS_SFEV_INT_H
#define MPS_SFEV_INT_H

#include "engine_types.h"

/* The connection's handlers of subflow events (struct mps_sf_ops), what
 * conn.c calls up through (struct mps_conn_hooks) and the path manager's
 * entries for the modules below it (struct mps_pm_ops): registered by
 * conn_begin (connect.c). */
extern const struct mps_sf_ops mps_conn_sf_ops;
extern const struct mps_conn_hooks mps_conn_engine_hooks;
extern const struct mps_pm_ops mps_conn_pm_ops;

#endif
