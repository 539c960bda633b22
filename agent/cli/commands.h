/* commands.h — the appdeploy subcommands; each lives in its own cmd_*.c file.
 *
 * Layer agent/cli: main.c and one file per subcommand — parse flags, call the layers below, print,
 * choose the exit status. May call every other layer; nothing calls it. */
#ifndef SM_COMMANDS_H
#define SM_COMMANDS_H

/* Each takes the arguments after the subcommand name (argv[0] is the subcommand) and
 * returns the process exit status: 0 ok, 1 failure, 2 usage error. */
int cmd_template(int argc, char **argv); /* cmd_template.c: execute template files verbatim */
int cmd_render(int argc, char **argv);   /* cmd_render.c: render a manifest folder */
int cmd_diff(int argc, char **argv);     /* cmd_sync.c: what apply would change */
int cmd_apply(int argc, char **argv);    /* cmd_sync.c: sync a namespace */
int cmd_serve(int argc, char **argv);    /* cmd_serve.c: the dashboard */
int cmd_agent(int argc, char **argv);    /* cmd_agent.c: the deploy manager inside the cluster */
int cmd_dev(int argc, char **argv);      /* cmd_dev.c: push local source into the pod (synced source mode) */
int cmd_up(int argc, char **argv);       /* cmd_up.c: apply the set and install the agent in the cluster */
int cmd_down(int argc, char **argv);     /* cmd_down.c: remove the agent (and with --all the set) */

/* `appdeploy template --chart ...` (chart_cmd.c): exit status 0, 1 failure, 2 usage. */
int cmd_template_chart(int argc, char **argv);

#endif
