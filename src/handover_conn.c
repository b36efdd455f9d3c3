/* handover_conn.c - what the hand-over does to one offered connection
 * (its watchers, its descriptors, letting go of it) and the word parent
 * and child share, for handover.c and handover_exec.c. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ccglue_int.h"
#include "conn_int.h"
#include "handover_int.h"
#include "subflow_int.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/real.h"

int mps_ho_watchers(struct mps_conn *c, ev_watcher **w, uint8_t *io)
{
	int n = 0, i;

#define IO(x) (w[n] = (ev_watcher *)(x), io[n++] = 1)
#define TM(x) (w[n] = (ev_watcher *)(x), io[n++] = 0)
	IO(&c->app_r);
	IO(&c->app_w);
	IO(&c->conn_w);
	TM(&c->conn_look);
	TM(&c->ack_timer);
	TM(&c->wnd_timer);
	TM(&c->nego_timer);
	TM(&c->hello_timer);
	TM(&c->fin_timer);
	TM(&c->outage_timer);
	TM(&c->rejoin_timer);
	TM(&c->pm_timer);
	TM(&c->park_timer);
	TM(&c->watchdog);
	TM(&c->gw_timer);
	TM(&c->inl_timer); /* (a promoted inline connection's forward look) */
	for (i = 0; i < c->nsf; i++) {
		IO(&c->sf[i]->rio);
		IO(&c->sf[i]->wio);
		TM(&c->sf[i]->jtimer);
		TM(&c->sf[i]->rx_more);
	}
#undef IO
#undef TM
	return n;
}

/* The connection's descriptors (the shim's socketpair end, subflows,
 * parked subflows). */
int mps_ho_conn_fds(const struct mps_conn *c, int *fd)
{
	int n = 0, i;

	if (c->app_fd >= 0)
		fd[n++] = c->app_fd;
	for (i = 0; i < c->nsf; i++)
		if (c->sf[i]->fd >= 0)
			fd[n++] = c->sf[i]->fd;
	for (i = 0; i < c->nparked; i++)
		if (c->parked[i] >= 0)
			fd[n++] = c->parked[i];
	return n;
}

/* Let go of c without a wire action (its files stay open in the other
 * process): close our copies, free our memory.  epfd: the loop's epoll set,
 * which would otherwise keep reporting files that live on elsewhere. */
void mps_ho_forget(struct mps_conn *c, int epfd)
{
	int fd[HO_MAXFD], n = mps_ho_conn_fds(c, fd), i;

	if (epfd >= 0 && c->loop) {
		/* on the live loop: a watcher started after the suspension (a
		 * join attached meanwhile) must not outlive the memory freed
		 * below (procmodels.sh forkmany: sf_on_read on a freed
		 * subflow, about 1 run in 10) */
		ev_watcher *w[HO_MAXW];
		uint8_t io[HO_MAXW];
		int nw = mps_ho_watchers(c, w, io);

		for (i = 0; i < nw; i++) {
			if (io[i])
				ev_io_stop(c->loop, (ev_io *)w[i]);
			else
				ev_timer_stop(c->loop, (ev_timer *)w[i]);
		}
	}

	for (i = 0; i < n; i++) {
		if (epfd >= 0)
			mps_real.epoll_ctl(epfd, EPOLL_CTL_DEL, fd[i], NULL);
		mps_ifd_close(fd[i]);
	}
	for (i = 0; i < c->nsf; i++)
		mps_sf_destroy(c->sf[i]);
	c->nsf = 0;
	mps_sendbuf_free(&c->sb);
	mps_sendbuf_free(&c->rxq);
	mps_ofo_free(&c->ofo);
	mps_ranges_free(&c->reinj);
	free(c->pol);
	c->pol = NULL;
	mps_ccglue_free(c);
	free(c->gw_frame);
	pthread_mutex_lock(&c->sock->lock);
	if (c->sock->conn == c)
		c->sock->conn = NULL;
	pthread_mutex_unlock(&c->sock->lock);
	mps_sock_put(c->sock);
	free(c);
}

struct ho_word *mps_ho_word_new(int *wfd)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int fd = memfd_create("mptcpshim-handover", MFD_CLOEXEC);
	void *w;

	*wfd = -1;
	if (fd >= 0 && ftruncate(fd, (off_t)pg) == 0) {
		w = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (w != MAP_FAILED) {
			/* high, as every descriptor of ours (the app's numbers
			 * stay TCP's; sshd -R dup2s onto fixed low ones) */
			*wfd = mps_ifd_take(fd, 1);
			return w;
		}
	}
	if (fd >= 0)
		mps_real.close(fd);
	w = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return w == MAP_FAILED ? NULL : w;
}

void mps_ho_offer_free(struct ho_offer *o)
{
	munmap(o->w, (size_t)sysconf(_SC_PAGESIZE));
	if (o->wfd >= 0)
		mps_ifd_close(o->wfd);
	free(o);
}
