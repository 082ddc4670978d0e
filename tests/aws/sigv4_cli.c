/* sigv4_cli.c — signs requests described as JSON lines on stdin and prints
 * one JSON line per request on stdout; the driver of sigv4_diff.py, which
 * compares the output with botocore's. One process signs every case.
 *
 * In:  {"id", "method", "path", "wire": bool, "query": [[name, value], ...],
 *       "headers": [[name, value], ...], "payload_hash", "region", "service",
 *       "now": epoch seconds, "s3": bool, "akid", "secret", "token": str|null}
 *      (names, values and path decoded; "wire": path is as sent instead)
 * Out: {"id", "authorization", "canonical_request", "string_to_sign"}
 *      or {"id", "error"} for a line it cannot read. */
#include "autoconfig.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "util/alloc.h"
#include "util/strbuf.h"

static const char *str_field(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* [[a, b], ...] -> parallel name/value pointers into the JSON (borrowed). */
static int read_pairs(json_t *arr, const char ***names, const char ***values, size_t *n)
{
    size_t count = json_array_size(arr);
    *names = xcalloc(count + 1, sizeof **names);
    *values = xcalloc(count + 1, sizeof **values);
    *n = count;
    for (size_t i = 0; i < count; i++) {
        json_t *pair = json_array_get(arr, i);
        const char *a = json_string_value(json_array_get(pair, 0));
        const char *b = json_string_value(json_array_get(pair, 1));
        if (!a || !b)
            return -1;
        (*names)[i] = a;
        (*values)[i] = b;
    }
    return 0;
}

static json_t *sign_one(json_t *in)
{
    json_t *out = json_object();
    json_object_set(out, "id", json_object_get(in, "id"));

    const char **qn = NULL, **qv = NULL, **hn = NULL, **hv = NULL;
    size_t nq = 0, nh = 0;
    if (!json_is_object(in) || !str_field(in, "method") || !str_field(in, "path") ||
        read_pairs(json_object_get(in, "query"), &qn, &qv, &nq) != 0 ||
        read_pairs(json_object_get(in, "headers"), &hn, &hv, &nh) != 0) {
        json_object_set_new(out, "error", json_string("bad request description"));
        free(qn);
        free(qv);
        free(hn);
        free(hv);
        return out;
    }
    sigv4_param *query = xcalloc(nq + 1, sizeof *query);
    for (size_t i = 0; i < nq; i++)
        query[i] = (sigv4_param){qn[i], qv[i]};
    sigv4_header *headers = xcalloc(nh + 1, sizeof *headers);
    for (size_t i = 0; i < nh; i++)
        headers[i] = (sigv4_header){hn[i], hv[i]};

    sigv4_request req = {
        .method = str_field(in, "method"),
        .path = str_field(in, "path"),
        .query = query,
        .n_query = nq,
        .headers = headers,
        .n_headers = nh,
        .payload_hash = str_field(in, "payload_hash"),
        .region = str_field(in, "region"),
        .service = str_field(in, "service"),
        .now = (time_t)json_integer_value(json_object_get(in, "now")),
        .s3_path_rules = json_is_true(json_object_get(in, "s3")),
    };
    aws_credentials cred = {0};
    cred.access_key_id = (char *)str_field(in, "akid");
    cred.secret_access_key = (char *)str_field(in, "secret");
    cred.session_token = (char *)str_field(in, "token"); /* NULL for JSON null */

    sigv4_result res;
    if (json_is_true(json_object_get(in, "wire")))
        sigv4_sign_wire_path(&req, &cred, &res);
    else
        sigv4_sign(&req, &cred, &res);
    json_object_set_new(out, "authorization", json_string(res.authorization));
    json_object_set_new(out, "canonical_request", json_string(res.canonical_request));
    json_object_set_new(out, "string_to_sign", json_string(res.string_to_sign));
    sigv4_result_free(&res);
    free(query);
    free(headers);
    free(qn);
    free(qv);
    free(hn);
    free(hv);
    return out;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (len == 1 && line[0] == '\n')
            continue;
        json_error_t err;
        json_t *in = json_loadb(line, (size_t)len, 0, &err);
        json_t *out = in ? sign_one(in) : NULL;
        if (!out) {
            out = json_object();
            json_object_set_new(out, "id", json_null());
            json_object_set_new(out, "error", json_string(err.text));
        }
        char *text = json_dumps(out, JSON_COMPACT);
        if (text) {
            fputs(text, stdout);
            fputc('\n', stdout);
        }
        free(text);
        json_decref(out);
        json_decref(in);
    }
    free(line);
    return fflush(stdout) == 0 ? 0 : 1;
}
