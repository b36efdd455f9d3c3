/* token.c - open hash of live tokens; touched once per connection (and per
 * join), so a mutex is fine. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "mptcpshim/token.h"
#include "mptcpshim/util.h"

struct node {
	struct node *next;
	uint32_t token;
	struct mps_conn *conn;
};

#define BUCKETS 1024
static struct node *g_buckets[BUCKETS];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

int mps_token_add(uint32_t token, struct mps_conn *conn)
{
	struct node **b = &g_buckets[token % BUCKETS], *n;
	int rc = 0;

	pthread_mutex_lock(&g_lock);
	for (n = *b; n; n = n->next)
		if (n->token == token) {
			rc = -EEXIST;
			goto out;
		}
	n = malloc(sizeof(*n));
	if (!n) {
		rc = -ENOMEM;
		goto out;
	}
	n->token = token;
	n->conn = conn;
	n->next = *b;
	*b = n;
out:
	pthread_mutex_unlock(&g_lock);
	return rc;
}

void mps_token_del(uint32_t token, struct mps_conn *conn)
{
	struct node **p, *n;

	pthread_mutex_lock(&g_lock);
	for (p = &g_buckets[token % BUCKETS]; (n = *p); p = &n->next)
		if (n->token == token && n->conn == conn) {
			*p = n->next;
			free(n);
			break;
		}
	pthread_mutex_unlock(&g_lock);
}

struct mps_conn *mps_token_find(uint32_t token)
{
	struct node *n;
	struct mps_conn *c = NULL;

	pthread_mutex_lock(&g_lock);
	for (n = g_buckets[token % BUCKETS]; n; n = n->next)
		if (n->token == token) {
			c = n->conn;
			break;
		}
	pthread_mutex_unlock(&g_lock);
	return c;
}

void mps_token_lock(int lock)
{
	mps_mutex_hold(&g_lock, lock);
}

void mps_token_atfork_child(void)
{
	unsigned i;

	/* the parent's connections: none of them may take a join here */
	for (i = 0; i < BUCKETS; i++)
		while (g_buckets[i]) {
			struct node *n = g_buckets[i];

			g_buckets[i] = n->next;
			free(n);
		}
}
