/* config.h - the MPTCPSHIM_* environment, parsed once into an immutable struct.
 * Every variable name the library reads is defined in config.c and nowhere else. */
#ifndef MPS_CONFIG_H
#define MPS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mptcpshim/gwconf.h"
#include "mptcpshim/log.h" /* enum mps_log_level */

#define MPS_IFNAMSIZ 16 /* IF_NAMESIZE, without dragging net/if.h in */

struct mps_peer_rule {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network byte order */
	uint8_t prefix;    /* prefix length in bits */
	uint16_t port;     /* host order; 0 = any */
};

#define MPS_MAX_PEER_RULES 32
#define MPS_MAX_IFLIST 16     /* entries in INTERFACES / EXCLUDE / ADVERTISE */
#define MPS_IFLIST_ENTRY 48   /* an interface name or an address, as text */
#define MPS_MAX_SUBFLOWS 32   /* hard cap on MPTCPSHIM_MAX_SUBFLOWS */

struct mps_config {
	int disabled;              /* MPTCPSHIM_DISABLE */
	int log_level;             /* MPTCPSHIM_LOG */
	char log_file[256];        /* MPTCPSHIM_LOG_FILE; empty = stderr */
	int peers_all;             /* MPTCPSHIM_PEERS unset or "all" */
	size_t npeers;
	struct mps_peer_rule peers[MPS_MAX_PEER_RULES];
	uint32_t plain_cache_ttl;  /* MPTCPSHIM_PLAIN_CACHE_TTL, seconds */
	uint32_t resume_ttl;       /* MPTCPSHIM_RESUME: ticket lifetime, seconds; 0 = off */
	uint32_t direct;           /* MPTCPSHIM_DIRECT: the app-thread send path (default 1) */
	uint32_t inl;              /* MPTCPSHIM_INLINE: inline connections, inline.c (default 0) */
	/* MPTCPSHIM_PEER_CACHE: the file where the user's processes share
	 * plain verdicts; empty = not shared ("none") */
	char peer_cache[256];
	size_t sndbuf;             /* MPTCPSHIM_SNDBUF: per-connection send buffer bytes */
	/* Path manager (issue 3). */
	unsigned max_subflows;       /* MPTCPSHIM_MAX_SUBFLOWS, 1..32, default 8 */
	unsigned subflows_per_path;  /* MPTCPSHIM_SUBFLOWS_PER_PATH, 1..8, default 1 */
	size_t ninterfaces;          /* MPTCPSHIM_INTERFACES: allow list (empty = all) */
	char interfaces[MPS_MAX_IFLIST][MPS_IFNAMSIZ];
	size_t nexclude;             /* MPTCPSHIM_EXCLUDE: deny list */
	char exclude[MPS_MAX_IFLIST][MPS_IFNAMSIZ];
	int advertise_all;           /* MPTCPSHIM_ADVERTISE unset or "all" (default 1) */
	size_t nadvertise;           /* ... else these interface names / addresses ("none": 0) */
	char advertise[MPS_MAX_IFLIST][MPS_IFLIST_ENTRY];
	char scheduler[16];          /* MPTCPSHIM_SCHEDULER: default|roundrobin|redundant|ecf */
	char cc[16];                 /* MPTCPSHIM_CC: uncoupled|lia|olia|auto (default uncoupled) */
	/* Resilience (issue 4). */
	size_t nbackup;              /* MPTCPSHIM_BACKUP: interfaces used only while no other works */
	char backup[MPS_MAX_IFLIST][MPS_IFNAMSIZ];
	uint32_t outage_timeout;     /* MPTCPSHIM_OUTAGE_TIMEOUT: seconds without any path, default 30 */
	/* MPTCPSHIM_JOIN_PORTS: the join listener's port range (0, 0: ephemeral) */
	uint16_t join_port_lo, join_port_hi;
	char policy_file[256];       /* MPTCPSHIM_POLICY: the steering policy file; empty = none */
	char counters_file[256];     /* MPTCPSHIM_COUNTERS_FILE: counters at exit; empty = none */
	/* MPTCPSHIM_GATEWAY, _KEY_FILE, _FOR, _FALLBACK (issue 14) */
	struct mps_gwconf gw;
	/* Lazy joins (issue 15): the client opens extra subflows once the
	 * connection has lived MPTCPSHIM_JOIN_DELAY milliseconds (default 200)
	 * or carried MPTCPSHIM_JOIN_BYTES bytes both ways (default 65536). */
	uint32_t join_delay_ms;
	uint32_t join_bytes;
	/* MPTCPSHIM_KERNEL_MPTCP=1: plain connections of a client (the
	 * reconnect after a fallback, destinations known plain) are opened as
	 * IPPROTO_MPTCP where the kernel has it (default 0) */
	int kernel_mptcp;
	int control;                 /* MPTCPSHIM_CONTROL: the control socket (default 1) */
	int defer_accept;            /* MPTCPSHIM_DEFER_ACCEPT: TCP_DEFER_ACCEPT learnt per listener (default 1) */
	int handover;                /* MPTCPSHIM_HANDOVER: a forked child services its connection (default 1) */
	int handover_exec; /* MPTCPSHIM_HANDOVER_EXEC: ... and the image it execs (step 5) */
};

