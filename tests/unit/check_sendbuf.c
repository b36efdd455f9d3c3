/* check_sendbuf.c - the DSN-indexed send buffer, per sendbuf.h. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "mptcpshim/sendbuf.h"

#define MAXIOV 16

/* The byte stored at a DSN: depends on the whole DSN so that misplaced
 * data (off by one, wrong chunk, wrap errors) shows. */
static uint8_t pat(uint64_t dsn)
{
	dsn ^= dsn >> 29;
	dsn *= 0xbf58476d1ce4e5b9ULL;
	dsn ^= dsn >> 32;
	return (uint8_t)dsn;
}

/* Append up to want bytes of pattern; returns how many were committed. */
static size_t append(struct mps_sendbuf *sb, size_t want)
{
	struct iovec iov[MAXIOV];
	memset(iov, 0, sizeof(iov));
	size_t space = mps_sendbuf_space(sb);
	int n = mps_sendbuf_reserve(sb, iov, MAXIOV, want);
	ck_assert_int_ge(n, 0);
	ck_assert_int_le(n, MAXIOV);
	uint64_t dsn = sb->end;
	size_t total = 0;
	for (int i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(iov[i].iov_base);
		ck_assert_uint_gt(iov[i].iov_len, 0);
		uint8_t *p = iov[i].iov_base;
		for (size_t j = 0; j < iov[i].iov_len; j++)
			p[j] = pat(dsn++);
		total += iov[i].iov_len;
	}
	size_t expect = want < space ? want : space;
	ck_assert_msg(total == expect, "reserve(%zu) with space %zu gave %zu bytes", want, space,
		      total);
	uint64_t end0 = sb->end;
	mps_sendbuf_commit(sb, total);
	ck_assert(sb->end == end0 + total);
	return total;
}

/* Every byte in [from, to) is held and carries the pattern. */
static void verify(const struct mps_sendbuf *sb, uint64_t from, uint64_t to)
{
	uint64_t dsn = from;
	while (dsn != to) {
		const uint8_t *p = NULL;
		uint64_t left = to - dsn;
		size_t maxlen = left > 100000 ? 100000 : (size_t)left;
		size_t n = mps_sendbuf_peek(sb, dsn, maxlen, &p);
		ck_assert_msg(n > 0, "peek at dsn %llu returned 0", (unsigned long long)dsn);
		ck_assert_uint_le(n, maxlen);
		ck_assert_uint_le(n, MPS_CHUNK);
		ck_assert_ptr_nonnull(p);
		for (size_t i = 0; i < n; i++)
			if (p[i] != pat(dsn + i))
				ck_abort_msg("byte at dsn %llu: 0x%02x, want 0x%02x",
					     (unsigned long long)(dsn + i), p[i], pat(dsn + i));
		dsn += n;
	}
}

static void check_not_held(const struct mps_sendbuf *sb, uint64_t dsn)
{
	const uint8_t *p = NULL;
	ck_assert_msg(mps_sendbuf_peek(sb, dsn, 1000, &p) == 0, "dsn %llu should not be held",
		      (unsigned long long)dsn);
}

START_TEST(test_sendbuf_init)
{
	struct mps_sendbuf sb;
	memset(&sb, 0xa5, sizeof(sb));
	mps_sendbuf_init(&sb, 1000, 4 * MPS_CHUNK);
	ck_assert(sb.una == 1000);
	ck_assert(sb.end == 1000);
	ck_assert_uint_eq(sb.nchunks, 0);
	ck_assert_ptr_null(sb.head);
	ck_assert_ptr_null(sb.tail);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), 4 * MPS_CHUNK);
	check_not_held(&sb, 1000);
	check_not_held(&sb, 999);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 1000), 0);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 1001), -EINVAL);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 999), -EINVAL);
	mps_sendbuf_free(&sb);
}
END_TEST

