/* gateway.h - the gateway glue between the library and its two users
 * (docs/DESIGN.md section 10): a client whose connect() goes through a
 * gateway (MPTCPSHIM_GATEWAY), and mptcpshim-gateway, the daemon that
 * serves those requests under the library.
 *
 * The daemon talks to the library through a private socket option level
 * (a number no kernel protocol uses), on descriptors the library owns:
 *
 *   setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_LISTEN, path, strlen(path))
 *       on a listening socket: it becomes a gateway listener.  The library
 *       loads the key file (gwauth.c) and, from then on, the process's own
 *       connect()s stay plain TCP (the gateway's outbound connections never
 *       carry a HELLO).  A connection accepted on it must send HELLO +
 *       GWREQ with a valid AUTH before anything is sent back.
 *   getsockopt(fd, MPS_SOL_SHIM, MPS_SO_GW_REQUEST, &info, &len)
 *       on an accepted connection: blocks until its request is
 *       authenticated (then fills struct mps_gwinfo) or the connection was
 *       refused (-1, ECONNABORTED; the reason is logged by the library).
 *   setsockopt(fd, MPS_SOL_SHIM, MPS_SO_GW_REPLY, &result, 1)
 *       the destination's connect result (enum mps_gwreq_result): sent as
 *       GWREPLY.  Until then nothing the daemon writes is sent.
 *   setsockopt(fd, MPS_SOL_SHIM, MPS_SO_GW_SPLICE, &u, sizeof(int))
 *       instead of MPS_SO_GW_REPLY when the destination is connected on u
 *       (a connected TCP socket): replies success and makes u the
 *       connection's app end.  The shim thread then reads and writes u
 *       itself (no relay, no copy through fd): the destination's EOF is
 *       the DATA_FIN, the client's DATA_FIN a shutdown(SHUT_WR) of u, a
 *       reset of either side a reset of the other (after the bytes read
 *       before it).  The library keeps its own copy of u: on success the
 *       caller closes u.  fd carries nothing more, but it reports POLLHUP
 *       (EPOLLHUP) once the connection ended, however it ended: keep it
 *       until then to count the connection.  Returns once the reply is
 *       queued; -1 with ENOTCONN when the connection ended meanwhile (the
 *       caller aborts u).
 *   setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_REPLAY, &fd, sizeof(int))
 *       before MPS_SO_GW_LISTEN: the replay cache is the one in the
 *       memory file fd (mps_gwreplay_new_shared, gwauth.h), which other
 *       processes serving the same port map too (mptcpshim-gateway
 *       --workers), so a replay is refused whichever process gets it.
 *       The caller may close fd after.
 *   setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_AUTH_TIMEOUT, &ms, sizeof(int))
 *       how long an accepted connection may take to authenticate (100 ms
 *       to 1 h; default 10 s) before it is closed with nothing sent back.
 *   setsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_DIRECT, &d, sizeof(d))
 *       once, on the listener, d a struct mps_gwdirect: from then on the
 *       library's shim thread serves each authenticated request itself,
 *       with no daemon thread in the way: the per-client rate and cap,
 *       then (an address) the policy and a non-blocking connect in its
 *       loop, whose result is the reply; connected, the destination's
 *       socket is the connection's app end as with MPS_SO_GW_SPLICE; a
 *       name is resolved on a short-lived thread of the library and every
 *       address judged.  The connections never reach the daemon: the shim
 *       thread accepts on the listener itself (gwlisten.c: --max-conns,
 *       the per-source limit before authentication) and holds no
 *       socketpair for them (1 descriptor plus one per subflow); the
 *       daemon need not accept (if it does, accept() takes the
 *       connections in the same way and returns EAGAIN).
 *   getsockopt(lfd, MPS_SOL_SHIM, MPS_SO_GW_COUNT, &n, &len)
 *       (int n) the connections the library holds for the listeners of
 *       this process now (accepted, not yet freed).
 *
 * And one for a client that has a destination's NAME, not its address
 * (mptcpshim-proxy: SOCKS5 domain names, HTTP CONNECT host names), so the
 * name is resolved at the gateway and no DNS query leaves beside it:
 *
 *   setsockopt(fd, MPS_SOL_SHIM, MPS_SO_GW_CONNECT, &dest, sizeof(dest))
 *       on an unconnected TCP socket, dest a struct mps_gwdest (gwreq.h;
 *       a name, or an address): connect(2) through the gateway, with
 *       connect's semantics: 0 once connected (blocking socket), or -1 with
 *       EINPROGRESS (non-blocking), then POLLOUT and SO_ERROR give the
 *       result (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH for a name the
 *       gateway cannot resolve...).  -1 with ENOPROTOOPT when no gateway
 *       is configured or MPTCPSHIM_GATEWAY_FOR does not send a name there
 *       (the kernel answers the same without the library): resolve it
 *       yourself.  When no gateway is reachable and
 *       MPTCPSHIM_GATEWAY_FALLBACK=direct, the result is MPS_GW_ENOGW: the
 *       library cannot resolve a name on its thread, so the caller falls
 *       back (resolves and connects directly) itself.  getpeername() names
 *       the unspecified address with dest's port (only the gateway knows
 *       the address the name resolved to).
 */
