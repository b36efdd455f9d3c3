/* resume.h - resumption tickets (issue 15; docs/DESIGN.md "Key agreement
 * and key schedule", "Resumption"): the server's table (ticket -> secret,
 * single use) and the client's (tickets per server address and port).
 * Process memory only (never a file), bounded, each entry with an expiry;
 * a secret is wiped when it is used, expires or is pushed out.  Under
 * crypto.c's lock (one lookup per connection; fork holds that lock).  The
 * clock is a parameter (mps_now_us in the engine), so tests drive it. */
#ifndef MPS_RESUME_H
#define MPS_RESUME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/kex.h"

#define MPS_RESUME_SERVER_MAX 1024u /* tickets a server process holds */
#define MPS_RESUME_CLIENT_MAX 256u  /* tickets a client process holds */
#define MPS_RESUME_PER_PEER 32u     /* ... per server address and port (>= usual concurrency) */

/* Server: keep secret under ticket until expiry_us.  A full table drops
 * the entry that expires first (expired ones before all).  Called once per
 * ticket issued: a ticket id is 128 random bits, never reused. */
void mps_resume_issue(const uint8_t ticket[MPS_KEX_TICKET_LEN],
                      const uint8_t secret[MPS_KEX_RMS_LEN], uint64_t expiry_us, uint64_t now_us);

/* Server: the secret of ticket, which is removed (a ticket resumes one
 * connection only).  0, or -ENOENT (unknown, expired or used). */
int mps_resume_redeem(const uint8_t ticket[MPS_KEX_TICKET_LEN], uint8_t secret[MPS_KEX_RMS_LEN],
                      uint64_t now_us);

/* The same, bound to bind (NULL, or MPS_KEX_PSK_LEN bytes: the PSK the
 * connection's schedule mixed in, a gateway's client key): the ticket
 * redeems only under the same bytes (mps_resume_redeem_bound), so a
 * ticket issued to one gateway key name never resumes another's.  The
 * unbound forms above are bind = NULL (all zero). */
void mps_resume_issue_bound(const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            const uint8_t secret[MPS_KEX_RMS_LEN], const uint8_t *bind,
                            uint64_t expiry_us, uint64_t now_us);
/* 0; -ENOENT; -EPERM: the ticket was issued under other bind bytes (it
 * is used up all the same). */
int mps_resume_redeem_bound(const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            uint8_t secret[MPS_KEX_RMS_LEN], const uint8_t *bind, uint64_t now_us);

/* Client: keep a ticket the server at peer (IPv4 or IPv6 address and
 * port) issued.  At most MPS_RESUME_PER_PEER per peer (the one expiring
 * first goes), MPS_RESUME_CLIENT_MAX in all.  -EAFNOSUPPORT for another
 * family, else 0. */
int mps_resume_keep(const struct sockaddr *peer, const uint8_t ticket[MPS_KEX_TICKET_LEN],
                    const uint8_t secret[MPS_KEX_RMS_LEN], uint64_t expiry_us, uint64_t now_us);

/* Client: take (remove) peer's ticket that expires last.  0, or -ENOENT. */
int mps_resume_take(const struct sockaddr *peer, uint8_t ticket[MPS_KEX_TICKET_LEN],
                    uint8_t secret[MPS_KEX_RMS_LEN], uint64_t now_us);

/* Live entries (unexpired at now_us) in the server's (server = 1) or the
 * client's table: tests. */
size_t mps_resume_count(int server, uint64_t now_us);

/* Wipe both tables: tests. */
void mps_resume_clear(void);

#endif
