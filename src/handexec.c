/* handexec.c - a connection carried across exec (docs/DESIGN.md, "Process
 * model", "Fork per connection", step 5).
 *
 * The exec'ing side (handover.c's exec hook, app thread, the connection a
 * snapshot nobody services) writes the connection into a sealed memfd
 * (execstate.h).  The new image's constructor checks it and every
 * descriptor it names, rebuilds the connection and services it on its own
 * shim thread.  Whatever the state cannot carry stays with the keeper or
 * the parent (mps_handexec_capture says why). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn_int.h"
#include "connect_int.h"
#include "dss_tx_int.h"
#include "handexec_int.h"
#include "path_int.h"
#include "resilience_int.h"
#include "steer_int.h"
#include "subflow_int.h"
#include "mptcpshim/config.h"
#include "mptcpshim/conn.h"
#include "mptcpshim/execstate.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/handback.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/netmon.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"
#include "mptcpshim/token.h"
#include "mptcpshim/util.h"

#define XS_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* ---- the exec'ing side ---- */

static const char *not_carried(const struct mps_conn *c)
{
	int i;

	if (c->role != MPS_SERVER || c->gw)
		return "not a server connection";
	if (c->state != MPS_CONN_ESTABLISHED || c->app_eof || c->app_closed)
		return "closing";
	if (c->rx_mode != RX_MP || c->tx_mode != TX_MP)
		return "not negotiated multipath";
	if (c->outage || c->nparked || c->app_dup >= 0 || c->filler)
		return "in an outage or with parked subflows";
	if (c->ofo.bytes || c->reinj.n)
		return "out-of-order or reinjected data held";
	if (c->nsf < 1 || c->nsf > (int)MPS_XS_MAX_SF)
		return "no subflow";
	for (i = 0; i < c->nsf; i++) {
		const struct mps_subflow *sf = c->sf[i];

		if (sf->state != SF_ACTIVE || sf->fd < 0)
			return "a subflow not active (a join in progress?)";
		if (sf->nseg || sf->queued)
			return "frames queued for a subflow";
	}
	return NULL;
}

/* A server connection whose negotiation has not begun: its client has
 * sent nothing yet (the offer was made right after accept). */
static int fresh(const struct mps_conn *c)
{
	return c->role == MPS_SERVER && !c->gw && c->state == MPS_CONN_ESTABLISHED &&
	       c->rx_mode == RX_NEGO && c->tx_mode == TX_HOLD && c->nsf == 1 && c->sf[0]->fd >= 0 &&
	       c->sf[0]->rlen == 0 && !c->sf[0]->nseg && !c->window_expired && !c->app_eof &&
	       !c->app_closed && c->app_dup < 0 && !c->nparked;
}

