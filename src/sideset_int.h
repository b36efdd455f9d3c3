/* sideset_int.h - descriptors watched through one epoll set of ours that
 * the loop watches with one io watcher (sideset.c). */
#ifndef MPS_SIDESET_INT_H
#define MPS_SIDESET_INT_H

#include <stdint.h>

#include <ev.h>

#include "mptcpshim/evoff.h"

struct mps_sideset {
	int ep;        /* the epoll set, or -1 before the first add */
	ev_io io;      /* watches ep on the loop of the first add (period 0) */
	double period; /* > 0: no io watcher; a tick looks every period s */
	ev_timer tick; /* ... running while the set has members */
	unsigned members;
	int must; /* keep ep in the app's range if no room beyond (mps_ifd_take) */
	int pri;  /* io's libev priority */
	/* On the loop: ptr's descriptor is ready (it stays in the set until
	 * the callback or someone else deletes it). */
	void (*ready)(struct ev_loop *loop, void *ptr);
};

#define MPS_SIDESET_INIT(cb, must_, pri_)                               \
	{                                                               \
		.ep = -1, .ready = (cb), .must = (must_), .pri = (pri_) \
	}
/* A set the loop looks at every period seconds while it has members, not
 * woken by each (a wake-up per member is the cost this saves). */
#define MPS_SIDESET_POLLED(cb, period_)                      \
	{                                                    \
		.ep = -1, .ready = (cb), .period = (period_) \
	}

/* fd joins the set with these epoll events, reported as ptr: from any
 * thread (epoll_ctl; the first add, which starts io, under the engine
 * lock).  0 or -errno. */
int mps_sideset_add(struct mps_sideset *s, struct ev_loop *loop, int fd, uint32_t events,
                    void *ptr);
/* fd, a member, leaves the set. */
void mps_sideset_del(struct mps_sideset *s, int fd);
/* A forked child: the set was the parent's (its descriptor is closed by
 * fdtab as an internal one). */
void mps_sideset_atfork_child(struct mps_sideset *s);

#endif
