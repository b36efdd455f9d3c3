/* check_inherit.c - MPTCPSHIM_INHERIT (include/mptcpshim/inherit.h): the
 * format round-trips, malformed values are refused, and the new image
 * adopts an entry only for the very socket it names (inode, AF_UNIX). */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mptcpshim/config.h"
#include "mptcpshim/fdtab.h"
#include "mptcpshim/inherit.h"
#include "mptcpshim/real.h"

static struct mps_sock *sock_for(int fd, const char *peer, int port)
{
	struct mps_sock *s = mps_sock_new(AF_INET);
	struct sockaddr_in *l = (void *)&s->local, *p = (void *)&s->peer;
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	s->ino = st.st_ino;
	l->sin_family = p->sin_family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", &l->sin_addr);
	l->sin_port = htons(40000);
	inet_pton(AF_INET, peer, &p->sin_addr);
	p->sin_port = htons((uint16_t)port);
	s->local_len = s->peer_len = sizeof(struct sockaddr_in);
	atomic_store(&s->state, MPS_SS_CONNECTED);
	return s;
}

START_TEST(test_roundtrip)
{
	int a[2], b[2];
	struct mps_sock *sa, *sb;
	char buf[4096];
	const char *p;
	struct mps_inherit_entry e;
	size_t n;

	mps_real_init();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b), 0);
	sa = sock_for(a[0], "198.18.0.2", 80);
	sb = sock_for(b[0], "198.18.0.3", 443);
	mps_fdtab_set(a[0], sa);
	mps_fdtab_set(b[0], sb);
	/* exec: only the descriptor without close-on-exec */
	n = mps_inherit_format(buf, sizeof(buf), 1);
	ck_assert_uint_gt(n, 0);
	p = strchr(buf, '=');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p[1], '1');
	p += 2;
	ck_assert_int_eq(*p++, ' ');
	ck_assert_int_eq(mps_inherit_parse_entry(&p, &e), 0);
	ck_assert_int_eq(*p, '\0');
	ck_assert_int_eq(e.fd, a[0]);
	ck_assert_uint_eq(e.ino, sa->ino);
	ck_assert_int_eq(e.state, MPS_SS_CONNECTED);
	ck_assert_int_eq(e.peer_len, sizeof(struct sockaddr_in));
	ck_assert_mem_eq(&e.peer, &sa->peer, sizeof(struct sockaddr_in));
	ck_assert_mem_eq(&e.local, &sa->local, sizeof(struct sockaddr_in));
	/* posix_spawn: both; a dup is listed once */
	ck_assert_int_ge(dup2(a[0], 60), 0);
	mps_fdtab_set(60, sa);
	n = mps_inherit_format(buf, sizeof(buf), 0);
	ck_assert_uint_gt(n, 0);
	{
		int count = 0;

		for (p = buf; (p = strchr(p, ' ')); p++)
			count++;
		ck_assert_int_eq(count, 2);
	}
	/* too small a buffer: nothing, not a truncated entry */
	ck_assert_uint_eq(mps_inherit_format(buf, 40, 0), 0);
	mps_fdtab_clear(a[0]);
	mps_fdtab_clear(60);
	mps_fdtab_clear(b[0]);
	mps_sock_put(sa);
	mps_sock_put(sb);
	close(60);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
	        "",
	        "x:1:1:0200005000000000c612000100000000:0200005000000000c612000200000000",
	        "3:0:1:0200005000000000c612000100000000:0200005000000000c612000200000000",
	        "3:7:9:0200005000000000c612000100000000:0200005000000000c612000200000000",
	        "3:7:1:0200005000000000c6120001:0200005000000000c612000200000000",
	        "3:7:1:0a00005000000000c612000100000000:0200005000000000c612000200000000",
	        "3:7:1:0200005000000000c612000100000000:0200005000000000c612000200000000x",
	        "3:7:1:0200005000000000c612000100000000",
	        "3:99999999999999999999999:1:0200005000000000c612000100000000:0200005000000000c612000200000000",
	        "-3:7:1:0200005000000000c612000100000000:0200005000000000c612000200000000",
	};
	struct mps_inherit_entry e;
	const char *good =
	        "3:7:1:0200005000000000c612000100000000:0200005000000000c612000200000000";
	const char *p = good;
	size_t i;

	ck_assert_int_eq(mps_inherit_parse_entry(&p, &e), 0);
	ck_assert_int_eq(e.fd, 3);
	ck_assert_uint_eq(e.ino, 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = bad[i];
		ck_assert_msg(mps_inherit_parse_entry(&p, &e) != 0, "accepted \"%s\"", bad[i]);
	}
}
END_TEST

static void hex(char *out, const void *v, size_t n)
{
	const unsigned char *b = v;

	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* The new image: entries naming our socketpair end are adopted; one naming
 * a pipe's inode, or an unknown inode, is not. */
START_TEST(test_adopt)
{
	int sp[2], pp[2];
	struct stat st_sp, st_pp;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(22)};
	char addr[64], val[1024];
	struct mps_sock *s;

	mps_real_init();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pipe(pp), 0);
	fstat(sp[0], &st_sp);
	fstat(pp[0], &st_pp);
	inet_pton(AF_INET, "198.18.0.9", &sin.sin_addr);
	hex(addr, &sin, sizeof(sin));
	snprintf(val, sizeof(val), "1 %d:%llu:1:%s:%s 77:%llu:1:%s:%s 5:123456789:1:%s:%s", sp[0],
	         (unsigned long long)st_sp.st_ino, addr, addr, (unsigned long long)st_pp.st_ino,
	         addr, addr, addr, addr);
	setenv(mps_env_inherit, val, 1);
	mps_inherit_adopt();
	ck_assert_ptr_null(getenv(mps_env_inherit));
	s = mps_fdtab_get(sp[0]);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(atomic_load(&s->remote), 1);
	ck_assert_int_eq(s->family, AF_INET);
	ck_assert_mem_eq(&s->peer, &sin, sizeof(sin));
	mps_sock_put(s);
	ck_assert_ptr_null(mps_fdtab_get(pp[0]));
	ck_assert_ptr_null(mps_fdtab_get(sp[1]));
	mps_fdtab_clear(sp[0]);
	/* malformed: nothing adopted, variable still removed */
	setenv(mps_env_inherit, "1 garbage", 1);
	mps_inherit_adopt();
	ck_assert_ptr_null(getenv(mps_env_inherit));
	ck_assert_ptr_null(mps_fdtab_get(sp[0]));
	close(sp[0]);
	close(sp[1]);
	close(pp[0]);
	close(pp[1]);
}
END_TEST

static Suite *inherit_suite(void)
{
	Suite *s = suite_create("inherit");
	TCase *tc = tcase_create("inherit");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_adopt);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(inherit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
