#include "autoconfig.h"
#include "core/job.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/job_decode.h"
#include "core/job_internal.h"
#include "core/job_isolate.h"
#include "core/runstore.h"
#include "plugin/plugin_bindings.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strbuf.h"

const char *job_state_name(job_state s)
{
    switch (s) {
    case JOB_SUCCEEDED: return "SUCCEEDED";
    case JOB_FAILED: return "FAILED";
    case JOB_SKIPPED: return "SKIPPED";
    }
    return "FAILED";
}

/* --- the services plugins call (job_services.c puts them in the table) --- */

/* Past the spec's deadline the job is cut off: its error is set once. */
int job_past_deadline(sluice_job *job)
{
    if (!job->spec->deadline_ms || clock_now_ms() < job->spec->deadline_ms)
        return 0;
    sl_error_set(&job->error, SL_ERR_TIMEOUT,
                 "cut off: the invocation's deadline came before the job finished");
    return 1;
}

ssize_t job_read(sluice_job *job, void *buf, size_t cap)
{
    job->read_any = 1;
    if (!job->reader || job->error.kind != SL_ERR_NONE || job_past_deadline(job))
        return -1;
    if (job->map.data)
        return 0; /* the input is the mapping */
    ssize_t n = storage_read(job->reader, buf, cap, &job->error);
    if (n > 0)
        job_count_input(job, n);
    return n;
}

void job_count_input(sluice_job *job, int64_t n)
{
    job->res->bytes_in += n;
    progress_update(&job->progress, n);
}

/* A plain local file, before any read(): guarded (storage/storage_map.h),
 * so a file truncated under the plugin fails this job, not the engine.
 * Not under a deadline (a Lambda invocation's): read() is where the engine
 * cuts a job off in its own process, and a mapped input has no read(). */
int job_input_map(sluice_job *job, const void **data, size_t *len)
{
    if (!job->map.data &&
        (job->read_any || !job->reader || job->error.kind != SL_ERR_NONE ||
         job->spec->deadline_ms || storage_map_open(&job->map, job->reader) != 0))
        return 0;
    *data = job->map.data;
    *len = job->map.len;
    return 1;
}

void job_input_release(sluice_job *job, size_t upto)
{
    size_t n = storage_map_release(&job->map, upto);
    if (n)
        job_count_input(job, (int64_t)n);
}

/* After run(): the rest of a mapping was the plugin's to read; when the
 * file shrank under it, that is the cause of whatever the plugin did
 * after, so its error replaces the job's. */
static void end_mapping(sluice_job *job)
{
    if (!job->map.data)
        return;
    job_input_release(job, job->map.len);
    sl_error lost = {0};
    if (storage_map_check(&job->map, job->res->input, &lost) != 0)
        job->error = lost;
    storage_map_close(&job->map);
}

const char *job_input_name(sluice_job *job)
{
    return job->res->input;
}

int64_t job_input_size(sluice_job *job)
{
    return job->info.size;
}

const char *job_meta(sluice_job *job, const char *key)
{
    const job_result *r = job->res;
    if (strcmp(key, "bucket") == 0)
        return job->bucket;
    if (strcmp(key, "key") == 0)
        return job->key;
    if (strcmp(key, "etag") == 0)
        return r->etag;
    if (strcmp(key, "version_id") == 0)
        return r->version_id;
    if (strcmp(key, "event_time") == 0)
        return r->event_time;
    if (strcmp(key, "date") == 0)
        return job->date;
    if (strcmp(key, "run_date") == 0)
        return job->run_date;
    if (strcmp(key, "cpu_share") == 0)
        return job->cpu_share;
    if (strcmp(key, "run_id") == 0)
        return r->run_id;
    if (strcmp(key, "rule") == 0)
        return r->rule;
    if (strcmp(key, "member") == 0)
        return job->member;
    return job->delivery ? delivery_meta(job->delivery, key) : NULL;
}

/* Lookup files belong to delivery sets (core/delivery.h); any other job
 * has none, which plugin.h allows: NULL, not an error. */
sluice_lookup *job_lookup_open(sluice_job *job, const char *name)
{
    return job->delivery ? delivery_lookup_open(job->delivery, name) : NULL;
}

