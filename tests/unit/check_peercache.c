/* check_peercache.c - destination verdicts (include/mptcpshim/peercache.h):
 * this process's cache (plain expires, shim stays) and the plain verdicts
 * shared through a file: found by a fresh process, per address and port,
 * expiring, a timed-out HELLO counting only the second time, forgotten
 * once the destination answers, the file refused unless it is a private
 * regular file of ours,
 * a full file recycling its soonest-expiring record, per-host verdicts
 * with per-port exceptions.  Each test runs in
 * its own forked process (Check's default), so its in-process cache
 * starts empty, as a new program's does. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mptcpshim/peercache.h"

static char g_dir[64], g_path[128];

static void setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/check_peercache.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	snprintf(g_path, sizeof(g_path), "%s/peers", g_dir);
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct sockaddr_in v4(const char *a, int port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	ck_assert_int_eq(inet_pton(AF_INET, a, &in.sin_addr), 1);
	return in;
}

#define SA(x) ((const struct sockaddr *)&(x))
#define NOW 1000000000ll

/* destination i of many: one host each (a host's verdict is one record) */
static struct sockaddr_in v4n(int i)
{
	char a[32];

	snprintf(a, sizeof(a), "198.18.%d.%d", 1 + i / 200, 1 + i % 200);
	return v4(a, 1000 + i);
}

START_TEST(test_local)
{
	struct sockaddr_in a = v4("198.18.0.1", 80), b = v4("198.18.0.1", 81);

	ck_assert_int_eq(mps_peercache_lookup(SA(a), 0), MPS_PEER_UNKNOWN);
	mps_peercache_note(SA(a), MPS_PEER_PLAIN, 1000, 5000);
	ck_assert_int_eq(mps_peercache_lookup(SA(a), 5999), MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_lookup(SA(b), 5999), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_lookup(SA(a), 6000), MPS_PEER_UNKNOWN); /* expired */
	mps_peercache_note(SA(b), MPS_PEER_SHIM, 0, 0);
	ck_assert_int_eq(mps_peercache_lookup(SA(b), 1ull << 50), MPS_PEER_SHIM);
}
END_TEST

START_TEST(test_shared)
{
	struct sockaddr_in a = v4("198.18.0.1", 80), b = v4("198.18.0.2", 80);
	struct sockaddr_in6 c = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
	struct stat st;

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", &c.sin6_addr), 1);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW, 300, 1), 0);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(c), NOW, 300, 1), 0);
	ck_assert_int_eq(stat(g_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0); /* private */
	/* another process (not in our own cache): found */
	ck_assert_int_eq(mps_peercache_lookup(SA(a), 0), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 10), MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(c), 0, NOW + 10), MPS_PEER_PLAIN);
	/* ... and now in ours, for the time left (290 s), with its host
	 * (definitive: FTP data ports of that host are plain at once) */
	b = v4("198.18.0.1", 40000);
	ck_assert_int_eq(mps_peercache_lookup(SA(b), 1), MPS_PEER_PLAIN);
	b = v4("198.18.0.2", 80);
	ck_assert_int_eq(mps_peercache_lookup(SA(a), 289000000ull), MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_lookup(SA(a), 290000000ull), MPS_PEER_UNKNOWN);
	/* other address, other port, other family: nothing */
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(b), 0, NOW), MPS_PEER_UNKNOWN);
	/* another port of the same host: not from the file alone (a process
	 * that never connected to port 80 tries it) */
	b = v4("198.18.0.1", 443);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(b), 0, NOW), MPS_PEER_UNKNOWN);
	/* expired */
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(c), 0, NOW + 300),
	                 MPS_PEER_UNKNOWN);
	/* a later verdict renews the same record */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(c), NOW + 400, 300, 1), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(c), 0, NOW + 600), MPS_PEER_PLAIN);
	ck_assert_int_eq(stat(g_path, &st), 0);
	ck_assert_int_le(st.st_size, 256 * 48);
	/* no file, or TTL 0: nothing shared */
	ck_assert_int_eq(mps_peercache_shared_note_plain("", SA(a), NOW, 300, 1), -1);
	ck_assert_int_eq(mps_peercache_shared_lookup(NULL, SA(a), 0, NOW), MPS_PEER_UNKNOWN);
	b = v4("198.18.0.3", 80);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(b), NOW, 0, 1), -1);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(b), 0, NOW), MPS_PEER_UNKNOWN);
}
END_TEST