START_TEST(test_sendbuf_small)
{
	struct mps_sendbuf sb;
	mps_sendbuf_init(&sb, 0, 2 * MPS_CHUNK);
	ck_assert_uint_eq(append(&sb, 10), 10);
	ck_assert_uint_eq(sb.nchunks, 1);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), 2 * MPS_CHUNK - 10);
	verify(&sb, 0, 10);
	const uint8_t *p;
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, 3, 4, &p), 4);
	ck_assert_uint_eq(p[0], pat(3));
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, 9, 100, &p), 1);
	check_not_held(&sb, 10);
	/* more small appends land in the same chunk */
	ck_assert_uint_eq(append(&sb, 5), 5);
	ck_assert_uint_eq(sb.nchunks, 1);
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, 0, 1000, &p), 15);
	verify(&sb, 0, 15);
	mps_sendbuf_free(&sb);
}
END_TEST

/* Commit fewer bytes than reserved. */
START_TEST(test_sendbuf_partial_commit)
{
	struct mps_sendbuf sb;
	struct iovec iov[MAXIOV];
	mps_sendbuf_init(&sb, 500, 3 * MPS_CHUNK);
	int n = mps_sendbuf_reserve(&sb, iov, MAXIOV, 100);
	ck_assert_int_ge(n, 1);
	uint8_t *p0 = iov[0].iov_base;
	for (int i = 0; i < 40; i++)
		p0[i] = pat(500 + (uint64_t)i);
	mps_sendbuf_commit(&sb, 40);
	ck_assert(sb.end == 540);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), 3 * MPS_CHUNK - 40);
	verify(&sb, 500, 540);
	check_not_held(&sb, 540);
	/* reserving again continues right after the committed bytes */
	ck_assert_uint_eq(append(&sb, 60), 60);
	verify(&sb, 500, 600);
	mps_sendbuf_free(&sb);
}
END_TEST

START_TEST(test_sendbuf_chunk_boundaries)
{
	struct mps_sendbuf sb;
	mps_sendbuf_init(&sb, 0, 4 * MPS_CHUNK);
	/* one reservation spanning chunk boundaries: at least two iovecs */
	struct iovec iov[MAXIOV];
	ck_assert_uint_eq(append(&sb, MPS_CHUNK - 7), MPS_CHUNK - 7);
	int n = mps_sendbuf_reserve(&sb, iov, MAXIOV, 20);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(iov[0].iov_len, 7);
	ck_assert_uint_eq(iov[1].iov_len, 13);
	mps_sendbuf_commit(&sb, 0);
	ck_assert(sb.end == MPS_CHUNK - 7);
	ck_assert_uint_eq(append(&sb, 2 * MPS_CHUNK + 20), 2 * MPS_CHUNK + 20);
	ck_assert(sb.end == 3 * MPS_CHUNK + 13);
	ck_assert_uint_eq(sb.nchunks, 4);
	verify(&sb, 0, sb.end);

	/* peek stops at a chunk end */
	const uint8_t *p;
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, MPS_CHUNK - 5, 100, &p), 5);
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, MPS_CHUNK, 100, &p), 100);
	ck_assert_uint_eq(p[0], pat(MPS_CHUNK));
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, 0, SIZE_MAX, &p), MPS_CHUNK);
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, 3 * MPS_CHUNK, SIZE_MAX, &p), 13);
	check_not_held(&sb, sb.end);
	check_not_held(&sb, sb.end + 1);
	mps_sendbuf_free(&sb);
}
END_TEST

START_TEST(test_sendbuf_limit)
{
	struct mps_sendbuf sb;
	struct iovec iov[MAXIOV];
	mps_sendbuf_init(&sb, 77, 3 * MPS_CHUNK);
	ck_assert_uint_eq(append(&sb, 10 * MPS_CHUNK), 3 * MPS_CHUNK);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), 0);
	ck_assert_int_eq(mps_sendbuf_reserve(&sb, iov, MAXIOV, 1), 0);
	ck_assert_int_eq(mps_sendbuf_reserve(&sb, iov, MAXIOV, MPS_CHUNK), 0);
	ck_assert_uint_eq(sb.nchunks, 3);
	ck_assert(sb.end - sb.una == 3 * MPS_CHUNK);
	verify(&sb, 77, sb.end);

	/* acking a whole chunk makes exactly that much room again */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 77 + MPS_CHUNK), 0);
	ck_assert_uint_eq(sb.nchunks, 2);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), MPS_CHUNK);
	ck_assert_uint_eq(append(&sb, 2 * MPS_CHUNK), MPS_CHUNK);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), 0);
	ck_assert_uint_eq(sb.nchunks, 3);
	verify(&sb, 77 + MPS_CHUNK, sb.end);
	mps_sendbuf_free(&sb);
}
END_TEST

