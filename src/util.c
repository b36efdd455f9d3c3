/* util.c - small shared helpers. */
#include "config.h"

#include <time.h>

#include "mptcpshim/util.h"

uint64_t mps_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
