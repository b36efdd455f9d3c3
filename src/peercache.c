/* peercache.c - small fixed-size cache of destination verdicts, and the
 * plain verdicts shared through a file by the user's processes.
 * Consulted once per connect(), so a mutex and a linear scan suffice. */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mptcpshim/peercache.h"
#include "mptcpshim/real.h"
#include "mptcpshim/util.h"

#define SLOTS 128

struct entry {
	uint8_t key[18]; /* 16 address bytes + port */
	uint8_t family;
	uint8_t kind;
	uint64_t until_us; /* PLAIN only */
	uint64_t stamp;    /* LRU */
};

static struct entry g_tab[SLOTS];
static uint64_t g_clock;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static int make_key(const struct sockaddr *sa, uint8_t key[18], uint8_t *family)
{
	memset(key, 0, 18);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		memcpy(key, &in->sin_addr, 4);
		memcpy(key + 16, &in->sin_port, 2);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(key, &in6->sin6_addr, 16);
		memcpy(key + 16, &in6->sin6_port, 2);
	} else
		return -1;
	*family = (uint8_t)sa->sa_family;
	return 0;
}

static struct entry *find(const uint8_t key[18], uint8_t family)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (g_tab[i].kind && g_tab[i].family == family && !memcmp(g_tab[i].key, key, 18))
			return &g_tab[i];
	return NULL;
}

/* The host's key: port 0, which no connect() reaches (and which older
 * versions, looking up a real port, never match in the shared file). */
static void host_key(uint8_t key[18])
{
	key[16] = key[17] = 0;
}

static enum mps_peer_kind entry_kind(struct entry *e, uint64_t now_us)
{
	if (!e)
		return MPS_PEER_UNKNOWN;
	if (e->kind == MPS_PEER_PLAIN && now_us >= e->until_us)
		e->kind = MPS_PEER_UNKNOWN; /* expired: try MP again */
	e->stamp = ++g_clock;
	return (enum mps_peer_kind)e->kind;
}

/* --- Host verdicts shared by this process and its descendants: one
 * MAP_SHARED page made before any fork, so a verdict the shim thread of a
 * forking server learns (a plain FTP client, after its session process
 * was forked) reaches the session process that connects back to that
 * client (active FTP, RTSP/SIP-style "connect to the port I told you"),
 * even chrooted, setuid or sandboxed, where no file is reachable.  Each
 * slot is a seqlock: odd while one writer (any process) fills it. */
#define TREE_SLOTS 64
/* A slot's kind: a plain host (as a destination), or a host that sent a
 * HELLO as a client (a server's longer banner window, nego.h). */
enum { TREE_PLAIN = 0, TREE_SHIM_CLIENT = 1 };

struct tree_slot {
	_Atomic uint32_t seq;
	uint8_t family;
	uint8_t kind; /* TREE_PLAIN or TREE_SHIM_CLIENT */
	uint8_t addr[16];
	_Atomic uint64_t until_us; /* CLOCK_MONOTONIC: one clock for all */
};

static struct tree_slot *g_tree;

void mps_peercache_tree_init(void)
{
	void *m;

	if (g_tree)
		return;
	m = mmap(NULL, TREE_SLOTS * sizeof(struct tree_slot), PROT_READ | PROT_WRITE,
	         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED)
		g_tree = m;
}

static int tree_has(const uint8_t key[18], uint8_t family, uint8_t kind, uint64_t now_us)
{
	struct tree_slot *t;
	uint32_t s1;
	uint64_t until;
	int i, same;

	if (!g_tree)
		return 0;
	for (i = 0; i < TREE_SLOTS; i++) {
		t = &g_tree[i];
		s1 = atomic_load(&t->seq);
		if (s1 & 1)
			continue;
		same = t->family == family && t->kind == kind && !memcmp(t->addr, key, 16);
		until = atomic_load(&t->until_us);
		if (atomic_load(&t->seq) == s1 && same && until > now_us)
			return 1;
	}
	return 0;
}

