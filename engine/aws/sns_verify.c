/* sns_verify.c — SNS message signatures (see sns_verify.h). */
#include "autoconfig.h"
#include "aws/sns_verify.h"

#include <ctype.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http.h"
#include "net/url.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/strbuf.h"

/* Real SNS certificates are about 2 KB; anything far larger is not one. */
#define CERT_MAX_BYTES (64 * 1024)
/* RSA-4096 signatures are 512 bytes; leave room, refuse the absurd. */
#define SIGNATURE_MAX_B64 2048

typedef struct cached_cert {
    char *url;
    X509 *cert;
} cached_cert;

struct sns_verifier {
    X509_STORE *trust;
    char **map_from, **map_to;
    size_t n_map;
    long fetch_timeout_ms;

    pthread_mutex_t lock; /* guards the cache */
    cached_cert *cache;
    size_t n_cache;
};

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* --- the certificate URL rule ---------------------------------------------- */

/* "sns.<region>.amazonaws.com" or "sns.<region>.amazonaws.com.cn", where
 * the region is lower-case letters, digits and inner hyphens. */
static int sns_host_allowed(const char *host, size_t len)
{
    static const char *const suffixes[] = {".amazonaws.com", ".amazonaws.com.cn"};
    if (len < 4 || strncmp(host, "sns.", 4) != 0)
        return 0;
    for (size_t s = 0; s < sizeof suffixes / sizeof *suffixes; s++) {
        size_t sl = strlen(suffixes[s]);
        if (len <= 4 + sl || strncmp(host + len - sl, suffixes[s], sl) != 0)
            continue;
        const char *region = host + 4;
        size_t rl = len - 4 - sl;
        if (rl < 3 || rl > 40 || region[0] == '-' || region[rl - 1] == '-')
            return 0;
        for (size_t i = 0; i < rl; i++)
            if (!(islower((unsigned char)region[i]) || isdigit((unsigned char)region[i]) ||
                  region[i] == '-'))
                return 0;
        return 1;
    }
    return 0;
}

