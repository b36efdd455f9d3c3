/* execstate.h - the state of connections carried across exec (issue 12
 * step 5; docs/DESIGN.md "Process model", "Re-exec").  A forked child
 * whose offered connection its parent closed, and which execs with the
 * connection's app end open (inetd, sshd -R), writes the connection's
 * state into a sealed memfd named by MPTCPSHIM_EXECSTATE; the new image's
 * constructor decodes it and services the connection itself.
 *
 * This module is pure: it writes and checks the byte format, nothing else
 * (no descriptor, no engine call).  The format is native (same host, same
 * library file: the header names the file and the structures' sizes):
 *
 *   header  u32 magic, u32 version, u64 total length, u32 sizeof(struct
 *           mps_conn), u32 sizeof(struct mps_subflow), the library's file
 *           (u64 dev, ino, size, mtime ns) and load address (u64), u32
 *           number of records (1..MPS_XS_MAX_CONNS)
 *   record  i32 parent pid, f64 fork time (CLOCK_MONOTONIC), the hand-over
 *           word's memfd (i32 fd, u64 inode), u64 inode of the app end,
 *           the shim's end (i32 fd, u64 inode), i32 index of the ACK
 *           subflow (-1: none), u32 watchers, that many u8 (active at the
 *           fork, see handover.c), struct mps_conn as bytes, then per
 *           subflow (its count is the struct's nsf) i32 fd, u64 inode,
 *           struct mps_subflow as bytes, u32 length and the bytes of its
 *           receive buffer; then the send buffer (u64 first DSN, u64
 *           length, bytes) and the receive queue (the same)
 *
 * The decoder checks the magic, the version, the exact total length, the
 * structures' sizes, every count against its bound, every length against
 * what is left, and the DSN order (send buffer start <= snd_una <= snd_nxt
 * <= snd_max <= its end, each queue's bounds as the structure says),
 * and that nothing the new image could not rebuild is there (queued
 * frames, parked subflows, out-of-order data, a gateway connection). */
#ifndef MPS_EXECSTATE_H
#define MPS_EXECSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "mptcpshim/config.h"

#define MPS_XS_MAGIC 0x5853504du /* "MPSX" */
#define MPS_XS_VERSION 1u
#define MPS_XS_MAX_CONNS 64
/* watchers of a connection: its own 15, then 4 per subflow */
#define MPS_XS_MAXW (15 + 4 * MPS_MAX_SUBFLOWS)

struct mps_xs_lib {
	uint64_t dev, ino, size, mtime_ns; /* the library's file */
	uint64_t base;                     /* where it was loaded */
};

struct mps_xs_fd {
	int32_t fd;
	uint64_t ino;
};

/* One decoded record: views into the decoded buffer. */
struct mps_xs_rec {
	int32_t parent;
	double t0;
	struct mps_xs_fd word, shim;
	uint64_t app_ino;
	int32_t ack_idx;
	uint32_t nwas;
	const uint8_t *was;
	const uint8_t *conn; /* sizeof(struct mps_conn) bytes, unaligned */
	uint32_t nsf;
	struct mps_xs_fd sf[MPS_MAX_SUBFLOWS];
	const uint8_t *sfraw[MPS_MAX_SUBFLOWS]; /* sizeof(struct mps_subflow) bytes each */
	const uint8_t *rbuf[MPS_MAX_SUBFLOWS];
	uint32_t rlen[MPS_MAX_SUBFLOWS];
	uint64_t sb_una, sb_len, rxq_una, rxq_len;
	const uint8_t *sb, *rxq;
};

struct mps_xs_hdr {
	struct mps_xs_lib lib;
	uint32_t nconn;
};

/* The encoder: a growing buffer (malloc).  put_* fail once on ENOMEM and
 * leave err set; mps_xs_finish fills the header's length and count. */
struct mps_xs_buf {
	uint8_t *p;
	size_t len, cap;
	int err;
	uint32_t nconn;
};
void mps_xs_begin(struct mps_xs_buf *b, const struct mps_xs_lib *lib);
void mps_xs_put(struct mps_xs_buf *b, const void *p, size_t n);
void mps_xs_put_u32(struct mps_xs_buf *b, uint32_t v);
void mps_xs_put_i32(struct mps_xs_buf *b, int32_t v);
void mps_xs_put_u64(struct mps_xs_buf *b, uint64_t v);
void mps_xs_put_f64(struct mps_xs_buf *b, double v);
/* A record starts: counted at finish. */
void mps_xs_rec_begin(struct mps_xs_buf *b);
/* 0, or -1 (out of memory: b->p freed). */
int mps_xs_finish(struct mps_xs_buf *b);

/* Check buf[0..len) whole and fill h and recs[0..max) (max >=
 * MPS_XS_MAX_CONNS).  Returns the number of records, or -1 with *why set
 * (a static string). */
int mps_xs_decode(const uint8_t *buf, size_t len, struct mps_xs_hdr *h, struct mps_xs_rec *recs,
                  int max, const char **why);

#endif
