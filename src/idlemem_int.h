/* idlemem_int.h - the idle memory sweep (idlemem.c) (private to the engine). */
#ifndef MPS_IDLEMEM_INT_H
#define MPS_IDLEMEM_INT_H

#include <ev.h>

#include "mptcpshim/evoff.h"

/* Run the sweep on loop while connections exist (a connection starting or
 * resumed calls it); atfork_child forgets the parent's timer. */
void mps_idlemem_arm(struct ev_loop *loop);
void mps_idlemem_atfork_child(void);

#endif
