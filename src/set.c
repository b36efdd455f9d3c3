/* set.c - run-time changes to live connections (see set.h).  Kept apart
 * from the control socket so the policy file's reload can apply its
 * rules with the same functions. */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "conn_api.h"
#include "conn_int.h"
#include "prio_int.h"
#include "subflow_int.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/log.h"
#include "mptcpshim/set.h"
#include "mptcpshim/stat.h"

#define MAX_OVERRIDES 16

static struct {
	char ifname[IF_NAMESIZE];
	int backup; /* -1: no override */
	int off;
} g_if[MAX_OVERRIDES];
static int g_nif;
static char g_sched[16];

static int ov_find(const char *ifname, int add)
{
	int i;

	for (i = 0; i < g_nif; i++)
		if (!strcmp(g_if[i].ifname, ifname))
			return i;
	if (!add || g_nif == MAX_OVERRIDES)
		return -1;
	snprintf(g_if[g_nif].ifname, sizeof(g_if[g_nif].ifname), "%s", ifname);
	g_if[g_nif].backup = -1;
	g_if[g_nif].off = 0;
	return g_nif++;
}

int mps_set_is_backup(const char *ifname)
{
	int i = ov_find(ifname, 0);

	return i < 0 ? -1 : g_if[i].backup;
}

int mps_set_is_off(const char *ifname)
{
	int i = ov_find(ifname, 0);

	return i < 0 ? 0 : g_if[i].off;
}

const char *mps_set_sched_name(void)
{
	return g_sched[0] ? g_sched : NULL;
}

static unsigned ifindex_by_name(const char *ifname)
{
	unsigned idx;

	mps_alloc_shim(1); /* libc's socket: see mps_pm_local_addrs */
	idx = if_nametoindex(ifname);
	mps_alloc_shim(0);
	return idx;
}

static void set_event(struct mps_conn *c, struct mps_subflow *sf, const char *what, const char *val)
{
	char x[128], e[48];

	snprintf(x, sizeof(x), "what=%s value=%s", what, mps_kv_escape(e, sizeof(e), val));
	mps_mib_add(&c->st.mib, mps_stat_proc(), MPS_MIB_SET_APPLIED, 1);
	mps_stat_event(c, sf, "set", x);
}

int mps_set_scheduler(const char *name)
{
	const struct mps_sched_ops *ops = mps_sched_find(name);
	struct mps_conn *c, *next;
	int n = 0, i;

	if (!ops)
		return -EINVAL;
	snprintf(g_sched, sizeof(g_sched), "%s", ops->name);
	for (c = mps_conn_first(); c; c = next) {
		next = mps_conn_next(c);
		if (mps_conn_closed(c) || c->sched.ops == ops)
			continue;
		c->sched.ops = ops;
		c->sched.rr_next = 0;
		/* redundant: each subflow's cursor starts again at snd_una
		 * (bytes in flight may go twice; the receiver drops copies) */
		for (i = 0; i < c->nsf; i++)
			c->sf[i]->red_init = 0;
		n++;
		set_event(c, NULL, "scheduler", ops->name);
		if (c->tx_mode == TX_MP)
			mps_conn_kick(c);
	}
	mps_info("set: scheduler %s (%d connection(s))", ops->name, n);
	return n;
}

int mps_set_backup(const char *ifname, int on)
{
	unsigned idx = ifindex_by_name(ifname);
	struct mps_conn *c, *next;
	int k, i, n = 0;

	if (!idx)
		return -ENODEV;
	k = ov_find(ifname, 1);
	if (k < 0)
		return -ENOSPC;
	g_if[k].backup = on;
	for (c = mps_conn_first(); c; c = next) {
		next = mps_conn_next(c);
		if (mps_conn_closed(c) || c->rx_mode != RX_MP)
			continue;
		for (i = 0; i < c->nsf; i++) {
			struct mps_subflow *sf = c->sf[i];

			if (sf->ifindex != idx || sf->state != SF_ACTIVE || sf->backup == on)
				continue;
			/* RFC 8684 3.3.8: the peer's scheduler learns it too */
			mps_prio_set(sf, on);
			n++;
			set_event(c, sf, "backup", on ? "on" : "off");
		}
		mps_conn_kick(c);
	}
	mps_info("set: interface %s backup %s (%d subflow(s))", ifname, on ? "on" : "off", n);
	return n;
}

int mps_set_interface(const char *ifname, int on)
{
	unsigned idx = ifindex_by_name(ifname);
	struct mps_conn *c, *next;
	int k, i, n = 0;

	if (!idx && !on)
		return -ENODEV;
	k = ov_find(ifname, !on);
	if (k >= 0)
		g_if[k].off = !on;
	for (c = mps_conn_first(); c; c = next) {
		next = mps_conn_next(c);
		if (mps_conn_closed(c) || c->rx_mode != RX_MP)
			continue;
		if (on) {
			if (c->role == MPS_CLIENT)
				mps_conn_pm()->fill(c);
		} else
			for (i = c->nsf - 1; i >= 0 && !mps_conn_closed(c); i--) {
				struct mps_subflow *sf = c->sf[i];

				if (sf->ifindex != idx)
					continue;
				/* the last usable subflow stays: closing it would
				 * stall the connection, not move it */
				if (mps_sf_usable(sf) && mps_sf_n_usable(c) <= 1)
					continue;
				set_event(c, sf, "interface", "off");
				mps_conn_path_gone(c, sf, "interface turned off (mptcpshim set)");
				n++;
			}
		if (!mps_conn_closed(c))
			mps_conn_kick(c);
	}
	mps_info("set: interface %s %s (%d subflow(s) closed)", ifname, on ? "on" : "off", n);
	return n;
}
