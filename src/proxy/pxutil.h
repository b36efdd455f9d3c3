/* pxutil.h - small helpers shared by mptcpshim-proxy and mptcpshim-gateway
 * (their accept loop, upstream and main files): a monotonic clock in
 * milliseconds, an address for log lines, the wait for a non-blocking
 * connect, and their command line's numbers and descriptor budget. */
#ifndef MPS_PROXY_PXUTIL_H
#define MPS_PROXY_PXUTIL_H

#include <stddef.h>
#include <sys/socket.h>

/* CLOCK_MONOTONIC in milliseconds: the deadlines of the proxy and gateway. */
long long mps_px_now_ms(void);

/* "a.b.c.d:port", "[v6]:port" or "?" into buf; returns buf. */
const char *mps_px_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);

/* Wait until fd's non-blocking connect (or MPS_SO_GW_CONNECT) completed,
 * at most until deadline (mps_px_now_ms() milliseconds).  0 when it is
 * connected; else -errno (its SO_ERROR, or -ETIMEDOUT once the deadline
 * passed) and fd is closed. */
int mps_px_wait_connected(int fd, long long deadline);

/* The integer value s of option opt, in lo..hi; otherwise says so on
 * stderr ("PROG: OPT: 'S' is not a number in LO..HI") and exits 2. */
int mps_px_parse_int(const char *prog, const char *opt, const char *s, int lo, int hi);

/* Raise RLIMIT_NOFILE's soft limit to the hard one, and return how many
 * connections of per_conn descriptors (64 spare) it allows: max_conns, or
 * fewer with a warning through log. */
int mps_px_fit_nofile(int max_conns, int per_conn, void (*log)(const char *fmt, ...));

#endif
