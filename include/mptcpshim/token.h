/* token.h - token -> connection table (server side), so a token names at
 * most one live connection per process (RFC 8684 §3.1: regenerate the key
 * on collision) and joins can find their connection. */
#ifndef MPS_TOKEN_H
#define MPS_TOKEN_H

#include <stdint.h>

struct mps_conn;

/* Register conn under token.  0, or -EEXIST if the token is in use. */
int mps_token_add(uint32_t token, struct mps_conn *conn);
void mps_token_del(uint32_t token, struct mps_conn *conn);
struct mps_conn *mps_token_find(uint32_t token);
/* A forked child (not the keeper) forgets the parent's tokens. */
void mps_token_atfork_child(void);
/* Held across fork (src/interpose/proc.c): a leaf lock. */
void mps_token_lock(int lock);

#endif
