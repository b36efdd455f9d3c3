/* accept.c - accept()/accept4(): the plain fast path, then the engine.
 *
 * A plain client stays on the real TCP socket; anything that may be a
 * shim client's HELLO is adopted (sockint.h) and negotiated by the
 * engine. */
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
#include "mptcpshim/defacc.h"
#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/kmptcp.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/nego.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/peercache.h"
#include "mptcpshim/stat.h"
#include "mptcpshim/util.h"
#include "sockint.h"

/* Issue 15: the plain fast path.  A client's request has usually
 * arrived by the time a server accepts its connection.  If the first
 * bytes waiting on the accepted socket (looked at with MSG_PEEK, so
 * nothing is consumed) cannot begin a HELLO, or the client has already
 * closed or failed, the client is plain TCP and stays so: the app keeps
 * the real TCP socket, with no socketpair, no shim thread and no relay in
 * its data path.  The same test as the engine's (mps_nego_input), so the
 * two never disagree.  1 if plain, 0 if undecided (nothing yet, or bytes
 * that begin a HELLO): then the engine negotiates as before. */
static int accept_is_plain(int fd, const struct sockaddr *peer, int *hello, int *data,
                           uint8_t b[MPS_HELLO_MAX_LEN], size_t *peeked)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	struct mps_nego n;
	ssize_t got;
	char a[64];

	if (poll(&pf, 1, 0) != 1)
		return 0;
	if (pf.revents & POLLERR) {
		/* reset already: not peeked, so the app reads the error */
	} else if (pf.revents & POLLIN) {
		/* (a whole HELLO, for the inline accept's look: inlinex.c) */
		do
			got = mps_real.recv(fd, b, MPS_HELLO_MAX_LEN, MSG_PEEK | MSG_DONTWAIT);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return 0;
		*peeked = (size_t)got;
		if (got > 0) {
			mps_nego_init(&n, MPS_SERVER);
			if (mps_nego_input(&n, b, (size_t)got) != MPS_NV_PLAIN) {
				*hello = 1; /* bytes that begin a HELLO */
				return 0;
			}
			/* a plain client that spoke first (a HELLO is no evidence
			 * of the app's protocol: every shim client sends one) */
			*data = 1;
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

/* defacc.h's first look at a listener. */
static int defacc_look(int lfd, int *app_value, uint16_t *port)
{
	struct sockaddr_storage a;
	socklen_t len = sizeof(*app_value), alen = sizeof(a);

	if (mps_real.getsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, app_value, &len) != 0 ||
	    mps_real.getsockname(lfd, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	return mps_defacc_port((struct sockaddr *)&a, port);
}

/* Learn TCP_DEFER_ACCEPT for listener lfd (include/mptcpshim/defacc.h):
 * data if this accept found a plain client's bytes waiting. */
static void defacc_learn(int lfd, int data)
{
	enum mps_defacc_action a;

	if (!mps_config()->defer_accept)
		return;
	a = mps_defacc_on_accept(lfd, data, defacc_look);
	if (a != MPS_DA_NOTHING && mps_conn_defacc_apply(lfd, a == MPS_DA_SET) != 0)
		mps_defacc_failed(lfd);
}

/* No descriptors for an undecided connection: it can only be plain TCP,
 * so its first bytes must not be a HELLO the app would read.  Wait for
 * them up to the banner window's upper bound, 250 ms, whatever the RTT
 * (only when out of descriptors): a shim client sends its HELLO once its
 * own connect() has returned and its shim thread has run, and at load
 * ~15 that took more than the RTT-based 25 ms, so the app read a HELLO
 * (fdlimits.sh accept, soft = hard: about 1 run in 6).  1 if they begin
 * a HELLO. */
static int accept_wait_hello(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	uint8_t b[MPS_HELLO_PREFIX_LEN];
	struct mps_nego n;
	ssize_t got;

	if (poll(&pf, 1, (int)(MPS_BANNER_MAX_US / 1000) + 1) != 1 ||
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
	int fd, app, err, saved, gw, lknown, notours, hello, data;
	uint32_t lbits = MPS_OPTSEEN_ALL, found = 0;
	uint8_t peek[MPS_HELLO_MAX_LEN];
	size_t peeked;
	uint64_t now;

	if (mps_passthrough())
		return four ? mps_real.accept4(lfd, addr, alen, flags) :
		              mps_real.accept(lfd, addr, alen);
again:
	hello = data = 0;
	peeked = 0;
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
	if (gw && mps_gw_direct() && mps_gw_direct_accept((struct sockaddr *)&peer)) {
		/* over --max-conns or its source's share (logged): reset, as
		 * the daemon did, and on to the next */
		struct linger l = {1, 0};

		mps_stat_gw_limited(NULL); /* any thread */
		mps_real.setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		mps_real.close(fd);
		goto again;
	}
	/* A listener seen lately is known TCP, and which options its
	 * accepted sockets carry (optseen.h) */
	now = mps_now_us();
	lknown = mps_optseen_listener(lfd, now, &lbits);
	notours = !mps_ix_is_inet((struct sockaddr *)&peer) || (!lknown && !mps_ix_is_tcp(fd));
	if (!notours && !lknown)
		mps_optseen_listener_note(lfd, now, 0, 0);
	if (!notours && !gw &&
	    accept_is_plain(fd, (struct sockaddr *)&peer, &hello, &data, peek, &peeked)) {
		/* A plain client: give it back exactly as accept would. */
		defacc_learn(lfd, data);
		if (!(flags & SOCK_NONBLOCK))
			mps_real.fcntl(fd, F_SETFL, 0);
		goto out;
	}
	if (!notours && !gw)
		defacc_learn(lfd, data);
	if (notours) {
		/* Not ours: give it back exactly as accept would. */
		if (!(flags & SOCK_NONBLOCK))
			mps_real.fcntl(fd, F_SETFL, 0);
		goto out;
	}
	if (!notours && !gw && mps_config()->inl) {
		/* inline (inline.h): served on the app's thread, no socketpair */
		struct adopt_args a = {.role = MPS_SERVER,
		                       .nonblock = flags & SOCK_NONBLOCK,
		                       .peer = (struct sockaddr *)&peer,
		                       .peer_len = plen,
		                       .opt_want = lknown == 2 ? lbits : MPS_OPTSEEN_ALL,
		                       .opt_found = &found,
		                       .peek = peek,
		                       .peek_len = peeked};

		if (mps_ix_inline_accept(fd, &a, hello) == 0) {
			if (lknown != 2)
				mps_optseen_listener_note(lfd, now, 1, found);
			goto out;
		}
	}
	{
		struct adopt_args a = {.role = MPS_SERVER, .nonblock = flags & SOCK_NONBLOCK,
				       .cloexec = flags & SOCK_CLOEXEC,
				       .peer = (struct sockaddr *)&peer, .peer_len = plen, .gw = gw,
				       .opt_want = lknown == 2 ? lbits : MPS_OPTSEEN_ALL,
				       .opt_found = &found, .tcp_nonblock = 1};

		err = mps_ix_adopt(fd, &a, &app);
		if (!err && gw)
			mps_gw_count_add(1); /* until the connection is freed (gwconn.c) */
		else if (gw && mps_gw_direct())
			mps_gw_direct_pending_drop((struct sockaddr *)&peer);
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
	if (gw && mps_gw_direct()) {
		/* MPS_SO_GW_DIRECT: the library serves it from here on
		 * (gwconn.c); the daemon never sees it, and the pair's app
		 * end goes at once (its hang-up is ignored: gwconn.c) */
		mps_fdtab_clear(app);
		mps_real.close(app);
		goto again;
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
