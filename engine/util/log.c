#include "autoconfig.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/jsonutil.h"
#include "util/strbuf.h"

/* Process-wide logger settings: written once by main() before any job or
 * thread starts, only read afterwards. */
static log_format g_format = SL_LOG_FORMAT_TEXT;
static log_level g_min_level = SL_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_configure(log_format fmt, log_level min_level)
{
    g_format = fmt;
    g_min_level = min_level;
}

int log_parse_format(const char *s, log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = SL_LOG_FORMAT_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = SL_LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

int log_parse_level(const char *s, log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *out = SL_LOG_WARN;
        return 0;
    }
    return -1;
}

int log_enabled(log_level level)
{
    return level >= g_min_level;
}

static void format_timestamp(char *buf, size_t len)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/* A control character as an escape ("\\n", "\\x1b"): a name that comes
 * from outside (a watched file, an object key) can never split a line or
 * forge one. */
static void text_add_escaped(strbuf *sb, unsigned char c)
{
    if (c == '\n')
        sb_adds(sb, "\\n");
    else if (c == '\r')
        sb_adds(sb, "\\r");
    else if (c == '\t')
        sb_adds(sb, "\\t");
    else
        sb_addf(sb, "\\x%02x", c);
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* The message itself, control characters escaped. */
static void text_add_message(strbuf *sb, const char *m)
{
    for (; *m; m++) {
        if (is_control((unsigned char)*m))
            text_add_escaped(sb, (unsigned char)*m);
        else
            sb_addc(sb, *m);
    }
}

static int needs_quotes(const char *v)
{
    if (!*v)
        return 1;
    for (; *v; v++)
        if (*v == ' ' || *v == '"' || *v == '=' || is_control((unsigned char)*v))
            return 1;
    return 0;
}

/* Text values are quoted when they hold spaces, quotes or control
 * characters, so a line stays splittable by a shell or awk. */
static void text_add_value(strbuf *sb, const char *v)
{
    if (!needs_quotes(v)) {
        sb_adds(sb, v);
        return;
    }
    sb_addc(sb, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') {
            sb_addc(sb, '\\');
            sb_addc(sb, *v);
        } else if (is_control((unsigned char)*v)) {
            text_add_escaped(sb, (unsigned char)*v);
        } else {
            sb_addc(sb, *v);
        }
    }
    sb_addc(sb, '"');
}

static void text_add_json(strbuf *sb, json_t *v)
{
    if (json_is_string(v)) {
        text_add_value(sb, json_string_value(v));
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) {
        sb_adds(sb, s);
        free(s);
    }
}

static void emit(strbuf *sb)
{
    /* One write(2) per line keeps lines whole when jobs log concurrently. */
    const char *p = sb_str(sb);
    size_t left = sb->len;
    while (left > 0) {
        ssize_t n = write(STDERR_FILENO, p, left);
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
}

static void log_text(const log_ctx *ctx, log_level level, json_t *fields, const char *msg)
{
    strbuf sb = STRBUF_INIT;
    char ts[40];
    format_timestamp(ts, sizeof ts);
    sb_addf(&sb, "%s %-5s ", ts, level_names[level]);
    if (ctx && ctx->run_id)
        sb_addf(&sb, "[%s] ", ctx->run_id);
    text_add_message(&sb, msg);
    if (ctx && ctx->rule) {
        sb_adds(&sb, " rule=");
        text_add_value(&sb, ctx->rule);
    }
    if (ctx && ctx->input) {
        sb_adds(&sb, " input=");
        text_add_value(&sb, ctx->input);
    }
    if (ctx && ctx->member) {
        sb_adds(&sb, " member=");
        text_add_value(&sb, ctx->member);
    }
    const char *key;
    json_t *val;
    if (fields) {
        json_object_foreach(fields, key, val) {
            sb_addf(&sb, " %s=", key);
            text_add_json(&sb, val);
        }
    }
    sb_addc(&sb, '\n');
    emit(&sb);
    sb_free(&sb);
}

static void log_json(const log_ctx *ctx, log_level level, json_t *fields, const char *msg)
{
    char ts[40];
    format_timestamp(ts, sizeof ts);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "level", json_string(level_names[level]));
    json_object_set_new(o, "msg", jsonutil_text(msg));
    if (ctx && ctx->run_id)
        json_object_set_new(o, "run_id", jsonutil_text(ctx->run_id));
    if (ctx && ctx->rule)
        json_object_set_new(o, "rule", jsonutil_text(ctx->rule));
    if (ctx && ctx->input)
        json_object_set_new(o, "input", jsonutil_text(ctx->input));
    if (ctx && ctx->member)
        json_object_set_new(o, "member", jsonutil_text(ctx->member));
    if (fields)
        json_object_update(o, fields);
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!s)
        return;
    strbuf sb = STRBUF_INIT;
    sb_adds(&sb, s);
    sb_addc(&sb, '\n');
    free(s);
    emit(&sb);
    sb_free(&sb);
}

static void log_emit(const log_ctx *ctx, log_level level, json_t *fields, const char *fmt,
                     va_list ap)
{
    if (!log_enabled(level))
        return;
    strbuf msg = STRBUF_INIT;
    sb_vaddf(&msg, fmt, ap);
    if (g_format == SL_LOG_FORMAT_JSON)
        log_json(ctx, level, fields, sb_str(&msg));
    else
        log_text(ctx, level, fields, sb_str(&msg));
    sb_free(&msg);
}

void log_vmsg(const log_ctx *ctx, log_level level, const char *fmt, va_list ap)
{
    log_emit(ctx, level, NULL, fmt, ap);
}

void log_msg(const log_ctx *ctx, log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(ctx, level, NULL, fmt, ap);
    va_end(ap);
}

void log_fields(const log_ctx *ctx, log_level level, json_t *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_emit(ctx, level, fields, fmt, ap);
    va_end(ap);
}
