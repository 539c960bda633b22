/* semver_lib.c — semantic versions and constraints with Masterminds/semver v3's rules, for sprig's semverCompare. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_node.h"


struct semver {
	long long major, minor, patch;
	char pre[128];
	int minor_dirty, patch_dirty; /* constraint parts missing or wildcard */
};

static int parse_num(const char **p, long long *v, int allow_wild, int *wild)
{
	if (allow_wild && (**p == 'x' || **p == 'X' || **p == '*')) {
		*wild = 1;
		(*p)++;
		*v = 0;
		return 0;
	}
	if (!isdigit((unsigned char)**p))
		return -1;
	*v = 0;
	while (isdigit((unsigned char)**p)) {
		if (*v > 100000000000000LL)
			return -1;
		*v = *v * 10 + (**p - '0');
		(*p)++;
	}
	return 0;
}

/* Parses a version (or a constraint's version when wild is set); returns 0 or -1. */
static int semver_parse(const char *s, size_t n, struct semver *v, int wild)
{
	char buf[256];
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(v, 0, sizeof *v);
	const char *p = buf;
	if (*p == 'v' || *p == 'V')
		p++;
	int w = 0;
	if (parse_num(&p, &v->major, wild, &w))
		return -1;
	if (w)
		v->minor_dirty = v->patch_dirty = 1;
	if (*p == '.') {
		p++;
		int w2 = 0;
		if (parse_num(&p, &v->minor, wild, &w2))
			return -1;
		if (w2 || w)
			v->minor_dirty = v->patch_dirty = 1;
		if (*p == '.') {
			p++;
			int w3 = 0;
			if (parse_num(&p, &v->patch, wild, &w3))
				return -1;
			if (w3)
				v->patch_dirty = 1;
		} else {
			v->patch_dirty = 1;
		}
	} else {
		v->minor_dirty = v->patch_dirty = 1;
	}
	if (*p == '-') {
		p++;
		const char *st = p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
			p++;
		if (p == st || (size_t)(p - st) >= sizeof v->pre)
			return -1;
		memcpy(v->pre, st, (size_t)(p - st));
		v->pre[p - st] = 0;
	}
	if (*p == '+') {
		p++;
		const char *st = p;
		while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
			p++;
		if (p == st)
			return -1;
	}
	return *p ? -1 : 0;
}

static int cmp_pre(const char *a, const char *b)
{
	if (!*a && !*b)
		return 0;
	if (!*a)
		return 1;
	if (!*b)
		return -1;
	while (*a || *b) {
		if (!*a)
			return -1;
		if (!*b)
			return 1;
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		int na = 1, nb = 1;
		for (size_t i = 0; i < la; i++)
			na &= isdigit((unsigned char)a[i]) != 0;
		for (size_t i = 0; i < lb; i++)
			nb &= isdigit((unsigned char)b[i]) != 0;
		int r;
		if (na && nb) {
			long long x = atoll(a), y = atoll(b);
			r = x < y ? -1 : x > y;
		} else if (na) {
			r = -1;
		} else if (nb) {
			r = 1;
		} else {
			r = strncmp(a, b, la < lb ? la : lb);
			if (!r)
				r = la < lb ? -1 : la > lb;
		}
		if (r)
			return r < 0 ? -1 : 1;
		a += la + (a[la] == '.');
		b += lb + (b[lb] == '.');
	}
	return 0;
}

static int semver_cmp(const struct semver *a, const struct semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return cmp_pre(a->pre, b->pre);
}

static int dirty(const struct semver *c) { return c->minor_dirty || c->patch_dirty; }

/* One operator against one version. */
static int check_one(const char *op, const struct semver *c, const struct semver *v)
{
	/* a pre-release version only satisfies constraints that mention a pre-release (for "!=", only
	 * wildcard ones: an exact "!=1.2.3" is plain inequality) */
	if (v->pre[0] && !c->pre[0] && (strcmp(op, "!=") || dirty(c)))
		return 0;
	int cmp = semver_cmp(v, c);
	if (!strcmp(op, "") || !strcmp(op, "=")) {
		if (dirty(c))
			goto tilde;
		return cmp == 0;
	}
	if (!strcmp(op, "!=")) {
		if (dirty(c)) {
			if (c->major != v->major)
				return 1;
			if (c->minor_dirty)
				return 0;
			return c->minor != v->minor;
		}
		return cmp != 0;
	}
	if (!strcmp(op, ">")) {
		if (!dirty(c))
			return cmp > 0;
		if (v->major != c->major)
			return v->major > c->major;
		if (c->minor_dirty)
			return 0;
		return v->minor > c->minor;
	}
	if (!strcmp(op, "<"))
		return cmp < 0;
	if (!strcmp(op, ">=") || !strcmp(op, "=>"))
		return cmp >= 0;
	if (!strcmp(op, "<=") || !strcmp(op, "=<")) {
		if (!dirty(c))
			return cmp <= 0;
		if (v->major != c->major)
			return v->major < c->major;
		if (c->minor_dirty)
			return 1;
		return v->minor <= c->minor;
	}
	if (!strcmp(op, "~") || !strcmp(op, "~>")) {
	tilde:
		if (cmp < 0)
			return 0;
		if (c->major == 0 && c->minor == 0 && c->patch == 0 && !c->minor_dirty && !c->patch_dirty)
			return 1;
		if (v->major != c->major)
			return 0;
		if (v->minor != c->minor && !c->minor_dirty)
			return 0;
		return 1;
	}
	if (!strcmp(op, "^")) {
		if (cmp < 0)
			return 0;
		if (c->major > 0 || c->minor_dirty)
			return v->major == c->major;
		if (c->minor > 0 || c->patch_dirty)
			return v->major == c->major && v->minor == c->minor;
		return v->major == c->major && v->minor == c->minor && v->patch == c->patch;
	}
	return 0;
}

