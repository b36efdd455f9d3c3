/* exec.c - exec and posix_spawn: the new image learns which inherited
 * descriptors are connections (MPTCPSHIM_INHERIT, see inherit.h).
 *
 * glibc's execv, execvp, execl* and posix_spawn reach execve internally,
 * not through the PLT, so each entry point is hooked.  posix_spawn (and
 * system/popen, which are not hooked) run execve in a clone()d child we
 * cannot reach: the variable goes into the environment given to the call.
 * These hooks may run in a vfork child, whose memory is the parent's:
 * they allocate with mmap, never malloc, and leave the fd table alone. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/handover.h"
#include "mptcpshim/inherit.h"
#include "mptcpshim/inline.h"
#include "mptcpshim/interpose.h"
#include "mptcpshim/loop.h"

struct newenv {
	void *map;
	size_t len;
	int xs; /* the carried connections' memfd (handover_exec.c), or -1 */
};

static int is_var(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(entry, name, n) && entry[n] == '=';
}

static int is_ours(const char *entry)
{
	return is_var(entry, mps_env_inherit) || is_var(entry, mps_env_execstate);
}

/* envp with our variable replaced by the current list, or envp itself
 * when there is nothing to add or remove. */
static char *const *env_for_exec(const char *path, char *const envp[], int survivors_only,
                                  struct newenv *ne)
{
	static char *const empty[] = {NULL};
	size_t n = 0, i, j, bound, vlen = 0;
	int stale = 0;
	char **out, *val;

	ne->map = NULL;
	ne->xs = -1;
	if (mps_passthrough())
		return envp;
	/* the new image may inherit an inline connection's socket: it takes
	 * its socketpair first (not from a vfork child: the parent's state) */
	if (atomic_load_explicit(&mps_inline_socks, memory_order_relaxed) && !mps_loop_cloned())
		mps_inline_promote_all("exec");
	/* a spawned image (or a vfork child's, which shares our memory) may
	 * inherit an app's end: no hand-back of those (handback.h) */
	atomic_fetch_add(&mps_fork_gen, 1);
	/* offers made to this child: carried into the new image, or given back */
	if (atomic_load(&mps_handover_pending))
		ne->xs = mps_handover_exec(survivors_only, path, envp);
	if (survivors_only)
		mps_proc_exec(); /* an adopter's connections: to a keeper */
	if (!envp)
		envp = empty;
	for (; envp[n]; n++)
		stale |= is_ours(envp[n]);
	bound = mps_inherit_bound();
	if (!bound && !stale)
		return envp;
	ne->len = (n + 3) * sizeof(char *) + bound + 1 + 64;
	ne->map = mmap(NULL, ne->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ne->map == MAP_FAILED) {
		ne->map = NULL;
		if (ne->xs >= 0)
			mps_handover_exec_failed();
		ne->xs = -1;
		return envp;
	}
	out = ne->map;
	val = (char *)(out + n + 3);
	if (bound)
		vlen = mps_inherit_format(val, bound, survivors_only);
	for (i = j = 0; i < n; i++)
		if (!is_ours(envp[i]))
			out[j++] = envp[i];
	if (vlen)
		out[j++] = val;
	if (vlen && ne->xs >= 0) {
		out[j] = val + vlen + 1;
		snprintf(out[j++], 64, "%s=%d", mps_env_execstate, ne->xs);
	}
	out[j] = NULL;
	return out;
}

static void env_done(struct newenv *ne)
{
	int saved = errno;

	if (ne->xs >= 0) /* the exec failed: this process may adopt them after all */
		mps_handover_exec_failed();
	if (ne->map)
		munmap(ne->map, ne->len);
	errno = saved;
}

MPS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct newenv ne;
	char *const *e;
	int rc;

	mps_real_init();
	e = env_for_exec(path, envp, 1, &ne);
	rc = mps_real.execve(path, argv, e);
	env_done(&ne);
	return rc;
}

MPS_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                        int flags)
{
	struct newenv ne;
	char *const *e;
	int rc;

	mps_real_init();
	if (!mps_real.execveat) {
		errno = ENOSYS;
		return -1;
	}
	e = env_for_exec(path[0] == '/' ? path : NULL, envp, 1, &ne);
	rc = mps_real.execveat(dirfd, path, argv, e, flags);
	env_done(&ne);
	return rc;
}

MPS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	struct newenv ne;
	char *const *e;
	int rc;

	mps_real_init();
	e = env_for_exec(NULL, envp, 1, &ne);
	rc = mps_real.fexecve(fd, argv, e);
	env_done(&ne);
	return rc;
}

MPS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct newenv ne;
	char *const *e;
	int rc;

	mps_real_init();
	e = env_for_exec(strchr(file, '/') ? file : NULL, envp, 1, &ne);
	rc = mps_real.execvpe(file, argv, e);
	env_done(&ne);
	return rc;
}

MPS_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

MPS_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* execl, execle, execlp: the argument list as an array on the stack. */
#define COLLECT_ARGS(arg0, ap, argv, extra)    \
	size_t n_ = 1;                         \
	va_list cp_;                           \
	va_start(ap, arg0);                    \
	va_copy(cp_, ap);                      \
	while (va_arg(cp_, char *))            \
		n_++;                          \
	va_end(cp_);                           \
	char *argv[n_ + 1];                    \
	argv[0] = (char *)(arg0);              \
	for (size_t i_ = 1; i_ <= n_; i_++)    \
		argv[i_] = va_arg(ap, char *); \
	extra;                                 \
	va_end(ap)

MPS_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;

	COLLECT_ARGS(arg, ap, argv, (void)0);
	return execve(path, argv, environ);
}

MPS_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;

	COLLECT_ARGS(arg, ap, argv, (void)0);
	return execvpe(file, argv, environ);
}

MPS_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **envp;

	COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}

/* posix_spawn, posix_spawnp: file actions may dup2 any connection
 * (close-on-exec or not) onto another number, so every connection is
 * listed; the new image matches them by inode. */
typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn_listing(spawn_fn *fn, pid_t *pid, const char *path,
                         const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                         char *const argv[], char *const envp[])
{
	struct newenv ne;
	char *const *e;
	int rc;

	e = env_for_exec(NULL, envp, 0, &ne);
	rc = fn(pid, path, fa, attr, argv, e);
	env_done(&ne);
	return rc;
}

MPS_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	mps_real_init();
	return spawn_listing(mps_real.posix_spawn, pid, path, fa, attr, argv, envp);
}

MPS_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	mps_real_init();
	return spawn_listing(mps_real.posix_spawnp, pid, file, fa, attr, argv, envp);
}
