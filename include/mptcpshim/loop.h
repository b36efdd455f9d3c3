/* loop.h - the per-process shim thread running one libev loop.
 *
 * App threads never touch connection state: they hand work to the shim
 * thread as commands (a mutex-protected queue + ev_async wakeup).  The
 * thread starts on first use, with every signal blocked, and a forked
 * child starts its own on demand. */
#ifndef MPS_LOOP_H
#define MPS_LOOP_H

#include <ev.h>

#include "mptcpshim/evoff.h"

struct mps_cmd {
	struct mps_cmd *next;
	void (*fn)(struct ev_loop *loop, void *arg);
	void *arg;
};

/* Queue cmd (caller-allocated, freed by fn or its owner) to run on the
 * shim thread, starting the thread if needed.  0 or -errno. */
int mps_loop_submit(struct mps_cmd *cmd);

/* Wake the shim thread with nothing queued yet: a command follows soon
 * (a gateway connect(), which sends its first flight itself before it
 * hands the connection over), and on a loaded machine the thread's
 * wake-up, waited for behind other processes, then overlaps that work
 * instead of following it.  No-op when the thread does not run. */
void mps_loop_kick(void);

/* Start the shim thread of this process if it does not run yet, and
 * return once it runs its loop: 0, or -errno when no thread can run here
 * (RLIMIT_NPROC, a seccomp sandbox...; then the caller stays plain TCP).
 * A thread that never came up is not tried again in this process. */
int mps_loop_ensure(void);

/* 1 when this process runs our state but not our thread: it was made by
 * clone(2) without fork(), so no fork handler ran (see mps_proc_cloned). */
int mps_loop_cloned(void);

/* Tests (the simulated network, tests/sim): the calling thread becomes
 * the shim thread and runs the loop itself.  The loop, or NULL. */
struct ev_loop *mps_loop_adopt(void);

/* 1 when called on the shim thread. */
int mps_loop_on_thread(void);

/* The thread-local "inside the shim" flag: hooks pass straight to libc
 * while it is set (the shim thread sets it for its whole life). */
extern __thread int mps_inside;

/* Set on the thread that forks the keeper, for the duration of fork():
 * the fork handlers then leave the shim's state to the keeper. */
extern __thread int mps_keeper_forking;

/* At process exit (our destructor, or the _exit hooks after a hand-over):
 * stop the shim thread; if a connection
 * is unfinished, fork a keeper process that services the connections
 * until each ends (every app descriptor closed in every process, then our
 * DATA_FIN acknowledged; at most timeout seconds once all app descriptors
 * are closed).  This process returns at once.  No-op without a shim
 * thread of this process.  bound (seconds, 0: none): give up, with a
 * warning, when the thread has not stopped by then (an _exit from a
 * signal handler that interrupted a lock holder). */
void mps_loop_exit(double timeout, double bound);

/* park=1: make this process's shim thread (if it runs here and the
 * caller is not it) wait at a safe point between two callbacks, holding
 * no lock and inside no allocation, and return once it does (or after a
 * bound, with a warning).  park=0 releases it.  Around a clone(2)
 * without CLONE_VM, which runs no fork handler of glibc (malloc's locks)
 * and copies whatever the thread was in the middle of. */
/* park=2: the same after one more round of the loop (a non-blocking poll
 * and the callbacks it makes pending, queued commands first), for a fork
 * that offers connections to its child (handover.c). */
int mps_loop_park(int park);
void mps_loop_atfork_prepare(void);
void mps_loop_atfork_parent(void);
void mps_loop_atfork_child(void);

/* What loop.c calls above it, without naming it (docs/DESIGN.md section 1,
 * "Layers"): the control socket (thread_start, thread_exit: ctl.c), the
 * connections at exit (all_drained, all_finished, exit_drain,
 * keeper_begin: conn.c), handover offers (handover_exit), the counters
 * (write_exit, atfork_child: stat.c).  engine.c's mps_engine_wire registers
 * them, from the library's constructor and before the thread starts; until
 * then, none: no control socket, no connection (drained, finished). */
struct mps_loop_hooks {
	void (*thread_start)(struct ev_loop *loop);
	void (*thread_exit)(void);
	int (*all_drained)(void);
	int (*all_finished)(void);
	void (*exit_drain)(struct ev_loop *loop);
	void (*keeper_begin)(struct ev_loop *loop, double timeout);
	void (*handover_exit)(struct ev_loop *loop);
	void (*gw_exit)(void); /* conn.c: reset the connections a gateway spliced */
	void (*write_exit)(int pid, const char *comm);
	void (*atfork_child)(void);
};
void mps_loop_set_hooks(const struct mps_loop_hooks *h);

#endif
