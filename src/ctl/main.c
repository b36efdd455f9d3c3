/* mptcpshim-ctl - `mptcpshim status`, `monitor` and `set`: talks to the
 * control socket of every process of this user that runs under the
 * library (src/ctl.c; protocol in include/mptcpshim/ctlproto.h and
 * docs/DESIGN.md "Control socket").  Run by the launcher, not under the
 * library. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mptcpshim/ctlproto.h"
#include "ctl_int.h"
#include "execprobe.h"

static const char *usage_text =
        "usage: mptcpshim status [--json] [--counters] [--watch[=SECONDS]] [PID|COMMAND]\n"
        "       mptcpshim monitor [--json] [PID|COMMAND]\n"
        "       mptcpshim set PID|COMMAND|all scheduler default|roundrobin|redundant|ecf\n"
        "       mptcpshim set PID|COMMAND|all backup IFNAME on|off\n"
        "       mptcpshim set PID|COMMAND|all interface IFNAME on|off\n"
        "       mptcpshim reload [PID|COMMAND|all]\n";

/* ------------------------------------------------------------- status */

/* --watch: each subflow's byte counts at the previous refresh, so that the
 * table can show how fast traffic moves on each path (and moves over when
 * one dies). */
#define RATE_MAX 4096
struct rate_seen {
	int pid;
	unsigned conn, sf;
	uint64_t tx, rx;
};
static struct rate_seen rate_prev[RATE_MAX], rate_cur[RATE_MAX];
static int rate_nprev, rate_ncur;
static double rate_dt; /* seconds since the previous refresh; 0: none yet */

/* Bytes per second since the previous refresh for one subflow's counts:
 * 0 and -1 (not known: new subflow, or first refresh) in *tx_s / *rx_s. */
static void rate_of(int pid, unsigned conn, unsigned sf, uint64_t tx, uint64_t rx, double *tx_s,
                    double *rx_s)
{
	int i;

	*tx_s = *rx_s = -1;
	if (rate_ncur < RATE_MAX)
		rate_cur[rate_ncur++] = (struct rate_seen){pid, conn, sf, tx, rx};
	if (rate_dt <= 0)
		return;
	for (i = 0; i < rate_nprev; i++)
		if (rate_prev[i].pid == pid && rate_prev[i].conn == conn && rate_prev[i].sf == sf) {
			const struct rate_seen *o = &rate_prev[i];

			*tx_s = tx >= o->tx ? (double)(tx - o->tx) / rate_dt : 0;
			*rx_s = rx >= o->rx ? (double)(rx - o->rx) / rate_dt : 0;
			return;
		}
}