START_TEST(test_timeouts)
{
	struct sockaddr_in a = v4("198.18.0.1", 80), b = v4("198.18.0.2", 80);

	/* one timed-out HELLO is no verdict for the others (a slow shim
	 * server looks the same); a second one within the TTL is */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 1), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW + 2, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 3), MPS_PEER_PLAIN);
	/* ... but not once the first one expired */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(b), NOW, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(b), NOW + 300, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(b), 0, NOW + 301),
	                 MPS_PEER_UNKNOWN);
	/* a definitive verdict after a timeout: plain */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(b), NOW + 301, 300, 1), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(b), 0, NOW + 302), MPS_PEER_PLAIN);
	/* a destination that answered a HELLO is forgotten */
	ck_assert_int_eq(mps_peercache_shared_forget(g_path, SA(a), NOW + 4), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 5), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_forget(g_path, SA(a), NOW + 4),
	                 -1); /* nothing left */
	/* and a later timeout starts over as a mere suspicion */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW + 6, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 7), MPS_PEER_UNKNOWN);
	/* forgetting never creates the file */
	ck_assert_int_eq(mps_peercache_shared_forget("/tmp/check_peercache.absent/x", SA(a), NOW),
	                 -1);
	ck_assert_int_ne(access("/tmp/check_peercache.absent/x", F_OK), 0);
}
END_TEST

/* Found by tests/fuzz/fuzz_peercache: a file cut inside a record (a
 * crash mid-write, a full disk).  Lookups ignored the partial record but
 * updates took its bytes for a whole one: a single timed-out HELLO then
 * counted as the second and made the destination plain at once. */
START_TEST(test_truncated_record)
{
	struct sockaddr_in a = v4("198.18.0.1", 80);
	struct stat st;

	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW, 300, 0), 0);
	ck_assert_int_eq(stat(g_path, &st), 0);
	ck_assert_int_gt(st.st_size, 1);
	/* one record, less its last byte (the top byte of a time: 0) */
	ck_assert_int_eq(truncate(g_path, st.st_size - 1), 0);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW + 1, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 2), MPS_PEER_UNKNOWN);
	/* the file is whole again: the next timeout is the second */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW + 3, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 4), MPS_PEER_PLAIN);
}
END_TEST

START_TEST(test_refused_files)
{
	struct sockaddr_in a = v4("198.18.0.1", 80);
	char link[160], dir[160];

	/* writable by others: not trusted, neither read nor written */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW, 300, 1), 0);
	ck_assert_int_eq(chmod(g_path, 0666), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW, 300, 1), -1);
	ck_assert_int_eq(chmod(g_path, 0644), 0); /* readable by others is fine */
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW), MPS_PEER_PLAIN);
	/* a symbolic link (planted in /tmp) is not followed */
	snprintf(link, sizeof(link), "%s/link", g_dir);
	ck_assert_int_eq(symlink(g_path, link), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(link, SA(a), 0, NOW), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_note_plain(link, SA(a), NOW, 300, 1), -1);
	/* not a regular file */
	snprintf(dir, sizeof(dir), "%s/dir", g_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(mps_peercache_shared_note_plain(dir, SA(a), NOW, 300, 1), -1);
	/* owned by another user (root only can make one) */
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(g_path, 1, 1), 0);
		ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW),
		                 MPS_PEER_UNKNOWN);
		ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW, 300, 1), -1);
	}
}
END_TEST

START_TEST(test_full)
{
	struct sockaddr_in a;
	int i, found = 0;
	FILE *f;

	/* more destinations than records: the newest are all there, the
	 * file does not grow, and a corrupt tail is harmless */
	for (i = 0; i < 400; i++) {
		a = v4n(i);
		ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a), NOW + i, 300, 1),
		                 0);
	}
	for (i = 0; i < 400; i++) {
		a = v4n(i);
		if (mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 400) == MPS_PEER_PLAIN) {
			ck_assert_int_ge(i, 144); /* the oldest were recycled */
			found++;
		}
	}
	ck_assert_int_eq(found, 256);
	f = fopen(g_path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("garbage", f);
	fclose(f);
	a = v4n(399);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 0, NOW + 400), MPS_PEER_PLAIN);
}
END_TEST

