/* handover_exec.c - a forked child that execs carries its connection into
 * the new image (issue 12 step 5: inetd, sshd -R; docs/DESIGN.md
 * "Process model", step 5).
 *
 * At the exec (the hook, g_lock held, in the child the offers were made
 * to), an offer the parent gave up (TAKEN) whose app end survives the exec
 * is written out (execstate.h: the connection's and its subflows'
 * structures as the fork left them, the receive buffers, the send buffer
 * and the receive queue), its word goes to HO_EXEC, and its descriptors
 * (shim end, subflows, the word's memfd) lose close-on-exec for this exec.
 * Nobody services the connection meanwhile: the parent stopped it at the
 * fork, and this child never adopted it, so the state is exact.  The new
 * image's constructor checks everything, rebuilds the connection on its
 * own shim thread and writes ADOPTED; the parent then forgets its copies.
 * A new image that does not (not under the shim, another library build,
 * secure-exec) leaves the word at HO_EXEC, and the parent keeps the
 * connection at HO_EXEC_BOUND. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn_int.h"
#include "handover_int.h"
#include "join_int.h"
#include "path_int.h"
#include "steer_int.h"
#include "sfev_int.h"
#include "subflow_int.h"
#include "mptcpshim/execstate.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"

#define XS_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define XS_MAX_BYTES (1ull << 30)

static struct ho_offer *g_carried[MPS_XS_MAX_CONNS]; /* this exec's, until it returns */
static int g_ncarried, g_xsfd = -1;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t ino_of(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* The library's file and where it is loaded: the new image must run the
 * very same build to read the structures. */
static int lib_identity(struct mps_xs_lib *l)
{
	Dl_info di;
	struct stat st;

	memset(l, 0, sizeof(*l));
	if (!dladdr((void *)lib_identity, &di) || !di.dli_fname || stat(di.dli_fname, &st) != 0)
		return -1;
	l->dev = (uint64_t)st.st_dev;
	l->ino = (uint64_t)st.st_ino;
	l->size = (uint64_t)st.st_size;
	l->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	l->base = (uint64_t)(uintptr_t)di.dli_fbase;
	return 0;
}

/* ---- the exec'ing child ---- */

struct survive {
	const struct mps_sock *s;
	int n;
};

static int survives_one(int fd, struct mps_sock *s, void *arg)
{
	struct survive *a = arg;
	int fl;

	if (s != a->s)
		return 0;
	fl = mps_real.fcntl(fd, F_GETFD);
	a->n += fl >= 0 && !(fl & FD_CLOEXEC);
	return a->n > 0;
}

static const char *not_carryable(const struct mps_conn *c)
{
	struct survive a = {c->sock, 0};
	int i;

	mps_fdtab_each(survives_one, &a);
	if (!a.n)
		return "its descriptors are close-on-exec";
	if (c->gw || c->nparked || c->ofo.bytes || c->ofo.nsegs || mps_conn_closed(c))
		return "its state is not carried (gateway, parked subflows, out-of-order data)";
	for (i = 0; i < c->nsf; i++)
		if (c->sf[i]->nseg || c->sf[i]->queued || c->sf[i]->c != c)
			return "frames are queued on a subflow";
	return NULL;
}

static void put_queue(struct mps_xs_buf *b, const struct mps_sendbuf *q)
{
	uint64_t dsn = q->una;

	mps_xs_put_u64(b, q->una);
	mps_xs_put_u64(b, q->end - q->una);
	while (dsn < q->end && !b->err) {
		const uint8_t *p;
		size_t n = mps_sendbuf_peek(q, dsn, (size_t)(q->end - dsn), &p);

		if (!n) {
			b->err = 1; /* a hole: cannot be */
			break;
		}
		mps_xs_put(b, p, n);
		dsn += n;
	}
}

static void put_rec(struct mps_xs_buf *b, struct ho_offer *o)
{
	struct mps_conn *c = o->c;
	ev_watcher *w[HO_MAXW];
	uint8_t io[HO_MAXW];
	int nw = mps_ho_watchers(c, w, io), i, ack = -1;

	for (i = 0; i < c->nsf; i++)
		if (c->sf[i] == c->ack_sf)
			ack = i;
	mps_xs_rec_begin(b);
	mps_xs_put_i32(b, (int32_t)o->parent);
	mps_xs_put_f64(b, o->t0);
	mps_xs_put_i32(b, o->wfd);
	mps_xs_put_u64(b, ino_of(o->wfd));
	mps_xs_put_u64(b, (uint64_t)c->sock->ino);
	mps_xs_put_i32(b, c->app_fd);
	mps_xs_put_u64(b, ino_of(c->app_fd));
	mps_xs_put_i32(b, ack);
	mps_xs_put_u32(b, (uint32_t)nw);
	mps_xs_put(b, o->was, (size_t)nw);
	/* The range sets go as they are in the image: inline (a superset). */
	mps_ranges_squeeze(&c->reinj);
	mps_xs_put(b, c, sizeof(*c));
	for (i = 0; i < c->nsf; i++) {
		struct mps_subflow *sf = c->sf[i];

		mps_ranges_squeeze(&sf->sent);
		mps_xs_put_i32(b, sf->fd);
		mps_xs_put_u64(b, ino_of(sf->fd));
		mps_xs_put(b, sf, sizeof(*sf));
		mps_xs_put_u32(b, (uint32_t)sf->rlen);
		mps_xs_put(b, sf->rbuf, sf->rlen);
	}
	put_queue(b, &c->sb);
	put_queue(b, &c->rxq);
}

/* The descriptors of a carried offer: close-on-exec off (on: 1). */
static void set_cloexec(struct ho_offer *o, int on)
{
	int fd[HO_MAXFD], n = mps_ho_conn_fds(o->c, fd), i;

	fd[n++] = o->wfd;
	for (i = 0; i < n; i++)
		mps_real.fcntl(fd[i], F_SETFD, on ? FD_CLOEXEC : 0);
}

/* The parent closed its copy (TAKEN), or 0 once it kept it or the bound
 * passed (as child_decide in handover.c). */
static int taken(struct ho_offer *o)
{
	const struct timespec tick = {0, 200000};
	uint32_t v;

	while ((v = atomic_load(&o->w->state)) == HO_OFFERED && mono() - o->t0 < HO_BOUND + 0.05)
		nanosleep(&tick, NULL);
	return v == HO_TAKEN;
}

static void give_back(struct ho_offer *o)
{
	uint32_t v = HO_OFFERED;

	if (!atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT)) {
		v = HO_TAKEN;
		atomic_compare_exchange_strong(&o->w->state, &v, HO_KEPT);
	}
}

