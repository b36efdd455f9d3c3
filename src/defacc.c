/* defacc.c - TCP_DEFER_ACCEPT learnt per listener: see defacc.h. */
#include "config.h"

#include <netinet/in.h>
#include <stdatomic.h>

#include "mptcpshim/defacc.h"

/* One bit per port: a banner seen there. */
static atomic_ulong g_banner[65536 / (8 * sizeof(unsigned long))];

#define BITS (8 * sizeof(unsigned long))

int mps_defacc_banner_seen(uint16_t port)
{
	return (atomic_load_explicit(&g_banner[port / BITS], memory_order_relaxed) >>
	        (port % BITS)) &
	       1;
}

void mps_defacc_init(struct mps_defacc *d, int app_value, uint16_t port)
{
	d->port = port;
	d->with_data = 0;
	d->state = app_value ? MPS_DA_APP : MPS_DA_WATCH;
}

enum mps_defacc_action mps_defacc_accept(struct mps_defacc *d, int had_data)
{
	int banner = mps_defacc_banner_seen(d->port);

	switch (d->state) {
	case MPS_DA_WATCH:
		if (banner) {
			d->state = MPS_DA_NEVER;
			return MPS_DA_NOTHING;
		}
		if (had_data && d->with_data < 255)
			d->with_data++;
		if (d->with_data >= MPS_DEFACC_MIN) {
			d->state = MPS_DA_ON;
			return MPS_DA_SET;
		}
		return MPS_DA_NOTHING;
	case MPS_DA_ON:
		if (banner) {
			d->state = MPS_DA_NEVER;
			return MPS_DA_CLEAR;
		}
		return MPS_DA_NOTHING;
	default:
		return MPS_DA_NOTHING;
	}
}

void mps_defacc_app_set(struct mps_defacc *d)
{
	d->state = MPS_DA_APP;
}

/* ------------------------------------------------------------- listeners */

#include <pthread.h>
#include <string.h>

struct lrec {
	int fd; /* -1: free */
	struct mps_defacc d;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lrec g_lst[MPS_DEFACC_MAX];
static int g_init;
/* fds with a record: close() of any other costs one load */
static atomic_ulong g_has[65536 / BITS];

static int has(int fd)
{
	return fd >= 0 && fd < 65536 &&
	       ((atomic_load_explicit(&g_has[fd / BITS], memory_order_relaxed) >> (fd % BITS)) & 1);
}

static void mark(int fd, int on)
{
	if (on)
		atomic_fetch_or(&g_has[fd / BITS], 1ul << (fd % BITS));
	else
		atomic_fetch_and(&g_has[fd / BITS], ~(1ul << (fd % BITS)));
}

/* Under g_lock. */
static struct lrec *find(int fd, int create)
{
	struct lrec *free_one = NULL;
	int i;

	if (!g_init) {
		for (i = 0; i < MPS_DEFACC_MAX; i++)
			g_lst[i].fd = -1;
		g_init = 1;
	}
	for (i = 0; i < MPS_DEFACC_MAX; i++) {
		if (g_lst[i].fd == fd)
			return &g_lst[i];
		if (g_lst[i].fd < 0 && !free_one)
			free_one = &g_lst[i];
	}
	if (!create || !free_one)
		return NULL;
	free_one->fd = fd;
	memset(&free_one->d, 0, sizeof(free_one->d));
	mark(fd, 1);
	return free_one;
}

enum mps_defacc_action mps_defacc_on_accept(int lfd, int had_data, mps_defacc_look_fn look)
{
	enum mps_defacc_action a = MPS_DA_NOTHING;
	struct lrec *r;

	if (lfd < 0 || lfd >= 65536)
		return a;
	pthread_mutex_lock(&g_lock);
	r = find(lfd, 1);
	if (r) {
		if (r->d.state == MPS_DA_UNKNOWN) {
			int app = 0;
			uint16_t port = 0;

			if (look(lfd, &app, &port) == 0)
				mps_defacc_init(&r->d, app, port);
			else
				r->d.state = MPS_DA_NEVER;
		}
		a = mps_defacc_accept(&r->d, had_data);
	}
	pthread_mutex_unlock(&g_lock);
	return a;
}

static void set_state(int fd, uint8_t st)
{
	struct lrec *r;

	pthread_mutex_lock(&g_lock);
	r = find(fd, st == MPS_DA_APP);
	if (r && st == MPS_DA_APP)
		mps_defacc_app_set(&r->d);
	else if (r)
		r->d.state = st;
	pthread_mutex_unlock(&g_lock);
}

void mps_defacc_failed(int lfd)
{
	set_state(lfd, MPS_DA_NEVER);
}

void mps_defacc_app_sets(int fd)
{
	if (fd >= 0 && fd < 65536)
		set_state(fd, MPS_DA_APP);
}

int mps_defacc_ours(int lfd)
{
	struct lrec *r;
	int ours = 0;

	if (!has(lfd))
		return 0;
	pthread_mutex_lock(&g_lock);
	r = find(lfd, 0);
	ours = r && r->d.state == MPS_DA_ON;
	pthread_mutex_unlock(&g_lock);
	return ours;
}

void mps_defacc_gone(int fd)
{
	struct lrec *r;

	if (!has(fd))
		return;
	pthread_mutex_lock(&g_lock);
	r = find(fd, 0);
	if (r)
		r->fd = -1;
	mark(fd, 0);
	pthread_mutex_unlock(&g_lock);
}

int mps_defacc_port(const struct sockaddr *sa, uint16_t *port)
{
	if (sa->sa_family == AF_INET)
		*port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		*port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		return -1;
	return 0;
}

/* The engine's evidence goes through the same step as an accept's
 * (mps_defacc_accept): a banner first marks its port, which the step
 * reads; a client that spoke first counts as an accept with bytes. */
void mps_defacc_seen(const struct sockaddr *local, int client_first, mps_defacc_apply_fn apply)
{
	enum mps_defacc_action a;
	uint16_t port;
	int i;

	if (mps_defacc_port(local, &port))
		return;
	if (!client_first)
		atomic_fetch_or(&g_banner[port / BITS], 1ul << (port % BITS));
	pthread_mutex_lock(&g_lock);
	for (i = 0; g_init && i < MPS_DEFACC_MAX; i++) {
		struct lrec *r = &g_lst[i];

		if (r->fd < 0 || r->d.port != port)
			continue;
		a = mps_defacc_accept(&r->d, client_first);
		if (a != MPS_DA_NOTHING && apply && apply(r->fd, a == MPS_DA_SET) != 0)
			r->d.state = MPS_DA_NEVER; /* as mps_defacc_failed */
	}
	pthread_mutex_unlock(&g_lock);
}

void mps_defacc_gone_range(unsigned lo, unsigned hi)
{
	int i;

	pthread_mutex_lock(&g_lock);
	for (i = 0; g_init && i < MPS_DEFACC_MAX; i++)
		if (g_lst[i].fd >= 0 && (unsigned)g_lst[i].fd >= lo &&
		    (unsigned)g_lst[i].fd <= hi) {
			mark(g_lst[i].fd, 0);
			g_lst[i].fd = -1;
		}
	pthread_mutex_unlock(&g_lock);
}

void mps_defacc_lock(int lock)
{
	if (lock)
		pthread_mutex_lock(&g_lock);
	else
		pthread_mutex_unlock(&g_lock);
}
