/*
 * sluice/plugin.h — the sluice transform plugin ABI, version 1.
 *
 * This header is the whole contract between the sluice engine (the "host")
 * and a transform plugin. It depends on nothing but the C standard library;
 * a plugin never needs to see engine internals, jansson, libcurl or libltdl.
 *
 * ---------------------------------------------------------------------------
 * 1. What a plugin is
 * ---------------------------------------------------------------------------
 * A shared object (built with libtool `-module -avoid-version`) exporting
 * exactly one symbol, `sluice_plugin_descriptor`, a `const sluice_plugin`:
 *
 *     #include <sluice/plugin.h>
 *
 *     static int  my_init(const sluice_host *, const sluice_value *,
 *                         void **, char *, size_t);
 *     static int  my_run(void *state, sluice_job *job);
 *     static void my_destroy(void *state);
 *
 *     SLUICE_PLUGIN_EXPORT const sluice_plugin sluice_plugin_descriptor = {
 *         .abi_version    = SLUICE_PLUGIN_ABI_VERSION,
 *         .name           = "linecount",
 *         .version        = "1.0.0",
 *         .description    = "Counts the lines of the input object",
 *         .options_schema = "{\"type\":\"object\",\"additionalProperties\":false}",
 *         .init           = my_init,
 *         .run            = my_run,
 *         .destroy        = my_destroy,
 *     };
 *
 * The host finds the file with lt_dlopenext("<name>") along its plugin
 * search path, reads `abi_version` first, and refuses the plugin when it is
 * not SLUICE_PLUGIN_ABI_VERSION. The descriptor's `name` must equal the file
 * name the rule asked for.
 *
 * ---------------------------------------------------------------------------
 * 2. Lifecycle
 * ---------------------------------------------------------------------------
 *   init()    once per routing rule that uses the plugin, when the
 *             configuration is loaded (also by `sluice validate`). The host
 *             has already checked `options` against `options_schema`; init
 *             does the semantic checks (files exist, values combine) and
 *             builds an immutable per-rule state. Returning non-zero with a
 *             message in `err` is a configuration error: no input is read.
 *   run()     once per job (one input object). It may be called from
 *             several threads at once with the same `state`: treat `state`
 *             as read-only and keep per-job data on the stack or in memory
 *             you allocate and free inside run().
 *   destroy() once, when the configuration is unloaded.
 *
 * run() returns SLUICE_OK when the job succeeded. On failure it calls
 * host->error() (once; the first message wins) and returns SLUICE_ERROR.
 * The host then discards everything written to the output — nothing is
 * published — and releases every resource it handed out for the job. A
 * plugin failure fails that job only, never the engine process.
 *
 * Where run() executes is the rule's `isolation:` (docs/plugins.md):
 * `process` (the default for plugins not built with sluice) calls it in a
 * child process forked for the job, so that a crash, abort(), exit(), a
 * run past the rule's `timeout:` or memory past its `max_memory:` fails
 * that job only; `none` calls it on a thread of the engine, where a crash
 * is the engine's. A plugin needs no change for either: the host functions
 * behave the same, init() and destroy() always run in the engine, and
 * whatever run() changes outside its own allocations is lost with the
 * child — one more reason to keep `state` read-only.
 *
 * ---------------------------------------------------------------------------
 * 3. Streams
 * ---------------------------------------------------------------------------
 * Input is pulled: host->read() fills the caller's buffer with up to `cap`
 * bytes and returns the count, 0 at end of input, or -1 on a storage error
 * (the host has already recorded the error; just return SLUICE_ERROR).
 * Larger buffers are faster; 1 MiB is a good size.
 *
 * Mapped input (check SLUICE_HOST_HAS(host, input_map)): a plugin that
 * reads fast may ask for the whole input as read-only memory instead, with
 * no copy at all. host->input_map() gives it when the input is a plain
 * local file (not compressed, not an archive, not a delivery set), in
 * either isolation (in the engine's process, not for a job with a
 * deadline: a Lambda invocation's is enforced at read()). Otherwise it
 * returns 0 and the plugin read()s as
 * usual; every plugin must be able to. A file truncated while mapped does
 * not crash anything: the bytes past its new end read as zeros, and the
 * job fails with a storage error that says the file shrank, whatever
 * run() returned, so nothing computed from them is published. A plugin
 * need not check for zeros, only be safe on any bytes (it must be anyway).
 * Call it before any read(); once it returned 1, read() returns 0. Tell
 * the host with input_release() which bytes are done with, so the memory
 * the mapping holds stays bounded on a large file (and bytes_in and the
 * progress line move).
 *
 * Output is pushed: host->write(). Propose the output file name with
 * host->set_output_name() BEFORE the first write: the routing rule's output
 * template may use it as {name}, so the destination is only fixed then.
 * Without a proposal the host uses the input's base name. A name is one
 * path segment: no '/', not "." or "..", not empty. A job that writes
 * nothing still produces an (empty) output object when it succeeds.
 *
 * ---------------------------------------------------------------------------
 * 4. Thread safety
 * ---------------------------------------------------------------------------
 * Every host function is safe to call from the thread running the job it is
 * given. The `sluice_host` table itself is immutable and outlives all jobs.
 *
 * ---------------------------------------------------------------------------
 * 5. Growing the table; lookup files
 * ---------------------------------------------------------------------------
 * Members are only appended to `sluice_host`; the ABI version stays 1. A
 * plugin that uses a member added after the first release checks for it:
 *
 *     if (!SLUICE_HOST_HAS(host, lookup_open)) ... fall back or refuse ...
 *
 * Lookup files: a job that runs a delivery set (a rule with `delivery:`,
 * e.g. an Adobe Analytics data feed day) has the set's lookup files —
 * "column_headers.tsv", "event.tsv", "browser.tsv", ... from its lookup
 * archive — besides its data input. lookup_open() opens one by name as a
 * read stream; NULL means the job has no such file (no delivery set, or the
 * archive lacks it), which is not an error. Such a job also has the meta
 * keys "delivery" ("adobe"), "rsid", "feed_date" (YYYY-MM-DD) and
 * "feed_hour" ("00".."23", NULL for a daily feed).
 *
 * ---------------------------------------------------------------------------
 * 6. Side objects
 * ---------------------------------------------------------------------------
 * A job may write up to 8 side objects besides its output (side_write(),
 * e.g. the rejected rows of the `tabular` plugin). They follow the output's
 * all-or-nothing rule: published only when the job succeeds, just before
 * the output; a failed job publishes none of them.
 */
