/* execstate.h - a connection's state carried across exec (docs/DESIGN.md,
 * "Process model", "Fork per connection", step 5: exec-adopting).
 *
 * The exec'ing process writes one connection into a sealed memfd: this
 * fixed header (struct mps_xs, plain integers and bytes, no pointer), one
 * struct mps_xs_sf per subflow, then the bytes the shim holds: the send
 * buffer from snd_una to sb_end (sent but not data-ACKed, then not yet
 * sent), the receive queue (in order, not yet taken by the app), and each
 * subflow's received bytes not yet decoded (a partial frame).  The new
 * image's constructor checks it (mps_xs_decode: magic, version, sizes,
 * every count and offset, the DSN order) before it trusts a field; the
 * descriptors it names are then checked by inode (handexec.c).
 * Pure: no I/O, no allocation; the test seam and the fuzz target. */
#ifndef MPS_EXECSTATE_H
#define MPS_EXECSTATE_H

#include <stddef.h>
#include <stdint.h>

#define MPS_XS_MAGIC "MPSXST\r\n" /* 8 bytes, no NUL */
#define MPS_XS_VERSION 1u
#define MPS_XS_ADDR 128u                       /* sizeof(struct sockaddr_storage) */
#define MPS_XS_MAX_SF 32u                      /* MPS_MAX_SUBFLOWS */
#define MPS_XS_MAX_REMOTE 8u                   /* MPS_MAX_REMOTE */
#define MPS_XS_MAX_RBUF (256u * 1024u)         /* a subflow's receive buffer */
#define MPS_XS_MAX_BUF (1024u * 1024u * 1024u) /* send buffer, receive queue */

struct mps_xs_sf {
	uint64_t ino; /* the subflow's TCP socket */
	uint64_t tx_bytes, rx_bytes;
	int32_t fd;
	uint32_t id;
	uint32_t rtt_us;
	uint32_t token, nonce_local, nonce_remote;
	uint32_t ifindex;
	uint32_t rlen; /* received bytes not yet decoded, carried */
	uint8_t local_id, remote_id, backup, lowat, wr_shut, wr_dead, fin_on, peer_live;
	uint8_t local[MPS_XS_ADDR], remote[MPS_XS_ADDR];
	char peer_str[64];
};

struct mps_xs_remote {
	uint8_t id, valid, pad[6];
	uint8_t addr[MPS_XS_ADDR];
};

struct mps_xs {
	char magic[8];
	uint32_t version;
	uint32_t size; /* the whole state, variable parts included */
	uint32_t nsf, sb_len, rx_len, rcv_wnd_max;
	uint64_t sock_ino; /* the app's end of the socketpair */
	uint64_t shim_ino; /* the shim's end */
	int32_t shim_fd;
	int32_t next_sf_id;
	uint64_t local_key, remote_key, remote_idsn;
	uint32_t local_token, remote_token;
	uint64_t snd_start, snd_una, snd_nxt, snd_max, snd_edge, sb_end;
	uint64_t rcv_nxt, ack_sent, rcv_edge;
	uint64_t dss_high, dss_fin_dsn;
	uint32_t wnd_sent, peer_len;
	uint32_t nego_remote_wnd, pad0;
	uint64_t key_c, key_s;
	uint8_t join_key_c[32], join_key_s[32];
	uint8_t role, token_registered, app_eof, known_shim;
	uint8_t dss_high_set, dss_fin_seen, next_addr_id, nego_remote_version;
	uint8_t nego_remote_caps;
	/* 1: a server connection whose negotiation has not begun (no byte
	 * from the client yet, the app's held): the new image starts it as
	 * at accept; only the descriptors, the inodes and the peer count */
	uint8_t fresh;
	uint8_t pad1[6];
	uint8_t peer[MPS_XS_ADDR];
	char peer_str[64];
	char sched[16];
	struct mps_xs_remote remotes[MPS_XS_MAX_REMOTE];
	/* then nsf struct mps_xs_sf, sb_len + rx_len bytes, each rlen */
};

/* Bytes of the state whose header says nsf, sb_len, rx_len and the
 * subflows' rlen (sum); 0 if that overflows 32 bits. */
size_t mps_xs_size(uint32_t nsf, uint64_t sb_len, uint64_t rx_len, uint64_t rbuf_total);

/* Check buf[0..len) as a state and give its parts: x (a copy of the
 * header), sf (nsf entries, copied into sf[MPS_XS_MAX_SF]), and pointers
 * into buf for the send buffer's, the receive queue's and the subflows'
 * bytes (rbuf: the first subflow's; each next one follows).  Strings come
 * out NUL-terminated.  0, or -EINVAL (why says which check failed). */
int mps_xs_decode(const uint8_t *buf, size_t len, struct mps_xs *x, struct mps_xs_sf *sf,
                  const uint8_t **sb, const uint8_t **rx, const uint8_t **rbuf, const char **why);

/* Fill x's magic, version and size for nsf subflows whose rlen are set. */
void mps_xs_seal(struct mps_xs *x, const struct mps_xs_sf *sf);

#endif