static void exec_failed(void);

static int write_state(struct mps_xs_buf *b)
{
	int fd = memfd_create("mptcpshim-execstate", MFD_ALLOW_SEALING);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < b->len) {
		ssize_t n = mps_real.write(fd, b->p + off, b->len - off);

		if (n <= 0 && errno != EINTR) {
			mps_real.close(fd);
			return -1;
		}
		off += n > 0 ? (size_t)n : 0;
	}
	if (mps_real.fcntl(fd, F_ADD_SEALS, XS_SEALS | F_SEAL_SEAL) != 0) {
		mps_real.close(fd);
		return -1;
	}
	return fd;
}

/* Can the new image adopt at all?  Not a setuid or setgid program (its
 * library ignores the state: secure-execution), and our library must be
 * preloaded there (LD_PRELOAD naming it, or a system-wide preload).
 * Otherwise the parent would keep the connection only at HO_EXEC_BOUND;
 * given back now, it keeps it at once.  (A static program is not told
 * apart: it costs that wait.) */
static int image_may_adopt(const char *path, char *const envp[])
{
	Dl_info di;
	const char *name;
	struct stat st;
	int i;

	if (path && stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
		return 0;
	if (!dladdr((void *)image_may_adopt, &di) || !di.dli_fname)
		return 0;
	name = strrchr(di.dli_fname, '/');
	name = name ? name + 1 : di.dli_fname;
	for (i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], "LD_PRELOAD=", 11) && strstr(envp[i] + 11, name))
			return 1;
	return access("/etc/ld.so.preload", F_OK) == 0;
}

