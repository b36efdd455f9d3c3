/* ctl.h - the per-process control socket (docs/DESIGN.md "Control
 * socket"): an AF_UNIX stream socket DIR/PID.sock in a private directory
 * (mode 0700, ours), served by the shim thread without blocking it.
 * `mptcpshim status|monitor|set` talk to it (ctlproto.h). */
#ifndef MPS_CTL_H
#define MPS_CTL_H

#include <ev.h>
#include <stddef.h>
#include <sys/types.h>

#include "mptcpshim/evoff.h" /* after <ev.h>: libev starts made off the loop */

/* Check (or create, mode 0700) the directory dir: it must be a real
 * directory (not a symbolic link), owned by uid, with no access for group
 * or others.  0, or -errno (-EPERM: planted by someone else). */
int mps_ctl_dir_check(const char *dir, uid_t uid, int create);

/* On the shim thread, when it starts: create the socket (unless
 * MPTCPSHIM_CONTROL=0 or secure-exec).  Failures are logged once. */
void mps_ctl_start(struct ev_loop *loop);

/* Connected monitors (shim thread). */
int mps_ctl_monitors(void);
/* Queue an event line for every monitor; one whose buffer is full is
 * dropped (shim thread). */
void mps_ctl_publish(const char *line, size_t len);

/* Process exit: remove our socket's name (only the process that made it;
 * any thread). */
void mps_ctl_exit(void);
/* After fork: the parent's socket is not ours (its descriptors are closed
 * by fdtab); the child's shim thread makes its own. */
void mps_ctl_atfork_child(void);

#endif
