/* execstate.c - the byte format of connections carried across exec (see
 * execstate.h): written by handover_exec.c at exec, checked here before
 * the new image believes a byte of it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine_types.h"
#include "mptcpshim/execstate.h"

#define HDR_LEN (4 + 4 + 8 + 4 + 4 + 5 * 8 + 4)
#define OFF_TOTAL 8
#define OFF_NCONN (HDR_LEN - 4)

void mps_xs_put(struct mps_xs_buf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void mps_xs_put_u32(struct mps_xs_buf *b, uint32_t v)
{
	mps_xs_put(b, &v, sizeof(v));
}

void mps_xs_put_i32(struct mps_xs_buf *b, int32_t v)
{
	mps_xs_put(b, &v, sizeof(v));
}

void mps_xs_put_u64(struct mps_xs_buf *b, uint64_t v)
{
	mps_xs_put(b, &v, sizeof(v));
}

void mps_xs_put_f64(struct mps_xs_buf *b, double v)
{
	mps_xs_put(b, &v, sizeof(v));
}

void mps_xs_begin(struct mps_xs_buf *b, const struct mps_xs_lib *lib)
{
	memset(b, 0, sizeof(*b));
	mps_xs_put_u32(b, MPS_XS_MAGIC);
	mps_xs_put_u32(b, MPS_XS_VERSION);
	mps_xs_put_u64(b, 0); /* total, at finish */
	mps_xs_put_u32(b, (uint32_t)sizeof(struct mps_conn));
	mps_xs_put_u32(b, (uint32_t)sizeof(struct mps_subflow));
	mps_xs_put_u64(b, lib->dev);
	mps_xs_put_u64(b, lib->ino);
	mps_xs_put_u64(b, lib->size);
	mps_xs_put_u64(b, lib->mtime_ns);
	mps_xs_put_u64(b, lib->base);
	mps_xs_put_u32(b, 0); /* records, at finish */
}

void mps_xs_rec_begin(struct mps_xs_buf *b)
{
	b->nconn++;
}

int mps_xs_finish(struct mps_xs_buf *b)
{
	uint64_t total = b->len;

	if (b->err) {
		free(b->p);
		b->p = NULL;
		return -1;
	}
	memcpy(b->p + OFF_TOTAL, &total, sizeof(total));
	memcpy(b->p + OFF_NCONN, &b->nconn, sizeof(b->nconn));
	return 0;
}

/* ---- decoding ---- */

struct rd {
	const uint8_t *p;
	size_t left;
	int bad;
};

static const uint8_t *take(struct rd *r, uint64_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->left -= (size_t)n;
	return p;
}

static uint32_t get_u32(struct rd *r)
{
	const uint8_t *p = take(r, 4);
	uint32_t v = 0;

	if (p)
		memcpy(&v, p, 4);
	return v;
}

static uint64_t get_u64(struct rd *r)
{
	const uint8_t *p = take(r, 8);
	uint64_t v = 0;

	if (p)
		memcpy(&v, p, 8);
	return v;
}

static double get_f64(struct rd *r)
{
	const uint8_t *p = take(r, 8);
	double v = 0;

	if (p)
		memcpy(&v, p, 8);
	return v;
}

static int get_fd(struct rd *r, struct mps_xs_fd *f)
{
	f->fd = (int32_t)get_u32(r);
	f->ino = get_u64(r);
	return r->bad || f->fd < 0 || f->ino == 0 ? -1 : 0;
}

/* [una, una + len) as the structure's own bounds say, no overflow. */
static int queue_ok(const struct mps_sendbuf *q, uint64_t una, uint64_t len)
{
	return una + len >= una && q->una == una && q->end == una + len;
}

