/* sigv4.c — AWS Signature Version 4.
 *
 * The canonical request follows botocore, which is the reference for both
 * modes: S3SigV4Auth for S3 (the path as sent, no normalisation) and
 * SigV4Auth for the other services (dot segments and duplicate slashes
 * removed, then the sent path encoded once more). docs/sigv4.md has the
 * rules and the three proofs. All cryptography is OpenSSL's. */
#include "autoconfig.h"
#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/urlcodec.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* ---- hashing ---- */

static void to_hex(const unsigned char *bin, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

static void crypto_failed(const char *what)
{
    /* Only a broken OpenSSL install gets here; like OOM, not recoverable. */
    fprintf(stderr, "sluice: OpenSSL %s failed\n", what);
    abort();
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32)
        crypto_failed("SHA-256");
    to_hex(md, 32, out);
}

static void hmac_sha256(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out,
              &out_len) ||
        out_len != 32)
        crypto_failed("HMAC-SHA256");
}

/* kSigning = HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request". */
static void derive_signing_key(const char *secret, const char *date8, const char *region,
                               const char *service, unsigned char key[32])
{
    size_t secret_len = strlen(secret);
    char *k_secret = xmalloc(secret_len + 5);
    memcpy(k_secret, "AWS4", 4);
    memcpy(k_secret + 4, secret, secret_len + 1);

    unsigned char k_date[32], k_region[32], k_service[32];
    hmac_sha256(k_secret, secret_len + 4, date8, k_date);
    hmac_sha256(k_date, 32, region, k_region);
    hmac_sha256(k_region, 32, service, k_service);
    hmac_sha256(k_service, 32, "aws4_request", key);

    OPENSSL_cleanse(k_secret, secret_len + 4);
    free(k_secret);
    OPENSSL_cleanse(k_date, sizeof k_date);
    OPENSSL_cleanse(k_region, sizeof k_region);
    OPENSSL_cleanse(k_service, sizeof k_service);
}

/* ---- encoding ---- */

/* ---- canonical URI ---- */

/* RFC 3986 remove_dot_segments, plus what AWS services want on top:
 * empty segments (duplicate slashes) go too, and a trailing slash stays
 * only when something is left before it. Mirrors botocore's
 * normalize_url_path, the reference for non-S3 services. */
static char *normalize_path(const char *path)
{
    size_t len = strlen(path);
    if (len == 0)
        return xstrdup("/");

    /* Segment boundaries kept as (start, length) pairs; ".." pops one. */
    size_t n = 0;
    size_t *seg_start = xmalloc((len + 1) * sizeof *seg_start);
    size_t *seg_len = xmalloc((len + 1) * sizeof *seg_len);
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t sl = j - i;
        if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n > 0)
                n--;
        } else if (sl > 0 && !(sl == 1 && path[i] == '.')) {
            seg_start[n] = i;
            seg_len[n] = sl;
            n++;
        }
        i = j + 1;
    }

    strbuf sb = STRBUF_INIT;
    if (path[0] == '/')
        sb_addc(&sb, '/');
    for (size_t k = 0; k < n; k++) {
        if (k > 0)
            sb_addc(&sb, '/');
        sb_add(&sb, path + seg_start[k], seg_len[k]);
    }
    if (path[len - 1] == '/' && n > 0)
        sb_addc(&sb, '/');
    free(seg_start);
    free(seg_len);
    return sb_steal(&sb);
}

/* wire_path is the path as it appears on the request line. */
static void add_canonical_uri(strbuf *cr, const char *wire_path, int s3_rules)
{
    if (!wire_path || !*wire_path) {
        sb_addc(cr, '/');
        return;
    }
    if (s3_rules) {
        sb_adds(cr, wire_path);
        return;
    }
    char *norm = normalize_path(wire_path);
    urlcodec_encode(cr, norm, strlen(norm), 1);
    free(norm);
}

/* ---- canonical query ---- */

typedef struct enc_param {
    char *name;
    char *value;
} enc_param;

