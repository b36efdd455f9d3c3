/* mpcap_int.h - MP_CAPABLE and fallback (mpcap.c) (private to the engine). */
#ifndef MPS_MPCAP_INT_H
#define MPS_MPCAP_INT_H

#include "engine_types.h"

/* mpcap.c: MP_CAPABLE's equivalent, the HELLO exchange's outcome. */
void mps_conn_apply_verdict(struct mps_conn *c, struct mps_subflow *sf, enum mps_nego_verdict v);
/* Negotiated: the connection goes multipath on its first subflow. */
void mps_mpcap_go_mp(struct mps_conn *c, struct mps_subflow *sf);
/* Resumption (kex.h, resume.h) is on for c: MPTCPSHIM_RESUME is not 0
 * (gateway connections too: their tickets are bound to the client key,
 * DESIGN "Resumption"). */
int mps_mpcap_resume_on(const struct mps_conn *c);
/* Client: the address c's tickets are kept under: its gateway's (the one
 * tried now) through a gateway, else its peer's. */
const struct sockaddr *mps_mpcap_ticket_peer(const struct mps_conn *c);
/* Client: c's HELLO (its public value, TICKET, RESUME with the offered
 * ticket) into fr: its length. */
size_t mps_mpcap_client_hello(const struct mps_conn *c, uint8_t fr[MPS_HELLO_MAX_LEN]);
void mps_mpcap_nego_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
void mps_mpcap_hello_on_timer(struct ev_loop *loop, ev_timer *w, int revents);

/* A new TCP socket for the plain reconnect (kernel MPTCP where asked), or
 * of family for a shim subflow (kmptcp 0): 0..fd or -errno. */
int mps_conn_tcp_socket(struct mps_conn *c);
/* Connect c plainly to its peer, replaying its stream from the start (the
 * fallback; a gateway client's direct connect).  0, or -errno with *what
 * naming the step that failed (NULL: the connect); the caller aborts c. */
int mps_mpcap_plain_reconnect(struct mps_conn *c, const char **what);
int mps_conn_tcp_socket_fam(struct mps_conn *c, int family, int kmptcp);
/* The peer is plain TCP: reconnect plainly and replay what the app sent. */
void mps_conn_client_fallback(struct mps_conn *c, const char *why);

#endif
