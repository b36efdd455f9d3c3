/* frame.h - the mptcpshim wire format: encode/decode only, no I/O, no allocation.
 *
 * Every frame is a 4-byte header followed by a body:
 *   u8 type | u8 flags | u16 length (body bytes, big-endian)
 * All integers are big-endian.  The full layout of each frame type is in
 * docs/DESIGN.md ("Wire protocol"); the decoder enforces every rule there.
 */
#ifndef MPS_FRAME_H
#define MPS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define MPS_HDR_LEN 4u
#define MPS_BODY_MAX 65535u                        /* u16 length field */
#define MPS_FRAME_MAX (MPS_HDR_LEN + MPS_BODY_MAX) /* largest frame on the wire */
#define MPS_DATA_HDR_LEN (MPS_HDR_LEN + 20u)       /* header + dsn + ack + wnd */
#define MPS_DATA_MAX (MPS_FRAME_MAX - MPS_DATA_HDR_LEN)

#define MPS_MAGIC "MPTCPSHM" /* 8 bytes, no terminator on the wire */
#define MPS_MAGIC_LEN 8u
#define MPS_VERSION 2u /* HELLO carries an X25519 public value (version 1 sent a key in clear) */

enum mps_frame_type {
	MPS_F_HELLO = 0x01,     /* client -> server, MP_CAPABLE equivalent */
	MPS_F_HELLO_ACK = 0x02, /* server -> client, MP_CAPABLE reply */
	MPS_F_DATA = 0x03,      /* DSN-mapped payload, optional data ACK, DATA_FIN */
	MPS_F_ACK = 0x04,       /* data-level cumulative ACK only */
	MPS_F_CLOSE = 0x05,     /* FASTCLOSE equivalent: abort the connection */
	MPS_F_JOIN = 0x06,      /* client -> server, first frame of an extra subflow */
	MPS_F_JOIN_ACK = 0x07,  /* server -> client: its nonce and truncated HMAC */
	MPS_F_JOIN_OK = 0x08,   /* client -> server: the client's HMAC */
	MPS_F_ADD_ADDR = 0x09,  /* server -> client: an address (and port) to join */
	MPS_F_REMOVE_ADDR = 0x0a, /* server -> client: that address is gone */
	MPS_F_PRIO = 0x0b,      /* either way: the subflow it arrives on is (not) a backup */
	MPS_F_GWREQ = 0x0c,     /* client -> gateway: a gwreq.h request (destination, AUTH) */
	MPS_F_GWREPLY = 0x0d,   /* gateway -> client: a gwreq.h reply (the connect result) */
};

/* PRIO (body 4): pflags u8 (bit 0 = backup, other bits 0) | reserved u8[3] = 0.
 * MP_PRIO equivalent (RFC 8684 §3.3.8), for the subflow that carries it. */
#define MPS_PRIO_BODY 4u
#define MPS_PRIO_LEN (MPS_HDR_LEN + MPS_PRIO_BODY)
#define MPS_PF_BACKUP 0x01

/* JOIN (body 12): token u32 | nonce u32 | addr_id u8 | jflags u8 | reserved u16 = 0.
 * The frame opens with the fixed header {0x06, 0, 0x000c}; the token names
 * the connection (RFC 8684 §3.2), nonce is the client's R_A, addr_id the
 * client's id for its local address, jflags bit 0 = backup subflow (other
 * bits must be 0). */
#define MPS_JOIN_BODY 12u
#define MPS_JOIN_LEN (MPS_HDR_LEN + MPS_JOIN_BODY)
#define MPS_JF_BACKUP 0x01
/* JOIN_ACK (body 12): nonce u32 (R_B) | hmac u64: the leftmost 64 bits of
 * HMAC-SHA256(key = Key_B || Key_A, msg = R_B || R_A). */
#define MPS_JOIN_ACK_BODY 12u
#define MPS_JOIN_ACK_LEN (MPS_HDR_LEN + MPS_JOIN_ACK_BODY)
/* JOIN_OK (body 20): the leftmost 160 bits of
 * HMAC-SHA256(key = Key_A || Key_B, msg = R_A || R_B). */
