#include "autoconfig.h"
#include "storage/s3_client.h"

#include <ctype.h>
#include <curl/curl.h> /* CURLcode values only: transports are http.c's */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/aws_credentials.h"
#include "aws/aws_region.h"
#include "aws/aws_request.h"
#include "aws/aws_xml.h"
#include "net/url.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/urlcodec.h"

/* Error documents are small; a larger body is not one (or not worth it). */
#define ERROR_BODY_MAX (64 * 1024)
/* Idle http_clients kept for reuse; more are freed when given back. */
#define POOL_MAX 64

struct s3_client {
    s3_endpoint ep;
    char *region;
    aws_credentials_provider *creds;
    http_tls tls;
    char *ca_bundle;
    retry_policy retry;
    long connect_timeout_ms;
    long read_timeout_s;

    pthread_mutex_t pool_lock;
    http_client *idle[POOL_MAX];
    size_t n_idle;
};

/* --- endpoints and URLs ------------------------------------------------- */

void s3_endpoint_free(s3_endpoint *ep)
{
    free(ep->scheme);
    free(ep->host);
    free(ep->base_path);
    memset(ep, 0, sizeof *ep);
}

/* scheme://host[:port][/base/path]: no user, query or fragment. */
static int parse_endpoint_url(s3_endpoint *ep, const char *url)
{
    url_parts u;
    if (url_parse(url, &u) != 0)
        return -1;
    if (u.userinfo || u.query || u.fragment) {
        url_parts_free(&u);
        return -1;
    }
    ep->scheme = xstrdup(u.scheme);
    /* the Host header's form: IPv6 in brackets */
    ep->host = strchr(u.host, ':') ? xasprintf("[%s]", u.host) : xstrdup(u.host);
    ep->port = u.port;
    size_t path_len = strlen(u.path);
    while (path_len > 0 && u.path[path_len - 1] == '/')
        path_len--;
    ep->base_path = xstrndup(u.path, path_len);
    url_parts_free(&u);
    return 0;
}

int s3_endpoint_init(s3_endpoint *ep, const char *url, const char *region, int path_style,
                     sl_error *err)
{
    memset(ep, 0, sizeof *ep);
    if (!url || !*url) {
        const char *r = region && *region ? region : "us-east-1";
        ep->scheme = xstrdup("https");
        ep->host = xasprintf("s3.%s.amazonaws.com%s", r, strncmp(r, "cn-", 3) == 0 ? ".cn" : "");
        ep->base_path = xstrdup("");
        ep->is_aws = 1;
        ep->path_style = path_style == 1;
        return 0;
    }
    if (parse_endpoint_url(ep, url) != 0) {
        s3_endpoint_free(ep);
        sl_error_set(err, SL_ERR_CONFIG,
                     "S3 endpoint \"%s\": not an http:// or https:// URL of the form "
                     "scheme://host[:port][/path]",
                     url);
        return -1;
    }
    ep->path_style = path_style != 0; /* custom endpoints: path style unless told otherwise */
    return 0;
}

/* Can the bucket be the first label of a host name (virtual-hosted
 * style)? Over https, dotted names would not match the wildcard
 * certificate, so they go path style too (as the AWS SDKs do). */
static int dns_compatible_bucket(const char *b, int https)
{
    size_t len = strlen(b);
    if (len < 3 || len > 63)
        return 0;
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[len - 1]))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)b[i];
        if (ch == '.') {
            if (https || b[i + 1] == '.')
                return 0;
        } else if (!(islower(ch) || isdigit(ch) || ch == '-')) {
            return 0;
        }
    }
    return 1;
}

