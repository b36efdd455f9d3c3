/* handback.h - an undecided connection found plain gives the app its
 * TCP socket back (issue 15; docs/DESIGN.md section 2, "Hand-back").
 *
 * A server's connection whose client had sent nothing at accept() is
 * relayed through a socketpair while the engine looks at its first bytes.
 * Once they show a plain client, the engine offers the socket back
 * (mps_handback_offer); the app's next data call on it (the hooks,
 * src/interpose/handback.c) asks the shim thread to swap it
 * (mps_handback_run), which happens only when nothing is in flight in
 * either direction.  From then on the app's number is the kernel's TCP
 * socket: no relay, no shim thread in its data path. */
#ifndef MPS_HANDBACK_H
#define MPS_HANDBACK_H

#include <stdatomic.h>

#include "mptcpshim/fdtab.h"

/* Swap the app's number fd for the TCP socket tcp (both the process's):
 * the interpose layer's part, called on the shim thread inside
 * mps_handback_run while the engine holds the connection still.  0 or
 * -errno (then fd is untouched). */
typedef int (*mps_handback_swap_fn)(int fd, int tcp, struct mps_sock *s);

/* App thread: ask the shim thread to hand the connection of s (the app's
 * number fd) back, and wait for the answer.  0 when fd is now the TCP
 * socket; -EAGAIN when bytes were in flight (try again later); another
 * -errno when it never will be (the offer is then cancelled). */
int mps_handback_run(struct mps_sock *s, int fd, mps_handback_swap_fn swap);
/* App thread: the relay keeps the app's end of s full: ask the shim
 * thread to stop reading the TCP socket for a while (at most 0.2 s), so
 * the app can drain its end and take the socket.  0 or -errno. */
int mps_handback_pause(struct mps_sock *s);

#endif