/* With a limit that is not a multiple of the chunk size, the bytes held
 * never exceed the limit rounded up to whole chunks. */
START_TEST(test_sendbuf_limit_unaligned)
{
	static const size_t limits[] = { 4194304, 100000, MPS_CHUNK + 1 };
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct mps_sendbuf sb;
		struct iovec iov[MAXIOV];
		size_t limit = limits[i];
		size_t rounded = (limit + MPS_CHUNK - 1) / MPS_CHUNK * MPS_CHUNK;
		mps_sendbuf_init(&sb, 0, limit);
		size_t got, total = 0;
		while ((got = append(&sb, 50000)) > 0)
			total += got;
		ck_assert_uint_ge(total, limit);
		ck_assert_uint_le(total, rounded);
		ck_assert_uint_le(sb.nchunks, rounded / MPS_CHUNK);
		ck_assert_uint_eq(mps_sendbuf_space(&sb), 0);
		ck_assert_int_eq(mps_sendbuf_reserve(&sb, iov, MAXIOV, 1), 0);
		verify(&sb, 0, total);
		mps_sendbuf_free(&sb);
	}
}
END_TEST

START_TEST(test_sendbuf_ack_frees)
{
	struct mps_sendbuf sb;
	mps_sendbuf_init(&sb, 1, 5 * MPS_CHUNK);
	ck_assert_uint_eq(append(&sb, 5 * MPS_CHUNK), 5 * MPS_CHUNK);
	ck_assert_uint_eq(sb.nchunks, 5);
	uint64_t end = sb.end;

	/* a partial ack frees nothing, but the acked bytes are gone */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 1 + 100), 0);
	ck_assert(sb.una == 101);
	ck_assert_uint_eq(sb.nchunks, 5);
	check_not_held(&sb, 1);
	check_not_held(&sb, 100);
	verify(&sb, 101, end);
	const uint8_t *p;
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, 101, SIZE_MAX, &p), MPS_CHUNK - 100);

	/* the same ack again is fine; going backwards is not */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 101), 0);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 100), -EINVAL);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 1), -EINVAL);
	ck_assert(sb.una == 101);

	/* ack to one byte short of a chunk end, then to its end */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 1 + MPS_CHUNK - 1), 0);
	ck_assert_uint_eq(sb.nchunks, 5);
	verify(&sb, MPS_CHUNK, end);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 1 + MPS_CHUNK), 0);
	ck_assert_uint_eq(sb.nchunks, 4);
	verify(&sb, 1 + MPS_CHUNK, end);

	/* an ack spanning two and a half chunks frees two */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 1 + 3 * MPS_CHUNK + MPS_CHUNK / 2), 0);
	ck_assert_uint_eq(sb.nchunks, 2);
	verify(&sb, 1 + 3 * MPS_CHUNK + MPS_CHUNK / 2, end);
	check_not_held(&sb, 1 + 3 * MPS_CHUNK);

	/* beyond end is rejected and changes nothing */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, end + 1), -EINVAL);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, end + MPS_CHUNK), -EINVAL);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, UINT64_MAX), -EINVAL);
	ck_assert(sb.una == 1 + 3 * MPS_CHUNK + MPS_CHUNK / 2);
	ck_assert_uint_eq(sb.nchunks, 2);

	/* everything: all chunks were full, so all are freed */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, end), 0);
	ck_assert(sb.una == end);
	ck_assert_uint_eq(sb.nchunks, 0);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), 5 * MPS_CHUNK);
	check_not_held(&sb, end - 1);
	check_not_held(&sb, end);

	/* and the buffer is usable again */
	ck_assert_uint_eq(append(&sb, 1000), 1000);
	verify(&sb, end, end + 1000);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, end + 1000), 0);
	ck_assert(sb.una == end + 1000);
	mps_sendbuf_free(&sb);
}
END_TEST

