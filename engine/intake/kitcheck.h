/* kitcheck.h — `sluice plugins check`: a plugin file held against the
 * contract of sluice/plugin.h, step by step, the way the engine uses it:
 *
 *   exports         the file's dynamic symbols: sluice_plugin_descriptor only
 *   load            libltdl, the ABI version, the name, a complete descriptor,
 *                   an options schema that is a JSON object
 *   options schema  only keywords the engine supports, well formed
 *   options         the example options (given, else the schema's
 *                   examples[0], else {}) valid against the schema
 *   init            init() accepts them (through the rule binding)
 *   empty input     a job on an empty file ends cleanly
 *   input           a job on the given file succeeds
 *   concurrent      two jobs on the same input, on two threads of the worker
 *                   pool with the one state: the same outcome, byte for byte;
 *                   each job's first read waits for the other's (a gate), so
 *                   both run() calls are in flight together
 *
 * Every job step also holds the plugin to the job's error rules: no write
 * after the job failed, no SLUICE_OK after host->error(), no SLUICE_ERROR
 * without a reason.
 *
 * One thread calls kitcheck_run; the concurrent step uses the pool. */
#ifndef SLUICE_KITCHECK_H
#define SLUICE_KITCHECK_H

#include <jansson.h>

typedef struct kitcheck_opts {
    const char *path;      /* the plugin file (NAME.so or NAME.la) */
    const json_t *options; /* NULL: the schema's examples[0], else {} */
    const char *input;     /* a file the plugin must process; NULL: none */
} kitcheck_opts;

/* One step's outcome: ok, its name, what was found (one line). */
typedef void (*kitcheck_report_fn)(void *ud, int ok, const char *step, const char *detail);

/* Runs every step that the earlier ones allow. Returns the number of
 * violations (0: the plugin keeps the contract). */
int kitcheck_run(const kitcheck_opts *o, kitcheck_report_fn fn, void *ud);

#endif
