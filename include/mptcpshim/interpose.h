/* interpose.h - shared by the hook files in src/interpose/. */
#ifndef MPS_INTERPOSE_H
#define MPS_INTERPOSE_H

#include "mptcpshim/config.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"

#define MPS_EXPORT __attribute__((visibility("default")))

/* 1 when hooks must pass straight to libc: the shim's own thread, or the
 * library disabled (MPTCPSHIM_DISABLE, secure-exec). */
static inline int mps_passthrough(void)
{
	mps_real_init();
	return mps_inside || mps_config()->disabled;
}

#endif
