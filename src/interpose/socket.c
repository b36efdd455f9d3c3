/* socket.c - connect/accept and the descriptor calls around them.
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
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/nego.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/util.h"

static int is_inet(const struct sockaddr *sa)
{
	return sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6);
}

/* A SOCK_STREAM IPPROTO_TCP socket (not MPTCP, not UDP, not AF_UNIX). */
static int is_tcp(int fd)
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

/* What adopt() is told about the TCP socket it takes over. */
struct adopt_args {
	enum mps_role role;
	int connecting;        /* client: the connect is still in progress */
	int nonblock, cloexec; /* the app's flags, kept on its number */
	const struct sockaddr *peer;
	socklen_t peer_len;
	int bound; /* client: the app bound it first, to local */
	const struct sockaddr_storage *local;
	socklen_t local_len;
	int known_shim; /* client: this process has seen the peer run mptcpshim */
	int gw; /* client: through the gateway (fd not connected yet); server: accepted on a
		   gateway listener */
	const struct mps_gwdest *gw_dest; /* client, gw: the destination asked for by name
					     (MPS_SO_GW_CONNECT), or NULL: peer's address */
	uint32_t opt_want;   /* the options fd may carry (optseen.h) */
	uint32_t *opt_found; /* if set: those that differ from the defaults */
	int loop_checked;    /* the caller made sure the shim thread runs */
	int tcp_nonblock;    /* fd's file is O_NONBLOCK already */
};

/* The shim thread runs in this process (one getpid() in the common case:
 * mps_loop_cloned asks it). */
static int loop_ready(void)
{
	if (mps_loop_cloned()) {
		mps_proc_cloned();
		if (mps_loop_cloned())
			return -EPERM;
	}
	return mps_loop_ensure();
}

/* Swap fd (a TCP socket) for the app's end of a new socketpair and start
 * the connection engine.  The app's end takes fd's number (connect and
 * accept alike), and the descriptors the shim keeps (its end, the TCP
 * socket, the filler's second copy of the app's end while connecting) go
 * out of the app's range (mps_fd_high_many), so the app's numbers are
 * TCP's.  0 or -errno (then fd is left untouched, a plain TCP socket:
 * EMFILE for our extra descriptors degrades the connection to plain). */
static int adopt(int fd, const struct adopt_args *a, int *app_fd_out)
{
	struct mps_conn_params p;
	struct mps_sock *s = NULL;
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	int sp[2] = {-1, -1}, tcp = -1, rc, app, in[3], hi[3], nep = 0;
	struct stat st;
	uint32_t found;

	memset(&p, 0, sizeof(p));
	p.app_dup = -1;
	/* The shim thread runs here before anything is swapped: without it
	 * the connection stays plain TCP (see DESIGN "Thread creation"). */
	rc = a->loop_checked ? 0 : loop_ready();
	if (rc) {
		mps_warn("cannot run the shim thread in this process (%s)", strerror(-rc));
		return rc;
	}
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
		p.filler = fill_app_end(sp[0]);
	} else
		mps_grow_pair_buffer(sp[0]);
	in[0] = sp[1];
	in[1] = fd;
	in[2] = sp[0];
	rc = mps_fd_high_many(in, hi, a->connecting ? 3 : 2);
	if (rc)
		goto fail;
	mps_real.close(sp[1]);
	sp[1] = hi[0];
	mps_ifd_add(sp[1]);
	tcp = hi[1];
	mps_ifd_add(tcp);
	if (a->connecting) {
		p.app_dup = hi[2];
		mps_ifd_add(p.app_dup);
	}
	if (!a->nonblock && mps_real.fcntl(sp[0], F_SETFL, 0) != 0)
		goto fail_errno;
	if (mps_fstat(sp[0], &st) != 0)
		goto fail_errno;
	s = mps_sock_new(a->peer->sa_family);
	if (!s) {
		rc = -ENOMEM;
		goto fail;
	}
	s->ino = st.st_ino;
	found = mps_opts_adopt(fd, sp[0], s, a->opt_want);
	if (a->opt_found)
		*a->opt_found = found;
	memcpy(&s->peer, a->peer, a->peer_len);
	s->peer_len = a->peer_len;
	if (a->gw_dest) { /* the request names it (conn.c gw_queue_request) */
		s->gw_info = calloc(1, sizeof(*s->gw_info));
		if (!s->gw_info) {
			rc = -ENOMEM;
			goto fail;
		}
		s->gw_info->dest = *a->gw_dest;
	}
	s->local_len = sizeof(s->local);
	mps_real.getsockname(fd, (struct sockaddr *)&s->local, &s->local_len);
	atomic_store(&s->state, a->connecting ? MPS_SS_CONNECTING : MPS_SS_CONNECTED);
	/* A blocking connect that returned 0 (and accept) told the app */
	atomic_store(&s->connect_told, !a->connecting);

	/* The app's number gets the socketpair end, keeping its
	 * close-on-exec flag (and, on connect, its epoll registrations). */
	if (a->role == MPS_CLIENT)
		nep = ep_detach(fd, ep);
	if (mps_real.dup3(sp[0], fd, a->cloexec ? O_CLOEXEC : 0) < 0) {
		int e = errno;

		ep_attach(fd, ep, nep); /* still the TCP socket */
		errno = e;
		goto fail_errno;
	}
	ep_attach(fd, ep, nep);
	mps_real.close(sp[0]);
	sp[0] = -1;
	app = fd;
	/* (the app's non-blocking socket, and an accepted one, already
	 * are: accept4 asks for it) */
	if (!a->tcp_nonblock && mps_real.fcntl(tcp, F_SETFL, O_NONBLOCK) != 0) {
		/* cannot happen on a valid socket */
	}
	mps_fdtab_set(app, s);

	p.role = a->role;
	p.tcp_fd = tcp;
	p.shim_fd = sp[1];
	p.connecting = a->connecting;
	p.bound = a->bound;
	if (a->bound && a->local) {
		p.local = *a->local;
		p.local_len = a->local_len;
	}
	p.sock = s;
	p.peer_known_shim = a->known_shim;
	p.gw = a->gw;
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
	*app_fd_out = app;
	return 0;

