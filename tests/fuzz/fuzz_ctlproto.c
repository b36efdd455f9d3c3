/* fuzz_ctlproto.c - libFuzzer harness for the control socket's request
 * decoder and the record/JSON writers (src/ctlproto.c).
 *
 * Properties checked, not only "no crash":
 *  - a request is accepted only in its one canonical form: an accepted
 *    input, written back from the parsed struct, is the input byte for
 *    byte (so no two inputs mean the same, and nothing is ignored);
 *  - an accepted name holds only name bytes, 1..15 of them;
 *  - mps_kv_escape's output holds no byte that would split a record
 *    (space, '=', newline, controls) and mps_kv_unescape gives the input
 *    back (when it fit);
 *  - mps_kv_get finds that value again in a record line;
 *  - mps_json_str's output has no raw control byte and balanced quotes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mptcpshim/ctlproto.h"

static void check_request(const uint8_t *data, size_t size)
{
	struct mps_ctlreq r;
	char back[MPS_CTL_REQ_MAX + 1];
	int rc = mps_ctlreq_parse((const char *)data, size, &r), n = 0;
	size_t i;

	FZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc)
		return;
	switch (r.type) {
	case MPS_REQ_STATUS:
		n = snprintf(back, sizeof(back), "status\n");
		break;
	case MPS_REQ_COUNTERS:
		n = snprintf(back, sizeof(back), "counters\n");
		break;
	case MPS_REQ_MONITOR:
		n = snprintf(back, sizeof(back), "monitor\n");
		break;
	case MPS_REQ_SET_SCHED:
		n = snprintf(back, sizeof(back), "set scheduler %s\n", r.name);
		break;
	case MPS_REQ_SET_BACKUP:
		n = snprintf(back, sizeof(back), "set backup %s %s\n", r.name, r.on ? "on" : "off");
		break;
	case MPS_REQ_SET_IFACE:
		n = snprintf(back, sizeof(back), "set interface %s %s\n", r.name,
		             r.on ? "on" : "off");
		break;
	case MPS_REQ_RELOAD:
		n = snprintf(back, sizeof(back), "reload\n");
		break;
	default:
		FZ_ASSERT(0);
	}
	FZ_ASSERT((size_t)n == size && !memcmp(back, data, size));
	if (r.type >= MPS_REQ_SET_SCHED && r.type <= MPS_REQ_SET_IFACE) {
		size_t len = strlen(r.name);

		FZ_ASSERT(len >= 1 && len < MPS_CTL_NAME_MAX);
		for (i = 0; i < len; i++)
			FZ_ASSERT(r.name[i] != ' ' && r.name[i] != '/' && r.name[i] > 0x20 &&
			          r.name[i] < 0x7f);
	}
}

static void check_writers(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), esc[1024], back[1024], line[1100], got[1024];
	struct mps_obuf o;
	size_t i, q = 0;

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = 0;
	mps_kv_escape(esc, sizeof(esc), s);
	for (i = 0; esc[i]; i++)
		FZ_ASSERT(esc[i] > 0x20 && esc[i] < 0x7f && esc[i] != '=');
	snprintf(back, sizeof(back), "%s", esc);
	mps_kv_unescape(back);
	if (strlen(s) * 3 + 1 < sizeof(esc) && strcmp(s, "-")) /* it fit whole */
		FZ_ASSERT(!strcmp(back, s));
	snprintf(line, sizeof(line), "rec a=1 k=%s z=2\n", esc);
	FZ_ASSERT(mps_kv_get(line, "k", got, sizeof(got)) == 1);
	FZ_ASSERT(!strcmp(got, back));
	mps_obuf_init(&o, 1 << 16);
	FZ_ASSERT(mps_json_str(&o, s) == 0);
	FZ_ASSERT(o.len >= 2 && o.p[0] == '"' && o.p[o.len - 1] == '"');
	for (i = 0; i < o.len; i++) {
		FZ_ASSERT((unsigned char)o.p[i] >= 0x20 && o.p[i] != 0x7f);
		if (o.p[i] == '\\')
			i++; /* the escaped byte */
		else if (o.p[i] == '"')
			q++;
	}
	FZ_ASSERT(q == 2);
	mps_obuf_free(&o);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check_writers(data, size);
	return 0;
}
