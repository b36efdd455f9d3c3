/* resume.c - resumption ticket tables (see resume.h).  Flat arrays with a
 * linear scan: at most 1024 (server) or 256 (client) entries, looked at
 * once per connection, which costs a few microseconds where the X25519
 * agreement it saves costs ~170 (docs/BENCHMARKS.md). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "mptcpshim/crypto.h"
#include "mptcpshim/kex.h"
#include "mptcpshim/resume.h"

struct peer_key {
	uint16_t family; /* AF_INET or AF_INET6; 0: a free client entry */
	uint16_t port;   /* network order */
	uint8_t addr[16];
};

struct entry {
	uint64_t expiry_us; /* 0: free */
	uint8_t ticket[MPS_KEX_TICKET_LEN];
	uint8_t secret[MPS_KEX_RMS_LEN];
	uint8_t bind[MPS_KEX_PSK_LEN]; /* server: the PSK it was issued under (0s: none) */
	struct peer_key peer;          /* client table only */
};

static struct entry g_srv[MPS_RESUME_SERVER_MAX];
static struct entry g_cli[MPS_RESUME_CLIENT_MAX];

static void drop(struct entry *e)
{
	mps_kex_wipe(e, sizeof(*e));
}

static int live(const struct entry *e, uint64_t now_us)
{
	return e->expiry_us > now_us;
}

/* A free or expired slot (expired ones wiped on the way), else the one
 * that expires first, among tab[0..n) for which match (may be NULL)
 * holds. */
static struct entry *victim(struct entry *tab, size_t n, uint64_t now_us,
                            const struct peer_key *match)
{
	struct entry *v = NULL;

	for (size_t i = 0; i < n; i++) {
		struct entry *e = &tab[i];

		if (match && memcmp(&e->peer, match, sizeof(*match)) != 0)
			continue;
		if (!live(e, now_us)) {
			if (e->expiry_us)
				drop(e);
			return e;
		}
		if (!v || e->expiry_us < v->expiry_us)
			v = e;
	}
	return v;
}

static int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	return acc == 0;
}

static int same_ticket(const uint8_t *a, const uint8_t *b)
{
	return same_bytes(a, b, MPS_KEX_TICKET_LEN);
}

void mps_resume_issue(const uint8_t ticket[MPS_KEX_TICKET_LEN],
                      const uint8_t secret[MPS_KEX_RMS_LEN], uint64_t expiry_us, uint64_t now_us)
{
	mps_resume_issue_bound(ticket, secret, NULL, expiry_us, now_us);
}

int mps_resume_redeem(const uint8_t ticket[MPS_KEX_TICKET_LEN], uint8_t secret[MPS_KEX_RMS_LEN],
                      uint64_t now_us)
{
	return mps_resume_redeem_bound(ticket, secret, NULL, now_us);
}

void mps_resume_issue_bound(const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            const uint8_t secret[MPS_KEX_RMS_LEN], const uint8_t *bind,
                            uint64_t expiry_us, uint64_t now_us)
{
	struct entry *e;

	if (expiry_us <= now_us)
		return;
	mps_crypto_lock(1);
	e = victim(g_srv, MPS_RESUME_SERVER_MAX, now_us, NULL);
	drop(e);
	e->expiry_us = expiry_us;
	memcpy(e->ticket, ticket, MPS_KEX_TICKET_LEN);
	memcpy(e->secret, secret, MPS_KEX_RMS_LEN);
	if (bind)
		memcpy(e->bind, bind, MPS_KEX_PSK_LEN);
	mps_crypto_lock(0);
}

