/* util.h - small shared helpers: big-endian access, time. */
#ifndef MPS_UTIL_H
#define MPS_UTIL_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* Take (lock != 0) or release m: the lock/unlock pairs fork holds. */
static inline void mps_mutex_hold(pthread_mutex_t *m, int lock)
{
	if (lock)
		pthread_mutex_lock(m);
	else
		pthread_mutex_unlock(m);
}

static inline void mps_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void mps_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void mps_put64(uint8_t *p, uint64_t v)
{
	mps_put32(p, (uint32_t)(v >> 32));
	mps_put32(p + 4, (uint32_t)v);
}
static inline uint16_t mps_get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t mps_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t mps_get64(const uint8_t *p)
{
	return ((uint64_t)mps_get32(p) << 32) | mps_get32(p + 4);
}

/* Monotonic clock in microseconds. */
uint64_t mps_now_us(void);

#define MPS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MPS_MAX(a, b) ((a) > (b) ? (a) : (b))
struct stat;
/* fstat(2) through the system call a seccomp sandbox allows for it (see
 * util.c).  0 or -1 with errno. */
int mps_fstat(int fd, struct stat *st);

struct sockaddr_storage;
/* An IPv4-mapped IPv6 address (dual-stack sockets) as plain IPv4, in place. */
void mps_unmap_v4(struct sockaddr_storage *ss);

#define MPS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The kernel's TCP states as tcpi_state reports them
 * (include/net/tcp_states.h); <netinet/tcp.h>, which names them, clashes
 * with <linux/tcp.h>, which has the full tcp_info. */
enum {
	MPS_TCP_ESTABLISHED = 1,
	MPS_TCP_FIN_WAIT1 = 4,
	MPS_TCP_FIN_WAIT2 = 5,
	MPS_TCP_CLOSE = 7,
	MPS_TCP_CLOSE_WAIT = 8,
	MPS_TCP_LAST_ACK = 9,
};

#endif
