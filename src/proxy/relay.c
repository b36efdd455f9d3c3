/* relay.c - the byte relay shared by mptcpshim-proxy and mptcpshim-gateway:
 * both directions until both ended, half-close passed on as shutdown(),
 * a reset (or SO_LINGER abort) passed on as a reset after the bytes read
 * before it (docs/DESIGN.md "Local proxy").  Non-blocking sockets, poll(). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "pxutil.h"
#include "relay.h"

/* Write all of b[0..n) to a non-blocking fd, waiting at most until the
 * deadline.  0 or -errno. */
int mps_send_all(int fd, const void *b, size_t n, long long deadline)
{
	const char *p = b;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		{
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			long long left = deadline - mps_px_now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			if (poll(&pf, 1, (int)left) < 0 && errno != EINTR)
				return -errno;
		}
	}
	return 0;
}

/* Close a client we answered with an error: our reply first, then a FIN,
 * and what it still sends read and dropped for up to a second, so that
 * the kernel does not reset the connection (and the reply with it) for
 * unread bytes. */
void mps_close_after_reply(int fd)
{
	long long deadline = mps_px_now_ms() + 1000;
	char junk[4096];

	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		long long left = deadline - mps_px_now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		r = recv(fd, junk, sizeof(junk), 0);
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	close(fd);
}

/* Abort: the other side sees a reset, as it would from the TCP peer that
 * reset this one. */
