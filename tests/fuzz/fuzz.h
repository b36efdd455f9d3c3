/* fuzz.h - what the libFuzzer harnesses share: a cursor that reads the
 * fuzzer's bytes (zeros once they run out, so every input is a valid
 * script) and an assertion that crashes, so libFuzzer keeps the input. */
#ifndef MPS_FUZZ_H
#define MPS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FZ_ASSERT(c)                                                                               \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline int fz_more(const struct fz *z)
{
	return z->n > 0;
}

static inline uint8_t fz_u8(struct fz *z)
{
	uint8_t v = 0;

	if (z->n) {
		v = *z->p++;
		z->n--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *z)
{
	uint16_t v = fz_u8(z);

	return (uint16_t)(v << 8 | fz_u8(z));
}

static inline uint32_t fz_u32(struct fz *z)
{
	uint32_t v = fz_u16(z);

	return v << 16 | fz_u16(z);
}

static inline uint64_t fz_u64(struct fz *z)
{
	uint64_t v = fz_u32(z);

	return v << 32 | fz_u32(z);
}

#endif
