/* direct.h - the app-thread send path (src/direct.c, issue 15). */
#ifndef MPS_DIRECT_H
#define MPS_DIRECT_H

#include <sys/types.h>
#include <sys/uio.h>

/* An app's write of iov on fd (flags as send(2)'s), taken on the calling
 * thread: the bytes taken (> 0; fewer than asked when the send buffer
 * fills), or -1 when none may go this way now (not a shim connection, not
 * past its negotiation, a busy shim thread...): the caller makes the real
 * call on the app's end of the socketpair, as before.  errno unchanged. */
ssize_t mps_direct_write(int fd, const struct iovec *iov, int n, int flags);

/* The engine's part, with the engine lock held (or on the simulated
 * network's loop): iov taken into c's send buffer and pushed when the
 * app's end holds no earlier byte; the count taken (0: none). */
struct mps_conn;
size_t mps_direct_conn_write(struct mps_conn *c, const struct iovec *iov, int n);

#endif
