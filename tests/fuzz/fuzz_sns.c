/* fuzz_sns.c — SNS HTTP messages as `serve` receives them: the string to
 * sign of every message type, the certificate URL rule, and the whole
 * verification path up to the certificate fetch (mapped to a closed
 * loopback port, so no input ever leaves the machine).
 * Reaches: sns_string_to_sign, sns_cert_url_allowed, sns_verify. */
#include "autoconfig.h"

#include <jansson.h>
#include <stdlib.h>

#include "aws/sns_verify.h"
#include "fuzz.h"

static sns_verifier *verifier;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Port 1 on loopback: nothing listens there, the fetch fails at once. */
    static char map[] = "https://sns.=http://127.0.0.1:1/";
    static char *const maps[] = {map};
    sns_verify_options o = {.test_url_map = maps, .n_test_url_map = 1,
                            .fetch_timeout_ms = 1000};
    sl_error err = {0};
    verifier = sns_verifier_new(&o, &err);
    if (!verifier)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *msg = json_loadb((const char *)data, size, 0, NULL);
    if (!msg)
        return 0;
    char why[256];
    free(sns_string_to_sign(msg, why, sizeof why));
    const char *url = json_string_value(json_object_get(msg, "SigningCertURL"));
    if (url)
        sns_cert_url_allowed(url);
    sns_verify(verifier, msg, why, sizeof why);
    json_decref(msg);
    return 0;
}
