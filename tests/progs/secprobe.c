/* secprobe.c - is libmptcpshim active in this process?  For
 * tests/check_launcher.sh, which links it against a copy of the library
 * (DT_NEEDED, absolute run path: the dynamic loader ignores LD_PRELOAD
 * with a slash in secure-execution mode, but loads needed libraries) and
 * runs it plainly, setuid and with file capabilities.
 *
 * usage: secprobe
 * Connects to a listener of its own on 127.0.0.1 (port 0) and prints
 *   secure=S domain=D
 * S: getauxval(AT_SECURE); D: the connected descriptor's SO_DOMAIN read
 * by a raw system call, past the library's getsockopt hook: 1 (AF_UNIX)
 * when the library took the connection, 2 (AF_INET) when it stayed plain.
 * Then _exit(0): no destructor runs, so an unanswered shim connection
 * leaves no keeper process behind.  Exit 1 on a setup failure. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a), dl;
	int l, c, dom = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al)) {
		perror("secprobe: listener");
		return 1;
	}
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a))) {
		perror("secprobe: connect");
		return 1;
	}
	dl = sizeof(dom);
	/* raw: the library's hook would answer AF_INET for its own socket */
	if (syscall(SYS_getsockopt, c, SOL_SOCKET, SO_DOMAIN, &dom, &dl)) {
		perror("secprobe: SO_DOMAIN");
		return 1;
	}
	printf("secure=%lu domain=%d\n", getauxval(AT_SECURE), dom);
	fflush(stdout);
	_exit(0);
}
