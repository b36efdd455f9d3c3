/* check_ctlproto.c - the control protocol's pure parts: the request
 * parser, record escaping, the bounded buffer, the JSON string writer,
 * human units, and the counter names. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mptcpshim/ctlproto.h"
#include "mptcpshim/mib.h"

static int parse(const char *s, struct mps_ctlreq *r)
{
	return mps_ctlreq_parse(s, strlen(s), r);
}

START_TEST(test_req_ok)
{
	struct mps_ctlreq r;

	ck_assert_int_eq(parse("status\n", &r), 0);
	ck_assert_int_eq(r.type, MPS_REQ_STATUS);
	ck_assert_int_eq(parse("counters\n", &r), 0);
	ck_assert_int_eq(r.type, MPS_REQ_COUNTERS);
	ck_assert_int_eq(parse("monitor\n", &r), 0);
	ck_assert_int_eq(r.type, MPS_REQ_MONITOR);
	ck_assert_int_eq(parse("reload\n", &r), 0);
	ck_assert_int_eq(r.type, MPS_REQ_RELOAD);
	ck_assert_int_eq(parse("set scheduler redundant\n", &r), 0);
	ck_assert_int_eq(r.type, MPS_REQ_SET_SCHED);
	ck_assert_str_eq(r.name, "redundant");
	ck_assert_int_eq(parse("set backup wlan0 on\n", &r), 0);
	ck_assert_int_eq(r.type, MPS_REQ_SET_BACKUP);
	ck_assert_str_eq(r.name, "wlan0");
	ck_assert_int_eq(r.on, 1);
	ck_assert_int_eq(parse("set interface eth-1.100 off\n", &r), 0);
	ck_assert_int_eq(r.type, MPS_REQ_SET_IFACE);
	ck_assert_str_eq(r.name, "eth-1.100");
	ck_assert_int_eq(r.on, 0);
	/* 15 bytes: the longest interface name */
	ck_assert_int_eq(parse("set backup abcdefghijklmno off\n", &r), 0);
	ck_assert_str_eq(r.name, "abcdefghijklmno");
}
END_TEST

START_TEST(test_req_bad)
{
	static const char *bad[] = {
	        "",
	        "\n",
	        "status",           /* no newline */
	        "status\nstatus\n", /* two lines */
	        "status \n",        /* trailing space */
	        " status\n",        /* leading space */
	        "STATUS\n",
	        "status now\n",
	        "reload all\n", /* the selection is the tool's, not the request's */
	        "set\n",
	        "set scheduler\n",
	        "set scheduler  redundant\n", /* double space */
	        "set scheduler red/undant\n",
	        "set scheduler a b\n",
	        "set backup wlan0\n",
	        "set backup wlan0 yes\n",
	        "set backup abcdefghijklmnop on\n", /* 16 bytes */
	        "set backup wl an0 on\n",
	        "set interface wlan0 on x\n",
	        "set interface ../x off\n", /* "/" is no name byte */
	        "set iface wlan0 off\n",
	        "monitor\r\n",
	};
	struct mps_ctlreq r;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(bad[i], &r) == -EINVAL, "accepted: '%s'", bad[i]);
	/* a NUL inside */
	ck_assert_int_eq(mps_ctlreq_parse("sta\0us\n", 7, &r), -EINVAL);
	/* longer than the limit, even if well formed */
	{
		char big[MPS_CTL_REQ_MAX + 2];

		memset(big, 's', sizeof(big));
		big[sizeof(big) - 1] = '\n';
		ck_assert_int_eq(mps_ctlreq_parse(big, sizeof(big), &r), -EINVAL);
	}
}
END_TEST

