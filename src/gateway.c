/* gateway.c - the gateway glue of the library (see gateway.h and
 * docs/DESIGN.md section 10): the client's configuration and routing
 * decision, its request, and the gateway listener's authentication. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/frame.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/gwlimit.h"
#include "mptcpshim/log.h"
#include "mptcpshim/util.h"

/* ------------------------------------------------------------- client */

static atomic_int g_serving;

/* The configuration (gwconf.c parses it, config.c holds it). */
const struct mps_gwconf *mps_gwconf(void)
{
	return &mps_config()->gw;
}

static unsigned plen_of(const uint8_t *m, unsigned n)
{
	unsigned p = 0;

	for (unsigned i = 0; i < n; i++)
		for (int b = 7; b >= 0; b--) {
			if (!(m[i] >> b & 1))
				return p;
			p++;
		}
	return p;
}

/* The local subnets (default routing: a destination on one goes
 * direct), read with getifaddrs (a netlink dump: ~30 us on the connect
 * path) at most every LOCAL_NETS_TTL_US per process: an address added or
 * removed is seen within that time. */
#define LOCAL_NETS_MAX 32
#define LOCAL_NETS_TTL_US 500000u
static pthread_mutex_t g_nets_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mps_gw_subnet g_nets[LOCAL_NETS_MAX];
static size_t g_nnets;
static uint64_t g_nets_at_us; /* 0: never read */