fail_errno:
	rc = -errno;
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
		int r = poll(&p, 1, ms);

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

	err = loop_ready();
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
		      const struct mps_gwdest *dest)
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
	flags = p.flags;
	{
		struct adopt_args aa = {.role = MPS_CLIENT, .connecting = 1,
				       .nonblock = flags & O_NONBLOCK, .cloexec = p.fdflags & FD_CLOEXEC,
				       .peer = sa, .peer_len = len, .bound = p.bound,
				       .local = &p.local, .local_len = p.local_len, .known_shim = 1,
				       .gw = 1, .gw_dest = dest, .opt_want = MPS_OPTSEEN_ALL};

		err = adopt(fd, &aa, &app);
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
	if (!is_tcp(fd) || mps_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) != 0 ||
	    (dom != AF_INET && dom != AF_INET6) || !mps_gw_route_name(d->port)) {
		errno = ENOPROTOOPT; /* what the kernel says of this level */
		return -1;
	}
	if (mps_real.getpeername(fd, (struct sockaddr *)&peer, &plen) == 0) {
		errno = EISCONN;
		return -1;
	}
	/* The peer as getpeername() names it: the unspecified address and
	 * the destination's port (only the gateway learns the address). */
	memset(&ss, 0, sizeof(ss));
	if (dom == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(d->port);
		return gw_connect(fd, (struct sockaddr *)in, sizeof(*in), d);
	}
	{
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(d->port);
		return gw_connect(fd, (struct sockaddr *)in6, sizeof(*in6), d);
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
	if (s) {
		if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC)
			rc = disconnect(fd, s);
		else
			rc = connect_again(fd, s);
		mps_sock_put(s);
		return rc;
	}
	if (!is_inet(sa))
		return mps_real.connect(fd, sa, len);
	/* A gateway's outbound connections are plain TCP, always.  A socket
	 * made by socket() here is known TCP (and which options it may carry
	 * to read at adoption: optseen.h). */
	if (mps_gw_serving() || (!mps_opts_known(fd, &want) && !is_tcp(fd)))
		return mps_real.connect(fd, sa, len);
	/* Through the gateway, unless this process knows the destination
	 * runs mptcpshim itself. */
	if (mps_gwconf()->n && mps_peercache_lookup(sa, mps_now_us()) != MPS_PEER_SHIM &&
	    mps_gw_route(sa))
		return gw_connect(fd, sa, len, NULL);
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

		err = adopt(fd, &a, &app);
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

