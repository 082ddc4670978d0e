/* storage_s3.c — the S3 backend behind storage.h.
 *
 * Reading. open_read asks HeadObject for the size and ETag, then a
 * prefetch thread streams GetObject into a small ring of chunks while the
 * plugin consumes the ones already filled, so the download overlaps the
 * transform and memory stays at READ_CHUNKS x READ_CHUNK_SIZE whatever the
 * object's size. Every GET carries If-Match with the ETag HEAD saw; a
 * transfer that breaks resumes with Range: bytes=<offset>- so a changed
 * object is an error (412), never a mix of two versions.
 *
 * Writing. Output is buffered one part at a time. An output smaller than
 * one part goes up as a single PutObject at commit. A larger one becomes a
 * multipart upload: each full part is handed to up to parts_in_flight
 * worker threads (each with its own connection), retried on its own, and
 * the writer blocks while that many parts are in flight, so memory is
 * bounded by (parts_in_flight + 1) x part size. Parts grow (x2 every 1000
 * parts) so an output of unknown size stays under S3's 10,000 parts. Each
 * part (and a single PutObject) carries x-amz-checksum-sha256, the digest
 * that also signs it, so S3 verifies every byte it stores.
 * CompleteMultipartUpload is sent only at commit, i.e. after the plugin
 * succeeded; abort (and any failure) sends AbortMultipartUpload, so a
 * failed job leaves neither an object nor an open upload.
 *
 * Listing. ListObjectsV2 page by page (continuation-token), keys in S3's
 * order; "folder" markers (empty objects whose key ends in '/') are
 * skipped, as the local backend skips directories. */
#include "autoconfig.h"
#include "storage/storage_s3.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "storage/s3_client.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/workers.h"

#define MIB (1024 * 1024)
#define READ_CHUNK_SIZE ((size_t)2 * MIB)
#define READ_CHUNKS 4
#define RESUME_PROGRESS ((int64_t)1 * MIB)

typedef struct s3_storage {
    s3_client *client;
    int64_t part_size;
    int parts_in_flight;
} s3_storage;

static s3_storage *impl_of(storage *st)
{
    return st->impl;
}

/* --- configuration ------------------------------------------------------ */

typedef struct s3_settings {
    s3_options opts;
    long long part_size, parts_in_flight;
} s3_settings;

/* The client's options from the checked configuration (config.h). */
static void read_settings(const storage_config *c, s3_settings *s)
{
    memset(s, 0, sizeof *s);
    s->opts.region = c->region;
    s->opts.endpoint = c->endpoint;
    s->opts.profile = c->profile;
    s->opts.ca_bundle = c->ca_bundle;
    s->opts.path_style = c->path_style;
    s->opts.insecure = c->insecure_skip_verify;
    retry_policy_default(&s->opts.retry);
    s->opts.retry.max_attempts = c->max_attempts;
    s->opts.retry.max_total_ms = (long)c->retry_max_seconds * 1000;
    s->opts.read_timeout_s = c->read_timeout;
    s->opts.connect_timeout_ms = (long)c->connect_timeout * 1000;
    s->part_size = c->part_size;
    s->parts_in_flight = c->parts_in_flight;
}

/* --- shared helpers ----------------------------------------------------- */

static int check_names(const char *bucket, const char *key, int need_key, sl_error *err)
{
    if (!bucket || !*bucket) {
        sl_error_set(err, SL_ERR_INPUT, "s3://: empty bucket name");
        return -1;
    }
    if (need_key && (!key || !*key)) {
        sl_error_set(err, SL_ERR_INPUT, "s3://%s/: empty key", bucket);
        return -1;
    }
    return 0;
}

static http_client *acquire_or_fail(s3_client *c, const char *name, sl_error *err)
{
    http_client *h = s3_http_acquire(c);
    if (!h)
        sl_error_set(err, SL_ERR_INTERNAL, "%s: cannot create an HTTP client", name);
    return h;
}

/* "Wed, 12 Oct 2009 17:50:00 GMT" -> epoch seconds (0 when unreadable). */
static long long parse_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || !strptime(s, "%a, %d %b %Y %H:%M:%S", &tm))
        return 0;
    return (long long)timegm(&tm);
}

/* --- reading ------------------------------------------------------------- */

typedef struct chunk {
    char *data;
    size_t len; /* filled */
    size_t pos; /* consumed */
} chunk;

typedef struct s3_reader {
    storage_reader base;
    s3_storage *st;
    char *bucket, *key, *name;
    char *etag;    /* as S3 sent it (quoted), for If-Match */
    int64_t size;  /* from HEAD; -1 when unknown */

    pthread_mutex_t lock;
    pthread_cond_t cond;        /* chunk filled, chunk freed, done, cancel */
    chunk chunks[READ_CHUNKS];
    int head;                   /* the chunk the consumer reads */
    int filled;                 /* chunks ready for the consumer */
    int done;                   /* the producer has finished */
    sl_error error;             /* why it failed, when it did */
    atomic_int cancel;
    workers_pool *fetcher;      /* one task: the download (reader_main) */

    /* the producer's own state */
    chunk *cur;                 /* being filled, not yet visible */
    int64_t offset;             /* bytes received in order so far */
    int64_t attempt_start;      /* offset the current GET asked for */
    int64_t skip;               /* bytes to drop: a 200 answering a Range */
    int first_body;             /* the current attempt has not sent data yet */
    const s3_reply *rep;        /* the current attempt's reply */
} s3_reader;

/* Makes the chunk being filled visible to the consumer. */
static void publish_chunk(s3_reader *r)
{
    pthread_mutex_lock(&r->lock);
    r->filled++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    r->cur = NULL;
}