#define MPS_JOIN_OK_BODY 20u
#define MPS_JOIN_OK_LEN (MPS_HDR_LEN + MPS_JOIN_OK_BODY)
/* ADD_ADDR (body 8 for IPv4, 20 for IPv6): addr_id u8 | family u8 (4 or 6) |
 * port u16 (the port to join on, never 0) | address (4 or 16 bytes).
 * The decoder checks the family byte against the body length and the port,
 * not the address itself (the path manager judges that).
 * REMOVE_ADDR (body 4): addr_id u8 | reserved u8[3] = 0.
 * JOIN_ACK and JOIN_OK have no field rule: every value is valid. */
#define MPS_ADD_ADDR4_BODY 8u
#define MPS_ADD_ADDR6_BODY 20u
#define MPS_ADD_ADDR_MAX_LEN (MPS_HDR_LEN + MPS_ADD_ADDR6_BODY)
#define MPS_REMOVE_ADDR_BODY 4u
#define MPS_REMOVE_ADDR_LEN (MPS_HDR_LEN + MPS_REMOVE_ADDR_BODY)

/* Data-level flow control: a receiver advertises wnd, the bytes beyond
 * ack it will accept (0 is valid in DATA and ACK).  The initial window in
 * HELLO/HELLO_ACK is at least MPS_MIN_WND, and a sender may send that much
 * beyond its first DSN before it has seen the peer's HELLO/HELLO_ACK (the
 * first flight). */
#define MPS_MIN_WND 65536u

/* DATA flags */
#define MPS_DF_ACK 0x01 /* the ack field is valid */
#define MPS_DF_FIN 0x02 /* DATA_FIN: the stream ends after this payload */
#define MPS_DF_MASK (MPS_DF_ACK | MPS_DF_FIN)

/* HELLO / HELLO_ACK capability bits (unknown bits are ignored, RFC 8684 §3.1 style).
 * Two change the body's length (per-peer resumption, docs/DESIGN.md "Key
 * agreement and key schedule"):
 *   TICKET  HELLO: the client keeps resumption tickets (no field).
 *           HELLO_ACK: ticket[16] | lifetime u32 (seconds, 1..604800) follow.
 *   RESUME  HELLO: ticket[16] | nonce[16] follow: the client offers a ticket.
 *           HELLO_ACK: the server took it; pub carries its 32-byte nonce
 *           (no X25519 on either side), no field added.
 *   QUIET   HELLO: the client reads on its app's thread (inline.h): send it
 *           no frame without app data (HELLO_ACK, ACKs, window updates,
 *           ADD_ADDR wait to ride with the next DATA) until an ACK with
 *           MPS_AF_LOUD says otherwise.  HELLO_ACK: the server will (no
 *           field either way).
 *   HOLD    HELLO: the client can do as QUIET asks for a server that reads
 *           on its app's thread.  HELLO_ACK: this server does (it accepted
 *           the connection inline): the client sends it no frame without
 *           app data until an ACK with MPS_AF_LOUD (no field either way).
 *   FINCLOSE HELLO: the client closes as TCP does when its peer does too;
 *           HELLO_ACK: the server does (no field either way).  With both,
 *           an app's close() (not a shutdown) that ends the stream first,
 *           on a connection with one subflow, sends the DATA_FIN and the
 *           subflow's FIN together and writes nothing more there; its peer
 *           takes the subflow's FIN after a DATA_FIN that ACKed all it
 *           sent as the connection's end (it sends no DATA_FIN, closes
 *           the subflow when its app closes or read EOF), and the first
 *           end takes the peer's FIN then as the end too (no data ACK of
 *           its DATA_FIN comes).  docs/DESIGN.md, "Closing".
 * A server sets TICKET, RESUME, QUIET, HOLD or FINCLOSE in HELLO_ACK only
 * when the HELLO had it. */
#define MPS_CAP_NONE 0x00
#define MPS_CAP_TICKET 0x01
#define MPS_CAP_RESUME 0x02
#define MPS_CAP_QUIET 0x04
#define MPS_CAP_HOLD 0x08
#define MPS_CAP_FINCLOSE 0x10
/* ACK flag: the sender (a QUIET client, a HOLD server) reads on its shim
 * thread again. */