#ifndef SLUICE_PLUGIN_H
#define SLUICE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change to the structures below. */
#define SLUICE_PLUGIN_ABI_VERSION 1

#if defined(__GNUC__)
#define SLUICE_PLUGIN_EXPORT __attribute__((visibility("default")))
#define SLUICE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SLUICE_PLUGIN_EXPORT
#define SLUICE_PRINTF(a, b)
#endif

#define SLUICE_OK 0
#define SLUICE_ERROR (-1)

/* Opaque handles owned by the host. */
typedef struct sluice_job sluice_job;       /* one run of one input object */
typedef struct sluice_value sluice_value;   /* a node of the options tree  */
typedef struct sluice_lookup sluice_lookup; /* an open lookup file (5.)   */

/* Log levels for host->log(). */
typedef enum sluice_log_level {
    SLUICE_LOG_DEBUG = 0,
    SLUICE_LOG_INFO = 1,
    SLUICE_LOG_WARN = 2,
    SLUICE_LOG_ERROR = 3
} sluice_log_level;

/* Error kinds for host->error(); they reach the job-state event. */
typedef enum sluice_error_kind {
    SLUICE_ERR_INPUT = 1,  /* the input is not what the plugin accepts  */
    SLUICE_ERR_PLUGIN = 2, /* the plugin itself failed (bug, resources) */
    SLUICE_ERR_CONFIG = 3  /* options turned out unusable at run time   */
} sluice_error_kind;

/* Types of option values (the rule's YAML `options:` mapping). */
typedef enum sluice_value_type {
    SLUICE_VALUE_NULL = 0,
    SLUICE_VALUE_BOOL,
    SLUICE_VALUE_INT,
    SLUICE_VALUE_NUMBER, /* a non-integer number */
    SLUICE_VALUE_STRING,
    SLUICE_VALUE_LIST,
    SLUICE_VALUE_MAP
} sluice_value_type;

/*
 * The host's services. One immutable table, handed to init() and available
 * to run() through the state the plugin kept (store the pointer).
 * New members are only ever appended; `struct_size` tells how many exist.
 */
