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
/* The offer of token is settled: its waiting joins are read again (they
 * join here, or are closed as handed over). */
void mps_ho_joins_resume(struct ev_loop *loop, uint32_t token);
/* token's connection was handed to process pid (for late joins' log). */
void mps_ho_handed_note(uint32_t token, pid_t pid);
/* A new child: the parent's waiting joins are not its own (fork handler). */
void mps_ho_joins_forget(void);
/* The child took c over: announce its own join port under the parent's
 * address ids (the client replaces an address it knows by id). */
void mps_ho_readvertise(struct mps_conn *c);

#endif