void mps_abort_fd(int fd)
{
	struct linger l = {1, 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* The connections being relayed, so that a stop resets them
 * (mps_relay_abort_all).  A relay leaves the list before it closes its
 * descriptors, so a descriptor on the list is never another connection's. */
struct live {
	int cfd, u;
	struct live *prev, *next;
};
static pthread_mutex_t g_live_mu = PTHREAD_MUTEX_INITIALIZER;
static struct live *g_live;
/* Set under g_live_mu by mps_relay_abort_all: from then on no EOF is
 * passed on.  The process is stopping, and the library's own teardown
 * can make an upstream read EOF; passed to the client as a FIN before
 * the reset, it would end a truncated stream as if complete. */
static int g_aborting;

static void live_add(struct live *l)
{
	pthread_mutex_lock(&g_live_mu);
	l->prev = NULL;
	l->next = g_live;
	if (g_live)
		g_live->prev = l;
	g_live = l;
	pthread_mutex_unlock(&g_live_mu);
}

static void live_del(struct live *l)
{
	pthread_mutex_lock(&g_live_mu);
	if (l->prev)
		l->prev->next = l->next;
	else if (g_live == l)
		g_live = l->next;
	if (l->next)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	pthread_mutex_unlock(&g_live_mu);
}

int mps_relay_abort_all(void)
{
	static const struct linger rst = {1, 0};
	int n = 0;

	pthread_mutex_lock(&g_live_mu);
	g_aborting = 1;
	for (struct live *l = g_live; l; l = l->next, n++) {
		setsockopt(l->cfd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
		setsockopt(l->u, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	}
	pthread_mutex_unlock(&g_live_mu);
	return n;
}

struct dir {
	int from, to;
	char *buf;
	size_t len, off;
	int eof;  /* read EOF from `from` */
	int shut; /* shutdown(to, SHUT_WR) done */
	unsigned long long bytes;
};

/* One side failed (reset): what it sent before is still owed to the
 * other side, as TCP delivers the bytes received before a reset.  Send
 * d's pending bytes to d->to, wait (bounded) until they left our socket,
 * then abort d->to. */
static void flush_then_abort(struct dir *d)
{
	long long deadline = mps_px_now_ms() + 1000;

	if (d->len > d->off &&
	    mps_send_all(d->to, d->buf + d->off, d->len - d->off, deadline) == 0) {
		for (;;) {
			int q = 0;

			if (ioctl(d->to, SIOCOUTQ, &q) < 0 || q <= 0 || mps_px_now_ms() >= deadline)
				break;
			poll(NULL, 0, 5);
		}
	}
	mps_abort_fd(d->to);
}

static int is_reset(int e)
{
	return e == ECONNRESET || e == EPIPE || e == ECONNABORTED || e == ETIMEDOUT ||
	       e == EHOSTUNREACH || e == ENETUNREACH;
}

/* One step of a direction after poll: read when empty, write when full.
 * Returns 0, or the errno of the side that failed (ECONNRESET...): the
 * caller then aborts the other side. *which = 0 for `from`, 1 for `to`. */
static int dir_step(struct dir *d, short rev_from, short rev_to, int *which)
{
	if (d->len == d->off && !d->eof && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t r = recv(d->from, d->buf, RELAY_BUF, 0);

		if (r > 0) {
			d->len = (size_t)r;
			d->off = 0;
		} else if (r == 0) {
			d->eof = 1;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			*which = 0;
			return errno;
		}
	}
	if (d->len > d->off && (rev_to & (POLLOUT | POLLHUP | POLLERR))) {
		ssize_t w = send(d->to, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);

		if (w > 0) {
			d->off += (size_t)w;
			d->bytes += (unsigned long long)w;
			if (d->off == d->len)
				d->len = d->off = 0;
		} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			*which = 1;
			return errno;
		}
	}
	if (d->eof && d->len == d->off && !d->shut) {
		/* half-close passes through, unless the relays are being
		 * aborted (then the direction just stays open until exit) */
		pthread_mutex_lock(&g_live_mu);
		if (!g_aborting) {
			shutdown(d->to, SHUT_WR);
			d->shut = 1;
		}
		pthread_mutex_unlock(&g_live_mu);
	}
	return 0;
}

/* Relay c <-> u until both directions ended (EOF passed on both ways) or
 * one side failed (the other is then aborted).  pre[0..npre) are client
 * bytes that came behind the request: they go to u first. */
void mps_relay(int cfd, int u, const char *name, const char *dest, const uint8_t *pre, size_t npre,
               int verbose, mps_relay_log_fn plog)
{
	struct dir up = {.from = cfd, .to = u}, down = {.from = u, .to = cfd};
	const char *how = "closed";
	int hup[2] = {0, 0}, one = 1;
	struct live node = {.cfd = cfd, .u = u};

	up.buf = malloc(RELAY_BUF);
	down.buf = malloc(RELAY_BUF);
	if (!up.buf || !down.buf) {
		plog("%s -> %s: out of memory", name, dest);
		mps_abort_fd(cfd);
		mps_abort_fd(u);
		goto out;
	}
	memcpy(up.buf, pre, npre); /* npre < the parser's bound < RELAY_BUF */
	up.len = npre;
	/* No Nagle here: each end's sender already chose when to send, and a
	 * relay that holds back its second small write until the first is
	 * acknowledged meets the receiver's delayed ACK: a request written as
	 * header and body waited 40 ms per request (bench/gateway, "req").
	 * On a shim socket the library applies it to the subflows. */
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	live_add(&node);
	for (;;) {
		struct pollfd pf[2];
		int which = 0, e;

		if (up.shut && down.shut)
			break;
		/* fd c: read when up's buffer is empty, write when down's has
		 * bytes; with nothing asked, poll still reports POLLERR (a
		 * reset) and POLLHUP, until a hangup was seen (hup[i]): no
		 * busy loop on a lasting POLLHUP. */
		pf[0].fd = cfd;
		pf[0].events = (short)((!up.eof && up.len == up.off ? POLLIN : 0) |
		                       (down.len > down.off ? POLLOUT : 0));
		pf[1].fd = u;
		pf[1].events = (short)((!down.eof && down.len == down.off ? POLLIN : 0) |
		                       (up.len > up.off ? POLLOUT : 0));
		for (int i = 0; i < 2; i++)
			if (hup[i] && pf[i].events == 0)
				pf[i].fd = -1;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			how = "poll failed";
			live_del(&node);
			mps_abort_fd(cfd);
			mps_abort_fd(u);
			goto out;
		}
		for (int i = 0; i < 2; i++)
			if (pf[i].events == 0 && (pf[i].revents & (POLLERR | POLLHUP))) {
				int err = 0;
				socklen_t el = sizeof(err);

				getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err && is_reset(err)) {
					/* reset while idle: pass it on */
					how = "reset";
					live_del(&node);
					flush_then_abort(i == 0 ? &up : &down);
					close(i == 0 ? cfd : u);
					goto out;
				}
				/* gone with nothing to do: nothing more comes
				 * from it; a write to it will fail (and abort
				 * the other side) */
				hup[i] = 1;
				if (i == 0)
					up.eof = 1;
				else
					down.eof = 1;
			}
		e = dir_step(&up, pf[0].revents, pf[1].revents, &which);
		if (!e) {
			e = dir_step(&down, pf[1].revents, pf[0].revents, &which);
			if (e)
				which = !which; /* down: from is u */
		}
		if (e) {
			/* which: 0 the client failed, 1 the destination */
			how = "reset";
			if (verbose)
				plog("%s -> %s: %s side: %s", name, dest,
				     which ? "destination" : "client", strerror(e));
			live_del(&node);
			flush_then_abort(which ? &down : &up);
			close(which ? u : cfd);
			goto out;
		}
	}
	live_del(&node);
	close(cfd);
	close(u);
out:
	if (verbose)
		plog("%s -> %s: %s, %llu B up, %llu B down", name, dest, how, up.bytes, down.bytes);
	free(up.buf);
	free(down.buf);
}
