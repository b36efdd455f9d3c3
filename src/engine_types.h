/* engine_types.h - the engine's structures (struct mps_conn, mps_subflow,
 * mps_seg, their states) and the state queries on them: no module's
 * functions, so that a module includes the structures without including
 * conn.c's interface (conn_int.h) or another module's (src/NAME_int.h).
 * Shim thread only, but where a field says otherwise. */
#ifndef MPS_ENGINE_TYPES_H
#define MPS_ENGINE_TYPES_H

#include <ev.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/config.h"
#include "mptcpshim/evoff.h" /* after <ev.h>: libev starts made off the loop */
#include "mptcpshim/fdtab.h" /* struct mps_sock */
#include "mptcpshim/dss_rcv.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/kex.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/nego.h"
#include "mptcpshim/ofo.h"
#include "mptcpshim/policy.h"
#include "mptcpshim/ranges.h"
#include "mptcpshim/sched.h"
#include "mptcpshim/sendbuf.h"
#include "mptcpshim/mib.h" /* struct mps_conn_stat */

#define RBUF_SIZE (256u * 1024u)    /* per-subflow receive buffer */
#define MAX_SEGS 32                 /* frames queued per subflow */
#define SF_QUEUE_MAX (512u * 1024u) /* bytes queued per subflow before the kernel (one subflow) */
#define SF_LOWAT \
	(128u * 1024u)               /* TCP_NOTSENT_LOWAT with several subflows: the scheduler,
				       not kernel buffers, decides where data goes */
#define SF_BURST (2u * MPS_DATA_MAX) /* bytes handed to a ready subflow at a time (several) */
#define JOIN_TIMEOUT 10.0            /* seconds for a join handshake */
#define RX_FRAME_BUDGET \
	1024 /* frames decoded per subflow callback, then the
				       other connections' turn (rx_more resumes) */

enum { RX_NEGO, RX_MP, RX_PLAIN }; /* mps_conn.rx_mode */
enum { TX_HOLD, TX_MP, TX_PLAIN }; /* mps_conn.tx_mode */

/* A connection's life, as TCP's (RFC 793's names), DATA_FIN playing FIN
 * at the data level (RFC 8684 3.3.3); in plain mode the subflow's FIN and
 * EOF play it.  Held in mps_conn.state and changed only by
 * mps_conn_set_state (conn.c), which logs each transition; getsockopt
 * TCP_INFO reads it from app threads (atomic load).  The DATA_FIN facts
 * are read from it with mps_conn_fin_sent/fin_acked/rcv_fin below. */
enum mps_conn_state {
	MPS_CONN_ESTABLISHED = 0, /* connecting, negotiating or carrying data: no DATA_FIN yet */
	MPS_CONN_FIN_WAIT1,       /* our DATA_FIN sent, not ACKed; theirs not received */
	MPS_CONN_FIN_WAIT2,       /* our DATA_FIN ACKed; theirs not received */
	MPS_CONN_CLOSE_WAIT,      /* theirs received; ours not sent */
	MPS_CONN_LAST_ACK,        /* both sent, ours not ACKed yet (TCP's CLOSING too) */
	MPS_CONN_TIME_WAIT,       /* both done: ends once the app has read everything and the
				     queues are empty (mps_conn_check_done); no 2MSL wait */
	MPS_CONN_CLOSED,          /* ended, gracefully or not: memory released soon */
};

enum mps_sf_state {
	SF_CONNECTING = 0, /* TCP connect in progress */
	SF_NEGO,           /* first subflow: MP_CAPABLE negotiation */
	SF_JOIN_SENT,      /* client: JOIN sent, waiting for JOIN_ACK */
	SF_JOIN_WAIT,      /* server: accepted on the join listener, waiting for JOIN */
	SF_JOIN_ACKED,     /* server: JOIN_ACK sent, waiting for JOIN_OK */
	SF_ACTIVE,         /* carries data */
	SF_DEAD,
};