static const char *fmt_rate(char *buf, size_t cap, double r)
{
	char b[16];

	if (r < 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%s/s", mps_fmt_bytes(b, sizeof(b), (uint64_t)(r + 0.5)));
	return buf;
}

/* A gateway's line (after its connections): what it holds, and its
 * requests by outcome, from the proc line's gateway_open and the process
 * counters (mib.h's gateway_*). */
static void gateway_line(const struct proc *p, const char *open, const char *counters)
{
	char r[32], u[32], pol[32], f[32], lim[32];

	if (!mps_kv_get(counters, "gateway_requests", r, sizeof(r)) ||
	    !mps_kv_get(counters, "gateway_unauthenticated", u, sizeof(u)) ||
	    !mps_kv_get(counters, "gateway_policy_refused", pol, sizeof(pol)) ||
	    !mps_kv_get(counters, "gateway_dest_failed", f, sizeof(f)))
		return;
	/* a library older than the counter has none */
	if (!mps_kv_get(counters, "gateway_limited", lim, sizeof(lim)))
		snprintf(lim, sizeof(lim), "?");
	printf("%-7d %-12.12s gateway: %s open; %s requests authenticated, %s refused by policy, "
	       "%s refused by limits, %s destinations failed; %s closed unauthenticated\n",
	       p->pid, p->comm, open, r, pol, lim, f, u);
}

static void human_status(const struct proc *p, const char *reply, int counters, int rates)
{
	const char *line;
	char v[16][128], gw_open[16] = "";

	for (line = reply; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		if (!counters && !strncmp(line, "proc ", 5)) {
			if (!mps_kv_get(line, "gateway_open", gw_open, sizeof(gw_open)))
				gw_open[0] = 0;
		} else if (!counters && gw_open[0] && !strncmp(line, "counters ", 9)) {
			gateway_line(p, gw_open, line);
		} else if (counters && !strncmp(line, "counters ", 9)) {
			const char *q = line + 8;

			printf("%d %s:\n", p->pid, p->comm);
			while (*q == ' ') {
				int klen, vlen;
				const char *k = q + 1, *eq = strchr(k, '=');

				if (!eq)
					break;
				klen = (int)(eq - k);
				vlen = (int)strcspn(eq + 1, " \n");
				printf("    %-24.*s %.*s\n", klen, k, vlen, eq + 1);
				q = eq + 1 + vlen;
			}
		} else if (!counters && !strncmp(line, "conn ", 5)) {
			static const char *keys[] = {
			        "id",  "peer", "mode",     "fallback",   "sched",   "state",
			        "age", "sent", "received", "reinjected", "subflows", "gateway", "dest"};
			char s1[16], s2[16], s3[16], age[16], mode[160];
			unsigned i;

			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (!mps_kv_get(line, keys[i], v[i], sizeof(v[i])))
					v[i][0] = 0;
			if (v[3][0])
				snprintf(mode, sizeof(mode), "plain(%s)", v[3]);
			else if (v[11][0]) /* a client's, through a gateway */
				snprintf(mode, sizeof(mode), "via-gw");
			else if (v[12][0]) /* a gateway's: the peer is its client */
				snprintf(mode, sizeof(mode), "gateway");
			else
				snprintf(mode, sizeof(mode), "%s", v[2]);
			if (v[12][0]) { /* CLIENT>DESTINATION in the peer column */
				char pd[sizeof(v[1])];

				snprintf(pd, sizeof(pd), "%.60s>%.60s", v[1], v[12]);
				memcpy(v[1], pd, sizeof(pd));
			}
			printf("%-7d %-12.12s %-4s %-40s %-10s %-10s %-12s %6s %7s %7s %7s %3s\n",
			       p->pid, p->comm, v[0], v[1], mode, v[4], v[5],
			       mps_fmt_age(age, sizeof(age), atof(v[6])),
			       mps_fmt_bytes(s1, sizeof(s1), strtoull(v[7], NULL, 10)),
			       mps_fmt_bytes(s2, sizeof(s2), strtoull(v[8], NULL, 10)),
			       mps_fmt_bytes(s3, sizeof(s3), strtoull(v[9], NULL, 10)), v[10]);
		} else if (!counters && !strncmp(line, "sf ", 3)) {
			static const char *keys[] = {"id",       "local",   "remote", "if",
			                             "state",    "rtt_us",  "cwnd",   "sent",
			                             "received", "retrans", "backup", "stale",
			                             "ccwnd",    "shared"};
			char s1[16], s2[16], path[300], flags[32];
			unsigned i;

			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				if (!mps_kv_get(line, keys[i], v[i], sizeof(v[i])))
					v[i][0] = 0;
			snprintf(path, sizeof(path), "%s -> %s", v[1], v[2]);
			snprintf(flags, sizeof(flags), "%s%s", strcmp(v[10], "1") ? "" : " backup",
			         strcmp(v[11], "1") ? "" : " stale");
			printf("          sf %-3s %-52s %-10s %-11s rtt %6.1fms cwnd %5s tx %7s rx %7s "
			       "retrans %s",
			       v[0], path, v[3][0] ? v[3] : "-", v[4], atof(v[5]) / 1000., v[6],
			       mps_fmt_bytes(s1, sizeof(s1), strtoull(v[7], NULL, 10)),
			       mps_fmt_bytes(s2, sizeof(s2), strtoull(v[8], NULL, 10)), v[9]);
			if (rates) {
				char cid[16], r1[24], r2[24];
				double tx_s, rx_s;

				if (!mps_kv_get(line, "conn", cid, sizeof(cid)))
					cid[0] = 0;
				rate_of(p->pid, (unsigned)strtoul(cid, NULL, 10),
				        (unsigned)strtoul(v[0], NULL, 10), strtoull(v[7], NULL, 10),
				        strtoull(v[8], NULL, 10), &tx_s, &rx_s);
				printf(" tx %8s rx %8s", fmt_rate(r1, sizeof(r1), tx_s),
				       fmt_rate(r2, sizeof(r2), rx_s));
			}
			/* coupled congestion control (issue 16): the window
			 * and who shares this subflow's bottleneck */
			if (strtoull(v[12], NULL, 10) > 0)
				printf(" cc %s with %s",
				       mps_fmt_bytes(s1, sizeof(s1), strtoull(v[12], NULL, 10)),
				       v[13][0] ? v[13] : "-");
			printf("%s\n", flags);
		}
	}
}

static int do_status(const char *sel, int json, int counters, double watch)
{
	static struct proc procs[MAX_PROCS];
	int n, i, shown;

	struct timespec t0 = {0, 0}, t1;

	for (;;) {
		struct mps_obuf o;

		mps_obuf_init(&o, 64u << 20);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		rate_dt = t0.tv_sec ? (double)(t1.tv_sec - t0.tv_sec) +
		                              (t1.tv_nsec - t0.tv_nsec) / 1e9 :
		                      0;
		t0 = t1;
		rate_ncur = 0;
		n = ctl_discover(sel, procs, MAX_PROCS);
		if (watch > 0 && !json)
			printf("\033[H\033[2J");
		if (json)
			mps_obuf_put(&o, "{\"version\":1,\"processes\":[", 26);
		else if (!counters)
			printf("%-7s %-12s %-4s %-40s %-10s %-10s %-12s %6s %7s %7s %7s %3s\n",
			       "PID", "COMMAND", "CONN", "PEER", "MODE", "SCHED", "STATE", "AGE",
			       "SENT", "RECV", "REINJ", "SF");
		for (i = 0, shown = 0; i < n; i++) {
			struct mps_obuf r;

			if (ctl_query(&procs[i], counters ? "counters\n" : "status\n", &r) != 0)
				continue;
			if (json) {
				if (shown)
					mps_obuf_put(&o, ",", 1);
				ctl_json_proc(&o, &procs[i], r.p, counters);
			} else
				human_status(&procs[i], r.p, counters, watch > 0);
			shown++;
			mps_obuf_free(&r);
		}
		if (json) {
			mps_obuf_put(&o, "]}\n", 3);
			fwrite(o.p, 1, o.len, stdout);
		}
		mps_obuf_free(&o);
		fflush(stdout);
		if (watch <= 0)
			return sel && !shown && strcmp(sel, "all") ? 1 : 0;
		memcpy(rate_prev, rate_cur, (size_t)rate_ncur * sizeof(rate_cur[0]));
		rate_nprev = rate_ncur;
		usleep((useconds_t)(watch * 1e6));
	}
}

/* ------------------------------------------------------------- monitor */

struct mon {
	struct proc p;
	int fd;
	char buf[8192];
	size_t len;
};

static void show_event(const struct mon *m, const char *line, int json)
{
	char v[10][160];
	static const char *keys[] = {"t", "type", "conn", "peer", "sf", "local", "remote", "if"};
	unsigned i;

	if (strncmp(line, "event ", 6))
		return;
	if (json) {
		struct mps_obuf o;

		mps_obuf_init(&o, 1u << 16);
		mps_obuf_printf(&o, "{\"pid\":%d,\"command\":", m->p.pid);
		mps_json_str(&o, m->p.comm);
		ctl_json_fields(&o, line, ctl_ev_fields, 0);
		mps_obuf_put(&o, "}\n", 2);
		fwrite(o.p, 1, o.len, stdout);
		mps_obuf_free(&o);
	} else {
		char when[32], extra[512] = "";
		double t;
		time_t secs;
		struct tm tm;
		const char *q;
		size_t el = 0;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!mps_kv_get(line, keys[i], v[i], sizeof(v[i])))
				v[i][0] = 0;
		t = atof(v[0]);
		secs = (time_t)t;
		localtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		/* the keys not shown in columns, as they came */
		for (q = strchr(line, ' '); q && *q == ' ';) {
			const char *k = q + 1, *end = k + strcspn(k, " \n");
			int known = 0;

			for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
				known |= !strncmp(k, keys[i], strlen(keys[i])) &&
				         k[strlen(keys[i])] == '=';
			if (!known && el + (size_t)(end - k) + 2 < sizeof(extra)) {
				char tmp[256];

				snprintf(tmp, sizeof(tmp), "%.*s", (int)(end - k), k);
				mps_kv_unescape(tmp);
				el += (size_t)snprintf(extra + el, sizeof(extra) - el, " %s", tmp);
			}
			q = end;
		}
		printf("%s.%03d %-7d %-12.12s %-15s", when, (int)((t - (double)secs) * 1000),
		       m->p.pid, m->p.comm, v[1]);
		if (v[2][0])
			printf(" conn %s %s", v[2], v[3]);
		if (v[4][0])
			printf(" sf %s %s -> %s%s%s%s", v[4], v[5], v[6], v[7][0] ? " (" : "", v[7],
			       v[7][0] ? ")" : "");
		else if (v[7][0])
			printf(" %s", v[7]);
		printf("%s\n", extra);
	}
	fflush(stdout);
}

