/* serve_auth.c — bearer tokens and HMAC signatures (serve_auth.h). */
#include "autoconfig.h"
#include "intake/serve_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/urlcodec.h"

/* Equal strings of any length, in time independent of where they differ. */
static int secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char da[32], db[32];
    unsigned int n;
    EVP_Digest(a, alen, da, &n, EVP_sha256(), NULL);
    EVP_Digest(b, blen, db, &n, EVP_sha256(), NULL);
    return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

static int check_bearer(const serve_auth *a, const http_server_request *req, char *why,
                        size_t whylen, int *challenge)
{
    const char *h = http_server_header(req, "Authorization");
    if (!h) {
        *challenge = 1;
        snprintf(why, whylen, "Authorization: missing (a bearer token is required)");
        return 401;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0 ||
        !secret_equal(h + 7, strlen(h + 7), a->bearer_token, strlen(a->bearer_token))) {
        snprintf(why, whylen, "Authorization: wrong bearer token");
        return 403;
    }
    return 0;
}

static int check_hmac(const serve_auth *a, const http_server_request *req, char *why,
                      size_t whylen)
{
    const char *h = http_server_header(req, SERVE_AUTH_SIGNATURE_HEADER);
    unsigned char want[32], got[32];
    unsigned int n = 0;
    if (!h) {
        snprintf(why, whylen,
                 SERVE_AUTH_SIGNATURE_HEADER ": missing (an HMAC signature is required)");
        return 401;
    }
    int ok = strncmp(h, "sha256=", 7) == 0 && strlen(h + 7) == 64;
    for (size_t i = 0; ok && i < 32; i++) {
        int hi = urlcodec_hex_value(h[7 + 2 * i]), lo = urlcodec_hex_value(h[8 + 2 * i]);
        ok = hi >= 0 && lo >= 0;
        if (ok)
            got[i] = (unsigned char)(hi << 4 | lo);
    }
    if (ok)
        ok = HMAC(EVP_sha256(), a->hmac_secret, (int)strlen(a->hmac_secret),
                  (const unsigned char *)req->body, req->body_len, want, &n) != NULL &&
             n == sizeof want && CRYPTO_memcmp(want, got, sizeof want) == 0;
    if (!ok) {
        snprintf(why, whylen, SERVE_AUTH_SIGNATURE_HEADER ": does not match the body");
        return 403;
    }
    return 0;
}

int serve_auth_check(const serve_auth *a, const http_server_request *req, char *why,
                     size_t whylen, int *challenge)
{
    *challenge = 0;
    int status = 0;
    if (a->bearer_token)
        status = check_bearer(a, req, why, whylen, challenge);
    if (!status && a->hmac_secret)
        status = check_hmac(a, req, why, whylen);
    return status;
}
