/* inline.h - inline connections (src/inline.c; docs/DESIGN.md section 7,
 * "Inline connections").
 *
 * With MPTCPSHIM_INLINE=1 a client connection to a server known to run
 * mptcpshim starts without a socketpair: the app's number stays the first
 * subflow's TCP socket, and the app's own thread frames what it writes and
 * deframes what it reads, under the engine lock.  Whatever that cannot
 * answer as TCP would promotes the connection: a socketpair is swapped in
 * behind the app's number, as adoption does at connect, and it goes on as
 * every other connection.  The hooks (interpose/) call these; each takes
 * the engine lock itself. */
#ifndef MPS_INLINE_H
#define MPS_INLINE_H

#include <stdatomic.h>
#include <sys/types.h>
#include <sys/uio.h>

struct mps_sock;

/* How many socks are inline now: the hooks look further only when not 0. */
extern atomic_int mps_inline_socks;

/* Set by the interposition layer: put app_end's file behind the app's
 * number fd (keeping its close-on-exec flag, its epoll registrations and
 * the app-level options s carries).  0 or -errno. */
void mps_inline_set_swap(int (*swap)(int fd, int app_end, struct mps_sock *s));

/* The sentinel the calls below return when s is not (or no longer)
 * inline: the caller makes its real call on fd, now the app's end. */
#define MPS_INLINE_REAL (-2)

/* App thread, s inline (fd its number): read into iov, as recv() would
 * (nonblock: O_NONBLOCK or MSG_DONTWAIT).  Bytes, 0 at EOF, -1 with errno,
 * or MPS_INLINE_REAL. */
ssize_t mps_inline_recv(int fd, struct mps_sock *s, const struct iovec *iov, int n, int nonblock);
/* ... write iov, as send() would. */
ssize_t mps_inline_send(int fd, struct mps_sock *s, const struct iovec *iov, int n, int nonblock);
/* Promote s now (a call the inline path does not serve: dup, sendfile,
 * MSG_PEEK ...; fork and exec: every inline sock). */
void mps_inline_promote_sock(struct mps_sock *s, const char *why);
void mps_inline_promote_all(const char *why);
/* The app closes fd, its only number of s: the stream ends (DATA_FIN)
 * after what it wrote; the engine keeps its own descriptor of the socket. */
void mps_inline_close(int fd, struct mps_sock *s);
/* shutdown(fd, how) on an inline fd: 0 or -1 with errno. */
int mps_inline_shutdown(int fd, struct mps_sock *s, int how);
/* An app thread waits on fd's TCP socket (poll, select, a blocking read):
 * a promotion meanwhile leaves the socket's bytes for the kernel to wake
 * it, and the shim thread reads them once none waits. */
void mps_inline_wait_begin(struct mps_sock *s);
/* The app looks at a connecting inline socket (SO_ERROR, getpeername):
 * if the kernel says it is connected, the connect's end runs now, on
 * this thread (its HELLO leaves), not when the shim thread sees it. */
void mps_inline_connect_check(struct mps_sock *s);
/* After a poll or select said an inline socket is readable: whether the
 * app would read a byte (or EOF) now.  What the socket held is read and
 * processed (frames with no app byte: data ACKs, a partial frame), app
 * bytes kept for its next read; 0 means the readiness was ours only. */
int mps_inline_ready(struct mps_sock *s);
/* ioctl(FIONREAD): the app bytes a read would return now (*n), 0; or
 * MPS_INLINE_REAL (promoted, or not inline: the real ioctl answers). */
int mps_inline_fionread(struct mps_sock *s, int *n);
/* ... bytes read ahead wait for the app (then its wait must not sleep). */
int mps_inline_pending(struct mps_sock *s);
void mps_inline_wait_end(struct mps_sock *s);

#endif