static void tree_note(const uint8_t key[18], uint8_t family, uint8_t kind, uint64_t until_us)
{
	struct tree_slot *t, *best = NULL;
	uint32_t s;
	int i;

	if (!g_tree)
		return;
	for (i = 0; i < TREE_SLOTS; i++) {
		t = &g_tree[i];
		if (t->family == family && t->kind == kind && !memcmp(t->addr, key, 16)) {
			best = t;
			break;
		}
		if (!best || atomic_load(&t->until_us) < atomic_load(&best->until_us))
			best = t;
	}
	s = atomic_load(&best->seq);
	if ((s & 1) || !atomic_compare_exchange_strong(&best->seq, &s, s + 1))
		return; /* another writer has it: a verdict is an optimisation */
	best->family = family;
	best->kind = kind;
	memcpy(best->addr, key, 16);
	atomic_store(&best->until_us, until_us);
	atomic_store(&best->seq, s + 2);
}

enum mps_peer_kind mps_peercache_lookup(const struct sockaddr *sa, uint64_t now_us)
{
	uint8_t key[18], family;
	enum mps_peer_kind k;

	if (make_key(sa, key, &family))
		return MPS_PEER_UNKNOWN;
	pthread_mutex_lock(&g_lock);
	k = entry_kind(find(key, family), now_us);
	if (k == MPS_PEER_UNKNOWN) {
		/* a port we know nothing of: what its host was found to be
		 * (plain only; a shim elsewhere on the host says nothing
		 * about this port) */
		host_key(key);
		if (entry_kind(find(key, family), now_us) == MPS_PEER_PLAIN ||
		    tree_has(key, family, TREE_PLAIN, now_us))
			k = MPS_PEER_PLAIN;
	}
	pthread_mutex_unlock(&g_lock);
	return k;
}

static void note_key(const uint8_t key[18], uint8_t family, enum mps_peer_kind kind,
                     uint64_t now_us, uint64_t ttl_us);

void mps_peercache_note(const struct sockaddr *sa, enum mps_peer_kind kind, uint64_t now_us,
                        uint64_t ttl_us)
{
	uint8_t key[18], family;

	if (make_key(sa, key, &family))
		return;
	note_key(key, family, kind, now_us, ttl_us);
}

void mps_peercache_note_host(const struct sockaddr *sa, uint64_t now_us, uint64_t ttl_us)
{
	uint8_t key[18], family;

	if (make_key(sa, key, &family))
		return;
	note_key(key, family, MPS_PEER_PLAIN, now_us, ttl_us);
	host_key(key);
	note_key(key, family, MPS_PEER_PLAIN, now_us, ttl_us);
	tree_note(key, family, TREE_PLAIN, now_us + ttl_us);
}

void mps_peercache_note_shim_client(const struct sockaddr *sa, uint64_t now_us, uint64_t ttl_us)
{
	uint8_t key[18], family;

	if (make_key(sa, key, &family))
		return;
	tree_note(key, family, TREE_SHIM_CLIENT, now_us + ttl_us);
}

int mps_peercache_shim_client(const struct sockaddr *sa, uint64_t now_us)
{
	uint8_t key[18], family;

	if (make_key(sa, key, &family))
		return 0;
	return tree_has(key, family, TREE_SHIM_CLIENT, now_us);
}

static void note_key(const uint8_t key[18], uint8_t family, enum mps_peer_kind kind,
                     uint64_t now_us, uint64_t ttl_us)
{
	struct entry *e;
	int i;

	pthread_mutex_lock(&g_lock);
	e = find(key, family);
	if (!e) {
		e = &g_tab[0];
		for (i = 0; i < SLOTS; i++) {
			if (!g_tab[i].kind) {
				e = &g_tab[i];
				break;
			}
			if (g_tab[i].stamp < e->stamp)
				e = &g_tab[i];
		}
		memcpy(e->key, key, 18);
		e->family = family;
	}
	e->kind = (uint8_t)kind;
	e->until_us = now_us + ttl_us;
	e->stamp = ++g_clock;
	pthread_mutex_unlock(&g_lock);
}

void mps_peercache_lock(int lock)
{
	mps_mutex_hold(&g_lock, lock);
}

/* --- Plain verdicts shared by the user's processes (MPTCPSHIM_PEER_CACHE).
 * A short-lived program (curl, ssh) is a new process each time: without
 * this, each run would pay the fallback again (a junk connection to the
 * plain server and up to a few seconds).  Only plain verdicts are shared:
 * a stale one costs multipath until it expires, while a stale "shim"
 * verdict would send app bytes behind a HELLO to a plain server.
 *
 * The file is SHARED_SLOTS fixed records, read and written under flock.
 * It must be a regular file owned by us and writable by nobody else (a
 * file planted in /tmp by another user is ignored).  Records carry the
 * network namespace, whose addresses they are about. */