static int enc_param_cmp(const void *a, const void *b)
{
    const enc_param *pa = a, *pb = b;
    int c = strcmp(pa->name, pb->name);
    return c ? c : strcmp(pa->value, pb->value);
}

char *sigv4_canonical_query(const sigv4_param *query, size_t n)
{
    if (n == 0)
        return xstrdup("");
    enc_param *p = xcalloc(n, sizeof *p);
    for (size_t i = 0; i < n; i++) {
        const char *name = query[i].name ? query[i].name : "";
        const char *value = query[i].value ? query[i].value : "";
        p[i].name = urlcodec_encode_dup(name, strlen(name), 0);
        p[i].value = urlcodec_encode_dup(value, strlen(value), 0);
    }
    /* Equal (name, value) pairs are interchangeable: no stability needed. */
    qsort(p, n, sizeof *p, enc_param_cmp);

    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sb_addc(&sb, '&');
        sb_adds(&sb, p[i].name);
        sb_addc(&sb, '=');
        sb_adds(&sb, p[i].value);
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
    return sb_steal(&sb);
}

/* ---- canonical headers ---- */

typedef struct canon_header {
    char *name;   /* lower-case */
    char *value;  /* trimmed, whitespace runs folded */
    size_t order; /* position given: duplicates keep it */
} canon_header;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char *lower_dup(const char *s)
{
    char *out = xstrdup(s);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

/* SigV4's Trimall: no leading/trailing whitespace, inner runs become one space. */
static char *trim_all(const char *v)
{
    strbuf sb = STRBUF_INIT;
    int pending_space = 0;
    for (const char *p = v ? v : ""; *p; p++) {
        if (is_space(*p)) {
            pending_space = sb.len > 0;
            continue;
        }
        if (pending_space)
            sb_addc(&sb, ' ');
        pending_space = 0;
        sb_addc(&sb, *p);
    }
    return sb_steal(&sb);
}

static int canon_header_cmp(const void *a, const void *b)
{
    const canon_header *ha = a, *hb = b;
    int c = strcmp(ha->name, hb->name);
    if (c)
        return c;
    return ha->order < hb->order ? -1 : ha->order > hb->order;
}

/* Headers the signer owns: the caller's copies are replaced, never doubled. */
static int signer_owned(const char *lname, const aws_credentials *cred)
{
    if (strcmp(lname, "x-amz-date") == 0 || strcmp(lname, "authorization") == 0)
        return 1;
    return cred->session_token && strcmp(lname, "x-amz-security-token") == 0;
}

static void add_header(canon_header *h, size_t *n, char *lname, char *value)
{
    h[*n].name = lname;
    h[*n].value = value;
    h[*n].order = *n;
    (*n)++;
}

/* Appends the canonical header block (ending in "\n") to cr and the
 * signed-header list to signed_names. */
static void add_canonical_headers(strbuf *cr, strbuf *signed_names, const sigv4_request *req,
                                  const aws_credentials *cred, const char *amz_date)
{
    canon_header *h = xcalloc(req->n_headers + 2, sizeof *h);
    size_t n = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        char *lname = lower_dup(req->headers[i].name);
        if (signer_owned(lname, cred)) {
            free(lname);
            continue;
        }
        add_header(h, &n, lname, trim_all(req->headers[i].value));
    }
    add_header(h, &n, xstrdup("x-amz-date"), xstrdup(amz_date));
    if (cred->session_token)
        add_header(h, &n, xstrdup("x-amz-security-token"), trim_all(cred->session_token));

    qsort(h, n, sizeof *h, canon_header_cmp);
    for (size_t i = 0; i < n; i++) {
        int same_as_prev = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same_as_prev) {
            sb_addc(cr, ',');
        } else {
            if (i > 0) {
                sb_addc(cr, '\n');
                sb_addc(signed_names, ';');
            }
            sb_adds(cr, h[i].name);
            sb_addc(cr, ':');
            sb_adds(signed_names, h[i].name);
        }
        sb_adds(cr, h[i].value);
    }
    sb_addc(cr, '\n');
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

