/* engine.h - the top of the core (engine.c): wires the modules below it. */
#ifndef MPS_ENGINE_H
#define MPS_ENGINE_H

/* Register the process-level hooks (loop.c's: control socket, exit drain,
 * counters).  Idempotent; any thread; before the shim thread starts. */
void mps_engine_wire(void);

#endif
