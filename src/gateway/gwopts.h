/* gwopts.h - mptcpshim-gateway's command line (gwopts.c). */
#ifndef MPS_GATEWAY_GWOPTS_H
#define MPS_GATEWAY_GWOPTS_H

#include "mptcpshim/gwpolicy.h"

struct mps_gwopts {
	int verbose;
	int max_conns;
	int max_per_client;
	int connect_timeout_ms;
	int max_pending_per_source; /* 0: no limit */
	int auth_timeout_ms;
	int rate_per_client; /* new connections per second per key; 0: no limit */
	int relay;           /* --relay: a relay thread per connection, not the splice */
	int threaded;        /* --threaded: a daemon thread answers each request */
	int check;           /* --check: check the options and the key file, then exit */
	int workers;         /* --workers N: processes sharing the port (1: this one) */
	int max_conns_set;   /* --max-conns given (else 4096 a worker) */
	const char *listen;  /* --listen ADDR:PORT */
	const char *key_file;
};

/* The daemon's options, the defaults until mps_gwopts_parse. */
extern struct mps_gwopts g_opt;

/* Parse argv into g_opt, adding --allow/--deny rules to pol.  Returns -1
 * when the daemon should run, else the exit status: 0 after --help or
 * --gen-key (done here), 2 after a usage error (said on stderr). */
int mps_gwopts_parse(int argc, char **argv, struct mps_gwpolicy *pol);

#endif
