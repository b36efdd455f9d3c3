/* rxwatch_int.h - a subflow's readability watched from an app thread
 * without waking the loop (rxwatch.c). */
#ifndef MPS_RXWATCH_INT_H
#define MPS_RXWATCH_INT_H

#include "engine_types.h"

/* Off the loop, engine lock held: the loop starts sf's read watcher (and
 * feeds it a read) once sf is readable; lazy: once it finds it readable at
 * its next tick (within 10 ms: only for a subflow nothing waits on).  0,
 * or -errno (then start the watcher the usual way). */
int mps_rxwatch_add(struct ev_loop *loop, struct mps_subflow *sf, int lazy);
/* sf leaves the set (sf_free; once its readiness came). */
void mps_rxwatch_del(struct mps_subflow *sf);
/* A forked child: the set was the parent's. */
void mps_rxwatch_atfork_child(void);

#endif
