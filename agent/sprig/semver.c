/* semver.c — sprig's semver: a version object with Masterminds/semver v3's methods (Major, Prerelease, IncPatch, Compare ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprig.h"
#include "tmpl_node.h"

static const struct tobj_type SEMVER_TYPE;

static long long num(json_t *v, const char *k) { return (long long)json_integer_value(json_object_get(v, k)); }
static const char *str(json_t *v, const char *k) { return json_string_value(json_object_get(v, k)); }

static void to_string(json_t *v, struct sbuf *b)
{
	sb_printf(b, "%lld.%lld.%lld", num(v, "major"), num(v, "minor"), num(v, "patch"));
	if (*str(v, "pre"))
		sb_printf(b, "-%s", str(v, "pre"));
	if (*str(v, "metadata"))
		sb_printf(b, "+%s", str(v, "metadata"));
}

static void print_semver(json_t *obj, void *ctx, struct sbuf *b)
{
	(void)ctx;
	to_string(obj, b);
}

static json_t *make(struct tmpl_call *c, long long maj, long long min, long long pat, const char *pre, const char *meta,
		    const char *orig)
{
	json_t *v = json_pack("{sIsIsIssssss}", "major", (json_int_t)maj, "minor", (json_int_t)min, "patch", (json_int_t)pat,
			      "pre", pre, "metadata", meta, "original", orig);
	tmpl_set_bind(tmpl_exec_set(c->st), v, &SEMVER_TYPE, NULL);
	return v;
}

int tfx_semver(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long nums[3];
	char pre[256], meta[256];
	if (tmpl_semver_parts(json_string_value(a[0]), json_string_length(a[0]), nums, pre, sizeof pre, meta, sizeof meta))
		return tf_fail(c, "Invalid Semantic Version");
	return tf_ret(c, make(c, nums[0], nums[1], nums[2], pre, meta, json_string_value(a[0])));
}

static int m_major(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret_int(c, num(c->recv, "major")); }
static int m_minor(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret_int(c, num(c->recv, "minor")); }
static int m_patch(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret_int(c, num(c->recv, "patch")); }
static int m_pre(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret(c, json_string(str(c->recv, "pre"))); }
static int m_meta(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret(c, json_string(str(c->recv, "metadata"))); }
static int m_orig(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return tf_ret(c, json_string(str(c->recv, "original"))); }
static int m_string(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	to_string(c->recv, &b);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

/* IncMajor/IncMinor/IncPatch: v3's rules (a prerelease patch only drops the prerelease). */
static int inc(struct tmpl_call *c, int which)
{
	json_t *v = c->recv;
	long long maj = num(v, "major"), min = num(v, "minor"), pat = num(v, "patch");
	if (which == 2) {
		if (!*str(v, "pre"))
			pat++;
	} else if (which == 1) {
		min++;
		pat = 0;
	} else {
		maj++;
		min = pat = 0;
	}
	struct sbuf o = {0};
	sb_printf(&o, "%lld.%lld.%lld", maj, min, pat);
	char *os = sb_take(&o);
	json_t *r = make(c, maj, min, pat, "", "", os);
	free(os);
	return tf_ret(c, r);
}
static int m_inc_major(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return inc(c, 0); }
static int m_inc_minor(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return inc(c, 1); }
static int m_inc_patch(struct tmpl_call *c, json_t **a, size_t n) { (void)a, (void)n; return inc(c, 2); }

static int compare(struct tmpl_call *c, json_t *o, int *out)
{
	if (!tmpl_find_bind(tmpl_exec_set(c->st), o) || !json_object_get(o, "major"))
		return tf_fail(c, "wrong type for value; expected *semver.Version");
	struct sbuf a = {0}, b = {0};
	to_string(c->recv, &a);
	to_string(o, &b);
	*out = tmpl_semver_cmp(a.s, a.len, b.s, b.len);
	free(a.s);
	free(b.s);
	return 0;
}
static int m_compare(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int r;
	return compare(c, a[0], &r) ? -1 : tf_ret_int(c, r);
}
static int m_less(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int r;
	return compare(c, a[0], &r) ? -1 : tf_ret_bool(c, r < 0);
}
static int m_greater(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int r;
	return compare(c, a[0], &r) ? -1 : tf_ret_bool(c, r > 0);
}
static int m_equal(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int r;
	return compare(c, a[0], &r) ? -1 : tf_ret_bool(c, r == 0);
}

static const struct tmpl_func SEMVER_METHODS[] = {
	{"Major", "", m_major},		 {"Minor", "", m_minor},	     {"Patch", "", m_patch},
	{"Prerelease", "", m_pre},	 {"Metadata", "", m_meta},	     {"Original", "", m_orig},
	{"String", "", m_string},	 {"IncMajor", "", m_inc_major},	     {"IncMinor", "", m_inc_minor},
	{"IncPatch", "", m_inc_patch}, {"Compare", "a", m_compare},	     {"LessThan", "a", m_less},
	{"GreaterThan", "a", m_greater}, {"Equal", "a", m_equal},
};
static const struct tobj_type SEMVER_TYPE = {"*semver.Version", SEMVER_METHODS,
					     sizeof SEMVER_METHODS / sizeof SEMVER_METHODS[0], print_semver, "ptr"};

int tfx_semver_compare(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	struct sm_error err;
	int r = tmpl_semver_compare(S(a[0]), S(a[1]), SL(a[1]), &err);
	if (r < 0)
		return tf_fail(c, "%s", err.msg);
	return tf_ret_bool(c, r);
}
