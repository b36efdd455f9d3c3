/* enginelock_int.h - the engine lock (enginelock.c): what loop.c calls. */
#ifndef MPS_ENGINELOCK_INT_H
#define MPS_ENGINELOCK_INT_H

#include <ev.h>

#include "mptcpshim/evoff.h"

/* The loop of this process's shim thread and its wake-up watcher:
 * the lock is released around the loop's epoll_wait from now on. */
void mps_engine_attach(struct ev_loop *loop, ev_async *wake);
/* The keeper (loop.c): the loop goes on in a new process; its timerfd
 * must be its own. */
void mps_engine_keeper(struct ev_loop *loop);
/* The calling thread (the shim thread) takes (1) or gives up (0) the lock
 * for good, around its life. */
void mps_engine_hold(int hold);
/* App threads may (1) or may no longer (0) take it; called holding it. */
void mps_engine_open(int open);
/* A forked child: whoever held the lock did not come along. */
void mps_engine_atfork_child(void);

/* For an app thread (the app-thread send path, direct.c): the loop, with
 * the lock held and the loop's clock brought up to date, or NULL when the
 * shim thread holds it (busy), none runs in this process, or it is ending.
 * The caller runs engine code, then calls mps_engine_unlock, which wakes
 * the loop if a watcher or timer was started meanwhile (evoff.h). */
struct ev_loop *mps_engine_trylock(void);
/* The same, waiting for the lock however busy the shim thread is (an
 * inline connection's call has no other way: inline.c); NULL when none
 * runs in this process or it is ending. */
struct ev_loop *mps_engine_lock(void);
void mps_engine_unlock(void);

#endif