/* Checks "a, b c || d" style constraints; returns 1/0, or -1 when the constraint is malformed. */
static int semver_check(const char *cons, const struct semver *v)
{
	size_t n = strlen(cons);
	size_t i = 0;
	int any_group = 0;
	while (i <= n) {
		const char *bar = strstr(cons + i, "||");
		size_t gend = bar ? (size_t)(bar - cons) : n;
		int ok = 1, items = 0;
		size_t k = i;
		while (k < gend) {
			while (k < gend && (cons[k] == ' ' || cons[k] == ',' || cons[k] == '\t'))
				k++;
			if (k >= gend)
				break;
			char op[3] = "";
			size_t ol = 0;
			while (k < gend && strchr("=<>!~^", cons[k]) && ol < 2)
				op[ol++] = cons[k++];
			op[ol] = 0;
			while (k < gend && cons[k] == ' ')
				k++;
			size_t vs = k;
			while (k < gend && cons[k] != ' ' && cons[k] != ',' && cons[k] != '\t')
				k++;
			if (k == vs)
				return -1;
			struct semver c;
			if (semver_parse(cons + vs, k - vs, &c, 1))
				return -1;
			/* hyphen range "a - b" */
			size_t save = k;
			while (save < gend && cons[save] == ' ')
				save++;
			if (!ol && save + 1 < gend && cons[save] == '-' && cons[save + 1] == ' ') {
				save += 2;
				while (save < gend && cons[save] == ' ')
					save++;
				size_t ve = save;
				while (ve < gend && cons[ve] != ' ' && cons[ve] != ',')
					ve++;
				struct semver hi;
				if (semver_parse(cons + save, ve - save, &hi, 1))
					return -1;
				ok &= check_one(">=", &c, v) && check_one("<=", &hi, v);
				k = ve;
				items++;
				continue;
			}
			if (strcmp(op, "") && strcmp(op, "=") && strcmp(op, "!=") && strcmp(op, ">") && strcmp(op, "<") &&
			    strcmp(op, ">=") && strcmp(op, "=>") && strcmp(op, "<=") && strcmp(op, "=<") &&
			    strcmp(op, "~") && strcmp(op, "~>") && strcmp(op, "^"))
				return -1;
			ok &= check_one(op, &c, v);
			items++;
		}
		if (!items)
			return -1;
		any_group |= ok;
		if (!bar)
			break;
		i = gend + 2;
	}
	return any_group;
}

int tmpl_semver_compare(const char *constraint, const char *version, size_t vlen, struct sm_error *err)
{
	struct semver v;
	struct semver probe = {0};
	if (semver_check(constraint, &probe) < 0) {
		sm_error_set(err, NULL, 0, 0, "improper constraint: %s", constraint);
		return -1;
	}
	if (semver_parse(version, vlen, &v, 0)) {
		sm_error_set(err, NULL, 0, 0, "Invalid Semantic Version");
		return -1;
	}
	return semver_check(constraint, &v) == 1;
}

int tmpl_semver_parts(const char *s, size_t n, long long nums[3], char *pre, size_t prelen, char *meta, size_t metalen)
{
	struct semver v;
	if (semver_parse(s, n, &v, 0))
		return -1;
	nums[0] = v.major;
	nums[1] = v.minor;
	nums[2] = v.patch;
	snprintf(pre, prelen, "%s", v.pre);
	const char *plus = memchr(s, '+', n);
	snprintf(meta, metalen, "%.*s", plus ? (int)(s + n - plus - 1) : 0, plus ? plus + 1 : "");
	return 0;
}

int tmpl_semver_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	struct semver x, y;
	if (semver_parse(a, an, &x, 0) || semver_parse(b, bn, &y, 0))
		return 0;
	return semver_cmp(&x, &y);
}