typedef struct sluice_host {
    uint32_t abi_version; /* SLUICE_PLUGIN_ABI_VERSION of the host */
    size_t struct_size;   /* sizeof(sluice_host) in the host */

    /* --- options tree (valid until destroy(); read-only) --------------- */
    /* Type of a value; a NULL value reads as SLUICE_VALUE_NULL. */
    sluice_value_type (*value_type)(const sluice_value *v);
    /* Member `key` of a map, or NULL when absent or `v` is not a map. */
    const sluice_value *(*value_get)(const sluice_value *map, const char *key);
    /* Number of members of a list or map; 0 for anything else. */
    size_t (*value_len)(const sluice_value *v);
    /* Element `i` of a list, or NULL when out of range / not a list. */
    const sluice_value *(*value_at)(const sluice_value *list, size_t i);
    /* Key of the `i`th member of a map (in document order), or NULL. */
    const char *(*value_key_at)(const sluice_value *map, size_t i);
    /* Scalars. A string is NUL-terminated UTF-8 owned by the host. The
     * numeric readers convert INT<->NUMBER; other mismatches give `dflt`. */
    const char *(*value_string)(const sluice_value *v, const char *dflt);
    int64_t (*value_int)(const sluice_value *v, int64_t dflt);
    double (*value_number)(const sluice_value *v, double dflt);
    int (*value_bool)(const sluice_value *v, int dflt);

    /* --- input ---------------------------------------------------------- */
    /* Pull up to `cap` bytes. Returns bytes read, 0 at end, -1 on error. */
    ssize_t (*read)(sluice_job *job, void *buf, size_t cap);
    /* Input object name: "s3://bucket/key" or a file path. */
    const char *(*input_name)(sluice_job *job);
    /* Input size in bytes, or -1 when unknown. */
    int64_t (*input_size)(sluice_job *job);
    /*
     * Job metadata, NULL when unknown. Keys:
     *   "bucket", "key"   the input object (key decoded)
     *   "etag", "version_id"
     *   "event_time"      ISO 8601 UTC time of the triggering event
     *   "date"            UTC YYYY-MM-DD of the event, or of the run when
     *                     no event triggered it (a direct `process` run)
     *   "run_date"        UTC YYYY-MM-DD of the run
     *   "run_id"          unique id of this job
     *   "rule"            name of the routing rule
     *   "cpu_share"       decimal count, at least 1: the online cores divided
     *                     by the jobs this process may run at once; how many
     *                     threads a plugin that parallelises should use
     *   "member"          the path inside the archive of the member this job
     *                     reads (a rule with `members_as: jobs`), else NULL
     */
    const char *(*meta)(sluice_job *job, const char *key);

    /* --- output --------------------------------------------------------- */
    /* Propose the output file name (see section 3). 0 ok, -1 refused. */
    int (*set_output_name)(sluice_job *job, const char *name);
    /* Append bytes to the output. 0 ok, -1 error (already recorded). */
    int (*write)(sluice_job *job, const void *buf, size_t len);

    /* --- diagnostics ---------------------------------------------------- */
    /* A log line carrying the job's run id, input and rule. */
    void (*log)(sluice_job *job, sluice_log_level level, const char *fmt, ...)
        SLUICE_PRINTF(3, 4);
    /* Add `delta` to the named run statistic (created at 0). Names are
     * lower_snake_case; they appear in the job summary and run record. */
    void (*counter_add)(sluice_job *job, const char *name, int64_t delta);
    /* Fail the job with a message; the first call wins. */
    void (*error)(sluice_job *job, sluice_error_kind kind, const char *fmt, ...)
        SLUICE_PRINTF(3, 4);

    /* --- lookup files (section 5; check SLUICE_HOST_HAS first) ---------- */
    /* Open the job's lookup file `name` ("column_headers.tsv"), or NULL
     * when the job has none of that name. The handle is the job's: close it
     * with lookup_close(); the host closes what is left when run() returns. */
    sluice_lookup *(*lookup_open)(sluice_job *job, const char *name);
    /* Like read(): up to `cap` bytes, 0 at end, -1 on error (recorded). */
    ssize_t (*lookup_read)(sluice_lookup *lookup, void *buf, size_t cap);
    void (*lookup_close)(sluice_lookup *lookup);

    /* --- side objects (section 6; check SLUICE_HOST_HAS first) --------- */
    /* Append bytes to the job's side object `name`: a second output placed
     * beside the output (same bucket and prefix, or the same directory),
     * e.g. "orders.rejects.jsonl". `name` is one path segment and differs
     * from the output's name. The output's location is fixed by the first
     * side write, so propose the output name before. 0 ok, -1 error
     * (already recorded). */
    int (*side_write)(sluice_job *job, const char *name, const void *buf, size_t len);

    /* --- mapped input (section 3; check SLUICE_HOST_HAS first) ---------- */
    /* The whole input as read-only memory: 1 with *data and *len set (the
     * file as long as it was when mapped), valid until run() returns; 0
     * when the host does not map this input (then read() it), always 0
     * after a read(). */
    int (*input_map)(sluice_job *job, const void **data, size_t *len);
    /* Bytes [0, upto) of the mapped input are done with: the host counts
     * them as read and may drop them from memory (reading them again stays
     * correct, only slower). Calls with a smaller `upto` are ignored. */
    void (*input_release)(sluice_job *job, size_t upto);
} sluice_host;

/* Whether a host table has member `m` (section 5). */
#define SLUICE_HOST_HAS(host, m) \
    ((host)->struct_size >= offsetof(sluice_host, m) + sizeof((host)->m))

/* The one exported symbol. `abi_version` must stay the first member. */
typedef struct sluice_plugin {
    uint32_t abi_version;       /* SLUICE_PLUGIN_ABI_VERSION */
    const char *name;           /* [a-z0-9_]+, equals the file name */
    const char *version;        /* the plugin's own version, e.g. "1.2.0" */
    const char *description;    /* one line, shown by `sluice plugins` */
    const char *options_schema; /* JSON Schema (text) of `options:` */

    /* See section 2. `err` is a buffer of `errlen` bytes for a message. */
    int (*init)(const sluice_host *host, const sluice_value *options,
                void **state, char *err, size_t errlen);
    int (*run)(void *state, sluice_job *job);
    void (*destroy)(void *state);
} sluice_plugin;

/* The descriptor's symbol name, for hosts. */
#define SLUICE_PLUGIN_SYMBOL "sluice_plugin_descriptor"

#ifdef __cplusplus
}
#endif
#endif /* SLUICE_PLUGIN_H */
