/* check_gwauth.c - key file rules, file-mode checks, the authenticator
 * (against a vector computed by tests/unit/gwauth_vectors.py with Python's
 * hashlib/hmac), verification order and the replay cache. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mptcpshim/crypto.h"
#include "mptcpshim/gwauth.h"
#include "mptcpshim/gwreq.h"
#include "mptcpshim/util.h"
#include "unhex.h"

/* The output of tests/unit/gwauth_vectors.py. */
static const char *key_id_hex = "1f642b901a4058c4";
static const char *psk_hex = "f30f16ae32c3a5cb3d2ab900651297132720df7e2ed3900e7514e4cc329f48bb";
static const char *auth_hex = "1f642b901a4058c4a0a1a2a3a4a5a6a7a8a9aaabacadaeaf000000006b49d200"
                              "765547a9bf22f661e01e93e16c7ebece4ebdfee48e0e59695d88107513acd99c";
static const char *pub_c_hex = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
#define VEC_TS 1800000000ull

/* alice: 00 01 .. 1f in hex; bob: 32 bytes 0xff.. in base64. */
static const char *good_file =
        "# gateway keys\n"
        "\n"
        "alice 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
        "   # indented comment\n"
        "\tbob.laptop@home  //////////////////////////////////////////8=\r\n"
        "carol-2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";

START_TEST(test_parse_good)
{
	struct mps_gwkeys ks = {0};
	char err[128] = "";
	uint8_t id[8];

	ck_assert_int_eq(mps_gwauth_parse(&ks, good_file, strlen(good_file), err, sizeof(err)), 0);
	ck_assert_uint_eq(ks.n, 3);
	ck_assert_str_eq(ks.v[0].name, "alice");
	ck_assert_uint_eq(ks.v[0].len, 32);
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(ks.v[0].key[i], i);
	unhex(key_id_hex, id, sizeof(id));
	ck_assert_mem_eq(ks.v[0].id, id, 8);
	ck_assert_str_eq(ks.v[1].name, "bob.laptop@home");
	ck_assert_uint_eq(ks.v[1].len, 32);
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(ks.v[1].key[i], 0xff);
	ck_assert_str_eq(ks.v[2].name, "carol-2");
	ck_assert_uint_eq(ks.v[2].len, 64);
	ck_assert_uint_eq(ks.v[2].key[63], 63);
	ck_assert_ptr_eq(mps_gwauth_find(&ks, id), &ks.v[0]);
	id[0] ^= 1;
	ck_assert_ptr_null(mps_gwauth_find(&ks, id));
	mps_gwauth_free(&ks);
	ck_assert_uint_eq(ks.n, 0);
}
END_TEST

#define K32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static const struct {
	const char *text;
	const char *err;
} bad_files[] = {
        {"alice\n", "line 1: expected \"NAME KEY\""},
        {"# c\nalice " K32 " extra\n", "line 2: unexpected text after the key"},
        {"\n\na/b " K32 "\n", "line 3: bad name"},
        {"abcdefghijabcdefghijabcdefghijabc " K32 "\n", "line 1: bad name"}, /* 33 chars */
        {"alice 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n",
         "line 1: key must be 256 to 512 bits"},                          /* 31 bytes */
        {"alice " K32 "0\n", "line 1: key is neither hex nor base64"},    /* odd digit count */
        {"alice " K32 K32 "00\n", "line 1: key must be 256 to 512 bits"}, /* 65 bytes */
        {"alice AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\n", "line 1: key must be 256 to 512 bits"},
        {"alice AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8$\n",
         "line 1: key is neither hex nor base64"},
        {"alice AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n", /* trailing bits set */
         "line 1: key is neither hex nor base64"},
        {"alice AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", /* no padding */
         "line 1: key is neither hex nor base64"},
        {"alice " K32 "\nbob 1f" K32 "\nalice 00" K32 "\n", "line 3: duplicate name \"alice\""},
        {"alice " K32 "\nbob AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
         "line 2: the key of \"alice\" is listed again"},
};

START_TEST(test_parse_errors)
{
	for (size_t i = 0; i < MPS_ARRAY_SIZE(bad_files); i++) {
		struct mps_gwkeys ks = {0};
		char err[160] = "";

		ck_assert_int_eq(mps_gwauth_parse(&ks, bad_files[i].text, strlen(bad_files[i].text),
		                                  err, sizeof(err)),
		                 -EINVAL);
		ck_assert_msg(strstr(err, bad_files[i].err) != NULL,
		              "case %zu: '%s', expected '%s'", i, err, bad_files[i].err);
		ck_assert_uint_eq(ks.n, 0);
		ck_assert_ptr_null(ks.v);
	}
	{
		static const char nul[] = "alice " K32 "\n\0bob\n";
		struct mps_gwkeys ks = {0};
		char err[160] = "";

		ck_assert_int_eq(mps_gwauth_parse(&ks, nul, sizeof(nul) - 1, err, sizeof(err)),
		                 -EINVAL);
		ck_assert_str_eq(err, "line 2: NUL byte");
	}
}
END_TEST

