/* real.c - resolve libc's symbols once. */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "mptcpshim/real.h"

struct mps_real mps_real;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void *sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p)
		p = dlsym(RTLD_DEFAULT, name);
	if (!p) {
		/* Without libc's own call nothing can work: say so and stop. */
		static const char msg[] = "mptcpshim: cannot resolve a libc symbol\n";
		if (write(2, msg, sizeof(msg) - 1) < 0) {
		}
		abort();
	}
	return p;
}

/* Symbols an older libc may lack (the hook then fails with ENOSYS). */
static void *sym_opt(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	return p ? p : dlsym(RTLD_DEFAULT, name);
}

static void resolve(void)
{
	mps_real.socket = sym("socket");
	mps_real.connect = sym("connect");
	mps_real.getaddrinfo = sym("getaddrinfo");
	mps_real.accept = sym("accept");
	mps_real.accept4 = sym("accept4");
	mps_real.close = sym("close");
	mps_real.dup = sym("dup");
	mps_real.dup2 = sym("dup2");
	mps_real.dup3 = sym("dup3");
	mps_real.fcntl = sym("fcntl");
	mps_real.getsockopt = sym("getsockopt");
	mps_real.setsockopt = sym("setsockopt");
	mps_real.getpeername = sym("getpeername");
	mps_real.getsockname = sym("getsockname");
	mps_real.sendto = sym("sendto");
	mps_real.sendmsg = sym("sendmsg");
	mps_real.shutdown = sym("shutdown");
	mps_real.read = sym("read");
	mps_real.readv = sym("readv");
	mps_real.recv = sym("recv");
	mps_real.recvfrom = sym("recvfrom");
	mps_real.recvmsg = sym("recvmsg");
	mps_real.write = sym("write");
	mps_real.writev = sym("writev");
	mps_real.send = sym("send");
	mps_real.read_chk = sym("__read_chk");
	mps_real.recv_chk = sym("__recv_chk");
	mps_real.recvfrom_chk = sym("__recvfrom_chk");
	mps_real.eventfd = sym("eventfd");
	mps_real.epoll_create = sym("epoll_create");
	mps_real.epoll_create1 = sym("epoll_create1");
	mps_real.epoll_ctl = sym("epoll_ctl");
	mps_real.epoll_wait = sym("epoll_wait");
	mps_real.epoll_pwait = sym("epoll_pwait");
	mps_real.prctl = sym("prctl");
	mps_real.syscall = sym("syscall");
	mps_real.exit_ = (void (*)(int))sym("_exit");
	mps_real.execve = sym("execve");
	mps_real.execveat = sym_opt("execveat");
	mps_real.fexecve = sym("fexecve");
	mps_real.execvpe = sym("execvpe");
	mps_real.posix_spawn = sym("posix_spawn");
	mps_real.posix_spawnp = sym("posix_spawnp");
	mps_real.poll = sym("poll");
	mps_real.poll_chk = sym_opt("__poll_chk");
	mps_real.ppoll = sym("ppoll");
	mps_real.ppoll_chk = sym_opt("__ppoll_chk");
	mps_real.select = sym("select");
	mps_real.pselect = sym("pselect");
	mps_real.ioctl = sym("ioctl");
	mps_real.sendfile = sym("sendfile");
	mps_real.sendfile64 = sym_opt("sendfile64");
	mps_real.splice = sym("splice");
	mps_real.fdopen = sym("fdopen");
	mps_real.recvmmsg = sym("recvmmsg");
	mps_real.sendmmsg = sym("sendmmsg");
}

void mps_real_init(void) { pthread_once(&g_once, resolve); }
