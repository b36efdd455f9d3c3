/* inherit.c - connections handed across exec (see inherit.h). */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/inherit.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"

#define ENTRY_MAX 160    /* one formatted entry, generously */
#define MAX_ENTRIES 1024 /* adopted per exec */

/* ---- format (the exec'ing side) ---- */

struct fmt {
	char *buf;
	size_t cap, len;
	int survivors_only, n;
};

static void put_hex(struct fmt *f, const void *p, socklen_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = p;
	socklen_t i;

	for (i = 0; i < n && f->len + 2 < f->cap; i++) {
		f->buf[f->len++] = digits[b[i] >> 4];
		f->buf[f->len++] = digits[b[i] & 15];
	}
}

/* Already listed (a dup of a connection listed before)?  The buffer is the
 * record: search it for ":INO:" after a descriptor number. */
static int listed(const struct fmt *f, unsigned long long ino)
{
	char pat[32];
	const char *p = f->buf;

	snprintf(pat, sizeof(pat), ":%llu:", ino);
	return f->n > 0 && memmem(p, f->len, pat, strlen(pat)) != NULL;
}

static int fmt_one(int fd, struct mps_sock *s, void *arg)
{
	struct fmt *f = arg;
	int flags;
	char head[64];
	size_t hl;

	if (s->family != AF_INET && s->family != AF_INET6)
		return 0;
	if (f->survivors_only) {
		flags = mps_real.fcntl(fd, F_GETFD);
		if (flags < 0 || (flags & FD_CLOEXEC))
			return 0;
	}
	if (listed(f, (unsigned long long)s->ino))
		return 0;
	hl = (size_t)snprintf(head, sizeof(head), " %d:%llu:%d:", fd, (unsigned long long)s->ino,
	                      atomic_load(&s->state));
	if (f->len + hl + 2 * (s->local_len + s->peer_len) + 2 >= f->cap)
		return 1; /* full: the rest stay unknown to the new image */
	memcpy(f->buf + f->len, head, hl);
	f->len += hl;
	put_hex(f, &s->local, s->local_len);
	f->buf[f->len++] = ':';
	put_hex(f, &s->peer, s->peer_len);
	f->n++;
	return 0;
}

static int count_one(int fd, struct mps_sock *s, void *arg)
{
	++*(int *)arg;
	return 0;
}

size_t mps_inherit_bound(void)
{
	int n = 0;

	mps_fdtab_each(count_one, &n);
	return n ? (size_t)n * ENTRY_MAX + strlen(mps_env_inherit) + 8 : 0;
}

size_t mps_inherit_format(char *buf, size_t cap, int survivors_only)
{
	struct fmt f = {.buf = buf, .cap = cap, .survivors_only = survivors_only};
	int n;

	n = snprintf(buf, cap, "%s=1", mps_env_inherit);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	f.len = (size_t)n;
	mps_fdtab_each(fmt_one, &f);
	if (!f.n)
		return 0;
	buf[f.len] = '\0';
	return f.len;
}