int sns_cert_url_allowed(const char *url)
{
    static const char scheme[] = "https://";
    if (!url || strncasecmp(url, scheme, sizeof scheme - 1) != 0)
        return 0;
    /* Plain printable characters: no query, no fragment, no user, nothing
     * that could be read differently by the fetcher. */
    for (const char *p = url; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#' || *p == '\\' || *p == '@')
            return 0;
    url_parts u;
    if (url_parse(url, &u) != 0)
        return 0;
    /* the host exactly as written (lower case, no port), then a path
     * ending in .pem */
    size_t hl = strlen(u.host), plen = strlen(u.path);
    const char *written = url + sizeof scheme - 1;
    int ok = sns_host_allowed(u.host, hl) && strncmp(written, u.host, hl) == 0 &&
             written[hl] == '/' && plen >= 5 && strcmp(u.path + plen - 4, ".pem") == 0;
    url_parts_free(&u);
    return ok;
}

int sns_subscribe_url_allowed(const char *url)
{
    static const char scheme[] = "https://";
    static const char action[] = "/?Action=ConfirmSubscription&";
    if (!url || strncasecmp(url, scheme, sizeof scheme - 1) != 0)
        return 0;
    for (const char *p = url; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '#' || *p == '\\' || *p == '@')
            return 0;
    url_parts u;
    if (url_parse(url, &u) != 0)
        return 0;
    size_t hl = strlen(u.host);
    const char *written = url + sizeof scheme - 1;
    int ok = sns_host_allowed(u.host, hl) && strncmp(written, u.host, hl) == 0 &&
             strncmp(written + hl, action, sizeof action - 1) == 0 && strcmp(u.path, "/") == 0;
    url_parts_free(&u);
    return ok;
}

/* --- the string to sign ------------------------------------------------------ */

typedef struct signed_field {
    const char *name;
    int optional;
} signed_field;

static const signed_field notification_fields[] = {
    {"Message", 0}, {"MessageId", 0}, {"Subject", 1}, {"Timestamp", 0},
    {"TopicArn", 0}, {"Type", 0}, {NULL, 0},
};
static const signed_field confirmation_fields[] = {
    {"Message", 0}, {"MessageId", 0}, {"SubscribeURL", 0}, {"Timestamp", 0},
    {"Token", 0}, {"TopicArn", 0}, {"Type", 0}, {NULL, 0},
};

char *sns_string_to_sign(json_t *msg, char *why, size_t whylen)
{
    const char *type = json_string_value(json_object_get(msg, "Type"));
    const signed_field *fields;
    if (!type) {
        set_why(why, whylen, "Type: missing or not a string");
        return NULL;
    }
    if (strcmp(type, "Notification") == 0)
        fields = notification_fields;
    else if (strcmp(type, "SubscriptionConfirmation") == 0 ||
             strcmp(type, "UnsubscribeConfirmation") == 0)
        fields = confirmation_fields;
    else {
        set_why(why, whylen, "Type: unknown SNS message type \"%s\"", type);
        return NULL;
    }
    strbuf sb = STRBUF_INIT;
    for (const signed_field *f = fields; f->name; f++) {
        json_t *v = json_object_get(msg, f->name);
        if ((!v || json_is_null(v)) && f->optional)
            continue;
        if (!json_is_string(v)) {
            set_why(why, whylen, "%s: %s", f->name, v ? "expected a string" : "missing");
            sb_free(&sb);
            return NULL;
        }
        sb_adds(&sb, f->name);
        sb_addc(&sb, '\n');
        sb_add(&sb, json_string_value(v), json_string_length(v));
        sb_addc(&sb, '\n');
    }
    return sb_steal(&sb);
}

/* --- construction ------------------------------------------------------------ */

static int load_trust(sns_verifier *v, const char *test_ca, sl_error *err)
{
    v->trust = X509_STORE_new();
    if (!v->trust) {
        sl_error_set(err, SL_ERR_INTERNAL, "sns: cannot create a certificate store");
        return -1;
    }
    if (test_ca) {
        if (X509_STORE_load_locations(v->trust, test_ca, NULL) != 1) {
            sl_error_set(err, SL_ERR_CONFIG, "sns: cannot load the test CA %s", test_ca);
            return -1;
        }
        log_msg(NULL, SL_LOG_WARN,
                "TEST ONLY: SNS signing certificates are checked against %s, NOT the system "
                "trust store; never use this in production",
                test_ca);
        return 0;
    }
    if (X509_STORE_set_default_paths(v->trust) != 1) {
        sl_error_set(err, SL_ERR_CONFIG, "sns: cannot load the system trust store");
        return -1;
    }
    return 0;
}

static int load_url_map(sns_verifier *v, char *const *map, size_t n, sl_error *err)
{
    v->map_from = xcalloc(n ? n : 1, sizeof *v->map_from);
    v->map_to = xcalloc(n ? n : 1, sizeof *v->map_to);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(map[i], '=');
        if (!eq || eq == map[i]) {
            sl_error_set(err, SL_ERR_CONFIG,
                         "sns: certificate URL map \"%s\": expected PREFIX=REPLACEMENT", map[i]);
            return -1;
        }
        v->map_from[i] = xstrndup(map[i], (size_t)(eq - map[i]));
        v->map_to[i] = xstrdup(eq + 1);
        v->n_map++;
        log_msg(NULL, SL_LOG_WARN,
                "TEST ONLY: SNS certificate URLs starting with %s are fetched from %s instead",
                v->map_from[i], v->map_to[i]);
    }
    return 0;
}

sns_verifier *sns_verifier_new(const sns_verify_options *opts, sl_error *err)
{
    sns_verifier *v = xcalloc(1, sizeof *v);
    pthread_mutex_init(&v->lock, NULL);
    v->fetch_timeout_ms = opts->fetch_timeout_ms > 0 ? opts->fetch_timeout_ms : 10000;
    if (load_trust(v, opts->test_ca_file, err) != 0 ||
        load_url_map(v, opts->test_url_map, opts->n_test_url_map, err) != 0) {
        sns_verifier_free(v);
        return NULL;
    }
    return v;
}

void sns_verifier_free(sns_verifier *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_cache; i++) {
        free(v->cache[i].url);
        X509_free(v->cache[i].cert);
    }
    free(v->cache);
    for (size_t i = 0; i < v->n_map; i++) {
        free(v->map_from[i]);
        free(v->map_to[i]);
    }
    free(v->map_from);
    free(v->map_to);
    X509_STORE_free(v->trust);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

