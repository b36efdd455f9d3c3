/* resolve.c - getaddrinfo, watched: the addresses a name resolves to are
 * remembered (src/namecache.c) so the policy file can match a connection
 * by the host name the program asked for (host=).  The lookup itself is
 * libc's, untouched; numeric hosts and failed lookups are not recorded. */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/config.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/loop.h"
#include "mptcpshim/namecache.h"

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

static gai_fn g_real_gai;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void resolve_gai(void)
{
	g_real_gai = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	if (!g_real_gai)
		g_real_gai = (gai_fn)dlsym(RTLD_DEFAULT, "getaddrinfo");
}

MPS_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res)
{
	const struct addrinfo *ai;
	uint8_t num[16];
	int rc;

	pthread_once(&g_once, resolve_gai);
	if (!g_real_gai)
		return EAI_SYSTEM;
	rc = g_real_gai(node, service, hints, res);
	if (rc != 0 || !node || !*node || mps_inside ||
	    (hints && (hints->ai_flags & AI_NUMERICHOST)) || mps_config()->disabled ||
	    !mps_config()->policy_file[0])
		return rc;
	/* A numeric host resolves to itself: not a name. */
	if (inet_pton(AF_INET, node, num) == 1 || inet_pton(AF_INET6, node, num) == 1 ||
	    strchr(node, '%'))
		return rc;
	for (ai = *res; ai; ai = ai->ai_next) {
		const struct sockaddr *sa = ai->ai_addr;
		uint8_t a[16];

		if (!sa)
			continue;
		if (sa->sa_family == AF_INET) {
			memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		} else if (sa->sa_family == AF_INET6) {
			memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		} else {
			continue;
		}
		mps_namecache_put(sa->sa_family, a, node);
	}
	return rc;
}
