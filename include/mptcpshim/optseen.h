/* optseen.h - which socket options a TCP socket may carry (issue 15).
 *
 * When a TCP socket becomes a shim connection, mps_opts_adopt moves the
 * options of the app's blocking calls to its socketpair end and remembers
 * the per-path ones for later subflows.  Reading all of them costs ~25
 * system calls per connection; almost always the socket carries none but
 * the kernel's defaults.  This table says which ones it may carry, so
 * only those are read:
 *
 *   a socket made by socket() in this process: the options the app set on
 *     its number since (the setsockopt hook), checked at connect by the
 *     socket's cookie (SO_COOKIE: never reused), so a number that changed
 *     hands behind our hooks reads everything.  A dup of it, or a fork
 *     (either side may set options on the shared socket), makes it read
 *     everything;
 *   an accepted socket: the options its listener passed to the previous
 *     accepted one (read in full at most once a second per listener, and
 *     again after the app sets an option on the listener's number, closes
 *     it, or forks).
 *
 * Bits are the caller's (sockopt.c); MPS_OPTSEEN_ALL means "read all".
 * Pure bookkeeping: no system call; thread-safe. */
#ifndef MPS_OPTSEEN_H
#define MPS_OPTSEEN_H

#include <stdint.h>

#define MPS_OPTSEEN_ALL 0xffffffffu
/* A full read of a listener's accepted socket stays good this long. */
#define MPS_OPTSEEN_LISTENER_US 1000000u

/* socket() made fd, a TCP socket with this cookie: no option set yet. */
void mps_optseen_socket(int fd, uint64_t cookie);
/* The app set options (bits) on fd's socket. */
void mps_optseen_set(int fd, uint32_t bits);
/* fd was closed or replaced (dup2/dup3 onto it): forget it, socket and
 * listener alike. */
void mps_optseen_gone(int fd);
/* fd was duplicated: options may now be set through another number. */
void mps_optseen_shared(int fd);
/* A fork: every socket made before it is shared with another process. */
void mps_optseen_forked(void);
/* The listener table's lock, held across fork. */
void mps_optseen_lock(int lock);
/* At connect: the options fd's socket (cookie) may carry.  1 and *bits if
 * fd is a TCP socket this table knows (socket() made it here, cookie
 * matches), else 0 (read everything; SO_TYPE/SO_PROTOCOL unknown). */
int mps_optseen_lookup(int fd, uint64_t cookie, uint32_t *bits);

/* At accept on listener lfd: 0 if nothing is known; 1 if lfd is known to
 * be a TCP listener; 2 if, in addition, *bits says which options its
 * accepted sockets carry (those that differed from the defaults last time). */
int mps_optseen_listener(int lfd, uint64_t now_us, uint32_t *bits);
/* Record that lfd is a TCP listener (have_bits: and its accepted sockets'
 * non-default options are bits), good until now_us + MPS_OPTSEEN_LISTENER_US. */
void mps_optseen_listener_note(int lfd, uint64_t now_us, int have_bits, uint32_t bits);

#endif
