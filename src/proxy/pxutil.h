/* pxutil.h - small helpers shared by mptcpshim-proxy and mptcpshim-gateway
 * (their accept loop, upstream and main files): a monotonic clock in
 * milliseconds, an address for log lines, and the wait for a non-blocking
 * connect. */
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

#endif