START_TEST(test_kv_escape)
{
	char b[64], u[64];

	ck_assert_str_eq(mps_kv_escape(b, sizeof(b), "198.18.0.1:80"), "198.18.0.1:80");
	ck_assert_str_eq(mps_kv_escape(b, sizeof(b), "a b=c%d"), "a%20b%3Dc%25d");
	ck_assert_str_eq(mps_kv_escape(b, sizeof(b), "x\ny\x7f\xc3\xa9"), "x%0Ay%7F%C3%A9");
	ck_assert_str_eq(mps_kv_escape(b, sizeof(b), ""), "-");
	ck_assert_str_eq(mps_kv_escape(b, sizeof(b), NULL), "-");
	ck_assert_str_eq(mps_kv_escape(b, sizeof(b), "-"), "%2D");
	/* cut at a whole escape */
	ck_assert_str_eq(mps_kv_escape(b, 5, "ab cd"), "ab");
	ck_assert_str_eq(mps_kv_escape(b, 6, "ab cd"), "ab%20");
	ck_assert_str_eq(mps_kv_escape(b, 4, "abcdef"), "abc");
	/* round trip */
	strcpy(u, mps_kv_escape(b, sizeof(b), "plain TCP client (no HELLO)"));
	mps_kv_unescape(u);
	ck_assert_str_eq(u, "plain TCP client (no HELLO)");
	strcpy(u, "-");
	mps_kv_unescape(u);
	ck_assert_str_eq(u, "");
	strcpy(u, "%2D");
	mps_kv_unescape(u);
	ck_assert_str_eq(u, "-");
	/* bad escapes stay as they are; %00 is never decoded */
	strcpy(u, "%4%zz%00%");
	mps_kv_unescape(u);
	ck_assert_str_eq(u, "%4%zz%00%");
}
END_TEST

