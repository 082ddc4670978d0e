/* The S3 client's pure parts: error XML (<Error>, <ErrorResponse>, a 200
 * carrying one), ListObjectsV2 and multipart XML, endpoint and URL building
 * for both addressing styles with awkward keys, the one-line error
 * messages, and multipart part sizes. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "storage/s3_client.h"
#include "tap.h"

static void test_error_xml(void)
{
    char *code, *msg;
    const char *doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
        "<Key>a &amp; b.tsv</Key><RequestId>4442587FB7D0A2F9</RequestId></Error>";
    is_int(s3_xml_error(doc, strlen(doc), &code, &msg), 0, "an S3 <Error> parses");
    is_str(code, "NoSuchKey", "its code");
    is_str(msg, "The specified key does not exist.", "its message");
    free(code);
    free(msg);

    const char *entities = "<Error><Code>AccessDenied</Code>"
                           "<Message>a &lt;b&gt; &amp; &quot;c&quot; caf\xc3\xa9</Message></Error>";
    s3_xml_error(entities, strlen(entities), &code, &msg);
    is_str(msg, "a <b> & \"c\" caf\xc3\xa9", "entities and UTF-8 decoded by libxml2");
    free(code);
    free(msg);

    const char *wrapped = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                          "<Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
                          "<Message>sig</Message></Error></ErrorResponse>";
    is_int(s3_xml_error(wrapped, strlen(wrapped), &code, &msg), 0, "<ErrorResponse><Error> parses");
    is_str(code, "SignatureDoesNotMatch", "its code (namespaces ignored)");
    free(code);
    free(msg);

    const char *nomsg = "<Error><Code>SlowDown</Code></Error>";
    is_int(s3_xml_error(nomsg, strlen(nomsg), &code, &msg), 0, "an error without a message");
    is_str(msg, NULL, "message NULL");
    free(code);

    const char *ok_doc = "<ListBucketResult><Name>b</Name></ListBucketResult>";
    is_int(s3_xml_error(ok_doc, strlen(ok_doc), &code, &msg), -1, "a result is not an error");
    ok(code == NULL && msg == NULL, "nothing returned");
    const char *garbage = "<html><body>502 Bad Gateway</body>";
    is_int(s3_xml_error(garbage, strlen(garbage), &code, &msg), -1, "HTML is not an S3 error");
    is_int(s3_xml_error("", 0, &code, &msg), -1, "an empty body is not an error");
    const char *nocode = "<Error><Message>x</Message></Error>";
    is_int(s3_xml_error(nocode, strlen(nocode), &code, &msg), -1, "an <Error> without a code");
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                      "<Error><Code>C</Code><Message>&x;</Message></Error>";
    if (s3_xml_error(xxe, strlen(xxe), &code, &msg) == 0) {
        ok(!msg || !strstr(msg, "root:"), "external entities are not loaded");
        free(code);
        free(msg);
    } else {
        ok(1, "external entities are not loaded (document refused)");
    }
}

static void test_list_xml(void)
{
    const char *page1 =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>hit data/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
        "<IsTruncated>true</IsTruncated>"
        "<Contents><Key>hit data/a &amp; b+c.tsv</Key>"
        "<LastModified>2009-10-12T17:50:30.000Z</LastModified>"
        "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>hit data/caf\xc3\xa9 \xe2\x82\xac.tsv</Key>"
        "<LastModified>2026-11-20T09:15:42Z</LastModified>"
        "<ETag>\"9b2cf535f27731c974343645a3985328-12\"</ETag><Size>0</Size></Contents>"
        "<Contents><Key>hit data/%41~x</Key><Size>7</Size></Contents>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
        "</ListBucketResult>";
    s3_list_page page;
    sl_error err = {0};
    is_int(s3_xml_list(page1, strlen(page1), &page, &err), 0, "a ListObjectsV2 page parses");
    is_int((int64_t)page.count, 3, "three keys");
    is_str(page.items[0].key, "hit data/a & b+c.tsv", "key 1 decoded from XML, '+' kept");
    is_str(page.items[1].key, "hit data/caf\xc3\xa9 \xe2\x82\xac.tsv", "key 2: UTF-8 kept");
    is_str(page.items[2].key, "hit data/%41~x", "key 3: '%%' is not URL-decoded");
    is_int(page.items[0].info.size, 434234, "size");
    is_str(page.items[0].info.etag, "fba9dede5f27731c9771645a39863328", "ETag without quotes");
    is_str(page.items[1].info.etag, "9b2cf535f27731c974343645a3985328-12", "multipart ETag");
    is_int(page.items[0].info.mtime, 1255369830, "LastModified with milliseconds");
    is_int(page.items[1].info.mtime, 1795166142, "LastModified without");
    is_int(page.items[2].info.mtime, 0, "no LastModified: 0");
    ok(page.truncated, "truncated");
    is_str(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", "continuation token");
    s3_list_page_free(&page);

    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    is_int(s3_xml_list(last, strlen(last), &page, &err), 0, "an empty last page parses");
    ok(page.count == 0 && !page.truncated && !page.next_token, "no keys, not truncated, no token");
    s3_list_page_free(&page);

    const char *bad = "<Error><Code>NoSuchBucket</Code></Error>";
    is_int(s3_xml_list(bad, strlen(bad), &page, &err), -1, "an error document is not a listing");
    ok(strstr(err.msg, "ListBucketResult") != NULL, "and says so");
}

static void test_multipart_xml(void)
{
    const char *init = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult "
                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket>"
                       "<Key>k</Key><UploadId>VXBsb2FkIElE.Zm9y-ZWx2aW5n</UploadId>"
                       "</InitiateMultipartUploadResult>";
    char *id = s3_xml_upload_id(init, strlen(init));
    is_str(id, "VXBsb2FkIElE.Zm9y-ZWx2aW5n", "UploadId");
    free(id);
    const char *noid = "<InitiateMultipartUploadResult><UploadId></UploadId>"
                       "</InitiateMultipartUploadResult>";
    is_str(s3_xml_upload_id(noid, strlen(noid)), NULL, "an empty UploadId is none");
    is_str(s3_xml_upload_id("<Error/>", 8), NULL, "an error has no UploadId");

    char *etags[] = {"\"a1\"", "\"b&2\""};
    char *body = s3_xml_complete_body(etags, NULL, 2);
    is_str(body,
           "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag></Part>"
           "<Part><PartNumber>2</PartNumber><ETag>&quot;b&amp;2&quot;</ETag></Part>"
           "</CompleteMultipartUpload>",
           "CompleteMultipartUpload body, ETags escaped");
    free(body);
    char *sums[] = {"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", "x<y"};
    body = s3_xml_complete_body(etags, sums, 2);
    is_str(body,
           "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
           "<Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag>"
           "<ChecksumSHA256>ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=</ChecksumSHA256></Part>"
           "<Part><PartNumber>2</PartNumber><ETag>&quot;b&amp;2&quot;</ETag>"
           "<ChecksumSHA256>x&lt;y</ChecksumSHA256></Part>"
           "</CompleteMultipartUpload>",
           "with the parts' SHA-256 checksums");
    free(body);
    char hex[65], b64[45];
    s3_sha256("abc", 3, hex, b64);
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "SHA-256 in hex (payload hash)");
    is_str(b64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", "and in base64 (checksum)");
    s3_sha256("", 0, hex, b64);
    is_str(hex, SIGV4_EMPTY_SHA256, "the empty body");
    char *u = s3_etag_unquote("\"abc\"");
    is_str(u, "abc", "ETag unquoted");
    free(u);
    u = s3_etag_unquote("abc");
    is_str(u, "abc", "an unquoted ETag stays");
    free(u);
}

static void check_target(const s3_endpoint *ep, const char *bucket, const char *key,
                         const char *want_url, const char *want_host, const char *want_path)
{
    s3_target t;
    s3_target_build(ep, bucket, key, &t);
    is_str(t.url, want_url, "url of %s/%s", bucket ? bucket : "", key ? key : "");
    is_str(t.host, want_host, "  Host header");
    is_str(t.path, want_path, "  signed (decoded) path");
    s3_target_free(&t);
}

static void test_endpoints(void)
{
    s3_endpoint ep;
    sl_error err = {0};

    is_int(s3_endpoint_init(&ep, NULL, "eu-west-1", -1, &err), 0, "AWS endpoint");
    ok(ep.is_aws && !ep.path_style, "AWS: virtual-hosted by default");
    check_target(&ep, "my-bucket", "hit data/a+b caf\xc3\xa9 100%~.tsv",
                 "https://my-bucket.s3.eu-west-1.amazonaws.com/hit%20data/a%2Bb%20caf%C3%A9%20100%25~.tsv",
                 "my-bucket.s3.eu-west-1.amazonaws.com", "/hit data/a+b caf\xc3\xa9 100%~.tsv");
    check_target(&ep, "my-bucket", NULL, "https://my-bucket.s3.eu-west-1.amazonaws.com/",
                 "my-bucket.s3.eu-west-1.amazonaws.com", "/");
    check_target(&ep, "my.dotted.bucket", "k",
                 "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k",
                 "s3.eu-west-1.amazonaws.com", "/my.dotted.bucket/k");
    check_target(&ep, "Upper_Case", "k", "https://s3.eu-west-1.amazonaws.com/Upper_Case/k",
                 "s3.eu-west-1.amazonaws.com", "/Upper_Case/k");
    check_target(&ep, "b", "a//b/./c/../d=e&f?g#h",
                 "https://s3.eu-west-1.amazonaws.com/b/a//b/./c/../d%3De%26f%3Fg%23h",
                 "s3.eu-west-1.amazonaws.com", "/b/a//b/./c/../d=e&f?g#h");
    s3_endpoint_free(&ep);

    s3_endpoint_init(&ep, NULL, "us-east-1", 1, &err);
    check_target(&ep, "my-bucket", "k", "https://s3.us-east-1.amazonaws.com/my-bucket/k",
                 "s3.us-east-1.amazonaws.com", "/my-bucket/k");
    check_target(&ep, "my-bucket", "", "https://s3.us-east-1.amazonaws.com/my-bucket",
                 "s3.us-east-1.amazonaws.com", "/my-bucket");
    s3_endpoint_free(&ep);

    s3_endpoint_init(&ep, NULL, "cn-north-1", -1, &err);
    is_str(ep.host, "s3.cn-north-1.amazonaws.com.cn", "China regions use amazonaws.com.cn");
    s3_endpoint_free(&ep);

    is_int(s3_endpoint_init(&ep, "http://127.0.0.1:5000", "us-east-1", -1, &err), 0,
           "a custom endpoint");
    ok(!ep.is_aws && ep.path_style, "custom endpoints are path style by default");
    check_target(&ep, "inbound", "a b+c.tsv", "http://127.0.0.1:5000/inbound/a%20b%2Bc.tsv",
                 "127.0.0.1:5000", "/inbound/a b+c.tsv");
    s3_endpoint_free(&ep);

    s3_endpoint_init(&ep, "HTTPS://Minio.Example.com:443/base/", "us-east-1", 0, &err);
    is_int(ep.port, 0, "the default port is dropped");
    is_str(ep.base_path, "/base", "base path kept, trailing '/' dropped");
    check_target(&ep, "bucket", "k", "https://bucket.minio.example.com/base/k",
                 "bucket.minio.example.com", "/base/k");
    s3_endpoint_free(&ep);

    s3_endpoint_init(&ep, "http://[::1]:9000", "us-east-1", -1, &err);
    check_target(&ep, "b", "k", "http://[::1]:9000/b/k", "[::1]:9000", "/b/k");
    s3_endpoint_free(&ep);

    static const char *const bad[] = {"ftp://x", "http://", "http://h:99999", "http://h:x",
                                      "http://u:p@h", "http://h/?q=1", "127.0.0.1:5000", NULL};
    for (int i = 0; bad[i]; i++) {
        sl_error e = {0};
        is_int(s3_endpoint_init(&ep, bad[i], "us-east-1", -1, &e), -1, "refused: %s", bad[i]);
        ok(e.kind == SL_ERR_CONFIG && strstr(e.msg, bad[i]), "  a config error naming it");
    }

    sigv4_param q[] = {{"prefix", "a b+c/\xc3\xa9"}, {"list-type", "2"}, {"uploads", ""},
                       {"continuation-token", "x/y=z"}};
    char *qs = s3_query_string(q, 4);
    is_str(qs, "continuation-token=x%2Fy%3Dz&list-type=2&prefix=a%20b%2Bc%2F%C3%A9&uploads=",
           "query: sorted, every reserved byte encoded, '/' too");
    free(qs);
    char *name = s3_object_name("b", "k/x");
    is_str(name, "s3://b/k/x", "object name");
    free(name);
}

static void test_error_lines(void)
{
    s3_reply rep;
    sl_error err = {0};

    memset(&rep, 0, sizeof rep);
    rep.http.status = 403;
    rep.code = "AccessDenied";
    rep.message = "Access Denied";
    s3_reply_error(&rep, 0, "s3://b/k", 1, &err);
    is_str(err.msg, "s3://b/k: AccessDenied: Access Denied (HTTP 403)", "one line: code, message");
    is_int(err.kind, SL_ERR_STORAGE, "a storage error");

    sl_error_reset(&err);
    rep.http.status = 404;
    rep.code = "NoSuchKey";
    rep.message = "The specified key does not exist.";
    s3_reply_error(&rep, 0, "s3://b/k", 1, &err);
    is_int(err.kind, SL_ERR_INPUT, "NoSuchKey is an input error");

    sl_error_reset(&err);
    rep.http.status = 503;
    rep.code = "SlowDown";
    rep.message = "Please\nreduce\tyour request rate.";
    s3_reply_error(&rep, 0, "s3://b/k (part 2)", 5, &err);
    is_str(err.msg,
           "s3://b/k (part 2): SlowDown: Please reduce your request rate. (HTTP 503, gave up "
           "after 5 attempts)",
           "control characters flattened; attempts counted");

    sl_error_reset(&err);
    rep.http.status = 404;
    rep.code = NULL;
    rep.message = NULL;
    s3_reply_error(&rep, 0, "s3://b/k", 1, &err);
    is_str(err.msg, "s3://b/k: NotFound (HTTP 404)", "no body: the status speaks");

    sl_error_reset(&err);
    memset(&rep, 0, sizeof rep);
    rep.http.timed_out = 1;
    snprintf(rep.http.error, sizeof rep.http.error, "no data received or sent for 1 s");
    s3_reply_error(&rep, 1, "s3://b/k", 3, &err);
    is_str(err.msg, "s3://b/k: timed out: no data received or sent for 1 s (gave up after 3 attempts)",
           "a timeout");
    sl_error_reset(&err);
    rep.http.timed_out = 0;
    snprintf(rep.http.error, sizeof rep.http.error, "Failed to connect to 127.0.0.1 port 9");
    s3_reply_error(&rep, 1, "s3://b/k", 1, &err);
    is_str(err.msg, "s3://b/k: connection failed: Failed to connect to 127.0.0.1 port 9",
           "a connection failure");
}

static void test_part_sizes(void)
{
    const int64_t mib = 1024 * 1024;
    is_int((int64_t)s3_part_size_for(8 * mib, 1), 8 * mib, "part 1: the configured size");
    is_int((int64_t)s3_part_size_for(8 * mib, 1000), 8 * mib, "part 1000: still");
    is_int((int64_t)s3_part_size_for(8 * mib, 1001), 16 * mib, "part 1001: doubled");
    is_int((int64_t)s3_part_size_for(8 * mib, 2001), 32 * mib, "part 2001: doubled again");
    is_int((int64_t)s3_part_size_for(4 * 1024 * mib, 2001), 5 * 1024 * mib, "never above 5 GiB");
    is_int((int64_t)s3_part_size_for(1, 1), 5 * mib, "never below 5 MiB");
    int64_t total = 0;
    for (int n = 1; n <= S3_MAX_PARTS; n++)
        total += (int64_t)s3_part_size_for(8 * mib, n);
    ok(total > 5 * 1024 * 1024 * mib,
       "10,000 parts growing from the default 8 MiB hold over 5 TiB (%lld GiB)",
       (long long)(total / (1024 * mib)));
    total = 0;
    for (int n = 1; n <= S3_MAX_PARTS; n++)
        total += (int64_t)s3_part_size_for(5 * mib, n);
    is_int(total / (1024 * mib), 4995, "from 5 MiB: 4995 GiB");
}


/* ListMultipartUploads: a writer whose CreateMultipartUpload was retried
 * lists its key's uploads to abort the one whose answer was lost. */
