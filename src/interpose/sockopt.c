/* sockopt.c - socket options and addresses of mptcpshim descriptors.
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
#include "mptcpshim/interpose.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/util.h"

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

static void remember(struct mps_sock *s, int level, int name, const void *val, socklen_t len)
{
	pthread_mutex_lock(&s->lock);
	mps_sock_remember_opt(s, level, name, val, len);
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------- adoption
 * A TCP socket becomes a shim connection (connect, accept) or goes back
 * to being one (connect(AF_UNSPEC), a retry after a failed connect). */

/* Options of the app's blocking calls: they live on its socketpair end. */
static const struct {
	int name;
	socklen_t len;
} app_opts[] = {
        {SO_RCVTIMEO_OLD, sizeof(struct timeval)},
        {SO_SNDTIMEO_OLD, sizeof(struct timeval)},
        {SO_RCVLOWAT, sizeof(int)},
        {SO_LINGER, sizeof(struct linger)},
};

static void copy_app_opts(int from, int to)
{
	unsigned i;

	for (i = 0; i < sizeof(app_opts) / sizeof(app_opts[0]); i++) {
		uint8_t v[32];
		socklen_t l = app_opts[i].len;

		if (mps_real.getsockopt(from, SOL_SOCKET, app_opts[i].name, v, &l) == 0)
			mps_real.setsockopt(to, SOL_SOCKET, app_opts[i].name, v, l);
	}
}

/* Per-path options a socket may carry from before connect() or from its
 * listener, in replay order (IP_TOS sets SO_PRIORITY: TOS first). */
static const struct {
	int level, name;
} path_opts[] = {
        {IPPROTO_TCP, TCP_NODELAY},
        {IPPROTO_TCP, TCP_CORK},
        {IPPROTO_TCP, TCP_KEEPIDLE},
        {IPPROTO_TCP, TCP_KEEPINTVL},
        {IPPROTO_TCP, TCP_KEEPCNT},
        {IPPROTO_TCP, TCP_USER_TIMEOUT},
        {IPPROTO_TCP, TCP_LINGER2},
        {IPPROTO_TCP, TCP_SYNCNT},
        {IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS},
        {SOL_SOCKET, SO_KEEPALIVE},
        {SOL_SOCKET, SO_MARK},
        {IPPROTO_IP, IP_TOS},
        {IPPROTO_IP, IP_TTL},
        {IPPROTO_IPV6, IPV6_TCLASS},
        {IPPROTO_IPV6, IPV6_UNICAST_HOPS},
        {SOL_SOCKET, SO_PRIORITY},
};
#define N_PATH_OPTS (sizeof(path_opts) / sizeof(path_opts[0]))

/* A fresh socket's values, per family (read once: the snapshot records
 * only what differs, so a default connection costs no replay). */
static struct defaults {
	int ready;
	int v[N_PATH_OPTS];
	char cc[16];
} g_defs[2];
static pthread_mutex_t g_defs_lock = PTHREAD_MUTEX_INITIALIZER;

static int read_path_opt(int fd, unsigned i, int *v)
{
	socklen_t l = sizeof(*v);

	*v = 0;
	return mps_real.getsockopt(fd, path_opts[i].level, path_opts[i].name, v, &l);
}

/* Around fork (proc.c): also every socket made before the fork is shared
 * with the other process from then on (optseen.h). */
void mps_opts_lock(int lock)
{
	if (lock) {
		mps_optseen_forked();
		mps_optseen_lock(1);
		pthread_mutex_lock(&g_defs_lock);
	} else {
		pthread_mutex_unlock(&g_defs_lock);
		mps_optseen_lock(0);
	}
}

static const struct defaults *defaults_for(int family)
{
	struct defaults *d = &g_defs[family == AF_INET6];
	unsigned i;

	pthread_mutex_lock(&g_defs_lock);
	if (!d->ready) {
		int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);

		if (fd >= 0) {
			socklen_t l = sizeof(d->cc);

			for (i = 0; i < N_PATH_OPTS; i++)
				if (read_path_opt(fd, i, &d->v[i]))
					d->v[i] = -1;
			mps_real.getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, d->cc, &l);
			mps_real.close(fd);
			d->ready = 1;
		}
	}
	pthread_mutex_unlock(&g_defs_lock);
	return d->ready ? d : NULL;
}

/* Which options a socket may carry (optseen.h): bit i for path_opts[i],
 * then TCP_CONGESTION, app_opts[j], TCP_NOTSENT_LOWAT. */
#define B_PATH(i) (1u << (i))
#define B_CC (1u << N_PATH_OPTS)
#define B_APP(j) (1u << (N_PATH_OPTS + 1 + (j)))
#define B_NOTSENT (1u << (N_PATH_OPTS + 5))

static unsigned path_index(int level, int name)
{
	unsigned i;

	for (i = 0; i < N_PATH_OPTS; i++)
		if (path_opts[i].level == level && path_opts[i].name == name)
			break;
	return i;
}

