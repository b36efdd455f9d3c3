/* simcheck.h - what the simulated-network test programs share (check_sim,
 * check_simcc): the seed a case runs with, and an assertion that names it
 * so that a failure can be replayed. */
#ifndef MPS_SIMCHECK_H
#define MPS_SIMCHECK_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "simnet.h"

/* SIM_SEED from the environment, else dflt. */
static inline uint64_t test_seed(uint64_t dflt)
{
	const char *e = getenv("SIM_SEED");

	return e && *e ? strtoull(e, NULL, 0) : dflt;
}

/* Every assertion names the seed, so a failure can be replayed. */
#define SIM_ASSERT(cond, ...)                                                     \
	do {                                                                      \
		if (!(cond)) {                                                    \
			char m_[320];                                             \
			snprintf(m_, sizeof(m_), __VA_ARGS__);                    \
			ck_abort_msg("seed %llu (replay: SIM_SEED=%llu): %s: %s", \
			             (unsigned long long)sim_seed(),              \
			             (unsigned long long)sim_seed(), #cond, m_);  \
		}                                                                 \
	} while (0)

#endif