START_TEST(test_sendbuf_wrap)
{
	struct mps_sendbuf sb;
	const uint64_t start = UINT64_MAX - 100;
	mps_sendbuf_init(&sb, start, 3 * MPS_CHUNK);
	ck_assert_uint_eq(append(&sb, 50), 50);
	ck_assert_uint_eq(append(&sb, 100), 100); /* crosses 2^64 */
	ck_assert(sb.end == start + 150); /* == 49 after the wrap */
	ck_assert(sb.end == 49);
	verify(&sb, start, 49);
	const uint8_t *p;
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, UINT64_MAX, 10, &p), 10);
	ck_assert_uint_eq(p[0], pat(UINT64_MAX));
	ck_assert_uint_eq(p[1], pat(0));
	ck_assert_uint_eq(mps_sendbuf_peek(&sb, 0, 1000, &p), 49);
	ck_assert_uint_eq(p[0], pat(0));
	check_not_held(&sb, 49);
	check_not_held(&sb, start - 1);

	ck_assert_uint_eq(append(&sb, 3 * MPS_CHUNK), 3 * MPS_CHUNK - 150);
	uint64_t end = sb.end;
	ck_assert(end == start + 3 * MPS_CHUNK);
	verify(&sb, start, end);

	/* acks outside [una, end] compare modulo 2^64 */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, start - 1), -EINVAL);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, end + 1), -EINVAL);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, start - (1ULL << 62)), -EINVAL);

	/* ack to just before the wrap, then just after it */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, UINT64_MAX), 0);
	ck_assert(sb.una == UINT64_MAX);
	verify(&sb, UINT64_MAX, end);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, 5), 0);
	ck_assert(sb.una == 5);
	check_not_held(&sb, UINT64_MAX);
	check_not_held(&sb, 4);
	verify(&sb, 5, end);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, UINT64_MAX), -EINVAL); /* now behind una */
	ck_assert_int_eq(mps_sendbuf_ack(&sb, start), -EINVAL);

	/* first chunk ends at start + MPS_CHUNK */
	ck_assert_uint_eq(sb.nchunks, 3);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, start + MPS_CHUNK), 0);
	ck_assert_uint_eq(sb.nchunks, 2);
	verify(&sb, start + MPS_CHUNK, end);
	ck_assert_uint_eq(append(&sb, MPS_CHUNK), MPS_CHUNK);
	verify(&sb, start + MPS_CHUNK, sb.end);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, sb.end), 0);
	ck_assert_uint_eq(sb.nchunks, 0);
	mps_sendbuf_free(&sb);
}
END_TEST

/* A long run of random appends, peeks and acks against a model. */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

