/* janitor.h — what a killed sluice leaves behind, found and cleaned up
 * (docs/janitor.md):
 *
 *   - run records: this host's RUNNING records whose process is gone
 *     become ABANDONED (core/runstore.h: runstore_reconcile);
 *   - temporary files (".sluice-tmp.*", storage.h) of local writes, in the
 *     directories the configuration writes to: each rule's output up to
 *     its first placeholder (on local storage, or a plain path), and the
 *     run records' directory;
 *   - S3 multipart uploads a job started and left open, under each rule's
 *     S3 output prefix: only those the run store holds a mark of (a job
 *     marks each upload it starts), so an upload someone else started
 *     under the same prefix is never touched.
 *
 * What is certain is done at the start of every mode that runs jobs
 * (intake_open with INTAKE_RECOVER): the records, and temporaries whose
 * writer on this host is gone. `sluice janitor` also removes what can only
 * be judged by age, once older than its threshold: temporaries named by an
 * older sluice (no writer in the name) or written on another host, and
 * marked uploads whose writer is not a live process of this host.
 *
 * Threading: runs on the caller's thread, one call at a time per intake. */
#ifndef SLUICE_JANITOR_H
#define SLUICE_JANITOR_H

#include <stddef.h>

#include "intake/intake.h"

typedef enum janitor_kind {
    JANITOR_RECORD = 0, /* a run record: name is the run id */
    JANITOR_TEMP,       /* a temporary file: name is its path */
    JANITOR_UPLOAD,     /* an open multipart upload: name is s3://bucket/key */
} janitor_kind;

typedef enum janitor_verdict {
    JANITOR_CLEANED = 0, /* abandoned, removed, aborted (or would be: dry run) */
    JANITOR_KEPT,        /* left alone, `why` says why */
    JANITOR_FAILED,      /* should have been cleaned but could not be */
} janitor_verdict;

/* One thing the janitor looked at (strings borrowed for the call). */
typedef struct janitor_item {
    janitor_kind kind;
    janitor_verdict verdict;
    const char *name;
    const char *why;       /* "process 42 on etl-1 has ended", "3 d old", an error */
    const char *upload_id; /* JANITOR_UPLOAD */
} janitor_item;

typedef void (*janitor_fn)(void *ud, const janitor_item *it);

typedef struct janitor_options {
    int by_age;             /* also clean what only its age can judge (sluice janitor) */
    long long older_than_s; /* ... when at least this old */
    int uploads;            /* look at open multipart uploads */
    int dry_run;            /* change nothing: say what would be done */
    janitor_fn report;      /* every item (may be NULL) */
    void *ud;
} janitor_options;

typedef struct janitor_totals {
    size_t cleaned, kept, failed;
    size_t unreadable; /* places that could not be looked at */
} janitor_totals;

/* Looks at everything above for `in` (opened with INTAKE_STORAGE at
 * least) and cleans what `o` allows; adds to *t. Places that cannot be
 * looked at are logged and counted in t->unreadable; the rest still runs. */
void janitor_run(intake *in, const janitor_options *o, janitor_totals *t);

/* At a mode's start: what is certain, each cleaned item logged. */
void janitor_recover(intake *in);

#endif