struct mps_seg {
	uint8_t hdr[MPS_HELLO_LEN]; /* the largest header or control frame */
	uint8_t hlen;
	uint8_t is_ack; /* a standalone ACK, may be updated in place */
	uint8_t ctl;    /* (part of) a control frame (mps_sf_queue_ctl): no app data */
	uint8_t plain;  /* raw app bytes, freed from the send buffer once written */
	uint64_t dsn;   /* payload's first DSN */
	const uint8_t *payload;
	uint32_t plen;
};

struct mps_subflow {
	struct mps_conn *c; /* NULL while a server-side join is unverified */
	int id;             /* 1 for the first subflow of a connection */
	enum mps_sf_state state;
	int fd;
	ev_io rio, wio;
	ev_timer jtimer;  /* join handshake deadline */
	ev_timer rx_more; /* frames left in rbuf by RX_FRAME_BUDGET: next loop iteration */
	/* RBUF_SIZE, mapped on its own (mps_sf_rbuf_alloc): its pages are
	 * given back while the subflow is quiet */
	uint8_t *rbuf;
	size_t rlen, roff;
	struct mps_seg *seg; /* MAX_SEGS; freed while quiet once active, allocated again
				by the next frame (mps_sf_seg_add, issue 15); NULL: none */
	int nseg;
	size_t seg_done; /* bytes of seg[0] already written */
	size_t queued;   /* bytes in seg[] not yet written */
	uint32_t rtt_us;
	uint64_t
	        rate; /* delivery rate, bytes/s (ecf: TCP_INFO at each push; else the stale tick's) */
	uint64_t bw; /* last delivery rate not app-limited, bytes/s (stale tick) */
	uint32_t
	        inflight; /* bytes in flight or unsent in the kernel (ecf: each push; else the stale tick's) */
	uint8_t ready; /* the kernel has room: may be given data */
	uint8_t wr_shut, wr_dead, backup, lowat;
	uint8_t quiet; /* frames without data wait for one (the peer's QUIET or HOLD) */
	uint8_t more;  /* the next write says MSG_MORE: our FIN follows at once (dss_ack.c) */
	uint8_t rxw;   /* in rxwatch.c's sets (1, 2: the lazy one): its readability starts rio */
	uint32_t token; /* join: the token presented */
	uint32_t nonce_local, nonce_remote;
	uint8_t local_id, remote_id;
	unsigned ifindex; /* local interface, 0 if unknown */
	struct sockaddr_storage local, remote;
	uint64_t tx_bytes, rx_bytes;
	uint64_t red_nxt;  /* redundant scheduler: next DSN for this subflow */
	uint8_t red_init;  /* red_nxt holds a DSN (0 is a valid DSN too) */
	uint8_t fin_on;    /* our DATA_FIN went out on this subflow */
	uint8_t peer_live; /* the peer surely counts it: see peer_counts_another */
	/* DSNs given to this subflow and maybe not data-ACKed yet (a
	 * superset): reinjected when it dies or goes stale. */
	struct mps_ranges sent;
	double born; /* ev_now when created */
	/* Blackhole detection: TCP-level ACK progress, from TCP_INFO. */
	uint64_t acked_seen; /* tcpi_bytes_acked at the last change */
	/* Since when its oldest outstanding data has waited: the last ACK
	 * progress, or when data became outstanding after an idle spell
	 * (0: not known yet, set at the next tick). */
	double acked_at;
	double progress_at;        /* when its tcpi_bytes_acked last moved */
	uint32_t n_stale;          /* times found stale (in its closing stats line) */
	uint8_t stale;             /* no ACK progress while others progress: skipped, probed */
	uint8_t nagle;             /* coupled: TCP_NODELAY off again (ccglue.c) */
	struct mps_subflow *jnext; /* server: pending joins */
	char peer_str[64];
};

#define MPS_MAX_REMOTE 8

struct mps_remote {
	uint8_t id;
	uint8_t valid;
	/* with the port to join on; IPv4 or IPv6, so no sockaddr_storage:
	 * 8 x 100 bytes less per connection (issue 15).  mps_remote_get
	 * and mps_remote_set convert. */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;
};

