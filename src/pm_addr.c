/* pm_addr.c - ADD_ADDR and REMOVE_ADDR (RFC 8684 3.4): the server's
 * announcements (at the first subflow, then as its addresses come and
 * go) and the client's record of what the server announced, which the
 * client's path manager (path.c) pairs with its local addresses.  The
 * address policy (which local addresses count, which are advertised) is
 * pm.c's.  Shim thread only. */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_api.h"
#include "engine_types.h"
#include "join_int.h"
#include "steer_int.h"
#include "subflow_int.h"
#include "mptcpshim/log.h"
#include "mptcpshim/pm.h"
#include "mptcpshim/util.h"
#include "path_int.h"

/* ------------------------------------------------------------- server */

static void addr_to_ss(const struct mps_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = a->family;
	if (a->family == AF_INET) {
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, a->addr, 4);
		((struct sockaddr_in *)ss)->sin_port = htons(a->port);
	} else {
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a->addr, 16);
		((struct sockaddr_in6 *)ss)->sin6_port = htons(a->port);
	}
}

static void note_announced(struct mps_conn *c, const struct mps_addr *a)
{
	int i;

	for (i = 0; i < MPS_MAX_REMOTE; i++)
		if (!c->remotes[i].valid) {
			struct sockaddr_storage ss;

			addr_to_ss(a, &ss);
			c->remotes[i].valid = 1;
			c->remotes[i].id = a->addr_id;
			mps_remote_set(&c->remotes[i], &ss);
			return;
		}
}

/* Server: announce where clients may join: the address they reached (with
 * our join port) and the others MPTCPSHIM_ADVERTISE allows. */
void mps_path_server_advertise(struct mps_conn *c, struct mps_subflow *sf)
{
	struct mps_config cfg_tmp;
	const struct mps_config *cfg = mps_steer_cfg(c, &cfg_tmp);
	struct sockaddr_storage primary = sf->local;
	struct mps_local_addr la[16];
	struct mps_addr a;
	uint8_t fr[MPS_ADD_ADDR_MAX_LEN], pa[16];
	uint16_t port;
	int n, i, fam, loop_scope;
	uint8_t id = 1;

	mps_unmap_v4(&primary);
	fam = primary.ss_family;
	port = mps_join_port(c->loop, fam);
	if (port == 0) {
		mps_warn("conn %s: no join listener: the connection stays on one subflow",
		         c->peer_str);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)fam;
	a.port = port;
	if (fam == AF_INET)
		memcpy(a.addr, &((struct sockaddr_in *)&primary)->sin_addr, 4);
	else
		memcpy(a.addr, &((struct sockaddr_in6 *)&primary)->sin6_addr, 16);
	a.addr_id = 0;
	mps_sf_queue_ctl(sf, fr, mps_frame_put_add_addr(fr, &a));
	note_announced(c, &a);
	loop_scope = mps_path_is_loopback(&primary);
	n = mps_path_local_addrs(c, cfg, fam, loop_scope, la, (int)MPS_ARRAY_SIZE(la));
	memcpy(pa, a.addr, sizeof(pa));
	for (i = 0; i < n && id < MPS_MAX_REMOTE; i++) {
		if (!memcmp(la[i].addr, pa, fam == AF_INET ? 4 : 16))
			continue; /* the primary, announced above */
		if (!mps_pm_advertised(cfg, la[i].ifname, fam, la[i].addr))
			continue;
		a.addr_id = id++;
		memcpy(a.addr, la[i].addr, 16);
		mps_sf_queue_ctl(sf, fr, mps_frame_put_add_addr(fr, &a));
		note_announced(c, &a);
	}
	c->next_addr_id = id;
}

/* Server: a local address came (announce it, if the policy allows and the
 * connection is on its family and scope) or went (withdraw it: clients
 * stop using it at once). */
