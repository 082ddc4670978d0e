/* procid.h — who wrote something, and is that writer still alive?
 *
 * Things a process leaves behind when it is killed — a RUNNING run record,
 * a temporary file, the mark of an open S3 multipart upload — carry the
 * identity of the process that made them, as a short tag:
 *
 *     PID-START-BOOT@HOST      e.g. 4242-1234567-3f2a9c1d@etl-1
 *
 *   PID    the process id
 *   START  its start time in clock ticks after boot (/proc/PID/stat field
 *          22), so a pid the kernel has handed to another process since is
 *          not taken for the writer; 0 when unknown (no /proc)
 *   BOOT   the first 8 hex digits of the kernel's boot id: a writer of an
 *          earlier boot is gone whatever its pid; 0 when unknown
 *   HOST   gethostname(), every byte outside [A-Za-z0-9._-] as '_'
 *
 * A later process judges a writer: on another host it cannot tell, so it
 * must leave the writer's things alone; on this host the writer is gone
 * when its pid does not exist, is a zombie, started at another time, or
 * belongs to an earlier boot. A container restarted under the same host
 * name (its sluice often pid 1 again) is told apart by the start time.
 * Not by the pid namespace, on purpose: a restarted container gets a new
 * one, and its predecessor's records must still be judged. The price:
 * two sluice processes sharing a host name but not a pid namespace (a
 * container with the host's UTS namespace) must not share a run store or
 * an output directory.
 *
 * Thread-safe: procid_self() is computed once (pthread_once). Linux gives
 * every part; elsewhere only PID and HOST are known and judging falls back
 * to kill(pid, 0). */
#ifndef SLUICE_PROCID_H
#define SLUICE_PROCID_H

#include <stddef.h>

#define PROCID_HOST_MAX 65 /* HOST_NAME_MAX + NUL */
/* The longest tag: 3 numbers of at most 20 digits, separators, a host. */
#define PROCID_TAG_MAX (3 * 21 + 1 + PROCID_HOST_MAX)

typedef struct procid {
    long pid;
    unsigned long long start; /* 0: unknown */
    char boot[9];             /* "": unknown */
    char host[PROCID_HOST_MAX];
} procid;

/* This process (computed once; never NULL). */
const procid *procid_self(void);
/* Names this process's host `name` instead of gethostname() (cleaned as
 * above; a longer name keeps its last 64 bytes, where it differs), for a
 * place whose host names are not unique among the processes sharing a run
 * store: a Lambda function's execution environments (intake/lambda.c uses
 * its log stream). Only before the first procid_self(): 0, or -1 when it
 * is too late. */
int procid_use_host(const char *name);

/* The tag of p into out; returns out. */
char *procid_format(const procid *p, char out[PROCID_TAG_MAX]);
/* Parses a whole tag: 0, or -1 when `tag` is not one. */
int procid_parse(const char *tag, procid *out);

typedef enum procid_verdict {
    PROCID_ALIVE = 0, /* the writer runs on this host */
    PROCID_GONE,      /* the writer is dead on this host (why says how we know) */
    PROCID_FOREIGN,   /* another host: cannot be judged here */
} procid_verdict;

/* Judges the writer `w` against this process's host; `why` (may be NULL)
 * gets one line saying how, e.g. "process 4242 on etl-1 has ended". */
procid_verdict procid_judge(const procid *w, char *why, size_t whylen);

#endif
