/* ofo.c - the receiver's out-of-order queue.  Pure: no I/O.
 *
 * A sorted singly-linked list of malloc'd, non-overlapping segments.
 * Overlaps are resolved when data arrives: only the bytes not held yet are
 * copied, so a reinjected or redundant copy costs no memory and consumers
 * never see a byte twice.  DSNs compare modulo 2^64: everything held lies
 * within the advertised window of base, far below 2^63. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/ofo.h"
#include "mptcpshim/sendbuf.h"

static uint64_t seg_end(const struct mps_ofo_seg *s)
{
	return s->dsn + (uint64_t)s->len;
}

static struct mps_ofo_seg *seg_new(uint64_t dsn, const uint8_t *p, size_t len)
{
	struct mps_ofo_seg *s = malloc(sizeof(*s) + len);

	if (!s)
		return NULL;
	s->next = NULL;
	s->dsn = dsn;
	s->len = len;
	memcpy(s->data, p, len);
	return s;
}

static void seg_list_free(struct mps_ofo_seg *s)
{
	while (s) {
		struct mps_ofo_seg *next = s->next;

		free(s);
		s = next;
	}
}

void mps_ofo_init(struct mps_ofo *q)
{
	q->head = NULL;
	q->bytes = 0;
	q->nsegs = 0;
}

void mps_ofo_free(struct mps_ofo *q)
{
	seg_list_free(q->head);
	mps_ofo_init(q);
}

int mps_ofo_insert(struct mps_ofo *q, uint64_t base, uint64_t dsn, const uint8_t *p, size_t len)
{
	struct mps_ofo_seg *pieces = NULL, **ptail = &pieces, *s, **pp;
	uint64_t cur, end;
	size_t added = 0, nadded = 0;

	if (len == 0)
		return 0;
	end = dsn + (uint64_t)len;
	if (mps_dsn_le(end, base))
		return 0; /* all of it was consumed already */
	if (mps_dsn_lt(dsn, base)) {
		p += base - dsn;
		dsn = base;
	}

	/* Pass 1: copy the gaps between held segments into new pieces, in
	 * order.  Nothing is linked yet, so -ENOMEM leaves q untouched. */
	cur = dsn;
	for (s = q->head; s && mps_dsn_lt(cur, end); s = s->next) {
		uint64_t se = seg_end(s);

		if (mps_dsn_le(se, cur))
			continue;
		if (mps_dsn_le(end, s->dsn))
			break;
		if (mps_dsn_lt(cur, s->dsn)) {
			struct mps_ofo_seg *n = seg_new(cur, p + (cur - dsn), s->dsn - cur);

			if (!n)
				goto nomem;
			*ptail = n;
			ptail = &n->next;
		}
		cur = se;
	}
	if (mps_dsn_lt(cur, end)) {
		struct mps_ofo_seg *n = seg_new(cur, p + (cur - dsn), end - cur);

		if (!n)
			goto nomem;
		*ptail = n;
	}

	/* Pass 2: merge the pieces (sorted, disjoint from every held segment)
	 * into the list. */
	pp = &q->head;
	while (pieces) {
		struct mps_ofo_seg *n = pieces;

		while (*pp && mps_dsn_lt((*pp)->dsn, n->dsn))
			pp = &(*pp)->next;
		pieces = n->next;
		n->next = *pp;
		*pp = n;
		pp = &n->next;
		added += n->len;
		nadded++;
	}
	q->bytes += added;
	q->nsegs += nadded;
	return 0;

nomem:
	seg_list_free(pieces);
	return -ENOMEM;
}

size_t mps_ofo_peek(const struct mps_ofo *q, uint64_t dsn, const uint8_t **p)
{
	const struct mps_ofo_seg *s;

	/* Normally the head starts at dsn; a segment that straddles dsn
	 * (not advanced yet) is served from the middle. */
	for (s = q->head; s && mps_dsn_le(s->dsn, dsn); s = s->next) {
		if (mps_dsn_lt(dsn, seg_end(s))) {
			size_t off = (size_t)(dsn - s->dsn);

			*p = s->data + off;
			return s->len - off;
		}
	}
	*p = NULL;
	return 0;
}

void mps_ofo_advance(struct mps_ofo *q, uint64_t dsn)
{
	struct mps_ofo_seg *s;

	while ((s = q->head) && mps_dsn_lt(s->dsn, dsn)) {
		if (mps_dsn_le(seg_end(s), dsn)) {
			q->head = s->next;
			q->bytes -= s->len;
			q->nsegs--;
			free(s);
			continue;
		}
		/* Partly consumed: keep the tail.  A segment is at most one
		 * DATA payload in practice, so the move is cheap. */
		{
			size_t cut = (size_t)(dsn - s->dsn);

			memmove(s->data, s->data + cut, s->len - cut);
			s->dsn = dsn;
			s->len -= cut;
			q->bytes -= cut;
		}
		break;
	}
}