ssize_t job_lookup_read(sluice_lookup *lookup, void *buf, size_t cap)
{
    return delivery_lookup_read(lookup, buf, cap);
}

void job_lookup_close(sluice_lookup *lookup)
{
    delivery_lookup_close(lookup);
}

static int valid_output_name(const char *name)
{
    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strlen(name) <= 255;
}

int job_set_output_name(sluice_job *job, const char *name)
{
    if (job->writer) {
        log_msg(&job->log, SL_LOG_WARN,
                "plugin proposed output name \"%s\" after writing: ignored", name);
        return -1;
    }
    if (!name || !valid_output_name(name)) {
        log_msg(&job->log, SL_LOG_WARN, "plugin proposed an invalid output name \"%s\": ignored",
                name ? name : "(null)");
        return -1;
    }
    free(job->output_name);
    job->output_name = xstrdup(name);
    return 0;
}

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int job_override_is_directory(const job_spec *spec)
{
    const char *o = spec->output_override;
    size_t len = o ? strlen(o) : 0;
    struct stat st;
    return len && (o[len - 1] == '/' || (stat(o, &st) == 0 && S_ISDIR(st.st_mode)));
}

static char *resolve_output_named(sluice_job *job, const char *name, sl_error *err);

/* `base` with the rule's compression suffix, unless it already ends with
 * it (new string). */
static char *with_suffix(const rule *r, const char *base)
{
    const char *suffix = encode_suffix(job_decode_output_codec(r));
    size_t len = strlen(base), n = strlen(suffix);
    if (len > n && strcmp(base + len - n, suffix) == 0)
        suffix = ""; /* already named for its compression */
    return xasprintf("%s%s", base, suffix);
}

/* The output location: the rule's template (or --output) expanded with the
 * job's values. --output naming a directory gets {name} appended ({member}
 * for a member's job). {name} is the plugin's, else the input's basename
 * without the suffix of its compression (a member's job: the member's
 * basename); compress: adds its own suffix. */
static char *resolve_output(sluice_job *job, sl_error *err)
{
    char *plain = job->output_name || !job->decoded || job->member
                      ? NULL
                      : job_decode_plain_name(basename_of(job->key));
    const char *base = job->output_name ? job->output_name
                       : plain          ? plain
                       : job->member    ? basename_of(job->member)
                                        : basename_of(job->key);
    char *name = with_suffix(job->rule, base);
    free(plain);
    char *out = resolve_output_named(job, name, err);
    free(name);
    return out;
}

/* --output naming a directory: each job's output goes inside it, named
 * {name}; a member's job by its member's path (as the plugin may propose
 * one name for every member), with the compression suffix. */
static void add_directory_leaf(const sluice_job *job, strbuf *src)
{
    if (!job->member) {
        sb_adds(src, "{name}");
        return;
    }
    char *leaf = with_suffix(job->rule, "{member}");
    sb_adds(src, leaf);
    free(leaf);
}

static char *resolve_output_named(sluice_job *job, const char *name, sl_error *err)
{
    const job_spec *spec = job->spec;
    const rule *r = job->rule;
    template_vars vars = {
        .bucket = job->bucket,
        .key = job->key,
        .date = job->date,
        .run_date = job->run_date,
        .run_id = job->res->run_id,
        .name = name,
        .rsid = job->delivery ? delivery_meta(job->delivery, "rsid") : NULL,
        .feed_date = job->delivery ? delivery_meta(job->delivery, "feed_date") : NULL,
        .feed_hour = job->delivery ? delivery_meta(job->delivery, "feed_hour") : NULL,
        .member = job->member,
        .capture_names = (const char *const *)r->capture_names,
        .capture_values = (const char *const *)job->match.capture_values,
        .n_captures = job->match.capture_values ? r->n_captures : 0,
    };
    if (!spec->output_override)
        return template_expand(r->output, &vars, err);

    strbuf src = STRBUF_INIT;
    sb_adds(&src, spec->output_override);
    size_t len = strlen(spec->output_override);
    if (job_override_is_directory(spec)) {
        if (spec->output_override[len - 1] != '/')
            sb_addc(&src, '/');
        add_directory_leaf(job, &src);
    }
    char msg[256];
    size_t off = 0;
    template *t = template_compile(sb_str(&src), (const char *const *)r->capture_names,
                                   r->n_captures, msg, sizeof msg, &off);
    sb_free(&src);
    if (!t) {
        sl_error_set(err, SL_ERR_CONFIG, "--output %s: %s", spec->output_override, msg);
        return NULL;
    }
    char *out = template_expand(t, &vars, err);
    template_free(t);
    return out;
}