/* Per-host verdicts: a plain server's answer on one port makes its host's
 * other ports plain (FTP's data port, a connect-back port), in this
 * process and for the others; a port where a shim answered is the
 * exception; a timed-out HELLO says nothing about the host. */
START_TEST(test_hosts)
{
	struct sockaddr_in ctl = v4("198.18.0.1", 21), data = v4("198.18.0.1", 40001),
	                   shim = v4("198.18.0.1", 8080), other = v4("198.18.0.2", 21);

	/* this process */
	mps_peercache_note(SA(shim), MPS_PEER_SHIM, 0, 0);
	mps_peercache_note(SA(ctl), MPS_PEER_PLAIN, 0, 5000);
	ck_assert_int_eq(mps_peercache_lookup(SA(data), 1), MPS_PEER_UNKNOWN); /* port only */
	mps_peercache_note_host(SA(ctl), 0, 5000);
	ck_assert_int_eq(mps_peercache_lookup(SA(ctl), 1), MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_lookup(SA(data), 1), MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_lookup(SA(shim), 1), MPS_PEER_SHIM); /* exception */
	ck_assert_int_eq(mps_peercache_lookup(SA(other), 1), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_lookup(SA(data), 5000), MPS_PEER_UNKNOWN); /* expired */

	/* shared: a timeout on the control port is no host verdict */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(ctl), NOW, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(ctl), NOW, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(ctl), 10000, NOW), MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_lookup(SA(data), 10001), MPS_PEER_UNKNOWN);
	/* a definitive one is, in the process that reads it: the FTP data
	 * port of a second curl process is plain once its control port is */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(ctl), NOW, 300, 1), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(ctl), 20000, NOW + 1),
	                 MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_lookup(SA(data), 20001), MPS_PEER_PLAIN);
	ck_assert_int_eq(mps_peercache_lookup(SA(shim), 20001), MPS_PEER_SHIM); /* exception */
	ck_assert_int_eq(mps_peercache_lookup(SA(other), 20001), MPS_PEER_UNKNOWN);
	/* but the file holds no host verdict: another port of that host, never
	 * connected to in a process, is tried (a shim sshd beside a plain one) */
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(data), 0, NOW + 1),
	                 MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(shim), 0, NOW + 1),
	                 MPS_PEER_UNKNOWN);
	/* a shim answered on the control port: its record goes */
	ck_assert_int_eq(mps_peercache_shared_forget(g_path, SA(ctl), NOW + 2), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(ctl), 0, NOW + 3),
	                 MPS_PEER_UNKNOWN);
}
END_TEST

/* A server's note of a client host that sent a HELLO (the longer banner
 * window): per host, its own kind, and no plain verdict either way. */
START_TEST(test_shim_client)
{
	struct sockaddr_in a = v4("198.18.0.7", 40000), a2 = v4("198.18.0.7", 41000),
	                   b = v4("198.18.0.8", 40000);

	ck_assert_int_eq(mps_peercache_shim_client(SA(a), 1), 0);
	mps_peercache_tree_init();
	ck_assert_int_eq(mps_peercache_shim_client(SA(a), 1), 0);
	mps_peercache_note_shim_client(SA(a), 0, 5000);
	ck_assert_int_eq(mps_peercache_shim_client(SA(a), 1), 1);
	ck_assert_int_eq(mps_peercache_shim_client(SA(a2), 1), 1); /* another port */
	ck_assert_int_eq(mps_peercache_shim_client(SA(b), 1), 0);
	ck_assert_int_eq(mps_peercache_shim_client(SA(a), 5000), 0); /* expired */
	ck_assert_int_eq(mps_peercache_lookup(SA(a), 1), MPS_PEER_UNKNOWN); /* not plain */
	/* a plain host verdict for b is not a shim client note, nor the reverse */
	mps_peercache_note_host(SA(b), 0, 5000);
	ck_assert_int_eq(mps_peercache_shim_client(SA(b), 1), 0);
	mps_peercache_note_shim_client(SA(b), 0, 5000);
	ck_assert_int_eq(mps_peercache_shim_client(SA(b), 1), 1);
	ck_assert_int_eq(mps_peercache_lookup(SA(b), 1), MPS_PEER_PLAIN);
}
END_TEST

