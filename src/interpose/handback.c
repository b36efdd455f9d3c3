/* handback.c - the app thread's side of the hand-back (handback.h,
 * docs/DESIGN.md section 2, "Hand-back"): the data-call hooks (io.c)
 * call mps_handback_touch while some connection is offered, and the swap
 * itself (run on the shim thread while the engine holds still) puts the
 * TCP socket back under the app's number with its flags, options and
 * epoll registrations. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mptcpshim/epreg.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/handback.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/log.h"
#include "mptcpshim/loop.h"
#include "sockint.h"

/* The app's number fd (its socketpair end) becomes the TCP socket tcp:
 * the end's file status flags (O_NONBLOCK) and close-on-exec flag, the
 * options the app set on the end (timeouts, low-water mark, linger), its
 * epoll registrations.  0 or -errno with fd untouched. */
static int hb_swap(int fd, int tcp, struct mps_sock *s)
{
	struct mps_epreg ep[MPS_EPREG_PER_FD];
	int fl = mps_real.fcntl(fd, F_GETFL), fdfl = mps_real.fcntl(fd, F_GETFD), nep, e;

	if (fl < 0 || fdfl < 0)
		return -EBADF;
	mps_opts_restore_app(fd, tcp, s);
	if (!(fl & O_NONBLOCK) && mps_real.fcntl(tcp, F_SETFL, fl) != 0)
		return -errno;
	nep = mps_ix_ep_detach(fd, ep);
	if (mps_real.dup3(tcp, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		e = errno;
		mps_ix_ep_attach(fd, ep, nep);
		mps_real.fcntl(tcp, F_SETFL, O_NONBLOCK); /* the relay's again */
		return -e;
	}
	mps_fdtab_clear(fd);
	mps_ix_ep_attach(fd, ep, nep);
	return 0;
}

/* The process's threads (ours included), from /proc/self/stat: -1 if
 * unknown. */
static int n_threads(void)
{
	char b[1024], *p;
	ssize_t n;
	int f, i;

	f = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = mps_real.read(f, b, sizeof(b) - 1);
	mps_real.close(f);
	if (n <= 0)
		return -1;
	b[n] = 0;
	p = strrchr(b, ')'); /* the command name may hold anything */
	if (!p)
		return -1;
	/* fields 3 (state) to 19 (nice) come first: num_threads is 20 */
	for (i = 0; i < 18 && p; i++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

#define MPS_HB_TRIES 16

void mps_handback_touch(int fd, int rd)
{
	struct mps_sock *s;
	int n = 0;

	if (mps_inside || fd < 0 || !mps_fdtab_has(fd))
		return;
	s = mps_fdtab_get(fd);
	if (!s)
		return;
	if (atomic_load(&s->handback) != MPS_HB_OFFERED)
		goto out;
	/* Not before the app has answered, at a read: a connection that
	 * ends after one request and its response (Connection: close) would
	 * pay the round trip to the shim thread for nothing (new connections
	 * a second fell by a third, the app's loop waiting for a loaded shim
	 * thread); one that goes on is swapped at its next read. */
	if (!rd) {
		atomic_store(&s->hb_wrote, 1);
		goto out;
	}
	if (!atomic_load(&s->hb_wrote))
		goto out;
	/* Only the app's one thread may be using its end: another one
	 * blocked in read() or poll() on it would stay on the old file.  A
	 * forked process holds a copy of the end too (the copy would go
	 * dead).  Neither changes back: no more tries. */
	if (atomic_load(&s->remote) || s->fork_gen != atomic_load(&mps_fork_gen) ||
	    n_threads() != 2) {
		mps_handback_cancel(s);
		goto out;
	}
	/* A dup of the end (its own fdtab reference, beyond the table's, the
	 * connection's, ours and the pause's, hb_refs) would go dead too: not
	 * while it lives. */
	if (atomic_load(&s->refs) > 3 + atomic_load(&s->hb_refs))
		goto out;
	/* Bytes relayed that the app has not read yet: after its read.  If
	 * the relay keeps the end full, it pauses for the app to drain it
	 * (asked a few times at most). */
	if (ioctl(fd, FIONREAD, &n) != 0 || n != 0) {
		if (!atomic_load(&s->hb_listed) && atomic_fetch_add(&s->hb_paused, 1) < 8)
			mps_handback_pause(s);
		goto out;
	}
	/* Bytes in flight: the next call tries again (the relay pauses for
	 * it), a few times only while paused (each try is a round trip to the
	 * shim thread; a connection that keeps both directions busy stays
	 * relayed). */
	if (mps_handback_run(s, fd, hb_swap) == -EAGAIN && atomic_load(&s->hb_listed) &&
	    atomic_fetch_add(&s->hb_tries, 1) + 1 >= MPS_HB_TRIES)
		mps_handback_cancel(s);
out:
	mps_sock_put(s);
}
