/* strmap.c — a small string-keyed hash map with chaining and doubling. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return (size_t)h;
}

static struct strmap_node **find(const struct strmap *m, const char *key, size_t h)
{
	struct strmap_node **at;

	if (!m->nb)
		return NULL;
	for (at = &m->b[h & (m->nb - 1)]; *at; at = &(*at)->next)
		if ((*at)->hash == h && strcmp((*at)->key, key) == 0)
			return at;
	return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_node **at = find(m, key, hash_str(key));

	return at ? (*at)->val : NULL;
}

static int grow(struct strmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	struct strmap_node **b = calloc(nb, sizeof *b);

	if (!b)
		return -1;
	for (size_t i = 0; i < m->nb; i++) {
		for (struct strmap_node *n = m->b[i], *next; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

int strmap_put(struct strmap *m, const char *key, void *val, void **old)
{
	size_t h = hash_str(key), len = strlen(key);
	struct strmap_node **at = find(m, key, h), *n;

	if (old)
		*old = NULL;
	if (at) {
		if (old)
			*old = (*at)->val;
		(*at)->val = val;
		return 0;
	}
	if (m->n >= m->nb && grow(m) != 0)
		return -1;
	n = malloc(sizeof *n + len + 1);
	if (!n)
		return -1;
	memcpy(n->key, key, len + 1);
	n->val = val;
	n->hash = h;
	n->next = m->b[h & (m->nb - 1)];
	m->b[h & (m->nb - 1)] = n;
	m->n++;
	return 0;
}

void *strmap_del(struct strmap *m, const char *key)
{
	struct strmap_node **at = find(m, key, hash_str(key)), *n;
	void *val;

	if (!at)
		return NULL;
	n = *at;
	*at = n->next;
	val = n->val;
	free(n);
	m->n--;
	return val;
}

void strmap_each(const struct strmap *m, void (*fn)(const char *key, void *val, void *arg), void *arg)
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct strmap_node *n = m->b[i]; n; n = n->next)
			fn(n->key, n->val, arg);
}

void strmap_free(struct strmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->nb; i++) {
		for (struct strmap_node *n = m->b[i], *next; n; n = next) {
			next = n->next;
			if (free_val)
				free_val(n->val);
			free(n);
		}
	}
	free(m->b);
	memset(m, 0, sizeof *m);
}
