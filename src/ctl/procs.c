/* procs.c - mptcpshim-ctl's view of the processes under the library: their
 * control sockets in this user's directories (as src/ctl.c makes them),
 * and one request with its whole reply. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctl_int.h"

/* A directory of ours, not a link, no access for others (as the library
 * checks it): sockets in any other are not listened to. */
static int dir_ok(const char *dir)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ok;

	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	     !(st.st_mode & 077);
	close(fd);
	return ok;
}

static void read_comm(int pid, char *buf, size_t cap)
{
	char path[64];
	FILE *f;

	snprintf(buf, cap, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)cap, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static int matches(const struct proc *p, const char *sel)
{
	char *end;
	long v;

	if (!sel || !strcmp(sel, "all"))
		return 1;
	v = strtol(sel, &end, 10);
	if (*sel && !*end)
		return v == p->pid;
	return !strcmp(sel, p->comm);
}

static int scan_dir(const char *dir, const char *sel, struct proc *out, int n, int max)
{
	DIR *d;
	struct dirent *e;

	if (!dir_ok(dir) || !(d = opendir(dir)))
		return n;
	while (n < max && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		int i, dup = 0;

		if (pid <= 0 || strcmp(end, ".sock"))
			continue;
		for (i = 0; i < n; i++)
			dup |= out[i].pid == pid;
		if (dup)
			continue;
		if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			/* killed before its exit handler ran: the name is stale */
			char path[512];

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
			continue;
		}
		out[n].pid = (int)pid;
		read_comm((int)pid, out[n].comm, sizeof(out[n].comm));
		snprintf(out[n].path, sizeof(out[n].path), "%s/%ld.sock", dir, pid);
		if (matches(&out[n], sel))
			n++;
	}
	closedir(d);
	return n;
}

static int cmp_pid(const void *a, const void *b)
{
	return ((const struct proc *)a)->pid - ((const struct proc *)b)->pid;
}

/* ctl_int.h */
int ctl_discover(const char *sel, struct proc *out, int max)
{
	char dir[128];
	int n = 0;

	if (mps_ctl_dir(dir, sizeof(dir), getenv("XDG_RUNTIME_DIR"), geteuid()) == 0)
		n = scan_dir(dir, sel, out, n, max);
	if (mps_ctl_dir(dir, sizeof(dir), NULL, geteuid()) == 0)
		n = scan_dir(dir, sel, out, n, max);
	qsort(out, (size_t)n, sizeof(*out), cmp_pid);
	return n;
}

int ctl_connect(const struct proc *p, const char *req)
{
	struct sockaddr_un sa;
	struct timeval tv = {5, 0};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = strlen(req);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ctl_int.h */
int ctl_query(const struct proc *p, const char *req, struct mps_obuf *b)
{
	char buf[65536];
	ssize_t r;
	int fd = ctl_connect(p, req);

	mps_obuf_init(b, REPLY_MAX);
	if (fd < 0)
		return -1;
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		if (mps_obuf_put(b, buf, (size_t)r) != 0)
			break;
	close(fd);
	if (!b->len) {
		mps_obuf_free(b);
		return -1;
	}
	return 0;
}
