/* aws_util.h — the small helpers the aws layer's configuration code (the
 * credential chain, the shared config files, region and endpoint lookup)
 * shares: the SDKs' reading of the environment, and text that may hold a
 * secret.
 *
 * Environment: a variable set to "" counts as unset, as the SDKs treat it;
 * a boolean is on when it says "true" (any case).
 *
 * Secrets: the *_wipe_* functions zero a buffer before freeing it. Nothing
 * here logs or keeps anything. All functions are thread-safe (getenv is,
 * as long as nobody calls setenv meanwhile). */
#ifndef SLUICE_AWS_UTIL_H
#define SLUICE_AWS_UTIL_H

#include "util/strbuf.h"

/* An environment variable, or NULL when unset or "". */
const char *aws_util_env(const char *name);
/* 1 when the variable is "true" in any case. */
int aws_util_env_true(const char *name);

/* Zeroes a string, then frees it; NULL is fine. */
void aws_util_wipe_free(char *s);
/* Zeroes a buffer's whole capacity, then frees it. */
void aws_util_sb_wipe_free(strbuf *sb);

/* Trims leading and trailing white space in place; returns the start. */
char *aws_util_trim(char *s);

/* Reads a whole file (which may hold a secret: the read buffer is wiped)
 * into out, which is then NUL-terminated even for an empty file. Returns
 * 0, or -1 with errno set. */
int aws_util_read_file(const char *path, strbuf *out);

#endif