void mps_path_server_addr_event(struct mps_conn *c, int family, const uint8_t *addr, int added)
{
	struct mps_config cfg_tmp;
	const struct mps_config *cfg = mps_steer_cfg(c, &cfg_tmp);
	struct mps_subflow *sf = mps_sf_best_usable(c);
	struct sockaddr_storage ss;
	struct mps_addr a;
	uint8_t fr[MPS_ADD_ADDR_MAX_LEN];
	char ifname[IF_NAMESIZE];
	int i;

	if (!sf)
		return;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	memcpy(family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr :
	                           (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
	       addr, family == AF_INET ? 4 : 16);
	for (i = 0; i < MPS_MAX_REMOTE; i++) {
		struct mps_remote *r = &c->remotes[i];
		struct sockaddr_storage ra;

		mps_remote_get(r, &ra);
		if (!r->valid || !mps_path_same_addr(&ra, &ss))
			continue;
		if (!added) {
			/* Withdraw it: clients stop using it at once. */
			mps_sf_queue_ctl(sf, fr, mps_frame_put_remove_addr(fr, r->id));
			r->valid = 0;
			mps_info("conn %s: address id %u withdrawn", c->peer_str, r->id);
		}
		return; /* already announced */
	}
	if (!added || c->next_addr_id >= 255)
		return;
	{
		struct sockaddr_storage first = c->sf[0]->local;
		unsigned idx = mps_path_ifindex_of(&ss);
		int named;

		mps_alloc_shim(1); /* libc's socket: see mps_pm_local_addrs */
		named = idx && if_indextoname(idx, ifname);
		mps_alloc_shim(0);
		mps_unmap_v4(&first);
		if (first.ss_family != family ||
		    mps_path_is_loopback(&first) != mps_path_is_loopback(&ss) || !named ||
		    !mps_pm_usable(cfg, ifname, IFF_UP | IFF_RUNNING, family, addr, family,
		                   mps_path_is_loopback(&ss)) ||
		    !mps_pm_advertised(cfg, ifname, family, addr))
			return;
	}
	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)family;
	a.port = mps_join_port(c->loop, family);
	if (!a.port)
		return;
	a.addr_id = c->next_addr_id++;
	memcpy(a.addr, addr, family == AF_INET ? 4 : 16);
	if (mps_sf_queue_ctl(sf, fr, mps_frame_put_add_addr(fr, &a)) == 0)
		note_announced(c, &a);
}

/* ------------------------------------------------------------- client */

/* Client: the server announced a (RFC 8684 3.4.1): remembered by its id
 * (a new address for a known id replaces it), then the path manager runs. */
void mps_path_pm_on_add_addr(struct mps_conn *c, const struct mps_addr *a)
{
	struct mps_remote *r = NULL;
	int i;

	for (i = 0; i < MPS_MAX_REMOTE; i++)
		if (c->remotes[i].valid && c->remotes[i].id == a->addr_id)
			r = &c->remotes[i];
	for (i = 0; !r && i < MPS_MAX_REMOTE; i++)
		if (!c->remotes[i].valid)
			r = &c->remotes[i];
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	r->id = a->addr_id;
	r->valid = 1;
	{
		struct sockaddr_storage ss;
		char s[64];

		addr_to_ss(a, &ss);
		mps_unmap_v4(&ss);
		mps_remote_set(r, &ss);
		mps_dbg("conn %s: server announced %s (id %u)", c->peer_str,
		        mps_addr_str(&ss, s, sizeof(s)), a->addr_id);
	}
	mps_path_pm_announced(c);
}

/* Client: the server withdrew address id (RFC 8684 3.4.2): forgotten, and
 * the subflows to it dropped. */
void mps_path_pm_on_remove_addr(struct mps_conn *c, uint8_t id)
{
	int i;

	for (i = 0; i < MPS_MAX_REMOTE; i++)
		if (c->remotes[i].valid && c->remotes[i].id == id)
			c->remotes[i].valid = 0;
	for (i = c->nsf - 1; i >= 0 && !mps_conn_closed(c); i--) {
		struct mps_subflow *sf = c->sf[i];

		/* The first subflow went to the address announced as id 0. */
		if (sf->remote_id == id)
			mps_conn_path_gone(c, sf, "address withdrawn by the server");
	}
}