/* Issue 15: the plain fast path.  A client's request has usually
 * arrived by the time a server accepts its connection.  If the first
 * bytes waiting on the accepted socket (looked at with MSG_PEEK, so
 * nothing is consumed) cannot begin a HELLO, or the client has already
 * closed or failed, the client is plain TCP and stays so: the app keeps
 * the real TCP socket, with no socketpair, no shim thread and no relay in
 * its data path.  The same test as the engine's (mps_nego_input), so the
 * two never disagree.  1 if plain, 0 if undecided (nothing yet, or bytes
 * that begin a HELLO): then the engine negotiates as before. */
static int accept_is_plain(int fd, const struct sockaddr *peer, int *hello)
{
	uint8_t b[MPS_HELLO_PREFIX_LEN];
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	struct mps_nego n;
	ssize_t got;
	char a[64];

	if (poll(&pf, 1, 0) != 1)
		return 0;
	if (pf.revents & POLLERR) {
		/* reset already: not peeked, so the app reads the error */
	} else if (pf.revents & POLLIN) {
		do
			got = mps_real.recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return 0;
		if (got > 0) {
			mps_nego_init(&n, MPS_SERVER);
			if (mps_nego_input(&n, b, (size_t)got) != MPS_NV_PLAIN) {
				*hello = 1; /* bytes that begin a HELLO */
				return 0;
			}
		}
		/* got == 0: the client closed before sending anything */
	} else if (!(pf.revents & POLLHUP))
		return 0;
	mps_dbg("accept from %s: plain TCP client, served on its own socket",
	        mps_addr_str(peer, a, sizeof(a)));
	/* as the engine does for a plain client: a server that connects
	 * back to its client (active FTP) does so plainly (peercache.c) */
	mps_peercache_note_host(peer, mps_now_us(),
	                        (uint64_t)mps_config()->plain_cache_ttl * 1000000u);
	return 1;
}

/* No descriptors for an undecided connection: it can only be plain TCP,
 * so its first bytes must not be a HELLO the app would read.  Wait for
 * them as the engine would (its banner window: 25-250 ms; only when out
 * of descriptors).  1 if they begin a HELLO. */
static int accept_wait_hello(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	uint8_t b[MPS_HELLO_PREFIX_LEN];
	struct mps_nego n;
	uint32_t rtt = 0;
	ssize_t got;

	if (mps_real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0)
		rtt = ti.tcpi_rtt;
	if (poll(&pf, 1, (int)(mps_nego_banner_window_us(rtt) / 1000) + 1) != 1 ||
	    !(pf.revents & POLLIN) || (pf.revents & POLLERR))
		return 0;
	got = mps_real.recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (got <= 0)
		return 0;
	mps_nego_init(&n, MPS_SERVER);
	return mps_nego_input(&n, b, (size_t)got) != MPS_NV_PLAIN;
}

/* Close a shim client's connection we have no room for, as a plain
 * server that read its request would: its bytes read, then a FIN (not the
 * reset a close with unread data makes). */