/* --- fetching and checking certificates -------------------------------------- */

char *sns_fetch_url(const sns_verifier *v, const char *url)
{
    for (size_t i = 0; i < v->n_map; i++) {
        size_t fl = strlen(v->map_from[i]);
        if (strncmp(url, v->map_from[i], fl) == 0)
            return xasprintf("%s%s", v->map_to[i], url + fl);
    }
    return xstrdup(url);
}

typedef struct capped_body {
    strbuf *sb;
    int too_big;
} capped_body;

static int collect_capped(void *ud, const char *data, size_t len)
{
    capped_body *cb = ud;
    if (cb->sb->len + len > CERT_MAX_BYTES) {
        cb->too_big = 1;
        return 1;
    }
    sb_add(cb->sb, data, len);
    return 0;
}

/* 0 with the PEM text in `pem`; else a verdict. */
static sns_verdict fetch_pem(const sns_verifier *v, const char *url, strbuf *pem, char *why,
                             size_t whylen)
{
    char *target = sns_fetch_url(v, url);
    http_client *c = http_client_new(NULL);
    http_response resp = {0};
    capped_body body = {pem, 0};
    http_request req = {.method = "GET",
                        .url = target,
                        .on_body = collect_capped,
                        .on_body_ud = &body,
                        .timeout_ms = v->fetch_timeout_ms};
    sns_verdict verdict = SNS_VALID;
    if (!c) {
        set_why(why, whylen, "cannot create an HTTP client");
        verdict = SNS_UNAVAILABLE;
    } else if (http_perform(c, &req, &resp) != 0) {
        if (body.too_big) {
            set_why(why, whylen, "signing certificate %s is larger than %d bytes", url,
                    CERT_MAX_BYTES);
            verdict = SNS_REJECTED;
        } else {
            set_why(why, whylen, "cannot fetch the signing certificate %s: %s", url, resp.error);
            verdict = SNS_UNAVAILABLE;
        }
    } else if (resp.status != 200) {
        set_why(why, whylen, "cannot fetch the signing certificate %s: HTTP %ld", url,
                resp.status);
        verdict = resp.status >= 500 ? SNS_UNAVAILABLE : SNS_REJECTED;
    }
    http_response_free(&resp);
    http_client_free(c);
    free(target);
    return verdict;
}

/* The first certificate of the PEM text is the signer; any further ones
 * are intermediates offered for the chain. */
static X509 *check_chain(const sns_verifier *v, const strbuf *pem, const char *url, char *why,
                         size_t whylen)
{
    BIO *bio = BIO_new_mem_buf(pem->buf ? pem->buf : "", (int)pem->len);
    X509 *leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *extra;
    while (leaf && chain && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(chain, extra))
            X509_free(extra);
    ERR_clear_error(); /* the loop ends on a "no start line" error */
    BIO_free(bio);

    int ok = 0;
    if (!leaf) {
        set_why(why, whylen, "%s: not a PEM certificate", url);
    } else {
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        if (ctx && X509_STORE_CTX_init(ctx, v->trust, leaf, chain) == 1) {
            ok = X509_verify_cert(ctx) == 1;
            if (!ok)
                set_why(why, whylen, "signing certificate %s does not verify: %s", url,
                        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        } else {
            set_why(why, whylen, "cannot check the signing certificate %s", url);
        }
        X509_STORE_CTX_free(ctx);
    }
    sk_X509_pop_free(chain, X509_free);
    if (!ok) {
        X509_free(leaf);
        return NULL;
    }
    return leaf;
}

/* A cached certificate, with a reference for the caller, or NULL. Expired
 * ones are dropped so that they are fetched (and refused) again. */
static X509 *cache_get(sns_verifier *v, const char *url)
{
    X509 *cert = NULL;
    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < v->n_cache; i++) {
        if (strcmp(v->cache[i].url, url) != 0)
            continue;
        if (X509_cmp_current_time(X509_get0_notAfter(v->cache[i].cert)) < 0) {
            free(v->cache[i].url);
            X509_free(v->cache[i].cert);
            v->cache[i] = v->cache[--v->n_cache];
        } else {
            cert = v->cache[i].cert;
            X509_up_ref(cert);
        }
        break;
    }
    pthread_mutex_unlock(&v->lock);
    return cert;
}