START_TEST(test_kv_get)
{
	const char *l =
	        "conn id=3 peer=198.18.0.1:80 fallback=plain%20TCP mode=multipath\nsf id=9\n";
	char v[32];

	ck_assert_int_eq(mps_kv_get(l, "id", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "3");
	ck_assert_int_eq(mps_kv_get(l, "fallback", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "plain TCP");
	ck_assert_int_eq(mps_kv_get(l, "mode", v, sizeof(v)), 1);
	ck_assert_str_eq(v, "multipath");
	/* not past the line, not a prefix, not the record type */
	ck_assert_int_eq(mps_kv_get("conn id=3\nsf stale=1\n", "stale", v, sizeof(v)), 0);
	ck_assert_int_eq(mps_kv_get(l, "i", v, sizeof(v)), 0);
	ck_assert_int_eq(mps_kv_get(l, "conn", v, sizeof(v)), 0);
	/* cut to the buffer */
	ck_assert_int_eq(mps_kv_get(l, "peer", v, 5), 1);
	ck_assert_str_eq(v, "198.");
}
END_TEST

START_TEST(test_obuf)
{
	struct mps_obuf b;
	int i;

	mps_obuf_init(&b, 10);
	ck_assert_int_eq(mps_obuf_put(&b, "hello", 5), 0);
	ck_assert_int_eq(mps_obuf_printf(&b, "%d", 1234), 0);
	ck_assert_str_eq(b.p, "hello1234");
	ck_assert_int_eq(mps_obuf_put(&b, "xy", 2), -ENOBUFS);
	ck_assert_int_eq(b.full, 1);
	ck_assert_str_eq(b.p, "hello1234");
	/* full stays full */
	ck_assert_int_eq(mps_obuf_put(&b, "", 0), -ENOBUFS);
	mps_obuf_consume(&b, 5);
	ck_assert_str_eq(b.p, "1234");
	mps_obuf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	mps_obuf_free(&b);
	/* growth across a long printf */
	mps_obuf_init(&b, 1 << 20);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(mps_obuf_printf(&b, "%0600d\n", i), 0);
	ck_assert_uint_eq(b.len, 100 * 601);
	ck_assert_uint_eq(strlen(b.p), b.len);
	mps_obuf_free(&b);
}
END_TEST

static void json_is(const char *in, const char *want)
{
	struct mps_obuf b;

	mps_obuf_init(&b, 1024);
	ck_assert_int_eq(mps_json_str(&b, in), 0);
	ck_assert_str_eq(b.p, want);
	mps_obuf_free(&b);
}

START_TEST(test_json_str)
{
	json_is("", "\"\"");
	json_is("eth0", "\"eth0\"");
	json_is("a\"b\\c", "\"a\\\"b\\\\c\"");
	json_is("\n\t\x01\x7f", "\"\\u000a\\u0009\\u0001\\u007f\"");
	json_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* invalid UTF-8: lone continuation, overlong, surrogate, cut short */
	json_is("\x80", "\"\\u0080\"");
	json_is("\xc0\xaf", "\"\\u00c0\\u00af\"");
	json_is("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");
	json_is("\xe2\x82", "\"\\u00e2\\u0082\"");
}
END_TEST

START_TEST(test_fmt)
{
	char b[16];

	ck_assert_str_eq(mps_fmt_bytes(b, sizeof(b), 0), "0B");
	ck_assert_str_eq(mps_fmt_bytes(b, sizeof(b), 1023), "1023B");
	ck_assert_str_eq(mps_fmt_bytes(b, sizeof(b), 1536), "1.5K");
	ck_assert_str_eq(mps_fmt_bytes(b, sizeof(b), 8u << 20), "8.0M");
	ck_assert_str_eq(mps_fmt_bytes(b, sizeof(b), 300u << 20), "300M");
	ck_assert_str_eq(mps_fmt_bytes(b, sizeof(b), 10189), "10K");
	ck_assert_str_eq(mps_fmt_bytes(b, sizeof(b), UINT64_MAX), "16E");
	ck_assert_str_eq(mps_fmt_age(b, sizeof(b), 0.4), "0s");
	ck_assert_str_eq(mps_fmt_age(b, sizeof(b), 59.9), "59s");
	ck_assert_str_eq(mps_fmt_age(b, sizeof(b), 192), "3m12s");
	ck_assert_str_eq(mps_fmt_age(b, sizeof(b), 7500), "2h05m");
	ck_assert_str_eq(mps_fmt_age(b, sizeof(b), 273600), "3d04h");
	ck_assert_str_eq(mps_fmt_age(b, sizeof(b), -3), "0s");
}
END_TEST

START_TEST(test_ctl_dir)
{
	char b[128], longx[128];

	ck_assert_int_eq(mps_ctl_dir(b, sizeof(b), "/run/user/1000", 1000), 0);
	ck_assert_str_eq(b, "/run/user/1000/mptcpshim");
	ck_assert_int_eq(mps_ctl_dir(b, sizeof(b), NULL, 1000), 0);
	ck_assert_str_eq(b, "/tmp/mptcpshim-1000");
	/* relative or empty: not trusted */
	ck_assert_int_eq(mps_ctl_dir(b, sizeof(b), "run/user", 0), 0);
	ck_assert_str_eq(b, "/tmp/mptcpshim-0");
	ck_assert_int_eq(mps_ctl_dir(b, sizeof(b), "", 0), 0);
	ck_assert_str_eq(b, "/tmp/mptcpshim-0");
	/* too long for sun_path with "/PID.sock" */
	memset(longx, 'x', 100);
	longx[0] = '/';
	longx[100] = 0;
	ck_assert_int_eq(mps_ctl_dir(b, sizeof(b), longx, 0), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_mib_names)
{
	int i, j;

	for (i = 0; i < MPS_MIB__MAX; i++) {
		const char *n = mps_mib_name(i);

		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(mps_mib_find(n), i);
		/* a record value needs no escaping, a JSON name neither */
		for (j = 0; n[j]; j++)
			ck_assert((n[j] >= 'a' && n[j] <= 'z') || n[j] == '_');
	}
	ck_assert_ptr_null(mps_mib_name(MPS_MIB__MAX));
	ck_assert_ptr_null(mps_mib_name(-1));
	ck_assert_int_eq(mps_mib_find("nope"), -1);
	/* the names are a stable interface: these must not change */
	ck_assert_str_eq(mps_mib_name(MPS_MIB_SF_JOINED), "subflows_joined");
	ck_assert_str_eq(mps_mib_name(MPS_MIB_FAILOVERS), "failovers");
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctlproto");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_req_ok);
	tcase_add_test(tc, test_req_bad);
	tcase_add_test(tc, test_kv_escape);
	tcase_add_test(tc, test_kv_get);
	tcase_add_test(tc, test_obuf);
	tcase_add_test(tc, test_json_str);
	tcase_add_test(tc, test_fmt);
	tcase_add_test(tc, test_ctl_dir);
	tcase_add_test(tc, test_mib_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
