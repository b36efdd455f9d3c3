/* loop.h - the per-process shim thread running one libev loop.
 *
 * App threads never touch connection state: they hand work to the shim
 * thread as commands (a mutex-protected queue + ev_async wakeup).  The
 * thread starts on first use, with every signal blocked, and a forked
 * child starts its own on demand. */
#ifndef MPS_LOOP_H
#define MPS_LOOP_H

#include <ev.h>

struct mps_cmd {
	struct mps_cmd *next;
	void (*fn)(struct ev_loop *loop, void *arg);
	void *arg;
};

/* Queue cmd (caller-allocated, freed by fn or its owner) to run on the
 * shim thread, starting the thread if needed.  0 or -errno. */
int mps_loop_submit(struct mps_cmd *cmd);

/* 1 when called on the shim thread. */
int mps_loop_on_thread(void);

/* The thread-local "inside the shim" flag: hooks pass straight to libc
 * while it is set (the shim thread sets it for its whole life). */
extern __thread int mps_inside;

/* At process exit: wait at most timeout seconds for every connection to
 * deliver what the app wrote (see conn.c).  No-op without a shim thread. */
void mps_loop_exit_drain(double timeout);

void mps_loop_atfork_prepare(void);
void mps_loop_atfork_parent(void);
void mps_loop_atfork_child(void);

#endif
