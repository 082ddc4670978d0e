/* Logging: JSON lines carry run id, input, rule and fields; text lines quote
 * values with spaces; the level threshold holds; invalid UTF-8 survives. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/strbuf.h"
#include "tap.h"

/* Runs fn with stderr redirected to a temporary file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
    char path[] = "/tmp/sluice-test-log.XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    strbuf sb = STRBUF_INIT;
    char buf[4096];
    ssize_t n;
    lseek(fd, 0, SEEK_SET);
    while ((n = read(fd, buf, sizeof buf)) > 0)
        sb_add(&sb, buf, (size_t)n);
    close(fd);
    unlink(path);
    return sb_steal(&sb);
}

static void emit_json(void)
{
    log_configure(SL_LOG_FORMAT_JSON, SL_LOG_INFO);
    log_ctx ctx = {.run_id = "R1", .input = "s3://b/k k", .rule = "r"};
    json_t *f = json_pack("{s:i}", "bytes_in", 42);
    log_fields(&ctx, SL_LOG_INFO, f, "job %s", "done");
    json_decref(f);
    log_msg(&ctx, SL_LOG_DEBUG, "hidden");
    log_msg(NULL, SL_LOG_WARN, "bad byte \xff here");
}

static void emit_text(void)
{
    log_configure(SL_LOG_FORMAT_TEXT, SL_LOG_WARN);
    log_ctx ctx = {.run_id = "R2", .input = "s3://b/a key", .rule = "r"};
    log_msg(&ctx, SL_LOG_INFO, "hidden");
    log_msg(&ctx, SL_LOG_ERROR, "job failed");
}

/* Issue 12, finding 6: a raw newline in a watched file's name split the
 * text log line (and could forge one). */
static void emit_text_controls(void)
{
    log_configure(SL_LOG_FORMAT_TEXT, SL_LOG_INFO);
    log_ctx ctx = {.run_id = "R3", .input = "/in/a\n2026-01-01T00:00:00.000Z error forged",
                   .rule = "r"};
    json_t *f = json_pack("{s:s}", "file", "x\ty\x1b[31m");
    log_fields(&ctx, SL_LOG_INFO, f, "uploaded %s to s3://b/k", "new\nline\r.txt");
    json_decref(f);
}

int main(void)
{
    char *out = capture_stderr(emit_json);
    char *nl = strchr(out, '\n');
    ok(nl != NULL, "one line per message");
    json_error_t e;
    json_t *line = nl ? json_loadb(out, (size_t)(nl - out), 0, &e) : NULL;
    ok(line != NULL, "JSON line parses");
    is_str(json_string_value(json_object_get(line, "msg")), "job done", "msg");
    is_str(json_string_value(json_object_get(line, "run_id")), "R1", "run_id");
    is_str(json_string_value(json_object_get(line, "input")), "s3://b/k k", "input");
    is_str(json_string_value(json_object_get(line, "rule")), "r", "rule");
    is_int(json_integer_value(json_object_get(line, "bytes_in")), 42, "fields merged");
    is_str(json_string_value(json_object_get(line, "level")), "info", "level");
    json_decref(line);
    ok(strstr(out, "hidden") == NULL, "below threshold is dropped");
    ok(nl && strstr(nl + 1, "bad byte \\\\xff here") != NULL, "invalid UTF-8 escaped, line kept");
    free(out);

    out = capture_stderr(emit_text);
    ok(strstr(out, "hidden") == NULL, "text threshold");
    ok(strstr(out, "error [R2] job failed rule=r input=\"s3://b/a key\"") != NULL,
       "text line with quoted input: %s", out);
    free(out);
    char *ctl = capture_stderr(emit_text_controls);
    size_t lines = 0;
    for (const char *p = ctl; *p; p++)
        lines += *p == '\n';
    is_int((int64_t)lines, 1, "control characters in a message and values: still one line");
    ok(strstr(ctl, "uploaded new\\nline\\r.txt to s3://b/k") != NULL,
       "the message's newline and CR are escaped: %s", ctl);
    ok(strstr(ctl, "input=\"/in/a\\n2026-01-01T00:00:00.000Z error forged\"") != NULL,
       "a value with a newline is quoted and escaped");
    ok(strstr(ctl, "file=\"x\\ty\\x1b[31m\"") != NULL, "tab and ESC escaped in a field");
    free(ctl);
    return done_testing();
}