static void put_addr(uint8_t out[MPS_XS_ADDR], const struct sockaddr_storage *ss)
{
	memcpy(out, ss, MPS_XS_ADDR);
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = mps_real.write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes [from, to) of a send buffer or receive queue. */
static int write_span(int fd, const struct mps_sendbuf *b, uint64_t from, uint64_t to)
{
	while (from != to) {
		const uint8_t *p;
		size_t n = mps_sendbuf_peek(b, from, (size_t)(to - from), &p);

		if (!n || write_all(fd, p, n))
			return -EIO;
		from += n;
	}
	return 0;
}

int mps_handexec_capture(struct mps_conn *c, const char **why)
{
	struct mps_xs x;
	struct mps_xs_sf sf[MPS_XS_MAX_SF];
	struct stat st;
	int fd, i, rc = -EIO;

	memset(&x, 0, sizeof(x));
	memset(sf, 0, sizeof(sf));
	x.fresh = (uint8_t)fresh(c);
	*why = x.fresh ? NULL : not_carried(c);
	if (*why)
		return -EINVAL;
	if (fstat(c->app_fd, &st) != 0) {
		*why = "the shim's end is gone";
		return -EBADF;
	}
	x.shim_ino = (uint64_t)st.st_ino;
	x.shim_fd = c->app_fd;
	x.sock_ino = (uint64_t)c->sock->ino;
	x.nsf = (uint32_t)c->nsf;
	x.sb_len = (uint32_t)(c->sb.end - c->snd_una);
	x.rx_len = (uint32_t)(c->rxq.end - c->rxq.una);
	x.rcv_wnd_max = c->rcv_wnd_max;
	x.next_sf_id = c->next_sf_id;
	x.local_key = c->local_key;
	x.remote_key = c->remote_key;
	x.remote_idsn = c->remote_idsn;
	x.local_token = c->local_token;
	x.remote_token = c->remote_token;
	x.token_registered = (uint8_t)(c->token_registered != 0);
	x.snd_start = c->snd_start;
	x.snd_una = c->snd_una;
	x.snd_nxt = c->snd_nxt;
	x.snd_max = c->snd_max;
	x.snd_edge = c->snd_edge;
	x.sb_end = c->sb.end;
	x.rcv_nxt = c->rcv_nxt;
	x.ack_sent = c->ack_sent;
	x.rcv_edge = c->rcv_edge;
	x.wnd_sent = c->wnd_sent;
	x.dss_high = c->dss.high;
	x.dss_fin_dsn = c->dss.fin_dsn;
	x.dss_high_set = c->dss.high_set;
	x.dss_fin_seen = c->dss.fin_seen;
	x.peer_len = (uint32_t)c->peer_len;
	x.nego_remote_wnd = c->nego.remote_wnd;
	x.nego_remote_version = c->nego.remote_version;
	x.nego_remote_caps = c->nego.remote_caps;
	x.key_c = c->kex.keys.key_c;
	x.key_s = c->kex.keys.key_s;
	memcpy(x.join_key_c, c->kex.keys.join_key_c, sizeof(x.join_key_c));
	memcpy(x.join_key_s, c->kex.keys.join_key_s, sizeof(x.join_key_s));
	x.role = (uint8_t)c->role;
	x.known_shim = (uint8_t)c->known_shim;
	x.next_addr_id = c->next_addr_id;
	put_addr(x.peer, &c->peer);
	snprintf(x.peer_str, sizeof(x.peer_str), "%s", c->peer_str);
	snprintf(x.sched, sizeof(x.sched), "%s", c->sched.ops ? c->sched.ops->name : "default");
	for (i = 0; i < (int)MPS_XS_MAX_REMOTE && i < MPS_MAX_REMOTE; i++) {
		x.remotes[i].id = c->remotes[i].id;
		x.remotes[i].valid = (uint8_t)(c->remotes[i].valid != 0);
		put_addr(x.remotes[i].addr, &c->remotes[i].addr);
	}
	for (i = 0; i < c->nsf; i++) {
		const struct mps_subflow *s = c->sf[i];

		if (fstat(s->fd, &st) != 0) {
			*why = "a subflow's descriptor is gone";
			return -EBADF;
		}
		sf[i].ino = (uint64_t)st.st_ino;
		sf[i].fd = s->fd;
		sf[i].id = (uint32_t)s->id;
		sf[i].rtt_us = s->rtt_us;
		sf[i].token = s->token;
		sf[i].nonce_local = s->nonce_local;
		sf[i].nonce_remote = s->nonce_remote;
		sf[i].ifindex = s->ifindex;
		sf[i].rlen = (uint32_t)(s->rlen - s->roff);
		sf[i].local_id = s->local_id;
		sf[i].remote_id = s->remote_id;
		sf[i].backup = s->backup;
		sf[i].lowat = s->lowat;
		sf[i].wr_shut = s->wr_shut;
		sf[i].wr_dead = s->wr_dead;
		sf[i].fin_on = s->fin_on;
		sf[i].peer_live = s->peer_live;
		sf[i].tx_bytes = s->tx_bytes;
		sf[i].rx_bytes = s->rx_bytes;
		put_addr(sf[i].local, &s->local);
		put_addr(sf[i].remote, &s->remote);
		snprintf(sf[i].peer_str, sizeof(sf[i].peer_str), "%s", s->peer_str);
	}
	mps_xs_seal(&x, sf);
	if (!x.size) {
		*why = "too large";
		return -E2BIG;
	}
	fd = memfd_create("mptcpshim-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		*why = "no memfd";
		return -errno;
	}
	if (write_all(fd, &x, sizeof(x)) || write_all(fd, sf, x.nsf * sizeof(sf[0])) ||
	    write_span(fd, &c->sb, c->snd_una, c->sb.end) ||
	    write_span(fd, &c->rxq, c->rxq.una, c->rxq.end))
		goto fail;
	for (i = 0; i < c->nsf; i++)
		if (write_all(fd, c->sf[i]->rbuf + c->sf[i]->roff, sf[i].rlen))
			goto fail;
	if (mps_real.fcntl(fd, F_ADD_SEALS, XS_SEALS) != 0)
		goto fail;
	rc = mps_fd_high(fd); /* out of the app's range, close-on-exec */
	if (rc < 0)
		goto fail;
	mps_real.close(fd);
	return rc;
fail:
	*why = "cannot write the state";
	mps_real.close(fd);
	return rc < 0 ? rc : -EIO;
}

/* ---- the new image ---- */

struct found {
	uint64_t ino;
	struct mps_sock *s;
};

static int find_sock(int fd, struct mps_sock *s, void *arg)
{
	struct found *f = arg;

	(void)fd;
	if ((uint64_t)s->ino != f->ino || f->s)
		return 0;
	mps_sock_get(s);
	f->s = s;
	return 1;
}

/* fd is an open socket with inode ino, of family AF_UNIX (unix) or a TCP
 * socket (!unix). */
static int fd_is(int fd, uint64_t ino, int unix_end)
{
	struct stat st;
	int v = 0;
	socklen_t len = sizeof(v);

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || (uint64_t)st.st_ino != ino)
		return 0;
	if (unix_end)
		return mps_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 &&
		       v == AF_UNIX;
	return mps_real.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) == 0 && v == IPPROTO_TCP;
}

