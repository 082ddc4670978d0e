/* sns_verify.h — verification of Amazon SNS HTTP(S) messages
 * (Notification, SubscriptionConfirmation, UnsubscribeConfirmation).
 *
 * A message is genuine when:
 *   1. SigningCertURL is https://sns.<region>.amazonaws.com[.cn]/....pem
 *      (anything else is refused before any fetch);
 *   2. the certificate there (fetched once per URL, cached) chains to a
 *      trusted CA — the system store, or the test CA of the test-only
 *      option;
 *   3. Signature is the RSA signature of the message's string to sign
 *      with SHA1 (SignatureVersion 1) or SHA256 (SignatureVersion 2).
 * Thread-safe: one verifier serves every HTTP thread. */
#ifndef SLUICE_SNS_VERIFY_H
#define SLUICE_SNS_VERIFY_H

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

typedef struct sns_verifier sns_verifier;

typedef struct sns_verify_options {
    /* TEST ONLY: trust this CA file instead of the system store. */
    const char *test_ca_file;
    /* TEST ONLY: "PREFIX=REPLACEMENT" rewrites of certificate URLs, applied
     * after the URL rule passed (e.g. to fetch from a loopback server). */
    char *const *test_url_map;
    size_t n_test_url_map;
    long fetch_timeout_ms; /* 0: 10 s */
} sns_verify_options;

typedef enum sns_verdict {
    SNS_VALID = 0,
    SNS_MALFORMED,  /* a required field is missing or not a string (400) */
    SNS_REJECTED,   /* not genuine: URL rule, certificate, signature (403) */
    SNS_UNAVAILABLE /* the certificate could not be fetched now (503) */
} sns_verdict;

/* NULL with err filled when the test CA cannot be loaded or a map entry
 * has no '='. */
sns_verifier *sns_verifier_new(const sns_verify_options *opts, sl_error *err);
void sns_verifier_free(sns_verifier *v);

/* Verifies one parsed SNS message. `why` receives a one-line reason for
 * any verdict but SNS_VALID. */
sns_verdict sns_verify(sns_verifier *v, json_t *msg, char *why, size_t whylen);

/* The pieces, for tests. */
/* 1 when `url` satisfies the certificate URL rule, else 0. */
int sns_cert_url_allowed(const char *url);
/* 1 when `url` is an SNS confirmation URL:
 * https://sns.<region>.amazonaws.com[.cn]/?Action=ConfirmSubscription&...
 * (https, that exact host form, no port, no user part, path "/", no
 * fragment), else 0. Checked before a verified SubscriptionConfirmation
 * is confirmed: nothing else is ever fetched. */
int sns_subscribe_url_allowed(const char *url);
/* The URL to fetch for an allowed SNS URL: itself, or its mapping by the
 * test-only URL map. Caller frees. */
char *sns_fetch_url(const sns_verifier *v, const char *url);
/* The string to sign for the message's Type; NULL (and `why`) when a
 * required field is missing or the Type is unknown. Caller frees. */
char *sns_string_to_sign(json_t *msg, char *why, size_t whylen);

#endif
