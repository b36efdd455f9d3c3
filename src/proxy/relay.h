/* relay.h - the relay shared by mptcpshim-proxy and mptcpshim-gateway. */
#ifndef MPS_PROXY_RELAY_H
#define MPS_PROXY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_BUF (64 * 1024)

typedef void (*mps_relay_log_fn)(const char *fmt, ...);

/* Write all of b[0..n) to a non-blocking fd, waiting at most until the
 * deadline (CLOCK_MONOTONIC milliseconds).  0 or -errno. */
int mps_send_all(int fd, const void *b, size_t n, long long deadline);
/* Close a client answered with an error: a FIN, then what it still sends
 * is read and dropped for up to a second (no reset for unread bytes). */
void mps_close_after_reply(int fd);
/* Close with SO_LINGER {1, 0}: the peer sees a reset. */
void mps_abort_fd(int fd);
/* Relay cfd <-> u until both directions ended or one side failed (the
 * other is then aborted); closes both.  pre[0..npre) (< RELAY_BUF) go to u
 * first.  name and dest name the two ends in log lines (verbose: every
 * connection's end). */
void mps_relay(int cfd, int u, const char *name, const char *dest, const uint8_t *pre, size_t npre,
               int verbose, mps_relay_log_fn plog);

/* Stopping: every connection being relayed gets SO_LINGER {1, 0} on both
 * ends, so that they are reset when the process exits (a client must not
 * read EOF, a truncated stream taken for a complete one).  Returns how
 * many. */
int mps_relay_abort_all(void);

#endif
