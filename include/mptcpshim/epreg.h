/* epreg.h - the app's epoll registrations, by descriptor.
 *
 * An epoll registration is keyed by (open file, fd number).  When the shim
 * swaps the file behind an fd number (connect() puts a socketpair end where
 * the TCP socket was; connect(AF_UNSPEC) puts a fresh TCP socket back),
 * a registration the app made before the swap would keep watching the old
 * file, which the shim still holds under another number: nginx registers
 * its upstream sockets before connect().  The epoll_ctl hook records what
 * the app registered (epfd, events, data) per fd, so the swap can move each
 * registration to the new file (see docs/DESIGN.md, "epoll").
 *
 * Pure bookkeeping, no system call: unit-tested in tests/unit/check_epreg. */
#ifndef MPS_EPREG_H
#define MPS_EPREG_H

#include <stdint.h>

/* Registrations kept per fd: an fd in more epoll sets than this has the
 * extra ones not moved (documented limitation). */
#define MPS_EPREG_PER_FD 4

struct mps_epreg {
	int epfd;
	uint32_t events;
	uint64_t data;
};

/* After a successful epoll_ctl(epfd, op, fd, ev) by the app. */
void mps_epreg_note(int epfd, int op, int fd, uint32_t events, uint64_t data);
/* Move fd's registrations out (at most max) and forget them; returns how
 * many.  */
int mps_epreg_take(int fd, struct mps_epreg *out, int max);
/* Does fd have any registration recorded?  Lock-free, for the close hook. */
int mps_epreg_any(int fd);
/* Is fd registered in epoll set epfd (as far as the app told us)? */
int mps_epreg_in(int fd, int epfd);
/* Forget everything recorded for fd (its number now names another file).
 * Records naming an epoll set closed since are harmless: a move first
 * deletes the registration and re-adds only what the kernel had. */
void mps_epreg_forget(int fd);
/* Held across fork (src/interpose/proc.c). */
void mps_epreg_lock_all(int lock);

#endif
