/* sockopt.c - socket options and addresses of mptcpshim descriptors (the
 * options a socket carries into adoption: optadopt.c).
 *
 * The app's descriptor is an AF_UNIX socket; these hooks make it answer
 * as the TCP connection it stands for.  Each option has one home (see
 * how_of() and the table in docs/DESIGN.md section 2):
 *   identity (SO_DOMAIN, SO_TYPE, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN):
 *     answered here;
 *   blocking behaviour of the app's calls (SO_RCVTIMEO, SO_SNDTIMEO,
 *     SO_RCVLOWAT, SO_LINGER...): the app's own socketpair end;
 *   TCP_NOTSENT_LOWAT: kept here (the shim uses it on its subflows);
 *   TCP_INFO: built by the engine from the best subflow and the
 *     connection's own counters;
 *   options that would break the framing (kTLS, zero-copy, socket
 *     filters, repair): refused with ENOPROTOOPT, as by a kernel without
 *     them, so the app takes its fallback;
 *   everything else at the socket, IP and TCP levels: the subflows, so
 *     values and errnos are the kernel TCP's own, and remembered for the
 *     subflows created later.
 * Once the connection is over, getsockopt answers what the app set, or
 * what a fresh TCP socket would. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* the kernel's tcp_info and TCP_* names */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/conn.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/gwlisten.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/defacc.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/util.h"
#include "optint.h"

enum opt_home {
	H_SUBFLOWS, /* every subflow, present and future (the default) */
	H_NOW,      /* every present subflow: a one-shot action */
	H_FIRST,    /* one subflow: the extra ones are the path manager's */
	H_IDENTITY, /* answered here */
	H_APP,      /* the app's socketpair end */
	H_LOCAL,    /* kept in the sock, applied nowhere */
	H_REFUSED,  /* ENOPROTOOPT */
	H_INFO,     /* TCP_INFO */
};

static enum opt_home how_of(int level, int name)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_DOMAIN:
		case SO_TYPE:
		case SO_PROTOCOL:
		case SO_ERROR:
		case SO_ACCEPTCONN:
			return H_IDENTITY;
		case SO_RCVTIMEO_OLD:
		case SO_SNDTIMEO_OLD:
#if defined(SO_RCVTIMEO_NEW) && SO_RCVTIMEO_NEW != SO_RCVTIMEO_OLD
		case SO_RCVTIMEO_NEW:
		case SO_SNDTIMEO_NEW:
#endif
		case SO_RCVLOWAT:
		case SO_SNDLOWAT:
		case SO_LINGER:
		case SO_PEEK_OFF:
			return H_APP;
		case SO_BINDTODEVICE:
		case SO_BINDTOIFINDEX:
			return H_FIRST;
		case SO_ZEROCOPY:
		case SO_ATTACH_FILTER:
		case SO_ATTACH_BPF:
		case SO_DETACH_FILTER:
		case SO_LOCK_FILTER:
			return H_REFUSED;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_INFO:
			return H_INFO;
		case TCP_NOTSENT_LOWAT:
			return H_LOCAL;
		case TCP_QUICKACK:
			return H_NOW;
		case TCP_ULP:
		case TCP_ZEROCOPY_RECEIVE:
		case TCP_INQ:
		case TCP_REPAIR:
		case TCP_REPAIR_QUEUE:
		case TCP_QUEUE_SEQ:
		case TCP_REPAIR_OPTIONS:
		case TCP_REPAIR_WINDOW:
			return H_REFUSED;
		}
	}
	return H_SUBFLOWS;
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

void mps_ix_opt_remember(struct mps_sock *s, int level, int name, const void *val, socklen_t len)
{
	pthread_mutex_lock(&s->lock);
	mps_sock_remember_opt(s, level, name, val, len);
	pthread_mutex_unlock(&s->lock);
}

/* The connection is over (or out of this process's reach): a fresh TCP
 * socket of the same family answers (TCP keeps answering on a closed
 * socket; values are its defaults, TCP_INFO says TCP_CLOSE, errnos are the
 * kernel's).  scratch_done closes it keeping the call's errno. */
