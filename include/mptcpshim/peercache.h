/* peercache.h - what we learned about destinations: plain (connect plainly
 * at once until the entry expires) or shim (send the first flight freely). */
#ifndef MPS_PEERCACHE_H
#define MPS_PEERCACHE_H

#include <stdint.h>
#include <sys/socket.h>

enum mps_peer_kind { MPS_PEER_UNKNOWN = 0, MPS_PEER_PLAIN, MPS_PEER_SHIM };

/* What is known about sa (address and port) at time now_us: the port's own
 * verdict, else PLAIN if its host was found plain (see _note_host). */
enum mps_peer_kind mps_peercache_lookup(const struct sockaddr *sa, uint64_t now_us);
/* Record kind for sa; ttl_us bounds how long a PLAIN verdict lasts. */
void mps_peercache_note(const struct sockaddr *sa, enum mps_peer_kind kind, uint64_t now_us,
                        uint64_t ttl_us);
/* A definitive plain verdict for sa (its server answered something else
 * than a HELLO_ACK, or closed): for sa and for every port of its host that
 * has no verdict of its own (secondary connections: FTP data, a port a
 * server tells the client to connect to).  A shim answering on a port is
 * that port's own (SHIM) verdict, an exception to its host's. */
void mps_peercache_note_host(const struct sockaddr *sa, uint64_t now_us, uint64_t ttl_us);
/* Server: the host of sa sent a HELLO as a client (ttl_us from now_us);
 * shared through the same page as the host verdicts (_tree_init), so a
 * forking server's listener learns it from its children.  _shim_client:
 * 1 if so, 0 otherwise (or nothing shared). */
void mps_peercache_note_shim_client(const struct sockaddr *sa, uint64_t now_us, uint64_t ttl_us);
int mps_peercache_shim_client(const struct sockaddr *sa, uint64_t now_us);
/* Share the host verdicts with the processes this one forks from now on
 * (one MAP_SHARED page; see peercache.c).  Idempotent. */
void mps_peercache_tree_init(void);
/* The plain verdicts shared by the user's processes in the file path
 * (MPTCPSHIM_PEER_CACHE; NULL or "" = none), for this network namespace.
 * lookup: MPS_PEER_PLAIN (also noted in this process's cache for the time
 * left: as the host's, _note_host, when it was definitive), MPS_PEER_SHIM
 * (note_shim, below) or MPS_PEER_UNKNOWN; per address and port: the file holds no host verdict.
 * note_plain: definitive (the server answered something else than a
 * HELLO_ACK, or closed) is plain at once; a timed-out HELLO (a slow shim
 * server looks the same) only the second time within ttl_s.  forget: the
 * destination answered a HELLO.  0, or -1 (nothing
 * to forget, file refused or I/O error: it must be a regular file of ours
 * that nobody else can write). */
enum mps_peer_kind mps_peercache_shared_lookup(const char *path, const struct sockaddr *sa,
                                               uint64_t now_us, int64_t now_s);
int mps_peercache_shared_note_plain(const char *path, const struct sockaddr *sa, int64_t now_s,
                                    uint32_t ttl_s, int definitive);
int mps_peercache_shared_forget(const char *path, const struct sockaddr *sa, int64_t now_s);
/* ... note_shim: the destination answered a HELLO (in place of forget):
 * for a minute, lookup says MPS_PEER_SHIM to the user's other processes
 * too (also noted in the caller's cache), so their first connection to it
 * may start inline (inline.h).  0 or -1 as above. */
int mps_peercache_shared_note_shim(const char *path, const struct sockaddr *sa, int64_t now_s);
/* Server: the host of sa sent a HELLO as a client, told to the user's
 * processes through the same file (a host record: port 0), so a server
 * process started later gives that host's first connection the longer
 * banner window too (nego.h, MPS_BANNER_KNOWN_US).  _shim_client: 1 if the
 * file says so (then also noted for this process tree, _note_shim_client),
 * else 0.  Neither is a plain verdict: versions that read only those
 * never see the record. */
int mps_peercache_shared_note_shim_client(const char *path, const struct sockaddr *sa,
                                          int64_t now_s, uint32_t ttl_s);
int mps_peercache_shared_shim_client(const char *path, const struct sockaddr *sa, uint64_t now_us,
                                     int64_t now_s);
/* Lock (1) / unlock (0) the cache around the keeper's fork. */
void mps_peercache_lock(int lock);

#endif