static const struct mps_netmon_ops g_path_events = {.addr_event = mps_conn_on_addr_event,
                                                    .link_event = mps_conn_on_link_event};

void mps_handexec_resume(struct ev_loop *loop, struct mps_conn *c)
{
	int i;

	c->loop = loop;
	mps_conn_engine_tables();
	mps_conn_reaper_arm(loop);
	c->next = mps_conn_list;
	if (mps_conn_list)
		mps_conn_list->prev = c;
	mps_conn_list = c;
	mps_stat_new(c);
	mps_stat(c, NULL, MPS_MIB_EXEC_ADOPTED, 1);
	mps_info("conn %s: carried across exec (this process services it now, %d subflow(s))",
	         c->peer_str, c->nsf);
	if (mps_conn_hup_watch(c) != 0) {
		mps_conn_abort(c, MPS_CR_INTERNAL, 0, "cannot watch the app's descriptor");
		return;
	}
	if (c->token_registered && mps_token_add(c->local_token, c) != 0) {
		c->token_registered = 0;
		mps_info("conn %s: token taken in this process: no more joins", c->peer_str);
	}
	c->last_progress = ev_now(loop);
	for (i = 0; i < c->nsf; i++) {
		c->sf[i]->born = ev_now(loop);
		ev_io_start(loop, &c->sf[i]->rio);
	}
	mps_netmon_start(loop, &g_path_events);
	/* what the app could not take yet, and the data ACK we owe */
	if (c->rxq.end != c->rxq.una)
		ev_io_start(loop, &c->app_w);
	ev_timer_set(&c->ack_timer, 0., 0.);
	ev_timer_start(loop, &c->ack_timer);
	mps_conn_push(c);
	if (mps_conn_closed(c))
		return;
	mps_conn_app_update_read(c);
	mps_resil_watchdog_arm(c);
	if (c->snd_una != c->snd_max)
		mps_resil_stale_arm(c);
}

/* Bytes into an empty buffer (send buffer, receive queue). */
static int fill(struct mps_sendbuf *b, const uint8_t *p, size_t n)
{
	while (n) {
		struct iovec iov[16];
		size_t done = 0;
		int k = mps_sendbuf_reserve(b, iov, 16, n), i;

		if (k <= 0)
			return -ENOMEM;
		for (i = 0; i < k && done < n; i++) {
			size_t m = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;

			memcpy(iov[i].iov_base, p + done, m);
			done += m;
		}
		mps_sendbuf_commit(b, done);
		p += done;
		n -= done;
	}
	return 0;
}

static struct mps_conn *build(const struct mps_xs *x, const struct mps_xs_sf *xsf,
                              const uint8_t *sb, const uint8_t *rx, const uint8_t *rbuf,
                              struct mps_sock *s, const char **why)
{
	const struct mps_config *cfg = mps_config();
	struct mps_conn *c = calloc(1, sizeof(*c));
	uint32_t i;

