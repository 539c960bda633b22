/* clusterview_test.c — the dashboard's Deployment summaries, as a table of API server lists and what the page must show. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clusterview.h"

/* A Deployment named NAME with selector app=NAME, spec.replicas REPS and the given status JSON. */
static json_t *dep(const char *name, int reps, const char *status)
{
	char buf[2048];
	snprintf(buf, sizeof buf,
		 "{\"metadata\":{\"name\":\"%s\",\"generation\":2},\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":"
		 "{\"app\":\"%s\"}},\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"img/%s:1\"}]}}},"
		 "\"status\":%s}",
		 name, reps, name, name, status);
	json_error_t e;
	json_t *d = json_loads(buf, 0, &e);
	assert_non_null(d);
	return d;
}

static json_t *pod(const char *name, const char *app, const char *waiting)
{
	char buf[1024];
	snprintf(buf, sizeof buf,
		 "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
		 "\"status\":{\"phase\":\"%s\",\"containerStatuses\":[{\"ready\":%s,\"restartCount\":1,\"state\":%s}]}}",
		 name, app, waiting ? "Pending" : "Running", waiting ? "false" : "true",
		 waiting ? "{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}" : "{\"running\":{}}");
	json_t *p = json_loads(buf, 0, NULL);
	assert_non_null(p);
	return p;
}

static json_t *event(const char *object, const char *type, const char *reason, const char *message)
{
	return json_pack("{s:{s:s}, s:s, s:s, s:s, s:i, s:s}", "involvedObject", "name", object, "type", type, "reason",
			 reason, "message", message, "count", 3, "lastTimestamp", "2026-01-01T00:00:00Z");
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

#define READY "{\"observedGeneration\":2,\"replicas\":%d,\"updatedReplicas\":%d,\"readyReplicas\":%d}"

static void test_states_reasons_pods_events(void **state)
{
	(void)state;
	char ok[256], half[256];
	snprintf(ok, sizeof ok, READY, 1, 1, 1);
	snprintf(half, sizeof half, READY, 2, 2, 1);
	json_t *deps = json_array();
	json_array_append_new(deps, dep("svc-1", 1, ok));
	json_array_append_new(deps, dep("svc-10", 2, half));
	json_array_append_new(deps, dep("web", 1,
					"{\"observedGeneration\":2,\"conditions\":[{\"type\":\"Progressing\",\"status\":\"False\","
					"\"reason\":\"ProgressDeadlineExceeded\",\"message\":\"timed out\"}]}"));
	json_array_append_new(deps, dep("off", 0, "{\"observedGeneration\":2}"));
	json_t *pods = json_array();
	json_array_append_new(pods, pod("svc-10-abc-2", "svc-10", "ImagePullBackOff"));
	json_array_append_new(pods, pod("svc-1-abc-1", "svc-1", NULL));
	json_array_append_new(pods, pod("svc-10-abc-1", "svc-10", NULL));
	json_array_append_new(pods, pod("svc-1-foo-x", "other", NULL)); /* named like svc-1's, selector says no */
	json_t *events = json_array();
	json_array_append_new(events, event("web-abc-1", "Warning", "FailedScheduling", "0/3 nodes"));
	json_array_append_new(events, event("svc-10", "Normal", "ScalingReplicaSet", "scaled up"));
	json_array_append_new(events, event("webfront", "Warning", "BackOff", "not web's"));
	json_t *source = json_pack("{s:b}", "svc-1", 1);

	json_t *out = clusterview_deployments(deps, pods, source, events);
	assert_int_equal(json_array_size(out), 4);
	static const struct {
		const char *name, *state, *reason, *mode;
		size_t pods, events;
	} want[] = {
		{"svc-1", "running", NULL, "source", 1, 0},
		{"svc-10", "progressing", "ImagePullBackOff", "ci", 2, 1},
		{"web", "failed", "ProgressDeadlineExceeded", "ci", 0, 1},
		{"off", "stopped", NULL, "ci", 0, 0},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		json_t *d = json_array_get(out, i);
		assert_string_equal(str(d, "name"), want[i].name);
		assert_string_equal(str(d, "state"), want[i].state);
		if (want[i].reason)
			assert_string_equal(str(d, "reason"), want[i].reason);
		else
			assert_null(str(d, "reason"));
		assert_string_equal(str(d, "mode"), want[i].mode);
		assert_int_equal(json_array_size(json_object_get(d, "pods")), want[i].pods);
		assert_int_equal(json_array_size(json_object_get(d, "events")), want[i].events);
	}
	/* pods keep the API server's order; the failed one says why */
	json_t *p10 = json_object_get(json_array_get(out, 1), "pods");
	assert_string_equal(str(json_array_get(p10, 0), "name"), "svc-10-abc-2");
	assert_string_equal(str(json_array_get(p10, 0), "reason"), "ImagePullBackOff");
	assert_string_equal(str(json_array_get(out, 2), "message"), "timed out");
	json_t *ev = json_array_get(json_object_get(json_array_get(out, 2), "events"), 0);
	assert_string_equal(str(ev, "reason"), "FailedScheduling");
	assert_int_equal(json_integer_value(json_object_get(ev, "count")), 3);
	assert_string_equal(str(json_array_get(out, 0), "image"), "img/svc-1:1");
	json_decref(out);
	json_decref(deps);
	json_decref(pods);
	json_decref(events);
	json_decref(source);
}

static void test_empty_lists(void **state)
{
	(void)state;
	json_t *out = clusterview_deployments(NULL, NULL, NULL, NULL);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_reasons_pods_events),
		cmocka_unit_test(test_empty_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
