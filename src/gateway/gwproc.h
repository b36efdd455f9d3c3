/* gwproc.h - mptcpshim-gateway's processes (gwproc.c): the daemon under
 * the library, and --workers: a supervisor and N worker processes sharing
 * the listening port. */
#ifndef MPS_GATEWAY_GWPROC_H
#define MPS_GATEWAY_GWPROC_H

/* Not under libmptcpshim: execute argv again with it preloaded (exits on
 * failure).  Returns only when the library is loaded. */
void mps_gwproc_need_shim(char **argv, const char *lib);

/* This process is worker i of n (1-based; set by the supervisor in the
 * environment), and *replay_fd the shared replay cache's memory file:
 * 1; else 0 (*i = *n = 1, *replay_fd = -1). */
int mps_gwproc_worker(int *i, int *n, int *replay_fd);

/* The supervisor of --workers n: the shared replay cache made, n workers
 * started (argv executed again, each told its index), a worker that dies
 * restarted, until stopfd reads (SIGTERM, SIGINT, SIGHUP): then every
 * worker gets SIGTERM and is waited for (SIGKILL after 10 s).  The exit
 * status: 0, or 1 when a worker failed at its start (exited with an error
 * within 2 s: the others are stopped then). */
int mps_gwproc_supervise(int n, char **argv, int stopfd, void (*log)(const char *fmt, ...));

#endif
