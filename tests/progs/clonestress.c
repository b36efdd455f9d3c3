/* clonestress.c - raw clone(2) children while the shim thread is busy.
 *
 * usage: clonestress HOST PORT CLONES
 *
 * A churn thread opens short connections to HOST:PORT (an echo server
 * under the shim) one after another, so the shim thread keeps computing
 * keys and join HMACs, logging and taking its locks.  Meanwhile the main
 * thread makes CLONES children with syscall(SYS_clone, SIGCHLD) (no
 * CLONE_VM: a copy of the memory, as vsftpd makes its session processes,
 * and no fork handler of glibc's).  Each child lowers RLIMIT_NPROC, which
 * makes the library start its shim thread there (its locks, its loop),
 * and exits; a child that hangs is killed by its alarm (3 s; the run
 * stops at the first).  Prints
 * "clonestress: N clones, H hung, C connections" and exits 0 only if no
 * child hung and every clone and connection worked. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_in g_dst;
static atomic_int g_stop;
static atomic_int g_conns, g_conn_errors;

static void *churn(void *arg)
{
	char buf[64];

	(void)arg;
	while (!atomic_load(&g_stop)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		ssize_t n;

		if (fd < 0 || connect(fd, (struct sockaddr *)&g_dst, sizeof(g_dst)) != 0) {
			atomic_fetch_add(&g_conn_errors, 1);
			if (fd >= 0)
				close(fd);
			usleep(10000);
			continue;
		}
		n = write(fd, "ping\n", 5);
		if (n == 5)
			n = read(fd, buf, sizeof(buf));
		if (n != 5)
			atomic_fetch_add(&g_conn_errors, 1);
		else
			atomic_fetch_add(&g_conns, 1);
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int i, n, hung = 0, failed = 0;
	pthread_t th;

	if (argc != 4) {
		fprintf(stderr, "usage: clonestress HOST PORT CLONES\n");
		return 2;
	}
	memset(&g_dst, 0, sizeof(g_dst));
	g_dst.sin_family = AF_INET;
	g_dst.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &g_dst.sin_addr) != 1) {
		fprintf(stderr, "clonestress: bad address %s\n", argv[1]);
		return 2;
	}
	n = atoi(argv[3]);
	if (pthread_create(&th, NULL, churn, NULL) != 0) {
		fprintf(stderr, "clonestress: pthread_create failed\n");
		return 1;
	}
	while (atomic_load(&g_conns) < 1 && atomic_load(&g_conn_errors) < 50)
		usleep(10000); /* the shim thread runs from the first connection */
	for (i = 0; i < n; i++) {
		long pid = syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
		int st;

		if (pid < 0) {
			fprintf(stderr, "clonestress: clone: %s\n", strerror(errno));
			failed++;
			break;
		}
		if (pid == 0) {
			struct rlimit rl = {100000, 100000};

			alarm(3);
			setrlimit(RLIMIT_NPROC, &rl);
			_exit(0);
		}
		while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
			hung++;
			break; /* one is enough: each costs the alarm's 3 s */
		}
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		usleep(2000);
	}
	atomic_store(&g_stop, 1);
	pthread_join(th, NULL);
	printf("clonestress: %d clones, %d hung, %d failed, %d connections, %d connection errors\n",
	       n, hung, failed, atomic_load(&g_conns), atomic_load(&g_conn_errors));
	return hung || failed || atomic_load(&g_conn_errors) || !atomic_load(&g_conns) ? 1 : 0;
}