void s3_target_build(const s3_endpoint *ep, const char *bucket, const char *key,
                     s3_target *t)
{
    int has_bucket = bucket && *bucket;
    int virtual_host = has_bucket && !ep->path_style &&
                       dns_compatible_bucket(bucket, strcmp(ep->scheme, "https") == 0);
    strbuf path = STRBUF_INIT;
    sb_adds(&path, ep->base_path);
    if (has_bucket && !virtual_host) {
        sb_addc(&path, '/');
        sb_adds(&path, bucket);
    }
    if (key && *key) {
        sb_addc(&path, '/');
        sb_adds(&path, key);
    } else if (path.len == 0) {
        sb_addc(&path, '/');
    }
    char *host = virtual_host ? xasprintf("%s.%s", bucket, ep->host) : xstrdup(ep->host);
    t->host = ep->port ? xasprintf("%s:%d", host, ep->port) : xstrdup(host);
    free(host);
    t->path = sb_steal(&path);
    /* encoded once, '/' kept: exactly what S3's SigV4 rules sign */
    char *enc = urlcodec_encode_dup(t->path, strlen(t->path), 1);
    t->url = xasprintf("%s://%s%s", ep->scheme, t->host, enc);
    free(enc);
}

void s3_target_free(s3_target *t)
{
    free(t->url);
    free(t->host);
    free(t->path);
    memset(t, 0, sizeof *t);
}

char *s3_query_string(const sigv4_param *q, size_t n)
{
    /* the canonical form is a valid query: what is sent is what is signed */
    return sigv4_canonical_query(q, n);
}

char *s3_object_name(const char *bucket, const char *key)
{
    return xasprintf("s3://%s/%s", bucket ? bucket : "", key ? key : "");
}

/* --- the client ---------------------------------------------------------- */

s3_client *s3_client_new(const s3_options *o, sl_error *err)
{
    s3_client *c = xcalloc(1, sizeof *c);
    char *region = o->region && *o->region ? xstrdup(o->region) : aws_region_from_env(o->profile);
    c->region = region ? region : xstrdup("us-east-1");
    char *endpoint = o->endpoint && *o->endpoint ? xstrdup(o->endpoint)
                                                 : aws_region_endpoint_from_env("S3", o->profile);
    int rc = s3_endpoint_init(&c->ep, endpoint, c->region, o->path_style, err);
    free(endpoint);
    if (rc != 0) {
        free(c->region);
        free(c);
        return NULL;
    }
    aws_credentials_options po = {.profile = o->profile, .timeout_ms = 0};
    c->creds = aws_credentials_provider_new(&po);
    if (o->ca_bundle)
        c->ca_bundle = xstrdup(o->ca_bundle);
    c->tls.ca_bundle = c->ca_bundle;
    c->tls.insecure = o->insecure;
    c->retry = o->retry;
    if (c->retry.max_attempts < 1)
        c->retry.max_attempts = 1;
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    c->read_timeout_s = o->read_timeout_s > 0 ? o->read_timeout_s : 60;
    pthread_mutex_init(&c->pool_lock, NULL);
    return c;
}

void s3_client_free(s3_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_idle; i++)
        http_client_free(c->idle[i]);
    pthread_mutex_destroy(&c->pool_lock);
    aws_credentials_provider_free(c->creds);
    s3_endpoint_free(&c->ep);
    free(c->region);
    free(c->ca_bundle);
    free(c);
}

const s3_endpoint *s3_client_endpoint(const s3_client *c)
{
    return &c->ep;
}

const char *s3_client_region(const s3_client *c)
{
    return c->region;
}

const retry_policy *s3_client_retry(const s3_client *c)
{
    return &c->retry;
}

void s3_client_invalidate_credentials(s3_client *c)
{
    aws_credentials_invalidate(c->creds);
}

http_client *s3_http_acquire(s3_client *c)
{
    http_client *h = NULL;
    pthread_mutex_lock(&c->pool_lock);
    if (c->n_idle > 0)
        h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->pool_lock);
    return h ? h : http_client_new(&c->tls);
}

void s3_http_release(s3_client *c, http_client *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&c->pool_lock);
    if (c->n_idle < POOL_MAX) {
        c->idle[c->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_lock);
    http_client_free(h);
}

/* --- requests ------------------------------------------------------------ */

void s3_reply_free(s3_reply *r)
{
    http_response_free(&r->http);
    free(r->code);
    free(r->message);
    memset(r, 0, sizeof *r);
}

int s3_reply_ok(const s3_reply *r)
{
    return r->http.status >= 200 && r->http.status < 300 && !r->code;
}

