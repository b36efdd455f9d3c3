/* gwproc.c - mptcpshim-gateway's processes: the daemon runs under the
 * library (it executes itself again with it preloaded), and --workers N
 * runs N copies of itself, each a whole gateway with the library's shim
 * thread, listening on the same port (SO_REUSEPORT: the kernel spreads
 * new connections by a hash of their addresses and ports).  A process
 * holds at most RLIMIT_NOFILE descriptors (about 6 a connection), and one
 * shim thread uses one core: the workers pass both limits.  Joins reach
 * the worker that owns their connection because each has its own join
 * listener, whose port its connections announce (docs/DESIGN.md section
 * 10, "Workers").  They share one thing: the replay cache, in a memory
 * file the supervisor makes and each maps (MPS_SO_GW_REPLAY), so that a
 * replayed request is refused whichever worker the kernel gives it to.
 * The supervisor runs no connection: it starts, restarts and stops. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/gwauth.h"
#include "gwproc.h"

#define ENV_WORKER "MPTCPSHIM_GATEWAY_WORKER"    /* "I/N" */
#define ENV_REPLAY "MPTCPSHIM_GATEWAY_REPLAY_FD" /* the replay cache's memfd */
#define MAX_WORKERS 64
#define START_GRACE_S 2.0 /* a worker that exits with an error sooner failed at its start */
#define STOP_WAIT_S 10.0  /* then SIGKILL */

static int find_shim(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libmptcpshim")) {
		*(int *)data = 1;
		return 1;
	}
	return 0;
}

/* Our own file, by its real path, not /proc/self/exe: the kernel names a
 * process after the file it executes, and ps, ss, systemd and `mptcpshim
 * status mptcpshim-gateway` would see "exe". */
static void exec_self(char **argv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		execv(self, argv);
	}
	execv("/proc/self/exe", argv);
}

void mps_gwproc_need_shim(char **argv, const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char val[PATH_MAX + 64];
	int shim = 0;

	dl_iterate_phdr(find_shim, &shim);
	if (shim)
		return;
	/* once: if it is in LD_PRELOAD already, it could not be loaded */
	if (old && strstr(old, lib)) {
		fprintf(stderr,
		        "mptcpshim-gateway: libmptcpshim (%s) could not be preloaded: the gateway "
		        "runs only under it\n",
		        lib);
		exit(1);
	}
	snprintf(val, sizeof(val), "%s%s%s", lib, old && *old ? " " : "", old ? old : "");
	setenv("LD_PRELOAD", val, 1);
	exec_self(argv);
	fprintf(stderr, "mptcpshim-gateway: cannot re-execute under %s: %s\n", lib,
	        strerror(errno));
	exit(1);
}

int mps_gwproc_worker(int *i, int *n, int *replay_fd)
{
	const char *w = getenv(ENV_WORKER), *r = getenv(ENV_REPLAY);

	*i = *n = 1;
	*replay_fd = -1;
	if (!w || sscanf(w, "%d/%d", i, n) != 2 || *n < 1 || *n > MAX_WORKERS || *i < 1 ||
	    *i > *n) {
		*i = *n = 1;
		return 0;
	}
	if (r)
		*replay_fd = atoi(r);
	return 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct worker {
	pid_t pid;
	double started;
};

/* Start worker i (0-based) of n: its pid, or -1. */
static pid_t start_worker(int i, int n, char **argv, void (*log)(const char *fmt, ...))
{
	pid_t parent = getpid(), pid = fork();
	char v[32];

	if (pid != 0) {
		if (pid < 0)
			log("cannot start worker %d: fork: %s", i + 1, strerror(errno));
		return pid;
	}
	/* a supervisor killed (SIGKILL) must not leave its workers serving */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	snprintf(v, sizeof(v), "%d/%d", i + 1, n);
	setenv(ENV_WORKER, v, 1);
	exec_self(argv);
	_exit(127);
}

/* SIGTERM to every worker, then wait (SIGKILL after STOP_WAIT_S). */
static void stop_all(struct worker *w, int n, void (*log)(const char *fmt, ...))
{
	double t0 = now_s();
	int left = 0, killed = 0;

	for (int i = 0; i < n; i++)
		if (w[i].pid > 0 && kill(w[i].pid, SIGTERM) == 0)
			left++;
	while (left > 0) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p > 0) {
			for (int i = 0; i < n; i++)
				if (w[i].pid == p)
					w[i].pid = 0, left--;
			continue;
		}
		if (p < 0 && errno == ECHILD)
			break;
		if (!killed && now_s() - t0 > STOP_WAIT_S) {
			log("%d worker(s) still running after %.0f s: killed", left, STOP_WAIT_S);
			for (int i = 0; i < n; i++)
				if (w[i].pid > 0)
					kill(w[i].pid, SIGKILL);
			killed = 1;
		}
		poll(NULL, 0, 20);
	}
}