int mps_resume_redeem_bound(const uint8_t ticket[MPS_KEX_TICKET_LEN],
                            uint8_t secret[MPS_KEX_RMS_LEN], const uint8_t *bind, uint64_t now_us)
{
	static const uint8_t none[MPS_KEX_PSK_LEN];
	int rc = -ENOENT;

	mps_crypto_lock(1);
	for (size_t i = 0; i < MPS_RESUME_SERVER_MAX; i++) {
		struct entry *e = &g_srv[i];

		if (!e->expiry_us)
			continue;
		if (!live(e, now_us)) {
			drop(e); /* an expired secret goes at the first look */
			continue;
		}
		if (rc == -ENOENT && same_ticket(e->ticket, ticket)) {
			/* issued under another key (a gateway's client key, or
			 * none): not this client's to resume; used up anyway */
			rc = same_bytes(e->bind, bind ? bind : none, MPS_KEX_PSK_LEN) ? 0 : -EPERM;
			if (rc == 0)
				memcpy(secret, e->secret, MPS_KEX_RMS_LEN);
			drop(e); /* single use */
		}
	}
	mps_crypto_lock(0);
	return rc;
}

static int key_of(const struct sockaddr *sa, struct peer_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		k->port = s4->sin_port;
		memcpy(k->addr, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		k->port = s6->sin6_port;
		memcpy(k->addr, &s6->sin6_addr, 16);
	} else
		return -EAFNOSUPPORT;
	k->family = sa->sa_family;
	return 0;
}

int mps_resume_keep(const struct sockaddr *peer, const uint8_t ticket[MPS_KEX_TICKET_LEN],
                    const uint8_t secret[MPS_KEX_RMS_LEN], uint64_t expiry_us, uint64_t now_us)
{
	struct peer_key k;
	struct entry *e = NULL;
	size_t mine = 0;

	if (key_of(peer, &k))
		return -EAFNOSUPPORT;
	if (expiry_us <= now_us)
		return 0;
	mps_crypto_lock(1);
	for (size_t i = 0; i < MPS_RESUME_CLIENT_MAX; i++)
		mine += live(&g_cli[i], now_us) && memcmp(&g_cli[i].peer, &k, sizeof(k)) == 0;
	if (mine >= MPS_RESUME_PER_PEER)
		e = victim(g_cli, MPS_RESUME_CLIENT_MAX, now_us, &k);
	if (!e)
		e = victim(g_cli, MPS_RESUME_CLIENT_MAX, now_us, NULL);
	drop(e);
	e->expiry_us = expiry_us;
	e->peer = k;
	memcpy(e->ticket, ticket, MPS_KEX_TICKET_LEN);
	memcpy(e->secret, secret, MPS_KEX_RMS_LEN);
	mps_crypto_lock(0);
	return 0;
}

int mps_resume_take(const struct sockaddr *peer, uint8_t ticket[MPS_KEX_TICKET_LEN],
                    uint8_t secret[MPS_KEX_RMS_LEN], uint64_t now_us)
{
	struct peer_key k;
	struct entry *best = NULL;

	if (key_of(peer, &k))
		return -ENOENT;
	mps_crypto_lock(1);
	for (size_t i = 0; i < MPS_RESUME_CLIENT_MAX; i++) {
		struct entry *e = &g_cli[i];

		if (!e->expiry_us)
			continue;
		if (!live(e, now_us)) {
			drop(e);
			continue;
		}
		if (memcmp(&e->peer, &k, sizeof(k)) == 0 &&
		    (!best || e->expiry_us > best->expiry_us))
			best = e;
	}
	if (best) {
		memcpy(ticket, best->ticket, MPS_KEX_TICKET_LEN);
		memcpy(secret, best->secret, MPS_KEX_RMS_LEN);
		drop(best); /* one connection offers it; the server takes it once anyway */
	}
	mps_crypto_lock(0);
	return best ? 0 : -ENOENT;
}

size_t mps_resume_count(int server, uint64_t now_us)
{
	const struct entry *tab = server ? g_srv : g_cli;
	size_t n = server ? MPS_RESUME_SERVER_MAX : MPS_RESUME_CLIENT_MAX, live_n = 0;

	mps_crypto_lock(1);
	for (size_t i = 0; i < n; i++)
		live_n += live(&tab[i], now_us);
	mps_crypto_lock(0);
	return live_n;
}

void mps_resume_clear(void)
{
	mps_crypto_lock(1);
	mps_kex_wipe(g_srv, sizeof(g_srv));
	mps_kex_wipe(g_cli, sizeof(g_cli));
	mps_crypto_lock(0);
}