/* ---- parse (the new image) ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_addr(const char **p, struct sockaddr_storage *ss, socklen_t *len)
{
	unsigned char *b = (unsigned char *)ss;
	size_t n = 0;
	const char *s = *p;

	memset(ss, 0, sizeof(*ss));
	while (hexval(s[0]) >= 0 && hexval(s[1]) >= 0 && n < sizeof(*ss)) {
		b[n++] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
		s += 2;
	}
	*p = s;
	if (n == sizeof(struct sockaddr_in) && ss->ss_family == AF_INET)
		goto ok;
	if (n == sizeof(struct sockaddr_in6) && ss->ss_family == AF_INET6)
		goto ok;
	return -1;
ok:
	*len = (socklen_t)n;
	return 0;
}

static int parse_num(const char **p, unsigned long long max, unsigned long long *out)
{
	const char *s = *p;
	unsigned long long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s++ - '0');

		if (v > (~0ull - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > max)
		return -1;
	*p = s;
	*out = v;
	return 0;
}

int mps_inherit_parse_entry(const char **p, struct mps_inherit_entry *e)
{
	const char *s = *p;
	unsigned long long v;

	memset(e, 0, sizeof(*e));
	if (parse_num(&s, 0x7fffffff, &v) || *s++ != ':')
		return -1;
	e->fd = (int)v;
	if (parse_num(&s, ~0ull, &e->ino) || *s++ != ':' || e->ino == 0)
		return -1;
	if (parse_num(&s, MPS_SS_CLOSED, &v) || *s++ != ':')
		return -1;
	e->state = (int)v;
	if (parse_addr(&s, &e->local, &e->local_len) || *s++ != ':')
		return -1;
	if (parse_addr(&s, &e->peer, &e->peer_len) || e->peer.ss_family != e->local.ss_family)
		return -1;
	if (*s && *s != ' ')
		return -1;
	*p = s;
	return 0;
}

/* ---- adopt (the new image's constructor) ---- */

struct adopt {
	struct mps_inherit_entry *e;
	struct mps_sock **socks;
	int n, adopted;
};

static int is_app_end(int fd, unsigned long long ino)
{
	struct stat st;
	int v = 0;
	socklen_t len = sizeof(v);

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || (unsigned long long)st.st_ino != ino)
		return 0;
	if (mps_real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) != 0 || v != AF_UNIX)
		return 0;
	len = sizeof(v);
	return mps_real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM;
}

static void adopt_fd(struct adopt *a, int fd)
{
	struct stat st;
	int i;

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;
	for (i = 0; i < a->n; i++) {
		struct mps_inherit_entry *e = &a->e[i];
		struct mps_sock *s;

		if (e->ino != (unsigned long long)st.st_ino || !is_app_end(fd, e->ino))
			continue;
		s = a->socks[i];
		if (!s) {
			s = mps_sock_new(e->peer.ss_family);
			if (!s)
				return;
			s->ino = st.st_ino;
			s->local = e->local;
			s->local_len = e->local_len;
			s->peer = e->peer;
			s->peer_len = e->peer_len;
			atomic_store(&s->state, e->state);
			atomic_store(&s->remote, 1); /* the old process services it */
			a->socks[i] = s;
		}
		mps_fdtab_set(fd, s);
		a->adopted++;
		return;
	}
}

/* Every open descriptor is looked at: posix_spawn file actions and dup2
 * before exec may have moved a connection to another number. */
static void adopt_all(struct adopt *a)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int i;

	if (!d) {
		for (i = 0; i < a->n; i++)
			adopt_fd(a, a->e[i].fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd < 0 || fd == dirfd(d))
			continue;
		adopt_fd(a, (int)fd);
	}
	closedir(d);
}

void mps_inherit_adopt(void)
{
	static char val[MAX_ENTRIES * ENTRY_MAX];
	struct adopt a = {0};
	const char *p = val;
	int i;

	if (!mps_config_take_inherit(val, sizeof(val)) || mps_config()->disabled)
		return;
	if (*p++ != '1')
		goto bad;
	a.e = calloc(MAX_ENTRIES, sizeof(*a.e));
	a.socks = calloc(MAX_ENTRIES, sizeof(*a.socks));
	if (!a.e || !a.socks)
		goto out;
	while (*p == ' ' && a.n < MAX_ENTRIES) {
		p++;
		if (mps_inherit_parse_entry(&p, &a.e[a.n]))
			goto bad;
		a.n++;
	}
	if (*p && a.n < MAX_ENTRIES)
		goto bad;
	adopt_all(&a);
	mps_dbg("exec: %d inherited descriptor(s) of %d connection(s) adopted", a.adopted, a.n);
	goto out;
bad:
	mps_warn("exec: ignoring a malformed %s", mps_env_inherit);
out:
	if (a.socks)
		for (i = 0; i < a.n; i++)
			mps_sock_put(a.socks[i]);
	free(a.socks);
	free(a.e);
}
