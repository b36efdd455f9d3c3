/* evoff.h - libev calls made off the shim thread (issue 15).
 *
 * An app thread holding the engine lock (mps_engine_trylock) may run
 * engine code: the app-thread send path (direct.c), an inline
 * connection's calls (inline.c).  The loop is asleep in epoll_wait
 * meanwhile, with its descriptor set and its timeout computed before it
 * slept: a watcher started now takes effect, and a timer started now is
 * counted, only once the loop wakes.  So every watcher start made off the
 * loop marks it, and mps_engine_unlock wakes the loop when one was.  A
 * timer needs no wake-up now, only one by its time: the earliest timer
 * started off the loop is noted, and mps_engine_unlock arms the engine's
 * timerfd (a descriptor in the loop's set) for it, unless it is armed
 * earlier already.  A wake-up is two context switches on each side; a
 * timerfd_settime is one system call, and a timer stopped before its
 * time (most are: a reply came) costs at most that one early wake-up of
 * the loop.  Stops need nothing (an event for a stopped watcher is
 * dropped, a timer that is gone only shortens one sleep).  Included
 * after <ev.h> by the engine's headers; a later <ev.h> is a no-op. */
#ifndef MPS_EVOFF_H
#define MPS_EVOFF_H

#include <ev.h>

/* Set while an app thread runs engine code (loop.c). */
extern __thread int mps_offloop;
/* ... and it started a watcher. */
extern __thread int mps_offloop_dirty;
/* ... the earliest timer it started: ev_now-based, 0 for none. */
extern __thread double mps_offloop_at;

static inline void mps_evoff_touch(int active)
{
	if (mps_offloop && !active)
		mps_offloop_dirty = 1;
}

static inline void mps_evoff_timer(struct ev_loop *l, ev_timer *w)
{
	double at;

	if (!mps_offloop || !ev_is_active(w))
		return;
	at = ev_now(l) + ev_timer_remaining(l, w);
	if (mps_offloop_at == 0 || at < mps_offloop_at)
		mps_offloop_at = at;
}

/* A function-like macro does not expand inside its own replacement: these
 * call libev's functions.  Starting an active watcher changes nothing;
 * ev_timer_again may move an active timer earlier. */
#define ev_io_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_io_start(l, w))
#define ev_timer_start(l, w) (ev_timer_start(l, w), mps_evoff_timer(l, w))
#define ev_timer_again(l, w) (ev_timer_again(l, w), mps_evoff_timer(l, w))
#define ev_idle_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_idle_start(l, w))
#define ev_check_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_check_start(l, w))
#define ev_prepare_start(l, w) (mps_evoff_touch(ev_is_active(w)), ev_prepare_start(l, w))
#define ev_feed_event(l, w, r) (mps_evoff_touch(0), ev_feed_event(l, w, r))

/* A timer of a second or more that may fire up to a second late, started
 * without arming the timerfd: while any connection lives the idle sweep
 * (idlemem.c) wakes the loop every second, and the timer is counted then.  An
 * app thread's request/response would otherwise cost the shim thread a
 * wake-up each (the progress watchdog armed by every answer). */
#define mps_ev_timer_start_lazy(l, w) (ev_timer_start)(l, w)

#endif