#define SHARED_SLOTS 256
/* One timed-out HELLO: plain, or a shim server slow to answer (busy,
 * starting up): a second one within the TTL makes it plain. */
#define SHARED_SUSPECT 3
/* pad flag: the verdict is definitive (the server answered something
 * else than a HELLO_ACK, or closed), so a process that reads it takes the
 * whole host for plain, as the process that learned it did (FTP data
 * ports).  Only there: a host verdict in the file would make a shim
 * server on another port of that host plain for every process of the
 * user (ssh to a plain sshd, then to a shim one, lost multipath).
 * Versions without it ignore the pad. */
#define SHARED_HOSTWIDE 1u
/* A host record (port 0): the host sent a HELLO as a client (a server's
 * longer banner window).  Not a plain verdict: lookups of a destination
 * (a real port) never match it. */
#define SHARED_SHIM_CLIENT 4
/* A port record: the destination answered a HELLO (issue 15: a process's
 * first connection to it may start inline, inline.h).  For at most
 * SHARED_SHIM_TTL_S: a server restarted without mptcpshim would get a
 * HELLO and a first flight from every process of the user meanwhile. */
#define SHARED_SHIM_SERVER 5
#define SHARED_SHIM_TTL_S 60

struct shared_rec {
	uint8_t key[18];
	uint8_t family;
	uint8_t kind; /* MPS_PEER_PLAIN, SHARED_SUSPECT, SHARED_SHIM_* or 0 */
	uint32_t pad; /* SHARED_HOSTWIDE */
	uint64_t netns;
	int64_t until; /* CLOCK_REALTIME seconds */
};