/* A worker ended (status st): 0 (restarted, or stopping), or -1 when it
 * failed at its start. */
static int worker_ended(struct worker *w, int i, int n, int st, char **argv, int stopfd,
                        void (*log)(const char *fmt, ...))
{
	struct pollfd stop = {.fd = stopfd, .events = POLLIN};
	char how[64];
	double ran = now_s() - w->started;

	if (WIFSIGNALED(st))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(st));
	else
		snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(st));
	w->pid = 0;
	if (ran < START_GRACE_S && WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		/* it said why (it cannot listen, ...): the others would too */
		log("worker %d of %d failed at its start (%s): stopping", i + 1, n, how);
		return -1;
	}
	/* its connections are gone (a TCP peer's would be too); new ones
	 * go to the others until it is back, at most once a second; not
	 * when stopping (systemd signals every process of the unit at once) */
	if (poll(&stop, 1, ran < 1.0 ? (int)((1.0 - ran) * 1000) : 0) > 0)
		return 0;
	w->pid = start_worker(i, n, argv, log);
	w->started = now_s();
	log("worker %d of %d ended after %.0f s (%s): restarted, pid %d", i + 1, n, ran, how,
	    (int)w->pid);
	return 0;
}

int mps_gwproc_supervise(int n, char **argv, int stopfd, void (*log)(const char *fmt, ...))
{
	struct worker w[MAX_WORKERS];
	struct pollfd pf = {.fd = stopfd, .events = POLLIN};
	int fd, rc = 0;
	char v[32];

	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	fd = mps_gwreplay_new_shared(MPS_GWREPLAY_LOG2_DEFAULT, MPS_GWAUTH_WINDOW_S,
	                             (uint64_t)time(NULL));
	if (fd < 0) {
		log("cannot make the workers' shared replay cache: %s", strerror(-fd));
		return 1;
	}
	snprintf(v, sizeof(v), "%d", fd);
	setenv(ENV_REPLAY, v, 1);
	memset(w, 0, sizeof(w));
	for (int i = 0; i < n; i++) {
		w[i].pid = start_worker(i, n, argv, log);
		w[i].started = now_s();
		if (w[i].pid < 0) {
			stop_all(w, i, log);
			return 1;
		}
	}
	log("supervising %d workers on one port (SO_REUSEPORT)", n);
	while (rc == 0) {
		int st;
		pid_t p;

		if (poll(&pf, 1, 250) > 0)
			break; /* SIGTERM, SIGINT, SIGHUP */
		while (rc == 0 && (p = waitpid(-1, &st, WNOHANG)) > 0)
			for (int i = 0; i < n; i++)
				if (w[i].pid == p &&
				    worker_ended(&w[i], i, n, st, argv, stopfd, log))
					rc = 1;
	}
	stop_all(w, n, log);
	log("stopped: %d workers", n);
	close(fd);
	return rc;
}
