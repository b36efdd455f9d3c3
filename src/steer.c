/* steer.c - the policy file applied to connections: loaded at the first
 * connection, matched when a connection starts (connect/accept), reloaded
 * on request (mps_policy_reload), and the effective path-manager settings
 * of a connection (mps_steer_cfg).  The parser is src/policy.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn_api.h"
#include "conn_int.h"
#include "prio_int.h"
#include "steer_int.h"
#include "subflow_int.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/namecache.h"
#include "mptcpshim/pm.h"
#include "mptcpshim/policy.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

static pthread_mutex_t g_pol_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mps_policy *g_pol; /* NULL: no rule (defaults) */
static int g_pol_tried;          /* the first load happened (whatever its result) */

/* Read and parse path into a new policy.  Logs an error with file, line
 * and column.  0 (*out set) or -errno. */
static int load(const char *path, struct mps_policy **out)
{
	struct mps_policy *p = NULL;
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	int fd, rc = 0, saved = mps_inside;

	mps_real_init(); /* a reload may come before any hook ran */
	mps_inside = 1;  /* our own open/read/close go straight to libc */
	/* Held until the close: the app's socket() never meets our instant
	 * descriptor at a low number (a local file: no blocking wait). */
	mps_alloc_shim(1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	buf = malloc(MPS_POL_MAX_FILE + 1);
	p = malloc(sizeof(*p));
	if (!buf || !p) {
		rc = -ENOMEM;
		goto out;
	}
	/* One byte past the limit, so a larger file is an error, not cut. */
	while (len <= MPS_POL_MAX_FILE) {
		ssize_t n = mps_real.read(fd, buf + len, MPS_POL_MAX_FILE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = mps_policy_parse(p, buf, len, path, err, sizeof(err));
out:
	if (fd >= 0)
		mps_real.close(fd);
	mps_alloc_shim(0);
	/* Logged once the lock is released: the log may open its file. */
	if (rc && err[0])
		mps_warn("policy: %s; no rule applies (the defaults do)", err);
	else if (rc)
		mps_warn("policy: cannot read %s: %s; no rule applies (the defaults do)", path,
		         strerror(-rc));
	free(buf);
	if (rc) {
		free(p);
		p = NULL;
	}
	mps_inside = saved;
	*out = p;
	return rc;
}

static void first_load(void)
{
	const char *path = mps_config()->policy_file;
	struct mps_policy *p = NULL;

	if (g_pol_tried)
		return;
	g_pol_tried = 1;
	if (!path[0])
		return;
	if (load(path, &p) == 0) {
		g_pol = p;
		mps_info("policy: %s: %u rule(s)", path, p->nrules);
	}
}

/* The query for a connection to (or from) peer: its address, port, side,
 * the program, and (client) the host name the app resolved it from. */
static void build_query(struct mps_pol_query *q, const struct sockaddr_storage *peer_in,
                        uint16_t port, int client, char *host, size_t cap)
{
	struct sockaddr_storage peer = *peer_in;

	memset(q, 0, sizeof(*q));
	mps_unmap_v4(&peer);
	q->family = peer.ss_family;
	if (q->family == AF_INET)
		memcpy(q->addr, &((struct sockaddr_in *)&peer)->sin_addr, 4);
	else if (q->family == AF_INET6)
		memcpy(q->addr, &((struct sockaddr_in6 *)&peer)->sin6_addr, 16);
	q->port = port;
	q->side = client ? MPS_POL_CLIENT : MPS_POL_SERVER;
	q->program = program_invocation_short_name;
	if (client && mps_namecache_get(q->family, q->addr, host, cap) == 0)
		q->host = host;
}

int mps_steer_gateway(const struct sockaddr *sa)
{
	struct mps_pol_query q;
	struct mps_pol_action act;
	struct sockaddr_storage peer;
	char host[MPS_POL_NAME];
	uint16_t port;

	if (!mps_config()->policy_file[0])
		return -1;
	memset(&peer, 0, sizeof(peer));
	if (sa->sa_family == AF_INET) {
		memcpy(&peer, sa, sizeof(struct sockaddr_in));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(&peer, sa, sizeof(struct sockaddr_in6));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else
		return -1;
	build_query(&q, &peer, port, 1, host, sizeof(host));
	pthread_mutex_lock(&g_pol_mu);
	first_load();
	mps_policy_match(g_pol, &q, &act);
	pthread_mutex_unlock(&g_pol_mu);
	if (!(act.set & MPS_POL_GATEWAY))
		return -1;
	mps_dbg("policy: line %u: gateway=%s for port %u", act.line[4], act.gateway ? "yes" : "no",
	        (unsigned)port);
	return act.gateway;
}

/* c->pol is allocated only when a rule set something for c (issue 15:
 * 556 bytes that most connections never need); NULL: the defaults. */
int mps_steer_match(struct mps_conn *c)
{
	struct mps_pol_query q;
	struct mps_pol_action act;
	char host[MPS_POL_NAME];

	build_query(&q, &c->peer, c->pol_port, c->role == MPS_CLIENT, host, sizeof(host));
	pthread_mutex_lock(&g_pol_mu);
	first_load();
	mps_policy_match(g_pol, &q, &act);
	pthread_mutex_unlock(&g_pol_mu);
	if (!act.set) {
		free(c->pol);
		c->pol = NULL;
		return 0;
	}
	if (!c->pol && !(c->pol = malloc(sizeof(*c->pol))))
		return -ENOMEM;
	*c->pol = act;
	if (c->pol->set & MPS_POL_SCHED) {
		const struct mps_sched_ops *ops = mps_sched_find(c->pol->scheduler);

		if (ops)
			c->sched.ops = ops;
	}
	return 0;
}

int mps_steer_start(struct mps_conn *c)
{
	/* The service port: the one connected to, or the one accepted on
	 * (mps_conn_start filled the first subflow's local address). */
	const struct sockaddr_storage *ss = c->role == MPS_CLIENT ? &c->peer : &c->sf[0]->local;

	if (ss->ss_family == AF_INET)
		c->pol_port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		c->pol_port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	if (mps_steer_match(c) != 0) {
		mps_err("conn %s: policy: out of memory for its settings: connection refused",
		        c->peer_str);
		return -ENOMEM;
	}
	if (c->pol) {
		char at[24] = "environment";

		if (c->pol->set & MPS_POL_SCHED)
			snprintf(at, sizeof(at), "line %u", c->pol->line[0]);
		mps_info("conn %s: policy: scheduler %s (%s)%s%s%s", c->peer_str,
		         c->sched.ops->name, at,
		         c->pol->set & MPS_POL_IFACES ? ", interfaces set" : "",
		         c->pol->set & MPS_POL_BACKUP ? ", backup interfaces set" : "",
		         c->pol->set & MPS_POL_SUBFLOWS ? ", subflows per path set" : "");
	}
	return 0;
}

const struct mps_config *mps_steer_cfg(const struct mps_conn *c, struct mps_config *tmp)
{
	const struct mps_config *g = mps_config();
	unsigned i;

	const struct mps_pol_action *p = c->pol;

	if (!p || !(p->set & (MPS_POL_IFACES | MPS_POL_BACKUP | MPS_POL_SUBFLOWS)))
		return g;
	*tmp = *g;
	if (p->set & MPS_POL_IFACES) {
		tmp->ninterfaces = p->nifaces;
		for (i = 0; i < p->nifaces; i++)
			memcpy(tmp->interfaces[i], p->ifaces[i], MPS_IFNAMSIZ);
	}
	if (p->set & MPS_POL_BACKUP) {
		tmp->nbackup = p->nbackup;
		for (i = 0; i < p->nbackup; i++)
			memcpy(tmp->backup[i], p->backup[i], MPS_IFNAMSIZ);
	}
	if (p->set & MPS_POL_SUBFLOWS)
		tmp->subflows_per_path = p->subflows;
	return tmp;
}

/* Shim thread: live connections take the rules now in force. */
static void reapply(struct ev_loop *loop, void *arg)
{
	struct mps_conn *c, *next;

	(void)loop;
	free(arg);
	for (c = mps_conn_first(); c; c = next) {
		const struct mps_sched_ops *old = c->sched.ops;
		struct mps_config tmp;
		const struct mps_config *cfg;
		int i;

		next = mps_conn_next(c);
		if (mps_conn_closed(c))
			continue;
		c->sched.ops = mps_sched_find(mps_config()->scheduler);
		if (!c->sched.ops)
			c->sched.ops = mps_sched_find("default");
		if (mps_steer_match(c) != 0) /* c->pol kept: the rules before the reload */
			mps_err("conn %s: policy reload: out of memory, its settings unchanged",
			        c->peer_str);
		if (c->sched.ops != old) {
			/* A redundant cursor restarts at the first unacknowledged
			 * byte (a few duplicates, never a gap). */
			for (i = 0; i < c->nsf; i++)
				c->sf[i]->red_init = 0;
			c->sched.ecf_waiting = 0;
			mps_info("conn %s: policy reloaded: scheduler %s -> %s", c->peer_str,
			         old->name, c->sched.ops->name);
		}
		cfg = mps_steer_cfg(c, &tmp);
		/* The client decides backup flags (its interfaces) and tells
		 * the server with MP_PRIO, as for MPTCPSHIM_BACKUP. */
		for (i = 0; c->role == MPS_CLIENT && i < c->nsf; i++) {
			struct mps_subflow *sf = c->sf[i];
			char ifname[IF_NAMESIZE];
			int b, named;

			if (!sf->ifindex || sf->state != SF_ACTIVE)
				continue;
			mps_alloc_shim(1); /* libc's socket: see mps_pm_local_addrs */
			named = if_indextoname(sf->ifindex, ifname) != NULL;
			mps_alloc_shim(0);
			if (!named)
				continue;
			b = mps_pm_is_backup(cfg, ifname);
			if (b == sf->backup)
				continue;
			mps_prio_set(sf, b);
			mps_info("conn %s: policy reloaded: subflow %d (%s) %s", c->peer_str,
			         sf->id, ifname, b ? "backup" : "regular");
		}
		if (c->role == MPS_CLIENT)
			mps_conn_pm()->fill(c); /* new interfaces or subflows per path */
		if (!mps_conn_closed(c))
			mps_conn_kick(c);
	}
}

int mps_policy_reload(void)
{
	const char *path = mps_config()->policy_file;
	struct mps_policy *p = NULL, *old;
	struct mps_cmd *cmd;
	int rc;

	if (!path[0])
		return -ENOENT;
	rc = load(path, &p);
	if (rc)
		return rc; /* the rules in force stay */
	pthread_mutex_lock(&g_pol_mu);
	old = g_pol;
	g_pol = p;
	g_pol_tried = 1;
	pthread_mutex_unlock(&g_pol_mu);
	free(old);
	mps_info("policy: %s reloaded: %u rule(s)", path, p->nrules);
	if (mps_loop_on_thread()) {
		reapply(NULL, NULL);
		return 0;
	}
	cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return 0; /* new connections have it; live ones keep theirs */
	cmd->fn = reapply;
	cmd->arg = cmd;
	if (mps_loop_submit(cmd) != 0)
		free(cmd);
	return 0;
}
