/* engine.c - the top of the core: it wires the modules below it together.
 *
 * The modules of the core call only downward (docs/DESIGN.md section 1,
 * "Layers"); where a lower one must reach a higher one, it calls through a
 * table the higher side registers.  loop.c's process-level hooks (the
 * control socket, the exit drain, the counters at exit) are registered
 * here, by mps_engine_wire, with join.c's handover part (the deferral of
 * joins for a connection offered to a forked child): from the library's
 * constructor and before the shim thread starts (interpose/), so that a
 * hook that runs before our constructor gets them too.  The connection's tables (subflow events,
 * conn hooks, the path manager) are registered by conn_begin (connect.c),
 * before the first connection: the simulated network (tests/sim) starts
 * connections without the library's constructor. */
#include "config.h"

#include "engine_types.h"
#include "handover_int.h"
#include "inline_int.h"
#include "join_int.h"
#include "subflow_int.h"
#include "mptcpshim/conn.h"
#include "mptcpshim/ctl.h"
#include "mptcpshim/engine.h"
#include "mptcpshim/gwlisten.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/stat.h"

static const struct mps_loop_hooks g_loop_hooks = {
        .thread_start = mps_ctl_start,
        .thread_exit = mps_ctl_exit,
        .all_drained = mps_conn_all_drained,
        .all_finished = mps_conn_all_finished,
        .exit_drain = mps_conn_exit_drain,
        .keeper_begin = mps_conn_keeper_begin,
        .handover_exit = mps_handover_exit,
        .gw_exit = mps_gwlisten_exit,
        .write_exit = mps_stat_write_exit,
        .atfork_child = mps_stat_atfork_child,
};

static const struct mps_join_handover g_join_handover = {
        .defer = mps_handover_defer_join,
        .gone = mps_handover_join_gone,
        .handed = mps_handover_handed,
};

void mps_engine_wire(void)
{
	mps_loop_set_hooks(&g_loop_hooks);
	mps_join_set_handover(&g_join_handover);
	mps_conn_set_inline(&mps_inline_ops);
	mps_ho_joins_set_held(mps_inline_join_held);
	mps_sf_set_inline_read(mps_inline_sf_read);
}
