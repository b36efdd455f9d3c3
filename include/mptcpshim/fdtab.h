/* fdtab.h - which of the app's descriptors are mptcpshim connections.
 *
 * The app holds one end of an AF_UNIX socketpair per connection (see
 * docs/DESIGN.md).  fdtab maps an fd number to the struct mps_sock that
 * describes the TCP connection it stands for.  dup()ed descriptors map to
 * the same mps_sock (refcounted).  An entry is trusted only while the fd
 * still refers to the same socket inode (fds closed behind our back by raw
 * syscalls are detected that way).
 *
 * Internal descriptors (subflows, the shim's socketpair ends, the log) are
 * tracked apart, so a forked child can close them and the close() hook can
 * refuse to let the app close them under us. */
#ifndef MPS_FDTAB_H
#define MPS_FDTAB_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mptcpshim/fdhigh.h" /* the shim's descriptors out of the app's range */

#define MPS_MAX_OPTS 24

enum mps_sock_state {
	MPS_SS_CONNECTING = 0, /* non-blocking connect in progress */
	MPS_SS_CONNECTED,      /* TCP up (negotiation may still be running) */
	MPS_SS_FAILED,         /* connect failed: so_error holds why */
	MPS_SS_CLOSED,         /* the connection ended */
};

/* A socket option the app set (struct mps_sock.opts). */
struct mps_opt {
	int level, name;
	socklen_t len;
	uint8_t val[32];
};

struct mps_sock {
	atomic_int refs;
	atomic_int state;
	atomic_int so_error; /* reported once by getsockopt(SO_ERROR) */
	atomic_int so_error_told; /* it was: the af_unix error standing for it is not news */
	atomic_int linger0;  /* SO_LINGER {1, 0}: closing aborts (FASTCLOSE) */
	atomic_int peer_closed; /* ended by the peer's close before the app's: TCP_INFO
				   says CLOSE_WAIT, as a TCP socket's until the app shuts
				   its side down (mps_sock_close_wait) */
	atomic_int pending_err; /* reported once by the next read or write (ETIMEDOUT) */
	atomic_int shut_wr;     /* the app called shutdown(SHUT_WR/RDWR): no direct write */
	/* Inline (inline.h): the app's number is the subflow's TCP socket
	 * itself; its data calls frame and deframe on the app's thread. */
	atomic_int inl;
	atomic_int inl_nonblock; /* ... the app's O_NONBLOCK on it (fcntl, ioctl hooks) */
	atomic_int inl_waiters;  /* ... app threads waiting on the TCP socket (poll, a blocking read) */
	atomic_int inl_srv;      /* ... an accepted one's: promoted before an app thread waits */
	atomic_int inl_rxq;      /* ... rxq may hold bytes (set when some came, cleared when
	                            the app took the last: a hint, checked under the lock) */
	/* Serviced by another process: a forked child's copy, or an fd
	 * inherited across exec.  conn is then meaningless here (a stale copy
	 * or NULL) and option calls are answered without a subflow. */
	atomic_int remote;
	atomic_int connect_told; /* connect() has reported the connection's outcome */
	atomic_int notsent_lowat; /* TCP_NOTSENT_LOWAT as the app set it (not applied) */
	atomic_int handback;  /* MPS_HB_* (handback.h): the TCP socket goes back to the app */
	atomic_int hb_tries;  /* hand-backs refused for bytes in flight */
	atomic_int hb_wrote;  /* the app wrote since the offer: its first exchange is over */
	atomic_int hb_paused; /* the relay was asked to pause for the hand-back */
	atomic_int hb_listed; /* the paused list holds a reference (handback.c) */
	atomic_int hb_refs;   /* references the hand-back's pause holds (handback.c) */
	unsigned fork_gen;    /* mps_fork_gen when made: a fork since shares the app's end */
	int family;
	int type_flags;      /* SOCK_NONBLOCK etc. given at accept4 */
	ino_t ino;           /* inode of the app's socketpair end */
	struct sockaddr_storage local, peer;
	socklen_t local_len, peer_len;
	/* Options the app set on the connection, replayed onto subflows
	 * created later (guarded by lock): cap_opts slots (at most
	 * MPS_MAX_OPTS), allocated at the first option, as most sockets set
	 * none or a few (issue 15). */
	struct mps_opt *opts;
	int nopts, cap_opts;
	/* Gateway listener's connection: 0 until its request is
	 * authenticated (1, gw_info set) or it was refused (-1). */
	_Atomic int gw_ready;
	struct mps_gwinfo *gw_info; /* freed with the sock */
	pthread_cond_t gw_cond;     /* gw_ready changed (with lock) */
	pthread_mutex_t lock; /* guards conn, its subflow array and fds, opts */
	struct mps_conn *conn; /* NULL once the connection engine let go */
};