static int scratch_socket(const struct mps_sock *s)
{
	return socket(s->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
}

static int scratch_done(int fd, int rc)
{
	int e = errno;

	mps_real.close(fd);
	errno = e;
	return rc;
}

static int scratch_getopt(struct mps_sock *s, int level, int name, void *val, socklen_t *len)
{
	int fd = scratch_socket(s);

	return fd < 0 ? -1 : scratch_done(fd, mps_real.getsockopt(fd, level, name, val, len));
}

static int scratch_setopt(struct mps_sock *s, int level, int name, const void *val, socklen_t len)
{
	int fd = scratch_socket(s);

	return fd < 0 ? -1 : scratch_done(fd, mps_real.setsockopt(fd, level, name, val, len));
}

static int get_identity(int fd, struct mps_sock *s, int name, void *val, socklen_t *len)
{
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

		if (atomic_load(&s->inl))
			mps_inline_connect_check(s); /* (a refusal lands in so_error) */
		v = atomic_exchange(&s->so_error, 0);
		if (v)
			atomic_store(&s->so_error_told, 1);
		/* Consume the af_unix error that stands for it (the shim closes
		 * its end just after recording the connect error, so that error
		 * may land after the app read SO_ERROR: a second read must then
		 * say 0, as TCP's does, not ECONNRESET). */
		mps_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &kerr, &kl);
		if (!v && kerr && atomic_load(&s->state) != MPS_SS_CONNECTED &&
		    !atomic_load(&s->so_error_told))
			v = kerr;
		break;
	}
	default:
		v = 0; /* SO_ACCEPTCONN: a connection never listens */
	}
	return put_int(val, len, v);
}

/* ---- connections serviced by another process ----
 * A forked child's copy or an fd inherited across exec (s->remote): the
 * subflows are out of reach (s->conn is another process's).  Options the
 * app set are answered from memory, TCP_INFO with zeroed counters and the
 * connection's state, everything else from a fresh TCP socket of the same
 * family (the kernel's defaults, TCP's own errnos).  setsockopt is checked
 * on such a socket and remembered, not applied to the subflows. */

static int remote_tcp_info(struct mps_sock *s, void *val, socklen_t *len)
{
	struct tcp_info ti;
	socklen_t n;

	if (!val || !len) {
		errno = EFAULT;
		return -1;
	}
	n = MPS_MIN(*len, (socklen_t)sizeof(ti));
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state =
	        atomic_load(&s->state) == MPS_SS_CONNECTED ? MPS_TCP_ESTABLISHED : MPS_TCP_CLOSE;
	memcpy(val, &ti, n);
	*len = n;
	return 0;
}

static int get_forwarded(struct mps_sock *s, int level, int name, void *val, socklen_t *len)
{
	int rc, err;

	if (atomic_load(&s->remote)) {
		if (remembered(s, level, name, val, len) == 0)
			return 0;
		return scratch_getopt(s, level, name, val, len);
	}
	rc = mps_conn_getopt(s, level, name, val, len, &err);
	if (rc == 0)
		return 0;
	if (err != ENOTCONN) {
		errno = err;
		return -1;
	}
	/* No live subflow: what the app set, or TCP's default. */
	if (remembered(s, level, name, val, len) == 0)
		return 0;
	return scratch_getopt(s, level, name, val, len);
}

/* The gateway daemon's private level (gateway.h). */
static int gw_getopt(int fd, int name, void *val, socklen_t *len)
{
	struct mps_sock *s;
	int r;

	if (name == MPS_SO_GW_COUNT && mps_gw_is_listener(fd)) {
		if (!val || !len || *len < sizeof(int)) {
			errno = EINVAL;
			return -1;
		}
		*(int *)val = mps_gw_count();
		*len = sizeof(int);
		return 0;
	}
	s = mps_fdtab_get(fd);
	if (!s) {
		errno = ENOPROTOOPT;
		return -1;
	}
	if (name != MPS_SO_GW_REQUEST || !val || !len || *len < sizeof(struct mps_gwinfo)) {
		mps_sock_put(s);
		errno = EINVAL;
		return -1;
	}
	r = mps_gw_wait(&s->lock, &s->gw_cond, &s->gw_ready);
	if (r > 0) {
		pthread_mutex_lock(&s->lock);
		if (s->gw_info) {
			memcpy(val, s->gw_info, sizeof(struct mps_gwinfo));
			*len = sizeof(struct mps_gwinfo);
		} else {
			r = -1;
		}
		pthread_mutex_unlock(&s->lock);
	}
	mps_sock_put(s);
	if (r == 2) {
		errno = EALREADY; /* served by the shim thread (MPS_SO_GW_DIRECT) */
		return -1;
	}
	if (r < 0) {
		errno = ECONNABORTED;
		return -1;
	}
	return 0;
}

