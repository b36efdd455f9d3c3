/* ctl_int.h - what the parts of mptcpshim-ctl share: the processes found
 * (procs.c: their control sockets, one request and its whole reply) and
 * the JSON rendering of the records (json.c).  main.c has the commands. */
#ifndef MPS_CTL_INT_H
#define MPS_CTL_INT_H

#include <sys/un.h>

#include "mptcpshim/ctlproto.h"

#define MAX_PROCS 1024
#define REPLY_MAX (16u << 20)

struct proc {
	int pid;
	char comm[32];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Every process of ours with a control socket that sel (PID, COMMAND,
 * "all" or NULL) names, sorted by pid; at most max. */
int ctl_discover(const char *sel, struct proc *out, int max);

/* A connected control socket with req sent (5 s timeouts), or -1. */
int ctl_connect(const struct proc *p, const char *req);

/* The whole reply to req (NUL-terminated, in b), 0; -1 if none. */
int ctl_query(const struct proc *p, const char *req, struct mps_obuf *b);

/* JSON names and types of the record keys: n number, f number with a
 * fraction, b boolean (0/1), s string ("-" is null). */
struct field {
	const char *key, *json;
	char type;
};

extern const struct field ctl_ev_fields[]; /* a monitor event's */

/* The fields of a record line as JSON members (after a '{' or a member:
 * each preceded by a comma unless first).  Returns first, cleared once a
 * member was written. */
int ctl_json_fields(struct mps_obuf *o, const char *line, const struct field *f, int first);

/* One process's status (or, counters set, counters) reply as a JSON
 * object. */
void ctl_json_proc(struct mps_obuf *o, const struct proc *p, const char *reply, int counters);

#endif
