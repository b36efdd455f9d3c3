/* optint.h - what sockopt.c and optadopt.c share.  App threads only. */
#ifndef MPS_INTERPOSE_OPTINT_H
#define MPS_INTERPOSE_OPTINT_H

#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/fdtab.h"

/* Remember the value the app set (level, name) on s, for getsockopt once
 * the connection is gone and for subflows made later (sockopt.c). */
void mps_ix_opt_remember(struct mps_sock *s, int level, int name, const void *val, socklen_t len);
/* The bits (optseen.h) an app's setsockopt(level, name) on a TCP socket
 * may change (optadopt.c). */
uint32_t mps_ix_opt_bits(int level, int name);

#endif