START_TEST(test_sendbuf_random)
{
	static const uint64_t starts[] = { 0, UINT64_MAX - 100000, 0x7fffffffffffff00ULL };
	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		struct mps_sendbuf sb;
		const size_t limit = 4 * MPS_CHUNK;
		mps_sendbuf_init(&sb, starts[s], limit);
		uint64_t una = starts[s], end = starts[s];
		for (int it = 0; it < 3000; it++) {
			uint64_t r = rng();
			if ((r & 1) == 0) {
				size_t want = (size_t)(r >> 8) % (MPS_CHUNK + 5000);
				size_t space = mps_sendbuf_space(&sb);
				ck_assert_uint_le((size_t)(end - una), limit);
				ck_assert_uint_le(space, limit - (size_t)(end - una));
				if (want == 0)
					continue;
				end += append(&sb, want);
			} else if (end != una) {
				uint64_t ack = una + (r >> 8) % (end - una + 1);
				ck_assert_int_eq(mps_sendbuf_ack(&sb, ack), 0);
				una = ack;
				ck_assert_int_eq(mps_sendbuf_ack(&sb, end + 1 + (r >> 40) % 1000),
						 -EINVAL);
				if (una != starts[s])
					ck_assert_int_eq(mps_sendbuf_ack(&sb, una - 1), -EINVAL);
			}
			ck_assert(sb.una == una);
			ck_assert(sb.end == end);
			ck_assert_uint_le(sb.nchunks, limit / MPS_CHUNK + 1);
			if (end != una) {
				/* spot-check a few positions, and everything now and then */
				for (int k = 0; k < 4; k++) {
					uint64_t d = una + rng() % (end - una);
					const uint8_t *p;
					size_t n = mps_sendbuf_peek(&sb, d, 64, &p);
					ck_assert_uint_ge(n, 1);
					for (size_t i = 0; i < n; i++)
						if (p[i] != pat(d + i))
							ck_abort_msg("random: bad byte");
				}
				if (it % 500 == 0)
					verify(&sb, una, end);
				check_not_held(&sb, end);
				check_not_held(&sb, una - 1);
			}
		}
		mps_sendbuf_ack(&sb, end);
		mps_sendbuf_free(&sb);
	}
}
END_TEST

/* Freeing a buffer that still holds data releases everything (LeakSanitizer
 * reports otherwise). */
START_TEST(test_sendbuf_free_full)
{
	struct mps_sendbuf sb;
	mps_sendbuf_init(&sb, 3, 3 * MPS_CHUNK);
	append(&sb, 3 * MPS_CHUNK);
	mps_sendbuf_free(&sb);
}
END_TEST

/* A reservation sized for a burst that a small write answers keeps no
 * empty chunks: 1 MiB reserved, 4 KiB written -> one chunk (it once kept
 * all 16 for the connection's life). */
START_TEST(test_sendbuf_spare_released)
{
	struct mps_sendbuf sb;
	struct iovec iov[MAXIOV];
	int n;

	mps_sendbuf_init(&sb, 1000, 4u << 20);
	n = mps_sendbuf_reserve(&sb, iov, MAXIOV, 1u << 20);
	ck_assert_int_eq(n, 16);
	ck_assert_uint_eq(sb.nchunks, 16);
	memset(iov[0].iov_base, 'a', 4096);
	mps_sendbuf_commit(&sb, 4096);
	ck_assert_uint_eq(sb.nchunks, 1);
	ck_assert_ptr_eq(sb.head, sb.tail);
	ck_assert_ptr_null(sb.tail->next);
	/* again: the same chunk goes on filling, nothing reserved stays */
	n = mps_sendbuf_reserve(&sb, iov, MAXIOV, 1u << 20);
	ck_assert_int_eq(n, 16);
	mps_sendbuf_commit(&sb, 0);
	ck_assert_uint_eq(sb.nchunks, 1);
	/* filling exactly to a chunk's end, then nothing read: one spare */
	n = mps_sendbuf_reserve(&sb, iov, MAXIOV, MPS_CHUNK - 4096);
	ck_assert_int_eq(n, 1);
	mps_sendbuf_commit(&sb, MPS_CHUNK - 4096);
	n = mps_sendbuf_reserve(&sb, iov, MAXIOV, 3 * MPS_CHUNK);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(sb.nchunks, 4);
	mps_sendbuf_commit(&sb, 0);
	ck_assert_uint_eq(sb.nchunks, 2);
	/* the bytes are intact and the next chunk's DSN follows on */
	n = mps_sendbuf_reserve(&sb, iov, MAXIOV, 10);
	ck_assert_int_eq(n, 1);
	memset(iov[0].iov_base, 'b', 10);
	mps_sendbuf_commit(&sb, 10);
	{
		const uint8_t *p;
		size_t got = mps_sendbuf_peek(&sb, 1000 + MPS_CHUNK, 100, &p);

		ck_assert_uint_eq(got, 10);
		ck_assert_int_eq(p[0], 'b');
		got = mps_sendbuf_peek(&sb, 1000, 100, &p);
		ck_assert_uint_eq(got, 100);
		ck_assert_int_eq(p[0], 'a');
	}
	ck_assert_uint_eq(sb.end, 1000 + MPS_CHUNK + 10);
	mps_sendbuf_free(&sb);
}
END_TEST

