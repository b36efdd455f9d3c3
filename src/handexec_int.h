/* handexec_int.h - handexec.c's side for handover.c: a connection's state
 * written for the image an exec starts. */
#ifndef MPS_HANDEXEC_INT_H
#define MPS_HANDEXEC_INT_H

#include <stdatomic.h>
#include <stdint.h>

struct ev_loop;
struct mps_conn;

/* An offer's state, in its word (one page of a memfd mapped MAP_SHARED
 * before the fork: the only memory parent and child share, and the one
 * an exec'd image maps again from the descriptor it inherits). */
enum { HO_OFFERED = 1, HO_TAKEN, HO_ADOPTED, HO_KEPT, HO_EXEC };

struct ho_word {
	_Atomic uint32_t state;
	_Atomic int32_t child; /* the child's pid, written by the child */
};

/* c (a snapshot nobody services: an offer this child holds) into a sealed
 * memfd (close-on-exec, above the app's range): its descriptor, or -errno
 * with why saying what it cannot carry (several connections, a join in
 * progress, frames queued, closing...). */
int mps_handexec_capture(struct mps_conn *c, const char **why);
/* The new image's constructor: MPTCPSHIM_EXECSTATE's connection checked,
 * rebuilt and serviced by this process's shim thread (1), or refused with
 * a warning and left to the process that serviced it (0; 0 also when the
 * variable is unset).  *out: the connection to resume, or NULL when it
 * started as at accept (not negotiated yet) or on 0. */
int mps_handexec_adopt(struct mps_conn **out);
/* The shim thread of the new image: *out of mps_handexec_adopt goes live
 * (watchers, token, hup set, path events; the caller then announces the
 * join port, mps_ho_readvertise). */
void mps_handexec_resume(struct ev_loop *loop, struct mps_conn *c);

#endif