/* The bits an app's setsockopt(level, name) on a TCP socket may change:
 * those of the options adoption reads; none for options adoption never
 * reads and that change none of those; every bit for anything else at the
 * socket, IP and TCP levels (read everything: the safe answer). */
static uint32_t bits_of(int level, int name)
{
	unsigned i = path_index(level, name);

	if (i < N_PATH_OPTS) {
		if (level == IPPROTO_IP && name == IP_TOS) /* sets SO_PRIORITY too */
			return B_PATH(i) | B_PATH(path_index(SOL_SOCKET, SO_PRIORITY));
		return B_PATH(i);
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVTIMEO_OLD:
#if defined(SO_RCVTIMEO_NEW) && SO_RCVTIMEO_NEW != SO_RCVTIMEO_OLD
		case SO_RCVTIMEO_NEW:
#endif
			return B_APP(0);
		case SO_SNDTIMEO_OLD:
#if defined(SO_SNDTIMEO_NEW) && SO_SNDTIMEO_NEW != SO_SNDTIMEO_OLD
		case SO_SNDTIMEO_NEW:
#endif
			return B_APP(1);
		case SO_RCVLOWAT:
			return B_APP(2);
		case SO_LINGER:
			return B_APP(3);
		case SO_REUSEADDR:
		case SO_REUSEPORT:
		case SO_RCVBUF:
		case SO_SNDBUF:
		case SO_RCVBUFFORCE:
		case SO_SNDBUFFORCE:
		case SO_BINDTODEVICE:
		case SO_BINDTOIFINDEX:
			return 0;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_CONGESTION:
			return B_CC;
		case TCP_NOTSENT_LOWAT:
			return B_NOTSENT;
		case TCP_MAXSEG:
		case TCP_WINDOW_CLAMP:
		case TCP_QUICKACK:
		case TCP_FASTOPEN:
		case TCP_FASTOPEN_CONNECT:
		case TCP_DEFER_ACCEPT:
			return 0;
		}
	} else if (level == IPPROTO_IPV6) {
		if (name == IPV6_V6ONLY)
			return 0;
	} else if (level != IPPROTO_IP)
		return 0; /* SOL_TLS...: nothing adoption reads */
	return MPS_OPTSEEN_ALL;
}

/* socket() made fd: when it is a TCP socket, start the list of what the
 * app sets on it.  A protocol of 0 is checked (a BPF program may make it
 * MPTCP). */
void mps_opts_socket(int fd, int domain, int type, int protocol)
{
	uint64_t ck = 0;
	socklen_t l = sizeof(ck);
	int e = errno, v = 0;

	if (fd < 0 || (domain != AF_INET && domain != AF_INET6) || (type & 0xf) != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return;
	if (protocol == 0) {
		l = sizeof(v);
		if (mps_real.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l) != 0 ||
		    v != IPPROTO_TCP)
			goto out;
		l = sizeof(ck);
	}
	if (mps_real.getsockopt(fd, SOL_SOCKET, SO_COOKIE, &ck, &l) == 0 && ck)
		mps_optseen_socket(fd, ck);
out:
	errno = e;
}

int mps_opts_known(int fd, uint32_t *want)
{
	uint64_t ck = 0;
	socklen_t l = sizeof(ck);
	int e = errno;

	*want = MPS_OPTSEEN_ALL;
	if (mps_real.getsockopt(fd, SOL_SOCKET, SO_COOKIE, &ck, &l) != 0 ||
	    !mps_optseen_lookup(fd, ck, want)) {
		*want = MPS_OPTSEEN_ALL;
		errno = e;
		return 0;
	}
	return 1;
}

/* the app's blocking-call options that differ from a fresh socket's
 * (zero timeouts, a low-water mark of 1, no linger) */
static int app_opt_set(unsigned j, const uint8_t *v)
{
	static const uint8_t zero[32];
	int one = 1;

	if (app_opts[j].name == SO_RCVLOWAT)
		return memcmp(v, &one, sizeof(one)) != 0;
	return memcmp(v, zero, app_opts[j].len) != 0;
}

