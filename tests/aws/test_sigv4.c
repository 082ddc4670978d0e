/* test_sigv4.c — SigV4 against every case of AWS's official test suite
 * (tests/data/sigv4-test-suite: canonical request, string to sign and
 * Authorization byte-identical), then the S3 rules, the canonical query,
 * header handling and the credential helpers with exact values.
 *
 * The suite's .req files are parsed as the suite means them: the request
 * line's path is the path as sent (so sigv4_sign_wire_path), a header line
 * starting with whitespace continues the previous header as another value
 * (the expected canonical form joins them with ','), X-Amz-Date and
 * X-Amz-Security-Token are the signer's to add. Two documented errata of
 * the 2015-08-30 suite are handled explicitly; see suite_errata(). */
#include "autoconfig.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/sigv4.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"
#include "testdata.h"

#define SUITE_AKID "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_CASES 31 /* cases in the 2015-08-30 suite */

/* --- files ---------------------------------------------------------------- */

static char *suite_dir(void)
{
    return test_data_path(__FILE__, "sigv4-test-suite");
}

static char *slurp_case(const char *dir, const char *name, const char *ext)
{
    char *path = xasprintf("%s/%s%s", dir, name, ext);
    char *s = test_slurp(path, NULL);
    free(path);
    return s;
}

/* --- suite request parsing ------------------------------------------------ */

typedef struct suite_req {
    char *method;
    char *path; /* as on the request line */
    sigv4_param query[16];
    size_t n_query;
    sigv4_header headers[16];
    size_t n_headers;
    char *amz_date; /* the X-Amz-Date the request carries */
    char *token;    /* its X-Amz-Security-Token, if any */
    char *content_type;
    const char *body;
    size_t body_len;
} suite_req;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *percent_decode(const char *s, size_t len)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            sb_addc(&sb, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            sb_addc(&sb, s[i]);
        }
    }
    return sb_steal(&sb);
}

/* "a=1&b&c=" -> decoded (name, value) pairs appended to r->query. */
static void parse_query(suite_req *r, const char *q, size_t len)
{
    size_t i = 0;
    while (i < len && r->n_query < 16) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t name_len = eq ? (size_t)(eq - (q + i)) : j - i;
            r->query[r->n_query].name = percent_decode(q + i, name_len);
            r->query[r->n_query].value = eq ? percent_decode(eq + 1, (size_t)(q + j - eq - 1))
                                            : xstrdup("");
            r->n_query++;
        }
        i = j + 1;
    }
}

static void add_suite_header(suite_req *r, const char *name, size_t name_len, const char *value,
                             size_t value_len)
{
    char *n = xstrndup(name, name_len);
    char *v = xstrndup(value, value_len);
    if (strcasecmp(n, "x-amz-date") == 0) {
        free(r->amz_date);
        r->amz_date = v;
        free(n);
        return;
    }
    if (strcasecmp(n, "x-amz-security-token") == 0) {
        free(r->token);
        r->token = v;
        free(n);
        return;
    }
    if (strcasecmp(n, "content-type") == 0) {
        free(r->content_type);
        r->content_type = xstrdup(v);
    }
    if (r->n_headers < 16) {
        r->headers[r->n_headers].name = n;
        r->headers[r->n_headers].value = v;
        r->n_headers++;
    } else {
        free(n);
        free(v);
    }
}

