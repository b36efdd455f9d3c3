/* ctl.c - the per-process control socket (see ctl.h and docs/DESIGN.md
 * "Control socket").  Shim thread only, except mps_ctl_exit.
 *
 * Nothing here may block the shim thread: every descriptor is
 * non-blocking, a request must arrive within CTL_REQ_TIMEOUT, a reply is
 * built in memory (bounded) and written as the client reads it, and a
 * client that stops reading for CTL_IDLE_TIMEOUT, or a monitor that falls
 * CTL_MON_MAX bytes behind, is dropped. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
/* <elf.h>, through <sys/auxv.h>, defines names libev uses */
#undef EV_NONE
#undef EV_CURRENT
#undef EV_NUM
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/ctl.h"
#include "mptcpshim/ctlproto.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/log.h"
#include "mptcpshim/policy.h"
#include "mptcpshim/real.h"
#include "mptcpshim/set.h"
#include "mptcpshim/stat.h"

#define CTL_MAX_CLIENTS 16
#define CTL_REQ_TIMEOUT 5.0      /* seconds for the request line */
#define CTL_IDLE_TIMEOUT 10.0    /* seconds a reply may wait for its reader */
#define CTL_REPLY_MAX (8u << 20) /* status of thousands of connections */
#define CTL_MON_MAX (256u << 10) /* events a monitor may fall behind */

struct ctl_client {
	int fd;
	int monitor; /* streaming events */
	int closing; /* close once the reply is out */
	ev_io rio, wio;
	ev_timer timer;
	char req[MPS_CTL_REQ_MAX];
	size_t rlen;
	struct mps_obuf out;
	struct ctl_client *next;
};

static struct {
	int fd;
	pid_t pid; /* who made path */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ev_io io;
	struct ev_loop *loop;
	struct ctl_client *clients;
	int nclients, nmonitors;
} g = {.fd = -1};

int mps_ctl_dir_check(const char *dir, uid_t uid, int create)
{
	struct stat st;
	int fd, rc = 0;

	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	/* O_NOFOLLOW: a symbolic link planted in /tmp is refused, not
	 * followed; the checks then apply to what we opened. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077))
		rc = -EPERM;
	mps_real.close(fd);
	return rc;
}

static void client_free(struct ctl_client *cl)
{
	struct ctl_client **pp;

	for (pp = &g.clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	ev_io_stop(g.loop, &cl->rio);
	ev_io_stop(g.loop, &cl->wio);
	ev_timer_stop(g.loop, &cl->timer);
	mps_ifd_close(cl->fd);
	if (cl->monitor)
		g.nmonitors--;
	g.nclients--;
	mps_obuf_free(&cl->out);
	free(cl);
}

/* Write what is queued; 0, or -1 when the client was freed. */
static int client_flush(struct ctl_client *cl)
{
	while (cl->out.len) {
		ssize_t w =
		        mps_real.send(cl->fd, cl->out.p, cl->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(g.loop, &cl->wio);
			if (!ev_is_active(&cl->timer) || cl->monitor) {
				ev_timer_set(&cl->timer, CTL_IDLE_TIMEOUT, 0.);
				ev_timer_start(g.loop, &cl->timer);
			}
			return 0;
		}
		if (w <= 0) {
			client_free(cl);
			return -1;
		}
		mps_obuf_consume(&cl->out, (size_t)w);
		ev_timer_stop(g.loop, &cl->timer);
	}
	ev_io_stop(g.loop, &cl->wio);
	if (cl->closing) {
		client_free(cl);
		return -1;
	}
	return 0;
}

static void reply_set(struct ctl_client *cl, int rc, const char *what)
{
	if (rc >= 0)
		mps_obuf_printf(&cl->out, "ok applied=%d\n", rc);
	else
		mps_obuf_printf(&cl->out, "error reason=%s:%%20%s\n", what,
		                rc == -EINVAL ? "unknown%20scheduler" :
		                rc == -ENODEV ? "no%20such%20interface" :
		                                "too%20many%20interfaces");
}

static void handle_request(struct ctl_client *cl, const char *buf, size_t len)
{
	struct mps_ctlreq r;

	cl->closing = 1;
	if (mps_ctlreq_parse(buf, len, &r) != 0) {
		mps_obuf_printf(&cl->out, "error reason=bad%%20request\n");
		return;
	}
	switch (r.type) {
	case MPS_REQ_STATUS:
		mps_stat_dump(&cl->out);
		break;
	case MPS_REQ_COUNTERS:
		mps_stat_counters(&cl->out);
		break;
	case MPS_REQ_MONITOR:
		cl->closing = 0;
		cl->monitor = 1;
		g.nmonitors++;
		cl->out.max = CTL_MON_MAX;
		mps_obuf_printf(&cl->out, "ok monitor pid=%d\n", (int)getpid());
		break;
	case MPS_REQ_SET_SCHED:
		reply_set(cl, mps_set_scheduler(r.name), "scheduler");
		break;
	case MPS_REQ_SET_BACKUP:
		reply_set(cl, mps_set_backup(r.name, r.on), "backup");
		break;
	case MPS_REQ_SET_IFACE:
		reply_set(cl, mps_set_interface(r.name, r.on), "interface");
		break;
	case MPS_REQ_RELOAD: {
		/* on the shim thread: the live connections are re-matched now */
		int rc = mps_policy_reload();

		if (rc == 0)
			mps_obuf_printf(&cl->out, "ok applied=1\n");
		else
			mps_obuf_printf(&cl->out, "error reason=reload:%%20%s\n",
			                rc == -ENOENT  ? "no%20MPTCPSHIM_POLICY%20file" :
			                rc == -EINVAL  ? "syntax%20error%20(see%20the%20log)" :
			                rc == -EFBIG   ? "file%20too%20large" :
			                                 "cannot%20read%20the%20file");
		break;
	}
	}
	if (cl->out.full) /* cut short: say so rather than end silently */
		cl->out.full = 0, cl->out.max += 64,
		mps_obuf_printf(&cl->out, "error reason=reply%%20too%%20large\n");
}

static void on_client_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *cl = w->data;
	ssize_t r;
	char *nl;

	if (cl->monitor || cl->closing) {
		/* nothing more is read: EOF or junk ends a monitor */
		char junk[64];

		r = mps_real.recv(cl->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) || r > 0)
			client_free(cl);
		return;
	}
	r = mps_real.recv(cl->fd, cl->req + cl->rlen, sizeof(cl->req) - cl->rlen, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		client_free(cl);
		return;
	}
	cl->rlen += (size_t)r;
	nl = memchr(cl->req, '\n', cl->rlen);
	if (!nl && cl->rlen < sizeof(cl->req))
		return;
	ev_timer_stop(loop, &cl->timer);
	handle_request(cl, cl->req, nl ? (size_t)(nl - cl->req) + 1 : cl->rlen);
	client_flush(cl);
}

