/* unhex.h - test helper: hex text (spaces allowed between bytes) to bytes,
 * for the byte-table tests (check_gwreq, check_socks, check_gwauth). */
#ifndef MPS_TEST_UNHEX_H
#define MPS_TEST_UNHEX_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		unsigned v;

		if (*s == ' ') {
			s++;
			continue;
		}
		ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
		ck_assert_uint_lt(n, cap);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

#endif