#define MPS_AF_LOUD 0x01
#define MPS_TICKET_LEN 16u      /* a resumption ticket's id */
#define MPS_HELLO_NONCE_LEN 16u /* the client's nonce in a resuming HELLO */
#define MPS_TICKET_LIFETIME_MAX 604800u

#define MPS_HELLO_PUB_LEN 32u /* X25519 public value (kex.h MPS_KEX_KEY_LEN) */
#define MPS_HELLO_BODY 48u     /* magic[8] version caps reserved[2] wnd[4] pub[32] */
/* Version 1's body (key u64 in clear instead of pub): no longer accepted;
 * the decoder names it so the log says why. */
#define MPS_HELLO_V1_BODY 24u
#define MPS_HELLO_LEN (MPS_HDR_LEN + MPS_HELLO_BODY)
#define MPS_HELLO_RESUME_BODY (MPS_HELLO_BODY + MPS_TICKET_LEN + MPS_HELLO_NONCE_LEN) /* 80 */
#define MPS_HELLO_ACK_TICKET_BODY (MPS_HELLO_BODY + MPS_TICKET_LEN + 4u)              /* 68 */
#define MPS_HELLO_MAX_LEN (MPS_HDR_LEN + MPS_HELLO_RESUME_BODY) /* the longest of both */
#define MPS_ACK_BODY 12u /* ack[8] wnd[4] */
#define MPS_ACK_LEN (MPS_HDR_LEN + MPS_ACK_BODY)
#define MPS_CLOSE_BODY 4u
#define MPS_CLOSE_LEN (MPS_HDR_LEN + MPS_CLOSE_BODY)

/* Bytes that open every HELLO (resp. HELLO_ACK): header + magic.  A peer
 * whose first bytes differ from this prefix does not speak mptcpshim.
 * The prefix of a version 1 HELLO (body length 24) matches too, so such a
 * peer gets a protocol error (the decoder's reason names version 1)
 * instead of being taken for a plain one. */
#define MPS_HELLO_PREFIX_LEN (MPS_HDR_LEN + MPS_MAGIC_LEN)

/* CLOSE reason codes */
enum mps_close_reason {
	MPS_CR_ABORT = 1,    /* the app aborted (close with unread data, SO_LINGER 0) */
	MPS_CR_PROTOCOL = 2, /* protocol violation detected */
	MPS_CR_TIMEOUT = 3,  /* connection-level timeout */
	MPS_CR_INTERNAL = 4, /* resource failure */
};

struct mps_hello {
	uint8_t version;
	uint8_t caps;
	uint32_t wnd; /* the sender's initial receive window, >= MPS_MIN_WND */
	uint8_t pub[MPS_HELLO_PUB_LEN];     /* the sender's X25519 public value, not all zero
	                                   (HELLO_ACK with RESUME: the server's nonce) */
	uint8_t ticket[MPS_TICKET_LEN];     /* HELLO with RESUME, HELLO_ACK with TICKET */
	uint8_t nonce[MPS_HELLO_NONCE_LEN]; /* HELLO with RESUME */
	uint32_t lifetime;                  /* HELLO_ACK with TICKET: seconds */
};

struct mps_data {
	uint64_t dsn;           /* DSN of payload[0] (of the FIN if len == 0) */
	uint64_t ack;           /* valid iff flags & MPS_DF_ACK */
	uint32_t wnd;           /* valid iff flags & MPS_DF_ACK */
	const uint8_t *payload; /* points into the decoded buffer */
	uint32_t len;
};

struct mps_join {
	uint32_t token;
	uint32_t nonce;
	uint8_t addr_id;
	uint8_t jflags;
};

struct mps_join_ack {
	uint32_t nonce;
	uint64_t hmac; /* leftmost 64 bits, as a big-endian integer */
};

struct mps_addr {
	uint8_t addr_id;
	uint8_t family; /* AF_INET or AF_INET6 (4/6 on the wire) */
	uint16_t port;
	uint8_t addr[16]; /* network order; first 4 bytes for AF_INET */
};