	if (!c) {
		*why = "out of memory";
		return NULL;
	}
	c->role = (enum mps_role)x->role;
	c->exec_carried = 1;
	c->state = MPS_CONN_ESTABLISHED;
	c->rx_mode = RX_MP;
	c->tx_mode = TX_MP;
	c->sock = s;
	c->app_fd = x->shim_fd;
	c->app_dup = -1;
	memcpy(&c->peer, x->peer, sizeof(c->peer));
	c->peer_len = (socklen_t)x->peer_len;
	snprintf(c->peer_str, sizeof(c->peer_str), "%s", x->peer_str);
	mps_nego_init(&c->nego, c->role);
	c->nego.state = MPS_NS_MP;
	c->nego.remote_version = x->nego_remote_version;
	c->nego.remote_caps = x->nego_remote_caps;
	c->nego.remote_wnd = x->nego_remote_wnd;
	c->kex.role = x->role;
	c->kex.done = 1;
	c->kex.keys.key_c = x->key_c;
	c->kex.keys.key_s = x->key_s;
	memcpy(c->kex.keys.join_key_c, x->join_key_c, sizeof(x->join_key_c));
	memcpy(c->kex.keys.join_key_s, x->join_key_s, sizeof(x->join_key_s));
	c->local_key = x->local_key;
	c->remote_key = x->remote_key;
	c->remote_idsn = x->remote_idsn;
	c->local_token = x->local_token;
	c->remote_token = x->remote_token;
	c->token_registered = x->token_registered;
	c->snd_start = x->snd_start;
	c->snd_una = x->snd_una;
	c->snd_nxt = x->snd_nxt;
	c->snd_max = x->snd_max;
	c->snd_edge = x->snd_edge;
	c->known_shim = x->known_shim;
	c->rcv_nxt = x->rcv_nxt;
	c->ack_sent = x->ack_sent;
	c->wnd_sent = x->wnd_sent;
	c->rcv_wnd_max = x->rcv_wnd_max;
	c->rcv_edge = x->rcv_edge;
	c->dss.high = x->dss_high;
	c->dss.fin_dsn = x->dss_fin_dsn;
	c->dss.high_set = x->dss_high_set;
	c->dss.fin_seen = x->dss_fin_seen;
	c->next_sf_id = x->next_sf_id;
	c->next_addr_id = x->next_addr_id;
	for (i = 0; i < MPS_XS_MAX_REMOTE && i < MPS_MAX_REMOTE; i++) {
		c->remotes[i].id = x->remotes[i].id;
		c->remotes[i].valid = x->remotes[i].valid;
		memcpy(&c->remotes[i].addr, x->remotes[i].addr, sizeof(c->remotes[i].addr));
	}
	c->sched.ops = mps_sched_find(x->sched);
	if (!c->sched.ops)
		c->sched.ops = mps_sched_find("default");
	mps_sendbuf_init(&c->sb, c->snd_una, MPS_MAX(cfg->sndbuf, (size_t)x->sb_len));
	mps_sendbuf_init(&c->rxq, 0, c->rcv_wnd_max);
	mps_ofo_init(&c->ofo, c->rcv_wnd_max, 0);
	if (fill(&c->sb, sb, x->sb_len) || fill(&c->rxq, rx, x->rx_len))
		goto nomem;
	for (i = 0; i < x->nsf; i++) {
		struct mps_subflow *sf = mps_sf_alloc(NULL, xsf[i].fd, SF_ACTIVE);

		if (!sf)
			goto nomem;
		c->sf[c->nsf++] = sf;
		sf->c = c;
		sf->id = (int)xsf[i].id;
		sf->rtt_us = xsf[i].rtt_us;
		sf->token = xsf[i].token;
		sf->nonce_local = xsf[i].nonce_local;
		sf->nonce_remote = xsf[i].nonce_remote;
		sf->ifindex = xsf[i].ifindex;
		sf->local_id = xsf[i].local_id;
		sf->remote_id = xsf[i].remote_id;
		sf->backup = xsf[i].backup;
		sf->lowat = xsf[i].lowat;
		sf->wr_shut = xsf[i].wr_shut;
		sf->wr_dead = xsf[i].wr_dead;
		sf->fin_on = xsf[i].fin_on;
		sf->peer_live = xsf[i].peer_live;
		sf->tx_bytes = xsf[i].tx_bytes;
		sf->rx_bytes = xsf[i].rx_bytes;
		sf->ready = 1;
		memcpy(&sf->local, xsf[i].local, sizeof(sf->local));
		memcpy(&sf->remote, xsf[i].remote, sizeof(sf->remote));
		snprintf(sf->peer_str, sizeof(sf->peer_str), "%s", xsf[i].peer_str);
		memcpy(sf->rbuf, rbuf, xsf[i].rlen);
		sf->rlen = xsf[i].rlen;
		rbuf += xsf[i].rlen;
		/* what it may have carried and is not data-ACKed: a superset,
		 * as the engine keeps it (reinjected if the subflow dies) */
		mps_ranges_init(&sf->sent);
		if (c->snd_una != c->snd_max)
			mps_ranges_add(&sf->sent, c->snd_una, c->snd_max);
	}
	mps_conn_watchers_init(c, c->sf[0]);
	mps_steer_start(c); /* the policy file: interfaces, backup */
	return c;
nomem:
	*why = "out of memory";
	for (i = 0; i < (uint32_t)c->nsf; i++) {
		free(c->sf[i]->rbuf);
		free(c->sf[i]);
	}
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_free(&c->rxq);
	mps_ofo_free(&c->ofo);
	free(c);
	return NULL;
}