static int do_monitor(const char *sel, int json)
{
	static struct mon mons[MAX_PROCS];
	static struct proc procs[MAX_PROCS];
	struct pollfd pfd[MAX_PROCS];
	int nm = 0, i, j, n;
	double next_scan = 0;

	for (;;) {
		struct timespec ts;
		double now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
		if (now >= next_scan) { /* processes that started since */
			n = ctl_discover(sel, procs, MAX_PROCS);
			for (i = 0; i < n && nm < MAX_PROCS; i++) {
				for (j = 0; j < nm && mons[j].p.pid != procs[i].pid; j++)
					;
				if (j < nm)
					continue;
				mons[nm].p = procs[i];
				mons[nm].len = 0;
				mons[nm].fd = ctl_connect(&procs[i], "monitor\n");
				if (mons[nm].fd >= 0)
					nm++;
			}
			if (!json && next_scan == 0) {
				fprintf(stderr,
				        "monitoring %d process(es); new ones are picked up\n", nm);
			}
			next_scan = now + 0.5;
		}
		for (i = 0; i < nm; i++) {
			pfd[i].fd = mons[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)nm, 200) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < nm; i++) {
			struct mon *m = &mons[i];
			ssize_t r;
			char *nl;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = recv(m->fd, m->buf + m->len, sizeof(m->buf) - 1 - m->len, MSG_DONTWAIT);
			if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
				/* the process ended (or dropped us) */
				close(m->fd);
				mons[i] = mons[--nm];
				pfd[i] = pfd[nm];
				i--;
				continue;
			}
			if (r < 0)
				continue;
			m->len += (size_t)r;
			m->buf[m->len] = 0;
			while ((nl = memchr(m->buf, '\n', m->len))) {
				*nl = 0;
				show_event(m, m->buf, json);
				m->len -= (size_t)(nl + 1 - m->buf);
				memmove(m->buf, nl + 1, m->len);
			}
			if (m->len == sizeof(m->buf) - 1)
				m->len = 0; /* a line too long for us: dropped */
		}
	}
}

