/* strbuf.h — a growable NUL-terminated byte buffer. The owner frees it
 * with sb_free(); sb_steal() hands the bytes over to the caller. */
#ifndef SLUICE_STRBUF_H
#define SLUICE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *buf; /* always NUL-terminated once anything was added */
    size_t len;
    size_t cap;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0}

void sb_add(strbuf *sb, const void *data, size_t len);
void sb_adds(strbuf *sb, const char *s);
void sb_addc(strbuf *sb, char c);
void sb_addf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(strbuf *sb, const char *fmt, va_list ap);
/* The contents ("" when empty); valid until the next change. */
const char *sb_str(const strbuf *sb);
void sb_reset(strbuf *sb);
char *sb_steal(strbuf *sb);
void sb_free(strbuf *sb);

/* Appends everything from an open stream / a file. Return 0, or an errno
 * value (what is appended so far stays). */
#include <stdio.h>
int sb_read_stream(strbuf *sb, FILE *fp);
int sb_read_file(strbuf *sb, const char *path);


#endif
