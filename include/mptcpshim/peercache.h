/* peercache.h - what we learned about destinations: plain (connect plainly
 * at once until the entry expires) or shim (send the first flight freely). */
#ifndef MPS_PEERCACHE_H
#define MPS_PEERCACHE_H

#include <stdint.h>
#include <sys/socket.h>

enum mps_peer_kind { MPS_PEER_UNKNOWN = 0, MPS_PEER_PLAIN, MPS_PEER_SHIM };

/* What is known about sa (address and port) at time now_us. */
enum mps_peer_kind mps_peercache_lookup(const struct sockaddr *sa, uint64_t now_us);
/* Record kind for sa; ttl_us bounds how long a PLAIN verdict lasts. */
void mps_peercache_note(const struct sockaddr *sa, enum mps_peer_kind kind, uint64_t now_us,
			uint64_t ttl_us);
/* Lock (1) / unlock (0) the cache around the keeper's fork. */
void mps_peercache_lock(int lock);

#endif