/* How many socks have a pending_err: the data-call hooks look only when
 * this is non-zero, so their cost is one atomic load otherwise. */
extern atomic_int mps_pending_errors;
/* Forks this process made or came from (the fork handlers count them). */
extern atomic_uint mps_fork_gen;

/* The hand-back of a plain client's TCP socket (handback.h, docs/DESIGN.md
 * section 2 "Hand-back"): struct mps_sock.handback. */
enum {
	MPS_HB_NONE = 0, /* not (yet) known plain */
	MPS_HB_OFFERED,  /* plain: the app's next data call may take it back */
	MPS_HB_DONE,     /* handed back, or never will be (the connection ended,
			    several threads, a fork...) */
};
/* How many socks are offered: the data-call hooks look up their
 * descriptor only while this is non-zero. */
extern atomic_int mps_handback_pending;
/* Shim thread: the connection of s is plain: offer it back. */
void mps_handback_offer(struct mps_sock *s);
/* Any thread: never offer s back (again); 1 if it was offered. */
int mps_handback_cancel(struct mps_sock *s);

struct mps_sock *mps_sock_new(int family);
void mps_sock_get(struct mps_sock *s);
void mps_sock_put(struct mps_sock *s);
/* Record an option the app set (caller holds s->lock). */
void mps_sock_remember_opt(struct mps_sock *s, int level, int name, const void *val, socklen_t len);

/* fd -> sock.  set takes a reference; clear drops it. */
int mps_fdtab_set(int fd, struct mps_sock *s);
void mps_fdtab_clear(int fd);
/* Returns a referenced sock (mps_sock_put when done) or NULL.  Validates
 * the inode, dropping stale entries. */
struct mps_sock *mps_fdtab_get(int fd);
/* mps_fdtab_get in two steps, for a caller that may give up before it
 * needs to know the entry is still fd's (the app-thread send path, which
 * skips a known-plain connection without a system call): a reference
 * taken without the check, then the check (fstat: the inode), which
 * drops a stale entry and returns 0; the caller still puts its
 * reference. */
struct mps_sock *mps_fdtab_ref(int fd);
int mps_fdtab_verify(int fd, struct mps_sock *s);
/* Cheap check without validation, for hot paths. */
int mps_fdtab_has(int fd);
/* Any fd of this process that refers to s, dup()ed into a new descriptor
 * the caller owns (close it with mps_real.close); -1 if none. */
int mps_fdtab_dup_any(struct mps_sock *s);
/* The same taken from a child process that holds the socket with inode
 * ino (a fork-per-connection server's child has the app's only copy):
 * pidfd_getfd(2), which needs ptrace rights over the child (the default
 * for a parent).  Slow (reads /proc): for an abort only.  -1 if none. */
int mps_fdtab_dup_from_children(ino_t ino);

/* Call fn(fd, s, arg) for every fd whose entry still matches its inode,
 * without changing the table (safe in a vfork child, whose memory is the
 * parent's).  Stops early when fn returns non-zero. */
void mps_fdtab_each(int (*fn)(int fd, struct mps_sock *s, void *arg), void *arg);

/* Internal descriptors. */
void mps_ifd_add(int fd);
void mps_ifd_del(int fd);
/* Forget and close an internal descriptor (no-op for fd < 0). */
void mps_ifd_close(int fd);
int mps_ifd_is(int fd);
/* The keeper (see loop.c): close every descriptor of the process except
 * the internal ones and keep (-1: none). */
void mps_ifd_close_others(int keep);
/* close_range(2) of [lo, hi] with flags that spares the internal
 * descriptors (the app's closefrom/close_range hooks: sshd calls
 * closefrom right after its re-exec).  0, or -1 with errno. */
int mps_ifd_close_range(unsigned lo, unsigned hi, int flags);
/* Move fd (ours) high and register it; the number it now has.  If there
 * is no room: with must, fd stays where it is (registered); without, fd
 * is closed and -EMFILE returned (the caller degrades).  Logs (at most
 * once a second) when there is no room. */
int mps_ifd_take(int fd, int must);
/* fork support: lock/unlock around fork, and in the child close them all. */
void mps_fdtab_atfork_prepare(void);
void mps_fdtab_atfork_parent(void);
void mps_fdtab_atfork_child(void);

/* The connection ended by the peer's close, and the app has not shut its
 * own side down: TCP's socket would be in CLOSE_WAIT. */
static inline int mps_sock_close_wait(struct mps_sock *s)
{
	return atomic_load(&s->peer_closed) && !atomic_load(&s->shut_wr);
}

#endif
