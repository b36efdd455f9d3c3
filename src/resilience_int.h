/* resilience_int.h - path failures (resilience.c) (private to the engine). */
#ifndef MPS_RESILIENCE_INT_H
#define MPS_RESILIENCE_INT_H

#include "engine_types.h"

/* resilience.c */
void mps_resil_outage_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
void mps_resil_rejoin_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
void mps_resil_outage_end(struct mps_conn *c);
/* The stale tick (one per process) visits c while it has data outstanding:
 * arm joins its list, leave quits it (c freed); suspend and resume take c
 * off the list and back while a forked child may take it (handover.c);
 * atfork_child forgets the parent's list. */
void mps_resil_stale_arm(struct mps_conn *c);
void mps_resil_stale_leave(struct mps_conn *c);
void mps_resil_stale_suspend(struct mps_conn *c);
void mps_resil_stale_resume(struct mps_conn *c);
void mps_resil_atfork_child(void);
/* Everything not data-ACKed goes out again (from snd_una). */
void mps_resil_resend_from_una(struct mps_conn *c);
/* watchdog.c */
void mps_resil_watchdog_on_timer(struct ev_loop *loop, ev_timer *w, int revents);
/* Start the watchdog if data waits for its data ACK (stops itself when none). */
void mps_resil_watchdog_arm(struct mps_conn *c);
void mps_resil_sf_mp_eof(struct mps_conn *c, struct mps_subflow *sf, int err);
void mps_resil_drop_sf(struct mps_conn *c, struct mps_subflow *sf, const char *why);

#endif