/* Waits for a free chunk; NULL when cancelled. */
static chunk *take_free_chunk(s3_reader *r)
{
    chunk *c = NULL;
    pthread_mutex_lock(&r->lock);
    while (r->filled == READ_CHUNKS && !atomic_load(&r->cancel))
        pthread_cond_wait(&r->cond, &r->lock);
    if (!atomic_load(&r->cancel)) {
        c = &r->chunks[(r->head + r->filled) % READ_CHUNKS];
        c->len = 0;
        c->pos = 0;
    }
    pthread_mutex_unlock(&r->lock);
    return c;
}

static int reader_on_body(void *ud, const char *data, size_t len)
{
    s3_reader *r = ud;
    if (r->first_body) {
        r->first_body = 0;
        /* a server that ignores Range sends the whole object again */
        if (r->attempt_start > 0 && r->rep->http.status == 200)
            r->skip = r->attempt_start;
    }
    if (r->skip > 0) {
        size_t drop = (int64_t)len < r->skip ? len : (size_t)r->skip;
        r->skip -= (int64_t)drop;
        data += drop;
        len -= drop;
    }
    while (len > 0) {
        if (!r->cur && !(r->cur = take_free_chunk(r)))
            return 1; /* cancelled: stop the transfer */
        size_t n = READ_CHUNK_SIZE - r->cur->len;
        if (n > len)
            n = len;
        memcpy(r->cur->data + r->cur->len, data, n);
        r->cur->len += n;
        r->offset += (int64_t)n;
        data += n;
        len -= n;
        if (r->cur->len == READ_CHUNK_SIZE)
            publish_chunk(r);
    }
    return atomic_load(&r->cancel) ? 1 : 0;
}

static void reader_finish(s3_reader *r, const sl_error *err)
{
    if (r->cur && r->cur->len > 0)
        publish_chunk(r);
    pthread_mutex_lock(&r->lock);
    if (err && err->kind != SL_ERR_NONE)
        r->error = *err;
    r->done = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* One GET from r->offset. Returns 1 when the object is complete, 0 to try
 * again (rep tells why), -1 on a final failure (err set). */
static int reader_attempt(s3_reader *r, s3_client *c, http_client *h, s3_reply *rep,
                          int *transport_failed, sl_error *err)
{
    char range[64];
    sigv4_header hdr[2];
    size_t n_hdr = 0;
    if (r->etag)
        hdr[n_hdr++] = (sigv4_header){"If-Match", r->etag};
    if (r->offset > 0) {
        snprintf(range, sizeof range, "bytes=%" PRId64 "-", r->offset);
        hdr[n_hdr++] = (sigv4_header){"Range", range};
        log_msg(NULL, SL_LOG_INFO, "%s: resuming the download at byte %" PRId64, r->name, r->offset);
    }
    s3_request req = {
        .method = "GET",
        .bucket = r->bucket,
        .key = r->key,
        .headers = hdr,
        .n_headers = n_hdr,
        .on_body = reader_on_body,
        .on_body_ud = r,
        .cancel = &r->cancel,
    };
    r->attempt_start = r->offset;
    r->first_body = 1;
    r->skip = 0;
    r->rep = rep;
    int rc = s3_send(c, h, &req, rep, err);
    r->rep = NULL;
    *transport_failed = rc == -1;
    if (rc == -2)
        return -1;
    if (rc == 0 && s3_reply_ok(rep)) {
        if (r->size < 0 || r->offset >= r->size)
            return 1;
        /* a clean end before the size HEAD gave: resume like a cut */
        *transport_failed = 1;
        snprintf(rep->http.error, sizeof rep->http.error,
                 "the body ended at byte %" PRId64 " of %" PRId64, r->offset, r->size);
    }
    return 0;
}

static void reader_main(void *arg)
{
    s3_reader *r = arg;
    s3_client *c = r->st->client;
    sl_error err = {0};
    retry_state rs;
    retry_start(&rs, s3_client_retry(c));
    http_client *h = acquire_or_fail(c, r->name, &err);

    while (h && !atomic_load(&r->cancel) && (r->size < 0 || r->offset < r->size)) {
        s3_reply rep;
        int transport_failed = 0;
        int64_t before = r->offset;
        int rc = reader_attempt(r, c, h, &rep, &transport_failed, &err);
        if (rc != 0 || atomic_load(&r->cancel)) {
            s3_reply_free(&rep);
            break;
        }
        /* a transfer cut after real progress is resumed, not counted as a
         * failure (a slow plugin can make a server give up on us); a few
         * bytes per attempt is no progress */
        if (r->offset - before >= RESUME_PROGRESS)
            retry_progress(&rs);
        retry_verdict v = s3_reply_verdict(&rep, transport_failed, "GET");
        if (!transport_failed && rep.http.status == 412) {
            sl_error_set(&err, SL_ERR_INPUT,
                         "%s: the object changed while it was being read (ETag %s no longer "
                         "matches): PreconditionFailed (HTTP 412)",
                         r->name, r->etag ? r->etag : "?");
            s3_reply_free(&rep);
            break;
        }
        long wait;
        if (v == RETRY_REFRESH_CREDS && !rs.refreshed) {
            rs.refreshed = 1;
            rs.total_attempts++;
            s3_client_invalidate_credentials(c);
            wait = 0;
        } else {
            wait = v == RETRY_NEVER ? (rs.total_attempts++, -1) : retry_next_delay(&rs);
        }
        if (wait < 0) {
            s3_reply_error(&rep, transport_failed, r->name, rs.total_attempts, &err);
            s3_reply_free(&rep);
            break;
        }
        log_msg(NULL, SL_LOG_DEBUG, "%s: GET failed at byte %" PRId64 " (%s), retrying in %ld ms",
                r->name, r->offset,
                transport_failed ? rep.http.error : rep.code ? rep.code : "HTTP error", wait);
        s3_reply_free(&rep);
        if (clock_sleep_ms(wait, &r->cancel) != 0)
            break;
    }
    s3_http_release(c, h);
    reader_finish(r, &err);
}

static ssize_t s3_reader_read(storage_reader *sr, void *buf, size_t cap, sl_error *err)
{
    s3_reader *r = (s3_reader *)sr;
    pthread_mutex_lock(&r->lock);
    while (r->filled == 0 && !r->done)
        pthread_cond_wait(&r->cond, &r->lock);
    if (r->filled == 0) {
        ssize_t rc = 0;
        if (r->error.kind != SL_ERR_NONE) {
            sl_error_set(err, r->error.kind, "%s", r->error.msg);
            rc = -1;
        }
        pthread_mutex_unlock(&r->lock);
        return rc;
    }
    chunk *c = &r->chunks[r->head];
    pthread_mutex_unlock(&r->lock);

    size_t n = c->len - c->pos;
    if (n > cap)
        n = cap;
    memcpy(buf, c->data + c->pos, n);
    c->pos += n;
    if (c->pos == c->len) {
        pthread_mutex_lock(&r->lock);
        r->head = (r->head + 1) % READ_CHUNKS;
        r->filled--;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
    }
    return (ssize_t)n;
}

static void s3_reader_free(s3_reader *r)
{
    for (int i = 0; i < READ_CHUNKS; i++)
        free(r->chunks[i].data);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r->bucket);
    free(r->key);
    free(r->name);
    free(r->etag);
    free(r);
}