#ifndef MPS_GATEWAY_H
#define MPS_GATEWAY_H

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/gwauth.h"
#include "mptcpshim/gwconf.h"
#include "mptcpshim/gwpolicy.h"
#include "mptcpshim/gwreq.h"

#define MPS_SOL_SHIM 0x4d5053 /* "MPS": no kernel socket level */
enum {
	MPS_SO_GW_LISTEN = 1,
	MPS_SO_GW_REQUEST = 2,
	MPS_SO_GW_REPLY = 3,
	MPS_SO_GW_AUTH_TIMEOUT = 4,
	MPS_SO_GW_CONNECT = 5,
	MPS_SO_GW_SPLICE = 6,
	MPS_SO_GW_DIRECT = 7,
	MPS_SO_GW_COUNT = 8,
	MPS_SO_GW_REPLAY = 9,
};

/* MPS_SO_GW_DIRECT's configuration (copied: the caller may free it). */
struct mps_gwdirect {
	const struct mps_gwpolicy *policy; /* which destinations (copied) */
	int connect_timeout_ms;            /* the destination's handshake */
	int max_per_client;                /* connections of one key at once; 0: no cap */
	int rate_per_client;               /* new connections per second per key; 0: no limit */
	int verbose;                       /* log each connection's outcome */
	int max_conns;                     /* connections at once, authenticating ones too */
	int max_pending_per_source;        /* unauthenticated ones per source; 0: no limit */
	/* The operator's log (the daemon's): refusals and failed connects
	 * are said there, as the daemon said them ("CLIENT (PEER) -> DEST:
	 * ..."); NULL: the library's log. */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};
/* MPS_SO_GW_CONNECT's result when no gateway was reachable and the
 * fallback is direct: connect directly yourself. */
#define MPS_GW_ENOGW ENONET

struct mps_gwinfo {
	struct mps_gwdest dest;
	char client[MPS_GWAUTH_NAME_MAX + 1]; /* the key's name */
};

/* ---- library side (src/gateway.c) */
/* The process-wide client configuration (mps_config()->gw). */
const struct mps_gwconf *mps_gwconf(void);
/* connect(): route sa through the gateway?  (No when this process serves
 * as a gateway, when none is configured, or by MPTCPSHIM_GATEWAY_FOR.) */
int mps_gw_route(const struct sockaddr *sa);
/* The policy file's say (a rule with gateway=yes|no matching sa, the
 * program and the host name the app resolved, as a client): 1 through the
 * gateway, 0 not, -1 no rule says (MPTCPSHIM_GATEWAY_FOR decides: steer.c). */
int mps_steer_gateway(const struct sockaddr *sa);
/* The same for a host name (MPS_SO_GW_CONNECT): mps_gw_wants_name. */
int mps_gw_route_name(uint16_t port);
/* The client's GWREQ frame for destination sa, authenticated with the key
 * of MPTCPSHIM_GATEWAY_KEY_FILE and bound to pub_c (the X25519 public
 * value of its HELLO).  Returns the frame's length written into out
 * (cap >= MPS_HDR_LEN + MPS_GWREQ_MSG_MAX) or -errno (-ENOKEY: no usable
 * key; logged once). */
int mps_gw_client_request(const struct sockaddr *sa, const uint8_t pub_c[32], uint8_t *out,
                          size_t cap);
/* The same for a destination given as such (a name: MPS_SO_GW_CONNECT). */
int mps_gw_client_request_dest(const struct mps_gwdest *d, const uint8_t pub_c[32], uint8_t *out,
                               size_t cap);
