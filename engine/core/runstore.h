/* runstore.h — run records: every job's job-state event kept as one JSON
 * document, so `sluice runs` can list, show and retry past runs; and the
 * "done" markers that make a redelivered event for an object already
 * processed a duplicate.
 *
 * Layout, on any storage backend (through storage.h):
 *   BASE/{date}/{run_id}.json   the record: the job-state event, as sent
 *   BASE/_done/<sha256>.json    one marker per (rule, its output template,
 *                               input, etag, archive member when the job
 *                               read one) that SUCCEEDED:
 *                               {"run_id", "rule", "output", "input", "etag",
 *                                "member" (a member's job only)}
 *   BASE/_expect/<rule>/<every>-<period>.json
 *                               the verdict on one period of an expected
 *                               arrival (intake/expect.h): ARRIVED or MISSING
 * BASE is the directory runs/ beside the local storage root by default;
 * the configuration's `runs:` section moves it (see docs/notifications.md):
 *   runs: {dir: /var/lib/sluice/runs}
 *   runs: {location: "s3://ops-bucket/sluice/runs/{date}/{run_id}.json"}
 *   runs: {enabled: false}
 * {date} is the run's UTC date, {run_id} the run id, {rule} the rule name.
 *
 * A store is thread-safe as far as its storage backend is. */
#ifndef SLUICE_RUNSTORE_H
#define SLUICE_RUNSTORE_H

#include <jansson.h>

#include "config/config.h"
#include "core/runid.h"
#include "storage/storage.h"
#include "util/error.h"

typedef struct runstore runstore;

/* The store the configuration names. `backend` is the configured storage
 * (borrowed), used for s3:// locations; NULL: opened here when needed.
 * Returns NULL with *disabled set when `runs: {enabled: false}`, NULL with
 * err set when the store cannot be used. */
runstore *runstore_open(const config *cfg, storage *backend, int *disabled, sl_error *err);
void runstore_close(runstore *rs);
/* Where records go, for messages: "/srv/etl/runs" or "s3://ops/sluice/runs/". */
const char *runstore_where(const runstore *rs);

/* Writes the record of `event` (a job-state event). With done_output (a
 * SUCCEEDED job that wrote its rule's output: that rule's output template)
 * also the duplicate marker of its rule, output template, input and etag.
 * Returns 0 or -1. */
int runstore_write(runstore *rs, const json_t *event, const char *done_output, sl_error *err);
/* Looks the marker up: 1 (the run that SUCCEEDED is copied to prev), 0
 * none, -1 the store could not be read. A rule is the same rule when its
 * name and its output template are: moving a rule's output is reason
 * enough to process an object again. `member`: the archive member a
 * `members_as: jobs` job read, NULL for a whole object. */
int runstore_find_done(runstore *rs, const char *rule_name, const char *rule_output,
                       const char *input, const char *member, const char *etag,
                       char prev[RUNID_MAX], sl_error *err);
/* The record of one run (new reference). Returns 0, or -1 with err kind
 * SL_ERR_INPUT when there is no such run. */
int runstore_get(runstore *rs, const char *run_id, json_t **out, sl_error *err);

/* Calls fn with every record (borrowed) started at or after since_ms (0:
 * all), in the order of the store's keys; fn returns non-zero to stop.
 * Unreadable records are reported through `bad` (may be NULL) and skipped.
 * Returns 0 or -1. */
typedef int (*runstore_fn)(void *ud, json_t *record);
typedef void (*runstore_bad_fn)(void *ud, const char *key, const char *why);
int runstore_list(runstore *rs, long long since_ms, runstore_fn fn, runstore_bad_fn bad,
                  void *ud, sl_error *err);

/* The verdict on a period of an expected arrival, by name
 * ("<rule>/<every>-<period>"): 1 and *out (new reference), 0 none yet, -1
 * the store could not be read (err). */
int runstore_expect_get(runstore *rs, const char *name, json_t **out, sl_error *err);
/* Writes the verdict (atomically, through the storage's writer). 0 or -1. */
int runstore_expect_put(runstore *rs, const char *name, const json_t *verdict, sl_error *err);


#endif
