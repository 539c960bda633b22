/* date.c — sprig's date functions (now, date, dateInZone, htmlDate, toDate, unixEpoch, dateModify, duration, ago) with Go's layouts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sprig.h"
#include "tmpl_node.h"

/* A time.Time: {"sec": unix seconds, "nsec": nanoseconds}, shown in the process's local zone as Go's Local. */
static const struct tobj_type TIME_TYPE;

static const char *const MONTHS[] = {"January", "February", "March",     "April",   "May",      "June",
				     "July",    "August",   "September", "October", "November", "December"};
static const char *const DAYS[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

struct zoned {
	struct tm tm;
	long nsec;
	long off; /* seconds east of UTC */
	char zone[64];
};

/* Named zones switch the process's TZ for the call: renders on two threads (the library's
 * handles) take turns here. Other threads read the environment meanwhile (getenv in the kube
 * client), which is safe only while TZ's entry exists throughout: glibc's setenv then replaces
 * one pointer (never freeing the old string) instead of growing environ, and nothing unsets it.
 * sprig_process_init puts it there before any thread starts. */
static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

void sprig_process_init(void)
{
	/* ":/etc/localtime" is what an unset TZ means to glibc: local time is unchanged */
	if (!getenv("TZ"))
		setenv("TZ", ":/etc/localtime", 0);
}

static void in_zone_locked(long long sec, long nsec, const char *zone, struct zoned *z);

/* sec in zone ("Local", "UTC" or an IANA name; an unknown one is UTC as sprig falls back). */
static void in_zone(long long sec, long nsec, const char *zone, struct zoned *z)
{
	pthread_mutex_lock(&tz_mu);
	in_zone_locked(sec, nsec, zone, z);
	pthread_mutex_unlock(&tz_mu);
}

static void in_zone_locked(long long sec, long nsec, const char *zone, struct zoned *z)
{
	time_t t = (time_t)sec;
	z->nsec = nsec;
	if (!strcmp(zone, "UTC") || !*zone) {
		gmtime_r(&t, &z->tm);
		z->off = 0;
		snprintf(z->zone, sizeof z->zone, "UTC");
		return;
	}
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	int set = strcmp(zone, "Local") != 0;
	if (set) {
		char path[300];
		snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
		FILE *f = strstr(zone, "..") ? NULL : fopen(path, "rb");
		if (!f) {
			free(old);
			in_zone_locked(sec, nsec, "UTC", z);
			return;
		}
		fclose(f);
		setenv("TZ", zone, 1);
		tzset();
	}
	localtime_r(&t, &z->tm);
	z->off = z->tm.tm_gmtoff;
	snprintf(z->zone, sizeof z->zone, "%s", z->tm.tm_zone ? z->tm.tm_zone : "UTC");
	if (set) {
		if (old)
			setenv("TZ", old, 1);
		else
			unsetenv("TZ");
		tzset();
	}
	free(old);
}

static int has(const char *p, const char *tok) { return !strncmp(p, tok, strlen(tok)); }

/* Go's Time.Format. */
static void go_format(struct sbuf *b, const char *layout, const struct zoned *z)
{
	const struct tm *t = &z->tm;
	int year = t->tm_year + 1900, hour12 = t->tm_hour % 12 ? t->tm_hour % 12 : 12;
	for (const char *p = layout; *p;) {
		if (has(p, "January")) { sb_puts(b, MONTHS[t->tm_mon]); p += 7; }
		else if (has(p, "Jan")) { sb_add(b, MONTHS[t->tm_mon], 3); p += 3; }
		else if (has(p, "Monday")) { sb_puts(b, DAYS[t->tm_wday]); p += 6; }
		else if (has(p, "Mon")) { sb_add(b, DAYS[t->tm_wday], 3); p += 3; }
		else if (has(p, "MST")) { sb_puts(b, z->zone); p += 3; }
		else if (has(p, "2006")) { sb_printf(b, "%04d", year); p += 4; }
		else if (has(p, "002")) { sb_printf(b, "%03d", t->tm_yday + 1); p += 3; }
		else if (has(p, "__2")) { sb_printf(b, "%3d", t->tm_yday + 1); p += 3; }
		else if (has(p, "01")) { sb_printf(b, "%02d", t->tm_mon + 1); p += 2; }
		else if (has(p, "02")) { sb_printf(b, "%02d", t->tm_mday); p += 2; }
		else if (has(p, "03")) { sb_printf(b, "%02d", hour12); p += 2; }
		else if (has(p, "04")) { sb_printf(b, "%02d", t->tm_min); p += 2; }
		else if (has(p, "05")) { sb_printf(b, "%02d", t->tm_sec); p += 2; }
		else if (has(p, "06")) { sb_printf(b, "%02d", year % 100); p += 2; }
		else if (has(p, "_2")) { sb_printf(b, "%2d", t->tm_mday); p += 2; }
		else if (has(p, "15")) { sb_printf(b, "%02d", t->tm_hour); p += 2; }
		else if (has(p, "PM")) { sb_puts(b, t->tm_hour >= 12 ? "PM" : "AM"); p += 2; }
		else if (has(p, "pm")) { sb_puts(b, t->tm_hour >= 12 ? "pm" : "am"); p += 2; }
		else if (has(p, "Z07:00") || has(p, "-07:00") || has(p, "Z0700") || has(p, "-0700") || has(p, "Z07") ||
			 has(p, "-07")) {
			int z_ok = p[0] == 'Z';
			size_t len = has(p, "Z07:00") || has(p, "-07:00") ? 6 : has(p, "Z0700") || has(p, "-0700") ? 5 : 3;
			if (z_ok && z->off == 0) {
				sb_putc(b, 'Z');
			} else {
				long o = z->off < 0 ? -z->off : z->off;
				sb_printf(b, "%c%02ld", z->off < 0 ? '-' : '+', o / 3600);
				if (len == 6)
					sb_printf(b, ":%02ld", o / 60 % 60);
				else if (len == 5)
					sb_printf(b, "%02ld", o / 60 % 60);
			}
			p += len;
		} else if ((p[0] == '.' || p[0] == ',') && (p[1] == '0' || p[1] == '9')) {
			char d = p[1];
			size_t n = 1;
			while (p[n] == d)
				n++;
			n--;
			if (p[n + 1] >= '0' && p[n + 1] <= '9') { /* not a fraction: digits follow */
				sb_putc(b, *p++);
				continue;
			}
			char frac[16];
			snprintf(frac, sizeof frac, "%09ld", z->nsec);
			size_t k = n > 9 ? 9 : n;
			if (d == '9') {
				while (k > 0 && frac[k - 1] == '0')
					k--;
				if (k)
					sb_putc(b, p[0]), sb_add(b, frac, k);
			} else {
				sb_putc(b, p[0]);
				sb_add(b, frac, k);
			}
			p += n + 1;
		} else if (p[0] == '1' && !(p[1] >= '0' && p[1] <= '9')) { sb_printf(b, "%d", t->tm_mon + 1); p++; }
		else if (p[0] == '2' && !(p[1] >= '0' && p[1] <= '9')) { sb_printf(b, "%d", t->tm_mday); p++; }
		else if (p[0] == '3') { sb_printf(b, "%d", hour12); p++; }
		else if (p[0] == '4') { sb_printf(b, "%d", t->tm_min); p++; }
		else if (p[0] == '5') { sb_printf(b, "%d", t->tm_sec); p++; }
		else { sb_putc(b, *p++); }
	}
}

static json_t *make_time(struct tmpl_call *c, long long sec, long nsec)
{
	json_t *t = json_pack("{sIsI}", "sec", (json_int_t)sec, "nsec", (json_int_t)nsec);
	tmpl_set_bind(tmpl_exec_set(c->st), t, &TIME_TYPE, NULL);
	return t;
}

static int is_time(struct tmpl_call *c, json_t *j)
{
	const struct tbind *b = j ? tmpl_find_bind(tmpl_exec_set(c->st), j) : NULL;
	return b && b->type == &TIME_TYPE;
}

/* Go's Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST" */
static void print_time(json_t *obj, void *ctx, struct sbuf *b)
{
	(void)ctx;
	struct zoned z;
	in_zone((long long)json_integer_value(json_object_get(obj, "sec")),
		(long)json_integer_value(json_object_get(obj, "nsec")), "Local", &z);
	go_format(b, "2006-01-02 15:04:05.999999999 -0700 MST", &z);
}

int tfx_now(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return tf_ret(c, make_time(c, (long long)ts.tv_sec, ts.tv_nsec));
}

/* sprig's dateInZone: a time, or integer unix seconds; anything else is now. */
static int date_in_zone(struct tmpl_call *c, const char *layout, json_t *date, const char *zone)
{
	long long sec;
	long nsec = 0;
	if (is_time(c, date)) {
		sec = (long long)json_integer_value(json_object_get(date, "sec"));
		nsec = (long)json_integer_value(json_object_get(date, "nsec"));
	} else if (json_is_integer(date)) {
		sec = (long long)json_integer_value(date);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		sec = (long long)ts.tv_sec;
		nsec = ts.tv_nsec;
	}
	struct zoned z;
	in_zone(sec, nsec, zone, &z);
	struct sbuf b = {0};
	sb_add(&b, "", 0);
	go_format(&b, layout, &z);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

int tfx_date(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return date_in_zone(c, json_string_value(a[0]), a[1], "Local"); }
int tfx_date_in_zone(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return date_in_zone(c, json_string_value(a[0]), a[1], json_string_value(a[2]));
}
int tfx_html_date(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return date_in_zone(c, "2006-01-02", a[0], "Local"); }
int tfx_html_date_in_zone(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return date_in_zone(c, "2006-01-02", a[0], json_string_value(a[1]));
}

int tfx_unix_epoch(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	if (!is_time(c, a[0]))
		return tf_fail(c, "wrong type for value; expected time.Time");
	char s[32];
	snprintf(s, sizeof s, "%lld", (long long)json_integer_value(json_object_get(a[0], "sec")));
	return tf_ret_str(c, s, strlen(s));
}

/* Go's time.ParseInLocation for numeric layouts (2006 01 02 15 04 05, Jan, .000, Z07:00/-0700); Local zone. */
static int go_parse(const char *layout, const char *value, long long *sec, long *nsec)
{
	struct tm tm = {0};
	tm.tm_mday = 1;
	tm.tm_year = 0 - 1900 + 0;
	int year = 0, have_off = 0;
	long off = 0;
	*nsec = 0;
	const char *p = layout, *v = value;
	while (*p) {
		int w = 0, val = 0;
		if (has(p, "2006")) w = 4;
		else if (has(p, "01") || has(p, "02") || has(p, "15") || has(p, "04") || has(p, "05")) w = 2;
		if (w) {
			for (int i = 0; i < w; i++) {
				if (v[i] < '0' || v[i] > '9')
					return -1;
				val = val * 10 + (v[i] - '0');
			}
			if (w == 4) year = val;
			else if (has(p, "01")) tm.tm_mon = val - 1;
			else if (has(p, "02")) tm.tm_mday = val;
			else if (has(p, "15")) tm.tm_hour = val;
			else if (has(p, "04")) tm.tm_min = val;
			else tm.tm_sec = val;
			p += w;
			v += w;
		} else if (has(p, "Jan")) {
			int m;
			for (m = 0; m < 12 && strncmp(v, MONTHS[m], 3); m++)
				;
			if (m == 12)
				return -1;
			tm.tm_mon = m;
			p += 3;
			v += 3;
		} else if (has(p, "Z07:00") || has(p, "-07:00")) {
			if (*v == 'Z' && p[0] == 'Z') {
				v++;
			} else {
				if ((*v != '+' && *v != '-') || strlen(v) < 6)
					return -1;
				off = ((v[1] - '0') * 10 + (v[2] - '0')) * 3600 + ((v[4] - '0') * 10 + (v[5] - '0')) * 60;
				if (*v == '-')
					off = -off;
				v += 6;
			}
			have_off = 1;
			p += 6;
		} else if (*p == '.' && (p[1] == '0' || p[1] == '9')) {
			p++;
			while (*p == '0' || *p == '9')
				p++;
			if (*v == '.') {
				v++;
				long f = 0;
				int digits = 0;
				while (*v >= '0' && *v <= '9') {
					if (digits < 9)
						f = f * 10 + (*v - '0'), digits++;
					v++;
				}
				while (digits++ < 9)
					f *= 10;
				*nsec = f;
			}
		} else {
			if (*p != *v)
				return -1;
			p++;
			v++;
		}
	}
	if (*v)
		return -1;
	tm.tm_year = year - 1900;
	if (have_off) {
		*sec = (long long)timegm(&tm) - off;
	} else {
		tm.tm_isdst = -1;
		*sec = (long long)mktime(&tm);
	}
	return 0;
}

static int to_date(struct tmpl_call *c, json_t **a, int must)
{
	long long sec;
	long nsec;
	if (go_parse(json_string_value(a[0]), json_string_value(a[1]), &sec, &nsec)) {
		if (must)
			return tf_fail(c, "parsing time \"%s\" as \"%s\": cannot parse", json_string_value(a[1]),
				       json_string_value(a[0]));
		sec = -62135596800LL; /* Go's zero time */
		nsec = 0;
	}
	return tf_ret(c, make_time(c, sec, nsec));
}
int tfx_to_date(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return to_date(c, a, 0); }
int tfx_must_to_date(struct tmpl_call *c, json_t **a, size_t n) { (void)n; return to_date(c, a, 1); }

/* Go's time.ParseDuration, in nanoseconds: -1 with *ok 0 on a bad spelling. */
static long long parse_duration(const char *s, int *ok)
{
	*ok = 0;
	int neg = 0;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ok = 1;
		return 0;
	}
	if (!*s)
		return 0;
	long double total = 0;
	while (*s) {
		char *end;
		long double v = strtold(s, &end);
		if (end == s)
			return 0;
		s = end;
		static const struct {
			const char *u;
			long double ns;
		} U[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"μs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
		size_t i, best = 0, bl = 0;
		for (i = 0; i < sizeof U / sizeof U[0]; i++)
			if (has(s, U[i].u) && strlen(U[i].u) > bl)
				best = i, bl = strlen(U[i].u);
		if (!bl)
			return 0;
		total += v * U[best].ns;
		s += bl;
	}
	*ok = 1;
	return (long long)(neg ? -total : total);
}

int tfx_date_modify(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	int ok;
	long long d = parse_duration(json_string_value(a[0]), &ok);
	if (!is_time(c, a[1]))
		return tf_fail(c, "wrong type for value; expected time.Time");
	long long sec = (long long)json_integer_value(json_object_get(a[1], "sec"));
	long nsec = (long)json_integer_value(json_object_get(a[1], "nsec"));
	if (!ok) {
		if (!strcmp(c->name, "mustDateModify") || !strcmp(c->name, "must_date_modify"))
			return tf_fail(c, "time: invalid duration \"%s\"", json_string_value(a[0]));
		return tf_ret(c, make_time(c, sec, nsec));
	}
	long long total = sec * 1000000000LL + nsec + d;
	long long ns = total % 1000000000LL;
	if (ns < 0)
		ns += 1000000000LL;
	return tf_ret(c, make_time(c, (total - ns) / 1000000000LL, (long)ns));
}

/* Go's Duration.String(). */
static void duration_string(struct sbuf *b, long long d)
{
	if (d == 0) {
		sb_puts(b, "0s");
		return;
	}
	unsigned long long u = d < 0 ? (unsigned long long)(-d) : (unsigned long long)d;
	if (d < 0)
		sb_putc(b, '-');
	if (u < 1000000000ULL) {
		const char *unit = u < 1000 ? "ns" : u < 1000000 ? "µs" : "ms";
		unsigned long long div = u < 1000 ? 1 : u < 1000000 ? 1000 : 1000000;
		char frac[16] = "";
		if (div > 1 && u % div) {
			snprintf(frac, sizeof frac, ".%0*llu", div == 1000 ? 3 : 6, u % div);
			size_t l = strlen(frac);
			while (frac[l - 1] == '0')
				frac[--l] = 0;
		}
		sb_printf(b, "%llu%s%s", u / div, frac, unit);
		return;
	}
	unsigned long long h = u / 3600000000000ULL, m = u / 60000000000ULL % 60, s = u / 1000000000ULL % 60,
			   ns = u % 1000000000ULL;
	if (h)
		sb_printf(b, "%lluh", h);
	if (h || m)
		sb_printf(b, "%llum", m);
	char frac[16] = "";
	if (ns) {
		snprintf(frac, sizeof frac, ".%09llu", ns);
		size_t l = strlen(frac);
		while (frac[l - 1] == '0')
			frac[--l] = 0;
	}
	sb_printf(b, "%llu%ss", s, frac);
}

/* duration SECONDS: the seconds (an integer, or its text) as a Go Duration. */
int tfx_duration(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long sec = 0;
	/* sprig takes a string or an int64 only: a template's int constant and a values file's float64 are 0 */
	if (json_is_string(a[0]))
		sec = strtoll(json_string_value(a[0]), NULL, 10);
	struct sbuf b = {0};
	duration_string(&b, sec * 1000000000LL);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

int tfx_ago(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long sec;
	if (is_time(c, a[0]))
		sec = (long long)json_integer_value(json_object_get(a[0], "sec"));
	else if (json_is_integer(a[0]))
		sec = (long long)json_integer_value(a[0]);
	else
		sec = (long long)time(NULL);
	struct sbuf b = {0};
	duration_string(&b, ((long long)time(NULL) - sec) * 1000000000LL);
	int rc = tf_ret_str(c, b.s, b.len);
	free(b.s);
	return rc;
}

static int m_unix(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	return tf_ret_int(c, (long long)json_integer_value(json_object_get(c->recv, "sec")));
}
static int m_year(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)a, (void)n;
	struct zoned z;
	in_zone((long long)json_integer_value(json_object_get(c->recv, "sec")), 0, "Local", &z);
	return tf_ret_int(c, z.tm.tm_year + 1900);
}
static int m_format(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	return date_in_zone(c, json_string_value(a[0]), c->recv, "Local");
}
static const struct tmpl_func TIME_METHODS[] = {{"Unix", "", m_unix}, {"Year", "", m_year}, {"Format", "s", m_format}};
static const struct tobj_type TIME_TYPE = {"time.Time", TIME_METHODS, 3, print_time, "struct"};

/* durationRound: the largest whole unit of a duration (a Go duration string, or the time since a time). */
int tfx_duration_round(struct tmpl_call *c, json_t **a, size_t n)
{
	(void)n;
	long long d = 0;
	int ok;
	if (json_is_string(a[0])) {
		d = parse_duration(json_string_value(a[0]), &ok);
		if (!ok)
			d = 0;
	} else if (is_time(c, a[0])) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		d = ((long long)ts.tv_sec - (long long)json_integer_value(json_object_get(a[0], "sec"))) * 1000000000LL +
		    (ts.tv_nsec - (long)json_integer_value(json_object_get(a[0], "nsec")));
	}
	unsigned long long u = d < 0 ? (unsigned long long)(-d) : (unsigned long long)d;
	static const struct {
		unsigned long long ns;
		const char *unit;
	} U[] = {{3600ULL * 24 * 365 * 1000000000ULL, "y"}, {3600ULL * 24 * 30 * 1000000000ULL, "mo"},
		 {3600ULL * 24 * 1000000000ULL, "d"},	     {3600ULL * 1000000000ULL, "h"},
		 {60ULL * 1000000000ULL, "m"},		     {1000000000ULL, "s"}};
	char s[48];
	for (size_t i = 0; i < sizeof U / sizeof U[0]; i++)
		if (u > U[i].ns) {
			snprintf(s, sizeof s, "%llu%s", u / U[i].ns, U[i].unit);
			return tf_ret_str(c, s, strlen(s));
		}
	return tf_ret_str(c, "0s", 2);
}
