/* joinguard.h - who may wait on the join listener: the admission policy
 * for unverified joins (RFC 8684 §3.2 subflows that have not yet named a
 * valid token), pure: no sockets, no clock.  join.c feeds it the pending
 * joins and the new arrival's source; it answers which pending join, if
 * any, makes room.
 *
 * The policy (docs/DESIGN.md "Joins under attack"):
 *  - a new connection is always admitted: a flood never turns away the
 *    newest join (the legitimate one arriving during the flood);
 *  - a source (IPv4 address, IPv6 /64) holding MPS_JG_PER_SRC unverified
 *    joins makes room from its own: its oldest unverified one goes;
 *  - with MPS_JG_MAX pending in all, the source holding the most
 *    unverified joins gives up its oldest one (a single-source flood never
 *    evicts another source's join);
 *  - verified joins (a valid token came, JOIN_OK awaited) do not count
 *    against their source (a client host opening many connections at once
 *    joins them all) and go only when no unverified one is left;
 *  - an unverified join waits at most mps_jg_first_timeout_us() for its
 *    first message. */
#ifndef MPS_JOINGUARD_H
#define MPS_JOINGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define MPS_JG_MAX 256    /* pending joins per process */
#define MPS_JG_PER_SRC 16 /* unverified joins per source address (IPv6: /64) */
#define MPS_JG_ADMIT (-1) /* mps_jg_victim: room left, nobody evicted */

/* First-message window: 4 * handshake RTT, within these bounds. */
#define MPS_JG_FIRST_MIN_US 1000000u
#define MPS_JG_FIRST_MAX_US 3000000u

/* A source for fairness: the IPv4 address, or the /64 of an IPv6 one
 * (one host usually owns a whole /64).  family 0: unknown. */
struct mps_jg_src {
	uint8_t family;
	uint8_t addr[8];
};

struct mps_jg_slot {
	struct mps_jg_src src;
	uint64_t seq;     /* admission order: lower is older */
	uint8_t verified; /* presented a known token (JOIN_ACK sent) */
};

/* The source key of sa (AF_INET, AF_INET6; a v4-mapped IPv6 address counts
 * as its IPv4 address).  Returns 0, or -EAFNOSUPPORT (key left family 0). */
int mps_jg_src_of(const struct sockaddr *sa, struct mps_jg_src *out);

/* 1 if a and b are the same source. */
int mps_jg_same_src(const struct mps_jg_src *a, const struct mps_jg_src *b);

/* A new join from src arrives while slots[0..n) are pending, with at most
 * max_total in all and max_per_src per source (both >= 1).  Returns
 * MPS_JG_ADMIT when it fits as is, else the index of the slot to evict
 * first (then the new one fits). */
int mps_jg_victim(const struct mps_jg_slot *slots, size_t n, const struct mps_jg_src *src,
                  size_t max_total, size_t max_per_src);

/* How long an accepted join may wait for its first message (JOIN):
 * 4 * rtt_us (TCP_INFO tcpi_rtt of the accepted socket; 0 if unknown)
 * within [MPS_JG_FIRST_MIN_US, MPS_JG_FIRST_MAX_US]. */
uint32_t mps_jg_first_timeout_us(uint32_t rtt_us);

#endif
