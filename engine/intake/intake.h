/* intake.h — what every intake mode shares: the context built from one
 * configuration file (configuration, plugin host, the rules' plugin
 * instances, storage, the runner with its notifier and run store, the
 * metrics), and the one path from an event document to jobs.
 *
 * `run`, `process`, `poll`, `serve`, `lambda` and `watch` all open one
 * intake at start and close it at the end; nothing else creates these
 * parts. Opening is also where they clean up after killed predecessors
 * (INTAKE_RECOVER).
 *
 * Ownership: the intake owns every part and frees them in the right order
 * (plugin instances before their libraries, the runner before the
 * storage it writes records through). Threading: the parts are
 * thread-safe; intake_open and intake_close belong to one thread. */
#ifndef SLUICE_INTAKE_H
#define SLUICE_INTAKE_H

#include <jansson.h>
#include <stddef.h>

#include "config/config.h"
#include "core/event.h"
#include "core/job.h"
#include "intake/metrics.h"
#include "intake/runner.h"
#include "plugin/plugin_bindings.h"
#include "plugin/plugin_host.h"
#include "storage/storage.h"
#include "util/diag.h"
#include "util/error.h"
#include "util/strbuf.h"

typedef struct intake {
    config *cfg;
    plugin_host *host;         /* INTAKE_PLUGINS */
    plugin_bindings *plugins;  /* INTAKE_PLUGINS */
    storage *storage;          /* INTAKE_STORAGE */
    runner *runner;            /* INTAKE_JOBS */
    metrics *metrics;          /* always: every mode counts its jobs */
} intake;

/* What to open besides the configuration. */
enum {
    INTAKE_PLUGINS = 1 << 0,    /* load and bind every rule's plugin */
    INTAKE_STORAGE = 1 << 1,    /* the configured storage backend */
    INTAKE_JOBS = INTAKE_PLUGINS | INTAKE_STORAGE | 1 << 2, /* + the runner */
    INTAKE_SHADOWING = 1 << 3,  /* warn about rules that can never match */
    /* with INTAKE_STORAGE: clean up after this host's killed processes
     * first (intake/janitor.h: janitor_recover): their RUNNING records
     * become ABANDONED, their temporary files go. Every mode that runs
     * jobs asks for it: run, process, poll, serve, watch, lambda, and
     * runs retry. */
    INTAKE_RECOVER = 1 << 4,
};

/* Which part could not be opened. */
typedef enum intake_stage {
    INTAKE_OK = 0,
    INTAKE_FAILED_CONFIG,   /* the file, or a rule's plugin binding: diagnostics */
    INTAKE_FAILED_PLUGINS,  /* the plugin host itself (libltdl): err */
    INTAKE_FAILED_STORAGE,  /* err */
} intake_stage;

/* Everything opening said: diagnostics (warnings too), and on failure the
 * stage and, for host and storage failures, the error. */
typedef struct intake_report {
    intake_stage failed;
    diag_list diags;
    sl_error err;
} intake_report;

/* Opens what `what` asks for from the configuration at `config_path`.
 * Returns NULL on failure; `report` says why in every case (free it with
 * intake_report_free). */
intake *intake_open(const char *config_path, unsigned what, intake_report *report);
/* The same for a configuration made in memory (config_load_text: `name`
 * in messages, relative paths against `dir`). `plugin_file`, when not
 * NULL, is a plugin file loaded first (plugin_host_load_file), so that a
 * rule naming its plugin binds that very file (`sluice plugins run` and
 * `check` on PATH.so). A failure to load it is INTAKE_FAILED_PLUGINS. */
intake *intake_open_text(const char *name, const char *dir, const char *text,
                         const char *plugin_file, unsigned what, intake_report *report);
/* The failure as one line: every error diagnostic "file:line:col: msg"
 * joined with "; ", or the error message. */
void intake_report_summary(const intake_report *r, strbuf *out);
void intake_report_free(intake_report *r);
void intake_close(intake *in);

/* A job spec with the context's parts filled in; the caller adds the
 * input and the per-job settings. */
job_spec intake_spec(const intake *in);

/* How to run an event document's jobs. */
typedef struct intake_run {
    int workers;          /* jobs at once (>= 1) */
    int force;            /* --force: duplicates run again */
    int show_progress;    /* draw progress (one job at a time only) */
    int print_outputs;    /* print each output location on stdout */
    int collect_outputs;  /* fill intake_outcome.outputs */
    const char *origin;   /* for log lines: "request", "spool ID", a message id */
    long long deadline_ms; /* epoch ms: jobs are cut off then (job_spec); 0: none */
} intake_run;

/* What became of an event document's jobs. */
typedef struct intake_outcome {
    size_t succeeded, failed, skipped;
    size_t failed_to_retry;   /* failures other than an object gone since the event */
    runner_totals totals;     /* including notification and record failures */
    json_t *outputs;          /* collect_outputs: the locations, in event order */
    strbuf failures;          /* "input: message" of the first few failures, "; "-joined */
} intake_outcome;

/* How many failures intake_outcome.failures names (the rest are counted). */
#define INTAKE_NAMED_FAILURES 3

/* The one path from an event to jobs: parses `text` (any shape of
 * core/event.h), acknowledges what needs no job (test events, removals:
 * logged and counted as skipped), runs a job for every object through the
 * runner, and tallies the outcome. Returns 0, or -1 with err set (kind
 * SL_ERR_INPUT) when the text is not an event; `out` is filled in every
 * case (free it with intake_outcome_free). */
int intake_run_event(intake *in, const char *text, size_t len, const intake_run *how,
                     intake_outcome *out, sl_error *err);
void intake_outcome_free(intake_outcome *out);

/* For mode code that checks an event before accepting it: the number of
 * records that need a job and that are acknowledged only, logging each
 * acknowledged one. */
void intake_count_records(const event_batch *batch, size_t *jobs, size_t *acknowledged);

#endif
