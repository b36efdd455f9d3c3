/* sockint.h - what the connect, accept and descriptor hooks share
 * (src/interpose/socket.c, accept.c, fdcalls.c).  App threads only. */
#ifndef MPS_INTERPOSE_SOCKINT_H
#define MPS_INTERPOSE_SOCKINT_H

#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/gateway.h"

/* What mps_ix_adopt() is told about the TCP socket it takes over. */
struct adopt_args {
	enum mps_role role;
	int connecting;        /* client: the connect is still in progress */
	int nonblock, cloexec; /* the app's flags, kept on its number */
	const struct sockaddr *peer;
	socklen_t peer_len;
	int bound; /* client: the app bound it first, to local */
	const struct sockaddr_storage *local;
	socklen_t local_len;
	int known_shim; /* client: this process has seen the peer run mptcpshim */
	int inl_look;   /* inline server accepted before any byte (conn.h) */
	int gw;         /* client: through the gateway (fd not connected yet); server: accepted on a
		   gateway listener */
	const struct mps_gwdest *gw_dest; /* client, gw: the destination asked for by name
					     (MPS_SO_GW_CONNECT), or NULL: peer's address */
	uint32_t opt_want;                /* the options fd may carry (optseen.h) */
	uint32_t *opt_found;              /* if set: those that differ from the defaults */
	int loop_checked;                 /* the caller made sure the shim thread runs */
	int tcp_nonblock;                 /* fd's file is O_NONBLOCK already */
	const uint8_t *peek;              /* server: the first bytes accept saw waiting, */
	size_t peek_len;                  /* (peeked, not taken) */
};

/* inlinex.c: connect's inline start (MPTCPSHIM_INLINE): fd stays the
 * app's TCP socket.  0 or -errno (fd untouched, plain TCP). */
int mps_ix_inline_adopt(int fd, const struct adopt_args *a);
/* ... and accept's (server): when the client's whole HELLO, offering
 * HOLD, waits on fd (hello: its first bytes, a->peek, begin one), or
 * nothing yet from a host whose shim clients came lately.  0, or -errno (fd
 * untouched: adopt it as usual). */
int mps_ix_inline_accept(int fd, const struct adopt_args *a, int hello);
/* socket.c: the shim thread runs in this process.  0 or -errno. */
int mps_ix_loop_ready(void);
/* fd's sock, referenced, if it is an inline connection's (one relaxed
 * load while none is); NULL otherwise. */
struct mps_sock;
struct mps_sock *mps_ix_inline_get(int fd);
/* ... if it is an inline connection's whose rxq may hold bytes (the
 * inl_rxq hint; fd not checked against the socket: mps_fdtab_verify). */
struct mps_sock *mps_ix_inline_rxq_hint(int fd);
/* ... and the promotion of fd's connection if it is inline (any hook). */
void mps_ix_inline_promote_fd(int fd, const char *why);
/* ... of every inline descriptor an SCM_RIGHTS message passes (sendmsg):
 * the receiver gets the app's end, which the shim thread serves. */
struct msghdr;
void mps_ix_inline_promote_passed(const struct msghdr *msg);
/* The engine's parameters adoption and an inline start have in common
 * (role, TCP socket, connecting, bound address, sock, known shim, gateway):
 * the caller adds the app's side. */
void mps_ix_conn_params(struct mps_conn_params *p, const struct adopt_args *a,
                        struct mps_sock *s, int tcp);
/* 1 if sa is AF_INET or AF_INET6. */
int mps_ix_is_inet(const struct sockaddr *sa);
/* 1 if fd is a TCP stream socket. */
int mps_ix_is_tcp(int fd);
/* Swap fd (a TCP socket) for the app's end of a socketpair and start the
 * connection engine (socket.c says how).  0 or -errno: fd left untouched. */
int mps_ix_adopt(int fd, const struct adopt_args *a, int *app_fd_out);
/* The app's epoll registrations of fd, out of the file it names now
 * (those the kernel had, at most MPS_EPREG_PER_FD; how many), and into
 * the one it names after a swap. */
struct mps_epreg;
int mps_ix_ep_detach(int fd, struct mps_epreg *r);
void mps_ix_ep_attach(int fd, const struct mps_epreg *r, int n);

#endif