static void s3_reader_close(storage_reader *sr)
{
    s3_reader *r = (s3_reader *)sr;
    if (r->fetcher) {
        pthread_mutex_lock(&r->lock);
        atomic_store(&r->cancel, 1);
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        workers_free(r->fetcher); /* waits for the download to stop */
    }
    s3_reader_free(r);
}

static const storage_reader_ops s3_reader_ops = {.read = s3_reader_read, .close = s3_reader_close};

static int discard_body(void *ud, const char *data, size_t len)
{
    (void)ud;
    (void)data;
    (void)len;
    return 0;
}

/* HEAD answers errors without a body. Asking for one byte of the object
 * gets the error document, so the user reads "NoSuchBucket" or
 * "SignatureDoesNotMatch" rather than a bare status. */
static void explain_head_failure(s3_client *c, http_client *h, const char *bucket,
                                 const char *key, const char *name, sl_error *err)
{
    sigv4_header range = {"Range", "bytes=0-0"};
    s3_request req = {.method = "GET", .bucket = bucket, .key = key, .headers = &range,
                      .n_headers = 1, .on_body = discard_body};
    s3_reply rep;
    sl_error tmp = {0};
    if (s3_send(c, h, &req, &rep, &tmp) == 0 && rep.code) {
        sl_error_reset(err);
        s3_reply_error(&rep, 0, name, 1, err);
    }
    s3_reply_free(&rep);
}

static int head_object(s3_client *c, const char *bucket, const char *key, const char *name,
                       object_info *info, char **etag_raw, sl_error *err)
{
    http_client *h = acquire_or_fail(c, name, err);
    if (!h)
        return -1;
    s3_request req = {.method = "HEAD", .bucket = bucket, .key = key};
    s3_reply rep;
    int rc = s3_call(c, h, &req, &rep, name, err);
    if (rc == 0) {
        const char *len = http_response_header(&rep.http, "content-length");
        const char *etag = http_response_header(&rep.http, "etag");
        info->size = len ? strtoll(len, NULL, 10) : -1;
        info->etag = s3_etag_unquote(etag);
        info->mtime = parse_http_date(http_response_header(&rep.http, "last-modified"));
        *etag_raw = etag ? xstrdup(etag) : NULL;
    } else if (rep.http.status >= 400 && rep.http.status < 500 && !rep.code) {
        explain_head_failure(c, h, bucket, key, name, err);
    }
    s3_reply_free(&rep);
    s3_http_release(c, h);
    return rc;
}

static int s3_open_read(storage *st, const char *bucket, const char *key, storage_reader **out,
                        object_info *info, sl_error *err)
{
    s3_storage *s = impl_of(st);
    object_info meta = {.size = -1};
    char *etag_raw = NULL;

    *out = NULL;
    if (check_names(bucket, key, 1, err) != 0)
        return -1;
    char *name = s3_object_name(bucket, key);
    if (head_object(s->client, bucket, key, name, &meta, &etag_raw, err) != 0) {
        free(name);
        return -1;
    }
    s3_reader *r = xcalloc(1, sizeof *r);
    r->base.ops = &s3_reader_ops;
    r->st = s;
    r->bucket = xstrdup(bucket);
    r->key = xstrdup(key);
    r->name = name;
    r->etag = etag_raw;
    r->size = meta.size;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    for (int i = 0; i < READ_CHUNKS; i++)
        r->chunks[i].data = xmalloc(READ_CHUNK_SIZE);
    /* the download runs ahead of the plugin on a thread of its own */
    r->fetcher = workers_new(1);
    if (!r->fetcher) {
        sl_error_set(err, SL_ERR_INTERNAL, "%s: cannot start the download thread", name);
        storage_object_info_free(&meta);
        s3_reader_free(r);
        return -1;
    }
    workers_submit(r->fetcher, reader_main, NULL, r);
    if (info)
        *info = meta;
    else
        storage_object_info_free(&meta);
    *out = &r->base;
    return 0;
}

