/* frame.h - the mptcpshim wire format: encode/decode only, no I/O, no allocation.
 *
 * Every frame is a 4-byte header followed by a body:
 *   u8 type | u8 flags | u16 length (body bytes, big-endian)
 * All integers are big-endian.  The full layout of each frame type is in
 * docs/DESIGN.md ("Wire protocol"); the decoder enforces every rule there.
 */
#ifndef MPTCPSHIM_FRAME_H
#define MPTCPSHIM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define MPS_HDR_LEN 4u
#define MPS_BODY_MAX 65535u                        /* u16 length field */
#define MPS_FRAME_MAX (MPS_HDR_LEN + MPS_BODY_MAX) /* largest frame on the wire */
#define MPS_DATA_HDR_LEN (MPS_HDR_LEN + 20u)       /* header + dsn + ack + wnd */
#define MPS_DATA_MAX (MPS_FRAME_MAX - MPS_DATA_HDR_LEN)

#define MPS_MAGIC "MPTCPSHM" /* 8 bytes, no terminator on the wire */
#define MPS_MAGIC_LEN 8u
#define MPS_VERSION 1u

enum mps_frame_type {
	MPS_F_HELLO = 0x01,     /* client -> server, MP_CAPABLE equivalent */
	MPS_F_HELLO_ACK = 0x02, /* server -> client, MP_CAPABLE reply */
	MPS_F_DATA = 0x03,      /* DSN-mapped payload, optional data ACK, DATA_FIN */
	MPS_F_ACK = 0x04,       /* data-level cumulative ACK only */
	MPS_F_CLOSE = 0x05,     /* FASTCLOSE equivalent: abort the connection */
};

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

/* HELLO / HELLO_ACK capability bits (unknown bits are ignored, RFC 8684 §3.1 style) */
#define MPS_CAP_NONE 0x00

#define MPS_HELLO_BODY 24u /* magic[8] version caps reserved[2] wnd[4] key[8] */
#define MPS_HELLO_LEN (MPS_HDR_LEN + MPS_HELLO_BODY)
#define MPS_ACK_BODY 12u /* ack[8] wnd[4] */
#define MPS_ACK_LEN (MPS_HDR_LEN + MPS_ACK_BODY)
#define MPS_CLOSE_BODY 4u
#define MPS_CLOSE_LEN (MPS_HDR_LEN + MPS_CLOSE_BODY)

/* Bytes that open every HELLO (resp. HELLO_ACK): header + magic.  A peer
 * whose first bytes differ from this prefix does not speak mptcpshim. */
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
	uint64_t key;
};

struct mps_data {
	uint64_t dsn;           /* DSN of payload[0] (of the FIN if len == 0) */
	uint64_t ack;           /* valid iff flags & MPS_DF_ACK */
	uint32_t wnd;           /* valid iff flags & MPS_DF_ACK */
	const uint8_t *payload; /* points into the decoded buffer */
	uint32_t len;
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
size_t mps_frame_put_hello(uint8_t out[MPS_HELLO_LEN], uint8_t type, const struct mps_hello *h);
/* Only the DATA header (MPS_DATA_HDR_LEN bytes); the payload follows on the wire. */
size_t mps_frame_put_data_hdr(uint8_t out[MPS_DATA_HDR_LEN], uint8_t flags, uint64_t dsn,
			      uint64_t ack, uint32_t wnd, uint32_t len);
size_t mps_frame_put_ack(uint8_t out[MPS_ACK_LEN], uint64_t ack, uint32_t wnd);
size_t mps_frame_put_close(uint8_t out[MPS_CLOSE_LEN], uint32_t reason);

/* Compare the first bytes a peer sent with the HELLO (type MPS_F_HELLO)
 * or HELLO_ACK prefix: only min(n, MPS_HELLO_PREFIX_LEN) bytes are looked
 * at.  Returns 1 if they all match so far, 0 on a mismatch. */
int mps_frame_prefix_match(uint8_t type, const uint8_t *buf, size_t n);

const char *mps_frame_type_name(uint8_t type);

#endif
