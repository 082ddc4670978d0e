/* spool.h — a durable on-disk queue of accepted events, so that `sluice
 * serve` can answer 202 before the jobs ran without promising anything it
 * could lose in a crash.
 *
 * Layout of the spool directory:
 *   DIR/.lock         held (flock) by the one process using the spool
 *   DIR/tmp/ID.json   being written; never acknowledged, removed on open
 *   DIR/ID.json       accepted: written, fsync'ed, renamed in, directory
 *                     fsync'ed — only then does spool_put() return 0
 *   DIR/ID.attempts   how often ID was started (written before its
 *                     handler runs, removed with the entry): starts without
 *                     an end are deaths of the process while running it.
 *                     "N\n", then the tag of each process that started it
 *                     (util/procid.h), one a line, oldest first
 *   DIR/quarantine/ID.json
 *                     an entry started max_attempts times without an end:
 *                     moved aside (logged, and handed to the quarantine
 *                     callback: serve notifies and records it) instead of
 *                     being handed to the handler again, so an event whose
 *                     job kills the process cannot crash-loop it ahead of
 *                     the events behind it; moved back by hand to run again
 * IDs sort in arrival order. Once started, each entry is a task of a
 * worker pool (util/workers.h) that hands it to the handler and deletes it
 * once the handler returned (its jobs finished, whatever their outcome). Entries left by a previous process (crash,
 * kill -9, stop with a backlog) are queued again by spool_open(): an
 * accepted event runs at least once. */
#ifndef SLUICE_SPOOL_H
#define SLUICE_SPOOL_H

#include <stddef.h>

#include "util/error.h"

#define SPOOL_ID_MAX 48
#define SPOOL_MAX_ATTEMPTS 3         /* the default of spool_set_max_attempts */
#define SPOOL_QUARANTINE "quarantine" /* below the spool directory */

typedef struct spool spool;

/* Runs the jobs of one spooled event (data is NUL-terminated). */
typedef void (*spool_handler)(void *ud, const char *id, const char *data, size_t len);

/* Creates DIR (and DIR/tmp) when missing, takes the lock, clears DIR/tmp
 * and queues the entries already there. NULL on error (err filled),
 * notably when another process holds the spool. */
spool *spool_open(const char *dir, sl_error *err);

/* Writes one entry durably; fills `id`. 0, or -1 with err filled. */
int spool_put(spool *sp, const void *data, size_t len, char id[SPOOL_ID_MAX], sl_error *err);

/* Starts without an end after which an entry is quarantined (before
 * spool_start; n < 1: the default, SPOOL_MAX_ATTEMPTS). */
void spool_set_max_attempts(spool *sp, int n);

/* An entry just moved to quarantine/ (everything borrowed for the call). */
typedef struct spool_quarantined {
    const char *id;
    int attempts;               /* starts without an end */
    int max_attempts;
    const char *path;           /* where it lies now: DIR/quarantine/ID.json,
                                   absolute when DIR could be resolved */
    const char *data;           /* its bytes, NUL-terminated; NULL when they
                                   could not be read back */
    size_t len;
    const char *const *processes; /* tags of the processes that started it
                                     (util/procid.h), oldest first: those
                                     the attempts file named */
    size_t n_processes;
} spool_quarantined;

/* Called on the worker's thread after an entry was quarantined (before
 * spool_start). */
typedef void (*spool_quarantine_fn)(void *ud, const spool_quarantined *q);
void spool_on_quarantine(spool *sp, spool_quarantine_fn fn, void *ud);

/* Starts a pool of `workers` threads running the handler on queued
 * entries, oldest first. Returns the number of threads started (0: none
 * could be, or the spool was started or stopped before). */
int spool_start(spool *sp, int workers, spool_handler fn, void *ud);

/* Entries waiting or being handled. */
size_t spool_pending(spool *sp);
/* Entries being handled right now. */
size_t spool_running(spool *sp);

/* Stops the workers after the entries they are handling; what is still
 * waiting stays on disk for the next start. Idempotent. */
void spool_stop(spool *sp);
/* Stops (when started), releases the lock, frees. */
void spool_close(spool *sp);

const char *spool_dir(const spool *sp);

#endif
