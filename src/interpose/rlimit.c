/* rlimit.c - the app never sees the shim's raised descriptor limit.
 *
 * The shim places its own descriptors above the soft RLIMIT_NOFILE by
 * raising it for the instant of an F_DUPFD (see fdtab.c).  These hooks
 * take the same lock for RLIMIT_NOFILE, so an app thread reads or sets
 * the limit before or after that instant, never during it (and its
 * setrlimit is never undone by our restore).  A finite RLIMIT_NPROC
 * about to apply starts the shim thread first (proc.c). */
#include "config.h"

#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/interpose.h"

typedef int (*get_fn)(int, struct rlimit *);
typedef int (*set_fn)(int, const struct rlimit *);
typedef int (*pr_fn)(pid_t, int, const struct rlimit *, struct rlimit *);

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

#define LOCKED(res, call)                                  \
	do {                                               \
		int rc_, nofile_ = (res) == RLIMIT_NOFILE; \
		if (nofile_)                               \
			mps_rlimit_lock(1);                \
		rc_ = (call);                              \
		if (nofile_)                               \
			mps_rlimit_lock(0);                \
		return rc_;                                \
	} while (0)

MPS_EXPORT int getrlimit(__rlimit_resource_t res, struct rlimit *rl)
{
	static get_fn real;

	if (!real)
		real = (get_fn)next("getrlimit");
	LOCKED((int)res, real((int)res, rl));
}

MPS_EXPORT int getrlimit64(__rlimit_resource_t res, struct rlimit64 *rl)
{
	static get_fn real;

	if (!real)
		real = (get_fn)next("getrlimit64");
	LOCKED((int)res, real((int)res, (struct rlimit *)rl));
}

MPS_EXPORT int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	static set_fn real;

	if (!real)
		real = (set_fn)next("setrlimit");
	mps_proc_nproc_limit((int)res, rl, 0, 0,
	                     "setrlimit(RLIMIT_NPROC)");
	LOCKED((int)res, real((int)res, rl));
}

MPS_EXPORT int setrlimit64(__rlimit_resource_t res, const struct rlimit64 *rl)
{
	static set_fn real;

	if (!real)
		real = (set_fn)next("setrlimit64");
	mps_proc_nproc_limit((int)res, rl, 1, 0,
	                     "setrlimit(RLIMIT_NPROC)");
	LOCKED((int)res, real((int)res, (const struct rlimit *)rl));
}

MPS_EXPORT int prlimit(pid_t pid, __rlimit_resource_t res, const struct rlimit *nl,
                       struct rlimit *ol)
{
	static pr_fn real;

	if (!real)
		real = (pr_fn)next("prlimit");
	mps_proc_nproc_limit((int)res, nl, 0, pid,
	                     "prlimit(RLIMIT_NPROC)");
	LOCKED((int)res, real(pid, (int)res, nl, ol));
}

MPS_EXPORT int prlimit64(pid_t pid, __rlimit_resource_t res, const struct rlimit64 *nl,
                         struct rlimit64 *ol)
{
	static pr_fn real;

	if (!real)
		real = (pr_fn)next("prlimit64");
	mps_proc_nproc_limit((int)res, nl, 1, pid,
	                     "prlimit(RLIMIT_NPROC)");
	LOCKED((int)res, real(pid, (int)res, (const struct rlimit *)nl, (struct rlimit *)ol));
}