static void cache_put(sns_verifier *v, const char *url, X509 *cert)
{
    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < v->n_cache; i++)
        if (strcmp(v->cache[i].url, url) == 0) {
            pthread_mutex_unlock(&v->lock); /* another thread was first */
            return;
        }
    v->cache = xrealloc(v->cache, (v->n_cache + 1) * sizeof *v->cache);
    v->cache[v->n_cache].url = xstrdup(url);
    X509_up_ref(cert);
    v->cache[v->n_cache].cert = cert;
    v->n_cache++;
    pthread_mutex_unlock(&v->lock);
}

static sns_verdict signing_cert(sns_verifier *v, const char *url, X509 **out, char *why,
                                size_t whylen)
{
    if ((*out = cache_get(v, url)) != NULL)
        return SNS_VALID;
    strbuf pem = STRBUF_INIT;
    sns_verdict verdict = fetch_pem(v, url, &pem, why, whylen);
    if (verdict == SNS_VALID) {
        *out = check_chain(v, &pem, url, why, whylen);
        if (*out)
            cache_put(v, url, *out);
        else
            verdict = SNS_REJECTED;
    }
    sb_free(&pem);
    return verdict;
}

/* --- the signature ------------------------------------------------------------ */

static unsigned char *decode_base64(const char *b64, size_t len, size_t *out_len)
{
    if (len == 0 || len % 4 != 0 || len > SIGNATURE_MAX_B64)
        return NULL;
    unsigned char *out = xmalloc(len / 4 * 3 + 1);
    int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
    if (n < 0) {
        free(out);
        return NULL;
    }
    size_t pad = b64[len - 1] == '=' ? (b64[len - 2] == '=' ? 2 : 1) : 0;
    *out_len = (size_t)n - pad;
    return out;
}

static int signature_matches(X509 *cert, const EVP_MD *md, const unsigned char *sig,
                             size_t sig_len, const char *tbs)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = key && ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)tbs, strlen(tbs)) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static const EVP_MD *signature_digest(json_t *msg, char *why, size_t whylen)
{
    const char *version = json_string_value(json_object_get(msg, "SignatureVersion"));
    if (!version) {
        set_why(why, whylen, "SignatureVersion: missing or not a string");
        return NULL;
    }
    if (strcmp(version, "1") == 0)
        return EVP_sha1();
    if (strcmp(version, "2") == 0)
        return EVP_sha256();
    set_why(why, whylen, "SignatureVersion: unsupported \"%s\" (expected 1 or 2)", version);
    return NULL;
}

sns_verdict sns_verify(sns_verifier *v, json_t *msg, char *why, size_t whylen)
{
    set_why(why, whylen, "ok");
    char *tbs = sns_string_to_sign(msg, why, whylen);
    if (!tbs)
        return SNS_MALFORMED;

    sns_verdict verdict = SNS_REJECTED;
    const char *url = json_string_value(json_object_get(msg, "SigningCertURL"));
    json_t *sigv = json_object_get(msg, "Signature");
    const EVP_MD *md = signature_digest(msg, why, whylen);
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    X509 *cert = NULL;

    if (!md)
        goto done;
    if (!url) {
        set_why(why, whylen, "SigningCertURL: missing or not a string");
        goto done;
    }
    if (!sns_cert_url_allowed(url)) {
        set_why(why, whylen,
                "SigningCertURL: \"%s\" is not an https://sns.<region>.amazonaws.com/...pem URL",
                url);
        goto done;
    }
    if (!json_is_string(sigv) ||
        !(sig = decode_base64(json_string_value(sigv), json_string_length(sigv), &sig_len))) {
        set_why(why, whylen, "Signature: missing or not base64");
        goto done;
    }
    verdict = signing_cert(v, url, &cert, why, whylen);
    if (verdict != SNS_VALID)
        goto done;
    if (!signature_matches(cert, md, sig, sig_len, tbs)) {
        set_why(why, whylen, "Signature: does not match the message (signed by %s)", url);
        verdict = SNS_REJECTED;
    }
done:
    X509_free(cert);
    free(sig);
    free(tbs);
    return verdict;
}
