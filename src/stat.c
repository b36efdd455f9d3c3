/* stat.c - the engine's counters and events, and the status reply (see
 * stat.h).  Shim thread only: every caller runs there, so the counters
 * are plain integers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "conn_int.h"
#include "ccglue_int.h"
#include "subflow_int.h"
#include "mptcpshim/gateway.h"
#include "mptcpshim/gwreq.h"
#include "mptcpshim/log.h"
#include "mptcpshim/real.h"
#include "mptcpshim/stat.h"

static struct mps_mib g_proc;
static uint32_t g_next_id;

struct mps_mib *mps_stat_proc(void)
{
	return &g_proc;
}

/* The event published for a counter, NULL for the counters that are not
 * events (bytes). */
static const char *event_of(enum mps_mib_id id)
{
	switch (id) {
	case MPS_MIB_MP_CONNS:
		return "multipath";
	case MPS_MIB_SF_OPENED:
		return "subflow_added";
	case MPS_MIB_SF_JOINED:
		return "subflow_joined";
	case MPS_MIB_SF_REJECTED:
		return "join_rejected";
	case MPS_MIB_SF_FAILED:
		return "subflow_failed";
	case MPS_MIB_SF_LOST:
		return "subflow_lost";
	case MPS_MIB_STALE:
		return "subflow_stale";
	case MPS_MIB_FB_PLAIN_SERVER:
	case MPS_MIB_FB_TIMEOUT:
	case MPS_MIB_FB_PLAIN_CLIENT:
		return "fallback";
	case MPS_MIB_OUTAGES:
		return "outage_begun";
	case MPS_MIB_OUTAGES_SURVIVED:
		return "outage_ended";
	case MPS_MIB_FAILOVERS:
		return "failover";
	default:
		return NULL;
	}
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *ifname_of(unsigned ifindex, char *buf)
{
	buf[0] = 0;
	if (ifindex) {
		mps_alloc_shim(1); /* libc's socket: see mps_pm_local_addrs */
		if (!if_indextoname(ifindex, buf))
			buf[0] = 0;
		mps_alloc_shim(0);
	}
	return buf;
}

/* Who hears the events (ctl.c's monitors, registered by mps_ctl_start):
 * none until then. */
static int (*g_monitors)(void);
static void (*g_publish)(const char *line, size_t len);

void mps_stat_set_sink(int (*monitors)(void), void (*publish)(const char *line, size_t len))
{
	g_monitors = monitors;
	g_publish = publish;
}

static int monitors(void) { return g_monitors ? g_monitors() : 0; }

void mps_stat_event(struct mps_conn *c, struct mps_subflow *sf, const char *type, const char *extra)
{
	char line[768], a[64], e1[96], e2[96], ifn[IF_NAMESIZE];
	int n;

	if (!monitors())
		return;
	n = snprintf(line, sizeof(line), "event t=%.3f type=%s", wall_now(), type);
	if (c)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " conn=%u peer=%s", c->st.id,
		              mps_kv_escape(e1, sizeof(e1), c->peer_str));
	if (sf && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, " sf=%d local=%s remote=%s if=%s",
		              sf->c ? sf->id : 0,
		              mps_kv_escape(e1, sizeof(e1), mps_addr_str(&sf->local, a, sizeof(a))),
		              mps_kv_escape(e2, sizeof(e2),
		                            sf->c ? mps_addr_str(&sf->remote, a, sizeof(a)) :
		                                    sf->peer_str),
		              mps_kv_escape(ifn, sizeof(ifn), ifname_of(sf->ifindex, ifn)));
	if (extra && *extra && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", extra);
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	g_publish(line, (size_t)n);
}

void mps_stat_new(struct mps_conn *c)
{
	c->st.id = ++g_next_id;
	c->st.born = ev_now(c->loop);
	mps_mib_add(&c->st.mib, &g_proc, MPS_MIB_CONNS, 1);
}

void mps_stat_renumber(struct mps_conn *c)
{
	c->st.id = ++g_next_id;
}

void mps_stat(struct mps_conn *c, struct mps_subflow *sf, enum mps_mib_id id, uint64_t n)
{
	const char *ev = event_of(id);

	mps_mib_add(c ? &c->st.mib : NULL, &g_proc, id, n);
	if (ev)
		mps_stat_event(c, sf, ev, NULL);
}

void mps_stat_gw_reply(struct mps_conn *c, uint8_t result)
{
	if (result == MPS_GWR_POLICY)
		mps_stat(c, NULL, MPS_MIB_GW_POLICY, 1);
	else if (result == MPS_GWR_LIMITED)
		mps_stat_gw_limited(c);
	else if (result != MPS_GWR_OK)
		mps_stat(c, NULL, MPS_MIB_GW_DEST_FAILED, 1);
}

void mps_stat_gw_limited(struct mps_conn *c)
{
	if (c)
		c->st.mib.v[MPS_MIB_GW_LIMITED]++;
	__atomic_fetch_add(&g_proc.v[MPS_MIB_GW_LIMITED], 1, __ATOMIC_RELAXED);
}

void mps_stat_fallback(struct mps_conn *c, enum mps_mib_id id, const char *why)
{
	char e[160], x[180];

	snprintf(c->st.fb_why, sizeof(c->st.fb_why), "%s", why ? why : "");
	mps_mib_add(&c->st.mib, &g_proc, id, 1);
	snprintf(x, sizeof(x), "reason=%s", mps_kv_escape(e, sizeof(e), why));
	mps_stat_event(c, NULL, "fallback", x);
}

void mps_stat_lost(struct mps_conn *c, struct mps_subflow *sf, const char *why)
{
	char e[160], x[180];
	int others = mps_sf_n_usable(c) - mps_sf_usable(sf);

	mps_mib_add(&c->st.mib, &g_proc, MPS_MIB_SF_LOST, 1);
	/* Data in flight and another path to carry it: a failover, whose
	 * stall runs from the last progress to the next. */
	if (others > 0 && mps_dsn_lt(c->snd_una, c->snd_max) && !c->st.fo_since)
		c->st.fo_since = c->last_progress;
	snprintf(x, sizeof(x), "reason=%s left=%d", mps_kv_escape(e, sizeof(e), why), others);
	mps_stat_event(c, sf, "subflow_lost", x);
}

void mps_stat_progress(struct mps_conn *c)
{
	char x[64];

	if (!c->st.fo_since)
		return;
	mps_mib_add(&c->st.mib, &g_proc, MPS_MIB_FAILOVERS, 1);
	snprintf(x, sizeof(x), "stall_ms=%.0f", (ev_now(c->loop) - c->st.fo_since) * 1e3);
	c->st.fo_since = 0;
	mps_stat_event(c, mps_sf_best_usable(c), "failover", x);
}

void mps_stat_path(unsigned ifindex, int up)
{
	char x[64], ifn[IF_NAMESIZE], e[48];

	if (!monitors() || !ifindex) /* 0: events were lost, a re-check */
		return;
	snprintf(x, sizeof(x), "if=%s ifindex=%u",
	         mps_kv_escape(e, sizeof(e), ifname_of(ifindex, ifn)), ifindex);
	mps_stat_event(NULL, NULL, up ? "path_up" : "path_down", x);
}

static const char *sf_state_name(int s)
{
	switch (s) {
	case SF_CONNECTING:
		return "connecting";
	case SF_NEGO:
		return "negotiating";
	case SF_JOIN_SENT:
	case SF_JOIN_WAIT:
	case SF_JOIN_ACKED:
		return "joining";
	case SF_ACTIVE:
		return "active";
	default:
		return "closed";
	}
}

static const char *conn_state_name(const struct mps_conn *c)
{
	if (mps_conn_closed(c))
		return "closed";
	if (c->outage)
		return "outage";
	if (c->rx_mode == RX_NEGO)
		return "negotiating";
	switch (c->state) {
	case MPS_CONN_FIN_WAIT1: return "fin-wait-1";
	case MPS_CONN_FIN_WAIT2: return "fin-wait-2";
	case MPS_CONN_CLOSE_WAIT: return "close-wait";
	case MPS_CONN_LAST_ACK: return "last-ack";
	case MPS_CONN_TIME_WAIT: return "time-wait";
	default: return "established";
	}
}

static void dump_sf(struct mps_obuf *out, const struct mps_conn *c, const struct mps_subflow *sf)
{
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	char l[64], r[64], el[96], er[96], ifn[IF_NAMESIZE], ei[48], with[64];
	uint64_t ccwnd;
	double since;

	mps_ccglue_view(c, sf, ev_now(c->loop), &ccwnd, with, sizeof(with), &since);
	memset(&ti, 0, sizeof(ti));
	if (sf->fd < 0 || mps_real.getsockopt(sf->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0)
		memset(&ti, 0, sizeof(ti));
	mps_obuf_printf(out,
	                "sf conn=%u id=%d local=%s remote=%s if=%s state=%s rtt_us=%u cwnd=%u "
	                "sent=%llu received=%llu retrans=%u backup=%d stale=%d ccwnd=%llu "
	                "shared=%s shared_for=%.1f\n",
	                c->st.id, sf->id,
	                mps_kv_escape(el, sizeof(el), mps_addr_str(&sf->local, l, sizeof(l))),
	                mps_kv_escape(er, sizeof(er), mps_addr_str(&sf->remote, r, sizeof(r))),
	                mps_kv_escape(ei, sizeof(ei), ifname_of(sf->ifindex, ifn)),
	                sf_state_name(sf->state), ti.tcpi_rtt, ti.tcpi_snd_cwnd,
	                (unsigned long long)sf->tx_bytes, (unsigned long long)sf->rx_bytes,
	                ti.tcpi_total_retrans, sf->backup, sf->stale, (unsigned long long)ccwnd,
	                with, since);
}

static void proc_line(struct mps_obuf *out)
{
	char comm[17] = "", e[64];

	mps_real.prctl(PR_GET_NAME, comm, 0, 0, 0);
	mps_obuf_printf(out, "proc pid=%d comm=%s", (int)getpid(),
	                mps_kv_escape(e, sizeof(e), comm));
	/* a gateway (section 10): the connections it holds now */
	if (mps_gw_serving())
		mps_obuf_printf(out, " gateway_open=%d", mps_gw_count());
	mps_obuf_put(out, "\n", 1);
}

/* A client's connection through a gateway: that gateway's address; "" */
static const char *gw_of(const struct mps_conn *c, char *buf, size_t len)
{
	buf[0] = '\0';
	if (c->gw && c->role == MPS_CLIENT)
		mps_addr_str(&c->gw_peer, buf, len);
	return buf;
}

/* A gateway's connection: the destination its client asked for; "" */
static const char *dest_of(const struct mps_conn *c, char *buf, size_t len)
{
	const struct mps_gwdest *d;
	char a[64];

	buf[0] = '\0';
	if (!c->gw || c->role != MPS_SERVER || !c->sock->gw_info)
		return buf;
	d = &c->sock->gw_info->dest;
	if (d->type == MPS_GWT_DEST_IPV4)
		snprintf(buf, len, "%s:%u", inet_ntop(AF_INET, d->addr, a, sizeof(a)), d->port);
	else if (d->type == MPS_GWT_DEST_IPV6)
		snprintf(buf, len, "[%s]:%u", inet_ntop(AF_INET6, d->addr, a, sizeof(a)), d->port);
	else
		snprintf(buf, len, "%s:%u", d->name, d->port);
	return buf;
}

void mps_stat_dump(struct mps_obuf *out)
{
	const struct mps_conn *c;
	double now = 0;
	int i;

	proc_line(out);
	for (c = mps_conn_first(); c && !out->full; c = mps_conn_next(c)) {
		char ep[96], ew[96], gw[64], egw[96], dst[300], edst[600];

		if (!now)
			now = ev_now(c->loop);
		mps_obuf_printf(
		        out,
		        "conn id=%u role=%s peer=%s mode=%s fallback=%s sched=%s state=%s age=%.3f "
		        "sent=%llu received=%llu reinjected=%llu subflows=%d gateway=%s dest=%s\n",
		        c->st.id, c->role == MPS_CLIENT ? "client" : "server",
		        mps_kv_escape(ep, sizeof(ep), c->peer_str),
		        c->rx_mode == RX_MP    ? "multipath" :
		        c->rx_mode == RX_PLAIN ? "plain" :
		                                 "negotiating",
		        mps_kv_escape(ew, sizeof(ew), c->st.fb_why),
		        c->sched.ops ? c->sched.ops->name : "default", conn_state_name(c),
		        now - c->st.born, (unsigned long long)c->st.mib.v[MPS_MIB_BYTES_SENT],
		        (unsigned long long)c->st.mib.v[MPS_MIB_BYTES_RECEIVED],
		        (unsigned long long)c->st.mib.v[MPS_MIB_REINJ_BYTES], c->nsf,
		        mps_kv_escape(egw, sizeof(egw), gw_of(c, gw, sizeof(gw))),
		        mps_kv_escape(edst, sizeof(edst), dest_of(c, dst, sizeof(dst))));
		for (i = 0; i < c->nsf; i++)
			dump_sf(out, c, c->sf[i]);
	}
	mps_stat_counters(out);
}

/* A process counter, read as mps_stat_gw_limited adds (any thread). */
static unsigned long long proc_value(int i)
{
	return (unsigned long long)__atomic_load_n(&g_proc.v[i], __ATOMIC_RELAXED);
}

void mps_stat_counters(struct mps_obuf *out)
{
	int i;

	if (!out->len)
		proc_line(out);
	mps_obuf_put(out, "counters", 8);
	for (i = 0; i < MPS_MIB__MAX; i++)
		mps_obuf_printf(out, " %s=%llu", mps_mib_name(i), proc_value(i));
	mps_obuf_put(out, "\n", 1);
}

void mps_stat_write_exit(int pid, const char *comm)
{
	const char *path = mps_config()->counters_file;
	struct mps_obuf o;
	int i, fd;

	if (!path[0])
		return;
	mps_obuf_init(&o, 4096);
	mps_obuf_printf(&o, "{\"pid\":%d,\"command\":", pid);
	mps_json_str(&o, comm);
	mps_obuf_put(&o, ",\"counters\":{", 13);
	for (i = 0; i < MPS_MIB__MAX; i++)
		mps_obuf_printf(&o, "%s\"%s\":%llu", i ? "," : "", mps_mib_name(i), proc_value(i));
	mps_obuf_put(&o, "}}\n", 3);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		mps_warn("counters: cannot open %s: %s", path, strerror(errno));
	else {
		if (!mps_file_room(fd, o.len))
			; /* past RLIMIT_FSIZE: SIGXFSZ would kill the exiting app */
		else if (o.full || mps_real.write(fd, o.p, o.len) != (ssize_t)o.len)
			mps_warn("counters: cannot write %s", path);
		mps_real.close(fd);
	}
	mps_obuf_free(&o);
}

void mps_stat_atfork_child(void)
{
	memset(&g_proc, 0, sizeof(g_proc));
}
