/* evoff.h - libev calls made off the shim thread (issue 15).
 *
 * An app thread holding the engine lock (mps_engine_trylock) may run
 * engine code: the app-thread send path (direct.c).  The loop is asleep in
 * epoll_wait meanwhile, with its descriptor set and its timeout computed
 * before it slept: a watcher started now takes effect, and a timer
 * started now is counted, only once the loop wakes.  So every start made
 * off the loop marks it, and mps_engine_unlock wakes the loop when
 * one was.  Stops need no wake-up (an event for a stopped watcher is
 * dropped, a timer that is gone only shortens one sleep).  Included after
 * <ev.h> by the engine's headers; a later <ev.h> is a no-op. */
#ifndef MPS_EVOFF_H
#define MPS_EVOFF_H

#include <ev.h>

/* Set while an app thread runs engine code (loop.c). */
extern __thread int mps_offloop;
/* ... and it started a watcher or a timer. */
extern __thread int mps_offloop_dirty;

static inline void mps_evoff_touch(int active)
{
	if (mps_offloop && !active)
		mps_offloop_dirty = 1;
}

/* A function-like macro does not expand inside its own replacement: these
 * call libev's functions.  Starting an active watcher changes nothing;
 * ev_timer_again may move an active timer earlier. */
#define ev_io_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_io_start(l, w))
#define ev_timer_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_timer_start(l, w))
#define ev_timer_again(l, w) (mps_evoff_touch(0), ev_timer_again(l, w))
#define ev_idle_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_idle_start(l, w))
#define ev_check_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_check_start(l, w))
#define ev_prepare_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_prepare_start(l, w))
#define ev_feed_event(l, w, r) (mps_evoff_touch(0), ev_feed_event(l, w, r))

/* A timer of a second or more that may fire up to a second late, started
 * without waking the loop: while any connection lives the idle sweep
 * (idlemem.c) wakes it every second, and the timer is counted then.  An
 * app thread's request/response would otherwise cost the shim thread a
 * wake-up each (the progress watchdog armed by every answer). */
#define mps_ev_timer_start_lazy(l, w) (ev_timer_start)(l, w)

#endif
