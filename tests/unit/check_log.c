/* check_log.c - the log's private descriptor (src/log.c): a line goes to
 * MPTCPSHIM_LOG_FILE in one piece, and when the program closes our
 * descriptor behind our back (a daemon's close-all loop) and the number is
 * reused, no log line may ever go into the new file or socket. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/log.h"

static char path[64];

static size_t slurp(const char *p, char *buf, size_t cap)
{
	int fd = open(p, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, cap - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return (size_t)n;
}

START_TEST(test_log_file)
{
	char buf[4096];

	snprintf(path, sizeof(path), "/tmp/check_log.%d", (int)getpid());
	unlink(path);
	mps_log_setup(MPS_LOG_INFO, path);
	mps_info("first %d", 1);
	mps_dbg("not at this level");
	slurp(path, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "info: first 1\n") != NULL, "log file: '%s'", buf);
	ck_assert_ptr_null(strstr(buf, "not at this level"));
	unlink(path);
}
END_TEST

START_TEST(test_log_fd_reused)
{
	char buf[4096];
	int sv[2], fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/tmp/check_log.%d", (int)getpid());
	unlink(path);
	mps_log_setup(MPS_LOG_INFO, path);
	mps_info("before");
	fd = mps_log_fd();
	ck_assert_int_ge(fd, 0);
	/* The program closes it; a socket takes the number. */
	close(fd);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	if (sv[0] != fd) {
		ck_assert_int_eq(dup2(sv[0], fd), fd);
		close(sv[0]);
	}
	mps_info("after");
	/* Nothing reached the socket... */
	n = read(sv[1], buf, sizeof(buf));
	ck_assert_msg(n < 0, "a log line went into the reused descriptor: %zd bytes", n);
	/* ...and the line went to the log file, through a new descriptor. */
	slurp(path, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "info: before\n") && strstr(buf, "info: after\n"),
		      "log file: '%s'", buf);
	ck_assert_int_ne(mps_log_fd(), fd);
	close(fd);
	close(sv[1]);
	unlink(path);
}
END_TEST

/* mps_addr_str's IPv4 form, written by hand, against inet_ntop + snprintf:
 * edge octets and ports, random ones, and buffers too short (cut as
 * snprintf cuts, nothing written past len). */
START_TEST(test_addr_str_v4)
{
	static const uint32_t addrs[] = {0,           0xffffffffu, 0x7f000001u, 0xc6120001u,
	                                 0x0a00000au, 0x01020304u, 0x64646464u, 0x09630a09u};
	static const uint16_t ports[] = {0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535};
	unsigned seed = 1;

	for (int k = 0; k < 2000; k++) {
		struct sockaddr_in in = {.sin_family = AF_INET};
		char want[64], a[INET_ADDRSTRLEN], got[64];
		uint32_t v;
		uint16_t port;

		if (k < 88) {
			v = addrs[k % 8];
			port = ports[k / 8];
		} else {
			v = (uint32_t)rand_r(&seed) ^ ((uint32_t)rand_r(&seed) << 16);
			port = (uint16_t)rand_r(&seed);
		}
		in.sin_addr.s_addr = htonl(v);
		in.sin_port = htons(port);
		inet_ntop(AF_INET, &in.sin_addr, a, sizeof(a));
		snprintf(want, sizeof(want), "%s:%u", a, port);
		ck_assert_str_eq(mps_addr_str(&in, got, sizeof(got)), want);
		for (unsigned len = 1; len < 10; len++) {
			char cut[16], w[16];

			snprintf(w, len, "%s", want);
			memset(cut, 'x', sizeof(cut));
			mps_addr_str(&in, cut, len);
			ck_assert_str_eq(cut, w);
			ck_assert_int_eq(cut[len], 'x');
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("cases");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_log_file);
	tcase_add_test(tc, test_log_fd_reused);
	tcase_add_test(tc, test_addr_str_v4);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
