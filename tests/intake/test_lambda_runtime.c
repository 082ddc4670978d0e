/* test_lambda_runtime.c — the parts of the Runtime API client that need no
 * peer: the address check, the error documents (exact bytes, invalid
 * UTF-8 kept visible), and a refused connection reported as fatal. The
 * loop itself is tested against a stand-in by tests/intake/lambda.sh. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "intake/lambda_runtime.h"
#include "tap.h"

static void refused_address(const char *api, const char *want, const char *name)
{
    sl_error err = {0};
    lambda_runtime *rt = lambda_runtime_new(api, &err);
    ok(rt == NULL, "%s: refused", name);
    is_str(err.msg, want, "%s: message", name);
    lambda_runtime_free(rt);
}

static void test_addresses(void)
{
    refused_address(NULL,
                    "AWS_LAMBDA_RUNTIME_API is not set: `sluice lambda` runs inside a Lambda "
                    "function (or against a Runtime API emulator)",
                    "unset");
    refused_address("", "AWS_LAMBDA_RUNTIME_API is not set: `sluice lambda` runs inside a "
                        "Lambda function (or against a Runtime API emulator)",
                    "empty");
    refused_address("localhost", "AWS_LAMBDA_RUNTIME_API: expected host:port, got \"localhost\"",
                    "no port");
    refused_address(":9001", "AWS_LAMBDA_RUNTIME_API: expected host:port, got \":9001\"",
                    "no host");
    refused_address("127.0.0.1:0",
                    "AWS_LAMBDA_RUNTIME_API: expected host:port, got \"127.0.0.1:0\"", "port 0");
    refused_address("127.0.0.1:65536",
                    "AWS_LAMBDA_RUNTIME_API: expected host:port, got \"127.0.0.1:65536\"",
                    "port too big");
    refused_address("evil.example/x:80",
                    "AWS_LAMBDA_RUNTIME_API: expected host:port, got \"evil.example/x:80\"",
                    "a path in the host");
    refused_address("user@host:80",
                    "AWS_LAMBDA_RUNTIME_API: expected host:port, got \"user@host:80\"",
                    "credentials in the host");

    sl_error err = {0};
    lambda_runtime *rt = lambda_runtime_new("127.0.0.1:9001", &err);
    ok(rt != NULL, "host:port accepted");
    lambda_runtime_free(rt);
    rt = lambda_runtime_new("[::1]:9001", &err);
    ok(rt != NULL, "[v6]:port accepted");
    lambda_runtime_free(rt);
}

static void test_error_bodies(void)
{
    char *s = lambda_runtime_error_body("Sluice.JobFailed", "1 of 2 jobs failed: \"x\"", 1);
    is_str(s, "{\"errorMessage\":\"1 of 2 jobs failed: \\\"x\\\"\",\"errorType\":"
              "\"Sluice.JobFailed\",\"stackTrace\":[]}",
           "invocation error: exact bytes, key order, empty stackTrace");
    free(s);
    s = lambda_runtime_error_body("Sluice.ConfigError", "sluice.yaml:3:1: bad", 0);
    is_str(s, "{\"errorMessage\":\"sluice.yaml:3:1: bad\",\"errorType\":\"Sluice.ConfigError\"}",
           "init error: no stackTrace");
    free(s);
    s = lambda_runtime_error_body("Sluice.InvalidEvent", "key caf\xe9 \xff", 1);
    is_str(s, "{\"errorMessage\":\"key caf\\\\xe9 \\\\xff\",\"errorType\":\"Sluice.InvalidEvent\","
              "\"stackTrace\":[]}",
           "bytes that are not UTF-8 written as \\xNN");
    free(s);
    s = lambda_runtime_error_body("T", "caf\xc3\xa9", 0);
    is_str(s, "{\"errorMessage\":\"caf\xc3\xa9\",\"errorType\":\"T\"}", "valid UTF-8 kept as is");
    free(s);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_unreachable(void)
{
    sl_error err = {0};
    /* port 1 on loopback: nothing listens there in a test environment */
    lambda_runtime *rt = lambda_runtime_new("127.0.0.1:1", &err);
    lambda_invocation inv;
    is_int(lambda_runtime_next(rt, &inv, &err), -1, "next: no API, -1");
    ok(starts_with(err.msg, "GET http://127.0.0.1:1/2018-06-01/runtime/invocation/next: "),
       "next: the URL in the message (%s)", err.msg);
    ok(inv.request_id == NULL && inv.event.len == 0, "next: nothing left in the invocation");
    sl_error_reset(&err);
    is_int(lambda_runtime_respond(rt, "id/1", "{}", 2, &err), LAMBDA_POST_FATAL,
           "respond: transport failure is fatal");
    ok(starts_with(err.msg,
                   "POST http://127.0.0.1:1/2018-06-01/runtime/invocation/id%2F1/response: "),
       "respond: the request id is encoded in the path (%s)", err.msg);
    sl_error_reset(&err);
    is_int(lambda_runtime_init_error(rt, "Sluice.ConfigError", "x", &err), LAMBDA_POST_FATAL,
           "init error: transport failure is fatal");
    lambda_runtime_free(rt);
}

int main(void)
{
    test_addresses();
    test_error_bodies();
    test_unreachable();
    return done_testing();
}
