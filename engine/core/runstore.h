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
 *   BASE/_running/<host>/<run_id>.json
 *                               a job of <host> in flight: {"run_id",
 *                               "record" (its key), "process"}
 *   BASE/_uploads/<sha256>.json one open S3 multipart upload a job started:
 *                               {"bucket", "key", "upload_id", "run_id",
 *                               "process", "started_at"}
 * BASE is the directory runs/ beside the local storage root by default;
 * the configuration's `runs:` section moves it (see docs/notifications.md):
 *   runs: {dir: /var/lib/sluice/runs}
 *   runs: {location: "s3://ops-bucket/sluice/runs/{date}/{run_id}.json"}
 *   runs: {enabled: false}
 * {date} is the run's UTC date, {run_id} the run id, {rule} the rule name.
 *
 * Crash consistency. A job's record is written when the job starts
 * (state RUNNING, with detail.pid and detail.process: the process's tag,
 * util/procid.h) and replaced, at the same key and atomically (the
 * storage's writer), when it ends. Its _running mark is written before the
 * RUNNING record and removed after the final one, so a process starting
 * on the host finds the jobs its predecessors left unfinished by listing
 * one small folder instead of reading every record: runstore_reconcile()
 * turns those whose process is gone into ABANDONED. A crash between the
 * steps leaves a mark whose record is missing or final: reconciling just
 * drops it. A job that succeeded writes its duplicate marker (with the
 * final event) before its final record, so a crash between those two
 * leaves a RUNNING record that reconciling restores to the marker's event
 * (the mark names the marker), and a redelivered event is already a
 * duplicate: the job never runs twice for that. Marks of other hosts are
 * never read.
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
 * first the duplicate marker of its rule, output template, input and etag,
 * holding the event too. Returns 0 or -1. */
int runstore_write(runstore *rs, const json_t *event, const char *done_output, sl_error *err);
/* A job starts: its _running mark, then `event` (a RUNNING job-state
 * event, notify.h) as its record. done_output: the output template its
 * runstore_finish() will pass when it succeeds (NULL: none), so the mark
 * can name the duplicate marker reconciling looks for. 0 or -1 (nothing of
 * the job's changes). */
int runstore_start(runstore *rs, const json_t *event, const char *done_output, sl_error *err);
/* A job started with runstore_start() ends: runstore_write(), then the
 * mark goes (a mark that cannot be removed is dropped by the next
 * reconcile, so that is not an error). 0 or -1. */
int runstore_finish(runstore *rs, const json_t *event, const char *done_output, sl_error *err);

/* Called for each RUNNING record reconciling turned ABANDONED (borrowed:
 * the record as written, or as it would be with dry_run). */
typedef void (*runstore_abandoned_fn)(void *ud, const json_t *record);
/* Finds this host's jobs in flight (the _running marks of procid_self()'s
 * host) and judges each record's process (procid_judge): one that is gone
 * gets its duplicate marker's event when it has one for this run (its job
 * ended, see above), else state ABANDONED and detail.abandoned {at, reason, by} (every other
 * field kept), its mark removed; a live one, or one that cannot be judged,
 * is left alone. With dry_run nothing is written. Returns the number
 * abandoned, or -1 with err set when the marks cannot be listed; a single
 * record that cannot be read or written is logged and left for next time. */
int runstore_reconcile(runstore *rs, int dry_run, runstore_abandoned_fn fn, void *ud,
                       sl_error *err);

/* Marks of open multipart uploads (storage.h's upload hooks): `sluice
 * janitor` aborts only uploads it finds a mark of, so that an upload
 * someone else started under the same prefix is never touched. 0 or -1. */
int runstore_upload_mark(runstore *rs, const char *bucket, const char *key,
                         const char *upload_id, const char *run_id, sl_error *err);
int runstore_upload_unmark(runstore *rs, const char *bucket, const char *key,
                           const char *upload_id, sl_error *err);
/* 1 and *out (new reference), 0 no mark, -1 the store could not be read. */
int runstore_upload_find(runstore *rs, const char *bucket, const char *key,
                         const char *upload_id, json_t **out, sl_error *err);

/* Where a store keeps its files, for the janitor's sweep of temporaries:
 * the directory of a dir-form store (*dir), or the bucket and key prefix
 * of a location (*bucket, *prefix); the others NULL. Borrowed. */
void runstore_place(const runstore *rs, const char **dir, const char **bucket,
                    const char **prefix);

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
