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
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/util.h"

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
				       name == SO_RCVLOWAT || name == SO_SNDLOWAT ||
				       name == SO_LINGER);
}

/* The value the app last set, for getsockopt once the connection is gone. */
static int remembered(struct mps_sock *s, int level, int name, void *val, socklen_t *len)
{
	int i, rc = -1;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nopts; i++)
		if (s->opts[i].level == level && s->opts[i].name == name && val && len) {
			socklen_t n = s->opts[i].len < *len ? s->opts[i].len : *len;

			memcpy(val, s->opts[i].val, n);
			*len = n;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- connections serviced by another process ----
 * A forked child's copy or an fd inherited across exec: the subflows are
 * out of reach.  Options the app set are answered from memory, TCP_INFO
 * with zeroed counters and the connection's state, and everything else
 * from a fresh TCP socket of the same family, so values are the kernel's
 * defaults and errnos TCP's own (ENOPROTOOPT, EINVAL...).  setsockopt is
 * checked on such a socket and remembered, not applied to the subflows. */

static int scratch_socket(const struct mps_sock *s)
{
	return socket(s->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
}

static int remote_getopt(struct mps_sock *s, int level, int name, void *val, socklen_t *len)
{
	int fd, rc, saved;

	if (level == IPPROTO_TCP && name == TCP_INFO && val && len) {
		struct tcp_info ti;
		socklen_t n = MPS_MIN(*len, (socklen_t)sizeof(ti));

		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state =
		        atomic_load(&s->state) == MPS_SS_CONNECTED ? TCP_ESTABLISHED : TCP_CLOSE;
		memcpy(val, &ti, n);
		*len = n;
		return 0;
	}
	if (remembered(s, level, name, val, len) == 0)
		return 0;
	fd = scratch_socket(s);
	if (fd < 0)
		return -1;
	rc = mps_real.getsockopt(fd, level, name, val, len);
	saved = errno;
	mps_real.close(fd);
	errno = saved;
	return rc;
}

static int remote_setopt(struct mps_sock *s, int level, int name, const void *val, socklen_t len)
{
	int fd = scratch_socket(s), rc, saved;

	if (fd < 0)
		return -1;
	rc = mps_real.setsockopt(fd, level, name, val, len);
	saved = errno;
	mps_real.close(fd);
	if (rc == 0) {
		pthread_mutex_lock(&s->lock);
		mps_sock_remember_opt(s, level, name, val, len);
		pthread_mutex_unlock(&s->lock);
	}
	errno = saved;
	return rc;
}

MPS_EXPORT int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
	struct mps_sock *s;
	int rc, err;

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
	if (atomic_load(&s->remote)) {
		rc = remote_getopt(s, level, name, val, len);
		mps_sock_put(s);
		return rc;
	}
	rc = mps_conn_getopt(s, level, name, val, len, &err);
	if (rc && err == ENOTCONN) {
		/* The connection is over: answer from what the app set. */
		rc = remembered(s, level, name, val, len);
		if (rc)
			errno = ENOTCONN;
	} else if (rc)
		errno = err;
	mps_sock_put(s);
	return rc;
}

MPS_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct mps_sock *s;
	int rc, err;

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.setsockopt(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_LINGER) {
		/* Not for the subflows: closing them is the shim's business.
		 * The app's end keeps it (getsockopt answers from there); a
		 * zero linger makes the final close abortive, as with TCP. */
		rc = mps_real.setsockopt(fd, level, name, val, len);
		if (rc == 0 && val && len >= sizeof(struct linger)) {
			const struct linger *lg = val;

			atomic_store(&s->linger0, lg->l_onoff && lg->l_linger == 0);
		}
		mps_sock_put(s);
		return rc;
	}
	if (app_level(level, name) || (level != SOL_SOCKET && level != IPPROTO_TCP &&
				       level != IPPROTO_IP && level != IPPROTO_IPV6)) {
		mps_sock_put(s);
		return mps_real.setsockopt(fd, level, name, val, len);
	}
	if (atomic_load(&s->remote)) {
		rc = remote_setopt(s, level, name, val, len);
		mps_sock_put(s);
		return rc;
	}
	rc = mps_conn_setopt(s, level, name, val, len, &err);
	if (rc)
		errno = err;
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