struct mps_frame {
	uint8_t type;
	uint8_t flags;
	uint16_t body_len;
	union {
		struct mps_hello hello; /* HELLO, HELLO_ACK */
		struct mps_data data;   /* DATA */
		struct {
			uint64_t ack;
			uint32_t wnd;
		} ack;                  /* ACK */
		uint32_t reason;        /* CLOSE */
		struct mps_join join;   /* JOIN */
		struct mps_join_ack join_ack; /* JOIN_ACK */
		const uint8_t *join_ok; /* JOIN_OK: 20 bytes in the decoded buffer */
		struct mps_addr addr;   /* ADD_ADDR; REMOVE_ADDR uses addr.addr_id only */
		uint8_t prio;           /* PRIO: pflags */
		struct {
			const uint8_t *msg; /* GWREQ, GWREPLY: the gwreq.h message (the */
			uint16_t len;       /* whole body), already validated by its decoder */
		} gw;
	} u;
};

/* Decode one frame from buf[0..avail).
 * Returns the frame's total length (> 0) and fills *f when a whole valid
 * frame is present; 0 when more bytes are needed (never more than
 * MPS_FRAME_MAX in all); -EBADMSG on any violation, with *why set to a
 * static human-readable reason. */
int mps_frame_decode(const uint8_t *buf, size_t avail, struct mps_frame *f, const char **why);

/* Encoders write into out (which must hold the stated length) and return
 * the number of bytes written. */
/* HELLO / HELLO_ACK: the fields caps calls for (TICKET, RESUME above)
 * follow; returns MPS_HELLO_LEN, or more with them. */
size_t mps_frame_put_hello(uint8_t out[MPS_HELLO_MAX_LEN], uint8_t type, const struct mps_hello *h);
/* The length of the HELLO (HELLO_ACK) of that type and caps. */
size_t mps_frame_hello_len(uint8_t type, uint8_t caps);
/* Only the DATA header (MPS_DATA_HDR_LEN bytes); the payload follows on the wire. */
size_t mps_frame_put_data_hdr(uint8_t out[MPS_DATA_HDR_LEN], uint8_t flags, uint64_t dsn,
			      uint64_t ack, uint32_t wnd, uint32_t len);
size_t mps_frame_put_ack(uint8_t out[MPS_ACK_LEN], uint64_t ack, uint32_t wnd);
size_t mps_frame_put_close(uint8_t out[MPS_CLOSE_LEN], uint32_t reason);
size_t mps_frame_put_join(uint8_t out[MPS_JOIN_LEN], const struct mps_join *j);
size_t mps_frame_put_join_ack(uint8_t out[MPS_JOIN_ACK_LEN], const struct mps_join_ack *ja);
size_t mps_frame_put_join_ok(uint8_t out[MPS_JOIN_OK_LEN], const uint8_t hmac[20]);
/* ADD_ADDR: returns MPS_HDR_LEN + 8 or + 20 according to a->family, or 0
 * (nothing written) when a->family is neither AF_INET nor AF_INET6.  The
 * encoders write only what the decoder accepts: put_join sends jflags bits
 * other than MPS_JF_BACKUP as 0; a port of 0 in ADD_ADDR is the caller's
 * bug (the decoder rejects it). */
size_t mps_frame_put_add_addr(uint8_t out[MPS_ADD_ADDR_MAX_LEN], const struct mps_addr *a);
size_t mps_frame_put_remove_addr(uint8_t out[MPS_REMOVE_ADDR_LEN], uint8_t addr_id);
size_t mps_frame_put_prio(uint8_t out[MPS_PRIO_LEN], uint8_t pflags);
/* GWREQ / GWREPLY: the header, then msg[0..len) (a gwreq.h message) as the
 * body; out holds MPS_HDR_LEN + len.  0 (nothing written) for another type
 * or len 0 or beyond MPS_GWREQ_MSG_MAX. */
size_t mps_frame_put_gw(uint8_t *out, uint8_t type, const uint8_t *msg, size_t len);

/* Compare the first bytes a peer sent with the HELLO (type MPS_F_HELLO)
 * or HELLO_ACK prefix: only min(n, MPS_HELLO_PREFIX_LEN) bytes are looked
 * at.  Returns 1 if they all match so far, 0 on a mismatch. */
int mps_frame_prefix_match(uint8_t type, const uint8_t *buf, size_t n);

const char *mps_frame_type_name(uint8_t type);

#endif
