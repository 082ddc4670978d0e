#include "autoconfig.h"
#include "net/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"

struct http_client {
    CURL *curl;
    http_tls tls;
    char *ca_bundle;
};

void http_headers_add(http_headers *h, const char *name, const char *value)
{
    h->lines = xrealloc(h->lines, (h->count + 1) * sizeof *h->lines);
    h->lines[h->count++] = xasprintf("%s: %s", name, value);
}

void http_headers_addf(http_headers *h, const char *name, const char *fmt, ...)
{
    strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vaddf(&sb, fmt, ap);
    va_end(ap);
    http_headers_add(h, name, sb_str(&sb));
    sb_free(&sb);
}

void http_headers_free(http_headers *h)
{
    for (size_t i = 0; i < h->count; i++)
        free(h->lines[i]);
    free(h->lines);
    h->lines = NULL;
    h->count = 0;
}

http_client *http_client_new(const http_tls *tls)
{
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    http_client *c = xcalloc(1, sizeof *c);
    c->curl = curl;
    if (tls) {
        c->tls = *tls;
        if (tls->ca_bundle)
            c->ca_bundle = xstrdup(tls->ca_bundle);
        c->tls.ca_bundle = c->ca_bundle;
    }
    return c;
}

void http_client_free(http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->ca_bundle);
    free(c);
}

typedef struct transfer {
    const http_request *req;
    http_response *resp;
    const char *body_pos;
    size_t body_left;
    int aborted_by_callback;
    int head_ended;   /* the blank line that ends the response's header block arrived */
} transfer;

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t n = size * nmemb;
    if (t->req->on_body) {
        if (t->req->on_body(t->req->on_body_ud, data, n) != 0) {
            t->aborted_by_callback = 1;
            return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
        }
        return n;
    }
    sb_add(&t->resp->body, data, n);
    return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t cap = size * nmemb;
    if (t->req->upload)
        return t->req->upload(t->req->upload_ud, buf, cap);
    size_t n = t->body_left < cap ? t->body_left : cap;
    memcpy(buf, t->body_pos, n);
    t->body_pos += n;
    t->body_left -= n;
    return n;
}

/* libcurl rewinds the body when it sends a request again on a fresh
 * connection (the server had closed the reused keep-alive one): possible
 * for a body in memory. A streamed body cannot go back, and the request
 * fails for its caller to retry ("necessary data rewind wasn't possible"
 * had also failed heartbeats and deletes whose body was in memory). */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    transfer *t = ud;
    if (t->req->upload || origin != SEEK_SET || offset < 0 ||
        (uint64_t)offset > (uint64_t)t->req->body_len)
        return CURL_SEEKFUNC_CANTSEEK;
    t->body_pos = (const char *)t->req->body + offset;
    t->body_left = t->req->body_len - (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* Keeps "name: value" with the name lower-cased; drops the status line;
 * notes the blank line that ends the header block. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    transfer *t = ud;
    size_t n = size * nmemb;
    if ((n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n')) {
        t->head_ended = 1;
        return n;
    }
    if (n > 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new response (after 100-continue or a redirect) starts afresh.
         * Its status is known before the body: on_body callbacks can tell
         * an error document from the data they stream. */
        const char *sp = memchr(data, ' ', n);
        t->resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        t->head_ended = 0;
        http_headers_free(&t->resp->headers);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    const char *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    char *name = xstrndup(data, name_len);
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    char *value = xstrndup(v, (size_t)(end - v));
    http_headers_add(&t->resp->headers, name, value);
    free(name);
    free(value);
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    transfer *t = ud;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return t->req->should_abort(t->req->abort_ud) ? 1 : 0;
}

static struct curl_slist *build_headers(const http_request *req)
{
    struct curl_slist *list = NULL;
    for (size_t i = 0; req->headers && i < req->headers->count; i++)
        list = curl_slist_append(list, req->headers->lines[i]);
    /* libcurl would add these on its own; AWS signatures must not see surprises */
    list = curl_slist_append(list, "Expect:");
    list = curl_slist_append(list, "Accept:");
    return list;
}

static void set_method(CURL *curl, const http_request *req, transfer *t)
{
    const char *m = req->method;
    int has_body = req->body || req->upload;
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(m, "PUT") == 0 || (strcmp(m, "POST") == 0 && has_body)) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, t);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, t);
        curl_off_t len = req->upload ? (curl_off_t)req->upload_len : (curl_off_t)req->body_len;
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, len);
        if (strcmp(m, "POST") == 0)
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
        return;
    }
    if (strcmp(m, "GET") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, m);
}

/* Only http and https, also after a redirect: a URL that comes from a
 * message (an SNS SubscribeURL, a webhook target) must not reach file://,
 * ftp:// or any other scheme libcurl was built with. */
static void restrict_protocols(CURL *curl)
{
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

int http_perform(http_client *c, const http_request *req, http_response *resp)
{
    CURL *curl = c->curl;
    transfer t = {.req = req, .resp = resp, .body_pos = req->body, .body_left = req->body_len};
    char errbuf[CURL_ERROR_SIZE] = "";
    memset(resp, 0, sizeof *resp);

    curl_easy_reset(curl); /* keeps the connection cache */
    restrict_protocols(curl);
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    /* send the path as built: S3 keys may hold "/./" or "/../", and a
     * rewritten path would name another object and break the signature */
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms ? req->connect_timeout_ms : 10000L);
    if (req->timeout_ms)
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    if (req->low_speed_time_s) {
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, req->low_speed_time_s);
    }
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    if (c->tls.ca_bundle)
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->tls.ca_bundle);
    if (c->tls.insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (req->should_abort) {
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    }
    struct curl_slist *headers = build_headers(req);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    set_method(curl, req, &t);

    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (rc == CURLE_OK && !t.head_ended) {
        /* libcurl (7.88 at least) calls a connection closed in the middle
         * of the headers a complete response: the status line with some of
         * the headers and no body. A HEAD would lose its ETag and size, a
         * GET of a small object would look empty. It is a cut answer. */
        http_headers_free(&resp->headers);
        resp->status = 0;
        resp->transport_error = (int)CURLE_PARTIAL_FILE;
        snprintf(resp->error, sizeof resp->error,
                 "the connection closed inside the response headers");
        return -1;
    }
    if (rc == CURLE_OK)
        return 0;
    if (t.aborted_by_callback && resp->status > 0)
        return 0; /* the caller stopped reading a response it has */
    resp->transport_error = (int)rc;
    resp->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    resp->aborted = rc == CURLE_ABORTED_BY_CALLBACK;
    snprintf(resp->error, sizeof resp->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return -1;
}

const char *http_response_header(const http_response *resp, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < resp->headers.count; i++) {
        const char *line = resp->headers.lines[i];
        if (strncasecmp(line, name, len) == 0 && line[len] == ':')
            return line + len + 2;
    }
    return NULL;
}

void http_response_free(http_response *resp)
{
    sb_free(&resp->body);
    http_headers_free(&resp->headers);
}
