/* kmptcp.h - kernel MPTCP for a client's plain connections
 * (MPTCPSHIM_KERNEL_MPTCP=1; docs/DESIGN.md "Kernel MPTCP for plain peers").
 *
 * A connection to a peer that does not run mptcpshim is plain TCP.  Where
 * the local kernel offers MPTCP (socket(AF_INET, SOCK_STREAM,
 * IPPROTO_MPTCP) works), such a connection may be opened as IPPROTO_MPTCP
 * instead: a server running kernel MPTCP then gets multipath, and a plain
 * server sees ordinary TCP (the kernel falls back by itself when the
 * SYN-ACK carries no MP_CAPABLE).  Opt-in: the default is off. */
#ifndef MPS_KMPTCP_H
#define MPS_KMPTCP_H

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* MPTCPSHIM_KERNEL_MPTCP is set and the kernel has not refused MPTCP
 * sockets in this process yet. */
int mps_kmptcp_wanted(void);

/* A new SOCK_STREAM IPPROTO_MPTCP socket (flags: SOCK_NONBLOCK,
 * SOCK_CLOEXEC), or -errno.  A kernel without MPTCP (EPROTONOSUPPORT,
 * ENOPROTOOPT: net.mptcp.enabled=0, EINVAL) is noted once (info line) and
 * not asked again by this process; the caller then uses TCP. */
int mps_kmptcp_socket(int family, int flags);

/* Copy to the MPTCP socket to what an app set on its TCP socket from: the
 * integer options of a fixed list where they differ from a fresh TCP
 * socket's (so autotuned buffers stay autotuned), SO_LINGER, SO_RCVTIMEO,
 * SO_SNDTIMEO, SO_BINDTODEVICE and TCP_CONGESTION.  Options the MPTCP
 * socket refuses are skipped. */
void mps_kmptcp_copy_opts(int from, int to, int family);

#endif
