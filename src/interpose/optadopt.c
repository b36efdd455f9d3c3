/* optadopt.c - the options a TCP socket carries into adoption: what the
 * app set before connect()/accept() is read once (only what it may have
 * set: optseen.h), copied to the app's socketpair end or remembered for
 * the subflows, and restored if the socket goes back to plain TCP. */
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
#include "mptcpshim/handover.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/defacc.h"
#include "mptcpshim/optseen.h"
#include "mptcpshim/util.h"
#include "optint.h"

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
		mps_defacc_lock(1);
		pthread_mutex_lock(&g_defs_lock);
	} else {
		pthread_mutex_unlock(&g_defs_lock);
		mps_defacc_lock(0);
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
uint32_t mps_ix_opt_bits(int level, int name)
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
			mps_ix_opt_remember(s, path_opts[i].level, path_opts[i].name, &v, sizeof(v));
		}
	}
	l = sizeof(cc);
	if ((want & B_CC) && mps_real.getsockopt(tcp, IPPROTO_TCP, TCP_CONGESTION, cc, &l) == 0 &&
	    strncmp(cc, d->cc, sizeof(cc))) {
		found |= B_CC;
		mps_ix_opt_remember(s, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strnlen(cc, sizeof(cc)));
	}
	return found;
}

uint32_t mps_opts_note_inline(int tcp, struct mps_sock *s, uint32_t want)
{
	struct linger lg;
	socklen_t l = sizeof(lg);
	uint32_t found;

	/* only what the app may have set (optseen.h): a socket of this
	 * process that it left alone costs no call at all */
	found = mps_opts_adopt(tcp, -1, s, want & (B_CC | (B_PATH(N_PATH_OPTS) - 1)));
	if ((want & B_APP(3)) && mps_real.getsockopt(tcp, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 &&
	    lg.l_onoff) {
		atomic_store(&s->linger0, lg.l_linger == 0);
		found |= B_APP(3);
	}
	return found;
}

void mps_opts_restore_app(int app_end, int tcp, struct mps_sock *s)
{
	int v = atomic_load(&s->notsent_lowat), nodelay = 0, i;

	if (v)
		mps_real.setsockopt(tcp, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
	/* the subflow sent at once (mps_sf_nodelay); the app's socket does
	 * as the app asked */
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nopts; i++)
		if (s->opts[i].level == IPPROTO_TCP && s->opts[i].name == TCP_NODELAY &&
		    s->opts[i].len >= sizeof(int))
			memcpy(&nodelay, s->opts[i].val, sizeof(int));
	pthread_mutex_unlock(&s->lock);
	mps_real.setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof(nodelay));
	copy_app_opts(app_end, tcp);
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
