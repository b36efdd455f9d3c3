/* fuzz_ofo.c - libFuzzer harness for the out-of-order queue (src/ofo.c).
 *
 * The input drives inserts (anywhere around the base, any length, past the
 * window too), deliveries (peek/advance from the base, whole or partial)
 * and skips (in-order data delivered around the queue), against a model:
 * one int per DSN, the first byte inserted there, -1 when none.  After
 * every step the queue's invariants hold, its byte and range counts match
 * the model's, every insert's result is the one the model predicts
 * (-ERANGE past the window, -ENOSPC for a new range at the cap), and every
 * byte delivered is the model's.  abort() on any mismatch.
 *
 * Input: start DSN (8 bytes, so runs cross 2^64), window (2), cap (1),
 * then operations of 6 bytes: op, offset (2), length (2), fill seed.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *        tests/fuzz/fuzz_ofo.c src/ofo.c -o fuzz_ofo */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/ofo.h"

#define SPAN (1u << 16) /* model positions: DSNs start .. start + SPAN */

static int model[SPAN + 70000];
static uint8_t buf[70000];

#define FAIL(...)                                          \
	do {                                               \
		fprintf(stderr, "fuzz_ofo: " __VA_ARGS__); \
		fputc('\n', stderr);                       \
		abort();                                   \
	} while (0)

static uint64_t get(const uint8_t **p, size_t *n, int bytes)
{
	uint64_t v = 0;

	while (bytes-- > 0) {
		v = v << 8 | (*n ? **p : 0);
		if (*n) {
			(*p)++;
			(*n)--;
		}
	}
	return v;
}

/* Maximal runs of held bytes at or above pos: what the queue's ranges are. */
static size_t model_runs(size_t pos, size_t total, size_t *held)
{
	size_t runs = 0, i;

	*held = 0;
	for (i = pos; i < total; i++) {
		if (model[i] < 0)
			continue;
		(*held)++;
		if (i == pos || model[i - 1] < 0)
			runs++;
	}
	return runs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mps_ofo q;
	uint64_t start = get(&data, &size, 8);
	size_t window = 256 + (size_t)get(&data, &size, 2) % 8192;
	size_t cap = 1 + (size_t)get(&data, &size, 1) % 64;
	/* pos: the base, as a model position (from 512: inserts reach 256 below) */
	size_t total = SPAN, pos = 512, i;
	uint64_t base = start;

	for (i = 0; i < total + 70000; i++)
		model[i] = -1;
	mps_ofo_init(&q, window, cap);
	while (size > 0 && pos + window + 2 < total) {
		unsigned op = (unsigned)get(&data, &size, 1) % 8;
		size_t off = (size_t)get(&data, &size, 2);
		size_t len = (size_t)get(&data, &size, 2);
		uint8_t seed = (uint8_t)get(&data, &size, 1);
		size_t held, runs;

		if (op < 5) {
			/* insert at base - 256 + off % (window + 512) */
			int64_t rel = (int64_t)(off % (window + 512)) - 256;
			size_t at = pos + (size_t)rel, k, ln = len % (op == 0 ? 65536u : 300u);
			size_t lo = at < pos ? pos : at, end = at + ln;
			uint64_t dsn = base + (uint64_t)rel;
			int want = 0, rc, touch = 0;

			for (k = 0; k < ln; k++)
				buf[k] = (uint8_t)(seed + k * 7 + (k >> 5));
			/* the model's verdict, in the queue's order of checks */
			if (ln > 0 && end > pos) {
				runs = model_runs(pos, pos + q.ring + 1, &held);
				if (end - pos > q.ring) {
					want = -ERANGE;
				} else {
					for (k = lo - 1; k <= end && !touch; k++)
						if (k >= pos && model[k] >= 0)
							touch = 1;
					if (!touch && runs >= cap)
						want = -ENOSPC;
				}
			}
			rc = mps_ofo_insert(&q, base, dsn, buf, ln);
			if (rc != want)
				FAIL("insert [+%lld, +%zu) gave %d, model %d", (long long)rel, ln,
				     rc, want);
			if (rc == 0)
				for (k = lo; k < end; k++)
					if (model[k] < 0)
						model[k] = buf[k - at];
		} else if (op < 7) {
			/* deliver from the base: whole pieces or part of one */
			const uint8_t *p;
			size_t n = mps_ofo_peek(&q, base, &p), k, take;

			if (n == 0) {
				if (model[pos] >= 0)
					FAIL("nothing at the base, model has %d", model[pos]);
				continue;
			}
			for (k = 0; k < n; k++)
				if (model[pos + k] != p[k])
					FAIL("byte +%zu: %u, model %d", k, p[k], model[pos + k]);
			take = op == 5 ? n : 1 + len % n;
			pos += take;
			base += take;
			mps_ofo_advance(&q, base);
		} else {
			/* skip: in-order bytes went around the queue */
			size_t skip = len % 700;

			pos += skip;
			base += skip;
			mps_ofo_advance(&q, base);
		}
		if (mps_ofo_check(&q))
			FAIL("invariants broken");
		runs = model_runs(pos, pos + q.ring + 1, &held); /* nothing is held beyond */
		if (held != q.bytes || runs != q.nsegs)
			FAIL("queue holds %zu bytes in %zu ranges, model %zu in %zu", q.bytes,
			     q.nsegs, held, runs);
	}
	mps_ofo_free(&q);
	return 0;
}