/* The lists (INTERFACES, EXCLUDE, ADVERTISE) are separated by commas or
 * spaces, at most MPS_MAX_IFLIST entries.  An interface name is 1..15
 * bytes without '/', ':' or white space (what the kernel accepts for a
 * device).  An ADVERTISE entry is such a name or a numeric IPv4/IPv6
 * address (no brackets, no %scope); there, digits-and-dots entries that
 * are no IPv4 address, and "all"/"none" inside a list, are bad.  A list
 * with any bad entry is a bad value: the whole variable is ignored.
 * Numbers are plain decimal (no sign, no leading space). */

typedef const char *(*mps_getenv_fn)(const char *name);
typedef void (*mps_warn_fn)(const char *msg);

/* Fill c from the environment through get (the test seam).  A bad value
 * calls warn once with a one-line message and keeps the default.  An
 * empty value counts as unset. */
void mps_config_parse(struct mps_config *c, mps_getenv_fn get, mps_warn_fn warn);

/* The process-wide config, parsed on first use.  Secure-exec processes
 * (setuid, file capabilities) ignore their environment and run with the
 * library disabled. */
const struct mps_config *mps_config(void);

/* Parse the process-wide config now, from the library's constructor, so a
 * bad value is reported even by a program that never opens a socket, and
 * only once per command (MPTCPSHIM_WARNED, internal, marks the environment
 * after a warning). */
void mps_config_early(void);

/* MPTCPSHIM_WARNED holds the digests (8 hex digits each, comma-separated)
 * of the warning lines already printed for this command.  The digest of
 * one line; and 1 if marker (may be NULL) lists msg's digest, else 0. */
uint32_t mps_config_warn_digest(const char *msg);
int mps_config_warned(const char *marker, const char *msg);

/* MPTCPSHIM_INHERIT (internal, see inherit.h): its name, and the value
 * copied into buf (1) and removed from the environment; 0 when unset, too
 * long, or in a secure-exec process. */
extern const char mps_env_inherit[];
int mps_config_take_inherit(char *buf, size_t cap);
/* MPTCPSHIM_EXECSTATE (internal, see execstate.h): its name, and the
 * descriptor number it holds, removed from the environment; -1 when
 * unset, malformed, or in a secure-exec process. */
extern const char mps_env_execstate[];
int mps_config_take_execstate(void);

/* 1 if MP should be tried towards sa (MPTCPSHIM_PEERS), else 0. */
int mps_config_peer_allowed(const struct mps_config *c, const struct sockaddr *sa);

#endif
