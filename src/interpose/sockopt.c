/* sockopt.c - socket options and addresses of mptcpshim descriptors.
 *
 * The app's descriptor is an AF_UNIX socket; these hooks make it answer
 * as the TCP connection it stands for.  Identity (SO_DOMAIN, SO_TYPE,
 * SO_PROTOCOL, SO_ERROR) is emulated; blocking timeouts (SO_RCVTIMEO,
 * SO_SNDTIMEO) belong to the app's own end; everything else at the
 * socket, IP and TCP levels is forwarded to the subflow, so its result
 * and errno are the kernel TCP's own. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/util.h"

struct optcall {
	int level, name;
	void *val;
	const void *cval;
	socklen_t *lenp;
	socklen_t len;
	int set;
	int err;
};

static int forward(int fd, void *arg)
{
	struct optcall *o = arg;
	int rc;

	if (fd < 0) {
		o->err = ENOTCONN;
		return -1;
	}
	if (o->set)
		rc = mps_real.setsockopt(fd, o->level, o->name, o->cval, o->len);
	else
		rc = mps_real.getsockopt(fd, o->level, o->name, o->val, o->lenp);
	o->err = rc ? errno : 0;
	return rc;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len || *len < sizeof(int)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

/* Options that live on the app's own end, not on a subflow. */
static int app_level(int level, int name)
{
	return level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO ||
				       name == SO_RCVLOWAT || name == SO_SNDLOWAT);
}

/* Remember what later subflows (and getsockopt after close) need. */
static void remember(struct mps_sock *s, int level, int name, const void *val, socklen_t len)
{
	int v;

	if (len < sizeof(int) || !val)
		return;
	memcpy(&v, val, sizeof(int));
	if (level == IPPROTO_TCP && name == TCP_NODELAY)
		s->opt_nodelay = v != 0;
	else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
		s->opt_keepalive = v != 0;
	else if (level == SOL_SOCKET && name == SO_RCVBUF)
		s->opt_rcvbuf = v;
	else if (level == SOL_SOCKET && name == SO_SNDBUF)
		s->opt_sndbuf = v;
}

MPS_EXPORT int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
	struct mps_sock *s;
	struct optcall o;
	int rc;

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && (name == SO_DOMAIN || name == SO_TYPE || name == SO_PROTOCOL ||
				    name == SO_ERROR || name == SO_ACCEPTCONN)) {
		int v = 0;

		switch (name) {
		case SO_DOMAIN:
			v = s->family;
			break;
		case SO_TYPE:
			v = SOCK_STREAM;
			break;
		case SO_PROTOCOL:
			v = IPPROTO_TCP;
			break;
		case SO_ERROR: {
			int kerr = 0;
			socklen_t kl = sizeof(kerr);

			v = atomic_exchange(&s->so_error, 0);
			/* Consume the af_unix error that stands for it. */
			mps_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &kerr, &kl);
			if (!v && kerr && atomic_load(&s->state) != MPS_SS_CONNECTED)
				v = kerr;
			break;
		}
		default:
			v = 0;
		}
		rc = put_int(val, len, v);
		mps_sock_put(s);
		return rc;
	}
	if (app_level(level, name) || (level != SOL_SOCKET && level != IPPROTO_TCP &&
				       level != IPPROTO_IP && level != IPPROTO_IPV6)) {
		mps_sock_put(s);
		return mps_real.getsockopt(fd, level, name, val, len);
	}
	memset(&o, 0, sizeof(o));
	o.level = level;
	o.name = name;
	o.val = val;
	o.lenp = len;
	rc = mps_conn_with_subflow(s, forward, &o);
	if (rc && o.err == ENOTCONN) {
		/* The connection is over: answer from what the app set. */
		if (level == IPPROTO_TCP && name == TCP_NODELAY)
			rc = put_int(val, len, s->opt_nodelay);
		else if (level == SOL_SOCKET && name == SO_KEEPALIVE)
			rc = put_int(val, len, s->opt_keepalive);
		else
			errno = ENOTCONN;
	} else if (rc)
		errno = o.err;
	mps_sock_put(s);
	return rc;
}

MPS_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct mps_sock *s;
	struct optcall o;
	int rc;

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.setsockopt(fd, level, name, val, len);
	if (app_level(level, name) || (level != SOL_SOCKET && level != IPPROTO_TCP &&
				       level != IPPROTO_IP && level != IPPROTO_IPV6)) {
		mps_sock_put(s);
		return mps_real.setsockopt(fd, level, name, val, len);
	}
	memset(&o, 0, sizeof(o));
	o.level = level;
	o.name = name;
	o.cval = val;
	o.len = len;
	o.set = 1;
	rc = mps_conn_with_subflow(s, forward, &o);
	if (rc == 0 || o.err == ENOTCONN) {
		remember(s, level, name, val, len);
		rc = 0;
	} else
		errno = o.err;
	mps_sock_put(s);
	return rc;
}

static int give_addr(const struct sockaddr_storage *ss, socklen_t sslen, struct sockaddr *addr,
		     socklen_t *len)
{
	if (!addr || !len) {
		errno = EFAULT;
		return -1;
	}
	memcpy(addr, ss, MPS_MIN(*len, sslen));
	*len = sslen;
	return 0;
}

MPS_EXPORT int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
	struct mps_sock *s;
	int rc;

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getpeername(fd, addr.__sockaddr__, len);
	if (atomic_load(&s->state) == MPS_SS_CONNECTING || atomic_load(&s->state) == MPS_SS_FAILED) {
		errno = ENOTCONN;
		rc = -1;
	} else
		rc = give_addr(&s->peer, s->peer_len, addr.__sockaddr__, len);
	mps_sock_put(s);
	return rc;
}

MPS_EXPORT int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *restrict len)
{
	struct mps_sock *s;
	int rc;

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getsockname(fd, addr.__sockaddr__, len);
	rc = give_addr(&s->local, s->local_len, addr.__sockaddr__, len);
	mps_sock_put(s);
	return rc;
}