/* --- writing ------------------------------------------------------------- */

typedef struct part {
    char *data;
    size_t len, cap;
    int number;         /* 1-based */
    struct part *next;  /* in the queue or the free list */
} part;

typedef struct s3_writer {
    storage_writer base;
    s3_storage *st;
    char *bucket, *key, *name;
    char *content_type;     /* sent on PUT / CreateMultipartUpload, or NULL */
    char *content_encoding;
    part *cur;              /* being filled by write() */
    int next_number;        /* the number cur will get */
    char *upload_id;        /* once the output needs a multipart upload */
    int create_retried;     /* CreateMultipartUpload was sent more than once:
                               an upload may have been started and lost */
    const storage_upload_hooks *hooks; /* borrowed, may be NULL */

    pthread_mutex_t lock;
    pthread_cond_t cond;    /* part done, failure */
    workers_pool *uploads;  /* parts_in_flight threads, once multipart */
    int outstanding;        /* parts queued or being uploaded */
    part *free_parts;
    char **etags;           /* etags[number - 1] */
    char **checksums;       /* their base64 SHA-256, sent with the part */
    size_t etags_cap;
    int failed;
    sl_error error;         /* the first failure */
    atomic_int cancel;      /* stop uploading: the writer is aborted or failed */
} s3_writer;