/* Issue 15: a quiet connection's buffer gives its chunks back once
 * everything is ACKed (not before), and fills again from end afterwards,
 * across a chunk boundary. */
START_TEST(test_sendbuf_release)
{
	struct mps_sendbuf sb;
	uint64_t start = 5000;

	mps_sendbuf_init(&sb, start, 1u << 20);
	ck_assert_uint_eq(mps_sendbuf_release(&sb), 0); /* nothing allocated */
	ck_assert_uint_eq(append(&sb, 700), 700);
	ck_assert_uint_eq(mps_sendbuf_release(&sb), 0); /* held: kept */
	verify(&sb, start, start + 700);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, start + 699), 0);
	ck_assert_uint_eq(mps_sendbuf_release(&sb), 0); /* one byte still held */
	verify(&sb, start + 699, start + 700);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, start + 700), 0);
	ck_assert_uint_eq(mps_sendbuf_release(&sb), sizeof(struct mps_chunk));
	ck_assert_ptr_null(sb.head);
	ck_assert_ptr_null(sb.tail);
	ck_assert_uint_eq(sb.nchunks, 0);
	ck_assert_uint_eq(sb.una, start + 700);
	ck_assert_uint_eq(sb.end, start + 700);
	ck_assert_uint_eq(mps_sendbuf_space(&sb), 1u << 20);
	/* again, more than a chunk: the DSNs follow on */
	ck_assert_uint_eq(append(&sb, MPS_CHUNK + 300), MPS_CHUNK + 300);
	verify(&sb, start + 700, start + 1000 + MPS_CHUNK);
	check_not_held(&sb, start + 699);
	check_not_held(&sb, start + 1000 + MPS_CHUNK);
	ck_assert_int_eq(mps_sendbuf_ack(&sb, start + 1000 + MPS_CHUNK), 0);
	ck_assert_uint_eq(sb.nchunks, 1); /* the full one went at the ACK */
	ck_assert_uint_eq(mps_sendbuf_release(&sb), sizeof(struct mps_chunk));
	ck_assert_ptr_null(sb.head);
	ck_assert_uint_eq(append(&sb, 10), 10);
	verify(&sb, start + 1000 + MPS_CHUNK, start + 1010 + MPS_CHUNK);
	mps_sendbuf_free(&sb);
}
END_TEST

START_TEST(test_sendbuf_dsn_cmp)
{
	ck_assert(mps_dsn_lt(1, 2));
	ck_assert(!mps_dsn_lt(2, 2));
	ck_assert(mps_dsn_le(2, 2));
	ck_assert(mps_dsn_lt(UINT64_MAX, 0));
	ck_assert(mps_dsn_lt(UINT64_MAX - 5, 5));
	ck_assert(!mps_dsn_lt(5, UINT64_MAX - 5));
}
END_TEST

static Suite *sendbuf_suite(void)
{
	Suite *s = suite_create("sendbuf");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_sendbuf_init);
	tcase_add_test(tc, test_sendbuf_small);
	tcase_add_test(tc, test_sendbuf_partial_commit);
	tcase_add_test(tc, test_sendbuf_chunk_boundaries);
	tcase_add_test(tc, test_sendbuf_limit);
	tcase_add_test(tc, test_sendbuf_limit_unaligned);
	tcase_add_test(tc, test_sendbuf_ack_frees);
	tcase_add_test(tc, test_sendbuf_wrap);
	tcase_add_test(tc, test_sendbuf_random);
	tcase_add_test(tc, test_sendbuf_free_full);
	tcase_add_test(tc, test_sendbuf_dsn_cmp);
	tcase_add_test(tc, test_sendbuf_spare_released);
	tcase_add_test(tc, test_sendbuf_release);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sendbuf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