static int exec_carry(struct ho_offer *list, int carry)
{
	struct mps_xs_buf b;
	struct mps_xs_lib lib;
	struct ho_offer *o;
	int i;

	g_ncarried = 0;
	g_xsfd = -1;
	if (!list)
		return -1;
	if (!carry || !mps_config()->handover_exec || lib_identity(&lib) != 0) {
		for (o = list; o; o = o->next)
			give_back(o);
		return -1;
	}
	mps_xs_begin(&b, &lib);
	for (o = list; o; o = o->next) {
		const char *why = o->wfd < 0 ? "no memfd for its word" : not_carryable(o->c);
		uint32_t v = HO_TAKEN;

		if (why || g_ncarried == MPS_XS_MAX_CONNS || !taken(o) ||
		    !atomic_compare_exchange_strong(&o->w->state, &v, HO_EXEC)) {
			if (why)
				mps_dbg("conn %s: not carried across exec: %s", o->c->peer_str,
				        why);
			give_back(o);
			continue;
		}
		put_rec(&b, o);
		g_carried[g_ncarried++] = o;
	}
	if (!g_ncarried) {
		free(b.p);
		return -1;
	}
	if (mps_xs_finish(&b) == 0)
		g_xsfd = write_state(&b);
	free(b.p);
	if (g_xsfd < 0) {
		mps_warn("exec: cannot carry %d connection(s) into the new image", g_ncarried);
		exec_failed();
		for (i = 0; i < g_ncarried; i++)
			give_back(g_carried[i]);
		g_ncarried = 0;
		return -1;
	}
	for (i = 0; i < g_ncarried; i++)
		set_cloexec(g_carried[i], 0);
	mps_dbg("exec: %d connection(s) carried into the new image", g_ncarried);
	return g_xsfd;
}

static void exec_failed(void)
{
	int i;

	for (i = 0; i < g_ncarried; i++) {
		uint32_t v = HO_EXEC;

		set_cloexec(g_carried[i], 1);
		atomic_compare_exchange_strong(&g_carried[i]->w->state, &v, HO_TAKEN);
	}
	g_ncarried = 0;
	if (g_xsfd >= 0)
		mps_real.close(g_xsfd);
	g_xsfd = -1;
}

int mps_handover_exec(int carry, const char *path, char *const envp[])
{
	struct ho_offer *child;
	int fd = -1;

	if (mps_ho_lock_child(&child) != 0)
		return -1;
	if (child)
		fd = exec_carry(child, carry && image_may_adopt(path, envp));
	mps_ho_unlock();
	return fd;
}

void mps_handover_exec_failed(void)
{
	struct ho_offer *child;

	if (mps_ho_lock_child(&child) != 0)
		return;
	if (child)
		exec_failed();
	mps_ho_unlock();
}

/* ---- the new image ---- */

static int fd_is(int fd, uint64_t ino)
{
	return fd >= 0 && ino && ino_of(fd) == ino;
}

static void *rebase(const void *p, intptr_t delta)
{
	return p ? (void *)((uintptr_t)p + (uintptr_t)delta) : NULL;
}

typedef void (*watcher_cb)(struct ev_loop *, ev_watcher *, int);

/* The watchers as libev never saw them: their handlers at this image's
 * address of the library, their owners this image's structures. */
