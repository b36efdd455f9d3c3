/* subflow_int.h - one TCP path and its events (subflow.c) (private to the engine). */
#ifndef MPS_SUBFLOW_INT_H
#define MPS_SUBFLOW_INT_H

#include "engine_types.h"

/* subflow.c */
/* What a subflow reports to the connection above it: subflow.c knows
 * sockets and bytes and calls up only through these (conn.c's handlers,
 * mps_conn_sf_ops, registered with mps_sf_set_ops before a connection's
 * first event).  c is sf->c, never NULL but for join_read and
 * join_timeout.  Shim thread only. */
struct mps_sf_ops {
	/* A subflow in SF_CONNECTING became writable: its connect ended. */
	void (*connected)(struct mps_conn *c, struct mps_subflow *sf);
	/* The kernel took more: sf->ready is set and its queue was flushed. */
	void (*writable)(struct mps_conn *c, struct mps_subflow *sf);
	/* New bytes in sf->rbuf (a read). */
	void (*readable)(struct mps_conn *c, struct mps_subflow *sf);
	/* Process what sf->rbuf holds (full before a read; frames left by
	 * RX_FRAME_BUDGET). */
	void (*rx)(struct mps_conn *c, struct mps_subflow *sf);
	/* A read found EOF (err 0) or failed with err. */
	void (*eof)(struct mps_conn *c, struct mps_subflow *sf, int err);
	/* A plain segment is written: the send buffer up to end is done with. */
	void (*plain_written)(struct mps_conn *c, uint64_t end);
	/* mps_sf_flush wrote what it could of sf's queue. */
	void (*written)(struct mps_conn *c, struct mps_subflow *sf);
	/* Bytes on an unverified server-side join (sf->c is NULL). */
	void (*join_read)(struct ev_loop *loop, struct mps_subflow *sf);
	/* sf->jtimer, the join handshake's deadline, expired. */
	void (*join_timeout)(struct ev_loop *loop, ev_timer *w, int revents);
	/* A subflow was freed: its memory waits for the reaper. */
	void (*freed)(struct ev_loop *loop);
};
void mps_sf_set_ops(const struct mps_sf_ops *ops);
/* The registered readable and eof handlers, for bytes read elsewhere (an
 * inline connection's app thread, inline.c). */
void mps_sf_input(struct mps_conn *c, struct mps_subflow *sf);
/* Readable while the app's thread reads it (an inline connection, or a
 * promoted one while an app thread still waits on its TCP socket):
 * inline.c's look, registered by mps_engine_wire. */
void mps_sf_set_inline_read(void (*fn)(struct mps_conn *c, struct mps_subflow *sf));
void mps_sf_input_eof(struct mps_conn *c, struct mps_subflow *sf, int err);
/* The kernel's smoothed RTT of a TCP socket, microseconds (0: unknown). */
uint32_t mps_sf_tcp_rtt_us(int fd);
extern struct mps_subflow *mps_sf_zombies; /* freed subflows, for conn.c's reaper */
struct mps_subflow *mps_sf_alloc(struct ev_loop *loop, int fd, enum mps_sf_state state);
uint8_t *mps_sf_rbuf_alloc(void);
void mps_sf_rbuf_free(uint8_t *rbuf, uint64_t received);
void mps_sf_destroy(struct mps_subflow *sf);
size_t mps_sf_idle_release(struct mps_subflow *sf);
/* The one place a subflow's state changes (logged at debug). */
void mps_sf_set_state(struct mps_subflow *sf, enum mps_sf_state s);
const char *mps_sf_state_name(enum mps_sf_state s);
void mps_sf_free(struct ev_loop *loop, struct mps_subflow *sf, int reset);
void mps_sf_close_probe(struct ev_loop *loop, struct mps_subflow *sf);
int mps_sf_usable(const struct mps_subflow *sf);
int mps_sf_n_usable(const struct mps_conn *c);
struct mps_subflow *mps_sf_best_usable(const struct mps_conn *c);
struct mps_subflow *mps_sf_attach_new(struct mps_conn *c, int fd, enum mps_sf_state state);
int mps_sf_conn_add(struct mps_conn *c, struct mps_subflow *sf);
void mps_sf_conn_del(struct mps_conn *c, struct mps_subflow *sf);
void mps_sf_unpark_all(struct mps_conn *c);
void mps_sf_park_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
int mps_sf_park(struct mps_conn *c, struct mps_subflow *sf);
void mps_sf_apply_opts(struct mps_conn *c, int fd);
/* TCP_NODELAY on a subflow's socket (fd < 0: nothing). */
void mps_sf_nodelay(int fd);
void mps_sf_update_lowat(struct mps_conn *c);
void mps_sf_log_stats(struct mps_conn *c, struct mps_subflow *sf);
int mps_sf_seg_prepare(struct mps_subflow *sf);
struct mps_seg *mps_sf_seg_add(struct mps_subflow *sf);
int mps_sf_queue_ctl(struct mps_subflow *sf, const uint8_t *fr, size_t len);
int mps_sf_flush(struct mps_conn *c, struct mps_subflow *sf);

#endif