/* One attempt's transfer: feeds the request body, streams a 2xx body to
 * the caller and keeps (the start of) anything else, which is an error
 * document. It also watches for silence: curl's low-speed check averages
 * over several seconds (a stall right after a fast upload would go unseen
 * for that long), so an attempt is stopped once no byte has moved either
 * way for read_timeout, like the SDKs' socket read timeout. */
typedef struct transfer {
    const s3_request *req;
    http_response *resp;
    const char *body_pos;
    size_t body_left;
    long long last_activity_ms;
    long idle_limit_ms;
    int idle_expired;
} transfer;

static size_t feed_body(void *ud, char *buf, size_t cap)
{
    transfer *t = ud;
    size_t n = t->body_left < cap ? t->body_left : cap;
    memcpy(buf, t->body_pos, n);
    t->body_pos += n;
    t->body_left -= n;
    t->last_activity_ms = clock_mono_ms();
    return n;
}

static int sink_body(void *ud, const char *data, size_t len)
{
    transfer *t = ud;
    int rc = 0;
    t->last_activity_ms = clock_mono_ms();
    int is_2xx = t->resp->status >= 200 && t->resp->status < 300;
    if (is_2xx && t->req->on_body) {
        rc = t->req->on_body(t->req->on_body_ud, data, len);
        /* the callback may have waited for its reader: that is not silence */
        t->last_activity_ms = clock_mono_ms();
    } else if (is_2xx) {
        sb_add(&t->resp->body, data, len);
    } else if (t->resp->body.len < ERROR_BODY_MAX) {
        size_t room = ERROR_BODY_MAX - t->resp->body.len;
        sb_add(&t->resp->body, data, len < room ? len : room);
    }
    return rc;
}

static int should_stop(void *ud)
{
    transfer *t = ud;
    if (t->req->cancel && atomic_load(t->req->cancel))
        return 1;
    if (clock_mono_ms() - t->last_activity_ms > t->idle_limit_ms) {
        t->idle_expired = 1;
        return 1;
    }
    return 0;
}

/* Does a body start with an <Error> element (after the XML declaration)?
 * A cheap test before parsing 2xx bodies, which are rarely errors. */
static int looks_like_error(const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (end - p >= 2 && p[0] == '<' && p[1] == '?') {
            const char *q = memchr(p, '>', (size_t)(end - p));
            if (!q)
                return 0;
            p = q + 1;
            continue;
        }
        return end - p >= 7 && memcmp(p, "<Error", 6) == 0 &&
               (p[6] == '>' || isspace((unsigned char)p[6]));
    }
    return 0;
}

static void parse_reply_error(s3_reply *rep)
{
    const http_response *h = &rep->http;
    int is_2xx = h->status >= 200 && h->status < 300;
    if (!h->body.len || (is_2xx && !looks_like_error(h->body.buf, h->body.len)))
        return;
    s3_xml_error(h->body.buf, h->body.len, &rep->code, &rep->message);
}

void s3_sha256(const void *data, size_t len, char hex[65], char b64[45])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    for (size_t i = 0; i < sizeof md; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    EVP_EncodeBlock((unsigned char *)b64, md, (int)sizeof md); /* 44 chars + NUL */
}