/* ---- signing ---- */

static void format_amz_date(time_t now, char out[17])
{
    struct tm tm;
    if (!gmtime_r(&now, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        memcpy(out, "19700101T000000Z", 17);
}

char *sigv4_scope(time_t now, const char *region, const char *service)
{
    char amz_date[17];
    format_amz_date(now, amz_date);
    return xasprintf("%.8s/%s/%s/aws4_request", amz_date, region, service);
}

static void upper_into(strbuf *sb, const char *s)
{
    for (; *s; s++)
        sb_addc(sb, (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s);
}

static char *build_canonical_request(const sigv4_request *req, const aws_credentials *cred,
                                     const char *wire_path, const char *amz_date,
                                     char **signed_headers)
{
    strbuf cr = STRBUF_INIT, names = STRBUF_INIT;
    upper_into(&cr, req->method ? req->method : "GET");
    sb_addc(&cr, '\n');
    add_canonical_uri(&cr, wire_path, req->s3_path_rules);
    sb_addc(&cr, '\n');
    char *query = sigv4_canonical_query(req->query, req->n_query);
    sb_adds(&cr, query);
    free(query);
    sb_addc(&cr, '\n');
    add_canonical_headers(&cr, &names, req, cred, amz_date);
    sb_addc(&cr, '\n');
    sb_adds(&cr, sb_str(&names));
    sb_addc(&cr, '\n');
    sb_adds(&cr, req->payload_hash ? req->payload_hash : SIGV4_EMPTY_SHA256);
    *signed_headers = sb_steal(&names);
    return sb_steal(&cr);
}

static int sign_with_wire_path(const sigv4_request *req, const aws_credentials *cred,
                               const char *wire_path, sigv4_result *res)
{
    memset(res, 0, sizeof *res);
    format_amz_date(req->now, res->amz_date);
    const char *region = req->region ? req->region : "us-east-1";
    const char *service = req->service ? req->service : "s3";

    res->canonical_request =
        build_canonical_request(req, cred, wire_path, res->amz_date, &res->signed_headers);

    char cr_hash[65];
    sigv4_sha256_hex(res->canonical_request, strlen(res->canonical_request), cr_hash);
    char *scope = sigv4_scope(req->now, region, service);
    res->string_to_sign =
        xasprintf(SIGV4_ALGORITHM "\n%s\n%s\n%s", res->amz_date, scope, cr_hash);

    char date8[9];
    memcpy(date8, res->amz_date, 8);
    date8[8] = '\0';
    unsigned char key[32], sig[32];
    char sig_hex[65];
    derive_signing_key(cred->secret_access_key ? cred->secret_access_key : "", date8, region,
                       service, key);
    hmac_sha256(key, sizeof key, res->string_to_sign, sig);
    OPENSSL_cleanse(key, sizeof key);
    to_hex(sig, sizeof sig, sig_hex);

    res->authorization = xasprintf(SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
                                                   "Signature=%s",
                                   cred->access_key_id ? cred->access_key_id : "", scope,
                                   res->signed_headers, sig_hex);
    free(scope);
    return 0;
}

int sigv4_sign_wire_path(const sigv4_request *req, const aws_credentials *cred,
                         sigv4_result *res)
{
    return sign_with_wire_path(req, cred, req->path, res);
}

int sigv4_sign(const sigv4_request *req, const aws_credentials *cred, sigv4_result *res)
{
    /* The path goes on the wire encoded once ('/' kept); S3 signs exactly
     * that, the others encode it a second time. */
    const char *path = req->path && *req->path ? req->path : "/";
    char *wire = urlcodec_encode_dup(path, strlen(path), 1);
    int rc = sign_with_wire_path(req, cred, wire, res);
    free(wire);
    return rc;
}

void sigv4_result_free(sigv4_result *res)
{
    if (!res)
        return;
    free(res->canonical_request);
    free(res->string_to_sign);
    free(res->authorization);
    free(res->signed_headers);
    memset(res, 0, sizeof *res);
}
