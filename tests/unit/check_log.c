/* check_log.c - the log's private descriptor (src/log.c): a line goes to
 * MPTCPSHIM_LOG_FILE in one piece, and when the program closes our
 * descriptor behind our back (a daemon's close-all loop) and the number is
 * reused, no log line may ever go into the new file or socket. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("cases");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_log_file);
	tcase_add_test(tc, test_log_fd_reused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