static uint64_t netns_id(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static int shared_open(const char *path, int writing)
{
	struct stat st;
	int fd;

	if (!path || !path[0])
		return -1;
	mps_real_init(); /* also run without the preload library (tests) */
	fd = open(path, (writing ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || flock(fd, writing ? LOCK_EX : LOCK_SH) != 0) {
		mps_real.close(fd);
		return -1;
	}
	return fd;
}

/* Is r the record of (key, family) in network namespace ns? */
static int rec_is(const struct shared_rec *r, const uint8_t key[18], uint8_t family, uint64_t ns)
{
	return r->kind && r->family == family && r->netns == ns && !memcmp(r->key, key, 18);
}

/* The live record of (key, family) in ns among n, or NULL. */
static struct shared_rec *find_rec(struct shared_rec *tab, int n, const uint8_t key[18],
                                   uint8_t family, uint64_t ns, int64_t now_s)
{
	int i;

	for (i = 0; i < n; i++)
		if (rec_is(&tab[i], key, family, ns) && tab[i].until > now_s)
			return &tab[i];
	return NULL;
}

static int shared_read(int fd, struct shared_rec *tab)
{
	ssize_t n;

	size_t whole;

	memset(tab, 0, SHARED_SLOTS * sizeof(*tab));
	n = pread(fd, tab, SHARED_SLOTS * sizeof(*tab), 0);
	if (n < 0)
		return -1;
	/* A truncated last record is no record: clear its bytes, or an update
	 * (which looks at every slot) would take them for one. */
	whole = (size_t)n / sizeof(*tab);
	memset(tab + whole, 0, (size_t)n - whole * sizeof(*tab));
	return (int)whole;
}

enum mps_peer_kind mps_peercache_shared_lookup(const char *path, const struct sockaddr *sa,
                                               uint64_t now_us, int64_t now_s)
{
	struct shared_rec *tab, *port;
	uint8_t key[18], family;
	int fd, n;
	enum mps_peer_kind k = MPS_PEER_UNKNOWN;

	if (make_key(sa, key, &family) || (fd = shared_open(path, 0)) < 0)
		return MPS_PEER_UNKNOWN;
	tab = malloc(SHARED_SLOTS * sizeof(*tab));
	n = tab ? shared_read(fd, tab) : -1;
	mps_real.close(fd);
	port = find_rec(tab, n, key, family, netns_id(), now_s);
	if (port && port->kind == MPS_PEER_PLAIN) {
		/* ours too, for what is left of it (and its host's, in this
		 * process, when it was definitive) */
		uint64_t left = (uint64_t)(port->until - now_s) * 1000000u;

		if (port->pad & SHARED_HOSTWIDE)
			mps_peercache_note_host(sa, now_us, left);
		else
			mps_peercache_note(sa, MPS_PEER_PLAIN, now_us, left);
		k = MPS_PEER_PLAIN;
	} else if (port && port->kind == SHARED_SHIM_SERVER) {
		mps_peercache_note(sa, MPS_PEER_SHIM, now_us, 0);
		k = MPS_PEER_SHIM;
	}
	free(tab);
	return k;
}

/* Open the file for an update and find sa's record (or, with a free
 * slot wanted, a free or expired one, else the soonest to expire). */
static int shared_update(const char *path, const struct sockaddr *sa, int64_t now_s, int create,
                         int (*fn)(struct shared_rec *r, int found, void *arg), void *arg)
{
	struct shared_rec *tab, *r = NULL;
	uint8_t key[18], family;
	uint64_t ns;
	int fd, i, found = 0, rc = -1;

	if (make_key(sa, key, &family) || !path || !path[0])
		return -1;
	if (!create && access(path, F_OK) != 0)
		return -1;
	if ((fd = shared_open(path, 1)) < 0)
		return -1;
	tab = malloc(SHARED_SLOTS * sizeof(*tab));
	if (!tab || shared_read(fd, tab) < 0)
		goto out;
	ns = netns_id();
	for (i = 0; i < SHARED_SLOTS && !r; i++)
		if (rec_is(&tab[i], key, family, ns))
			r = &tab[i];
	if (r && r->until <= now_s)
		memset(r, 0, sizeof(*r)); /* expired: as if absent */
	found = r && r->kind;
	if (!found && !create)
		goto out;
	for (i = 0; i < SHARED_SLOTS && !r; i++)
		if (!tab[i].kind || tab[i].until <= now_s)
			r = &tab[i];
	if (!r) {
		r = &tab[0];
		for (i = 1; i < SHARED_SLOTS; i++)
			if (tab[i].until < r->until)
				r = &tab[i];
	}
	if (!found) {
		memset(r, 0, sizeof(*r));
		memcpy(r->key, key, 18);
		r->family = family;
		r->netns = ns;
	}
	if (fn(r, found, arg) == 0 &&
	    pwrite(fd, r, sizeof(*r), (off_t)((size_t)(r - tab) * sizeof(*r))) ==
	            (ssize_t)sizeof(*r))
		rc = 0;
out:
	free(tab);
	mps_real.close(fd);
	return rc;
}

struct note_arg {
	int64_t until;
	int definitive;
};

static int set_plain(struct shared_rec *r, int found, void *arg)
{
	const struct note_arg *a = arg;

	/* a timeout is a plain verdict only the second time */
	r->kind = a->definitive || (found && r->kind) ? MPS_PEER_PLAIN : SHARED_SUSPECT;
	if (a->definitive)
		r->pad |= SHARED_HOSTWIDE;
	r->until = a->until;
	return 0;
}

static int clear_rec(struct shared_rec *r, int found, void *arg)
{
	(void)found;
	(void)arg;
	memset(r, 0, sizeof(*r));
	return 0;
}

int mps_peercache_shared_note_plain(const char *path, const struct sockaddr *sa, int64_t now_s,
                                    uint32_t ttl_s, int definitive)
{
	struct note_arg a = {now_s + ttl_s, definitive};

	if (!ttl_s)
		return -1;
	return shared_update(path, sa, now_s, 1, set_plain, &a);
}

int mps_peercache_shared_forget(const char *path, const struct sockaddr *sa, int64_t now_s)
{
	return shared_update(path, sa, now_s, 0, clear_rec, NULL);
}

static int set_shim_server(struct shared_rec *r, int found, void *arg)
{
	(void)found;
	memset(&r->pad, 0, sizeof(r->pad)); /* not a host's plain verdict any more */
	r->kind = SHARED_SHIM_SERVER;
	r->until = *(const int64_t *)arg;
	return 0;
}

int mps_peercache_shared_note_shim(const char *path, const struct sockaddr *sa, int64_t now_s)
{
	int64_t until = now_s + SHARED_SHIM_TTL_S;

	return shared_update(path, sa, now_s, 1, set_shim_server, &until);
}

static int set_shim_client(struct shared_rec *r, int found, void *arg)
{
	(void)found;
	r->kind = SHARED_SHIM_CLIENT;
	r->until = *(const int64_t *)arg;
	return 0;
}

/* sa's host, as a sockaddr with port 0 (the host record's key). */
static int host_addr(const struct sockaddr *sa, struct sockaddr_storage *h)
{
	if (sa->sa_family == AF_INET) {
		memcpy(h, sa, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)h)->sin_port = 0;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(h, sa, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)h)->sin6_port = 0;
	} else
		return -1;
	return 0;
}

