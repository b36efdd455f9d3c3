/* netmon.c - interface and address changes, as they happen (rtnetlink).
 *
 * One NETLINK_ROUTE socket per process, subscribed to link and IPv4/IPv6
 * address groups, watched by the shim thread: a link going down or an
 * address disappearing is known within milliseconds, and new addresses
 * can be put to use (see docs/DESIGN.md "Path events"). */
#include "config.h"

#include <errno.h>
#include <ev.h>

#include "mptcpshim/evoff.h"
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mptcpshim/fdtab.h"
#include "mptcpshim/log.h"
#include "mptcpshim/netmon.h"
#include "mptcpshim/real.h"

static int g_fd = -1;
static ev_io g_io;
static int g_tried;
static const struct mps_netmon_ops *g_ops;

static void on_addr(struct nlmsghdr *nh)
{
	struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	struct rtattr *rta = IFA_RTA(ifa);
	int len = (int)IFA_PAYLOAD(nh);
	const uint8_t *addr = NULL, *local = NULL;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : 16;

	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) < alen)
			continue;
		if (rta->rta_type == IFA_ADDRESS)
			addr = RTA_DATA(rta);
		else if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
	}
	/* IFA_LOCAL is the interface's own address on point-to-point links. */
	if (local)
		addr = local;
	if (!addr)
		return;
	g_ops->addr_event(ifa->ifa_family, addr, ifa->ifa_index, nh->nlmsg_type == RTM_NEWADDR);
}

static void on_link(struct nlmsghdr *nh)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int up = nh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP) &&
		 (ifi->ifi_flags & IFF_RUNNING);

	g_ops->link_event((unsigned)ifi->ifi_index, up);
}

static void on_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = mps_real.recv(g_fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nh;

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Events were lost: re-check everything. */
				g_ops->link_event(0, 1);
				continue;
			}
			return;
		}
		if (n == 0)
			return;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)n); nh = NLMSG_NEXT(nh, n)) {
			switch (nh->nlmsg_type) {
			case RTM_NEWADDR:
			case RTM_DELADDR:
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
					on_addr(nh);
				break;
			case RTM_NEWROUTE:
				/* A route appeared (a DHCP client after link-up, a
				 * VPN...): pairs that could not route may now. */
				g_ops->link_event(0, 1);
				break;
			case RTM_NEWLINK:
			case RTM_DELLINK:
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
					on_link(nh);
				break;
			default:
				break;
			}
		}
	}
}

void mps_netmon_start(struct ev_loop *loop, const struct mps_netmon_ops *ops)
{
	struct sockaddr_nl sa;
	int fd;

	if (g_fd >= 0 || g_tried)
		return;
	g_tried = 1;
	g_ops = ops;
	fd = mps_real.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		mps_warn("netmon: no rtnetlink socket (%s): path changes are noticed late",
			 strerror(errno));
		return;
	}
	fd = mps_ifd_take(fd, 1); /* out of the app's range */
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
		       RTMGRP_IPV6_ROUTE;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		mps_warn("netmon: cannot subscribe to rtnetlink (%s)", strerror(errno));
		mps_ifd_close(fd);
		return;
	}
	g_fd = fd;
	ev_io_init(&g_io, on_ready, fd, EV_READ);
	ev_io_start(loop, &g_io);
	ev_unref(loop);
}

void mps_netmon_atfork_child(void)
{
	g_fd = -1; /* an internal descriptor: closed by fdtab */
	g_tried = 0;
	memset(&g_io, 0, sizeof(g_io));
}
