/* test_sns_verify.c — the parts of SNS verification that need no network:
 * the certificate URL rule, the string to sign for each message type
 * (exact bytes, from the real-AWS fixtures), and the verdicts reached
 * before any certificate is fetched. Full signatures (versions 1 and 2,
 * a generated CA) are proven end to end by tests/intake/serve.py. */
#include "autoconfig.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sns_verify.h"
#include "util/alloc.h"
#include "util/strbuf.h"
#include "tap.h"

static char *fixture_path(const char *name)
{
    const char *top = getenv("top_srcdir");
    if (top && *top)
        return xasprintf("%s/tests/data/events/%s", top, name);
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    return xasprintf("%.*s/../data/events/%s", (int)(slash ? slash - file : 1),
                     slash ? file : ".", name);
}

static json_t *load_fixture(const char *name)
{
    char *path = fixture_path(name);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc)
        printf("# cannot load %s: %s\n", path, jerr.text);
    free(path);
    return doc;
}

static void test_url_rule(void)
{
    static const struct {
        const char *url;
        int allowed;
    } cases[] = {
        {"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", 1},
        {"https://sns.eu-central-2.amazonaws.com/x/y.pem", 1},
        {"https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", 1},
        {"https://sns.us-gov-west-1.amazonaws.com/a.pem", 1},
        {"HTTPS://sns.us-east-1.amazonaws.com/a.pem", 1},
        {"http://sns.us-east-1.amazonaws.com/a.pem", 0},          /* not https */
        {"https://sns.us-east-1.amazonaws.com.evil.com/a.pem", 0}, /* suffix */
        {"https://evil.com/sns.us-east-1.amazonaws.com/a.pem", 0},
        {"https://sns.us-east-1.amazonaws.com@evil.com/a.pem", 0}, /* userinfo */
        {"https://sns.us-east-1.amazonaws.com:8443/a.pem", 0},     /* port */
        {"https://sns.amazonaws.com/a.pem", 0},                    /* no region */
        {"https://sqs.us-east-1.amazonaws.com/a.pem", 0},
        {"https://sns.US-EAST-1.amazonaws.com/a.pem", 0},
        {"https://sns.-us.amazonaws.com/a.pem", 0},
        {"https://sns.us_east_1.amazonaws.com/a.pem", 0},
        {"https://sns.us-east-1.amazonaws.com/a.pem?x=1.pem", 0},  /* query */
        {"https://sns.us-east-1.amazonaws.com/a.pem#.pem", 0},
        {"https://sns.us-east-1.amazonaws.com/a.crt", 0},
        {"https://sns.us-east-1.amazonaws.com/.pem", 1},
        {"https://sns.us-east-1.amazonaws.com/a b.pem", 0},
        {"https://sns.us-east-1.amazonaws.com", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        is_int(sns_cert_url_allowed(cases[i].url), cases[i].allowed, "URL rule: %s -> %s",
               cases[i].url, cases[i].allowed ? "allowed" : "refused");
    is_int(sns_cert_url_allowed(NULL), 0, "URL rule: NULL refused");
}

/* Issue 12, finding 6: SubscribeURL is fetched only when it is SNS's. */
static void test_subscribe_url_rule(void)
{
    static const struct {
        const char *url;
        int allowed;
    } cases[] = {
        {"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:"
         "us-east-1:123456789012:t&Token=2336412f37", 1},
        {"https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&Token=x", 1},
        {"http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x", 0},
        {"https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription&Token=x", 0},
        {"https://user@sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x", 0},
        {"https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription&T=x", 0},
        {"https://evil.example/?Action=ConfirmSubscription&Token=x", 0},
        {"https://127.0.0.1/?Action=ConfirmSubscription&Token=x", 0},
        {"https://sns.us-east-1.amazonaws.com/other?Action=ConfirmSubscription&Token=x", 0},
        {"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&Token=x", 0},
        {"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x#f", 0},
        {"https://SNS.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x", 0},
        {"file:///etc/passwd", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        is_int(sns_subscribe_url_allowed(cases[i].url), cases[i].allowed,
               "SubscribeURL rule: %s -> %s", cases[i].url,
               cases[i].allowed ? "allowed" : "refused");
    is_int(sns_subscribe_url_allowed(NULL), 0, "SubscribeURL rule: NULL refused");
}

static void test_string_to_sign(void)
{
    char why[256];
    json_t *n = load_fixture("sns-envelope-s3.json");
    ok(n != NULL, "notification fixture loads");
    char *s = sns_string_to_sign(n, why, sizeof why);
    const char *msg = json_string_value(json_object_get(n, "Message"));
    char *want = xasprintf("Message\n%s\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
                           "Subject\nAmazon S3 Notification\n"
                           "Timestamp\n2026-11-20T09:15:42.345Z\n"
                           "TopicArn\narn:aws:sns:us-east-1:123456789012:client-inbound-events\n"
                           "Type\nNotification\n",
                           msg);
    is_str(s, want, "Notification: Message, MessageId, Subject, Timestamp, TopicArn, Type");
    free(s);
    free(want);

    /* Subject is signed only when present. */
    json_object_del(n, "Subject");
    s = sns_string_to_sign(n, why, sizeof why);
    ok(s && !strstr(s, "Subject\n"), "Notification without Subject: no Subject line");
    ok(s && strstr(s, "\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nTimestamp\n"),
       "Notification without Subject: MessageId then Timestamp");
    free(s);

    json_object_del(n, "TopicArn");
    s = sns_string_to_sign(n, why, sizeof why);
    ok(s == NULL, "Notification without TopicArn: refused");
    is_str(why, "TopicArn: missing", "the reason names the field");
    json_object_set_new(n, "TopicArn", json_integer(3));
    s = sns_string_to_sign(n, why, sizeof why);
    is_str(why, "TopicArn: expected a string", "a non-string field is named");
    free(s);
    json_decref(n);

    json_t *c = load_fixture("sns-subscription-confirmation.json");
    s = sns_string_to_sign(c, why, sizeof why);
    want = xasprintf(
        "Message\n%s\nMessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\nSubscribeURL\n%s\n"
        "Timestamp\n2026-11-20T08:59:12.579Z\nToken\n%s\n"
        "TopicArn\narn:aws:sns:us-east-1:123456789012:client-inbound-events\n"
        "Type\nSubscriptionConfirmation\n",
        json_string_value(json_object_get(c, "Message")),
        json_string_value(json_object_get(c, "SubscribeURL")),
        json_string_value(json_object_get(c, "Token")));
    is_str(s, want, "SubscriptionConfirmation: Message, MessageId, SubscribeURL, Timestamp, "
                    "Token, TopicArn, Type");
    free(s);
    free(want);

    json_object_set_new(c, "Type", json_string("UnsubscribeConfirmation"));
    s = sns_string_to_sign(c, why, sizeof why);
    ok(s && strstr(s, "\nToken\n") && strstr(s, "Type\nUnsubscribeConfirmation\n"),
       "UnsubscribeConfirmation signs the confirmation fields");
    free(s);

    json_object_set_new(c, "Type", json_string("Surprise"));
    s = sns_string_to_sign(c, why, sizeof why);
    ok(s == NULL, "unknown Type refused");
    is_str(why, "Type: unknown SNS message type \"Surprise\"", "reason for an unknown Type");
    json_decref(c);
}

/* Verdicts reached before any fetch: the certificate URL on the fixtures
 * is the real one, so a fetch would leave the machine: none must happen
 * (mapped to an unroutable loopback port to be sure). */
static void test_verdicts_without_fetch(void)
{
    char *map[] = {"https://sns.us-east-1.amazonaws.com/=http://127.0.0.1:9/"};
    sns_verify_options o = {.test_url_map = map, .n_test_url_map = 1, .fetch_timeout_ms = 2000};
    sl_error err = {0};
    sns_verifier *v = sns_verifier_new(&o, &err);
    char why[512];
    ok(v != NULL, "verifier with the system store");

    json_t *n = load_fixture("sns-envelope-s3.json");
    json_object_set_new(n, "SigningCertURL", json_string("https://example.com/cert.pem"));
    is_int(sns_verify(v, n, why, sizeof why), SNS_REJECTED, "foreign certificate host: rejected");
    ok(strstr(why, "SigningCertURL") != NULL, "reason names SigningCertURL: %s", why);

    json_object_set_new(n, "SigningCertURL",
                        json_string("https://sns.us-east-1.amazonaws.com/x.pem"));
    json_object_set_new(n, "SignatureVersion", json_string("3"));
    is_int(sns_verify(v, n, why, sizeof why), SNS_REJECTED, "SignatureVersion 3: rejected");
    is_str(why, "SignatureVersion: unsupported \"3\" (expected 1 or 2)", "reason");

    json_object_set_new(n, "SignatureVersion", json_string("2"));
    json_object_set_new(n, "Signature", json_string("not base64!"));
    is_int(sns_verify(v, n, why, sizeof why), SNS_REJECTED, "bad base64: rejected");
    is_str(why, "Signature: missing or not base64", "reason");

    json_object_set_new(n, "Signature", json_string("AAAA"));
    is_int(sns_verify(v, n, why, sizeof why), SNS_UNAVAILABLE,
           "certificate server unreachable: unavailable (the sender retries)");

    json_object_del(n, "MessageId");
    is_int(sns_verify(v, n, why, sizeof why), SNS_MALFORMED, "missing MessageId: malformed");
    is_str(why, "MessageId: missing", "reason names MessageId");
    json_decref(n);
    sns_verifier_free(v);

    char *bad[] = {"no-equals-sign"};
    sns_verify_options ob = {.test_url_map = bad, .n_test_url_map = 1};
    sl_error e2 = {0};
    ok(sns_verifier_new(&ob, &e2) == NULL, "a map entry without '=' is refused");
    sns_verify_options oc = {.test_ca_file = "/nonexistent/ca.pem"};
    sl_error e3 = {0};
    ok(sns_verifier_new(&oc, &e3) == NULL, "a missing test CA is refused");
    ok(strstr(e3.msg, "/nonexistent/ca.pem") != NULL, "the error names the file: %s", e3.msg);
}

int main(void)
{
    test_url_rule();
    test_string_to_sign();
    test_subscribe_url_rule();
    test_verdicts_without_fetch();
    return done_testing();
}
