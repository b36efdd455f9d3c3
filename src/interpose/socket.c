/* socket.c - connect(), and the adoption of a TCP socket by the engine
 * (shared with accept.c through sockint.h).
 *
 * The hooks are thin: decide whether a call concerns an mptcpshim
 * connection, and hand the work to the core.  Everything else goes to
 * libc untouched. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/engine.h"
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/nego.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/util.h"
#include "sockint.h"

int mps_ix_is_inet(const struct sockaddr *sa)
{
	return sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6);
}

/* A SOCK_STREAM IPPROTO_TCP socket (not MPTCP, not UDP, not AF_UNIX). */
int mps_ix_is_tcp(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (mps_real.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) != 0 || v != IPPROTO_TCP)
		return 0;
	len = sizeof(v);
	if (mps_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) != 0 || v != SOCK_STREAM)
		return 0;
	return 1;
}

static int addr_is_bound(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		return in->sin_port != 0 || in->sin_addr.s_addr != htonl(INADDR_ANY);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		return in6->sin6_port != 0 || !IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
	}
	return 0;
}

/* Fill the app's end of a socketpair from the app's side until it is no
 * longer writable: a connecting TCP socket is not writable either.  The
 * shim thread reads these bytes back once the connect completes. */
static size_t fill_app_end(int app)
{
	static const char zeros[65536];
	size_t total = 0;

	for (;;) {
		ssize_t w = send(app, zeros, sizeof(zeros), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w <= 0)
			break;
		total += (size_t)w;
	}
	/* Small writes fill the remainder of the buffer's accounting. */
	for (;;) {
		ssize_t w = send(app, zeros, 512, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w <= 0)
			break;
		total += (size_t)w;
	}
	return total;
}

/* The app's epoll registrations of fd follow it when the shim swaps the
 * file behind the number (see mptcpshim/epreg.h): ep_detach deletes them
 * from the file fd names now (before the swap) and keeps those the kernel
 * had; ep_attach adds them to the file it names after. */
static int ep_detach(int fd, struct mps_epreg *r)
{
	int n = mps_epreg_take(fd, r, MPS_EPREG_PER_FD), i, k = 0;

	for (i = 0; i < n; i++)
		if (mps_real.epoll_ctl(r[i].epfd, EPOLL_CTL_DEL, fd, NULL) == 0)
			r[k++] = r[i];
	return k;
}