/* Relative output paths in a configuration file are relative to it. */
static char *anchor_path(const job_spec *spec, const char *path)
{
    if (path[0] == '/' || spec->output_override || !spec->cfg->dir)
        return xstrdup(path);
    return xasprintf("%s/%s", spec->cfg->dir, path);
}

/* The rule's compress: the encoder goes between the job and storage. */
static int wrap_output(sluice_job *job)
{
    encode_codec c = job_decode_output_codec(job->rule);
    if (c == ENCODE_NONE)
        return 0;
    const char *base = basename_of(job->res->output);
    size_t len = strlen(base), n = strlen(encode_suffix(c));
    char *plain = xstrndup(base, len > n && strcmp(base + len - n, encode_suffix(c)) == 0
                                     ? len - n : len);
    job->writer = encode_writer_new(job->writer, c, job->rule->compress_level,
                                    job_decode_content_type(plain), &job->error);
    free(plain);
    return job->writer ? 0 : -1;
}

/* --- marks of open multipart uploads ---------------------------------- */

static void upload_opened(void *ud, const char *bucket, const char *key, const char *upload_id)
{
    sluice_job *job = ud;
    sl_error err = {0};
    if (runstore_upload_mark(job->spec->runs, bucket, key, upload_id, job->res->run_id, &err) != 0)
        log_msg(&job->log, SL_LOG_WARN,
                "the multipart upload of s3://%s/%s is not marked (if this process dies, "
                "`sluice janitor` cannot abort it): %s",
                bucket, key, err.msg);
}

static void upload_closed(void *ud, const char *bucket, const char *key, const char *upload_id)
{
    sluice_job *job = ud;
    sl_error err = {0};
    if (runstore_upload_unmark(job->spec->runs, bucket, key, upload_id, &err) != 0)
        log_msg(&job->log, SL_LOG_WARN, "the mark of the closed upload of s3://%s/%s stays: %s",
                bucket, key, err.msg);
}

/* A writer of the job's: its multipart uploads are marked while open. */
static void watch_uploads(sluice_job *job, storage_writer *w)
{
    if (!job->spec->runs)
        return;
    job->uploads = (storage_upload_hooks){upload_opened, upload_closed, job};
    storage_writer_set_upload_hooks(w, &job->uploads);
}

static int open_output(sluice_job *job)
{
    sl_error *err = &job->error;
    char *where = resolve_output(job, err);
    if (!where)
        return -1;
    location loc = {0};
    int rc = location_parse(where, &loc, err);
    free(where);
    if (rc != 0)
        goto out;
    if (loc.kind == LOC_OBJECT) {
        if (!loc.key || !*loc.key || loc.key[strlen(loc.key) - 1] == '/') {
            sl_error_set(err, SL_ERR_CONFIG, "output s3://%s/%s names no object (empty key)",
                         loc.bucket, loc.key ? loc.key : "");
            rc = -1;
            goto out;
        }
        rc = job->spec->storage->ops->open_write(job->spec->storage, loc.bucket, loc.key,
                                                 &job->writer, err);
        if (rc == 0) {
            job->res->output = location_format(&loc);
            watch_uploads(job, job->writer);
        }
    } else {
        char *path = anchor_path(job->spec, loc.path);
        rc = storage_local_write_file(path, &job->writer, err);
        if (rc == 0)
            job->res->output = path;
        else
            free(path);
    }
    if (rc == 0)
        rc = wrap_output(job);
out:
    location_free(&loc);
    return rc;
}

