/* aws_util.c — the environment and secret-text helpers of aws_util.h. */
#include "autoconfig.h"
#include "aws/aws_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *aws_util_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int aws_util_env_true(const char *name)
{
    const char *v = aws_util_env(name);
    return v && strcasecmp(v, "true") == 0;
}

void aws_util_wipe_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void aws_util_sb_wipe_free(strbuf *sb)
{
    if (sb->buf)
        explicit_bzero(sb->buf, sb->cap);
    sb_free(sb);
}

char *aws_util_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int aws_util_read_file(const char *path, strbuf *out)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sb_add(out, buf, n);
    int failed = ferror(f);
    explicit_bzero(buf, sizeof buf);
    fclose(f);
    if (failed) {
        errno = EIO;
        return -1;
    }
    if (!out->buf)
        sb_adds(out, "");
    return 0;
}