static void ep_attach(int fd, const struct mps_epreg *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct epoll_event ev = {.events = r[i].events, .data = {.u64 = r[i].data}};

		if (mps_real.epoll_ctl(r[i].epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
			mps_epreg_note(r[i].epfd, EPOLL_CTL_ADD, fd, r[i].events, r[i].data);
		else
			mps_warn("epoll: cannot move fd %d's registration in epoll set %d: %s", fd,
			         r[i].epfd, strerror(errno));
	}
}

int mps_ix_ep_detach(int fd, struct mps_epreg *r) { return ep_detach(fd, r); }

void mps_ix_ep_attach(int fd, const struct mps_epreg *r, int n) { ep_attach(fd, r, n); }

/* The app's number fd goes back to the TCP socket (tcp, ours) it was:
 * the connection stays plain TCP, untouched by us. */
static void restore_tcp(int fd, int tcp, int nonblock, int cloexec, int epmove)
{
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	int nep = epmove ? ep_detach(fd, ep) : 0;

	mps_fdtab_clear(fd);
	mps_real.dup3(tcp, fd, cloexec ? O_CLOEXEC : 0);
	mps_real.fcntl(fd, F_SETFL, nonblock ? O_NONBLOCK : 0);
	ep_attach(fd, ep, nep);
}


/* The shim thread runs in this process (one getpid() in the common case:
 * mps_loop_cloned asks it). */
int mps_ix_loop_ready(void)
{
	if (mps_loop_cloned()) {
		mps_proc_cloned();
		if (mps_loop_cloned())
			return -EPERM;
	}
	mps_engine_wire(); /* before the thread starts (even before our constructor) */
	return mps_loop_ensure();
}

/* mps_ix_adopt, step 1: the socketpair (the app's end sp[0], the shim's
 * sp[1]), the filler while connecting, and the shim's descriptors moved
 * out of the app's range: sp[1], *tcp (fd's socket) and p->app_dup.  On
 * an error the caller closes what is set. */
static int adopt_fds(int fd, const struct adopt_args *a, int sp[2], int *tcp,
                     struct mps_conn_params *p)
{
	int rc, in[3], hi[3];

	/* both ends non-blocking: the shim's always, the app's while the
	 * filler goes in and when the app asked for it (issue 15: fewer
	 * system calls per connection) */
	rc = mps_socketpair_room(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, sp);
	if (rc)
		return rc;
	mps_grow_pair_buffer(sp[1]);
	if (a->connecting) {
		/* Filled at the smallest size the kernel allows (a few KiB,
		 * not the default's ~330 KB: the shim reads the filler back,
		 * and a short connection paid ~650 KB of copies for it); the
		 * shim grows it (through app_dup) once the connect completes. */
		int small = 1;

		mps_real.setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		p->filler = fill_app_end(sp[0]);
	} else
		mps_grow_pair_buffer(sp[0]);
	in[0] = sp[1];
	in[1] = fd;
	in[2] = sp[0];
	rc = mps_fd_high_many(in, hi, a->connecting ? 3 : 2);
	if (rc)
		return rc;
	mps_real.close(sp[1]);
	sp[1] = hi[0];
	mps_ifd_add(sp[1]);
	*tcp = hi[1];
	mps_ifd_add(*tcp);
	if (a->connecting) {
		p->app_dup = hi[2];
		mps_ifd_add(p->app_dup);
	}
	if (!a->nonblock && mps_real.fcntl(sp[0], F_SETFL, 0) != 0)
		return -errno;
	return 0;
}

/* Step 2: the sock that stands for the TCP connection behind the app's
 * end (app_end), with the options fd carries.  NULL and *rc on error. */
static struct mps_sock *adopt_sock(int fd, const struct adopt_args *a, int app_end, int *rc)
{
	struct mps_sock *s;
	struct stat st;
	uint32_t found;

	if (mps_fstat(app_end, &st) != 0) {
		*rc = -errno;
		return NULL;
	}
	s = mps_sock_new(a->peer->sa_family);
	if (!s) {
		*rc = -ENOMEM;
		return NULL;
	}
	s->ino = st.st_ino;
	found = mps_opts_adopt(fd, app_end, s, a->opt_want);
	if (a->opt_found)
		*a->opt_found = found;
	memcpy(&s->peer, a->peer, a->peer_len);
	s->peer_len = a->peer_len;
	if (a->gw_dest) { /* the request names it (gwconn.c) */
		s->gw_info = calloc(1, sizeof(*s->gw_info));
		if (!s->gw_info) {
			mps_sock_put(s);
			*rc = -ENOMEM;
			return NULL;
		}
		s->gw_info->dest = *a->gw_dest;
	}
	s->local_len = sizeof(s->local);
	mps_real.getsockname(fd, (struct sockaddr *)&s->local, &s->local_len);
	atomic_store(&s->state, a->connecting ? MPS_SS_CONNECTING : MPS_SS_CONNECTED);
	/* A blocking connect that returned 0 (and accept) told the app */
	atomic_store(&s->connect_told, !a->connecting);
	return s;
}

/* Step 3: the app's number gets the socketpair end, keeping its
 * close-on-exec flag (and, on connect, its epoll registrations).  0, or
 * -errno with fd still the TCP socket. */
static int adopt_swap(int fd, const struct adopt_args *a, int app_end)
{
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	int nep = 0;

	if (a->role == MPS_CLIENT)
		nep = ep_detach(fd, ep);
	if (mps_real.dup3(app_end, fd, a->cloexec ? O_CLOEXEC : 0) < 0) {
		int e = errno;

		ep_attach(fd, ep, nep); /* still the TCP socket */
		return -e;
	}
	ep_attach(fd, ep, nep);
	return 0;
}

void mps_ix_conn_params(struct mps_conn_params *p, const struct adopt_args *a,
                        struct mps_sock *s, int tcp)
{
	p->role = a->role;
	p->tcp_fd = tcp;
	p->connecting = a->connecting;
	p->bound = a->bound;
	if (a->bound && a->local) {
		p->local = *a->local;
		p->local_len = a->local_len;
	}
	p->sock = s;
	p->peer_known_shim = a->known_shim;
	p->gw = a->gw;
}

/* Swap fd (a TCP socket) for the app's end of a new socketpair and start
 * the connection engine.  The app's end takes fd's number (connect and
 * accept alike), and the descriptors the shim keeps (its end, the TCP
 * socket, the filler's second copy of the app's end while connecting) go
 * out of the app's range (mps_fd_high_many), so the app's numbers are
 * TCP's.  0 or -errno (then fd is left untouched, a plain TCP socket:
 * EMFILE for our extra descriptors degrades the connection to plain).
 * Steps 1-3 above, then the engine (step 4). */
int mps_ix_adopt(int fd, const struct adopt_args *a, int *app_fd_out)
{
	struct mps_conn_params p;
	struct mps_sock *s = NULL;
	int sp[2] = {-1, -1}, tcp = -1, rc;

	memset(&p, 0, sizeof(p));
	p.app_dup = -1;
	/* The shim thread runs here before anything is swapped: without it
	 * the connection stays plain TCP (see DESIGN "Thread creation"). */
	rc = a->loop_checked ? 0 : mps_ix_loop_ready();
	if (rc) {
		mps_warn("cannot run the shim thread in this process (%s)", strerror(-rc));
		return rc;
	}
	rc = adopt_fds(fd, a, sp, &tcp, &p);
	if (rc)
		goto fail;
	s = adopt_sock(fd, a, sp[0], &rc);
	if (!s)
		goto fail;
	rc = adopt_swap(fd, a, sp[0]);
	if (rc)
		goto fail;
	mps_real.close(sp[0]);
	sp[0] = -1;
	/* (the app's non-blocking socket, and an accepted one, already
	 * are: accept4 asks for it) */
	if (!a->tcp_nonblock && mps_real.fcntl(tcp, F_SETFL, O_NONBLOCK) != 0) {
		/* cannot happen on a valid socket */
	}
	mps_fdtab_set(fd, s);

	mps_ix_conn_params(&p, a, s, tcp);
	p.shim_fd = sp[1];
	rc = mps_conn_start(&p);
	mps_sock_put(s); /* fdtab and the conn hold their own references */
	if (rc) {
		/* Unreachable in practice (ENOMEM): nothing went through the
		 * socketpair yet, so the app's number goes back to the TCP
		 * socket and the connection stays plain. */
		mps_err("cannot start connection: %s", strerror(-rc));
		restore_tcp(fd, tcp, a->nonblock, a->cloexec, a->role == MPS_CLIENT);
		mps_ifd_close(p.app_dup);
		mps_ifd_close(sp[1]);
		mps_ifd_close(tcp);
		return rc;
	}
	*app_fd_out = fd;
	return 0;

fail:
	mps_ifd_close(p.app_dup);
	if (s)
		mps_sock_put(s);
	if (sp[0] >= 0)
		mps_real.close(sp[0]);
	mps_ifd_close(sp[1]);
	mps_ifd_close(tcp);
	return rc;
}

/* The app's fd becomes a fresh, unconnected TCP socket carrying the
 * options the app set, as a TCP socket is after connect(AF_UNSPEC) or
 * once a failed connect was reported: the next connect() starts over.
 * The socketpair end it replaces is closed; if it was the last copy the
 * connection ends (abortively when s->linger0 is set). */
static int reset_to_tcp(int fd, struct mps_sock *s)
{
	int fl = mps_real.fcntl(fd, F_GETFL), fdfl = mps_real.fcntl(fd, F_GETFD), t, nep;
	struct mps_epreg ep[MPS_EPREG_PER_FD];

	t = socket(s->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (t < 0)
		return -1;
	mps_opts_restore(fd, t, s);
	if (fl >= 0 && (fl & O_NONBLOCK))
		mps_real.fcntl(t, F_SETFL, O_NONBLOCK);
	mps_fdtab_clear(fd);
	nep = ep_detach(fd, ep);
	if (mps_real.dup3(t, fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		int e = errno;

		ep_attach(fd, ep, nep);
		mps_real.close(t);
		errno = e;
		return -1;
	}
	ep_attach(fd, ep, nep);
	mps_real.close(t);
	return 0;
}

/* connect(AF_UNSPEC): TCP resets the connection and leaves the socket
 * unconnected, ready to connect again. */
static int disconnect(int fd, struct mps_sock *s)
{
	atomic_store(&s->linger0, 1); /* the peer sees a reset, as from TCP */
	return reset_to_tcp(fd, s);
}

/* A blocking connect() while ours is in progress waits for the outcome,
 * bounded by SO_SNDTIMEO, as TCP's does. */
static int wait_connect(int fd, struct mps_sock *s)
{
	struct timeval tv = {0, 0};
	socklen_t l = sizeof(tv);
	int ms = -1;

	if (mps_real.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) == 0 &&
	    (tv.tv_sec || tv.tv_usec))
		ms = (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
	while (atomic_load(&s->state) == MPS_SS_CONNECTING) {
		struct pollfd p = {fd, POLLOUT, 0};
		int r = mps_real.poll(&p, 1, ms);

		if (r < 0)
			return -1; /* EINTR */
		if (r == 0) {
			errno = EALREADY; /* timed out: still in progress */
			return -1;
		}
		if (atomic_load(&s->state) == MPS_SS_CONNECTING)
			sched_yield(); /* writable just before the state changes */
	}
	return 0;
}

/* connect() on an fd that is already ours: what TCP would answer. */
static int connect_again(int fd, struct mps_sock *s)
{
	int err, fl;

	if (atomic_load(&s->state) == MPS_SS_CONNECTING) {
		fl = mps_real.fcntl(fd, F_GETFL);
		if (fl < 0 || (fl & O_NONBLOCK)) {
			errno = EALREADY;
			return -1;
		}
		if (wait_connect(fd, s))
			return -1;
	}
	switch (atomic_load(&s->state)) {
	case MPS_SS_FAILED:
		/* Reported once (here or by SO_ERROR); then the socket is
		 * unconnected and may connect again, as TCP's. */
		err = atomic_exchange(&s->so_error, 0);
		reset_to_tcp(fd, s);
		errno = err ? err : ECONNABORTED;
		return -1;
	default:
		/* The first connect() after a non-blocking one completed says
		 * 0; after that, EISCONN. */
		if (!atomic_exchange(&s->connect_told, 1))
			return 0;
		errno = EISCONN;
		return -1;
	}
}

/* What connect() learns before a socket becomes ours (both paths). */
struct connect_pre {
	int flags, fdflags, bound;
	struct sockaddr_storage local;
	socklen_t local_len;
};

/* The shim thread (started here, so that it runs while the handshake
 * does), then the socket's file flags and its bound address, if any.
 * 0, or -errno when this process cannot run the shim thread: logged with
 * `instead` (what connect() does then: the caller connects plainly). */
static int connect_prologue(int fd, const char *instead, struct connect_pre *p)
{
	int err;

	err = mps_ix_loop_ready();
	if (err) {
		mps_warn("connect: %s: cannot run the shim thread in this process (%s)", instead,
		         strerror(-err));
		return err;
	}
	p->flags = mps_real.fcntl(fd, F_GETFL);
	p->fdflags = mps_real.fcntl(fd, F_GETFD);
	memset(&p->local, 0, sizeof(p->local));
	p->local_len = sizeof(p->local);
	p->bound = mps_real.getsockname(fd, (struct sockaddr *)&p->local, &p->local_len) == 0 &&
	           addr_is_bound(&p->local);
	return 0;
}

/* connect() through the gateway: the app's socket becomes ours at once,
 * still unconnected; the shim thread connects it to the gateway, sends
 * HELLO + GWREQ and reports the GWREPLY's result as the connect's: a
 * blocking connect waits for it here, a non-blocking one says EINPROGRESS
 * and the outcome comes as writability and SO_ERROR. */
static int gw_connect(int fd, const struct sockaddr *sa, socklen_t len,
		      const struct mps_gwdest *dest, uint32_t want)
{
	struct connect_pre p;
	struct mps_sock *s;
	int flags, err, app, rc;
	char a[64];

	if (connect_prologue(fd, "not through the gateway", &p)) {
		if (dest) {
			errno = ENOPROTOOPT; /* the caller resolves the name itself */
			return -1;
		}
		return mps_real.connect(fd, sa, len);
	}
	mps_loop_kick(); /* its wake-up overlaps the first flight's work */
	flags = p.flags;
	{
		struct adopt_args aa = {.role = MPS_CLIENT, .connecting = 1,
				       .nonblock = flags & O_NONBLOCK, .cloexec = p.fdflags & FD_CLOEXEC,
				       .peer = sa, .peer_len = len, .bound = p.bound,
				       .local = &p.local, .local_len = p.local_len, .known_shim = 1,
				       .gw = 1, .gw_dest = dest, .opt_want = want};

		err = mps_ix_adopt(fd, &aa, &app);
	}
	if (err && dest) {
		errno = -err; /* a name has no address to connect to directly */
		return -1;
	}
	if (err) {
		mps_warn("connect to %s: not through the gateway: %s",
		         mps_addr_str(sa, a, sizeof(a)), strerror(-err));
		return mps_real.connect(fd, sa, len);
	}
	if (flags & O_NONBLOCK) {
		errno = EINPROGRESS;
		return -1;
	}
	s = mps_fdtab_get(fd);
	if (!s) {
		errno = EBADF;
		return -1;
	}
	rc = connect_again(fd, s);
	mps_sock_put(s);
	return rc;
}

int mps_gw_connect_dest(int fd, const struct mps_gwdest *dest)
{
	struct sockaddr_storage ss, peer;
	socklen_t plen = sizeof(peer), dl;
	struct mps_gwdest dd = *dest, *d = &dd;
	struct mps_sock *s;
	int dom = 0, st;
	uint32_t want;

	if (d->type != MPS_GWT_DEST_NAME || d->port == 0 ||
	    !mps_gwdest_name_ok(d->name, d->name_len)) {
		errno = EINVAL; /* an address: connect() routes it */
		return -1;
	}
	d->name[d->name_len] = '\0'; /* the caller's may not be terminated */
	s = mps_fdtab_get(fd);
	if (s) { /* ours already: connected or connecting */
		st = atomic_load(&s->state);
		mps_sock_put(s);
		errno = st == MPS_SS_CONNECTING ? EALREADY : EISCONN;
		return -1;
	}
	dl = sizeof(dom);
	if (!mps_ix_is_tcp(fd) || mps_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) != 0 ||
	    (dom != AF_INET && dom != AF_INET6) || !mps_gw_route_name(d->port)) {
		errno = ENOPROTOOPT; /* what the kernel says of this level */
		return -1;
	}
	if (mps_real.getpeername(fd, (struct sockaddr *)&peer, &plen) == 0) {
		errno = EISCONN;
		return -1;
	}
	/* which options the app may have set (all when unknown), as connect() */
	mps_opts_known(fd, &want);
	/* The peer as getpeername() names it: the unspecified address and
	 * the destination's port (only the gateway learns the address). */
	memset(&ss, 0, sizeof(ss));
	if (dom == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(d->port);
		return gw_connect(fd, (struct sockaddr *)in, sizeof(*in), d, want);
	}
	{
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(d->port);
		return gw_connect(fd, (struct sockaddr *)in6, sizeof(*in6), d, want);
	}
}

/* MPTCPSHIM_KERNEL_MPTCP: a connect to a destination known plain goes out
 * as kernel MPTCP (kmptcp.h).  fd, the app's TCP socket, neither bound nor
 * connected, is swapped for an MPTCP socket with the same number, file
 * status and close-on-exec flags, options (mps_kmptcp_copy_opts) and epoll
 * registrations.  On any failure, or when the app bound it (the binding
 * cannot move without a window where the port is free), fd stays the TCP
 * socket it was. */
static void kmptcp_swap(int fd)
{
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int fl, fdfl, nfd, nep;

	if (!mps_kmptcp_wanted())
		return;
	memset(&local, 0, sizeof(local));
	if (mps_real.getsockname(fd, (struct sockaddr *)&local, &len) != 0 ||
	    addr_is_bound(&local) ||
	    (local.ss_family != AF_INET && local.ss_family != AF_INET6))
		return;
	fl = mps_real.fcntl(fd, F_GETFL);
	fdfl = mps_real.fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		return;
	nfd = mps_kmptcp_socket(local.ss_family, SOCK_CLOEXEC);
	if (nfd < 0)
		return;
	mps_kmptcp_copy_opts(fd, nfd, local.ss_family);
	mps_real.fcntl(nfd, F_SETFL, fl);
	nep = ep_detach(fd, ep);
	if (mps_real.dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		ep_attach(fd, ep, nep); /* still the TCP socket */
		mps_real.close(nfd);
		return;
	}
	ep_attach(fd, ep, nep);
	mps_real.close(nfd);
	mps_dbg("connect: fd %d goes out as kernel MPTCP (a plain destination)", fd);
}

MPS_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct connect_pre pre;
	const struct mps_config *cfg;
	struct mps_sock *s;
	struct sockaddr_storage local;
	socklen_t local_len = sizeof(local);
	int flags, fdflags, rc, connecting, bound, err, app, known, saved;
	enum mps_peer_kind kind;
	uint32_t want;

	if (mps_passthrough())
		return mps_real.connect(fd, sa, len);
	s = mps_fdtab_get(fd);
	if (s && atomic_load(&s->inl)) {
		/* inline: the app's number is the TCP socket, whose answers are
		 * TCP's (0 once connected, then EISCONN; EALREADY before) */
		if (!(sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC)) {
			rc = mps_real.connect(fd, sa, len);
			mps_sock_put(s);
			return rc;
		}
		mps_inline_promote_sock(s, "connect(AF_UNSPEC)"); /* the socketpair's rules */
	}
	if (s) {
		if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC)
			rc = disconnect(fd, s);
		else
			rc = connect_again(fd, s);
		mps_sock_put(s);
		return rc;
	}
	if (!mps_ix_is_inet(sa))
		return mps_real.connect(fd, sa, len);
	/* A gateway's outbound connections are plain TCP, always.  A socket
	 * made by socket() here is known TCP (and which options it may carry
	 * to read at adoption: optseen.h). */
	if (mps_gw_serving() || (!mps_opts_known(fd, &want) && !mps_ix_is_tcp(fd)))
		return mps_real.connect(fd, sa, len);
	/* Through the gateway, unless this process knows the destination
	 * runs mptcpshim itself. */
	if (mps_gwconf()->n && mps_peercache_lookup(sa, mps_now_us()) != MPS_PEER_SHIM) {
		/* a policy rule's gateway=yes|no first, else MPTCPSHIM_GATEWAY_FOR */
		int pol = mps_steer_gateway(sa);

		if (pol > 0 || (pol < 0 && mps_gw_route(sa)))
			return gw_connect(fd, sa, len, NULL, want);
	}
	cfg = mps_config();
	if (!mps_config_peer_allowed(cfg, sa))
		return mps_real.connect(fd, sa, len);
	kind = mps_peercache_lookup(sa, mps_now_us());
	if (kind == MPS_PEER_UNKNOWN)
		/* another process of ours may have found it plain */
		kind = mps_peercache_shared_lookup(cfg->peer_cache, sa, mps_now_us(),
		                                   (int64_t)time(NULL));
	if (kind == MPS_PEER_PLAIN) {
		kmptcp_swap(fd);
		return mps_real.connect(fd, sa, len);
	}
	known = kind == MPS_PEER_SHIM;

	/* The shim thread first, so that it runs while the handshake does
	 * (the HELLO follows the SYN-ACK at once); none here: plain TCP. */
	if (connect_prologue(fd, "continuing as plain TCP", &pre))
		return mps_real.connect(fd, sa, len);
	flags = pre.flags;
	fdflags = pre.fdflags;
	bound = pre.bound;
	local = pre.local;
	local_len = pre.local_len;

	/* The app's thread makes the real connect, so its result and errno
	 * (ECONNREFUSED, ETIMEDOUT, EINTR, SO_SNDTIMEO...) are TCP's own.
	 * Still in progress (non-blocking, interrupted by a signal, or past
	 * SO_SNDTIMEO) it becomes ours all the same: the app's next
	 * connect(), poll or write sees the outcome as with TCP. */
	rc = mps_real.connect(fd, sa, len);
	if (rc != 0 && errno != EINPROGRESS && errno != EINTR)
		return rc;
	saved = errno;
	connecting = rc != 0;
	{
		struct adopt_args a = {.role = MPS_CLIENT, .connecting = connecting,
				       .nonblock = flags & O_NONBLOCK, .cloexec = fdflags & FD_CLOEXEC,
				       .peer = sa, .peer_len = len, .bound = bound,
				       .local = &local, .local_len = local_len, .known_shim = known,
				       .opt_want = want, .loop_checked = 1,
				       .tcp_nonblock = flags & O_NONBLOCK};

		/* inline (inline.h): towards a known shim, no socketpair;
		 * the socketpair while the shim thread is still starting */
		err = cfg->inl && known ? mps_ix_inline_adopt(fd, &a) : -EAGAIN;
		if (err == -EAGAIN)
			err = mps_ix_adopt(fd, &a, &app);
	}
	if (err) {
		/* The fd is still the plain TCP socket: carry on without us. */
		char a[64];

		mps_warn("connect to %s: continuing as plain TCP: %s",
		         mps_addr_str(sa, a, sizeof(a)), strerror(-err));
	}
	errno = saved;
	return rc;
}