int job_write(sluice_job *job, const void *buf, size_t len)
{
    if (job->error.kind != SL_ERR_NONE)
        job->res->writes_after_error++;
    if (job->error.kind != SL_ERR_NONE || job->output_refused || job_past_deadline(job))
        return -1;
    if (!job->writer && open_output(job) != 0) {
        job->output_refused = 1;
        return -1;
    }
    if (len == 0)
        return 0;
    if (storage_write(job->writer, buf, len, &job->error) != 0)
        return -1;
    job->res->bytes_out += (int64_t)len;
    return 0;
}

/* The side object `name` beside the output: same bucket and prefix, or
 * the same directory. */
static int open_side(sluice_job *job, const char *name, storage_writer **w)
{
    sl_error *err = &job->error;
    const char *out = job->res->output;
    if (strncmp(out, "s3://", 5) == 0) {
        location loc = {0};
        if (location_parse(out, &loc, err) != 0)
            return -1;
        const char *slash = strrchr(loc.key, '/');
        char *key = xasprintf("%.*s%s", slash ? (int)(slash - loc.key + 1) : 0, loc.key, name);
        int rc = job->spec->storage->ops->open_write(job->spec->storage, loc.bucket, key, w, err);
        if (rc == 0)
            watch_uploads(job, *w);
        free(key);
        location_free(&loc);
        return rc;
    }
    const char *slash = strrchr(out, '/');
    char *path = xasprintf("%.*s%s", slash ? (int)(slash - out + 1) : 0, out, name);
    int rc = storage_local_write_file(path, w, err);
    free(path);
    return rc;
}

static struct job_side *find_side(sluice_job *job, const char *name)
{
    for (size_t i = 0; i < job->nsides; i++)
        if (strcmp(job->sides[i].name, name) == 0)
            return &job->sides[i];
    if (job->nsides == JOB_MAX_SIDES) {
        sl_error_set(&job->error, SL_ERR_PLUGIN, "side object \"%s\": a job has at most %d",
                     name, JOB_MAX_SIDES);
        return NULL;
    }
    if (!valid_output_name(name)) {
        sl_error_set(&job->error, SL_ERR_PLUGIN,
                     "side object name \"%s\" is not one path segment", name);
        return NULL;
    }
    if (!job->writer && job_write(job, "", 0) != 0) /* fixes where the output goes */
        return NULL;
    const char *base = basename_of(job->res->output);
    if (strcmp(base, name) == 0) {
        sl_error_set(&job->error, SL_ERR_PLUGIN, "side object \"%s\" has the output's name",
                     name);
        return NULL;
    }
    struct job_side *s = &job->sides[job->nsides];
    if (open_side(job, name, &s->writer) != 0)
        return NULL;
    s->name = xstrdup(name);
    job->nsides++;
    return s;
}

int job_side_write(sluice_job *job, const char *name, const void *buf, size_t len)
{
    if (job->error.kind != SL_ERR_NONE || job->output_refused || !name)
        return -1;
    struct job_side *s = find_side(job, name);
    if (!s)
        return -1;
    if (len && storage_write(s->writer, buf, len, &job->error) != 0)
        return -1;
    return 0;
}

/* Publishes the side objects (before the output: plugin.h section 6). */
static void commit_sides(sluice_job *job)
{
    for (size_t i = 0; i < job->nsides && job->error.kind == SL_ERR_NONE; i++) {
        storage_writer *w = job->sides[i].writer;
        job->sides[i].writer = NULL;
        if (storage_writer_commit(w, &job->error) == 0)
            log_msg(&job->log, SL_LOG_INFO, "side object %s published beside the output",
                    job->sides[i].name);
    }
}

void job_vlog(sluice_job *job, sluice_log_level level, const char *fmt, va_list ap)
{
    log_level l = level <= SLUICE_LOG_DEBUG  ? SL_LOG_DEBUG
                  : level == SLUICE_LOG_INFO ? SL_LOG_INFO
                  : level == SLUICE_LOG_WARN ? SL_LOG_WARN
                                             : SL_LOG_ERROR;
    log_vmsg(&job->log, l, fmt, ap);
}

void job_counter_add(sluice_job *job, const char *name, int64_t delta)
{
    if (!name || !*name)
        return;
    json_t *counters = job->res->counters;
    json_t *cur = json_object_get(counters, name);
    json_int_t v = cur ? json_integer_value(cur) : 0;
    json_object_set_new(counters, name, json_integer(v + delta));
}

