/* dirmap.c — wd <-> relative path of the watched directories, in two open-addressing tables. */
#include "dirmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h ? h : 1;
}

static size_t wslot(int wd, size_t cap) { return ((size_t)(unsigned)wd * 2654435761u) & (cap - 1); }
static size_t pslot(uint64_t h, size_t cap) { return (size_t)(h ^ (h >> 29)) & (cap - 1); }

static long wfind(const struct dirmap *m, int wd)
{
	if (!m->wcap)
		return -1;
	for (size_t i = wslot(wd, m->wcap);; i = (i + 1) & (m->wcap - 1)) {
		if (m->wd[i] == wd)
			return (long)i;
		if (!m->wd[i])
			return -1;
	}
}

static long pfind(const struct dirmap *m, const char *rel, uint64_t h)
{
	if (!m->pcap)
		return -1;
	for (size_t i = pslot(h, m->pcap);; i = (i + 1) & (m->pcap - 1)) {
		if (!m->ph[i])
			return -1;
		if (m->ph[i] == h) {
			const char *r = dm_rel(m, m->pwd[i]);

			if (r && strcmp(r, rel) == 0)
				return (long)i;
		}
	}
}

const char *dm_rel(const struct dirmap *m, int wd)
{
	long i = wfind(m, wd);

	return i < 0 ? NULL : m->rel[i];
}

int dm_wd(const struct dirmap *m, const char *rel)
{
	long i = pfind(m, rel, path_hash(rel));

	return i < 0 ? 0 : m->pwd[i];
}

static int grow(struct dirmap *m)
{
	size_t wcap = m->wcap ? m->wcap * 2 : 64, pcap = m->pcap ? m->pcap * 2 : 64;
	int *wd = calloc(wcap, sizeof *wd), *pwd = calloc(pcap, sizeof *pwd);
	char **rel = calloc(wcap, sizeof *rel);
	uint64_t *ph = calloc(pcap, sizeof *ph);

	if (!wd || !pwd || !rel || !ph) {
		free(wd);
		free(pwd);
		free(rel);
		free(ph);
		return -1;
	}
	for (size_t i = 0; i < m->wcap; i++) {
		if (!m->wd[i])
			continue;
		size_t j = wslot(m->wd[i], wcap);

		while (wd[j])
			j = (j + 1) & (wcap - 1);
		wd[j] = m->wd[i];
		rel[j] = m->rel[i];
	}
	for (size_t i = 0; i < m->pcap; i++) {
		if (!m->ph[i])
			continue;
		size_t j = pslot(m->ph[i], pcap);

		while (ph[j])
			j = (j + 1) & (pcap - 1);
		ph[j] = m->ph[i];
		pwd[j] = m->pwd[i];
	}
	free(m->wd);
	free(m->rel);
	free(m->ph);
	free(m->pwd);
	m->wd = wd;
	m->rel = rel;
	m->ph = ph;
	m->pwd = pwd;
	m->wcap = wcap;
	m->pcap = pcap;
	return 0;
}

/* Linear probing's deletion: later members of the cluster move back into the hole. */
static void wdel_at(struct dirmap *m, size_t i)
{
	size_t j = i, cap = m->wcap;

	m->wd[i] = 0;
	m->rel[i] = NULL;
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!m->wd[j])
			return;
		size_t home = wslot(m->wd[j], cap);

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->wd[i] = m->wd[j];
			m->rel[i] = m->rel[j];
			m->wd[j] = 0;
			m->rel[j] = NULL;
			i = j;
		}
	}
}

static void pdel_at(struct dirmap *m, size_t i)
{
	size_t j = i, cap = m->pcap;

	m->ph[i] = 0;
	for (;;) {
		j = (j + 1) & (cap - 1);
		if (!m->ph[j])
			return;
		size_t home = pslot(m->ph[j], cap);

		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->ph[i] = m->ph[j];
			m->pwd[i] = m->pwd[j];
			m->ph[j] = 0;
			i = j;
		}
	}
}

void dm_del(struct dirmap *m, int wd)
{
	long i = wfind(m, wd);
	char *rel;

	if (i < 0)
		return;
	rel = m->rel[i];
	/* the path entry first: finding it needs the path */
	long p = pfind(m, rel, path_hash(rel));

	if (p >= 0 && m->pwd[p] == wd)
		pdel_at(m, (size_t)p);
	wdel_at(m, (size_t)i);
	free(rel);
	m->n--;
}

int dm_put(struct dirmap *m, int wd, const char *rel)
{
	uint64_t h = path_hash(rel);
	char *copy;
	int other;

	dm_del(m, wd); /* a wd reused after a move: its old path is stale */
	if ((other = dm_wd(m, rel)))
		dm_del(m, other);
	if ((m->n + 1) * 4 > m->wcap * 3 && grow(m) != 0)
		return -1;
	if (!(copy = strdup(rel)))
		return -1;
	size_t i = wslot(wd, m->wcap);

	while (m->wd[i])
		i = (i + 1) & (m->wcap - 1);
	m->wd[i] = wd;
	m->rel[i] = copy;
	i = pslot(h, m->pcap);
	while (m->ph[i])
		i = (i + 1) & (m->pcap - 1);
	m->ph[i] = h;
	m->pwd[i] = wd;
	m->n++;
	return 0;
}

void dm_each(const struct dirmap *m, void (*fn)(const char *rel, int wd, void *arg), void *arg)
{
	for (size_t i = 0; i < m->wcap; i++)
		if (m->wd[i])
			fn(m->rel[i], m->wd[i], arg);
}

void dm_free(struct dirmap *m)
{
	for (size_t i = 0; i < m->wcap; i++)
		free(m->rel[i]);
	free(m->wd);
	free(m->rel);
	free(m->ph);
	free(m->pwd);
	memset(m, 0, sizeof *m);
}
