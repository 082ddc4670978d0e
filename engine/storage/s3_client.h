/* s3_client.h — S3's REST calls below the storage backend: endpoint and
 * URL building for both addressing styles, SigV4 signing, sending with
 * retries, and the XML S3 answers with (errors, listings, multipart).
 *
 * One s3_client is shared by every job and thread: it holds the endpoint,
 * the credential provider and a pool of idle http_clients (one libcurl
 * handle each, so connections are kept alive between requests). A thread
 * borrows an http_client for as long as it works and gives it back. */
#ifndef SLUICE_S3_CLIENT_H
#define SLUICE_S3_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include "aws/retry.h"
#include "aws/sigv4.h"
#include "net/http.h"
#include "storage/storage.h"
#include "util/error.h"

/* --- endpoints and URLs ------------------------------------------------- */

typedef struct s3_endpoint {
    char *scheme;     /* "https" or "http" */
    char *host;       /* "s3.eu-west-1.amazonaws.com", "127.0.0.1", ... */
    int port;         /* 0: the scheme's default */
    char *base_path;  /* "" or "/base" (no trailing '/') */
    int is_aws;       /* the default AWS endpoint (no override) */
    int path_style;   /* 1: /bucket/key; 0: virtual-hosted bucket.host/key */
} s3_endpoint;

/* url: NULL for AWS (https://s3.<region>.amazonaws.com), else an http://
 * or https:// URL, possibly with a port and a base path. path_style: -1
 * for the default (virtual-hosted on AWS, path style on any other
 * endpoint), 0 or 1 to force. Returns 0, or -1 with err set. */
int s3_endpoint_init(s3_endpoint *ep, const char *url, const char *region, int path_style,
                     sl_error *err);
void s3_endpoint_free(s3_endpoint *ep);

typedef struct s3_target {
    char *url;   /* scheme://host[:port]/path, the path encoded once ('/' kept) */
    char *host;  /* the Host header, port included when not the default */
    char *path;  /* the decoded path, as SigV4 signs it */
} s3_target;

/* Where bucket/key lives on ep. key may be NULL or "" for bucket-level
 * calls. A bucket whose name cannot be a DNS label (upper case, '_', or
 * dots over https) falls back to path style. */
void s3_target_build(const s3_endpoint *ep, const char *bucket, const char *key,
                     s3_target *t);
void s3_target_free(s3_target *t);
/* "a=1&b=x%2By&uploads": names and values encoded as SigV4 encodes them;
 * an empty value gives a bare name. */
char *s3_query_string(const sigv4_param *q, size_t n);
/* "s3://bucket/key" (or "s3://bucket/" without a key), for messages. */
char *s3_object_name(const char *bucket, const char *key);

/* --- the client ---------------------------------------------------------- */

typedef struct s3_options {
    const char *region;      /* NULL: AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1 */
    const char *endpoint;    /* NULL: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, profile, AWS */
    int path_style;          /* -1: default for the endpoint */
    const char *profile;     /* NULL: AWS_PROFILE or "default" */
    const char *ca_bundle;   /* NULL: the system store */
    int insecure;            /* skip TLS verification */
    retry_policy retry;
    long connect_timeout_ms; /* 0: 10 s */
    long read_timeout_s;     /* no byte for this long aborts an attempt; 0: 60 s */
} s3_options;

typedef struct s3_client s3_client;

s3_client *s3_client_new(const s3_options *opts, sl_error *err);
void s3_client_free(s3_client *c);
const s3_endpoint *s3_client_endpoint(const s3_client *c);
const char *s3_client_region(const s3_client *c);
const retry_policy *s3_client_retry(const s3_client *c);
/* Forget cached credentials (after ExpiredToken): the next request gets
 * fresh ones. */
void s3_client_invalidate_credentials(s3_client *c);

/* Borrows an idle http_client (or makes one); NULL only when libcurl
 * cannot create a handle. Give it back with s3_http_release. */
http_client *s3_http_acquire(s3_client *c);
void s3_http_release(s3_client *c, http_client *h);

/* --- requests ------------------------------------------------------------ */

typedef struct s3_request {
    const char *method;
    const char *bucket;
    const char *key;               /* NULL or "" for bucket-level calls */
    const sigv4_param *query;      /* decoded */
    size_t n_query;
    const sigv4_header *headers;   /* extra headers, sent and signed */
    size_t n_headers;
    const void *body;              /* request body (in memory) */
    size_t body_len;
    http_body_fn on_body;          /* streams a 2xx body; NULL: collect it */
    void *on_body_ud;
    long timeout_ms;               /* whole request; 0: only the read timeout */
    const atomic_int *cancel;      /* when set, stops the transfer; may be NULL */
    const char *payload_sha256;    /* hex SHA-256 of body if the caller has it
                                      (NULL: computed here) */
} s3_request;