static void record_failure(s3_writer *w, const sl_error *err)
{
    pthread_mutex_lock(&w->lock);
    if (!w->failed) {
        w->failed = 1;
        w->error = *err;
    }
    atomic_store(&w->cancel, 1);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Copies the first failure into err; returns 1 when there was one. */
static int writer_failed(s3_writer *w, sl_error *err)
{
    pthread_mutex_lock(&w->lock);
    int failed = w->failed;
    if (failed)
        sl_error_set(err, w->error.kind != SL_ERR_NONE ? w->error.kind : SL_ERR_STORAGE, "%s",
                     w->error.kind != SL_ERR_NONE ? w->error.msg : "upload failed");
    pthread_mutex_unlock(&w->lock);
    return failed;
}

static void record_part(s3_writer *w, int number, const char *etag, const char *checksum)
{
    pthread_mutex_lock(&w->lock);
    if ((size_t)number > w->etags_cap) {
        size_t cap = w->etags_cap ? w->etags_cap : 16;
        while (cap < (size_t)number)
            cap *= 2;
        w->etags = xrealloc(w->etags, cap * sizeof *w->etags);
        w->checksums = xrealloc(w->checksums, cap * sizeof *w->checksums);
        memset(w->etags + w->etags_cap, 0, (cap - w->etags_cap) * sizeof *w->etags);
        memset(w->checksums + w->etags_cap, 0, (cap - w->etags_cap) * sizeof *w->checksums);
        w->etags_cap = cap;
    }
    free(w->etags[number - 1]);
    free(w->checksums[number - 1]);
    w->etags[number - 1] = xstrdup(etag);
    w->checksums[number - 1] = xstrdup(checksum);
    pthread_mutex_unlock(&w->lock);
}

static int upload_part(s3_writer *w, http_client *h, const part *p, sl_error *err)
{
    char number[16];
    snprintf(number, sizeof number, "%d", p->number);
    sigv4_param q[2] = {{"partNumber", number}, {"uploadId", w->upload_id}};
    /* one digest: the signature's payload hash and S3's integrity check */
    char hex[65], b64[45];
    s3_sha256(p->data, p->len, hex, b64);
    sigv4_header checksum = {"x-amz-checksum-sha256", b64};
    s3_request req = {.method = "PUT", .bucket = w->bucket, .key = w->key, .query = q,
                      .n_query = 2, .headers = &checksum, .n_headers = 1, .body = p->data,
                      .body_len = p->len, .cancel = &w->cancel, .payload_sha256 = hex};
    s3_reply rep;
    char *what = xasprintf("%s (part %d)", w->name, p->number);
    int rc = s3_call(w->st->client, h, &req, &rep, what, err);
    if (rc == 0) {
        const char *etag = http_response_header(&rep.http, "etag");
        if (etag) {
            record_part(w, p->number, etag, b64);
        } else {
            sl_error_set(err, SL_ERR_STORAGE, "%s: UploadPart answered without an ETag", what);
            rc = -1;
        }
    }
    free(what);
    s3_reply_free(&rep);
    return rc;
}

/* A part is done with (uploaded, failed or dropped): its buffer goes back
 * to the free list and a slot opens. */
static void part_done(s3_writer *w, part *p)
{
    pthread_mutex_lock(&w->lock);
    p->len = 0;
    p->next = w->free_parts;
    w->free_parts = p;
    w->outstanding--;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

typedef struct part_task {
    s3_writer *w;
    part *p;
} part_task;

/* A task of the writer's pool: one part. */
static void upload_task(void *arg)
{
    part_task *t = arg;
    s3_writer *w = t->w;
    if (!atomic_load(&w->cancel)) {
        sl_error err = {0};
        http_client *h = acquire_or_fail(w->st->client, w->name, &err);
        if (!h || upload_part(w, h, t->p, &err) != 0)
            record_failure(w, &err);
        s3_http_release(w->st->client, h);
    }
    part_done(w, t->p);
    free(t);
}

/* Not started before an abort: never uploaded. */
static void drop_task(void *arg)
{
    part_task *t = arg;
    part_done(t->w, t->p);
    free(t);
}

/* Waits for the parts in flight: all of them (commit), or only the ones
 * already uploading (abort: the cancel flag is set, queued ones are
 * dropped). */
static void stop_workers(s3_writer *w)
{
    if (!w->uploads)
        return;
    if (atomic_load(&w->cancel))
        workers_stop(w->uploads);
    workers_free(w->uploads);
    w->uploads = NULL;
}

/* The Content-Type and Content-Encoding headers the writer was given;
 * returns how many were put in hdrs (room for 2). */
static size_t content_headers(const s3_writer *w, sigv4_header *hdrs)
{
    size_t n = 0;
    if (w->content_type)
        hdrs[n++] = (sigv4_header){"Content-Type", w->content_type};
    if (w->content_encoding)
        hdrs[n++] = (sigv4_header){"Content-Encoding", w->content_encoding};
    return n;
}

static int start_upload(s3_writer *w, sl_error *err)
{
    s3_client *c = w->st->client;
    http_client *h = acquire_or_fail(c, w->name, err);
    if (!h)
        return -1;
    sigv4_param q = {"uploads", ""};
    sigv4_header hdrs[3] = {{"x-amz-checksum-algorithm", "SHA256"}};
    size_t n = 1 + content_headers(w, hdrs + 1);
    s3_request req = {.method = "POST", .bucket = w->bucket, .key = w->key, .query = &q,
                      .n_query = 1, .headers = hdrs, .n_headers = n};
    s3_reply rep;
    int rc = s3_call(c, h, &req, &rep, w->name, err);
    w->create_retried = rep.attempts > 1;
    if (rc == 0) {
        w->upload_id = s3_xml_upload_id(rep.http.body.buf, rep.http.body.len);
        if (!w->upload_id) {
            sl_error_set(err, SL_ERR_STORAGE,
                         "%s: CreateMultipartUpload answered without an UploadId", w->name);
            rc = -1;
        }
    }
    s3_reply_free(&rep);
    s3_http_release(c, h);
    if (rc != 0)
        return -1;
    log_msg(NULL, SL_LOG_DEBUG, "%s: multipart upload started", w->name);
    if (w->hooks && w->hooks->opened)
        w->hooks->opened(w->hooks->ud, w->bucket, w->key, w->upload_id);

    w->uploads = workers_new(w->st->parts_in_flight);
    if (!w->uploads) {
        sl_error_set(err, SL_ERR_INTERNAL, "%s: cannot start upload threads", w->name);
        return -1;
    }
    return 0;
}

/* Hands w->cur to the pool, waiting while parts_in_flight parts are
 * already queued or uploading (so memory stays at parts_in_flight + 1
 * parts). */
static int queue_part(s3_writer *w, sl_error *err)
{
    if (!w->upload_id && start_upload(w, err) != 0) {
        record_failure(w, err);
        return -1;
    }
    if (w->cur->number > S3_MAX_PARTS) {
        sl_error_set(err, SL_ERR_STORAGE, "%s: the output needs more than %d parts (S3's limit)",
                     w->name, S3_MAX_PARTS);
        record_failure(w, err);
        return -1;
    }
    pthread_mutex_lock(&w->lock);
    while (w->outstanding >= workers_count(w->uploads) && !w->failed)
        pthread_cond_wait(&w->cond, &w->lock);
    if (w->failed) {
        sl_error_set(err, w->error.kind, "%s", w->error.msg);
        pthread_mutex_unlock(&w->lock);
        return -1;
    }
    part_task *t = xmalloc(sizeof *t);
    *t = (part_task){w, w->cur};
    w->cur = NULL;
    w->outstanding++;
    pthread_mutex_unlock(&w->lock);
    workers_submit(w->uploads, upload_task, drop_task, t);
    return 0;
}

/* A buffer for the next part: a returned one when its size fits. */
static part *new_part(s3_writer *w)
{
    size_t cap = s3_part_size_for(w->st->part_size, w->next_number);
    part *p = NULL;
    pthread_mutex_lock(&w->lock);
    while (w->free_parts && !p) {
        part *f = w->free_parts;
        w->free_parts = f->next;
        if (f->cap == cap) {
            p = f;
        } else {
            free(f->data);
            free(f);
        }
    }
    pthread_mutex_unlock(&w->lock);
    if (!p) {
        p = xcalloc(1, sizeof *p);
        p->data = xmalloc(cap);
        p->cap = cap;
    }
    p->len = 0;
    p->number = w->next_number++;
    p->next = NULL;
    return p;
}

static int s3_writer_write(storage_writer *sw, const void *buf, size_t len, sl_error *err)
{
    s3_writer *w = (s3_writer *)sw;
    const char *src = buf;
    if (writer_failed(w, err))
        return -1;
    while (len > 0) {
        if (!w->cur)
            w->cur = new_part(w);
        if (w->cur->len == w->cur->cap) {
            /* full, and more is coming: it is a part of a multipart upload */
            if (queue_part(w, err) != 0)
                return -1;
            continue;
        }
        size_t n = w->cur->cap - w->cur->len;
        if (n > len)
            n = len;
        memcpy(w->cur->data + w->cur->len, src, n);
        w->cur->len += n;
        src += n;
        len -= n;
    }
    return 0;
}

static void free_part_list(part *p)
{
    while (p) {
        part *next = p->next;
        free(p->data);
        free(p);
        p = next;
    }
}

static void s3_writer_free(s3_writer *w)
{
    free_part_list(w->cur);
    free_part_list(w->free_parts);
    for (size_t i = 0; i < w->etags_cap; i++) {
        free(w->etags[i]);
        free(w->checksums[i]);
    }
    free(w->etags);
    free(w->checksums);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w->upload_id);
    free(w->content_type);
    free(w->content_encoding);
    free(w->bucket);
    free(w->key);
    free(w->name);
    free(w);
}

/* AbortMultipartUpload; one already gone counts as aborted. */
static int abort_multipart(s3_client *c, const char *bucket, const char *key,
                           const char *upload_id, const char *name, sl_error *err)
{
    http_client *h = acquire_or_fail(c, name, err);
    if (!h)
        return -1;
    sigv4_param q = {"uploadId", upload_id};
    s3_request req = {.method = "DELETE", .bucket = bucket, .key = key, .query = &q,
                      .n_query = 1};
    s3_reply rep;
    int rc = s3_call(c, h, &req, &rep, name, err);
    if (rc != 0 && rep.code && strcmp(rep.code, "NoSuchUpload") == 0) {
        sl_error_reset(err);
        rc = 0;
    }
    s3_reply_free(&rep);
    s3_http_release(c, h);
    return rc;
}

static void upload_closed(s3_writer *w)
{
    if (w->hooks && w->hooks->closed)
        w->hooks->closed(w->hooks->ud, w->bucket, w->key, w->upload_id);
}

/* A failure to abort is only logged, since nothing else can be done about
 * it here: the upload keeps its mark (storage_upload_hooks), so `sluice
 * janitor` can abort it later, and a lifecycle rule can remove its parts. */
static void abort_upload(s3_writer *w)
{
    sl_error err = {0};
    if (abort_multipart(w->st->client, w->bucket, w->key, w->upload_id, w->name, &err) != 0) {
        log_msg(NULL, SL_LOG_WARN, "could not abort the multipart upload of %s (it keeps its parts "
                "until aborted or removed by a lifecycle rule): %s", w->name, err.msg);
        return;
    }
    log_msg(NULL, SL_LOG_DEBUG, "%s: multipart upload aborted", w->name);
    upload_closed(w);
}

/* Another upload of w's key than w's own (NULL: none). An output key has
 * one writer at a time (its object's job), so any other open upload of it
 * was started by this writer's lost attempt or left by a dead writer: both
 * are garbage. (No time window on Initiated: emulators answer a fixed
 * date there.) */
static int lost_upload(const s3_writer *w, const storage_upload *u)
{
    return strcmp(u->key, w->key) == 0 && (!w->upload_id || strcmp(u->upload_id, w->upload_id));
}

static int uploads_page(s3_client *c, http_client *h, const char *bucket, const char *prefix,
                        const s3_uploads_page *prev, const char *name, s3_uploads_page *page,
                        sl_error *err);

/* A CreateMultipartUpload sent more than once may have started an upload
 * whose answer never arrived (a cut connection, a timeout): nobody knows
 * its UploadId, so it would keep its parts until a lifecycle rule or the
 * janitor. The writer lists its key's uploads (the first page is plenty
 * for one key) and aborts those. */
static void abort_lost_uploads(s3_writer *w)
{
    s3_client *c = w->st->client;
    sl_error err = {0};
    s3_uploads_page none = {0}, page = {0};
    http_client *h = acquire_or_fail(c, w->name, &err);
    int rc = h ? uploads_page(c, h, w->bucket, w->key, &none, w->name, &page, &err) : -1;
    if (h)
        s3_http_release(c, h);
    for (size_t i = 0; rc == 0 && i < page.count; i++) {
        const storage_upload *u = &page.items[i];
        if (!lost_upload(w, u))
            continue;
        sl_error aerr = {0};
        if (abort_multipart(c, w->bucket, w->key, u->upload_id, w->name, &aerr) == 0)
            log_msg(NULL, SL_LOG_INFO, "%s: aborted upload %s, started by a "
                    "CreateMultipartUpload whose answer was lost", w->name, u->upload_id);
        else
            log_msg(NULL, SL_LOG_WARN, "%s: could not abort upload %s (a CreateMultipartUpload "
                    "whose answer was lost): %s", w->name, u->upload_id, aerr.msg);
    }
    if (rc != 0)
        log_msg(NULL, SL_LOG_WARN, "%s: could not look for uploads lost by a retried "
                "CreateMultipartUpload: %s", w->name, err.msg);
    s3_uploads_page_free(&page);
}

static void s3_writer_abort(storage_writer *sw)
{
    s3_writer *w = (s3_writer *)sw;
    atomic_store(&w->cancel, 1);
    stop_workers(w);
    if (w->upload_id)
        abort_upload(w);
    if (w->create_retried)
        abort_lost_uploads(w);
    s3_writer_free(w);
}

static int put_object(s3_writer *w, sl_error *err)
{
    s3_client *c = w->st->client;
    http_client *h = acquire_or_fail(c, w->name, err);
    if (!h)
        return -1;
    const char *data = w->cur ? w->cur->data : "";
    size_t len = w->cur ? w->cur->len : 0;
    char hex[65], b64[45];
    s3_sha256(data, len, hex, b64);
    sigv4_header hdrs[3] = {{"x-amz-checksum-sha256", b64}};
    size_t n = 1 + content_headers(w, hdrs + 1);
    s3_request req = {.method = "PUT", .bucket = w->bucket, .key = w->key, .headers = hdrs,
                      .n_headers = n, .body = data, .body_len = len, .payload_sha256 = hex};
    s3_reply rep;
    int rc = s3_call(c, h, &req, &rep, w->name, err);
    s3_reply_free(&rep);
    s3_http_release(c, h);
    return rc;
}

/* After a retried CompleteMultipartUpload answers NoSuchUpload, the first
 * attempt may have completed it and lost the answer: the object is then
 * there with a multipart ETag ("...-<parts>"). */
static int upload_landed(s3_writer *w, int parts)
{
    object_info info = {.size = -1};
    char *etag_raw = NULL;
    sl_error err = {0};
    int landed = 0;
    if (head_object(w->st->client, w->bucket, w->key, w->name, &info, &etag_raw, &err) == 0 &&
        info.etag) {
        char suffix[16];
        snprintf(suffix, sizeof suffix, "-%d", parts);
        size_t el = strlen(info.etag), sl = strlen(suffix);
        landed = el > sl && strcmp(info.etag + el - sl, suffix) == 0;
    }
    storage_object_info_free(&info);
    free(etag_raw);
    return landed;
}

static int complete_upload(s3_writer *w, sl_error *err)
{
    s3_client *c = w->st->client;
    int parts = w->next_number - 1;
    for (int i = 0; i < parts; i++) {
        if ((size_t)i >= w->etags_cap || !w->etags[i]) {
            sl_error_set(err, SL_ERR_INTERNAL, "%s: part %d has no ETag", w->name, i + 1);
            return -1;
        }
    }
    http_client *h = acquire_or_fail(c, w->name, err);
    if (!h)
        return -1;
    char *body = s3_xml_complete_body(w->etags, w->checksums, (size_t)parts);
    sigv4_param q = {"uploadId", w->upload_id};
    sigv4_header ct = {"Content-Type", "application/xml"};
    s3_request req = {.method = "POST", .bucket = w->bucket, .key = w->key, .query = &q,
                      .n_query = 1, .headers = &ct, .n_headers = 1, .body = body,
                      .body_len = strlen(body)};
    s3_reply rep;
    sl_error tmp = {0};
    int rc = s3_call(c, h, &req, &rep, w->name, &tmp);
    if (rc != 0 && rep.code && strcmp(rep.code, "NoSuchUpload") == 0 && upload_landed(w, parts))
        rc = 0;
    if (rc != 0)
        sl_error_set(err, tmp.kind, "%s", tmp.msg);
    s3_reply_free(&rep);
    s3_http_release(c, h);
    free(body);
    return rc;
}

static int s3_writer_commit(storage_writer *sw, sl_error *err)
{
    s3_writer *w = (s3_writer *)sw;
    int rc;
    if (writer_failed(w, err)) {
        s3_writer_abort(sw);
        return -1;
    }
    if (!w->upload_id) {
        rc = put_object(w, err);
        s3_writer_free(w);
        return rc;
    }
    rc = w->cur && w->cur->len > 0 ? queue_part(w, err) : 0;
    stop_workers(w);
    if (rc == 0 && writer_failed(w, err))
        rc = -1;
    if (rc == 0 && complete_upload(w, err) != 0)
        rc = -1;
    if (rc != 0) {
        abort_upload(w);
    } else {
        log_msg(NULL, SL_LOG_DEBUG, "%s: multipart upload completed (%d parts)", w->name,
                w->next_number - 1);
        upload_closed(w);
    }
    if (w->create_retried)
        abort_lost_uploads(w);
    s3_writer_free(w);
    return rc;
}

static void s3_writer_set_content(storage_writer *sw, const char *type, const char *encoding)
{
    s3_writer *w = (s3_writer *)sw;
    free(w->content_type);
    free(w->content_encoding);
    w->content_type = type ? xstrdup(type) : NULL;
    w->content_encoding = encoding ? xstrdup(encoding) : NULL;
}

static void s3_writer_set_upload_hooks(storage_writer *sw, const storage_upload_hooks *hooks)
{
    ((s3_writer *)sw)->hooks = hooks;
}

static const storage_writer_ops s3_writer_ops = {s3_writer_write, s3_writer_commit,
                                                 s3_writer_abort, s3_writer_set_content,
                                                 s3_writer_set_upload_hooks};

static int s3_open_write(storage *st, const char *bucket, const char *key, storage_writer **out,
                         sl_error *err)
{
    *out = NULL;
    if (check_names(bucket, key, 1, err) != 0)
        return -1;
    s3_writer *w = xcalloc(1, sizeof *w);
    w->base.ops = &s3_writer_ops;
    w->st = impl_of(st);
    w->bucket = xstrdup(bucket);
    w->key = xstrdup(key);
    w->name = s3_object_name(bucket, key);
    w->next_number = 1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    *out = &w->base;
    return 0;
}

/* --- listing ------------------------------------------------------------ */

static int is_folder_marker(const s3_list_entry *e)
{
    size_t len = strlen(e->key);
    return len > 0 && e->key[len - 1] == '/' && e->info.size == 0;
}

static int list_page(s3_client *c, http_client *h, const char *bucket, const char *prefix,
                     const char *token, const char *name, s3_list_page *page, sl_error *err)
{
    sigv4_param q[3] = {{"list-type", "2"}};
    size_t n = 1;
    if (prefix && *prefix)
        q[n++] = (sigv4_param){"prefix", prefix};
    if (token)
        q[n++] = (sigv4_param){"continuation-token", token};
    s3_request req = {.method = "GET", .bucket = bucket, .query = q, .n_query = n};
    s3_reply rep;
    int rc = s3_call(c, h, &req, &rep, name, err);
    if (rc == 0 && s3_xml_list(rep.http.body.buf, rep.http.body.len, page, err) != 0)
        rc = -1;
    s3_reply_free(&rep);
    return rc;
}

static int s3_list(storage *st, const char *bucket, const char *prefix, storage_list_fn fn,
                   void *ud, sl_error *err)
{
    s3_client *c = impl_of(st)->client;
    if (check_names(bucket, NULL, 0, err) != 0)
        return -1;
    char *name = s3_object_name(bucket, prefix);
    http_client *h = acquire_or_fail(c, name, err);
    char *token = NULL;
    int rc = h ? 0 : -1;
    while (rc == 0) {
        s3_list_page page;
        if (list_page(c, h, bucket, prefix, token, name, &page, err) != 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < page.count && rc == 0; i++)
            if (!is_folder_marker(&page.items[i]))
                rc = fn(ud, page.items[i].key, &page.items[i].info);
        free(token);
        token = NULL;
        if (rc == 0 && page.truncated) {
            if (!page.next_token) {
                sl_error_set(err, SL_ERR_STORAGE,
                             "%s: ListObjectsV2 was truncated without a continuation token", name);
                rc = -1;
            }
            token = page.next_token;
            page.next_token = NULL;
        }
        s3_list_page_free(&page);
        if (!token)
            break;
    }
    free(token);
    s3_http_release(c, h);
    free(name);
    return rc;
}

/* --- removing, and open uploads (the janitor) ------------------------------ */

static int s3_remove(storage *st, const char *bucket, const char *key, sl_error *err)
{
    s3_client *c = impl_of(st)->client;
    if (check_names(bucket, key, 1, err) != 0)
        return -1;
    char *name = s3_object_name(bucket, key);
    http_client *h = acquire_or_fail(c, name, err);
    int rc = -1;
    if (h) {
        s3_request req = {.method = "DELETE", .bucket = bucket, .key = key};
        s3_reply rep;
        rc = s3_call(c, h, &req, &rep, name, err); /* S3 answers 204 for a missing key too */
        s3_reply_free(&rep);
        s3_http_release(c, h);
    }
    free(name);
    return rc;
}

static int uploads_page(s3_client *c, http_client *h, const char *bucket, const char *prefix,
                        const s3_uploads_page *prev, const char *name, s3_uploads_page *page,
                        sl_error *err)
{
    /* the first page: prev is empty; the next: its markers */
    sigv4_param q[4] = {{"uploads", ""}};
    size_t n = 1;
    if (prefix && *prefix)
        q[n++] = (sigv4_param){"prefix", prefix};
    if (prev->next_key_marker)
        q[n++] = (sigv4_param){"key-marker", prev->next_key_marker};
    if (prev->next_upload_id_marker)
        q[n++] = (sigv4_param){"upload-id-marker", prev->next_upload_id_marker};
    s3_request req = {.method = "GET", .bucket = bucket, .query = q, .n_query = n};
    s3_reply rep;
    int rc = s3_call(c, h, &req, &rep, name, err);
    if (rc == 0 && s3_xml_uploads(rep.http.body.buf, rep.http.body.len, page, err) != 0)
        rc = -1;
    s3_reply_free(&rep);
    return rc;
}

static int s3_list_uploads(storage *st, const char *bucket, const char *prefix,
                           storage_upload_fn fn, void *ud, sl_error *err)
{
    s3_client *c = impl_of(st)->client;
    if (check_names(bucket, NULL, 0, err) != 0)
        return -1;
    char *name = s3_object_name(bucket, prefix);
    http_client *h = acquire_or_fail(c, name, err);
    s3_uploads_page prev = {0};
    int rc = h ? 0 : -1, more = 1;
    while (rc == 0 && more) {
        s3_uploads_page page;
        if (uploads_page(c, h, bucket, prefix, &prev, name, &page, err) != 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < page.count && rc == 0; i++)
            rc = fn(ud, &page.items[i]);
        more = page.truncated;
        if (rc == 0 && more && !page.next_key_marker) {
            sl_error_set(err, SL_ERR_STORAGE,
                         "%s: ListMultipartUploads was truncated without a next marker", name);
            rc = -1;
        }
        s3_uploads_page_free(&prev);
        prev = page;
    }
    s3_uploads_page_free(&prev);
    s3_http_release(c, h);
    free(name);
    return rc;
}

static int s3_abort_upload(storage *st, const char *bucket, const char *key,
                           const char *upload_id, sl_error *err)
{
    if (check_names(bucket, key, 1, err) != 0)
        return -1;
    char *name = s3_object_name(bucket, key);
    int rc = abort_multipart(impl_of(st)->client, bucket, key, upload_id, name, err);
    free(name);
    return rc;
}

/* --- the backend --------------------------------------------------------- */

static void s3_destroy(storage *st)
{
    s3_storage *s = impl_of(st);
    s3_client_free(s->client);
    free(s);
    free(st);
}

static const storage_ops s3_ops = {"s3",       s3_open_read,    s3_open_write,
                                   s3_list,    s3_destroy,      s3_remove,
                                   s3_list_uploads, s3_abort_upload};

storage *storage_s3_new(const storage_config *cfg, sl_error *err)
{
    s3_settings set;
    read_settings(cfg, &set);
    s3_client *client = s3_client_new(&set.opts, err);
    if (!client)
        return NULL;
    const s3_endpoint *ep = s3_client_endpoint(client);
    char port[16] = "";
    if (ep->port)
        snprintf(port, sizeof port, ":%d", ep->port);
    if (set.opts.insecure)
        log_msg(NULL, SL_LOG_WARN,
                "storage: insecure_skip_verify is set: TLS certificates of %s://%s%s are NOT "
                "verified; anyone on the network path can read and change the data",
                ep->scheme, ep->host, port);
    log_msg(NULL, SL_LOG_DEBUG, "storage: s3 at %s://%s%s%s (%s style), region %s", ep->scheme,
            ep->host, port, ep->base_path, ep->path_style ? "path" : "virtual-hosted",
            s3_client_region(client));
    s3_storage *s = xcalloc(1, sizeof *s);
    s->client = client;
    s->part_size = set.part_size;
    s->parts_in_flight = (int)set.parts_in_flight;
    storage *st = xcalloc(1, sizeof *st);
    st->ops = &s3_ops;
    st->impl = s;
    return st;
}