void job_verror(sluice_job *job, sluice_error_kind kind, const char *fmt, va_list ap)
{
    sl_error_kind k = kind == SLUICE_ERR_INPUT    ? SL_ERR_INPUT
                      : kind == SLUICE_ERR_CONFIG ? SL_ERR_CONFIG
                                                  : SL_ERR_PLUGIN;
    sl_error_vset(&job->error, k, fmt, ap);
}

/* --- the job ----------------------------------------------------------- */

static void result_init(const job_spec *spec, job_result *res)
{
    memset(res, 0, sizeof *res);
    res->started_ms = clock_now_ms();
    runid_make((time_t)(res->started_ms / 1000), res->run_id);
    res->input = location_format(&spec->input);
    res->counters = json_object();
    res->attempt = spec->attempt > 1 ? spec->attempt : 1;
    res->retry_of = spec->retry_of ? xstrdup(spec->retry_of) : NULL;
    if (spec->event) {
        const event_record *ev = spec->event;
        res->etag = ev->etag ? xstrdup(ev->etag) : NULL;
        res->version_id = ev->version_id ? xstrdup(ev->version_id) : NULL;
        res->event_time = ev->event_time_iso ? xstrdup(ev->event_time_iso) : NULL;
    }
}

static void job_init(sluice_job *job, const job_spec *spec, const job_result *res)
{
    memset(job, 0, sizeof *job);
    job->spec = spec;
    job->info.size = -1;
    time_t run_t = (time_t)(res->started_ms / 1000);
    clock_format_date(run_t, job->run_date);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long share = (cores > 0 ? cores : 1) / (spec->concurrency > 1 ? spec->concurrency : 1);
    snprintf(job->cpu_share, sizeof job->cpu_share, "%ld", share > 0 ? share : 1);
    /* present is what was received, not a positive time: an eventTime at or
     * before 1970-01-01T00:00:00Z is still the event's date */
    if (spec->event && spec->event->event_time_iso)
        clock_format_date(spec->event->event_time, job->date);
    else
        memcpy(job->date, job->run_date, sizeof job->date);
    if (spec->input.kind == LOC_OBJECT) {
        job->bucket = xstrdup(spec->input.bucket);
        job->key = xstrdup(spec->input.key ? spec->input.key : "");
    } else {
        job->key = xstrdup(spec->input.path);
    }
    job->log.run_id = res->run_id;
    job->log.input = res->input;
}

void job_start(sluice_job *job, const job_spec *spec, job_result *res)
{
    result_init(spec, res);
    job_init(job, spec, res);
    job->res = res;
}

/* Picks the rule: forced by name, or the first whose match holds.
 * Returns 0 with job->rule set, 0 with it NULL (skip), or -1. */
static int choose_rule(sluice_job *job)
{
    const job_spec *spec = job->spec;
    if (spec->rule_name) {
        job->rule = config_find_rule(spec->cfg, spec->rule_name);
        if (!job->rule) {
            sl_error_set(&job->error, SL_ERR_CONFIG, "no rule named \"%s\" in %s",
                         spec->rule_name, spec->cfg->path);
            return -1;
        }
        /* a forced rule still gets its regex captures when the key fits */
        char why[256];
        if (route_rule_matches(job->rule, job->bucket ? job->bucket : "", job->key, NULL,
                               &job->match, why, sizeof why) != 1)
            route_match_free(&job->match);
        return 0;
    }
    char msg[512] = "";
    const char *event_name = spec->event ? spec->event->event_name : NULL;
    if (route_object(spec->cfg, job->bucket ? job->bucket : "", job->key, event_name,
                     &job->match, NULL, msg, sizeof msg) != 0) {
        sl_error_set(&job->error, SL_ERR_CONFIG, "%s", msg);
        return -1;
    }
    job->rule = job->match.rule;
    return 0;
}

int job_open_raw(sluice_job *job, storage_reader **raw)
{
    const job_spec *spec = job->spec;
    return spec->input.kind == LOC_FILE
               ? storage_local_read_file(spec->input.path, raw, &job->info, &job->error)
               : spec->storage->ops->open_read(spec->storage, spec->input.bucket,
                                               spec->input.key, raw, &job->info, &job->error);
}