/* The SHA-256 of data, in hex (a payload hash) and in base64 (an
 * x-amz-checksum-sha256 header), from one pass. */
void s3_sha256(const void *data, size_t len, char hex[65], char b64[45]);

typedef struct s3_reply {
    http_response http;  /* status, headers; body unless streamed on success */
    char *code;          /* S3 error code from the body (also in a 200), or NULL */
    char *message;
    int attempts;        /* s3_call: requests sent for this answer (1: no retry) */
} s3_reply;

void s3_reply_free(s3_reply *r);
/* 2xx without an <Error> body. */
int s3_reply_ok(const s3_reply *r);

/* One attempt. Returns 0 when a response arrived (look at rep), -1 on a
 * transport failure (rep->http.error says why), -2 on a local failure
 * such as missing credentials (err set; not worth retrying). */
int s3_send(s3_client *c, http_client *h, const s3_request *req, s3_reply *rep,
            sl_error *err);
/* Sends with the client's retry policy until a 2xx arrives; refreshes
 * credentials once on ExpiredToken/InvalidToken. Stops early (between
 * attempts, and during one) when *req->cancel is set. Returns 0 with rep
 * holding the 2xx, or -1 with err set to one line naming `name`. */
int s3_call(s3_client *c, http_client *h, const s3_request *req, s3_reply *rep,
            const char *name, sl_error *err);
/* What to do after a failed attempt (s3_send gave -1, or a reply that is
 * not s3_reply_ok): retry_classify, plus final TLS/URL failures and a
 * bare 403 to HEAD (no body to name ExpiredToken) refreshing credentials. */
retry_verdict s3_reply_verdict(const s3_reply *rep, int transport_failed, const char *method);
/* The one-line error for a failed reply:
 *   "s3://b/k: AccessDenied: Access Denied (HTTP 403)"
 *   "s3://b/k: connection failed: <reason> (gave up after 5 attempts)"
 * NoSuchKey and NoSuchBucket are input errors, the rest storage errors. */
void s3_reply_error(const s3_reply *rep, int transport_failed, const char *name,
                    int attempts, sl_error *err);

/* --- multipart sizes ------------------------------------------------------ */

#define S3_MIN_PART_SIZE ((int64_t)5 * 1024 * 1024)
#define S3_MAX_PART_SIZE ((int64_t)5 * 1024 * 1024 * 1024)
#define S3_MAX_PARTS 10000
#define S3_PARTS_PER_SIZE 1000

/* The size of part `number` (1-based) of an output whose total is not known
 * in advance: `base` (at least 5 MiB), doubled after every 1000 parts, at
 * most 5 GiB. 10,000 parts then hold 7.8 TiB from the default 8 MiB (more
 * than S3's 5 TiB object limit), 4.88 TiB from 5 MiB. */
size_t s3_part_size_for(int64_t base, int number);

/* --- XML ----------------------------------------------------------------- */

/* An <Error><Code>..</Code><Message>..</Message></Error> document (also
 * inside <ErrorResponse>). Returns 0 and new strings (message may be NULL),
 * or -1 when the body is not an S3 error. */
int s3_xml_error(const char *xml, size_t len, char **code, char **message);

typedef struct s3_list_entry {
    char *key;
    object_info info;
} s3_list_entry;

typedef struct s3_list_page {
    s3_list_entry *items;
    size_t count;
    int truncated;
    char *next_token;    /* NextContinuationToken, or NULL */
} s3_list_page;

/* A ListObjectsV2 result. Returns 0, or -1 with err set. */
int s3_xml_list(const char *xml, size_t len, s3_list_page *page, sl_error *err);
void s3_list_page_free(s3_list_page *page);
/* One upload of a ListMultipartUploads result. */
typedef struct s3_upload_entry {
    char *key;
    char *upload_id;
    long long initiated; /* epoch seconds, 0 when unreadable */
} s3_upload_entry;

typedef struct s3_upload_page {
    s3_upload_entry *items;
    size_t count;
} s3_upload_page;

/* A ListMultipartUploadsResult (its first page is all the callers need:
 * they list one key's uploads). Returns 0, or -1 with err set. */
int s3_xml_uploads(const char *xml, size_t len, s3_upload_page *page, sl_error *err);
void s3_upload_page_free(s3_upload_page *page);
/* The UploadId of an InitiateMultipartUploadResult, or NULL. */
char *s3_xml_upload_id(const char *xml, size_t len);
/* The CompleteMultipartUpload body for parts 1..n with these ETags and,
 * when checksums is not NULL, their base64 SHA-256 checksums. */
char *s3_xml_complete_body(char *const *etags, char *const *checksums, size_t n);
/* "2009-10-12T17:50:30.000Z" -> epoch seconds, 0 when unreadable. */
long long s3_parse_iso8601(const char *s);
/* An ETag without its quotes (new string). */
char *s3_etag_unquote(const char *etag);

#endif