static inline void mps_remote_get(const struct mps_remote *r, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &r->addr, sizeof(r->addr));
}
static inline void mps_remote_set(struct mps_remote *r, const struct sockaddr_storage *ss)
{
	memcpy(&r->addr, ss, sizeof(r->addr));
}

struct mps_conn {
	enum mps_role role;
	enum mps_conn_state state; /* mps_conn_set_state only */
	int rx_mode, tx_mode;
	struct mps_sock *sock;
	char peer_str[64];
	struct sockaddr_storage peer;
	socklen_t peer_len;
	int bound;
	struct sockaddr_storage bind_addr;
	socklen_t bind_len;

	struct mps_nego nego;
	/* The X25519 exchange (kex.h): kex.keys holds key_c/key_s and the
	 * join keys once negotiated; local_key/remote_key are key_c/key_s in
	 * role order (0 before), remote_idsn the peer's IDSN. */
	struct mps_kex_end kex;
	uint64_t local_key, remote_key;
	uint64_t remote_idsn;
	uint32_t local_token, remote_token;
	int token_registered;

	/* app side */
	int app_fd;
	ev_io app_r, app_w;
	int hup_registered;
	size_t filler;
	int app_dup;    /* connecting: our dup of the app's end, to grow it later;
			   gateway, spliced: the pair's end, held until freed */
	int app_eof;    /* read 0: the app shut its write side (or closed) */
	int app_closed; /* every app descriptor is gone */
	int rx_blocked; /* plain relay: app_fd full, subflow reading paused */
	/* Inline (inline.c): no app end; the app's number inl_fd is sf[0]'s
	 * TCP socket, read and written by the app's thread under the engine
	 * lock.  inl_dst/inl_ndst: the app's buffer while it reads (delivery
	 * goes there, inl_got bytes so far); inl_err: an error its wait saw;
	 * inl_rx_defer: promoted while an app thread waited on the TCP
	 * socket: the subflow is read once none does; inl_join_held: a join
	 * waits for that too (handover_join.c's list, inline.c). */
	uint8_t inl, inl_rx_defer, inl_join_held, inl_look;
	uint8_t hello_with_write; /* inline client: the app's write that saw the connect done
				    carries the HELLO (connect.c, inline.c) */
	/* quiet_ok: the peer holds frames without data for us (a QUIET
	 * client's server, an inline server's client: MPS_CAP_HOLD);
	 * peer_quiet: we hold for the peer, not LOUD again yet */
	uint8_t quiet_ok;
	uint8_t peer_quiet;
	uint8_t quiet_asked; /* client: its HELLO asked it (no fallback on the reply timer) */
	/* MPS_CAP_FINCLOSE (frame.h): both ends offered it (fin_close_ok);
	 * our DATA_FIN goes, or went, with the subflow's FIN (fin_close) */
	uint8_t fin_close_ok, fin_close;
	uint64_t quiet_mark; /* peer_quiet: rcv_nxt when what waited last left (dss_rx.c) */
	int inl_fd, inl_err;
	size_t inl_fwd;    /* inl_rx_defer: bytes peeked and processed, still in the socket */
	ev_timer inl_timer; /* ... the next look (inline.c) */
	const struct iovec *inl_dst;
	int inl_ndst;
	size_t inl_got;
	/* bulk reads (inline.c): app bytes of large reads since inl_rx_t */
	double inl_rx_t;
	uint64_t inl_rx_bulk;

	/* send side */
	struct mps_sendbuf sb; /* freed lazily: see snd_una */
	uint64_t snd_start;    /* first DSN of the stream */
	uint64_t snd_una;      /* everything below is data-ACKed */
	uint64_t snd_nxt;      /* next DSN to frame (non-redundant schedulers) */
	uint64_t snd_max;      /* highest DSN framed so far + 1 */
	uint64_t fin_dsn;      /* our DATA_FIN's, once sent (state) */
	int fin_resend;        /* the subflow that carried our DATA_FIN died before its ACK */
	size_t first_flight;
	int known_shim;          /* client: this process has seen the peer run mptcpshim */
	uint64_t snd_edge;       /* peer's window: never send at or beyond this DSN */
	struct mps_ranges reinj; /* a lost or stale subflow's DSNs, sent again first */
	struct mps_sched sched;
	struct mps_pol_action *pol; /* the policy file's settings (src/steer.c); NULL: none */
	uint16_t pol_port;         /* the service port its rules match */