static void rewatch(struct mps_conn *c, intptr_t delta)
{
	ev_watcher *w[HO_MAXW];
	uint8_t io[HO_MAXW];
	int n = mps_ho_watchers(c, w, io), i, k;

	for (i = 0; i < n; i++) {
		void *owner = c;
		int pri = ev_priority(w[i]);
		watcher_cb cb;

		for (k = 0; k < c->nsf; k++)
			if ((char *)w[i] >= (char *)c->sf[k] &&
			    (char *)w[i] < (char *)(c->sf[k] + 1))
				owner = c->sf[k];
		cb = (watcher_cb)((uintptr_t)w[i]->cb + (uintptr_t)delta);
		if (io[i]) {
			ev_io *e = (ev_io *)w[i];
			int fd = e->fd, ev = e->events & (EV_READ | EV_WRITE);

			ev_init(w[i], cb);
			ev_io_set(e, fd, ev);
		} else
			ev_init(w[i], cb);
		ev_set_priority(w[i], pri);
		w[i]->data = owner;
	}
}

static int fill_queue(struct mps_sendbuf *q, uint64_t una, const uint8_t *p, uint64_t len)
{
	size_t limit = q->limit;

	mps_sendbuf_init(q, una, limit);
	while (len) {
		struct iovec iov[4];
		int k = mps_sendbuf_reserve(q, iov, 4, (size_t)len), j;
		size_t got = 0;

		if (k <= 0)
			return -1;
		for (j = 0; j < k; j++) {
			memcpy(iov[j].iov_base, p + got, iov[j].iov_len);
			got += iov[j].iov_len;
		}
		mps_sendbuf_commit(q, got);
		p += got;
		len -= got;
	}
	return 0;
}

static struct mps_conn *rebuild(const struct mps_xs_rec *x, intptr_t delta, struct mps_sock *s)
{
	struct mps_conn *c = malloc(sizeof(*c));
	uint32_t i;

	if (!c)
		return NULL;
	memcpy(c, x->conn, sizeof(*c));
	c->nsf = 0;
	c->sock = s;
	c->loop = NULL;
	c->next = c->prev = c->stale_next = c->stale_prev = NULL;
	memset(&c->start_cmd, 0, sizeof(c->start_cmd));
	c->ccg = NULL; /* congestion state restarts */
	c->gw_frame = NULL;
	c->gw_addrs = NULL;
	mps_ranges_rehome(&c->reinj); /* squeezed by put_rec */
	c->pol = NULL; /* matched again below, against the policy as this image reads it */
	c->nego.why = rebase(c->nego.why, delta);
	c->sched.ops = rebase(c->sched.ops, delta);
	c->app_fd = x->shim.fd;
	c->exec_carried = 1;
	c->ack_sf = NULL;
	memset(&c->sb, 0, sizeof(c->sb));
	memset(&c->rxq, 0, sizeof(c->rxq));
	memcpy(&c->sb.limit, x->conn + offsetof(struct mps_conn, sb.limit), sizeof(c->sb.limit));
	memcpy(&c->rxq.limit, x->conn + offsetof(struct mps_conn, rxq.limit), sizeof(c->rxq.limit));
	mps_ofo_init(&c->ofo, c->rcv_wnd_max, c->ofo.max_segs);
	if (mps_steer_match(c) != 0 || fill_queue(&c->sb, x->sb_una, x->sb, x->sb_len) ||
	    fill_queue(&c->rxq, x->rxq_una, x->rxq, x->rxq_len))
		goto fail;
	for (i = 0; i < x->nsf; i++) {
		struct mps_subflow *sf = malloc(sizeof(*sf));

		if (!sf || !(sf->rbuf = mps_sf_rbuf_alloc())) {
			free(sf);
			goto fail;
		}
		{
			uint8_t *rbuf = sf->rbuf;

			memcpy(sf, x->sfraw[i], sizeof(*sf));
			sf->rbuf = rbuf;
		}
		memcpy(sf->rbuf, x->rbuf[i], x->rlen[i]);
		sf->c = c;
		sf->fd = x->sf[i].fd;
		sf->jnext = NULL;
		sf->seg = NULL;               /* nothing was queued (not_carryable) */
		mps_ranges_rehome(&sf->sent); /* squeezed by put_rec */
		c->sf[c->nsf++] = sf;
		if (sf->state != SF_ACTIVE && mps_sf_seg_prepare(sf) != 0)
			goto fail; /* a handshake's frame must find its table */
	}
	if (x->ack_idx >= 0)
		c->ack_sf = c->sf[x->ack_idx];
	rewatch(c, delta);
	return c;
fail:
	for (i = 0; i < (uint32_t)c->nsf; i++)
		mps_sf_destroy(c->sf[i]);
	mps_ranges_free(&c->reinj);
	free(c->pol);
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_free(&c->rxq);
	mps_ofo_free(&c->ofo);
	free(c);
	return NULL;
}

