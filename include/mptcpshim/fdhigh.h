/* fdhigh.h - the shim's own descriptors, out of the app's range (fdhigh.c). */
#ifndef MPS_FDHIGH_H
#define MPS_FDHIGH_H

/* The shim's own descriptors are kept out of the range the app allocates
 * from, so the app's numbers are TCP's (see docs/DESIGN.md, "Descriptor
 * numbers and limits").  mps_fd_high_many makes close-on-exec copies
 * out[i] of in[i] (the originals stay open): above the soft RLIMIT_NOFILE
 * when the hard limit leaves room, else in the top half of the range below
 * it.  0, or -EMFILE (no room; nothing made).  mps_fd_high: one, the new
 * number or -errno. */
int mps_fd_high_many(const int *in, int *out, int n);
int mps_fd_high(int fd);
/* mps_fd_high, the copy made non-blocking: the new number, or -errno
 * (-EIO when the flag cannot be set; nothing left open then). */
int mps_fd_high_nonblock(int fd);
/* socketpair(AF_UNIX, type, 0, sv), made above the soft limit when the
 * app's range is full and the hard limit leaves room (a connection's pair
 * must not make the app run out before TCP would).  0 or -errno. */
int mps_socketpair_room(int type, int sv[2]);
/* Is fd below the soft RLIMIT_NOFILE (a number the app could have)? */
int mps_fd_app_range(int fd);
/* Held around the app's socket() (app: shared) and around the shim
 * thread's socket()/accept4() and the move of the result high (shim:
 * exclusive), so the app's socket() never sees our instant at a low
 * number.  Never held across a blocking call. */
void mps_alloc_app(int lock);
void mps_alloc_shim(int lock);
/* Held by the rlimit hooks, so the app never sees the raised limit. */
void mps_rlimit_lock(int lock);
/* In a forked child (fdtab.c's fork handlers): a limit another thread had
 * raised is restored, the locks start fresh. */
void mps_fdhigh_atfork_child(void);

#endif
