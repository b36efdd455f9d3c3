/* execstate.c - a connection's state carried across exec: the checks the
 * new image makes before it trusts one (see execstate.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcpshim/execstate.h"
#include "mptcpshim/sendbuf.h" /* mps_dsn_le */

_Static_assert(sizeof(struct sockaddr_storage) == MPS_XS_ADDR, "MPS_XS_ADDR");

size_t mps_xs_size(uint32_t nsf, uint64_t sb_len, uint64_t rx_len, uint64_t rbuf_total)
{
	uint64_t n = sizeof(struct mps_xs) + (uint64_t)nsf * sizeof(struct mps_xs_sf);

	if (sb_len > MPS_XS_MAX_BUF || rx_len > MPS_XS_MAX_BUF ||
	    rbuf_total > (uint64_t)MPS_XS_MAX_SF * MPS_XS_MAX_RBUF)
		return 0;
	n += sb_len + rx_len + rbuf_total;
	return n > UINT32_MAX ? 0 : (size_t)n;
}

void mps_xs_seal(struct mps_xs *x, const struct mps_xs_sf *sf)
{
	uint64_t rb = 0;
	uint32_t i;

	for (i = 0; i < x->nsf && i < MPS_XS_MAX_SF; i++)
		rb += sf[i].rlen;
	memcpy(x->magic, MPS_XS_MAGIC, sizeof(x->magic));
	x->version = MPS_XS_VERSION;
	x->size = (uint32_t)mps_xs_size(x->nsf, x->sb_len, x->rx_len, rb);
}

/* An AF_INET or AF_INET6 address of its family's size (len 0: any of
 * the two, the size implied). */
static int addr_ok(const uint8_t a[MPS_XS_ADDR], uint32_t len)
{
	sa_family_t f;

	memcpy(&f, a, sizeof(f));
	if (f == AF_INET)
		return len == 0 || len == sizeof(struct sockaddr_in);
	if (f == AF_INET6)
		return len == 0 || len == sizeof(struct sockaddr_in6);
	return 0;
}

#define BAD(msg)                \
	do {                    \
		*why = msg;     \
		return -EINVAL; \
	} while (0)

int mps_xs_decode(const uint8_t *buf, size_t len, struct mps_xs *x, struct mps_xs_sf *sf,
                  const uint8_t **sb, const uint8_t **rx, const uint8_t **rbuf, const char **why)
{
	uint64_t rb = 0, off;
	uint32_t i, j;

	if (len < sizeof(*x))
		BAD("shorter than its header");
	memcpy(x, buf, sizeof(*x));
	if (memcmp(x->magic, MPS_XS_MAGIC, sizeof(x->magic)))
		BAD("bad magic");
	if (x->version != MPS_XS_VERSION)
		BAD("unknown version");
	if (x->size != len)
		BAD("size does not match");
	if (x->nsf < 1 || x->nsf > MPS_XS_MAX_SF)
		BAD("subflow count out of range");
	if ((uint64_t)len < sizeof(*x) + (uint64_t)x->nsf * sizeof(*sf))
		BAD("shorter than its subflows");
	memcpy(sf, buf + sizeof(*x), x->nsf * sizeof(*sf));
	for (i = 0; i < x->nsf; i++) {
		if (sf[i].fd < 0 || sf[i].ino == 0 || sf[i].id < 1 || sf[i].rlen > MPS_XS_MAX_RBUF)
			BAD("subflow descriptor, inode, id or buffer out of range");
		if (!addr_ok(sf[i].local, 0) || !addr_ok(sf[i].remote, 0))
			BAD("subflow address");
		for (j = 0; j < i; j++)
			if (sf[j].id == sf[i].id || sf[j].fd == sf[i].fd || sf[j].ino == sf[i].ino)
				BAD("two subflows with one id, descriptor or inode");
		sf[i].peer_str[sizeof(sf[i].peer_str) - 1] = '\0';
		rb += sf[i].rlen;
	}
	if (mps_xs_size(x->nsf, x->sb_len, x->rx_len, rb) != len)
		BAD("parts do not add up to its size");
	if (x->role > 1 || x->shim_fd < 0 || x->sock_ino == 0 || x->shim_ino == 0)
		BAD("role, descriptor or inode out of range");
	for (i = 0; i < x->nsf; i++)
		if (sf[i].fd == x->shim_fd || sf[i].ino == x->shim_ino)
			BAD("a subflow named as the shim's end");
	if (x->next_sf_id < 1 || x->next_sf_id > 0x7fff)
		BAD("next subflow id out of range");
	if (!addr_ok(x->peer, x->peer_len))
		BAD("peer address");
	if (x->fresh > 1 ||
	    (x->fresh && (x->nsf != 1 || x->sb_len || x->rx_len || rb || x->role != 1)))
		BAD("a fresh connection with data, subflows or not a server's");
	/* the send side's DSNs in order, the buffer exactly what it holds */
	if (!mps_dsn_le(x->snd_start, x->snd_una) || !mps_dsn_le(x->snd_una, x->snd_nxt) ||
	    !mps_dsn_le(x->snd_nxt, x->snd_max) || !mps_dsn_le(x->snd_max, x->sb_end) ||
	    x->sb_end - x->snd_una != x->sb_len)
		BAD("send sequence numbers out of order");
	if (x->rcv_wnd_max == 0 || x->rcv_wnd_max > MPS_XS_MAX_BUF || x->rx_len > x->rcv_wnd_max)
		BAD("receive window or queue out of range");
	if (!mps_dsn_le(x->ack_sent, x->rcv_nxt))
		BAD("receive sequence numbers out of order");
	for (i = 0; i < MPS_XS_MAX_REMOTE; i++)
		if (x->remotes[i].valid > 1 ||
		    (x->remotes[i].valid && !addr_ok(x->remotes[i].addr, 0)))
			BAD("announced address");
	x->peer_str[sizeof(x->peer_str) - 1] = '\0';
	x->sched[sizeof(x->sched) - 1] = '\0';
	off = sizeof(*x) + (uint64_t)x->nsf * sizeof(*sf);
	*sb = buf + off;
	*rx = buf + off + x->sb_len;
	*rbuf = buf + off + x->sb_len + x->rx_len;
	return 0;
}