/* The object through its decoded content (the rule's decompress:). */
static int open_input(sluice_job *job)
{
    storage_reader *raw = NULL;
    if (job_open_raw(job, &raw) != 0)
        return -1;
    decode_options o;
    job_decode_options(job->rule, job->res->input, &o);
    if (decode_open(raw, &o, &job->reader, &job->error) != 0)
        return -1;
    if (job->reader != raw) {
        job->decoded = 1;
        job->info.size = -1; /* the decoded size is known at the end only */
    }
    return 0;
}

/* The storage's etag, when it reports one, names the bytes actually read
 * (the object may have changed since the event was sent). */
void job_adopt_storage_etag(sluice_job *job)
{
    const char *e = job->info.etag;
    if (!e || !*e)
        return;
    size_t len = strlen(e);
    if (len >= 2 && e[0] == '"' && e[len - 1] == '"') {
        e++;
        len -= 2;
    }
    free(job->res->etag);
    job->res->etag = xstrndup(e, len);
}

/* A redelivered event, or the same object processed again: when this
 * rule already SUCCEEDED on these exact bytes, the job is SKIPPED. Runs
 * with --force or --output (ad hoc, elsewhere) are never duplicates. */
static int skip_duplicate(sluice_job *job)
{
    const job_spec *spec = job->spec;
    job_result *res = job->res;
    if (spec->force || spec->output_override || !spec->runs || !res->etag || !res->rule)
        return 0;
    char prev[RUNID_MAX];
    sl_error err = {0};
    int found = runstore_find_done(spec->runs, res->rule, template_source(job->rule->output),
                                   res->input, res->member, res->etag, prev, &err);
    if (found < 0)
        log_msg(&job->log, SL_LOG_WARN, "duplicate check not possible, processing anyway: %s",
                err.msg);
    if (found != 1)
        return 0;
    res->state = JOB_SKIPPED;
    res->duplicate_of = xstrdup(prev);
    res->skip_reason = xasprintf("duplicate: rule \"%s\" already processed this %s (etag "
                                 "%s) in run %s; --force processes it again",
                                 res->rule, res->member ? "archive member" : "object",
                                 res->etag, prev);
    return 1;
}

/* A delivery rule runs on its set's manifest only: the manifest becomes the
 * set, and the job's input the set's data files. Returns 1 when the object
 * is no manifest (the job is SKIPPED), 0 when the set is open, -1. */
static int open_delivery(sluice_job *job)
{
    const job_spec *spec = job->spec;
    if (!delivery_is_manifest(job->key)) {
        job->res->state = JOB_SKIPPED;
        job->res->skip_reason = xasprintf("rule \"%s\" processes delivery sets: this is no "
                                          "manifest, its set runs when the manifest arrives",
                                          job->rule->name);
        return 1;
    }
    storage_reader *manifest = NULL;
    if (job_open_raw(job, &manifest) != 0)
        return -1;
    delivery_place where = {spec->input.kind == LOC_OBJECT ? spec->storage : NULL, job->bucket,
                            job->key};
    if (delivery_open(&where, manifest, &job->delivery, &job->error) != 0)
        return -1;
    /* the set's identity is its manifest's content, whatever the etag */
    free(job->res->etag);
    job->res->etag = xstrdup(delivery_digest(job->delivery));
    return 0;
}

/* The set's checks before the plugin runs; its data files become the
 * input. 0, or -1 with the job's error set. */
static int prepare_delivery(sluice_job *job)
{
    if (delivery_prepare(job->delivery, &job->error) != 0)
        return -1;
    job->reader = delivery_reader(job->delivery);
    job->info.size = -1; /* the decoded size is known only at the end */
    return 0;
}

sl_error *job_error(sluice_job *job)
{
    return &job->error;
}

/* The rule's isolation:, else by the plugin's origin: the plugins built
 * with sluice run in the engine's process, any other in a child. */
static int isolated(const sluice_job *job)
{
    const char *mode = job->rule->isolation;
    return mode ? strcmp(mode, "process") == 0 : !job->plugin->plugin->bundled;
}

