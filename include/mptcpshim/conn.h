/* conn.h - one mptcpshim connection: the app's socketpair end on one side,
 * the subflow(s) on the other, and the state machine between them.
 * Everything here runs on the shim thread, except mps_conn_start, which an
 * app thread calls to hand a new connection over. */
#ifndef MPS_CONN_H
#define MPS_CONN_H

#include <sys/socket.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/nego.h"

struct mps_conn_params {
	enum mps_role role;
	int tcp_fd;     /* the first subflow (internal fd) */
	int shim_fd;    /* our end of the socketpair (internal fd) */
	int connecting; /* client: non-blocking connect still in progress */
	size_t filler;  /* client: filler bytes queued by the app end */
	int app_dup;    /* client, connecting: a dup of the app's end (internal), or -1 */
	int bound;      /* client: the app bound a local address before connect */
	struct sockaddr_storage local; /* bound address if bound */
	socklen_t local_len;
	struct mps_sock *sock; /* referenced for the connection's life */
	int peer_known_shim;   /* client: peercache says the peer speaks mptcpshim */
	int gw; /* client: through the gateway (tcp_fd is not connected yet);
		   server: accepted on a gateway listener */
	/* client: a pre-shared key mixed into the X25519 exchange (32 bytes,
	 * kex.h MPS_KEX_PSK_LEN; a gateway key, mps_gwauth_psk), copied; NULL:
	 * none, the default between shim peers.  The server side takes its
	 * PSK with mps_kex_server_set_psk(&c->kex, psk) before go_mp draws its
	 * keypair (docs/DESIGN.md "Key agreement and key schedule"). */
	const uint8_t *kex_psk;
	/* client, MPTCPSHIM_INLINE (inline.h): the app keeps inl_fd, the TCP
	 * socket (tcp_fd is our dup of it), and there is no socketpair;
	 * inl_look (a server's, accepted before any byte came): the app's
	 * first call must look before the client's HELLO_ACK timer runs out,
	 * else the shim thread takes the connection (promotion) */
	int inl, inl_fd, inl_look;
	/* server, inline: the client's whole HELLO, peeked at accept (not
	 * taken): the connection takes it at its start, on the app's
	 * thread, instead of the app's first read peeking again */
	const uint8_t *inl_hello;
	size_t inl_hello_len;
};

/* App threads (the daemon): the gateway's reply to the request of the
 * connection s (enum mps_gwreq_result), sent as GWREPLY; returns once the
 * shim thread queued it.  0 or -errno. */
int mps_conn_gw_reply(struct mps_sock *s, uint8_t result);
/* The same with success, and the connected TCP socket u (the daemon's;
 * the library takes a copy) as the connection's app end from then on
 * (MPS_SO_GW_SPLICE, gateway.h); fd is the daemon's end of the
 * connection.  0 or -errno. */
int mps_conn_gw_splice(struct mps_sock *s, int fd, int u);

/* Large socketpair buffers let the app and the shim thread each move big
 * batches per wakeup instead of alternating on a ~200 KiB buffer (loopback
 * iperf3: 38% -> 80% of plain TCP).  Root may exceed net.core.wmem_max
 * (SO_SNDBUFFORCE); others get what it allows. */
#define MPS_PAIR_BUF (4 << 20)
void mps_grow_pair_buffer(int fd);

/* Hand a new connection to the shim thread.  0 or -errno (then the caller
 * still owns the fds and the sock reference). */
int mps_conn_start(const struct mps_conn_params *p);

/* App threads: socket options of a connection.  getopt reads a live
 * subflow (the kernel TCP's own answer).  setopt applies to the live
 * subflows (every one, or the oldest only), and with MPS_OPT_EVERY is
 * remembered for subflows created later when the kernel took it (with no
 * live subflow, during an outage, it is only remembered).  Both return 0
 * or -1 with *err set (ENOTCONN: no live subflow for getopt, the
 * connection is over for setopt). */
enum mps_opt_how {
	MPS_OPT_EVERY, /* every subflow, present and future */
	MPS_OPT_NOW,   /* every present subflow (a one-shot action) */
	MPS_OPT_FIRST, /* the oldest live subflow only */
};
int mps_conn_getopt(struct mps_sock *s, int level, int name, void *val, socklen_t *len, int *err);
int mps_conn_setopt(struct mps_sock *s, int level, int name, const void *val, socklen_t len,
		    enum mps_opt_how how, int *err);
/* TCP_INFO of the connection: the lowest-RTT usable subflow's, with the
 * byte counters and state of the connection (data level) once multipath.
 * 0, or -1 with *err (ENOTCONN: no live subflow). */
int mps_conn_tcp_info(struct mps_sock *s, void *val, socklen_t *len, int *err);

/* Process exit (shim thread): treat what each app wrote so far as all it
 * will write; mps_conn_all_drained() says when every stream is delivered. */
struct ev_loop;
void mps_conn_exit_drain(struct ev_loop *loop);
int mps_conn_all_drained(void);
/* Process exit, the shim thread stopped: reset the connections a gateway
 * spliced to their destination's socket (MPS_SO_GW_SPLICE). */
void mps_conn_gw_exit(void);

/* Shim thread (or with it stopped): no connection needs this process any more (each one ended,
 * or its app closed every descriptor and its stream is delivered). */
int mps_conn_all_finished(void);
/* The keeper: break the loop once every connection is finished, or when
 * timeout seconds passed since the last app descriptor was closed. */
void mps_conn_keeper_begin(struct ev_loop *loop, double timeout);
/* Lock (1) / unlock (0) every connection's sock around the keeper's fork
 * (the shim thread is stopped: the list is stable). */
void mps_conn_lock_socks(int lock);
/* In a forked child (not the keeper): forget the parent's connections and
 * loop watchers, join listener, netlink socket and tokens. */
void mps_conn_atfork_child(void);
void mps_join_atfork_child(void);
void mps_netmon_atfork_child(void);

/* TCP_DEFER_ACCEPT on or off on listener lfd, logged (defacc.h's apply:
 * the engine's evidence and accept's both land here).  0, or -1 when the
 * setsockopt failed (defacc then leaves lfd alone). */
int mps_conn_defacc_apply(int lfd, int on);

#endif
