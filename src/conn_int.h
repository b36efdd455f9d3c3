/* conn_int.h - conn.c's interface inside the engine: the connection's
 * life (state changes, abort, finish, the walk over the connections) and
 * the tables the modules above register with it (struct mps_conn_hooks,
 * struct mps_pm_ops).  The structures are in engine_types.h; each
 * module's own functions in its private header src/NAME_int.h. */
#ifndef MPS_CONN_INT_H
#define MPS_CONN_INT_H

#include "engine_types.h"
#include "mptcpshim/conn.h"

/* conn.c's functions and the tables the modules above register with it;
 * each engine module's own functions are declared in its private header
 * (src/NAME_int.h: dss_tx_int.h, subflow_int.h, path_int.h ...), which a
 * file includes only when it calls that module.  Shim thread only. */

/* conn.c */
extern struct mps_conn *mps_conn_list; /* every live connection: conn.c, connect.c, handover.c */
/* The live connections, for the modules that visit them all (stat, set,
 * steer, path events), which never walk mps_conn_list themselves:
 * for (c = mps_conn_first(); c; c = next) { next = mps_conn_next(c); ... }
 * (a connection ended meanwhile stays listed until it is freed, after the
 * callbacks: take next first only if the visit may free one). */
struct mps_conn *mps_conn_first(void);
struct mps_conn *mps_conn_next(const struct mps_conn *c);
void mps_conn_reaper_arm(struct ev_loop *loop);
/* malloc_trim within a second (at most once a second): freed memory goes
 * back to the system. */
void mps_conn_trim_soon(struct ev_loop *loop);
void mps_conn_abort(struct mps_conn *c, uint32_t reason, int send_close, const char *why);
void mps_conn_abort_err(struct mps_conn *c, uint32_t reason, int send_close, const char *why,
		    int app_err);
void mps_conn_check_done(struct mps_conn *c);
void mps_conn_handed_back(struct mps_conn *c); /* handback.c took its TCP socket */
void mps_conn_set_state(struct mps_conn *c, enum mps_conn_state s);
const char *mps_conn_state_name(enum mps_conn_state s);
/* The state once our DATA_FIN is sent (ours = 1) or taken back (0), ACKed,
 * or theirs received: for mps_conn_set_state. */
enum mps_conn_state mps_conn_state_with(int ours, int acked, int theirs);
/* Watch the app's end for EPOLLHUP/EPOLLERR (every app descriptor gone). */
int mps_conn_hup_watch(struct mps_conn *c);
/* inline.c: an app's call found the connect under way (connect.c). */
void mps_conn_inline_connected(struct mps_conn *c);
/* ... an inline server's: the client's whole HELLO waits, taken (0 once
 * multipath, -1 when c ended); promoted before it, the shim thread waits
 * for the client's first bytes as for any server's (connect.c). */
int mps_conn_inline_hello(struct mps_conn *c, const uint8_t *b, size_t got);
void mps_conn_server_await(struct mps_conn *c);
/* What the modules above hear of a connection's life, without conn.c
 * naming them: freeing (c is about to be freed), atfork_child (the
 * parent's connections are forgotten), app_hup (every app descriptor is
 * gone), update_read (exit drain: read the app's last bytes), pushed
 * (dss_tx: data is outstanding on several subflows, resilience.c's
 * stale detector arms), watch (dss_tx: data may wait for its data ACK,
 * resilience.c's progress watchdog arms),
 * gw_verdict and gw_reply (gwconn.c: a gateway connection's negotiation
 * outcome, a GWREPLY received; 0, or -1 when c is gone; gw_dest_failed:
 * a spliced destination's socket failed).  One set,
 * registered by conn_begin (sfev.c's mps_conn_engine_hooks); the modules
 * below read it with mps_conn_hooks(). */
struct mps_conn_hooks {
	void (*freeing)(struct mps_conn *c);
	void (*atfork_child)(void);
	void (*app_hup)(struct mps_conn *c);
	void (*update_read)(struct mps_conn *c);
	void (*pushed)(struct mps_conn *c);
	void (*watch)(struct mps_conn *c);
	void (*gw_verdict)(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v);
	int (*gw_reply)(struct mps_conn *c, const uint8_t *msg, size_t len);
	void (*gw_dest_failed)(struct mps_conn *c, int err); /* spliced: destination failed */
};
void mps_conn_set_hooks(const struct mps_conn_hooks *h);
const struct mps_conn_hooks *mps_conn_hooks(void);

/* Inline connections (inline.c, above the data path): registered by
 * mps_engine_wire.  mps_conn_promote: c gets its socketpair (0 at once if
 * c is not inline; -errno); mps_conn_inline_deliver: the app's buffer
 * while it reads (dss_rx.c's delivery for an inline c). */
struct mps_inline_ops {
	int (*promote)(struct mps_conn *c, const char *why);
	ssize_t (*deliver)(struct mps_conn *c, const struct iovec *iov, int n);
};
void mps_conn_set_inline(const struct mps_inline_ops *ops);
int mps_conn_promote(struct mps_conn *c, const char *why);
ssize_t mps_conn_inline_deliver(struct mps_conn *c, const struct iovec *iov, int n);

int mps_conn_hup_set(struct mps_conn *c, int on); /* handover.c: leave/join the hup set */
/* The connection is up for the app (TCP's connect completed; through a
 * gateway, its GWREPLY said so). */
void mps_conn_app_connected(struct mps_conn *c);
/* Read back the filler bytes the app's end holds, but keep_unread. */
void mps_conn_drain_filler(struct mps_conn *c, size_t keep_unread);

/* What the data path (mpcap.c, dss_rx.c, dss_tx.c, resilience.c) and set.c
 * and steer.c ask of the path manager, without naming it: one table,
 * sfev.c's mps_conn_pm_ops, registered by conn_begin (mps_conn_set_pm)
 * before the first connection; mps_conn_pm() returns it.  Each entry is the
 * function named beside it. */
struct mps_netmon_ops;
struct mps_pm_ops {
	void (*fill)(struct mps_conn *c);                      /* mps_path_pm_fill */
	void (*join_closed)(struct mps_conn *c, const struct mps_subflow *sf);
	void (*gate_bytes)(struct mps_conn *c);                /* lazy joins: mps_path_gate_bytes */
	void (*add_addr)(struct mps_conn *c, const struct mps_addr *a);
	void (*remove_addr)(struct mps_conn *c, uint8_t id);
	void (*server_advertise)(struct mps_conn *c, struct mps_subflow *sf);
	unsigned (*ifindex_of)(const struct sockaddr_storage *ss);
	/* mps_steer_cfg */
	const struct mps_config *(*cfg)(const struct mps_conn *c, struct mps_config *tmp);
	const struct mps_netmon_ops *path_events; /* path.c's, for mps_netmon_start */
	/* pm_addr.c's mps_path_server_addr_event, for path.c's address events */
	void (*server_addr_event)(struct mps_conn *c, int family, const uint8_t *addr, int added);
};
void mps_conn_set_pm(const struct mps_pm_ops *pm);
const struct mps_pm_ops *mps_conn_pm(void);

#endif