/* The PSK (mps_gwauth_psk) of the client's key, for the key exchange:
 * 0, or -ENOKEY (no usable key: logged once). */
int mps_gw_client_psk(uint8_t psk[32]);

/* Gateway side. */
int mps_gw_serving(void); /* this process has a gateway listener */
int mps_gw_listen(int fd, const char *path, size_t len);
int mps_gw_is_listener(int fd);
/* MPS_SO_GW_AUTH_TIMEOUT: 0 or -EINVAL; and the value in force, seconds. */
int mps_gw_set_auth_timeout(int ms);
double mps_gw_auth_timeout(void);
/* MPS_SO_GW_REPLAY: the replay cache in the memory file fd
 * (mps_gwreplay_new_shared), mapped: 0, -EBUSY after MPS_SO_GW_LISTEN,
 * -EINVAL when fd is no such file. */
int mps_gw_set_replay(int fd);
/* Verify a GWREQ message (shim thread): 0 and *info filled, or -errno
 * with *why a static reason. */
int mps_gw_server_verify(const uint8_t *msg, size_t len, const uint8_t pub_c[32],
                         struct mps_gwinfo *info, uint8_t psk[32], const char **why);
/* MPS_SO_GW_DIRECT (src/gateway.c): 0, -EINVAL, -ENOMEM. */
int mps_gw_set_direct(const struct mps_gwdirect *d);
/* The shim thread serves requests itself (MPS_SO_GW_DIRECT was set). */
int mps_gw_direct(void);
/* The per-client rate and cap for client (a key's name): MPS_GWR_OK and
 * the connection counted (mps_gw_direct_release when it is freed), or
 * MPS_GWR_LIMITED (replied as MPS_GWR_REFUSED) with the refusal logged (who: "CLIENT (PEER)", dest:
 * for the log). */
uint8_t mps_gw_direct_admit(const char *client, const char *who, const char *dest);
void mps_gw_direct_release(const char *client);
/* An address destination judged by the policy: MPS_GWR_OK, or
 * MPS_GWR_POLICY (logged). */
uint8_t mps_gw_direct_judge(const struct mps_gwdest *d, const char *who, const char *dest);
/* The same, pure (any thread): refused (1, *why set) or not (0). */
int mps_gw_direct_refused(int family, const void *addr, uint16_t port, const char **why);
/* accept() on a listener served here: 0 (admitted; counted pending for
 * its source until mps_gw_direct_pending_drop), or -1 (over --max-conns
 * or the source's share: logged at most every 10 s; reset it, and count
 * it, mps_stat_gw_limited). */
int mps_gw_direct_accept(const struct sockaddr *peer);
void mps_gw_direct_pending_drop(const struct sockaddr *peer);
double mps_gw_direct_timeout(void); /* seconds */
/* Say it where the operator looks (mps_gwdirect.log), or the library's log. */
void mps_gw_direct_log(int always, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A destination name's TCP addresses, looked up with gai: 0 and *res to
 * free with freeaddrinfo, or -1 (*res NULL) when it does not resolve.
 * The daemon and the proxy pass getaddrinfo (under the preload library
 * its hook remembers the name for the policy file's host= rules); the
 * library's resolver thread passes mps_real.getaddrinfo. */
struct addrinfo;
typedef int (*mps_gai_fn)(const char *, const char *, const struct addrinfo *,
                          struct addrinfo **);
int mps_gw_lookup(const struct mps_gwdest *d, struct addrinfo **res, mps_gai_fn gai);
/* The IPv4 or IPv6 address in ai (what the policy judges), or NULL. */
const void *mps_gw_ai_addr(const struct addrinfo *ai);

/* Connections accepted on a gateway listener and not yet freed. */
void mps_gw_count_add(int d);
int mps_gw_count(void);

/* Set *flag to v (non-zero) and wake who waits for it in mps_gw_wait
 * (mu and cv belong to the waited-for object: one connection's sock, one
 * reply command, so a flood of pending connections wakes no one else). */
void mps_gw_signal(pthread_mutex_t *mu, pthread_cond_t *cv, _Atomic int *flag, int v);
/* Wait until *flag is non-zero; its value (1 ready, < 0 failed). */
int mps_gw_wait(pthread_mutex_t *mu, pthread_cond_t *cv, const _Atomic int *flag);

#endif
