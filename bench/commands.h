/*
 * commands.h - the subcommands of the dembench command line.  Each
 * returns the process exit code (util.h) and prints results on stdout,
 * diagnostics on stderr.
 */
#ifndef DEMBENCH_COMMANDS_H
#define DEMBENCH_COMMANDS_H

int cmd_adapt(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_one(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_methods(int argc, char **argv);
int cmd_grad(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);

#endif