int s3_send(s3_client *c, http_client *h, const s3_request *req, s3_reply *rep,
            sl_error *err)
{
    aws_credentials cred;
    memset(rep, 0, sizeof *rep);
    if (aws_credentials_get(c->creds, &cred, err) != 0)
        return -2;

    s3_target tgt;
    s3_target_build(&c->ep, req->bucket, req->key, &tgt);
    /* PUT bodies are opaque bytes unless the caller names their type; the
     * type is sent and signed */
    int typed = req->body_len && strcmp(req->method, "PUT") == 0;
    for (size_t i = 0; typed && i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, "content-type") == 0)
            typed = 0;
    sigv4_header *hdrs = xcalloc(req->n_headers + 1, sizeof *hdrs);
    size_t n_hdrs = 0;
    if (typed)
        hdrs[n_hdrs++] = (sigv4_header){"content-type", "application/octet-stream"};
    for (size_t i = 0; i < req->n_headers; i++)
        hdrs[n_hdrs++] = req->headers[i];

    transfer t = {
        .req = req,
        .resp = &rep->http,
        .body_pos = req->body,
        .body_left = req->body_len,
        .last_activity_ms = clock_mono_ms(),
        .idle_limit_ms = c->read_timeout_s * 1000,
    };
    aws_request ar = {
        .method = req->method,
        .url = tgt.url,
        .query = req->query,
        .n_query = req->n_query,
        .headers = hdrs,
        .n_headers = n_hdrs,
        .service = "s3",
        .region = c->region,
        .s3 = 1,
        .body = req->body,
        .body_len = req->body_len,
        /* fed through a callback, so that sending counts as activity */
        .upload = req->body_len ? feed_body : NULL,
        .upload_ud = &t,
        .upload_len = (int64_t)req->body_len,
        .payload_sha256 = req->payload_sha256,
        .on_body = sink_body,
        .on_body_ud = &t,
        .timeout_ms = req->timeout_ms,
        .connect_timeout_ms = c->connect_timeout_ms,
        .should_abort = should_stop,
        .abort_ud = &t,
    };
    int rc = aws_request_send(h, &cred, &ar, &rep->http, err);
    if (rc == 0) {
        parse_reply_error(rep);
    } else if (rc == -1 && t.idle_expired) {
        rep->http.timed_out = 1;
        snprintf(rep->http.error, sizeof rep->http.error,
                 "no data received or sent for %ld s (read_timeout)", c->read_timeout_s);
    }
    free(hdrs);
    s3_target_free(&tgt);
    aws_credentials_clear(&cred);
    return rc;
}

/* One line, printable, bounded: S3 messages go into logs and events. */
static void clean_text(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; in && in[i] && j + 1 < cap; i++) {
        unsigned char ch = (unsigned char)in[i];
        out[j++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    out[j] = '\0';
}

static const char *status_phrase(long status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 501: return "NotImplemented";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return "UnexpectedStatus";
    }
}

void s3_reply_error(const s3_reply *rep, int transport_failed, const char *name,
                    int attempts, sl_error *err)
{
    char tail[64] = "";
    if (attempts > 1)
        snprintf(tail, sizeof tail, " (gave up after %d attempts)", attempts);
    if (transport_failed) {
        char why[300];
        clean_text(rep->http.error, why, sizeof why);
        sl_error_set(err, SL_ERR_STORAGE, "%s: %s: %s%s", name,
                     rep->http.timed_out ? "timed out" : "connection failed", why, tail);
        return;
    }
    char code[128], msg[400];
    clean_text(rep->code ? rep->code : status_phrase(rep->http.status), code, sizeof code);
    clean_text(rep->message, msg, sizeof msg);
    sl_error_kind kind = SL_ERR_STORAGE;
    if (rep->code && (strcmp(rep->code, "NoSuchKey") == 0 || strcmp(rep->code, "NoSuchBucket") == 0))
        kind = SL_ERR_INPUT;
    if (attempts > 1)
        snprintf(tail, sizeof tail, ", gave up after %d attempts", attempts);
    sl_error_set(err, kind, "%s: %s%s%s (HTTP %ld%s)", name, code, *msg ? ": " : "", msg,
                 rep->http.status, tail);
}

/* Transport failures no retry can fix: the peer's certificate, our TLS
 * setup, the URL itself. */
static int transport_is_final(int curl_code)
{
    switch (curl_code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return 1;
    default:
        return 0;
    }
}

retry_verdict s3_reply_verdict(const s3_reply *rep, int transport_failed, const char *method)
{
    if (transport_failed)
        return transport_is_final(rep->http.transport_error) ? RETRY_NEVER : RETRY_BACKOFF;
    /* HEAD errors have no body: a bare 403 may be expired credentials */
    if (rep->http.status == 403 && !rep->code && strcmp(method, "HEAD") == 0)
        return RETRY_REFRESH_CREDS;
    return retry_classify(0, rep->http.status, rep->code);
}