	/* receive side */
	uint64_t rcv_nxt; /* next DSN expected (bytes in rxq count as received) */
	uint64_t ack_sent;
	uint32_t wnd_sent;      /* window advertised with ack_sent */
	uint32_t rcv_wnd_max;   /* our receive window when rxq is empty */
	uint64_t rcv_edge;      /* largest ack + wnd we advertised: no DSN at or past it */
	struct mps_sendbuf rxq; /* in-order bytes the app could not take yet */
	struct mps_ofo ofo;     /* bytes ahead of rcv_nxt (other subflows) */
	struct mps_dss_rcv dss; /* the DATA_FIN seen, the highest DSN received */
	int fin_delivered;      /* ... and shown to the app as EOF */
	int peer_gone;          /* the peer closed its last subflow after its DATA_FIN */
	ev_timer ack_timer;
	struct mps_subflow *ack_sf; /* where standalone ACKs go */
	/* A window that reopened after the peer may have been blocked is
	 * announced on every subflow, and again while no data follows (a
	 * path that died silently may have eaten it): see wnd_reopened. */
	ev_timer wnd_timer;
	double wnd_backoff;   /* next re-announcement delay, seconds */
	uint64_t wnd_rcv_nxt; /* rcv_nxt when it was announced */

	ev_timer nego_timer;
	int window_expired;
	int banner_unheld;    /* server: a plain client's host, no banner window (connect.c) */
	ev_timer hello_timer; /* server: a begun HELLO must complete in time */
	ev_io conn_w;         /* client: non-blocking connect completion of subflow 1 */
	ev_timer conn_look;   /* client, inline: the shim thread's first look at it (connect.c) */
	ev_timer fin_timer;

	/* subflows */
	struct mps_subflow *sf[MPS_MAX_SUBFLOWS];
	int nsf;
	int next_sf_id;
	/* Client: addresses the server announced.  Server: addresses we
	 * announced (to withdraw them when they go away). */
	struct mps_remote remotes[MPS_MAX_REMOTE];
	uint8_t next_addr_id; /* server: the next ADD_ADDR id */

	/* Outage: no working subflow; the client rejoins, both sides wait. */
	int outage;
	ev_timer outage_timer, rejoin_timer;
	ev_timer pm_timer; /* client: path manager run once the frames at hand are read */
	/* Client, lazy joins (issue 15, path.c): 0 before the first ADD_ADDR,
	 * 1 waiting for MPTCPSHIM_JOIN_DELAY or MPTCPSHIM_JOIN_BYTES, 2 open. */
	int pm_gate;
	double pm_gate_at;         /* ev_now when the delay is over */
	uint64_t pm_snd0, pm_rcv0; /* snd_max, rcv_nxt at the first ADD_ADDR */
	/* Subflows dropped for a local reason (address or link gone): kept
	 * open, unread, so that the peer sees silence rather than a reset of
	 * what may be its last subflow (which means "process gone", see
	 * mps_resil_sf_mp_eof), and closed once it surely counts another one. */
#define MPS_MAX_PARKED 4
	int parked[MPS_MAX_PARKED];
	int nparked;
	ev_timer park_timer; /* closes them once the peer counts another subflow */
	double rejoin_backoff, outage_since;
	/* Progress watchdog: outstanding data not data-ACKed for
	 * MPTCPSHIM_OUTAGE_TIMEOUT ends the connection (ETIMEDOUT). */
	ev_timer watchdog;
	double last_progress;
	double last_resend;    /* data-level retransmission, at most once a second */
	double peer_closed_at; /* when the peer last closed (FIN/RST) a subflow mid-stream */
	/* Blackhole detection, while >= 2 subflows carry data: on the
	 * process's stale tick list (resilience.c). */
	uint8_t stale_on;
	double stale_since; /* ev_now when it joined the list */
	struct mps_conn *stale_next, *stale_prev;
	struct mps_ccglue *ccg; /* coupled congestion control (src/ccglue.c); NULL: none yet */