static int gw_setopt(int fd, int name, const void *val, socklen_t len)
{
	struct mps_sock *s;
	int rc;

	if (name == MPS_SO_GW_LISTEN) {
		rc = mps_gw_listen(fd, val, len);
		goto out;
	}
	if (name == MPS_SO_GW_REPLAY) {
		rc = val && len == sizeof(int) ? mps_gw_set_replay(*(const int *)val) : -EINVAL;
		goto out;
	}
	if (name == MPS_SO_GW_AUTH_TIMEOUT) {
		rc = val && len == sizeof(int) ? mps_gw_set_auth_timeout(*(const int *)val) :
		                                 -EINVAL;
		goto out;
	}
	if (name == MPS_SO_GW_DIRECT) {
		rc = val && len == sizeof(struct mps_gwdirect) && mps_gw_is_listener(fd) ?
		             mps_gw_set_direct(val) :
		             -EINVAL;
		/* from now on the shim thread accepts on it (gwlisten.c) */
		if (rc == 0)
			rc = mps_gwlisten_start(fd);
		goto out;
	}
	if (name == MPS_SO_GW_CONNECT) {
		if (!val || len != sizeof(struct mps_gwdest)) {
			errno = EINVAL;
			return -1;
		}
		return mps_gw_connect_dest(fd, val);
	}
	if (name == MPS_SO_GW_SPLICE) {
		if (!val || len != sizeof(int) || *(const int *)val < 0) {
			errno = EINVAL;
			return -1;
		}
		s = mps_fdtab_get(fd);
		if (!s) {
			errno = ENOPROTOOPT;
			return -1;
		}
		rc = mps_conn_gw_splice(s, fd, *(const int *)val);
		mps_sock_put(s);
		goto out;
	}
	if (name != MPS_SO_GW_REPLY || !val || len != 1) {
		errno = EINVAL;
		return -1;
	}
	s = mps_fdtab_get(fd);
	if (!s) {
		errno = ENOPROTOOPT;
		return -1;
	}
	rc = mps_conn_gw_reply(s, *(const uint8_t *)val);
	mps_sock_put(s);
out:
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}

MPS_EXPORT int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len)
{
	struct mps_sock *s;
	int rc, err;

	if (level == MPS_SOL_SHIM && !mps_passthrough())
		return gw_getopt(fd, name, val, len);
	mps_handover_hook(fd);
	if (level == IPPROTO_TCP && name == TCP_DEFER_ACCEPT && !mps_passthrough() &&
	    mps_defacc_ours(fd) && val && len && *len >= sizeof(int)) {
		/* set by the shim (defacc.h): the app's own value is 0 */
		*(int *)val = 0;
		*len = sizeof(int);
		return 0;
	}
	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getsockopt(fd, level, name, val, len);
	if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP &&
	    level != IPPROTO_IPV6) {
		mps_sock_put(s);
		return mps_real.getsockopt(fd, level, name, val, len);
	}
	if (level == IPPROTO_TCP && name == TCP_NODELAY) {
		/* The app's value (or a fresh socket's): the subflows' own is
		 * always on (mps_sf_nodelay). */
		rc = remembered(s, level, name, val, len) == 0 ?
		             0 :
		             scratch_getopt(s, level, name, val, len);
		mps_sock_put(s);
		return rc;
	}
	switch (how_of(level, name)) {
	case H_IDENTITY:
		rc = get_identity(fd, s, name, val, len);
		break;
	case H_APP:
		rc = mps_real.getsockopt(fd, level, name, val, len);
		break;
	case H_LOCAL:
		if (len && *len < sizeof(int)) {
			/* TCP copies what fits */
			int v = atomic_load(&s->notsent_lowat);

			if (!val && *len) {
				errno = EFAULT;
				rc = -1;
				break;
			}
			memcpy(val, &v, *len);
			rc = 0;
			break;
		}
		rc = put_int(val, len, atomic_load(&s->notsent_lowat));
		break;
	case H_INFO:
		if (atomic_load(&s->remote)) {
			rc = remote_tcp_info(s, val, len);
			break;
		}
		rc = mps_conn_tcp_info(s, val, len, &err);
		if (rc && err == ENOTCONN) {
			rc = scratch_getopt(s, level, name, val, len);
			/* (tcpi_state is the first byte) */
			if (rc == 0 && *len > 0 && mps_sock_close_wait(s))
				*(uint8_t *)val = MPS_TCP_CLOSE_WAIT;
		} else if (rc)
			errno = err;
		break;
	default:
		rc = get_forwarded(s, level, name, val, len);
	}
	mps_sock_put(s);
	return rc;
}