static int parse_suite_req(const char *text, size_t len, suite_req *r)
{
    memset(r, 0, sizeof *r);
    const char *end = text + len;
    const char *eol = memchr(text, '\n', len);
    const char *line_end = eol ? eol : end;
    /* "METHOD path-maybe-with-spaces HTTP/1.1" */
    const char *sp1 = memchr(text, ' ', (size_t)(line_end - text));
    const char *sp2 = line_end;
    while (sp2 > text && sp2[-1] != ' ')
        sp2--;
    if (!sp1 || sp2 <= sp1 + 1)
        return -1;
    r->method = xstrndup(text, (size_t)(sp1 - text));
    const char *target = sp1 + 1;
    size_t target_len = (size_t)(sp2 - 1 - target);
    const char *qmark = memchr(target, '?', target_len);
    r->path = xstrndup(target, qmark ? (size_t)(qmark - target) : target_len);
    if (qmark)
        parse_query(r, qmark + 1, (size_t)(target + target_len - qmark - 1));

    const char *p = eol ? eol + 1 : end;
    const char *last_name = NULL;
    size_t last_name_len = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll > 0 && p[ll - 1] == '\r')
            ll--;
        if (ll == 0) { /* blank line: the body follows */
            r->body = nl ? nl + 1 : end;
            r->body_len = (size_t)(end - r->body);
            break;
        }
        if ((p[0] == ' ' || p[0] == '\t') && last_name) {
            add_suite_header(r, last_name, last_name_len, p, ll);
        } else {
            const char *colon = memchr(p, ':', ll);
            if (!colon)
                return -1;
            last_name = p;
            last_name_len = (size_t)(colon - p);
            add_suite_header(r, p, last_name_len, colon + 1, (size_t)(p + ll - colon - 1));
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static void suite_req_free(suite_req *r)
{
    free(r->method);
    free(r->path);
    for (size_t i = 0; i < r->n_query; i++) {
        free((char *)r->query[i].name);
        free((char *)r->query[i].value);
    }
    for (size_t i = 0; i < r->n_headers; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    free(r->amz_date);
    free(r->token);
    free(r->content_type);
}

/* 2015-08-30T12:36:00Z */
static time_t suite_time(void)
{
    struct tm tm = {0};
    tm.tm_year = 2015 - 1900;
    tm.tm_mon = 7;
    tm.tm_mday = 30;
    tm.tm_hour = 12;
    tm.tm_min = 36;
    return timegm(&tm);
}

/* The token the suite's post-sts-token/readme.txt names: its last line. */
static char *suite_token(const char *dir)
{
    char *path = xasprintf("%s/post-sts-token/readme.txt", dir);
    char *text = test_slurp(path, NULL);
    free(path);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    char *start = text + n;
    while (start > text && start[-1] != '\n')
        start--;
    char *tok = xstrdup(start);
    free(text);
    return tok;
}

/* --- the suite -------------------------------------------------------------- */

/* The 2015-08-30 suite has two known defects; both are pinned so that a
 * corrected suite makes this test fail loudly rather than pass by luck.
 *  - post-x-www-form-urlencoded: the .creq lists content-type among the
 *    canonical headers but leaves it out of its signed-headers line; the
 *    .sts hash and the .authz were computed with it in (content-type;host;
 *    x-amz-date), so the expected creq is the file with that line fixed.
 *  - post-x-www-form-urlencoded-parameters: the expected creq signs the
 *    form body's parameters as the query string with the empty payload
 *    hash; the request is built the same way (see run_case). */
static char *suite_errata(const char *name, const char *creq)
{
    if (strcmp(name, "post-x-www-form-urlencoded") != 0)
        return xstrdup(creq);
    const char *bad = "\nhost;x-amz-date\n";
    const char *at = strstr(creq, bad);
    ok(at != NULL, "%s: the suite's known signed-headers erratum is present", name);
    if (!at)
        return xstrdup(creq);
    return xasprintf("%.*s\ncontent-type;host;x-amz-date\n%s", (int)(at - creq), creq,
                     at + strlen(bad));
}

static int is_form(const suite_req *r)
{
    return r->content_type &&
           strncmp(r->content_type, "application/x-www-form-urlencoded", 33) == 0;
}

static void run_case(const char *dir, const char *name, const char *token)
{
    size_t req_len = 0;
    char *req_path = xasprintf("%s/%s.req", dir, name);
    char *req_text = test_slurp(req_path, &req_len);
    free(req_path);
    char *creq_file = slurp_case(dir, name, ".creq");
    char *sts = slurp_case(dir, name, ".sts");
    char *authz = slurp_case(dir, name, ".authz");
    char *sreq = slurp_case(dir, name, ".sreq");
    suite_req r;
    if (!req_text || !creq_file || !sts || !authz || !sreq ||
        parse_suite_req(req_text, req_len, &r) != 0) {
        ok(0, "%s: files present and .req parses", name);
        free(req_text);
        free(creq_file);
        free(sts);
        free(authz);
        free(sreq);
        return;
    }
    char *creq = suite_errata(name, creq_file);

    char body_hash[65];
    if (is_form(&r) && r.body_len > 0) { /* erratum 2: form body signed as the query */
        parse_query(&r, r.body, r.body_len);
        memcpy(body_hash, SIGV4_EMPTY_SHA256, 65);
    } else {
        sigv4_sha256_hex(r.body ? r.body : "", r.body_len, body_hash);
    }

    aws_credentials cred = {0};
    cred.access_key_id = SUITE_AKID;
    cred.secret_access_key = SUITE_SECRET;
    if (r.token) { /* "before": the token is part of the signed request */
        is_str(r.token, token, "%s: the request's token is the readme's", name);
        cred.session_token = r.token;
    }
    sigv4_request req = {
        .method = r.method,
        .path = r.path,
        .query = r.query,
        .n_query = r.n_query,
        .headers = r.headers,
        .n_headers = r.n_headers,
        .payload_hash = body_hash,
        .region = "us-east-1",
        .service = "service",
        .now = suite_time(),
        .s3_path_rules = 0,
    };
    sigv4_result res;
    is_int(sigv4_sign_wire_path(&req, &cred, &res), 0, "%s: signs", name);
    is_str(res.amz_date, r.amz_date, "%s: x-amz-date", name);
    is_str(res.canonical_request, creq, "%s: canonical request", name);
    is_str(res.string_to_sign, sts, "%s: string to sign", name);
    is_str(res.authorization, authz, "%s: authorization", name);
    char *auth_line = xasprintf("\nAuthorization: %s", res.authorization);
    ok(strstr(sreq, auth_line) != NULL, "%s: the signed request carries it", name);
    free(auth_line);
    if (strstr(dir, "post-sts-token") && !r.token) { /* "after": added unsigned */
        char *tok_line = xasprintf("\nX-Amz-Security-Token:%s\n", token);
        ok(strstr(sreq, tok_line) && !strstr(res.signed_headers, "x-amz-security-token"),
           "%s: token added after signing, not signed", name);
        free(tok_line);
    }
    sigv4_result_free(&res);
    suite_req_free(&r);
    free(req_text);
    free(creq_file);
    free(creq);
    free(sts);
    free(authz);
    free(sreq);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every directory holding <dirname>.req is a case; others are groups. */
static int walk_suite(const char *dir, const char *token)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);

    int cases = 0;
    for (size_t i = 0; i < n; i++) {
        char *sub = xasprintf("%s/%s", dir, names[i]);
        char *req = xasprintf("%s/%s.req", sub, names[i]);
        DIR *sd = opendir(sub);
        if (sd) {
            closedir(sd);
            FILE *f = fopen(req, "rb");
            if (f) {
                fclose(f);
                run_case(sub, names[i], token);
                cases++;
            } else {
                cases += walk_suite(sub, token);
            }
        }
        free(req);
        free(sub);
        free(names[i]);
    }
    free(names);
    return cases;
}

static void test_suite(void)
{
    char *dir = suite_dir();
    char *token = suite_token(dir);
    ok(token && strncmp(token, "AQoDYXdzEPT//", 13) == 0, "suite token read from readme");
    int cases = walk_suite(dir, token ? token : "");
    is_int(cases, SUITE_CASES, "every case of the suite ran");
    free(token);
    free(dir);
}

/* --- our own rules ------------------------------------------------------------ */

static aws_credentials doc_cred(void)
{
    aws_credentials c = {0};
    c.access_key_id = "AKIAIOSFODNN7EXAMPLE";
    c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    return c;
}

/* The GET Object example of the S3 API reference (header-based SigV4). */
static void test_s3_doc_example(void)
{
    struct tm tm = {0};
    tm.tm_year = 2013 - 1900;
    tm.tm_mon = 4;
    tm.tm_mday = 24;
    sigv4_header h[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
    };
    sigv4_request req = {.method = "GET", .path = "/test.txt", .headers = h, .n_headers = 3,
                         .payload_hash = SIGV4_EMPTY_SHA256, .region = "us-east-1",
                         .service = "s3", .now = timegm(&tm), .s3_path_rules = 1};
    aws_credentials c = doc_cred();
    sigv4_result res;
    sigv4_sign(&req, &c, &res);
    is_str(res.canonical_request,
           "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
           "x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
           "host;range;x-amz-content-sha256;x-amz-date\n" SIGV4_EMPTY_SHA256,
           "S3 doc example: canonical request");
    is_str(res.authorization,
           "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
           "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
           "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
           "S3 doc example: authorization");
    is_str(res.signed_headers, "host;range;x-amz-content-sha256;x-amz-date",
           "S3 doc example: signed headers");
    is_str(res.amz_date, "20130524T000000Z", "S3 doc example: amz date");
    sigv4_result_free(&res);
    ok(res.authorization == NULL && res.canonical_request == NULL, "result_free empties");
}

/* The canonical request's second line for path under either rule set. */
static char *canonical_uri(const char *path, int s3, int wire)
{
    sigv4_header h[] = {{"host", "h"}};
    sigv4_request req = {.method = "GET", .path = path, .headers = h, .n_headers = 1,
                         .region = "us-east-1", .service = s3 ? "s3" : "sqs", .now = 0,
                         .s3_path_rules = s3};
    aws_credentials c = doc_cred();
    sigv4_result res;
    if (wire)
        sigv4_sign_wire_path(&req, &c, &res);
    else
        sigv4_sign(&req, &c, &res);
    const char *l2 = strchr(res.canonical_request, '\n') + 1;
    char *out = xstrndup(l2, (size_t)(strchr(l2, '\n') - l2));
    sigv4_result_free(&res);
    return out;
}

static void check_uri(const char *path, int s3, int wire, const char *want)
{
    char *got = canonical_uri(path, s3, wire);
    is_str(got, want, "canonical URI of \"%s\" (%s, %s path)", path, s3 ? "S3" : "other",
           wire ? "wire" : "decoded");
    free(got);
}

static void test_canonical_uri(void)
{
    /* S3: encoded once, '/' and '~' kept, no normalisation at all. */
    check_uri("/bucket/a b+c~%.tsv", 1, 0, "/bucket/a%20b%2Bc~%25.tsv");
    check_uri("/bucket/d\xc3\xa9j\xc3\xa0/\xf0\x9f\x9a\x80", 1, 0,
              "/bucket/d%C3%A9j%C3%A0/%F0%9F%9A%80");
    check_uri("/bucket//a/./b/../c/", 1, 0, "/bucket//a/./b/../c/");
    check_uri("/bucket/k=v&x?y#z", 1, 0, "/bucket/k%3Dv%26x%3Fy%23z");
    check_uri("", 1, 0, "/");
    check_uri("/bucket/a%20b", 1, 1, "/bucket/a%20b"); /* wire path: verbatim */
    /* Others: normalised, then the sent path encoded again. */
    check_uri("/q/a b+c", 0, 0, "/q/a%2520b%252Bc");
    check_uri("//a//b/./c/../d/", 0, 0, "/a/b/d/");
    check_uri("/a/..", 0, 0, "/");
    check_uri("/a/.", 0, 0, "/a");
    check_uri("/../..", 0, 0, "/");
    check_uri("", 0, 0, "/");
    check_uri("/q/a%20b", 0, 1, "/q/a%2520b");
    check_uri("/example space/", 0, 1, "/example%20space/");
}

static void test_canonical_query(void)
{
    sigv4_param q[] = {
        {"b", "2"}, {"a", "x y"}, {"a", ""}, {"A", "+"}, {"\xc3\xa9", "=&"}, {"a", "~-_."},
        {"k", NULL},
    };
    char *s = sigv4_canonical_query(q, 7);
    is_str(s, "%C3%A9=%3D%26&A=%2B&a=&a=x%20y&a=~-_.&b=2&k=", "canonical query: encoded, sorted");
    free(s);
    s = sigv4_canonical_query(NULL, 0);
    is_str(s, "", "canonical query: none");
    free(s);
}

static void test_headers(void)
{
    sigv4_header h[] = {
        {"Host", "example.com"},
        {"X-Amz-Date", "19990101T000000Z"},       /* the signer's: replaced */
        {"Authorization", "stale"},               /* never signed */
        {"X-Amz-Security-Token", "stale-token"},  /* replaced by the credentials' */
        {"My-Header", "  b \t  c  "},
        {"my-header", "a"},
        {"Empty", "   "},
    };
    sigv4_request req = {.method = "put", .path = "/", .headers = h, .n_headers = 7,
                         .payload_hash = "UNSIGNED-PAYLOAD", .region = "eu-west-1",
                         .service = "sqs", .now = 86400 * 365};
    aws_credentials c = doc_cred();
    c.session_token = "tok  en";
    sigv4_result res;
    sigv4_sign(&req, &c, &res);
    is_str(res.canonical_request,
           "PUT\n/\n\nempty:\nhost:example.com\nmy-header:b c,a\nx-amz-date:19710101T000000Z\n"
           "x-amz-security-token:tok en\n\nempty;host;my-header;x-amz-date;x-amz-security-token\n"
           "UNSIGNED-PAYLOAD",
           "headers: lower-cased, trimmed, folded, duplicates joined in order, owned replaced");
    sigv4_result_free(&res);

    c.session_token = NULL; /* no token in the credentials: the caller's is signed */
    sigv4_sign(&req, &c, &res);
    is_str(res.signed_headers, "empty;host;my-header;x-amz-date;x-amz-security-token",
           "a caller's token header is signed when the credentials have none");
    ok(strstr(res.canonical_request, "x-amz-security-token:stale-token\n") != NULL,
       "... with the caller's value");
    sigv4_result_free(&res);

    req.payload_hash = NULL;
    req.n_headers = 1;
    sigv4_sign(&req, &c, &res);
    ok(strlen(res.canonical_request) > 64 &&
           strcmp(res.canonical_request + strlen(res.canonical_request) - 64,
                  SIGV4_EMPTY_SHA256) == 0,
       "no payload hash: the empty-body hash");
    sigv4_result_free(&res);
}

static void test_helpers(void)
{
    char hex[65];
    sigv4_sha256_hex("abc", 3, hex);
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(abc)");
    sigv4_sha256_hex("", 0, hex);
    is_str(hex, SIGV4_EMPTY_SHA256, "sha256 of nothing");

    char *scope = sigv4_scope(1795617435, "us-east-1", "s3");
    is_str(scope, "20261125/us-east-1/s3/aws4_request", "scope");
    free(scope);

    aws_credentials src = {0};
    src.access_key_id = xstrdup("AKID");
    src.secret_access_key = xstrdup("secret");
    src.session_token = xstrdup("token");
    src.expiration = 1234;
    strcpy(src.source, "environment");
    aws_credentials dst;
    aws_credentials_copy(&dst, &src);
    ok(dst.access_key_id != src.access_key_id && dst.secret_access_key != src.secret_access_key &&
           dst.session_token != src.session_token,
       "copy is deep");
    ok(strcmp(dst.access_key_id, "AKID") == 0 && strcmp(dst.secret_access_key, "secret") == 0 &&
           strcmp(dst.session_token, "token") == 0 && dst.expiration == 1234 &&
           strcmp(dst.source, "environment") == 0,
       "copy has every field");
    aws_credentials_clear(&src);
    ok(!src.access_key_id && !src.secret_access_key && !src.session_token && src.expiration == 0 &&
           src.source[0] == '\0',
       "clear leaves the struct empty");
    ok(strcmp(dst.secret_access_key, "secret") == 0, "the copy outlives the original");
    aws_credentials_clear(&dst);
    aws_credentials_clear(&dst); /* twice is harmless */
    ok(dst.secret_access_key == NULL, "clear is idempotent");
}

int main(void)
{
    test_suite();
    test_s3_doc_example();
    test_canonical_uri();
    test_canonical_query();
    test_headers();
    test_helpers();
    return done_testing();
}
