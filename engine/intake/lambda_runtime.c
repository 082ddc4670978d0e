#include "autoconfig.h"
#include "intake/lambda_runtime.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "net/url.h"
#include "util/alloc.h"
#include "util/jsonutil.h"
#include "util/urlcodec.h"

#define API_VERSION "2018-06-01"
#define ERROR_TYPE_HEADER "Lambda-Runtime-Function-Error-Type"

struct lambda_runtime {
    http_client *http;
    char *base; /* "http://host:port/2018-06-01/runtime" */
};

/* "host:port" with a non-empty host and a numeric port: anything else
 * would make a URL that points somewhere unintended. */
static int valid_api_address(const char *api)
{
    char *url = xasprintf("http://%s/", api);
    url_parts u;
    int ok = url_parse(url, &u) == 0;
    /* all of the text must be the authority, and it must name a port */
    ok = ok && !u.userinfo && !u.query && !u.fragment && strcmp(u.path, "/") == 0 &&
         (u.port != 0 || (strlen(api) > 3 && strcmp(api + strlen(api) - 3, ":80") == 0));
    if (u.scheme)
        url_parts_free(&u);
    free(url);
    return ok;
}

lambda_runtime *lambda_runtime_new(const char *api, sl_error *err)
{
    if (!api || !*api) {
        sl_error_set(err, SL_ERR_CONFIG,
                     "AWS_LAMBDA_RUNTIME_API is not set: `sluice lambda` runs inside a Lambda "
                     "function (or against a Runtime API emulator)");
        return NULL;
    }
    if (!valid_api_address(api)) {
        sl_error_set(err, SL_ERR_CONFIG, "AWS_LAMBDA_RUNTIME_API: expected host:port, got \"%s\"",
                     api);
        return NULL;
    }
    http_client *http = http_client_new(NULL);
    if (!http) {
        sl_error_set(err, SL_ERR_INTERNAL, "cannot create an HTTP client");
        return NULL;
    }
    lambda_runtime *rt = xcalloc(1, sizeof *rt);
    rt->http = http;
    rt->base = xasprintf("http://%s/" API_VERSION "/runtime", api);
    return rt;
}

void lambda_runtime_free(lambda_runtime *rt)
{
    if (!rt)
        return;
    http_client_free(rt->http);
    free(rt->base);
    free(rt);
}

void lambda_runtime_invocation_free(lambda_invocation *inv)
{
    if (!inv)
        return;
    free(inv->request_id);
    free(inv->trace_id);
    free(inv->function_arn);
    sb_free(&inv->event);
    memset(inv, 0, sizeof *inv);
}

static char *header_copy(const http_response *resp, const char *name)
{
    const char *v = http_response_header(resp, name);
    return v && *v ? xstrdup(v) : NULL;
}

int lambda_runtime_next(lambda_runtime *rt, lambda_invocation *inv, sl_error *err)
{
    char *url = xasprintf("%s/invocation/next", rt->base);
    /* No timeout: the call blocks until an event arrives, and the sandbox
     * may be frozen for hours in between. */
    http_request req = {.method = "GET", .url = url};
    http_response resp;
    int rc = -1;

    memset(inv, 0, sizeof *inv);
    if (http_perform(rt->http, &req, &resp) != 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "GET %s: %s", url, resp.error);
    } else if (resp.status != 200) {
        sl_error_set(err, SL_ERR_INTERNAL, "GET %s: HTTP %ld: %.200s", url, resp.status,
                     sb_str(&resp.body));
    } else if (!(inv->request_id = header_copy(&resp, "Lambda-Runtime-Aws-Request-Id"))) {
        sl_error_set(err, SL_ERR_INTERNAL,
                     "GET %s: the response has no Lambda-Runtime-Aws-Request-Id header", url);
    } else {
        const char *deadline = http_response_header(&resp, "Lambda-Runtime-Deadline-Ms");
        inv->deadline_ms = deadline ? strtoll(deadline, NULL, 10) : 0;
        inv->trace_id = header_copy(&resp, "Lambda-Runtime-Trace-Id");
        inv->function_arn = header_copy(&resp, "Lambda-Runtime-Invoked-Function-Arn");
        inv->event = resp.body;
        resp.body = (strbuf)STRBUF_INIT;
        rc = 0;
    }
    if (rc != 0)
        lambda_runtime_invocation_free(inv);
    http_response_free(&resp);
    free(url);
    return rc;
}

/* One POST of a JSON document. */
static int post_json(lambda_runtime *rt, const char *url, const char *error_type,
                     const char *body, size_t len, sl_error *err)
{
    http_headers headers = {0};
    http_headers_add(&headers, "Content-Type", "application/json");
    if (error_type)
        http_headers_add(&headers, ERROR_TYPE_HEADER, error_type);
    http_request req = {
        .method = "POST",
        .url = url,
        .headers = &headers,
        .body = body,
        .body_len = len,
        .timeout_ms = 60000, /* the Runtime API is local: a stuck POST is a dead API */
    };
    http_response resp;
    int rc;

    if (http_perform(rt->http, &req, &resp) != 0) {
        sl_error_set(err, SL_ERR_INTERNAL, "POST %s: %s", url, resp.error);
        rc = LAMBDA_POST_FATAL;
    } else if (resp.status >= 200 && resp.status < 300) {
        rc = LAMBDA_POST_OK;
    } else {
        sl_error_set(err, SL_ERR_INTERNAL, "POST %s: HTTP %ld: %.200s", url, resp.status,
                     sb_str(&resp.body));
        rc = resp.status >= 400 && resp.status < 500 ? LAMBDA_POST_REJECTED : LAMBDA_POST_FATAL;
    }
    http_response_free(&resp);
    http_headers_free(&headers);
    return rc;
}

/* The request ID goes into the path: encoded, so no ID can change which
 * resource is addressed. */
static char *invocation_url(const lambda_runtime *rt, const char *request_id, const char *what)
{
    char *id = urlcodec_encode_dup(request_id, strlen(request_id), 0);
    char *url = xasprintf("%s/invocation/%s/%s", rt->base, id, what);
    free(id);
    return url;
}

int lambda_runtime_respond(lambda_runtime *rt, const char *request_id, const char *body,
                           size_t len, sl_error *err)
{
    char *url = invocation_url(rt, request_id, "response");
    int rc = post_json(rt, url, NULL, body, len, err);
    free(url);
    return rc;
}

char *lambda_runtime_error_body(const char *error_type, const char *message, int with_stack)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "errorMessage", jsonutil_text(message ? message : ""));
    json_object_set_new(doc, "errorType", jsonutil_text(error_type));
    if (with_stack)
        json_object_set_new(doc, "stackTrace", json_array());
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text)
        abort(); /* only on allocation failure: the engine does not limp on */
    return text;
}

int lambda_runtime_fail(lambda_runtime *rt, const char *request_id, const char *error_type,
                        const char *message, sl_error *err)
{
    char *url = invocation_url(rt, request_id, "error");
    char *body = lambda_runtime_error_body(error_type, message, 1);
    int rc = post_json(rt, url, error_type, body, strlen(body), err);
    free(body);
    free(url);
    return rc;
}

int lambda_runtime_init_error(lambda_runtime *rt, const char *error_type, const char *message,
                              sl_error *err)
{
    char *url = xasprintf("%s/init/error", rt->base);
    char *body = lambda_runtime_error_body(error_type, message, 0);
    int rc = post_json(rt, url, error_type, body, strlen(body), err);
    free(body);
    free(url);
    return rc;
}