static void accept_refuse(int fd)
{
	char b[512];

	while (mps_real.recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
	mps_real.close(fd);
}

static int do_accept(int lfd, struct sockaddr *addr, socklen_t *alen, int flags, int four)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int fd, app, err, saved, gw, lknown, notours, hello;
	uint32_t lbits = MPS_OPTSEEN_ALL, found = 0;
	uint64_t now;

	if (mps_passthrough())
		return four ? mps_real.accept4(lfd, addr, alen, flags) :
		              mps_real.accept(lfd, addr, alen);
again:
	hello = 0;
	plen = sizeof(peer);
	/* The app's close-on-exec flag (the TCP socket's own number is
	 * replaced by the app's end, or is the app's), and non-blocking for
	 * the shim: a plain client's socket then needs no fcntl when the app
	 * asked for both, as event-loop servers do. */
	fd = mps_real.accept4(lfd, (struct sockaddr *)&peer, &plen,
	                      (flags & SOCK_CLOEXEC) | SOCK_NONBLOCK);
	if (fd < 0)
		return fd;
	/* A gateway listener never serves a client plainly, so its clients
	 * skip the plain fast path: the engine judges (and drops) them. */
	gw = mps_gw_is_listener(lfd);
	/* A listener seen lately is known TCP, and which options its
	 * accepted sockets carry (optseen.h) */
	now = mps_now_us();
	lknown = mps_optseen_listener(lfd, now, &lbits);
	notours = !is_inet((struct sockaddr *)&peer) || (!lknown && !is_tcp(fd));
	if (!notours && !lknown)
		mps_optseen_listener_note(lfd, now, 0, 0);
	if (notours || (!gw && accept_is_plain(fd, (struct sockaddr *)&peer, &hello))) {
		/* Not ours, or a plain client: give it back exactly as
		 * accept would. */
		if (!(flags & SOCK_NONBLOCK))
			mps_real.fcntl(fd, F_SETFL, 0);
		goto out;
	}
	{
		struct adopt_args a = {.role = MPS_SERVER, .nonblock = flags & SOCK_NONBLOCK,
				       .cloexec = flags & SOCK_CLOEXEC,
				       .peer = (struct sockaddr *)&peer, .peer_len = plen, .gw = gw,
				       .opt_want = lknown == 2 ? lbits : MPS_OPTSEEN_ALL,
				       .opt_found = &found, .tcp_nonblock = 1};

		err = adopt(fd, &a, &app);
		if (!err && lknown != 2)
			mps_optseen_listener_note(lfd, now, 1, found);
	}
	if (err && gw) {
		/* a gateway never serves a connection plainly */
		char a[64];

		mps_warn("gateway: accept from %s: dropped: %s", mps_addr_str(&peer, a, sizeof(a)),
		         strerror(-err));
		mps_real.close(fd);
		errno = ECONNABORTED;
		return -1;
	}
	if ((err == -EMFILE || err == -ENFILE) && (hello || accept_wait_hello(fd))) {
		/* A shim client's HELLO is waiting: served plainly, the app
		 * would read it.  Closed instead, before the app sees it: the
		 * client takes the close for a plain server's answer and
		 * connects again as plain TCP, which needs no descriptor of
		 * ours (docs/DESIGN.md, "Descriptor numbers and limits"). */
		char a[64];

		mps_warn("accept from %s: no descriptors for a multipath connection: closed "
		         "(the client connects again as plain TCP)",
		         mps_addr_str(&peer, a, sizeof(a)));
		accept_refuse(fd);
		goto again;
	}
	if (err) {
		char a[64];

		mps_warn("accept from %s: serving as plain TCP: %s",
		         mps_addr_str(&peer, a, sizeof(a)), strerror(-err));
		if (!(flags & SOCK_NONBLOCK))
			mps_real.fcntl(fd, F_SETFL, 0);
		goto out;
	}
	fd = app;
out:
	if (addr && alen) {
		saved = errno;
		memcpy(addr, &peer, MPS_MIN(*alen, plen));
		*alen = plen;
		errno = saved;
	}
	return fd;
}

MPS_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
	return do_accept(fd, addr.__sockaddr__, len, 0, 0);
}

MPS_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len, int flags)
{
	return do_accept(fd, addr.__sockaddr__, len, flags, 1);
}

/* close(fd) of a descriptor the app registered in epoll sets.  The kernel
 * drops a registration when the file's last descriptor closes; while a
 * connect is in progress the shim holds a second descriptor of the app's
 * end (to read the filler back), so the app's epoll would keep reporting
 * a number it closed: delete those registrations ourselves. */
static void ep_forget_on_close(int fd)
{
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	struct mps_sock *s = mps_fdtab_get(fd);
	int i, n;

	n = mps_epreg_take(fd, ep, MPS_EPREG_PER_FD);
	if (s && atomic_load(&s->state) == MPS_SS_CONNECTING)
		for (i = 0; i < n; i++)
			mps_real.epoll_ctl(ep[i].epfd, EPOLL_CTL_DEL, fd, NULL);
	if (s)
		mps_sock_put(s);
}