static void on_client_write(struct ev_loop *loop, ev_io *w, int revents)
{
	client_flush(w->data);
}

static void on_client_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	client_free(w->data);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *cl;
	struct ucred cred;
	socklen_t cl_len = sizeof(cred);
	int fd;

	mps_alloc_shim(1);
	fd = mps_real.accept4(g.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		fd = mps_ifd_take(fd, 0); /* out of the app's range; no room: refused */
	mps_alloc_shim(0);
	if (fd < 0)
		return;
	/* The directory (0700) already keeps other users out; the peer's
	 * credentials are checked too, in case it was opened up. */
	if (mps_real.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl_len) != 0 ||
	    (cred.uid != geteuid() && cred.uid != 0) || g.nclients >= CTL_MAX_CLIENTS ||
	    !(cl = calloc(1, sizeof(*cl)))) {
		mps_ifd_close(fd);
		return;
	}
	cl->fd = fd;
	mps_obuf_init(&cl->out, CTL_REPLY_MAX);
	ev_io_init(&cl->rio, on_client_read, fd, EV_READ);
	ev_io_init(&cl->wio, on_client_write, fd, EV_WRITE);
	ev_timer_init(&cl->timer, on_client_timer, CTL_REQ_TIMEOUT, 0.);
	cl->rio.data = cl->wio.data = cl->timer.data = cl;
	ev_io_start(loop, &cl->rio);
	ev_timer_start(loop, &cl->timer);
	cl->next = g.clients;
	g.clients = cl;
	g.nclients++;
}

void mps_ctl_start(struct ev_loop *loop)
{
	struct sockaddr_un sa;
	char dir[96];
	int fd, rc = -ENAMETOOLONG;

	mps_stat_set_sink(mps_ctl_monitors, mps_ctl_publish); /* stat.c's events */
	if (g.fd >= 0 || !mps_config()->control || getauxval(AT_SECURE))
		return;
	if (mps_ctl_dir(dir, sizeof(dir), secure_getenv("XDG_RUNTIME_DIR"), geteuid()) != 0 ||
	    (rc = mps_ctl_dir_check(dir, geteuid(), 1)) != 0) {
		mps_warn("control: no control socket: %s is not a private directory of ours (%s)",
		         dir, strerror(-rc));
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%d.sock", dir, (int)getpid());
	mps_alloc_shim(1);
	fd = mps_real.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		fd = mps_ifd_take(fd, 1); /* out of the app's range */
	mps_alloc_shim(0);
	if (fd < 0)
		return;
	/* A stale name from an earlier process with our pid (killed before
	 * its exit handler ran) is ours to replace. */
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(sa.sun_path, 0600) != 0 ||
	    listen(fd, 16) != 0) {
		mps_warn("control: cannot listen on %s: %s", sa.sun_path, strerror(errno));
		mps_ifd_close(fd);
		return;
	}
	g.fd = fd;
	g.pid = getpid();
	g.loop = loop;
	snprintf(g.path, sizeof(g.path), "%s", sa.sun_path);
	ev_io_init(&g.io, on_accept, fd, EV_READ);
	ev_io_start(loop, &g.io);
	ev_unref(loop); /* the control socket alone keeps no loop alive */
	mps_dbg("control: listening on %s", g.path);
}

int mps_ctl_monitors(void)
{
	return g.nmonitors;
}

void mps_ctl_publish(const char *line, size_t len)
{
	struct ctl_client *cl, *next;

	for (cl = g.clients; cl; cl = next) {
		next = cl->next;
		if (!cl->monitor)
			continue;
		if (mps_obuf_put(&cl->out, line, len) != 0) {
			client_free(cl); /* does not read: it goes, the loop goes on */
			continue;
		}
		client_flush(cl);
	}
}

void mps_ctl_exit(void)
{
	if (g.fd >= 0 && g.pid == getpid())
		unlink(g.path);
}

void mps_ctl_atfork_child(void)
{
	/* The descriptors are the parent's (closed by fdtab as internal);
	 * the memory of the clients is left alone. */
	g.fd = -1;
	g.pid = 0;
	g.clients = NULL;
	g.nclients = g.nmonitors = 0;
	g.path[0] = 0;
}
