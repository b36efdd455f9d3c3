/* inline_int.h - inline connections (inline.c): its table, which
 * mps_engine_wire registers with conn.c (mps_conn_set_inline). */
#ifndef MPS_INLINE_INT_H
#define MPS_INLINE_INT_H

#include "conn_int.h"

extern const struct mps_inline_ops mps_inline_ops;
/* The shim thread's look at a subflow the app's thread reads (subflow.c's
 * read watcher, mps_sf_set_inline_read). */
void mps_inline_sf_read(struct mps_conn *c, struct mps_subflow *sf);
/* inline.c, engine lock held: after the app's call, watch for data ACKs
 * if bytes wait for them (inline_peek.c); once no app thread waits on a
 * promoted connection's TCP socket, drop what was forwarded from it. */
void mps_inline_ack_watch(struct mps_conn *c);
void mps_inline_drop_forwarded(struct mps_conn *c);

/* inline_srv.c: an inline server's connection before its client spoke.
 * mps_inline_server_nego: 0 once multipath, -EAGAIN (nothing whole yet),
 * -EPIPE (a plain client, *why), -EXDEV (promoted: a malformed HELLO),
 * -ECONNRESET (c ended);
 * mps_inline_hand_back: a plain client's: c ends, untouched on the wire,
 * the socket the app's (its sock no longer inline: the caller's part). */
int mps_inline_server_nego(struct mps_conn *c, const char **why);
void mps_inline_hand_back(struct mps_conn *c, const char *why);
/* A join for token's connection: 1 if it must wait (handover_join.c's
 * list: an app thread waits on the TCP socket of an inline server's
 * connection, promoted now), else 0.  Registered by mps_engine_wire. */
int mps_inline_join_held(uint32_t token);

/* inline_rx.c: delivery into the app's buffer (dss_rx.c's app_write),
 * rxq into the app's buffer (bytes), an iovec's length, FIONREAD's count
 * (-1: cannot tell). */
ssize_t mps_inline_deliver(struct mps_conn *c, const struct iovec *iov, int n);
size_t mps_inline_rxq_take(struct mps_conn *c, const struct iovec *dst, int n);
size_t mps_inline_iov_len(const struct iovec *iov, int n);
int mps_inline_count_readable(struct mps_conn *c);

#endif
