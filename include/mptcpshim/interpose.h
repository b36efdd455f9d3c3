/* interpose.h - shared by the hook files in src/interpose/. */
#ifndef MPS_INTERPOSE_H
#define MPS_INTERPOSE_H

#include <stdint.h>

#include "mptcpshim/config.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"

#define MPS_EXPORT __attribute__((visibility("default")))

/* 1 when hooks must pass straight to libc: the shim's own thread, or the
 * library disabled (MPTCPSHIM_DISABLE, secure-exec). */
static inline int mps_passthrough(void)
{
	mps_real_init();
	return mps_inside || mps_config()->disabled;
}

struct mps_sock;
struct mps_gwdest;
/* socket.c: setsockopt(MPS_SO_GW_CONNECT): connect fd through the gateway
 * to the host name d (gateway.h).  As a hook: 0, or -1 with errno. */
int mps_gw_connect_dest(int fd, const struct mps_gwdest *d);
/* sockopt.c: a TCP socket becomes a shim connection.  The options of the
 * app's blocking calls (timeouts, low-water mark, linger) move to its
 * socketpair end; per-path options it carries (set before connect, or
 * inherited from a listener) are remembered for later subflows.  Only
 * the options in want are read (optseen.h; MPS_OPTSEEN_ALL: all); returns
 * those that differ from a fresh socket's. */
uint32_t mps_opts_adopt(int tcp, int app_end, struct mps_sock *s, uint32_t want);
/* ... an inline connection's (inline.h): the app keeps the TCP socket and
 * its blocking-call options; the per-path ones among want are remembered
 * (the app asks them of the sock: the subflow's TCP_NODELAY is the
 * shim's), and a linger of 0 noted (its close aborts).  Returns those
 * that differ from a fresh socket's, as mps_opts_adopt. */
uint32_t mps_opts_note_inline(int tcp, struct mps_sock *s, uint32_t want);
/* sockopt.c: the socket() hook's result (optseen.h: a TCP socket's list
 * of options set starts empty). */
void mps_opts_socket(int fd, int domain, int type, int protocol);
/* sockopt.c: at connect, 1 if fd is a TCP socket made by socket() here,
 * with *want the options it may carry; else 0 and *want everything. */
int mps_opts_known(int fd, uint32_t *want);
/* The reverse, onto a fresh TCP socket that replaces the app's end
 * (connect(AF_UNSPEC), a new connect after a failed one). */
void mps_opts_restore(int app_end, int tcp, struct mps_sock *s);
/* Only what the app set on its end (SO_RCVTIMEO, SO_SNDTIMEO,
 * SO_RCVLOWAT, SO_LINGER), TCP_NOTSENT_LOWAT and TCP_NODELAY (the
 * subflow's was on): the hand-back's TCP socket carries the other
 * per-path ones already. */
void mps_opts_restore_app(int app_end, int tcp, struct mps_sock *s);
/* io.c: some connection is offered back (handback.h): take fd's if it is
 * (rd: a read call; a write only notes that the app has answered). */
void mps_handback_touch(int fd, int rd);
/* The lock of the per-family option defaults, held across fork. */
void mps_opts_lock(int lock);
/* proc.c: in a process made by clone(2) without fork() (no fork handler
 * ran), run the fork handlers' work now.  No-op otherwise. */
void mps_proc_cloned(void);
/* proc.c: before a finite RLIMIT_NPROC (limit: a struct rlimit, or a
 * struct rlimit64 with is64; NULL is ignored) applies to this process (pid
 * 0 or ours), start the shim thread (rlimit.c's hooks call it). */
void mps_proc_nproc_limit(int res, const void *limit, int is64, pid_t pid, const char *what);
/* proc.c: the execve family in a process that took a connection over from
 * its parent: its connections go to a keeper first.  No-op otherwise. */
void mps_proc_exec(void);

#endif