int s3_call(s3_client *c, http_client *h, const s3_request *req, s3_reply *rep,
            const char *name, sl_error *err)
{
    const atomic_int *cancel = req->cancel;
    retry_state rs;
    retry_start(&rs, &c->retry);
    int sent = 0;
    for (;;) {
        int rc = s3_send(c, h, req, rep, err);
        if (rc == -2)
            return -1;
        rep->attempts = ++sent;
        if (rc == 0 && s3_reply_ok(rep))
            return 0;
        retry_verdict v = s3_reply_verdict(rep, rc == -1, req->method);
        if (v == RETRY_REFRESH_CREDS && !rs.refreshed) {
            rs.refreshed = 1;
            rs.total_attempts++;
            s3_client_invalidate_credentials(c);
            s3_reply_free(rep);
            continue;
        }
        long wait = v == RETRY_BACKOFF ? retry_next_delay(&rs) : (rs.total_attempts++, -1);
        if (cancel && atomic_load(cancel)) {
            s3_reply_free(rep);
            sl_error_set(err, SL_ERR_STORAGE, "%s: cancelled", name);
            return -1;
        }
        if (wait < 0) {
            s3_reply_error(rep, rc == -1, name, rs.total_attempts, err);
            return -1;
        }
        log_msg(NULL, SL_LOG_DEBUG, "%s: %s failed (%s), retrying in %ld ms", name, req->method,
                rc == -1 ? rep->http.error
                         : rep->code ? rep->code : status_phrase(rep->http.status),
                wait);
        s3_reply_free(rep);
        if (clock_sleep_ms(wait, cancel) != 0) {
            sl_error_set(err, SL_ERR_STORAGE, "%s: cancelled", name);
            return -1;
        }
    }
}

/* --- multipart sizes ------------------------------------------------------ */

size_t s3_part_size_for(int64_t base, int number)
{
    int64_t size = base < S3_MIN_PART_SIZE ? S3_MIN_PART_SIZE : base;
    for (int i = (number - 1) / S3_PARTS_PER_SIZE; i > 0 && size < S3_MAX_PART_SIZE; i--)
        size *= 2;
    return (size_t)(size > S3_MAX_PART_SIZE ? S3_MAX_PART_SIZE : size);
}

/* --- XML ----------------------------------------------------------------- */

int s3_xml_error(const char *xml, size_t len, char **code, char **message)
{
    *code = NULL;
    *message = NULL;
    xmlDocPtr doc = aws_xml_parse(xml, len);
    if (!doc)
        return -1;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *e = aws_xml_is(root, "Error") ? root
                 : aws_xml_is(root, "ErrorResponse") ? aws_xml_child(root, "Error")
                                                     : NULL;
    char *c = e ? aws_xml_child_text(e, "Code") : NULL;
    int rc = -1;
    if (c && *c) {
        *code = c;
        *message = aws_xml_child_text(e, "Message");
        rc = 0;
    } else {
        free(c);
    }
    xmlFreeDoc(doc);
    return rc;
}

long long s3_parse_iso8601(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s)
        return 0;
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return 0;
    return (long long)timegm(&tm);
}

char *s3_etag_unquote(const char *etag)
{
    if (!etag)
        return NULL;
    size_t len = strlen(etag);
    if (len >= 2 && etag[0] == '"' && etag[len - 1] == '"')
        return xstrndup(etag + 1, len - 2);
    return xstrdup(etag);
}

static void page_add(s3_list_page *page, size_t *cap, char *key, const xmlNode *contents)
{
    if (page->count == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        page->items = xrealloc(page->items, *cap * sizeof *page->items);
    }
    s3_list_entry *e = &page->items[page->count++];
    e->key = key;
    char *size = aws_xml_child_text(contents, "Size");
    char *etag = aws_xml_child_text(contents, "ETag");
    char *mtime = aws_xml_child_text(contents, "LastModified");
    e->info.size = size && *size ? strtoll(size, NULL, 10) : -1;
    e->info.etag = s3_etag_unquote(etag);
    e->info.mtime = s3_parse_iso8601(mtime);
    free(size);
    free(etag);
    free(mtime);
}

