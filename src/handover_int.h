/* handover_int.h - between handover.c (offers, the decision, adoption)
 * and handover_join.c (joins meeting the hand-over).  Shim thread unless
 * said otherwise. */
#ifndef MPS_HANDOVER_INT_H
#define MPS_HANDOVER_INT_H

#include <stdint.h>
#include <sys/types.h>

struct ev_loop;
struct mps_conn;

/* handover.c registers its look-up (1 when token is a connection this
 * process offered to a child and has not settled) with handover_join.c,
 * which calls it for a join that arrives meanwhile. */
void mps_ho_joins_set_offered(int (*offered)(uint32_t token));
/* inline.c registers its look-up (1 when token's join must wait: an
 * inline server's connection promoted while an app thread waits on its
 * TCP socket), asked for every join's JOIN and JOIN_OK. */
void mps_ho_joins_set_held(int (*held)(uint32_t token));
/* The offer of token is settled (or the wait that held its joins is
 * over, or its connection ended): its waiting joins are read again (they
 * join here, or are closed as handed over or unknown). */
void mps_ho_joins_resume(struct ev_loop *loop, uint32_t token);
/* token's connection was handed to process pid (for late joins' log). */
void mps_ho_handed_note(uint32_t token, pid_t pid);
/* A new child: the parent's waiting joins are not its own (fork handler). */
void mps_ho_joins_forget(void);
/* The child took c over: announce its own join port under the parent's
 * address ids (the client replaces an address it knows by id). */
void mps_ho_readvertise(struct mps_conn *c);

/* ---- offers (handover.c), shared with handover_exec.c ---- */
#include <ev.h>

#include "mptcpshim/evoff.h"
#include "mptcpshim/execstate.h"
#include "mptcpshim/loop.h"

/* HO_EXEC: the child execs with the connection's app end open and its
 * state in a memfd (handover_exec.c): the new image adopts it (ADOPTED),
 * or the parent keeps it at HO_EXEC_BOUND (KEPT). */
enum { HO_OFFERED = 1, HO_TAKEN, HO_ADOPTED, HO_KEPT, HO_EXEC };

/* The parent decides within this (seconds from the fork): the time a
 * forking server takes to close its copy, on a loaded machine too. */
#define HO_BOUND 0.2
/* A taken connection the child has not adopted by then (it made no
 * hooked call: a program that polls first) is serviced by the parent
 * after all.  A busy machine can keep a new child off the CPU for some
 * hundreds of milliseconds before its first call (seen: 400 ms at a load
 * of 14 on 2 cores). */
#define HO_ADOPT_BOUND 1.0
/* The same for a connection carried across exec: the new image's
 * constructor adopts it (a program's loading and relocation first). */
#define HO_EXEC_BOUND 3.0

/* One per offered connection, in a page of its own (a memfd mapped
 * MAP_SHARED before the fork, so that an exec'd image can map it again):
 * the only memory parent and child share. */
struct ho_word {
	_Atomic uint32_t state;
	_Atomic int32_t child; /* the child's pid, written by the child */
};

/* Watchers of a connection: conn's, then each subflow's (the set does not
 * change while the connection is offered: nobody acts on it). */
#define HO_MAXW MPS_XS_MAXW
#define HO_MAXFD (1 + MPS_MAX_SUBFLOWS + MPS_MAX_PARKED)

struct ho_offer {
	struct ho_offer *next;
	struct mps_conn *c;
	struct ho_word *w;
	int wfd;   /* the word's memfd (internal), -1: none */
	double t0; /* CLOCK_MONOTONIC at the fork */
	pid_t parent;
	struct mps_cmd cmd;   /* child: adoption on the child's shim thread */
	uint8_t was[HO_MAXW]; /* 1: active at the fork; 2: an expired timer not yet run */
};

/* handover.c */
int mps_ho_watchers(struct mps_conn *c, ev_watcher **w, uint8_t *io);
int mps_ho_conn_fds(const struct mps_conn *c, int *fd);
void mps_ho_forget(struct mps_conn *c, int epfd);
void mps_ho_offer_free(struct ho_offer *o);
/* The child's (or the exec'd image's) shim thread: o->c is ours now. */
void mps_ho_adopt_on_thread(struct ev_loop *loop, void *arg);
/* The parent's new offer's word: a page of a memfd (*wfd, internal), or
 * anonymous shared memory (*wfd -1) when no memfd can be made. */
struct ho_word *mps_ho_word_new(int *wfd);

/* handover_exec.c's hooks: g_lock taken (-1: not, this thread holds it
 * already or runs inside the library) and *child the offers made to this
 * process (NULL: none here; a vfork child's are its parent's); then
 * mps_ho_unlock. */
int mps_ho_lock_child(struct ho_offer **child);
void mps_ho_unlock(void);

#endif
