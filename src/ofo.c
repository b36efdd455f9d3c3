/* ofo.c - the receiver's out-of-order queue.  Pure: no I/O.
 *
 * Two parts:
 *  - the bytes, in a ring of fixed-size chunks indexed by DSN: the byte at
 *    DSN d sits at ring position base_pos + (d - base), modulo the ring.
 *    Everything held lies in [base, base + ring), ring >= the window, so
 *    positions never collide; merging two ranges moves no byte.  A chunk
 *    is allocated when a byte lands in it and freed when its last byte is
 *    delivered, so memory follows what is held, up to the window.
 *  - the ranges held, [start, end), disjoint and never touching (adjacent
 *    ones are merged), in an AVL tree keyed by start (nodes in one array,
 *    linked by index, recycled through a free list: no malloc per range).
 * DSNs compare modulo 2^64 as offsets from base: everything held lies
 * within the window of base, far below 2^63.  Overlaps are resolved on
 * arrival: only the bytes in gaps are copied, so a reinjected or redundant
 * copy costs nothing and consumers never see a byte twice. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/ofo.h"
#include "mptcpshim/sendbuf.h"

struct mps_ofo_node {
	uint64_t start, end;
	uint32_t left, right;
	int32_t height;
};

_Static_assert(sizeof(struct mps_ofo_node) == MPS_OFO_NODE_COST, "MPS_OFO_NODE_COST is stale");

#define N(q, i) ((q)->nodes[(i)])

/* ---------------------------------------------------------------- ring */

static size_t ring_pos(const struct mps_ofo *q, uint64_t dsn)
{
	size_t pos = q->base_pos + (size_t)(dsn - q->base);

	return pos >= q->ring ? pos - q->ring : pos;
}

/* Chunks for [dsn, end) exist (allocating what is missing).  0 or -ENOMEM
 * (chunks allocated so far stay: empty, they change nothing). */
static int ring_reserve(struct mps_ofo *q, uint64_t dsn, uint64_t end)
{
	if (!q->chunk) {
		q->chunk = calloc(q->nchunks, sizeof(*q->chunk));
		q->chunk_used = calloc(q->nchunks, sizeof(*q->chunk_used));
		if (!q->chunk || !q->chunk_used) {
			free(q->chunk);
			free(q->chunk_used);
			q->chunk = NULL;
			q->chunk_used = NULL;
			return -ENOMEM;
		}
	}
	while (mps_dsn_lt(dsn, end)) {
		size_t pos = ring_pos(q, dsn), ci = pos / q->chunk_size;
		size_t n = q->chunk_size - pos % q->chunk_size;

		q->ops++;
		if (!q->chunk[ci] && !(q->chunk[ci] = malloc(q->chunk_size)))
			return -ENOMEM;
		if ((uint64_t)n > end - dsn)
			n = (size_t)(end - dsn);
		dsn += n;
	}
	return 0;
}

/* Copy [dsn, end) (a gap: no byte held there) into the reserved ring. */
static void ring_put(struct mps_ofo *q, uint64_t dsn, uint64_t end, const uint8_t *p)
{
	while (mps_dsn_lt(dsn, end)) {
		size_t pos = ring_pos(q, dsn), ci = pos / q->chunk_size, off = pos % q->chunk_size;
		size_t n = q->chunk_size - off;

		q->ops++;
		if ((uint64_t)n > end - dsn)
			n = (size_t)(end - dsn);
		memcpy(q->chunk[ci] + off, p, n);
		q->chunk_used[ci] += (uint32_t)n;
		q->bytes += n;
		p += n;
		dsn += n;
	}
}