/* --gen-key's line is a valid key file by itself, and a valid line of a
 * larger one. */
START_TEST(test_gen_line)
{
	char a[MPS_GWAUTH_LINE_MAX], b[MPS_GWAUTH_LINE_MAX], both[2 * MPS_GWAUTH_LINE_MAX];
	struct mps_gwkeys ks = {0};
	char err[128];
	int n;

	n = mps_gwauth_gen_line("laptop", a, sizeof(a));
	ck_assert_int_eq(n, 6 + 1 + 64 + 1);
	ck_assert_int_eq((int)strlen(a), n);
	ck_assert_int_eq(mps_gwauth_parse(&ks, a, (size_t)n, err, sizeof(err)), 0);
	ck_assert_uint_eq(ks.n, 1);
	ck_assert_str_eq(ks.v[0].name, "laptop");
	ck_assert_uint_eq(ks.v[0].len, 32);
	mps_gwauth_free(&ks);
	ck_assert_int_gt(mps_gwauth_gen_line("phone", b, sizeof(b)), 0);
	snprintf(both, sizeof(both), "%s%s", a, b);
	ck_assert_int_eq(mps_gwauth_parse(&ks, both, strlen(both), err, sizeof(err)), 0);
	ck_assert_uint_eq(ks.n, 2);
	ck_assert(memcmp(ks.v[0].key, ks.v[1].key, 32) != 0);
	mps_gwauth_free(&ks);
	ck_assert_int_eq(mps_gwauth_gen_line("bad name", a, sizeof(a)), -EINVAL);
	ck_assert_int_eq(mps_gwauth_gen_line("", a, sizeof(a)), -EINVAL);
	ck_assert_int_eq(mps_gwauth_gen_line("laptop", a, 72), -ENOSPC);
}
END_TEST

START_TEST(test_check_mode)
{
	static const struct {
		mode_t mode;
		uid_t owner;
		int rc;
	} t[] = {
	        {S_IFREG | 0600, 1000, 0},      {S_IFREG | 0400, 1000, 0},
	        {S_IFREG | 0600, 0, 0},         {S_IFREG | 0640, 1000, -EPERM},
	        {S_IFREG | 0604, 1000, -EPERM}, {S_IFREG | 0620, 1000, -EPERM},
	        {S_IFREG | 0602, 1000, -EPERM}, {S_IFREG | 0600, 1001, -EPERM},
	        {S_IFDIR | 0700, 1000, -EPERM}, {S_IFIFO | 0600, 1000, -EPERM},
	};
	for (size_t i = 0; i < MPS_ARRAY_SIZE(t); i++) {
		struct stat st;
		char err[128];

		memset(&st, 0, sizeof(st));
		st.st_mode = t[i].mode;
		st.st_uid = t[i].owner;
		ck_assert_msg(mps_gwauth_check_mode(&st, 1000, err, sizeof(err)) == t[i].rc,
		              "case %zu", i);
	}
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/check_gwauth.XXXXXX", link[64], err[256];
	struct mps_gwkeys ks = {0};
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, good_file, strlen(good_file)), (int)strlen(good_file));
	close(fd);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(mps_gwauth_load(&ks, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(ks.n, 3);
	mps_gwauth_free(&ks);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(mps_gwauth_load(&ks, path, err, sizeof(err)), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "mode 644"));
	ck_assert_int_eq(chmod(path, 0600), 0);
	snprintf(link, sizeof(link), "%s.lnk", path);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(mps_gwauth_load(&ks, link, err, sizeof(err)), -ELOOP);
	unlink(link);
	unlink(path);
	ck_assert_int_eq(mps_gwauth_load(&ks, path, err, sizeof(err)), -ENOENT);
	ck_assert_uint_eq(ks.n, 0);
}
END_TEST

static void load_good(struct mps_gwkeys *ks)
{
	char err[128];

	ck_assert_int_eq(mps_gwauth_parse(ks, good_file, strlen(good_file), err, sizeof(err)), 0);
}

START_TEST(test_sign_vector)
{
	struct mps_gwkeys ks = {0};
	uint8_t nonce[16], pub[32], dest[MPS_GWDEST_TLV_MAX], out[64], want[64];
	struct mps_gwdest d = {.type = MPS_GWT_DEST_IPV4, .port = 443, .addr = {198, 18, 0, 1}};
	size_t dl;

	load_good(&ks);
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	unhex(pub_c_hex, pub, sizeof(pub));
	dl = mps_gwdest_put(dest, &d);
	ck_assert_uint_eq(dl, 9);
	mps_gwauth_sign(&ks.v[0], nonce, VEC_TS, pub, dest, dl, out);
	unhex(auth_hex, want, sizeof(want));
	ck_assert_mem_eq(out, want, 64);
	mps_gwauth_psk(&ks.v[0], out);
	unhex(psk_hex, want, 32);
	ck_assert_mem_eq(out, want, 32);
	mps_gwauth_free(&ks);
}
END_TEST