static size_t read_local_nets(struct mps_gw_subnet *nets, size_t max)
{
	struct ifaddrs *ifa = NULL, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i && n < max; i = i->ifa_next) {
		if (!i->ifa_addr || !i->ifa_netmask)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			nets[n].family = 4;
			memset(nets[n].addr, 0, 16);
			memcpy(nets[n].addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			nets[n].plen = (uint8_t)plen_of(
			        (const uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr,
			        4);
			n++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			nets[n].family = 6;
			memcpy(nets[n].addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			nets[n].plen = (uint8_t)plen_of(
			        (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_netmask)
			                ->sin6_addr,
			        16);
			n++;
		}
	}
	freeifaddrs(ifa);
	return n;
}

int mps_gw_route(const struct sockaddr *sa)
{
	const struct mps_gwconf *c;
	struct mps_gw_subnet nets[LOCAL_NETS_MAX];
	size_t n;
	uint64_t now;

	if (atomic_load(&g_serving))
		return 0;
	c = mps_gwconf();
	if (c->n == 0)
		return 0;
	if (c->for_all || c->nfor)
		return mps_gw_wants(c, sa, NULL, 0);
	/* trylock only: never wait on the app's connect path, and a child
	 * forked while another thread held the lock reads afresh each time */
	now = mps_now_us();
	n = SIZE_MAX;
	if (pthread_mutex_trylock(&g_nets_mu) == 0) {
		if (g_nets_at_us && now - g_nets_at_us < LOCAL_NETS_TTL_US) {
			n = g_nnets;
			memcpy(nets, g_nets, n * sizeof(nets[0]));
		}
		pthread_mutex_unlock(&g_nets_mu);
	}
	if (n == SIZE_MAX) {
		n = read_local_nets(nets, LOCAL_NETS_MAX);
		if (pthread_mutex_trylock(&g_nets_mu) == 0) {
			g_nnets = n;
			memcpy(g_nets, nets, n * sizeof(nets[0]));
			g_nets_at_us = now ? now : 1;
			pthread_mutex_unlock(&g_nets_mu);
		}
	}
	return mps_gw_wants(c, sa, nets, n);
}

int mps_gw_route_name(uint16_t port)
{
	if (atomic_load(&g_serving))
		return 0;
	return mps_gw_wants_name(mps_gwconf(), port);
}

static pthread_mutex_t g_key_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mps_gwkeys g_ckeys;
static int g_ckeys_state; /* 0 not loaded, 1 loaded, -1 failed (logged) */

/* The client's key file, loaded once: 0, or -ENOKEY (said once). */
static int client_key(void)
{
	const struct mps_gwconf *c = mps_gwconf();
	char err[200];
	int rc = 0;

	pthread_mutex_lock(&g_key_mu);
	if (g_ckeys_state == 0) {
		if (!c->key_file[0]) {
			mps_err("gateway: MPTCPSHIM_GATEWAY_KEY_FILE is not set: no gateway "
			        "connection can authenticate");
			g_ckeys_state = -1;
		} else if ((rc = mps_gwauth_load(&g_ckeys, c->key_file, err, sizeof(err))) != 0 ||
		           g_ckeys.n == 0) {
			mps_err("gateway: key file %s: %s", c->key_file, rc ? err : "no key in it");
			g_ckeys_state = -1;
		} else {
			g_ckeys_state = 1;
		}
	}
	rc = g_ckeys_state == 1 ? 0 : -ENOKEY;
	pthread_mutex_unlock(&g_key_mu);
	return rc;
}

int mps_gw_client_psk(uint8_t psk[32])
{
	if (client_key())
		return -ENOKEY;
	mps_gwauth_psk(&g_ckeys.v[0], psk);
	return 0;
}

int mps_gw_client_request_dest(const struct mps_gwdest *d, const uint8_t pub_c[32], uint8_t *out,
                               size_t cap)
{
	uint8_t dtlv[MPS_GWDEST_TLV_MAX], nonce[MPS_GWAUTH_NONCE_LEN], auth[MPS_GWAUTH_LEN],
	        msg[MPS_GWREQ_MSG_MAX];
	size_t dlen, mlen;

	if (cap < MPS_HDR_LEN + MPS_GWREQ_MSG_MAX)
		return -ENOSPC;
	if (client_key())
		return -ENOKEY;
	dlen = mps_gwdest_put(dtlv, d);
	if (!dlen)
		return -EINVAL;
	if (mps_gwauth_nonce(nonce))
		return -EIO;
	mps_gwauth_sign(&g_ckeys.v[0], nonce, (uint64_t)time(NULL), pub_c, dtlv, dlen, auth);
	mlen = mps_gwreq_put_request(msg, sizeof(msg), d, auth);
	if (!mlen)
		return -EINVAL;
	return (int)mps_frame_put_gw(out, MPS_F_GWREQ, msg, mlen);
}

int mps_gw_client_request(const struct sockaddr *sa, const uint8_t pub_c[32], uint8_t *out,
                          size_t cap)
{
	struct mps_gwdest d;
	uint8_t fam, a[16];

	memset(&d, 0, sizeof(d));
	if (mps_gw_host_of(sa, &fam, a, &d.port))
		return -EAFNOSUPPORT;
	d.type = fam == 4 ? MPS_GWT_DEST_IPV4 : MPS_GWT_DEST_IPV6;
	memcpy(d.addr, a, 16);
	return mps_gw_client_request_dest(&d, pub_c, out, cap);
}

/* ------------------------------------------------------------- gateway side */

#define MAX_LISTENERS 8

static pthread_mutex_t g_srv_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mps_gwkeys g_skeys;
static struct mps_gwreplay *g_replay;
static struct mps_gwreplay *g_replay_shared; /* MPS_SO_GW_REPLAY */
static struct {
	dev_t dev;
	ino_t ino;
} g_lis[MAX_LISTENERS];
static int g_nlis;

/* an accepted connection's time to authenticate (MPS_SO_GW_AUTH_TIMEOUT) */
static atomic_int g_auth_timeout_ms = 10000;

int mps_gw_set_auth_timeout(int ms)
{
	if (ms < 100 || ms > 3600 * 1000)
		return -EINVAL;
	atomic_store(&g_auth_timeout_ms, ms);
	return 0;
}

double mps_gw_auth_timeout(void)
{
	return atomic_load(&g_auth_timeout_ms) / 1000.0;
}

int mps_gw_serving(void)
{
	return atomic_load(&g_serving);
}

int mps_gw_listen(int fd, const char *path, size_t len)
{
	char p[512], err[200];
	struct stat st;
	int rc = 0;

	if (!path || len == 0 || len >= sizeof(p))
		return -EINVAL;
	memcpy(p, path, len);
	p[len] = '\0';
	if (fstat(fd, &st) != 0)
		return -errno;
	pthread_mutex_lock(&g_srv_mu);
	if (!g_replay) {
		struct mps_gwkeys ks;

		memset(&ks, 0, sizeof(ks));
		rc = mps_gwauth_load(&ks, p, err, sizeof(err));
		if (rc) {
			mps_err("gateway: key file %s: %s", p, err);
			goto out;
		}
		g_replay = g_replay_shared ?
		                   g_replay_shared :
		                   mps_gwreplay_new(MPS_GWREPLAY_LOG2_DEFAULT, MPS_GWAUTH_WINDOW_S,
		                                    (uint64_t)time(NULL));
		if (!g_replay) {
			mps_gwauth_free(&ks);
			rc = -ENOMEM;
			goto out;
		}
		g_skeys = ks;
	}
	if (g_nlis == MAX_LISTENERS) {
		rc = -ENOSPC;
		goto out;
	}
	g_lis[g_nlis].dev = st.st_dev;
	g_lis[g_nlis].ino = st.st_ino;
	g_nlis++;
	atomic_store(&g_serving, 1);
	mps_info("gateway: listener ready, %zu client key(s)", g_skeys.n);
out:
	pthread_mutex_unlock(&g_srv_mu);
	return rc;
}

int mps_gw_set_replay(int fd)
{
	struct mps_gwreplay *rc;
	int r = 0;

	pthread_mutex_lock(&g_srv_mu);
	if (g_replay || g_replay_shared)
		r = -EBUSY; /* the listener has its cache already */
	else if (!(rc = mps_gwreplay_attach(fd)))
		r = -EINVAL;
	else
		g_replay_shared = rc;
	pthread_mutex_unlock(&g_srv_mu);
	return r;
}

int mps_gw_is_listener(int fd)
{
	struct stat st;
	int r = 0;

	if (!atomic_load(&g_serving) || fstat(fd, &st) != 0)
		return 0;
	pthread_mutex_lock(&g_srv_mu);
	for (int i = 0; i < g_nlis; i++)
		if (g_lis[i].dev == st.st_dev && g_lis[i].ino == st.st_ino)
			r = 1;
	pthread_mutex_unlock(&g_srv_mu);
	return r;
}

int mps_gw_server_verify(const uint8_t *msg, size_t len, const uint8_t pub_c[32],
                         struct mps_gwinfo *info, uint8_t psk[32], const char **why)
{
	struct mps_gwreq rq;
	uint8_t dtlv[MPS_GWDEST_TLV_MAX];
	const struct mps_gwkey *who = NULL;
	size_t dlen;
	int rc;

	rc = mps_gwreq_decode_request(msg, len, &rq, why);
	if (rc <= 0) {
		if (rc == 0)
			*why = "truncated request";
		return -EBADMSG;
	}
	if (!rq.has_auth) {
		*why = "request without AUTH";
		return -EACCES;
	}
	dlen = mps_gwdest_put(dtlv, &rq.dest);
	pthread_mutex_lock(&g_srv_mu);
	rc = g_replay ? mps_gwauth_verify(&g_skeys, g_replay, rq.auth, pub_c, dtlv, dlen,
	                                  (uint64_t)time(NULL), &who) :
	                -EACCES;
	if (rc == 0) {
		memset(info, 0, sizeof(*info));
		info->dest = rq.dest;
		snprintf(info->client, sizeof(info->client), "%s", who->name);
		mps_gwauth_psk(who, psk);
	}
	pthread_mutex_unlock(&g_srv_mu);
	switch (rc) {
	case 0:
		return 0;
	case -ESTALE:
		*why = "stale authenticator (timestamp outside the window)";
		break;
	case -EEXIST:
		*why = "replayed authenticator";
		break;
	case -ENOSPC:
		*why = "replay cache full";
		break;
	default:
		*why = "bad authenticator (unknown key or wrong MAC)";
		break;
	}
	return rc;
}

void mps_gw_signal(pthread_mutex_t *mu, pthread_cond_t *cv, _Atomic int *flag, int v)
{
	pthread_mutex_lock(mu);
	atomic_store(flag, v);
	pthread_cond_broadcast(cv);
	pthread_mutex_unlock(mu); /* the waiter may free mu, cv and flag now */
}

int mps_gw_wait(pthread_mutex_t *mu, pthread_cond_t *cv, const _Atomic int *flag)
{
	int r;

	pthread_mutex_lock(mu);
	while ((r = atomic_load(flag)) == 0)
		pthread_cond_wait(cv, mu);
	pthread_mutex_unlock(mu);
	return r;
}

/* ------------------------------------------------------------- served here */

/* MPS_SO_GW_DIRECT: the daemon's policy and limits, registered once; the
 * shim thread applies them to each authenticated request (gwconn.c). */
static struct {
	atomic_int on;
	struct mps_gwpolicy policy;
	int connect_timeout_ms, max_per_client, verbose, max_conns, max_pending;
	void (*log)(const char *fmt, ...);
	pthread_mutex_t mu;     /* guards lim and cl */
	struct mps_gwlimit lim; /* the per-client rate (no per-source part) */
	struct {
		char name[MPS_GWAUTH_NAME_MAX + 1];
		int n;
	} * cl; /* connections per key, one slot per key of the key file */
	size_t ncl;
} g_dir = {.mu = PTHREAD_MUTEX_INITIALIZER};
static atomic_int g_count;

int mps_gw_set_direct(const struct mps_gwdirect *d)
{
	uint8_t seed[MPS_GWAUTH_NONCE_LEN];
	uint64_t s = 0;
	int rc = 0;

	if (!d || !d->policy || d->connect_timeout_ms < 1 || d->max_per_client < 0 ||
	    d->rate_per_client < 0)
		return -EINVAL;
	pthread_mutex_lock(&g_srv_mu);
	pthread_mutex_lock(&g_dir.mu);
	if (atomic_load(&g_dir.on) || !g_replay) {
		/* once, after MPS_SO_GW_LISTEN */
		rc = atomic_load(&g_dir.on) ? -EALREADY : -EINVAL;
		goto out;
	}
	g_dir.cl = calloc(g_skeys.n ? g_skeys.n : 1, sizeof(*g_dir.cl));
	if (mps_gwauth_nonce(seed) == 0)
		memcpy(&s, seed, sizeof(s));
	if (!g_dir.cl || d->max_conns < 1 || d->max_pending_per_source < 0 ||
	    mps_gwlimit_init(&g_dir.lim, (uint32_t)d->max_pending_per_source, (size_t)d->max_conns,
	                     d->rate_per_client, 2.0 * d->rate_per_client, g_skeys.n, s)) {
		free(g_dir.cl);
		g_dir.cl = NULL;
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < g_skeys.n; i++)
		snprintf(g_dir.cl[i].name, sizeof(g_dir.cl[i].name), "%s", g_skeys.v[i].name);
	g_dir.ncl = g_skeys.n;
	g_dir.policy = *d->policy;
	g_dir.connect_timeout_ms = d->connect_timeout_ms;
	g_dir.max_per_client = d->max_per_client;
	g_dir.max_conns = d->max_conns;
	g_dir.max_pending = d->max_pending_per_source;
	g_dir.verbose = d->verbose;
	g_dir.log = d->log;
	atomic_store(&g_dir.on, 1);
out:
	pthread_mutex_unlock(&g_dir.mu);
	pthread_mutex_unlock(&g_srv_mu);
	return rc;
}

int mps_gw_direct(void)
{
	return atomic_load(&g_dir.on);
}

double mps_gw_direct_timeout(void)
{
	return g_dir.connect_timeout_ms / 1000.0;
}

void mps_gw_direct_log(int always, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (!always && !g_dir.verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (g_dir.log)
		g_dir.log("%s", line);
	else
		mps_info("gateway: %s", line);
}

int mps_gw_lookup(const struct mps_gwdest *d, struct addrinfo **res, mps_gai_fn gai)
{
	struct addrinfo hints;
	char port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", d->port);
	*res = NULL;
	if (gai(d->name, port, &hints, res) != 0 || !*res) {
		*res = NULL;
		return -1;
	}
	return 0;
}

const void *mps_gw_ai_addr(const struct addrinfo *ai)
{
	if (ai->ai_family == AF_INET)
		return &((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
	if (ai->ai_family == AF_INET6)
		return &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
	return NULL;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint8_t mps_gw_direct_admit(const char *client, const char *who, const char *dest)
{
	static atomic_llong last_rate;
	int rate, i, n = -1;

	pthread_mutex_lock(&g_dir.mu);
	rate = mps_gwlimit_rate_take(&g_dir.lim, client, mono_ms());
	if (!rate) {
		for (i = 0; i < (int)g_dir.ncl; i++)
			if (!strcmp(g_dir.cl[i].name, client))
				break;
		if (i < (int)g_dir.ncl &&
		    (g_dir.max_per_client == 0 || g_dir.cl[i].n < g_dir.max_per_client))
			n = ++g_dir.cl[i].n;
	}
	pthread_mutex_unlock(&g_dir.mu);
	if (rate) {
		long long t = mono_ms(), l = atomic_load(&last_rate);

		/* a flood must not flood the log: at most every 10 s */
		if (t - l > 10000 && atomic_compare_exchange_strong(&last_rate, &l, t))
			mps_gw_direct_log(
			        1,
			        "%s -> %s: refused: more than %g new connections per second "
			        "of this client (--rate-per-client; said at most every 10 s)",
			        who, dest, g_dir.lim.rate);
		return MPS_GWR_LIMITED;
	}
	if (n < 0) {
		mps_gw_direct_log(1,
		                  "%s -> %s: refused: %d connections of this client open "
		                  "(--max-per-client)",
		                  who, dest, g_dir.max_per_client);
		return MPS_GWR_LIMITED;
	}
	return MPS_GWR_OK;
}

void mps_gw_direct_release(const char *client)
{
	pthread_mutex_lock(&g_dir.mu);
	for (size_t i = 0; i < g_dir.ncl; i++)
		if (!strcmp(g_dir.cl[i].name, client)) {
			if (g_dir.cl[i].n > 0)
				g_dir.cl[i].n--;
			break;
		}
	pthread_mutex_unlock(&g_dir.mu);
}

uint8_t mps_gw_direct_judge(const struct mps_gwdest *d, const char *who, const char *dest)
{
	const char *why = NULL;
	int fam = d->type == MPS_GWT_DEST_IPV4 ? AF_INET : AF_INET6;

	/* the policy is immutable once registered: no lock */
	if (!mps_gwp_refused(mps_gwpolicy_check(&g_dir.policy, fam, d->addr, d->port, &why)))
		return MPS_GWR_OK;
	mps_gw_direct_log(1, "%s -> %s: refused by policy (%s)", who, dest, why ? why : "?");
	return MPS_GWR_POLICY;
}

int mps_gw_direct_refused(int family, const void *addr, uint16_t port, const char **why)
{
	return mps_gwp_refused(mps_gwpolicy_check(&g_dir.policy, family, addr, port, why));
}

/* at most every 10 s (a flood must not flood the log) */
static int log_now(atomic_llong *last)
{
	long long t = mono_ms(), l = atomic_load(last);

	return t - l > 10000 && atomic_compare_exchange_strong(last, &l, t);
}

int mps_gw_direct_accept(const struct sockaddr *peer)
{
	static atomic_llong last_full, last_src;
	uint8_t key[16];
	char a[64];
	int rc;

	mps_addr_str((const struct sockaddr_storage *)peer, a, sizeof(a));
	if (mps_gw_count() >= g_dir.max_conns) {
		if (log_now(&last_full))
			mps_gw_direct_log(1, "%s: dropped: %d connections open (--max-conns)", a,
			                  g_dir.max_conns);
		return -1;
	}
	if (mps_gwlimit_source_key(peer, key) != 0)
		return 0;
	pthread_mutex_lock(&g_dir.mu);
	rc = mps_gwlimit_pending_take(&g_dir.lim, key);
	pthread_mutex_unlock(&g_dir.mu);
	if (rc == 0)
		return 0;
	if (log_now(&last_src))
		mps_gw_direct_log(1,
		                  "%s: dropped: %s (--max-pending-per-source %d; said at most "
		                  "every 10 s)",
		                  a,
		                  rc == -EBUSY ? "this source holds its share of unauthenticated "
		                                 "connections" :
		                                 "too many sources pending",
		                  g_dir.max_pending);
	return -1;
}

void mps_gw_direct_pending_drop(const struct sockaddr *peer)
{
	uint8_t key[16];

	if (mps_gwlimit_source_key(peer, key) != 0)
		return;
	pthread_mutex_lock(&g_dir.mu);
	mps_gwlimit_pending_drop(&g_dir.lim, key);
	pthread_mutex_unlock(&g_dir.mu);
}

void mps_gw_count_add(int d)
{
	atomic_fetch_add(&g_count, d);
}

int mps_gw_count(void)
{
	return atomic_load(&g_count);
}