/* [dsn, end) is no longer held: free the chunks left empty. */
static void ring_release(struct mps_ofo *q, uint64_t dsn, uint64_t end)
{
	while (mps_dsn_lt(dsn, end)) {
		size_t pos = ring_pos(q, dsn), ci = pos / q->chunk_size;
		size_t n = q->chunk_size - pos % q->chunk_size;

		q->ops++;
		if ((uint64_t)n > end - dsn)
			n = (size_t)(end - dsn);
		q->chunk_used[ci] -= (uint32_t)n;
		q->bytes -= n;
		if (q->chunk_used[ci] == 0) {
			free(q->chunk[ci]);
			q->chunk[ci] = NULL;
		}
		dsn += n;
	}
}

/* ---------------------------------------------------------------- tree */

static uint64_t key(const struct mps_ofo *q, uint64_t dsn)
{
	return dsn - q->base;
}

static int32_t height(const struct mps_ofo *q, uint32_t t)
{
	return t ? N(q, t).height : 0;
}

static void fix_height(struct mps_ofo *q, uint32_t t)
{
	int32_t l = height(q, N(q, t).left), r = height(q, N(q, t).right);

	N(q, t).height = (l > r ? l : r) + 1;
}

static uint32_t rot_right(struct mps_ofo *q, uint32_t t)
{
	uint32_t l = N(q, t).left;

	N(q, t).left = N(q, l).right;
	N(q, l).right = t;
	fix_height(q, t);
	fix_height(q, l);
	return l;
}

static uint32_t rot_left(struct mps_ofo *q, uint32_t t)
{
	uint32_t r = N(q, t).right;

	N(q, t).right = N(q, r).left;
	N(q, r).left = t;
	fix_height(q, t);
	fix_height(q, r);
	return r;
}

static uint32_t balance(struct mps_ofo *q, uint32_t t)
{
	int32_t d;

	fix_height(q, t);
	d = height(q, N(q, t).left) - height(q, N(q, t).right);
	if (d > 1) {
		if (height(q, N(q, N(q, t).left).left) < height(q, N(q, N(q, t).left).right))
			N(q, t).left = rot_left(q, N(q, t).left);
		return rot_right(q, t);
	}
	if (d < -1) {
		if (height(q, N(q, N(q, t).right).right) < height(q, N(q, N(q, t).right).left))
			N(q, t).right = rot_right(q, N(q, t).right);
		return rot_left(q, t);
	}
	return t;
}

/* Insert node n under t.  Once a subtree comes back as high as it was
 * (after its own rotation, if any), nothing above it changes: the walk
 * back up stops rebalancing there, so an insert costs one descent and
 * O(1) amortized rebalancing, not a balance() per level. */
static uint32_t tree_insert(struct mps_ofo *q, uint32_t t, uint32_t n)
{
	uint32_t *side;
	int32_t before;

	q->ops++;
	if (!t)
		return n;
	/* nodes are allocated before the insert: the array does not move */
	side = key(q, N(q, n).start) < key(q, N(q, t).start) ? &N(q, t).left : &N(q, t).right;
	before = height(q, *side);
	*side = tree_insert(q, *side, n);
	if (height(q, *side) == before)
		return t;
	return balance(q, t);
}

static uint32_t tree_remove_min(struct mps_ofo *q, uint32_t t, uint32_t *min)
{
	q->ops++;
	if (!N(q, t).left) {
		*min = t;
		return N(q, t).right;
	}
	N(q, t).left = tree_remove_min(q, N(q, t).left, min);
	return balance(q, t);
}

/* Unlink the node whose start is k (present). */
static uint32_t tree_remove(struct mps_ofo *q, uint32_t t, uint64_t k)
{
	uint64_t tk;

	q->ops++;
	if (!t)
		return 0;
	tk = key(q, N(q, t).start);
	if (k < tk) {
		N(q, t).left = tree_remove(q, N(q, t).left, k);
	} else if (k > tk) {
		N(q, t).right = tree_remove(q, N(q, t).right, k);
	} else {
		uint32_t l = N(q, t).left, r = N(q, t).right, m;

		if (!r)
			return l;
		r = tree_remove_min(q, r, &m);
		N(q, m).left = l;
		N(q, m).right = r;
		return balance(q, m);
	}
	return balance(q, t);
}

