/* delivery_check.c — size, MD5 and record counting while a delivery set
 * streams (delivery_check.h). MD5 through OpenSSL's EVP interface. */
#include "autoconfig.h"
#include "core/delivery_check.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

typedef struct check_reader {
    storage_reader base;
    storage_reader *raw;
    EVP_MD_CTX *md;
    delivery_tally *tally;
} check_reader;

static void finish(check_reader *c)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (c->tally->done)
        return;
    EVP_DigestFinal_ex(c->md, d, &n);
    for (unsigned int i = 0; i < n && i < 16; i++)
        snprintf(c->tally->md5 + 2 * i, 3, "%02x", d[i]);
    c->tally->done = 1;
}

static ssize_t check_read(storage_reader *r, void *buf, size_t cap, sl_error *err)
{
    check_reader *c = (check_reader *)r;
    ssize_t n = storage_read(c->raw, buf, cap, err);
    if (n > 0) {
        EVP_DigestUpdate(c->md, buf, (size_t)n);
        c->tally->bytes += n;
    } else if (n == 0) {
        finish(c);
    }
    return n;
}

/* What the consumer left unread is still part of the object's digest. */
static void drain(check_reader *c)
{
    char buf[65536];
    while (!c->tally->done) {
        if (check_read(&c->base, buf, sizeof buf, &c->tally->error) < 0)
            return;
    }
}

static void check_close(storage_reader *r)
{
    check_reader *c = (check_reader *)r;
    drain(c);
    storage_reader_close(c->raw);
    EVP_MD_CTX_free(c->md);
    free(c);
}

static const storage_reader_ops check_ops = {.read = check_read, .close = check_close};

storage_reader *delivery_check_wrap(storage_reader *raw, delivery_tally *tally)
{
    check_reader *c = xcalloc(1, sizeof *c);
    c->base.ops = &check_ops;
    c->raw = raw;
    c->tally = tally;
    memset(tally, 0, sizeof *tally);
    c->md = EVP_MD_CTX_new();
    if (!c->md || EVP_DigestInit_ex(c->md, EVP_md5(), NULL) != 1)
        abort(); /* out of memory, or an OpenSSL without MD5: nothing to go on with */
    return &c->base;
}

/* The records ending in [p, stop), which holds no backslash. memchr() is
 * the fast scan here: a record is ~1.5 KB in a real feed. */
static void count_lines(delivery_count *c, const unsigned char *p, const unsigned char *stop)
{
    while (p < stop) {
        const unsigned char *lf = memchr(p, '\n', (size_t)(stop - p));
        if (!lf) {
            c->open = 1;
            return;
        }
        c->records++;
        c->open = 0;
        p = lf + 1;
    }
}

void delivery_check_count(delivery_count *c, const void *buf, size_t len)
{
    const unsigned char *p = buf, *end = p + len;
    if (c->escaped && p < end) { /* the byte after a backslash that ended the last buffer */
        c->escaped = 0;
        c->open = 1;
        p++;
    }
    while (p < end) {
        const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
        count_lines(c, p, bs ? bs : end);
        if (!bs)
            return;
        c->open = 1;
        if (end - bs < 2) {
            c->escaped = 1;
            return;
        }
        p = bs + 2; /* the escaped byte is literal, LF included */
    }
}

int64_t delivery_check_count_end(const delivery_count *c, int *open_end)
{
    if (open_end)
        *open_end = c->open;
    return c->records + (c->open ? 1 : 0);
}
