/* fuzz_sigv4.c — SigV4 canonicalisation: a request with a hostile method,
 * path, query and header is canonicalised and signed both ways (S3's
 * single encoding and the normalising rules of the other services).
 * Input: method NUL path NUL query NUL header-name NUL header-value, the
 * query as "name=value&name=value".
 * Reaches: sigv4_sign, sigv4_canonical_query, sigv4_scope. */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "fuzz.h"

#define MAX_PARAMS 16

static size_t split_query(char *q, sigv4_param *out)
{
    size_t n = 0;
    for (char *p = q; p && *p && n < MAX_PARAMS;) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        out[n].name = p;
        out[n].value = eq ? eq + 1 : "";
        n++;
        p = amp ? amp + 1 : NULL;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[5];
    fuzz_split(data, size, part, 5);
    sigv4_param query[MAX_PARAMS];
    size_t nq = split_query(part[2], query);
    sigv4_header headers[2] = {{.name = "host", .value = "bucket.s3.eu-west-1.amazonaws.com"},
                               {.name = part[3], .value = part[4]}};
    aws_credentials cred = {0};
    cred.access_key_id = (char *)"AKIDEXAMPLE";
    cred.secret_access_key = (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    for (int s3 = 0; s3 <= 1; s3++) {
        sigv4_request req = {.method = part[0], .path = part[1], .query = query,
                             .n_query = nq, .headers = headers,
                             .n_headers = part[3][0] ? 2 : 1,
                             .payload_hash = "UNSIGNED-PAYLOAD", .region = "eu-west-1",
                             .service = s3 ? "s3" : "sqs", .now = 1764979200,
                             .s3_path_rules = s3};
        sigv4_result res;
        if (sigv4_sign(&req, &cred, &res) == 0)
            sigv4_result_free(&res);
    }
    free(sigv4_canonical_query(query, nq));
    free(sigv4_scope(1764979200, part[4], part[3]));
    free(part[0]);
    return 0;
}