MPS_EXPORT int close(int fd)
{
	mps_real_init();
	if (mps_inside)
		mps_ifd_del(fd); /* libev closing its own (ev_loop_fork) */
	else {
		if (mps_epreg_any(fd))
			ep_forget_on_close(fd);
		mps_optseen_gone(fd);
		if (mps_fdtab_has(fd))
			mps_fdtab_clear(fd);
		else if (mps_ifd_is(fd)) {
			/* The app closing descriptors it never opened (close-all
			 * loops): our subflows must survive it, and the app hears
			 * what TCP would say of a number it never had. */
			mps_dbg("close: fd %d belongs to mptcpshim, left open", fd);
			errno = EBADF;
			return -1;
		}
	}
	return mps_real.close(fd);
}

/* A new descriptor newfd now refers to whatever oldfd refers to. */
static void track_dup(int oldfd, int newfd)
{
	struct mps_sock *s;

	if (newfd < 0 || oldfd == newfd)
		return;
	mps_epreg_forget(newfd); /* its old file's registrations are the kernel's now */
	mps_optseen_gone(newfd);
	mps_optseen_shared(oldfd); /* options may be set through either number */
	mps_fdtab_clear(newfd);
	s = mps_fdtab_get(oldfd);
	if (s) {
		mps_fdtab_set(newfd, s);
		mps_sock_put(s);
	}
}

MPS_EXPORT int dup(int fd)
{
	int n;

	mps_real_init();
	n = mps_real.dup(fd);
	if (!mps_inside && n >= 0)
		track_dup(fd, n);
	return n;
}

static int guard_internal(int newfd)
{
	if (!mps_inside && mps_ifd_is(newfd)) {
		if (!mps_fd_app_range(newfd)) {
			errno = EBADF; /* the kernel's answer above the limit */
			return -1;
		}
		mps_warn("dup2: refusing to replace fd %d, which mptcpshim uses", newfd);
		errno = EBUSY;
		return -1;
	}
	return 0;
}

MPS_EXPORT int dup2(int fd, int newfd)
{
	int n;

	mps_real_init();
	if (fd != newfd && guard_internal(newfd))
		return -1;
	n = mps_real.dup2(fd, newfd);
	if (!mps_inside && n >= 0)
		track_dup(fd, n);
	return n;
}

MPS_EXPORT int dup3(int fd, int newfd, int flags)
{
	int n;

	mps_real_init();
	if (guard_internal(newfd))
		return -1;
	n = mps_real.dup3(fd, newfd, flags);
	if (!mps_inside && n >= 0)
		track_dup(fd, n);
	return n;
}

static int do_fcntl(int fd, int cmd, void *arg)
{
	int n = mps_real.fcntl(fd, cmd, arg);

	if (!mps_inside && n >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		track_dup(fd, n);
	return n;
}

MPS_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	mps_real_init();
	return do_fcntl(fd, cmd, arg);
}

MPS_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	mps_real_init();
	return do_fcntl(fd, cmd, arg);
}

/* socket() is ours only for the instant of the allocation: see
 * mps_alloc_app. */
MPS_EXPORT int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);
	int fd, e;

	if (!real)
		real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	if (mps_inside)
		return real(domain, type, protocol);
	mps_alloc_app(1);
	fd = real(domain, type, protocol);
	e = errno;
	mps_alloc_app(0);
	if (!mps_passthrough())
		mps_opts_socket(fd, domain, type, protocol);
	errno = e;
	return fd;
}

/* libev's descriptors: created while mps_inside is set (the loop's
 * creation, ev_loop_fork in the keeper), they are the shim's. */
static int note_internal(int fd)
{
	if (fd >= 0 && mps_inside)
		fd = mps_ifd_take(fd, 1); /* out of the app's range */
	return fd;
}

MPS_EXPORT int eventfd(unsigned int count, int flags)
{
	mps_real_init();
	return note_internal(mps_real.eventfd(count, flags));
}

MPS_EXPORT int epoll_create(int size)
{
	mps_real_init();
	return note_internal(mps_real.epoll_create(size));
}

MPS_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int rc;

	mps_real_init();
	rc = mps_real.epoll_ctl(epfd, op, fd, ev);
	if (rc == 0 && !mps_inside)
		mps_epreg_note(epfd, op, fd, ev ? ev->events : 0, ev ? ev->data.u64 : 0);
	return rc;
}

MPS_EXPORT int epoll_create1(int flags)
{
	mps_real_init();
	return note_internal(mps_real.epoll_create1(flags));
}
