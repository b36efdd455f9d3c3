/* acceptloop.c - the accept loop of mptcpshim-proxy and
 * mptcpshim-gateway (see acceptloop.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "acceptloop.h"
#include "pxutil.h"

int mps_accept_loop_run(const struct mps_accept_loop *l)
{
	long long last_full = -100000;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		struct pollfd pf[2] = {{.fd = l->lfd, .events = POLLIN},
		                       {.fd = l->stopfd, .events = POLLIN}};
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		char name[64];
		pthread_t th;
		void *arg;
		int cfd;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			l->log("poll: %s", strerror(errno));
			break;
		}
		if (pf[1].revents) {
			l->log("stopping (%d connection(s) open are dropped)",
			       atomic_load(l->active));
			break;
		}
		if (!(pf[0].revents & POLLIN))
			continue;
		memset(&peer, 0, sizeof(peer));
		cfd = accept4(l->lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (cfd < 0) {
			int e = errno;

			if (e == EMFILE || e == ENFILE) {
				l->log("accept: %s: pausing 100 ms", strerror(e));
				poll(NULL, 0, 100);
			}
			continue;
		}
		mps_px_addr_str(&peer, name, sizeof(name));
		arg = l->admit(cfd, &peer, name);
		if (!arg)
			continue;
		if (atomic_load(l->active) >= l->max_conns) {
			if (mps_px_now_ms() - last_full > 10000) {
				l->log("%s: dropped: %d connections open (--max-conns)", name,
				       l->max_conns);
				last_full = mps_px_now_ms();
			}
			mps_abort_fd(cfd);
			l->drop(arg);
			continue;
		}
		atomic_fetch_add(l->active, 1);
		if (pthread_create(&th, &attr, l->serve, arg)) {
			l->log("%s: dropped: cannot start a thread", name);
			atomic_fetch_sub(l->active, 1);
			mps_abort_fd(cfd);
			l->drop(arg);
		}
	}
	pthread_attr_destroy(&attr);
	return atomic_load(l->active);
}