/* Verification: each rule refuses, in order, and only an authenticated
 * request enters the replay cache. */
START_TEST(test_verify_rules)
{
	struct mps_gwkeys ks = {0}, other = {0};
	struct mps_gwreplay *rc = mps_gwreplay_new(4, MPS_GWAUTH_WINDOW_S, 0);
	uint8_t nonce[16], pub[32], dest[MPS_GWDEST_TLV_MAX], a[64], bad[64];
	struct mps_gwdest d = {.type = MPS_GWT_DEST_IPV4, .port = 443, .addr = {198, 18, 0, 1}};
	const struct mps_gwkey *who;
	const uint64_t now = VEC_TS;
	char line[MPS_GWAUTH_LINE_MAX], err[64];
	size_t dl = mps_gwdest_put(dest, &d);

	ck_assert_ptr_nonnull(rc);
	load_good(&ks);
	unhex(pub_c_hex, pub, sizeof(pub));
	ck_assert_int_eq(mps_gwauth_nonce(nonce), 0);
	mps_gwauth_sign(&ks.v[1], nonce, now, pub, dest, dl, a);
	/* A tampered copy first: refused, and it must not poison the cache. */
	memcpy(bad, a, 64);
	bad[63] ^= 1;
	ck_assert_int_eq(mps_gwauth_verify(&ks, rc, bad, pub, dest, dl, now, &who), -EACCES);
	ck_assert_ptr_null(who);
	dest[4] ^= 1; /* another destination */
	ck_assert_int_eq(mps_gwauth_verify(&ks, rc, a, pub, dest, dl, now, &who), -EACCES);
	dest[4] ^= 1;
	pub[0] ^= 1; /* another client public value */
	ck_assert_int_eq(mps_gwauth_verify(&ks, rc, a, pub, dest, dl, now, &who), -EACCES);
	pub[0] ^= 1;
	/* The genuine one passes once and names the client; its replay fails. */
	ck_assert_int_eq(mps_gwauth_verify(&ks, rc, a, pub, dest, dl, now, &who), 0);
	ck_assert_str_eq(who->name, "bob.laptop@home");
	ck_assert_int_eq(mps_gwauth_verify(&ks, rc, a, pub, dest, dl, now + 5, &who), -EEXIST);
	ck_assert_ptr_null(who);
	/* Timestamps: the window's edges pass, one second beyond does not. */
	for (int dt = -31; dt <= 31; dt += 1) {
		int want = (dt < -30 || dt > 30) ? -ESTALE : 0;

		ck_assert_int_eq(mps_gwauth_nonce(nonce), 0);
		mps_gwauth_sign(&ks.v[0], nonce, (uint64_t)((int64_t)now + dt), pub, dest, dl, a);
		ck_assert_msg(mps_gwauth_verify(&ks, rc, a, pub, dest, dl, now, &who) == want,
		              "dt %d", dt);
	}
	/* A key the gateway does not list (same name, other key). */
	ck_assert_int_gt(mps_gwauth_gen_line("alice", line, sizeof(line)), 0);
	ck_assert_int_eq(mps_gwauth_parse(&other, line, strlen(line), err, sizeof(err)), 0);
	ck_assert_int_eq(mps_gwauth_nonce(nonce), 0);
	mps_gwauth_sign(&other.v[0], nonce, now, pub, dest, dl, a);
	ck_assert_int_eq(mps_gwauth_verify(&ks, rc, a, pub, dest, dl, now, &who), -EACCES);
	/* Its id swapped for alice's: the MAC still fails. */
	memcpy(a, ks.v[0].id, 8);
	ck_assert_int_eq(mps_gwauth_verify(&ks, rc, a, pub, dest, dl, now, &who), -EACCES);
	mps_gwauth_free(&other);
	mps_gwauth_free(&ks);
	mps_gwreplay_free(rc);
}
END_TEST

/* The cache's bound: one bucket of 8 holds 8 live nonces and refuses the
 * 9th (it never forgets a live one); once they expire, room returns. */
