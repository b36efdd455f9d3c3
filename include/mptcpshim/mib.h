/* mib.h - counters, kernel-MIB style (after net/mptcp/mib.c): one array of
 * 64-bit counters per connection and one per process, indexed by enum
 * mps_mib_id.  The names are part of the control protocol and of
 * `mptcpshim status --json` (stable: new counters are appended, none is
 * renamed).  Pure: no I/O; the engine adds through mps_stat_* (stat.h),
 * on the shim thread only. */
#ifndef MPS_MIB_H
#define MPS_MIB_H

#include <stddef.h>
#include <stdint.h>

enum mps_mib_id {
	MPS_MIB_CONNS = 0,        /* connections handled by the shim */
	MPS_MIB_MP_CONNS,         /* ... that negotiated multipath */
	MPS_MIB_SF_OPENED,        /* extra subflows opened by our path manager */
	MPS_MIB_SF_JOINED,        /* extra subflows that completed their join (either side) */
	MPS_MIB_SF_REJECTED,      /* joins refused (bad token, HMAC, limits) */
	MPS_MIB_SF_FAILED,        /* extra subflows whose connect or join failed */
	MPS_MIB_SF_LOST,          /* subflows lost or dropped mid-connection */
	MPS_MIB_REINJ_BYTES,      /* bytes queued again after a lost or stale subflow */
	MPS_MIB_STALE,            /* subflows found stale (blackholed) */
	MPS_MIB_FB_PLAIN_SERVER,  /* fallback: the server does not speak mptcpshim */
	MPS_MIB_FB_TIMEOUT,       /* fallback: no answer to our HELLO in time */
	MPS_MIB_FB_PLAIN_CLIENT,  /* fallback (server): a plain TCP client */
	MPS_MIB_OUTAGES,          /* outages begun (no working path) */
	MPS_MIB_OUTAGES_SURVIVED, /* outages that ended with a path back */
	MPS_MIB_FAILOVERS,        /* data moved on after a subflow was lost */
	MPS_MIB_BYTES_SENT,       /* bytes the app wrote that the shim took */
	MPS_MIB_BYTES_RECEIVED,   /* bytes handed to the app */
	MPS_MIB_SET_APPLIED,      /* `mptcpshim set` changes applied to a connection */
	MPS_MIB_GW_REQUESTS,      /* gateway: requests authenticated */
	MPS_MIB_GW_UNAUTH,        /* gateway: connections refused before authentication */
	MPS_MIB_GW_POLICY,        /* gateway: destinations refused by its policy */
	MPS_MIB_GW_DEST_FAILED,   /* gateway: destinations that could not be reached */
	MPS_MIB_HANDED,           /* connections handed to a forked child (handover.c) */
	MPS_MIB_HANDED_BACK,      /* plain clients' TCP sockets handed back to the app (handback.c,
				     inline_srv.c) */
	MPS_MIB_EXEC_ADOPTED,     /* connections carried into this exec'd image (handover_exec.c) */
	MPS_MIB_TAKEN_OVER,       /* connections a forked child took over from its parent (handover.c) */
	MPS_MIB_RESUMED,          /* connections keyed from a ticket: no X25519 (kex.h) */
	MPS_MIB_RESUME_MISSED,    /* a ticket offered, but a full agreement (server lacked it) */
	MPS_MIB_IDLE_RELEASES,    /* quiet spells whose memory a connection gave back (idlemem.c) */
	MPS_MIB_GW_LIMITED,       /* gateway: connections refused by its limits (any thread) */
	MPS_MIB_DIRECT_WRITES,    /* app writes taken on the app's thread (direct.c), no socketpair */
	MPS_MIB_INLINE_CONNS,     /* connections begun inline (inline.c): no socketpair */
	MPS_MIB_INLINE_PROMOTED,  /* ... that took a socketpair later (promoted) */
	MPS_MIB_INLINE_HELLO_SHARED, /* ... whose HELLO left in the app's first write's segment */
	MPS_MIB_CLOSED_FIN,          /* first closes as TCP's (MPS_CAP_FINCLOSE) */
	MPS_MIB__MAX
};

struct mps_mib {
	uint64_t v[MPS_MIB__MAX];
};

/* The counter's name ("subflows_joined" ...), NULL out of range. */
const char *mps_mib_name(int id);

/* The id of a name, -1 if none. */
int mps_mib_find(const char *name);

/* conn (may be NULL) and proc each gain n in counter id. */
static inline void mps_mib_add(struct mps_mib *conn, struct mps_mib *proc, enum mps_mib_id id,
                               uint64_t n)
{
	if (conn)
		conn->v[id] += n;
	if (proc)
		proc->v[id] += n;
}

/* Per connection, embedded in struct mps_conn (here, not in stat.h, so that
 * conn_int.h needs no stat.h: stat.c reads the connections). */
struct mps_conn_stat {
	struct mps_mib mib;
	uint32_t id;     /* this process's connection number, from 1 */
	double born;     /* ev_now when the engine took it */
	double fo_since; /* a subflow with data in flight was lost: the last
	                      data-level progress before (0: none pending) */
	char fb_why[48]; /* fallback reason, empty while multipath */
};

#endif