/* The range with the greatest start <= dsn, or 0. */
static uint32_t tree_floor(const struct mps_ofo *q, uint64_t dsn)
{
	uint64_t k = dsn - q->base;
	uint32_t t = q->root, best = 0;

	while (t) {
		((struct mps_ofo *)q)->ops++; /* a counter, not state */
		if (key(q, N(q, t).start) <= k) {
			best = t;
			t = N(q, t).right;
		} else {
			t = N(q, t).left;
		}
	}
	return best;
}

/* The range with the smallest start >= dsn, or 0. */
static uint32_t tree_ceil(struct mps_ofo *q, uint64_t dsn)
{
	uint64_t k = dsn - q->base;
	uint32_t t = q->root, best = 0;

	while (t) {
		q->ops++;
		if (key(q, N(q, t).start) >= k) {
			best = t;
			t = N(q, t).left;
		} else {
			t = N(q, t).right;
		}
	}
	return best;
}

static uint32_t tree_min(struct mps_ofo *q)
{
	uint32_t t = q->root;

	while (t && N(q, t).left) {
		q->ops++;
		t = N(q, t).left;
	}
	return t;
}

static void node_free(struct mps_ofo *q, uint32_t n)
{
	N(q, n).left = q->free_list;
	q->free_list = n;
	q->nsegs--;
}

/* A node for a new range: from the free list, else the array grows (by
 * doubling, up to max_segs + 1 entries).  0 when none can be had. */
static uint32_t node_alloc(struct mps_ofo *q)
{
	uint32_t n = q->free_list;

	if (n) {
		q->free_list = N(q, n).left;
		return n;
	}
	if (q->nused == q->ncap) {
		size_t cap = q->ncap ? (size_t)q->ncap * 2 : 64;
		struct mps_ofo_node *nn;

		if (cap > q->max_segs + 1)
			cap = q->max_segs + 1;
		if (cap <= q->ncap)
			return 0;
		nn = realloc(q->nodes, cap * sizeof(*nn));
		if (!nn)
			return 0;
		q->nodes = nn;
		q->ncap = (uint32_t)cap;
		if (q->nused == 0)
			q->nused = 1; /* index 0 means "none" */
	}
	return q->nused++;
}

/* ---------------------------------------------------------------- API */

void mps_ofo_init(struct mps_ofo *q, size_t window, size_t max_segs)
{
	memset(q, 0, sizeof(*q));
	if (window == 0)
		window = 1;
	/* at least 4 chunks, so small windows keep the memory bound tight */
	q->chunk_size = MPS_OFO_CHUNK_MAX;
	while (q->chunk_size > 64 && q->chunk_size * 4 > window)
		q->chunk_size /= 2;
	q->nchunks = (window + q->chunk_size - 1) / q->chunk_size;
	q->ring = q->nchunks * q->chunk_size;
	q->max_segs = max_segs ? max_segs : MPS_OFO_SEGS_FOR(window);
	if (q->max_segs > UINT32_MAX - 2)
		q->max_segs = UINT32_MAX - 2;
}

void mps_ofo_free(struct mps_ofo *q)
{
	size_t i;

	if (q->chunk)
		for (i = 0; i < q->nchunks; i++)
			free(q->chunk[i]);
	free(q->chunk);
	free(q->chunk_used);
	free(q->nodes);
	q->chunk = NULL;
	q->chunk_used = NULL;
	q->nodes = NULL;
	q->ncap = q->nused = q->free_list = q->root = q->last = 0;
	q->bytes = q->nsegs = 0;
	q->base_pos = 0;
	q->started = 0;
}

