/* stat.h - the engine's counters and events (shim thread only): what
 * `mptcpshim status` and `monitor` show.  Each engine site that logs an
 * event calls one of these in one line; they count it (per connection and
 * per process, mib.h) and, while a monitor is connected to the control
 * socket (ctl.h), publish it as an event record. */
#ifndef MPS_STAT_H
#define MPS_STAT_H

#include <stdint.h>

#include "mptcpshim/ctlproto.h"
#include "mptcpshim/mib.h"

struct mps_conn;
struct mps_subflow;

/* The process's counters. */
struct mps_mib *mps_stat_proc(void);

/* A new connection (numbered, born now). */
void mps_stat_new(struct mps_conn *c);
/* Count n in id for c (and the process); publish an event for the
 * event-like ids (sf may be NULL). */
void mps_stat(struct mps_conn *c, struct mps_subflow *sf, enum mps_mib_id id, uint64_t n);
/* A connection carried into this process across exec: a number of this
 * process's (its counters and age come along; it is not counted again). */
void mps_stat_renumber(struct mps_conn *c);
/* A fallback to plain TCP: id is one of MPS_MIB_FB_*, why the reason. */
void mps_stat_fallback(struct mps_conn *c, enum mps_mib_id id, const char *why);
/* A subflow was lost: if data was in flight and another subflow can carry
 * it, a failover begins (its stall is measured at the next progress). */
void mps_stat_lost(struct mps_conn *c, struct mps_subflow *sf, const char *why);
/* Data-level progress (a data ACK moved snd_una): ends a failover. */
void mps_stat_progress(struct mps_conn *c);
/* Interface ifindex went down (up = 0) or up. */
void mps_stat_path(unsigned ifindex, int up);
/* A free-form event (type, then "key=value ..." already escaped). */
void mps_stat_event(struct mps_conn *c, struct mps_subflow *sf, const char *type,
                    const char *extra);

/* The events go to publish while monitors() says someone listens (ctl.c,
 * which registers them when it starts: stat.c never calls up into it). */
void mps_stat_set_sink(int (*monitors)(void), void (*publish)(const char *line, size_t len));
/* The replies of `status` and `counters`, as records (ctlproto.h). */
/* A gateway's reply (enum mps_gwreq_result) went out: counted as refused by
 * its policy, by its limits (MPS_GWR_LIMITED) or as a destination not
 * reached. */
void mps_stat_gw_reply(struct mps_conn *c, uint8_t result);
/* A connection refused by the gateway's limits (gateway_limited): c's and
 * the process's counter.  Any thread when c is NULL (the process's counter
 * is added atomically: accept() may run on the app's thread). */
void mps_stat_gw_limited(struct mps_conn *c);
void mps_stat_dump(struct mps_obuf *out);
void mps_stat_counters(struct mps_obuf *out);
/* MPTCPSHIM_COUNTERS_FILE: append one JSON line, {"pid":PID,"command":
 * COMM,"counters":{NAME:VALUE,...}} (the names of `mptcpshim status
 * --counters`), with one O_APPEND write, so that processes sharing the
 * file never interleave.  Called once the process's connections are
 * finished (by the keeper, when one finished them), with the app's pid
 * and name.  Nothing when the variable is unset. */
void mps_stat_write_exit(int pid, const char *comm);
/* In a forked child (not the keeper): the process counters start at 0. */
void mps_stat_atfork_child(void);

#endif
