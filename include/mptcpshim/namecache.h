/* namecache.h - which host name the program resolved an address from, so
 * the policy file can match connections by name (host=).  Filled by the
 * getaddrinfo hook (src/interpose/resolve.c) with every address of every
 * successful lookup of a name; read when a connection starts.  Small and
 * bounded: the MPS_NAMECACHE_SIZE most recent (address, name) pairs, the
 * oldest replaced first; an address resolved from two names keeps the
 * later one.  Thread-safe (one mutex, held for a copy). */
#ifndef MPS_NAMECACHE_H
#define MPS_NAMECACHE_H

#include <stddef.h>
#include <stdint.h>

#define MPS_NAMECACHE_SIZE 128
#define MPS_NAMECACHE_NAME 64 /* bytes with the NUL: longer names are not kept */

/* Remember that addr (family AF_INET: 4 bytes, AF_INET6: 16; an
 * IPv4-mapped IPv6 address is kept as IPv4) came from name.  0, or
 * -EINVAL (other family, empty or too long a name: nothing kept). */
int mps_namecache_put(int family, const uint8_t *addr, const char *name);

/* The name addr came from, copied into out[cap].  0, or -ENOENT. */
int mps_namecache_get(int family, const uint8_t *addr, char *out, size_t cap);

/* Forget everything (tests). */
void mps_namecache_clear(void);

#endif