int mps_ofo_insert(struct mps_ofo *q, uint64_t base, uint64_t dsn, const uint8_t *p, size_t len)
{
	uint64_t end = dsn + (uint64_t)len, lo = base, s, e, cur;
	uint32_t l, r, n;
	int merge, rc, was_last = 0;

	if (len == 0)
		return 0;
	if (q->started && mps_dsn_lt(lo, q->base))
		lo = q->base; /* consumed already */
	if (mps_dsn_le(end, lo))
		return 0;
	if (mps_dsn_lt(dsn, lo)) {
		p += lo - dsn;
		dsn = lo;
	}
	if (q->nsegs == 0) {
		/* Nothing held, nothing pointed at: the ring restarts here. */
		q->base = lo;
		q->base_pos = 0;
		q->started = 1;
	}
	if (end - q->base > (uint64_t)q->ring)
		return -ERANGE;

	/* The usual cases first, in O(1) but the tree insert: data right
	 * after the highest range extends it; data beyond it with a gap
	 * starts the new highest range. */
	if ((l = q->last) && !mps_dsn_lt(dsn, N(q, l).end)) {
		int extend = dsn == N(q, l).end;

		if (!extend && q->nsegs >= q->max_segs)
			return -ENOSPC;
		rc = ring_reserve(q, dsn, end);
		if (rc)
			return rc;
		if (extend) {
			ring_put(q, dsn, end, p);
			N(q, l).end = end;
			return 0;
		}
		if (!(n = node_alloc(q)))
			return -ENOMEM;
		ring_put(q, dsn, end, p);
		N(q, n).start = dsn;
		N(q, n).end = end;
		N(q, n).left = N(q, n).right = 0;
		N(q, n).height = 1;
		q->root = tree_insert(q, q->root, n);
		q->nsegs++;
		q->last = n;
		return 0;
	}

	/* Which held ranges touch [dsn, end)?  The one before (if it reaches
	 * dsn) and those starting inside or right at end. */
	l = tree_floor(q, dsn);
	if (l && mps_dsn_lt(N(q, l).end, dsn))
		l = 0;
	r = tree_ceil(q, l && N(q, l).start == dsn ? dsn + 1 : dsn);
	if (r && mps_dsn_lt(end, N(q, r).start))
		r = 0;
	merge = l || r;
	if (!merge && q->nsegs >= q->max_segs)
		return -ENOSPC;
	if (l && mps_dsn_le(end, N(q, l).end))
		return 0; /* all of it is held already */
	rc = ring_reserve(q, dsn, end);
	if (rc)
		return rc;
	n = 0;
	if (!merge && !(n = node_alloc(q)))
		return -ENOMEM;

	/* From here nothing fails.  Copy the gaps, absorbing every range that
	 * touches the new data into one. */
	s = dsn;
	e = end;
	cur = dsn;
	if (l) {
		s = N(q, l).start;
		cur = N(q, l).end;
		was_last |= l == q->last;
		q->root = tree_remove(q, q->root, key(q, s));
		node_free(q, l);
	}
	/* r: the first range starting in (dsn, end], found above */
	for (; r && mps_dsn_le(N(q, r).start, end); r = tree_ceil(q, dsn)) {
		uint64_t rs = N(q, r).start, re = N(q, r).end;

		if (mps_dsn_lt(cur, rs))
			ring_put(q, cur, rs, p + (cur - dsn));
		cur = re;
		if (mps_dsn_lt(e, re))
			e = re;
		was_last |= r == q->last;
		q->root = tree_remove(q, q->root, key(q, rs));
		node_free(q, r);
	}
	if (mps_dsn_lt(cur, end))
		ring_put(q, cur, end, p + (cur - dsn));
	if (!n)
		n = node_alloc(q); /* a node freed above: cannot fail */
	N(q, n).start = s;
	N(q, n).end = e;
	N(q, n).left = N(q, n).right = 0;
	N(q, n).height = 1;
	q->root = tree_insert(q, q->root, n);
	q->nsegs++;
	if (was_last || !q->last || key(q, s) > key(q, N(q, q->last).start))
		q->last = n;
	return 0;
}

