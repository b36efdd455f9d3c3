/* nego.h - the MP_CAPABLE-equivalent negotiation as a pure state machine.
 *
 * The connection engine feeds it the bytes the peer has sent so far (it
 * keeps them in its own buffer, nego only looks), EOF/reset and timer
 * expiry; nego answers with a verdict.  No I/O, no clock: the test seam.
 *
 * Client: sends HELLO at once, then waits for HELLO_ACK.
 *   HELLO_ACK            -> MP
 *   other bytes/EOF/RST  -> PLAIN (the engine reconnects plain and replays)
 *   reply timeout        -> PLAIN
 * Server: waits for the client's first bytes.
 *   valid HELLO          -> MP (engine answers HELLO_ACK)
 *   other bytes / EOF    -> PLAIN (engine passes bytes through untouched)
 *   banner timeout       -> RELEASED: the server app's held bytes go out raw,
 *                           but client bytes are still checked: a late HELLO
 *                           then gets ABORT (never shown to the app), anything
 *                           else PLAIN.
 *   HELLO begun but not completed within mps_nego_hello_timeout_us()
 *                        -> PLAIN (mps_nego_hello_stalled): the bytes so far
 *                           and everything after go to the app untouched.
 * A HELLO/HELLO_ACK that matches the prefix but is malformed is an ERROR,
 * a version 1 one (body length 24: a key in clear) included.  A HELLO
 * with resumption fields (frame.h MPS_CAP_RESUME / MPS_CAP_TICKET) is
 * waited for whole, as its header's length says.
 * The key exchange itself (X25519, the public values the HELLOs carry) is
 * kex.h's mps_kex_client_* / mps_kex_server_*; nego only hands the peer's
 * public value over (remote_pub).
 */
#ifndef MPS_NEGO_H
#define MPS_NEGO_H

#include <stddef.h>
#include <stdint.h>

#include "mptcpshim/frame.h"

enum mps_role { MPS_CLIENT = 0, MPS_SERVER = 1 };

enum mps_nego_state {
	MPS_NS_WAIT = 0,  /* nothing decided */
	MPS_NS_RELEASED,  /* server only: banner released raw, client bytes unseen */
	MPS_NS_MP,        /* both ends speak mptcpshim */
	MPS_NS_PLAIN,     /* the peer is plain TCP */
	MPS_NS_ABORT,     /* server only: late HELLO after the banner went raw */
	MPS_NS_ERROR,     /* malformed HELLO/HELLO_ACK */
};

enum mps_nego_verdict {
	MPS_NV_WAIT = 0, /* need more bytes (or an event) */
	MPS_NV_MP,       /* negotiated; the first frame (MPS_HELLO_LEN bytes, more with
	                    resumption fields: frame.h) was the shim's */
	MPS_NV_PLAIN,    /* plain peer: every byte received is application data */
	MPS_NV_ABORT,    /* close the connection without showing the app anything */
	MPS_NV_ERROR,    /* protocol violation; why says which */
};

struct mps_nego {
	uint8_t role;
	uint8_t state;
	uint8_t remote_version;
	uint8_t remote_caps;
	uint32_t remote_wnd;
	uint8_t remote_pub[MPS_HELLO_PUB_LEN]; /* the peer's X25519 public value */
	const char *why; /* static reason for the last PLAIN/ABORT/ERROR verdict */
	uint8_t timed_out; /* client: PLAIN only because no reply came in time
	                      (a slow shim server looks the same) */
};

void mps_nego_init(struct mps_nego *n, enum mps_role role);

/* buf[0..avail) is every byte received from the peer so far.  Once the
 * verdict is final, later calls return it again without looking. */
enum mps_nego_verdict mps_nego_input(struct mps_nego *n, const uint8_t *buf, size_t avail);

/* The peer closed (or reset) before a verdict. */
enum mps_nego_verdict mps_nego_eof(struct mps_nego *n);

/* The engine's timer fired: client reply timeout, or server banner window. */
enum mps_nego_verdict mps_nego_timeout(struct mps_nego *n);

/* Windows derived from the handshake RTT (TCP_INFO tcpi_rtt, microseconds;
 * 0 if unknown).  Server: how long to hold the server app's first bytes
 * (banner) waiting for the client's first bytes: 4*rtt clamped to
 * [MPS_BANNER_MIN_US, MPS_BANNER_MAX_US].  Client: how long to wait for
 * HELLO_ACK: 8*rtt + MPS_REPLY_BASE_US, at most MPS_REPLY_MAX_US; from a
 * peer this process already knows runs mptcpshim, MPS_REPLY_KNOWN_US: a
 * busy shim server may leave the connection in its accept queue for
 * seconds (its HELLO_ACK comes only after accept()), and falling back
 * would hand it a connection that then resets. */
#define MPS_BANNER_MIN_US 25000u
#define MPS_BANNER_MAX_US 250000u
/* Server: the banner window towards a client host that sent this process
 * tree a HELLO lately (mps_peercache_shim_client): its HELLO is surely
 * coming, and 25 ms are short on a loaded machine (the client's shim
 * thread must run to send it); a plain program on that host waits this
 * long for its banner. */
#define MPS_BANNER_KNOWN_US 250000u
#define MPS_REPLY_BASE_US 1000000u
#define MPS_REPLY_MAX_US 3000000u
#define MPS_REPLY_KNOWN_US 15000000u
uint32_t mps_nego_banner_window_us(uint32_t rtt_us);
/* Client, inline: how long after the connect the shim thread looks
 * whether it ended, when no app call (write, read, SO_ERROR, poll's look
 * ahead) saw it end first; then it watches.  An app that only waits for
 * input (a server-first protocol) sends its HELLO this late: well inside
 * a shim server's shortest banner window (MPS_BANNER_MIN_US). */
#define MPS_CONNECT_LOOK_US 5000u
/* The same towards a known shim client host: at least MPS_BANNER_KNOWN_US. */
uint32_t mps_nego_banner_window_known_us(uint32_t rtt_us);

/* Server: the client's first bytes began a HELLO (they match its prefix)
 * and the rest has not come within mps_nego_hello_timeout_us(): the
 * client is taken for a plain one that happens to start like a HELLO.
 * From WAIT or RELEASED: PLAIN; otherwise the verdict stands. */
enum mps_nego_verdict mps_nego_hello_stalled(struct mps_nego *n);

/* Server: how long a begun HELLO may take to complete, from its first
 * bytes: the client's own reply timeout for an unknown destination
 * (mps_nego_reply_timeout_us(rtt_us, 0): 8*rtt + 1 s, at most 3 s) plus
 * MPS_HELLO_GRACE_US, so a shim client whose HELLO stalled has already
 * given up (and reset the connection) when the server hands its bytes to
 * the app: 2 s to 4 s. */
#define MPS_HELLO_GRACE_US 1000000u
uint32_t mps_nego_hello_timeout_us(uint32_t rtt_us);
uint32_t mps_nego_reply_timeout_us(uint32_t rtt_us, int known_shim);

const char *mps_nego_state_name(uint8_t state);

#endif
