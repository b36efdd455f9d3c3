/* gwopts.c - mptcpshim-gateway's command line: options, defaults, help,
 * and --gen-key (which prints a key line and exits).  Split from main.c
 * so that main() is the daemon's start-up, step by step. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/gwauth.h"
#include "gwopts.h"
#include "../proxy/pxutil.h"

struct mps_gwopts g_opt = {
        .max_conns = 4096,
        .max_per_client = 256,
        .connect_timeout_ms = 30000,
        .max_pending_per_source = 64,
        .auth_timeout_ms = 10000,
        .rate_per_client = 100,
        .workers = 1,
};

static void usage(FILE *f)
{
	fprintf(f,
	        "Usage: mptcpshim-gateway --listen ADDR:PORT --key-file FILE [--allow RULE]...\n"
	        "                         [--deny RULE]... [--max-conns N] [--max-per-client N]\n"
	        "                         [--max-pending-per-source N] [--auth-timeout SECS]\n"
	        "                         [--rate-per-client N] [--connect-timeout SECS]\n"
	        "                         [--workers N] [--relay] [--threaded] [--verbose]\n"
	        "                         [--check]\n"
	        "       mptcpshim-gateway --gen-key NAME\n"
	        "Serves mptcpshim clients (MPTCPSHIM_GATEWAY) multipath, and connects them to\n"
	        "plain TCP servers.\n\n"
	        "  --listen ADDR:PORT       where clients connect ([IPV6]:PORT for IPv6)\n"
	        "  --key-file FILE          client keys, one 'NAME KEY' per line (mode 0600)\n"
	        "  --allow RULE, --deny RULE  ADDRESS[/LEN][:PORT[-PORT]] ([v6] with a port, *)\n"
	        "                           destinations allowed or refused before the\n"
	        "                           default deny list (loopback, private, link-local,\n"
	        "                           the gateway's own addresses)\n"
	        "  --max-conns N            connections at most, pending ones included\n"
	        "                           (default 4096 a worker)\n"
	        "  --max-per-client N       authenticated connections per client key\n"
	        "                           (default 256)\n"
	        "  --max-pending-per-source N  connections one source address (an IPv6 /64)\n"
	        "                           may hold before they authenticate (default 64;\n"
	        "                           0: no limit)\n"
	        "  --auth-timeout SECS      close a connection not authenticated after SECS\n"
	        "                           (default 10)\n"
	        "  --rate-per-client N      new connections per second per client key, in\n"
	        "                           bursts of up to 2N (default 100; 0: no limit)\n"
	        "  --connect-timeout SECS   give up a destination after SECS (default 30)\n"
	        "  --workers N              N processes serving the port (default 1; the\n"
	        "                           limits are the gateway's, split evenly)\n"
	        "  --relay                  relay each connection on a thread of its own\n"
	        "                           (the way before MPS_SO_GW_SPLICE; to compare)\n"
	        "  --threaded               answer each request on a thread of its own, then\n"
	        "                           splice (the way before MPS_SO_GW_DIRECT; to compare)\n"
	        "  --gen-key NAME           print a new key line 'NAME <64 hex digits>'\n"
	        "  -v, --verbose            log every connection\n"
	        "  --check                  check the options and the key file, then exit\n"
	        "  -h, --help               this help\n"
	        "See mptcpshim-gateway(8).\n");
}

int mps_gwopts_parse(int argc, char **argv, struct mps_gwpolicy *pol)
{
	const char *gen = NULL;
	char err[256];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t n = strcspn(a, "=");

		if (a[n] == '=')
			v = a + n + 1;
#define OPT(name) (strncmp(a, name, n) == 0 && strlen(name) == n)
#define VAL()                                                                              \
	(v ? v :                                                                           \
	     (i + 1 < argc ? argv[++i] :                                                   \
	                     (fprintf(stderr, "mptcpshim-gateway: %s needs a value\n", a), \
	                      exit(2), (const char *)NULL)))
		if (OPT("--listen")) {
			g_opt.listen = VAL();
		} else if (OPT("--key-file")) {
			g_opt.key_file = VAL();
		} else if (OPT("--allow") || OPT("--deny")) {
			int allow = OPT("--allow");
			const char *r = VAL();

			if (mps_gwpolicy_add(pol, allow, r, err, sizeof(err))) {
				fprintf(stderr, "mptcpshim-gateway: --%s: %s\n",
				        allow ? "allow" : "deny", err);
				return 2;
			}
		} else if (OPT("--max-conns")) {
			g_opt.max_conns = mps_px_parse_int("mptcpshim-gateway", "--max-conns",
			                                   VAL(), 1, 1000000);
			g_opt.max_conns_set = 1;
		} else if (OPT("--workers")) {
			g_opt.workers =
			        mps_px_parse_int("mptcpshim-gateway", "--workers", VAL(), 1, 64);
		} else if (OPT("--max-per-client")) {
			g_opt.max_per_client = mps_px_parse_int(
			        "mptcpshim-gateway", "--max-per-client", VAL(), 1, 1000000);
		} else if (OPT("--max-pending-per-source")) {
			g_opt.max_pending_per_source = mps_px_parse_int(
			        "mptcpshim-gateway", "--max-pending-per-source", VAL(), 0, 1000000);
		} else if (OPT("--auth-timeout")) {
			g_opt.auth_timeout_ms =
			        1000 * mps_px_parse_int("mptcpshim-gateway", "--auth-timeout",
			                                VAL(), 1, 3600);
		} else if (OPT("--rate-per-client")) {
			g_opt.rate_per_client = mps_px_parse_int(
			        "mptcpshim-gateway", "--rate-per-client", VAL(), 0, 1000000);
		} else if (OPT("--connect-timeout")) {
			g_opt.connect_timeout_ms =
			        1000 * mps_px_parse_int("mptcpshim-gateway", "--connect-timeout",
			                                VAL(), 1, 3600);
		} else if (OPT("--gen-key")) {
			gen = VAL();
		} else if (OPT("--relay") && !v) {
			g_opt.relay = 1;
		} else if (OPT("--threaded") && !v) {
			g_opt.threaded = 1;
		} else if (OPT("--check") && !v) {
			g_opt.check = 1;
		} else if ((OPT("-v") || OPT("--verbose")) && !v) {
			g_opt.verbose = 1;
		} else if ((OPT("-h") || OPT("--help")) && !v) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mptcpshim-gateway: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
#undef OPT
#undef VAL
	}
	if (gen) {
		char line[MPS_GWAUTH_LINE_MAX];
		int rc = mps_gwauth_gen_line(gen, line, sizeof(line));

		if (rc < 0) {
			fprintf(stderr, "mptcpshim-gateway: --gen-key '%s': %s\n", gen,
			        rc == -EINVAL ? "a name is 1..32 of A-Z a-z 0-9 . _ @ -" :
			                        "no randomness");
			return 2;
		}
		fputs(line, stdout);
		return 0;
	}
	if (!g_opt.listen || !g_opt.key_file) {
		usage(stderr);
		return 2;
	}
	return -1;
}