/* A host that sent a HELLO as a client, told to server processes started
 * later through the file: a host record, not a plain verdict (a client's
 * lookup of that host, any port, sees nothing), expiring, per family and
 * address; a positive answer also lands in this process tree. */
START_TEST(test_shared_shim_client)
{
	struct sockaddr_in a = v4("198.18.0.9", 40000), a2 = v4("198.18.0.9", 80),
	                   b = v4("198.18.0.10", 40000);
	struct sockaddr_in6 c = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::9", &c.sin6_addr), 1);
	mps_peercache_tree_init();
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(a), 1, NOW), 0); /* no file */
	ck_assert_int_eq(mps_peercache_shared_note_shim_client(g_path, SA(a), NOW, 300), 0);
	ck_assert_int_eq(mps_peercache_shared_note_shim_client(g_path, SA(c), NOW, 300), 0);
	ck_assert_int_eq(mps_peercache_shared_note_shim_client(g_path, SA(b), NOW, 0), -1);
	ck_assert_int_eq(mps_peercache_shared_note_shim_client("", SA(b), NOW, 300), -1);
	/* another port of the host: the same host record */
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(a2), 1, NOW + 10), 1);
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(c), 1, NOW + 10), 1);
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(b), 1, NOW + 10), 0);
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(a), 1, NOW + 300),
	                 0); /* expired */
	/* the positive answer was noted for this process tree (290 s left) */
	ck_assert_int_eq(mps_peercache_shim_client(SA(a), 2), 1);
	ck_assert_int_eq(mps_peercache_shim_client(SA(a), 290000001), 0);
	/* never a plain verdict, never a shim destination */
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a), 1, NOW + 10), MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a2), 1, NOW + 10),
	                 MPS_PEER_UNKNOWN);
	ck_assert_int_eq(mps_peercache_lookup(SA(a), 1), MPS_PEER_UNKNOWN);
	/* a plain verdict for a port of that host is its own record */
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a2), NOW + 10, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_note_plain(g_path, SA(a2), NOW + 11, 300, 0), 0);
	ck_assert_int_eq(mps_peercache_shared_lookup(g_path, SA(a2), 1, NOW + 12), MPS_PEER_PLAIN);
	/* (past the 2 s this process remembers the expired record's "no") */
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(a), 2000002, NOW + 12), 1);
}
END_TEST

/* The file's "no" for a host is remembered for 2 s: a record another
 * process writes meanwhile is seen after that, one this process notes at
 * once. */
START_TEST(test_shared_shim_client_no)
{
	struct sockaddr_in a = v4("198.18.0.11", 40000), b = v4("198.18.0.12", 40000),
	                   c = v4("198.18.0.13", 40000);
	pid_t pid;
	int st;

	mps_peercache_tree_init();
	ck_assert_int_eq(mps_peercache_shared_note_shim_client(g_path, SA(b), NOW, 300), 0);
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(a), 10, NOW), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(mps_peercache_shared_note_shim_client(g_path, SA(a), NOW, 300) ? 1 : 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the other process's record: not read again within the 2 s */
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(a), 1000000, NOW + 1), 0);
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(a), 2000011, NOW + 2), 1);
	/* a host's "no", then its HELLO noted by this process: seen at once */
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(c), 2000020, NOW + 2), 0);
	ck_assert_int_eq(mps_peercache_shared_note_shim_client(g_path, SA(c), NOW + 2, 300), 0);
	ck_assert_int_eq(mps_peercache_shared_shim_client(g_path, SA(c), 2000021, NOW + 2), 1);
}
END_TEST

static Suite *peercache_suite(void)
{
	Suite *s = suite_create("peercache");
	TCase *tc = tcase_create("cases");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_local);
	tcase_add_test(tc, test_shared);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_refused_files);
	tcase_add_test(tc, test_truncated_record);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_hosts);
	tcase_add_test(tc, test_shim_client);
	tcase_add_test(tc, test_shared_shim_client);
	tcase_add_test(tc, test_shared_shim_client_no);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(peercache_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