/* The file's "no" for a host, remembered by this process for
 * MPS_SHARED_NO_US: a banner server's undecided connections from a host
 * that never sent a HELLO read the file once per that time, not once per
 * connection.  A HELLO seen here is noted in the process tree first, which
 * is asked before the file; a record another process writes meanwhile is
 * seen at most that much later (its host's next connection then gets the
 * shorter banner window once). */
#define MPS_SHARED_NO_US 2000000u
#define SHARED_NO_SLOTS 16
static struct {
	uint8_t key[18], family;
	uint64_t until_us;
} g_no[SHARED_NO_SLOTS];
static unsigned g_no_next;

static int shared_no_has(const uint8_t key[18], uint8_t family, uint64_t now_us)
{
	int yes = 0;

	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < SHARED_NO_SLOTS && !yes; i++)
		yes = g_no[i].until_us > now_us && g_no[i].family == family &&
		      !memcmp(g_no[i].key, key, sizeof(g_no[i].key));
	pthread_mutex_unlock(&g_lock);
	return yes;
}

/* until_us 0: forget the host (it was just noted as a shim client) */
static void shared_no_set(const uint8_t key[18], uint8_t family, uint64_t until_us)
{
	int i;

	pthread_mutex_lock(&g_lock);
	for (i = 0; i < SHARED_NO_SLOTS; i++)
		if (g_no[i].family == family && !memcmp(g_no[i].key, key, sizeof(g_no[i].key)))
			break;
	if (i == SHARED_NO_SLOTS && until_us)
		i = (int)(g_no_next++ % SHARED_NO_SLOTS);
	if (i < SHARED_NO_SLOTS) {
		memcpy(g_no[i].key, key, sizeof(g_no[i].key));
		g_no[i].family = family;
		g_no[i].until_us = until_us;
	}
	pthread_mutex_unlock(&g_lock);
}

int mps_peercache_shared_note_shim_client(const char *path, const struct sockaddr *sa,
                                          int64_t now_s, uint32_t ttl_s)
{
	struct sockaddr_storage h;
	int64_t until = now_s + ttl_s;
	uint8_t key[18], family;

	if (!ttl_s || host_addr(sa, &h))
		return -1;
	if (!make_key((struct sockaddr *)&h, key, &family))
		shared_no_set(key, family, 0);
	return shared_update(path, (struct sockaddr *)&h, now_s, 1, set_shim_client, &until);
}

int mps_peercache_shared_shim_client(const char *path, const struct sockaddr *sa, uint64_t now_us,
                                     int64_t now_s)
{
	struct sockaddr_storage h;
	struct shared_rec *tab, *r;
	uint8_t key[18], family;
	int fd, n, yes = 0;

	if (host_addr(sa, &h) || make_key((struct sockaddr *)&h, key, &family) ||
	    shared_no_has(key, family, now_us))
		return 0;
	if ((fd = shared_open(path, 0)) < 0) {
		shared_no_set(key, family, now_us + MPS_SHARED_NO_US);
		return 0;
	}
	tab = malloc(SHARED_SLOTS * sizeof(*tab));
	n = tab ? shared_read(fd, tab) : -1;
	mps_real.close(fd);
	r = find_rec(tab, n, key, family, netns_id(), now_s);
	if (r && r->kind == SHARED_SHIM_CLIENT) {
		yes = 1;
		mps_peercache_note_shim_client(sa, now_us, (uint64_t)(r->until - now_s) * 1000000u);
	} else if (tab && n >= 0) {
		shared_no_set(key, family, now_us + MPS_SHARED_NO_US);
	}
	free(tab);
	return yes;
}