int s3_xml_list(const char *xml, size_t len, s3_list_page *page, sl_error *err)
{
    size_t cap = 0;
    memset(page, 0, sizeof *page);
    xmlDocPtr doc = aws_xml_parse(xml, len);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!aws_xml_is(root, "ListBucketResult")) {
        sl_error_set(err, SL_ERR_STORAGE, "ListObjectsV2: the response is not a ListBucketResult");
        if (doc)
            xmlFreeDoc(doc);
        return -1;
    }
    for (xmlNode *n = root->children; n; n = n->next) {
        if (!aws_xml_is(n, "Contents"))
            continue;
        char *key = aws_xml_child_text(n, "Key");
        if (key)
            page_add(page, &cap, key, n);
    }
    char *truncated = aws_xml_child_text(root, "IsTruncated");
    page->truncated = truncated && strcmp(truncated, "true") == 0;
    free(truncated);
    page->next_token = aws_xml_child_text(root, "NextContinuationToken");
    if (page->next_token && !*page->next_token) {
        free(page->next_token);
        page->next_token = NULL;
    }
    xmlFreeDoc(doc);
    return 0;
}

void s3_list_page_free(s3_list_page *page)
{
    for (size_t i = 0; i < page->count; i++) {
        free(page->items[i].key);
        storage_object_info_free(&page->items[i].info);
    }
    free(page->items);
    free(page->next_token);
    memset(page, 0, sizeof *page);
}

int s3_xml_uploads(const char *xml, size_t len, s3_upload_page *page, sl_error *err)
{
    size_t cap = 0;
    memset(page, 0, sizeof *page);
    xmlDocPtr doc = aws_xml_parse(xml, len);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!aws_xml_is(root, "ListMultipartUploadsResult")) {
        sl_error_set(err, SL_ERR_STORAGE,
                     "ListMultipartUploads: the response is not a ListMultipartUploadsResult");
        if (doc)
            xmlFreeDoc(doc);
        return -1;
    }
    for (xmlNode *n = root->children; n; n = n->next) {
        if (!aws_xml_is(n, "Upload"))
            continue;
        char *key = aws_xml_child_text(n, "Key"), *id = aws_xml_child_text(n, "UploadId");
        if (!key || !id) {
            free(key);
            free(id);
            continue;
        }
        if (page->count == cap) {
            cap = cap ? 2 * cap : 8;
            page->items = xrealloc(page->items, cap * sizeof *page->items);
        }
        char *when = aws_xml_child_text(n, "Initiated");
        page->items[page->count++] = (s3_upload_entry){key, id, s3_parse_iso8601(when)};
        free(when);
    }
    xmlFreeDoc(doc);
    return 0;
}

void s3_upload_page_free(s3_upload_page *page)
{
    for (size_t i = 0; i < page->count; i++) {
        free(page->items[i].key);
        free(page->items[i].upload_id);
    }
    free(page->items);
    memset(page, 0, sizeof *page);
}

char *s3_xml_upload_id(const char *xml, size_t len)
{
    xmlDocPtr doc = aws_xml_parse(xml, len);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *id = aws_xml_is(root, "InitiateMultipartUploadResult") ? aws_xml_child_text(root, "UploadId")
                                                                 : NULL;
    if (doc)
        xmlFreeDoc(doc);
    if (id && !*id) {
        free(id);
        id = NULL;
    }
    return id;
}

static void add_escaped(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_adds(sb, "&amp;"); break;
        case '<': sb_adds(sb, "&lt;"); break;
        case '>': sb_adds(sb, "&gt;"); break;
        case '"': sb_adds(sb, "&quot;"); break;
        default: sb_addc(sb, *s);
        }
    }
}

char *s3_xml_complete_body(char *const *etags, char *const *checksums, size_t n)
{
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (size_t i = 0; i < n; i++) {
        sb_addf(&sb, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
        add_escaped(&sb, etags[i] ? etags[i] : "");
        sb_adds(&sb, "</ETag>");
        if (checksums && checksums[i]) {
            sb_adds(&sb, "<ChecksumSHA256>");
            add_escaped(&sb, checksums[i]);
            sb_adds(&sb, "</ChecksumSHA256>");
        }
        sb_adds(&sb, "</Part>");
    }
    sb_adds(&sb, "</CompleteMultipartUpload>");
    return sb_steal(&sb);
}