/* The connection stays with the parent (or goes nowhere): close the
 * copies of its descriptors that are surely ours (they matched). */
static void refuse(struct ho_word *w, const char *peer, const char *why, const int *fds, int n)
{
	uint32_t v = HO_EXEC;
	int i;

	mps_warn("exec: conn %s: the state carried across exec is refused (%s): the process "
	         "that serviced it keeps it",
	         peer, why);
	if (w)
		atomic_compare_exchange_strong(&w->state, &v, HO_KEPT);
	for (i = 0; i < n; i++)
		mps_real.close(fds[i]);
}

/* Not negotiated yet: the connection starts here as at accept (its
 * banner window anew), the client's first bytes still in the kernel. */
static int start_fresh(struct ho_word *w, const struct mps_xs *x, const struct mps_xs_sf *sf,
                       struct mps_sock *s, const int *fds, int nfd)
{
	struct mps_conn_params p;
	uint32_t v = HO_EXEC;
	int i;

	memset(&p, 0, sizeof(p));
	p.role = MPS_SERVER;
	p.tcp_fd = sf[0].fd;
	p.shim_fd = x->shim_fd;
	p.app_dup = -1;
	p.sock = s;
	p.exec_carried = 1;
	if (mps_loop_ensure() != 0) {
		refuse(w, x->peer_str, "no shim thread can run here", fds, nfd);
		return 0;
	}
	atomic_store(&w->child, (int32_t)getpid());
	if (!atomic_compare_exchange_strong(&w->state, &v, HO_ADOPTED)) {
		refuse(w, x->peer_str, "too late: the parent kept it", fds, nfd);
		return 0;
	}
	for (i = 0; i < nfd; i++) {
		mps_real.fcntl(fds[i], F_SETFD, FD_CLOEXEC);
		mps_ifd_add(fds[i]);
	}
	atomic_store(&s->remote, 0);
	/* a plain client's TCP socket is not handed back here (handback.h):
	 * the swap knows the descriptors an accept made, not the numbers
	 * the exec'ing program moved the app's end to */
	atomic_store(&s->handback, MPS_HB_DONE);
	mps_stat(NULL, NULL, MPS_MIB_EXEC_ADOPTED, 1);
	mps_info("conn %s: carried across exec before its negotiation (this process services "
	         "it now)",
	         x->peer_str);
	if (mps_conn_start(&p) != 0)
		mps_warn("exec: conn %s: carried across exec but not started", x->peer_str);
	return 1;
}

static int parse_fds(const char *v, int *sfd, int *wfd)
{
	char *end;
	long a, b;

	a = strtol(v, &end, 10);
	if (end == v || *end != ':' || a < 0 || a > 0x7fffffff)
		return -1;
	v = end + 1;
	b = strtol(v, &end, 10);
	if (end == v || *end || b < 0 || b > 0x7fffffff)
		return -1;
	*sfd = (int)a;
	*wfd = (int)b;
	return 0;
}

