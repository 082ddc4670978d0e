/* aws_request.c — build, sign and send one AWS request (aws_request.h). */
#include "autoconfig.h"
#include "aws/aws_request.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/url.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/urlcodec.h"

static const char *payload_hash(const aws_request *req, char buf[65])
{
    if (req->payload_sha256)
        return req->payload_sha256;
    if (!req->body_len)
        return SIGV4_EMPTY_SHA256;
    sigv4_sha256_hex(req->body, req->body_len, buf);
    return buf;
}

/* The headers that are signed: host, the caller's, and for S3 the payload
 * hash. */
static sigv4_header *signed_headers(const aws_request *req, const char *host, const char *hash,
                                    size_t *n)
{
    sigv4_header *sh = xcalloc(req->n_headers + 2, sizeof *sh);
    size_t k = 0;
    sh[k++] = (sigv4_header){"host", host};
    if (req->s3)
        sh[k++] = (sigv4_header){"x-amz-content-sha256", hash};
    for (size_t i = 0; i < req->n_headers; i++)
        sh[k++] = req->headers[i];
    *n = k;
    return sh;
}

/* What goes on the wire: the signing headers first, then the caller's
 * exactly as signed. */
static void wire_headers(http_headers *hh, const aws_request *req, const url_parts *u,
                         const char *hash, const sigv4_result *sig, const aws_credentials *cred)
{
    http_headers_add(hh, "Host", u->authority);
    http_headers_add(hh, "X-Amz-Date", sig->amz_date);
    if (req->s3)
        http_headers_add(hh, "X-Amz-Content-SHA256", hash);
    if (cred->session_token)
        http_headers_add(hh, "X-Amz-Security-Token", cred->session_token);
    for (size_t i = 0; i < req->n_headers; i++)
        http_headers_add(hh, req->headers[i].name, req->headers[i].value);
    http_headers_add(hh, "Authorization", sig->authorization);
    http_headers_addf(hh, "User-Agent", "sluice/%s", PACKAGE_VERSION);
}

int aws_request_send(http_client *h, const aws_credentials *cred, const aws_request *req,
                     http_response *resp, sl_error *err)
{
    memset(resp, 0, sizeof *resp);
    url_parts u;
    if (url_parse(req->url, &u) != 0 || u.query || u.userinfo || u.fragment) {
        char *m = url_for_message(req->url);
        sl_error_set(err, SL_ERR_CONFIG, "%s %s: not an http(s) endpoint URL", req->service, m);
        free(m);
        if (u.scheme)
            url_parts_free(&u);
        return -2;
    }
    char hash_buf[65];
    const char *hash = payload_hash(req, hash_buf);
    size_t n_sh;
    sigv4_header *sh = signed_headers(req, u.authority, hash, &n_sh);
    sigv4_request sr = {
        .method = req->method,
        .path = u.path,
        .query = req->query,
        .n_query = req->n_query,
        .headers = sh,
        .n_headers = n_sh,
        .payload_hash = hash,
        .region = req->region,
        .service = req->service,
        .now = time(NULL),
        .s3_path_rules = req->s3,
    };
    sigv4_result sig = {0};
    sigv4_sign_wire_path(&sr, cred, &sig);

    http_headers hh = {0};
    wire_headers(&hh, req, &u, hash, &sig, cred);
    /* the canonical query is a valid query: what is sent is what is signed */
    char *qs = sigv4_canonical_query(req->query, req->n_query);
    char *url = *qs ? xasprintf("%s?%s", req->url, qs) : xstrdup(req->url);
    free(qs);
    http_request hr = {
        .method = req->method,
        .url = url,
        .headers = &hh,
        .body = req->upload ? NULL : req->body,
        .body_len = req->upload ? 0 : req->body_len,
        .upload = req->upload,
        .upload_ud = req->upload_ud,
        .upload_len = req->upload_len,
        .on_body = req->on_body,
        .on_body_ud = req->on_body_ud,
        .timeout_ms = req->timeout_ms,
        .connect_timeout_ms = req->connect_timeout_ms,
        .should_abort = req->should_abort,
        .abort_ud = req->abort_ud,
    };
    int rc = http_perform(h, &hr, resp);

    /* the headers held the session token and the signature */
    for (size_t i = 0; i < hh.count; i++)
        explicit_bzero(hh.lines[i], strlen(hh.lines[i]));
    http_headers_free(&hh);
    sigv4_result_free(&sig);
    free(sh);
    free(url);
    url_parts_free(&u);
    return rc == 0 ? 0 : -1;
}

void aws_request_form_add(strbuf *body, const char *name, const char *value)
{
    if (body->len)
        sb_addc(body, '&');
    urlcodec_encode(body, name, strlen(name), 0);
    sb_addc(body, '=');
    urlcodec_encode(body, value, strlen(value), 0);
}