struct find_ino {
	uint64_t ino;
	struct mps_sock *s;
};

static int find_sock(int fd, struct mps_sock *s, void *arg)
{
	struct find_ino *a = arg;

	(void)fd;
	if ((uint64_t)s->ino != a->ino)
		return 0;
	a->s = s;
	mps_sock_get(s);
	return 1;
}

/* Adoptions submitted by the constructor, and run by the shim thread. */
static int g_submitted;
static atomic_int g_done;

static void adopted_on_thread(struct ev_loop *loop, void *arg)
{
	struct ho_offer *o = arg;

	/* a new image: nothing registered the engine's tables yet (connect.c's
	 * conn_begin does, for a connection it starts) */
	mps_sf_set_ops(&mps_conn_sf_ops);
	mps_join_set_attach(mps_conn_attach_join);
	mps_conn_set_hooks(&mps_conn_engine_hooks);
	mps_conn_set_pm(&mps_conn_pm_ops);
	mps_stat_renumber(o->c);
	mps_stat(o->c, NULL, MPS_MIB_EXEC_ADOPTED, 1);
	mps_ho_adopt_on_thread(loop, arg);
	atomic_fetch_add(&g_done, 1);
}

/* The record's descriptors, each checked by inode: 0, or -1. */
static int rec_fds(const struct mps_xs_rec *x, int *fd, int *n)
{
	uint32_t i;

	*n = 0;
	if (!fd_is(x->word.fd, x->word.ino) || !fd_is(x->shim.fd, x->shim.ino))
		return -1;
	fd[(*n)++] = x->shim.fd;
	for (i = 0; i < x->nsf; i++) {
		if (!fd_is(x->sf[i].fd, x->sf[i].ino))
			return -1;
		fd[(*n)++] = x->sf[i].fd;
	}
	return 0;
}

