/* defacc.h - TCP_DEFER_ACCEPT learnt per listener (issue 15).
 *
 * A server under the shim serves a plain client on its own TCP socket
 * (accept.c's fast path) only when the client's first bytes have arrived
 * by the time the app accepts: then they show the client is plain.  When
 * the app accepts first (an event loop accepts as soon as the handshake
 * completes), the connection is relayed through a socketpair while the
 * engine waits for those bytes: about three times the system calls, a
 * thread hand-off each way, and plain clients' new connections per second
 * fell to 0.6-0.77 of plain TCP.  nginx's `listen ... deferred`
 * (TCP_DEFER_ACCEPT) made every such accept find the bytes waiting.
 *
 * The shim may set it itself only where it delays nobody: where clients
 * send first without waiting for the server.  Evidence for: an accept that
 * found a plain client's bytes already waiting, or a plain client whose
 * bytes the engine saw before the app spoke (or while its banner was
 * held): that client did not wait (an idle server accepts before any
 * byte arrives, so most evidence comes from the engine).
 * Evidence against: a connection of the listener's port where the app
 * spoke first and no client byte came within the banner window (the
 * engine's server_release): such clients may wait for a banner, and with
 * the option on they would wait about a second for their accept.  So a
 * listener gets the option after MPS_DEFACC_MIN accepts with bytes
 * waiting, never while its port has shown a banner, and loses it at the
 * first banner seen after (a client that waited gets accepted after the
 * kernel's one-second retry, and that connection's banner is the
 * evidence).  A listener where the app set the option itself is left
 * alone.
 *
 * Pure bookkeeping: no system call (the interpose layer's accept does the
 * setsockopt).  The port table is process-wide and lock-free; a listener's
 * record is its caller's (accept.c holds a lock). */
#ifndef MPS_DEFACC_H
#define MPS_DEFACC_H

#include <stdint.h>
#include <sys/socket.h>

/* Accepts with the client's bytes waiting before the option goes on. */
#define MPS_DEFACC_MIN 4
/* The value set (seconds): the kernel accepts a silent client after one
 * SYN-ACK retry, about a second. */
#define MPS_DEFACC_SECS 1

enum mps_defacc_state {
	MPS_DA_UNKNOWN = 0, /* not looked at yet */
	MPS_DA_WATCH,       /* counting accepts with bytes waiting */
	MPS_DA_ON,          /* we set TCP_DEFER_ACCEPT on it */
	MPS_DA_APP,         /* the app's own value: hands off */
	MPS_DA_NEVER,       /* its port showed a banner (or disabled) */
};

struct mps_defacc {
	uint8_t state;
	uint8_t with_data; /* accepts that found bytes waiting (saturates) */
	uint16_t port;     /* the listener's local port, host order */
};

enum mps_defacc_action { MPS_DA_NOTHING = 0, MPS_DA_SET, MPS_DA_CLEAR };

/* First look at a listener: app_value is its TCP_DEFER_ACCEPT as read
 * (non-zero: the app's own), port its local port. */
void mps_defacc_init(struct mps_defacc *d, int app_value, uint16_t port);
/* An accept on the listener: had_data if the client's bytes were waiting.
 * What the caller must do to the listener's option. */
enum mps_defacc_action mps_defacc_accept(struct mps_defacc *d, int had_data);
/* The app set TCP_DEFER_ACCEPT on the listener itself. */
void mps_defacc_app_set(struct mps_defacc *d);

/* The process's listeners (fds below 65536, at most MPS_DEFACC_MAX: others
 * are left alone).  Thread-safe. */
#define MPS_DEFACC_MAX 64

/* First look at listener lfd: its TCP_DEFER_ACCEPT (non-zero: the app's
 * own) and local port; 0 or -1 (then it is left alone). */
typedef int (*mps_defacc_look_fn)(int lfd, int *app_value, uint16_t *port);

/* An accept on lfd (had_data: the client's bytes were waiting): what the
 * caller must do to lfd's option.  look runs once per listener. */
enum mps_defacc_action mps_defacc_on_accept(int lfd, int had_data, mps_defacc_look_fn look);
/* The caller's setsockopt failed: leave lfd alone from now on. */
void mps_defacc_failed(int lfd);
/* Did we set lfd's option (so the app's getsockopt reads its own 0)? */
int mps_defacc_ours(int lfd);
/* The app set TCP_DEFER_ACCEPT on fd itself. */
void mps_defacc_app_sets(int fd);
/* fd was closed or now names another file. */
void mps_defacc_gone(int fd);
/* Every fd in [lo, hi] was closed (close_range, closefrom). */
void mps_defacc_gone_range(unsigned lo, unsigned hi);
/* The table's lock, held across fork. */
void mps_defacc_lock(int lock);

/* What the engine saw on a server connection whose local address is
 * local (its listener's port): client_first, the plain client's first
 * bytes came while the app had not spoken or its banner was still held
 * (that client did not wait); else a banner: the app spoke first and no
 * client byte came within the banner window.  A listener of that port
 * whose evidence now calls for the option on or off gets apply(lfd, on)
 * at once (under the table's lock, so lfd is still that listener; the
 * setsockopt is the caller's); apply may be NULL. */
typedef int (*mps_defacc_apply_fn)(int lfd, int on); /* 0, or -1: lfd is left alone */
void mps_defacc_seen(const struct sockaddr *local, int client_first, mps_defacc_apply_fn apply);
/* The port of an IPv4 or IPv6 address: 0, or -1 for another family. */
int mps_defacc_port(const struct sockaddr *sa, uint16_t *port);
/* Has port shown a banner in this process? */
int mps_defacc_banner_seen(uint16_t port);

#endif
