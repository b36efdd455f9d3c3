/* conn_api.h - what the modules above the data path ask of a connection:
 * the path manager (path.c), run-time changes (set.c) and the policy
 * (steer.c).  They ask the connection through these few calls and never
 * call the DSS sides (dss_tx.c, dss_rx.c, dss_ack.c) or resilience.c
 * themselves; conn.c maps each to the module that does it.  They walk the
 * connections with mps_conn_first/mps_conn_next (conn_int.h).
 * Shim thread only; c may be ended by any of them (mps_conn_closed). */
#ifndef MPS_CONN_API_H
#define MPS_CONN_API_H

struct mps_conn;
struct mps_subflow;

/* Send what may go now: the app's bytes, reinjections, and the control
 * frames the caller queued on a subflow (ADD_ADDR, PRIO, JOIN_OK). */
void mps_conn_kick(struct mps_conn *c);
/* sf just joined and carries data: the bytes read after its handshake are
 * the connection's (frames decoded as on any subflow). */
void mps_conn_sf_input(struct mps_conn *c, struct mps_subflow *sf);
/* A second subflow is up: the peer reads on its shim thread (dss_rx.c). */
void mps_conn_peer_joined(struct mps_conn *c);
/* A subflow works again: an outage in progress ends. */
void mps_conn_path_back(struct mps_conn *c);
/* The path under sf went away (address, link, interface turned off,
 * withdrawn by the server): sf is dropped now, its data resent on the
 * others; the last one starts an outage. */
void mps_conn_path_gone(struct mps_conn *c, struct mps_subflow *sf, const char *why);

#endif