/* ------------------------------------------------------------- set */

/* Send req to every process sel matches and print each answer: ok_text on
 * "ok" (NULL: "applied to N" from its applied= field), else the reason on
 * stderr.  0, or 1 when none matched or one did not answer ok. */
static int ask_each(const char *what, const char *sel, const char *req, const char *ok_text)
{
	static struct proc procs[MAX_PROCS];
	int n, i, bad = 0;

	n = ctl_discover(sel, procs, MAX_PROCS);
	if (!n) {
		fprintf(stderr, "mptcpshim %s: no process of yours under mptcpshim matches %s\n",
		        what, sel);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct mps_obuf o;
		char v[128];

		if (ctl_query(&procs[i], req, &o) != 0) {
			fprintf(stderr, "%d %s: no answer\n", procs[i].pid, procs[i].comm);
			bad = 1;
			continue;
		}
		if (!strncmp(o.p, "ok ", 3) && ok_text)
			printf("%d %s: %s\n", procs[i].pid, procs[i].comm, ok_text);
		else if (!strncmp(o.p, "ok ", 3) && mps_kv_get(o.p, "applied", v, sizeof(v)))
			printf("%d %s: applied to %s\n", procs[i].pid, procs[i].comm, v);
		else {
			if (!mps_kv_get(o.p, "reason", v, sizeof(v)))
				snprintf(v, sizeof(v), "unexpected answer");
			fprintf(stderr, "%d %s: %s\n", procs[i].pid, procs[i].comm, v);
			bad = 1;
		}
		mps_obuf_free(&o);
	}
	return bad;
}

