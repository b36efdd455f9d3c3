/* fuzz_execstate.c - the state a connection carries across exec
 * (src/execstate.c).  The memfd comes from the process that exec'd us,
 * which may be anything that can set our environment.
 *
 * Input: a first byte choosing the mode, then
 *  - mode even: the state's bytes as they are (mostly refused early);
 *  - mode odd: a valid two-subflow state with the input's remaining bytes
 *    applied as (offset, xor) pairs, then cut to a length the input picks
 *    (reaches every check past the magic and the size).
 * Properties: the decoder reads only buf[0..len) (ASan); an accepted state
 * is exactly len bytes, its counts and lengths in range, its DSNs in
 * order, its parts inside buf and adding up to len, its strings
 * NUL-terminated; a refused one says why. */
#include "config.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "mptcpshim/execstate.h"
#include "mptcpshim/sendbuf.h"

static size_t valid(uint8_t *buf)
{
	struct mps_xs x;
	struct mps_xs_sf sf[2];
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(40000)};
	int i;

	memset(&x, 0, sizeof(x));
	memset(sf, 0, sizeof(sf));
	x.nsf = 2;
	x.sb_len = 40;
	x.rx_len = 9;
	x.rcv_wnd_max = 1024;
	x.sock_ino = 1;
	x.shim_ino = 2;
	x.shim_fd = 10;
	x.next_sf_id = 3;
	x.role = 1;
	x.snd_start = x.snd_una = 100;
	x.snd_nxt = x.snd_max = 120;
	x.sb_end = 140;
	x.rcv_nxt = x.ack_sent = 7;
	x.peer_len = sizeof(in);
	memcpy(x.peer, &in, sizeof(in));
	for (i = 0; i < 2; i++) {
		sf[i].fd = 11 + i;
		sf[i].ino = 3 + (uint64_t)i;
		sf[i].id = 1 + (uint32_t)i;
		sf[i].rlen = 4;
		memcpy(sf[i].local, &in, sizeof(in));
		memcpy(sf[i].remote, &in, sizeof(in));
	}
	mps_xs_seal(&x, sf);
	memcpy(buf, &x, sizeof(x));
	memcpy(buf + sizeof(x), sf, sizeof(sf));
	memset(buf + sizeof(x) + sizeof(sf), 0x5a, x.size - sizeof(x) - sizeof(sf));
	return x.size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mps_xs x;
	struct mps_xs_sf sf[MPS_XS_MAX_SF];
	const uint8_t *sb, *rx, *rb;
	const char *why = NULL;
	uint8_t *buf;
	size_t len;
	uint64_t rsum = 0;
	uint32_t i;
	struct fz z = {data, size};

	if (fz_u8(&z) & 1) {
		uint8_t tmp[sizeof(struct mps_xs) + 2 * sizeof(struct mps_xs_sf) + 64];
		size_t full = valid(tmp);

		while (z.n >= 3) {
			size_t off = ((size_t)fz_u8(&z) << 8 | fz_u8(&z)) % full;

			tmp[off] ^= fz_u8(&z);
		}
		len = full;
		if (z.n)
			len = full - fz_u8(&z) % 8;
		buf = malloc(len); /* exactly len: ASan sees a read past it */
		FZ_ASSERT(buf);
		memcpy(buf, tmp, len);
	} else {
		len = z.n;
		buf = malloc(len ? len : 1);
		FZ_ASSERT(buf);
		memcpy(buf, z.p, len);
	}
	if (mps_xs_decode(buf, len, &x, sf, &sb, &rx, &rb, &why)) {
		FZ_ASSERT(why && *why);
		free(buf);
		return 0;
	}
	FZ_ASSERT(x.size == len && x.version == MPS_XS_VERSION);
	FZ_ASSERT(x.nsf >= 1 && x.nsf <= MPS_XS_MAX_SF);
	for (i = 0; i < x.nsf; i++) {
		FZ_ASSERT(sf[i].rlen <= MPS_XS_MAX_RBUF && sf[i].fd >= 0 && sf[i].ino);
		FZ_ASSERT(memchr(sf[i].peer_str, 0, sizeof(sf[i].peer_str)));
		rsum += sf[i].rlen;
	}
	FZ_ASSERT(memchr(x.peer_str, 0, sizeof(x.peer_str)) && memchr(x.sched, 0, sizeof(x.sched)));
	FZ_ASSERT(mps_dsn_le(x.snd_una, x.snd_max) && x.sb_end - x.snd_una == x.sb_len);
	FZ_ASSERT(x.rx_len <= x.rcv_wnd_max);
	FZ_ASSERT(sb >= buf && rb + rsum == buf + len);
	FZ_ASSERT(rx == sb + x.sb_len && rb == rx + x.rx_len);
	free(buf);
	return 0;
}