/* run(), in the engine's process or in a child (core/job_isolate.h). */
static int call_run(sluice_job *job)
{
    const sluice_plugin *d = job->plugin->plugin->desc;
    if (!isolated(job)) {
        int rc = d->run(job->plugin->state, job);
        end_mapping(job);
        return rc;
    }
    const rule *r = job->rule;
    job_isolate_limits lim = {.timeout_ms = r->timeout_ms, .timeout = r->timeout,
                              .max_memory = r->max_memory_bytes,
                              .max_memory_text = r->max_memory,
                              .deadline_ms = job->spec->deadline_ms};
    /* A plain local file is read by the child itself: a copy through the
     * engine cost the revenue benchmark +22 % wall time at 1 GB. */
    storage_reader *own = storage_reader_forkable(job->reader) ? job->reader : NULL;
    return job_isolate_run(job, d, job->plugin->state, &lim, own);
}

/* Runs the plugin and publishes its output only when everything worked. */
static void run_plugin(sluice_job *job)
{
    const sluice_plugin *d = job->plugin->plugin->desc;
    progress_start(&job->progress, job->spec->show_progress, job->res->input, job->info.size);
    int rc = call_run(job);
    progress_finish(&job->progress);

    job->res->ok_after_error = rc == SLUICE_OK && job->error.kind != SL_ERR_NONE;
    job->res->failed_silently = rc != SLUICE_OK && job->error.kind == SL_ERR_NONE;
    if (rc != SLUICE_OK && job->error.kind == SL_ERR_NONE)
        sl_error_set(&job->error, SL_ERR_PLUGIN, "plugin %s failed without giving a reason",
                     d->name);
    if (rc == SLUICE_OK && job->delivery && job->error.kind == SL_ERR_NONE)
        delivery_finish(job->delivery, job->reader, &job->error); /* every check ran */
    if (job->error.kind == SL_ERR_NONE && !job->writer)
        job_write(job, "", 0); /* a successful empty output still exists */
    commit_sides(job);
    if (job->error.kind == SL_ERR_NONE) {
        storage_writer *w = job->writer;
        job->writer = NULL;
        if (job_past_deadline(job)) {
            storage_writer_abort(w);
        } else if (storage_writer_commit(w, &job->error) != 0) {
            free(job->res->output);
            job->res->output = NULL;
        }
    }
}

static void log_summary(const sluice_job *job)
{
    const job_result *res = job->res;
    json_t *f = json_object();
    json_object_set_new(f, "state", json_string(job_state_name(res->state)));
    json_object_set_new(f, "bytes_in", json_integer(res->bytes_in));
    json_object_set_new(f, "bytes_out", json_integer(res->bytes_out));
    json_object_set_new(f, "duration_ms", json_integer(res->ended_ms - res->started_ms));
    if (res->output)
        json_object_set_new(f, "output", json_string(res->output));
    if (res->state == JOB_FAILED)
        json_object_set_new(f, "error_kind", json_string(sl_error_kind_name(res->error.kind)));
    if (res->attempt > 1)
        json_object_set_new(f, "attempt", json_integer(res->attempt));
    if (res->retry_of)
        json_object_set_new(f, "retry_of", json_string(res->retry_of));
    if (res->duplicate_of)
        json_object_set_new(f, "duplicate_of", json_string(res->duplicate_of));
    json_object_update(f, res->counters);
    if (res->state == JOB_FAILED)
        log_fields(&job->log, SL_LOG_ERROR, f, "job failed: %s", res->error.msg);
    else if (res->state == JOB_SKIPPED)
        log_fields(&job->log, SL_LOG_INFO, f, "job skipped: %s", res->skip_reason);
    else
        log_fields(&job->log, SL_LOG_INFO, f, "job done");
    json_decref(f);
}

static void job_release(sluice_job *job)
{
    storage_writer_abort(job->writer);
    for (size_t i = 0; i < job->nsides; i++) {
        storage_writer_abort(job->sides[i].writer);
        free(job->sides[i].name);
    }
    storage_map_close(&job->map);
    storage_reader_close(job->reader);
    delivery_free(job->delivery);
    storage_object_info_free(&job->info);
    route_match_free(&job->match);
    free(job->output_name);
    free(job->member);
    free(job->bucket);
    free(job->key);
}