static int do_set(int argc, char **argv)
{
	char req[MPS_CTL_REQ_MAX];
	struct mps_ctlreq r;
	int j;
	size_t len = 0;

	if (argc < 3)
		return 2;
	for (j = 1; j < argc; j++)
		len += (size_t)snprintf(req + len, len < sizeof(req) ? sizeof(req) - len : 0,
		                        "%s%s", j > 1 ? " " : "set ", argv[j]);
	if (len + 1 >= sizeof(req))
		return 2;
	req[len++] = '\n';
	req[len] = 0;
	if (mps_ctlreq_parse(req, len, &r) != 0 || r.type < MPS_REQ_SET_SCHED)
		return 2;
	return ask_each("set", argv[0], req, NULL);
}

/* ------------------------------------------------------------- reload */

/* mptcpshim reload [PID|COMMAND|all]: each matching process re-reads its
 * MPTCPSHIM_POLICY file (the live connections take the new rules). */
static int do_reload(const char *sel)
{
	return ask_each("reload", sel ? sel : "all", "reload\n", "policy reloaded");
}

int main(int argc, char **argv)
{
	int json = 0, counters = 0, i;
	double watch = 0;
	const char *sel = NULL, *cmd;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "exec-probe")) /* the launcher's, internal */
		return mps_exec_probe_main(argc, argv);
	if (!strcmp(cmd, "reload")) {
		if (argc > 3 || (argc == 3 && argv[2][0] == '-')) {
			fputs(usage_text, stderr);
			return 2;
		}
		return do_reload(argc == 3 ? argv[2] : NULL);
	}
	if (!strcmp(cmd, "set")) {
		int rc = do_set(argc - 2, argv + 2);

		if (rc == 2)
			fputs(usage_text, stderr);
		return rc;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--counters") && !strcmp(cmd, "status"))
			counters = 1;
		else if (!strcmp(argv[i], "--watch") && !strcmp(cmd, "status"))
			watch = 1;
		else if (!strncmp(argv[i], "--watch=", 8) && !strcmp(cmd, "status") &&
		         (watch = atof(argv[i] + 8)) > 0)
			;
		else if (argv[i][0] != '-' && !sel)
			sel = argv[i];
		else {
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (!strcmp(cmd, "status"))
		return do_status(sel, json, counters, watch);
	if (!strcmp(cmd, "monitor"))
		return do_monitor(sel, json);
	fputs(usage_text, stderr);
	return 2;
}
