/* fuzz_config.c — libFuzzer target for reloader's config loading (reloader/config.c): a YAML config
 * file, RELOADER_* variables and flags, all from the input. Never a crash or a leak; every outcome
 * is 0 (ready), 1 (--help/--version) or 2 (a reported error).
 *
 * Input: YAML, then a line "%%", then NAME=value lines (RELOADER_ is prepended to NAME), then "%%",
 * then one flag per line. Paths into /dev, /proc and /sys are dropped: reading /dev/zero or a
 * terminal is not a config bug. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define MAX_WORDS 32

static char yaml_path[64];
extern char **environ;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(yaml_path, sizeof yaml_path, "/tmp/fuzz_config.%d.yaml", (int)getpid());
	fd = open(yaml_path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int unsafe(const char *s)
{
	return strstr(s, "dev") || strstr(s, "proc") || strstr(s, "sys") || strstr(s, "stdin");
}

/* Removes every RELOADER_* variable (the last run's, and the cache dir config_load exports). */
static void clear_env(void)
{
	for (int again = 1; again;) {
		again = 0;
		for (char **e = environ; *e; e++)
			if (!strncmp(*e, "RELOADER_", 9)) {
				char name[256];
				const char *eq = strchr(*e, '=');

				snprintf(name, sizeof name, "%.*s", (int)(eq ? eq - *e : (long)strlen(*e)), *e);
				unsetenv(name);
				again = 1;
				break;
			}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *parts[3] = {NULL, NULL, NULL}, *p;
	char *argv[MAX_WORDS + 4];
	int argc = 0, rc, out, err, devnull;
	struct config cfg;
	FILE *f;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	parts[0] = text;
	for (int i = 1; i < 3; i++)
		if (parts[i - 1] && (p = strstr(parts[i - 1], "\n%%\n"))) {
			*p = 0;
			parts[i] = p + 4;
		}
	if (unsafe(text) && strstr(text, "token_file")) {
		free(text);
		return 0;
	}
	if (!(f = fopen(yaml_path, "w"))) {
		free(text);
		return 0;
	}
	fputs(parts[0], f);
	fclose(f);

	clear_env();
	for (char *line = parts[1] ? strtok(parts[1], "\n") : NULL; line; line = strtok(NULL, "\n")) {
		char name[128], *eq = strchr(line, '=');

		if (!eq || eq == line || unsafe(eq + 1))
			continue;
		snprintf(name, sizeof name, "RELOADER_%.*s", (int)(eq - line), line);
		if (!strchr(name, '='))
			setenv(name, eq + 1, 1);
	}
	argv[argc++] = "reloader";
	argv[argc++] = "-c";
	argv[argc++] = yaml_path;
	for (char *line = parts[2] ? strtok(parts[2], "\n") : NULL; line && argc < MAX_WORDS; line = strtok(NULL, "\n"))
		if (!unsafe(line))
			argv[argc++] = line;
	argv[argc] = NULL;

	/* Errors and --help go to /dev/null while loading (a crash still leaves its artifact). */
	fflush(stdout);
	fflush(stderr);
	out = dup(1);
	err = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 1);
	dup2(devnull, 2);
	rc = config_load(&cfg, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	close(devnull);
	if (rc < 0 || rc > 2)
		abort();
	if (rc == 0 && (!cfg.dir || !cfg.run || !cfg.run[0]))
		abort();
	config_free(&cfg);
	clear_env();
	free(text);
	return 0;
}
