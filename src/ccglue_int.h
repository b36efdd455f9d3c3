/* ccglue_int.h - coupled congestion control in the engine (ccglue.c) (private to the engine). */
#ifndef MPS_CCGLUE_INT_H
#define MPS_CCGLUE_INT_H

#include "engine_types.h"

/* ccglue.c: coupled congestion control (MPTCPSHIM_CC, docs/DESIGN.md
 * "Coupled congestion control").  mps_ccglue_tick feeds the TCP_INFO readings the
 * stale tick took (have[i]: ti[i] is subflow i's); mps_ccglue_room is how many more
 * bytes sf may be handed (SIZE_MAX: no limit of ours); mps_ccglue_free at the end. */
struct tcp_info;
void mps_ccglue_tick(struct mps_conn *c, const struct tcp_info *ti, const int *have, double now);
size_t mps_ccglue_room(struct mps_conn *c, struct mps_subflow *sf);
/* what a coupled subflow's window carries per second (window / srtt,
 * bytes/s; 0: not coupled): the schedulers' rate is at least that, or a
 * subflow the window held back looks too slow to be given data again */
uint64_t mps_ccglue_rate(struct mps_conn *c, const struct mps_subflow *sf);
void mps_ccglue_free(struct mps_conn *c);
/* For the status tool (stat.c): sf's coupled window (bytes; 0 when it is
 * not coupled), the ids of the subflows coupled with it ("-": none) and
 * how long ago the detector's verdict on it last changed (seconds at now;
 * -1: no verdict, outside auto).  Returns whether it is coupled. */
int mps_ccglue_view(const struct mps_conn *c, const struct mps_subflow *sf, double now,
                    uint64_t *wnd, char *with, size_t wlen, double *since_s);
/* in a forked child: forget the parent's connections */
void mps_ccglue_atfork_child(void);
/* bytes of coupled state per connection while it has some (the unit
 * tests keep it under 8 KiB) */
size_t mps_ccglue_state_size(void);

#endif