static void adopt_rec(const struct mps_xs_rec *x, intptr_t delta)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct find_ino f = {x->app_ino, NULL};
	struct mps_conn *c = NULL;
	struct ho_offer *o = NULL;
	struct ho_word *w;
	int fd[1 + MPS_MAX_SUBFLOWS], n, i;
	uint32_t v = HO_EXEC;

	if (rec_fds(x, fd, &n) != 0) {
		mps_info("exec: a carried connection's descriptors are gone: left to process %d",
		         (int)x->parent);
		return; /* nothing here is surely ours: the parent keeps it at its bound */
	}
	w = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, x->word.fd, 0);
	if (w == MAP_FAILED)
		goto drop;
	mps_fdtab_each(find_sock, &f);
	if (f.s)
		c = rebuild(x, delta, f.s);
	o = calloc(1, sizeof(*o));
	if (!c || !o || mps_loop_ensure() != 0 ||
	    !atomic_compare_exchange_strong(&w->state, &v, HO_ADOPTED)) {
		v = HO_EXEC;
		atomic_compare_exchange_strong(&w->state, &v, HO_KEPT);
		mps_info("exec: a carried connection stays with process %d", (int)x->parent);
		munmap(w, pg);
		free(o);
		if (c) {
			c->sock = NULL;
			for (i = 0; i < c->nsf; i++)
				mps_sf_destroy(c->sf[i]);
			mps_ranges_free(&c->reinj);
			free(c->pol);
			mps_sendbuf_free(&c->sb);
			mps_sendbuf_free(&c->rxq);
			free(c);
		}
		if (f.s)
			mps_sock_put(f.s);
		goto drop;
	}
	atomic_store(&w->child, (int32_t)getpid());
	for (i = 0; i < n; i++) {
		mps_ifd_add(fd[i]);
		mps_real.fcntl(fd[i], F_SETFD, FD_CLOEXEC);
	}
	mps_ifd_add(x->word.fd);
	mps_real.fcntl(x->word.fd, F_SETFD, FD_CLOEXEC);
	pthread_mutex_lock(&f.s->lock);
	f.s->conn = c;
	pthread_mutex_unlock(&f.s->lock);
	atomic_store(&f.s->remote, 0);
	atomic_store(&mps_handover_adopter, (int)getpid());
	o->c = c;
	o->w = w;
	o->wfd = x->word.fd;
	o->t0 = x->t0;
	o->parent = (pid_t)x->parent;
	memcpy(o->was, x->was, x->nwas);
	o->cmd.fn = adopted_on_thread;
	o->cmd.arg = o;
	if (mps_loop_submit(&o->cmd) != 0)
		mps_warn("conn %s: carried across exec but not started", c->peer_str);
	else
		g_submitted++;
	return;
drop:
	/* the parent services it: our copies go, without a wire action */
	for (i = 0; i < n; i++)
		mps_real.close(fd[i]);
	mps_real.close(x->word.fd);
}

static void adopt_buf(const uint8_t *buf, size_t len)
{
	static struct mps_xs_rec recs[MPS_XS_MAX_CONNS];
	struct mps_xs_hdr h;
	struct mps_xs_lib lib;
	const char *why;
	int n = mps_xs_decode(buf, len, &h, recs, MPS_XS_MAX_CONNS, &why), i;

	if (n < 0) {
		mps_warn("exec: ignoring the carried connections' state (%s)", why);
		return;
	}
	if (lib_identity(&lib) != 0 || lib.dev != h.lib.dev || lib.ino != h.lib.ino ||
	    lib.size != h.lib.size || lib.mtime_ns != h.lib.mtime_ns) {
		mps_info("exec: carried connections come from another build of the library: left "
		         "to their process");
		return;
	}
	for (i = 0; i < n; i++)
		adopt_rec(&recs[i], (intptr_t)(lib.base - h.lib.base));
}

/* The program starts only once its shim thread has made the descriptors
 * the adoption needs (hup set, join listener, netlink socket) and moved
 * them out of its range: sshd calls closefrom() first thing, which would
 * otherwise close one the thread has just made at a low number, before
 * it is ours ("cannot watch the app's descriptor", 1 run in 5). */
static void wait_adopted(void)
{
	const struct timespec tick = {0, 100000};
	double t0 = mono();

	while (atomic_load(&g_done) < g_submitted && mono() - t0 < HO_BOUND * 10)
		nanosleep(&tick, NULL);
}

void mps_handover_exec_adopt(void)
{
	int fd = mps_config_take_execstate();
	struct stat st;
	void *p;

	if (fd < 0)
		return;
	if (mps_config()->disabled || ino_of(fd) == 0 || fstat(fd, &st) != 0 ||
	    (mps_real.fcntl(fd, F_GET_SEALS) & XS_SEALS) != XS_SEALS || st.st_size <= 0 ||
	    (uint64_t)st.st_size > XS_MAX_BYTES) {
		mps_warn("exec: ignoring %s (not a sealed memfd)", mps_env_execstate);
		return;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED) {
		adopt_buf(p, (size_t)st.st_size);
		munmap(p, (size_t)st.st_size);
	}
	mps_real.close(fd);
	wait_adopted();
}
