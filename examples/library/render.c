/* render.c — libappdeploy example: prints DIR's rendered set as `appdeploy render DIR -o -` does.
 *
 *   cc render.c $(pkg-config --cflags --libs appdeploy) -o render
 *   ./render DIR [--images FILE|URL] [-f VARS.yaml]... [-v key=value]... [-n NS] [--source NAME[=on|off]]...
 */
#include <appdeploy.h>
#include <stdio.h>
#include <string.h>

/* Applies one flag and its value to the set. Returns 0, or -1 after saying why. */
static int flag(appdeploy_set *s, const char *name, const char *value)
{
	appdeploy_error *err = NULL;
	int rc = -1;
	if (!strcmp(name, "--images"))
		rc = appdeploy_set_images(s, value);
	else if (!strcmp(name, "-f"))
		rc = appdeploy_set_values_file(s, value);
	else if (!strcmp(name, "-v"))
		rc = appdeploy_set_value(s, value, &err);
	else if (!strcmp(name, "-n"))
		rc = appdeploy_set_namespace(s, value);
	else if (!strcmp(name, "--source"))
		rc = appdeploy_set_source(s, value, &err);
	else
		fprintf(stderr, "render: unknown flag %s\n", name);
	if (err)
		fprintf(stderr, "render: %s\n", err->message);
	appdeploy_error_free(err);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc % 2) {
		fprintf(stderr, "usage: %s DIR [--images FILE] [-f VARS] [-v key=value] [-n NS] [--source NAME]\n", argv[0]);
		return 2;
	}
	if (appdeploy_global_init()) { /* once per process, before any thread */
		fprintf(stderr, "render: libcurl did not start\n");
		return 1;
	}
	int rc = 1;
	appdeploy_set *s = appdeploy_set_new(argv[1]);
	for (int i = 2; s && i < argc; i += 2)
		if (flag(s, argv[i], argv[i + 1])) {
			appdeploy_set_free(s);
			appdeploy_global_cleanup();
			return 2;
		}
	appdeploy_error *err = NULL;
	appdeploy_objects *objs = s ? appdeploy_render(s, &err) : NULL;
	if (!objs) {
		/* err->file, err->line and err->col say where, for an editor to jump to */
		fprintf(stderr, "render: %s\n", err ? err->message : "out of memory");
	} else {
		char *stream = appdeploy_objects_stream(objs);
		if (stream && fputs(stream, stdout) >= 0)
			rc = 0;
		appdeploy_free(stream);
	}
	appdeploy_error_free(err);
	appdeploy_objects_free(objs);
	appdeploy_set_free(s);
	appdeploy_global_cleanup();
	return rc;
}
