/* fuzz_inherit.c - MPTCPSHIM_INHERIT, the connections handed across exec
 * (src/inherit.c).  The value comes from the environment, which the
 * exec'ing program may have rewritten.
 *
 * Input: the value after its version ("1"), as text.  Properties:
 *  - an entry is accepted only whole: descriptor, non-zero inode, a state
 *    of enum mps_sock_state, local and peer sockaddrs of one family and
 *    of that family's exact size; the cursor then stops at a space or
 *    the end, and a refused entry leaves the cursor where it was;
 *  - an accepted entry, written back in the canonical form, parses to
 *    the same entry;
 *  - the same connection registered in the fd table and formatted by
 *    mps_inherit_format (the exec hook's code) parses back to it;
 *  - mps_inherit_adopt on the whole value neither crashes nor adopts a
 *    descriptor no entry names, and removes the variable. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "mptcpshim/config.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/inherit.h"
#include "mptcpshim/real.h"

static int sp[2];
static struct stat sp_st;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("MPTCPSHIM_LOG", "error", 1); /* a malformed value is warned about */
	mps_real_init();
	FZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	FZ_ASSERT(fstat(sp[0], &sp_st) == 0);
	return 0;
}

static size_t put_entry(char *out, size_t cap, const struct mps_inherit_entry *e)
{
	const unsigned char *l = (const void *)&e->local, *p = (const void *)&e->peer;
	size_t n = (size_t)snprintf(out, cap, "%d:%llu:%d:", e->fd, e->ino, e->state);
	socklen_t i;

	for (i = 0; i < e->local_len; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", l[i]);
	n += (size_t)snprintf(out + n, cap - n, ":");
	for (i = 0; i < e->peer_len; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", p[i]);
	return n;
}

static void entry_ok(const struct mps_inherit_entry *e)
{
	size_t want;

	FZ_ASSERT(e->fd >= 0 && e->ino != 0);
	FZ_ASSERT(e->state >= MPS_SS_CONNECTING && e->state <= MPS_SS_CLOSED);
	FZ_ASSERT(e->local.ss_family == e->peer.ss_family);
	FZ_ASSERT(e->local.ss_family == AF_INET || e->local.ss_family == AF_INET6);
	want = e->local.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	                                       sizeof(struct sockaddr_in6);
	FZ_ASSERT(e->local_len == want && e->peer_len == want);
}

static void via_format(const struct mps_inherit_entry *e)
{
	static char buf[4096];
	struct mps_sock *s = mps_sock_new(e->peer.ss_family);
	struct mps_inherit_entry g;
	const char *p;

	FZ_ASSERT(s);
	s->ino = sp_st.st_ino;
	s->local = e->local;
	s->local_len = e->local_len;
	s->peer = e->peer;
	s->peer_len = e->peer_len;
	atomic_store(&s->state, e->state);
	FZ_ASSERT(mps_fdtab_set(sp[0], s) == 0);
	FZ_ASSERT(mps_inherit_format(buf, sizeof(buf), 0) > 0);
	mps_fdtab_clear(sp[0]);
	mps_sock_put(s);
	p = strchr(buf, '=');
	FZ_ASSERT(p && p[1] == '1' && p[2] == ' ');
	p += 3;
	FZ_ASSERT(mps_inherit_parse_entry(&p, &g) == 0 && *p == '\0');
	FZ_ASSERT(g.fd == sp[0] && g.ino == (unsigned long long)sp_st.st_ino &&
	          g.state == e->state);
	FZ_ASSERT(g.local_len == e->local_len && !memcmp(&g.local, &e->local, e->local_len));
	FZ_ASSERT(g.peer_len == e->peer_len && !memcmp(&g.peer, &e->peer, e->peer_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *val = malloc(size + 3), canon[512];
	const char *p, *q;
	struct mps_inherit_entry e, g;
	int n = 0;

	FZ_ASSERT(val);
	val[0] = '1';
	memcpy(val + 1, data, size);
	val[size + 1] = 0;
	for (p = val + 1; *p == ' ' && n < 64; n++) {
		const char *before = ++p;

		if (mps_inherit_parse_entry(&p, &e)) {
			FZ_ASSERT(p == before);
			break;
		}
		FZ_ASSERT(p > before && (*p == ' ' || *p == '\0'));
		entry_ok(&e);
		FZ_ASSERT(put_entry(canon, sizeof(canon), &e) < sizeof(canon));
		q = canon;
		FZ_ASSERT(mps_inherit_parse_entry(&q, &g) == 0 && *q == '\0');
		FZ_ASSERT(!memcmp(&g, &e, sizeof(e)));
		if (n == 0)
			via_format(&e);
	}
	/* the constructor's path: the value from the environment */
	if (!memchr(data, 0, size)) {
		FZ_ASSERT(setenv("MPTCPSHIM_INHERIT", val, 1) == 0);
		mps_inherit_adopt();
		FZ_ASSERT(getenv("MPTCPSHIM_INHERIT") == NULL);
		FZ_ASSERT(!mps_fdtab_has(sp[0]) && !mps_fdtab_has(sp[1]));
	}
	free(val);
	return 0;
}
