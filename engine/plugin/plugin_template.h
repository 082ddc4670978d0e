/* plugin_template.h — a new plugin project from the template (`sluice
 * plugins new`): every regular file of the template directory, with
 * "linecount" replaced by the new plugin's name in file names and
 * contents; a file named "gitignore" is written as ".gitignore".
 *
 * The template is the linecount plugin (plugins/linecount/linecount.c)
 * and its project files (plugins/linecount/kit/), installed into
 * $(pkgdatadir)/plugin-template.
 *
 * All or nothing: the project is written into a temporary directory
 * beside its destination and renamed into place at the end.
 *
 * No shared state: any thread. */
#ifndef SLUICE_PLUGIN_TEMPLATE_H
#define SLUICE_PLUGIN_TEMPLATE_H

#include "util/error.h"

/* The template directory for this process: the build tree's
 * plugins/linecount/kit when sluice runs from its build tree, else the
 * installed one (found beside a staged install too). Caller frees. */
char *plugin_template_dir(void);

/* Writes the project for plugin `name` (a valid plugin name: [a-z0-9_]+)
 * from `template_dir` into `dest`, which must not exist or be an empty
 * directory. With `run_autoreconf`, runs `autoreconf -fi` in it first (a
 * child process), so the project starts at ./configure. Returns 0, or -1
 * with err naming the file or the step and the cause; then nothing is
 * left at `dest`. */
int plugin_template_write(const char *template_dir, const char *name, const char *dest,
                          int run_autoreconf, sl_error *err);

#endif
