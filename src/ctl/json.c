/* json.c - mptcpshim-ctl's JSON: the records of a status or counters reply
 * (key=value lines, include/mptcpshim/ctlproto.h) as JSON objects, with
 * the documented names (man/mptcpshim.1, "JSON"). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ctl_int.h"

static const struct field conn_fields[] = {
        {"id", "id", 'n'},
        {"role", "role", 's'},
        {"peer", "peer", 's'},
        {"mode", "mode", 's'},
        {"fallback", "fallback_reason", 's'},
        {"sched", "scheduler", 's'},
        {"state", "state", 's'},
        {"age", "age_s", 'f'},
        {"sent", "bytes_sent", 'n'},
        {"received", "bytes_received", 'n'},
        {"reinjected", "reinjected_bytes", 'n'},
        {"gateway", "gateway", 's'},
        {"dest", "gateway_destination", 's'},
        {NULL, NULL, 0},
};

static const struct field sf_fields[] = {
        {"id", "id", 'n'},
        {"local", "local", 's'},
        {"remote", "remote", 's'},
        {"if", "interface", 's'},
        {"state", "state", 's'},
        {"rtt_us", "rtt_us", 'n'},
        {"cwnd", "cwnd", 'n'},
        {"sent", "bytes_sent", 'n'},
        {"received", "bytes_received", 'n'},
        {"retrans", "retransmits", 'n'},
        {"backup", "backup", 'b'},
        {"stale", "stale", 'b'},
        {"ccwnd", "coupled_window", 'n'},
        {"shared", "coupled_with", 's'},
        {"shared_for", "verdict_age_s", 'f'},
        {NULL, NULL, 0},
};

const struct field ctl_ev_fields[] = {
        {"t", "time", 'f'},        {"type", "type", 's'},          {"conn", "conn", 'n'},
        {"peer", "peer", 's'},     {"sf", "subflow", 'n'},         {"local", "local", 's'},
        {"remote", "remote", 's'}, {"if", "interface", 's'},       {"ifindex", "ifindex", 'n'},
        {"reason", "reason", 's'}, {"left", "subflows_left", 'n'}, {"stall_ms", "stall_ms", 'n'},
        {"what", "what", 's'},     {"value", "value", 's'},        {NULL, NULL, 0},
};

static int num_ok(const char *v, int frac)
{
	char *end;

	if (!*v)
		return 0;
	if (frac)
		strtod(v, &end);
	else
		strtoull(v, &end, 10);
	return !*end && (v[0] != '-' || frac);
}

/* The fields of a record line as JSON members (after a '{' or a
 * member: each preceded by a comma unless first). */
int ctl_json_fields(struct mps_obuf *o, const char *line, const struct field *f, int first)
{
	char v[512];

	for (; f->key; f++) {
		if (!mps_kv_get(line, f->key, v, sizeof(v)))
			continue;
		mps_obuf_printf(o, "%s\"%s\":", first ? "" : ",", f->json);
		first = 0;
		if (f->type == 's') {
			if (v[0])
				mps_json_str(o, v);
			else
				mps_obuf_put(o, "null", 4);
		} else if (f->type == 'b')
			mps_obuf_put(o, strcmp(v, "0") ? "true" : "false", strcmp(v, "0") ? 4 : 5);
		else if (num_ok(v, f->type == 'f'))
			mps_obuf_put(o, v, strlen(v));
		else
			mps_obuf_put(o, "null", 4);
	}
	return first;
}

static void json_counters(struct mps_obuf *o, const char *line)
{
	const char *p = strchr(line, ' ');
	int first = 1;

	mps_obuf_put(o, "\"counters\":{", 12);
	while (p && *p == ' ') {
		const char *k = p + 1, *eq = strchr(k, '='), *end = k + strcspn(k, " \n");

		if (!eq || eq > end)
			break;
		mps_obuf_printf(o, "%s\"%.*s\":%.*s", first ? "" : ",", (int)(eq - k), k,
		                (int)(end - eq - 1), eq + 1);
		first = 0;
		p = end;
	}
	mps_obuf_put(o, "}", 1);
}

/* One process's status reply as a JSON object. */
void ctl_json_proc(struct mps_obuf *o, const struct proc *p, const char *reply, int counters)
{
	const char *line;
	int nconn = 0, nsf = 0;

	mps_obuf_printf(o, "{\"pid\":%d,\"command\":", p->pid);
	mps_json_str(o, p->comm);
	{
		char go[16]; /* a gateway: the connections it holds (stat.c) */

		if (!strncmp(reply, "proc ", 5) &&
		    mps_kv_get(reply, "gateway_open", go, sizeof(go)))
			mps_obuf_printf(o, ",\"gateway_open\":%d", atoi(go));
	}
	if (!counters)
		mps_obuf_put(o, ",\"connections\":[", 16);
	for (line = reply; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		if (!counters && !strncmp(line, "conn ", 5)) {
			if (nconn)
				mps_obuf_put(o, "]},", 3);
			mps_obuf_put(o, "{", 1);
			ctl_json_fields(o, line, conn_fields, 1);
			mps_obuf_put(o, ",\"subflows\":[", 13);
			nconn++;
			nsf = 0;
		} else if (!counters && !strncmp(line, "sf ", 3) && nconn) {
			if (nsf++)
				mps_obuf_put(o, ",", 1);
			mps_obuf_put(o, "{", 1);
			ctl_json_fields(o, line, sf_fields, 1);
			mps_obuf_put(o, "}", 1);
		} else if (!strncmp(line, "counters ", 9)) {
			if (!counters)
				mps_obuf_put(o, nconn ? "]}]," : "],", nconn ? 4 : 2);
			else
				mps_obuf_put(o, ",", 1);
			json_counters(o, line);
			counters = 2;
		}
	}
	if (counters != 2) /* no counters line: the reply was cut */
		mps_obuf_put(o, nconn ? "]}]" : "]", nconn ? 3 : 1);
	mps_obuf_put(o, "}", 1);
}
