/* handover.h - a forked child takes its connection over (docs/DESIGN.md,
 * "Process model", "Fork per connection").
 *
 * At fork the shim thread is parked, and every server connection whose
 * app end this process holds is offered to the child: suspended here (no
 * watcher, no token, out of the connection list) and its state copied to
 * the child with its descriptors.  A word in a MAP_SHARED page made before
 * the fork settles it: taken when the parent's app closes its last
 * descriptor of it, then adopted by the child at its first hooked call on
 * it; kept (serviced here, as before) when the parent uses it, when the
 * child execs, or when the bound passes first. */
#ifndef MPS_HANDOVER_H
#define MPS_HANDOVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

/* Offers this process has not settled (as a parent: undecided; as a
 * child: neither adopted nor dropped).  The hooks call in only while it
 * is non-zero: one relaxed atomic load otherwise. */
extern atomic_int mps_handover_pending;

/* The epoll set of this process's libev loop (noted by the epoll_create
 * hooks inside the shim): a connection handed to a child leaves it before
 * our copies of its descriptors close, since its files live on. */
extern atomic_int mps_handover_epfd;

/* The pid of this process once it adopted a connection (0: never): its
 * shim thread then holds bytes only it can deliver, and the _exit hooks
 * (proc.c) drain them first.  A forked child or a vfork child reads
 * another pid here. */
extern atomic_int mps_handover_adopter;

/* Set on a thread around a clone(2) without fork(): nothing is offered. */
extern __thread int mps_handover_off;

/* proc.c's fork handlers (the keeper's fork offers nothing).  prepare runs
 * first in the prepare handler (it parks the shim thread), parent last in
 * the parent's; child_keep before fdtab closes the internal descriptors,
 * child last in the child's. */
void mps_handover_prepare(void);
void mps_handover_parent(void);
void mps_handover_child_keep(void);
void mps_handover_child(void);

/* The app makes a hooked call on fd (-1: on no descriptor of ours). */
void mps_handover_touch(int fd);
static inline void mps_handover_hook(int fd)
{
	if (atomic_load_explicit(&mps_handover_pending, memory_order_relaxed))
		mps_handover_touch(fd);
}
/* The app waits in epoll set epfd: a connection offered to this child
 * and registered there (by the parent before the fork, say) adopts as at
 * a call on it. */
void mps_handover_touch_epoll(int epfd);
/* The app is about to close fd. */
void mps_handover_close(int fd);
/* The app execs (carry 1: the execve family; 0: posix_spawn, whose
 * caller goes on; path: the program, NULL if unknown; envp: the new
 * image's environment): an offer the parent gave up whose
 * app end survives the exec is carried into the new image (its state in a
 * sealed memfd: returned, no close-on-exec, for MPTCPSHIM_EXECSTATE; -1:
 * none), every other one goes back to the parent.  If the exec returns,
 * mps_handover_exec_failed takes the carried ones back. */
int mps_handover_exec(int carry, const char *path, char *const envp[]);
void mps_handover_exec_failed(void);
/* The new image's constructor (inherit.c, after the inherited
 * descriptors are in the fd table): adopt the connections carried in
 * MPTCPSHIM_EXECSTATE, if any (handover_exec.c). */
void mps_handover_exec_adopt(void);
/* join.c (shim thread).  A join for a connection offered to a child and
 * not decided yet waits (1: sf is held, its reading and deadline stopped;
 * it is read again once the offer is settled).  join_gone: sf is freed.
 * handed: 1 with why filled when token was a connection's this process
 * handed to a child lately. */
struct mps_subflow;
int mps_handover_defer_join(struct ev_loop *loop, struct mps_subflow *sf, uint32_t token);
void mps_handover_join_gone(struct mps_subflow *sf);
int mps_handover_handed(uint32_t token, char *why, size_t len);

/* Process exit, the shim thread stopped (loop quiescent): every offer
 * this process made is settled (kept ones join the loop again). */
void mps_handover_exit(struct ev_loop *loop);

#endif
