/* idlemem.c - what a quiet connection holds and does not need goes back
 * (issue 15): one coarse sweep per process, every IDLE_SWEEP seconds
 * while connections exist, like ccglue.c's.  A connection whose
 * subflows moved no byte and whose app wrote none over a whole interval
 * is quiet; once per quiet spell its receive buffers' pages are given back
 * to the system (madvise), its segment tables, its emptied send buffer and
 * receive queue chunks, an empty out-of-order queue's tables and the
 * range sets' heap slots go back to malloc,
 * and malloc is asked to return the freed pages (conn.c's trim, at most
 * once a second).  Nothing changes for the data path: each of these is
 * allocated or mapped again by the next byte, at the cost of one
 * allocation or page fault.  A busy connection is never touched, so
 * throughput pays nothing; the sweep's own cost is one pass over the
 * connections a second (docs/DESIGN.md section 4, "Memory of a quiet
 * connection"). */
#include "config.h"

#include <string.h>

#include "conn_int.h"
#include "idlemem_int.h"
#include "subflow_int.h"
#include "mptcpshim/log.h"
#include "mptcpshim/stat.h"

#define IDLE_SWEEP 1.0 /* s between two looks; quiet means a whole interval without a byte */

static ev_timer g_sweep;

/* Grows with every byte the connection moves: the app's writes (sb.end),
 * in-order data received, each subflow's bytes both ways.  A sum of
 * counters that only grow is unchanged only when none moved. */
static uint64_t activity(const struct mps_conn *c)
{
	uint64_t a = c->sb.end + c->rcv_nxt + (uint64_t)c->nsf;
	int i;

	for (i = 0; i < c->nsf; i++)
		a += c->sf[i]->tx_bytes + c->sf[i]->rx_bytes;
	return a;
}

static size_t release(struct mps_conn *c)
{
	size_t freed = mps_sendbuf_release(&c->sb) + mps_sendbuf_release(&c->rxq);
	int i;

	if (mps_ranges_shrink(&c->reinj))
		freed += MPS_RANGES_MAX * sizeof(struct mps_range);
	/* the out-of-order queue's chunk table and range nodes (2.8 KiB and
	 * more), kept from the last reordering: none while it holds nothing */
	if (c->ofo.nsegs == 0 && (c->ofo.chunk || c->ofo.nodes)) {
		freed += (size_t)c->ofo.ncap * MPS_OFO_NODE_COST +
		         c->ofo.nchunks * (sizeof(uint8_t *) + sizeof(uint32_t));
		mps_ofo_free(&c->ofo);
	}
	for (i = 0; i < c->nsf; i++)
		freed += mps_sf_idle_release(c->sf[i]);
	return freed;
}

static void sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mps_conn *c;
	size_t freed = 0;
	int live = 0;

	(void)revents;
	for (c = mps_conn_first(); c; c = mps_conn_next(c)) {
		uint64_t a;

		live = 1;
		if (mps_conn_closed(c))
			continue;
		a = activity(c);
		if (a != c->idle_seen) {
			c->idle_seen = a;
			c->idle_released = 0;
			continue;
		}
		if (c->idle_released)
			continue;
		c->idle_released = 1;
		freed += release(c);
		mps_stat(c, NULL, MPS_MIB_IDLE_RELEASES, 1);
	}
	if (freed) {
		/* (receive buffers counted whole: only their touched pages were resident) */
		mps_dbg("idle connections: up to %zu KiB given back", freed / 1024);
		mps_conn_trim_soon(loop);
	}
	if (!live)
		ev_timer_stop(loop, w);
}

void mps_idlemem_arm(struct ev_loop *loop)
{
	if (!ev_cb(&g_sweep))
		ev_timer_init(&g_sweep, sweep, IDLE_SWEEP, IDLE_SWEEP);
	if (!ev_is_active(&g_sweep)) {
		ev_timer_set(&g_sweep, IDLE_SWEEP, IDLE_SWEEP);
		ev_timer_start(loop, &g_sweep);
	}
}

void mps_idlemem_atfork_child(void)
{
	memset(&g_sweep, 0, sizeof(g_sweep)); /* the parent's loop's */
}