uint32_t mps_opts_adopt(int tcp, int app_end, struct mps_sock *s, uint32_t want)
{
	const struct defaults *d;
	char cc[16] = "";
	socklen_t l;
	uint32_t found = 0;
	unsigned i;
	int tos = 0;

	/* The app's blocking-call options move to its end of the
	 * socketpair and leave the subflow: a low-water mark would hide
	 * readable data from the shim's poll, a linger would turn its
	 * graceful close into a reset. */
	for (i = 0; i < sizeof(app_opts) / sizeof(app_opts[0]); i++) {
		uint8_t v[32];

		if (!(want & B_APP(i)))
			continue;
		l = app_opts[i].len;
		if (mps_real.getsockopt(tcp, SOL_SOCKET, app_opts[i].name, v, &l) != 0 ||
		    !app_opt_set(i, v))
			continue;
		found |= B_APP(i);
		mps_real.setsockopt(app_end, SOL_SOCKET, app_opts[i].name, v, l);
		if (app_opts[i].name == SO_RCVLOWAT) {
			int one = 1;

			mps_real.setsockopt(tcp, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
		} else if (app_opts[i].name == SO_LINGER) {
			static const struct linger nolinger = {0, 0};
			struct linger lg;

			memcpy(&lg, v, sizeof(lg));
			atomic_store(&s->linger0, lg.l_onoff && lg.l_linger == 0);
			mps_real.setsockopt(tcp, SOL_SOCKET, SO_LINGER, &nolinger,
			                    sizeof(nolinger));
		}
	}
	if (want & B_NOTSENT) {
		int v = 0, zero = 0;

		l = sizeof(v);
		if (mps_real.getsockopt(tcp, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &l) == 0 && v) {
			found |= B_NOTSENT;
			atomic_store(&s->notsent_lowat, v);
			mps_real.setsockopt(tcp, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &zero,
			                    sizeof(zero));
		}
	}
	if (!(want & (B_CC | (B_PATH(N_PATH_OPTS) - 1))))
		return found;
	d = defaults_for(s->family);
	if (!d)
		return MPS_OPTSEEN_ALL;
	for (i = 0; i < N_PATH_OPTS; i++) {
		int v;

		if (!(want & B_PATH(i)) || read_path_opt(tcp, i, &v) != 0)
			continue;
		if (path_opts[i].name == IP_TOS && path_opts[i].level == IPPROTO_IP)
			tos = v != d->v[i];
		/* after a TOS, the priority is replayed even if default */
		if (v != d->v[i] || (path_opts[i].name == SO_PRIORITY && tos)) {
			found |= B_PATH(i);
			remember(s, path_opts[i].level, path_opts[i].name, &v, sizeof(v));
		}
	}
	l = sizeof(cc);
	if ((want & B_CC) && mps_real.getsockopt(tcp, IPPROTO_TCP, TCP_CONGESTION, cc, &l) == 0 &&
	    strncmp(cc, d->cc, sizeof(cc))) {
		found |= B_CC;
		remember(s, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strnlen(cc, sizeof(cc)));
	}
	return found;
}

void mps_opts_restore(int app_end, int tcp, struct mps_sock *s)
{
	int i, v = atomic_load(&s->notsent_lowat);

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nopts; i++)
		mps_real.setsockopt(tcp, s->opts[i].level, s->opts[i].name, s->opts[i].val,
		                    s->opts[i].len);
	pthread_mutex_unlock(&s->lock);
	if (v)
		mps_real.setsockopt(tcp, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
	copy_app_opts(app_end, tcp);
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
	struct mps_sock *s = mps_fdtab_get(fd);
	int r;

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
	if (name == MPS_SO_GW_AUTH_TIMEOUT) {
		rc = val && len == sizeof(int) ? mps_gw_set_auth_timeout(*(const int *)val) :
		                                 -EINVAL;
		goto out;
	}
	if (name == MPS_SO_GW_CONNECT) {
		if (!val || len != sizeof(struct mps_gwdest)) {
			errno = EINVAL;
			return -1;
		}
		return mps_gw_connect_dest(fd, val);
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
	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getsockopt(fd, level, name, val, len);
	if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP &&
	    level != IPPROTO_IPV6) {
		mps_sock_put(s);
		return mps_real.getsockopt(fd, level, name, val, len);
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
		if (rc && err == ENOTCONN)
			rc = scratch_getopt(s, level, name, val, len);
		else if (rc)
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
			remember(s, level, name, val, len);
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
		remember(s, level, name, val, len);
	return rc;
}

MPS_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct mps_sock *s;
	int rc;

	if (level == MPS_SOL_SHIM && !mps_passthrough())
		return gw_setopt(fd, name, val, len);
	if (mps_passthrough())
		return mps_real.setsockopt(fd, level, name, val, len);
	if (!(s = mps_fdtab_get(fd))) {
		/* a TCP socket before connect, or a listener: what adoption
		 * will have to read (optseen.h) */
		mps_optseen_set(fd, bits_of(level, name));
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

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getpeername(fd, addr.__sockaddr__, len);
	if (atomic_load(&s->state) == MPS_SS_CONNECTING ||
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

	if (mps_passthrough() || !(s = mps_fdtab_get(fd)))
		return mps_real.getsockname(fd, addr.__sockaddr__, len);
	pthread_mutex_lock(&s->lock); /* a plain fallback reconnect updates it */
	rc = give_addr(&s->local, s->local_len, addr.__sockaddr__, len);
	pthread_mutex_unlock(&s->lock);
	mps_sock_put(s);
	return rc;
}