static void test_uploads_xml(void)
{
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Bucket>dst</Bucket><IsTruncated>false</IsTruncated>"
        "<Upload><UploadId>u-1</UploadId><Key>a b+c</Key>"
        "<Initiated>2026-12-06T14:00:00.000Z</Initiated></Upload>"
        "<Upload><Key>no-id</Key></Upload>"
        "<Upload><UploadId>u-2</UploadId><Key>k</Key></Upload>"
        "</ListMultipartUploadsResult>";
    s3_upload_page page;
    sl_error err = {0};
    is_int(s3_xml_uploads(xml, strlen(xml), &page, &err), 0, "ListMultipartUploadsResult parses");
    is_int((long long)page.count, 2, "two uploads (one without UploadId skipped)");
    if (page.count == 2) {
        is_str(page.items[0].key, "a b+c", "the key, decoded by the XML parser");
        is_str(page.items[0].upload_id, "u-1", "its UploadId");
        is_int(page.items[0].initiated, 1796565600LL, "Initiated in epoch seconds");
        is_int(page.items[1].initiated, 0, "no Initiated: 0");
    }
    s3_upload_page_free(&page);
    sl_error err2 = {0};
    is_int(s3_xml_uploads("<Error/>", 8, &page, &err2), -1, "an error document is refused");
    is_str(err2.msg, "ListMultipartUploads: the response is not a ListMultipartUploadsResult",
           "  message");
}

int main(void)
{
    test_error_xml();
    test_list_xml();
    test_multipart_xml();
    test_uploads_xml();
    test_endpoints();
    test_error_lines();
    test_part_sizes();
    return done_testing();
}