int mps_handexec_adopt(struct mps_conn **out)
{
	char val[64];
	int sfd, wfd, fds[1 + MPS_XS_MAX_SF], nfd = 0, seals;
	uint32_t i, v = HO_EXEC;
	struct ho_word *w = NULL;
	struct stat st;
	uint8_t *buf = NULL;
	struct mps_xs x;
	struct mps_xs_sf sf[MPS_XS_MAX_SF];
	const uint8_t *sb, *rx, *rbuf;
	const char *why = NULL, *peer = "?";
	struct found f = {0};
	struct mps_conn *c;
	long pg = sysconf(_SC_PAGESIZE);
	int adopted = 0;

	*out = NULL;
	if (!mps_config_take_execstate(val, sizeof(val)))
		return 0;
	if (parse_fds(val, &sfd, &wfd)) {
		mps_warn("exec: ignoring a malformed %s", mps_env_execstate);
		return 0;
	}
	/* the word first: whatever else fails, the parent hears it */
	if (fstat(wfd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(*w) ||
	    (w = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0)) ==
	            MAP_FAILED) {
		w = NULL;
		why = "its offer's word cannot be mapped";
		goto bad;
	}
	if (atomic_load(&w->state) != HO_EXEC) {
		why = "its offer is not being exec'd";
		goto bad;
	}
	seals = mps_real.fcntl(sfd, F_GET_SEALS);
	if (fstat(sfd, &st) != 0 || !S_ISREG(st.st_mode) || seals < 0 ||
	    (seals & XS_SEALS) != XS_SEALS || st.st_size < (off_t)sizeof(x) ||
	    st.st_size > (off_t)mps_xs_size(MPS_XS_MAX_SF, MPS_XS_MAX_BUF, MPS_XS_MAX_BUF,
	                                    (uint64_t)MPS_XS_MAX_SF * MPS_XS_MAX_RBUF)) {
		why = "not a sealed memfd of a state's size";
		goto bad;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf || pread(sfd, buf, (size_t)st.st_size, 0) != st.st_size) {
		why = "cannot read it";
		goto bad;
	}
	if (mps_xs_decode(buf, (size_t)st.st_size, &x, sf, &sb, &rx, &rbuf, &why))
		goto bad;
	peer = x.peer_str;
	if (!fd_is(x.shim_fd, x.shim_ino, 1)) {
		why = "the shim's end is not the descriptor named";
		goto bad;
	}
	fds[nfd++] = x.shim_fd;
	for (i = 0; i < x.nsf; i++) {
		if (!fd_is(sf[i].fd, sf[i].ino, 0)) {
			why = "a subflow is not the descriptor named";
			goto bad;
		}
		fds[nfd++] = sf[i].fd;
	}
	f.ino = x.sock_ino;
	mps_fdtab_each(find_sock, &f);
	if (!f.s) {
		why = "the app's end was not inherited";
		goto bad;
	}
	if (x.fresh) {
		adopted = start_fresh(w, &x, sf, f.s, fds, nfd);
		goto out;
	}
	c = build(&x, sf, sb, rx, rbuf, f.s, &why);
	if (!c)
		goto bad;
	if (mps_loop_ensure() != 0) {
		why = "no shim thread can run here";
		goto bad_c;
	}
	atomic_store(&w->child, (int32_t)getpid());
	if (!atomic_compare_exchange_strong(&w->state, &v, HO_ADOPTED)) {
		why = "too late: the parent kept it";
		goto bad_c;
	}
	for (i = 0; i < (uint32_t)nfd; i++) {
		mps_real.fcntl(fds[i], F_SETFD, FD_CLOEXEC);
		mps_ifd_add(fds[i]);
	}
	pthread_mutex_lock(&f.s->lock);
	f.s->conn = c;
	pthread_mutex_unlock(&f.s->lock);
	atomic_store(&f.s->remote, 0);
	*out = c; /* the caller starts it on the shim thread (mps_handexec_resume) */
	mps_dbg("exec: conn %s: state of %u bytes adopted (%u subflow(s), %u bytes to send, %u "
	        "for the app)",
	        c->peer_str, x.size, x.nsf, x.sb_len, x.rx_len);
	f.s = NULL; /* the connection holds the reference */
	adopted = 1;
	goto out;
bad_c:
	for (i = 0; i < (uint32_t)c->nsf; i++) {
		free(c->sf[i]->rbuf);
		free(c->sf[i]);
	}
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_free(&c->rxq);
	mps_ofo_free(&c->ofo);
	free(c);
bad:
	refuse(w, peer, why, fds, nfd);
out:
	if (f.s)
		mps_sock_put(f.s);
	free(buf);
	if (w)
		munmap(w, (size_t)pg);
	mps_real.close(sfd);
	mps_real.close(wfd);
	return adopted;
}
