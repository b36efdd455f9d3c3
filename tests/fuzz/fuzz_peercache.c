/* fuzz_peercache.c - the shared peer-cache file (MPTCPSHIM_PEER_CACHE,
 * src/peercache.c): its records are read from a file any of the user's
 * processes (or a crashed one, or a disk error) may have written.
 *
 * Input: a control byte, the probed address (16 bytes, port 2), the time
 * and TTL, then the file's contents.  The record layout (40 bytes: key[18]
 * family kind pad[4] netns[8] until[8], host order) is peercache.c's
 * struct shared_rec; the harness uses it only to help the fuzzer (a
 * record whose pad byte asks for it gets this network namespace and the
 * probed key) and for the lookup model.  Properties:
 *  - lookup says PLAIN iff the first valid record of this address, port
 *    and namespace is PLAIN, SHIM iff it is a shim server's (kind 5,
 *    SHARED_SHIM_SERVER, written by inline clients), else nothing (the
 *    model; the file holds no host verdicts);
 *  - an update rewrites at most one whole record, in place, and never
 *    grows the file beyond its 256 records;
 *  - after a definitive note_plain, or two timed-out ones, lookup says PLAIN
 *    (of a port recorded at most once);
 *  - after forget (of a port recorded at most once), lookup no longer says
 *    PLAIN. */
#include "config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "mptcpshim/peercache.h"

#define REC 40u
#define SLOTS 256u
#define MAXFILE (SLOTS * REC + 100u)

static char path[64];
static uint64_t netns;

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stat st;

	snprintf(path, sizeof(path), "/tmp/fuzz_peercache.%d", (int)getpid());
	atexit(cleanup);
	netns = stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
	return 0;
}

static size_t file_read(uint8_t *buf)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	FZ_ASSERT(fd >= 0);
	n = pread(fd, buf, MAXFILE, 0);
	close(fd);
	FZ_ASSERT(n >= 0);
	return (size_t)n;
}

/* Rewrote at most max whole records, in place. */
static void records_changed(const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                            unsigned max)
{
	size_t i, last = (size_t)-1;
	unsigned n = 0;

	FZ_ASSERT(nb <= (na > SLOTS * REC ? na : SLOTS * REC));
	for (i = 0; i < nb; i++)
		if ((i >= na || a[i] != b[i]) && i / REC != last) {
			last = i / REC;
			n++;
			if (n > max)
				fprintf(stderr, "byte %zu (slot %zu): %u records changed, at most %u\n",
				        i, i / REC, n, max);
			FZ_ASSERT(n <= max);
		}
}

/* The kind of the first valid record of key (peercache.c's find_rec), or 0. */
static int first_live_kind(const uint8_t *file, size_t nrec, const uint8_t key[18],
                           uint8_t family, int64_t now_s);

static int rec_match(const uint8_t *r, const uint8_t key[18], uint8_t family)
{
	uint64_t ns;

	memcpy(&ns, r + 24, 8);
	return r[19] && r[18] == family && ns == netns && !memcmp(r, key, 18);
}

static int first_live_kind(const uint8_t *file, size_t nrec, const uint8_t key[18],
                           uint8_t family, int64_t now_s)
{
	size_t i;

	for (i = 0; i < nrec; i++) {
		const uint8_t *r = file + i * REC;
		int64_t until;

		memcpy(&until, r + 32, 8);
		if (rec_match(r, key, family) && until > now_s)
			return r[19];
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t file[MAXFILE], before[MAXFILE], after[MAXFILE];
	struct fz z = {data, size};
	struct sockaddr_storage ss;
	uint8_t ctl, key[18], family;
	int64_t now_s;
	uint32_t ttl;
	size_t n, i, nrec, matches = 0, nb, na;
	int model_plain = 0, model_kind, fd;
	enum mps_peer_kind k;

	ctl = fz_u8(&z);
	for (i = 0; i < 18; i++)
		key[i] = fz_u8(&z);
	now_s = 1700000000 + (int64_t)(fz_u32(&z) % 100000000u);
	ttl = fz_u16(&z);
	memset(&ss, 0, sizeof(ss));
	if (ctl & 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, key, 16);
		memcpy(&in6->sin6_port, key + 16, 2);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		memset(key + 4, 0, 12);
		memcpy(&in->sin_addr, key, 4);
		memcpy(&in->sin_port, key + 16, 2);
	}
	family = (uint8_t)ss.ss_family;

	n = z.n < MAXFILE ? z.n : MAXFILE;
	memcpy(file, z.p, n);
	nrec = n / REC;
	for (i = 0; i < nrec; i++) {
		uint8_t *r = file + i * REC;

		if (r[20] & 1)
			memcpy(r + 24, &netns, 8);
		if (r[20] & 2) {
			memcpy(r, key, 18);
			r[18] = family;
		}
		if (rec_match(r, key, family))
			matches++;
	}
	model_kind = first_live_kind(file, nrec, key, family, now_s);
	model_plain = model_kind == 1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FZ_ASSERT(fd >= 0);
	FZ_ASSERT(fchmod(fd, 0600) == 0);
	FZ_ASSERT(write(fd, file, n) == (ssize_t)n);
	close(fd);

	k = mps_peercache_shared_lookup(path, (struct sockaddr *)&ss, 1, now_s);
	FZ_ASSERT(k == (model_plain           ? MPS_PEER_PLAIN :
	                model_kind == 5 /* SHARED_SHIM_SERVER */ ? MPS_PEER_SHIM :
	                                        MPS_PEER_UNKNOWN));

	nb = file_read(before);
	switch ((ctl >> 1) & 3) {
	case 0: /* definitive */
		if (mps_peercache_shared_note_plain(path, (struct sockaddr *)&ss, now_s, ttl, 1) ==
		    0) {
			if (matches <= 1)
				FZ_ASSERT(mps_peercache_shared_lookup(path, (struct sockaddr *)&ss,
				                                      1, now_s) == MPS_PEER_PLAIN);
		} else
			FZ_ASSERT(ttl == 0);
		break;
	case 1: /* timed out, twice */
		if (mps_peercache_shared_note_plain(path, (struct sockaddr *)&ss, now_s, ttl, 0) ==
		    0) {
			na = file_read(after);
			records_changed(before, nb, after, na, 1);
			memcpy(before, after, na);
			nb = na;
			FZ_ASSERT(mps_peercache_shared_note_plain(path, (struct sockaddr *)&ss,
			                                          now_s, ttl, 0) == 0);
			if (matches <= 1)
				FZ_ASSERT(mps_peercache_shared_lookup(path, (struct sockaddr *)&ss,
				                                      1, now_s) == MPS_PEER_PLAIN);
		} else
			FZ_ASSERT(ttl == 0);
		break;
	default: /* forget */
		mps_peercache_shared_forget(path, (struct sockaddr *)&ss, now_s);
		if (matches <= 1)
			FZ_ASSERT(mps_peercache_shared_lookup(path, (struct sockaddr *)&ss, 1,
			                                      now_s) == MPS_PEER_UNKNOWN);
		break;
	}
	na = file_read(after);
	records_changed(before, nb, after, na, 1);
	return 0;
}