void job_process(sluice_job *job)
{
    if (!skip_duplicate(job) && (!job->delivery || prepare_delivery(job) == 0))
        run_plugin(job);
}

void job_finish(sluice_job *job)
{
    job_result *res = job->res;
    if (res->state != JOB_SKIPPED)
        res->state = job->error.kind == SL_ERR_NONE ? JOB_SUCCEEDED : JOB_FAILED;
    if (res->state == JOB_FAILED) {
        /* the writer is aborted below: nothing was published */
        free(res->output);
        res->output = NULL;
    }
    res->error = job->error;
    res->ended_ms = clock_now_ms();
    job_release(job);
    log_summary(job);
}

/* The archive's result once its members ran as jobs: what they came to. */
static void finish_parts(sluice_job *job)
{
    job_result *res = job->res;
    size_t failed = 0, skipped = 0;
    for (size_t i = 0; i < res->n_parts; i++) {
        failed += res->parts[i].state == JOB_FAILED;
        skipped += res->parts[i].state == JOB_SKIPPED;
    }
    res->state = failed ? JOB_FAILED : skipped == res->n_parts ? JOB_SKIPPED : JOB_SUCCEEDED;
    res->ended_ms = clock_now_ms();
    job_release(job);
    log_ctx archive = job->log;
    archive.run_id = NULL; /* the archive's own run id names no job */
    log_msg(&archive, failed ? SL_LOG_ERROR : SL_LOG_INFO,
            "archive read as %zu job%s: %zu succeeded, %zu failed, %zu skipped", res->n_parts,
            res->n_parts == 1 ? "" : "s", res->n_parts - failed - skipped, failed, skipped);
}

/* The chosen rule's job: its input opened as the rule says, then run. */
static void run_rule(sluice_job *job)
{
    job_result *res = job->res;
    res->rule = xstrdup(job->rule->name);
    res->plugin = xstrdup(job->plugin->plugin->desc->name);
    res->plugin_version = xstrdup(job->plugin->plugin->desc->version);
    job->log.rule = res->rule;
    if (job_past_deadline(job))
        return;
    /* An archive read as member jobs leaves its members' records; a killed
     * one leaves none in flight (its members have no RUNNING record). */
    if (!job->rule->delivery && job_decode_member_jobs(job->rule)) {
        job_members_run(job);
        return;
    }
    if (job->spec->on_start)
        job->spec->on_start(job->spec->on_start_ud, res);
    if ((job->rule->delivery ? open_delivery(job) : open_input(job)) != 0)
        return;
    if (!job->delivery)
        job_adopt_storage_etag(job);
    job_process(job);
}

int job_execute(const job_spec *spec, job_result *res)
{
    sluice_job job;
    job_start(&job, spec, res);

    if (choose_rule(&job) == 0 && !job.rule) {
        res->state = JOB_SKIPPED;
        res->skip_reason = xstrdup("no rule matches this object");
    } else if (job.error.kind == SL_ERR_NONE &&
               !(job.plugin = plugin_bindings_get(spec->plugins, job.rule))) {
        sl_error_set(&job.error, SL_ERR_INTERNAL, "rule \"%s\" has no loaded plugin",
                     job.rule->name);
    } else if (job.error.kind == SL_ERR_NONE) {
        run_rule(&job);
    }
    if (res->parts)
        finish_parts(&job);
    else
        job_finish(&job);
    return res->state == JOB_FAILED ? -1 : 0;
}

size_t job_result_jobs(const job_result *res)
{
    return res->parts ? res->n_parts : 1;
}

const job_result *job_result_job(const job_result *res, size_t i)
{
    return res->parts ? &res->parts[i] : res;
}

void job_result_free(job_result *res)
{
    free(res->rule);
    free(res->plugin);
    free(res->plugin_version);
    free(res->input);
    free(res->etag);
    free(res->version_id);
    free(res->event_time);
    free(res->output);
    free(res->skip_reason);
    free(res->duplicate_of);
    free(res->retry_of);
    free(res->member);
    json_decref(res->counters);
    for (size_t i = 0; i < res->n_parts; i++)
        job_result_free(&res->parts[i]);
    free(res->parts);
    memset(res, 0, sizeof *res);
}
