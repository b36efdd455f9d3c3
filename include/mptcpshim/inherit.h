/* inherit.h - connections handed across exec.
 *
 * After execve the new image's copy of the library knows nothing of the
 * descriptors it inherited.  Our exec hooks add MPTCPSHIM_INHERIT to the
 * new environment: one entry per connection that may survive the exec,
 * with what the new image needs to answer socket calls as TCP would.  Its
 * constructor rebuilds the fd table from it, trusting an entry only for a
 * descriptor that is an AF_UNIX stream socket with the entry's inode (a
 * stale or forged variable cannot claim an unrelated descriptor), and
 * removes the variable.  The connections stay serviced by the process
 * that serviced them before (the socketpair works across exec).
 *
 * Value: "1" (format version) then, per connection, " FD:INO:STATE:LOCAL:PEER"
 * with FD the descriptor number at exec time (a hint: descriptors are
 * matched by inode, since posix_spawn file actions may renumber them), INO
 * the decimal inode of the app's socketpair end, STATE an mps_sock_state
 * (0..3), LOCAL and PEER the raw sockaddr_in/sockaddr_in6 in hex. */
#ifndef MPS_INHERIT_H
#define MPS_INHERIT_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

struct mps_inherit_entry {
	int fd;
	unsigned long long ino;
	int state;
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
};

/* Parse one entry at *p (after the separating space), advancing *p.
 * 0, or -1 on a malformed entry (the caller ignores the whole value). */
int mps_inherit_parse_entry(const char **p, struct mps_inherit_entry *e);

/* Format the whole "NAME=value" string into buf (cap bytes, no malloc:
 * this runs in vfork children): every connection of this process, or with
 * survivors_only those with a descriptor not marked close-on-exec.  Length
 * written, 0 when there is none (or cap is too small for one). */
size_t mps_inherit_format(char *buf, size_t cap, int survivors_only);
/* How many bytes mps_inherit_format may need. */
size_t mps_inherit_bound(void);

/* Constructor: adopt the connections announced by MPTCPSHIM_INHERIT. */
void mps_inherit_adopt(void);

#endif