size_t mps_ofo_peek(const struct mps_ofo *q, uint64_t dsn, const uint8_t **p)
{
	uint32_t t;
	size_t pos, off, n;

	*p = NULL;
	if (!q->root || (uint64_t)(dsn - q->base) >= q->ring)
		return 0;
	t = tree_floor(q, dsn);
	if (!t || mps_dsn_le(N(q, t).end, dsn))
		return 0;
	pos = ring_pos(q, dsn);
	off = pos % q->chunk_size;
	n = q->chunk_size - off;
	if ((uint64_t)n > N(q, t).end - dsn)
		n = (size_t)(N(q, t).end - dsn);
	*p = q->chunk[pos / q->chunk_size] + off;
	return n;
}

void mps_ofo_advance(struct mps_ofo *q, uint64_t dsn)
{
	uint32_t t;

	if (!q->started || mps_dsn_le(dsn, q->base))
		return;
	while ((t = tree_min(q))) {
		struct mps_ofo_node *m = &N(q, t);

		if (mps_dsn_le(dsn, m->start))
			break;
		if (mps_dsn_le(m->end, dsn)) {
			ring_release(q, m->start, m->end);
			q->root = tree_remove(q, q->root, key(q, m->start));
			node_free(q, t);
			if (t == q->last)
				q->last = 0; /* it was the only one */
			continue;
		}
		/* Partly consumed: the smallest range keeps its place. */
		ring_release(q, m->start, dsn);
		m->start = dsn;
		break;
	}
	if (q->nsegs == 0) {
		q->base = dsn;
		q->base_pos = 0;
		return;
	}
	/* The lowest range is at or above dsn, within the ring of base. */
	q->base_pos = ring_pos(q, dsn);
	q->base = dsn;
}

/* ---------------------------------------------------------------- checks */

static int check_tree(const struct mps_ofo *q, uint32_t t, uint64_t *prev_end, int *first,
                      size_t *count, size_t *bytes, int32_t *h, uint32_t *max)
{
	int32_t hl, hr;
	const struct mps_ofo_node *x;

	if (!t) {
		*h = 0;
		return 0;
	}
	if (t >= q->nused || ++*count > q->nsegs)
		return -EINVAL;
	x = &N(q, t);
	if (check_tree(q, x->left, prev_end, first, count, bytes, &hl, max))
		return -EINVAL;
	if (!mps_dsn_lt(x->start, x->end) || key(q, x->start) >= q->ring ||
	    key(q, x->end) > q->ring)
		return -EINVAL;
	/* sorted, and a gap between neighbours (touching ones are merged) */
	if (!*first && !mps_dsn_lt(*prev_end, x->start))
		return -EINVAL;
	*first = 0;
	*prev_end = x->end;
	*max = t;
	*bytes += (size_t)(x->end - x->start);
	if (check_tree(q, x->right, prev_end, first, count, bytes, &hr, max))
		return -EINVAL;
	if (hl - hr > 1 || hr - hl > 1 || x->height != (hl > hr ? hl : hr) + 1)
		return -EINVAL;
	*h = x->height;
	return 0;
}

int mps_ofo_check(const struct mps_ofo *q)
{
	uint64_t prev_end = 0;
	int first = 1;
	size_t count = 0, bytes = 0, used = 0, i;
	int32_t h;
	uint32_t max = 0;

	if (check_tree(q, q->root, &prev_end, &first, &count, &bytes, &h, &max))
		return -EINVAL;
	if (max != q->last)
		return -EINVAL;
	if (count != q->nsegs || bytes != q->bytes || q->nsegs > q->max_segs)
		return -EINVAL;
	if (q->chunk)
		for (i = 0; i < q->nchunks; i++) {
			if (q->chunk_used[i] != 0 && q->chunk[i] == NULL)
				return -EINVAL;
			used += q->chunk_used[i];
		}
	if (used != q->bytes || q->base_pos >= q->ring)
		return -EINVAL;
	return 0;
}
