/* adhoc.h — one plugin without a configuration file (`sluice plugins run`
 * and `sluice plugins check`): the intake of a one-rule configuration made
 * in memory, so its jobs take the very path of `sluice process` (the
 * runner, core/job.c, the job's error rules).
 *
 * The rule, named "adhoc", matches any input, runs the plugin with the
 * given options in this process (isolation: none, so `plugins check` sees
 * run() sharing state) and writes to out/{run_id}/{name} below a private working
 * directory (or where a job's --output says); no run records, no
 * notification targets.
 *
 * Ownership: an adhoc owns its intake and its working directory, which
 * adhoc_close() removes with everything in it. Threading: open and close
 * on one thread; jobs may run on several (the runner is thread-safe). */
#ifndef SLUICE_ADHOC_H
#define SLUICE_ADHOC_H

#include <jansson.h>

#include "core/job.h"
#include "intake/intake.h"
#include "util/strbuf.h"

typedef struct adhoc {
    intake *in;
    char *workdir; /* absolute; removed by adhoc_close */
    char *name;    /* the plugin's name */
} adhoc;

/* True when `plugin` names a file (has a '/' or ends in .so or .la)
 * rather than a plugin to look up along the search path. */
int adhoc_is_path(const char *plugin);

/* Opens the intake for `plugin` (a path, loaded as that exact file, or a
 * name) bound with `options` (a JSON object, borrowed). Returns 0, or -1
 * with `why` holding every error on one line (loading, the options
 * against the schema, init). */
int adhoc_open(adhoc *a, const char *plugin, const json_t *options, strbuf *why);

/* A job spec for the plain file `input` (borrowed, must outlive the job);
 * `output` (may be NULL) is --output. */
job_spec adhoc_spec(const adhoc *a, const char *input, const char *output);

/* The working directory's path for `leaf` (caller frees). */
char *adhoc_path(const adhoc *a, const char *leaf);

void adhoc_close(adhoc *a);

#endif