START_TEST(test_replay_cache_bound)
{
	struct mps_gwreplay *rc = mps_gwreplay_new(0, 30, 1000);
	uint8_t n[10][16];

	ck_assert_ptr_nonnull(rc);
	memset(n, 0, sizeof(n));
	for (int i = 0; i < 10; i++)
		n[i][0] = (uint8_t)(i + 1);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(mps_gwreplay_check(rc, n[i], 2000 + (uint64_t)i, 2000), 0);
	ck_assert_int_eq(mps_gwreplay_check(rc, n[8], 2000, 2000), -ENOSPC);
	ck_assert_int_eq(mps_gwreplay_check(rc, n[0], 2000, 2010), -EEXIST);
	/* n[0] (ts 2000) expires after 2030: its slot is free again at 2031,
	 * and a copy of it is stale by then anyway. */
	ck_assert_int_eq(mps_gwreplay_check(rc, n[8], 2001, 2030), -ENOSPC);
	ck_assert_int_eq(mps_gwreplay_check(rc, n[0], 2000, 2031), -ESTALE);
	ck_assert_int_eq(mps_gwreplay_check(rc, n[8], 2001, 2031), 0);
	ck_assert_int_eq(mps_gwreplay_check(rc, n[9], 2001, 2031), -ENOSPC);
	/* Before the gateway started: refused (it may have seen it before). */
	mps_gwreplay_free(rc);
	rc = mps_gwreplay_new(0, 30, 1000);
	ck_assert_int_eq(mps_gwreplay_check(rc, n[0], 999, 1010), -ESTALE);
	ck_assert_int_eq(mps_gwreplay_check(rc, n[0], 1000, 1010), 0);
	mps_gwreplay_free(rc);
	ck_assert_ptr_null(mps_gwreplay_new(MPS_GWREPLAY_LOG2_MAX + 1, 30, 0));
}
END_TEST

/* Shared by processes (mptcpshim-gateway --workers): a nonce one process
 * recorded is a replay in another, whichever maps it, forked or not; the
 * bound and the window are the same; a file that is no such cache is not
 * mapped. */
START_TEST(test_replay_cache_shared)
{
	int fd = mps_gwreplay_new_shared(2, 30, 1000), st = -1;
	struct mps_gwreplay *a, *b;
	uint8_t n0[16] = {1}, n1[16] = {2};
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	a = mps_gwreplay_attach(fd);
	b = mps_gwreplay_attach(fd);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(mps_gwreplay_check(a, n0, 2000, 2000), 0);
	ck_assert_int_eq(mps_gwreplay_check(b, n0, 2000, 2001), -EEXIST);
	ck_assert_int_eq(mps_gwreplay_check(b, n1, 999, 1010), -ESTALE);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct mps_gwreplay *c = mps_gwreplay_attach(fd);

		_exit(c && mps_gwreplay_check(c, n0, 2000, 2002) == -EEXIST &&
		                      mps_gwreplay_check(c, n1, 2000, 2002) == 0 ?
		              0 :
		              1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(mps_gwreplay_check(a, n1, 2000, 2003), -EEXIST);
	mps_gwreplay_free(a);
	mps_gwreplay_free(b);
	close(fd);
	fd = memfd_create("not-a-cache", 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	ck_assert_ptr_null(mps_gwreplay_attach(fd));
	close(fd);
}
END_TEST

/* With the default size (32768 entries), 24576 distinct nonces (three
 * quarters) fit but for a handful, and each is then a replay.  The buckets
 * depend on a random seed: over 300 seeds, a quarter of the runs refused
 * 1 to 3 nonces (a full pair of buckets), none more; one choice refused 1 %
 * at half load. */
START_TEST(test_replay_cache_default)
{
	struct mps_gwreplay *rc = mps_gwreplay_new(MPS_GWREPLAY_LOG2_DEFAULT, 30, 0);
	uint8_t n[16];
	int full = 0;

	ck_assert_ptr_nonnull(rc);
	for (uint32_t i = 0; i < 24576; i++) {
		memset(n, 0, sizeof(n));
		mps_put32(n, i);
		full += mps_gwreplay_check(rc, n, 5000, 5000) == -ENOSPC;
	}
	ck_assert_int_le(full, 16); /* three quarters full: at most 0.07 % refused */
	for (uint32_t i = 0; i < 24576; i += 97) {
		int r;

		memset(n, 0, sizeof(n));
		mps_put32(n, i);
		r = mps_gwreplay_check(rc, n, 5000, 5001);
		ck_assert(r == -EEXIST || (full > 0 && r == -ENOSPC)); /* refused before */
	}
	mps_gwreplay_free(rc);
}
END_TEST

static Suite *gwauth_suite(void)
{
	Suite *s = suite_create("gwauth");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_good);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_gen_line);
	tcase_add_test(tc, test_check_mode);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_sign_vector);
	tcase_add_test(tc, test_verify_rules);
	tcase_add_test(tc, test_replay_cache_bound);
	tcase_add_test(tc, test_replay_cache_shared);
	tcase_add_test(tc, test_replay_cache_default);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	mps_crypto_init();
	sr = srunner_create(gwauth_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