static int set_forwarded(struct mps_sock *s, int level, int name, const void *val, socklen_t len,
                         enum mps_opt_how how)
{
	int rc, err;

	if (atomic_load(&s->remote)) {
		rc = scratch_setopt(s, level, name, val, len);
		if (rc == 0 && how == MPS_OPT_EVERY)
			mps_ix_opt_remember(s, level, name, val, len);
		return rc;
	}
	rc = mps_conn_setopt(s, level, name, val, len, how, &err);
	if (rc == 0)
		return 0;
	if (err != ENOTCONN) {
		errno = err;
		return -1;
	}
	/* The connection is over: TCP still takes options (and reads them
	 * back); the kernel's verdict comes from a fresh socket. */
	rc = scratch_setopt(s, level, name, val, len);
	if (rc == 0 && how == MPS_OPT_EVERY)
		mps_ix_opt_remember(s, level, name, val, len);
	return rc;
}

MPS_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct mps_sock *s;
	int rc;

	if (level == MPS_SOL_SHIM && !mps_passthrough())
		return gw_setopt(fd, name, val, len);
	mps_handover_hook(fd);
	if (mps_passthrough())
		return mps_real.setsockopt(fd, level, name, val, len);
	if (!(s = mps_fdtab_get(fd))) {
		/* a TCP socket before connect, or a listener: what adoption
		 * will have to read (optseen.h) */
		mps_optseen_set(fd, mps_ix_opt_bits(level, name));
		if (level == IPPROTO_TCP && name == TCP_DEFER_ACCEPT)
			mps_defacc_app_sets(fd); /* the app's own: hands off */
		return mps_real.setsockopt(fd, level, name, val, len);
	}
	if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP &&
	    level != IPPROTO_IPV6) {
		mps_sock_put(s);
		return mps_real.setsockopt(fd, level, name, val, len);
	}
	switch (how_of(level, name)) {
	case H_APP:
		rc = mps_real.setsockopt(fd, level, name, val, len);
		if (rc == 0 && name == SO_LINGER && val && len >= sizeof(struct linger)) {
			/* Not for the subflows: closing them is the shim's
			 * business.  A zero linger makes the final close
			 * abortive, as with TCP. */
			const struct linger *lg = val;

			atomic_store(&s->linger0, lg->l_onoff && lg->l_linger == 0);
		}
		break;
	case H_LOCAL:
		if (len < sizeof(int)) {
			errno = EINVAL;
			rc = -1;
		} else if (!val) {
			errno = EFAULT;
			rc = -1;
		} else {
			int v;

			memcpy(&v, val, sizeof(v));
			atomic_store(&s->notsent_lowat, v);
			rc = 0;
		}
		break;
	case H_REFUSED:
		errno = ENOPROTOOPT;
		rc = -1;
		break;
	case H_NOW:
	case H_IDENTITY:
	case H_INFO:
		rc = set_forwarded(s, level, name, val, len, MPS_OPT_NOW);
		break;
	case H_FIRST:
		rc = set_forwarded(s, level, name, val, len, MPS_OPT_FIRST);
		break;
	default:
		rc = set_forwarded(s, level, name, val, len, MPS_OPT_EVERY);
	}
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

	mps_handover_hook(fd);

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getpeername(fd, addr.__sockaddr__, len);
	if (atomic_load(&s->state) == MPS_SS_CONNECTING && atomic_load(&s->inl)) {
		/* the app's socket is the subflow (inline.h): the kernel says
		 * it is connected (POLLOUT) before the shim thread has seen it */
		mps_inline_connect_check(s);
		rc = mps_real.getpeername(fd, addr.__sockaddr__, len);
	} else if (atomic_load(&s->state) == MPS_SS_CONNECTING ||
	           atomic_load(&s->state) == MPS_SS_FAILED) {
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

	mps_handover_hook(fd);

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getsockname(fd, addr.__sockaddr__, len);
	pthread_mutex_lock(&s->lock); /* a plain fallback reconnect updates it */
	rc = give_addr(&s->local, s->local_len, addr.__sockaddr__, len);
	pthread_mutex_unlock(&s->lock);
	mps_sock_put(s);
	return rc;
}