/* What the structures say, against what the record holds. */
static const char *conn_check(const struct mps_xs_rec *x, struct mps_conn *c)
{
	uint32_t i;

	memcpy(c, x->conn, sizeof(*c));
	if (c->nsf < 1 || (uint32_t)c->nsf != x->nsf)
		return "subflow count";
	if (c->nparked != 0 || c->gw || c->ofo.bytes || c->ofo.nsegs)
		return "state the new image cannot rebuild";
	if (c->state < MPS_CONN_ESTABLISHED || c->state >= MPS_CONN_CLOSED)
		return "connection state";
	if (!queue_ok(&c->sb, x->sb_una, x->sb_len) || !queue_ok(&c->rxq, x->rxq_una, x->rxq_len))
		return "queue bounds";
	if (x->sb_len > c->sb.limit || x->rxq_len > c->rxq.limit)
		return "queue length";
	if (c->tx_mode != TX_HOLD &&
	    !(x->sb_una <= c->snd_una && c->snd_una <= c->snd_nxt && c->snd_nxt <= c->snd_max &&
	      c->snd_max <= x->sb_una + x->sb_len))
		return "send DSN order";
	if (x->ack_idx < -1 || x->ack_idx >= (int32_t)x->nsf)
		return "ACK subflow";
	for (i = 0; i < x->nsf; i++) {
		struct mps_subflow sf;

		memcpy(&sf, x->sfraw[i], sizeof(sf));
		if (sf.nseg != 0 || sf.queued != 0 || sf.rlen != x->rlen[i] || sf.roff > sf.rlen ||
		    sf.state >= SF_DEAD)
			return "subflow state";
	}
	return NULL;
}

static int rec_decode(struct rd *r, struct mps_xs_rec *x, const char **why)
{
	struct mps_conn *c;
	uint32_t i;
	int32_t nsf;

	memset(x, 0, sizeof(*x));
	x->parent = (int32_t)get_u32(r);
	x->t0 = get_f64(r);
	if (get_fd(r, &x->word) || (x->app_ino = get_u64(r)) == 0 || get_fd(r, &x->shim))
		return *why = "descriptors", -1;
	x->ack_idx = (int32_t)get_u32(r);
	x->nwas = get_u32(r);
	if (r->bad || x->nwas > MPS_XS_MAXW)
		return *why = "watcher count", -1;
	x->was = take(r, x->nwas);
	x->conn = take(r, sizeof(struct mps_conn));
	if (!x->conn)
		return *why = "truncated", -1;
	memcpy(&nsf, x->conn + offsetof(struct mps_conn, nsf), sizeof(nsf));
	if (nsf < 1 || nsf > MPS_MAX_SUBFLOWS)
		return *why = "subflow count", -1;
	x->nsf = (uint32_t)nsf;
	for (i = 0; i < x->nsf; i++) {
		if (get_fd(r, &x->sf[i]))
			return *why = "subflow descriptor", -1;
		x->sfraw[i] = take(r, sizeof(struct mps_subflow));
		x->rlen[i] = get_u32(r);
		if (r->bad || x->rlen[i] > RBUF_SIZE)
			return *why = "receive buffer", -1;
		x->rbuf[i] = take(r, x->rlen[i]);
	}
	x->sb_una = get_u64(r);
	x->sb_len = get_u64(r);
	x->sb = take(r, x->sb_len);
	x->rxq_una = get_u64(r);
	x->rxq_len = get_u64(r);
	x->rxq = take(r, x->rxq_len);
	if (r->bad)
		return *why = "truncated", -1;
	c = malloc(sizeof(*c));
	if (!c)
		return *why = "out of memory", -1;
	*why = conn_check(x, c);
	free(c);
	return *why ? -1 : 0;
}

int mps_xs_decode(const uint8_t *buf, size_t len, struct mps_xs_hdr *h, struct mps_xs_rec *recs,
                  int max, const char **why)
{
	struct rd r = {buf, len, 0};
	uint32_t i;

	memset(h, 0, sizeof(*h));
	*why = NULL;
	if (len < HDR_LEN)
		return *why = "truncated", -1;
	if (get_u32(&r) != MPS_XS_MAGIC)
		return *why = "magic", -1;
	if (get_u32(&r) != MPS_XS_VERSION)
		return *why = "version", -1;
	if (get_u64(&r) != len)
		return *why = "length", -1;
	if (get_u32(&r) != sizeof(struct mps_conn) || get_u32(&r) != sizeof(struct mps_subflow))
		return *why = "structure sizes (another build)", -1;
	h->lib.dev = get_u64(&r);
	h->lib.ino = get_u64(&r);
	h->lib.size = get_u64(&r);
	h->lib.mtime_ns = get_u64(&r);
	h->lib.base = get_u64(&r);
	h->nconn = get_u32(&r);
	if (h->nconn < 1 || h->nconn > MPS_XS_MAX_CONNS || (int)h->nconn > max)
		return *why = "record count", -1;
	for (i = 0; i < h->nconn; i++)
		if (rec_decode(&r, &recs[i], why))
			return -1;
	if (r.left)
		return *why = "trailing bytes", -1;
	return (int)h->nconn;
}