	/* Gateway (docs/DESIGN.md section 10).  Client: connect() goes
	 * through a gateway; server: accepted on a gateway listener. */
	uint8_t gw;
	uint8_t gw_wait;                 /* client: connect() waits for GWREPLY; server: the
			      app's bytes wait for the daemon's reply */
	uint8_t gw_early;                /* client: enum mps_gw_early (mps_gwconn_early) */
	int gw_idx;                      /* client: the gateway tried now (mps_gwconf()) */
	struct sockaddr_storage gw_peer; /* client: that gateway's address */
	ev_timer gw_timer;               /* client: this attempt's deadline, then the reply's;
			      server: the authenticated request's */
	uint8_t *gw_frame;               /* GWREQ / GWREPLY frame a queued segment points into */
	uint8_t gw_splice; /* server: app_fd is the destination's TCP socket (MPS_SO_GW_SPLICE) */
	int gw_dest_err;   /* server, spliced: the destination failed (errno): what it sent
			      before goes out, then the connection is reset (gw_timer) */
	double gw_dest_err_at; /* ... since then (ev_now) */
	double gw_req_at;      /* server: when the request verified (ev_time; debug log) */
	/* server, MPS_SO_GW_DIRECT: the shim thread connects the destination
	 * (gwconn.c); until it answered, the client's bytes wait in rxq */
	uint8_t gw_connecting;
	uint8_t gw_counted; /* counted against its client's cap (mps_gw_direct_admit) */
	uint8_t gw_pend_done; /* no longer pending for its source (mps_gw_direct_accept) */
	uint8_t gw_drop;      /* refused or failed: what the client sends is dropped */
	int gw_dest_fd;       /* while gw_connecting: the destination's socket (-1: none yet) */
	ev_io gw_dest_w;      /* ... its handshake's end */
	struct mps_gw_addrs *gw_addrs; /* ... the addresses to try (gwconn.c) */

	struct ev_loop *loop;
	struct mps_cmd start_cmd;
	struct mps_conn *next, *prev; /* every live connection (shim thread) */
	int exiting;                  /* the process is exiting: what the app wrote is all */
	struct mps_conn_stat st;      /* counters for mptcpshim status (stat.h) */
	uint8_t exec_carried;         /* carried across exec (handover_exec.c): not offered again */
	/* Idle memory sweep (idlemem.c): the activity count at the last look,
	 * and whether this quiet spell's memory was given back. */
	uint64_t idle_seen;
	uint8_t idle_released;
};

/* Ended (aborted or finished): code up the stack checks it after a call
 * that may have ended c, whose memory is released after the callbacks. */
static inline int mps_conn_closed(const struct mps_conn *c)
{
	return c->state == MPS_CONN_CLOSED;
}
/* The DATA_FIN facts the state holds (none once CLOSED). */
static inline int mps_conn_fin_sent(const struct mps_conn *c)
{
	return c->state == MPS_CONN_FIN_WAIT1 || c->state == MPS_CONN_FIN_WAIT2 ||
	       c->state == MPS_CONN_LAST_ACK || c->state == MPS_CONN_TIME_WAIT;
}
static inline int mps_conn_fin_acked(const struct mps_conn *c)
{
	return c->state == MPS_CONN_FIN_WAIT2 || c->state == MPS_CONN_TIME_WAIT;
}
static inline int mps_conn_rcv_fin(const struct mps_conn *c) /* DATA_FIN (or plain EOF) */
{
	return c->state == MPS_CONN_CLOSE_WAIT || c->state == MPS_CONN_LAST_ACK ||
	       c->state == MPS_CONN_TIME_WAIT;
}

#endif
